//! Framing and parsing in one step: [`Framer::decode_message`].
//!
//! In the lines and qga dialects a line that starts with `{` is first scanned as a message
//! straight from the buffer: the scanner finds the object's end, then the line's end must
//! follow (JSON whitespace other than `\n`, then `\n`). That is one pass over the bytes, no
//! search for the newline first. When that fails (bad JSON, more after the object, the line
//! not complete yet, a limit), the line goes the usual way: the framer resumes its newline
//! search where the scan stopped (the scan proves there is no `\n` before that) and the frame
//! is then parsed. The framer remembers that the one-pass scan failed for the current line, so
//! it is not tried again when more bytes arrive: every byte is looked at most twice, whatever
//! the chunking. The stream dialect always frames, then parses.
//!
//! Outcomes are exactly those of [`Framer::decode`] followed by [`Message::parse_with`] on
//! each frame, for every input and every chunking.

use core::fmt;

use super::{FrameError, Framer, Status};
use crate::error::ParseError;
#[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
use crate::json::keys::KNOWN_COUNT;
#[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
use crate::json::scan;
#[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
use crate::json::Span;
use crate::limits::Limits;
use crate::message::Message;

/// The outcome of one [`Framer::decode_message`] or [`Framer::finish_message`] step.
#[derive(Clone, Copy, Debug, PartialEq)]
#[must_use]
#[non_exhaustive]
pub struct DecodedMessage<'b> {
    /// How many bytes the caller must drop from the front of the buffer before the next
    /// call, exactly as [`Decoded::consumed`](super::Decoded::consumed).
    pub consumed: usize,
    /// The message, a bad frame or message, or [`Status::Partial`] when more bytes are needed.
    /// The message borrows the buffer given to the step.
    pub status: Result<Status<Message<'b>>, MessageError<'b>>,
}

/// Why a [`Framer::decode_message`] step yielded no message. Either way the bad bytes have
/// been consumed and the stream goes on with the next frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessageError<'b> {
    /// A bad frame, as [`Framer::decode`] reports it.
    Frame(FrameError),
    /// A frame that is not a valid QMP message, as [`Message::parse`] reports it (its
    /// offsets are relative to the frame, which is [`ParseError::raw`]).
    Parse {
        /// Stream offset of the frame's first byte.
        offset: u64,
        /// What the parser said.
        error: ParseError<'b>,
    },
}

impl fmt::Display for MessageError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MessageError::Frame(e) => e.fmt(f),
            MessageError::Parse { offset, error } => {
                write!(f, "frame at offset {offset}: {error}")
            }
        }
    }
}

impl core::error::Error for MessageError<'_> {}

impl From<FrameError> for MessageError<'_> {
    fn from(e: FrameError) -> Self {
        MessageError::Frame(e)
    }
}

impl Framer {
    /// Looks for the next message in `buf` and parses it with the default [`Limits`]: the
    /// same buffer contract as [`decode`](Self::decode), and the same outcome as `decode`
    /// followed by [`Message::parse`] on the frame, in one pass over the bytes of each
    /// complete line. A line whose one-pass scan fails (bad JSON, not complete yet) is framed,
    /// then parsed: every byte is looked at most twice, whatever the chunking.
    ///
    /// ```
    /// use qmp_codec::{Framer, Kind, Status};
    /// let mut framer = Framer::lines();
    /// let mut buf: &[u8] = b"{\"return\": {}, \"id\": 7}\r\n{\"ev";
    /// let step = framer.decode_message(buf);
    /// let Ok(Status::Complete(msg)) = step.status else { panic!() };
    /// assert_eq!((msg.kind(), msg.id().and_then(|id| id.as_i64())), (Kind::Return, Some(7)));
    /// buf = &buf[step.consumed..];
    /// assert_eq!(framer.decode_message(buf).status, Ok(Status::Partial));
    /// ```
    #[inline]
    pub fn decode_message<'b>(&mut self, buf: &'b [u8]) -> DecodedMessage<'b> {
        self.message_step(buf, &Limits::new(), false)
    }

    /// [`decode_message`](Self::decode_message) with the given parse limits.
    pub fn decode_message_with<'b>(
        &mut self,
        buf: &'b [u8],
        limits: &Limits,
    ) -> DecodedMessage<'b> {
        self.message_step(buf, limits, false)
    }

    /// Like [`decode_message`](Self::decode_message) when no bytes will follow `buf`: the
    /// end-of-stream rule of [`finish`](Self::finish). Call it until it returns
    /// [`Status::Partial`].
    pub fn finish_message<'b>(&mut self, buf: &'b [u8]) -> DecodedMessage<'b> {
        self.message_step(buf, &Limits::new(), true)
    }

    /// [`finish_message`](Self::finish_message) with the given parse limits.
    pub fn finish_message_with<'b>(
        &mut self,
        buf: &'b [u8],
        limits: &Limits,
    ) -> DecodedMessage<'b> {
        self.message_step(buf, limits, true)
    }

    /// One step: the one-pass line scan when it applies (inlined into the callers, so the
    /// message is built in place), else [`framed_step`](Self::framed_step).
    #[inline(always)]
    fn message_step<'b>(
        &mut self,
        buf: &'b [u8],
        limits: &Limits,
        eof: bool,
    ) -> DecodedMessage<'b> {
        if let Some(step) = self.one_pass(buf, limits) {
            return step;
        }
        // By value: a reference would make every step store the limits for this call.
        self.framed_step(buf, *limits, eof)
    }

    /// Without 128-bit vectors, where flash matters more, there is no one-pass line scan:
    /// every message is framed, then parsed. That links one copy of the scanner's loops
    /// instead of two (the line scan treats `\n` differently), and costs little where reads
    /// are small, since a line that is not whole yet fails the one-pass scan anyway.
    #[cfg(not(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64"))))]
    #[inline(always)]
    fn one_pass<'b>(&mut self, _: &'b [u8], _: &Limits) -> Option<DecodedMessage<'b>> {
        None
    }

    /// The one-pass line scan: framing and parsing a line that starts with `{` together.
    #[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
    #[inline(always)]
    fn one_pass<'b>(&mut self, buf: &'b [u8], limits: &Limits) -> Option<DecodedMessage<'b>> {
        if self.config.dialect != super::Dialect::Stream
            && buf.first() == Some(&b'{')
            && self.scanned == 0
            && !self.line_content
            && self.skipping.is_none()
        {
            // The line may need at most `max_frame_len` bytes, its `\n` included.
            let limit = buf.len().min(self.config.max_frame_len);
            let b = buf.get(..limit).unwrap_or(buf);
            let mut known = [Span::NONE; KNOWN_COUNT];
            match scan::scan_line(b, limits, &mut known) {
                Ok(line) => {
                    let next = line.newline + 1;
                    self.work = self.work.saturating_add(next as u64);
                    let frame = b.get(..line.end).unwrap_or(b);
                    let msg = Message::from_line(frame, line.top, known);
                    self.position = self.position.saturating_add(next as u64);
                    return Some(DecodedMessage {
                        consumed: next,
                        status: Ok(Status::Complete(msg)),
                    });
                }
                Err(fail) => {
                    // `b[..fail.offset]` holds no `\n` (nor qga's `0xFF`), and the line
                    // has content: the framer picks up from there, and the line is framed,
                    // then parsed (a line with content is never scanned in one pass again).
                    let checked = fail.offset.min(limit);
                    self.work = self.work.saturating_add(checked as u64);
                    self.scanned = checked;
                    self.line_content = true;
                }
            }
        }
        None
    }

    /// A step through the framer, then the parser: the stream dialect, a line that does not
    /// start with `{`, or one whose one-pass scan failed.
    #[inline(never)]
    fn framed_step<'b>(&mut self, buf: &'b [u8], limits: Limits, eof: bool) -> DecodedMessage<'b> {
        let base = self.position;
        let step = if eof {
            self.finish(buf)
        } else {
            self.decode(buf)
        };
        let status = match step.status {
            Ok(Status::Complete(frame)) => {
                let bytes = buf.get(frame.range()).unwrap_or_default();
                self.work = self.work.saturating_add(bytes.len() as u64);
                match Message::parse_with(bytes, &limits) {
                    Ok(msg) => Ok(Status::Complete(msg)),
                    Err(error) => Err(MessageError::Parse {
                        offset: base.saturating_add(frame.start as u64),
                        error,
                    }),
                }
            }
            Ok(Status::Partial) => Ok(Status::Partial),
            Err(e) => Err(MessageError::Frame(e)),
        };
        DecodedMessage {
            consumed: step.consumed,
            status,
        }
    }
}
