//! The `differential` harness: [`Message::parse`] against serde_json on the same bytes.
//!
//! Both parsers are strict RFC 8259, so they must accept and reject the same inputs, apart
//! from these documented differences:
//!
//! - duplicate member names at any depth: rejected by us (as QEMU does), accepted by
//!   serde_json (last one wins);
//! - more than `Limits::MAX_MEMBERS_CAP` top-level members: rejected by us;
//! - numbers that overflow `f64` (`1e400`): accepted by us (kept as text), rejected by
//!   serde_json (`number out of range`);
//! - nesting: serde_json stops at 128 levels, we at 1024;
//! - a top-level value that is not an object: valid JSON for serde_json, `UnexpectedType`
//!   for us (whose value must then agree with serde_json's).
//!
//! When both accept, every member, element, string and number read back must agree.
//!
//! `tests/fuzz_seeds.rs` replays its seed corpus; `tests/fuzz_differential.rs` runs it on the
//! JSONTestSuite files.

use std::collections::BTreeSet;

use qmp_codec::{Limits, Message, ParseError, Reason, Value, ValueKind};
use serde_json::Value as Json;

/// serde_json's nesting limit: the 128th nested container fails.
const SERDE_DEPTH: usize = 128;

/// Target `differential`: see the module docs.
pub fn differential(data: &[u8]) {
    let ours = Message::parse(data);
    let theirs: Result<Json, serde_json::Error> = serde_json::from_slice(data);
    match (ours, theirs) {
        (Ok(msg), Ok(json)) => {
            let Json::Object(map) = &json else {
                panic!("we parsed an object, serde_json a {json:?}")
            };
            // Top-level names are unique in an accepted message, so the counts agree.
            assert_eq!(msg.len(), map.len(), "top-level member count");
            for (k, v) in msg.iter() {
                let name = k.to_cow();
                match map.get(name.as_ref()) {
                    Some(j) => same(v, j),
                    None => panic!("member {name:?} missing from serde_json's object"),
                }
            }
        }
        (Err(ParseError::UnexpectedType(e)), Ok(json)) => {
            assert!(!json.is_object(), "UnexpectedType for an object");
            same(e.value(), &json);
        }
        (Ok(msg), Err(e)) => {
            let why = e.to_string();
            if why.starts_with("number out of range") {
                assert!(
                    has_infinite_number(msg.as_value()),
                    "serde_json: {why}, but every number fits an f64"
                );
            } else if why.starts_with("recursion limit exceeded") {
                assert!(depth(msg.as_value()) >= SERDE_DEPTH, "serde_json: {why}");
            } else {
                panic!("we accepted what serde_json rejects: {why}");
            }
        }
        (Err(ParseError::UnexpectedType(u)), Err(e)) => {
            let why = e.to_string();
            let v = u.value();
            let explained = (why.starts_with("number out of range") && has_infinite_number(v))
                || (why.starts_with("recursion limit exceeded") && depth(v) >= SERDE_DEPTH);
            assert!(
                explained,
                "we accepted a non-object serde_json rejects: {why}"
            );
        }
        (Err(ParseError::Deserialization(e)), Ok(json)) => match e.reason() {
            Reason::DuplicateMember => {
                // The name at the offset must be one of serde_json's (merged) names, in some
                // object at any depth.
                let mut names = std::collections::BTreeSet::new();
                let mut stack = vec![&json];
                while let Some(v) = stack.pop() {
                    match v {
                        Json::Object(m) => {
                            names.extend(m.keys().cloned());
                            stack.extend(m.values());
                        }
                        Json::Array(a) => stack.extend(a),
                        _ => {}
                    }
                }
                let name = data.get(e.offset()..).and_then(|rest| {
                    serde_json::Deserializer::from_slice(rest)
                        .into_iter::<String>()
                        .next()
                        .and_then(Result::ok)
                });
                match name {
                    Some(name) => assert!(names.contains(&name), "{name:?} is no duplicate"),
                    None => panic!("no member name at offset {}", e.offset()),
                }
            }
            Reason::TooManyMembers => {
                assert!(json.is_object(), "too many members in a {json:?}");
                assert!(e.offset() > 0);
            }
            other => panic!(
                "we rejected ({other:?} at {}) what serde_json accepts",
                e.offset()
            ),
        },
        (Err(ParseError::Deserialization(_)), Err(_)) => {}
        (Err(other), _) => panic!("unknown parse error {other:?}"),
    }
    // Our limits only tighten acceptance.
    if let Ok(strict) = Message::parse_with(data, &Limits::new().with_max_depth(SERDE_DEPTH - 1)) {
        assert!(Message::parse(data).is_ok_and(|m| m == strict));
    }
}

/// Whether any number under `v` overflows an `f64`.
fn has_infinite_number(v: Value<'_>) -> bool {
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v.kind() {
            ValueKind::Number if v.as_f64().is_none() => return true,
            ValueKind::Object => stack.extend(v.members().map(|(_, v)| v)),
            ValueKind::Array => stack.extend(v.elements()),
            _ => {}
        }
    }
    false
}

/// The nesting depth of `v` (containers on the deepest path).
fn depth(v: Value<'_>) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(v, 0usize)];
    while let Some((v, above)) = stack.pop() {
        let d = above + 1;
        match v.kind() {
            ValueKind::Object => stack.extend(v.members().map(|(_, c)| (c, d))),
            ValueKind::Array => stack.extend(v.elements().map(|c| (c, d))),
            _ => continue,
        }
        deepest = deepest.max(d);
    }
    deepest
}

/// Asserts that our value and serde_json's hold the same data, with an explicit stack.
fn same(v: Value<'_>, j: &Json) {
    let mut stack = vec![(v, j)];
    while let Some((v, j)) = stack.pop() {
        match (v.kind(), j) {
            (ValueKind::Null, Json::Null) => {}
            (ValueKind::Bool, Json::Bool(b)) => assert_eq!(v.as_bool(), Some(*b)),
            (ValueKind::String, Json::String(s)) => {
                let ours = v.as_str().expect("a string value has a Str");
                assert!(ours.chars().eq(s.chars()), "string {:?} vs {s:?}", ours);
                assert_eq!(ours.unescaped_len(), s.len());
                assert_eq!(ours.to_cow(), s.as_str());
            }
            (ValueKind::Number, Json::Number(n)) => {
                let text = v.as_number().unwrap_or("");
                if let Some(u) = n.as_u64() {
                    assert_eq!(v.as_u64(), Some(u), "{text}");
                } else if let Some(i) = n.as_i64() {
                    assert_eq!(v.as_i64(), Some(i), "{text}");
                } else {
                    let f = n.as_f64().expect("a serde_json number is u64, i64 or f64");
                    assert_eq!(v.as_f64(), Some(f), "{text}");
                }
            }
            (ValueKind::Array, Json::Array(items)) => {
                let mut ours = v.elements();
                for item in items {
                    match ours.next() {
                        Some(e) => stack.push((e, item)),
                        None => panic!("array shorter than serde_json's"),
                    }
                }
                assert!(ours.next().is_none(), "array longer than serde_json's");
            }
            (ValueKind::Object, Json::Object(map)) => {
                // Names are unique at every depth in a message we accept (serde_json would
                // have merged a repeat into one member).
                let names: BTreeSet<_> = v.members().map(|(k, _)| k.to_cow()).collect();
                assert_eq!(names.len(), map.len(), "distinct member names");
                assert_eq!(
                    v.members().count(),
                    map.len(),
                    "a repeated name was accepted"
                );
                for (name, item) in map {
                    match v.get(name) {
                        Some(c) => stack.push((c, item)),
                        None => panic!("member {name:?} missing from our object"),
                    }
                }
            }
            (kind, j) => panic!("{kind} vs {j:?}"),
        }
    }
}
