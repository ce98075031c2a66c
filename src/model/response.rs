//! Responses to commands: `{"return": ...}` and `{"error": {"class", "desc"}}`.

use core::fmt;

use crate::json::{Str, Value};
use crate::message::{Kind, Message};
use crate::model::error::{require, Expected, ModelError};

/// A validated success response `{"return": ANY, "id": ANY}`, borrowed from its [`Message`].
///
/// The only requirement is a `return` member, of any type (`qemu.qmp` has no model for it;
/// the name in errors is `ReturnResponse`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReturnResponse<'a> {
    message: Message<'a>,
    value: Value<'a>,
}

impl<'a> ReturnResponse<'a> {
    /// Validates `message` as a success response.
    pub fn new(message: Message<'a>) -> Result<ReturnResponse<'a>, ModelError<'a>> {
        let value = message.get("return").ok_or(ModelError::MissingMember {
            model: "ReturnResponse",
            member: "return",
        })?;
        Ok(ReturnResponse { message, value })
    }

    /// The whole message.
    pub fn message(&self) -> Message<'a> {
        self.message
    }

    /// The `return` value (usually an object, `{}` when there is nothing to return).
    pub fn value(&self) -> Value<'a> {
        self.value
    }

    /// The `id` echoed from the command, of any JSON type.
    pub fn id(&self) -> Option<Value<'a>> {
        self.message.id()
    }
}

impl<'a> TryFrom<Message<'a>> for ReturnResponse<'a> {
    type Error = ModelError<'a>;
    fn try_from(message: Message<'a>) -> Result<Self, ModelError<'a>> {
        ReturnResponse::new(message)
    }
}

/// A validated error response `{"error": {"class": ..., "desc": ...}, "id": ANY}`.
///
/// Validation follows `qemu.qmp`'s `ErrorResponse` then `ErrorInfo`, first failure wins:
/// `error` must be an object, then its `class` a string, then its `desc` a string. `id` is
/// optional and of any type; other members are ignored.
///
/// ```
/// use qmp_codec::{ErrorClass, ErrorResponse, Message};
/// let msg = Message::parse(br#"{"id": 7, "error": {"class": "CommandNotFound",
///     "desc": "The command foo has not been found"}}"#)?;
/// let err = ErrorResponse::try_from(msg).unwrap();
/// assert_eq!(err.class(), ErrorClass::CommandNotFound);
/// assert_eq!(err.desc(), "The command foo has not been found");
/// assert_eq!(err.id().unwrap().as_i64(), Some(7));
/// # Ok::<(), qmp_codec::ParseError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ErrorResponse<'a> {
    message: Message<'a>,
    info: ErrorInfo<'a>,
}

impl<'a> ErrorResponse<'a> {
    /// Validates `message` as an error response.
    pub fn new(message: Message<'a>) -> Result<ErrorResponse<'a>, ModelError<'a>> {
        let error = require(
            message.get("error"),
            "ErrorResponse",
            "error",
            Expected::Object,
        )?;
        let info = ErrorInfo::new(error)?;
        Ok(ErrorResponse { message, info })
    }

    /// The whole message.
    pub fn message(&self) -> Message<'a> {
        self.message
    }

    /// The `error` object.
    pub fn info(&self) -> ErrorInfo<'a> {
        self.info
    }

    /// The error class (`error.class`).
    pub fn class(&self) -> ErrorClass<'a> {
        self.info.class()
    }

    /// The human-readable description (`error.desc`).
    pub fn desc(&self) -> Str<'a> {
        self.info.desc()
    }

    /// The `id` echoed from the command, of any JSON type; absent when QEMU could not read
    /// the command (parse errors) or it had none.
    pub fn id(&self) -> Option<Value<'a>> {
        self.message.id()
    }
}

impl<'a> TryFrom<Message<'a>> for ErrorResponse<'a> {
    type Error = ModelError<'a>;
    fn try_from(message: Message<'a>) -> Result<Self, ModelError<'a>> {
        ErrorResponse::new(message)
    }
}

/// The validated `error` object of an error response: `class` and `desc`, both strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorInfo<'a> {
    class: Str<'a>,
    desc: Str<'a>,
}

impl<'a> ErrorInfo<'a> {
    /// Validates an `error` object as `qemu.qmp`'s `ErrorInfo` does (`class`, then `desc`).
    pub fn new(error: Value<'a>) -> Result<ErrorInfo<'a>, ModelError<'a>> {
        let str_member = |member: &'static str| {
            require(error.get(member), "ErrorInfo", member, Expected::String)
                // `require` checked that the value is a string, so `as_str` is `Some`.
                .map(|v| v.as_str().unwrap_or_else(|| Str::from_body(b"")))
        };
        let class = str_member("class")?;
        let desc = str_member("desc")?;
        Ok(ErrorInfo { class, desc })
    }

    /// The error class.
    pub fn class(&self) -> ErrorClass<'a> {
        ErrorClass::from(self.class)
    }

    /// The error class as the string sent.
    pub fn class_str(&self) -> Str<'a> {
        self.class
    }

    /// The human-readable description.
    pub fn desc(&self) -> Str<'a> {
        self.desc
    }
}

impl<'a> TryFrom<Value<'a>> for ErrorInfo<'a> {
    type Error = ModelError<'a>;
    fn try_from(error: Value<'a>) -> Result<Self, ModelError<'a>> {
        ErrorInfo::new(error)
    }
}

/// QMP's error classes (QAPI `QapiErrorClass`), with [`Other`](Self::Other) for any class a
/// newer QEMU may add.
///
/// Classes are matched on the unescaped string, so `"Generic\u0045rror"` is
/// [`GenericError`](Self::GenericError).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorClass<'a> {
    /// `GenericError`: the class of nearly every error.
    GenericError,
    /// `CommandNotFound`: unknown command, or a command before/after negotiation.
    CommandNotFound,
    /// `DeviceNotActive`.
    DeviceNotActive,
    /// `DeviceNotFound`.
    DeviceNotFound,
    /// `KVMMissingCap`.
    KVMMissingCap,
    /// Any other class, as sent.
    Other(Str<'a>),
}

impl<'a> ErrorClass<'a> {
    const KNOWN: [(&'static str, ErrorClass<'static>); 5] = [
        ("GenericError", ErrorClass::GenericError),
        ("CommandNotFound", ErrorClass::CommandNotFound),
        ("DeviceNotActive", ErrorClass::DeviceNotActive),
        ("DeviceNotFound", ErrorClass::DeviceNotFound),
        ("KVMMissingCap", ErrorClass::KVMMissingCap),
    ];

    /// The class name of a known class, `None` for [`Other`](Self::Other).
    pub const fn known_name(&self) -> Option<&'static str> {
        match self {
            ErrorClass::GenericError => Some("GenericError"),
            ErrorClass::CommandNotFound => Some("CommandNotFound"),
            ErrorClass::DeviceNotActive => Some("DeviceNotActive"),
            ErrorClass::DeviceNotFound => Some("DeviceNotFound"),
            ErrorClass::KVMMissingCap => Some("KVMMissingCap"),
            ErrorClass::Other(_) => None,
        }
    }
}

impl<'a> From<Str<'a>> for ErrorClass<'a> {
    fn from(s: Str<'a>) -> Self {
        ErrorClass::KNOWN
            .iter()
            .find(|(name, _)| s.eq_str(name))
            .map_or(ErrorClass::Other(s), |&(_, class)| class)
    }
}

impl fmt::Display for ErrorClass<'_> {
    /// The class name (unescaped).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorClass::Other(s) => s.fmt(f),
            known => f.write_str(known.known_name().unwrap_or_default()),
        }
    }
}

/// The `return` value of a success reply (kind `Return`): what every engine's reply type
/// gives.
pub(crate) fn return_of<'a>(message: &Message<'a>) -> Option<Value<'a>> {
    match message.kind() {
        Kind::Return => message.get("return"),
        _ => None,
    }
}

/// The `error` object of an error reply (kind `Error`), validated.
pub(crate) fn error_of<'a>(message: &Message<'a>) -> Option<Result<ErrorInfo<'a>, ModelError<'a>>> {
    match message.kind() {
        Kind::Error => message.get("error").map(ErrorInfo::new),
        _ => None,
    }
}
