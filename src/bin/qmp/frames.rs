//! A blocking read loop over any `io::Read`: the crate's [`ReadBuffer`] (its one read path),
//! filled `chunk` bytes at a time.
//!
//! The buffer holds `max_frame + chunk` bytes (allocated zeroed, so pages are touched only
//! as frames need them): the framer consumes everything but the frame in progress, which it
//! skips once it needs more than `max_frame` bytes.

use std::io::{self, Read};

use qmp_codec::{FrameError, FramerConfig, ReadBuffer};

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
    buf: ReadBuffer<'static>,
    chunk: usize,
}

impl<R: Read> FrameReader<R> {
    /// A reader framing with `config`, reading `chunk` bytes (at least 1) per call.
    pub fn new(reader: R, config: FramerConfig, chunk: usize) -> Self {
        let chunk = chunk.max(1);
        let capacity = config.max_frame_len().saturating_add(chunk);
        FrameReader {
            reader,
            buf: ReadBuffer::with_capacity(capacity, config),
            chunk,
        }
    }

    /// The next frame or bad frame; `None` at the end of the stream.
    pub fn next_item(&mut self) -> io::Result<Option<Item<'_>>> {
        let (reader, chunk) = (&mut self.reader, self.chunk);
        let step = self.buf.read_frame(|spare: &mut [u8]| {
            let want = spare.len().min(chunk);
            let spare = spare.get_mut(..want).unwrap_or_default();
            loop {
                match reader.read(spare) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    other => return other,
                }
            }
        })?;
        Ok(step.map(|(offset, frame)| match frame {
            Ok(bytes) => Item::Frame { offset, bytes },
            Err(error) => Item::Error(error),
        }))
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
            peak = peak.max(reader.buf.capacity());
        }
        (out, peak.max(reader.buf.capacity()))
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
    fn a_large_frame_and_chunkings_agree() {
        let big = format!("{{\"return\": \"{}\"}}", "y".repeat(50_000));
        let input = format!(" {big} {{\"event\": \"E\"}}[1]{{");
        let config = FramerConfig::new()
            .with_dialect(Dialect::Stream)
            .with_max_frame_len(64 * 1024);
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
            assert!(peak <= 64 * 1024 + chunk, "chunk {chunk}: peak {peak}");
        }
    }
}
