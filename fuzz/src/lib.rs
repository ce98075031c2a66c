//! Harnesses of the fuzz targets that need more than the library: the serde_json oracle,
//! and the schema view and checker (which read the bundled schema capture).
//!
//! Every other target calls a harness in `qmp_codec::fuzz_harness` directly.

mod differential;
mod schema;

pub use crate::differential::differential;
pub use crate::schema::schema;
