//! Fuzzes a live `qemu-storage-daemon` with generated and mutated QMP traffic.
//!
//! ```sh
//! cargo run --example fuzz_peer --features arbitrary -- --iterations 200 --seed 7
//! ```
//!
//! Starts the daemon with a QMP monitor on a UNIX socket in a temporary directory, reads the
//! greeting, negotiates capabilities, then sends `--iterations` commands: half valid ones
//! from [`ArbCommand`], half made nearly valid by [`mutate`] (each followed by a `0x01` byte,
//! QEMU's documented way to reset its JSON parser). Replies are read until the connection is
//! quiet for `--timeout-ms`. Every reply must parse and classify (replies echoing a `1e400`
//! id as `inf`, a known QEMU fault, are counted apart), and the daemon must still
//! answer `query-version` at the end; the error classes seen are counted. Exits non-zero on
//! a failure. Options: `--iterations N` (200), `--seed S` (from the clock),
//! `--timeout-ms MS` (100), `--daemon PATH` (`qemu-storage-daemon`).

use std::collections::BTreeMap;
use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use arbitrary::{Arbitrary, Unstructured};
use qmp_codec::arbitrary::{mutate, ArbCommand, Mutation};
use qmp_codec::encode::{Encode, Request};
use qmp_codec::{Classified, FramerConfig, Message, ReadBuffer};

/// Commands never sent: they would end the session or remove the monitor.
const DENY: &[&str] = &["quit", "chardev-remove", "chardev-change", "monitor-add"];

/// The byte sent after mutated traffic: a control byte resets QEMU's JSON parser.
const RESYNC: u8 = 0x01;

/// Command-line options.
#[derive(Debug, PartialEq)]
struct Options {
    iterations: usize,
    seed: u64,
    timeout: Duration,
    daemon: String,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Options, String> {
    let mut opts = Options {
        iterations: 200,
        seed: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1),
        timeout: Duration::from_millis(100),
        daemon: "qemu-storage-daemon".into(),
    };
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        let number = |v: String| v.parse::<u64>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--iterations" => opts.iterations = number(value()?)? as usize,
            "--seed" => opts.seed = number(value()?)?,
            "--timeout-ms" => opts.timeout = Duration::from_millis(number(value()?)?),
            "--daemon" => opts.daemon = value()?,
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(opts)
}

/// Deterministic bytes (xorshift64*), so a seed replays a run.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            *b = (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8;
        }
    }
}

/// One iteration's traffic.
#[derive(Debug)]
enum Traffic {
    /// A valid command.
    Valid(ArbCommand),
    /// A command broken by one mutation.
    Mutated(Mutation),
}

/// What to send for one iteration, from fuzzer bytes: the traffic and the bytes on the wire.
fn generate(bytes: &[u8]) -> Option<(Traffic, Vec<u8>)> {
    let mut u = Unstructured::new(bytes);
    let mut cmd = ArbCommand::arbitrary(&mut u).ok()?;
    if DENY.contains(&cmd.name.as_str()) {
        cmd.name = "query-version".into();
    }
    let json = cmd.to_json();
    if u.ratio(1u8, 2u8).ok()? {
        return Some((Traffic::Valid(cmd), json));
    }
    let mutation = Mutation::arbitrary(&mut u).ok()?;
    let mut wire = mutate(&json, mutation, &mut u).ok()?;
    wire.push(RESYNC);
    Some((Traffic::Mutated(mutation), wire))
}

/// Counts of what the daemon answered.
#[derive(Debug, Default)]
struct Tally {
    replies: usize,
    returns: usize,
    events: usize,
    errors: BTreeMap<String, usize>,
    /// Replies echoing an id of `1e400` as `inf`: QEMU's known fault, not JSON, counted apart.
    inf_ids: usize,
    unparsable: Vec<String>,
}

impl Tally {
    fn add(&mut self, frame: &[u8]) {
        self.replies += 1;
        let msg = match Message::parse(frame) {
            Ok(msg) => msg,
            Err(_) if frame.starts_with(b"{\"id\": inf") || frame.starts_with(b"{\"id\": -inf") => {
                self.inf_ids += 1;
                return;
            }
            Err(e) => {
                self.unparsable
                    .push(format!("{e}: {}", String::from_utf8_lossy(frame)));
                return;
            }
        };
        match msg.classify() {
            Ok(Classified::Return(_)) => self.returns += 1,
            Ok(Classified::Event(_)) => self.events += 1,
            Ok(Classified::Error(e)) => *self.errors.entry(e.class().to_string()).or_default() += 1,
            Ok(other) => {
                self.unparsable
                    .push(format!("unexpected {:?}: {}", other.kind(), msg.compact()))
            }
            Err(e) => self
                .unparsable
                .push(format!("{e}: {}", String::from_utf8_lossy(frame))),
        }
    }
}

/// The daemon process and its temporary directory, cleaned up on drop.
struct Daemon {
    child: Child,
    dir: PathBuf,
}

impl Daemon {
    fn start(program: &str) -> Result<(Daemon, PathBuf), String> {
        let dir = std::env::temp_dir().join(format!("qmp-fuzz-peer-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let sock = dir.join("qmp.sock");
        let chardev = format!("socket,path={},server=on,wait=off,id=c0", sock.display());
        let child = Command::new(program)
            .args(["--chardev", &chardev, "--monitor", "chardev=c0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {program}: {e}"))?;
        Ok((Daemon { child, dir }, sock))
    }

    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn connect(sock: &Path) -> Result<UnixStream, String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match UnixStream::connect(sock) {
            Ok(s) => return Ok(s),
            Err(e) if Instant::now() > deadline => return Err(format!("connect: {e}")),
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// Reads replies into `out` until none arrives for `quiet`; fails on end of stream.
fn read_replies(
    stream: &mut UnixStream,
    rb: &mut ReadBuffer<'_>,
    quiet: Duration,
    out: &mut Vec<Vec<u8>>,
) -> Result<(), String> {
    stream
        .set_read_timeout(Some(quiet))
        .map_err(|e| e.to_string())?;
    loop {
        while let Some(frame) = rb.next_frame() {
            match frame {
                Ok(f) => out.push(f.to_vec()),
                Err(e) => return Err(format!("framing: {e}")),
            }
        }
        match stream.read(rb.spare()) {
            Ok(0) => return Err("the daemon closed the connection".into()),
            Ok(n) => rb.commit(n),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Ok(())
            }
            Err(e) => return Err(format!("read: {e}")),
        }
    }
}

fn request(name: &str, id: &str) -> Vec<u8> {
    let mut s = String::new();
    let _ = Request::execute(name)
        .with_id(qmp_codec::encode::JsonStr(id))
        .encode_fmt(&mut s);
    s.into_bytes()
}

fn run(opts: &Options) -> Result<Tally, String> {
    let (mut daemon, sock) = Daemon::start(&opts.daemon)?;
    let mut stream = connect(&sock)?;
    let mut storage = vec![0u8; 1 << 20];
    let mut rb = ReadBuffer::new(&mut storage, FramerConfig::new());
    let mut frames = Vec::new();

    read_replies(&mut stream, &mut rb, Duration::from_secs(2), &mut frames)?;
    let greeting = frames.first().ok_or("no greeting")?;
    let kind = Message::parse(greeting).map(|m| m.kind());
    if kind != Ok(qmp_codec::Kind::Greeting) {
        return Err(format!(
            "not a greeting: {}",
            String::from_utf8_lossy(greeting)
        ));
    }
    frames.clear();
    let send = |stream: &mut UnixStream, bytes: &[u8]| {
        stream.write_all(bytes).map_err(|e| format!("write: {e}"))
    };
    send(&mut stream, &request("qmp_capabilities", "caps"))?;
    read_replies(&mut stream, &mut rb, Duration::from_secs(2), &mut frames)?;
    let negotiated = frames
        .iter()
        .any(|f| Message::parse(f).is_ok_and(|m| m.kind() == qmp_codec::Kind::Return));
    if !negotiated {
        return Err("capabilities negotiation failed".into());
    }
    frames.clear();

    let mut tally = Tally::default();
    let mut rng = Rng::new(opts.seed);
    let mut fuzz = vec![0u8; 1024];
    let (mut valid, mut mutated) = (0usize, BTreeMap::<String, usize>::new());
    let mut names = BTreeMap::<String, usize>::new();
    for i in 0..opts.iterations {
        rng.fill(&mut fuzz);
        let Some((traffic, wire)) = generate(&fuzz) else {
            continue;
        };
        match traffic {
            Traffic::Valid(ref cmd) => {
                valid += 1;
                *names.entry(cmd.name.clone()).or_default() += 1;
            }
            Traffic::Mutated(m) => *mutated.entry(format!("{m:?}")).or_default() += 1,
        }
        send(&mut stream, &wire)?;
        read_replies(&mut stream, &mut rb, opts.timeout, &mut frames)?;
        for f in frames.drain(..) {
            tally.add(&f);
        }
        if !daemon.alive() {
            return Err(format!(
                "the daemon died at iteration {i} after {traffic:?}"
            ));
        }
    }

    // The daemon must still answer.
    send(&mut stream, &[RESYNC])?;
    send(&mut stream, &request("query-version", "final"))?;
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut answered = false;
    while !answered && Instant::now() < deadline {
        read_replies(&mut stream, &mut rb, opts.timeout, &mut frames)?;
        answered = frames.iter().any(|f| {
            Message::parse(f).is_ok_and(|m| {
                m.kind() == qmp_codec::Kind::Return
                    && m.id()
                        .and_then(|i| i.as_str())
                        .is_some_and(|s| s == "final")
            })
        });
        for f in frames.drain(..) {
            tally.add(&f);
        }
    }
    if !answered {
        return Err("the daemon did not answer query-version at the end".into());
    }
    println!(
        "sent {valid} valid commands ({} distinct names) and mutated ones {mutated:?}",
        names.len()
    );
    Ok(tally)
}

fn main() {
    let opts = match parse_args(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("fuzz_peer: {e}");
            std::process::exit(2);
        }
    };
    println!(
        "fuzz_peer: {} iterations, seed {}, quiet timeout {:?}",
        opts.iterations, opts.seed, opts.timeout
    );
    let started = Instant::now();
    match run(&opts) {
        Ok(t) => {
            println!(
                "{} replies in {:.1?}: {} returns, {} events, errors by class {:?}, \
                 {} ids echoed as inf (QEMU's known fault)",
                t.replies,
                started.elapsed(),
                t.returns,
                t.events,
                t.errors,
                t.inf_ids
            );
            if !t.unparsable.is_empty() {
                for u in &t.unparsable {
                    eprintln!("bad reply: {u}");
                }
                std::process::exit(1);
            }
            println!("the daemon stayed alive and every reply parsed");
        }
        Err(e) => {
            eprintln!("fuzz_peer: FAILED (seed {}): {e}", opts.seed);
            std::process::exit(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic_and_safe() {
        let (mut valid, mut mutated) = (0, 0);
        let mut rng = Rng::new(42);
        let mut again = Rng::new(42);
        let mut buf = vec![0u8; 1024];
        let mut buf2 = vec![0u8; 1024];
        for _ in 0..300 {
            rng.fill(&mut buf);
            again.fill(&mut buf2);
            assert_eq!(buf, buf2);
            let (traffic, wire) = generate(&buf).expect("1 KiB of bytes is enough");
            match traffic {
                Traffic::Valid(ref cmd) => {
                    valid += 1;
                    assert!(!DENY.contains(&cmd.name.as_str()));
                    let msg = Message::parse(&wire).expect("valid traffic parses");
                    let parsed = qmp_codec::Command::try_from(msg).expect("and is a command");
                    assert!(parsed.name() == cmd.name.as_str());
                }
                Traffic::Mutated(_) => {
                    mutated += 1;
                    assert_eq!(wire.last(), Some(&RESYNC));
                }
            }
            // No denied command goes out, valid or mutated.
            for name in DENY {
                let needle = format!("\"{name}\"");
                assert!(!wire.windows(needle.len()).any(|w| w == needle.as_bytes()));
            }
        }
        assert!(
            valid > 50 && mutated > 50,
            "{valid} valid, {mutated} mutated"
        );
    }

    #[test]
    fn options_parse() {
        let args = ["--iterations", "5", "--seed", "9", "--timeout-ms", "20"].map(String::from);
        let o = parse_args(args).unwrap();
        assert_eq!(
            (o.iterations, o.seed, o.timeout),
            (5, 9, Duration::from_millis(20))
        );
        assert!(parse_args(["--bogus".to_string()]).is_err());
        assert!(parse_args(["--seed".to_string()]).is_err());
    }

    #[test]
    fn tally_counts_and_flags() {
        let mut t = Tally::default();
        t.add(b"{\"return\": {}}");
        t.add(b"{\"error\": {\"class\": \"GenericError\", \"desc\": \"x\"}}");
        t.add(b"{\"event\": \"STOP\"}");
        t.add(b"{\"oops\"");
        t.add(b"{\"id\": inf, \"error\": {\"class\": \"GenericError\", \"desc\": \"x\"}}");
        assert_eq!((t.replies, t.returns, t.events, t.inf_ids), (5, 1, 1, 1));
        assert_eq!(t.errors.get("GenericError"), Some(&1));
        assert_eq!(t.unparsable.len(), 1);
    }
}
