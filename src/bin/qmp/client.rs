//! Connecting `exec`, `events` and `shell` to a QMP socket with the crate's blocking client
//! ([`qmp_codec::transport::blocking::Client`]): the tool has no read or write loop of its
//! own. This file adds what a command-line tool needs around it: a check that the monitor
//! greets at all (QEMU serves one client at a time and keeps a second one waiting without
//! a word), errors that name the socket and say what to try, and the exit codes.

use std::io;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use qmp_codec::client::{ClientConfig, ClientEvent, Violation};
use qmp_codec::transport::blocking::{Client, Config};
use qmp_codec::transport::Error;

use crate::Failure;

/// Exit status: the QMP server answered with an error.
pub const EXIT_QMP: u8 = 1;
/// Exit status: bad usage (arguments, JSON, `key=value`, an unreadable file).
pub const EXIT_USAGE: u8 = 2;
/// Exit status: no connection, or the connection broke (closed, I/O error, bad protocol).
pub const EXIT_CONNECTION: u8 = 3;
/// Exit status: no greeting, negotiation or reply within `--timeout`.
pub const EXIT_TIMEOUT: u8 = 4;

/// A `--timeout` in seconds: finite, positive, and small enough for a `Duration`.
pub fn parse_timeout(text: &str) -> Result<f64, String> {
    let secs: f64 = text.parse().map_err(|e| format!("{e}"))?;
    match Duration::try_from_secs_f64(secs) {
        Ok(d) if !d.is_zero() => Ok(secs),
        _ => Err("expected a positive number of seconds".to_owned()),
    }
}

/// A `--timeout` that [`parse_timeout`] admitted, as a `Duration`.
pub fn seconds(secs: f64) -> Duration {
    Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX)
}

/// A connected, negotiated session, with what its errors need to say.
pub struct Session {
    /// The crate's blocking client.
    pub client: Client<UnixStream>,
    /// The socket, for messages.
    pub path: String,
    /// The `--timeout`, for messages.
    pub timeout: Duration,
}

impl Session {
    /// Connects to `path` and negotiates; the greeting, then the negotiation, and later
    /// each reply must come within `timeout`. Bad messages from the server are reported on
    /// stderr and skipped.
    pub fn connect(path: &Path, timeout: Duration) -> Result<Session, Failure> {
        let shown = path.display().to_string();
        let stream = UnixStream::connect(path).map_err(|e| {
            let hint = match e.kind() {
                io::ErrorKind::NotFound => {
                    " (no such socket: is QEMU running with -qmp unix:PATH,server=on?)"
                }
                io::ErrorKind::ConnectionRefused => {
                    " (nothing listens there: QEMU may have exited and left the socket file)"
                }
                io::ErrorKind::PermissionDenied => " (run as a user that may open the socket)",
                _ => "",
            };
            Failure::Exit(
                EXIT_CONNECTION,
                format!("cannot connect to {shown}: {e}{hint}"),
            )
        })?;
        let secs = timeout.as_secs_f64();
        // Request ids start at `__qmp#00001`, as this tool has always numbered them.
        let config = Config::new()
            .with_client(ClientConfig::new().with_first_id(1))
            .with_timeout(Some(timeout))
            .with_write_timeout(Some(timeout));
        let mut client = Client::connect(stream, &config).map_err(|e| match e {
            // QEMU accepts a second connection to a busy monitor and says nothing until the
            // first client leaves.
            Error::NoGreeting => Failure::Exit(
                EXIT_TIMEOUT,
                format!(
                    "no greeting from {shown} within {secs} s: a QEMU monitor serves one \
                         client at a time, so another client (a running `qmp events` or \
                         `qmp shell`, libvirt, …) probably holds it. Close that client, or \
                         give QEMU a second monitor (-qmp unix:OTHER.sock,server=on,wait=off), \
                         or wait longer with --timeout. (A guest agent socket never greets: \
                         it is not a QMP monitor.)"
                ),
            ),
            Error::Timeout => Failure::Exit(
                EXIT_TIMEOUT,
                format!(
                    "{shown} greeted but did not answer qmp_capabilities within {secs} s \
                     (is it a QMP monitor? a guest agent socket takes no negotiation)"
                ),
            ),
            other => failure(other, &shown, timeout, "negotiating"),
        })?;
        // The callback can only be set once connected: what was skipped before is counted.
        let early = client.protocol_violations();
        if early > 0 {
            eprintln!(
                "qmp: skipped {early} message(s) from {shown} that broke the protocol while \
                 connecting"
            );
        }
        client.on_protocol_violation(report_violation);
        Ok(Session {
            client,
            path: shown,
            timeout,
        })
    }

    /// The failure for `e`, from doing `what`.
    pub fn failure(&self, e: Error, what: &str) -> Failure {
        failure(e, &self.path, self.timeout, what)
    }
}

/// The failure for a transport error from doing `what` on `path`.
pub fn failure(e: Error, path: &str, timeout: Duration, what: &str) -> Failure {
    let secs = timeout.as_secs_f64();
    match e {
        Error::Qmp(e) => Failure::Qmp(format!("{}: {}", e.class_name(), e.desc())),
        Error::Negotiation(e) => Failure::Exit(
            EXIT_QMP,
            format!(
                "{path} refused the negotiation: {}: {}",
                e.class_name(),
                e.desc()
            ),
        ),
        Error::Timeout => Failure::Exit(
            EXIT_TIMEOUT,
            format!(
                "timed out: no reply from {path} within {secs} s ({what}); the server may be \
                 busy: try a longer --timeout"
            ),
        ),
        Error::Closed => Failure::Exit(
            EXIT_CONNECTION,
            format!("{path} closed the connection ({what})"),
        ),
        Error::Refused(e) => Failure::Exit(EXIT_USAGE, format!("request not sent: {e}")),
        Error::InvalidResponse(m) => Failure::Exit(
            EXIT_CONNECTION,
            format!(
                "{path} sent an invalid response ({what}): {}",
                m.compact_string()
            ),
        ),
        Error::Io(e) => Failure::Exit(EXIT_CONNECTION, format!("{path}: {e} ({what})")),
        other => Failure::Exit(EXIT_CONNECTION, format!("{path}: {other} ({what})")),
    }
}

/// Reports a message the client skipped (junk, a reply nobody waits for) on stderr.
fn report_violation(event: &ClientEvent<'_>) {
    let what = match event {
        ClientEvent::Violation(Violation::Parse(e)) => format!("{e}"),
        ClientEvent::Violation(Violation::Frame(e)) => format!("{e}"),
        ClientEvent::Violation(
            Violation::Model(m, _)
            | Violation::UnexpectedGreeting(m)
            | Violation::UnexpectedMessage(m),
        ) => m.compact().to_string(),
        ClientEvent::Refused { violation, .. } => {
            format!("a message over a limit, which failed the oldest command: {violation:?}")
        }
        ClientEvent::Unmatched { message, .. } => {
            format!("a reply to no request of ours: {}", message.compact())
        }
        ClientEvent::Response(r) => {
            format!("a reply to no request of ours: {}", r.message().compact())
        }
        _ => return,
    };
    eprintln!("qmp: skipped a message from the server: {what}");
}
