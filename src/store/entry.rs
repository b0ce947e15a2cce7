//! One stored item as the slab holds it: the key and value in a single heap
//! allocation, plus a few fixed-size words of metadata.
//!
//! Private to the store: everything outside reads and changes items through
//! [`Item`](super::Item), in terms of keys, values and metadata, so that the
//! layout here can change (memory rework, eviction) without touching callers.

use crate::clock::ExpiresAt;

/// What an entry holds: its key, then its value, in one allocation.
///
/// Typed values plug in here: the RESP front end's hashes, lists, sets and
/// sorted sets become further variants, each keeping its key inside its own
/// allocation so that the index can still hash and compare entries by
/// [`Entry::key`]. Until then a value is a byte string.
#[derive(Debug)]
pub(super) enum Payload {
    /// A byte string (a memcached item, a Redis string): `key ++ value`.
    Bytes(Box<[u8]>),
}

/// Flag bits of an entry.
pub(super) mod bits {
    /// Fetched at least once since it was stored (memcached `ITEM_FETCHED`).
    pub const FETCHED: u8 = 1 << 0;
    /// Marked stale by `md … I` or stored stale by `ms … I` (`ITEM_STALE`).
    pub const STALE: u8 = 1 << 1;
    /// A client already got the recache token `W` (`ITEM_TOKEN_SENT`).
    pub const WIN_TOKEN_SENT: u8 = 1 << 2;
    /// Stored through a base64 (`b`) meta key, so echoed back in base64
    /// (`ITEM_KEY_BINARY`).
    pub const BINARY_KEY: u8 = 1 << 3;
}

/// One item. 48 bytes on 64-bit targets (checked by a test).
#[derive(Debug)]
pub(super) struct Entry {
    pub(super) payload: Payload,
    pub(super) cas: u64,
    pub(super) expires_at: ExpiresAt,
    pub(super) client_flags: u32,
    /// Last access, whole seconds since the Unix epoch (good until 2106).
    pub(super) last_access: u32,
    pub(super) key_len: u32,
    pub(super) bits: u8,
}

impl Entry {
    /// A new entry holding `key` and `value` in one allocation.
    pub(super) fn new(key: &[u8], value: &[u8], key_len: u32) -> Entry {
        Entry {
            payload: Payload::Bytes(join(key, &[], value, &[])),
            cas: 0,
            expires_at: ExpiresAt::NEVER,
            client_flags: 0,
            last_access: 0,
            key_len,
            bits: 0,
        }
    }

    pub(super) fn key(&self) -> &[u8] {
        let Payload::Bytes(data) = &self.payload;
        &data[..self.key_len as usize]
    }

    pub(super) fn value(&self) -> &[u8] {
        let Payload::Bytes(data) = &self.payload;
        &data[self.key_len as usize..]
    }

    /// Replaces the value with `prefix ++ middle ++ suffix`, where `middle`
    /// may name the current value; one new allocation keeps the key in front.
    fn rewrite_value(&mut self, prefix: &[u8], keep_middle: bool, suffix: &[u8]) {
        let Payload::Bytes(data) = &self.payload;
        let (key, value) = data.split_at(self.key_len as usize);
        let middle = if keep_middle { value } else { &[][..] };
        let joined = join(key, prefix, middle, suffix);
        self.payload = Payload::Bytes(joined);
    }

    /// Replaces the value, keeping the key.
    pub(super) fn set_value(&mut self, value: &[u8]) {
        self.rewrite_value(value, false, &[]);
    }

    /// Appends `data` to the value.
    pub(super) fn append_value(&mut self, data: &[u8]) {
        self.rewrite_value(&[], true, data);
    }

    /// Prepends `data` to the value.
    pub(super) fn prepend_value(&mut self, data: &[u8]) {
        self.rewrite_value(data, true, &[]);
    }

    pub(super) fn has(&self, bit: u8) -> bool {
        self.bits & bit != 0
    }

    pub(super) fn set(&mut self, bit: u8, on: bool) {
        if on {
            self.bits |= bit;
        } else {
            self.bits &= !bit;
        }
    }
}

/// One exact-size allocation holding `key ++ a ++ b ++ c`.
fn join(key: &[u8], a: &[u8], b: &[u8], c: &[u8]) -> Box<[u8]> {
    let mut data = Vec::with_capacity(key.len() + a.len() + b.len() + c.len());
    data.extend_from_slice(key);
    data.extend_from_slice(a);
    data.extend_from_slice(b);
    data.extend_from_slice(c);
    data.into_boxed_slice()
}
