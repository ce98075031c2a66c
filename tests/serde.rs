//! serde integration: derive types deserialized from real QMP traffic and from edge cases,
//! compared with serde_json.
#![cfg(feature = "serde")]

mod common;

use std::borrow::Cow;
use std::collections::BTreeMap;

use proptest::prelude::*;
use qmp_codec::serde::{from_value, Deserializer, ErrorKind};
use qmp_codec::{Message, ParseError, Value};
use serde::Deserialize;

/// Any JSON document as a `Value` (objects through `Message`, the rest through the
/// `UnexpectedType` error that carries them).
fn value(bytes: &[u8]) -> Value<'_> {
    match Message::parse(bytes) {
        Ok(m) => m.as_value(),
        Err(ParseError::UnexpectedType(e)) => e.value(),
        Err(e) => panic!("{:?} does not parse: {e}", String::from_utf8_lossy(bytes)),
    }
}

fn from<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, qmp_codec::serde::Error> {
    from_value(value(bytes))
}

fn kind<T: std::fmt::Debug>(r: Result<T, qmp_codec::serde::Error>) -> ErrorKind {
    r.expect_err("should fail").kind()
}

/// Equality of JSON values, floats within 1 ulp: serde_json (without `float_roundtrip`)
/// may round the last bit differently from Rust's correctly rounded `str::parse`.
fn json_eq(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (a, b) {
        (J::Number(x), J::Number(y)) if x.is_f64() && y.is_f64() => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            x == y || x.to_bits().abs_diff(y.to_bits()) <= 1
        }
        (J::Array(x), J::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_eq(x, y))
        }
        (J::Object(x), J::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

fn inside(s: &str, input: &[u8]) -> bool {
    input.as_ptr_range().contains(&s.as_ptr())
}

#[derive(Debug, Deserialize)]
struct Greeting<'a> {
    #[serde(rename = "QMP", borrow)]
    qmp: GreetingBody<'a>,
}

#[derive(Debug, Deserialize)]
struct GreetingBody<'a> {
    #[serde(borrow)]
    version: VersionInfo<'a>,
    capabilities: Vec<&'a str>,
}

#[derive(Debug, Deserialize, PartialEq)]
struct VersionTriple {
    major: u16,
    minor: u16,
    micro: u16,
}

#[derive(Debug, Deserialize)]
struct VersionInfo<'a> {
    qemu: VersionTriple,
    package: &'a str,
}

#[derive(Debug, Deserialize)]
struct ErrorResponse<'a> {
    #[serde(borrow)]
    error: ErrorBody<'a>,
    #[serde(borrow)]
    id: Option<Value<'a>>,
}

#[derive(Debug, Deserialize)]
struct ErrorBody<'a> {
    class: &'a str,
    #[serde(borrow)]
    desc: Cow<'a, str>,
}

#[derive(Debug, Deserialize)]
struct Event<'a> {
    event: &'a str,
    #[serde(default, borrow)]
    data: Option<Value<'a>>,
    timestamp: Timestamp,
}

#[derive(Debug, Deserialize, PartialEq)]
struct Timestamp {
    seconds: i64,
    microseconds: i64,
}

#[derive(Debug, Deserialize)]
struct VersionReturn<'a> {
    #[serde(rename = "return", borrow)]
    ret: VersionInfo<'a>,
    #[serde(default)]
    id: Option<u64>,
}

#[test]
fn capture_greeting_borrows_from_input() {
    let cap = common::Capture::load("qsd");
    let line = cap.messages()[0];
    let msg = Message::parse(line).unwrap();
    let g: Greeting = msg.deserialize().unwrap();
    assert_eq!(
        g.qmp.version.qemu,
        VersionTriple {
            major: 10,
            minor: 0,
            micro: 2
        }
    );
    assert_eq!(
        g.qmp.version.package,
        "Debian 1:10.0.2+ds-2+deb13u1~bpo12+1"
    );
    assert_eq!(g.qmp.capabilities, ["oob"]);
    assert!(inside(g.qmp.version.package, line));
    assert!(inside(g.qmp.capabilities[0], line));
}

#[test]
fn capture_errors_events_and_versions_match_expectations() {
    let cap = common::Capture::load("qsd");
    let (mut errors, mut events, mut versions) = (0, 0, 0);
    for (bytes, exp) in cap.messages().into_iter().zip(&cap.expect) {
        let Ok(msg) = Message::parse(bytes) else {
            continue;
        };
        match exp["kind"].as_str().unwrap() {
            "error" => {
                let e: ErrorResponse = msg.deserialize().unwrap();
                assert_eq!(e.error.class, exp["error_class"]);
                assert_eq!(e.error.desc, exp["error_desc"].as_str().unwrap());
                assert_eq!(e.id.is_some(), exp["id_present"].as_bool().unwrap());
                if let Some(id) = e.id {
                    assert_eq!(id.raw(), msg.id().unwrap().raw());
                    assert!(inside(std::str::from_utf8(id.raw()).unwrap(), bytes));
                }
                assert!(inside(e.error.class, bytes));
                errors += 1;
            }
            "event" => {
                let ev: Event = msg.deserialize().unwrap();
                assert_eq!(ev.event, exp["event"]);
                let ts = &exp["timestamp"];
                assert_eq!(
                    ev.timestamp,
                    Timestamp {
                        seconds: ts["seconds"].as_i64().unwrap(),
                        microseconds: ts["microseconds"].as_i64().unwrap(),
                    }
                );
                assert_eq!(ev.data.map(|d| d.raw()), msg.get("data").map(|d| d.raw()));
                events += 1;
            }
            "return" if msg.get("return").unwrap().get("qemu").is_some() => {
                let v: VersionReturn = msg.deserialize().unwrap();
                assert_eq!(v.ret.qemu.major, 10);
                assert_eq!(v.id, msg.id().and_then(|i| i.as_u64()));
                versions += 1;
            }
            _ => {}
        }
    }
    assert!(
        errors > 50 && events > 50 && versions >= 2,
        "{errors} {events} {versions}"
    );
}

/// Every captured message, read through `deserialize_any` into `serde_json::Value`, equals
/// what serde_json itself parses.
#[test]
fn capture_any_matches_serde_json() {
    let cap = common::Capture::load("qsd");
    let mut n = 0;
    for bytes in cap.messages() {
        let (Ok(msg), Ok(expected)) = (
            Message::parse(bytes),
            serde_json::from_slice::<serde_json::Value>(bytes),
        ) else {
            continue;
        };
        let ours: serde_json::Value = msg.deserialize().unwrap();
        assert!(
            json_eq(&ours, &expected),
            "{}\nours: {ours}\nserde_json: {expected}",
            String::from_utf8_lossy(bytes)
        );
        n += 1;
    }
    assert!(n > 1000, "{n}");
}

#[derive(Debug, Deserialize, PartialEq)]
enum External {
    Unit,
    Newtype(u8),
    Tuple(u8, bool),
    Struct { a: i32 },
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(tag = "type")]
enum Internal {
    Stop,
    Job { id: String, len: u64 },
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(tag = "t", content = "c")]
enum Adjacent {
    Unit,
    Newtype(String),
    Struct { x: bool },
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(untagged)]
enum Untagged {
    Int(u64),
    Neg(i64),
    Float(f64),
    Text(String),
    List(Vec<Untagged>),
    Record { a: Box<Untagged> },
    Null(()),
}

#[test]
fn enums_of_every_representation() {
    assert_eq!(from::<External>(br#""Unit""#).unwrap(), External::Unit);
    assert_eq!(
        from::<External>(br#"{"Unit": null}"#).unwrap(),
        External::Unit
    );
    assert_eq!(
        from::<External>(br#"{"Newtype": 7}"#).unwrap(),
        External::Newtype(7)
    );
    assert_eq!(
        from::<External>(br#"{"Tuple": [1, true]}"#).unwrap(),
        External::Tuple(1, true)
    );
    assert_eq!(
        from::<External>(br#"{"Struct": {"a": -3}}"#).unwrap(),
        External::Struct { a: -3 }
    );
    assert_eq!(
        kind(from::<External>(br#""Nope""#)),
        ErrorKind::UnknownVariant
    );
    assert_eq!(
        kind(from::<External>(br#"{"Unit": null, "Newtype": 1}"#)),
        ErrorKind::ExpectedEnum
    );
    assert_eq!(kind(from::<External>(br#"{}"#)), ErrorKind::ExpectedEnum);
    assert_eq!(
        kind(from::<External>(br#""Newtype""#)),
        ErrorKind::InvalidType
    );
    assert_eq!(kind(from::<External>(b"1")), ErrorKind::InvalidType);

    assert_eq!(
        from::<Internal>(br#"{"type": "Stop"}"#).unwrap(),
        Internal::Stop
    );
    assert_eq!(
        from::<Internal>(br#"{"len": 5, "type": "Job", "id": "j\u00e9"}"#).unwrap(),
        Internal::Job {
            id: "jé".into(),
            len: 5
        }
    );
    assert!(from::<Internal>(br#"{"len": 5}"#).is_err());

    assert_eq!(
        from::<Adjacent>(br#"{"t": "Unit"}"#).unwrap(),
        Adjacent::Unit
    );
    assert_eq!(
        from::<Adjacent>(br#"{"c": "x", "t": "Newtype"}"#).unwrap(),
        Adjacent::Newtype("x".into())
    );
    assert_eq!(
        from::<Adjacent>(br#"{"t": "Struct", "c": {"x": true}}"#).unwrap(),
        Adjacent::Struct { x: true }
    );

    assert_eq!(
        from::<Untagged>(b"18446744073709551615").unwrap(),
        Untagged::Int(u64::MAX)
    );
    assert_eq!(from::<Untagged>(b"-5").unwrap(), Untagged::Neg(-5));
    assert_eq!(from::<Untagged>(b"2.5").unwrap(), Untagged::Float(2.5));
    assert_eq!(
        from::<Untagged>(b"18446744073709551616").unwrap(),
        Untagged::Float(18446744073709551616.0)
    );
    assert_eq!(
        from::<Untagged>(br#""s""#).unwrap(),
        Untagged::Text("s".into())
    );
    assert_eq!(from::<Untagged>(b"null").unwrap(), Untagged::Null(()));
    assert_eq!(
        from::<Untagged>(br#"[1, {"a": [true]}]"#)
            .unwrap_err()
            .kind(),
        ErrorKind::Custom
    );
    assert_eq!(
        from::<Untagged>(br#"[1, {"a": "x"}]"#).unwrap(),
        Untagged::List(vec![
            Untagged::Int(1),
            Untagged::Record {
                a: Box::new(Untagged::Text("x".into()))
            }
        ])
    );
    assert_eq!(kind(from::<Untagged>(b"1e400")), ErrorKind::NotFinite);
}

#[derive(Debug, Deserialize, PartialEq)]
struct Strings<'a> {
    borrowed: &'a str,
    #[serde(borrow)]
    cow: Cow<'a, str>,
    owned: String,
    ch: char,
}

#[test]
fn strings_borrow_without_escapes_and_unescape_otherwise() {
    let input = br#"{"borrowed": "plain", "cow": "x\ty", "owned": "\ud83d\ude00 \"q\" \\ \/", "ch": "\u00e9"}"#;
    let s: Strings = from(input).unwrap();
    assert_eq!(s.borrowed, "plain");
    assert!(inside(s.borrowed, input));
    assert!(matches!(&s.cow, Cow::Owned(c) if c == "x\ty"));
    assert_eq!(s.owned, "😀 \"q\" \\ /");
    assert_eq!(s.ch, 'é');

    let plain: Strings =
        from(br#"{"borrowed": "a", "cow": "b", "owned": "c", "ch": "d"}"#).unwrap();
    assert!(matches!(plain.cow, Cow::Borrowed("b")));

    // A borrowed `&str` cannot hold an escaped string; serde_json fails the same way.
    let escaped = br#"{"borrowed": "a\nb", "cow": "", "owned": "", "ch": "d"}"#;
    assert_eq!(kind(from::<Strings>(escaped)), ErrorKind::InvalidType);
    assert!(serde_json::from_slice::<Strings>(escaped).is_err());
    assert_eq!(kind(from::<char>(br#""ab""#)), ErrorKind::InvalidValue);
    assert_eq!(kind(from::<String>(b"1")), ErrorKind::InvalidType);
}

#[test]
fn bytes_from_strings_and_arrays() {
    let input = br#"["abc", [1, 2, 255]]"#;
    let (b, v): (&[u8], Vec<u8>) = from(input).unwrap();
    assert_eq!(b, b"abc");
    assert!(input.as_ptr_range().contains(&b.as_ptr()));
    assert_eq!(v, [1, 2, 255]);
    assert_eq!(kind(from::<Vec<u8>>(b"[256]")), ErrorKind::InvalidValue);
    // Escaped strings cannot be borrowed as bytes either.
    assert_eq!(kind(from::<&[u8]>(br#""a\n""#)), ErrorKind::InvalidType);
}

#[test]
fn integers_in_and_out_of_range() {
    assert_eq!(from::<u8>(b"255").unwrap(), 255);
    assert_eq!(kind(from::<u8>(b"256")), ErrorKind::InvalidValue);
    assert_eq!(kind(from::<u8>(b"-1")), ErrorKind::InvalidValue);
    assert_eq!(from::<i8>(b"-128").unwrap(), -128);
    assert_eq!(kind(from::<i8>(b"-129")), ErrorKind::InvalidValue);
    assert_eq!(from::<u16>(b"65535").unwrap(), u16::MAX);
    assert_eq!(from::<i16>(b"-32768").unwrap(), i16::MIN);
    assert_eq!(from::<u32>(b"4294967295").unwrap(), u32::MAX);
    assert_eq!(kind(from::<u32>(b"4294967296")), ErrorKind::InvalidValue);
    assert_eq!(from::<i32>(b"-2147483648").unwrap(), i32::MIN);
    assert_eq!(from::<u64>(b"18446744073709551615").unwrap(), u64::MAX);
    assert_eq!(
        kind(from::<u64>(b"18446744073709551616")),
        ErrorKind::InvalidValue
    );
    assert_eq!(from::<i64>(b"-9223372036854775808").unwrap(), i64::MIN);
    assert_eq!(
        kind(from::<i64>(b"9223372036854775808")),
        ErrorKind::InvalidValue
    );
    assert_eq!(
        from::<u128>(b"340282366920938463463374607431768211455").unwrap(),
        u128::MAX
    );
    assert_eq!(
        from::<i128>(b"-170141183460469231731687303715884105728").unwrap(),
        i128::MIN
    );
    assert_eq!(
        kind(from::<u128>(b"340282366920938463463374607431768211456")),
        ErrorKind::NumberOutOfRange
    );
    assert_eq!(
        kind(from::<i128>(b"170141183460469231731687303715884105728")),
        ErrorKind::InvalidValue
    );
    assert_eq!(from::<i64>(b"-0").unwrap(), 0);
    assert_eq!(from::<u8>(b"-0").unwrap(), 0);
    let neg_zero = from::<f64>(b"-0").unwrap();
    assert!(neg_zero == 0.0 && neg_zero.is_sign_negative());
    assert_eq!(
        kind(from::<i64>(b"-9223372036854775809")),
        ErrorKind::InvalidValue
    );
    assert_eq!(kind(from::<u64>(b"1e400")), ErrorKind::InvalidType);
    assert_eq!(kind(from::<u8>(b"1.0")), ErrorKind::InvalidType);
    assert_eq!(kind(from::<u8>(b"1e2")), ErrorKind::InvalidType);
    assert_eq!(kind(from::<u8>(br#""1""#)), ErrorKind::InvalidType);
}

#[test]
fn floats_are_finite() {
    assert_eq!(from::<f64>(b"1").unwrap(), 1.0);
    assert_eq!(from::<f64>(b"-2.5e-3").unwrap(), -2.5e-3);
    assert_eq!(from::<f64>(b"1.7976931348623157e308").unwrap(), f64::MAX);
    assert_eq!(kind(from::<f64>(b"1e400")), ErrorKind::NotFinite);
    assert_eq!(kind(from::<f64>(b"-1e400")), ErrorKind::NotFinite);
    assert_eq!(from::<f32>(b"0.1").unwrap(), 0.1f32);
    assert_eq!(kind(from::<f32>(b"1e39")), ErrorKind::NotFinite);
    assert_eq!(kind(from::<f64>(b"true")), ErrorKind::InvalidType);
}

#[derive(Debug, Deserialize, PartialEq)]
struct Options {
    present: Option<u8>,
    null: Option<u8>,
    #[serde(default)]
    missing: Option<u8>,
    #[serde(default = "seven")]
    defaulted: u8,
    unit: (),
}

fn seven() -> u8 {
    7
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Strict {
    a: u8,
}

#[derive(Debug, Deserialize, PartialEq)]
struct Unit;

#[derive(Debug, Deserialize, PartialEq)]
struct Newtype(u8);

#[derive(Debug, Deserialize, PartialEq)]
struct Pair(u8, String);

#[test]
fn options_defaults_unknown_and_missing_fields() {
    let o: Options = from(
        br#"{"present": 1, "null": null, "unit": null, "ignored": {"deep": [1, {"x": "y"}]}}"#,
    )
    .unwrap();
    assert_eq!(
        o,
        Options {
            present: Some(1),
            null: None,
            missing: None,
            defaulted: 7,
            unit: ()
        }
    );
    let err = from::<Strict>(br#"{"a": 1, "b": 2}"#).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownField);
    assert_eq!(err.offset(), Some(9));
    assert_eq!(err.message(), Some("unknown field `b`, expected `a`"));
    assert_eq!(err.to_string(), "unknown field `b`, expected `a` at byte 9");

    let err = from::<Strict>(br#"{"c": [1]}"#).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownField);
    let err = from::<Options>(br#"{"present": 1}"#).unwrap_err();
    // A missing `Option` is `None`; a missing `()` is an error.
    assert_eq!(err.kind(), ErrorKind::MissingField("unit"));
    assert_eq!(err.offset(), Some(0));
    // A repeated name never reaches serde: the parser rejects it at any depth (QEMU's rule).
    assert!(matches!(
        Message::parse(br#"[{"a": 1, "a": 2}]"#),
        Err(ParseError::Deserialization(e)) if e.reason() == qmp_codec::Reason::DuplicateMember
    ));

    let err = from::<Vec<Strict>>(br#"[{"a": 1}, {"a": "x"}]"#).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidType);
    assert_eq!(err.offset(), Some(17), "{err}");

    assert_eq!(from::<Unit>(b"null").unwrap(), Unit);
    assert_eq!(from::<Newtype>(b"3").unwrap(), Newtype(3));
    assert_eq!(from::<Pair>(br#"[3, "x"]"#).unwrap(), Pair(3, "x".into()));
    assert_eq!(
        kind(from::<Pair>(br#"[3, "x", 4]"#)),
        ErrorKind::InvalidLength { len: 3 }
    );
    assert_eq!(
        kind(from::<Pair>(br#"[3]"#)),
        ErrorKind::InvalidLength { len: 1 }
    );
    assert_eq!(kind(from::<Unit>(b"0")), ErrorKind::InvalidType);
    // Structs may come as arrays, as serde_json allows.
    assert_eq!(
        from::<Timestamp>(b"[1, 2]").unwrap(),
        Timestamp {
            seconds: 1,
            microseconds: 2
        }
    );
}

#[test]
fn maps_with_typed_keys() {
    let m: BTreeMap<u32, &str> = from(br#"{"1": "a", "20": "b"}"#).unwrap();
    assert_eq!(m, BTreeMap::from([(1, "a"), (20, "b")]));
    let m: BTreeMap<i128, bool> =
        from(br#"{"-170141183460469231731687303715884105728": true}"#).unwrap();
    assert!(m[&i128::MIN]);
    let m: BTreeMap<bool, u8> = from(br#"{"true": 1, "false": 0}"#).unwrap();
    assert_eq!(m[&true], 1);
    let m: BTreeMap<String, u8> = from(br#"{"caf\u00e9": 1}"#).unwrap();
    assert_eq!(m["café"], 1);
    #[derive(Debug, Deserialize, PartialEq, PartialOrd, Ord, Eq)]
    enum Key {
        A,
        B,
    }
    let m: BTreeMap<Key, u8> = from(br#"{"B": 2}"#).unwrap();
    assert_eq!(m[&Key::B], 2);
    assert_eq!(
        kind(from::<BTreeMap<u8, u8>>(br#"{"01": 1}"#)),
        ErrorKind::InvalidType
    );
    assert_eq!(
        kind(from::<BTreeMap<u8, u8>>(br#"{"x": 1}"#)),
        ErrorKind::InvalidType
    );
    assert_eq!(
        kind(from::<BTreeMap<u8, u8>>(br#"{"300": 1}"#)),
        ErrorKind::InvalidValue
    );
}

#[derive(Debug, Deserialize)]
struct Command<'a> {
    execute: &'a str,
    #[serde(borrow)]
    arguments: Option<Value<'a>>,
    #[serde(borrow)]
    id: Value<'a>,
}

#[test]
fn value_fields_borrow_exact_bytes() {
    let input = br#"{"execute": "x", "arguments": {"a": [1, 2], "b": {}}, "id": 1.50}"#;
    let msg = Message::parse(input).unwrap();
    let c: Command = msg.deserialize().unwrap();
    assert_eq!(c.execute, "x");
    assert_eq!(c.arguments.unwrap().raw(), br#"{"a": [1, 2], "b": {}}"#);
    assert_eq!(c.arguments.unwrap().get("b").unwrap().raw(), b"{}");
    assert_eq!(c.id.as_number(), Some("1.50"));
    // A whole value can be read as a Value too.
    let v: Value = from(b"[true]").unwrap();
    assert_eq!(v.raw(), b"[true]");
    // serde_json cannot produce one.
    let err = serde_json::from_slice::<Command>(input).unwrap_err();
    assert!(err.to_string().contains("qmp_codec"), "{err}");
}

#[test]
fn value_and_deserializer_are_serde_deserializers() {
    let v = value(br#"{"a": [1, 2]}"#);
    let m = BTreeMap::<&str, Vec<u8>>::deserialize(v).unwrap();
    assert_eq!(m["a"], [1, 2]);
    let m: BTreeMap<&str, Vec<u8>> = v.deserialize().unwrap();
    assert_eq!(m["a"], [1, 2]);
    use serde::de::IntoDeserializer;
    let m = BTreeMap::<&str, Vec<u8>>::deserialize(v.into_deserializer()).unwrap();
    assert_eq!(m["a"], [1, 2]);
    // `IgnoredAny` skips without looking.
    serde::de::IgnoredAny::deserialize(v).unwrap();
}

/// `[[[…]]]` nested `depth` times, as a recursive type.
#[derive(Debug, Deserialize)]
struct Nested(Vec<Nested>);

fn nested(depth: usize) -> Vec<u8> {
    let mut s = vec![b'['; depth];
    s.extend(std::iter::repeat_n(b']', depth));
    s
}

fn nested_depth(mut n: &Nested) -> usize {
    let mut d = 1;
    while let Some(inner) = n.0.first() {
        n = inner;
        d += 1;
    }
    d
}

#[test]
fn depth_is_bounded_before_the_stack_is() {
    // 1000 levels pass the scanner's default limit (1024) but not the deserializer's (128).
    // Measured: `Nested` costs about 4 KiB of stack per level in a debug build (under 1 KiB
    // in release), so 1000 levels would need 4 MiB; 128 fit in 512 KiB. Run on 1 MiB.
    let handle = std::thread::Builder::new()
        .stack_size(1024 * 1024)
        .spawn(|| {
            let input = nested(1000);
            let err = from::<Nested>(&input).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::DepthLimit);
            assert_eq!(err.offset(), Some(128));
            let err = from::<serde_json::Value>(&input).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::DepthLimit);
            let ok = from::<Nested>(&nested(128)).unwrap();
            assert_eq!(nested_depth(&ok), 128);
            assert_eq!(kind(from::<Nested>(&nested(129))), ErrorKind::DepthLimit);
        })
        .unwrap();
    handle.join().unwrap();

    // A small stack takes a small limit.
    let handle = std::thread::Builder::new()
        .stack_size(64 * 1024)
        .spawn(|| {
            let input = nested(1000);
            let de = Deserializer::new(value(&input)).with_max_depth(8);
            assert_eq!(
                Nested::deserialize(de).unwrap_err().kind(),
                ErrorKind::DepthLimit
            );
        })
        .unwrap();
    handle.join().unwrap();

    let input = nested(10);
    let de = Deserializer::new(value(&input)).with_max_depth(9);
    assert_eq!(
        Nested::deserialize(de).unwrap_err().kind(),
        ErrorKind::DepthLimit
    );
    let de = Deserializer::new(value(&input)).with_max_depth(10);
    assert_eq!(nested_depth(&Nested::deserialize(de).unwrap()), 10);
}

#[test]
fn deeper_limits_work_with_stack_to_match() {
    // With the limit raised to the scanner's 1000 levels, an 8 MiB thread suffices.
    let handle = std::thread::Builder::new()
        .stack_size(8 * 1024 * 1024)
        .spawn(|| {
            let input = nested(1000);
            let de = Deserializer::new(value(&input)).with_max_depth(1000);
            let n = Nested::deserialize(de).unwrap();
            assert_eq!(nested_depth(&n), 1000);
            // Dropping 1000 levels recurses too; keep it on this thread.
            drop(n);
        })
        .unwrap();
    handle.join().unwrap();
}

#[derive(Debug, Deserialize, PartialEq)]
struct Sample<'a> {
    small: u8,
    signed: i32,
    #[serde(default)]
    opt: Option<String>,
    list: Vec<u16>,
    #[serde(borrow)]
    name: Cow<'a, str>,
    choice: External,
    any: Untagged,
    #[serde(default)]
    tagged: Option<Internal>,
}

fn json_string() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("a".to_string()),
            Just("é".to_string()),
            Just("\\n".to_string()),
            Just("\\u00e9".to_string()),
            Just("\\ud83d\\ude00".to_string()),
            Just("\\\"".to_string()),
            Just(" ".to_string()),
        ],
        0..6,
    )
    .prop_map(|parts| format!("\"{}\"", parts.concat()))
}

fn json_number() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<u8>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        (any::<i32>(), 0u8..100).prop_map(|(i, f)| format!("{i}.{f:02}")),
        // Exponents within ±22 keep serde_json (without `float_roundtrip`) on its exact
        // path; beyond, it may be off by one ulp where `str::parse` is correctly rounded.
        (1u8..10, -22i16..=22).prop_map(|(m, e)| format!("{m}e{e}")),
        Just("1e400".to_string()),
        Just("99999999999999999999999".to_string()),
    ]
}

fn json_leaf() -> impl Strategy<Value = String> {
    prop_oneof![
        json_number(),
        json_string(),
        Just("null".to_string()),
        Just("true".to_string()),
        Just("false".to_string()),
    ]
}

fn json_any() -> impl Strategy<Value = String> {
    json_leaf().prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(", "))),
            prop::collection::vec((json_string(), inner), 0..4).prop_map(|v| {
                // Distinct names: the parser rejects duplicates at any depth.
                let mut seen = std::collections::BTreeSet::new();
                let members: Vec<String> = v
                    .into_iter()
                    .filter(|(k, _)| seen.insert(serde_json::from_str::<String>(k).ok()))
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect();
                format!("{{{}}}", members.join(", "))
            }),
        ]
    })
}

/// A value that fits field `name` of `Sample`.
fn fitting_value(name: &'static str) -> BoxedStrategy<String> {
    let numbers = |s: BoxedStrategy<String>| {
        prop::collection::vec(s, 0..4).prop_map(|v| format!("[{}]", v.join(", ")))
    };
    match name {
        "small" => any::<u8>().prop_map(|n| n.to_string()).boxed(),
        "signed" => any::<i32>().prop_map(|n| n.to_string()).boxed(),
        "opt" => prop_oneof![json_string(), Just("null".to_string())].boxed(),
        "list" => numbers(any::<u16>().prop_map(|n| n.to_string()).boxed()).boxed(),
        "name" => json_string().boxed(),
        "choice" => prop_oneof![
            Just(r#""Unit""#.to_string()),
            any::<u8>().prop_map(|n| format!(r#"{{"Newtype": {n}}}"#)),
            (any::<u8>(), any::<bool>()).prop_map(|(a, b)| format!(r#"{{"Tuple": [{a}, {b}]}}"#)),
            any::<i32>().prop_map(|n| format!(r#"{{"Struct": {{"a": {n}}}}}"#)),
        ]
        .boxed(),
        "any" => prop_oneof![
            json_leaf(),
            numbers(json_leaf().boxed()),
            json_leaf().prop_map(|v| format!(r#"{{"a": {v}}}"#)),
        ]
        .boxed(),
        "tagged" => prop_oneof![
            Just(r#"{"type": "Stop"}"#.to_string()),
            (json_string(), any::<u64>())
                .prop_map(|(s, n)| format!(r#"{{"id": {s}, "type": "Job", "len": {n}}}"#)),
        ]
        .boxed(),
        _ => json_any().boxed(),
    }
}

/// Mostly a fitting value, sometimes a near miss or anything at all.
fn field_value(name: &'static str) -> BoxedStrategy<String> {
    let near = match name {
        "small" | "signed" | "list" => json_number().boxed(),
        "choice" => prop_oneof![
            json_number().prop_map(|n| format!(r#"{{"Newtype": {n}}}"#)),
            (json_number(), json_leaf()).prop_map(|(a, b)| format!(r#"{{"Tuple": [{a}, {b}]}}"#)),
            Just(r#"{"Newtype": 1, "Unit": null}"#.to_string()),
        ]
        .boxed(),
        "tagged" => (json_string(), json_number())
            .prop_map(|(s, n)| format!(r#"{{"type": "Job", "id": {s}, "len": {n}}}"#))
            .boxed(),
        _ => json_leaf().boxed(),
    };
    prop_oneof![30 => fitting_value(name), 1 => near, 1 => json_any()].boxed()
}

fn sample_input() -> impl Strategy<Value = String> {
    const FIELDS: [&str; 9] = [
        "small", "signed", "opt", "list", "name", "choice", "any", "tagged", "extra",
    ];
    let members: Vec<_> = FIELDS
        .iter()
        .map(|&f| prop::option::weighted(0.97, field_value(f)).prop_map(move |v| v.map(|v| (f, v))))
        .collect();
    (
        members,
        Just(()).prop_perturb(|_, mut rng| rng.random::<u64>()),
    )
        .prop_map(|(m, seed)| {
            let mut m: Vec<(&str, String)> = m.into_iter().flatten().collect();
            // Shuffle deterministically from the seed: member order must not matter.
            let len = m.len().max(1);
            m.rotate_left(seed as usize % len);
            let body: Vec<String> = m
                .into_iter()
                .map(|(k, v)| format!("\"{k}\": {v}"))
                .collect();
            format!("{{{}}}", body.join(", "))
        })
}

/// Deserializing through this crate and through serde_json gives the same result (or both
/// fail), on inputs near the shape of a derive type; enough of them must succeed.
#[test]
fn agrees_with_serde_json() {
    use proptest::test_runner::{Config, TestRunner};
    let mut runner = TestRunner::new(Config::with_cases(256));
    let both_ok = std::cell::Cell::new(0);
    runner
        .run(&sample_input(), |input| {
            let msg = Message::parse(input.as_bytes()).unwrap();
            let ours = msg.deserialize::<Sample>();
            let theirs = serde_json::from_str::<Sample>(&input);
            match (&ours, &theirs) {
                (Ok(a), Ok(b)) => {
                    prop_assert_eq!(a, b);
                    both_ok.set(both_ok.get() + 1);
                }
                (Err(_), Err(_)) => {}
                _ => prop_assert!(
                    false,
                    "{}\nours: {:?}\nserde_json: {:?}",
                    input,
                    ours,
                    theirs
                ),
            }
            Ok(())
        })
        .unwrap();
    assert!(
        both_ok.get() >= 32,
        "only {} of 256 inputs deserialized",
        both_ok.get()
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any value read through `deserialize_any` into `serde_json::Value` equals serde_json's.
    #[test]
    fn any_agrees_with_serde_json(input in json_any()) {
        // Inside an array, since a top-level object may not repeat a name (QEMU's rule).
        let input = format!("[{input}]");
        let ours = from::<serde_json::Value>(input.as_bytes());
        let theirs = serde_json::from_str::<serde_json::Value>(&input);
        match (&ours, &theirs) {
            (Ok(a), Ok(b)) => prop_assert!(json_eq(a, b), "{}\nours: {}\nserde_json: {}", input, a, b),
            (Err(_), Err(_)) => {}
            _ => prop_assert!(false, "{}\nours: {:?}\nserde_json: {:?}", input, ours, theirs),
        }
    }
}
