//! QAPI introspection: a view over a `query-qmp-schema` reply, lookups by name, and checks
//! of traffic against it.
//!
//! [`Schema`] indexes the reply where it lies (the caller's buffer) into a sorted table of
//! [`Slot`]s, held in caller storage ([`Schema::new`]) or in a `Vec` with `alloc`
//! ([`Schema::build`]). Lookups by name are binary searches; every type reference is resolved
//! once when the index is built, so a malformed schema is refused up front with a
//! [`SchemaError`] and the walkers never meet a dangling name.
//!
//! On top of the view:
//! - [`check_command`] checks a command before it is sent, with QEMU's own verdicts and texts
//!   (`Parameter 'cache.direct' is missing`, …), deprecated and unstable features noted;
//! - [`drift_return`] / [`drift_event`] compare what a server sent with what its schema says
//!   and report the differences, never failing;
//! - [`Schema::command_names`], [`Schema::member_names`], [`Schema::enum_values`] answer a
//!   shell's completion questions.
//!
//! Command and event names are real; other type names are masked (`"38"`) and only reached
//! through commands and events. Members of an entry that this crate does not know are
//! ignored, and enums are read from `members` or, before QEMU 6.2, `values`.
//!
//! ```
//! use qmp_codec::schema::{check_command, Schema, Slot};
//! use qmp_codec::{Command, Message};
//!
//! let reply = br#"{"return": [
//!   {"name": "stop", "meta-type": "command", "arg-type": "0", "ret-type": "0"},
//!   {"name": "0", "meta-type": "object", "members": []}]}"#;
//! let reply = Message::parse(reply)?;
//! let mut slots = [Slot::EMPTY; 8];
//! let schema = Schema::new(reply.get("return").unwrap(), &mut slots).unwrap();
//! assert_eq!(schema.len(), 2);
//!
//! let msg = Message::parse(br#"{"execute": "stop", "arguments": {"now": true}}"#)?;
//! let verdict = check_command(&schema, &Command::try_from(msg).unwrap()).unwrap();
//! let rejection = verdict.rejection.unwrap();
//! assert_eq!(rejection.to_string(), "Parameter 'now' is unexpected");
//! # Ok::<(), qmp_codec::ParseError>(())
//! ```

use core::fmt;

use crate::json::{Elements, Str, Value, ValueKind};
use crate::message::Message;

mod complete;
mod walk;

pub use self::walk::{
    check_command, check_value, drift_event, drift_return, CheckError, Checked, Drift, DriftKind,
    Expected, Feature, Note, NoteKind, Path, Rejection, RejectionKind, Segment, MAX_DEPTH,
    MAX_NOTES,
};

/// What an entry of the schema describes (`meta-type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MetaType {
    /// A built-in scalar (`str`, `int`, `any`, …) with a `json-type`.
    Builtin,
    /// An enumeration.
    Enum,
    /// An array of `element-type`.
    Array,
    /// A struct or a union (`tag` and `variants`).
    Object,
    /// One of several types, chosen by the JSON type of the value.
    Alternate,
    /// A command.
    Command,
    /// An event.
    Event,
    /// A meta-type this crate does not know (a newer QEMU); such types accept any value.
    Other,
}

impl MetaType {
    fn from_str(s: &[u8]) -> MetaType {
        match s {
            b"builtin" => MetaType::Builtin,
            b"enum" => MetaType::Enum,
            b"array" => MetaType::Array,
            b"object" => MetaType::Object,
            b"alternate" => MetaType::Alternate,
            b"command" => MetaType::Command,
            b"event" => MetaType::Event,
            _ => MetaType::Other,
        }
    }

    /// The name QEMU uses (`builtin`, `enum`, …; `other` for an unknown one).
    pub const fn as_str(&self) -> &'static str {
        match self {
            MetaType::Builtin => "builtin",
            MetaType::Enum => "enum",
            MetaType::Array => "array",
            MetaType::Object => "object",
            MetaType::Alternate => "alternate",
            MetaType::Command => "command",
            MetaType::Event => "event",
            MetaType::Other => "other",
        }
    }
}

/// One index entry: where an entry's name and body lie in the schema's bytes.
///
/// Opaque; sized so that a table of them is cheap (16 bytes each). Make storage with
/// [`Slot::EMPTY`]: one slot per schema entry (513 for qemu-storage-daemon 10.0, about 1,700
/// for qemu-system-x86_64).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    name_start: u32,
    name_len: u16,
    meta: u8,
    _pad: u8,
    entry_start: u32,
    entry_len: u32,
}

impl Slot {
    /// An unused slot, for initializing storage.
    pub const EMPTY: Slot = Slot {
        name_start: 0,
        name_len: 0,
        meta: 0,
        _pad: 0,
        entry_start: 0,
        entry_len: 0,
    };
}

const METAS: [MetaType; 8] = [
    MetaType::Builtin,
    MetaType::Enum,
    MetaType::Array,
    MetaType::Object,
    MetaType::Alternate,
    MetaType::Command,
    MetaType::Event,
    MetaType::Other,
];

/// Why a `query-qmp-schema` reply cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SchemaError {
    /// The value is not a JSON array.
    NotAnArray,
    /// Entry `index` is not an object, or lacks a string `name` or `meta-type`.
    BadEntry {
        /// Position of the entry in the array.
        index: usize,
    },
    /// Entry `index` has a name with escapes, an empty name or one longer than 65,535 bytes
    /// (QAPI names are plain ASCII).
    BadName {
        /// Position of the entry in the array.
        index: usize,
    },
    /// Two entries share a name.
    DuplicateName {
        /// Position of the second entry in the array.
        index: usize,
    },
    /// Entry `index` is missing a member its meta-type requires, or has one of the wrong
    /// JSON type (`arg-type` of a command, `members` of an object, `json-type` of a builtin,
    /// …).
    BadShape {
        /// Position of the entry in the array.
        index: usize,
        /// The member at fault.
        member: &'static str,
    },
    /// Entry `index` refers to a type name that no entry defines.
    DanglingType {
        /// Position of the entry in the array.
        index: usize,
    },
    /// The caller's storage holds fewer slots than the schema has entries.
    StorageTooSmall {
        /// The number of slots needed.
        needed: usize,
    },
    /// The schema's bytes are longer than 4 GiB (offsets are `u32`).
    TooLarge,
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchemaError::NotAnArray => f.write_str("the schema is not a JSON array"),
            SchemaError::BadEntry { index } => write!(
                f,
                "schema entry {index} is not an object with a string 'name' and 'meta-type'"
            ),
            SchemaError::BadName { index } => write!(
                f,
                "schema entry {index} has an empty, escaped or over-long name"
            ),
            SchemaError::DuplicateName { index } => {
                write!(f, "schema entry {index} repeats the name of another entry")
            }
            SchemaError::BadShape { index, member } => write!(
                f,
                "schema entry {index} lacks '{member}' or has it with the wrong JSON type"
            ),
            SchemaError::DanglingType { index } => {
                write!(f, "schema entry {index} refers to a type no entry defines")
            }
            SchemaError::StorageTooSmall { needed } => {
                write!(f, "the schema needs {needed} index slots")
            }
            SchemaError::TooLarge => f.write_str("the schema is larger than 4 GiB"),
        }
    }
}

impl core::error::Error for SchemaError {}

/// A QAPI schema: the array a `query-qmp-schema` reply returns, borrowed, with a sorted
/// index of its entries in `I` (caller storage `&[Slot]`, or `Vec<Slot>` with `alloc`).
#[derive(Clone, Debug)]
pub struct Schema<'a, I = &'a [Slot]> {
    list: Value<'a>,
    index: I,
}

impl<'a, 'i> Schema<'a, &'i [Slot]> {
    /// Indexes `list` (the `return` of a `query-qmp-schema` reply) into `storage`, which
    /// needs one slot per entry. Checks every entry's shape and every type reference.
    pub fn new(list: Value<'a>, storage: &'i mut [Slot]) -> Result<Self, SchemaError> {
        let n = index_into(list, |i, slot| {
            let len = storage.len();
            match storage.get_mut(i) {
                Some(s) => {
                    *s = slot;
                    Ok(())
                }
                None => Err(len),
            }
        })?;
        let index = storage.get_mut(..n).unwrap_or(&mut []);
        finish(list, index)?;
        Ok(Schema { list, index })
    }
}

#[cfg(feature = "alloc")]
impl<'a> Schema<'a, alloc::vec::Vec<Slot>> {
    /// Indexes `list` (the `return` of a `query-qmp-schema` reply) into a `Vec`. Checks every
    /// entry's shape and every type reference.
    pub fn build(list: Value<'a>) -> Result<Self, SchemaError> {
        let mut index = alloc::vec::Vec::new();
        index_into(list, |_, slot| {
            index.push(slot);
            Ok(())
        })?;
        finish(list, &mut index)?;
        Ok(Schema { list, index })
    }
}

/// The schema array of a `query-qmp-schema` reply message (its `return`).
pub fn reply_list<'a>(reply: &Message<'a>) -> Result<Value<'a>, SchemaError> {
    match reply.get("return") {
        Some(v) if v.kind() == ValueKind::Array => Ok(v),
        _ => Err(SchemaError::NotAnArray),
    }
}

/// Scans the entries once and hands each one's slot to `put`; `put` answers `Err(capacity)`
/// when storage is full. Returns the number of entries.
fn index_into(
    list: Value<'_>,
    mut put: impl FnMut(usize, Slot) -> Result<(), usize>,
) -> Result<usize, SchemaError> {
    if list.kind() != ValueKind::Array {
        return Err(SchemaError::NotAnArray);
    }
    let raw = list.raw();
    if u32::try_from(raw.len()).is_err() {
        return Err(SchemaError::TooLarge);
    }
    let base = raw.as_ptr() as usize;
    let mut n = 0usize;
    let mut full = false;
    for (index, entry) in list.elements().enumerate() {
        if entry.kind() != ValueKind::Object {
            return Err(SchemaError::BadEntry { index });
        }
        let mut name = None;
        let mut meta = None;
        for (k, v) in entry.members() {
            if k.raw() == b"name" {
                name = Some(v);
            } else if k.raw() == b"meta-type" {
                meta = Some(v);
            }
        }
        let (Some(name), Some(meta)) =
            (name.and_then(|v| v.as_str()), meta.and_then(|v| v.as_str()))
        else {
            return Err(SchemaError::BadEntry { index });
        };
        if name.has_escapes() || name.raw().is_empty() || name.raw().len() > usize::from(u16::MAX) {
            return Err(SchemaError::BadName { index });
        }
        let meta = MetaType::from_str(meta.raw());
        // Offsets inside `raw`: both slices borrow from it.
        let slot = Slot {
            name_start: (name.raw().as_ptr() as usize - base) as u32,
            name_len: name.raw().len() as u16,
            meta: METAS.iter().position(|m| *m == meta).unwrap_or(7) as u8,
            _pad: 0,
            entry_start: (entry.raw().as_ptr() as usize - base) as u32,
            entry_len: entry.raw().len() as u32,
        };
        if !full {
            if let Err(_capacity) = put(index, slot) {
                full = true;
            }
        }
        n = index + 1;
    }
    if full {
        return Err(SchemaError::StorageTooSmall { needed: n });
    }
    Ok(n)
}

/// Sorts the index by name, refuses duplicates, then checks every entry's shape and type
/// references with lookups in the sorted index.
fn finish(list: Value<'_>, index: &mut [Slot]) -> Result<(), SchemaError> {
    let raw = list.raw();
    index.sort_unstable_by(|a, b| slot_name(raw, a).cmp(slot_name(raw, b)));
    for pair in index.windows(2) {
        if let [a, b] = pair {
            if slot_name(raw, a) == slot_name(raw, b) {
                let index = position(raw, a).max(position(raw, b));
                return Err(SchemaError::DuplicateName { index });
            }
        }
    }
    let schema = Schema {
        list,
        index: &*index,
    };
    for (i, entry) in list.elements().enumerate() {
        schema.check_entry(i, entry)?;
    }
    Ok(())
}

/// The position of a slot's entry in the array (only on the error path).
fn position(raw: &[u8], slot: &Slot) -> usize {
    let list = Value::new(raw);
    list.elements()
        .position(|e| {
            e.raw().as_ptr() as usize - raw.as_ptr() as usize == slot.entry_start as usize
        })
        .unwrap_or(0)
}

fn slot_name<'a>(raw: &'a [u8], slot: &Slot) -> &'a [u8] {
    let start = slot.name_start as usize;
    raw.get(start..start + usize::from(slot.name_len))
        .unwrap_or(&[])
}

impl<'a, I: AsRef<[Slot]>> Schema<'a, I> {
    /// The number of entries.
    pub fn len(&self) -> usize {
        self.index.as_ref().len()
    }

    /// Whether the schema has no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The schema array itself.
    pub fn list(&self) -> Value<'a> {
        self.list
    }

    fn entry_of(&self, slot: &Slot) -> Entry<'a> {
        let raw = self.list.raw();
        let start = slot.entry_start as usize;
        let body = raw
            .get(start..start + slot.entry_len as usize)
            .unwrap_or(&[]);
        Entry {
            value: Value::new(body),
            name: core::str::from_utf8(slot_name(raw, slot)).unwrap_or(""),
            meta: METAS
                .get(usize::from(slot.meta))
                .copied()
                .unwrap_or(MetaType::Other),
        }
    }

    /// The entry named `name` (a binary search of the index).
    pub fn get(&self, name: &str) -> Option<Entry<'a>> {
        let raw = self.list.raw();
        let slots = self.index.as_ref();
        slots
            .binary_search_by(|s| slot_name(raw, s).cmp(name.as_bytes()))
            .ok()
            .and_then(|i| slots.get(i))
            .map(|s| self.entry_of(s))
    }

    /// The entry named by a JSON string (unescaped first; names longer than 256 bytes are
    /// not found).
    pub fn get_str(&self, name: Str<'_>) -> Option<Entry<'a>> {
        if let Some(s) = name.as_borrowed() {
            return self.get(s);
        }
        let mut buf = [0u8; 256];
        let s = name.unescape_into(&mut buf).ok()?;
        self.get(s)
    }

    /// The command named `name`.
    pub fn command(&self, name: &str) -> Option<Entry<'a>> {
        self.get(name).filter(|e| e.meta == MetaType::Command)
    }

    /// The event named `name`.
    pub fn event(&self, name: &str) -> Option<Entry<'a>> {
        self.get(name).filter(|e| e.meta == MetaType::Event)
    }

    /// Every entry, sorted by name.
    pub fn entries(&self) -> impl Iterator<Item = Entry<'a>> + '_ {
        self.index.as_ref().iter().map(|s| self.entry_of(s))
    }

    /// The names of all commands, sorted.
    pub fn command_names(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.entries()
            .filter(|e| e.meta == MetaType::Command)
            .map(|e| e.name)
    }

    /// The names of all events, sorted.
    pub fn event_names(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.entries()
            .filter(|e| e.meta == MetaType::Event)
            .map(|e| e.name)
    }

    fn resolves(&self, name: Option<Value<'_>>) -> bool {
        name.and_then(|v| v.as_str())
            .and_then(|s| s.as_borrowed())
            .is_some_and(|s| self.get(s).is_some())
    }

    /// Checks one entry's shape and references; called once per entry when building.
    fn check_entry(&self, index: usize, entry: Value<'_>) -> Result<(), SchemaError> {
        let meta = entry
            .get("meta-type")
            .and_then(|v| v.as_str())
            .map_or(MetaType::Other, |s| MetaType::from_str(s.raw()));
        let shape = |member: &'static str| SchemaError::BadShape { index, member };
        let dangling = SchemaError::DanglingType { index };
        let typeref = |member: &'static str| -> Result<(), SchemaError> {
            let v = entry.get(member);
            if v.and_then(|v| v.as_str()).is_none() {
                return Err(shape(member));
            }
            if self.resolves(v) {
                Ok(())
            } else {
                Err(dangling)
            }
        };
        match meta {
            MetaType::Command => {
                typeref("arg-type")?;
                typeref("ret-type")?;
            }
            MetaType::Event => typeref("arg-type")?,
            MetaType::Array => typeref("element-type")?,
            MetaType::Builtin => {
                if entry.get("json-type").and_then(|v| v.as_str()).is_none() {
                    return Err(shape("json-type"));
                }
            }
            MetaType::Enum => {
                let members = entry.get("members");
                let values = entry.get("values");
                let ok = match (members, values) {
                    (Some(m), _) => {
                        m.kind() == ValueKind::Array
                            && m.elements()
                                .all(|e| e.get("name").and_then(|n| n.as_str()).is_some())
                    }
                    (None, Some(v)) => {
                        v.kind() == ValueKind::Array && v.elements().all(|e| e.as_str().is_some())
                    }
                    (None, None) => false,
                };
                if !ok {
                    return Err(shape("members"));
                }
            }
            MetaType::Object => {
                let members = entry.get("members").ok_or(shape("members"))?;
                if members.kind() != ValueKind::Array {
                    return Err(shape("members"));
                }
                for m in members.elements() {
                    if m.get("name").and_then(|n| n.as_str()).is_none() {
                        return Err(shape("members"));
                    }
                    if !self.resolves(m.get("type")) {
                        return Err(dangling);
                    }
                }
                if let Some(variants) = entry.get("variants") {
                    if variants.kind() != ValueKind::Array
                        || entry.get("tag").and_then(|t| t.as_str()).is_none()
                    {
                        return Err(shape("variants"));
                    }
                    for v in variants.elements() {
                        if v.get("case").and_then(|n| n.as_str()).is_none() {
                            return Err(shape("variants"));
                        }
                        let ty = v.get("type");
                        if !self.resolves(ty) {
                            return Err(dangling);
                        }
                        let is_object = ty
                            .and_then(|t| t.as_str())
                            .and_then(|t| t.as_borrowed())
                            .and_then(|t| self.get(t))
                            .is_some_and(|e| e.meta == MetaType::Object);
                        if !is_object {
                            return Err(shape("variants"));
                        }
                    }
                }
            }
            MetaType::Alternate => {
                let members = entry.get("members").ok_or(shape("members"))?;
                if members.kind() != ValueKind::Array {
                    return Err(shape("members"));
                }
                for m in members.elements() {
                    let ty = m.get("type");
                    if !self.resolves(ty) {
                        return Err(dangling);
                    }
                    // An alternate of an alternate would let the checker loop.
                    let nested = ty
                        .and_then(|t| t.as_str())
                        .and_then(|t| t.as_borrowed())
                        .and_then(|t| self.get(t))
                        .is_some_and(|e| e.meta == MetaType::Alternate);
                    if nested {
                        return Err(shape("members"));
                    }
                }
            }
            MetaType::Other => {}
        }
        Ok(())
    }
}

/// The JSON type a builtin stands for (`json-type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum JsonType {
    /// `string`
    String,
    /// `int`: an integer (QEMU's `int`, `uint8` … `uint64`, `size` all show as this).
    Int,
    /// `number`: any JSON number.
    Number,
    /// `boolean`
    Boolean,
    /// `null`
    Null,
    /// `value`: any JSON value (`any`).
    Value,
    /// A json-type this crate does not know; accepts any value.
    Other,
}

/// One entry of the schema: a command, an event or a type.
#[derive(Clone, Copy, Debug)]
pub struct Entry<'a> {
    value: Value<'a>,
    name: &'a str,
    meta: MetaType,
}

impl<'a> Entry<'a> {
    /// The entry's name (masked, such as `"38"`, for types other than builtins).
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// The entry's meta-type.
    pub fn meta_type(&self) -> MetaType {
        self.meta
    }

    /// The entry as it lies in the schema.
    pub fn value(&self) -> Value<'a> {
        self.value
    }

    fn str_member(&self, name: &str) -> Option<&'a str> {
        self.value
            .get(name)
            .and_then(|v| v.as_str())
            .and_then(|s| s.as_borrowed())
    }

    /// The entry's `features` (strings), empty when it has none.
    pub fn features(&self) -> impl Iterator<Item = Str<'a>> {
        self.value
            .get("features")
            .unwrap_or(Value::new(b"[]"))
            .elements()
            .filter_map(|v| v.as_str())
    }

    /// Whether the entry has the feature `name` (`deprecated`, `unstable`, …).
    pub fn has_feature(&self, name: &str) -> bool {
        self.features().any(|f| f.eq_str(name))
    }

    /// A command's or event's `arg-type`.
    pub fn arg_type(&self) -> Option<&'a str> {
        self.str_member("arg-type")
    }

    /// A command's `ret-type`.
    pub fn ret_type(&self) -> Option<&'a str> {
        self.str_member("ret-type")
    }

    /// Whether a command allows `exec-oob` (`allow-oob: true`).
    pub fn allow_oob(&self) -> bool {
        self.value.get("allow-oob").and_then(|v| v.as_bool()) == Some(true)
    }

    /// An array's `element-type`.
    pub fn element_type(&self) -> Option<&'a str> {
        self.str_member("element-type")
    }

    /// A builtin's `json-type`.
    pub fn json_type(&self) -> Option<JsonType> {
        let t = self.value.get("json-type")?.as_str()?;
        Some(match t.raw() {
            b"string" => JsonType::String,
            b"int" => JsonType::Int,
            b"number" => JsonType::Number,
            b"boolean" => JsonType::Boolean,
            b"null" => JsonType::Null,
            b"value" => JsonType::Value,
            _ => JsonType::Other,
        })
    }

    /// An object's members in visiting order (base members first), or an alternate's
    /// branches (members with a type and no name).
    pub fn members(&self) -> MemberIter<'a> {
        MemberIter {
            inner: self
                .value
                .get("members")
                .filter(|_| matches!(self.meta, MetaType::Object | MetaType::Alternate))
                .unwrap_or(Value::new(b"[]"))
                .elements(),
        }
    }

    /// A union's tag member name.
    pub fn tag(&self) -> Option<Str<'a>> {
        self.value.get("tag").and_then(|v| v.as_str())
    }

    /// A union's variants: `(case, type name)`.
    pub fn variants(&self) -> impl Iterator<Item = (Str<'a>, &'a str)> {
        self.value
            .get("variants")
            .unwrap_or(Value::new(b"[]"))
            .elements()
            .filter_map(|v| {
                let case = v.get("case")?.as_str()?;
                let ty = v.get("type")?.as_str()?.as_borrowed()?;
                Some((case, ty))
            })
    }

    /// The variant type for the tag value `case`, if the union lists one.
    pub fn variant(&self, case: Str<'_>) -> Option<&'a str> {
        self.variants().find(|(c, _)| *c == case).map(|(_, t)| t)
    }

    /// An enum's values, from `members` or the old `values`.
    pub fn enum_values(&self) -> EnumValues<'a> {
        if self.meta != MetaType::Enum {
            return EnumValues {
                inner: Value::new(b"[]").elements(),
                named: false,
            };
        }
        match self.value.get("members") {
            Some(m) => EnumValues {
                inner: m.elements(),
                named: true,
            },
            None => EnumValues {
                inner: self
                    .value
                    .get("values")
                    .unwrap_or(Value::new(b"[]"))
                    .elements(),
                named: false,
            },
        }
    }

    /// The enum value `value` with its features, if the enum has it.
    pub fn enum_value(&self, value: Str<'_>) -> Option<EnumValue<'a>> {
        self.enum_values().find(|v| v.name == value)
    }

    /// The object member named `name` (a scan of this entry's members only).
    pub fn member(&self, name: Str<'_>) -> Option<Member<'a>> {
        self.members().find(|m| m.name.is_some_and(|n| n == name))
    }
}

/// An object member or an alternate branch.
#[derive(Clone, Copy, Debug)]
pub struct Member<'a> {
    /// The member's name (`None` for an alternate's branch).
    pub name: Option<Str<'a>>,
    /// The member's type name.
    pub ty: &'a str,
    /// Whether the member may be absent (the schema gives it a `default`).
    pub optional: bool,
    value: Value<'a>,
}

impl<'a> Member<'a> {
    /// The member's `features`.
    pub fn features(&self) -> impl Iterator<Item = Str<'a>> {
        self.value
            .get("features")
            .unwrap_or(Value::new(b"[]"))
            .elements()
            .filter_map(|v| v.as_str())
    }
}

/// The members of an object or the branches of an alternate.
#[derive(Clone, Debug)]
pub struct MemberIter<'a> {
    inner: Elements<'a>,
}

impl<'a> Iterator for MemberIter<'a> {
    type Item = Member<'a>;

    fn next(&mut self) -> Option<Member<'a>> {
        loop {
            let v = self.inner.next()?;
            let mut name = None;
            let mut ty = None;
            let mut optional = false;
            for (k, x) in v.members() {
                match k.raw() {
                    b"name" => name = x.as_str(),
                    b"type" => ty = x.as_str().and_then(|s| s.as_borrowed()),
                    b"default" => optional = true,
                    _ => {}
                }
            }
            // Building the index checked that every member has a resolvable type.
            if let Some(ty) = ty {
                return Some(Member {
                    name,
                    ty,
                    optional,
                    value: v,
                });
            }
        }
    }
}

/// One enum value.
#[derive(Clone, Copy, Debug)]
pub struct EnumValue<'a> {
    /// The value.
    pub name: Str<'a>,
    features: Option<Value<'a>>,
}

impl<'a> EnumValue<'a> {
    /// The value's `features` (none for old-style `values`).
    pub fn features(&self) -> impl Iterator<Item = Str<'a>> {
        self.features
            .unwrap_or(Value::new(b"[]"))
            .elements()
            .filter_map(|v| v.as_str())
    }
}

/// The values of an enum.
#[derive(Clone, Debug)]
pub struct EnumValues<'a> {
    inner: Elements<'a>,
    named: bool,
}

impl<'a> Iterator for EnumValues<'a> {
    type Item = EnumValue<'a>;

    fn next(&mut self) -> Option<EnumValue<'a>> {
        loop {
            let v = self.inner.next()?;
            if self.named {
                if let Some(name) = v.get("name").and_then(|n| n.as_str()) {
                    return Some(EnumValue {
                        name,
                        features: v.get("features"),
                    });
                }
            } else if let Some(name) = v.as_str() {
                return Some(EnumValue {
                    name,
                    features: None,
                });
            }
        }
    }
}
