//! Printing validated JSON the way Python's `json.dumps` and QEMU's monitor do.
//!
//! The printer walks the validated bytes once, iteratively (depth is a counter), re-escaping
//! strings ASCII-only and copying numbers as their original text.

use core::fmt;

use crate::error::BufferTooSmall;
use crate::json::number::write_qemu_number;
use crate::json::scan::is_ws;
use crate::json::str::{decode_escape, decode_utf8};
use crate::json::value::{skip_string, skip_value};
use crate::json::Value;

/// How JSON is laid out and escaped when printed.
///
/// Three layouts exist: Python's `json.dumps(obj, indent=2)` (what `str(Message)` prints),
/// Python's compact `json.dumps(obj, separators=(',', ':'))` (what `bytes(Message)` gives
/// for a changed message), and QEMU's own wire format. All escape non-ASCII characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Style {
    indent: u8,
    comma: &'static str,
    colon: &'static str,
    upper_hex: bool,
    qemu_numbers: bool,
}

impl Style {
    /// `json.dumps(obj, indent=2)`: two-space indent, `","` and `": "`, lowercase `\u00e9`.
    pub const PYTHON_PRETTY: Style = Style {
        indent: 2,
        comma: ",",
        colon: ": ",
        upper_hex: false,
        qemu_numbers: false,
    };
    /// `json.dumps(obj, separators=(',', ':'))`: no whitespace, lowercase `\u00e9`.
    pub const PYTHON_COMPACT: Style = Style {
        indent: 0,
        comma: ",",
        colon: ":",
        upper_hex: false,
        qemu_numbers: false,
    };
    /// QEMU's monitor output: one line, `", "` and `": "`, uppercase `\u00E9`; numbers as
    /// written.
    pub const QEMU: Style = Style {
        indent: 0,
        comma: ", ",
        colon: ": ",
        upper_hex: true,
        qemu_numbers: false,
    };
    /// [`Style::QEMU`], with numbers re-printed as QEMU re-prints what it parsed (integers as
    /// integers, other numbers with `%.17g`: `1.0` → `1`, `0.1` → `0.10000000000000001`):
    /// how a server echoes a client's values.
    pub(crate) const QEMU_ECHO: Style = Style {
        qemu_numbers: true,
        ..Style::QEMU
    };
}

/// Counts bytes instead of writing them.
pub(crate) struct Counter(pub usize);

impl fmt::Write for Counter {
    #[inline]
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0 += s.len();
        Ok(())
    }
}

/// Writes into a byte slice; fails when it is full.
pub(crate) struct SliceOut<'b> {
    pub buf: &'b mut [u8],
    pub len: usize,
}

impl fmt::Write for SliceOut<'_> {
    #[inline]
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        match self.buf.get_mut(self.len..end) {
            Some(dst) => {
                dst.copy_from_slice(s.as_bytes());
                self.len = end;
                Ok(())
            }
            None => Err(fmt::Error),
        }
    }
}

const SPACES: &str = "                                                                ";

fn newline_indent<O: fmt::Write + ?Sized>(out: &mut O, n: usize) -> fmt::Result {
    out.write_str("\n")?;
    let mut left = n;
    while left > 0 {
        let k = left.min(SPACES.len());
        out.write_str(&SPACES[..k])?;
        left -= k;
    }
    Ok(())
}

#[inline]
fn ascii(b: &[u8]) -> &str {
    // Callers pass only ASCII runs of validated input.
    core::str::from_utf8(b).unwrap_or("")
}

/// Writes one character escaped for a JSON string body, ASCII-only.
pub(crate) fn write_escaped_char<O: fmt::Write + ?Sized>(
    out: &mut O,
    c: char,
    upper: bool,
) -> fmt::Result {
    match c {
        '"' => out.write_str("\\\""),
        '\\' => out.write_str("\\\\"),
        '\n' => out.write_str("\\n"),
        '\r' => out.write_str("\\r"),
        '\t' => out.write_str("\\t"),
        '\u{8}' => out.write_str("\\b"),
        '\u{c}' => out.write_str("\\f"),
        ' '..='~' => {
            let mut b = [0u8; 4];
            out.write_str(c.encode_utf8(&mut b))
        }
        _ => {
            let mut units = [0u16; 2];
            for &u in c.encode_utf16(&mut units).iter() {
                write_u_escape(out, u, upper)?;
            }
            Ok(())
        }
    }
}

fn write_u_escape<O: fmt::Write + ?Sized>(out: &mut O, u: u16, upper: bool) -> fmt::Result {
    let digits: &[u8; 16] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut buf = *b"\\u0000";
    for k in 0..4 {
        buf[5 - k] = digits[((u >> (4 * k)) & 0xf) as usize];
    }
    out.write_str(ascii(&buf))
}

/// Writes a validated string body (between quotes), re-escaped, with its quotes.
pub(crate) fn write_string_body<O: fmt::Write + ?Sized>(
    out: &mut O,
    raw: &[u8],
    upper: bool,
) -> fmt::Result {
    out.write_str("\"")?;
    let mut i = 0;
    while i < raw.len() {
        // Copy the longest run of printable ASCII that needs no escape.
        let start = i;
        while let Some(&c) = raw.get(i) {
            if (0x20..0x7f).contains(&c) && c != b'"' && c != b'\\' {
                i += 1;
            } else {
                break;
            }
        }
        if i > start {
            out.write_str(ascii(&raw[start..i]))?;
        }
        let Some(rest) = raw.get(i..) else { break };
        let Some(&c) = rest.first() else { break };
        let (ch, used) = if c == b'\\' {
            decode_escape(rest)
        } else {
            decode_utf8(rest)
        };
        write_escaped_char(out, ch, upper)?;
        i += used;
    }
    out.write_str("\"")
}

/// Writes an arbitrary `&str` as a JSON string in the given style.
pub(crate) fn write_str_escaped<O: fmt::Write + ?Sized>(
    out: &mut O,
    s: &str,
    upper: bool,
) -> fmt::Result {
    out.write_str("\"")?;
    let b = s.as_bytes();
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if (' '..='~').contains(&c) && c != '"' && c != '\\' {
            continue;
        }
        if i > start {
            out.write_str(&s[start..i])?;
        }
        write_escaped_char(out, c, upper)?;
        start = i + c.len_utf8();
    }
    if start < b.len() {
        out.write_str(&s[start..])?;
    }
    out.write_str("\"")
}

/// Prints the validated value `raw` in `style`.
pub(crate) fn print<O: fmt::Write + ?Sized>(raw: &[u8], style: &Style, out: &mut O) -> fmt::Result {
    let indent = style.indent as usize;
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&c) = raw.get(i) {
        match c {
            b'{' | b'[' => {
                let close = if c == b'{' { b'}' } else { b']' };
                let mut j = i + 1;
                while raw.get(j).is_some_and(|&c| is_ws(c)) {
                    j += 1;
                }
                if raw.get(j) == Some(&close) {
                    out.write_str(if c == b'{' { "{}" } else { "[]" })?;
                    i = j + 1;
                    continue;
                }
                out.write_str(if c == b'{' { "{" } else { "[" })?;
                depth += 1;
                if indent > 0 {
                    newline_indent(out, depth * indent)?;
                }
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if indent > 0 {
                    newline_indent(out, depth * indent)?;
                }
                out.write_str(if c == b'}' { "}" } else { "]" })?;
            }
            b',' => {
                out.write_str(style.comma)?;
                if indent > 0 {
                    newline_indent(out, depth * indent)?;
                }
            }
            b':' => out.write_str(style.colon)?,
            b'"' => {
                let end = skip_string(raw, i);
                let body = raw.get(i + 1..end.saturating_sub(1)).unwrap_or(&[]);
                write_string_body(out, body, style.upper_hex)?;
                i = end;
                continue;
            }
            c if is_ws(c) => {}
            _ => {
                let end = skip_value(raw, i).max(i + 1);
                let text = ascii(raw.get(i..end).unwrap_or(&[]));
                if style.qemu_numbers && (c == b'-' || c.is_ascii_digit()) {
                    write_qemu_number(text, out)?;
                } else {
                    out.write_str(text)?;
                }
                i = end;
                continue;
            }
        }
        i += 1;
    }
    Ok(())
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
    let _ = print(raw, style, &mut c);
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
    match print(raw, style, &mut out) {
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
/// qmp_codec::json::write_json_string(&mut out, "caf\u{e9} \"1\"\n").unwrap();
/// assert_eq!(out, r#""caf\u00e9 \"1\"\n""#);
/// ```
pub fn write_json_string<W: fmt::Write + ?Sized>(out: &mut W, s: &str) -> fmt::Result {
    write_str_escaped(out, s, false)
}
