//! The sans-IO QMP client: greeting, negotiation, request tracking and response matching.

use core::fmt;

use crate::encode::{EncodeError, Id, IdGenerator, Payload, Request};
use crate::error::ParseError;
use crate::error::Reason;
use crate::framer::{Dialect, FrameError, FramerConfig, MessageError};
use crate::io_buf::{Output, Storage};
use crate::json::Value;
use crate::limits::Limits;
use crate::message::{Kind, Message};
use crate::model::{ErrorInfo, Event, Greeting, ModelError};
use crate::read_buffer::{Peek, ReadBuffer};

pub use crate::driver::Refusal;

/// The negotiation command, as `qemu.qmp` sends it.
const CAPS: Request<'static> = Request::execute("qmp_capabilities");
/// The longest message the client writes on its own: the negotiation with OOB (61 bytes).
pub const MIN_TRANSMIT_BUFFER: usize = 61;

/// How a [`Client`] frames input and negotiates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientConfig {
    framer: FramerConfig,
    limits: Limits,
    want_oob: bool,
    first_id: u64,
}

impl ClientConfig {
    /// Defaults: line framing (QEMU's output), default [`Limits`], OOB enabled when the server
    /// offers it (as `qemu.qmp` does), first id `__qmp#00000`.
    pub const fn new() -> Self {
        ClientConfig {
            framer: FramerConfig::new(),
            limits: Limits::new(),
            want_oob: true,
            first_id: 0,
        }
    }

    /// How input is cut into messages. [`Dialect::Stream`] also reads `pretty=on` monitors.
    /// The frame length limit is capped at the receive buffer size.
    pub const fn with_framer(mut self, framer: FramerConfig) -> Self {
        self.framer = framer;
        self
    }

    /// Shorthand for a framer with this dialect.
    pub const fn with_dialect(mut self, dialect: Dialect) -> Self {
        self.framer = self.framer.with_dialect(dialect);
        self
    }

    /// Parser limits for each message (default [`Limits::new`]).
    pub const fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Whether to enable out-of-band execution when the greeting offers it (default true).
    pub const fn with_oob(mut self, want_oob: bool) -> Self {
        self.want_oob = want_oob;
        self
    }

    /// The counter of the first request id (default 0), e.g. to continue numbering on a new
    /// connection with [`Client::next_id`] of the old one.
    pub const fn with_first_id(mut self, n: u64) -> Self {
        self.first_id = n;
        self
    }

    /// How input is framed, for transports that frame it themselves (e.g. with a tokio
    /// codec) and hand frames to [`Client::handle_frame`].
    ///
    /// ```
    /// use qmp_codec::client::ClientConfig;
    /// use qmp_codec::Dialect;
    /// let config = ClientConfig::new().with_dialect(Dialect::Stream);
    /// assert_eq!(config.framer().dialect(), Dialect::Stream);
    /// ```
    pub const fn framer(&self) -> FramerConfig {
        self.framer
    }
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// Where a client is in the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClientState {
    /// Waiting for the server's greeting.
    AwaitingGreeting,
    /// `qmp_capabilities` was queued; waiting for its reply.
    Negotiating,
    /// Command mode: requests may be sent.
    Ready,
    /// The session is over ([`Client::close`], end of input, or failed negotiation).
    Closed,
}

/// Why a request was not queued. Nothing was queued and no id was used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientError {
    /// Negotiation is not complete yet: wait for [`ClientEvent::Negotiated`].
    NotReady,
    /// The session is closed.
    Closed,
    /// As many requests are pending as the client tracks (its `N`); wait for responses.
    TooManyPending,
    /// `exec-oob` needs out-of-band execution, which was not negotiated.
    OobNotNegotiated,
    /// The request could not be encoded, or the transmit buffer lacks room
    /// ([`EncodeError::BufferTooSmall`]: flush [`Client::poll_transmit`] and retry; a
    /// `required` above the buffer's capacity can never fit).
    Encode(EncodeError),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::NotReady => f.write_str("QMP negotiation is not complete"),
            ClientError::Closed => f.write_str("the QMP session is closed"),
            ClientError::TooManyPending => f.write_str("too many requests pending"),
            ClientError::OobNotNegotiated => {
                f.write_str("out-of-band execution was not negotiated")
            }
            ClientError::Encode(e) => write!(f, "cannot encode the request: {e}"),
        }
    }
}

impl core::error::Error for ClientError {}

impl From<EncodeError> for ClientError {
    fn from(e: EncodeError) -> Self {
        ClientError::Encode(e)
    }
}

/// A response matched to one of our requests.
#[derive(Clone, Copy, Debug)]
pub struct Response<'a> {
    id: Id,
    oob: bool,
    message: Message<'a>,
}

impl<'a> Response<'a> {
    /// The request's id, as returned by [`Client::execute`].
    pub fn id(&self) -> Id {
        self.id
    }

    /// Whether the request was `exec-oob`.
    pub fn is_oob(&self) -> bool {
        self.oob
    }

    /// The whole response message.
    pub fn message(&self) -> Message<'a> {
        self.message
    }

    /// Whether the response is an error (`error` member).
    pub fn is_error(&self) -> bool {
        self.message.kind() == Kind::Error
    }

    /// The `return` value of a success response.
    pub fn return_value(&self) -> Option<Value<'a>> {
        crate::model::return_of(&self.message)
    }

    /// The `error` object of an error response, validated (`class` and `desc` strings).
    pub fn error(&self) -> Option<Result<ErrorInfo<'a>, ModelError<'a>>> {
        crate::model::error_of(&self.message)
    }
}

/// Why a response could not be matched to a request. Never fatal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Unmatched {
    /// The response has no `id`: QEMU answers input it could not parse this way (an error
    /// such as `JSON parse error, …`), and a request sent without an id.
    MissingId,
    /// The `id` is not one of ours, or its request already timed out or was answered.
    UnknownId,
}

/// Input that breaks the protocol. Reported, never fatal: the session goes on.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum Violation<'a> {
    /// The framer refused a frame (too long, or a lexical error with the stream dialect).
    Frame(FrameError),
    /// A frame that is not a JSON object.
    Parse(ParseError<'a>),
    /// A greeting or event whose shape is wrong (the model error says how).
    Model(Message<'a>, ModelError<'a>),
    /// A greeting after the first one.
    UnexpectedGreeting(Message<'a>),
    /// A command, or an object that is no QMP message at all.
    UnexpectedMessage(Message<'a>),
}

impl Violation<'_> {
    /// Whether a limit refused the frame (too long, too deep, too many members, too large):
    /// a valid reply may have been lost with it, so the oldest waiting request fails.
    pub fn is_limit(&self) -> bool {
        match self {
            Violation::Frame(FrameError::TooLong { .. }) => true,
            Violation::Parse(ParseError::Deserialization(e)) => matches!(
                e.reason(),
                Reason::DepthLimit | Reason::TooManyMembers | Reason::TooLarge
            ),
            _ => false,
        }
    }
}

impl<'a> From<MessageError<'a>> for Violation<'a> {
    fn from(e: MessageError<'a>) -> Self {
        match e {
            MessageError::Frame(e) => Violation::Frame(e),
            MessageError::Parse { error, .. } => Violation::Parse(error),
        }
    }
}

/// What happened, as reported by [`Client::poll_event`].
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum ClientEvent<'a> {
    /// The greeting arrived; negotiation was queued for [`Client::poll_transmit`].
    Greeting(Greeting<'a>),
    /// The server accepted `qmp_capabilities`: requests may be sent. `oob` says whether
    /// out-of-band execution was enabled.
    Negotiated {
        /// Out-of-band execution is enabled.
        oob: bool,
    },
    /// The server refused `qmp_capabilities`; the client is now closed
    /// ([`Closed`](Self::Closed) follows).
    NegotiationFailed(Message<'a>),
    /// The response to one of our requests (a return or an error).
    Response(Response<'a>),
    /// An asynchronous event, in any state (events before or during negotiation are kept).
    Event(Event<'a>),
    /// A response that matches no pending request.
    Unmatched {
        /// The response.
        message: Message<'a>,
        /// Why it matched nothing.
        reason: Unmatched,
    },
    /// Input that breaks the protocol.
    Violation(Violation<'a>),
    /// A limit refused a frame ([`Violation::is_limit`]) while requests waited: the oldest
    /// waiting request fails with it, since the refused frame may have been its reply. A
    /// reply that still comes for it later is [`Unmatched`](Self::Unmatched).
    Refused {
        /// The request that failed.
        id: Id,
        /// What was refused.
        violation: Violation<'a>,
    },
    /// A request passed its deadline ([`Client::handle_timeout`]); a late response will be
    /// [`Unmatched`].
    TimedOut(Id),
    /// The session closed with this request unanswered.
    Interrupted(Id),
    /// The session is closed; reported once, after every [`Interrupted`](Self::Interrupted).
    Closed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SlotState {
    Free,
    Waiting,
    TimedOut,
    Interrupted,
}

#[derive(Clone, Copy, Debug)]
struct Slot {
    state: SlotState,
    id: Id,
    oob: bool,
    deadline: Option<u64>,
}

const FREE: Slot = Slot {
    state: SlotState::Free,
    id: Id::new(0),
    oob: false,
    deadline: None,
};

/// Everything but the input buffer, so that events can borrow the input while this changes.
#[derive(Debug)]
struct Core<'s, const N: usize> {
    config: ClientConfig,
    state: ClientState,
    out: Output<'s>,
    ids: IdGenerator,
    slots: [Slot; N],
    oob: bool,
    closed_reported: bool,
}

/// A sans-IO QMP client over caller-provided buffers; it never allocates, blocks or reads a
/// clock.
///
/// `N` (default 8, QEMU's in-band queue limit with OOB) is how many requests may be pending.
///
/// # Driving it
///
/// 1. Input: read from the transport into [`spare`](Self::spare) and [`commit`](Self::commit)
///    the count (or copy with [`handle_input`](Self::handle_input)); at end of stream call
///    [`handle_eof`](Self::handle_eof).
/// 2. Events: call [`poll_event`](Self::poll_event) until it returns `None`. Each event
///    borrows the client (and the message bytes in its receive buffer) until the next call.
/// 3. Output: call [`poll_transmit`](Self::poll_transmit) until `None` and write the bytes
///    (or use [`pending_transmit`](Self::pending_transmit) and
///    [`consume_transmit`](Self::consume_transmit)).
/// 4. Time: call [`handle_timeout`](Self::handle_timeout) when the earliest deadline
///    ([`poll_timeout`](Self::poll_timeout)) has passed.
///
/// Requests ([`execute`](Self::execute), [`send`](Self::send)) are encoded straight into the
/// transmit buffer. After `poll_event` returns `None`, flush the output; if
/// [`is_blocked`](Self::is_blocked) was set (the greeting's negotiation command did not fit),
/// poll events again before reading.
///
/// # Drain order
///
/// `poll_event` reports, in this order: requests that timed out or were interrupted (in
/// table order), then [`ClientEvent::Closed`] once the session is closed, then one event per
/// received frame in stream order.
///
/// ```
/// use qmp_codec::client::{Client, ClientConfig, ClientEvent};
/// use qmp_codec::encode::EmptyObject;
///
/// let (mut rx, mut tx) = ([0u8; 1024], [0u8; 256]);
/// let mut client = Client::<8>::new(&mut rx, &mut tx, ClientConfig::new()).unwrap();
/// client.handle_input(b"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 0, \"major\": 10}, \"package\": \"\"}, \"capabilities\": [\"oob\"]}}\r\n");
/// assert!(matches!(client.poll_event(), Some(ClientEvent::Greeting(_))));
/// assert_eq!(client.pending_transmit(), br#"{"execute":"qmp_capabilities","arguments":{"enable":["oob"]}}"#);
/// client.consume_transmit(61);
/// client.handle_input(b"{\"return\": {}}\r\n");
/// assert!(matches!(client.poll_event(), Some(ClientEvent::Negotiated { oob: true })));
/// let id = client.execute("query-status", None::<EmptyObject>).unwrap();
/// assert_eq!(client.pending_transmit(), br#"{"execute":"query-status","id":"__qmp#00000"}"#);
/// client.handle_input(b"{\"return\": {\"status\": \"running\"}, \"id\": \"__qmp#00000\"}\r\n");
/// match client.poll_event() {
///     Some(ClientEvent::Response(r)) => {
///         assert_eq!(r.id(), id);
///         assert!(r.return_value().unwrap().get("status").unwrap().as_str().unwrap() == "running");
///     }
///     other => panic!("{other:?}"),
/// }
/// ```
#[derive(Debug)]
pub struct Client<'s, const N: usize = 8> {
    input: ReadBuffer<'s>,
    core: Core<'s, N>,
    /// The last event borrowed the held input step; release it on the next poll.
    release: bool,
    blocked: bool,
}

impl<'s, const N: usize> Client<'s, N> {
    /// A client receiving into `rx` and transmitting from `tx`.
    ///
    /// `rx` bounds the largest message (the frame limit is capped at its size); `tx` must
    /// hold at least [`MIN_TRANSMIT_BUFFER`] bytes, else `BufferTooSmall` is returned.
    pub fn new(
        rx: &'s mut [u8],
        tx: &'s mut [u8],
        config: ClientConfig,
    ) -> Result<Self, ClientError> {
        Self::with_storage(Storage::Borrowed(rx), Storage::Borrowed(tx), config)
    }

    fn with_storage(
        rx: Storage<'s>,
        tx: Storage<'s>,
        config: ClientConfig,
    ) -> Result<Self, ClientError> {
        if tx.len() < MIN_TRANSMIT_BUFFER {
            return Err(ClientError::Encode(EncodeError::BufferTooSmall {
                required: MIN_TRANSMIT_BUFFER,
            }));
        }
        Ok(Client {
            input: ReadBuffer::with_storage(rx, config.framer, config.limits),
            core: Core {
                config,
                state: ClientState::AwaitingGreeting,
                out: Output::new(tx),
                ids: IdGenerator::starting_at(config.first_id),
                slots: [FREE; N],
                oob: false,
                closed_reported: false,
            },
            release: false,
            blocked: false,
        })
    }

    /// A client that owns its buffers: `rx_len` bytes to receive into (the largest message)
    /// and `tx_len` to transmit from (the largest request; at least [`MIN_TRANSMIT_BUFFER`]).
    /// For transports that keep the client in a long-lived struct.
    ///
    /// ```
    /// use qmp_codec::client::{Client, ClientConfig, ClientEvent};
    /// let mut client = Client::<8>::with_capacity(4096, 256, ClientConfig::new()).unwrap();
    /// client.handle_input(b"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 0, \"major\": 10}, \"package\": \"\"}, \"capabilities\": []}}\r\n");
    /// assert!(matches!(client.poll_event(), Some(ClientEvent::Greeting(_))));
    /// assert_eq!(client.pending_transmit(), br#"{"execute":"qmp_capabilities"}"#);
    /// assert_eq!(client.transmit_capacity(), 256);
    /// assert!(Client::<8>::with_capacity(4096, 60, ClientConfig::new()).is_err());
    /// ```
    #[cfg(feature = "alloc")]
    pub fn with_capacity(
        rx_len: usize,
        tx_len: usize,
        config: ClientConfig,
    ) -> Result<Client<'static, N>, ClientError> {
        Client::with_storage(Storage::owned(rx_len), Storage::owned(tx_len), config)
    }

    /// Where the session is.
    pub fn state(&self) -> ClientState {
        self.core.state
    }

    /// Whether out-of-band execution was negotiated.
    pub fn oob_enabled(&self) -> bool {
        self.core.oob
    }

    /// The counter of the next request id.
    pub fn next_id(&self) -> u64 {
        self.core.ids.peek().number()
    }

    /// How many requests await a response.
    pub fn pending(&self) -> usize {
        self.core
            .slots
            .iter()
            .filter(|s| s.state == SlotState::Waiting)
            .count()
    }

    /// Whether the request with this id awaits its response.
    pub fn is_pending(&self, id: Id) -> bool {
        self.core
            .slots
            .iter()
            .any(|s| s.state == SlotState::Waiting && s.id == id)
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

    /// The server closed the connection: the buffered frames are still reported, then the
    /// session closes (pending requests are interrupted).
    pub fn handle_eof(&mut self) {
        self.input.set_eof();
    }

    // --- time ---

    /// The earliest deadline of a pending request.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<u64> {
        self.core
            .slots
            .iter()
            .filter(|s| s.state == SlotState::Waiting)
            .filter_map(|s| s.deadline)
            .min()
    }

    /// Times out every pending request whose deadline is at or before `now` (in the unit the
    /// deadlines were given in); each is reported as [`ClientEvent::TimedOut`].
    pub fn handle_timeout(&mut self, now: u64) {
        for slot in self.core.slots.iter_mut() {
            if slot.state == SlotState::Waiting && slot.deadline.is_some_and(|d| d <= now) {
                slot.state = SlotState::TimedOut;
            }
        }
    }

    // --- requests ---

    /// Sends `{"execute": name, "arguments": …}` with a fresh id; `None` omits `arguments`.
    pub fn execute<A: Payload>(
        &mut self,
        name: &str,
        arguments: Option<A>,
    ) -> Result<Id, ClientError> {
        match arguments {
            Some(a) => self.send(Request::execute(name).with_arguments(a), None),
            None => self.send(Request::execute(name), None),
        }
    }

    /// Sends `{"exec-oob": name, …}`: needs out-of-band execution to be negotiated.
    pub fn execute_oob<A: Payload>(
        &mut self,
        name: &str,
        arguments: Option<A>,
    ) -> Result<Id, ClientError> {
        match arguments {
            Some(a) => self.send(Request::execute_oob(name).with_arguments(a), None),
            None => self.send(Request::execute_oob(name), None),
        }
    }

    /// Sends a request built with [`Request`] (its own id, if any, is replaced by a fresh
    /// one), optionally with a deadline for [`handle_timeout`](Self::handle_timeout).
    pub fn send<A: Payload, I: Payload>(
        &mut self,
        request: Request<'_, A, I>,
        deadline: Option<u64>,
    ) -> Result<Id, ClientError> {
        self.core.send(request, deadline)
    }

    /// Sends one JSON value as it is (a line a user typed), in command mode. It is not
    /// tracked: its response, whose `id` is the value's own if it has one, is reported as
    /// [`ClientEvent::Unmatched`] for the caller to claim (the blocking client's
    /// `request_raw` does).
    pub fn send_raw(&mut self, json: Value<'_>) -> Result<(), ClientError> {
        match self.core.state {
            ClientState::Ready => {}
            ClientState::Closed => return Err(ClientError::Closed),
            _ => return Err(ClientError::NotReady),
        }
        self.core.out.write(&crate::encode::RawJson(json))?;
        Ok(())
    }

    /// Closes the session: every pending request is reported as
    /// [`ClientEvent::Interrupted`], then [`ClientEvent::Closed`]; queued output is dropped.
    pub fn close(&mut self) {
        self.core.close();
    }

    // --- output ---

    /// Copies queued output into `buf`; returns the count, or `None` when nothing is queued.
    #[must_use]
    pub fn poll_transmit(&mut self, buf: &mut [u8]) -> Option<usize> {
        self.core.out.poll_transmit(buf)
    }

    /// The queued output, for writing without a copy; then call
    /// [`consume_transmit`](Self::consume_transmit).
    pub fn pending_transmit(&self) -> &[u8] {
        self.core.out.pending()
    }

    /// Drops `n` bytes of queued output (they were written).
    pub fn consume_transmit(&mut self, n: usize) {
        self.core.out.consume(n);
    }

    /// The transmit buffer's size.
    pub fn transmit_capacity(&self) -> usize {
        self.core.out.capacity()
    }

    /// Whether the last [`poll_event`](Self::poll_event) stopped because the transmit buffer
    /// was full: flush output, then poll again.
    pub fn is_blocked(&self) -> bool {
        self.blocked
    }

    // --- events ---

    /// The next event; see the [type docs](Self) for the order. `None` means nothing is left
    /// until more input arrives (or output is flushed, if [`is_blocked`](Self::is_blocked)).
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ClientEvent<'_>> {
        if core::mem::take(&mut self.release) {
            self.input.release();
        }
        self.blocked = false;
        if let Some(event) = self.core.notice() {
            return Some(event);
        }
        if self.core.state == ClientState::Closed {
            self.input.discard();
            return None;
        }
        match self.input.peek() {
            Peek::Empty { exhausted } => {
                if exhausted {
                    self.core.close();
                    return self.core.notice();
                }
                None
            }
            Peek::Error { error, .. } => {
                self.release = true;
                Some(self.core.on_violation(error.into()))
            }
            Peek::Message(message) => match self.core.on_message(message) {
                Some(event) => {
                    self.release = true;
                    Some(event)
                }
                None => {
                    self.blocked = true;
                    None
                }
            },
        }
    }

    /// Handles one frame framed by the caller (for transports with their own framing, e.g.
    /// a tokio codec), with the same rules as [`poll_event`](Self::poll_event). Timeouts,
    /// interruptions and `Closed` still come from `poll_event`.
    ///
    /// Returns `None` only for a greeting when the transmit buffer has no room for the
    /// negotiation command: flush and hand the frame in again.
    pub fn handle_frame<'f>(&mut self, frame: &'f [u8]) -> Option<ClientEvent<'f>> {
        if self.core.state == ClientState::Closed {
            return None;
        }
        match Message::parse_with(frame, &self.core.config.limits) {
            Ok(message) => self.core.on_message(message),
            Err(e) => Some(self.core.on_violation(Violation::Parse(e))),
        }
    }

    /// The message of the last event [`poll_event`](Self::poll_event) returned (a reply, an
    /// event, a greeting…), until the next `poll_event`: for read loops that must end the
    /// event's borrow before returning its message. `None` for events without a message.
    pub fn last_message(&self) -> Option<Message<'_>> {
        if self.release {
            self.input.held_message()
        } else {
            None
        }
    }

    /// Stops waiting for request `id` without a word: its slot is free at once and a late
    /// reply will be [`ClientEvent::Unmatched`]. For transports whose caller gave up (a
    /// dropped future). Returns whether the request was pending.
    pub fn cancel(&mut self, id: Id) -> bool {
        match self
            .core
            .slots
            .iter_mut()
            .find(|s| s.state == SlotState::Waiting && s.id == id)
        {
            Some(slot) => {
                *slot = FREE;
                true
            }
            None => false,
        }
    }
}

impl<'s, const N: usize> Core<'s, N> {
    fn send<A: Payload, I: Payload>(
        &mut self,
        request: Request<'_, A, I>,
        deadline: Option<u64>,
    ) -> Result<Id, ClientError> {
        match self.state {
            ClientState::Ready => {}
            ClientState::Closed => return Err(ClientError::Closed),
            _ => return Err(ClientError::NotReady),
        }
        if request.is_oob() && !self.oob {
            return Err(ClientError::OobNotNegotiated);
        }
        let slot = self
            .slots
            .iter()
            .position(|s| s.state == SlotState::Free)
            .ok_or(ClientError::TooManyPending)?;
        let id = self.ids.peek();
        let oob = request.is_oob();
        self.out.write(&request.with_id(id))?;
        self.ids.next_id();
        if let Some(s) = self.slots.get_mut(slot) {
            *s = Slot {
                state: SlotState::Waiting,
                id,
                oob,
                deadline,
            };
        }
        Ok(id)
    }

    fn close(&mut self) {
        if self.state == ClientState::Closed {
            return;
        }
        self.state = ClientState::Closed;
        self.out.clear();
        for slot in self.slots.iter_mut() {
            if slot.state == SlotState::Waiting {
                slot.state = SlotState::Interrupted;
            }
        }
    }

    /// The next owned notification: a timed-out or interrupted request, then `Closed`.
    fn notice(&mut self) -> Option<ClientEvent<'static>> {
        for slot in self.slots.iter_mut() {
            let event = match slot.state {
                SlotState::TimedOut => ClientEvent::TimedOut(slot.id),
                SlotState::Interrupted => ClientEvent::Interrupted(slot.id),
                _ => continue,
            };
            slot.state = SlotState::Free;
            return Some(event);
        }
        if self.state == ClientState::Closed && !self.closed_reported {
            self.closed_reported = true;
            return Some(ClientEvent::Closed);
        }
        None
    }

    /// A refused frame: a plain violation, or, for a limit while requests wait, the failure
    /// of the oldest waiting request (the lowest id number: ids are handed out in order).
    fn on_violation<'f>(&mut self, violation: Violation<'f>) -> ClientEvent<'f> {
        if violation.is_limit() {
            let oldest = self
                .slots
                .iter_mut()
                .filter(|s| s.state == SlotState::Waiting)
                .min_by_key(|s| s.id.number());
            if let Some(slot) = oldest {
                let id = slot.id;
                *slot = FREE;
                return ClientEvent::Refused { id, violation };
            }
        }
        ClientEvent::Violation(violation)
    }

    fn on_message<'f>(&mut self, message: Message<'f>) -> Option<ClientEvent<'f>> {
        Some(match message.kind() {
            Kind::Greeting => {
                if self.state != ClientState::AwaitingGreeting {
                    return Some(ClientEvent::Violation(Violation::UnexpectedGreeting(
                        message,
                    )));
                }
                let greeting = match Greeting::new(message) {
                    Ok(g) => g,
                    Err(e) => return Some(ClientEvent::Violation(Violation::Model(message, e))),
                };
                let oob = self.config.want_oob && greeting.has_capability("oob");
                let written = if oob {
                    self.out
                        .write(&CAPS.with_arguments(crate::encode::Verbatim::ENABLE_OOB))
                } else {
                    self.out.write(&CAPS)
                };
                if written.is_err() {
                    // Only a full transmit buffer gets here (its capacity was checked).
                    return None;
                }
                self.oob = oob;
                self.state = ClientState::Negotiating;
                ClientEvent::Greeting(greeting)
            }
            Kind::Event => match Event::new(message) {
                Ok(event) => ClientEvent::Event(event),
                Err(e) => ClientEvent::Violation(Violation::Model(message, e)),
            },
            Kind::Return | Kind::Error => self.on_response(message),
            Kind::Command | Kind::Unknown => {
                ClientEvent::Violation(Violation::UnexpectedMessage(message))
            }
        })
    }

    fn on_response<'f>(&mut self, message: Message<'f>) -> ClientEvent<'f> {
        let Some(id) = message.id() else {
            if self.state == ClientState::Negotiating {
                // Our `qmp_capabilities` carries no id, as the reference's does not.
                if message.kind() == Kind::Return {
                    self.state = ClientState::Ready;
                    return ClientEvent::Negotiated { oob: self.oob };
                }
                self.oob = false;
                self.close();
                return ClientEvent::NegotiationFailed(message);
            }
            return ClientEvent::Unmatched {
                message,
                reason: Unmatched::MissingId,
            };
        };
        let found = Id::from_value(&id).and_then(|id| {
            self.slots
                .iter_mut()
                .find(|s| s.state == SlotState::Waiting && s.id == id)
        });
        match found {
            Some(slot) => {
                slot.state = SlotState::Free;
                ClientEvent::Response(Response {
                    id: slot.id,
                    oob: slot.oob,
                    message,
                })
            }
            None => ClientEvent::Unmatched {
                message,
                reason: Unmatched::UnknownId,
            },
        }
    }
}
