//! Shards: one per worker core, each owning a contiguous range of hash slots
//! and the store holding their keys. This module maps keys to shards and
//! defines what shards say to each other over glommio's channel mesh.

pub mod mesh;
pub mod slot;

pub use slot::HashSlot;

/// Index of a shard (= worker thread = glommio executor), `0..shard_count`.
pub type ShardId = usize;

/// How hash slots are spread over shards: contiguous, equal ranges, so that
/// shard `i` owns slots `i * 16384 / n .. (i + 1) * 16384 / n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotMap {
    shards: usize,
}

impl SlotMap {
    /// A map over `shards` shards (at least one).
    pub fn new(shards: usize) -> SlotMap {
        SlotMap {
            shards: shards.max(1),
        }
    }

    /// Number of shards.
    pub fn shard_count(self) -> usize {
        self.shards
    }

    /// The shard owning `slot`.
    pub fn shard_of_slot(self, slot: HashSlot) -> ShardId {
        usize::from(slot.get()) * self.shards / usize::from(slot::SLOT_COUNT)
    }

    /// The shard owning `key`.
    pub fn shard_of(self, key: &[u8]) -> ShardId {
        if self.shards == 1 {
            return 0;
        }
        self.shard_of_slot(HashSlot::of(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_spread_in_contiguous_equal_ranges() {
        let map = SlotMap::new(3);
        let owners: Vec<ShardId> = (0..slot::SLOT_COUNT)
            .map(|s| map.shard_of_slot(HashSlot::of_number(s)))
            .collect();
        assert!(owners.windows(2).all(|w| w[0] <= w[1]));
        for shard in 0..3 {
            let owned = owners.iter().filter(|&&o| o == shard).count();
            assert!((5461..=5462).contains(&owned), "shard {shard} owns {owned}");
        }
    }

    #[test]
    fn one_shard_owns_everything() {
        assert_eq!(SlotMap::new(1).shard_of(b"anything"), 0);
        assert_eq!(SlotMap::new(0).shard_count(), 1);
    }

    #[test]
    fn hash_tags_keep_keys_together() {
        let map = SlotMap::new(7);
        assert_eq!(map.shard_of(b"{user}:a"), map.shard_of(b"{user}:b"));
    }
}
