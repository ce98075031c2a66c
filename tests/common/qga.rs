//! A live qemu-ga (QEMU guest agent) for the agent tests: started outside any VM in its own
//! temporary directory, listening on a Unix socket, killed and cleaned up on drop.
//!
//! qemu-ga acts on the machine it runs on, as root: it is always started with `-b`
//! [`BLOCKLIST`], and the tests only `guest-exec` harmless programs.
//!
//! A missing binary FAILS the test with a message saying how to install it: these tests
//! never pass by skipping. `QMP_QGA` may name the binary (else `qemu-ga` on `PATH`, then
//! `/usr/sbin/qemu-ga`, where Debian's `qemu-guest-agent` installs it).

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use qmp_codec::agent::commands::AgentCommand;
use qmp_codec::agent::{Agent, AgentConfig, AgentEvent, Reply};

/// Commands that would act on this machine: always blocked.
pub const BLOCKLIST: &str = "guest-shutdown,guest-suspend-disk,guest-suspend-ram,\
guest-suspend-hybrid,guest-set-time,guest-fsfreeze-freeze,guest-fsfreeze-freeze-list,\
guest-set-user-password,guest-set-vcpus,guest-set-memory-blocks";

const HOW_TO: &str = "qemu-ga not found: install Debian's qemu-guest-agent \
(`apt-get install -y qemu-guest-agent`, or `apt-get download qemu-guest-agent && \
dpkg-deb -x qemu-guest-agent_*.deb DIR` and set QMP_QGA=DIR/usr/sbin/qemu-ga); \
`.ci/run` installs it with CI=1";

/// The agent binary (`QMP_QGA`, else `qemu-ga` on `PATH`, else `/usr/sbin/qemu-ga`).
fn binary() -> PathBuf {
    static BINARY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            let candidates: Vec<PathBuf> =
                match std::env::var_os("QMP_QGA").filter(|p| !p.is_empty()) {
                    Some(p) => vec![PathBuf::from(p)],
                    None => vec![PathBuf::from("qemu-ga"), PathBuf::from("/usr/sbin/qemu-ga")],
                };
            for bin in &candidates {
                let ok = Command::new(bin)
                    .arg("--version")
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success());
                if ok {
                    return Ok(bin.clone());
                }
            }
            Err(format!("{HOW_TO} (tried {candidates:?})"))
        })
        .clone()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A running agent; its socket is [`Qga::socket`].
pub struct Qga {
    child: Child,
    dir: PathBuf,
    socket: PathBuf,
}

impl Qga {
    /// Starts `qemu-ga -m unix-listen -p SOCK -t STATEDIR -f PIDFILE -b BLOCKLIST` in a new
    /// temporary directory and waits for its socket.
    pub fn start() -> Qga {
        // Fails with the how-to message before anything is created.
        binary();
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "qmp-codec-qga-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("state"))
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        let socket = dir.join("qga.sock");
        let child = spawn(&dir, &socket);
        let mut qga = Qga { child, dir, socket };
        qga.wait_for_socket();
        qga
    }

    /// Kills the agent and starts a new one on the same socket (a guest reboot, as a client
    /// sees it).
    pub fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.socket);
        self.child = spawn(&self.dir, &self.socket);
        self.wait_for_socket();
    }

    fn wait_for_socket(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while UnixStream::connect(&self.socket).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                let log = std::fs::read_to_string(self.dir.join("stderr.log")).unwrap_or_default();
                panic!("qemu-ga exited with {status} before listening: {log}");
            }
            assert!(
                Instant::now() < deadline,
                "qemu-ga did not listen on {} within 20 s",
                self.socket.display()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        // That probe connection was the agent's one client; it is gone once we return
        // (the agent notices the close before it serves the next client).
    }

    /// Stops the agent process (`SIGSTOP`): it reads and answers nothing until
    /// [`resume`](Self::resume), like a guest that stalls.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Lets a paused agent run again (`SIGCONT`).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, sig: &str) {
        let status = Command::new("kill")
            .arg(sig)
            .arg(self.child.id().to_string())
            .status()
            .expect("kill");
        assert!(status.success(), "kill {sig} failed");
    }

    /// The agent's socket.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// The agent's private temporary directory (for files the tests let it read and write).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A connected, not yet synced session.
    pub fn connect(&self) -> Session {
        Session::connect(&self.socket)
    }
}

fn spawn(dir: &Path, socket: &Path) -> Child {
    let bin = binary();
    let log = std::fs::File::create(dir.join("stderr.log")).expect("stderr log");
    Command::new(&bin)
        .arg("-m")
        .arg("unix-listen")
        .arg("-p")
        .arg(socket)
        .arg("-t")
        .arg(dir.join("state"))
        .arg("-f")
        .arg(dir.join("qga.pid"))
        .arg("-b")
        .arg(BLOCKLIST)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()))
}

impl Drop for Qga {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// An [`Agent`] engine over a Unix socket, for the engine-level live tests, which watch
/// every engine event (stale frames, notices) that a transport keeps to itself.
///
/// NOTE: [`Session::run`] is a small read/write-out loop of the test suite's own (written
/// before the driver landed). The transport is tested through `transport::agent` on the
/// crate's one loop (`tests/agent_transport.rs`, `tests/cli_ga.rs`); this loop only exists
/// because `blocking::drive` is crate-private and reports no per-event hook.
pub struct Session {
    pub agent: Agent<'static>,
    stream: UnixStream,
    epoch: Instant,
    /// Every event, described, in order.
    pub log: Vec<String>,
}

/// One line per event, for the session log.
pub fn describe(event: &AgentEvent<'_>) -> String {
    match event {
        AgentEvent::Synced { id } => format!("synced {id}"),
        AgentEvent::Reply(r) => format!("reply {} {}", r.id(), r.message().compact()),
        AgentEvent::Sent(id) => format!("sent {id}"),
        AgentEvent::NoReplyFailed(r) => {
            format!("no-reply-failed {} {}", r.id(), r.message().compact())
        }
        AgentEvent::Stale(Ok(b)) => format!("stale {}", String::from_utf8_lossy(b)),
        AgentEvent::Stale(Err(e)) => format!("stale-frame {e:?}"),
        AgentEvent::Unmatched { message, reason } => {
            format!("unmatched {reason:?} {}", message.compact())
        }
        AgentEvent::TimedOut(id) => format!("timed-out {id}"),
        AgentEvent::SyncTimedOut { id } => format!("sync-timed-out {id}"),
        AgentEvent::Interrupted(id) => format!("interrupted {id}"),
        AgentEvent::Closed => "closed".to_string(),
        other => format!("{other:?}"),
    }
}

impl Session {
    /// Connects (the agent may not serve us yet: it has one client at a time).
    pub fn connect(socket: &Path) -> Session {
        let stream = UnixStream::connect(socket)
            .unwrap_or_else(|e| panic!("cannot connect to {}: {e}", socket.display()));
        // Sync ids seeded from the clock, as on a channel shared with earlier clients.
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_millis() as u64);
        let agent = Agent::with_capacity(
            1 << 20,
            64 << 10,
            AgentConfig::new().with_first_sync_id(seed),
        )
        .expect("buffers");
        Session {
            agent,
            stream,
            epoch: Instant::now(),
            log: Vec::new(),
        }
    }

    /// Milliseconds since the session started: the engine's clock.
    pub fn now(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// A new connection for the same engine (the agent restarted): the engine starts over,
    /// unsynced, with its ids still counting.
    pub fn reconnect(&mut self, socket: &Path) {
        self.stream = UnixStream::connect(socket)
            .unwrap_or_else(|e| panic!("cannot connect to {}: {e}", socket.display()));
        self.agent.reconnect();
    }

    /// Writes raw bytes past the engine (garbage, half commands).
    pub fn write_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    /// Drives the engine until `pick` returns something or `limit` passes (then `None`).
    /// Every event is logged. The engine's own deadlines are handled on the way.
    pub fn run<R>(
        &mut self,
        limit: Duration,
        mut pick: impl FnMut(&AgentEvent<'_>) -> Option<R>,
    ) -> Option<R> {
        let until = Instant::now() + limit;
        loop {
            while !self.agent.pending_transmit().is_empty() {
                let n = self
                    .stream
                    .write(self.agent.pending_transmit())
                    .expect("write");
                self.agent.consume_transmit(n);
            }
            let now = self.now();
            self.agent.handle_timeout(now);
            while let Some(event) = self.agent.poll_event() {
                self.log.push(describe(&event));
                if let Some(r) = pick(&event) {
                    return Some(r);
                }
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            let wake = self.agent.poll_timeout().map_or(left, |d| {
                Duration::from_millis(d.saturating_sub(now)).min(left)
            });
            self.stream
                .set_read_timeout(Some(wake.max(Duration::from_millis(1))))
                .expect("timeout");
            match self.stream.read(self.agent.spare()) {
                Ok(0) => self.agent.handle_eof(),
                Ok(n) => self.agent.commit(n),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                    self.agent.handle_eof()
                }
                Err(e) => panic!("read: {e}"),
            }
        }
    }

    /// Syncs within `timeout`: the sync id, or `None` when the agent did not answer.
    pub fn sync(&mut self, timeout: Duration) -> Option<u64> {
        let deadline = self.now() + timeout.as_millis() as u64;
        let id = self.agent.sync(Some(deadline)).expect("sync");
        self.run(timeout + Duration::from_secs(1), |e| match e {
            AgentEvent::Synced { id: got } if *got == id => Some(Some(id)),
            AgentEvent::SyncTimedOut { .. } | AgentEvent::Closed => Some(None),
            _ => None,
        })
        .flatten()
    }

    /// Sends a typed command and hands its reply to `read` (panics on a timeout or a closed
    /// session, with the log).
    pub fn call<C: AgentCommand, R>(
        &mut self,
        command: &C,
        timeout: Duration,
        read: impl FnOnce(&Reply<'_>) -> R,
    ) -> R {
        let deadline = self.now() + timeout.as_millis() as u64;
        let id = self.agent.call(command, Some(deadline)).expect("call");
        let mut read = Some(read);
        let got = self.run(timeout + Duration::from_secs(1), |e| match e {
            AgentEvent::Reply(r) if r.id() == id => read.take().map(|f| Some(f(r))),
            AgentEvent::TimedOut(_) | AgentEvent::Closed => Some(None),
            _ => None,
        });
        match got.flatten() {
            Some(r) => r,
            None => panic!("{} got no reply: {:#?}", C::NAME, self.log),
        }
    }
}
