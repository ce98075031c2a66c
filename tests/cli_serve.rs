//! `qmp serve`, `qmp exec`, `qmp events` and `qmp shell` against real peers: the reference
//! Python client `qemu.qmp`, raw sockets, a scripted server, and each other.
#![cfg(feature = "cli")]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::time::Duration;

use common::cli::{qmp, qmp_ok, serve, serve_with, TempDir};
use qmp_codec::{Dialect, Framer, FramerConfig, Status};
use serde_json::{json, Value};

/// The greeting `qmp serve` sends, parsed.
fn greeting() -> Value {
    let mut v = env!("CARGO_PKG_VERSION")
        .split('.')
        .map(|p| p.parse::<u64>().unwrap());
    let (major, minor, micro) = (v.next().unwrap(), v.next().unwrap(), v.next().unwrap());
    json!({"QMP": {"version": {"qemu": {"micro": micro, "minor": minor, "major": major},
        "package": concat!("qmp-codec ", env!("CARGO_PKG_VERSION"))}, "capabilities": ["oob"]}})
}

/// A raw client: reads `\r\n`-terminated lines.
struct Raw {
    stream: UnixStream,
    reader: BufReader<UnixStream>,
}

impl Raw {
    fn connect(path: &std::path::Path) -> Raw {
        let stream = UnixStream::connect(path).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let reader = BufReader::new(stream.try_clone().unwrap());
        Raw { stream, reader }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    /// The next line, `\r\n` checked and removed.
    fn line(&mut self) -> String {
        let mut line = String::new();
        self.reader
            .read_line(&mut line)
            .expect("a line within the timeout");
        assert!(line.ends_with("\r\n"), "{line:?}");
        line.truncate(line.len() - 2);
        line
    }

    /// The next line as JSON, an event's timestamp checked and removed.
    fn json(&mut self) -> Value {
        let mut v: Value = serde_json::from_str(&self.line()).unwrap();
        if let Some(ts) = v.as_object_mut().and_then(|o| o.remove("timestamp")) {
            assert!(ts["seconds"].as_i64().unwrap() > 1_600_000_000);
            assert!(ts["microseconds"].as_i64().unwrap() < 1_000_000);
        }
        v
    }
}

#[test]
fn reference_client_drives_serve() {
    let Some(python) = common::python_with_qemu_qmp() else {
        eprintln!("skipped: no Python with qemu.qmp");
        return;
    };
    let dir = TempDir::new();
    let socket = dir.join("qmp.sock");
    let mut server = serve(&socket);
    let out = common::run_python(&python, "serve_client.py", &[socket.to_str().unwrap()], b"");
    let got: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let version = greeting()["QMP"]["version"].clone();
    let status = |running: bool| {
        json!({"status": if running { "running" } else { "paused" }, "singlestep": false,
               "running": running})
    };
    let want = vec![
        json!({"step": "greeting", "value": greeting()}),
        json!({"step": "query-version", "return": version}),
        json!({"step": "query-status", "return": status(true)}),
        json!({"step": "stop", "return": {}}),
        json!({"step": "event", "value": {"event": "STOP"}}),
        json!({"step": "query-status", "return": status(false)}),
        json!({"step": "cont", "return": {}}),
        json!({"step": "event", "value": {"event": "RESUME"}}),
        json!({"step": "query-commands", "return": [
            {"name": "qmp_capabilities"}, {"name": "query-version"}, {"name": "query-commands"},
            {"name": "query-status"}, {"name": "stop"}, {"name": "cont"}, {"name": "quit"}]}),
        json!({"step": "nope", "error": ["CommandNotFound", "The command nope has not been found"]}),
        json!({"step": "query-status", "error": ["GenericError", "Parameter 'verbose' is unexpected"]}),
        json!({"step": "quit", "return": {}}),
        json!({"step": "event", "value": {"event": "SHUTDOWN",
               "data": {"guest": false, "reason": "host-qmp-quit"}}}),
        json!({"step": "disconnect", "eof": true}),
    ];
    assert_eq!(got, want);
    // `quit` ends the server, which removes its socket.
    let status = server.wait_exit(10).expect("qmp serve exits after quit");
    assert!(status.success(), "{status}");
    assert!(!socket.exists());
}

#[test]
fn raw_sockets_against_serve() {
    let dir = TempDir::new();
    let socket = dir.join("qmp.sock");
    let mut server = serve(&socket);

    let mut c = Raw::connect(&socket);
    assert_eq!(c.json(), greeting());
    // Before negotiation, with and without an id; exec-oob is not even a known member yet.
    c.send(b"{\"execute\": \"query-status\", \"id\": 1}\n{\"execute\": \"stop\"}");
    assert_eq!(
        c.line(),
        r#"{"id": 1, "error": {"class": "CommandNotFound", "desc": "Expecting capabilities negotiation with 'qmp_capabilities'"}}"#
    );
    assert_eq!(
        c.line(),
        r#"{"error": {"class": "CommandNotFound", "desc": "Expecting capabilities negotiation with 'qmp_capabilities'"}}"#
    );
    c.send(br#"{"exec-oob": "query-status", "id": "o"}"#);
    assert_eq!(
        c.line(),
        r#"{"id": "o", "error": {"class": "GenericError", "desc": "QMP input member 'exec-oob' is unexpected"}}"#
    );
    c.send(br#"{"execute": "qmp_capabilities", "arguments": {"enable": ["bogus-cap"]}, "id": 2}"#);
    assert_eq!(
        c.line(),
        r#"{"id": 2, "error": {"class": "GenericError", "desc": "Parameter 'null' does not accept value 'bogus-cap'"}}"#
    );
    c.send(br#"{"execute": "qmp_capabilities", "arguments": {"enable": ["oob"]}, "id": 3}"#);
    assert_eq!(c.line(), r#"{"return": {}, "id": 3}"#);
    c.send(br#"{"execute": "qmp_capabilities"}"#);
    assert_eq!(
        c.line(),
        r#"{"error": {"class": "CommandNotFound", "desc": "Capabilities negotiation is already complete, command ignored"}}"#
    );

    // Malformed JSON followed by a valid command in the same write.
    c.send(b"{\"execute\": tru} %{\"execute\": \"query-status\", \"id\": \"q\\u00e9\"}");
    assert_eq!(
        c.line(),
        r#"{"error": {"class": "GenericError", "desc": "JSON parse error, invalid keyword 'tru'"}}"#
    );
    assert_eq!(
        c.line(),
        r#"{"error": {"class": "GenericError", "desc": "JSON parse error, stray '%'"}}"#
    );
    assert_eq!(
        c.line(),
        r#"{"return": {"status": "running", "singlestep": false, "running": true}, "id": "q\u00E9"}"#
    );
    // Not an object; a duplicate key; a bad member.
    c.send(b"[1] {\"execute\": \"stop\", \"execute\": \"cont\"} {\"execute\": \"stop\", \"id\": [7], \"argumnets\": {}}");
    assert_eq!(
        c.line(),
        r#"{"error": {"class": "GenericError", "desc": "QMP input must be a JSON object"}}"#
    );
    assert_eq!(
        c.line(),
        r#"{"error": {"class": "GenericError", "desc": "JSON parse error, duplicate key"}}"#
    );
    assert_eq!(
        c.line(),
        r#"{"id": [7], "error": {"class": "GenericError", "desc": "QMP input member 'argumnets' is unexpected"}}"#
    );

    // Commands with no newline between them; events come before their command's reply.
    c.send(br#"{"execute":"stop","id":1}{"execute":"query-status","id":2}{"execute":"stop","id":3}{"execute":"cont","id":4}{"exec-oob":"query-status","id":5}"#);
    assert_eq!(c.json(), json!({"event": "STOP"}));
    assert_eq!(c.json(), json!({"return": {}, "id": 1}));
    assert_eq!(
        c.json(),
        json!({"return": {"status": "paused", "singlestep": false, "running": false}, "id": 2})
    );
    // Already paused: no second STOP.
    assert_eq!(c.json(), json!({"return": {}, "id": 3}));
    assert_eq!(c.json(), json!({"event": "RESUME"}));
    assert_eq!(c.json(), json!({"return": {}, "id": 4}));
    assert_eq!(
        c.json(),
        json!({"id": 5, "error": {"class": "GenericError",
               "desc": "The command query-status does not support OOB"}})
    );
    // A request cut in two writes.
    c.send(b"{\"execute\": \"query-");
    std::thread::sleep(Duration::from_millis(50));
    c.send(b"version\", \"id\": 6}");
    let reply = c.json();
    assert_eq!(reply["id"], 6);
    assert_eq!(reply["return"], greeting()["QMP"]["version"]);
    drop(c);

    // The next client gets a fresh session; the run state is the machine's.
    let mut c = Raw::connect(&socket);
    assert_eq!(c.json(), greeting());
    c.send(br#"{"execute": "query-status"}"#);
    assert_eq!(c.json()["error"]["class"], "CommandNotFound");
    c.send(br#"{"execute": "qmp_capabilities"}{"execute": "stop"}{"execute": "quit"}"#);
    assert_eq!(c.json(), json!({"return": {}}));
    assert_eq!(c.json(), json!({"event": "STOP"}));
    assert_eq!(c.json(), json!({"return": {}}));
    assert_eq!(c.json(), json!({"return": {}}));
    assert_eq!(
        c.json(),
        json!({"event": "SHUTDOWN", "data": {"guest": false, "reason": "host-qmp-quit"}})
    );
    let mut rest = Vec::new();
    c.reader.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "the server closes after quit");
    assert!(server.wait_exit(10).expect("exits").success());
}

#[test]
fn exec_and_shell_against_serve() {
    let dir = TempDir::new();
    let socket = dir.join("qmp.sock");
    let sock = socket.to_str().unwrap();
    let mut server = serve(&socket);

    assert_eq!(
        qmp_ok(&["exec", sock, "query-status"], b""),
        "{\n  \"status\": \"running\",\n  \"singlestep\": false,\n  \"running\": true\n}\n"
    );
    let out = qmp(&["exec", sock, "nope"], b"");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "CommandNotFound: The command nope has not been found\n"
    );
    assert!(out.stdout.is_empty());
    let out = qmp(&["exec", sock, "stop", r#"{"now": true}"#], b"");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "GenericError: Parameter 'now' is unexpected\n"
    );
    for bad in ["{", "[1]", "\"x\""] {
        let out = qmp(&["exec", sock, "stop", bad], b"");
        assert_eq!(out.status.code(), Some(2), "{bad}");
    }
    // Nothing listening: exit 3 (connection), the path named.
    let none = dir.join("none");
    let out = qmp(&["exec", none.to_str().unwrap(), "stop"], b"");
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(none.to_str().unwrap()) && err.contains("no such socket"),
        "{err}"
    );
    // key=value arguments, as the shell takes them.
    let out = qmp(&["exec", sock, "stop", "now=true"], b"");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "GenericError: Parameter 'now' is unexpected\n"
    );
    let out = qmp(&["exec", sock, "stop", "now"], b"");
    assert_eq!(out.status.code(), Some(2), "not key=value");

    let script = "query-status\n\n# a comment\nstop\n{\"execute\": \"query-status\", \"id\": 5}\nbogus x=1 y=two\nstop now\ncont\nquit\n";
    let out = qmp(&["shell", sock], script.as_bytes());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let docs: Vec<Value> = serde_json::Deserializer::from_str(&text)
        .into_iter::<Value>()
        .map(|v| {
            let mut v = v.unwrap();
            v.as_object_mut().unwrap().remove("timestamp");
            v
        })
        .collect();
    let status = |running: bool| {
        json!({"status": if running { "running" } else { "paused" }, "singlestep": false,
               "running": running})
    };
    // Replies without the tool's own ids; a raw JSON line's id is the user's and stays.
    // Events are shown as they come: `quit`'s SHUTDOWN may come before the input ends.
    let mut docs = docs;
    if docs.last().is_some_and(|d| d["event"] == "SHUTDOWN") {
        docs.pop();
    }
    assert_eq!(
        docs,
        vec![
            json!({"return": status(true)}),
            json!({"event": "STOP"}),
            json!({"return": {}}),
            json!({"return": status(false), "id": 5}),
            json!({"error": {"class": "CommandNotFound",
                   "desc": "The command bogus has not been found"}}),
            json!({"event": "RESUME"}),
            json!({"return": {}}),
            json!({"return": {}}),
        ]
    );
    // One line per message, as QEMU prints them.
    assert!(
        text.starts_with("{\"return\": {\"status\": \"running\", "),
        "{text}"
    );
    assert!(text.lines().count() >= 8, "{text}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected a key=value pair"));
    assert!(server.wait_exit(10).expect("quit ends serve").success());
}

/// Reads one brace-framed request from `stream` with the library's framer.
fn read_request(stream: &mut UnixStream, pending: &mut Vec<u8>) -> Vec<u8> {
    let mut framer = Framer::new(FramerConfig::new().with_dialect(Dialect::Stream));
    loop {
        let step = framer.decode(pending);
        if let Ok(Status::Complete(frame)) = step.status {
            let request = pending[frame.range()].to_vec();
            pending.drain(..step.consumed);
            return request;
        }
        let mut buf = [0u8; 4096];
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "the client closed before sending a request");
        pending.extend_from_slice(&buf[..n]);
    }
}

const PEER_GREETING: &str = "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 2, \"minor\": 0, \"major\": 10}, \"package\": \"\"}, \"capabilities\": []}}\r\n";
const PEER_EARLY: &str =
    "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"EARLY\"}\r\n";
const PEER_REPLY: &str = "{\"return\": {}}\r\n";

/// A scripted server: greeting, negotiation, then `lines`; returns what else it read.
fn scripted_server(listener: UnixListener, lines: Vec<&'static str>, hold_open: bool) -> Vec<u8> {
    let (mut s, _) = listener.accept().unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(PEER_GREETING.as_bytes()).unwrap();
    let mut pending = Vec::new();
    let request = read_request(&mut s, &mut pending);
    // Without an id, as `qemu.qmp` negotiates.
    assert_eq!(request, br#"{"execute":"qmp_capabilities"}"#);
    // An event during negotiation, then the reply.
    s.write_all(PEER_EARLY.as_bytes()).unwrap();
    s.write_all(PEER_REPLY.as_bytes()).unwrap();
    for line in lines {
        s.write_all(line.as_bytes()).unwrap();
    }
    if hold_open {
        // Until the client leaves.
        let _ = s.read_to_end(&mut pending);
    }
    pending
}

#[test]
fn events_from_a_scripted_server() {
    let lines = vec![
        "{\"timestamp\": {\"seconds\": 3, \"microseconds\": 4}, \"event\": \"JOB_STATUS_CHANGE\", \"data\": {\"status\": \"created\", \"id\": \"j\\u00e9\"}}\r\n",
        "garbage\r\n",
        "{\"return\": {}, \"id\": \"someone-else\"}\r\n",
        "{\"timestamp\": {\"seconds\": -1, \"microseconds\": -1}, \"event\": \"STOP\"}\r\n",
    ];
    let dir = TempDir::new();
    let socket = dir.join("peer.sock");
    let sock = socket.to_str().unwrap().to_owned();

    // Until the peer closes.
    let listener = UnixListener::bind(&socket).unwrap();
    let peer = std::thread::spawn({
        let lines = lines.clone();
        move || scripted_server(listener, lines, false)
    });
    let out = qmp(&["events", &sock], b"");
    peer.join().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Each event's timestamp (UTC; `-` for QEMU's -1/-1), name and data.
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "1970-01-01T00:00:01.000002Z EARLY\n\
         1970-01-01T00:00:03.000004Z JOB_STATUS_CHANGE {\"status\": \"created\", \"id\": \"j\\u00E9\"}\n\
         - STOP\n"
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    // The junk line and the stray reply are reported: one by one once connected, or
    // counted when they came with the negotiation's reply.
    assert!(
        (stderr.contains("skipped a message from the server")
            && stderr.contains("expected a JSON value at byte 0")
            && stderr.contains(
                "a reply to no request of ours: {\"return\":{},\"id\":\"someone-else\"}"
            ))
            || stderr.contains("skipped 2 message(s)"),
        "{stderr}"
    );
    std::fs::remove_file(&socket).unwrap();

    // --count stops early, while the peer still holds the connection open.
    let listener = UnixListener::bind(&socket).unwrap();
    let peer = std::thread::spawn(move || scripted_server(listener, lines, true));
    let text = qmp_ok(
        &[
            "events", &sock, "--count", "2", "--format", "compact", "--filter", "job_*",
            "--filter", "ST?P",
        ],
        b"",
    );
    let events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["event"], "JOB_STATUS_CHANGE");
    assert_eq!(events[0]["data"], json!({"status": "created", "id": "jé"}));
    assert_eq!(
        events[0]["timestamp"],
        json!({"seconds": 3, "microseconds": 4})
    );
    assert_eq!(events[1]["event"], "STOP");
    assert!(
        peer.join().unwrap().is_empty(),
        "events sends nothing after negotiation"
    );
}

#[test]
fn serve_skips_a_request_over_its_buffer_and_answers_the_next() {
    let dir = TempDir::new();
    let socket = dir.join("qmp.sock");
    let mut server = serve(&socket);
    let mut c = Raw::connect(&socket);
    assert_eq!(c.json(), greeting());
    c.send(br#"{"execute": "qmp_capabilities"}"#);
    assert_eq!(c.json(), json!({"return": {}}));

    // A 2 MiB request (twice the server's receive buffer), then a 2 MiB line of stray bytes
    // (one error: QEMU's lexer recovery skips to the next structural or control byte), then
    // a valid command. Written by another thread, so that replies can be read meanwhile.
    let mut garbage = b"{\"execute\": \"".to_vec();
    garbage.extend(std::iter::repeat_n(b'x', 2 << 20));
    garbage.extend_from_slice(b"\"}\n");
    garbage.extend(std::iter::repeat_n(b'%', 2 << 20));
    garbage.extend_from_slice(b"\n{\"execute\": \"query-status\", \"id\": \"after\"}");
    let mut writer = c.stream.try_clone().unwrap();
    let sender = std::thread::spawn(move || writer.write_all(&garbage).unwrap());
    let mut errors = std::collections::BTreeMap::<String, usize>::new();
    let reply = loop {
        let v = c.json();
        if v.get("id").is_some() {
            break v;
        }
        assert_eq!(v["error"]["class"], "GenericError", "{v}");
        *errors
            .entry(v["error"]["desc"].as_str().unwrap().to_owned())
            .or_default() += 1;
    };
    sender.join().unwrap();
    assert_eq!(
        reply,
        json!({"return": {"status": "running", "singlestep": false, "running": true},
               "id": "after"})
    );
    assert_eq!(
        errors.get("JSON token size limit exceeded"),
        Some(&1),
        "{errors:?}"
    );
    assert_eq!(
        errors.get("JSON parse error, stray '%'"),
        Some(&1),
        "{errors:?}"
    );
    assert_eq!(errors.len(), 2, "{errors:?}");
    c.send(br#"{"execute": "quit"}"#);
    assert_eq!(c.json(), json!({"return": {}}));
    assert!(server.wait_exit(10).expect("quit ends serve").success());
}

#[test]
fn exec_times_out_on_a_silent_peer() {
    let dir = TempDir::new();
    let socket = dir.join("silent.sock");
    let sock = socket.to_str().unwrap().to_owned();
    let peer = silent_peer(&socket);
    let started = std::time::Instant::now();
    let out = qmp(&["exec", &sock, "query-status", "--timeout", "0.5"], b"");
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("did not answer qmp_capabilities within 0.5 s") && err.contains(&sock),
        "{err}"
    );
    assert!(out.stdout.is_empty());
    assert!(took >= Duration::from_millis(500), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    // It negotiated, then gave up (and closed the connection).
    assert_eq!(peer.join().unwrap(), br#"{"execute":"qmp_capabilities"}"#);

    // A peer that negotiates, then never answers: the request's deadline passes.
    std::fs::remove_file(&socket).unwrap();
    let listener = UnixListener::bind(&socket).unwrap();
    let peer = std::thread::spawn(move || scripted_server(listener, vec![], true));
    let started = std::time::Instant::now();
    let out = qmp(&["exec", &sock, "query-status", "--timeout", "0.5"], b"");
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(4));
    assert!(
        String::from_utf8_lossy(&out.stderr).starts_with(&format!(
            "qmp: timed out: no reply from {sock} within 0.5 s (query-status)"
        )),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(took >= Duration::from_millis(500), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_eq!(
        peer.join().unwrap(),
        br#"{"execute":"query-status","id":"__qmp#00001"}"#
    );

    for bad in ["0", "-1", "nan", "x"] {
        let out = qmp(&["exec", &sock, "query-status", "--timeout", bad], b"");
        assert_eq!(out.status.code(), Some(2), "{bad}");
    }
}

/// A peer that greets, then reads and answers nothing until the client leaves; returns what
/// it read.
fn silent_peer(socket: &std::path::Path) -> std::thread::JoinHandle<Vec<u8>> {
    let listener = UnixListener::bind(socket).unwrap();
    std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.write_all(PEER_GREETING.as_bytes()).unwrap();
        let mut got = Vec::new();
        let _ = s.read_to_end(&mut got);
        got
    })
}

#[test]
fn events_and_shell_time_out_on_a_silent_peer() {
    let dir = TempDir::new();
    let socket = dir.join("silent.sock");
    let sock = socket.to_str().unwrap().to_owned();
    for args in [
        vec!["events", sock.as_str(), "--timeout", "0.5"],
        vec!["shell", sock.as_str(), "--timeout", "0.5"],
    ] {
        let peer = silent_peer(&socket);
        let started = std::time::Instant::now();
        let out = qmp(&args, b"query-status\n");
        let took = started.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(4), "{args:?}: {stderr}");
        assert!(
            stderr.contains("did not answer qmp_capabilities"),
            "{args:?}: {stderr}"
        );
        assert!(took >= Duration::from_millis(500), "{args:?}: {took:?}");
        assert!(took < Duration::from_secs(5), "{args:?}: {took:?}");
        // It asked to negotiate, then gave up and closed the connection.
        assert_eq!(peer.join().unwrap(), br#"{"execute":"qmp_capabilities"}"#);
        std::fs::remove_file(&socket).unwrap();
    }

    // The shell negotiates with a peer that then never answers: the command's reply times
    // out, and the shell says which request it was.
    let listener = UnixListener::bind(&socket).unwrap();
    let peer = std::thread::spawn(move || scripted_server(listener, vec![], true));
    let started = std::time::Instant::now();
    let out = qmp(&["shell", &sock, "--timeout", "0.5"], b"query-status\n");
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(4));
    assert!(
        String::from_utf8_lossy(&out.stderr).starts_with(&format!(
            "qmp: timed out: no reply from {sock} within 0.5 s (query-status)"
        )),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(took < Duration::from_secs(5), "{took:?}");
    // As qmp-shell, the shell always sends an arguments object.
    assert_eq!(
        String::from_utf8(peer.join().unwrap()).unwrap(),
        r#"{"execute":"query-status","arguments":{},"id":"__qmp#00001"}"#
    );

    for bad in ["0", "-1", "inf", "x"] {
        for cmd in ["events", "shell"] {
            let out = qmp(&[cmd, &sock, "--timeout", bad], b"");
            assert_eq!(out.status.code(), Some(2), "{cmd} --timeout {bad}");
        }
    }
}

/// A client that sends and never reads cannot stall `qmp serve`: once a reply has waited
/// `--write-timeout` unread, the client is dropped and the next one is served.
#[test]
fn serve_drops_a_client_that_never_reads() {
    let dir = TempDir::new();
    let socket = dir.join("qmp.sock");
    let mut server = serve_with(&socket, &["--write-timeout", "0.5"]);
    let hog = UnixStream::connect(&socket).unwrap();
    let mut writer = hog.try_clone().unwrap();
    let flood = std::thread::spawn(move || {
        let mut requests = br#"{"execute": "qmp_capabilities"}"#.to_vec();
        for _ in 0..20_000 {
            requests.extend_from_slice(br#"{"execute": "query-commands"}"#);
        }
        // May fail once the server has dropped the connection, or fit in the buffers.
        let _ = writer.write_all(&requests);
    });
    let started = std::time::Instant::now();
    let mut c = Raw::connect(&socket);
    assert_eq!(c.json(), greeting());
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    c.send(br#"{"execute": "qmp_capabilities"}{"execute": "query-status"}"#);
    assert_eq!(c.json(), json!({"return": {}}));
    assert_eq!(
        c.json(),
        json!({"return": {"status": "running", "singlestep": false, "running": true}})
    );
    flood.join().unwrap();
    // The server closed the hog's connection: what it wrote before, then the end of the
    // stream (or a reset).
    let mut hog = hog;
    hog.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut sink = [0u8; 64 * 1024];
    loop {
        match hog.read(&mut sink) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("the hog was not disconnected: {e}"),
        }
    }
    drop(hog);
    c.send(br#"{"execute": "quit"}"#);
    assert_eq!(c.json(), json!({"return": {}}));
    assert!(server.wait_exit(10).expect("quit ends serve").success());
}

#[test]
fn serve_answers_requests_whose_id_or_name_is_larger_than_its_transmit_buffer() {
    let dir = TempDir::new();
    let socket = dir.join("qmp.sock");
    let mut server = serve(&socket);
    let mut c = Raw::connect(&socket);
    assert_eq!(c.json(), greeting());
    c.send(br#"{"execute": "qmp_capabilities"}"#);
    assert_eq!(c.json(), json!({"return": {}}));

    // A 300 KB string id (the transmit buffer starts at 64 KiB), echoed as sent.
    let long = "i".repeat(300_000);
    let request = format!("{{\"execute\": \"query-status\", \"id\": \"{long}\"}}");
    let mut writer = c.stream.try_clone().unwrap();
    let sender = std::thread::spawn(move || writer.write_all(request.as_bytes()).unwrap());
    let reply = c.json();
    sender.join().unwrap();
    assert_eq!(reply["id"], json!(long));
    assert_eq!(reply["return"]["status"], "running");

    // An id that QEMU's number printing makes five times longer: `0.1` is echoed as
    // `0.10000000000000001`.
    let numbers = vec!["0.1"; 60_000].join(",");
    let request = format!("{{\"execute\": \"query-status\", \"id\": [{numbers}]}}");
    let mut writer = c.stream.try_clone().unwrap();
    let sender = std::thread::spawn(move || writer.write_all(request.as_bytes()).unwrap());
    let line = c.line();
    sender.join().unwrap();
    assert!(line.len() > 1_000_000, "{}", line.len());
    let reply: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(reply["id"].as_array().unwrap().len(), 60_000);
    assert!(line.contains("0.10000000000000001"));

    // A 200 KB command name: QEMU answers CommandNotFound naming it.
    let name = "n".repeat(200_000);
    let request = format!("{{\"execute\": \"{name}\", \"id\": 7}}");
    let mut writer = c.stream.try_clone().unwrap();
    let sender = std::thread::spawn(move || writer.write_all(request.as_bytes()).unwrap());
    let reply = c.json();
    sender.join().unwrap();
    assert_eq!(reply["id"], 7);
    assert_eq!(reply["error"]["class"], "CommandNotFound");
    assert!(reply["error"]["desc"].as_str().unwrap().contains(&name));

    c.send(br#"{"execute": "quit"}"#);
    assert_eq!(c.json(), json!({"return": {}}));
    assert!(server.wait_exit(10).expect("quit ends serve").success());
}
