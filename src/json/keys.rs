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

    /// Matches a string body as it appears in the input (escaped or not).
    #[inline(always)]
    pub(crate) fn lookup(raw: &[u8], escaped: bool) -> Option<Known> {
        if !escaped {
            return Known::from_name(raw);
        }
        // An escaped name can only match if its unescaped form fits a small buffer.
        let mut buf = [0u8; 16];
        match crate::json::Str::new(raw, true).unescape_into(&mut buf) {
            Ok(s) => Known::from_name(s.as_bytes()),
            Err(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_names_match() {
        assert_eq!(Known::lookup(b"\\u0069d", true), Some(Known::Id));
        assert_eq!(Known::lookup(b"ret\\u0075rn", true), Some(Known::Return));
        assert_eq!(Known::lookup(b"a\\nb", true), None);
        assert_eq!(Known::lookup(b"QMP", false), Some(Known::Qmp));
        assert_eq!(Known::lookup(b"qmp", false), None);
    }
}
