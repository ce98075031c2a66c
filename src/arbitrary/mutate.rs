//! A structure-aware mutator: valid message in, nearly valid message out.

use alloc::vec::Vec;

use ::arbitrary::{Arbitrary, Result, Unstructured};

use crate::json::{Str, Value, ValueKind};
use crate::Message;

/// One way to break a valid message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mutation {
    /// A member's value replaced by one of another JSON type.
    WrongType,
    /// A member removed.
    MissingMember,
    /// The `id` set to an odd value (`1e400`, `-0`, a surrogate pair, an object, …).
    OddId,
    /// A member's value wrapped in up to 1100 arrays (QEMU's limit is 1024).
    DeepNesting,
    /// A string given a broken escape (a lone surrogate, `\u12`, `\x`) or cut inside one.
    SplitEscape,
    /// A member repeated (QEMU rejects duplicate names).
    DuplicateMember,
    /// A member no model expects (`"control"`, …) added.
    UnexpectedMember,
    /// The text cut short.
    Truncate,
    /// The object replaced by a non-object document (an array holding it, or a member value).
    NotAnObject,
}

impl Mutation {
    /// Every mutation, for callers that pick one.
    pub const ALL: [Mutation; 9] = [
        Mutation::WrongType,
        Mutation::MissingMember,
        Mutation::OddId,
        Mutation::DeepNesting,
        Mutation::SplitEscape,
        Mutation::DuplicateMember,
        Mutation::UnexpectedMember,
        Mutation::Truncate,
        Mutation::NotAnObject,
    ];
}

impl<'a> Arbitrary<'a> for Mutation {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(*u.choose(&Mutation::ALL)?)
    }
}

/// Values of every JSON type, for [`Mutation::WrongType`].
const WRONG: &[&str] = &["1", "\"x\"", "[]", "{}", "null", "true", "-1.5e3", "[{}]"];

/// Odd but valid ids, and one invalid (`inf`, which QEMU echoes for `1e400`).
const ODD_IDS: &[&str] = &[
    "1e400",
    "-1e400",
    "-0",
    "1.0",
    "18446744073709551616",
    "-9223372036854775809",
    "\"\\u00e9\"",
    "\"\\ud83d\\ude00\"",
    "\"__qmp#00000\"",
    "\"\"",
    "{\"a\":[1,{\"b\":null}]}",
    "[]",
    "null",
    "true",
    "inf",
];

/// Broken escapes and bytes for [`Mutation::SplitEscape`].
const BROKEN: &[&[u8]] = &[
    b"\\ud83d",
    b"\\ude00",
    b"\\ud83d\\u0041",
    b"\\u12G",
    b"\\x",
    b"\x01",
    b"\xff",
    b"\xc3",
];

/// Unexpected members for [`Mutation::UnexpectedMember`].
const EXTRA: &[&str] = &[
    "\"control\":{\"enable\":1}",
    "\"argumnets\":{}",
    "\"exec-oob\":\"query-version\"",
    "\"execute\":\"query-status\"",
    "\"QMP\":{}",
    "\"\":0",
];

/// Where a slice of the message starts, found from the scanner's borrowed views.
fn offset_in(outer: &[u8], inner: &[u8]) -> usize {
    (inner.as_ptr() as usize).saturating_sub(outer.as_ptr() as usize)
}

/// Applies `mutation` to `message` (a JSON object as bytes), drawing choices from `u`.
///
/// The members are located with the crate's scanner and the object is rebuilt around the
/// change, so everything else stays valid. Input that is not a JSON object is only
/// truncated or wrapped.
pub fn mutate(message: &[u8], mutation: Mutation, u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    let Ok(msg) = Message::parse(message) else {
        return Ok(match mutation {
            Mutation::NotAnObject => wrap(message),
            _ => truncate(message, u)?,
        });
    };
    // Each member as (name with quotes, value) byte slices of `message`.
    let mut members: Vec<(&[u8], &[u8])> = msg
        .iter()
        .map(|(k, v)| (quoted(message, k), v.raw()))
        .collect();
    let pick = |u: &mut Unstructured<'_>, n: usize| -> Result<Option<usize>> {
        if n == 0 {
            Ok(None)
        } else {
            u.choose_index(n).map(Some)
        }
    };
    match mutation {
        Mutation::WrongType => {
            if let Some(i) = pick(u, members.len())? {
                let kind = Value::new(members[i].1).kind();
                let choices: Vec<&str> = WRONG
                    .iter()
                    .copied()
                    .filter(|w| kind_of(w) != kind)
                    .collect();
                members[i].1 = u.choose(&choices)?.as_bytes();
            }
        }
        Mutation::MissingMember => {
            if let Some(i) = pick(u, members.len())? {
                members.remove(i);
            }
        }
        Mutation::OddId => {
            let id = u.choose(ODD_IDS)?.as_bytes();
            match members.iter_mut().find(|(k, _)| *k == b"\"id\"") {
                Some(m) => m.1 = id,
                None => members.push((&b"\"id\""[..], id)),
            }
        }
        Mutation::DeepNesting => {
            let n = u.int_in_range(1usize..=1100)?;
            let i = match pick(u, members.len())? {
                Some(i) => i,
                None => {
                    members.push((&b"\"arguments\""[..], &b"{}"[..]));
                    members.len() - 1
                }
            };
            let mut owned = Vec::with_capacity(2 * n + members[i].1.len());
            owned.resize(n, b'[');
            owned.extend_from_slice(members[i].1);
            owned.resize(owned.len() + n, b']');
            return Ok(rebuild(&members, Some((i, &owned))));
        }
        Mutation::SplitEscape => {
            if let Some(i) = pick(u, members.len())? {
                let (name, value) = members[i];
                // Break the value when it is a string, else the name.
                let target = if value.first() == Some(&b'"') {
                    value
                } else {
                    name
                };
                let owned = split_escape(target, u)?;
                let broken = (i, owned.as_slice());
                return Ok(if target.as_ptr() == value.as_ptr() {
                    rebuild(&members, Some(broken))
                } else {
                    rebuild_name(&members, broken)
                });
            }
        }
        Mutation::DuplicateMember => {
            if let Some(i) = pick(u, members.len())? {
                let m = members[i];
                let at = u.int_in_range(0..=members.len())?;
                members.insert(at, m);
            }
        }
        Mutation::UnexpectedMember => {
            let extra = u.choose(EXTRA)?.as_bytes();
            let mut out = rebuild(&members, None);
            // `rebuild` ends with `}`: insert the member before it.
            out.pop();
            if !members.is_empty() {
                out.push(b',');
            }
            out.extend_from_slice(extra);
            out.push(b'}');
            return Ok(out);
        }
        Mutation::Truncate => return truncate(message, u),
        Mutation::NotAnObject => {
            let scalars: Vec<&[u8]> = members
                .iter()
                .map(|m| m.1)
                .filter(|v| v.first() != Some(&b'{'))
                .collect();
            return Ok(match pick(u, scalars.len())? {
                Some(i) if u.ratio(1u8, 2u8)? => scalars[i].to_vec(),
                _ => wrap(message),
            });
        }
    }
    Ok(rebuild(&members, None))
}

/// A member name with its quotes, as it appears in `message`.
fn quoted<'m>(message: &'m [u8], name: Str<'_>) -> &'m [u8] {
    let start = offset_in(message, name.raw()).saturating_sub(1);
    message
        .get(start..start + name.raw().len() + 2)
        .unwrap_or(b"\"\"")
}

/// The JSON type of one of the [`WRONG`] values.
fn kind_of(text: &str) -> ValueKind {
    Value::new(text.as_bytes()).kind()
}

/// `{"name":value,…}` from the members, with member `replace.0`'s value replaced.
fn rebuild(members: &[(&[u8], &[u8])], replace: Option<(usize, &[u8])>) -> Vec<u8> {
    let mut out = Vec::new();
    out.push(b'{');
    for (i, (name, value)) in members.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(name);
        out.push(b':');
        match replace {
            Some((j, v)) if j == i => out.extend_from_slice(v),
            _ => out.extend_from_slice(value),
        }
    }
    out.push(b'}');
    out
}

/// Like [`rebuild`], with member `replace.0`'s name replaced.
fn rebuild_name(members: &[(&[u8], &[u8])], replace: (usize, &[u8])) -> Vec<u8> {
    let renamed: Vec<(&[u8], &[u8])> = members
        .iter()
        .enumerate()
        .map(|(i, &(name, value))| {
            if i == replace.0 {
                (replace.1, value)
            } else {
                (name, value)
            }
        })
        .collect();
    rebuild(&renamed, None)
}

/// A quoted string with a broken escape inserted, or cut inside an escape it has.
fn split_escape(string: &[u8], u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    let body = string.get(1..string.len().saturating_sub(1)).unwrap_or(&[]);
    let mut out = Vec::with_capacity(string.len() + 8);
    out.push(b'"');
    if let Some(bs) = body.iter().position(|&b| b == b'\\') {
        if u.ratio(1u8, 2u8)? {
            // Cut inside the escape: keep its backslash and part of it, then close.
            let len = if body.get(bs + 1) == Some(&b'u') {
                6
            } else {
                2
            };
            let keep = u.int_in_range(1..=len - 1)?;
            let end = (bs + keep).min(body.len());
            out.extend_from_slice(body.get(..end).unwrap_or(body));
            out.push(b'"');
            return Ok(out);
        }
    }
    // Insert a broken escape at a character boundary (before an ASCII byte or at the end).
    let boundaries: Vec<usize> = (0..=body.len())
        .filter(|&i| body.get(i).is_none_or(|&b| b < 0x80 && b != b'\\'))
        .filter(|&i| i == 0 || body.get(i - 1) != Some(&b'\\'))
        .collect();
    let at = *u.choose(&boundaries)?;
    out.extend_from_slice(body.get(..at).unwrap_or(body));
    out.extend_from_slice(u.choose(BROKEN)?);
    out.extend_from_slice(body.get(at..).unwrap_or(&[]));
    out.push(b'"');
    Ok(out)
}

/// The first `k` bytes, `k` below the length.
fn truncate(message: &[u8], u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    let k = if message.is_empty() {
        0
    } else {
        u.int_in_range(0..=message.len() - 1)?
    };
    Ok(message.get(..k).unwrap_or(&[]).to_vec())
}

/// `[message]`.
fn wrap(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 2);
    out.push(b'[');
    out.extend_from_slice(message);
    out.push(b']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ParseError, Reason};
    use alloc::string::String;

    const CMD: &[u8] =
        br#"{"execute":"blockdev-add","arguments":{"node-name":"caf\u00e9","size":1},"id":"x"}"#;

    fn run(mutation: Mutation, seed: u8) -> Vec<u8> {
        let data: Vec<u8> = (0..64u8)
            .map(|i| i.wrapping_mul(37).wrapping_add(seed))
            .collect();
        mutate(CMD, mutation, &mut Unstructured::new(&data)).unwrap()
    }

    fn reason(bytes: &[u8]) -> Option<Reason> {
        match Message::parse(bytes) {
            Err(ParseError::Deserialization(e)) => Some(e.reason()),
            _ => None,
        }
    }

    #[test]
    fn each_mutation_breaks_what_it_says() {
        for seed in 0..32 {
            let m = run(Mutation::MissingMember, seed);
            assert_eq!(Message::parse(&m).unwrap().len(), 2);

            let m = run(Mutation::WrongType, seed);
            let msg = Message::parse(&m).unwrap();
            let orig = Message::parse(CMD).unwrap();
            let changed = msg
                .iter()
                .zip(orig.iter())
                .filter(|((_, a), (_, b))| a.kind() != b.kind())
                .count();
            assert_eq!(changed, 1, "{}", String::from_utf8_lossy(&m));

            let m = run(Mutation::OddId, seed);
            let id = Message::parse(&m).map(|msg| msg.id().is_some());
            assert!(id.unwrap_or(true), "{}", String::from_utf8_lossy(&m));

            let m = run(Mutation::DuplicateMember, seed);
            assert_eq!(reason(&m), Some(Reason::DuplicateMember));

            let m = run(Mutation::UnexpectedMember, seed);
            let ok = Message::parse(&m).map(|msg| crate::Command::new(msg).is_err());
            assert!(ok.unwrap_or(true));

            let m = run(Mutation::SplitEscape, seed);
            assert!(
                Message::parse(&m).is_err(),
                "{}",
                String::from_utf8_lossy(&m)
            );

            let m = run(Mutation::Truncate, seed);
            assert!(m.len() < CMD.len() && CMD.starts_with(&m));

            let m = run(Mutation::NotAnObject, seed);
            assert!(matches!(
                Message::parse(&m),
                Err(ParseError::UnexpectedType(_))
            ));

            let m = run(Mutation::DeepNesting, seed);
            let r = reason(&m);
            assert!(r.is_none() || r == Some(Reason::DepthLimit));
        }
    }

    #[test]
    fn non_objects_are_only_cut_or_wrapped() {
        let mut u = Unstructured::new(&[7; 16]);
        let m = mutate(b"[1,2]", Mutation::OddId, &mut u).unwrap();
        assert!(b"[1,2]".starts_with(&m) && m.len() < 5);
        let m = mutate(b"nope", Mutation::NotAnObject, &mut u).unwrap();
        assert_eq!(m, b"[nope]");
        assert_eq!(mutate(b"", Mutation::Truncate, &mut u).unwrap(), b"");
    }
}
