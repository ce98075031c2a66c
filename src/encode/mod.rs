//! Writing QMP messages without allocating: client commands and server replies.
//!
//! Every message type here implements [`Encode`], which writes it into a caller slice
//! ([`Encode::encode`]: measured first, so a short buffer is left as it was and the exact
//! size needed is reported), into any [`core::fmt::Write`]
//! ([`Encode::encode_fmt`]), or, with the `bytes` feature, into a [`bytes::BufMut`]
//! ([`Encode::encode_buf_mut`], measured first, so nothing is written when it does not fit).
//!
//! - Client side, [`Request`]: `{"execute":"name","arguments":{…},"id":…}` (or `exec-oob`),
//!   compact and ASCII-only with lowercase `\u00e9`, byte for byte what `qemu.qmp` sends.
//! - Server side, [`ServerGreeting`], [`ServerReturn`], [`ServerError`], [`EventMessage`]:
//!   QEMU's own layout (`", "` and `": "`, uppercase `\u00E9`, numbers re-printed as QEMU
//!   prints them), ending in `\r\n`.
//! - [`IdGenerator`] makes the reference client's ids `__qmp#00000`, `__qmp#00001`, … as
//!   small `Copy` [`Id`]s.
//!
//! Payloads (arguments, return values, event data, ids) are [`Payload`]s: a [`Value`] from a
//! parsed message, raw JSON checked by [`validate_json`], a [`JsonStr`], [`EmptyObject`], an
//! integer, or, with
//! the `serde` feature, any `serde::Serialize` wrapped in [`Ser`].
//!
//! ```
//! use qmp_codec::encode::{Encode, IdGenerator, Request, validate_json};
//!
//! let mut ids = IdGenerator::new();
//! let args = validate_json(br#"{ "device": "caf\u00e9" }"#)?;
//! let request = Request::execute("eject").with_arguments(args).with_id(ids.next_id());
//! let mut buf = [0u8; 128];
//! let n = request.encode(&mut buf)?;
//! assert_eq!(&buf[..n], br#"{"execute":"eject","arguments":{"device":"caf\u00e9"},"id":"__qmp#00000"}"#);
//! # Ok::<(), qmp_codec::encode::EncodeError>(())
//! ```
//!
//! [`Value`]: crate::Value

mod command;
mod error;
mod escape;
mod id;
pub(crate) mod payload;
#[cfg(feature = "serde")]
mod serializer;
mod server;
mod sink;

pub use self::command::Request;
pub use self::error::EncodeError;
pub use self::id::{Id, IdGenerator};
#[cfg(feature = "serde")]
pub use self::payload::Ser;
pub(crate) use self::payload::Verbatim;
pub use self::payload::{validate_json, EmptyObject, JsonStr, Payload};
pub(crate) use self::server::RawJson;
pub use self::server::{EventMessage, ServerError, ServerGreeting, ServerReturn};
pub use self::sink::Encode;

/// How a message is laid out: the client's compact form or QEMU's server form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[doc(hidden)]
pub enum Layout {
    /// `json.dumps(obj, separators=(',', ':'))`: lowercase `\u00e9`, numbers as given.
    Compact,
    /// QEMU's monitor: `", "`/`": "`, uppercase `\u00E9`, numbers re-printed with `%.17g`.
    Qemu,
}

impl Layout {
    #[cfg_attr(not(feature = "serde"), allow(dead_code))]
    pub(crate) const fn comma(self) -> &'static str {
        match self {
            Layout::Compact => ",",
            Layout::Qemu => ", ",
        }
    }

    #[cfg_attr(not(feature = "serde"), allow(dead_code))]
    pub(crate) const fn colon(self) -> &'static str {
        match self {
            Layout::Compact => ":",
            Layout::Qemu => ": ",
        }
    }

    pub(crate) const fn upper_hex(self) -> bool {
        matches!(self, Layout::Qemu)
    }
}
