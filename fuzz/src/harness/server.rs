//! The `server` harness (feature `arbitrary`): operations and client bytes through [`Server`].

use arbitrary::{Arbitrary, Unstructured};

use qmp_codec::arbitrary::{mutate, ArbCommand, ArbObject, Mutation};
use qmp_codec::encode::validate_json;
use qmp_codec::server::{Server, ServerConfig, ServerEvent, ServerState};
use qmp_codec::{Framer, Status};
use qmp_codec::{Kind, Message};
use qmp_codec::{Timestamp, Version};

/// Operations per input, at most.
const MAX_OPS: usize = 96;
/// How much transmitted output is kept for the final check.
const LOG: usize = 1 << 16;

/// Target `server`: the bytes drive a [`Server`] through client traffic (negotiation,
/// generated commands, near-valid mutations of them, junk), events, late answers, close
/// and end of input, answering each command it hands out in some way. Checked: no panic;
/// the state only moves forward; commands come only in command mode and are valid; the
/// greeting comes first and every line transmitted is a valid QMP server message.
pub fn server(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let offer_oob = bool::arbitrary(&mut u).unwrap_or(true);
    let rx_len = u.int_in_range(16..=4096usize).unwrap_or(4096);
    let tx_len = u.int_in_range(200..=2048usize).unwrap_or(2048);
    let mut rx = [0u8; 4096];
    let mut tx = [0u8; 2048];
    let version = Version {
        major: 10,
        minor: 0,
        micro: 2,
    };
    let caps: &[&str] = if offer_oob { &["oob"] } else { &[] };
    let config = ServerConfig::new(version, "fuzz").with_capabilities(caps);
    let (Some(rx), Some(tx)) = (rx.get_mut(..rx_len), tx.get_mut(..tx_len)) else {
        return;
    };
    let Ok(mut server) = Server::new(rx, tx, config) else {
        panic!("a 200-byte transmit buffer holds the greeting");
    };

    let mut log: Vec<u8> = Vec::new();
    // Ids of commands answered later with `Server::respond`, as JSON text.
    let mut owed: Vec<Vec<u8>> = Vec::new();
    let mut closed = false;
    for _ in 0..MAX_OPS {
        if u.is_empty() {
            break;
        }
        let before = server.state();
        match u.int_in_range(0u8..=9).unwrap_or(0) {
            0..=3 => {
                let bytes = client_bytes(&mut u);
                let taken = server.handle_input(&bytes);
                assert!(taken <= bytes.len());
            }
            4 => {
                let spare = server.spare();
                let n = u.int_in_range(0..=spare.len()).unwrap_or(0);
                if let (Some(dst), Ok(src)) = (spare.get_mut(..n), u.bytes(n)) {
                    dst.copy_from_slice(src);
                    server.commit(n);
                }
            }
            5 => {
                let data = Option::<ArbObject>::arbitrary(&mut u).ok().flatten();
                let ts = Timestamp {
                    seconds: -1,
                    microseconds: -1,
                };
                let sent = match &data {
                    Some(d) => server.emit_event("X", Some(d.value()), ts),
                    None => server.emit_event("STOP", None::<qmp_codec::encode::EmptyObject>, ts),
                };
                if sent == Ok(true) {
                    assert_eq!(server.state(), ServerState::Command);
                }
            }
            6 => {
                if let Some(id) = owed.pop() {
                    let id = validate_json(&id).ok();
                    let _ = server.respond(id, Ok::<_, (&str, &str)>(1u64));
                }
            }
            7 => {
                let mut buf = [0u8; 512];
                let size = u.int_in_range(1..=buf.len()).unwrap_or(1);
                if let Some(n) = server.poll_transmit(buf.get_mut(..size).unwrap_or(&mut [])) {
                    assert!(n <= size && n > 0);
                    keep(&mut log, buf.get(..n).unwrap_or(&[]));
                }
            }
            8 => server.close(),
            _ => server.handle_eof(),
        }
        // Drain, answering commands.
        let mut budget = 10_000;
        loop {
            budget -= 1;
            assert!(budget > 0, "poll_event does not end");
            let state = server.state();
            let answer = u.int_in_range(0u8..=3).unwrap_or(0);
            match server.poll_event() {
                None => {
                    if server.is_blocked() {
                        let n = server.pending_transmit().len();
                        keep(&mut log, server.pending_transmit());
                        server.consume_transmit(n);
                        continue;
                    }
                    break;
                }
                Some(ServerEvent::Command(mut c)) => {
                    assert_eq!(state, ServerState::Command, "a command before negotiation");
                    assert!(c.name() != "qmp_capabilities");
                    let _ = match answer {
                        0 => c.respond_empty(),
                        1 => c.respond_error("GenericError", "no"),
                        2 => {
                            let id = c.id().map(|v| v.raw().to_vec());
                            owed.push(id.unwrap_or_else(|| b"null".to_vec()));
                            Ok(())
                        }
                        _ => Ok(()),
                    };
                }
                Some(ServerEvent::Closed) => {
                    assert!(!closed, "Closed twice");
                    closed = true;
                }
                Some(_) => assert!(!closed, "an event after Closed"),
            }
        }
        assert!(
            rank(server.state()) >= rank(before),
            "{before:?} -> {:?}",
            server.state()
        );
        assert!(server.pending_transmit().len() <= tx_len);
    }
    check_replies(&log);
}

fn rank(s: ServerState) -> u8 {
    match s {
        ServerState::Negotiating => 0,
        ServerState::Command => 1,
        ServerState::Closed => 2,
        other => panic!("a server state the harness does not know: {other:?}"),
    }
}

fn keep(log: &mut Vec<u8>, bytes: &[u8]) {
    if log.len() + bytes.len() <= LOG {
        log.extend_from_slice(bytes);
    } else {
        log.resize(LOG, b' ');
    }
}

/// What a client might send.
fn client_bytes(u: &mut Unstructured<'_>) -> Vec<u8> {
    match u.int_in_range(0u8..=6).unwrap_or(0) {
        0 => b"{\"execute\": \"qmp_capabilities\"}".to_vec(),
        1 => b"{\"execute\":\"qmp_capabilities\",\"arguments\":{\"enable\":[\"oob\"]},\"id\":1}"
            .to_vec(),
        2 | 3 => ArbCommand::arbitrary(u)
            .map(|c| c.to_json())
            .unwrap_or_default(),
        4 => {
            let json = ArbCommand::arbitrary(u)
                .map(|c| c.to_json())
                .unwrap_or_default();
            let m = Mutation::arbitrary(u).unwrap_or(Mutation::Truncate);
            mutate(&json, m, u).unwrap_or(json)
        }
        _ => {
            let n = u.int_in_range(0..=64usize).unwrap_or(0);
            u.bytes(n).unwrap_or_default().to_vec()
        }
    }
}

/// Every complete line the server wrote is a QMP server message; the greeting comes first.
fn check_replies(log: &[u8]) {
    if log.len() >= LOG {
        return;
    }
    let mut framer = Framer::lines();
    let mut rest = log;
    let mut first = true;
    loop {
        let step = framer.decode(rest);
        match step.status {
            Ok(Status::Complete(_)) => {
                let frame = step.frame(rest).unwrap_or_default();
                let msg = match Message::parse(frame) {
                    Ok(m) => m,
                    Err(e) => panic!("the server sent {:?}: {e}", core::str::from_utf8(frame)),
                };
                let kind = msg.kind();
                assert_eq!(kind == Kind::Greeting, first, "greeting out of place");
                assert!(
                    kind != Kind::Command && kind != Kind::Unknown,
                    "sent a {kind}"
                );
                if let Err(e) = msg.classify() {
                    panic!("the server sent an invalid {kind}: {e}");
                }
                first = false;
            }
            Ok(Status::Partial) => return,
            Err(e) => panic!("the server's output does not frame: {e}"),
        }
        rest = rest.get(step.consumed..).unwrap_or_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_harness_runs_on_varied_input() {
        let mut data = [0u8; 2048];
        for seed in 0..120u32 {
            let mut x = seed.wrapping_mul(2_246_822_519) | 1;
            for b in data.iter_mut() {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                *b = (x >> 8) as u8;
            }
            server(&data[..(seed as usize * 17) % data.len()]);
        }
    }

    #[test]
    #[should_panic(expected = "greeting out of place")]
    fn replies_must_start_with_the_greeting() {
        check_replies(b"{\"return\": {}}\r\n");
    }
}
