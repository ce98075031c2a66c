//! Asynchronous events: `{"event": "NAME", "data": {...}, "timestamp": {...}}`.

use crate::json::{Str, Value};
use crate::message::Message;
use crate::model::error::{optional, require, Expected, ModelError};

/// A validated event, borrowed from its [`Message`].
///
/// `qemu.qmp` has no event model; this one checks, first failure wins: `event` is a string,
/// `data` (optional, omitted by QEMU when empty) is an object, `timestamp` (optional) is an
/// object whose `seconds` then `microseconds` are integers. Other members are ignored.
///
/// ```
/// use qmp_codec::{Event, Message, Timestamp};
/// let msg = Message::parse(br#"{"timestamp": {"seconds": 1700000000, "microseconds": 5},
///     "event": "JOB_STATUS_CHANGE", "data": {"status": "running", "id": "job0"}}"#)?;
/// let event = Event::try_from(msg).unwrap();
/// assert_eq!(event.name(), "JOB_STATUS_CHANGE");
/// assert_eq!(event.timestamp(), Some(Timestamp { seconds: 1700000000, microseconds: 5 }));
/// assert_eq!(event.data().and_then(|d| d.get("status")).and_then(|s| s.as_str()).unwrap(), "running");
/// # Ok::<(), qmp_codec::ParseError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Event<'a> {
    message: Message<'a>,
    name: Str<'a>,
    data: Option<Value<'a>>,
    timestamp: Option<Timestamp>,
}

impl<'a> Event<'a> {
    /// Validates `message` as an event.
    pub fn new(message: Message<'a>) -> Result<Event<'a>, ModelError<'a>> {
        let name = require(message.get("event"), "Event", "event", Expected::String)?;
        let data = optional(message.get("data"), "Event", "data", Expected::Object)?;
        let timestamp = optional(
            message.get("timestamp"),
            "Event",
            "timestamp",
            Expected::Object,
        )?
        .map(Timestamp::new)
        .transpose()?;
        Ok(Event {
            message,
            // `require` checked that the value is a string, so `as_str` is `Some`.
            name: name.as_str().unwrap_or_else(|| Str::from_body(b"")),
            data,
            timestamp,
        })
    }

    /// The whole message.
    pub fn message(&self) -> Message<'a> {
        self.message
    }

    /// The event name, e.g. `JOB_STATUS_CHANGE`.
    pub fn name(&self) -> Str<'a> {
        self.name
    }

    /// The `data` object, when present.
    pub fn data(&self) -> Option<Value<'a>> {
        self.data
    }

    /// The `timestamp`, when present.
    pub fn timestamp(&self) -> Option<Timestamp> {
        self.timestamp
    }
}

impl<'a> TryFrom<Message<'a>> for Event<'a> {
    type Error = ModelError<'a>;
    fn try_from(message: Message<'a>) -> Result<Self, ModelError<'a>> {
        Event::new(message)
    }
}

/// When the server emitted an event: seconds and microseconds since the Unix epoch.
///
/// QEMU sends `-1`/`-1` when the host clock failed, so both may be negative.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    /// `seconds`.
    pub seconds: i64,
    /// `microseconds`.
    pub microseconds: i64,
}

impl Timestamp {
    /// Validates a `timestamp` object: `seconds`, then `microseconds`, integers in `i64`.
    pub fn new(value: Value<'_>) -> Result<Timestamp, ModelError<'_>> {
        let int = |member: &'static str| {
            require(value.get(member), "Timestamp", member, Expected::Integer)
                // `require` checked that the value is an integer in `i64` range.
                .map(|v| v.as_i64().unwrap_or_default())
        };
        let seconds = int("seconds")?;
        let microseconds = int("microseconds")?;
        Ok(Timestamp {
            seconds,
            microseconds,
        })
    }
}

impl<'a> TryFrom<Value<'a>> for Timestamp {
    type Error = ModelError<'a>;
    fn try_from(value: Value<'a>) -> Result<Self, ModelError<'a>> {
        Timestamp::new(value)
    }
}
