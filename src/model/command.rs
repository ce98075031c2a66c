//! Commands: `{"execute": "name", "arguments": {...}, "id": ANY}` (or `exec-oob`).

use crate::json::{Str, Value, ValueKind};
use crate::message::Message;
use crate::model::error::ModelError;

/// A validated command, borrowed from its [`Message`].
///
/// Checked as QEMU's dispatcher checks input (`qmp_dispatch_check_obj`), with its texts:
/// the members are walked in order and each must be `execute` or `exec-oob` (a string),
/// `arguments` (an object) or `id` (anything); the first bad member wins; a second
/// `execute`/`exec-oob` clashes with the first; finally one of them must exist. Other
/// members, including the long-gone `control`, are unexpected.
///
/// QEMU checks `exec-oob` only when out-of-band execution was negotiated; otherwise it is an
/// unexpected member. [`new`](Self::new) assumes it was (a client or a server with OOB
/// enabled); [`check`](Self::check) takes the session's setting. One difference remains:
/// QEMU walks its hash table, not the document, so when several members are bad it may name
/// another one (whether the command is refused never differs).
///
/// ```
/// use qmp_codec::{Command, Message};
/// let msg = Message::parse(br#"{"execute": "query-status", "id": 1}"#)?;
/// let cmd = Command::try_from(msg).unwrap();
/// assert_eq!(cmd.name(), "query-status");
/// assert!(!cmd.is_oob());
///
/// let bad = Message::parse(br#"{"execute": "stop", "argumnets": {}}"#)?;
/// let err = Command::try_from(bad).unwrap_err();
/// assert_eq!(err.to_string(), "QMP input member 'argumnets' is unexpected");
/// # Ok::<(), qmp_codec::ParseError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Command<'a> {
    message: Message<'a>,
    name: Str<'a>,
    oob: bool,
    arguments: Option<Value<'a>>,
}

impl<'a> Command<'a> {
    /// Validates `message` as a command, with `exec-oob` allowed.
    pub fn new(message: Message<'a>) -> Result<Command<'a>, ModelError<'a>> {
        Command::check(message, true)
    }

    /// Validates `message` as a command the way a QEMU monitor does: with `allow_oob` false
    /// (OOB not negotiated), `exec-oob` is `QMP input member 'exec-oob' is unexpected`.
    pub fn check(message: Message<'a>, allow_oob: bool) -> Result<Command<'a>, ModelError<'a>> {
        let mut exec: Option<(&'static str, Str<'a>)> = None;
        let mut arguments = None;
        for (key, value) in message.iter() {
            let exec_key = if key.eq_str("execute") {
                "execute"
            } else if allow_oob && key.eq_str("exec-oob") {
                "exec-oob"
            } else if key.eq_str("arguments") {
                if value.kind() != ValueKind::Object {
                    return Err(ModelError::ArgumentsNotObject);
                }
                arguments = Some(value);
                continue;
            } else if key.eq_str("id") {
                continue;
            } else {
                return Err(ModelError::UnexpectedMember { member: key });
            };
            let name = value
                .as_str()
                .ok_or(ModelError::ExecuteNotString { member: exec_key })?;
            if let Some((previous, _)) = exec {
                return Err(ModelError::ExecuteClash {
                    member: exec_key,
                    previous,
                });
            }
            exec = Some((exec_key, name));
        }
        let (key, name) = exec.ok_or(ModelError::MissingExecute)?;
        Ok(Command {
            message,
            name,
            oob: key == "exec-oob",
            arguments,
        })
    }

    /// The whole message.
    pub fn message(&self) -> Message<'a> {
        self.message
    }

    /// The command name (`execute` or `exec-oob`).
    pub fn name(&self) -> Str<'a> {
        self.name
    }

    /// Whether the command asks for out-of-band execution (`exec-oob`).
    pub fn is_oob(&self) -> bool {
        self.oob
    }

    /// The `arguments` object, when present.
    pub fn arguments(&self) -> Option<Value<'a>> {
        self.arguments
    }

    /// The `id`, of any JSON type.
    pub fn id(&self) -> Option<Value<'a>> {
        self.message.id()
    }
}

impl<'a> TryFrom<Message<'a>> for Command<'a> {
    type Error = ModelError<'a>;
    fn try_from(message: Message<'a>) -> Result<Self, ModelError<'a>> {
        Command::new(message)
    }
}
