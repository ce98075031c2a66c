//! [`ReadBuffer`]: the crate's one read path. Bytes land in storage the caller owns (or, with
//! `alloc`, storage the buffer owns), and messages come out of
//! [`Framer::decode_message`] steps. The protocol engines, every transport and the `qmp` tool
//! read through it.

use core::ops::Range;

use crate::error::{DeserializationError, ParseError, Reason, UnexpectedTypeError};
use crate::framer::{
    Decoded, DecodedMessage, FrameError, Framer, FramerConfig, MessageError, Status,
};
use crate::io_buf::{compact, window, Storage};
use crate::json::Value;
use crate::limits::Limits;
use crate::message::{Layout, Message};

/// A parse error without the bytes it borrows, so that a held step can be shown again.
#[derive(Clone, Debug)]
enum HeldParse {
    Deserialization { offset: usize, reason: Reason },
    UnexpectedType { value: Range<usize> },
}

/// A frame (or bad frame) and the stream offset of its first byte, from
/// [`ReadBuffer::read_frame`].
pub type FrameAt<'b> = (u64, Result<&'b [u8], FrameError>);

/// What a held step found.
#[derive(Clone, Debug)]
enum HeldStatus {
    /// A message: its bytes (relative to the step's start) and where its parts sit.
    Message { bytes: Range<usize>, layout: Layout },
    /// A bad frame.
    Frame(FrameError),
    /// A frame that is not a QMP message; `frame` is relative to the step's start.
    Parse {
        offset: u64,
        frame: Range<usize>,
        error: HeldParse,
    },
}

/// One step whose bytes are still in the buffer.
#[derive(Clone, Debug)]
struct Held {
    consumed: usize,
    status: HeldStatus,
}

/// The next step of a [`ReadBuffer`], as the protocol engines see it.
pub(crate) enum Peek<'b> {
    /// A complete, valid message.
    Message(Message<'b>),
    /// A bad frame or a frame that is no message; `region` is every byte the step consumed
    /// (the error byte is last for lexical errors), starting at stream offset
    /// `region_offset`.
    Error {
        error: MessageError<'b>,
        region: &'b [u8],
        region_offset: u64,
    },
    /// Nothing complete; `exhausted` once the end of stream was signalled and everything
    /// was taken.
    Empty { exhausted: bool },
}

/// A fixed buffer that reads land in and messages come out of, without allocation: the one
/// read path of the crate.
///
/// The loop: read into [`spare`](Self::spare), [`commit`](Self::commit) the count, then take
/// messages with [`next_message`](Self::next_message) (or raw frames with
/// [`next_frame`](Self::next_frame)) until it returns `None`; at end of stream use
/// [`finish_message`](Self::finish_message) instead. The frame length limit is capped at
/// the capacity, so a full buffer never stalls: a frame that does not fit is skipped and
/// reported as [`FrameError::TooLong`]. [`spare`](Self::spare) is the only place in the
/// crate where unread bytes move to the front of a buffer.
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
    storage: Storage<'a>,
    /// Start of the unconsumed bytes.
    start: usize,
    /// End of the filled bytes.
    end: usize,
    framer: Framer,
    limits: Limits,
    /// The step last shown by `peek`, until `release`.
    held: Option<Held>,
    eof: bool,
    exhausted: bool,
    /// Whether an unfinished frame at the end of stream is dropped silently.
    skip_truncated: bool,
}

impl<'a> ReadBuffer<'a> {
    /// A buffer over `storage`, framing with `config`, its limit capped at `storage.len()`.
    pub fn new(storage: &'a mut [u8], config: FramerConfig) -> Self {
        Self::with_storage(Storage::Borrowed(storage), config, Limits::new())
    }

    /// A buffer that owns `capacity` bytes of storage (feature `alloc`).
    #[cfg(feature = "alloc")]
    pub fn with_capacity(capacity: usize, config: FramerConfig) -> ReadBuffer<'static> {
        ReadBuffer::with_storage(Storage::owned(capacity), config, Limits::new())
    }

    pub(crate) fn with_storage(storage: Storage<'a>, config: FramerConfig, limits: Limits) -> Self {
        let max = config.max_frame_len().min(storage.len());
        ReadBuffer {
            storage,
            start: 0,
            end: 0,
            framer: Framer::new(config.with_max_frame_len(max)),
            limits,
            held: None,
            eof: false,
            exhausted: false,
            skip_truncated: false,
        }
    }

    /// Drops an unfinished frame at the end of stream instead of reporting it.
    pub(crate) fn skipping_truncated(mut self) -> Self {
        self.skip_truncated = true;
        self
    }

    /// Free space to read into, after moving unconsumed bytes to the front when the end is
    /// reached. Empty when the storage is full of a held step, or after the end of stream
    /// was signalled to the engines.
    pub fn spare(&mut self) -> &mut [u8] {
        if self.eof {
            return &mut [];
        }
        if self.held.is_none() && self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.end == self.storage.len() {
            compact(&mut self.storage, &mut self.start, &mut self.end);
        }
        // `end <= storage.len()` always holds (see `commit`).
        let spare = self.storage.get_mut(self.end..);
        debug_assert!(spare.is_some(), "end past the storage");
        spare.unwrap_or_default()
    }

    /// Marks `n` bytes of [`spare`](Self::spare) as filled (clamped to the space there is).
    pub fn commit(&mut self, n: usize) {
        if !self.eof {
            debug_assert!(n <= self.storage.len() - self.end, "committed past spare");
            self.end = self.end.saturating_add(n).min(self.storage.len());
        }
    }

    /// Copies as much of `bytes` as fits; returns how many were taken.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> usize {
        let spare = self.spare();
        let n = spare.len().min(bytes.len());
        if let (Some(dst), Some(src)) = (spare.get_mut(..n), bytes.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.commit(n);
        n
    }

    /// No more bytes will come (for the engines' [`peek`](Self::peek)).
    pub(crate) fn set_eof(&mut self) {
        self.eof = true;
    }

    /// The next frame in the buffered bytes, an error for a bad one, or `None` when more
    /// bytes are needed. The frame borrows the buffer until the next call.
    pub fn next_frame(&mut self) -> Option<Result<&[u8], FrameError>> {
        self.release();
        let buffered = window(&self.storage, self.start..self.end);
        let decoded = self.framer.decode(buffered);
        self.take(decoded)
    }

    /// Like [`next_frame`](Self::next_frame) when the stream has ended: applies the framer's
    /// end-of-stream rule (see [`Framer::finish`]). `None` means everything was taken, and
    /// leaves the buffer empty and ready for a new stream.
    pub fn finish(&mut self) -> Option<Result<&[u8], FrameError>> {
        self.release();
        let buffered = window(&self.storage, self.start..self.end);
        let decoded = self.framer.finish(buffered);
        self.take(decoded)
    }

    /// The next frame and its stream offset, reading with `read` whenever more bytes are
    /// needed: the whole read loop. `read` fills the slice it is given and returns the count,
    /// 0 at the end of the stream. `Ok(None)` once the stream has ended and everything was
    /// taken.
    pub fn read_frame<E>(
        &mut self,
        mut read: impl FnMut(&mut [u8]) -> Result<usize, E>,
    ) -> Result<Option<FrameAt<'_>>, E> {
        self.release();
        loop {
            let position = self.framer.position();
            let base = self.start;
            let buffered = window(&self.storage, base..self.end);
            let decoded = if self.eof {
                self.framer.finish(buffered)
            } else {
                self.framer.decode(buffered)
            };
            debug_assert!(
                decoded.consumed <= buffered.len(),
                "framer consumed past its input"
            );
            self.start = base.saturating_add(decoded.consumed).min(self.end);
            match decoded.status {
                Ok(Status::Complete(frame)) => {
                    let offset = position.saturating_add(frame.start as u64);
                    let range = base.saturating_add(frame.start)..base.saturating_add(frame.end);
                    let bytes = window(&self.storage, range);
                    return Ok(Some((offset, Ok(bytes))));
                }
                Err(error) => return Ok(Some((position, Err(error)))),
                Ok(Status::Partial) if self.eof => return Ok(None),
                Ok(Status::Partial) => {
                    let n = read(self.spare())?;
                    if n == 0 {
                        self.eof = true;
                    } else {
                        self.commit(n);
                    }
                }
            }
        }
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
    ) -> Option<Result<Message<'_>, MessageError<'_>>> {
        self.release();
        let buffered = window(&self.storage, self.start..self.end);
        let decoded = self.framer.decode_message_with(buffered, limits);
        Self::take_message(&mut self.start, self.end, decoded)
    }

    /// Like [`next_message`](Self::next_message) when the stream has ended (see
    /// [`finish`](Self::finish)).
    pub fn finish_message(
        &mut self,
        limits: &Limits,
    ) -> Option<Result<Message<'_>, MessageError<'_>>> {
        self.release();
        let buffered = window(&self.storage, self.start..self.end);
        let decoded = self.framer.finish_message_with(buffered, limits);
        Self::take_message(&mut self.start, self.end, decoded)
    }

    fn take_message<'m>(
        start: &mut usize,
        end: usize,
        decoded: DecodedMessage<'m>,
    ) -> Option<Result<Message<'m>, MessageError<'m>>> {
        debug_assert!(
            decoded.consumed <= end - *start,
            "framer consumed past its input"
        );
        *start = start.saturating_add(decoded.consumed).min(end);
        match decoded.status {
            Ok(Status::Complete(msg)) => Some(Ok(msg)),
            Ok(Status::Partial) => None,
            Err(error) => Some(Err(error)),
        }
    }

    fn take(&mut self, decoded: Decoded) -> Option<Result<&[u8], FrameError>> {
        let base = self.start;
        debug_assert!(
            decoded.consumed <= self.end - self.start,
            "framer consumed past its input"
        );
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

    /// Drops the bytes of the step last returned by [`peek`](Self::peek).
    pub(crate) fn release(&mut self) {
        if let Some(held) = self.held.take() {
            self.start = self.start.saturating_add(held.consumed).min(self.end);
        }
    }

    /// The next step, with the buffer's own limits: the held one again (its parsed layout is
    /// kept, so nothing is scanned twice), or a new [`Framer::decode_message`] step, held
    /// until [`release`](Self::release).
    pub(crate) fn peek(&mut self) -> Peek<'_> {
        loop {
            if self.held.is_some() {
                break;
            }
            if self.exhausted {
                return Peek::Empty { exhausted: true };
            }
            let base = self.start;
            let buffered = window(&self.storage, base..self.end);
            let decoded = if self.eof {
                self.framer.finish_message_with(buffered, &self.limits)
            } else {
                self.framer.decode_message_with(buffered, &self.limits)
            };
            let consumed = decoded.consumed;
            let status = match decoded.status {
                Ok(Status::Partial) => {
                    self.start = base.saturating_add(consumed).min(self.end);
                    self.exhausted = self.eof;
                    return Peek::Empty {
                        exhausted: self.exhausted,
                    };
                }
                Err(MessageError::Frame(FrameError::Truncated { .. })) if self.skip_truncated => {
                    self.start = base.saturating_add(consumed).min(self.end);
                    continue;
                }
                Ok(Status::Complete(msg)) => HeldStatus::Message {
                    bytes: offset_in(buffered, msg.as_bytes()),
                    layout: msg.layout(),
                },
                Err(MessageError::Frame(e)) => HeldStatus::Frame(e),
                Err(MessageError::Parse { offset, error }) => HeldStatus::Parse {
                    offset,
                    frame: offset_in(buffered, error.raw()),
                    error: match error {
                        ParseError::Deserialization(e) => HeldParse::Deserialization {
                            offset: e.offset(),
                            reason: e.reason(),
                        },
                        ParseError::UnexpectedType(e) => HeldParse::UnexpectedType {
                            value: offset_in(buffered, e.value().raw()),
                        },
                    },
                },
            };
            self.held = Some(Held { consumed, status });
        }
        let Some(held) = &self.held else {
            return Peek::Empty { exhausted: false };
        };
        let region_end = self.start.saturating_add(held.consumed).min(self.end);
        let region = window(&self.storage, self.start..region_end);
        let region_offset = self.framer.position().saturating_sub(held.consumed as u64);
        match &held.status {
            HeldStatus::Message { bytes, layout } => {
                let bytes = region.get(bytes.clone());
                debug_assert!(bytes.is_some(), "held message outside its step");
                Peek::Message(Message::with_layout(bytes.unwrap_or_default(), *layout))
            }
            HeldStatus::Frame(error) => Peek::Error {
                error: MessageError::Frame(*error),
                region,
                region_offset,
            },
            HeldStatus::Parse {
                offset,
                frame,
                error,
            } => {
                let raw = window(region, frame.clone());
                let error = match error {
                    HeldParse::Deserialization { offset, reason } => ParseError::Deserialization(
                        DeserializationError::new(raw, *offset, *reason),
                    ),
                    HeldParse::UnexpectedType { value } => ParseError::UnexpectedType(
                        UnexpectedTypeError::new(Value::new(window(region, value.clone()))),
                    ),
                };
                Peek::Error {
                    error: MessageError::Parse {
                        offset: *offset,
                        error,
                    },
                    region,
                    region_offset,
                }
            }
        }
    }

    /// The message of the held step, if the step last shown by [`peek`](Self::peek) was one
    /// and is not released yet: no scanning, the layout is kept.
    pub(crate) fn held_message(&self) -> Option<Message<'_>> {
        let held = self.held.as_ref()?;
        let HeldStatus::Message { bytes, layout } = &held.status else {
            return None;
        };
        let region_end = self.start.saturating_add(held.consumed).min(self.end);
        let region = self.storage.get(self.start..region_end)?;
        Some(Message::with_layout(region.get(bytes.clone())?, *layout))
    }

    /// Drops the buffered bytes (the session is over), keeping the end-of-stream state:
    /// input after it is taken and dropped, input after the end of stream is refused.
    pub(crate) fn discard(&mut self) {
        self.start = 0;
        self.end = 0;
        self.held = None;
        self.framer.reset();
    }

    /// The bytes read but not yet consumed.
    pub fn buffered(&self) -> &[u8] {
        window(&self.storage, self.start..self.end)
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
        self.held = None;
        self.eof = false;
        self.exhausted = false;
        self.framer.reset();
    }
}

/// Where `part` (a subslice of `whole`) lies in `whole`. Safe pointer arithmetic on
/// addresses; a slice from elsewhere gives an empty range.
fn offset_in(whole: &[u8], part: &[u8]) -> Range<usize> {
    let start = (part.as_ptr() as usize).wrapping_sub(whole.as_ptr() as usize);
    let end = start.wrapping_add(part.len());
    if start <= whole.len() && end <= whole.len() && start <= end {
        start..end
    } else {
        debug_assert!(part.is_empty(), "a view outside the buffer it came from");
        0..0
    }
}
