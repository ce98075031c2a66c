//! Owned messages: the `qemu.qmp` `Message` mapping behaviour, on the captures, against a
//! simple ordered-map model, and against Python's `json.dumps` (oracle).
#![cfg(feature = "alloc")]

mod common;

use common::Capture;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use qmp_codec::{Message, OwnedMessage, OwnedParseError, OwnedValue, ParseError, Reason};

/// Every message of both captures, owned: same members, same bytes, same printing.
#[test]
fn captures_round_trip() {
    let mut n = 0;
    for name in ["qsd", "qsd-pretty"] {
        let cap = Capture::load(name);
        for bytes in cap.messages() {
            let Ok(msg) = Message::parse(bytes) else {
                let err = OwnedMessage::parse(bytes).unwrap_err();
                assert_eq!(Some(err.as_parse_error()), Message::parse(bytes).err());
                continue;
            };
            let owned = OwnedMessage::parse(bytes).unwrap();
            assert_eq!(&*owned.to_bytes(), bytes);
            assert_eq!(owned.len(), msg.len());
            for ((k1, v1), (k2, v2)) in owned.iter().zip(msg.iter()) {
                assert_eq!(k1, k2.to_cow());
                assert_eq!(v1, v2);
                assert_eq!(owned.get(k1), Some(v2));
            }
            assert_eq!(owned.compact_string(), msg.compact().to_string());
            assert_eq!(owned.to_string(), msg.to_string());
            // Changing it drops the original bytes for the compact form.
            let mut changed = msg.to_owned_message();
            changed.insert("id", 1);
            let compact = changed.to_bytes();
            let again = Message::parse(&compact).unwrap();
            assert_eq!(again.id().and_then(|v| v.as_i64()), Some(1));
            assert_eq!(again.kind(), msg.kind());
            n += 1;
        }
    }
    assert_eq!(n, 1402 + 20);
}

#[test]
fn mapping_behaviour() {
    let mut msg = OwnedMessage::parse(b" {\"b\": 1, \"a\": [2]} \n").unwrap();
    assert_eq!(&*msg.to_bytes(), b" {\"b\": 1, \"a\": [2]} \n");
    // Removing nothing keeps the original bytes, as in Python.
    assert!(msg.remove("zz").is_none());
    assert_eq!(&*msg.to_bytes(), b" {\"b\": 1, \"a\": [2]} \n");
    // Replacing keeps the place; a new key goes last.
    let old = msg.insert("b", "x\u{1F600}");
    assert_eq!(old.map(|v| v.to_string()), Some("1".to_owned()));
    msg.insert(String::from("\u{e9}"), true);
    assert_eq!(
        &*msg.to_bytes(),
        br#"{"b":"x\ud83d\ude00","a":[2],"\u00e9":true}"#
    );
    assert_eq!(msg.remove("a").unwrap().to_string(), "[2]");
    assert_eq!(
        msg.to_string(),
        "{\n  \"b\": \"x\\ud83d\\ude00\",\n  \"\\u00e9\": true\n}"
    );
    assert!(msg.contains_key("\u{e9}"));
    assert_eq!(
        msg.iter().map(|(k, _)| k).collect::<Vec<_>>(),
        ["b", "\u{e9}"]
    );
    assert_eq!(OwnedMessage::new().to_string(), "{}");
    assert_eq!(&*OwnedMessage::new().to_bytes(), b"{}");

    let built: OwnedMessage = [("execute", OwnedValue::from("stop")), ("id", 7.into())]
        .into_iter()
        .collect();
    assert_eq!(built.compact_string(), r#"{"execute":"stop","id":7}"#);
    assert_eq!(&*built.to_bytes(), br#"{"execute":"stop","id":7}"#);
    let v = OwnedValue::parse(b"{\"x\": [1, {}]}").unwrap();
    let args: OwnedMessage = [("arguments", v)].into_iter().collect();
    assert_eq!(args.compact_string(), r#"{"arguments":{"x":[1,{}]}}"#);
}

#[test]
fn parse_errors_are_the_borrowed_ones() {
    for bad in [
        &b""[..],
        b"{",
        b"[1]",
        b"\"s\"",
        b"{\"a\":1,\"a\":2}",
        b"{\"a\":01}",
        b"{} x",
    ] {
        let owned = OwnedMessage::parse(bad).unwrap_err();
        let borrowed = Message::parse(bad).unwrap_err();
        assert_eq!(owned.as_parse_error(), borrowed);
        assert_eq!(owned.to_string(), borrowed.to_string());
        assert_eq!(owned.raw(), borrowed.raw());
        assert_eq!(OwnedParseError::from(borrowed), owned);
    }
    let err = OwnedValue::parse(b"[1,]").unwrap_err();
    assert!(matches!(
        err,
        OwnedParseError::Deserialization {
            reason: Reason::ExpectedValue,
            offset: 3,
            ..
        }
    ));
    assert!(matches!(
        OwnedMessage::parse(b"42").unwrap_err().as_parse_error(),
        ParseError::UnexpectedType(_)
    ));
    let boxed: Box<dyn std::error::Error> = Box::new(err);
    assert!(boxed.to_string().contains("at byte 3"));
}

#[derive(Clone, Debug)]
enum Op {
    Insert(String, String),
    Remove(String),
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("id".to_owned()),
        Just("execute".to_owned()),
        Just("arguments".to_owned()),
        Just("caf\u{e9}".to_owned()),
        Just("q\"\\\n\u{7f}".to_owned()),
        "[a-z\u{e0}-\u{ff}\u{1F600}]{0,3}",
    ]
}

fn json_value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        Just("null".to_owned()),
        "[ -~\u{e9}\u{1F600}\u{1}]{0,6}".prop_map(|s| serde_json::to_string(&s).unwrap()),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4)
                .prop_map(|v| format!("[ {} ]", v.join(" , "))),
            prop::collection::btree_map("[a-c]", inner, 0..3).prop_map(|m| {
                let body: Vec<String> = m
                    .iter()
                    .map(|(k, v)| format!("{}:\n{v}", serde_json::to_string(k).unwrap()))
                    .collect();
                format!("{{{}}}", body.join(","))
            }),
        ]
    })
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(
        prop_oneof![
            3 => (key(), json_value()).prop_map(|(k, v)| Op::Insert(k, v)),
            1 => key().prop_map(Op::Remove),
        ],
        0..8,
    )
}

/// Applies `ops` to an `OwnedMessage` and to a plain `Vec` of pairs (the model of a Python
/// dict), comparing as it goes; returns the message.
fn apply(ops: &[Op]) -> OwnedMessage {
    let mut msg = OwnedMessage::new();
    let mut model: Vec<(String, String)> = Vec::new();
    for op in ops {
        match op {
            Op::Insert(k, v) => {
                let value = OwnedValue::parse(v.as_bytes()).unwrap();
                let old = msg.insert(k.clone(), value);
                match model.iter_mut().find(|(mk, _)| mk == k) {
                    Some((_, mv)) => {
                        assert_eq!(
                            old.map(|o| o.as_bytes().to_vec()),
                            Some(mv.clone().into_bytes())
                        );
                        *mv = v.clone();
                    }
                    None => {
                        assert!(old.is_none());
                        model.push((k.clone(), v.clone()));
                    }
                }
            }
            Op::Remove(k) => {
                let old = msg.remove(k);
                let i = model.iter().position(|(mk, _)| mk == k);
                assert_eq!(old.is_some(), i.is_some());
                if let Some(i) = i {
                    model.remove(i);
                }
            }
        }
        assert_eq!(msg.len(), model.len());
        for ((k, v), (mk, mv)) in msg.iter().zip(&model) {
            assert_eq!(k, mk);
            assert_eq!(v.raw(), mv.as_bytes());
            assert_eq!(msg.get(k).map(|g| g.raw()), Some(mv.as_bytes()));
        }
    }
    msg
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn mutations_follow_dict_semantics(ops in ops()) {
        let msg = apply(&ops);
        // The compact form parses back to the same members.
        let bytes = msg.to_bytes();
        let back = OwnedMessage::parse(&bytes).unwrap();
        prop_assert_eq!(back.compact_string(), msg.compact_string());
        prop_assert!(bytes.is_ascii());
    }
}

/// `to_bytes()` of a changed message and `Display` are what Python's `json.dumps` prints
/// (compact and `indent=2`), for a batch of generated messages in one oracle run.
#[test]
fn printing_matches_python_json_dumps() {
    let Some(python) = common::python() else {
        eprintln!("skipped: no Python (set QMP_PYTHON)");
        return;
    };
    let mut runner = TestRunner::default();
    let strategy = ops();
    let msgs: Vec<OwnedMessage> = (0..128)
        .map(|_| apply(&strategy.new_tree(&mut runner).unwrap().current()))
        .collect();
    let input: String = msgs.iter().map(|m| m.compact_string() + "\n").collect();
    let output = common::run_python(&python, "json_dumps.py", &[], input.as_bytes());
    let lines: Vec<&str> = output.lines().collect();
    assert_eq!(lines.len(), msgs.len());
    for (msg, line) in msgs.iter().zip(lines) {
        let [pretty, compact]: [String; 2] = serde_json::from_str(line).unwrap();
        assert_eq!(
            String::from_utf8(msg.to_bytes().into_owned()).unwrap(),
            compact
        );
        assert_eq!(msg.to_string(), pretty);
    }
}

#[cfg(feature = "bytes")]
#[test]
fn bytes_messages_view_the_captures() {
    use qmp_codec::BytesMessage;
    let cap = Capture::load("qsd");
    let stream = bytes::Bytes::from(cap.stream.clone());
    let mut offset = 0;
    let mut n = 0;
    for piece in cap.messages() {
        let frame = stream.slice(offset..offset + piece.len());
        offset += piece.len();
        match (BytesMessage::parse(frame.clone()), Message::parse(piece)) {
            (Ok(owned), Ok(msg)) => {
                let view = owned.message();
                assert_eq!(view, msg);
                assert_eq!(view.kind(), msg.kind());
                assert_eq!(view.id(), msg.id());
                assert_eq!(view.get("error"), msg.get("error"));
                assert!(view.iter().eq(msg.iter()));
                assert_eq!(owned.to_string(), msg.to_string());
                // No copy: the view points into the shared frame.
                assert_eq!(view.as_bytes().as_ptr(), frame.as_ptr());
                assert_eq!(owned.clone().into_bytes(), frame);
                n += 1;
            }
            (Err(e), Err(b)) => assert_eq!(e.as_parse_error(), b),
            (a, b) => panic!("BytesMessage {a:?} vs Message {b:?}"),
        }
    }
    assert_eq!(n, 1402);
}
