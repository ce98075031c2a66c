//! The input and output buffers of the protocol state machines, over caller storage.
//!
//! [`Input`] wraps a [`Framer`] and keeps each step's bytes in the buffer until the state
//! machine releases them, so events can borrow the frame and a step can be retried when the
//! output is full. [`Output`] queues encoded messages until the caller takes them.

use core::ops::{Deref, DerefMut};

use crate::encode::{Encode, EncodeError};
use crate::framer::{FrameError, Framer, FramerConfig, Status};

/// A buffer the state machines work in: borrowed from the caller, or (with `alloc`) owned,
/// for transports that keep a state machine in a long-lived struct.
#[derive(Debug)]
pub(crate) enum Storage<'s> {
    /// Caller storage.
    Borrowed(&'s mut [u8]),
    /// A heap buffer owned by the state machine.
    #[cfg(feature = "alloc")]
    Owned(alloc::boxed::Box<[u8]>),
}

impl Storage<'_> {
    /// A zeroed heap buffer of `len` bytes.
    #[cfg(feature = "alloc")]
    pub(crate) fn owned(len: usize) -> Storage<'static> {
        Storage::Owned(alloc::vec![0u8; len].into_boxed_slice())
    }
}

impl<'s> From<&'s mut [u8]> for Storage<'s> {
    fn from(storage: &'s mut [u8]) -> Self {
        Storage::Borrowed(storage)
    }
}

impl Deref for Storage<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Storage::Borrowed(s) => s,
            #[cfg(feature = "alloc")]
            Storage::Owned(b) => b,
        }
    }
}

impl DerefMut for Storage<'_> {
    fn deref_mut(&mut self) -> &mut [u8] {
        match self {
            Storage::Borrowed(s) => s,
            #[cfg(feature = "alloc")]
            Storage::Owned(b) => b,
        }
    }
}

/// One framing step whose bytes are still in the buffer.
#[derive(Clone, Copy, Debug)]
struct Held {
    consumed: usize,
    status: Result<Status<crate::framer::Frame>, FrameError>,
}

/// What the buffered input holds next.
pub(crate) enum Peek<'b> {
    /// A complete frame.
    Frame(&'b [u8]),
    /// A bad frame; `region` is every byte the step consumed (the error byte is last for
    /// lexical errors), starting at stream offset `region_offset`.
    Error {
        error: FrameError,
        region: &'b [u8],
        region_offset: u64,
    },
    /// Nothing complete; `exhausted` once the end of stream was signalled and everything
    /// was taken.
    Empty { exhausted: bool },
}

/// Buffered input: caller storage, a framer, and the step being looked at.
#[derive(Debug)]
pub(crate) struct Input<'s> {
    storage: Storage<'s>,
    start: usize,
    end: usize,
    framer: Framer,
    held: Option<Held>,
    eof: bool,
    exhausted: bool,
    /// Whether an unfinished frame at the end of stream is dropped silently.
    skip_truncated: bool,
}

impl<'s> Input<'s> {
    pub(crate) fn new(storage: impl Into<Storage<'s>>, config: FramerConfig) -> Self {
        let storage = storage.into();
        let max = config.max_frame_len().min(storage.len());
        Input {
            storage,
            start: 0,
            end: 0,
            framer: Framer::new(config.with_max_frame_len(max)),
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

    /// Free space at the end, after moving the unconsumed bytes to the front if needed.
    pub(crate) fn spare(&mut self) -> &mut [u8] {
        if self.eof {
            return &mut [];
        }
        if self.start == self.end && self.held.is_none() {
            self.start = 0;
            self.end = 0;
        } else if self.end == self.storage.len() && self.start > 0 {
            self.storage.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        self.storage.get_mut(self.end..).unwrap_or_default()
    }

    /// Marks `n` bytes of [`spare`](Self::spare) as filled.
    pub(crate) fn commit(&mut self, n: usize) {
        if !self.eof {
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

    /// No more bytes will come.
    pub(crate) fn set_eof(&mut self) {
        self.eof = true;
    }

    /// Forgets the buffered input.
    pub(crate) fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
        self.held = None;
        self.framer.reset();
    }

    /// Forgets the buffered input and the end of stream: ready for a new connection.
    pub(crate) fn reset(&mut self) {
        self.clear();
        self.eof = false;
        self.exhausted = false;
    }

    /// Drops the bytes of the step last returned by [`peek`](Self::peek).
    pub(crate) fn release(&mut self) {
        if let Some(held) = self.held.take() {
            self.start = self.start.saturating_add(held.consumed).min(self.end);
        }
    }

    /// The next step: the held one again, or a new one from the framer.
    pub(crate) fn peek(&mut self) -> Peek<'_> {
        if self.held.is_none() {
            if self.exhausted {
                return Peek::Empty { exhausted: true };
            }
            let buffered = self.storage.get(self.start..self.end).unwrap_or_default();
            let decoded = if self.eof {
                self.framer.finish(buffered)
            } else {
                self.framer.decode(buffered)
            };
            match decoded.status {
                Err(FrameError::Truncated { .. }) if self.skip_truncated => {
                    self.start = self.start.saturating_add(decoded.consumed).min(self.end);
                    return self.peek();
                }
                Ok(Status::Partial) => {
                    self.start = self.start.saturating_add(decoded.consumed).min(self.end);
                    self.exhausted = self.eof;
                    return Peek::Empty {
                        exhausted: self.exhausted,
                    };
                }
                status => {
                    self.held = Some(Held {
                        consumed: decoded.consumed,
                        status,
                    });
                }
            }
        }
        let Some(held) = self.held else {
            return Peek::Empty { exhausted: false };
        };
        let region = self
            .storage
            .get(self.start..self.start.saturating_add(held.consumed).min(self.end))
            .unwrap_or_default();
        match held.status {
            Ok(Status::Complete(frame)) => {
                Peek::Frame(region.get(frame.range()).unwrap_or_default())
            }
            Err(error) => Peek::Error {
                error,
                region,
                region_offset: self.framer.position().saturating_sub(held.consumed as u64),
            },
            Ok(Status::Partial) => Peek::Empty { exhausted: false },
        }
    }
}

/// Queued output in caller storage.
#[derive(Debug)]
pub(crate) struct Output<'s> {
    storage: Storage<'s>,
    start: usize,
    end: usize,
}

impl<'s> Output<'s> {
    pub(crate) fn new(storage: impl Into<Storage<'s>>) -> Self {
        Output {
            storage: storage.into(),
            start: 0,
            end: 0,
        }
    }

    /// A view with a shorter lifetime, for events that let the caller write replies.
    pub(crate) fn view(&mut self) -> OutView<'_> {
        OutView {
            storage: &mut self.storage,
            start: &mut self.start,
            end: &mut self.end,
        }
    }

    pub(crate) fn write<E: Encode>(&mut self, msg: &E) -> Result<usize, EncodeError> {
        self.view().write(msg)
    }

    pub(crate) fn pending(&self) -> &[u8] {
        self.storage.get(self.start..self.end).unwrap_or_default()
    }

    pub(crate) fn consume(&mut self, n: usize) {
        self.view().consume(n);
    }

    pub(crate) fn poll_transmit(&mut self, buf: &mut [u8]) -> Option<usize> {
        self.view().poll_transmit(buf)
    }

    pub(crate) fn capacity(&self) -> usize {
        self.storage.len()
    }

    pub(crate) fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
    }
}

/// A borrowed [`Output`].
#[derive(Debug)]
pub(crate) struct OutView<'a> {
    storage: &'a mut [u8],
    start: &'a mut usize,
    end: &'a mut usize,
}

impl OutView<'_> {
    /// Appends `msg`; when it does not fit, nothing is queued and the message length is
    /// reported as `BufferTooSmall { required }`.
    pub(crate) fn write<E: Encode>(&mut self, msg: &E) -> Result<usize, EncodeError> {
        // One pass when the message fits after what is queued: a failed attempt writes only
        // past `end`, where nothing is queued, and reports the exact length.
        let tail = self.storage.get_mut(*self.end..).unwrap_or_default();
        let need = match msg.encode(tail) {
            Ok(n) => {
                *self.end += n;
                return Ok(n);
            }
            Err(EncodeError::BufferTooSmall { required }) => required,
            Err(e) => return Err(e),
        };
        let queued = self.end.saturating_sub(*self.start);
        if need > self.storage.len().saturating_sub(queued) {
            return Err(EncodeError::BufferTooSmall { required: need });
        }
        if need > self.storage.len().saturating_sub(*self.end) {
            self.storage.copy_within(*self.start..*self.end, 0);
            *self.end = queued;
            *self.start = 0;
        }
        let tail = self.storage.get_mut(*self.end..).unwrap_or_default();
        let n = msg.encode(tail)?;
        *self.end += n;
        Ok(n)
    }

    pub(crate) fn consume(&mut self, n: usize) {
        *self.start = self.start.saturating_add(n).min(*self.end);
        if *self.start == *self.end {
            *self.start = 0;
            *self.end = 0;
        }
    }

    pub(crate) fn poll_transmit(&mut self, buf: &mut [u8]) -> Option<usize> {
        let pending = self.storage.get(*self.start..*self.end).unwrap_or_default();
        let n = pending.len().min(buf.len());
        if n == 0 {
            return None;
        }
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), pending.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.consume(n);
        Some(n)
    }
}
