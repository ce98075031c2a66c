//! qmp-codec: a zero-copy, `no_std`, sans-IO codec for QEMU's QMP protocol.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
