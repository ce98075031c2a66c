//! A bounded fuzzing run on a live `qemu-storage-daemon` with commands generated from its
//! own schema, or with the schema-less generator, counting the distinct commands that
//! reached a success reply.
//!
//! ```sh
//! cargo run --release --example schema_fuzz --features arbitrary -- --generator schema --seconds 60
//! cargo run --release --example schema_fuzz --features arbitrary -- --generator plain --seconds 60
//! ```
//!
//! The daemon runs in a scratch directory, as `nobody` when this runs as root (through
//! `setpriv`); the schema generator makes file names only inside that directory and both
//! generators skip [`DEFAULT_DENY_COMMANDS`]. Every command goes through the blocking
//! client; a daemon that dies or stops answering (10 s) is reported with the command that
//! did it and restarted. Options: `--generator schema|plain` (schema), `--seconds N` (60),
//! `--seed S` (1), `--allow-known-crashes` (send the two commands known to crash
//! qemu-storage-daemon 10.0.2, which are skipped by default).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use arbitrary::{Arbitrary, Unstructured};
use qmp_codec::arbitrary::{schema_command, ArbCommand, GenConfig, DEFAULT_DENY_COMMANDS};
use qmp_codec::encode::{validate_json, Request};
use qmp_codec::schema::{reply_list, Schema};
use qmp_codec::transport::blocking::Client;
use qmp_codec::transport::Error;
use qmp_codec::Message;

type Qmp = Client<std::os::unix::net::UnixStream>;

struct Daemon {
    child: Child,
    dir: PathBuf,
}

impl Daemon {
    fn start(n: u32) -> Daemon {
        let dir = std::env::temp_dir().join(format!("qmp-schema-fuzz-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch directory");
        for i in 0..8 {
            let f = std::fs::File::create(dir.join(format!("f{i}"))).expect("scratch file");
            f.set_len(1 << 20).expect("scratch file size");
        }
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
        let mut cmd = if root {
            let ok = Command::new("chown")
                .args(["-R", "nobody:nogroup"])
                .arg(&dir)
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "cannot hand the scratch directory to nobody");
            let mut c = Command::new("setpriv");
            c.args([
                "--reuid=nobody",
                "--regid=nogroup",
                "--clear-groups",
                "--",
                "qemu-storage-daemon",
            ]);
            c
        } else {
            Command::new("qemu-storage-daemon")
        };
        let sock = dir.join("qmp.sock");
        let child = cmd
            .arg("--chardev")
            .arg(format!(
                "socket,path={},server=on,wait=off,id=c0",
                sock.display()
            ))
            .args(["--monitor", "chardev=c0"])
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start qemu-storage-daemon (install qemu-utils)");
        let deadline = Instant::now() + Duration::from_secs(20);
        while !sock.exists() {
            assert!(Instant::now() < deadline, "the daemon did not listen");
            std::thread::sleep(Duration::from_millis(10));
        }
        Daemon { child, dir }
    }

    fn connect(&self) -> Qmp {
        let mut c = Client::connect_unix(self.dir.join("qmp.sock")).expect("connect");
        c.set_timeout(Some(Duration::from_secs(10)));
        c
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Deterministic bytes (xorshift64*).
struct Rng(u64);

impl Rng {
    fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            *b = (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8;
        }
    }
}

fn main() {
    let mut generator = String::from("schema");
    let mut seconds = 60u64;
    let mut seed = 1u64;
    let mut known_crashes = false;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--generator" => generator = args.next().expect("--generator schema|plain"),
            "--seconds" => {
                seconds = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--seconds N")
            }
            "--seed" => seed = args.next().and_then(|v| v.parse().ok()).expect("--seed S"),
            "--allow-known-crashes" => known_crashes = true,
            other => panic!("unknown option {other}"),
        }
    }
    let mut starts = 0;
    let mut daemon = Daemon::start(starts);
    let mut qmp = daemon.connect();
    let schema_bytes = qmp
        .request(Request::execute("query-qmp-schema"))
        .expect("query-qmp-schema")
        .to_bytes()
        .into_owned();
    let msg = Message::parse(&schema_bytes).expect("schema reply");
    let schema = Schema::build(reply_list(&msg).expect("schema list")).expect("schema");
    let dir = daemon.dir.to_str().expect("UTF-8 path").to_owned();
    let mut deny = DEFAULT_DENY_COMMANDS.to_vec();
    let mut deny_values = qmp_codec::arbitrary::DEFAULT_DENY_VALUES.to_vec();
    if !known_crashes {
        deny.push("blockdev-reopen");
        deny_values.push("block-dirty-bitmap-enable");
    }
    let config = GenConfig {
        file_dir: &dir,
        deny_commands: &deny,
        deny_values: &deny_values,
        ..GenConfig::default()
    };

    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut buf = vec![0u8; 4096];
    let mut succeeded = BTreeSet::new();
    let mut tried = BTreeSet::new();
    let (mut sent, mut ok, mut crashes, mut hangs) = (0u64, 0u64, 0u64, 0u64);
    let end = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < end {
        rng.fill(&mut buf);
        let mut u = Unstructured::new(&buf);
        let (name, oob, arguments, text) = if generator == "schema" {
            let Ok(c) = schema_command(&schema, &config, &mut u) else {
                continue;
            };
            let text = c.to_json();
            (c.name, c.oob, c.arguments, text)
        } else {
            let Ok(c) = ArbCommand::arbitrary(&mut u) else {
                continue;
            };
            if deny.contains(&c.name.as_str()) {
                continue;
            }
            let text = String::from_utf8_lossy(&c.to_json()).into_owned();
            let arguments = c.arguments.map(|a| a.as_str().to_owned());
            (c.name, c.oob, arguments, text)
        };
        let args = arguments
            .as_deref()
            .map(|a| validate_json(a.as_bytes()).expect("generated arguments are JSON"));
        sent += 1;
        tried.insert(name.clone());
        let result = if oob {
            qmp.execute_oob(&name, args)
        } else {
            qmp.execute(&name, args)
        };
        while qmp.try_event().is_some() {}
        match result {
            Ok(_) => {
                ok += 1;
                succeeded.insert(name);
            }
            Err(Error::Qmp(_)) | Err(Error::Refused(_)) => {}
            Err(e) => {
                if matches!(e, Error::Timeout) {
                    hangs += 1;
                } else {
                    crashes += 1;
                }
                eprintln!("daemon lost ({e}) after: {text}");
                drop(qmp);
                starts += 1;
                daemon = Daemon::start(starts);
                qmp = daemon.connect();
            }
        }
    }
    println!(
        "generator={generator} seconds={seconds} seed={seed} sent={sent} success_replies={ok} \
         distinct_commands_tried={} distinct_commands_succeeded={} crashes={crashes} hangs={hangs}",
        tried.len(),
        succeeded.len()
    );
    println!(
        "succeeded: {}",
        succeeded.into_iter().collect::<Vec<_>>().join(" ")
    );
}
