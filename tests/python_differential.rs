//! Differential test against Python: generated messages printed by this crate and by
//! `json.dumps(json.loads(line))` (`tests/python/json_dumps.py`), compared byte for byte,
//! pretty (`indent=2`, `str(Message)`) and compact (`separators=(',', ':')`, `bytes(Message)`
//! once changed).
//!
//! The generator is seeded (`QMP_DIFF_SEED`, default below; a failure prints the seed and
//! the input) and aims at what Python re-prints differently from the input: number spellings
//! (signs, `-0`, leading `0.`, fractions with trailing zeros, exponents of both cases and
//! signs, overflow to `Infinity`, underflow to `0.0`, integers of 20 to 60 digits, mantissas
//! of hundreds of digits), string escapes in every form, raw non-ASCII, whitespace and
//! nesting. Objects with a duplicate name at some depth are generated too: Python keeps one
//! member, this crate rejects the message ([`Reason::DuplicateMember`], QEMU's rule); the test
//! checks both sides of that deliberate difference.
//!
//! All messages go through one Python process. The test fails, rather than skipping, when
//! `QMP_PYTHON` is not set or does not run.

mod common;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;

use qmp_codec::{Message, OwnedMessage, ParseError, Reason, Style};

/// Messages per run (at least 10,000).
const MESSAGES: usize = 12_000;
/// The seed used when `QMP_DIFF_SEED` is not set.
const DEFAULT_SEED: u64 = 0x115E_ED0F_0DD5;

/// The Python oracle from `QMP_PYTHON`; panics with how to provide it.
fn oracle() -> PathBuf {
    const HOW: &str = "this test compares against Python's json module: create the venv \
        (`python3 -m venv target/pyvenv && target/pyvenv/bin/pip install -r \
        tests/python/requirements.txt`) and run with \
        `QMP_PYTHON=$PWD/target/pyvenv/bin/python` (.ci/run does both)";
    let Some(py) = std::env::var_os("QMP_PYTHON").filter(|p| !p.is_empty()) else {
        panic!("QMP_PYTHON is not set: {HOW}");
    };
    let py = PathBuf::from(py);
    let ok = Command::new(&py)
        .args([
            "-c",
            "import json, sys; sys.exit(0 if json.dumps(1e400) == 'Infinity' else 1)",
        ])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "QMP_PYTHON={} does not run Python with json: {HOW}",
        py.display()
    );
    py
}

/// splitmix64: small, seedable, good enough to spread the choices.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    fn digits(&mut self, out: &mut String, n: usize) {
        for _ in 0..n {
            out.push(char::from(b'0' + self.below(10) as u8));
        }
    }
}

fn ws(r: &mut Rng, out: &mut String) {
    if r.chance(70) {
        return;
    }
    for _ in 0..=r.below(2) {
        out.push_str(r.pick(&[" ", "\t", "\r", "  "]));
    }
}

/// A JSON number token, spelled in one of the ways Python re-prints (or keeps).
fn number(r: &mut Rng, out: &mut String) {
    if r.chance(40) {
        out.push('-');
    }
    // The integer part: `0`, or a nonzero digit and more.
    let int_len = match r.below(10) {
        0..=2 => 0,
        3..=6 => 1 + r.below(6),
        7 => 16 + r.below(5),
        8 => 20 + r.below(41),
        _ => 100 + r.below(300),
    };
    if int_len == 0 {
        out.push('0');
    } else {
        out.push(char::from(b'1' + r.below(9) as u8));
        r.digits(out, int_len - 1);
    }
    let (frac, exp) = match r.below(4) {
        0 => (false, false),
        1 => (true, false),
        2 => (false, true),
        _ => (true, true),
    };
    if frac {
        out.push('.');
        let n = match r.below(8) {
            0..=5 => 1 + r.below(8),
            6 => 15 + r.below(10),
            _ => 50 + r.below(400),
        };
        r.digits(out, n);
        if r.chance(40) {
            for _ in 0..=r.below(4) {
                out.push('0');
            }
        }
    }
    if exp {
        out.push_str(r.pick(&["e", "E"]));
        out.push_str(r.pick(&["", "+", "-"]));
        if r.chance(15) {
            out.push_str(r.pick(&["0", "00"]));
        }
        let e = match r.below(10) {
            0..=4 => r.below(25),
            5..=6 => 290 + r.below(40),
            7 => 300 + r.below(30) + int_len,
            8 => 400 + r.below(1000),
            _ => 99_999 + r.below(1_000_000),
        };
        let _ = write!(out, "{e}");
    }
}

/// The body of a JSON string (no quotes), with escapes and raw non-ASCII.
fn string_body(r: &mut Rng, out: &mut String) {
    for _ in 0..r.below(6) {
        match r.below(12) {
            0..=3 => {
                for _ in 0..=r.below(5) {
                    out.push(char::from(b' ' + r.below(95) as u8));
                    if out.ends_with('"') || out.ends_with('\\') {
                        out.pop();
                        out.push('x');
                    }
                }
            }
            4 | 5 => out.push_str(r.pick(&[
                "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t", "\\u0000", "\\u001f",
                "\\u007f", "\\u007F", "\\u0020", "\\u0041", "\\u00e9", "\\u00E9", "\\u2028",
            ])),
            6 | 7 => {
                // Any scalar value as \u escapes (surrogate pairs above the BMP), either case.
                let c = loop {
                    let v = match r.below(3) {
                        0 => r.below(0x800) as u32,
                        1 => r.below(0x10000) as u32,
                        _ => r.below(0x11_0000) as u32,
                    };
                    if let Some(c) = char::from_u32(v) {
                        break c;
                    }
                };
                let upper = r.chance(50);
                let mut units = [0u16; 2];
                for &u in c.encode_utf16(&mut units).iter() {
                    if upper {
                        let _ = write!(out, "\\u{u:04X}");
                    } else {
                        let _ = write!(out, "\\u{u:04x}");
                    }
                }
            }
            8 | 9 => {
                let c = loop {
                    let v = match r.below(3) {
                        0 => 0x7f + r.below(0x100) as u32,
                        1 => r.below(0x10000) as u32,
                        _ => r.below(0x11_0000) as u32,
                    };
                    if let Some(c) =
                        char::from_u32(v).filter(|&c| c >= ' ' && c != '"' && c != '\\')
                    {
                        break c;
                    }
                };
                out.push(c);
            }
            _ => out.push_str(r.pick(&["é", "€", "😀", "\u{7f}", "\u{ffff}", "\u{10ffff}", "ß"])),
        }
    }
}

/// A member name: short plain names (so that duplicates happen), or any string body.
fn name(r: &mut Rng, out: &mut String) {
    match r.below(4) {
        0 | 1 => out.push_str(r.pick(&["a", "b", "id", "data", "x-y", "\u{e9}", "name-long-12"])),
        _ => string_body(r, out),
    }
}

/// Spells `name` differently (escapes) when it is one of the short plain names.
fn respell(r: &mut Rng, name: &str) -> String {
    match (name, r.below(3)) {
        ("a", 0) => "\\u0061".into(),
        ("id", 0) => "i\\u0064".into(),
        ("\u{e9}", 0) => "\\u00e9".into(),
        ("\u{e9}", 1) => "\\u00E9".into(),
        ("name-long-12", 0) => "name-long-1\\u0032".into(),
        _ => name.into(),
    }
}

/// A value nested at `depth`. When `dup` is set, one object somewhere inside gets a duplicate
/// name (and `dup` is cleared).
fn value(r: &mut Rng, depth: usize, dup: &mut bool, out: &mut String) {
    let leaf = depth >= 6 || r.chance(45);
    if leaf && !*dup {
        match r.below(10) {
            0..=4 => number(r, out),
            5..=7 => {
                out.push('"');
                string_body(r, out);
                out.push('"');
            }
            _ => out.push_str(r.pick(&["true", "false", "null"])),
        }
        return;
    }
    if r.chance(40) && !(*dup && depth >= 6) {
        out.push('[');
        ws(r, out);
        let n = r.below(5) + usize::from(*dup);
        for k in 0..n {
            if k > 0 {
                out.push(',');
                ws(r, out);
            }
            value(r, depth + 1, dup, out);
            ws(r, out);
        }
        out.push(']');
    } else {
        object(r, depth + 1, dup, out);
    }
}

/// An object with distinct (unescaped) names, or with one duplicate when `dup` is set and
/// the dice say here.
fn object(r: &mut Rng, depth: usize, dup: &mut bool, out: &mut String) {
    out.push('{');
    ws(r, out);
    let n = r.below(5) + usize::from(*dup) * 2;
    let mut seen: Vec<String> = Vec::new();
    let mut written: Vec<String> = Vec::new();
    let duplicate_here = *dup && (depth >= 5 || r.chance(50));
    let mut first = true;
    for k in 0..n {
        let mut body = String::new();
        if duplicate_here && k == n - 1 && !written.is_empty() {
            let earlier = written[r.below(written.len())].clone();
            body = respell(r, &earlier);
            *dup = false;
        } else {
            name(r, &mut body);
            let plain: String =
                serde_json::from_str(&format!("\"{body}\"")).expect("generated a JSON string");
            if seen.contains(&plain) {
                continue;
            }
            seen.push(plain);
            written.push(body.clone());
        }
        if !first {
            out.push(',');
            ws(r, out);
        }
        first = false;
        out.push('"');
        out.push_str(&body);
        out.push('"');
        ws(r, out);
        out.push(':');
        ws(r, out);
        if duplicate_here {
            // The duplicate goes here, not deeper.
            value(r, depth, &mut false, out);
        } else {
            value(r, depth, dup, out);
        }
        ws(r, out);
    }
    out.push('}');
}

/// One message: a top-level object (names distinct at the top level: duplicates there are
/// rejected by the parser and not printed), maybe with a nested duplicate.
fn message(r: &mut Rng) -> (String, bool) {
    let mut out = String::new();
    ws(r, &mut out);
    out.push('{');
    let mut dup = r.chance(8);
    let wanted = dup;
    let n = 1 + r.below(5) + usize::from(dup);
    let keys = ["return", "id", "data", "event", "error", "arguments", "x"];
    for (k, key) in keys.iter().enumerate().take(n) {
        if k > 0 {
            out.push(',');
            ws(&mut *r, &mut out);
        }
        let _ = write!(out, "\"{key}\":");
        ws(r, &mut out);
        if dup && k == n - 1 {
            object(r, 1, &mut dup, &mut out);
        } else {
            value(r, 1, &mut dup, &mut out);
        }
    }
    out.push('}');
    ws(r, &mut out);
    // `dup` is cleared once a duplicate is written.
    (out, wanted && !dup)
}

/// The inputs named in issue 11, so that they stay covered whatever the seed.
const FIXED: &[&str] = &[
    r#"{"id": -0}"#,
    r#"{"a": [1.10, 1e5, 1E5, 1e-7, 1e22, 12345678901234567.0, 100e-2, 1e400, -1e400]}"#,
    r#"{"a": [-0.0, 0e0, -0E-0, 1e-400, -1e-400, 5e-324, 2.4703282292062327e-324]}"#,
    r#"{"a": {"n": [123456789012345678901234567890, -98765432109876543210, 9007199254740993]}}"#,
    r#"{"a": [9007199254740993.0, 0.1, 1E+15, 1e16, 0.0001, 0.00001, 1.7976931348623159e308]}"#,
];

#[test]
fn generated_messages_print_as_python_does() {
    let py = oracle();
    let seed = std::env::var("QMP_DIFF_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEED);
    let mut r = Rng(seed);
    let mut inputs: Vec<(String, bool)> = FIXED.iter().map(|s| (s.to_string(), false)).collect();
    inputs.extend((0..MESSAGES).map(|_| message(&mut r)));
    let duplicates = inputs.iter().filter(|(_, d)| *d).count();
    assert!(
        duplicates > MESSAGES / 20,
        "only {duplicates} messages with a duplicate"
    );

    let mut stdin = Vec::new();
    for (input, _) in &inputs {
        assert!(
            !input.contains('\n'),
            "the oracle reads one message per line"
        );
        stdin.extend_from_slice(input.as_bytes());
        stdin.push(b'\n');
    }
    let out = common::run_python(&py, "json_dumps.py", &[], &stdin);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), inputs.len(), "one oracle line per input");

    let mut failures = Vec::new();
    let mut infinities = 0;
    for ((input, dup), line) in inputs.iter().zip(&lines) {
        let Ok((pretty, compact)) = serde_json::from_str::<(String, String)>(line) else {
            failures.push(format!("Python rejected {input}: {line}"));
            continue;
        };
        let parsed = Message::parse(input.as_bytes());
        if *dup {
            match parsed {
                Err(ParseError::Deserialization(e)) if e.reason() == Reason::DuplicateMember => {}
                other => failures.push(format!(
                    "a nested duplicate was not rejected as DuplicateMember: {input}: {other:?}"
                )),
            }
            continue;
        }
        let msg = match parsed {
            Ok(msg) => msg,
            Err(e) => {
                failures.push(format!("rejected {input}: {e}"));
                continue;
            }
        };
        if compact.contains("Infinity") {
            infinities += 1;
        }
        if let Err(d) = check(&msg, &pretty, &compact) {
            failures.push(d);
        }
        if failures.len() > 10 {
            break;
        }
    }
    assert!(
        failures.is_empty(),
        "seed {seed} (set QMP_DIFF_SEED to repeat): {} disagreements, first ones:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The generator reaches the overflow case often enough to matter.
    assert!(
        infinities > MESSAGES / 50,
        "only {infinities} messages overflowed a number"
    );
}

/// Every printing path of `msg` against Python's two texts.
fn check(msg: &Message<'_>, pretty: &str, compact: &str) -> Result<(), String> {
    let input = String::from_utf8_lossy(msg.as_bytes());
    let differ = |what: &str, ours: &str, theirs: &str| {
        // Where they part, with some context on both sides.
        let at = ours
            .bytes()
            .zip(theirs.bytes())
            .position(|(a, b)| a != b)
            .unwrap_or(ours.len().min(theirs.len()));
        let around = |s: &str| {
            let b = s.as_bytes();
            String::from_utf8_lossy(&b[at.saturating_sub(60)..(at + 60).min(b.len())]).into_owned()
        };
        Err(format!(
            "{input}\n  {what} differs at byte {at}:\n  ours:   {}\n  python: {}",
            around(ours),
            around(theirs)
        ))
    };
    let ours = msg.to_string();
    if ours != pretty {
        return differ("Display", &ours, pretty);
    }
    let ours = msg.compact().to_string();
    if ours != compact {
        return differ("compact()", &ours, compact);
    }
    let value = msg.as_value();
    for (style, want) in [
        (Style::PYTHON_PRETTY, pretty),
        (Style::PYTHON_COMPACT, compact),
    ] {
        if value.printed_len(style) != want.len() {
            return differ("printed_len", &value.printed_len(style).to_string(), want);
        }
        let mut buf = vec![0u8; want.len()];
        match value.print_into(style, &mut buf) {
            Ok(n) if n == want.len() && buf == want.as_bytes() => {}
            other => return differ("print_into", &format!("{other:?}"), want),
        }
    }
    let owned = OwnedMessage::from(*msg);
    let ours = owned.compact_string();
    if ours != compact {
        return differ("OwnedMessage::compact_string", &ours, compact);
    }
    let ours = owned.to_string();
    if ours != pretty {
        return differ("OwnedMessage Display", &ours, pretty);
    }
    Ok(())
}
