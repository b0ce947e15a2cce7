//! `WATCH`'s record of the keys clients watch in one store, and whether
//! each changed since.
//!
//! A watcher remembers what the key held when it started watching: the
//! item's CAS and expiry, or that there was none. Every write of an item
//! gives it a fresh CAS (the RESP commands that change an item in place
//! renew it, as memcached's do), and `EXPIRE`-like changes move its
//! expiry; a write that changes nothing where Redis signals no change
//! (`SREM` of an absent member, `ZADD` of a score a member has…, see
//! `Item::update_collection_if`) keeps the CAS, so it aborts no `EXEC`.
//! So at `EXEC` a different CAS or expiry, or a vanished item
//! (deleted, expired, evicted, flushed), means the key changed. What a
//! snapshot cannot see is a key created and deleted again while it was
//! watched as absent: creating an item under a watched key therefore marks
//! its watchers changed at once ([`Store::place`] calls
//! [`Watches::mark_changed`]). Nor can it see an expiry set to the
//! deadline the key had, which Redis counts as a change: setting an
//! expiry marks them too. Nothing is looked up on a write unless some key
//! of the store is watched.

use std::collections::HashMap;

use super::raw::SlotId;
use super::Store;
use crate::clock::Now;

/// What a watched key held when its watcher started: `(cas, expires_at)`
/// of a live item, or `None`.
type Snapshot = Option<(u64, u64)>;

/// One client's watch of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Watcher {
    client: u64,
    snapshot: Snapshot,
    /// The key was created while watched as absent.
    changed: bool,
}

/// The watched keys of one store.
#[derive(Debug, Default)]
pub struct Watches {
    keys: HashMap<Vec<u8>, Vec<Watcher>>,
}

impl Watches {
    /// Whether no key is watched.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Marks the watchers of `key` changed: an item was created under it,
    /// or its expiry was set (perhaps to what it was).
    pub fn mark_changed(&mut self, key: &[u8]) {
        if let Some(watchers) = self.keys.get_mut(key) {
            watchers
                .iter_mut()
                .for_each(|watcher| watcher.changed = true);
        }
    }

    /// Marks every watcher changed (`SWAPDB` replaced the whole keyspace
    /// under them).
    pub fn all_changed(&mut self) {
        for watchers in self.keys.values_mut() {
            watchers
                .iter_mut()
                .for_each(|watcher| watcher.changed = true);
        }
    }

    /// How many keys are watched (by anyone).
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Removes `client`'s watch of `key`, returning it.
    fn take(&mut self, key: &[u8], client: u64) -> Option<Watcher> {
        let watchers = self.keys.get_mut(key)?;
        let position = watchers.iter().position(|w| w.client == client)?;
        let watcher = watchers.swap_remove(position);
        if watchers.is_empty() {
            self.keys.remove(key);
        }
        Some(watcher)
    }
}

impl Store {
    /// Starts `client`'s watch of `key` (a second watch of the same key
    /// keeps the first, as Redis does).
    pub fn watch(&mut self, key: &[u8], client: u64, now: Now) {
        if self
            .watches
            .keys
            .get(key)
            .is_some_and(|watchers| watchers.iter().any(|w| w.client == client))
        {
            return;
        }
        let snapshot = self.snapshot(key, now);
        let watcher = Watcher {
            client,
            snapshot,
            changed: false,
        };
        self.watches
            .keys
            .entry(key.to_vec())
            .or_default()
            .push(watcher);
        self.stats.watched_keys = self.watches.len() as u64;
    }

    /// Marks the watchers of the item in `slot` changed: its expiry was
    /// set, which its snapshot cannot see when the deadline stayed.
    pub(super) fn expiry_set(&mut self, slot: SlotId) {
        if !self.watches.is_empty() {
            self.watches.mark_changed(self.index.item(slot).key());
        }
    }

    /// Ends `client`'s watch of `key` and returns whether the key changed
    /// since it started. A watch that is not there (never started, or
    /// lost when `SWAPDB` moved the keyspace) counts as changed.
    pub fn unwatch_changed(&mut self, key: &[u8], client: u64, now: Now) -> bool {
        let watcher = self.watches.take(key, client);
        self.stats.watched_keys = self.watches.len() as u64;
        match watcher {
            Some(watcher) => watcher.changed || self.snapshot(key, now) != watcher.snapshot,
            None => true,
        }
    }

    /// Ends `client`'s watch of `key`, if any.
    pub fn unwatch(&mut self, key: &[u8], client: u64) {
        self.watches.take(key, client);
        self.stats.watched_keys = self.watches.len() as u64;
    }

    /// Swaps this store's keyspace with `other`'s (`SWAPDB`): the watches
    /// stay with their database, and every watched key counts as changed.
    pub fn swap_keyspace(&mut self, other: &mut Store) {
        std::mem::swap(self, other);
        std::mem::swap(&mut self.watches, &mut other.watches);
        std::mem::swap(&mut self.stats.watched_keys, &mut other.stats.watched_keys);
        self.watches.all_changed();
        other.watches.all_changed();
    }

    /// What `key` holds now, as a watch remembers it.
    fn snapshot(&self, key: &[u8], now: Now) -> Snapshot {
        let hash = self.index.hash(key);
        let slot = self.index.find(hash, key)?;
        let header = self.index.item(slot).header();
        if header.expires_at != 0 && header.expires_at <= now.millis() {
            return None;
        }
        Some((header.cas, header.expires_at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ItemMeta;

    fn meta(store: &mut Store) -> ItemMeta {
        ItemMeta {
            cas: store.next_cas(),
            ..ItemMeta::default()
        }
    }

    #[test]
    fn an_untouched_key_has_not_changed() {
        let (mut store, now) = (Store::new(), Now(1_000));
        let m = meta(&mut store);
        store.insert(b"k", b"v", m, now).unwrap();
        store.watch(b"k", 7, now);
        store.watch(b"absent", 7, now);
        assert!(!store.unwatch_changed(b"k", 7, now));
        assert!(!store.unwatch_changed(b"absent", 7, now));
        assert!(store.watches.is_empty());
    }

    #[test]
    fn a_rewrite_a_removal_or_an_expiry_is_a_change() {
        let (mut store, now) = (Store::new(), Now(1_000));
        for key in [b"a", b"b", b"c"] {
            let m = meta(&mut store);
            store.insert(key, b"v", m, now).unwrap();
            store.watch(key, 1, now);
        }
        let m = meta(&mut store);
        store.insert(b"a", b"v", m, now).unwrap();
        store.remove(b"b");
        let mut item = store.get(b"c", now).unwrap();
        item.set_expires_at(crate::clock::ExpiresAt::at_millis(1_500));
        assert!(store.unwatch_changed(b"a", 1, now));
        assert!(store.unwatch_changed(b"b", 1, now));
        assert!(store.unwatch_changed(b"c", 1, now));
    }

    #[test]
    fn a_key_created_and_removed_again_has_changed() {
        let (mut store, now) = (Store::new(), Now(1_000));
        store.watch(b"k", 1, now);
        store.watch(b"k", 2, now);
        let m = meta(&mut store);
        store.insert(b"k", b"v", m, now).unwrap();
        store.remove(b"k");
        assert!(store.unwatch_changed(b"k", 1, now));
        store.unwatch(b"k", 2);
        assert!(store.watches.is_empty());
        // A watch that is gone counts as changed.
        assert!(store.unwatch_changed(b"k", 2, now));
    }

    #[test]
    fn a_key_stored_over_an_expired_item_and_removed_has_changed() {
        let (mut store, now) = (Store::new(), Now(1_000));
        let m = ItemMeta {
            expires_at: crate::clock::ExpiresAt::at_millis(900),
            ..meta(&mut store)
        };
        store.insert(b"k", b"old", m, Now(800)).unwrap();
        store.watch(b"k", 1, now);
        let m = meta(&mut store);
        store.insert(b"k", b"v", m, now).unwrap();
        store.remove(b"k");
        assert!(store.unwatch_changed(b"k", 1, now));
    }

    #[test]
    fn a_flush_changes_only_keys_that_existed() {
        let (mut store, now) = (Store::new(), Now(1_000));
        let m = meta(&mut store);
        store.insert(b"k", b"v", m, now).unwrap();
        store.watch(b"k", 1, now);
        store.watch(b"absent", 1, now);
        store.flush_all();
        assert!(store.unwatch_changed(b"k", 1, now));
        assert!(!store.unwatch_changed(b"absent", 1, now));
    }
}
