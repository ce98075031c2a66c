//! An async QMP client for tokio: many commands in flight, events as a `Stream`.
//!
//! [`Client::connect`] reads the greeting and negotiates, then spawns two tasks: a reader
//! that feeds the sans-IO [`client::Client`] through the crate's one driver (the same
//! read buffer, dispatch and event inbox as the blocking client), and a writer that sends
//! the engine's output.
//! [`Client::execute`] takes `&self`, so any number of tasks may run commands at once; each
//! waits on its own reply. As many requests as QEMU queues (8) are on the wire at a time;
//! more wait for a slot. Every call has a deadline ([`Config::with_timeout`], 30 s by
//! default); a call that times out or whose future is dropped frees its slot at once, and
//! its late reply is dropped and counted as a protocol violation.
//!
//! ```no_run
//! use qmp_codec::transport::{tokio::Client, NO_ARGUMENTS};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), qmp_codec::transport::Error> {
//! let qmp = Client::connect_unix("/run/qsd/qmp.sock").await?;
//! let (version, status) = tokio::join!(
//!     qmp.execute("query-version", NO_ARGUMENTS),
//!     qmp.execute("query-jobs", NO_ARGUMENTS),
//! );
//! println!("{} {}", version?, status?);
//! if let Some(event) = qmp.next_event(Some(std::time::Duration::from_secs(1))).await? {
//!     println!("{event}");
//! }
//! qmp.close().await;
//! # Ok(())
//! # }
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Poll;
use std::time::Duration;
use std::vec::Vec;

use ::tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use ::tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};
use ::tokio::task::JoinHandle;

pub use super::config::{Config, DEFAULT_MAX_REQUEST_LEN};

use super::inbox::Inbox;
use super::{return_value, Error};
use crate::client::{self, ClientEvent, ClientState, Response};
use crate::driver::{self, Done, Sink, Want};
use crate::encode::{Id, Payload, Request};
use crate::model::{Event, Greeting, Version};
use crate::owned::{OwnedMessage, OwnedValue};

/// Requests on the wire at once: QEMU queues at most 8 in-band commands.
const PENDING: usize = 8;

/// The engine.
type Engine = client::Client<'static, PENDING>;

/// How much the reader takes from the socket at once.
const READ_CHUNK: usize = 64 * 1024;

/// A request waiting for its reply. The permit is its slot, freed with the waiter.
struct Waiter {
    reply: oneshot::Sender<Result<OwnedMessage, Error>>,
    _slot: OwnedSemaphorePermit,
}

/// The engine, the inbox and who waits, behind one lock that is never held across an
/// await.
struct State {
    engine: Engine,
    inbox: Inbox,
    waiters: HashMap<Id, Waiter>,
    closed: bool,
}

/// The driver's sink for this transport: replies go to their waiters, the rest to the
/// inbox.
struct Router<'a> {
    inbox: &'a mut Inbox,
    waiters: &'a mut HashMap<Id, Waiter>,
}

impl Sink for Router<'_> {
    fn greeting(&mut self, greeting: &Greeting<'_>) {
        self.inbox.greeting(greeting);
    }

    fn event(&mut self, event: Event<'_>) {
        self.inbox.event(event);
    }

    fn response(&mut self, response: &Response<'_>) -> bool {
        match self.waiters.remove(&response.id()) {
            Some(waiter) => {
                // The caller may have stopped waiting: then the reply is dropped.
                let _ = waiter.reply.send(Error::check(&response.message()));
                true
            }
            None => false,
        }
    }

    fn failed(&mut self, id: Id, done: Done) {
        if let Some(waiter) = self.waiters.remove(&id) {
            let _ = waiter.reply.send(Err(done_error(done)));
        }
    }

    fn violation(&mut self, event: &ClientEvent<'_>) {
        self.inbox.violation(event);
    }
}

/// What the client, its tasks and its callers share.
struct Shared {
    state: Mutex<State>,
    slots: Arc<Semaphore>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Only a panicking user hook can poison the lock; the state stays consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The connection ended: every waiter gets [`Error::Closed`], event waits end.
    fn close(&self) {
        let waiters = {
            let mut state = self.lock();
            state.closed = true;
            state.engine.close();
            // The engine's notices (interrupted requests, closed) are said by the waiters.
            while state.engine.poll_event().is_some() {}
            state.inbox.wake();
            core::mem::take(&mut state.waiters)
        };
        for (_, waiter) in waiters {
            let _ = waiter.reply.send(Err(Error::Closed));
        }
        self.slots.close();
    }
}

/// Frees a request's slot if its caller stops waiting (timeout or dropped future).
struct CancelGuard<'a> {
    shared: &'a Shared,
    id: Option<Id>,
}

impl Drop for CancelGuard<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            let mut state = self.shared.lock();
            state.waiters.remove(&id);
            state.engine.cancel(id);
        }
    }
}

/// A connected, negotiated QMP session on tokio.
///
/// Commands run concurrently from any number of tasks ([`execute`](Self::execute) takes
/// `&self`; share the client with an `Arc`). Events are taken with
/// [`next_event`](Self::next_event). Bad input from the server is counted in
/// [`protocol_violations`](Self::protocol_violations), passed to the
/// [`on_protocol_violation`](Self::on_protocol_violation) callback, and skipped: it never
/// ends the connection. Dropping the client closes the connection.
pub struct Client {
    shared: Arc<Shared>,
    writer_tx: mpsc::UnboundedSender<Vec<u8>>,
    reader: JoinHandle<()>,
    writer: JoinHandle<()>,
    greeting: OwnedMessage,
    version: Option<Version>,
    oob: bool,
    timeout: Option<Duration>,
}

#[cfg(unix)]
impl Client {
    /// Connects to the QMP Unix socket at `path` and negotiates, with [`Config::new`].
    pub async fn connect_unix(path: impl AsRef<std::path::Path>) -> Result<Client, Error> {
        Client::connect_unix_with(path, &Config::new()).await
    }

    /// Connects to the QMP Unix socket at `path` and negotiates.
    pub async fn connect_unix_with(
        path: impl AsRef<std::path::Path>,
        config: &Config,
    ) -> Result<Client, Error> {
        let path = path.as_ref();
        let stream = ::tokio::net::UnixStream::connect(path)
            .await
            .map_err(|source| Error::Connect {
                address: std::string::ToString::to_string(&path.display()),
                source,
            })?;
        Client::connect(stream, config).await
    }
}

impl Client {
    /// Connects to the QMP TCP socket at `addr` and negotiates, with [`Config::new`].
    pub async fn connect_tcp(
        addr: impl ::tokio::net::ToSocketAddrs + fmt::Debug,
    ) -> Result<Client, Error> {
        Client::connect_tcp_with(addr, &Config::new()).await
    }

    /// Connects to the QMP TCP socket at `addr` and negotiates.
    pub async fn connect_tcp_with(
        addr: impl ::tokio::net::ToSocketAddrs + fmt::Debug,
        config: &Config,
    ) -> Result<Client, Error> {
        let address = std::format!("{addr:?}");
        let stream = ::tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|source| Error::Connect { address, source })?;
        stream.set_nodelay(true).map_err(Error::Io)?;
        Client::connect(stream, config).await
    }

    /// Reads the greeting from `io` and negotiates within the configured deadline, then
    /// spawns the reader and writer tasks (call it within a tokio runtime).
    pub async fn connect<T>(io: T, config: &Config) -> Result<Client, Error>
    where
        T: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (mut read, mut write) = ::tokio::io::split(io);
        let engine = Engine::with_capacity(
            config.max_message_len,
            config.max_request_len,
            config.client,
        )?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                engine,
                inbox: Inbox::new(config.event_capacity, config.event_bytes),
                waiters: HashMap::new(),
                closed: false,
            }),
            slots: Arc::new(Semaphore::new(PENDING)),
        });
        let handshake = handshake(&shared, &mut read, &mut write, config.write_timeout);
        let oob = match config.timeout {
            Some(t) => match ::tokio::time::timeout(t, handshake).await {
                Ok(r) => r?,
                Err(_) if shared.lock().inbox.greeting.is_empty() => return Err(Error::NoGreeting),
                Err(_) => return Err(Error::Timeout),
            },
            None => handshake.await?,
        };
        let (greeting, version) = {
            let state = shared.lock();
            (state.inbox.greeting.clone(), state.inbox.version)
        };
        let (writer_tx, writer_rx) = mpsc::unbounded_channel();
        let reader = ::tokio::spawn(read_loop(read, Arc::clone(&shared), writer_tx.clone()));
        let writer = ::tokio::spawn(write_loop(
            write,
            writer_rx,
            Arc::clone(&shared),
            config.write_timeout,
        ));
        Ok(Client {
            shared,
            writer_tx,
            reader,
            writer,
            greeting,
            version,
            oob,
            timeout: config.timeout,
        })
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
        self.oob
    }

    /// Whether the connection has ended.
    pub fn is_closed(&self) -> bool {
        self.shared.lock().engine.state() == ClientState::Closed
    }

    /// Runs `{"execute": name, "arguments": …}` and returns its `return` value, or the
    /// server's error as [`Error::Qmp`]. Waits for a free slot when 8 requests are on the
    /// wire; the whole call, slot wait included, ends at the configured deadline.
    pub async fn execute<A: Payload>(
        &self,
        name: &str,
        arguments: Option<A>,
    ) -> Result<OwnedValue, Error> {
        let response = match arguments {
            Some(a) => self.request(Request::execute(name).with_arguments(a)).await,
            None => self.request(Request::execute(name)).await,
        }?;
        Ok(return_value(response))
    }

    /// Like [`execute`](Self::execute) with `exec-oob`: needs OOB to be negotiated.
    pub async fn execute_oob<A: Payload>(
        &self,
        name: &str,
        arguments: Option<A>,
    ) -> Result<OwnedValue, Error> {
        let response = match arguments {
            Some(a) => {
                self.request(Request::execute_oob(name).with_arguments(a))
                    .await
            }
            None => self.request(Request::execute_oob(name)).await,
        }?;
        Ok(return_value(response))
    }

    /// Sends any [`Request`] (its id is replaced by a fresh one) and returns the whole
    /// success response, `{"return": …, "id": …}`. Dropping the future frees the request's
    /// slot at once; a reply that comes later is dropped and counted.
    pub async fn request<A: Payload, I: Payload>(
        &self,
        request: Request<'_, A, I>,
    ) -> Result<OwnedMessage, Error> {
        let call = self.call(request);
        match self.timeout {
            Some(t) => ::tokio::time::timeout(t, call)
                .await
                .unwrap_or(Err(Error::Timeout)),
            None => call.await,
        }
    }

    async fn call<A: Payload, I: Payload>(
        &self,
        request: Request<'_, A, I>,
    ) -> Result<OwnedMessage, Error> {
        let slot = Arc::clone(&self.shared.slots)
            .acquire_owned()
            .await
            .map_err(|_| Error::Closed)?;
        let (reply_tx, reply_rx) = oneshot::channel();
        let mut guard = CancelGuard {
            shared: &self.shared,
            id: None,
        };
        {
            let mut state = self.shared.lock();
            let id = state.engine.send(request, None)?;
            let bytes = state.engine.pending_transmit().to_vec();
            state.engine.consume_transmit(bytes.len());
            // Queued under the lock, so requests reach the wire in id order.
            if self.writer_tx.send(bytes).is_err() {
                state.engine.cancel(id);
                return Err(Error::Closed);
            }
            state.waiters.insert(
                id,
                Waiter {
                    reply: reply_tx,
                    _slot: slot,
                },
            );
            guard.id = Some(id);
        }
        let reply = reply_rx.await.unwrap_or(Err(Error::Closed));
        // Answered: nothing to cancel.
        guard.id = None;
        reply
    }

    /// The next event: a queued one, else the next to arrive within `timeout` (`None`: no
    /// limit). `Ok(None)` when none came in time; [`Error::Closed`] once the connection is
    /// closed and every queued event was taken.
    pub async fn next_event(
        &self,
        timeout: Option<Duration>,
    ) -> Result<Option<OwnedMessage>, Error> {
        let shared = &self.shared;
        let wait = std::future::poll_fn(|cx| {
            let mut state = shared.lock();
            if let Some(event) = state.inbox.pop() {
                return Poll::Ready(Ok(Some(event)));
            }
            if state.closed {
                return Poll::Ready(Err(Error::Closed));
            }
            state.inbox.set_waker(cx.waker());
            Poll::Pending
        });
        match timeout {
            Some(t) => ::tokio::time::timeout(t, wait).await.unwrap_or(Ok(None)),
            None => wait.await,
        }
    }

    /// A queued event, without waiting.
    pub fn try_event(&self) -> Option<OwnedMessage> {
        self.shared.lock().inbox.pop()
    }

    /// How many events wait in the queue.
    pub fn queued_events(&self) -> usize {
        self.shared.lock().inbox.len()
    }

    /// The memory the queued events are accounted for (at most
    /// [`Config::with_event_bytes`]).
    pub fn queued_event_bytes(&self) -> usize {
        self.shared.lock().inbox.queued_bytes()
    }

    /// How many events were dropped because the queue was full (by count or bytes).
    pub fn dropped_events(&self) -> u64 {
        self.shared.lock().inbox.dropped()
    }

    /// How many messages broke the protocol and were skipped (junk, non-objects, malformed
    /// events, refused messages, replies that match no request or came too late).
    pub fn protocol_violations(&self) -> u64 {
        self.shared.lock().inbox.violations()
    }

    /// Calls `hook` (on the reader task) with each skipped message: a
    /// [`ClientEvent::Violation`], [`ClientEvent::Refused`] or [`ClientEvent::Unmatched`].
    /// Replaces the previous callback. It runs under the client's lock: keep it short, and
    /// do not call the client from it.
    pub fn on_protocol_violation<F>(&self, hook: F)
    where
        F: FnMut(&ClientEvent<'_>) + Send + 'static,
    {
        self.shared
            .lock()
            .inbox
            .set_hook(std::boxed::Box::new(hook));
    }

    /// Closes the connection: queued requests are written, the write side is shut down,
    /// and the reader stops. Waiting requests fail with [`Error::Closed`].
    pub async fn close(mut self) {
        // Closing the channel lets the writer finish and shut its side down.
        let (closed_tx, _) = mpsc::unbounded_channel();
        drop(core::mem::replace(&mut self.writer_tx, closed_tx));
        self.reader.abort();
        let _ = (&mut self.writer).await;
        let _ = (&mut self.reader).await;
        self.shared.close();
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.reader.abort();
        self.writer.abort();
        self.shared.close();
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("version", &self.version)
            .field("oob", &self.oob)
            .field("closed", &self.is_closed())
            .field("queued_events", &self.queued_events())
            .field("protocol_violations", &self.protocol_violations())
            .finish_non_exhaustive()
    }
}

/// The error for a wait that ended without its reply.
fn done_error(done: Done) -> Error {
    match done {
        Done::TimedOut => Error::Timeout,
        Done::Refused(r) => Error::ReplyRefused(r),
        _ => Error::Closed,
    }
}

/// Hands `bytes` to the engine and runs the driver over everything they complete; returns
/// the engine's output to write and how the wait for `want` ended, if it did.
fn feed(state: &mut State, mut bytes: &[u8], eof: bool, want: Want) -> (Vec<u8>, Option<Done>) {
    let mut out = Vec::new();
    let State {
        engine,
        inbox,
        waiters,
        ..
    } = state;
    let mut router = Router { inbox, waiters };
    let mut done = None;
    loop {
        let taken = engine.handle_input(bytes);
        bytes = bytes.get(taken..).unwrap_or_default();
        if bytes.is_empty() && eof {
            engine.handle_eof();
        }
        loop {
            match driver::pump(engine, want, &mut router) {
                Some(Done::Blocked) => {
                    out.extend_from_slice(engine.pending_transmit());
                    let n = engine.pending_transmit().len();
                    engine.consume_transmit(n);
                }
                Some(d) => {
                    done = Some(d);
                    break;
                }
                None => break,
            }
        }
        out.extend_from_slice(engine.pending_transmit());
        let n = engine.pending_transmit().len();
        engine.consume_transmit(n);
        // The engine's buffer is never full after a pump (the frame limit is capped at it),
        // so every byte is taken.
        if bytes.is_empty() || done.is_some() || taken == 0 {
            debug_assert!(bytes.is_empty() || done.is_some(), "input left untaken");
            return (out, done);
        }
    }
}

/// Reads the greeting, sends the negotiation and waits for its reply; events and bad
/// input on the way are handled as later on. Returns whether OOB was enabled.
async fn handshake<T: AsyncRead + AsyncWrite>(
    shared: &Shared,
    read: &mut ReadHalf<T>,
    write: &mut WriteHalf<T>,
    write_timeout: Option<Duration>,
) -> Result<bool, Error> {
    let mut buf = std::vec![0u8; READ_CHUNK];
    loop {
        let n = read.read(&mut buf).await.map_err(Error::from_io)?;
        let (out, done) = feed(
            &mut shared.lock(),
            buf.get(..n).unwrap_or_default(),
            n == 0,
            Want::Negotiated,
        );
        if !out.is_empty() {
            write_bytes(write, &out, write_timeout).await?;
        }
        match done {
            Some(Done::Negotiated) => return Ok(shared.lock().engine.oob_enabled()),
            Some(Done::NegotiationFailed) => {
                let state = shared.lock();
                return Err(state
                    .engine
                    .last_message()
                    .map_or(Error::Closed, |m| Error::negotiation(&m)));
            }
            Some(other) => return Err(done_error(other)),
            None if n == 0 => return Err(Error::Closed),
            None => {}
        }
    }
}

/// Writes `bytes` within `timeout`.
async fn write_bytes<T: AsyncWrite>(
    write: &mut WriteHalf<T>,
    bytes: &[u8],
    timeout: Option<Duration>,
) -> Result<(), Error> {
    let io = async {
        write.write_all(bytes).await?;
        write.flush().await
    };
    match timeout {
        Some(t) => match ::tokio::time::timeout(t, io).await {
            Ok(r) => r.map_err(Error::from_io),
            Err(_) => Err(Error::Timeout),
        },
        None => io.await.map_err(Error::from_io),
    }
}

/// Feeds the engine until the stream ends, then closes the session.
async fn read_loop<T: AsyncRead>(
    mut read: ReadHalf<T>,
    shared: Arc<Shared>,
    writer_tx: mpsc::UnboundedSender<Vec<u8>>,
) {
    let mut buf = std::vec![0u8; READ_CHUNK];
    loop {
        let n = read.read(&mut buf).await.unwrap_or(0);
        let (out, _) = feed(
            &mut shared.lock(),
            buf.get(..n).unwrap_or_default(),
            n == 0,
            Want::Nothing,
        );
        if !out.is_empty() && writer_tx.send(out).is_err() {
            break;
        }
        if n == 0 {
            break;
        }
    }
    shared.close();
}

/// Writes each request; when the client is gone, shuts the write side down.
async fn write_loop<T: AsyncWrite>(
    mut write: WriteHalf<T>,
    mut requests: mpsc::UnboundedReceiver<Vec<u8>>,
    shared: Arc<Shared>,
    timeout: Option<Duration>,
) {
    while let Some(bytes) = requests.recv().await {
        if write_bytes(&mut write, &bytes, timeout).await.is_err() {
            // Part of a request may be out: the connection is unusable.
            shared.close();
            return;
        }
    }
    let _ = write.shutdown().await;
}
