//! Unit tests of the paths that depend on the `alloc` feature (run with and without it).

use core::fmt;

use serde::de::{Deserialize, Deserializer as _, Visitor};

use crate::serde::{from_value, ErrorKind, UNESCAPE_BUFFER};
use crate::{Message, Value};

/// Records how a string reached the visitor and its unescaped length and first char.
#[derive(Debug, PartialEq)]
enum Seen {
    Borrowed(usize, Option<char>),
    Transient(usize, Option<char>),
    Owned(usize, Option<char>),
}

impl<'de> Deserialize<'de> for Seen {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Seen;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Seen, E> {
                Ok(Seen::Borrowed(s.len(), s.chars().next()))
            }
            fn visit_str<E>(self, s: &str) -> Result<Seen, E> {
                Ok(Seen::Transient(s.len(), s.chars().next()))
            }
            #[cfg(feature = "alloc")]
            fn visit_string<E>(self, s: alloc::string::String) -> Result<Seen, E> {
                Ok(Seen::Owned(s.len(), s.chars().next()))
            }
        }
        d.deserialize_str(V)
    }
}

fn member<'a>(msg: &Message<'a>) -> Value<'a> {
    msg.get("s").expect("the test input has `s`")
}

#[test]
fn strings_reach_the_visitor_borrowed_or_unescaped() {
    let msg = Message::parse(br#"{"s": "plain"}"#).unwrap();
    assert_eq!(
        from_value::<Seen>(member(&msg)),
        Ok(Seen::Borrowed(5, Some('p')))
    );

    let msg = Message::parse(br#"{"s": "\u00e9t\u00e9"}"#).unwrap();
    let seen = from_value::<Seen>(member(&msg)).unwrap();
    #[cfg(feature = "alloc")]
    assert_eq!(seen, Seen::Owned(5, Some('é')));
    #[cfg(not(feature = "alloc"))]
    assert_eq!(seen, Seen::Transient(5, Some('é')));
}

#[test]
fn long_escaped_strings_need_alloc() {
    // UNESCAPE_BUFFER + 1 bytes once unescaped: one `\n` and the rest plain.
    let mut input = [b'x'; UNESCAPE_BUFFER + 16];
    let body = UNESCAPE_BUFFER + 1;
    input[..7].copy_from_slice(br#"{"s": ""#);
    input[7..9].copy_from_slice(br"\n");
    let end = 7 + 2 + (body - 1);
    input[end..end + 2].copy_from_slice(br#""}"#);
    let msg = Message::parse(&input[..end + 2]).unwrap();
    let result = from_value::<Seen>(member(&msg));
    #[cfg(feature = "alloc")]
    assert_eq!(result, Ok(Seen::Owned(body, Some('\n'))));
    #[cfg(not(feature = "alloc"))]
    {
        let err = result.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::StringTooLong { required: body });
        // Offsets count from the value given to `from_value`.
        assert_eq!(err.offset(), Some(0));
    }
    // Without escapes any length is borrowed.
    input[7..9].copy_from_slice(b"yy");
    let msg = Message::parse(&input[..end + 2]).unwrap();
    assert_eq!(
        from_value::<Seen>(member(&msg)),
        Ok(Seen::Borrowed(body + 1, Some('y')))
    );
}

#[test]
fn errors_are_small_and_display_their_kind() {
    let msg = Message::parse(br#"{"s": 1}"#).unwrap();
    let err = from_value::<Seen>(member(&msg)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidType);
    let mut text = heapless::String::<96>::new();
    fmt::write(&mut text, format_args!("{err}")).unwrap();
    #[cfg(feature = "alloc")]
    assert_eq!(
        text,
        "invalid type: integer `1`, expected a string at byte 0"
    );
    #[cfg(not(feature = "alloc"))]
    assert_eq!(text, "invalid type at byte 0");
    let de = crate::serde::Deserializer::new(member(&msg));
    assert!(de.deserialize_ignored_any(serde::de::IgnoredAny).is_ok());
}
