//! The top-level member names that QMP gives meaning to, located during the scan.

/// A well-known top-level member of a QMP message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Known {
    Qmp = 0,
    Event,
    Error,
    Return,
    Execute,
    ExecOob,
    Id,
    Arguments,
    Data,
    Timestamp,
}

/// How many [`Known`] names there are.
pub(crate) const KNOWN_COUNT: usize = 10;

impl Known {
    /// Matches an unescaped name.
    #[inline(always)]
    pub(crate) fn from_name(name: &[u8]) -> Option<Known> {
        Some(match name {
            b"QMP" => Known::Qmp,
            b"event" => Known::Event,
            b"error" => Known::Error,
            b"return" => Known::Return,
            b"execute" => Known::Execute,
            b"exec-oob" => Known::ExecOob,
            b"id" => Known::Id,
            b"arguments" => Known::Arguments,
            b"data" => Known::Data,
            b"timestamp" => Known::Timestamp,
            _ => return None,
        })
    }

    /// Matches a name by its fingerprint: a length switch and one word compare.
    #[inline(always)]
    pub(crate) fn from_fingerprint(f: &Fingerprint) -> Option<Known> {
        const QMP: u64 = word(b"QMP");
        const EVENT: u64 = word(b"event");
        const ERROR: u64 = word(b"error");
        const RETURN: u64 = word(b"return");
        const EXECUTE: u64 = word(b"execute");
        const EXEC_OOB: u64 = word(b"exec-oob");
        const ID: u64 = word(b"id");
        const ARGUMENTS: u64 = word(b"arguments");
        const DATA: u64 = word(b"data");
        const TIMESTAMP: u64 = word(b"timestamp");
        Some(match (f.len, f.word) {
            (3, QMP) => Known::Qmp,
            (5, EVENT) => Known::Event,
            (5, ERROR) => Known::Error,
            (6, RETURN) => Known::Return,
            (7, EXECUTE) => Known::Execute,
            (8, EXEC_OOB) => Known::ExecOob,
            (2, ID) => Known::Id,
            (9, ARGUMENTS) if f.ninth == b's' => Known::Arguments,
            (4, DATA) => Known::Data,
            (9, TIMESTAMP) if f.ninth == b'p' => Known::Timestamp,
            _ => return None,
        })
    }
}

/// The first eight bytes of `name` as a little-endian word, zero-padded.
pub(crate) const fn word(name: &[u8]) -> u64 {
    let mut w = 0u64;
    let mut shift = 0;
    let mut rest = name;
    while let [c, tail @ ..] = rest {
        if shift == 64 {
            break;
        }
        w |= (*c as u64) << shift;
        shift += 8;
        rest = tail;
    }
    w
}

/// A cheap summary of an unescaped name: equal names have equal fingerprints, and names of
/// up to nine bytes are equal exactly when their fingerprints are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fingerprint {
    /// Length of the unescaped name in bytes.
    pub len: u32,
    /// Its first eight bytes, zero-padded ([`word`]).
    pub word: u64,
    /// Its ninth byte, 0 when shorter (enough to tell the nine-byte QMP names apart).
    pub ninth: u8,
}

impl Fingerprint {
    /// The fingerprint of a string body as it appears in the input (escaped or not).
    pub(crate) fn of(raw: &[u8], escaped: bool) -> Fingerprint {
        if !escaped {
            return Fingerprint {
                len: raw.len() as u32,
                word: word(raw),
                ninth: raw.get(8).copied().unwrap_or(0),
            };
        }
        let mut head = [0u8; 9];
        let mut len = 0usize;
        let mut utf8 = [0u8; 4];
        for c in crate::json::Str::new(raw, true).chars() {
            for &byte in c.encode_utf8(&mut utf8).as_bytes() {
                if let Some(h) = head.get_mut(len) {
                    *h = byte;
                }
                len += 1;
            }
        }
        Fingerprint {
            len: len as u32,
            word: word(&head),
            ninth: head[8],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_names_match() {
        let lookup = |raw: &[u8], escaped| Known::from_fingerprint(&Fingerprint::of(raw, escaped));
        assert_eq!(lookup(b"\\u0069d", true), Some(Known::Id));
        assert_eq!(lookup(b"ret\\u0075rn", true), Some(Known::Return));
        assert_eq!(lookup(b"a\\nb", true), None);
        assert_eq!(lookup(b"QMP", false), Some(Known::Qmp));
        assert_eq!(lookup(b"qmp", false), None);
        assert_eq!(lookup(b"arguments", false), Some(Known::Arguments));
        assert_eq!(lookup(b"argumentz", false), None);
        assert_eq!(lookup(b"timestam\\u0070", true), Some(Known::Timestamp));
        assert_eq!(lookup(b"timestamps", false), None);
        assert_eq!(lookup(b"i", false), None);
    }

    #[test]
    fn fingerprints_agree_on_every_known_name() {
        for name in [
            "QMP",
            "event",
            "error",
            "return",
            "execute",
            "exec-oob",
            "id",
            "arguments",
            "data",
            "timestamp",
        ] {
            let f = Fingerprint::of(name.as_bytes(), false);
            assert_eq!(
                Known::from_fingerprint(&f),
                Known::from_name(name.as_bytes())
            );
            assert!(Known::from_name(name.as_bytes()).is_some());
        }
        let f = Fingerprint::of(b"\\u00e9t\\u00e9", true);
        assert_eq!(f, Fingerprint::of("\u{e9}t\u{e9}".as_bytes(), false));
        assert_eq!(f.len, 5);
    }
}
