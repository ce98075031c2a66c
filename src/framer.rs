//! Framing: cutting a byte stream into messages (documented on [`Framer`]).

use core::fmt;
use core::ops::Range;

mod lines;
mod message;
mod stream;

pub use message::{DecodedMessage, MessageError};

use stream::Lex;

/// The default for [`FramerConfig::max_frame_len`]: 10 MiB, as libvirt and `qemu.qmp` use.
pub const DEFAULT_MAX_FRAME_LEN: usize = 10 * 1024 * 1024;

/// How the byte stream is cut into messages.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dialect {
    /// One message per line, as QEMU writes them (the default).
    ///
    /// A frame ends at `\n`, which is not part of it, and one `\r` before the `\n` is stripped
    /// too. Lines holding only JSON whitespace (space, tab, CR, LF) are skipped. Nothing else
    /// is checked: the frame is handed to the JSON parser as it is.
    #[default]
    Lines,
    /// JSON texts delimited by bracket depth, as QEMU reads its input.
    ///
    /// Mirrors QEMU's `json-lexer.c` and `json-streamer.c`:
    /// - tokens are lexed as QEMU does (single-quoted strings are accepted, keywords are any
    ///   run of `a`-`z`, numbers are strict JSON numbers);
    /// - a frame ends when the counts of `{`/`}` and of `[`/`]` outside strings both return to
    ///   zero, so no terminator is needed and several frames may share a line or one frame may
    ///   span many; whitespace between frames is skipped;
    /// - a top-level scalar (string, number, keyword) is a frame by itself; a top-level number
    ///   or keyword ends at the first byte that cannot continue it, so it needs that byte (or
    ///   the end of the stream);
    /// - a close bracket that makes a count negative, or a `,` or `:` at top level, is
    ///   reported as [`FrameError::Stray`] (QEMU ends the message there and rejects it);
    /// - a lexical error is reported once as [`FrameError::Lexical`]; the frame in progress is
    ///   dropped and bytes are skipped until a structural character (`{}[],:`), a control byte
    ///   other than tab, or `0xFE`/`0xFF`. A control byte other than tab/CR/LF, or `0xFF`, is
    ///   an error wherever it appears, so sending one always puts the framer into this
    ///   known-good state (QEMU's documented trick).
    ///
    /// The frame is the JSON text from its first to its last byte.
    Stream,
    /// The QEMU guest agent: [`Dialect::Lines`], plus a `0xFF` byte discards, silently,
    /// everything before it in the current frame (even a too-long one) and itself.
    Qga,
}

/// Framer configuration: the dialect and the frame length limit.
///
/// ```
/// use qmp_codec::{Dialect, FramerConfig};
/// let config = FramerConfig::new()
///     .with_dialect(Dialect::Stream)
///     .with_max_frame_len(1 << 20);
/// assert_eq!(config.max_frame_len(), 1 << 20);
/// ```
#[derive(Copy, Clone)]
pub struct FramerConfig {
    dialect: Dialect,
    max_frame_len: usize,
    /// The dialect's step, chosen where the dialect is set: a program that only ever sets
    /// constant dialects links only their framers (a lines-only client does not carry the
    /// brace-counting one). Always the step of `dialect`.
    step: StepFn,
}

/// One framing step of a dialect, after a pending error was reported: `(framer, buf, eof)`.
type StepFn = fn(&mut Framer, &[u8], bool) -> Decoded;

impl FramerConfig {
    /// The defaults: [`Dialect::Lines`], [`DEFAULT_MAX_FRAME_LEN`].
    pub const fn new() -> Self {
        FramerConfig {
            dialect: Dialect::Lines,
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
            step: Framer::step_lines,
        }
    }

    /// Sets the dialect (default [`Dialect::Lines`]).
    #[must_use]
    #[inline]
    pub const fn with_dialect(mut self, dialect: Dialect) -> Self {
        self.dialect = dialect;
        self.step = match dialect {
            Dialect::Lines => Framer::step_lines,
            Dialect::Qga => Framer::step_qga,
            Dialect::Stream => Framer::step_stream,
        };
        self
    }

    /// Sets the most bytes one frame may need in the buffer, terminator included (default
    /// [`DEFAULT_MAX_FRAME_LEN`], 10 MiB; values below 1 are taken as 1).
    ///
    /// This bounds the caller's buffer: a frame that needs more is skipped as its bytes
    /// arrive and reported as [`FrameError::TooLong`]. [`crate::ReadBuffer`] caps it at its
    /// capacity.
    #[must_use]
    pub const fn with_max_frame_len(mut self, max_frame_len: usize) -> Self {
        self.max_frame_len = if max_frame_len == 0 { 1 } else { max_frame_len };
        self
    }

    /// The dialect.
    pub const fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The frame length limit, terminator included.
    pub const fn max_frame_len(&self) -> usize {
        self.max_frame_len
    }
}

impl Default for FramerConfig {
    fn default() -> Self {
        Self::new()
    }
}

// By hand, without the step: it follows from the dialect.
impl fmt::Debug for FramerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FramerConfig")
            .field("dialect", &self.dialect)
            .field("max_frame_len", &self.max_frame_len)
            .finish()
    }
}

impl PartialEq for FramerConfig {
    fn eq(&self, other: &Self) -> bool {
        self.dialect == other.dialect && self.max_frame_len == other.max_frame_len
    }
}

impl Eq for FramerConfig {}

impl core::hash::Hash for FramerConfig {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.dialect.hash(state);
        self.max_frame_len.hash(state);
    }
}

/// Whether a decode step found what it was looking for, as in httparse.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Status<T> {
    /// Done: the value is complete.
    Complete(T),
    /// More bytes are needed (or, from [`Framer::finish`], the input is exhausted).
    Partial,
}

impl<T> Status<T> {
    /// Whether this is [`Status::Complete`].
    pub fn is_complete(&self) -> bool {
        matches!(self, Status::Complete(_))
    }

    /// Whether this is [`Status::Partial`].
    pub fn is_partial(&self) -> bool {
        matches!(self, Status::Partial)
    }
}

/// A complete frame: the message is `buf[start..end]` of the buffer given to the call.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Frame {
    /// Offset of the first byte of the message.
    pub start: usize,
    /// Offset one past its last byte (before the line terminator in the lines dialects).
    pub end: usize,
}

impl Frame {
    /// The frame as a range, for `&buf[frame.range()]`.
    pub const fn range(self) -> Range<usize> {
        self.start..self.end
    }

    /// Its length in bytes.
    pub const fn len(self) -> usize {
        self.end.saturating_sub(self.start)
    }

    /// Whether it is empty (never true for frames the framer returns).
    pub const fn is_empty(self) -> bool {
        self.len() == 0
    }
}

/// The outcome of one [`Framer::decode`] or [`Framer::finish`] step.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[must_use]
#[non_exhaustive]
pub struct Decoded {
    /// How many bytes the caller must drop from the front of the buffer before the next call.
    ///
    /// For a frame or an error this covers the frame, its terminator and anything skipped
    /// before it; with [`Status::Partial`] it covers bytes that can no longer matter
    /// (whitespace, skipped junk, the bytes of a too-long frame) and may be zero.
    pub consumed: usize,
    /// What the consumed bytes held.
    pub status: Result<Status<Frame>, FrameError>,
}

impl Decoded {
    /// The frame's bytes, when this step found one; `buf` is the buffer given to the step.
    pub fn frame<'b>(&self, buf: &'b [u8]) -> Option<&'b [u8]> {
        match self.status {
            Ok(Status::Complete(frame)) => buf.get(frame.range()),
            _ => None,
        }
    }
}

/// What a lexical error in the stream dialect was about.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LexicalKind {
    /// A byte that cannot start a token: an uppercase letter, `%`, a control byte, `0xFF`…
    UnexpectedByte,
    /// A malformed number: leading zero, `-` or `.` or an exponent without digits.
    InvalidNumber,
    /// A control byte, `0xFE` or `0xFF` inside a string or after its backslash.
    InvalidString,
}

impl fmt::Display for LexicalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LexicalKind::UnexpectedByte => "unexpected byte",
            LexicalKind::InvalidNumber => "invalid number",
            LexicalKind::InvalidString => "invalid byte in string",
        })
    }
}

/// A bad frame. Its bytes have been consumed; the framer goes on with the next one.
///
/// Offsets are absolute stream positions: bytes consumed since the framer was created,
/// [`reset`](Framer::reset) or [`finish`](Framer::finish)ed.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FrameError {
    /// A frame needed more than [`FramerConfig::max_frame_len`] bytes; it was skipped.
    TooLong {
        /// Stream offset of its first byte.
        offset: u64,
        /// Its length, without line terminator; in the stream dialect up to its end, or up to
        /// the byte where a lexical error cut it short (that error is reported next).
        len: u64,
    },
    /// A byte that QEMU's JSON lexer rejects (stream dialect only).
    Lexical {
        /// Stream offset of the byte.
        offset: u64,
        /// The byte.
        byte: u8,
        /// What was wrong.
        kind: LexicalKind,
    },
    /// A close bracket without its open one, or a `,` or `:` outside any object or array
    /// (stream dialect only).
    Stray {
        /// Stream offset of the byte.
        offset: u64,
        /// The byte.
        byte: u8,
    },
    /// The stream ended inside a frame (stream dialect only, from [`Framer::finish`]).
    Truncated {
        /// Stream offset of the frame's first byte.
        offset: u64,
        /// How many bytes of it there were.
        len: u64,
    },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            FrameError::TooLong { offset, len } => {
                write!(f, "frame at offset {offset} too long ({len} bytes)")
            }
            FrameError::Lexical { offset, byte, kind } => {
                write!(
                    f,
                    "JSON lexical error at offset {offset}: {kind} 0x{byte:02x}"
                )
            }
            FrameError::Stray { offset, byte } => write!(
                f,
                "stray '{}' at offset {offset}",
                char::from(byte).escape_default()
            ),
            FrameError::Truncated { offset, len } => {
                write!(
                    f,
                    "stream ended inside a frame at offset {offset} ({len} bytes)"
                )
            }
        }
    }
}

impl core::error::Error for FrameError {}

/// The sans-IO framer.
///
/// The sans-IO framer: splits a byte stream into QMP messages.
///
/// A [`Framer`] is fed the bytes the caller has, from a buffer the caller owns, and answers in
/// the httparse style with a [`Decoded`]: how many bytes to drop from the front of the buffer
/// (`consumed`), and either a complete [`Frame`] (a byte range of that same buffer), a
/// [`FrameError`] for a bad frame, or [`Status::Partial`] when it needs more bytes.
///
/// # The buffer contract
///
/// After a call that returned `consumed = c`, the next call must be given the bytes that
/// followed those `c` bytes: the old `buf[c..]`, possibly with more bytes appended. The framer
/// remembers how far into them it has already scanned and never scans a byte twice (a byte
/// that ends a number or keyword is looked at once more when the next token starts), so
/// feeding a message one byte at a time costs O(n) in total. [`Framer::bytes_scanned`] counts
/// that work.
///
/// # Frames or messages
///
/// [`Framer::decode`] yields frames (byte ranges) for any parser. [`Framer::decode_message`]
/// yields parsed [`Message`](crate::Message)s under the same contract, with exactly the
/// outcome of `decode` plus [`Message::parse`](crate::Message::parse), but in the lines
/// dialects it frames and validates a complete line in one pass on x86_64 and aarch64 (on
/// compact targets, to link one copy of the scanner, it frames, then parses; see
/// [`DecodedMessage`]'s
/// module, `framer/message.rs`); [`ReadBuffer::next_message`](crate::ReadBuffer::next_message)
/// is its read loop.
///
/// # Dialects
///
/// - [`Dialect::Lines`] (default): QEMU's output. A frame ends at `\n`; one `\r` before it is
///   stripped; lines holding only JSON whitespace are skipped.
/// - [`Dialect::Stream`]: QEMU's own input framing, also right for `pretty=on` output. See
///   [`Dialect::Stream`] for the exact rules, which mirror QEMU's `json-lexer.c` and
///   `json-streamer.c`.
/// - [`Dialect::Qga`]: the guest agent. Lines, and a `0xFF` byte silently discards everything
///   before it in the current frame (the `guest-sync-delimited` sentinel).
///
/// # Limits
///
/// A frame may need at most [`FramerConfig::max_frame_len`] bytes in the buffer at once: the
/// frame plus its terminator (the `\n` or `\r\n` of a line, or in the stream dialect the one
/// byte that ends a top-level number or keyword). Longer frames are skipped as their bytes
/// arrive (each [`Status::Partial`] then consumes everything), and reported once, at their end,
/// as [`FrameError::TooLong`]; the frames after them come out intact.
///
/// # End of stream
///
/// When no more bytes will come, call [`Framer::finish`] with the remaining bytes until it
/// returns [`Status::Partial`]. It first returns every frame still complete in the buffer, then
/// applies the end-of-stream rule:
///
/// - lines and qga: a final line without `\n` is a frame (a trailing `\r` is stripped); a final
///   line of only whitespace is dropped;
/// - stream: a top-level number or keyword needs no more bytes and is a frame; any other
///   unfinished text (an open object or array, an unterminated string) is reported as
///   [`FrameError::Truncated`];
/// - a too-long frame still being skipped is reported as [`FrameError::TooLong`].
///
/// `finish` always consumes the whole buffer by the time it returns `Partial`, and then leaves
/// the framer as new, ready for another stream.
///
/// ```
/// use qmp_codec::{Framer, Status};
/// let mut framer = Framer::default();
/// let mut buf: &[u8] = b"{\"return\": {}}\r\n{\"ev";
/// let step = framer.decode(buf);
/// assert_eq!(step.frame(buf), Some(&b"{\"return\": {}}"[..]));
/// buf = &buf[step.consumed..];
/// let step = framer.decode(buf);
/// assert_eq!(step.status, Ok(Status::Partial));
/// assert_eq!(step.consumed, 0);
/// ```
#[derive(Clone, Debug)]
pub struct Framer {
    config: FramerConfig,
    /// Absolute stream offset of the front of the unconsumed input.
    position: u64,
    /// How many bytes at the front of the unconsumed input have been scanned.
    scanned: usize,
    /// Total bytes examined, for [`Framer::bytes_scanned`].
    work: u64,
    /// An error found together with a too-long frame, reported by the next step.
    pending_error: Option<FrameError>,
    /// Stream: offset in the unconsumed input where the pending frame starts.
    start: Option<usize>,
    /// While skipping a too-long frame: its stream offset and how many of its bytes are gone.
    skipping: Option<(u64, u64)>,
    /// Lines: whether the current line has a non-whitespace byte among those scanned.
    line_content: bool,
    /// Lines, while skipping: whether the last byte dropped was `\r`.
    prev_cr: bool,
    /// Stream: lexer state.
    lex: Lex,
    /// Stream: `{` minus `}` in the pending frame.
    braces: i64,
    /// Stream: `[` minus `]` in the pending frame.
    brackets: i64,
}

impl Default for Framer {
    fn default() -> Self {
        Self::new(FramerConfig::new())
    }
}

impl Framer {
    /// A framer with this configuration.
    pub const fn new(config: FramerConfig) -> Self {
        Framer {
            config,
            position: 0,
            scanned: 0,
            work: 0,
            pending_error: None,
            start: None,
            skipping: None,
            line_content: false,
            prev_cr: false,
            lex: Lex::Start,
            braces: 0,
            brackets: 0,
        }
    }

    /// A framer for [`Dialect::Lines`] with the default limit.
    pub const fn lines() -> Self {
        Self::new(FramerConfig::new())
    }

    /// A framer for [`Dialect::Stream`] with the default limit.
    pub const fn stream() -> Self {
        Self::new(FramerConfig::new().with_dialect(Dialect::Stream))
    }

    /// A framer for [`Dialect::Qga`] with the default limit.
    pub const fn qga() -> Self {
        Self::new(FramerConfig::new().with_dialect(Dialect::Qga))
    }

    /// The configuration.
    pub const fn config(&self) -> &FramerConfig {
        &self.config
    }

    /// Absolute stream offset of the next unconsumed byte (bytes consumed so far).
    pub const fn position(&self) -> u64 {
        self.position
    }

    /// Total bytes examined since creation, never reset: at most about twice the stream
    /// length whatever the chunking, which tests use to prove the cost is linear. With
    /// [`decode_message`](Self::decode_message) it also counts the bytes the parser scans.
    pub const fn bytes_scanned(&self) -> u64 {
        self.work
    }

    /// Forgets all state, as at creation (keeps the configuration and
    /// [`bytes_scanned`](Self::bytes_scanned)).
    pub fn reset(&mut self) {
        let work = self.work;
        *self = Self::new(self.config);
        self.work = work;
    }

    /// Looks for the next frame in `buf`; see the [type docs](Framer) for the contract.
    pub fn decode(&mut self, buf: &[u8]) -> Decoded {
        self.step(buf, false)
    }

    /// Like [`decode`](Self::decode), when no bytes will follow `buf`: applies the
    /// end-of-stream rule of the [type docs](Framer). Call it until it returns
    /// [`Status::Partial`], which means the input is exhausted (and consumes all of it).
    pub fn finish(&mut self, buf: &[u8]) -> Decoded {
        let decoded = self.step(buf, true);
        if decoded.status == Ok(Status::Partial) {
            self.reset();
        }
        decoded
    }

    fn step(&mut self, buf: &[u8], eof: bool) -> Decoded {
        if let Some(error) = self.pending_error.take() {
            return self.out(0, Err(error));
        }
        (self.config.step)(self, buf, eof)
    }

    fn step_lines(&mut self, buf: &[u8], eof: bool) -> Decoded {
        self.decode_lines(buf, eof, false)
    }

    fn step_qga(&mut self, buf: &[u8], eof: bool) -> Decoded {
        self.decode_lines(buf, eof, true)
    }

    fn step_stream(&mut self, buf: &[u8], eof: bool) -> Decoded {
        self.decode_stream(buf, eof)
    }

    /// Builds a result, advancing the stream position.
    fn out(&mut self, consumed: usize, status: Result<Status<Frame>, FrameError>) -> Decoded {
        self.position = self.position.saturating_add(consumed as u64);
        Decoded { consumed, status }
    }

    /// The effective limit (at least 1).
    fn max(&self) -> u64 {
        self.config.max_frame_len.max(1) as u64
    }
}

/// JSON insignificant whitespace.
const fn is_ws(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\r' | b'\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_defaults_and_clamp() {
        let config = FramerConfig::default();
        assert_eq!(config.dialect(), Dialect::Lines);
        assert_eq!(config.max_frame_len(), 10 * 1024 * 1024);
        assert_eq!(config.with_max_frame_len(0).max_frame_len(), 1);
    }

    /// The step goes with the dialect, however the dialect is chosen (a value known only at
    /// run time too); equality, hashing and `Debug` see the dialect and the limit only.
    #[test]
    fn dialect_step_follows_the_dialect() {
        let input: &[u8] = b"{\"a\":\n 1}\n";
        for (dialect, end) in [(Dialect::Lines, 5), (Dialect::Qga, 5), (Dialect::Stream, 9)] {
            let config = core::hint::black_box(FramerConfig::new()).with_dialect(dialect);
            let step = Framer::new(config).decode(input);
            assert_eq!(step.status, Ok(Status::Complete(Frame { start: 0, end })));
        }
        let back = FramerConfig::new()
            .with_dialect(Dialect::Stream)
            .with_dialect(Dialect::Lines);
        assert_eq!(back, FramerConfig::new());
        assert_ne!(back, FramerConfig::new().with_dialect(Dialect::Qga));
        let mut text = heapless::String::<96>::new();
        core::fmt::write(&mut text, format_args!("{back:?}")).unwrap();
        assert_eq!(
            text,
            "FramerConfig { dialect: Lines, max_frame_len: 10485760 }"
        );
    }

    #[test]
    fn partial_keeps_the_scan_position() {
        let mut framer = Framer::stream();
        let step = framer.decode(b"  {\"a\": [1, ");
        assert_eq!((step.consumed, step.status), (2, Ok(Status::Partial)));
        let scanned = framer.bytes_scanned();
        let step = framer.decode(b"{\"a\": [1, 2]}");
        assert_eq!(
            step.status,
            Ok(Status::Complete(Frame { start: 0, end: 13 }))
        );
        // Only the three new bytes were looked at, `]` twice as it also ended the number.
        assert_eq!(framer.bytes_scanned() - scanned, 4);
    }

    #[test]
    fn errors_display() {
        extern crate alloc;
        use alloc::string::ToString;
        let e = FrameError::Stray {
            offset: 3,
            byte: b'}',
        };
        assert_eq!(e.to_string(), "stray '}' at offset 3");
        let e = FrameError::Lexical {
            offset: 7,
            byte: b'1',
            kind: LexicalKind::InvalidNumber,
        };
        assert_eq!(
            e.to_string(),
            "JSON lexical error at offset 7: invalid number 0x31"
        );
    }
}
