//! `qmp serve SOCKET`: a small QMP server, for tests and demos.
//!
//! It listens on a UNIX socket and serves clients one after another, each with a fresh
//! greeting (this crate's version, capabilities `["oob"]`). Input is framed as QEMU frames
//! it (by bracket depth, no newline needed), checked as QEMU's dispatcher checks it (the
//! library's [`Command::check`]), and answered in QEMU's own wire format by the library's
//! encoder, with QEMU's error texts. The "machine" is a run state shared by the connections:
//!
//! - `qmp_capabilities` (optionally `{"enable": ["oob"]}`), `query-version`,
//!   `query-commands`, `query-status`;
//! - `stop` pauses and emits `STOP`, `cont` resumes and emits `RESUME` (each only when the
//!   state changes; the event comes before the reply, as QEMU sends it);
//! - `quit` replies, emits `SHUTDOWN` and ends the program with status 0;
//! - anything else: `CommandNotFound`, `The command X has not been found`.

use std::io::Write;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::Args;
use qmp_codec::encode::{
    validate_json, Encode, ServerError, ServerEvent, ServerGreeting, ServerReturn,
};
use qmp_codec::{
    Command, Dialect, FrameError, FramerConfig, Message, ParseError, Reason, Timestamp, Value,
    ValueKind, Version,
};

use crate::frames::{FrameReader, Item};
use crate::Failure;

/// Arguments of `qmp serve`.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Where to create the UNIX socket (it must not exist yet).
    socket: PathBuf,
}

/// The commands served, in `query-commands` order.
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

/// Whether the connection loop goes on.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// Read the next request.
    Continue,
    /// `quit` was answered: close and exit.
    Quit,
}

/// The server's state: the machine's run state, and the current connection's session.
#[derive(Debug)]
pub struct Server {
    running: bool,
    negotiated: bool,
    oob: bool,
}

impl Default for Server {
    fn default() -> Self {
        Server {
            running: true,
            negotiated: false,
            oob: false,
        }
    }
}

/// Appends an encoded message. Encoding into a String fails only on a bug in a payload.
fn emit(out: &mut String, message: &impl Encode) {
    if let Err(e) = message.encode_fmt(out) {
        eprintln!("qmp serve: cannot encode a reply: {e}");
    }
}

fn error(out: &mut String, class: &str, desc: &str, id: Option<Value<'_>>) {
    emit(out, &ServerError::new(class, desc, id));
}

fn generic(out: &mut String, desc: &str, id: Option<Value<'_>>) {
    error(out, "GenericError", desc, id);
}

/// A reply carrying the JSON text `value` (built here, so always valid).
fn ret(out: &mut String, value: &str, id: Option<Value<'_>>) {
    match validate_json(value.as_bytes()) {
        Ok(v) => emit(out, &ServerReturn::new(v, id)),
        Err(e) => eprintln!("qmp serve: bad reply {value}: {e}"),
    }
}

impl Server {
    /// The greeting for a new connection; resets the session.
    pub fn greet(&mut self, out: &mut String) {
        self.negotiated = false;
        self.oob = false;
        emit(
            out,
            &ServerGreeting {
                version: version(),
                package: PACKAGE,
                capabilities: &["oob"],
            },
        );
    }

    /// Answers one framed input item.
    pub fn handle(&mut self, item: Item<'_>, out: &mut String) -> Next {
        match item {
            Item::Frame { bytes, .. } => match Message::parse(bytes) {
                Ok(msg) => self.handle_message(msg, out),
                Err(ParseError::UnexpectedType(_)) => {
                    generic(out, "QMP input must be a JSON object", None);
                    Next::Continue
                }
                Err(ParseError::Deserialization(e)) => {
                    let desc = match e.reason() {
                        Reason::DuplicateMember => "JSON parse error, duplicate key".to_owned(),
                        Reason::DepthLimit => "JSON nesting depth limit exceeded".to_owned(),
                        reason => format!("JSON parse error, {reason}"),
                    };
                    generic(out, &desc, None);
                    Next::Continue
                }
                Err(e) => {
                    generic(out, &format!("JSON parse error, {e}"), None);
                    Next::Continue
                }
            },
            Item::Error(e) => {
                match e {
                    FrameError::TooLong { .. } => {
                        generic(out, "JSON token size limit exceeded", None);
                    }
                    FrameError::Lexical { byte, .. } | FrameError::Stray { byte, .. } => {
                        let shown = if byte.is_ascii_graphic() {
                            char::from(byte).to_string()
                        } else {
                            format!("\\x{byte:02x}")
                        };
                        generic(out, &format!("JSON parse error, stray '{shown}'"), None);
                    }
                    // The connection ended inside a request: nobody to answer.
                    _ => {}
                }
                Next::Continue
            }
        }
    }

    fn handle_message(&mut self, msg: Message<'_>, out: &mut String) -> Next {
        let id = msg.id();
        let cmd = match Command::check(msg, self.oob) {
            Ok(cmd) => cmd,
            Err(e) => {
                generic(out, &e.to_string(), id);
                return Next::Continue;
            }
        };
        let name = cmd.name().to_string();
        if !self.negotiated && name != "qmp_capabilities" {
            let desc = "Expecting capabilities negotiation with 'qmp_capabilities'";
            error(out, "CommandNotFound", desc, id);
            return Next::Continue;
        }
        if !COMMANDS.contains(&name.as_str()) {
            let desc = format!("The command {name} has not been found");
            error(out, "CommandNotFound", &desc, id);
            return Next::Continue;
        }
        if cmd.is_oob() {
            generic(out, &format!("The command {name} does not support OOB"), id);
            return Next::Continue;
        }
        let arguments = cmd.arguments();
        if name == "qmp_capabilities" {
            return self.capabilities(arguments, id, out);
        }
        if let Some((key, _)) = arguments.and_then(|a| a.members().next()) {
            generic(out, &format!("Parameter '{key}' is unexpected"), id);
            return Next::Continue;
        }
        match name.as_str() {
            "query-version" => {
                let v = version();
                let text = format!(
                    "{{\"qemu\": {{\"micro\": {}, \"minor\": {}, \"major\": {}}}, \"package\": \"{PACKAGE}\"}}",
                    v.micro, v.minor, v.major
                );
                ret(out, &text, id);
            }
            "query-commands" => {
                let list: Vec<String> = COMMANDS
                    .iter()
                    .map(|c| format!("{{\"name\": \"{c}\"}}"))
                    .collect();
                ret(out, &format!("[{}]", list.join(", ")), id);
            }
            "query-status" => {
                let (status, running) = if self.running {
                    ("running", true)
                } else {
                    ("paused", false)
                };
                let text = format!(
                    "{{\"status\": \"{status}\", \"singlestep\": false, \"running\": {running}}}"
                );
                ret(out, &text, id);
            }
            "stop" | "cont" => {
                let stop = name == "stop";
                if self.running == stop {
                    self.running = !stop;
                    emit(
                        out,
                        &ServerEvent::new(if stop { "STOP" } else { "RESUME" }, now()),
                    );
                }
                emit(out, &ServerReturn::empty(id));
            }
            "quit" => {
                emit(out, &ServerReturn::empty(id));
                // A constant, valid JSON object.
                if let Ok(data) = validate_json(br#"{"guest": false, "reason": "host-qmp-quit"}"#) {
                    emit(out, &ServerEvent::new("SHUTDOWN", now()).data(data));
                }
                return Next::Quit;
            }
            _ => unreachable!("every name of COMMANDS is handled above"),
        }
        Next::Continue
    }

    /// `qmp_capabilities`, with QEMU's checks and texts.
    fn capabilities(
        &mut self,
        arguments: Option<Value<'_>>,
        id: Option<Value<'_>>,
        out: &mut String,
    ) -> Next {
        if self.negotiated {
            let desc = "Capabilities negotiation is already complete, command ignored";
            error(out, "CommandNotFound", desc, id);
            return Next::Continue;
        }
        let mut oob = false;
        for (key, value) in arguments.iter().flat_map(|a| a.members()) {
            if key != "enable" {
                generic(out, &format!("Parameter '{key}' is unexpected"), id);
                return Next::Continue;
            }
            if value.kind() != ValueKind::Array {
                generic(
                    out,
                    "Invalid parameter type for 'enable', expected: array",
                    id,
                );
                return Next::Continue;
            }
            for cap in value.elements() {
                match cap.as_str() {
                    Some(s) if s == "oob" => oob = true,
                    Some(s) => {
                        generic(
                            out,
                            &format!("Parameter 'null' does not accept value '{s}'"),
                            id,
                        );
                        return Next::Continue;
                    }
                    None => {
                        generic(
                            out,
                            "Invalid parameter type for 'null', expected: string",
                            id,
                        );
                        return Next::Continue;
                    }
                }
            }
        }
        self.negotiated = true;
        self.oob = oob;
        emit(out, &ServerReturn::empty(id));
        Next::Continue
    }
}

/// Serves one connection until the client leaves or `quit`.
fn serve_one(server: &mut Server, stream: UnixStream) -> std::io::Result<Next> {
    let mut writer = stream.try_clone()?;
    let mut out = String::new();
    server.greet(&mut out);
    writer.write_all(out.as_bytes())?;
    let config = FramerConfig::new().with_dialect(Dialect::Stream);
    let mut reader = FrameReader::new(stream, config, 64 * 1024);
    while let Some(item) = reader.next_item()? {
        out.clear();
        let next = server.handle(item, &mut out);
        writer.write_all(out.as_bytes())?;
        if next == Next::Quit {
            let _ = writer.shutdown(std::net::Shutdown::Both);
            return Ok(Next::Quit);
        }
    }
    Ok(Next::Continue)
}

/// Runs `qmp serve` until a client sends `quit`.
pub fn run(args: &ServeArgs) -> Result<(), Failure> {
    let listener = UnixListener::bind(&args.socket).map_err(|e| {
        Failure::Exit(
            2,
            format!("cannot listen on {}: {e}", args.socket.display()),
        )
    })?;
    let mut server = Server::default();
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(s) => s,
            Err(e) => {
                eprintln!("qmp serve: accept: {e}");
                continue;
            }
        };
        match serve_one(&mut server, stream) {
            Ok(Next::Quit) => break,
            Ok(Next::Continue) => {}
            // A client that went away mid-write is no reason to stop serving.
            Err(e) => eprintln!("qmp serve: connection: {e}"),
        }
    }
    let _ = std::fs::remove_file(&args.socket);
    Ok(())
}
