//! A live `qemu-storage-daemon` for the transport tests: started in its own temporary
//! directory with a QMP monitor on a Unix socket, killed and cleaned up on drop.
//!
//! A missing binary fails the test with how to install it (`Qsd::start` gives `None`, so the
//! test returns, only when `QMP_ALLOW_SKIP=1` allows skipping: see `missing_oracle`).
//! `QMP_QSD` may name the binary.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::missing_oracle;

/// A running daemon; its monitor socket is [`Qsd::socket`].
pub struct Qsd {
    child: Child,
    dir: PathBuf,
    socket: PathBuf,
}

/// How to provide the daemon, for [`missing_oracle`].
pub const QSD_HOW: &str =
    "Install qemu-storage-daemon (Debian and Ubuntu ship it in qemu-utils), or set QMP_QSD to it.";

/// The daemon binary, if it runs (`QMP_QSD`, else `qemu-storage-daemon` on `PATH`).
pub fn binary() -> Option<PathBuf> {
    static BINARY: OnceLock<Option<PathBuf>> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            let bin = std::env::var_os("QMP_QSD")
                .filter(|p| !p.is_empty())
                .map_or_else(|| PathBuf::from("qemu-storage-daemon"), PathBuf::from);
            let ok = Command::new(&bin)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                return Some(bin);
            }
            missing_oracle(&format!("{} does not run", bin.display()), QSD_HOW);
            None
        })
        .clone()
}

impl Qsd {
    /// Starts a daemon with one QMP monitor (`--chardev socket,…,server=on,wait=off
    /// --monitor chardev=c0`) and waits for its socket. `None` when the binary is missing
    /// and skipping is allowed (`QMP_ALLOW_SKIP=1`); otherwise a missing binary panics.
    pub fn start() -> Option<Qsd> {
        Self::start_with(&[])
    }

    /// Like [`start`](Self::start), with extra monitor options (e.g. `pretty=on`).
    pub fn start_with(monitor_options: &[&str]) -> Option<Qsd> {
        Self::start_opts(monitor_options, false)
    }

    /// Like [`start`](Self::start), for fuzzing: when the tests run as root the daemon runs
    /// as `nobody` (through `setpriv`), with its temporary directory, which is also its
    /// working directory, handed to that user.
    #[allow(dead_code)]
    pub fn start_unprivileged() -> Option<Qsd> {
        Self::start_opts(&[], true)
    }

    fn start_opts(monitor_options: &[&str], unprivileged: bool) -> Option<Qsd> {
        let bin = binary()?;
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "qmp-codec-qsd-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        let socket = dir.join("qmp.sock");
        let log = std::fs::File::create(dir.join("stderr.log")).expect("stderr log");
        let mut monitor = String::from("chardev=c0");
        for option in monitor_options {
            monitor.push(',');
            monitor.push_str(option);
        }
        let as_root = unprivileged && is_root();
        if as_root {
            let ok = Command::new("chown")
                .arg("nobody:nogroup")
                .arg(&dir)
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "cannot hand {} to nobody", dir.display());
        }
        let mut command = if as_root {
            let mut c = Command::new("setpriv");
            c.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
                .arg(&bin);
            c
        } else {
            Command::new(&bin)
        };
        if unprivileged {
            command.current_dir(&dir);
        }
        let child = command
            .arg("--chardev")
            .arg(format!(
                "socket,path={},server=on,wait=off,id=c0",
                socket.display()
            ))
            .arg("--monitor")
            .arg(monitor)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let mut qsd = Qsd { child, dir, socket };
        qsd.wait_for_socket();
        Some(qsd)
    }

    fn wait_for_socket(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        // Until a probe is served, not just until the socket file exists.
        loop {
            if super::probe_greeting(&self.socket).is_ok() {
                break;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                let log = std::fs::read_to_string(self.dir.join("stderr.log")).unwrap_or_default();
                panic!("qemu-storage-daemon exited with {status} before listening: {log}");
            }
            assert!(
                Instant::now() < deadline,
                "qemu-storage-daemon did not listen on {} within 20 s",
                self.socket.display()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The QMP monitor socket.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// The daemon's private temporary directory (for image files and the like).
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Whether this process runs as root (`id -u` prints 0).
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

impl Qsd {
    /// Whether the daemon is still running.
    #[allow(dead_code)]
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The daemon's stderr so far.
    #[allow(dead_code)]
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("stderr.log")).unwrap_or_default()
    }
}

impl Drop for Qsd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
