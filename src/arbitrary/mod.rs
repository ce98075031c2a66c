//! Generated QMP traffic for fuzzing QMP peers (feature `arbitrary`).
//!
//! [`ArbCommand`], [`ArbReturn`], [`ArbError`] and [`ArbEvent`] implement
//! [`arbitrary::Arbitrary`]: small owned messages that are valid by construction (unique
//! member names at every level, finite numbers, strings escaped ASCII-only), written with the
//! crate's encoder by their `to_json` methods. [`mutate`] then turns a valid message into a
//! nearly valid one (a wrong member type, a missing member, an odd id, deep nesting, a broken
//! escape, …) using the scanner to find the members.
//!
//! ```
//! use arbitrary::{Arbitrary, Unstructured};
//! use qmp_codec::arbitrary::{mutate, ArbCommand, Mutation};
//! use qmp_codec::{Command, Message};
//!
//! let mut u = Unstructured::new(b"some fuzzer bytes: any slice works");
//! let cmd = ArbCommand::arbitrary(&mut u).unwrap();
//! let json = cmd.to_json();
//! let msg = Message::parse(&json).unwrap();
//! assert!(Command::try_from(msg).unwrap().name() == cmd.name.as_str());
//! let broken = mutate(&json, Mutation::MissingMember, &mut u).unwrap();
//! assert_ne!(broken, json);
//! ```

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use ::arbitrary::{Arbitrary, Result, Unstructured};

use crate::encode::{validate_json, Encode, EventMessage, Request, ServerError, ServerReturn};
use crate::json::print::write_str_escaped;
use crate::json::Value;
use crate::model::Timestamp;

mod mutate;
mod schema;

pub use self::mutate::{mutate, Mutation};
pub use self::schema::{
    schema_command, GenConfig, SchemaCommand, SchemaMutation, DEFAULT_DENY_COMMANDS,
    DEFAULT_DENY_VALUES,
};

/// The deepest nesting a generated value reaches (containers on one path).
pub const MAX_DEPTH: usize = 6;
/// The most values one generated value holds.
pub const MAX_NODES: usize = 48;

/// Command names QEMU and qemu-storage-daemon know, picked more often than random names.
pub const COMMAND_NAMES: &[&str] = &[
    "qmp_capabilities",
    "query-version",
    "query-status",
    "query-commands",
    "query-qmp-schema",
    "query-block-jobs",
    "query-jobs",
    "query-named-block-nodes",
    "query-block-exports",
    "query-iothreads",
    "query-chardev",
    "query-yank",
    "blockdev-add",
    "blockdev-del",
    "block-export-add",
    "job-cancel",
    "object-add",
    "object-del",
    "qom-list",
    "qom-get",
    "nbd-server-stop",
    "trace-event-get-state",
    "x-debug-query-block-graph",
];

/// Error classes QEMU sends.
const CLASSES: &[&str] = &[
    "GenericError",
    "CommandNotFound",
    "DeviceNotActive",
    "DeviceNotFound",
    "KVMMissingCap",
];

/// Member names used in generated objects (unique per object).
const NAMES: &[&str] = &[
    "id",
    "node-name",
    "driver",
    "filename",
    "enable",
    "data",
    "type",
    "path",
    "size",
    "status",
    "device",
    "arguments",
    "execute",
    "return",
    "error",
    "event",
    "QMP",
];

/// Strings that exercise escaping and QMP conventions.
const STRINGS: &[&str] = &[
    "",
    "oob",
    "caf\u{e9}",
    "\u{1F600}",
    "\"\\/\u{8}\u{c}\n\r\t",
    "\u{7f}\u{0}\u{1f}",
    "__qmp#00000",
    "{\"execute\": \"x\"}",
    "}{][,:",
];

/// A JSON value generated as compact text (ASCII-only, lowercase `\u` escapes, Python's
/// `separators=(',', ':')`), valid by construction.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ArbValue(String);

/// A generated JSON object: an [`ArbValue`] that is always `{…}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ArbObject(ArbValue);

impl ArbValue {
    /// The compact JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The value as a borrowed [`Value`] (checked by the scanner, which always accepts it).
    pub fn value(&self) -> Value<'_> {
        validate_json(self.0.as_bytes()).unwrap_or(Value::new(b"null"))
    }
}

impl ArbObject {
    /// The compact JSON text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The object as a borrowed [`Value`].
    pub fn value(&self) -> Value<'_> {
        self.0.value()
    }
}

impl<'a> Arbitrary<'a> for ArbValue {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        generate(u, false).map(ArbValue)
    }
}

impl<'a> Arbitrary<'a> for ArbObject {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        generate(u, true).map(|s| ArbObject(ArbValue(s)))
    }
}

/// A container being generated.
struct Open {
    object: bool,
    members: usize,
    /// Which of [`NAMES`] this object already uses.
    used: u32,
}

/// Generates one value (an object when `object`) as compact JSON, with an explicit stack.
fn generate(u: &mut Unstructured<'_>, object: bool) -> Result<String> {
    let mut out = String::new();
    let mut stack: Vec<Open> = Vec::new();
    let mut nodes = 0usize;
    if object {
        out.push('{');
        stack.push(Open {
            object: true,
            members: 0,
            used: 0,
        });
    } else {
        value(u, &mut out, &mut stack, &mut nodes)?;
    }
    while let Some(top) = stack.last_mut() {
        if nodes >= MAX_NODES || u.is_empty() || u.ratio(1u8, 3u8)? {
            out.push(if top.object { '}' } else { ']' });
            stack.pop();
            continue;
        }
        if top.members > 0 {
            out.push(',');
        }
        if top.object {
            let name = member_name(u, top)?;
            string(&mut out, &name);
            out.push(':');
        }
        top.members += 1;
        value(u, &mut out, &mut stack, &mut nodes)?;
    }
    Ok(out)
}

/// A member name not yet used in this object.
fn member_name(u: &mut Unstructured<'_>, open: &mut Open) -> Result<String> {
    let i = u.choose_index(NAMES.len() + 1)?;
    if let Some(name) = NAMES.get(i) {
        if open.used & (1 << i) == 0 {
            open.used |= 1 << i;
            return Ok(String::from(*name));
        }
    }
    // Unique by construction: the member's position, then a dash, then anything.
    let tail = small_string(u)?;
    let mut name = String::new();
    let _ = write!(name, "{}-{tail}", open.members);
    Ok(name)
}

/// A short string: an interesting one or arbitrary text.
fn small_string(u: &mut Unstructured<'_>) -> Result<String> {
    if u.ratio(1u8, 2u8)? {
        Ok(String::from(*u.choose(STRINGS)?))
    } else {
        let s: &str = u.arbitrary()?;
        Ok(s.chars().take(24).collect())
    }
}

fn string(out: &mut String, s: &str) {
    // Writing to a `String` cannot fail.
    let _ = write_str_escaped(out, s, false);
}

/// Writes one value; a container is opened and left on the stack for the caller.
fn value(
    u: &mut Unstructured<'_>,
    out: &mut String,
    stack: &mut Vec<Open>,
    nodes: &mut usize,
) -> Result<()> {
    *nodes += 1;
    let can_nest = stack.len() < MAX_DEPTH;
    match u.int_in_range(0u8..=10)? {
        0 => out.push_str("null"),
        1 => out.push_str("true"),
        2 => out.push_str("false"),
        3 => {
            let _ = write!(out, "{}", i64::arbitrary(u)?);
        }
        4 => {
            let _ = write!(out, "{}", u64::arbitrary(u)?);
        }
        5 => {
            let f = f64::arbitrary(u)?;
            // Python's `repr`, as `json.dumps` writes it (`1.0`, `1e+300`, `-0.0`).
            let _ = if f.is_finite() {
                crate::json::number::write_python_float(f, &mut crate::json::sink::FmtSink(out))
            } else {
                write!(out, "{}", u16::arbitrary(u)?)
            };
        }
        6..=8 => {
            let s = small_string(u)?;
            string(out, &s);
        }
        9 if can_nest => {
            out.push('[');
            stack.push(Open {
                object: false,
                members: 0,
                used: 0,
            });
        }
        10 if can_nest => {
            out.push('{');
            stack.push(Open {
                object: true,
                members: 0,
                used: 0,
            });
        }
        _ => out.push_str("{}"),
    }
    Ok(())
}

/// A command name: mostly a known one, sometimes arbitrary text.
fn command_name(u: &mut Unstructured<'_>) -> Result<String> {
    if u.ratio(3u8, 4u8)? {
        Ok(String::from(*u.choose(COMMAND_NAMES)?))
    } else {
        small_string(u)
    }
}

/// Encodes a message into a new vector (the encoders cannot fail on generated payloads).
fn encode(m: &impl Encode) -> Vec<u8> {
    let mut s = String::new();
    let _ = m.encode_fmt(&mut s);
    s.into_bytes()
}

/// A client command: `{"execute": name, "arguments": {…}, "id": …}` or `exec-oob`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ArbCommand {
    /// The command name.
    pub name: String,
    /// `exec-oob` instead of `execute`.
    pub oob: bool,
    /// The `arguments` object.
    pub arguments: Option<ArbObject>,
    /// The `id`, any JSON value.
    pub id: Option<ArbValue>,
}

impl<'a> Arbitrary<'a> for ArbCommand {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(ArbCommand {
            name: command_name(u)?,
            oob: u.ratio(1u8, 8u8)?,
            arguments: if u.ratio(2u8, 3u8)? {
                Some(ArbObject::arbitrary(u)?)
            } else {
                None
            },
            id: if u.ratio(3u8, 4u8)? {
                Some(ArbValue::arbitrary(u)?)
            } else {
                None
            },
        })
    }
}

impl ArbCommand {
    /// The command as `qemu.qmp` sends it (compact, no terminator), via [`Request`].
    pub fn to_json(&self) -> Vec<u8> {
        let base = if self.oob {
            Request::execute_oob(&self.name)
        } else {
            Request::execute(&self.name)
        };
        let args = self.arguments.as_ref().map(ArbObject::value);
        let id = self.id.as_ref().map(ArbValue::value);
        match (args, id) {
            (Some(a), Some(i)) => encode(&base.with_arguments(a).with_id(i)),
            (Some(a), None) => encode(&base.with_arguments(a)),
            (None, Some(i)) => encode(&base.with_id(i)),
            (None, None) => encode(&base),
        }
    }
}

/// A success response: `{"return": …, "id": …}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ArbReturn {
    /// The returned value (usually an object in QMP, any JSON here).
    pub value: ArbValue,
    /// The echoed `id`.
    pub id: Option<ArbValue>,
}

impl<'a> Arbitrary<'a> for ArbReturn {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(ArbReturn {
            value: ArbValue::arbitrary(u)?,
            id: Option::<ArbValue>::arbitrary(u)?,
        })
    }
}

impl ArbReturn {
    /// The response as QEMU writes it (QEMU layout, `\r\n`), via [`ServerReturn`].
    pub fn to_json(&self) -> Vec<u8> {
        let id = self.id.as_ref().map(ArbValue::value);
        encode(&ServerReturn::new(self.value.value(), id))
    }
}

/// An error response: `{"id": …, "error": {"class": …, "desc": …}}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ArbError {
    /// The error class, mostly one QEMU uses.
    pub class: String,
    /// The description.
    pub desc: String,
    /// The echoed `id`.
    pub id: Option<ArbValue>,
}

impl<'a> Arbitrary<'a> for ArbError {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(ArbError {
            class: if u.ratio(7u8, 8u8)? {
                String::from(*u.choose(CLASSES)?)
            } else {
                small_string(u)?
            },
            desc: small_string(u)?,
            id: Option::<ArbValue>::arbitrary(u)?,
        })
    }
}

impl ArbError {
    /// The response as QEMU writes it, via [`ServerError`].
    pub fn to_json(&self) -> Vec<u8> {
        let id = self.id.as_ref().map(ArbValue::value);
        encode(&ServerError::new(&self.class, &self.desc, id))
    }
}

/// An event: `{"timestamp": {…}, "event": name, "data": {…}}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ArbEvent {
    /// The event name.
    pub name: String,
    /// The `data` object, omitted when `None` (as QEMU does for empty data).
    pub data: Option<ArbObject>,
    /// The timestamp (QEMU sends `-1`/`-1` when the clock failed).
    pub timestamp: Timestamp,
}

impl<'a> Arbitrary<'a> for ArbEvent {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(ArbEvent {
            name: if u.ratio(3u8, 4u8)? {
                String::from(*u.choose(&[
                    "STOP",
                    "RESUME",
                    "JOB_STATUS_CHANGE",
                    "BLOCK_JOB_READY",
                    "SHUTDOWN",
                ])?)
            } else {
                small_string(u)?
            },
            data: Option::<ArbObject>::arbitrary(u)?,
            timestamp: Timestamp {
                seconds: i64::arbitrary(u)?,
                microseconds: i64::arbitrary(u)?,
            },
        })
    }
}

impl ArbEvent {
    /// The event as QEMU writes it, via [`EventMessage`].
    pub fn to_json(&self) -> Vec<u8> {
        let event = EventMessage::new(&self.name, self.timestamp);
        match &self.data {
            Some(d) => encode(&event.data(d.value())),
            None => encode(&event),
        }
    }
}

/// Any of the four messages.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ArbMessage {
    /// A command.
    Command(ArbCommand),
    /// A success response.
    Return(ArbReturn),
    /// An error response.
    Error(ArbError),
    /// An event.
    Event(ArbEvent),
}

impl<'a> Arbitrary<'a> for ArbMessage {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(match u.int_in_range(0u8..=3)? {
            0 => ArbMessage::Command(ArbCommand::arbitrary(u)?),
            1 => ArbMessage::Return(ArbReturn::arbitrary(u)?),
            2 => ArbMessage::Error(ArbError::arbitrary(u)?),
            _ => ArbMessage::Event(ArbEvent::arbitrary(u)?),
        })
    }
}

impl ArbMessage {
    /// The message's JSON text.
    pub fn to_json(&self) -> Vec<u8> {
        match self {
            ArbMessage::Command(m) => m.to_json(),
            ArbMessage::Return(m) => m.to_json(),
            ArbMessage::Error(m) => m.to_json(),
            ArbMessage::Event(m) => m.to_json(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Classified, Message};

    /// Deterministic pseudo-random bytes (xorshift), so the tests cover many shapes.
    fn bytes(seed: u64, n: usize) -> Vec<u8> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect()
    }

    #[test]
    fn generated_messages_are_valid_and_classify() {
        for seed in 0..300 {
            let data = bytes(seed, 512);
            let mut u = Unstructured::new(&data);
            let m = ArbMessage::arbitrary(&mut u).unwrap();
            let json = m.to_json();
            let msg = Message::parse(&json)
                .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&json)));
            let classified = msg
                .classify()
                .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&json)));
            match (&m, classified) {
                (ArbMessage::Command(c), Classified::Command(cmd)) => {
                    assert!(cmd.name() == c.name.as_str());
                    assert_eq!(cmd.is_oob(), c.oob);
                    assert_eq!(
                        cmd.arguments().map(|a| a.raw()),
                        c.arguments.as_ref().map(|a| a.as_str().as_bytes())
                    );
                    assert_eq!(
                        cmd.id().map(|i| i.raw()),
                        c.id.as_ref().map(|i| i.as_str().as_bytes())
                    );
                }
                (ArbMessage::Return(r), Classified::Return(ret)) => {
                    assert_eq!(ret.value().kind(), r.value.value().kind());
                }
                (ArbMessage::Error(e), Classified::Error(err)) => {
                    assert!(err.info().class_str() == e.class.as_str());
                    assert!(err.desc() == e.desc.as_str());
                }
                (ArbMessage::Event(e), Classified::Event(ev)) => {
                    assert!(ev.name() == e.name.as_str());
                    assert_eq!(ev.timestamp(), Some(e.timestamp));
                    assert_eq!(ev.data().is_some(), e.data.is_some());
                }
                (m, c) => panic!("{m:?} classified as {c:?}"),
            }
        }
    }

    #[test]
    fn generated_values_respect_the_bounds() {
        let mut deepest = 0;
        let mut kinds = [false; 6];
        for seed in 0..300 {
            let data = bytes(seed, 256);
            let mut u = Unstructured::new(&data);
            let v = ArbValue::arbitrary(&mut u).unwrap();
            let value = validate_json(v.as_str().as_bytes()).expect("generated JSON is valid");
            assert!(v.as_str().is_ascii());
            kinds[value.kind() as usize] = true;
            // Depth: count brackets outside strings.
            let (mut depth, mut max, mut in_str, mut esc) = (0i32, 0i32, false, false);
            for c in v.as_str().bytes() {
                match (in_str, esc, c) {
                    (true, true, _) => esc = false,
                    (true, false, b'\\') => esc = true,
                    (true, false, b'"') => in_str = false,
                    (false, _, b'"') => in_str = true,
                    (false, _, b'{' | b'[') => {
                        depth += 1;
                        max = max.max(depth);
                    }
                    (false, _, b'}' | b']') => depth -= 1,
                    _ => {}
                }
            }
            assert!(max as usize <= MAX_DEPTH);
            deepest = deepest.max(max);
        }
        assert!(deepest >= 3, "generation never nests");
        assert!(
            kinds.iter().all(|&k| k),
            "some JSON type is never generated: {kinds:?}"
        );
    }
}
