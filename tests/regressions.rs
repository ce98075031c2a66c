//! Named regression tests for bugs the conformance, corpus and oracle tests found in the core.

use qmp_codec::{Kind, Message, ValueKind};

/// The span of a well-known top-level member whose value is an object with members was
/// recorded from the last nested member's value instead of its own start.
#[test]
fn known_member_span_is_not_moved_by_nested_members() {
    let input = br#"{"error": {"class": "GenericError", "desc": "x"}, "id": {"a": [1]}}"#;
    let msg = Message::parse(input).expect("valid message");
    assert_eq!(msg.kind(), Kind::Error);
    let error = msg.get("error").expect("error member");
    assert_eq!(error.kind(), ValueKind::Object);
    assert_eq!(error.raw(), br#"{"class": "GenericError", "desc": "x"}"#);
    assert!(error.get("class").and_then(|c| c.as_str()).expect("class") == "GenericError");
    let id = msg.id().expect("id");
    assert_eq!(id.raw(), br#"{"a": [1]}"#);
    // Every known member agrees with the document-order walk.
    for (k, v) in msg.iter() {
        assert_eq!(msg.get(&k.to_string()), Some(v), "{k}");
    }
}
