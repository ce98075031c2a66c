//! The `client` harness (feature `arbitrary`): operations and server bytes through [`Client`].

use arbitrary::{Arbitrary, Unstructured};

use qmp_codec::arbitrary::{ArbMessage, ArbObject};
use qmp_codec::client::{Client, ClientConfig, ClientError, ClientEvent, ClientState};
use qmp_codec::encode::{Id, Request};
use qmp_codec::{Classified, Kind, Message};
use qmp_codec::{Dialect, FrameError, Framer, Status};

/// Requests the client under test tracks.
const SLOTS: usize = 4;
/// Operations per input, at most.
const MAX_OPS: usize = 96;
/// How much transmitted output is kept for the final check.
const LOG: usize = 1 << 16;

/// What a drained event was, kept after the event's borrow ends.
enum Seen {
    Response(Id),
    Refused(Id),
    TimedOut(Id),
    Interrupted(Id),
    Negotiated,
    Closed,
    Other,
}

/// Target `client`: the bytes drive a [`Client`] through arbitrary operations (requests,
/// timeouts, close, end of input) and server traffic (greetings, replies to its ids, events,
/// generated messages, junk), draining its events after each. Checked: no panic; the
/// pending table is bounded and matches a model of what was sent, answered, timed out and
/// interrupted; the state only moves forward; errors match the state; everything it
/// transmits frames into valid commands.
pub fn client(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(dialect) = u.choose(&[Dialect::Lines, Dialect::Stream]) else {
        return;
    };
    let want_oob = bool::arbitrary(&mut u).unwrap_or(true);
    let rx_len = u.int_in_range(16..=4096usize).unwrap_or(4096);
    let tx_len = u.int_in_range(61..=1024usize).unwrap_or(1024);
    let mut rx = [0u8; 4096];
    let mut tx = [0u8; 1024];
    let config = ClientConfig::new()
        .with_dialect(*dialect)
        .with_oob(want_oob);
    let (Some(rx), Some(tx)) = (rx.get_mut(..rx_len), tx.get_mut(..tx_len)) else {
        return;
    };
    let Ok(mut client) = Client::<SLOTS>::new(rx, tx, config) else {
        panic!("a 61-byte transmit buffer is enough");
    };

    let mut model = Model::default();
    let mut log: Vec<u8> = Vec::new();
    let mut now = 0u64;
    for _ in 0..MAX_OPS {
        if u.is_empty() {
            break;
        }
        let before = client.state();
        match u.int_in_range(0u8..=9).unwrap_or(0) {
            0..=2 => {
                let bytes = server_bytes(&mut u, client.next_id());
                let taken = client.handle_input(&bytes);
                assert!(taken <= bytes.len());
            }
            3 => {
                let spare = client.spare();
                let n = u.int_in_range(0..=spare.len()).unwrap_or(0);
                if let (Some(dst), Ok(src)) = (spare.get_mut(..n), u.bytes(n)) {
                    dst.copy_from_slice(src);
                    client.commit(n);
                }
            }
            4 | 5 => {
                let oob = u.ratio(1u8, 4u8).unwrap_or(false);
                let name = *u
                    .choose(&["query-status", "query-version", "stop", "x"])
                    .unwrap_or(&"x");
                let args = Option::<ArbObject>::arbitrary(&mut u).ok().flatten();
                let deadline = match u.ratio(1u8, 2u8) {
                    Ok(true) => Some(now + u.int_in_range(0..=50u64).unwrap_or(0)),
                    _ => None,
                };
                let request = if oob {
                    Request::execute_oob(name)
                } else {
                    Request::execute(name)
                };
                let result = match &args {
                    Some(a) => client.send(request.with_arguments(a.value()), deadline),
                    None => client.send(request, deadline),
                };
                match result {
                    Ok(id) => {
                        assert_eq!(client.state(), ClientState::Ready);
                        assert!(client.is_pending(id));
                        assert!(!model.knows(id), "id {id:?} reused");
                        model.waiting.push((id, deadline));
                    }
                    Err(ClientError::NotReady) => assert!(matches!(
                        client.state(),
                        ClientState::AwaitingGreeting | ClientState::Negotiating
                    )),
                    Err(ClientError::Closed) => assert_eq!(client.state(), ClientState::Closed),
                    Err(ClientError::TooManyPending) => assert_eq!(model.waiting.len(), SLOTS),
                    Err(ClientError::OobNotNegotiated) => {
                        assert!(oob && !client.oob_enabled())
                    }
                    Err(ClientError::Encode(_)) => {}
                    Err(e) => panic!("a send error the harness does not know: {e:?}"),
                }
            }
            6 => {
                let mut buf = [0u8; 256];
                let size = u.int_in_range(1..=buf.len()).unwrap_or(1);
                let queued = client.pending_transmit().len();
                if let Some(n) = client.poll_transmit(buf.get_mut(..size).unwrap_or(&mut [])) {
                    assert!(n <= size && n <= queued && n > 0);
                    keep(&mut log, buf.get(..n).unwrap_or(&[]));
                }
            }
            7 => {
                now += u.int_in_range(0..=40u64).unwrap_or(1);
                client.handle_timeout(now);
                let (expired, waiting) = model
                    .waiting
                    .iter()
                    .partition(|(_, d)| d.is_some_and(|d| d <= now));
                model.waiting = waiting;
                model.expired = expired;
            }
            8 => client.close(),
            _ => client.handle_eof(),
        }
        drain(&mut client, &mut model, &mut log);
        assert!(
            rank(client.state()) >= rank(before),
            "{before:?} -> {:?}",
            client.state()
        );
        assert!(client.pending() <= SLOTS);
        assert_eq!(
            client.pending(),
            model.waiting.len(),
            "pending table vs model"
        );
        assert!(model.expired.is_empty(), "timeouts not reported");
        assert_eq!(
            client.poll_timeout().is_some(),
            model.waiting.iter().any(|w| w.1.is_some())
        );
        assert!(client.pending_transmit().len() <= client.transmit_capacity());
        if client.state() == ClientState::Closed {
            assert_eq!(client.pending(), 0);
        }
    }
    // Everything transmitted is a sequence of valid commands (the last may be cut short by
    // a close, which drops queued output).
    check_commands(&log);
}

/// What the harness knows the client must have pending.
#[derive(Default)]
struct Model {
    waiting: Vec<(Id, Option<u64>)>,
    expired: Vec<(Id, Option<u64>)>,
    closed: bool,
    negotiated: bool,
}

impl Model {
    fn knows(&self, id: Id) -> bool {
        self.waiting.iter().chain(&self.expired).any(|w| w.0 == id)
    }

    fn take(list: &mut Vec<(Id, Option<u64>)>, id: Id) -> bool {
        match list.iter().position(|w| w.0 == id) {
            Some(i) => {
                list.remove(i);
                true
            }
            None => false,
        }
    }
}

fn rank(s: ClientState) -> u8 {
    match s {
        ClientState::AwaitingGreeting => 0,
        ClientState::Negotiating => 1,
        ClientState::Ready => 2,
        ClientState::Closed => 3,
        other => panic!("a client state the harness does not know: {other:?}"),
    }
}

/// Polls events until none is left, flushing output when the client is blocked on it.
fn drain<const N: usize>(client: &mut Client<'_, N>, model: &mut Model, log: &mut Vec<u8>) {
    let mut budget = 10_000;
    loop {
        budget -= 1;
        assert!(budget > 0, "poll_event does not end");
        let seen = match client.poll_event() {
            None => {
                if client.is_blocked() {
                    flush(client, log);
                    continue;
                }
                return;
            }
            Some(ClientEvent::Response(r)) => {
                let kind = r.message().kind();
                assert!(matches!(kind, Kind::Return | Kind::Error));
                assert_eq!(r.is_error(), kind == Kind::Error);
                assert_eq!(r.return_value().is_some(), kind == Kind::Return);
                Seen::Response(r.id())
            }
            Some(ClientEvent::Refused { id, violation }) => {
                assert!(
                    violation.is_limit(),
                    "a refusal without a limit: {violation:?}"
                );
                Seen::Refused(id)
            }
            Some(ClientEvent::TimedOut(id)) => Seen::TimedOut(id),
            Some(ClientEvent::Interrupted(id)) => Seen::Interrupted(id),
            Some(ClientEvent::Negotiated { .. }) => Seen::Negotiated,
            Some(ClientEvent::Closed) => Seen::Closed,
            Some(_) => Seen::Other,
        };
        assert!(!model.closed, "an event after Closed");
        match seen {
            Seen::Response(id) => {
                assert!(
                    Model::take(&mut model.waiting, id),
                    "response to {id:?} not pending"
                );
                assert!(!client.is_pending(id));
            }
            Seen::Refused(id) => {
                let oldest = model.waiting.iter().map(|(w, _)| w.number()).min();
                assert_eq!(
                    oldest,
                    Some(id.number()),
                    "a refusal fails the oldest request"
                );
                assert!(Model::take(&mut model.waiting, id));
                assert!(!client.is_pending(id));
            }
            Seen::TimedOut(id) => {
                assert!(
                    Model::take(&mut model.expired, id),
                    "{id:?} timed out early"
                );
            }
            Seen::Interrupted(id) => {
                assert!(
                    Model::take(&mut model.waiting, id),
                    "{id:?} interrupted, not pending"
                );
            }
            Seen::Negotiated => {
                assert!(!model.negotiated, "negotiated twice");
                model.negotiated = true;
                assert_eq!(client.state(), ClientState::Ready);
            }
            Seen::Closed => {
                model.closed = true;
                assert_eq!(client.state(), ClientState::Closed);
                assert!(model.waiting.is_empty() && model.expired.is_empty());
            }
            Seen::Other => {}
        }
    }
}

fn flush<const N: usize>(client: &mut Client<'_, N>, log: &mut Vec<u8>) {
    let n = client.pending_transmit().len();
    keep(log, client.pending_transmit());
    client.consume_transmit(n);
}

fn keep(log: &mut Vec<u8>, bytes: &[u8]) {
    if log.len() + bytes.len() <= LOG {
        log.extend_from_slice(bytes);
    } else {
        // Past the log size nothing more is checked; mark the log full.
        log.resize(LOG, b' ');
    }
}

/// What a server might send: a greeting, replies to the client's ids, events, generated
/// messages, or junk.
fn server_bytes(u: &mut Unstructured<'_>, next_id: u64) -> Vec<u8> {
    let id = next_id.saturating_sub(u.int_in_range(1..=3u64).unwrap_or(1));
    let id = Id::new(id);
    let mut out: Vec<u8> = match u.int_in_range(0u8..=8).unwrap_or(0) {
        0 => {
            let caps = if u.ratio(1u8, 2u8).unwrap_or(true) {
                "\"oob\""
            } else {
                ""
            };
            format!("{{\"QMP\": {{\"version\": {{\"qemu\": {{\"micro\": 2, \"minor\": 0, \"major\": 10}}, \"package\": \"\"}}, \"capabilities\": [{caps}]}}}}").into_bytes()
        }
        1 => b"{\"return\": {}}".to_vec(),
        2 => format!("{{\"return\": {{}}, \"id\": \"{}\"}}", id.as_str()).into_bytes(),
        3 => format!(
            "{{\"id\": \"{}\", \"error\": {{\"class\": \"GenericError\", \"desc\": \"no\"}}}}",
            id.as_str()
        )
        .into_bytes(),
        4 => b"{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error\"}}".to_vec(),
        5 => {
            b"{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"STOP\"}".to_vec()
        }
        6 => ArbMessage::arbitrary(u)
            .map(|m| m.to_json())
            .unwrap_or_default(),
        _ => {
            let n = u.int_in_range(0..=64usize).unwrap_or(0);
            u.bytes(n).unwrap_or_default().to_vec()
        }
    };
    if u.ratio(7u8, 8u8).unwrap_or(true) && !out.ends_with(b"\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Frames the transmitted bytes as QEMU reads them and checks every frame is a command.
fn check_commands(log: &[u8]) {
    if log.len() >= LOG {
        return;
    }
    let mut framer = Framer::stream();
    let mut rest = log;
    loop {
        let step = framer.finish(rest);
        match step.status {
            Ok(Status::Complete(_)) => {
                let frame = step.frame(rest).unwrap_or_default();
                match Message::parse(frame).map(|m| m.classify()) {
                    Ok(Ok(Classified::Command(_))) => {}
                    other => panic!(
                        "the client sent {:?}: {other:?}",
                        core::str::from_utf8(frame)
                    ),
                }
            }
            Ok(Status::Partial) => return,
            Err(FrameError::Truncated { .. }) => {}
            Err(e) => panic!("the client's output does not frame: {e}"),
        }
        rest = rest.get(step.consumed..).unwrap_or_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_harness_runs_on_varied_input() {
        let mut data = [0u8; 2048];
        for seed in 0..120u32 {
            let mut x = seed.wrapping_mul(2_654_435_761) | 1;
            for b in data.iter_mut() {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                *b = (x >> 8) as u8;
            }
            client(&data[..(seed as usize * 17) % data.len()]);
        }
    }

    #[test]
    fn commands_log_accepts_commands_and_a_cut_tail() {
        check_commands(b"{\"execute\":\"a\"}{\"execute\":\"b\",\"id\":\"__qmp#00000\"}{\"exe");
    }

    #[test]
    #[should_panic(expected = "the client sent")]
    fn commands_log_refuses_a_reply() {
        check_commands(b"{\"return\": {}}");
    }
}
