//! Printing agrees with Python's `json.dumps`: `Message`'s `Display` with `indent=2` and
//! `compact()` with `separators=(',', ':')`, on generated messages and on the real capture.
//! All inputs go to one run of `tests/python/json_dumps.py`.

mod common;

use std::collections::BTreeSet;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use qmp_codec::{Message, Style, Value};

fn ws() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(vec![" ", "\t", "\n", "\r"]), 0..3)
        .prop_map(|v| v.concat())
}

fn string_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9 _#/:'-]{1,6}",
        2 => prop::sample::select(vec![
            "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t", "\\u0000", "\\u001f",
            "\\u007f", "\\u007F",
        ])
        .prop_map(String::from),
        2 => (any::<char>(), any::<bool>()).prop_map(|(c, upper)| {
            let mut units = [0u16; 2];
            c.encode_utf16(&mut units)
                .iter()
                .map(|&u| if upper { format!("\\u{u:04X}") } else { format!("\\u{u:04x}") })
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

/// Numbers that Python prints back exactly as written: integers (not `-0`) and decimals with
/// at most 15 significant digits in `[1e-4, 1e16)` without trailing zeros.
fn json_number() -> impl Strategy<Value = String> {
    prop_oneof![
        "-?[1-9][0-9]{0,30}",
        Just("0".to_string()),
        ("-?", "[1-9][0-9]{0,5}", "[0-9]{0,6}[1-9]").prop_map(|(s, i, f)| format!("{s}{i}.{f}")),
        ("-?", "0{0,3}[1-9][0-9]{0,6}")
            .prop_map(|(s, f)| format!("{s}0.{}", f.trim_end_matches('0'))),
    ]
}

/// An object with distinct (unescaped) names, from `(name, value)` texts.
fn object(members: Vec<(String, String, String, String, String)>, w: String) -> String {
    let mut seen = BTreeSet::new();
    let parts: Vec<String> = members
        .into_iter()
        .filter(|(_, k, ..)| seen.insert(serde_json::from_str::<String>(k).expect("a JSON string")))
        .map(|(a, k, b, v, c)| format!("{a}{k}{b}:{c}{v}"))
        .collect();
    format!("{{{w}{}}}", parts.join(","))
}

fn json_value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        3 => json_string(),
        3 => json_number(),
        1 => prop::sample::select(vec!["true", "false", "null"]).prop_map(String::from),
    ];
    leaf.prop_recursive(6, 48, 5, |inner| {
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
                prop::collection::vec((ws(), json_string(), ws(), inner, ws()), 0..5),
                ws()
            )
                .prop_map(|(m, w)| object(m, w)),
        ]
    })
}

fn message() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        json_string(),
        prop::sample::select(vec![
            "\"id\"",
            "\"return\"",
            "\"error\"",
            "\"event\"",
            "\"data\""
        ])
        .prop_map(String::from),
    ];
    (
        prop::collection::vec((ws(), key, ws(), json_value(), ws()), 0..6),
        ws(),
        ws(),
    )
        .prop_map(|(m, a, b)| format!("{a}{}{b}", object(m, String::new())))
}

/// Runs the oracle on all inputs at once; one `(pretty, compact)` per input.
fn python_prints(py: &std::path::Path, inputs: &[Vec<u8>]) -> Vec<(String, String)> {
    let mut stdin = Vec::new();
    for input in inputs {
        // Raw newlines can only be whitespace in valid JSON; the oracle reads one per line.
        stdin.extend(input.iter().map(|&b| if b == b'\n' { b' ' } else { b }));
        stdin.push(b'\n');
    }
    let out = common::run_python(py, "json_dumps.py", &[], &stdin);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), inputs.len(), "one oracle line per input");
    lines
        .iter()
        .zip(inputs)
        .map(|(line, input)| {
            serde_json::from_str::<(String, String)>(line).unwrap_or_else(|e| {
                panic!(
                    "Python rejected {}: {line} ({e})",
                    String::from_utf8_lossy(input)
                )
            })
        })
        .collect()
}

/// Checks every printing path of `msg` against Python's texts.
fn check(msg: &Message<'_>, pretty: &str, compact: &str) -> Result<(), String> {
    let show = String::from_utf8_lossy(msg.as_bytes()).into_owned();
    if msg.to_string() != pretty {
        return Err(format!("{show}\n  pretty: {msg}\n  python: {pretty}"));
    }
    if msg.compact().to_string() != compact {
        return Err(format!(
            "{show}\n  compact: {}\n  python:  {compact}",
            msg.compact()
        ));
    }
    let value: Value<'_> = msg.as_value();
    for (style, want) in [
        (Style::PYTHON_PRETTY, pretty),
        (Style::PYTHON_COMPACT, compact),
    ] {
        if value.printed_len(style) != want.len() {
            return Err(format!("{show}: printed_len {}", value.printed_len(style)));
        }
        let mut buf = vec![0u8; want.len()];
        match value.print_into(style, &mut buf) {
            Ok(n) if n == want.len() && buf == want.as_bytes() => {}
            other => return Err(format!("{show}: print_into {other:?}")),
        }
    }
    Ok(())
}

#[test]
fn generated_messages_print_like_python() {
    let Some(py) = common::python() else {
        eprintln!("skipped: no Python");
        return;
    };
    let mut runner = TestRunner::default();
    let strategy = message();
    let inputs: Vec<Vec<u8>> = (0..400)
        .map(|_| {
            strategy
                .new_tree(&mut runner)
                .expect("a generated message")
                .current()
                .into_bytes()
        })
        .collect();
    let printed = python_prints(&py, &inputs);
    for (input, (pretty, compact)) in inputs.iter().zip(&printed) {
        let msg = Message::parse(input).unwrap_or_else(|e| {
            panic!(
                "generated message rejected: {e}: {}",
                String::from_utf8_lossy(input)
            )
        });
        check(&msg, pretty, compact).unwrap_or_else(|d| panic!("{d}"));
    }
}

/// Whether Python would print a number of this message differently from its text: floats
/// (`1.0e2` becomes `100.0`) and `-0` (becomes `0`).
fn python_reprints_a_number(v: Value<'_>) -> bool {
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        stack.extend(v.elements());
        stack.extend(v.members().map(|(_, v)| v));
        if let Some(n) = v.as_number() {
            if n == "-0" || n.contains(['.', 'e', 'E']) {
                return true;
            }
        }
    }
    false
}

#[test]
fn corpus_messages_print_like_python() {
    let Some(py) = common::python() else {
        eprintln!("skipped: no Python");
        return;
    };
    let mut inputs = Vec::new();
    for name in ["qsd", "qsd-pretty"] {
        let cap = common::Capture::load(name);
        for m in cap.messages() {
            let Ok(msg) = Message::parse(m) else { continue };
            if !python_reprints_a_number(msg.as_value()) {
                inputs.push(m.to_vec());
            }
        }
    }
    assert!(inputs.len() > 1350, "only {} corpus messages", inputs.len());
    let printed = python_prints(&py, &inputs);
    for (input, (pretty, compact)) in inputs.iter().zip(&printed) {
        let msg = Message::parse(input).expect("parsed above");
        check(&msg, pretty, compact).unwrap_or_else(|d| panic!("{d}"));
    }
}
