//! S3-FIFO's queues (Yang et al., "FIFO queues are all you need for cache
//! eviction", SOSP 2023), as plain bookkeeping: which keys are in the small
//! and the main queue, in what order, and which were recently evicted from
//! the small one (the ghost). The choice of a victim, which needs the
//! index, is `store::evict`.
//!
//! The queues hold key hashes (8 bytes an item), not addresses: an item's
//! block moves when its value changes, its hash does not. An item's header
//! says which queue it is in (`SMALL` or `MAIN`), so an entry whose item was
//! deleted, or moved to the other queue, is recognised as stale when it is
//! popped and skipped. Stale entries are compacted away once they are as
//! many as the live ones, so a queue stays within twice its items.
//!
//! The ghost is a direct-mapped table of 32-bit fingerprints, one slot per
//! item the store holds (rounded up to a power of two): a key evicted from
//! the small queue writes its fingerprint into its slot, a newer eviction
//! into the same slot overwrites it. It remembers about as many keys as the
//! main queue holds, at 4 bytes each, without a queue of its own; a false
//! ghost hit (one in 2^32 per probe) only admits one key straight to main.

use std::collections::VecDeque;

/// Header bits of the policy (within `raw::bits::POLICY`).
pub(super) mod bits {
    /// The 2-bit access frequency, saturating at 3.
    pub const FREQ: u8 = 0x30;
    /// One step of [`FREQ`].
    pub const FREQ_ONE: u8 = 0x10;
    /// The item is in the small queue.
    pub const SMALL: u8 = 0x40;
    /// The item is in the main queue.
    pub const MAIN: u8 = 0x80;
}

/// The small queue's share of the queued items, in tenths (the paper's
/// 10%).
pub(super) const SMALL_TENTHS: usize = 1;

/// Accesses while in the small queue that promote an item to main when it
/// reaches the queue's head (the paper: "accessed at least once"). One was
/// measured against two on the Zipf trace of `evict::tests`.
pub(super) const PROMOTE_AT: u8 = 1;

/// The queues and the ghost of one store.
#[derive(Debug, Default)]
pub(super) struct S3Fifo {
    pub(super) small: VecDeque<u64>,
    pub(super) main: VecDeque<u64>,
    /// Live items in each queue (stale entries not counted).
    pub(super) small_items: usize,
    pub(super) main_items: usize,
    ghost: Vec<u32>,
}

/// The ghost fingerprint of `hash` (never 0, the empty slot).
fn fingerprint(hash: u64) -> u32 {
    ((hash >> 32) as u32).max(1)
}

impl S3Fifo {
    /// Bytes the queues and the ghost take (their capacity).
    pub(super) fn bytes(&self) -> usize {
        (self.small.capacity() + self.main.capacity()) * 8 + self.ghost.capacity() * 4
    }

    /// Forgets everything (a flush, or a switch to another policy).
    pub(super) fn clear(&mut self) {
        *self = S3Fifo::default();
    }

    /// Whether the next victim comes from the small queue: it holds at
    /// least its share of the items, or main is empty.
    pub(super) fn evict_from_small(&self) -> bool {
        let queued = self.small_items + self.main_items;
        self.small_items > 0
            && (self.small_items * 10 >= queued * SMALL_TENTHS || self.main_items == 0)
    }

    /// Remembers that the key with `hash` was evicted from the small queue;
    /// `items` is how many the store holds (the ghost's size).
    pub(super) fn remember(&mut self, hash: u64, items: usize) {
        let wanted = items.max(64).next_power_of_two();
        if self.ghost.len() < wanted {
            // A larger ghost starts empty: its slots are placed by size.
            self.ghost = vec![0; wanted];
        }
        let at = hash as usize & (self.ghost.len() - 1);
        self.ghost[at] = fingerprint(hash);
    }

    /// Whether the key with `hash` is in the ghost; if so, it leaves it.
    pub(super) fn recall(&mut self, hash: u64) -> bool {
        if self.ghost.is_empty() {
            return false;
        }
        let at = hash as usize & (self.ghost.len() - 1);
        let hit = self.ghost[at] == fingerprint(hash);
        if hit {
            self.ghost[at] = 0;
        }
        hit
    }

    /// Whether a queue holds so many stale entries that it should be
    /// compacted.
    pub(super) fn needs_compaction(queue: &VecDeque<u64>, items: usize) -> bool {
        queue.len() > 2 * items + 1024
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ghost_recalls_a_key_once() {
        let mut fifo = S3Fifo::default();
        assert!(!fifo.recall(42));
        fifo.remember(42 | 7 << 40, 10);
        assert!(fifo.recall(42 | 7 << 40));
        assert!(!fifo.recall(42 | 7 << 40));
        assert_eq!(fifo.bytes(), 64 * 4);
    }

    #[test]
    fn the_small_queue_gives_victims_past_its_share() {
        let mut fifo = S3Fifo {
            small_items: 1,
            main_items: 9,
            ..S3Fifo::default()
        };
        assert!(fifo.evict_from_small());
        fifo.main_items = 10;
        assert!(!fifo.evict_from_small());
        fifo.small_items = 0;
        fifo.main_items = 0;
        assert!(!fifo.evict_from_small());
    }
}
