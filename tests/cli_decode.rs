//! `qmp decode`: the binary driven on the bundled captures, on stdin, on bad input, and
//! compared with Python's `json.dumps` for the message formats.
#![cfg(feature = "cli")]

mod common;

use std::process::{Command, Stdio};

use common::cli::{qmp, qmp_ok};

use serde_json::{json, Value};

fn data_arg(rel: &str) -> String {
    common::data_path(rel)
        .to_str()
        .expect("UTF-8 path")
        .to_owned()
}

/// The summary lines of `text`, each checked to be ASCII-only JSON, as serde values. Lines
/// nested deeper than serde_json's limit (one id of 1000 nested arrays) come back as
/// `Value::Null` after a check that the crate's own strict parser accepts them.
fn summary_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|line| {
            assert!(line.is_ascii(), "not ASCII: {line}");
            match serde_json::from_str::<Value>(line) {
                Ok(v) => {
                    assert!(v.is_object(), "not an object: {line}");
                    v
                }
                Err(e) => {
                    assert!(e.to_string().contains("recursion limit"), "{e}: {line}");
                    qmp_codec::Message::parse(line.as_bytes()).expect("valid JSON");
                    Value::Null
                }
            }
        })
        .collect()
}

/// The keys of a summary line, in order (the raw text is scanned: serde_json sorts them).
fn keys_in_order(line: &str) -> Vec<String> {
    let msg = qmp_codec::Message::parse(line.as_bytes()).expect("summary is an object");
    msg.iter().map(|(k, _)| k.to_string()).collect()
}

/// Whether the `id` printed in the summary line `raw` equals `want` by value, or for a
/// number is the text QEMU sent (`id_raw`): numbers are printed as written, and serde_json's
/// float parsing is not correctly rounded, so texts are compared.
fn same_id(raw: &str, want: &Value, id_raw: Option<&str>) -> bool {
    let msg = qmp_codec::Message::parse(raw.as_bytes()).expect("summary is an object");
    let Some(id) = msg.id() else { return false };
    match (id.as_number(), id_raw) {
        (Some(text), Some(id_raw)) => text == id_raw,
        _ => serde_json::from_slice::<Value>(id.raw()).expect("id is JSON") == *want,
    }
}

/// Checks the summaries of the `qsd` capture against expect.jsonl.
fn check_qsd_summaries(text: &str) {
    let expect = common::read_expect("qsd");
    let stream = common::read_data("corpus/qsd/stream.bin");
    let lines = summary_lines(text);
    let raw_lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), expect.len(), "one line per message");
    for ((got, raw), want) in lines.iter().zip(&raw_lines).zip(&expect) {
        let seq = &want["seq"];
        let offset = common::field(want, "offset");
        let body_len = common::field(want, "body_len");
        if got.is_null() {
            // The deep id (seq 78): compare its text, QEMU's spaces removed.
            let id_raw = want["id_raw"].as_str().expect("id_raw").replace(' ', "");
            assert!(raw.contains(&format!("\"id\":{id_raw},")), "seq {seq}");
            assert!(raw.starts_with(&format!("{{\"offset\":{offset},\"len\":{body_len},")));
            continue;
        }
        assert_eq!(got["offset"], json!(offset), "seq {seq}");
        assert_eq!(got["len"], json!(body_len), "seq {seq}");
        if want["strict_json"] == json!(false) {
            assert_eq!(got["error"], "deserialization", "seq {seq}: {got}");
            assert!(got["detail"]
                .as_str()
                .unwrap()
                .starts_with("Failed to deserialize"));
            assert_eq!(keys_in_order(raw), ["offset", "len", "error", "detail"]);
            continue;
        }
        assert_eq!(got["kind"], want["kind"], "seq {seq}");
        // The id, by value.
        if want["id_present"] == json!(true) {
            let id = if let Some(id) = want.get("id") {
                id.clone()
            } else if let Some(raw_id) = want.get("id_raw") {
                serde_json::from_str(raw_id.as_str().unwrap()).expect("id_raw is JSON")
            } else {
                // The 256 KiB id: read it from the stream itself.
                let bytes = &stream[offset..offset + body_len];
                let msg: Value = serde_json::from_slice(bytes).expect("message is JSON");
                assert_eq!(
                    msg["id"].to_string().len(),
                    common::field(want, "id_raw_len"),
                    "seq {seq}: the id's length"
                );
                msg["id"].clone()
            };
            assert!(
                same_id(raw, &id, want["id_raw"].as_str()),
                "seq {seq}: {} != {id}",
                got["id"]
            );
        } else {
            assert!(got.get("id").is_none(), "seq {seq}: {got}");
        }
        let mut keys = vec!["offset", "len", "kind"];
        if want["id_present"] == json!(true) {
            keys.push("id");
        }
        match want["kind"].as_str().unwrap() {
            "error" => {
                assert_eq!(got["class"], want["error_class"], "seq {seq}");
                assert_eq!(got["desc"], want["error_desc"], "seq {seq}");
                keys.extend(["class", "desc"]);
            }
            "event" => {
                assert_eq!(got["event"], want["event"], "seq {seq}");
                assert_eq!(got["seconds"], want["timestamp"]["seconds"], "seq {seq}");
                assert_eq!(
                    got["microseconds"], want["timestamp"]["microseconds"],
                    "seq {seq}"
                );
                let data = want["keys"].as_array().unwrap().contains(&json!("data"));
                assert_eq!(got["data"], json!(data), "seq {seq}");
                keys.extend(["event", "seconds", "microseconds", "data"]);
            }
            "return" => {
                assert_eq!(got["return"], want["return_json_type"], "seq {seq}");
                keys.push("return");
            }
            "greeting" => {
                assert_eq!(got["version"], "10.0.2", "seq {seq}");
                assert!(got["package"].as_str().unwrap().contains("10.0.2"));
                assert_eq!(got["capabilities"], json!(["oob"]), "seq {seq}");
                keys.extend(["version", "package", "capabilities"]);
            }
            other => panic!("unexpected kind {other} in expect.jsonl"),
        }
        assert_eq!(keys_in_order(raw), keys, "seq {seq}: key order");
    }
}

#[test]
fn bundled_capture_matches_expect_at_every_chunk_size() {
    let mut first = None;
    for chunk in ["1", "7", "4096", "65536"] {
        let text = qmp_ok(&["decode", "--chunk", chunk], b"");
        check_qsd_summaries(&text);
        // Every chunking prints the same bytes.
        match &first {
            None => first = Some(text),
            Some(first) => assert!(*first == text, "chunk {chunk} differs"),
        }
    }
    // The default run is the README's command: same output.
    let text = qmp_ok(&["decode"], b"");
    assert!(first.as_deref() == Some(text.as_str()));
}

#[test]
fn file_and_stdin_give_the_bundled_output() {
    let bundled = qmp_ok(&["decode"], b"");
    let path = data_arg("corpus/qsd/stream.bin");
    let from_file = qmp_ok(&["decode", "--chunk", "4096", &path], b"");
    assert!(from_file == bundled, "file differs from bundled");
    let stream = common::read_data("corpus/qsd/stream.bin");
    let from_stdin = qmp_ok(&["decode", "--chunk", "7", "-"], &stream);
    assert!(from_stdin == bundled, "stdin differs from bundled");
}

#[test]
fn pretty_capture_with_stream_dialect() {
    let expect = common::read_expect("qsd-pretty");
    let path = data_arg("corpus/qsd-pretty/stream.bin");
    for chunk in ["1", "7", "65536"] {
        let text = qmp_ok(
            &["decode", "--dialect", "stream", "--chunk", chunk, &path],
            b"",
        );
        let lines = summary_lines(&text);
        assert_eq!(lines.len(), expect.len());
        for (got, want) in lines.iter().zip(&expect) {
            assert_eq!(got["offset"], want["offset"], "{got}");
            assert_eq!(got["len"], want["body_len"], "{got}");
            assert_eq!(got["kind"], want["kind"], "{got}");
            assert_eq!(got.get("id"), want.get("id"), "{got}");
        }
    }
    // Line framing cannot read pretty output: every line is a bad frame.
    let text = qmp_ok(&["decode", &path], b"");
    let lines = summary_lines(&text);
    assert!(lines.len() > expect.len());
    assert!(lines
        .iter()
        .all(|l| l["error"] == "deserialization" || l["error"] == "unexpected-type"));
}

#[test]
fn qemu_qmp_client_commands_with_stream_dialect() {
    let sent = common::read_jsonl("corpus/qemu.qmp-client/received.jsonl");
    let path = data_arg("corpus/qemu.qmp-client/received.bin");
    let text = qmp_ok(
        &["decode", "--dialect", "stream", "--chunk", "5", &path],
        b"",
    );
    let lines = summary_lines(&text);
    assert_eq!(lines.len(), sent.len());
    let mut offset = 0;
    for (got, write) in lines.iter().zip(&sent) {
        let cmd: Value = serde_json::from_str(write["text"].as_str().unwrap()).unwrap();
        let len = common::field(write, "len");
        let oob = cmd.get("exec-oob").is_some();
        let name = cmd.get("execute").or(cmd.get("exec-oob")).unwrap();
        let mut want = json!({
            "offset": offset,
            "len": len,
            "kind": "command",
            "execute": name,
            "oob": oob,
            "arguments": cmd.get("arguments").is_some(),
        });
        if let Some(id) = cmd.get("id") {
            want["id"] = id.clone();
        }
        assert_eq!(*got, want);
        offset += len;
    }
    // No newline between commands: line framing sees one long bad line.
    let text = qmp_ok(&["decode", &path], b"");
    let lines = summary_lines(&text);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["error"], "deserialization");
}

#[test]
fn server_lines_on_stdin() {
    let stream = common::read_data("corpus/qemu.qmp-client/sent.bin");
    let text = qmp_ok(&["decode", "-"], &stream);
    let lines = summary_lines(&text);
    let mut offset = 0;
    let mut got = lines.iter();
    for line in stream.split_inclusive(|&b| b == b'\n') {
        let body = line.strip_suffix(b"\n").unwrap_or(line);
        let body = body.strip_suffix(b"\r").unwrap_or(body);
        if body.is_empty() {
            offset += line.len();
            continue;
        }
        let msg: Value = serde_json::from_slice(body).unwrap();
        let g = got.next().expect("a line per message");
        assert_eq!(g["offset"], json!(offset));
        assert_eq!(g["len"], json!(body.len()));
        assert_eq!(g.get("id"), msg.get("id"));
        let kind = ["QMP", "event", "error", "return"]
            .iter()
            .zip(["greeting", "event", "error", "return"])
            .find(|(k, _)| msg.get(**k).is_some())
            .map(|(_, kind)| kind)
            .unwrap();
        assert_eq!(g["kind"], kind);
        match kind {
            "greeting" => {
                assert_eq!(g["version"], "0.1.0");
                assert_eq!(g["package"], "stub-server");
            }
            "event" => {
                assert_eq!(g["event"], msg["event"]);
                assert_eq!(g["seconds"], msg["timestamp"]["seconds"]);
                assert_eq!(g["data"], true);
            }
            "error" => {
                assert_eq!(g["class"], msg["error"]["class"]);
                assert_eq!(g["desc"], msg["error"]["desc"]);
            }
            _ => assert_eq!(g["return"], "object"),
        }
        offset += line.len();
    }
    assert!(got.next().is_none());
}

#[test]
fn bad_frames_lines_dialect() {
    let long = format!("{{\"return\": \"{}\"}}", "x".repeat(100));
    let input = format!(
        "{{\"return\": {{}}}}\r\n{long}\r\nnot json\r\n[1, 2]\r\n\r\n{{\"event\": \"STOP\"}}\r\n{{\"error\": {{\"class\": \"GenericError\", \"desc\": \"caf\\u00e9 \\\"q\\\"\"}}}}"
    );
    let text = qmp_ok(
        &["decode", "--max-frame", "64", "--chunk", "3", "-"],
        input.as_bytes(),
    );
    let lines = summary_lines(&text);
    let off_long = 16;
    let off_junk = off_long + long.len() + 2;
    let off_array = off_junk + 10;
    let off_stop = off_array + 8 + 2;
    let off_err = off_stop + 19;
    assert_eq!(
        lines,
        vec![
            json!({"offset": 0, "len": 14, "kind": "return", "return": "object"}),
            json!({"offset": off_long, "len": long.len(), "error": "too-long",
                   "detail": format!("frame at offset {off_long} too long ({} bytes)", long.len())}),
            json!({"offset": off_junk, "len": 8, "error": "deserialization",
                   "detail": "Failed to deserialize QMP message: invalid literal at byte 1"}),
            json!({"offset": off_array, "len": 6, "error": "unexpected-type",
                   "detail": "QMP message is not a JSON object (found array)"}),
            json!({"offset": off_stop, "len": 17, "kind": "event", "event": "STOP", "data": false}),
            json!({"offset": off_err, "len": 63, "kind": "error", "class": "GenericError",
                   "desc": "caf\u{e9} \"q\""}),
        ]
    );
    // The desc is re-escaped ASCII-only, as Python's json.dumps does.
    assert!(text.contains(r#""desc":"caf\u00e9 \"q\""}"#), "{text}");
}

#[test]
fn bad_frames_stream_dialect() {
    let input = b"{\"execute\": \"a\"}} %{\"exec-oob\": \"b\", \"id\": [1], \"arguments\": {}} \"s\" {\"execute\": \"c\", ";
    let text = qmp_ok(
        &["decode", "--dialect", "stream", "--chunk", "1", "-"],
        input,
    );
    let lines = summary_lines(&text);
    assert_eq!(
        lines,
        vec![
            json!({"offset": 0, "len": 16, "kind": "command", "execute": "a", "oob": false,
                   "arguments": false}),
            json!({"offset": 16, "len": 1, "error": "stray", "detail": "stray '}' at offset 16"}),
            json!({"offset": 18, "len": 1, "error": "lexical",
                   "detail": "JSON lexical error at offset 18: unexpected byte 0x25"}),
            json!({"offset": 19, "len": 45, "kind": "command", "id": [1], "execute": "b",
                   "oob": true, "arguments": true}),
            json!({"offset": 65, "len": 3, "error": "unexpected-type",
                   "detail": "QMP message is not a JSON object (found string)"}),
            json!({"offset": 69, "len": 17, "error": "truncated",
                   "detail": "stream ended inside a frame at offset 69 (17 bytes)"}),
        ]
    );
}

#[test]
fn unknown_kind_and_event_without_timestamp() {
    let input = b"{}\n{\"x\": 1, \"id\": null}\n{\"event\": \"E\", \"data\": {}}\n";
    let text = qmp_ok(&["decode", "-"], input);
    assert_eq!(
        text,
        "{\"offset\":0,\"len\":2,\"kind\":\"unknown\"}\n\
         {\"offset\":3,\"len\":20,\"kind\":\"unknown\",\"id\":null}\n\
         {\"offset\":24,\"len\":26,\"kind\":\"event\",\"event\":\"E\",\"data\":true}\n"
    );
}

/// Whether Python would print a number of this message differently from its text: floats
/// (`1.0e2` becomes `100.0`) and `-0` (becomes `0`). The crate's printers keep numbers as
/// written, so those messages are left out of the comparison.
fn python_reprints_a_number(v: qmp_codec::Value<'_>) -> bool {
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

/// `--format pretty` and `--format compact` print what Python's json.dumps prints.
#[test]
fn pretty_and_compact_formats_match_python() {
    let Some(python) = common::python() else {
        eprintln!("skipped: no Python");
        return;
    };
    let capture = common::Capture::load("qsd");
    let mut input = Vec::new();
    let mut left_out = 0;
    for m in capture.messages() {
        match qmp_codec::Message::parse(m) {
            Ok(msg) if python_reprints_a_number(msg.as_value()) => left_out += 1,
            _ => input.extend_from_slice(m),
        }
    }
    assert!(left_out < 30, "{left_out} messages left out");
    let oracle = common::run_python(&python, "json_dumps.py", &[], &input);
    let mut pretty = String::new();
    let mut compact = String::new();
    let mut rejected = 0;
    for line in oracle.lines() {
        match serde_json::from_str::<Value>(line).unwrap() {
            Value::Array(pair) => {
                pretty.push_str(pair[0].as_str().unwrap());
                pretty.push('\n');
                compact.push_str(pair[1].as_str().unwrap());
                compact.push('\n');
            }
            Value::Null => rejected += 1,
            other => panic!("oracle printed {other}"),
        }
    }
    assert_eq!(rejected, 2, "the two `inf` ids");
    assert!(pretty.len() > 400_000);
    let out = qmp(
        &["decode", "--format", "pretty", "--chunk", "999", "-"],
        &input,
    );
    assert!(out.status.success());
    let got = String::from_utf8(out.stdout).unwrap();
    if got != pretty {
        let at = got
            .bytes()
            .zip(pretty.bytes())
            .take_while(|(a, b)| a == b)
            .count();
        panic!(
            "pretty differs from Python at byte {at}: {:?}",
            &got[at.saturating_sub(80)..(at + 80).min(got.len())]
        );
    }
    // The bad frames go to stderr, as summary lines.
    let errors = summary_lines(std::str::from_utf8(&out.stderr).unwrap());
    assert_eq!(errors.len(), 2);
    assert!(errors.iter().all(|e| e["error"] == "deserialization"));
    let got = qmp_ok(&["decode", "--format", "compact", "-"], &input);
    assert!(got == compact, "compact differs from Python");
}

/// A message that breaks its model carries the model error's text in `"invalid"`; for
/// greetings and errors it is what `qemu.qmp`'s models raise.
#[test]
fn invalid_messages_carry_the_model_error() {
    let greetings = [
        r#"{"QMP": {"version": {}}}"#,
        r#"{"QMP": []}"#,
        r#"{"QMP": {"version": {"qemu": {"major": 1, "minor": 2, "micro": 3}, "package": ""}, "capabilities": "oob"}}"#,
        r#"{"QMP": {"capabilities": []}}"#,
    ];
    let errors = [
        r#"{"error": {"class": "X"}, "id": 1}"#,
        r#"{"error": {"desc": "d"}}"#,
        r#"{"error": "GenericError"}"#,
        r#"{"error": {"class": 7, "desc": "d"}, "return": {}}"#,
    ];
    let mut input = String::new();
    for m in greetings.iter().chain(&errors) {
        input.push_str(m);
        input.push_str("\r\n");
    }
    let text = qmp_ok(&["decode", "-"], input.as_bytes());
    let got = summary_lines(&text);
    assert_eq!(got.len(), greetings.len() + errors.len());
    for (line, m) in got.iter().zip(greetings.iter().chain(&errors)) {
        assert!(line["invalid"].is_string(), "{m} -> {line}");
    }
    // The reference's own texts (a missing qemu.qmp fails the test unless QMP_ALLOW_SKIP=1).
    if let Some(python) = common::python_with_qemu_qmp() {
        let mut requests = String::new();
        for (model, list) in [("Greeting", &greetings), ("ErrorResponse", &errors)] {
            for m in list.iter() {
                requests.push_str(&json!({"model": model, "msg": m}).to_string());
                requests.push('\n');
            }
        }
        let oracle = common::run_python(&python, "models.py", &[], requests.as_bytes());
        let want: Vec<Value> = oracle
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(want.len(), got.len());
        for (i, (line, want)) in got.iter().zip(&want).enumerate() {
            if i == 2 {
                // The reference accepts a string `capabilities` (a known fault, not copied).
                assert!(want.is_null(), "{want}");
                continue;
            }
            assert!(want.is_string(), "the oracle accepted a message: {line}");
            assert_eq!(line["invalid"], *want);
        }
    } else {
        eprintln!("qemu.qmp not found: only the presence of `invalid` was checked");
    }
    // Kinds qemu.qmp has no model for: events, commands (QEMU's own texts), timestamps.
    let input = b"{\"event\": 1}\n{\"execute\": \"x\", \"foo\": 1}\n{\"event\": \"E\", \"timestamp\": {\"seconds\": 1.5, \"microseconds\": 0}}\n{\"return\": 1}\n";
    let text = qmp_ok(&["decode", "-"], input);
    let got = summary_lines(&text);
    assert_eq!(got[0]["invalid"], "'Event' member 'event' must be a string");
    assert_eq!(got[1]["invalid"], "QMP input member 'foo' is unexpected");
    assert_eq!(
        got[2]["invalid"],
        "'Timestamp' member 'seconds' must be an integer"
    );
    assert_eq!(got[2]["seconds"], 1.5);
    assert!(got[3].get("invalid").is_none());
    assert_eq!(got[3]["return"], "number");
    assert_eq!(
        keys_in_order(text.lines().nth(1).unwrap()),
        [
            "offset",
            "len",
            "kind",
            "execute",
            "oob",
            "arguments",
            "invalid"
        ]
    );
    // The real captures break no model.
    assert!(!qmp_ok(&["decode"], b"").contains("\"invalid\""));
}

#[test]
fn exit_codes() {
    let out = qmp(&["decode", "/nonexistent/capture.bin"], b"");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/capture.bin"), "{err}");
    assert!(out.stdout.is_empty());
    for args in [
        &["decode", "--bogus"][..],
        &["decode", "--chunk", "0"],
        &["decode", "--dialect", "xml"],
        &["decode", "--format", "yaml"],
        &["decode", "--max-frame", "-1"],
        &["nope"],
        &[],
    ] {
        let out = qmp(args, b"");
        assert_eq!(out.status.code(), Some(2), "qmp {args:?}");
        assert!(!out.stderr.is_empty(), "qmp {args:?} says why");
    }
    // A directory cannot be read: an I/O error, exit 2.
    let out = qmp(&["decode", env!("CARGO_MANIFEST_DIR")], b"");
    assert_eq!(out.status.code(), Some(2));
    // Empty input is fine: nothing to print.
    assert_eq!(qmp_ok(&["decode", "-"], b""), "");
}

#[test]
fn closed_output_pipe_ends_quietly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_qmp"))
        .args(["decode", "--chunk", "1"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 10];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    assert_eq!(&first, b"{\"offset\":");
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
