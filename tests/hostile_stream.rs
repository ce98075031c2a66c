//! Hostile streams through the framer and the parser together: huge lines, floods of tiny
//! messages, and every split point of real messages. Memory stays bounded by the caller's
//! buffer and no valid message is lost because of a bad neighbour.

mod common;

use qmp_codec::{Dialect, FrameError, Framer, FramerConfig, Kind, Message, ReadBuffer, Status};

/// Outcomes of a stream as the tests compare them: a frame's bytes or an error.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Frame(Vec<u8>),
    Error(FrameError),
}

/// Feeds `pieces` to a framer under the buffer contract, then finishes the stream.
fn feed(dialect: Dialect, pieces: &[&[u8]]) -> Vec<Outcome> {
    let mut framer = Framer::new(FramerConfig::new().with_dialect(dialect));
    let mut pending: Vec<u8> = Vec::new();
    let mut out = Vec::new();
    let mut drain = |framer: &mut Framer, pending: &mut Vec<u8>, eof: bool| loop {
        let d = if eof {
            framer.finish(pending)
        } else {
            framer.decode(pending)
        };
        let partial = match d.status {
            Ok(Status::Complete(f)) => {
                out.push(Outcome::Frame(pending[f.range()].to_vec()));
                false
            }
            Ok(Status::Partial) => true,
            Err(e) => {
                out.push(Outcome::Error(e));
                false
            }
        };
        pending.drain(..d.consumed);
        if partial {
            break;
        }
    };
    for p in pieces {
        pending.extend_from_slice(p);
        drain(&mut framer, &mut pending, false);
    }
    drain(&mut framer, &mut pending, true);
    out
}

#[test]
fn a_frame_split_at_every_byte_offset() {
    let cap = common::Capture::load("qsd");
    let messages = cap.messages();
    // A greeting, an error with escapes, an event, a return with a nested object: each with
    // a neighbour on both sides, so a split never merges or loses frames.
    let pick: Vec<&[u8]> = [0usize, 1, 20, 60, 300]
        .iter()
        .filter_map(|&i| messages.get(i).copied())
        .collect();
    assert_eq!(pick.len(), 5);
    for dialect in [Dialect::Lines, Dialect::Stream, Dialect::Qga] {
        for window in pick.windows(3) {
            let stream: Vec<u8> = window.concat();
            let whole = feed(dialect, &[&stream]);
            assert_eq!(whole.len(), 3, "{dialect:?}: {whole:?}");
            for k in 0..=stream.len() {
                let split = feed(dialect, &[&stream[..k], &stream[k..]]);
                assert_eq!(split, whole, "{dialect:?} split at {k}");
            }
            for outcome in &whole {
                let Outcome::Frame(f) = outcome else {
                    panic!("{dialect:?}: {outcome:?}")
                };
                Message::parse(f).unwrap();
            }
        }
    }
}

/// Reads `total` bytes produced by `fill` through a `ReadBuffer` over `storage` in reads of
/// `chunk` bytes, calling `on_frame` for each outcome.
fn pump(
    storage: &mut [u8],
    config: FramerConfig,
    chunk: usize,
    mut fill: impl FnMut(&mut [u8]) -> usize,
    mut on_frame: impl FnMut(Result<&[u8], FrameError>),
) {
    let mut rb = ReadBuffer::new(storage, config);
    loop {
        let spare = rb.spare();
        let want = spare.len().min(chunk);
        let n = fill(&mut spare[..want]);
        if n == 0 {
            break;
        }
        rb.commit(n);
        while let Some(f) = rb.next_frame() {
            on_frame(f);
        }
    }
    while let Some(f) = rb.finish() {
        on_frame(f);
    }
}

#[test]
fn a_64_mib_line_against_the_10_mib_limit_keeps_memory_bounded_and_the_next_message() {
    const HUGE: usize = 64 << 20;
    // {"return": "xxxx…"}\r\n of 64 MiB, then a valid event.
    let head = b"{\"return\": \"";
    let tail =
        b"\"}\r\n{\"event\": \"STOP\", \"timestamp\": {\"seconds\": 1, \"microseconds\": 2}}\r\n";
    let mut produced = 0usize;
    let total = HUGE + tail.len();
    let fill = |dst: &mut [u8]| {
        let mut n = 0;
        while n < dst.len() && produced < total {
            let b = if produced < head.len() {
                head[produced]
            } else if produced < HUGE {
                b'x'
            } else {
                tail[produced - HUGE]
            };
            dst[n] = b;
            n += 1;
            produced += 1;
        }
        n
    };
    // The caller's whole memory for the stream: one buffer of the default limit.
    let mut storage = vec![0u8; qmp_codec::DEFAULT_MAX_FRAME_LEN];
    let mut outcomes = Vec::new();
    pump(
        &mut storage,
        FramerConfig::new(),
        1 << 20,
        fill,
        |f| match f {
            Ok(bytes) => outcomes.push(Ok(Message::parse(bytes).unwrap().kind())),
            Err(e) => outcomes.push(Err(e)),
        },
    );
    assert_eq!(outcomes.len(), 2, "{outcomes:?}");
    match outcomes[0] {
        Err(FrameError::TooLong { offset, len }) => {
            assert_eq!(offset, 0);
            assert!(len >= HUGE as u64, "{len}");
        }
        ref other => panic!("{other:?}"),
    }
    assert_eq!(outcomes[1], Ok(Kind::Event));
}

#[test]
fn a_million_tiny_messages_all_come_out() {
    const N: usize = 1_000_000;
    let msgs: [&[u8]; 3] = [
        b"{\"return\": {}}\r\n",
        b"{\"event\": \"STOP\"}\r\n",
        b"{\"return\":{},\"id\":7}\n",
    ];
    let mut i = 0usize;
    let mut off = 0usize;
    let fill = |dst: &mut [u8]| {
        let mut n = 0;
        while n < dst.len() && i < N {
            let m = msgs[i % 3];
            let k = (m.len() - off).min(dst.len() - n);
            dst[n..n + k].copy_from_slice(&m[off..off + k]);
            n += k;
            off += k;
            if off == m.len() {
                off = 0;
                i += 1;
            }
        }
        n
    };
    let mut storage = [0u8; 4096];
    let mut counts = [0usize; 3];
    pump(&mut storage, FramerConfig::new(), 1000, fill, |f| {
        let m = Message::parse(f.unwrap()).unwrap();
        match (m.kind(), m.id().is_some()) {
            (Kind::Return, false) => counts[0] += 1,
            (Kind::Event, false) => counts[1] += 1,
            (Kind::Return, true) => counts[2] += 1,
            other => panic!("{other:?}"),
        }
    });
    assert_eq!(counts, [N.div_ceil(3), (N + 1) / 3, N / 3]);
}

#[test]
fn junk_between_messages_never_loses_the_valid_ones() {
    let cap = common::Capture::load("qsd");
    let good: Vec<&[u8]> = cap.messages().into_iter().take(50).collect();
    let junk: [&[u8]; 6] = [
        b"}\r\n",
        b"{\"a\": 01}\r\n",
        b"\xff\xfe\r\n",
        b"[1, 2\r\n",
        b"\"unterminated\r\n",
        b"nul\r\n",
    ];
    let mut stream = Vec::new();
    for (i, m) in good.iter().enumerate() {
        stream.extend_from_slice(junk[i % junk.len()]);
        stream.extend_from_slice(m);
    }
    let outcomes = feed(Dialect::Lines, &[&stream]);
    let parsed: Vec<Vec<u8>> = outcomes
        .iter()
        .filter_map(|o| match o {
            Outcome::Frame(f) if Message::parse(f).is_ok() => Some(f.clone()),
            _ => None,
        })
        .collect();
    let expected: Vec<Vec<u8>> = good
        .iter()
        .map(|m| m.strip_suffix(b"\r\n").unwrap().to_vec())
        .collect();
    assert_eq!(parsed, expected);
}
