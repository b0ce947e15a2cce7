//! The per-shard keyspace: a hash index over items in single heap
//! allocations. A plain data structure owned by one shard: no I/O, no
//! runtime, no locks.
//!
//! Layout (all of it, and all `unsafe` code, in `raw/`): each item is one
//! allocation — a 32-byte header (CAS, expiry, client flags, last access,
//! lengths, flag bits, value kind), then the key, then the value. The index
//! is a table of 64-byte buckets, each one cache line of eight `u64` slots
//! packing a 16-bit hash tag with the item's 48-bit address; a lookup
//! hashes the key once, reads one bucket, and dereferences only the items
//! whose tag matches. So a hit costs two dependent cache misses (bucket,
//! then item), as in memcached; the slab-entry layout before cost up to
//! four. Multi-key reads can overlap even those: see [`Store::prefetch`].
//!
//! What one item costs, on a 64-bit target:
//! - one allocation of `32 + key + value` bytes (48 + … for a key of 64 KiB
//!   or more or a value of 4 GiB or more), plus the allocator's rounding
//!   and chunk header (glibc: 8 bytes, rounded up to 16);
//! - one 8-byte index slot, in a table kept between 3/8 and 3/4 full: 10.7
//!   to 21.3 bytes of index per item.
//!
//! The store reports `bytes` as [`ITEM_OVERHEAD`] (40: header and slot)
//! plus key and value lengths per item (see [`item_bytes`]): memcached's
//! figure, a function of the lengths. What it holds against its memory
//! limit is `used_memory` ([`Store::used_memory`]): the item blocks' real
//! sizes as mimalloc rounds them, the index table's whole capacity and the
//! eviction queues — see `evict`, which also picks victims when a write
//! needs room (policies: [`EvictionPolicy`]).
//!
//! Typed values (hashes, lists, sets: [`collection`]) are items too: the
//! payload is the address of the item's own boxed [`Collection`], so
//! lookups, expiry, flushes and removal treat every type alike. A
//! collection's [`Collection::heap_bytes`] is added to its item's count;
//! [`Item::update_collection`] is the only way to change one, and keeps
//! `bytes` current. Commands read several collections at once through
//! [`Store::peek`].
//!
//! Expiry is lazy — an access that finds an expired item removes it and
//! counts it (`reclaimed`, and `expired_unfetched` if it was never fetched)
//! — and active: [`Store::expire_cycle`] sweeps a few buckets per call
//! (`expire`).
//! A delayed flush (`flush_all <delay>`) is kept as a deadline: the first
//! access at or after it (or [`Store::run_due_flush`], which the shard may
//! call once per turn) empties the store, so exactly the items that exist
//! when the deadline passes disappear — the same as clearing at that
//! instant, without a timer. memcached instead compares each item's last
//! access time with the flush time when it meets the item.

#![deny(unsafe_code)]

pub mod collection;
mod evict;
mod expire;
mod item;
mod policy;
mod raw;
mod s3fifo;
mod watch;

use crate::clock::{ExpiresAt, Now};
use crate::stats::StoreStats;

pub use collection::{Collection, Hash, Kind, Limits, List, Set, Typed, ZSet};
pub use expire::CYCLE_INTERVAL_MS as EXPIRE_CYCLE_INTERVAL_MS;
pub use item::Item;
pub use policy::EvictionPolicy;
use raw::{bits, Index, ItemBox, ItemRef, SlotId, ValueChange};
use watch::Watches;

/// Bytes the store counts for one item besides its key and value: the
/// 32-byte item header and the 8-byte index slot.
pub const ITEM_OVERHEAD: u64 = (raw::HEADER_BYTES + SLOT_BYTES) as u64;

/// Bytes of one index slot.
const SLOT_BYTES: usize = 8;

/// What [`Store::place`] stores.
enum Payload<'v> {
    Bytes(&'v [u8]),
    Collection(Box<Collection>),
}

/// Why a lookup found no live item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Absent {
    Miss,
    Expired,
}

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

/// A value, borrowed from the store, by type.
#[derive(Debug, Clone, Copy)]
pub enum Value<'s> {
    /// A string.
    Bytes(&'s [u8]),
    Hash(&'s Hash),
    List(&'s List),
    Set(&'s Set),
    ZSet(&'s ZSet),
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
    index: Index,
    last_cas: u64,
    flush_deadline: Option<Now>,
    stats: StoreStats,
    memory: evict::Memory,
    /// The keys clients `WATCH` here.
    watches: Watches,
}

/// A key's hash in one [`Store`], computed once by [`Store::hash_key`] or
/// [`Store::prefetch`] and reused by [`Store::lookup_hashed`].
///
/// Valid only for the store that computed it and its siblings
/// ([`Store::sibling`]; other stores have their own random seed), for as
/// long as that store lives; flushes and growth keep it valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyHash(u64);

/// The bytes [`StoreStats::bytes`] counts for an item: [`ITEM_OVERHEAD`],
/// the key and the value, and 16 bytes more for the rare item whose key is
/// 64 KiB or longer or whose value is 4 GiB or longer (its lengths do not
/// fit the header).
pub fn item_bytes(key_len: usize, value_len: usize) -> u64 {
    let extension = if raw::is_long(key_len, value_len) {
        raw::EXTENSION_BYTES as u64
    } else {
        0
    };
    ITEM_OVERHEAD + extension + key_len as u64 + value_len as u64
}

/// The bytes [`StoreStats::bytes`] counts for a stored item: its
/// [`item_bytes`] (a collection's payload is an 8-byte address), plus its
/// collection's [`Collection::heap_bytes`].
fn stored_bytes(item: ItemRef<'_>) -> u64 {
    let heap = item.collection().map_or(0, Collection::heap_bytes);
    item_bytes(item.key().len(), item.value().len()) + heap
}

impl Store {
    /// An empty store (no memory limit, the default policy).
    pub fn new() -> Store {
        let mut store = Store::default();
        store.refresh_used();
        store
    }

    /// An empty store that hashes keys as this one does, so that a
    /// [`KeyHash`] of either is valid in both (the databases of one shard,
    /// which `SWAPDB` swaps).
    pub fn sibling(&self) -> Store {
        let mut sibling = Store {
            index: self.index.empty_sibling(),
            ..Store::default()
        };
        sibling.set_memory_limit(self.memory.limit, self.memory.policy);
        sibling.refresh_used();
        sibling
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
            used_memory: self.stats.used_memory,
            watched_keys: self.stats.watched_keys,
            ..StoreStats::default()
        };
    }

    /// Items stored now (expired ones not yet met included).
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether the store holds no item.
    pub fn is_empty(&self) -> bool {
        self.index.len() == 0
    }

    /// A new CAS unique: increasing, so unique per key over time.
    pub fn next_cas(&mut self) -> u64 {
        self.last_cas = self.last_cas.wrapping_add(1).max(1);
        self.last_cas
    }

    /// The hash of `key` in this store.
    #[inline]
    pub fn hash_key(&self, key: &[u8]) -> KeyHash {
        KeyHash(self.index.hash(key))
    }

    /// Hashes `key` and asks the CPU to start loading the index line that a
    /// lookup of it reads first; returns the hash for
    /// [`Store::lookup_hashed`].
    ///
    /// For a multi-key read, whose lookups would otherwise each wait for
    /// their cache misses in turn: first `prefetch` every key, then
    /// (optionally) [`Store::prefetch_item`] every hash, then look each key
    /// up with its hash. The loads of all keys then overlap:
    ///
    /// ```
    /// # use corecache::{clock::Now, store::{ItemMeta, Store}};
    /// # let mut store = Store::new();
    /// # let now = Now(0);
    /// # let keys: [&[u8]; 2] = [b"a", b"b"];
    /// let hashes: Vec<_> = keys.iter().map(|key| store.prefetch(key)).collect();
    /// for &hash in &hashes {
    ///     store.prefetch_item(hash);
    /// }
    /// for (key, &hash) in keys.iter().zip(&hashes) {
    ///     if let Some(item) = store.get_hashed(key, hash, now) {
    ///         // … reply with item.value()
    ///     }
    /// }
    /// ```
    ///
    /// Prefetching costs a few nanoseconds per key and gains nothing when
    /// the lines are cached already; between requests of a busy server
    /// they usually are not. Prefetch a batch that fits in the CPU's
    /// outstanding misses (about ten to twenty lines), not thousands.
    #[inline]
    pub fn prefetch(&self, key: &[u8]) -> KeyHash {
        let hash = self.hash_key(key);
        self.index.prefetch_bucket(hash.0);
        hash
    }

    /// Asks the CPU to start loading the first two lines (header, key and
    /// the start of the value) of the items that a lookup of `hash` will
    /// compare. Reads the index line, so call it after [`Store::prefetch`]
    /// has had time to bring that line in (a pass over the other keys).
    #[inline]
    pub fn prefetch_item(&self, hash: KeyHash) {
        self.index.prefetch_items(hash.0);
    }

    /// Finds the live item under `key`. An expired item found on the way is
    /// removed and counted; a delayed flush that has come due is applied
    /// first.
    pub fn lookup(&mut self, key: &[u8], now: Now) -> Lookup<'_> {
        let hash = self.hash_key(key);
        self.lookup_hashed(key, hash, now)
    }

    /// [`Store::lookup`] with the key's hash already computed (by
    /// [`Store::hash_key`] or [`Store::prefetch`] of this store).
    #[inline]
    pub fn lookup_hashed(&mut self, key: &[u8], hash: KeyHash, now: Now) -> Lookup<'_> {
        match self.find_live(key, hash, now) {
            Ok(slot) => Lookup::Hit(Item::new(self, slot)),
            Err(Absent::Miss) => Lookup::Miss,
            Err(Absent::Expired) => Lookup::Expired,
        }
    }

    /// The slot of the live item under `key`, or why there is none (an
    /// expired item found is removed and counted; a due flush runs first).
    fn find_live(&mut self, key: &[u8], hash: KeyHash, now: Now) -> Result<SlotId, Absent> {
        debug_assert_eq!(hash, self.hash_key(key), "a hash of another key or store");
        self.run_due_flush(now);
        let slot = self.index.find(hash.0, key).ok_or(Absent::Miss)?;
        if self.expires_at(slot).has_passed(now) {
            self.count_reclaimed(slot);
            self.unlink(slot);
            return Err(Absent::Expired);
        }
        Ok(slot)
    }

    /// The value under `key`, read without changing anything: no access
    /// recorded, and an expired item (or one a due flush would remove) is
    /// absent but stays until the next [`Store::lookup`] meets it. For
    /// commands that read several keys at once (`SINTER`…), which cannot
    /// hold several [`Item`]s.
    pub fn peek(&self, key: &[u8], now: Now) -> Option<Value<'_>> {
        if self.flush_deadline.is_some_and(|deadline| now >= deadline) {
            return None;
        }
        let slot = self.index.find(self.index.hash(key), key)?;
        if self.expires_at(slot).has_passed(now) {
            return None;
        }
        let item = self.index.item(slot);
        Some(match item.collection() {
            None => Value::Bytes(item.value()),
            Some(Collection::Hash(hash)) => Value::Hash(hash),
            Some(Collection::List(list)) => Value::List(list),
            Some(Collection::Set(set)) => Value::Set(set),
            Some(Collection::ZSet(zset)) => Value::ZSet(zset),
        })
    }

    /// The live item under `key`, if any (see [`Store::lookup`]).
    pub fn get(&mut self, key: &[u8], now: Now) -> Option<Item<'_>> {
        self.lookup(key, now).hit()
    }

    /// [`Store::get`] for a command that reads the key, counted as a
    /// keyspace hit or miss (Redis's `lookupKeyRead`; lookups on behalf of
    /// writes are not counted).
    pub fn read(&mut self, key: &[u8], now: Now) -> Option<Item<'_>> {
        let hash = self.hash_key(key);
        match self.find_live(key, hash, now) {
            Ok(slot) => {
                self.stats.keyspace_hits += 1;
                Some(Item::new(self, slot))
            }
            Err(_) => {
                self.stats.keyspace_misses += 1;
                None
            }
        }
    }

    /// The live item under `key`, if any (see [`Store::lookup_hashed`]).
    pub fn get_hashed(&mut self, key: &[u8], hash: KeyHash, now: Now) -> Option<Item<'_>> {
        self.lookup_hashed(key, hash, now).hit()
    }

    /// Stores `value` under `key` as a new item (fresh access bits, last
    /// access `now`), replacing any item already there, and returns it.
    ///
    /// Under a memory limit, first evicts what the policy allows until the
    /// item fits, but never refuses: whether a write may go ahead at all is
    /// the front end's check, once per command, before it writes
    /// ([`Store::make_room_for_write`], as Redis checks `denyoom` commands),
    /// so a command is never half applied. A write under `noeviction` (or
    /// a volatile policy with nothing to evict) can therefore take the
    /// store past its limit by its own size. An overwrite keeps the item's
    /// place in the eviction policy.
    pub fn insert(
        &mut self,
        key: &[u8],
        value: &[u8],
        meta: ItemMeta,
        now: Now,
    ) -> Result<Item<'_>, InsertError> {
        self.run_due_flush(now);
        let hash = self.index.hash(key);
        let new_bytes = Store::new_item_bytes(key.len(), value.len());
        let mut probe = self.index.probe(hash, key);
        if self.memory.limit > 0 {
            let (need, keep) = match &probe {
                Ok(slot) => {
                    let old = self.index.item(*slot).footprint();
                    (new_bytes.saturating_sub(old), Some(*slot))
                }
                Err(_) => (new_bytes + self.index.growth_bytes(), None),
            };
            let evictions = self.stats.evictions + self.stats.reclaimed;
            self.make_room(need, keep, now);
            if self.stats.evictions + self.stats.reclaimed != evictions {
                // Removals may have freed an earlier slot on the path.
                probe = self.index.probe(hash, key);
            }
        }
        Ok(self.place(key, hash, probe, Payload::Bytes(value), meta, now))
    }

    /// Stores `collection` under `key` as a new item (as [`Store::insert`]
    /// stores a string), replacing any item already there, and returns it.
    /// The caller keeps it non-empty: an empty collection is no value
    /// (see [`Item::update_collection`]).
    pub fn insert_collection(
        &mut self,
        key: &[u8],
        collection: Collection,
        meta: ItemMeta,
        now: Now,
    ) -> Result<Item<'_>, InsertError> {
        self.run_due_flush(now);
        let hash = self.index.hash(key);
        let probe = self.index.probe(hash, key);
        let payload = Payload::Collection(Box::new(collection));
        Ok(self.place(key, hash, probe, payload, meta, now))
    }

    /// Stores `payload` under `key` where `probe` found its place: over the
    /// item there (keeping its place in the eviction policy; an expired one
    /// is counted) or in a vacancy (admitted to the policy), with fresh
    /// metadata; the counters and `used_memory` follow.
    fn place(
        &mut self,
        key: &[u8],
        hash: u64,
        probe: Result<SlotId, raw::Vacancy>,
        payload: Payload<'_>,
        meta: ItemMeta,
        now: Now,
    ) -> Item<'_> {
        let slot = match probe {
            Ok(slot) => {
                if self.expires_at(slot).has_passed(now) {
                    self.count_reclaimed(slot);
                    // A new item where only an expired one was.
                    if !self.watches.is_empty() {
                        self.watches.mark_changed(key);
                    }
                }
                let old_bytes = stored_bytes(self.index.item(slot));
                let old_block = self.index.item(slot).footprint();
                match payload {
                    Payload::Bytes(value) => {
                        self.index.change_value(slot, ValueChange::Replace(value))
                    }
                    Payload::Collection(collection) => self.index.set_collection(slot, collection),
                }
                self.stats.bytes = self.stats.bytes.saturating_sub(old_bytes);
                let new_block = self.index.item(slot).footprint();
                self.charge(old_block, new_block);
                self.record_access(slot, now);
                slot
            }
            Err(vacancy) => {
                if !self.watches.is_empty() {
                    self.watches.mark_changed(key);
                }
                let item = match payload {
                    Payload::Bytes(value) => ItemBox::new(key, value),
                    Payload::Collection(collection) => ItemBox::new_collection(key, collection),
                };
                let block = item.as_ref().footprint();
                let slot = self.index.insert_vacant(vacancy, item);
                self.stats.curr_items += 1;
                self.charge(0, block);
                self.admit(slot, hash);
                slot
            }
        };
        // The policy's queues may have grown.
        self.refresh_used();
        self.stats.bytes += stored_bytes(self.index.item(slot));
        self.stats.total_items += 1;
        let mut item = Item::new(self, slot);
        item.reset_meta(meta, now);
        item
    }

    /// The live item under `key`, or, if there is none, a new item holding
    /// `make()`'s collection (an expired item there is counted and
    /// replaced). The item found may hold any type: the caller checks.
    /// The caller fills a new collection through
    /// [`Item::update_collection`], which removes it again if it stays
    /// empty.
    pub fn get_or_insert_collection(
        &mut self,
        key: &[u8],
        now: Now,
        make: impl FnOnce() -> Collection,
    ) -> Result<Item<'_>, InsertError> {
        self.run_due_flush(now);
        let hash = self.index.hash(key);
        if let Ok(slot) = self.index.probe(hash, key) {
            if !self.expires_at(slot).has_passed(now) {
                return Ok(Item::new(self, slot));
            }
        }
        let meta = ItemMeta {
            cas: self.next_cas(),
            ..ItemMeta::default()
        };
        self.insert_collection(key, make(), meta, now)
    }

    /// One call of a SCAN over this store: visits the keys of live items
    /// under at least `count` home buckets starting at `cursor` (0 starts a
    /// scan), and returns the cursor to continue from, 0 when done. A key
    /// present for the whole scan is visited at least once, even if the
    /// index grows in between; a key may be visited twice when it does.
    /// `visit` gets each key with the type of its value.
    pub fn scan(
        &mut self,
        mut cursor: u64,
        count: usize,
        now: Now,
        mut visit: impl FnMut(&[u8], Kind),
    ) -> u64 {
        self.run_due_flush(now);
        for _ in 0..count.max(1) {
            cursor = self.index.scan_step(cursor, |item| {
                let expires_at = item.header().expires_at;
                if expires_at == 0 || expires_at > now.millis() {
                    let kind = item.collection().map_or(Kind::String, Collection::kind);
                    visit(item.key(), kind);
                }
            });
            if cursor == 0 {
                break;
            }
        }
        cursor
    }

    /// Removes the item under `key`, live or expired, without counting it as
    /// reclaimed. Returns whether there was one.
    pub fn remove(&mut self, key: &[u8]) -> bool {
        let hash = self.index.hash(key);
        match self.index.find(hash, key) {
            Some(slot) => {
                self.unlink(slot);
                true
            }
            None => false,
        }
    }

    /// Removes every item now and cancels a pending delayed flush.
    pub fn flush_all(&mut self) {
        self.index.clear();
        self.memory.fifo.clear();
        self.flush_deadline = None;
        self.stats.curr_items = 0;
        self.stats.bytes = 0;
        let items = self.memory.items as usize;
        self.charge(items, 0);
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
    #[inline]
    pub fn run_due_flush(&mut self, now: Now) -> bool {
        self.memory.now = now;
        match self.flush_deadline {
            Some(deadline) if now >= deadline => {
                self.flush_all();
                true
            }
            _ => false,
        }
    }

    /// When the item in `slot` expires.
    fn expires_at(&self, slot: SlotId) -> ExpiresAt {
        expires_at_from(self.index.item(slot).header().expires_at)
    }

    /// Counts the expired item in `slot` as reclaimed.
    fn count_reclaimed(&mut self, slot: SlotId) {
        self.stats.reclaimed += 1;
        if self.index.item(slot).header().bits & bits::FETCHED == 0 {
            self.stats.expired_unfetched += 1;
        }
    }

    /// Removes the item in `slot` from the index and frees it.
    fn unlink(&mut self, slot: SlotId) {
        self.forget(slot);
        let item = self.index.remove(slot);
        let size = stored_bytes(item.as_ref());
        let block = item.as_ref().footprint();
        self.stats.curr_items = self.stats.curr_items.saturating_sub(1);
        self.stats.bytes = self.stats.bytes.saturating_sub(size);
        self.charge(block, 0);
    }
}

/// Returns the calling thread's freed item memory to the system (the
/// shard calls it every few hundred milliseconds; it walks the thread's
/// allocator pages, not the items).
pub fn release_freed_memory() {
    raw::collect_free_pages();
}

/// `now` as the item's last-access field: whole seconds, saturating.
fn last_access_secs(now: Now) -> u32 {
    u32::try_from(now.unix_secs()).unwrap_or(u32::MAX)
}

/// The header's expiry field as an [`ExpiresAt`] (0 = never).
fn expires_at_from(millis: u64) -> ExpiresAt {
    match millis {
        0 => ExpiresAt::NEVER,
        at => ExpiresAt::at_millis(at),
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_collections;
