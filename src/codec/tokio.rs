//! A `tokio_util::codec` decoder and encoder over the framer.

extern crate std;

use std::io;

use bytes::{BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use super::bytes::BytesFramer;
use crate::framer::{FrameError, FramerConfig};

/// A `tokio_util` codec for QMP.
///
/// Decoding yields `Result<Bytes, FrameError>` items: a bad frame is an `Ok(Some(Err(_)))`
/// item, never the decoder's own error, because `FramedRead` ends the stream after its first
/// error and one bad message must not close the connection. The decoder's error is only
/// `io::Error` from the transport. At end of stream, [`decode_eof`](Decoder::decode_eof)
/// applies the framer's end-of-stream rule (see [`crate::Framer::finish`]).
///
/// Encoding writes a message that is already JSON (`&[u8]` or `Bytes`) followed by the
/// terminator, `\r\n` by default (harmless to QEMU, required by line-framed peers).
///
/// ```
/// use futures::StreamExt;
/// use qmp_codec::codec::tokio::QmpCodec;
/// use tokio_util::codec::FramedRead;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let input: &[u8] = b"{\"return\": {}}\r\n";
/// let mut frames = FramedRead::new(input, QmpCodec::default());
/// let frame = frames.next().await.unwrap().unwrap().unwrap();
/// assert_eq!(&frame[..], b"{\"return\": {}}");
/// assert!(frames.next().await.is_none());
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct QmpCodec {
    framer: BytesFramer,
    terminator: &'static [u8],
}

impl Default for QmpCodec {
    fn default() -> Self {
        Self::new(FramerConfig::new())
    }
}

impl QmpCodec {
    /// A codec framing input with `config`, writing `\r\n` after each message.
    pub const fn new(config: FramerConfig) -> Self {
        QmpCodec {
            framer: BytesFramer::new(config),
            terminator: b"\r\n",
        }
    }

    /// Sets the bytes written after each encoded message (default `\r\n`; may be empty, as
    /// QEMU's input side needs none).
    #[must_use]
    pub const fn with_terminator(mut self, terminator: &'static [u8]) -> Self {
        self.terminator = terminator;
        self
    }

    /// The underlying framer.
    pub fn framer(&self) -> &BytesFramer {
        &self.framer
    }
}

impl Decoder for QmpCodec {
    type Item = Result<Bytes, FrameError>;
    type Error = io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>, io::Error> {
        Ok(self.framer.decode(src))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>, io::Error> {
        Ok(self.framer.decode_eof(src))
    }
}

impl Encoder<&[u8]> for QmpCodec {
    type Error = io::Error;

    fn encode(&mut self, message: &[u8], dst: &mut BytesMut) -> Result<(), io::Error> {
        dst.reserve(message.len().saturating_add(self.terminator.len()));
        dst.put_slice(message);
        dst.put_slice(self.terminator);
        Ok(())
    }
}

impl Encoder<Bytes> for QmpCodec {
    type Error = io::Error;

    fn encode(&mut self, message: Bytes, dst: &mut BytesMut) -> Result<(), io::Error> {
        self.encode(&message[..], dst)
    }
}
