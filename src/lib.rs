//! qmp-codec: a zero-copy, `no_std`, sans-IO codec for QEMU's QMP protocol.
//!
//! ```
//! use qmp_codec::{Kind, Message};
//!
//! let line = b"{\"timestamp\": {\"seconds\": 1700000000, \"microseconds\": 5}, \"event\": \"STOP\"}\r\n";
//! let msg = Message::parse(line)?;
//! assert_eq!(msg.kind(), Kind::Event);
//! assert!(msg.get("event").unwrap().as_str().unwrap() == "STOP");
//! let seconds = msg.get("timestamp").and_then(|t| t.get("seconds")).and_then(|s| s.as_i64());
//! assert_eq!(seconds, Some(1700000000));
//! # Ok::<(), qmp_codec::ParseError>(())
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod error;
#[doc(hidden)]
pub mod fuzz_harness;
pub mod json;
mod limits;
mod message;

pub use crate::error::{BufferTooSmall, DeserializationError, ParseError, Reason, UnexpectedTypeError};
pub use crate::json::{Chars, Elements, Members, Printed, Str, Style, Value, ValueKind};
pub use crate::limits::Limits;
pub use crate::message::{Kind, Message};
