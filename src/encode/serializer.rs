//! A `serde` serializer that writes JSON into a byte sink, without allocating.
//!
//! `serde-json-core` 0.7 is not used for this: it writes `null` for NaN, panics
//! (`unreachable!`) on `char`, tuple variants and `Error::custom`, writes bytes raw and
//! non-string map keys unquoted, and can only write into a slice.

use core::fmt::{self, Write as _};

use serde::ser::{self, Impossible, Serialize};

use crate::encode::escape::Escape;
use crate::encode::{EncodeError, Layout};
use crate::json::number::{write_g17, write_python_float};
use crate::json::print::put_str_escaped;
use crate::json::sink::{put_i64, put_u64, Sink, SinkFmt};

impl ser::Error for EncodeError {
    fn custom<T: fmt::Display>(_msg: T) -> Self {
        EncodeError::Custom
    }
}

/// Serializes `value` into `w` in `layout`; `object_only` refuses a non-object top level.
pub(crate) fn serialize<T: Serialize + ?Sized, W: Sink + ?Sized>(
    value: &T,
    layout: Layout,
    object_only: bool,
    w: &mut W,
) -> Result<(), EncodeError> {
    let mut s = JsonSerializer {
        w,
        layout,
        object_only,
        writes: 0,
    };
    value.serialize(&mut s)?;
    if s.writes == 0 {
        return Err(EncodeError::Unsupported);
    }
    Ok(())
}

struct JsonSerializer<'w, W: ?Sized> {
    w: &'w mut W,
    layout: Layout,
    /// Set until the first container opens: the top level must then be an object.
    object_only: bool,
    /// Counts writes, to catch a `Serialize` impl that writes nothing for a value.
    writes: usize,
}

impl<W: Sink + ?Sized> JsonSerializer<'_, W> {
    #[inline]
    fn put(&mut self, s: &str) -> Result<(), EncodeError> {
        self.writes += 1;
        self.w.put(s.as_bytes())?;
        Ok(())
    }

    fn scalar(&mut self, found: &'static str) -> Result<(), EncodeError> {
        if self.object_only {
            return Err(EncodeError::ArgumentsNotObject { found });
        }
        Ok(())
    }

    fn open(&mut self, s: &str, is_object: bool) -> Result<(), EncodeError> {
        if !is_object {
            self.scalar("array")?;
        }
        self.object_only = false;
        self.put(s)
    }

    fn display(&mut self, v: impl fmt::Display) -> Result<(), EncodeError> {
        self.scalar("number")?;
        self.writes += 1;
        write!(SinkFmt(self.w), "{v}")?;
        Ok(())
    }

    #[inline]
    fn int(&mut self, v: i64) -> Result<(), EncodeError> {
        self.scalar("number")?;
        self.writes += 1;
        put_i64(self.w, v)?;
        Ok(())
    }

    #[inline]
    fn uint(&mut self, v: u64) -> Result<(), EncodeError> {
        self.scalar("number")?;
        self.writes += 1;
        put_u64(self.w, v)?;
        Ok(())
    }

    fn string(&mut self, s: &str) -> Result<(), EncodeError> {
        self.scalar("string")?;
        self.writes += 1;
        put_str_escaped(self.w, s, self.layout.upper_hex())?;
        Ok(())
    }

    fn float(&mut self, v: f64) -> Result<(), EncodeError> {
        self.scalar("number")?;
        if !v.is_finite() {
            return Err(EncodeError::NonFiniteFloat);
        }
        self.writes += 1;
        match self.layout {
            Layout::Compact => write_python_float(v, self.w)?,
            Layout::Qemu => write_g17(v, self.w)?,
        }
        Ok(())
    }

    fn element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), EncodeError> {
        let before = self.writes;
        v.serialize(&mut *self)?;
        if self.writes == before {
            return Err(EncodeError::Unsupported);
        }
        Ok(())
    }

    fn key(&mut self, name: &str) -> Result<(), EncodeError> {
        self.writes += 1;
        put_str_escaped(self.w, name, self.layout.upper_hex())?;
        let colon = self.layout.colon();
        self.put(colon)
    }
}

/// A container being serialized.
struct Compound<'s, 'w, W: ?Sized> {
    ser: &'s mut JsonSerializer<'w, W>,
    first: bool,
    close: &'static str,
}

impl<W: Sink + ?Sized> Compound<'_, '_, W> {
    fn comma(&mut self) -> Result<(), EncodeError> {
        if !self.first {
            let comma = self.ser.layout.comma();
            self.ser.put(comma)?;
        }
        self.first = false;
        Ok(())
    }

    fn element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), EncodeError> {
        self.comma()?;
        self.ser.element(v)
    }

    fn field<T: Serialize + ?Sized>(&mut self, k: &str, v: &T) -> Result<(), EncodeError> {
        self.comma()?;
        self.ser.key(k)?;
        self.ser.element(v)
    }

    fn finish(self) -> Result<(), EncodeError> {
        self.ser.put(self.close)
    }
}

impl<'s, 'w, W: Sink + ?Sized> ser::Serializer for &'s mut JsonSerializer<'w, W> {
    type Ok = ();
    type Error = EncodeError;
    type SerializeSeq = Compound<'s, 'w, W>;
    type SerializeTuple = Compound<'s, 'w, W>;
    type SerializeTupleStruct = Compound<'s, 'w, W>;
    type SerializeTupleVariant = Compound<'s, 'w, W>;
    type SerializeMap = Compound<'s, 'w, W>;
    type SerializeStruct = Compound<'s, 'w, W>;
    type SerializeStructVariant = Compound<'s, 'w, W>;

    fn serialize_bool(self, v: bool) -> Result<(), EncodeError> {
        self.scalar("bool")?;
        self.put(if v { "true" } else { "false" })
    }
    fn serialize_i8(self, v: i8) -> Result<(), EncodeError> {
        self.int(i64::from(v))
    }
    fn serialize_i16(self, v: i16) -> Result<(), EncodeError> {
        self.int(i64::from(v))
    }
    fn serialize_i32(self, v: i32) -> Result<(), EncodeError> {
        self.int(i64::from(v))
    }
    fn serialize_i64(self, v: i64) -> Result<(), EncodeError> {
        self.int(v)
    }
    fn serialize_i128(self, v: i128) -> Result<(), EncodeError> {
        self.display(v)
    }
    fn serialize_u8(self, v: u8) -> Result<(), EncodeError> {
        self.uint(u64::from(v))
    }
    fn serialize_u16(self, v: u16) -> Result<(), EncodeError> {
        self.uint(u64::from(v))
    }
    fn serialize_u32(self, v: u32) -> Result<(), EncodeError> {
        self.uint(u64::from(v))
    }
    fn serialize_u64(self, v: u64) -> Result<(), EncodeError> {
        self.uint(v)
    }
    fn serialize_u128(self, v: u128) -> Result<(), EncodeError> {
        self.display(v)
    }
    fn serialize_f32(self, v: f32) -> Result<(), EncodeError> {
        self.float(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<(), EncodeError> {
        self.float(v)
    }
    fn serialize_char(self, v: char) -> Result<(), EncodeError> {
        let mut b = [0u8; 4];
        self.string(v.encode_utf8(&mut b))
    }
    fn serialize_str(self, v: &str) -> Result<(), EncodeError> {
        self.string(v)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), EncodeError> {
        let mut seq = ser::Serializer::serialize_seq(self, Some(v.len()))?;
        for b in v {
            ser::SerializeSeq::serialize_element(&mut seq, b)?;
        }
        ser::SerializeSeq::end(seq)
    }
    fn serialize_none(self) -> Result<(), EncodeError> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), EncodeError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), EncodeError> {
        self.scalar("null")?;
        self.put("null")
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), EncodeError> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), EncodeError> {
        self.string(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        let mut c = self.serialize_map(Some(1))?;
        c.field(variant, value)?;
        c.finish()
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, EncodeError> {
        self.open("[", false)?;
        Ok(Compound {
            ser: self,
            first: true,
            close: "]",
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, EncodeError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, EncodeError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, EncodeError> {
        self.open("{", true)?;
        self.key(variant)?;
        self.put("[")?;
        Ok(Compound {
            ser: self,
            first: true,
            close: "]}",
        })
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, EncodeError> {
        self.open("{", true)?;
        Ok(Compound {
            ser: self,
            first: true,
            close: "}",
        })
    }
    fn serialize_struct(
        self,
        _: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, EncodeError> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, EncodeError> {
        self.open("{", true)?;
        self.key(variant)?;
        self.put("{")?;
        Ok(Compound {
            ser: self,
            first: true,
            close: "}}",
        })
    }
    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result<(), EncodeError> {
        self.scalar("string")?;
        self.put("\"")?;
        let upper = self.layout.upper_hex();
        write!(Escape { w: self.w, upper }, "{value}")?;
        self.put("\"")
    }
}

impl<W: Sink + ?Sized> ser::SerializeSeq for Compound<'_, '_, W> {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), EncodeError> {
        self.element(v)
    }
    fn end(self) -> Result<(), EncodeError> {
        self.finish()
    }
}

impl<W: Sink + ?Sized> ser::SerializeTuple for Compound<'_, '_, W> {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), EncodeError> {
        self.element(v)
    }
    fn end(self) -> Result<(), EncodeError> {
        self.finish()
    }
}

impl<W: Sink + ?Sized> ser::SerializeTupleStruct for Compound<'_, '_, W> {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), EncodeError> {
        self.element(v)
    }
    fn end(self) -> Result<(), EncodeError> {
        self.finish()
    }
}

impl<W: Sink + ?Sized> ser::SerializeTupleVariant for Compound<'_, '_, W> {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), EncodeError> {
        self.element(v)
    }
    fn end(self) -> Result<(), EncodeError> {
        self.finish()
    }
}

impl<W: Sink + ?Sized> ser::SerializeMap for Compound<'_, '_, W> {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), EncodeError> {
        self.comma()?;
        key.serialize(KeySerializer {
            ser: &mut *self.ser,
        })?;
        let colon = self.ser.layout.colon();
        self.ser.put(colon)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), EncodeError> {
        self.ser.element(v)
    }
    fn end(self) -> Result<(), EncodeError> {
        self.finish()
    }
}

impl<W: Sink + ?Sized> ser::SerializeStruct for Compound<'_, '_, W> {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), EncodeError> {
        self.field(key, v)
    }
    fn end(self) -> Result<(), EncodeError> {
        self.finish()
    }
}

impl<W: Sink + ?Sized> ser::SerializeStructVariant for Compound<'_, '_, W> {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), EncodeError> {
        self.field(key, v)
    }
    fn end(self) -> Result<(), EncodeError> {
        self.finish()
    }
}

/// Serializes a map key: strings as they are; chars, integers and booleans quoted.
struct KeySerializer<'s, 'w, W: ?Sized> {
    ser: &'s mut JsonSerializer<'w, W>,
}

impl<W: Sink + ?Sized> KeySerializer<'_, '_, W> {
    fn quoted(self, v: impl fmt::Display) -> Result<(), EncodeError> {
        self.ser.writes += 1;
        write!(SinkFmt(self.ser.w), "\"{v}\"")?;
        Ok(())
    }
    fn string(self, s: &str) -> Result<(), EncodeError> {
        self.ser.writes += 1;
        put_str_escaped(self.ser.w, s, self.ser.layout.upper_hex())?;
        Ok(())
    }
}

type NoKey = Impossible<(), EncodeError>;

impl<W: Sink + ?Sized> ser::Serializer for KeySerializer<'_, '_, W> {
    type Ok = ();
    type Error = EncodeError;
    type SerializeSeq = NoKey;
    type SerializeTuple = NoKey;
    type SerializeTupleStruct = NoKey;
    type SerializeTupleVariant = NoKey;
    type SerializeMap = NoKey;
    type SerializeStruct = NoKey;
    type SerializeStructVariant = NoKey;

    fn serialize_bool(self, v: bool) -> Result<(), EncodeError> {
        self.quoted(v)
    }
    fn serialize_i8(self, v: i8) -> Result<(), EncodeError> {
        self.quoted(v)
    }
    fn serialize_i16(self, v: i16) -> Result<(), EncodeError> {
        self.quoted(v)
    }
    fn serialize_i32(self, v: i32) -> Result<(), EncodeError> {
        self.quoted(v)
    }
    fn serialize_i64(self, v: i64) -> Result<(), EncodeError> {
        self.quoted(v)
    }
    fn serialize_i128(self, v: i128) -> Result<(), EncodeError> {
        self.quoted(v)
    }
    fn serialize_u8(self, v: u8) -> Result<(), EncodeError> {
        self.quoted(v)
    }
    fn serialize_u16(self, v: u16) -> Result<(), EncodeError> {
        self.quoted(v)
    }
    fn serialize_u32(self, v: u32) -> Result<(), EncodeError> {
        self.quoted(v)
    }
    fn serialize_u64(self, v: u64) -> Result<(), EncodeError> {
        self.quoted(v)
    }
    fn serialize_u128(self, v: u128) -> Result<(), EncodeError> {
        self.quoted(v)
    }
    fn serialize_f32(self, _: f32) -> Result<(), EncodeError> {
        Err(EncodeError::KeyMustBeString)
    }
    fn serialize_f64(self, _: f64) -> Result<(), EncodeError> {
        Err(EncodeError::KeyMustBeString)
    }
    fn serialize_char(self, v: char) -> Result<(), EncodeError> {
        let mut b = [0u8; 4];
        self.string(v.encode_utf8(&mut b))
    }
    fn serialize_str(self, v: &str) -> Result<(), EncodeError> {
        self.string(v)
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), EncodeError> {
        Err(EncodeError::KeyMustBeString)
    }
    fn serialize_none(self) -> Result<(), EncodeError> {
        Err(EncodeError::KeyMustBeString)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<(), EncodeError> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), EncodeError> {
        Err(EncodeError::KeyMustBeString)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), EncodeError> {
        Err(EncodeError::KeyMustBeString)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), EncodeError> {
        self.string(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<(), EncodeError> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), EncodeError> {
        Err(EncodeError::KeyMustBeString)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<NoKey, EncodeError> {
        Err(EncodeError::KeyMustBeString)
    }
    fn serialize_tuple(self, _: usize) -> Result<NoKey, EncodeError> {
        Err(EncodeError::KeyMustBeString)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<NoKey, EncodeError> {
        Err(EncodeError::KeyMustBeString)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<NoKey, EncodeError> {
        Err(EncodeError::KeyMustBeString)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<NoKey, EncodeError> {
        Err(EncodeError::KeyMustBeString)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<NoKey, EncodeError> {
        Err(EncodeError::KeyMustBeString)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<NoKey, EncodeError> {
        Err(EncodeError::KeyMustBeString)
    }
    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result<(), EncodeError> {
        self.ser.writes += 1;
        self.ser.w.put_byte(b'"')?;
        let upper = self.ser.layout.upper_hex();
        write!(
            Escape {
                w: self.ser.w,
                upper
            },
            "{value}"
        )?;
        self.ser.w.put_byte(b'"')?;
        Ok(())
    }
}
