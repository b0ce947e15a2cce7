//! The ordered part of a sorted set: (score, member) entries in Redis's
//! order, held in chunks of at most [`CHUNK_MAX`] sorted entries (a
//! one-level B+tree). Finding an entry is two binary searches, one over the
//! chunks' last entries and one inside a chunk; inserting or removing
//! moves at most one chunk's tail, never the whole set. A rank adds up the
//! lengths of the chunks before the entry's, so rank costs
//! O(log n + n / CHUNK_MAX): a few thousand additions at a million members,
//! where one sorted vector moved megabytes on every insert.

use std::cmp::Ordering;

/// A chunk splits in two past this many entries.
#[cfg(not(test))]
const CHUNK_MAX: usize = 512;
/// Small in unit tests, so that a few hundred operations split and empty
/// chunks.
#[cfg(test)]
const CHUNK_MAX: usize = 4;

/// One entry: the score (never NaN) and the member.
pub type Entry = (f64, Box<[u8]>);

/// Entries sorted by (score, member bytes).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Ranked {
    /// Non-empty sorted chunks, each after the previous one.
    chunks: Vec<Vec<Entry>>,
    len: usize,
}

/// Redis's order of (score, member) against an entry.
fn compare(entry: &Entry, score: f64, member: &[u8]) -> Ordering {
    entry
        .0
        .partial_cmp(&score)
        .unwrap_or(Ordering::Equal)
        .then_with(|| (*entry.1).cmp(member))
}

impl Ranked {
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it has no entry.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The chunk (score, member) is in or belongs in: the first whose last
    /// entry is not below it (the last chunk if every chunk is).
    fn chunk_of(&self, score: f64, member: &[u8]) -> usize {
        let at = self.chunks.partition_point(|chunk| {
            chunk
                .last()
                .is_some_and(|last| compare(last, score, member) == Ordering::Less)
        });
        at.min(self.chunks.len().saturating_sub(1))
    }

    /// Entries in the chunks before `chunk`.
    fn before(&self, chunk: usize) -> usize {
        self.chunks[..chunk].iter().map(Vec::len).sum()
    }

    /// The rank of (`score`, `member`), or the rank it would take.
    pub fn position(&self, score: f64, member: &[u8]) -> Result<usize, usize> {
        if self.chunks.is_empty() {
            return Err(0);
        }
        let chunk = self.chunk_of(score, member);
        let before = self.before(chunk);
        match self.chunks[chunk].binary_search_by(|entry| compare(entry, score, member)) {
            Ok(at) => Ok(before + at),
            Err(at) => Err(before + at),
        }
    }

    /// Adds an entry not present yet.
    pub fn insert(&mut self, score: f64, member: Box<[u8]>) {
        self.len += 1;
        if self.chunks.is_empty() {
            self.chunks.push(vec![(score, member)]);
            return;
        }
        let chunk = self.chunk_of(score, &member);
        let entries = &mut self.chunks[chunk];
        let at = entries
            .binary_search_by(|entry| compare(entry, score, &member))
            .unwrap_or_else(|at| at);
        entries.insert(at, (score, member));
        if entries.len() > CHUNK_MAX {
            let upper = entries.split_off(entries.len() / 2);
            self.chunks.insert(chunk + 1, upper);
        }
    }

    /// Removes (`score`, `member`); returns its member box if it was there.
    pub fn remove(&mut self, score: f64, member: &[u8]) -> Option<Box<[u8]>> {
        if self.chunks.is_empty() {
            return None;
        }
        let chunk = self.chunk_of(score, member);
        let at = self.chunks[chunk]
            .binary_search_by(|entry| compare(entry, score, member))
            .ok()?;
        Some(self.remove_at(chunk, at).1)
    }

    /// Removes entry `at` of `chunk`, dropping the chunk if it empties.
    fn remove_at(&mut self, chunk: usize, at: usize) -> Entry {
        let entry = self.chunks[chunk].remove(at);
        if self.chunks[chunk].is_empty() {
            self.chunks.remove(chunk);
        }
        self.len -= 1;
        entry
    }

    /// The chunk and offset of `rank` (`rank < len`).
    fn locate(&self, mut rank: usize) -> (usize, usize) {
        for (index, chunk) in self.chunks.iter().enumerate() {
            if rank < chunk.len() {
                return (index, rank);
            }
            rank -= chunk.len();
        }
        (self.chunks.len(), 0)
    }

    /// The entry at `rank`.
    pub fn get(&self, rank: usize) -> Option<&Entry> {
        if rank >= self.len {
            return None;
        }
        let (chunk, at) = self.locate(rank);
        Some(&self.chunks[chunk][at])
    }

    /// The entries of ranks `start..end` (clamped), lowest first.
    pub fn range(&self, start: usize, end: usize) -> impl DoubleEndedIterator<Item = &Entry> {
        let end = end.min(self.len);
        let start = start.min(end);
        let (first, first_at) = self.locate(start);
        let (last, last_end) = if end == 0 {
            (0, 0)
        } else {
            let (chunk, at) = self.locate(end - 1);
            (chunk, at + 1)
        };
        let chunks: &[Vec<Entry>] = if start == end {
            &[]
        } else {
            &self.chunks[first..=last]
        };
        let count = chunks.len();
        chunks.iter().enumerate().flat_map(move |(index, chunk)| {
            let from = if index == 0 { first_at } else { 0 };
            let to = if index + 1 == count {
                last_end
            } else {
                chunk.len()
            };
            chunk[from..to].iter()
        })
    }

    /// The number of entries before the first one for which `above` holds
    /// (`above` must be false then true along the order).
    pub fn partition(&self, above: impl Fn(&Entry) -> bool) -> usize {
        let chunk = self
            .chunks
            .partition_point(|chunk| chunk.last().is_some_and(|last| !above(last)));
        if chunk == self.chunks.len() {
            return self.len;
        }
        self.before(chunk) + self.chunks[chunk].partition_point(|entry| !above(entry))
    }

    /// Removes up to `count` entries from the lowest end (`max`: the
    /// highest), in that order.
    pub fn pop(&mut self, max: bool, count: usize) -> Vec<Entry> {
        let count = count.min(self.len);
        let mut taken = Vec::with_capacity(count);
        while taken.len() < count {
            let entry = if max {
                let chunk = self.chunks.len() - 1;
                let at = self.chunks[chunk].len() - 1;
                self.remove_at(chunk, at)
            } else {
                self.remove_at(0, 0)
            };
            taken.push(entry);
        }
        taken
    }

    /// Removes and returns the entries of ranks `start..end` (clamped).
    pub fn remove_range(&mut self, start: usize, end: usize) -> Vec<Entry> {
        let end = end.min(self.len);
        let start = start.min(end);
        if start == end {
            return Vec::new();
        }
        let mut all: Vec<Entry> = std::mem::take(&mut self.chunks)
            .into_iter()
            .flatten()
            .collect();
        let removed: Vec<Entry> = all.drain(start..end).collect();
        self.len = all.len();
        let mut rest = all.into_iter().peekable();
        while rest.peek().is_some() {
            self.chunks
                .push(rest.by_ref().take(CHUNK_MAX / 2 + 1).collect());
        }
        removed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn entry(score: i8, member: u8) -> (f64, Vec<u8>) {
        (f64::from(score), vec![member])
    }

    fn sorted(model: &[(f64, Vec<u8>)]) -> Vec<(f64, Vec<u8>)> {
        let mut all = model.to_vec();
        all.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap().then_with(|| a.1.cmp(&b.1)));
        all
    }

    proptest! {
        /// Every operation agrees with one sorted vector.
        #[test]
        fn agrees_with_a_sorted_vector(ops in prop::collection::vec((0u8..6, -4i8..4, 0u8..30, 0usize..40, 0usize..40), 0..200)) {
            let mut ranked = Ranked::default();
            let mut model: Vec<(f64, Vec<u8>)> = Vec::new();
            for (op, score, member, a, b) in ops {
                let (score, member) = entry(score, member);
                let present = model.iter().any(|(s, m)| *s == score && *m == member);
                match op {
                    0 | 1 if !present => {
                        ranked.insert(score, member.clone().into());
                        model.push((score, member));
                        model = sorted(&model);
                    }
                    2 => {
                        let removed = ranked.remove(score, &member);
                        prop_assert_eq!(removed.is_some(), present);
                        model.retain(|(s, m)| !(*s == score && *m == member));
                    }
                    3 => {
                        let taken = ranked.pop(a % 2 == 0, b % 5);
                        let count = (b % 5).min(model.len());
                        let expected: Vec<_> = if a % 2 == 0 {
                            model.drain(model.len() - count..).rev().collect()
                        } else {
                            model.drain(..count).collect()
                        };
                        let taken: Vec<_> = taken.into_iter().map(|(s, m)| (s, m.to_vec())).collect();
                        prop_assert_eq!(taken, expected);
                    }
                    4 => {
                        let (from, to) = (a.min(b), a.max(b));
                        let removed: Vec<_> = ranked.remove_range(from, to).into_iter().map(|(s, m)| (s, m.to_vec())).collect();
                        let to = to.min(model.len());
                        let from = from.min(to);
                        let expected: Vec<_> = model.drain(from..to).collect();
                        prop_assert_eq!(removed, expected);
                    }
                    _ => {}
                }
                prop_assert_eq!(ranked.len(), model.len());
                for (rank, (score, member)) in model.iter().enumerate() {
                    prop_assert_eq!(ranked.position(*score, member), Ok(rank));
                    let got = ranked.get(rank).map(|(s, m)| (*s, m.to_vec()));
                    prop_assert_eq!(got, Some((*score, member.clone())));
                }
                let (from, to) = (a.min(b), a.max(b));
                let forward: Vec<_> = ranked.range(from, to).map(|(s, m)| (*s, m.to_vec())).collect();
                let to = to.min(model.len());
                let from = from.min(to);
                prop_assert_eq!(&forward[..], &model[from..to]);
                let backward: Vec<_> = ranked.range(from, to).rev().map(|(s, m)| (*s, m.to_vec())).collect();
                let mut reversed = model[from..to].to_vec();
                reversed.reverse();
                prop_assert_eq!(backward, reversed);
                let probe = f64::from(a as i8 % 4);
                let below = model.iter().filter(|(s, _)| *s < probe).count();
                prop_assert_eq!(ranked.partition(|(s, _)| *s >= probe), below);
                let missing_at = model.partition_point(|(s, m)| (*s, &m[..]) < (probe, &[200u8][..]));
                prop_assert_eq!(ranked.position(probe, &[200]), Err(missing_at));
            }
        }
    }
}
