//! The configuration shared by the std and tokio transports.

use std::time::Duration;

use crate::client::ClientConfig;
use crate::framer::DEFAULT_MAX_FRAME_LEN;

/// The default transmit buffer: the largest request that can be sent (1 MiB).
pub const DEFAULT_MAX_REQUEST_LEN: usize = 1 << 20;
/// The default bound of the event queues in events (1024).
pub const DEFAULT_EVENT_CAPACITY: usize = 1024;
/// The default bound of the event queues in bytes of memory (16 MiB).
pub const DEFAULT_EVENT_BYTES: usize = 16 << 20;
/// The default deadline of every call (30 s): connecting and negotiating, each command.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// How a transport client connects, buffers and waits: the same for the blocking and the
/// tokio client, and every field is honoured by both.
///
/// Memory per connection is bounded by `max_message_len` (the receive buffer) +
/// `max_request_len` (the transmit buffer) + `event_bytes` (queued events) + the reply being
/// returned (at most twice `max_message_len` once owned).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    pub(super) client: ClientConfig,
    pub(super) event_capacity: usize,
    pub(super) event_bytes: usize,
    pub(super) max_message_len: usize,
    pub(super) max_request_len: usize,
    pub(super) timeout: Option<Duration>,
    pub(super) write_timeout: Option<Duration>,
}

impl Config {
    /// Defaults: OOB when offered, line framing, 1024 queued events holding at most 16 MiB,
    /// messages up to [`DEFAULT_MAX_FRAME_LEN`] (10 MiB), requests up to
    /// [`DEFAULT_MAX_REQUEST_LEN`] (1 MiB), a 30 s deadline for every call and every write.
    pub const fn new() -> Self {
        Config {
            client: ClientConfig::new(),
            event_capacity: DEFAULT_EVENT_CAPACITY,
            event_bytes: DEFAULT_EVENT_BYTES,
            max_message_len: DEFAULT_MAX_FRAME_LEN,
            max_request_len: DEFAULT_MAX_REQUEST_LEN,
            timeout: Some(DEFAULT_TIMEOUT),
            write_timeout: Some(DEFAULT_TIMEOUT),
        }
    }

    /// The engine's configuration: framing dialect, parser limits, OOB, first id.
    pub const fn with_client(mut self, client: ClientConfig) -> Self {
        self.client = client;
        self
    }

    /// Whether to enable out-of-band execution when the greeting offers it (default true).
    pub const fn with_oob(mut self, oob: bool) -> Self {
        self.client = self.client.with_oob(oob);
        self
    }

    /// How many events wait at most (default 1024); when full, the oldest is dropped and
    /// counted by the client's `dropped_events()`.
    pub const fn with_event_capacity(mut self, capacity: usize) -> Self {
        self.event_capacity = capacity;
        self
    }

    /// How much memory queued events may hold at most (default 16 MiB; an event costs at
    /// most twice its size plus 64 bytes per member); when full, the oldest events are
    /// dropped and counted. An event larger than the whole bound is dropped at once.
    pub const fn with_event_bytes(mut self, bytes: usize) -> Self {
        self.event_bytes = bytes;
        self
    }

    /// The receive buffer: the largest message accepted (default 10 MiB, allocated once;
    /// pages are touched only as large messages arrive). A longer message is skipped; if
    /// a command waits, the oldest waiting command fails with `Error::ReplyRefused`.
    pub const fn with_max_message_len(mut self, len: usize) -> Self {
        self.max_message_len = len;
        self
    }

    /// The transmit buffer: the largest request that can be sent (default 1 MiB, at least
    /// [`MIN_TRANSMIT_BUFFER`](crate::client::MIN_TRANSMIT_BUFFER)).
    pub const fn with_max_request_len(mut self, len: usize) -> Self {
        self.max_request_len = len;
        self
    }

    /// The deadline of every call, for the whole call (default 30 s): connecting (greeting
    /// and negotiation) and each command, however the server dribbles bytes or events in
    /// the meantime. `None` waits without limit.
    pub const fn with_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long one write may block (default 30 s); a write that times out closes the
    /// session, since part of a message may have been sent. `None`: no limit.
    pub const fn with_write_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.write_timeout = timeout;
        self
    }

    /// The call deadline ([`with_timeout`](Self::with_timeout)).
    pub const fn timeout(&self) -> Option<Duration> {
        self.timeout
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}
