//! A zero-copy, `no_std`, sans-IO codec for QEMU's QMP protocol: the JSON monitor protocol of
//! QEMU, qemu-storage-daemon and the guest agent.
//!
//! The core takes bytes from buffers the caller owns and gives back borrowed, validated views,
//! with no heap allocation and no I/O:
//!
//! - [`Framer`] / [`ReadBuffer`] cut a byte stream into frames, in every dialect QMP uses
//!   (newline-delimited server output, QEMU's brace-counting input side, the guest agent's
//!   `0xFF` sentinel).
//! - [`Message::parse`] validates one frame in a single pass (strict RFC 8259 plus QEMU's
//!   rules) into a [`Message`]: a borrowed view whose [`kind`](Message::kind) and
//!   [`id`](Message::id) are already known, with [`Value`] and [`Str`] views for navigation
//!   and lazy unescaping.
//! - The models give typed views ([`Greeting`], [`ErrorResponse`], [`Event`], [`Command`], …)
//!   with the exact validation texts of the reference Python library `qemu.qmp`.
//! - [`encode`] writes commands and QEMU-style server messages into caller buffers.
//! - [`client::Client`] and [`server::Server`] are the sans-IO protocol state machines:
//!   `handle_input` / `poll_transmit` / `poll_event`, time passed in as data;
//!   [`agent::Agent`] is the guest agent's (sync handshake, one command in flight).
//! - [`schema`] reads a server's `query-qmp-schema` reply: lookups by name, commands checked
//!   before sending with QEMU's own verdicts, drift reports for replies and events.
//!
//! On top of that one core sit the conveniences: owned messages (`alloc`), serde
//! integration (`serde`), the `bytes`/`tokio` codecs, and the transports in `transport`
//! (blocking std sockets, tokio, `embedded-io`). None of them re-implements framing, parsing
//! or the protocol.
//!
//! ```
//! use qmp_codec::{Classified, Kind, Message};
//!
//! let line = b"{\"timestamp\": {\"seconds\": 1700000000, \"microseconds\": 5}, \"event\": \"STOP\"}\r\n";
//! let msg = Message::parse(line)?;
//! assert_eq!(msg.kind(), Kind::Event);
//! assert!(msg.get("event").unwrap().as_str().unwrap() == "STOP");
//! let seconds = msg.get("timestamp").and_then(|t| t.get("seconds")).and_then(|s| s.as_i64());
//! assert_eq!(seconds, Some(1700000000));
//! // Python's str(Message): json.dumps(obj, indent=2)
//! assert!(msg.to_string().starts_with("{\n  \"timestamp\": {\n    \"seconds\": 1700000000,"));
//! # Ok::<(), qmp_codec::ParseError>(())
//! ```
//!
//! # Printing: as Python's `json`
//!
//! [`Style::PYTHON_PRETTY`] (the `Display` of [`Message`] and [`Value`]) prints exactly what
//! the reference library's `str(Message)` prints, `json.dumps(json.loads(text), indent=2)`,
//! and [`Style::PYTHON_COMPACT`] ([`Message::compact`], the compact form of an
//! `OwnedMessage`) exactly `json.dumps(obj, separators=(',', ':'))`, byte for byte, for every
//! message the parser accepts (a seeded differential test against CPython checks it):
//!
//! - members and elements in document order; strings ASCII-only, `\"`, `\\`, `\n`, `\r`,
//!   `\t`, `\b`, `\f`, other controls and non-ASCII as lowercase `\u00e9`, surrogate pairs
//!   above the BMP, `/` as itself;
//! - integers (no fraction, no exponent) as Python `int`s: exact at any length, `-0` as `0`;
//! - every other number as `repr(float(text))`, correctly rounded from all of its digits:
//!   `1.10` → `1.1`, `1e5` → `100000.0`, `1e-7` → `1e-07`, `1e22` → `1e+22`, `1e-400` → `0.0`;
//!   a number beyond `f64` as `Infinity` / `-Infinity`, which `json.dumps` writes by default
//!   although it is not JSON (the command encoder keeps such a number's text instead);
//! - no allocation and no length limit: numbers are re-read from the validated input.
//!
//! The deliberate differences are all on the parser's side, which is stricter than
//! `json.loads`: lone surrogate escapes, the tokens `NaN` / `Infinity` / `-Infinity`, a byte
//! order mark, and duplicate member names at any depth are rejected (QEMU rejects all of
//! them: a duplicate is its `JSON parse error, duplicate key`), so printing, [`Value::get`],
//! iteration and serde never have to choose between two members of one name (the check is
//! linear in the input for objects of any size with `alloc`; without it, open nested objects
//! hold at most [`Limits::MAX_NESTED_NAMES`] entries). Integers longer
//! than Python's default `int_max_str_digits` (4,300 digits) are accepted and printed, where
//! Python refuses them. [`Style::QEMU`] prints numbers as written, as QEMU's own output has
//! them.
//!
//! # Features
//!
//! | feature | default | what it adds |
//! | --- | --- | --- |
//! | `std` | yes | `std` interop and the blocking client `transport::blocking` (implies `alloc`) |
//! | `alloc` | via `std` | [`OwnedMessage`] / [`OwnedValue`] (the Python `Message` mapping), `Str::to_cow`, `Client::with_capacity` |
//! | `serde` | no | deserializing [`Value`]s and messages into user types; any `Serialize` as command arguments (no_std) |
//! | `bytes` | no | `BytesMut` framing into `Bytes` frames, [`BytesMessage`], `BufMut` encoding (implies `alloc`) |
//! | `tokio` | no | a `tokio_util::codec` decoder/encoder in `codec` and the async client `transport::tokio` (implies `std`, `bytes`) |
//! | `embedded-io` | no | a blocking client over `embedded_io::{Read, Write}` with caller buffers, no allocator (`transport::embedded`) |
//! | `embedded-io-async` | no | an async client over `embedded_io_async::{Read, Write}` with caller buffers, no allocator (`transport::embedded_async`) |
//! | `defmt` | no | `defmt::Format` for the error types, [`Kind`], [`ErrorClass`], [`Version`], [`Str`], [`Value`] and a short form of [`Message`] (kind, event/command name or error class, id, size), for logging on microcontrollers |
//! | `fd-passing` | no | `SCM_RIGHTS` file descriptor passing in the blocking client, for `getfd` / `add-fd` (unix) |
//! | `arbitrary` | no | module `arbitrary`: `arbitrary::Arbitrary` QMP commands, responses and events, and a near-valid mutator, for fuzzing QMP peers (implies `alloc`) |
//! | `cli` | no | the `qmp` command-line tool |
//!
//! Without any feature the crate is `#![no_std]` with no allocator; it builds for
//! `thumbv7em-none-eabihf`, as do `alloc,serde` and `embedded-io,defmt`.
//!
//! # Limits
//!
//! Every resource that input can make the crate use is bounded. All limits in one place:
//!
//! | limit | default | set with | when exceeded |
//! | --- | --- | --- | --- |
//! | frame length | 10 MiB ([`DEFAULT_MAX_FRAME_LEN`], as libvirt and `qemu.qmp`) | [`FramerConfig::with_max_frame_len`]; a [`ReadBuffer`] also caps it at its capacity | [`FrameError::TooLong`], reported once; the frame's bytes are skipped as they arrive and the next frame survives |
//! | nesting depth | 1024 (QEMU's), at most 4096 | [`Limits::with_max_depth`] | [`Reason::DepthLimit`]; depth is a counter and a bit stack, never recursion |
//! | top-level members | 128 | [`Limits::with_max_members`] | [`Reason::TooManyMembers`]; keeps duplicate-name detection allocation-free |
//! | names in open nested objects | with `alloc`: the message (256 on the stack, then the heap, at most 28 bytes a name while the message is scanned); without: 1024 entries ([`Limits::MAX_NESTED_NAMES`]) | — | without `alloc`, or when the heap refuses, [`Reason::TooManyMembers`]; the duplicate check below the top level keeps each name (and two entries per open object) in 8 bytes |
//! | message size | 4 GiB (offsets are `u32`) | — | [`Reason::TooLarge`] |
//! | requests in flight (client) | 8 (QEMU's queue limit with OOB) | the const generic `N` of [`client::Client`] | `ClientError::TooManyPending` from `execute`; nothing is sent |
//! | client/server buffers | caller-sized | the `rx`/`tx` slices given to the engines | input frames longer than `rx` are skipped as [`FrameError::TooLong`]; output that does not fit waits for `poll_transmit` |
//! | queued events (std/tokio clients) | 1024 | `transport::blocking::Config` | the oldest event is dropped and counted |
//! | serde nesting | 128 (as serde_json) | `serde::Deserializer::with_max_depth` | a depth error, before the stack is at risk |
//! | schema index | caller-sized (one [`schema::Slot`], 16 bytes, per entry) | the storage given to [`schema::Schema::new`] | [`schema::SchemaError::StorageTooSmall`] with the number needed |
//! | checker / drift nesting | 32 typed containers ([`schema::MAX_DEPTH`]) | — | [`schema::CheckError::TooDeep`] from the checker; a `TooDeep` drift finding, not followed further |
//! | feature notes per check | 8 ([`schema::MAX_NOTES`]) | — | counted in `Checked::notes_dropped` |
//!
//! # Policies
//!
//! - Never panic on input: every entry point answers bad input with an error value and keeps
//!   the stream usable for the next message.
//! - Never recurse per nesting level; never rescan bytes already scanned (apart from a string
//!   window's lookahead of at most 63 bytes past a message, so the work stays linear). The
//!   one exception is [`Framer::decode_message`] on a line that is not whole when first tried,
//!   and on every line on compact targets (below), which have no one-pass line scan: the
//!   framer's byte search finds the line's end, then the scanner parses the line; the work is
//!   bounded by twice the line ([`Framer::bytes_scanned`]).
//! - `#![forbid(unsafe_code)]`; vector code comes from `memchr` and from plain loops over byte
//!   arrays that LLVM vectorizes (the scanner's string windows), never from intrinsics.
//! - Small targets get small code: without 128-bit vectors (thumb, riscv32, …) the scanner
//!   and the string escaper take a compact form (no windows, one container loop, helpers
//!   called from several places kept out of line), byte searches are one small word-at-a-time
//!   loop instead of `memchr`, encoders write through one `dyn` sink, and a program links
//!   only the framing dialects, printers and encoders it calls. The repository's `firmware/`
//!   measures it: a whole negotiate-and-execute client for `thumbv7em-none-eabihf` in about
//!   23.3 KiB of `.text` at `opt-level = "s"`, 21.7 KiB at `"z"` (PERF.md).
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod agent;
#[cfg(feature = "arbitrary")]
pub mod arbitrary;
pub mod client;
#[cfg(feature = "bytes")]
pub mod codec;
#[cfg(feature = "defmt")]
mod defmt_format;
mod driver;
pub mod encode;
mod error;
mod find;
mod framer;
mod io_buf;
mod json;
mod limits;
mod message;
mod model;
#[cfg(feature = "alloc")]
mod owned;
mod read_buffer;
pub mod schema;
#[cfg(feature = "serde")]
pub mod serde;
pub mod server;
#[cfg(any(feature = "std", feature = "embedded-io"))]
pub mod transport;

pub use crate::error::{
    BufferTooSmall, DeserializationError, ParseError, Reason, UnexpectedTypeError,
};
pub use crate::framer::{
    Decoded, DecodedMessage, Dialect, Frame, FrameError, Framer, FramerConfig, LexicalKind,
    MessageError, Status, DEFAULT_MAX_FRAME_LEN,
};
pub use crate::json::{
    write_json_string, Chars, Elements, Members, Printed, Str, Style, Value, ValueKind,
};
pub use crate::limits::Limits;
pub use crate::message::{Kind, Message};
pub use crate::model::{
    Classified, Command, ErrorClass, ErrorInfo, ErrorResponse, Event, Expected, Greeting,
    ModelError, ReturnResponse, Timestamp, Version,
};
#[cfg(feature = "bytes")]
pub use crate::owned::BytesMessage;
#[cfg(feature = "alloc")]
pub use crate::owned::{Iter as OwnedMembers, OwnedMessage, OwnedParseError, OwnedValue};
pub use crate::read_buffer::{FrameAt, ReadBuffer};

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
