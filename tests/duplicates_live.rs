//! Duplicate member names against a live qemu-storage-daemon: the parser accepts exactly the
//! ids QEMU accepts and rejects exactly those it answers `JSON parse error, duplicate key`,
//! for nested objects of every size the check handles differently (pairwise, checked at
//! close, past the inline table, names built to share the first stage's tag, a chain of
//! objects), and QEMU's echo of every accepted id parses back to the same id.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use common::qsd::Qsd;
use qmp_codec::{Message, ParseError, Reason, Value, ValueKind};

/// A nested object of `n` members named by `name`, then `extra` members.
fn object(n: usize, name: impl Fn(usize) -> String, extra: &[String]) -> String {
    let mut members: Vec<String> = (0..n).map(|k| format!("\"{}\": {k}", name(k))).collect();
    members.extend(extra.iter().cloned());
    format!("{{{}}}", members.join(", "))
}

/// The ids to send, each with whether it holds a duplicate name.
fn cases() -> Vec<(&'static str, String, bool)> {
    let plain = |k: usize| format!("n{k}");
    let shared_tag = |k: usize| format!("aaaaaaaa{k:05}");
    let dup = |k: usize| vec![format!("\"n{k}\": -1")];
    let chain = |levels: usize, inner: &str| {
        format!(
            "{}{inner}{}",
            "{\"a\": [{\"b\": 1, \"c\": ".repeat(levels),
            "}]}".repeat(levels)
        )
    };
    vec![
        ("small", object(3, plain, &[]), false),
        ("small, repeated", object(3, plain, &dup(1)), true),
        (
            "escaped repeat",
            object(3, plain, &["\"\\u006e2\": 0".into()]),
            true,
        ),
        ("40 names", object(40, plain, &[]), false),
        ("40 names, repeated", object(40, plain, &dup(39)), true),
        ("shared tags", object(40, shared_tag, &[]), false),
        (
            "shared tags, repeated",
            object(40, shared_tag, &[format!("\"{}\": 0", shared_tag(7))]),
            true,
        ),
        ("5,000 names", object(5000, plain, &[]), false),
        ("5,000 names, repeated", object(5000, plain, &dup(0)), true),
        ("chain of 300", chain(300, "0"), false),
        (
            "chain of 300, repeated inside",
            chain(300, &object(2, plain, &dup(0))),
            true,
        ),
        (
            "same names in siblings and children",
            format!(
                "[{0}, {0}, {{\"n0\": {0}, \"n1\": [{0}]}}]",
                object(50, plain, &[])
            ),
            false,
        ),
    ]
}

/// `v` printed compactly with every object's members sorted by name: equal for equal JSON
/// values whatever their spacing and member order. (An explicit stack: the chains are
/// deeper than a test thread's stack takes recursion.)
fn canonical(v: &Value<'_>) -> String {
    enum Job<'a> {
        Value(Value<'a>),
        Text(String),
    }
    // Jobs are popped in print order: a container pushes its closing bracket, then its
    // children (members sorted by name) and separators, then its opening bracket.
    fn print(v: &Value<'_>) -> String {
        let mut out = String::new();
        let mut jobs = vec![Job::Value(*v)];
        while let Some(job) = jobs.pop() {
            match job {
                Job::Text(t) => out.push_str(&t),
                Job::Value(v) => match v.kind() {
                    ValueKind::Object => {
                        let mut members: Vec<(String, Value<'_>)> =
                            v.members().map(|(k, v)| (k.to_string(), v)).collect();
                        members.sort_by(|a, b| a.0.cmp(&b.0));
                        jobs.push(Job::Text("}".into()));
                        for (i, (k, v)) in members.into_iter().enumerate().rev() {
                            jobs.push(Job::Value(v));
                            let sep = if i > 0 { "," } else { "" };
                            jobs.push(Job::Text(format!("{sep}{k:?}:")));
                        }
                        jobs.push(Job::Text("{".into()));
                    }
                    ValueKind::Array => {
                        let elements: Vec<Value<'_>> = v.elements().collect();
                        jobs.push(Job::Text("]".into()));
                        for (i, e) in elements.into_iter().enumerate().rev() {
                            jobs.push(Job::Value(e));
                            if i > 0 {
                                jobs.push(Job::Text(",".into()));
                            }
                        }
                        jobs.push(Job::Text("[".into()));
                    }
                    _ => out.push_str(&v.to_string()),
                },
            }
        }
        out
    }
    print(v)
}

#[test]
fn duplicates_agree_with_a_live_daemon() {
    let Some(qsd) = Qsd::start() else { return };
    let stream = UnixStream::connect(qsd.socket()).expect("connect to the daemon");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("a read timeout");
    let mut writer = stream.try_clone().expect("clone the stream");
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    let mut next_line = |reader: &mut BufReader<UnixStream>| {
        line.clear();
        reader.read_line(&mut line).expect("a line from the daemon");
        assert!(line.ends_with('\n'), "the daemon closed: {line:?}");
        line.clone()
    };
    assert!(next_line(&mut reader).contains("\"QMP\""));
    writer
        .write_all(b"{\"execute\": \"qmp_capabilities\"}\n")
        .expect("write");
    assert!(next_line(&mut reader).contains("\"return\""));

    for (what, id, duplicate) in cases() {
        let request = format!("{{\"execute\": \"query-version\", \"id\": {id}}}");
        // This crate's verdict on the request.
        let ours = Message::parse(request.as_bytes());
        match &ours {
            Ok(_) => assert!(!duplicate, "{what}: accepted a duplicate"),
            Err(ParseError::Deserialization(e)) => {
                assert!(duplicate, "{what}: refused: {e}");
                assert_eq!(e.reason(), Reason::DuplicateMember, "{what}");
            }
            Err(e) => panic!("{what}: {e}"),
        }
        // QEMU's.
        writer.write_all(request.as_bytes()).expect("write");
        writer.write_all(b"\n").expect("write");
        let reply = next_line(&mut reader);
        let reply = Message::parse(reply.trim_end().as_bytes())
            .unwrap_or_else(|e| panic!("{what}: QEMU's reply does not parse: {e}"));
        if duplicate {
            let desc = reply
                .get("error")
                .and_then(|e| e.get("desc"))
                .and_then(|d| d.as_str())
                .map(|d| d.to_string());
            assert_eq!(
                desc.as_deref(),
                Some("JSON parse error, duplicate key"),
                "{what}: QEMU did not refuse it"
            );
        } else {
            assert!(
                reply.get("return").is_some(),
                "{what}: QEMU refused it: {reply}"
            );
            // The echoed id is the id sent, member for member (QEMU re-prints it with its own
            // spacing and member order).
            let sent = ours
                .as_ref()
                .ok()
                .and_then(|m| m.id())
                .expect("the id sent");
            let echoed = reply.id().expect("an echoed id");
            let (echoed, sent) = (canonical(&echoed), canonical(&sent));
            assert!(echoed == sent, "{what}: the echo is not the id sent");
        }
    }
}
