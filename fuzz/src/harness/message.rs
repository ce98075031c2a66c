//! The `message` harness: `Message::parse` and everything that reads the result.

use core::fmt::Write;

use super::{trim_ws, Compare, Count, Digest};
use qmp_codec::{
    BufferTooSmall, Kind, Limits, Message, ParseError, Reason, Str, Style, Value, ValueKind,
};
use qmp_codec::{Elements, Members};

/// The three printing styles, each checked on every input.
const STYLES: [Style; 3] = [Style::PYTHON_PRETTY, Style::PYTHON_COMPACT, Style::QEMU];

/// The top-level names that [`Message::get`] finds without walking.
const KNOWN: [&str; 10] = [
    "QMP",
    "event",
    "error",
    "return",
    "execute",
    "exec-oob",
    "id",
    "arguments",
    "data",
    "timestamp",
];

/// Size of the buffer printed output is compared in; longer output is checked by length.
const PRINT_BUF: usize = 1 << 15;
/// Size of the buffer strings are unescaped into; longer strings are checked by length.
const STR_BUF: usize = 1 << 12;
/// How deep the value walk goes: the parser's default limit, which every parsed value obeys.
const WALK_DEPTH: usize = Limits::DEFAULT_MAX_DEPTH;

/// Target `message`: [`Message::parse`] on arbitrary bytes, then every accessor, printer and
/// invariant of the message, its values and its strings.
pub fn message(data: &[u8]) {
    match Message::parse(data) {
        Ok(msg) => check_message(&msg, data),
        Err(e) => check_error(&e, data),
    }
}

fn check_error(e: &ParseError<'_>, data: &[u8]) {
    let mut n = Count(0);
    let _ = write!(n, "{e} {e:?}");
    assert!(n.0 > 2, "error Display/Debug is empty");
    assert_eq!(
        e.raw().is_empty(),
        data.is_empty() && matches!(e, ParseError::Deserialization(_))
    );
    match e {
        ParseError::Deserialization(d) => {
            assert!(
                d.offset() <= data.len(),
                "offset {} past the input",
                d.offset()
            );
            assert_eq!(d.raw(), data);
            assert!(!d.reason().as_str().is_empty());
            if d.reason() == Reason::EmptyInput {
                assert!(trim_ws(data).is_empty());
            }
        }
        ParseError::UnexpectedType(u) => {
            let v = u.value();
            assert_ne!(v.kind(), ValueKind::Object);
            assert_eq!(v.raw(), trim_ws(data));
            walk(v);
            check_print(v);
        }
        _ => panic!("a parse error the harness does not know: {e:?}"),
    }
}

fn check_message(msg: &Message<'_>, data: &[u8]) {
    assert_eq!(msg.as_bytes(), data);
    let obj = msg.as_value();
    assert_eq!(obj.kind(), ValueKind::Object);
    assert_eq!(obj.raw(), trim_ws(data));
    assert!(*msg == Message::parse(data).expect("parsing is deterministic"));

    // Top-level members: unique names, each found by `get`.
    let mut count = 0;
    let mut name_buf = [0u8; STR_BUF];
    for (k, v) in msg.iter() {
        count += 1;
        check_str(k);
        if let Ok(name) = k.unescape_into(&mut name_buf) {
            assert_eq!(msg.get(name), Some(v), "get({name:?})");
            assert!(msg.contains_key(name));
        }
    }
    assert_eq!(count, msg.len());
    assert_eq!(msg.is_empty(), count == 0);
    assert_eq!(msg.into_iter().count(), count);

    // The names found without walking agree with a walk.
    for name in KNOWN {
        let walked = msg.iter().find(|(k, _)| *k == name).map(|(_, v)| v);
        assert_eq!(msg.get(name), walked, "known member {name}");
        assert_eq!(msg.contains_key(name), walked.is_some());
        let s = walked.and_then(|v| v.as_str());
        assert_eq!(msg.get_str(name).map(|s| s.raw()), s.map(|s| s.raw()));
    }
    assert_eq!(msg.id(), msg.get("id"));
    let has = |n| msg.contains_key(n);
    let kind = if has("QMP") {
        Kind::Greeting
    } else if has("event") {
        Kind::Event
    } else if has("error") {
        Kind::Error
    } else if has("return") {
        Kind::Return
    } else if has("execute") || has("exec-oob") {
        Kind::Command
    } else {
        Kind::Unknown
    };
    assert_eq!(msg.kind(), kind);
    let mut n = Count(0);
    let _ = write!(n, "{} {:?}", msg.kind(), msg);
    assert!(n.0 > 0);

    // Every nested value, and the limits are exact: the measured depth and member count pass,
    // one less fails with the matching reason.
    let depth = walk(obj);
    assert!(depth >= 1);
    assert!(Message::parse_with(data, &Limits::new().with_max_depth(depth)).is_ok());
    match Message::parse_with(data, &Limits::new().with_max_depth(depth - 1)) {
        Err(ParseError::Deserialization(e)) => assert_eq!(e.reason(), Reason::DepthLimit),
        other => panic!("depth {} - 1 accepted: {other:?}", depth),
    }
    let members = Limits::new().with_max_members(count);
    assert!(Message::parse_with(data, &members).is_ok());
    if count > 0 {
        match Message::parse_with(data, &Limits::new().with_max_members(count - 1)) {
            Err(ParseError::Deserialization(e)) => assert_eq!(e.reason(), Reason::TooManyMembers),
            other => panic!("{count} - 1 members accepted: {other:?}"),
        }
    }

    // Printing, and the printed forms parse back to the same message.
    check_print(obj);
    assert_eq!(
        Digest::of(msg),
        Digest::of(obj.display(Style::PYTHON_PRETTY))
    );
    assert_eq!(
        Digest::of(msg.compact()),
        Digest::of(obj.display(Style::PYTHON_COMPACT))
    );
    let mut buf = [0u8; PRINT_BUF];
    for style in STYLES {
        let Ok(len) = obj.print_into(style, &mut buf) else {
            continue;
        };
        let printed = buf.get(..len).unwrap_or(&[]);
        let back = match Message::parse(printed) {
            Ok(back) => back,
            Err(_) if overflowed(style, printed) => continue,
            Err(e) => panic!("{style:?} output does not parse: {e:?}"),
        };
        assert_eq!(back.kind(), msg.kind());
        assert_eq!(back.len(), msg.len());
        // Compared as Python prints them: the Python styles re-print numbers.
        for name in KNOWN {
            assert_eq!(
                back.get(name)
                    .map(|v| Digest::of(v.display(Style::PYTHON_COMPACT))),
                msg.get(name)
                    .map(|v| Digest::of(v.display(Style::PYTHON_COMPACT)))
            );
        }
    }
}

/// Whether `out` is not JSON only because a Python style printed a number beyond `f64` as
/// `Infinity`, as `json.dumps` does.
fn overflowed(style: Style, out: &[u8]) -> bool {
    style != Style::QEMU && out.windows(8).any(|w| w == b"Infinity")
}

/// Checks every printer on `v` and returns nothing: panics on a mismatch.
fn check_print(v: Value<'_>) {
    let mut buf = [0u8; PRINT_BUF];
    let compact = Digest::of(v.display(Style::PYTHON_COMPACT));
    for style in STYLES {
        let len = v.printed_len(style);
        let mut c = Count(0);
        assert!(v.write_to(style, &mut c).is_ok());
        assert_eq!(c.0, len, "printed_len {style:?}");
        assert_eq!(Digest::of(v.display(style)).len, len);
        if len > PRINT_BUF {
            assert_eq!(
                v.print_into(style, &mut buf),
                Err(BufferTooSmall { required: len })
            );
            continue;
        }
        // A buffer one byte short fails and is left untouched.
        if let Some(short) = buf.get_mut(..len.saturating_sub(1)) {
            short.fill(0xA5);
            if len > 0 {
                assert_eq!(
                    v.print_into(style, short),
                    Err(BufferTooSmall { required: len })
                );
                assert!(short.iter().all(|&b| b == 0xA5), "short buffer written");
            }
        }
        let Some(exact) = buf.get_mut(..len) else {
            continue;
        };
        assert_eq!(v.print_into(style, exact), Ok(len));
        let out: &[u8] = exact;
        assert!(out.is_ascii(), "printed output is not ASCII");
        let mut cmp = Compare::new(out);
        let _ = write!(cmp, "{}", v.display(style));
        assert!(cmp.matched(), "print_into and Display differ in {style:?}");

        // The output is JSON again, of the same kind, and prints identically.
        let back = match Message::parse(out) {
            Ok(m) => m.as_value(),
            Err(ParseError::UnexpectedType(u)) => u.value(),
            Err(_) if overflowed(style, out) => continue,
            Err(e) => panic!("{style:?} output does not parse: {e:?}"),
        };
        assert_eq!(back.kind(), v.kind());
        let mut cmp = Compare::new(out);
        let _ = back.write_to(style, &mut cmp);
        assert!(cmp.matched(), "printing is not idempotent in {style:?}");
        assert_eq!(Digest::of(back.display(Style::PYTHON_COMPACT)), compact);
    }
}

/// An open container during the walk.
enum Frame<'a> {
    Object(Members<'a>),
    Array(Elements<'a>),
}

/// Visits every value under `root` (included) with an explicit stack, checking each; returns
/// the nesting depth (containers on the deepest path, 0 for a scalar).
fn walk(root: Value<'_>) -> usize {
    let mut stack: heapless::Vec<Frame<'_>, WALK_DEPTH> = heapless::Vec::new();
    let mut deepest = 0;
    let mut next = Some(root);
    loop {
        if let Some(v) = next.take() {
            check_value(v);
            let frame = match v.kind() {
                ValueKind::Object => Frame::Object(v.members()),
                ValueKind::Array => Frame::Array(v.elements()),
                _ => continue,
            };
            assert!(
                stack.push(frame).is_ok(),
                "value deeper than the parse limit"
            );
            deepest = deepest.max(stack.len());
        }
        next = match stack.last_mut() {
            None => return deepest,
            Some(Frame::Object(m)) => m.next().map(|(k, v)| {
                check_str(k);
                v
            }),
            Some(Frame::Array(e)) => e.next(),
        };
        if next.is_none() {
            stack.pop();
        }
    }
}

/// Checks the accessors of one value (not its children, which the walk visits).
fn check_value(v: Value<'_>) {
    let raw = v.raw();
    let kind = v.kind();
    assert!(!raw.is_empty());
    assert_eq!(trim_ws(raw), raw);
    assert!(!kind.as_str().is_empty());
    assert_eq!(v.as_str().is_some(), kind == ValueKind::String);
    assert_eq!(v.as_number().is_some(), kind == ValueKind::Number);
    assert_eq!(v.as_bool().is_some(), kind == ValueKind::Bool);
    assert_eq!(v.is_null(), kind == ValueKind::Null);
    if kind != ValueKind::Object {
        assert!(v.members().next().is_none());
        assert!(v.get("").is_none());
    }
    if kind != ValueKind::Array {
        assert!(v.elements().next().is_none());
    }
    match kind {
        ValueKind::Object => {
            // `get` finds the last member of each name; checked for the first two names.
            let mut buf = [0u8; 256];
            for (k, _) in v.members().take(2) {
                let Ok(name) = k.unescape_into(&mut buf) else {
                    continue;
                };
                let last = v.members().filter(|(n, _)| *n == name).last();
                assert_eq!(v.get(name), last.map(|(_, v)| v));
            }
        }
        ValueKind::Number => check_number(v),
        ValueKind::String => {
            if let Some(s) = v.as_str() {
                check_str(s);
            }
        }
        _ => {}
    }
}

fn check_number(v: Value<'_>) {
    let Some(text) = v.as_number() else {
        panic!("number without text")
    };
    assert_eq!(text.as_bytes(), v.raw());
    let parsed: f64 = match text.parse() {
        Ok(f) => f,
        Err(_) => panic!("JSON number {text:?} is not a Rust float"),
    };
    assert_eq!(v.as_f64(), parsed.is_finite().then_some(parsed));
    let integer = !text.contains(['.', 'e', 'E']);
    if let Some(i) = v.as_i64() {
        assert!(integer);
        assert_eq!(v.as_f64(), Some(i as f64));
        assert_eq!(
            v.as_u64(),
            u64::try_from(i).ok().or((text == "-0").then_some(0))
        );
    }
    if let Some(u) = v.as_u64() {
        assert!(integer);
        assert_eq!(v.as_f64(), Some(u as f64));
        if let Ok(i) = i64::try_from(u) {
            assert_eq!(v.as_i64(), Some(i));
        }
    }
    if integer && v.as_i64().is_none() && v.as_u64().is_none() {
        // Out of range both ways: at least 19 digits.
        assert!(
            text.trim_start_matches('-').len() >= 19,
            "{text} should fit"
        );
    }
}

/// Checks every way of reading a string against `chars()`.
fn check_str(s: Str<'_>) {
    let raw = s.raw();
    assert_eq!(s.has_escapes(), raw.contains(&b'\\'));
    assert_eq!(s.as_borrowed().is_some(), !s.has_escapes());
    if let Some(b) = s.as_borrowed() {
        assert_eq!(b.as_bytes(), raw);
        assert!(s == b);
    }
    let len: usize = s.chars().map(char::len_utf8).sum();
    assert_eq!(s.unescaped_len(), len);
    assert!(len <= raw.len(), "unescaping grew the string");
    assert_eq!(Digest::of(s).len, len);
    let mut n = Count(0);
    let _ = write!(n, "{s:?}");
    assert!(n.0 >= 2);
    let copy = s;
    assert!(copy == s);

    let mut buf = [0u8; STR_BUF];
    if len > STR_BUF {
        assert_eq!(
            s.unescape_into(&mut buf),
            Err(BufferTooSmall { required: len })
        );
        return;
    }
    if len > 0 {
        let short = buf.get_mut(..len - 1).unwrap_or(&mut []);
        short.fill(0xA5);
        assert_eq!(
            s.unescape_into(short),
            Err(BufferTooSmall { required: len })
        );
        assert!(short.iter().all(|&b| b == 0xA5), "short buffer written");
    }
    let exact = buf.get_mut(..len).unwrap_or(&mut []);
    let out = match s.unescape_into(exact) {
        Ok(out) => out,
        Err(e) => panic!("unescape_into an exact buffer failed: {e:?}"),
    };
    assert_eq!(out.len(), len);
    assert!(
        out.chars().eq(s.chars()),
        "unescape_into and chars() differ"
    );
    assert!(s.eq_str(out));
    assert!(s == out);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inputs that reach each branch of the `message` harness.
    const INPUTS: &[&[u8]] = &[
        b"",
        b"  \r\n",
        b"{}",
        b"{\"return\": {}}\r\n",
        b"{\"return\": {}, \"id\": \"__qmp#00001\"}",
        b"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 2, \"minor\": 0, \"major\": 10}, \"package\": \"\"}, \"capabilities\": [\"oob\"]}}\r\n",
        b"{\"id\": 1e400, \"error\": {\"class\": \"GenericError\", \"desc\": \"caf\\u00e9 \\ud83d\\ude00\"}}",
        b"{\"timestamp\": {\"seconds\": -1, \"microseconds\": -1}, \"event\": \"STOP\"}",
        b"{\"execute\": \"a\", \"arguments\": {\"x\": [1, -0, 1.5e3, 18446744073709551615, 99999999999999999999, true, false, null]}, \"id\": {\"a\": 1, \"a\": 2}}",
        b"{\"\\u0069d\": 1, \"a\\nb\": \"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u007f\"}",
        b"{\"a\": 1, \"a\": 2}",
        b"{\"a\" 1}",
        b"[1, 2, {\"x\": \"y\"}]",
        b"\"just a string\"",
        b"-0",
        b"\xEF\xBB\xBF{}",
        b"{\"a\": \"\xff\"}",
        b"{\"a\": \"\\ud800\"}",
        b"{\"a\": [[[[[[[[[[]]]]]]]]]]}",
    ];

    #[test]
    fn message_harness_runs_on_hand_inputs() {
        for input in INPUTS {
            message(input);
        }
    }

    #[test]
    fn message_harness_checks_deep_and_long_values() {
        let mut deep = [b'['; 2100];
        deep[0] = b'{';
        deep[1..6].copy_from_slice(b"\"a\":[");
        for (i, b) in deep.iter_mut().enumerate().skip(1000) {
            *b = if i < 1005 { b']' } else { b' ' };
        }
        // Not valid (the brackets do not balance), but it must not panic.
        message(&deep);
        message(&[b'['; 2100]);
        // Deep but valid, and pretty printing longer than the print buffer.
        let mut valid = [b' '; 2100];
        valid[..6].copy_from_slice(b"{\"a\":[");
        for b in valid.iter_mut().take(1000).skip(6) {
            *b = b'[';
        }
        for b in valid.iter_mut().skip(1000).take(995) {
            *b = b']';
        }
        valid[1995] = b'}';
        assert!(Message::parse(&valid).is_ok());
        message(&valid);
        // A string longer than the unescape buffer.
        let mut long = [b'x'; STR_BUF + 16];
        long[..6].copy_from_slice(b"{\"a\":\"");
        long[STR_BUF + 14..].copy_from_slice(b"\"}");
        assert!(Message::parse(&long).is_ok());
        message(&long);
    }

    #[test]
    fn walk_measures_depth() {
        let msg = Message::parse(b"{\"a\": [[1], {\"b\": [2]}], \"c\": {}}").unwrap();
        assert_eq!(walk(msg.as_value()), 4);
        assert_eq!(walk(Message::parse(b"{}").unwrap().as_value()), 1);
    }

    #[test]
    fn compare_and_digest_detect_differences() {
        let mut c = Compare::new(b"abc");
        let _ = c.write_str("ab");
        assert!(!c.matched());
        let _ = c.write_str("c");
        assert!(c.matched());
        let _ = c.write_str("d");
        assert!(!c.matched());
        assert_eq!(Digest::of("abc"), Digest::of(format_args!("a{}c", "b")));
        assert_ne!(Digest::of("abc"), Digest::of("abd"));
        assert_eq!(trim_ws(b" \r\n\t{} \n"), b"{}");
        assert_eq!(trim_ws(b"\x0c{}"), b"\x0c{}");
    }
}
