//! The hash index, which owns the items: an open-addressing table of
//! 64-byte buckets, each one cache line of eight slots.
//!
//! A slot is one `u64`: 0 is empty, 1 is a tombstone, anything else is an
//! item, `tag << 48 | address` — the top 16 bits of the key's hash (never
//! 0) and the 48-bit address of its [`ItemBox`]. A key's home bucket is
//! `hash & mask`; a lookup reads the home bucket, compares the tags of its
//! eight slots at once, dereferences only the items whose tag matches
//! (a false match costs one in 8192 lookups of a full bucket), and goes on
//! to the next bucket only if this one has no empty slot (linear probing
//! over buckets). So a hit costs two dependent cache misses: the bucket and
//! the item's header and key (one line, or two adjacent ones).
//!
//! Invariant: an item stored in bucket `b` with home `h ≠ b` had every
//! bucket from `h` up to `b` without an empty slot when it was placed, and
//! those buckets have not had an empty slot since. A removal therefore
//! leaves an empty slot when its bucket already had one (no probe passes
//! through it) and a tombstone otherwise; only a rehash clears tombstones.
//!
//! Load: slots in use (items and tombstones) stay at most 3/4 of all
//! slots, so the table always has an empty slot and every probe ends. The
//! limit is measured (`probe_lengths_at_the_load_limit`, random keys): at
//! 3/4 a hit reads one bucket 94% of the time (1.10 on average) and a miss
//! 1.75 buckets on average — the next bucket is the adjacent line, which
//! the hardware often fetches with the first; at 7/8 misses would read 3.3
//! to 5 buckets, at 5/8 hits 1.03 and misses 1.2 for 20% more index
//! memory. Past 3/4 the table doubles, or is rebuilt at its size when at
//! least half of the used slots are tombstones. Growth rehashes every key
//! (the slots keep only 16 bits of hash), reading each item once: a pause
//! of about 40 ns per item (130 ms when 3.1M items of 100 bytes double the
//! table; the slab store before paused 450 ms at 3.7M). Incremental
//! rehashing would remove the pause, at a cost on every lookup. Memory: one
//! 8-byte slot per 3/8 to 3/4 of a slot's worth of items, that is 10.7 to
//! 21.3 bytes of index per item.

use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::mem::ManuallyDrop;

use hashbrown::DefaultHashBuilder;

use super::item_box::{ItemBox, ItemMut, ItemRef, ValueChange};
use crate::store::collection::Collection;

/// Slots per bucket: 8 × 8 bytes = one 64-byte cache line.
const SLOTS: usize = 8;
const EMPTY: u64 = 0;
const TOMBSTONE: u64 = 1;
const ADDR_BITS: u32 = 48;
const ADDR_MASK: u64 = (1 << ADDR_BITS) - 1;

/// One cache line of slots.
#[repr(C, align(64))]
#[derive(Clone, Copy)]
struct Bucket([u64; SLOTS]);

const _: () = assert!(std::mem::size_of::<Bucket>() == 64);

impl Bucket {
    const EMPTY: Bucket = Bucket([EMPTY; SLOTS]);

    /// Bit `i` set when slot `i` holds an item tagged `tag`.
    #[inline]
    fn matching(&self, tag: u64) -> u32 {
        let mut found = 0;
        for (i, &word) in self.0.iter().enumerate() {
            found |= u32::from(word >> ADDR_BITS == tag) << i;
        }
        found
    }

    #[inline]
    fn has_empty(&self) -> bool {
        self.0.contains(&EMPTY)
    }
}

/// The position of one slot: bucket × 8 + slot within the bucket. Valid
/// until the index next changes shape (an insert may move every item).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::store) struct SlotId(usize);

/// Where [`Index::probe`] found room for an absent key: the first free
/// slot on its probe path. Valid until the index next changes.
#[derive(Debug)]
pub(in crate::store) struct Vacancy {
    hash: u64,
    slot: usize,
}

/// The tag of `hash`: its top 16 bits, 0 made 1 so no tag matches an empty
/// slot or a tombstone.
#[inline]
fn tag_of(hash: u64) -> u64 {
    (hash >> ADDR_BITS).max(1)
}

#[inline]
fn is_item(word: u64) -> bool {
    word > TOMBSTONE
}

#[inline]
fn addr_of(word: u64) -> usize {
    (word & ADDR_MASK) as usize
}

/// The slot word of an item at `addr` with `tag`.
fn pack(tag: u64, addr: usize) -> u64 {
    // Linux gives user space addresses below 2^47 (x86-64, 4-level paging)
    // or 2^48 (aarch64) unless a mapping asks for more, which the allocator
    // does not; a larger one would be a broken assumption, not bad input.
    assert!(
        addr as u64 <= ADDR_MASK,
        "item address {addr:#x} does not fit in 48 bits"
    );
    tag << ADDR_BITS | addr as u64
}

/// The hash index and owner of one store's items.
pub(in crate::store) struct Index<S = DefaultHashBuilder> {
    buckets: Box<[Bucket]>,
    /// `buckets.len() - 1` (a power of two, minus one).
    mask: usize,
    /// Slots holding an item.
    live: usize,
    /// Slots holding an item or a tombstone.
    used: usize,
    hasher: S,
}

impl Default for Index {
    fn default() -> Index {
        Index::with_hasher(DefaultHashBuilder::default())
    }
}

impl<S> fmt::Debug for Index<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Index")
            .field("buckets", &self.buckets.len())
            .field("live", &self.live)
            .field("used", &self.used)
            .finish()
    }
}

/// Most slots in use for `buckets` buckets: 3/4.
fn max_used(buckets: usize) -> usize {
    buckets * SLOTS / 4 * 3
}

impl<S: BuildHasher + Clone> Index<S> {
    /// An empty index hashing as this one does.
    pub(in crate::store) fn empty_sibling(&self) -> Index<S> {
        Index::with_hasher(self.hasher.clone())
    }
}

impl<S: BuildHasher> Index<S> {
    /// An empty index of one bucket, hashing with `hasher`.
    pub(in crate::store) fn with_hasher(hasher: S) -> Index<S> {
        Index {
            buckets: vec![Bucket::EMPTY; 1].into_boxed_slice(),
            mask: 0,
            live: 0,
            used: 0,
            hasher,
        }
    }

    /// The hash of `key`: the hasher over its bytes (no length prefix:
    /// keys are compared in full anyway), then one folded multiply.
    ///
    /// The default hasher is foldhash's fast one (hashbrown's), made for
    /// tables that use a few bits of it. We use 16 top bits as the tag and
    /// up to 32 low bits as the bucket, and for sequential keys with a long
    /// shared prefix its output is uneven for some seeds (per-bucket
    /// variance/mean from 0.6 to 1.4 over 12 seeds, where random is 1.0);
    /// the extra multiply, as in `foldhash::quality`, makes it 1.00 ± 0.01
    /// for a few cycles (`shared_prefixes_spread_over_buckets_and_tags`).
    #[inline]
    pub(in crate::store) fn hash(&self, key: &[u8]) -> u64 {
        let mut hasher = self.hasher.build_hasher();
        hasher.write(key);
        let full = u128::from(hasher.finish()) * 0x9e37_79b9_7f4a_7c15;
        full as u64 ^ (full >> 64) as u64
    }

    /// Items held.
    pub(in crate::store) fn len(&self) -> usize {
        self.live
    }

    /// The slot of the item under `key`, whose hash is `hash`.
    #[inline]
    pub(in crate::store) fn find(&self, hash: u64, key: &[u8]) -> Option<SlotId> {
        let tag = tag_of(hash);
        let mut at = hash as usize & self.mask;
        loop {
            let bucket = &self.buckets[at];
            let mut matching = bucket.matching(tag);
            while matching != 0 {
                let i = matching.trailing_zeros() as usize;
                let addr = addr_of(bucket.0[i]);
                // The caller will likely read the value next: its first
                // lines load while the header and key do.
                let line = std::ptr::with_exposed_provenance::<u8>(addr);
                prefetch(line.wrapping_add(64));
                prefetch(line.wrapping_add(128));
                // Safety: a tagged word holds the address of a live item
                // that this index owns; `&self` keeps it alive and
                // unchanged while the returned borrow is used here.
                let item = unsafe { ItemBox::borrow(addr) };
                if item.key() == key {
                    return Some(SlotId(at * SLOTS + i));
                }
                matching &= matching - 1;
            }
            if bucket.has_empty() {
                return None;
            }
            at = (at + 1) & self.mask;
        }
    }

    /// Like [`Index::find`], but when `key` is absent also tells where
    /// [`Index::insert_vacant`] would put it, so that an insert of a new key
    /// probes once.
    pub(in crate::store) fn probe(&self, hash: u64, key: &[u8]) -> Result<SlotId, Vacancy> {
        let tag = tag_of(hash);
        let mut at = hash as usize & self.mask;
        let mut free = None;
        loop {
            let bucket = &self.buckets[at];
            let mut matching = bucket.matching(tag);
            while matching != 0 {
                let i = matching.trailing_zeros() as usize;
                // Safety: as in `find`.
                let item = unsafe { ItemBox::borrow(addr_of(bucket.0[i])) };
                if item.key() == key {
                    return Ok(SlotId(at * SLOTS + i));
                }
                matching &= matching - 1;
            }
            if free.is_none() {
                free = bucket
                    .0
                    .iter()
                    .position(|&w| !is_item(w))
                    .map(|i| at * SLOTS + i);
            }
            if bucket.has_empty() {
                return Err(Vacancy {
                    hash,
                    slot: free.unwrap_or(at * SLOTS),
                });
            }
            at = (at + 1) & self.mask;
        }
    }

    /// Bytes of the table itself (its capacity, used or not).
    pub(in crate::store) fn table_bytes(&self) -> usize {
        std::mem::size_of_val(&*self.buckets)
    }

    /// Bytes the table would grow by if one more item were inserted now
    /// (0 unless that insert doubles it).
    pub(in crate::store) fn growth_bytes(&self) -> usize {
        let buckets = self.buckets.len();
        if self.used >= max_used(buckets) && self.live >= max_used(buckets) / 2 {
            self.table_bytes()
        } else {
            0
        }
    }

    /// Buckets in the table (a power of two).
    pub(in crate::store) fn bucket_count(&self) -> usize {
        self.buckets.len()
    }

    /// The slot of the item whose key hashes to `hash`, found without the
    /// key: the items on the probe path whose tag matches have their keys
    /// hashed again. For the eviction queues, which keep hashes, not keys.
    pub(in crate::store) fn find_hash(&self, hash: u64) -> Option<SlotId> {
        let tag = tag_of(hash);
        let mut at = hash as usize & self.mask;
        loop {
            let bucket = &self.buckets[at];
            let mut matching = bucket.matching(tag);
            while matching != 0 {
                let i = matching.trailing_zeros() as usize;
                // Safety: as in `find`.
                let item = unsafe { ItemBox::borrow(addr_of(bucket.0[i])) };
                if self.hash(item.key()) == hash {
                    return Some(SlotId(at * SLOTS + i));
                }
                matching &= matching - 1;
            }
            if bucket.has_empty() {
                return None;
            }
            at = (at + 1) & self.mask;
        }
    }

    /// Visits the items of bucket `at` (taken modulo the table's size)
    /// with their slots. For sampling (eviction) and the expiry sweep.
    pub(in crate::store) fn visit_bucket(
        &self,
        at: usize,
        mut visit: impl FnMut(SlotId, ItemRef<'_>),
    ) {
        let at = at & self.mask;
        for (i, &word) in self.buckets[at].0.iter().enumerate() {
            if is_item(word) {
                // Safety: a tagged word holds the address of a live item
                // this index owns; `&self` keeps it alive while visited.
                visit(SlotId(at * SLOTS + i), unsafe {
                    ItemBox::borrow(addr_of(word))
                });
            }
        }
    }

    /// Lets `change` rewrite the metadata of every item (a policy switch
    /// clearing the policy's bits): a pass over the whole table.
    pub(in crate::store) fn for_each_mut(&mut self, mut change: impl FnMut(ItemMut<'_>)) {
        for bucket in self.buckets.iter() {
            for &word in &bucket.0 {
                if is_item(word) {
                    // Safety: as in `item_mut`: `&mut self` makes this the
                    // only borrow of the item while `change` runs.
                    change(unsafe { ItemBox::borrow_mut(addr_of(word)) });
                }
            }
        }
    }

    /// Asks the CPU to start loading the home bucket of `hash`.
    #[inline]
    pub(in crate::store) fn prefetch_bucket(&self, hash: u64) {
        prefetch(&self.buckets[hash as usize & self.mask] as *const Bucket as *const u8);
    }

    /// Asks the CPU to start loading the first [`PREFETCH_ITEM_LINES`] lines
    /// of every item in the home bucket of `hash` whose tag matches. Reads the bucket: worth
    /// it once [`Index::prefetch_bucket`] has brought it in.
    #[inline]
    pub(in crate::store) fn prefetch_items(&self, hash: u64) {
        let bucket = &self.buckets[hash as usize & self.mask];
        let mut matching = bucket.matching(tag_of(hash));
        while matching != 0 {
            let i = matching.trailing_zeros() as usize;
            let item = std::ptr::with_exposed_provenance::<u8>(addr_of(bucket.0[i]));
            for line in 0..PREFETCH_ITEM_LINES {
                prefetch(item.wrapping_add(64 * line));
            }
            matching &= matching - 1;
        }
    }

    fn word(&self, slot: SlotId) -> u64 {
        self.buckets[slot.0 / SLOTS].0[slot.0 % SLOTS]
    }

    /// The item in `slot`. Panics if the slot holds none.
    #[inline]
    pub(in crate::store) fn item(&self, slot: SlotId) -> ItemRef<'_> {
        let word = self.word(slot);
        assert!(is_item(word), "slot {slot:?} holds no item");
        // Safety: a tagged word holds the address of a live item that this
        // index owns; `&self` keeps it alive, and no `ItemMut` exists.
        unsafe { ItemBox::borrow(addr_of(word)) }
    }

    /// The item in `slot`, to change its metadata. Panics if the slot
    /// holds none.
    #[inline]
    pub(in crate::store) fn item_mut(&mut self, slot: SlotId) -> ItemMut<'_> {
        let word = self.word(slot);
        assert!(is_item(word), "slot {slot:?} holds no item");
        // Safety: as in `item`; `&mut self` makes this the only borrow.
        unsafe { ItemBox::borrow_mut(addr_of(word)) }
    }

    /// Changes the value of the item in `slot` (its address may move).
    /// Panics if the slot holds none.
    pub(in crate::store) fn change_value(&mut self, slot: SlotId, change: ValueChange<'_>) {
        self.reshape(slot, |item| item.change_value(change));
    }

    /// Makes the item in `slot` hold `collection` instead of its value
    /// (its address may move). Panics if the slot holds none.
    pub(in crate::store) fn set_collection(&mut self, slot: SlotId, collection: Box<Collection>) {
        self.reshape(slot, |item| item.set_collection(collection));
    }

    /// Lends the item in `slot` as an [`ItemBox`] to `change`, which may
    /// move it, and keeps its new address. Panics if the slot holds none.
    fn reshape(&mut self, slot: SlotId, change: impl FnOnce(&mut ItemBox)) {
        let word = self.word(slot);
        assert!(is_item(word), "slot {slot:?} holds no item");
        // Safety: the word holds a live item this index owns; we lend
        // ownership to the `ItemBox` only until its address is written back
        // below (`ManuallyDrop`: a panic inside leaks rather than frees an
        // item the slot still names; `change_value` and `set_collection` do
        // not panic once they may have moved the item).
        let mut item = ManuallyDrop::new(unsafe { ItemBox::from_addr(addr_of(word)) });
        change(&mut item);
        let addr = ManuallyDrop::into_inner(item).into_addr();
        self.buckets[slot.0 / SLOTS].0[slot.0 % SLOTS] = pack(word >> ADDR_BITS, addr);
    }

    /// Stores `item`, whose key has hash `hash` and is not in the index yet
    /// (the caller looked), and returns its slot. May grow the index, which
    /// moves every slot.
    pub(in crate::store) fn insert(&mut self, hash: u64, item: ItemBox) -> SlotId {
        if self.used >= max_used(self.buckets.len()) {
            self.grow();
        }
        let word = pack(tag_of(hash), item.into_addr());
        self.place(hash, word)
    }

    /// Stores `item` where [`Index::probe`] found room for its key (no
    /// change to the index since); like [`Index::insert`] otherwise.
    pub(in crate::store) fn insert_vacant(&mut self, vacancy: Vacancy, item: ItemBox) -> SlotId {
        let (bucket, i) = (vacancy.slot / SLOTS, vacancy.slot % SLOTS);
        let free = self.buckets.get(bucket).is_some_and(|b| !is_item(b.0[i]));
        if !free || self.used >= max_used(self.buckets.len()) {
            return self.insert(vacancy.hash, item);
        }
        let word = pack(tag_of(vacancy.hash), item.into_addr());
        let slot = &mut self.buckets[bucket].0[i];
        if *slot == EMPTY {
            self.used += 1;
        }
        *slot = word;
        self.live += 1;
        SlotId(vacancy.slot)
    }

    /// Writes `word` into the first free slot from the home of `hash`.
    fn place(&mut self, hash: u64, word: u64) -> SlotId {
        let mut at = hash as usize & self.mask;
        loop {
            let bucket = &mut self.buckets[at];
            if let Some(i) = bucket.0.iter().position(|&w| !is_item(w)) {
                if bucket.0[i] == EMPTY {
                    self.used += 1;
                }
                bucket.0[i] = word;
                self.live += 1;
                return SlotId(at * SLOTS + i);
            }
            at = (at + 1) & self.mask;
        }
    }

    /// Makes room past the 3/4 load: doubles, or rebuilds at the same size
    /// when tombstones fill at least half of the used slots.
    fn grow(&mut self) {
        let buckets = self.buckets.len();
        let target = if self.live < max_used(buckets) / 2 {
            buckets
        } else {
            buckets * 2
        };
        self.rehash(target);
    }

    /// Moves every item into a new table of `buckets` buckets.
    fn rehash(&mut self, buckets: usize) {
        debug_assert!(buckets.is_power_of_two() && max_used(buckets) > self.live);
        let old = std::mem::replace(
            &mut self.buckets,
            vec![Bucket::EMPTY; buckets].into_boxed_slice(),
        );
        self.mask = buckets - 1;
        self.live = 0;
        self.used = 0;
        // Reading every item's key is the cost of a rehash: ask for the
        // items a few buckets ahead so their cache misses overlap.
        const AHEAD: usize = 2;
        for (at, bucket) in old.iter().enumerate() {
            if let Some(ahead) = old.get(at + AHEAD) {
                for &word in &ahead.0 {
                    if is_item(word) {
                        prefetch(std::ptr::with_exposed_provenance(addr_of(word)));
                    }
                }
            }
            for &word in &bucket.0 {
                if is_item(word) {
                    // Safety: a tagged word of the old table holds a live
                    // item this index owns; it is only read here, then its
                    // word moves to the new table.
                    let key = unsafe { ItemBox::borrow(addr_of(word)) }.key();
                    let hash = self.hash(key);
                    self.place(hash, word);
                }
            }
        }
    }

    /// Visits the items whose home bucket is the one `cursor` names, then
    /// returns the next cursor (0 once every home has been visited): one
    /// step of a scan that, like Redis's `dictScan`, counts homes in
    /// reverse-binary order, so that a table that doubles between steps
    /// never makes the scan miss a key present throughout (a home `h`
    /// splits into `h` and `h + old size`, both of which the reversed
    /// increment still has ahead or behind it together). With linear
    /// probing a home's items may sit in the buckets after it, up to the
    /// first bucket with an empty slot: those are read too, and only the
    /// items whose home matches are visited.
    pub(in crate::store) fn scan_step(
        &self,
        cursor: u64,
        mut visit: impl FnMut(ItemRef<'_>),
    ) -> u64 {
        let mask = self.mask as u64;
        let home = (cursor & mask) as usize;
        let mut at = home;
        loop {
            let bucket = &self.buckets[at];
            for &word in &bucket.0 {
                if is_item(word) {
                    // Safety: a tagged word holds the address of a live item
                    // this index owns; `&self` keeps it alive while visited.
                    let item = unsafe { ItemBox::borrow(addr_of(word)) };
                    if self.hash(item.key()) as usize & self.mask == home {
                        visit(item);
                    }
                }
            }
            if bucket.has_empty() {
                break;
            }
            at = (at + 1) & self.mask;
            if at == home {
                break;
            }
        }
        // Increment the reversed cursor over the mask's bits.
        let mut next = cursor | !mask;
        next = next.reverse_bits().wrapping_add(1).reverse_bits();
        next
    }

    /// Takes the item in `slot` out of the index. Panics if the slot holds
    /// none.
    pub(in crate::store) fn remove(&mut self, slot: SlotId) -> ItemBox {
        let bucket = &mut self.buckets[slot.0 / SLOTS];
        let word = bucket.0[slot.0 % SLOTS];
        assert!(is_item(word), "slot {slot:?} holds no item");
        if bucket.has_empty() {
            bucket.0[slot.0 % SLOTS] = EMPTY;
            self.used -= 1;
        } else {
            bucket.0[slot.0 % SLOTS] = TOMBSTONE;
        }
        self.live -= 1;
        // Safety: the word held a live item this index owned; the slot no
        // longer names it, so the returned box is its only owner.
        unsafe { ItemBox::from_addr(addr_of(word)) }
    }

    /// Frees every item and shrinks to one bucket. The hasher stays, so
    /// hashes computed before remain valid.
    pub(in crate::store) fn clear(&mut self) {
        let old = std::mem::replace(&mut self.buckets, vec![Bucket::EMPTY; 1].into_boxed_slice());
        self.mask = 0;
        self.live = 0;
        self.used = 0;
        free_all(&old);
    }

    /// For each item, the buckets a lookup of it reads. For tests.
    #[cfg(test)]
    pub(in crate::store) fn hit_probes(&self) -> Vec<usize> {
        let mut probes = Vec::with_capacity(self.live);
        for (at, bucket) in self.buckets.iter().enumerate() {
            for &word in &bucket.0 {
                if is_item(word) {
                    // Safety: as in `rehash`: read only.
                    let key = unsafe { ItemBox::borrow(addr_of(word)) }.key();
                    let home = self.hash(key) as usize & self.mask;
                    probes.push(((at + self.buckets.len() - home) & self.mask) + 1);
                }
            }
        }
        probes
    }

    /// Buckets a miss for `hash` reads. For tests.
    #[cfg(test)]
    pub(in crate::store) fn miss_probe(&self, hash: u64) -> usize {
        let mut at = hash as usize & self.mask;
        let mut read = 1;
        while !self.buckets[at].has_empty() {
            at = (at + 1) & self.mask;
            read += 1;
        }
        read
    }

    /// (buckets, tombstones). For tests.
    #[cfg(test)]
    pub(in crate::store) fn shape(&self) -> (usize, usize) {
        (self.buckets.len(), self.used - self.live)
    }
}

/// Frees the items of `buckets`, which no index uses any more.
fn free_all(buckets: &[Bucket]) {
    for word in buckets.iter().flat_map(|bucket| bucket.0) {
        if is_item(word) {
            // Safety: the table these buckets formed owned the item, and
            // is gone; each word is visited once, so each item freed once.
            drop(unsafe { ItemBox::from_addr(addr_of(word)) });
        }
    }
}

impl<S> Drop for Index<S> {
    fn drop(&mut self) {
        free_all(&self.buckets);
    }
}

/// Asks the CPU to load the cache line at `at` into all cache levels
/// (a hint: never faults, and does nothing off x86-64).
/// Lines of an item [`Index::prefetch_items`] loads: header, key and a
/// small value (32 + 64 + 100 bytes, memaslap's shape, spans four lines).
/// The reply copies the whole value, so a line not loaded here is a miss
/// later; a line loaded in vain costs only bandwidth.
const PREFETCH_ITEM_LINES: usize = 4;

#[inline(always)]
fn prefetch(at: *const u8) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // Safety: a prefetch is a hint that never faults, whatever the
        // address (SSE is part of the x86-64 baseline).
        unsafe { _mm_prefetch::<_MM_HINT_T0>(at.cast::<i8>()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}

#[cfg(test)]
mod tests;
