//! The `decode_message` harness: framing folded into the scan must give exactly what the
//! framer followed by `Message::parse_with` gives, step by step, however the stream is cut.

use core::fmt::Write;

use super::Digest;
use qmp_codec::{Dialect, Framer, FramerConfig, MessageError, Status};
use qmp_codec::{Limits, Message};

/// Header bytes: dialect, frame limit, depth limit, then the piece sizes.
const HEADER: usize = 3 + PIECES;
/// How many piece sizes the header holds; they are used in turn.
const PIECES: usize = 5;

/// One step: bytes consumed and a digest of the outcome (`None` for `Partial`).
type Step = (usize, Option<Digest>);

fn message_digest(msg: &Message<'_>) -> Digest {
    let mut d = Digest::of("M");
    let _ = write!(
        d,
        "{:?}|{}|{}|",
        msg.kind(),
        msg.len(),
        msg.as_bytes().len()
    );
    for name in [
        "QMP", "event", "error", "return", "execute", "exec-oob", "id",
    ] {
        let _ = write!(d, "{name}={:?};", msg.get(name).map(|v| v.raw()));
    }
    let _ = write!(d, "{:?}", msg.as_value().raw());
    d
}

fn fused(framer: &mut Framer, buf: &[u8], eof: bool, limits: &Limits) -> Step {
    let step = if eof {
        framer.finish_message_with(buf, limits)
    } else {
        framer.decode_message_with(buf, limits)
    };
    assert!(step.consumed <= buf.len(), "consumed more than given");
    let out = match step.status {
        Ok(Status::Complete(msg)) => Some(message_digest(&msg)),
        Ok(Status::Partial) => None,
        Err(MessageError::Frame(e)) => Some(Digest::of(format_args!("F{e:?}"))),
        Err(MessageError::Parse { offset, error }) => {
            Some(Digest::of(format_args!("P{offset}:{error:?}:{error}")))
        }
        Err(e) => panic!("a message error the harness does not know: {e:?}"),
    };
    (step.consumed, out)
}

fn composed(framer: &mut Framer, buf: &[u8], eof: bool, limits: &Limits) -> Step {
    let base = framer.position();
    let step = if eof {
        framer.finish(buf)
    } else {
        framer.decode(buf)
    };
    let out = match step.status {
        Ok(Status::Complete(frame)) => {
            let bytes = buf.get(frame.range()).unwrap_or_default();
            Some(match Message::parse_with(bytes, limits) {
                Ok(msg) => message_digest(&msg),
                Err(error) => Digest::of(format_args!(
                    "P{}:{error:?}:{error}",
                    base + frame.start as u64
                )),
            })
        }
        Ok(Status::Partial) => None,
        Err(e) => Some(Digest::of(format_args!("F{e:?}"))),
    };
    (step.consumed, out)
}

/// Target `decode_message`: the first byte picks the dialect, the second the frame limit,
/// the third the depth limit, the next five the piece sizes the rest is cut into. The stream
/// is fed to two framers, one through [`Framer::decode_message_with`] and one through
/// [`Framer::decode`] + [`Message::parse_with`]; every step must agree.
pub fn decode_message(data: &[u8]) {
    let Some((header, stream)) = data.split_first_chunk::<HEADER>() else {
        return;
    };
    let dialect = match header[0] % 3 {
        0 => Dialect::Lines,
        1 => Dialect::Stream,
        _ => Dialect::Qga,
    };
    let limit = match header[1] {
        0 => 4096,
        n => n as usize,
    };
    let limits = Limits::new().with_max_depth(header[2] as usize % 40 + 1);
    let config = FramerConfig::new()
        .with_dialect(dialect)
        .with_max_frame_len(limit);
    let mut a = Framer::new(config);
    let mut b = Framer::new(config);
    let (mut consumed, mut available, mut piece) = (0usize, 0usize, 0usize);
    let mut steps = 0usize;
    loop {
        let eof = available >= stream.len();
        let window = stream.get(consumed..available).unwrap_or_default();
        let x = fused(&mut a, window, eof, &limits);
        let y = composed(&mut b, window, eof, &limits);
        assert_eq!(x, y, "decode_message and framer+parse disagree");
        steps += 1;
        assert!(steps <= 4 * stream.len() + 16, "no progress");
        consumed += x.0;
        if x.1.is_none() {
            if eof {
                return;
            }
            let size = match header[3 + piece % PIECES] {
                0 => 1,
                n => n as usize,
            };
            piece += 1;
            available = available.saturating_add(size).min(stream.len());
        }
    }
}
