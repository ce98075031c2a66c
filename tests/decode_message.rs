//! `Framer::decode_message` (framing and parsing in one step) against its definition:
//! `Framer::decode` followed by `Message::parse_with` on each frame, for every input, every
//! chunking and every dialect.

mod common;

use proptest::prelude::*;
use qmp_codec::{
    Dialect, Framer, FramerConfig, Kind, Limits, Message, MessageError, ReadBuffer, Status,
    DEFAULT_MAX_FRAME_LEN,
};

/// One step's outcome, owned, with everything the message view exposes.
#[derive(Clone, Debug, PartialEq)]
enum Out {
    Message {
        bytes: Vec<u8>,
        object: Vec<u8>,
        kind: Kind,
        len: usize,
        known: Vec<Option<Vec<u8>>>,
        members: Vec<(Vec<u8>, Vec<u8>)>,
    },
    Frame(qmp_codec::FrameError),
    Parse {
        offset: u64,
        raw: Vec<u8>,
        text: String,
        debug: String,
    },
}

const KNOWN: [&str; 11] = [
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
    "other",
];

fn message(msg: &Message<'_>) -> Out {
    Out::Message {
        bytes: msg.as_bytes().to_vec(),
        object: msg.as_value().raw().to_vec(),
        kind: msg.kind(),
        len: msg.len(),
        known: KNOWN
            .iter()
            .map(|k| msg.get(k).map(|v| v.raw().to_vec()))
            .collect(),
        members: msg
            .iter()
            .map(|(k, v)| (k.raw().to_vec(), v.raw().to_vec()))
            .collect(),
    }
}

/// A step: bytes consumed, then the outcome (`None` for `Partial`).
type Step = (usize, Option<Out>);

fn fused(framer: &mut Framer, buf: &[u8], eof: bool, limits: &Limits) -> Step {
    let step = if eof {
        framer.finish_message_with(buf, limits)
    } else {
        framer.decode_message_with(buf, limits)
    };
    assert!(step.consumed <= buf.len());
    let out = match step.status {
        Ok(Status::Complete(msg)) => Some(message(&msg)),
        Ok(Status::Partial) => None,
        Err(MessageError::Frame(e)) => Some(Out::Frame(e)),
        Err(MessageError::Parse { offset, error }) => Some(Out::Parse {
            offset,
            raw: error.raw().to_vec(),
            text: error.to_string(),
            debug: format!("{error:?}"),
        }),
        Err(e) => panic!("unknown error {e:?}"),
    };
    (step.consumed, out)
}

fn composed(framer: &mut Framer, buf: &[u8], eof: bool, limits: &Limits) -> Step {
    let base = framer.position();
    let step = if eof {
        framer.finish(buf)
    } else {
        framer.decode(buf)
    };
    let out = match step.status {
        Ok(Status::Complete(frame)) => {
            Some(match Message::parse_with(&buf[frame.range()], limits) {
                Ok(msg) => message(&msg),
                Err(error) => Out::Parse {
                    offset: base + frame.start as u64,
                    raw: error.raw().to_vec(),
                    text: error.to_string(),
                    debug: format!("{error:?}"),
                },
            })
        }
        Ok(Status::Partial) => None,
        Err(e) => Some(Out::Frame(e)),
    };
    (step.consumed, out)
}

type Driver = fn(&mut Framer, &[u8], bool, &Limits) -> Step;

/// Feeds `input` in chunks of `sizes` (cycled), draining after each, then finishes.
fn run(
    driver: Driver,
    config: FramerConfig,
    limits: &Limits,
    input: &[u8],
    sizes: &[usize],
) -> (Vec<Step>, Framer) {
    let mut framer = Framer::new(config);
    let mut buf = Vec::new();
    let mut steps = Vec::new();
    let (mut fed, mut k) = (0, 0);
    loop {
        let eof = fed == input.len();
        if !eof {
            let n = sizes[k % sizes.len()].max(1).min(input.len() - fed);
            k += 1;
            buf.extend_from_slice(&input[fed..fed + n]);
            fed += n;
        }
        loop {
            let (consumed, out) = driver(&mut framer, &buf, eof, limits);
            buf.drain(..consumed);
            let done = out.is_none();
            steps.push((consumed, out));
            if done {
                break;
            }
        }
        if eof {
            assert!(buf.is_empty(), "finish consumes everything");
            return (steps, framer);
        }
    }
}

fn config(dialect: Dialect, max: usize) -> FramerConfig {
    FramerConfig::new()
        .with_dialect(dialect)
        .with_max_frame_len(max)
}

fn check(dialect: Dialect, max: usize, limits: &Limits, input: &[u8], sizes: &[usize]) {
    let cfg = config(dialect, max);
    let (want, _) = run(composed, cfg, limits, input, sizes);
    let (got, _) = run(fused, cfg, limits, input, sizes);
    assert_eq!(got, want, "{dialect:?} max {max} sizes {sizes:?}");
}

#[test]
fn edge_cases_match_the_composition() {
    let cases: &[&[u8]] = &[
        b"{\"return\": {}}\r\n",
        b"{\"return\": {}}\n{}\n",
        b"{\"a\":\n1}\n",
        b"{\"a\": 1} x\n{\"b\": 2}\r\n",
        b"{\"a\": 1}\r\r\n",
        b"{}  \t\r\n{} \n",
        b"{\"a\": \"x\ny\"}\n",
        b"{\"a\": 1}{\"b\": 2}\n",
        b"{\"a\": 1, \"a\": 2}\n",
        b"{\"a\": [1, 2\r\n]}\r\n{\"ok\": 1}\r\n",
        b"{\"id\": \"\xFF\"}\n{}\n",
        b"{\"id\": 1\xFF{\"id\": 2}\n",
        b"\xEF\xBB\xBF{}\n",
        b" {\"a\": 1}\n",
        b"\r\n\r\n{\"a\": 1}\n",
        b"{\"a\": 1}",
        b"{\"a\": 1}\r",
        b"{\"a\": 1} \r\n",
        b"{\"a\": [[[1]]]}\n",
        b"{\"a\": tru}\n{}\n",
    ];
    let deep = Limits::new().with_max_depth(2).with_max_members(1);
    for input in cases {
        for dialect in [Dialect::Lines, Dialect::Qga, Dialect::Stream] {
            for max in [DEFAULT_MAX_FRAME_LEN, 1, 8, 9, 10, 11, 16] {
                for limits in [Limits::new(), deep] {
                    for sizes in [&[input.len().max(1)][..], &[1], &[3, 7]] {
                        check(dialect, max, &limits, input, sizes);
                    }
                }
            }
        }
    }
}

#[test]
fn line_at_the_exact_limit() {
    // 12 bytes of line plus `\n`: fits a limit of 13, not 12.
    let input = b"{\"a\": 12345}\n{}\n";
    for max in [12, 13] {
        let cfg = config(Dialect::Lines, max);
        let (steps, _) = run(fused, cfg, &Limits::new(), input, &[input.len()]);
        let first = steps[0].1.clone().unwrap();
        assert_eq!(matches!(first, Out::Message { .. }), max == 13, "{first:?}");
        check(Dialect::Lines, max, &Limits::new(), input, &[input.len()]);
    }
}

#[test]
fn one_byte_feeding_is_linear() {
    // A 236 KB message fed one byte at a time: the one-pass scan is tried once, on the first
    // byte, then the line is framed and parsed: about twice its length in all.
    let mut msg = b"{\"return\": [".to_vec();
    while msg.len() < 236_000 {
        msg.extend_from_slice(b"{\"name\": \"x-\\\"}\", \"arg\": [1, 2.5e3, true]}, ");
    }
    msg.extend_from_slice(b"{}]}\r\n");
    let n = msg.len() as u64;
    for dialect in [Dialect::Lines, Dialect::Stream, Dialect::Qga] {
        let cfg = config(dialect, DEFAULT_MAX_FRAME_LEN);
        let (steps, framer) = run(fused, cfg, &Limits::new(), &msg, &[1]);
        let messages = steps.iter().filter(|(_, o)| o.is_some()).count();
        assert_eq!(messages, 1, "{dialect:?}");
        // The stream framer may look at a byte that ends a number twice (its own bound is
        // 2n); the lines framer looks at each byte once.
        let bound = if dialect == Dialect::Stream {
            3 * n
        } else {
            2 * n + 8
        };
        assert!(
            framer.bytes_scanned() <= bound,
            "{dialect:?}: scanned {} bytes for {n}",
            framer.bytes_scanned()
        );
        // Whole, the line is scanned once (on compact targets, which frame then parse, once
        // by the framer and once by the scanner).
        let (_, framer) = run(fused, cfg, &Limits::new(), &msg, &[msg.len()]);
        let one_pass = cfg!(all(
            not(qmp_compact),
            any(target_arch = "x86_64", target_arch = "aarch64")
        ));
        if dialect != Dialect::Stream {
            // The framer's count includes the line's end, the scanner's does not.
            let once = if one_pass { n..=n } else { 2 * n - 2..=2 * n };
            let scanned = framer.bytes_scanned();
            assert!(once.contains(&scanned), "{dialect:?}: {scanned}");
        }
    }
}

#[test]
fn capture_through_read_buffer() {
    let capture = common::Capture::load("qsd");
    let expect = &capture.expect;
    let mut storage = vec![0u8; 1 << 20];
    let mut rb = ReadBuffer::new(&mut storage, FramerConfig::new());
    let mut kinds = Vec::new();
    let mut errors = 0;
    let limits = Limits::new();
    for chunk in capture.stream.chunks(4096) {
        let mut chunk = chunk;
        while !chunk.is_empty() {
            let spare = rb.spare();
            let n = spare.len().min(chunk.len());
            spare[..n].copy_from_slice(&chunk[..n]);
            rb.commit(n);
            chunk = &chunk[n..];
            while let Some(r) = rb.next_message(&limits) {
                match r {
                    Ok(msg) => kinds.push(msg.kind().as_str().to_owned()),
                    Err(_) => errors += 1,
                }
            }
        }
    }
    while let Some(r) = rb.finish_message(&limits) {
        match r {
            Ok(msg) => kinds.push(msg.kind().as_str().to_owned()),
            Err(_) => errors += 1,
        }
    }
    let strict: Vec<String> = expect
        .iter()
        .filter(|e| e["strict_json"] == serde_json::Value::Bool(true))
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, strict);
    assert_eq!(errors, expect.len() - strict.len());
}

fn piece() -> impl Strategy<Value = Vec<u8>> {
    let fixed: Vec<&'static [u8]> = vec![
        b"{\"return\": {}, \"id\": 1}\r\n",
        b"{\"event\": \"STOP\", \"data\": {\"a\": [1, 2.5, -0e3]}, \"timestamp\": {\"seconds\": 1}}\r\n",
        b"{\"error\": {\"class\": \"GenericError\", \"desc\": \"d\\u00e9\"}, \"id\": \"x\"}\n",
        b"{\"QMP\": {\"version\": {}, \"capabilities\": [\"oob\"]}}",
        b"{\"execute\":\"qmp_capabilities\"}",
        b"{\r\n    \"return\": {\r\n    },\r\n    \"id\": \"caps\"\r\n}",
        b"{\"a\": 1, \"a\": 2}",
        b"{\"i\\u0064\": 1, \"id\": 2}",
        b"{\"a\": [[{\"b\": []}]]}",
        b"[1, [2], {\"a\": null}]",
        b"{\"a\": 01}",
        b"\"str}\\\"{\"",
        b"12",
        b"{",
        b"}",
        b"\r\n",
        b"\n",
        b" ",
        b"\t",
        b"\r",
        b"\xFF",
        b"\x01",
        b",",
    ];
    prop_oneof![
        4 => proptest::sample::select(fixed).prop_map(<[u8]>::to_vec),
        1 => proptest::collection::vec(
            proptest::sample::select(b"{}[]\"'\\,: \r\n\t0123-.eEaztrueNx\x01\xFE\xFF\xC3".to_vec()),
            0..12
        ),
    ]
}

fn any_dialect() -> impl Strategy<Value = Dialect> {
    prop_oneof![
        Just(Dialect::Lines),
        Just(Dialect::Stream),
        Just(Dialect::Qga)
    ]
}

fn any_limits() -> impl Strategy<Value = Limits> {
    prop_oneof![
        3 => Just(Limits::new()),
        1 => (0usize..4, 0usize..4).prop_map(|(d, m)| Limits::new().with_max_depth(d).with_max_members(m)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256)
    ))]

    #[test]
    fn qmp_like_input_matches_the_composition(
        dialect in any_dialect(),
        input in proptest::collection::vec(piece(), 0..16).prop_map(|v| v.concat()),
        sizes in proptest::collection::vec(1usize..12, 1..6),
        max in prop_oneof![Just(DEFAULT_MAX_FRAME_LEN), 1usize..64],
        limits in any_limits(),
    ) {
        let cfg = config(dialect, max);
        let (want, _) = run(composed, cfg, &limits, &input, &sizes);
        let (got, _) = run(fused, cfg, &limits, &input, &sizes);
        prop_assert_eq!(&got, &want);
        let (whole, _) = run(fused, cfg, &limits, &input, &[input.len().max(1)]);
        let (want_whole, _) = run(composed, cfg, &limits, &input, &[input.len().max(1)]);
        prop_assert_eq!(whole, want_whole);
    }

    #[test]
    fn arbitrary_bytes_match_the_composition(
        dialect in any_dialect(),
        input in proptest::collection::vec(any::<u8>(), 0..200),
        sizes in proptest::collection::vec(1usize..20, 1..4),
        max in prop_oneof![Just(DEFAULT_MAX_FRAME_LEN), 1usize..64],
    ) {
        let cfg = config(dialect, max);
        let (want, _) = run(composed, cfg, &Limits::new(), &input, &sizes);
        let (got, _) = run(fused, cfg, &Limits::new(), &input, &sizes);
        prop_assert_eq!(got, want);
    }

    #[test]
    fn read_buffer_messages_match_frames(
        dialect in any_dialect(),
        input in proptest::collection::vec(piece(), 0..16).prop_map(|v| v.concat()),
        cap in 1usize..96,
        size in 1usize..24,
    ) {
        let limits = Limits::new();
        let mut storage = vec![0u8; cap];
        let mut rb = ReadBuffer::new(&mut storage, config(dialect, DEFAULT_MAX_FRAME_LEN));
        let mut got = Vec::new();
        let mut fed = 0;
        let record = |r: Result<Message<'_>, MessageError<'_>>| match r {
            Ok(msg) => Ok(message(&msg)),
            Err(e) => Err(e.to_string()),
        };
        while fed < input.len() {
            let spare = rb.spare();
            let n = spare.len().min(size).min(input.len() - fed);
            spare[..n].copy_from_slice(&input[fed..fed + n]);
            rb.commit(n);
            fed += n;
            while let Some(r) = rb.next_message(&limits) {
                got.push(record(r));
            }
        }
        while let Some(r) = rb.finish_message(&limits) {
            got.push(record(r));
        }
        let mut storage = vec![0u8; cap];
        let mut rb = ReadBuffer::new(&mut storage, config(dialect, DEFAULT_MAX_FRAME_LEN));
        let parse = |r: Result<&[u8], qmp_codec::FrameError>| {
            r.map_err(|e| e.to_string())
                .and_then(|f| Message::parse(f).map(|m| message(&m)).map_err(|e| e.to_string()))
        };
        let mut want = Vec::new();
        let mut fed = 0;
        while fed < input.len() {
            let spare = rb.spare();
            let n = spare.len().min(size).min(input.len() - fed);
            spare[..n].copy_from_slice(&input[fed..fed + n]);
            rb.commit(n);
            fed += n;
            while let Some(r) = rb.next_frame() {
                want.push(parse(r));
            }
        }
        while let Some(r) = rb.finish() {
            want.push(parse(r));
        }
        // Parse errors carry the frame's offset in the fused API; compare the parser's text.
        let got: Vec<_> = got.into_iter().map(|r| r.map_err(|e| match e.split_once(": ") {
            Some((head, rest)) if head.starts_with("frame at offset") => rest.to_owned(),
            _ => e,
        })).collect();
        prop_assert_eq!(got, want);
    }
}
