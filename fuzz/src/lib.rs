//! The fuzz crate's library: every harness body, one public function per target.
//!
//! The targets in `fuzz/fuzz_targets/` are one-liners calling these; the harness sources under
//! `src/harness/` are also compiled into qmp-codec's test suite, which replays the committed
//! seeds with plain `cargo test` (see `harness/mod.rs` and `fuzz/README.md`).

mod harness;
mod schema;

pub use crate::harness::*;
pub use crate::schema::schema;
