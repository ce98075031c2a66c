//! Messages kept in `bytes::Bytes` (feature `bytes`).

use bytes::Bytes;
use core::fmt;

use crate::limits::Limits;
use crate::message::{Layout, Message};
use crate::owned::OwnedParseError;

/// A message that owns its frame as [`Bytes`]: validated once, viewed without copying.
///
/// The scan results are kept next to the bytes, so [`message`](Self::message) rebuilds
/// the [`Message`] view without scanning again. Cloning shares the bytes.
///
/// ```
/// use bytes::Bytes;
/// use qmp_codec::{BytesMessage, Kind};
/// let frame = Bytes::from_static(b"{\"return\": {}, \"id\": 1}\r\n");
/// let msg = BytesMessage::parse(frame)?;
/// assert_eq!(msg.message().kind(), Kind::Return);
/// assert_eq!(msg.message().id().unwrap().as_i64(), Some(1));
/// # Ok::<(), qmp_codec::OwnedParseError>(())
/// ```
#[derive(Clone)]
pub struct BytesMessage {
    bytes: Bytes,
    layout: Layout,
}

impl BytesMessage {
    /// Validates `bytes` as one message with the default [`Limits`].
    pub fn parse(bytes: Bytes) -> Result<BytesMessage, OwnedParseError> {
        BytesMessage::parse_with(bytes, &Limits::new())
    }

    /// Validates `bytes` as one message with the given limits.
    pub fn parse_with(bytes: Bytes, limits: &Limits) -> Result<BytesMessage, OwnedParseError> {
        let layout = Message::parse_with(&bytes, limits)?.layout();
        Ok(BytesMessage { bytes, layout })
    }

    /// The message view, without scanning again.
    pub fn message(&self) -> Message<'_> {
        Message::with_layout(&self.bytes, self.layout)
    }

    /// The frame's bytes.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// Gives the frame's bytes back.
    pub fn into_bytes(self) -> Bytes {
        self.bytes
    }
}

impl fmt::Debug for BytesMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.message(), f)
    }
}

impl fmt::Display for BytesMessage {
    /// Python's `str(msg)`: `json.dumps(obj, indent=2)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.message(), f)
    }
}

impl PartialEq for BytesMessage {
    /// Equal when the bytes are.
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}
