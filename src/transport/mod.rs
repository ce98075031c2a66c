//! Transports: the sans-IO engines driven over real I/O.
//!
//! Each transport is an adapter around the crate's one driver (`driver::pump`, see
//! `ARCHITECTURE.md`): it moves bytes between a stream and the engine's
//! [`ReadBuffer`](crate::ReadBuffer) and transmit queue, and turns the driver's outcomes into
//! results. None of them frames, parses, compacts a buffer or matches replies itself.
//!
//! | module | feature | I/O | results |
//! | --- | --- | --- | --- |
//! | [`blocking`] | `std` | any `Read + Write` (Unix socket, TCP); [`blocking::ServerSession`] serves one | owned ([`OwnedValue`], [`OwnedMessage`]) |
//! | [`tokio`](mod@tokio) | `tokio` | any `AsyncRead + AsyncWrite`, many commands in flight | owned |
//! | [`agent`] | `std` | the guest agent (qemu-ga) over any `Read + Write` (Unix socket, virtio-serial device) | owned |
//! | [`tokio_agent`] | `tokio` | the guest agent on tokio, over any `AsyncRead + AsyncWrite` | owned |
//! | [`embedded_async`] | `embedded-io-async` | `embedded_io_async::{Read, Write}` (Embassy-style executors), no std, no allocator, caller buffers | borrowed |
//! | [`embedded_agent`] | `embedded-io` | the guest agent over `embedded_io::{Read, Write}`, no std, no allocator | borrowed |
//! | [`embedded`] | `embedded-io` | `embedded_io::{Read, Write}`, no std, no allocator, caller buffers | borrowed from the receive buffer ([`Message`](crate::Message)) |
//!
//! # Deadlines and failure rules
//!
//! The same in every transport:
//!
//! | situation | what happens |
//! | --- | --- |
//! | a QMP error reply | `Err(Error::Qmp(..))` (std, tokio, embedded alike); a reply that is neither return nor valid error is `InvalidResponse` |
//! | the call's deadline passes | every call (connect and negotiate, each command, an event wait with a timeout) has a deadline for the whole call, default 30 s ([`Config::with_timeout`]; embedded: [`embedded::Client::with_deadline`]). A silent server, one that dribbles a line a byte at a time or sends events forever, ends the call with `Error::Timeout` on time. The session goes on. |
//! | the caller gives up (a dropped tokio future, a timeout) | the request's slot is freed at once; its late reply is dropped and counted in `protocol_violations()` |
//! | a limit refuses a frame (longer than the receive buffer, deeper than 1024, over 128 members, over 4 GiB) | if commands wait, the oldest fails with `Error::ReplyRefused(Refusal)`, since the frame may have been its reply; the refusal is counted and shown to the violation hook; the session goes on |
//! | junk, a non-object, a reply to nobody | counted in `protocol_violations()`, shown to the hook, skipped; the session goes on |
//! | events nobody takes | std and tokio queue them, at most 1024 and 16 MiB by default ([`Config::with_event_capacity`], [`Config::with_event_bytes`]); the oldest are dropped and counted in `dropped_events()`. Embedded hands each to its handler |
//! | the stream ends or breaks | waiting calls fail with `Error::Closed`; a failed write closes the session (part of a message may be out) |
//!
//! Memory per connection (std and tokio): the receive buffer (`max_message_len`, 10 MiB),
//! the transmit buffer (`max_request_len`, 1 MiB), queued events (`event_bytes`, 16 MiB) and
//! the reply being returned (at most twice `max_message_len` once owned): under 50 MiB with
//! the defaults. While a message whose open nested objects hold more than 256 names is
//! parsed, the duplicate check also holds up to 28 bytes per such name on the heap (its
//! entries, 16 with the vector's growth, and the hash table, 12), freed when the scan
//! ends; a member takes at least 5 bytes of the message, so that is under 6 times
//! `max_message_len` at worst (under 60 MiB for a 10 MiB message of nothing but tiny
//! distinct names; an allocation that fails refuses the message with `TooManyMembers`).
//! Embedded: the caller's two buffers, nothing else.

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
#[cfg(feature = "embedded-io-async")]
pub mod embedded_async;
#[cfg(feature = "std")]
mod error;
#[cfg(all(unix, feature = "fd-passing"))]
mod fd_passing;
#[cfg(feature = "std")]
mod inbox;
#[cfg(feature = "std")]
mod serve;
#[cfg(feature = "std")]
mod stream;
#[cfg(feature = "tokio")]
pub mod tokio;
#[cfg(feature = "tokio")]
pub mod tokio_agent;

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
