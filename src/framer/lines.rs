//! The lines and qga dialects: frames end at `\n`, found with memchr.

use super::{is_ws, Decoded, Frame, FrameError, Framer, Status};

impl Framer {
    /// One step of the lines dialect; with `qga`, `0xFF` also discards the current line.
    ///
    /// Invariant between calls: the current line starts at `buf[0]` (everything before it was
    /// consumed), and while skipping a too-long line every scanned byte has been consumed.
    pub(super) fn decode_lines(&mut self, buf: &[u8], eof: bool, qga: bool) -> Decoded {
        // Start of the current line in `buf`.
        let mut front = 0usize;
        let mut pos = self.scanned.min(buf.len());
        self.scanned = 0;
        loop {
            let rest = buf.get(pos..).unwrap_or_default();
            let hit = if qga {
                crate::find::memchr2(b'\n', 0xFF, rest)
            } else {
                crate::find::memchr(b'\n', rest)
            };
            let seg_end = hit.map_or(buf.len(), |i| pos.saturating_add(i));
            let seg = buf.get(pos..seg_end).unwrap_or_default();
            // The segment's work, added once: at most twice its length and one, which a
            // `usize` holds (a slice is at most `isize::MAX` bytes).
            let mut work = seg.len() + usize::from(hit.is_some());
            if self.skipping.is_none() && !self.line_content {
                // Looks only at bytes never checked before, and stops at the first non-blank.
                match seg.iter().position(|&b| !is_ws(b)) {
                    Some(k) => {
                        self.line_content = true;
                        work += k + 1;
                    }
                    None => work += seg.len(),
                }
            }
            self.work = self.work.saturating_add(work as u64);
            let Some(term) = hit.map(|i| pos.saturating_add(i)) else {
                break;
            };
            let next = term.saturating_add(1);
            if buf.get(term) == Some(&0xFF) {
                // The qga sentinel: drop the line so far, and the sentinel.
                front = next;
                pos = next;
                self.skipping = None;
                self.line_content = false;
                self.prev_cr = false;
                continue;
            }
            // A `\n` at `term`: the line is `buf[front..term]` (plus skipped bytes).
            let cr = if term > front {
                buf.get(term - 1) == Some(&b'\r')
            } else {
                self.skipping.is_some() && self.prev_cr
            };
            let in_buf = (term - front) as u64;
            let gone = self.skipping.map_or(0, |(_, gone)| gone);
            let needed = gone.saturating_add(in_buf).saturating_add(1);
            if self.skipping.is_some() || needed > self.max() {
                let offset = self
                    .skipping
                    .map_or(self.position.saturating_add(front as u64), |(o, _)| o);
                let len = gone.saturating_add(in_buf).saturating_sub(u64::from(cr));
                self.end_line();
                return self.out(next, Err(FrameError::TooLong { offset, len }));
            }
            if !self.line_content {
                // A blank line: skip it.
                front = next;
                pos = next;
                self.end_line();
                continue;
            }
            let end = if cr { term - 1 } else { term };
            self.end_line();
            return self.out(next, Ok(Status::Complete(Frame { start: front, end })));
        }
        // No terminator in `buf[front..]`.
        let pending = buf.len().saturating_sub(front);
        let tail_cr = if pending > 0 {
            buf.last() == Some(&b'\r')
        } else {
            self.skipping.is_some() && self.prev_cr
        };
        if let Some((offset, gone)) = self.skipping {
            let gone = gone.saturating_add(pending as u64);
            if eof {
                self.end_line();
                let len = gone.saturating_sub(u64::from(tail_cr));
                return self.out(buf.len(), Err(FrameError::TooLong { offset, len }));
            }
            self.skipping = Some((offset, gone));
            self.prev_cr = tail_cr;
            return self.out(buf.len(), Ok(Status::Partial));
        }
        if pending as u64 >= self.max() {
            // Would need more room than allowed: skip this line from now on.
            let offset = self.position.saturating_add(front as u64);
            if eof {
                self.end_line();
                let len = (pending as u64).saturating_sub(u64::from(tail_cr));
                return self.out(buf.len(), Err(FrameError::TooLong { offset, len }));
            }
            self.skipping = Some((offset, pending as u64));
            self.prev_cr = tail_cr;
            return self.out(buf.len(), Ok(Status::Partial));
        }
        if eof {
            let content = self.line_content;
            self.end_line();
            if content {
                let end = if tail_cr { buf.len() - 1 } else { buf.len() };
                return self.out(buf.len(), Ok(Status::Complete(Frame { start: front, end })));
            }
            return self.out(buf.len(), Ok(Status::Partial));
        }
        self.scanned = pending;
        self.out(front, Ok(Status::Partial))
    }

    /// Clears the per-line state once a line is done.
    pub(super) fn end_line(&mut self) {
        self.scanned = 0;
        self.skipping = None;
        self.line_content = false;
        self.prev_cr = false;
    }
}
