//! The one-line JSON summary of a frame, shared by `qmp decode` and `qmp events`.
//!
//! Key order: `offset`, `len`, then for a message `kind`, `id` and the kind's own keys (and
//! `invalid` when it breaks its model), for a bad frame `error` and `detail`. Everything is
//! printed with the crate's printers, so the line is valid JSON, ASCII only.

use std::fmt::{self, Write};

use qmp_codec::write_json_string;
use qmp_codec::{FrameError, Kind, Message, ParseError, Style, Value};

/// Appends `{"offset":…,"len":…,` for a frame at `offset` of `len` bytes.
fn open(out: &mut String, offset: u64, len: u64) -> fmt::Result {
    write!(out, "{{\"offset\":{offset},\"len\":{len}")
}

/// Appends `,"key":` and the value printed compactly.
fn value(out: &mut String, key: &str, v: Value<'_>) -> fmt::Result {
    write!(out, ",\"{key}\":")?;
    v.write_to(Style::PYTHON_COMPACT, out)
}

/// Appends `,"key":` and `text` as a JSON string.
fn string(out: &mut String, key: &str, text: &str) -> fmt::Result {
    write!(out, ",\"{key}\":")?;
    write_json_string(out, text)
}

/// Appends `,"key":true|false`.
fn flag(out: &mut String, key: &str, b: bool) -> fmt::Result {
    write!(out, ",\"{key}\":{b}")
}

/// The name printed in `"error"` for a framer error.
pub fn frame_error_name(e: &FrameError) -> &'static str {
    match e {
        FrameError::TooLong { .. } => "too-long",
        FrameError::Lexical { .. } => "lexical",
        FrameError::Stray { .. } => "stray",
        FrameError::Truncated { .. } => "truncated",
        _ => "frame",
    }
}

/// Where a framer error is and how many bytes it covers (one for a single bad byte).
pub fn frame_error_span(e: &FrameError, fallback_offset: u64) -> (u64, u64) {
    match *e {
        FrameError::TooLong { offset, len } | FrameError::Truncated { offset, len } => {
            (offset, len)
        }
        FrameError::Lexical { offset, .. } | FrameError::Stray { offset, .. } => (offset, 1),
        _ => (fallback_offset, 0),
    }
}

/// One summary line (without newline) for a bad frame.
pub fn frame_error(out: &mut String, e: &FrameError, fallback_offset: u64) -> fmt::Result {
    let (offset, len) = frame_error_span(e, fallback_offset);
    open(out, offset, len)?;
    string(out, "error", frame_error_name(e))?;
    string(out, "detail", &e.to_string())?;
    out.write_char('}')
}

/// One summary line for a frame that is not a message (not JSON, or not an object).
pub fn parse_error(out: &mut String, offset: u64, len: u64, e: &ParseError<'_>) -> fmt::Result {
    open(out, offset, len)?;
    let name = match e {
        ParseError::UnexpectedType(_) => "unexpected-type",
        _ => "deserialization",
    };
    string(out, "error", name)?;
    string(out, "detail", &e.to_string())?;
    out.write_char('}')
}

/// One summary line for a message.
pub fn message(out: &mut String, offset: u64, len: u64, msg: &Message<'_>) -> fmt::Result {
    open(out, offset, len)?;
    let kind = msg.kind();
    string(out, "kind", kind.as_str())?;
    if let Some(id) = msg.id() {
        value(out, "id", id)?;
    }
    match kind {
        Kind::Greeting => greeting(out, msg)?,
        Kind::Event => {
            if let Some(name) = msg.get("event") {
                value(out, "event", name)?;
            }
            if let Some(ts) = msg.get("timestamp") {
                for key in ["seconds", "microseconds"] {
                    if let Some(v) = ts.get(key) {
                        value(out, key, v)?;
                    }
                }
            }
            flag(out, "data", msg.contains_key("data"))?;
        }
        Kind::Error => {
            if let Some(error) = msg.get("error") {
                for key in ["class", "desc"] {
                    if let Some(v) = error.get(key) {
                        value(out, key, v)?;
                    }
                }
            }
        }
        Kind::Return => {
            if let Some(v) = msg.get("return") {
                string(out, "return", v.kind().as_str())?;
            }
        }
        Kind::Command => {
            let oob = msg.get("exec-oob");
            if let Some(name) = msg.get("execute").or(oob) {
                value(out, "execute", name)?;
            }
            flag(out, "oob", oob.is_some())?;
            flag(out, "arguments", msg.contains_key("arguments"))?;
        }
        // `Unknown`, and kinds a later version may add: the kind alone.
        _ => {}
    }
    if let Some(reason) = invalid(msg) {
        string(out, "invalid", &reason)?;
    }
    out.write_char('}')
}

/// The greeting's `version` (`"10.0.2"`), `package` and `capabilities`.
fn greeting(out: &mut String, msg: &Message<'_>) -> fmt::Result {
    let Some(qmp) = msg.get("QMP") else {
        return Ok(());
    };
    let version = qmp.get("version");
    let qemu = version.and_then(|v| v.get("qemu"));
    let part = |key: &str| qemu.and_then(|q| q.get(key)).and_then(|n| n.as_number());
    if let (Some(major), Some(minor), Some(micro)) = (part("major"), part("minor"), part("micro")) {
        string(out, "version", &format!("{major}.{minor}.{micro}"))?;
    }
    if let Some(package) = version.and_then(|v| v.get("package")) {
        value(out, "package", package)?;
    }
    if let Some(caps) = qmp.get("capabilities") {
        value(out, "capabilities", caps)?;
    }
    Ok(())
}

/// The text of the model error when the message breaks the model its kind names
/// ([`Message::classify`]), e.g. `'ErrorInfo' object requires 'desc' member`.
fn invalid(msg: &Message<'_>) -> Option<String> {
    msg.classify().err().map(|e| e.to_string())
}
