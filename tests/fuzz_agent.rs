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
    let mut total = agent::Seen::default();
    for path in all {
        let bytes = std::fs::read(&path).unwrap();
        // The fuzz target's entry point, then the same run with its counts.
        agent::agent(&bytes);
        let seen = agent::run(&bytes);
        total.synced += seen.synced;
        total.reply += seen.reply;
        total.sent += seen.sent;
        total.no_reply_failed += seen.no_reply_failed;
        total.stale += seen.stale;
        total.unmatched += seen.unmatched;
        total.violation += seen.violation;
        total.timed_out += seen.timed_out;
        total.sync_timed_out += seen.sync_timed_out;
        total.interrupted += seen.interrupted;
        total.closed += seen.closed;
    }
    // The seeds reach every event the engine has.
    let t = total;
    for (name, n) in [
        ("synced", t.synced),
        ("reply", t.reply),
        ("sent", t.sent),
        ("no_reply_failed", t.no_reply_failed),
        ("stale", t.stale),
        ("unmatched", t.unmatched),
        ("violation", t.violation),
        ("timed_out", t.timed_out),
        ("sync_timed_out", t.sync_timed_out),
        ("interrupted", t.interrupted),
        ("closed", t.closed),
    ] {
        assert!(n > 0, "no seed reaches {name}: {t:?}");
    }
}
