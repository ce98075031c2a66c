//! The [`Encode`] trait: one writer, three kinds of output.

use core::fmt;

use crate::encode::EncodeError;
use crate::json::sink::{Counter, FmtSink, Overflow, Sink};

/// A message that can be written as JSON text without allocating.
///
/// Implemented by this crate's message types ([`Request`](super::Request),
/// [`ServerReturn`](super::ServerReturn), …). [`encode`](Self::encode) writes into a slice
/// and leaves it as it was when the message does not fit, reporting the exact size needed
/// ([`EncodeError::BufferTooSmall`]).
pub trait Encode {
    /// Writes the whole message to `out`.
    #[doc(hidden)]
    fn write_message<S: Sink + ?Sized>(&self, out: &mut S) -> Result<(), EncodeError>;

    /// The exact length in bytes of the encoded message.
    fn encoded_len(&self) -> Result<usize, EncodeError> {
        let mut c = Counter(0);
        self.write_message(&mut c)?;
        Ok(c.0)
    }

    /// Writes the message at the start of `buf` and returns its length.
    ///
    /// On [`EncodeError::BufferTooSmall`] (or any other error) `buf` is left as it was, and
    /// `required` is the exact length of the message. The message is measured before it is
    /// written (two passes over its payloads), so a short buffer is never touched.
    fn encode(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
        #[cfg(not(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64"))))]
        return encode_dyn(buf, &|out: &mut dyn Sink| self.write_message(out));
        #[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
        {
            let required = self.encoded_len()?;
            if required > buf.len() {
                return Err(EncodeError::BufferTooSmall { required });
            }
            let mut out = Overflow { buf, len: 0 };
            self.write_message(&mut out)?;
            if out.len != required {
                // Only a `Serialize` impl that changes between two calls gets here.
                return Err(EncodeError::Write);
            }
            Ok(required)
        }
    }

    /// Writes the message to any `fmt::Write` (a `String`, a `heapless::String`, a formatter).
    ///
    /// On error the sink may hold part of the message.
    fn encode_fmt<W: fmt::Write + ?Sized>(&self, w: &mut W) -> Result<(), EncodeError> {
        self.write_message(&mut FmtSink(w))
    }

    /// Appends the message to a [`bytes::BufMut`] and returns its length.
    ///
    /// The length is checked against [`remaining_mut`](bytes::BufMut::remaining_mut) first:
    /// when it does not fit, nothing is written and the size needed is reported.
    #[cfg(feature = "bytes")]
    fn encode_buf_mut<B: bytes::BufMut + ?Sized>(&self, buf: &mut B) -> Result<usize, EncodeError> {
        struct Put<'b, B: ?Sized>(&'b mut B);
        impl<B: bytes::BufMut + ?Sized> Sink for Put<'_, B> {
            fn put(&mut self, s: &[u8]) -> fmt::Result {
                if self.0.remaining_mut() < s.len() {
                    return Err(fmt::Error);
                }
                self.0.put_slice(s);
                Ok(())
            }
        }
        let required = self.encoded_len()?;
        if buf.remaining_mut() < required {
            return Err(EncodeError::BufferTooSmall { required });
        }
        self.write_message(&mut Put(buf))?;
        Ok(required)
    }
}

/// [`Encode::encode`] on small targets (those without 128-bit vectors, as the scanner's
/// compact form): the message is written through `dyn Sink`, so each message type has one
/// copy of its writer instead of one per sink (the counter and the slice), and the two
/// passes are this one function for all of them.
#[cfg(not(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64"))))]
#[inline(never)]
fn encode_dyn(
    buf: &mut [u8],
    write: &dyn Fn(&mut dyn Sink) -> Result<(), EncodeError>,
) -> Result<usize, EncodeError> {
    let mut c = Counter(0);
    write(&mut c)?;
    let required = c.0;
    if required > buf.len() {
        return Err(EncodeError::BufferTooSmall { required });
    }
    let mut out = Overflow { buf, len: 0 };
    write(&mut out)?;
    if out.len != required {
        // Only a `Serialize` impl that changes between two calls gets here.
        return Err(EncodeError::Write);
    }
    Ok(required)
}
