//! Transports: the sans-IO [`client`](crate::client) engine driven over real I/O.
//!
//! Each transport is a thin loop around [`client::Client`](crate::client::Client): it moves
//! bytes between a stream and the engine, and turns the engine's events into results. None
//! of them frames, parses or matches anything itself.
//!
//! | module | feature | I/O | results |
//! | --- | --- | --- | --- |
//! | [`blocking`] | `std` | any `Read + Write` (Unix socket, TCP) | owned ([`OwnedValue`], [`OwnedMessage`]) |
//! | [`tokio`](mod@tokio) | `tokio` | any `AsyncRead + AsyncWrite`, many commands in flight | owned, events as a `Stream` |
//! | [`agent`] | `std` | the guest agent (qemu-ga) over any `Read + Write` (Unix socket, virtio-serial device) | owned |
//! | [`embedded_agent`] | `embedded-io` | the guest agent over `embedded_io::{Read, Write}`, no std, no allocator | borrowed |
//! | [`embedded`] | `embedded-io` | `embedded_io::{Read, Write}`, no std, no allocator, caller buffers | borrowed from the receive buffer ([`Message`](crate::Message)) |
//!
//! Shared rules:
//!
//! - One bad message from the server (a junk line, a non-object, a response nobody waits
//!   for) never ends the session: it is counted and handed to an optional callback, and the
//!   session goes on.
//! - Events are queued with a bound; when the queue is full the oldest event is dropped and
//!   counted. Events that arrive while a command waits for its reply are queued, never lost
//!   within the bound, and never fail the command.

#[cfg(feature = "std")]
pub mod agent;
#[cfg(feature = "std")]
pub mod blocking;
#[cfg(feature = "std")]
mod config;
#[cfg(feature = "embedded-io")]
pub mod embedded;
#[cfg(feature = "embedded-io")]
pub mod embedded_agent;
#[cfg(feature = "std")]
mod error;
#[cfg(all(unix, feature = "fd-passing"))]
mod fd_passing;
#[cfg(feature = "std")]
mod inbox;
#[cfg(feature = "std")]
mod serve;
#[cfg(feature = "tokio")]
pub mod tokio;

#[cfg(feature = "std")]
pub use self::error::{Error, QmpError};

use crate::encode::EmptyObject;
#[cfg(feature = "std")]
use crate::{OwnedMessage, OwnedValue};

/// "No arguments", for the `execute` methods of every transport: `{"execute": name}` with
/// no `arguments` member.
pub const NO_ARGUMENTS: Option<EmptyObject> = None;

#[cfg(feature = "std")]
pub use self::config::{
    Config, DEFAULT_EVENT_BYTES, DEFAULT_EVENT_CAPACITY, DEFAULT_MAX_REQUEST_LEN, DEFAULT_TIMEOUT,
};

/// The `return` member of a success response (checked present by `Error::check`).
#[cfg(feature = "std")]
fn return_value(mut response: OwnedMessage) -> OwnedValue {
    response.remove("return").unwrap_or_else(OwnedValue::null)
}

/// The clients can move between threads; the tokio client is shared by reference between
/// tasks.
#[cfg(feature = "std")]
const _: () = {
    const fn send<T: Send>() {}
    const fn sync<T: Sync>() {}
    #[cfg(unix)]
    send::<blocking::Client<std::os::unix::net::UnixStream>>();
    send::<blocking::Client<std::net::TcpStream>>();
    send::<OwnedMessage>();
    sync::<OwnedMessage>();
    send::<Error>();
    #[cfg(feature = "tokio")]
    send::<tokio::Client>();
    #[cfg(feature = "tokio")]
    sync::<tokio::Client>();
};
