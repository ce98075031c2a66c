//! File descriptor passing: a scripted peer receives the descriptor with the command's
//! bytes and uses it; a live qemu-storage-daemon gets `getfd` with a descriptor attached.
#![cfg(all(unix, feature = "fd-passing"))]

mod common;
mod peer;

use std::io::{IoSliceMut, Read, Write};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::thread;
use std::time::Duration;

use common::qsd::Qsd;
use peer::{Peer, GREETING_PLAIN, RETURN_EMPTY};
use qmp_codec::encode::validate_json;
use qmp_codec::transport::blocking::{Client, Config};
use qmp_codec::transport::{Error, NO_ARGUMENTS};
use qmp_codec::ErrorClass;
use rustix::net::{recvmsg, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags};

/// Reads one chunk from `socket`, with the descriptors that came with it.
fn recv_with_fds(socket: &UnixStream) -> (Vec<u8>, Vec<OwnedFd>) {
    let mut buf = [0u8; 4096];
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(4))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let got = recvmsg(
        socket,
        &mut [IoSliceMut::new(&mut buf)],
        &mut control,
        RecvFlags::CMSG_CLOEXEC,
    )
    .expect("recvmsg");
    let mut fds = Vec::new();
    for message in control.drain() {
        if let RecvAncillaryMessage::ScmRights(received) = message {
            fds.extend(received);
        }
    }
    (buf[..got.bytes].to_vec(), fds)
}

#[test]
fn the_descriptor_arrives_with_the_command() {
    let (client_end, server_end) = UnixStream::pair().unwrap();
    let server = thread::spawn(move || {
        let mut raw = server_end.try_clone().unwrap();
        raw.write_all(GREETING_PLAIN).unwrap();
        let (caps, fds) = recv_with_fds(&server_end);
        assert!(caps.starts_with(b"{\"execute\":\"qmp_capabilities\""));
        assert!(fds.is_empty());
        raw.write_all(RETURN_EMPTY).unwrap();
        let (cmd, fds) = recv_with_fds(&server_end);
        let cmd: serde_json::Value = serde_json::from_slice(&cmd).unwrap();
        assert_eq!(cmd["execute"], "getfd");
        assert_eq!(cmd["arguments"]["fdname"], "pipe0");
        assert_eq!(
            fds.len(),
            1,
            "exactly the one descriptor, with the command's bytes"
        );
        // It is the pipe's write end: what goes in comes out of the client's read end.
        std::fs::File::from(fds.into_iter().next().unwrap())
            .write_all(b"through the pipe")
            .unwrap();
        raw.write_all(format!("{{\"return\": {{}}, \"id\": {}}}\r\n", cmd["id"]).as_bytes())
            .unwrap();
        // A command without a descriptor afterwards.
        let mut peer = Peer::new(server_end);
        let id = peer.expect("query-status");
        peer.send(&peer::reply("{}", &id));
        assert!(peer.read().is_none());
    });
    let mut qmp = Client::connect(client_end, &Config::new()).unwrap();
    let (mut reader, writer) = std::io::pipe().unwrap();
    let args = validate_json(br#"{"fdname": "pipe0"}"#).unwrap();
    let ret = qmp
        .execute_with_fd("getfd", Some(args), writer.as_fd())
        .unwrap();
    assert_eq!(ret.as_bytes(), b"{}");
    drop(writer);
    qmp.execute("query-status", NO_ARGUMENTS).unwrap();
    drop(qmp);
    server.join().unwrap();
    let mut text = String::new();
    reader.read_to_string(&mut text).unwrap();
    assert_eq!(text, "through the pipe");
}

#[test]
fn live_getfd_with_a_descriptor() {
    let Some(qsd) = Qsd::start() else { return };
    let config = Config::new().with_timeout(Some(Duration::from_secs(20)));
    let mut qmp = Client::connect_unix_with(qsd.socket(), &config).unwrap();
    let commands = qmp.execute("query-commands", NO_ARGUMENTS).unwrap();
    let has_getfd = commands
        .value()
        .elements()
        .any(|c| c.get("name").unwrap().as_str().unwrap() == "getfd");
    let null = std::fs::File::open("/dev/null").unwrap();
    let args = validate_json(br#"{"fdname": "null0"}"#).unwrap();
    let result = qmp.execute_with_fd("getfd", Some(args), null.as_fd());
    if has_getfd {
        assert_eq!(result.unwrap().as_bytes(), b"{}");
    } else {
        // qemu-storage-daemon 10.0 has no getfd: the descriptor is dropped by the server,
        // the command is refused, and the session goes on.
        match result {
            Err(Error::Qmp(e)) => assert_eq!(e.class(), ErrorClass::CommandNotFound),
            other => panic!("{other:?}"),
        }
    }
    qmp.execute("query-version", NO_ARGUMENTS).unwrap();
    assert_eq!(qmp.protocol_violations(), 0);
}
