//! The tokio transport against a live qemu-storage-daemon and against scripted peers.
#![cfg(all(unix, feature = "tokio"))]

mod common;
mod peer;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use common::qsd::Qsd;
use peer::{event, pair, reply, Peer, GREETING_OOB, GREETING_PLAIN, RETURN_EMPTY};
use qmp_codec::encode::validate_json;
use qmp_codec::transport::tokio::{Client, Config};
use qmp_codec::transport::{Error, NO_ARGUMENTS};
use qmp_codec::{ErrorClass, OwnedMessage};

fn event_name(m: &OwnedMessage) -> String {
    m.get("event").unwrap().as_str().unwrap().to_string()
}

/// Runs `server` on a scripted peer thread; returns the client end as a tokio stream.
fn scripted(
    server: impl FnOnce(&mut Peer) + Send + 'static,
) -> (tokio::net::UnixStream, thread::JoinHandle<()>) {
    let (stream, mut peer) = pair();
    let handle = thread::spawn(move || server(&mut peer));
    stream.set_nonblocking(true).unwrap();
    (tokio::net::UnixStream::from_std(stream).unwrap(), handle)
}

async fn within<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), f)
        .await
        .expect("no answer within 20 s")
}

// --- live qemu-storage-daemon ---

#[tokio::test]
async fn live_concurrent_commands() {
    let Some(qsd) = Qsd::start() else { return };
    let qmp = within(Client::connect_unix(qsd.socket())).await.unwrap();
    assert!(qmp.oob_enabled());
    let major = qmp.version().unwrap().major;
    let add = validate_json(br#"{"driver": "null-co", "node-name": "n\u0031"}"#).unwrap();
    let (version, schema, missing, added, jobs) = within(async {
        tokio::join!(
            qmp.execute("query-version", NO_ARGUMENTS),
            qmp.execute("query-qmp-schema", NO_ARGUMENTS),
            qmp.execute("no-such-command", NO_ARGUMENTS),
            qmp.execute("blockdev-add", Some(add)),
            qmp.execute("query-jobs", NO_ARGUMENTS),
        )
    })
    .await;
    let version = version.unwrap();
    let got = version
        .value()
        .get("qemu")
        .unwrap()
        .get("major")
        .unwrap()
        .as_u64();
    assert_eq!(got, Some(major));
    assert!(schema.unwrap().as_bytes().len() > 100_000);
    match missing {
        Err(Error::Qmp(e)) => assert_eq!(e.class(), ErrorClass::CommandNotFound),
        other => panic!("{other:?}"),
    }
    assert_eq!(added.unwrap().as_bytes(), b"{}");
    assert_eq!(jobs.unwrap().as_bytes(), b"[]");
    let nodes = within(qmp.execute("query-named-block-nodes", NO_ARGUMENTS))
        .await
        .unwrap();
    let name = nodes
        .value()
        .elements()
        .next()
        .unwrap()
        .get("node-name")
        .unwrap();
    assert!(name.as_str().unwrap() == "n1");
    assert_eq!(qmp.protocol_violations(), 0);
    qmp.close().await;
}

#[tokio::test]
async fn live_more_commands_than_slots_and_job_events() {
    let Some(qsd) = Qsd::start() else { return };
    let qmp = Arc::new(within(Client::connect_unix(qsd.socket())).await.unwrap());
    // 24 commands from 24 tasks: three times the 8 slots.
    let mut tasks = Vec::new();
    for _ in 0..24 {
        let qmp = Arc::clone(&qmp);
        tasks.push(tokio::spawn(async move {
            qmp.execute("query-version", NO_ARGUMENTS).await
        }));
    }
    for t in tasks {
        let v = within(t).await.unwrap().unwrap();
        assert!(v.value().get("qemu").is_some());
    }
    let image = qsd.dir().join("t.img");
    let args = format!(
        r#"{{"job-id": "j", "options": {{"driver": "file", "filename": {}, "size": 4096}}}}"#,
        serde_json::Value::String(image.display().to_string())
    );
    within(qmp.execute(
        "blockdev-create",
        Some(validate_json(args.as_bytes()).unwrap()),
    ))
    .await
    .unwrap();
    let mut statuses = Vec::new();
    while !statuses.iter().any(|s| s == "concluded") {
        let ev = within(qmp.next_event(None))
            .await
            .unwrap()
            .expect("connection open");
        assert_eq!(event_name(&ev), "JOB_STATUS_CHANGE");
        let status = ev.get("data").unwrap().get("status").unwrap();
        statuses.push(status.as_str().unwrap().to_string());
    }
    assert_eq!(statuses[0], "created");
    assert_eq!(qmp.dropped_events(), 0);
}

// --- scripted peers ---

#[tokio::test]
async fn out_of_order_replies_reach_their_callers() {
    let (stream, server) = scripted(|p| {
        p.handshake(GREETING_OOB);
        let ids: Vec<_> = (0..3).map(|_| p.read().unwrap()).collect();
        // Reply in reverse order, each with its command's name as the value.
        for cmd in ids.iter().rev() {
            let name = cmd["execute"].as_str().unwrap();
            p.send(&reply(&format!("\"{name}\""), &cmd["id"]));
        }
        assert!(p.read().is_none());
    });
    let qmp = within(Client::connect(stream, &Config::new()))
        .await
        .unwrap();
    let (a, b, c) = within(async {
        tokio::join!(
            qmp.execute("a", NO_ARGUMENTS),
            qmp.execute("b", NO_ARGUMENTS),
            qmp.execute("c", NO_ARGUMENTS),
        )
    })
    .await;
    assert_eq!(a.unwrap().as_bytes(), b"\"a\"");
    assert_eq!(b.unwrap().as_bytes(), b"\"b\"");
    assert_eq!(c.unwrap().as_bytes(), b"\"c\"");
    qmp.close().await;
    server.join().unwrap();
}

#[tokio::test]
async fn junk_and_early_events_do_not_end_the_connection() {
    let (stream, server) = scripted(|p| {
        p.send(GREETING_PLAIN);
        p.expect("qmp_capabilities");
        p.send(&event("EARLY", "{}"));
        p.send(RETURN_EMPTY);
        let id = p.expect("query-status");
        p.send(
            b"junk\r\n[]\r\n\"s\"\r\n{\"x\": 1}\r\n{\"return\": 1, \"id\": \"__qmp#77777\"}\r\n",
        );
        p.send(&event("LATE", r#"{"k": "v"}"#));
        p.send(&reply("{}", &id));
        assert!(p.read().is_none());
    });
    let qmp = within(Client::connect(stream, &Config::new()))
        .await
        .unwrap();
    let hook_calls = Arc::new(AtomicU64::new(0));
    let h = Arc::clone(&hook_calls);
    qmp.on_protocol_violation(move |_| {
        h.fetch_add(1, Ordering::Relaxed);
    });
    within(qmp.execute("query-status", NO_ARGUMENTS))
        .await
        .unwrap();
    assert_eq!(qmp.protocol_violations(), 5);
    assert_eq!(hook_calls.load(Ordering::Relaxed), 5);
    let names: Vec<String> = [qmp.try_event(), qmp.try_event()]
        .into_iter()
        .map(|e| event_name(&e.unwrap()))
        .collect();
    assert_eq!(names, ["EARLY", "LATE"]);
    assert!(!qmp.is_closed());
    qmp.close().await;
    server.join().unwrap();
}

#[tokio::test]
async fn closing_server_fails_waiters_and_ends_the_stream() {
    let (stream, server) = scripted(|p| {
        p.handshake(GREETING_PLAIN);
        p.expect("quit");
        for i in 0..4 {
            p.send(&event(&format!("E{i}"), "{}"));
        }
    });
    let config = Config::new().with_event_capacity(3);
    let qmp = within(Client::connect(stream, &config)).await.unwrap();
    assert!(matches!(
        within(qmp.execute("quit", NO_ARGUMENTS)).await,
        Err(Error::Closed)
    ));
    let mut names: Vec<String> = Vec::new();
    while let Ok(Some(e)) = within(qmp.next_event(None)).await {
        names.push(event_name(&e));
    }
    assert_eq!(names, ["E1", "E2", "E3"]);
    assert_eq!(qmp.dropped_events(), 1);
    assert!(qmp.is_closed());
    assert!(matches!(
        within(qmp.execute("query-status", NO_ARGUMENTS)).await,
        Err(Error::Closed)
    ));
    assert!(matches!(
        within(qmp.next_event(None)).await,
        Err(Error::Closed)
    ));
    server.join().unwrap();
}

#[tokio::test]
async fn an_abandoned_request_keeps_the_session_going() {
    let (stream, server) = scripted(|p| {
        p.handshake(GREETING_PLAIN);
        let slow = p.expect("slow");
        let fast = p.expect("fast");
        p.send(&reply("1", &slow));
        p.send(&reply("2", &fast));
        assert!(p.read().is_none());
    });
    let qmp = within(Client::connect(stream, &Config::new()))
        .await
        .unwrap();
    let gave_up =
        tokio::time::timeout(Duration::from_millis(50), qmp.execute("slow", NO_ARGUMENTS)).await;
    assert!(gave_up.is_err(), "the peer waits for the second command");
    let fast = within(qmp.execute("fast", NO_ARGUMENTS)).await.unwrap();
    assert_eq!(fast.as_bytes(), b"2");
    // The abandoned request's slot was freed at once: its late reply is dropped and counted.
    assert_eq!(qmp.protocol_violations(), 1);
    qmp.close().await;
    server.join().unwrap();
}

#[tokio::test]
async fn refused_negotiation_is_an_error() {
    let (stream, server) = scripted(|p| {
        p.send(GREETING_OOB);
        p.expect("qmp_capabilities");
        p.send(b"{\"error\": {\"class\": \"GenericError\", \"desc\": \"no\"}}\r\n");
    });
    match within(Client::connect(stream, &Config::new().with_oob(false))).await {
        Err(Error::Negotiation(e)) => assert_eq!(e.desc(), "no"),
        other => panic!("{other:?}"),
    }
    server.join().unwrap();
}
