//! Typed values: the hashes, lists and sets that an item may hold instead
//! of a byte string. Plain safe data structures, owned by their item (the
//! raw layer keeps a `Box<Collection>` behind the item's payload); they
//! know nothing of commands or replies.
//!
//! Each collection keeps its own heap size current as it changes
//! ([`Collection::heap_bytes`], a function of the lengths it holds, as the
//! store's `bytes` is), so the store adjusts `StoreStats::bytes` after a
//! change in O(1): see `Item::update_collection`, the one place that does.
//!
//! Small collections use a compact encoding and convert, once and for good,
//! to the full structure past the [`Limits`] (Redis's
//! `hash-max-listpack-entries` and friends); `OBJECT ENCODING` reports
//! which one a value uses.

mod hash;
mod list;
mod listpack;
mod ranked;
mod set;
mod zset;

pub use hash::Hash;
pub use list::List;
pub use set::Set;
pub use zset::ZSet;

/// The type of a key's value, as `TYPE` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A byte string.
    String,
    /// A [`Hash`](struct@Hash).
    Hash,
    /// A [`List`].
    List,
    /// A [`Set`].
    Set,
    /// A [`ZSet`].
    ZSet,
}

impl Kind {
    /// The name `TYPE` and `SCAN … TYPE` use.
    pub fn name(self) -> &'static str {
        match self {
            Kind::String => "string",
            Kind::Hash => "hash",
            Kind::List => "list",
            Kind::Set => "set",
            Kind::ZSet => "zset",
        }
    }
}

/// When a small encoding converts to the full one. The defaults are
/// Redis 7.0.15's (`CONFIG GET` on a server started without a file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `hash-max-listpack-entries`: most fields of a listpack hash.
    pub hash_max_listpack_entries: usize,
    /// `hash-max-listpack-value`: longest field or value of a listpack hash.
    pub hash_max_listpack_value: usize,
    /// `set-max-intset-entries`: most members of an intset.
    pub set_max_intset_entries: usize,
    /// `zset-max-listpack-entries`: most members of a listpack sorted set.
    pub zset_max_listpack_entries: usize,
    /// `zset-max-listpack-value`: longest member of a listpack sorted set.
    pub zset_max_listpack_value: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
        }
    }
}

/// One of the collection types, as commands of its family take it out of
/// a [`Collection`].
pub trait Typed: Sized {
    /// Its kind.
    const KIND: Kind;
    /// A new, empty collection of this type.
    fn empty() -> Collection;
    /// This type's value, if `collection` is one.
    fn of(collection: &Collection) -> Option<&Self>;
    /// This type's value to change, if `collection` is one.
    fn of_mut(collection: &mut Collection) -> Option<&mut Self>;
}

macro_rules! typed {
    ($type:ident) => {
        impl Typed for $type {
            const KIND: Kind = Kind::$type;
            fn empty() -> Collection {
                Collection::$type($type::default())
            }
            fn of(collection: &Collection) -> Option<&$type> {
                match collection {
                    Collection::$type(value) => Some(value),
                    _ => None,
                }
            }
            fn of_mut(collection: &mut Collection) -> Option<&mut $type> {
                match collection {
                    Collection::$type(value) => Some(value),
                    _ => None,
                }
            }
        }
    };
}

typed!(Hash);
typed!(List);
typed!(Set);
typed!(ZSet);

/// A typed value.
#[derive(Debug, Clone, PartialEq)]
pub enum Collection {
    Hash(Hash),
    List(List),
    Set(Set),
    ZSet(ZSet),
}

/// Bytes counted for the collection's own box (its enum and bookkeeping).
const BOX_BYTES: u64 = std::mem::size_of::<Collection>() as u64;

/// Bytes counted for one byte string inside a collection besides its
/// contents: the boxed slice's pointer and length.
pub(crate) const ELEMENT_OVERHEAD: u64 = 16;

impl Collection {
    /// Its type.
    pub fn kind(&self) -> Kind {
        match self {
            Collection::Hash(_) => Kind::Hash,
            Collection::List(_) => Kind::List,
            Collection::Set(_) => Kind::Set,
            Collection::ZSet(_) => Kind::ZSet,
        }
    }

    /// Its elements (fields of a hash, members of a set).
    pub fn len(&self) -> usize {
        match self {
            Collection::Hash(hash) => hash.len(),
            Collection::List(list) => list.len(),
            Collection::Set(set) => set.len(),
            Collection::ZSet(zset) => zset.len(),
        }
    }

    /// Whether it holds nothing (then its key goes).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The heap bytes it accounts for, box included, in O(1).
    pub fn heap_bytes(&self) -> u64 {
        BOX_BYTES
            + match self {
                Collection::Hash(hash) => hash.heap_bytes(),
                Collection::List(list) => list.heap_bytes(),
                Collection::Set(set) => set.heap_bytes(),
                Collection::ZSet(zset) => zset.heap_bytes(),
            }
    }

    /// Its encoding, as `OBJECT ENCODING` names it.
    pub fn encoding(&self) -> &'static str {
        match self {
            Collection::Hash(hash) => hash.encoding(),
            Collection::List(_) => "quicklist",
            Collection::Set(set) => set.encoding(),
            Collection::ZSet(zset) => zset.encoding(),
        }
    }

    /// Writes it for [`Collection::decode`] (a key moving to another shard
    /// or database): the kind, then each element length-prefixed.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut put = |bytes: &[u8]| {
            out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            out.extend_from_slice(bytes);
        };
        match self {
            Collection::Hash(hash) => {
                put(b"h");
                for (field, value) in hash.iter() {
                    put(field);
                    put(value);
                }
            }
            Collection::List(list) => {
                put(b"l");
                list.iter().for_each(put);
            }
            Collection::Set(set) => {
                put(b"s");
                let mut buffer = itoa::Buffer::new();
                set.for_each(&mut buffer, put);
            }
            Collection::ZSet(zset) => {
                // A skiplist stays one, as in Redis (none converts back).
                put(if zset.encoding() == "skiplist" {
                    b"Z"
                } else {
                    b"z"
                });
                for (member, score) in zset.iter() {
                    put(member);
                    put(&score.to_bits().to_le_bytes());
                }
            }
        }
    }

    /// Reads what [`Collection::encode`] wrote, encoding as `limits` give;
    /// `None` for anything else (a cut or corrupt encoding).
    pub fn decode(bytes: &[u8], limits: &Limits) -> Option<Collection> {
        let mut rest = bytes;
        let mut collection = match take(&mut rest)? {
            b"h" => Collection::Hash(Hash::default()),
            b"l" => Collection::List(List::default()),
            b"s" => Collection::Set(Set::default()),
            b"z" => Collection::ZSet(ZSet::default()),
            b"Z" => {
                let mut zset = ZSet::default();
                zset.convert();
                Collection::ZSet(zset)
            }
            _ => return None,
        };
        while !rest.is_empty() {
            let element = take(&mut rest)?;
            match &mut collection {
                Collection::Hash(hash) => {
                    hash.insert(element, take(&mut rest)?, limits);
                }
                Collection::List(list) => list.push_back(element),
                Collection::Set(set) => {
                    set.insert(element, limits);
                }
                Collection::ZSet(zset) => {
                    let bits = take(&mut rest)?.try_into().ok()?;
                    zset.insert(element, f64::from_bits(u64::from_le_bytes(bits)), limits);
                }
            }
        }
        Some(collection)
    }
}

/// The next length-prefixed element of an encoding.
fn take<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
    let (len, tail) = rest.split_first_chunk::<8>()?;
    let len = usize::try_from(u64::from_le_bytes(*len)).ok()?;
    if tail.len() < len {
        return None;
    }
    let (element, tail) = tail.split_at(len);
    *rest = tail;
    Some(element)
}

#[cfg(test)]
mod tests;
