//! One named test per input the fuzzers found (see `fuzz/README.md`), so a fixed bug stays
//! fixed. Each runs the harness that found it, which checks every invariant, and asserts the
//! specific symptom.

use qmp_codec::Message;

// The fuzz crate's harness sources (`fuzz/src/harness/`); not every harness is used here.
#[allow(dead_code, unused_imports)]
#[path = "../fuzz/src/harness/mod.rs"]
mod harness;

/// A known top-level member whose value is an object with members of its own got the span
/// of its last nested member's value: `get("return")` gave `1}` for `{"return": {"a": 1}}`.
#[test]
fn known_member_span_survives_nested_members() {
    let input = b"{\"return\": {\"a\": 1}, \"id\": {\"x\": [2]}}";
    let msg = Message::parse(input).unwrap();
    assert_eq!(msg.get("return").unwrap().raw(), b"{\"a\": 1}");
    assert_eq!(msg.id().unwrap().raw(), b"{\"x\": [2]}");
    harness::message(input);

    let greeting =
        b"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 2}}, \"capabilities\": [\"oob\"]}}";
    let msg = Message::parse(greeting).unwrap();
    assert_eq!(
        msg.get("QMP").unwrap().get("capabilities").unwrap().raw(),
        b"[\"oob\"]"
    );
    harness::message(greeting);
}

/// Found by the `server` target's CI smoke run: `Server::respond` after `close()` (which
/// drops the queued greeting) still queued the answer, so a reply went out with no greeting
/// before it. A closed server now drops late answers.
#[cfg(feature = "arbitrary")]
#[test]
fn server_greeting_first() {
    let input = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/fuzz/server-greeting-out-of-place"
    ))
    .unwrap();
    harness::server(&input);

    use qmp_codec::server::{Server, ServerConfig};
    use qmp_codec::Version;
    let (mut rx, mut tx) = ([0u8; 256], [0u8; 512]);
    let version = Version {
        major: 10,
        minor: 0,
        micro: 2,
    };
    let mut server = Server::new(&mut rx, &mut tx, ServerConfig::new(version, "")).unwrap();
    assert!(
        !server.pending_transmit().is_empty(),
        "the greeting is queued"
    );
    server.close();
    server.respond(None, Ok::<_, (&str, &str)>(1u64)).unwrap();
    assert!(
        server.pending_transmit().is_empty(),
        "a closed server sent a reply"
    );
}
