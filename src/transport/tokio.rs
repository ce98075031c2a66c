//! An async QMP client for tokio: many commands in flight, events as a `Stream`.
//!
//! [`Client::connect`] reads the greeting and negotiates, then spawns two tasks: a reader
//! that frames input with [`QmpCodec`] and hands each frame
//! to the sans-IO [`client::Client`], and a writer that sends the engine's output.
//! [`Client::execute`] takes `&self`, so any number of tasks may run commands at once; each
//! waits on its own reply. As many requests as QEMU queues (8) are on the wire at a time;
//! more wait for a slot.
//!
//! ```no_run
//! use futures::StreamExt;
//! use qmp_codec::transport::{tokio::Client, NO_ARGUMENTS};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), qmp_codec::transport::Error> {
//! let qmp = Client::connect_unix("/run/qsd/qmp.sock").await?;
//! let mut events = qmp.events();
//! let (version, status) = tokio::join!(
//!     qmp.execute("query-version", NO_ARGUMENTS),
//!     qmp.execute("query-jobs", NO_ARGUMENTS),
//! );
//! println!("{} {}", version?, status?);
//! if let Some(event) = events.next().await {
//!     println!("{event}");
//! }
//! qmp.close().await;
//! # Ok(())
//! # }
//! ```

use std::boxed::Box;
use std::collections::HashMap;
use std::fmt;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::vec::Vec;

use ::tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use ::tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};
use ::tokio::task::JoinHandle;
use bytes::Bytes;
use futures_core::Stream;

pub use super::config::{Config, DEFAULT_MAX_REQUEST_LEN};
use tokio_util::codec::FramedRead;

use super::event_stream::EventShared;
use super::{return_value, Error};
use crate::client::{self, ClientEvent, ClientState, Violation};
use crate::codec::tokio::QmpCodec;
use crate::encode::{Id, Payload, Request};
use crate::framer::FrameError;
use crate::model::Version;
use crate::owned::{OwnedMessage, OwnedValue};

/// Requests on the wire at once: QEMU queues at most 8 in-band commands.
const PENDING: usize = 8;

/// The engine. Input is framed by the codec, so its receive buffer is empty.
type Engine = client::Client<'static, PENDING>;

/// A callback for input that breaks the protocol; see [`Client::on_protocol_violation`].
type Hook = Box<dyn FnMut(&ClientEvent<'_>) + Send>;

/// A request waiting for its reply. The permit is its slot; it is freed with the reply,
/// even if the caller stopped waiting.
struct Waiter {
    reply: oneshot::Sender<Result<OwnedMessage, Error>>,
    _slot: OwnedSemaphorePermit,
}

/// The engine and who waits on it, behind one lock that is never held across an await.
struct State {
    engine: Engine,
    waiters: HashMap<Id, Waiter>,
    hook: Option<Hook>,
}

/// What the client, its reader task and its event streams share.
struct Shared {
    state: Mutex<State>,
    slots: Arc<Semaphore>,
    events: Arc<EventShared>,
    violations: AtomicU64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Only a panicking user hook can poison the lock; the state stays consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts a skipped message and shows it to the hook.
    fn violation(&self, state: &mut State, event: &ClientEvent<'_>) {
        self.violations.fetch_add(1, Ordering::Relaxed);
        if let Some(hook) = state.hook.as_mut() {
            hook(event);
        }
    }

    /// Handles one frame (or framing error) from the reader.
    fn on_frame(&self, frame: Result<&[u8], FrameError>) {
        let mut state = self.lock();
        let frame = match frame {
            Ok(frame) => frame,
            Err(e) => {
                self.violation(&mut state, &ClientEvent::Violation(Violation::Frame(e)));
                return;
            }
        };
        let Some(event) = state.engine.handle_frame(frame) else {
            // Only a second greeting's negotiation could not be queued: it is no use now.
            return;
        };
        match event {
            ClientEvent::Response(response) => {
                if let Some(waiter) = state.waiters.remove(&response.id()) {
                    let reply =
                        Error::check(&response).map(|()| response.message().to_owned_message());
                    // The caller may have stopped waiting: then the reply is dropped.
                    let _ = waiter.reply.send(reply);
                }
            }
            ClientEvent::Event(e) => self.events.push(e.message().to_owned_message()),
            ClientEvent::Violation(_) | ClientEvent::Unmatched { .. } => {
                self.violation(&mut state, &event);
            }
            _ => {}
        }
    }

    /// The connection ended: every waiter gets [`Error::Closed`], the streams end.
    fn close(&self) {
        let waiters = {
            let mut state = self.lock();
            state.engine.close();
            // Drain the engine's notices (interrupted requests, closed): the waiters below
            // say it all.
            while state.engine.poll_event().is_some() {}
            core::mem::take(&mut state.waiters)
        };
        for (_, waiter) in waiters {
            let _ = waiter.reply.send(Err(Error::Closed));
        }
        self.slots.close();
        self.events.close();
    }
}

/// A connected, negotiated QMP session on tokio.
///
/// Commands run concurrently from any number of tasks ([`execute`](Self::execute) takes
/// `&self`; share the client with an `Arc`). Events are read as a stream from
/// [`events`](Self::events). Bad input from the server is counted in
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
}

#[cfg(unix)]
impl Client {
    /// Connects to the QMP Unix socket at `path` and negotiates, with [`Config::new`].
    pub async fn connect_unix(path: impl AsRef<std::path::Path>) -> Result<Client, Error> {
        let stream = ::tokio::net::UnixStream::connect(path)
            .await
            .map_err(Error::Io)?;
        Client::connect(stream, &Config::new()).await
    }
}

impl Client {
    /// Connects to the QMP TCP socket at `addr` and negotiates, with [`Config::new`].
    pub async fn connect_tcp(addr: impl ::tokio::net::ToSocketAddrs) -> Result<Client, Error> {
        let stream = ::tokio::net::TcpStream::connect(addr)
            .await
            .map_err(Error::Io)?;
        stream.set_nodelay(true).map_err(Error::Io)?;
        Client::connect(stream, &Config::new()).await
    }

    /// Reads the greeting from `io`, negotiates, and spawns the reader and writer tasks
    /// (call it within a tokio runtime).
    pub async fn connect<T>(io: T, config: &Config) -> Result<Client, Error>
    where
        T: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (read, mut write) = ::tokio::io::split(io);
        let codec = QmpCodec::new(
            config
                .client
                .framer()
                .with_max_frame_len(config.max_message_len),
        );
        let mut frames = FramedRead::new(read, codec);
        let engine = Engine::with_capacity(0, config.max_request_len, config.client)?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                engine,
                waiters: HashMap::new(),
                hook: None,
            }),
            slots: Arc::new(Semaphore::new(PENDING)),
            events: EventShared::new(config.event_capacity),
            violations: AtomicU64::new(0),
        });
        let (greeting, version, oob) = handshake(&shared, &mut frames, &mut write).await?;
        let (writer_tx, writer_rx) = mpsc::unbounded_channel();
        let reader = ::tokio::spawn(read_loop(frames, Arc::clone(&shared)));
        let writer = ::tokio::spawn(write_loop(write, writer_rx, Arc::clone(&shared)));
        Ok(Client {
            shared,
            writer_tx,
            reader,
            writer,
            greeting: greeting.unwrap_or_default(),
            version,
            oob,
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
    /// wire. Dropping the future abandons the reply, not the slot: it is freed when the
    /// reply comes.
    pub async fn execute<A: Payload>(
        &self,
        name: &str,
        arguments: Option<A>,
    ) -> Result<OwnedValue, Error> {
        let response = match arguments {
            Some(a) => self.request(Request::execute(name).arguments(a)).await,
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
            Some(a) => self.request(Request::exec_oob(name).arguments(a)).await,
            None => self.request(Request::exec_oob(name)).await,
        }?;
        Ok(return_value(response))
    }

    /// Sends any [`Request`] (its id is replaced by a fresh one) and returns the whole
    /// success response, `{"return": …, "id": …}`.
    pub async fn request<A: Payload, I: Payload>(
        &self,
        request: Request<'_, A, I>,
    ) -> Result<OwnedMessage, Error> {
        let slot = Arc::clone(&self.shared.slots)
            .acquire_owned()
            .await
            .map_err(|_| Error::Closed)?;
        let (reply_tx, reply_rx) = oneshot::channel();
        {
            let mut state = self.shared.lock();
            let id = state.engine.send(request, None)?;
            let bytes = state.engine.pending_transmit().to_vec();
            state.engine.consume_transmit(bytes.len());
            // Queued under the lock, so requests reach the wire in id order.
            if self.writer_tx.send(bytes).is_err() {
                return Err(Error::Closed);
            }
            state.waiters.insert(
                id,
                Waiter {
                    reply: reply_tx,
                    _slot: slot,
                },
            );
        }
        reply_rx.await.unwrap_or(Err(Error::Closed))
    }

    /// The events, as a `Stream` that ends when the connection closes. Every handle reads
    /// the same queue (each event goes to one of them): use one at a time.
    pub fn events(&self) -> Events {
        Events {
            shared: Arc::clone(&self.shared.events),
        }
    }

    /// A queued event, without waiting.
    pub fn try_event(&self) -> Option<OwnedMessage> {
        self.shared.events.try_pop()
    }

    /// The next event; `None` once the connection is closed and the queue is empty.
    pub async fn next_event(&self) -> Option<OwnedMessage> {
        let events = &self.shared.events;
        std::future::poll_fn(|cx| events.poll_next(cx)).await
    }

    /// How many events wait in the queue.
    pub fn queued_events(&self) -> usize {
        self.shared.events.len()
    }

    /// How many events were dropped because the queue was full.
    pub fn dropped_events(&self) -> u64 {
        self.shared.events.dropped()
    }

    /// How many messages broke the protocol and were skipped (junk, non-objects, malformed
    /// events, replies that match no request).
    pub fn protocol_violations(&self) -> u64 {
        self.shared.violations.load(Ordering::Relaxed)
    }

    /// Calls `hook` (on the reader task) with each skipped message: a
    /// [`ClientEvent::Violation`] or a [`ClientEvent::Unmatched`]. Replaces the previous
    /// callback. It runs under the client's lock: keep it short, and do not call the
    /// client from it.
    pub fn on_protocol_violation<F>(&self, hook: F)
    where
        F: FnMut(&ClientEvent<'_>) + Send + 'static,
    {
        self.shared.lock().hook = Some(Box::new(hook));
    }

    /// Closes the connection: queued requests are written, the write side is shut down,
    /// and the reader stops. Waiting requests fail with [`Error::Closed`].
    pub async fn close(mut self) {
        // Closing the channel lets the writer finish and shut its side down.
        let (closed_tx, _) = mpsc::unbounded_channel();
        drop(core::mem::replace(&mut self.writer_tx, closed_tx));
        let _ = (&mut self.writer).await;
        self.reader.abort();
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

/// The event stream of a [`Client`]; it ends when the connection closes.
pub struct Events {
    shared: Arc<EventShared>,
}

impl Stream for Events {
    type Item = OwnedMessage;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<OwnedMessage>> {
        self.shared.poll_next(cx)
    }
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Events")
            .field("queued", &self.shared.len())
            .finish_non_exhaustive()
    }
}

type Frames<T> = FramedRead<ReadHalf<T>, QmpCodec>;

/// The next frame from the codec; `None` at the end of the stream or on a read error.
async fn next_frame<T: AsyncRead>(frames: &mut Frames<T>) -> Option<Result<Bytes, FrameError>> {
    std::future::poll_fn(|cx| Pin::new(&mut *frames).poll_next(cx))
        .await
        .and_then(Result::ok)
}

/// Writes the engine's queued output.
async fn write_pending<T: AsyncWrite>(
    shared: &Shared,
    write: &mut WriteHalf<T>,
) -> Result<(), Error> {
    let bytes = {
        let mut state = shared.lock();
        let bytes = state.engine.pending_transmit().to_vec();
        state.engine.consume_transmit(bytes.len());
        bytes
    };
    if !bytes.is_empty() {
        write.write_all(&bytes).await.map_err(Error::Io)?;
        write.flush().await.map_err(Error::Io)?;
    }
    Ok(())
}

/// Reads the greeting, sends the negotiation and waits for its reply; events and bad
/// input on the way are handled as later on.
async fn handshake<T: AsyncRead + AsyncWrite>(
    shared: &Shared,
    frames: &mut Frames<T>,
    write: &mut WriteHalf<T>,
) -> Result<(Option<OwnedMessage>, Option<Version>, bool), Error> {
    let mut greeting = None;
    let mut version = None;
    loop {
        write_pending(shared, write).await?;
        let Some(frame) = next_frame(frames).await else {
            return Err(Error::Closed);
        };
        let frame = match frame {
            Ok(frame) => frame,
            Err(e) => {
                let mut state = shared.lock();
                shared.violation(&mut state, &ClientEvent::Violation(Violation::Frame(e)));
                continue;
            }
        };
        let mut state = shared.lock();
        match state.engine.handle_frame(&frame) {
            Some(ClientEvent::Greeting(g)) => {
                greeting = Some(g.message().to_owned_message());
                version = g.version();
            }
            Some(ClientEvent::Negotiated { oob }) => return Ok((greeting, version, oob)),
            Some(ClientEvent::NegotiationFailed(m)) => return Err(Error::negotiation(&m)),
            Some(ClientEvent::Event(e)) => shared.events.push(e.message().to_owned_message()),
            Some(event @ (ClientEvent::Violation(_) | ClientEvent::Unmatched { .. })) => {
                shared.violation(&mut state, &event);
            }
            // No other event comes before negotiation; `None` cannot happen as the transmit
            // buffer is empty when a greeting arrives.
            _ => {}
        }
    }
}

/// Hands every frame to the engine until the stream ends, then closes the session.
async fn read_loop<T: AsyncRead>(mut frames: Frames<T>, shared: Arc<Shared>) {
    while let Some(frame) = next_frame(&mut frames).await {
        shared.on_frame(frame.as_deref().map_err(|e| *e));
    }
    shared.close();
}

/// Writes each request; when the client is gone, shuts the write side down.
async fn write_loop<T: AsyncWrite>(
    mut write: WriteHalf<T>,
    mut requests: mpsc::UnboundedReceiver<Vec<u8>>,
    shared: Arc<Shared>,
) {
    while let Some(bytes) = requests.recv().await {
        if write.write_all(&bytes).await.is_err() || write.flush().await.is_err() {
            // Part of a request may be out: the connection is unusable.
            shared.close();
            return;
        }
    }
    let _ = write.shutdown().await;
}
