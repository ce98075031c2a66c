//! The guest agent (qemu-ga) on tokio: the same engine, driver decisions and rules as the
//! blocking [`AgentClient`](super::agent::AgentClient), over any `AsyncRead + AsyncWrite`.
//!
//! The agent serves one command at a time, so calls take `&mut self`. Every call syncs first
//! when the session is out of sync and has one deadline for the whole call, sync included;
//! a call that times out (or whose future is dropped) leaves the session out of sync, so its
//! late reply can never be taken for the next call's.
//!
//! ```no_run
//! use qmp_codec::transport::tokio_agent::AgentClient;
//! use qmp_codec::transport::NO_ARGUMENTS;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), qmp_codec::transport::Error> {
//! let mut ga = AgentClient::connect_unix("/run/qga.sock").await?;
//! let info = ga.execute("guest-info", NO_ARGUMENTS).await?;
//! println!("{}", info.value().get("version").unwrap());
//! let run = ga.exec("/bin/echo", &["hello"], None).await?;
//! assert_eq!(run.stdout, b"hello\n");
//! # Ok(())
//! # }
//! ```

use std::boxed::Box;
use std::string::ToString;
use std::time::Duration;

use ::tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use ::tokio::time::Instant;

use super::agent::{default_engine, reply_error, DEFAULT_AGENT_TIMEOUT};
use super::{return_value, Error};
use crate::agent::commands::{AgentCommand, Exec, ExecPoll, ExecProgress, ExecResult, ExecStatus};
use crate::agent::{Agent, AgentState, Expect, Reply};
use crate::driver::{self, AgentCounts, AgentDone, AgentWant};
use crate::encode::{Payload, Request};
use crate::OwnedValue;

/// A guest agent session on tokio. See the [module docs](self).
pub struct AgentClient<T> {
    io: T,
    engine: Agent<'static>,
    timeout: Option<Duration>,
    epoch: Instant,
    counts: AgentCounts,
    /// A call was abandoned mid-way (its future dropped): the session must sync again.
    abandoned: bool,
}

#[cfg(unix)]
impl AgentClient<::tokio::net::UnixStream> {
    /// Connects to the agent's Unix socket at `path` (nothing is sent until the first call).
    pub async fn connect_unix(path: impl AsRef<std::path::Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        // qemu-ga serves one client at a time and its listen queue is short: a connect
        // that finds it full (EAGAIN on a non-blocking socket) is retried, as a blocking
        // connect would wait, until the default deadline.
        let deadline = Instant::now() + DEFAULT_AGENT_TIMEOUT;
        let io = loop {
            match ::tokio::net::UnixStream::connect(path).await {
                Ok(io) => break io,
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock && Instant::now() < deadline =>
                {
                    ::tokio::time::sleep(Duration::from_millis(10)).await;
                }
                Err(source) => {
                    return Err(Error::Connect {
                        address: path.display().to_string(),
                        source,
                    })
                }
            }
        };
        AgentClient::new(io)
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AgentClient<T> {
    /// A session over `io`.
    pub fn new(io: T) -> Result<Self, Error> {
        Ok(AgentClient {
            io,
            engine: default_engine()?,
            timeout: Some(DEFAULT_AGENT_TIMEOUT),
            epoch: Instant::now(),
            counts: AgentCounts::default(),
            abandoned: false,
        })
    }

    /// Sets the deadline of every later call, sync included (`None`: no limit).
    pub fn set_timeout(&mut self, timeout: Option<Duration>) {
        self.timeout = timeout;
    }

    /// Replaces the stream (a new connection to a restarted agent): the next call syncs
    /// afresh, with a new sync id.
    pub fn reconnect(&mut self, io: T) {
        self.io = io;
        self.engine.reconnect();
        while self.engine.poll_event().is_some() {}
        self.abandoned = false;
    }

    /// The engine, e.g. for its [`state`](Agent::state).
    pub fn engine(&self) -> &Agent<'static> {
        &self.engine
    }

    /// Input discarded while out of sync (stale replies, the sentinel's error).
    pub fn stale_frames(&self) -> u64 {
        self.counts.stale
    }

    /// Input that broke the protocol, replies nobody waits for, refused frames.
    pub fn protocol_violations(&self) -> u64 {
        self.counts.violations
    }

    /// Syncs now, within the call's deadline; returns the sync id.
    pub async fn sync(&mut self) -> Result<u64, Error> {
        let deadline = self.deadline();
        self.begin();
        let id = self.sync_until(deadline).await;
        self.end(id)
    }

    /// Runs `name` with `arguments` and returns its return value (`null` for a command that
    /// expects no reply, once it was written out). An error reply is [`Error::Qmp`].
    pub async fn execute<A: Payload>(
        &mut self,
        name: &str,
        arguments: Option<A>,
    ) -> Result<OwnedValue, Error> {
        let deadline = self.deadline();
        let expect = Expect::for_command(name);
        self.begin();
        let result = match arguments {
            Some(a) => {
                self.run(Request::execute(name).with_arguments(a), expect, deadline)
                    .await
            }
            None => self.run(Request::execute(name), expect, deadline).await,
        };
        self.end(result)
    }

    /// Runs a typed command and reads its reply with `read` (e.g. `Exec::decode`).
    pub async fn call<C: AgentCommand, R>(
        &mut self,
        command: &C,
        read: impl FnOnce(&Reply<'_>) -> R,
    ) -> Result<R, Error> {
        let deadline = self.deadline();
        self.begin();
        let result = self.call_until(command, deadline, read).await;
        self.end(result)
    }

    /// Runs `path` with `args` in the guest (and `input` on its stdin), polls
    /// `guest-exec-status` until it exits, and returns its exit code and decoded output,
    /// all within the call's one deadline.
    pub async fn exec(
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
        self.begin();
        let result = self.exec_until(&exec, deadline).await;
        self.end(result)
    }

    async fn exec_until(
        &mut self,
        exec: &Exec<'_>,
        deadline: Option<Instant>,
    ) -> Result<ExecResult, Error> {
        let pid = self
            .call_until(exec, deadline, |r| {
                Exec::decode(r).map_err(|e| reply_error(r, &e))
            })
            .await??;
        let mut poll = ExecPoll::new(pid);
        loop {
            let status = self
                .call_until(&poll.request(), deadline, |r| {
                    let status = ExecStatus::decode(r).map_err(|e| reply_error(r, &e))?;
                    let progress = poll.on_status(&status);
                    let result = status.to_result().map_err(|_| {
                        Error::InvalidResponse(Box::new(r.message().to_owned_message()))
                    })?;
                    Ok::<_, Error>((progress, result))
                })
                .await??;
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
                    ::tokio::time::sleep(wait).await;
                }
                (ExecProgress::Exited, None) => return Err(Error::Closed),
            }
        }
    }

    /// A call starts: one abandoned before it (its future dropped mid-way) poisons the
    /// session, which syncs again.
    fn begin(&mut self) {
        if std::mem::replace(&mut self.abandoned, true) {
            self.engine.handle_timeout(u64::MAX);
            while self.engine.poll_event().is_some() {}
        }
    }

    /// A call ended (not abandoned).
    fn end<R>(&mut self, result: Result<R, Error>) -> Result<R, Error> {
        self.abandoned = false;
        result
    }

    async fn call_until<C: AgentCommand, R>(
        &mut self,
        command: &C,
        deadline: Option<Instant>,
        read: impl FnOnce(&Reply<'_>) -> R,
    ) -> Result<R, Error> {
        self.ensure_synced(deadline).await?;
        let ms = self.ms(deadline);
        let id = self.engine.call(command, ms)?;
        let want = match C::EXPECT {
            Expect::Reply => AgentWant::Reply(id),
            Expect::Nothing => AgentWant::Sent(id),
        };
        self.wait(want, deadline).await?;
        match self.engine.last_message() {
            Some(message) => Ok(read(&Reply::new(id, message))),
            None => Err(Error::Closed),
        }
    }

    async fn run<A: Payload, I: Payload>(
        &mut self,
        request: Request<'_, A, I>,
        expect: Expect,
        deadline: Option<Instant>,
    ) -> Result<OwnedValue, Error> {
        self.ensure_synced(deadline).await?;
        let ms = self.ms(deadline);
        let id = self.engine.send(request, expect, ms)?;
        match expect {
            Expect::Reply => {
                self.wait(AgentWant::Reply(id), deadline).await?;
                match self.engine.last_message() {
                    Some(message) => Ok(return_value(Error::check(&message)?)),
                    None => Err(Error::Closed),
                }
            }
            Expect::Nothing => {
                self.wait(AgentWant::Sent(id), deadline).await?;
                Ok(OwnedValue::null())
            }
        }
    }

    async fn ensure_synced(&mut self, deadline: Option<Instant>) -> Result<(), Error> {
        match self.engine.state() {
            AgentState::Ready => Ok(()),
            AgentState::Closed => Err(Error::Closed),
            _ => self.sync_until(deadline).await.map(|_| ()),
        }
    }

    async fn sync_until(&mut self, deadline: Option<Instant>) -> Result<u64, Error> {
        let ms = self.ms(deadline);
        let id = self.engine.sync(ms)?;
        self.wait(AgentWant::Synced(id), deadline).await?;
        Ok(id)
    }

    /// This transport's adapter around the driver: pump the engine
    /// ([`driver::pump_agent`]), write its output, read with the time left, until the wait
    /// for `want` ends. A deadline that passes poisons the session.
    async fn wait(&mut self, want: AgentWant, deadline: Option<Instant>) -> Result<(), Error> {
        let done = loop {
            if let Some(done) = driver::pump_agent(&mut self.engine, want, &mut self.counts) {
                break Some(done);
            }
            let pending = self.engine.pending_transmit().len();
            if pending > 0 {
                let written = self.io.write_all(self.engine.pending_transmit()).await;
                let flushed = match written {
                    Ok(()) => self.io.flush().await,
                    Err(e) => Err(e),
                };
                if let Err(e) = flushed {
                    self.engine.close();
                    return Err(Error::from_io(e));
                }
                self.engine.consume_transmit(pending);
                continue;
            }
            let spare = self.engine.spare();
            if spare.is_empty() {
                return Err(Error::Closed);
            }
            let read = self.io.read(spare);
            let n = match deadline {
                Some(d) => match ::tokio::time::timeout_at(d, read).await {
                    Ok(n) => n,
                    Err(_) => break None,
                },
                None => read.await,
            };
            match n {
                Ok(0) => self.engine.handle_eof(),
                Ok(n) => self.engine.commit(n),
                Err(e) => {
                    self.engine.close();
                    return Err(Error::from_io(e));
                }
            }
        };
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
