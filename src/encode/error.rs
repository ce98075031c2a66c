//! Why an encoder refused to write a message.

use core::fmt;

use crate::error::{BufferTooSmall, Reason};

/// Why a message could not be encoded. [`Encode::encode`](super::Encode::encode) leaves the
/// slice as it was; a `fmt::Write` sink may hold the first bytes of the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EncodeError {
    /// The output slice (or `BufMut`) is too small; `required` bytes are needed.
    BufferTooSmall {
        /// The exact length of the encoded message.
        required: usize,
    },
    /// Raw JSON given to [`validate_json`](super::validate_json) is not valid JSON.
    InvalidJson {
        /// The byte offset where the input went wrong.
        offset: usize,
        /// What went wrong.
        reason: Reason,
    },
    /// Command arguments must be a JSON object; `found` names what was given instead
    /// (`"array"`, `"string"`, …).
    ArgumentsNotObject {
        /// The JSON type that was given.
        found: &'static str,
    },
    /// A floating-point value is NaN or infinite, which JSON cannot represent (QEMU rejects
    /// the `NaN` token that Python's `json.dumps` writes).
    NonFiniteFloat,
    /// A map key does not serialize to a string, integer, boolean or character.
    KeyMustBeString,
    /// A `serde` data model type with no JSON form: raw bytes (`serialize_bytes`), or a
    /// `Serialize` implementation that serialized nothing.
    Unsupported,
    /// A `Serialize` implementation reported an error of its own (`serde::ser::Error::custom`).
    Custom,
    /// The `fmt::Write` sink failed, or a `Serialize` implementation wrote different output on
    /// the writing pass than on the measuring pass of
    /// [`encode_buf_mut`](super::Encode::encode_buf_mut).
    Write,
}

impl EncodeError {
    /// The length needed, when the error is [`EncodeError::BufferTooSmall`].
    pub const fn required(&self) -> Option<usize> {
        match self {
            EncodeError::BufferTooSmall { required } => Some(*required),
            _ => None,
        }
    }
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::BufferTooSmall { required } => {
                write!(f, "buffer too small: {required} bytes required")
            }
            EncodeError::InvalidJson { offset, reason } => {
                write!(f, "invalid JSON: {reason} at byte {offset}")
            }
            EncodeError::ArgumentsNotObject { found } => {
                write!(f, "command arguments must be a JSON object, not {found}")
            }
            EncodeError::NonFiniteFloat => {
                f.write_str("NaN and infinite floats cannot be encoded as JSON")
            }
            EncodeError::KeyMustBeString => f.write_str("JSON object keys must be strings"),
            EncodeError::Unsupported => f.write_str("value has no JSON representation"),
            EncodeError::Custom => f.write_str("the Serialize implementation failed"),
            EncodeError::Write => f.write_str("the output sink failed"),
        }
    }
}

impl core::error::Error for EncodeError {}

impl From<BufferTooSmall> for EncodeError {
    fn from(e: BufferTooSmall) -> Self {
        EncodeError::BufferTooSmall {
            required: e.required,
        }
    }
}

impl From<fmt::Error> for EncodeError {
    fn from(_: fmt::Error) -> Self {
        EncodeError::Write
    }
}
