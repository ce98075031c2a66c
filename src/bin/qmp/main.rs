//! `qmp`: a command-line tool over the `qmp-codec` crate.
//!
//! - `qmp decode [FILE|-]`: frame and parse a captured QMP byte stream, one summary line (or
//!   the message itself) per frame.
//! - `qmp exec SOCKET COMMAND [ARGUMENTS_JSON] [--timeout SECONDS]`: run one command, print
//!   its return value.
//! - `qmp events SOCKET [--count N] [--timeout SECONDS]`: print events as summary lines.
//! - `qmp shell SOCKET [--timeout SECONDS]`: a line shell in the manner of `qmp-shell`.
//! - `qmp serve SOCKET [--write-timeout SECONDS]`: a small QMP server, for tests and demos.
//! - `qmp ga SOCKET COMMAND [ARGUMENTS_JSON]` / `qmp ga SOCKET exec -- PROGRAM ARGS...`: the
//!   guest agent.
//!
//! Exit status: 0 on success, 1 when the QMP peer answered with an error, 2 on usage or I/O
//! errors. Output cut short by a closed pipe ends the program quietly.

use std::io;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod client;
mod decode;
mod events;
mod exec;
mod frames;
mod ga;
mod serve;
mod shell;
mod summary;

/// Command-line tool for QEMU's QMP protocol.
#[derive(Parser, Debug)]
#[command(name = "qmp", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Decode a QMP byte stream (a capture) into one line per frame.
    Decode(decode::DecodeArgs),
    /// Connect to a QMP socket, run one command and print its return value.
    Exec(exec::ExecArgs),
    /// Connect to a QMP socket and print its events as summary lines.
    Events(events::EventsArgs),
    /// An interactive shell on a QMP socket: `command key=value ...` or raw JSON (line
    /// editing and history on a terminal).
    Shell(shell::ShellArgs),
    /// Serve a small QMP machine on a UNIX socket, for tests and demos.
    Serve(serve::ServeArgs),
    /// Talk to a guest agent (qemu-ga): run one command, or `exec -- PROGRAM ARGS...`.
    Ga(ga::GaArgs),
}

/// Why a subcommand stopped early.
#[derive(Debug)]
pub enum Failure {
    /// The output pipe was closed: stop quietly.
    BrokenPipe,
    /// Print the message to stderr and exit with the code.
    Exit(u8, String),
    /// The QMP peer answered with an error: print `CLASS: desc` to stderr, exit 1.
    Qmp(String),
}

impl Failure {
    /// An I/O error while doing `what` (exit 2), or a quiet stop on a broken pipe.
    pub fn io(what: String, e: &io::Error) -> Failure {
        if e.kind() == io::ErrorKind::BrokenPipe {
            Failure::BrokenPipe
        } else {
            Failure::Exit(2, format!("{what}: {e}"))
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Decode(args) => decode::run(args),
        Command::Exec(args) => exec::run(args),
        Command::Events(args) => events::run(args),
        Command::Shell(args) => shell::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Ga(args) => ga::run(args),
    };
    match result {
        Ok(()) | Err(Failure::BrokenPipe) => ExitCode::SUCCESS,
        Err(Failure::Qmp(message)) => {
            eprintln!("{message}");
            ExitCode::from(1)
        }
        Err(Failure::Exit(code, message)) => {
            if !message.is_empty() {
                eprintln!("qmp: {message}");
            }
            ExitCode::from(code)
        }
    }
}
