//! The encoder (issue 4): byte-exact against real traffic, buffer contract, serde arguments,
//! ids, and round trips.

mod common;

use common::{case_bytes, read_data, Capture};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use qmp_codec::encode::{
    validate_json, EmptyObject, Encode, EncodeError, EventMessage, Id, IdGenerator, JsonStr,
    Request, Ser, ServerError, ServerGreeting, ServerReturn,
};
use qmp_codec::{Kind, Message, Timestamp, Value, ValueKind, Version};

fn encode_vec<E: Encode>(e: &E) -> Vec<u8> {
    let len = e.encoded_len().expect("encodes");
    let mut buf = vec![0u8; len];
    assert_eq!(e.encode(&mut buf), Ok(len));
    let mut s = String::new();
    e.encode_fmt(&mut s).expect("fmt encodes");
    assert_eq!(s.as_bytes(), &buf[..], "fmt::Write and slice output agree");
    buf
}

fn unescaped(v: Value<'_>) -> String {
    v.as_str().expect("a string").to_cow().into_owned()
}

#[test]
fn requests_match_the_reference_client_bytes() {
    // What qemu.qmp 0.0.6 sent to a stub server, concatenated without separators.
    let expected = read_data("corpus/qemu.qmp-client/received.bin");
    let mut ids = IdGenerator::new();
    let mut out = Vec::new();
    let caps = validate_json(br#"{"enable": ["oob"]}"#).unwrap();
    out.extend(encode_vec(
        &Request::execute("qmp_capabilities").with_arguments(caps),
    ));
    out.extend(encode_vec(
        &Request::execute("query-version").with_id(ids.next_id()),
    ));
    let args = validate_json("{\"a\": \"é\"}".as_bytes()).unwrap();
    out.extend(encode_vec(
        &Request::execute("nope")
            .with_arguments(args)
            .with_id(ids.next_id()),
    ));
    out.extend(encode_vec(
        &Request::execute("emit-event").with_id(ids.next_id()),
    ));
    out.extend(encode_vec(
        &Request::execute_oob("query-version").with_id(ids.next_id()),
    ));
    out.extend(encode_vec(&Request::execute("quit").with_id(ids.next_id())));
    assert_eq!(
        String::from_utf8_lossy(&out),
        String::from_utf8_lossy(&expected)
    );
}

#[test]
fn request_ids_of_every_kind() {
    let v = validate_json(br#"{"b": [1, 2.50], "a": "x"}"#).unwrap();
    let r = Request::execute("x").with_id(v);
    assert_eq!(
        encode_vec(&r),
        // Numbers as Python's json.dumps writes them, as qemu.qmp would send this id.
        br#"{"execute":"x","id":{"b":[1,2.5],"a":"x"}}"#
    );
    let r = Request::execute("x").with_id(JsonStr("caf\u{e9}\u{1F600}\"\n"));
    assert_eq!(
        encode_vec(&r),
        br#"{"execute":"x","id":"caf\u00e9\ud83d\ude00\"\n"}"#
    );
    assert_eq!(
        encode_vec(&Request::execute("x").with_id(-5i64)),
        br#"{"execute":"x","id":-5}"#
    );
    assert_eq!(
        encode_vec(&Request::execute("x").with_id(u64::MAX)),
        br#"{"execute":"x","id":18446744073709551615}"#
    );
    assert_eq!(
        encode_vec(&Request::execute("x").with_id(true)),
        br#"{"execute":"x","id":true}"#
    );
    let name = Request::execute("\u{7f}\u{1}é").with_arguments(EmptyObject);
    assert_eq!(
        encode_vec(&name),
        br#"{"execute":"\u007f\u0001\u00e9","arguments":{}}"#
    );
}

#[test]
fn short_buffers_are_left_untouched() {
    let args = validate_json(br#"{"device": "ide0-cd0", "force": true}"#).unwrap();
    let r = Request::execute("eject")
        .with_arguments(args)
        .with_id(Id::new(3));
    let need = r.encoded_len().unwrap();
    let full = encode_vec(&r);
    assert_eq!(full.len(), need);
    for len in [0, 1, need / 2, need - 1] {
        let mut buf = vec![0xAAu8; len];
        assert_eq!(
            r.encode(&mut buf),
            Err(EncodeError::BufferTooSmall { required: need })
        );
        assert!(
            buf.iter().all(|&b| b == 0xAA),
            "a buffer of {len} was written"
        );
    }
    // The reported size is enough, and nothing past the message is written.
    let mut buf = vec![0xAAu8; need + 3];
    assert_eq!(r.encode(&mut buf), Ok(need));
    assert_eq!(&buf[..need], &full[..]);
    assert_eq!(&buf[need..], &[0xAA; 3]);
    let mut exact = vec![0u8; need];
    assert_eq!(r.encode(&mut exact), Ok(need));
    assert_eq!(exact, full);
    let e = ServerError::new("GenericError", "x", None);
    let need = e.encoded_len().unwrap();
    let mut small = vec![0u8; need - 1];
    assert_eq!(e.encode(&mut small).unwrap_err().required(), Some(need));
    assert!(small.iter().all(|&b| b == 0));
}

#[test]
fn arguments_must_be_an_object() {
    for (raw, found) in [
        (&b"[1]"[..], "array"),
        (b"\"s\"", "string"),
        (b"1", "number"),
        (b"null", "null"),
        (b"true", "bool"),
    ] {
        let v = validate_json(raw).unwrap();
        let r = Request::execute("x").with_arguments(v);
        assert_eq!(
            r.encoded_len(),
            Err(EncodeError::ArgumentsNotObject { found })
        );
        let mut buf = [0u8; 64];
        assert_eq!(
            r.encode(&mut buf),
            Err(EncodeError::ArgumentsNotObject { found })
        );
    }
    let r = Request::execute("x").with_arguments(JsonStr("s"));
    assert!(matches!(
        r.encoded_len(),
        Err(EncodeError::ArgumentsNotObject { .. })
    ));
    for bad in [
        &b"{\"a\": }"[..],
        b"",
        b"{\"a\":1} x",
        b"{\"a\":1,\"a\":2}",
        b"NaN",
    ] {
        assert!(
            matches!(validate_json(bad), Err(EncodeError::InvalidJson { .. })),
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn ids_count_like_the_reference() {
    assert_eq!(Id::new(0).as_str(), "__qmp#00000");
    assert_eq!(Id::new(99_999).as_str(), "__qmp#99999");
    assert_eq!(Id::new(100_000).as_str(), "__qmp#100000");
    assert_eq!(Id::new(u64::MAX).as_str(), "__qmp#18446744073709551615");
    let mut g = IdGenerator::starting_at(99_998);
    assert_eq!(g.peek(), Id::new(99_998));
    assert_eq!(g.next_id().as_str(), "__qmp#99998");
    assert_eq!(g.next_id().as_str(), "__qmp#99999");
    assert_eq!(g.next_id().as_str(), "__qmp#100000");
    let mut g = IdGenerator::starting_at(u64::MAX);
    assert_eq!(g.next_id().number(), u64::MAX);
    assert_eq!(g.next_id().number(), 0);

    let msg = Message::parse(br#"{"return": {}, "id": "\u005f_qmp#0004\u0032"}"#).unwrap();
    let id = msg.id().unwrap();
    assert!(Id::new(42).matches(&id));
    assert!(!Id::new(43).matches(&id));
    assert_eq!(Id::from_value(&id), Some(Id::new(42)));
    for other in [
        r#""__qmp#42""#,
        r#""__qmp#""#,
        r#""__qmp#-0001""#,
        "42",
        r#""x""#,
    ] {
        let v = validate_json(other.as_bytes()).unwrap();
        assert_eq!(Id::from_value(&v), None, "{other}");
    }
}

/// Rebuilds every parseable message of the qsd capture with the server writers and
/// compares bytes.
#[test]
fn server_writers_reproduce_the_qsd_stream() {
    let cap = Capture::load("qsd");
    let mut counts = [0usize; 4];
    let mut skipped = Vec::new();
    for (i, bytes) in cap.messages().into_iter().enumerate() {
        let Ok(msg) = Message::parse(bytes) else {
            skipped.push(i); // `inf` ids: QEMU's output is not JSON
            continue;
        };
        let id = msg.id();
        if id.is_some_and(|v| v.raw() == b"-0") {
            // QEMU prints the double -0.0 as `-0`, which it would read back as the integer 0.
            skipped.push(i);
            continue;
        }
        let rebuilt = match msg.kind() {
            Kind::Greeting => {
                counts[0] += 1;
                let qmp = msg.get("QMP").unwrap();
                let version = qmp.get("version").unwrap();
                let qemu = version.get("qemu").unwrap();
                let num = |k: &str| qemu.get(k).unwrap().as_u64().unwrap();
                let package = unescaped(version.get("package").unwrap());
                let caps: Vec<String> = qmp
                    .get("capabilities")
                    .unwrap()
                    .elements()
                    .map(unescaped)
                    .collect();
                let caps: Vec<&str> = caps.iter().map(String::as_str).collect();
                encode_vec(&ServerGreeting {
                    version: Version {
                        major: num("major"),
                        minor: num("minor"),
                        micro: num("micro"),
                    },
                    package: &package,
                    capabilities: &caps,
                })
            }
            Kind::Error => {
                counts[1] += 1;
                let err = msg.get("error").unwrap();
                let class = unescaped(err.get("class").unwrap());
                let desc = unescaped(err.get("desc").unwrap());
                encode_vec(&ServerError::new(&class, &desc, id))
            }
            Kind::Return => {
                counts[2] += 1;
                encode_vec(&ServerReturn::new(msg.get("return").unwrap(), id))
            }
            Kind::Event => {
                counts[3] += 1;
                let ts = msg.get("timestamp").unwrap();
                let timestamp = Timestamp {
                    seconds: ts.get("seconds").unwrap().as_i64().unwrap(),
                    microseconds: ts.get("microseconds").unwrap().as_i64().unwrap(),
                };
                let name = unescaped(msg.get("event").unwrap());
                let event = EventMessage::new(&name, timestamp);
                match msg.get("data") {
                    Some(d) => encode_vec(&event.data(d)),
                    None => encode_vec(&event),
                }
            }
            k => panic!("unexpected kind {k} at {i}"),
        };
        assert_eq!(
            String::from_utf8_lossy(&rebuilt),
            String::from_utf8_lossy(bytes),
            "message {i}"
        );
    }
    assert_eq!(counts, [3, 1100, 218, 80]);
    assert_eq!(skipped.len(), 3);
}

/// QEMU re-prints the ids it echoes; our writer reproduces its re-printing from the request's
/// id (numbers through `%.17g`, strings re-escaped).
#[test]
fn echoed_ids_are_reprinted_like_qemu() {
    let cap = Capture::load("qsd");
    let messages = cap.messages();
    let mut compared = 0;
    let mut differ = Vec::new();
    for case in &cap.cases {
        let name = case["name"].as_str().unwrap();
        if !name.starts_with("id-") {
            continue;
        }
        let written = case_bytes(case);
        let replies = case["messages"].as_array().unwrap();
        let Ok(request) = Message::parse(&written) else {
            continue; // single quotes, raw control bytes: QEMU-only syntax or parse errors
        };
        let [reply] = replies.as_slice() else {
            continue;
        };
        let reply = messages[reply.as_u64().unwrap() as usize];
        let ret = validate_json(b"[]").unwrap();
        let ours = encode_vec(&ServerReturn::new(ret, request.id()));
        if ours == reply {
            compared += 1;
        } else {
            differ.push(name.to_owned());
        }
    }
    // Known differences: QEMU prints `inf` for 1e400 (not JSON; we keep the original
    // text), and reorders object members by hash.
    assert_eq!(
        differ,
        [
            "id-float-overflow-1e400",
            "id-float-neg-overflow-1e400",
            "id-object-key-order",
            "id-object-many-keys",
        ]
    );
    assert!(compared >= 35, "compared {compared}");
}

#[derive(serde::Serialize)]
#[serde(rename_all = "kebab-case")]
struct BlockdevAdd<'a> {
    driver: &'a str,
    node_name: &'a str,
    size: u64,
    read_only: Option<bool>,
    ratio: f64,
}

#[derive(serde::Serialize)]
enum Shape {
    Unit,
    Tuple(i8, char),
    Struct { x: f32 },
    New(Vec<u8>),
}

#[test]
fn serde_arguments() {
    let args = BlockdevAdd {
        driver: "null-co",
        node_name: "n\u{e9}",
        size: 1 << 26,
        read_only: None,
        ratio: 0.5,
    };
    let r = Request::execute("blockdev-add")
        .with_arguments(Ser(&args))
        .with_id(Id::new(1));
    assert_eq!(
        String::from_utf8(encode_vec(&r)).unwrap(),
        r#"{"execute":"blockdev-add","arguments":{"driver":"null-co","node-name":"n\u00e9","size":67108864,"read-only":null,"ratio":0.5},"id":"__qmp#00001"}"#
    );
    let mut map = std::collections::BTreeMap::new();
    map.insert(
        1u32,
        vec![
            Shape::Unit,
            Shape::Tuple(-1, '\u{1}'),
            Shape::Struct { x: 1.5 },
            Shape::New(vec![1, 2]),
        ],
    );
    let r = Request::execute("x").with_arguments(Ser(&map));
    assert_eq!(
        String::from_utf8(encode_vec(&r)).unwrap(),
        r#"{"execute":"x","arguments":{"1":["Unit",{"Tuple":[-1,"\u0001"]},{"Struct":{"x":1.5}},{"New":[1,2]}]}}"#
    );
    // Server layout: QEMU separators and number printing.
    let r = ServerReturn::new(Ser(&[0.1f64, 1.0, 1e300]), None);
    assert_eq!(
        encode_vec(&r),
        b"{\"return\": [0.10000000000000001, 1, 1.0000000000000001e+300]}\r\n"
    );
}

#[test]
fn serde_refuses_what_json_cannot_say() {
    #[derive(serde::Serialize)]
    struct F {
        v: f64,
    }
    for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let f = F { v };
        let r = Request::execute("x").with_arguments(Ser(&f));
        assert_eq!(r.encoded_len(), Err(EncodeError::NonFiniteFloat));
        let mut buf = [0x55u8; 64];
        assert_eq!(r.encode(&mut buf), Err(EncodeError::NonFiniteFloat));
        assert!(buf.iter().all(|&b| b == 0x55), "a failed encode wrote");
    }
    let nested = serde_json::json!({"a": [1, {"b": 2}]});
    assert!(Request::execute("x")
        .with_arguments(Ser(&nested))
        .encoded_len()
        .is_ok());
    let mut m = std::collections::HashMap::new();
    m.insert((1, 2), 3);
    assert_eq!(
        Request::execute("x").with_arguments(Ser(&m)).encoded_len(),
        Err(EncodeError::KeyMustBeString)
    );
    assert_eq!(
        Request::execute("x")
            .with_arguments(Ser(&[1, 2]))
            .encoded_len(),
        Err(EncodeError::ArgumentsNotObject { found: "array" })
    );
    assert_eq!(
        Request::execute("x")
            .with_arguments(Ser(&"s"))
            .encoded_len(),
        Err(EncodeError::ArgumentsNotObject { found: "string" })
    );
    assert_eq!(
        Request::execute("x")
            .with_arguments(Ser(&None::<u8>))
            .encoded_len(),
        Err(EncodeError::ArgumentsNotObject { found: "null" })
    );
    struct Fails;
    impl serde::Serialize for Fails {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("no"))
        }
    }
    assert_eq!(
        ServerReturn::new(Ser(&Fails), None).encoded_len(),
        Err(EncodeError::Custom)
    );
}

#[test]
fn bufmut_output() {
    let r = Request::execute("quit").with_id(Id::new(9));
    let mut b = bytes::BytesMut::new();
    assert_eq!(r.encode_buf_mut(&mut b), Ok(37));
    assert_eq!(&b[..], br#"{"execute":"quit","id":"__qmp#00009"}"#);
    let mut small = [0u8; 10];
    let mut slice: &mut [u8] = &mut small;
    assert_eq!(
        r.encode_buf_mut(&mut slice),
        Err(EncodeError::BufferTooSmall { required: 37 })
    );
    assert_eq!(small, [0u8; 10]);
}

/// JSON values for property tests: any string, integers, finite floats, nesting.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<u64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(serde_json::Value::from),
        any::<String>().prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Compares two JSON values, numbers by value (QEMU's layout re-prints them).
fn same(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (a, b) {
        (J::Number(x), J::Number(y)) => match (x.as_i64(), y.as_i64(), x.as_u64(), y.as_u64()) {
            (Some(p), Some(q), _, _) => p == q,
            (_, _, Some(p), Some(q)) => p == q,
            _ => x.as_f64() == y.as_f64(),
        },
        (J::Array(x), J::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (J::Object(x), J::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// Converts our output to serde_json's model through this crate's own views, numbers parsed
/// with the standard library (exact, unlike serde_json without `float_roundtrip`).
fn to_serde(v: Value<'_>) -> serde_json::Value {
    use serde_json::Value as J;
    match v.kind() {
        ValueKind::Null => J::Null,
        ValueKind::Bool => J::Bool(v.as_bool().unwrap()),
        ValueKind::String => J::String(unescaped(v)),
        ValueKind::Number => match (v.as_i64(), v.as_u64()) {
            (Some(i), _) => J::from(i),
            (_, Some(u)) => J::from(u),
            _ => J::from(v.as_number().unwrap().parse::<f64>().unwrap()),
        },
        ValueKind::Array => J::Array(v.elements().map(to_serde).collect()),
        ValueKind::Object => J::Object(
            v.members()
                .map(|(k, v)| (k.to_cow().into_owned(), to_serde(v)))
                .collect(),
        ),
        other => panic!("a value kind this test does not know: {other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn requests_round_trip(
        args in prop::collection::btree_map(any::<String>(), json_value(), 0..5),
        id in json_value(),
        name in any::<String>(),
        oob in any::<bool>(),
    ) {
        let args = serde_json::Value::Object(args.into_iter().collect());
        let args_text = serde_json::to_vec(&args).unwrap();
        let id_text = serde_json::to_vec(&id).unwrap();
        let base = if oob { Request::execute_oob(&name) } else { Request::execute(&name) };
        for via_serde in [false, true] {
            let bytes = if via_serde {
                encode_vec(&base.with_arguments(Ser(&args)).with_id(Ser(&id)))
            } else {
                encode_vec(&base.with_arguments(validate_json(&args_text).unwrap()).with_id(validate_json(&id_text).unwrap()))
            };
            prop_assert!(bytes.is_ascii());
            let msg = Message::parse(&bytes).unwrap();
            prop_assert_eq!(msg.kind(), Kind::Command);
            let key = if oob { "exec-oob" } else { "execute" };
            prop_assert_eq!(unescaped(msg.get(key).unwrap()), name.clone());
            prop_assert!(same(&to_serde(msg.get("arguments").unwrap()), &args));
            prop_assert!(same(&to_serde(msg.id().unwrap()), &id));
            let keys: Vec<String> = msg.iter().map(|(k, _)| k.to_cow().into_owned()).collect();
            prop_assert_eq!(keys, [key, "arguments", "id"]);
        }
    }

    #[test]
    fn server_messages_round_trip(value in json_value(), id in json_value(), desc in any::<String>()) {
        let text = serde_json::to_vec(&value).unwrap();
        let v = validate_json(&text).unwrap();
        let id_text = serde_json::to_vec(&id).unwrap();
        let idv = validate_json(&id_text).unwrap();
        for bytes in [
            encode_vec(&ServerReturn::new(v, Some(idv))),
            encode_vec(&ServerReturn::new(Ser(&value), Some(idv))),
        ] {
            prop_assert!(bytes.is_ascii() && bytes.ends_with(b"\r\n"));
            prop_assert!(!bytes[..bytes.len() - 2].contains(&b'\n'));
            let msg = Message::parse(&bytes).unwrap();
            prop_assert_eq!(msg.kind(), Kind::Return);
            prop_assert!(same(&to_serde(msg.get("return").unwrap()), &value));
            prop_assert!(same(&to_serde(msg.id().unwrap()), &id));
        }
        let bytes = encode_vec(&ServerError::new("GenericError", &desc, Some(idv)));
        let msg = Message::parse(&bytes).unwrap();
        prop_assert_eq!(msg.kind(), Kind::Error);
        prop_assert_eq!(unescaped(msg.get("error").unwrap().get("desc").unwrap()), desc);
        let ev = EventMessage::new("X", Timestamp { seconds: -1, microseconds: -1 }).data(v);
        let bytes = encode_vec(&ev);
        let msg = Message::parse(&bytes).unwrap();
        prop_assert_eq!(msg.kind(), Kind::Event);
        prop_assert!(same(&to_serde(msg.get("data").unwrap()), &value));
        prop_assert_eq!(msg.get("data").unwrap().kind() == ValueKind::Object, value.is_object());
    }
}

/// The escaping every writer does, one character at a time: the oracle for the word-at-a-time
/// scanner.
fn naive_escape(s: &str, upper: bool) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    if upper {
                        out.push_str(&format!("\\u{u:04X}"));
                    } else {
                        out.push_str(&format!("\\u{u:04x}"));
                    }
                }
            }
        }
    }
    out.push('"');
    out
}

/// Strings made mostly of plain ASCII, with an occasional byte to escape at any position
/// (runs around the scanner's eight-byte words).
fn mostly_plain() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            8 => prop::char::range(' ', '~'),
            1 => prop::sample::select(vec!['"', '\\', '\n', '\u{1}', '\u{7f}', '\u{e9}', '\u{1F600}', '/']),
        ],
        0..40,
    )
    .prop_map(|v| v.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn strings_escape_as_the_naive_oracle(s in mostly_plain(), t in any::<String>()) {
        for s in [&s, &t] {
            let compact = encode_vec(&Request::execute("x").with_id(JsonStr(s)));
            let want = format!("{{\"execute\":\"x\",\"id\":{}}}", naive_escape(s, false));
            prop_assert_eq!(String::from_utf8(compact).unwrap(), want);
            let qemu = encode_vec(&EventMessage::new(s, Timestamp { seconds: 0, microseconds: 0 }));
            let want = format!(
                "{{\"timestamp\": {{\"seconds\": 0, \"microseconds\": 0}}, \"event\": {}}}\r\n",
                naive_escape(s, true)
            );
            prop_assert_eq!(String::from_utf8(qemu).unwrap(), want);
            // A parsed string is re-printed the same way, whatever escapes it came with.
            let raw = serde_json::to_vec(&serde_json::Value::String(s.to_string())).unwrap();
            let v = validate_json(&raw).unwrap();
            let printed = encode_vec(&Request::execute("x").with_id(v));
            let want = format!("{{\"execute\":\"x\",\"id\":{}}}", naive_escape(s, false));
            prop_assert_eq!(String::from_utf8(printed).unwrap(), want);
        }
    }

    #[test]
    fn layout_of_the_input_does_not_change_the_output(value in json_value()) {
        // The same value as compact text and pretty-printed: the printer copies whatever
        // already matches the target layout, so both must give the same bytes.
        let compact = serde_json::to_vec(&value).unwrap();
        let pretty = serde_json::to_vec_pretty(&value).unwrap();
        let mut outs = Vec::new();
        for raw in [&compact, &pretty] {
            let v = validate_json(raw).unwrap();
            outs.push((
                encode_vec(&ServerReturn::new(v, None)),
                encode_vec(&Request::execute("x").with_id(v)),
            ));
        }
        prop_assert_eq!(&outs[0], &outs[1]);
        // And the compact layout is a fixed point of the compact writer.
        let first = &outs[0].1;
        let inner = &first[br#"{"execute":"x","id":"#.len()..first.len() - 1];
        let again = encode_vec(&Request::execute("x").with_id(validate_json(inner).unwrap()));
        prop_assert_eq!(&again, first);
    }
}

/// Serde arguments are written byte for byte as Python's compact `json.dumps` writes the same
/// value (float `repr`, ASCII escapes, lowercase hex), checked against the Python oracle.
#[test]
fn serde_output_matches_python_compact() {
    let Some(python) = common::python() else {
        return;
    };
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = prop::collection::btree_map(any::<String>(), json_value(), 0..5);
    let mut input = Vec::new();
    let mut ours = Vec::new();
    for _ in 0..200 {
        let map = strategy.new_tree(&mut runner).unwrap().current();
        let value = serde_json::Value::Object(map.into_iter().collect());
        input.extend(serde_json::to_vec(&value).unwrap());
        input.push(b'\n');
        let req = Request::execute("x").with_arguments(Ser(&value));
        let bytes = encode_vec(&req);
        // Cut `{"execute":"x","arguments":` … `}` down to the arguments.
        ours.push(String::from_utf8(bytes[27..bytes.len() - 1].to_vec()).unwrap());
    }
    let out = common::run_python(&python, "json_dumps.py", &[], &input);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), ours.len());
    for (line, ours) in lines.iter().zip(&ours) {
        let pair: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(pair[1].as_str().unwrap(), ours);
    }
}

proptest! {
    /// `Id::new` (digits by subtraction, no 64-bit division) against `format!`, and
    /// `Id::from_value` back, on every magnitude.
    #[test]
    fn ids_match_format_and_read_back(n in any::<u64>(), shift in 0u32..64) {
        for v in [n, n >> shift, u64::MAX - (n >> shift)] {
            let id = Id::new(v);
            let text = format!("__qmp#{v:05}");
            prop_assert_eq!(id.as_str(), text.as_str());
            let json = format!("{{\"return\": {{}}, \"id\": \"{text}\"}}");
            let msg = Message::parse(json.as_bytes()).unwrap();
            prop_assert_eq!(Id::from_value(&msg.id().unwrap()), Some(id));
        }
    }
}
