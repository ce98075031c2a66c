//! The configuration shared by the std and tokio transports.

use std::time::Duration;

use super::DEFAULT_EVENT_CAPACITY;
use crate::client::ClientConfig;
use crate::framer::DEFAULT_MAX_FRAME_LEN;

/// The default transmit buffer: the largest request that can be sent (1 MiB).
pub const DEFAULT_MAX_REQUEST_LEN: usize = 1 << 20;

/// How a transport client connects, buffers and waits: shared by the blocking and the
/// tokio client ([`blocking::Client`](super::blocking::Client) and `tokio::Client`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    pub(super) client: ClientConfig,
    pub(super) event_capacity: usize,
    pub(super) max_message_len: usize,
    pub(super) max_request_len: usize,
    pub(super) read_timeout: Option<Duration>,
    pub(super) write_timeout: Option<Duration>,
}

impl Config {
    /// Defaults: OOB when offered, line framing, 1024 queued events, messages up to
    /// [`DEFAULT_MAX_FRAME_LEN`] (10 MiB), requests up to [`DEFAULT_MAX_REQUEST_LEN`]
    /// (1 MiB), no timeouts.
    pub const fn new() -> Self {
        Config {
            client: ClientConfig::new(),
            event_capacity: DEFAULT_EVENT_CAPACITY,
            max_message_len: DEFAULT_MAX_FRAME_LEN,
            max_request_len: DEFAULT_MAX_REQUEST_LEN,
            read_timeout: None,
            write_timeout: None,
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
    /// counted by the client's `dropped_events()`. Memory grows with the events queued.
    pub const fn with_event_capacity(mut self, capacity: usize) -> Self {
        self.event_capacity = capacity;
        self
    }

    /// The receive buffer: the largest message accepted (default 10 MiB, allocated once;
    /// pages are touched only as large messages arrive). Longer messages are skipped and
    /// reported as protocol violations.
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

    /// The read timeout set on the socket by the `connect*` functions (default none): how
    /// long the greeting, a reply or an event may take before [`Error::Timeout`](super::Error::Timeout). The blocking
    /// client sets it on its socket; the tokio client leaves timeouts to `tokio::time`.
    pub const fn with_read_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// The write timeout set on the socket by the blocking client's `connect*` functions
    /// (default none).
    pub const fn with_write_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.write_timeout = timeout;
        self
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}
