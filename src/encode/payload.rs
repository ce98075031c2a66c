//! JSON values the encoders can embed: arguments, return values, event data and ids.

use crate::encode::{EncodeError, Id, Layout};
use crate::json::print::{print_to, put_str_escaped};
use crate::json::scan::{self, Document};
use crate::json::sink::{put_i64, put_u64, Sink};
use crate::json::{Style, Value, ValueKind};
use crate::limits::Limits;

pub(crate) mod sealed {
    pub trait Sealed {}
}

/// A JSON value that an encoder can write: command arguments, a return value, event data or
/// an id.
///
/// Implemented for [`Value`] (from a parsed message or from [`validate_json`]), [`JsonStr`],
/// [`EmptyObject`], [`Id`], `i64`, `u64`, `bool`, references to these, and with the `serde`
/// feature for [`Ser`]. Sealed: the encoders rely on every payload being valid JSON.
pub trait Payload: sealed::Sealed {
    /// Writes the value; `object_only` refuses anything but an object.
    #[doc(hidden)]
    fn write_payload<S: Sink + ?Sized>(
        &self,
        layout: Layout,
        object_only: bool,
        w: &mut S,
    ) -> Result<(), EncodeError>;
}

/// Checks raw JSON text with the crate's scanner and returns it as a [`Value`].
///
/// The text must be one complete JSON value (surrounding whitespace is allowed), within the
/// default [`Limits`]. Encoders re-print it compactly (or QEMU-style), so its layout does
/// not matter.
///
/// ```
/// use qmp_codec::encode::{validate_json, EncodeError};
/// assert!(validate_json(b" {\"a\": [1, 2]} ").is_ok());
/// assert!(matches!(validate_json(b"{\"a\": }"), Err(EncodeError::InvalidJson { .. })));
/// ```
pub fn validate_json(raw: &[u8]) -> Result<Value<'_>, EncodeError> {
    match scan::validate(raw, &Limits::new()) {
        Ok(Document::Object(top)) => Ok(Value::new(top.span.get(raw).unwrap_or(b"{}"))),
        Ok(Document::Other(span)) => Ok(Value::new(span.get(raw).unwrap_or(b"null"))),
        Err(f) => Err(EncodeError::InvalidJson {
            offset: f.offset,
            reason: f.reason,
        }),
    }
}

fn not_object(object_only: bool, found: &'static str) -> Result<(), EncodeError> {
    if object_only {
        Err(EncodeError::ArgumentsNotObject { found })
    } else {
        Ok(())
    }
}

impl sealed::Sealed for Value<'_> {}
impl Payload for Value<'_> {
    fn write_payload<S: Sink + ?Sized>(
        &self,
        layout: Layout,
        object_only: bool,
        w: &mut S,
    ) -> Result<(), EncodeError> {
        let kind = self.kind();
        if kind != ValueKind::Object {
            not_object(object_only, kind.as_str())?;
        }
        match layout {
            Layout::Compact => print_to(self.raw(), &Style::PYTHON_WIRE, w)?,
            Layout::Qemu => print_to(self.raw(), &Style::QEMU_ECHO, w)?,
        }
        Ok(())
    }
}

/// Any Rust string, written as a JSON string (escaped as the layout requires).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct JsonStr<'a>(pub &'a str);

impl sealed::Sealed for JsonStr<'_> {}
impl Payload for JsonStr<'_> {
    fn write_payload<S: Sink + ?Sized>(
        &self,
        layout: Layout,
        object_only: bool,
        w: &mut S,
    ) -> Result<(), EncodeError> {
        not_object(object_only, "string")?;
        put_str_escaped(w, self.0, layout.upper_hex())?;
        Ok(())
    }
}

/// A fixed JSON object of the crate's own, written as it is: the negotiation's
/// `{"enable":["oob"]}`. Writing it needs no printer, so a client that only sends such
/// payloads does not link one.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Verbatim(&'static [u8]);

impl Verbatim {
    /// The arguments of `qmp_capabilities` that enable out-of-band execution, compact as
    /// `qemu.qmp` writes them.
    pub(crate) const ENABLE_OOB: Verbatim = Verbatim(br#"{"enable":["oob"]}"#);
}

impl sealed::Sealed for Verbatim {}
impl Payload for Verbatim {
    fn write_payload<S: Sink + ?Sized>(
        &self,
        _: Layout,
        _: bool,
        w: &mut S,
    ) -> Result<(), EncodeError> {
        // Every `Verbatim` is a compact JSON object written in this file.
        w.put(self.0)?;
        Ok(())
    }
}

/// The empty object `{}`: QMP's "nothing to return", and the default payload type.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct EmptyObject;

impl sealed::Sealed for EmptyObject {}
impl Payload for EmptyObject {
    fn write_payload<S: Sink + ?Sized>(
        &self,
        _: Layout,
        _: bool,
        w: &mut S,
    ) -> Result<(), EncodeError> {
        w.put(b"{}")?;
        Ok(())
    }
}

impl sealed::Sealed for Id {}
impl Payload for Id {
    fn write_payload<S: Sink + ?Sized>(
        &self,
        _: Layout,
        object_only: bool,
        w: &mut S,
    ) -> Result<(), EncodeError> {
        not_object(object_only, "string")?;
        // `__qmp#` and digits: nothing to escape.
        w.put_quoted(self.as_bytes())?;
        Ok(())
    }
}

macro_rules! number_payload {
    ($($t:ty => $kind:literal, $put:expr),*) => {$(
        impl sealed::Sealed for $t {}
        impl Payload for $t {
            fn write_payload<S: Sink + ?Sized>(
                &self,
                _: Layout,
                object_only: bool,
                w: &mut S,
            ) -> Result<(), EncodeError> {
                not_object(object_only, $kind)?;
                $put(w, *self)?;
                Ok(())
            }
        }
    )*};
}
number_payload!(
    i64 => "number", put_i64,
    u64 => "number", put_u64,
    bool => "bool", |w: &mut S, v: bool| w.put(if v { &b"true"[..] } else { b"false" })
);

impl<T: Payload + ?Sized> sealed::Sealed for &T {}
impl<T: Payload + ?Sized> Payload for &T {
    fn write_payload<S: Sink + ?Sized>(
        &self,
        layout: Layout,
        object_only: bool,
        w: &mut S,
    ) -> Result<(), EncodeError> {
        (**self).write_payload(layout, object_only, w)
    }
}

/// Any `serde::Serialize` value as a payload (feature `serde`), serialized without
/// allocating.
///
/// Output follows the layout: for requests Python's compact `json.dumps` (floats as
/// `repr`), for server messages QEMU's (`%.17g`). NaN and infinities are refused with
/// [`EncodeError::NonFiniteFloat`]; map keys may be strings, chars, integers or booleans
/// (quoted, as serde_json does); bytes become an array of numbers.
#[cfg(feature = "serde")]
#[derive(Clone, Copy, Debug)]
pub struct Ser<'a, T: ?Sized>(pub &'a T);

#[cfg(feature = "serde")]
impl<T: serde::Serialize + ?Sized> sealed::Sealed for Ser<'_, T> {}
#[cfg(feature = "serde")]
impl<T: serde::Serialize + ?Sized> Payload for Ser<'_, T> {
    fn write_payload<S: Sink + ?Sized>(
        &self,
        layout: Layout,
        object_only: bool,
        w: &mut S,
    ) -> Result<(), EncodeError> {
        crate::encode::serializer::serialize(self.0, layout, object_only, w)
    }
}
