//! The JSON layer: a validating scanner and borrowed views over validated bytes.

pub(crate) mod keys;
pub(crate) mod number;
pub(crate) mod print;
pub(crate) mod scan;
pub(crate) mod sink;
pub(crate) mod str;
pub(crate) mod value;

pub use self::print::{write_json_string, Printed, Style};
pub use self::str::{Chars, Str};
pub use self::value::{Elements, Members, Value, ValueKind};

/// A byte range in the input; `start == u32::MAX` marks "absent".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub(crate) const NONE: Span = Span {
        start: u32::MAX,
        end: u32::MAX,
    };

    /// Offsets are below `u32::MAX`: the scanner refuses larger input.
    #[inline(always)]
    pub(crate) const fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    #[inline(always)]
    pub(crate) fn get<'a>(&self, b: &'a [u8]) -> Option<&'a [u8]> {
        if self.start == u32::MAX {
            None
        } else {
            b.get(self.start as usize..self.end as usize)
        }
    }
}
