//! The [`Encode`] trait: one writer, three kinds of output.

use core::fmt;

use crate::encode::EncodeError;
use crate::json::sink::{Counter, FmtSink, Overflow, Sink};

/// A message that can be written as JSON text without allocating.
///
/// Implemented by this crate's message types ([`Request`](super::Request),
/// [`ServerReturn`](super::ServerReturn), …). [`encode`](Self::encode) writes into a slice
/// in one pass: when the slice is too short the rest of the message is only counted, so
/// [`EncodeError::BufferTooSmall`] reports the exact size needed, and what the slice then
/// holds is unspecified (like C's `snprintf`).
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
    /// The message is written in a single pass. On [`EncodeError::BufferTooSmall`]
    /// `required` is the exact length of the message. On any error the contents of `buf`
    /// are unspecified, within one bound: each byte is either left as it was or holds the
    /// message's byte at that position (like C's `snprintf`). On success nothing past the
    /// returned length is written. To size a buffer without writing, call
    /// [`encoded_len`](Self::encoded_len) first.
    fn encode(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
        let mut out = Overflow { buf, len: 0 };
        self.write_message(&mut out)?;
        if out.len > out.buf.len() {
            return Err(EncodeError::BufferTooSmall { required: out.len });
        }
        Ok(out.len)
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
