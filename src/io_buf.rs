//! Buffer storage (borrowed or owned), the one compaction routine, and the transmit queue of
//! the protocol state machines. Input goes through [`ReadBuffer`](crate::ReadBuffer).

use core::ops::{Deref, DerefMut};

use crate::encode::{Encode, EncodeError};

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

/// `buf[range]`, which the caller's own bookkeeping keeps in bounds: an empty slice if it
/// ever is not, which debug builds (and so the fuzzers) report.
#[inline]
pub(crate) fn window(buf: &[u8], range: core::ops::Range<usize>) -> &[u8] {
    let part = buf.get(range.clone());
    debug_assert!(
        part.is_some(),
        "{range:?} outside a buffer of {}",
        buf.len()
    );
    part.unwrap_or_default()
}

/// `buf[from..]`, as [`window`].
#[inline]
pub(crate) fn tail_mut(buf: &mut [u8], from: usize) -> &mut [u8] {
    let len = buf.len();
    debug_assert!(from <= len, "{from} outside a buffer of {len}");
    buf.get_mut(from..).unwrap_or_default()
}

/// Moves the unconsumed bytes `buf[*start..*end]` to the front: the one place in the crate
/// that does (the read buffer and the transmit queue both call it).
pub(crate) fn compact(buf: &mut [u8], start: &mut usize, end: &mut usize) {
    if *start == 0 {
        return;
    }
    debug_assert!(*start <= *end && *end <= buf.len(), "bad buffer bounds");
    if *start < *end && *end <= buf.len() {
        move_to_front(buf, *start, *end);
    }
    *end = end.saturating_sub(*start);
    *start = 0;
}

/// `buf[from..to]` to `buf[..to - from]`, with `from <= to <= buf.len()`.
#[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
#[inline(always)]
fn move_to_front(buf: &mut [u8], from: usize, to: usize) {
    buf.copy_within(from..to, 0);
}

/// `buf[from..to]` to `buf[..to - from]`, with `0 < from <= to <= buf.len()`: in pieces of at
/// most `from` bytes, so that no piece overlaps its destination and each is a `memcpy`.
/// Compact targets (no 128-bit vectors, see `plain_run` in `json/scan.rs`) then do not link
/// `memmove` (1.5 KiB on thumb) besides `memcpy`.
#[cfg(not(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64"))))]
#[inline(never)]
fn move_to_front(buf: &mut [u8], from: usize, to: usize) {
    let mut at = 0;
    while at < to.saturating_sub(from) {
        let n = from.min(to - from - at);
        let Some((head, tail)) = buf.split_at_mut_checked(from + at) else {
            return;
        };
        let (Some(dst), Some(src)) = (head.get_mut(at..at + n), tail.get(..n)) else {
            return;
        };
        dst.copy_from_slice(src);
        at += n;
    }
}

#[cfg(test)]
mod tests {
    use super::compact;

    /// Every `start <= end` in a 12-byte buffer: the bytes `start..end` end up at the front,
    /// the rest of the buffer is left alone.
    #[test]
    fn compact_moves_the_unconsumed_bytes_to_the_front() {
        const N: usize = 12;
        let original: [u8; N] = core::array::from_fn(|k| k as u8 + 1);
        for s in 0..=N {
            for e in s..=N {
                let mut buf = original;
                let (mut start, mut end) = (s, e);
                compact(&mut buf, &mut start, &mut end);
                let mut expected = original;
                if s > 0 {
                    expected.copy_within(s..e, 0);
                }
                assert_eq!((start, end), if s == 0 { (0, e) } else { (0, e - s) });
                assert_eq!(buf, expected, "{s}..{e}");
            }
        }
    }
}

/// Queued output in caller storage.
#[derive(Debug)]
pub(crate) struct Output<'s> {
    storage: Storage<'s>,
    start: usize,
    end: usize,
    /// How far owned storage may grow for one message that does not fit (0: fixed).
    max_len: usize,
}

impl<'s> Output<'s> {
    pub(crate) fn new(storage: impl Into<Storage<'s>>) -> Self {
        Output {
            storage: storage.into(),
            start: 0,
            end: 0,
            max_len: 0,
        }
    }

    /// Lets owned storage grow up to `max_len` bytes for messages that do not fit.
    #[cfg(feature = "alloc")]
    pub(crate) fn growing_to(mut self, max_len: usize) -> Self {
        self.max_len = max_len;
        self
    }

    /// The most output a message may need: the storage, or what it may grow to.
    pub(crate) fn max_capacity(&self) -> usize {
        self.storage.len().max(self.max_len)
    }

    /// A view with a shorter lifetime, for events that let the caller write replies.
    pub(crate) fn view(&mut self) -> OutView<'_> {
        let storage = match &mut self.storage {
            Storage::Borrowed(s) => StorageRef::Borrowed(s),
            #[cfg(feature = "alloc")]
            Storage::Owned(b) => StorageRef::Owned(b),
        };
        OutView {
            storage,
            start: &mut self.start,
            end: &mut self.end,
            max_len: self.max_len,
        }
    }

    pub(crate) fn write<E: Encode>(&mut self, msg: &E) -> Result<usize, EncodeError> {
        self.view().write(msg)
    }

    pub(crate) fn pending(&self) -> &[u8] {
        window(&self.storage, self.start..self.end)
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

/// A reborrowed [`Storage`], so that views need no second lifetime.
#[derive(Debug)]
enum StorageRef<'a> {
    Borrowed(&'a mut [u8]),
    #[cfg(feature = "alloc")]
    Owned(&'a mut alloc::boxed::Box<[u8]>),
}

impl Deref for StorageRef<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            StorageRef::Borrowed(s) => s,
            #[cfg(feature = "alloc")]
            StorageRef::Owned(b) => b,
        }
    }
}

impl DerefMut for StorageRef<'_> {
    fn deref_mut(&mut self) -> &mut [u8] {
        match self {
            StorageRef::Borrowed(s) => s,
            #[cfg(feature = "alloc")]
            StorageRef::Owned(b) => b,
        }
    }
}

/// A borrowed [`Output`].
#[derive(Debug)]
pub(crate) struct OutView<'a> {
    storage: StorageRef<'a>,
    start: &'a mut usize,
    end: &'a mut usize,
    /// Read only when owned storage can grow (`alloc`).
    #[cfg_attr(not(feature = "alloc"), allow(dead_code))]
    max_len: usize,
}

impl OutView<'_> {
    /// Appends `msg`; when it does not fit, nothing is queued and the message length is
    /// reported as `BufferTooSmall { required }`.
    pub(crate) fn write<E: Encode>(&mut self, msg: &E) -> Result<usize, EncodeError> {
        // One pass when the message fits after what is queued: a failed attempt writes only
        // past `end`, where nothing is queued, and reports the exact length.
        let tail = tail_mut(&mut self.storage, *self.end);
        let need = match msg.encode(tail) {
            Ok(n) => {
                *self.end += n;
                return Ok(n);
            }
            Err(EncodeError::BufferTooSmall { required }) => required,
            Err(e) => return Err(e),
        };
        let queued = self.end.saturating_sub(*self.start);
        if need > self.storage.len().saturating_sub(queued) && !self.grow(queued, need) {
            return Err(EncodeError::BufferTooSmall { required: need });
        }
        if need > self.storage.len().saturating_sub(*self.end) {
            compact(&mut self.storage, self.start, self.end);
        }
        let tail = tail_mut(&mut self.storage, *self.end);
        let n = msg.encode(tail)?;
        *self.end += n;
        Ok(n)
    }

    /// Grows owned storage so that `need` more bytes fit after `queued`, within the bound.
    #[cfg(feature = "alloc")]
    fn grow(&mut self, queued: usize, need: usize) -> bool {
        let StorageRef::Owned(old) = &mut self.storage else {
            return false;
        };
        let want = queued.saturating_add(need);
        if want > self.max_len {
            return false;
        }
        let len = old.len().saturating_mul(2).clamp(want, self.max_len);
        let mut new = alloc::vec![0u8; len].into_boxed_slice();
        if let (Some(dst), Some(src)) = (new.get_mut(..queued), old.get(*self.start..*self.end)) {
            dst.copy_from_slice(src);
        }
        **old = new;
        *self.start = 0;
        *self.end = queued;
        true
    }

    #[cfg(not(feature = "alloc"))]
    fn grow(&mut self, _queued: usize, _need: usize) -> bool {
        false
    }

    pub(crate) fn consume(&mut self, n: usize) {
        *self.start = self.start.saturating_add(n).min(*self.end);
        if *self.start == *self.end {
            *self.start = 0;
            *self.end = 0;
        }
    }

    pub(crate) fn poll_transmit(&mut self, buf: &mut [u8]) -> Option<usize> {
        let pending = window(&self.storage, *self.start..*self.end);
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
