//! Borrowed JSON string views whose escapes are decoded lazily.

use core::fmt;

use crate::error::BufferTooSmall;

/// A JSON string as it appears in the input, without its quotes; escapes are decoded only
/// when asked for.
///
/// Every `Str` comes from validated input, so decoding never fails.
///
/// ```
/// use qmp_codec::Message;
/// let msg = Message::parse(br#"{"event":"caf\u00e9"}"#).unwrap();
/// let s = msg.get("event").unwrap().as_str().unwrap();
/// assert_eq!(s.raw(), br"caf\u00e9");
/// assert!(s == "café");
/// assert_eq!(s.as_borrowed(), None); // it has escapes
/// let mut buf = [0u8; 16];
/// assert_eq!(s.unescape_into(&mut buf).unwrap(), "café");
/// ```
#[derive(Clone, Copy)]
pub struct Str<'a> {
    raw: &'a [u8],
    escaped: bool,
}

impl<'a> Str<'a> {
    /// Wraps a validated string body.
    #[inline(always)]
    pub(crate) const fn new(raw: &'a [u8], escaped: bool) -> Self {
        Str { raw, escaped }
    }

    /// Wraps a validated string body, finding out whether it holds escapes.
    #[inline]
    pub(crate) fn from_body(raw: &'a [u8]) -> Self {
        Str {
            raw,
            escaped: crate::find::memchr(b'\\', raw).is_some(),
        }
    }

    /// The bytes between the quotes, escapes and all.
    #[inline]
    pub const fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// Whether the string holds any backslash escape.
    #[inline]
    pub const fn has_escapes(&self) -> bool {
        self.escaped
    }

    /// The string as a borrowed `&str`, when it has no escapes.
    #[inline]
    pub fn as_borrowed(&self) -> Option<&'a str> {
        if self.escaped {
            None
        } else {
            core::str::from_utf8(self.raw).ok()
        }
    }

    /// The unescaped characters, decoded lazily.
    #[inline]
    pub fn chars(&self) -> Chars<'a> {
        Chars::new(self.raw)
    }

    /// The length in bytes of the unescaped UTF-8 string.
    pub fn unescaped_len(&self) -> usize {
        if !self.escaped {
            return self.raw.len();
        }
        self.chars().map(char::len_utf8).sum()
    }

    /// Writes the unescaped string into `buf` and returns it.
    ///
    /// On a short buffer nothing is written and the exact size needed is reported.
    pub fn unescape_into<'b>(&self, buf: &'b mut [u8]) -> Result<&'b str, BufferTooSmall> {
        if buf.len() < self.raw.len() {
            // Unescaping never grows a string, so only a buffer shorter than the raw form
            // can be too small.
            let required = self.unescaped_len();
            if buf.len() < required {
                return Err(BufferTooSmall { required });
            }
        }
        let mut n = 0;
        let mut rest = self.raw;
        while !rest.is_empty() {
            let run = crate::find::memchr(b'\\', rest).unwrap_or(rest.len());
            let (plain, tail) = rest.split_at(run);
            if let Some(dst) = buf.get_mut(n..n + plain.len()) {
                dst.copy_from_slice(plain);
            }
            n += plain.len();
            if tail.is_empty() {
                break;
            }
            let (c, used) = decode_escape(tail);
            let mut utf8 = [0u8; 4];
            let enc = c.encode_utf8(&mut utf8).as_bytes();
            if let Some(dst) = buf.get_mut(n..n + enc.len()) {
                dst.copy_from_slice(enc);
            }
            n += enc.len();
            rest = tail.get(used..).unwrap_or(&[]);
        }
        let out = buf.get(..n).unwrap_or(&[]);
        // Valid by construction (validated input, escapes decoded to chars); the fallback
        // is unreachable but keeps this free of panics.
        Ok(core::str::from_utf8(out).unwrap_or(""))
    }

    /// The unescaped string, borrowed when it has no escapes.
    #[cfg(feature = "alloc")]
    pub fn to_cow(&self) -> alloc::borrow::Cow<'a, str> {
        match self.as_borrowed() {
            Some(s) => alloc::borrow::Cow::Borrowed(s),
            None => alloc::borrow::Cow::Owned(self.chars().collect()),
        }
    }

    /// Compares the unescaped string with `s`, without allocating.
    pub fn eq_str(&self, s: &str) -> bool {
        if !self.escaped {
            self.raw == s.as_bytes()
        } else {
            #[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
            return self.chars().eq(s.chars());
            // Small targets (those without 128-bit vectors, as the scanner's compact form)
            // decode `s` with the decoder they link anyway, not a second inline one.
            #[cfg(not(all(
                not(qmp_compact),
                any(target_arch = "x86_64", target_arch = "aarch64")
            )))]
            {
                let mut rest = s.as_bytes();
                for c in self.chars() {
                    if rest.is_empty() {
                        return false;
                    }
                    let (d, used) = decode_utf8(rest);
                    if c != d {
                        return false;
                    }
                    rest = rest.get(used..).unwrap_or(&[]);
                }
                rest.is_empty()
            }
        }
    }
}

impl PartialEq<str> for Str<'_> {
    fn eq(&self, other: &str) -> bool {
        self.eq_str(other)
    }
}

impl PartialEq<&str> for Str<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.eq_str(other)
    }
}

impl PartialEq<Str<'_>> for &str {
    fn eq(&self, other: &Str<'_>) -> bool {
        other.eq_str(self)
    }
}

impl PartialEq for Str<'_> {
    /// Equality of the unescaped strings.
    fn eq(&self, other: &Str<'_>) -> bool {
        if !self.escaped && !other.escaped {
            self.raw == other.raw
        } else {
            self.chars().eq(other.chars())
        }
    }
}

impl Eq for Str<'_> {}

impl core::hash::Hash for Str<'_> {
    /// Hashes the unescaped string, as equality compares it.
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        for c in self.chars() {
            state.write_u32(c as u32);
        }
        state.write_u8(0xff);
    }
}

impl fmt::Display for Str<'_> {
    /// Writes the unescaped string.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(s) = self.as_borrowed() {
            return f.write_str(s);
        }
        let mut utf8 = [0u8; 4];
        for c in self.chars() {
            f.write_str(c.encode_utf8(&mut utf8))?;
        }
        Ok(())
    }
}

impl fmt::Debug for Str<'_> {
    /// Writes the string as a Rust string literal of its unescaped form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for c in self.chars() {
            for e in c.escape_debug() {
                fmt::Write::write_char(f, e)?;
            }
        }
        f.write_str("\"")
    }
}

/// Decodes the escape at the start of `s` (which starts with a backslash) of validated input.
/// Returns the character and the number of bytes used. Never panics: malformed input (which
/// validation excludes) decodes as U+FFFD.
#[inline]
pub(crate) fn decode_escape(s: &[u8]) -> (char, usize) {
    let c = match s.get(1) {
        Some(b'"') => '"',
        Some(b'\\') => '\\',
        Some(b'/') => '/',
        Some(b'b') => '\u{8}',
        Some(b'f') => '\u{c}',
        Some(b'n') => '\n',
        Some(b'r') => '\r',
        Some(b't') => '\t',
        Some(b'u') => {
            let Some(hi) = hex4(s, 2) else {
                return ('\u{fffd}', 1);
            };
            if (0xD800..0xDC00).contains(&hi) {
                if let (Some(b'\\'), Some(b'u'), Some(lo)) = (s.get(6), s.get(7), hex4(s, 8)) {
                    if (0xDC00..0xE000).contains(&lo) {
                        let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                        return (char::from_u32(cp).unwrap_or('\u{fffd}'), 12);
                    }
                }
                return ('\u{fffd}', 6);
            }
            return (char::from_u32(hi).unwrap_or('\u{fffd}'), 6);
        }
        _ => return ('\u{fffd}', 1),
    };
    (c, 2)
}

/// Decodes one UTF-8 character at the start of non-empty validated `s`; returns it and its
/// length. Never panics: malformed input decodes as U+FFFD of length 1.
#[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
#[inline]
pub(crate) fn decode_utf8(s: &[u8]) -> (char, usize) {
    let Some(&b0) = s.first() else {
        return ('\u{fffd}', 1);
    };
    let len = match b0 {
        0..=0x7f => return (b0 as char, 1),
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => return ('\u{fffd}', 1),
    };
    match s.get(..len).map(core::str::from_utf8) {
        Some(Ok(t)) => (t.chars().next().unwrap_or('\u{fffd}'), len),
        _ => ('\u{fffd}', 1),
    }
}

/// [`decode_utf8`] on small targets (those without 128-bit vectors, as the scanner's compact
/// form): the sequence is checked and combined by hand, so `core::str::from_utf8` is not
/// linked for it.
#[cfg(not(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64"))))]
#[inline]
pub(crate) fn decode_utf8(s: &[u8]) -> (char, usize) {
    decode_utf8_by_hand(s)
}

/// One UTF-8 sequence at the start of `s`, as `core::str::from_utf8` would accept it (no
/// overlong forms, no surrogates, nothing above U+10FFFF); U+FFFD of length 1 otherwise.
#[cfg(any(
    test,
    not(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))
))]
fn decode_utf8_by_hand(s: &[u8]) -> (char, usize) {
    const BAD: (char, usize) = ('\u{fffd}', 1);
    let Some(&b0) = s.first() else {
        return BAD;
    };
    // The length, and the smallest code point that needs it.
    let (len, min) = match b0 {
        0..=0x7f => return (b0 as char, 1),
        0xC0..=0xDF => (2, 0x80),
        0xE0..=0xEF => (3, 0x800),
        0xF0..=0xF7 => (4, 0x1_0000),
        _ => return BAD,
    };
    let Some(rest) = s.get(1..len) else {
        return BAD;
    };
    let mut c = u32::from(b0 & (0x7F >> len));
    for &b in rest {
        if b & 0xC0 != 0x80 {
            return BAD;
        }
        c = (c << 6) | u32::from(b & 0x3F);
    }
    match char::from_u32(c) {
        Some(ch) if c >= min => (ch, len),
        _ => BAD,
    }
}

/// The unescaped characters of a [`Str`], decoded one at a time.
#[derive(Clone, Debug)]
pub struct Chars<'a> {
    rest: &'a [u8],
}

impl<'a> Chars<'a> {
    pub(crate) const fn new(raw: &'a [u8]) -> Self {
        Chars { rest: raw }
    }
}

impl Iterator for Chars<'_> {
    type Item = char;

    #[cfg_attr(
        all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")),
        inline
    )]
    #[cfg_attr(
        not(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64"))),
        inline(never)
    )]
    fn next(&mut self) -> Option<char> {
        let &b0 = self.rest.first()?;
        let (c, used) = match b0 {
            b'\\' => decode_escape(self.rest),
            0..=0x7f => (b0 as char, 1),
            _ => decode_utf8(self.rest),
        };
        self.rest = self.rest.get(used..).unwrap_or(&[]);
        Some(c)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.rest.len().div_ceil(12), Some(self.rest.len()))
    }
}

impl core::iter::FusedIterator for Chars<'_> {}

/// Four hex digits at `i` as a code unit.
#[inline(always)]
pub(crate) fn hex4(b: &[u8], i: usize) -> Option<u32> {
    let s = b.get(i..i + 4)?;
    let mut v = 0u32;
    for &c in s {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return None,
        };
        v = (v << 4) | d as u32;
    }
    Some(v)
}

/// The offset after the string whose opening quote is at `i`, in validated input.
#[inline]
pub(crate) fn skip_string(b: &[u8], i: usize) -> usize {
    let mut j = i + 1;
    loop {
        match b
            .get(j..)
            .and_then(|r| crate::find::memchr2(b'"', b'\\', r))
        {
            Some(k) => {
                j += k;
                if b.get(j) == Some(&b'"') {
                    return j + 1;
                }
                j += 2;
            }
            None => return b.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{decode_utf8_by_hand, Str};

    /// Escaped strings compare with `&str`s by their characters: escapes, non-ASCII text,
    /// and either side running out first.
    #[test]
    fn escaped_strings_compare_by_characters() {
        let cases: [(&[u8], &str, bool); 10] = [
            (br"caf\u00e9", "caf\u{e9}", true),
            (br"caf\u00e9", "cafe", false),
            (br"caf\u00e9", "caf\u{e9}!", false),
            (br"caf\u00e9!", "caf\u{e9}", false),
            (
                br"\ud83d\ude00 \u00e9t\u00e9",
                "\u{1F600} \u{e9}t\u{e9}",
                true,
            ),
            (br"\ud83d\ude00", "\u{1F601}", false),
            (br"a\\b", "a\\b", true),
            (br"a\nb", "a\nb", true),
            (br"\u00e9", "", false),
            (br"\u00e9\u00e9", "\u{e9}\u{e9}", true),
        ];
        for (raw, s, equal) in cases {
            assert_eq!(Str::new(raw, true).eq_str(s), equal, "{raw:?} {s:?}");
        }
    }

    /// What `decode_utf8` did with `core::str::from_utf8`: the length from the lead byte,
    /// then the sequence as `from_utf8` takes it.
    fn reference(s: &[u8]) -> (char, usize) {
        let len = match s.first() {
            Some(0..=0x7f) => 1,
            Some(0xC0..=0xDF) => 2,
            Some(0xE0..=0xEF) => 3,
            Some(0xF0..=0xF7) => 4,
            _ => return ('\u{fffd}', 1),
        };
        match s.get(..len).map(core::str::from_utf8) {
            Some(Ok(t)) => (t.chars().next().unwrap_or('\u{fffd}'), len),
            _ => ('\u{fffd}', 1),
        }
    }

    /// Every sequence of up to three bytes, and four-byte ones over the bytes where the
    /// rules change, with a byte after them: decoded as `from_utf8` decodes them.
    #[test]
    fn utf8_by_hand_is_from_utf8() {
        assert_eq!(decode_utf8_by_hand(b""), ('\u{fffd}', 1));
        for a in 0..=255u8 {
            assert_eq!(decode_utf8_by_hand(&[a]), reference(&[a]));
            for b in 0..=255u8 {
                assert_eq!(decode_utf8_by_hand(&[a, b]), reference(&[a, b]));
                if a < 0xC0 {
                    continue;
                }
                for c in 0..=255u8 {
                    let s = [a, b, c, b'x'];
                    assert_eq!(decode_utf8_by_hand(&s), reference(&s), "{s:x?}");
                }
            }
        }
        let edges = [0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF];
        for a in 0xF0..=0xFFu8 {
            for b in edges {
                for c in edges {
                    for d in edges {
                        let s = [a, b, c, d];
                        assert_eq!(decode_utf8_by_hand(&s), reference(&s), "{s:x?}");
                    }
                }
            }
        }
    }
}
