//! Runs the fuzz crate's `differential` harness (our parser against serde_json) on the
//! JSONTestSuite files and on the documented differences, so the harness is exercised by
//! `cargo test` beyond its seed corpus (which `tests/fuzz_seeds.rs` replays).

#[allow(dead_code, unused_imports)]
#[path = "../fuzz/src/harness/mod.rs"]
mod harness;

use harness::differential;

mod common;

use std::path::Path;

fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    v.sort();
    v
}

#[test]
fn differential_harness_agrees_on_json_test_suite() {
    let dir = common::data_path("JSONTestSuite/test_parsing");
    let all = files(&dir);
    assert!(all.len() > 300);
    for path in all {
        let bytes = std::fs::read(&path).unwrap();
        differential(&bytes);
    }
}

#[test]
fn differential_harness_accepts_documented_differences() {
    for input in [
        &b"{\"a\": 1, \"a\": 2}"[..],
        b"{\"id\": 1e400}",
        b"{\"id\": -1e400, \"x\": [1E+999]}",
        b"[1, \"two\", {\"three\": 3.0}]",
        b"\"\\ud83d\\ude00\"",
        b"{\"a\": {\"b\": 1, \"b\": [2]}}",
        b"{\"n\": [-0, 0.1, 1e-400, 18446744073709551616, -9223372036854775809]}",
    ] {
        differential(input);
    }
    let deep = format!("{{\"a\":{}{}}}", "[".repeat(200), "]".repeat(200));
    differential(deep.as_bytes());
    let many: String = (0..130).map(|i| format!("\"k{i}\":{i},")).collect();
    differential(format!("{{{}\"end\":0}}", many).as_bytes());
}
