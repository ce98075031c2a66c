//! The one driver under every transport: it turns the client engine's events into the
//! outcome a call waits for, and hands everything else to the transport's [`Sink`].
//!
//! A transport is an adapter around [`pump`]: it calls it, writes the engine's output when it
//! returns [`Done::Blocked`] or `None`, reads into the engine when it returns `None`, and
//! ends the call on any other [`Done`]. The decisions (which reply ends which call, what is a
//! violation, what a refused frame does, where events go) are made here and nowhere else.
//! Deadlines are the transports' own (they own the clock): when a call's time is up, the
//! transport cancels its request ([`Client::cancel`]) and a late reply is counted as
//! unmatched.
#![cfg_attr(not(any(feature = "std", feature = "embedded-io")), allow(dead_code))]

use crate::agent::{Agent, AgentEvent};
use crate::client::{Client, ClientEvent, ClientState, Response};
use crate::encode::Id;
use crate::error::Reason;
use crate::framer::FrameError;
use crate::model::{Event, Greeting};

/// What a call waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Want {
    /// The end of the negotiation.
    Negotiated,
    /// The reply to this request.
    Response(Id),
    /// The next event.
    Event,
    /// A response the sink claims ([`Sink::claim`]): a raw request's (only the blocking
    /// client sends raw requests).
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    Claim,
    /// Nothing: dispatch everything (a reader task).
    Nothing,
}

/// Why the codec refused a frame that may have been a reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Refusal {
    /// The frame was longer than the receive buffer or the frame limit.
    TooLong {
        /// Its length in bytes.
        len: u64,
    },
    /// A parser limit refused it: [`Reason::DepthLimit`], [`Reason::TooManyMembers`] or
    /// [`Reason::TooLarge`].
    Limit(Reason),
}

impl core::fmt::Display for Refusal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Refusal::TooLong { len } => {
                write!(f, "a {len}-byte message exceeded the receive limit")
            }
            Refusal::Limit(reason) => write!(f, "a message was refused: {reason}"),
        }
    }
}

impl Refusal {
    /// The refusal a limit violation stands for.
    pub(crate) fn of(event: &ClientEvent<'_>) -> Option<Refusal> {
        let ClientEvent::Refused { violation, .. } = event else {
            return None;
        };
        Self::of_violation(violation)
    }

    /// The refusal a limit violation of any engine stands for.
    fn of_violation(violation: &crate::client::Violation<'_>) -> Option<Refusal> {
        match violation {
            crate::client::Violation::Frame(FrameError::TooLong { len, .. }) => {
                Some(Refusal::TooLong { len: *len })
            }
            crate::client::Violation::Parse(crate::ParseError::Deserialization(e)) => {
                Some(Refusal::Limit(e.reason()))
            }
            _ => None,
        }
    }
}

/// How a wait ended. The message it ended on (a reply, an event, a refused negotiation) is
/// still held by the engine: [`Client::last_message`] gives it until the next poll.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Done {
    /// The output is full (a greeting's negotiation did not fit): write it out, then pump
    /// again.
    Blocked,
    /// The negotiation succeeded.
    Negotiated,
    /// The server refused the negotiation; the session is closed.
    NegotiationFailed,
    /// The awaited reply arrived.
    Response,
    /// An event arrived (for [`Want::Event`]).
    Event,
    /// A limit refused a frame while the awaited request was the oldest waiting.
    Refused(Refusal),
    /// The awaited request passed its deadline.
    TimedOut,
    /// The session is closed.
    Closed,
}

/// Where a transport puts what the current call does not wait for.
pub(crate) trait Sink {
    /// The greeting arrived.
    fn greeting(&mut self, greeting: &Greeting<'_>);
    /// An event nobody waits for right now: queue it or hand it to a callback.
    fn event(&mut self, event: Event<'_>);
    /// A reply to a request other than the awaited one. Returns whether the transport
    /// delivered it (a tokio waiter); if not, it is counted as a violation.
    fn response(&mut self, response: &Response<'_>) -> bool {
        let _ = response;
        false
    }
    /// A response that matches no tracked request: whether the transport claims it as the
    /// reply it waits for (a raw request's). If so, the wait ends with [`Done::Response`].
    fn claim(&mut self, message: &crate::Message<'_>) -> bool {
        let _ = message;
        false
    }
    /// A request other than the awaited one ended without a reply.
    fn failed(&mut self, id: Id, done: Done) {
        let _ = (id, done);
    }
    /// Input that breaks the protocol: [`ClientEvent::Violation`],
    /// [`ClientEvent::Unmatched`], [`ClientEvent::Refused`], or a reply nobody waits for.
    fn violation(&mut self, event: &ClientEvent<'_>);
}

/// Polls the engine's events until the wait for `want` ends (`Some`), or until the engine
/// needs input (`None`: write out its output, then read).
pub(crate) fn pump<const N: usize, S: Sink>(
    engine: &mut Client<'_, N>,
    want: Want,
    sink: &mut S,
) -> Option<Done> {
    loop {
        let Some(event) = engine.poll_event() else {
            if engine.is_blocked() {
                return Some(Done::Blocked);
            }
            if engine.state() == ClientState::Closed && want != Want::Nothing {
                return Some(Done::Closed);
            }
            return None;
        };
        match event {
            ClientEvent::Greeting(ref g) => sink.greeting(g),
            ClientEvent::Negotiated { .. } => {
                if want == Want::Negotiated {
                    return Some(Done::Negotiated);
                }
            }
            ClientEvent::NegotiationFailed(_) => return Some(Done::NegotiationFailed),
            ClientEvent::Response(ref r) => {
                if want == Want::Response(r.id()) {
                    return Some(Done::Response);
                }
                if !sink.response(r) {
                    sink.violation(&event);
                }
            }
            ClientEvent::Event(e) => {
                if want == Want::Event {
                    return Some(Done::Event);
                }
                sink.event(e);
            }
            ClientEvent::Refused { id, .. } => {
                let done =
                    Done::Refused(Refusal::of(&event).unwrap_or(Refusal::TooLong { len: 0 }));
                sink.violation(&event);
                if want == Want::Response(id) {
                    return Some(done);
                }
                sink.failed(id, done);
            }
            ClientEvent::TimedOut(id) => {
                if want == Want::Response(id) {
                    return Some(Done::TimedOut);
                }
                sink.failed(id, Done::TimedOut);
            }
            ClientEvent::Interrupted(id) => {
                if want == Want::Response(id) {
                    return Some(Done::Closed);
                }
                sink.failed(id, Done::Closed);
            }
            ClientEvent::Closed => {
                if want != Want::Nothing {
                    return Some(Done::Closed);
                }
            }
            ClientEvent::Unmatched { ref message, .. } => {
                if sink.claim(message) {
                    return Some(Done::Response);
                }
                sink.violation(&event);
            }
            ClientEvent::Violation(_) => sink.violation(&event),
        }
    }
}

/// The byte side of an engine, all the transports' loops need: where reads land, the end of
/// stream, and the output to write.
pub(crate) trait Engine {
    /// Free space to read into.
    fn spare(&mut self) -> &mut [u8];
    /// `n` bytes were read into [`spare`](Self::spare).
    fn commit(&mut self, n: usize);
    /// The peer closed the stream.
    fn handle_eof(&mut self);
    /// The stream broke: end the session.
    fn close(&mut self);
    /// Whether the session is over (the embedded loop's check that a full buffer means the
    /// end of stream).
    #[cfg_attr(not(feature = "embedded-io"), allow(dead_code))]
    fn is_closed(&self) -> bool;
    /// The output to write.
    fn pending_transmit(&self) -> &[u8];
    /// `n` bytes of it were written.
    fn consume_transmit(&mut self, n: usize);
}

impl<const N: usize> Engine for Client<'_, N> {
    fn spare(&mut self) -> &mut [u8] {
        Client::spare(self)
    }
    fn commit(&mut self, n: usize) {
        Client::commit(self, n);
    }
    fn handle_eof(&mut self) {
        Client::handle_eof(self);
    }
    fn close(&mut self) {
        Client::close(self);
    }
    fn is_closed(&self) -> bool {
        self.state() == ClientState::Closed
    }
    fn pending_transmit(&self) -> &[u8] {
        Client::pending_transmit(self)
    }
    fn consume_transmit(&mut self, n: usize) {
        Client::consume_transmit(self, n);
    }
}

impl Engine for crate::server::Server<'_> {
    fn spare(&mut self) -> &mut [u8] {
        Self::spare(self)
    }
    fn commit(&mut self, n: usize) {
        Self::commit(self, n);
    }
    fn handle_eof(&mut self) {
        Self::handle_eof(self);
    }
    fn close(&mut self) {
        Self::close(self);
    }
    fn is_closed(&self) -> bool {
        self.state() == crate::server::ServerState::Closed
    }
    fn pending_transmit(&self) -> &[u8] {
        Self::pending_transmit(self)
    }
    fn consume_transmit(&mut self, n: usize) {
        Self::consume_transmit(self, n);
    }
}

impl Engine for Agent<'_> {
    fn spare(&mut self) -> &mut [u8] {
        Agent::spare(self)
    }
    fn commit(&mut self, n: usize) {
        Agent::commit(self, n);
    }
    fn handle_eof(&mut self) {
        Agent::handle_eof(self);
    }
    fn close(&mut self) {
        Agent::close(self);
    }
    fn is_closed(&self) -> bool {
        self.state() == crate::agent::AgentState::Closed
    }
    fn pending_transmit(&self) -> &[u8] {
        Agent::pending_transmit(self)
    }
    fn consume_transmit(&mut self, n: usize) {
        Agent::consume_transmit(self, n);
    }
}

/// What a guest agent call waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AgentWant {
    /// The return of this sync.
    Synced(u64),
    /// The reply to this command.
    Reply(Id),
    /// This command (which expects no reply) was handed over.
    Sent(Id),
}

/// How a guest agent wait ended. A reply is still held by the engine:
/// [`Agent::last_message`] gives it until the next poll.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AgentDone {
    /// The awaited sync returned, the reply arrived, or the command was handed over.
    Done,
    /// A limit refused a frame while the awaited command was in flight.
    Refused(Refusal),
    /// The awaited sync or command passed its deadline.
    TimedOut,
    /// The session is closed.
    Closed,
}

/// What an agent transport counts instead of failing the call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct AgentCounts {
    /// Input discarded while out of sync (stale replies, the sentinel's error).
    pub(crate) stale: u64,
    /// Input that broke the protocol in sync, replies nobody waits for, refused frames,
    /// errors of commands that expected no reply.
    pub(crate) violations: u64,
}

/// How an agent transport's wait ended (`done`, or `None` when its deadline passed): `Ok`
/// when it got what it waited for, else why not. A wait that timed out poisons the session
/// (the engine times the sync or command out, and the next call syncs), in every transport.
pub(crate) fn end_agent_wait(
    engine: &mut Agent<'_>,
    done: Option<AgentDone>,
) -> Result<(), AgentDone> {
    match done {
        Some(AgentDone::Done) => Ok(()),
        Some(AgentDone::TimedOut) | None => {
            engine.handle_timeout(u64::MAX);
            Err(AgentDone::TimedOut)
        }
        Some(other) => Err(other),
    }
}

/// [`pump`] for the guest agent engine: polls its events until the wait for `want` ends
/// (`Some`), or until it needs input (`None`: write out its output, then read).
pub(crate) fn pump_agent(
    engine: &mut Agent<'_>,
    want: AgentWant,
    counts: &mut AgentCounts,
) -> Option<AgentDone> {
    loop {
        let event = engine.poll_event()?;
        match event {
            AgentEvent::Synced { id } if want == AgentWant::Synced(id) => {
                return Some(AgentDone::Done)
            }
            AgentEvent::Reply(r) if want == AgentWant::Reply(r.id()) => {
                return Some(AgentDone::Done)
            }
            AgentEvent::Sent(id) if want == AgentWant::Sent(id) => return Some(AgentDone::Done),
            AgentEvent::Refused { id, violation } => {
                counts.violations += 1;
                if want == AgentWant::Reply(id) {
                    let refusal =
                        Refusal::of_violation(&violation).unwrap_or(Refusal::TooLong { len: 0 });
                    return Some(AgentDone::Refused(refusal));
                }
            }
            AgentEvent::TimedOut(id) | AgentEvent::Interrupted(id)
                if want == AgentWant::Reply(id) || want == AgentWant::Sent(id) =>
            {
                return Some(if matches!(event, AgentEvent::TimedOut(_)) {
                    AgentDone::TimedOut
                } else {
                    AgentDone::Closed
                });
            }
            AgentEvent::SyncTimedOut { id } if want == AgentWant::Synced(id) => {
                return Some(AgentDone::TimedOut)
            }
            AgentEvent::Closed => return Some(AgentDone::Closed),
            AgentEvent::Stale(_) => counts.stale += 1,
            AgentEvent::Synced { .. }
            | AgentEvent::Sent(_)
            | AgentEvent::TimedOut(_)
            | AgentEvent::SyncTimedOut { .. }
            | AgentEvent::Interrupted(_) => {}
            _ => counts.violations += 1,
        }
    }
}
