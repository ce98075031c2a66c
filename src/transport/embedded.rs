//! A blocking QMP client over `embedded_io::{Read, Write}`: no std, no allocator, every
//! buffer supplied by the caller.
//!
//! [`Client`] reads into the sans-IO [`client::Client`]'s receive buffer (the caller's
//! `rx`) and runs the crate's one driver over it, as every transport does; requests are
//! encoded in the caller's transmit buffer. Results are borrowed: [`Client::execute`]
//! returns the response [`Message`] as it lies in the receive buffer, valid until the next
//! call, and a QMP error reply is `Err(Error::Qmp(info))`, as in every transport. Events
//! that arrive while a command waits go to the client's handler (see
//! [`Client::with_handler`]). With a clock ([`Client::with_deadline`]) every call ends at
//! its deadline; the clock is read whenever a read returns, so the stream should return
//! `ErrorKind::TimedOut` (or data) now and then.
//!
//! ```
//! use qmp_codec::transport::embedded::{Client, Error};
//! use qmp_codec::transport::NO_ARGUMENTS;
//! use qmp_codec::Kind;
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
//! # let io = Script { output: [0; 256], written: 0, input: b"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 0, \"major\": 10}, \"package\": \"\"}, \"capabilities\": []}}\r\n{\"return\": {}}\r\n{\"return\": {\"status\": \"running\"}, \"id\": \"__qmp#00000\"}\r\n" };
//! let (mut rx, mut tx) = ([0u8; 512], [0u8; 128]);
//! // `io` is any `embedded_io::Read + Write`, e.g. a UART or a TCP socket.
//! let mut qmp = Client::new(io, &mut rx, &mut tx)?;
//! assert_eq!(qmp.version().unwrap().major, 10);
//! // The reply and a QMP error both borrow the receive buffer until the next call.
//! let reply = match qmp.execute("query-status", NO_ARGUMENTS) {
//!     Ok(reply) => reply,
//!     Err(Error::Qmp(info)) => panic!("{}: {}", info.class_str(), info.desc()),
//!     Err(_) => return Ok(()),
//! };
//! assert_eq!(reply.kind(), Kind::Return);
//! assert!(reply.get("return").unwrap().get("status").unwrap().as_str().unwrap() == "running");
//! # Ok::<(), qmp_codec::transport::embedded::Error<'static, core::convert::Infallible>>(())
//! ```

use core::fmt;

use embedded_io::{ErrorKind, Read, Write};

use crate::client::{self, ClientConfig, ClientError, ClientEvent, ClientState, Refusal};
use crate::driver::{self, Done, Sink, Want};
use crate::encode::{Payload, Request};
use crate::message::Message;
use crate::model::{ErrorInfo, Event, Greeting, Version};

/// Requests in flight: one, as the client waits for each reply.
pub(crate) const PENDING: usize = 1;

/// The handler of [`Client::new`]: it drops every event.
pub type IgnoreEvents = fn(&ClientEvent<'_>);

pub(crate) fn ignore(_: &ClientEvent<'_>) {}

/// Why a call failed.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum Error<'a, E> {
    /// The server answered with an error reply (borrowed from the receive buffer).
    Qmp(ErrorInfo<'a>),
    /// The reply matched the command but is neither a return nor a valid error.
    InvalidResponse,
    /// The transport failed; the session is closed (part of a message may be lost).
    Io(E),
    /// The connection is closed: end of stream, or an earlier I/O error.
    Closed,
    /// The server refused `qmp_capabilities`; the session is closed.
    Negotiation,
    /// The call passed its deadline ([`Client::with_deadline`]); the session goes on.
    Timeout,
    /// A limit refused a message while this command waited (its reply may have been that
    /// message); the session goes on.
    ReplyRefused(Refusal),
    /// The request was not sent: the engine refused it (OOB not negotiated, arguments that
    /// are not an object, a request larger than the transmit buffer).
    Refused(ClientError),
    /// The guest agent command was not sent: the agent engine refused it (a request larger
    /// than the transmit buffer).
    AgentRefused(crate::agent::AgentError),
}

impl<E: fmt::Debug> fmt::Display for Error<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Qmp(info) => write!(f, "QMP error: {}: {}", info.class_str(), info.desc()),
            Error::InvalidResponse => f.write_str("invalid QMP response"),
            Error::Io(e) => write!(f, "QMP I/O error: {e:?}"),
            Error::Closed => f.write_str("the QMP connection is closed"),
            Error::Negotiation => f.write_str("QMP negotiation refused"),
            Error::Timeout => f.write_str("timed out waiting for the QMP server"),
            Error::ReplyRefused(r) => write!(f, "no usable reply: {r}"),
            Error::Refused(e) => write!(f, "QMP request not sent: {e}"),
            Error::AgentRefused(e) => write!(f, "guest agent command not sent: {e}"),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for Error<'_, E> {}

impl<E> From<crate::agent::AgentError> for Error<'_, E> {
    fn from(e: crate::agent::AgentError) -> Self {
        match e {
            crate::agent::AgentError::Closed => Error::Closed,
            other => Error::AgentRefused(other),
        }
    }
}

impl<E> From<ClientError> for Error<'_, E> {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::Closed => Error::Closed,
            other => Error::Refused(other),
        }
    }
}

/// The driver's sink for this transport: the handler sees events and skipped messages.
pub(crate) struct Handler<'h, H> {
    pub(crate) handler: &'h mut H,
    pub(crate) violations: &'h mut u64,
    pub(crate) version: &'h mut Option<Version>,
}

impl<H: FnMut(&ClientEvent<'_>)> Sink for Handler<'_, H> {
    fn greeting(&mut self, greeting: &Greeting<'_>) {
        *self.version = greeting.version();
    }

    fn event(&mut self, event: Event<'_>) {
        (self.handler)(&ClientEvent::Event(event));
    }

    fn violation(&mut self, event: &ClientEvent<'_>) {
        *self.violations = self.violations.saturating_add(1);
        (self.handler)(event);
    }
}

/// A clock in milliseconds and the deadline of each call.
#[derive(Clone, Copy)]
pub(crate) struct Deadline {
    pub(crate) now: fn() -> u64,
    pub(crate) timeout_ms: u64,
}

/// A negotiated QMP session over an `embedded_io` stream and two caller buffers.
///
/// `rx` bounds the largest message (longer ones are skipped and reported); `tx` the
/// largest request (at least [`client::MIN_TRANSMIT_BUFFER`] bytes). `H` sees every event
/// that arrives while a command waits, and every skipped message
/// ([`ClientEvent::Violation`], [`ClientEvent::Refused`], [`ClientEvent::Unmatched`]).
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
    pub fn new(
        io: IO,
        rx: &'b mut [u8],
        tx: &'b mut [u8],
    ) -> Result<Self, Error<'static, IO::Error>> {
        Client::with_handler(io, rx, tx, ClientConfig::new(), ignore)
    }
}

impl<'b, IO, H> Client<'b, IO, H>
where
    IO: Read + Write,
    H: FnMut(&ClientEvent<'_>),
{
    /// Reads the greeting and negotiates with `config`; `handler` gets the events that
    /// arrive while a command waits, and every skipped message.
    pub fn with_handler(
        io: IO,
        rx: &'b mut [u8],
        tx: &'b mut [u8],
        config: ClientConfig,
        handler: H,
    ) -> Result<Self, Error<'static, IO::Error>> {
        Client::connect(io, rx, tx, config, handler, None)
    }

    /// Like [`with_handler`](Self::with_handler), with a deadline of `timeout_ms` for
    /// negotiating and for every later call, measured with `now` (milliseconds).
    pub fn with_deadline(
        io: IO,
        rx: &'b mut [u8],
        tx: &'b mut [u8],
        config: ClientConfig,
        handler: H,
        now: fn() -> u64,
        timeout_ms: u64,
    ) -> Result<Self, Error<'static, IO::Error>> {
        Client::connect(
            io,
            rx,
            tx,
            config,
            handler,
            Some(Deadline { now, timeout_ms }),
        )
    }

    fn connect(
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
        match client.wait(Want::Negotiated)? {
            Done::Negotiated => Ok(client),
            Done::NegotiationFailed => Err(Error::Negotiation),
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
    /// from the receive buffer until the next call; an error reply is
    /// [`Error::Qmp`].
    pub fn execute<A: Payload>(
        &mut self,
        name: &str,
        arguments: Option<A>,
    ) -> Result<Message<'_>, Error<'_, IO::Error>> {
        match arguments {
            Some(a) => self.request(Request::execute(name).with_arguments(a)),
            None => self.request(Request::execute(name)),
        }
    }

    /// Like [`execute`](Self::execute) with `exec-oob`: needs OOB to be negotiated.
    pub fn execute_oob<A: Payload>(
        &mut self,
        name: &str,
        arguments: Option<A>,
    ) -> Result<Message<'_>, Error<'_, IO::Error>> {
        match arguments {
            Some(a) => self.request(Request::execute_oob(name).with_arguments(a)),
            None => self.request(Request::execute_oob(name)),
        }
    }

    /// Sends any [`Request`] (its id is replaced by a fresh one) and returns the success
    /// response.
    pub fn request<A: Payload, I: Payload>(
        &mut self,
        request: Request<'_, A, I>,
    ) -> Result<Message<'_>, Error<'_, IO::Error>> {
        let id = self.engine.send(request, None)?;
        match self.wait(Want::Response(id)) {
            Ok(Done::Response) => {}
            Ok(Done::TimedOut) => {
                // A late reply is unmatched: dropped and counted.
                self.engine.cancel(id);
                return Err(Error::Timeout);
            }
            Ok(other) => return Err(done_error(other)),
            Err(e) => return Err(e),
        }
        reply(&self.engine)
    }

    /// Reads until an event arrives and returns it (a message that
    /// [`Event::new`](crate::Event::new) accepts), borrowed until the next call.
    pub fn next_event(&mut self) -> Result<Message<'_>, Error<'_, IO::Error>> {
        match self.wait(Want::Event)? {
            Done::Event => self.engine.last_message().ok_or(Error::Closed),
            other => Err(done_error(other)),
        }
    }

    /// The stream.
    pub fn io_mut(&mut self) -> &mut IO {
        &mut self.io
    }

    /// Gives the stream back.
    pub fn into_inner(self) -> IO {
        self.io
    }

    /// The driver loop of this transport ([`drive`]) around [`driver::pump`], until the wait
    /// for `want` ends or the deadline passes.
    fn wait(&mut self, want: Want) -> Result<Done, Error<'static, IO::Error>> {
        let mut sink = Handler {
            handler: &mut self.handler,
            violations: &mut self.violations,
            version: &mut self.version,
        };
        let done = drive(
            &mut self.io,
            &mut self.engine,
            self.deadline,
            |engine| match driver::pump(engine, want, &mut sink) {
                Some(Done::Blocked) => Pumped::Flush,
                Some(done) => Pumped::Done(done),
                None => Pumped::Read,
            },
        )?;
        Ok(done.unwrap_or(Done::TimedOut))
    }
}

/// The reply the engine holds: the success response, or its error as [`Error::Qmp`]. By
/// kind, not `classify`: a client never needs the command model linked in.
pub(crate) fn reply<'a, E, const N: usize>(
    engine: &'a client::Client<'_, N>,
) -> Result<Message<'a>, Error<'a, E>> {
    let Some(message) = engine.last_message() else {
        debug_assert!(false, "a reply without its message");
        return Err(Error::Closed);
    };
    match message.kind() {
        crate::Kind::Return => Ok(message),
        crate::Kind::Error => match crate::model::error_of(&message) {
            Some(Ok(info)) => Err(Error::Qmp(info)),
            _ => Err(Error::InvalidResponse),
        },
        _ => Err(Error::InvalidResponse),
    }
}

/// What one pump of an engine tells [`drive`].
pub(crate) enum Pumped<D> {
    /// The wait is over.
    Done(D),
    /// The output is full: write it out and pump again.
    Flush,
    /// The engine needs input: write out its output, then read.
    Read,
}

/// The one loop of the `embedded-io` transports, for any engine ([`driver::Engine`]): pump,
/// write the output, read, until `pump` says the wait is over (`Some`) or the deadline
/// passes (`None`).
pub(crate) fn drive<IO: Read + Write, E: driver::Engine, D>(
    io: &mut IO,
    engine: &mut E,
    deadline: Option<Deadline>,
    mut pump: impl FnMut(&mut E) -> Pumped<D>,
) -> Result<Option<D>, Error<'static, IO::Error>> {
    let end = deadline.map(|d| (d.now, (d.now)().saturating_add(d.timeout_ms)));
    loop {
        match pump(engine) {
            Pumped::Done(done) => return Ok(Some(done)),
            Pumped::Flush => {
                flush(io, engine)?;
                continue;
            }
            Pumped::Read => {}
        }
        flush(io, engine)?;
        if end.is_some_and(|(now, end)| now() >= end) {
            return Ok(None);
        }
        fill(io, engine)?;
    }
}

/// Reads once into the engine's receive buffer.
fn fill<IO: Read, E: driver::Engine>(
    io: &mut IO,
    engine: &mut E,
) -> Result<(), Error<'static, IO::Error>> {
    loop {
        let read = io.read(receive_space(engine)?);
        if let Some(done) = after_read(engine, read) {
            return done;
        }
    }
}

/// Writes the engine's queued output. A failure closes the session.
fn flush<IO: Write, E: driver::Engine>(
    io: &mut IO,
    engine: &mut E,
) -> Result<(), Error<'static, IO::Error>> {
    while !engine.pending_transmit().is_empty() {
        let written = io.write(engine.pending_transmit());
        after_write(engine, written)?;
    }
    let flushed = io.flush();
    after_flush(engine, flushed)
}

// The decisions around each I/O call of the `embedded-io` transports, shared by the blocking
// and the async ones (which differ only in how they call `read`, `write` and `flush`).

/// The engine's free receive space; none only after the end of stream, which the next pump
/// reports.
pub(crate) fn receive_space<E: driver::Engine, IoError>(
    engine: &mut E,
) -> Result<&mut [u8], Error<'static, IoError>> {
    if engine.spare().is_empty() {
        debug_assert!(engine.is_closed(), "a full buffer");
        return Err(Error::Closed);
    }
    Ok(engine.spare())
}

/// What a read's result does to the engine: `None` to read again (interrupted), else the
/// read's outcome. The stream's own timeout is no error: the caller checks its deadline.
pub(crate) fn after_read<E: driver::Engine, IoError: embedded_io::Error>(
    engine: &mut E,
    read: Result<usize, IoError>,
) -> Option<Result<(), Error<'static, IoError>>> {
    match read {
        Ok(0) => {
            engine.handle_eof();
            Some(Ok(()))
        }
        Ok(n) => {
            engine.commit(n);
            Some(Ok(()))
        }
        Err(e) if e.kind() == ErrorKind::Interrupted => None,
        Err(e) if e.kind() == ErrorKind::TimedOut => Some(Ok(())),
        Err(e) => {
            engine.close();
            Some(Err(Error::Io(e)))
        }
    }
}

/// What a write's result does to the engine: what was written leaves the queue; nothing
/// written or an error closes the session (part of a message may have gone).
pub(crate) fn after_write<E: driver::Engine, IoError: embedded_io::Error>(
    engine: &mut E,
    written: Result<usize, IoError>,
) -> Result<(), Error<'static, IoError>> {
    match written {
        Ok(0) => {
            engine.close();
            Err(Error::Closed)
        }
        Ok(n) => {
            engine.consume_transmit(n);
            Ok(())
        }
        Err(e) if e.kind() == ErrorKind::Interrupted => Ok(()),
        Err(e) => {
            engine.close();
            Err(Error::Io(e))
        }
    }
}

/// What a flush's result does to the engine: an error closes the session.
pub(crate) fn after_flush<E: driver::Engine, IoError>(
    engine: &mut E,
    flushed: Result<(), IoError>,
) -> Result<(), Error<'static, IoError>> {
    flushed.map_err(|e| {
        engine.close();
        Error::Io(e)
    })
}

/// The error for a wait that ended without what it waited for.
pub(crate) fn done_error<'a, E>(done: Done) -> Error<'a, E> {
    match done {
        Done::TimedOut => Error::Timeout,
        Done::Refused(r) => Error::ReplyRefused(r),
        Done::NegotiationFailed => Error::Negotiation,
        _ => Error::Closed,
    }
}

impl<IO, H> fmt::Debug for Client<'_, IO, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("state", &self.engine.state())
            .field("version", &self.version)
            .field("protocol_violations", &self.violations)
            .finish_non_exhaustive()
    }
}
