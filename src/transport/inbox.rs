//! The std transports' one event-delivery design: a queue bounded by count and by bytes
//! (drop-oldest, counted), the violation counter and its callback, and the greeting. The
//! blocking client owns one; the tokio client shares one between its reader and callers.

use std::boxed::Box;
use std::collections::VecDeque;
use std::task::Waker;

use crate::client::ClientEvent;
use crate::driver::Sink;
use crate::json::{Style, Value, ValueKind};
use crate::model::{Event, Greeting, Version};
use crate::owned::{OwnedMessage, OwnedValue};

/// A callback for input that breaks the protocol.
pub(crate) type Hook = Box<dyn FnMut(&ClientEvent<'_>) + Send>;

/// What an owned copy of a message costs at most, in bytes of memory: the original bytes,
/// a copy of each member, and per-member bookkeeping.
pub(crate) fn cost(message: &crate::Message<'_>) -> usize {
    message
        .as_bytes()
        .len()
        .saturating_mul(2)
        .saturating_add(message.len().saturating_mul(64))
        .saturating_add(64)
}

/// Events, counters and the violation callback of one connection.
pub(crate) struct Inbox {
    queue: VecDeque<(OwnedMessage, usize)>,
    bytes: usize,
    capacity: usize,
    max_bytes: usize,
    dropped: u64,
    violations: u64,
    hook: Option<Hook>,
    /// The consumer waiting for an event (tokio).
    waker: Option<Waker>,
    pub(crate) greeting: OwnedMessage,
    pub(crate) version: Option<Version>,
    /// The reply a raw request waits for: the response whose id is this one as QEMU echoes
    /// it (`Some(None)`: the next response without an id).
    pub(crate) raw: Option<Option<OwnedValue>>,
}

impl Inbox {
    /// An empty inbox holding at most `capacity` events and `max_bytes` of them.
    pub(crate) fn new(capacity: usize, max_bytes: usize) -> Self {
        Inbox {
            queue: VecDeque::new(),
            bytes: 0,
            capacity,
            max_bytes,
            dropped: 0,
            violations: 0,
            hook: None,
            waker: None,
            greeting: OwnedMessage::new(),
            version: None,
            raw: None,
        }
    }

    /// Queues an event, dropping the oldest while either bound is exceeded.
    pub(crate) fn push(&mut self, message: &crate::Message<'_>) {
        let cost = cost(message);
        if self.capacity == 0 || cost > self.max_bytes {
            self.dropped = self.dropped.saturating_add(1);
            return;
        }
        while self.queue.len() >= self.capacity || self.bytes.saturating_add(cost) > self.max_bytes
        {
            let Some((_, c)) = self.queue.pop_front() else {
                break;
            };
            self.bytes = self.bytes.saturating_sub(c);
            self.dropped = self.dropped.saturating_add(1);
        }
        self.queue.push_back((message.to_owned_message(), cost));
        self.bytes = self.bytes.saturating_add(cost);
        if let Some(w) = self.waker.take() {
            w.wake();
        }
    }

    /// The oldest queued event.
    pub(crate) fn pop(&mut self) -> Option<OwnedMessage> {
        let (event, cost) = self.queue.pop_front()?;
        self.bytes = self.bytes.saturating_sub(cost);
        Some(event)
    }

    /// Registers the waker of a consumer waiting for an event.
    #[cfg(feature = "tokio")]
    pub(crate) fn set_waker(&mut self, waker: &Waker) {
        self.waker = Some(waker.clone());
    }

    /// Wakes a waiting consumer (the connection closed).
    #[cfg(feature = "tokio")]
    pub(crate) fn wake(&mut self) {
        if let Some(w) = self.waker.take() {
            w.wake();
        }
    }

    /// How many events wait.
    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }

    /// The memory the queued events are accounted for.
    pub(crate) fn queued_bytes(&self) -> usize {
        self.bytes
    }

    /// How many events were dropped because a bound was reached.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped
    }

    /// How many messages broke the protocol.
    pub(crate) fn violations(&self) -> u64 {
        self.violations
    }

    /// Replaces the violation callback.
    pub(crate) fn set_hook(&mut self, hook: Hook) {
        self.hook = Some(hook);
    }
}

impl Sink for Inbox {
    fn greeting(&mut self, greeting: &Greeting<'_>) {
        self.greeting = greeting.message().to_owned_message();
        self.version = greeting.version();
    }

    fn event(&mut self, event: Event<'_>) {
        self.push(&event.message());
    }

    fn claim(&mut self, message: &crate::Message<'_>) -> bool {
        let Some(want) = &self.raw else {
            return false;
        };
        match (want, message.id()) {
            (None, None) => true,
            (Some(sent), Some(got)) => echoed_id_matches(sent.value(), got),
            _ => false,
        }
    }

    fn violation(&mut self, event: &ClientEvent<'_>) {
        self.violations = self.violations.saturating_add(1);
        if let Some(hook) = self.hook.as_mut() {
            hook(event);
        }
    }
}

/// Whether `got`, an id a server echoed, is `sent` as QEMU echoes it: numbers compared as
/// QEMU re-prints them (`1.0` and `1`, `1e2` and `100`), strings unescaped, object members
/// in any order. Iterative: nesting is a stack.
pub(crate) fn echoed_id_matches(sent: Value<'_>, got: Value<'_>) -> bool {
    let mut stack = std::vec![(sent, got)];
    while let Some((a, b)) = stack.pop() {
        match (a.kind(), b.kind()) {
            (ValueKind::Object, ValueKind::Object) => {
                if a.members().count() != b.members().count() {
                    return false;
                }
                for (name, value) in a.members() {
                    match b.get(&name.to_cow()) {
                        Some(other) => stack.push((value, other)),
                        None => return false,
                    }
                }
            }
            (ValueKind::Array, ValueKind::Array) => {
                if a.elements().count() != b.elements().count() {
                    return false;
                }
                stack.extend(a.elements().zip(b.elements()));
            }
            (ValueKind::String, ValueKind::String) => {
                if a.as_str() != b.as_str() {
                    return false;
                }
            }
            (ValueKind::Number, ValueKind::Number) => {
                let echo =
                    |v: Value<'_>| std::string::ToString::to_string(&v.display(Style::QEMU_ECHO));
                if echo(a) != echo(b) {
                    return false;
                }
            }
            (x, y) => {
                if x != y || a.raw() != b.raw() {
                    return false;
                }
            }
        }
    }
    true
}

impl std::fmt::Debug for Inbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inbox")
            .field("queued", &self.queue.len())
            .field("bytes", &self.bytes)
            .field("dropped", &self.dropped)
            .field("violations", &self.violations)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::Inbox;
    use crate::Message;

    #[test]
    fn bounded_by_count_and_bytes() {
        let small = Message::parse(br#"{"event": "STOP"}"#).unwrap();
        let mut inbox = Inbox::new(3, 1 << 20);
        for _ in 0..5 {
            inbox.push(&small);
        }
        assert_eq!((inbox.len(), inbox.dropped()), (3, 2));
        let one = super::cost(&small);
        let mut inbox = Inbox::new(100, one * 2);
        for _ in 0..5 {
            inbox.push(&small);
        }
        assert_eq!((inbox.len(), inbox.dropped()), (2, 3));
        assert!(inbox.queued_bytes() <= one * 2);
        let mut inbox = Inbox::new(100, one - 1);
        inbox.push(&small);
        assert_eq!((inbox.len(), inbox.dropped()), (0, 1));
        assert!(inbox.pop().is_none());
    }
}
