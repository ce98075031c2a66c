//! A blocking guest agent (qemu-ga) client over any `Read + Write` stream: a Unix socket, or
//! a virtio-serial character device opened as a file.
//!
//! [`AgentClient`] drives the sans-IO [`Agent`] engine with the blocking transports' one
//! loop's steps (`transport/stream.rs`) and the driver's decisions (`driver::pump_agent`); it only
//! moves bytes
//! and turns replies into results. Every call syncs first when the session is out of sync
//! (a new connection, a command that timed out, a command without a success response), so
//! a late reply is never taken for the call's. Each call has one deadline for the whole call,
//! sync included.
//!
//! ```no_run
//! use qmp_codec::transport::agent::AgentClient;
//! use qmp_codec::transport::NO_ARGUMENTS;
//!
//! let mut ga = AgentClient::connect_unix("/run/qga.sock")?;
//! let info = ga.execute("guest-info", NO_ARGUMENTS)?;
//! println!("{}", info.value().get("version").unwrap());
//! let run = ga.exec("/bin/echo", &["hello"], None)?;
//! assert_eq!(run.stdout, b"hello\n");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::boxed::Box;
use std::io::{Read, Write};
#[cfg(unix)]
use std::os::unix::net::UnixStream;
#[cfg(unix)]
use std::path::Path;
use std::string::ToString;
use std::time::{Duration, Instant};

use super::blocking::Connection;
use super::stream::{drive, Pumped, SetTimeout};
use super::{return_value, Error};
use crate::agent::commands::{AgentCommand, Exec, ExecPoll, ExecProgress, ExecResult, ExecStatus};
use crate::agent::{Agent, AgentConfig, AgentState, Expect, Reply};
use crate::driver::{self, AgentCounts, AgentDone, AgentWant};
use crate::encode::{Payload, Request};
use crate::OwnedValue;

/// The default deadline of a call, sync included: 30 s.
pub const DEFAULT_AGENT_TIMEOUT: Duration = Duration::from_secs(30);

/// A guest agent session over a blocking stream. See the [module docs](self).
pub struct AgentClient<S> {
    stream: S,
    engine: Agent<'static>,
    set_timeout: Option<SetTimeout<S>>,
    timeout: Option<Duration>,
    epoch: Instant,
    counts: AgentCounts,
}

#[cfg(unix)]
impl AgentClient<UnixStream> {
    /// Connects to the agent's Unix socket at `path` (nothing is sent until the first call).
    pub fn connect_unix(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let stream = UnixStream::connect(path).map_err(|source| Error::Connect {
            address: path.display().to_string(),
            source,
        })?;
        AgentClient::connect(stream)
    }

    /// A new connection to `path` for the same session (the agent restarted, the guest
    /// rebooted): the next call syncs afresh.
    pub fn reconnect_unix(&mut self, path: impl AsRef<Path>) -> Result<(), Error> {
        let path = path.as_ref();
        let stream = UnixStream::connect(path).map_err(|source| Error::Connect {
            address: path.display().to_string(),
            source,
        })?;
        self.reconnect(stream);
        Ok(())
    }
}

impl<S: Connection> AgentClient<S> {
    /// A session over `stream`, whose read timeout enforces each call's deadline.
    pub fn connect(stream: S) -> Result<Self, Error> {
        Self::with_engine(stream, Some(S::set_read_timeout), default_engine()?)
    }
}

impl<S: Read + Write> AgentClient<S> {
    /// A session over a stream without timeouts of its own (a character device): deadlines
    /// are checked only when a read returns.
    pub fn new(stream: S) -> Result<Self, Error> {
        Self::with_engine(stream, None, default_engine()?)
    }

    fn with_engine(
        stream: S,
        set_timeout: Option<SetTimeout<S>>,
        engine: Agent<'static>,
    ) -> Result<Self, Error> {
        Ok(AgentClient {
            stream,
            engine,
            set_timeout,
            timeout: Some(DEFAULT_AGENT_TIMEOUT),
            epoch: Instant::now(),
            counts: AgentCounts::default(),
        })
    }

    /// Sets the deadline of every later call, sync included (`None`: no limit).
    pub fn set_timeout(&mut self, timeout: Option<Duration>) {
        self.timeout = timeout;
    }

    /// Replaces the stream (a new connection to a restarted agent): buffered input and
    /// output are dropped and the next call syncs afresh, with a new sync id.
    pub fn reconnect(&mut self, stream: S) {
        self.stream = stream;
        self.engine.reconnect();
        // Drop the notices of the old connection.
        while self.engine.poll_event().is_some() {}
    }

    /// The engine, e.g. for its [`state`](Agent::state).
    pub fn engine(&self) -> &Agent<'static> {
        &self.engine
    }

    /// How many frames were discarded as stale by syncs (the agent's error for the sentinel
    /// byte is one per sync).
    pub fn stale_frames(&self) -> u64 {
        self.counts.stale
    }

    /// How many frames broke the protocol while in sync (including replies that came for
    /// nobody and errors of commands that expected no reply).
    pub fn protocol_violations(&self) -> u64 {
        self.counts.violations
    }

    /// Syncs now (`0xFF` and `guest-sync-delimited` with a fresh id), within the call's
    /// deadline; returns the sync id.
    pub fn sync(&mut self) -> Result<u64, Error> {
        let deadline = self.deadline();
        self.sync_until(deadline)
    }

    /// Runs `name` with `arguments` and returns its return value (`null` for a command that
    /// expects no reply, once it was written out). An error reply is [`Error::Qmp`].
    pub fn execute<A: Payload>(
        &mut self,
        name: &str,
        arguments: Option<A>,
    ) -> Result<OwnedValue, Error> {
        let expect = Expect::for_command(name);
        match arguments {
            Some(a) => self.run(Request::execute(name).with_arguments(a), expect),
            None => self.run(Request::execute(name), expect),
        }
    }

    /// Runs a typed command and reads its reply with `read` (e.g. `Exec::decode`).
    pub fn call<C: AgentCommand, R>(
        &mut self,
        command: &C,
        read: impl FnOnce(&Reply<'_>) -> R,
    ) -> Result<R, Error> {
        let deadline = self.deadline();
        self.call_until(command, deadline, read)
    }

    fn call_until<C: AgentCommand, R>(
        &mut self,
        command: &C,
        deadline: Option<Instant>,
        read: impl FnOnce(&Reply<'_>) -> R,
    ) -> Result<R, Error> {
        self.ensure_synced(deadline)?;
        let ms = self.ms(deadline);
        let id = self.engine.call(command, ms)?;
        let want = match C::EXPECT {
            Expect::Reply => AgentWant::Reply(id),
            Expect::Nothing => AgentWant::Sent(id),
        };
        self.wait(want, deadline)?;
        match self.engine.last_message() {
            Some(message) => Ok(read(&Reply::new(id, message))),
            None => Err(Error::Closed),
        }
    }

    /// Runs `path` with `args` in the guest (and `input` on its stdin), polls
    /// `guest-exec-status` until it exits, and returns its exit code and decoded output. The
    /// whole run, polls and waits between them included, has the call's one deadline.
    pub fn exec(
        &mut self,
        path: &str,
        args: &[&str],
        input: Option<&[u8]>,
    ) -> Result<ExecResult, Error> {
        let mut exec = Exec::new(path).args(args).capture_output(true);
        if let Some(input) = input {
            exec = exec.input(input);
        }
        let deadline = self.deadline();
        let pid = self.call_until(&exec, deadline, |r| {
            Exec::decode(r).map_err(|e| reply_error(r, &e))
        })??;
        let mut poll = ExecPoll::new(pid);
        loop {
            let status = self.call_until(&poll.request(), deadline, |r| {
                let status = ExecStatus::decode(r).map_err(|e| reply_error(r, &e))?;
                let progress = poll.on_status(&status);
                let result = status.to_result().map_err(|_| {
                    Error::InvalidResponse(Box::new(r.message().to_owned_message()))
                })?;
                Ok::<_, Error>((progress, result))
            })??;
            match status {
                (ExecProgress::Exited, Some(result)) => return Ok(result),
                (ExecProgress::Running { after }, _) => {
                    let mut wait = Duration::from_millis(after);
                    if let Some(d) = deadline {
                        let left = d.saturating_duration_since(Instant::now());
                        if left.is_zero() {
                            return Err(Error::Timeout);
                        }
                        wait = wait.min(left);
                    }
                    std::thread::sleep(wait);
                }
                (ExecProgress::Exited, None) => return Err(Error::Closed),
            }
        }
    }

    fn run<A: Payload, I: Payload>(
        &mut self,
        request: Request<'_, A, I>,
        expect: Expect,
    ) -> Result<OwnedValue, Error> {
        let deadline = self.deadline();
        self.ensure_synced(deadline)?;
        let ms = self.ms(deadline);
        let id = self.engine.send(request, expect, ms)?;
        match expect {
            Expect::Reply => {
                self.wait(AgentWant::Reply(id), deadline)?;
                match self.engine.last_message() {
                    Some(message) => Ok(return_value(Error::check(&message)?)),
                    None => Err(Error::Closed),
                }
            }
            Expect::Nothing => {
                self.wait(AgentWant::Sent(id), deadline)?;
                Ok(OwnedValue::null())
            }
        }
    }

    fn ensure_synced(&mut self, deadline: Option<Instant>) -> Result<(), Error> {
        match self.engine.state() {
            AgentState::Ready => Ok(()),
            AgentState::Closed => Err(Error::Closed),
            _ => self.sync_until(deadline).map(|_| ()),
        }
    }

    fn sync_until(&mut self, deadline: Option<Instant>) -> Result<u64, Error> {
        let ms = self.ms(deadline);
        let id = self.engine.sync(ms)?;
        self.wait(AgentWant::Synced(id), deadline)?;
        Ok(id)
    }

    /// The driver loop of this transport: pump the engine ([`driver::pump_agent`]), write
    /// its output, read with the time left, until the wait for `want` ends. A deadline that
    /// passes poisons the session (the engine times the sync or command out, and the next
    /// call syncs).
    fn wait(&mut self, want: AgentWant, deadline: Option<Instant>) -> Result<(), Error> {
        let counts = &mut self.counts;
        let done = drive(
            &mut self.stream,
            &mut self.engine,
            self.set_timeout,
            deadline,
            |engine| match driver::pump_agent(engine, want, counts) {
                Some(done) => Pumped::Done(done),
                None => Pumped::Read,
            },
        )?;
        driver::end_agent_wait(&mut self.engine, done).map_err(|end| match end {
            AgentDone::Refused(r) => Error::ReplyRefused(r),
            AgentDone::Closed => Error::Closed,
            _ => Error::Timeout,
        })
    }

    fn deadline(&self) -> Option<Instant> {
        self.timeout.and_then(|t| Instant::now().checked_add(t))
    }

    /// A deadline in the engine's clock: milliseconds since the session began.
    fn ms(&self, deadline: Option<Instant>) -> Option<u64> {
        deadline.map(|d| d.saturating_duration_since(self.epoch).as_millis() as u64)
    }
}

/// The engine of a new session: 1 MiB replies, 1 MiB requests (a `guest-file-write` chunk is
/// base64 in one request), sync ids seeded from the clock so that a stale sync reply left
/// on a shared channel by another client never matches.
pub(super) fn default_engine() -> Result<Agent<'static>, Error> {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_millis() as u64);
    Ok(Agent::with_capacity(
        1 << 20,
        1 << 20,
        AgentConfig::new().with_first_sync_id(seed),
    )?)
}

/// A decoder's refusal as a transport error: the agent's own error, or the reply kept whole.
pub(super) fn reply_error(
    reply: &Reply<'_>,
    error: &crate::agent::commands::ReplyError<'_>,
) -> Error {
    match error {
        crate::agent::commands::ReplyError::Agent(info) => {
            Error::Qmp(super::QmpError::new(info, reply.message()))
        }
        _ => Error::InvalidResponse(Box::new(reply.message().to_owned_message())),
    }
}
