//! Escaping text as it is written, for `Display` values that become JSON strings.

use core::fmt;

use crate::json::print::put_str_body;
use crate::json::sink::Sink;

/// Escapes `Display` output as a JSON string body.
pub(crate) struct Escape<'a, S: ?Sized> {
    pub(crate) w: &'a mut S,
    pub(crate) upper: bool,
}

impl<S: Sink + ?Sized> fmt::Write for Escape<'_, S> {
    #[inline]
    fn write_str(&mut self, s: &str) -> fmt::Result {
        put_str_body(self.w, s, self.upper)
    }
}

/// Writes `value`'s `Display` output as a JSON string (quotes included).
pub(crate) fn write_display_str<S: Sink + ?Sized>(
    w: &mut S,
    value: &dyn fmt::Display,
    upper: bool,
) -> fmt::Result {
    w.put_byte(b'"')?;
    fmt::write(&mut Escape { w, upper }, format_args!("{value}"))?;
    w.put_byte(b'"')
}
