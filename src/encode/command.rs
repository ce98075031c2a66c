//! Client commands: `{"execute":"name","arguments":{…},"id":…}`.

use crate::encode::payload::EmptyObject;
use crate::encode::{Encode, EncodeError, Id, Layout, Payload};
use crate::json::print::put_str_escaped;
use crate::json::sink::Sink;

/// A command to send: `execute` (or `exec-oob`), optional `arguments` (an object) and an
/// optional `id` (any JSON value).
///
/// Written exactly as `qemu.qmp` writes it: members in the order `execute`/`exec-oob`,
/// `arguments`, `id`; no whitespace; ASCII-only with lowercase `\u00e9`; no terminator
/// (QEMU frames input by braces, not lines).
///
/// ```
/// use qmp_codec::encode::{Encode, Request};
/// let mut buf = [0u8; 64];
/// let n = Request::execute("qmp_capabilities").encode(&mut buf)?;
/// assert_eq!(&buf[..n], br#"{"execute":"qmp_capabilities"}"#);
/// let n = Request::execute_oob("migrate-pause").with_id(7i64).encode(&mut buf)?;
/// assert_eq!(&buf[..n], br#"{"exec-oob":"migrate-pause","id":7}"#);
/// # Ok::<(), qmp_codec::encode::EncodeError>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Request<'a, A = EmptyObject, I = Id> {
    name: &'a str,
    oob: bool,
    arguments: Option<A>,
    id: Option<I>,
}

impl<'a> Request<'a> {
    /// `{"execute": name}`.
    pub const fn execute(name: &'a str) -> Self {
        Request {
            name,
            oob: false,
            arguments: None,
            id: None,
        }
    }

    /// `{"exec-oob": name}`: an out-of-band command (the server must have enabled `oob`).
    pub const fn execute_oob(name: &'a str) -> Self {
        Request {
            name,
            oob: true,
            arguments: None,
            id: None,
        }
    }
}

impl<'a, A: Payload, I: Payload> Request<'a, A, I> {
    /// Sets the `arguments` member; it must turn out to be a JSON object, or encoding fails
    /// with [`EncodeError::ArgumentsNotObject`].
    pub fn with_arguments<B: Payload>(self, arguments: B) -> Request<'a, B, I> {
        Request {
            name: self.name,
            oob: self.oob,
            arguments: Some(arguments),
            id: self.id,
        }
    }

    /// Sets the `id` member (any JSON value: an [`Id`], a `Value`, a `JsonStr`, an integer).
    pub fn with_id<J: Payload>(self, id: J) -> Request<'a, A, J> {
        Request {
            name: self.name,
            oob: self.oob,
            arguments: self.arguments,
            id: Some(id),
        }
    }

    /// The command name.
    pub const fn name(&self) -> &'a str {
        self.name
    }

    /// Whether this is an `exec-oob` command.
    pub const fn is_oob(&self) -> bool {
        self.oob
    }

    /// The arguments, if set.
    pub const fn arguments(&self) -> Option<&A> {
        self.arguments.as_ref()
    }

    /// The id, if set.
    pub const fn id(&self) -> Option<&I> {
        self.id.as_ref()
    }
}

impl<A: Payload, I: Payload> Encode for Request<'_, A, I> {
    fn write_message<S: Sink + ?Sized>(&self, w: &mut S) -> Result<(), EncodeError> {
        put_head(w, self.oob, self.name)?;
        if let Some(args) = &self.arguments {
            w.put(b",\"arguments\":")?;
            args.write_payload(Layout::Compact, true, w)?;
        }
        if let Some(id) = &self.id {
            w.put(b",\"id\":")?;
            id.write_payload(Layout::Compact, false, w)?;
        }
        w.put_byte(b'}')?;
        Ok(())
    }
}

/// `{"execute":"name"` (or `exec-oob`): the part of a request that does not depend on its
/// payload types. Out of line on small targets (those without 128-bit vectors, as the
/// scanner's compact form), so that requests of every payload type share one copy per sink.
#[cfg_attr(
    not(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64"))),
    inline(never)
)]
fn put_head<S: Sink + ?Sized>(w: &mut S, oob: bool, name: &str) -> Result<(), EncodeError> {
    w.put(if oob {
        b"{\"exec-oob\":"
    } else {
        b"{\"execute\":"
    })?;
    put_str_escaped(w, name, false)?;
    Ok(())
}
