//! Escaping text as it is written, for `Display` values that become JSON strings.

use core::fmt;

use crate::json::print::write_escaped_char;

/// Escapes `Display` output as a JSON string body.
pub(crate) struct Escape<'a, W: ?Sized> {
    pub(crate) w: &'a mut W,
    pub(crate) upper: bool,
}

impl<W: fmt::Write + ?Sized> fmt::Write for Escape<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut start = 0;
        for (i, c) in s.char_indices() {
            if (' '..='~').contains(&c) && c != '"' && c != '\\' {
                continue;
            }
            self.w.write_str(s.get(start..i).unwrap_or(""))?;
            write_escaped_char(self.w, c, self.upper)?;
            start = i + c.len_utf8();
        }
        self.w.write_str(s.get(start..).unwrap_or(""))
    }
}

/// Writes `value`'s `Display` output as a JSON string (quotes included).
pub(crate) fn write_display_str<W: fmt::Write + ?Sized>(
    w: &mut W,
    value: &dyn fmt::Display,
    upper: bool,
) -> fmt::Result {
    w.write_str("\"")?;
    fmt::write(&mut Escape { w, upper }, format_args!("{value}"))?;
    w.write_str("\"")
}
