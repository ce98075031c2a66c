//! [`ReadBuffer`]: the usual read loop around a [`Framer`], over storage the caller owns.

use crate::framer::{Decoded, DecodedMessage, FrameError, Framer, FramerConfig, Status};
use crate::limits::Limits;
use crate::message::Message;

/// A fixed buffer that reads land in and frames come out of, without allocation.
///
/// The loop: read into [`spare`](Self::spare), [`commit`](Self::commit) the count, then take
/// frames with [`next_frame`](Self::next_frame) until it returns `None`; at end of stream use
/// [`finish`](Self::finish) instead. The frame length limit is capped at the capacity, so a
/// full buffer never stalls: a frame that does not fit is skipped and reported as
/// [`FrameError::TooLong`].
///
/// ```
/// use qmp_codec::{FramerConfig, ReadBuffer};
/// let mut storage = [0u8; 64];
/// let mut rb = ReadBuffer::new(&mut storage, FramerConfig::new());
/// let input = b"{\"return\": {}}\r\n\r\n{\"event\": \"STOP\"}\r\n";
/// let mut frames = 0;
/// for chunk in input.chunks(5) {
///     let spare = rb.spare();
///     spare[..chunk.len()].copy_from_slice(chunk);
///     rb.commit(chunk.len());
///     while let Some(frame) = rb.next_frame() {
///         assert!(frame.unwrap().starts_with(b"{"));
///         frames += 1;
///     }
/// }
/// assert!(rb.finish().is_none());
/// assert_eq!(frames, 2);
/// ```
#[derive(Debug)]
pub struct ReadBuffer<'a> {
    storage: &'a mut [u8],
    /// Start of the unconsumed bytes.
    start: usize,
    /// End of the filled bytes.
    end: usize,
    framer: Framer,
}

impl<'a> ReadBuffer<'a> {
    /// A buffer over `storage`, framing with `config`, its limit capped at `storage.len()`.
    pub fn new(storage: &'a mut [u8], config: FramerConfig) -> Self {
        let max = config.max_frame_len().min(storage.len());
        ReadBuffer {
            storage,
            start: 0,
            end: 0,
            framer: Framer::new(config.with_max_frame_len(max)),
        }
    }

    /// Free space to read into, after moving unconsumed bytes to the front when the end is
    /// reached. Empty only if the storage is.
    pub fn spare(&mut self) -> &mut [u8] {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.end == self.storage.len() && self.start > 0 {
            self.storage.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        // `end <= storage.len()` always holds (see `commit`).
        self.storage.get_mut(self.end..).unwrap_or_default()
    }

    /// Marks `n` bytes of [`spare`](Self::spare) as filled (clamped to the space there is).
    pub fn commit(&mut self, n: usize) {
        self.end = self.end.saturating_add(n).min(self.storage.len());
    }

    /// The next frame in the buffered bytes, an error for a bad one, or `None` when more
    /// bytes are needed. The frame borrows the buffer until the next call.
    pub fn next_frame(&mut self) -> Option<Result<&[u8], FrameError>> {
        let buffered = self.storage.get(self.start..self.end).unwrap_or_default();
        let decoded = self.framer.decode(buffered);
        self.take(decoded)
    }

    /// Like [`next_frame`](Self::next_frame) when the stream has ended: applies the framer's
    /// end-of-stream rule (see [`Framer::finish`]). `None` means everything was taken, and
    /// leaves the buffer empty and ready for a new stream.
    pub fn finish(&mut self) -> Option<Result<&[u8], FrameError>> {
        let buffered = self.storage.get(self.start..self.end).unwrap_or_default();
        let decoded = self.framer.finish(buffered);
        self.take(decoded)
    }

    /// The next message, parsed with `limits`, from the buffered bytes: what
    /// [`next_frame`](Self::next_frame) and [`Message::parse_with`] give, in one pass over
    /// each complete line (see [`Framer::decode_message`]). `None` when more bytes are
    /// needed; an error for a bad frame or a frame that is no QMP message. The message
    /// borrows the buffer until the next call.
    ///
    /// ```
    /// use qmp_codec::{FramerConfig, Kind, Limits, ReadBuffer};
    /// let mut storage = [0u8; 64];
    /// let mut rb = ReadBuffer::new(&mut storage, FramerConfig::new());
    /// let input = b"{\"event\": \"STOP\"}\r\n[1]\r\n";
    /// rb.spare()[..input.len()].copy_from_slice(input);
    /// rb.commit(input.len());
    /// assert_eq!(rb.next_message(&Limits::new()).unwrap().unwrap().kind(), Kind::Event);
    /// assert!(rb.next_message(&Limits::new()).unwrap().is_err());
    /// assert!(rb.next_message(&Limits::new()).is_none());
    /// ```
    pub fn next_message(
        &mut self,
        limits: &Limits,
    ) -> Option<Result<Message<'_>, crate::MessageError<'_>>> {
        let buffered = self.storage.get(self.start..self.end).unwrap_or_default();
        let decoded = self.framer.decode_message_with(buffered, limits);
        Self::take_message(&mut self.start, self.end, decoded)
    }

    /// Like [`next_message`](Self::next_message) when the stream has ended (see
    /// [`finish`](Self::finish)).
    pub fn finish_message(
        &mut self,
        limits: &Limits,
    ) -> Option<Result<Message<'_>, crate::MessageError<'_>>> {
        let buffered = self.storage.get(self.start..self.end).unwrap_or_default();
        let decoded = self.framer.finish_message_with(buffered, limits);
        Self::take_message(&mut self.start, self.end, decoded)
    }

    fn take_message<'m>(
        start: &mut usize,
        end: usize,
        decoded: DecodedMessage<'m>,
    ) -> Option<Result<Message<'m>, crate::MessageError<'m>>> {
        // The framer never consumes more than it was given.
        *start = start.saturating_add(decoded.consumed).min(end);
        match decoded.status {
            Ok(Status::Complete(msg)) => Some(Ok(msg)),
            Ok(Status::Partial) => None,
            Err(error) => Some(Err(error)),
        }
    }

    fn take(&mut self, decoded: Decoded) -> Option<Result<&[u8], FrameError>> {
        let base = self.start;
        // The framer never consumes more than it was given.
        self.start = self.start.saturating_add(decoded.consumed).min(self.end);
        match decoded.status {
            Ok(Status::Complete(frame)) => {
                let range = base.saturating_add(frame.start)..base.saturating_add(frame.end);
                self.storage.get(range).map(Ok)
            }
            Ok(Status::Partial) => None,
            Err(error) => Some(Err(error)),
        }
    }

    /// The bytes read but not yet consumed.
    pub fn buffered(&self) -> &[u8] {
        self.storage.get(self.start..self.end).unwrap_or_default()
    }

    /// The storage size.
    pub fn capacity(&self) -> usize {
        self.storage.len()
    }

    /// The framer, e.g. for its [`position`](Framer::position).
    pub fn framer(&self) -> &Framer {
        &self.framer
    }

    /// Drops the buffered bytes and resets the framer, for a new stream.
    pub fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
        self.framer.reset();
    }
}
