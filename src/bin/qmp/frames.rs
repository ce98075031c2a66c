//! A blocking read loop around the sans-IO [`Framer`], over any `io::Read`.
//!
//! The buffer grows as frames need it and never beyond `max_frame + chunk` bytes: after each
//! `Partial` step the framer has consumed everything but the frame in progress, which it
//! skips once it needs more than `max_frame` bytes.

use std::io::{self, Read};

use qmp_codec::{FrameError, Framer, FramerConfig, Status};

/// What the next step of a [`FrameReader`] found.
pub enum Item<'a> {
    /// A frame: its bytes (without line terminator) and the stream offset of its first byte.
    Frame {
        /// Stream offset of the first byte.
        offset: u64,
        /// The frame's bytes.
        bytes: &'a [u8],
    },
    /// A bad frame, already skipped.
    Error(FrameError),
}

/// Reads `chunk` bytes at a time from `reader` and hands out frames in stream order.
pub struct FrameReader<R> {
    reader: R,
    framer: Framer,
    /// Storage; `buf[start..end]` is read but not consumed, `buf[end..]` is spare.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    chunk: usize,
    /// The most storage ever allocated: `max_frame + chunk`.
    limit: usize,
    eof: bool,
    done: bool,
}

impl<R: Read> FrameReader<R> {
    /// A reader framing with `config`, reading `chunk` bytes (at least 1) per call.
    pub fn new(reader: R, config: FramerConfig, chunk: usize) -> Self {
        let chunk = chunk.max(1);
        FrameReader {
            reader,
            framer: Framer::new(config),
            buf: Vec::new(),
            start: 0,
            end: 0,
            chunk,
            limit: config.max_frame_len().saturating_add(chunk),
            eof: false,
            done: false,
        }
    }

    /// The next frame or bad frame; `None` at the end of the stream.
    pub fn next_item(&mut self) -> io::Result<Option<Item<'_>>> {
        loop {
            if self.done {
                return Ok(None);
            }
            let position = self.framer.position();
            let base = self.start;
            let pending = self.buf.get(base..self.end).unwrap_or_default();
            let step = if self.eof {
                self.framer.finish(pending)
            } else {
                self.framer.decode(pending)
            };
            // The framer never consumes more than it was given.
            self.start = base.saturating_add(step.consumed).min(self.end);
            match step.status {
                Ok(Status::Complete(frame)) => {
                    let range = base.saturating_add(frame.start)..base.saturating_add(frame.end);
                    let bytes = self.buf.get(range).unwrap_or_default();
                    let offset = position.saturating_add(frame.start as u64);
                    return Ok(Some(Item::Frame { offset, bytes }));
                }
                Err(error) => return Ok(Some(Item::Error(error))),
                Ok(Status::Partial) if self.eof => self.done = true,
                Ok(Status::Partial) => self.fill()?,
            }
        }
    }

    /// Reads one chunk (or notes the end of the stream).
    fn fill(&mut self) -> io::Result<()> {
        let pending = self.end - self.start;
        if pending == 0 {
            self.start = 0;
            self.end = 0;
        } else if self.start > 0
            && (self.start >= pending || self.end.saturating_add(self.chunk) > self.buf.len())
        {
            // Move the frame in progress to the front: when at least as many bytes have been
            // consumed (so each byte moves O(1) times), or when the spare room is short.
            self.buf.copy_within(self.start..self.end, 0);
            self.start = 0;
            self.end = pending;
        }
        let need = self.end.saturating_add(self.chunk);
        if need > self.buf.len() {
            let grown = self.buf.len().saturating_mul(2).min(self.limit).max(need);
            self.buf.reserve_exact(grown - self.buf.len());
            self.buf.resize(grown, 0);
        }
        let spare = self.buf.get_mut(self.end..need).unwrap_or_default();
        let n = loop {
            match self.reader.read(spare) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        if n == 0 {
            self.eof = true;
        }
        self.end = self.end.saturating_add(n).min(need);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qmp_codec::Dialect;

    /// Collects what a reader yields, noting the largest storage it ever held.
    fn collect(input: &[u8], config: FramerConfig, chunk: usize) -> (Vec<String>, usize) {
        let mut reader = FrameReader::new(input, config, chunk);
        let mut out = Vec::new();
        let mut peak = 0;
        while let Some(item) = reader.next_item().unwrap() {
            out.push(match item {
                Item::Frame { offset, bytes } => {
                    format!("{offset}:{}", String::from_utf8_lossy(bytes))
                }
                Item::Error(e) => format!("error {e}"),
            });
            peak = peak.max(reader.buf.len());
        }
        (out, peak.max(reader.buf.len()))
    }

    #[test]
    fn storage_stays_within_max_frame_plus_chunk() {
        let mut input = b"{\"a\": 1}\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', 100_000));
        input.extend_from_slice(b"\n{\"b\": 2}\n");
        for chunk in [1, 3, 64, 4096] {
            let config = FramerConfig::new().with_max_frame_len(256);
            let (out, peak) = collect(&input, config, chunk);
            assert_eq!(
                out,
                [
                    "0:{\"a\": 1}".to_owned(),
                    "error frame at offset 9 too long (100000 bytes)".to_owned(),
                    "100010:{\"b\": 2}".to_owned(),
                ]
            );
            assert!(peak <= 256 + chunk, "chunk {chunk}: peak {peak}");
        }
    }

    #[test]
    fn a_large_frame_grows_the_buffer_and_chunkings_agree() {
        let big = format!("{{\"return\": \"{}\"}}", "y".repeat(50_000));
        let input = format!(" {big} {{\"event\": \"E\"}}[1]{{");
        let config = FramerConfig::new().with_dialect(Dialect::Stream);
        let (whole, _) = collect(input.as_bytes(), config, 1 << 20);
        assert_eq!(whole.len(), 4);
        assert_eq!(whole[0], format!("1:{big}"));
        assert_eq!(
            whole[3],
            format!(
                "error stream ended inside a frame at offset {} (1 bytes)",
                input.len() - 1
            )
        );
        for chunk in [1, 2, 5, 999] {
            let (out, peak) = collect(input.as_bytes(), config, chunk);
            assert_eq!(out, whole, "chunk {chunk}");
            assert!(peak < 2 * big.len() + chunk, "chunk {chunk}: peak {peak}");
        }
    }
}
