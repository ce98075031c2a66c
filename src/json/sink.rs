//! Byte sinks the printers and encoders write into: a slice, a counter, a `fmt::Write`.
//!
//! Writers hand over whole runs of bytes (`put`) instead of going through `fmt::Write` one
//! small `&str` at a time; `fmt::Write` is adapted only at the public edges.

use core::fmt;

/// Where printed JSON goes. Every `put` is valid UTF-8 (the printers write ASCII only).
///
/// Public only so that [`Encode`](crate::encode::Encode)'s hidden method can name it; it is
/// not reachable from outside the crate.
pub trait Sink {
    /// Appends `b`, which is valid UTF-8.
    fn put(&mut self, b: &[u8]) -> fmt::Result;

    /// Appends one ASCII byte.
    #[inline]
    fn put_byte(&mut self, b: u8) -> fmt::Result {
        self.put(&[b])
    }

    /// Appends `body` between double quotes.
    #[inline]
    fn put_quoted(&mut self, body: &[u8]) -> fmt::Result {
        self.put_byte(b'"')?;
        self.put(body)?;
        self.put_byte(b'"')
    }
}

impl<S: Sink + ?Sized> Sink for &mut S {
    #[inline]
    fn put(&mut self, b: &[u8]) -> fmt::Result {
        (**self).put(b)
    }
    #[inline]
    fn put_byte(&mut self, b: u8) -> fmt::Result {
        (**self).put_byte(b)
    }
    #[inline]
    fn put_quoted(&mut self, body: &[u8]) -> fmt::Result {
        (**self).put_quoted(body)
    }
}

/// Counts bytes instead of writing them.
pub(crate) struct Counter(pub usize);

impl Sink for Counter {
    #[inline]
    fn put(&mut self, b: &[u8]) -> fmt::Result {
        self.0 = self.0.saturating_add(b.len());
        Ok(())
    }
    #[inline]
    fn put_byte(&mut self, _: u8) -> fmt::Result {
        self.0 = self.0.saturating_add(1);
        Ok(())
    }
    #[inline]
    fn put_quoted(&mut self, body: &[u8]) -> fmt::Result {
        self.0 = self.0.saturating_add(body.len()).saturating_add(2);
        Ok(())
    }
}

impl fmt::Write for Counter {
    #[inline]
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.put(s.as_bytes())
    }
}

/// Writes into a byte slice; fails when it is full.
pub(crate) struct SliceOut<'b> {
    pub buf: &'b mut [u8],
    pub len: usize,
}

impl Sink for SliceOut<'_> {
    #[inline]
    fn put(&mut self, b: &[u8]) -> fmt::Result {
        let end = self.len.saturating_add(b.len());
        match self.buf.get_mut(self.len..end) {
            Some(dst) => {
                dst.copy_from_slice(b);
                self.len = end;
                Ok(())
            }
            None => Err(fmt::Error),
        }
    }
}

impl fmt::Write for SliceOut<'_> {
    #[inline]
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.put(s.as_bytes())
    }
}

/// Copies `src` into `dst` (same length): short copies as two overlapping fixed-size
/// moves, which compile to a few instructions, instead of a call to `memcpy`.
#[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
#[inline(always)]
fn copy(dst: &mut [u8], src: &[u8]) {
    fn two<const N: usize>(dst: &mut [u8], src: &[u8]) {
        let n = src.len();
        if let (Some(d), Some(s)) = (dst.get_mut(..N), src.get(..N)) {
            d.copy_from_slice(s);
        }
        if let (Some(d), Some(s)) = (dst.get_mut(n - N..), src.get(n - N..)) {
            if d.len() == N && s.len() == N {
                d.copy_from_slice(s);
            }
        }
    }
    let n = src.len();
    if n != dst.len() {
        return;
    }
    match n {
        0 => {}
        1..=3 => {
            for k in [0, n / 2, n - 1] {
                if let (Some(d), Some(&s)) = (dst.get_mut(k), src.get(k)) {
                    *d = s;
                }
            }
        }
        4..=7 => two::<4>(dst, src),
        8..=16 => two::<8>(dst, src),
        17..=32 => two::<16>(dst, src),
        _ => dst.copy_from_slice(src),
    }
}

/// Copies `src` into `dst` (same length). Small targets (those without 128-bit vectors, as
/// the scanner's compact form) call `memcpy`, which they link anyway, rather than inline the
/// short-copy cases at every use.
#[cfg(not(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64"))))]
#[inline(always)]
fn copy(dst: &mut [u8], src: &[u8]) {
    if dst.len() == src.len() {
        dst.copy_from_slice(src);
    }
}

/// Writes into a byte slice while it has room, then only counts: `len` ends as the exact
/// length of the whole output, and the output fitted when `len <= buf.len()`. Never fails,
/// so a message is walked once whether or not it fits.
pub(crate) struct Overflow<'b> {
    pub buf: &'b mut [u8],
    pub len: usize,
}

impl Sink for Overflow<'_> {
    #[inline]
    fn put(&mut self, b: &[u8]) -> fmt::Result {
        let end = self.len.saturating_add(b.len());
        if let Some(dst) = self.buf.get_mut(self.len..end) {
            copy(dst, b);
        }
        self.len = end;
        Ok(())
    }
    #[inline]
    fn put_byte(&mut self, b: u8) -> fmt::Result {
        if let Some(dst) = self.buf.get_mut(self.len) {
            *dst = b;
        }
        self.len = self.len.saturating_add(1);
        Ok(())
    }
    #[inline]
    fn put_quoted(&mut self, body: &[u8]) -> fmt::Result {
        let end = self.len.saturating_add(body.len()).saturating_add(2);
        if let Some(dst) = self.buf.get_mut(self.len..end) {
            if let Some((open, rest)) = dst.split_first_mut() {
                *open = b'"';
                if let Some((close, mid)) = rest.split_last_mut() {
                    *close = b'"';
                    copy(mid, body);
                }
            }
        }
        self.len = end;
        Ok(())
    }
}

/// A `fmt::Write` (a `String`, a formatter) as a [`Sink`].
pub(crate) struct FmtSink<'w, W: ?Sized>(pub &'w mut W);

impl<W: fmt::Write + ?Sized> Sink for FmtSink<'_, W> {
    #[inline]
    fn put(&mut self, b: &[u8]) -> fmt::Result {
        // Printers put UTF-8 only; anything else is refused rather than written.
        self.0
            .write_str(core::str::from_utf8(b).map_err(|_| fmt::Error)?)
    }
    #[inline]
    fn put_byte(&mut self, b: u8) -> fmt::Result {
        if b.is_ascii() {
            self.0.write_char(char::from(b))
        } else {
            Err(fmt::Error)
        }
    }
}

/// A [`Sink`] as a `fmt::Write`, for `Display` values and `write!`.
pub(crate) struct SinkFmt<'s, S: ?Sized>(pub &'s mut S);

impl<S: Sink + ?Sized> fmt::Write for SinkFmt<'_, S> {
    #[inline]
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.put(s.as_bytes())
    }
}

/// `00`, `01`, … `99`.
const PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Writes `v` in decimal, two digits at a time.
#[inline]
pub(crate) fn put_u64<S: Sink + ?Sized>(out: &mut S, mut v: u64) -> fmt::Result {
    let mut buf = [b'0'; 20];
    let mut i = buf.len();
    while v >= 100 && i >= 2 {
        let k = (v % 100) as usize * 2;
        v /= 100;
        i -= 2;
        if let (Some(d), Some(s)) = (buf.get_mut(i..i + 2), PAIRS.get(k..k + 2)) {
            d.copy_from_slice(s);
        }
    }
    if v >= 10 {
        let k = v as usize * 2;
        i = i.saturating_sub(2);
        if let (Some(d), Some(s)) = (buf.get_mut(i..i + 2), PAIRS.get(k..k + 2)) {
            d.copy_from_slice(s);
        }
    } else {
        i = i.saturating_sub(1);
        if let Some(d) = buf.get_mut(i) {
            *d = b'0' + v as u8;
        }
    }
    out.put(buf.get(i..).unwrap_or(b"0"))
}

/// Writes `v` in decimal.
#[inline]
pub(crate) fn put_i64<S: Sink + ?Sized>(out: &mut S, v: i64) -> fmt::Result {
    if v < 0 {
        out.put_byte(b'-')?;
    }
    put_u64(out, v.unsigned_abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(v: i64) -> ([u8; 24], usize) {
        let mut buf = [0u8; 24];
        let mut out = SliceOut {
            buf: &mut buf,
            len: 0,
        };
        put_i64(&mut out, v).unwrap();
        let n = out.len;
        (buf, n)
    }

    #[test]
    fn integers_match_display() {
        use core::fmt::Write as _;
        for v in [0, 1, -1, 9, 10, 99, 100, 1234567890, i64::MIN, i64::MAX] {
            let (b, n) = dec(v);
            let mut want = [0u8; 24];
            let mut w = SliceOut {
                buf: &mut want,
                len: 0,
            };
            write!(w, "{v}").unwrap();
            let m = w.len;
            assert_eq!(&b[..n], &want[..m]);
        }
        let mut buf = [0u8; 20];
        let mut out = SliceOut {
            buf: &mut buf,
            len: 0,
        };
        put_u64(&mut out, u64::MAX).unwrap();
        assert_eq!(&buf[..], b"18446744073709551615");
    }

    #[test]
    fn overflow_counts_past_the_end() {
        let mut buf = [0u8; 4];
        let mut out = Overflow {
            buf: &mut buf,
            len: 0,
        };
        out.put(b"abc").unwrap();
        out.put(b"de").unwrap();
        out.put_byte(b'f').unwrap();
        assert_eq!(out.len, 6);
        assert_eq!(&buf[..3], b"abc");
    }
}
