//! Request ids as the reference client makes them: `__qmp#00000`, `__qmp#00001`, …

use core::fmt;

use crate::json::Value;

const PREFIX: &[u8; 6] = b"__qmp#";
/// `__qmp#` and up to 20 digits (`u64::MAX`).
const CAP: usize = PREFIX.len() + 20;

/// An id's text before its digits are written: the prefix, then `0`s.
const TEMPLATE: [u8; CAP] = *b"__qmp#00000000000000000000";

/// The 20 decimal digits of `n`, most significant first (leading zeros included).
#[cfg(all(not(qmp_compact), target_pointer_width = "64"))]
const fn decimal(n: u64) -> [u8; 20] {
    let mut digits = [0u8; 20];
    let (mut v, mut k) = (n, 20);
    while k > 0 && v > 0 {
        k -= 1;
        digits[k] = (v % 10) as u8;
        v /= 10;
    }
    digits
}

/// [`decimal`] without a 64-bit division, which is a library call (and a kilobyte of flash)
/// on 32-bit targets: the powers of ten are subtracted, at most nine times each.
#[cfg(not(all(not(qmp_compact), target_pointer_width = "64")))]
const fn decimal(n: u64) -> [u8; 20] {
    let mut digits = [0u8; 20];
    let mut v = n;
    let mut k = 0;
    while k < 20 {
        let p = POW10[k];
        let mut d = 0;
        while v >= p {
            v -= p;
            d += 1;
        }
        digits[k] = d;
        k += 1;
    }
    digits
}

/// `10^19` down to `10^0`: the place values of a `u64`'s 20 decimal digits.
#[cfg(not(all(not(qmp_compact), target_pointer_width = "64")))]
const POW10: [u64; 20] = {
    let mut p = [1u64; 20];
    let mut k = 19;
    while k > 0 {
        p[k - 1] = p[k] * 10;
        k -= 1;
    }
    p
};

/// One generated request id, `__qmp#` followed by the counter zero-padded to five digits
/// (more digits after `__qmp#99999`, as `qemu.qmp` does). Small and `Copy`: the text is
/// held inline.
///
/// ```
/// use qmp_codec::encode::Id;
/// assert_eq!(Id::new(7).as_str(), "__qmp#00007");
/// assert_eq!(Id::new(123_456).as_str(), "__qmp#123456");
/// ```
#[derive(Clone, Copy)]
pub struct Id {
    n: u64,
    len: u8,
    text: [u8; CAP],
}

impl Id {
    /// The id with counter value `n`.
    pub const fn new(n: u64) -> Id {
        // A copy of the template, not a fill and a loop: a fill with `b'0'` is a `memset`,
        // which small targets would link for this alone.
        let mut text = TEMPLATE;
        let digits = decimal(n);
        // Significant digits, at least five (`__qmp#00007`).
        let mut first = 0;
        while first < 15 && digits[first] == 0 {
            first += 1;
        }
        let len = PREFIX.len() + (20 - first);
        let mut k = first;
        while k < 20 {
            text[PREFIX.len() + k - first] = b'0' + digits[k];
            k += 1;
        }
        Id {
            n,
            len: len as u8,
            text,
        }
    }

    /// The counter value.
    pub const fn number(&self) -> u64 {
        self.n
    }

    /// The id's text as bytes: ASCII, with nothing a JSON string would escape.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.text.get(..self.len as usize).unwrap_or(b"")
    }

    /// The id's text, e.g. `__qmp#00042`.
    pub fn as_str(&self) -> &str {
        // The text is ASCII by construction.
        self.text
            .get(..self.len as usize)
            .and_then(|t| core::str::from_utf8(t).ok())
            .unwrap_or("")
    }

    /// Whether a response's `id` value is this id: compared by value, so an id that the
    /// server re-escaped still matches.
    pub fn matches(&self, id: &Value<'_>) -> bool {
        id.as_str().is_some_and(|s| s == self.as_str())
    }

    /// Recognizes an id this crate (or `qemu.qmp`) generated, from a response's `id` value.
    ///
    /// Only the canonical text is accepted (`__qmp#00042`, not `__qmp#42`), so that
    /// `Id::from_value(v)` matches exactly when [`matches`](Self::matches) would.
    pub fn from_value(id: &Value<'_>) -> Option<Id> {
        // Read through the escapes, without a buffer: the prefix, then the digits.
        let mut chars = id.as_str()?.chars();
        for p in PREFIX {
            if chars.next()? != char::from(*p) {
                return None;
            }
        }
        let (mut n, mut count) = (0u64, 0usize);
        for c in chars {
            let d = c.to_digit(10)?;
            n = n.checked_mul(10)?.checked_add(u64::from(d))?;
            count += 1;
        }
        let id = Id::new(n);
        // Canonical exactly when it has as many digits as `Id::new` writes (none is not).
        (count == usize::from(id.len) - PREFIX.len()).then_some(id)
    }
}

// Every `Id` comes from `Id::new`, so its text is a function of its counter: ids are
// compared, ordered and hashed by the counter alone (one word, not 26 bytes of text).

impl PartialEq for Id {
    fn eq(&self, other: &Id) -> bool {
        self.n == other.n
    }
}

impl Eq for Id {}

impl PartialOrd for Id {
    fn partial_cmp(&self, other: &Id) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Id {
    fn cmp(&self, other: &Id) -> core::cmp::Ordering {
        self.n.cmp(&other.n)
    }
}

impl core::hash::Hash for Id {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.n.hash(state);
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Id").field(&self.as_str()).finish()
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Hands out [`Id`]s in sequence, starting at `__qmp#00000` like `qemu.qmp`'s `QMPClient`.
///
/// ```
/// use qmp_codec::encode::IdGenerator;
/// let mut ids = IdGenerator::new();
/// assert_eq!(ids.next_id().as_str(), "__qmp#00000");
/// assert_eq!(ids.next_id().as_str(), "__qmp#00001");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IdGenerator {
    next: u64,
}

impl IdGenerator {
    /// A generator whose first id is `__qmp#00000`.
    pub const fn new() -> Self {
        IdGenerator { next: 0 }
    }

    /// A generator whose first id has counter `n`.
    pub const fn starting_at(n: u64) -> Self {
        IdGenerator { next: n }
    }

    /// The id the next call to [`next_id`](Self::next_id) returns.
    pub const fn peek(&self) -> Id {
        Id::new(self.next)
    }

    /// Returns the next id and advances. After `u64::MAX` the counter wraps to 0.
    pub fn next_id(&mut self) -> Id {
        let id = Id::new(self.next);
        self.next = self.next.wrapping_add(1);
        id
    }
}

#[cfg(test)]
mod tests {
    use super::Id;

    /// Ids compare and order as their counters do, and equal ids have equal text.
    #[test]
    fn ids_compare_by_counter() {
        let ns = [
            0u64,
            1,
            9,
            10,
            99_999,
            100_000,
            123_456,
            u64::MAX - 1,
            u64::MAX,
        ];
        for &a in &ns {
            for &b in &ns {
                let (x, y) = (Id::new(a), Id::new(b));
                assert_eq!(x == y, a == b);
                assert_eq!(x.cmp(&y), a.cmp(&b));
                assert_eq!(x.partial_cmp(&y), Some(a.cmp(&b)));
                assert_eq!(x == y, x.as_str() == y.as_str());
            }
        }
        assert_eq!(Id::new(u64::MAX).as_str(), "__qmp#18446744073709551615");
    }
}
