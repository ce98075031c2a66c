//! Runs the fuzz crate's `agent` harness (the guest agent engine against a model) on its seed
//! corpus, so the harness is compiled and exercised by `cargo test`.

#[path = "../fuzz/src/agent.rs"]
mod agent;

use std::path::Path;

#[test]
fn agent_harness_on_seed_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/agent");
    let mut all: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    all.sort();
    assert!(all.len() >= 10, "seed corpus too small: {}", all.len());
    for path in all {
        agent::agent(&std::fs::read(&path).unwrap());
    }
}
