//! The owned form of [`ParseError`], for inputs that are not kept.

use alloc::vec::Vec;
use core::fmt;

use crate::error::{DeserializationError, ParseError, Reason, UnexpectedTypeError};
use crate::json::Value;

/// Why an owned message or value could not be built: a [`ParseError`] that owns its bytes.
///
/// [`as_parse_error`](Self::as_parse_error) gives the borrowed error back, so both print
/// and compare the same way.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OwnedParseError {
    /// Not valid JSON, or over a limit (`qemu.qmp`'s `DeserializationError`).
    Deserialization {
        /// What went wrong.
        reason: Reason,
        /// The byte offset in `raw` where it went wrong.
        offset: usize,
        /// The whole input.
        raw: Vec<u8>,
    },
    /// Valid JSON that is not an object (`qemu.qmp`'s `UnexpectedTypeError`).
    UnexpectedType {
        /// The value's bytes.
        value: Vec<u8>,
    },
}

impl OwnedParseError {
    /// The borrowed error this one owns the bytes of.
    pub fn as_parse_error(&self) -> ParseError<'_> {
        match self {
            OwnedParseError::Deserialization {
                reason,
                offset,
                raw,
            } => ParseError::Deserialization(DeserializationError::new(raw, *offset, *reason)),
            OwnedParseError::UnexpectedType { value } => {
                ParseError::UnexpectedType(UnexpectedTypeError::new(Value::new(value)))
            }
        }
    }

    /// The input bytes (for a non-object, the value's bytes).
    pub fn raw(&self) -> &[u8] {
        match self {
            OwnedParseError::Deserialization { raw, .. } => raw,
            OwnedParseError::UnexpectedType { value } => value,
        }
    }
}

impl From<ParseError<'_>> for OwnedParseError {
    fn from(e: ParseError<'_>) -> Self {
        match e {
            ParseError::Deserialization(d) => OwnedParseError::Deserialization {
                reason: d.reason(),
                offset: d.offset(),
                raw: d.raw().to_vec(),
            },
            ParseError::UnexpectedType(u) => OwnedParseError::UnexpectedType {
                value: u.value().raw().to_vec(),
            },
        }
    }
}

impl fmt::Debug for OwnedParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.as_parse_error(), f)
    }
}

impl fmt::Display for OwnedParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.as_parse_error(), f)
    }
}

impl core::error::Error for OwnedParseError {}
