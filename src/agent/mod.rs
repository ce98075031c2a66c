//! The QEMU guest agent (qemu-ga): a sans-IO client engine and typed helpers.
//!
//! The agent speaks QMP's JSON without a greeting or negotiation, serves one command at a
//! time, and shares its stream with whatever a previous client (or a command we gave up on)
//! left behind. [`Agent`] keeps a session honest the way libvirt does: a sync handshake
//! (the `0xFF` sentinel and `guest-sync-delimited` with a fresh id; everything up to the
//! matching return is discarded), one command in flight, and a session that times out a
//! command stays poisoned until the next sync, so a late reply is never taken for the next
//! command's. It frames input with the crate's [`Framer`](crate::Framer) in
//! [`Dialect::Qga`](crate::Dialect::Qga), writes with the [`encode`](crate::encode) module
//! and hands out [`Message`](crate::Message) views: no framing or parsing of its own.
//!
//! [`commands`] has request builders and reply decoders for `guest-ping`, `guest-info`,
//! `guest-exec` / `guest-exec-status`, `guest-file-*`, `guest-get-osinfo` and
//! `guest-network-get-interfaces`, with [`base64`] done for the caller.
//!
//! qemu-ga acts on the machine it runs on: when testing against one outside a VM, always
//! start it with `-b` blocking at least `guest-shutdown`, `guest-suspend-*`,
//! `guest-set-time`, `guest-fsfreeze-freeze*`, `guest-set-user-password`, `guest-set-vcpus`
//! and `guest-set-memory-blocks`.

pub mod base64;
pub mod commands;
mod engine;

pub use self::engine::{
    Agent, AgentConfig, AgentError, AgentEvent, AgentState, Expect, Reply, Unmatched, Violation,
    MIN_TRANSMIT_BUFFER, NO_SUCCESS_RESPONSE,
};
