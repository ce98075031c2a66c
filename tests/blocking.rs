//! The blocking transport against a live qemu-storage-daemon and against scripted peers.
#![cfg(unix)]

mod common;
mod peer;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use common::qsd::Qsd;
use peer::{event, pair, reply, GREETING_OOB, GREETING_PLAIN, RETURN_EMPTY};
use qmp_codec::client::{ClientError, ClientEvent, Violation};
use qmp_codec::encode::{validate_json, EncodeError, Request};
use qmp_codec::transport::blocking::{Client, Config};
use qmp_codec::transport::{Error, NO_ARGUMENTS};
use qmp_codec::{ErrorClass, OwnedMessage, ValueKind};

fn connect(qsd: &Qsd) -> Client<std::os::unix::net::UnixStream> {
    let config = Config::new().with_timeout(Some(Duration::from_secs(20)));
    Client::connect_unix_with(qsd.socket(), &config).expect("connect")
}

fn event_name(m: &OwnedMessage) -> String {
    m.get("event").unwrap().as_str().unwrap().to_string()
}

// --- live qemu-storage-daemon ---

#[test]
fn live_greeting_and_query_version() {
    let Some(qsd) = Qsd::start() else { return };
    let mut qmp = connect(&qsd);
    assert!(
        qmp.oob_enabled(),
        "qsd offers oob and it is enabled by default"
    );
    let version = qmp.version().expect("greeting version");
    assert!(qmp.greeting().get("QMP").is_some());
    let ret = qmp.execute("query-version", NO_ARGUMENTS).unwrap();
    let qemu = ret.value().get("qemu").unwrap();
    assert_eq!(qemu.get("major").unwrap().as_u64(), Some(version.major));
    assert_eq!(qemu.get("minor").unwrap().as_u64(), Some(version.minor));
    assert_eq!(qemu.get("micro").unwrap().as_u64(), Some(version.micro));
    assert_eq!(qmp.protocol_violations(), 0);
    qmp.close().unwrap();
}

#[test]
fn live_blockdev_add_with_escapes_shows_in_named_nodes() {
    let Some(qsd) = Qsd::start() else { return };
    let mut qmp = connect(&qsd);
    // `\u0031` is "1": the server must see the unescaped name.
    let args = validate_json(br#"{"driver": "null-co", "node-name": "n\u0031", "size": 1048576}"#)
        .unwrap();
    let ret = qmp.execute("blockdev-add", Some(args)).unwrap();
    assert_eq!(ret.value().kind(), ValueKind::Object);
    assert_eq!(ret.value().members().count(), 0);
    let nodes = qmp
        .execute("query-named-block-nodes", NO_ARGUMENTS)
        .unwrap();
    let names: Vec<String> = nodes
        .value()
        .elements()
        .map(|n| n.get("node-name").unwrap().as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["n1"]);
    let size = nodes
        .value()
        .elements()
        .next()
        .unwrap()
        .get("image")
        .unwrap()
        .get("virtual-size");
    assert_eq!(size.unwrap().as_u64(), Some(1_048_576));
    // A duplicate node name is the server's GenericError, and the session goes on.
    let again = validate_json(br#"{"driver": "null-co", "node-name": "n1"}"#).unwrap();
    match qmp.execute("blockdev-add", Some(again)) {
        Err(Error::Qmp(e)) => {
            assert_eq!(e.class(), ErrorClass::GenericError);
            assert!(e.desc().contains("n1"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    qmp.execute("query-version", NO_ARGUMENTS).unwrap();
}

#[test]
fn live_unknown_command_is_a_typed_error() {
    let Some(qsd) = Qsd::start() else { return };
    let mut qmp = connect(&qsd);
    let err = qmp.execute("no-such-command", NO_ARGUMENTS).unwrap_err();
    let Error::Qmp(e) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(e.class(), ErrorClass::CommandNotFound);
    assert_eq!(e.class_name(), "CommandNotFound");
    assert_eq!(e.desc(), "The command no-such-command has not been found");
    assert_eq!(
        err.to_string(),
        "QMP error: CommandNotFound: The command no-such-command has not been found"
    );
    assert!(std::error::Error::source(&err).is_some());
    // Still usable.
    qmp.execute("query-version", NO_ARGUMENTS).unwrap();
}

#[test]
fn live_query_qmp_schema_is_large() {
    let Some(qsd) = Qsd::start() else { return };
    let mut qmp = connect(&qsd);
    let schema = qmp.execute("query-qmp-schema", NO_ARGUMENTS).unwrap();
    assert!(
        schema.as_bytes().len() > 100_000,
        "{} bytes",
        schema.as_bytes().len()
    );
    let commands = schema
        .value()
        .elements()
        .filter(|e| e.get("meta-type").unwrap().as_str().unwrap() == "command")
        .count();
    assert!(commands > 50, "{commands} commands");
    let has_blockdev_add = schema
        .value()
        .elements()
        .any(|e| e.get("name").unwrap().as_str().unwrap() == "blockdev-add");
    assert!(has_blockdev_add);
}

#[test]
fn live_job_events_arrive_while_commands_wait() {
    let Some(qsd) = Qsd::start() else { return };
    let mut qmp = connect(&qsd);
    let image = qsd.dir().join("created.img");
    let args = format!(
        r#"{{"job-id": "job0", "options": {{"driver": "file", "filename": {}, "size": 65536}}}}"#,
        serde_json::Value::String(image.display().to_string())
    );
    qmp.execute(
        "blockdev-create",
        Some(validate_json(args.as_bytes()).unwrap()),
    )
    .unwrap();
    // The job's events come with and after the reply; collect them until it concludes.
    let mut statuses = Vec::new();
    while !statuses.iter().any(|s| s == "concluded") {
        let ev = qmp
            .next_event(Some(Duration::from_secs(20)))
            .unwrap()
            .expect("job event within 20 s");
        assert_eq!(event_name(&ev), "JOB_STATUS_CHANGE");
        let data = ev.get("data").unwrap();
        assert_eq!(data.get("id").unwrap().as_str().unwrap(), "job0");
        statuses.push(data.get("status").unwrap().as_str().unwrap().to_string());
    }
    assert_eq!(statuses.first().map(String::as_str), Some("created"));
    assert!(statuses.iter().any(|s| s == "running"), "{statuses:?}");
    assert_eq!(std::fs::metadata(&image).unwrap().len(), 65536);
    // Dismissing it makes one more event, which may come before the reply: it is queued.
    qmp.execute(
        "job-dismiss",
        Some(validate_json(br#"{"id": "job0"}"#).unwrap()),
    )
    .unwrap();
    let ev = qmp
        .next_event(Some(Duration::from_secs(20)))
        .unwrap()
        .unwrap();
    assert_eq!(
        ev.get("data")
            .unwrap()
            .get("status")
            .unwrap()
            .as_str()
            .unwrap(),
        "null"
    );
    assert!(qmp
        .next_event(Some(Duration::from_millis(50)))
        .unwrap()
        .is_none());
    assert_eq!(qmp.dropped_events(), 0);
    assert_eq!(qmp.protocol_violations(), 0);
}

#[test]
fn live_without_oob_and_exec_oob() {
    let Some(qsd) = Qsd::start() else { return };
    let config = Config::new().with_oob(false);
    let mut qmp = Client::connect_unix_with(qsd.socket(), &config).unwrap();
    assert!(!qmp.oob_enabled());
    match qmp.execute_oob("query-version", NO_ARGUMENTS) {
        Err(Error::Refused(ClientError::OobNotNegotiated)) => {}
        other => panic!("{other:?}"),
    }
    drop(qmp);
    // With OOB: the server refuses exec-oob for a command without allow-oob.
    let mut qmp = connect(&qsd);
    match qmp.execute_oob("query-version", NO_ARGUMENTS) {
        Err(Error::Qmp(e)) => {
            assert_eq!(e.desc(), "The command query-version does not support OOB")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn live_pretty_monitor_with_stream_framing() {
    let Some(qsd) = Qsd::start_with(&["pretty=on"]) else {
        return;
    };
    let config = Config::new().with_client(
        qmp_codec::client::ClientConfig::new().with_dialect(qmp_codec::Dialect::Stream),
    );
    let mut qmp = Client::connect_unix_with(qsd.socket(), &config).unwrap();
    let ret = qmp.execute("query-version", NO_ARGUMENTS).unwrap();
    assert!(ret.value().get("qemu").is_some());
    assert_eq!(qmp.protocol_violations(), 0);
}

// --- scripted peers ---

/// Runs `server` on a scripted peer and `client` against it.
fn scripted<T>(
    config: Config,
    server: impl FnOnce(&mut peer::Peer) + Send + 'static,
    client: impl FnOnce(&mut Client<std::os::unix::net::UnixStream>) -> T,
) -> T {
    let (stream, mut peer) = pair();
    let handle = thread::spawn(move || server(&mut peer));
    let mut qmp = Client::connect(stream, &config).expect("handshake");
    let out = client(&mut qmp);
    drop(qmp);
    handle.join().expect("peer thread");
    out
}

#[test]
fn events_before_the_negotiation_reply_are_kept() {
    scripted(
        Config::new(),
        |p| {
            p.send(GREETING_OOB);
            let caps = p.read().unwrap();
            assert_eq!(
                caps.to_string(),
                r#"{"arguments":{"enable":["oob"]},"execute":"qmp_capabilities"}"#
            );
            p.send(&event("FIRST", "{}"));
            p.send(&event("SECOND", r#"{"n": 2}"#));
            p.send(RETURN_EMPTY);
            let id = p.expect("query-status");
            p.send(&event("THIRD", "{}"));
            p.send(&reply(r#"{"status": "running"}"#, &id));
        },
        |qmp| {
            assert_eq!(qmp.queued_events(), 2);
            let ret = qmp.execute("query-status", NO_ARGUMENTS).unwrap();
            assert!(ret.value().get("status").unwrap().as_str().unwrap() == "running");
            let names: Vec<String> = std::iter::from_fn(|| qmp.try_event())
                .map(|e| event_name(&e))
                .collect();
            assert_eq!(names, ["FIRST", "SECOND", "THIRD"]);
        },
    );
}

#[test]
fn junk_and_non_objects_between_replies_are_skipped_and_reported() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let violations = scripted(
        Config::new(),
        |p| {
            p.handshake(GREETING_PLAIN);
            let id = p.expect("query-status");
            p.send(b"this is not json\r\n");
            p.send(b"[1, 2, 3]\r\n");
            p.send(b"\"a string\"\r\n");
            p.send(b"\r\n\r\n");
            p.send(b"{\"no\": \"qmp\"}\r\n");
            p.send(b"{\"return\": {}, \"id\": \"__qmp#99999\"}\r\n");
            p.send(
                b"{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error\"}}\r\n",
            );
            p.send(b"{\"event\": 5}\r\n");
            p.send(&reply("7", &id));
            let id = p.expect("query-status");
            p.send(&reply("8", &id));
        },
        move |qmp| {
            qmp.on_protocol_violation(move |e| {
                let kind = match e {
                    ClientEvent::Violation(Violation::Parse(_)) => "parse",
                    ClientEvent::Violation(Violation::Frame(_)) => "frame",
                    ClientEvent::Violation(Violation::UnexpectedMessage(_)) => "unexpected",
                    ClientEvent::Violation(Violation::Model(..)) => "model",
                    ClientEvent::Unmatched { .. } => "unmatched",
                    _ => "other",
                };
                log.lock().unwrap().push(kind);
            });
            assert_eq!(
                qmp.execute("query-status", NO_ARGUMENTS)
                    .unwrap()
                    .as_bytes(),
                b"7"
            );
            assert_eq!(
                qmp.execute("query-status", NO_ARGUMENTS)
                    .unwrap()
                    .as_bytes(),
                b"8"
            );
            assert_eq!(qmp.queued_events(), 0);
            qmp.protocol_violations()
        },
    );
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [
            "parse",
            "parse",
            "parse",
            "unexpected",
            "unmatched",
            "unmatched",
            "model"
        ]
    );
    assert_eq!(violations, 7);
}

#[test]
fn a_reply_for_another_id_does_not_answer_the_command() {
    scripted(
        Config::new(),
        |p| {
            p.handshake(GREETING_PLAIN);
            let id = p.expect("query-status");
            // Out of order: a stale id first, then ours with the id re-escaped by the server.
            p.send(b"{\"return\": 1, \"id\": \"__qmp#00007\"}\r\n");
            let escaped = id.as_str().unwrap().replace('#', "\\u0023");
            p.send(format!("{{\"id\": \"{escaped}\", \"return\": 2}}\r\n").as_bytes());
        },
        |qmp| {
            assert_eq!(
                qmp.execute("query-status", NO_ARGUMENTS)
                    .unwrap()
                    .as_bytes(),
                b"2"
            );
            assert_eq!(qmp.protocol_violations(), 1);
        },
    );
}

#[test]
fn read_timeout_fails_the_command_and_the_session_goes_on() {
    scripted(
        Config::new().with_timeout(Some(Duration::from_millis(100))),
        |p| {
            p.handshake(GREETING_PLAIN);
            let slow = p.expect("slow");
            let next = p.expect("query-status");
            // The late reply to the timed-out command, then the right one.
            p.send(&reply("\"late\"", &slow));
            p.send(&reply("\"on time\"", &next));
            assert!(p.read().is_none(), "the client sends nothing more");
        },
        |qmp| {
            match qmp.execute("slow", NO_ARGUMENTS) {
                Err(Error::Timeout) => {}
                other => panic!("{other:?}"),
            }
            assert!(!qmp.is_closed());
            let ret = qmp.execute("query-status", NO_ARGUMENTS).unwrap();
            assert_eq!(ret.as_bytes(), b"\"on time\"");
            assert_eq!(qmp.protocol_violations(), 1, "the late reply is unmatched");
            // No event within the timeout: `None`, not an error.
            assert!(qmp
                .next_event(Some(Duration::from_millis(20)))
                .unwrap()
                .is_none());
        },
    );
}

#[test]
fn full_event_queue_drops_the_oldest_and_counts() {
    scripted(
        Config::new().with_event_capacity(2),
        |p| {
            p.handshake(GREETING_PLAIN);
            let id = p.expect("query-status");
            for i in 0..5 {
                p.send(&event(&format!("E{i}"), "{}"));
            }
            p.send(&reply("{}", &id));
        },
        |qmp| {
            qmp.execute("query-status", NO_ARGUMENTS).unwrap();
            assert_eq!(qmp.dropped_events(), 3);
            let names: Vec<String> = std::iter::from_fn(|| qmp.try_event())
                .map(|e| event_name(&e))
                .collect();
            assert_eq!(names, ["E3", "E4"]);
        },
    );
}

#[test]
fn server_closing_mid_command_is_closed_and_events_survive() {
    scripted(
        Config::new(),
        |p| {
            p.handshake(GREETING_PLAIN);
            p.expect("quit");
            p.send(&event("SHUTDOWN", "{\"guest\": false}"));
            // Dropping the peer closes the socket without a reply.
        },
        |qmp| {
            assert!(matches!(
                qmp.execute("quit", NO_ARGUMENTS),
                Err(Error::Closed)
            ));
            assert!(qmp.is_closed());
            let names: Vec<String> = std::iter::from_fn(|| qmp.next_event(None).ok().flatten())
                .map(|e| event_name(&e))
                .collect();
            assert_eq!(names, ["SHUTDOWN"]);
            assert!(matches!(
                qmp.execute("query-status", NO_ARGUMENTS),
                Err(Error::Closed)
            ));
            assert!(matches!(qmp.next_event(None), Err(Error::Closed)));
        },
    );
}

#[test]
fn refused_negotiation_is_an_error() {
    let (stream, mut p) = pair();
    let server = thread::spawn(move || {
        p.send(GREETING_PLAIN);
        p.expect("qmp_capabilities");
        p.send(b"{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Capabilities negotiation is already complete, command ignored\"}}\r\n");
    });
    match Client::connect(stream, &Config::new()) {
        Err(Error::Negotiation(e)) => {
            assert_eq!(e.class(), ErrorClass::CommandNotFound);
            assert!(e.desc().starts_with("Capabilities negotiation"));
        }
        other => panic!("{other:?}"),
    }
    server.join().unwrap();
}

#[test]
fn a_bad_greeting_is_skipped_and_the_next_one_counts() {
    let hits = Arc::new(AtomicU64::new(0));
    scripted(
        Config::new(),
        |p| {
            p.send(b"{\"QMP\": {\"version\": 1}}\r\n");
            p.handshake(GREETING_PLAIN);
            let id = p.expect("query-version");
            p.send(&reply("{}", &id));
        },
        |qmp| {
            let h = Arc::clone(&hits);
            qmp.on_protocol_violation(move |_| {
                h.fetch_add(1, Ordering::Relaxed);
            });
            // The bad greeting was counted during the handshake, before the hook was set.
            assert_eq!(qmp.protocol_violations(), 1);
            assert_eq!(qmp.version().unwrap().major, 9);
            assert_eq!(
                qmp.greeting().to_bytes().as_ref(),
                &GREETING_PLAIN[..GREETING_PLAIN.len() - 2]
            );
            qmp.execute("query-version", NO_ARGUMENTS).unwrap();
        },
    );
    assert_eq!(hits.load(Ordering::Relaxed), 0);
}

#[test]
fn requests_and_arguments_on_the_wire() {
    scripted(
        Config::new().with_max_request_len(128),
        |p| {
            p.handshake(GREETING_PLAIN);
            let cmd = p.read().unwrap();
            assert_eq!(cmd["execute"], "eject");
            assert_eq!(cmd["arguments"]["device"], "caf\u{e9}");
            assert_eq!(cmd["id"], "__qmp#00000");
            p.send(&reply("{}", &cmd["id"]));
            let cmd = p.read().unwrap();
            assert_eq!(cmd.get("arguments"), None);
            assert_eq!(cmd["id"], "__qmp#00001");
            p.send(&reply("[1, 2]", &cmd["id"]));
        },
        |qmp| {
            let args = validate_json(br#"{"device": "caf\u00e9"}"#).unwrap();
            qmp.execute("eject", Some(args)).unwrap();
            let whole = qmp
                .request(Request::execute("query-x").with_id(42i64))
                .unwrap();
            assert_eq!(
                whole.to_bytes().as_ref(),
                b"{\"return\": [1, 2], \"id\": \"__qmp#00001\"}"
            );
            // Too large for the 128-byte transmit buffer: refused, nothing sent.
            let big = format!(r#"{{"s":"{}"}}"#, "x".repeat(200));
            match qmp.execute("big", Some(validate_json(big.as_bytes()).unwrap())) {
                Err(Error::Refused(ClientError::Encode(EncodeError::BufferTooSmall {
                    required,
                }))) => {
                    assert_eq!(
                        required,
                        big.len() + r#"{"execute":"big","arguments":,"id":"__qmp#00002"}"#.len()
                    );
                }
                other => panic!("{other:?}"),
            }
            match qmp.execute("bad", Some(validate_json(b"[1]").unwrap())) {
                Err(Error::Refused(ClientError::Encode(EncodeError::ArgumentsNotObject {
                    ..
                }))) => {}
                other => panic!("{other:?}"),
            }
        },
    );
}

#[test]
fn connect_tcp_to_a_scripted_server() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut p = peer::Peer::new(stream);
        p.handshake(GREETING_OOB);
        let id = p.expect("query-version");
        p.send(&reply("{\"qemu\": {\"major\": 10}}", &id));
        assert!(p.read().is_none(), "close shuts the connection down");
    });
    let mut qmp = Client::connect_tcp(addr).unwrap();
    assert!(qmp.oob_enabled());
    assert_eq!(qmp.version().unwrap().major, 10);
    let ret = qmp.execute("query-version", NO_ARGUMENTS).unwrap();
    assert_eq!(ret.as_bytes(), b"{\"qemu\": {\"major\": 10}}");
    qmp.close().unwrap();
    server.join().unwrap();
}

// --- raw requests: ids matched as QEMU echoes them ---

#[test]
fn live_raw_requests_match_ids_as_qemu_echoes_them() {
    let qsd = Qsd::start().expect("this test needs qemu-storage-daemon (Debian: qemu-utils)");
    let mut qmp = connect(&qsd);
    // QEMU re-prints numbers (`1.0` -> `1`, `1e2` -> `100`, `-0` -> `0`), re-escapes
    // strings and reorders object members: each still matches its request.
    for id in [
        "1.0",
        "1e2",
        "-0",
        "0.1",
        "\"\\u00e9\"",
        "{\"b\": [1.50, {\"y\": null, \"x\": true}], \"a\": \"s\"}",
        "[]",
        "\"__qmp#00000\"",
    ] {
        let line = format!("{{\"execute\": \"query-version\", \"id\": {id}}}");
        let reply = qmp
            .request_raw(validate_json(line.as_bytes()).unwrap())
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        assert!(reply.get("return").unwrap().get("qemu").is_some(), "{id}");
        assert!(reply.get("id").is_some(), "{id}");
    }
    // No id: the next response without one; an error is `Error::Qmp`.
    let no_id = validate_json(br#"{"execute": "no-such-command"}"#).unwrap();
    match qmp.request_raw(no_id) {
        Err(Error::Qmp(e)) => assert_eq!(e.class(), ErrorClass::CommandNotFound),
        other => panic!("{other:?}"),
    }
    // Not a command at all: QEMU's id-less error.
    match qmp.request_raw(validate_json(b"[1]").unwrap()) {
        Err(Error::Qmp(e)) => assert_eq!(e.desc(), "QMP input must be a JSON object"),
        other => panic!("{other:?}"),
    }
    assert_eq!(qmp.protocol_violations(), 0);
    // The engine's own requests go on as before.
    qmp.execute("query-version", NO_ARGUMENTS).unwrap();
}

#[test]
fn raw_request_skips_other_replies_and_queues_events() {
    let (stream, mut peer) = pair();
    let server = thread::spawn(move || {
        peer.handshake(GREETING_PLAIN);
        let got = peer.read().expect("the raw request");
        assert_eq!(got["id"], serde_json::json!({"n": 1.0, "m": "x"}));
        peer.send(b"{\"return\": {}, \"id\": {\"n\": 2}}\r\n");
        peer.send(b"{\"return\": {}, \"id\": {\"m\": \"x\"}}\r\n");
        peer.send(&event("STOP", "{}"));
        peer.send(b"{\"return\": {\"ok\": 1}, \"id\": {\"m\": \"\\u0078\", \"n\": 1}}\r\n");
        peer
    });
    let mut qmp = Client::new(stream, &Config::new()).unwrap();
    let raw = validate_json(br#"{"execute": "x", "id": {"n": 1.0, "m": "x"}}"#).unwrap();
    let reply = qmp.request_raw(raw).unwrap();
    assert_eq!(
        reply.get("return").unwrap().get("ok").unwrap().as_u64(),
        Some(1)
    );
    assert_eq!(
        qmp.protocol_violations(),
        2,
        "the two replies with other ids"
    );
    assert_eq!(event_name(&qmp.try_event().unwrap()), "STOP");
    drop(server.join().unwrap());
}
