//! serde integration (feature `serde`): deserialize a [`Message`] or any [`Value`] into your
//! own `#[derive(Deserialize)]` types, borrowing `&'a str` fields from the input.
//!
//! ```
//! use qmp_codec::Message;
//! use serde::Deserialize;
//!
//! #[derive(Deserialize)]
//! struct Event<'a> {
//!     event: &'a str,
//!     data: Option<Data<'a>>,
//!     timestamp: Timestamp,
//! }
//! #[derive(Deserialize)]
//! struct Data<'a> {
//!     id: &'a str,
//!     status: &'a str,
//! }
//! #[derive(Deserialize)]
//! struct Timestamp {
//!     seconds: i64,
//!     microseconds: i64,
//! }
//!
//! let line = br#"{"timestamp": {"seconds": 1700000000, "microseconds": 5}, "event": "JOB_STATUS_CHANGE", "data": {"status": "created", "id": "job0"}}"#;
//! let msg = Message::parse(line)?;
//! let ev: Event = msg.deserialize().unwrap();
//! assert_eq!((ev.event, ev.timestamp.seconds, ev.timestamp.microseconds), ("JOB_STATUS_CHANGE", 1700000000, 5));
//! assert_eq!(ev.data.unwrap().status, "created");
//! # Ok::<(), qmp_codec::ParseError>(())
//! ```
//!
//! Unlike serde-json-core, the deserializer supports the whole serde data model, including
//! `deserialize_any`, so untagged, internally tagged (`#[serde(tag = "…")]`) and adjacently
//! tagged enums work too. serde buffers their content on the heap: their derives compile
//! only with serde's `alloc` feature (this crate's `alloc` turns it on). Without an
//! allocator, structs, tuples, sequences into fixed types and externally tagged enums work.
//!
//! - Strings without escapes are borrowed (`&'a str` fields work); escaped ones are
//!   unescaped into a `String` with `alloc`, or into a [`UNESCAPE_BUFFER`]-byte stack buffer
//!   without it (so `&'a str` fields fail on escaped input; use `String` or `Cow`).
//! - Integers of every width, `i128`/`u128` included, are read exactly from the number text;
//!   out of range is an error. Floats are rounded once from the text; results that overflow
//!   to infinity (`1e400`) are an error.
//! - `deserialize_any` gives `u64` when the integer fits, else `i64`, else `f64`; `-0` is the
//!   float `-0.0` there (as in serde_json, and QEMU echoes it as a float), while integer
//!   targets read it as 0.
//! - Enums are externally tagged by default: `"Unit"` or `{"Variant": payload}`.
//! - Member names can be read as integers, floats or bools (`{"1": …}` into a map with
//!   `u32` keys).
//! - Recursion: serde's derived code recurses once per nesting level, by design. The scanner
//!   bounds nesting at [`Limits::max_depth`](crate::Limits::max_depth) (1024), but a
//!   recursive type costs about 4 KiB of stack per level in debug builds (under 1 KiB in
//!   release; measured with `struct Nested(Vec<Nested>)`), so 1000 levels overflow a 2 MiB
//!   thread. The deserializer therefore has its own bound, [`DEFAULT_SERDE_DEPTH`] (128, as
//!   serde_json), set with [`Deserializer::with_max_depth`]; deeper input fails with
//!   [`ErrorKind::DepthLimit`] instead of recursing further.
//! - [`Value`] can be a field type: it borrows the exact bytes of that member.

mod de;
mod error;
mod number;
#[cfg(test)]
mod tests;
mod value;

use ::serde::Deserialize;

pub use self::de::{Deserializer, DEFAULT_SERDE_DEPTH, UNESCAPE_BUFFER};
pub use self::error::{Error, ErrorKind};

use crate::json::Value;
use crate::message::Message;

/// Deserializes `value` into `T`, with [`Deserializer::new`]'s defaults.
///
/// ```
/// use qmp_codec::Message;
/// let msg = Message::parse(br#"{"return": {"major": 10, "minor": 0}}"#)?;
/// let v: std::collections::BTreeMap<&str, u8> = qmp_codec::serde::from_value(msg.get("return").unwrap()).unwrap();
/// assert_eq!(v["major"], 10);
/// # Ok::<(), qmp_codec::ParseError>(())
/// ```
pub fn from_value<'a, T: Deserialize<'a>>(value: Value<'a>) -> Result<T, Error> {
    T::deserialize(Deserializer::new(value))
}

/// Deserializes the whole message object into `T`; error offsets count from the start of
/// the message bytes.
pub fn from_message<'a, T: Deserialize<'a>>(message: &Message<'a>) -> Result<T, Error> {
    T::deserialize(Deserializer::from_message(message))
}

impl<'a> Value<'a> {
    /// Deserializes this value into `T` (feature `serde`): the one name for deserializing
    /// on [`Message`], [`Value`], [`OwnedMessage`](crate::OwnedMessage) and
    /// [`OwnedValue`](crate::OwnedValue). The free functions [`from_value`] and
    /// [`from_message`] are the same, for generic code.
    pub fn deserialize<T: Deserialize<'a>>(self) -> Result<T, Error> {
        from_value(self)
    }
}

impl<'a> Message<'a> {
    /// Deserializes the whole message into `T` (feature `serde`); see [`from_message`].
    pub fn deserialize<T: Deserialize<'a>>(&self) -> Result<T, Error> {
        from_message(self)
    }
}

#[cfg(feature = "alloc")]
impl crate::OwnedMessage {
    /// Deserializes the whole message into `T` (features `serde` and `alloc`), borrowing
    /// from the message as [`Message::deserialize`] does.
    pub fn deserialize<'a, T: Deserialize<'a>>(&'a self) -> Result<T, Error> {
        from_message(&self.message())
    }
}

#[cfg(feature = "alloc")]
impl crate::OwnedValue {
    /// Deserializes the value into `T` (features `serde` and `alloc`), borrowing from it.
    pub fn deserialize<'a, T: Deserialize<'a>>(&'a self) -> Result<T, Error> {
        from_value(self.value())
    }
}
