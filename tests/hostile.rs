//! Hostile input: deep nesting on a small stack, invalid UTF-8, lone surrogates, and every
//! byte value in every position of a real message. Nothing panics, nothing recurses, and
//! accept/reject agrees with serde_json apart from the documented rules.

mod common;

use common::oracle::agree;
use qmp_codec::{Limits, Message, ParseError, Reason, Style, Value, ValueKind};

/// 64 KiB in optimized builds (the scan's frames take about 8 KiB there), 128 KiB in debug
/// builds, whose unoptimized frames are about ten times larger: recursion per level would
/// overflow either many times over (100,000 levels below).
const SMALL_STACK: usize = if cfg!(debug_assertions) { 128 } else { 64 } * 1024;

/// Runs `f` on a thread with a [`SMALL_STACK`] stack.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(f)
        .expect("spawn a small-stack thread")
        .join()
        .expect("the small-stack thread did not panic")
}

fn depth_error(input: &[u8], limits: &Limits) -> (Reason, usize) {
    match Message::parse_with(input, limits) {
        Err(ParseError::Deserialization(e)) => {
            assert_eq!(e.raw().len(), input.len());
            (e.reason(), e.offset())
        }
        other => panic!("not rejected: {other:?}"),
    }
}

#[test]
fn hundred_thousand_open_brackets_fail_cleanly_on_a_small_stack() {
    let (arrays, objects, mixed) = on_small_stack(|| {
        let limits = Limits::new();
        let arrays = vec![b'['; 100_000];
        let objects = b"{\"a\":".repeat(100_000);
        let mixed = b"{\"a\":[".repeat(50_000);
        (
            depth_error(&arrays, &limits),
            depth_error(&objects, &limits),
            depth_error(&mixed, &limits),
        )
    });
    // The 1025th bracket is the one over QEMU's limit of 1024.
    assert_eq!(arrays, (Reason::DepthLimit, 1024));
    assert_eq!(objects, (Reason::DepthLimit, 1024 * 5));
    assert_eq!(mixed, (Reason::DepthLimit, 512 * 6));
    // Closed too: the same nesting, balanced, still fails at the limit.
    let closed = [vec![b'['; 100_000], vec![b']'; 100_000]].concat();
    let closed = on_small_stack(move || depth_error(&closed, &Limits::new()));
    assert_eq!(closed, (Reason::DepthLimit, 1024));
}

fn deep_message(depth: usize) -> Vec<u8> {
    // {"d": [[{"a": [[{"a": … 1 …}]]}]]} with `depth` containers in all: every third an
    // object (at 3000 levels, past the inline part of the duplicate check's table).
    let mut s = String::from("{\"d\":");
    let mut open = 1;
    while open < depth {
        if open % 3 != 0 {
            s.push('[');
        } else {
            s.push_str("{\"a\":");
        }
        open += 1;
    }
    s.push_str("\"\\u00e9\"");
    for level in (1..depth).rev() {
        s.push(if level % 3 != 0 { ']' } else { '}' });
    }
    s.push('}');
    s.into_bytes()
}

#[test]
fn deep_valid_values_navigate_and_print_on_a_small_stack() {
    let input = deep_message(3000);
    // The input is already compact and ASCII: compact printing gives it back.
    let expected_compact = String::from_utf8(input.clone()).expect("ASCII");
    let (reached, leaf, compact, pretty_len, printed_len, into_len) = on_small_stack(move || {
        let limits = Limits::new().with_max_depth(4096);
        assert!(matches!(
            Message::parse(&input),
            Err(ParseError::Deserialization(e)) if e.reason() == Reason::DepthLimit
        ));
        let msg = Message::parse_with(&input, &limits).expect("3000 levels under a raised limit");
        // Walk down through get() and elements().
        let mut v: Value<'_> = msg.get("d").expect("d");
        let mut reached = 1;
        loop {
            let next = match v.kind() {
                ValueKind::Array => v.elements().next(),
                ValueKind::Object => v.get("a"),
                _ => break,
            };
            match next {
                Some(n) => {
                    v = n;
                    reached += 1;
                }
                None => break,
            }
        }
        let leaf = v.as_str().map(|s| s.to_string());
        let compact = msg.compact().to_string();
        let pretty = msg.to_string();
        let printed_len = msg.as_value().printed_len(Style::PYTHON_PRETTY);
        let mut buf = vec![0u8; printed_len];
        let into_len = msg
            .as_value()
            .print_into(Style::PYTHON_PRETTY, &mut buf)
            .expect("exact buffer");
        assert_eq!(buf, pretty.as_bytes());
        // Debug goes through the same printer.
        let debug = format!("{msg:?}");
        assert!(debug.len() > 6000);
        (reached, leaf, compact, pretty.len(), printed_len, into_len)
    });
    assert_eq!(reached, 3000);
    assert_eq!(leaf.as_deref(), Some("é"));
    assert_eq!(compact, expected_compact);
    assert_eq!(printed_len, pretty_len);
    assert_eq!(into_len, pretty_len);
    // Each level is on its own line, indented two spaces per level.
    assert!(pretty_len > 2 * (2999 * 3000) / 2);
}

#[test]
fn invalid_utf8_and_lone_surrogates_in_keys_and_values() {
    let cases: &[(&[u8], Reason, usize)] = &[
        (b"{\"\xff\":1}", Reason::InvalidUtf8, 2),
        (b"{\"a\":\"\xff\"}", Reason::InvalidUtf8, 6),
        (b"{\"a\":{\"b\xc3\":1}}", Reason::InvalidUtf8, 8),
        (b"{\"a\":[\"\xed\xbf\xbf\"]}", Reason::InvalidUtf8, 7),
        (b"{\"a\":\xff}", Reason::InvalidUtf8, 5),
        // Valid UTF-8 outside a string is simply not a value.
        (b"{\"a\":\xc3\xa9}", Reason::ExpectedValue, 5),
        (br#"{"\ud800":1}"#, Reason::LoneSurrogate, 2),
        (br#"{"\udc00\ud800":1}"#, Reason::LoneSurrogate, 2),
        (br#"{"a":"\ud800\ud800"}"#, Reason::LoneSurrogate, 6),
        (br#"{"a":{"\ud800x":1}}"#, Reason::LoneSurrogate, 7),
        (br#"{"a":["x\udfff"]}"#, Reason::LoneSurrogate, 8),
        (br#"{"a":"\ud800\u"}"#, Reason::LoneSurrogate, 6),
        (br#"{"a":"\ud800"#, Reason::LoneSurrogate, 6),
        (br#"{"a":"\u12"#, Reason::UnexpectedEnd, 10),
    ];
    for &(input, reason, offset) in cases {
        match Message::parse(input) {
            Err(ParseError::Deserialization(e)) => {
                assert_eq!((e.reason(), e.offset()), (reason, offset), "{input:?}");
                assert_eq!(e.raw(), input);
                assert!(!e.to_string().is_empty());
            }
            other => panic!("{input:?}: {other:?}"),
        }
        agree(input).unwrap_or_else(|d| panic!("{d}"));
    }
}

#[test]
fn every_byte_in_every_position_of_a_real_message() {
    let cap = common::Capture::load("qsd");
    let original = cap.messages()[0].to_vec();
    assert!(
        (140..=160).contains(&original.len()),
        "a ~150-byte greeting"
    );
    let mut input = original.clone();
    let (mut accepted, mut rejected) = (0usize, 0usize);
    for pos in 0..original.len() {
        for byte in 0..=255u8 {
            input[pos] = byte;
            agree(&input).unwrap_or_else(|d| panic!("byte {byte:#04x} at {pos}: {d}"));
            match Message::parse(&input) {
                Ok(msg) => {
                    accepted += 1;
                    // Reading and printing a mutated message never panics either.
                    let _ = (
                        msg.kind(),
                        msg.id(),
                        msg.compact().to_string(),
                        msg.to_string(),
                    );
                }
                Err(e) => {
                    rejected += 1;
                    let _ = e.to_string();
                }
            }
        }
        input[pos] = original[pos];
    }
    assert_eq!(accepted + rejected, original.len() * 256);
    assert!(accepted > original.len() * 20, "accepted only {accepted}");
    assert!(rejected > original.len() * 100, "rejected only {rejected}");
}
