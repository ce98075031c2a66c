//! An async QMP client over `embedded_io_async::{Read, Write}` (feature `embedded-io-async`):
//! for Embassy-style executors, with no std, no allocator and every buffer supplied by the
//! caller.
//!
//! It is the [`embedded`](super::embedded) client with async I/O: the same engine, the same
//! driver decisions (its `wait` is an adapter around the crate's one driver), the same
//! [`Error`] (a QMP error reply is [`Error::Qmp`]) and the same handler for events and
//! skipped messages. With a clock ([`Client::with_deadline`]) every call ends at its
//! deadline; the clock is read whenever a read returns, so a stream should time out its
//! reads (as `embassy_time::with_timeout` around a UART read does) or return data now and
//! then.

use embedded_io_async::{Read, Write};

use super::embedded::{
    after_flush, after_read, after_write, done_error, ignore, receive_space, reply, Deadline,
    Error, Handler, IgnoreEvents, PENDING,
};
use crate::client::{self, ClientConfig, ClientEvent, ClientState};
use crate::driver::{self, Done, Want};
use crate::encode::{Payload, Request};
use crate::message::Message;
use crate::model::Version;

/// A negotiated QMP session over an async `embedded_io_async` stream and two caller
/// buffers: `rx` bounds the largest message, `tx` the largest request.
pub struct Client<'b, IO, H = IgnoreEvents> {
    io: IO,
    engine: client::Client<'b, PENDING>,
    handler: H,
    version: Option<Version>,
    violations: u64,
    deadline: Option<Deadline>,
}

impl<'b, IO: Read + Write> Client<'b, IO> {
    /// Reads the greeting and negotiates with [`ClientConfig::new`]; events that arrive
    /// while a command waits are dropped.
    pub async fn new(
        io: IO,
        rx: &'b mut [u8],
        tx: &'b mut [u8],
    ) -> Result<Self, Error<'static, IO::Error>> {
        Client::connect(
            io,
            rx,
            tx,
            ClientConfig::new(),
            ignore as IgnoreEvents,
            None,
        )
        .await
    }
}

impl<'b, IO, H> Client<'b, IO, H>
where
    IO: Read + Write,
    H: FnMut(&ClientEvent<'_>),
{
    /// Reads the greeting and negotiates with `config`; `handler` gets the events that
    /// arrive while a command waits, and every skipped message.
    pub async fn with_handler(
        io: IO,
        rx: &'b mut [u8],
        tx: &'b mut [u8],
        config: ClientConfig,
        handler: H,
    ) -> Result<Self, Error<'static, IO::Error>> {
        Client::connect(io, rx, tx, config, handler, None).await
    }

    /// Like [`with_handler`](Self::with_handler), with a deadline of `timeout_ms` for
    /// negotiating and for every later call, measured with `now` (milliseconds).
    pub async fn with_deadline(
        io: IO,
        rx: &'b mut [u8],
        tx: &'b mut [u8],
        config: ClientConfig,
        handler: H,
        now: fn() -> u64,
        timeout_ms: u64,
    ) -> Result<Self, Error<'static, IO::Error>> {
        let deadline = Some(Deadline { now, timeout_ms });
        Client::connect(io, rx, tx, config, handler, deadline).await
    }

    async fn connect(
        io: IO,
        rx: &'b mut [u8],
        tx: &'b mut [u8],
        config: ClientConfig,
        handler: H,
        deadline: Option<Deadline>,
    ) -> Result<Self, Error<'static, IO::Error>> {
        let engine = client::Client::new(rx, tx, config)?;
        let mut client = Client {
            io,
            engine,
            handler,
            version: None,
            violations: 0,
            deadline,
        };
        match client.wait(Want::Negotiated).await? {
            Done::Negotiated => Ok(client),
            other => Err(done_error(other)),
        }
    }

    /// The QEMU version from the greeting.
    pub fn version(&self) -> Option<Version> {
        self.version
    }

    /// Whether out-of-band execution was negotiated.
    pub fn oob_enabled(&self) -> bool {
        self.engine.oob_enabled()
    }

    /// Whether the session is over.
    pub fn is_closed(&self) -> bool {
        self.engine.state() == ClientState::Closed
    }

    /// How many messages broke the protocol and were skipped.
    pub fn protocol_violations(&self) -> u64 {
        self.violations
    }

    /// Runs `{"execute": name, "arguments": …}` and returns the success response, borrowed
    /// from the receive buffer until the next call; an error reply is [`Error::Qmp`].
    pub async fn execute<A: Payload>(
        &mut self,
        name: &str,
        arguments: Option<A>,
    ) -> Result<Message<'_>, Error<'_, IO::Error>> {
        match arguments {
            Some(a) => self.request(Request::execute(name).with_arguments(a)).await,
            None => self.request(Request::execute(name)).await,
        }
    }

    /// Sends any [`Request`] (its id is replaced by a fresh one) and returns the success
    /// response.
    pub async fn request<A: Payload, I: Payload>(
        &mut self,
        request: Request<'_, A, I>,
    ) -> Result<Message<'_>, Error<'_, IO::Error>> {
        let id = self.engine.send(request, None)?;
        match self.wait(Want::Response(id)).await {
            Ok(Done::Response) => reply(&self.engine),
            Ok(Done::TimedOut) => {
                // A late reply is unmatched: dropped and counted.
                self.engine.cancel(id);
                Err(Error::Timeout)
            }
            Ok(other) => Err(done_error(other)),
            Err(e) => Err(e),
        }
    }

    /// Reads until an event arrives and returns it, borrowed until the next call.
    pub async fn next_event(&mut self) -> Result<Message<'_>, Error<'_, IO::Error>> {
        match self.wait(Want::Event).await? {
            Done::Event => self.engine.last_message().ok_or(Error::Closed),
            other => Err(done_error(other)),
        }
    }

    /// Gives the stream back.
    pub fn into_inner(self) -> IO {
        self.io
    }

    /// This transport's adapter around [`driver::pump`]: pump, write out, read, until the
    /// wait for `want` ends or the deadline passes.
    async fn wait(&mut self, want: Want) -> Result<Done, Error<'static, IO::Error>> {
        let end = self
            .deadline
            .map(|d| (d.now, (d.now)().saturating_add(d.timeout_ms)));
        loop {
            let mut sink = Handler {
                handler: &mut self.handler,
                violations: &mut self.violations,
                version: &mut self.version,
            };
            match driver::pump(&mut self.engine, want, &mut sink) {
                Some(Done::Blocked) => {
                    self.flush().await?;
                    continue;
                }
                Some(done) => return Ok(done),
                None => {}
            }
            self.flush().await?;
            if end.is_some_and(|(now, end)| now() >= end) {
                return Ok(Done::TimedOut);
            }
            self.fill().await?;
        }
    }

    /// Reads once into the engine (the decisions are the blocking client's).
    async fn fill(&mut self) -> Result<(), Error<'static, IO::Error>> {
        loop {
            let read = self.io.read(receive_space(&mut self.engine)?).await;
            if let Some(done) = after_read(&mut self.engine, read) {
                return done;
            }
        }
    }

    /// Writes the engine's queued output (the decisions are the blocking client's).
    async fn flush(&mut self) -> Result<(), Error<'static, IO::Error>> {
        while !self.engine.pending_transmit().is_empty() {
            let written = self.io.write(self.engine.pending_transmit()).await;
            after_write(&mut self.engine, written)?;
        }
        let flushed = self.io.flush().await;
        after_flush(&mut self.engine, flushed)
    }
}
