//! Server messages in QEMU's own wire format: greeting, return, error and event.
//!
//! QEMU writes one message per line ending in `\r\n`, with `", "` and `": "` separators,
//! ASCII-only strings with uppercase `\u00E9`, and re-printed numbers. These writers produce
//! the same bytes, members in QEMU's order.

use core::fmt;

use crate::encode::escape::write_display_str;
use crate::encode::payload::EmptyObject;
use crate::encode::{Encode, EncodeError, Layout, Payload};
use crate::json::print::put_str_escaped;
use crate::json::sink::{put_i64, put_u64, Sink};
use crate::json::Value;
use crate::model::{Timestamp, Version};

fn string<S: Sink + ?Sized>(w: &mut S, s: &str) -> Result<(), EncodeError> {
    put_str_escaped(w, s, true)?;
    Ok(())
}

/// The greeting a server sends on connect:
/// `{"QMP": {"version": {"qemu": {"micro": M, "minor": m, "major": x}, "package": "…"}, "capabilities": […]}}`.
///
/// ```
/// use qmp_codec::encode::{Encode, ServerGreeting};
/// use qmp_codec::Version;
/// let g = ServerGreeting {
///     version: Version { major: 10, minor: 0, micro: 2 },
///     package: "",
///     capabilities: &["oob"],
/// };
/// let mut buf = [0u8; 128];
/// let n = g.encode(&mut buf)?;
/// assert_eq!(&buf[..n], &b"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 2, \"minor\": 0, \"major\": 10}, \"package\": \"\"}, \"capabilities\": [\"oob\"]}}\r\n"[..]);
/// # Ok::<(), qmp_codec::encode::EncodeError>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ServerGreeting<'a> {
    /// The version reported.
    pub version: Version,
    /// The `package` string (distribution build information; often empty).
    pub package: &'a str,
    /// The capabilities offered, e.g. `["oob"]`.
    pub capabilities: &'a [&'a str],
}

impl Encode for ServerGreeting<'_> {
    fn write_message<S: Sink + ?Sized>(&self, w: &mut S) -> Result<(), EncodeError> {
        let v = self.version;
        w.put(b"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": ")?;
        put_u64(w, v.micro)?;
        w.put(b", \"minor\": ")?;
        put_u64(w, v.minor)?;
        w.put(b", \"major\": ")?;
        put_u64(w, v.major)?;
        w.put(b"}, \"package\": ")?;
        string(w, self.package)?;
        w.put(b"}, \"capabilities\": [")?;
        for (i, cap) in self.capabilities.iter().enumerate() {
            if i > 0 {
                w.put(b", ")?;
            }
            string(w, cap)?;
        }
        w.put(b"]}}\r\n")?;
        Ok(())
    }
}

/// A success response: `{"return": …, "id": …}` (no `id` member when the request had none).
///
/// The id is the request's `id` value, re-printed as QEMU prints it.
#[derive(Clone, Copy, Debug)]
pub struct ServerReturn<'a, R = EmptyObject> {
    value: R,
    id: Option<Value<'a>>,
}

impl<'a> ServerReturn<'a> {
    /// `{"return": {}}`: the reply of a command with nothing to return.
    pub const fn empty(id: Option<Value<'a>>) -> Self {
        ServerReturn {
            value: EmptyObject,
            id,
        }
    }
}

impl<'a, R: Payload> ServerReturn<'a, R> {
    /// A success response carrying `value` (any JSON value), echoing `id`.
    pub const fn new(value: R, id: Option<Value<'a>>) -> Self {
        ServerReturn { value, id }
    }
}

impl<R: Payload> Encode for ServerReturn<'_, R> {
    fn write_message<S: Sink + ?Sized>(&self, w: &mut S) -> Result<(), EncodeError> {
        w.put(b"{\"return\": ")?;
        self.value.write_payload(Layout::Qemu, false, w)?;
        if let Some(id) = &self.id {
            w.put(b", \"id\": ")?;
            id.write_payload(Layout::Qemu, false, w)?;
        }
        w.put(b"}\r\n")?;
        Ok(())
    }
}

/// An error response: `{"id": …, "error": {"class": …, "desc": …}}` (no `id` member when
/// the request had none, or could not be parsed).
///
/// ```
/// use qmp_codec::encode::{Encode, ServerError};
/// let e = ServerError::new("GenericError", "JSON parse error, expecting value", None);
/// let mut buf = [0u8; 128];
/// let n = e.encode(&mut buf)?;
/// assert_eq!(&buf[..n], &b"{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, expecting value\"}}\r\n"[..]);
/// # Ok::<(), qmp_codec::encode::EncodeError>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ServerError<'a, D = &'a str> {
    class: &'a str,
    desc: D,
    id: Option<Value<'a>>,
}

impl<'a, D: fmt::Display> ServerError<'a, D> {
    /// An error of class `class` (e.g. `GenericError`, `CommandNotFound`) with the
    /// human-readable `desc` (any `Display`, escaped as it is written), echoing `id`.
    pub const fn new(class: &'a str, desc: D, id: Option<Value<'a>>) -> Self {
        ServerError { class, desc, id }
    }
}

impl<D: fmt::Display> Encode for ServerError<'_, D> {
    fn write_message<S: Sink + ?Sized>(&self, w: &mut S) -> Result<(), EncodeError> {
        w.put_byte(b'{')?;
        if let Some(id) = &self.id {
            w.put(b"\"id\": ")?;
            id.write_payload(Layout::Qemu, false, w)?;
            w.put(b", ")?;
        }
        w.put(b"\"error\": {\"class\": ")?;
        string(w, self.class)?;
        w.put(b", \"desc\": ")?;
        write_display_str(w, &self.desc, true)?;
        w.put(b"}}\r\n")?;
        Ok(())
    }
}

/// An event: `{"timestamp": {"seconds": S, "microseconds": U}, "event": "NAME", "data": …}`,
/// with no `data` member when there is none (as QEMU sends `STOP`).
///
/// ```
/// use qmp_codec::encode::{Encode, ServerEvent};
/// use qmp_codec::Timestamp;
/// let e = ServerEvent::new("STOP", Timestamp { seconds: 1, microseconds: 2 });
/// let mut buf = [0u8; 128];
/// let n = e.encode(&mut buf)?;
/// assert_eq!(&buf[..n], &b"{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"STOP\"}\r\n"[..]);
/// # Ok::<(), qmp_codec::encode::EncodeError>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ServerEvent<'a, D = EmptyObject> {
    name: &'a str,
    timestamp: Timestamp,
    data: Option<D>,
}

impl<'a> ServerEvent<'a> {
    /// An event without data.
    pub const fn new(name: &'a str, timestamp: Timestamp) -> Self {
        ServerEvent {
            name,
            timestamp,
            data: None,
        }
    }
}

impl<'a, D: Payload> ServerEvent<'a, D> {
    /// Sets the event's `data` (QEMU's data is always an object, but any value is written).
    pub fn data<E: Payload>(self, data: E) -> ServerEvent<'a, E> {
        ServerEvent {
            name: self.name,
            timestamp: self.timestamp,
            data: Some(data),
        }
    }
}

impl<D: Payload> Encode for ServerEvent<'_, D> {
    fn write_message<S: Sink + ?Sized>(&self, w: &mut S) -> Result<(), EncodeError> {
        w.put(b"{\"timestamp\": {\"seconds\": ")?;
        put_i64(w, self.timestamp.seconds)?;
        w.put(b", \"microseconds\": ")?;
        put_i64(w, self.timestamp.microseconds)?;
        w.put(b"}, \"event\": ")?;
        string(w, self.name)?;
        if let Some(data) = &self.data {
            w.put(b", \"data\": ")?;
            data.write_payload(Layout::Qemu, false, w)?;
        }
        w.put(b"}\r\n")?;
        Ok(())
    }
}

/// A validated JSON value written as it is: a request a user typed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RawJson<'a>(pub(crate) Value<'a>);

impl Encode for RawJson<'_> {
    fn write_message<S: Sink + ?Sized>(&self, w: &mut S) -> Result<(), EncodeError> {
        w.put(self.0.raw())?;
        Ok(())
    }
}
