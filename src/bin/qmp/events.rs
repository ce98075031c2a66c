//! `qmp events SOCKET`: print events as they arrive, with their data and timestamp.

use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use qmp_codec::transport::Error;
use qmp_codec::{OwnedMessage, Style, Value};

use crate::client::{parse_timeout, seconds, Session};
use crate::Failure;

/// How each event is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EventFormat {
    /// `2026-12-03T21:53:11.123456Z JOB_STATUS_CHANGE {"id": "j0", "status": "created"}`
    Summary,
    /// The whole event as Python's `json.dumps(indent=2)` prints it.
    Pretty,
    /// The whole event as one JSON line.
    Compact,
}

/// Arguments of `qmp events`.
#[derive(Args, Debug)]
#[command(after_help = "\
Examples:
  qmp events /run/qsd.sock
  qmp events /run/qsd.sock --filter 'JOB_*' --filter BLOCK_JOB_COMPLETED --count 1
  qmp events /run/qsd.sock --format compact | jq .data

A QEMU monitor serves one client at a time: while `qmp events` holds the socket, other
clients wait (`qmp exec` says so after its --timeout). Give QEMU a second monitor to watch
events and send commands at once.")]
pub struct EventsArgs {
    /// The QMP monitor's UNIX socket.
    socket: PathBuf,
    /// Stop after this many (matching) events; default: run until the server closes.
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// Print only events whose name matches this glob (`*` and `?`, any case); repeat for
    /// several.
    #[arg(long, value_name = "NAME")]
    filter: Vec<String>,
    /// How each event is printed.
    #[arg(long, value_enum, default_value_t = EventFormat::Summary)]
    format: EventFormat,
    /// Seconds to wait for the greeting and the negotiation (exit 4 when they do not
    /// come). Waiting for events has no limit.
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS", value_parser = parse_timeout)]
    timeout: f64,
}

/// Whether `name` matches `pattern`: `*` any run, `?` one character, ASCII case ignored.
/// Iterative, with one backtrack point (the last `*`): linear in practice, never recursive.
pub fn glob(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().map(|c| c.to_ascii_uppercase()).collect();
    let n: Vec<char> = name.chars().map(|c| c.to_ascii_uppercase()).collect();
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < n.len() {
        match p.get(i) {
            Some('*') => {
                star = Some((i, j));
                i += 1;
            }
            Some(&c) if c == '?' || c == n[j] => {
                i += 1;
                j += 1;
            }
            _ => match star {
                Some((si, sj)) => {
                    i = si + 1;
                    j = sj + 1;
                    star = Some((si, sj + 1));
                }
                None => return false,
            },
        }
    }
    p[i..].iter().all(|&c| c == '*')
}

/// Days since 1970-01-01 as a proleptic Gregorian (year, month, day).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// An event's timestamp as UTC (`2026-12-03T21:53:11.123456Z`), or `-` when the server had
/// none (`-1`/`-1`) or it is out of range.
pub fn timestamp(event: &OwnedMessage) -> String {
    let ts: Option<Value<'_>> = event.get("timestamp");
    let part = |k: &str| ts.and_then(|t| t.get(k)).and_then(|v| v.as_i64());
    match (part("seconds"), part("microseconds")) {
        (Some(s), Some(us))
            if (0..=253_402_300_799).contains(&s) && (0..1_000_000).contains(&us) =>
        {
            let (y, mo, d) = civil_from_days(s.div_euclid(86_400));
            let t = s.rem_euclid(86_400);
            format!(
                "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{us:06}Z",
                t / 3600,
                t / 60 % 60,
                t % 60
            )
        }
        _ => "-".to_owned(),
    }
}

/// One event in `format`.
pub fn format_event(out: &mut String, event: &OwnedMessage, format: EventFormat) {
    match format {
        EventFormat::Pretty => {
            let _ = write!(out, "{event}");
        }
        EventFormat::Compact => out.push_str(&event.compact_string()),
        EventFormat::Summary => {
            let name = event
                .get("event")
                .and_then(|v| v.as_str())
                .map(|s| s.to_cow().into_owned());
            let _ = write!(
                out,
                "{} {}",
                timestamp(event),
                name.as_deref().unwrap_or("?")
            );
            if let Some(data) = event.get("data") {
                let _ = write!(out, " {}", data.display(Style::QEMU));
            }
        }
    }
}

/// Runs `qmp events`. Each event is flushed as it is printed.
pub fn run(args: &EventsArgs) -> Result<(), Failure> {
    let mut session = Session::connect(&args.socket, seconds(args.timeout))?;
    let mut out = std::io::stdout().lock();
    let mut seen = 0u64;
    let mut line = String::new();
    while args.count.is_none_or(|n| seen < n) {
        let event = match session.client.next_event(None) {
            Ok(Some(event)) => event,
            Ok(None) => continue,
            Err(Error::Closed) => break,
            Err(e) => return Err(session.failure(e, "waiting for events")),
        };
        let name = event
            .get("event")
            .and_then(|v| v.as_str())
            .map(|s| s.to_cow().into_owned());
        let name = name.unwrap_or_default();
        if !args.filter.is_empty() && !args.filter.iter().any(|f| glob(f, &name)) {
            continue;
        }
        line.clear();
        format_event(&mut line, &event, args.format);
        writeln!(out, "{line}")
            .and_then(|()| out.flush())
            .map_err(|e| Failure::io("writing the output".to_owned(), &e))?;
        seen += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{civil_from_days, glob};

    #[test]
    fn globs() {
        assert!(glob("JOB_*", "JOB_STATUS_CHANGE"));
        assert!(glob("job_*", "JOB_STATUS_CHANGE"));
        assert!(glob("*", ""));
        assert!(glob("*_COMPLETED", "BLOCK_JOB_COMPLETED"));
        assert!(glob("B?OCK*JOB*", "BLOCK_JOB_READY"));
        assert!(!glob("JOB_*", "BLOCK_JOB_READY"));
        assert!(!glob("STOP", "STOPPED"));
        assert!(glob(
            "*A*A*A*B",
            &"A".repeat(50).chars().chain(['B']).collect::<String>()
        ));
        assert!(!glob("*A*A*A*B", &"A".repeat(50)));
    }

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(2_932_896), (9999, 12, 31));
    }
}
