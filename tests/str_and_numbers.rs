//! Unit-level checks of the `Str` and number views: exact sizes on short buffers, borrowed
//! versus owned decoding, equality across spellings, and integer/float edge cases.

use std::borrow::Cow;

use qmp_codec::{BufferTooSmall, Message, Str, Value};

/// The value of member `v` of the one-member message `{"v": <json>}`.
fn with_value<R>(json: &str, f: impl FnOnce(Value<'_>) -> R) -> R {
    let text = format!("{{\"v\": {json}}}");
    let msg = Message::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{json}: {e}"));
    f(msg.get("v").expect("member v"))
}

fn with_str<R>(json: &str, f: impl FnOnce(Str<'_>) -> R) -> R {
    with_value(json, |v| f(v.as_str().expect("a string")))
}

#[test]
fn unescape_into_short_buffers_report_required_and_stay_untouched() {
    // (JSON string, unescaped text)
    let cases = [
        (r#""""#, ""),
        (r#""plain""#, "plain"),
        (r#""caf\u00e9""#, "café"),
        (r#""a\nb\"c\\d\/e""#, "a\nb\"c\\d/e"),
        (r#""\ud83d\ude00!""#, "😀!"),
        (r#""€ and \u20ac""#, "€ and €"),
        (r#""\u0000""#, "\0"),
    ];
    for (json, text) in cases {
        with_str(json, |s| {
            assert_eq!(s.unescaped_len(), text.len(), "{json}");
            for short in 0..text.len() {
                let mut buf = vec![0xAAu8; short];
                assert_eq!(
                    s.unescape_into(&mut buf),
                    Err(BufferTooSmall {
                        required: text.len()
                    }),
                    "{json} into {short} bytes"
                );
                assert!(buf.iter().all(|&b| b == 0xAA), "{json}: buffer was written");
            }
            for extra in [0, 1, 64] {
                let mut buf = vec![0xAAu8; text.len() + extra];
                assert_eq!(s.unescape_into(&mut buf), Ok(text), "{json}");
            }
        });
    }
}

#[test]
fn to_cow_borrows_only_without_escapes() {
    with_str(r#""no escapes, é""#, |s| {
        assert!(!s.has_escapes());
        assert_eq!(s.as_borrowed(), Some("no escapes, é"));
        match s.to_cow() {
            Cow::Borrowed(b) => {
                assert_eq!(b, "no escapes, é");
                // Borrowed from the input itself, not copied.
                assert_eq!(b.as_ptr(), s.raw().as_ptr());
            }
            Cow::Owned(o) => panic!("allocated {o:?}"),
        }
    });
    with_str(r#""tab\there""#, |s| {
        assert!(s.has_escapes());
        assert_eq!(s.as_borrowed(), None);
        assert!(matches!(s.to_cow(), Cow::Owned(ref o) if o == "tab\there"));
    });
}

#[test]
fn escaped_and_unescaped_forms_are_equal() {
    let msg = Message::parse(
        r#"{"a": "caf\u00e9", "b": "café", "c": "caf\u00E9", "d": "cafe", "e": "\/x", "f": "/x"}"#
            .as_bytes(),
    )
    .expect("valid");
    let s = |k: &str| msg.get_str(k).expect(k);
    assert!(s("a") == s("b"));
    assert!(s("a") == s("c"));
    assert!(s("b") == s("c"));
    assert!(s("a") != s("d"));
    assert!(s("e") == s("f"));
    assert!(s("a") == "café" && "café" == s("a") && s("a").eq_str("café"));
    assert!(!s("a").eq_str("caf") && !s("a").eq_str("café!"));
    assert_eq!(s("a").to_string(), "café");
    assert_eq!(format!("{:?}", s("e")), "\"/x\"");
    assert_eq!(s("a").chars().collect::<String>(), "café");
    // Escaped names are found by their unescaped form, QMP names included.
    let msg = Message::parse(br#"{"\u0069d": 7, "x\u0079": 8}"#).expect("valid");
    assert_eq!(msg.id().and_then(|v| v.as_i64()), Some(7));
    assert_eq!(msg.get("xy").and_then(|v| v.as_i64()), Some(8));
}

#[test]
fn integer_edge_cases() {
    let cases: &[(&str, Option<i64>, Option<u64>)] = &[
        ("0", Some(0), Some(0)),
        ("-0", Some(0), Some(0)),
        ("1", Some(1), Some(1)),
        ("-1", Some(-1), None),
        ("9223372036854775807", Some(i64::MAX), Some(i64::MAX as u64)),
        ("9223372036854775808", None, Some(1 << 63)),
        ("-9223372036854775808", Some(i64::MIN), None),
        ("-9223372036854775809", None, None),
        ("18446744073709551615", None, Some(u64::MAX)),
        ("18446744073709551616", None, None),
        ("100000000000000000000000000000", None, None),
        ("1.0", None, None),
        ("1e2", None, None),
        ("-0.0", None, None),
    ];
    for &(json, i, u) in cases {
        with_value(json, |v| {
            assert_eq!(v.as_number(), Some(json));
            assert_eq!((v.as_i64(), v.as_u64()), (i, u), "{json}");
        });
    }
    // Not numbers at all.
    for json in [r#""1""#, "true", "null", "[1]", r#"{"a":1}"#] {
        with_value(json, |v| {
            assert_eq!(
                (v.as_i64(), v.as_u64(), v.as_f64(), v.as_number()),
                (None, None, None, None),
                "{json}"
            );
        });
    }
}

#[test]
fn float_edge_cases() {
    let cases: &[(&str, Option<f64>)] = &[
        ("1.0", Some(1.0)),
        ("-0", Some(0.0)),
        ("-0.0", Some(0.0)),
        ("1e400", None),
        ("-1e400", None),
        ("1e-400", Some(0.0)),
        ("1.7976931348623157e308", Some(f64::MAX)),
        ("2.2250738585072014E-308", Some(f64::MIN_POSITIVE)),
        ("5e-324", Some(5e-324)),
        ("0.1", Some(0.1)),
        ("18446744073709551616", Some(18446744073709551616.0)),
        ("-9223372036854775808", Some(-9223372036854775808.0)),
        (
            "123456789012345678901234567890",
            Some(1.2345678901234568e29),
        ),
    ];
    for &(json, want) in cases {
        with_value(json, |v| assert_eq!(v.as_f64(), want, "{json}"));
    }
    // The sign of zero survives.
    with_value("-0", |v| {
        assert!(v.as_f64().expect("zero").is_sign_negative())
    });
    with_value("-0.0e5", |v| {
        assert!(v.as_f64().expect("zero").is_sign_negative())
    });
}
