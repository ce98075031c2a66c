//! Harnesses of the fuzz targets that need more than the library: the serde_json oracle.
//!
//! Every other target calls a harness in `qmp_codec::fuzz_harness` directly.

mod differential;

pub use crate::differential::differential;
