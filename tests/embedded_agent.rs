//! The `embedded-io` guest agent client: scripted (a reply after the deadline, then a call
//! that must get its own reply) and against a live qemu-ga (`tests/common/qga.rs`).
#![cfg(all(unix, feature = "embedded-io"))]

mod common;

use std::io::{Read as _, Write as _};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicU64, Ordering};

use qmp_codec::agent::commands::{Exec, ExecStatus, Info, Ping};
use qmp_codec::agent::{AgentConfig, AgentState};
use qmp_codec::transport::embedded::Error;
use qmp_codec::transport::embedded_agent::AgentClient;
use qmp_codec::transport::NO_ARGUMENTS;

/// A stream that hands out scripted chunks, one per read (an empty chunk is a read that
/// timed out), and records what was written.
struct Script {
    chunks: Vec<Vec<u8>>,
    written: Vec<u8>,
}

#[derive(Debug)]
struct Failed;

impl embedded_io::Error for Failed {
    fn kind(&self) -> embedded_io::ErrorKind {
        embedded_io::ErrorKind::TimedOut
    }
}

impl embedded_io::ErrorType for Script {
    type Error = Failed;
}

static CLOCK: AtomicU64 = AtomicU64::new(0);

fn now() -> u64 {
    CLOCK.load(Ordering::SeqCst)
}

impl embedded_io::Read for Script {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Failed> {
        if self.chunks.is_empty() {
            return Ok(0);
        }
        let chunk = self.chunks.remove(0);
        if chunk.is_empty() {
            // Silence: time passes, the read times out.
            CLOCK.fetch_add(100, Ordering::SeqCst);
            return Err(Failed);
        }
        buf[..chunk.len()].copy_from_slice(&chunk);
        Ok(chunk.len())
    }
}

impl embedded_io::Write for Script {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Failed> {
        self.written.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), Failed> {
        Ok(())
    }
}

const SENTINEL_ERROR: &[u8] =
    b"{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, stray '\\uFFFD'\"}}\n";

#[test]
fn a_reply_after_the_deadline_is_never_the_next_calls() {
    let mut sync1 = SENTINEL_ERROR.to_vec();
    sync1.extend_from_slice(b"\xff{\"return\": 40}\n");
    let mut late_and_sync2 =
        b"{\"return\": {\"version\": \"late\", \"supported_commands\": []}}\n".to_vec();
    late_and_sync2.extend_from_slice(SENTINEL_ERROR);
    late_and_sync2.extend_from_slice(b"\xff{\"return\": 41}\n");
    let io = Script {
        chunks: vec![
            sync1,
            // guest-info: silence past the deadline (500 ms; each silent read is 100 ms).
            vec![],
            vec![],
            vec![],
            vec![],
            vec![],
            vec![],
            // Its late reply (without an id, as an agent that does not echo ids sends it),
            // then the next call's sync and the ping's own reply.
            late_and_sync2,
            b"{\"return\": {}}\n".to_vec(),
        ],
        written: Vec::new(),
    };
    let (mut rx, mut tx) = ([0u8; 1024], [0u8; 256]);
    let mut ga = AgentClient::with_deadline(
        io,
        &mut rx,
        &mut tx,
        AgentConfig::new().with_first_sync_id(40),
        now,
        500,
    )
    .unwrap();
    let info = ga.call(&Info, |r| {
        Info::decode(r).map(|i| i.version().to_string()).ok()
    });
    assert!(matches!(info, Err(Error::Timeout)), "{info:?}");
    assert_eq!(ga.engine().state(), AgentState::Unsynced);
    let pong = ga
        .call(&Ping, |r| r.message().compact().to_string())
        .unwrap();
    assert_eq!(
        pong, r#"{"return":{}}"#,
        "the ping got its own reply, not the late one"
    );
    assert_eq!(ga.stale_frames(), 3);
}

/// A Unix socket as an `embedded_io` stream.
struct Sock(UnixStream);

impl embedded_io::ErrorType for Sock {
    type Error = Failed;
}

impl embedded_io::Read for Sock {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Failed> {
        self.0.read(buf).map_err(|_| Failed)
    }
}

impl embedded_io::Write for Sock {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Failed> {
        self.0.write(buf).map_err(|_| Failed)
    }
    fn flush(&mut self) -> Result<(), Failed> {
        Ok(())
    }
}

fn wall_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[test]
fn live_qemu_ga_over_embedded_io() {
    let qga = common::qga::Qga::start();
    let stream = UnixStream::connect(qga.socket()).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_millis(100)))
        .unwrap();
    let (mut rx, mut tx) = ([0u8; 16 << 10], [0u8; 1024]);
    let mut ga = AgentClient::with_deadline(
        Sock(stream),
        &mut rx,
        &mut tx,
        AgentConfig::new().with_first_sync_id(wall_ms()),
        wall_ms,
        10_000,
    )
    .unwrap();
    let reply = ga.execute("guest-ping", NO_ARGUMENTS).unwrap().unwrap();
    assert!(reply.get("return").unwrap().as_value_kind_is_object());
    let pid = ga
        .call(
            &Exec::new("/bin/echo")
                .args(&["embedded"])
                .capture_output(true),
            |r| Exec::decode(r).unwrap(),
        )
        .unwrap();
    let out = loop {
        let done = ga
            .call(&ExecStatus { pid }, |r| {
                let st = ExecStatus::decode(r).unwrap();
                let mut buf = [0u8; 64];
                let n = st.stdout_into(&mut buf).unwrap();
                st.exited().then(|| buf[..n].to_vec())
            })
            .unwrap();
        if let Some(out) = done {
            break out;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    assert_eq!(out, b"embedded\n");
    match ga.execute("guest-set-time", NO_ARGUMENTS) {
        Err(Error::Qmp(info)) => assert!(info.desc() == "Command guest-set-time has been disabled"),
        other => panic!("{other:?}"),
    }
}

trait IsObject {
    fn as_value_kind_is_object(&self) -> bool;
}

impl IsObject for qmp_codec::Value<'_> {
    fn as_value_kind_is_object(&self) -> bool {
        self.kind() == qmp_codec::ValueKind::Object
    }
}
