//! The serde_json oracle: does `Message::parse` accept and read an input as serde_json does?
//!
//! Documented differences: duplicate top-level names are rejected by this crate (QEMU's rule);
//! numbers that overflow `f64` (`1e400`) are accepted here and rejected by serde_json;
//! serde_json stops at 128 levels of nesting, this crate at 1024.

use qmp_codec::{Message, ParseError, Reason};

use super::walk::compare;

/// Whether the input is an object with two top-level members of the same (unescaped) name.
/// Read by wrapping it in an array, where duplicate names are allowed.
pub fn has_duplicate_names(input: &[u8]) -> bool {
    let mut wrapped = b"[".to_vec();
    wrapped.extend_from_slice(input);
    wrapped.push(b']');
    let Err(ParseError::UnexpectedType(e)) = Message::parse(&wrapped) else {
        return false;
    };
    let Some(object) = e.value().elements().next() else {
        return false;
    };
    let mut names: Vec<String> = object.members().map(|(k, _)| k.to_string()).collect();
    let n = names.len();
    names.sort();
    names.dedup();
    names.len() != n
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
