//! `qmp shell SOCKET`: an interactive shell that takes what QEMU's `qmp-shell` takes, with
//! the same meaning (`syntax.rs`), and raw JSON lines.
//!
//! One thread reads lines (rustyline on a terminal: editing, a persistent history, tab
//! completion); a second owns the crate's blocking client, runs each command and shows
//! events the moment they arrive, also while the prompt waits. It is the only thread that
//! prints what the server sent, so an event that came before a reply is printed before it.

use std::fs::File;
use std::io::{self, BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::time::Duration;

use clap::Args;
use qmp_codec::encode::{validate_json, Request};
use qmp_codec::schema::Schema;
use qmp_codec::transport::{Error, NO_ARGUMENTS};
use qmp_codec::write_json_string;
use qmp_codec::{OwnedMessage, Style};
use rustyline::completion::Completer;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::FileHistory;
use rustyline::validate::Validator;
use rustyline::{CompletionType, Context, Editor, ExternalPrinter, Helper};

use crate::client::{failure, parse_timeout, seconds, Session};
use crate::syntax::{self, Parser};
use crate::Failure;

/// Arguments of `qmp shell`.
#[derive(Args, Debug)]
#[command(after_help = "\
Input, one per line (as QEMU's qmp-shell takes it, and raw JSON):
  query-status
  blockdev-add driver=null-co node-name=n0 size=1048576
  blockdev-add driver=file node-name=f0 filename=/tmp/a.img cache.direct=false
  object-add qom-type=throttle-group id=t0 limits={'iops-total': 100}
  transaction( block-dirty-bitmap-add node=n0 name=b0 )
  transaction(            (then one action per line, then a line with `)`)
  {\"execute\": \"query-version\", \"id\": 1.0}

Values: integers, true/false in any case, JSON or Python literals for values that start with
{ or [ (null/None, true/True, lists, tuples, objects), strings otherwise (quotes are kept, as
qmp-shell keeps them). Dotted keys build nested objects. An empty line shows pending events
(events are also shown the moment they arrive). Lines starting with # are comments.

Examples:
  qmp shell /run/qsd.sock
  qmp shell -p -v -l session.log /run/qsd.sock
  qmp shell -H /run/qemu-monitor.sock       (HMP: info status, info block, ...)
  printf 'query-status\\nstop\\n' | qmp shell /run/qsd.sock")]
pub struct ShellArgs {
    /// The QMP monitor's UNIX socket.
    socket: PathBuf,
    /// Print replies and events indented (Python's `json.dumps(indent=2)`), not on one line.
    #[arg(short = 'p', long)]
    pretty: bool,
    /// Echo each request as it is sent, and keep the tool's request ids in replies.
    #[arg(short = 'v', long)]
    verbose: bool,
    /// Append every QMP message sent (`-> …`) and received (`<- …`) to FILE.
    #[arg(short = 'l', long = "logfile", value_name = "FILE")]
    logfile: Option<PathBuf>,
    /// HMP: send each line to `human-monitor-command` and print its text.
    #[arg(short = 'H', long)]
    hmp: bool,
    /// The history file (default: ~/.qmp_history).
    #[arg(long, value_name = "FILE")]
    history: Option<PathBuf>,
    /// Seconds to wait for the greeting and negotiation, then for each reply; a silent
    /// server ends the shell (exit 4) instead of hanging it.
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS", value_parser = parse_timeout)]
    timeout: f64,
}

/// What the shell can complete: command names, and (with a schema) argument names and
/// values. The shell asks with the command being typed; an implementation over the
/// server's `query-qmp-schema` can answer all three.
pub trait Vocabulary: Send {
    /// Every command name.
    fn commands(&self) -> &[String];
    /// The argument names of `command` (none known by default).
    fn arguments(&self, command: &str) -> Vec<String> {
        let _ = command;
        Vec::new()
    }
    /// The member names of the object at the dotted `path` of `command`'s arguments (`""`:
    /// the arguments themselves). By default the top-level [`arguments`](Self::arguments).
    fn members(&self, command: &str, path: &str) -> Vec<String> {
        if path.is_empty() {
            self.arguments(command)
        } else {
            Vec::new()
        }
    }
    /// The values `argument` of `command` can take, e.g. an enum's members (none known by
    /// default).
    fn values(&self, command: &str, argument: &str) -> Vec<String> {
        let _ = (command, argument);
        Vec::new()
    }
}

/// Command names from `query-commands`.
pub struct CommandNames(Vec<String>);

impl Vocabulary for CommandNames {
    fn commands(&self) -> &[String] {
        &self.0
    }
}

/// Command names, argument names and enum values from the server's own schema
/// (`query-qmp-schema`), read again at each completion (a Tab is rare; the reply is kept).
pub struct SchemaVocabulary {
    commands: Vec<String>,
    reply: Vec<u8>,
}

impl SchemaVocabulary {
    /// The names `f` finds in the schema, sorted; none when the reply does not index.
    fn with_schema(
        &self,
        f: impl FnOnce(&Schema<'_, Vec<qmp_codec::schema::Slot>>) -> Vec<String>,
    ) -> Vec<String> {
        let Ok(reply) = qmp_codec::Message::parse(&self.reply) else {
            return Vec::new();
        };
        let Ok(list) = qmp_codec::schema::reply_list(&reply) else {
            return Vec::new();
        };
        let Ok(schema) = Schema::build(list) else {
            return Vec::new();
        };
        let mut names = f(&schema);
        names.sort();
        names.dedup();
        names
    }
}

impl Vocabulary for SchemaVocabulary {
    fn commands(&self) -> &[String] {
        &self.commands
    }
    fn arguments(&self, command: &str) -> Vec<String> {
        self.members(command, "")
    }
    fn members(&self, command: &str, path: &str) -> Vec<String> {
        self.with_schema(|s| {
            s.member_names(command, path)
                .map(|n| n.to_cow().into_owned())
                .collect()
        })
    }
    fn values(&self, command: &str, argument: &str) -> Vec<String> {
        self.with_schema(|s| {
            s.enum_values(command, argument)
                .map(|n| n.to_cow().into_owned())
                .collect()
        })
    }
}

/// Completion for the line editor, over a [`Vocabulary`].
pub struct ShellHelper {
    vocabulary: Box<dyn Vocabulary>,
}

impl ShellHelper {
    /// Candidates for the word ending at `pos`: `(where it starts, candidates)`.
    pub fn candidates(&self, line: &str, pos: usize) -> (usize, Vec<String>) {
        let before = line.get(..pos).unwrap_or(line);
        let start = before
            .char_indices()
            .rev()
            .find(|(_, c)| c.is_whitespace())
            .map_or(0, |(i, c)| i + c.len_utf8());
        let word = &before[start..];
        let mut earlier = before[..start].split_whitespace();
        let mut command = earlier.next();
        // In a one-line `transaction( …`, the action type comes after `transaction(`.
        if command == Some("transaction(") {
            command = earlier.next();
        }
        let matching = |items: Vec<String>, prefix: &str| -> Vec<String> {
            items
                .into_iter()
                .filter(|i| i.starts_with(prefix))
                .collect()
        };
        match command {
            None => (start, matching(self.vocabulary.commands().to_vec(), word)),
            Some(command) => match word.split_once('=') {
                Some((key, value)) => (
                    start + key.len() + 1,
                    matching(self.vocabulary.values(command, key), value),
                ),
                None => {
                    // `a.b.c`: members of the object at `a.b`, completed after its dot.
                    let (path, last) = word.rsplit_once('.').unwrap_or(("", word));
                    let at = if path.is_empty() {
                        start
                    } else {
                        start + path.len() + 1
                    };
                    (
                        at,
                        matching(self.vocabulary.members(command, path), last)
                            .into_iter()
                            .map(|a| a + "=")
                            .collect(),
                    )
                }
            },
        }
    }
}

impl Completer for ShellHelper {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        Ok(self.candidates(line, pos))
    }
}

impl Hinter for ShellHelper {
    type Hint = String;
}
impl Highlighter for ShellHelper {}
impl Validator for ShellHelper {}
impl Helper for ShellHelper {}

/// Work for the client thread.
enum Job {
    /// A command built from shell syntax.
    Command(syntax::Command),
    /// A raw JSON line, sent as it is.
    Raw(String),
    /// An HMP command line.
    Hmp(String),
    /// Print the events that wait (an empty line).
    Events,
}

/// Where the client thread prints: stdout, or above the prompt while it waits.
struct Output {
    external: Option<Box<dyn ExternalPrinter + Send>>,
    log: Option<File>,
    pretty: bool,
}

impl Output {
    fn print(&mut self, text: String) {
        if let Some(p) = self.external.as_mut() {
            if p.print(format!("{text}\n")).is_ok() {
                return;
            }
        }
        let mut out = io::stdout().lock();
        // A closed stdout is noticed by the line reader's next prompt; nothing to do here.
        let _ = writeln!(out, "{text}").and_then(|()| out.flush());
    }

    /// A note from the tool (not from the server): above the prompt, or on stderr.
    fn note(&mut self, text: String) {
        if let Some(p) = self.external.as_mut() {
            if p.print(format!("{text}\n")).is_ok() {
                return;
            }
        }
        eprintln!("{text}");
    }

    fn log(&mut self, arrow: &str, json: &str) {
        if let Some(f) = self.log.as_mut() {
            let _ = writeln!(f, "{arrow} {json}");
        }
    }

    /// A message from the server, as the shell shows it.
    fn message(&mut self, msg: &OwnedMessage) {
        let bytes = msg.to_bytes();
        self.log("<-", &msg.compact_string());
        let style = if self.pretty {
            Style::PYTHON_PRETTY
        } else {
            Style::QEMU
        };
        let text = match validate_json(&bytes) {
            Ok(v) => v.display(style).to_string(),
            Err(_) => msg.compact_string(),
        };
        self.print(text);
    }

    /// Prints every event the client queued.
    fn events(&mut self, session: &mut Session) {
        let events: Vec<OwnedMessage> = std::iter::from_fn(|| session.client.try_event()).collect();
        for event in &events {
            self.message(event);
        }
    }
}

/// The reply to show: the tool's own id removed unless `keep_id`.
fn without_id(mut msg: OwnedMessage, keep_id: bool) -> OwnedMessage {
    if !keep_id {
        msg.remove("id");
    }
    msg
}

/// Runs one job; `Err` ends the shell.
fn run_job(
    session: &mut Session,
    job: Job,
    out: &mut Output,
    verbose: bool,
) -> Result<(), Failure> {
    let (result, ours, what) = match job {
        Job::Events => {
            out.events(session);
            return Ok(());
        }
        Job::Command(cmd) => {
            let request = cmd.to_json();
            if verbose {
                out.print(request.clone());
            }
            out.log("->", &request);
            let mut arguments = String::new();
            syntax::Node::Dict(cmd.arguments).write_json(&mut arguments);
            let result = match validate_json(arguments.as_bytes()) {
                Ok(args) => session
                    .client
                    .request(Request::execute(&cmd.name).with_arguments(args)),
                Err(e) => {
                    out.note(format!("cannot send {}: {e}", cmd.name));
                    return Ok(());
                }
            };
            (result, true, cmd.name)
        }
        Job::Raw(line) => {
            if verbose {
                out.print(line.clone());
            }
            out.log("->", &line);
            let result = match validate_json(line.as_bytes()) {
                Ok(value) => session.client.request_raw(value),
                Err(e) => {
                    out.note(format!("not JSON: {e}"));
                    return Ok(());
                }
            };
            (result, false, "the JSON line".to_owned())
        }
        Job::Hmp(line) => {
            let mut args = String::from("{\"command-line\":");
            let _ = write_json_string(&mut args, &line);
            args.push('}');
            let value = validate_json(args.as_bytes());
            let result = match value {
                Ok(v) => session.client.execute("human-monitor-command", Some(v)),
                Err(_) => session
                    .client
                    .execute("human-monitor-command", NO_ARGUMENTS),
            };
            out.log(
                "->",
                &format!("{{\"execute\":\"human-monitor-command\",\"arguments\":{args}}}"),
            );
            out.events(session);
            match result {
                Ok(text) => {
                    out.log("<-", &text.to_string());
                    let text = match text.value().as_str() {
                        Some(s) => s.to_cow().into_owned(),
                        None => text.to_string(),
                    };
                    if !text.is_empty() {
                        out.print(text.trim_end_matches(['\r', '\n']).replace("\r\n", "\n"));
                    }
                }
                Err(Error::Qmp(e)) => out.print(format!("{}: {}", e.class_name(), e.desc())),
                Err(e) => return Err(session.failure(e, "human-monitor-command")),
            }
            return Ok(());
        }
    };
    out.events(session);
    match result {
        Ok(msg) => out.message(&without_id(msg, verbose || !ours)),
        Err(Error::Qmp(e)) => out.message(&without_id(e.response().clone(), verbose || !ours)),
        Err(e) => return Err(session.failure(e, &what)),
    }
    Ok(())
}

/// The client thread: runs jobs, and between them shows events as they arrive.
fn client_thread(
    mut session: Session,
    jobs: Receiver<Job>,
    done: Sender<Result<(), Failure>>,
    mut out: Output,
    verbose: bool,
) {
    /// How long one wait for events lasts before looking for a job again.
    const POLL: Duration = Duration::from_millis(50);
    let mut ended: Option<String> = None;
    loop {
        let job = match (&ended, jobs.try_recv()) {
            (_, Ok(job)) => job,
            (_, Err(TryRecvError::Disconnected)) => return,
            (Some(_), Err(TryRecvError::Empty)) => match jobs.recv() {
                Ok(job) => job,
                Err(_) => return,
            },
            (None, Err(TryRecvError::Empty)) => {
                match session.client.next_event(Some(POLL)) {
                    Ok(Some(event)) => out.message(&event),
                    Ok(None) => {}
                    Err(e) => {
                        let f = failure(e, &session.path, session.timeout, "waiting for events");
                        let text = match &f {
                            Failure::Exit(_, m) | Failure::Qmp(m) => m.clone(),
                            Failure::BrokenPipe => String::new(),
                        };
                        out.note(format!("qmp: {text}"));
                        ended = Some(text);
                    }
                }
                continue;
            }
        };
        let result = match &ended {
            Some(why) => Err(Failure::Exit(crate::client::EXIT_CONNECTION, why.clone())),
            None => run_job(&mut session, job, &mut out, verbose),
        };
        if done.send(result).is_err() {
            return;
        }
    }
}

/// Where the shell's lines come from.
enum Lines {
    /// A terminal: line editing, history, completion.
    Editor(Box<Editor<ShellHelper, FileHistory>>, Option<PathBuf>),
    /// Anything else: plain lines.
    Plain(io::Lines<io::StdinLock<'static>>),
}

impl Lines {
    /// The next line; `None` at the end of the input (Ctrl-D).
    fn next(&mut self, prompt: &str) -> Result<Option<String>, Failure> {
        let read_err =
            |e: &dyn std::fmt::Display| Failure::Exit(2, format!("reading the input: {e}"));
        match self {
            Lines::Editor(editor, history) => loop {
                match editor.readline(prompt) {
                    Ok(line) => {
                        if !line.trim().is_empty() {
                            // History is a convenience: a failure to record is no reason to stop.
                            let _ = editor.add_history_entry(line.as_str());
                            if let Some(path) = history {
                                let _ = editor.save_history(path);
                            }
                        }
                        return Ok(Some(line));
                    }
                    // Ctrl-C abandons the line being typed, as in a shell.
                    Err(rustyline::error::ReadlineError::Interrupted) => continue,
                    Err(rustyline::error::ReadlineError::Eof) => return Ok(None),
                    Err(e) => return Err(read_err(&e)),
                }
            },
            Lines::Plain(lines) => lines.next().transpose().map_err(|e| read_err(&e)),
        }
    }
}

fn default_history() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".qmp_history"))
}

/// The command names the server has (none when it does not answer `query-commands`).
fn command_names(session: &mut Session) -> Vec<String> {
    let Ok(list) = session.client.execute("query-commands", NO_ARGUMENTS) else {
        return Vec::new();
    };
    let mut names: Vec<String> = list
        .value()
        .elements()
        .filter_map(|c| c.get("name").and_then(|n| n.as_str()))
        .map(|n| n.to_cow().into_owned())
        .collect();
    names.sort();
    names
}

/// Runs `qmp shell` until the end of its input.
pub fn run(args: &ShellArgs) -> Result<(), Failure> {
    let interactive = io::stdin().is_terminal();
    let mut session = Session::connect(&args.socket, seconds(args.timeout))?;
    let log = match &args.logfile {
        None => None,
        Some(path) => Some(
            File::options()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| Failure::io(format!("{}", path.display()), &e))?,
        ),
    };
    let mut lines = Lines::Plain(io::stdin().lock().lines());
    let mut external: Option<Box<dyn ExternalPrinter + Send>> = None;
    if interactive {
        let names = if args.hmp {
            Vec::new()
        } else {
            command_names(&mut session)
        };
        let config = rustyline::Config::builder()
            .max_history_size(1000)
            .map_err(|e| Failure::Exit(2, format!("line editor: {e}")))?
            .completion_type(CompletionType::List)
            .build();
        if let Ok(mut editor) = Editor::<ShellHelper, FileHistory>::with_config(config) {
            // Argument names and enum values come from the server's schema, where it has one.
            let schema = match args.hmp {
                true => None,
                false => crate::schema::fetch(&mut session).ok(),
            };
            let vocabulary: Box<dyn Vocabulary> = match schema {
                Some(reply) => Box::new(SchemaVocabulary {
                    commands: names,
                    reply,
                }),
                None => Box::new(CommandNames(names)),
            };
            editor.set_helper(Some(ShellHelper { vocabulary }));
            let history = args.history.clone().or_else(default_history);
            if let Some(path) = &history {
                // A missing history file is normal the first time.
                let _ = editor.load_history(path);
            }
            if let Ok(printer) = editor.create_external_printer() {
                external = Some(Box::new(printer));
            }
            lines = Lines::Editor(Box::new(editor), history);
        }
        let version = session
            .client
            .version()
            .map(|v| format!("QEMU {}.{}.{}", v.major, v.minor, v.micro))
            .unwrap_or_else(|| "the server".to_owned());
        println!(
            "Welcome to the QMP shell! Connected to {version} at {}.\n\
             Tab completes command names, Ctrl-D quits; `qmp shell --help` shows the syntax.",
            session.path
        );
    }
    let out = Output {
        external,
        log,
        pretty: args.pretty,
    };
    let (job_tx, job_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel();
    let verbose = args.verbose;
    let worker = std::thread::spawn(move || client_thread(session, job_rx, done_tx, out, verbose));
    let result = read_loop(args, &mut lines, &job_tx, &done_rx);
    drop(job_tx);
    // The thread ends when the job channel closes (it waits at most one poll).
    let _ = worker.join();
    result
}

/// Reads lines and hands each command to the client thread, waiting for it to finish.
fn read_loop(
    args: &ShellArgs,
    lines: &mut Lines,
    jobs: &Sender<Job>,
    done: &Receiver<Result<(), Failure>>,
) -> Result<(), Failure> {
    let mut parser = Parser::new();
    let ended = || {
        Failure::Exit(
            crate::client::EXIT_CONNECTION,
            "the session ended".to_owned(),
        )
    };
    loop {
        let prompt = if parser.in_transaction() {
            "TRANS> "
        } else if args.hmp {
            "(HMP) "
        } else {
            "(QEMU) "
        };
        let Some(line) = lines.next(prompt)? else {
            return Ok(());
        };
        let trimmed = line.trim();
        let job = if trimmed.is_empty() && !parser.in_transaction() {
            Job::Events
        } else if trimmed.starts_with('#') && !parser.in_transaction() {
            continue;
        } else if args.hmp {
            Job::Hmp(trimmed.to_owned())
        } else if trimmed.starts_with('{') && !parser.in_transaction() {
            Job::Raw(trimmed.to_owned())
        } else {
            match parser.line(&line) {
                Ok(Some(cmd)) => Job::Command(cmd),
                Ok(None) => continue,
                Err(e) => {
                    eprintln!(
                        "Error while parsing command line: {e}\n\
                         command format: <command-name> [arg-name1=arg1] ... [arg-nameN=argN]"
                    );
                    continue;
                }
            }
        };
        jobs.send(job).map_err(|_| ended())?;
        done.recv().map_err(|_| ended())??;
    }
}

#[cfg(test)]
mod tests {
    use super::{ShellHelper, Vocabulary};

    struct Schema;
    impl Vocabulary for Schema {
        fn commands(&self) -> &[String] {
            static NAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
            NAMES.get_or_init(|| {
                [
                    "query-status",
                    "query-version",
                    "quit",
                    "block-dirty-bitmap-add",
                ]
                .map(String::from)
                .to_vec()
            })
        }
        fn arguments(&self, command: &str) -> Vec<String> {
            match command {
                "block-dirty-bitmap-add" => vec!["node".into(), "name".into(), "persistent".into()],
                _ => Vec::new(),
            }
        }
        fn values(&self, _: &str, argument: &str) -> Vec<String> {
            match argument {
                "persistent" => vec!["true".into(), "false".into()],
                _ => Vec::new(),
            }
        }
    }

    #[test]
    fn completes_commands_arguments_and_values() {
        let h = ShellHelper {
            vocabulary: Box::new(Schema),
        };
        assert_eq!(
            h.candidates("query-", 6),
            (0, vec!["query-status".into(), "query-version".into()])
        );
        assert_eq!(h.candidates("q", 1).1.len(), 3);
        assert_eq!(h.candidates("", 0).1.len(), 4);
        assert_eq!(
            h.candidates("block-dirty-bitmap-add n", 24),
            (23, vec!["node=".into(), "name=".into()])
        );
        assert_eq!(
            h.candidates("block-dirty-bitmap-add node=n0 persistent=f", 44),
            (42, vec!["false".into()])
        );
        assert_eq!(
            h.candidates("transaction( block-dirty-bitmap-add p", 37),
            (36, vec!["persistent=".into()])
        );
    }
}
