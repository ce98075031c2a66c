//! `defmt::Format` for the types a firmware logs: the error types, [`Kind`], [`ErrorClass`],
//! [`Version`] and a short form of [`Message`] (feature `defmt`).
//!
//! The impls live here, in one place, rather than as derives beside each type: every match is
//! exhaustive (inside the crate `#[non_exhaustive]` does not hide variants), so a new variant
//! fails the build until it is given a log form. Fixed texts are interned by `defmt` (they
//! cost a few bytes on the wire, not in flash); strings from the input are sent as they are,
//! escapes and all.

use defmt::{write, Format, Formatter};

use crate::client::{ClientError, Refusal, Unmatched};
use crate::encode::EncodeError;
use crate::error::{BufferTooSmall, DeserializationError, ParseError, Reason, UnexpectedTypeError};
use crate::framer::{FrameError, LexicalKind, MessageError};
use crate::json::{Str, Value, ValueKind};
use crate::message::{Kind, Message};
use crate::model::{ErrorClass, ErrorInfo, Expected, ModelError, Version};

/// The JSON text of a validated value or string body (valid UTF-8 by the scan).
fn text(raw: &[u8]) -> &str {
    core::str::from_utf8(raw).unwrap_or("<invalid UTF-8>")
}

impl Format for Reason {
    fn format(&self, f: Formatter<'_>) {
        match self {
            Reason::EmptyInput => write!(f, "EmptyInput"),
            Reason::UnexpectedEnd => write!(f, "UnexpectedEnd"),
            Reason::ExpectedValue => write!(f, "ExpectedValue"),
            Reason::ExpectedName => write!(f, "ExpectedName"),
            Reason::ExpectedColon => write!(f, "ExpectedColon"),
            Reason::ExpectedCommaOrEnd => write!(f, "ExpectedCommaOrEnd"),
            Reason::InvalidLiteral => write!(f, "InvalidLiteral"),
            Reason::InvalidNumber => write!(f, "InvalidNumber"),
            Reason::ControlCharacter => write!(f, "ControlCharacter"),
            Reason::InvalidEscape => write!(f, "InvalidEscape"),
            Reason::LoneSurrogate => write!(f, "LoneSurrogate"),
            Reason::InvalidUtf8 => write!(f, "InvalidUtf8"),
            Reason::ByteOrderMark => write!(f, "ByteOrderMark"),
            Reason::DepthLimit => write!(f, "DepthLimit"),
            Reason::TooManyMembers => write!(f, "TooManyMembers"),
            Reason::TrailingData => write!(f, "TrailingData"),
            Reason::DuplicateMember => write!(f, "DuplicateMember"),
            Reason::TooLarge => write!(f, "TooLarge"),
        }
    }
}

impl Format for DeserializationError<'_> {
    /// `DeserializationError(<reason> at byte <offset> of <len>)`: the raw bytes are left out.
    fn format(&self, f: Formatter<'_>) {
        write!(
            f,
            "DeserializationError({} at byte {=usize} of {=usize})",
            self.reason(),
            self.offset(),
            self.raw().len()
        )
    }
}

impl Format for ValueKind {
    fn format(&self, f: Formatter<'_>) {
        match self {
            ValueKind::Object => write!(f, "object"),
            ValueKind::Array => write!(f, "array"),
            ValueKind::String => write!(f, "string"),
            ValueKind::Number => write!(f, "number"),
            ValueKind::Bool => write!(f, "bool"),
            ValueKind::Null => write!(f, "null"),
        }
    }
}

impl Format for UnexpectedTypeError<'_> {
    fn format(&self, f: Formatter<'_>) {
        write!(f, "UnexpectedTypeError(found {})", self.value().kind())
    }
}

impl Format for ParseError<'_> {
    fn format(&self, f: Formatter<'_>) {
        match self {
            ParseError::Deserialization(e) => e.format(f),
            ParseError::UnexpectedType(e) => e.format(f),
        }
    }
}

impl Format for BufferTooSmall {
    fn format(&self, f: Formatter<'_>) {
        write!(f, "BufferTooSmall(required {=usize})", self.required)
    }
}

impl Format for LexicalKind {
    fn format(&self, f: Formatter<'_>) {
        match self {
            LexicalKind::UnexpectedByte => write!(f, "UnexpectedByte"),
            LexicalKind::InvalidNumber => write!(f, "InvalidNumber"),
            LexicalKind::InvalidString => write!(f, "InvalidString"),
        }
    }
}

impl Format for FrameError {
    fn format(&self, f: Formatter<'_>) {
        match *self {
            FrameError::TooLong { offset, len } => {
                write!(
                    f,
                    "FrameError::TooLong(at {=u64}, {=u64} bytes)",
                    offset, len
                )
            }
            FrameError::Lexical { offset, byte, kind } => write!(
                f,
                "FrameError::Lexical({} {=u8:#04x} at {=u64})",
                kind, byte, offset
            ),
            FrameError::Stray { offset, byte } => {
                write!(f, "FrameError::Stray({=u8:#04x} at {=u64})", byte, offset)
            }
            FrameError::Truncated { offset, len } => write!(
                f,
                "FrameError::Truncated(at {=u64}, {=u64} bytes)",
                offset, len
            ),
        }
    }
}

impl Format for MessageError<'_> {
    fn format(&self, f: Formatter<'_>) {
        match self {
            MessageError::Frame(e) => e.format(f),
            MessageError::Parse { offset, error } => {
                write!(f, "frame at {=u64}: {}", offset, error)
            }
        }
    }
}

impl Format for Expected {
    fn format(&self, f: Formatter<'_>) {
        match self {
            Expected::Object => write!(f, "object"),
            Expected::Array => write!(f, "array"),
            Expected::String => write!(f, "string"),
            Expected::Integer => write!(f, "integer"),
        }
    }
}

impl Format for ModelError<'_> {
    fn format(&self, f: Formatter<'_>) {
        match self {
            ModelError::MissingMember { model, member } => {
                write!(f, "ModelError::MissingMember({=str}.{=str})", model, member)
            }
            ModelError::WrongType {
                model,
                member,
                expected,
            } => write!(
                f,
                "ModelError::WrongType({=str}.{=str} must be {})",
                model, member, expected
            ),
            ModelError::UnexpectedMember { member } => {
                write!(f, "ModelError::UnexpectedMember({})", member)
            }
            ModelError::MissingExecute => write!(f, "ModelError::MissingExecute"),
            ModelError::ExecuteNotString { member } => {
                write!(f, "ModelError::ExecuteNotString({=str})", member)
            }
            ModelError::ArgumentsNotObject => write!(f, "ModelError::ArgumentsNotObject"),
            ModelError::ExecuteClash { member, previous } => write!(
                f,
                "ModelError::ExecuteClash({=str} after {=str})",
                member, previous
            ),
        }
    }
}

impl Format for EncodeError {
    fn format(&self, f: Formatter<'_>) {
        match *self {
            EncodeError::BufferTooSmall { required } => {
                write!(
                    f,
                    "EncodeError::BufferTooSmall(required {=usize})",
                    required
                )
            }
            EncodeError::InvalidJson { offset, reason } => {
                write!(
                    f,
                    "EncodeError::InvalidJson({} at byte {=usize})",
                    reason, offset
                )
            }
            EncodeError::ArgumentsNotObject { found } => {
                write!(f, "EncodeError::ArgumentsNotObject(found {=str})", found)
            }
            EncodeError::NonFiniteFloat => write!(f, "EncodeError::NonFiniteFloat"),
            EncodeError::KeyMustBeString => write!(f, "EncodeError::KeyMustBeString"),
            EncodeError::Unsupported => write!(f, "EncodeError::Unsupported"),
            EncodeError::Custom => write!(f, "EncodeError::Custom"),
            EncodeError::Write => write!(f, "EncodeError::Write"),
        }
    }
}

impl Format for ClientError {
    fn format(&self, f: Formatter<'_>) {
        match self {
            ClientError::NotReady => write!(f, "ClientError::NotReady"),
            ClientError::Closed => write!(f, "ClientError::Closed"),
            ClientError::TooManyPending => write!(f, "ClientError::TooManyPending"),
            ClientError::OobNotNegotiated => write!(f, "ClientError::OobNotNegotiated"),
            ClientError::Encode(e) => write!(f, "ClientError::Encode({})", e),
        }
    }
}

impl Format for crate::agent::AgentError {
    fn format(&self, f: Formatter<'_>) {
        use crate::agent::AgentError;
        match self {
            AgentError::NotSynced => write!(f, "AgentError::NotSynced"),
            AgentError::Busy => write!(f, "AgentError::Busy"),
            AgentError::Closed => write!(f, "AgentError::Closed"),
            AgentError::Encode(e) => write!(f, "AgentError::Encode({})", e),
        }
    }
}

impl Format for Unmatched {
    fn format(&self, f: Formatter<'_>) {
        match self {
            Unmatched::MissingId => write!(f, "Unmatched::MissingId"),
            Unmatched::UnknownId => write!(f, "Unmatched::UnknownId"),
        }
    }
}

impl Format for Refusal {
    fn format(&self, f: Formatter<'_>) {
        match *self {
            Refusal::TooLong { len } => write!(f, "Refusal::TooLong({=u64} bytes)", len),
            Refusal::Limit(reason) => write!(f, "Refusal::Limit({})", reason),
        }
    }
}

impl Format for ErrorInfo<'_> {
    /// The class, interned when known, and the description as sent.
    fn format(&self, f: Formatter<'_>) {
        write!(f, "{}: {}", self.class(), self.desc())
    }
}

#[cfg(feature = "embedded-io")]
impl<E: Format> Format for crate::transport::embedded::Error<'_, E> {
    fn format(&self, f: Formatter<'_>) {
        use crate::transport::embedded::Error;
        match self {
            Error::Qmp(info) => write!(f, "Error::Qmp({})", info),
            Error::InvalidResponse => write!(f, "Error::InvalidResponse"),
            Error::Io(e) => write!(f, "Error::Io({})", e),
            Error::Closed => write!(f, "Error::Closed"),
            Error::Negotiation => write!(f, "Error::Negotiation"),
            Error::Timeout => write!(f, "Error::Timeout"),
            Error::ReplyRefused(r) => write!(f, "Error::ReplyRefused({})", r),
            Error::Refused(e) => write!(f, "Error::Refused({})", e),
            Error::AgentRefused(e) => write!(f, "Error::AgentRefused({})", e),
        }
    }
}

impl Format for Kind {
    fn format(&self, f: Formatter<'_>) {
        match self {
            Kind::Greeting => write!(f, "greeting"),
            Kind::Event => write!(f, "event"),
            Kind::Error => write!(f, "error"),
            Kind::Return => write!(f, "return"),
            Kind::Command => write!(f, "command"),
            Kind::Unknown => write!(f, "unknown"),
        }
    }
}

impl Format for Str<'_> {
    /// The string's JSON body, escapes as written, in quotes.
    fn format(&self, f: Formatter<'_>) {
        write!(f, "\"{=str}\"", text(self.raw()))
    }
}

impl Format for Value<'_> {
    /// The value's JSON text as it lies in the input.
    fn format(&self, f: Formatter<'_>) {
        write!(f, "{=str}", text(self.raw()))
    }
}

impl Format for ErrorClass<'_> {
    /// The class name: interned for a known class, the string sent for another.
    fn format(&self, f: Formatter<'_>) {
        match self {
            ErrorClass::GenericError => write!(f, "GenericError"),
            ErrorClass::CommandNotFound => write!(f, "CommandNotFound"),
            ErrorClass::DeviceNotActive => write!(f, "DeviceNotActive"),
            ErrorClass::DeviceNotFound => write!(f, "DeviceNotFound"),
            ErrorClass::KVMMissingCap => write!(f, "KVMMissingCap"),
            ErrorClass::Other(s) => s.format(f),
        }
    }
}

impl Format for Version {
    fn format(&self, f: Formatter<'_>) {
        write!(
            f,
            "{=u64}.{=u64}.{=u64}",
            self.major, self.minor, self.micro
        )
    }
}

impl Format for Message<'_> {
    /// A short form, not the whole message: the kind, the name that says what it is about
    /// (the event, the command, the error class), the `id` when there is one, and the size:
    /// `event "STOP" (2 members, 82 bytes)`, `error GenericError id="__qmp#00001" (2
    /// members, 91 bytes)`.
    fn format(&self, f: Formatter<'_>) {
        let kind = self.kind();
        write!(f, "{}", kind);
        let name = match kind {
            Kind::Event => self.get_str("event"),
            Kind::Command => self.get_str("execute").or_else(|| self.get_str("exec-oob")),
            Kind::Error => self
                .get("error")
                .and_then(|e| e.get("class"))
                .and_then(|c| c.as_str()),
            _ => None,
        };
        if let Some(name) = name {
            if kind == Kind::Error {
                write!(f, " {}", ErrorClass::from(name));
            } else {
                write!(f, " {}", name);
            }
        }
        if let Some(id) = self.id() {
            write!(f, " id={}", id);
        }
        write!(
            f,
            " ({=usize} members, {=usize} bytes)",
            self.len(),
            self.as_bytes().len()
        )
    }
}
