//! `qmp shell SOCKET`: an interactive line shell in the manner of QEMU's `qmp-shell`.
//!
//! Each line is either a JSON command sent as it is (`{"execute": "query-status"}`), or
//! `COMMAND key=value ...`, where each value is taken as JSON when it parses (`true`, `1`,
//! `{"a": 1}`) and as a string otherwise. Responses and events are printed as Python's
//! `str(Message)` prints them. A plain line loop: no line editing or history.

use std::io::{self, BufRead, IsTerminal, Write};
use std::path::PathBuf;

use clap::Args;
use qmp_codec::encode::validate_json;
use qmp_codec::json::write_json_string;
use qmp_codec::{Message, Style, ValueKind};

use crate::client::{Incoming, Session};
use crate::Failure;

/// Arguments of `qmp shell`.
#[derive(Args, Debug)]
pub struct ShellArgs {
    /// The QMP monitor's UNIX socket.
    socket: PathBuf,
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
    let mut session = Session::connect(&args.socket, &mut show)?;
    if interactive {
        eprintln!(
            "Connected to {}. Type a command, e.g. query-status; Ctrl-D quits.",
            args.socket.display()
        );
    }
    let stdin = io::stdin();
    let mut lines = stdin.lock().lines();
    let write_err = |e: io::Error| Failure::io("writing the output".to_owned(), &e);
    loop {
        if interactive {
            write!(out, "(QEMU) ")
                .and_then(|()| out.flush())
                .map_err(write_err)?;
        }
        let Some(line) = lines.next() else { break };
        let line = line.map_err(|e| Failure::io("reading the input".to_owned(), &e))?;
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
            match msg.id() {
                None => session.wait(None, &mut show)?,
                Some(id) => {
                    let want = id.display(Style::PYTHON_COMPACT).to_string();
                    session.wait_for(
                        |m| {
                            m.id().is_some_and(|got| {
                                got.display(Style::PYTHON_COMPACT).to_string() == want
                            }) || (m.id().is_none() && m.contains_key("error"))
                        },
                        &mut show,
                    )?
                }
            }
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
