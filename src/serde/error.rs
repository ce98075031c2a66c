//! The error of deserializing a [`Value`](crate::Value) into a user type.

use core::fmt;

#[cfg(feature = "alloc")]
use alloc::{boxed::Box, format, string::ToString};

/// What went wrong while deserializing; `Copy`, without the message text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The JSON type does not fit the target type (a string where a number is expected).
    InvalidType,
    /// The JSON type fits but the value does not (`300` for a `u8`, an unknown `char`).
    InvalidValue,
    /// An array or object with the wrong number of elements; `len` is how many it holds.
    InvalidLength {
        /// The number of elements or members found.
        len: usize,
    },
    /// An enum variant name that the target does not know.
    UnknownVariant,
    /// An object member that a `#[serde(deny_unknown_fields)]` struct does not know.
    UnknownField,
    /// A required struct field is absent.
    MissingField(&'static str),
    /// A struct field appears twice.
    DuplicateField(&'static str),
    /// An integer outside the range of `i128`/`u128`.
    NumberOutOfRange,
    /// A number whose nearest float is infinite (`1e400`).
    NotFinite,
    /// Without `alloc`, an escaped string whose unescaped form does not fit the stack buffer
    /// of [`UNESCAPE_BUFFER`](crate::serde::UNESCAPE_BUFFER) bytes; `required` is its size.
    StringTooLong {
        /// The unescaped length in bytes.
        required: usize,
    },
    /// Nesting deeper than the deserializer's [`max_depth`](crate::serde::Deserializer::with_max_depth).
    DepthLimit,
    /// An externally tagged enum must be a string or an object with exactly one member.
    ExpectedEnum,
    /// A [`Value`](crate::Value) target was asked of a deserializer other than this crate's.
    ValueOutsideQmpCodec,
    /// A message from the target type's `Deserialize` implementation
    /// ([`serde::de::Error::custom`]); the text is kept with the `alloc` feature.
    Custom,
}

impl ErrorKind {
    /// A short lowercase description, used by `Display` when there is no message text.
    pub const fn as_str(&self) -> &'static str {
        match self {
            ErrorKind::InvalidType => "invalid type",
            ErrorKind::InvalidValue => "invalid value",
            ErrorKind::InvalidLength { .. } => "invalid length",
            ErrorKind::UnknownVariant => "unknown variant",
            ErrorKind::UnknownField => "unknown field",
            ErrorKind::MissingField(_) => "missing field",
            ErrorKind::DuplicateField(_) => "duplicate field",
            ErrorKind::NumberOutOfRange => "integer out of range",
            ErrorKind::NotFinite => "number out of range of a float",
            ErrorKind::StringTooLong { .. } => "escaped string longer than the unescape buffer",
            ErrorKind::DepthLimit => "nesting depth limit exceeded",
            ErrorKind::ExpectedEnum => "expected a string or an object with one member for an enum",
            ErrorKind::ValueOutsideQmpCodec => {
                "a qmp_codec::Value can only be deserialized by qmp_codec's deserializer"
            }
            ErrorKind::Custom => "custom error",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::InvalidLength { len } => write!(f, "invalid length {len}"),
            ErrorKind::MissingField(name) => write!(f, "missing field `{name}`"),
            ErrorKind::DuplicateField(name) => write!(f, "duplicate field `{name}`"),
            ErrorKind::StringTooLong { required } => {
                write!(f, "{} ({required} bytes)", self.as_str())
            }
            _ => f.write_str(self.as_str()),
        }
    }
}

/// An error of [`from_value`](crate::serde::from_value) and friends.
///
/// It holds a `Copy` [`ErrorKind`], the byte offset of the value that failed (relative to
/// the message, or to the value passed to [`from_value`](crate::serde::from_value)) and,
/// with the `alloc` feature, serde's full message text (`invalid type: string "a",
/// expected u8`). Without `alloc` it is `Copy`-sized and never allocates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    offset: Option<usize>,
    #[cfg(feature = "alloc")]
    message: Option<Box<str>>,
}

impl Error {
    /// An error of the given kind, without offset or text.
    pub(crate) const fn new(kind: ErrorKind) -> Self {
        Error {
            kind,
            offset: None,
            #[cfg(feature = "alloc")]
            message: None,
        }
    }

    #[cfg(feature = "alloc")]
    fn with_message(kind: ErrorKind, args: fmt::Arguments<'_>) -> Self {
        Error {
            kind,
            offset: None,
            message: Some(format!("{args}").into_boxed_str()),
        }
    }

    #[cfg(not(feature = "alloc"))]
    fn with_message(kind: ErrorKind, _args: fmt::Arguments<'_>) -> Self {
        Error::new(kind)
    }

    /// Records where the failing value starts, unless an inner value already did.
    pub(crate) fn at(mut self, offset: usize) -> Self {
        if self.offset.is_none() {
            self.offset = Some(offset);
        }
        self
    }

    /// What went wrong.
    pub const fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The byte offset of the innermost value being deserialized when the error arose,
    /// relative to the start of the message (or of the value given to `from_value`).
    pub const fn offset(&self) -> Option<usize> {
        self.offset
    }

    /// serde's message text, kept with the `alloc` feature.
    #[cfg(feature = "alloc")]
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Error::new(kind)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        #[cfg(feature = "alloc")]
        if let Some(m) = &self.message {
            f.write_str(m)?;
        } else {
            fmt::Display::fmt(&self.kind, f)?;
        }
        #[cfg(not(feature = "alloc"))]
        fmt::Display::fmt(&self.kind, f)?;
        if let Some(offset) = self.offset {
            write!(f, " at byte {offset}")?;
        }
        Ok(())
    }
}

impl core::error::Error for Error {}

/// `expected one of `a`, `b``, as serde words it.
struct OneOf(&'static [&'static str]);

impl fmt::Display for OneOf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            [] => f.write_str("there are none"),
            [one] => write!(f, "expected `{one}`"),
            [first, rest @ ..] => {
                write!(f, "expected one of `{first}`")?;
                for name in rest {
                    write!(f, ", `{name}`")?;
                }
                Ok(())
            }
        }
    }
}

impl serde::de::Error for Error {
    #[cfg(feature = "alloc")]
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error {
            kind: ErrorKind::Custom,
            offset: None,
            message: Some(msg.to_string().into_boxed_str()),
        }
    }

    #[cfg(not(feature = "alloc"))]
    fn custom<T: fmt::Display>(_msg: T) -> Self {
        Error::new(ErrorKind::Custom)
    }

    fn invalid_type(unexp: serde::de::Unexpected<'_>, exp: &dyn serde::de::Expected) -> Self {
        Error::with_message(
            ErrorKind::InvalidType,
            format_args!("invalid type: {unexp}, expected {exp}"),
        )
    }

    fn invalid_value(unexp: serde::de::Unexpected<'_>, exp: &dyn serde::de::Expected) -> Self {
        Error::with_message(
            ErrorKind::InvalidValue,
            format_args!("invalid value: {unexp}, expected {exp}"),
        )
    }

    fn invalid_length(len: usize, exp: &dyn serde::de::Expected) -> Self {
        Error::with_message(
            ErrorKind::InvalidLength { len },
            format_args!("invalid length {len}, expected {exp}"),
        )
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        Error::with_message(
            ErrorKind::UnknownVariant,
            format_args!("unknown variant `{variant}`, {}", OneOf(expected)),
        )
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        Error::with_message(
            ErrorKind::UnknownField,
            format_args!("unknown field `{field}`, {}", OneOf(expected)),
        )
    }

    fn missing_field(field: &'static str) -> Self {
        Error::new(ErrorKind::MissingField(field))
    }

    fn duplicate_field(field: &'static str) -> Self {
        Error::new(ErrorKind::DuplicateField(field))
    }
}
