//! The `models` harness: classification and every model on arbitrary messages.

use core::fmt::Write;

use super::{Count, Digest};
use qmp_codec::{Classified, Command, ErrorClass, ErrorResponse, Event, Greeting, ModelError};
use qmp_codec::{ErrorInfo, ReturnResponse, Timestamp};
use qmp_codec::{Kind, Message, Value, ValueKind};

/// Target `models`: parses the bytes, then runs [`Message::classify`] and every model's
/// constructor. Nothing may panic; `classify` must agree with the model its kind names; a
/// model that validates must have accessors that agree with the message; a refusal must
/// name a real fault of the message.
pub fn models(data: &[u8]) {
    let Ok(msg) = Message::parse(data) else {
        return;
    };
    let classified = msg.classify();
    match classified {
        Ok(c) => {
            assert_eq!(c.kind(), msg.kind());
            assert!(c.message() == msg);
            let same = match c {
                Classified::Greeting(g) => Greeting::new(msg) == Ok(g),
                Classified::Event(e) => Event::new(msg) == Ok(e),
                Classified::Error(e) => ErrorResponse::new(msg) == Ok(e),
                Classified::Return(r) => ReturnResponse::new(msg) == Ok(r),
                Classified::Command(c) => Command::new(msg) == Ok(c),
                Classified::Unknown(m) => m == msg,
                other => panic!("a classification the harness does not know: {other:?}"),
            };
            assert!(same, "classify disagrees with the model of its kind");
            assert_eq!(Classified::try_from(msg), Ok(c));
        }
        Err(e) => {
            let again = match msg.kind() {
                Kind::Greeting => Greeting::new(msg).err(),
                Kind::Event => Event::new(msg).err(),
                Kind::Error => ErrorResponse::new(msg).err(),
                Kind::Return => ReturnResponse::new(msg).err(),
                Kind::Command => Command::new(msg).err(),
                Kind::Unknown => panic!("an unknown message failed classification: {e:?}"),
                other => panic!("a kind the harness does not know: {other:?}"),
            };
            assert_eq!(again, Some(e));
        }
    }

    match Greeting::new(msg) {
        Ok(g) => check_greeting(&msg, g),
        Err(e) => check_error(&msg, e),
    }
    match Event::new(msg) {
        Ok(ev) => check_event(&msg, ev),
        Err(e) => check_error(&msg, e),
    }
    match ErrorResponse::new(msg) {
        Ok(r) => check_error_response(&msg, r),
        Err(e) => check_error(&msg, e),
    }
    match ReturnResponse::new(msg) {
        Ok(r) => {
            assert_eq!(Some(r.value()), msg.get("return"));
            assert_eq!(r.id(), msg.id());
            assert!(r.message() == msg);
        }
        Err(e) => check_error(&msg, e),
    }
    for allow_oob in [true, false] {
        match Command::check(msg, allow_oob) {
            Ok(c) => check_command(&msg, c, allow_oob),
            Err(e) => check_error(&msg, e),
        }
    }
}

fn check_greeting(msg: &Message<'_>, g: Greeting<'_>) {
    let qmp = msg.get("QMP").expect("a greeting has QMP");
    assert_eq!(qmp.kind(), ValueKind::Object);
    assert_eq!(Some(g.version_value()), qmp.get("version"));
    assert_eq!(g.version_value().kind(), ValueKind::Object);
    let caps = qmp
        .get("capabilities")
        .expect("a greeting has capabilities");
    assert!(g.capabilities().eq(caps.elements()));
    for cap in g.capabilities() {
        if let Some(s) = cap.as_str().and_then(|s| s.as_borrowed()) {
            assert!(g.has_capability(s));
        }
    }
    let qemu = g.version_value().get("qemu");
    let part = |name| qemu.and_then(|q| q.get(name)).and_then(|v| v.as_u64());
    match g.version() {
        Some(v) => {
            assert_eq!(Some(v.major), part("major"));
            assert_eq!(Some(v.minor), part("minor"));
            assert_eq!(Some(v.micro), part("micro"));
            let mut n = Count(0);
            let _ = write!(n, "{v}");
            assert!(n.0 >= 5);
        }
        None => {
            assert!(part("major").is_none() || part("minor").is_none() || part("micro").is_none())
        }
    }
    let package = g.version_value().get("package").and_then(|p| p.as_str());
    assert_eq!(g.package().map(|s| s.raw()), package.map(|s| s.raw()));
}

fn check_event(msg: &Message<'_>, ev: Event<'_>) {
    let name = msg
        .get("event")
        .and_then(|v| v.as_str())
        .expect("an event has a name");
    assert!(ev.name() == name);
    assert_eq!(ev.data(), msg.get("data"));
    if let Some(d) = ev.data() {
        assert_eq!(d.kind(), ValueKind::Object);
    }
    match (ev.timestamp(), msg.get("timestamp")) {
        (Some(t), Some(v)) => {
            assert_eq!(Some(t.seconds), v.get("seconds").and_then(|s| s.as_i64()));
            assert_eq!(
                Some(t.microseconds),
                v.get("microseconds").and_then(|s| s.as_i64())
            );
            assert_eq!(Timestamp::new(v), Ok(t));
        }
        (None, None) => {}
        (t, v) => panic!("timestamp {t:?} for member {v:?}"),
    }
    assert!(ev.message() == *msg);
}

fn check_error_response(msg: &Message<'_>, r: ErrorResponse<'_>) {
    let error = msg.get("error").expect("an error response has error");
    assert_eq!(ErrorInfo::new(error), Ok(r.info()));
    let class = error
        .get("class")
        .and_then(|c| c.as_str())
        .expect("class is a string");
    let desc = error
        .get("desc")
        .and_then(|c| c.as_str())
        .expect("desc is a string");
    assert!(r.info().class_str() == class);
    assert!(r.desc() == desc);
    assert_eq!(r.class(), ErrorClass::from(class));
    match r.class() {
        ErrorClass::Other(s) => assert!(s == class),
        known => assert!(known.known_name().is_some_and(|n| class == n)),
    }
    assert_eq!(Digest::of(r.class()), Digest::of(class));
    assert_eq!(r.id(), msg.id());
    assert!(r.message() == *msg);
}

fn check_command(msg: &Message<'_>, c: Command<'_>, allow_oob: bool) {
    let key = if c.is_oob() { "exec-oob" } else { "execute" };
    assert!(allow_oob || !c.is_oob());
    let name = msg
        .get(key)
        .and_then(|v| v.as_str())
        .expect("the command name is a string");
    assert!(c.name() == name);
    assert_eq!(c.arguments(), msg.get("arguments"));
    if let Some(a) = c.arguments() {
        assert_eq!(a.kind(), ValueKind::Object);
    }
    assert_eq!(c.id(), msg.id());
    for (k, _) in msg.iter() {
        let allowed =
            k == "execute" || k == "arguments" || k == "id" || (allow_oob && k == "exec-oob");
        assert!(allowed, "command accepted with member {k:?}");
    }
    assert!(!(msg.contains_key("execute") && msg.contains_key("exec-oob")));
    assert!(c.message() == *msg);
}

/// A refusal names a real fault of the message.
fn check_error(msg: &Message<'_>, e: ModelError<'_>) {
    let mut n = Count(0);
    let _ = write!(n, "{e} {e:?}");
    assert!(n.0 > 10);
    assert!(!e.model().is_empty());
    let kind = |v: Option<Value<'_>>| v.map(|v| v.kind());
    match e {
        ModelError::MissingExecute => {
            assert!(msg.get("execute").is_none());
        }
        ModelError::ExecuteClash { .. } => {
            assert!(msg.contains_key("execute") && msg.contains_key("exec-oob"));
        }
        ModelError::ArgumentsNotObject => {
            assert!(kind(msg.get("arguments")).is_some_and(|k| k != ValueKind::Object));
        }
        ModelError::ExecuteNotString { member } => {
            assert!(kind(msg.get(member)).is_some_and(|k| k != ValueKind::String));
        }
        ModelError::UnexpectedMember { member } => {
            assert!(member != "execute" && member != "arguments" && member != "id");
            assert!(msg.iter().any(|(k, _)| k == member));
        }
        ModelError::MissingMember { model, member } => {
            if matches!(
                model,
                "Greeting" | "ErrorResponse" | "ReturnResponse" | "Event"
            ) {
                assert!(msg.get(member).is_none(), "{e}");
            }
        }
        ModelError::WrongType { model, member, .. } => {
            if matches!(
                model,
                "Greeting" | "ErrorResponse" | "ReturnResponse" | "Event"
            ) {
                assert!(msg.get(member).is_some(), "{e}");
            }
        }
        _ => panic!("a model error the harness does not know: {e:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_harness_runs_on_every_kind() {
        let inputs: [&[u8]; 16] = [
            b"{\"QMP\": {\"version\": {\"qemu\": {\"major\": 10, \"minor\": 0, \"micro\": 2}, \"package\": \"x\"}, \"capabilities\": [\"oob\", 1]}}",
            b"{\"QMP\": {\"version\": {}}}",
            b"{\"QMP\": []}",
            b"{\"event\": \"STOP\", \"timestamp\": {\"seconds\": -1, \"microseconds\": -1}}",
            b"{\"event\": \"X\", \"data\": [], \"timestamp\": {}}",
            b"{\"event\": 1}",
            b"{\"error\": {\"class\": \"Generic\\u0045rror\", \"desc\": \"d\"}, \"id\": [1]}",
            b"{\"error\": {\"class\": \"Mine\", \"desc\": 2}}",
            b"{\"return\": [], \"id\": \"a\"}",
            b"{\"execute\": \"q\", \"arguments\": {}, \"id\": {}}",
            b"{\"exec-oob\": \"q\"}",
            b"{\"execute\": \"q\", \"exec-oob\": \"r\"}",
            b"{\"execute\": 1}",
            b"{\"execute\": \"q\", \"arguments\": 1}",
            b"{\"execute\": \"q\", \"control\": 1}",
            b"{\"id\": 1}",
        ];
        for input in inputs {
            models(input);
        }
        models(b"not json");
    }
}
