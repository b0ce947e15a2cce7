//! A live item, borrowed from the store: read its key, value and metadata,
//! change them, or remove it. Every change keeps the store's counters
//! (`bytes`, `curr_items`, `total_items`) current.

use std::fmt;

use super::collection::{Collection, Kind};
use super::raw::{bits, Header, ItemRef, SlotId, ValueChange};
use super::{expires_at_from, last_access_secs, stored_bytes, ItemMeta, Store};
use crate::clock::{ExpiresAt, Now};

/// A live item of a [`Store`], found by [`Store::lookup`] or created by
/// [`Store::insert`]. Holds the store mutably for as long as it lives.
pub struct Item<'s> {
    store: &'s mut Store,
    slot: SlotId,
}

impl fmt::Debug for Item<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Item")
            .field("key", &self.key())
            .field("kind", &self.raw().kind())
            .field("header", self.header())
            .finish()
    }
}

impl<'s> Item<'s> {
    /// Wraps an occupied slot (the store guarantees it is).
    pub(super) fn new(store: &'s mut Store, slot: SlotId) -> Item<'s> {
        Item { store, slot }
    }

    fn raw(&self) -> ItemRef<'_> {
        self.store.index.item(self.slot)
    }

    fn header(&self) -> &Header {
        self.raw().header()
    }

    fn header_mut(&mut self) -> &mut Header {
        self.store.index.item_mut(self.slot).into_header_mut()
    }

    fn has(&self, bit: u8) -> bool {
        self.header().bits & bit != 0
    }

    fn set(&mut self, bit: u8, on: bool) {
        let header = self.header_mut();
        if on {
            header.bits |= bit;
        } else {
            header.bits &= !bit;
        }
    }

    /// The key.
    pub fn key(&self) -> &[u8] {
        self.raw().key()
    }

    /// The value of a string item. Empty for a collection: check
    /// [`Item::kind`] (or use [`Item::collection`]) first, as the commands
    /// that answer `WRONGTYPE` do.
    pub fn value(&self) -> &[u8] {
        self.raw().bytes()
    }

    /// The type of the value.
    pub fn kind(&self) -> Kind {
        self.collection().map_or(Kind::String, Collection::kind)
    }

    /// Whether the value is a byte string.
    pub fn is_string(&self) -> bool {
        self.collection().is_none()
    }

    /// The value of a collection item.
    pub fn collection(&self) -> Option<&Collection> {
        self.raw().collection()
    }

    /// The value of a collection item, borrowed for as long as the item
    /// borrowed the store.
    pub fn into_collection(self) -> Option<&'s Collection> {
        self.store.index.item(self.slot).collection()
    }

    /// Changes the item's collection with `change` and returns what it
    /// returned, or `None` for a string item. This is the one place where a
    /// collection changes, so the one place that keeps the store's `bytes`
    /// current for collections (from [`Collection::heap_bytes`] before and
    /// after); a collection left empty is removed with its key. The item
    /// gets a fresh CAS, as any write.
    pub fn update_collection<R>(self, change: impl FnOnce(&mut Collection) -> R) -> Option<R> {
        self.update_collection_if(change, |_| true)
    }

    /// [`Item::update_collection`], but the item gets a fresh CAS only if
    /// `changed` says, from `change`'s result, that the collection did
    /// change: a write that changes nothing (`SREM` of an absent member)
    /// is no write for `WATCH` (which compares CAS) nor for memcached's
    /// `gets`, as Redis does not signal the key modified then.
    pub fn update_collection_if<R>(
        mut self,
        change: impl FnOnce(&mut Collection) -> R,
        changed: impl FnOnce(&R) -> bool,
    ) -> Option<R> {
        let collection = self.store.index.item_mut(self.slot).into_collection_mut()?;
        let before = collection.heap_bytes();
        let result = change(collection);
        let (after, empty) = (collection.heap_bytes(), collection.is_empty());
        let stats = &mut self.store.stats;
        stats.bytes = stats.bytes.saturating_sub(before) + after;
        // The item's footprint counts its collection's heap bytes too.
        self.store.charge(before as usize, after as usize);
        if empty {
            self.store.unlink(self.slot);
        } else if changed(&result) {
            // A change is a write: `WATCH` and memcached's `gets` see a new CAS.
            self.set_fresh_cas();
        }
        Some(result)
    }

    /// The memcached client flags.
    pub fn client_flags(&self) -> u32 {
        self.header().client_flags
    }

    /// The CAS unique.
    pub fn cas(&self) -> u64 {
        self.header().cas
    }

    /// When the item expires.
    pub fn expires_at(&self) -> ExpiresAt {
        expires_at_from(self.header().expires_at)
    }

    /// Last access, in whole seconds since the Unix epoch.
    pub fn last_access_secs(&self) -> u64 {
        u64::from(self.header().last_access)
    }

    /// Whether the item has been fetched since it was stored.
    pub fn fetched(&self) -> bool {
        self.has(bits::FETCHED)
    }

    /// Whether the item is marked stale (meta `I`).
    pub fn stale(&self) -> bool {
        self.has(bits::STALE)
    }

    /// Whether a client already received the recache token (meta `W`).
    pub fn win_token_sent(&self) -> bool {
        self.has(bits::WIN_TOKEN_SENT)
    }

    /// Whether the key was stored base64-encoded and is echoed that way.
    pub fn binary_key(&self) -> bool {
        self.has(bits::BINARY_KEY)
    }

    /// The bytes the store counts for this item (a collection's included).
    pub fn size(&self) -> u64 {
        stored_bytes(self.raw())
    }

    /// Sets the metadata of a newly stored item: `meta`, fresh access bits,
    /// last access `now`.
    pub(super) fn reset_meta(&mut self, meta: ItemMeta, now: Now) {
        let header = self.header_mut();
        header.client_flags = meta.client_flags;
        header.expires_at = meta.expires_at.millis().unwrap_or(0);
        header.cas = meta.cas;
        header.last_access = last_access_secs(now);
        // The eviction policy's bits stay: the item keeps its place.
        let policy_bits = header.bits & bits::POLICY;
        header.bits = policy_bits | if meta.binary_key { bits::BINARY_KEY } else { 0 };
    }

    /// The LFU counter (0 to 15, decayed to `now`) when an LFU policy is
    /// in force: what `OBJECT FREQ` reports.
    pub fn lfu_frequency(&self, now: Now) -> Option<u8> {
        self.store.lfu_frequency(self.slot, now)
    }

    /// Records a fetch: marks the item fetched and sets its last access
    /// (an access for the eviction policy too).
    pub fn mark_fetched(&mut self, now: Now) {
        self.store.record_access(self.slot, now);
        let header = self.header_mut();
        header.bits |= bits::FETCHED;
        header.last_access = last_access_secs(now);
    }

    /// Sets the last access without marking a fetch (an access for the
    /// eviction policy).
    pub fn set_last_access(&mut self, now: Now) {
        self.store.record_access(self.slot, now);
        self.header_mut().last_access = last_access_secs(now);
    }

    /// Sets when the item expires. Its watchers count it changed even when
    /// the deadline is the one it had (Redis signals every EXPIRE that
    /// sets one).
    pub fn set_expires_at(&mut self, expires_at: ExpiresAt) {
        self.header_mut().expires_at = expires_at.millis().unwrap_or(0);
        self.store.expiry_set(self.slot);
    }

    /// Sets the CAS unique.
    pub fn set_cas(&mut self, cas: u64) {
        self.header_mut().cas = cas;
    }

    /// Gives the item a fresh CAS unique from the store's counter and
    /// returns it.
    pub fn set_fresh_cas(&mut self) -> u64 {
        let cas = self.store.next_cas();
        self.set_cas(cas);
        cas
    }

    /// Sets the memcached client flags.
    pub fn set_client_flags(&mut self, client_flags: u32) {
        self.header_mut().client_flags = client_flags;
    }

    /// Marks the item stale, or not.
    pub fn set_stale(&mut self, stale: bool) {
        self.set(bits::STALE, stale);
    }

    /// Records whether the recache token has been handed out.
    pub fn set_win_token_sent(&mut self, sent: bool) {
        self.set(bits::WIN_TOKEN_SENT, sent);
    }

    /// Replaces the value; metadata stays.
    pub fn set_value(&mut self, value: &[u8]) {
        self.change_value(ValueChange::Replace(value));
    }

    /// Appends `data` to the value; metadata stays.
    pub fn append_value(&mut self, data: &[u8]) {
        self.change_value(ValueChange::Append(data));
    }

    /// Prepends `data` to the value; metadata stays.
    pub fn prepend_value(&mut self, data: &[u8]) {
        self.change_value(ValueChange::Prepend(data));
    }

    /// Makes the item count as newly stored, as memcached does when it
    /// replaces an item by a new copy (append, a longer incr result): access
    /// bits cleared (not fetched, not stale, no token, key not binary), last
    /// access `now`, and one more `total_items`.
    pub fn renew(&mut self, now: Now) {
        let header = self.header_mut();
        header.bits &= bits::POLICY;
        header.last_access = last_access_secs(now);
        self.store.stats.total_items += 1;
    }

    /// Removes the item from the store.
    pub fn remove(self) {
        self.store.unlink(self.slot);
    }

    /// Applies a value change and keeps `bytes` and `used_memory` current;
    /// under a memory limit, then evicts other items (never this one) until
    /// the store is within it again, if the policy allows.
    fn change_value(&mut self, change: ValueChange<'_>) {
        let before = self.size();
        let old_block = self.raw().footprint();
        self.store.index.change_value(self.slot, change);
        let after = self.size();
        let new_block = self.raw().footprint();
        let stats = &mut self.store.stats;
        stats.bytes = stats.bytes.saturating_sub(before) + after;
        self.store.charge(old_block, new_block);
        if new_block > old_block && self.store.memory.limit > 0 {
            let now = self.store.memory.now;
            self.store.make_room(0, Some(self.slot), now);
        }
    }
}
