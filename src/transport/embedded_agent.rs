//! A blocking guest agent client over `embedded_io::{Read, Write}` (a UART or a
//! virtio-serial port on a small host): no std, no allocator, every buffer supplied by the
//! caller.
//!
//! [`AgentClient`] drives the sans-IO [`Agent`] engine with the `embedded-io` transports'
//! one loop (`embedded::drive`) and the driver's decisions (`driver::pump_agent`). Every call
//! syncs first when the session is out of sync (a new stream, a call that timed out, a
//! command without a success response), so a late reply is never taken for the call's.
//! Replies are borrowed from the caller's receive buffer until the next call.
//!
//! ```
//! use qmp_codec::agent::commands::Ping;
//! use qmp_codec::agent::AgentConfig;
//! use qmp_codec::transport::embedded_agent::AgentClient;
//! # struct Script<'a> { input: &'a [u8], output: [u8; 256], written: usize }
//! # impl embedded_io::ErrorType for Script<'_> { type Error = core::convert::Infallible; }
//! # impl embedded_io::Read for Script<'_> {
//! #     fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
//! #         let n = buf.len().min(self.input.len());
//! #         buf[..n].copy_from_slice(&self.input[..n]);
//! #         self.input = &self.input[n..];
//! #         Ok(n)
//! #     }
//! # }
//! # impl embedded_io::Write for Script<'_> {
//! #     fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
//! #         let n = buf.len().min(self.output.len() - self.written);
//! #         self.output[self.written..][..n].copy_from_slice(&buf[..n]);
//! #         self.written += n;
//! #         Ok(n)
//! #     }
//! #     fn flush(&mut self) -> Result<(), Self::Error> { Ok(()) }
//! # }
//! # let io = Script { output: [0; 256], written: 0, input: b"\xff{\"return\": 5}\n{\"return\": {}, \"id\": \"__qmp#00000\"}\n" };
//! let (mut rx, mut tx) = ([0u8; 512], [0u8; 128]);
//! // `io` is any `embedded_io::Read + Write`.
//! let mut ga = AgentClient::new(io, &mut rx, &mut tx, AgentConfig::new().with_first_sync_id(5))?;
//! ga.call(&Ping, |reply| Ping::decode(reply).is_ok())?;
//! # Ok::<(), qmp_codec::transport::embedded::Error<'static, core::convert::Infallible>>(())
//! ```

use embedded_io::{Read, Write};

use super::embedded::{drive, Deadline, Error, Pumped};
use crate::agent::commands::AgentCommand;
use crate::agent::{Agent, AgentConfig, AgentState, Expect, Reply};
use crate::driver::{self, AgentCounts, AgentDone, AgentWant};
use crate::encode::{Payload, Request};
use crate::message::Message;
use crate::Classified;

/// A guest agent session over an `embedded_io` stream and two caller buffers.
pub struct AgentClient<'b, IO> {
    io: IO,
    engine: Agent<'b>,
    deadline: Option<Deadline>,
    counts: AgentCounts,
}

impl<'b, IO: Read + Write> AgentClient<'b, IO> {
    /// A session over `io`, receiving into `rx` (the longest reply) and transmitting from
    /// `tx` (the longest command, at least [`MIN_TRANSMIT_BUFFER`](crate::agent::MIN_TRANSMIT_BUFFER)
    /// bytes). Nothing is sent until the first call. Seed the sync ids
    /// ([`AgentConfig::with_first_sync_id`]) with something no earlier client used.
    pub fn new(
        io: IO,
        rx: &'b mut [u8],
        tx: &'b mut [u8],
        config: AgentConfig,
    ) -> Result<Self, Error<'static, IO::Error>> {
        Ok(AgentClient {
            io,
            engine: Agent::new(rx, tx, config)?,
            deadline: None,
            counts: AgentCounts::default(),
        })
    }

    /// Like [`new`](Self::new), with a deadline of `timeout_ms` for every call, sync
    /// included, measured with `now` (milliseconds).
    pub fn with_deadline(
        io: IO,
        rx: &'b mut [u8],
        tx: &'b mut [u8],
        config: AgentConfig,
        now: fn() -> u64,
        timeout_ms: u64,
    ) -> Result<Self, Error<'static, IO::Error>> {
        let mut client = Self::new(io, rx, tx, config)?;
        client.deadline = Some(Deadline { now, timeout_ms });
        Ok(client)
    }

    /// The engine, e.g. for its [`state`](Agent::state).
    pub fn engine(&self) -> &Agent<'b> {
        &self.engine
    }

    /// How many frames syncs discarded as stale.
    pub fn stale_frames(&self) -> u64 {
        self.counts.stale
    }

    /// How many frames broke the protocol while in sync.
    pub fn protocol_violations(&self) -> u64 {
        self.counts.violations
    }

    /// A new stream for the same session (the agent restarted): the next call syncs afresh.
    pub fn reconnect(&mut self, io: IO) {
        self.io = io;
        self.engine.reconnect();
        while self.engine.poll_event().is_some() {}
    }

    /// Syncs now; returns the sync id.
    pub fn sync(&mut self) -> Result<u64, Error<'static, IO::Error>> {
        let ms = self.engine_deadline();
        let id = self.engine.sync(ms)?;
        self.wait(AgentWant::Synced(id))?;
        Ok(id)
    }

    /// Runs `name` with `arguments`: the success reply, borrowed until the next call (`None`
    /// for a command that expects no reply, once written out); an error reply is
    /// [`Error::Qmp`].
    pub fn execute<A: Payload>(
        &mut self,
        name: &str,
        arguments: Option<A>,
    ) -> Result<Option<Message<'_>>, Error<'_, IO::Error>> {
        self.ensure_synced()?;
        let ms = self.engine_deadline();
        let expect = Expect::for_command(name);
        let id = match arguments {
            Some(a) => self
                .engine
                .send(Request::execute(name).with_arguments(a), expect, ms)?,
            None => self.engine.send(Request::execute(name), expect, ms)?,
        };
        if expect == Expect::Nothing {
            self.wait(AgentWant::Sent(id))?;
            return Ok(None);
        }
        self.wait(AgentWant::Reply(id))?;
        let message = self.engine.last_message().ok_or(Error::Closed)?;
        match message.classify() {
            Ok(Classified::Return(_)) => Ok(Some(message)),
            Ok(Classified::Error(e)) => Err(Error::Qmp(e.info())),
            _ => Err(Error::InvalidResponse),
        }
    }

    /// Runs a typed command and reads its reply with `read` (e.g. `Exec::decode`).
    pub fn call<C: AgentCommand, R>(
        &mut self,
        command: &C,
        read: impl FnOnce(&Reply<'_>) -> R,
    ) -> Result<R, Error<'static, IO::Error>> {
        self.ensure_synced()?;
        let ms = self.engine_deadline();
        let id = self.engine.call(command, ms)?;
        let want = match C::EXPECT {
            Expect::Reply => AgentWant::Reply(id),
            Expect::Nothing => AgentWant::Sent(id),
        };
        self.wait(want)?;
        let message = self.engine.last_message().ok_or(Error::Closed)?;
        Ok(read(&Reply::new(id, message)))
    }

    fn ensure_synced(&mut self) -> Result<(), Error<'static, IO::Error>> {
        match self.engine.state() {
            AgentState::Ready => Ok(()),
            AgentState::Closed => Err(Error::Closed),
            _ => self.sync().map(|_| ()),
        }
    }

    /// The call's deadline in the engine's clock (the caller's milliseconds).
    fn engine_deadline(&self) -> Option<u64> {
        self.deadline
            .map(|d| (d.now)().saturating_add(d.timeout_ms))
    }

    /// The one loop, until the wait ends; a deadline that passes poisons the session.
    fn wait(&mut self, want: AgentWant) -> Result<(), Error<'static, IO::Error>> {
        let counts = &mut self.counts;
        let done =
            drive(
                &mut self.io,
                &mut self.engine,
                self.deadline,
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
}
