//! The sans-IO QMP server: greeting, negotiation and command validation as QEMU does them.

use core::fmt;

use crate::encode::{
    EmptyObject, Encode, EncodeError, Payload, ServerError, ServerEvent as EventMessage,
    ServerGreeting, ServerReturn,
};
use crate::framer::MessageError;
use crate::framer::{Dialect, FramerConfig, DEFAULT_MAX_FRAME_LEN};
use crate::io_buf::{OutView, Output};
use crate::json::{Str, Value, ValueKind};
use crate::limits::Limits;
use crate::message::Message;
use crate::model::{Command, Timestamp, Version};
use crate::read_buffer::{Peek, ReadBuffer};

mod input_error;

pub use self::input_error::InputError;

/// What a [`Server`] announces and accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerConfig<'c> {
    version: Version,
    package: &'c str,
    capabilities: &'c [&'c str],
    limits: Limits,
    max_frame_len: usize,
}

impl<'c> ServerConfig<'c> {
    /// A server announcing QEMU `version` and `package`, offering the `oob` capability,
    /// with the default [`Limits`] and a 10 MiB message limit (capped at the receive
    /// buffer size).
    pub const fn new(version: Version, package: &'c str) -> Self {
        ServerConfig {
            version,
            package,
            capabilities: &["oob"],
            limits: Limits::new(),
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
        }
    }

    /// The capabilities the greeting offers (default `["oob"]`; `&[]` offers none).
    /// Only `oob` can be enabled: it is the one capability QMP defines.
    pub const fn with_capabilities(mut self, capabilities: &'c [&'c str]) -> Self {
        self.capabilities = capabilities;
        self
    }

    /// Parser limits for each request (default [`Limits::new`], whose depth 1024 is QEMU's).
    pub const fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The longest request accepted (default 10 MiB, and never above the receive buffer);
    /// longer ones are answered with `JSON token size limit exceeded`.
    pub const fn with_max_frame_len(mut self, max: usize) -> Self {
        self.max_frame_len = max;
        self
    }

    fn offers_oob(&self) -> bool {
        self.capabilities.contains(&"oob")
    }
}

/// Where a server is in the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ServerState {
    /// The greeting was queued; only `qmp_capabilities` is accepted.
    Negotiating,
    /// Command mode: requests go to the caller, events are sent.
    Command,
    /// The session is over.
    Closed,
}

/// A valid request for the caller to carry out, with the means to answer it.
///
/// Answer with [`respond`](Self::respond) or [`respond_error`](Self::respond_error) now,
/// or later with [`Server::respond`] (keep a copy of the id), or not at all for commands
/// that send no reply. When the transmit buffer is full, flush it with
/// [`poll_transmit`](Self::poll_transmit) and answer again.
#[derive(Debug)]
pub struct IncomingCommand<'a> {
    command: Command<'a>,
    out: OutView<'a>,
}

impl<'a> IncomingCommand<'a> {
    /// The validated command (name, arguments, id, whole message).
    pub fn command(&self) -> Command<'a> {
        self.command
    }

    /// The command name.
    pub fn name(&self) -> Str<'a> {
        self.command.name()
    }

    /// The `arguments` object, when present.
    pub fn arguments(&self) -> Option<Value<'a>> {
        self.command.arguments()
    }

    /// The `id`, of any JSON type.
    pub fn id(&self) -> Option<Value<'a>> {
        self.command.id()
    }

    /// Whether it came as `exec-oob` (out-of-band execution was negotiated).
    pub fn is_oob(&self) -> bool {
        self.command.is_oob()
    }

    /// Answers `{"return": value, "id": …}`.
    pub fn respond<P: Payload>(&mut self, value: P) -> Result<(), EncodeError> {
        self.out
            .write(&ServerReturn::new(value, self.id()))
            .map(drop)
    }

    /// Answers `{"return": {}}`, QMP's "done, nothing to return".
    pub fn respond_empty(&mut self) -> Result<(), EncodeError> {
        self.respond(EmptyObject)
    }

    /// Answers `{"id": …, "error": {"class": class, "desc": desc}}`.
    pub fn respond_error<D: fmt::Display>(
        &mut self,
        class: &str,
        desc: D,
    ) -> Result<(), EncodeError> {
        self.out
            .write(&ServerError::new(class, desc, self.id()))
            .map(drop)
    }

    /// Sends an event before the answer (command mode: a command is only handed over
    /// then), as QEMU sends `STOP` before the reply to `stop`.
    pub fn emit_event<D: Payload>(
        &mut self,
        name: &str,
        data: Option<D>,
        timestamp: Timestamp,
    ) -> Result<(), EncodeError> {
        let event = EventMessage::new(name, timestamp);
        match data {
            Some(d) => self.out.write(&event.data(d))?,
            None => self.out.write(&event)?,
        };
        Ok(())
    }

    /// Takes queued output, as [`Server::poll_transmit`] does.
    #[must_use]
    pub fn poll_transmit(&mut self, buf: &mut [u8]) -> Option<usize> {
        self.out.poll_transmit(buf)
    }
}

/// What happened, as reported by [`Server::poll_event`].
#[derive(Debug)]
#[non_exhaustive]
pub enum ServerEvent<'a> {
    /// A valid request for the caller.
    Command(IncomingCommand<'a>),
    /// `qmp_capabilities` succeeded and was answered; `oob` says whether out-of-band
    /// execution is now enabled.
    Negotiated {
        /// Out-of-band execution is enabled.
        oob: bool,
    },
    /// Input the server answered with an error itself (bad JSON, bad members, commands
    /// before negotiation, bad `qmp_capabilities`).
    Rejected {
        /// The error sent.
        error: InputError<'a>,
        /// The id echoed with it.
        id: Option<Value<'a>>,
    },
    /// An answer the server owed could never fit the transmit buffer and was dropped.
    ReplyTooLarge {
        /// Its length.
        required: usize,
    },
    /// The session is closed; reported once.
    Closed,
}

/// Everything but the input buffer, so that events can borrow the input while this changes.
#[derive(Debug)]
struct Core<'s> {
    config: ServerConfig<'s>,
    state: ServerState,
    oob: bool,
    out: Output<'s>,
    closed_reported: bool,
}

/// What handling a frame came to.
enum Handled<'f> {
    Event(ServerEvent<'f>),
    /// The server's own answer does not fit the transmit buffer yet.
    Blocked,
}

/// A sans-IO QMP server (the side QEMU plays) over caller-provided buffers; it never
/// allocates, blocks or reads a clock.
///
/// It sends the greeting, frames requests as QEMU's monitor does ([`Dialect::Stream`]:
/// clients send no newlines), answers bad input and `qmp_capabilities` itself with QEMU's
/// exact errors, and hands valid commands to the caller in command mode. Output is in
/// QEMU's format, one message per line ending in `\r\n`.
///
/// # Driving it
///
/// Input goes in with [`spare`](Self::spare)/[`commit`](Self::commit) or
/// [`handle_input`](Self::handle_input), and [`handle_eof`](Self::handle_eof) at the end.
/// [`poll_event`](Self::poll_event) until `None`, answering each
/// [`ServerEvent::Command`]. Then send what [`poll_transmit`](Self::poll_transmit) gives.
/// If [`is_blocked`](Self::is_blocked), an answer of the server's own waits for room in the
/// transmit buffer: flush, then poll events again before reading more.
///
/// # Drain order
///
/// One event per received frame, in stream order; [`ServerEvent::Closed`] last. Each
/// event borrows the server until the next call; its frame stays in the receive buffer
/// until then.
///
/// # Differences from QEMU
///
/// - One error per bad frame: where QEMU's parser reports a cascade for some inputs (a
///   nesting-limit overflow), this server sends one error (the framer mirrors QEMU's lexer
///   recovery, so lexical errors come out as QEMU's do).
/// - Strict JSON: QEMU also accepts single-quoted strings and the escape `\'`; here they are
///   parse errors.
/// - Duplicate keys are refused in the top-level object only (QEMU: at any depth).
/// - Members are checked in document order; QEMU walks its hash table, so with several bad
///   members it may name another one.
/// - Echoed ids are re-printed as QEMU does (numbers through `%.17g`, strings re-escaped),
///   except that object members keep their order and an id overflowing to infinity keeps
///   its text (QEMU writes the invalid token `inf`).
#[derive(Debug)]
pub struct Server<'s> {
    input: ReadBuffer<'s>,
    core: Core<'s>,
    release: bool,
    blocked: bool,
}

impl<'s> Server<'s> {
    /// A server receiving into `rx` and transmitting from `tx`, with the greeting queued.
    ///
    /// Fails with `BufferTooSmall` when `tx` cannot hold the greeting.
    pub fn new(
        rx: &'s mut [u8],
        tx: &'s mut [u8],
        config: ServerConfig<'s>,
    ) -> Result<Self, EncodeError> {
        Self::with_storage(rx.into(), Output::new(tx), config)
    }

    /// A server that owns its buffers (feature `alloc`): `rx_len` bytes to receive into
    /// (the longest request) and a transmit queue of `tx_len` bytes that grows, for an
    /// answer that does not fit, up to eight times the longest request: enough to echo any
    /// id the server accepts, however QEMU's number printing lengthens it.
    #[cfg(feature = "alloc")]
    pub fn with_capacity(
        rx_len: usize,
        tx_len: usize,
        config: ServerConfig<'s>,
    ) -> Result<Self, EncodeError> {
        let limit = config.max_frame_len.min(rx_len);
        let max_tx = limit
            .saturating_mul(8)
            .saturating_add(64 * 1024)
            .max(tx_len);
        let out = Output::new(crate::io_buf::Storage::owned(tx_len)).growing_to(max_tx);
        Self::with_storage(crate::io_buf::Storage::owned(rx_len), out, config)
    }

    fn with_storage(
        rx: crate::io_buf::Storage<'s>,
        mut out: Output<'s>,
        config: ServerConfig<'s>,
    ) -> Result<Self, EncodeError> {
        let framer = FramerConfig::new()
            .with_dialect(Dialect::Stream)
            .with_max_frame_len(config.max_frame_len);
        out.write(&ServerGreeting {
            version: config.version,
            package: config.package,
            capabilities: config.capabilities,
        })?;
        Ok(Server {
            input: ReadBuffer::with_storage(rx, framer, config.limits).skipping_truncated(),
            core: Core {
                config,
                state: ServerState::Negotiating,
                oob: false,
                out,
                closed_reported: false,
            },
            release: false,
            blocked: false,
        })
    }

    /// Where the session is.
    pub fn state(&self) -> ServerState {
        self.core.state
    }

    /// Whether out-of-band execution was negotiated.
    pub fn oob_enabled(&self) -> bool {
        self.core.oob
    }

    /// Free space in the receive buffer to read into.
    pub fn spare(&mut self) -> &mut [u8] {
        self.input.spare()
    }

    /// Marks `n` bytes of [`spare`](Self::spare) as received.
    pub fn commit(&mut self, n: usize) {
        self.input.commit(n);
    }

    /// Copies received bytes in; returns how many fit (poll events to make room).
    pub fn handle_input(&mut self, bytes: &[u8]) -> usize {
        self.input.push(bytes)
    }

    /// The client closed the connection: buffered requests are still reported (an
    /// unfinished one is dropped), then [`ServerEvent::Closed`].
    pub fn handle_eof(&mut self) {
        self.input.set_eof();
    }

    /// Ends the session now; queued output is dropped.
    pub fn close(&mut self) {
        self.core.state = ServerState::Closed;
        self.core.out.clear();
    }

    /// Copies queued output into `buf`; `None` when nothing is queued.
    #[must_use]
    pub fn poll_transmit(&mut self, buf: &mut [u8]) -> Option<usize> {
        self.core.out.poll_transmit(buf)
    }

    /// The queued output, for writing without a copy; then
    /// [`consume_transmit`](Self::consume_transmit).
    pub fn pending_transmit(&self) -> &[u8] {
        self.core.out.pending()
    }

    /// Drops `n` bytes of queued output (they were written).
    pub fn consume_transmit(&mut self, n: usize) {
        self.core.out.consume(n);
    }

    /// Whether the last [`poll_event`](Self::poll_event) stopped because an answer did not
    /// fit the transmit buffer: flush, then poll again.
    pub fn is_blocked(&self) -> bool {
        self.blocked
    }

    /// Sends an event, in command mode only: before negotiation QEMU drops events, and so
    /// does this (`Ok(false)`).
    pub fn emit_event<D: Payload>(
        &mut self,
        name: &str,
        data: Option<D>,
        timestamp: Timestamp,
    ) -> Result<bool, EncodeError> {
        if self.core.state != ServerState::Command {
            return Ok(false);
        }
        let event = EventMessage::new(name, timestamp);
        match data {
            Some(d) => self.core.out.write(&event.data(d))?,
            None => self.core.out.write(&event)?,
        };
        Ok(true)
    }

    /// Answers a request after its event is gone: `Ok(value)` is a return, `Err((class,
    /// desc))` an error. `id` is the request's id (kept by the caller, e.g. re-read with
    /// [`validate_json`](crate::encode::validate_json)). After [`close`](Self::close) the
    /// connection is gone and the answer is dropped, as [`close`](Self::close) drops queued
    /// output.
    pub fn respond<P: Payload>(
        &mut self,
        id: Option<Value<'_>>,
        result: Result<P, (&str, &str)>,
    ) -> Result<(), EncodeError> {
        if self.core.state == ServerState::Closed {
            return Ok(());
        }
        match result {
            Ok(value) => self.core.out.write(&ServerReturn::new(value, id))?,
            Err((class, desc)) => self.core.out.write(&ServerError::new(class, desc, id))?,
        };
        Ok(())
    }

    /// The next event; see the [type docs](Self) for the order.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ServerEvent<'_>> {
        if core::mem::take(&mut self.release) {
            self.input.release();
        }
        self.blocked = false;
        if self.core.state == ServerState::Closed {
            self.input.discard();
            if !core::mem::replace(&mut self.core.closed_reported, true) {
                return Some(ServerEvent::Closed);
            }
            return None;
        }
        let handled = match self.input.peek() {
            Peek::Empty { exhausted } => {
                if exhausted {
                    self.core.state = ServerState::Closed;
                    self.core.closed_reported = true;
                    return Some(ServerEvent::Closed);
                }
                return None;
            }
            Peek::Error {
                error,
                region,
                region_offset,
            } => match error {
                MessageError::Frame(error) => {
                    let error = input_error::from_frame_error(error, region, region_offset);
                    self.core.reject(error, None)
                }
                MessageError::Parse { error, .. } => {
                    let error = input_error::from_parse_error(error.raw(), &error);
                    self.core.reject(error, None)
                }
            },
            Peek::Message(message) => self.core.on_message(message),
        };
        match handled {
            Handled::Event(event) => {
                self.release = true;
                Some(event)
            }
            Handled::Blocked => {
                self.blocked = true;
                None
            }
        }
    }
}

impl<'s> Core<'s> {
    /// Queues the server's own answer; reports the event, or that it must wait.
    fn answer<'f, E: Encode>(&mut self, msg: &E, event: ServerEvent<'f>) -> Handled<'f> {
        match self.out.write(msg) {
            Ok(_) => Handled::Event(event),
            Err(EncodeError::BufferTooSmall { required })
                if required <= self.out.max_capacity() =>
            {
                Handled::Blocked
            }
            Err(e) => Handled::Event(ServerEvent::ReplyTooLarge {
                required: e.required().unwrap_or(0),
            }),
        }
    }

    fn reject<'f>(&mut self, error: InputError<'f>, id: Option<Value<'f>>) -> Handled<'f> {
        let msg = ServerError::new(error.class(), error, id);
        self.answer(&msg, ServerEvent::Rejected { error, id })
    }

    fn on_message<'f>(&'f mut self, message: Message<'f>) -> Handled<'f> {
        let id = message.id();
        let allow_oob = self.state == ServerState::Command && self.oob;
        let command = match Command::check(message, allow_oob) {
            Ok(c) => c,
            Err(e) => return self.reject(InputError::Command(e), id),
        };
        let is_caps = command.name() == "qmp_capabilities";
        if self.state == ServerState::Negotiating {
            if !is_caps {
                return self.reject(InputError::NotNegotiated, id);
            }
            let oob = match capabilities(command.arguments()) {
                Ok(0) => false,
                Ok(_) if self.config.offers_oob() => true,
                Ok(count) => return self.reject(InputError::CapabilityNotAvailable { count }, id),
                Err(e) => return self.reject(e, id),
            };
            let handled = self.answer(&ServerReturn::empty(id), ServerEvent::Negotiated { oob });
            if let Handled::Event(_) = handled {
                self.state = ServerState::Command;
                self.oob = oob;
            }
            return handled;
        }
        if is_caps {
            let error = match capabilities(command.arguments()) {
                Ok(_) => InputError::AlreadyNegotiated,
                Err(e) => e,
            };
            return self.reject(error, id);
        }
        Handled::Event(ServerEvent::Command(IncomingCommand {
            command,
            out: self.out.view(),
        }))
    }
}

/// Checks `qmp_capabilities` arguments in the order QEMU's generated visitor does; returns
/// how many times `oob` was asked for.
fn capabilities(arguments: Option<Value<'_>>) -> Result<usize, InputError<'_>> {
    let Some(args) = arguments else {
        return Ok(0);
    };
    let mut count = 0;
    if let Some(enable) = args.get("enable") {
        if enable.kind() != ValueKind::Array {
            return Err(InputError::InvalidParameterType { element: None });
        }
        for (i, element) in enable.elements().enumerate() {
            let Some(name) = element.as_str() else {
                return Err(InputError::InvalidParameterType { element: Some(i) });
            };
            if name != "oob" {
                return Err(InputError::InvalidCapability { value: name });
            }
            count += 1;
        }
    }
    if let Some((name, _)) = args.members().find(|(k, _)| !k.eq_str("enable")) {
        return Err(InputError::UnexpectedParameter { name });
    }
    Ok(count)
}
