//! `qmp exec` against a live `qemu-storage-daemon` started in a temp dir. Without the daemon
//! the test fails, unless `QMP_ALLOW_SKIP=1` lets it skip (`common::missing_oracle`).
#![cfg(feature = "cli")]

mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};

use common::cli::{qmp, qmp_ok, wait_for_listener, Daemon, TempDir};
use serde_json::{json, Value};

/// The daemon (`common::qsd::binary`, so `QMP_QSD` is honoured) and its `--version`'s first
/// line; `None` (skip) when it does not run and skipping is allowed.
fn daemon_version() -> Option<(PathBuf, String)> {
    let bin = common::qsd::binary()?;
    let out = Command::new(&bin)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{} --version: {e}", bin.display()));
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().next().unwrap_or("").to_owned();
    Some((bin, line))
}

#[test]
fn exec_against_qemu_storage_daemon() {
    let Some((bin, version_line)) = daemon_version() else {
        eprintln!("skipped: qemu-storage-daemon not found");
        return;
    };
    let dir = TempDir::new();
    let socket = dir.join("qsd.sock");
    let sock = socket.to_str().unwrap().to_owned();
    let child = Command::new(&bin)
        .arg("--chardev")
        .arg(format!("socket,path={sock},server=on,wait=off,id=c0"))
        .args(["--monitor", "chardev=c0"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("qemu-storage-daemon starts");
    let _daemon = Daemon(child);
    wait_for_listener(&socket);

    // query-version: the version the binary reports.
    let v: Value = serde_json::from_str(&qmp_ok(&["exec", &sock, "query-version"], b"")).unwrap();
    let q = &v["qemu"];
    let triple = format!("{}.{}.{}", q["major"], q["minor"], q["micro"]);
    assert!(
        version_line.contains(&triple),
        "{triple} not in {version_line:?}"
    );

    // Arguments with escapes that decode to a valid node name and driver.
    let args = r#"{"driver": "null\u002dco", "node-name": "n\u0030", "size": 1048576}"#;
    assert_eq!(qmp_ok(&["exec", &sock, "blockdev-add", args], b""), "{}\n");
    let nodes: Value =
        serde_json::from_str(&qmp_ok(&["exec", &sock, "query-named-block-nodes"], b"")).unwrap();
    let node = nodes
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["node-name"] == "n0")
        .expect("the node just added");
    assert_eq!(node["drv"], "null-co");
    assert_eq!(node["image"]["virtual-size"], json!(1048576));

    // The same node again: a QMP error, exit 1, `CLASS: desc` on stderr.
    let out = qmp(&["exec", &sock, "blockdev-add", args], b"");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.starts_with("GenericError: "), "{err}");
    assert!(err.contains("n0"), "{err}");

    let out = qmp(&["exec", &sock, "no-such-command"], b"");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "CommandNotFound: The command no-such-command has not been found\n"
    );
    assert!(out.stdout.is_empty());

    // A large reply (the schema), printed as Python's json.dumps(indent=2).
    let schema = qmp_ok(&["exec", &sock, "query-qmp-schema"], b"");
    assert!(schema.len() > 100_000, "{} bytes", schema.len());
    assert!(schema.starts_with("[\n  {\n    \""));
    let parsed: Value = serde_json::from_str(&schema).unwrap();
    assert!(parsed.as_array().unwrap().len() > 500);
    assert!(parsed
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["name"] == "blockdev-add" && e["meta-type"] == "command"));
    if let Some(python) = common::python() {
        // One line for the oracle, key order kept: newlines in the output are all layout
        // (strings escape theirs).
        let line = schema.trim_end().replace('\n', " ") + "\n";
        let oracle = common::run_python(&python, "json_dumps.py", &[], line.as_bytes());
        let pair: Value = serde_json::from_str(oracle.trim_end()).unwrap();
        assert!(
            pair[0].as_str().unwrap().to_owned() + "\n" == schema,
            "the schema differs from Python's json.dumps(indent=2)"
        );
    }
}
