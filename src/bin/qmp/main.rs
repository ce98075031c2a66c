//! `qmp`: a command-line tool over the `qmp-codec` crate.
//!
//! - `qmp decode [FILE|-]`: frame and parse a captured QMP byte stream, one summary line (or
//!   the message itself) per frame.
//! - `qmp exec SOCKET COMMAND [key=value ...|JSON]`: run one command, print its return value.
//! - `qmp events SOCKET [--count N] [--filter GLOB] [--format F]`: print events.
//! - `qmp shell SOCKET [-p] [-v] [-l FILE] [-H]`: QEMU's `qmp-shell`, better.
//! - `qmp serve SOCKET [--write-timeout SECONDS]`: a small QMP server, for tests and demos.
//! - `qmp completions SHELL`: completions for bash, zsh, fish, …
//! - `qmp schema SOCKET [NAME]`: the server's commands and events with readable signatures.
//! - `qmp ga SOCKET COMMAND [ARGUMENTS_JSON]` / `qmp ga SOCKET exec -- PROGRAM ARGS...`: the
//!   guest agent.
//!
//! `exec`, `events` and `shell` talk through the crate's blocking client (`client.rs`).
//! Exit status: see `AFTER_HELP` (0 ok, 1 QMP error, 2 usage, 3 connection, 4 timeout). Output cut short by a closed pipe ends the
//! program quietly.

use std::io::{self, Write};
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

mod client;
mod decode;
mod events;
mod exec;
mod frames;
mod ga;
mod schema;
mod serve;
mod shell;
mod summary;
mod syntax;

/// Command-line tool for QEMU's QMP protocol: run commands, watch events, an interactive
/// shell (QEMU's qmp-shell syntax, raw JSON, completion, history), decode captures.
#[derive(Parser, Debug)]
#[command(name = "qmp", version, after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

const AFTER_HELP: &str = concat!(
    "Examples:
  qmp exec /run/qsd.sock query-version
  qmp exec /run/qsd.sock blockdev-add driver=null-co node-name=n0 size=1048576
  qmp events /run/qsd.sock --filter 'JOB_*' --count 1
  qmp shell /run/qsd.sock
  qmp decode capture.bin --format pretty
  qmp completions bash > ~/.local/share/bash-completion/completions/qmp

",
    "Exit status:
  0  success
  1  the QMP server answered with an error (CLASS: desc on stderr)
  2  usage: bad arguments, JSON or key=value, or an unreadable FILE
  3  connection: cannot connect, or the server closed the connection or broke the protocol
  4  timeout: no greeting, negotiation or reply within --timeout"
);

#[derive(Subcommand, Debug)]
enum Command {
    /// Decode a QMP byte stream (a capture) into one line per frame.
    Decode(decode::DecodeArgs),
    /// Connect to a QMP socket, run one command and print its return value.
    Exec(exec::ExecArgs),
    /// Connect to a QMP socket and print its events with their data and timestamps.
    Events(events::EventsArgs),
    /// An interactive shell on a QMP socket: QEMU's qmp-shell syntax (`command
    /// key=value ...`, transactions) or raw JSON, with history and completion.
    Shell(shell::ShellArgs),
    /// Serve a small QMP machine on a UNIX socket, for tests and demos.
    Serve(serve::ServeArgs),
    /// Print a completion script for a shell (bash, zsh, fish, elvish, powershell).
    #[command(after_help = "\
Examples:
  qmp completions bash > ~/.local/share/bash-completion/completions/qmp
  qmp completions zsh > ~/.zfunc/_qmp
  qmp completions fish > ~/.config/fish/completions/qmp.fish")]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the server's commands and events with readable signatures (from its
    /// `query-qmp-schema`), or one of them in full.
    Schema(schema::SchemaArgs),
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
        Command::Completions { shell } => {
            let mut out = io::stdout().lock();
            clap_complete::generate(*shell, &mut Cli::command(), "qmp", &mut out);
            out.flush()
                .map_err(|e| Failure::io("writing the output".to_owned(), &e))
        }
        Command::Schema(args) => schema::run(args),
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
