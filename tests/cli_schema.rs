//! `qmp schema` and `qmp exec --check` against a live qemu-storage-daemon (the test fails
//! with a message when the daemon is missing).
#![cfg(feature = "cli")]

mod common;

use common::cli::{qmp, qmp_ok};
use common::qsd::Qsd;

fn daemon() -> Qsd {
    Qsd::start().expect("qemu-storage-daemon is needed: install qemu-utils or set QMP_QSD")
}

#[test]
fn schema_lists_commands_and_events_with_readable_signatures() {
    let qsd = daemon();
    let sock = qsd.socket().to_str().unwrap();
    let all = qmp_ok(&["schema", sock], b"");
    let lines: Vec<&str> = all.lines().collect();
    // qemu-storage-daemon 10.0: 76 commands and 13 events.
    assert_eq!(lines.len(), 89, "{all}");
    assert!(lines.contains(&"query-jobs() -> [{id: str, type: enum {commit, stream, mirror, backup, create, amend, …}, status: enum {undefined, created, running, paused, ready, standby, …}, current-progress: int, total-progress: int, error?: str}]"), "{all}");
    assert!(lines.contains(&"event BLOCK_EXPORT_DELETED(id: str)"));
    let add = lines
        .iter()
        .find(|l| l.starts_with("blockdev-add("))
        .unwrap();
    assert!(
        add.starts_with("blockdev-add(driver: enum {blkdebug, blklogwrites, "),
        "{add}"
    );
    assert!(add.contains("node-name?: str"), "{add}");
    assert!(add.contains("cache?: {…}"), "{add}");
    assert!(add.contains(", … by driver)"), "{add}");
    // No masked type name is printed as such.
    assert!(!all.contains(": 38"), "{all}");
    let graph = lines
        .iter()
        .find(|l| l.starts_with("x-debug-query-block-graph("))
        .unwrap();
    assert!(graph.ends_with(" [unstable]"), "{graph}");

    let one = qmp_ok(&["schema", sock, "blockdev-add"], b"");
    assert!(
        one.contains("cache?: {direct?: bool, no-flush?: bool}"),
        "{one}"
    );
    assert!(one.contains(" | driver=file: {filename: str"), "{one}");
    let ev = qmp_ok(&["schema", sock, "JOB_STATUS_CHANGE"], b"");
    assert_eq!(ev, "event JOB_STATUS_CHANGE(id: str, status: enum {undefined, created, running, paused, ready, standby, waiting, pending, aborting, concluded, null})\n");
    let missing = qmp(&["schema", sock, "no-such"], b"");
    assert_eq!(missing.status.code(), Some(1));
}

#[test]
fn exec_check_refuses_locally_with_qemus_text() {
    let qsd = daemon();
    let sock = qsd.socket().to_str().unwrap();
    let bad = qmp(
        &[
            "exec",
            "--check",
            sock,
            "blockdev-add",
            r#"{"driver": "null-co", "cache": {"direct": 1}}"#,
        ],
        b"",
    );
    assert_eq!(bad.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&bad.stderr),
        "GenericError: Invalid parameter type for 'cache.direct', expected: boolean (checked against the server's schema; not sent)\n"
    );
    // Not sent: without --check QEMU gives the same text, and the node does not exist yet.
    let sent = qmp(
        &[
            "exec",
            sock,
            "blockdev-add",
            r#"{"driver": "null-co", "cache": {"direct": 1}}"#,
        ],
        b"",
    );
    assert_eq!(
        String::from_utf8_lossy(&sent.stderr),
        "GenericError: Invalid parameter type for 'cache.direct', expected: boolean\n"
    );
    let ok = qmp(&["exec", "--check", sock, "x-debug-query-block-graph"], b"");
    assert!(ok.status.success());
    assert_eq!(
        String::from_utf8_lossy(&ok.stderr),
        "qmp: note: command 'x-debug-query-block-graph' is unstable\n"
    );
    let added = qmp(
        &[
            "exec",
            "--check",
            sock,
            "blockdev-add",
            r#"{"driver": "null-co", "node-name": "n0"}"#,
        ],
        b"",
    );
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let nodes = qmp_ok(&["exec", sock, "query-named-block-nodes"], b"");
    assert!(nodes.contains("\"n0\""), "{nodes}");
    let unknown = qmp(&["exec", "--check", sock, "no-such-command"], b"");
    assert_eq!(unknown.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&unknown.stderr),
        "CommandNotFound: The command no-such-command has not been found (checked against the server's schema; not sent)\n"
    );
}
