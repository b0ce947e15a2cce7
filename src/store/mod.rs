//! The per-shard keyspace: a hash index over slab-allocated entries. A plain
//! data structure owned by one shard: no I/O, no runtime, no locks.
//!
//! Layout: a [`hashbrown::HashTable<u32>`] maps a key's hash to a slab slot;
//! the key itself is stored once, inside the entry, and the index compares
//! keys by looking the entry up. An entry keeps its key and value in one
//! heap allocation and its metadata in fixed words (see `entry.rs`).
//!
//! What one item costs, on a 64-bit target:
//! - 48 bytes of entry in the slab (value and key pointer+length 16, CAS 8,
//!   expiry 8, client flags 4, last access 4, key length 4, flag bits 1,
//!   padding; the slab's vacant/occupied tag hides in the pointer's niche),
//! - 4 bytes of index slot plus 1 control byte,
//! - one allocation of exactly `key + value` bytes (plus the allocator's own
//!   rounding and header, typically 8–16 bytes).
//!
//! The store reports `bytes` as [`ITEM_OVERHEAD`] (53) plus key and value
//! lengths per item: the memory it asked for, not counting the index's
//! spare capacity, the slab's free slots or the allocator's rounding.
//!
//! Expiry is lazy: an access that finds an expired item removes it and
//! counts it (`reclaimed`, and `expired_unfetched` if it was never fetched).
//! A delayed flush (`flush_all <delay>`) is kept as a deadline: the first
//! access at or after it (or [`Store::run_due_flush`], which the shard may
//! call once per turn) empties the store, so exactly the items that exist
//! when the deadline passes disappear — the same as clearing at that
//! instant, without a timer. memcached instead compares each item's last
//! access time with the flush time when it meets the item.

mod entry;
mod item;

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};
use slab::Slab;

use crate::clock::{ExpiresAt, Now};
use crate::stats::StoreStats;

use entry::{bits, Entry};
pub use item::Item;

/// Bytes the store counts for one item besides its key and value: the slab
/// entry and the index slot with its control byte.
pub const ITEM_OVERHEAD: u64 =
    (std::mem::size_of::<Entry>() + std::mem::size_of::<u32>() + 1) as u64;

/// What a lookup found.
#[derive(Debug)]
pub enum Lookup<'s> {
    /// A live item.
    Hit(Item<'s>),
    /// No item under that key.
    Miss,
    /// An item that had expired; it has just been removed and counted.
    Expired,
}

impl<'s> Lookup<'s> {
    /// The item, if the lookup found a live one.
    pub fn hit(self) -> Option<Item<'s>> {
        match self {
            Lookup::Hit(item) => Some(item),
            Lookup::Miss | Lookup::Expired => None,
        }
    }
}

/// Metadata of an item being stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ItemMeta {
    /// memcached client flags, stored opaquely.
    pub client_flags: u32,
    /// When the item expires.
    pub expires_at: ExpiresAt,
    /// The CAS unique (from [`Store::next_cas`], or a client's explicit one).
    pub cas: u64,
    /// The key came base64-encoded (meta `b`) and is echoed back that way.
    pub binary_key: bool,
}

/// Why an item could not be stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InsertError {
    /// The shard holds as many items as its 32-bit index can address.
    #[error("the shard's index is full")]
    Full,
    /// A key longer than 4 GiB.
    #[error("key too long to store")]
    KeyTooLong,
}

/// One shard's keyspace.
#[derive(Debug, Default)]
pub struct Store {
    index: HashTable<u32>,
    entries: Slab<Entry>,
    hasher: DefaultHashBuilder,
    last_cas: u64,
    flush_deadline: Option<Now>,
    stats: StoreStats,
}

/// The bytes [`StoreStats::bytes`] counts for an item.
pub fn item_bytes(key_len: usize, value_len: usize) -> u64 {
    ITEM_OVERHEAD + key_len as u64 + value_len as u64
}

impl Store {
    /// An empty store.
    pub fn new() -> Store {
        Store::default()
    }

    /// The store's counters, kept current.
    pub fn stats(&self) -> &StoreStats {
        &self.stats
    }

    /// Zeroes the totals for `stats reset`, keeping the gauges (`curr_items`,
    /// `bytes`).
    pub fn reset_stats(&mut self) {
        self.stats = StoreStats {
            curr_items: self.stats.curr_items,
            bytes: self.stats.bytes,
            ..StoreStats::default()
        };
    }

    /// Items stored now (expired ones not yet met included).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the store holds no item.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// A new CAS unique: increasing, so unique per key over time.
    pub fn next_cas(&mut self) -> u64 {
        self.last_cas = self.last_cas.wrapping_add(1).max(1);
        self.last_cas
    }

    /// Finds the live item under `key`. An expired item found on the way is
    /// removed and counted; a delayed flush that has come due is applied
    /// first.
    pub fn lookup(&mut self, key: &[u8], now: Now) -> Lookup<'_> {
        self.run_due_flush(now);
        let hash = self.hasher.hash_one(key);
        let Some(slot) = self.find(hash, key) else {
            return Lookup::Miss;
        };
        if self.entries[slot].expires_at.has_passed(now) {
            self.reclaim(hash, slot);
            return Lookup::Expired;
        }
        Lookup::Hit(Item::new(self, slot))
    }

    /// The live item under `key`, if any (see [`Store::lookup`]).
    pub fn get(&mut self, key: &[u8], now: Now) -> Option<Item<'_>> {
        self.lookup(key, now).hit()
    }

    /// Stores `value` under `key` as a new item (fresh access bits, last
    /// access `now`), replacing any item already there, and returns it.
    pub fn insert(
        &mut self,
        key: &[u8],
        value: &[u8],
        meta: ItemMeta,
        now: Now,
    ) -> Result<Item<'_>, InsertError> {
        self.run_due_flush(now);
        let key_len = u32::try_from(key.len()).map_err(|_| InsertError::KeyTooLong)?;
        let hash = self.hasher.hash_one(key);
        let slot = match self.find(hash, key) {
            Some(slot) => {
                if self.entries[slot].expires_at.has_passed(now) {
                    self.count_reclaimed(slot);
                }
                let entry = &mut self.entries[slot];
                let old_bytes = item_bytes(key.len(), entry.value().len());
                entry.set_value(value);
                self.stats.bytes = self.stats.bytes.saturating_sub(old_bytes);
                slot
            }
            None => {
                let slot = self.entries.vacant_key();
                let slot32 = u32::try_from(slot).map_err(|_| InsertError::Full)?;
                self.entries.insert(Entry::new(key, value, key_len));
                let Store {
                    index,
                    entries,
                    hasher,
                    ..
                } = self;
                index.insert_unique(hash, slot32, |&s| {
                    entries
                        .get(s as usize)
                        .map_or(0, |entry| hasher.hash_one(entry.key()))
                });
                self.stats.curr_items += 1;
                slot
            }
        };
        let entry = &mut self.entries[slot];
        entry.client_flags = meta.client_flags;
        entry.expires_at = meta.expires_at;
        entry.cas = meta.cas;
        entry.last_access = last_access_secs(now);
        entry.bits = if meta.binary_key { bits::BINARY_KEY } else { 0 };
        self.stats.bytes += item_bytes(key.len(), value.len());
        self.stats.total_items += 1;
        Ok(Item::new(self, slot))
    }

    /// Removes the item under `key`, live or expired, without counting it as
    /// reclaimed. Returns whether there was one.
    pub fn remove(&mut self, key: &[u8]) -> bool {
        let hash = self.hasher.hash_one(key);
        match self.find(hash, key) {
            Some(slot) => {
                self.unlink(hash, slot);
                true
            }
            None => false,
        }
    }

    /// Removes every item now and cancels a pending delayed flush.
    pub fn flush_all(&mut self) {
        self.index = HashTable::new();
        self.entries = Slab::new();
        self.flush_deadline = None;
        self.stats.curr_items = 0;
        self.stats.bytes = 0;
    }

    /// Arranges for every item that exists at `deadline` to disappear then,
    /// replacing an earlier pending deadline.
    pub fn flush_at(&mut self, deadline: Now) {
        self.flush_deadline = Some(deadline);
    }

    /// The pending delayed flush, if any.
    pub fn pending_flush(&self) -> Option<Now> {
        self.flush_deadline
    }

    /// Applies a delayed flush whose deadline has come. Returns whether it
    /// did.
    pub fn run_due_flush(&mut self, now: Now) -> bool {
        match self.flush_deadline {
            Some(deadline) if now >= deadline => {
                self.flush_all();
                true
            }
            _ => false,
        }
    }

    /// The slot holding `key`.
    fn find(&self, hash: u64, key: &[u8]) -> Option<usize> {
        let entries = &self.entries;
        self.index
            .find(hash, |&slot| {
                entries
                    .get(slot as usize)
                    .is_some_and(|entry| entry.key() == key)
            })
            .map(|&slot| slot as usize)
    }

    /// Counts the expired item in `slot` as reclaimed.
    fn count_reclaimed(&mut self, slot: usize) {
        self.stats.reclaimed += 1;
        if !self.entries[slot].has(bits::FETCHED) {
            self.stats.expired_unfetched += 1;
        }
    }

    /// Removes the expired item in `slot` and counts it.
    fn reclaim(&mut self, hash: u64, slot: usize) {
        self.count_reclaimed(slot);
        self.unlink(hash, slot);
    }

    /// Removes the item in `slot` from the index and the slab.
    fn unlink(&mut self, hash: u64, slot: usize) {
        if let Ok(found) = self.index.find_entry(hash, |&s| s as usize == slot) {
            found.remove();
        }
        if let Some(entry) = self.entries.try_remove(slot) {
            self.stats.curr_items = self.stats.curr_items.saturating_sub(1);
            let size = item_bytes(entry.key().len(), entry.value().len());
            self.stats.bytes = self.stats.bytes.saturating_sub(size);
        }
    }
}

/// `now` as the entry's last-access field: whole seconds, saturating.
fn last_access_secs(now: Now) -> u32 {
    u32::try_from(now.unix_secs()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests;
