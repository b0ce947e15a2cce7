//! A live item, borrowed from the store: read its key, value and metadata,
//! change them, or remove it. Every change keeps the store's counters
//! (`bytes`, `curr_items`, `total_items`) current.

use std::fmt;
use std::hash::BuildHasher;

use super::entry::{bits, Entry};
use super::{item_bytes, last_access_secs, Store};
use crate::clock::{ExpiresAt, Now};

/// A live item of a [`Store`], found by [`Store::lookup`] or created by
/// [`Store::insert`]. Holds the store mutably for as long as it lives.
pub struct Item<'s> {
    store: &'s mut Store,
    slot: usize,
}

impl fmt::Debug for Item<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Item")
            .field("key", &self.key())
            .field("entry", self.entry())
            .finish()
    }
}

impl<'s> Item<'s> {
    /// Wraps an occupied slot (the store guarantees it is).
    pub(super) fn new(store: &'s mut Store, slot: usize) -> Item<'s> {
        Item { store, slot }
    }

    fn entry(&self) -> &Entry {
        &self.store.entries[self.slot]
    }

    fn entry_mut(&mut self) -> &mut Entry {
        &mut self.store.entries[self.slot]
    }

    /// The key.
    pub fn key(&self) -> &[u8] {
        self.entry().key()
    }

    /// The value, as bytes. (Typed values will add a typed accessor; a byte
    /// string is the only kind today.)
    pub fn value(&self) -> &[u8] {
        self.entry().value()
    }

    /// The memcached client flags.
    pub fn client_flags(&self) -> u32 {
        self.entry().client_flags
    }

    /// The CAS unique.
    pub fn cas(&self) -> u64 {
        self.entry().cas
    }

    /// When the item expires.
    pub fn expires_at(&self) -> ExpiresAt {
        self.entry().expires_at
    }

    /// Last access, in whole seconds since the Unix epoch.
    pub fn last_access_secs(&self) -> u64 {
        u64::from(self.entry().last_access)
    }

    /// Whether the item has been fetched since it was stored.
    pub fn fetched(&self) -> bool {
        self.entry().has(bits::FETCHED)
    }

    /// Whether the item is marked stale (meta `I`).
    pub fn stale(&self) -> bool {
        self.entry().has(bits::STALE)
    }

    /// Whether a client already received the recache token (meta `W`).
    pub fn win_token_sent(&self) -> bool {
        self.entry().has(bits::WIN_TOKEN_SENT)
    }

    /// Whether the key was stored base64-encoded and is echoed that way.
    pub fn binary_key(&self) -> bool {
        self.entry().has(bits::BINARY_KEY)
    }

    /// The bytes the store counts for this item.
    pub fn size(&self) -> u64 {
        item_bytes(self.key().len(), self.value().len())
    }

    /// Records a fetch: marks the item fetched and sets its last access.
    pub fn mark_fetched(&mut self, now: Now) {
        let entry = self.entry_mut();
        entry.set(bits::FETCHED, true);
        entry.last_access = last_access_secs(now);
    }

    /// Sets the last access without marking a fetch.
    pub fn set_last_access(&mut self, now: Now) {
        self.entry_mut().last_access = last_access_secs(now);
    }

    /// Sets when the item expires.
    pub fn set_expires_at(&mut self, expires_at: ExpiresAt) {
        self.entry_mut().expires_at = expires_at;
    }

    /// Sets the CAS unique.
    pub fn set_cas(&mut self, cas: u64) {
        self.entry_mut().cas = cas;
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
        self.entry_mut().client_flags = client_flags;
    }

    /// Marks the item stale, or not.
    pub fn set_stale(&mut self, stale: bool) {
        self.entry_mut().set(bits::STALE, stale);
    }

    /// Records whether the recache token has been handed out.
    pub fn set_win_token_sent(&mut self, sent: bool) {
        self.entry_mut().set(bits::WIN_TOKEN_SENT, sent);
    }

    /// Replaces the value; metadata stays.
    pub fn set_value(&mut self, value: &[u8]) {
        self.resize(|entry| entry.set_value(value));
    }

    /// Appends `data` to the value; metadata stays.
    pub fn append_value(&mut self, data: &[u8]) {
        self.resize(|entry| entry.append_value(data));
    }

    /// Prepends `data` to the value; metadata stays.
    pub fn prepend_value(&mut self, data: &[u8]) {
        self.resize(|entry| entry.prepend_value(data));
    }

    /// Makes the item count as newly stored, as memcached does when it
    /// replaces an item by a new copy (append, a longer incr result): access
    /// bits cleared (not fetched, not stale, no token, key not binary), last
    /// access `now`, and one more `total_items`.
    pub fn renew(&mut self, now: Now) {
        let entry = self.entry_mut();
        entry.bits = 0;
        entry.last_access = last_access_secs(now);
        self.store.stats.total_items += 1;
    }

    /// Removes the item from the store.
    pub fn remove(self) {
        let hash = self.store.hasher.hash_one(self.key());
        self.store.unlink(hash, self.slot);
    }

    /// Applies a value change and keeps `bytes` current.
    fn resize(&mut self, change: impl FnOnce(&mut Entry)) {
        let before = self.size();
        change(self.entry_mut());
        let after = self.size();
        let stats = &mut self.store.stats;
        stats.bytes = stats.bytes.saturating_sub(before) + after;
    }
}
