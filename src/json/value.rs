//! Borrowed views of validated JSON values and their navigation.

use core::fmt;

use crate::json::scan::is_ws;
use crate::json::str::skip_string;
use crate::json::Str;

/// The JSON type of a [`Value`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ValueKind {
    /// `{…}`
    Object,
    /// `[…]`
    Array,
    /// `"…"`
    String,
    /// A number, kept as its original text.
    Number,
    /// `true` or `false`.
    Bool,
    /// `null`.
    Null,
}

impl ValueKind {
    /// The lowercase JSON type name: `object`, `array`, `string`, `number`, `bool`, `null`.
    pub const fn as_str(&self) -> &'static str {
        match self {
            ValueKind::Object => "object",
            ValueKind::Array => "array",
            ValueKind::String => "string",
            ValueKind::Number => "number",
            ValueKind::Bool => "bool",
            ValueKind::Null => "null",
        }
    }
}

impl fmt::Display for ValueKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A borrowed view of one validated JSON value.
///
/// Navigation ([`get`](Self::get), [`members`](Self::members), [`elements`](Self::elements))
/// walks the already-validated bytes without checking them again and never allocates.
/// Numbers keep their original text: `1e400` and 30-digit integers are valid values whose
/// [`as_f64`](Self::as_f64) / [`as_i64`](Self::as_i64) return `None`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Value<'a> {
    raw: &'a [u8],
}

impl<'a> Value<'a> {
    /// Wraps the exact bytes of a validated value (no surrounding whitespace).
    #[inline(always)]
    pub(crate) const fn new(raw: &'a [u8]) -> Self {
        Value { raw }
    }

    /// The JSON type of the value.
    #[inline]
    pub fn kind(&self) -> ValueKind {
        match self.raw.first() {
            Some(b'{') => ValueKind::Object,
            Some(b'[') => ValueKind::Array,
            Some(b'"') => ValueKind::String,
            Some(b't' | b'f') => ValueKind::Bool,
            Some(b'n') => ValueKind::Null,
            _ => ValueKind::Number,
        }
    }

    /// The value's exact bytes in the input.
    #[inline]
    pub const fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// The string, if this is one.
    #[inline]
    pub fn as_str(&self) -> Option<Str<'a>> {
        match self.raw {
            [b'"', body @ .., b'"'] => Some(Str::from_body(body)),
            _ => None,
        }
    }

    /// The number's original text, if this is a number.
    pub fn as_number(&self) -> Option<&'a str> {
        match self.kind() {
            ValueKind::Number => core::str::from_utf8(self.raw).ok(),
            _ => None,
        }
    }

    /// The number as an `i64`, if it is an integer (no fraction or exponent) in range.
    pub fn as_i64(&self) -> Option<i64> {
        match self.raw {
            [b'-', digits @ ..] => {
                // Down to `i64::MIN`, whose magnitude is one more than `i64::MAX`.
                let magnitude = decimal_u64(digits)?;
                (magnitude <= i64::MIN.unsigned_abs())
                    .then(|| 0i64.wrapping_sub_unsigned(magnitude))
            }
            digits => i64::try_from(decimal_u64(digits)?).ok(),
        }
    }

    /// The number as a `u64`, if it is a non-negative integer in range.
    pub fn as_u64(&self) -> Option<u64> {
        match self.raw {
            [b'-', b'0'] => Some(0),
            digits => decimal_u64(digits),
        }
    }

    /// The number as the nearest `f64`, or `None` when it is not a number or overflows to
    /// infinity (`1e400`).
    pub fn as_f64(&self) -> Option<f64> {
        let f: f64 = self.as_number()?.parse().ok()?;
        f.is_finite().then_some(f)
    }

    /// The boolean, if this is `true` or `false`.
    #[inline]
    pub fn as_bool(&self) -> Option<bool> {
        match self.raw {
            b"true" => Some(true),
            b"false" => Some(false),
            _ => None,
        }
    }

    /// Whether this is `null`.
    #[inline]
    pub fn is_null(&self) -> bool {
        self.raw == b"null"
    }

    /// The value of the member `name` (compared unescaped) if this is an object.
    ///
    /// Names are unique at every depth: the parser rejects an object with two members of
    /// one name, as QEMU does (see the crate docs on printing).
    pub fn get(&self, name: &str) -> Option<Value<'a>> {
        let mut found = None;
        for (k, v) in self.members() {
            if k.eq_str(name) {
                found = Some(v);
            }
        }
        found
    }

    /// The members of an object in document order; empty for anything else.
    #[inline]
    pub fn members(&self) -> Members<'a> {
        Members {
            b: if self.kind() == ValueKind::Object {
                self.raw
            } else {
                &[]
            },
            pos: 1,
        }
    }

    /// The elements of an array in document order; empty for anything else.
    #[inline]
    pub fn elements(&self) -> Elements<'a> {
        Elements {
            b: if self.kind() == ValueKind::Array {
                self.raw
            } else {
                &[]
            },
            pos: 1,
        }
    }
}

impl fmt::Debug for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Value")
            .field(&crate::json::print::Compact::new(*self))
            .finish()
    }
}

impl fmt::Display for Value<'_> {
    /// Prints the value as Python's `json.dumps(value, indent=2)` does.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::json::print::write_fmt(self.raw, &crate::json::Style::PYTHON_PRETTY, f)
    }
}

/// The value of a run of ASCII digits: `None` when it is empty, holds anything else, or is
/// above `u64::MAX` (shared by [`Value::as_u64`] and [`Value::as_i64`]).
#[inline(never)]
fn decimal_u64(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(v)
}

#[inline(always)]
fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while let Some(&c) = b.get(i) {
        if is_ws(c) {
            i += 1;
        } else {
            break;
        }
    }
    i
}

/// The offset after the value starting at `i`, in validated input. Iterative: containers
/// are skipped with a depth counter.
#[inline]
pub(crate) fn skip_value(b: &[u8], i: usize) -> usize {
    match b.get(i) {
        Some(b'"') => skip_string(b, i),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            let mut j = i;
            while let Some(&c) = b.get(j) {
                match c {
                    b'"' => {
                        j = skip_string(b, j);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            return j + 1;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            b.len()
        }
        Some(_) => {
            let mut j = i;
            while let Some(&c) = b.get(j) {
                if matches!(c, b',' | b'}' | b']' | b':') || is_ws(c) {
                    break;
                }
                j += 1;
            }
            j
        }
        None => i,
    }
}

/// The members of an object: `(name, value)` pairs in document order.
#[derive(Clone, Debug)]
pub struct Members<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Members<'a> {
    type Item = (Str<'a>, Value<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        let b = self.b;
        let mut i = skip_ws(b, self.pos);
        if b.get(i) == Some(&b',') {
            i = skip_ws(b, i + 1);
        }
        if b.get(i) != Some(&b'"') {
            self.pos = b.len();
            return None;
        }
        let key_end = skip_string(b, i);
        let key = Str::from_body(b.get(i + 1..key_end.saturating_sub(1)).unwrap_or(&[]));
        let mut j = skip_ws(b, key_end);
        if b.get(j) == Some(&b':') {
            j += 1;
        }
        let vstart = skip_ws(b, j);
        let vend = skip_value(b, vstart);
        self.pos = vend;
        Some((key, Value::new(b.get(vstart..vend).unwrap_or(&[]))))
    }
}

impl core::iter::FusedIterator for Members<'_> {}

/// The elements of an array in document order.
#[derive(Clone, Debug)]
pub struct Elements<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Elements<'a> {
    type Item = Value<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        let b = self.b;
        let mut i = skip_ws(b, self.pos);
        if b.get(i) == Some(&b',') {
            i = skip_ws(b, i + 1);
        }
        match b.get(i) {
            None | Some(b']') => {
                self.pos = b.len();
                None
            }
            Some(_) => {
                let end = skip_value(b, i);
                self.pos = end.max(i + 1);
                Some(Value::new(b.get(i..end).unwrap_or(&[])))
            }
        }
    }
}

impl core::iter::FusedIterator for Elements<'_> {}

#[cfg(test)]
mod tests {
    use super::Value;

    /// The integer readers against `str::parse`, at the edges of both types.
    #[test]
    fn integers_read_as_str_parse_reads_them() {
        let cases = [
            "0",
            "-0",
            "7",
            "-7",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "-9223372036854775809",
            "18446744073709551615",
            "18446744073709551616",
            "-18446744073709551615",
            "99999999999999999999999",
            "1.5",
            "1e3",
            "-",
            "",
            "\"1\"",
            "true",
        ];
        for c in cases {
            let v = Value::new(c.as_bytes());
            assert_eq!(v.as_i64(), c.parse::<i64>().ok(), "{c}");
            let u = if c == "-0" {
                Some(0)
            } else {
                c.parse::<u64>().ok()
            };
            assert_eq!(v.as_u64(), u, "{c}");
        }
    }
}
