//! Transcript tests of the sans-IO client: scripted servers and replays of real traffic.

mod common;

use common::{read_data, Capture};
use qmp_codec::client::{
    Client, ClientConfig, ClientError, ClientEvent, ClientState, Unmatched, Violation,
};
use qmp_codec::encode::{validate_json, EmptyObject, Encode, EncodeError, Id, Request};
use qmp_codec::Dialect;

const NONE: Option<EmptyObject> = None;
const GREETING_OOB: &[u8] = b"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 2, \"minor\": 0, \"major\": 10}, \"package\": \"\"}, \"capabilities\": [\"oob\"]}}\r\n";
const GREETING_PLAIN: &[u8] = b"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 2, \"minor\": 0, \"major\": 10}, \"package\": \"\"}, \"capabilities\": []}}\r\n";

/// One line per event, for whole-transcript comparisons.
fn describe(e: &ClientEvent<'_>) -> String {
    match e {
        ClientEvent::Greeting(g) => format!("greeting {}", g.version().unwrap()),
        ClientEvent::Negotiated { oob } => format!("negotiated oob={oob}"),
        ClientEvent::NegotiationFailed(m) => format!("negotiation failed {}", m.compact()),
        ClientEvent::Response(r) => match r.error() {
            Some(info) => format!("response {} error {}", r.id(), info.unwrap().class()),
            None => format!(
                "response {} return {}",
                r.id(),
                r.return_value()
                    .unwrap()
                    .display(qmp_codec::Style::PYTHON_COMPACT)
            ),
        },
        ClientEvent::Event(e) => format!("event {}", e.name()),
        ClientEvent::Unmatched { message, reason } => {
            let id = message
                .id()
                .map(|v| v.display(qmp_codec::Style::PYTHON_COMPACT).to_string());
            format!("unmatched {reason:?} {}", id.unwrap_or_default())
        }
        ClientEvent::Violation(v) => match v {
            Violation::Frame(e) => format!("violation frame {e}"),
            Violation::Parse(e) => format!("violation parse {e}"),
            Violation::Model(_, e) => format!("violation model {e}"),
            Violation::UnexpectedGreeting(_) => "violation greeting".into(),
            Violation::UnexpectedMessage(m) => format!("violation message {}", m.compact()),
            other => format!("violation {other:?}"),
        },
        ClientEvent::TimedOut(id) => format!("timed out {id}"),
        ClientEvent::Interrupted(id) => format!("interrupted {id}"),
        ClientEvent::Closed => "closed".into(),
        other => format!("{other:?}"),
    }
}

fn drain<const N: usize>(c: &mut Client<'_, N>) -> Vec<String> {
    let mut out = Vec::new();
    while let Some(e) = c.poll_event() {
        out.push(describe(&e));
    }
    out
}

fn feed<const N: usize>(c: &mut Client<'_, N>, bytes: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let n = c.handle_input(rest);
        rest = &rest[n..];
        out.extend(drain(c));
    }
    out
}

fn take_tx<const N: usize>(c: &mut Client<'_, N>) -> String {
    let mut all = Vec::new();
    let mut buf = [0u8; 7]; // small on purpose: partial copies
    while let Some(n) = c.poll_transmit(&mut buf) {
        all.extend_from_slice(&buf[..n]);
    }
    String::from_utf8(all).unwrap()
}

/// A negotiated client (greeting with OOB offered), its transmit buffer flushed.
fn ready<'s, const N: usize>(
    rx: &'s mut [u8],
    tx: &'s mut [u8],
    config: ClientConfig,
) -> Client<'s, N> {
    let mut c = Client::<N>::new(rx, tx, config).unwrap();
    feed(&mut c, GREETING_OOB);
    take_tx(&mut c);
    assert_eq!(feed(&mut c, b"{\"return\": {}}\r\n").len(), 1);
    assert_eq!(c.state(), ClientState::Ready);
    c
}

/// The reference client's session against a stub server, replayed: our output must be the
/// reference's bytes, and the stub's replies must come out as the expected transcript.
#[test]
fn replays_the_reference_client_session() {
    let sent_by_server = read_data("corpus/qemu.qmp-client/sent.bin");
    let sent_by_reference = read_data("corpus/qemu.qmp-client/received.bin");
    let (mut rx, mut tx) = ([0u8; 512], [0u8; 512]);
    let mut c = Client::<8>::new(&mut rx, &mut tx, ClientConfig::new()).unwrap();
    let lines: Vec<&[u8]> = sent_by_server.split_inclusive(|&b| b == b'\n').collect();
    let mut transcript = feed(&mut c, lines[0]);
    let mut wire = take_tx(&mut c);
    transcript.extend(feed(&mut c, lines[1]));
    c.execute("query-version", NONE).unwrap();
    let args = validate_json("{\"a\": \"é\"}".as_bytes()).unwrap();
    c.execute("nope", Some(args)).unwrap();
    c.execute("emit-event", NONE).unwrap();
    c.execute_oob("query-version", NONE).unwrap();
    c.execute("quit", NONE).unwrap();
    assert_eq!(c.pending(), 5);
    wire.push_str(&take_tx(&mut c));
    for line in &lines[2..] {
        transcript.extend(feed(&mut c, line));
    }
    c.handle_eof();
    transcript.extend(drain(&mut c));
    assert_eq!(wire.as_bytes(), &sent_by_reference[..]);
    assert_eq!(
        transcript,
        [
            "greeting 0.1.0",
            "negotiated oob=true",
            r#"response __qmp#00000 return {"qemu":{"micro":0,"minor":1,"major":0},"package":"stub-server"}"#,
            "response __qmp#00001 error CommandNotFound",
            "event STUB_EVENT",
            "response __qmp#00002 return {}",
            r#"response __qmp#00003 return {"qemu":{"micro":0,"minor":1,"major":0},"package":"stub-server"}"#,
            "response __qmp#00004 return {}",
            "closed",
        ]
    );
}

/// The first qsd session, as QEMU sent it, fed to a fresh client: it negotiates nothing
/// (the replies are to another client's commands), and the first id-less error, which a
/// client takes as the answer to its id-less `qmp_capabilities`, fails negotiation.
#[test]
fn qsd_first_session_into_a_fresh_client() {
    let cap = Capture::load("qsd");
    let (mut rx, mut tx) = (vec![0u8; 1 << 20], [0u8; 256]);
    let mut c = Client::<8>::new(&mut rx, &mut tx, ClientConfig::new()).unwrap();
    let messages = cap.messages();
    let mut transcript = feed(&mut c, messages[0]);
    assert_eq!(
        take_tx(&mut c),
        r#"{"execute":"qmp_capabilities","arguments":{"enable":["oob"]}}"#
    );
    for m in &messages[1..6] {
        transcript.extend(feed(&mut c, m));
    }
    assert_eq!(
        transcript,
        [
            "greeting 10.0.2",
            r#"unmatched UnknownId "pre-1""#,
            r#"unmatched UnknownId "pre-2""#,
            r#"unmatched UnknownId "pre-3""#,
            r#"negotiation failed {"error":{"class":"CommandNotFound","desc":"Expecting capabilities negotiation with 'qmp_capabilities'"}}"#,
            "closed",
        ]
    );
    assert_eq!(c.state(), ClientState::Closed);
}

/// The whole qsd stream, in uneven chunks, into a negotiated client: every message is
/// classified as the capture's own metadata says, and nothing is fatal.
#[test]
fn qsd_stream_into_a_negotiated_client() {
    let cap = Capture::load("qsd");
    let mut expected = Vec::new();
    for (i, m) in cap.expect.iter().enumerate() {
        let kind = m["kind"].as_str().unwrap();
        let strict = m["strict_json"].as_bool().unwrap();
        let has_id = m["id_present"].as_bool().unwrap();
        expected.push(match (kind, strict, has_id) {
            (_, false, _) => "parse".to_string(),
            ("greeting", ..) if i == 0 => "greeting".to_string(),
            ("greeting", ..) => "violation greeting".to_string(),
            ("event", ..) => "event".to_string(),
            (_, _, true) => "unmatched UnknownId".to_string(),
            (_, _, false) => "unmatched MissingId".to_string(),
        });
    }
    let messages = cap.messages();
    let rest = &cap.stream[messages[0].len()..];
    for chunk in [1usize, 7, 4096, 1 << 20] {
        let (mut rx, mut tx) = (vec![0u8; 300_000], [0u8; 256]);
        let mut c = Client::<8>::new(&mut rx, &mut tx, ClientConfig::new()).unwrap();
        // The greeting, then our own qmp_capabilities answered as QEMU answers it.
        let mut got = vec![c.handle_frame(messages[0]).map(|e| describe(&e)).unwrap()];
        got[0] = got[0].split(' ').next().unwrap().to_string();
        take_tx(&mut c);
        let n = c.handle_frame(b"{\"return\": {}}").map(|e| describe(&e));
        assert_eq!(n.as_deref(), Some("negotiated oob=true"));
        for piece in rest.chunks(chunk) {
            let mut rest = piece;
            while !rest.is_empty() {
                let n = c.handle_input(rest);
                rest = &rest[n..];
                while let Some(e) = c.poll_event() {
                    let d = describe(&e);
                    got.push(match e {
                        ClientEvent::Event(_) => "event".to_string(),
                        ClientEvent::Unmatched { reason, .. } => format!("unmatched {reason:?}"),
                        ClientEvent::Violation(Violation::Parse(_)) => "parse".to_string(),
                        _ => d,
                    });
                }
            }
        }
        assert_eq!(got.len(), expected.len(), "chunk {chunk}");
        assert!(got == expected, "chunk {chunk}: transcripts differ");
    }
}

#[test]
fn events_before_and_during_negotiation_are_delivered() {
    let (mut rx, mut tx) = ([0u8; 512], [0u8; 128]);
    let mut c = Client::<8>::new(&mut rx, &mut tx, ClientConfig::new()).unwrap();
    let ev = |n: &str| {
        format!(
            "{{\"timestamp\": {{\"seconds\": 1, \"microseconds\": 2}}, \"event\": \"{n}\"}}\r\n"
        )
    };
    let mut input = ev("EARLY").into_bytes();
    input.extend_from_slice(GREETING_PLAIN);
    input.extend(ev("STOP").into_bytes());
    input.extend_from_slice(b"{\"return\": {}}\r\n");
    input.extend(ev("RESUME").into_bytes());
    let t = feed(&mut c, &input);
    assert_eq!(take_tx(&mut c), r#"{"execute":"qmp_capabilities"}"#);
    assert_eq!(
        t,
        [
            "event EARLY",
            "greeting 10.0.2",
            "event STOP",
            "negotiated oob=false",
            "event RESUME"
        ]
    );
    assert_eq!(c.execute_oob("x", NONE), Err(ClientError::OobNotNegotiated));
}

#[test]
fn requests_before_negotiation_are_refused() {
    let (mut rx, mut tx) = ([0u8; 512], [0u8; 128]);
    let mut c = Client::<8>::new(&mut rx, &mut tx, ClientConfig::new().with_oob(false)).unwrap();
    assert_eq!(c.execute("x", NONE), Err(ClientError::NotReady));
    feed(&mut c, GREETING_OOB);
    assert_eq!(take_tx(&mut c), r#"{"execute":"qmp_capabilities"}"#);
    assert_eq!(c.execute("x", NONE), Err(ClientError::NotReady));
    assert_eq!(c.next_id(), 0, "refused requests use no id");
}

#[test]
fn responses_match_by_id_value_not_order() {
    let (mut rx, mut tx) = ([0u8; 1024], [0u8; 512]);
    let mut c = ready::<8>(&mut rx, &mut tx, ClientConfig::new());
    let a = c.execute("a", NONE).unwrap();
    let b = c.execute("b", NONE).unwrap();
    let o = c.execute_oob("o", NONE).unwrap();
    assert_eq!((a, b, o), (Id::new(0), Id::new(1), Id::new(2)));
    assert_eq!(
        take_tx(&mut c),
        r#"{"execute":"a","id":"__qmp#00000"}{"execute":"b","id":"__qmp#00001"}{"exec-oob":"o","id":"__qmp#00002"}"#
    );
    let t = feed(
        &mut c,
        concat!(
            "{\"return\": {}, \"id\": \"__qmp#00002\"}\r\n",
            // QEMU re-escapes ids; the value still matches.
            "{\"id\": \"\\u005f_qmp#0000\\u0031\", \"error\": {\"class\": \"GenericError\", \"desc\": \"x\"}}\r\n",
            "{\"return\": 5, \"id\": \"__qmp#00000\"}\r\n",
            "{\"return\": 5, \"id\": \"__qmp#00000\"}\r\n",
        )
        .as_bytes(),
    );
    assert_eq!(
        t,
        [
            "response __qmp#00002 return {}",
            "response __qmp#00001 error GenericError",
            "response __qmp#00000 return 5",
            r#"unmatched UnknownId "__qmp#00000""#,
        ]
    );
    assert_eq!(c.pending(), 0);
}

#[test]
fn unknown_missing_and_odd_ids_are_reported_not_fatal() {
    let (mut rx, mut tx) = ([0u8; 1024], [0u8; 512]);
    let mut c = ready::<8>(&mut rx, &mut tx, ClientConfig::new());
    let id = c.execute("x", NONE).unwrap();
    let t = feed(
        &mut c,
        concat!(
            "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, expecting value\"}}\r\n",
            "{\"return\": {}, \"id\": [1, 2]}\r\n",
            "{\"return\": {}, \"id\": {\"a\": \"__qmp#00000\"}}\r\n",
            "{\"return\": {}, \"id\": \"__qmp#0\"}\r\n",
            "{\"return\": {}, \"id\": 0}\r\n",
            "{\"return\": {}}\r\n",
            "not json\r\n",
            "[1]\r\n",
            "\r\n",
            "{\"execute\": \"x\"}\r\n",
            "{\"what\": 1}\r\n",
            "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n",
            "{\"event\": \"X\"}\r\n",
            "{\"event\": 1}\r\n",
            "{\"return\": true, \"id\": \"__qmp#00000\"}\r\n",
        )
        .as_bytes(),
    );
    assert_eq!(
        t,
        [
            "unmatched MissingId ",
            "unmatched UnknownId [1,2]",
            r#"unmatched UnknownId {"a":"__qmp#00000"}"#,
            r#"unmatched UnknownId "__qmp#0""#,
            "unmatched UnknownId 0",
            "unmatched MissingId ",
            "violation parse Failed to deserialize QMP message: invalid literal at byte 1",
            "violation parse QMP message is not a JSON object (found array)",
            r#"violation message {"execute":"x"}"#,
            r#"violation message {"what":1}"#,
            "violation greeting",
            "event X",
            "violation model 'Event' member 'event' must be a string",
            "response __qmp#00000 return true",
        ]
    );
    assert_eq!(id, Id::new(0));
    assert_eq!(c.state(), ClientState::Ready);
}

#[test]
fn a_full_pending_table_refuses_without_panicking() {
    let (mut rx, mut tx) = ([0u8; 1024], [0u8; 512]);
    let mut c = ready::<2>(&mut rx, &mut tx, ClientConfig::new());
    c.execute("a", NONE).unwrap();
    c.execute("b", NONE).unwrap();
    assert_eq!(c.execute("c", NONE), Err(ClientError::TooManyPending));
    assert_eq!(c.next_id(), 2);
    feed(&mut c, b"{\"return\": {}, \"id\": \"__qmp#00001\"}\r\n");
    assert_eq!(c.execute("c", NONE), Ok(Id::new(2)));
    assert!(c.is_pending(Id::new(0)) && c.is_pending(Id::new(2)) && !c.is_pending(Id::new(1)));
}

#[test]
fn a_full_transmit_buffer_refuses_and_uses_no_id() {
    let (mut rx, mut tx) = ([0u8; 1024], [0u8; 64]);
    let mut c = ready::<8>(&mut rx, &mut tx, ClientConfig::new());
    let big = validate_json(br#"{"data": "0123456789012345678901234567890123456789"}"#).unwrap();
    let required = Request::execute("x")
        .with_arguments(big)
        .with_id(Id::new(0))
        .encoded_len()
        .unwrap();
    assert!(required > 64);
    assert_eq!(
        c.execute("x", Some(big)),
        Err(ClientError::Encode(EncodeError::BufferTooSmall {
            required
        }))
    );
    c.execute("abcdefghijklmnopqrstuvwxyz", NONE).unwrap();
    assert!(matches!(
        c.execute("abcdefghijklmnopqrstuvwxyz", NONE),
        Err(ClientError::Encode(_))
    ));
    assert_eq!(c.next_id(), 1);
    assert_eq!(
        take_tx(&mut c),
        r#"{"execute":"abcdefghijklmnopqrstuvwxyz","id":"__qmp#00000"}"#
    );
    assert_eq!(
        c.execute("abcdefghijklmnopqrstuvwxyz", NONE),
        Ok(Id::new(1))
    );
    assert!(Client::<8>::new(&mut [0u8; 8], &mut [0u8; 60], ClientConfig::new()).is_err());
}

#[test]
fn deadlines_are_data() {
    let (mut rx, mut tx) = ([0u8; 1024], [0u8; 512]);
    let mut c = ready::<8>(&mut rx, &mut tx, ClientConfig::new());
    let slow = c.send(Request::execute("slow"), Some(100)).unwrap();
    let fast = c.send(Request::execute("fast"), Some(50)).unwrap();
    let never = c.execute("never", NONE).unwrap();
    assert_eq!(c.poll_timeout(), Some(50));
    c.handle_timeout(49);
    assert!(drain(&mut c).is_empty());
    c.handle_timeout(60);
    assert_eq!(drain(&mut c), [format!("timed out {fast}")]);
    assert_eq!(c.poll_timeout(), Some(100));
    let t = feed(&mut c, b"{\"return\": {}, \"id\": \"__qmp#00001\"}\r\n{\"return\": {}, \"id\": \"__qmp#00000\"}\r\n");
    assert_eq!(
        t,
        [
            r#"unmatched UnknownId "__qmp#00001""#.to_string(),
            format!("response {slow} return {{}}")
        ]
    );
    assert_eq!(c.poll_timeout(), None);
    c.handle_timeout(u64::MAX);
    assert!(drain(&mut c).is_empty());
    assert!(c.is_pending(never));
}

#[test]
fn closing_interrupts_every_pending_request() {
    let (mut rx, mut tx) = ([0u8; 1024], [0u8; 512]);
    let mut c = ready::<8>(&mut rx, &mut tx, ClientConfig::new());
    let a = c.execute("a", NONE).unwrap();
    let b = c.execute("b", NONE).unwrap();
    c.close();
    assert_eq!(c.pending_transmit(), b"", "queued output is dropped");
    assert_eq!(
        drain(&mut c),
        [
            format!("interrupted {a}"),
            format!("interrupted {b}"),
            "closed".into()
        ]
    );
    assert_eq!(c.execute("c", NONE), Err(ClientError::Closed));
    assert!(feed(&mut c, b"{\"return\": {}, \"id\": \"__qmp#00000\"}\r\n").is_empty());
}

#[test]
fn end_of_stream_delivers_buffered_frames_then_closes() {
    let (mut rx, mut tx) = ([0u8; 1024], [0u8; 512]);
    let mut c = ready::<8>(&mut rx, &mut tx, ClientConfig::new());
    let a = c.execute("a", NONE).unwrap();
    let b = c.execute("b", NONE).unwrap();
    // The last line lacks its terminator: the end of stream completes it.
    let last = b"{\"return\": {}, \"id\": \"__qmp#00001\"}";
    assert_eq!(c.handle_input(last), last.len());
    c.handle_eof();
    assert_eq!(
        drain(&mut c),
        [
            format!("response {b} return {{}}"),
            format!("interrupted {a}"),
            "closed".into()
        ]
    );
    assert_eq!(c.handle_input(b"more"), 0);
}

#[test]
fn pretty_monitors_with_the_stream_dialect() {
    let cap = Capture::load("qsd-pretty");
    let (mut rx, mut tx) = (vec![0u8; 1 << 20], [0u8; 256]);
    let config = ClientConfig::new().with_dialect(Dialect::Stream);
    let mut c = Client::<8>::new(&mut rx, &mut tx, config).unwrap();
    let first = cap.messages()[0];
    assert_eq!(feed(&mut c, first), ["greeting 10.0.2"]);
}

#[test]
fn frames_from_a_foreign_framer() {
    let (mut rx, mut tx) = ([0u8; 0], [0u8; 128]);
    let mut c = Client::<8>::new(&mut rx, &mut tx, ClientConfig::new()).unwrap();
    let g = c.handle_frame(GREETING_OOB).map(|e| describe(&e));
    assert_eq!(g.as_deref(), Some("greeting 10.0.2"));
    assert_eq!(take_tx(&mut c).len(), 61);
    let n = c.handle_frame(b"{\"return\": {}}").map(|e| describe(&e));
    assert_eq!(n.as_deref(), Some("negotiated oob=true"));
}

#[test]
fn a_too_long_line_is_a_violation_and_the_next_one_works() {
    let (mut rx, mut tx) = ([0u8; 128], [0u8; 128]);
    let mut c = ready::<8>(&mut rx, &mut tx, ClientConfig::new());
    let mut input = vec![b'x'; 300];
    input.extend_from_slice(
        b"\r\n{\"event\": \"E\", \"timestamp\": {\"seconds\": 0, \"microseconds\": 0}}\r\n",
    );
    let t = feed(&mut c, &input);
    assert_eq!(t.len(), 2);
    assert!(t[0].starts_with("violation frame frame at offset"), "{t:?}");
    assert_eq!(t[1], "event E");
}

/// A reply too long for the receive buffer while requests wait ends the oldest of them
/// (`Refused`: that reply may have been its own), and the others still get theirs. The
/// hostile-input property test below found that it had not counted this end.
#[test]
fn a_refused_reply_ends_the_oldest_request() {
    let (mut rx, mut tx) = ([0u8; 128], [0u8; 256]);
    let mut c = ready::<8>(&mut rx, &mut tx, ClientConfig::new());
    let first = c.execute("a", NONE).unwrap();
    let second = c.execute("b", NONE).unwrap();
    take_tx(&mut c);
    let mut long = b"{\"return\": \"".to_vec();
    long.extend_from_slice(&[b'x'; 200]);
    long.extend_from_slice(b"\", \"id\": \"__qmp#00000\"}\r\n");
    let t = feed(&mut c, &long);
    assert_eq!(t.len(), 1, "{t:?}");
    assert!(
        t[0].starts_with(&format!("Refused {{ id: Id(\"{first}\")")),
        "{t:?}"
    );
    let t = feed(
        &mut c,
        format!("{{\"return\": {{}}, \"id\": \"{second}\"}}\r\n").as_bytes(),
    );
    assert_eq!(t, [format!("response {second} return {{}}")]);
}

#[test]
fn ids_continue_on_a_new_connection() {
    let (mut rx, mut tx) = ([0u8; 1024], [0u8; 256]);
    let mut c = ready::<8>(&mut rx, &mut tx, ClientConfig::new().with_first_id(99_999));
    assert_eq!(c.execute("a", NONE).unwrap().as_str(), "__qmp#99999");
    assert_eq!(c.execute("b", NONE).unwrap().as_str(), "__qmp#100000");
    assert_eq!(c.next_id(), 100_001);
    let _ = Unmatched::MissingId;
}

mod hostile {
    use super::*;
    use proptest::prelude::*;

    fn input() -> impl Strategy<Value = Vec<u8>> {
        let token = prop_oneof![
            Just(GREETING_OOB.to_vec()),
            Just(b"{\"return\": {}}\r\n".to_vec()),
            Just(b"{\"return\": {}, \"id\": \"__qmp#00000\"}\r\n".to_vec()),
            Just(
                b"{\"id\": \"__qmp#00001\", \"error\": {\"class\": \"X\", \"desc\": \"y\"}}\r\n"
                    .to_vec()
            ),
            Just(b"{\"error\": {}}\r\n".to_vec()),
            Just(
                b"{\"event\": \"E\", \"timestamp\": {\"seconds\": 1, \"microseconds\": 1}}\r\n"
                    .to_vec()
            ),
            Just(b"\r\n".to_vec()),
            prop::collection::vec(any::<u8>(), 0..12),
        ];
        prop::collection::vec(token, 0..30).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any input and any calls: no panic, and every request ends exactly once (a
        /// response, a timeout, an interruption, or a refusal: a frame over a limit while
        /// requests wait fails the oldest of them).
        #[test]
        fn the_client_survives_anything(bytes in input(), chunk in 1usize..64, rx_len in 1usize..300, dialect in any::<bool>()) {
            let (mut rx, mut tx) = (vec![0u8; rx_len], vec![0u8; 256]);
            let config = ClientConfig::new().with_dialect(if dialect { Dialect::Stream } else { Dialect::Lines });
            let mut c = Client::<2>::new(&mut rx, &mut tx, config).unwrap();
            let mut sent = std::collections::BTreeSet::new();
            let mut ended = Vec::new();
            let mut closed = false;
            for (i, piece) in bytes.chunks(chunk).enumerate() {
                let mut rest = piece;
                while !rest.is_empty() {
                    let n = c.handle_input(rest);
                    rest = &rest[n..];
                    while let Some(e) = c.poll_event() {
                        match e {
                            ClientEvent::Response(r) => ended.push(r.id()),
                            ClientEvent::TimedOut(id) | ClientEvent::Interrupted(id) => ended.push(id),
                            ClientEvent::Refused { id, .. } => ended.push(id),
                            ClientEvent::Closed => closed = true,
                            _ => {}
                        }
                    }
                    take_tx(&mut c);
                    if let Ok(id) = c.send(Request::execute("x"), Some(i as u64 + 3)) {
                        sent.insert(id);
                    }
                    if n == 0 && rest.len() == piece.len() && c.state() == ClientState::Closed {
                        break;
                    }
                }
                c.handle_timeout(i as u64);
            }
            c.close();
            while let Some(e) = c.poll_event() {
                match e {
                    ClientEvent::Response(r) => ended.push(r.id()),
                    ClientEvent::TimedOut(id) | ClientEvent::Interrupted(id) => ended.push(id),
                    ClientEvent::Refused { id, .. } => ended.push(id),
                    ClientEvent::Closed => closed = true,
                    _ => {}
                }
            }
            prop_assert!(closed);
            let mut sorted = ended.clone();
            sorted.sort();
            sorted.dedup();
            prop_assert_eq!(sorted.len(), ended.len(), "a request ended twice");
            prop_assert_eq!(sorted.into_iter().collect::<std::collections::BTreeSet<_>>(), sent);
        }
    }
}
