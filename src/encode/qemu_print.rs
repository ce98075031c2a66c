//! Printing validated JSON as QEMU's monitor re-serializes it.

use core::fmt;

use crate::encode::number::write_qemu_number;
use crate::json::print::write_string_body;
use crate::json::scan::is_ws;
use crate::json::value::{skip_string, skip_value};

/// Prints the validated value `raw` on one line with `", "` and `": "`, strings ASCII-only
/// with uppercase `\uXXXX`, and numbers re-printed the way QEMU prints them (`1.0` → `1`,
/// `0.1` → `0.10000000000000001`). Iterative: nesting costs nothing.
///
/// QEMU also reorders the members of nested objects (hash order); that is not mirrored.
pub(crate) fn print_qemu<W: fmt::Write + ?Sized>(raw: &[u8], w: &mut W) -> fmt::Result {
    let mut i = 0;
    while let Some(&c) = raw.get(i) {
        match c {
            b'{' => w.write_str("{")?,
            b'[' => w.write_str("[")?,
            b'}' => w.write_str("}")?,
            b']' => w.write_str("]")?,
            b',' => w.write_str(", ")?,
            b':' => w.write_str(": ")?,
            b'"' => {
                let end = skip_string(raw, i);
                let body = raw.get(i + 1..end.saturating_sub(1)).unwrap_or(&[]);
                write_string_body(w, body, true)?;
                i = end;
                continue;
            }
            c if is_ws(c) => {}
            _ => {
                let end = skip_value(raw, i).max(i + 1);
                let text = raw
                    .get(i..end)
                    .and_then(|t| core::str::from_utf8(t).ok())
                    .unwrap_or("null");
                if c == b'-' || c.is_ascii_digit() {
                    write_qemu_number(text, w)?;
                } else {
                    w.write_str(text)?;
                }
                i = end;
                continue;
            }
        }
        i += 1;
    }
    Ok(())
}
