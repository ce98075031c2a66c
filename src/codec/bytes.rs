//! Framing out of a `bytes::BytesMut` into `bytes::Bytes` frames.

use bytes::{Buf, Bytes, BytesMut};

use crate::framer::{FrameError, Framer, FramerConfig, Status};

/// A [`Framer`] that takes its input from a `BytesMut` and hands out frames as `Bytes`
/// sharing that buffer's memory, so a parsed message can borrow from the frame.
///
/// Consumed bytes are removed from the `BytesMut` as the framer reports them, including the
/// bytes of a too-long frame while it is being skipped, so the buffer stays within
/// [`FramerConfig::max_frame_len`] plus one read.
///
/// ```
/// use bytes::BytesMut;
/// use qmp_codec::codec::bytes::BytesFramer;
/// let mut framer = BytesFramer::default();
/// let mut buf = BytesMut::from(&b"{\"return\": {}}\r\n{\"ev"[..]);
/// let frame = framer.decode(&mut buf).unwrap().unwrap();
/// assert_eq!(&frame[..], b"{\"return\": {}}");
/// assert!(framer.decode(&mut buf).is_none());
/// assert_eq!(&buf[..], b"{\"ev");
/// ```
#[derive(Clone, Debug, Default)]
pub struct BytesFramer {
    framer: Framer,
}

impl BytesFramer {
    /// A framer with this configuration.
    pub const fn new(config: FramerConfig) -> Self {
        BytesFramer {
            framer: Framer::new(config),
        }
    }

    /// The next frame, an error for a bad one (its bytes are dropped), or `None` when more
    /// bytes are needed. Consumed bytes are removed from `src`.
    pub fn decode(&mut self, src: &mut BytesMut) -> Option<Result<Bytes, FrameError>> {
        let decoded = self.framer.decode(src);
        Self::take(src, decoded)
    }

    /// Like [`decode`](Self::decode) at end of stream (see [`Framer::finish`]): `None` means
    /// everything was taken; `src` is then empty and the framer ready for a new stream.
    pub fn decode_eof(&mut self, src: &mut BytesMut) -> Option<Result<Bytes, FrameError>> {
        let decoded = self.framer.finish(src);
        Self::take(src, decoded)
    }

    fn take(src: &mut BytesMut, decoded: crate::Decoded) -> Option<Result<Bytes, FrameError>> {
        // The framer never reports more than it was given; `min` keeps that from panicking.
        let consumed = decoded.consumed.min(src.len());
        match decoded.status {
            Ok(Status::Complete(frame)) => {
                let bytes = src.split_to(consumed).freeze();
                let end = frame.end.min(bytes.len());
                let start = frame.start.min(end);
                Some(Ok(bytes.slice(start..end)))
            }
            Ok(Status::Partial) => {
                src.advance(consumed);
                None
            }
            Err(error) => {
                src.advance(consumed);
                Some(Err(error))
            }
        }
    }

    /// The underlying framer.
    pub fn framer(&self) -> &Framer {
        &self.framer
    }

    /// Forgets all state, for a new stream.
    pub fn reset(&mut self) {
        self.framer.reset();
    }
}

impl From<Framer> for BytesFramer {
    fn from(framer: Framer) -> Self {
        BytesFramer { framer }
    }
}
