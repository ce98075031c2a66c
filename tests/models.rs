//! The models against real captures, hand-written bad messages, QEMU's own replies and the
//! `qemu.qmp` models (Python oracle).

mod common;

use common::{case_bytes, read_jsonl, Capture};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use qmp_codec::{
    Classified, Command, ErrorClass, ErrorResponse, Event, Expected, Greeting, Kind, Message,
    ModelError, ParseError, Reason, ReturnResponse, Timestamp, Version,
};
use serde_json::Value as Json;

fn error_class_name(class: ErrorClass<'_>) -> String {
    let text = class.to_string();
    match class {
        ErrorClass::Other(s) => assert_eq!(s.to_cow(), text),
        known => assert_eq!(known.known_name(), Some(text.as_str())),
    }
    text
}

/// Every message of a capture validates as its model and matches expect.jsonl.
fn check_capture(name: &str) -> usize {
    let cap = Capture::load(name);
    let mut checked = 0;
    for (m, bytes) in cap.expect.iter().zip(cap.messages()) {
        if m["strict_json"] == Json::Bool(false) {
            assert!(Message::parse(bytes).is_err(), "{name} {m}");
            continue;
        }
        let msg = Message::parse(bytes).unwrap_or_else(|e| panic!("{name} {m}: {e}"));
        // Only for greetings and events: some ids nest deeper than serde_json's limit.
        let parsed = || -> Json { serde_json::from_slice(bytes).expect("serde_json parses it") };
        let classified = msg.classify().unwrap_or_else(|e| panic!("{name} {m}: {e}"));
        assert_eq!(classified.kind().as_str(), m["kind"], "{name} {m}");
        assert_eq!(classified.message(), msg);
        match classified {
            Classified::Greeting(g) => {
                let parsed = parsed();
                let v = &parsed["QMP"]["version"]["qemu"];
                let want = Version {
                    major: v["major"].as_u64().unwrap(),
                    minor: v["minor"].as_u64().unwrap(),
                    micro: v["micro"].as_u64().unwrap(),
                };
                assert_eq!(g.version(), Some(want), "{name} {m}");
                assert_eq!(
                    g.package().map(|p| p.to_cow().into_owned()).as_deref(),
                    parsed["QMP"]["version"]["package"].as_str()
                );
                let caps: Vec<String> = g
                    .capabilities()
                    .map(|c| c.as_str().unwrap().to_cow().into_owned())
                    .collect();
                let want_caps: Vec<String> =
                    serde_json::from_value(parsed["QMP"]["capabilities"].clone()).unwrap();
                assert_eq!(caps, want_caps);
                assert_eq!(
                    g.has_capability("oob"),
                    want_caps.iter().any(|c| c == "oob")
                );
                assert!(!g.has_capability("o"));
            }
            Classified::Error(e) => {
                assert_eq!(error_class_name(e.class()), m["error_class"], "{name} {m}");
                assert_eq!(e.desc().to_cow(), m["error_desc"].as_str().unwrap());
                assert_eq!(e.info().class_str(), e.class().to_string().as_str());
                assert_eq!(e.id().is_some(), m["id_present"] == Json::Bool(true));
            }
            Classified::Event(ev) => {
                assert_eq!(ev.name().to_cow(), m["event"].as_str().unwrap());
                let ts = &m["timestamp"];
                let want = Timestamp {
                    seconds: ts["seconds"].as_i64().unwrap(),
                    microseconds: ts["microseconds"].as_i64().unwrap(),
                };
                assert_eq!(ev.timestamp(), Some(want), "{name} {m}");
                assert_eq!(ev.data().is_some(), parsed().get("data").is_some());
            }
            Classified::Return(r) => {
                assert_eq!(
                    r.value().kind().as_str(),
                    m["return_json_type"],
                    "{name} {m}"
                );
                assert_eq!(r.id().is_some(), m["id_present"] == Json::Bool(true));
            }
            other => panic!("{name} {m}: a server sent {other:?}"),
        }
        checked += 1;
    }
    checked
}

#[test]
fn qsd_capture_validates() {
    assert_eq!(check_capture("qsd"), 1402);
}

#[test]
fn qsd_pretty_capture_validates() {
    assert_eq!(check_capture("qsd-pretty"), 20);
}

/// Each single-object request of the qsd capture: where QEMU answered with a `QMP input`
/// error, `Command::check` gives the same text; otherwise it accepts the command.
#[test]
fn commands_match_qemu_dispatcher() {
    let cap = Capture::load("qsd");
    let (mut refused, mut accepted) = (0, 0);
    for case in &cap.cases {
        let seqs = case["messages"].as_array().unwrap();
        if seqs.len() != 1 {
            continue;
        }
        let bytes = case_bytes(case);
        let Ok(msg) = Message::parse(&bytes) else {
            continue;
        };
        let reply = &cap.expect[seqs[0].as_u64().unwrap() as usize];
        let desc = reply["error_desc"].as_str().unwrap_or("");
        if desc.starts_with("QMP input") {
            // The capture never negotiated OOB before these cases.
            let got = Command::check(msg, false).map(|_| ()).unwrap_err();
            assert_eq!(got.to_string(), desc, "case {}", case["name"]);
            assert_eq!(got.model(), "Command");
            refused += 1;
        } else if msg.kind() == Kind::Command {
            let cmd = Command::new(msg).unwrap_or_else(|e| panic!("case {}: {e}", case["name"]));
            assert_eq!(
                Some(cmd.name()),
                msg.get_str("execute").or(msg.get_str("exec-oob"))
            );
            accepted += 1;
        }
    }
    assert!(refused >= 9, "only {refused} refused commands");
    assert!(accepted >= 100, "only {accepted} accepted commands");
}

/// What `qemu.qmp`'s client sends are valid commands.
#[test]
fn qemu_qmp_client_commands_validate() {
    let chunks = read_jsonl("corpus/qemu.qmp-client/received.jsonl");
    let mut n = 0;
    for chunk in &chunks {
        let text = chunk["text"].as_str().unwrap();
        let msg = Message::parse(text.as_bytes()).unwrap();
        let cmd = Command::try_from(msg).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert!(!cmd.name().raw().is_empty());
        if let Some(args) = cmd.arguments() {
            assert_eq!(args.kind().as_str(), "object");
        }
        n += 1;
    }
    assert!(n >= 5, "{n}");
}

fn model_err(model: &str, text: &str) -> String {
    let msg = Message::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{text}: {e}"));
    let res = match model {
        "Greeting" => Greeting::try_from(msg).map(|_| ()),
        "ErrorResponse" => ErrorResponse::try_from(msg).map(|_| ()),
        "ReturnResponse" => ReturnResponse::try_from(msg).map(|_| ()),
        "Event" => Event::try_from(msg).map(|_| ()),
        "Command" => Command::try_from(msg).map(|_| ()),
        "classify" => msg.classify().map(|_| ()),
        _ => unreachable!("{model}"),
    };
    match res {
        Ok(()) => "ok".to_owned(),
        Err(e) => e.to_string(),
    }
}

#[test]
fn every_error_text() {
    let table: &[(&str, &str, &str)] = &[
        (
            "Greeting",
            r#"{}"#,
            "'Greeting' object requires 'QMP' member",
        ),
        (
            "Greeting",
            r#"{"QMP": []}"#,
            "'Greeting' member 'QMP' must be a JSON object",
        ),
        (
            "Greeting",
            r#"{"QMP": {}}"#,
            "'QMPGreeting' object requires 'version' member",
        ),
        (
            "Greeting",
            r#"{"QMP": {"capabilities": 1}}"#,
            "'QMPGreeting' object requires 'version' member",
        ),
        (
            "Greeting",
            r#"{"QMP": {"version": "10"}}"#,
            "'QMPGreeting' member 'version' must be a JSON object",
        ),
        (
            "Greeting",
            r#"{"QMP": {"version": {}}}"#,
            "'QMPGreeting' object requires 'capabilities' member",
        ),
        (
            "Greeting",
            r#"{"QMP": {"version": {}, "capabilities": {}}}"#,
            "'QMPGreeting' member 'capabilities' must be a JSON array",
        ),
        // The documented deviation: qemu.qmp accepts a string here.
        (
            "Greeting",
            r#"{"QMP": {"version": {}, "capabilities": "oob"}}"#,
            "'QMPGreeting' member 'capabilities' must be a JSON array",
        ),
        (
            "Greeting",
            r#"{"QMP": {"version": {}, "capabilities": [], "x": 1}, "y": 2}"#,
            "ok",
        ),
        (
            "Greeting",
            r#"{"\u0051MP": {"vers\u0069on": {}, "capabilities": []}}"#,
            "ok",
        ),
        (
            "ErrorResponse",
            r#"{"id": 1}"#,
            "'ErrorResponse' object requires 'error' member",
        ),
        (
            "ErrorResponse",
            r#"{"error": "boom"}"#,
            "'ErrorResponse' member 'error' must be a JSON object",
        ),
        (
            "ErrorResponse",
            r#"{"error": {}}"#,
            "'ErrorInfo' object requires 'class' member",
        ),
        (
            "ErrorResponse",
            r#"{"error": {"desc": 1}}"#,
            "'ErrorInfo' object requires 'class' member",
        ),
        (
            "ErrorResponse",
            r#"{"error": {"class": null}}"#,
            "'ErrorInfo' member 'class' must be a string",
        ),
        (
            "ErrorResponse",
            r#"{"error": {"class": "GenericError"}}"#,
            "'ErrorInfo' object requires 'desc' member",
        ),
        (
            "ErrorResponse",
            r#"{"error": {"class": "GenericError", "desc": ["x"]}}"#,
            "'ErrorInfo' member 'desc' must be a string",
        ),
        (
            "ErrorResponse",
            r#"{"error": {"class": "X", "desc": ""}, "id": [{}]}"#,
            "ok",
        ),
        (
            "ReturnResponse",
            r#"{"id": 1}"#,
            "'ReturnResponse' object requires 'return' member",
        ),
        ("ReturnResponse", r#"{"return": null}"#, "ok"),
        (
            "Event",
            r#"{"data": {}}"#,
            "'Event' object requires 'event' member",
        ),
        (
            "Event",
            r#"{"event": 1}"#,
            "'Event' member 'event' must be a string",
        ),
        (
            "Event",
            r#"{"event": "STOP", "data": []}"#,
            "'Event' member 'data' must be a JSON object",
        ),
        (
            "Event",
            r#"{"event": "STOP", "data": [], "timestamp": 1}"#,
            "'Event' member 'data' must be a JSON object",
        ),
        (
            "Event",
            r#"{"event": "STOP", "timestamp": 1}"#,
            "'Event' member 'timestamp' must be a JSON object",
        ),
        (
            "Event",
            r#"{"event": "STOP", "timestamp": {}}"#,
            "'Timestamp' object requires 'seconds' member",
        ),
        (
            "Event",
            r#"{"event": "STOP", "timestamp": {"seconds": 1.5}}"#,
            "'Timestamp' member 'seconds' must be an integer",
        ),
        (
            "Event",
            r#"{"event": "STOP", "timestamp": {"seconds": 1e3}}"#,
            "'Timestamp' member 'seconds' must be an integer",
        ),
        (
            "Event",
            r#"{"event": "STOP", "timestamp": {"seconds": 99999999999999999999}}"#,
            "'Timestamp' member 'seconds' must be an integer",
        ),
        (
            "Event",
            r#"{"event": "STOP", "timestamp": {"seconds": -1}}"#,
            "'Timestamp' object requires 'microseconds' member",
        ),
        (
            "Event",
            r#"{"event": "STOP", "timestamp": {"seconds": -1, "microseconds": "0"}}"#,
            "'Timestamp' member 'microseconds' must be an integer",
        ),
        (
            "Event",
            r#"{"event": "STOP", "timestamp": {"seconds": -1, "microseconds": -1}}"#,
            "ok",
        ),
        ("Command", r#"{}"#, "QMP input lacks member 'execute'"),
        (
            "Command",
            r#"{"id": 1, "arguments": {}}"#,
            "QMP input lacks member 'execute'",
        ),
        (
            "Command",
            r#"{"execute": "a", "control": {"run-oob": true}}"#,
            "QMP input member 'control' is unexpected",
        ),
        (
            "Command",
            r#"{"b\u00e9": 1, "execute": 5}"#,
            "QMP input member 'bé' is unexpected",
        ),
        (
            "Command",
            r#"{"execute": 5, "bogus": 1}"#,
            "QMP input member 'execute' must be a string",
        ),
        (
            "Command",
            r#"{"exec-oob": null}"#,
            "QMP input member 'exec-oob' must be a string",
        ),
        (
            "Command",
            r#"{"execute": "a", "arguments": []}"#,
            "QMP input member 'arguments' must be an object",
        ),
        (
            "Command",
            r#"{"arguments": null, "execute": "a"}"#,
            "QMP input member 'arguments' must be an object",
        ),
        (
            "Command",
            r#"{"execute": "a", "exec-oob": "b"}"#,
            "QMP input member 'exec-oob' clashes with 'execute'",
        ),
        (
            "Command",
            r#"{"exec-oob": "b", "execute": "a"}"#,
            "QMP input member 'execute' clashes with 'exec-oob'",
        ),
        (
            "Command",
            r#"{"execute": "a", "exec-oob": 1}"#,
            "QMP input member 'exec-oob' must be a string",
        ),
        (
            "Command",
            r#"{"id": {"x": []}, "arguments": {}, "exec-oob": "a"}"#,
            "ok",
        ),
        (
            "classify",
            r#"{"QMP": 1, "event": "X"}"#,
            "'Greeting' member 'QMP' must be a JSON object",
        ),
        ("classify", r#"{"event": "X", "error": 1}"#, "ok"),
        (
            "classify",
            r#"{"error": {}, "return": {}}"#,
            "'ErrorInfo' object requires 'class' member",
        ),
        ("classify", r#"{"return": 1, "execute": 1}"#, "ok"),
        (
            "classify",
            r#"{"execute": 1}"#,
            "QMP input member 'execute' must be a string",
        ),
        (
            "classify",
            r#"{"exec-oob": "x", "bogus": 1}"#,
            "QMP input member 'bogus' is unexpected",
        ),
        ("classify", r#"{"bogus": 1}"#, "ok"),
    ];
    for (model, text, want) in table {
        assert_eq!(model_err(model, text), *want, "{model} {text}");
    }
}

#[test]
fn model_error_fields() {
    let msg = Message::parse(br#"{"QMP": {"version": {}, "capabilities": 1}}"#).unwrap();
    let err = Greeting::try_from(msg).unwrap_err();
    assert_eq!(
        err,
        ModelError::WrongType {
            model: "QMPGreeting",
            member: "capabilities",
            expected: Expected::Array
        }
    );
    assert_eq!(err.model(), "QMPGreeting");
    let boxed: Box<dyn std::error::Error + '_> = Box::new(err);
    assert_eq!(boxed.to_string(), err.to_string());

    let msg = Message::parse(br#"{"execute": "a", "exec-oob": "b"}"#).unwrap();
    let err = Command::check(msg, false).unwrap_err();
    assert!(matches!(err, ModelError::UnexpectedMember { member } if member == "exec-oob"));
    assert_eq!(err.to_string(), "QMP input member 'exec-oob' is unexpected");
}

#[test]
fn classify_precedence_and_accessors() {
    let msg =
        Message::parse(br#"{"event": "X", "QMP": {"version": {}, "capabilities": [1, "oob"]}}"#)
            .unwrap();
    let Ok(Classified::Greeting(g)) = msg.classify() else {
        panic!("not a greeting")
    };
    assert!(g.has_capability("oob"));
    assert!(!g.has_capability("1"));
    assert_eq!(g.capabilities().count(), 2);
    assert_eq!(g.version(), None);
    assert_eq!(g.package(), None);

    let msg =
        Message::parse(br#"{"error": {"class": "KVMMissingCap", "desc": "d"}, "return": {}}"#)
            .unwrap();
    let Ok(Classified::Error(e)) = msg.classify() else {
        panic!("not an error")
    };
    assert_eq!(e.class(), ErrorClass::KVMMissingCap);
    assert_eq!(e.id(), None);

    let msg = Message::parse(br#"{"error": {"class": "Generic\u0045rror", "desc": "d"}}"#).unwrap();
    assert_eq!(
        ErrorResponse::try_from(msg).unwrap().class(),
        ErrorClass::GenericError
    );
    let msg = Message::parse(br#"{"error": {"class": "NewClass\n", "desc": "d"}}"#).unwrap();
    let class = ErrorResponse::try_from(msg).unwrap().class();
    assert!(matches!(class, ErrorClass::Other(s) if s == "NewClass\n"));
    assert_eq!(class.to_string(), "NewClass\n");

    let msg = Message::parse(br#"{"exec-oob": "migrate-pause", "id": "x", "arguments": {"a": 1}}"#)
        .unwrap();
    let Ok(Classified::Command(c)) = msg.classify() else {
        panic!("not a command")
    };
    assert!(c.is_oob());
    assert_eq!(c.name(), "migrate-pause");
    assert_eq!(c.id().unwrap().as_str().unwrap(), "x");
    assert_eq!(c.arguments().unwrap().get("a").unwrap().as_i64(), Some(1));

    let msg = Message::parse(br#"{"event": "STOP"}"#).unwrap();
    let ev = Event::try_from(msg).unwrap();
    assert_eq!((ev.data(), ev.timestamp()), (None, None));

    let msg = Message::parse(br#"{"hello": 1}"#).unwrap();
    assert_eq!(msg.classify(), Ok(Classified::Unknown(msg)));
}

// ---- The oracle: qemu.qmp's models on generated near-valid messages. ----

/// A JSON value of any type, some of them near what the models want.
fn any_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("{}".to_owned()),
        Just(r#"{"qemu": {"major": 1}}"#.to_owned()),
        Just("[]".to_owned()),
        Just(r#"["oob"]"#.to_owned()),
        Just(r#""oob""#.to_owned()),
        Just(r#""""#.to_owned()),
        Just(r#""GenericError""#.to_owned()),
        Just("0".to_owned()),
        Just("-1.5e3".to_owned()),
        Just("true".to_owned()),
        Just("null".to_owned()),
    ]
}

/// An object built from `required` members (each maybe dropped, maybe given any value)
/// plus noise members, in a shuffled order. Nested objects may repeat a name.
fn object(
    members: Vec<(&'static str, BoxedStrategy<String>)>,
    allow_dup: bool,
) -> BoxedStrategy<String> {
    let names: Vec<&'static str> = members.iter().map(|(n, _)| *n).collect();
    let picks: Vec<BoxedStrategy<Option<(String, String)>>> = members
        .into_iter()
        .map(|(name, good)| {
            let key = prop_oneof![
                4 => Just(name.to_owned()),
                // The same name with its first letter escaped.
                1 => Just(format!("\\u{:04x}{}", u32::from(name.as_bytes()[0]), &name[1..])),
            ];
            let value = prop_oneof![3 => good, 1 => any_value()];
            prop_oneof![1 => Just(None), 6 => (key, value).prop_map(Some)].boxed()
        })
        .collect();
    let noise = prop::collection::vec(
        (
            prop_oneof![Just("x"), Just("id"), Just("data")],
            any_value(),
        ),
        0..2,
    );
    (picks, noise, any::<u64>(), any::<bool>())
        .prop_map(move |(picks, noise, seed, dup)| {
            let mut items: Vec<(String, String)> = picks.into_iter().flatten().collect();
            for (k, v) in noise {
                if !names.contains(&k) {
                    items.push((k.to_owned(), v));
                }
            }
            if allow_dup && dup && !items.is_empty() {
                items.push((items[0].0.clone(), "[]".to_owned()));
            }
            // Deterministic shuffle from the seed.
            let mut s = seed;
            for i in (1..items.len()).rev() {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                items.swap(i, (s >> 33) as usize % (i + 1));
            }
            let body: Vec<String> = items.iter().map(|(k, v)| format!("\"{k}\": {v}")).collect();
            format!("{{{}}}", body.join(", "))
        })
        .boxed()
}

fn greeting() -> BoxedStrategy<String> {
    let qmp = object(
        vec![
            (
                "version",
                Just(
                    r#"{"qemu": {"major": 10, "minor": 0, "micro": 2}, "package": ""}"#.to_owned(),
                )
                .boxed(),
            ),
            (
                "capabilities",
                prop_oneof![Just(r#"["oob"]"#.to_owned()), Just("[]".to_owned())].boxed(),
            ),
        ],
        true,
    );
    object(vec![("QMP", qmp)], false)
}

fn error_response() -> BoxedStrategy<String> {
    let info = object(
        vec![
            ("class", Just(r#""GenericError""#.to_owned()).boxed()),
            ("desc", Just(r#""it failed""#.to_owned()).boxed()),
        ],
        true,
    );
    object(vec![("error", info)], false)
}

#[test]
fn model_errors_match_qemu_qmp() {
    let Some(python) = common::python_with_qemu_qmp() else {
        eprintln!("skipped: no Python with qemu.qmp (set QMP_PYTHON)");
        return;
    };
    // A fixed seed: the coverage checks at the end (both outcomes, the deviation, a
    // duplicate) held in about 95% of random runs of 256 cases, so a random seed made CI fail
    // one run in twenty without any change.
    let mut runner = TestRunner::deterministic();
    let mut cases: Vec<(&str, String)> = Vec::new();
    for (model, strategy) in [
        ("Greeting", greeting()),
        ("ErrorResponse", error_response()),
    ] {
        for _ in 0..256 {
            let text = strategy.new_tree(&mut runner).expect("strategy").current();
            cases.push((model, text));
        }
    }
    let input: String = cases
        .iter()
        .map(|(model, msg)| serde_json::json!({"model": model, "msg": msg}).to_string() + "\n")
        .collect();
    let output = common::run_python(&python, "models.py", &[], input.as_bytes());
    let answers: Vec<Option<String>> = output
        .lines()
        .map(|l| serde_json::from_str(l).expect("oracle line is JSON"))
        .collect();
    assert_eq!(answers.len(), cases.len());
    let (mut failures, mut deviations) = (0, 0);
    let mut duplicates = 0;
    for ((model, text), want) in cases.iter().zip(&answers) {
        if let Err(ParseError::Deserialization(e)) = Message::parse(text.as_bytes()) {
            // A nested duplicate name: qemu.qmp keeps the last value, this crate rejects the
            // message as QEMU does (the documented difference).
            assert_eq!(e.reason(), Reason::DuplicateMember, "{text}");
            duplicates += 1;
            continue;
        }
        let got = match model_err(model, text).as_str() {
            "ok" => None,
            e => Some(e.to_owned()),
        };
        if got.is_some() {
            failures += 1;
        }
        let deviation = "'QMPGreeting' member 'capabilities' must be a JSON array";
        if want.is_none() && got.as_deref() == Some(deviation) {
            // qemu.qmp accepts a string `capabilities`; we refuse it, and only it.
            let msg = Message::parse(text.as_bytes()).unwrap();
            let caps = msg.get("QMP").and_then(|q| q.get("capabilities"));
            assert_eq!(caps.map(|c| c.kind().as_str()), Some("string"), "{text}");
            deviations += 1;
            continue;
        }
        assert_eq!(&got, want, "{model} {text}");
    }
    // The generator reaches both outcomes and the deviations.
    assert!(failures > 100 && failures < cases.len() - 50, "{failures}");
    assert!(deviations > 0, "{deviations}");
    assert!(duplicates > 0, "{duplicates}");
}
