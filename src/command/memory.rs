//! The memory limit and eviction policy in force, shared by every shard:
//! set at start-up, changed by `CONFIG SET maxmemory|maxmemory-policy`, read
//! by each shard once per turn (two relaxed loads; the shard applies them
//! to its stores) and by `stats`/`INFO`.
//!
//! The stores account their items' blocks exactly, but the process's RSS
//! is more: the allocator's partly used pages and freed memory it has not
//! returned yet, connection buffers. Under churn of mixed sizes (10 B to
//! 1 MiB) that came to 40-50% of the limit. So the limit the shards apply
//! is the node's limit less that *overhead*: RSS minus the base RSS of the
//! idle server minus what the stores account, measured every 100 ms
//! ([`MemoryConfig::record_rss`]), smoothed, and capped at half the limit
//! (the stores always get at least half). Fragmentation that grows in
//! proportion to the data then settles where RSS meets the limit plus the
//! base: with the stores holding `u` and RSS `f·u`, the next limit is
//! `L − (f − 1)·u`, which converges to `u = L/f` for any `f < 2`.
//!
//! The price, with items of one size: a fast fill overshoots the limit by
//! the allocator's slack before the smoothed overhead catches up, and
//! memory that evictions then free stays in the allocator's partly used
//! pages, reusable but counted as overhead, so the limit falls further
//! until the cap. Measured with 1 KiB values written 4x a 64 MiB limit:
//! the stores ended at the cap, half the limit (24,576 items where
//! memcached held 56,640). Not counting freed memory until RSS falls (the
//! most the stores held as what they hold) kept 47,054 items, but let RSS
//! under the mixed-size churn above reach +83 MiB over a 256 MiB limit
//! (+25 MiB with this rule), so the rule stays; the cure is allocation
//! that reuses freed memory by construction (slab classes or segments),
//! which issue 5's per-item target needs anyway.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};

use crate::config::Settings;
use crate::store::EvictionPolicy;

/// The node's memory limit and eviction policy.
#[derive(Debug, Default)]
pub struct MemoryConfig {
    maxmemory: AtomicU64,
    policy: AtomicU8,
    /// RSS of the idle server, at the first measurement.
    base_rss: AtomicU64,
    /// RSS beyond the base and the stores' accounting, smoothed.
    overhead: AtomicU64,
}

impl MemoryConfig {
    /// The settings' limit and policy.
    pub fn new(settings: &Settings) -> MemoryConfig {
        MemoryConfig {
            maxmemory: AtomicU64::new(settings.maxmemory),
            policy: AtomicU8::new(settings.maxmemory_policy as u8),
            base_rss: AtomicU64::new(0),
            overhead: AtomicU64::new(0),
        }
    }

    /// Takes a measurement of the process's RSS while the stores account
    /// `used` bytes (one shard calls it, every 100 ms, from half a second
    /// after start). The first one, less `used`, is the base.
    pub fn record_rss(&self, rss: u64, used: u64) {
        let base = match self.base_rss.load(Ordering::Relaxed) {
            0 => {
                let base = rss.saturating_sub(used).max(1);
                self.base_rss.store(base, Ordering::Relaxed);
                base
            }
            base => base,
        };
        let measured = rss.saturating_sub(base + used);
        let old = self.overhead.load(Ordering::Relaxed);
        self.overhead.store((old + measured) / 2, Ordering::Relaxed);
    }

    /// The RSS of the idle server (0 before the first measurement).
    pub fn base_rss(&self) -> u64 {
        self.base_rss.load(Ordering::Relaxed)
    }

    /// What the limit is lowered by: RSS beyond the base and the stores'
    /// accounting, at most half the limit.
    pub fn overhead(&self) -> u64 {
        self.overhead
            .load(Ordering::Relaxed)
            .min(self.maxmemory() / 2)
    }

    /// The node's limit in bytes (0 = none).
    pub fn maxmemory(&self) -> u64 {
        self.maxmemory.load(Ordering::Relaxed)
    }

    /// Sets the node's limit.
    pub fn set_maxmemory(&self, bytes: u64) {
        self.maxmemory.store(bytes, Ordering::Relaxed);
    }

    /// The eviction policy.
    pub fn policy(&self) -> EvictionPolicy {
        EvictionPolicy::from_u8(self.policy.load(Ordering::Relaxed))
    }

    /// Sets the eviction policy.
    pub fn set_policy(&self, policy: EvictionPolicy) {
        self.policy.store(policy as u8, Ordering::Relaxed);
    }

    /// One shard's part of the limit less the overhead, for `shards`
    /// shards (0 = none).
    pub fn shard_limit(&self, shards: usize) -> u64 {
        match self.maxmemory() {
            0 => 0,
            total => ((total - self.overhead()) / shards.max(1) as u64).max(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_shrinks_by_the_measured_overhead_at_most_by_half() {
        let memory = MemoryConfig::new(&Settings::for_tests());
        memory.set_maxmemory(1000);
        memory.record_rss(300, 0);
        assert_eq!(memory.base_rss(), 300);
        assert_eq!(memory.shard_limit(2), 500);
        // 400 of items, 200 more RSS than that: half of it at once.
        memory.record_rss(900, 400);
        assert_eq!(memory.overhead(), 100);
        assert_eq!(memory.shard_limit(2), 450);
        memory.record_rss(900, 400);
        assert_eq!(memory.overhead(), 150);
        memory.record_rss(5000, 400);
        assert_eq!(memory.overhead(), 500, "capped at half");
        memory.set_maxmemory(0);
        assert_eq!(memory.shard_limit(2), 0);
    }
}
