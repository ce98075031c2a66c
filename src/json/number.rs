//! Number formatting: QEMU's `%.17g` and Python's `repr(float)`, without allocating.

use core::fmt::{self, Write as _};

use crate::json::sink::{put_i64, put_u64, Sink, SinkFmt, SliceOut};

/// The sign, decimal digits and decimal exponent of a finite float printed by `core::fmt`
/// in scientific notation (`{:e}` or `{:.16e}`): `d.ddd × 10^exp`.
struct Sci {
    neg: bool,
    digits: [u8; 24],
    len: usize,
    exp: i32,
}

impl Sci {
    /// `f` with `digits` significant digits, correctly rounded (ties to even), or with the
    /// fewest digits that read back as `f` when `digits` is `None`.
    fn new(f: f64, digits: Option<usize>) -> Option<Sci> {
        let mut buf = [0u8; 40];
        let mut out = SliceOut {
            buf: &mut buf,
            len: 0,
        };
        let ok = match digits {
            Some(n) => write!(out, "{f:.*e}", n.saturating_sub(1)),
            None => write!(out, "{f:e}"),
        };
        ok.ok()?;
        let len = out.len;
        let text = buf.get(..len)?;
        let (neg, text) = match text {
            [b'-', rest @ ..] => (true, rest),
            rest => (false, rest),
        };
        let e = text.iter().position(|&b| b == b'e')?;
        let (mant, exp) = (text.get(..e)?, text.get(e + 1..)?);
        let exp: i32 = core::str::from_utf8(exp).ok()?.parse().ok()?;
        let mut sci = Sci {
            neg,
            digits: [0; 24],
            len: 0,
            exp,
        };
        for &b in mant.iter().filter(|b| b.is_ascii_digit()) {
            *sci.digits.get_mut(sci.len)? = b;
            sci.len += 1;
        }
        // Drop trailing zeros (keeping one digit): neither format prints them.
        while sci.len > 1 && sci.digits.get(sci.len - 1) == Some(&b'0') {
            sci.len -= 1;
        }
        Some(sci)
    }

    /// Whether these digits read back as `f`.
    fn reads_as(&self, f: f64) -> bool {
        let mut buf = [0u8; 40];
        let mut out = SliceOut {
            buf: &mut buf,
            len: 0,
        };
        if write!(
            out,
            "{}e{}",
            self.digits(),
            self.exp - (self.len as i32 - 1)
        )
        .is_err()
        {
            return false;
        }
        let len = out.len;
        let text = core::str::from_utf8(buf.get(..len).unwrap_or(&[])).unwrap_or("");
        // The digits are those of `|f|`, the sign is kept apart.
        text.parse::<f64>().is_ok_and(|g| g == f.abs())
    }

    fn digits(&self) -> &str {
        core::str::from_utf8(self.digits.get(..self.len).unwrap_or(&[])).unwrap_or("0")
    }

    /// `d.ddde±XX` with at least two exponent digits, as C and Python print it.
    fn write_exp<W: Sink + ?Sized>(&self, w: &mut W) -> fmt::Result {
        let d = self.digits().as_bytes();
        let (first, rest) = d.split_at(1.min(d.len()));
        w.put(first)?;
        if !rest.is_empty() {
            w.put_byte(b'.')?;
            w.put(rest)?;
        }
        w.put(if self.exp < 0 { b"e-" } else { b"e+" })?;
        let e = self.exp.unsigned_abs();
        if e < 10 {
            w.put_byte(b'0')?;
        }
        put_u64(w, u64::from(e))
    }

    /// Positional notation; `point_zero` adds `.0` to integers as Python's `repr` does.
    fn write_fixed<W: Sink + ?Sized>(&self, w: &mut W, point_zero: bool) -> fmt::Result {
        let d = self.digits().as_bytes();
        if self.exp < 0 {
            w.put(b"0.")?;
            for _ in 0..(-self.exp - 1) {
                w.put_byte(b'0')?;
            }
            return w.put(d);
        }
        let int_len = self.exp as usize + 1;
        if d.len() <= int_len {
            w.put(d)?;
            for _ in d.len()..int_len {
                w.put_byte(b'0')?;
            }
            if point_zero {
                w.put(b".0")?;
            }
            Ok(())
        } else {
            let (int, frac) = d.split_at(int_len);
            w.put(int)?;
            w.put_byte(b'.')?;
            w.put(frac)
        }
    }
}

/// Writes a finite `f` as C's `printf("%.17g")`, which QEMU uses for doubles.
pub(crate) fn write_g17<W: Sink + ?Sized>(f: f64, w: &mut W) -> fmt::Result {
    let Some(s) = Sci::new(f, Some(17)) else {
        return write!(SinkFmt(w), "{f:?}");
    };
    if s.neg {
        w.put_byte(b'-')?;
    }
    if s.exp < -4 || s.exp >= 17 {
        s.write_exp(w)
    } else {
        s.write_fixed(w, false)
    }
}

/// The digits of Python's `repr(f)`: the fewest that read back as `f` and, among those, the
/// ones nearest to `f`, ties to even (CPython's `dtoa` mode 0). `core`'s shortest form has
/// the fewest digits but may round a tie up (`-1982516221745687.25` has two 17-digit
/// spellings, `…87.2` and `…87.3`; Python prints the even one), so the same number of digits
/// correctly rounded is preferred whenever it reads back as `f`.
fn python_digits(f: f64) -> Option<Sci> {
    let shortest = Sci::new(f, None)?;
    match Sci::new(f, Some(shortest.len)) {
        Some(nearest) if nearest.len <= shortest.len && nearest.reads_as(f) => Some(nearest),
        _ => Some(shortest),
    }
}

/// Writes a finite `f` as Python's `repr(float)` (what `json.dumps` writes).
pub(crate) fn write_python_float<W: Sink + ?Sized>(f: f64, w: &mut W) -> fmt::Result {
    let Some(s) = python_digits(f) else {
        return write!(SinkFmt(w), "{f:?}");
    };
    if s.neg {
        w.put_byte(b'-')?;
    }
    if s.exp < -4 || s.exp >= 16 {
        s.write_exp(w)
    } else {
        s.write_fixed(w, true)
    }
}

/// The longest text [`python_number`] writes for a float: `-1.2345678901234567e-308` is 24
/// bytes, `-0.00012345678901234567` 23, `-Infinity` 9.
const PY_FLOAT_MAX: usize = 32;

/// A validated JSON number token as Python re-prints it after `json.loads`: `None` when that
/// is the token itself, else the bytes to print instead.
///
/// Integers (no fraction, no exponent) are Python `int`s, exact at any length: the token is
/// printed as it is, except `-0`, which is `0`. Other numbers are `float(text)`, correctly
/// rounded from all their digits (`core`'s `str::parse` reads any length without
/// allocating), printed as `repr(float)`; a value beyond `f64` is `Infinity` / `-Infinity`,
/// as `json.dumps` writes by default.
#[inline]
pub(crate) fn python_number(text: &[u8]) -> Option<([u8; PY_FLOAT_MAX], usize)> {
    let mut out = [0u8; PY_FLOAT_MAX];
    if !text.iter().any(|&b| matches!(b, b'.' | b'e' | b'E')) {
        if text != b"-0" {
            return None;
        }
        out[0] = b'0';
        return Some((out, 1));
    }
    python_float(text, out)
}

/// The float half of [`python_number`], out of line: most numbers in QMP are integers.
#[inline(never)]
fn python_float(text: &[u8], mut out: [u8; PY_FLOAT_MAX]) -> Option<([u8; PY_FLOAT_MAX], usize)> {
    // A validated number token is ASCII, and valid input for `f64::from_str`.
    let f: f64 = core::str::from_utf8(text).ok()?.parse().ok()?;
    let mut w = SliceOut {
        buf: &mut out,
        len: 0,
    };
    let written = if f.is_finite() {
        write_python_float(f, &mut w)
    } else if f < 0.0 {
        w.put(b"-Infinity")
    } else {
        w.put(b"Infinity")
    };
    written.ok()?;
    let len = w.len;
    (out.get(..len) != Some(text)).then_some((out, len))
}

/// Writes a validated JSON number token as QEMU re-prints it.
///
/// QEMU parses an integer token as `int64`, then `uint64`, then `double`; other numbers as
/// `double`, printed with `%.17g`. A token that overflows to infinity (`1e400`) is printed
/// by QEMU as the invalid token `inf`; here it keeps its original text instead.
pub(crate) fn write_qemu_number<W: Sink + ?Sized>(text: &str, w: &mut W) -> fmt::Result {
    let integer = !text.bytes().any(|b| matches!(b, b'.' | b'e' | b'E'));
    if integer {
        if let Ok(v) = text.parse::<i64>() {
            return put_i64(w, v);
        }
        if !text.starts_with('-') {
            if let Ok(v) = text.parse::<u64>() {
                return put_u64(w, v);
            }
        }
    }
    match text.parse::<f64>() {
        Ok(f) if f.is_finite() => write_g17(f, w),
        _ => w.put(text.as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Buf {
        b: [u8; 64],
        n: usize,
    }
    impl Sink for Buf {
        fn put(&mut self, s: &[u8]) -> fmt::Result {
            let end = self.n + s.len();
            self.b
                .get_mut(self.n..end)
                .ok_or(fmt::Error)?
                .copy_from_slice(s);
            self.n = end;
            Ok(())
        }
    }
    fn run(f: impl Fn(&mut Buf) -> fmt::Result) -> Buf {
        let mut b = Buf { b: [0; 64], n: 0 };
        f(&mut b).unwrap();
        b
    }
    fn qemu(t: &str) -> Buf {
        run(|b| write_qemu_number(t, b))
    }
    fn py(f: f64) -> Buf {
        run(|b| write_python_float(f, b))
    }
    fn s(b: &Buf) -> &str {
        core::str::from_utf8(&b.b[..b.n]).unwrap()
    }

    #[test]
    fn qemu_numbers_match_captured_echoes() {
        // Inputs and outputs from the qsd capture's id cases.
        let cases = [
            ("0", "0"),
            ("-1", "-1"),
            ("9007199254740993", "9007199254740993"),
            ("9223372036854775808", "9223372036854775808"),
            ("18446744073709551615", "18446744073709551615"),
            ("18446744073709551616", "1.8446744073709552e+19"),
            ("-9223372036854775808", "-9223372036854775808"),
            ("-9223372036854775809", "-9.2233720368547758e+18"),
            (
                "1234567890123456789012345678901234567890",
                "1.2345678901234568e+39",
            ),
            ("1.5", "1.5"),
            ("1.0", "1"),
            ("0.1", "0.10000000000000001"),
            ("-0.0", "-0"),
            ("-0", "0"),
            ("1e3", "1000"),
            ("1E+3", "1000"),
            ("2.5e-7", "2.4999999999999999e-07"),
            ("1.7976931348623157e308", "1.7976931348623157e+308"),
            ("5e-324", "4.9406564584124654e-324"),
            ("1e-400", "0"),
            ("1e400", "1e400"),
        ];
        for (input, want) in cases {
            assert_eq!(s(&qemu(input)), want, "{input}");
        }
    }

    fn py_number(t: &str) -> Buf {
        run(|b| match python_number(t.as_bytes()) {
            Some((p, n)) => b.put(&p[..n]),
            None => b.put(t.as_bytes()),
        })
    }

    #[test]
    fn python_numbers_as_json_dumps_prints_them() {
        // (token, `json.dumps(json.loads(token))`), checked with CPython 3.11.
        let cases = [
            ("0", "0"),
            ("-0", "0"),
            ("-0.0", "-0.0"),
            ("0e0", "0.0"),
            ("-0E-5", "-0.0"),
            ("1.10", "1.1"),
            ("1e5", "100000.0"),
            ("1E5", "100000.0"),
            ("1e-7", "1e-07"),
            ("1e22", "1e+22"),
            ("12345678901234567.0", "1.2345678901234568e+16"),
            ("100e-2", "1.0"),
            ("1e400", "Infinity"),
            ("-1e400", "-Infinity"),
            ("1e-400", "0.0"),
            ("-1e-400", "-0.0"),
            (
                "123456789012345678901234567890",
                "123456789012345678901234567890",
            ),
            (
                "-123456789012345678901234567890",
                "-123456789012345678901234567890",
            ),
            ("1.5", "1.5"),
            ("0.1", "0.1"),
            ("1e16", "1e+16"),
            ("1E+15", "1000000000000000.0"),
            ("0.0001", "0.0001"),
            ("0.00001", "1e-05"),
            ("2.4703282292062328e-324", "5e-324"),
            ("2.4703282292062327e-324", "0.0"),
            ("1.7976931348623158e308", "1.7976931348623157e+308"),
            ("1.7976931348623159e308", "Infinity"),
            // A tie between two 17-digit spellings: Python prints the even one.
            ("-1982516221745687.3", "-1982516221745687.2"),
            ("1982516221745687.25", "1982516221745687.2"),
        ];
        for (token, want) in cases {
            assert_eq!(s(&py_number(token)), want, "{token}");
        }
    }

    #[test]
    fn python_floats_round_every_digit() {
        // 2^53 + 1 is halfway between two doubles and rounds to even (2^53); any nonzero
        // digit after it, however far right, rounds it up: the whole token counts.
        assert_eq!(s(&py_number("9007199254740993.0")), "9007199254740992.0");
        let mut long = [b'0'; 600];
        long[..17].copy_from_slice(b"9007199254740993.");
        long[599] = b'1';
        let text = core::str::from_utf8(&long).unwrap();
        assert_eq!(s(&py_number(text)), "9007199254740994.0");
        long[599] = b'0';
        let text = core::str::from_utf8(&long).unwrap();
        assert_eq!(s(&py_number(text)), "9007199254740992.0");
    }

    #[test]
    fn python_repr_floats() {
        let cases = [
            (1.0, "1.0"),
            (0.1, "0.1"),
            (-0.0, "-0.0"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (1.5e-7, "1.5e-07"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (123.456, "123.456"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
        ];
        for (f, want) in cases {
            assert_eq!(s(&py(f)), want, "{f}");
        }
    }
}
