//! Shared helpers for the integration tests: test data, captures and the Python oracles.
//!
//! Use it from a test crate with `mod common;`. Every path is relative to the crate root, so
//! the tests run from a plain checkout (no access to anything outside the crate).
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use serde_json::Value;

#[cfg(feature = "cli")]
pub mod cli;
pub mod oracle;
#[cfg(unix)]
pub mod qga;
pub mod qsd;
pub mod walk;

/// One probe of a QMP server's socket `path`: connects and reads the greeting line (so the
/// server has served this probe whole before a test's own connection comes), then leaves.
/// The socket file exists from `bind`, a moment before `listen`: until then the connection
/// is refused, which is the error returned.
#[cfg(unix)]
pub fn probe_greeting(path: &Path) -> std::io::Result<()> {
    let mut probe = std::os::unix::net::UnixStream::connect(path)?;
    probe.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
    let mut byte = [0u8; 1];
    while matches!(std::io::Read::read(&mut probe, &mut byte), Ok(1)) {
        if byte[0] == b'\n' {
            break;
        }
    }
    Ok(())
}

/// `tests/data/<rel>` under the crate root.
pub fn data_path(rel: impl AsRef<Path>) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("data")
        .join(rel)
}

/// The bytes of `tests/data/<rel>`, panicking with the path if it cannot be read.
pub fn read_data(rel: impl AsRef<Path>) -> Vec<u8> {
    let path = data_path(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Whether the tests run in CI (`CI` set and not empty), where missing tools fail the run.
pub fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

/// Whether an oracle test may skip when its oracle is missing: only with `QMP_ALLOW_SKIP=1`,
/// and never in CI.
pub fn skip_allowed() -> bool {
    !in_ci() && std::env::var_os("QMP_ALLOW_SKIP").is_some_and(|v| v == "1")
}

/// An oracle is missing: panics with `what` and how to provide it, unless skipping is allowed
/// ([`skip_allowed`]), where it says on stderr that the test skips and returns. A test never
/// passes by skipping unless the environment asked for it.
pub fn missing_oracle(what: &str, how: &str) {
    if skip_allowed() {
        eprintln!("skipping (QMP_ALLOW_SKIP=1): {what}");
        return;
    }
    panic!(
        "{what}.\n{how}\nRun the tests with `scripts/test`, which makes the Python venv \
         (target/pyvenv from tests/python/requirements.txt, exported as QMP_PYTHON) and checks \
         for qemu-storage-daemon; or set QMP_ALLOW_SKIP=1 to let oracle tests skip instead \
         (ignored when CI is set)."
    );
}

/// The Python interpreter for the oracles: `$QMP_PYTHON` when set (`scripts/test` points it at
/// a venv with `tests/python/requirements.txt`), else `python3` if it runs. A missing Python
/// fails the test ([`missing_oracle`]); `None` only when skipping is allowed.
pub fn python() -> Option<PathBuf> {
    static PYTHON: OnceLock<Option<PathBuf>> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            if let Some(p) = std::env::var_os("QMP_PYTHON").filter(|p| !p.is_empty()) {
                let p = PathBuf::from(p);
                assert!(
                    runs(&p, &["--version"]),
                    "QMP_PYTHON={} does not run",
                    p.display()
                );
                return Some(p);
            }
            let p = PathBuf::from("python3");
            if runs(&p, &["--version"]) {
                return Some(p);
            }
            missing_oracle(
                "no Python: QMP_PYTHON is not set and python3 does not run",
                "Install python3, or set QMP_PYTHON to a Python 3 interpreter.",
            );
            None
        })
        .clone()
}

/// `python()` if it can `import qemu.qmp` (the reference library, needed by
/// `tests/python/models.py` and `serve_client.py`). A missing package fails the test
/// ([`missing_oracle`]); `None` only when skipping is allowed.
pub fn python_with_qemu_qmp() -> Option<PathBuf> {
    static PYTHON: OnceLock<Option<PathBuf>> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            let p = python()?;
            if runs(&p, &["-c", "import qemu.qmp"]) {
                return Some(p);
            }
            missing_oracle(
                &format!("{} cannot import qemu.qmp", p.display()),
                "Install it: python3 -m venv target/pyvenv && target/pyvenv/bin/pip install -r \
                 tests/python/requirements.txt, then export QMP_PYTHON=$PWD/target/pyvenv/bin/python.",
            );
            None
        })
        .clone()
}

fn runs(program: &Path, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `tests/python/<script>` with `python`, feeding `input` on stdin; returns its stdout.
/// Panics (with stderr) if the script fails.
pub fn run_python(python: &Path, script: &str, args: &[&str], input: &[u8]) -> String {
    let script_path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("python")
        .join(script);
    let mut child = Command::new(python)
        .arg(&script_path)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {} {script}: {e}", python.display()));
    let mut stdin = child.stdin.take().expect("stdin was piped above");
    let input = input.to_vec();
    // Write from another thread so a large output cannot deadlock against a large input.
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().expect("waiting for the oracle");
    writer
        .join()
        .expect("stdin writer thread")
        .unwrap_or_else(|e| panic!("writing to {script}: {e}"));
    assert!(
        out.status.success(),
        "{script} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("oracle output is UTF-8")
}

/// Parses a JSON Lines file under `tests/data/` (blank lines are skipped).
pub fn read_jsonl(rel: impl AsRef<Path>) -> Vec<Value> {
    let rel = rel.as_ref();
    let bytes = read_data(rel);
    let text = std::str::from_utf8(&bytes)
        .unwrap_or_else(|e| panic!("{} is not UTF-8: {e}", rel.display()));
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("{} line {}: {e}", rel.display(), i + 1))
        })
        .collect()
}

/// `tests/data/corpus/<capture>/expect.jsonl`: one object per server message (see
/// `tests/data/README.md` for the fields: `seq`, `offset`, `len`, `body_len`, `kind`, …).
pub fn read_expect(capture: &str) -> Vec<Value> {
    read_jsonl(Path::new("corpus").join(capture).join("expect.jsonl"))
}

/// A server capture under `tests/data/corpus/<name>/` (`qsd` or `qsd-pretty`).
pub struct Capture {
    /// Every byte the server sent.
    pub stream: Vec<u8>,
    /// One object per message, in stream order.
    pub expect: Vec<Value>,
    /// One object per client case (`index`, `name`, `session`, `description`, `writes`, `messages`).
    pub cases: Vec<Value>,
    /// Measured facts (`messages`, `stream_bytes`, `messages_by_kind`, …).
    pub facts: Value,
}

impl Capture {
    /// Loads `tests/data/corpus/<name>/`.
    pub fn load(name: &str) -> Capture {
        let dir = Path::new("corpus").join(name);
        let facts = read_data(dir.join("facts.json"));
        Capture {
            stream: read_data(dir.join("stream.bin")),
            expect: read_expect(name),
            cases: read_jsonl(dir.join("cases.jsonl")),
            facts: serde_json::from_slice(&facts).expect("facts.json is JSON"),
        }
    }

    /// Each message's bytes, terminator included, cut at the `offset`/`len` of expect.jsonl.
    pub fn messages(&self) -> Vec<&[u8]> {
        messages(&self.stream, &self.expect)
    }
}

/// The `u64` field `key` of an expect.jsonl / cases.jsonl object, as a `usize`.
pub fn field(v: &Value, key: &str) -> usize {
    let n = v
        .get(key)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("no unsigned field {key:?} in {v}"));
    usize::try_from(n).expect("fits in usize")
}

/// Cuts `stream` into messages at the `offset`/`len` of each expect.jsonl entry (terminator
/// included). Panics if the entries do not tile the stream exactly.
pub fn messages<'a>(stream: &'a [u8], expect: &[Value]) -> Vec<&'a [u8]> {
    let mut pos = 0;
    let mut out = Vec::with_capacity(expect.len());
    for m in expect {
        let (offset, len) = (field(m, "offset"), field(m, "len"));
        assert_eq!(offset, pos, "gap or overlap before message {m}");
        out.push(&stream[offset..offset + len]);
        pos += len;
    }
    assert_eq!(
        pos,
        stream.len(),
        "expect.jsonl does not reach the end of the stream"
    );
    out
}

/// Cuts a stream after every `\r\n`; each piece keeps its `\r\n` (a trailing piece without
/// one is kept as is). For the `qsd` capture these are exactly the messages of expect.jsonl;
/// for `qsd-pretty` they are the lines of each message.
pub fn split_lines(stream: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + 1 < stream.len() {
        if stream[i] == b'\r' && stream[i + 1] == b'\n' {
            out.push(&stream[start..i + 2]);
            start = i + 2;
            i += 2;
        } else {
            i += 1;
        }
    }
    if start < stream.len() {
        out.push(&stream[start..]);
    }
    out
}

/// Decodes standard base64 (with `=` padding), as in cases.jsonl `writes[].b64`.
pub fn b64decode(s: &str) -> Vec<u8> {
    fn val(c: u8) -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("invalid base64 byte {c:#04x}"),
        }
    }
    let s = s.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    for chunk in s.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= val(c) << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    out
}

/// The bytes a case wrote, all writes concatenated.
pub fn case_bytes(case: &Value) -> Vec<u8> {
    case["writes"]
        .as_array()
        .expect("writes is an array")
        .iter()
        .flat_map(|w| b64decode(w["b64"].as_str().expect("b64 is a string")))
        .collect()
}
