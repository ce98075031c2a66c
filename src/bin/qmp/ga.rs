//! `qmp ga SOCKET COMMAND [ARGUMENTS_JSON]` and `qmp ga SOCKET exec -- PROGRAM ARGS...`: the
//! guest agent, through the blocking agent transport (`transport::agent`).

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use qmp_codec::encode::validate_json;
use qmp_codec::transport::agent::AgentClient;
use qmp_codec::transport::Error;
use qmp_codec::{Style, ValueKind};

use crate::client::{failure as transport_failure, parse_timeout, seconds};
use crate::Failure;

/// Arguments of `qmp ga`.
#[derive(Args, Debug)]
pub struct GaArgs {
    /// The agent's UNIX socket, or its character device (a virtio-serial port).
    socket: PathBuf,
    /// The command to run (e.g. `guest-info`), or `exec` to run a program in the guest.
    command: String,
    /// The command's arguments as a JSON object; for `exec`, `-- PROGRAM ARGS...`.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    rest: Vec<String>,
    /// Seconds for the whole call (the sync included; for `exec`, until the program exits).
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS", value_parser = parse_timeout)]
    timeout: f64,
}

/// Runs `qmp ga`: prints the return value as `qmp exec` does (exit statuses as the other
/// subcommands: 1 with `CLASS: desc` on an agent error, 3 on a connection error, 4 on a
/// timeout); for `exec`, the program's output goes to stdout and stderr and its exit code is
/// the tool's (128 + the signal when one killed it).
pub fn run(args: &GaArgs) -> Result<(), Failure> {
    let mut ga = connect(args)?;
    ga.set_timeout(Some(seconds(args.timeout)));
    if args.command == "exec" {
        let (program, program_args) = match args.rest.split_first() {
            Some((p, rest)) if p == "--" => match rest.split_first() {
                Some((p, rest)) => (p, rest),
                None => return Err(usage()),
            },
            Some((p, rest)) => (p, rest),
            None => return Err(usage()),
        };
        let program_args: Vec<&str> = program_args.iter().map(String::as_str).collect();
        let result = ga
            .exec(program, &program_args, None)
            .map_err(failure(args))?;
        let written = std::io::stdout()
            .lock()
            .write_all(&result.stdout)
            .and_then(|()| std::io::stdout().flush())
            .and_then(|()| std::io::stderr().lock().write_all(&result.stderr));
        written.map_err(|e| Failure::io("writing the output".to_owned(), &e))?;
        let code = match (result.exit_code, result.signal) {
            (Some(code), _) => code,
            (None, Some(signal)) => 128 + signal,
            (None, None) => 2,
        };
        return match u8::try_from(code) {
            Ok(0) => Ok(()),
            Ok(code) => Err(Failure::Exit(code, String::new())),
            Err(_) => Err(Failure::Exit(2, format!("exit code {code}"))),
        };
    }
    let arguments = match args.rest.as_slice() {
        [] => None,
        [text] => {
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
        _ => return Err(usage()),
    };
    let value = ga
        .execute(&args.command, arguments)
        .map_err(failure(args))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", value.value().display(Style::PYTHON_PRETTY))
        .and_then(|()| out.flush())
        .map_err(|e| Failure::io("writing the output".to_owned(), &e))
}

fn usage() -> Failure {
    Failure::Exit(
        2,
        "usage: qmp ga SOCKET COMMAND [ARGUMENTS_JSON] | qmp ga SOCKET exec -- PROGRAM [ARGS...]"
            .to_owned(),
    )
}

/// A socket is connected to; anything else (a character device) is opened for reading and
/// writing.
fn connect(args: &GaArgs) -> Result<Ga, Failure> {
    use std::os::unix::fs::FileTypeExt;
    let what = args.socket.display().to_string();
    let meta = std::fs::metadata(&args.socket).map_err(|e| Failure::io(what.clone(), &e))?;
    if meta.file_type().is_socket() {
        AgentClient::connect_unix(&args.socket)
            .map(Ga::Socket)
            .map_err(failure(args))
    } else {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&args.socket)
            .map_err(|e| Failure::io(what, &e))?;
        AgentClient::new(file)
            .map(Ga::Device)
            .map_err(failure(args))
    }
}

/// The tool's one mapping of transport errors to exit statuses and messages.
fn failure(args: &GaArgs) -> impl Fn(Error) -> Failure + '_ {
    move |e| {
        transport_failure(
            e,
            &args.socket.display().to_string(),
            seconds(args.timeout),
            "the guest agent call",
        )
    }
}

/// The two kinds of agent channel.
enum Ga {
    Socket(AgentClient<std::os::unix::net::UnixStream>),
    Device(AgentClient<std::fs::File>),
}

impl Ga {
    fn set_timeout(&mut self, timeout: Option<std::time::Duration>) {
        match self {
            Ga::Socket(c) => c.set_timeout(timeout),
            Ga::Device(c) => c.set_timeout(timeout),
        }
    }

    fn execute(
        &mut self,
        name: &str,
        arguments: Option<qmp_codec::Value<'_>>,
    ) -> Result<qmp_codec::OwnedValue, Error> {
        match self {
            Ga::Socket(c) => c.execute(name, arguments),
            Ga::Device(c) => c.execute(name, arguments),
        }
    }

    fn exec(
        &mut self,
        program: &str,
        args: &[&str],
        input: Option<&[u8]>,
    ) -> Result<qmp_codec::agent::commands::ExecResult, Error> {
        match self {
            Ga::Socket(c) => c.exec(program, args, input),
            Ga::Device(c) => c.exec(program, args, input),
        }
    }
}
