//! Number text to serde's numeric visits: integers exactly (up to 128 bits), floats
//! correctly rounded and finite.

/// A JSON number's text, classified.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Number {
    /// A non-negative integer.
    Unsigned(u128),
    /// A negative integer (never zero: `-0` is `Unsigned(0)`).
    Negative(i128),
    /// An integer beyond 128 bits.
    OutOfRange,
    /// A number with a fraction or an exponent.
    Float,
}

/// Classifies `text` if it is an integer in JSON's grammar (`-?(0|[1-9][0-9]*)`), or a
/// float when it has a fraction or exponent. `None` when it is not a JSON number at all,
/// which happens only for map keys (values are validated already).
pub(crate) fn classify(text: &[u8]) -> Option<Number> {
    let (neg, digits) = match text {
        [b'-', rest @ ..] => (true, rest),
        rest => (false, rest),
    };
    let int_len = digits
        .iter()
        .position(|d| !d.is_ascii_digit())
        .unwrap_or(digits.len());
    let (int, tail) = digits.split_at(int_len);
    match int {
        [] => return None,
        [b'0', _, ..] => return None,
        _ => {}
    }
    if !tail.is_empty() {
        return float_tail(tail).then_some(Number::Float);
    }
    let mut magnitude: u128 = 0;
    for &d in int {
        let Some(m) = magnitude
            .checked_mul(10)
            .and_then(|m| m.checked_add(u128::from(d - b'0')))
        else {
            return Some(Number::OutOfRange);
        };
        magnitude = m;
    }
    if !neg || magnitude == 0 {
        return Some(Number::Unsigned(magnitude));
    }
    // i128::MIN's magnitude is 2^127, one more than i128::MAX.
    Some(match i128::try_from(magnitude) {
        Ok(m) => Number::Negative(-m),
        Err(_) if magnitude == i128::MIN.unsigned_abs() => Number::Negative(i128::MIN),
        Err(_) => Number::OutOfRange,
    })
}

/// Whether `tail` is a JSON fraction and/or exponent: `(.[0-9]+)?([eE][+-]?[0-9]+)?`, not empty.
fn float_tail(tail: &[u8]) -> bool {
    let rest = match tail {
        [b'.', rest @ ..] => {
            let n = rest.iter().take_while(|d| d.is_ascii_digit()).count();
            if n == 0 {
                return false;
            }
            rest.get(n..).unwrap_or(&[])
        }
        rest => rest,
    };
    let exp = match rest {
        [] => return true,
        [b'e' | b'E', b'+' | b'-', exp @ ..] | [b'e' | b'E', exp @ ..] => exp,
        _ => return false,
    };
    !exp.is_empty() && exp.iter().all(u8::is_ascii_digit)
}

/// The nearest finite `f64` of JSON number text, or `None` when it rounds to infinity.
pub(crate) fn to_f64(text: &[u8]) -> Option<f64> {
    let f: f64 = core::str::from_utf8(text).ok()?.parse().ok()?;
    f.is_finite().then_some(f)
}

/// The nearest finite `f32` of JSON number text (rounded once, from the text), or `None`.
pub(crate) fn to_f32(text: &[u8]) -> Option<f32> {
    let f: f32 = core::str::from_utf8(text).ok()?.parse().ok()?;
    f.is_finite().then_some(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_integers_and_floats() {
        assert_eq!(classify(b"0"), Some(Number::Unsigned(0)));
        assert_eq!(classify(b"-0"), Some(Number::Unsigned(0)));
        assert_eq!(classify(b"-12"), Some(Number::Negative(-12)));
        assert_eq!(
            classify(b"340282366920938463463374607431768211455"),
            Some(Number::Unsigned(u128::MAX))
        );
        assert_eq!(
            classify(b"340282366920938463463374607431768211456"),
            Some(Number::OutOfRange)
        );
        assert_eq!(
            classify(b"-170141183460469231731687303715884105728"),
            Some(Number::Negative(i128::MIN))
        );
        assert_eq!(
            classify(b"-170141183460469231731687303715884105729"),
            Some(Number::OutOfRange)
        );
        assert_eq!(classify(b"1.5"), Some(Number::Float));
        assert_eq!(classify(b"1e5"), Some(Number::Float));
        assert_eq!(classify(b"-1.0E+5"), Some(Number::Float));
        for bad in [
            &b""[..],
            b"-",
            b"01",
            b"+1",
            b"1.",
            b".5",
            b"1e",
            b"1e+",
            b"0x1",
            b"1 ",
        ] {
            assert_eq!(classify(bad), None, "{:?}", core::str::from_utf8(bad));
        }
    }

    #[test]
    fn floats_must_be_finite() {
        assert_eq!(to_f64(b"1e308"), Some(1e308));
        assert_eq!(to_f64(b"1e400"), None);
        assert_eq!(to_f64(b"-1e400"), None);
        assert_eq!(to_f32(b"3.4e38"), Some(3.4e38));
        assert_eq!(to_f32(b"1e39"), None);
        assert_eq!(to_f64(b"1e-400"), Some(0.0));
    }
}
