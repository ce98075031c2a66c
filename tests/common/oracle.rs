//! The serde_json oracle: does `Message::parse` accept and read an input as serde_json does?
//!
//! Documented differences: duplicate member names (at any depth) are rejected by this crate
//! (QEMU's rule);
//! numbers that overflow `f64` (`1e400`) are accepted here and rejected by serde_json;
//! serde_json stops at 128 levels of nesting, this crate at 1024.

use qmp_codec::{Message, ParseError, Reason};

use super::walk::compare;

/// Whether the input holds an object with two members of the same (unescaped) name, at
/// any depth, checked here without the scanner's duplicate check: serde_json reads the
/// input, which keeps one member per name, and the member counts of each object are
/// compared with the names seen in the raw text by a naive walk.
pub fn has_duplicate_names(input: &[u8]) -> bool {
    // Objects with fewer members in serde_json's map than names in the text had duplicates.
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(input) else {
        return false;
    };
    names_in_text(input) != members_in(&value)
}

/// Member names in JSON text: `"…"` followed (after whitespace) by `:`.
fn names_in_text(b: &[u8]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            let mut k = j + 1;
            while k < b.len() && matches!(b[k], b' ' | b'\t' | b'\n' | b'\r') {
                k += 1;
            }
            if b.get(k) == Some(&b':') {
                n += 1;
            }
            i = j + 1;
        } else {
            i += 1;
        }
    }
    n
}

/// Members of every object in a serde_json value.
fn members_in(v: &serde_json::Value) -> usize {
    let mut n = 0;
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            serde_json::Value::Object(m) => {
                n += m.len();
                stack.extend(m.values());
            }
            serde_json::Value::Array(a) => stack.extend(a),
            _ => {}
        }
    }
    n
}

/// Checks one input against serde_json; `Err` describes a disagreement.
pub fn agree(input: &[u8]) -> Result<(), String> {
    let theirs = serde_json::from_slice::<serde_json::Value>(input);
    let ours = Message::parse(input);
    let show = String::from_utf8_lossy(input);
    match (ours, theirs) {
        (Ok(msg), Ok(v)) => {
            if !v.is_object() {
                return Err(format!("{show}: parsed as a message but is {v}"));
            }
            compare(msg.as_value(), &v).map_err(|d| format!("{show}: {d}"))
        }
        (Err(ParseError::UnexpectedType(e)), Ok(v)) => {
            if v.is_object() {
                return Err(format!(
                    "{show}: an object reported as {:?}",
                    e.value().kind()
                ));
            }
            compare(e.value(), &v).map_err(|d| format!("{show}: {d}"))
        }
        (Err(ParseError::Deserialization(e)), Ok(_)) => {
            if e.raw() != input {
                return Err(format!("{show}: raw() is not the input"));
            }
            match e.reason() {
                Reason::DuplicateMember if has_duplicate_names(input) => Ok(()),
                _ => Err(format!(
                    "{show}: rejected by us ({e}), accepted by serde_json"
                )),
            }
        }
        (Ok(_), Err(e)) | (Err(ParseError::UnexpectedType(_)), Err(e)) => {
            let why = e.to_string();
            if why.contains("number out of range") || why.contains("recursion limit") {
                Ok(())
            } else {
                Err(format!("{show}: accepted by us, serde_json says {why}"))
            }
        }
        (Err(ParseError::Deserialization(e)), Err(_)) => {
            if e.raw() == input && e.offset() <= input.len() {
                Ok(())
            } else {
                Err(format!("{show}: bad error {e:?}"))
            }
        }
        (Err(other), _) => Err(format!("{show}: unknown error {other:?}")),
    }
}
