//! Compares a `qmp_codec::Value` with a `serde_json::Value`, reading every string and number
//! through the crate's views. Iterative (an explicit stack), so deep values are fine.

use qmp_codec::{Str, Value, ValueKind};
use serde_json::Value as J;

/// Reads a `Str` through every decoding path and checks that they agree; returns the text.
pub fn str_text(s: Str<'_>) -> Result<String, String> {
    let via_chars: String = s.chars().collect();
    let len = s.unescaped_len();
    if len != via_chars.len() {
        return Err(format!("unescaped_len {len} != {}", via_chars.len()));
    }
    let mut buf = vec![0u8; len];
    let via_buf = s
        .unescape_into(&mut buf)
        .map_err(|e| format!("unescape_into into exact buffer: {e}"))?
        .to_owned();
    let via_cow = s.to_cow().into_owned();
    let via_display = s.to_string();
    if via_buf != via_chars || via_cow != via_chars || via_display != via_chars {
        return Err(format!(
            "decoders disagree: chars {via_chars:?} buf {via_buf:?} cow {via_cow:?} display {via_display:?}"
        ));
    }
    if !s.eq_str(&via_chars) {
        return Err(format!("eq_str({via_chars:?}) is false"));
    }
    if s.has_escapes() == s.as_borrowed().is_some() {
        return Err("as_borrowed disagrees with has_escapes".into());
    }
    Ok(via_chars)
}

fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-15 * a.abs().max(b.abs()) || (a - b).abs() < 1e-300
}

fn number(ours: Value<'_>, theirs: &serde_json::Number) -> Result<(), String> {
    let text = ours.as_number().ok_or("not a number")?;
    if let Some(u) = theirs.as_u64() {
        if ours.as_u64() != Some(u) {
            return Err(format!("{text}: as_u64 {:?} != {u}", ours.as_u64()));
        }
        if ours.as_i64() != i64::try_from(u).ok() {
            return Err(format!("{text}: as_i64 {:?} for {u}", ours.as_i64()));
        }
    } else if let Some(i) = theirs.as_i64() {
        if ours.as_i64() != Some(i) {
            return Err(format!("{text}: as_i64 {:?} != {i}", ours.as_i64()));
        }
        if ours.as_u64().is_some() && i != 0 {
            return Err(format!("{text}: as_u64 of a negative integer"));
        }
    }
    let want = theirs.as_f64().ok_or("serde_json number without f64")?;
    match ours.as_f64() {
        Some(got) if close(got, want) => Ok(()),
        got => Err(format!("{text}: as_f64 {got:?} != {want:?}")),
    }
}

/// Walks both trees; `Err` describes the first difference.
pub fn compare(ours: Value<'_>, theirs: &J) -> Result<(), String> {
    let mut stack: Vec<(Value<'_>, &J)> = vec![(ours, theirs)];
    while let Some((a, b)) = stack.pop() {
        match (a.kind(), b) {
            (ValueKind::Null, J::Null) => {
                if !a.is_null() {
                    return Err("is_null".into());
                }
            }
            (ValueKind::Bool, J::Bool(x)) => {
                if a.as_bool() != Some(*x) {
                    return Err(format!("bool {:?} != {x}", a.as_bool()));
                }
            }
            (ValueKind::Number, J::Number(n)) => number(a, n)?,
            (ValueKind::String, J::String(s)) => {
                let got = str_text(a.as_str().ok_or("as_str of a string")?)?;
                if &got != s {
                    return Err(format!("string {got:?} != {s:?}"));
                }
            }
            (ValueKind::Array, J::Array(items)) => {
                let ours: Vec<Value<'_>> = a.elements().collect();
                if ours.len() != items.len() {
                    return Err(format!("array of {} != {}", ours.len(), items.len()));
                }
                stack.extend(ours.into_iter().zip(items));
            }
            (ValueKind::Object, J::Object(map)) => {
                // serde_json keeps the last of duplicate names; so must `get`.
                let mut last: std::collections::BTreeMap<String, Value<'_>> = Default::default();
                for (k, v) in a.members() {
                    last.insert(str_text(k)?, v);
                }
                if last.len() != map.len() {
                    return Err(format!("object of {} names != {}", last.len(), map.len()));
                }
                for (k, v) in last {
                    let other = map.get(&k).ok_or_else(|| format!("name {k:?} missing"))?;
                    let got = a.get(&k).ok_or_else(|| format!("get({k:?}) is None"))?;
                    if got != v {
                        return Err(format!("get({k:?}) is not the last member"));
                    }
                    stack.push((v, other));
                }
            }
            (kind, other) => return Err(format!("{kind} != {other}")),
        }
    }
    Ok(())
}
