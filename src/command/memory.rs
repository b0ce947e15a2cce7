//! The memory limit and eviction policy in force, shared by every shard:
//! set at start-up, changed by `CONFIG SET maxmemory|maxmemory-policy`, read
//! by each shard once per turn (two relaxed loads; the shard applies them
//! to its stores) and by `stats`/`INFO`.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};

use crate::config::Settings;
use crate::store::EvictionPolicy;

/// The node's memory limit and eviction policy.
#[derive(Debug, Default)]
pub struct MemoryConfig {
    maxmemory: AtomicU64,
    policy: AtomicU8,
}

impl MemoryConfig {
    /// The settings' limit and policy.
    pub fn new(settings: &Settings) -> MemoryConfig {
        MemoryConfig {
            maxmemory: AtomicU64::new(settings.maxmemory),
            policy: AtomicU8::new(settings.maxmemory_policy as u8),
        }
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

    /// One shard's part of the limit, for `shards` shards (0 = none).
    pub fn shard_limit(&self, shards: usize) -> u64 {
        match self.maxmemory() {
            0 => 0,
            total => (total / shards.max(1) as u64).max(1),
        }
    }
}
