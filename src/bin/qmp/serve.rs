//! `qmp serve SOCKET`: a small QMP server, for tests and demos.
//!
//! It listens on a UNIX socket and serves clients one after another (a client that leaves a
//! reply unread for `--write-timeout` is dropped, so it cannot stall the others). Each
//! connection is the crate's blocking [`ServerSession`] (a 1 MiB receive buffer, which is also
//! the longest request accepted, and a 64 KiB transmit queue that grows for a reply with a
//! long id, so every accepted request is answered): the engine sends the greeting
//! (this crate's version, capabilities `["oob"]`), frames the input as QEMU does, negotiates,
//! and answers bad input with QEMU's errors. What lives here is the "machine": a run state
//! shared by the connections, and the commands the engine hands over in command mode:
//!
//! - `query-version`, `query-commands`, `query-status`;
//! - `stop` pauses and emits `STOP`, `cont` resumes and emits `RESUME` (each only when the
//!   state changes; the event comes before the reply, as QEMU sends it);
//! - `quit` replies, emits `SHUTDOWN` and ends the program with status 0;
//! - anything else: `CommandNotFound`, `The command X has not been found`.

use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::Args;
use qmp_codec::encode::{validate_json, EmptyObject, EncodeError};
use qmp_codec::server::{IncomingCommand, ServerConfig};
use qmp_codec::transport::blocking::{Flow, ServerSession};
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
/// The transmit queue's initial size: replies wait here until they are written.
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

/// Answers `{"return": value}` with `value` JSON text built here (so always valid).
fn respond_json(cmd: &mut IncomingCommand<'_>, text: &str) -> Result<(), EncodeError> {
    cmd.respond(validate_json(text.as_bytes())?)
}

/// The machine's state, shared by the connections.
struct Machine {
    running: bool,
}

impl Machine {
    /// Carries out one command the engine handed over.
    fn answer(&mut self, cmd: &mut IncomingCommand<'_>) -> Result<Flow, EncodeError> {
        let name = cmd.name().to_cow();
        let name = name.as_ref();
        if !COMMANDS.contains(&name) {
            let desc = format!("The command {name} has not been found");
            cmd.respond_error("CommandNotFound", desc)?;
            return Ok(Flow::Continue);
        }
        if cmd.is_oob() {
            let desc = format!("The command {name} does not support OOB");
            cmd.respond_error("GenericError", desc)?;
            return Ok(Flow::Continue);
        }
        if let Some((key, _)) = cmd.arguments().and_then(|a| a.members().next()) {
            let desc = format!("Parameter '{key}' is unexpected");
            cmd.respond_error("GenericError", desc)?;
            return Ok(Flow::Continue);
        }
        match name {
            "query-version" => {
                let v = version();
                let text = format!(
                    "{{\"qemu\": {{\"micro\": {}, \"minor\": {}, \"major\": {}}}, \"package\": \"{PACKAGE}\"}}",
                    v.micro, v.minor, v.major
                );
                respond_json(cmd, &text)?;
            }
            "query-commands" => {
                let list: Vec<String> = COMMANDS
                    .iter()
                    .map(|c| format!("{{\"name\": \"{c}\"}}"))
                    .collect();
                respond_json(cmd, &format!("[{}]", list.join(", ")))?;
            }
            "query-status" => {
                let (status, running) = match self.running {
                    true => ("running", true),
                    false => ("paused", false),
                };
                let text = format!(
                    "{{\"status\": \"{status}\", \"singlestep\": false, \"running\": {running}}}"
                );
                respond_json(cmd, &text)?;
            }
            "stop" | "cont" => {
                let stop = name == "stop";
                if self.running == stop {
                    self.running = !stop;
                    // The event comes before the reply, as QEMU sends it.
                    let event = if stop { "STOP" } else { "RESUME" };
                    cmd.emit_event(event, None::<EmptyObject>, now())?;
                }
                cmd.respond_empty()?;
            }
            "quit" => {
                cmd.respond_empty()?;
                let data = validate_json(br#"{"guest": false, "reason": "host-qmp-quit"}"#)?;
                cmd.emit_event("SHUTDOWN", Some(data), now())?;
                return Ok(Flow::Close);
            }
            // `qmp_capabilities`: the engine answers it and never hands it over.
            _ => {}
        }
        Ok(Flow::Continue)
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
        let config = ServerConfig::new(version(), PACKAGE).with_max_frame_len(MAX_REQUEST);
        let served = ServerSession::new(stream, MAX_REQUEST, TX_LEN, config)
            .and_then(|mut session| session.run(|cmd| machine.answer(cmd)));
        match served {
            Ok(Flow::Close) => break,
            Ok(_) => {}
            // A client that went away mid-write is no reason to stop serving.
            Err(e) => eprintln!("qmp serve: connection: {e}"),
        }
    }
    let _ = std::fs::remove_file(&args.socket);
    Ok(())
}
