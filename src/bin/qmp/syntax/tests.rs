//! The shell syntax against qmp-shell itself (`tests/python/qmp_shell_parse.py`, run with
//! `$QMP_PYTHON`, which must import `qemu.qmp`), and hand-picked cases.

use std::io::Write;
use std::path::Path;
use std::process::{Command as Process, Stdio};

use super::{parse_value, words, Node, Parser};

/// What the shell makes of a line, in the oracle script's terms.
fn outcome(parser: &mut Parser, line: &str) -> String {
    let mut out = String::new();
    match parser.line(line) {
        Ok(None) => out.push_str(r#"{"none":true}"#),
        Ok(Some(cmd)) => {
            out.push_str(r#"{"json":"#);
            let _ = qmp_codec::write_json_string(&mut out, &cmd.to_json());
            out.push('}');
        }
        Err(e) => {
            out.push_str(r#"{"error":"#);
            let _ = qmp_codec::write_json_string(&mut out, &e);
            out.push('}');
        }
    }
    out
}

/// A fixed-seed xorshift generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const ATOMS: &[&str] = &[
    "0",
    "-12",
    "+7",
    "1_000",
    "007",
    "1__0",
    "_1",
    "1_",
    "١٢",
    "１２",
    "-٣",
    "99999999999999999999999",
    "1.5",
    "-0",
    "1e3",
    "true",
    "TRUE",
    "False",
    "fAlSe",
    "null",
    "None",
    "abc",
    "\"two words\"",
    "'single q'",
    "a\"b",
    "é",
    "",
    "=",
    "a=b",
    "node0",
    "\"\"",
    "'\\''",
    "\"a\\\"b\"",
    "on",
    "0x10",
    "inf",
    "NaN",
    "-",
    "+",
    "1.",
    ".5",
];

const PY_SCALARS: &[&str] = &[
    "1",
    "-1",
    "+2",
    "-(1)",
    "-(-1)",
    "--1",
    "(1)",
    "((2))",
    "0x1F",
    "0o17",
    "0b101",
    "0X_f",
    "1_000",
    "0_0",
    "00",
    "01",
    "1.5",
    "1.",
    ".5",
    "1e5",
    "1.e5",
    "1E-3",
    "-0.0",
    "1_0.5_5",
    "1e400",
    "1j",
    "True",
    "False",
    "None",
    "true",
    "false",
    "null",
    "'s'",
    "\"d\"",
    "'a''b'",
    "'a' 'b'",
    "u'x'",
    "r'\\n'",
    "R'\\''",
    "b'x'",
    "f'x'",
    "'\\x41'",
    "'\\u00e9'",
    "'\\101'",
    "'\\q'",
    "'\\ud83d\\ude00'",
    "'\\ud800'",
    "'''t'''",
    "'é'",
    "'a\"b'",
    "\"a'b\"",
    "foo",
    "1 # c",
    "(1,)",
    "()",
    "(1, 2)",
    "[1][0]",
    "1+2",
    "'\\t'",
    "'\\0'",
    "-True",
    "'x'\"y\"",
    "1if",
    "0x",
    "1__2",
    "{1, 2}",
    "{'k': 1, 'k': 2}",
    "{1: 'a'}",
    "{True: 1, 1: 2}",
    "{None: 0}",
    "{1.5: 0}",
    "{[1]: 2}",
    "{'a': 1,}",
    "[1, 2,]",
    "[,]",
];

const JSON_SCALARS: &[&str] = &[
    "1",
    "-1",
    "0",
    "-0",
    "1.5",
    "1e3",
    "1E-2",
    "-0.0",
    "123456789012345678901234567890",
    "1e400",
    "01",
    "1.",
    ".5",
    "+1",
    "true",
    "false",
    "null",
    "\"s\"",
    "\"\\u00e9\"",
    "\"é\"",
    "\"\\/\"",
    "\"\\ud83d\\ude00\"",
    "\"\\ud800\"",
    "\"a\\\"b\"",
    "\"\\t\"",
    "NaN",
    "Infinity",
    "-Infinity",
    "\"\"",
    "\"two words\"",
];

/// A composite value: JSON or Python-literal flavoured, nested up to `depth`.
fn composite(rng: &mut Rng, depth: u32, python: bool) -> String {
    let scalars = if python { PY_SCALARS } else { JSON_SCALARS };
    if depth == 0 || rng.chance(30) {
        return rng.pick(scalars).to_owned();
    }
    let n = rng.below(4);
    let sep = if rng.chance(80) { "," } else { ", " };
    let list = rng.chance(50);
    let mut out = String::from(if list { "[" } else { "{" });
    for i in 0..n {
        if i > 0 {
            out.push_str(sep);
        }
        if !list {
            let key = if python {
                rng.pick(&["'k'", "\"k\"", "'a b'", "'k2'", "1", "True", "None", "'k'"])
            } else {
                rng.pick(&["\"k\"", "\"a b\"", "\"k2\"", "\"k\"", "\"\\u006b\""])
            };
            out.push_str(key);
            out.push_str(if rng.chance(80) { ":" } else { ": " });
        }
        out.push_str(&composite(rng, depth - 1, python));
    }
    if python && n > 0 && rng.chance(15) {
        out.push(',');
    }
    out.push_str(if list { "]" } else { "}" });
    out
}

fn value(rng: &mut Rng) -> String {
    let mut v = match rng.below(4) {
        0 => rng.pick(ATOMS).to_owned(),
        1 => composite(rng, 3, false),
        _ => composite(rng, 3, true),
    };
    if rng.chance(8) && !v.is_empty() {
        // Break it: drop or repeat a character.
        let cut = rng.below(v.len());
        if v.is_char_boundary(cut) {
            let c = v[cut..].chars().next().unwrap_or('x');
            if rng.chance(50) {
                v.remove(cut);
            } else {
                v.insert(cut, c);
            }
        }
    }
    v
}

fn key(rng: &mut Rng) -> String {
    let parts = [
        "a",
        "b",
        "c",
        "node-name",
        "cache",
        "direct",
        "'q'",
        "\"k k\"",
        "",
        "x",
    ];
    let n = 1 + rng.below(3);
    (0..n)
        .map(|_| rng.pick(&parts))
        .collect::<Vec<_>>()
        .join(".")
}

fn line(rng: &mut Rng) -> String {
    let mut out = String::from(rng.pick(&[
        "query-status",
        "blockdev-add",
        "x",
        "transaction(",
        ")",
        "a=b",
        "'quoted name'",
        "transaction()",
        "  stop",
    ]));
    for _ in 0..rng.below(5) {
        out.push_str(rng.pick(&[" ", "  ", "\t", " \u{a0}", "\u{1f}"]));
        if rng.chance(5) {
            out.push_str(rng.pick(&[")", "noequals", "\"unclosed", "'", "\\"]));
            continue;
        }
        out.push_str(&key(rng));
        out.push('=');
        out.push_str(&value(rng));
    }
    if rng.chance(10) {
        out.push_str(" )");
    }
    out
}

fn case(rng: &mut Rng) -> Vec<String> {
    let mut lines = vec![line(rng)];
    if rng.chance(25) {
        lines.insert(0, "transaction(".to_owned());
        for _ in 0..rng.below(3) {
            lines.push(line(rng));
        }
        if rng.chance(70) {
            lines.push(rng.pick(&[")", " ) ", ") x", "transaction( )"]).to_owned());
        }
    }
    lines
}

fn python() -> String {
    let python = std::env::var("QMP_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| {
            panic!(
            "this test compares with qmp-shell (PyPI qemu.qmp): set QMP_PYTHON to a Python that \
             imports qemu.qmp, e.g. `python3 -m venv target/pyvenv && target/pyvenv/bin/pip \
             install -r tests/python/requirements.txt && export \
             QMP_PYTHON=$PWD/target/pyvenv/bin/python`"
        )
        });
    let ok = Process::new(&python)
        .args(["-c", "import qemu.qmp.qmp_shell"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "QMP_PYTHON={python} cannot import qemu.qmp.qmp_shell: pip install -r tests/python/requirements.txt"
    );
    python
}

#[test]
fn generated_lines_mean_what_they_mean_to_qmp_shell() {
    let python = python();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut input = String::new();
    let mut count = 0;
    for _ in 0..4000 {
        let lines = case(&mut rng);
        let mut parser = Parser::new();
        let mine: Vec<String> = lines.iter().map(|l| outcome(&mut parser, l)).collect();
        count += lines.len();
        input.push_str(r#"{"lines":["#);
        for (i, l) in lines.iter().enumerate() {
            if i > 0 {
                input.push(',');
            }
            let _ = qmp_codec::write_json_string(&mut input, l);
        }
        input.push_str(r#"],"mine":["#);
        input.push_str(&mine.join(","));
        input.push_str("]}\n");
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/qmp_shell_parse.py");
    let mut child = Process::new(&python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the oracle starts");
    let mut stdin = child.stdin.take().expect("piped");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().expect("the oracle runs");
    writer.join().expect("writer").expect("write to the oracle");
    assert!(out.status.success(), "the oracle failed");
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let (mismatches, last) = text
        .trim_end()
        .rsplit_once('\n')
        .unwrap_or(("", text.trim_end()));
    let summary = last
        .strip_prefix(&format!("checked {count} lines ("))
        .unwrap_or_else(|| panic!("{last}"));
    eprintln!("qmp-shell oracle: {last}");
    // The deliberate difference from qmp-shell (keys start at the root) was exercised.
    let rooted: usize = summary
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(rooted > 0, "{last}");
    assert!(
        mismatches.is_empty(),
        "{} lines differ from qmp-shell:\n{}",
        mismatches.lines().count(),
        mismatches.lines().take(20).collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn words_keep_quotes_and_skip_what_never_closes() {
    assert_eq!(words(r#"a b="c d" 'e f'g"#), ["a", r#"b="c d""#, "'e f'g"]);
    assert_eq!(words(r#"a"b"#), ["a", "b"]);
    assert_eq!(words(r#"x="a\"b""#), [r#"x="a\"b""#]);
    // The backslash pairing is undone where that finds the closing quote.
    assert_eq!(words(r#""ab\"cd"#), [r#""ab\"cd"#]);
    assert_eq!(words(r#""ab\"c d"#), [r#""ab\"c"#, "d"]);
    assert_eq!(words("  \t "), Vec::<&str>::new());
}

#[test]
fn values_as_qmp_shell_reads_them() {
    let json = |v: &str| parse_value(v).map(|n| n.to_json());
    assert_eq!(json("12"), Ok("12".into()));
    assert_eq!(json("+0_07"), Ok("7".into()));
    assert_eq!(json("١٢"), Ok("12".into()));
    assert_eq!(json("1.5"), Ok("\"1.5\"".into()));
    assert_eq!(json("TRUE"), Ok("true".into()));
    assert_eq!(json("null"), Ok("\"null\"".into()));
    assert_eq!(json("\"a b\""), Ok(r#""\"a b\"""#.into()));
    assert_eq!(json("{\"a\":1,\"a\":2}"), Ok(r#"{"a":2}"#.into()));
    assert_eq!(
        json("{'a':None,'b':(1,-2.5),'c':true,1:0x10}"),
        Ok(r#"{"a":null,"b":[1,-2.5],"c":true,"1":16}"#.into())
    );
    assert_eq!(json("[1],[2]"), Ok("[[1],[2]]".into()));
    assert_eq!(json("[foo]"), Ok("\"[foo]\"".into()));
    for refused in [
        "[b'x']",
        "[1j]",
        "[{1,2}]",
        "[1e999]",
        "['\\ud800']",
        "[NaN]",
    ] {
        assert!(parse_value(refused).is_err(), "{refused}");
    }
    // Deeper than Python's json recursion limit: qmp-shell fails, so does the shell.
    assert!(parse_value(&"[".repeat(100_000)).is_err());
    // Not JSON, and too deep for Python's parser: a string.
    let open = "[".repeat(300);
    assert_eq!(json(&open), Ok(format!("{open:?}")));
}

#[test]
fn dotted_keys_and_transactions() {
    let mut p = Parser::new();
    let cmd = p
        .line("blockdev-add driver=file cache.direct=false cache.no-flush=true")
        .unwrap()
        .unwrap();
    assert_eq!(
        cmd.to_json(),
        r#"{"execute":"blockdev-add","arguments":{"driver":"file","cache":{"direct":false,"no-flush":true}}}"#
    );
    assert!(p.line("x a=1 a.b=2").is_err());
    assert!(p.line("x a=1 a=2").is_err());
    assert_eq!(p.line("transaction("), Ok(None));
    assert!(p.in_transaction());
    assert_eq!(p.line("abort"), Ok(None));
    let t = p.line(")").unwrap().unwrap();
    assert_eq!(
        t.to_json(),
        r#"{"execute":"transaction","arguments":{"actions":[{"type":"abort","data":{}}]}}"#
    );
    assert!(!p.in_transaction());
    let one = p.line("transaction( abort n=1 )").unwrap().unwrap();
    assert_eq!(
        Node::Dict(one.arguments).to_json(),
        r#"{"actions":[{"type":"abort","data":{"n":1}}]}"#
    );
}
