//! `qmp exec SOCKET COMMAND [ARGUMENTS]...`: run one command and print its return value.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use qmp_codec::encode::validate_json;
use qmp_codec::transport::NO_ARGUMENTS;
use qmp_codec::{Style, ValueKind};

use crate::client::{parse_timeout, seconds, Session, EXIT_USAGE};
use crate::syntax;
use crate::Failure;

/// Arguments of `qmp exec`.
#[derive(Args, Debug)]
#[command(after_help = "\
Examples:
  qmp exec /run/qsd.sock query-version
  qmp exec /run/qsd.sock blockdev-add driver=null-co node-name=n0 size=1048576
  qmp exec /run/qsd.sock blockdev-add driver=file node-name=f0 filename=/tmp/a.img \\
      cache.direct=false
  qmp exec /run/qsd.sock blockdev-add '{\"driver\": \"null-co\", \"node-name\": \"n1\"}'
  qmp exec /run/qsd.sock block-dirty-bitmap-add node=n0 name=b0 persistent=false

key=value arguments mean what they mean in `qmp shell` (and QEMU's qmp-shell): integers,
true/false, JSON or Python literals for values starting with { or [, strings otherwise;
dots in keys build nested objects.")]
pub struct ExecArgs {
    /// The QMP monitor's UNIX socket.
    socket: PathBuf,
    /// The command to run, e.g. `query-status`.
    command: String,
    /// The command's arguments: `key=value` words, or one JSON object.
    #[arg(value_name = "ARGUMENTS")]
    arguments: Vec<String>,
    /// Seconds to wait for the greeting, the negotiation and the reply; a silent server
    /// makes the command fail (exit 4) instead of hanging.
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS", value_parser = parse_timeout)]
    timeout: f64,
    /// Check the command against the server's schema first (`query-qmp-schema`); a command
    /// the server would refuse is not sent (exit 1 with QEMU's error text).
    #[arg(long)]
    check: bool,
}

/// The arguments as one JSON object's text, or `None` for none.
fn arguments(args: &ExecArgs) -> Result<Option<String>, Failure> {
    let usage = |m: String| Failure::Exit(EXIT_USAGE, m);
    match args.arguments.as_slice() {
        [] => Ok(None),
        [json]
            if json.trim_start().starts_with(['{', '[', '"'])
                || validate_json(json.as_bytes()).is_ok() =>
        {
            let value = validate_json(json.as_bytes())
                .map_err(|e| usage(format!("ARGUMENTS is not valid JSON: {e}")))?;
            if value.kind() != ValueKind::Object {
                return Err(usage(format!(
                    "ARGUMENTS must be a JSON object or key=value words, not a JSON {}",
                    value.kind()
                )));
            }
            Ok(Some(json.clone()))
        }
        words => {
            let words: Vec<&str> = words.iter().map(String::as_str).collect();
            let members = syntax::arguments(&words).map_err(usage)?;
            Ok(Some(syntax::Node::Dict(members).to_json()))
        }
    }
}

/// Runs `qmp exec`: exit 0 with the return value printed as `json.dumps(indent=2)` does, 1
/// with `CLASS: desc` on stderr for a QMP error.
pub fn run(args: &ExecArgs) -> Result<(), Failure> {
    let arguments = arguments(args)?;
    let mut session = Session::connect(&args.socket, seconds(args.timeout))?;
    if args.check {
        crate::schema::check_before_exec(&mut session, &args.command, arguments.as_deref())?;
    }
    let reply = match &arguments {
        None => session.client.execute(&args.command, NO_ARGUMENTS),
        Some(text) => {
            // Checked above, or built by the syntax module as valid JSON.
            let value = validate_json(text.as_bytes())
                .map_err(|e| Failure::Exit(EXIT_USAGE, format!("ARGUMENTS: {e}")))?;
            session.client.execute(&args.command, Some(value))
        }
    }
    .map_err(|e| session.failure(e, &args.command))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", reply.value().display(Style::PYTHON_PRETTY))
        .and_then(|()| out.flush())
        .map_err(|e| Failure::io("writing the output".to_owned(), &e))
}
