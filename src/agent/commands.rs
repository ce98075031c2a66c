//! Typed helpers for the agent commands users call most: request builders (each an
//! [`AgentCommand`], sent with [`Agent::call`](super::Agent::call)) and decoders that read a
//! [`Reply`] into borrowed views. Sans-IO, no allocation (decoded bytes go to caller
//! buffers, or to a `Vec` with `alloc`), usable by every transport.
//!
//! ```
//! use qmp_codec::agent::commands::{Exec, ExecStatus, ExecStatusReply};
//! use qmp_codec::agent::{Agent, AgentConfig, AgentEvent};
//!
//! let (mut rx, mut tx) = ([0u8; 1024], [0u8; 256]);
//! let mut agent = Agent::new(&mut rx, &mut tx, AgentConfig::new()).unwrap();
//! agent.sync(None).unwrap();
//! agent.consume_transmit(agent.pending_transmit().len());
//! agent.handle_input(b"\xff{\"return\": 1}\n");
//! assert!(matches!(agent.poll_event(), Some(AgentEvent::Synced { id: 1 })));
//! agent.call(&Exec::new("/bin/echo").args(&["hi"]).capture_output(true), None).unwrap();
//! assert_eq!(agent.pending_transmit(), br#"{"execute":"guest-exec","arguments":{"path":"/bin/echo","arg":["hi"],"capture-output":true},"id":"__qmp#00000"}"#);
//! agent.consume_transmit(agent.pending_transmit().len());
//! agent.handle_input(b"{\"return\": {\"pid\": 7}, \"id\": \"__qmp#00000\"}\n");
//! let Some(AgentEvent::Reply(reply)) = agent.poll_event() else { panic!() };
//! assert_eq!(Exec::decode(&reply).unwrap(), 7);
//! agent.call(&ExecStatus { pid: 7 }, None).unwrap();
//! agent.consume_transmit(agent.pending_transmit().len());
//! agent.handle_input(b"{\"return\": {\"exitcode\": 0, \"out-data\": \"aGkK\", \"exited\": true}, \"id\": \"__qmp#00001\"}\n");
//! let Some(AgentEvent::Reply(reply)) = agent.poll_event() else { panic!() };
//! let status: ExecStatusReply = ExecStatus::decode(&reply).unwrap();
//! assert!(status.exited());
//! assert_eq!(status.exit_code(), Some(0));
//! let mut out = [0u8; 16];
//! assert_eq!(status.stdout_into(&mut out), Ok(3));
//! assert_eq!(&out[..3], b"hi\n");
//! ```

use core::fmt;

use super::base64::{self, Base64Error};
use super::engine::{Agent, AgentError, Expect, Reply};
use crate::encode::payload::sealed::Sealed;
use crate::encode::{EncodeError, Id, Layout, Payload, Request};
use crate::json::print::put_str_escaped;
use crate::json::sink::{put_i64, put_u64, Sink};
use crate::json::{Elements, Str, Value, ValueKind};
use crate::model::{ErrorInfo, ModelError};

/// An agent command with typed arguments. Its arguments are written straight into the
/// transmit buffer (the type is its own [`Payload`]).
pub trait AgentCommand: Payload {
    /// The command name.
    const NAME: &'static str;
    /// Whether the command sends `arguments`.
    const HAS_ARGUMENTS: bool = true;
    /// What the command expects back.
    const EXPECT: Expect = Expect::Reply;
}

impl<'s> Agent<'s> {
    /// Sends a typed command (see [`commands`](super::commands)) with a fresh id.
    pub fn call<C: AgentCommand>(
        &mut self,
        command: &C,
        deadline: Option<u64>,
    ) -> Result<Id, AgentError> {
        if C::HAS_ARGUMENTS {
            self.send(
                Request::execute(C::NAME).with_arguments(command),
                C::EXPECT,
                deadline,
            )
        } else {
            self.send(Request::execute(C::NAME), C::EXPECT, deadline)
        }
    }
}

/// Why a reply could not be read as the command's result.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum ReplyError<'a> {
    /// The agent answered with an error (e.g. `CommandNotFound` for a blocked command).
    Agent(ErrorInfo<'a>),
    /// An error reply whose `error` member is malformed.
    Model(ModelError<'a>),
    /// The return value lacks a member, or has the wrong type: `what` names it.
    Shape {
        /// The member that is missing or of the wrong type.
        what: &'static str,
    },
}

impl fmt::Display for ReplyError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplyError::Agent(e) => write!(f, "{}: {}", e.class(), e.desc()),
            ReplyError::Model(e) => write!(f, "malformed error reply: {e}"),
            ReplyError::Shape { what } => write!(f, "unexpected reply: bad or missing {what}"),
        }
    }
}

impl core::error::Error for ReplyError<'_> {}

/// The return value of a reply, or the agent's error.
pub fn return_value<'a>(reply: &Reply<'a>) -> Result<Value<'a>, ReplyError<'a>> {
    match reply.error() {
        Some(Ok(info)) => Err(ReplyError::Agent(info)),
        Some(Err(e)) => Err(ReplyError::Model(e)),
        None => reply
            .return_value()
            .ok_or(ReplyError::Shape { what: "return" }),
    }
}

fn member<'a>(v: Value<'a>, name: &'static str) -> Result<Value<'a>, ReplyError<'a>> {
    v.get(name).ok_or(ReplyError::Shape { what: name })
}

fn int<'a>(v: Value<'a>, name: &'static str) -> Result<i64, ReplyError<'a>> {
    member(v, name)?
        .as_i64()
        .ok_or(ReplyError::Shape { what: name })
}

fn opt_int<'a>(v: Value<'a>, name: &'static str) -> Result<Option<i64>, ReplyError<'a>> {
    v.get(name)
        .map(|m| m.as_i64().ok_or(ReplyError::Shape { what: name }))
        .transpose()
}

fn opt_bool<'a>(v: Value<'a>, name: &'static str) -> Result<bool, ReplyError<'a>> {
    v.get(name)
        .map(|m| m.as_bool().ok_or(ReplyError::Shape { what: name }))
        .transpose()
        .map(|b| b.unwrap_or(false))
}

fn opt_str<'a>(v: Value<'a>, name: &'static str) -> Result<Option<Str<'a>>, ReplyError<'a>> {
    v.get(name)
        .map(|m| m.as_str().ok_or(ReplyError::Shape { what: name }))
        .transpose()
}

fn object<'a>(v: Value<'a>, what: &'static str) -> Result<Value<'a>, ReplyError<'a>> {
    if v.kind() == ValueKind::Object {
        Ok(v)
    } else {
        Err(ReplyError::Shape { what })
    }
}

/// Writes `{` … `}` around members written by `body`.
fn put_object<S: Sink + ?Sized>(
    w: &mut S,
    body: impl FnOnce(&mut Members<'_, S>) -> fmt::Result,
) -> Result<(), EncodeError> {
    w.put_byte(b'{')?;
    let mut m = Members { w, first: true };
    body(&mut m)?;
    m.w.put_byte(b'}')?;
    Ok(())
}

/// An object being written: `"name":value` members, comma-separated.
struct Members<'w, S: Sink + ?Sized> {
    w: &'w mut S,
    first: bool,
}

impl<S: Sink + ?Sized> Members<'_, S> {
    fn key(&mut self, name: &str) -> fmt::Result {
        if !self.first {
            self.w.put_byte(b',')?;
        }
        self.first = false;
        put_str_escaped(self.w, name, false)?;
        self.w.put_byte(b':')
    }

    fn str(&mut self, name: &str, v: &str) -> fmt::Result {
        self.key(name)?;
        put_str_escaped(self.w, v, false)
    }

    fn int(&mut self, name: &str, v: i64) -> fmt::Result {
        self.key(name)?;
        put_i64(self.w, v)
    }

    fn uint(&mut self, name: &str, v: u64) -> fmt::Result {
        self.key(name)?;
        put_u64(self.w, v)
    }

    fn bool(&mut self, name: &str, v: bool) -> fmt::Result {
        self.key(name)?;
        self.w.put(if v { b"true" } else { b"false" })
    }

    fn strs(&mut self, name: &str, v: &[&str]) -> fmt::Result {
        self.key(name)?;
        self.w.put_byte(b'[')?;
        for (i, s) in v.iter().enumerate() {
            if i > 0 {
                self.w.put_byte(b',')?;
            }
            put_str_escaped(self.w, s, false)?;
        }
        self.w.put_byte(b']')
    }

    fn b64(&mut self, name: &str, data: &[u8]) -> fmt::Result {
        self.key(name)?;
        self.w.put_byte(b'"')?;
        base64::encode_to(data, self.w)?;
        self.w.put_byte(b'"')
    }
}

/// Implements [`Payload`] for an argument type through its `write_args`.
macro_rules! args_payload {
    ($($t:ty),*) => {$(
        impl Sealed for $t {}
        impl Payload for $t {
            fn write_payload<S: Sink + ?Sized>(
                &self,
                _: Layout,
                _: bool,
                w: &mut S,
            ) -> Result<(), EncodeError> {
                put_object(w, |m| self.write_args(m))
            }
        }
    )*};
}

// --- guest-ping ---

/// `guest-ping`: checks that the agent answers. Its reply is an empty return.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ping;

impl Ping {
    fn write_args<S: Sink + ?Sized>(&self, _: &mut Members<'_, S>) -> fmt::Result {
        Ok(())
    }

    /// Whether the agent answered with a return.
    pub fn decode<'a>(reply: &Reply<'a>) -> Result<(), ReplyError<'a>> {
        return_value(reply).map(|_| ())
    }
}

impl AgentCommand for Ping {
    const NAME: &'static str = "guest-ping";
    const HAS_ARGUMENTS: bool = false;
}

// --- guest-info ---

/// `guest-info`: the agent's version and its commands, with whether each is enabled (a
/// command blocked with `-b` is listed as disabled).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Info;

impl Info {
    fn write_args<S: Sink + ?Sized>(&self, _: &mut Members<'_, S>) -> fmt::Result {
        Ok(())
    }

    /// Reads the reply.
    pub fn decode<'a>(reply: &Reply<'a>) -> Result<InfoReply<'a>, ReplyError<'a>> {
        let v = object(return_value(reply)?, "return")?;
        let version = member(v, "version")?
            .as_str()
            .ok_or(ReplyError::Shape { what: "version" })?;
        let commands = member(v, "supported_commands")?;
        if commands.kind() != ValueKind::Array {
            return Err(ReplyError::Shape {
                what: "supported_commands",
            });
        }
        Ok(InfoReply { version, commands })
    }
}

impl AgentCommand for Info {
    const NAME: &'static str = "guest-info";
    const HAS_ARGUMENTS: bool = false;
}

/// The return of `guest-info`.
#[derive(Clone, Copy, Debug)]
pub struct InfoReply<'a> {
    version: Str<'a>,
    commands: Value<'a>,
}

impl<'a> InfoReply<'a> {
    /// The agent's version, e.g. `7.2.22`.
    pub fn version(&self) -> Str<'a> {
        self.version
    }

    /// The supported commands, in the agent's order (entries of the wrong shape skipped).
    pub fn commands(&self) -> CommandInfos<'a> {
        CommandInfos {
            elements: self.commands.elements(),
        }
    }

    /// The entry for `name`, if the agent supports it.
    pub fn command(&self, name: &str) -> Option<CommandInfo<'a>> {
        self.commands().find(|c| c.name.eq_str(name))
    }
}

/// One entry of `guest-info`'s `supported_commands`.
#[derive(Clone, Copy, Debug)]
pub struct CommandInfo<'a> {
    /// The command name.
    pub name: Str<'a>,
    /// Whether it is enabled (false when blocked with `-b`).
    pub enabled: bool,
    /// Whether it answers on success (false for `guest-shutdown` and `guest-suspend-*`).
    pub success_response: bool,
}

impl CommandInfo<'_> {
    /// What the command expects back, from its `success-response`.
    pub fn expect(&self) -> Expect {
        if self.success_response {
            Expect::Reply
        } else {
            Expect::Nothing
        }
    }
}

/// The iterator of [`InfoReply::commands`].
#[derive(Clone, Debug)]
pub struct CommandInfos<'a> {
    elements: Elements<'a>,
}

impl<'a> Iterator for CommandInfos<'a> {
    type Item = CommandInfo<'a>;

    fn next(&mut self) -> Option<CommandInfo<'a>> {
        for e in self.elements.by_ref() {
            let name = e.get("name").and_then(|n| n.as_str());
            let enabled = e.get("enabled").and_then(|n| n.as_bool());
            if let (Some(name), Some(enabled)) = (name, enabled) {
                let success_response = e
                    .get("success-response")
                    .and_then(|n| n.as_bool())
                    .unwrap_or(true);
                return Some(CommandInfo {
                    name,
                    enabled,
                    success_response,
                });
            }
        }
        None
    }
}

// --- guest-exec / guest-exec-status ---

/// `guest-exec`: starts a program in the guest; the reply is its pid
/// ([`Exec::decode`]). Poll [`ExecStatus`] until [`exited`](ExecStatusReply::exited).
#[derive(Clone, Copy, Debug, Default)]
pub struct Exec<'a> {
    path: &'a str,
    args: &'a [&'a str],
    env: &'a [&'a str],
    input: Option<&'a [u8]>,
    capture_output: bool,
}

impl<'a> Exec<'a> {
    /// Runs the program at `path` (no arguments, no input, output not captured).
    pub const fn new(path: &'a str) -> Self {
        Exec {
            path,
            args: &[],
            env: &[],
            input: None,
            capture_output: false,
        }
    }

    /// The program's arguments (`arg`), without the program name.
    pub const fn args(mut self, args: &'a [&'a str]) -> Self {
        self.args = args;
        self
    }

    /// Its environment (`env`), as `NAME=value` strings.
    pub const fn env(mut self, env: &'a [&'a str]) -> Self {
        self.env = env;
        self
    }

    /// Bytes for its standard input (`input-data`, base64-encoded for the caller).
    pub const fn input(mut self, input: &'a [u8]) -> Self {
        self.input = Some(input);
        self
    }

    /// Whether to capture its stdout and stderr (`capture-output`), for
    /// [`ExecStatusReply::stdout_into`].
    pub const fn capture_output(mut self, capture: bool) -> Self {
        self.capture_output = capture;
        self
    }

    fn write_args<S: Sink + ?Sized>(&self, m: &mut Members<'_, S>) -> fmt::Result {
        m.str("path", self.path)?;
        if !self.args.is_empty() {
            m.strs("arg", self.args)?;
        }
        if !self.env.is_empty() {
            m.strs("env", self.env)?;
        }
        if let Some(input) = self.input {
            m.b64("input-data", input)?;
        }
        if self.capture_output {
            m.bool("capture-output", true)?;
        }
        Ok(())
    }

    /// The pid of the started program.
    pub fn decode<'r>(reply: &Reply<'r>) -> Result<i64, ReplyError<'r>> {
        int(object(return_value(reply)?, "return")?, "pid")
    }
}

impl AgentCommand for Exec<'_> {
    const NAME: &'static str = "guest-exec";
}

/// `guest-exec-status`: whether a program started by [`Exec`] has exited, with its exit
/// code and captured output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExecStatus {
    /// The pid [`Exec::decode`] returned.
    pub pid: i64,
}

impl ExecStatus {
    fn write_args<S: Sink + ?Sized>(&self, m: &mut Members<'_, S>) -> fmt::Result {
        m.int("pid", self.pid)
    }

    /// Reads the reply.
    pub fn decode<'a>(reply: &Reply<'a>) -> Result<ExecStatusReply<'a>, ReplyError<'a>> {
        let v = object(return_value(reply)?, "return")?;
        let exited = member(v, "exited")?
            .as_bool()
            .ok_or(ReplyError::Shape { what: "exited" })?;
        Ok(ExecStatusReply {
            exited,
            exit_code: opt_int(v, "exitcode")?,
            signal: opt_int(v, "signal")?,
            out_data: opt_str(v, "out-data")?,
            err_data: opt_str(v, "err-data")?,
            out_truncated: opt_bool(v, "out-truncated")?,
            err_truncated: opt_bool(v, "err-truncated")?,
        })
    }
}

impl AgentCommand for ExecStatus {
    const NAME: &'static str = "guest-exec-status";
}

/// The return of `guest-exec-status`.
#[derive(Clone, Copy, Debug)]
pub struct ExecStatusReply<'a> {
    exited: bool,
    exit_code: Option<i64>,
    signal: Option<i64>,
    out_data: Option<Str<'a>>,
    err_data: Option<Str<'a>>,
    out_truncated: bool,
    err_truncated: bool,
}

impl<'a> ExecStatusReply<'a> {
    /// Whether the program has exited (else poll again).
    pub fn exited(&self) -> bool {
        self.exited
    }

    /// Its exit code, once it exited normally.
    pub fn exit_code(&self) -> Option<i64> {
        self.exit_code
    }

    /// The signal that killed it, if one did.
    pub fn signal(&self) -> Option<i64> {
        self.signal
    }

    /// The captured stdout, base64 as sent.
    pub fn stdout_base64(&self) -> Option<Str<'a>> {
        self.out_data
    }

    /// The captured stderr, base64 as sent.
    pub fn stderr_base64(&self) -> Option<Str<'a>> {
        self.err_data
    }

    /// Whether the agent cut stdout short (it keeps at most 16 MiB).
    pub fn stdout_truncated(&self) -> bool {
        self.out_truncated
    }

    /// Whether the agent cut stderr short.
    pub fn stderr_truncated(&self) -> bool {
        self.err_truncated
    }

    /// Decodes the captured stdout into `out` (0 bytes when none was captured).
    pub fn stdout_into(&self, out: &mut [u8]) -> Result<usize, Base64Error> {
        self.out_data
            .map_or(Ok(0), |s| base64::decode_str_into(s, out))
    }

    /// Decodes the captured stderr into `out` (0 bytes when none was captured).
    pub fn stderr_into(&self, out: &mut [u8]) -> Result<usize, Base64Error> {
        self.err_data
            .map_or(Ok(0), |s| base64::decode_str_into(s, out))
    }

    /// The outcome with decoded output (feature `alloc`), once [`exited`](Self::exited).
    #[cfg(feature = "alloc")]
    pub fn to_result(&self) -> Result<Option<ExecResult>, Base64Error> {
        if !self.exited {
            return Ok(None);
        }
        let mut stdout = alloc::vec::Vec::new();
        let mut stderr = alloc::vec::Vec::new();
        if let Some(s) = self.out_data {
            base64::decode_to_vec(s.chars(), &mut stdout)?;
        }
        if let Some(s) = self.err_data {
            base64::decode_to_vec(s.chars(), &mut stderr)?;
        }
        Ok(Some(ExecResult {
            exit_code: self.exit_code,
            signal: self.signal,
            stdout,
            stderr,
            truncated: self.out_truncated || self.err_truncated,
        }))
    }
}

/// Polling a started program to its end, sans-IO: which [`ExecStatus`] to send and when.
///
/// After each status reply, [`on_status`](Self::on_status) says whether the program is done
/// or how long to wait before asking again; the waits double from `first` up to `max` (in
/// the caller's time unit), so a quick program is seen quickly and a slow one costs few
/// requests. The caller bounds the whole run with its own deadline.
///
/// ```
/// use qmp_codec::agent::commands::{ExecPoll, ExecProgress};
/// let mut poll = ExecPoll::new(7).with_backoff(10, 40);
/// assert_eq!(poll.request().pid, 7);
/// assert_eq!(poll.next_delay(), 10);
/// poll.waited();
/// assert_eq!(poll.next_delay(), 20);
/// poll.waited();
/// poll.waited();
/// assert_eq!(poll.next_delay(), 40);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExecPoll {
    pid: i64,
    delay: u64,
    max: u64,
}

/// What [`ExecPoll::on_status`] says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecProgress {
    /// The program has exited: the status reply holds its exit code and output.
    Exited,
    /// Still running: send [`ExecPoll::request`] again after this delay.
    Running {
        /// How long to wait, in the caller's time unit.
        after: u64,
    },
}

impl ExecPoll {
    /// Polls the program `pid` (from [`Exec::decode`]), waiting 10 then up to 100 units
    /// (milliseconds, say) between requests.
    pub const fn new(pid: i64) -> Self {
        ExecPoll {
            pid,
            delay: 10,
            max: 100,
        }
    }

    /// The first wait and the longest one.
    pub const fn with_backoff(mut self, first: u64, max: u64) -> Self {
        self.delay = first;
        self.max = if max < first { first } else { max };
        self
    }

    /// The status request to send.
    pub const fn request(&self) -> ExecStatus {
        ExecStatus { pid: self.pid }
    }

    /// The wait before the next request.
    pub const fn next_delay(&self) -> u64 {
        self.delay
    }

    /// One wait was spent: the next is twice as long, up to the maximum.
    pub fn waited(&mut self) {
        self.delay = self.delay.saturating_mul(2).clamp(1, self.max);
    }

    /// Reads a status reply: done, or wait and ask again.
    pub fn on_status(&mut self, status: &ExecStatusReply<'_>) -> ExecProgress {
        if status.exited() {
            return ExecProgress::Exited;
        }
        let after = self.delay;
        self.waited();
        ExecProgress::Running { after }
    }
}

/// A finished program (feature `alloc`): exit code, signal and decoded output.
#[cfg(feature = "alloc")]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecResult {
    /// The exit code, when it exited normally.
    pub exit_code: Option<i64>,
    /// The signal that killed it.
    pub signal: Option<i64>,
    /// Its standard output.
    pub stdout: alloc::vec::Vec<u8>,
    /// Its standard error.
    pub stderr: alloc::vec::Vec<u8>,
    /// Whether the agent cut either stream short.
    pub truncated: bool,
}

// --- guest-file-* ---

/// `guest-file-open`: opens a file in the guest; the reply is a handle
/// ([`FileOpen::decode`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileOpen<'a> {
    /// The path in the guest.
    pub path: &'a str,
    /// An `fopen` mode (`r`, `w`, `a`, `r+`, …); the agent's default is `r`.
    pub mode: Option<&'a str>,
}

impl FileOpen<'_> {
    fn write_args<S: Sink + ?Sized>(&self, m: &mut Members<'_, S>) -> fmt::Result {
        m.str("path", self.path)?;
        if let Some(mode) = self.mode {
            m.str("mode", mode)?;
        }
        Ok(())
    }

    /// The handle of the opened file.
    pub fn decode<'r>(reply: &Reply<'r>) -> Result<i64, ReplyError<'r>> {
        return_value(reply)?
            .as_i64()
            .ok_or(ReplyError::Shape { what: "return" })
    }
}

impl AgentCommand for FileOpen<'_> {
    const NAME: &'static str = "guest-file-open";
}

/// `guest-file-read`: reads up to `count` bytes (the agent's default is 4096); the data
/// comes base64-encoded ([`FileReadReply::data_into`] decodes it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileRead {
    /// The handle from [`FileOpen::decode`].
    pub handle: i64,
    /// How many bytes to read at most.
    pub count: Option<u64>,
}

impl FileRead {
    fn write_args<S: Sink + ?Sized>(&self, m: &mut Members<'_, S>) -> fmt::Result {
        m.int("handle", self.handle)?;
        if let Some(count) = self.count {
            m.uint("count", count)?;
        }
        Ok(())
    }

    /// Reads the reply.
    pub fn decode<'a>(reply: &Reply<'a>) -> Result<FileReadReply<'a>, ReplyError<'a>> {
        let v = object(return_value(reply)?, "return")?;
        Ok(FileReadReply {
            count: int(v, "count")?,
            eof: member(v, "eof")?
                .as_bool()
                .ok_or(ReplyError::Shape { what: "eof" })?,
            data: member(v, "buf-b64")?
                .as_str()
                .ok_or(ReplyError::Shape { what: "buf-b64" })?,
        })
    }
}

impl AgentCommand for FileRead {
    const NAME: &'static str = "guest-file-read";
}

/// The return of `guest-file-read`.
#[derive(Clone, Copy, Debug)]
pub struct FileReadReply<'a> {
    count: i64,
    eof: bool,
    data: Str<'a>,
}

impl<'a> FileReadReply<'a> {
    /// How many bytes were read, as the agent says.
    pub fn count(&self) -> i64 {
        self.count
    }

    /// Whether the end of the file was reached.
    pub fn eof(&self) -> bool {
        self.eof
    }

    /// The data, base64 as sent.
    pub fn data_base64(&self) -> Str<'a> {
        self.data
    }

    /// Decodes the data into `out`; returns its length.
    pub fn data_into(&self, out: &mut [u8]) -> Result<usize, Base64Error> {
        base64::decode_str_into(self.data, out)
    }

    /// Appends the decoded data to `out` (feature `alloc`); returns its length.
    #[cfg(feature = "alloc")]
    pub fn append_to(&self, out: &mut alloc::vec::Vec<u8>) -> Result<usize, Base64Error> {
        base64::decode_to_vec(self.data.chars(), out)
    }
}

/// `guest-file-write`: writes bytes (base64-encoded for the caller as the request is
/// written, with no intermediate buffer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileWrite<'a> {
    /// The handle from [`FileOpen::decode`].
    pub handle: i64,
    /// The bytes to write. Keep chunks well under the transmit buffer: the request holds
    /// them base64-encoded ([`base64::encoded_len`]).
    pub data: &'a [u8],
}

impl FileWrite<'_> {
    /// The most bytes one `guest-file-write` for `handle` may carry so that the request fits
    /// a transmit buffer of `transmit_capacity` bytes, whatever its id (0 when none fit).
    ///
    /// ```
    /// use qmp_codec::agent::commands::FileWrite;
    /// use qmp_codec::encode::{Encode, Id, Request};
    /// let max = FileWrite::max_data_len(1000, 4096);
    /// let data = vec![0u8; max];
    /// let request = Request::execute("guest-file-write")
    ///     .with_arguments(FileWrite { handle: 1000, data: &data })
    ///     .with_id(Id::new(u64::MAX));
    /// assert!(request.encoded_len().unwrap() <= 4096);
    /// let one_more = vec![0u8; max + 3];
    /// let request = Request::execute("guest-file-write")
    ///     .with_arguments(FileWrite { handle: 1000, data: &one_more })
    ///     .with_id(Id::new(u64::MAX));
    /// assert!(request.encoded_len().unwrap() > 4096);
    /// ```
    pub fn max_data_len(handle: i64, transmit_capacity: usize) -> usize {
        let empty = Request::execute(<Self as AgentCommand>::NAME)
            .with_arguments(FileWrite { handle, data: &[] })
            .with_id(Id::new(u64::MAX));
        let Ok(overhead) = crate::encode::Encode::encoded_len(&empty) else {
            return 0;
        };
        transmit_capacity.saturating_sub(overhead) / 4 * 3
    }

    fn write_args<S: Sink + ?Sized>(&self, m: &mut Members<'_, S>) -> fmt::Result {
        m.int("handle", self.handle)?;
        m.b64("buf-b64", self.data)
    }

    /// Reads the reply: `(count, eof)`.
    pub fn decode<'a>(reply: &Reply<'a>) -> Result<(i64, bool), ReplyError<'a>> {
        let v = object(return_value(reply)?, "return")?;
        Ok((int(v, "count")?, opt_bool(v, "eof")?))
    }
}

impl AgentCommand for FileWrite<'_> {
    const NAME: &'static str = "guest-file-write";
}

/// `guest-file-close`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileClose {
    /// The handle from [`FileOpen::decode`].
    pub handle: i64,
}

impl FileClose {
    fn write_args<S: Sink + ?Sized>(&self, m: &mut Members<'_, S>) -> fmt::Result {
        m.int("handle", self.handle)
    }

    /// Whether the agent closed it.
    pub fn decode<'a>(reply: &Reply<'a>) -> Result<(), ReplyError<'a>> {
        return_value(reply).map(|_| ())
    }
}

impl AgentCommand for FileClose {
    const NAME: &'static str = "guest-file-close";
}

// --- guest-get-osinfo ---

/// `guest-get-osinfo`: the guest's operating system (`/etc/os-release` and `uname`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OsInfo;

impl OsInfo {
    fn write_args<S: Sink + ?Sized>(&self, _: &mut Members<'_, S>) -> fmt::Result {
        Ok(())
    }

    /// Reads the reply.
    pub fn decode<'a>(reply: &Reply<'a>) -> Result<OsInfoReply<'a>, ReplyError<'a>> {
        Ok(OsInfoReply {
            value: object(return_value(reply)?, "return")?,
        })
    }
}

impl AgentCommand for OsInfo {
    const NAME: &'static str = "guest-get-osinfo";
    const HAS_ARGUMENTS: bool = false;
}

/// The return of `guest-get-osinfo`: every member is optional.
#[derive(Clone, Copy, Debug)]
pub struct OsInfoReply<'a> {
    value: Value<'a>,
}

impl<'a> OsInfoReply<'a> {
    fn field(&self, name: &str) -> Option<Str<'a>> {
        self.value.get(name).and_then(|v| v.as_str())
    }

    /// `id` (e.g. `debian`).
    pub fn id(&self) -> Option<Str<'a>> {
        self.field("id")
    }

    /// `name` (e.g. `Debian GNU/Linux`).
    pub fn name(&self) -> Option<Str<'a>> {
        self.field("name")
    }

    /// `pretty-name`.
    pub fn pretty_name(&self) -> Option<Str<'a>> {
        self.field("pretty-name")
    }

    /// `version`.
    pub fn version(&self) -> Option<Str<'a>> {
        self.field("version")
    }

    /// `version-id`.
    pub fn version_id(&self) -> Option<Str<'a>> {
        self.field("version-id")
    }

    /// `kernel-release` (`uname -r`).
    pub fn kernel_release(&self) -> Option<Str<'a>> {
        self.field("kernel-release")
    }

    /// `kernel-version` (`uname -v`).
    pub fn kernel_version(&self) -> Option<Str<'a>> {
        self.field("kernel-version")
    }

    /// `machine` (`uname -m`).
    pub fn machine(&self) -> Option<Str<'a>> {
        self.field("machine")
    }

    /// The whole return value, for members not listed here.
    pub fn value(&self) -> Value<'a> {
        self.value
    }
}

// --- guest-network-get-interfaces ---

/// `guest-network-get-interfaces`: the guest's network interfaces and addresses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetworkInterfaces;

impl NetworkInterfaces {
    fn write_args<S: Sink + ?Sized>(&self, _: &mut Members<'_, S>) -> fmt::Result {
        Ok(())
    }

    /// Reads the reply: an iterator of interfaces.
    pub fn decode<'a>(reply: &Reply<'a>) -> Result<Interfaces<'a>, ReplyError<'a>> {
        let v = return_value(reply)?;
        if v.kind() != ValueKind::Array {
            return Err(ReplyError::Shape { what: "return" });
        }
        Ok(Interfaces {
            elements: v.elements(),
        })
    }
}

impl AgentCommand for NetworkInterfaces {
    const NAME: &'static str = "guest-network-get-interfaces";
    const HAS_ARGUMENTS: bool = false;
}

/// The interfaces of [`NetworkInterfaces::decode`] (entries without a `name` skipped).
#[derive(Clone, Debug)]
pub struct Interfaces<'a> {
    elements: Elements<'a>,
}

impl<'a> Iterator for Interfaces<'a> {
    type Item = Interface<'a>;

    fn next(&mut self) -> Option<Interface<'a>> {
        self.elements.by_ref().find_map(|e| {
            Some(Interface {
                name: e.get("name")?.as_str()?,
                value: e,
            })
        })
    }
}

/// One network interface.
#[derive(Clone, Copy, Debug)]
pub struct Interface<'a> {
    name: Str<'a>,
    value: Value<'a>,
}

impl<'a> Interface<'a> {
    /// Its name (e.g. `lo`).
    pub fn name(&self) -> Str<'a> {
        self.name
    }

    /// Its MAC address (`hardware-address`), when it has one.
    pub fn hardware_address(&self) -> Option<Str<'a>> {
        self.value.get("hardware-address").and_then(|v| v.as_str())
    }

    /// Its addresses (entries of the wrong shape skipped).
    pub fn addresses(&self) -> impl Iterator<Item = IpAddress<'a>> + 'a {
        let list = self.value.get("ip-addresses");
        list.into_iter().flat_map(|l| l.elements()).filter_map(|a| {
            Some(IpAddress {
                address: a.get("ip-address")?.as_str()?,
                kind: a.get("ip-address-type")?.as_str()?,
                prefix: a.get("prefix")?.as_i64()?,
            })
        })
    }

    /// The `statistics` object, when the agent sends one.
    pub fn statistics(&self) -> Option<Value<'a>> {
        self.value.get("statistics")
    }
}

/// One address of an [`Interface`].
#[derive(Clone, Copy, Debug)]
pub struct IpAddress<'a> {
    /// The address text (`127.0.0.1`, `::1`).
    pub address: Str<'a>,
    /// `ipv4` or `ipv6`.
    pub kind: Str<'a>,
    /// The prefix length.
    pub prefix: i64,
}

args_payload!(
    Ping,
    Info,
    Exec<'_>,
    ExecStatus,
    FileOpen<'_>,
    FileRead,
    FileWrite<'_>,
    FileClose,
    OsInfo,
    NetworkInterfaces
);
