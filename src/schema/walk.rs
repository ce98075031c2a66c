//! One walker over a value and a schema type, with an explicit bounded stack: the command
//! checker stops at its first finding (QEMU's verdict), the drift reports take them all.
//!
//! The walk follows QEMU's generated visitors (`qapi/qobject-input-visitor.c` and the
//! `visit_type_*` code QAPI generates): an object's members in schema order (base members,
//! then the variant members its tag selects), each member's value checked completely before
//! the next; members the type does not know are reported once all known ones passed.

use core::fmt;

use crate::json::{Elements, Members, Str, Value, ValueKind};
use crate::model::{Command, ErrorClass};
use crate::schema::{Entry, JsonType, MemberIter, MetaType, Schema, Slot};

/// The deepest nesting of typed containers a check follows (objects and arrays the schema
/// describes; values of type `any` are not entered). Deeper input is a [`CheckError::TooDeep`].
pub const MAX_DEPTH: usize = 32;
/// The most feature notes one check keeps ([`Checked::notes`]); more are counted.
pub const MAX_NOTES: usize = 8;
/// The most union levels one object may stack (a union whose variant is itself a union).
const MAX_UNION_CHAIN: usize = 4;

/// One step of a [`Path`]: a member name or an array index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Segment<'a> {
    /// A member of an object.
    Member(Str<'a>),
    /// An element of an array.
    Index(u32),
}

/// Where a finding is, as QEMU names it: `cache.direct`, `actions[0].data.name`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Path<'a> {
    segments: heapless::Vec<Segment<'a>, { MAX_DEPTH + 1 }>,
}

impl<'a> Path<'a> {
    /// The steps from the top-level value.
    pub fn segments(&self) -> &[Segment<'a>] {
        &self.segments
    }

    /// The last member name, as QEMU names enum and alternate errors (`null` inside arrays).
    fn bare(&self) -> Bare<'a> {
        Bare(match self.segments.last() {
            Some(Segment::Member(name)) => Some(*name),
            _ => None,
        })
    }
}

impl fmt::Display for Path<'_> {
    /// Writes the path as QEMU's `full_name()` does; `<anonymous>` for the top level.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.segments.is_empty() {
            return f.write_str("<anonymous>");
        }
        for (i, seg) in self.segments.iter().enumerate() {
            match seg {
                Segment::Member(name) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    fmt::Display::fmt(name, f)?;
                }
                Segment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

struct Bare<'a>(Option<Str<'a>>);

impl fmt::Display for Bare<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(name) => fmt::Display::fmt(&name, f),
            None => f.write_str("null"),
        }
    }
}

/// The JSON type a value should have had, as QEMU's `expected: …` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Expected {
    /// `string` (also enums).
    String,
    /// `integer`.
    Integer,
    /// `number`.
    Number,
    /// `boolean`.
    Boolean,
    /// `null`.
    Null,
    /// `object`.
    Object,
    /// `array`.
    Array,
    /// One of an alternate's branches; QEMU names the alternate's real type here
    /// (`BlockdevRef`), which introspection masks, so this lists the JSON types it takes
    /// (bit `1 << k` for the `k`-th variant of this enum, in declaration order).
    OneOf(u8),
}

const KINDS: [(Expected, &str); 7] = [
    (Expected::String, "string"),
    (Expected::Integer, "integer"),
    (Expected::Number, "number"),
    (Expected::Boolean, "boolean"),
    (Expected::Null, "null"),
    (Expected::Object, "object"),
    (Expected::Array, "array"),
];

impl Expected {
    fn bit(self) -> u8 {
        KINDS
            .iter()
            .position(|(k, _)| *k == self)
            .map_or(0, |i| 1 << i)
    }
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expected::OneOf(bits) => {
                let mut first = true;
                for (i, (_, name)) in KINDS.iter().enumerate() {
                    if bits & (1 << i) != 0 {
                        if !first {
                            f.write_str(" or ")?;
                        }
                        first = false;
                        f.write_str(name)?;
                    }
                }
                Ok(())
            }
            other => {
                let name = KINDS
                    .iter()
                    .find(|(k, _)| k == other)
                    .map_or("value", |(_, n)| n);
                f.write_str(name)
            }
        }
    }
}

/// What is wrong with a command, as QEMU would answer it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RejectionKind<'a> {
    /// `CommandNotFound`: `The command X has not been found`.
    CommandNotFound(Str<'a>),
    /// `The command X does not support OOB` (`exec-oob` of a command without `allow-oob`).
    OobNotAllowed(Str<'a>),
    /// `Parameter 'P' is missing`.
    Missing,
    /// `Parameter 'P' is unexpected`. When several members are unexpected QEMU names the
    /// first in its hash table; this names the first in the document.
    Unexpected,
    /// `Invalid parameter type for 'P', expected: T`.
    InvalidType(Expected),
    /// `Parameter 'N' does not accept value 'V'` (an enum value; QEMU names the member
    /// alone, not its path, and `null` for an array element).
    EnumValue(Str<'a>),
}

/// A command QEMU would refuse, with its error class and text ([`Display`](fmt::Display)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection<'a> {
    /// What is wrong.
    pub kind: RejectionKind<'a>,
    /// Where (empty for the command-level kinds).
    pub path: Path<'a>,
}

impl Rejection<'_> {
    /// The error class QEMU answers with.
    pub fn class(&self) -> ErrorClass<'static> {
        match self.kind {
            RejectionKind::CommandNotFound(_) => ErrorClass::CommandNotFound,
            _ => ErrorClass::GenericError,
        }
    }
}

impl fmt::Display for Rejection<'_> {
    /// QEMU's `desc` text for this error.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = &self.path;
        match self.kind {
            RejectionKind::CommandNotFound(name) => {
                write!(f, "The command {name} has not been found")
            }
            RejectionKind::OobNotAllowed(name) => {
                write!(f, "The command {name} does not support OOB")
            }
            RejectionKind::Missing => write!(f, "Parameter '{path}' is missing"),
            RejectionKind::Unexpected => write!(f, "Parameter '{path}' is unexpected"),
            RejectionKind::InvalidType(Expected::OneOf(bits)) => write!(
                f,
                "Invalid parameter type for '{}', expected: {}",
                path.bare(),
                Expected::OneOf(bits)
            ),
            RejectionKind::InvalidType(t) => {
                write!(f, "Invalid parameter type for '{path}', expected: {t}")
            }
            RejectionKind::EnumValue(v) => {
                write!(f, "Parameter '{}' does not accept value '{v}'", path.bare())
            }
        }
    }
}

/// A schema feature worth telling the user about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feature {
    /// `deprecated`: works today, will go away.
    Deprecated,
    /// `unstable`: experimental, may change without notice.
    Unstable,
}

/// What carries a [`Feature`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoteKind {
    /// The command itself.
    Command,
    /// A member present in the arguments.
    Member,
    /// An enum value used in the arguments.
    EnumValue,
}

/// A deprecated or unstable thing a command uses (QEMU accepts it under its default
/// compatibility policy).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Note<'a> {
    /// What carries the feature.
    pub kind: NoteKind,
    /// Its name (command, member or enum value).
    pub name: Str<'a>,
    /// The feature.
    pub feature: Feature,
}

impl fmt::Display for Note<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            NoteKind::Command => "command",
            NoteKind::Member => "member",
            NoteKind::EnumValue => "value",
        };
        let feature = match self.feature {
            Feature::Deprecated => "deprecated",
            Feature::Unstable => "unstable",
        };
        write!(f, "{what} '{}' is {feature}", self.name)
    }
}

/// The outcome of [`check_command`].
#[derive(Clone, Debug, Default)]
pub struct Checked<'a> {
    /// `None` when QEMU's argument checks would pass; otherwise its error.
    pub rejection: Option<Rejection<'a>>,
    /// Deprecated and unstable features the command uses (the first [`MAX_NOTES`]).
    pub notes: heapless::Vec<Note<'a>, MAX_NOTES>,
    /// Notes beyond [`MAX_NOTES`], counted.
    pub notes_dropped: usize,
}

/// Why a check could not decide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckError {
    /// The value nests typed containers deeper than [`MAX_DEPTH`].
    TooDeep,
    /// The type to check against is not in the schema.
    UnknownType,
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckError::TooDeep => write!(
                f,
                "the value nests deeper than the checker's {MAX_DEPTH} levels"
            ),
            CheckError::UnknownType => f.write_str("the type is not in the schema"),
        }
    }
}

impl core::error::Error for CheckError {}

/// A difference between what a server sent and what its schema says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DriftKind<'a> {
    /// A member the schema does not know.
    UnknownMember,
    /// A required member is absent.
    MissingMember,
    /// A string outside the enum.
    EnumValue(Str<'a>),
    /// A value of another JSON type than the schema's.
    WrongType(Expected),
    /// The command or event is not in the schema.
    UnknownName(Str<'a>),
    /// Nesting deeper than [`MAX_DEPTH`]: not followed further.
    TooDeep,
}

/// One drift finding, handed to the callback of [`drift_return`] / [`drift_event`].
#[derive(Clone, Debug)]
pub struct Drift<'a, 'p> {
    /// What differs.
    pub kind: DriftKind<'a>,
    /// Where.
    pub path: &'p Path<'a>,
}

impl fmt::Display for Drift<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path;
        match self.kind {
            DriftKind::UnknownMember => write!(f, "unknown member '{path}'"),
            DriftKind::MissingMember => write!(f, "required member '{path}' is missing"),
            DriftKind::EnumValue(v) => write!(f, "'{path}': value '{v}' is not in the enum"),
            DriftKind::WrongType(t) => write!(f, "'{path}': expected {t}"),
            DriftKind::UnknownName(n) => write!(f, "'{n}' is not in the schema"),
            DriftKind::TooDeep => write!(f, "'{path}': nested too deep, not followed"),
        }
    }
}

/// What the walker found; the sink decides whether to go on.
#[derive(Clone, Copy)]
enum Finding<'a> {
    Missing,
    Unexpected,
    Type(Expected),
    Enum(Str<'a>),
    TooDeep,
}

trait Sink<'a> {
    /// Takes a finding; `false` stops the walk.
    fn finding(&mut self, finding: Finding<'a>, path: Path<'a>) -> bool;
    /// Takes a feature note.
    fn note(&mut self, _note: Note<'a>) {}
}

struct ObjFrame<'a> {
    seg: Option<Segment<'a>>,
    input: Value<'a>,
    members: MemberIter<'a>,
    chain: heapless::Vec<Entry<'a>, MAX_UNION_CHAIN>,
    pending: Option<Entry<'a>>,
    extra: Option<Members<'a>>,
}

struct ArrFrame<'a> {
    seg: Option<Segment<'a>>,
    elements: Elements<'a>,
    element: Entry<'a>,
    next: u32,
}

enum Frame<'a> {
    Obj(ObjFrame<'a>),
    Arr(ArrFrame<'a>),
}

impl<'a> Frame<'a> {
    fn seg(&self) -> Option<Segment<'a>> {
        match self {
            Frame::Obj(f) => f.seg,
            Frame::Arr(f) => f.seg,
        }
    }
}

struct Walker<'a, 's, I> {
    schema: &'s Schema<'a, I>,
    frames: heapless::Vec<Frame<'a>, MAX_DEPTH>,
}

fn feature_of(name: Str<'_>) -> Option<Feature> {
    if name.eq_str("deprecated") {
        Some(Feature::Deprecated)
    } else if name.eq_str("unstable") {
        Some(Feature::Unstable)
    } else {
        None
    }
}

/// Whether a number's text is an integer QEMU's `int` visitors can take (`int64`, or
/// `uint64` for unsigned members, which introspection does not tell apart).
fn is_integer(v: Value<'_>) -> bool {
    v.as_i64().is_some() || v.as_u64().is_some()
}

impl<'a, 's, I: AsRef<[Slot]>> Walker<'a, 's, I> {
    fn path(&self, last: Option<Segment<'a>>) -> Path<'a> {
        let mut path = Path::default();
        for seg in self.frames.iter().filter_map(Frame::seg).chain(last) {
            // At most MAX_DEPTH frames plus one: the capacity.
            let _ = path.segments.push(seg);
        }
        path
    }

    /// Checks `value` against `ty`; containers are pushed as frames, to be walked by `run`.
    fn visit(
        &mut self,
        ty: Entry<'a>,
        value: Value<'a>,
        seg: Option<Segment<'a>>,
        sink: &mut impl Sink<'a>,
    ) -> bool {
        let kind = value.kind();
        let mut ty = ty;
        if ty.meta_type() == MetaType::Alternate {
            let mut bits = 0u8;
            let mut chosen = None;
            for branch in ty.members() {
                let Some(b) = self.schema.get(branch.ty) else {
                    continue;
                };
                let takes = accepts_kind(&b);
                bits |= takes.map_or(0, Expected::bit);
                let matches = match takes {
                    Some(Expected::Integer | Expected::Number) => kind == ValueKind::Number,
                    Some(Expected::String) => kind == ValueKind::String,
                    Some(Expected::Boolean) => kind == ValueKind::Bool,
                    Some(Expected::Null) => kind == ValueKind::Null,
                    Some(Expected::Object) => kind == ValueKind::Object,
                    Some(Expected::Array) => kind == ValueKind::Array,
                    _ => true,
                };
                if matches && chosen.is_none() {
                    chosen = Some(b);
                }
            }
            match chosen {
                Some(b) => ty = b,
                None => {
                    let path = self.path(seg);
                    return sink.finding(Finding::Type(Expected::OneOf(bits)), path);
                }
            }
        }
        let expected = match ty.meta_type() {
            MetaType::Builtin => match ty.json_type() {
                Some(JsonType::String) if kind != ValueKind::String => Some(Expected::String),
                Some(JsonType::Int) if !(kind == ValueKind::Number && is_integer(value)) => {
                    Some(Expected::Integer)
                }
                Some(JsonType::Number) if kind != ValueKind::Number => Some(Expected::Number),
                Some(JsonType::Boolean) if kind != ValueKind::Bool => Some(Expected::Boolean),
                Some(JsonType::Null) if kind != ValueKind::Null => Some(Expected::Null),
                _ => None,
            },
            MetaType::Enum => {
                let Some(s) = value.as_str() else {
                    let path = self.path(seg);
                    return sink.finding(Finding::Type(Expected::String), path);
                };
                match ty.enum_value(s) {
                    Some(v) => {
                        for f in v.features().filter_map(feature_of) {
                            sink.note(Note {
                                kind: NoteKind::EnumValue,
                                name: s,
                                feature: f,
                            });
                        }
                        return true;
                    }
                    None => {
                        let path = self.path(seg);
                        return sink.finding(Finding::Enum(s), path);
                    }
                }
            }
            MetaType::Array => {
                if kind != ValueKind::Array {
                    Some(Expected::Array)
                } else {
                    let Some(element) = ty.element_type().and_then(|t| self.schema.get(t)) else {
                        return true;
                    };
                    return self.push(
                        Frame::Arr(ArrFrame {
                            seg,
                            elements: value.elements(),
                            element,
                            next: 0,
                        }),
                        seg,
                        sink,
                    );
                }
            }
            MetaType::Object => {
                if kind != ValueKind::Object {
                    Some(Expected::Object)
                } else {
                    let mut chain = heapless::Vec::new();
                    let _ = chain.push(ty);
                    return self.push(
                        Frame::Obj(ObjFrame {
                            seg,
                            input: value,
                            members: ty.members(),
                            chain,
                            pending: ty.tag().map(|_| ty),
                            extra: None,
                        }),
                        seg,
                        sink,
                    );
                }
            }
            _ => None,
        };
        match expected {
            Some(t) => {
                let path = self.path(seg);
                sink.finding(Finding::Type(t), path)
            }
            None => true,
        }
    }

    fn push(
        &mut self,
        frame: Frame<'a>,
        seg: Option<Segment<'a>>,
        sink: &mut impl Sink<'a>,
    ) -> bool {
        if self.frames.is_full() {
            let path = self.path(seg);
            return sink.finding(Finding::TooDeep, path);
        }
        // Not full: checked above.
        let _ = self.frames.push(frame);
        true
    }

    /// Walks everything pushed so far; `false` when the sink stopped the walk.
    fn run(&mut self, sink: &mut impl Sink<'a>) -> bool {
        enum Step<'a> {
            Visit(Entry<'a>, Value<'a>, Segment<'a>),
            Report(Finding<'a>, Segment<'a>),
            Pop,
            Again,
            ChainFull,
        }
        let schema = self.schema;
        loop {
            let Some(top) = self.frames.last_mut() else {
                return true;
            };
            let step = match top {
                Frame::Arr(f) => match f.elements.next() {
                    Some(v) => {
                        let i = f.next;
                        f.next = f.next.saturating_add(1);
                        Step::Visit(f.element, v, Segment::Index(i))
                    }
                    None => Step::Pop,
                },
                Frame::Obj(f) => {
                    if let Some(extra) = &mut f.extra {
                        match extra.next() {
                            Some((k, _)) => {
                                let known = f.chain.iter().any(|t| t.member(k).is_some());
                                if known {
                                    Step::Again
                                } else {
                                    Step::Report(Finding::Unexpected, Segment::Member(k))
                                }
                            }
                            None => Step::Pop,
                        }
                    } else if let Some(m) = f.members.next() {
                        match m.name {
                            None => Step::Again,
                            Some(name) => match get(f.input, name) {
                                None if m.optional => Step::Again,
                                None => Step::Report(Finding::Missing, Segment::Member(name)),
                                Some(v) => {
                                    for feature in m.features().filter_map(feature_of) {
                                        sink.note(Note {
                                            kind: NoteKind::Member,
                                            name,
                                            feature,
                                        });
                                    }
                                    match schema.get(m.ty) {
                                        Some(t) => Step::Visit(t, v, Segment::Member(name)),
                                        None => Step::Again,
                                    }
                                }
                            },
                        }
                    } else if let Some(union) = f.pending.take() {
                        let variant = union
                            .tag()
                            .and_then(|tag| get(f.input, tag))
                            .and_then(|v| v.as_str())
                            .and_then(|case| union.variant(case))
                            .and_then(|t| schema.get(t));
                        if let Some(variant) = variant {
                            f.members = variant.members();
                            f.pending = variant.tag().map(|_| variant);
                            if f.chain.push(variant).is_err() {
                                Step::ChainFull
                            } else {
                                Step::Again
                            }
                        } else {
                            Step::Again
                        }
                    } else {
                        f.extra = Some(f.input.members());
                        Step::Again
                    }
                }
            };
            match step {
                Step::Again => {}
                Step::ChainFull => {
                    let path = self.path(None);
                    self.frames.pop();
                    if !sink.finding(Finding::TooDeep, path) {
                        return false;
                    }
                }
                Step::Pop => {
                    self.frames.pop();
                }
                Step::Visit(t, v, seg) => {
                    if !self.visit(t, v, Some(seg), sink) {
                        return false;
                    }
                }
                Step::Report(finding, seg) => {
                    let path = self.path(Some(seg));
                    if !sink.finding(finding, path) {
                        return false;
                    }
                }
            }
        }
    }
}

/// The JSON type a non-alternate type takes (`None` for `any` and unknown kinds).
fn accepts_kind(e: &Entry<'_>) -> Option<Expected> {
    match e.meta_type() {
        MetaType::Builtin => match e.json_type() {
            Some(JsonType::String) => Some(Expected::String),
            Some(JsonType::Int) => Some(Expected::Integer),
            Some(JsonType::Number) => Some(Expected::Number),
            Some(JsonType::Boolean) => Some(Expected::Boolean),
            Some(JsonType::Null) => Some(Expected::Null),
            _ => None,
        },
        MetaType::Enum => Some(Expected::String),
        MetaType::Object => Some(Expected::Object),
        MetaType::Array => Some(Expected::Array),
        _ => None,
    }
}

/// The member `name` of an object value (the last one when repeated, as QEMU refuses
/// repeats anyway).
fn get<'a>(object: Value<'a>, name: Str<'_>) -> Option<Value<'a>> {
    let mut found = None;
    for (k, v) in object.members() {
        if k == name {
            found = Some(v);
        }
    }
    found
}

struct FirstFinding<'a> {
    rejection: Option<Rejection<'a>>,
    too_deep: bool,
    notes: heapless::Vec<Note<'a>, MAX_NOTES>,
    dropped: usize,
}

impl<'a> Sink<'a> for FirstFinding<'a> {
    fn finding(&mut self, finding: Finding<'a>, path: Path<'a>) -> bool {
        let kind = match finding {
            Finding::Missing => RejectionKind::Missing,
            Finding::Unexpected => RejectionKind::Unexpected,
            Finding::Type(t) => RejectionKind::InvalidType(t),
            Finding::Enum(v) => RejectionKind::EnumValue(v),
            Finding::TooDeep => {
                self.too_deep = true;
                return false;
            }
        };
        self.rejection = Some(Rejection { kind, path });
        false
    }

    fn note(&mut self, note: Note<'a>) {
        if self.notes.push(note).is_err() {
            self.dropped += 1;
        }
    }
}

/// Checks `value` against the schema type named `ty` as QEMU's input visitor would: the
/// first error QEMU would report, or none.
pub fn check_value<'a, I: AsRef<[Slot]>>(
    schema: &Schema<'a, I>,
    ty: &str,
    value: Value<'a>,
) -> Result<Checked<'a>, CheckError> {
    let entry = schema.get(ty).ok_or(CheckError::UnknownType)?;
    let mut sink = FirstFinding {
        rejection: None,
        too_deep: false,
        notes: heapless::Vec::new(),
        dropped: 0,
    };
    let mut walker = Walker {
        schema,
        frames: heapless::Vec::new(),
    };
    if walker.visit(entry, value, None, &mut sink) {
        walker.run(&mut sink);
    }
    if sink.too_deep {
        return Err(CheckError::TooDeep);
    }
    Ok(Checked {
        rejection: sink.rejection,
        notes: sink.notes,
        notes_dropped: sink.dropped,
    })
}

/// Checks a command against the schema before it is sent: `Ok` with `rejection: None` when
/// QEMU's dispatcher and argument visitor would accept it, else QEMU's error class and text.
///
/// Checked in QEMU's order: the command exists, `exec-oob` only for `allow-oob` commands,
/// then the arguments (absent arguments are `{}`). Integer widths and ranges are not in the
/// schema (every integer type shows as `int`), so any integer that fits `int64` or `uint64`
/// passes; QEMU may still refuse it (`Parameter 'X' expects uint8`). Deprecated and unstable
/// commands, members and enum values are listed in [`Checked::notes`].
pub fn check_command<'a, I: AsRef<[Slot]>>(
    schema: &Schema<'a, I>,
    command: &Command<'a>,
) -> Result<Checked<'a>, CheckError> {
    let name = command.name();
    let Some(entry) = schema
        .get_str(name)
        .filter(|e| e.meta_type() == MetaType::Command)
    else {
        return Ok(Checked {
            rejection: Some(Rejection {
                kind: RejectionKind::CommandNotFound(name),
                path: Path::default(),
            }),
            ..Checked::default()
        });
    };
    if command.is_oob() && !entry.allow_oob() {
        return Ok(Checked {
            rejection: Some(Rejection {
                kind: RejectionKind::OobNotAllowed(name),
                path: Path::default(),
            }),
            ..Checked::default()
        });
    }
    let args = command.arguments().unwrap_or(Value::new(b"{}"));
    let mut checked = match entry.arg_type() {
        Some(ty) => check_value(schema, ty, args)?,
        None => Checked::default(),
    };
    let mut command_notes = heapless::Vec::<Note<'a>, 2>::new();
    for feature in entry.features().filter_map(feature_of) {
        let _ = command_notes.push(Note {
            kind: NoteKind::Command,
            name,
            feature,
        });
    }
    if !command_notes.is_empty() {
        let rest = core::mem::take(&mut checked.notes);
        for note in command_notes.into_iter().chain(rest) {
            if checked.notes.push(note).is_err() {
                checked.notes_dropped += 1;
            }
        }
    }
    Ok(checked)
}

struct AllFindings<F> {
    callback: F,
    count: usize,
}

impl<'a, F: FnMut(&Drift<'a, '_>)> Sink<'a> for AllFindings<F> {
    fn finding(&mut self, finding: Finding<'a>, path: Path<'a>) -> bool {
        let kind = match finding {
            Finding::Missing => DriftKind::MissingMember,
            Finding::Unexpected => DriftKind::UnknownMember,
            Finding::Type(t) => DriftKind::WrongType(t),
            Finding::Enum(v) => DriftKind::EnumValue(v),
            Finding::TooDeep => DriftKind::TooDeep,
        };
        self.count += 1;
        (self.callback)(&Drift { kind, path: &path });
        true
    }
}

fn drift<'a, I: AsRef<[Slot]>>(
    schema: &Schema<'a, I>,
    entry: Option<Entry<'a>>,
    name: Str<'a>,
    ty: fn(&Entry<'a>) -> Option<&'a str>,
    value: Value<'a>,
    callback: impl FnMut(&Drift<'a, '_>),
) -> usize {
    let mut sink = AllFindings { callback, count: 0 };
    let Some(entry) = entry else {
        sink.count += 1;
        (sink.callback)(&Drift {
            kind: DriftKind::UnknownName(name),
            path: &Path::default(),
        });
        return sink.count;
    };
    let Some(t) = ty(&entry).and_then(|t| schema.get(t)) else {
        return 0;
    };
    let mut walker = Walker {
        schema,
        frames: heapless::Vec::new(),
    };
    walker.visit(t, value, None, &mut sink);
    walker.run(&mut sink);
    sink.count
}

/// Compares a command's return value with its `ret-type` and hands each difference to
/// `callback`; returns how many there were. Never fails: a transport can log drift instead
/// of breaking on it.
pub fn drift_return<'a, I: AsRef<[Slot]>>(
    schema: &Schema<'a, I>,
    command: Str<'a>,
    value: Value<'a>,
    callback: impl FnMut(&Drift<'a, '_>),
) -> usize {
    let entry = schema
        .get_str(command)
        .filter(|e| e.meta_type() == MetaType::Command);
    drift(schema, entry, command, |e| e.ret_type(), value, callback)
}

/// Compares an event's `data` (`None` when absent: `{}`) with its `arg-type` and hands each
/// difference to `callback`; returns how many there were.
pub fn drift_event<'a, I: AsRef<[Slot]>>(
    schema: &Schema<'a, I>,
    event: Str<'a>,
    data: Option<Value<'a>>,
    callback: impl FnMut(&Drift<'a, '_>),
) -> usize {
    let entry = schema
        .get_str(event)
        .filter(|e| e.meta_type() == MetaType::Event);
    let data = data.unwrap_or(Value::new(b"{}"));
    drift(schema, entry, event, |e| e.arg_type(), data, callback)
}
