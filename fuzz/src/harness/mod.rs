//! Fuzz harness bodies, one public function per `cargo fuzz` target (see `fuzz/README.md`).
//!
//! Each function takes arbitrary bytes and panics only when an invariant of `qmp-codec` is
//! broken: that panic is what the fuzzer reports. They use the crate's public API only, with
//! fixed buffers on the stack where they can; output too large for a buffer is checked by length.
//!
//! This directory is compiled twice: as the library of the fuzz crate (`fuzz/src/lib.rs`), which
//! the one-line targets in `fuzz/fuzz_targets/` call, and into the crate's own test suite
//! (`tests/fuzz_seeds.rs`, `tests/fuzz_regressions.rs`, `tests/fuzz_differential.rs` include it
//! with `#[path]`), so plain `cargo test` replays every committed seed without libFuzzer and the
//! library itself carries no fuzzing code. `feature = "arbitrary"` is qmp-codec's feature in the
//! test suite and the fuzz crate's own (always on) feature of the same name in the fuzz crate.

use core::fmt::{self, Write};

mod agent;
#[cfg(feature = "arbitrary")]
mod client;
mod decode_message;
mod differential;
mod framer;
mod message;
mod models;
#[cfg(feature = "arbitrary")]
mod roundtrip;
#[cfg(feature = "arbitrary")]
mod server;

pub use self::agent::{agent, run as agent_run, Seen as AgentSeen};
#[cfg(feature = "arbitrary")]
pub use self::client::client;
pub use self::decode_message::decode_message;
pub use self::differential::differential;
pub use self::framer::framer;
pub use self::message::message;
pub use self::models::models;
#[cfg(feature = "arbitrary")]
pub use self::roundtrip::roundtrip;
#[cfg(feature = "arbitrary")]
pub use self::server::server;

/// Counts the bytes written.
pub(crate) struct Count(usize);

impl Write for Count {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0 += s.len();
        Ok(())
    }
}

/// Length and FNV-1a hash of the bytes written: compares two printings without a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Digest {
    pub(crate) len: usize,
    hash: u64,
}

impl Digest {
    pub(crate) fn of(d: impl fmt::Display) -> Digest {
        let mut h = Digest {
            len: 0,
            hash: 0xcbf2_9ce4_8422_2325,
        };
        let _ = write!(h, "{d}");
        h
    }
}

impl Write for Digest {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            self.hash = (self.hash ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
        self.len += s.len();
        Ok(())
    }
}

/// Compares what is written against expected bytes.
pub(crate) struct Compare<'e> {
    expected: &'e [u8],
    pos: usize,
    same: bool,
}

impl<'e> Compare<'e> {
    pub(crate) fn new(expected: &'e [u8]) -> Self {
        Compare {
            expected,
            pos: 0,
            same: true,
        }
    }

    pub(crate) fn matched(&self) -> bool {
        self.same && self.pos == self.expected.len()
    }
}

impl Write for Compare<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.pos + s.len();
        self.same &= self.expected.get(self.pos..end) == Some(s.as_bytes());
        self.pos = end;
        Ok(())
    }
}

/// JSON's insignificant whitespace (RFC 8259): space, tab, line feed, carriage return.
fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// `b` without surrounding JSON whitespace.
pub(crate) fn trim_ws(mut b: &[u8]) -> &[u8] {
    while let [c, rest @ ..] = b {
        if !is_ws(*c) {
            break;
        }
        b = rest;
    }
    while let [rest @ .., c] = b {
        if !is_ws(*c) {
            break;
        }
        b = rest;
    }
    b
}
