//! The stream dialect: QEMU's JSON lexer (`qobject/json-lexer.c`) and the bracket counting of
//! its streamer (`qobject/json-streamer.c`), one byte at a time, without recursion.

use super::{Decoded, Frame, FrameError, Framer, LexicalKind, Status};

/// Lexer states, named after QEMU's.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub(super) enum Lex {
    /// Between tokens (`IN_START`).
    Start,
    /// After an error: skipping to a resynchronization point (`IN_RECOVERY`).
    Recovery,
    /// Inside a `"` string.
    DqString,
    /// After a backslash in a `"` string.
    DqEscape,
    /// Inside a `'` string.
    SqString,
    /// After a backslash in a `'` string.
    SqEscape,
    /// After a `-`.
    Sign,
    /// After a leading `0`.
    Zero,
    /// In the integer digits.
    Digits,
    /// After the `.`.
    Mantissa,
    /// In the fraction digits.
    MantissaDigits,
    /// After `e`/`E`.
    ExpE,
    /// After the exponent's sign.
    ExpSign,
    /// In the exponent digits.
    ExpDigits,
    /// In a run of `a`-`z`.
    Keyword,
}

impl Lex {
    /// Whether a token in this state is complete if the input ends here (QEMU's `TERMINAL`
    /// states: a number or keyword).
    const fn is_terminal(self) -> bool {
        matches!(
            self,
            Lex::Zero | Lex::Digits | Lex::MantissaDigits | Lex::ExpDigits | Lex::Keyword
        )
    }
}

/// Tokens, as far as framing cares.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Tok {
    OpenBrace,
    CloseBrace,
    OpenBracket,
    CloseBracket,
    /// `,` or `:`.
    Separator,
    /// A string, number or keyword.
    Scalar,
}

/// What one byte does to the lexer.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Step {
    /// The byte is consumed; go to this state.
    Next(Lex),
    /// The byte is consumed and ends a token.
    Token(Tok),
    /// A scalar ended before this byte, which is read again in `Start` (QEMU's lookahead).
    TokenBefore,
    /// Recovery is over before this byte, which is read again in `Start`.
    Resync,
    /// The byte is consumed and is an error.
    Error(LexicalKind),
}

/// QEMU's transition table, one state at a time.
const fn lex(state: Lex, b: u8) -> Step {
    use Step::{Error, Next, Resync, Token, TokenBefore};
    match state {
        Lex::Start => match b {
            b' ' | b'\t' | b'\r' | b'\n' => Next(Lex::Start),
            b'"' => Next(Lex::DqString),
            b'\'' => Next(Lex::SqString),
            b'0' => Next(Lex::Zero),
            b'1'..=b'9' => Next(Lex::Digits),
            b'-' => Next(Lex::Sign),
            b'{' => Token(Tok::OpenBrace),
            b'}' => Token(Tok::CloseBrace),
            b'[' => Token(Tok::OpenBracket),
            b']' => Token(Tok::CloseBracket),
            b',' | b':' => Token(Tok::Separator),
            b'a'..=b'z' => Next(Lex::Keyword),
            _ => Error(LexicalKind::UnexpectedByte),
        },
        Lex::Recovery => match b {
            b'\t' => Next(Lex::Recovery),
            0x00..=0x1F | 0xFE | 0xFF => Resync,
            b'[' | b']' | b'{' | b'}' | b':' | b',' => Resync,
            _ => Next(Lex::Recovery),
        },
        Lex::DqString => match b {
            b'\\' => Next(Lex::DqEscape),
            b'"' => Token(Tok::Scalar),
            0x20..=0xFD => Next(Lex::DqString),
            _ => Error(LexicalKind::InvalidString),
        },
        Lex::SqString => match b {
            b'\\' => Next(Lex::SqEscape),
            b'\'' => Token(Tok::Scalar),
            0x20..=0xFD => Next(Lex::SqString),
            _ => Error(LexicalKind::InvalidString),
        },
        Lex::DqEscape => match b {
            0x20..=0xFD => Next(Lex::DqString),
            _ => Error(LexicalKind::InvalidString),
        },
        Lex::SqEscape => match b {
            0x20..=0xFD => Next(Lex::SqString),
            _ => Error(LexicalKind::InvalidString),
        },
        Lex::Sign => match b {
            b'0' => Next(Lex::Zero),
            b'1'..=b'9' => Next(Lex::Digits),
            _ => Error(LexicalKind::InvalidNumber),
        },
        Lex::Zero => match b {
            b'0'..=b'9' => Error(LexicalKind::InvalidNumber),
            b'.' => Next(Lex::Mantissa),
            _ => TokenBefore,
        },
        Lex::Digits => match b {
            b'0'..=b'9' => Next(Lex::Digits),
            b'e' | b'E' => Next(Lex::ExpE),
            b'.' => Next(Lex::Mantissa),
            _ => TokenBefore,
        },
        Lex::Mantissa => match b {
            b'0'..=b'9' => Next(Lex::MantissaDigits),
            _ => Error(LexicalKind::InvalidNumber),
        },
        Lex::MantissaDigits => match b {
            b'0'..=b'9' => Next(Lex::MantissaDigits),
            b'e' | b'E' => Next(Lex::ExpE),
            _ => TokenBefore,
        },
        Lex::ExpE => match b {
            b'-' | b'+' => Next(Lex::ExpSign),
            b'0'..=b'9' => Next(Lex::ExpDigits),
            _ => Error(LexicalKind::InvalidNumber),
        },
        Lex::ExpSign => match b {
            b'0'..=b'9' => Next(Lex::ExpDigits),
            _ => Error(LexicalKind::InvalidNumber),
        },
        Lex::ExpDigits => match b {
            b'0'..=b'9' => Next(Lex::ExpDigits),
            _ => TokenBefore,
        },
        Lex::Keyword => match b {
            b'a'..=b'z' => Next(Lex::Keyword),
            _ => TokenBefore,
        },
    }
}

/// What the streamer makes of a token.
enum Outcome {
    /// The frame goes on.
    More,
    /// A decode step is finished.
    Done(Decoded),
}

impl Framer {
    /// One step of the stream dialect.
    ///
    /// Invariants between calls: `start`, when set, is `Some(0)` (bytes before a pending frame
    /// are consumed); while skipping a too-long frame every scanned byte has been consumed.
    pub(super) fn decode_stream(&mut self, buf: &[u8], eof: bool) -> Decoded {
        let mut pos = self.scanned.min(buf.len());
        self.scanned = 0;
        while let Some(&b) = buf.get(pos) {
            self.work = self.work.saturating_add(1);
            let state = self.lex;
            match lex(state, b) {
                Step::Next(next) => {
                    if state == Lex::Start && next != Lex::Start && self.start.is_none() {
                        self.start = Some(pos);
                    }
                    self.lex = next;
                    pos += 1;
                }
                Step::Resync => self.lex = Lex::Start,
                Step::Token(tok) => {
                    if self.start.is_none() {
                        self.start = Some(pos);
                    }
                    self.lex = Lex::Start;
                    if let Outcome::Done(d) = self.token(tok, buf, pos, pos + 1, false) {
                        return d;
                    }
                    pos += 1;
                }
                Step::TokenBefore => {
                    self.lex = Lex::Start;
                    if let Outcome::Done(d) = self.token(Tok::Scalar, buf, pos, pos, true) {
                        return d;
                    }
                }
                Step::Error(kind) => {
                    self.lex = Lex::Recovery;
                    let error = FrameError::Lexical {
                        offset: self.position.saturating_add(pos as u64),
                        byte: b,
                        kind,
                    };
                    return self.fail(pos, error);
                }
            }
        }
        self.stream_end(buf, eof)
    }

    /// Feeds a token that ends at `end` (exclusive) to the bracket counts. `at` is the offset
    /// of the byte that ended it; `lookahead` says whether that byte is still unread.
    fn token(&mut self, tok: Tok, buf: &[u8], at: usize, end: usize, lookahead: bool) -> Outcome {
        match tok {
            Tok::OpenBrace => self.braces = self.braces.saturating_add(1),
            Tok::CloseBrace => self.braces = self.braces.saturating_sub(1),
            Tok::OpenBracket => self.brackets = self.brackets.saturating_add(1),
            Tok::CloseBracket => self.brackets = self.brackets.saturating_sub(1),
            Tok::Separator | Tok::Scalar => {}
        }
        let open = self.braces > 0 || self.brackets > 0;
        if open && self.braces >= 0 && self.brackets >= 0 {
            return Outcome::More;
        }
        if self.braces < 0 || self.brackets < 0 || tok == Tok::Separator {
            // QEMU emits the message here and its parser rejects it.
            let byte = buf.get(at).copied().unwrap_or(0);
            let error = FrameError::Stray {
                offset: self.position.saturating_add(at as u64),
                byte,
            };
            return Outcome::Done(self.fail(at, error));
        }
        // Both counts are back to zero: a frame.
        let start = self.start.unwrap_or(at);
        let len = self
            .skipped()
            .saturating_add(end.saturating_sub(start) as u64);
        let needed = len.saturating_add(u64::from(lookahead));
        let status = match self.skipping {
            None if needed <= self.max() => Ok(Status::Complete(Frame { start, end })),
            _ => Err(FrameError::TooLong {
                offset: self.frame_offset(start),
                len,
            }),
        };
        self.end_frame();
        Outcome::Done(self.out(end, status))
    }

    /// Ends the pending frame with `error` at `buf[at]`, consuming that byte. When the frame
    /// was too long already, reports [`FrameError::TooLong`] now and `error` next.
    fn fail(&mut self, at: usize, error: FrameError) -> Decoded {
        let consumed = at.saturating_add(1);
        let too_long = match self.start {
            Some(start) => {
                let len = self
                    .skipped()
                    .saturating_add(at.saturating_sub(start) as u64);
                (self.skipping.is_some() || len >= self.max()).then(|| FrameError::TooLong {
                    offset: self.frame_offset(start),
                    len,
                })
            }
            None => None,
        };
        self.end_frame();
        match too_long {
            Some(too_long) => {
                self.pending_error = Some(error);
                self.out(consumed, Err(too_long))
            }
            None => self.out(consumed, Err(error)),
        }
    }

    /// The end of `buf` was reached without an outcome.
    fn stream_end(&mut self, buf: &[u8], eof: bool) -> Decoded {
        let Some(start) = self.start else {
            // Between frames or recovering: nothing to keep.
            if eof {
                self.lex = Lex::Start;
            }
            return self.out(buf.len(), Ok(Status::Partial));
        };
        let in_buf = buf.len().saturating_sub(start);
        let len = self.skipped().saturating_add(in_buf as u64);
        if eof {
            let offset = self.frame_offset(start);
            let status = if self.skipping.is_some() || len >= self.max() {
                Err(FrameError::TooLong { offset, len })
            } else if self.braces == 0 && self.brackets == 0 && self.lex.is_terminal() {
                Ok(Status::Complete(Frame {
                    start,
                    end: buf.len(),
                }))
            } else {
                Err(FrameError::Truncated { offset, len })
            };
            self.end_frame();
            self.lex = Lex::Start;
            return self.out(buf.len(), status);
        }
        if self.skipping.is_some() || len >= self.max() {
            let offset = self.frame_offset(start);
            self.skipping = Some((offset, len));
            self.start = Some(0);
            return self.out(buf.len(), Ok(Status::Partial));
        }
        self.start = Some(0);
        self.scanned = in_buf;
        self.out(start, Ok(Status::Partial))
    }

    /// Bytes of a too-long frame already consumed.
    fn skipped(&self) -> u64 {
        self.skipping.map_or(0, |(_, gone)| gone)
    }

    /// Stream offset of the pending frame, which starts at `buf[start]` unless skipped.
    fn frame_offset(&self, start: usize) -> u64 {
        self.skipping
            .map_or(self.position.saturating_add(start as u64), |(offset, _)| {
                offset
            })
    }

    /// Forgets the pending frame (not the lexer state).
    fn end_frame(&mut self) {
        self.start = None;
        self.skipping = None;
        self.braces = 0;
        self.brackets = 0;
        self.scanned = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::super::is_ws;
    use super::*;

    #[test]
    fn whitespace_is_start() {
        for b in [b' ', b'\t', b'\r', b'\n'] {
            assert!(is_ws(b));
            assert_eq!(lex(Lex::Start, b), Step::Next(Lex::Start));
        }
    }

    #[test]
    fn recovery_stops_at_structural_and_control_bytes() {
        for b in *b"[]{},:\x00\x01\n\r\x1f" {
            assert_eq!(lex(Lex::Recovery, b), Step::Resync, "{b:#x}");
        }
        assert_eq!(lex(Lex::Recovery, 0xFF), Step::Resync);
        assert_eq!(lex(Lex::Recovery, 0xFE), Step::Resync);
        for b in *b"\tabc\"' 9" {
            assert_eq!(lex(Lex::Recovery, b), Step::Next(Lex::Recovery));
        }
    }

    #[test]
    fn every_state_and_byte_is_defined() {
        let states = [
            Lex::Start,
            Lex::Recovery,
            Lex::DqString,
            Lex::DqEscape,
            Lex::SqString,
            Lex::SqEscape,
            Lex::Sign,
            Lex::Zero,
            Lex::Digits,
            Lex::Mantissa,
            Lex::MantissaDigits,
            Lex::ExpE,
            Lex::ExpSign,
            Lex::ExpDigits,
            Lex::Keyword,
        ];
        for state in states {
            for b in 0..=255u8 {
                let step = lex(state, b);
                // Control bytes other than tab/CR/LF and 0xFF never pass silently.
                if (b < 0x20 && !matches!(b, b'\t' | b'\r' | b'\n')) || b == 0xFF {
                    assert!(
                        matches!(step, Step::Error(_) | Step::Resync | Step::TokenBefore),
                        "{state:?} {b:#x}"
                    );
                }
            }
        }
    }
}
