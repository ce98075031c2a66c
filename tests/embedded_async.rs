//! The async `embedded-io-async` client on a host executor (`futures::executor::block_on`):
//! against a scripted peer, and against a live qemu-storage-daemon through an adapter from a
//! std Unix socket to `embedded_io_async`.
#![cfg(all(unix, feature = "embedded-io-async"))]

mod common;
mod peer;

use std::io::{Read as _, Write as _};
use std::os::unix::net::UnixStream;
use std::thread;
use std::time::{Duration, Instant};

use common::qsd::Qsd;
use futures::executor::block_on;
use peer::{event, pair, reply, GREETING_OOB};
use qmp_codec::client::{ClientConfig, ClientEvent};
use qmp_codec::transport::embedded::Error;
use qmp_codec::transport::embedded_async::Client;
use qmp_codec::transport::NO_ARGUMENTS;
use qmp_codec::{ErrorClass, Event, Kind};

/// A std socket as an `embedded_io_async` stream (reads block the executor's thread, which
/// is fine on a test's host executor).
struct Io(UnixStream);

#[derive(Debug)]
struct IoError(std::io::ErrorKind);

impl embedded_io_async::Error for IoError {
    fn kind(&self) -> embedded_io_async::ErrorKind {
        match self.0 {
            std::io::ErrorKind::Interrupted => embedded_io_async::ErrorKind::Interrupted,
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
                embedded_io_async::ErrorKind::TimedOut
            }
            _ => embedded_io_async::ErrorKind::Other,
        }
    }
}

impl embedded_io_async::ErrorType for Io {
    type Error = IoError;
}

impl embedded_io_async::Read for Io {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, IoError> {
        self.0.read(buf).map_err(|e| IoError(e.kind()))
    }
}

impl embedded_io_async::Write for Io {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, IoError> {
        self.0.write(buf).map_err(|e| IoError(e.kind()))
    }
    async fn flush(&mut self) -> Result<(), IoError> {
        self.0.flush().map_err(|e| IoError(e.kind()))
    }
}

fn now_ms() -> u64 {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_millis() as u64
}

#[test]
fn scripted_events_replies_errors_and_a_deadline() {
    let (stream, mut p) = pair();
    stream
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let server = thread::spawn(move || {
        p.handshake(GREETING_OOB);
        let id = p.expect("query-status");
        p.send(&event("EARLY", "{}"));
        p.send(b"junk\r\n");
        p.send(&reply("{\"status\": \"running\"}", &id));
        let id = p.expect("nope");
        p.send(
            format!(
                "{{\"id\": {id}, \"error\": {{\"class\": \"CommandNotFound\", \"desc\": \"The command nope has not been found\"}}}}\r\n"
            )
            .as_bytes(),
        );
        p.expect("silent");
        // No answer: the client's deadline ends the call; then it leaves.
        assert!(p.read().is_none());
    });
    let (mut rx, mut tx) = ([0u8; 1024], [0u8; 256]);
    let mut seen = Vec::new();
    block_on(async {
        let mut qmp = Client::with_deadline(
            Io(stream),
            &mut rx,
            &mut tx,
            ClientConfig::new(),
            |e: &ClientEvent<'_>| {
                seen.push(match e {
                    ClientEvent::Event(ev) => format!("event {}", ev.name()),
                    ClientEvent::Violation(_) => "violation".to_string(),
                    other => format!("{other:?}"),
                })
            },
            now_ms,
            300,
        )
        .await
        .unwrap();
        assert!(qmp.oob_enabled());
        let status = qmp.execute("query-status", NO_ARGUMENTS).await.unwrap();
        assert_eq!(status.kind(), Kind::Return);
        assert!(
            status
                .get("return")
                .unwrap()
                .get("status")
                .unwrap()
                .as_str()
                .unwrap()
                == "running"
        );
        match qmp.execute("nope", NO_ARGUMENTS).await {
            Err(Error::Qmp(info)) => assert_eq!(info.class(), ErrorClass::CommandNotFound),
            other => panic!("{other:?}"),
        }
        let start = Instant::now();
        assert!(matches!(
            qmp.execute("silent", NO_ARGUMENTS).await,
            Err(Error::Timeout)
        ));
        assert!(start.elapsed() < Duration::from_secs(5));
        assert_eq!(qmp.protocol_violations(), 1);
    });
    assert_eq!(seen, ["event EARLY", "violation"]);
    server.join().unwrap();
}

#[test]
fn live_commands_and_events() {
    let Some(qsd) = Qsd::start() else { return };
    let stream = UnixStream::connect(qsd.socket()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let (mut rx, mut tx) = (vec![0u8; 512 * 1024], [0u8; 256]);
    block_on(async {
        let mut qmp = Client::new(Io(stream), &mut rx, &mut tx).await.unwrap();
        let major = qmp.version().unwrap().major;
        let version = qmp.execute("query-version", NO_ARGUMENTS).await.unwrap();
        let got = version
            .get("return")
            .and_then(|r| r.get("qemu"))
            .and_then(|q| q.get("major"))
            .and_then(|m| m.as_u64());
        assert_eq!(got, Some(major));
        match qmp.execute("no-such-command", NO_ARGUMENTS).await {
            Err(Error::Qmp(info)) => assert_eq!(info.class(), ErrorClass::CommandNotFound),
            other => panic!("{other:?}"),
        }
        let schema = qmp.execute("query-qmp-schema", NO_ARGUMENTS).await.unwrap();
        assert!(schema.as_bytes().len() > 100_000);
        // A job's events: blockdev-create on a file in the daemon's directory.
        let img = qsd.dir().join("a.img");
        let text = format!(
            "{{\"job-id\": \"j0\", \"options\": {{\"driver\": \"file\", \"filename\": \"{}\", \"size\": 1048576}}}}",
            img.display()
        );
        let args = qmp_codec::encode::validate_json(text.as_bytes()).unwrap();
        let ret = qmp.execute("blockdev-create", Some(args)).await;
        assert!(ret.is_ok(), "{ret:?}");
        let first = qmp.next_event().await.unwrap();
        assert!(Event::new(first).unwrap().name() == "JOB_STATUS_CHANGE");
        assert_eq!(qmp.protocol_violations(), 0);
    });
}
