//! The thresholds at which small collections change to their full
//! encoding (`hash-max-listpack-entries`, `hash-max-listpack-value`,
//! `set-max-intset-entries`), shared by every shard and changed by
//! `CONFIG SET` while the server runs. A change applies to collections as
//! they next grow; none converts back, as in Redis.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::store::Limits;

/// The encoding thresholds, readable and settable from any shard.
#[derive(Debug)]
pub struct EncodingConfig {
    hash_max_listpack_entries: AtomicUsize,
    hash_max_listpack_value: AtomicUsize,
    set_max_intset_entries: AtomicUsize,
    zset_max_listpack_entries: AtomicUsize,
    zset_max_listpack_value: AtomicUsize,
}

impl Default for EncodingConfig {
    /// Redis 7.0.15's defaults ([`Limits::default`]).
    fn default() -> EncodingConfig {
        let limits = Limits::default();
        EncodingConfig {
            hash_max_listpack_entries: AtomicUsize::new(limits.hash_max_listpack_entries),
            hash_max_listpack_value: AtomicUsize::new(limits.hash_max_listpack_value),
            set_max_intset_entries: AtomicUsize::new(limits.set_max_intset_entries),
            zset_max_listpack_entries: AtomicUsize::new(limits.zset_max_listpack_entries),
            zset_max_listpack_value: AtomicUsize::new(limits.zset_max_listpack_value),
        }
    }
}

/// Which threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Threshold {
    HashMaxListpackEntries,
    HashMaxListpackValue,
    SetMaxIntsetEntries,
    ZsetMaxListpackEntries,
    ZsetMaxListpackValue,
}

impl EncodingConfig {
    fn cell(&self, threshold: Threshold) -> &AtomicUsize {
        match threshold {
            Threshold::HashMaxListpackEntries => &self.hash_max_listpack_entries,
            Threshold::HashMaxListpackValue => &self.hash_max_listpack_value,
            Threshold::SetMaxIntsetEntries => &self.set_max_intset_entries,
            Threshold::ZsetMaxListpackEntries => &self.zset_max_listpack_entries,
            Threshold::ZsetMaxListpackValue => &self.zset_max_listpack_value,
        }
    }

    /// The current value of `threshold`.
    pub fn get(&self, threshold: Threshold) -> usize {
        self.cell(threshold).load(Ordering::Relaxed)
    }

    /// Sets `threshold`.
    pub fn set(&self, threshold: Threshold, value: usize) {
        self.cell(threshold).store(value, Ordering::Relaxed);
    }

    /// The thresholds as the store takes them.
    pub fn limits(&self) -> Limits {
        Limits {
            hash_max_listpack_entries: self.get(Threshold::HashMaxListpackEntries),
            hash_max_listpack_value: self.get(Threshold::HashMaxListpackValue),
            set_max_intset_entries: self.get(Threshold::SetMaxIntsetEntries),
            zset_max_listpack_entries: self.get(Threshold::ZsetMaxListpackEntries),
            zset_max_listpack_value: self.get(Threshold::ZsetMaxListpackValue),
        }
    }
}
