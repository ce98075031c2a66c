//! Property tests against serde_json: on generated JSON and on mutated real messages, accept
//! or reject agrees (apart from the documented rules), and every string and number read
//! through the views equals serde_json's.
//!
//! Documented differences: duplicate top-level names are rejected by this crate (QEMU's rule);
//! numbers that overflow `f64` (`1e400`) are accepted here and rejected by serde_json;
//! serde_json stops at 128 levels of nesting, this crate at 1024.

mod common;

use std::sync::OnceLock;

use common::oracle::agree;
use proptest::prelude::*;
use qmp_codec::{Message, ParseError, Reason};

fn ws() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![" ", "\t", "\n", "\r", "\r\n"]),
        0..3,
    )
    .prop_map(|v| v.concat())
}

fn hex4(u: u32, upper: bool) -> String {
    if upper {
        format!("\\u{u:04X}")
    } else {
        format!("\\u{u:04x}")
    }
}

/// One piece of a string body, in one of its JSON spellings.
fn string_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9 _#/:-]{1,6}",
        2 => prop::sample::select(vec![
            "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t",
        ])
        .prop_map(String::from),
        2 => (any::<char>(), any::<bool>()).prop_map(|(c, upper)| {
            let mut units = [0u16; 2];
            c.encode_utf16(&mut units)
                .iter()
                .map(|&u| hex4(u32::from(u), upper))
                .collect()
        }),
        2 => any::<char>()
            .prop_filter("no quote, backslash or control", |c| {
                !matches!(c, '"' | '\\') && *c >= ' '
            })
            .prop_map(String::from),
        1 => prop::sample::select(vec!["é", "€", "😀", "\u{7f}", "\u{ffff}", "\u{10ffff}"])
            .prop_map(String::from),
    ]
}

fn json_string() -> impl Strategy<Value = String> {
    prop::collection::vec(string_piece(), 0..5).prop_map(|p| format!("\"{}\"", p.concat()))
}

fn json_number() -> impl Strategy<Value = String> {
    let int = prop_oneof![
        Just("0".to_string()),
        "[1-9][0-9]{0,3}",
        "[1-9][0-9]{15,25}",
        Just("9223372036854775807".to_string()),
        Just("9223372036854775808".to_string()),
        Just("18446744073709551615".to_string()),
        Just("18446744073709551616".to_string()),
    ];
    let frac = prop::option::of("\\.[0-9]{1,20}");
    let exp = prop::option::of(("[eE]", "[+-]?", prop_oneof!["[0-9]{1,2}", "[1-4][0-9]{2}"]));
    (any::<bool>(), int, frac, exp).prop_map(|(neg, int, frac, exp)| {
        let mut s = String::new();
        if neg {
            s.push('-');
        }
        s.push_str(&int);
        if let Some(f) = frac {
            s.push_str(&f);
        }
        if let Some((e, sign, d)) = exp {
            s.push_str(&e);
            s.push_str(&sign);
            s.push_str(&d);
        }
        s
    })
}

/// Any JSON value, nested at most 6 levels.
fn json_value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        3 => json_string(),
        3 => json_number(),
        1 => prop::sample::select(vec!["true", "false", "null"]).prop_map(String::from),
    ];
    leaf.prop_recursive(6, 48, 5, |inner| {
        let key = prop_oneof![
            json_string(),
            prop::sample::select(vec!["\"a\"", "\"\\u0061\"", "\"b\""]).prop_map(String::from)
        ];
        prop_oneof![
            (
                prop::collection::vec((ws(), inner.clone(), ws()), 0..5),
                ws()
            )
                .prop_map(|(items, w)| {
                    let parts: Vec<String> = items
                        .into_iter()
                        .map(|(a, v, b)| format!("{a}{v}{b}"))
                        .collect();
                    format!("[{w}{}]", parts.join(","))
                }),
            (
                prop::collection::vec((ws(), key, ws(), inner, ws()), 0..5),
                ws()
            )
                .prop_map(|(members, w)| {
                    let parts: Vec<String> = members
                        .into_iter()
                        .map(|(a, k, b, v, c)| format!("{a}{k}{b}:{c}{v}"))
                        .collect();
                    format!("{{{w}{}}}", parts.join(","))
                }),
        ]
    })
}

/// A JSON text: usually an object (a message), sometimes any value, with whitespace around.
fn json_text() -> impl Strategy<Value = String> {
    let top_key = prop_oneof![
        json_string(),
        prop::sample::select(vec![
            "\"id\"",
            "\"return\"",
            "\"error\"",
            "\"event\"",
            "\"\\u0069d\"",
            "\"data\"",
        ])
        .prop_map(String::from),
    ];
    let object = prop::collection::vec((ws(), top_key, ws(), json_value(), ws()), 0..6).prop_map(
        |members| {
            let parts: Vec<String> = members
                .into_iter()
                .map(|(a, k, b, v, c)| format!("{a}{k}{b}:{c}{v}"))
                .collect();
            format!("{{{}}}", parts.join(","))
        },
    );
    (ws(), prop_oneof![4 => object, 1 => json_value()], ws())
        .prop_map(|(a, v, b)| format!("{a}{v}{b}"))
}

/// Real messages of the qsd capture, up to 4 KiB each.
fn corpus_lines() -> &'static [Vec<u8>] {
    static LINES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    LINES.get_or_init(|| {
        let cap = common::Capture::load("qsd");
        cap.messages()
            .into_iter()
            .filter(|m| m.len() <= 4096)
            .map(<[u8]>::to_vec)
            .collect()
    })
}

#[derive(Clone, Debug)]
enum Mutation {
    Flip(usize, u8),
    Set(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let byte = prop_oneof![
        any::<u8>(),
        prop::sample::select(b"{}[]\",:\\ 0-.eEu".to_vec()),
    ];
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(i, x)| Mutation::Flip(i, x)),
        (any::<usize>(), byte.clone()).prop_map(|(i, b)| Mutation::Set(i, b)),
        (any::<usize>(), byte).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Delete),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    let n = bytes.len();
    match *m {
        Mutation::Flip(i, x) if n > 0 => bytes[i % n] ^= x,
        Mutation::Set(i, b) if n > 0 => bytes[i % n] = b,
        Mutation::Insert(i, b) => bytes.insert(i % (n + 1), b),
        Mutation::Delete(i) if n > 0 => {
            bytes.remove(i % n);
        }
        Mutation::Truncate(i) => bytes.truncate(i % (n + 1)),
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn generated_json_agrees_with_serde_json(text in json_text()) {
        // The generator makes valid JSON: serde_json accepts it unless a number overflows.
        if let Err(e) = serde_json::from_str::<serde_json::Value>(&text) {
            prop_assert!(e.to_string().contains("number out of range"), "{text}: {e}");
        }
        if let Err(d) = agree(text.as_bytes()) {
            return Err(TestCaseError::fail(d));
        }
    }

    #[test]
    fn mutated_generated_json_agrees_with_serde_json(
        text in json_text(),
        muts in prop::collection::vec(mutation(), 1..4),
    ) {
        let mut bytes = text.into_bytes();
        for m in &muts {
            apply(&mut bytes, m);
        }
        if let Err(d) = agree(&bytes) {
            return Err(TestCaseError::fail(d));
        }
    }

    #[test]
    fn mutated_corpus_lines_agree_with_serde_json(
        pick in any::<prop::sample::Index>(),
        muts in prop::collection::vec(mutation(), 1..4),
    ) {
        let lines = corpus_lines();
        let mut bytes = pick.get(lines).clone();
        for m in &muts {
            apply(&mut bytes, m);
        }
        if let Err(d) = agree(&bytes) {
            return Err(TestCaseError::fail(d));
        }
    }
}

#[test]
fn every_corpus_line_agrees_with_serde_json() {
    // The unmutated lines, as a baseline for the mutation test (`inf` ids included: both reject).
    for line in corpus_lines() {
        agree(line).unwrap_or_else(|d| panic!("{d}"));
    }
}

#[test]
fn documented_differences_hold() {
    // Overflowing numbers: accepted here (as_f64 is None), rejected by serde_json.
    let msg = Message::parse(br#"{"a":1e400,"b":-1e400}"#).expect("overflow is valid JSON");
    assert_eq!(msg.get("a").and_then(|v| v.as_f64()), None);
    assert_eq!(msg.get("b").and_then(|v| v.as_number()), Some("-1e400"));
    assert!(serde_json::from_slice::<serde_json::Value>(br#"{"a":1e400}"#).is_err());
    // Duplicates at any depth: rejected here, accepted by serde_json.
    assert!(agree(br#"{"a":1,"a":2}"#).is_ok());
    assert!(matches!(
        Message::parse(br#"{"a":1,"a":2}"#),
        Err(ParseError::Deserialization(e)) if e.reason() == Reason::DuplicateMember
    ));
    assert!(agree(br#"{"x":{"a":1,"a":2}}"#).is_ok());
    assert!(matches!(
        Message::parse(br#"{"x":{"a":1,"a":2}}"#),
        Err(ParseError::Deserialization(e)) if e.reason() == Reason::DuplicateMember
    ));
}
