//! `qmp shell`, `qmp exec`, `qmp events` and the tool's help against a live
//! qemu-storage-daemon: piped, and in a real terminal (tmux `send-keys` / `capture-pane`).
//! Each row of the README's table "qmp-shell against `qmp shell`" is checked here or in
//! the shell's unit tests (`src/bin/qmp/syntax/tests.rs`, `src/bin/qmp/shell.rs`).
//!
//! Needs `qemu-storage-daemon` (Debian: qemu-utils) and `tmux`: without them the tests fail,
//! saying so (`.ci/run` installs both).
#![cfg(feature = "cli")]

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::cli::{qmp, qmp_bin, qmp_ok, TempDir};
use common::qsd::Qsd;
use serde_json::{json, Value};

fn qsd() -> Qsd {
    Qsd::start().expect("these tests need qemu-storage-daemon: install qemu-utils")
}

fn sock(qsd: &Qsd) -> &str {
    qsd.socket().to_str().expect("a UTF-8 temp path")
}

/// Runs `qmp shell ARGS SOCKET` with `input` piped in; asserts exit 0; returns stdout.
fn shell(qsd: &Qsd, args: &[&str], input: &str) -> (String, String) {
    let mut all = vec!["shell"];
    all.extend_from_slice(args);
    all.push(sock(qsd));
    let out = qmp(&all, input.as_bytes());
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "qmp {all:?}: {stderr}");
    (String::from_utf8(out.stdout).expect("UTF-8"), stderr)
}

/// Every JSON document in `text`, events' timestamps removed.
fn docs(text: &str) -> Vec<Value> {
    serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .map(|v| {
            let mut v = v.expect("JSON output");
            if let Some(o) = v.as_object_mut() {
                o.remove("timestamp");
            }
            v
        })
        .collect()
}

#[test]
fn shell_takes_qmp_shell_syntax_piped() {
    let qsd = qsd();
    let img = qsd.dir().join("a.img");
    let input = format!(
        "blockdev-add driver=null-co node-name=n0 size=1048576 read-zeroes=True\n\
         blockdev-add driver=raw node-name=r0 file.driver=null-co file.size=4096 \
         file.node-name=f0 discard=unmap\n\
         transaction(\n\
         block-dirty-bitmap-add node=n0 name=b0 granularity=65536\n\
         block-dirty-bitmap-add node=n0 name=b1 persistent=false\n\
         )\n\
         transaction( block-dirty-bitmap-clear node=n0 name=b0 )\n\
         object-add qom-type=throttle-group id=t0 limits={{'iops-total':100,\"bps-total\":0}}\n\
         blockdev-create job-id=j0 options={{'driver':'file','filename':'{}','size':1048576}}\n\
         {{\"execute\": \"query-version\", \"id\": 1.0}}\n\
         {{\"execute\": \"query-named-block-nodes\", \"arguments\": {{\"flat\": true}}, \"id\": {{\"b\": [1e2], \"a\": \"x\"}}}}\n\
         no-such-command x=1\n\
         query-jobs\n",
        img.display()
    );
    let (out, err) = shell(&qsd, &[], &input);
    let got = docs(&out);
    let replies: Vec<&Value> = got.iter().filter(|d| d.get("event").is_none()).collect();
    assert_eq!(replies[0], &json!({"return": {}}), "{out}");
    // Dotted keys from the root: file.driver and file.size land in one `file` object.
    assert_eq!(replies[1], &json!({"return": {}}), "{out}");
    assert_eq!(replies[2], &json!({"return": {}}), "the transaction: {out}");
    assert_eq!(
        replies[3],
        &json!({"return": {}}),
        "the one-line transaction: {out}"
    );
    assert_eq!(
        replies[4],
        &json!({"return": {}}),
        "a Python literal: {out}"
    );
    assert_eq!(replies[5], &json!({"return": {}}), "blockdev-create: {out}");
    // A raw line's id comes back as QEMU echoes it, and is matched.
    assert_eq!(replies[6]["id"], json!(1), "{out}");
    assert!(replies[6]["return"]["qemu"]["major"].is_u64());
    assert_eq!(replies[7]["id"], json!({"a": "x", "b": [100]}), "{out}");
    let nodes = replies[7]["return"].as_array().expect("nodes");
    let node = |name: &str| nodes.iter().find(|n| n["node-name"] == name);
    assert_eq!(
        node("n0").expect("n0")["dirty-bitmaps"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(node("f0").expect("f0")["drv"], "null-co");
    assert_eq!(node("r0").expect("r0")["drv"], "raw");
    assert_eq!(
        replies[8],
        &json!({"error": {"class": "CommandNotFound",
                "desc": "The command no-such-command has not been found"}})
    );
    assert_eq!(replies[9]["return"][0]["id"], "j0", "{out}");
    // Events came as they arrived, with their data.
    assert!(
        got.iter().any(|d| d["event"] == "JOB_STATUS_CHANGE"
            && d["data"] == json!({"status": "concluded", "id": "j0"})),
        "{out}"
    );
    assert!(err.is_empty(), "{err}");
    assert!(img.exists(), "blockdev-create made the image");

    // Errors in a line are qmp-shell's: the line is refused, the shell goes on.
    let (out, err) = shell(
        &qsd,
        &[],
        "query-version a=1 a.b=2\nstop now\nquery-version\n",
    );
    assert_eq!(docs(&out).len(), 1, "{out}");
    assert!(
        err.contains("both leaf and non-leaf") && err.contains("expected a key=value pair"),
        "{err}"
    );
}

#[test]
fn shell_options_pretty_verbose_log_hmp() {
    let qsd = qsd();
    let dir = TempDir::new();
    let log = dir.join("qmp.log");
    let log_s = log.to_str().unwrap();
    // -v: the request as sent, and replies with the tool's ids.
    let (out, _) = shell(&qsd, &["-v", "-l", log_s], "query-version\n");
    let got = docs(&out);
    assert_eq!(
        got[0],
        json!({"execute": "query-version", "arguments": {}}),
        "{out}"
    );
    assert_eq!(got[1]["id"], "__qmp#00001", "{out}");
    // -l: every message each way.
    let text = std::fs::read_to_string(&log).expect("the log");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].starts_with("-> {\"execute\":\"query-version\""),
        "{text}"
    );
    assert!(lines[1].starts_with("<- {\"return\":{\"qemu\""), "{text}");
    // -p: indented; without -v, no ids.
    let (out, _) = shell(&qsd, &["-p"], "query-version\n");
    assert!(
        out.starts_with("{\n  \"return\": {\n    \"qemu\": {\n"),
        "{out}"
    );
    assert!(!out.contains("__qmp#"), "{out}");
    // -H: lines go to human-monitor-command (which qemu-storage-daemon does not have).
    let (out, _) = shell(&qsd, &["-H"], "info version\n");
    assert_eq!(
        out,
        "CommandNotFound: The command human-monitor-command has not been found\n"
    );
}

#[test]
fn exec_and_events_live() {
    let qsd = qsd();
    let s = sock(&qsd);
    assert_eq!(
        qmp_ok(
            &[
                "exec",
                s,
                "blockdev-add",
                "driver=null-co",
                "node-name=n0",
                "size=1048576"
            ],
            b""
        ),
        "{}\n"
    );
    let nodes: Value = serde_json::from_str(&qmp_ok(
        &["exec", s, "query-named-block-nodes", "flat=true"],
        b"",
    ))
    .unwrap();
    assert_eq!(nodes[0]["node-name"], "n0");
    // Options may follow key=value arguments.
    let nodes: Value = serde_json::from_str(&qmp_ok(
        &[
            "exec",
            s,
            "query-named-block-nodes",
            "flat=true",
            "--timeout",
            "5",
        ],
        b"",
    ))
    .unwrap();
    assert_eq!(nodes[0]["node-name"], "n0");
    // A job's events, while `qmp events` holds the monitor in another process... which it
    // cannot: QEMU serves one client at a time. `qmp exec` says so instead of hanging.
    let mut events = Command::new(qmp_bin())
        .args(["events", s, "--count", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("qmp events starts");
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let out = qmp(&["exec", s, "query-version", "--timeout", "1"], b"");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(
        err.contains(&format!("no greeting from {s} within 1 s"))
            && err.contains("serves one client at a time"),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    let _ = events.kill();
    let _ = events.wait();
}

#[test]
fn exit_codes_in_help_and_readme() {
    let help = qmp_ok(&["--help"], b"");
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    for (code, meaning) in [
        ("0", "success"),
        ("1", "the QMP server answered with an error"),
        ("2", "usage"),
        ("3", "connection"),
        ("4", "timeout"),
    ] {
        assert!(
            help.contains(&format!("  {code}  {meaning}")),
            "--help: {code}\n{help}"
        );
        assert!(
            readme.contains(&format!("| {code} | {meaning}")),
            "README.md lacks the row for exit status {code}"
        );
    }
    for sub in ["exec", "events", "shell", "decode", "completions"] {
        let text = qmp_ok(&[sub, "--help"], b"");
        assert!(text.contains("Examples:"), "qmp {sub} --help has examples");
    }
    assert!(readme.contains("cargo install --path . --features cli"));
    // Usage errors exit 2, every time.
    for args in [
        &["exec"][..],
        &["events", "/x", "--format", "yaml"],
        &["shell"],
        &["completions", "tcsh"],
    ] {
        assert_eq!(qmp(args, b"").status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn completions_for_bash_zsh_fish() {
    for shell in ["bash", "zsh", "fish"] {
        let script = qmp_ok(&["completions", shell], b"");
        for word in ["exec", "events", "shell", "filter", "pretty", "completions"] {
            assert!(script.contains(word), "{shell}: {word}");
        }
    }
    // The bash script loads and registers the completion.
    let dir = TempDir::new();
    let path = dir.join("qmp.bash");
    std::fs::write(&path, qmp_ok(&["completions", "bash"], b"")).unwrap();
    let out: Output = Command::new("bash")
        .arg("-c")
        .arg(format!("source {} && complete -p qmp", path.display()))
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("qmp"));
}

/// A tmux server of our own (its own socket name), killed on drop.
struct Tmux {
    name: String,
}

impl Tmux {
    fn start(command: &str, env: &[(&str, &str)]) -> Tmux {
        let name = format!("qmp-test-{}-{}", std::process::id(), rand_suffix());
        let mut cmd = Command::new("tmux");
        cmd.args([
            "-L",
            &name,
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            "160",
            "-y",
            "50",
        ])
        .env_remove("TMUX");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut full = String::new();
        for (k, v) in env {
            full.push_str(&format!("{k}={v} "));
        }
        full.push_str(command);
        cmd.arg(format!("env {full}"));
        let status = cmd.status().unwrap_or_else(|e| {
            panic!("this test drives a terminal with tmux, which does not run ({e}): install tmux")
        });
        assert!(status.success(), "tmux new-session failed");
        Tmux { name }
    }

    fn keys(&self, keys: &[&str]) {
        let status = Command::new("tmux")
            .args(["-L", &self.name, "send-keys", "-t", "t"])
            .args(keys)
            .status()
            .expect("tmux send-keys");
        assert!(status.success());
    }

    fn pane(&self) -> String {
        let out = Command::new("tmux")
            .args([
                "-L",
                &self.name,
                "capture-pane",
                "-p",
                "-J",
                "-t",
                "t",
                "-S",
                "-200",
            ])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits (at most 10 s) until the pane shows `text`; returns the pane.
    fn wait_for(&self, text: &str) -> String {
        let start = Instant::now();
        loop {
            let pane = self.pane();
            if pane.contains(text) {
                return pane;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "the terminal never showed {text:?}:\n{pane}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the pane shows its `n`th prompt line (counting from 1), bare: the
    /// shell reads again. Keys typed while a command runs are not read ahead (the line
    /// editor switches the terminal to raw mode per line), so a test waits for this.
    fn wait_prompt(&self, prompt: &str, n: usize) -> String {
        let start = Instant::now();
        loop {
            let pane = self.pane();
            let prompts = pane
                .lines()
                .filter(|l| l.starts_with("(QEMU)") || l.starts_with("TRANS>"))
                .count();
            let last = pane.lines().rev().find(|l| !l.trim().is_empty());
            if prompts >= n && last.map(str::trim_end) == Some(prompt.trim_end()) {
                return pane;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "no {prompt:?} prompt:\n{pane}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.name, "kill-server"])
            .status();
    }
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

#[test]
fn shell_in_a_terminal() {
    let qsd = qsd();
    let home = TempDir::new();
    let home_s = home.0.to_str().unwrap().to_owned();
    let img = qsd.dir().join("t.img");
    let command = format!("{} shell {}", qmp_bin(), sock(&qsd));
    let t = Tmux::start(&command, &[("HOME", &home_s), ("TERM", "xterm")]);
    t.wait_for("Connected to QEMU");
    t.wait_prompt("(QEMU) ", 1);
    // Tab completes a command name from query-commands.
    t.keys(&["query-ver", "Tab"]);
    t.wait_for("(QEMU) query-version");
    t.keys(&["Enter"]);
    t.wait_for("{\"return\": {\"qemu\": {");
    t.wait_prompt("(QEMU) ", 2);
    // Argument names, dotted members and enum values complete from the server's schema.
    t.keys(&["blockdev-add dri", "Tab"]);
    t.wait_for("(QEMU) blockdev-add driver=");
    t.keys(&["null-c", "Tab"]);
    t.wait_for("(QEMU) blockdev-add driver=null-co");
    t.keys(&[" node-na", "Tab"]);
    t.wait_for("(QEMU) blockdev-add driver=null-co node-name=");
    t.keys(&["n0 cache.dir", "Tab"]);
    t.wait_for("(QEMU) blockdev-add driver=null-co node-name=n0 cache.direct=");
    // Back to an empty line (Ctrl-U), then the command itself.
    t.keys(&["C-u"]);
    // A transaction over several lines, with its own prompt.
    t.keys(&[
        "blockdev-add driver=null-co node-name=n0 size=1048576",
        "Enter",
    ]);
    t.wait_prompt("(QEMU) ", 3);
    t.keys(&["transaction(", "Enter"]);
    t.wait_prompt("TRANS> ", 4);
    t.keys(&["block-dirty-bitmap-add node=n0 name=b0", "Enter"]);
    t.wait_prompt("TRANS> ", 5);
    t.keys(&[")", "Enter"]);
    let pane = t.wait_prompt("(QEMU) ", 6);
    assert_eq!(pane.matches("{\"return\": {}}").count(), 2, "{pane}");
    // Events are shown the moment they arrive, while the prompt waits: the job's later
    // events come after its reply, with no key pressed.
    let line = format!(
        "blockdev-create job-id=j0 options={{'driver':'file','filename':'{}','size':1048576}}",
        img.display()
    );
    t.keys(&[&line, "Enter"]);
    let pane = t.wait_for("\"status\": \"concluded\"");
    assert!(pane.contains("\"event\": \"JOB_STATUS_CHANGE\""), "{pane}");
    assert!(
        !pane.contains("__qmp#"),
        "replies without the tool's ids:\n{pane}"
    );
    // An empty line is fine (shows pending events, here none).
    t.wait_prompt("(QEMU) ", 7);
    t.keys(&["Enter"]);
    t.wait_prompt("(QEMU) ", 8);
    t.keys(&["C-d"]);
    // History persists: a new shell recalls the last command with Up.
    let history = std::fs::read_to_string(home.join(".qmp_history")).unwrap_or_default();
    let start = Instant::now();
    let mut history = history;
    while !history.contains("blockdev-create job-id=j0") {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "history: {history:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
        history = std::fs::read_to_string(home.join(".qmp_history")).unwrap_or_default();
    }
    assert!(history.contains("query-version"), "{history}");
    drop(t);
    let t = Tmux::start(&command, &[("HOME", &home_s), ("TERM", "xterm")]);
    t.wait_prompt("(QEMU) ", 1);
    t.keys(&["Up"]);
    t.wait_for("(QEMU) blockdev-create job-id=j0");
    t.keys(&["C-u", "C-d"]);
}
