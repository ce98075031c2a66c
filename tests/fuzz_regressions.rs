//! One named test per input the fuzzers found (see `fuzz/README.md`), so a fixed bug stays
//! fixed. Each runs the harness that found it, which checks every invariant, and asserts the
//! specific symptom.

use qmp_codec::{fuzz_harness, Message};

/// A known top-level member whose value is an object with members of its own got the span
/// of its last nested member's value: `get("return")` gave `1}` for `{"return": {"a": 1}}`.
#[test]
fn known_member_span_survives_nested_members() {
    let input = b"{\"return\": {\"a\": 1}, \"id\": {\"x\": [2]}}";
    let msg = Message::parse(input).unwrap();
    assert_eq!(msg.get("return").unwrap().raw(), b"{\"a\": 1}");
    assert_eq!(msg.id().unwrap().raw(), b"{\"x\": [2]}");
    fuzz_harness::message(input);

    let greeting =
        b"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 2}}, \"capabilities\": [\"oob\"]}}";
    let msg = Message::parse(greeting).unwrap();
    assert_eq!(
        msg.get("QMP").unwrap().get("capabilities").unwrap().raw(),
        b"[\"oob\"]"
    );
    fuzz_harness::message(greeting);
}
