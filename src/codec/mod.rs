//! Convenience layers over the [`Framer`](crate::Framer) for buffer types of other crates.
//!
//! - `bytes` feature: [`BytesFramer`](bytes::BytesFramer) decodes from a `bytes::BytesMut`
//!   into zero-copy `bytes::Bytes` frames.
//! - `tokio` feature: [`QmpCodec`](tokio::QmpCodec), a `tokio_util::codec` decoder and
//!   encoder built on `BytesFramer`.
//!
//! Neither re-implements framing: both call the sans-IO framer.

#[cfg(feature = "bytes")]
pub mod bytes;
#[cfg(feature = "tokio")]
pub mod tokio;
