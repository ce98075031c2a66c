//! `qmp schema SOCKET [NAME]`: the server's commands and events with readable signatures,
//! and `qmp exec --check`: the local check before sending.
//!
//! Type names other than builtins are masked in introspection (`"38"`), so signatures print
//! what each type is: `enum {a, b}`, `[str]`, `{name: str, opt?: int}`, `str | {…}`.

use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use qmp_codec::encode::Request;
use qmp_codec::schema::{check_command, Entry, MetaType, Schema};
use qmp_codec::{Command, Message};

use crate::client::{parse_timeout, seconds, Session};
use crate::Failure;

/// Arguments of `qmp schema`.
#[derive(Args, Debug)]
pub struct SchemaArgs {
    /// The QMP monitor's UNIX socket.
    socket: PathBuf,
    /// A command or event to show in full; without it, every command and event on one line
    /// each.
    name: Option<String>,
    /// Seconds to wait for the negotiation, and then for the reply.
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS", value_parser = parse_timeout)]
    timeout: f64,
}

/// The schema reply of a session, as bytes (parse them with [`Message::parse`]).
pub fn fetch(session: &mut Session) -> Result<Vec<u8>, Failure> {
    let reply = session
        .client
        .request(Request::execute("query-qmp-schema"))
        .map_err(|e| session.failure(e, "query-qmp-schema"))?;
    Ok(reply.to_bytes().into_owned())
}

fn build<'a>(reply: &Message<'a>) -> Result<Schema<'a, Vec<qmp_codec::schema::Slot>>, Failure> {
    let list = qmp_codec::schema::reply_list(reply)
        .map_err(|e| Failure::Exit(2, format!("query-qmp-schema: {e}")))?;
    Schema::build(list).map_err(|e| Failure::Exit(2, format!("query-qmp-schema: {e}")))
}

/// Runs `qmp schema`.
pub fn run(args: &SchemaArgs) -> Result<(), Failure> {
    let mut session = Session::connect(&args.socket, seconds(args.timeout))?;
    let bytes = fetch(&mut session)?;
    let reply = Message::parse(&bytes)
        .map_err(|e| Failure::Exit(2, format!("query-qmp-schema reply: {e}")))?;
    let schema = build(&reply)?;
    let mut text = String::new();
    match &args.name {
        Some(name) => {
            let entry = schema
                .get(name)
                .filter(|e| matches!(e.meta_type(), MetaType::Command | MetaType::Event))
                .ok_or_else(|| Failure::Exit(1, format!("no command or event named {name}")))?;
            text = signature(&schema, entry, DETAIL_DEPTH);
            text.push('\n');
        }
        None => {
            for entry in schema.entries() {
                if matches!(entry.meta_type(), MetaType::Command | MetaType::Event) {
                    let _ = writeln!(text, "{}", signature(&schema, entry, LIST_DEPTH));
                }
            }
        }
    }
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Failure::io("writing the output".to_owned(), &e))
}

/// How deep object types are spelled out on a listing line, and for one name.
const LIST_DEPTH: usize = 1;
const DETAIL_DEPTH: usize = 4;
/// Enum values shown on a listing line before `…`.
const LIST_ENUM_VALUES: usize = 6;

/// `name(arg: type, opt?: type) -> ret` for a command, `event NAME(data members)` for an
/// event, with `[deprecated]` / `[unstable]` marks.
pub fn signature<I: AsRef<[qmp_codec::schema::Slot]>>(
    schema: &Schema<'_, I>,
    entry: Entry<'_>,
    depth: usize,
) -> String {
    let mut out = String::new();
    if entry.meta_type() == MetaType::Event {
        out.push_str("event ");
    }
    out.push_str(entry.name());
    out.push('(');
    if let Some(args) = entry.arg_type().and_then(|t| schema.get(t)) {
        members(schema, args, depth, &mut out);
    }
    out.push(')');
    if let Some(ret) = entry.ret_type().and_then(|t| schema.get(t)) {
        out.push_str(" -> ");
        ty(schema, ret, depth, &mut out);
    }
    for f in entry.features() {
        let _ = write!(out, " [{f}]");
    }
    out
}

/// An object's members, `a: T, b?: T`, then its union variants, `| tag=case: {…}` (from
/// depth 2; below, `… by tag`). Recursion stops at `depth` (a small constant), where
/// objects print as `{…}`.
fn members<I: AsRef<[qmp_codec::schema::Slot]>>(
    schema: &Schema<'_, I>,
    object: Entry<'_>,
    depth: usize,
    out: &mut String,
) {
    let mut first = true;
    for m in object.members() {
        let Some(name) = m.name else { continue };
        if !first {
            out.push_str(", ");
        }
        first = false;
        let _ = write!(out, "{name}{}: ", if m.optional { "?" } else { "" });
        match schema.get(m.ty) {
            Some(t) => ty(schema, t, depth.saturating_sub(1), out),
            None => out.push_str(m.ty),
        }
        for f in m.features() {
            let _ = write!(out, " [{f}]");
        }
    }
    let Some(tag) = object.tag() else { return };
    if depth < 2 {
        let _ = write!(out, ", … by {tag}");
        return;
    }
    for (case, variant) in object.variants() {
        let _ = write!(out, " | {tag}={case}: {{");
        match schema.get(variant) {
            Some(v) => members(schema, v, depth.saturating_sub(1), out),
            None => out.push_str(variant),
        }
        out.push('}');
    }
}

fn ty<I: AsRef<[qmp_codec::schema::Slot]>>(
    schema: &Schema<'_, I>,
    entry: Entry<'_>,
    depth: usize,
    out: &mut String,
) {
    match entry.meta_type() {
        MetaType::Builtin => out.push_str(entry.name()),
        MetaType::Enum => {
            out.push_str("enum {");
            let limit = if depth >= DETAIL_DEPTH - 1 {
                usize::MAX
            } else {
                LIST_ENUM_VALUES
            };
            for (i, v) in entry.enum_values().enumerate() {
                if i == limit {
                    out.push_str(", …");
                    break;
                }
                if i > 0 {
                    out.push_str(", ");
                }
                let _ = write!(out, "{}", v.name);
            }
            out.push('}');
        }
        MetaType::Array => {
            out.push('[');
            match entry.element_type().and_then(|t| schema.get(t)) {
                Some(e) => ty(schema, e, depth, out),
                None => out.push('?'),
            }
            out.push(']');
        }
        MetaType::Object => {
            if depth == 0 {
                out.push_str(if entry.members().next().is_none() {
                    "{}"
                } else {
                    "{…}"
                });
            } else {
                out.push('{');
                members(schema, entry, depth, out);
                out.push('}');
            }
        }
        MetaType::Alternate => {
            for (i, m) in entry.members().enumerate() {
                if i > 0 {
                    out.push_str(" | ");
                }
                match schema.get(m.ty) {
                    Some(t) => ty(schema, t, depth, out),
                    None => out.push_str(m.ty),
                }
            }
        }
        _ => out.push_str(entry.name()),
    }
}

/// `qmp exec --check`: fetches the server's schema on the session and checks the command
/// against it. A command the server would refuse is not sent: `CLASS: desc` as QEMU would
/// word it, exit 1. Deprecated and unstable features it uses are printed to stderr.
pub fn check_before_exec(
    session: &mut Session,
    name: &str,
    arguments: Option<&str>,
) -> Result<(), Failure> {
    let bytes = fetch(session)?;
    let reply = Message::parse(&bytes)
        .map_err(|e| Failure::Exit(2, format!("query-qmp-schema reply: {e}")))?;
    let schema = build(&reply)?;
    let mut text = String::from("{\"execute\": ");
    let _ = qmp_codec::write_json_string(&mut text, name);
    if let Some(args) = arguments {
        text.push_str(", \"arguments\": ");
        text.push_str(args);
    }
    text.push('}');
    let msg = Message::parse(text.as_bytes())
        .map_err(|e| Failure::Exit(2, format!("the command is not valid QMP: {e}")))?;
    let command = Command::try_from(msg)
        .map_err(|e| Failure::Exit(2, format!("the command is not valid QMP: {e}")))?;
    let checked = check_command(&schema, &command)
        .map_err(|e| Failure::Exit(2, format!("cannot check the command: {e}")))?;
    for note in &checked.notes {
        eprintln!("qmp: note: {note}");
    }
    match checked.rejection {
        None => Ok(()),
        Some(r) => Err(Failure::Qmp(format!(
            "{}: {r} (checked against the server's schema; not sent)",
            r.class().known_name().unwrap_or("GenericError")
        ))),
    }
}
