//! Helpers for the `qmp` binary's tests: running it, temp dirs, waiting for sockets.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The `qmp` binary built for these tests.
pub fn qmp_bin() -> &'static str {
    env!("CARGO_BIN_EXE_qmp")
}

/// Runs `qmp ARGS`, feeding `stdin`; returns its output whatever the exit status.
pub fn qmp(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(qmp_bin())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the qmp binary starts");
    let mut pipe = child.stdin.take().expect("stdin was piped");
    let input = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        // The binary may exit without reading (usage errors): ignore a broken pipe.
        let _ = pipe.write_all(&input);
    });
    let out = child.wait_with_output().expect("waiting for qmp");
    writer.join().expect("stdin writer");
    out
}

/// Runs `qmp ARGS`, asserting exit status 0; returns stdout.
pub fn qmp_ok(args: &[&str], stdin: &[u8]) -> String {
    let out = qmp(args, stdin);
    assert!(
        out.status.success(),
        "qmp {args:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("stdout is UTF-8")
}

/// A fresh, empty directory under the system temp dir, removed on drop. Its path is short,
/// as UNIX socket paths must be.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// Creates the directory.
    pub fn new() -> TempDir {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("qmpcli-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create a temp dir");
        TempDir(path)
    }

    /// A path inside it.
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Waits (at most 10 s) until a QMP server listens on the socket `path`: until a probe
/// is served ([`super::probe_greeting`]), not just until the file exists.
pub fn wait_for_listener(path: &Path) {
    let start = Instant::now();
    while let Err(e) = super::probe_greeting(path) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "nothing listens on {} after 10 s: {e}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A child process killed (by its own handle) when dropped.
pub struct Daemon(pub Child);

impl Daemon {
    /// Waits at most `secs` seconds for the process to exit by itself.
    pub fn wait_exit(&mut self, secs: u64) -> Option<std::process::ExitStatus> {
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.0.try_wait() {
                return Some(status);
            }
            if start.elapsed() > Duration::from_secs(secs) {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `qmp serve SOCKET` and waits for its socket.
pub fn serve(socket: &Path) -> Daemon {
    serve_with(socket, &[])
}

/// [`serve`] with more arguments for `qmp serve`.
#[allow(dead_code)]
pub fn serve_with(socket: &Path, args: &[&str]) -> Daemon {
    let child = Command::new(qmp_bin())
        .arg("serve")
        .arg(socket)
        .args(args)
        .stdin(Stdio::null())
        .spawn()
        .expect("qmp serve starts");
    let daemon = Daemon(child);
    wait_for_listener(socket);
    daemon
}
