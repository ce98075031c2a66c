//! Standard base64 (RFC 4648 §4, with `=` padding), as the agent's `buf-b64`, `input-data`,
//! `out-data` and `err-data` use it: a streaming decoder over the characters of a JSON
//! string (escapes such as QEMU's `\/` already resolved) and an encoder that writes straight
//! into the encoder's sinks. No allocation, no lookup tables larger than the alphabet.

use core::fmt;

use crate::json::sink::Sink;
use crate::json::Str;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Why base64 text could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Base64Error {
    /// A character outside the alphabet, or after the padding, at this character index.
    InvalidChar {
        /// The index of the character in the text.
        index: usize,
    },
    /// The text ends inside a group (its length is not a multiple of 4 with padding).
    Truncated,
    /// The output buffer is too small; `required` bytes are needed.
    BufferTooSmall {
        /// The decoded length.
        required: usize,
    },
}

impl fmt::Display for Base64Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Base64Error::InvalidChar { index } => {
                write!(f, "invalid base64 character at index {index}")
            }
            Base64Error::Truncated => f.write_str("base64 text ends inside a group"),
            Base64Error::BufferTooSmall { required } => {
                write!(
                    f,
                    "buffer too small for the decoded data ({required} bytes needed)"
                )
            }
        }
    }
}

impl core::error::Error for Base64Error {}

fn sextet(c: char) -> Option<u32> {
    Some(match c {
        'A'..='Z' => c as u32 - 'A' as u32,
        'a'..='z' => c as u32 - 'a' as u32 + 26,
        '0'..='9' => c as u32 - '0' as u32 + 52,
        '+' => 62,
        '/' => 63,
        _ => return None,
    })
}

/// Decodes base64 characters, calling `emit` for each byte; returns the count.
fn decode_padded<I: Iterator<Item = char>>(
    chars: I,
    mut emit: impl FnMut(u8),
) -> Result<usize, Base64Error> {
    // Full groups are decoded as they complete; the padding tells how many bytes the last,
    // short group holds.
    let (mut acc, mut n, mut count, mut pad) = (0u32, 0u8, 0usize, 0u8);
    for (index, c) in chars.enumerate() {
        if c == '=' {
            if n < 2 || n + pad >= 4 {
                return Err(Base64Error::InvalidChar { index });
            }
            pad += 1;
            continue;
        }
        if pad != 0 {
            return Err(Base64Error::InvalidChar { index });
        }
        acc = (acc << 6) | sextet(c).ok_or(Base64Error::InvalidChar { index })?;
        n += 1;
        if n == 4 {
            emit((acc >> 16) as u8);
            emit((acc >> 8) as u8);
            emit(acc as u8);
            count += 3;
            acc = 0;
            n = 0;
        }
    }
    match (n, pad) {
        (0, 0) => Ok(count),
        (2, 2) => {
            emit((acc >> 4) as u8);
            Ok(count + 1)
        }
        (3, 1) => {
            emit((acc >> 10) as u8);
            emit((acc >> 2) as u8);
            Ok(count + 2)
        }
        _ => Err(Base64Error::Truncated),
    }
}

/// Decodes the base64 text in a JSON string into `out`; returns the decoded length.
///
/// On error `out` may hold part of the data. `BufferTooSmall` reports the exact length.
///
/// ```
/// use qmp_codec::agent::base64::decode_str_into;
/// use qmp_codec::Message;
/// let msg = Message::parse(br#"{"return": {"out-data": "aGk\/Cg=="}}"#).unwrap();
/// let text = msg.get("return").unwrap().get("out-data").unwrap().as_str().unwrap();
/// let mut buf = [0u8; 8];
/// let n = decode_str_into(text, &mut buf).unwrap();
/// assert_eq!(&buf[..n], b"hi?\n");
/// ```
pub fn decode_str_into(text: Str<'_>, out: &mut [u8]) -> Result<usize, Base64Error> {
    decode_into(text.chars(), out)
}

/// Decodes base64 characters into `out`; returns the decoded length.
///
/// ```
/// use qmp_codec::agent::base64::{decode_into, Base64Error};
/// let mut buf = [0u8; 5];
/// assert_eq!(decode_into("aGVsbG8=".chars(), &mut buf), Ok(5));
/// assert_eq!(&buf, b"hello");
/// assert_eq!(decode_into("aGVsbG8gd29ybGQ=".chars(), &mut buf), Err(Base64Error::BufferTooSmall { required: 11 }));
/// assert_eq!(decode_into("aGVsbG8".chars(), &mut buf), Err(Base64Error::Truncated));
/// assert_eq!(decode_into("aG!s".chars(), &mut buf), Err(Base64Error::InvalidChar { index: 2 }));
/// ```
pub fn decode_into<I: Iterator<Item = char>>(
    chars: I,
    out: &mut [u8],
) -> Result<usize, Base64Error> {
    let mut at = 0usize;
    let mut overflow = false;
    let n = decode_padded(chars, |b| {
        match out.get_mut(at) {
            Some(slot) => *slot = b,
            None => overflow = true,
        }
        at += 1;
    })?;
    if overflow {
        return Err(Base64Error::BufferTooSmall { required: n });
    }
    Ok(n)
}

/// Decodes base64 characters, appending to `out` (feature `alloc`).
#[cfg(feature = "alloc")]
pub fn decode_to_vec<I: Iterator<Item = char>>(
    chars: I,
    out: &mut alloc::vec::Vec<u8>,
) -> Result<usize, Base64Error> {
    decode_padded(chars, |b| out.push(b))
}

/// The length of the base64 text for `len` bytes.
pub const fn encoded_len(len: usize) -> usize {
    len.div_ceil(3).saturating_mul(4)
}

/// Writes `bytes` as base64 (no quotes) to the sink.
pub(crate) fn encode_to<S: Sink + ?Sized>(bytes: &[u8], w: &mut S) -> fmt::Result {
    let mut group = [0u8; 4];
    for chunk in bytes.chunks(3) {
        let b0 = chunk.first().copied().unwrap_or(0) as usize;
        let b1 = chunk.get(1).copied().unwrap_or(0) as usize;
        let b2 = chunk.get(2).copied().unwrap_or(0) as usize;
        let sym = |i: usize| ALPHABET.get(i & 63).copied().unwrap_or(b'A');
        group[0] = sym(b0 >> 2);
        group[1] = sym((b0 << 4) | (b1 >> 4));
        group[2] = if chunk.len() > 1 {
            sym((b1 << 2) | (b2 >> 6))
        } else {
            b'='
        };
        group[3] = if chunk.len() > 2 { sym(b2) } else { b'=' };
        w.put(&group)?;
    }
    Ok(())
}

/// Encodes `bytes` as base64 into `out`; returns the length (`None` when `out` is shorter
/// than [`encoded_len`]).
///
/// ```
/// use qmp_codec::agent::base64::encode_into;
/// let mut buf = [0u8; 8];
/// assert_eq!(encode_into(b"hello", &mut buf), Some(8));
/// assert_eq!(&buf, b"aGVsbG8=");
/// ```
pub fn encode_into(bytes: &[u8], out: &mut [u8]) -> Option<usize> {
    let len = encoded_len(bytes.len());
    let dst = out.get_mut(..len)?;
    let mut sink = crate::json::sink::SliceOut { buf: dst, len: 0 };
    encode_to(bytes, &mut sink).ok()?;
    Some(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every length up to 64 and every byte value round-trips; the text matches a naive
    /// bit-by-bit encoder.
    #[test]
    fn round_trip_against_naive() {
        let data: [u8; 256] = core::array::from_fn(|i| (i as u8).wrapping_mul(37).wrapping_add(11));
        for len in 0..=64 {
            let src = &data[len..len * 2 + 3];
            let mut text = [0u8; 128];
            let n = encode_into(src, &mut text).unwrap();
            // Naive: walk the bits six at a time.
            let mut naive = [0u8; 128];
            let bits = src.len() * 8;
            let mut k = 0;
            let mut bit = 0;
            while bit < bits {
                let mut v = 0usize;
                for j in 0..6 {
                    let b = bit + j;
                    let set = b < bits && (src[b / 8] >> (7 - b % 8)) & 1 == 1;
                    v = (v << 1) | set as usize;
                }
                naive[k] = ALPHABET[v];
                k += 1;
                bit += 6;
            }
            while k % 4 != 0 {
                naive[k] = b'=';
                k += 1;
            }
            assert_eq!(&text[..n], &naive[..k]);
            let s = core::str::from_utf8(&text[..n]).unwrap();
            let mut back = [0u8; 96];
            let m = decode_into(s.chars(), &mut back).unwrap();
            assert_eq!(&back[..m], src);
        }
    }

    #[test]
    fn rejects_bad_padding() {
        let mut buf = [0u8; 8];
        for bad in ["=", "a===", "ab=c", "abc==", "ab=", "abcd=", "a"] {
            assert!(decode_into(bad.chars(), &mut buf).is_err(), "{bad}");
        }
        assert_eq!(decode_into("".chars(), &mut buf), Ok(0));
        assert_eq!(decode_into("YQ==".chars(), &mut buf), Ok(1));
    }
}
