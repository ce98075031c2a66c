//! Harnesses of the fuzz targets that live in the fuzz crate: the serde_json oracle and the
//! guest agent engine.
//!
//! Every other target calls a harness in `qmp_codec::fuzz_harness` directly.

mod agent;
mod differential;

pub use crate::agent::agent;
pub use crate::differential::differential;
