//! A bounded event queue shared between a reader task and its consumers, read as a
//! `Stream`: drop-oldest when full, with a counter, and a waker for the consumer.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use super::queue::EventQueue;
use crate::OwnedMessage;

/// The queue and its consumer's waker.
#[derive(Debug)]
struct Inner {
    queue: EventQueue<OwnedMessage>,
    waker: Option<Waker>,
    closed: bool,
}

/// The shared side: the reader task pushes, consumers pop.
#[derive(Debug)]
pub(crate) struct EventShared {
    inner: Mutex<Inner>,
}

impl EventShared {
    /// An open queue holding at most `capacity` events.
    pub(crate) fn new(capacity: usize) -> Arc<EventShared> {
        Arc::new(EventShared {
            inner: Mutex::new(Inner {
                queue: EventQueue::new(capacity),
                waker: None,
                closed: false,
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Nothing panics while the lock is held; a poisoned queue is still consistent.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues an event (dropping the oldest when full) and wakes the consumer.
    pub(crate) fn push(&self, event: OwnedMessage) {
        let waker = {
            let mut inner = self.lock();
            inner.queue.push(event);
            inner.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// No more events will come: consumers get what is queued, then the end.
    pub(crate) fn close(&self) {
        let waker = {
            let mut inner = self.lock();
            inner.closed = true;
            inner.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// The next event, the end (`None` once closed and empty), or `Pending` with the
    /// consumer's waker registered.
    pub(crate) fn poll_next(&self, cx: &mut Context<'_>) -> Poll<Option<OwnedMessage>> {
        let mut inner = self.lock();
        if let Some(event) = inner.queue.pop() {
            return Poll::Ready(Some(event));
        }
        if inner.closed {
            return Poll::Ready(None);
        }
        inner.waker = Some(cx.waker().clone());
        Poll::Pending
    }

    /// A queued event, without waiting.
    pub(crate) fn try_pop(&self) -> Option<OwnedMessage> {
        self.lock().queue.pop()
    }

    /// How many events wait.
    pub(crate) fn len(&self) -> usize {
        self.lock().queue.len()
    }

    /// How many events were dropped because the queue was full.
    pub(crate) fn dropped(&self) -> u64 {
        self.lock().queue.dropped()
    }
}
