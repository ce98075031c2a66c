//! Printing validated JSON the way Python's `json.dumps` and QEMU's monitor do.
//!
//! The printer walks the validated bytes once, iteratively (depth is a counter), re-escaping
//! strings ASCII-only and re-printing numbers as the style wants them (Python's `int` /
//! `repr(float)`, QEMU's `%.17g`, or as written); whatever already reads as the style writes
//! it is copied as whole runs.

use core::fmt;

use crate::error::BufferTooSmall;
use crate::json::number::{python_number, write_qemu_number};
use crate::json::scan::is_ws;
use crate::json::sink::{Counter, FmtSink, Sink, SliceOut};
use crate::json::str::{decode_escape, decode_utf8};
use crate::json::Value;

/// How JSON is laid out and escaped when printed.
///
/// Three layouts exist: Python's `json.dumps(obj, indent=2)` (what `str(Message)` prints),
/// Python's compact `json.dumps(obj, separators=(',', ':'))` (what `bytes(Message)` gives
/// for a changed message), and QEMU's own wire format. All escape non-ASCII characters.
/// The Python styles print numbers as Python does after `json.loads` (`1e5` → `100000.0`,
/// `-0` → `0`, `1e400` → `Infinity`); see the crate docs for the whole contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Style {
    indent: u8,
    comma: &'static str,
    colon: &'static str,
    upper_hex: bool,
    numbers: Numbers,
}

/// How a [`Style`] prints number tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Numbers {
    /// As Python prints what `json.loads` read ([`python_number`]).
    Python,
    /// [`Numbers::Python`], except that a number beyond `f64` keeps its text instead of
    /// becoming `Infinity`, which is not JSON: for bytes sent to a peer.
    PythonWire,
    /// As written in the input.
    AsWritten,
    /// As QEMU re-prints what it parsed ([`write_qemu_number`]).
    Qemu,
}

impl Style {
    /// `json.dumps(obj, indent=2)`: two-space indent, `","` and `": "`, lowercase `\u00e9`,
    /// numbers as Python re-prints them.
    pub const PYTHON_PRETTY: Style = Style {
        indent: 2,
        comma: ",",
        colon: ": ",
        upper_hex: false,
        numbers: Numbers::Python,
    };
    /// `json.dumps(obj, separators=(',', ':'))`: no whitespace, lowercase `\u00e9`, numbers
    /// as Python re-prints them.
    pub const PYTHON_COMPACT: Style = Style {
        indent: 0,
        comma: ",",
        colon: ":",
        upper_hex: false,
        numbers: Numbers::Python,
    };
    /// QEMU's monitor output: one line, `", "` and `": "`, uppercase `\u00E9`; numbers as
    /// written.
    pub const QEMU: Style = Style {
        indent: 0,
        comma: ", ",
        colon: ": ",
        upper_hex: true,
        numbers: Numbers::AsWritten,
    };
    /// [`Style::PYTHON_COMPACT`] for the wire: numbers as Python re-prints them, except that
    /// a number beyond `f64` (`1e400`) keeps its text, where `json.dumps` would write the
    /// invalid token `Infinity` that QEMU rejects. The command encoder writes values with it.
    pub(crate) const PYTHON_WIRE: Style = Style {
        numbers: Numbers::PythonWire,
        ..Style::PYTHON_COMPACT
    };
    /// [`Style::QEMU`], with numbers re-printed as QEMU re-prints what it parsed (integers as
    /// integers, other numbers with `%.17g`: `1.0` → `1`, `0.1` → `0.10000000000000001`):
    /// how a server echoes a client's values.
    pub(crate) const QEMU_ECHO: Style = Style {
        numbers: Numbers::Qemu,
        ..Style::QEMU
    };
}

const SPACES: &[u8] = b"                                                                ";

fn newline_indent<S: Sink + ?Sized>(out: &mut S, n: usize) -> fmt::Result {
    out.put_byte(b'\n')?;
    let mut left = n;
    while left > 0 {
        let k = left.min(SPACES.len());
        out.put(SPACES.get(..k).unwrap_or(b""))?;
        left -= k;
    }
    Ok(())
}

/// Bytes that stand for themselves inside a JSON string: printable ASCII but `"` and `\`.
const PLAIN: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0x20;
    while b < 0x7f {
        t[b] = b != b'"' as usize && b != b'\\' as usize;
        b += 1;
    }
    t
};

/// Bytes that continue a number or a literal (`true`, `false`, `null`).
const SCALAR: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || c == b'+' || c == b'-' || c == b'.';
        b += 1;
    }
    t
};

/// Whether `b` is written as itself inside a JSON string.
#[inline]
pub(crate) fn is_plain(b: u8) -> bool {
    PLAIN[b as usize]
}

/// The high bit of each byte of `v` that is not [plain](is_plain). Bits above the lowest
/// one set may be false alarms; the lowest one is exact.
#[inline]
fn special_bytes(v: u64) -> u64 {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let ctrl = v.wrapping_sub(LO * 0x20);
    let del = v.wrapping_add(LO);
    let q = (v ^ (LO * u64::from(b'"'))).wrapping_sub(LO);
    let bs = (v ^ (LO * u64::from(b'\\'))).wrapping_sub(LO);
    (ctrl | del | q | bs | v) & HI
}

/// The index of the first byte at or after `i` that is not [plain](is_plain), or
/// `b.len()`.
#[inline]
fn skip_plain(b: &[u8], mut i: usize) -> usize {
    // Eight bytes at a time (SWAR).
    while let Some(chunk) = b.get(i..i + 8) {
        let w = <[u8; 8]>::try_from(chunk).unwrap_or([0; 8]);
        let special = special_bytes(u64::from_le_bytes(w));
        if special != 0 {
            return i + (special.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    // Fewer than eight left: the last eight bytes shifted down past the ones already seen,
    // zeros (special) shifted in above the end.
    let start = b.len().saturating_sub(8);
    if i >= b.len() {
        return b.len();
    }
    if i > start {
        if let Some(last) = b.get(start..).and_then(|t| <[u8; 8]>::try_from(t).ok()) {
            let v = u64::from_le_bytes(last) >> (8 * (i - start));
            let special = special_bytes(v);
            return (i + (special.trailing_zeros() / 8) as usize).min(b.len());
        }
    }
    while b.get(i).is_some_and(|&c| is_plain(c)) {
        i += 1;
    }
    i
}

/// Whether every byte of `b` is [plain](is_plain): words at a time, short input in two
/// overlapping halves.
#[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
#[inline]
fn all_plain(b: &[u8]) -> bool {
    let n = b.len();
    if n >= 8 {
        return skip_plain(b, 0) == n;
    }
    if n >= 4 {
        let (Some(lo), Some(hi)) = (
            b.get(..4).and_then(|t| <[u8; 4]>::try_from(t).ok()),
            b.get(n - 4..).and_then(|t| <[u8; 4]>::try_from(t).ok()),
        ) else {
            return false;
        };
        let v = u64::from(u32::from_le_bytes(lo)) | (u64::from(u32::from_le_bytes(hi)) << 32);
        return special_bytes(v) == 0;
    }
    b.iter().all(|&c| is_plain(c))
}

/// [`all_plain`] a byte at a time, for small targets (see [`put_str_body_compact`]).
#[cfg(not(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64"))))]
#[inline]
fn all_plain(b: &[u8]) -> bool {
    b.iter().all(|&c| is_plain(c))
}

/// One character escaped for a JSON string body, ASCII-only: the bytes and their count.
fn escape_char(c: char, upper: bool) -> ([u8; 12], usize) {
    let mut o = [0u8; 12];
    let short = match c {
        '"' => b'"',
        '\\' => b'\\',
        '\n' => b'n',
        '\r' => b'r',
        '\t' => b't',
        '\u{8}' => b'b',
        '\u{c}' => b'f',
        ' '..='~' => {
            o[0] = c as u8;
            return (o, 1);
        }
        _ => 0,
    };
    if short != 0 {
        o[0] = b'\\';
        o[1] = short;
        return (o, 2);
    }
    let digits: &[u8; 16] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut units = [0u16; 2];
    let mut n = 0;
    for &u in c.encode_utf16(&mut units).iter() {
        if let Some(dst) = o.get_mut(n..n + 6) {
            dst.copy_from_slice(&[
                b'\\',
                b'u',
                digits[usize::from(u >> 12)],
                digits[usize::from((u >> 8) & 0xf)],
                digits[usize::from((u >> 4) & 0xf)],
                digits[usize::from(u & 0xf)],
            ]);
        }
        n += 6;
    }
    (o, n.min(12))
}

/// Writes one character escaped for a JSON string body, ASCII-only.
#[inline]
pub(crate) fn write_escaped_char<S: Sink + ?Sized>(
    out: &mut S,
    c: char,
    upper: bool,
) -> fmt::Result {
    let (b, n) = escape_char(c, upper);
    out.put(b.get(..n).unwrap_or(b""))
}

/// Writes `s` escaped as a JSON string body (no quotes), ASCII-only: runs of plain bytes
/// are written whole.
#[inline]
pub(crate) fn put_str_body<S: Sink + ?Sized>(out: &mut S, s: &str, upper: bool) -> fmt::Result {
    let b = s.as_bytes();
    let mut run = 0;
    let mut i = skip_plain(b, 0);
    while let Some(rest) = b.get(i..).filter(|r| !r.is_empty()) {
        if i > run {
            out.put(b.get(run..i).unwrap_or(b""))?;
        }
        let (ch, used) = decode_utf8(rest);
        write_escaped_char(out, ch, upper)?;
        i += used;
        run = i;
        i = skip_plain(b, i);
    }
    if run == 0 {
        out.put(b)
    } else {
        out.put(b.get(run..).unwrap_or(b""))
    }
}

/// Writes an arbitrary `&str` as a JSON string, quotes included.
#[inline(always)]
pub(crate) fn put_str_escaped<S: Sink + ?Sized>(
    mut out: &mut S,
    s: &str,
    upper: bool,
) -> fmt::Result {
    if all_plain(s.as_bytes()) {
        out.put_quoted(s.as_bytes())
    } else {
        put_str_escaped_slow(&mut out, s, upper)
    }
}

/// [`put_str_escaped`] for a string with something to escape. One copy for every sink (a
/// `dyn` sink: the measuring and the writing pass of an encoder share it), as escaping is
/// rare and small firmware links this once.
#[inline(never)]
fn put_str_escaped_slow(out: &mut dyn Sink, s: &str, upper: bool) -> fmt::Result {
    out.put_byte(b'"')?;
    #[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
    put_str_body(out, s, upper)?;
    #[cfg(not(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64"))))]
    put_str_body_compact(out, s, upper)?;
    out.put_byte(b'"')
}

/// [`put_str_body`] a byte at a time, for small targets (those without 128-bit vectors, as
/// the scanner's compact form): a fraction of the code, for a path that only strings with
/// something to escape take.
#[cfg(not(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64"))))]
fn put_str_body_compact(out: &mut dyn Sink, s: &str, upper: bool) -> fmt::Result {
    let b = s.as_bytes();
    let (mut run, mut i) = (0, 0);
    while let Some(&c) = b.get(i) {
        if is_plain(c) {
            i += 1;
            continue;
        }
        out.put(b.get(run..i).unwrap_or(b""))?;
        let (ch, used) = decode_utf8(b.get(i..).unwrap_or(b""));
        write_escaped_char(out, ch, upper)?;
        i += used;
        run = i;
    }
    out.put(b.get(run..).unwrap_or(b""))
}

/// Writes an arbitrary `&str` as a JSON string to a `fmt::Write`, quotes included.
pub(crate) fn write_str_escaped<O: fmt::Write + ?Sized>(
    out: &mut O,
    s: &str,
    upper: bool,
) -> fmt::Result {
    put_str_escaped(&mut FmtSink(out), s, upper)
}

/// Whether QEMU re-prints the number token `t` as it is: an integer of at most 18 digits
/// with no leading zero, and not `-0`.
#[inline]
fn same_qemu_number(t: &[u8]) -> bool {
    let digits = t.strip_prefix(b"-").unwrap_or(t);
    let n = digits.len();
    (1..=18).contains(&n)
        && digits.iter().all(u8::is_ascii_digit)
        && (n == 1 || digits.first() != Some(&b'0'))
        && !(t.len() != n && digits == b"0")
}

/// Prints the validated value `raw` in `style`.
///
/// Output that equals the input (plain string text, escapes already in the target form,
/// separators and numbers already as the style writes them) is copied as whole runs of
/// input; only the differences are written piece by piece.
pub(crate) fn print_to<S: Sink + ?Sized>(raw: &[u8], style: &Style, out: &mut S) -> fmt::Result {
    let indent = style.indent as usize;
    let comma = style.comma.as_bytes();
    let colon = style.colon.as_bytes();
    // Every style's separators are `,` or `:`, optionally followed by one space.
    let comma_spaced = comma.len() > 1;
    let colon_spaced = colon.len() > 1;
    let mut depth = 0usize;
    // Input bytes from `run` to `i` are output as they are, not yet written.
    let mut run = 0usize;
    let mut i = 0usize;
    macro_rules! flush {
        ($to:expr) => {
            if $to > run {
                out.put(raw.get(run..$to).unwrap_or(b""))?;
            }
        };
    }
    let skip_ws = |mut j: usize| {
        while raw.get(j).is_some_and(|&c| is_ws(c)) {
            j += 1;
        }
        j
    };
    while let Some(&c) = raw.get(i) {
        match c {
            b'"' => {
                let mut j = i + 1;
                loop {
                    j = skip_plain(raw, j);
                    let Some(rest) = raw.get(j..).filter(|r| !r.is_empty()) else {
                        break;
                    };
                    if rest.first() == Some(&b'"') {
                        j += 1;
                        break;
                    }
                    let (ch, used) = if rest.first() == Some(&b'\\') {
                        decode_escape(rest)
                    } else {
                        decode_utf8(rest)
                    };
                    let (esc, n) = escape_char(ch, style.upper_hex);
                    let esc = esc.get(..n).unwrap_or(b"");
                    if rest.get(..used) != Some(esc) {
                        flush!(j);
                        out.put(esc)?;
                        run = j + used;
                    }
                    j += used;
                }
                i = j;
            }
            b'{' | b'[' => {
                // `}` and `]` follow `{` and `[` two code points later.
                let close = c + 2;
                let j = skip_ws(i + 1);
                if raw.get(j) == Some(&close) {
                    if j > i + 1 {
                        flush!(i + 1);
                        run = j;
                    }
                    i = j + 1;
                    continue;
                }
                depth += 1;
                if indent > 0 {
                    flush!(i + 1);
                    newline_indent(out, depth * indent)?;
                    run = j;
                    i = j;
                } else {
                    i += 1;
                }
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if indent > 0 {
                    flush!(i);
                    newline_indent(out, depth * indent)?;
                    run = i;
                }
                i += 1;
            }
            b',' | b':' => {
                let (sep, spaced) = if c == b',' {
                    (comma, comma_spaced)
                } else {
                    (colon, colon_spaced)
                };
                let next = raw.get(i + 1).copied().unwrap_or(b'"');
                let same = if spaced {
                    next == b' ' && !raw.get(i + 2).is_some_and(|&b| is_ws(b))
                } else {
                    !is_ws(next)
                };
                if same && (c == b':' || indent == 0) {
                    i += 1 + usize::from(spaced);
                } else {
                    flush!(i);
                    out.put(sep)?;
                    if c == b',' && indent > 0 {
                        newline_indent(out, depth * indent)?;
                    }
                    i = skip_ws(i + 1);
                    run = i;
                }
            }
            c if is_ws(c) => {
                flush!(i);
                i = skip_ws(i);
                run = i;
            }
            _ => {
                let mut end = i + 1;
                while raw.get(end).is_some_and(|&b| SCALAR[b as usize]) {
                    end += 1;
                }
                let text = raw.get(i..end).unwrap_or(b"");
                if c == b'-' || c.is_ascii_digit() {
                    match style.numbers {
                        Numbers::Python | Numbers::PythonWire => {
                            if let Some((py, n)) = python_number(text) {
                                let py = py.get(..n).unwrap_or(b"");
                                let keep = style.numbers == Numbers::PythonWire
                                    && py.ends_with(b"Infinity");
                                if !keep {
                                    flush!(i);
                                    out.put(py)?;
                                    run = end;
                                }
                            }
                        }
                        Numbers::Qemu if !same_qemu_number(text) => {
                            flush!(i);
                            write_qemu_number(core::str::from_utf8(text).unwrap_or("0"), out)?;
                            run = end;
                        }
                        Numbers::Qemu | Numbers::AsWritten => {}
                    }
                }
                i = end;
            }
        }
    }
    flush!(raw.len());
    Ok(())
}

/// Prints the validated value `raw` in `style` to a `fmt::Write`.
pub(crate) fn print<O: fmt::Write + ?Sized>(raw: &[u8], style: &Style, out: &mut O) -> fmt::Result {
    print_to(raw, style, &mut FmtSink(out))
}

/// Prints into a `fmt::Formatter` (or any `fmt::Write`).
pub(crate) fn write_fmt<W: fmt::Write + ?Sized>(
    raw: &[u8],
    style: &Style,
    w: &mut W,
) -> fmt::Result {
    print(raw, style, w)
}

/// The printed length in bytes.
pub(crate) fn printed_len(raw: &[u8], style: &Style) -> usize {
    let mut c = Counter(0);
    let _ = print_to(raw, style, &mut c);
    c.0
}

/// Prints into `buf`; on a short buffer nothing is written and the size needed is reported.
pub(crate) fn print_into(
    raw: &[u8],
    style: &Style,
    buf: &mut [u8],
) -> Result<usize, BufferTooSmall> {
    let required = printed_len(raw, style);
    if required > buf.len() {
        return Err(BufferTooSmall { required });
    }
    let mut out = SliceOut { buf, len: 0 };
    match print_to(raw, style, &mut out) {
        Ok(()) => Ok(out.len),
        Err(_) => Err(BufferTooSmall { required }),
    }
}

/// A value printed in a chosen [`Style`], as a `Display`.
///
/// ```
/// use qmp_codec::{Message, Style};
/// let msg = Message::parse(br#"{"return": {"a": [1, "\u00e9"]}}"#).unwrap();
/// assert_eq!(msg.as_value().display(Style::PYTHON_COMPACT).to_string(),
///            r#"{"return":{"a":[1,"\u00e9"]}}"#);
/// ```
#[derive(Clone, Copy)]
pub struct Printed<'a> {
    value: Value<'a>,
    style: Style,
}

impl<'a> Printed<'a> {
    pub(crate) const fn new(value: Value<'a>, style: Style) -> Self {
        Printed { value, style }
    }
}

impl fmt::Display for Printed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        print(self.value.raw(), &self.style, f)
    }
}

impl fmt::Debug for Printed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Compact printing, used by `Debug` impls.
pub(crate) struct Compact<'a>(Printed<'a>);

impl<'a> Compact<'a> {
    pub(crate) const fn new(value: Value<'a>) -> Self {
        Compact(Printed::new(value, Style::PYTHON_COMPACT))
    }
}

impl fmt::Debug for Compact<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl<'a> Value<'a> {
    /// The value printed in `style`, as a `Display`.
    pub fn display(&self, style: Style) -> Printed<'a> {
        Printed::new(*self, style)
    }

    /// Writes the value in `style` to any `fmt::Write`.
    pub fn write_to<W: fmt::Write + ?Sized>(&self, style: Style, w: &mut W) -> fmt::Result {
        print(self.raw(), &style, w)
    }

    /// The length in bytes of the value printed in `style`.
    pub fn printed_len(&self, style: Style) -> usize {
        printed_len(self.raw(), &style)
    }

    /// Prints the value in `style` into `buf`, returning the length written.
    ///
    /// On a short buffer nothing is written and the exact size needed is reported.
    pub fn print_into(&self, style: Style, buf: &mut [u8]) -> Result<usize, BufferTooSmall> {
        print_into(self.raw(), &style, buf)
    }
}

/// Writes `s` as a JSON string literal, quotes included, escaped ASCII-only as Python's
/// `json.dumps` does (`\"`, `\\`, `\n`, `\u00e9`, surrogate pairs above the BMP).
///
/// The output is valid JSON whatever `s` holds, so any text (an error message, a name read
/// from a file) can be embedded in JSON output.
///
/// ```
/// let mut out = String::new();
/// qmp_codec::write_json_string(&mut out, "caf\u{e9} \"1\"\n").unwrap();
/// assert_eq!(out, r#""caf\u00e9 \"1\"\n""#);
/// ```
pub fn write_json_string<W: fmt::Write + ?Sized>(out: &mut W, s: &str) -> fmt::Result {
    write_str_escaped(out, s, false)
}
