//! The validating scanner: one pass, no allocation, no recursion.
//!
//! It walks the input once with an explicit container stack (one bit per level), checks every
//! rule of RFC 8259 plus QEMU's (no duplicate top-level names), and records where the
//! well-known top-level members of a QMP message sit, so that `kind()` and `id()` cost nothing
//! afterwards.

use crate::error::Reason;
use crate::json::keys::{Known, KNOWN_COUNT};
use crate::json::Span;
use crate::limits::Limits;

/// A scanner failure: the byte offset and the reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fail {
    pub offset: usize,
    pub reason: Reason,
}

#[inline(always)]
fn fail<T>(offset: usize, reason: Reason) -> Result<T, Fail> {
    Err(Fail { offset, reason })
}

/// What the top-level object holds, recorded during the scan.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TopObject {
    pub span: Span,
    pub members: u32,
    pub known: [Span; KNOWN_COUNT],
}

/// The outcome of scanning one document.
pub(crate) enum Document {
    /// The document is an object.
    Object(TopObject),
    /// The document is some other value (its span).
    Other(Span),
}

#[inline(always)]
pub(crate) const fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// A mask whose lowest set bit marks the first byte of `w` (little endian) that a string
/// body cannot skip: `"`, `\`, a control byte or a non-ASCII byte. Zero when there is none.
#[inline(always)]
fn special_mask(w: u64) -> u64 {
    #[inline(always)]
    fn zero_bytes(v: u64) -> u64 {
        v.wrapping_sub(LO) & !v & HI
    }
    let quote = zero_bytes(w ^ (LO * b'"' as u64));
    let backslash = zero_bytes(w ^ (LO * b'\\' as u64));
    let control = w.wrapping_sub(LO * 0x20) & !w & HI;
    quote | backslash | control | (w & HI)
}

/// A stack of open containers, one bit each (1 = object), up to [`Limits::MAX_DEPTH_CAP`].
struct Stack {
    bits: [u64; Limits::MAX_DEPTH_CAP / 64],
    depth: usize,
}

impl Stack {
    #[inline(always)]
    fn push(&mut self, object: bool, max: usize) -> bool {
        if self.depth >= max {
            return false;
        }
        let (word, bit) = (self.depth / 64, self.depth % 64);
        if let Some(w) = self.bits.get_mut(word) {
            if object {
                *w |= 1 << bit;
            } else {
                *w &= !(1 << bit);
            }
            self.depth += 1;
            true
        } else {
            false
        }
    }

    #[inline(always)]
    fn top_is_object(&self) -> bool {
        let d = self.depth.wrapping_sub(1);
        match self.bits.get(d / 64) {
            Some(w) => w & (1 << (d % 64)) != 0,
            None => false,
        }
    }
}

/// One top-level member name, kept for the duplicate check.
#[derive(Clone, Copy)]
struct Name {
    start: u32,
    len: u32,
    hash: u32,
    escaped: bool,
}

/// FNV-1a over bytes, continuing from `h`.
#[inline(always)]
fn fnv(mut h: u32, bytes: &[u8]) -> u32 {
    for &b in bytes {
        h ^= b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

const FNV_START: u32 = 0x811c_9dc5;

/// Hash of the unescaped form of a string body.
fn name_hash(raw: &[u8], escaped: bool) -> u32 {
    if !escaped {
        return fnv(FNV_START, raw);
    }
    let mut h = FNV_START;
    let mut utf8 = [0u8; 4];
    for c in crate::json::str::Chars::new(raw) {
        h = fnv(h, c.encode_utf8(&mut utf8).as_bytes());
    }
    h
}

struct Scanner<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Scanner<'a> {
    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    #[inline(always)]
    fn skip_ws(&mut self) {
        while let Some(&c) = self.b.get(self.pos) {
            if is_ws(c) {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    /// Scans a string starting at its opening quote; returns whether it holds escapes and
    /// leaves `pos` after the closing quote.
    #[inline(always)]
    fn string(&mut self) -> Result<bool, Fail> {
        let b = self.b;
        let mut i = self.pos + 1;
        let mut escaped = false;
        loop {
            while let Some(chunk) = b.get(i..).and_then(|r| r.first_chunk::<8>()) {
                let m = special_mask(u64::from_le_bytes(*chunk));
                if m != 0 {
                    i += (m.trailing_zeros() / 8) as usize;
                    break;
                }
                i += 8;
            }
            match b.get(i) {
                None => return fail(i, Reason::UnexpectedEnd),
                Some(b'"') => {
                    self.pos = i + 1;
                    return Ok(escaped);
                }
                Some(b'\\') => {
                    escaped = true;
                    i = escape(b, i)?;
                }
                Some(0..=0x1f) => return fail(i, Reason::ControlCharacter),
                Some(0x80..=0xff) => i = utf8_sequence(b, i)?,
                Some(_) => i += 1,
            }
        }
    }

    /// Scans a number starting at `pos`; leaves `pos` after it.
    #[inline(always)]
    fn number(&mut self) -> Result<(), Fail> {
        let b = self.b;
        let mut i = self.pos;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        match b.get(i) {
            Some(b'0') => {
                i += 1;
                if matches!(b.get(i), Some(b'0'..=b'9')) {
                    return fail(i, Reason::InvalidNumber);
                }
            }
            Some(b'1'..=b'9') => {
                i += 1;
                while matches!(b.get(i), Some(b'0'..=b'9')) {
                    i += 1;
                }
            }
            None => return fail(i, Reason::UnexpectedEnd),
            Some(_) => return fail(i, Reason::InvalidNumber),
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            i = digits(b, i)?;
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            i = digits(b, i)?;
        }
        self.pos = i;
        Ok(())
    }

    #[inline(always)]
    fn literal(&mut self, word: &[u8]) -> Result<(), Fail> {
        let end = self.pos + word.len();
        match self.b.get(self.pos..end) {
            Some(s) if s == word => {
                self.pos = end;
                Ok(())
            }
            _ => {
                // Point at the first byte that differs (or the end of input).
                let mut i = self.pos;
                for &w in word {
                    match self.b.get(i) {
                        Some(&c) if c == w => i += 1,
                        Some(_) => return fail(i, Reason::InvalidLiteral),
                        None => return fail(i, Reason::UnexpectedEnd),
                    }
                }
                fail(i, Reason::InvalidLiteral)
            }
        }
    }
}

/// One or more digits at `i`; returns the offset after them.
#[inline(always)]
fn digits(b: &[u8], mut i: usize) -> Result<usize, Fail> {
    match b.get(i) {
        Some(b'0'..=b'9') => i += 1,
        None => return fail(i, Reason::UnexpectedEnd),
        Some(_) => return fail(i, Reason::InvalidNumber),
    }
    while matches!(b.get(i), Some(b'0'..=b'9')) {
        i += 1;
    }
    Ok(i)
}

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

/// Validates the escape whose backslash is at `i`; returns the offset after it.
fn escape(b: &[u8], i: usize) -> Result<usize, Fail> {
    match b.get(i + 1) {
        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(i + 2),
        Some(b'u') => {
            let Some(unit) = hex4(b, i + 2) else {
                let rest = b.get(i + 2..).unwrap_or(&[]);
                return if rest.len() < 4 && rest.iter().all(u8::is_ascii_hexdigit) {
                    fail(b.len(), Reason::UnexpectedEnd)
                } else {
                    fail(i, Reason::InvalidEscape)
                };
            };
            match unit {
                0xD800..=0xDBFF => {
                    if b.get(i + 6) == Some(&b'\\') && b.get(i + 7) == Some(&b'u') {
                        if let Some(0xDC00..=0xDFFF) = hex4(b, i + 8) {
                            return Ok(i + 12);
                        }
                    }
                    fail(i, Reason::LoneSurrogate)
                }
                0xDC00..=0xDFFF => fail(i, Reason::LoneSurrogate),
                _ => Ok(i + 6),
            }
        }
        None => fail(i + 1, Reason::UnexpectedEnd),
        Some(_) => fail(i, Reason::InvalidEscape),
    }
}

/// Validates the UTF-8 sequence starting at `i` (a byte >= 0x80); returns the offset after it.
fn utf8_sequence(b: &[u8], i: usize) -> Result<usize, Fail> {
    let (extra, lo, hi) = match b.get(i) {
        Some(0xC2..=0xDF) => (1, 0x80, 0xBF),
        Some(0xE0) => (2, 0xA0, 0xBF),
        Some(0xE1..=0xEC | 0xEE..=0xEF) => (2, 0x80, 0xBF),
        Some(0xED) => (2, 0x80, 0x9F),
        Some(0xF0) => (3, 0x90, 0xBF),
        Some(0xF1..=0xF3) => (3, 0x80, 0xBF),
        Some(0xF4) => (3, 0x80, 0x8F),
        _ => return fail(i, Reason::InvalidUtf8),
    };
    match b.get(i + 1) {
        Some(&c) if (lo..=hi).contains(&c) => {}
        _ => return fail(i, Reason::InvalidUtf8),
    }
    for k in 2..=extra {
        match b.get(i + k) {
            Some(0x80..=0xBF) => {}
            _ => return fail(i, Reason::InvalidUtf8),
        }
    }
    Ok(i + 1 + extra)
}

/// Bookkeeping for the members of the top-level object.
struct Top {
    names: heapless::Vec<Name, { Limits::MAX_MEMBERS_CAP }>,
    max_members: usize,
    known: [Span; KNOWN_COUNT],
    /// Which known member the current top-level value belongs to.
    current: Option<Known>,
}

impl Top {
    /// Records a top-level member name: `start` is its opening quote, `end` the offset after
    /// its closing quote. Rejects duplicates (compared unescaped) and too many members.
    fn member(&mut self, b: &[u8], start: usize, end: usize, escaped: bool) -> Result<(), Fail> {
        let body = b.get(start + 1..end.saturating_sub(1)).unwrap_or(&[]);
        if self.names.len() >= self.max_members {
            return fail(start, Reason::TooManyMembers);
        }
        let hash = name_hash(body, escaped);
        for n in &self.names {
            if n.hash != hash {
                continue;
            }
            let other = b
                .get(n.start as usize..(n.start + n.len) as usize)
                .unwrap_or(&[]);
            let same = if !escaped && !n.escaped {
                other == body
            } else {
                crate::json::str::Chars::new(other).eq(crate::json::str::Chars::new(body))
            };
            if same {
                return fail(start, Reason::DuplicateMember);
            }
        }
        // Cannot fail: the length was checked against `max_members` <= capacity above.
        let _ = self.names.push(Name {
            start: (start + 1) as u32,
            len: body.len() as u32,
            hash,
            escaped,
        });
        self.current = Known::lookup(body, escaped);
        Ok(())
    }
}

/// Scans one JSON document, which must fill `b` apart from surrounding whitespace.
pub(crate) fn scan(b: &[u8], limits: &Limits) -> Result<Document, Fail> {
    if b.len() > u32::MAX as usize - 1 {
        return fail(0, Reason::TooLarge);
    }
    if b.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return fail(0, Reason::ByteOrderMark);
    }
    let mut s = Scanner { b, pos: 0 };
    s.skip_ws();
    let start = s.pos;
    let is_object = match s.peek() {
        None => return fail(start, Reason::EmptyInput),
        Some(c) => c == b'{',
    };
    let max_depth = limits.max_depth();
    let mut stack = Stack {
        bits: [0; Limits::MAX_DEPTH_CAP / 64],
        depth: 0,
    };
    let mut top = Top {
        names: heapless::Vec::new(),
        max_members: limits.max_members(),
        known: [Span::NONE; KNOWN_COUNT],
        current: None,
    };
    // Start offset of the current top-level member's value (nested members leave it alone).
    let mut value_start = 0usize;

    'value: loop {
        // A value is expected at `s.pos` (whitespace already skipped).
        match s.peek() {
            Some(b'{') => {
                if !stack.push(true, max_depth) {
                    return fail(s.pos, Reason::DepthLimit);
                }
                s.pos += 1;
                s.skip_ws();
                match s.peek() {
                    Some(b'}') => {
                        s.pos += 1;
                        stack.depth -= 1;
                    }
                    Some(b'"') => {
                        member_name(&mut s, &mut top, stack.depth == 1 && is_object)?;
                        if stack.depth == 1 {
                            value_start = s.pos;
                        }
                        continue 'value;
                    }
                    None => return fail(s.pos, Reason::UnexpectedEnd),
                    Some(_) => return fail(s.pos, Reason::ExpectedName),
                }
            }
            Some(b'[') => {
                if !stack.push(false, max_depth) {
                    return fail(s.pos, Reason::DepthLimit);
                }
                s.pos += 1;
                s.skip_ws();
                if s.peek() == Some(b']') {
                    s.pos += 1;
                    stack.depth -= 1;
                } else {
                    continue 'value;
                }
            }
            Some(b'"') => {
                s.string()?;
            }
            Some(b'-' | b'0'..=b'9') => s.number()?,
            Some(b't') => s.literal(b"true")?,
            Some(b'f') => s.literal(b"false")?,
            Some(b'n') => s.literal(b"null")?,
            None => return fail(s.pos, Reason::UnexpectedEnd),
            Some(0x80..=0xff) if utf8_sequence(b, s.pos).is_err() => {
                return fail(s.pos, Reason::InvalidUtf8)
            }
            Some(_) => return fail(s.pos, Reason::ExpectedValue),
        }
        // A value just ended at `s.pos`.
        loop {
            match stack.depth {
                0 => break 'value,
                1 if is_object => {
                    if let Some(k) = top.current.take() {
                        top.known[k as usize] = Span::new(value_start, s.pos);
                    }
                }
                _ => {}
            }
            s.skip_ws();
            let object = stack.top_is_object();
            match s.peek() {
                Some(b',') => {
                    s.pos += 1;
                    s.skip_ws();
                    if object {
                        match s.peek() {
                            Some(b'"') => {}
                            None => return fail(s.pos, Reason::UnexpectedEnd),
                            Some(_) => return fail(s.pos, Reason::ExpectedName),
                        }
                        member_name(&mut s, &mut top, stack.depth == 1 && is_object)?;
                        if stack.depth == 1 {
                            value_start = s.pos;
                        }
                    }
                    continue 'value;
                }
                Some(b'}') if object => {
                    s.pos += 1;
                    stack.depth -= 1;
                }
                Some(b']') if !object => {
                    s.pos += 1;
                    stack.depth -= 1;
                }
                None => return fail(s.pos, Reason::UnexpectedEnd),
                Some(_) => return fail(s.pos, Reason::ExpectedCommaOrEnd),
            }
        }
    }
    let end = s.pos;
    s.skip_ws();
    if s.pos != b.len() {
        return fail(s.pos, Reason::TrailingData);
    }
    let span = Span::new(start, end);
    if is_object {
        Ok(Document::Object(TopObject {
            span,
            members: top.names.len() as u32,
            known: top.known,
        }))
    } else {
        Ok(Document::Other(span))
    }
}

/// Scans a member name at `s.pos` (an opening quote), the `:` and the whitespace after it.
#[inline(always)]
fn member_name(s: &mut Scanner<'_>, top: &mut Top, top_level: bool) -> Result<(), Fail> {
    let start = s.pos;
    let escaped = s.string()?;
    if top_level {
        top.member(s.b, start, s.pos, escaped)?;
    }
    s.skip_ws();
    match s.peek() {
        Some(b':') => s.pos += 1,
        None => return fail(s.pos, Reason::UnexpectedEnd),
        Some(_) => return fail(s.pos, Reason::ExpectedColon),
    }
    s.skip_ws();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_mask_finds_first() {
        let w = u64::from_le_bytes(*b"abc\"de\\f");
        assert_eq!(special_mask(w).trailing_zeros() / 8, 3);
        let w = u64::from_le_bytes(*b"abcdefgh");
        assert_eq!(special_mask(w), 0);
        let w = u64::from_le_bytes([b'a', 0x1f, b'"', 0, 0, 0, 0, 0]);
        assert_eq!(special_mask(w).trailing_zeros() / 8, 1);
        let w = u64::from_le_bytes([b'a', b'b', 0xc3, 0xa9, 0, 0, 0, 0]);
        assert_eq!(special_mask(w).trailing_zeros() / 8, 2);
        let w = u64::from_le_bytes([0x7f, b' ', b'~', b'!', b'#', b'[', b']', b'/']);
        assert_eq!(special_mask(w), 0);
    }

    /// Regression: member names inside a nested object moved the start of the top-level
    /// member's value, so `get("QMP")` returned the tail of the object.
    #[test]
    fn known_value_spans_nested_objects() {
        let b = br#"{"QMP": {"version": {"a": 1}, "capabilities": [1]}, "id": {"x": {"y": 2}}}"#;
        let Ok(Document::Object(top)) = scan(b, &Limits::new()) else {
            panic!("not an object")
        };
        let qmp = top.known[Known::Qmp as usize].get(b);
        assert_eq!(
            qmp,
            Some(&br#"{"version": {"a": 1}, "capabilities": [1]}"#[..])
        );
        let id = top.known[Known::Id as usize].get(b);
        assert_eq!(id, Some(&br#"{"x": {"y": 2}}"#[..]));
    }

    #[test]
    fn known_spans_ignore_nested_member_names() {
        let b = br#"{"event": "E", "data": {"status": "created", "id": "bk1"}, "id": [{"x": 1}]}"#;
        let Ok(Document::Object(top)) = scan(b, &Limits::new()) else {
            panic!("should scan");
        };
        let data = top.known[Known::Data as usize].get(b);
        assert_eq!(data, Some(&br#"{"status": "created", "id": "bk1"}"#[..]));
        let id = top.known[Known::Id as usize].get(b);
        assert_eq!(id, Some(&br#"[{"x": 1}]"#[..]));
    }
}
