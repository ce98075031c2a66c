//! Runs the fuzz crate's `differential` harness (our parser against serde_json) on the seed
//! corpus and on the JSONTestSuite files, so the harness is compiled and exercised by
//! `cargo test` and stays in step with the library.

#[path = "../fuzz/src/differential.rs"]
mod differential;

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
        differential::differential(&bytes);
    }
}

#[test]
fn differential_harness_agrees_on_seed_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/differential");
    let all = files(&dir);
    assert!(all.len() >= 50, "seed corpus too small: {}", all.len());
    for path in all {
        differential::differential(&std::fs::read(&path).unwrap());
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
        differential::differential(input);
    }
    let deep = format!("{{\"a\":{}{}}}", "[".repeat(200), "]".repeat(200));
    differential::differential(deep.as_bytes());
    let many: String = (0..130).map(|i| format!("\"k{i}\":{i},")).collect();
    differential::differential(format!("{{{}\"end\":0}}", many).as_bytes());
}
