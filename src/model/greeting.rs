//! The server greeting: `{"QMP": {"version": {...}, "capabilities": [...]}}`.

use core::fmt;

use crate::json::{Elements, Str, Value};
use crate::message::Message;
use crate::model::error::{require, Expected, ModelError};

/// A validated server greeting, borrowed from its [`Message`].
///
/// Validation follows `qemu.qmp`'s `Greeting` then `QMPGreeting` models, first failure wins:
/// `QMP` must be an object, then its `version` an object, then its `capabilities` an array.
/// Other members are ignored. One deliberate difference: `qemu.qmp` accepts a *string*
/// `capabilities` (any Python sequence passes) and then finds `"oob"` in it as a substring;
/// here it is rejected with `'QMPGreeting' member 'capabilities' must be a JSON array`.
///
/// ```
/// use qmp_codec::{Greeting, Message};
/// let msg = Message::parse(br#"{"QMP": {"version": {"qemu": {"micro": 2, "minor": 0, "major": 10},
///     "package": "v10.0.2"}, "capabilities": ["oob"]}}"#)?;
/// let greeting = Greeting::try_from(msg).unwrap();
/// assert_eq!(greeting.version().unwrap().to_string(), "10.0.2");
/// assert_eq!(greeting.package().unwrap(), "v10.0.2");
/// assert!(greeting.has_capability("oob"));
/// # Ok::<(), qmp_codec::ParseError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Greeting<'a> {
    message: Message<'a>,
    version: Value<'a>,
    capabilities: Value<'a>,
}

impl<'a> Greeting<'a> {
    /// Validates `message` as a greeting.
    pub fn new(message: Message<'a>) -> Result<Greeting<'a>, ModelError<'a>> {
        let qmp = require(message.get("QMP"), "Greeting", "QMP", Expected::Object)?;
        let version = require(
            qmp.get("version"),
            "QMPGreeting",
            "version",
            Expected::Object,
        )?;
        let capabilities = require(
            qmp.get("capabilities"),
            "QMPGreeting",
            "capabilities",
            Expected::Array,
        )?;
        Ok(Greeting {
            message,
            version,
            capabilities,
        })
    }

    /// The whole message.
    pub fn message(&self) -> Message<'a> {
        self.message
    }

    /// The `QMP.version` object as sent.
    pub fn version_value(&self) -> Value<'a> {
        self.version
    }

    /// The QEMU version from `QMP.version.qemu`, when `major`, `minor` and `micro` are all
    /// non-negative integers.
    pub fn version(&self) -> Option<Version> {
        let qemu = self.version.get("qemu")?;
        Some(Version {
            major: qemu.get("major")?.as_u64()?,
            minor: qemu.get("minor")?.as_u64()?,
            micro: qemu.get("micro")?.as_u64()?,
        })
    }

    /// `QMP.version.package` (the distribution's build string), when it is a string.
    pub fn package(&self) -> Option<Str<'a>> {
        self.version.get("package")?.as_str()
    }

    /// The `QMP.capabilities` elements in order (usually strings such as `"oob"`).
    pub fn capabilities(&self) -> Elements<'a> {
        self.capabilities.elements()
    }

    /// Whether `capabilities` holds the string `name`; elements that are not strings never
    /// match.
    pub fn has_capability(&self, name: &str) -> bool {
        self.capabilities()
            .any(|c| c.as_str().is_some_and(|s| s.eq_str(name)))
    }
}

impl<'a> TryFrom<Message<'a>> for Greeting<'a> {
    type Error = ModelError<'a>;
    fn try_from(message: Message<'a>) -> Result<Self, ModelError<'a>> {
        Greeting::new(message)
    }
}

/// A QEMU version triple, as in `QMP.version.qemu`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// `major`.
    pub major: u64,
    /// `minor`.
    pub minor: u64,
    /// `micro`.
    pub micro: u64,
}

impl fmt::Display for Version {
    /// `major.minor.micro`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.micro)
    }
}
