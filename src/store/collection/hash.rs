//! A hash: fields mapped to values. Small hashes are a "listpack", a
//! vector of pairs searched in order (Redis's listpack keeps insertion
//! order too, so HGETALL answers alike); past the [`Limits`] it becomes a
//! "hashtable", an insertion-ordered hash map whose entries can also be
//! reached by position (random fields, scan cursors) in O(1).

use hashbrown::DefaultHashBuilder;
use indexmap::IndexMap;

use super::{Limits, ELEMENT_OVERHEAD};

/// Bytes counted per entry of the hashtable besides field and value: its
/// two boxed slices, the stored hash and the index slot.
const TABLE_ENTRY_OVERHEAD: u64 = 2 * ELEMENT_OVERHEAD + 16;

/// Fields to values.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Hash {
    repr: Repr,
    /// Heap bytes accounted, kept current by every change.
    bytes: u64,
}

/// One field and its value.
type Pair = (Box<[u8]>, Box<[u8]>);

#[derive(Debug, Clone, PartialEq)]
enum Repr {
    Listpack(Vec<Pair>),
    Table(IndexMap<Box<[u8]>, Box<[u8]>, DefaultHashBuilder>),
}

impl Default for Repr {
    fn default() -> Repr {
        Repr::Listpack(Vec::new())
    }
}

/// The bytes an entry counts in the given encoding.
fn entry_bytes(table: bool, field: &[u8], value: &[u8]) -> u64 {
    let overhead = if table {
        TABLE_ENTRY_OVERHEAD
    } else {
        2 * ELEMENT_OVERHEAD
    };
    overhead + field.len() as u64 + value.len() as u64
}

impl Hash {
    /// Number of fields.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Listpack(pairs) => pairs.len(),
            Repr::Table(map) => map.len(),
        }
    }

    /// Whether it has no field.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Heap bytes of the entries.
    pub fn heap_bytes(&self) -> u64 {
        self.bytes
    }

    /// `listpack` or `hashtable`.
    pub fn encoding(&self) -> &'static str {
        match self.repr {
            Repr::Listpack(_) => "listpack",
            Repr::Table(_) => "hashtable",
        }
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match &self.repr {
            Repr::Listpack(pairs) => pairs.iter().find(|(f, _)| &**f == field).map(|(_, v)| &**v),
            Repr::Table(map) => map.get(field).map(|v| &**v),
        }
    }

    /// Sets `field` to `value`; returns whether the field is new. Converts
    /// to a hashtable when the hash outgrows `limits`.
    pub fn insert(&mut self, field: &[u8], value: &[u8], limits: &Limits) -> bool {
        if let Repr::Listpack(pairs) = &self.repr {
            let too_long = field.len().max(value.len()) > limits.hash_max_listpack_value;
            let too_many = pairs.len() >= limits.hash_max_listpack_entries
                && !pairs.iter().any(|(f, _)| &**f == field);
            if too_long || too_many {
                self.convert();
            }
        }
        let table = matches!(self.repr, Repr::Table(_));
        let old = match &mut self.repr {
            Repr::Listpack(pairs) => match pairs.iter_mut().find(|(f, _)| &**f == field) {
                Some((_, old)) => Some(std::mem::replace(old, value.into())),
                None => {
                    pairs.push((field.into(), value.into()));
                    None
                }
            },
            Repr::Table(map) => map.insert(field.into(), value.into()),
        };
        self.bytes += entry_bytes(table, field, value);
        match old {
            Some(old) => {
                self.bytes -= entry_bytes(table, field, &old);
                false
            }
            None => true,
        }
    }

    /// Removes `field`; returns whether it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        let (table, removed) = match &mut self.repr {
            Repr::Listpack(pairs) => {
                let at = pairs.iter().position(|(f, _)| &**f == field);
                (false, at.map(|at| pairs.remove(at).1))
            }
            // Order is not kept once converted (as Redis's dict): O(1).
            Repr::Table(map) => (true, map.swap_remove(field)),
        };
        match removed {
            Some(value) => {
                self.bytes -= entry_bytes(table, field, &value);
                true
            }
            None => false,
        }
    }

    /// Every field and value.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        let (pairs, map) = match &self.repr {
            Repr::Listpack(pairs) => (Some(pairs), None),
            Repr::Table(map) => (None, Some(map)),
        };
        let pairs = pairs.into_iter().flatten().map(|(f, v)| (&**f, &**v));
        let map = map.into_iter().flatten().map(|(f, v)| (&**f, &**v));
        pairs.chain(map)
    }

    /// The entry at `index` (below [`Hash::len`]) in the hash's order.
    pub fn get_index(&self, index: usize) -> Option<(&[u8], &[u8])> {
        match &self.repr {
            Repr::Listpack(pairs) => pairs.get(index).map(|(f, v)| (&**f, &**v)),
            Repr::Table(map) => map.get_index(index).map(|(f, v)| (&**f, &**v)),
        }
    }

    /// Turns a listpack into a hashtable.
    fn convert(&mut self) {
        let Repr::Listpack(pairs) = std::mem::take(&mut self.repr) else {
            return;
        };
        let mut map =
            IndexMap::with_capacity_and_hasher(pairs.len(), DefaultHashBuilder::default());
        self.bytes = 0;
        for (field, value) in pairs {
            self.bytes += entry_bytes(true, &field, &value);
            map.insert(field, value);
        }
        self.repr = Repr::Table(map);
    }
}
