//! A blocking QMP client over any `Read + Write` stream: Unix sockets, TCP, or your own.
//!
//! [`Client`] reads the greeting, negotiates capabilities (enabling out-of-band execution
//! when the server offers it, unless [`Config::with_oob`] says otherwise), and then runs one
//! command at a time. Everything protocol-related is done by the sans-IO
//! [`client::Client`] it wraps; this module only moves bytes.
//!
//! ```no_run
//! use qmp_codec::encode::validate_json;
//! use qmp_codec::transport::{blocking::Client, Error, NO_ARGUMENTS};
//! use qmp_codec::ErrorClass;
//!
//! let mut qmp = Client::connect_unix("/run/qsd/qmp.sock")?;
//! println!("connected to QEMU {:?}", qmp.version());
//! let version = qmp.execute("query-version", NO_ARGUMENTS)?;
//! println!("{version}");
//! let args = validate_json(br#"{"driver": "null-co", "node-name": "disk0"}"#)?;
//! qmp.execute("blockdev-add", Some(args))?;
//! match qmp.execute("no-such-command", NO_ARGUMENTS) {
//!     Err(Error::Qmp(e)) => assert_eq!(e.class(), ErrorClass::CommandNotFound),
//!     other => panic!("{other:?}"),
//! }
//! while let Some(event) = qmp.next_event(Some(std::time::Duration::from_secs(1)))? {
//!     println!("{event}");
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::boxed::Box;
use std::fmt;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
#[cfg(unix)]
use std::os::unix::net::UnixStream;
#[cfg(unix)]
use std::path::Path;
use std::time::{Duration, Instant};

pub use super::config::{Config, DEFAULT_MAX_REQUEST_LEN};
use super::error::QmpError;
use super::queue::EventQueue;
use super::{return_value, Error};
use crate::client::{self, ClientEvent, ClientState};
use crate::encode::{Id, Payload, Request};
use crate::json::{Style, Value, ValueKind};
use crate::model::Version;
use crate::owned::{OwnedMessage, OwnedValue};
use crate::Classified;

/// How many requests the engine tracks. A blocking client has one in flight at a time.
const PENDING: usize = 8;

/// The engine this transport drives.
pub(super) type Engine = client::Client<'static, PENDING>;

/// A callback for input that breaks the protocol; see [`Client::on_protocol_violation`].
type Hook = Box<dyn FnMut(&ClientEvent<'_>) + Send>;

/// A stream with socket controls: timeouts and shutdown. Implemented for [`TcpStream`] and
/// (on Unix) [`UnixStream`].
pub trait Connection: Read + Write {
    /// Sets the read timeout (`None`: block without limit).
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()>;
    /// Sets the write timeout (`None`: block without limit).
    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()>;
    /// Shuts both directions down.
    fn shutdown(&self) -> io::Result<()>;
}

impl Connection for TcpStream {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_read_timeout(self, timeout)
    }
    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_write_timeout(self, timeout)
    }
    fn shutdown(&self) -> io::Result<()> {
        TcpStream::shutdown(self, std::net::Shutdown::Both)
    }
}

#[cfg(unix)]
impl Connection for UnixStream {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        UnixStream::set_read_timeout(self, timeout)
    }
    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        UnixStream::set_write_timeout(self, timeout)
    }
    fn shutdown(&self) -> io::Result<()> {
        UnixStream::shutdown(self, std::net::Shutdown::Both)
    }
}

/// A connected, negotiated QMP session over a blocking stream.
///
/// Commands run one at a time: [`execute`](Self::execute) writes the command and reads
/// until its reply. Events that arrive meanwhile are queued (see
/// [`Config::with_event_capacity`]) and taken with [`next_event`](Self::next_event),
/// [`wait_event`](Self::wait_event), [`events`](Self::events) or
/// [`drain_events`](Self::drain_events). Bad input from the server (a junk line, a
/// non-object, a reply nobody waits for) is counted in
/// [`protocol_violations`](Self::protocol_violations), passed to the
/// [`on_protocol_violation`](Self::on_protocol_violation) callback, and skipped.
pub struct Client<S> {
    stream: S,
    engine: Engine,
    events: EventQueue<OwnedMessage>,
    greeting: OwnedMessage,
    version: Option<Version>,
    violations: u64,
    hook: Option<Hook>,
    read_timeout: Option<Duration>,
    /// What [`request_raw`](Client::request_raw) waits for, and the response once it came.
    raw: Option<RawWait>,
}

/// The response [`Client::request_raw`] waits for: the one whose `id` is this value as QEMU
/// echoes it (`None`: the next response without an `id`).
struct RawWait {
    id: Option<OwnedValue>,
    reply: Option<Result<OwnedMessage, Error>>,
}

/// Whether `got`, an id a server echoed, is `sent` as QEMU echoes it: numbers compared as
/// QEMU re-prints them (`1.0` and `1`, `1e2` and `100`), strings unescaped, object members
/// in any order. Iterative: nesting is a stack.
fn echoed_id_matches(sent: Value<'_>, got: Value<'_>) -> bool {
    let mut stack = std::vec![(sent, got)];
    while let Some((a, b)) = stack.pop() {
        match (a.kind(), b.kind()) {
            (ValueKind::Object, ValueKind::Object) => {
                if a.members().count() != b.members().count() {
                    return false;
                }
                for (name, value) in a.members() {
                    match b.get(&name.to_cow()) {
                        Some(other) => stack.push((value, other)),
                        None => return false,
                    }
                }
            }
            (ValueKind::Array, ValueKind::Array) => {
                if a.elements().count() != b.elements().count() {
                    return false;
                }
                stack.extend(a.elements().zip(b.elements()));
            }
            (ValueKind::String, ValueKind::String) => {
                if a.as_str() != b.as_str() {
                    return false;
                }
            }
            (ValueKind::Number, ValueKind::Number) => {
                let echo =
                    |v: Value<'_>| std::string::ToString::to_string(&v.display(Style::QEMU_ECHO));
                if echo(a) != echo(b) {
                    return false;
                }
            }
            (x, y) => {
                if x != y || a.raw() != b.raw() {
                    return false;
                }
            }
        }
    }
    true
}

#[cfg(unix)]
impl Client<UnixStream> {
    /// Connects to the QMP Unix socket at `path` and negotiates, with [`Config::new`].
    pub fn connect_unix(path: impl AsRef<Path>) -> Result<Self, Error> {
        Self::connect_unix_with(path, &Config::new())
    }

    /// Connects to the QMP Unix socket at `path` and negotiates.
    pub fn connect_unix_with(path: impl AsRef<Path>, config: &Config) -> Result<Self, Error> {
        let stream = UnixStream::connect(path).map_err(Error::Io)?;
        Client::connect(stream, config)
    }
}

impl Client<TcpStream> {
    /// Connects to the QMP TCP socket at `addr` and negotiates, with [`Config::new`].
    pub fn connect_tcp(addr: impl ToSocketAddrs) -> Result<Self, Error> {
        Self::connect_tcp_with(addr, &Config::new())
    }

    /// Connects to the QMP TCP socket at `addr` and negotiates.
    pub fn connect_tcp_with(addr: impl ToSocketAddrs, config: &Config) -> Result<Self, Error> {
        let stream = TcpStream::connect(addr).map_err(Error::Io)?;
        // Commands are small and a reply is awaited after each: do not delay them.
        stream.set_nodelay(true).map_err(Error::Io)?;
        Client::connect(stream, config)
    }
}

impl<S: Connection> Client<S> {
    /// Sets the configured timeouts on `stream`, then reads the greeting and negotiates.
    pub fn connect(stream: S, config: &Config) -> Result<Self, Error> {
        stream
            .set_read_timeout(config.read_timeout)
            .map_err(Error::Io)?;
        stream
            .set_write_timeout(config.write_timeout)
            .map_err(Error::Io)?;
        let mut client = Client::new(stream, config)?;
        client.read_timeout = config.read_timeout;
        Ok(client)
    }

    /// Sets the read timeout for replies and events (`None`: wait without limit). A read
    /// that times out fails the call with [`Error::Timeout`] and leaves the session usable.
    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) -> Result<(), Error> {
        self.stream.set_read_timeout(timeout).map_err(Error::Io)?;
        self.read_timeout = timeout;
        Ok(())
    }

    /// Sets the write timeout. A write that times out closes the session (a partial
    /// message may have been sent).
    pub fn set_write_timeout(&mut self, timeout: Option<Duration>) -> Result<(), Error> {
        self.stream.set_write_timeout(timeout).map_err(Error::Io)
    }

    /// The next event: a queued one, else one read within `timeout` (`None`: no limit).
    /// `Ok(None)` when none came in time; [`Error::Closed`] once the server has closed and
    /// every queued event was taken.
    pub fn next_event(&mut self, timeout: Option<Duration>) -> Result<Option<OwnedMessage>, Error> {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let result = loop {
            if let Some(Err(e)) = self.pump(None) {
                break Err(e);
            }
            if let Some(event) = self.events.pop() {
                break Ok(Some(event));
            }
            if self.is_closed() {
                break Err(Error::Closed);
            }
            let remaining = match (timeout, deadline) {
                (Some(_), Some(d)) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break Ok(None);
                    }
                    Some(left)
                }
                // A timeout too long for the clock: no limit.
                _ => None,
            };
            if let Err(e) = self.stream.set_read_timeout(remaining) {
                break Err(Error::Io(e));
            }
            match self.read_once() {
                Ok(()) | Err(Error::Timeout) => {}
                Err(e) => break Err(e),
            }
        };
        let restored = self.stream.set_read_timeout(self.read_timeout);
        match (result, restored) {
            (Ok(_), Err(e)) => Err(Error::Io(e)),
            (result, _) => result,
        }
    }

    /// Closes the session and shuts the socket down.
    pub fn close(mut self) -> Result<(), Error> {
        self.engine.close();
        match self.stream.shutdown() {
            // Already closed by the server.
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
            other => other.map_err(Error::Io),
        }
    }
}

impl<S: Read + Write> Client<S> {
    /// Reads the greeting from `stream` and negotiates. Timeouts are the stream's own (see
    /// [`connect`](Self::connect) to set them from `config`).
    pub fn new(stream: S, config: &Config) -> Result<Self, Error> {
        let engine = Engine::with_capacity(
            config.max_message_len,
            config.max_request_len,
            config.client,
        )?;
        let mut client = Client {
            stream,
            engine,
            events: EventQueue::new(config.event_capacity),
            greeting: OwnedMessage::new(),
            version: None,
            violations: 0,
            hook: None,
            read_timeout: None,
            raw: None,
        };
        loop {
            if let Some(Err(e)) = client.pump(None) {
                return Err(e);
            }
            match client.engine.state() {
                ClientState::Ready => return Ok(client),
                ClientState::Closed => return Err(Error::Closed),
                _ => client.read_once()?,
            }
        }
    }

    /// The server's greeting, `{"QMP": {"version": …, "capabilities": […]}}`.
    pub fn greeting(&self) -> &OwnedMessage {
        &self.greeting
    }

    /// The QEMU version from the greeting.
    pub fn version(&self) -> Option<Version> {
        self.version
    }

    /// Whether out-of-band execution was negotiated.
    pub fn oob_enabled(&self) -> bool {
        self.engine.oob_enabled()
    }

    /// Whether the session is over (the server closed it, or a write failed).
    pub fn is_closed(&self) -> bool {
        self.engine.state() == ClientState::Closed
    }

    /// Runs `{"execute": name, "arguments": …}` and returns its `return` value, or the
    /// server's error as [`Error::Qmp`]. `None` ([`NO_ARGUMENTS`](super::NO_ARGUMENTS))
    /// sends no `arguments`.
    pub fn execute<A: Payload>(
        &mut self,
        name: &str,
        arguments: Option<A>,
    ) -> Result<OwnedValue, Error> {
        let response = match arguments {
            Some(a) => self.request(Request::execute(name).arguments(a)),
            None => self.request(Request::execute(name)),
        }?;
        Ok(return_value(response))
    }

    /// Like [`execute`](Self::execute) with `exec-oob`: needs OOB to be negotiated.
    pub fn execute_oob<A: Payload>(
        &mut self,
        name: &str,
        arguments: Option<A>,
    ) -> Result<OwnedValue, Error> {
        let response = match arguments {
            Some(a) => self.request(Request::exec_oob(name).arguments(a)),
            None => self.request(Request::exec_oob(name)),
        }?;
        Ok(return_value(response))
    }

    /// Sends any [`Request`] (its id is replaced by a fresh one) and returns the whole
    /// success response, `{"return": …, "id": …}`.
    pub fn request<A: Payload, I: Payload>(
        &mut self,
        request: Request<'_, A, I>,
    ) -> Result<OwnedMessage, Error> {
        let id = self.send(request)?;
        self.flush()?;
        self.wait(id)
    }

    /// Sends `request`, one JSON value, as it is (a line a user typed: its `id`, if any, is
    /// its own, and nothing is checked but that it is valid JSON), and returns the response
    /// whose `id` is the request's as QEMU echoes it: numbers as QEMU re-prints them (`1.0`
    /// comes back as `1`), strings unescaped, object members in any order. Without an `id`,
    /// the next response without one is taken. An error response is [`Error::Qmp`]; events
    /// that arrive meanwhile are queued; the read timeout bounds each read, as in
    /// [`request`](Self::request).
    pub fn request_raw(&mut self, request: Value<'_>) -> Result<OwnedMessage, Error> {
        self.flush()?;
        let id = match request.kind() {
            ValueKind::Object => request.get("id").map(OwnedValue::from),
            _ => None,
        };
        if let Err(e) = self
            .stream
            .write_all(request.raw())
            .and_then(|()| self.stream.flush())
        {
            // Part of the request may have been sent.
            self.engine.close();
            return Err(Error::from_io(e));
        }
        self.raw = Some(RawWait { id, reply: None });
        let result = loop {
            if let Some(Err(e)) = self.pump(None) {
                break Err(e);
            }
            if let Some(reply) = self.raw.as_mut().and_then(|w| w.reply.take()) {
                break reply;
            }
            if self.is_closed() {
                break Err(Error::Closed);
            }
            if let Err(e) = self.read_once() {
                break Err(e);
            }
        };
        self.raw = None;
        result
    }

    /// Queues `request` in the engine. Its deadline is its own id number, so that
    /// `handle_timeout(id)` times out this request and no later one.
    pub(crate) fn send<A: Payload, I: Payload>(
        &mut self,
        request: Request<'_, A, I>,
    ) -> Result<Id, Error> {
        let deadline = self.engine.next_id();
        Ok(self.engine.send(request, Some(deadline))?)
    }

    /// Reads until the reply to `id` (or its timeout, or the end of the session).
    pub(crate) fn wait(&mut self, id: Id) -> Result<OwnedMessage, Error> {
        loop {
            if let Some(reply) = self.pump(Some(id)) {
                return reply;
            }
            if !self.engine.is_pending(id) {
                // Defensive: the request is gone without a word (cannot happen: the engine
                // reports every request it drops).
                return Err(Error::Closed);
            }
            match self.read_once() {
                Ok(()) => {}
                // The engine reports the request as timed out on the next pump; a late
                // reply will be unmatched and skipped.
                Err(Error::Timeout) => self.engine.handle_timeout(id.number()),
                Err(e) => return Err(e),
            }
        }
    }

    /// The next event, blocking until one arrives (subject to the stream's read timeout:
    /// [`Error::Timeout`]). [`Error::Closed`] once the server has closed and every queued
    /// event was taken.
    pub fn wait_event(&mut self) -> Result<OwnedMessage, Error> {
        loop {
            if let Some(Err(e)) = self.pump(None) {
                return Err(e);
            }
            if let Some(event) = self.events.pop() {
                return Ok(event);
            }
            if self.is_closed() {
                return Err(Error::Closed);
            }
            self.read_once()?;
        }
    }

    /// A queued event, without reading.
    pub fn try_event(&mut self) -> Option<OwnedMessage> {
        self.events.pop()
    }

    /// Takes every queued event, oldest first, without reading.
    pub fn drain_events(&mut self) -> impl Iterator<Item = OwnedMessage> + '_ {
        self.events.drain()
    }

    /// A blocking iterator over events ([`wait_event`](Self::wait_event)); it ends when the
    /// connection closes.
    pub fn events(&mut self) -> Events<'_, S> {
        Events { client: self }
    }

    /// How many events wait in the queue.
    pub fn queued_events(&self) -> usize {
        self.events.len()
    }

    /// How many events were dropped because the queue was full.
    pub fn dropped_events(&self) -> u64 {
        self.events.dropped()
    }

    /// How many messages broke the protocol and were skipped (junk, non-objects, malformed
    /// events, replies that match no request).
    pub fn protocol_violations(&self) -> u64 {
        self.violations
    }

    /// Calls `hook` with each skipped message: a [`ClientEvent::Violation`] or a
    /// [`ClientEvent::Unmatched`]. Replaces the previous callback.
    pub fn on_protocol_violation<F>(&mut self, hook: F)
    where
        F: FnMut(&ClientEvent<'_>) + Send + 'static,
    {
        self.hook = Some(Box::new(hook));
    }

    /// The stream.
    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    /// The stream, e.g. to change socket options. Reading or writing it directly breaks
    /// the session.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.stream
    }

    /// Gives the stream back, dropping queued events and anything buffered.
    pub fn into_inner(self) -> S {
        self.stream
    }

    /// Reports the engine's events until it has none: events are queued, violations
    /// counted. Stops early with the outcome of request `want` (its reply, error, timeout
    /// or interruption), or with a refused negotiation.
    fn pump(&mut self, want: Option<Id>) -> Option<Result<OwnedMessage, Error>> {
        loop {
            let Some(event) = self.engine.poll_event() else {
                if !self.engine.is_blocked() {
                    return None;
                }
                // The negotiation did not fit the transmit buffer: flush, then go on.
                if let Err(e) = flush(&mut self.stream, &mut self.engine) {
                    return Some(Err(e));
                }
                continue;
            };
            match event {
                ClientEvent::Greeting(greeting) => {
                    self.greeting = greeting.message().to_owned_message();
                    self.version = greeting.version();
                }
                ClientEvent::Response(response) if Some(response.id()) == want => {
                    return Some(
                        Error::check(&response).map(|()| response.message().to_owned_message()),
                    );
                }
                ClientEvent::Event(e) => self.events.push(e.message().to_owned_message()),
                ClientEvent::TimedOut(id) if Some(id) == want => {
                    return Some(Err(Error::Timeout));
                }
                ClientEvent::Interrupted(id) if Some(id) == want => {
                    return Some(Err(Error::Closed));
                }
                ClientEvent::NegotiationFailed(message) => {
                    return Some(Err(Error::negotiation(&message)));
                }
                ClientEvent::Unmatched { message, .. }
                    if self.raw.as_ref().is_some_and(|w| {
                        w.reply.is_none()
                            && match (&w.id, message.id()) {
                                (None, None) => true,
                                (Some(sent), Some(got)) => echoed_id_matches(sent.value(), got),
                                _ => false,
                            }
                    }) =>
                {
                    let outcome = match message.classify() {
                        Ok(Classified::Error(e)) => {
                            Err(Error::Qmp(QmpError::new(&e.info(), message)))
                        }
                        Ok(Classified::Return(_)) => Ok(message.to_owned_message()),
                        _ => Err(Error::InvalidResponse(message.to_owned_message())),
                    };
                    if let Some(w) = self.raw.as_mut() {
                        w.reply = Some(outcome);
                    }
                }
                ClientEvent::Violation(_)
                | ClientEvent::Unmatched { .. }
                // A reply to a request nobody waits for (cannot happen: a blocking client
                // times out a request before giving up on it).
                | ClientEvent::Response(_) => {
                    self.violations = self.violations.saturating_add(1);
                    if let Some(hook) = self.hook.as_mut() {
                        hook(&event);
                    }
                }
                _ => {}
            }
        }
    }

    /// Writes queued output, then reads once into the engine (end of stream included).
    fn read_once(&mut self) -> Result<(), Error> {
        self.flush()?;
        let spare = self.engine.spare();
        if spare.is_empty() {
            // Only after the end of stream, which the next pump reports.
            return Err(Error::Closed);
        }
        loop {
            match self.stream.read(spare) {
                Ok(0) => {
                    self.engine.handle_eof();
                    return Ok(());
                }
                Ok(n) => {
                    self.engine.commit(n);
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let e = Error::from_io(e);
                    if !matches!(e, Error::Timeout) {
                        // The stream is broken: end the session.
                        self.engine.close();
                    }
                    return Err(e);
                }
            }
        }
    }

    /// Writes all queued output.
    pub(crate) fn flush(&mut self) -> Result<(), Error> {
        flush(&mut self.stream, &mut self.engine)
    }

    /// The stream and the engine, to write the engine's output in another way.
    #[cfg(all(unix, feature = "fd-passing"))]
    pub(super) fn transmit_parts(&mut self) -> (&mut S, &mut Engine) {
        (&mut self.stream, &mut self.engine)
    }
}

/// Writes the engine's queued output to `stream`. A failed write closes the session: part
/// of a message may have been sent.
fn flush<S: Write>(stream: &mut S, engine: &mut Engine) -> Result<(), Error> {
    while !engine.pending_transmit().is_empty() {
        match stream.write(engine.pending_transmit()) {
            Ok(0) => {
                engine.close();
                return Err(Error::Closed);
            }
            Ok(n) => engine.consume_transmit(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                engine.close();
                return Err(Error::from_io(e));
            }
        }
    }
    stream.flush().map_err(|e| {
        engine.close();
        Error::from_io(e)
    })
}

impl<S: fmt::Debug> fmt::Debug for Client<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("stream", &self.stream)
            .field("state", &self.engine.state())
            .field("version", &self.version)
            .field("oob", &self.engine.oob_enabled())
            .field("queued_events", &self.events.len())
            .field("dropped_events", &self.events.dropped())
            .field("protocol_violations", &self.violations)
            .finish_non_exhaustive()
    }
}

/// A blocking iterator over events, from [`Client::events`]. Each item is
/// [`Client::wait_event`]'s result; the iterator ends when the connection closes.
#[derive(Debug)]
pub struct Events<'c, S> {
    client: &'c mut Client<S>,
}

impl<S: Read + Write> Iterator for Events<'_, S> {
    type Item = Result<OwnedMessage, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.client.wait_event() {
            Err(Error::Closed) => None,
            other => Some(other),
        }
    }
}
