//! The [`Encode`] trait: one writer, three kinds of output.

use core::fmt;

use crate::encode::EncodeError;
use crate::json::print::{Counter, SliceOut};

/// A message that can be written as JSON text without allocating.
///
/// Implementors provide [`write_message`](Self::write_message); the other methods are built
/// on it. Writing into a slice measures first, so a failed [`encode`](Self::encode) leaves
/// the slice as it was and reports the exact size needed.
pub trait Encode {
    /// Writes the whole message to `w`.
    fn write_message<W: fmt::Write + ?Sized>(&self, w: &mut W) -> Result<(), EncodeError>;

    /// The exact length in bytes of the encoded message.
    fn encoded_len(&self) -> Result<usize, EncodeError> {
        let mut c = Counter(0);
        self.write_message(&mut c)?;
        Ok(c.0)
    }

    /// Writes the message at the start of `buf` and returns its length.
    ///
    /// On [`EncodeError::BufferTooSmall`] (or any other error) `buf` is left untouched. The
    /// message is measured before it is written, so its payloads are walked twice.
    fn encode(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
        let required = self.encoded_len()?;
        if required > buf.len() {
            return Err(EncodeError::BufferTooSmall { required });
        }
        let mut out = SliceOut { buf, len: 0 };
        self.write_message(&mut out)?;
        if out.len != required {
            // Only a `Serialize` impl that changes between two calls gets here.
            return Err(EncodeError::Write);
        }
        Ok(required)
    }

    /// Writes the message to any `fmt::Write` (a `String`, a `heapless::String`, a formatter).
    ///
    /// On error the sink may hold part of the message.
    fn encode_fmt<W: fmt::Write + ?Sized>(&self, w: &mut W) -> Result<(), EncodeError> {
        self.write_message(w)
    }

    /// Appends the message to a [`bytes::BufMut`] and returns its length.
    ///
    /// The length is checked against [`remaining_mut`](bytes::BufMut::remaining_mut) first:
    /// when it does not fit, nothing is written and the size needed is reported.
    #[cfg(feature = "bytes")]
    fn encode_buf_mut<B: bytes::BufMut + ?Sized>(&self, buf: &mut B) -> Result<usize, EncodeError> {
        struct Put<'b, B: ?Sized>(&'b mut B);
        impl<B: bytes::BufMut + ?Sized> fmt::Write for Put<'_, B> {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                if self.0.remaining_mut() < s.len() {
                    return Err(fmt::Error);
                }
                self.0.put_slice(s.as_bytes());
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
