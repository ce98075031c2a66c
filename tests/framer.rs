//! Framer tests: hand-written cases, naive oracles, chunking invariance, real captures.

use proptest::prelude::*;
use qmp_codec::{
    Dialect, FrameError, Framer, FramerConfig, LexicalKind, ReadBuffer, Status,
    DEFAULT_MAX_FRAME_LEN,
};

/// One outcome, with absolute offsets so chunkings can be compared.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Out {
    Frame { offset: u64, bytes: Vec<u8> },
    Err(FrameError),
}

fn frame(offset: u64, bytes: &[u8]) -> Out {
    Out::Frame {
        offset,
        bytes: bytes.to_vec(),
    }
}

fn config(dialect: Dialect, max: usize) -> FramerConfig {
    FramerConfig::new()
        .with_dialect(dialect)
        .with_max_frame_len(max)
}

/// Feeds `input` cut at `cuts` (sizes, cycled), then finishes. Checks the consumed contract.
fn run_chunked(config: FramerConfig, input: &[u8], sizes: &[usize]) -> (Vec<Out>, Framer) {
    let mut framer = Framer::new(config);
    let mut buf: Vec<u8> = Vec::new();
    let mut out = Vec::new();
    let mut fed = 0;
    let mut k = 0;
    while fed < input.len() {
        let n = sizes
            .get(k % sizes.len().max(1))
            .copied()
            .unwrap_or(1)
            .max(1);
        k += 1;
        let n = n.min(input.len() - fed);
        buf.extend_from_slice(&input[fed..fed + n]);
        fed += n;
        drain(&mut framer, &mut buf, &mut out, false);
    }
    drain(&mut framer, &mut buf, &mut out, true);
    assert!(buf.is_empty(), "finish must consume everything");
    (out, framer)
}

fn drain(framer: &mut Framer, buf: &mut Vec<u8>, out: &mut Vec<Out>, eof: bool) {
    loop {
        let base = framer.position();
        let step = if eof {
            framer.finish(buf)
        } else {
            framer.decode(buf)
        };
        assert!(step.consumed <= buf.len());
        match step.status {
            Ok(Status::Complete(f)) => {
                assert!(f.start < f.end && f.end <= step.consumed, "{f:?} {step:?}");
                out.push(frame(base + f.start as u64, &buf[f.range()]));
            }
            Err(e) => out.push(Out::Err(e)),
            Ok(Status::Partial) => {
                buf.drain(..step.consumed);
                if eof {
                    assert!(buf.is_empty());
                }
                return;
            }
        }
        buf.drain(..step.consumed);
    }
}

fn run(config: FramerConfig, input: &[u8]) -> Vec<Out> {
    run_chunked(config, input, &[input.len().max(1)]).0
}

fn lines(input: &[u8]) -> Vec<Out> {
    run(FramerConfig::new(), input)
}

fn stream(input: &[u8]) -> Vec<Out> {
    run(config(Dialect::Stream, DEFAULT_MAX_FRAME_LEN), input)
}

fn frames(outs: &[Out]) -> Vec<&[u8]> {
    outs.iter()
        .filter_map(|o| match o {
            Out::Frame { bytes, .. } => Some(&bytes[..]),
            Out::Err(_) => None,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Naive oracles: whole input at once, written for clarity, not speed.

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn oracle_lines(input: &[u8], max: usize, qga: bool) -> Vec<Out> {
    let mut out = Vec::new();
    let mut line_start = 0;
    for (i, &b) in input.iter().enumerate() {
        if qga && b == 0xFF {
            line_start = i + 1;
        } else if b == b'\n' {
            let line = &input[line_start..i];
            let body = strip_cr(line);
            if line.len() + 1 > max {
                out.push(Out::Err(FrameError::TooLong {
                    offset: line_start as u64,
                    len: body.len() as u64,
                }));
            } else if !body.iter().all(|&b| is_ws(b)) {
                out.push(frame(line_start as u64, body));
            }
            line_start = i + 1;
        }
    }
    let rest = &input[line_start..];
    if rest.len() >= max {
        out.push(Out::Err(FrameError::TooLong {
            offset: line_start as u64,
            len: strip_cr(rest).len() as u64,
        }));
    } else if !rest.iter().all(|&b| is_ws(b)) {
        out.push(frame(line_start as u64, strip_cr(rest)));
    }
    out
}

/// How a token scan ended.
enum Scan {
    /// Token `[start, end)`; `lookahead` if a number/keyword ended by a following byte.
    Token { end: usize, lookahead: bool },
    /// Error at this byte (consumed).
    Error(usize, LexicalKind),
    /// Input ended inside the token; `complete` if it would be a whole number/keyword.
    Eof { complete: bool },
}

fn scan_string(input: &[u8], i: usize) -> Scan {
    let quote = input[i];
    let mut j = i + 1;
    loop {
        let Some(&c) = input.get(j) else {
            return Scan::Eof { complete: false };
        };
        if c == quote {
            return Scan::Token {
                end: j + 1,
                lookahead: false,
            };
        }
        if !(0x20..=0xFD).contains(&c) {
            return Scan::Error(j, LexicalKind::InvalidString);
        }
        if c == b'\\' {
            let Some(&d) = input.get(j + 1) else {
                return Scan::Eof { complete: false };
            };
            if !(0x20..=0xFD).contains(&d) {
                return Scan::Error(j + 1, LexicalKind::InvalidString);
            }
            j += 2;
        } else {
            j += 1;
        }
    }
}

fn digits(input: &[u8], mut j: usize) -> usize {
    while input.get(j).is_some_and(u8::is_ascii_digit) {
        j += 1;
    }
    j
}

/// Requires at least one digit at `j`.
fn need_digit(input: &[u8], j: usize) -> Result<usize, Scan> {
    match input.get(j) {
        None => Err(Scan::Eof { complete: false }),
        Some(c) if c.is_ascii_digit() => Ok(digits(input, j)),
        Some(_) => Err(Scan::Error(j, LexicalKind::InvalidNumber)),
    }
}

fn scan_number(input: &[u8], i: usize) -> Scan {
    let inner = || -> Result<usize, Scan> {
        let mut j = i;
        if input[j] == b'-' {
            j += 1;
            match input.get(j) {
                None => return Err(Scan::Eof { complete: false }),
                Some(c) if c.is_ascii_digit() => {}
                Some(_) => return Err(Scan::Error(j, LexicalKind::InvalidNumber)),
            }
        }
        if input[j] == b'0' {
            j += 1;
            if input.get(j).is_some_and(u8::is_ascii_digit) {
                return Err(Scan::Error(j, LexicalKind::InvalidNumber));
            }
            if input.get(j) != Some(&b'.') {
                return Ok(j);
            }
        } else {
            j = digits(input, j);
        }
        if input.get(j) == Some(&b'.') {
            j = need_digit(input, j + 1)?;
        }
        if matches!(input.get(j), Some(b'e' | b'E')) {
            j += 1;
            if matches!(input.get(j), Some(b'+' | b'-')) {
                j += 1;
            }
            j = need_digit(input, j)?;
        }
        Ok(j)
    };
    match inner() {
        Ok(end) if end == input.len() => Scan::Eof { complete: true },
        Ok(end) => Scan::Token {
            end,
            lookahead: true,
        },
        Err(scan) => scan,
    }
}

fn oracle_stream(input: &[u8], max: usize) -> Vec<Out> {
    let max = max as u64;
    let mut out = Vec::new();
    let mut i = 0;
    let mut start: Option<usize> = None;
    let (mut braces, mut brackets) = (0i64, 0i64);
    // Ends the pending frame with an error at `at`.
    let fail = |out: &mut Vec<Out>, start: &mut Option<usize>, at: usize, e: FrameError| {
        if let Some(s) = start.take() {
            let len = (at - s) as u64;
            if len >= max {
                out.push(Out::Err(FrameError::TooLong {
                    offset: s as u64,
                    len,
                }));
            }
        }
        out.push(Out::Err(e));
    };
    'outer: while i < input.len() {
        let b = input[i];
        if is_ws(b) {
            i += 1;
            continue;
        }
        let scan = match b {
            b'{' | b'}' | b'[' | b']' | b',' | b':' => Scan::Token {
                end: i + 1,
                lookahead: false,
            },
            b'"' | b'\'' => scan_string(input, i),
            b'-' | b'0'..=b'9' => scan_number(input, i),
            b'a'..=b'z' => {
                let mut j = i;
                while input.get(j).is_some_and(u8::is_ascii_lowercase) {
                    j += 1;
                }
                if j == input.len() {
                    Scan::Eof { complete: true }
                } else {
                    Scan::Token {
                        end: j,
                        lookahead: true,
                    }
                }
            }
            _ => Scan::Error(i, LexicalKind::UnexpectedByte),
        };
        match scan {
            Scan::Error(at, kind) => {
                if at > i && start.is_none() {
                    // The bad byte cut short a token that had started a frame.
                    start = Some(i);
                }
                let e = FrameError::Lexical {
                    offset: at as u64,
                    byte: input[at],
                    kind,
                };
                fail(&mut out, &mut start, at, e);
                braces = 0;
                brackets = 0;
                // Recovery: skip to a structural or control byte, or 0xFE/0xFF.
                i = at + 1;
                while let Some(&c) = input.get(i) {
                    if (c < 0x20 && c != b'\t') || c >= 0xFE || b"[]{}:,".contains(&c) {
                        break;
                    }
                    i += 1;
                }
                continue 'outer;
            }
            Scan::Eof { complete } => {
                let s = *start.get_or_insert(i);
                let len = (input.len() - s) as u64;
                out.push(if len >= max {
                    Out::Err(FrameError::TooLong {
                        offset: s as u64,
                        len,
                    })
                } else if complete && braces == 0 && brackets == 0 {
                    frame(s as u64, &input[s..])
                } else {
                    Out::Err(FrameError::Truncated {
                        offset: s as u64,
                        len,
                    })
                });
                return out;
            }
            Scan::Token { end, lookahead } => {
                let s = *start.get_or_insert(i);
                match b {
                    b'{' => braces += 1,
                    b'}' => braces -= 1,
                    b'[' => brackets += 1,
                    b']' => brackets -= 1,
                    _ => {}
                }
                i = end;
                if (braces > 0 || brackets > 0) && braces >= 0 && brackets >= 0 {
                    continue;
                }
                if braces < 0 || brackets < 0 || b == b',' || b == b':' {
                    let at = end - 1;
                    let e = FrameError::Stray {
                        offset: at as u64,
                        byte: input[at],
                    };
                    fail(&mut out, &mut start, at, e);
                } else {
                    let len = (end - s) as u64;
                    out.push(if len + u64::from(lookahead) > max {
                        Out::Err(FrameError::TooLong {
                            offset: s as u64,
                            len,
                        })
                    } else {
                        frame(s as u64, &input[s..end])
                    });
                    start = None;
                }
                braces = 0;
                brackets = 0;
            }
        }
    }
    if let Some(s) = start {
        let len = (input.len() - s) as u64;
        out.push(Out::Err(if len >= max {
            FrameError::TooLong {
                offset: s as u64,
                len,
            }
        } else {
            FrameError::Truncated {
                offset: s as u64,
                len,
            }
        }));
    }
    out
}

fn oracle(dialect: Dialect, input: &[u8], max: usize) -> Vec<Out> {
    match dialect {
        Dialect::Lines => oracle_lines(input, max, false),
        Dialect::Qga => oracle_lines(input, max, true),
        _ => oracle_stream(input, max),
    }
}

// ---------------------------------------------------------------------------------------------
// Hand-written cases.

#[test]
fn lines_basic_blank_crlf_whitespace() {
    let input = b"{\"a\": 1}\r\n\r\n\n  \t \r\n{\"b\": 2}\n \t{\"c\": 3} \r\n";
    assert_eq!(
        lines(input),
        vec![
            frame(0, b"{\"a\": 1}"),
            frame(19, b"{\"b\": 2}"),
            frame(28, b" \t{\"c\": 3} "),
        ]
    );
    // Only the one `\r` right before `\n` is stripped.
    assert_eq!(lines(b"x\r\r\n"), vec![frame(0, b"x\r")]);
}

#[test]
fn lines_final_line_without_newline_is_a_frame() {
    assert_eq!(
        lines(b"{}\n{\"x\": 1}\r"),
        vec![frame(0, b"{}"), frame(3, b"{\"x\": 1}")]
    );
    assert_eq!(lines(b"{}\n  \r"), vec![frame(0, b"{}")]);
    // decode alone keeps the unterminated line.
    let mut framer = Framer::lines();
    let step = framer.decode(b"{\"x\"");
    assert_eq!((step.consumed, step.status), (0, Ok(Status::Partial)));
}

#[test]
fn lines_too_long_then_good() {
    let cfg = config(Dialect::Lines, 10);
    let input = b"123456789\n1234567890\n{}\r\n12345678\r\n";
    assert_eq!(
        run(cfg, input),
        vec![
            frame(0, b"123456789"),
            Out::Err(FrameError::TooLong {
                offset: 10,
                len: 10
            }),
            frame(21, b"{}"),
            frame(25, b"12345678"),
        ]
    );
    // Byte at a time, the too-long line is consumed as it arrives.
    let (outs, _) = run_chunked(cfg, input, &[1]);
    assert_eq!(outs, run(cfg, input));
}

#[test]
fn too_long_line_memory_stays_bounded() {
    // A 64 MiB line through a 4 KiB buffer, then a good frame.
    let mut storage = [0u8; 4096];
    let mut rb = ReadBuffer::new(&mut storage, FramerConfig::new());
    let mut remaining = 64usize << 20;
    let mut outs = Vec::new();
    while remaining > 0 {
        let spare = rb.spare();
        assert!(!spare.is_empty(), "buffer stalled");
        let n = spare.len().min(remaining);
        spare[..n].fill(b'x');
        rb.commit(n);
        remaining -= n;
        while let Some(r) = rb.next_frame() {
            outs.push(r.map(<[u8]>::to_vec));
        }
    }
    let tail = b"\r\n{\"return\": {}}\r\n";
    rb.spare()[..tail.len()].copy_from_slice(tail);
    rb.commit(tail.len());
    while let Some(r) = rb.next_frame() {
        outs.push(r.map(<[u8]>::to_vec));
    }
    assert!(rb.finish().is_none());
    assert_eq!(
        outs,
        vec![
            Err(FrameError::TooLong {
                offset: 0,
                len: 64 << 20
            }),
            Ok(b"{\"return\": {}}".to_vec()),
        ]
    );
}

#[test]
fn qga_sentinel_discards_current_frame() {
    let cfg = config(Dialect::Qga, DEFAULT_MAX_FRAME_LEN);
    let input = b"garbage{\"ret\xFF{\"return\": 42}\n{\"return\": {}}\n";
    assert_eq!(
        run(cfg, input),
        vec![
            frame(13, b"{\"return\": 42}"),
            frame(28, b"{\"return\": {}}")
        ]
    );
    // In the lines dialect 0xFF is just a byte.
    assert_eq!(lines(input).len(), 2);
    assert_eq!(frames(&lines(input))[0].len(), 27);
    // A too-long line ended by the sentinel is dropped silently.
    let cfg = config(Dialect::Qga, 4);
    assert_eq!(run(cfg, b"0123456789\xFF{}\n"), vec![frame(11, b"{}")]);
}

#[test]
fn stream_several_per_line_and_pretty() {
    let input = b"{\"execute\":\"a\"}{\"execute\":\"b\"} [1, {\"x\": []}]\n{\r\n    \"c\": {\r\n    }\r\n}\r\n";
    assert_eq!(
        frames(&stream(input)),
        vec![
            &b"{\"execute\":\"a\"}"[..],
            b"{\"execute\":\"b\"}",
            b"[1, {\"x\": []}]",
            b"{\r\n    \"c\": {\r\n    }\r\n}",
        ]
    );
}

#[test]
fn stream_strings_with_brackets_and_escapes() {
    let input = br#"{"a": "}]\"{['", 'b': '"}\'', "c": "\\"}"#;
    assert_eq!(stream(input), vec![frame(0, input)]);
}

#[test]
fn stream_top_level_scalars() {
    assert_eq!(
        stream(b" 12 true \"s{\" 'q' -0.5e+3 null"),
        vec![
            frame(1, b"12"),
            frame(4, b"true"),
            frame(9, b"\"s{\""),
            frame(14, b"'q'"),
            frame(18, b"-0.5e+3"),
            frame(26, b"null"),
        ]
    );
    // A top-level number needs the byte after it, or the end of the stream.
    let mut framer = Framer::stream();
    assert_eq!(framer.decode(b"123").status, Ok(Status::Partial));
    let step = framer.decode(b"123{");
    assert_eq!(step.frame(b"123{"), Some(&b"123"[..]));
    assert_eq!(step.consumed, 3);
    // `1x` is a number then a keyword, as in QEMU.
    assert_eq!(stream(b"1x"), vec![frame(0, b"1"), frame(1, b"x")]);
}

#[test]
fn stream_lexical_error_and_recovery() {
    let input = br#"{"a": 01}{"execute":"x"}"#;
    assert_eq!(
        stream(input),
        vec![
            Out::Err(FrameError::Lexical {
                offset: 7,
                byte: b'1',
                kind: LexicalKind::InvalidNumber
            }),
            // QEMU too answers the `}` that recovery stops at.
            Out::Err(FrameError::Stray {
                offset: 8,
                byte: b'}'
            }),
            frame(9, br#"{"execute":"x"}"#),
        ]
    );
    // Junk is skipped up to a structural character, reported once.
    assert_eq!(
        stream(b"NaN garbage {\"a\": 1}"),
        vec![
            Out::Err(FrameError::Lexical {
                offset: 0,
                byte: b'N',
                kind: LexicalKind::UnexpectedByte
            }),
            frame(12, b"{\"a\": 1}"),
        ]
    );
}

#[test]
fn stream_control_byte_and_ff_reset() {
    // Mid-object, a control byte drops the frame; recovery resumes at the next structural
    // byte, here the `,` (QEMU answers it too), and `junk` then lexes as a keyword.
    let input = b"{\"execute\": \"x\x01\", junk {\"execute\": \"y\"}";
    assert_eq!(
        stream(input),
        vec![
            Out::Err(FrameError::Lexical {
                offset: 14,
                byte: 1,
                kind: LexicalKind::InvalidString
            }),
            Out::Err(FrameError::Stray {
                offset: 16,
                byte: b','
            }),
            frame(18, b"junk"),
            frame(23, b"{\"execute\": \"y\"}"),
        ]
    );
    // 0xFF at top level is one error, then a clean frame.
    assert_eq!(
        stream(b"\xFF{}"),
        vec![
            Out::Err(FrameError::Lexical {
                offset: 0,
                byte: 0xFF,
                kind: LexicalKind::UnexpectedByte
            }),
            frame(1, b"{}"),
        ]
    );
    // A control byte in the middle of a number ends it and is an error of its own.
    assert_eq!(
        stream(b"[1\x01]"),
        vec![
            Out::Err(FrameError::Lexical {
                offset: 2,
                byte: 1,
                kind: LexicalKind::UnexpectedByte
            }),
            Out::Err(FrameError::Stray {
                offset: 3,
                byte: b']'
            }),
        ]
    );
}

#[test]
fn stream_stray_closers_and_separators() {
    assert_eq!(
        stream(b"}{\"a\":1},{\"b\":[}]"),
        vec![
            Out::Err(FrameError::Stray {
                offset: 0,
                byte: b'}'
            }),
            frame(1, b"{\"a\":1}"),
            Out::Err(FrameError::Stray {
                offset: 8,
                byte: b','
            }),
            // QEMU counts braces and brackets separately: `{[}]` balances.
            frame(9, b"{\"b\":[}]"),
        ]
    );
    assert_eq!(
        stream(b"{\"a\": 1]"),
        vec![Out::Err(FrameError::Stray {
            offset: 7,
            byte: b']'
        })]
    );
}

#[test]
fn stream_end_of_stream() {
    assert_eq!(
        stream(b"{} {\"a\": [1, "),
        vec![
            frame(0, b"{}"),
            Out::Err(FrameError::Truncated { offset: 3, len: 10 })
        ]
    );
    assert_eq!(
        stream(b"\"abc"),
        vec![Out::Err(FrameError::Truncated { offset: 0, len: 4 })]
    );
    assert_eq!(stream(b"{} 42"), vec![frame(0, b"{}"), frame(3, b"42")]);
    assert_eq!(stream(b"{}  \r\n"), vec![frame(0, b"{}")]);
    assert_eq!(
        stream(b"{} @@@"),
        vec![
            frame(0, b"{}"),
            Out::Err(FrameError::Lexical {
                offset: 3,
                byte: b'@',
                kind: LexicalKind::UnexpectedByte
            })
        ]
    );
    // finish leaves the framer as new.
    let mut framer = Framer::stream();
    let _ = framer.finish(b"[");
    assert_eq!(framer.finish(b"").status, Ok(Status::Partial));
    assert_eq!(framer.position(), 0);
}

#[test]
fn stream_too_long_then_good() {
    let cfg = config(Dialect::Stream, 16);
    let input = b"{\"a\": \"0123456789abcdef\"} {\"b\": 1}";
    assert_eq!(
        run(cfg, input),
        vec![
            Out::Err(FrameError::TooLong { offset: 0, len: 25 }),
            frame(26, b"{\"b\": 1}")
        ]
    );
    assert_eq!(run_chunked(cfg, input, &[1]).0, run(cfg, input));
    // A too-long frame cut short by a lexical error reports both.
    assert_eq!(
        run(cfg, b"[\"0123456789abcdef\x01\"]{}"),
        vec![
            Out::Err(FrameError::TooLong { offset: 0, len: 18 }),
            Out::Err(FrameError::Lexical {
                offset: 18,
                byte: 1,
                kind: LexicalKind::InvalidString
            }),
            Out::Err(FrameError::Stray {
                offset: 20,
                byte: b']'
            }),
            frame(21, b"{}"),
        ]
    );
    // A token cut short by an error counts as the start of a frame (found by proptest).
    assert_eq!(
        run(config(Dialect::Stream, 1), b"12.{"),
        vec![
            Out::Err(FrameError::TooLong { offset: 0, len: 3 }),
            Out::Err(FrameError::Lexical {
                offset: 3,
                byte: b'{',
                kind: LexicalKind::InvalidNumber
            }),
        ]
    );
}

#[test]
fn one_byte_feeding_is_linear() {
    // A 236 KB message, fed one byte at a time.
    let mut msg = b"{\"return\": [".to_vec();
    while msg.len() < 236_000 {
        msg.extend_from_slice(b"{\"name\": \"x-\\\"}\", \"arg\": [1, 2.5e3, true]}, ");
    }
    msg.extend_from_slice(b"{}]}\r\n");
    for dialect in [Dialect::Lines, Dialect::Stream, Dialect::Qga] {
        let cfg = config(dialect, DEFAULT_MAX_FRAME_LEN);
        let (outs, framer) = run_chunked(cfg, &msg, &[1]);
        assert_eq!(outs, vec![frame(0, &msg[..msg.len() - 2])], "{dialect:?}");
        let n = msg.len() as u64;
        assert!(
            framer.bytes_scanned() <= 2 * n,
            "{dialect:?}: scanned {} bytes for {n}",
            framer.bytes_scanned()
        );
    }
}

#[test]
fn lines_and_stream_agree_on_compact_traffic() {
    let input = b"{\"QMP\": {\"version\": {}, \"capabilities\": [\"oob\"]}}\r\n{\"return\": {}, \"id\": \"a{b\"}\r\n{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"STOP\"}\r\n";
    assert_eq!(lines(input), stream(input));
}

// ---------------------------------------------------------------------------------------------
// Real captures.

struct Expect {
    offset: u64,
    len: u64,
    body_len: u64,
}

fn expectations(path: &str) -> Vec<Expect> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let field = |k: &str| v[k].as_u64().unwrap();
            Expect {
                offset: field("offset"),
                len: field("len"),
                body_len: field("body_len"),
            }
        })
        .collect()
}

fn check_capture(dialect: Dialect, stream_path: &str, expect_path: &str) {
    let data = std::fs::read(stream_path).unwrap();
    let expect = expectations(expect_path);
    let want: Vec<Out> = expect
        .iter()
        .map(|e| {
            let start = e.offset as usize;
            frame(e.offset, &data[start..start + e.body_len as usize])
        })
        .collect();
    assert_eq!(expect.iter().map(|e| e.len).sum::<u64>(), data.len() as u64);
    let cfg = config(dialect, DEFAULT_MAX_FRAME_LEN);
    assert_eq!(run(cfg, &data), want);
    // Odd chunkings give the same frames.
    assert_eq!(run_chunked(cfg, &data, &[1, 7, 4096, 3, 65536]).0, want);
}

#[test]
fn capture_qsd_lines() {
    check_capture(
        Dialect::Lines,
        "tests/data/corpus/qsd/stream.bin",
        "tests/data/corpus/qsd/expect.jsonl",
    );
}

#[test]
fn capture_qsd_pretty_stream() {
    check_capture(
        Dialect::Stream,
        "tests/data/corpus/qsd-pretty/stream.bin",
        "tests/data/corpus/qsd-pretty/expect.jsonl",
    );
}

#[test]
fn capture_qsd_pretty_breaks_lines() {
    // With line framing, pretty output comes out as fragments (the `qemu.qmp` failure).
    let data = std::fs::read("tests/data/corpus/qsd-pretty/stream.bin").unwrap();
    assert_eq!(frames(&lines(&data))[0], b"{");
}

#[test]
fn capture_qemu_qmp_client_stream() {
    let data = std::fs::read("tests/data/corpus/qemu.qmp-client/received.bin").unwrap();
    let outs = stream(&data);
    let got = frames(&outs);
    assert_eq!(got.len(), outs.len());
    assert_eq!(got.len(), 6);
    assert_eq!(got.concat(), data);
    for f in got {
        let v: serde_json::Value = serde_json::from_slice(f).unwrap();
        assert!(v.get("execute").or(v.get("exec-oob")).is_some());
    }
}

#[test]
fn capture_qsd_compact_lines_equal_stream_where_json() {
    // Every strict-JSON message of the compact capture frames the same way in both dialects.
    let data = std::fs::read("tests/data/corpus/qsd/stream.bin").unwrap();
    let lines_out = lines(&data);
    let stream_out = stream(&data);
    // Of the two `inf` ids, `inf` lexes as a keyword (the parser rejects it) but `-inf` is a
    // lexical error in the stream dialect; everything else agrees.
    let lexical = stream_out
        .iter()
        .filter(|o| !matches!(o, Out::Frame { .. }))
        .count();
    assert!(lexical > 0);
    let stream_frames: std::collections::HashSet<_> = frames(&stream_out).into_iter().collect();
    let missing = frames(&lines_out)
        .into_iter()
        .filter(|f| !stream_frames.contains(f))
        .count();
    assert_eq!(missing, 1);
}

// ---------------------------------------------------------------------------------------------
// Properties.

fn piece() -> impl Strategy<Value = Vec<u8>> {
    let fixed: Vec<&'static [u8]> = vec![
        b"{\"execute\":\"qmp_capabilities\"}",
        b"{\"return\": {}, \"id\": 1}",
        b"{\"event\": \"STOP\", \"data\": {\"a\": [1, 2.5, -0e3]}}",
        b"{\r\n    \"return\": {\r\n    },\r\n    \"id\": \"caps\"\r\n}",
        b"[1, [2], {\"a\": null}]",
        b"\"str}\\\"{\"",
        b"'sq\"}'",
        b"12",
        b"true",
        b"{\"a\": 01}",
        b"\r\n",
        b"\n",
        b" ",
        b"\t",
        b"\xFF",
        b"\x01",
        b"}",
        b",",
    ];
    prop_oneof![
        3 => proptest::sample::select(fixed).prop_map(<[u8]>::to_vec),
        1 => proptest::collection::vec(
            proptest::sample::select(b"{}[]\"'\\,: \r\n\t0123-.eEaztrueNx\x01\xFE\xFF\xC3".to_vec()),
            0..12
        ),
    ]
}

fn stream_input() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(piece(), 0..24).prop_map(|v| v.concat())
}

fn any_dialect() -> impl Strategy<Value = Dialect> {
    prop_oneof![
        Just(Dialect::Lines),
        Just(Dialect::Stream),
        Just(Dialect::Qga)
    ]
}

proptest! {
    // 256 cases by default; PROPTEST_CASES raises it for a longer local run.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256)
    ))]

    #[test]
    fn chunking_never_changes_outcomes(
        dialect in any_dialect(),
        input in stream_input(),
        sizes in proptest::collection::vec(1usize..9, 1..6),
        max in prop_oneof![Just(DEFAULT_MAX_FRAME_LEN), 1usize..48],
    ) {
        let cfg = config(dialect, max);
        let whole = run(cfg, &input);
        let (chunked, _) = run_chunked(cfg, &input, &sizes);
        prop_assert_eq!(&chunked, &whole);
        let (bytewise, _) = run_chunked(cfg, &input, &[1]);
        prop_assert_eq!(&bytewise, &whole);
        prop_assert_eq!(&whole, &oracle(dialect, &input, max));
    }

    #[test]
    fn arbitrary_bytes_match_oracle(
        dialect in any_dialect(),
        input in proptest::collection::vec(any::<u8>(), 0..200),
        max in prop_oneof![Just(DEFAULT_MAX_FRAME_LEN), 1usize..64],
        size in 1usize..17,
    ) {
        let cfg = config(dialect, max);
        let (chunked, _) = run_chunked(cfg, &input, &[size]);
        prop_assert_eq!(&chunked, &oracle(dialect, &input, max));
    }

    #[test]
    fn read_buffer_matches_framer(
        dialect in any_dialect(),
        input in stream_input(),
        cap in 1usize..64,
        size in 1usize..20,
    ) {
        let mut storage = vec![0u8; cap];
        let mut rb = ReadBuffer::new(&mut storage, config(dialect, DEFAULT_MAX_FRAME_LEN));
        let mut got = Vec::new();
        let mut fed = 0;
        while fed < input.len() {
            let spare = rb.spare();
            prop_assert!(!spare.is_empty());
            let n = spare.len().min(size).min(input.len() - fed);
            spare[..n].copy_from_slice(&input[fed..fed + n]);
            rb.commit(n);
            fed += n;
            while let Some(r) = rb.next_frame() {
                got.push(r.map(<[u8]>::to_vec));
            }
        }
        while let Some(r) = rb.finish() {
            got.push(r.map(<[u8]>::to_vec));
        }
        let want: Vec<_> = run(config(dialect, cap), &input)
            .into_iter()
            .map(|o| match o {
                Out::Frame { bytes, .. } => Ok(bytes),
                Out::Err(e) => Err(e),
            })
            .collect();
        prop_assert_eq!(got, want);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Even a caller that breaks the buffer contract (arbitrary buffers, any order of
    /// `decode` and `finish`) never makes the framer panic or point outside the buffer.
    #[test]
    fn contract_violations_never_panic(
        dialect in any_dialect(),
        max in 1usize..32,
        calls in proptest::collection::vec(
            (any::<bool>(), proptest::collection::vec(any::<u8>(), 0..40)),
            0..20
        ),
    ) {
        let mut framer = Framer::new(config(dialect, max));
        for (eof, buf) in calls {
            let step = if eof { framer.finish(&buf) } else { framer.decode(&buf) };
            prop_assert!(step.consumed <= buf.len());
            if let Ok(Status::Complete(f)) = step.status {
                prop_assert!(f.start <= f.end && f.end <= step.consumed);
            }
        }
    }
}
