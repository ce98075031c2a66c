//! Runs every fuzz harness on its committed seed corpus under `fuzz/corpus/<target>/`, so plain
//! `cargo test` (no libFuzzer, no nightly) exercises the harnesses on real traffic and checks
//! that the seeds stay in place. The harness bodies are the fuzz crate's own sources, compiled
//! in here; their unit tests (`harness::*::tests`) run here too.

use std::path::{Path, PathBuf};

#[path = "../fuzz/src/harness/mod.rs"]
mod harness;

fn seeds(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, bytes)
        })
        .collect()
}

#[test]
fn message_seeds() {
    let all = seeds("message");
    assert!(all.len() >= 100, "{} seeds", all.len());
    // The seeds are mostly real QEMU traffic, which parses.
    let parsed = all
        .iter()
        .filter(|(_, b)| qmp_codec::Message::parse(b).is_ok())
        .count();
    assert!(
        parsed * 2 > all.len(),
        "only {parsed} of {} seeds parse",
        all.len()
    );
    for (_, bytes) in &all {
        harness::message(bytes);
    }
}

#[test]
fn framer_seeds() {
    let all = seeds("framer");
    assert!(all.len() >= 5);
    for (_, bytes) in &all {
        harness::framer(bytes);
    }
}

#[test]
fn models_seeds() {
    let all = seeds("models");
    assert!(all.len() >= 50);
    let classified = all
        .iter()
        .filter_map(|(_, b)| qmp_codec::Message::parse(b).ok())
        .filter(|m| m.classify().is_ok())
        .count();
    assert!(classified > 40, "only {classified} seeds classify");
    for (_, bytes) in &all {
        harness::models(bytes);
    }
}

/// The targets built on the `arbitrary` feature: any bytes are valid input for them.
#[cfg(feature = "arbitrary")]
#[test]
fn arbitrary_driven_seeds() {
    for (target, run) in [
        ("roundtrip", harness::roundtrip as fn(&[u8])),
        ("client", harness::client),
        ("server", harness::server),
    ] {
        let all = seeds(target);
        assert!(all.len() >= 10, "{target}: {} seeds", all.len());
        for (_, bytes) in &all {
            run(bytes);
        }
    }
}

#[test]
fn decode_message_seeds() {
    let all = seeds("decode_message");
    assert!(all.len() >= 10);
    for (_, bytes) in &all {
        harness::decode_message(bytes);
    }
}

#[test]
fn differential_seeds() {
    let all = seeds("differential");
    assert!(all.len() >= 50, "{} seeds", all.len());
    for (_, bytes) in &all {
        harness::differential(bytes);
    }
}

#[test]
fn agent_seeds() {
    let all = seeds("agent");
    assert!(all.len() >= 10, "{} seeds", all.len());
    let mut total = harness::AgentSeen::default();
    for (_, bytes) in &all {
        // The target's entry point, then the same run with its counts.
        harness::agent(bytes);
        let seen = harness::agent_run(bytes);
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
        total.refused += seen.refused;
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
        ("refused", t.refused),
    ] {
        assert!(n > 0, "no seed reaches {name}: {t:?}");
    }
}
