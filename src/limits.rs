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

    /// How many member names of nested objects can be open at once: 1024, the names of the
    /// innermost object and of the nested objects around it (the top-level object's names
    /// are counted by [`Limits::max_members`] instead).
    ///
    /// The duplicate check at every depth keeps them in a fixed table of 8 KiB on the stack
    /// (8 bytes a name, never initialized); more names fail with
    /// [`Reason::TooManyMembers`](crate::Reason::TooManyMembers): a nested object of more
    /// than 1024 members (fewer inside other nested objects), or a chain of more than 1024
    /// nested objects, which only a depth limit raised above QEMU's 1024 allows (arrays
    /// nest to [`Limits::MAX_DEPTH_CAP`] without using the table).
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
