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

    /// Matches the name whose opening quote is at `i` of `b` when it is one of these, written
    /// without escapes: the bytes from the quote to the closing quote (for `error` and
    /// `event`, to the colon right after it), compared as words (most often the first word
    /// alone). Returns the name, the offset after its closing quote and whether the colon
    /// there was matched with it; `None` for any other name (or one written otherwise),
    /// which the caller scans as a string.
    ///
    /// QEMU writes every top-level name this way, so its messages' names are not scanned
    /// byte by byte (nor fingerprinted); the result is the one the scan would give, as
    /// these bytes are a whole valid string.
    #[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
    #[inline(always)]
    pub(crate) fn quoted(b: &[u8], i: usize) -> Option<(Known, usize, bool)> {
        const M4: u64 = 0xFFFF_FFFF;
        const M5: u64 = 0xFF_FFFF_FFFF;
        const M6: u64 = 0xFFFF_FFFF_FFFF;
        let w = u64::from_le_bytes(*b.get(i..)?.first_chunk::<8>()?);
        // The rest of a name longer than seven bytes, its closing quote included.
        let tail = |rest: &[u8]| b.get(i + 8..i + 8 + rest.len()) == Some(rest);
        // The most frequent first: errors, returns, ids, events (whose first name is the
        // timestamp), then the rest.
        // `"error"` and `"event"` with the colon after them: a whole word.
        let (k, len, colon) = if w == word(b"\"error\":") {
            (Known::Error, 7, true)
        } else if w == word(b"\"return\"") {
            (Known::Return, 8, false)
        } else if w & M4 == word(b"\"id\"") {
            (Known::Id, 4, false)
        } else if w == word(b"\"timesta") && tail(b"mp\"") {
            (Known::Timestamp, 11, false)
        } else if w == word(b"\"event\":") {
            (Known::Event, 7, true)
        } else if w & M6 == word(b"\"data\"") {
            (Known::Data, 6, false)
        } else if w & M5 == word(b"\"QMP\"") {
            (Known::Qmp, 5, false)
        } else if w == word(b"\"execute") && tail(b"\"") {
            (Known::Execute, 9, false)
        } else if w == word(b"\"argumen") && tail(b"ts\"") {
            (Known::Arguments, 11, false)
        } else if w == word(b"\"exec-oo") && tail(b"b\"") {
            (Known::ExecOob, 10, false)
        } else {
            return None;
        };
        Some((k, i + len, colon))
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

    extern crate std;

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

    /// [`Known::quoted`] agrees with [`Known::from_name`] on every name near the known ones
    /// (prefixes, extensions, one byte changed), followed by each kind of byte, and leaves
    /// escaped names and names too close to the end of the input to the scan.
    #[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
    #[test]
    fn quoted_names_match_exactly_the_known_ones() {
        use std::{string::String, vec, vec::Vec};
        let known: [&[u8]; 10] = [
            b"QMP",
            b"event",
            b"error",
            b"return",
            b"execute",
            b"exec-oob",
            b"id",
            b"arguments",
            b"data",
            b"timestamp",
        ];
        let mut names: Vec<Vec<u8>> = Vec::new();
        for k in known {
            for cut in 0..=k.len() {
                names.push(k[..cut].to_vec());
                let mut longer = k.to_vec();
                longer.extend_from_slice(&k[..cut]);
                names.push(longer);
            }
            for at in 0..k.len() {
                let mut changed = k.to_vec();
                changed[at] ^= 0x20;
                names.push(changed);
            }
        }
        let mut matched = [false; KNOWN_COUNT];
        for name in &names {
            for after in [
                &b": 1, \"x\": 2}"[..],
                b":1}",
                b" : []",
                b"\"\"\"\"\"\"\"\"\"",
            ] {
                let mut doc = vec![b'"'];
                doc.extend_from_slice(name);
                doc.push(b'"');
                let end = doc.len();
                doc.extend_from_slice(after);
                // Never a wrong name or end; always the name when written as QEMU does
                // (a colon right after it) and 8 bytes are there.
                let want = Known::from_name(name).filter(|_| doc.len() >= 8);
                let got = Known::quoted(&doc, 0);
                let what = String::from_utf8_lossy(&doc);
                match got {
                    Some((k, e, colon)) => {
                        assert_eq!(Some((k, e)), want.map(|k| (k, end)), "{what:?}");
                        // A colon said to be matched is there.
                        assert!(!colon || doc.get(e) == Some(&b':'), "{what:?}");
                    }
                    None => assert!(want.is_none() || after[0] != b':', "{what:?}"),
                }
                if let Some(k) = got.map(|(k, _, _)| k) {
                    matched[k as usize] = true;
                }
                // The same name further on in the input.
                let mut later = b"{\"a\": 1, ".to_vec();
                later.extend_from_slice(&doc);
                assert_eq!(Known::quoted(&later, 9), got.map(|(k, e, c)| (k, e + 9, c)));
            }
        }
        assert_eq!(matched, [true; KNOWN_COUNT]);
        assert_eq!(Known::quoted(b"\"\\u0069d\": 1}", 0), None);
        assert_eq!(
            Known::quoted(b"\"error\":", 0),
            Some((Known::Error, 7, true))
        );
        assert_eq!(
            Known::quoted(b"\"return\":", 0),
            Some((Known::Return, 8, false))
        );
        assert_eq!(Known::quoted(b"\"id\": 1", 0), None, "fewer than 8 bytes");
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
