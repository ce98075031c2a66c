//! Why a message does not fit a model.

use core::fmt;

use crate::json::{Str, Value, ValueKind};

/// The JSON type a model member must have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Expected {
    /// An object (`JSON object`).
    Object,
    /// An array (`JSON array`).
    Array,
    /// A string (`string`).
    String,
    /// An integer that fits an `i64` (`integer`).
    Integer,
}

impl Expected {
    /// The type's name as the error texts print it: `JSON object`, `JSON array`, `string`,
    /// `integer`.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Expected::Object => "JSON object",
            Expected::Array => "JSON array",
            Expected::String => "string",
            Expected::Integer => "integer",
        }
    }

    /// Whether `v` has this type.
    pub(crate) fn matches(&self, v: &Value<'_>) -> bool {
        match self {
            Expected::Object => v.kind() == ValueKind::Object,
            Expected::Array => v.kind() == ValueKind::Array,
            Expected::String => v.kind() == ValueKind::String,
            Expected::Integer => v.as_i64().is_some(),
        }
    }

    /// The indefinite article the error text puts before the name.
    const fn article(&self) -> &'static str {
        match self {
            Expected::Integer => "an",
            _ => "a",
        }
    }
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A message that is valid JSON but does not fit the model it was read as.
///
/// The [`Display`](fmt::Display) text is exactly the one the reference raises, so it can be
/// shown to users or compared with `qemu.qmp` and QEMU:
///
/// - greetings, errors, events (the `qemu.qmp` models' `KeyError`/`TypeError` texts):
///   `'ErrorInfo' object requires 'desc' member`,
///   `'QMPGreeting' member 'capabilities' must be a JSON array`;
/// - commands (QEMU's `qmp_dispatch_check_obj`): `QMP input member 'X' is unexpected`,
///   `QMP input lacks member 'execute'`, and so on.
///
/// The one text `qemu.qmp` never prints is for [`Expected::Integer`] (timestamps, which it
/// does not check): `'Timestamp' member 'seconds' must be an integer`.
///
/// ```
/// use qmp_codec::{Greeting, Message};
/// let msg = Message::parse(br#"{"QMP": {"version": {}}}"#)?;
/// let err = Greeting::try_from(msg).unwrap_err();
/// assert_eq!(err.to_string(), "'QMPGreeting' object requires 'capabilities' member");
/// # Ok::<(), qmp_codec::ParseError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ModelError<'a> {
    /// A required member is absent: `'<model>' object requires '<member>' member`.
    MissingMember {
        /// The model (Python class) name: `Greeting`, `QMPGreeting`, `ErrorResponse`,
        /// `ErrorInfo`, `ReturnResponse`, `Event`, `Timestamp`.
        model: &'static str,
        /// The member's name.
        member: &'static str,
    },
    /// A member has the wrong JSON type: `'<model>' member '<member>' must be a <expected>`.
    WrongType {
        /// The model (Python class) name.
        model: &'static str,
        /// The member's name.
        member: &'static str,
        /// The type it must have.
        expected: Expected,
    },
    /// A command has a member other than `execute`, `exec-oob`, `arguments` and `id`:
    /// `QMP input member '<member>' is unexpected`.
    UnexpectedMember {
        /// The member's name as it appears in the message.
        member: Str<'a>,
    },
    /// A command has neither `execute` nor `exec-oob`: `QMP input lacks member 'execute'`.
    MissingExecute,
    /// A command's `execute` or `exec-oob` is not a string:
    /// `QMP input member '<member>' must be a string`.
    ExecuteNotString {
        /// `execute` or `exec-oob`.
        member: &'static str,
    },
    /// A command's `arguments` is not an object: `QMP input member 'arguments' must be an object`.
    ArgumentsNotObject,
    /// A command has both `execute` and `exec-oob`:
    /// `QMP input member '<member>' clashes with '<previous>'`.
    ExecuteClash {
        /// The later of the two in document order.
        member: &'static str,
        /// The earlier one.
        previous: &'static str,
    },
}

impl ModelError<'_> {
    /// The model that refused the message: a Python class name (`Greeting`, `QMPGreeting`,
    /// `ErrorResponse`, `ErrorInfo`), one of ours (`ReturnResponse`, `Event`, `Timestamp`),
    /// or `Command` for the command checks.
    pub const fn model(&self) -> &'static str {
        match self {
            ModelError::MissingMember { model, .. } | ModelError::WrongType { model, .. } => model,
            ModelError::UnexpectedMember { .. }
            | ModelError::MissingExecute
            | ModelError::ExecuteNotString { .. }
            | ModelError::ArgumentsNotObject
            | ModelError::ExecuteClash { .. } => "Command",
        }
    }
}

impl fmt::Display for ModelError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelError::MissingMember { model, member } => {
                write!(f, "'{model}' object requires '{member}' member")
            }
            ModelError::WrongType {
                model,
                member,
                expected,
            } => write!(
                f,
                "'{model}' member '{member}' must be {} {expected}",
                expected.article()
            ),
            ModelError::UnexpectedMember { member } => {
                write!(f, "QMP input member '{member}' is unexpected")
            }
            ModelError::MissingExecute => f.write_str("QMP input lacks member 'execute'"),
            ModelError::ExecuteNotString { member } => {
                write!(f, "QMP input member '{member}' must be a string")
            }
            ModelError::ArgumentsNotObject => {
                f.write_str("QMP input member 'arguments' must be an object")
            }
            ModelError::ExecuteClash { member, previous } => {
                write!(f, "QMP input member '{member}' clashes with '{previous}'")
            }
        }
    }
}

impl core::error::Error for ModelError<'_> {}

/// `qemu.qmp`'s `Model._check_member`: the member must exist and have the expected type.
pub(crate) fn require<'a>(
    value: Option<Value<'a>>,
    model: &'static str,
    member: &'static str,
    expected: Expected,
) -> Result<Value<'a>, ModelError<'a>> {
    let v = value.ok_or(ModelError::MissingMember { model, member })?;
    check(v, model, member, expected)
}

/// An optional member: absent is fine, present must have the expected type.
pub(crate) fn optional<'a>(
    value: Option<Value<'a>>,
    model: &'static str,
    member: &'static str,
    expected: Expected,
) -> Result<Option<Value<'a>>, ModelError<'a>> {
    value.map(|v| check(v, model, member, expected)).transpose()
}

fn check<'a>(
    v: Value<'a>,
    model: &'static str,
    member: &'static str,
    expected: Expected,
) -> Result<Value<'a>, ModelError<'a>> {
    if expected.matches(&v) {
        Ok(v)
    } else {
        Err(ModelError::WrongType {
            model,
            member,
            expected,
        })
    }
}
