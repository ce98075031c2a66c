//! The `framer` harness: one byte stream, cut into pieces three ways, must frame identically.

use core::fmt::Write;

use super::Digest;
use qmp_codec::{Decoded, Dialect, FrameError, Framer, FramerConfig, Status};
use qmp_codec::{Message, ReadBuffer};

/// Header bytes before the stream: dialect, frame limit, then the piece sizes.
const HEADER: usize = 2 + PIECES;
/// How many piece sizes the header holds; they are used in turn.
const PIECES: usize = 6;
/// The largest [`ReadBuffer`] the harness uses, on the stack.
const STORAGE: usize = 4096;

/// Target `framer`: the first byte picks the dialect, the second the frame limit (which is
/// also the [`ReadBuffer`] capacity), the next six the sizes of the pieces the rest is cut
/// into. The stream is framed whole, in pieces by a [`Framer`] over a growing window, and in
/// pieces through a [`ReadBuffer`]; frames and errors must be the same each way, frames must
/// follow the dialect's rules, the buffer must never stall, and the work must stay linear.
pub fn framer(data: &[u8]) {
    let Some((header, stream)) = data.split_first_chunk::<HEADER>() else {
        return;
    };
    let dialect = match header[0] % 3 {
        0 => Dialect::Lines,
        1 => Dialect::Stream,
        _ => Dialect::Qga,
    };
    let limit = match header[1] {
        0 => STORAGE,
        n => n as usize,
    };
    let mut pieces = [0usize; PIECES];
    for (p, &b) in pieces.iter_mut().zip(&header[2..]) {
        *p = match b {
            0 => 1,
            // Mostly small pieces, sometimes large ones.
            b if b >= 0xF0 => (b as usize - 0xEF) * 512,
            b => b as usize,
        };
    }
    let config = FramerConfig::new()
        .with_dialect(dialect)
        .with_max_frame_len(limit);

    let whole = run_window(stream, config, &[usize::MAX], dialect);
    let chunked = run_window(stream, config, &pieces, dialect);
    assert_eq!(whole, chunked, "framing depends on how the stream is cut");
    let buffered = run_read_buffer(stream, config, limit, &pieces);
    assert_eq!(whole.outcomes, buffered, "ReadBuffer frames differently");
}

/// What a run produced: a digest of its outcomes, in order.
#[derive(Debug, PartialEq, Eq)]
struct Run {
    outcomes: Digest,
    frames: usize,
    errors: usize,
}

/// Adds one outcome to a digest: the frame bytes or the error.
fn record(d: &mut Digest, outcome: Result<&[u8], FrameError>) {
    match outcome {
        Ok(frame) => {
            let _ = write!(d, "F{}:", frame.len());
            for &b in frame {
                let _ = d.write_char(char::from(b));
            }
        }
        Err(e) => {
            let _ = write!(d, "E{e:?};");
        }
    }
}

/// Checks a frame against the rules of its dialect, and parses it.
fn check_frame(frame: &[u8], dialect: Dialect) {
    assert!(!frame.is_empty(), "empty frame");
    match dialect {
        Dialect::Stream => {
            let ws = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
            assert!(
                !frame.first().is_some_and(ws),
                "stream frame starts with whitespace"
            );
            assert!(
                !frame.last().is_some_and(ws),
                "stream frame ends with whitespace"
            );
        }
        _ => {
            assert!(!frame.contains(&b'\n'), "line frame holds a newline");
            assert!(
                frame
                    .iter()
                    .any(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n')),
                "blank line returned as a frame"
            );
            if dialect == Dialect::Qga {
                assert!(!frame.contains(&0xFF), "qga frame holds the 0xFF sentinel");
            }
        }
    }
    if let Ok(msg) = Message::parse(frame) {
        let _ = msg.kind();
    }
}

/// Frames `stream` with one [`Framer`], the caller's buffer being the window
/// `stream[consumed..available]`, `available` growing by `pieces` in turn.
fn run_window(stream: &[u8], config: FramerConfig, pieces: &[usize], dialect: Dialect) -> Run {
    let mut framer = Framer::new(config);
    let mut run = Run {
        outcomes: Digest::of(""),
        frames: 0,
        errors: 0,
    };
    let limit = config.max_frame_len();
    let (mut consumed, mut available) = (0usize, 0usize);
    // Every step either consumes a byte or is followed by one that does; be generous.
    let mut budget = 4 * stream.len() + 16;
    let mut piece = pieces.iter().cycle();
    let mut eof = false;
    loop {
        if available < stream.len() {
            available = available
                .saturating_add(*piece.next().unwrap_or(&1))
                .min(stream.len());
        } else {
            eof = true;
        }
        loop {
            budget = budget.checked_sub(1).expect("the framer does not progress");
            let buf = stream.get(consumed..available).unwrap_or_default();
            let position = framer.position();
            assert_eq!(
                position, consumed as u64,
                "position() is not the bytes consumed"
            );
            let step: Decoded = if eof {
                framer.finish(buf)
            } else {
                framer.decode(buf)
            };
            assert!(step.consumed <= buf.len(), "consumed more than given");
            match step.status {
                Ok(Status::Complete(frame)) => {
                    assert!(frame.start <= frame.end && frame.end <= step.consumed);
                    let bytes = step.frame(buf).expect("frame within the buffer");
                    // The frame plus its terminator fits the limit.
                    assert!(frame.len() <= limit, "frame longer than the limit");
                    check_frame(bytes, dialect);
                    record(&mut run.outcomes, Ok(bytes));
                    run.frames += 1;
                }
                Ok(Status::Partial) => {
                    consumed += step.consumed;
                    if eof {
                        assert_eq!(consumed, stream.len(), "finish left bytes behind");
                        assert_eq!(framer.position(), 0, "finish did not reset the framer");
                        return run;
                    }
                    break;
                }
                Err(e) => {
                    check_error(e, position, stream.len());
                    record(&mut run.outcomes, Err(e));
                    run.errors += 1;
                }
            }
            consumed += step.consumed;
        }
        // The work is linear in the stream length whatever the cut.
        assert!(
            framer.bytes_scanned() <= 2 * available as u64 + 8,
            "scanned {} bytes of {available}",
            framer.bytes_scanned()
        );
    }
}

/// Error offsets point into the stream.
fn check_error(e: FrameError, _position: u64, len: usize) {
    let len = len as u64;
    match e {
        FrameError::TooLong { offset, len: n } | FrameError::Truncated { offset, len: n } => {
            assert!(
                offset.saturating_add(n) <= len,
                "{e:?} past the stream end {len}"
            );
        }
        FrameError::Lexical { offset, .. } | FrameError::Stray { offset, .. } => {
            assert!(offset < len, "{e:?} past the stream end {len}");
        }
        _ => panic!("a frame error the harness does not know: {e:?}"),
    }
}

/// Frames `stream` through a [`ReadBuffer`] of `capacity` bytes, reading `pieces` in turn.
fn run_read_buffer(
    stream: &[u8],
    config: FramerConfig,
    capacity: usize,
    pieces: &[usize],
) -> Digest {
    let mut storage = [0u8; STORAGE];
    let storage = storage.get_mut(..capacity).unwrap_or_default();
    let mut rb = ReadBuffer::new(storage, config);
    let mut outcomes = Digest::of("");
    let mut budget = 4 * stream.len() + 16;
    let mut fed = 0usize;
    let mut piece = pieces.iter().cycle();
    while fed < stream.len() {
        let spare = rb.spare();
        assert!(!spare.is_empty(), "ReadBuffer stalled with a full buffer");
        let want = (*piece.next().unwrap_or(&1)).min(stream.len() - fed);
        let n = want.min(spare.len());
        if let (Some(dst), Some(src)) = (spare.get_mut(..n), stream.get(fed..fed + n)) {
            dst.copy_from_slice(src);
        }
        rb.commit(n);
        fed += n;
        while let Some(outcome) = rb.next_frame() {
            budget = budget.checked_sub(1).expect("ReadBuffer does not progress");
            record(&mut outcomes, outcome);
        }
        assert!(rb.buffered().len() <= capacity);
    }
    while let Some(outcome) = rb.finish() {
        budget = budget
            .checked_sub(1)
            .expect("ReadBuffer::finish does not progress");
        record(&mut outcomes, outcome);
    }
    assert!(rb.buffered().is_empty(), "finish left bytes buffered");
    outcomes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_header(dialect: u8, limit: u8, pieces: [u8; PIECES], stream: &[u8]) -> [u8; 512] {
        let mut data = [0u8; 512];
        data[0] = dialect;
        data[1] = limit;
        data[2..HEADER].copy_from_slice(&pieces);
        data[HEADER..HEADER + stream.len()].copy_from_slice(stream);
        data
    }

    #[test]
    fn framer_harness_runs_every_dialect() {
        let stream: &[u8] = b"{\"QMP\": {}}\r\n\r\n{\"return\": {}, \"id\": 1}\r\n{\"a\": [1,\r\n 2]}{\"b\": \"}\"} 12 true\xff{\"x\"\n}}";
        for dialect in 0..3 {
            for (limit, pieces) in [
                (0, [0; PIECES]),
                (5, [1, 2, 3, 4, 5, 6]),
                (40, [7, 0xF0, 1, 9, 2, 3]),
            ] {
                let data = with_header(dialect, limit, pieces, stream);
                framer(&data[..HEADER + stream.len()]);
            }
        }
        framer(b"");
        framer(&[1; HEADER]);
    }

    #[test]
    fn runs_agree_on_frames() {
        let stream = b"{\"a\": 1}\r\n  \r\n[2]\n";
        let config = FramerConfig::new();
        let whole = run_window(stream, config, &[usize::MAX], Dialect::Lines);
        assert_eq!((whole.frames, whole.errors), (2, 0));
        let bytewise = run_window(stream, config, &[1], Dialect::Lines);
        assert_eq!(whole, bytewise);
        let mut expected = Digest::of("");
        record(&mut expected, Ok(b"{\"a\": 1}"));
        record(&mut expected, Ok(b"[2]"));
        assert_eq!(whole.outcomes, expected);
        assert_eq!(run_read_buffer(stream, config, 16, &[3]), expected);
    }
}
