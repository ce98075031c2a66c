//! Resource limits for the JSON scanner.

/// Limits on what one message may make the scanner do.
///
/// Every resource that input can make the parser use is bounded here. The defaults follow
/// QEMU's own input limits where QEMU has one.
///
/// ```
/// use qmp_codec::Limits;
/// let limits = Limits::new().with_max_depth(64);
/// assert_eq!(limits.max_depth(), 64);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    max_depth: usize,
    max_members: usize,
}

impl Limits {
    /// Default nesting depth: 1024, QEMU's `MAX_NESTING`.
    pub const DEFAULT_MAX_DEPTH: usize = 1024;
    /// The deepest nesting the scanner can track: 4096 (a 512-byte bit stack, never recursion).
    pub const MAX_DEPTH_CAP: usize = 4096;
    /// Default and largest number of members in the top-level object: 128.
    ///
    /// QMP messages have at most a handful; the bound keeps duplicate detection
    /// allocation-free (the member names are checked in a fixed table).
    pub const MAX_MEMBERS_CAP: usize = 128;

    /// Without the `alloc` feature, how many entries the duplicate check at every depth
    /// holds: 1024, one per member name of the open nested objects (the innermost object
    /// and the objects around it) and two per open nested object. The top-level object's
    /// names are counted by [`Limits::max_members`] instead.
    ///
    /// The entries sit in a fixed table of 8 KiB on the stack (8 bytes each, never
    /// initialized); more fail with
    /// [`Reason::TooManyMembers`](crate::Reason::TooManyMembers): a nested object of more
    /// than about 1,000 members, or a chain of more than 341 nested objects (arrays nest to
    /// [`Limits::MAX_DEPTH_CAP`] without using the table). With `alloc` there is no such
    /// limit: the first 256 entries are on the stack (2 KiB) and the rest move to the heap,
    /// bounded by the message, so every message QEMU accepts is accepted.
    ///
    /// On x86_64 and aarch64 an object of at most 8 members whose values are all strings,
    /// numbers or literals is checked in a small table of its own and takes no entries:
    /// there, such objects never fill this table. An object that turns out otherwise (a
    /// nested value, a ninth member) moves its names here only then, so when that fills the
    /// table, an error that comes earlier in the input but later in that object is the one
    /// reported. The other targets count every name as it comes.
    pub const MAX_NESTED_NAMES: usize = 1024;

    /// The default limits: depth 1024, 128 top-level members.
    pub const fn new() -> Self {
        Limits {
            max_depth: Self::DEFAULT_MAX_DEPTH,
            max_members: Self::MAX_MEMBERS_CAP,
        }
    }

    /// Sets the maximum nesting depth; the top-level object counts as 1.
    ///
    /// Default 1024 (QEMU's limit). Values above [`Limits::MAX_DEPTH_CAP`] are clamped to it;
    /// 0 rejects every container. Deeper input fails with
    /// [`Reason::DepthLimit`](crate::Reason::DepthLimit). Costs nothing: depth is a counter.
    pub const fn with_max_depth(mut self, depth: usize) -> Self {
        self.max_depth = if depth > Self::MAX_DEPTH_CAP {
            Self::MAX_DEPTH_CAP
        } else {
            depth
        };
        self
    }

    /// Sets the maximum number of members in the top-level object.
    ///
    /// Default and maximum 128 ([`Limits::MAX_MEMBERS_CAP`]); larger values are clamped.
    /// More members fail with [`Reason::TooManyMembers`](crate::Reason::TooManyMembers).
    pub const fn with_max_members(mut self, members: usize) -> Self {
        self.max_members = if members > Self::MAX_MEMBERS_CAP {
            Self::MAX_MEMBERS_CAP
        } else {
            members
        };
        self
    }

    /// The maximum nesting depth.
    pub const fn max_depth(&self) -> usize {
        self.max_depth
    }

    /// The maximum number of top-level members.
    pub const fn max_members(&self) -> usize {
        self.max_members
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::new()
    }
}
