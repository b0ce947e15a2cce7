//! Replies held back until a deadline (`DEBUG SLEEP`): the reply's place
//! is reserved in the connection's output at once, so later replies queue
//! behind it, and the shard fills it in the first turn at or after the
//! deadline (turns come at least every idle tick, so a reply is at most
//! that late).

use super::output::ReplySlot;

/// A reply waiting for its time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DelayedReply {
    /// When to deliver it, in the clock's milliseconds.
    pub due_ms: u64,
    /// The connection (slab index and generation) and its reply slot.
    pub index: usize,
    pub generation: u32,
    pub slot: ReplySlot,
    pub reply: &'static [u8],
}

/// One shard's delayed replies.
#[derive(Debug, Default)]
pub struct Delayed {
    replies: Vec<DelayedReply>,
}

impl Delayed {
    /// Holds `reply` until it is due.
    pub fn push(&mut self, reply: DelayedReply) {
        self.replies.push(reply);
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.replies.is_empty()
    }

    /// Removes and returns the replies due at `now_ms`.
    pub fn take_due(&mut self, now_ms: u64) -> Vec<DelayedReply> {
        let (due, waiting) = self.replies.iter().partition(|r| r.due_ms <= now_ms);
        self.replies = waiting;
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_due_replies_are_taken() {
        let mut delayed = Delayed::default();
        let reply = |due_ms, slot| DelayedReply {
            due_ms,
            index: 1,
            generation: 2,
            slot,
            reply: b"+OK\r\n",
        };
        delayed.push(reply(100, 0));
        delayed.push(reply(50, 1));
        assert!(delayed.take_due(10).is_empty());
        assert_eq!(delayed.take_due(60), [reply(50, 1)]);
        assert!(!delayed.is_empty());
        assert_eq!(delayed.take_due(100), [reply(100, 0)]);
        assert!(delayed.is_empty());
    }
}
