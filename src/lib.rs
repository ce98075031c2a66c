//! qmp-codec: a zero-copy, `no_std`, sans-IO codec for QEMU's QMP protocol.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "bytes")]
pub mod codec;
pub mod framer;
pub mod read_buffer;

pub use framer::{
    Decoded, Dialect, Frame, FrameError, Framer, FramerConfig, LexicalKind, Status,
    DEFAULT_MAX_FRAME_LEN,
};
pub use read_buffer::ReadBuffer;
