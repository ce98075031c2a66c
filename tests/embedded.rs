//! The embedded-io transport (caller buffers, borrowed results) against a live
//! qemu-storage-daemon and against scripted peers, over a std socket behind an adapter.
#![cfg(all(unix, feature = "embedded-io"))]

mod common;
mod peer;

use std::io::{Read as _, Write as _};
use std::os::unix::net::UnixStream;
use std::thread;
use std::time::Duration;

use common::qsd::Qsd;
use peer::{event, pair, reply, GREETING_OOB, GREETING_PLAIN, RETURN_EMPTY};
use qmp_codec::client::{ClientConfig, ClientEvent, Refusal, Violation};
use qmp_codec::encode::validate_json;
use qmp_codec::transport::embedded::{Client, Error};
use qmp_codec::transport::NO_ARGUMENTS;
use qmp_codec::{ErrorClass, Event, FrameError, Kind};

/// A std socket as an `embedded_io` stream.
struct Io(UnixStream);

#[derive(Debug)]
struct IoError(std::io::ErrorKind);

impl embedded_io::Error for IoError {
    fn kind(&self) -> embedded_io::ErrorKind {
        match self.0 {
            std::io::ErrorKind::Interrupted => embedded_io::ErrorKind::Interrupted,
            _ => embedded_io::ErrorKind::Other,
        }
    }
}

impl embedded_io::ErrorType for Io {
    type Error = IoError;
}

impl embedded_io::Read for Io {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, IoError> {
        self.0.read(buf).map_err(|e| IoError(e.kind()))
    }
}

impl embedded_io::Write for Io {
    fn write(&mut self, buf: &[u8]) -> Result<usize, IoError> {
        self.0.write(buf).map_err(|e| IoError(e.kind()))
    }
    fn flush(&mut self) -> Result<(), IoError> {
        self.0.flush().map_err(|e| IoError(e.kind()))
    }
}

fn live_io(qsd: &Qsd) -> Io {
    let s = UnixStream::connect(qsd.socket()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    Io(s)
}

#[test]
fn live_commands_with_fixed_buffers() {
    let Some(qsd) = Qsd::start() else { return };
    let (mut rx, mut tx) = (vec![0u8; 512 * 1024], [0u8; 256]);
    let mut qmp = Client::new(live_io(&qsd), &mut rx, &mut tx).unwrap();
    assert!(qmp.oob_enabled());
    let major = qmp.version().unwrap().major;
    let reply = qmp.execute("query-version", NO_ARGUMENTS).unwrap();
    assert_eq!(reply.kind(), Kind::Return);
    let got = reply
        .get("return")
        .unwrap()
        .get("qemu")
        .unwrap()
        .get("major")
        .unwrap();
    assert_eq!(got.as_u64(), Some(major));

    let args = validate_json(br#"{"driver": "null-co", "node-name": "n\u0031"}"#).unwrap();
    assert_eq!(
        qmp.execute("blockdev-add", Some(args)).unwrap().kind(),
        Kind::Return
    );
    let nodes = qmp
        .execute("query-named-block-nodes", NO_ARGUMENTS)
        .unwrap();
    let first = nodes.get("return").unwrap().elements().next().unwrap();
    assert!(first.get("node-name").unwrap().as_str().unwrap() == "n1");

    // A QMP error reply is `Err(Error::Qmp)`, as in every transport.
    match qmp.execute("no-such-command", NO_ARGUMENTS) {
        Err(Error::Qmp(info)) => assert_eq!(info.class(), ErrorClass::CommandNotFound),
        other => panic!("{other:?}"),
    }

    let schema = qmp.execute("query-qmp-schema", NO_ARGUMENTS).unwrap();
    assert!(schema.as_bytes().len() > 100_000);
    assert!(schema.get("return").unwrap().elements().count() > 100);
    assert_eq!(qmp.protocol_violations(), 0);
}

#[test]
fn live_job_events_through_the_handler_and_next_event() {
    let Some(qsd) = Qsd::start() else { return };
    let (mut rx, mut tx) = ([0u8; 4096], [0u8; 512]);
    let mut seen = Vec::new();
    let mut qmp = Client::with_handler(
        live_io(&qsd),
        &mut rx,
        &mut tx,
        ClientConfig::new(),
        |e: &ClientEvent<'_>| {
            if let ClientEvent::Event(ev) = e {
                seen.push(
                    ev.data()
                        .unwrap()
                        .get("status")
                        .unwrap()
                        .as_str()
                        .unwrap()
                        .to_string(),
                );
            }
        },
    )
    .unwrap();
    let image = qsd.dir().join("e.img");
    let args = format!(
        r#"{{"job-id": "j", "options": {{"driver": "file", "filename": {}, "size": 4096}}}}"#,
        serde_json::Value::String(image.display().to_string())
    );
    let created = qmp
        .execute(
            "blockdev-create",
            Some(validate_json(args.as_bytes()).unwrap()),
        )
        .unwrap();
    assert_eq!(created.kind(), Kind::Return);
    let mut later = Vec::new();
    loop {
        let ev = Event::new(qmp.next_event().unwrap()).unwrap();
        assert!(ev.name() == "JOB_STATUS_CHANGE");
        let status = ev
            .data()
            .unwrap()
            .get("status")
            .unwrap()
            .as_str()
            .unwrap()
            .to_string();
        let done = status == "concluded";
        later.push(status);
        if done {
            break;
        }
    }
    drop(qmp);
    // Every status, in order, split between the handler (while the command waited) and
    // next_event (after).
    let all: Vec<String> = seen.into_iter().chain(later).collect();
    assert_eq!(all.first().map(String::as_str), Some("created"));
    assert_eq!(all.last().map(String::as_str), Some("concluded"));
    assert!(all.iter().any(|s| s == "running"), "{all:?}");
}

#[test]
fn junk_too_long_and_unmatched_are_skipped_and_a_refused_message_fails_the_call() {
    let (stream, mut p) = pair();
    let server = thread::spawn(move || {
        p.handshake(GREETING_OOB);
        let id = p.expect("query-status");
        p.send(b"junk\r\n[1]\r\n");
        // Longer than the 256-byte receive buffer: skipped, the next message survives, and
        // the waiting command fails (the refused message may have been its reply).
        p.send(&event(
            "BIG",
            &format!("{{\"pad\": \"{}\"}}", "x".repeat(400)),
        ));
        p.send(b"{\"return\": {}, \"id\": \"__qmp#01234\"}\r\n");
        p.send(&event("SMALL", "{}"));
        p.send(&reply("{\"status\": \"running\"}", &id));
        assert!(p.read().is_none());
    });
    let (mut rx, mut tx) = ([0u8; 256], [0u8; 128]);
    let mut log = Vec::new();
    let mut qmp = Client::with_handler(
        Io(stream),
        &mut rx,
        &mut tx,
        ClientConfig::new(),
        |e: &ClientEvent<'_>| {
            log.push(match e {
                ClientEvent::Violation(Violation::Frame(FrameError::TooLong { .. })) => {
                    "too long".to_string()
                }
                ClientEvent::Violation(Violation::Parse(_)) => "parse".to_string(),
                ClientEvent::Unmatched { .. } => "unmatched".to_string(),
                ClientEvent::Refused {
                    violation: Violation::Frame(FrameError::TooLong { .. }),
                    ..
                } => "refused too long".to_string(),
                ClientEvent::Event(ev) => format!("event {}", ev.name()),
                other => format!("{other:?}"),
            });
        },
    )
    .unwrap();
    match qmp.execute("query-status", NO_ARGUMENTS) {
        Err(Error::ReplyRefused(Refusal::TooLong { len })) => assert!(len > 256),
        other => panic!("{other:?}"),
    }
    let small = qmp.next_event().unwrap();
    assert!(Event::new(small).unwrap().name() == "SMALL");
    assert_eq!(qmp.protocol_violations(), 4);
    drop(qmp);
    assert_eq!(log, ["parse", "parse", "refused too long", "unmatched"]);
    server.join().unwrap();
}

#[test]
fn events_before_negotiation_and_end_of_stream() {
    let (stream, mut p) = pair();
    let server = thread::spawn(move || {
        p.send(GREETING_PLAIN);
        p.expect("qmp_capabilities");
        p.send(&event("EARLY", "{}"));
        p.send(RETURN_EMPTY);
        p.send(&event("NEXT", "{\"a\": 1}"));
        p.expect("quit");
        // Close without a reply.
    });
    let (mut rx, mut tx) = ([0u8; 512], [0u8; 64]);
    let mut early = 0;
    let mut qmp = Client::with_handler(
        Io(stream),
        &mut rx,
        &mut tx,
        ClientConfig::new(),
        |e: &ClientEvent<'_>| {
            if matches!(e, ClientEvent::Event(ev) if ev.name() == "EARLY") {
                early += 1;
            }
        },
    )
    .unwrap();
    assert!(!qmp.oob_enabled());
    let next = qmp.next_event().unwrap();
    assert!(next.get("event").unwrap().as_str().unwrap() == "NEXT");
    assert_eq!(
        next.get("data").unwrap().get("a").unwrap().as_i64(),
        Some(1)
    );
    assert!(matches!(
        qmp.execute("quit", NO_ARGUMENTS),
        Err(Error::Closed)
    ));
    assert!(qmp.is_closed());
    assert!(matches!(
        qmp.execute("query-status", NO_ARGUMENTS),
        Err(Error::Closed)
    ));
    drop(qmp);
    assert_eq!(early, 1);
    server.join().unwrap();
}

#[test]
fn refused_negotiation_and_small_transmit_buffer() {
    let (stream, mut p) = pair();
    let server = thread::spawn(move || {
        p.send(GREETING_PLAIN);
        p.expect("qmp_capabilities");
        p.send(b"{\"error\": {\"class\": \"GenericError\", \"desc\": \"no\"}}\r\n");
    });
    let (mut rx, mut tx) = ([0u8; 512], [0u8; 64]);
    assert!(matches!(
        Client::new(Io(stream), &mut rx, &mut tx),
        Err(Error::Negotiation)
    ));
    server.join().unwrap();
    let (stream, _p) = pair();
    let (mut rx, mut tx) = ([0u8; 512], [0u8; 60]);
    assert!(matches!(
        Client::new(Io(stream), &mut rx, &mut tx),
        Err(Error::Refused(_))
    ));
}
