//! A set of byte strings. A set whose members are all integers (in
//! Redis's canonical decimal form) and few is an "intset", a sorted
//! vector of `i64` searched by bisection; anything else makes it a
//! "hashtable", a hash set whose members can also be reached by position
//! (random members, scan cursors) in O(1).

use hashbrown::DefaultHashBuilder;
use indexmap::IndexSet;

use super::{Limits, ELEMENT_OVERHEAD};

/// Bytes counted per intset member.
const INT_BYTES: u64 = 8;
/// Bytes counted per hashtable member besides its bytes: the boxed slice,
/// the stored hash and the index slot.
const TABLE_MEMBER_OVERHEAD: u64 = ELEMENT_OVERHEAD + 16;

/// Distinct byte strings.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Set {
    repr: Repr,
    /// Heap bytes accounted, kept current by every change.
    bytes: u64,
}

#[derive(Debug, Clone, PartialEq)]
enum Repr {
    Ints(Vec<i64>),
    Table(IndexSet<Box<[u8]>, DefaultHashBuilder>),
}

impl Default for Repr {
    fn default() -> Repr {
        Repr::Ints(Vec::new())
    }
}

/// `member` as an intset integer: canonical decimal (what Redis's
/// `string2ll` accepts), within `i64`.
pub fn as_int(member: &[u8]) -> Option<i64> {
    let digits = member.strip_prefix(b"-").unwrap_or(member);
    let canonical = match digits {
        [] => false,
        [b'0'] => member.len() == 1,
        [first, ..] => *first != b'0' && digits.iter().all(u8::is_ascii_digit),
    };
    if !canonical || member.len() > 20 {
        return None;
    }
    std::str::from_utf8(member).ok()?.parse().ok()
}

fn table_bytes(member: &[u8]) -> u64 {
    TABLE_MEMBER_OVERHEAD + member.len() as u64
}

impl Set {
    /// Number of members.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Ints(ints) => ints.len(),
            Repr::Table(set) => set.len(),
        }
    }

    /// Whether it has no member.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Heap bytes of the members.
    pub fn heap_bytes(&self) -> u64 {
        self.bytes
    }

    /// `intset` or `hashtable`.
    pub fn encoding(&self) -> &'static str {
        match self.repr {
            Repr::Ints(_) => "intset",
            Repr::Table(_) => "hashtable",
        }
    }

    /// Whether `member` is in the set.
    pub fn contains(&self, member: &[u8]) -> bool {
        match &self.repr {
            Repr::Ints(ints) => as_int(member).is_some_and(|n| ints.binary_search(&n).is_ok()),
            Repr::Table(set) => set.contains(member),
        }
    }

    /// Adds `member`; returns whether it is new. Converts to a hashtable
    /// for a non-integer member or past `limits`.
    pub fn insert(&mut self, member: &[u8], limits: &Limits) -> bool {
        if let Repr::Ints(ints) = &mut self.repr {
            match as_int(member) {
                Some(n) => match ints.binary_search(&n) {
                    Ok(_) => return false,
                    Err(_) if ints.len() >= limits.set_max_intset_entries => self.convert(),
                    Err(at) => {
                        ints.insert(at, n);
                        self.bytes += INT_BYTES;
                        return true;
                    }
                },
                None => self.convert(),
            }
        }
        let Repr::Table(set) = &mut self.repr else {
            unreachable!("converted above");
        };
        let new = set.insert(member.into());
        if new {
            self.bytes += table_bytes(member);
        }
        new
    }

    /// Removes `member`; returns whether it was there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        let removed = match &mut self.repr {
            Repr::Ints(ints) => match as_int(member).map(|n| ints.binary_search(&n)) {
                Some(Ok(at)) => {
                    ints.remove(at);
                    self.bytes -= INT_BYTES;
                    return true;
                }
                _ => false,
            },
            Repr::Table(set) => set.swap_remove(member),
        };
        if removed {
            self.bytes -= table_bytes(member);
        }
        removed
    }

    /// Calls `visit` with every member (integers written into `buffer`).
    pub fn for_each(&self, buffer: &mut itoa::Buffer, mut visit: impl FnMut(&[u8])) {
        match &self.repr {
            Repr::Ints(ints) => ints
                .iter()
                .for_each(|&n| visit(buffer.format(n).as_bytes())),
            Repr::Table(set) => set.iter().for_each(|m| visit(m)),
        }
    }

    /// The member at `index` (below [`Set::len`]), as bytes.
    pub fn get_index(&self, index: usize) -> Option<Vec<u8>> {
        match &self.repr {
            Repr::Ints(ints) => ints
                .get(index)
                .map(|n| itoa::Buffer::new().format(*n).as_bytes().to_vec()),
            Repr::Table(set) => set.get_index(index).map(|m| m.to_vec()),
        }
    }

    /// Turns an intset into a hashtable.
    fn convert(&mut self) {
        let Repr::Ints(ints) = std::mem::take(&mut self.repr) else {
            return;
        };
        let mut set = IndexSet::with_capacity_and_hasher(ints.len(), DefaultHashBuilder::default());
        self.bytes = 0;
        let mut buffer = itoa::Buffer::new();
        for n in ints {
            let member = buffer.format(n).as_bytes();
            self.bytes += table_bytes(member);
            set.insert(member.into());
        }
        self.repr = Repr::Table(set);
    }
}
