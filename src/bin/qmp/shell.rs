//! `qmp shell SOCKET`: an interactive line shell in the manner of QEMU's `qmp-shell`.
//!
//! Each line is either a JSON command sent as it is (`{"execute": "query-status"}`), or
//! `COMMAND key=value ...`, where each value is taken as JSON when it parses (`true`, `1`,
//! `{"a": 1}`) and as a string otherwise. Responses and events are printed as Python's
//! `str(Message)` prints them. On a terminal, lines can be edited and recalled (history for
//! the session, kept in memory); piped input is read line by line.

use std::io::{self, BufRead, IsTerminal, Write};
use std::path::PathBuf;

use clap::Args;
use qmp_codec::encode::validate_json;
use qmp_codec::json::write_json_string;
use qmp_codec::{Message, Style, ValueKind};

use crate::client::{parse_timeout, seconds, Incoming, Session, TX_LEN};
use crate::Failure;

/// Arguments of `qmp shell`.
#[derive(Args, Debug)]
pub struct ShellArgs {
    /// The QMP monitor's UNIX socket.
    socket: PathBuf,
    /// Seconds to wait for the negotiation, and then for each reply; a silent server ends
    /// the shell (exit 2) instead of hanging it.
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS", value_parser = parse_timeout)]
    timeout: f64,
}

/// `name key=value ...` as the command name and its arguments object's JSON text.
pub fn parse_line(line: &str) -> Result<(&str, Option<String>), String> {
    let mut words = line.split_whitespace();
    let name = words.next().ok_or("empty line")?;
    let mut args = String::new();
    for word in words {
        let (key, value) = word
            .split_once('=')
            .ok_or_else(|| format!("expected key=value, got {word:?}"))?;
        args.push(if args.is_empty() { '{' } else { ',' });
        // Writing to a String cannot fail.
        let _ = write_json_string(&mut args, key);
        args.push(':');
        if validate_json(value.as_bytes()).is_ok() {
            args.push_str(value);
        } else {
            let _ = write_json_string(&mut args, value);
        }
    }
    if args.is_empty() {
        Ok((name, None))
    } else {
        args.push('}');
        Ok((name, Some(args)))
    }
}

fn print_message(out: &mut impl Write, msg: &Message<'_>) -> io::Result<()> {
    writeln!(out, "{msg}")?;
    out.flush()
}

/// Where the shell's lines come from.
enum Lines {
    /// A terminal: line editing and in-memory history, with the `(QEMU) ` prompt.
    Editor(rustyline::DefaultEditor),
    /// Anything else (or a terminal the editor cannot drive): plain lines, with a prompt
    /// when `prompt` is set.
    Plain {
        lines: io::Lines<io::StdinLock<'static>>,
        prompt: bool,
    },
}

impl Lines {
    fn new(interactive: bool) -> Lines {
        if interactive {
            if let Ok(editor) = rustyline::DefaultEditor::new() {
                return Lines::Editor(editor);
            }
        }
        Lines::Plain {
            lines: io::stdin().lock().lines(),
            prompt: interactive,
        }
    }

    /// The next line; `None` at the end of the input (Ctrl-D).
    fn next(&mut self) -> Result<Option<String>, Failure> {
        let read_err =
            |e: &dyn std::fmt::Display| Failure::Exit(2, format!("reading the input: {e}"));
        match self {
            Lines::Editor(editor) => loop {
                match editor.readline("(QEMU) ") {
                    Ok(line) => {
                        if !line.trim().is_empty() {
                            // History is a convenience: a failure to record is no reason to stop.
                            let _ = editor.add_history_entry(line.as_str());
                        }
                        return Ok(Some(line));
                    }
                    // Ctrl-C abandons the line being typed, as in a shell.
                    Err(rustyline::error::ReadlineError::Interrupted) => continue,
                    Err(rustyline::error::ReadlineError::Eof) => return Ok(None),
                    Err(e) => return Err(read_err(&e)),
                }
            },
            Lines::Plain { lines, prompt } => {
                if *prompt {
                    let mut out = io::stdout();
                    write!(out, "(QEMU) ")
                        .and_then(|()| out.flush())
                        .map_err(|e| Failure::io("writing the output".to_owned(), &e))?;
                }
                lines.next().transpose().map_err(|e| read_err(&e))
            }
        }
    }
}

/// Runs `qmp shell` until the end of its input.
pub fn run(args: &ShellArgs) -> Result<(), Failure> {
    let interactive = io::stdin().is_terminal();
    let mut out = io::stdout().lock();
    let mut show = |incoming: Incoming<'_>| match incoming {
        Incoming::Message { msg, .. } => {
            let _ = writeln!(io::stdout(), "{msg}");
        }
        Incoming::Bad(line) => eprintln!("{line}"),
    };
    let mut tx = vec![0u8; TX_LEN];
    let timeout = Some(seconds(args.timeout));
    let mut session = Session::connect(&args.socket, &mut tx, timeout, &mut show)?;
    if interactive {
        eprintln!(
            "Connected to {}. Type a command, e.g. query-status; Ctrl-D quits.",
            args.socket.display()
        );
    }
    let mut lines = Lines::new(interactive);
    let write_err = |e: io::Error| Failure::io("writing the output".to_owned(), &e);
    while let Some(line) = lines.next()? {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let reply = if line.starts_with('{') {
            let msg = match Message::parse(line.as_bytes()) {
                Ok(msg) => msg,
                Err(e) => {
                    eprintln!("not a JSON object: {e}");
                    continue;
                }
            };
            session.send_raw(line.as_bytes())?;
            let want = msg
                .id()
                .map(|id| id.display(Style::PYTHON_COMPACT).to_string());
            session.wait_raw(
                |got| want.as_deref() == Some(&*got.display(Style::PYTHON_COMPACT).to_string()),
                want.is_some(),
                &mut show,
            )?
        } else {
            let (name, arguments) = match parse_line(line) {
                Ok(parsed) => parsed,
                Err(e) => {
                    eprintln!("{e}");
                    continue;
                }
            };
            let arguments = match &arguments {
                None => None,
                Some(text) => match validate_json(text.as_bytes()) {
                    Ok(v) if v.kind() == ValueKind::Object => Some(v),
                    _ => {
                        eprintln!("bad arguments: {text}");
                        continue;
                    }
                },
            };
            session.execute(name, arguments, &mut show)?
        };
        print_message(&mut out, &reply.message()).map_err(write_err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_line;

    #[test]
    fn key_values_parse_as_json_or_strings() {
        assert_eq!(parse_line("query-status"), Ok(("query-status", None)));
        assert_eq!(
            parse_line("blockdev-add driver=null-co node-name=n0 size=1024 read-zeroes=true x={\"a\":[1]} q=\"é\" s=a\"b"),
            Ok((
                "blockdev-add",
                Some(r#"{"driver":"null-co","node-name":"n0","size":1024,"read-zeroes":true,"x":{"a":[1]},"q":"é","s":"a\"b"}"#.to_owned())
            ))
        );
        assert!(parse_line("stop now").is_err());
        assert!(parse_line("  ").is_err());
    }
}
