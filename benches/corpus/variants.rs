//! The parsers the benchmarks compare, each counting what [`super::Counts`] holds for one
//! corpus. Shared by `benches/parse.rs` and `examples/parse_corpus.rs`; never inlined, so
//! callgrind can collect from each one (one call per pass over a corpus).

use std::hint::black_box;

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{Corpus, Counts, COMMAND, ERROR, EVENT, GREETING, RETURN, UNKNOWN};

/// (a) This crate: validate, then `kind()` and `id()`.
#[inline(never)]
pub fn qmp_codec(c: &Corpus) -> Counts {
    let mut n = Counts::default();
    for line in c.messages() {
        let msg = qmp_codec::Message::parse(line).expect("valid QMP message");
        n.kinds[msg.kind() as usize] += 1;
        if let Some(id) = msg.id() {
            n.ids += 1;
            n.id_bytes += id.raw().len();
        }
    }
    n
}

/// (a') This crate from the raw byte stream: the line framer finds each message, then
/// parse, `kind()` and `id()` as in (a).
#[inline(never)]
pub fn framed(c: &Corpus) -> Counts {
    let mut n = Counts::default();
    let mut framer = qmp_codec::Framer::default();
    let mut buf = &c.bytes[..];
    loop {
        let step = framer.decode(buf);
        if let Some(frame) = step.frame(buf) {
            let msg = qmp_codec::Message::parse(frame).expect("valid QMP message");
            n.kinds[msg.kind() as usize] += 1;
            if let Some(id) = msg.id() {
                n.ids += 1;
                n.id_bytes += id.raw().len();
            }
        } else {
            assert_eq!(
                step.status,
                Ok(qmp_codec::Status::Partial),
                "framing failed"
            );
            assert!(buf.is_empty(), "a partial frame at the end");
            return n;
        }
        buf = &buf[step.consumed..];
    }
}

/// (a'') This crate from the raw byte stream in one step: `Framer::decode_message` frames
/// and parses each line in a single pass; then `kind()` and `id()` as in (a).
#[inline(never)]
pub fn fused(c: &Corpus) -> Counts {
    let mut n = Counts::default();
    let mut framer = qmp_codec::Framer::default();
    let mut buf = &c.bytes[..];
    loop {
        let step = framer.decode_message(buf);
        match step.status {
            Ok(qmp_codec::Status::Complete(msg)) => {
                n.kinds[msg.kind() as usize] += 1;
                if let Some(id) = msg.id() {
                    n.ids += 1;
                    n.id_bytes += id.raw().len();
                }
            }
            Ok(qmp_codec::Status::Partial) => {
                assert!(buf.is_empty(), "a partial frame at the end");
                return n;
            }
            Err(e) => panic!("bad message: {e}"),
        }
        buf = &buf[step.consumed..];
    }
}

/// The stream as one-byte reads: after each byte, everything complete is taken. With
/// `fused`, `Framer::decode_message` (parse included); without, the framer alone (frames
/// counted, not parsed). Returns the number of messages or frames.
#[inline(never)]
pub fn one_byte_feed(c: &Corpus, fused: bool) -> usize {
    let mut framer = qmp_codec::Framer::default();
    let (mut start, mut n) = (0, 0);
    for end in 1..=c.bytes.len() {
        loop {
            let buf = &c.bytes[start..end];
            let (consumed, complete) = if fused {
                let step = framer.decode_message(buf);
                let complete = match step.status {
                    Ok(qmp_codec::Status::Complete(msg)) => {
                        black_box(msg.kind());
                        true
                    }
                    Ok(qmp_codec::Status::Partial) => false,
                    Err(e) => panic!("bad message: {e}"),
                };
                (step.consumed, complete)
            } else {
                let step = framer.decode(buf);
                (step.consumed, step.frame(buf).is_some())
            };
            start += consumed;
            if !complete {
                break;
            }
            n += 1;
        }
    }
    n
}

/// (b) serde_json into borrowed raw values: the cheapest serde_json can do while still
/// validating the whole message.
#[derive(Deserialize)]
struct Raw<'a> {
    #[serde(borrow, rename = "QMP", default, deserialize_with = "present")]
    qmp: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    event: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    error: Option<&'a RawValue>,
    #[serde(borrow, rename = "return", default, deserialize_with = "present")]
    ret: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    execute: Option<&'a RawValue>,
    #[serde(borrow, rename = "exec-oob", default, deserialize_with = "present")]
    execute_oob: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    id: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    arguments: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    data: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    timestamp: Option<&'a RawValue>,
}

/// A member that is present, even as `null` (a plain `Option` would turn `"id": null` into
/// `None`).
#[inline(never)]
pub fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// The `Kind` precedence over which members are present.
#[inline(always)]
fn kind_of(qmp: bool, event: bool, error: bool, ret: bool, command: bool) -> usize {
    if qmp {
        GREETING
    } else if event {
        EVENT
    } else if error {
        ERROR
    } else if ret {
        RETURN
    } else if command {
        COMMAND
    } else {
        UNKNOWN
    }
}

#[inline(never)]
pub fn serde_raw(c: &Corpus) -> Counts {
    let mut n = Counts::default();
    for line in c.messages() {
        let m: Raw<'_> = serde_json::from_slice(line).expect("valid JSON");
        black_box((m.arguments, m.data, m.timestamp));
        n.kinds[kind_of(
            m.qmp.is_some(),
            m.event.is_some(),
            m.error.is_some(),
            m.ret.is_some(),
            m.execute.is_some() || m.execute_oob.is_some(),
        )] += 1;
        if let Some(id) = m.id {
            n.ids += 1;
            n.id_bytes += id.get().len();
        }
    }
    n
}

/// (c) serde_json's owned `Value` tree. Its recursion limit (128) is lifted: the capture
/// echoes an id nested 1000 deep, which QEMU accepts.
#[inline(never)]
pub fn serde_value(c: &Corpus) -> Counts {
    let mut n = Counts::default();
    for line in c.messages() {
        let mut de = serde_json::Deserializer::from_slice(line);
        de.disable_recursion_limit();
        let v = serde_json::Value::deserialize(&mut de).expect("valid JSON");
        de.end().expect("nothing after the value");
        let o = v.as_object().expect("an object");
        n.kinds[kind_of(
            o.contains_key("QMP"),
            o.contains_key("event"),
            o.contains_key("error"),
            o.contains_key("return"),
            o.contains_key("execute") || o.contains_key("exec-oob"),
        )] += 1;
        if let Some(id) = o.get("id") {
            n.ids += 1;
            black_box(id);
        }
    }
    n
}

/// (d) serde-json-core: no allocator, no `&RawValue`, no `deserialize_any`. Unknown and
/// untyped members can only be skipped (`IgnoredAny`), so `id` is seen but not kept, and
/// skipped numbers are not validated. It is the no_std baseline, not an equivalent parser.
#[derive(Deserialize)]
struct Core<'a> {
    #[serde(rename = "QMP", default, deserialize_with = "present")]
    qmp: Option<IgnoredAny>,
    #[serde(borrow)]
    event: Option<&'a str>,
    #[serde(borrow)]
    error: Option<CoreError<'a>>,
    #[serde(rename = "return", default, deserialize_with = "present")]
    ret: Option<IgnoredAny>,
    #[serde(borrow)]
    execute: Option<&'a str>,
    #[serde(borrow, rename = "exec-oob")]
    execute_oob: Option<&'a str>,
    #[serde(default, deserialize_with = "present")]
    id: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct CoreError<'a> {
    #[serde(borrow)]
    class: &'a str,
    #[serde(borrow)]
    desc: &'a str,
}

#[inline(never)]
pub fn serde_core(c: &Corpus) -> Counts {
    let mut n = Counts::default();
    for line in c.messages() {
        let (m, _): (Core<'_>, usize) = serde_json_core::from_slice(line).expect("parses");
        if let Some(e) = &m.error {
            black_box((e.class, e.desc));
        }
        n.kinds[kind_of(
            m.qmp.is_some(),
            m.event.is_some(),
            m.error.is_some(),
            m.ret.is_some(),
            m.execute.is_some() || m.execute_oob.is_some(),
        )] += 1;
        if m.id.is_some() {
            n.ids += 1;
        }
    }
    n
}

/// (e) The floor: finding the line ends with memchr, nothing parsed.
#[inline(never)]
pub fn memchr_lines(c: &Corpus) -> usize {
    memchr::memchr_iter(b'\n', &c.bytes).count()
}
