//! serde's `Deserializer` over a validated [`Value`]: nothing is validated twice, strings
//! without escapes are borrowed, and nesting is bounded by a depth counter.

use serde::de::{self, DeserializeSeed, Expected, IntoDeserializer, Unexpected, Visitor};

use crate::json::{Elements, Members, Str, Value, ValueKind};
use crate::message::Message;
use crate::serde::error::{Error, ErrorKind};
use crate::serde::number::{self, Number};
use crate::serde::value::VALUE_TOKEN;

/// The default [`Deserializer::with_max_depth`]: 128 nested arrays/objects, as serde_json.
pub const DEFAULT_SERDE_DEPTH: usize = 128;

/// Without the `alloc` feature, escaped strings are unescaped into a stack buffer of this
/// many bytes; longer ones fail with [`ErrorKind::StringTooLong`]. With `alloc` they become
/// a `String` of any length. Strings without escapes are always borrowed, whatever their length.
pub const UNESCAPE_BUFFER: usize = 256;

/// A serde [`Deserializer`](serde::Deserializer) over one [`Value`].
///
/// It walks the already-validated bytes: nothing is scanned again except to find where
/// each element ends. Strings without escapes reach the visitor as borrowed `&'a str`
/// (`visit_borrowed_str`), so targets can hold `&'a str` fields.
///
/// serde's derived code recurses once per nesting level of the *target type*; each array
/// or object entered costs one level of [`with_max_depth`](Self::with_max_depth)
/// (default [`DEFAULT_SERDE_DEPTH`], 128), so deeply nested input (the scanner allows 1024
/// levels by default) fails with [`ErrorKind::DepthLimit`] instead of exhausting the stack.
///
/// ```
/// use qmp_codec::{serde::Deserializer, Message};
/// use serde::Deserialize;
/// let msg = Message::parse(br#"{"return": [[1, 2], [3]]}"#)?;
/// let de = Deserializer::new(msg.get("return").unwrap()).with_max_depth(1);
/// assert!(Vec::<Vec<u8>>::deserialize(de).is_err());
/// # Ok::<(), qmp_codec::ParseError>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Deserializer<'a> {
    value: Value<'a>,
    /// Arrays/objects that may still be entered.
    depth: usize,
    /// The address that error offsets count from.
    base: usize,
}

impl<'a> Deserializer<'a> {
    /// A deserializer for `value`; error offsets count from the value's first byte.
    pub fn new(value: Value<'a>) -> Self {
        Deserializer {
            value,
            depth: DEFAULT_SERDE_DEPTH,
            base: value.raw().as_ptr() as usize,
        }
    }

    /// A deserializer for the whole message object; error offsets count from the first
    /// byte of [`Message::as_bytes`].
    pub fn from_message(message: &Message<'a>) -> Self {
        Deserializer {
            value: message.as_value(),
            depth: DEFAULT_SERDE_DEPTH,
            base: message.as_bytes().as_ptr() as usize,
        }
    }

    /// Sets how many nested arrays/objects may be entered (the outermost counts as 1).
    ///
    /// Default [`DEFAULT_SERDE_DEPTH`] (128). Each level costs stack in serde's derived code
    /// (about 4 KiB in debug builds, under 1 KiB in release); raise it only with stack to
    /// match, lower it for small stacks.
    pub const fn with_max_depth(mut self, depth: usize) -> Self {
        self.depth = depth;
        self
    }

    /// The value this deserializer reads.
    pub const fn value(&self) -> Value<'a> {
        self.value
    }

    fn offset(&self) -> usize {
        offset_of(self.value.raw(), self.base)
    }

    fn with_value(&self, value: Value<'a>) -> Self {
        Deserializer { value, ..*self }
    }

    /// The template for the children of the container being entered, or the depth error.
    fn enter(&self) -> Result<Self, Error> {
        match self.depth.checked_sub(1) {
            Some(depth) => Ok(Deserializer { depth, ..*self }),
            None => Err(Error::new(ErrorKind::DepthLimit)),
        }
    }

    fn unexpected(&self) -> Unexpected<'a> {
        let raw = self.value.raw();
        match self.value.kind() {
            ValueKind::Object => Unexpected::Map,
            ValueKind::Array => Unexpected::Seq,
            ValueKind::Bool => Unexpected::Bool(raw == b"true"),
            ValueKind::Null => Unexpected::Unit,
            ValueKind::String => match self.value.as_str().and_then(|s| s.as_borrowed()) {
                Some(s) => Unexpected::Str(s),
                None => Unexpected::Other("escaped string"),
            },
            ValueKind::Number => match number::classify(raw) {
                Some(Number::Unsigned(u)) => match u64::try_from(u) {
                    Ok(u) => Unexpected::Unsigned(u),
                    Err(_) => Unexpected::Other("128-bit integer"),
                },
                Some(Number::Negative(i)) => match i64::try_from(i) {
                    Ok(i) => Unexpected::Signed(i),
                    Err(_) => Unexpected::Other("128-bit integer"),
                },
                _ => match number::to_f64(raw) {
                    Some(f) => Unexpected::Float(f),
                    None => Unexpected::Other("number"),
                },
            },
        }
    }

    fn invalid_type(&self, exp: &dyn Expected) -> Error {
        de::Error::invalid_type(self.unexpected(), exp)
    }

    fn integer<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer_of(false, visitor)
    }

    fn integer128<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer_of(true, visitor)
    }

    fn integer_of<V: Visitor<'a>>(self, wide: bool, visitor: V) -> Result<V::Value, Error> {
        if self.value.kind() != ValueKind::Number {
            return Err(self.invalid_type(&visitor));
        }
        match number::classify(self.value.raw()) {
            Some(Number::Float) | None => Err(self.invalid_type(&visitor)),
            Some(n) => visit_integer(n, wide, visitor),
        }
    }

    fn any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        let raw = self.value.raw();
        match self.value.kind() {
            ValueKind::Object => self.map(visitor),
            ValueKind::Array => self.seq(visitor),
            ValueKind::String => self.string(visitor),
            ValueKind::Bool => visitor.visit_bool(raw == b"true"),
            ValueKind::Null => visitor.visit_unit(),
            ValueKind::Number => match number::classify(raw) {
                // `-0` is the float -0.0, as in serde_json and QEMU (which echoes it).
                Some(Number::Unsigned(0)) if raw.first() == Some(&b'-') => visitor.visit_f64(-0.0),
                Some(Number::Unsigned(u)) if u <= u128::from(u64::MAX) => {
                    visitor.visit_u64(u as u64)
                }
                Some(Number::Negative(i)) if i >= i128::from(i64::MIN) => {
                    visitor.visit_i64(i as i64)
                }
                _ => match number::to_f64(raw) {
                    Some(f) => visitor.visit_f64(f),
                    None => Err(Error::new(ErrorKind::NotFinite)),
                },
            },
        }
    }

    fn string<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value.as_str() {
            Some(s) => visit_str(s, visitor),
            None => Err(self.invalid_type(&visitor)),
        }
    }

    fn bytes<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value.kind() {
            ValueKind::String => {
                let s = self.value.as_str().unwrap_or(Str::new(b"", false));
                if !s.has_escapes() {
                    return visitor.visit_borrowed_bytes(s.raw());
                }
                #[cfg(feature = "alloc")]
                {
                    let mut out = alloc::string::String::with_capacity(s.raw().len());
                    out.extend(s.chars());
                    visitor.visit_byte_buf(out.into_bytes())
                }
                #[cfg(not(feature = "alloc"))]
                {
                    let mut buf = [0u8; UNESCAPE_BUFFER];
                    match s.unescape_into(&mut buf) {
                        Ok(t) => visitor.visit_bytes(t.as_bytes()),
                        Err(e) => Err(Error::new(ErrorKind::StringTooLong {
                            required: e.required,
                        })),
                    }
                }
            }
            ValueKind::Array => self.seq(visitor),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn seq<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.value.kind() != ValueKind::Array {
            return Err(self.invalid_type(&visitor));
        }
        let mut access = SeqAccess {
            elements: self.value.elements(),
            de: self.enter()?,
            count: 0,
        };
        let out = visitor.visit_seq(&mut access)?;
        let rest = access.elements.count();
        if rest == 0 {
            Ok(out)
        } else {
            Err(de::Error::invalid_length(
                access.count + rest,
                &"fewer elements in array",
            ))
        }
    }

    fn map<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.value.kind() != ValueKind::Object {
            return Err(self.invalid_type(&visitor));
        }
        let mut access = MapAccess {
            members: self.value.members(),
            de: self.enter()?,
            value: None,
            count: 0,
        };
        let out = visitor.visit_map(&mut access)?;
        let rest = access.members.count();
        if rest == 0 {
            Ok(out)
        } else {
            Err(de::Error::invalid_length(
                access.count + rest,
                &"fewer members in object",
            ))
        }
    }

    fn enumeration<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value.kind() {
            ValueKind::String => visitor.visit_enum(Enum {
                variant: self.value.as_str().unwrap_or(Str::new(b"", false)),
                payload: None,
                de: self,
            }),
            ValueKind::Object => {
                let de = self.enter()?;
                let mut members = self.value.members();
                match (members.next(), members.next()) {
                    (Some((variant, payload)), None) => visitor.visit_enum(Enum {
                        variant,
                        payload: Some(payload),
                        de,
                    }),
                    _ => Err(Error::new(ErrorKind::ExpectedEnum)),
                }
            }
            _ => Err(self.invalid_type(&visitor)),
        }
    }
}

/// Hands an integer to the visitor: as `u64`/`i64` when it fits, else as `u128`/`i128` for
/// the 128-bit targets (`wide`), else as an out-of-range error.
fn visit_integer<'a, V: Visitor<'a>>(n: Number, wide: bool, visitor: V) -> Result<V::Value, Error> {
    match n {
        Number::Unsigned(u) => match u64::try_from(u) {
            Ok(u) => visitor.visit_u64(u),
            Err(_) if wide => visitor.visit_u128(u),
            Err(_) => Err(de::Error::invalid_value(
                Unexpected::Other("integer above u64::MAX"),
                &visitor,
            )),
        },
        Number::Negative(i) => match i64::try_from(i) {
            Ok(i) => visitor.visit_i64(i),
            Err(_) if wide => visitor.visit_i128(i),
            Err(_) => Err(de::Error::invalid_value(
                Unexpected::Other("integer below i64::MIN"),
                &visitor,
            )),
        },
        Number::OutOfRange | Number::Float => Err(Error::new(ErrorKind::NumberOutOfRange)),
    }
}

/// The offset of `raw` from `base`: both point into the same input.
fn offset_of(raw: &[u8], base: usize) -> usize {
    (raw.as_ptr() as usize).wrapping_sub(base)
}

/// Hands a string to the visitor: borrowed when it has no escapes, else unescaped into a
/// `String` (with `alloc`) or a stack buffer of [`UNESCAPE_BUFFER`] bytes.
fn visit_str<'a, V: Visitor<'a>>(s: Str<'a>, visitor: V) -> Result<V::Value, Error> {
    if let Some(b) = s.as_borrowed() {
        return visitor.visit_borrowed_str(b);
    }
    #[cfg(feature = "alloc")]
    {
        let mut out = alloc::string::String::with_capacity(s.raw().len());
        out.extend(s.chars());
        visitor.visit_string(out)
    }
    #[cfg(not(feature = "alloc"))]
    {
        let mut buf = [0u8; UNESCAPE_BUFFER];
        match s.unescape_into(&mut buf) {
            Ok(t) => visitor.visit_str(t),
            Err(e) => Err(Error::new(ErrorKind::StringTooLong {
                required: e.required,
            })),
        }
    }
}

/// Implements the `deserialize_*` methods by calling `$body` and recording the value's
/// offset on errors that do not have one yet.
macro_rules! located {
    ($($method:ident($($arg:ident: $ty:ty),*) => $body:ident;)*) => {
        $(
            fn $method<V: Visitor<'a>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, Error> {
                $(let _ = $arg;)*
                let offset = self.offset();
                self.$body(visitor).map_err(|e| e.at(offset))
            }
        )*
    };
}

impl<'a> Deserializer<'a> {
    fn bool_<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value.as_bool() {
            Some(b) => visitor.visit_bool(b),
            None => Err(self.invalid_type(&visitor)),
        }
    }

    fn f32_<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.value.kind() != ValueKind::Number {
            return Err(self.invalid_type(&visitor));
        }
        match number::to_f32(self.value.raw()) {
            Some(f) => visitor.visit_f32(f),
            None => Err(Error::new(ErrorKind::NotFinite)),
        }
    }

    fn f64_<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.value.kind() != ValueKind::Number {
            return Err(self.invalid_type(&visitor));
        }
        match number::to_f64(self.value.raw()) {
            Some(f) => visitor.visit_f64(f),
            None => Err(Error::new(ErrorKind::NotFinite)),
        }
    }

    fn option_<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.value.is_null() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn unit_<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.value.is_null() {
            visitor.visit_unit()
        } else {
            Err(self.invalid_type(&visitor))
        }
    }

    fn struct_<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value.kind() {
            ValueKind::Array => self.seq(visitor),
            _ => self.map(visitor),
        }
    }

    fn ignored<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        // The value was validated; there is nothing to walk.
        visitor.visit_unit()
    }
}

impl<'a> de::Deserializer<'a> for Deserializer<'a> {
    type Error = Error;

    located! {
        deserialize_any() => any;
        deserialize_bool() => bool_;
        deserialize_i8() => integer;
        deserialize_i16() => integer;
        deserialize_i32() => integer;
        deserialize_i64() => integer;
        deserialize_i128() => integer128;
        deserialize_u8() => integer;
        deserialize_u16() => integer;
        deserialize_u32() => integer;
        deserialize_u64() => integer;
        deserialize_u128() => integer128;
        deserialize_f32() => f32_;
        deserialize_f64() => f64_;
        deserialize_char() => string;
        deserialize_str() => string;
        deserialize_string() => string;
        deserialize_bytes() => bytes;
        deserialize_byte_buf() => bytes;
        deserialize_option() => option_;
        deserialize_unit() => unit_;
        deserialize_unit_struct(name: &'static str) => unit_;
        deserialize_seq() => seq;
        deserialize_tuple(len: usize) => seq;
        deserialize_tuple_struct(name: &'static str, len: usize) => seq;
        deserialize_map() => map;
        deserialize_struct(name: &'static str, fields: &'static [&'static str]) => struct_;
        deserialize_enum(name: &'static str, variants: &'static [&'static str]) => enumeration;
        deserialize_identifier() => string;
        deserialize_ignored_any() => ignored;
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        if name == VALUE_TOKEN {
            // The private hand-off to `Value`'s `Deserialize`: the exact validated bytes.
            return visitor.visit_borrowed_bytes(self.value.raw());
        }
        let offset = self.offset();
        visitor.visit_newtype_struct(self).map_err(|e| e.at(offset))
    }
}

/// The elements of an array, each deserialized one level deeper.
struct SeqAccess<'a> {
    elements: Elements<'a>,
    de: Deserializer<'a>,
    count: usize,
}

impl<'a> de::SeqAccess<'a> for SeqAccess<'a> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'a>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        match self.elements.next() {
            Some(v) => {
                self.count += 1;
                seed.deserialize(self.de.with_value(v)).map(Some)
            }
            None => Ok(None),
        }
    }
}

/// The members of an object: names through [`KeyDeserializer`], values one level deeper.
struct MapAccess<'a> {
    members: Members<'a>,
    de: Deserializer<'a>,
    value: Option<Value<'a>>,
    count: usize,
}

impl<'a> de::MapAccess<'a> for MapAccess<'a> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        match self.members.next() {
            Some((key, value)) => {
                self.count += 1;
                self.value = Some(value);
                seed.deserialize(KeyDeserializer {
                    key,
                    base: self.de.base,
                })
                .map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<T: DeserializeSeed<'a>>(&mut self, seed: T) -> Result<T::Value, Error> {
        match self.value.take() {
            Some(v) => seed.deserialize(self.de.with_value(v)),
            None => Err(de::Error::custom("object value asked for before its name")),
        }
    }
}

/// An object member name (or enum variant name) as a serde deserializer: a string that can
/// also be read as an integer, float or bool (`{"1": …}` into a `BTreeMap<u32, _>`), as
/// serde_json allows.
struct KeyDeserializer<'a> {
    key: Str<'a>,
    base: usize,
}

impl<'a> KeyDeserializer<'a> {
    fn offset(&self) -> usize {
        // The opening quote precedes the name's body.
        offset_of(self.key.raw(), self.base).wrapping_sub(1)
    }

    fn invalid_type(&self, exp: &dyn Expected) -> Error {
        let unexp = match self.key.as_borrowed() {
            Some(s) => Unexpected::Str(s),
            None => Unexpected::Other("escaped string"),
        };
        de::Error::invalid_type(unexp, exp)
    }

    fn integer<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer_of(false, visitor)
    }

    fn integer128<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer_of(true, visitor)
    }

    fn integer_of<V: Visitor<'a>>(self, wide: bool, visitor: V) -> Result<V::Value, Error> {
        match number::classify(self.key.raw()) {
            Some(Number::Float) | None => Err(self.invalid_type(&visitor)),
            Some(n) => visit_integer(n, wide, visitor),
        }
    }

    fn float<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        let raw = self.key.raw();
        if number::classify(raw).is_none() {
            return Err(self.invalid_type(&visitor));
        }
        match number::to_f64(raw) {
            Some(f) => visitor.visit_f64(f),
            None => Err(Error::new(ErrorKind::NotFinite)),
        }
    }

    fn bool_<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.key.raw() {
            b"true" => visitor.visit_bool(true),
            b"false" => visitor.visit_bool(false),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn string<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        visit_str(self.key, visitor)
    }

    fn option_<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn enumeration<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_enum(UnitOnly { variant: self })
    }

    fn ignored<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }
}

impl<'a> de::Deserializer<'a> for KeyDeserializer<'a> {
    type Error = Error;

    located! {
        deserialize_any() => string;
        deserialize_bool() => bool_;
        deserialize_i8() => integer;
        deserialize_i16() => integer;
        deserialize_i32() => integer;
        deserialize_i64() => integer;
        deserialize_i128() => integer128;
        deserialize_u8() => integer;
        deserialize_u16() => integer;
        deserialize_u32() => integer;
        deserialize_u64() => integer;
        deserialize_u128() => integer128;
        deserialize_f32() => float;
        deserialize_f64() => float;
        deserialize_char() => string;
        deserialize_str() => string;
        deserialize_string() => string;
        deserialize_bytes() => string;
        deserialize_byte_buf() => string;
        deserialize_option() => option_;
        deserialize_unit() => string;
        deserialize_unit_struct(name: &'static str) => string;
        deserialize_seq() => string;
        deserialize_tuple(len: usize) => string;
        deserialize_tuple_struct(name: &'static str, len: usize) => string;
        deserialize_map() => string;
        deserialize_struct(name: &'static str, fields: &'static [&'static str]) => string;
        deserialize_enum(name: &'static str, variants: &'static [&'static str]) => enumeration;
        deserialize_identifier() => string;
        deserialize_ignored_any() => ignored;
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        let offset = self.offset();
        visitor.visit_newtype_struct(self).map_err(|e| e.at(offset))
    }
}

/// An externally tagged enum: the variant name, and the payload unless it is a bare string.
struct Enum<'a> {
    variant: Str<'a>,
    payload: Option<Value<'a>>,
    /// The template for the payload (one level deeper than the enclosing object).
    de: Deserializer<'a>,
}

impl<'a> de::EnumAccess<'a> for Enum<'a> {
    type Error = Error;
    type Variant = Variant<'a>;

    fn variant_seed<T: DeserializeSeed<'a>>(
        self,
        seed: T,
    ) -> Result<(T::Value, Variant<'a>), Error> {
        let name = seed.deserialize(KeyDeserializer {
            key: self.variant,
            base: self.de.base,
        })?;
        Ok((
            name,
            Variant {
                payload: self.payload,
                de: self.de,
            },
        ))
    }
}

/// The payload of a variant: absent for `"Unit"`, the member value for `{"Variant": …}`.
struct Variant<'a> {
    payload: Option<Value<'a>>,
    de: Deserializer<'a>,
}

impl<'a> de::VariantAccess<'a> for Variant<'a> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        match self.payload {
            None => Ok(()),
            Some(v) => de::Deserialize::deserialize(self.de.with_value(v)),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'a>>(self, seed: T) -> Result<T::Value, Error> {
        match self.payload {
            Some(v) => seed.deserialize(self.de.with_value(v)),
            None => Err(de::Error::invalid_type(
                Unexpected::UnitVariant,
                &"newtype variant",
            )),
        }
    }

    fn tuple_variant<V: Visitor<'a>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        match self.payload {
            Some(v) => de::Deserializer::deserialize_seq(self.de.with_value(v), visitor),
            None => Err(de::Error::invalid_type(
                Unexpected::UnitVariant,
                &"tuple variant",
            )),
        }
    }

    fn struct_variant<V: Visitor<'a>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.payload {
            Some(v) => {
                de::Deserializer::deserialize_struct(self.de.with_value(v), "", fields, visitor)
            }
            None => Err(de::Error::invalid_type(
                Unexpected::UnitVariant,
                &"struct variant",
            )),
        }
    }
}

/// An enum read from an object member name: only unit variants fit.
struct UnitOnly<'a> {
    variant: KeyDeserializer<'a>,
}

impl<'a> de::EnumAccess<'a> for UnitOnly<'a> {
    type Error = Error;
    type Variant = UnitOnly<'a>;

    fn variant_seed<T: DeserializeSeed<'a>>(self, seed: T) -> Result<(T::Value, Self), Error> {
        let key = KeyDeserializer {
            key: self.variant.key,
            base: self.variant.base,
        };
        Ok((seed.deserialize(key)?, self))
    }
}

impl<'a> de::VariantAccess<'a> for UnitOnly<'a> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'a>>(self, _seed: T) -> Result<T::Value, Error> {
        Err(de::Error::invalid_type(
            Unexpected::UnitVariant,
            &"newtype variant",
        ))
    }

    fn tuple_variant<V: Visitor<'a>>(self, _len: usize, _visitor: V) -> Result<V::Value, Error> {
        Err(de::Error::invalid_type(
            Unexpected::UnitVariant,
            &"tuple variant",
        ))
    }

    fn struct_variant<V: Visitor<'a>>(
        self,
        _fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Error> {
        Err(de::Error::invalid_type(
            Unexpected::UnitVariant,
            &"struct variant",
        ))
    }
}

/// Forwards every `deserialize_*` method of `Value` to a fresh [`Deserializer`].
macro_rules! forward_to_deserializer {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {
        $(
            fn $method<V: Visitor<'a>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, Error> {
                Deserializer::new(self).$method($($arg,)* visitor)
            }
        )*
    };
}

/// A `Value` is itself a deserializer, with the defaults of [`Deserializer::new`].
impl<'a> de::Deserializer<'a> for Value<'a> {
    type Error = Error;

    forward_to_deserializer! {
        deserialize_any();
        deserialize_bool();
        deserialize_i8();
        deserialize_i16();
        deserialize_i32();
        deserialize_i64();
        deserialize_i128();
        deserialize_u8();
        deserialize_u16();
        deserialize_u32();
        deserialize_u64();
        deserialize_u128();
        deserialize_f32();
        deserialize_f64();
        deserialize_char();
        deserialize_str();
        deserialize_string();
        deserialize_bytes();
        deserialize_byte_buf();
        deserialize_option();
        deserialize_unit();
        deserialize_unit_struct(name: &'static str);
        deserialize_newtype_struct(name: &'static str);
        deserialize_seq();
        deserialize_tuple(len: usize);
        deserialize_tuple_struct(name: &'static str, len: usize);
        deserialize_map();
        deserialize_struct(name: &'static str, fields: &'static [&'static str]);
        deserialize_enum(name: &'static str, variants: &'static [&'static str]);
        deserialize_identifier();
        deserialize_ignored_any();
    }
}

impl<'a> IntoDeserializer<'a, Error> for Value<'a> {
    type Deserializer = Deserializer<'a>;

    fn into_deserializer(self) -> Deserializer<'a> {
        Deserializer::new(self)
    }
}

impl<'a> IntoDeserializer<'a, Error> for Deserializer<'a> {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}
