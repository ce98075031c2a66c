//! A scripted QMP server for the transport tests: it writes exactly the bytes a test gives
//! and reads commands framed as QEMU frames them (by braces, no terminator needed).
//!
//! Use it from a test crate with `mod peer;`.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use qmp_codec::{Framer, Status};
use serde_json::Value;

/// A greeting offering OOB, as qemu-storage-daemon 10.0.2 sends it.
pub const GREETING_OOB: &[u8] = b"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 2, \"minor\": 0, \"major\": 10}, \"package\": \"\"}, \"capabilities\": [\"oob\"]}}\r\n";
/// A greeting offering nothing.
pub const GREETING_PLAIN: &[u8] = b"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 9}, \"package\": \"\"}, \"capabilities\": []}}\r\n";
/// The negotiation reply.
pub const RETURN_EMPTY: &[u8] = b"{\"return\": {}}\r\n";

/// An event line named `name` with `data`.
pub fn event(name: &str, data: &str) -> Vec<u8> {
    format!(
        "{{\"timestamp\": {{\"seconds\": 1700000000, \"microseconds\": 1}}, \"event\": \"{name}\", \"data\": {data}}}\r\n"
    )
    .into_bytes()
}

/// A success reply with `ret` (JSON text) to the id `id` (JSON text).
pub fn reply(ret: &str, id: &Value) -> Vec<u8> {
    format!("{{\"return\": {ret}, \"id\": {id}}}\r\n").into_bytes()
}

/// A byte stream the peer can serve on (a Unix or TCP socket).
pub trait Duplex: Read + Write + Send {}
impl<T: Read + Write + Send> Duplex for T {}

/// The server side of a connection.
pub struct Peer {
    stream: Box<dyn Duplex>,
    buf: Vec<u8>,
    framer: Framer,
}

/// A connected pair: the client's end and the scripted server.
pub fn pair() -> (UnixStream, Peer) {
    let (client, server) = UnixStream::pair().expect("socketpair");
    server
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    (client, Peer::new(server))
}

impl Peer {
    /// A peer over `stream`.
    pub fn new(stream: impl Duplex + 'static) -> Peer {
        Peer {
            stream: Box::new(stream),
            buf: Vec::new(),
            framer: Framer::stream(),
        }
    }

    /// Writes `bytes` as they are.
    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("peer write");
    }

    /// Writes `bytes`; false once the client has gone.
    pub fn try_send(&mut self, bytes: &[u8]) -> bool {
        self.stream.write_all(bytes).is_ok()
    }

    /// Reads the next command (any JSON text the client sent), or `None` at end of stream.
    pub fn read(&mut self) -> Option<Value> {
        loop {
            let decoded = self.framer.decode(&self.buf);
            let frame = match decoded.status {
                Ok(Status::Complete(_)) => decoded.frame(&self.buf).map(<[u8]>::to_vec),
                Ok(Status::Partial) => None,
                Err(e) => panic!("the client sent a bad frame: {e}"),
            };
            self.buf.drain(..decoded.consumed);
            if let Some(frame) = frame {
                return Some(serde_json::from_slice(&frame).expect("client JSON"));
            }
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk).expect("peer read");
            if n == 0 {
                return None;
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Reads a command, checking its name; returns its `id`.
    pub fn expect(&mut self, name: &str) -> Value {
        let cmd = self
            .read()
            .unwrap_or_else(|| panic!("end of stream, expected {name}"));
        let got = cmd.get("execute").or_else(|| cmd.get("exec-oob"));
        assert_eq!(got.and_then(Value::as_str), Some(name), "command {cmd}");
        cmd.get("id").cloned().unwrap_or(Value::Null)
    }

    /// Sends `greeting`, reads `qmp_capabilities` and accepts it; returns the command.
    pub fn handshake(&mut self, greeting: &[u8]) -> Value {
        self.send(greeting);
        let cmd = self.read().expect("qmp_capabilities");
        assert_eq!(cmd["execute"], "qmp_capabilities", "{cmd}");
        self.send(RETURN_EMPTY);
        cmd
    }
}
