//! The validating scanner: one pass, no allocation, no recursion.
//!
//! It walks the input once with an explicit container stack (one bit per level), checks every
//! rule of RFC 8259 plus QEMU's (no duplicate member names, at any depth), and records where the
//! well-known top-level members of a QMP message sit, so that `kind()` and `id()` cost nothing
//! afterwards.

use crate::error::Reason;
use crate::json::keys::{Fingerprint, Known, KNOWN_COUNT};
use crate::json::str::hex4;
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

/// The top-level object: where it is and how many members it has. Where the known members
/// sit is written into the caller's array (see [`scan`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct TopObject {
    pub span: Span,
    pub members: u32,
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

/// [`is_ws`], where `\n` counts only when `NL` is true. The line scan ([`scan_line`]) runs
/// with `NL = false`: a `\n` ends the line, so it can never be inside the object.
#[inline(always)]
const fn ws<const NL: bool>(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r') || (NL && b == b'\n')
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// A mask whose lowest set bit marks the first byte of `w` (little endian) that a string
/// body cannot skip: `"`, `\\`, a control byte or a non-ASCII byte. Zero when there is none.
///
/// Bits above the lowest one may be wrong (borrows carry upwards), the lowest one is exact: a
/// borrow only starts at a byte that is itself special.
///
/// `x - 0x01` sets a byte's high bit when the byte of `x` is zero (a `"` or `\\`), and also
/// when it is above 0x80; the usual `& !x` that removes the latter is not needed, as those are
/// exactly the bytes of `w` from 0x80, which are special anyway (the xor keeps the high bit).
#[inline(always)]
fn special_mask(w: u64) -> u64 {
    let quote = w ^ (LO * b'"' as u64);
    let backslash = w ^ (LO * b'\\' as u64);
    // Bytes equal to `"` or `\\`, below 0x20, or from 0x80.
    (quote.wrapping_sub(LO) | backslash.wrapping_sub(LO) | w.wrapping_sub(LO * 0x20) | w) & HI
}

/// 0xFF when a string body cannot skip `x` (see [`special_mask`]), else 0: the per-byte test
/// of the vector steps. A byte below 0x20 or from 0x80 is exactly one that is below 0x20 as
/// an `i8`.
#[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
#[inline(always)]
fn special_byte(x: u8) -> u8 {
    (((x == b'"') | (x == b'\\') | ((x as i8) < 0x20)) as u8).wrapping_neg()
}

/// Whether each byte of `c` is one a string body cannot skip (see [`special_mask`]), as a
/// 16-byte mask (0xFF for such a byte, little endian). Written so that LLVM turns it into
/// three vector compares on targets with 128-bit vectors (SSE2, NEON): no `unsafe`, no
/// intrinsics. Only used where such vectors exist (see [`plain_run`]).
#[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
#[inline(always)]
fn special16(c: &[u8; 16]) -> u128 {
    let mut r = [0u8; 16];
    for (o, &x) in r.iter_mut().zip(c) {
        *o = special_byte(x);
    }
    u128::from_le_bytes(r)
}

/// The offset of the first byte at or after `i` that a string body cannot skip (see
/// [`special_mask`]), or some offset before it within the last 8 bytes of `b`: the caller
/// looks at the byte there and goes on byte by byte.
///
/// The first 16 bytes inline (most strings that get here end in them), the rest out of line
/// ([`plain_run_long`]): in a loop of its own, the long run keeps its constants in registers
/// whatever the scanning loop around it holds.
#[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
#[inline(always)]
fn plain_run(b: &[u8], i: usize) -> usize {
    match b.get(i..).and_then(|r| r.first_chunk::<16>()) {
        Some(chunk) => {
            let m = special16(chunk);
            if m != 0 {
                return i + (m.trailing_zeros() / 8) as usize;
            }
            plain_run_long(b, i + 16)
        }
        None => plain_tail(b, i),
    }
}

/// [`plain_run`] past its first 16 bytes.
#[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
#[inline(never)]
fn plain_run_long(b: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = b.get(i..).and_then(|r| r.first_chunk::<16>()) {
        let m = special16(chunk);
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 16;
    }
    plain_tail(b, i)
}

/// [`plain_run`] without 128-bit vectors: a word at a time.
#[cfg(not(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64"))))]
#[inline(always)]
fn plain_run(b: &[u8], i: usize) -> usize {
    plain_tail(b, i)
}

/// [`plain_run`] within the last 16 bytes of `b` (or everywhere, without 128-bit vectors):
/// a word at a time. Out of line, so its constants stay out of the scanning loops.
#[inline(never)]
fn plain_tail(b: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = b.get(i..).and_then(|r| r.first_chunk::<8>()) {
        let m = special_mask(u64::from_le_bytes(*chunk));
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i
}

/// One bit per byte of `c`, set for the bytes a string body cannot skip: the compares of
/// [`special16`] over all 64 bytes (vectorized by LLVM), one bit of each kept per byte of
/// one word, and that word's 8x8 bit matrix transposed. Out of line: inlined, its vectors
/// were kept (and spilled) across the scanning loop around it.
#[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
#[inline(never)]
fn mask64(c: &[u8; 64]) -> u64 {
    // Byte `i` keeps bit `i / 8` of its compare's result.
    const KEEP: [u8; 64] = {
        let mut keep = [0u8; 64];
        let mut i = 0;
        while i < 64 {
            keep[i] = 1 << (i / 8);
            i += 1;
        }
        keep
    };
    let mut r = [0u8; 64];
    for ((o, &x), &k) in r.iter_mut().zip(c).zip(&KEEP) {
        *o = special_byte(x) & k;
    }
    // Bit `k` of byte `j` of `x` is byte `8 * k + j`'s: the eight words, each with its own
    // bit, OR-ed. Then the 8x8 bit matrix is transposed (three swaps of its blocks), so bit
    // `j` of byte `k` is.
    let (words, _) = r.as_chunks::<8>();
    let mut x = 0;
    for w in words {
        x |= u64::from_le_bytes(*w);
    }
    let t = (x ^ (x >> 7)) & 0x00AA_00AA_00AA_00AA;
    let x = x ^ t ^ (t << 7);
    let t = (x ^ (x >> 14)) & 0x0000_CCCC_0000_CCCC;
    let x = x ^ t ^ (t << 14);
    let t = (x ^ (x >> 28)) & 0x0000_0000_F0F0_F0F0;
    x ^ t ^ (t << 28)
}

/// Where the bytes a string body cannot skip are, 64 bytes at a time: the bitmap of one
/// window of the input, computed once and then shared by every string that starts in it.
///
/// Finding the end of a short string is then a shift and a bit count on a register, not a
/// load followed by a chain of word arithmetic: the window is computed off the critical
/// path, with independent vector compares. No byte is in two windows of one scan. A window
/// may reach up to 63 bytes past the end of the document (into the next message of a
/// stream), which the next scan classifies again: bounded lookahead per message, so the work
/// stays linear in the input.
///
/// Without 128-bit vectors (or with `--cfg qmp_compact`) there are no windows: `find` is
/// [`plain_run`], a word at a time.
struct Specials {
    /// Offset of the window's first byte.
    #[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
    base: usize,
    /// Bit `k` is set when byte `base + k` is special.
    #[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
    bits: u64,
}

impl Specials {
    /// No window yet: its base is more than 64 bytes away from every offset of an input
    /// that [`scan`] accepts (at most `u32::MAX` bytes).
    #[inline(always)]
    fn new() -> Specials {
        Specials {
            #[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
            base: usize::MAX / 2,
            #[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
            bits: 0,
        }
    }

    /// [`plain_run`] through the windows: the offset of the first special byte at or after
    /// `i`, or, within the last 64 bytes of `b`, some offset before it.
    #[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
    #[inline(always)]
    fn find(&mut self, b: &[u8], i: usize) -> usize {
        let off = i.wrapping_sub(self.base);
        if off < 64 {
            let m = self.bits >> off;
            if m != 0 {
                return i + m.trailing_zeros() as usize;
            }
            // The string goes on past the window: the rest of it without a new window. In
            // QEMU's replies that is mostly the last string of a message (an error's `desc`),
            // where a window would be computed for the next message's bytes.
            return plain_run(b, self.base + 64);
        }
        self.refill(b, i)
    }

    /// Starts windows at `at` until one holds a special byte.
    #[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
    #[inline(always)]
    fn refill(&mut self, b: &[u8], mut at: usize) -> usize {
        while let Some(chunk) = b.get(at..).and_then(|r| r.first_chunk::<64>()) {
            let bits = mask64(chunk);
            self.base = at;
            self.bits = bits;
            if bits != 0 {
                return at + bits.trailing_zeros() as usize;
            }
            at += 64;
        }
        if b.len().saturating_sub(at) >= 32 {
            return self.last_window(b, at);
        }
        plain_run(b, at)
    }

    /// Fewer than 64 bytes but enough for a window to pay are left from `at` (a pre-split
    /// line's strings end there): a window of them, padded with zeros. A zero is special, so
    /// the padding's first byte marks the end of the input, where the caller finds no
    /// closing quote.
    #[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
    #[inline(never)]
    fn last_window(&mut self, b: &[u8], at: usize) -> usize {
        let rest = b.get(at..).unwrap_or(&[]);
        let mut padded = [0u8; 64];
        if let Some(head) = padded.get_mut(..rest.len()) {
            head.copy_from_slice(rest);
        }
        let bits = mask64(&padded);
        self.base = at;
        self.bits = bits;
        at + bits.trailing_zeros() as usize
    }

    /// Without 128-bit vectors there are no windows (64 scalar compares would cost more
    /// than they save, in time and in flash): [`plain_run`], a word at a time.
    #[cfg(not(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64"))))]
    #[inline(always)]
    fn find(&mut self, b: &[u8], i: usize) -> usize {
        plain_run(b, i)
    }
}

/// A stack of open containers below the top-level object, one bit each (1 = object).
trait Stack {
    /// How many containers are open.
    fn depth(&self) -> usize;
    /// Opens a container; `false` when this stack is full (not when a limit is hit).
    fn push(&mut self, object: bool) -> bool;
    /// Closes the innermost container.
    fn pop(&mut self);
    /// Whether the innermost container is an object.
    fn top_is_object(&self) -> bool;
    /// Whether [`push`](Self::push) would fail (asked by the flat-object loop only).
    #[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
    fn is_full(&self) -> bool;
}

/// The stack for the first 64 levels: a shift register in one word, nothing to initialize.
struct Small {
    bits: u64,
    depth: usize,
}

impl Stack for Small {
    #[inline(always)]
    fn depth(&self) -> usize {
        self.depth
    }

    #[inline(always)]
    fn push(&mut self, object: bool) -> bool {
        if self.depth >= 64 {
            return false;
        }
        self.bits = (self.bits << 1) | object as u64;
        self.depth += 1;
        true
    }

    #[inline(always)]
    fn pop(&mut self) {
        self.bits >>= 1;
        self.depth = self.depth.saturating_sub(1);
    }

    #[inline(always)]
    fn top_is_object(&self) -> bool {
        self.bits & 1 != 0
    }

    #[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
    #[inline(always)]
    fn is_full(&self) -> bool {
        self.depth >= 64
    }
}

/// A word of [`Big`]'s bits: 32 bits on small targets (see [`plain_run`]), where an array of
/// 64-bit words is cleared by a `memclr` of its own (8-byte aligned) that nothing else links.
#[cfg(not(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64"))))]
type BigWord = u32;
/// A word of [`Big`]'s bits.
#[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
type BigWord = u64;

/// Bits in a [`BigWord`].
const BIG_WORD: usize = BigWord::BITS as usize;

/// The stack for deeper documents, up to [`Limits::MAX_DEPTH_CAP`] levels (512 bytes); only
/// built when [`Small`] overflows.
struct Big {
    bits: [BigWord; Limits::MAX_DEPTH_CAP / BIG_WORD],
    depth: usize,
}

impl Big {
    /// Continues from a full [`Small`] (its oldest level is its highest bit).
    fn from_full(small: &Small) -> Big {
        let mut bits = [0; Limits::MAX_DEPTH_CAP / BIG_WORD];
        let oldest_first = small.bits.reverse_bits();
        for (k, w) in bits.iter_mut().take(64 / BIG_WORD).enumerate() {
            *w = (oldest_first >> (k * BIG_WORD)) as BigWord;
        }
        Big { bits, depth: 64 }
    }
}

impl Stack for Big {
    #[inline(always)]
    fn depth(&self) -> usize {
        self.depth
    }

    #[inline(always)]
    fn push(&mut self, object: bool) -> bool {
        let (word, bit) = (self.depth / BIG_WORD, self.depth % BIG_WORD);
        match self.bits.get_mut(word) {
            Some(w) => {
                *w = (*w & !(1 << bit)) | ((object as BigWord) << bit);
                self.depth += 1;
                true
            }
            None => false,
        }
    }

    #[inline(always)]
    fn pop(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    #[inline(always)]
    fn top_is_object(&self) -> bool {
        let d = self.depth.wrapping_sub(1);
        match self.bits.get(d / BIG_WORD) {
            Some(w) => w & (1 << (d % BIG_WORD)) != 0,
            None => false,
        }
    }

    #[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
    #[inline(always)]
    fn is_full(&self) -> bool {
        self.depth >= Limits::MAX_DEPTH_CAP
    }
}

/// One top-level member name, kept for the duplicate check.
#[derive(Clone, Copy)]
struct Name {
    /// Where its body (after the opening quote) starts, and its raw length.
    start: u32,
    len: u32,
    escaped: bool,
    print: Fingerprint,
}

/// The offset of the first non-whitespace byte at or after `i`. Out of line on small
/// targets (those without 128-bit vectors, see [`plain_run`]): it is called from a dozen
/// places.
#[cfg_attr(
    all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")),
    inline(always)
)]
#[cfg_attr(
    not(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64"))),
    inline(never)
)]
fn skip_ws<const NL: bool>(b: &[u8], mut i: usize) -> usize {
    while let Some(&c) = b.get(i) {
        if !ws::<NL>(c) {
            break;
        }
        i += 1;
    }
    i
}

/// Scans a string starting at its opening quote `i`; returns the offset after the closing
/// quote and whether the string holds escapes.
#[cfg_attr(
    all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")),
    inline(always)
)]
#[cfg_attr(
    not(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64"))),
    inline
)]
fn string(b: &[u8], i: usize, sp: &mut Specials) -> Result<(usize, bool), Fail> {
    let mut i = i + 1;
    let mut escaped = false;
    loop {
        i = sp.find(b, i);
        match b.get(i) {
            None => return fail(i, Reason::UnexpectedEnd),
            Some(b'"') => return Ok((i + 1, escaped)),
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

/// Scans a number starting at `i`; returns the offset after it.
#[cfg_attr(
    all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")),
    inline(always)
)]
#[cfg_attr(
    not(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64"))),
    inline
)]
fn number(b: &[u8], mut i: usize) -> Result<usize, Fail> {
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
        i = digits(b, i + 1)?;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        i = digits(b, i)?;
    }
    Ok(i)
}

/// Scans the literal `word` at `i`; returns the offset after it.
#[cfg_attr(
    all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")),
    inline(always)
)]
#[cfg_attr(
    not(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64"))),
    inline(never)
)]
fn literal(b: &[u8], i: usize, word: &[u8]) -> Result<usize, Fail> {
    let end = i + word.len();
    match b.get(i..end) {
        Some(s) if s == word => Ok(end),
        _ => literal_error(b, i, word),
    }
}

/// Points at the first byte of a bad literal that differs (or the end of input).
#[cold]
fn literal_error(b: &[u8], mut i: usize, word: &[u8]) -> Result<usize, Fail> {
    for &w in word {
        match b.get(i) {
            Some(&c) if c == w => i += 1,
            Some(_) => return fail(i, Reason::InvalidLiteral),
            None => return fail(i, Reason::UnexpectedEnd),
        }
    }
    fail(i, Reason::InvalidLiteral)
}

/// The error for a byte at `i` where a value should start.
#[cold]
#[cfg_attr(
    all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")),
    inline(never)
)]
fn not_a_value<T>(b: &[u8], i: usize) -> Result<T, Fail> {
    match b.get(i) {
        None => fail(i, Reason::UnexpectedEnd),
        Some(0x80..=0xff) if utf8_sequence(b, i).is_err() => fail(i, Reason::InvalidUtf8),
        Some(_) => fail(i, Reason::ExpectedValue),
    }
}

/// After a member name ending at `i`: whitespace, `:`, whitespace. Returns where the value
/// starts. QEMU's `": "` followed by the value is checked first, in two compares.
#[cfg_attr(
    all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")),
    inline(always)
)]
#[cfg_attr(
    not(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64"))),
    inline
)]
fn colon<const NL: bool>(b: &[u8], i: usize) -> Result<usize, Fail> {
    if b.get(i..i + 2) == Some(b": ") && !b.get(i + 2).is_some_and(|&c| ws::<NL>(c)) {
        return Ok(i + 2);
    }
    let i = skip_ws::<NL>(b, i);
    match b.get(i) {
        Some(b':') => Ok(skip_ws::<NL>(b, i + 1)),
        None => fail(i, Reason::UnexpectedEnd),
        Some(_) => fail(i, Reason::ExpectedColon),
    }
}

/// [`colon`] when the colon was matched with the name and `i` is just after it: QEMU's single
/// space first.
#[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
#[inline(always)]
fn after_colon<const NL: bool>(b: &[u8], i: usize) -> usize {
    if b.get(i) == Some(&b' ') && !b.get(i + 1).is_some_and(|&c| ws::<NL>(c)) {
        return i + 1;
    }
    skip_ws::<NL>(b, i)
}

/// [`colon`] for names below the top level, where the value's exact start is not recorded:
/// after QEMU's `": "` the value dispatch skips any further whitespace itself.
#[inline(always)]
fn colon_inner<const NL: bool>(b: &[u8], i: usize) -> Result<usize, Fail> {
    if b.get(i..i + 2) == Some(b": ") {
        return Ok(i + 2);
    }
    colon::<NL>(b, i)
}

/// After a `,` in an object, ending at `i`: whitespace, then the opening quote of a name.
/// Returns its offset. QEMU's single space is checked first.
#[cfg_attr(
    all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")),
    inline(always)
)]
#[cfg_attr(
    not(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64"))),
    inline(never)
)]
fn next_name<const NL: bool>(b: &[u8], mut i: usize) -> Result<usize, Fail> {
    if b.get(i) == Some(&b' ') {
        i += 1;
    }
    if b.get(i) != Some(&b'"') {
        i = skip_ws::<NL>(b, i);
        expect_name(b, i)?;
    }
    Ok(i)
}

/// Where a member name must start at `i` (after `{` or `,` and whitespace).
#[inline(always)]
fn expect_name(b: &[u8], i: usize) -> Result<(), Fail> {
    match b.get(i) {
        Some(b'"') => Ok(()),
        None => fail(i, Reason::UnexpectedEnd),
        Some(_) => fail(i, Reason::ExpectedName),
    }
}

/// One or more digits at `i`; returns the offset after them.
#[inline(always)]
fn digits(b: &[u8], i: usize) -> Result<usize, Fail> {
    match b.get(i) {
        Some(b'0'..=b'9') => {
            let mut i = i + 1;
            while matches!(b.get(i), Some(b'0'..=b'9')) {
                i += 1;
            }
            Ok(i)
        }
        None => fail(i, Reason::UnexpectedEnd),
        Some(_) => fail(i, Reason::InvalidNumber),
    }
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
///
/// Small targets (see [`plain_run`]) use the decoder the string views link anyway
/// (`decode_utf8`, which accepts exactly the sequences `from_utf8` does) instead of a second
/// table of lead bytes.
#[cfg(not(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64"))))]
fn utf8_sequence(b: &[u8], i: usize) -> Result<usize, Fail> {
    match crate::json::str::decode_utf8(b.get(i..).unwrap_or(&[])) {
        (_, len) if len > 1 => Ok(i + len),
        _ => fail(i, Reason::InvalidUtf8),
    }
}

/// Validates the UTF-8 sequence starting at `i` (a byte >= 0x80); returns the offset after it.
/// Out of line: QMP's text is nearly all ASCII, and inlined into every string scan it only
/// crowds the scanning loops.
#[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
#[inline(never)]
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

/// The top-level names kept for the duplicate check.
type Names = heapless::Vec<Name, { Limits::MAX_MEMBERS_CAP }>;

/// Bookkeeping for the members of the top-level object.
struct Top<'k> {
    /// The names that are not [`Known`] (those are checked by their span in `known`).
    names: &'k mut Names,
    /// Members so far.
    count: usize,
    max_members: usize,
    known: &'k mut [Span; KNOWN_COUNT],
}

/// The fingerprint of an unescaped name body at `start..start + len` of `b`, read as one
/// word when eight bytes are there (they are unless the input ends right after the name).
#[cfg_attr(
    all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")),
    inline(always)
)]
#[cfg_attr(
    not(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64"))),
    inline
)]
fn fingerprint_at(b: &[u8], start: usize, len: usize) -> Fingerprint {
    match b.get(start..).and_then(|r| r.first_chunk::<8>()) {
        Some(chunk) => {
            let w = u64::from_le_bytes(*chunk);
            Fingerprint {
                len: len as u32,
                word: if len >= 8 {
                    w
                } else {
                    w & ((1u64 << (8 * len)) - 1)
                },
                ninth: if len > 8 {
                    b.get(start + 8).copied().unwrap_or(0)
                } else {
                    0
                },
            }
        }
        None => Fingerprint::of(b.get(start..start + len).unwrap_or(&[]), false),
    }
}

impl Top<'_> {
    /// Records a top-level member name: `start` is its opening quote, `end` the offset after
    /// its closing quote, `print` its fingerprint. Rejects duplicates (compared unescaped) and
    /// too many members.
    ///
    /// A [`Known`] name is a duplicate when its span is already set (the span is written
    /// once its value is scanned, before the next name). Other names, which can never equal
    /// a known one, are compared by fingerprint (length and first nine bytes) with the other
    /// names before them, and in full only when fingerprints agree on names longer than nine
    /// bytes.
    #[cfg_attr(
        all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")),
        inline(always)
    )]
    #[cfg_attr(
        not(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64"))),
        inline
    )]
    fn member(
        &mut self,
        b: &[u8],
        start: usize,
        end: usize,
        escaped: bool,
        print: Fingerprint,
    ) -> Result<Option<Known>, Fail> {
        if self.count >= self.max_members {
            return fail(start, Reason::TooManyMembers);
        }
        self.count += 1;
        if let Some(k) = Known::from_fingerprint(&print) {
            return self.known_once(start, k);
        }
        let len = end.saturating_sub(start + 2);
        for n in self.names.iter() {
            if n.print == print && same_name(b, n, start + 1, len, escaped) {
                return fail(start, Reason::DuplicateMember);
            }
        }
        // Cannot fail: there are fewer names than members, checked against `max_members`
        // <= capacity above.
        let _ = self.names.push(Name {
            start: (start + 1) as u32,
            len: len as u32,
            escaped,
            print,
        });
        Ok(None)
    }

    /// Records a top-level member whose name (quote at `start`) is the [`Known`] `k`:
    /// [`member`](Self::member) for those names.
    #[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
    #[inline(always)]
    fn known_member(&mut self, start: usize, k: Known) -> Result<Option<Known>, Fail> {
        if self.count >= self.max_members {
            return fail(start, Reason::TooManyMembers);
        }
        self.count += 1;
        self.known_once(start, k)
    }

    /// A counted member named `k` (quote at `start`): a duplicate when `k`'s span is
    /// already set (it is written once its value is scanned, before the next name).
    #[inline(always)]
    fn known_once(&mut self, start: usize, k: Known) -> Result<Option<Known>, Fail> {
        if self
            .known
            .get(k as usize)
            .is_some_and(|s| s.start != u32::MAX)
        {
            return fail(start, Reason::DuplicateMember);
        }
        Ok(Some(k))
    }

    /// The scanned object: `{` at `start`, `}` just before `end`.
    #[inline(always)]
    fn finish(self, start: usize, end: usize) -> TopObject {
        TopObject {
            span: Span::new(start, end),
            members: self.count as u32,
        }
    }
}

/// Entries [`Nested`] keeps without spilling: with `alloc`, 256 (2 KiB of stack), past which
/// the entries move to the heap (objects that large are not the hot path); without it,
/// [`Limits::MAX_NESTED_NAMES`] (8 KiB), past which a name is refused.
#[cfg(feature = "alloc")]
const INLINE_NAMES: usize = 256;
#[cfg(not(feature = "alloc"))]
const INLINE_NAMES: usize = Limits::MAX_NESTED_NAMES;

/// An object whose names are compared pairwise keeps at most this many; past it, or at the
/// first two different names with one tag, its names are checked when it closes
/// ([`check_many`]).
const SMALL_OBJECT: usize = 32;

/// The innermost object's filter once it is left to the check at close (see [`Nested`]).
const SORTED: u64 = u64::MAX;

/// The member names of the nested objects that are open, kept for QEMU's duplicate check at
/// every depth.
///
/// A stack of entries, one `u64` each: for every open object two markers (the filter and
/// the first entry of the object around it), then its names, each as the offset of its body
/// (low half) and a tag of its length and first eight bytes (high half).
///
/// The innermost object also has a filter: one bit of 64 per name, chosen by the tag. A
/// name whose bit is clear cannot repeat an earlier name: it costs a tag, a bit test and a
/// push. A name whose bit is set is compared with the object's names by tag, and in full
/// when the tags agree. An object that outgrows [`SMALL_OBJECT`] names, or has two
/// different names with one tag, is checked once when it closes instead ([`check_many`]: by
/// a hash of each whole name with `std`, linear; by sorting without, `O(n log n)`). Nothing is
/// initialized before use (`heapless::Vec`).
///
/// The inline table is a separate local of [`container`], borrowed here: built inside one
/// struct with the other fields, it gets zeroed by a `memset` (its defined and undefined
/// bytes interleave), which costs more than the scan of a small message.
pub(crate) struct Nested<'t> {
    inline: &'t mut Inline,
    /// All entries, once there were more than [`INLINE_NAMES`] (empty until then; `inline`
    /// then stays full, so every push goes to the cold path that pushes here).
    #[cfg(feature = "alloc")]
    heap: alloc::vec::Vec<u64>,
    /// [`check_many`]'s hash table, kept for the next large object of the scan.
    #[cfg(feature = "std")]
    table: alloc::vec::Vec<u32>,
    /// Where the innermost open object's names start.
    first: usize,
    /// The innermost object's filter, or [`SORTED`].
    bloom: u64,
}

/// [`Nested`]'s inline table.
pub(crate) type Inline = heapless::Vec<u64, INLINE_NAMES>;

impl<'t> Nested<'t> {
    #[inline(always)]
    fn new(inline: &'t mut Inline) -> Self {
        Nested {
            inline,
            #[cfg(feature = "alloc")]
            heap: alloc::vec::Vec::new(),
            #[cfg(feature = "std")]
            table: alloc::vec::Vec::new(),
            first: 0,
            bloom: 0,
        }
    }

    /// An object whose first name's quote is at `at` opens.
    #[inline(always)]
    fn open(&mut self, at: usize) -> Result<(), Fail> {
        self.push(self.bloom, at)?;
        self.push(self.first as u64, at)?;
        self.first = self.len();
        self.bloom = 0;
        Ok(())
    }

    /// Records the name whose quote is at `start` (its closing quote just before `end`) as a
    /// member of the innermost object; rejects it when the object has it already.
    #[cfg_attr(
        all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")),
        inline(always)
    )]
    #[cfg_attr(
        not(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64"))),
        inline(never)
    )]
    fn member(&mut self, b: &[u8], start: usize, end: usize, escaped: bool) -> Result<(), Fail> {
        let len = end.saturating_sub(start + 2);
        let tag = if escaped {
            escaped_tag(b, start + 1, len)
        } else {
            plain_tag(b, start + 1, len)
        };
        let bit = 1u64 << (tag >> 26);
        if self.bloom & bit != 0 {
            self.maybe_repeat(b, start, tag)?;
        }
        self.bloom |= bit;
        self.push(u64::from(tag) << 32 | (start + 1) as u64, start)
    }

    /// Opens the object that [`flat_members!`] handed over: its first name's quote at `first`,
    /// the entries of its names so far in `seen` (different names, as it checked), and where
    /// it stopped. Returns where the container loop goes on: the value it stopped at, or the
    /// value of the name it stopped at, once that name is recorded here.
    #[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
    #[inline(never)]
    fn take_over<const NL: bool>(
        &mut self,
        b: &[u8],
        seen: &[u64],
        first: usize,
        at: Handover,
    ) -> Result<usize, Fail> {
        self.open(first)?;
        for &e in seen {
            // The flat loop's entry: the name's key and its body's offset (unescaped,
            // different from the others; recorded as the container loop would have).
            let start = entry_start(e);
            let len = flat_len(b, start, (e >> 32) as u32);
            self.member(b, start - 1, start + len + 1, false)?;
        }
        match at {
            Handover::Value(j) => Ok(j),
            Handover::Name {
                start,
                end,
                escaped,
            } => {
                self.member(b, start, end, escaped)?;
                colon_inner::<NL>(b, end)
            }
        }
    }

    /// The name at `start` may repeat one of the innermost object's names: compares it with
    /// those of the same tag, or leaves it to the sort at close.
    #[cold]
    #[inline(never)]
    fn maybe_repeat(&mut self, b: &[u8], start: usize, tag: u32) -> Result<(), Fail> {
        if self.bloom == SORTED {
            return Ok(());
        }
        let first = self.first;
        let run = self.entries().get(first..).unwrap_or(&[]);
        if run.len() >= SMALL_OBJECT {
            self.bloom = SORTED;
            return Ok(());
        }
        let this = u64::from(tag) << 32 | (start + 1) as u64;
        for &e in run {
            if (e >> 32) as u32 == tag {
                if name_order(b, e, this).is_eq() {
                    return fail(start, Reason::DuplicateMember);
                }
                // Two different names with one tag: full compares stop here.
                self.bloom = SORTED;
                return Ok(());
            }
        }
        Ok(())
    }

    /// The innermost object, which has names, closes: drops its names (after the sorted
    /// check, when it needs one) and goes back to the object around it.
    #[inline(always)]
    fn close(&mut self, b: &[u8]) -> Result<(), Fail> {
        let first = self.first;
        if self.bloom == SORTED {
            self.check_at_close(b, first)?;
        }
        let entries = self.entries_mut();
        let at = |k: usize| entries.get(first.wrapping_sub(k)).copied().unwrap_or(0);
        let (bloom, outer) = (at(2), at(1));
        self.bloom = bloom;
        self.first = outer as usize;
        self.truncate(first.saturating_sub(2));
        Ok(())
    }

    /// [`check_many`] on the innermost object's names, from `first` on.
    #[cold]
    #[inline(never)]
    fn check_at_close(&mut self, b: &[u8], first: usize) -> Result<(), Fail> {
        // The table is taken out for the call: it and the entries are both borrowed.
        #[cfg(feature = "std")]
        let mut table = core::mem::take(&mut self.table);
        let run = self.entries_mut().get_mut(first..).unwrap_or(&mut []);
        let checked = check_many(
            b,
            run,
            #[cfg(feature = "std")]
            &mut table,
        );
        #[cfg(feature = "std")]
        {
            self.table = table;
        }
        checked
    }

    #[cfg_attr(
        all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")),
        inline(always)
    )]
    #[cfg_attr(
        not(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64"))),
        inline(never)
    )]
    fn push(&mut self, e: u64, at: usize) -> Result<(), Fail> {
        match self.inline.push(e) {
            Ok(()) => Ok(()),
            Err(e) => self.spill(e, at),
        }
    }

    /// The inline table is full: pushes to the heap (with `alloc`; the first time, the
    /// inline entries move there) or refuses the name.
    #[cold]
    #[inline(never)]
    fn spill(&mut self, e: u64, at: usize) -> Result<(), Fail> {
        #[cfg(feature = "alloc")]
        {
            // An allocation that fails refuses the message instead of aborting.
            let more = if self.heap.is_empty() {
                2 * INLINE_NAMES
            } else {
                1
            };
            if self.heap.try_reserve(more).is_err() {
                return fail(at, Reason::TooManyMembers);
            }
            if self.heap.is_empty() {
                self.heap.extend_from_slice(self.inline);
            }
            self.heap.push(e);
            Ok(())
        }
        #[cfg(not(feature = "alloc"))]
        {
            let _ = e;
            fail(at, Reason::TooManyMembers)
        }
    }

    #[inline(always)]
    fn len(&self) -> usize {
        self.entries().len()
    }

    #[inline(always)]
    fn entries(&self) -> &[u64] {
        #[cfg(feature = "alloc")]
        if !self.heap.is_empty() {
            return &self.heap;
        }
        self.inline
    }

    #[inline(always)]
    fn entries_mut(&mut self) -> &mut [u64] {
        #[cfg(feature = "alloc")]
        if !self.heap.is_empty() {
            return &mut self.heap;
        }
        self.inline
    }

    #[inline(always)]
    fn truncate(&mut self, len: usize) {
        #[cfg(feature = "alloc")]
        if !self.heap.is_empty() {
            // Stays on the heap: `inline` is still full. The outermost object's markers
            // keep the heap from emptying until the scan ends.
            self.heap.truncate(len.max(1));
            return;
        }
        self.inline.truncate(len);
    }
}

/// The offset of the body of the name in entry `e`.
#[inline(always)]
fn entry_start(e: u64) -> usize {
    e as u32 as usize
}

/// The duplicate check of an object in [`SORTED`] mode, when it closes. With `std`, each
/// entry's tag becomes a hash of the whole unescaped name (fresh random keys), and the
/// entries go into an open-addressing table at most 3/4 full (kept in `table` for the next
/// object), linear in the names; names are compared in full only when their hashes agree.
/// Without it, where a hash would have no key (so probe runs could be made long), the
/// entries are sorted in place by tag (length and first eight bytes), then name, then place
/// (`O(n log n)` compares whatever the names), and neighbours compared. Either way the
/// failure is at the earliest name that repeats an earlier one, as in the pairwise check.
#[cold]
#[inline(never)]
fn check_many(
    b: &[u8],
    run: &mut [u64],
    #[cfg(feature = "std")] table: &mut alloc::vec::Vec<u32>,
) -> Result<(), Fail> {
    #[cfg(feature = "std")]
    {
        let hasher = NameHasher::new();
        for e in run.iter_mut() {
            *e = u64::from(hasher.hash(name_body(b, *e))) << 32 | (*e & 0xFFFF_FFFF);
        }
        // At most 3/4 full: probe runs stay short, and the table takes at most 12 bytes a
        // name. An allocation that fails refuses the message instead of aborting.
        let slots = (run.len() + run.len() / 2 + 1).next_power_of_two();
        table.clear();
        if table.try_reserve(slots).is_err() {
            let at = run.first().map_or(1, |&e| entry_start(e));
            return fail(at - 1, Reason::TooManyMembers);
        }
        table.resize(slots, u32::MAX);
        let mask = slots - 1;
        for (i, &e) in run.iter().enumerate() {
            let mut slot = (e >> 32) as usize & mask;
            loop {
                match table.get(slot).copied() {
                    Some(u32::MAX) | None => break,
                    Some(j) => {
                        let f = run.get(j as usize).copied().unwrap_or(0);
                        if f >> 32 == e >> 32 && name_order(b, f, e).is_eq() {
                            return fail(entry_start(e) - 1, Reason::DuplicateMember);
                        }
                    }
                }
                slot = (slot + 1) & mask;
            }
            if let Some(s) = table.get_mut(slot) {
                *s = i as u32;
            }
        }
        Ok(())
    }
    #[cfg(not(feature = "std"))]
    {
        heap_sort(run, |x, y| entry_order(b, x, y));
        let mut at = usize::MAX;
        let mut prev: Option<u64> = None;
        for &e in run.iter() {
            if let Some(p) = prev {
                // Equal names are sorted by place: the second of a run is its earliest repeat.
                if p >> 32 == e >> 32 && name_order(b, p, e).is_eq() {
                    at = at.min(entry_start(e));
                }
            }
            prev = Some(e);
        }
        if at == usize::MAX {
            Ok(())
        } else {
            fail(at - 1, Reason::DuplicateMember)
        }
    }
}

/// The hash of whole names in [`check_many`] with `std`: SipHash with fresh random keys
/// (names built to collide cannot be prepared). Equal unescaped names hash equal whatever
/// their spelling.
#[cfg(feature = "std")]
struct NameHasher {
    keys: std::hash::RandomState,
}

#[cfg(feature = "std")]
impl NameHasher {
    fn new() -> Self {
        NameHasher {
            keys: std::hash::RandomState::new(),
        }
    }

    fn hash(&self, body: &[u8]) -> u32 {
        let mut h = std::hash::BuildHasher::build_hasher(&self.keys);
        if body.contains(&b'\\') {
            let mut utf8 = [0u8; 4];
            for c in crate::json::str::Chars::new(body) {
                core::hash::Hasher::write(&mut h, c.encode_utf8(&mut utf8).as_bytes());
            }
        } else {
            core::hash::Hasher::write(&mut h, body);
        }
        let h = core::hash::Hasher::finish(&h);
        ((h >> 32) ^ h) as u32
    }
}

/// [`check_many`]'s order without `std`: by tag, then name, then place. Out of line: the
/// sort compares at two places.
#[cfg(not(feature = "std"))]
#[inline(never)]
fn entry_order(b: &[u8], x: u64, y: u64) -> core::cmp::Ordering {
    (x >> 32)
        .cmp(&(y >> 32))
        .then_with(|| name_order(b, x, y))
        .then((x as u32).cmp(&(y as u32)))
}

/// The body of the name in entry `e` (validated: its closing quote follows it).
fn name_body(b: &[u8], e: u64) -> &[u8] {
    let start = entry_start(e);
    let end = crate::json::str::skip_string(b, start.saturating_sub(1));
    b.get(start..end.saturating_sub(1)).unwrap_or(&[])
}

/// Sorts `v` by `order` in place (without `std`): heap sort, `O(n log n)` compares whatever the input, no
/// recursion, little code.
#[cfg(not(feature = "std"))]
fn heap_sort(v: &mut [u64], order: impl Fn(u64, u64) -> core::cmp::Ordering) {
    let sift = |v: &mut [u64], mut root: usize, end: usize| loop {
        let mut child = 2 * root + 1;
        if child >= end {
            return;
        }
        let (Some(&c), Some(&r)) = (v.get(child), v.get(root)) else {
            return;
        };
        let mut c = c;
        if let Some(&c2) = v.get(child + 1) {
            if child + 1 < end && order(c, c2).is_lt() {
                child += 1;
                c = c2;
            }
        }
        if order(r, c).is_ge() {
            return;
        }
        v.swap(root, child);
        root = child;
    };
    let n = v.len();
    for root in (0..n / 2).rev() {
        sift(v, root, n);
    }
    for end in (1..n).rev() {
        v.swap(0, end);
        sift(v, 0, end);
    }
}

/// The order of the names of entries `x` and `y` (validated: each body's closing quote
/// follows it), by their unescaped text.
///
/// Small targets (see [`plain_run`]) compare every name through its characters: the order
/// of UTF-8 bytes is that of the code points, so plain names compare the same, without a
/// search for a backslash and a second compare linked.
#[cfg(not(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64"))))]
fn name_order(b: &[u8], x: u64, y: u64) -> core::cmp::Ordering {
    let (x, y) = (name_body(b, x), name_body(b, y));
    crate::json::str::Chars::new(x).cmp(crate::json::str::Chars::new(y))
}

/// The order of the names of entries `x` and `y` (validated: each body's closing quote
/// follows it), by their unescaped text.
#[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
fn name_order(b: &[u8], x: u64, y: u64) -> core::cmp::Ordering {
    let (x, y) = (name_body(b, x), name_body(b, y));
    if x.contains(&b'\\') || y.contains(&b'\\') {
        crate::json::str::Chars::new(x).cmp(crate::json::str::Chars::new(y))
    } else {
        x.cmp(y)
    }
}

/// A tag of a name from its length and first eight bytes ([`word`](super::keys::word)):
/// equal names have equal tags.
#[inline(always)]
fn tag_of(word: u64, len: usize) -> u32 {
    ((word ^ len as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as u32
}

/// The tag of the unescaped name body at `start..start + len`, read as one word when eight
/// bytes are there (they are unless the input ends close after the name).
#[inline(always)]
fn plain_tag(b: &[u8], start: usize, len: usize) -> u32 {
    match b.get(start..).and_then(|r| r.first_chunk::<8>()) {
        Some(chunk) => {
            // The name's bytes only, moved to the top of the word (all of it from 8 bytes).
            let w = u64::from_le_bytes(*chunk);
            let w = w.checked_shl(64 - 8 * len.min(8) as u32).unwrap_or(0);
            tag_of(w, len)
        }
        None => {
            let name = b.get(start..start + len).unwrap_or(&[]);
            let w = name_word(name) << (64 - 8 * len.min(8)).min(63) as u32;
            tag_of(if len == 0 { 0 } else { w }, len)
        }
    }
}

/// [`word`](super::keys::word) of a name near the end of the input, for [`plain_tag`]: out of
/// line on small targets (see [`plain_run`]), where the word loop is 64-bit arithmetic.
#[cfg_attr(
    all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")),
    inline(always)
)]
#[cfg_attr(
    not(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64"))),
    inline(never)
)]
fn name_word(name: &[u8]) -> u64 {
    crate::json::keys::word(name)
}

/// The tag of the escaped name body at `start..start + len`, from its unescaped bytes.
#[cold]
#[inline(never)]
fn escaped_tag(b: &[u8], start: usize, len: usize) -> u32 {
    let f = Fingerprint::of(b.get(start..start + len).unwrap_or(&[]), true);
    let len = f.len as usize;
    let w = f.word.checked_shl(64 - 8 * len.min(8) as u32).unwrap_or(0);
    tag_of(w, len)
}

/// Scans a top-level member name whose quote is at `i`: returns the offset after its closing
/// quote, whether it holds escapes, and its fingerprint. A plain name of up to seven bytes
/// (most QMP names) is found and fingerprinted from one word.
#[cfg_attr(
    all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")),
    inline(always)
)]
#[cfg_attr(
    not(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64"))),
    inline
)]
fn name(b: &[u8], i: usize, sp: &mut Specials) -> Result<(usize, bool, Fingerprint), Fail> {
    let (end, escaped) = string(b, i, sp)?;
    let len = end.saturating_sub(i + 2);
    let print = if escaped {
        escaped_fingerprint(b, i + 1, len)
    } else {
        fingerprint_at(b, i + 1, len)
    };
    Ok((end, escaped, print))
}

/// The fingerprint of an escaped name body at `start..start + len` of `b`.
#[cold]
#[inline(never)]
fn escaped_fingerprint(b: &[u8], start: usize, len: usize) -> Fingerprint {
    Fingerprint::of(b.get(start..start + len).unwrap_or(&[]), true)
}

/// Whether the recorded name `n`, whose fingerprint equals that of the name body at
/// `start..start + len`, is the same name unescaped. Names of up to nine bytes are equal
/// exactly when their fingerprints are; longer ones are compared in full.
#[cold]
#[inline(never)]
fn same_name(b: &[u8], n: &Name, start: usize, len: usize, escaped: bool) -> bool {
    if n.print.len <= 9 {
        return true;
    }
    let this = b.get(start..start + len).unwrap_or(&[]);
    let other = b
        .get(n.start as usize..(n.start + n.len) as usize)
        .unwrap_or(&[]);
    if !escaped && !n.escaped {
        other == this
    } else {
        crate::json::str::Chars::new(other).eq(crate::json::str::Chars::new(this))
    }
}

/// Scans one JSON document, which must fill `b` apart from surrounding whitespace.
///
/// When it is an object, the spans of its [`Known`] members are written into `known`, which
/// the caller fills with [`Span::NONE`] (members that are absent are not written).
///
/// Where the scanner is tuned, inlined into `Message::parse_with`, its hot caller (the call
/// and the copy of its result cost about 20 instructions per message); [`validate`] keeps
/// one copy out of line for the others. (Not in debug builds, whose frames grow with
/// every inlined call: the scan's stack stays what it was there.)
#[cfg_attr(
    all(
        not(debug_assertions),
        not(qmp_compact),
        any(target_arch = "x86_64", target_arch = "aarch64")
    ),
    inline(always)
)]
pub(crate) fn scan(
    b: &[u8],
    limits: &Limits,
    known: &mut [Span; KNOWN_COUNT],
) -> Result<Document, Fail> {
    if b.len() > u32::MAX as usize - 1 {
        return fail(0, Reason::TooLarge);
    }
    if b.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return fail(0, Reason::ByteOrderMark);
    }
    let start = skip_ws::<true>(b, 0);
    let mut sp = Specials::new();
    let doc = match b.get(start) {
        None => return fail(start, Reason::EmptyInput),
        Some(b'{') => Document::Object(object::<true>(b, start, limits, known, &mut sp)?),
        Some(_) => {
            let end = value::<true>(b, start, 0, limits.max_depth(), &mut sp)?;
            Document::Other(Span::new(start, end))
        }
    };
    let end = match &doc {
        Document::Object(top) => top.span.end as usize,
        Document::Other(span) => span.end as usize,
    };
    let rest = skip_ws::<true>(b, end);
    if rest != b.len() {
        return fail(rest, Reason::TrailingData);
    }
    Ok(doc)
}

/// [`scan`] for callers that only need the document's extent, not its known members.
#[cfg_attr(
    all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")),
    inline(never)
)]
pub(crate) fn validate(b: &[u8], limits: &Limits) -> Result<Document, Fail> {
    scan(b, limits, &mut [Span::NONE; KNOWN_COUNT])
}

/// What [`scan_line`] found: the object and the offset of the `\n` that ends its line.
#[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
pub(crate) struct Line {
    pub top: TopObject,
    pub newline: usize,
    /// The end of the line's frame: the `\n`, or the `\r` just before it.
    pub end: usize,
}

/// Scans one line of QEMU output in a single pass, framing and validating together: `b`
/// starts with `{` (the caller checks); the object, then spaces, tabs or `\r`, then `\n`.
///
/// Inside the object `\n` is not whitespace here (it would end the line), so on failure no
/// byte of `b[..offset]` is `\n`, nor `0xFF` (never valid UTF-8): the framer can resume
/// looking for the line's end at `offset` without looking at those bytes again.
///
/// Inlined into each of the framer's `decode_message` steps (four copies of the line
/// scan): the message's spans are then written where the message is built, and the default
/// limits are constants, about 75 instructions less per message than a call. Not in debug
/// builds (see [`scan`]).
#[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn scan_line(
    b: &[u8],
    limits: &Limits,
    known: &mut [Span; KNOWN_COUNT],
) -> Result<Line, Fail> {
    if b.len() > u32::MAX as usize - 1 {
        return fail(0, Reason::TooLarge);
    }
    let top = object::<false>(b, 0, limits, known, &mut Specials::new())?;
    let mut i = top.span.end as usize;
    if b.get(i..i + 2) == Some(b"\r\n") {
        return Ok(Line {
            top,
            newline: i + 1,
            end: i,
        });
    }
    loop {
        match b.get(i) {
            Some(b'\n') => {
                let end = match i.checked_sub(1) {
                    Some(cr) if b.get(cr) == Some(&b'\r') => cr,
                    _ => i,
                };
                return Ok(Line {
                    top,
                    newline: i,
                    end,
                });
            }
            Some(b' ' | b'\t' | b'\r') => i += 1,
            None => return fail(i, Reason::UnexpectedEnd),
            Some(_) => return fail(i, Reason::TrailingData),
        }
    }
}

/// Scans the top-level object whose `{` is at `start`, recording its members. Inlined into
/// its one caller per `NL` ([`scan`], [`scan_line`]) where the scanner is tuned, in
/// optimized builds (see [`scan`]).
#[cfg_attr(
    all(
        not(debug_assertions),
        not(qmp_compact),
        any(target_arch = "x86_64", target_arch = "aarch64")
    ),
    inline(always)
)]
fn object<const NL: bool>(
    b: &[u8],
    start: usize,
    limits: &Limits,
    known: &mut [Span; KNOWN_COUNT],
    sp: &mut Specials,
) -> Result<TopObject, Fail> {
    let max_depth = limits.max_depth();
    if max_depth == 0 {
        return fail(start, Reason::DepthLimit);
    }
    let mut names = Names::new();
    let mut top = Top {
        names: &mut names,
        count: 0,
        max_members: limits.max_members(),
        known,
    };
    // QEMU's `{"` first.
    let mut i = start + 1;
    if b.get(i) != Some(&b'"') {
        i = skip_ws::<NL>(b, i);
        if b.get(i) == Some(&b'}') {
            return Ok(top.finish(start, i + 1));
        }
        expect_name(b, i)?;
    }
    loop {
        // A member name starts at `i` (its quote is checked): one QMP gives meaning to, as
        // QEMU writes it, or any other.
        #[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
        let (value_start, known) = match Known::quoted(b, i) {
            // `"error":` and `"event":`, whose colon was matched with the name.
            Some((k, end, true)) => (after_colon::<NL>(b, end + 1), top.known_member(i, k)?),
            Some((k, end, false)) => {
                let known = top.known_member(i, k)?;
                (colon::<NL>(b, end)?, known)
            }
            None => {
                let (end, escaped, print) = name(b, i, sp)?;
                let known = top.member(b, i, end, escaped, print)?;
                (colon::<NL>(b, end)?, known)
            }
        };
        #[cfg(not(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64"))))]
        let (value_start, known) = {
            let (end, escaped, print) = name(b, i, sp)?;
            let known = top.member(b, i, end, escaped, print)?;
            (colon::<NL>(b, end)?, known)
        };
        #[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
        {
            // An error's object: its `class` and `desc` as QEMU writes them.
            i = if known == Some(Known::Error) && b.get(value_start) == Some(&b'{') {
                flat_object::<NL, true>(b, value_start, 1, max_depth, sp)?
            } else {
                value::<NL>(b, value_start, 1, max_depth, sp)?
            };
        }
        #[cfg(not(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64"))))]
        {
            i = value::<NL>(b, value_start, 1, max_depth, sp)?;
        }
        if let Some(k) = known {
            if let Some(span) = top.known.get_mut(k as usize) {
                *span = Span::new(value_start, i);
            }
        }
        loop {
            match b.get(i) {
                Some(b',') => break,
                Some(b'}') => return Ok(top.finish(start, i + 1)),
                Some(&c) if ws::<NL>(c) => i = skip_ws::<NL>(b, i + 1),
                None => return fail(i, Reason::UnexpectedEnd),
                Some(_) => return fail(i, Reason::ExpectedCommaOrEnd),
            }
        }
        i = next_name::<NL>(b, i + 1)?;
    }
}

/// Scans one value at `i` (no whitespace before it) nested `base` levels deep; returns the
/// offset after it.
#[cfg_attr(
    all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")),
    inline(always)
)]
#[cfg_attr(
    not(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64"))),
    inline
)]
fn value<const NL: bool>(
    b: &[u8],
    i: usize,
    base: usize,
    max: usize,
    sp: &mut Specials,
) -> Result<usize, Fail> {
    match b.get(i) {
        Some(b'"') => string(b, i, sp).map(|(end, _)| end),
        // `{}` and `[]` (QMP's empty `return`, `arguments`) without entering the loop.
        Some(&c @ (b'{' | b'[')) if base < max && b.get(i + 1) == Some(&(c + 2)) => Ok(i + 2),
        #[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
        Some(b'{') => flat_object::<NL, false>(b, i, base, max, sp),
        #[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
        Some(b'[') => container::<NL>(b, i, base, max, sp),
        #[cfg(not(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64"))))]
        Some(b'{' | b'[') => container::<NL>(b, i, base, max, sp),
        Some(b'-' | b'0'..=b'9') => number(b, i),
        Some(b't') => literal(b, i, b"true"),
        Some(b'f') => literal(b, i, b"false"),
        Some(b'n') => literal(b, i, b"null"),
        _ => not_a_value(b, i),
    }
}

/// How a run of the container loop ended.
enum Flow {
    /// The value ended at this offset.
    Done(usize),
    /// The stack is full; a container opens at this offset.
    Full(usize),
}

/// Scans the object or array at `i`, nested `base` levels deep.
#[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
fn container<const NL: bool>(
    b: &[u8],
    i: usize,
    base: usize,
    max: usize,
    sp: &mut Specials,
) -> Result<usize, Fail> {
    let mut small = Small { bits: 0, depth: 0 };
    let mut inline = Inline::new();
    let mut names = Nested::new(&mut inline);
    match containers::<NL, _>(b, i, &mut small, &mut names, base, max, sp)? {
        Flow::Done(end) => Ok(end),
        Flow::Full(at) => deep::<NL>(b, at, &small, &mut names, base, max, sp),
    }
}

/// Continues a container scan past 64 open levels on the larger stack.
#[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
#[cold]
#[inline(never)]
fn deep<const NL: bool>(
    b: &[u8],
    i: usize,
    small: &Small,
    names: &mut Nested<'_>,
    base: usize,
    max: usize,
    sp: &mut Specials,
) -> Result<usize, Fail> {
    let mut big = Big::from_full(small);
    match containers::<NL, _>(b, i, &mut big, names, base, max, sp)? {
        Flow::Done(end) => Ok(end),
        // Not reached: `max` is at most the stack's capacity and is checked first.
        Flow::Full(at) => fail(at, Reason::DepthLimit),
    }
}

/// The key of [`flat_members!`]'s entry for the unescaped name body of `len` bytes at
/// `start`: its length, with its first byte (the closing quote when it is empty) in the top
/// eight bits. Names with different keys differ; [`flat_len`] gives the length back.
#[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
#[inline(always)]
fn flat_key(b: &[u8], start: usize, len: usize) -> u32 {
    key_of(len, b.get(start).copied().unwrap_or(0))
}

/// [`flat_key`] of a name of `len` bytes whose first byte is `first`.
#[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
#[inline(always)]
const fn key_of(len: usize, first: u8) -> u32 {
    len as u32 ^ (first as u32) << 24
}

/// The length of the name whose [`flat_key`] is `key` and whose body starts at `start`.
#[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
#[inline(always)]
fn flat_len(b: &[u8], start: usize, key: u32) -> usize {
    (key ^ u32::from(b.get(start).copied().unwrap_or(0)) << 24) as usize
}

/// Whether the unescaped name bodies of `len` bytes at `x` and `y` are the same (their
/// keys are; out of line, as that is rare).
#[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
#[inline(never)]
fn same_plain(b: &[u8], x: usize, y: usize, len: usize) -> bool {
    b.get(x..x + len) == b.get(y..y + len)
}

/// [`flat_key`] of an error's `class`.
#[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
const CLASS_KEY: u32 = key_of(5, b'c');
/// [`flat_key`] of an error's `desc`.
#[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
const DESC_KEY: u32 = key_of(4, b'd');

/// With `error` (the value of a top-level `error` member), when the name at `j` is `"class"`
/// or `"desc"` followed by `:`, as QEMU writes an error's members: the offset after its
/// closing quote, its key ([`flat_key`]) and its bit among those two. Those names are
/// matched as words, not scanned as strings.
#[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
#[inline(always)]
fn error_name(error: bool, b: &[u8], j: usize) -> Option<(usize, u32, u8)> {
    use crate::json::keys::word;
    if !error {
        return None;
    }
    let w = u64::from_le_bytes(*b.get(j..)?.first_chunk::<8>()?);
    if w == word(b"\"class\":") {
        Some((j + 7, CLASS_KEY, 1))
    } else if w & 0xFF_FFFF_FFFF_FFFF == word(b"\"desc\":") {
        Some((j + 6, DESC_KEY, 2))
    } else {
        None
    }
}

/// The entries of the names [`error_name`] matched so far (`bits`, their bodies at
/// `word_at`) added to `seen`: [`flat_members!`] records them only when another name comes
/// or the object is handed over. (Their order does not matter: the entries go into a fresh
/// table, which holds many more.)
#[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
#[cold]
#[inline(never)]
fn flat_words(seen: &mut heapless::Vec<u64, FLAT_NAMES>, bits: u8, word_at: &[usize; 2]) {
    let class = u64::from(CLASS_KEY) << 32 | word_at[0] as u64;
    let desc = u64::from(DESC_KEY) << 32 | word_at[1] as u64;
    // Cannot fail: at most two entries, into an empty table.
    if bits & 1 != 0 {
        let _ = seen.push(class);
    }
    if bits & 2 != 0 {
        let _ = seen.push(desc);
    }
}

/// [`flat_members!`]'s bits of the names [`error_name`] matched, once another name came.
#[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
const MIXED: u8 = 0x80;

/// Names [`flat_members!`] keeps before it leaves the object to the container loop.
#[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
const FLAT_NAMES: usize = 8;

/// Where [`flat_members!`] hands its object over to the container loop.
#[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
enum Handover {
    /// A name (quote at `start`, closing quote before `end`) that it does not record: an
    /// escaped one, one past [`FLAT_NAMES`], or one an earlier name repeats.
    Name {
        start: usize,
        end: usize,
        escaped: bool,
    },
    /// A member's value that is an object or an array, at this offset.
    Value(usize),
}

/// The flat-object loop of [`flat_object`] and of the container loop, written once: the
/// members of the object whose `{` is at `$i`, while their values are strings, numbers or
/// literals, with the names' entries (a key of length and first byte, and the offset) in a
/// small local table, compared by key and then by bytes, and none of the container loop's
/// stack, the duplicate check's markers or its table. With `$error` (an error's object), the
/// names `class` and `desc` are matched as words ([`error_name`]); while every name is one
/// of them, a repeat is one bit, and their entries are made only when another name comes or
/// the object is handed over ([`flat_words`]).
///
/// When the object ends, it runs `done` with the offset after it bound to `$end`. At the
/// first member it does not handle (a nested object or array, an escaped name, a name past
/// [`FLAT_NAMES`], or a name an earlier one repeats) it runs `handover` with the entries so far
/// (`$seen`), the first name's quote (`$first`) and where it stopped (`$at`): the caller
/// goes on from there in the container loop with the object open and those entries
/// recorded, so no byte is scanned twice and every input gets the same result, error and
/// offset as on the container loop alone (which compact targets use for every object).
/// `done` must leave the loop (`return`, `break`); the depth is the caller's to check.
/// A macro, not a function: both hooks leave the caller's own loops.
#[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
macro_rules! flat_members {
    ($nl:ident, $b:ident, $i:expr, $sp:ident, $error:expr,
        done($end:ident) => $done:expr,
        handover($seen:ident, $first:ident, $at:ident) => $handover:expr
    ) => {{
        let b: &[u8] = $b;
        // QEMU's `{"` first.
        let mut j = $i + 1;
        if b.get(j) != Some(&b'"') {
            j = skip_ws::<$nl>(b, j);
            if b.get(j) == Some(&b'}') {
                let $end = j + 1;
                $done
            }
            expect_name(b, j)?;
        }
        let $first = j;
        let mut $seen = heapless::Vec::<u64, FLAT_NAMES>::new();
        // While every name so far is one of `error_name`'s: those seen, one bit each (and
        // `MIXED` clear), and where their bodies start. Their entries go into `$seen` only
        // when another name comes or the object is handed over ([`flat_words`]).
        let mut words = if $error { 0u8 } else { MIXED };
        let mut word_at = [0usize; 2];
        let $at = 'names: loop {
            // A name's quote is at `j` (checked).
            let (end, escaped, word) = match error_name($error, b, j) {
                Some((end, key, bit)) => (end, false, Some((key, bit))),
                None => {
                    let (end, escaped) = string(b, j, $sp)?;
                    (end, escaped, None)
                }
            };
            if let (Some((_, bit)), 0..MIXED) = (word, words) {
                if words & bit != 0 {
                    break 'names Handover::Name {
                        start: j,
                        end,
                        escaped,
                    };
                }
                words |= bit;
                if let Some(at) = word_at.get_mut(usize::from(bit >> 1)) {
                    *at = j + 1;
                }
                // The colon was matched with the name; QEMU's space follows it. (A branch,
                // not a select: the value's offset does not wait for that byte's load.)
                j = if b.get(end + 1) == Some(&b' ') {
                    end + 2
                } else {
                    skip_ws::<$nl>(b, end + 1)
                };
            } else {
                if words < MIXED {
                    flat_words(&mut $seen, words, &word_at);
                    words = MIXED;
                }
                if escaped || $seen.is_full() {
                    break 'names Handover::Name {
                        start: j,
                        end,
                        escaped,
                    };
                }
                // Names of different lengths or first bytes differ: only those with this
                // one's are compared, byte for byte (tags are made at a handover, if there
                // is one). `string` returns `end >= j + 2`.
                let len = end.wrapping_sub(j + 2);
                let key = match word {
                    Some((key, _)) => key,
                    None => flat_key(b, j + 1, len),
                };
                for &e in $seen.iter() {
                    if (e >> 32) as u32 == key && same_plain(b, entry_start(e), j + 1, len) {
                        break 'names Handover::Name {
                            start: j,
                            end,
                            escaped,
                        };
                    }
                }
                // Cannot fail: not full (checked above).
                let _ = $seen.push(u64::from(key) << 32 | (j + 1) as u64);
                j = colon_inner::<$nl>(b, end)?;
            }
            // The member's value, after any whitespace.
            loop {
                match b.get(j) {
                    Some(b'"') => j = string(b, j, $sp)?.0,
                    Some(b'-' | b'0'..=b'9') => j = number(b, j)?,
                    Some(b't') => j = literal(b, j, b"true")?,
                    Some(b'f') => j = literal(b, j, b"false")?,
                    Some(b'n') => j = literal(b, j, b"null")?,
                    Some(b'{' | b'[') => break 'names Handover::Value(j),
                    Some(&c) if ws::<$nl>(c) => {
                        j = skip_ws::<$nl>(b, j + 1);
                        continue;
                    }
                    _ => return not_a_value(b, j),
                }
                break;
            }
            // A value just ended at `j`.
            loop {
                match b.get(j) {
                    Some(b',') => break,
                    Some(b'}') => {
                        let $end = j + 1;
                        $done
                    }
                    Some(&c) if ws::<$nl>(c) => j = skip_ws::<$nl>(b, j + 1),
                    None => return fail(j, Reason::UnexpectedEnd),
                    Some(_) => return fail(j, Reason::ExpectedCommaOrEnd),
                }
            }
            j = next_name::<$nl>(b, j + 1)?;
        };
        if words < MIXED {
            flat_words(&mut $seen, words, &word_at);
        }
        $handover
    }};
}

/// A member's object at depth 1 (`i` is its `{`, not `{}`), nested `base` levels deep:
/// [`flat_members!`], then, if it hands over, the container loop from there
/// ([`flat_resume`]). An error's `{"class": …, "desc": …}` and an event's `timestamp` never
/// leave the flat loop.
///
/// Inlined into the member loop in optimized builds (a call costs about 60 instructions per
/// object); out of line in debug builds (see [`scan`]).
#[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
#[cfg_attr(not(debug_assertions), inline(always))]
#[cfg_attr(debug_assertions, inline(never))]
fn flat_object<const NL: bool, const ERROR: bool>(
    b: &[u8],
    i: usize,
    base: usize,
    max: usize,
    sp: &mut Specials,
) -> Result<usize, Fail> {
    if base >= max {
        return fail(i, Reason::DepthLimit);
    }
    flat_members!(NL, b, i, sp, ERROR,
        done(end) => return Ok(end),
        handover(seen, first, at) => flat_resume::<NL>(b, first, &seen, at, base, max, sp)
    )
}

/// [`flat_object`]'s object from `at` on, in the container loop: the object on the stack,
/// its first name's quote at `first`, the entries of its names so far in `seen`.
#[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
#[inline(never)]
fn flat_resume<const NL: bool>(
    b: &[u8],
    first: usize,
    seen: &[u64],
    at: Handover,
    base: usize,
    max: usize,
    sp: &mut Specials,
) -> Result<usize, Fail> {
    let mut small = Small { bits: 0, depth: 0 };
    small.push(true);
    let mut inline = Inline::new();
    let mut names = Nested::new(&mut inline);
    let value = names.take_over::<NL>(b, seen, first, at)?;
    match containers::<NL, _>(b, value, &mut small, &mut names, base, max, sp)? {
        Flow::Done(end) => Ok(end),
        Flow::Full(at) => deep::<NL>(b, at, &small, &mut names, base, max, sp),
    }
}

/// Without 128-bit vectors, where flash matters more: one copy of the container loop for
/// every depth. It runs on [`Spill`], which goes on from the shift register to the larger
/// stack (built only then) in the same loop, instead of a second loop for deep documents.
#[cfg(not(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64"))))]
fn container<const NL: bool>(
    b: &[u8],
    i: usize,
    base: usize,
    max: usize,
    sp: &mut Specials,
) -> Result<usize, Fail> {
    let mut st = Spill {
        small: Small { bits: 0, depth: 0 },
        big: None,
    };
    let mut inline = Inline::new();
    let mut names = Nested::new(&mut inline);
    match containers::<NL, _>(b, i, &mut st, &mut names, base, max, sp)? {
        Flow::Done(end) => Ok(end),
        Flow::Full(at) => {
            let mut big = Big::from_full(&st.small);
            let mut st = Spill {
                small: st.small,
                big: Some(&mut big),
            };
            match containers::<NL, _>(b, at, &mut st, &mut names, base, max, sp)? {
                Flow::Done(end) => Ok(end),
                // Not reached: `max` is at most the larger stack's capacity, checked first.
                Flow::Full(at) => fail(at, Reason::DepthLimit),
            }
        }
    }
}

/// [`Small`] until it is full, then (once the caller gives it one) the larger stack,
/// which holds every level from then on.
#[cfg(not(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64"))))]
struct Spill<'s> {
    small: Small,
    big: Option<&'s mut Big>,
}

#[cfg(not(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64"))))]
impl Stack for Spill<'_> {
    fn depth(&self) -> usize {
        match &self.big {
            Some(big) => big.depth(),
            None => self.small.depth(),
        }
    }

    fn push(&mut self, object: bool) -> bool {
        match &mut self.big {
            Some(big) => big.push(object),
            None => self.small.push(object),
        }
    }

    fn pop(&mut self) {
        match &mut self.big {
            Some(big) => big.pop(),
            None => self.small.pop(),
        }
    }

    fn top_is_object(&self) -> bool {
        match &self.big {
            Some(big) => big.top_is_object(),
            None => self.small.top_is_object(),
        }
    }
}

/// The container loop: one pass over nested objects and arrays with an explicit stack, no
/// recursion. Starts where a value is expected (no whitespace before it) and returns when the
/// stack is empty again.
#[cfg_attr(
    all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")),
    inline(always)
)]
#[cfg_attr(
    not(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64"))),
    inline
)]
fn containers<const NL: bool, S: Stack>(
    b: &[u8],
    mut i: usize,
    st: &mut S,
    names: &mut Nested<'_>,
    base: usize,
    max: usize,
    sp: &mut Specials,
) -> Result<Flow, Fail> {
    'value: loop {
        // A value is expected at `i`, maybe after whitespace (see `colon_inner`).
        match b.get(i) {
            Some(b'{') => {
                if base + st.depth() >= max {
                    return fail(i, Reason::DepthLimit);
                }
                #[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
                {
                    if st.is_full() {
                        return Ok(Flow::Full(i));
                    }
                    'flat: {
                        flat_members!(NL, b, i, sp, false,
                            done(end) => {
                                i = end;
                                break 'flat;
                            },
                            handover(seen, first, at) => {
                                // The object goes on in this loop, with its names so far.
                                st.push(true);
                                i = names.take_over::<NL>(b, &seen, first, at)?;
                                continue 'value;
                            }
                        )
                    }
                    if st.depth() == 0 {
                        return Ok(Flow::Done(i));
                    }
                }
                #[cfg(not(all(
                    not(qmp_compact),
                    any(target_arch = "x86_64", target_arch = "aarch64")
                )))]
                {
                    if !st.push(true) {
                        return Ok(Flow::Full(i));
                    }
                    i = skip_ws::<NL>(b, i + 1);
                    if b.get(i) == Some(&b'}') {
                        i += 1;
                        st.pop();
                        if st.depth() == 0 {
                            return Ok(Flow::Done(i));
                        }
                    } else {
                        expect_name(b, i)?;
                        let (end, escaped) = string(b, i, sp)?;
                        names.open(i)?;
                        names.member(b, i, end, escaped)?;
                        i = colon_inner::<NL>(b, end)?;
                        continue 'value;
                    }
                }
            }
            Some(b'[') => {
                if base + st.depth() >= max {
                    return fail(i, Reason::DepthLimit);
                }
                if !st.push(false) {
                    return Ok(Flow::Full(i));
                }
                i = skip_ws::<NL>(b, i + 1);
                if b.get(i) == Some(&b']') {
                    i += 1;
                    st.pop();
                    if st.depth() == 0 {
                        return Ok(Flow::Done(i));
                    }
                } else {
                    continue 'value;
                }
            }
            Some(b'"') => i = string(b, i, sp)?.0,
            Some(b'-' | b'0'..=b'9') => i = number(b, i)?,
            Some(b't') => i = literal(b, i, b"true")?,
            Some(b'f') => i = literal(b, i, b"false")?,
            Some(b'n') => i = literal(b, i, b"null")?,
            Some(&c) if ws::<NL>(c) => {
                i = skip_ws::<NL>(b, i + 1);
                continue 'value;
            }
            _ => return not_a_value(b, i),
        }
        // A value just ended at `i`, inside a container (the stack is not empty).
        loop {
            let object = st.top_is_object();
            match b.get(i) {
                Some(b',') => {
                    if object {
                        i = next_name::<NL>(b, i + 1)?;
                        let (end, escaped) = string(b, i, sp)?;
                        names.member(b, i, end, escaped)?;
                        i = colon_inner::<NL>(b, end)?;
                    } else {
                        i = skip_ws::<NL>(b, i + 1);
                    }
                    continue 'value;
                }
                Some(b'}') if object => {
                    i += 1;
                    names.close(b)?;
                    st.pop();
                    if st.depth() == 0 {
                        return Ok(Flow::Done(i));
                    }
                }
                Some(b']') if !object => {
                    i += 1;
                    st.pop();
                    if st.depth() == 0 {
                        return Ok(Flow::Done(i));
                    }
                }
                Some(&c) if ws::<NL>(c) => i = skip_ws::<NL>(b, i + 1),
                None => return fail(i, Reason::UnexpectedEnd),
                Some(_) => return fail(i, Reason::ExpectedCommaOrEnd),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(doc: &[u8], k: Known) -> Option<&[u8]> {
        let mut known = [Span::NONE; KNOWN_COUNT];
        match scan(doc, &Limits::new(), &mut known) {
            Ok(Document::Object(_)) => known[k as usize].get(doc),
            _ => panic!("not an object: {:?}", core::str::from_utf8(doc)),
        }
    }

    /// Regression: member names inside a nested object moved the start of the top-level
    /// member's value, so `get("QMP")` returned the tail of the object.
    #[test]
    fn known_value_spans_nested_objects() {
        let b = br#"{"QMP": {"version": {"a": 1}, "capabilities": [1]}, "id": {"x": {"y": 2}}}"#;
        assert_eq!(
            known(b, Known::Qmp),
            Some(&br#"{"version": {"a": 1}, "capabilities": [1]}"#[..])
        );
        assert_eq!(known(b, Known::Id), Some(&br#"{"x": {"y": 2}}"#[..]));
    }

    #[test]
    fn known_spans_ignore_nested_member_names() {
        let b = br#"{"event": "E", "data": {"status": "created", "id": "bk1"}, "id": [{"x": 1}]}"#;
        let data = known(b, Known::Data);
        assert_eq!(data, Some(&br#"{"status": "created", "id": "bk1"}"#[..]));
        assert_eq!(known(b, Known::Id), Some(&br#"[{"x": 1}]"#[..]));
    }

    /// A known member's value starts exactly at the value, whatever whitespace surrounds its
    /// colon: for every known name (`error` and `event` are matched with their colon, the
    /// others without), written plainly and escaped, through the document and line scans.
    #[test]
    fn known_spans_start_at_the_value_after_any_whitespace() {
        use std::{format, string::String};
        let names = [
            ("QMP", Known::Qmp),
            ("event", Known::Event),
            ("error", Known::Error),
            ("return", Known::Return),
            ("execute", Known::Execute),
            ("exec-oob", Known::ExecOob),
            ("id", Known::Id),
            ("arguments", Known::Arguments),
            ("data", Known::Data),
            ("timestamp", Known::Timestamp),
        ];
        let spaces = ["", " ", "  ", " \t", "\t", " \r ", "\r"];
        let value = r#"{"class": "C", "desc": "d"}"#;
        let mut checked = 0;
        for (name, k) in names {
            let escaped: String = format!("\\u{:04x}{}", name.as_bytes()[0], &name[1..]);
            for spelling in [name, &escaped] {
                for before in spaces {
                    for after in spaces {
                        let doc = format!(r#"{{"{spelling}"{before}:{after}{value}, "x": 1}}"#);
                        assert_eq!(known(doc.as_bytes(), k), Some(value.as_bytes()), "{doc:?}");
                        // The line scan, where there is one.
                        #[cfg(all(
                            not(qmp_compact),
                            any(target_arch = "x86_64", target_arch = "aarch64")
                        ))]
                        {
                            let line = [doc.as_bytes(), b"\r\n"].concat();
                            let mut spans = [Span::NONE; KNOWN_COUNT];
                            let scanned = scan_line(&line, &Limits::new(), &mut spans);
                            assert!(scanned.is_ok(), "{doc:?}");
                            let span = spans[k as usize].get(&line);
                            assert_eq!(span, Some(value.as_bytes()), "{doc:?}");
                        }
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 10 * 2 * 7 * 7);
    }

    #[test]
    fn known_spans_cover_nested_values() {
        // Nested member names must not move the start of the top-level value.
        let doc = br#"{"return": {"a": {"b": 1}}, "id": {"k": [1, {"z": 2}]}}"#;
        assert_eq!(known(doc, Known::Return), Some(&br#"{"a": {"b": 1}}"#[..]));
        assert_eq!(known(doc, Known::Id), Some(&br#"{"k": [1, {"z": 2}]}"#[..]));
        let doc = br#"{"id": [{"a": 1}, {"b": 2}], "error": {"class": "C", "desc": "d"}}"#;
        assert_eq!(known(doc, Known::Id), Some(&br#"[{"a": 1}, {"b": 2}]"#[..]));
        let err = br#"{"class": "C", "desc": "d"}"#;
        assert_eq!(known(doc, Known::Error), Some(&err[..]));
    }

    /// `[{"a": [{"a": … 1 …}]}]` nested `levels` deep, written into `buf`; returns its length
    /// and the offset of the closing bracket of level `swap` (0 = outermost), which is
    /// replaced by the wrong kind when `swap` is given.
    fn nested(buf: &mut [u8], levels: usize, swap: Option<usize>) -> (usize, usize) {
        fn put(buf: &mut [u8], n: &mut usize, bytes: &[u8]) {
            buf[*n..*n + bytes.len()].copy_from_slice(bytes);
            *n += bytes.len();
        }
        let mut n = 0;
        for level in 0..levels {
            let open: &[u8] = if level % 2 == 0 { b"[" } else { b"{\"a\": " };
            put(buf, &mut n, open);
        }
        put(buf, &mut n, b"1");
        let mut at = 0;
        for level in (0..levels).rev() {
            let object = level % 2 == 1;
            if Some(level) == swap {
                at = n;
            }
            let close = if object != (Some(level) == swap) {
                b"}"
            } else {
                b"]"
            };
            put(buf, &mut n, close);
        }
        (n, at)
    }

    /// The well-formed UTF-8 sequences by their lead byte (Unicode's table 3-7): how many
    /// bytes follow, and the range of the first of them.
    fn utf8_table(s: &[u8]) -> Result<usize, Fail> {
        let bad = Err(Fail {
            offset: 0,
            reason: Reason::InvalidUtf8,
        });
        let (extra, lo, hi) = match s.first() {
            Some(0xC2..=0xDF) => (1, 0x80, 0xBF),
            Some(0xE0) => (2, 0xA0, 0xBF),
            Some(0xE1..=0xEC | 0xEE..=0xEF) => (2, 0x80, 0xBF),
            Some(0xED) => (2, 0x80, 0x9F),
            Some(0xF0) => (3, 0x90, 0xBF),
            Some(0xF1..=0xF3) => (3, 0x80, 0xBF),
            Some(0xF4) => (3, 0x80, 0x8F),
            _ => return bad,
        };
        match s.get(1) {
            Some(&c) if (lo..=hi).contains(&c) => {}
            _ => return bad,
        }
        if (2..=extra).all(|k| matches!(s.get(k), Some(0x80..=0xBF))) {
            Ok(1 + extra)
        } else {
            bad
        }
    }

    /// The scanner's UTF-8 check agrees with the table on every sequence of up to three
    /// bytes and on four-byte ones over the bytes where the rules change, on both forms (the
    /// compact one goes through `decode_utf8`).
    #[test]
    fn utf8_sequences_agree_with_the_table() {
        let check = |s: &[u8]| assert_eq!(utf8_sequence(s, 0), utf8_table(s), "{s:x?}");
        for a in 0x80..=0xFFu8 {
            check(&[a]);
            for c in 0..=255u8 {
                check(&[a, c]);
                for d in 0..=255u8 {
                    check(&[a, c, d, b'x']);
                }
            }
        }
        let edges = [0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF];
        for a in 0xF0..=0xFFu8 {
            for c in edges {
                for d in edges {
                    for e in edges {
                        check(&[a, c, d, e]);
                    }
                }
            }
        }
    }

    #[test]
    fn container_kinds_survive_the_switch_to_the_deep_stack() {
        let mut buf = [0u8; 1024];
        for levels in [63, 64, 65, 66, 97, 130] {
            let (n, _) = nested(&mut buf, levels, None);
            assert!(matches!(
                scan(&buf[..n], &Limits::new(), &mut [Span::NONE; KNOWN_COUNT]),
                Ok(Document::Other(_))
            ));
            // Word boundaries of the deep stack at 32 and 64 bits.
            for swap in [
                0,
                1,
                30,
                31,
                32,
                33,
                62,
                63,
                64,
                65,
                95,
                96,
                127,
                128,
                levels - 1,
            ] {
                if swap >= levels {
                    continue;
                }
                let (n, at) = nested(&mut buf, levels, Some(swap));
                let err = scan(&buf[..n], &Limits::new(), &mut [Span::NONE; KNOWN_COUNT]).err();
                let want = Fail {
                    offset: at,
                    reason: Reason::ExpectedCommaOrEnd,
                };
                assert_eq!(err, Some(want), "levels {levels}, swapped {swap}");
            }
            let (n, _) = nested(&mut buf, levels, None);
            let limit = Limits::new().with_max_depth(levels - 1);
            let err = scan(&buf[..n], &limit, &mut [Span::NONE; KNOWN_COUNT])
                .err()
                .map(|f| f.reason);
            assert_eq!(err, Some(Reason::DepthLimit), "levels {levels}");
        }
    }

    fn special(c: u8) -> bool {
        c == b'"' || c == b'\\' || !(0x20..0x80).contains(&c)
    }

    /// Every pair of bytes at every pair of positions in an otherwise plain word: the
    /// lowest set bit is the first special byte.
    #[test]
    fn masks_find_the_first_byte_exhaustively() {
        for p in 0..8 {
            for q in p + 1..9 {
                for c1 in 0..=255u8 {
                    for c2 in [0u8, b'"', b'\\', 0x1f, 0x20, 0x7f, 0x80, 0xff, b'a', b'9'] {
                        let mut w = *b"abcdefgh";
                        w[p] = c1;
                        if q < 8 {
                            w[q] = c2;
                        }
                        let word = u64::from_le_bytes(w);
                        let first = w.iter().position(|&c| special(c)).unwrap_or(8);
                        let m = special_mask(word);
                        assert_eq!((m.trailing_zeros() / 8) as usize, first, "{w:?}");
                    }
                }
            }
        }
    }

    /// Every byte value at every position of a window: exactly the special bytes are set.
    #[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
    #[test]
    fn window_bits_are_exact() {
        for pos in 0..64 {
            for c in 0..=255u8 {
                let mut w = [b'a'; 64];
                w[pos] = c;
                let want = if special(c) { 1u64 << pos } else { 0 };
                assert_eq!(mask64(&w), want, "byte {c:#x} at {pos}");
            }
        }
        let mut w = [b'"'; 64];
        assert_eq!(mask64(&w), u64::MAX);
        w[63] = b'x';
        assert_eq!(mask64(&w), u64::MAX >> 1);
        // Many special bytes at once, against the byte-by-byte test.
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..4000 {
            let mut want = 0;
            for (k, x) in w.iter_mut().enumerate() {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                *x = b"a\"\\\x1f\x80 ~"[(seed % 7) as usize];
                want |= u64::from(special(*x)) << k;
            }
            assert_eq!(mask64(&w), want, "{w:?}");
        }
    }

    /// Strings of every length from every start offset, across window boundaries, with an
    /// escape, a two-byte character or a control byte at various places: the scan ends
    /// exactly where the string does, or fails exactly at the control byte.
    #[test]
    fn strings_across_windows() {
        let mut buf = [0u8; 256];
        for start in 0..70 {
            for len in 0..140 {
                for extra in [None, Some(0), Some(1), Some(63), Some(64), Some(len / 2)] {
                    buf.fill(b' ');
                    buf[start] = b'"';
                    let body = start + 1;
                    buf[body..body + len].fill(b'x');
                    let mut end = body + len;
                    let mut bad = None;
                    if let Some(at) = extra.filter(|&at| at < len) {
                        match len % 3 {
                            0 if at + 1 < len => {
                                buf[body + at..body + at + 2].copy_from_slice(b"\\n")
                            }
                            1 if at + 1 < len => {
                                buf[body + at..body + at + 2].copy_from_slice(&[0xC3, 0xA9])
                            }
                            _ => {
                                buf[body + at] = 0x1f;
                                bad = Some(body + at);
                            }
                        }
                    }
                    buf[end] = b'"';
                    end += 1;
                    let got = string(&buf, start, &mut Specials::new());
                    match bad {
                        Some(at) => assert_eq!(
                            got.err(),
                            Some(Fail {
                                offset: at,
                                reason: Reason::ControlCharacter
                            }),
                            "start {start} len {len} extra {extra:?}"
                        ),
                        None => assert_eq!(
                            got.map(|(e, _)| e),
                            Ok(end),
                            "start {start} len {len} extra {extra:?}"
                        ),
                    }
                    if extra.is_none() {
                        // The input ends inside the string, or right after it (the last
                        // window of an input, padded).
                        for cut in body..=end {
                            let got = string(&buf[..cut], start, &mut Specials::new());
                            let want = if cut == end {
                                Ok(end)
                            } else {
                                Err(Fail {
                                    offset: cut,
                                    reason: Reason::UnexpectedEnd,
                                })
                            };
                            assert_eq!(
                                got.map(|(e, _)| e),
                                want,
                                "start {start} len {len} cut {cut}"
                            );
                        }
                    }
                }
            }
        }
    }

    /// An error's names matched as words have the keys and ends the flat loop gives them
    /// when scanned as strings, and nothing else is matched.
    #[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
    #[test]
    fn error_names_match_as_scanned() {
        for (doc, len) in [(&b"\"class\": \"x\""[..], 5), (b"\"desc\": \"x\"", 4)] {
            let (end, key, _) = error_name(true, doc, 0).expect("matched");
            assert_eq!(end, len + 2);
            assert_eq!(key, flat_key(doc, 1, len));
            assert_eq!(string(doc, 0, &mut Specials::new()), Ok((end, false)));
            assert_eq!(error_name(false, doc, 0), None);
        }
        for doc in [
            &b"\"class\" : 1, "[..],
            b"\"classes\": 1",
            b"\"descr\": 1",
            b"\"desc\"",
        ] {
            assert_eq!(error_name(true, doc, 0), None);
        }
    }

    /// One window shared by consecutive strings, then refilled past its end: each string of
    /// an array of many short and long strings ends where it should.
    #[test]
    fn windows_shared_between_strings() {
        let mut doc = [0u8; 16 * 1024];
        let mut len = 0;
        let mut put = |bytes: &[u8], len: &mut usize| {
            doc[*len..*len + bytes.len()].copy_from_slice(bytes);
            *len += bytes.len();
        };
        let mut ends = [(0usize, 0usize); 200];
        put(b"[", &mut len);
        for (n, end) in ends.iter_mut().enumerate() {
            if n > 0 {
                put(b", ", &mut len);
            }
            let start = len;
            put(b"\"", &mut len);
            for _ in 0..(n * 7) % 90 {
                put(&[b'a' + (n % 26) as u8], &mut len);
            }
            if n % 5 == 0 {
                put(b"\\u00e9\\\"", &mut len);
            }
            put(b"\"", &mut len);
            *end = (start, len);
        }
        put(b"]", &mut len);
        let doc = &doc[..len];
        let mut sp = Specials::new();
        for &(start, end) in &ends {
            assert_eq!(string(doc, start, &mut sp).map(|(e, _)| e), Ok(end));
        }
        assert!(matches!(
            validate(doc, &Limits::new()),
            Ok(Document::Other(_))
        ));
    }

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

    extern crate std;
    use std::{format, string::String};

    /// `{"a": {NAMES}}` with `names` members named by `name`, then `extra` members appended
    /// inside the same object.
    fn object_of(names: usize, name: impl Fn(usize) -> String, extra: &[&str]) -> String {
        let mut s = String::from(r#"{"a": {"#);
        for k in 0..names {
            if k > 0 {
                s.push_str(", ");
            }
            s.push_str(&format!(r#""{}": {k}"#, name(k)));
        }
        for e in extra {
            s.push_str(", ");
            s.push_str(e);
        }
        s.push_str("}}");
        s
    }

    fn result(doc: &str) -> Result<(), (Reason, usize)> {
        validate(doc.as_bytes(), &Limits::new())
            .map(|_| ())
            .map_err(|f| (f.reason, f.offset))
    }

    /// Objects past [`SMALL_OBJECT`] names and objects with two different names of one tag
    /// are checked when they close (hash table with `std`, sorting without): a repeat is
    /// still found, at its earliest repeating name, whatever its spelling, while the same
    /// names in other objects are not repeats.
    #[test]
    fn large_and_colliding_objects_find_repeats() {
        let plain = |k: usize| format!("n{k}");
        // Same length and first eight bytes: one tag for all.
        let colliding = |k: usize| format!("aaaaaaaa{k:04}");
        for name in [&plain as &dyn Fn(usize) -> String, &colliding] {
            for n in [2, SMALL_OBJECT - 1, SMALL_OBJECT, SMALL_OBJECT + 1, 300] {
                let ok = object_of(n, name, &[]);
                assert_eq!(result(&ok), Ok(()), "{n} names");
                // A repeat of an early name, and two repeats: the first is reported.
                let dup = format!(r#""{}": 0"#, name(0));
                let text = object_of(n, name, &[&dup, r#""x": 1"#, &dup]);
                let at = text.find(&dup[..dup.len() - 3]).map(|_| ());
                assert!(at.is_some());
                let first_repeat = text.match_indices(&dup[..dup.len() - 3]).nth(1).unwrap().0;
                assert_eq!(
                    result(&text),
                    Err((Reason::DuplicateMember, first_repeat)),
                    "{n} names"
                );
            }
        }
        // An escaped spelling of a name of a large object.
        let text = object_of(100, plain, &[r#""\u006e42": 0"#]);
        let at = text.rfind(r#""\u006e42""#).unwrap();
        assert_eq!(result(&text), Err((Reason::DuplicateMember, at)));
        // The same names in nested and sibling objects are not repeats.
        let mut s = String::from(r#"{"a": [{"#);
        for k in 0..100 {
            s.push_str(&format!(r#""n{k}": {{"n{k}": {{"n{k}": 1}}, "m": 2}}, "#));
        }
        s.push_str(r#""z": 0}, {"n1": 1, "n2": 2}]}"#);
        assert_eq!(result(&s), Ok(()));
    }

    /// More entries than the inline table: with `alloc` they move to the heap and the check
    /// goes on (repeats found across the move); without it, the name that does not fit is
    /// refused.
    #[test]
    fn names_past_the_inline_table() {
        let n = 3 * INLINE_NAMES;
        let ok = object_of(n, |k| format!("n{k}"), &[]);
        let dup = object_of(n, |k| format!("n{k}"), &[r#""n7": 0"#]);
        let at = dup.rfind(r#""n7""#).unwrap();
        // A chain of objects deeper than the table holds (three entries a level).
        let levels = INLINE_NAMES;
        let chain = format!("{}1{}", r#"{"a":"#.repeat(levels), "}".repeat(levels));
        let limits = Limits::new().with_max_depth(Limits::MAX_DEPTH_CAP);
        let chain = validate(chain.as_bytes(), &limits).map(|_| ());
        #[cfg(feature = "alloc")]
        {
            assert_eq!(result(&ok), Ok(()));
            assert_eq!(result(&dup), Err((Reason::DuplicateMember, at)));
            assert!(chain.is_ok());
        }
        #[cfg(not(feature = "alloc"))]
        {
            let _ = at;
            assert!(matches!(result(&ok), Err((Reason::TooManyMembers, _))));
            assert!(matches!(result(&dup), Err((Reason::TooManyMembers, _))));
            assert!(matches!(chain, Err(f) if f.reason == Reason::TooManyMembers));
        }
    }

    /// The flat-object loop against the container loop: each generated object (of every
    /// kind the flat loop hands over: nested values, escaped names, more than [`FLAT_NAMES`]
    /// names, shared tags, repeats) and byte mutations of it, with a first member `"__": 0`
    /// in front, scanned as is (the flat loop, which hands over where it must) and with
    /// that name escaped (`"\u005f\u005f"`: handed over to the container loop at once).
    /// Both give the same result, error and offset (shifted by the escape's ten bytes), as
    /// a member at depth 1 ([`flat_object`]) and in an array ([`containers`]), through the
    /// document scan and the line scan.
    #[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
    #[test]
    fn flat_objects_scan_as_the_container_loop_does() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let names = [
            "a",
            "b",
            "id",
            "class",
            "desc",
            "aaaaaaaa0",
            "aaaaaaaa1",
            "aaaaaaaaa",
            "\\u0061",
            "a\\nb",
            "",
            "seconds",
            "microseconds",
            "ab",
            "ad",
            "\u{e9}\u{e9}",
            "\u{e9}\u{ea}",
        ];
        let values = [
            "1",
            "-0.5e3",
            "true",
            "false",
            "null",
            "\"x\"",
            "\"\\u00e9\\\"\"",
            "{}",
            "[]",
            "{\"a\": 1}",
            "[1, {\"a\": 1, \"a\": 2}]",
            "{\"x\": {\"y\": []}}",
            "\"\u{e9}\"",
        ];
        let seps = [", ", ",", " , ", ",\n", ",\t "];
        let tails = ['{', '}', '[', ']', ':', ',', '"', '\\', ' ', '\n', 'x', '1'];
        let limits = Limits::new();
        let (mut compared, mut words) = (0, 0);
        for round in 0..6000 {
            let mut obj = String::from("{");
            let members = next(13);
            for k in 0..members {
                if k > 0 {
                    obj.push_str(seps[next(seps.len())]);
                }
                obj.push('"');
                obj.push_str(names[next(names.len())]);
                obj.push_str(if next(8) == 0 { "\" : " } else { "\": " });
                obj.push_str(values[next(values.len())]);
            }
            obj.push('}');
            // Mutations: cut the object short, or change, insert or drop one byte.
            let mut obj = obj.into_bytes();
            match round % 4 {
                0 => {}
                1 => obj.truncate(next(obj.len() + 1)),
                2 => {
                    let at = next(obj.len());
                    obj[at] = tails[next(tails.len())] as u8;
                }
                _ => {
                    let at = next(obj.len() + 1);
                    if next(2) == 0 {
                        obj.insert(at, tails[next(tails.len())] as u8);
                    } else if at < obj.len() {
                        obj.remove(at);
                    }
                }
            }
            let Some(rest) = obj.strip_prefix(b"{") else {
                continue;
            };
            let scan_doc = |d: &[u8]| {
                validate(d, &limits)
                    .map(|_| ())
                    .map_err(|f| (f.reason, f.offset))
            };
            let scan_ln = |d: &[u8]| {
                let line = [d, b"\n"].concat();
                let mut known = [Span::NONE; KNOWN_COUNT];
                scan_line(&line, &limits, &mut known)
                    .map(|_| ())
                    .map_err(|f| (f.reason, f.offset))
            };
            // An error's object takes the flat loop's `class` and `desc` words.
            let outers = [
                &b"{\"k\": "[..],
                b"{\"error\": ",
                b"{\"k\": [",
                b"{\"k\": [1, {\"a\": [",
            ];
            for outer in outers {
                let flat = [outer, b"{\"__\": 0, ", rest].concat();
                let escaped = [outer, b"{\"\\u005f\\u005f\": 0, ", rest].concat();
                for scan in [&scan_doc as &dyn Fn(&[u8]) -> _, &scan_ln] {
                    let shifted = scan(&escaped).map_err(|(r, o)| (r, o.saturating_sub(10)));
                    assert_eq!(scan(&flat), shifted, "{:?}", String::from_utf8_lossy(&flat));
                    compared += 1;
                }
            }
            // The object's own first name, escaped or not: an error object whose first
            // names are `class` and `desc`, matched as words and recorded only when another
            // name comes or the object is handed over.
            if let [b'"', c, tail @ ..] = rest {
                if c.is_ascii_alphanumeric() {
                    let outer = &b"{\"error\": "[..];
                    let quote = outer.len() + 1;
                    let flat = [outer, b"{", rest].concat();
                    let esc = format!("{{\"\\u{:04x}", c);
                    let escaped = [outer, esc.as_bytes(), tail].concat();
                    for scan in [&scan_doc as &dyn Fn(&[u8]) -> _, &scan_ln] {
                        let shifted =
                            scan(&escaped).map_err(|(r, o)| (r, if o > quote { o - 5 } else { o }));
                        assert_eq!(scan(&flat), shifted, "{:?}", String::from_utf8_lossy(&flat));
                        words += usize::from(matches!(c, b'c' | b'd'));
                    }
                }
            }
        }
        assert!(compared > 40_000, "{compared} comparisons");
        assert!(words > 1_000, "{words} error objects from class or desc");
    }
}
