//! One item in one heap allocation: a 32-byte [`Header`], then the key,
//! then the value. [`ItemBox`] owns such an allocation as `Box` owns its
//! value; [`ItemRef`] and [`ItemMut`] borrow one that the index owns.
//!
//! ```text
//! offset  0: cas           u64   CAS unique
//!         8: expires_at    u64   ms since the Unix epoch, 0 = never
//!        16: client_flags  u32   memcached client flags
//!        20: last_access   u32   whole seconds since the Unix epoch
//!        24: value_len     u32   value length (short form)
//!        28: key_len       u16   key length, or LONG: lengths in the extension
//!        30: bits          u8    FETCHED, STALE, WIN_TOKEN_SENT, BINARY_KEY
//!        31: kind          u8    ValueKind
//!        32: key, then value                              (short form)
//!        32: key length u64, value length u64, key, value (long form)
//! ```
//!
//! The long form (16 more bytes) is used only for keys of 64 KiB or more or
//! values of 4 GiB or more, so no length is ever refused; memcached's keys
//! (≤ 250 bytes) and items (≤ 1 GiB) always take the short form.
//!
//! Allocations are aligned to 8 and asked for exactly as long as the
//! header, key and value; a value change reallocates (in place when the
//! allocator can). Items are allocated from mimalloc directly, whatever the
//! process's global allocator, so that [`ItemRef::footprint`] can ask it
//! for the real size of the block (`mi_usable_size`: the request rounded up
//! to its size class), which is what the store accounts against the memory
//! limit.
//!
//! A typed value (kind [`ValueKind::Collection`]) keeps the same layout:
//! its payload is the 8-byte address of a `Box<Collection>` that the item
//! owns, so the key stays inline where the index compares it. The box is
//! freed with the item, or when a byte value replaces it.

use std::alloc::{self, Layout};
use std::ffi::c_void;
use std::marker::PhantomData;
use std::mem::{self, align_of, size_of};
use std::ptr::{self, NonNull};

use crate::store::collection::Collection;

/// Flag bits of an item ([`Header::bits`]).
pub(in crate::store) mod bits {
    /// Fetched at least once since it was stored (memcached `ITEM_FETCHED`).
    pub const FETCHED: u8 = 1 << 0;
    /// Marked stale by `md … I` or stored stale by `ms … I` (`ITEM_STALE`).
    pub const STALE: u8 = 1 << 1;
    /// A client already got the recache token `W` (`ITEM_TOKEN_SENT`).
    pub const WIN_TOKEN_SENT: u8 = 1 << 2;
    /// Stored through a base64 (`b`) meta key, so echoed back in base64
    /// (`ITEM_KEY_BINARY`).
    pub const BINARY_KEY: u8 = 1 << 3;
    /// The four high bits belong to the eviction policy (`store::evict`):
    /// S3-FIFO's queue and 2-bit frequency, or an LFU counter.
    pub const POLICY: u8 = 0xf0;
}

/// What an item's payload (the bytes after its key) holds.
///
/// Typed values plug in here: the RESP front end's hashes, lists, sets and
/// sorted sets become further kinds whose payload is a pointer to their
/// collection, so the key stays inline where the index compares it.
#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::store) enum ValueKind {
    /// A byte string (a memcached item, a Redis string): the payload is the
    /// value itself.
    Bytes = 0,
    /// A hash, list, set or sorted set: the payload is the address of the
    /// item's own `Box<Collection>` ([`COLLECTION_PAYLOAD`] bytes, unaligned).
    Collection = 1,
}

/// Payload bytes of a [`ValueKind::Collection`] item: one address.
pub(in crate::store) const COLLECTION_PAYLOAD: usize = size_of::<usize>();

/// The fixed part of an item, at the start of its allocation. The length
/// fields are private: only this module may change them, because they
/// decide how many bytes the key and value slices span.
#[repr(C)]
#[derive(Debug)]
pub(in crate::store) struct Header {
    /// The CAS unique.
    pub(in crate::store) cas: u64,
    /// [`crate::clock::ExpiresAt`] in milliseconds; 0 = never.
    pub(in crate::store) expires_at: u64,
    /// memcached client flags.
    pub(in crate::store) client_flags: u32,
    /// Last access, whole seconds since the Unix epoch (good until 2106).
    pub(in crate::store) last_access: u32,
    value_len: u32,
    key_len: u16,
    /// [`bits`].
    pub(in crate::store) bits: u8,
    kind: u8,
}

/// Bytes of [`Header`].
pub(in crate::store) const HEADER_BYTES: usize = 32;
/// Bytes the long form adds (the two lengths as `u64`).
pub(in crate::store) const EXTENSION_BYTES: usize = 16;
/// `key_len` of an item whose lengths are in the extension.
const LONG: u16 = u16::MAX;

const _: () = assert!(size_of::<Header>() == HEADER_BYTES && align_of::<Header>() == 8);

/// Whether an item with these lengths takes the long form.
pub(in crate::store) fn is_long(key_len: usize, value_len: usize) -> bool {
    key_len >= usize::from(LONG) || value_len > u32::MAX as usize
}

/// The bytes a new item with these lengths will really take (its block's
/// usable size, as [`ItemRef::footprint`] will report it).
pub(in crate::store) fn block_size(key_len: usize, value_len: usize) -> usize {
    let (layout, _) = layout(key_len, value_len);
    // Safety: a pure computation over mimalloc's size classes.
    unsafe { libmimalloc_sys::mi_good_size(layout.size()) }
}

/// Has mimalloc return the calling thread's emptied pages to the system
/// (`mi_collect`, not forced). Without it, a thread that frees much and
/// then allocates little (a flush, a lowered limit, eviction of large
/// items by small ones) keeps those pages resident: 320 MB stayed after
/// `FLUSHALL` emptied a 256 MB store of 10 B–1 MiB values.
pub(in crate::store) fn collect_free_pages() {
    // Safety: mi_collect only walks the calling thread's own heap.
    unsafe { libmimalloc_sys::mi_collect(false) }
}

/// The allocation of an item with these lengths, and where its key starts.
fn layout(key_len: usize, value_len: usize) -> (Layout, usize) {
    let key_at = if is_long(key_len, value_len) {
        HEADER_BYTES + EXTENSION_BYTES
    } else {
        HEADER_BYTES
    };
    // Both lengths are of slices that exist in memory (or of one such slice
    // plus one that did), so their sum is far below `isize::MAX`.
    let size = key_at + key_len + value_len;
    let layout = Layout::from_size_align(size, align_of::<Header>()).expect("item size overflows");
    (layout, key_at)
}

/// Where the key starts, the key length and the value length of the item
/// at `ptr`.
///
/// # Safety
/// `ptr` points to a live item (built by [`ItemBox::build`]).
#[inline]
unsafe fn lengths(ptr: NonNull<Header>) -> (usize, usize, usize) {
    // Safety: the caller guarantees a live item, whose allocation starts
    // with an initialised header.
    let header = unsafe { ptr.as_ref() };
    if header.key_len != LONG {
        return (
            HEADER_BYTES,
            usize::from(header.key_len),
            header.value_len as usize,
        );
    }
    // Safety: a long-form item has its two lengths, initialised, right
    // after the header, at offset 32 of an 8-aligned allocation.
    let [key_len, value_len] = unsafe { ptr.as_ptr().add(1).cast::<[u64; 2]>().read() };
    (
        HEADER_BYTES + EXTENSION_BYTES,
        key_len as usize,
        value_len as usize,
    )
}

/// Writes the lengths of the item at `ptr` in the form that `is_long`
/// gives for them.
///
/// # Safety
/// `ptr` points to an allocation with an initialised header and room for
/// the extension when the lengths take the long form.
unsafe fn set_lengths(ptr: NonNull<Header>, key_len: usize, value_len: usize) {
    // Safety: the caller guarantees the header, and the extension's room
    // when it is written; we hold the only pointer to the allocation.
    unsafe {
        let header = &mut *ptr.as_ptr();
        if is_long(key_len, value_len) {
            header.key_len = LONG;
            header.value_len = 0;
            let extension = ptr.as_ptr().add(1).cast::<[u64; 2]>();
            extension.write([key_len as u64, value_len as u64]);
        } else {
            header.key_len = key_len as u16;
            header.value_len = value_len as u32;
        }
    }
}

/// A shared borrow of an item.
#[derive(Clone, Copy)]
pub(in crate::store) struct ItemRef<'a> {
    ptr: NonNull<Header>,
    _item: PhantomData<&'a Header>,
}

impl<'a> ItemRef<'a> {
    pub(in crate::store) fn header(self) -> &'a Header {
        // Safety: an `ItemRef` points to a live item for `'a`, which no one
        // changes meanwhile (it borrows the item's owner shared).
        unsafe { self.ptr.as_ref() }
    }

    pub(in crate::store) fn key(self) -> &'a [u8] {
        // Safety: as in `header`; the key is `key_len` initialised bytes at
        // `key_at`, inside the allocation.
        unsafe {
            let (key_at, key_len, _) = lengths(self.ptr);
            let base = self.ptr.as_ptr().cast::<u8>();
            std::slice::from_raw_parts(base.add(key_at), key_len)
        }
    }

    pub(in crate::store) fn value(self) -> &'a [u8] {
        // Safety: as in `key`; the value follows the key to the end of the
        // allocation.
        unsafe {
            let (key_at, key_len, value_len) = lengths(self.ptr);
            let base = self.ptr.as_ptr().cast::<u8>();
            std::slice::from_raw_parts(base.add(key_at + key_len), value_len)
        }
    }

    /// The bytes the item really takes: the allocator's usable size of its
    /// block (the request rounded up to a size class), plus, for a
    /// collection, the collection's own heap bytes.
    pub(in crate::store) fn footprint(self) -> usize {
        // Safety: the item's block came from mimalloc and is live for `'a`.
        let block = unsafe { libmimalloc_sys::mi_usable_size(self.ptr.as_ptr().cast::<c_void>()) };
        block + self.collection().map_or(0, |c| c.heap_bytes() as usize)
    }

    pub(in crate::store) fn kind(self) -> ValueKind {
        kind_of(self.header())
    }

    /// The item's bytes: its value, or empty for a collection (whose
    /// payload is an address, not data).
    pub(in crate::store) fn bytes(self) -> &'a [u8] {
        match self.kind() {
            ValueKind::Bytes => self.value(),
            ValueKind::Collection => &[],
        }
    }

    /// The item's collection, if it holds one.
    pub(in crate::store) fn collection(self) -> Option<&'a Collection> {
        // Safety: a collection item's payload is the address of the
        // `Box<Collection>` it owns, alive as long as the item; `'a`
        // borrows the item shared, so no `&mut` to the collection exists.
        collection_ptr(self).map(|ptr| unsafe { &*ptr })
    }
}

/// The kind a header names (only this module writes it, so it is valid).
fn kind_of(header: &Header) -> ValueKind {
    if header.kind == ValueKind::Collection as u8 {
        ValueKind::Collection
    } else {
        ValueKind::Bytes
    }
}

/// The address of the collection a collection item owns.
fn collection_ptr(item: ItemRef<'_>) -> Option<*mut Collection> {
    if item.kind() != ValueKind::Collection {
        return None;
    }
    let payload = item.value();
    debug_assert_eq!(payload.len(), COLLECTION_PAYLOAD);
    let addr = usize::from_ne_bytes(payload.try_into().ok()?);
    Some(ptr::with_exposed_provenance_mut(addr))
}

/// An exclusive borrow of an item: its metadata can change, its size
/// cannot (that takes the [`ItemBox`], whose address may move).
pub(in crate::store) struct ItemMut<'a> {
    ptr: NonNull<Header>,
    _item: PhantomData<&'a mut Header>,
}

impl<'a> ItemMut<'a> {
    pub(in crate::store) fn into_header_mut(self) -> &'a mut Header {
        // Safety: an `ItemMut` points to a live item that nothing else
        // reads or writes during `'a` (it borrows the owner mutably).
        unsafe { &mut *self.ptr.as_ptr() }
    }

    /// The item's collection, to change, if it holds one.
    pub(in crate::store) fn into_collection_mut(self) -> Option<&'a mut Collection> {
        let shared = ItemRef {
            ptr: self.ptr,
            _item: PhantomData,
        };
        // Safety: as in `ItemRef::collection`; the `ItemMut` borrows the
        // item exclusively for `'a`, and the collection belongs to it.
        collection_ptr(shared).map(|ptr| unsafe { &mut *ptr })
    }
}

/// One owned item.
pub(in crate::store) struct ItemBox {
    ptr: NonNull<Header>,
}

/// How a value changes.
#[derive(Debug, Clone, Copy)]
pub(in crate::store) enum ValueChange<'a> {
    Replace(&'a [u8]),
    Append(&'a [u8]),
    Prepend(&'a [u8]),
}

impl ItemBox {
    /// A new item holding `key` and `value`, with zeroed metadata.
    pub(in crate::store) fn new(key: &[u8], value: &[u8]) -> ItemBox {
        ItemBox::build(key, [value, &[], &[]])
    }

    /// A new item holding `key` and `collection`, with zeroed metadata.
    pub(in crate::store) fn new_collection(key: &[u8], collection: Box<Collection>) -> ItemBox {
        let addr = Box::into_raw(collection).expose_provenance();
        let mut item = ItemBox::build(key, [&addr.to_ne_bytes(), &[], &[]]);
        item.header_mut().kind = ValueKind::Collection as u8;
        item
    }

    /// Frees the collection the item holds, if any, leaving an empty byte
    /// string: afterwards no payload byte is ever read as an address.
    fn drop_collection(&mut self) {
        let Some(ptr) = collection_ptr(self.as_ref()) else {
            return;
        };
        // Kind first: should the collection's drop panic, the item no
        // longer names the box.
        self.header_mut().kind = ValueKind::Bytes as u8;
        // Safety: the address came from `Box::into_raw` in `new_collection`
        // and the item owned the box alone; its kind no longer says so, so
        // it is freed exactly once.
        drop(unsafe { Box::from_raw(ptr) });
        self.change_value(ValueChange::Replace(&[]));
    }

    /// Replaces the value by `collection` (freeing a previous one); the key
    /// and metadata stay.
    pub(in crate::store) fn set_collection(&mut self, collection: Box<Collection>) {
        self.drop_collection();
        let addr = Box::into_raw(collection).expose_provenance();
        self.change_value(ValueChange::Replace(&addr.to_ne_bytes()));
        self.header_mut().kind = ValueKind::Collection as u8;
    }

    /// A new item holding `key` and the concatenation of `parts`.
    fn build(key: &[u8], parts: [&[u8]; 3]) -> ItemBox {
        let value_len = parts.iter().map(|part| part.len()).sum();
        let (layout, key_at) = layout(key.len(), value_len);
        // Safety: mimalloc's malloc takes any size; its blocks are aligned
        // to 16 at least, more than the header's 8.
        let raw = unsafe { libmimalloc_sys::mi_malloc(layout.size()) }.cast::<u8>();
        let Some(ptr) = NonNull::new(raw.cast::<Header>()) else {
            alloc::handle_alloc_error(layout)
        };
        // Safety: `ptr` is a fresh allocation of `key_at + key + value`
        // bytes, aligned for `Header`: the header, the extension (long
        // form), the key and the parts fit exactly, and the sources cannot
        // overlap memory that was just allocated.
        unsafe {
            ptr.as_ptr().write(Header {
                cas: 0,
                expires_at: 0,
                client_flags: 0,
                last_access: 0,
                value_len: 0,
                key_len: 0,
                bits: 0,
                kind: ValueKind::Bytes as u8,
            });
            set_lengths(ptr, key.len(), value_len);
            let mut at = raw.add(key_at);
            ptr::copy_nonoverlapping(key.as_ptr(), at, key.len());
            at = at.add(key.len());
            for part in parts.into_iter().filter(|part| !part.is_empty()) {
                ptr::copy_nonoverlapping(part.as_ptr(), at, part.len());
                at = at.add(part.len());
            }
        }
        ItemBox { ptr }
    }

    pub(in crate::store) fn as_ref(&self) -> ItemRef<'_> {
        ItemRef {
            ptr: self.ptr,
            _item: PhantomData,
        }
    }

    /// Applies `change` to the value; the key and metadata stay. Never
    /// panics once the allocation may have moved. A collection the item
    /// held is freed first: the change applies to an empty byte string.
    pub(in crate::store) fn change_value(&mut self, change: ValueChange<'_>) {
        self.drop_collection();
        // Safety: we own a live item.
        let (key_at, key_len, old_len) = unsafe { lengths(self.ptr) };
        let (prefix, keep, suffix) = match change {
            ValueChange::Replace(value) => (value, false, &[][..]),
            ValueChange::Append(data) => (&[][..], true, data),
            ValueChange::Prepend(data) => (data, true, &[][..]),
        };
        let kept = if keep { old_len } else { 0 };
        let new_len = prefix.len() + kept + suffix.len();
        if is_long(key_len, old_len) != is_long(key_len, new_len) {
            // The key moves: build the item anew (rare: 4 GiB values).
            let me = self.as_ref();
            let middle = if keep { me.value() } else { &[] };
            let mut new = ItemBox::build(me.key(), [prefix, middle, suffix]);
            let (old, fresh) = (self.as_ref().header(), new.header_mut());
            fresh.cas = old.cas;
            fresh.expires_at = old.expires_at;
            fresh.client_flags = old.client_flags;
            fresh.last_access = old.last_access;
            fresh.bits = old.bits;
            fresh.kind = old.kind;
            *self = new;
            return;
        }
        let (old_layout, _) = layout(key_len, old_len);
        let (new_layout, _) = layout(key_len, new_len);
        if new_layout.size() != old_layout.size() {
            // Safety: `ptr` came from mimalloc (`build` or an earlier
            // realloc) and is live; the new size is non-zero.
            let raw = unsafe {
                libmimalloc_sys::mi_realloc(self.ptr.as_ptr().cast::<c_void>(), new_layout.size())
            }
            .cast::<u8>();
            match NonNull::new(raw.cast::<Header>()) {
                Some(ptr) => self.ptr = ptr,
                None => alloc::handle_alloc_error(new_layout),
            }
        }
        // Safety: the allocation now holds `key_at + key_len + new_len`
        // bytes and still starts with the header, extension and key
        // (realloc keeps the common prefix; the form did not change). When
        // the old value is kept, `new_len >= old_len`, so it is still there
        // too and moves right by `prefix.len()` (an overlapping copy). The
        // sources are the caller's slices, which cannot point into an item
        // we borrow mutably.
        unsafe {
            let value = self.ptr.as_ptr().cast::<u8>().add(key_at + key_len);
            if keep && !prefix.is_empty() {
                ptr::copy(value, value.add(prefix.len()), old_len);
            }
            ptr::copy_nonoverlapping(prefix.as_ptr(), value, prefix.len());
            let tail = value.add(prefix.len() + kept);
            ptr::copy_nonoverlapping(suffix.as_ptr(), tail, suffix.len());
            set_lengths(self.ptr, key_len, new_len);
        }
    }

    fn header_mut(&mut self) -> &mut Header {
        // Safety: we own a live item and borrow it mutably.
        unsafe { self.ptr.as_mut() }
    }

    /// Gives up ownership, returning the item's address for the index to
    /// keep (see [`ItemBox::from_addr`]).
    pub(in crate::store) fn into_addr(self) -> usize {
        let addr = self.ptr.as_ptr().expose_provenance();
        mem::forget(self);
        addr
    }

    /// Takes back ownership of the item at `addr`.
    ///
    /// # Safety
    /// `addr` came from [`ItemBox::into_addr`], and nothing owns or borrows
    /// that item any more (the index has just dropped its word for it).
    pub(in crate::store) unsafe fn from_addr(addr: usize) -> ItemBox {
        // Safety: `into_addr` exposed a non-null pointer with this address.
        let ptr = unsafe { NonNull::new_unchecked(ptr::with_exposed_provenance_mut(addr)) };
        ItemBox { ptr }
    }

    /// Borrows the item at `addr` shared for `'a`.
    ///
    /// # Safety
    /// `addr` came from [`ItemBox::into_addr`], the item is not freed during
    /// `'a`, and no [`ItemMut`] of it lives meanwhile.
    pub(in crate::store) unsafe fn borrow<'a>(addr: usize) -> ItemRef<'a> {
        // Safety: `into_addr` exposed a non-null pointer with this address.
        let ptr = unsafe { NonNull::new_unchecked(ptr::with_exposed_provenance_mut(addr)) };
        ItemRef {
            ptr,
            _item: PhantomData,
        }
    }

    /// Borrows the item at `addr` exclusively for `'a`.
    ///
    /// # Safety
    /// As [`ItemBox::borrow`], and no other borrow of it lives meanwhile.
    pub(in crate::store) unsafe fn borrow_mut<'a>(addr: usize) -> ItemMut<'a> {
        // Safety: `into_addr` exposed a non-null pointer with this address.
        let ptr = unsafe { NonNull::new_unchecked(ptr::with_exposed_provenance_mut(addr)) };
        ItemMut {
            ptr,
            _item: PhantomData,
        }
    }
}

impl Drop for ItemBox {
    fn drop(&mut self) {
        if let Some(ptr) = collection_ptr(self.as_ref()) {
            // Safety: as in `drop_collection`: the item owns the box alone,
            // and is freed (below) right after, so the box is freed once.
            drop(unsafe { Box::from_raw(ptr) });
        }
        // Safety: we own a live item, allocated by mimalloc, and free it
        // once: an `ItemBox` is never duplicated, and `into_addr` forgets it.
        unsafe { libmimalloc_sys::mi_free(self.ptr.as_ptr().cast::<c_void>()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(item: &ItemBox) -> (Vec<u8>, Vec<u8>) {
        let me = item.as_ref();
        (me.key().to_vec(), me.value().to_vec())
    }

    #[test]
    fn short_form_holds_key_and_value() {
        let mut item = ItemBox::new(b"key", b"value");
        assert_eq!(parts(&item), (b"key".to_vec(), b"value".to_vec()));
        item.header_mut().cas = 7;
        item.change_value(ValueChange::Append(b"++"));
        item.change_value(ValueChange::Prepend(b"--"));
        assert_eq!(parts(&item).1, b"--value++");
        item.change_value(ValueChange::Replace(b""));
        assert_eq!(parts(&item), (b"key".to_vec(), Vec::new()));
        item.change_value(ValueChange::Replace(&[9; 1000]));
        assert_eq!(parts(&item).1, vec![9; 1000]);
        item.change_value(ValueChange::Replace(&[8; 1000]));
        assert_eq!(parts(&item).1, vec![8; 1000]);
        assert_eq!(item.as_ref().header().cas, 7);
        assert_eq!(item.as_ref().kind(), ValueKind::Bytes);
    }

    #[test]
    fn long_keys_take_the_long_form() {
        let key = vec![b'k'; usize::from(LONG)];
        assert!(is_long(key.len(), 0));
        assert!(!is_long(key.len() - 1, u32::MAX as usize));
        assert!(is_long(0, u32::MAX as usize + 1));
        let mut item = ItemBox::new(&key, b"v");
        assert_eq!(parts(&item), (key.clone(), b"v".to_vec()));
        item.change_value(ValueChange::Prepend(b"u"));
        assert_eq!(parts(&item), (key.clone(), b"uv".to_vec()));
        let short = ItemBox::new(&key[1..], b"v");
        assert_eq!(parts(&short), (key[1..].to_vec(), b"v".to_vec()));
    }

    #[test]
    fn addresses_round_trip() {
        let item = ItemBox::new(b"k", b"v");
        let addr = item.into_addr();
        // Safety: `addr` came from `into_addr` and nothing else owns it.
        let item = unsafe { ItemBox::from_addr(addr) };
        assert_eq!(parts(&item), (b"k".to_vec(), b"v".to_vec()));
    }
}
