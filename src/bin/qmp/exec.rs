//! `qmp exec SOCKET COMMAND [ARGUMENTS_JSON]`: run one command and print its return value.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use qmp_codec::encode::validate_json;
use qmp_codec::{Style, ValueKind};

use crate::client::{parse_timeout, seconds, Incoming, Session, TX_LEN};
use crate::Failure;

/// Arguments of `qmp exec`.
#[derive(Args, Debug)]
pub struct ExecArgs {
    /// The QMP monitor's UNIX socket.
    socket: PathBuf,
    /// The command to run, e.g. `query-status`.
    command: String,
    /// The command's arguments, a JSON object, e.g. '{"node-name": "n0"}'.
    arguments: Option<String>,
    /// Seconds to wait for the negotiation, and then for the reply; a silent server makes
    /// the command fail (exit 2) instead of hanging.
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS", value_parser = parse_timeout)]
    timeout: f64,
    /// Check the command against the server's schema first (`query-qmp-schema`); a command
    /// the server would refuse is not sent (exit 1 with QEMU's error text).
    #[arg(long)]
    check: bool,
}

/// Prints bad frames to stderr; events and stray responses are not this command's business.
pub fn report_bad(incoming: Incoming<'_>) {
    if let Incoming::Bad(line) = incoming {
        eprintln!("{line}");
    }
}

/// Runs `qmp exec`: exit 0 with the return value printed as `json.dumps(indent=2)` does, 1
/// with `CLASS: desc` on stderr for a QMP error.
pub fn run(args: &ExecArgs) -> Result<(), Failure> {
    let arguments = match &args.arguments {
        None => None,
        Some(text) => {
            let value = validate_json(text.as_bytes())
                .map_err(|e| Failure::Exit(2, format!("ARGUMENTS_JSON is not valid JSON: {e}")))?;
            if value.kind() != ValueKind::Object {
                return Err(Failure::Exit(
                    2,
                    format!("ARGUMENTS_JSON must be a JSON object, not {}", value.kind()),
                ));
            }
            Some(value)
        }
    };
    let timeout = seconds(args.timeout);
    let mut tx = vec![0u8; TX_LEN];
    let mut session = Session::connect(&args.socket, &mut tx, Some(timeout), &mut report_bad)?;
    if args.check {
        crate::schema::check_before_exec(&mut session, &args.command, arguments)?;
    }
    let reply = session.execute(&args.command, arguments, &mut report_bad)?;
    match reply.outcome() {
        Ok(value) => {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", value.display(Style::PYTHON_PRETTY))
                .and_then(|()| out.flush())
                .map_err(|e| Failure::io("writing the output".to_owned(), &e))
        }
        Err((class, desc)) => Err(Failure::Qmp(format!("{class}: {desc}"))),
    }
}
