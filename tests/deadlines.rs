//! Deadlines and failure rules of the transports, one test per finding of the renovation:
//! abandoned tokio calls, refused replies, dripping peers, the event queue's byte bound and
//! default timeouts. Each runs against a scripted peer.
#![cfg(unix)]

mod peer;

use std::thread;
use std::time::{Duration, Instant};

use peer::{event, pair, reply, Peer, GREETING_PLAIN};
use qmp_codec::client::Refusal;
use qmp_codec::transport::{blocking, tokio as qtokio, Config, Error, NO_ARGUMENTS};
use qmp_codec::Reason;

fn blocking_scripted<T>(
    config: Config,
    server: impl FnOnce(&mut Peer) + Send + 'static,
    client: impl FnOnce(&mut blocking::Client<std::os::unix::net::UnixStream>) -> T,
) -> T {
    let (stream, mut peer) = pair();
    let handle = thread::spawn(move || server(&mut peer));
    let mut qmp = blocking::Client::connect(stream, &config).expect("handshake");
    let out = client(&mut qmp);
    drop(qmp);
    handle.join().expect("peer thread");
    out
}

fn tokio_scripted(
    server: impl FnOnce(&mut Peer) + Send + 'static,
) -> (tokio::net::UnixStream, thread::JoinHandle<()>) {
    let (stream, mut peer) = pair();
    let handle = thread::spawn(move || server(&mut peer));
    stream.set_nonblocking(true).unwrap();
    (tokio::net::UnixStream::from_std(stream).unwrap(), handle)
}

/// A reply whose `return` is a string of `len` bytes.
fn long_reply(len: usize, id: &serde_json::Value) -> Vec<u8> {
    reply(&format!("\"{}\"", "x".repeat(len)), id)
}

/// A reply nested `depth` arrays deep.
fn deep_reply(depth: usize, id: &serde_json::Value) -> Vec<u8> {
    reply(&format!("{}{}", "[".repeat(depth), "]".repeat(depth)), id)
}

// Finding 1: 100 calls abandoned by a 10 ms timeout, then a call that must succeed.
#[tokio::test]
async fn tokio_abandoned_calls_free_their_slots() {
    let (stream, server) = tokio_scripted(|p| {
        p.handshake(GREETING_PLAIN);
        let mut abandoned = Vec::new();
        loop {
            let cmd = p.read().expect("a command");
            let id = cmd["id"].clone();
            if cmd["execute"] == "final" {
                // Late replies to some abandoned calls first: dropped and counted.
                for id in abandoned.iter().take(3) {
                    p.send(&reply("\"late\"", id));
                }
                p.send(&reply("\"done\"", &id));
                break;
            }
            abandoned.push(id);
        }
        assert_eq!(
            abandoned.len(),
            100,
            "every abandoned call reached the wire"
        );
        assert!(p.read().is_none());
    });
    let qmp = qtokio::Client::connect(stream, &Config::new())
        .await
        .unwrap();
    for _ in 0..100 {
        let r = tokio::time::timeout(Duration::from_millis(10), qmp.execute("hang", NO_ARGUMENTS))
            .await;
        assert!(r.is_err(), "the peer never answers these");
    }
    let done = tokio::time::timeout(Duration::from_secs(20), qmp.execute("final", NO_ARGUMENTS))
        .await
        .expect("the 101st call is answered")
        .unwrap();
    assert_eq!(done.as_bytes(), b"\"done\"");
    assert_eq!(qmp.protocol_violations(), 3, "three late replies counted");
    qmp.close().await;
    server.join().unwrap();
}

// Finding 1, with the transport's own deadline instead of the caller's.
#[tokio::test]
async fn tokio_call_deadline_from_config() {
    let (stream, server) = tokio_scripted(|p| {
        p.handshake(GREETING_PLAIN);
        p.expect("hang");
        let id = p.expect("next");
        p.send(&reply("1", &id));
        assert!(p.read().is_none());
    });
    let config = Config::new().with_timeout(Some(Duration::from_millis(200)));
    let qmp = qtokio::Client::connect(stream, &config).await.unwrap();
    assert!(matches!(
        qmp.execute("hang", NO_ARGUMENTS).await,
        Err(Error::Timeout)
    ));
    assert_eq!(
        qmp.execute("next", NO_ARGUMENTS).await.unwrap().as_bytes(),
        b"1"
    );
    qmp.close().await;
    server.join().unwrap();
}

// Finding 2: a reply the codec refuses fails the call that waits, with the reason; the
// session goes on.
#[test]
fn blocking_refused_replies_fail_the_waiting_call() {
    blocking_scripted(
        Config::new().with_max_message_len(4096),
        |p| {
            p.handshake(GREETING_PLAIN);
            let id = p.expect("big");
            p.send(&long_reply(10_000, &id));
            let id = p.expect("deep");
            p.send(&deep_reply(1100, &id));
            let id = p.expect("ok");
            p.send(&reply("{}", &id));
        },
        |qmp| {
            match qmp.execute("big", NO_ARGUMENTS) {
                Err(Error::ReplyRefused(Refusal::TooLong { len })) => assert!(len > 4096),
                other => panic!("{other:?}"),
            }
            match qmp.execute("deep", NO_ARGUMENTS) {
                Err(Error::ReplyRefused(Refusal::Limit(Reason::DepthLimit))) => {}
                other => panic!("{other:?}"),
            }
            qmp.execute("ok", NO_ARGUMENTS).unwrap();
            assert_eq!(qmp.protocol_violations(), 2);
        },
    );
}

#[tokio::test]
async fn tokio_refused_replies_fail_the_waiting_call() {
    let (stream, server) = tokio_scripted(|p| {
        p.handshake(GREETING_PLAIN);
        let id = p.expect("big");
        p.send(&long_reply(10_000, &id));
        let id = p.expect("ok");
        p.send(&reply("{}", &id));
        assert!(p.read().is_none());
    });
    let config = Config::new().with_max_message_len(4096);
    let qmp = qtokio::Client::connect(stream, &config).await.unwrap();
    assert!(matches!(
        qmp.execute("big", NO_ARGUMENTS).await,
        Err(Error::ReplyRefused(Refusal::TooLong { .. }))
    ));
    qmp.execute("ok", NO_ARGUMENTS).await.unwrap();
    qmp.close().await;
    server.join().unwrap();
}

// Finding 3: a peer that sends an event every 50 ms, or a reply one byte every 50 ms,
// cannot hold a call past its deadline.
#[test]
fn blocking_deadline_covers_the_whole_call() {
    let deadline = Duration::from_millis(300);
    blocking_scripted(
        Config::new().with_timeout(Some(deadline)),
        |p| {
            p.handshake(GREETING_PLAIN);
            p.expect("chatty");
            for _ in 0..20 {
                if !p.try_send(&event("TICK", "{}")) {
                    return;
                }
                thread::sleep(Duration::from_millis(50));
            }
            let id = p.expect("dripping");
            let line = reply("{}", &id);
            // Never the last byte: the line stays incomplete.
            for b in &line[..line.len() - 3] {
                if !p.try_send(std::slice::from_ref(b)) {
                    return;
                }
                thread::sleep(Duration::from_millis(50));
            }
        },
        |qmp| {
            let start = Instant::now();
            assert!(matches!(
                qmp.execute("chatty", NO_ARGUMENTS),
                Err(Error::Timeout)
            ));
            let took = start.elapsed();
            assert!(took >= deadline && took < deadline * 4, "took {took:?}");
            assert!(qmp.queued_events() > 0, "the events were kept");
            let start = Instant::now();
            assert!(matches!(
                qmp.execute("dripping", NO_ARGUMENTS),
                Err(Error::Timeout)
            ));
            let took = start.elapsed();
            assert!(took >= deadline && took < deadline * 4, "took {took:?}");
        },
    );
}

// Finding 4: queued events are bounded in bytes as well as count.
#[test]
fn blocking_event_queue_is_bounded_in_bytes() {
    let bound = 8 << 20;
    blocking_scripted(
        Config::new().with_event_bytes(bound),
        |p| {
            p.handshake(GREETING_PLAIN);
            let id = p.expect("query-status");
            let big = format!("{{\"blob\": \"{}\"}}", "y".repeat(1 << 20));
            for _ in 0..40 {
                p.send(&event("BIG", &big));
            }
            p.send(&reply("{}", &id));
        },
        |qmp| {
            qmp.execute("query-status", NO_ARGUMENTS).unwrap();
            assert!(qmp.queued_event_bytes() <= bound);
            assert!(qmp.queued_events() >= 3, "{}", qmp.queued_events());
            assert_eq!(qmp.dropped_events() + qmp.queued_events() as u64, 40);
            assert!(qmp.dropped_events() > 0);
        },
    );
}

// Finding 5: every call has a deadline by default, connecting included.
#[test]
fn blocking_defaults_have_deadlines_and_a_silent_server_ends_connect() {
    let config = Config::new();
    assert_eq!(config.timeout(), Some(Duration::from_secs(30)));
    let (stream, peer) = pair();
    let start = Instant::now();
    let config = Config::new().with_timeout(Some(Duration::from_millis(200)));
    match blocking::Client::connect(stream, &config) {
        Err(Error::NoGreeting) => {}
        other => panic!("{other:?}"),
    }
    assert!(start.elapsed() < Duration::from_secs(5));
    drop(peer);
}

#[tokio::test]
async fn tokio_silent_server_ends_connect() {
    let (stream, peer) = pair();
    stream.set_nonblocking(true).unwrap();
    let stream = tokio::net::UnixStream::from_std(stream).unwrap();
    let config = Config::new().with_timeout(Some(Duration::from_millis(200)));
    assert!(matches!(
        qtokio::Client::connect(stream, &config).await,
        Err(Error::NoGreeting)
    ));
    drop(peer);
}
