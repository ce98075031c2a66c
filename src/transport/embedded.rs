//! A blocking QMP client over `embedded_io::{Read, Write}`: no std, no allocator, every
//! buffer supplied by the caller.
//!
//! [`Client`] frames input in the caller's receive buffer with the crate's [`Framer`] and
//! hands each frame to the sans-IO [`client::Client`]; requests are encoded in the caller's
//! transmit buffer. Results are borrowed: [`Client::execute`] returns the response
//! [`Message`] as it lies in the receive buffer, valid until the next call. Events that
//! arrive while a command waits go to the client's handler (see [`Client::with_handler`]).
//!
//! ```
//! use qmp_codec::transport::embedded::Client;
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
//! let reply = qmp.execute("query-status", NO_ARGUMENTS)?;
//! assert_eq!(reply.kind(), Kind::Return);
//! assert!(reply.get("return").unwrap().get("status").unwrap().as_str().unwrap() == "running");
//! # Ok::<(), qmp_codec::transport::embedded::Error<core::convert::Infallible>>(())
//! ```

use core::fmt;
use core::ops::Range;

use embedded_io::{Error as _, ErrorKind, Read, Write};

use crate::client::{self, ClientConfig, ClientError, ClientEvent, ClientState, Violation};
use crate::encode::{Payload, Request};
use crate::framer::{Framer, Status};
use crate::message::{Detached, Message};
use crate::model::Version;

/// Requests in flight: one, as the client waits for each reply.
const PENDING: usize = 1;

/// The handler of [`Client::new`]: it drops every event.
pub type IgnoreEvents = fn(&ClientEvent<'_>);

fn ignore(_: &ClientEvent<'_>) {}

/// Why a call failed. The server's error replies are not errors here: they are returned
/// as response messages of kind [`Kind::Error`](crate::Kind::Error).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error<E> {
    /// The transport failed; the session is closed (part of a message may be lost).
    Io(E),
    /// The connection is closed: end of stream, or an earlier I/O error.
    Closed,
    /// The server refused `qmp_capabilities`; the session is closed.
    Negotiation,
    /// The request was not sent: the engine refused it (OOB not negotiated, arguments that
    /// are not an object, a request larger than the transmit buffer).
    Refused(ClientError),
}

impl<E: fmt::Debug> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "QMP I/O error: {e:?}"),
            Error::Closed => f.write_str("the QMP connection is closed"),
            Error::Negotiation => f.write_str("QMP negotiation refused"),
            Error::Refused(e) => write!(f, "QMP request not sent: {e}"),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for Error<E> {}

impl<E> From<ClientError> for Error<E> {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::Closed => Error::Closed,
            other => Error::Refused(other),
        }
    }
}

/// Where the message that ended a wait lies in `rx`, and what its scan found.
type Found = (Range<usize>, Detached);

/// What a read loop waits for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    Negotiated,
    Response(crate::encode::Id),
    Event,
}

/// A negotiated QMP session over an `embedded_io` stream and two caller buffers.
///
/// `rx` bounds the largest message (longer ones are skipped and reported); `tx` the
/// largest request (at least [`client::MIN_TRANSMIT_BUFFER`] bytes). `H` sees every event
/// that arrives while a command waits, and every skipped message
/// ([`ClientEvent::Violation`], [`ClientEvent::Unmatched`]).
pub struct Client<'b, IO, H = IgnoreEvents> {
    io: IO,
    engine: client::Client<'b, PENDING>,
    rx: &'b mut [u8],
    /// Unconsumed input is `rx[start..end]`.
    start: usize,
    end: usize,
    framer: Framer,
    eof: bool,
    handler: H,
    version: Option<Version>,
    violations: u32,
}

impl<'b, IO: Read + Write> Client<'b, IO> {
    /// Reads the greeting and negotiates with [`ClientConfig::new`]; events that arrive
    /// while a command waits are dropped.
    pub fn new(io: IO, rx: &'b mut [u8], tx: &'b mut [u8]) -> Result<Self, Error<IO::Error>> {
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
    ) -> Result<Self, Error<IO::Error>> {
        // Input is framed here, so the engine's own receive buffer stays empty.
        let engine = client::Client::new(&mut [], tx, config)?;
        let max = config.framer().max_frame_len().min(rx.len());
        let mut client = Client {
            io,
            engine,
            rx,
            start: 0,
            end: 0,
            framer: Framer::new(config.framer().with_max_frame_len(max)),
            eof: false,
            handler,
            version: None,
            violations: 0,
        };
        client.wait(Want::Negotiated)?;
        Ok(client)
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
    pub fn protocol_violations(&self) -> u32 {
        self.violations
    }

    /// Runs `{"execute": name, "arguments": …}` and returns the response (a return or an
    /// error), borrowed from the receive buffer until the next call.
    pub fn execute<A: Payload>(
        &mut self,
        name: &str,
        arguments: Option<A>,
    ) -> Result<Message<'_>, Error<IO::Error>> {
        match arguments {
            Some(a) => self.request(Request::execute(name).arguments(a)),
            None => self.request(Request::execute(name)),
        }
    }

    /// Like [`execute`](Self::execute) with `exec-oob`: needs OOB to be negotiated.
    pub fn execute_oob<A: Payload>(
        &mut self,
        name: &str,
        arguments: Option<A>,
    ) -> Result<Message<'_>, Error<IO::Error>> {
        match arguments {
            Some(a) => self.request(Request::exec_oob(name).arguments(a)),
            None => self.request(Request::exec_oob(name)),
        }
    }

    /// Sends any [`Request`] (its id is replaced by a fresh one) and returns the response.
    pub fn request<A: Payload, I: Payload>(
        &mut self,
        request: Request<'_, A, I>,
    ) -> Result<Message<'_>, Error<IO::Error>> {
        let id = self.engine.send(request, None)?;
        self.flush()?;
        let found = self.wait(Want::Response(id))?;
        self.attach(found)
    }

    /// Reads until an event arrives and returns it (a message that
    /// [`Event::new`](crate::Event::new) accepts), borrowed until the next call.
    pub fn next_event(&mut self) -> Result<Message<'_>, Error<IO::Error>> {
        let found = self.wait(Want::Event)?;
        self.attach(found)
    }

    /// The stream.
    pub fn io_mut(&mut self) -> &mut IO {
        &mut self.io
    }

    /// Gives the stream back.
    pub fn into_inner(self) -> IO {
        self.io
    }

    /// The message found by [`wait`](Self::wait), on the bytes it was found in (nothing
    /// was read since, so they are unchanged).
    fn attach(&self, found: Option<Found>) -> Result<Message<'_>, Error<IO::Error>> {
        found
            .and_then(|(range, detached)| Message::attach(detached, self.rx.get(range)?))
            // Cannot happen: the wait found a message, and the bytes are untouched.
            .ok_or(Error::Closed)
    }

    /// Reads and hands frames to the engine until `want` happens; returns where the
    /// message that ends the wait lies (`None` for the negotiation).
    fn wait(&mut self, want: Want) -> Result<Option<Found>, Error<IO::Error>> {
        loop {
            let range = match self.next_frame() {
                Some(Ok(range)) => range,
                Some(Err(e)) => {
                    self.violation(&ClientEvent::Violation(Violation::Frame(e)));
                    continue;
                }
                None if self.eof => {
                    self.engine.close();
                    // The notices of the closed engine (interrupted requests) are all said
                    // by the error.
                    while self.engine.poll_event().is_some() {}
                    return Err(Error::Closed);
                }
                None => {
                    self.flush()?;
                    self.fill()?;
                    continue;
                }
            };
            let frame = self.rx.get(range.clone()).unwrap_or_default();
            let Some(event) = self.engine.handle_frame(frame) else {
                // A second greeting whose negotiation did not fit: no use now.
                continue;
            };
            match event {
                ClientEvent::Greeting(g) => self.version = g.version(),
                ClientEvent::Negotiated { .. } if want == Want::Negotiated => {
                    return Ok(None);
                }
                ClientEvent::NegotiationFailed(_) => return Err(Error::Negotiation),
                ClientEvent::Response(r) if want == Want::Response(r.id()) => {
                    return Ok(Some((range, r.message().detach())));
                }
                ClientEvent::Event(e) if want == Want::Event => {
                    return Ok(Some((range, e.message().detach())));
                }
                ClientEvent::Violation(_) | ClientEvent::Unmatched { .. } => {
                    self.violations = self.violations.saturating_add(1);
                    (self.handler)(&event);
                }
                other => (self.handler)(&other),
            }
        }
    }

    fn violation(&mut self, event: &ClientEvent<'_>) {
        self.violations = self.violations.saturating_add(1);
        (self.handler)(event);
    }

    /// The next frame in the buffered input (its range in `rx`), a framing error, or
    /// `None` when more input is needed (or, after the end of stream, everything was taken).
    fn next_frame(&mut self) -> Option<Result<Range<usize>, crate::FrameError>> {
        let buffered = self.rx.get(self.start..self.end).unwrap_or_default();
        let decoded = if self.eof {
            self.framer.finish(buffered)
        } else {
            self.framer.decode(buffered)
        };
        let base = self.start;
        // The framer never consumes more than it was given.
        self.start = self.start.saturating_add(decoded.consumed).min(self.end);
        match decoded.status {
            Ok(Status::Complete(f)) => {
                let r = f.range();
                Some(Ok(base.saturating_add(r.start)..base.saturating_add(r.end)))
            }
            Ok(Status::Partial) => None,
            Err(e) => Some(Err(e)),
        }
    }

    /// Reads once into the free end of `rx`, moving unconsumed bytes to the front first
    /// when the end is reached. The framer's limit is capped at `rx.len()`, so a full
    /// buffer always holds a frame or an error to take first.
    fn fill(&mut self) -> Result<(), Error<IO::Error>> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.end == self.rx.len() && self.start > 0 {
            self.rx.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let spare = self.rx.get_mut(self.end..).unwrap_or_default();
        if spare.is_empty() {
            // Cannot happen (see above); ending the session beats spinning.
            self.eof = true;
            return Ok(());
        }
        loop {
            match self.io.read(spare) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.end = self.end.saturating_add(n).min(self.rx.len());
                    return Ok(());
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    self.engine.close();
                    self.eof = true;
                    return Err(Error::Io(e));
                }
            }
        }
    }

    /// Writes the engine's queued output. A failure closes the session.
    fn flush(&mut self) -> Result<(), Error<IO::Error>> {
        while !self.engine.pending_transmit().is_empty() {
            match self.io.write(self.engine.pending_transmit()) {
                Ok(0) => {
                    self.engine.close();
                    return Err(Error::Closed);
                }
                Ok(n) => self.engine.consume_transmit(n),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    self.engine.close();
                    return Err(Error::Io(e));
                }
            }
        }
        self.io.flush().map_err(|e| {
            self.engine.close();
            Error::Io(e)
        })
    }
}

impl<IO, H> fmt::Debug for Client<'_, IO, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("state", &self.engine.state())
            .field("version", &self.version)
            .field("buffered", &self.end.saturating_sub(self.start))
            .field("protocol_violations", &self.violations)
            .finish_non_exhaustive()
    }
}
