//! Transcript tests of the sans-IO server: real client bytes, and QEMU's own answers to the
//! qsd capture's cases.

mod common;

use common::{case_bytes, read_data, Capture};
use qmp_codec::encode::EncodeError;
use qmp_codec::encode::{validate_json, EmptyObject};
use qmp_codec::server::{InputError, Server, ServerConfig, ServerEvent, ServerState};
use qmp_codec::{Kind, Message, Timestamp, Version};

const PACKAGE: &str = "Debian 1:10.0.2+ds-2+deb13u1~bpo12+1";
const QSD: Version = Version {
    major: 10,
    minor: 0,
    micro: 2,
};

fn take_tx(s: &mut Server<'_>) -> Vec<u8> {
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    while let Some(n) = s.poll_transmit(&mut buf) {
        all.extend_from_slice(&buf[..n]);
    }
    all
}

fn describe(e: &ServerEvent<'_>) -> String {
    match e {
        ServerEvent::Command(c) => format!(
            "command {}{}",
            c.name(),
            if c.is_oob() { " oob" } else { "" }
        ),
        ServerEvent::Negotiated { oob } => format!("negotiated oob={oob}"),
        ServerEvent::Rejected { error, .. } => format!("rejected {error}"),
        ServerEvent::ReplyTooLarge { required } => format!("too large {required}"),
        ServerEvent::Closed => "closed".into(),
        other => format!("{other:?}"),
    }
}

/// The bytes `qemu.qmp` sent to a stub server, fed to our server acting as that stub: the
/// output must be the stub's bytes exactly (its replies are QEMU-formatted).
#[test]
fn replays_the_reference_client_against_our_server() {
    let from_client = read_data("corpus/qemu.qmp-client/received.bin");
    let from_stub = read_data("corpus/qemu.qmp-client/sent.bin");
    let (mut rx, mut tx) = ([0u8; 512], [0u8; 1024]);
    let config = ServerConfig::new(
        Version {
            major: 0,
            minor: 1,
            micro: 0,
        },
        "stub-server",
    );
    let mut s = Server::new(&mut rx, &mut tx, config).unwrap();
    let version = validate_json(
        br#"{"qemu": {"micro": 0, "minor": 1, "major": 0}, "package": "stub-server"}"#,
    )
    .unwrap();
    let mut transcript = Vec::new();
    // Byte by byte: the client sends no newlines, framing is by braces.
    for b in &from_client {
        assert_eq!(s.handle_input(std::slice::from_ref(b)), 1);
        while let Some(mut e) = s.poll_event() {
            transcript.push(describe(&e));
            let ServerEvent::Command(c) = &mut e else {
                continue;
            };
            match c.name().to_cow().as_ref() {
                "query-version" => c.respond(version).unwrap(),
                "emit-event" => {
                    // Answered after the event below.
                }
                "quit" => c.respond_empty().unwrap(),
                other => c
                    .respond_error(
                        "CommandNotFound",
                        format_args!("The command {other} has not been found"),
                    )
                    .unwrap(),
            }
            if c.name() == "emit-event" {
                let id = c.id().unwrap().raw().to_vec();
                let _ = e; // the event borrows the server until here
                let data = validate_json("{\"n\": 1, \"text\": \"café\"}".as_bytes()).unwrap();
                let ts = Timestamp {
                    seconds: 1795985090,
                    microseconds: 542255,
                };
                assert_eq!(s.emit_event("STUB_EVENT", Some(data), ts), Ok(true));
                let id = validate_json(&id).unwrap();
                s.respond(Some(id), Ok::<_, (&str, &str)>(EmptyObject))
                    .unwrap();
            }
        }
    }
    s.handle_eof();
    while let Some(e) = s.poll_event() {
        transcript.push(describe(&e));
    }
    // The stub wrote its event with Python's `json.dumps` (lowercase `\u00e9`); QEMU, and so
    // our server, write uppercase hex.
    let from_stub = String::from_utf8(from_stub)
        .unwrap()
        .replace("caf\\u00e9", "caf\\u00E9");
    assert_eq!(String::from_utf8_lossy(&take_tx(&mut s)), from_stub);
    assert_eq!(
        transcript,
        [
            "negotiated oob=true",
            "command query-version",
            "command nope",
            "command emit-event",
            "command query-version oob",
            "command quit",
            "closed",
        ]
    );
}

/// What our server answers differently from QEMU in the qsd capture, and why.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    (
        "id-float-overflow-1e400",
        "QEMU echoes the invalid token `inf`; we keep `1e400`",
    ),
    (
        "id-float-neg-overflow-1e400",
        "QEMU echoes `-inf`; we keep `-1e400`",
    ),
    ("id-str-single-quoted", "QEMU accepts single-quoted strings"),
    (
        "id-str-escaped-single-quote-in-double",
        "QEMU accepts the escape \\'",
    ),
    (
        "id-object-key-order",
        "QEMU reorders object members by hash",
    ),
    (
        "id-object-many-keys",
        "QEMU reorders object members by hash",
    ),
    (
        "id-nested-1100",
        "QEMU answers each of the 1,100 closing brackets; we send one error",
    ),
    (
        "single-quoted-command",
        "QEMU accepts single-quoted strings",
    ),
];

/// Replays every case of the qsd capture into our server. We play QEMU's command
/// implementations by answering each command with QEMU's recorded answer (and emitting its
/// recorded events); everything else (greeting, negotiation, parse and member errors) is
/// our server's own, and must be byte for byte what QEMU sent.
#[test]
fn qsd_cases_are_answered_like_qemu() {
    let cap = Capture::load("qsd");
    let messages = cap.messages();
    let mut rx = vec![0u8; 1 << 20];
    let mut tx = vec![0u8; 1 << 20];
    let caps = ["oob"];
    let config = ServerConfig::new(QSD, PACKAGE).with_capabilities(&caps);
    let mut server: Option<Server<'_>> = None;
    let mut session = String::new();
    let mut differ = Vec::new();
    let mut self_answered = 0;
    let mut compared = 0;
    for case in &cap.cases {
        let name = case["name"].as_str().unwrap();
        let case_session = case["session"].as_str().unwrap();
        if case_session != session {
            session = case_session.to_string();
            let _ = server.take(); // ends the old session's borrow of the buffers
            server = Some(Server::new(&mut rx, &mut tx, config).unwrap());
        }
        let s = server.as_mut().unwrap();
        let mut expected: std::collections::VecDeque<&[u8]> = case["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| messages[i.as_u64().unwrap() as usize])
            .collect();
        let want: Vec<u8> = expected.iter().flat_map(|m| m.iter().copied()).collect();
        let bytes = case_bytes(case);
        let mut rest = &bytes[..];
        loop {
            let n = s.handle_input(rest);
            rest = &rest[n..];
            while let Some(e) = s.poll_event() {
                let command_id = match &e {
                    ServerEvent::Command(c) => Some(c.id().map(|v| v.raw().to_vec())),
                    ServerEvent::Closed => None,
                    _ => {
                        self_answered += 1;
                        expected.pop_front();
                        None
                    }
                };
                let _ = e; // the event borrows the server until here
                let Some(id) = command_id else { continue };
                // Answer as QEMU did: its events first, then its reply.
                loop {
                    let m = expected.pop_front().expect("QEMU answered this command");
                    let Ok(msg) = Message::parse(m) else {
                        // `{"return": [], "id": inf}`: QEMU's reply is not JSON.
                        let id = id.as_deref().map(|raw| validate_json(raw).unwrap());
                        let empty = validate_json(b"[]").unwrap();
                        s.respond(id, Ok::<_, (&str, &str)>(empty)).unwrap();
                        break;
                    };
                    if msg.kind() == Kind::Event {
                        emit(s, msg);
                        continue;
                    }
                    let id = id.as_deref().map(|raw| validate_json(raw).unwrap());
                    if let Some(ret) = msg.get("return") {
                        s.respond(id, Ok::<_, (&str, &str)>(ret)).unwrap();
                    } else {
                        let err = msg.get("error").unwrap();
                        let class = err.get("class").unwrap().as_str().unwrap().to_cow();
                        let desc = err.get("desc").unwrap().as_str().unwrap().to_cow();
                        s.respond(id, Err::<EmptyObject, _>((&class, &desc)))
                            .unwrap();
                    }
                    break;
                }
            }
            if rest.is_empty() {
                break;
            }
        }
        // Events QEMU sent after its last reply.
        while let Some(m) = expected.pop_front() {
            match Message::parse(m) {
                Ok(msg) if msg.kind() == Kind::Event => emit(s, msg),
                _ => {} // an answer of QEMU's that we did not give: the comparison shows it
            }
        }
        let got = take_tx(s);
        compared += 1;
        if got != want {
            differ.push(name.to_string());
        }
    }
    let known: Vec<&str> = KNOWN_DIFFERENCES.iter().map(|(n, _)| *n).collect();
    assert_eq!(differ, known);
    assert!(
        compared > 180 && self_answered > 40,
        "{compared} {self_answered}"
    );
}

/// Emits a recorded QEMU event through our server.
fn emit(s: &mut Server<'_>, msg: Message<'_>) {
    let event = qmp_codec::Event::new(msg).unwrap();
    let name = event.name().to_cow();
    let ts = event.timestamp().unwrap();
    assert_eq!(s.emit_event(&name, event.data(), ts), Ok(true));
}

fn drain(s: &mut Server<'_>) -> Vec<String> {
    let mut out = Vec::new();
    while let Some(mut e) = s.poll_event() {
        out.push(describe(&e));
        if let ServerEvent::Command(c) = &mut e {
            c.respond_empty().unwrap();
        }
    }
    out
}

fn lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8(bytes.to_vec())
        .unwrap()
        .split_inclusive("\r\n")
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_session_transcript() {
    let (mut rx, mut tx) = ([0u8; 1024], [0u8; 4096]);
    let mut s = Server::new(&mut rx, &mut tx, ServerConfig::new(QSD, "")).unwrap();
    let ts = Timestamp {
        seconds: 1,
        microseconds: 2,
    };
    assert_eq!(
        s.emit_event("EARLY", None::<EmptyObject>, ts),
        Ok(false),
        "dropped before negotiation"
    );
    s.handle_input(br#"{"execute":"stop","id":1}{"exec-oob":"x"}{"execute":"qmp_capabilities","arguments":{"enable":["oob"]},"id":"c"}"#);
    s.handle_input(br#"{"execute":"qmp_capabilities"}{"exec-oob":"x","id":2}{"execute":"a","exec-oob":"b","id":3}[]{"execute":"a"} }"#);
    let events = drain(&mut s);
    assert_eq!(s.emit_event("STOP", None::<EmptyObject>, ts), Ok(true));
    s.handle_eof();
    let mut events2 = events.clone();
    events2.extend(drain(&mut s));
    assert_eq!(
        events2,
        [
            "rejected Expecting capabilities negotiation with 'qmp_capabilities'",
            "rejected QMP input member 'exec-oob' is unexpected",
            "negotiated oob=true",
            "rejected Capabilities negotiation is already complete, command ignored",
            "command x oob",
            "rejected QMP input member 'exec-oob' clashes with 'execute'",
            "rejected QMP input must be a JSON object",
            "command a",
            "rejected JSON parse error, expecting value",
            "closed",
        ]
    );
    assert_eq!(s.state(), ServerState::Closed);
    assert_eq!(
        lines(&take_tx(&mut s)),
        [
            "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 2, \"minor\": 0, \"major\": 10}, \"package\": \"\"}, \"capabilities\": [\"oob\"]}}\r\n",
            "{\"id\": 1, \"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Expecting capabilities negotiation with 'qmp_capabilities'\"}}\r\n",
            "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input member 'exec-oob' is unexpected\"}}\r\n",
            "{\"return\": {}, \"id\": \"c\"}\r\n",
            "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Capabilities negotiation is already complete, command ignored\"}}\r\n",
            "{\"return\": {}, \"id\": 2}\r\n",
            "{\"id\": 3, \"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input member 'exec-oob' clashes with 'execute'\"}}\r\n",
            "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input must be a JSON object\"}}\r\n",
            "{\"return\": {}}\r\n",
            "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, expecting value\"}}\r\n",
            "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"STOP\"}\r\n",
        ]
    );
}

#[test]
fn capabilities_are_checked_like_qemu() {
    let cases: [(&str, &[&str], &str); 8] = [
        (
            r#"{"enable":["oob"]}"#,
            &[],
            "rejected Capability oob not available",
        ),
        (
            r#"{"enable":["oob","oob"]}"#,
            &[],
            "rejected Capability oob, oob not available",
        ),
        (
            r#"{"enable":["bogus"]}"#,
            &["oob"],
            "rejected Parameter 'null' does not accept value 'bogus'",
        ),
        (
            r#"{"enable":"oob"}"#,
            &["oob"],
            "rejected Invalid parameter type for 'enable', expected: array",
        ),
        (
            r#"{"enable":null}"#,
            &["oob"],
            "rejected Invalid parameter type for 'enable', expected: array",
        ),
        (
            r#"{"enable":["oob",1]}"#,
            &["oob"],
            "rejected Invalid parameter type for 'enable[1]', expected: string",
        ),
        (
            r#"{"enable":[],"x":1}"#,
            &["oob"],
            "rejected Parameter 'x' is unexpected",
        ),
        (r#"{"enable":[]}"#, &[], "negotiated oob=false"),
    ];
    for (args, offered, want) in cases {
        let (mut rx, mut tx) = ([0u8; 512], [0u8; 1024]);
        let config = ServerConfig::new(QSD, "").with_capabilities(offered);
        let mut s = Server::new(&mut rx, &mut tx, config).unwrap();
        s.handle_input(
            format!(r#"{{"execute":"qmp_capabilities","arguments":{args}}}"#).as_bytes(),
        );
        assert_eq!(drain(&mut s), [want], "{args}");
    }
}

#[test]
fn input_error_texts() {
    let e = InputError::Stray {
        token: b"\"a\xffb\x00c",
    };
    assert_eq!(e.to_string(), "JSON parse error, stray '\"a\u{FFFD}b'");
    assert_eq!(InputError::NotNegotiated.class(), "CommandNotFound");
    assert_eq!(InputError::TooLong.class(), "GenericError");
}

#[test]
fn a_full_transmit_buffer_blocks_then_resumes() {
    let greeting_len = 111;
    let (mut rx, mut tx) = (vec![0u8; 512], vec![0u8; greeting_len + 40]);
    let mut s = Server::new(&mut rx, &mut tx, ServerConfig::new(QSD, "")).unwrap();
    assert_eq!(s.pending_transmit().len(), greeting_len);
    s.handle_input(b"{\"execute\":\"x\",\"id\":\"some-long-id\"} @");
    assert!(s.poll_event().is_none());
    assert!(s.is_blocked());
    let greeting = take_tx(&mut s);
    assert_eq!(greeting.len(), greeting_len);
    assert_eq!(
        drain(&mut s),
        ["rejected Expecting capabilities negotiation with 'qmp_capabilities'"]
    );
    // The stray `@` is answered once there is room again.
    assert!(s.is_blocked());
    take_tx(&mut s);
    assert_eq!(drain(&mut s), ["rejected JSON parse error, stray '@'"]);
}

#[test]
fn answers_that_can_never_fit_are_dropped_and_reported() {
    let (mut rx, mut tx) = (vec![0u8; 1024], vec![0u8; 200]);
    let mut s = Server::new(&mut rx, &mut tx, ServerConfig::new(QSD, "")).unwrap();
    take_tx(&mut s);
    let id = "x".repeat(300);
    s.handle_input(
        format!(r#"{{"execute":"stop","id":"{id}"}}{{"execute":"qmp_capabilities"}}"#).as_bytes(),
    );
    let events = drain(&mut s);
    assert_eq!(events.len(), 2);
    assert!(events[0].starts_with("too large 4"), "{events:?}");
    assert_eq!(events[1], "negotiated oob=false");
}

#[test]
fn a_command_answer_waits_for_room() {
    let (mut rx, mut tx) = (vec![0u8; 1024], vec![0u8; 130]);
    let mut s = Server::new(&mut rx, &mut tx, ServerConfig::new(QSD, "")).unwrap();
    take_tx(&mut s);
    s.handle_input(br#"{"execute":"qmp_capabilities"}{"execute":"big","id":7}"#);
    assert_eq!(
        s.poll_event().map(|e| describe(&e)).as_deref(),
        Some("negotiated oob=false")
    );
    let mut e = s.poll_event().unwrap();
    let ServerEvent::Command(c) = &mut e else {
        panic!()
    };
    let text = format!(r#""{}""#, "v".repeat(90));
    let value = validate_json(text.as_bytes()).unwrap();
    let required = match c.respond(value) {
        Err(EncodeError::BufferTooSmall { required }) => required,
        other => panic!("{other:?}"),
    };
    assert_eq!(required, 115);
    let mut flushed = [0u8; 64];
    assert_eq!(c.poll_transmit(&mut flushed), Some(16));
    assert_eq!(&flushed[..16], b"{\"return\": {}}\r\n");
    c.respond(value).unwrap();
    let _ = e; // the event borrows the server until here
    assert_eq!(take_tx(&mut s).len(), 115);
}

#[test]
fn end_of_stream_drops_an_unfinished_request() {
    let (mut rx, mut tx) = (vec![0u8; 1024], vec![0u8; 1024]);
    let mut s = Server::new(&mut rx, &mut tx, ServerConfig::new(QSD, "")).unwrap();
    take_tx(&mut s);
    s.handle_input(br#"{"execute":"qmp_capabilities"} {"execute": "x", "#);
    s.handle_eof();
    assert_eq!(drain(&mut s), ["negotiated oob=false", "closed"]);
    assert_eq!(take_tx(&mut s), b"{\"return\": {}}\r\n");
    assert!(s.poll_event().is_none());
    assert_eq!(s.handle_input(b"{}"), 0);
}

#[test]
fn close_ends_the_session() {
    let (mut rx, mut tx) = (vec![0u8; 1024], vec![0u8; 1024]);
    let mut s = Server::new(&mut rx, &mut tx, ServerConfig::new(QSD, "")).unwrap();
    s.handle_input(br#"{"execute":"qmp_capabilities"}"#);
    s.close();
    assert_eq!(drain(&mut s), ["closed"]);
    assert!(take_tx(&mut s).is_empty());
    assert!(Server::new(&mut [0u8; 8], &mut [0u8; 100], ServerConfig::new(QSD, "")).is_err());
}

mod hostile {
    use super::*;
    use proptest::prelude::*;

    fn input() -> impl Strategy<Value = Vec<u8>> {
        let token = prop_oneof![
            Just(b"{".to_vec()),
            Just(b"}".to_vec()),
            Just(b"[".to_vec()),
            Just(b"]".to_vec()),
            Just(b"\"execute\":".to_vec()),
            Just(b"\"qmp_capabilities\"".to_vec()),
            Just(b"\"exec-oob\":\"x\",".to_vec()),
            Just(b"\"id\":".to_vec()),
            Just(b"\"arguments\":{\"enable\":[\"oob\"]}".to_vec()),
            Just(b",".to_vec()),
            Just(b"'".to_vec()),
            Just(b"\\u".to_vec()),
            prop::collection::vec(any::<u8>(), 0..8),
        ];
        prop::collection::vec(token, 0..40).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any bytes, in any chunks, with any buffer sizes: no panic, every answer is a
        /// valid QMP message line, and the session always ends with `Closed`.
        #[test]
        fn the_server_survives_anything(bytes in input(), chunk in 1usize..64, rx_len in 1usize..256, tx_len in 160usize..512) {
            let (mut rx, mut tx) = (vec![0u8; rx_len], vec![0u8; tx_len]);
            let mut s = Server::new(&mut rx, &mut tx, ServerConfig::new(QSD, "")).unwrap();
            let mut out = Vec::new();
            let mut closed = false;
            let mut pieces = bytes.chunks(chunk);
            let mut piece: &[u8] = pieces.next().unwrap_or_default();
            for _ in 0..100_000 {
                let n = s.handle_input(piece);
                piece = &piece[n..];
                while let Some(mut e) = s.poll_event() {
                    closed |= matches!(e, ServerEvent::Closed);
                    if let ServerEvent::Command(c) = &mut e {
                        let _ = c.respond_empty();
                    }
                }
                out.extend(take_tx(&mut s));
                if piece.is_empty() {
                    match pieces.next() {
                        Some(p) => piece = p,
                        None if closed => break,
                        None => s.handle_eof(),
                    }
                }
            }
            prop_assert!(closed);
            for line in lines(&out) {
                let msg = Message::parse(line.as_bytes()).unwrap();
                prop_assert!(matches!(msg.kind(), Kind::Greeting | Kind::Return | Kind::Error));
            }
        }
    }
}
