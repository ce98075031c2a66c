//! `qmp serve SOCKET`: a small QMP server, for tests and demos.
//!
//! It listens on a UNIX socket and serves clients one after another (a client that leaves a
//! reply unread for `--write-timeout` is dropped, so it cannot stall the others). Each
//! connection is a [`qmp_codec::server::Server`] over fixed buffers (a 1 MiB receive buffer, which is also
//! the longest request accepted, and a 64 KiB transmit buffer): the engine sends the greeting
//! (this crate's version, capabilities `["oob"]`), frames the input as QEMU does, negotiates,
//! and answers bad input with QEMU's errors. What lives here is the "machine": a run state
//! shared by the connections, and the commands the engine hands over in command mode:
//!
//! - `query-version`, `query-commands`, `query-status`;
//! - `stop` pauses and emits `STOP`, `cont` resumes and emits `RESUME` (each only when the
//!   state changes; the event comes before the reply, as QEMU sends it);
//! - `quit` replies, emits `SHUTDOWN` and ends the program with status 0;
//! - anything else: `CommandNotFound`, `The command X has not been found`.

use std::io::{self, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::Args;
use qmp_codec::encode::{validate_json, EmptyObject, EncodeError};
use qmp_codec::server::{IncomingCommand, Server, ServerConfig, ServerEvent, ServerState};
use qmp_codec::{Timestamp, Version};

use crate::client::{parse_timeout, seconds};
use crate::Failure;

/// Arguments of `qmp serve`.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Where to create the UNIX socket (it must not exist yet).
    socket: PathBuf,
    /// Seconds a client may leave a reply unread before it is disconnected, so that a client
    /// that never reads cannot stall the server (clients are served one after another).
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS", value_parser = parse_timeout)]
    write_timeout: f64,
}

/// The receive buffer's size, and so the longest request accepted; longer ones are answered
/// with `JSON token size limit exceeded` and skipped.
const MAX_REQUEST: usize = 1 << 20;
/// The transmit buffer's size: replies wait here until they are written.
const TX_LEN: usize = 64 * 1024;

/// The commands served, in `query-commands` order (the engine answers `qmp_capabilities`).
const COMMANDS: [&str; 7] = [
    "qmp_capabilities",
    "query-version",
    "query-commands",
    "query-status",
    "stop",
    "cont",
    "quit",
];

/// The `package` string of the greeting and `query-version`.
const PACKAGE: &str = concat!("qmp-codec ", env!("CARGO_PKG_VERSION"));

/// This crate's version as a QEMU version triple.
fn version() -> Version {
    let mut parts = env!("CARGO_PKG_VERSION")
        .split(['.', '-', '+'])
        .map(|p| p.parse::<u64>().unwrap_or(0));
    Version {
        major: parts.next().unwrap_or(0),
        minor: parts.next().unwrap_or(0),
        micro: parts.next().unwrap_or(0),
    }
}

fn now() -> Timestamp {
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp {
        seconds: i64::try_from(t.as_secs()).unwrap_or(i64::MAX),
        microseconds: i64::from(t.subsec_micros()),
    }
}

/// Whether the server goes on after a connection.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Next {
    /// Accept the next client.
    Continue,
    /// `quit` was answered: exit.
    Quit,
}

/// What is left to do once a command's event (which borrows the engine) is gone.
enum Then {
    /// Nothing.
    Done,
    /// Emit this event, then answer `{}` to the request whose id's JSON text is given.
    EventThenReturn(&'static str, Option<Vec<u8>>),
    /// `quit` was answered: emit `SHUTDOWN`, flush and exit.
    Quit,
}

/// Output queued in an engine: the [`Server`] itself or an [`IncomingCommand`] of it.
trait Transmit {
    fn transmit(&mut self, buf: &mut [u8]) -> Option<usize>;
}

impl Transmit for Server<'_> {
    fn transmit(&mut self, buf: &mut [u8]) -> Option<usize> {
        self.poll_transmit(buf)
    }
}

impl Transmit for IncomingCommand<'_> {
    fn transmit(&mut self, buf: &mut [u8]) -> Option<usize> {
        self.poll_transmit(buf)
    }
}

/// Writes everything queued in `source` to the socket; returns how many bytes.
fn flush(source: &mut impl Transmit, stream: &mut UnixStream) -> io::Result<usize> {
    let mut buf = [0u8; 16 * 1024];
    let mut total = 0;
    while let Some(n) = source.transmit(&mut buf) {
        stream.write_all(buf.get(..n).unwrap_or_default())?;
        total += n;
    }
    Ok(total)
}

/// Queues a message with `write`; when the transmit buffer is full, flushes it and retries.
fn queue<T: Transmit>(
    target: &mut T,
    stream: &mut UnixStream,
    mut write: impl FnMut(&mut T) -> Result<(), EncodeError>,
) -> io::Result<()> {
    loop {
        match write(target) {
            Ok(()) => return Ok(()),
            Err(EncodeError::BufferTooSmall { required }) if required <= TX_LEN => {
                if flush(target, stream)? == 0 {
                    return Err(io::Error::other("the transmit buffer does not drain"));
                }
            }
            Err(e) => return Err(io::Error::other(format!("cannot encode a reply: {e}"))),
        }
    }
}

/// Answers `{"return": value}` with `value` JSON text built here (so always valid).
fn respond_json(
    cmd: &mut IncomingCommand<'_>,
    stream: &mut UnixStream,
    text: &str,
) -> io::Result<()> {
    let value = validate_json(text.as_bytes())
        .map_err(|e| io::Error::other(format!("bad reply {text}: {e}")))?;
    queue(cmd, stream, |c| c.respond(value))
}

/// The machine's state, shared by the connections.
struct Machine {
    running: bool,
}

impl Machine {
    /// Carries out one command the engine handed over, answering it now where it can.
    fn answer(
        &mut self,
        cmd: &mut IncomingCommand<'_>,
        stream: &mut UnixStream,
    ) -> io::Result<Then> {
        let name = cmd.name().to_cow();
        let name = name.as_ref();
        let error =
            |cmd: &mut IncomingCommand<'_>, stream: &mut UnixStream, class, desc: String| {
                queue(cmd, stream, |c| c.respond_error(class, &desc)).map(|()| Then::Done)
            };
        if !COMMANDS.contains(&name) {
            let desc = format!("The command {name} has not been found");
            return error(cmd, stream, "CommandNotFound", desc);
        }
        if cmd.is_oob() {
            let desc = format!("The command {name} does not support OOB");
            return error(cmd, stream, "GenericError", desc);
        }
        if let Some((key, _)) = cmd.arguments().and_then(|a| a.members().next()) {
            let desc = format!("Parameter '{key}' is unexpected");
            return error(cmd, stream, "GenericError", desc);
        }
        match name {
            "query-version" => {
                let v = version();
                let text = format!(
                    "{{\"qemu\": {{\"micro\": {}, \"minor\": {}, \"major\": {}}}, \"package\": \"{PACKAGE}\"}}",
                    v.micro, v.minor, v.major
                );
                respond_json(cmd, stream, &text)?;
            }
            "query-commands" => {
                let list: Vec<String> = COMMANDS
                    .iter()
                    .map(|c| format!("{{\"name\": \"{c}\"}}"))
                    .collect();
                respond_json(cmd, stream, &format!("[{}]", list.join(", ")))?;
            }
            "query-status" => {
                let (status, running) = match self.running {
                    true => ("running", true),
                    false => ("paused", false),
                };
                let text = format!(
                    "{{\"status\": \"{status}\", \"singlestep\": false, \"running\": {running}}}"
                );
                respond_json(cmd, stream, &text)?;
            }
            "stop" | "cont" => {
                let stop = name == "stop";
                if self.running == stop {
                    self.running = !stop;
                    let event = if stop { "STOP" } else { "RESUME" };
                    let id = cmd.id().map(|id| id.raw().to_vec());
                    return Ok(Then::EventThenReturn(event, id));
                }
                queue(cmd, stream, |c| c.respond_empty())?;
            }
            "quit" => {
                queue(cmd, stream, |c| c.respond_empty())?;
                return Ok(Then::Quit);
            }
            // `qmp_capabilities`: the engine answers it and never hands it over.
            _ => {}
        }
        Ok(Then::Done)
    }
}

/// Serves one connection until the client leaves or sends `quit`.
fn serve_one(
    machine: &mut Machine,
    mut stream: UnixStream,
    rx: &mut [u8],
    tx: &mut [u8],
) -> io::Result<Next> {
    let config = ServerConfig::new(version(), PACKAGE).with_max_frame_len(MAX_REQUEST);
    let mut server = Server::new(rx, tx, config)
        .map_err(|e| io::Error::other(format!("cannot queue the greeting: {e}")))?;
    let mut eof = false;
    loop {
        while let Some(event) = server.poll_event() {
            let then = match event {
                ServerEvent::Command(mut cmd) => machine.answer(&mut cmd, &mut stream)?,
                ServerEvent::ReplyTooLarge { required } => {
                    eprintln!("qmp serve: dropped a reply of {required} bytes");
                    Then::Done
                }
                _ => Then::Done,
            };
            match then {
                Then::Done => {}
                Then::EventThenReturn(name, id) => {
                    let at = now();
                    queue(&mut server, &mut stream, |s| {
                        s.emit_event(name, None::<EmptyObject>, at).map(drop)
                    })?;
                    // The id's text came from a parsed message.
                    let id = id.as_deref().and_then(|raw| validate_json(raw).ok());
                    queue(&mut server, &mut stream, |s| {
                        s.respond(id, Ok::<_, (&str, &str)>(EmptyObject))
                    })?;
                }
                Then::Quit => {
                    // A constant, valid JSON object.
                    let data = validate_json(br#"{"guest": false, "reason": "host-qmp-quit"}"#)
                        .map_err(|e| io::Error::other(e.to_string()))?;
                    let at = now();
                    queue(&mut server, &mut stream, |s| {
                        s.emit_event("SHUTDOWN", Some(data), at).map(drop)
                    })?;
                    flush(&mut server, &mut stream)?;
                    let _ = stream.shutdown(std::net::Shutdown::Both);
                    return Ok(Next::Quit);
                }
            }
        }
        flush(&mut server, &mut stream)?;
        if server.is_blocked() {
            // An answer of the engine's own waited for the room just flushed.
            continue;
        }
        if server.state() == ServerState::Closed || eof {
            return Ok(Next::Continue);
        }
        let spare = server.spare();
        if spare.is_empty() {
            return Err(io::Error::other("the receive buffer is full"));
        }
        let n = loop {
            match stream.read(spare) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other?,
            }
        };
        if n == 0 {
            server.handle_eof();
            eof = true;
        } else {
            server.commit(n);
        }
    }
}

/// Runs `qmp serve` until a client sends `quit`.
pub fn run(args: &ServeArgs) -> Result<(), Failure> {
    let listener = UnixListener::bind(&args.socket).map_err(|e| {
        Failure::Exit(
            2,
            format!("cannot listen on {}: {e}", args.socket.display()),
        )
    })?;
    let mut machine = Machine { running: true };
    let (mut rx, mut tx) = (vec![0u8; MAX_REQUEST], vec![0u8; TX_LEN]);
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(s) => s,
            Err(e) => {
                eprintln!("qmp serve: accept: {e}");
                continue;
            }
        };
        if let Err(e) = stream.set_write_timeout(Some(seconds(args.write_timeout))) {
            eprintln!("qmp serve: connection: {e}");
            continue;
        }
        match serve_one(&mut machine, stream, &mut rx, &mut tx) {
            Ok(Next::Quit) => break,
            Ok(Next::Continue) => {}
            // A client that went away mid-write is no reason to stop serving.
            Err(e) => eprintln!("qmp serve: connection: {e}"),
        }
    }
    let _ = std::fs::remove_file(&args.socket);
    Ok(())
}
