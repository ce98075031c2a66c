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

use std::fmt;
use std::format;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
#[cfg(unix)]
use std::os::unix::net::UnixStream;
#[cfg(unix)]
use std::path::Path;
use std::string::ToString;
use std::time::{Duration, Instant};

pub use super::config::{Config, DEFAULT_MAX_REQUEST_LEN};
use super::inbox::Inbox;
pub use super::serve::{Flow, ServerSession};
use super::stream::{Pumped, SetTimeout};
use super::{return_value, stream, Error};
use crate::client::{self, ClientEvent, ClientState};
use crate::driver::{self, Done, Want};
use crate::encode::{Id, Payload, Request};
use crate::json::{Value, ValueKind};
use crate::model::Version;
use crate::owned::{OwnedMessage, OwnedValue};

/// How many requests the engine tracks. A blocking client has one in flight at a time.
const PENDING: usize = 8;

/// The engine this transport drives.
pub(super) type Engine = client::Client<'static, PENDING>;

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
/// until its reply, within the call's deadline ([`Config::with_timeout`], 30 s by default,
/// for the whole call however the server dribbles). Events that arrive meanwhile are
/// queued (bounded by count and bytes, see [`Config::with_event_bytes`]) and taken with
/// [`next_event`](Self::next_event) or [`try_event`](Self::try_event). Bad input from the
/// server (a junk line, a non-object, a reply nobody waits for) is counted in
/// [`protocol_violations`](Self::protocol_violations), passed to the
/// [`on_protocol_violation`](Self::on_protocol_violation) callback, and skipped.
pub struct Client<S> {
    stream: S,
    engine: Engine,
    inbox: Inbox,
    timeout: Option<Duration>,
    set_timeout: Option<SetTimeout<S>>,
}

#[cfg(unix)]
impl Client<UnixStream> {
    /// Connects to the QMP Unix socket at `path` and negotiates, with [`Config::new`].
    pub fn connect_unix(path: impl AsRef<Path>) -> Result<Self, Error> {
        Self::connect_unix_with(path, &Config::new())
    }

    /// Connects to the QMP Unix socket at `path` and negotiates.
    pub fn connect_unix_with(path: impl AsRef<Path>, config: &Config) -> Result<Self, Error> {
        let path = path.as_ref();
        let stream = UnixStream::connect(path).map_err(|source| Error::Connect {
            address: path.display().to_string(),
            source,
        })?;
        Client::connect(stream, config)
    }
}

impl Client<TcpStream> {
    /// Connects to the QMP TCP socket at `addr` and negotiates, with [`Config::new`].
    pub fn connect_tcp(addr: impl ToSocketAddrs + fmt::Debug) -> Result<Self, Error> {
        Self::connect_tcp_with(addr, &Config::new())
    }

    /// Connects to the QMP TCP socket at `addr` and negotiates.
    pub fn connect_tcp_with(
        addr: impl ToSocketAddrs + fmt::Debug,
        config: &Config,
    ) -> Result<Self, Error> {
        let stream = TcpStream::connect(&addr).map_err(|source| Error::Connect {
            address: format!("{addr:?}"),
            source,
        })?;
        // Commands are small and a reply is awaited after each: do not delay them.
        stream.set_nodelay(true).map_err(Error::Io)?;
        Client::connect(stream, config)
    }
}

impl<S: Connection> Client<S> {
    /// Reads the greeting from `stream` and negotiates within the configured deadline;
    /// every later call's deadline is enforced with the stream's read timeout.
    pub fn connect(stream: S, config: &Config) -> Result<Self, Error> {
        stream
            .set_write_timeout(config.write_timeout)
            .map_err(Error::Io)?;
        Client::start(stream, config, Some(S::set_read_timeout))
    }

    /// Sets the write timeout. A write that times out closes the session (a partial
    /// message may have been sent).
    pub fn set_write_timeout(&mut self, timeout: Option<Duration>) -> Result<(), Error> {
        self.stream.set_write_timeout(timeout).map_err(Error::Io)
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
    /// Reads the greeting from `stream` and negotiates. The stream has no timeouts of its
    /// own here, so deadlines are checked only when a read returns: use
    /// [`connect`](Self::connect) with a [`Connection`] for deadlines that cut a silent
    /// server short.
    pub fn new(stream: S, config: &Config) -> Result<Self, Error> {
        Client::start(stream, config, None)
    }

    fn start(
        stream: S,
        config: &Config,
        set_timeout: Option<SetTimeout<S>>,
    ) -> Result<Self, Error> {
        let engine = Engine::with_capacity(
            config.max_message_len,
            config.max_request_len,
            config.client,
        )?;
        let mut client = Client {
            stream,
            engine,
            inbox: Inbox::new(config.event_capacity, config.event_bytes),
            timeout: config.timeout,
            set_timeout,
        };
        let deadline = client.deadline(client.timeout);
        match client.wait(Want::Negotiated, deadline)? {
            Done::Negotiated => Ok(client),
            Done::NegotiationFailed => Err(client
                .engine
                .last_message()
                .map_or(Error::Closed, |m| Error::negotiation(&m))),
            Done::TimedOut
                if client.inbox.version.is_none() && client.inbox.greeting.is_empty() =>
            {
                Err(Error::NoGreeting)
            }
            other => Err(done_error(other)),
        }
    }

    /// Sets the deadline of every later call (`None`: wait without limit).
    pub fn set_timeout(&mut self, timeout: Option<Duration>) {
        self.timeout = timeout;
    }

    /// The server's greeting, `{"QMP": {"version": …, "capabilities": […]}}`.
    pub fn greeting(&self) -> &OwnedMessage {
        &self.inbox.greeting
    }

    /// The QEMU version from the greeting.
    pub fn version(&self) -> Option<Version> {
        self.inbox.version
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
            Some(a) => self.request(Request::execute(name).with_arguments(a)),
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
            Some(a) => self.request(Request::execute_oob(name).with_arguments(a)),
            None => self.request(Request::execute_oob(name)),
        }?;
        Ok(return_value(response))
    }

    /// Sends any [`Request`] (its id is replaced by a fresh one) and returns the whole
    /// success response, `{"return": …, "id": …}`.
    pub fn request<A: Payload, I: Payload>(
        &mut self,
        request: Request<'_, A, I>,
    ) -> Result<OwnedMessage, Error> {
        let deadline = self.deadline(self.timeout);
        let id = self.send(request)?;
        self.flush()?;
        self.wait_reply(id, deadline)
    }

    /// Sends `request`, one JSON value, as it is (a line a user typed: its `id`, if any, is
    /// its own, and nothing is checked but that it is valid JSON), and returns the response
    /// whose `id` is the request's as QEMU echoes it: numbers as QEMU re-prints them (`1.0`
    /// comes back as `1`), strings unescaped, object members in any order. Without an `id`,
    /// the next response without one is taken. An error response is [`Error::Qmp`]; events
    /// that arrive meanwhile are queued; the call's deadline is the client's, as in
    /// [`request`](Self::request).
    pub fn request_raw(&mut self, request: Value<'_>) -> Result<OwnedMessage, Error> {
        let deadline = self.deadline(self.timeout);
        let id = match request.kind() {
            ValueKind::Object => request.get("id").map(OwnedValue::from),
            _ => None,
        };
        self.engine.send_raw(request)?;
        self.flush()?;
        self.inbox.raw = Some(id);
        let done = self.wait(Want::Claim, deadline);
        self.inbox.raw = None;
        match done? {
            Done::Response => match self.engine.last_message() {
                Some(message) => Error::check(&message),
                None => Err(Error::Closed),
            },
            other => Err(done_error(other)),
        }
    }

    /// Queues `request` in the engine.
    pub(crate) fn send<A: Payload, I: Payload>(
        &mut self,
        request: Request<'_, A, I>,
    ) -> Result<Id, Error> {
        Ok(self.engine.send(request, None)?)
    }

    /// Reads until the reply to `id`, within `deadline`.
    pub(crate) fn wait_reply(
        &mut self,
        id: Id,
        deadline: Option<Instant>,
    ) -> Result<OwnedMessage, Error> {
        match self.wait(Want::Response(id), deadline)? {
            Done::Response => match self.engine.last_message() {
                Some(message) => Error::check(&message),
                None => {
                    debug_assert!(false, "a reply without its message");
                    Err(Error::Closed)
                }
            },
            Done::TimedOut => {
                // A late reply is unmatched: dropped and counted.
                self.engine.cancel(id);
                Err(Error::Timeout)
            }
            other => Err(done_error(other)),
        }
    }

    /// The next event: a queued one, else one read within `timeout` (`None`: no limit).
    /// `Ok(None)` when none came in time; [`Error::Closed`] once the server has closed and
    /// every queued event was taken.
    pub fn next_event(&mut self, timeout: Option<Duration>) -> Result<Option<OwnedMessage>, Error> {
        if let Some(event) = self.inbox.pop() {
            return Ok(Some(event));
        }
        let deadline = self.deadline(timeout);
        match self.wait(Want::Event, deadline)? {
            Done::Event => Ok(self.engine.last_message().map(|m| m.to_owned_message())),
            Done::TimedOut => Ok(None),
            other => Err(done_error(other)),
        }
    }

    /// A queued event, without reading.
    pub fn try_event(&mut self) -> Option<OwnedMessage> {
        self.inbox.pop()
    }

    /// How many events wait in the queue.
    pub fn queued_events(&self) -> usize {
        self.inbox.len()
    }

    /// The memory the queued events are accounted for (at most
    /// [`Config::with_event_bytes`]).
    pub fn queued_event_bytes(&self) -> usize {
        self.inbox.queued_bytes()
    }

    /// How many events were dropped because the queue was full (by count or bytes).
    pub fn dropped_events(&self) -> u64 {
        self.inbox.dropped()
    }

    /// How many messages broke the protocol and were skipped (junk, non-objects, malformed
    /// events, refused messages, replies that match no request or came too late).
    pub fn protocol_violations(&self) -> u64 {
        self.inbox.violations()
    }

    /// Calls `hook` with each skipped message: a [`ClientEvent::Violation`],
    /// [`ClientEvent::Refused`] or [`ClientEvent::Unmatched`]. Replaces the previous
    /// callback.
    pub fn on_protocol_violation<F>(&mut self, hook: F)
    where
        F: FnMut(&ClientEvent<'_>) + Send + 'static,
    {
        self.inbox.set_hook(std::boxed::Box::new(hook));
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

    fn deadline(&self, timeout: Option<Duration>) -> Option<Instant> {
        timeout.and_then(|t| Instant::now().checked_add(t))
    }

    /// The driver loop of this transport: pump the engine, write its output, read with the
    /// time left, until the wait for `want` ends or `deadline` passes
    /// ([`Done::TimedOut`]).
    fn wait(&mut self, want: Want, deadline: Option<Instant>) -> Result<Done, Error> {
        let inbox = &mut self.inbox;
        let done = stream::drive(
            &mut self.stream,
            &mut self.engine,
            self.set_timeout,
            deadline,
            |engine| match driver::pump(engine, want, inbox) {
                Some(Done::Blocked) => Pumped::Flush,
                Some(done) => Pumped::Done(done),
                None => Pumped::Read,
            },
        )?;
        Ok(done.unwrap_or(Done::TimedOut))
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

    /// A deadline for a call starting now.
    #[cfg(all(unix, feature = "fd-passing"))]
    pub(super) fn call_deadline(&self) -> Option<Instant> {
        self.deadline(self.timeout)
    }
}

/// The error for a wait that ended without what it waited for.
fn done_error(done: Done) -> Error {
    match done {
        Done::TimedOut => Error::Timeout,
        Done::Refused(r) => Error::ReplyRefused(r),
        _ => Error::Closed,
    }
}

/// Writes the engine's queued output to `stream`.
fn flush<S: Write>(stream: &mut S, engine: &mut Engine) -> Result<(), Error> {
    stream::write_out(stream, engine)
}

impl<S: fmt::Debug> fmt::Debug for Client<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("stream", &self.stream)
            .field("state", &self.engine.state())
            .field("version", &self.inbox.version)
            .field("oob", &self.engine.oob_enabled())
            .field("inbox", &self.inbox)
            .finish_non_exhaustive()
    }
}
