//! `Value<'a>` as a field of a deserialized type.

use core::fmt;

use serde::de::{self, Deserialize, Visitor};

use crate::json::Value;

/// The newtype name by which `Value`'s `Deserialize` asks this crate's deserializer for the
/// raw bytes, as serde_json's `RawValue` does.
pub(crate) const VALUE_TOKEN: &str = "$qmp_codec::private::Value";

/// A [`Value`] field borrows its exact bytes from the input, without copying or checking
/// them again.
///
/// This works only under this crate's deserializer ([`from_value`](crate::serde::from_value),
/// [`from_message`](crate::serde::from_message)), and not inside `#[serde(flatten)]`, untagged or
/// internally tagged enums (serde buffers those values and the bytes are gone); other
/// deserializers get [`ErrorKind::ValueOutsideQmpCodec`](crate::serde::ErrorKind).
///
/// ```
/// use qmp_codec::{Message, Value};
/// #[derive(serde::Deserialize)]
/// struct Command<'a> {
///     execute: &'a str,
///     #[serde(borrow)] // serde's derive cannot tell that `Value<'a>` borrows
///     arguments: Option<Value<'a>>,
/// }
/// let msg = Message::parse(br#"{"execute": "blockdev-add", "arguments": {"node-name": "n0"}}"#)?;
/// let cmd: Command = msg.deserialize().unwrap();
/// assert_eq!(cmd.execute, "blockdev-add");
/// assert_eq!(cmd.arguments.unwrap().raw(), br#"{"node-name": "n0"}"#);
/// # Ok::<(), qmp_codec::ParseError>(())
/// ```
impl<'de: 'a, 'a> Deserialize<'de> for Value<'a> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_newtype_struct(VALUE_TOKEN, ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value read by qmp_codec's deserializer")
    }

    fn visit_borrowed_bytes<E: de::Error>(self, raw: &'de [u8]) -> Result<Value<'de>, E> {
        // Only `Deserializer::deserialize_newtype_struct` answers `VALUE_TOKEN` with bytes,
        // and it passes a validated value's exact bytes. (Value's methods never panic even
        // on bytes that are not, so a foreign deserializer cannot cause more than garbage.)
        Ok(Value::new(raw))
    }

    fn visit_newtype_struct<D: de::Deserializer<'de>>(self, _d: D) -> Result<Value<'de>, D::Error> {
        Err(de::Error::custom(
            crate::serde::ErrorKind::ValueOutsideQmpCodec.as_str(),
        ))
    }
}
