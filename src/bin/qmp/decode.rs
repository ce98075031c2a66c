//! `qmp decode`: frame a byte stream, parse each frame, print one line per frame.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use qmp_codec::{Dialect, FramerConfig, Message, DEFAULT_MAX_FRAME_LEN};

use crate::frames::{FrameReader, Item};
use crate::{summary, Failure};

/// The real capture decoded when no FILE is given: 1404 messages that
/// `qemu-storage-daemon` 10.0.2 sent over three connections.
static BUNDLED: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/corpus/qsd/stream.bin"
));

/// How the stream is cut into frames.
#[derive(Copy, Clone, Debug, ValueEnum)]
pub enum DialectArg {
    /// One message per line, as QEMU writes them.
    Lines,
    /// JSON texts cut by bracket depth, as QEMU reads them (also for `pretty=on` output).
    Stream,
    /// The guest agent: lines, and 0xFF discards what came before it.
    Qga,
}

impl From<DialectArg> for Dialect {
    fn from(d: DialectArg) -> Dialect {
        match d {
            DialectArg::Lines => Dialect::Lines,
            DialectArg::Stream => Dialect::Stream,
            DialectArg::Qga => Dialect::Qga,
        }
    }
}

/// What is printed for each frame.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One compact JSON object per frame: offset, len, kind, id and the kind's details.
    Summary,
    /// Each message as Python's `str(Message)` (`json.dumps(obj, indent=2)`).
    Pretty,
    /// Each message as `json.dumps(obj, separators=(',', ':'))`, one per line.
    Compact,
}

/// Arguments of `qmp decode`.
#[derive(Args, Debug)]
#[command(after_help = "\
Examples:
  qmp decode                          (the real QEMU capture bundled into the binary)
  qmp decode capture.bin --format pretty
  socat - UNIX:/run/qsd.sock | qmp decode - --dialect stream")]
pub struct DecodeArgs {
    /// How the stream is cut into frames.
    #[arg(long, value_enum, default_value_t = DialectArg::Lines)]
    dialect: DialectArg,
    /// Bytes per read.
    #[arg(long, default_value_t = 65536, value_parser = clap::value_parser!(u32).range(1..))]
    chunk: u32,
    /// The longest frame kept, terminator included; longer ones are reported as too-long.
    #[arg(long, default_value_t = DEFAULT_MAX_FRAME_LEN as u64,
          value_parser = clap::value_parser!(u64).range(1..))]
    max_frame: u64,
    /// What to print: summaries, or the messages themselves (bad frames then go to stderr).
    #[arg(long, value_enum, default_value_t = Format::Summary)]
    format: Format,
    /// The input: a file, `-` for stdin; without it, a bundled qemu-storage-daemon capture.
    file: Option<PathBuf>,
}

/// Runs `qmp decode`.
pub fn run(args: &DecodeArgs) -> Result<(), Failure> {
    let input: Box<dyn Read> = match &args.file {
        None => Box::new(BUNDLED),
        Some(path) if path.as_os_str() == "-" => Box::new(io::stdin().lock()),
        Some(path) => {
            Box::new(File::open(path).map_err(|e| Failure::io(format!("{}", path.display()), &e))?)
        }
    };
    let max_frame = usize::try_from(args.max_frame).unwrap_or(usize::MAX);
    let config = FramerConfig::new()
        .with_dialect(args.dialect.into())
        .with_max_frame_len(max_frame);
    let chunk = usize::try_from(args.chunk).unwrap_or(usize::MAX);
    let mut frames = FrameReader::new(input, config, chunk);
    let stdout = io::stdout().lock();
    let mut out = io::BufWriter::with_capacity(64 * 1024, stdout);
    let mut line = String::new();
    let mut position = 0u64;
    loop {
        let item = frames
            .next_item()
            .map_err(|e| Failure::io("reading the input".to_owned(), &e))?;
        let Some(item) = item else { break };
        line.clear();
        // Writing to a String cannot fail.
        let to_stdout = match item {
            Item::Frame { offset, bytes } => {
                position = offset.saturating_add(bytes.len() as u64);
                let len = bytes.len() as u64;
                match Message::parse(bytes) {
                    Ok(msg) => {
                        let _ = match args.format {
                            Format::Summary => summary::message(&mut line, offset, len, &msg),
                            Format::Pretty => std::fmt::write(&mut line, format_args!("{msg}")),
                            Format::Compact => {
                                std::fmt::write(&mut line, format_args!("{}", msg.compact()))
                            }
                        };
                        true
                    }
                    Err(e) => {
                        let _ = summary::parse_error(&mut line, offset, len, &e);
                        args.format == Format::Summary
                    }
                }
            }
            Item::Error(e) => {
                let _ = summary::frame_error(&mut line, &e, position);
                args.format == Format::Summary
            }
        };
        line.push('\n');
        let written = if to_stdout {
            out.write_all(line.as_bytes())
        } else {
            io::stderr().write_all(line.as_bytes())
        };
        written.map_err(|e| Failure::io("writing the output".to_owned(), &e))?;
    }
    out.flush()
        .map_err(|e| Failure::io("writing the output".to_owned(), &e))
}
