//! The `agent` harness: the bytes drive the guest agent engine ([`Agent`]) through
//! operations (syncs, commands with and without replies, time, partial writes, end of input,
//! reconnects) and agent traffic (sync returns right and wrong, the sentinel's error, replies
//! with the command's id, another id or none, `0xFF` bytes, junk), checking it against a
//! model after every step.
//!
//! Checked: no panic; a reply is only ever taken for the command in flight, and never for a
//! command that timed out, was sent without expecting a reply, or was interrupted; `Synced`
//! only for the latest sync id; every sync id is fresh; commands are refused exactly when
//! the model says so; the state after each event is the one the protocol demands;
//! everything transmitted frames into commands between `0xFF` sentinels.
//!
//! Compiled into the fuzz crate and, through `harness/mod.rs`, into `tests/fuzz_seeds.rs`,
//! which replays the seeds and checks that they reach every event.

use std::collections::BTreeSet;

use qmp_codec::agent::commands::{FileWrite, Ping};
use qmp_codec::agent::{Agent, AgentConfig, AgentError, AgentEvent, AgentState, Expect};
use qmp_codec::encode::{EmptyObject, Id, Request};
use qmp_codec::{Dialect, FrameError, Framer, FramerConfig, Kind, Message, Status};

/// Operations per input, at most.
const MAX_OPS: usize = 128;

/// Reads the fuzz input as a stream of small choices; zeros once it runs out.
struct Bytes<'a>(&'a [u8]);

impl<'a> Bytes<'a> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    fn upto(&mut self, max: usize) -> usize {
        let v = (self.byte() as usize) | ((self.byte() as usize) << 8);
        v % (max + 1)
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.0.len());
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        head
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What the harness knows about the session.
#[derive(Default)]
struct Model {
    /// The latest sync id issued, while a sync is in flight.
    syncing: Option<u64>,
    /// Every sync id issued.
    sync_ids: BTreeSet<u64>,
    /// The command in flight and whether it expects a reply.
    in_flight: Option<(Id, Expect)>,
    /// Commands whose reply must never be taken: timed out, interrupted, sent without reply.
    dead: BTreeSet<Id>,
    /// The no-reply command whose error may still come.
    no_reply: Option<Id>,
    closed: bool,
}

/// How often each kind of event was seen, so the seed test can check that the corpus
/// reaches every corner of the engine.
#[derive(Clone, Copy, Debug, Default)]
pub struct Seen {
    pub synced: usize,
    pub reply: usize,
    pub sent: usize,
    pub no_reply_failed: usize,
    pub stale: usize,
    pub unmatched: usize,
    pub violation: usize,
    pub timed_out: usize,
    pub sync_timed_out: usize,
    pub interrupted: usize,
    pub refused: usize,
    pub closed: usize,
}

/// Target `agent`: see the module docs.
pub fn agent(data: &[u8]) {
    run(data);
}

/// The harness, returning what it saw.
pub fn run(data: &[u8]) -> Seen {
    let mut seen = Seen::default();
    let mut b = Bytes(data);
    let rx_len = 16 + b.upto(4080);
    let tx_len = 77 + b.upto(947);
    let require_ids = b.byte() & 1 == 1;
    let first_sync = b.upto(3) as u64;
    let mut rx = vec![0u8; rx_len];
    let mut tx = vec![0u8; tx_len];
    let config = AgentConfig::new()
        .with_first_sync_id(first_sync)
        .with_require_echoed_id(require_ids);
    let mut agent = Agent::new(&mut rx, &mut tx, config).expect("77 bytes is enough");
    let mut model = Model::default();
    let mut log: Vec<u8> = Vec::new();
    let mut now = 0u64;
    for _ in 0..MAX_OPS {
        if b.is_empty() {
            break;
        }
        match b.byte() % 12 {
            0..=3 => {
                let bytes = agent_bytes(&mut b, &model, &agent);
                let mut rest = &bytes[..];
                // Feed it all, draining events whenever the buffer is full.
                for _ in 0..bytes.len() + 2 {
                    if rest.is_empty() {
                        break;
                    }
                    let n = agent.handle_input(rest);
                    rest = &rest[n..];
                    drain(&mut agent, &mut model, &mut seen);
                }
            }
            4 => {
                let deadline = (b.byte() & 1 == 1).then(|| now + b.upto(50) as u64);
                let state = agent.state();
                match agent.sync(deadline) {
                    Ok(id) => {
                        assert!(model.sync_ids.insert(id), "sync id {id} reused");
                        assert_eq!(agent.state(), AgentState::Syncing);
                        model.syncing = Some(id);
                        // Unsent output was dropped: a command cut short is followed by the
                        // sentinel, which resets the agent's parser.
                        assert_eq!(agent.pending_transmit().first(), Some(&0xFF));
                    }
                    Err(AgentError::Busy) => assert_eq!(state, AgentState::Busy),
                    Err(AgentError::Closed) => assert_eq!(state, AgentState::Closed),
                    Err(e) => panic!("sync refused with {e:?} in {state:?}"),
                }
            }
            5..=6 => {
                let deadline = (b.byte() & 1 == 1).then(|| now + b.upto(50) as u64);
                let state = agent.state();
                let choice = b.byte() % 4;
                let n = b.upto(64);
                let data = b.take(n).to_vec();
                let (result, expect) = match choice {
                    0 => (agent.call(&Ping, deadline), Expect::Reply),
                    1 => (
                        agent.execute("guest-shutdown", None::<EmptyObject>, deadline),
                        Expect::Nothing,
                    ),
                    2 => (
                        agent.send(Request::execute("x-mine"), Expect::Nothing, deadline),
                        Expect::Nothing,
                    ),
                    _ => (
                        agent.call(
                            &FileWrite {
                                handle: 1,
                                data: &data,
                            },
                            deadline,
                        ),
                        Expect::Reply,
                    ),
                };
                match result {
                    Ok(id) => {
                        assert_eq!(state, AgentState::Ready);
                        assert_eq!(agent.state(), AgentState::Busy);
                        assert!(!model.dead.contains(&id), "id reused");
                        model.in_flight = Some((id, expect));
                    }
                    Err(AgentError::NotSynced) => assert_eq!(state, AgentState::Unsynced),
                    Err(AgentError::Busy) => {
                        assert!(matches!(state, AgentState::Busy | AgentState::Syncing))
                    }
                    Err(AgentError::Closed) => assert_eq!(state, AgentState::Closed),
                    Err(AgentError::Encode(_)) => assert_eq!(agent.state(), state),
                    Err(e) => panic!("{e:?}"),
                }
            }
            7 => {
                now += b.upto(40) as u64;
                agent.handle_timeout(now);
            }
            8 => {
                let queued = agent.pending_transmit().len();
                let n = b.upto(queued);
                log.extend_from_slice(&agent.pending_transmit()[..n]);
                agent.consume_transmit(n);
            }
            9 => {
                let mut buf = [0u8; 128];
                let size = 1 + b.upto(127);
                if let Some(n) = agent.poll_transmit(&mut buf[..size]) {
                    assert!(n > 0 && n <= size);
                    log.extend_from_slice(&buf[..n]);
                }
            }
            10 => agent.handle_eof(),
            _ => {
                if b.byte() & 1 == 0 {
                    agent.close();
                } else {
                    // A command in flight is reported as interrupted (checked in `drain`).
                    agent.reconnect();
                    model.syncing = None;
                    model.no_reply = None;
                    model.closed = false;
                    assert_eq!(agent.state(), AgentState::Unsynced);
                }
            }
        }
        drain(&mut agent, &mut model, &mut seen);
        assert!(agent.pending_transmit().len() <= agent.transmit_capacity());
        match agent.state() {
            AgentState::Busy => assert!(model.in_flight.is_some()),
            AgentState::Syncing => assert!(model.syncing.is_some()),
            AgentState::Closed => assert!(model.in_flight.is_none()),
            _ => {}
        }
        assert_eq!(agent.in_flight(), model.in_flight.map(|f| f.0));
    }
    check_output(&log);
    seen
}

/// Agent traffic that exercises the engine: mostly well-formed replies built from the
/// model (right and wrong ids), with sentinels and junk mixed in.
fn agent_bytes(b: &mut Bytes<'_>, model: &Model, agent: &Agent<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    let parts = 1 + b.byte() % 4;
    for _ in 0..parts {
        let in_flight = model.in_flight.map(|f| f.0);
        match b.byte() % 10 {
            0 => {
                let id = model.syncing.unwrap_or(agent.next_sync_id());
                out.push(0xFF);
                out.extend_from_slice(format!("{{\"return\": {id}}}\n").as_bytes());
            }
            1 => {
                let wrong = b.upto(5) as u64;
                out.extend_from_slice(format!("{{\"return\": {wrong}}}\n").as_bytes());
            }
            2 => out.extend_from_slice(
                b"{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, stray '\\uFFFD'\"}}\n",
            ),
            3 => {
                let id = in_flight.map_or_else(|| "__qmp#00000".to_string(), |i| i.to_string());
                out.extend_from_slice(format!("{{\"return\": {{}}, \"id\": \"{id}\"}}\n").as_bytes());
            }
            4 => out.extend_from_slice(b"{\"return\": {}}\n"),
            5 => {
                let n = b.upto(20);
                let id = Id::new(n as u64);
                out.extend_from_slice(
                    format!("{{\"error\": {{\"class\": \"CommandNotFound\", \"desc\": \"x\"}}, \"id\": \"{id}\"}}\n")
                        .as_bytes(),
                );
            }
            6 => out.push(0xFF),
            7 => out.push(b'\n'),
            _ => {
                let n = b.upto(24);
                out.extend_from_slice(b.take(n));
            }
        }
    }
    out
}

/// Drains events, checking each against the model.
fn drain(agent: &mut Agent<'_>, model: &mut Model, seen: &mut Seen) {
    let mut guard = 0usize;
    loop {
        guard += 1;
        assert!(guard < 100_000, "poll_event never ran dry");
        let Some(event) = agent.poll_event() else {
            break;
        };
        match event {
            AgentEvent::Synced { id } => {
                seen.synced += 1;
                assert_eq!(model.syncing, Some(id), "synced on a stale id");
                model.syncing = None;
                model.no_reply = None;
            }
            AgentEvent::Reply(r) => {
                seen.reply += 1;
                let (id, expect) = model
                    .in_flight
                    .take()
                    .expect("a reply with nothing in flight");
                assert_eq!(r.id(), id);
                // A command that expects nothing is only answered by a reply with its id.
                if expect == Expect::Nothing {
                    assert!(r.message().id().is_some_and(|v| id.matches(&v)));
                }
                assert!(!model.dead.contains(&id));
                assert!(matches!(r.message().kind(), Kind::Return | Kind::Error));
            }
            AgentEvent::Sent(id) => {
                seen.sent += 1;
                let (flight, expect) = model.in_flight.take().expect("sent with nothing in flight");
                assert_eq!((flight, expect), (id, Expect::Nothing));
                model.dead.insert(id);
                model.no_reply = Some(id);
            }
            AgentEvent::NoReplyFailed(r) => {
                seen.no_reply_failed += 1;
                assert_eq!(model.no_reply.take(), Some(r.id()));
            }
            AgentEvent::TimedOut(id) => {
                seen.timed_out += 1;
                let (flight, _) = model
                    .in_flight
                    .take()
                    .expect("timed out with nothing in flight");
                assert_eq!(flight, id);
                model.dead.insert(id);
            }
            AgentEvent::SyncTimedOut { id } => {
                seen.sync_timed_out += 1;
                assert_eq!(model.syncing.take(), Some(id));
            }
            AgentEvent::Refused { id, .. } => {
                seen.refused += 1;
                let (flight, _) = model
                    .in_flight
                    .take()
                    .expect("refused with nothing in flight");
                assert_eq!(flight, id);
                model.dead.insert(id);
            }
            AgentEvent::Interrupted(id) => {
                seen.interrupted += 1;
                let (flight, _) = model
                    .in_flight
                    .take()
                    .expect("interrupted with nothing in flight");
                assert_eq!(flight, id);
                model.dead.insert(id);
            }
            AgentEvent::Closed => {
                seen.closed += 1;
                assert!(!model.closed, "closed twice");
                model.closed = true;
                model.syncing = None;
            }
            AgentEvent::Stale(_) => seen.stale += 1,
            AgentEvent::Unmatched { .. } => seen.unmatched += 1,
            AgentEvent::Violation(_) => seen.violation += 1,
            _ => {}
        }
    }
    match agent.state() {
        AgentState::Ready | AgentState::Unsynced => {
            assert!(model.in_flight.is_none());
        }
        _ => {}
    }
}

/// Everything transmitted: a sentinel first (no command before a sync), then segments
/// between `0xFF` bytes in which the commands frame (QEMU's own stream framing) into valid
/// command messages. Only the last command of a segment may be cut short: a sync drops
/// output the transport had not taken (its sentinel follows), and the transport may not
/// have taken all of the last one.
fn check_output(log: &[u8]) {
    if let Some(&first) = log.first() {
        assert_eq!(first, 0xFF, "output starts with a sync");
    }
    for segment in log.split(|&b| b == 0xFF) {
        let mut framer = Framer::new(FramerConfig::new().with_dialect(Dialect::Stream));
        let mut rest: &[u8] = segment;
        loop {
            let d = framer.finish(rest);
            let consumed = d.consumed;
            match d.status {
                Ok(Status::Complete(frame)) => {
                    let m = Message::parse(&rest[frame.range()]).expect("a valid command");
                    assert_eq!(m.kind(), Kind::Command);
                }
                Ok(Status::Partial) => break,
                Err(FrameError::Truncated { .. }) => {
                    assert_eq!(consumed, rest.len(), "only the last command is cut short")
                }
                Err(e) => panic!("bad output {e:?} in {:?}", String::from_utf8_lossy(segment)),
            }
            rest = &rest[consumed.min(rest.len())..];
            if consumed == 0 {
                break;
            }
        }
    }
}
