//! `qmp events SOCKET [--count N] [--timeout SECONDS]`: print events as summary lines until N
//! arrive or the peer closes.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use qmp_codec::Kind;

use crate::client::{parse_timeout, seconds, Incoming, Polled, Session, TX_LEN};
use crate::{summary, Failure};

/// Arguments of `qmp events`.
#[derive(Args, Debug)]
pub struct EventsArgs {
    /// The QMP monitor's UNIX socket.
    socket: PathBuf,
    /// Stop after this many events (default: run until the peer closes the connection).
    #[arg(long)]
    count: Option<u64>,
    /// Seconds to wait for the greeting and the negotiation; a silent server makes the
    /// command fail (exit 2) instead of hanging. Waiting for events has no limit.
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS", value_parser = parse_timeout)]
    timeout: f64,
}

/// Runs `qmp events`. Each line is flushed as it is printed.
pub fn run(args: &EventsArgs) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    let mut seen = 0u64;
    let mut line = String::new();
    let mut print = |line: &str| -> Result<(), Failure> {
        writeln!(out, "{line}")
            .and_then(|()| out.flush())
            .map_err(|e| Failure::io("writing the output".to_owned(), &e))
    };
    let mut early = Vec::new();
    let mut tx = vec![0u8; TX_LEN];
    let timeout = Some(seconds(args.timeout));
    let mut session = Session::connect(&args.socket, &mut tx, timeout, &mut |incoming| {
        // Events sent before negotiation completed (QEMU drops them; others may not).
        if let Incoming::Message { offset, len, msg } = incoming {
            if msg.kind() == Kind::Event {
                let mut line = String::new();
                let _ = summary::message(&mut line, offset, len, &msg);
                early.push(line);
            }
        }
    })?;
    for line in &early {
        if args.count.is_some_and(|n| seen >= n) {
            return Ok(());
        }
        print(line)?;
        seen += 1;
    }
    while args.count.is_none_or(|n| seen < n) {
        match session.next()? {
            Polled::Closed => break,
            Polled::Idle => {}
            Polled::Incoming(Incoming::Bad(bad)) => eprintln!("{bad}"),
            Polled::Incoming(Incoming::Message { offset, len, msg }) => {
                if msg.kind() == Kind::Event {
                    line.clear();
                    // Writing to a String cannot fail.
                    let _ = summary::message(&mut line, offset, len, &msg);
                    print(&line)?;
                    seen += 1;
                }
            }
        }
    }
    Ok(())
}
