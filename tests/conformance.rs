//! JSONTestSuite conformance: every `y_` file parses, every `n_` file is rejected, every `i_`
//! file is decided without a panic; plus the reason and offset of a sample of rejections.

mod common;

use qmp_codec::{Limits, Message, ParseError, Reason, ValueKind};

fn suite() -> Vec<(String, Vec<u8>)> {
    let dir = common::data_path("JSONTestSuite/test_parsing");
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("directory entry").path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .expect("UTF-8 file name")
                .to_owned();
            let bytes = std::fs::read(&path).expect("readable test file");
            (name, bytes)
        })
        .collect();
    files.sort();
    files
}

/// The documented exception to "y_ parses": duplicate top-level names are rejected.
fn is_top_level_duplicate(name: &str) -> bool {
    name.starts_with("y_object_duplicated_key")
}

#[test]
fn every_suite_file_is_decided_as_expected() {
    let files = suite();
    assert_eq!(files.len(), 318, "JSONTestSuite file count");
    let (mut y, mut n, mut i) = (0, 0, 0);
    for (name, bytes) in &files {
        let result = std::panic::catch_unwind(|| Message::parse(bytes));
        let result = result.unwrap_or_else(|_| panic!("{name}: parse panicked"));
        match result {
            Ok(msg) => {
                assert_eq!(msg.as_bytes(), &bytes[..], "{name}: as_bytes");
                assert!(
                    !name.starts_with("n_"),
                    "{name}: accepted, must be rejected"
                );
                assert!(!is_top_level_duplicate(name), "{name}: duplicate accepted");
            }
            Err(ParseError::UnexpectedType(e)) => {
                assert!(
                    !name.starts_with("n_"),
                    "{name}: accepted as {:?}",
                    e.value()
                );
                assert_ne!(e.value().kind(), ValueKind::Object, "{name}");
            }
            Err(ParseError::Deserialization(e)) => {
                assert_eq!(e.raw(), &bytes[..], "{name}: raw() is the input");
                assert!(e.offset() <= bytes.len(), "{name}: offset out of range");
                if is_top_level_duplicate(name) {
                    assert_eq!(e.reason(), Reason::DuplicateMember, "{name}");
                } else {
                    assert!(!name.starts_with("y_"), "{name}: rejected: {e}");
                }
            }
            Err(other) => panic!("{name}: unknown error {other:?}"),
        }
        match name.as_bytes().first() {
            Some(b'y') => y += 1,
            Some(b'n') => n += 1,
            Some(b'i') => i += 1,
            _ => panic!("unexpected file {name}"),
        }
    }
    assert!(y > 90 && n > 180 && i > 30, "y={y} n={n} i={i}");
}

fn file(name: &str) -> Vec<u8> {
    common::read_data(format!("JSONTestSuite/test_parsing/{name}"))
}

fn reject(bytes: &[u8]) -> (Reason, usize) {
    match Message::parse(bytes) {
        Err(ParseError::Deserialization(e)) => {
            assert_eq!(e.raw(), bytes, "raw() is the input");
            (e.reason(), e.offset())
        }
        other => panic!(
            "{:?} was not rejected: {other:?}",
            String::from_utf8_lossy(bytes)
        ),
    }
}

#[test]
fn suite_rejections_have_precise_reasons() {
    let cases: &[(&str, Reason, usize)] = &[
        ("n_number_-01.json", Reason::InvalidNumber, 3),
        ("n_number_with_leading_zero.json", Reason::InvalidNumber, 2),
        (
            "n_number_real_without_fractional_part.json",
            Reason::InvalidNumber,
            3,
        ),
        ("n_number_starting_with_dot.json", Reason::ExpectedValue, 1),
        ("n_number_NaN.json", Reason::ExpectedValue, 1),
        ("n_array_extra_comma.json", Reason::ExpectedValue, 4),
        ("n_object_trailing_comma.json", Reason::ExpectedName, 8),
        (
            "n_structure_UTF8_BOM_no_data.json",
            Reason::ByteOrderMark,
            0,
        ),
        ("n_string_unescaped_tab.json", Reason::ControlCharacter, 2),
        ("n_string_escape_x.json", Reason::InvalidEscape, 2),
        (
            "n_structure_lone-open-bracket.json",
            Reason::UnexpectedEnd,
            1,
        ),
        (
            "n_structure_object_with_trailing_garbage.json",
            Reason::TrailingData,
            12,
        ),
        (
            "n_structure_capitalized_True.json",
            Reason::ExpectedValue,
            1,
        ),
        ("n_incomplete_true.json", Reason::InvalidLiteral, 4),
        ("n_object_missing_colon.json", Reason::ExpectedColon, 5),
        ("n_object_non_string_key.json", Reason::ExpectedName, 1),
        ("n_structure_no_data.json", Reason::EmptyInput, 0),
        (
            "n_array_inner_array_no_comma.json",
            Reason::ExpectedCommaOrEnd,
            2,
        ),
        ("y_object_duplicated_key.json", Reason::DuplicateMember, 9),
        (
            "y_object_duplicated_key_and_value.json",
            Reason::DuplicateMember,
            9,
        ),
    ];
    for &(name, reason, offset) in cases {
        let bytes = file(name);
        assert_eq!(
            reject(&bytes),
            (reason, offset),
            "{name}: {:?}",
            String::from_utf8_lossy(&bytes)
        );
    }
}

#[test]
fn bom_before_an_object_is_rejected() {
    assert_eq!(reject(b"\xEF\xBB\xBF{}"), (Reason::ByteOrderMark, 0));
}

#[test]
fn lone_surrogate_escapes_are_rejected() {
    assert_eq!(reject(br#"{"a":"\ud800"}"#), (Reason::LoneSurrogate, 6));
    assert_eq!(
        reject(br#"{"a":"\udc00\ud800"}"#),
        (Reason::LoneSurrogate, 6)
    );
    assert_eq!(
        reject(br#"{"a":"x\uD800\u0041"}"#),
        (Reason::LoneSurrogate, 7)
    );
    assert_eq!(reject(br#"{"\uDFFF":1}"#), (Reason::LoneSurrogate, 2));
    // A proper pair is fine.
    let msg = Message::parse(br#"{"a":"\ud83d\ude00"}"#).expect("surrogate pair");
    assert!(msg.get("a").and_then(|v| v.as_str()).expect("string") == "\u{1F600}");
}

#[test]
fn control_characters_in_strings_are_rejected() {
    for c in 0u8..0x20 {
        let input = [b'{', b'"', b'a', b'"', b':', b'"', b'x', c, b'"', b'}'];
        assert_eq!(
            reject(&input),
            (Reason::ControlCharacter, 7),
            "byte {c:#04x}"
        );
    }
    // DEL is not a control character for JSON.
    assert!(Message::parse(b"{\"a\":\"\x7f\"}").is_ok());
}

#[test]
fn invalid_utf8_is_rejected_where_it_starts() {
    let cases: &[&[u8]] = &[
        b"{\"a\":\"\xff\"}",
        b"{\"a\":\"\xc0\xaf\"}",         // overlong
        b"{\"a\":\"\xed\xa0\x80\"}",     // encoded surrogate
        b"{\"a\":\"\xf4\x90\x80\x80\"}", // above U+10FFFF
        b"{\"a\":\"\xe2\x82\"}",         // truncated
        b"{\"a\":\"\x80\"}",             // lone continuation
    ];
    for &input in cases {
        assert_eq!(reject(input), (Reason::InvalidUtf8, 6), "{input:?}");
    }
    assert_eq!(reject(b"{\"\xe9\":1}"), (Reason::InvalidUtf8, 2));
    assert_eq!(reject(b"\xe9"), (Reason::InvalidUtf8, 0));
}

#[test]
fn depth_limit_is_reported_at_the_bracket_that_exceeds_it() {
    let limits = Limits::new().with_max_depth(3);
    let ok = br#"{"a":[[1]]}"#;
    assert!(Message::parse_with(ok, &limits).is_ok());
    let deep = br#"{"a":[[[1]]]}"#;
    match Message::parse_with(deep, &limits) {
        Err(ParseError::Deserialization(e)) => {
            assert_eq!((e.reason(), e.offset()), (Reason::DepthLimit, 7));
        }
        other => panic!("not a depth error: {other:?}"),
    }
    // Depth 0 rejects every container, the top-level object included; scalars still parse.
    let zero = Limits::new().with_max_depth(0);
    assert!(matches!(
        Message::parse_with(b" {}", &zero),
        Err(ParseError::Deserialization(e)) if (e.reason(), e.offset()) == (Reason::DepthLimit, 1)
    ));
    assert!(matches!(
        Message::parse_with(b"1", &zero),
        Err(ParseError::UnexpectedType(_))
    ));
    // The default limit is QEMU's 1024: 1024 levels pass, 1025 do not.
    let nest = |n: usize| {
        let mut s = String::from("{\"a\":");
        s.push_str(&"[".repeat(n - 1));
        s.push_str(&"]".repeat(n - 1));
        s.push('}');
        s
    };
    assert!(Message::parse(nest(1024).as_bytes()).is_ok());
    let too_deep = nest(1025);
    assert_eq!(reject(too_deep.as_bytes()), (Reason::DepthLimit, 5 + 1023));
}

#[test]
fn too_many_top_level_members_are_rejected() {
    let limits = Limits::new().with_max_members(2);
    assert!(Message::parse_with(br#"{"a":1,"b":2}"#, &limits).is_ok());
    match Message::parse_with(br#"{"a":1,"b":2,"c":3}"#, &limits) {
        Err(ParseError::Deserialization(e)) => {
            assert_eq!((e.reason(), e.offset()), (Reason::TooManyMembers, 13));
        }
        other => panic!("not rejected: {other:?}"),
    }
}

#[test]
fn duplicates_compare_unescaped_at_every_depth() {
    assert_eq!(
        reject(br#"{"id":1,"\u0069d":2}"#),
        (Reason::DuplicateMember, 8)
    );
    assert_eq!(
        reject(br#"{"x\n":1,"x\u000a":2}"#),
        (Reason::DuplicateMember, 9)
    );
    assert_eq!(
        reject(br#"{"\u00e9":1,"\u00E9":2}"#),
        (Reason::DuplicateMember, 12)
    );
    // Nested duplicates are rejected too (QEMU's rule), at the second name, whatever the
    // spelling, inside arrays and after a closed inner object with the same names.
    assert_eq!(
        reject(br#"{"a":{"b":1,"b":2}}"#),
        (Reason::DuplicateMember, 12)
    );
    assert_eq!(
        reject(br#"{"a":[0,{"b":1,"c":{"b":1,"c":2},"\u0062":3}]}"#),
        (Reason::DuplicateMember, 33)
    );
    assert_eq!(
        reject(br#"{"a":{"long-name-12":1,"long-name-1\u0032":2}}"#),
        (Reason::DuplicateMember, 23)
    );
    // Objects past 32 names are checked when they close, by a hash of whole names: a late
    // duplicate (escaped or not), names of a closed inner object, and siblings.
    let big = |extra: &str| {
        let mut s = String::from(r#"{"x":[{"#);
        for k in 0..40 {
            s.push_str(&format!(
                r#""n{k}":{{"n{k}":1,"m":{{"n{k}":[{{"n{k}":2}}]}}}},"#
            ));
        }
        s.push_str(extra);
        s.push_str("}]}");
        s
    };
    assert!(Message::parse(big(r#""n40":0"#).as_bytes()).is_ok());
    for dup in [r#""n7":0"#, r#""n3\u0039":0"#, r#""\u006e0":0"#] {
        let text = big(dup);
        let at = text.rfind(dup).unwrap();
        assert_eq!(
            reject(text.as_bytes()),
            (Reason::DuplicateMember, at),
            "{dup}"
        );
    }
    // The same names in sibling and nested objects are not duplicates.
    assert!(Message::parse(br#"{"a":[{"b":1,"c":2},{"b":1,"c":{"b":{"c":1},"c":2}}]}"#).is_ok());
    // Names that only look alike are not duplicates.
    assert!(Message::parse(br#"{"a":1,"A":2,"a ":3,"\u0061b":4}"#).is_ok());
}

#[test]
fn non_objects_are_unexpected_types_with_their_value() {
    for (input, kind) in [
        (&b" [1, 2] \r\n"[..], ValueKind::Array),
        (b"\"s\"", ValueKind::String),
        (b"-0.5e3", ValueKind::Number),
        (b"true", ValueKind::Bool),
        (b"null", ValueKind::Null),
    ] {
        match Message::parse(input) {
            Err(ParseError::UnexpectedType(e)) => {
                assert_eq!(e.value().kind(), kind);
                assert_eq!(e.value().raw(), input.trim_ascii());
            }
            other => panic!("{input:?}: {other:?}"),
        }
    }
}
