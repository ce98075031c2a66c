//! The guest agent on tokio (`transport::tokio_agent`, the same engine and driver decisions
//! as the blocking agent client) against a live qemu-ga started by the tests
//! (`tests/common/qga.rs`; a missing qemu-ga fails these tests with a how-to message).
#![cfg(unix)]

mod common;

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use common::qga::Qga;
use qmp_codec::agent::AgentState;
use qmp_codec::transport::tokio_agent::AgentClient;
use qmp_codec::transport::{Error, NO_ARGUMENTS};
use qmp_codec::ErrorClass;

#[tokio::test]
async fn commands_exec_and_a_blocked_command() {
    let qga = Qga::start();
    // Another client leaves half a command behind: the first call's sync clears it.
    {
        let mut s = UnixStream::connect(qga.socket()).unwrap();
        s.write_all(br#"{"execute": "guest-ping", "argu"#).unwrap();
    }
    let mut ga = AgentClient::connect_unix(qga.socket()).await.unwrap();
    assert_eq!(ga.engine().state(), AgentState::Unsynced);
    let ping = ga.execute("guest-ping", NO_ARGUMENTS).await.unwrap();
    assert_eq!(ping.to_string(), "{}");
    assert!(ga.stale_frames() >= 1, "the sentinel's error was discarded");
    let info = ga.execute("guest-info", NO_ARGUMENTS).await.unwrap();
    assert_eq!(
        info.value().get("version").unwrap().as_str().unwrap(),
        "7.2.22"
    );
    match ga.execute("guest-set-time", NO_ARGUMENTS).await {
        Err(Error::Qmp(e)) => assert_eq!(e.class(), ErrorClass::CommandNotFound),
        other => panic!("{other:?}"),
    }
    let run = ga
        .exec(
            "/bin/sh",
            &["-c", "cat; echo err >&2; exit 3"],
            Some(b"in\n"),
        )
        .await
        .unwrap();
    assert_eq!(run.exit_code, Some(3));
    assert_eq!(run.stdout, b"in\n");
    assert_eq!(run.stderr, b"err\n");
}

#[tokio::test]
async fn a_dropped_or_timed_out_call_poisons_and_the_next_gets_its_own_reply() {
    let qga = Qga::start();
    let mut ga = AgentClient::connect_unix(qga.socket()).await.unwrap();
    ga.execute("guest-ping", NO_ARGUMENTS).await.unwrap();
    qga.pause();
    // The caller gives up: the future is dropped mid-call.
    let gave_up = tokio::time::timeout(
        Duration::from_millis(200),
        ga.execute("guest-info", NO_ARGUMENTS),
    )
    .await;
    assert!(gave_up.is_err());
    // The transport's own deadline.
    ga.set_timeout(Some(Duration::from_millis(300)));
    let slow = ga.execute("guest-get-osinfo", NO_ARGUMENTS).await;
    assert!(matches!(slow, Err(Error::Timeout)), "{slow:?}");
    qga.resume();
    ga.set_timeout(Some(Duration::from_secs(10)));
    // The late replies come first: discarded by the sync.
    let ping = ga.execute("guest-ping", NO_ARGUMENTS).await.unwrap();
    assert_eq!(ping.to_string(), "{}");
    assert!(
        ga.stale_frames() >= 2,
        "late replies and the sentinel's error"
    );
}
