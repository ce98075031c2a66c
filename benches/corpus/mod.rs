//! Benchmark corpora cut from the bundled qemu-storage-daemon capture, with the counts every
//! benchmarked parser must reproduce (taken from the capture's `expect.jsonl`, not from any
//! parser under test).
//!
//! Shared by `benches/parse.rs` and `examples/parse_corpus.rs` (the instruction-count driver).
#![allow(dead_code)]

pub mod variants;

use std::ops::Range;
use std::path::Path;

use serde_json::Value;

/// Messages per kind plus the `id` members, as every parser must count them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Greetings, events, errors, returns, commands, unknown (the `Kind` order).
    pub kinds: [usize; 6],
    /// Messages with an `id` member.
    pub ids: usize,
    /// Total length of the raw `id` values (for parsers that expose them).
    pub id_bytes: usize,
}

/// Index in [`Counts::kinds`], in `qmp_codec::Kind` order.
pub const GREETING: usize = 0;
/// Index of events.
pub const EVENT: usize = 1;
/// Index of errors.
pub const ERROR: usize = 2;
/// Index of returns.
pub const RETURN: usize = 3;
/// Index of commands.
pub const COMMAND: usize = 4;
/// Index of anything else.
pub const UNKNOWN: usize = 5;

/// One corpus: whole `\r\n`-terminated messages back to back, and where each one sits.
pub struct Corpus {
    /// The bench group name.
    pub name: &'static str,
    /// The messages, concatenated.
    pub bytes: Vec<u8>,
    /// Each message's range in `bytes`, terminator included.
    pub lines: Vec<Range<usize>>,
    /// What a correct parser counts.
    pub expected: Counts,
}

impl Corpus {
    /// The message bytes, one per line, terminator included.
    pub fn messages(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.lines.iter().map(move |r| &self.bytes[r.clone()])
    }
}

/// One message of the capture with its expected facts.
struct Row {
    seq: u64,
    bytes: Vec<u8>,
    kind: usize,
    strict: bool,
    id_len: Option<usize>,
}

fn read(rel: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn rows() -> Vec<Row> {
    let stream = read("tests/data/corpus/qsd/stream.bin");
    let expect = read("tests/data/corpus/qsd/expect.jsonl");
    let mut rows = Vec::new();
    for line in expect.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let v: Value = serde_json::from_slice(line).expect("expect.jsonl line is JSON");
        let num = |k: &str| v[k].as_u64().unwrap_or_else(|| panic!("{k} in {v}")) as usize;
        let (offset, len) = (num("offset"), num("len"));
        let bytes = stream[offset..offset + len].to_vec();
        assert!(bytes.ends_with(b"\r\n"), "seq {} ends in CRLF", num("seq"));
        let kind = match v["kind"].as_str() {
            Some("greeting") => GREETING,
            Some("event") => EVENT,
            Some("error") => ERROR,
            Some("return") => RETURN,
            Some("command") => COMMAND,
            _ => UNKNOWN,
        };
        let id_len = if v["id_present"] == Value::Bool(true) {
            Some(match v.get("id_raw_len") {
                Some(n) => n.as_u64().expect("id_raw_len") as usize,
                None => v["id_raw"].as_str().expect("id_raw").len(),
            })
        } else {
            None
        };
        rows.push(Row {
            seq: num("seq") as u64,
            bytes,
            kind,
            strict: v["strict_json"] == Value::Bool(true),
            id_len,
        });
    }
    rows
}

fn build(name: &'static str, rows: &[&Row], repeat: usize) -> Corpus {
    let mut c = Corpus {
        name,
        bytes: Vec::new(),
        lines: Vec::new(),
        expected: Counts::default(),
    };
    for _ in 0..repeat {
        for r in rows {
            let start = c.bytes.len();
            c.bytes.extend_from_slice(&r.bytes);
            c.lines.push(start..c.bytes.len());
            c.expected.kinds[r.kind] += 1;
            if let Some(n) = r.id_len {
                c.expected.ids += 1;
                c.expected.id_bytes += n;
            }
        }
    }
    assert!(!c.lines.is_empty(), "{name}: empty corpus");
    c
}

/// The seq of the 256 KiB id echo (`id-big-string-256KiB`), a stress case of the capture.
pub const ID_ECHO_SEQ: u64 = 1107;

/// The corpora, in bench order:
///
/// - `small`: every event, error and return message under 1 KiB, in capture order;
/// - `schema`: the `query-qmp-schema` return (the largest `return` but the id echo), 8 times;
/// - `mix`: the whole capture except the two `inf` lines (not JSON) and the 256 KiB id echo;
/// - `id-echo`: the 256 KiB id echo alone (one long string).
pub fn all() -> Vec<Corpus> {
    let rows = rows();
    let small = small_rows(&rows);
    let schema = rows
        .iter()
        .filter(|r| r.kind == RETURN && r.seq != ID_ECHO_SEQ)
        .max_by_key(|r| r.bytes.len())
        .expect("a return message");
    assert!(schema.bytes.len() > 100_000, "the schema reply is ~117 KB");
    let mix: Vec<&Row> = rows
        .iter()
        .filter(|r| r.strict && r.seq != ID_ECHO_SEQ)
        .collect();
    let echo: Vec<&Row> = rows.iter().filter(|r| r.seq == ID_ECHO_SEQ).collect();
    vec![
        build("small", &small, 1),
        build("schema", &[schema], 8),
        build("mix", &mix, 1),
        build("id-echo", &echo, 1),
    ]
}

/// The rows of the `small` corpus: every event, error and return under 1 KiB.
fn small_rows(rows: &[Row]) -> Vec<&Row> {
    rows.iter()
        .filter(|r| matches!(r.kind, EVENT | ERROR | RETURN) && r.bytes.len() < 1024)
        .filter(|r| r.strict)
        .collect()
}

/// `small-top`: the message that occurs most often in `small` (1,036 of its 1,394 messages
/// are one 83-byte error reply), 1,000 times. Not a bench group: the instruction count of
/// that one message, which decides the count of `small`.
pub fn small_top() -> Corpus {
    let rows = rows();
    let small = small_rows(&rows);
    let mut counts = std::collections::HashMap::<&[u8], usize>::new();
    for r in &small {
        *counts.entry(r.bytes.as_slice()).or_default() += 1;
    }
    let top = small
        .iter()
        .max_by_key(|r| (counts[r.bytes.as_slice()], std::cmp::Reverse(r.seq)))
        .expect("small is not empty");
    build("small-top", &[top], 1000)
}
