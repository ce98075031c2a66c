//! `qmp`: a command-line tool over the `qmp-codec` crate.
//!
//! - `qmp decode [FILE|-]`: frame and parse a captured QMP byte stream, one summary line (or
//!   the message itself) per frame.
//!
//! Exit status: 0 on success, 1 when the QMP peer answered with an error, 2 on usage or I/O
//! errors. Output cut short by a closed pipe ends the program quietly.

use std::io;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod decode;
mod frames;
mod summary;

/// Command-line tool for QEMU's QMP protocol.
#[derive(Parser, Debug)]
#[command(name = "qmp", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Decode a QMP byte stream (a capture) into one line per frame.
    Decode(decode::DecodeArgs),
}

/// Why a subcommand stopped early.
#[derive(Debug)]
pub enum Failure {
    /// The output pipe was closed: stop quietly.
    BrokenPipe,
    /// Print the message to stderr and exit with the code.
    Exit(u8, String),
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
    };
    match result {
        Ok(()) | Err(Failure::BrokenPipe) => ExitCode::SUCCESS,
        Err(Failure::Exit(code, message)) => {
            eprintln!("qmp: {message}");
            ExitCode::from(code)
        }
    }
}
