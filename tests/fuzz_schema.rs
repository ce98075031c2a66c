//! Runs the fuzz crate's `schema` harness (the schema view and the command checker on
//! arbitrary bytes) on its seed corpus and on the capture's own commands, so `cargo test`
//! compiles and exercises it.

#[path = "../fuzz/src/schema.rs"]
mod schema;

mod common;

use std::path::Path;

#[test]
fn schema_harness_on_seed_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/schema");
    let mut all: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    all.sort();
    assert!(all.len() >= 8, "seed corpus too small: {}", all.len());
    for path in all {
        schema::schema(&std::fs::read(&path).unwrap());
    }
}

#[test]
fn schema_harness_on_truncated_schemas() {
    // Every prefix of a small schema that is still JSON, and the whole, with a command.
    let text = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/schema/schema-union-alternate"),
    )
    .unwrap();
    for end in 0..text.len() {
        schema::schema(&text[..end]);
    }
}
