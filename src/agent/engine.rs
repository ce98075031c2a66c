//! The sans-IO guest agent session: sync handshake, one command in flight, poisoning on timeout.

use core::fmt;

use crate::encode::{Encode, EncodeError, Id, IdGenerator, Payload, Request};
use crate::framer::{Dialect, FrameError, FramerConfig, MessageError};
use crate::io_buf::{Output, Storage};
use crate::json::sink::{put_u64, Sink};
use crate::json::Value;
use crate::limits::Limits;
use crate::message::{Kind, Message};
use crate::model::{ErrorInfo, ModelError};
use crate::read_buffer::{Peek, ReadBuffer};

/// The longest message the agent engine writes on its own: the sentinel and
/// `guest-sync-delimited` with a 20-digit id (77 bytes).
pub const MIN_TRANSMIT_BUFFER: usize = 77;

/// Sync ids stay below 2^53 so that every JSON reader (and the agent's `int`) holds them
/// exactly.
const SYNC_ID_MASK: u64 = (1 << 53) - 1;

/// The commands whose QAPI schema says `success-response: false`: the agent answers them
/// only when they fail.
pub const NO_SUCCESS_RESPONSE: [&str; 4] = [
    "guest-shutdown",
    "guest-suspend-disk",
    "guest-suspend-ram",
    "guest-suspend-hybrid",
];

/// How an [`Agent`] frames input and numbers its syncs and commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AgentConfig {
    max_frame_len: usize,
    limits: Limits,
    first_sync_id: u64,
    first_id: u64,
    require_echoed_id: bool,
}

impl AgentConfig {
    /// Defaults: frames up to [`DEFAULT_MAX_FRAME_LEN`](crate::DEFAULT_MAX_FRAME_LEN) (also
    /// capped at the receive buffer), default [`Limits`], first sync id 1, first command id
    /// `__qmp#00000`, replies without an `id` accepted as the reply of the command in flight.
    pub const fn new() -> Self {
        AgentConfig {
            max_frame_len: crate::framer::DEFAULT_MAX_FRAME_LEN,
            limits: Limits::new(),
            first_sync_id: 1,
            first_id: 0,
            require_echoed_id: false,
        }
    }

    /// The longest reply, in bytes (default 10 MiB; capped at the receive buffer size).
    pub const fn with_max_frame_len(mut self, len: usize) -> Self {
        self.max_frame_len = len;
        self
    }

    /// Parser limits for each reply (default [`Limits::new`]).
    pub const fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The id of the first `guest-sync-delimited` (default 1; the next ones count up, below
    /// 2^53).
    ///
    /// On a channel that outlives a client (a virtio-serial port), seed it with something
    /// no earlier client used, such as the time in milliseconds (libvirt's choice), so that
    /// a stale sync reply left by another client is never taken for ours.
    pub const fn with_first_sync_id(mut self, id: u64) -> Self {
        self.first_sync_id = id & SYNC_ID_MASK;
        self
    }

    /// The counter of the first command id (default 0).
    pub const fn with_first_id(mut self, n: u64) -> Self {
        self.first_id = n;
        self
    }

    /// Whether a reply must carry the command's `id` to be taken as its reply from the start
    /// (default false: an agent that does not echo ids is still served in order, which the
    /// sync and the poisoning keep safe). Either way, once the agent has echoed an id on a
    /// connection, replies without one are no longer taken ([`Unmatched::MissingId`]).
    pub const fn with_require_echoed_id(mut self, require: bool) -> Self {
        self.require_echoed_id = require;
        self
    }

    /// The framer configuration the engine uses: [`Dialect::Qga`] and the frame limit.
    pub const fn framer(&self) -> FramerConfig {
        FramerConfig::new()
            .with_dialect(Dialect::Qga)
            .with_max_frame_len(self.max_frame_len)
    }
}

impl Default for AgentConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// Where an agent session is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AgentState {
    /// The stream may hold stale replies (a new connection, a command that timed out, a
    /// command without a success response): [`Agent::sync`] before the next command.
    Unsynced,
    /// A `guest-sync-delimited` was sent; everything is discarded until its return.
    Syncing,
    /// In sync, nothing in flight: a command may be sent.
    Ready,
    /// One command is in flight.
    Busy,
    /// The session is over ([`Agent::close`] or end of input); [`Agent::reconnect`] starts
    /// a new one.
    Closed,
}

/// What a command expects back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Expect {
    /// A reply (a return or an error): the usual case.
    Reply,
    /// Nothing on success (`success-response: false`): the command completes once its bytes
    /// are handed to the transport, and the session needs a sync before the next command
    /// (an error reply may still come; it is reported as [`AgentEvent::NoReplyFailed`], or
    /// as its [`AgentEvent::Reply`] if it comes, with the command's id, before the last byte
    /// was handed over).
    Nothing,
}

impl Expect {
    /// What the command `name` expects: [`Expect::Nothing`] for [`NO_SUCCESS_RESPONSE`].
    pub fn for_command(name: &str) -> Expect {
        if NO_SUCCESS_RESPONSE.contains(&name) {
            Expect::Nothing
        } else {
            Expect::Reply
        }
    }
}

/// Why a sync or command was not queued. Nothing was queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AgentError {
    /// The session is not in sync: call [`Agent::sync`] and wait for
    /// [`AgentEvent::Synced`].
    NotSynced,
    /// A command (or a sync) is in flight: the agent serves one at a time.
    Busy,
    /// The session is closed.
    Closed,
    /// The command could not be encoded, or the transmit buffer lacks room
    /// ([`EncodeError::BufferTooSmall`]: flush and retry; a `required` above the buffer's
    /// capacity can never fit).
    Encode(EncodeError),
}

impl fmt::Display for AgentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AgentError::NotSynced => f.write_str("the guest agent session is not in sync"),
            AgentError::Busy => f.write_str("a guest agent command is in flight"),
            AgentError::Closed => f.write_str("the guest agent session is closed"),
            AgentError::Encode(e) => write!(f, "cannot encode the command: {e}"),
        }
    }
}

impl core::error::Error for AgentError {}

impl From<EncodeError> for AgentError {
    fn from(e: EncodeError) -> Self {
        AgentError::Encode(e)
    }
}

/// The agent's reply to one of our commands.
#[derive(Clone, Copy, Debug)]
pub struct Reply<'a> {
    id: Id,
    message: Message<'a>,
}

impl<'a> Reply<'a> {
    /// The reply `message` to command `id`, for transports that keep the message past the
    /// event (see [`Agent::last_message`]).
    #[cfg(any(feature = "std", feature = "embedded-io"))]
    pub(crate) fn new(id: Id, message: Message<'a>) -> Reply<'a> {
        Reply { id, message }
    }

    /// The command's id, as returned by [`Agent::execute`].
    pub fn id(&self) -> Id {
        self.id
    }

    /// The whole reply.
    pub fn message(&self) -> Message<'a> {
        self.message
    }

    /// Whether the reply is an error.
    pub fn is_error(&self) -> bool {
        self.message.kind() == Kind::Error
    }

    /// The `return` value of a success reply.
    pub fn return_value(&self) -> Option<Value<'a>> {
        crate::model::return_of(&self.message)
    }

    /// The `error` object of an error reply, validated (`class` and `desc` strings).
    pub fn error(&self) -> Option<Result<ErrorInfo<'a>, ModelError<'a>>> {
        crate::model::error_of(&self.message)
    }
}

/// Why a reply was not taken as the reply of the command in flight. Never fatal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Unmatched {
    /// No command is in flight.
    NothingInFlight,
    /// The reply's `id` is not the command's.
    OtherId,
    /// The reply has no `id`, and the agent echoes ids (it did on this connection, or
    /// [`AgentConfig::with_require_echoed_id`] says it must).
    MissingId,
}

/// Input that breaks the protocol outside a sync: the client engine's
/// [`client::Violation`](crate::client::Violation), of which the agent reports the framer's and
/// parser's refusals and [`UnexpectedMessage`](crate::client::Violation::UnexpectedMessage)
/// (an object that is neither a return nor an error). Reported, never fatal. A limit
/// refusal ([`is_limit`](crate::client::Violation::is_limit)) may have been the reply of the
/// command in flight, which then fails ([`AgentEvent::Refused`]).
pub use crate::client::Violation;

/// What happened, as reported by [`Agent::poll_event`].
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum AgentEvent<'a> {
    /// The agent returned our sync id: everything before it was stale; commands may be sent.
    Synced {
        /// The id of the `guest-sync-delimited`.
        id: u64,
    },
    /// The reply (a return or an error) of the command in flight.
    Reply(Reply<'a>),
    /// A command that expects no reply ([`Expect::Nothing`]) was handed to the transport:
    /// it is complete, and the session needs a sync.
    Sent(Id),
    /// An error reply to a command that expected no reply (e.g. a blocked
    /// `guest-shutdown`), recognized by its id until the next sync completes.
    NoReplyFailed(Reply<'a>),
    /// Input discarded because the session is not in sync (stale replies, the agent's error
    /// for the sentinel byte, garbage): the frame's bytes, or a framing error.
    Stale(Result<&'a [u8], FrameError>),
    /// A reply, in sync, that is not the command's.
    Unmatched {
        /// The reply.
        message: Message<'a>,
        /// Why it was not taken.
        reason: Unmatched,
    },
    /// Input that breaks the protocol while in sync.
    Violation(Violation<'a>),
    /// A limit refused a frame while a command was in flight: it may have been the
    /// command's reply, so the command fails, and the session needs a sync (a reply that
    /// still comes for it is discarded as stale).
    Refused {
        /// The command that failed.
        id: Id,
        /// What was refused.
        violation: Violation<'a>,
    },
    /// The command in flight passed its deadline; the session is poisoned until the next
    /// sync, so its late reply can never be taken for another command's.
    TimedOut(Id),
    /// The sync passed its deadline (the agent is not running, or is busy): sync again.
    SyncTimedOut {
        /// The id of the `guest-sync-delimited`.
        id: u64,
    },
    /// The session closed (or reconnected) with this command in flight.
    Interrupted(Id),
    /// The session is closed; reported once, after any [`Interrupted`](Self::Interrupted).
    Closed,
}

/// What the engine is waiting for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flight {
    None,
    Sync { id: u64 },
    Command { id: Id, expect: Expect },
}

/// How many ended flights are kept for [`Agent::poll_event`] when the caller starts new ones
/// without polling.
const NOTICES: usize = 4;

/// A notice owned by the engine, reported before input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Notice {
    TimedOut(Id),
    SyncTimedOut(u64),
    Interrupted(Id),
    Sent(Id),
}

/// `0xFF{"execute":"guest-sync-delimited","arguments":{"id":N}}`.
struct SyncRequest(u64);

impl Encode for SyncRequest {
    fn write_message<S: Sink + ?Sized>(&self, w: &mut S) -> Result<(), EncodeError> {
        // The sentinel resets the agent's JSON parser, whatever a previous client left in it.
        w.put(&[0xFF])?;
        w.put(br#"{"execute":"guest-sync-delimited","arguments":{"id":"#)?;
        put_u64(w, self.0)?;
        w.put(b"}}")?;
        Ok(())
    }
}

/// Everything but the input buffer, so that events can borrow the input while this changes.
#[derive(Debug)]
struct Core<'s> {
    config: AgentConfig,
    state: AgentState,
    out: Output<'s>,
    ids: IdGenerator,
    next_sync: u64,
    flight: Flight,
    deadline: Option<u64>,
    /// The last command without a success response, until the next sync completes.
    no_reply: Option<Id>,
    /// Ended flights not yet reported: a caller may start the next sync or command before
    /// polling. Bounded: past [`NOTICES`], the oldest is dropped.
    notices: heapless::Deque<Notice, NOTICES>,
    closed_reported: bool,
    /// The agent echoed a command id on this connection.
    echoes: bool,
}

/// A sans-IO guest agent client over caller-provided buffers; it never allocates, blocks or
/// reads a clock.
///
/// The agent has no greeting and serves one command at a time, in order. Its stream may
/// hold stale replies (from a previous client, or from a command we gave up on), so a
/// session starts [`Unsynced`](AgentState::Unsynced): [`sync`](Self::sync) sends the `0xFF`
/// sentinel and `guest-sync-delimited` with a fresh id, and everything is discarded until
/// the agent returns that id. A command that times out, and a command that expects no
/// reply, put the session back out of sync.
///
/// # Driving it
///
/// 1. Input: read from the transport into [`spare`](Self::spare) and
///    [`commit`](Self::commit) the count (or copy with
///    [`handle_input`](Self::handle_input)); at end of stream call
///    [`handle_eof`](Self::handle_eof).
/// 2. Events: call [`poll_event`](Self::poll_event) until it returns `None`. Each event
///    borrows the engine (and the reply's bytes in its receive buffer) until the next call.
/// 3. Output: call [`poll_transmit`](Self::poll_transmit) until `None` and write the bytes
///    (or use [`pending_transmit`](Self::pending_transmit) and
///    [`consume_transmit`](Self::consume_transmit)).
/// 4. Time: call [`handle_timeout`](Self::handle_timeout) when the deadline
///    ([`poll_timeout`](Self::poll_timeout)) has passed.
///
/// # Drain order
///
/// `poll_event` reports, in this order: timed-out, interrupted or sent commands and
/// timed-out syncs, oldest first (the last four are kept when the caller starts new ones
/// without polling), then [`AgentEvent::Closed`] once the session is closed, then one event
/// per received frame in stream order.
///
/// ```
/// use qmp_codec::agent::{Agent, AgentConfig, AgentEvent};
/// use qmp_codec::encode::EmptyObject;
///
/// let (mut rx, mut tx) = ([0u8; 1024], [0u8; 256]);
/// let mut agent = Agent::new(&mut rx, &mut tx, AgentConfig::new().with_first_sync_id(42)).unwrap();
/// agent.sync(Some(5_000)).unwrap();
/// assert_eq!(agent.pending_transmit(), b"\xff{\"execute\":\"guest-sync-delimited\",\"arguments\":{\"id\":42}}");
/// agent.consume_transmit(agent.pending_transmit().len());
/// // A stale reply, the agent's error for the sentinel byte, then our sync's return.
/// agent.handle_input(b"{\"return\": {}}\n{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, stray '\\ufffd'\"}}\n\xff{\"return\": 42}\n");
/// assert!(matches!(agent.poll_event(), Some(AgentEvent::Stale(_))));
/// assert!(matches!(agent.poll_event(), Some(AgentEvent::Stale(_))));
/// assert!(matches!(agent.poll_event(), Some(AgentEvent::Synced { id: 42 })));
/// let id = agent.execute("guest-ping", None::<EmptyObject>, Some(10_000)).unwrap();
/// assert_eq!(agent.pending_transmit(), br#"{"execute":"guest-ping","id":"__qmp#00000"}"#);
/// agent.consume_transmit(agent.pending_transmit().len());
/// agent.handle_input(b"{\"return\": {}, \"id\": \"__qmp#00000\"}\n");
/// match agent.poll_event() {
///     Some(AgentEvent::Reply(r)) => assert_eq!(r.id(), id),
///     other => panic!("{other:?}"),
/// }
/// ```
#[derive(Debug)]
pub struct Agent<'s> {
    input: ReadBuffer<'s>,
    core: Core<'s>,
    /// The last event borrowed the held input step; release it on the next poll.
    release: bool,
}

impl<'s> Agent<'s> {
    /// An agent client receiving into `rx` and transmitting from `tx`.
    ///
    /// `rx` bounds the longest reply (the frame limit is capped at its size); `tx` must hold
    /// at least [`MIN_TRANSMIT_BUFFER`] bytes, else `BufferTooSmall` is returned.
    pub fn new(
        rx: &'s mut [u8],
        tx: &'s mut [u8],
        config: AgentConfig,
    ) -> Result<Self, AgentError> {
        Self::with_storage(Storage::Borrowed(rx), Storage::Borrowed(tx), config)
    }

    /// An agent client that owns its buffers: `rx_len` bytes to receive into (the longest
    /// reply) and `tx_len` to transmit from (the longest command; at least
    /// [`MIN_TRANSMIT_BUFFER`]).
    #[cfg(feature = "alloc")]
    pub fn with_capacity(
        rx_len: usize,
        tx_len: usize,
        config: AgentConfig,
    ) -> Result<Agent<'static>, AgentError> {
        Agent::with_storage(Storage::owned(rx_len), Storage::owned(tx_len), config)
    }

    fn with_storage(
        rx: Storage<'s>,
        tx: Storage<'s>,
        config: AgentConfig,
    ) -> Result<Self, AgentError> {
        if tx.len() < MIN_TRANSMIT_BUFFER {
            return Err(AgentError::Encode(EncodeError::BufferTooSmall {
                required: MIN_TRANSMIT_BUFFER,
            }));
        }
        Ok(Agent {
            input: ReadBuffer::with_storage(rx, config.framer(), config.limits),
            core: Core {
                config,
                state: AgentState::Unsynced,
                out: Output::new(tx),
                ids: IdGenerator::starting_at(config.first_id),
                next_sync: config.first_sync_id,
                flight: Flight::None,
                deadline: None,
                no_reply: None,
                notices: heapless::Deque::new(),
                closed_reported: false,
                echoes: false,
            },
            release: false,
        })
    }

    /// Where the session is.
    pub fn state(&self) -> AgentState {
        self.core.state
    }

    /// The id of the command in flight.
    pub fn in_flight(&self) -> Option<Id> {
        match self.core.flight {
            Flight::Command { id, .. } => Some(id),
            _ => None,
        }
    }

    /// The id the next [`sync`](Self::sync) will use.
    pub fn next_sync_id(&self) -> u64 {
        self.core.next_sync
    }

    /// The counter of the next command id.
    pub fn next_id(&self) -> u64 {
        self.core.ids.peek().number()
    }

    // --- input ---

    /// Free space in the receive buffer to read into; commit what was read with
    /// [`commit`](Self::commit). Empty when the buffer is full (poll events first) or after
    /// [`handle_eof`](Self::handle_eof).
    pub fn spare(&mut self) -> &mut [u8] {
        self.input.spare()
    }

    /// Marks `n` bytes of [`spare`](Self::spare) as received.
    pub fn commit(&mut self, n: usize) {
        self.input.commit(n);
    }

    /// Copies received bytes into the receive buffer; returns how many fit (poll events to
    /// make room for the rest).
    pub fn handle_input(&mut self, bytes: &[u8]) -> usize {
        self.input.push(bytes)
    }

    /// The agent closed the connection: the buffered frames are still reported, then the
    /// session closes (a command in flight is interrupted).
    pub fn handle_eof(&mut self) {
        self.input.set_eof();
    }

    // --- time ---

    /// The deadline of the sync or command in flight.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<u64> {
        match self.core.flight {
            Flight::None => None,
            _ => self.core.deadline,
        }
    }

    /// Times out the sync or command in flight if its deadline is at or before `now` (in the
    /// unit the deadline was given in). A command that times out poisons the session: the
    /// next command needs a new sync.
    pub fn handle_timeout(&mut self, now: u64) {
        if self.core.deadline.is_none_or(|d| d > now) {
            return;
        }
        let notice = match self.core.flight {
            Flight::None => return,
            Flight::Sync { id } => Notice::SyncTimedOut(id),
            Flight::Command { id, .. } => Notice::TimedOut(id),
        };
        self.core.notice(notice);
        self.core.flight = Flight::None;
        self.core.deadline = None;
        self.core.state = AgentState::Unsynced;
    }

    // --- requests ---

    /// Queues the sentinel byte and `guest-sync-delimited` with a fresh id, dropping any
    /// output not yet handed to the transport (the sentinel resets the agent's parser, so a
    /// command cut short does no harm). Allowed in any state but `Busy` and `Closed`; a
    /// sync already in flight is abandoned (its late return is discarded as stale).
    pub fn sync(&mut self, deadline: Option<u64>) -> Result<u64, AgentError> {
        self.core.sync(deadline)
    }

    /// Sends `{"execute": name, "arguments": …, "id": …}` with a fresh id; `None` omits
    /// `arguments`. Commands in [`NO_SUCCESS_RESPONSE`] expect nothing back
    /// ([`Expect::for_command`]).
    pub fn execute<A: Payload>(
        &mut self,
        name: &str,
        arguments: Option<A>,
        deadline: Option<u64>,
    ) -> Result<Id, AgentError> {
        let expect = Expect::for_command(name);
        match arguments {
            Some(a) => self.send(Request::execute(name).with_arguments(a), expect, deadline),
            None => self.send(Request::execute(name), expect, deadline),
        }
    }

    /// Sends a request built with [`Request`] (its id, if any, is replaced by a fresh one),
    /// expecting what `expect` says, with an optional deadline for
    /// [`handle_timeout`](Self::handle_timeout).
    pub fn send<A: Payload, I: Payload>(
        &mut self,
        request: Request<'_, A, I>,
        expect: Expect,
        deadline: Option<u64>,
    ) -> Result<Id, AgentError> {
        self.core.send(request, expect, deadline)
    }

    /// Closes the session: a command in flight is reported as [`AgentEvent::Interrupted`],
    /// then [`AgentEvent::Closed`]; queued output is dropped.
    pub fn close(&mut self) {
        self.core.close();
    }

    /// Starts a new session over a new connection (the agent restarted, or the VM
    /// rebooted): the buffered input and output are dropped, a command in flight is
    /// reported as [`AgentEvent::Interrupted`], and the session is
    /// [`Unsynced`](AgentState::Unsynced). Ids keep counting, so a stale reply from the
    /// old session never matches.
    pub fn reconnect(&mut self) {
        if let Flight::Command { id, .. } = self.core.flight {
            self.core.notice(Notice::Interrupted(id));
        }
        self.input.clear();
        self.release = false;
        self.core.out.clear();
        self.core.flight = Flight::None;
        self.core.deadline = None;
        self.core.no_reply = None;
        self.core.state = AgentState::Unsynced;
        self.core.closed_reported = false;
        self.core.echoes = false;
    }

    // --- output ---

    /// Copies queued output into `buf`; returns the count, or `None` when nothing is queued.
    #[must_use]
    pub fn poll_transmit(&mut self, buf: &mut [u8]) -> Option<usize> {
        let n = self.core.out.poll_transmit(buf);
        self.core.check_sent();
        n
    }

    /// The queued output, for writing without a copy; then call
    /// [`consume_transmit`](Self::consume_transmit).
    pub fn pending_transmit(&self) -> &[u8] {
        self.core.out.pending()
    }

    /// Drops `n` bytes of queued output (they were written).
    pub fn consume_transmit(&mut self, n: usize) {
        self.core.out.consume(n);
        self.core.check_sent();
    }

    /// The transmit buffer's size.
    pub fn transmit_capacity(&self) -> usize {
        self.core.out.capacity()
    }

    // --- events ---

    /// The next event; see the [type docs](Self) for the order. `None` means nothing is left
    /// until more input arrives.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<AgentEvent<'_>> {
        if core::mem::take(&mut self.release) {
            self.input.release();
        }
        if let Some(event) = self.core.take_notice() {
            return Some(event);
        }
        if self.core.state == AgentState::Closed {
            self.input.discard();
            return None;
        }
        let event = match self.input.peek() {
            Peek::Empty { exhausted } => {
                if exhausted {
                    self.core.close();
                    return self.core.take_notice();
                }
                return None;
            }
            Peek::Error { error, .. } => self.core.on_bad(error),
            Peek::Message(message) => self.core.on_message(message),
        };
        self.release = true;
        Some(event)
    }

    /// Handles one frame framed by the caller (a transport with its own [`Dialect::Qga`]
    /// framing), with the same rules as [`poll_event`](Self::poll_event). Notices and
    /// `Closed` still come from `poll_event`.
    pub fn handle_frame<'f>(&mut self, frame: &'f [u8]) -> Option<AgentEvent<'f>> {
        if self.core.state == AgentState::Closed {
            return None;
        }
        Some(match Message::parse_with(frame, &self.core.config.limits) {
            Ok(message) => self.core.on_message(message),
            Err(error) => self.core.on_bad(MessageError::Parse { offset: 0, error }),
        })
    }

    /// The message of the last event [`poll_event`](Self::poll_event) returned (a reply, a
    /// stale or unmatched message), until the next `poll_event`: for read loops that must
    /// end the event's borrow before returning its message.
    pub fn last_message(&self) -> Option<Message<'_>> {
        if self.release {
            self.input.held_message()
        } else {
            None
        }
    }
}

impl<'s> Core<'s> {
    fn sync(&mut self, deadline: Option<u64>) -> Result<u64, AgentError> {
        match self.state {
            AgentState::Closed => return Err(AgentError::Closed),
            AgentState::Busy => return Err(AgentError::Busy),
            AgentState::Unsynced | AgentState::Syncing | AgentState::Ready => {}
        }
        self.out.clear();
        let id = self.next_sync;
        self.out.write(&SyncRequest(id))?;
        self.next_sync = id.wrapping_add(1) & SYNC_ID_MASK;
        self.flight = Flight::Sync { id };
        self.deadline = deadline;
        self.state = AgentState::Syncing;
        Ok(id)
    }

    fn send<A: Payload, I: Payload>(
        &mut self,
        request: Request<'_, A, I>,
        expect: Expect,
        deadline: Option<u64>,
    ) -> Result<Id, AgentError> {
        match self.state {
            AgentState::Ready => {}
            AgentState::Closed => return Err(AgentError::Closed),
            AgentState::Busy | AgentState::Syncing => return Err(AgentError::Busy),
            AgentState::Unsynced => return Err(AgentError::NotSynced),
        }
        let id = self.ids.peek();
        self.out.write(&request.with_id(id))?;
        self.ids.next_id();
        self.flight = Flight::Command { id, expect };
        self.deadline = deadline;
        self.state = AgentState::Busy;
        self.check_sent();
        Ok(id)
    }

    /// A command that expects nothing completes when its last byte leaves the queue.
    fn check_sent(&mut self) {
        if let Flight::Command {
            id,
            expect: Expect::Nothing,
        } = self.flight
        {
            if self.out.pending().is_empty() {
                self.notice(Notice::Sent(id));
                self.no_reply = Some(id);
                self.flight = Flight::None;
                self.deadline = None;
                self.state = AgentState::Unsynced;
            }
        }
    }

    fn close(&mut self) {
        if self.state == AgentState::Closed {
            return;
        }
        if let Flight::Command { id, .. } = self.flight {
            self.notice(Notice::Interrupted(id));
        }
        self.flight = Flight::None;
        self.deadline = None;
        self.state = AgentState::Closed;
        self.out.clear();
    }

    fn notice(&mut self, notice: Notice) {
        if self.notices.is_full() {
            self.notices.pop_front();
        }
        // Cannot fail: there is room now.
        let _ = self.notices.push_back(notice);
    }

    fn take_notice(&mut self) -> Option<AgentEvent<'static>> {
        if let Some(notice) = self.notices.pop_front() {
            return Some(match notice {
                Notice::TimedOut(id) => AgentEvent::TimedOut(id),
                Notice::SyncTimedOut(id) => AgentEvent::SyncTimedOut { id },
                Notice::Interrupted(id) => AgentEvent::Interrupted(id),
                Notice::Sent(id) => AgentEvent::Sent(id),
            });
        }
        if self.state == AgentState::Closed && !self.closed_reported {
            self.closed_reported = true;
            return Some(AgentEvent::Closed);
        }
        None
    }

    fn in_sync(&self) -> bool {
        matches!(self.state, AgentState::Ready | AgentState::Busy)
    }

    /// A bad frame or a frame that is no message.
    fn on_bad<'f>(&mut self, error: MessageError<'f>) -> AgentEvent<'f> {
        if !self.in_sync() {
            return AgentEvent::Stale(match error {
                MessageError::Frame(e) => Err(e),
                MessageError::Parse { error, .. } => Ok(error.raw()),
            });
        }
        let violation = Violation::from(error);
        if let (true, Flight::Command { id, .. }) = (violation.is_limit(), self.flight) {
            self.flight = Flight::None;
            self.deadline = None;
            self.state = AgentState::Unsynced;
            return AgentEvent::Refused { id, violation };
        }
        AgentEvent::Violation(violation)
    }

    fn on_message<'f>(&mut self, message: Message<'f>) -> AgentEvent<'f> {
        let frame = message.as_bytes();
        let is_reply = matches!(message.kind(), Kind::Return | Kind::Error);
        // An error reply to a command that expected none, in any state, until a sync ends.
        if let (true, Some(no_reply)) = (is_reply, self.no_reply) {
            if message.id().is_some_and(|v| no_reply.matches(&v)) {
                self.no_reply = None;
                return AgentEvent::NoReplyFailed(Reply {
                    id: no_reply,
                    message,
                });
            }
        }
        match (self.state, self.flight) {
            (AgentState::Syncing, Flight::Sync { id }) => {
                let returned = match message.kind() {
                    Kind::Return if message.id().is_none() => {
                        message.get("return").and_then(|v| v.as_u64())
                    }
                    _ => None,
                };
                if returned == Some(id) {
                    self.flight = Flight::None;
                    self.deadline = None;
                    self.no_reply = None;
                    self.state = AgentState::Ready;
                    AgentEvent::Synced { id }
                } else {
                    AgentEvent::Stale(Ok(frame))
                }
            }
            (AgentState::Busy, Flight::Command { id, expect }) if is_reply => {
                let reason = match message.id() {
                    Some(v) if id.matches(&v) => {
                        self.echoes = true;
                        None
                    }
                    Some(_) => Some(Unmatched::OtherId),
                    // A command that expects nothing can only be answered by an error
                    // that carries its id.
                    None if self.config.require_echoed_id
                        || self.echoes
                        || expect == Expect::Nothing =>
                    {
                        Some(Unmatched::MissingId)
                    }
                    None => None,
                };
                match reason {
                    None => {
                        self.flight = Flight::None;
                        self.deadline = None;
                        self.state = AgentState::Ready;
                        AgentEvent::Reply(Reply { id, message })
                    }
                    Some(reason) => AgentEvent::Unmatched { message, reason },
                }
            }
            (AgentState::Ready, _) if is_reply => AgentEvent::Unmatched {
                message,
                reason: Unmatched::NothingInFlight,
            },
            (AgentState::Ready | AgentState::Busy, _) => {
                AgentEvent::Violation(Violation::UnexpectedMessage(message))
            }
            _ => AgentEvent::Stale(Ok(frame)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::EmptyObject;

    /// The whole cycle without std or alloc: caller buffers, a poisoned session, a resync.
    #[test]
    fn sync_command_timeout_resync_without_alloc() {
        let (mut rx, mut tx) = ([0u8; 256], [0u8; 128]);
        let mut agent = Agent::new(&mut rx, &mut tx, AgentConfig::new().with_first_sync_id(9))
            .expect("buffers");
        assert_eq!(agent.sync(Some(10)), Ok(9));
        let n = agent.pending_transmit().len();
        agent.consume_transmit(n);
        agent.handle_input(b"\xff{\"return\": 9}\n");
        assert!(matches!(
            agent.poll_event(),
            Some(AgentEvent::Synced { id: 9 })
        ));
        let id = agent
            .execute("guest-ping", None::<EmptyObject>, Some(20))
            .expect("ready");
        agent.handle_timeout(20);
        assert!(matches!(agent.poll_event(), Some(AgentEvent::TimedOut(t)) if t == id));
        assert_eq!(agent.state(), AgentState::Unsynced);
        assert_eq!(agent.sync(None), Ok(10));
        agent.handle_input(b"{\"return\": {}, \"id\": \"__qmp#00000\"}\n\xff{\"return\": 10}\n");
        assert!(matches!(agent.poll_event(), Some(AgentEvent::Stale(Ok(_)))));
        assert!(matches!(
            agent.poll_event(),
            Some(AgentEvent::Synced { id: 10 })
        ));
        assert!(agent.poll_event().is_none());
        assert_eq!(agent.state(), AgentState::Ready);
        assert!(Agent::new(&mut [0u8; 8], &mut [0u8; 76], AgentConfig::new()).is_err());
    }
}
