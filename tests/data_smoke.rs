//! Checks that the committed test data is complete and self-consistent, and that the Python
//! oracles answer. The codec's own corpus tests build on the same files.

mod common;

use std::collections::BTreeMap;

use common::{case_bytes, field, split_lines, Capture};
use serde_json::Value;

fn check_capture(name: &str) -> Capture {
    let cap = Capture::load(name);
    let facts = &cap.facts;
    assert_eq!(
        cap.stream.len(),
        field(facts, "stream_bytes"),
        "{name}: stream size"
    );
    assert_eq!(
        cap.expect.len(),
        field(facts, "messages"),
        "{name}: message count"
    );

    // messages() asserts that offsets/len tile the stream exactly.
    let msgs = cap.messages();
    let mut by_kind: BTreeMap<String, usize> = BTreeMap::new();
    for (i, (m, bytes)) in cap.expect.iter().zip(&msgs).enumerate() {
        assert_eq!(field(m, "seq"), i, "{name}: seq");
        assert_eq!(field(m, "len"), field(m, "body_len") + 2, "{name}: seq {i}");
        assert!(
            bytes.ends_with(b"\r\n"),
            "{name}: seq {i} does not end in CRLF"
        );
        let kind = m["kind"].as_str().expect("kind is a string");
        *by_kind.entry(kind.to_owned()).or_default() += 1;
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        assert_eq!(
            first,
            Some(&b'{'),
            "{name}: seq {i} does not start with an object"
        );
    }
    let want: BTreeMap<String, usize> =
        serde_json::from_value(facts["messages_by_kind"].clone()).expect("messages_by_kind");
    assert_eq!(by_kind, want, "{name}: messages by kind");
    let longest = msgs.iter().map(|m| m.len()).max().unwrap_or(0);
    assert_eq!(
        longest,
        field(facts, "max_message_len"),
        "{name}: longest message"
    );

    // Every server message belongs to exactly one case, in order; writes decode to their len.
    let mut next_seq = 0;
    for (i, case) in cap.cases.iter().enumerate() {
        assert_eq!(field(case, "index"), i, "{name}: case index");
        for s in case["messages"].as_array().expect("messages is an array") {
            assert_eq!(s.as_u64(), Some(next_seq), "{name}: case {i} messages");
            next_seq += 1;
        }
        let total: usize = case["writes"]
            .as_array()
            .expect("writes")
            .iter()
            .map(|w| field(w, "len"))
            .sum();
        assert_eq!(
            case_bytes(case).len(),
            total,
            "{name}: case {i} write lengths"
        );
    }
    assert_eq!(
        next_seq,
        cap.expect.len() as u64,
        "{name}: cases cover every message"
    );
    cap
}

#[test]
fn qsd_capture_is_consistent() {
    let cap = check_capture("qsd");
    // One message per line: cutting at CRLF gives exactly the messages.
    assert_eq!(split_lines(&cap.stream), cap.messages());
    assert_eq!(cap.facts["server"], "qsd");

    let not_json: Vec<usize> = cap
        .expect
        .iter()
        .filter(|m| m["strict_json"] == Value::Bool(false))
        .map(|m| field(m, "seq"))
        .collect();
    assert_eq!(not_json.len(), 2, "the two `inf` ids");

    // The 256 KiB id echo keeps only the length and hash of its id.
    let big = cap
        .expect
        .iter()
        .find(|m| m.get("id_raw_len").is_some())
        .expect("a message with id_raw_len");
    assert!(field(big, "id_raw_len") > 256 * 1024);
    assert!(big.get("id_raw").is_none() && big.get("id").is_none());
}

#[test]
fn qsd_pretty_capture_is_consistent() {
    let cap = check_capture("qsd-pretty");
    let lines = split_lines(&cap.stream);
    assert!(lines.len() > cap.expect.len(), "pretty messages span lines");
    // Every message is a whole number of lines.
    let mut line_ends = std::collections::BTreeSet::new();
    let mut pos = 0;
    for l in &lines {
        pos += l.len();
        line_ends.insert(pos);
    }
    for m in &cap.expect {
        assert!(line_ends.contains(&(field(m, "offset") + field(m, "len"))));
    }
}

#[test]
fn qemu_qmp_client_capture_is_consistent() {
    let received = common::read_data("corpus/qemu.qmp-client/received.bin");
    let chunks = common::read_jsonl("corpus/qemu.qmp-client/received.jsonl");
    let joined: Vec<u8> = chunks
        .iter()
        .flat_map(|c| common::b64decode(c["b64"].as_str().expect("b64")))
        .collect();
    assert_eq!(joined, received);
    assert!(!received.contains(&b'\n'), "qemu.qmp sends no newlines");
    let sent = common::read_data("corpus/qemu.qmp-client/sent.bin");
    assert!(sent.starts_with(b"{\"QMP\": "));
    assert!(common::data_path("corpus/qemu.qmp-client/NOTES.txt").is_file());
}

#[test]
fn json_test_suite_is_present() {
    let dir = common::data_path("JSONTestSuite/test_parsing");
    let mut counts = [0usize; 3];
    for entry in std::fs::read_dir(&dir).expect("test_parsing exists") {
        let name = entry.expect("dir entry").file_name();
        let name = name.to_str().expect("ASCII file names");
        assert!(name.ends_with(".json"), "{name}");
        let k = match name.as_bytes()[0] {
            b'y' => 0,
            b'n' => 1,
            b'i' => 2,
            _ => panic!("unexpected file {name}"),
        };
        counts[k] += 1;
    }
    assert_eq!(
        counts.iter().sum::<usize>(),
        318,
        "y/n/i counts: {counts:?}"
    );
    assert!(common::data_path("JSONTestSuite/LICENSE").is_file());
}

#[test]
fn python_json_oracle_answers() {
    let Some(py) = common::python() else {
        eprintln!("skipped: no python3");
        return;
    };
    let out = common::run_python(
        &py,
        "json_dumps.py",
        &[],
        b"{\"a\": 1, \"a\": \"\xc3\xa9\"}\nNaN\n[1,\n",
    );
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON value per line"))
        .collect();
    let want = vec![
        serde_json::json!(["{\n  \"a\": \"\\u00e9\"\n}", "{\"a\":\"\\u00e9\"}"]),
        Value::Null,
        Value::Null,
    ];
    assert_eq!(lines, want);
}

#[test]
fn python_models_oracle_answers() {
    let Some(py) = common::python_with_qemu_qmp() else {
        eprintln!("skipped: no python with qemu.qmp");
        return;
    };
    let input = concat!(
        r#"{"model":"Greeting","msg":"{\"QMP\":{\"version\":{},\"capabilities\":[]}}"}"#,
        "\n",
        r#"{"model":"ErrorResponse","msg":"{\"error\":{\"class\":\"X\"}}"}"#,
        "\n",
    );
    let out = common::run_python(&py, "models.py", &[], input.as_bytes());
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        ["null", r#""'ErrorInfo' object requires 'desc' member""#]
    );
}
