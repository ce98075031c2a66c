//! The guest agent engine against a scripted fake agent: whole transcripts (events, output and
//! states) for what a real qemu-ga cannot be made to do, and the typed decoders against
//! replies captured from qemu-ga 7.2 (`tests/data/agent/`).

use qmp_codec::agent::commands::{
    Exec, ExecStatus, FileClose, FileOpen, FileRead, FileWrite, Info, NetworkInterfaces, OsInfo,
    Ping, ReplyError,
};
use qmp_codec::agent::{Agent, AgentConfig, AgentError, AgentEvent, AgentState, Expect, Violation};
use qmp_codec::encode::{EmptyObject, Request};
use qmp_codec::ErrorClass;

/// One line per event, comparable as a whole.
fn describe(event: &AgentEvent<'_>) -> String {
    match event {
        AgentEvent::Synced { id } => format!("synced {id}"),
        AgentEvent::Reply(r) => format!("reply {} {}", r.id(), r.message().compact()),
        AgentEvent::Sent(id) => format!("sent {id}"),
        AgentEvent::NoReplyFailed(r) => {
            format!("no-reply-failed {} {}", r.id(), r.message().compact())
        }
        AgentEvent::Stale(Ok(b)) => format!("stale {}", String::from_utf8_lossy(b)),
        AgentEvent::Stale(Err(e)) => format!("stale-frame {e:?}"),
        AgentEvent::Unmatched { message, reason } => {
            format!("unmatched {reason:?} {}", message.compact())
        }
        AgentEvent::Violation(Violation::Parse(_)) => "violation parse".to_string(),
        AgentEvent::Violation(Violation::Frame(e)) => format!("violation frame {e:?}"),
        AgentEvent::Violation(Violation::UnexpectedMessage(m)) => {
            format!("violation unexpected {}", m.compact())
        }
        AgentEvent::Violation(v) => format!("violation {v:?}"),
        AgentEvent::TimedOut(id) => format!("timed-out {id}"),
        AgentEvent::SyncTimedOut { id } => format!("sync-timed-out {id}"),
        AgentEvent::Interrupted(id) => format!("interrupted {id}"),
        AgentEvent::Closed => "closed".to_string(),
        other => format!("{other:?}"),
    }
}

/// Feeds `bytes` in chunks of `chunk` and collects every event.
fn feed(agent: &mut Agent<'_>, bytes: &[u8], chunk: usize, log: &mut Vec<String>) {
    for piece in bytes.chunks(chunk.max(1)) {
        let mut rest = piece;
        while !rest.is_empty() {
            let n = agent.handle_input(rest);
            rest = &rest[n..];
            drain(agent, log);
        }
    }
    drain(agent, log);
}

fn drain(agent: &mut Agent<'_>, log: &mut Vec<String>) {
    while let Some(e) = agent.poll_event() {
        log.push(describe(&e));
    }
}

/// Takes the queued output, as a transport writing it all would.
fn sent(agent: &mut Agent<'_>) -> Vec<u8> {
    let out = agent.pending_transmit().to_vec();
    agent.consume_transmit(out.len());
    out
}

const SENTINEL_ERROR: &[u8] =
    b"{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, stray '\\uFFFD'\"}}\n";

/// What qemu-ga answers to a sync: the error for the sentinel byte, then `0xFF{"return": id}`.
fn sync_reply(id: u64) -> Vec<u8> {
    let mut v = SENTINEL_ERROR.to_vec();
    v.push(0xFF);
    v.extend_from_slice(format!("{{\"return\": {id}}}\n").as_bytes());
    v
}

#[test]
fn the_captured_sync_reply_syncs() {
    assert_eq!(sync_reply(77), include_bytes!("data/agent/sync-77.bin"));
    let (mut rx, mut tx) = ([0u8; 256], [0u8; 128]);
    let mut agent =
        Agent::new(&mut rx, &mut tx, AgentConfig::new().with_first_sync_id(77)).unwrap();
    assert_eq!(agent.sync(None), Ok(77));
    let mut log = Vec::new();
    feed(
        &mut agent,
        include_bytes!("data/agent/sync-77.bin"),
        4096,
        &mut log,
    );
    assert_eq!(log.last().map(String::as_str), Some("synced 77"));
    assert_eq!(agent.state(), AgentState::Ready);
}

/// Syncs a fresh agent with id `first`, checking the bytes and the transcript.
fn synced<'s>(rx: &'s mut [u8], tx: &'s mut [u8], config: AgentConfig) -> Agent<'s> {
    let mut agent = Agent::new(rx, tx, config).unwrap();
    assert_eq!(agent.state(), AgentState::Unsynced);
    let id = agent.sync(Some(1_000)).unwrap();
    let out = sent(&mut agent);
    assert_eq!(
        out,
        [
            &[0xFF][..],
            format!(r#"{{"execute":"guest-sync-delimited","arguments":{{"id":{id}}}}}"#).as_bytes()
        ]
        .concat()
    );
    assert_eq!(agent.state(), AgentState::Syncing);
    let mut log = Vec::new();
    feed(&mut agent, &sync_reply(id), 4096, &mut log);
    assert_eq!(
        log,
        [
            format!(
                "stale {}",
                String::from_utf8_lossy(&SENTINEL_ERROR[..SENTINEL_ERROR.len() - 1])
            ),
            format!("synced {id}"),
        ]
    );
    assert_eq!(agent.state(), AgentState::Ready);
    agent
}

/// The transcript of the timed-out command: its reply comes after the client gave up, then
/// the next command must get its own reply, never the late one. Run at every chunk size.
fn late_reply_transcript(chunk: usize, echo_ids: bool) -> Vec<String> {
    let (mut rx, mut tx) = ([0u8; 4096], [0u8; 512]);
    let mut agent = synced(&mut rx, &mut tx, AgentConfig::new().with_first_sync_id(7));
    let mut log = Vec::new();
    let id = agent
        .execute(
            "guest-exec-status",
            Some(qmp_codec::encode::validate_json(br#"{"pid": 12}"#).unwrap()),
            Some(2_000),
        )
        .unwrap();
    assert_eq!(
        sent(&mut agent),
        br#"{"execute":"guest-exec-status","arguments":{"pid":12},"id":"__qmp#00000"}"#
    );
    assert_eq!(agent.poll_timeout(), Some(2_000));
    agent.handle_timeout(1_999);
    drain(&mut agent, &mut log);
    agent.handle_timeout(2_000);
    drain(&mut agent, &mut log);
    assert_eq!(agent.state(), AgentState::Unsynced);
    assert_eq!(
        agent.execute("guest-ping", None::<EmptyObject>, None),
        Err(AgentError::NotSynced)
    );
    // The late reply arrives while the client syncs again, before the sentinel's error.
    let sync = agent.sync(Some(5_000)).unwrap();
    assert_eq!(sync, 8, "a fresh id for every sync");
    assert_eq!(sent(&mut agent)[0], 0xFF);
    let late: &[u8] = if echo_ids {
        b"{\"return\": {\"exitcode\": 0, \"exited\": true}, \"id\": \"__qmp#00000\"}\n"
    } else {
        b"{\"return\": {\"exitcode\": 0, \"exited\": true}}\n"
    };
    let mut input = late.to_vec();
    input.extend_from_slice(&sync_reply(sync));
    feed(&mut agent, &input, chunk, &mut log);
    let ping = agent
        .execute("guest-ping", None::<EmptyObject>, Some(6_000))
        .unwrap();
    assert_ne!(ping, id);
    sent(&mut agent);
    let reply: &[u8] = if echo_ids {
        b"{\"return\": {}, \"id\": \"__qmp#00001\"}\n"
    } else {
        b"{\"return\": {}}\n"
    };
    feed(&mut agent, reply, chunk, &mut log);
    assert_eq!(agent.state(), AgentState::Ready);
    log
}

#[test]
fn late_reply_after_timeout_is_never_the_next_commands() {
    for echo_ids in [true, false] {
        let expected = vec![
            "timed-out __qmp#00000".to_string(),
            format!(
                "stale {}",
                if echo_ids {
                    r#"{"return": {"exitcode": 0, "exited": true}, "id": "__qmp#00000"}"#
                } else {
                    r#"{"return": {"exitcode": 0, "exited": true}}"#
                }
            ),
            format!(
                "stale {}",
                String::from_utf8_lossy(&SENTINEL_ERROR[..SENTINEL_ERROR.len() - 1])
            ),
            "synced 8".to_string(),
            format!(
                "reply __qmp#00001 {}",
                if echo_ids {
                    r#"{"return":{},"id":"__qmp#00001"}"#
                } else {
                    r#"{"return":{}}"#
                }
            ),
        ];
        for chunk in [1, 2, 3, 7, 64, 4096] {
            assert_eq!(
                late_reply_transcript(chunk, echo_ids),
                expected,
                "chunk {chunk}, echo {echo_ids}"
            );
        }
    }
}

#[test]
fn sentinel_mid_stream_drops_the_half_line_before_it() {
    let (mut rx, mut tx) = ([0u8; 4096], [0u8; 512]);
    let mut agent = synced(&mut rx, &mut tx, AgentConfig::new());
    let mut log = Vec::new();
    agent.call(&Ping, Some(10)).unwrap();
    assert_eq!(
        sent(&mut agent),
        br#"{"execute":"guest-ping","id":"__qmp#00000"}"#
    );
    // Half a reply, the sentinel, then the reply: the half is gone without a trace.
    feed(
        &mut agent,
        b"{\"return\": {\"pi\xff{\"return\": {}, \"id\": \"__qmp#00000\"}\n",
        5,
        &mut log,
    );
    // A sentinel while syncing, inside a stale line, and one right before the sync's return.
    let sync = agent.sync(None).unwrap();
    sent(&mut agent);
    let mut input = b"{\"return\": 99, \"garb\xff".to_vec();
    input.extend_from_slice(&sync_reply(sync));
    feed(&mut agent, &input, 3, &mut log);
    assert_eq!(
        log,
        [
            r#"reply __qmp#00000 {"return":{},"id":"__qmp#00000"}"#.to_string(),
            format!(
                "stale {}",
                String::from_utf8_lossy(&SENTINEL_ERROR[..SENTINEL_ERROR.len() - 1])
            ),
            format!("synced {sync}"),
        ]
    );
}

#[test]
fn garbage_is_stale_out_of_sync_and_a_violation_in_sync() {
    let (mut rx, mut tx) = ([0u8; 4096], [0u8; 512]);
    let mut agent = Agent::new(&mut rx, &mut tx, AgentConfig::new()).unwrap();
    let mut log = Vec::new();
    // Before any sync, everything is stale, even a well-formed reply.
    feed(
        &mut agent,
        b"\x01\x02 not json\n{\"return\": 1}\n[1]\n",
        4096,
        &mut log,
    );
    let sync = agent.sync(None).unwrap();
    sent(&mut agent);
    // A sync return with the wrong id, a string id, an event: all stale.
    feed(
        &mut agent,
        b"{\"return\": 0}\n{\"return\": \"1\"}\n{\"event\": \"X\", \"timestamp\": {\"seconds\": 1, \"microseconds\": 2}}\n",
        4096,
        &mut log,
    );
    feed(&mut agent, &sync_reply(sync), 4096, &mut log);
    // In sync: garbage is a violation, a reply with nothing in flight is unmatched, and the
    // command still gets its reply.
    feed(&mut agent, b"garbage\n{\"return\": {}}\n", 4096, &mut log);
    agent.call(&Ping, None).unwrap();
    sent(&mut agent);
    feed(
        &mut agent,
        b"{\"foo\": 1}\n{\"return\": {}, \"id\": \"__qmp#99999\"}\n{\"return\": {}, \"id\": \"__qmp#00000\"}\n",
        4096,
        &mut log,
    );
    assert_eq!(
        log,
        [
            "stale \u{1}\u{2} not json",
            r#"stale {"return": 1}"#,
            "stale [1]",
            r#"stale {"return": 0}"#,
            r#"stale {"return": "1"}"#,
            r#"stale {"event": "X", "timestamp": {"seconds": 1, "microseconds": 2}}"#,
            &format!(
                "stale {}",
                String::from_utf8_lossy(&SENTINEL_ERROR[..SENTINEL_ERROR.len() - 1])
            ),
            "synced 1",
            "violation parse",
            r#"unmatched NothingInFlight {"return":{}}"#,
            r#"violation unexpected {"foo":1}"#,
            r#"unmatched OtherId {"return":{},"id":"__qmp#99999"}"#,
            r#"reply __qmp#00000 {"return":{},"id":"__qmp#00000"}"#,
        ]
    );
}

#[test]
fn silence_times_out_the_sync_and_a_stale_sync_return_is_not_taken() {
    let (mut rx, mut tx) = ([0u8; 4096], [0u8; 512]);
    let mut agent = Agent::new(
        &mut rx,
        &mut tx,
        AgentConfig::new().with_first_sync_id(1000),
    )
    .unwrap();
    let mut log = Vec::new();
    assert_eq!(agent.poll_timeout(), None);
    let first = agent.sync(Some(500)).unwrap();
    sent(&mut agent);
    drain(&mut agent, &mut log);
    assert!(log.is_empty(), "silence: no event");
    assert_eq!(agent.poll_timeout(), Some(500));
    agent.handle_timeout(499);
    drain(&mut agent, &mut log);
    agent.handle_timeout(500);
    drain(&mut agent, &mut log);
    assert_eq!(agent.state(), AgentState::Unsynced);
    assert_eq!(agent.poll_timeout(), None);
    agent.handle_timeout(10_000);
    let second = agent.sync(Some(1_500)).unwrap();
    sent(&mut agent);
    // The first sync's return arrives late: stale. Then the second's.
    feed(&mut agent, &sync_reply(first), 4096, &mut log);
    feed(&mut agent, &sync_reply(second), 4096, &mut log);
    let err = String::from_utf8_lossy(&SENTINEL_ERROR[..SENTINEL_ERROR.len() - 1]).into_owned();
    assert_eq!(
        log,
        [
            "sync-timed-out 1000".to_string(),
            format!("stale {err}"),
            "stale {\"return\": 1000}".to_string(),
            format!("stale {err}"),
            "synced 1001".to_string(),
        ]
    );
}

#[test]
fn a_command_without_success_response_completes_on_send_and_needs_a_sync() {
    let (mut rx, mut tx) = ([0u8; 4096], [0u8; 512]);
    let mut agent = synced(&mut rx, &mut tx, AgentConfig::new().with_first_id(9));
    let mut log = Vec::new();
    assert_eq!(Expect::for_command("guest-shutdown"), Expect::Nothing);
    let id = agent
        .execute("guest-shutdown", None::<EmptyObject>, Some(100))
        .unwrap();
    assert_eq!(agent.state(), AgentState::Busy);
    drain(&mut agent, &mut log);
    assert!(log.is_empty(), "not complete before its bytes are taken");
    // Handed to the transport in two writes.
    let out = agent.pending_transmit().to_vec();
    agent.consume_transmit(10);
    drain(&mut agent, &mut log);
    assert!(log.is_empty());
    let mut buf = vec![0u8; out.len()];
    assert_eq!(agent.poll_transmit(&mut buf), Some(out.len() - 10));
    assert_eq!(agent.state(), AgentState::Unsynced);
    assert_eq!(agent.poll_timeout(), None);
    assert_eq!(
        agent.send(Request::execute("x"), Expect::Nothing, None),
        Err(AgentError::NotSynced)
    );
    // The agent refuses it (blocked): the error is matched by its id, even out of sync.
    feed(
        &mut agent,
        include_bytes!("data/agent/shutdown-blocked.json"),
        4096,
        &mut log,
    );
    assert_eq!(
        log,
        [
            format!("sent {id}"),
            r#"no-reply-failed __qmp#00009 {"id":"__qmp#00009","error":{"class":"CommandNotFound","desc":"Command guest-shutdown has been disabled"}}"#.to_string(),
        ]
    );
}

#[test]
fn no_reply_error_with_the_commands_id() {
    let (mut rx, mut tx) = ([0u8; 4096], [0u8; 512]);
    let mut agent = synced(&mut rx, &mut tx, AgentConfig::new().with_first_id(9));
    let mut log = Vec::new();
    let id = agent
        .send(
            Request::execute("guest-suspend-ram"),
            Expect::for_command("guest-suspend-ram"),
            None,
        )
        .unwrap();
    assert_eq!(id.as_str(), "__qmp#00009");
    sent(&mut agent);
    let sync = agent.sync(None).unwrap();
    sent(&mut agent);
    let mut input = include_bytes!("data/agent/shutdown-blocked.json").to_vec();
    input.extend_from_slice(&sync_reply(sync));
    feed(&mut agent, &input, 4096, &mut log);
    assert_eq!(
        log,
        [
            "sent __qmp#00009".to_string(),
            r#"no-reply-failed __qmp#00009 {"id":"__qmp#00009","error":{"class":"CommandNotFound","desc":"Command guest-shutdown has been disabled"}}"#.to_string(),
            format!("stale {}", String::from_utf8_lossy(&SENTINEL_ERROR[..SENTINEL_ERROR.len() - 1])),
            format!("synced {sync}"),
        ]
    );
}

#[test]
fn one_command_in_flight_and_busy_refusals_queue_nothing() {
    let (mut rx, mut tx) = ([0u8; 4096], [0u8; 512]);
    let mut agent = synced(&mut rx, &mut tx, AgentConfig::new());
    agent.call(&Ping, None).unwrap();
    let queued = agent.pending_transmit().to_vec();
    assert_eq!(agent.call(&Ping, None), Err(AgentError::Busy));
    assert_eq!(agent.sync(None), Err(AgentError::Busy));
    assert_eq!(
        agent.pending_transmit(),
        queued,
        "nothing queued by a refusal"
    );
    assert_eq!(agent.next_id(), 1);
    // A request that cannot fit is refused with the exact size; nothing is queued.
    sent(&mut agent);
    let mut log = Vec::new();
    feed(
        &mut agent,
        b"{\"return\": {}, \"id\": \"__qmp#00000\"}\n",
        4096,
        &mut log,
    );
    let big = vec![b'x'; 600];
    let r = agent.call(
        &FileWrite {
            handle: 1,
            data: &big,
        },
        None,
    );
    assert!(
        matches!(r, Err(AgentError::Encode(qmp_codec::encode::EncodeError::BufferTooSmall { required })) if required > 800)
    );
    assert_eq!(agent.state(), AgentState::Ready);
    assert!(agent.pending_transmit().is_empty());
}

#[test]
fn echoed_ids_can_be_required() {
    let (mut rx, mut tx) = ([0u8; 4096], [0u8; 512]);
    let mut agent = synced(
        &mut rx,
        &mut tx,
        AgentConfig::new().with_require_echoed_id(true),
    );
    let mut log = Vec::new();
    agent.call(&Ping, None).unwrap();
    sent(&mut agent);
    feed(
        &mut agent,
        b"{\"return\": {}}\n{\"return\": {}, \"id\": \"__qmp#00000\"}\n",
        4096,
        &mut log,
    );
    assert_eq!(
        log,
        [
            r#"unmatched MissingId {"return":{}}"#,
            r#"reply __qmp#00000 {"return":{},"id":"__qmp#00000"}"#,
        ]
    );
}

#[test]
fn end_of_stream_interrupts_and_reconnect_starts_unsynced_with_fresh_ids() {
    let (mut rx, mut tx) = ([0u8; 4096], [0u8; 512]);
    let mut agent = synced(&mut rx, &mut tx, AgentConfig::new().with_first_sync_id(5));
    let mut log = Vec::new();
    agent.call(&Info, Some(100)).unwrap();
    sent(&mut agent);
    feed(&mut agent, b"{\"return\": {\"vers", 4096, &mut log);
    agent.handle_eof();
    drain(&mut agent, &mut log);
    assert_eq!(agent.state(), AgentState::Closed);
    assert_eq!(agent.call(&Ping, None), Err(AgentError::Closed));
    assert_eq!(agent.sync(None), Err(AgentError::Closed));
    agent.reconnect();
    assert_eq!(agent.state(), AgentState::Unsynced);
    let sync = agent.sync(None).unwrap();
    assert_eq!(sync, 6);
    sent(&mut agent);
    feed(&mut agent, &sync_reply(sync), 4096, &mut log);
    agent.call(&Ping, None).unwrap();
    sent(&mut agent);
    // A command in flight when the caller reconnects is interrupted.
    agent.reconnect();
    drain(&mut agent, &mut log);
    assert_eq!(
        log,
        [
            // The half line at end of stream is a frame for the framer, but not JSON: we
            // were in sync, so it is a violation.
            "violation parse".to_string(),
            "interrupted __qmp#00000".to_string(),
            "closed".to_string(),
            format!(
                "stale {}",
                String::from_utf8_lossy(&SENTINEL_ERROR[..SENTINEL_ERROR.len() - 1])
            ),
            "synced 6".to_string(),
            "interrupted __qmp#00001".to_string(),
        ]
    );
}

#[test]
fn a_reply_longer_than_the_receive_buffer_fails_the_command_and_the_stream_goes_on() {
    let (mut rx, mut tx) = ([0u8; 128], [0u8; 512]);
    let mut agent = synced(&mut rx, &mut tx, AgentConfig::new());
    let mut log = Vec::new();
    let id = agent.call(&Info, None).unwrap();
    sent(&mut agent);
    // The refused frame was probably the reply: the command fails, the session needs a
    // sync, and whatever comes for it later is stale.
    let mut input = include_bytes!("data/agent/info.json").to_vec();
    input.extend_from_slice(b"{\"return\": {}, \"id\": \"__qmp#00000\"}\n");
    feed(&mut agent, &input, 100, &mut log);
    assert_eq!(
        log,
        [
            format!("Refused {{ id: Id(\"{id}\"), violation: Frame(TooLong {{ offset: 96, len: 3250 }}) }}"),
            r#"stale {"return": {}, "id": "__qmp#00000"}"#.to_string(),
        ]
    );
    assert_eq!(agent.state(), AgentState::Unsynced);
    // In sync with nothing in flight, the same is a violation; out of sync, stale.
    let sync = agent.sync(None).unwrap();
    sent(&mut agent);
    log.clear();
    feed(
        &mut agent,
        include_bytes!("data/agent/info.json"),
        100,
        &mut log,
    );
    feed(&mut agent, &sync_reply(sync), 100, &mut log);
    feed(
        &mut agent,
        include_bytes!("data/agent/info.json"),
        100,
        &mut log,
    );
    assert_eq!(log.len(), 4, "{log:?}");
    assert!(log[0].starts_with("stale-frame TooLong"), "{log:?}");
    assert!(log[3].starts_with("violation frame TooLong"), "{log:?}");
    assert_eq!(agent.state(), AgentState::Ready);
}

// --- typed decoders on captured qemu-ga 7.2 replies ---

/// Runs one command through a synced engine and hands its reply to `check`.
fn with_reply<C: qmp_codec::agent::commands::AgentCommand>(
    command: &C,
    expected_request: &[u8],
    reply: &[u8],
    check: impl FnOnce(&qmp_codec::agent::Reply<'_>),
) {
    let (mut rx, mut tx) = ([0u8; 8192], [0u8; 512]);
    let mut agent = synced(&mut rx, &mut tx, AgentConfig::new());
    agent.call(command, None).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&sent(&mut agent)),
        String::from_utf8_lossy(expected_request)
    );
    // The captured reply carries another id: matched in order (the agent serves one at a
    // time), as an agent that does not echo ids would be.
    let reply = String::from_utf8_lossy(reply);
    let reply = regex_free_strip_id(&reply);
    agent.handle_input(reply.as_bytes());
    match agent.poll_event() {
        Some(AgentEvent::Reply(r)) => check(&r),
        other => panic!("{other:?}"),
    }
}

/// Removes the `"id": "__qmp#NNNNN"` member of a captured reply.
fn regex_free_strip_id(reply: &str) -> String {
    let mut s = reply.to_string();
    if let Some(at) = s.find("\"id\": \"__qmp#") {
        let end = at + "\"id\": \"__qmp#00000\"".len();
        let (before, after) = (&s[..at], &s[end..]);
        let before = before.trim_end_matches(", ");
        let after = after.trim_start_matches(", ");
        s = if before.ends_with('{') {
            format!("{before}{after}")
        } else {
            format!(
                "{before}{}",
                if after.starts_with('}') {
                    after.to_string()
                } else {
                    format!(", {after}")
                }
            )
        };
    }
    s
}

#[test]
fn decoders_read_captured_replies() {
    with_reply(
        &Ping,
        br#"{"execute":"guest-ping","id":"__qmp#00000"}"#,
        include_bytes!("data/agent/ping-noid.json"),
        |r| {
            Ping::decode(r).unwrap();
        },
    );
    with_reply(
        &Info,
        br#"{"execute":"guest-info","id":"__qmp#00000"}"#,
        include_bytes!("data/agent/info.json"),
        |r| {
            let info = Info::decode(r).unwrap();
            assert!(info.version() == "7.2.22");
            let shutdown = info.command("guest-shutdown").unwrap();
            assert!(!shutdown.enabled, "blocked with -b");
            assert_eq!(shutdown.expect(), Expect::Nothing);
            assert!(info.command("guest-exec").unwrap().enabled);
            let no_reply: Vec<String> = info
                .commands()
                .filter(|c| !c.success_response)
                .map(|c| c.name.to_string())
                .collect();
            let mut no_reply = no_reply;
            no_reply.sort();
            let mut known = qmp_codec::agent::NO_SUCCESS_RESPONSE
                .map(String::from)
                .to_vec();
            known.sort();
            assert_eq!(
                no_reply, known,
                "the built-in list matches the agent's schema"
            );
            assert!(info.commands().count() > 30);
        },
    );
    with_reply(
        &OsInfo,
        br#"{"execute":"guest-get-osinfo","id":"__qmp#00000"}"#,
        include_bytes!("data/agent/osinfo.json"),
        |r| {
            let os = OsInfo::decode(r).unwrap();
            assert!(os.id().unwrap() == "debian");
            assert!(os.pretty_name().unwrap() == "Debian GNU/Linux 12 (bookworm)");
            assert!(os.machine().unwrap() == "x86_64");
            assert!(os.version_id().unwrap() == "12");
        },
    );
    with_reply(
        &NetworkInterfaces,
        br#"{"execute":"guest-network-get-interfaces","id":"__qmp#00000"}"#,
        include_bytes!("data/agent/net.json"),
        |r| {
            let ifs: Vec<_> = NetworkInterfaces::decode(r).unwrap().collect();
            let names: Vec<String> = ifs.iter().map(|i| i.name().to_string()).collect();
            assert_eq!(names, ["lo", "ifb0", "ifb1", "eth0"]);
            let lo: Vec<String> = ifs[0]
                .addresses()
                .map(|a| format!("{}/{} {}", a.address, a.prefix, a.kind))
                .collect();
            assert_eq!(lo, ["127.0.0.1/8 ipv4", "::1/128 ipv6"]);
            assert!(ifs[0].hardware_address().unwrap() == "00:00:00:00:00:00");
            assert_eq!(ifs[1].addresses().count(), 0);
            assert!(ifs[3]
                .statistics()
                .unwrap()
                .get("rx-bytes")
                .unwrap()
                .as_u64()
                .is_some());
        },
    );
    with_reply(
        &Exec::new("/bin/sh").args(&["-c", "exit 3"]).env(&["A=\u{e9}"]).input(b"in").capture_output(true),
        br#"{"execute":"guest-exec","arguments":{"path":"/bin/sh","arg":["-c","exit 3"],"env":["A=\u00e9"],"input-data":"aW4=","capture-output":true},"id":"__qmp#00000"}"#,
        include_bytes!("data/agent/exec.json"),
        |r| assert_eq!(Exec::decode(r).unwrap(), 23180),
    );
    with_reply(
        &ExecStatus { pid: 23180 },
        br#"{"execute":"guest-exec-status","arguments":{"pid":23180},"id":"__qmp#00000"}"#,
        include_bytes!("data/agent/exec-status.json"),
        |r| {
            let st = ExecStatus::decode(r).unwrap();
            assert!(st.exited());
            assert_eq!(st.exit_code(), Some(3));
            assert_eq!(st.signal(), None);
            let mut buf = [0u8; 16];
            let n = st.stdout_into(&mut buf).unwrap();
            assert_eq!(&buf[..n], b"a/b?>~\n");
            let n = st.stderr_into(&mut buf).unwrap();
            assert_eq!(&buf[..n], b"err\n");
            let result = st.to_result().unwrap().unwrap();
            assert_eq!(
                (result.stdout.as_slice(), result.stderr.as_slice()),
                (&b"a/b?>~\n"[..], &b"err\n"[..])
            );
            assert!(!result.truncated);
        },
    );
    with_reply(
        &FileOpen { path: "/tmp/x", mode: Some("r") },
        br#"{"execute":"guest-file-open","arguments":{"path":"/tmp/x","mode":"r"},"id":"__qmp#00000"}"#,
        include_bytes!("data/agent/file-open.json"),
        |r| assert_eq!(FileOpen::decode(r).unwrap(), 1000),
    );
    with_reply(
        &FileRead { handle: 1000, count: Some(100) },
        br#"{"execute":"guest-file-read","arguments":{"handle":1000,"count":100},"id":"__qmp#00000"}"#,
        include_bytes!("data/agent/file-read.json"),
        |r| {
            let chunk = FileRead::decode(r).unwrap();
            assert!(chunk.eof());
            assert_eq!(chunk.count(), 17);
            let mut buf = [0u8; 17];
            assert_eq!(chunk.data_into(&mut buf), Ok(17));
            assert_eq!(&buf, b"hello / world?>>\n");
            let mut short = [0u8; 4];
            assert!(chunk.data_into(&mut short).is_err());
        },
    );
    with_reply(
        &FileClose { handle: 1000 },
        br#"{"execute":"guest-file-close","arguments":{"handle":1000},"id":"__qmp#00000"}"#,
        include_bytes!("data/agent/file-close.json"),
        |r| FileClose::decode(r).unwrap(),
    );
    with_reply(
        &FileWrite { handle: 3, data: b"hello / world?>>\n" },
        br#"{"execute":"guest-file-write","arguments":{"handle":3,"buf-b64":"aGVsbG8gLyB3b3JsZD8+Pgo="},"id":"__qmp#00000"}"#,
        b"{\"return\": {\"count\": 17, \"eof\": false}}\n",
        |r| assert_eq!(FileWrite::decode(r).unwrap(), (17, false)),
    );
    with_reply(
        &Ping,
        br#"{"execute":"guest-ping","id":"__qmp#00000"}"#,
        include_bytes!("data/agent/blocked.json"),
        |r| match Ping::decode(r) {
            Err(ReplyError::Agent(e)) => {
                assert_eq!(e.class(), ErrorClass::CommandNotFound);
                assert!(e.desc() == "Command guest-set-time has been disabled");
            }
            other => panic!("{other:?}"),
        },
    );
    // A return of the wrong shape names the member.
    with_reply(
        &ExecStatus { pid: 1 },
        br#"{"execute":"guest-exec-status","arguments":{"pid":1},"id":"__qmp#00000"}"#,
        b"{\"return\": {\"exitcode\": 0}}\n",
        |r| {
            assert!(matches!(
                ExecStatus::decode(r),
                Err(ReplyError::Shape { what: "exited" })
            ));
        },
    );
}

#[test]
fn ended_flights_are_reported_in_order_even_when_not_polled_in_between() {
    let (mut rx, mut tx) = ([0u8; 4096], [0u8; 512]);
    let mut agent = synced(&mut rx, &mut tx, AgentConfig::new().with_first_sync_id(3));
    // A no-reply command completes, a sync starts and times out, another sync starts and
    // times out: nothing polled in between.
    let shutdown = agent
        .execute("guest-shutdown", None::<EmptyObject>, None)
        .unwrap();
    sent(&mut agent);
    let s1 = agent.sync(Some(10)).unwrap();
    agent.handle_timeout(10);
    let s2 = agent.sync(Some(20)).unwrap();
    agent.handle_timeout(20);
    let mut log = Vec::new();
    drain(&mut agent, &mut log);
    assert_eq!(
        log,
        [
            format!("sent {shutdown}"),
            format!("sync-timed-out {s1}"),
            format!("sync-timed-out {s2}"),
        ]
    );
}

#[test]
fn once_the_agent_echoes_ids_a_reply_without_one_is_not_taken() {
    let (mut rx, mut tx) = ([0u8; 4096], [0u8; 512]);
    let mut agent = synced(&mut rx, &mut tx, AgentConfig::new());
    let mut log = Vec::new();
    // First reply without an id: taken (an agent that does not echo ids).
    agent.call(&Ping, None).unwrap();
    sent(&mut agent);
    feed(&mut agent, b"{\"return\": {}}\n", 4096, &mut log);
    // Then one that echoes: from now on, a reply without an id is not the command's.
    agent.call(&Ping, None).unwrap();
    sent(&mut agent);
    feed(
        &mut agent,
        b"{\"return\": {}, \"id\": \"__qmp#00001\"}\n",
        4096,
        &mut log,
    );
    agent.call(&Ping, None).unwrap();
    sent(&mut agent);
    feed(
        &mut agent,
        b"{\"error\": {\"class\": \"GenericError\", \"desc\": \"x\"}}\n{\"return\": {}, \"id\": \"__qmp#00002\"}\n",
        4096,
        &mut log,
    );
    // A new connection may be another agent: ids are optional again until one is echoed.
    agent.reconnect();
    let sync = agent.sync(None).unwrap();
    sent(&mut agent);
    feed(&mut agent, &sync_reply(sync), 4096, &mut log);
    agent.call(&Ping, None).unwrap();
    sent(&mut agent);
    feed(&mut agent, b"{\"return\": {}}\n", 4096, &mut log);
    assert_eq!(
        log,
        [
            r#"reply __qmp#00000 {"return":{}}"#.to_string(),
            r#"reply __qmp#00001 {"return":{},"id":"__qmp#00001"}"#.to_string(),
            r#"unmatched MissingId {"error":{"class":"GenericError","desc":"x"}}"#.to_string(),
            r#"reply __qmp#00002 {"return":{},"id":"__qmp#00002"}"#.to_string(),
            format!(
                "stale {}",
                String::from_utf8_lossy(&SENTINEL_ERROR[..SENTINEL_ERROR.len() - 1])
            ),
            format!("synced {sync}"),
            r#"reply __qmp#00003 {"return":{}}"#.to_string(),
        ]
    );
}

#[test]
fn a_command_that_expects_nothing_is_only_answered_with_its_id() {
    let (mut rx, mut tx) = ([0u8; 4096], [0u8; 512]);
    let mut agent = synced(&mut rx, &mut tx, AgentConfig::new().with_first_id(9));
    let mut log = Vec::new();
    agent
        .execute("guest-shutdown", None::<EmptyObject>, None)
        .unwrap();
    // Not all handed over yet: a reply without an id is not its.
    agent.consume_transmit(5);
    feed(&mut agent, b"{\"return\": {}}\n", 4096, &mut log);
    assert_eq!(agent.state(), AgentState::Busy);
    // Its error, with its id, is its reply.
    feed(
        &mut agent,
        include_bytes!("data/agent/shutdown-blocked.json"),
        4096,
        &mut log,
    );
    assert_eq!(agent.state(), AgentState::Ready);
    assert_eq!(
        log,
        [
            r#"unmatched MissingId {"return":{}}"#,
            r#"reply __qmp#00009 {"id":"__qmp#00009","error":{"class":"CommandNotFound","desc":"Command guest-shutdown has been disabled"}}"#,
        ]
    );
}
