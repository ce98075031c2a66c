//! A bounded event queue that drops its oldest entry when full, and counts what it dropped.

use std::collections::VecDeque;

/// Events waiting to be taken, at most `capacity`; the oldest goes first when full.
#[derive(Debug)]
pub(crate) struct EventQueue<T> {
    items: VecDeque<T>,
    capacity: usize,
    dropped: u64,
}

impl<T> EventQueue<T> {
    /// An empty queue holding at most `capacity` items (0 keeps nothing).
    pub(crate) fn new(capacity: usize) -> Self {
        EventQueue {
            items: VecDeque::new(),
            capacity,
            dropped: 0,
        }
    }

    /// Appends `item`, dropping the oldest one when the queue is full.
    pub(crate) fn push(&mut self, item: T) {
        if self.capacity == 0 {
            self.dropped = self.dropped.saturating_add(1);
            return;
        }
        if self.items.len() >= self.capacity {
            self.items.pop_front();
            self.dropped = self.dropped.saturating_add(1);
        }
        self.items.push_back(item);
    }

    /// The oldest item.
    pub(crate) fn pop(&mut self) -> Option<T> {
        self.items.pop_front()
    }

    /// How many items wait.
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// How many items were dropped because the queue was full.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Takes every waiting item, oldest first.
    pub(crate) fn drain(&mut self) -> std::collections::vec_deque::Drain<'_, T> {
        self.items.drain(..)
    }
}

#[cfg(test)]
mod tests {
    use super::EventQueue;
    use std::vec::Vec;

    #[test]
    fn drops_oldest_when_full_and_counts() {
        let mut q = EventQueue::new(3);
        for i in 0..5 {
            q.push(i);
        }
        assert_eq!(q.dropped(), 2);
        assert_eq!(q.len(), 3);
        assert_eq!(q.drain().collect::<Vec<_>>(), [2, 3, 4]);
        assert_eq!(q.pop(), None);
        q.push(9);
        assert_eq!(q.pop(), Some(9));
    }

    #[test]
    fn zero_capacity_keeps_nothing() {
        let mut q = EventQueue::new(0);
        q.push(1);
        q.push(2);
        assert_eq!(q.len(), 0);
        assert_eq!(q.dropped(), 2);
    }
}
