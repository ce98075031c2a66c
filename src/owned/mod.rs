//! Owned, mutable messages (feature `alloc`): `qemu.qmp`'s `Message` mapping.

#[cfg(feature = "bytes")]
mod bytes;
mod error;
mod value;

#[cfg(feature = "bytes")]
pub use self::bytes::BytesMessage;
pub use self::error::OwnedParseError;
pub use self::value::OwnedValue;

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::json::print::{print, write_str_escaped};
use crate::json::{Style, Value};
use crate::limits::Limits;
use crate::message::{Kind, Layout, Message};
use crate::model::{Classified, ModelError};

/// An owned, mutable QMP message: a JSON object as an ordered map, like `qemu.qmp`'s
/// `Message`.
///
/// Members keep document order; [`insert`](Self::insert) replaces a value in place or
/// appends a new member, as a Python `dict` does. [`to_bytes`](Self::to_bytes) gives the
/// bytes it was parsed from until the message changes, then the compact form
/// `json.dumps(obj, separators=(',', ':'))`; `Display` prints `json.dumps(obj, indent=2)`.
///
/// ```
/// use qmp_codec::{Message, OwnedMessage};
/// let mut msg = OwnedMessage::parse(b"{\"execute\": \"query-status\"}\r\n")?;
/// assert_eq!(&*msg.to_bytes(), b"{\"execute\": \"query-status\"}\r\n");
/// msg.insert("id", "caf\u{e9}");
/// assert_eq!(&*msg.to_bytes(), br#"{"execute":"query-status","id":"caf\u00e9"}"#);
/// assert_eq!(msg.get("id").unwrap().as_str().unwrap(), "café");
/// // A borrowed view of the new bytes, e.g. for the models:
/// let bytes = msg.to_bytes();
/// assert_eq!(Message::parse(&bytes).unwrap().len(), 2);
/// # Ok::<(), qmp_codec::OwnedParseError>(())
/// ```
#[derive(Clone)]
pub struct OwnedMessage {
    members: Vec<(String, OwnedValue)>,
    /// The bytes parsed while the message is unchanged, then its compact form, kept up to
    /// date, with where their parts sit: the borrowed view ([`message`](Self::message))
    /// costs nothing.
    bytes: Vec<u8>,
    layout: Layout,
}

impl Default for OwnedMessage {
    fn default() -> Self {
        let mut msg = OwnedMessage {
            members: Vec::new(),
            bytes: Vec::new(),
            layout: Layout::EMPTY,
        };
        msg.changed();
        msg
    }
}

impl OwnedMessage {
    /// An empty message, `{}`.
    pub fn new() -> OwnedMessage {
        OwnedMessage::default()
    }

    /// Parses and validates a message, keeping a copy of `bytes` for
    /// [`to_bytes`](Self::to_bytes). Fails as [`Message::parse`] does.
    pub fn parse(bytes: &[u8]) -> Result<OwnedMessage, OwnedParseError> {
        OwnedMessage::parse_with(bytes, &Limits::new())
    }

    /// Like [`parse`](Self::parse), with the given limits.
    pub fn parse_with(bytes: &[u8], limits: &Limits) -> Result<OwnedMessage, OwnedParseError> {
        Ok(OwnedMessage::from(Message::parse_with(bytes, limits)?))
    }

    /// The value of the member `key`.
    pub fn get(&self, key: &str) -> Option<Value<'_>> {
        self.position(key)
            .and_then(|i| self.members.get(i))
            .map(|(_, v)| v.value())
    }

    /// Whether the member `key` exists.
    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// Sets the member `key`, in place if it exists (returning the old value), else at the
    /// end. The message no longer has its original bytes.
    pub fn insert(
        &mut self,
        key: impl Into<String>,
        value: impl Into<OwnedValue>,
    ) -> Option<OwnedValue> {
        let key = key.into();
        let value = value.into();
        let old = self.insert_member(key, value);
        self.changed();
        old
    }

    fn insert_member(&mut self, key: String, value: OwnedValue) -> Option<OwnedValue> {
        match self.position(&key).and_then(|i| self.members.get_mut(i)) {
            Some((_, old)) => Some(core::mem::replace(old, value)),
            None => {
                self.members.push((key, value));
                None
            }
        }
    }

    /// Removes the member `key`, keeping the order of the others. Removing nothing leaves
    /// the message unchanged (its original bytes included).
    pub fn remove(&mut self, key: &str) -> Option<OwnedValue> {
        let i = self.position(key)?;
        let old = self.members.remove(i).1;
        self.changed();
        Some(old)
    }

    /// The members in order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            inner: self.members.iter(),
        }
    }

    /// The number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether there are no members.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Python's `bytes(msg)`: the parsed bytes while unchanged, else the compact form.
    pub fn to_bytes(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.bytes)
    }

    /// The compact form `json.dumps(obj, separators=(',', ':'))`, whatever the original
    /// bytes were.
    pub fn compact_string(&self) -> String {
        let mut out = String::new();
        // Writing into a `String` cannot fail.
        let _ = self.write_compact(&mut out);
        out
    }

    fn write_compact<O: fmt::Write + ?Sized>(&self, out: &mut O) -> fmt::Result {
        out.write_str("{")?;
        for (i, (key, value)) in self.members.iter().enumerate() {
            if i > 0 {
                out.write_str(",")?;
            }
            write_str_escaped(out, key, false)?;
            out.write_str(":")?;
            print(value.as_bytes(), &Style::PYTHON_COMPACT, out)?;
        }
        out.write_str("}")
    }

    /// The message as a borrowed [`Message`] view, for the models and everything else
    /// that works on views: over the original bytes while unchanged, else over the compact
    /// form. Nothing is scanned.
    pub fn message(&self) -> Message<'_> {
        Message::with_layout(&self.bytes, self.layout)
    }

    /// After a change: the compact form becomes the bytes.
    fn changed(&mut self) {
        self.bytes = self.compact_string().into_bytes();
        let layout = Message::parse(&self.bytes).map(|m| m.layout());
        debug_assert!(layout.is_ok(), "an owned message that does not parse");
        // Cannot fail: owned messages are valid objects with unique names.
        self.layout = layout.unwrap_or(Layout::EMPTY);
    }

    /// What the message is, as [`Message::kind`] says.
    pub fn kind(&self) -> Kind {
        self.message().kind()
    }

    /// The `id` member, of any JSON type.
    pub fn id(&self) -> Option<Value<'_>> {
        self.get("id")
    }

    /// The typed model of the message, as [`Message::classify`] gives it.
    pub fn classify(&self) -> Result<Classified<'_>, ModelError<'_>> {
        self.message().classify()
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.members.iter().position(|(k, _)| k == key)
    }
}

impl From<Message<'_>> for OwnedMessage {
    fn from(message: Message<'_>) -> Self {
        OwnedMessage {
            members: message
                .iter()
                .map(|(k, v)| (k.to_cow().into_owned(), OwnedValue::from(v)))
                .collect(),
            bytes: message.as_bytes().to_vec(),
            layout: message.layout(),
        }
    }
}

impl<'a> Message<'a> {
    /// Copies the message into an [`OwnedMessage`] (feature `alloc`).
    ///
    /// Not named `to_owned`: `Message` is `Clone`, so `ToOwned::to_owned` already exists
    /// and gives a `Message`.
    pub fn to_owned_message(&self) -> OwnedMessage {
        OwnedMessage::from(*self)
    }
}

impl<K: Into<String>, V: Into<OwnedValue>> FromIterator<(K, V)> for OwnedMessage {
    /// Builds a message from pairs; a repeated key keeps its first place and last value.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut msg = OwnedMessage::new();
        msg.extend(iter);
        msg
    }
}

impl<K: Into<String>, V: Into<OwnedValue>> Extend<(K, V)> for OwnedMessage {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert_member(k.into(), v.into());
        }
        self.changed();
    }
}

impl<'a> IntoIterator for &'a OwnedMessage {
    type Item = (&'a str, Value<'a>);
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl fmt::Debug for OwnedMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl fmt::Display for OwnedMessage {
    /// Python's `str(msg)`: `json.dumps(obj, indent=2)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let compact = self.compact_string();
        Value::new(compact.as_bytes()).write_to(Style::PYTHON_PRETTY, f)
    }
}

/// The members of an [`OwnedMessage`] in order, as `(name, value)`.
#[derive(Clone, Debug)]
pub struct Iter<'a> {
    inner: core::slice::Iter<'a, (String, OwnedValue)>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a str, Value<'a>);
    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|(k, v)| (k.as_str(), v.value()))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl ExactSizeIterator for Iter<'_> {}
impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.inner.next_back().map(|(k, v)| (k.as_str(), v.value()))
    }
}
impl core::iter::FusedIterator for Iter<'_> {}
