//! Errors of the JSON scanner, mirroring `qemu.qmp`'s `DeserializationError` and
//! `UnexpectedTypeError`.

use core::fmt;

use crate::json::Value;

/// Why a byte sequence is not an acceptable JSON text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// The input is empty or holds only whitespace.
    EmptyInput,
    /// The input ends in the middle of a value.
    UnexpectedEnd,
    /// A byte that cannot start a JSON value.
    ExpectedValue,
    /// An object member must start with a string name.
    ExpectedName,
    /// A member name must be followed by `:`.
    ExpectedColon,
    /// After a value inside a container, `,` or the closing bracket must follow.
    ExpectedCommaOrEnd,
    /// Not `true`, `false` or `null` (JSON keywords are lowercase).
    InvalidLiteral,
    /// A number that breaks RFC 8259's grammar (leading zero, `1.`, `.5`, `+1`, `-`).
    InvalidNumber,
    /// A raw control byte (U+0000 to U+001F) inside a string.
    ControlCharacter,
    /// A backslash escape other than `\" \\ \/ \b \f \n \r \t \uXXXX`.
    InvalidEscape,
    /// A `\u` escape of a lone or reversed UTF-16 surrogate.
    LoneSurrogate,
    /// Bytes that are not valid UTF-8.
    InvalidUtf8,
    /// A UTF-8 byte order mark, which RFC 8259 forbids senders to add.
    ByteOrderMark,
    /// Nesting deeper than [`Limits::max_depth`](crate::Limits::max_depth).
    DepthLimit,
    /// More top-level members than [`Limits::max_members`](crate::Limits::max_members), or
    /// (without the `alloc` feature) more names in open nested objects than
    /// [`Limits::MAX_NESTED_NAMES`](crate::Limits::MAX_NESTED_NAMES) holds.
    TooManyMembers,
    /// Something other than whitespace after the value.
    TrailingData,
    /// Two members of one object with the same (unescaped) name, at any depth, which QEMU
    /// rejects (`JSON parse error, duplicate key`).
    DuplicateMember,
    /// Input longer than 4 GiB, which offsets of this crate cannot address.
    TooLarge,
}

impl Reason {
    /// A short lowercase description, used by `Display`.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Reason::EmptyInput => "empty input",
            Reason::UnexpectedEnd => "unexpected end of input",
            Reason::ExpectedValue => "expected a JSON value",
            Reason::ExpectedName => "expected a string member name",
            Reason::ExpectedColon => "expected ':' after member name",
            Reason::ExpectedCommaOrEnd => "expected ',' or a closing bracket",
            Reason::InvalidLiteral => "invalid literal",
            Reason::InvalidNumber => "invalid number",
            Reason::ControlCharacter => "control character in string",
            Reason::InvalidEscape => "invalid escape",
            Reason::LoneSurrogate => "lone surrogate escape",
            Reason::InvalidUtf8 => "invalid UTF-8",
            Reason::ByteOrderMark => "byte order mark",
            Reason::DepthLimit => "nesting depth limit exceeded",
            Reason::TooManyMembers => "too many members",
            Reason::TrailingData => "trailing data after JSON value",
            Reason::DuplicateMember => "duplicate member name",
            Reason::TooLarge => "input too large",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The input is not a valid JSON text (or breaks a [`Limits`](crate::Limits) bound).
///
/// Mirrors `qemu.qmp`'s `DeserializationError`: [`raw`](Self::raw) gives the bytes that were
/// being parsed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct DeserializationError<'a> {
    raw: &'a [u8],
    offset: usize,
    reason: Reason,
}

impl<'a> DeserializationError<'a> {
    pub(crate) const fn new(raw: &'a [u8], offset: usize, reason: Reason) -> Self {
        DeserializationError {
            raw,
            offset,
            reason,
        }
    }

    /// The byte offset in [`raw`](Self::raw) where the input went wrong.
    pub const fn offset(&self) -> usize {
        self.offset
    }

    /// What went wrong.
    pub const fn reason(&self) -> Reason {
        self.reason
    }

    /// The whole input, like Python's `DeserializationError.raw`.
    pub const fn raw(&self) -> &'a [u8] {
        self.raw
    }
}

impl fmt::Debug for DeserializationError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeserializationError")
            .field("offset", &self.offset)
            .field("reason", &self.reason)
            .field("raw_len", &self.raw.len())
            .finish()
    }
}

impl fmt::Display for DeserializationError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Failed to deserialize QMP message: {} at byte {}",
            self.reason, self.offset
        )
    }
}

impl core::error::Error for DeserializationError<'_> {}

/// The input is valid JSON, but not an object.
///
/// Mirrors `qemu.qmp`'s `UnexpectedTypeError`: [`value`](Self::value) gives the parsed value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnexpectedTypeError<'a> {
    value: Value<'a>,
}

impl<'a> UnexpectedTypeError<'a> {
    pub(crate) const fn new(value: Value<'a>) -> Self {
        UnexpectedTypeError { value }
    }

    /// The JSON value that was found instead of an object.
    pub const fn value(&self) -> Value<'a> {
        self.value
    }
}

impl fmt::Display for UnexpectedTypeError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "QMP message is not a JSON object (found {})",
            self.value.kind()
        )
    }
}

impl core::error::Error for UnexpectedTypeError<'_> {}

/// Why [`Message::parse`](crate::Message::parse) refused its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseError<'a> {
    /// Not valid JSON, or over a limit.
    Deserialization(DeserializationError<'a>),
    /// Valid JSON that is not an object.
    UnexpectedType(UnexpectedTypeError<'a>),
}

impl<'a> ParseError<'a> {
    /// The input bytes that failed to parse.
    pub fn raw(&self) -> &'a [u8] {
        match self {
            ParseError::Deserialization(e) => e.raw(),
            ParseError::UnexpectedType(e) => e.value().raw(),
        }
    }
}

impl fmt::Display for ParseError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Deserialization(e) => e.fmt(f),
            ParseError::UnexpectedType(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for ParseError<'_> {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        None
    }
}

impl<'a> From<DeserializationError<'a>> for ParseError<'a> {
    fn from(e: DeserializationError<'a>) -> Self {
        ParseError::Deserialization(e)
    }
}

impl<'a> From<UnexpectedTypeError<'a>> for ParseError<'a> {
    fn from(e: UnexpectedTypeError<'a>) -> Self {
        ParseError::UnexpectedType(e)
    }
}

/// A caller buffer was too small; nothing was written to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BufferTooSmall {
    /// The number of bytes the operation needs.
    pub required: usize,
}

impl fmt::Display for BufferTooSmall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "buffer too small: {} bytes required", self.required)
    }
}

impl core::error::Error for BufferTooSmall {}
