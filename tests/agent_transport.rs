//! The blocking guest agent transport (`transport::agent`, on the crate's one driver loop)
//! against a live qemu-ga started by the tests (`tests/common/qga.rs`; a missing qemu-ga
//! fails these tests with a how-to message).
#![cfg(unix)]

mod common;

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use common::qga::Qga;
use qmp_codec::agent::commands::{FileClose, FileOpen, FileRead, FileWrite, Info};
use qmp_codec::agent::AgentState;
use qmp_codec::transport::agent::AgentClient;
use qmp_codec::transport::{Error, NO_ARGUMENTS};
use qmp_codec::ErrorClass;

#[test]
fn commands_exec_and_files_over_the_transport() {
    let qga = Qga::start();
    // Another client leaves half a command behind: the first call's sync clears it.
    {
        let mut s = UnixStream::connect(qga.socket()).unwrap();
        s.write_all(br#"{"execute": "guest-ping", "argu"#).unwrap();
    }
    let mut ga = AgentClient::connect_unix(qga.socket()).unwrap();
    assert_eq!(ga.engine().state(), AgentState::Unsynced);
    let ping = ga.execute("guest-ping", NO_ARGUMENTS).unwrap();
    assert_eq!(ping.to_string(), "{}");
    assert!(ga.stale_frames() >= 1, "the sentinel's error was discarded");
    let version = ga
        .call(&Info, |r| {
            Info::decode(r).map(|i| i.version().to_string()).ok()
        })
        .unwrap();
    assert_eq!(version.as_deref(), Some("7.2.22"));
    // A blocked command: the agent's error.
    match ga.execute("guest-set-time", NO_ARGUMENTS) {
        Err(Error::Qmp(e)) => {
            assert_eq!(e.class(), ErrorClass::CommandNotFound);
            assert_eq!(e.desc(), "Command guest-set-time has been disabled");
        }
        other => panic!("{other:?}"),
    }
    // A blocked command without a success response completes on send; the next call syncs
    // and the agent's error for it is counted, never taken for that call's reply.
    let nothing = ga.execute("guest-shutdown", NO_ARGUMENTS).unwrap();
    assert_eq!(nothing.to_string(), "null");
    assert_eq!(ga.engine().state(), AgentState::Unsynced);
    assert_eq!(
        ga.execute("guest-ping", NO_ARGUMENTS).unwrap().to_string(),
        "{}"
    );
    // exec with output, stdin and exit code.
    let run = ga
        .exec(
            "/bin/sh",
            &["-c", "cat; echo out; echo err >&2; exit 4"],
            Some(b"in\n"),
        )
        .unwrap();
    assert_eq!(run.exit_code, Some(4));
    assert_eq!(run.stdout, b"in\nout\n");
    assert_eq!(run.stderr, b"err\n");
    // A file round trip.
    let path = qga.dir().join("t.bin");
    let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
    let handle = ga
        .call(
            &FileOpen {
                path: path.to_str().unwrap(),
                mode: Some("w"),
            },
            |r| FileOpen::decode(r).unwrap(),
        )
        .unwrap();
    for chunk in data.chunks(4000) {
        ga.call(
            &FileWrite {
                handle,
                data: chunk,
            },
            |r| FileWrite::decode(r).unwrap(),
        )
        .unwrap();
    }
    ga.call(&FileClose { handle }, |r| FileClose::decode(r).unwrap())
        .unwrap();
    let handle = ga
        .call(
            &FileOpen {
                path: path.to_str().unwrap(),
                mode: None,
            },
            |r| FileOpen::decode(r).unwrap(),
        )
        .unwrap();
    let mut back = Vec::new();
    while !ga
        .call(
            &FileRead {
                handle,
                count: Some(3000),
            },
            |r| {
                let c = FileRead::decode(r).unwrap();
                c.append_to(&mut back).unwrap();
                c.eof()
            },
        )
        .unwrap()
    {}
    ga.call(&FileClose { handle }, |r| FileClose::decode(r).unwrap())
        .unwrap();
    assert!(back == data);
}

#[test]
fn a_timed_out_call_poisons_and_the_next_call_gets_its_own_reply() {
    let qga = Qga::start();
    let mut ga = AgentClient::connect_unix(qga.socket()).unwrap();
    ga.execute("guest-ping", NO_ARGUMENTS).unwrap();
    qga.pause();
    ga.set_timeout(Some(Duration::from_millis(300)));
    let slow = ga.execute("guest-info", NO_ARGUMENTS);
    qga.resume();
    assert!(matches!(slow, Err(Error::Timeout)), "{slow:?}");
    assert_eq!(ga.engine().state(), AgentState::Unsynced);
    ga.set_timeout(Some(Duration::from_secs(10)));
    // The late guest-info reply comes first: discarded by the sync.
    let ping = ga.execute("guest-ping", NO_ARGUMENTS).unwrap();
    assert_eq!(ping.to_string(), "{}");
    assert!(
        ga.stale_frames() >= 2,
        "the late reply and the sentinel's error"
    );
}

#[test]
fn reconnect_to_a_restarted_agent_syncs_afresh() {
    let mut qga = Qga::start();
    let mut ga = AgentClient::connect_unix(qga.socket()).unwrap();
    let first = ga.sync().unwrap();
    qga.restart();
    match ga.execute("guest-ping", NO_ARGUMENTS) {
        Err(Error::Closed | Error::Io(_)) => {}
        other => panic!("{other:?}"),
    }
    ga.reconnect_unix(qga.socket()).unwrap();
    assert_eq!(ga.engine().state(), AgentState::Unsynced);
    assert_eq!(
        ga.execute("guest-ping", NO_ARGUMENTS).unwrap().to_string(),
        "{}"
    );
    assert!(ga.engine().next_sync_id() > first + 1, "a fresh sync id");
}

#[test]
fn a_silent_agent_times_the_call_out() {
    let qga = Qga::start();
    // The agent serves one client at a time: the second waits, unanswered, and its call
    // times out within its deadline.
    let mut first = AgentClient::connect_unix(qga.socket()).unwrap();
    first.execute("guest-ping", NO_ARGUMENTS).unwrap();
    let mut second = AgentClient::connect_unix(qga.socket()).unwrap();
    second.set_timeout(Some(Duration::from_millis(300)));
    let started = std::time::Instant::now();
    assert!(matches!(
        second.execute("guest-ping", NO_ARGUMENTS),
        Err(Error::Timeout)
    ));
    assert!(started.elapsed() < Duration::from_secs(5));
    drop(first);
    second.set_timeout(Some(Duration::from_secs(10)));
    assert_eq!(
        second
            .execute("guest-ping", NO_ARGUMENTS)
            .unwrap()
            .to_string(),
        "{}"
    );
}
