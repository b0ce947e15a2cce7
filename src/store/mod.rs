//! The per-shard keyspace: a hash index over slab-allocated entries. Plain
//! data structure, no I/O, tested without a runtime.

use crate::stats::StoreStats;

/// One shard's keyspace.
#[derive(Debug, Default)]
pub struct Store {
    stats: StoreStats,
}

impl Store {
    /// Placeholder.
    pub fn stats(&self) -> StoreStats {
        self.stats
    }

    /// Placeholder.
    pub fn reset_stats(&mut self) {}
}
