//! Counters: each shard counts in plain integers on its own core, and
//! publishes a copy once per event-loop turn so that `stats` on any core can
//! sum all shards without a message round trip or a lock.
//!
//! Only the owning shard ever writes its [`Published`] copy (relaxed stores of
//! whole values, no read-modify-write), so publishing costs a few plain
//! stores per turn and readers never contend with the data path.

use std::sync::atomic::{AtomicU64, Ordering};

pub mod commands;
pub mod errors;

/// Declares a counter struct of plain `u64` fields and, beside it, a
/// published (atomic) mirror with the same fields.
macro_rules! counters {
    ($(#[$meta:meta])* $name:ident / $published:ident { $($(#[$fmeta:meta])* $field:ident,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: u64,)*
        }

        impl $name {
            /// The names of the counters, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$(stringify!($field),)*];

            /// Adds every counter of `other` into `self`.
            pub fn add(&mut self, other: &$name) {
                $(self.$field = self.$field.wrapping_add(other.$field);)*
            }

            /// Subtracts every counter of `other` (saturating at zero).
            pub fn saturating_sub(&self, other: &$name) -> $name {
                $name { $($field: self.$field.saturating_sub(other.$field),)* }
            }

            /// The counters as (name, value) pairs, in declaration order.
            pub fn pairs(&self) -> impl Iterator<Item = (&'static str, u64)> {
                [$((stringify!($field), self.$field),)*].into_iter()
            }
        }

        #[doc = concat!("The published, readable-from-any-core copy of [`", stringify!($name), "`].")]
        #[derive(Debug, Default)]
        pub struct $published {
            $($field: AtomicU64,)*
        }

        impl $published {
            /// Stores a new copy. Called only by the owning shard.
            pub fn publish(&self, value: &$name) {
                $(self.$field.store(value.$field, Ordering::Relaxed);)*
            }

            /// Reads the last published copy.
            pub fn read(&self) -> $name {
                $name { $($field: self.$field.load(Ordering::Relaxed),)* }
            }
        }
    };
}

counters! {
    /// What one shard counts about the commands it runs and the connections
    /// it serves. memcached's names, so `stats` prints them as they are.
    ShardStats / PublishedShardStats {
        /// Connections open now (a gauge: never reset).
        curr_connections,
        /// Clients waiting here in a blocking pop (a gauge: never reset).
        blocked_clients,
        total_connections,
        rejected_connections,
        bytes_read,
        bytes_written,
        cmd_get,
        cmd_set,
        cmd_flush,
        cmd_touch,
        meta_cmds,
        get_hits,
        get_misses,
        get_expired,
        get_flushed,
        delete_misses,
        delete_hits,
        incr_misses,
        incr_hits,
        decr_misses,
        decr_hits,
        cas_misses,
        cas_hits,
        cas_badval,
        touch_hits,
        touch_misses,
        store_too_large,
        store_no_memory,
        /// Keys fetched by multi-key retrievals that crossed to another core.
        cross_shard_keys,
        /// RESP connections watching keys now (a gauge: never reset).
        watching_clients,
    }
}

counters! {
    /// What one shard's store counts: its contents and what left it.
    StoreStats / PublishedStoreStats {
        /// Items stored now (a gauge).
        curr_items,
        /// Bytes of items stored now (a gauge): memcached's `bytes`, a
        /// function of the key and value lengths.
        bytes,
        /// Bytes the store really uses (a gauge): item blocks as the
        /// allocator sized them, the index table, the eviction queues.
        used_memory,
        total_items,
        evictions,
        expired_unfetched,
        evicted_unfetched,
        /// Expired items reclaimed (lazily or by the active expiry cycle).
        reclaimed,
        /// RESP reads that found their key (Redis's `keyspace_hits`).
        keyspace_hits,
        /// RESP reads that did not (`keyspace_misses`).
        keyspace_misses,
        /// Keys some client `WATCH`es now (a gauge).
        watched_keys,
    }
}

/// Everything one shard publishes.
#[derive(Debug, Default)]
pub struct PublishedShard {
    pub shard: PublishedShardStats,
    /// Summed over the shard's databases.
    pub store: PublishedStoreStats,
    /// Keys in each RESP database.
    pub db_keys: Box<[AtomicU64]>,
}

impl PublishedShard {
    /// Zeroed counters for a shard with `databases` databases.
    pub fn new(databases: usize) -> PublishedShard {
        PublishedShard {
            db_keys: (0..databases).map(|_| AtomicU64::new(0)).collect(),
            ..PublishedShard::default()
        }
    }
}

/// A sum over all shards.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub shard: ShardStats,
    pub store: StoreStats,
}

impl Totals {
    /// Sums the published copies of every shard.
    pub fn sum<'a>(shards: impl IntoIterator<Item = &'a PublishedShard>) -> Totals {
        let mut totals = Totals::default();
        for published in shards {
            totals.shard.add(&published.shard.read());
            totals.store.add(&published.store.read());
        }
        totals
    }

    /// These totals minus a `stats reset` baseline; gauges are kept as they
    /// are.
    pub fn since(&self, baseline: &Totals) -> Totals {
        let mut shard = self.shard.saturating_sub(&baseline.shard);
        shard.curr_connections = self.shard.curr_connections;
        shard.blocked_clients = self.shard.blocked_clients;
        let mut store = self.store.saturating_sub(&baseline.store);
        store.curr_items = self.store.curr_items;
        store.bytes = self.store.bytes;
        store.used_memory = self.store.used_memory;
        Totals { shard, store }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_then_read_round_trips() {
        let published = PublishedShardStats::default();
        let stats = ShardStats {
            cmd_get: 7,
            get_hits: 5,
            ..Default::default()
        };
        published.publish(&stats);
        assert_eq!(published.read(), stats);
    }

    #[test]
    fn totals_sum_shards_and_reset_keeps_gauges() {
        let shards: Vec<PublishedShard> = (0..3).map(|_| PublishedShard::default()).collect();
        for (i, shard) in shards.iter().enumerate() {
            shard.shard.publish(&ShardStats {
                cmd_get: 10 * (i as u64 + 1),
                curr_connections: 2,
                ..Default::default()
            });
            shard.store.publish(&StoreStats {
                curr_items: 4,
                total_items: 6,
                ..Default::default()
            });
        }
        let totals = Totals::sum(&shards);
        assert_eq!(totals.shard.cmd_get, 60);
        assert_eq!(totals.shard.curr_connections, 6);
        assert_eq!(totals.store.curr_items, 12);
        let since = totals.since(&totals);
        assert_eq!(since.shard.cmd_get, 0);
        assert_eq!(since.store.total_items, 0);
        assert_eq!(since.shard.curr_connections, 6);
        assert_eq!(since.store.curr_items, 12);
    }
}
