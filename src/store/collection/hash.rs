//! A hash: fields mapped to values. Small hashes are a [`Listpack`] of
//! field, value, field, value… searched in order (Redis's listpack keeps
//! insertion order too, so HGETALL answers alike); past the [`Limits`] it
//! becomes a
//! "hashtable", an insertion-ordered hash map whose entries can also be
//! reached by position (random fields, scan cursors) in O(1).

use hashbrown::DefaultHashBuilder;
use indexmap::IndexMap;

use super::listpack::{Listpack, Span};
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

#[derive(Debug, Clone, PartialEq)]
enum Repr {
    /// Field, value, field, value… and the number of fields.
    Listpack(Listpack, usize),
    Table(IndexMap<Box<[u8]>, Box<[u8]>, DefaultHashBuilder>),
}

impl Default for Repr {
    fn default() -> Repr {
        Repr::Listpack(Listpack::default(), 0)
    }
}

/// The bytes a hashtable entry counts.
fn table_entry_bytes(field: &[u8], value: &[u8]) -> u64 {
    TABLE_ENTRY_OVERHEAD + field.len() as u64 + value.len() as u64
}

/// A listpack's fields and values, with where they lie.
fn pairs(pack: &Listpack) -> impl Iterator<Item = (Span, &[u8], Span, &[u8])> {
    let mut spans = pack.spans();
    std::iter::from_fn(move || {
        let (field_span, field) = spans.next()?;
        let (value_span, value) = spans.next()?;
        Some((field_span, field, value_span, value))
    })
}

/// Where `field`'s pair lies in a listpack: field span, value span.
fn find(pack: &Listpack, field: &[u8]) -> Option<(Span, Span)> {
    pairs(pack)
        .find(|(_, f, _, _)| *f == field)
        .map(|(field, _, value, _)| (field, value))
}

impl Hash {
    /// Number of fields.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Listpack(_, len) => *len,
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
            Repr::Listpack(..) => "listpack",
            Repr::Table(_) => "hashtable",
        }
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match &self.repr {
            Repr::Listpack(pack, _) => pairs(pack)
                .find(|(_, f, _, _)| *f == field)
                .map(|(_, _, _, v)| v),
            Repr::Table(map) => map.get(field).map(|v| &**v),
        }
    }

    /// Sets `field` to `value`; returns whether the field is new. Converts
    /// to a hashtable when the hash outgrows `limits`.
    pub fn insert(&mut self, field: &[u8], value: &[u8], limits: &Limits) -> bool {
        if let Repr::Listpack(pack, len) = &self.repr {
            let too_long = field.len().max(value.len()) > limits.hash_max_listpack_value;
            let too_many = *len >= limits.hash_max_listpack_entries && find(pack, field).is_none();
            if too_long || too_many {
                self.convert();
            }
        }
        match &mut self.repr {
            Repr::Listpack(pack, len) => {
                let new = match find(pack, field) {
                    Some((_, value_span)) => {
                        pack.splice(value_span.start, value_span.end, &[value]);
                        false
                    }
                    None => {
                        pack.push(&[field, value]);
                        *len += 1;
                        true
                    }
                };
                self.bytes = pack.heap_bytes() as u64;
                new
            }
            Repr::Table(map) => {
                self.bytes += table_entry_bytes(field, value);
                match map.insert(field.into(), value.into()) {
                    Some(old) => {
                        self.bytes -= table_entry_bytes(field, &old);
                        false
                    }
                    None => true,
                }
            }
        }
    }

    /// Removes `field`; returns whether it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Listpack(pack, len) => {
                let Some((field_span, value_span)) = find(pack, field) else {
                    return false;
                };
                pack.splice(field_span.start, value_span.end, &[]);
                *len -= 1;
                self.bytes = pack.heap_bytes() as u64;
                true
            }
            // Order is not kept once converted (as Redis's dict): O(1).
            Repr::Table(map) => match map.swap_remove(field) {
                Some(value) => {
                    self.bytes -= table_entry_bytes(field, &value);
                    true
                }
                None => false,
            },
        }
    }

    /// Every field and value.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        let (pack, map) = match &self.repr {
            Repr::Listpack(pack, _) => (Some(pack), None),
            Repr::Table(map) => (None, Some(map)),
        };
        let packed = pack.into_iter().flat_map(pairs).map(|(_, f, _, v)| (f, v));
        let map = map.into_iter().flatten().map(|(f, v)| (&**f, &**v));
        packed.chain(map)
    }

    /// The entry at `index` (below [`Hash::len`]) in the hash's order
    /// (O(n) in a listpack, O(1) in a hashtable).
    pub fn get_index(&self, index: usize) -> Option<(&[u8], &[u8])> {
        match &self.repr {
            Repr::Listpack(pack, _) => pairs(pack).nth(index).map(|(_, f, _, v)| (f, v)),
            Repr::Table(map) => map.get_index(index).map(|(f, v)| (&**f, &**v)),
        }
    }

    /// Turns a listpack into a hashtable.
    fn convert(&mut self) {
        let Repr::Listpack(pack, len) = std::mem::take(&mut self.repr) else {
            return;
        };
        let mut map = IndexMap::with_capacity_and_hasher(len, DefaultHashBuilder::default());
        self.bytes = 0;
        for (_, field, _, value) in pairs(&pack) {
            self.bytes += table_entry_bytes(field, value);
            map.insert(field.into(), value.into());
        }
        self.repr = Repr::Table(map);
    }
}
