//! An owned, validated JSON value.

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use core::fmt;

use crate::error::{DeserializationError, ParseError};
use crate::json::print::write_str_escaped;
use crate::json::scan::{self, Document};
use crate::json::{Style, Value};
use crate::limits::Limits;
use crate::owned::OwnedParseError;

/// One JSON value of any type, owned and validated: the member values of an
/// [`OwnedMessage`](crate::OwnedMessage).
///
/// It keeps the value's JSON text (as sent, or as built) and hands out borrowed
/// [`Value`] views of it.
///
/// ```
/// use qmp_codec::OwnedValue;
/// let v = OwnedValue::parse(b" [1, \"\\u00e9\"] ")?;
/// assert_eq!(v.value().elements().count(), 2);
/// assert_eq!(OwnedValue::from("é").to_string(), "\"\\u00e9\"");
/// assert_eq!(OwnedValue::from(-3).value().as_i64(), Some(-3));
/// # Ok::<(), qmp_codec::OwnedParseError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct OwnedValue {
    raw: Box<[u8]>,
}

impl OwnedValue {
    /// Validates one JSON value (surrounding whitespace is dropped).
    ///
    /// The default [`Limits`] apply, and an object value follows the rules of a message:
    /// unique member names, at most [`Limits::MAX_MEMBERS_CAP`] members.
    pub fn parse(bytes: &[u8]) -> Result<OwnedValue, OwnedParseError> {
        let span = match scan::scan(bytes, &Limits::new()) {
            Ok(Document::Object(top)) => top.span,
            Ok(Document::Other(span)) => span,
            Err(f) => {
                let e = DeserializationError::new(bytes, f.offset, f.reason);
                return Err(ParseError::Deserialization(e).into());
            }
        };
        Ok(OwnedValue {
            raw: span.get(bytes).unwrap_or(b"null").into(),
        })
    }

    /// `null`.
    pub fn null() -> OwnedValue {
        OwnedValue::from_text("null")
    }

    /// Wraps text that is known to be one valid JSON value.
    fn from_text(text: &str) -> OwnedValue {
        OwnedValue {
            raw: text.as_bytes().into(),
        }
    }

    /// A borrowed view of the value.
    pub fn value(&self) -> Value<'_> {
        Value::new(&self.raw)
    }

    /// The value's JSON text (as sent when it came from parsed input).
    pub fn as_bytes(&self) -> &[u8] {
        &self.raw
    }
}

impl From<Value<'_>> for OwnedValue {
    fn from(v: Value<'_>) -> Self {
        OwnedValue {
            raw: v.raw().into(),
        }
    }
}

impl From<&str> for OwnedValue {
    /// A JSON string (escaped as Python does: ASCII only, lowercase hex).
    fn from(s: &str) -> Self {
        let mut text = String::with_capacity(s.len() + 2);
        // Writing into a `String` cannot fail.
        let _ = write_str_escaped(&mut text, s, false);
        OwnedValue::from_text(&text)
    }
}

impl From<String> for OwnedValue {
    /// A JSON string.
    fn from(s: String) -> Self {
        OwnedValue::from(s.as_str())
    }
}

impl From<bool> for OwnedValue {
    /// `true` or `false`.
    fn from(b: bool) -> Self {
        OwnedValue::from_text(if b { "true" } else { "false" })
    }
}

macro_rules! from_integer {
    ($($t:ty),*) => {$(
        impl From<$t> for OwnedValue {
            /// A JSON integer.
            fn from(n: $t) -> Self {
                OwnedValue::from_text(&n.to_string())
            }
        }
    )*};
}
from_integer!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

impl fmt::Debug for OwnedValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.value(), f)
    }
}

impl fmt::Display for OwnedValue {
    /// Python's compact form, `json.dumps(v, separators=(',', ':'))`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value().write_to(Style::PYTHON_COMPACT, f)
    }
}
