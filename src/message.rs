//! The borrowed, validated QMP message view.

use core::fmt;

use crate::error::{DeserializationError, ParseError, UnexpectedTypeError};
use crate::json::keys::{Known, KNOWN_COUNT};
use crate::json::scan::{self, Document};
use crate::json::{Members, Span, Str, Style, Value};
use crate::limits::Limits;

/// What a QMP message is, by the precedence
/// `QMP` > `event` > `error` > `return` > `execute`/`exec-oob` > unknown.
///
/// The precedence is the one `qemu.qmp` routes by: a message with both `error` and `return`
/// is an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// The server greeting (`QMP` member).
    Greeting,
    /// An asynchronous event (`event` member).
    Event,
    /// An error response (`error` member).
    Error,
    /// A success response (`return` member).
    Return,
    /// A command (`execute` or `exec-oob` member).
    Command,
    /// None of the above.
    Unknown,
}

impl Kind {
    /// The lowercase name: `greeting`, `event`, `error`, `return`, `command`, `unknown`.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Kind::Greeting => "greeting",
            Kind::Event => "event",
            Kind::Error => "error",
            Kind::Return => "return",
            Kind::Command => "command",
            Kind::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One QMP message: a validated JSON object borrowed from the caller's bytes.
///
/// Parsing validates everything once (strict RFC 8259, plus QEMU's rule that top-level
/// member names are unique) and notes where the QMP members sit, so [`kind`](Self::kind)
/// and [`id`](Self::id) are free and nothing is allocated.
///
/// ```
/// use qmp_codec::{Kind, Message};
/// let msg = Message::parse(b"{\"return\": {}, \"id\": \"__qmp#00001\"}\r\n")?;
/// assert_eq!(msg.kind(), Kind::Return);
/// assert_eq!(msg.id().unwrap().as_str().unwrap(), "__qmp#00001");
/// assert_eq!(msg.len(), 2);
/// # Ok::<(), qmp_codec::ParseError>(())
/// ```
#[derive(Clone, Copy)]
pub struct Message<'a> {
    bytes: &'a [u8],
    object: Span,
    members: u32,
    known: [Span; KNOWN_COUNT],
}

impl<'a> Message<'a> {
    /// Parses one message with the default [`Limits`].
    ///
    /// JSON whitespace (including a final `\r\n`) may surround the object.
    #[inline]
    pub fn parse(bytes: &'a [u8]) -> Result<Message<'a>, ParseError<'a>> {
        Self::parse_with(bytes, &Limits::new())
    }

    /// Parses one message with the given limits.
    pub fn parse_with(bytes: &'a [u8], limits: &Limits) -> Result<Message<'a>, ParseError<'a>> {
        let mut known = [Span::NONE; KNOWN_COUNT];
        match scan::scan(bytes, limits, &mut known) {
            Ok(Document::Object(top)) => Ok(Message {
                bytes,
                object: top.span,
                members: top.members,
                known,
            }),
            Ok(Document::Other(span)) => Err(ParseError::UnexpectedType(UnexpectedTypeError::new(
                Value::new(span.get(bytes).unwrap_or(&[])),
            ))),
            Err(f) => Err(ParseError::Deserialization(DeserializationError::new(
                bytes, f.offset, f.reason,
            ))),
        }
    }

    /// The message [`scan::scan_line`] found in `bytes` (the frame: the line without its
    /// terminator), as [`parse_with`](Self::parse_with) would have built it from them.
    #[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
    #[inline(always)]
    pub(crate) fn from_line(
        bytes: &'a [u8],
        top: scan::TopObject,
        known: [Span; KNOWN_COUNT],
    ) -> Message<'a> {
        Message {
            bytes,
            object: top.span,
            members: top.members,
            known,
        }
    }

    #[inline(always)]
    fn known(&self, k: Known) -> Option<Value<'a>> {
        self.known[k as usize].get(self.bytes).map(Value::new)
    }

    /// What the message is; see [`Kind`] for the precedence.
    #[inline]
    pub fn kind(&self) -> Kind {
        let has = |k: Known| self.known[k as usize].start != u32::MAX;
        if has(Known::Qmp) {
            Kind::Greeting
        } else if has(Known::Event) {
            Kind::Event
        } else if has(Known::Error) {
            Kind::Error
        } else if has(Known::Return) {
            Kind::Return
        } else if has(Known::Execute) || has(Known::ExecOob) {
            Kind::Command
        } else {
            Kind::Unknown
        }
    }

    /// The `id` member's value, of any JSON type.
    #[inline]
    pub fn id(&self) -> Option<Value<'a>> {
        self.known(Known::Id)
    }

    /// The value of the top-level member `name`, compared against unescaped names.
    ///
    /// Top-level names are unique (duplicates are rejected by [`parse`](Self::parse), as
    /// QEMU does). QMP's own member names are found without walking the message.
    pub fn get(&self, name: &str) -> Option<Value<'a>> {
        if let Some(k) = Known::from_name(name.as_bytes()) {
            return self.known(k);
        }
        self.iter().find(|(k, _)| k.eq_str(name)).map(|(_, v)| v)
    }

    /// Whether the top-level member `name` exists.
    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The top-level members in document order.
    pub fn iter(&self) -> Members<'a> {
        self.as_value().members()
    }

    /// The number of top-level members.
    #[inline]
    pub fn len(&self) -> usize {
        self.members as usize
    }

    /// Whether the object has no members.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.members == 0
    }

    /// The exact input bytes, surrounding whitespace included.
    #[inline]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The message as a JSON object value (without surrounding whitespace).
    #[inline]
    pub fn as_value(&self) -> Value<'a> {
        Value::new(self.object.get(self.bytes).unwrap_or(b"{}"))
    }

    /// The string value of a top-level member, if it exists and is a string.
    pub fn get_str(&self, name: &str) -> Option<Str<'a>> {
        self.get(name)?.as_str()
    }

    /// The message printed as `json.dumps(obj, separators=(',', ':'))` does, as a `Display`.
    pub fn compact(&self) -> crate::json::Printed<'a> {
        self.as_value().display(Style::PYTHON_COMPACT)
    }
}

/// Where a parsed message's parts sit, without the bytes: lets the owner of the bytes (a
/// read buffer holding a step, `BytesMessage`) rebuild the view later without scanning them
/// again.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Layout {
    object: Span,
    members: u32,
    known: [Span; KNOWN_COUNT],
}

impl Layout {
    /// A layout that finds nothing: a view with no members, whatever its bytes.
    #[cfg(feature = "alloc")]
    pub(crate) const EMPTY: Layout = Layout {
        object: Span::NONE,
        members: 0,
        known: [Span::NONE; KNOWN_COUNT],
    };
}

impl<'a> Message<'a> {
    /// The scan results, to be paired again with the same bytes by [`Message::with_layout`].
    pub(crate) fn layout(&self) -> Layout {
        Layout {
            object: self.object,
            members: self.members,
            known: self.known,
        }
    }

    /// Rebuilds the view of `bytes` from the layout [`Message::layout`] gave for them.
    /// Other bytes give a wrong view but never a panic: every span is read with `get`.
    pub(crate) fn with_layout(bytes: &'a [u8], layout: Layout) -> Message<'a> {
        Message {
            bytes,
            object: layout.object,
            members: layout.members,
            known: layout.known,
        }
    }
}

impl<'a> IntoIterator for &Message<'a> {
    type Item = (Str<'a>, Value<'a>);
    type IntoIter = Members<'a>;
    fn into_iter(self) -> Members<'a> {
        self.iter()
    }
}

impl fmt::Debug for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("kind", &self.kind())
            .field("value", &crate::json::print::Compact::new(self.as_value()))
            .finish()
    }
}

impl fmt::Display for Message<'_> {
    /// Prints exactly what Python's `str(Message)` prints: `json.dumps(obj, indent=2)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_value().write_to(Style::PYTHON_PRETTY, f)
    }
}

impl PartialEq for Message<'_> {
    /// Messages are equal when their input bytes are.
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}
