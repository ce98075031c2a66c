//! The errors a QMP server sends for bad input, with QEMU's texts.

use core::fmt;

use crate::error::{ParseError, Reason};
use crate::framer::{FrameError, LexicalKind};
use crate::json::Str;
use crate::model::ModelError;

/// Why a server refused input, answered with QEMU's error class and text ([`Display`]
/// is the `desc`).
///
/// [`Display`]: fmt::Display
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputError<'a> {
    /// A byte QEMU's lexer rejects: `JSON parse error, stray '<token>'`, where the token is
    /// the text from the start of the token in progress to the bad byte.
    Stray {
        /// The token's bytes (invalid UTF-8 shows as U+FFFD; a NUL cuts it short, as C does).
        token: &'a [u8],
    },
    /// `JSON parse error, expecting value`.
    ExpectingValue,
    /// `JSON parse error, key is not a string in object`.
    KeyNotString,
    /// `JSON parse error, missing : in object pair`.
    MissingColon,
    /// `JSON parse error, expected separator in dict` (or `in list`).
    ExpectedSeparator {
        /// Inside an object (`dict`) rather than an array (`list`).
        in_object: bool,
    },
    /// `JSON parse error, invalid keyword '<word>'`.
    InvalidKeyword {
        /// The lowercase word.
        word: &'a [u8],
    },
    /// `JSON parse error, invalid escape sequence in string`.
    InvalidEscape,
    /// `JSON parse error, \uD800 is not a valid Unicode character` (a lone surrogate).
    InvalidUnicode {
        /// The six-byte escape as written.
        escape: &'a [u8],
    },
    /// `JSON parse error, invalid UTF-8 sequence in string`.
    InvalidUtf8,
    /// `JSON parse error, duplicate key`.
    DuplicateKey,
    /// `JSON parse error, too many members`: over this crate's member limit (QEMU has
    /// none).
    TooManyMembers,
    /// `JSON nesting depth limit exceeded`.
    DepthLimit,
    /// `JSON token size limit exceeded`: the message is over the frame length limit.
    TooLong,
    /// `QMP input must be a JSON object` (sent without `id`).
    NotObject,
    /// A command whose members are wrong (`QMP input member 'X' is unexpected`, …).
    Command(ModelError<'a>),
    /// `CommandNotFound`: `Expecting capabilities negotiation with 'qmp_capabilities'`.
    NotNegotiated,
    /// `CommandNotFound`: `Capabilities negotiation is already complete, command ignored`.
    AlreadyNegotiated,
    /// `Parameter '<name>' is unexpected` (an argument `qmp_capabilities` does not take).
    UnexpectedParameter {
        /// The argument's name.
        name: Str<'a>,
    },
    /// `Invalid parameter type for 'enable', expected: array`, or for an element
    /// `'enable[<i>]', expected: string`.
    InvalidParameterType {
        /// The element index, for an element of `enable`.
        element: Option<usize>,
    },
    /// `Parameter 'null' does not accept value '<value>'` (an unknown capability; `null` is
    /// what QEMU prints for a list element's name).
    InvalidCapability {
        /// The capability asked for.
        value: Str<'a>,
    },
    /// `Capability oob not available` (repeated, comma-separated, once per request of it).
    CapabilityNotAvailable {
        /// How many times `oob` was asked for.
        count: usize,
    },
}

impl InputError<'_> {
    /// The error class: `CommandNotFound` for the negotiation errors, else `GenericError`.
    pub const fn class(&self) -> &'static str {
        match self {
            InputError::NotNegotiated | InputError::AlreadyNegotiated => "CommandNotFound",
            _ => "GenericError",
        }
    }
}

/// Writes bytes as C would print them in a `%s`: up to the first NUL, invalid UTF-8 as
/// U+FFFD (QEMU's JSON writer then escapes it).
fn write_c_str(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    for chunk in bytes.get(..end).unwrap_or_default().utf8_chunks() {
        f.write_str(chunk.valid())?;
        if !chunk.invalid().is_empty() {
            f.write_str("\u{FFFD}")?;
        }
    }
    Ok(())
}

impl fmt::Display for InputError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const P: &str = "JSON parse error, ";
        match self {
            InputError::Stray { token } => {
                write!(f, "{P}stray '")?;
                write_c_str(f, token)?;
                f.write_str("'")
            }
            InputError::ExpectingValue => write!(f, "{P}expecting value"),
            InputError::KeyNotString => write!(f, "{P}key is not a string in object"),
            InputError::MissingColon => write!(f, "{P}missing : in object pair"),
            InputError::ExpectedSeparator { in_object } => {
                let what = if *in_object { "dict" } else { "list" };
                write!(f, "{P}expected separator in {what}")
            }
            InputError::InvalidKeyword { word } => {
                write!(f, "{P}invalid keyword '")?;
                write_c_str(f, word)?;
                f.write_str("'")
            }
            InputError::InvalidEscape => write!(f, "{P}invalid escape sequence in string"),
            InputError::InvalidUnicode { escape } => {
                f.write_str(P)?;
                write_c_str(f, escape)?;
                f.write_str(" is not a valid Unicode character")
            }
            InputError::InvalidUtf8 => write!(f, "{P}invalid UTF-8 sequence in string"),
            InputError::DuplicateKey => write!(f, "{P}duplicate key"),
            InputError::TooManyMembers => write!(f, "{P}too many members"),
            InputError::DepthLimit => f.write_str("JSON nesting depth limit exceeded"),
            InputError::TooLong => f.write_str("JSON token size limit exceeded"),
            InputError::NotObject => f.write_str("QMP input must be a JSON object"),
            InputError::Command(e) => e.fmt(f),
            InputError::NotNegotiated => {
                f.write_str("Expecting capabilities negotiation with 'qmp_capabilities'")
            }
            InputError::AlreadyNegotiated => {
                f.write_str("Capabilities negotiation is already complete, command ignored")
            }
            InputError::UnexpectedParameter { name } => {
                write!(f, "Parameter '{name}' is unexpected")
            }
            InputError::InvalidParameterType { element: None } => {
                f.write_str("Invalid parameter type for 'enable', expected: array")
            }
            InputError::InvalidParameterType { element: Some(i) } => {
                write!(
                    f,
                    "Invalid parameter type for 'enable[{i}]', expected: string"
                )
            }
            InputError::InvalidCapability { value } => {
                write!(f, "Parameter 'null' does not accept value '{value}'")
            }
            InputError::CapabilityNotAvailable { count } => {
                f.write_str("Capability ")?;
                for i in 0..*count {
                    f.write_str(if i == 0 { "oob" } else { ", oob" })?;
                }
                f.write_str(" not available")
            }
        }
    }
}

impl core::error::Error for InputError<'_> {}

/// The error for a frame the framer refused. `region` holds the bytes of the failed step
/// (the bad byte last), starting at stream offset `region_offset`.
pub(crate) fn from_frame_error(
    error: FrameError,
    region: &[u8],
    region_offset: u64,
) -> InputError<'_> {
    match error {
        FrameError::Lexical { offset, kind, .. } => {
            let at = usize::try_from(offset.saturating_sub(region_offset)).unwrap_or(usize::MAX);
            let at = at.min(region.len().saturating_sub(1));
            let start = match kind {
                LexicalKind::InvalidString => string_start(region, at),
                LexicalKind::InvalidNumber => {
                    let mut s = at;
                    while s > 0
                        && region.get(s - 1).is_some_and(|b| {
                            matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
                        })
                    {
                        s -= 1;
                    }
                    s
                }
                _ => at,
            };
            InputError::Stray {
                token: region.get(start..=at).unwrap_or_default(),
            }
        }
        FrameError::TooLong { .. } => InputError::TooLong,
        _ => InputError::ExpectingValue,
    }
}

/// The offset of the quote that opened the string containing `at`, found by lexing
/// `region` from its start (QEMU also accepts single-quoted strings).
fn string_start(region: &[u8], at: usize) -> usize {
    let mut open: Option<(usize, u8)> = None;
    let mut i = 0;
    while i < at {
        let Some(&b) = region.get(i) else { break };
        match open {
            None if b == b'"' || b == b'\'' => open = Some((i, b)),
            Some((_, q)) if b == q => open = None,
            Some(_) if b == b'\\' => i += 1,
            _ => {}
        }
        i += 1;
    }
    open.map_or(at, |(s, _)| s)
}

/// Whether offset `at` of the validated-up-to-`at` JSON text `b` is inside an object
/// (rather than an array). Iterative, with a bit stack as deep as the scanner's.
fn in_object_at(b: &[u8], at: usize) -> bool {
    let mut stack = [0u64; crate::limits::Limits::MAX_DEPTH_CAP / 64];
    let mut depth = 0usize;
    let mut i = 0;
    while i < at {
        let Some(&c) = b.get(i) else { break };
        match c {
            b'"' => {
                i += 1;
                while let Some(&c) = b.get(i) {
                    if c == b'\\' {
                        i += 1;
                    } else if c == b'"' {
                        break;
                    }
                    i += 1;
                }
            }
            b'{' | b'[' => {
                if let Some(w) = stack.get_mut(depth / 64) {
                    let bit = 1u64 << (depth % 64);
                    *w = if c == b'{' { *w | bit } else { *w & !bit };
                }
                depth += 1;
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    let d = depth.saturating_sub(1);
    stack
        .get(d / 64)
        .is_some_and(|w| w & (1u64 << (d % 64)) != 0)
}

/// The error for a frame that is not a JSON object, or not valid JSON.
pub(crate) fn from_parse_error<'a>(frame: &'a [u8], error: &ParseError<'_>) -> InputError<'a> {
    let e = match error {
        ParseError::Deserialization(e) => e,
        _ => return InputError::NotObject,
    };
    let at = e.offset();
    match e.reason() {
        Reason::ExpectedName => match frame.get(at) {
            Some(b'{' | b'[' | b'-' | b'0'..=b'9' | b'a'..=b'z' | b'\'') => {
                InputError::KeyNotString
            }
            _ => InputError::ExpectingValue,
        },
        Reason::ExpectedColon => InputError::MissingColon,
        Reason::ExpectedCommaOrEnd => InputError::ExpectedSeparator {
            in_object: in_object_at(frame, at),
        },
        // QEMU lexes any run of lowercase letters as a keyword, then rejects it.
        Reason::InvalidLiteral => keyword(frame, at),
        Reason::ExpectedValue if frame.get(at).is_some_and(u8::is_ascii_lowercase) => {
            keyword(frame, at)
        }
        Reason::InvalidEscape => InputError::InvalidEscape,
        Reason::LoneSurrogate => InputError::InvalidUnicode {
            escape: frame.get(at..at.saturating_add(6)).unwrap_or_default(),
        },
        Reason::InvalidUtf8 => InputError::InvalidUtf8,
        Reason::DuplicateMember => InputError::DuplicateKey,
        Reason::TooManyMembers => InputError::TooManyMembers,
        Reason::DepthLimit => InputError::DepthLimit,
        _ => InputError::ExpectingValue,
    }
}

/// The run of lowercase letters around `at`, as an invalid keyword.
fn keyword(frame: &[u8], at: usize) -> InputError<'_> {
    let word = |b: &u8| b.is_ascii_lowercase();
    let mut start = at.min(frame.len());
    while start > 0 && frame.get(start - 1).is_some_and(word) {
        start -= 1;
    }
    let mut end = at;
    while frame.get(end).is_some_and(word) {
        end += 1;
    }
    InputError::InvalidKeyword {
        word: frame.get(start..end).unwrap_or_default(),
    }
}
