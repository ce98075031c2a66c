//! `qmp ga` against a live qemu-ga started by the tests (`tests/common/qga.rs`; a missing
//! qemu-ga fails these tests with a how-to message).
#![cfg(all(unix, feature = "cli"))]

mod common;

use common::cli::{qmp, qmp_ok};
use common::qga::Qga;

#[test]
fn ga_runs_a_command_and_prints_its_return_value() {
    let qga = Qga::start();
    let sock = qga.socket().to_str().unwrap();
    let out = qmp_ok(&["ga", sock, "guest-ping"], b"");
    assert_eq!(out, "{}\n");
    let out = qmp_ok(&["ga", sock, "guest-info"], b"");
    let info: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(info["version"], "7.2.22");
    assert!(
        out.starts_with("{\n  \"version\": \"7.2.22\","),
        "printed as json.dumps(indent=2): {out}"
    );
    // Arguments as JSON.
    let path = qga.dir().join("f.txt");
    std::fs::write(&path, b"abc").unwrap();
    let args = format!(r#"{{"path": "{}"}}"#, path.display());
    let handle = qmp_ok(&["ga", sock, "guest-file-open", &args], b"");
    assert!(handle.trim().parse::<i64>().is_ok(), "{handle}");
    // A blocked command: exit 1 with CLASS: desc.
    let out = qmp(&["ga", sock, "guest-set-time"], b"");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "CommandNotFound: Command guest-set-time has been disabled\n"
    );
    // Bad arguments: exit 2.
    let out = qmp(&["ga", sock, "guest-ping", "[1]"], b"");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn ga_exec_passes_output_and_exit_code_through() {
    let qga = Qga::start();
    let sock = qga.socket().to_str().unwrap();
    let out = qmp(
        &[
            "ga",
            "--timeout",
            "20",
            sock,
            "exec",
            "--",
            "/bin/sh",
            "-c",
            "printf 'a\\0b'; echo oops >&2; exit 7",
        ],
        b"",
    );
    assert_eq!(
        out.status.code(),
        Some(7),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, b"a\0b");
    assert_eq!(out.stderr, b"oops\n");
    let out = qmp(&["ga", sock, "exec", "--", "/bin/echo", "-n", "hi"], b"");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, b"hi");
}

#[test]
fn ga_times_out_on_a_silent_agent() {
    let qga = Qga::start();
    qga.pause();
    let started = std::time::Instant::now();
    let out = qmp(
        &[
            "ga",
            "--timeout",
            "0.5",
            qga.socket().to_str().unwrap(),
            "guest-ping",
        ],
        b"",
    );
    qga.resume();
    assert_eq!(out.status.code(), Some(4), "the tool's timeout status");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("timed out"),
        "{out:?}"
    );
}
