//! The agent engine and its typed helpers against a live qemu-ga (Debian's 7.2), started by
//! the tests outside any VM with the dangerous commands blocked (`tests/common/qga.rs`).
//! A missing qemu-ga fails these tests with a how-to message.
#![cfg(unix)]

mod common;

use std::time::Duration;

use common::qga::{Qga, Session};
use qmp_codec::agent::commands::{
    Exec, ExecPoll, ExecProgress, ExecStatus, FileClose, FileOpen, FileRead, FileWrite, Info, Ping,
    ReplyError,
};
use qmp_codec::agent::{AgentEvent, AgentState};
use qmp_codec::encode::EmptyObject;
use qmp_codec::ErrorClass;

const T: Duration = Duration::from_secs(10);

fn ping(s: &mut Session) {
    s.call(&Ping, T, |r| Ping::decode(r).expect("ping"));
}

#[test]
fn sync_after_garbage_left_by_another_client_and_on_the_same_connection() {
    let qga = Qga::start();
    // A client leaves half a command in the agent's parser and goes away.
    {
        let mut first = qga.connect();
        first.write_raw(br#"{"execute": "guest-ping", "arguments": {"#);
    }
    let mut s = qga.connect();
    // More garbage on our own connection before the sync: control bytes and a stray brace.
    s.write_raw(b"}\x01 nonsense [1, \n");
    let id = s.sync(T).unwrap_or_else(|| panic!("no sync: {:#?}", s.log));
    assert_eq!(s.agent.state(), AgentState::Ready);
    // Everything before our sync's return was discarded as stale: at least the agent's
    // error for the sentinel byte.
    let stale: Vec<&String> = s.log.iter().filter(|l| l.starts_with("stale")).collect();
    assert!(
        stale.iter().any(|l| l.contains("JSON parse error")),
        "the sentinel's error is discarded: {:#?}",
        s.log
    );
    assert_eq!(s.log.last().unwrap(), &format!("synced {id}"));
    ping(&mut s);
    // A second sync uses a fresh id.
    let again = s.sync(T).unwrap();
    assert_eq!(again, id + 1);
    ping(&mut s);
}

#[test]
fn exec_with_output_and_exit_code() {
    let qga = Qga::start();
    let mut s = qga.connect();
    s.sync(T).expect("sync");
    let pid = s.call(
        &Exec::new("/bin/sh")
            .args(&[
                "-c",
                "cat; printf 'out/put?>~'; printf 'err\\n' >&2; exit 5",
            ])
            .input(b"from stdin \xff\n")
            .capture_output(true),
        T,
        |r| Exec::decode(r).expect("exec"),
    );
    assert!(pid > 0);
    // Poll to the end with the sans-IO poller's backoff, within one deadline.
    let give_up = std::time::Instant::now() + T;
    let mut poll = ExecPoll::new(pid).with_backoff(5, 50);
    let mut requests = 0;
    let result = loop {
        requests += 1;
        let (progress, result) = s.call(&poll.request(), T, |r| {
            let st = ExecStatus::decode(r).expect("status");
            (poll.on_status(&st), st.to_result().expect("base64"))
        });
        match progress {
            ExecProgress::Exited => break result.expect("exited"),
            ExecProgress::Running { after } => {
                assert!(result.is_none());
                assert!(
                    std::time::Instant::now() < give_up,
                    "the program did not exit"
                );
                std::thread::sleep(Duration::from_millis(after));
            }
        }
    };
    assert!(requests >= 1);
    assert_eq!(result.exit_code, Some(5));
    assert_eq!(result.signal, None);
    assert_eq!(result.stdout, b"from stdin \xff\nout/put?>~");
    assert_eq!(result.stderr, b"err\n");
    assert!(!result.truncated);
}

#[test]
fn file_round_trip_in_a_temporary_directory() {
    let qga = Qga::start();
    let mut s = qga.connect();
    s.sync(T).expect("sync");
    let path = qga.dir().join("round-trip.bin");
    let path_str = path.to_str().unwrap();
    // Every byte value, 40 KiB, in chunks that do not divide it.
    let data: Vec<u8> = (0..40_000u32).map(|i| (i * 7 + i / 256) as u8).collect();
    let handle = s.call(
        &FileOpen {
            path: path_str,
            mode: Some("w"),
        },
        T,
        |r| FileOpen::decode(r).expect("open"),
    );
    // Chunks sized so that each request fits a 4 KiB transmit buffer.
    let chunk_len = FileWrite::max_data_len(handle, 4096);
    assert!((2_900..3_072).contains(&chunk_len), "{chunk_len}");
    for chunk in data.chunks(chunk_len) {
        let (count, _) = s.call(
            &FileWrite {
                handle,
                data: chunk,
            },
            T,
            |r| FileWrite::decode(r).expect("write"),
        );
        assert_eq!(count, chunk.len() as i64);
    }
    s.call(&FileClose { handle }, T, |r| {
        FileClose::decode(r).expect("close")
    });
    assert_eq!(
        std::fs::read(&path).unwrap(),
        data,
        "the agent wrote the bytes"
    );
    let handle = s.call(
        &FileOpen {
            path: path_str,
            mode: None,
        },
        T,
        |r| FileOpen::decode(r).expect("open"),
    );
    let mut back = Vec::new();
    loop {
        let eof = s.call(
            &FileRead {
                handle,
                count: Some(4_096),
            },
            T,
            |r| {
                let chunk = FileRead::decode(r).expect("read");
                let n = chunk.append_to(&mut back).expect("base64");
                assert_eq!(n as i64, chunk.count());
                chunk.eof()
            },
        );
        if eof {
            break;
        }
    }
    s.call(&FileClose { handle }, T, |r| {
        FileClose::decode(r).expect("close")
    });
    assert_eq!(back.len(), data.len());
    assert!(back == data, "read back what was written");
}

#[test]
fn blocked_commands_answer_command_not_found() {
    let qga = Qga::start();
    let mut s = qga.connect();
    s.sync(T).expect("sync");
    let info = s.call(&Info, T, |r| {
        let info = Info::decode(r).expect("info");
        (
            info.command("guest-set-time").map(|c| c.enabled),
            info.command("guest-shutdown")
                .map(|c| (c.enabled, c.success_response)),
            info.command("guest-ping").map(|c| c.enabled),
        )
    });
    assert_eq!(info, (Some(false), Some((false, false)), Some(true)));
    // A blocked command with a success response: its error is its reply.
    let id = s
        .agent
        .execute("guest-set-time", None::<EmptyObject>, None)
        .unwrap();
    let desc = s
        .run(T, |e| match e {
            AgentEvent::Reply(r) if r.id() == id => {
                let info = r.error().expect("an error").expect("well formed");
                assert_eq!(info.class(), ErrorClass::CommandNotFound);
                Some(info.desc().to_string())
            }
            _ => None,
        })
        .expect("a reply");
    assert_eq!(desc, "Command guest-set-time has been disabled");
    // A blocked command without one: complete on send, then its error is recognized by id.
    let id = s
        .agent
        .execute("guest-shutdown", None::<EmptyObject>, None)
        .unwrap();
    let sent = s.run(T, |e| {
        matches!(e, AgentEvent::Sent(got) if *got == id).then_some(())
    });
    assert!(sent.is_some(), "{:#?}", s.log);
    assert_eq!(s.agent.state(), AgentState::Unsynced);
    let failed = s.run(T, |e| match e {
        AgentEvent::NoReplyFailed(r) if r.id() == id => {
            Some(r.error().unwrap().unwrap().desc().to_string())
        }
        _ => None,
    });
    assert_eq!(
        failed.as_deref(),
        Some("Command guest-shutdown has been disabled")
    );
    // Decoders report the agent's error.
    s.sync(T).expect("sync");
    let refused = s.call(
        &Exec::new("/nonexistent/program"),
        T,
        |r| match Exec::decode(r) {
            Err(ReplyError::Agent(e)) => {
                (e.class() == ErrorClass::GenericError, e.desc().to_string())
            }
            other => panic!("{other:?}"),
        },
    );
    assert!(refused.0, "GenericError");
    assert!(
        refused
            .1
            .contains("Failed to execute child process \u{201c}/nonexistent/program\u{201d}"),
        "{}",
        refused.1
    );
}

#[test]
fn agent_restart_closes_the_session_and_a_reconnect_syncs_afresh() {
    let mut qga = Qga::start();
    let mut s = qga.connect();
    let first = s.sync(T).expect("sync");
    ping(&mut s);
    qga.restart();
    // The old connection ends: the engine closes.
    let closed = s.run(T, |e| matches!(e, AgentEvent::Closed).then_some(()));
    assert!(closed.is_some(), "{:#?}", s.log);
    assert_eq!(s.agent.state(), AgentState::Closed);
    s.reconnect(qga.socket());
    assert_eq!(s.agent.state(), AgentState::Unsynced);
    let second = s.sync(T).expect("sync after restart");
    assert_eq!(second, first + 1, "a fresh sync id");
    ping(&mut s);
}

#[test]
fn a_second_client_waits_until_the_first_leaves() {
    let qga = Qga::start();
    let mut a = qga.connect();
    a.sync(T).expect("first client syncs");
    let mut b = qga.connect();
    // The agent serves one client: the second's sync goes unanswered.
    let waited = b.sync(Duration::from_millis(500));
    assert_eq!(waited, None, "{:#?}", b.log);
    assert!(
        b.log.iter().any(|l| l.starts_with("sync-timed-out")),
        "{:#?}",
        b.log
    );
    ping(&mut a);
    drop(a);
    // Once the first leaves, the second is served: the answer to its first sync arrives
    // first and is stale (a fresh id each time), then its new sync returns.
    let id = b.sync(T).unwrap_or_else(|| panic!("{:#?}", b.log));
    let first_id = id - 1;
    assert!(
        b.log
            .iter()
            .any(|l| l == &format!("stale {{\"return\": {first_id}}}")),
        "the first sync's late return is discarded: {:#?}",
        b.log
    );
    ping(&mut b);
}

#[test]
fn a_reply_after_the_timeout_is_never_taken_for_the_next_commands() {
    let qga = Qga::start();
    let mut s = qga.connect();
    s.sync(T).expect("sync");
    // The agent stalls (stopped): the command's reply can only come after our deadline.
    qga.pause();
    let deadline = s.now() + 300;
    let late = s.agent.call(&Info, Some(deadline)).unwrap();
    let timed_out = s.run(T, |e| {
        matches!(e, AgentEvent::TimedOut(id) if *id == late).then_some(())
    });
    if timed_out.is_none() {
        qga.resume();
        panic!("{:#?}", s.log);
    }
    assert_eq!(s.agent.state(), AgentState::Unsynced);
    assert!(
        s.agent.call(&Ping, None).is_err(),
        "poisoned until the next sync"
    );
    // The agent wakes up and answers the old command first, then the sentinel and the sync.
    let sync = s.agent.sync(Some(s.now() + 10_000)).unwrap();
    s.run(Duration::from_millis(50), |_| None::<()>);
    qga.resume();
    let id = s
        .run(T, |e| match e {
            AgentEvent::Synced { id } => Some(*id),
            AgentEvent::SyncTimedOut { .. } => Some(0),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{:#?}", s.log));
    assert_eq!(id, sync, "{:#?}", s.log);
    let late_id = format!("\"id\": \"{late}\"");
    assert!(
        s.log
            .iter()
            .any(|l| l.starts_with("stale {\"return\": {\"version\"") && l.contains(&late_id)),
        "the late reply was discarded: {:#?}",
        s.log
    );
    let next = s.agent.call(&Ping, Some(s.now() + 10_000)).unwrap();
    let got = s.run(T, |e| match e {
        AgentEvent::Reply(r) => Some((r.id(), r.message().compact().to_string())),
        _ => None,
    });
    assert_eq!(
        got,
        Some((next, format!("{{\"return\":{{}},\"id\":\"{next}\"}}")))
    );
}
