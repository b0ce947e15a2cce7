//! A sorted set: members with scores, ordered by (score, member bytes) as
//! Redis orders them. The members are kept in that order in a [`Ranked`]
//! sequence of sorted chunks, so rank, range by rank, by score and by member
//! are binary searches plus a walk over chunk lengths, a range costs its
//! length, and an insertion or a removal moves at most one chunk's tail.
//! Small sets ("listpack") find a member by walking the order; past the
//! [`Limits`] a member-to-score map is added ("skiplist"), so a member's
//! score is found in O(1).

use hashbrown::HashMap;

use super::ranked::Ranked;
use super::{Limits, ELEMENT_OVERHEAD};

/// Bytes counted per entry besides the member: the score and the boxed
/// slice in the ordered vector.
const ENTRY_OVERHEAD: u64 = ELEMENT_OVERHEAD + 8;
/// Bytes counted per map entry besides the member: its boxed slice, the
/// score and the hash slot.
const MAP_ENTRY_OVERHEAD: u64 = ELEMENT_OVERHEAD + 16;

/// Members with scores.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ZSet {
    /// (score, member), sorted; scores are never NaN.
    order: Ranked,
    /// member -> score, once converted.
    index: Option<HashMap<Box<[u8]>, f64>>,
    /// Heap bytes accounted, kept current by every change.
    bytes: u64,
}

impl ZSet {
    /// Number of members.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether it has no member.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Heap bytes of the entries.
    pub fn heap_bytes(&self) -> u64 {
        self.bytes
    }

    /// `listpack` or `skiplist`.
    pub fn encoding(&self) -> &'static str {
        match self.index {
            None => "listpack",
            Some(_) => "skiplist",
        }
    }

    /// The score of `member`.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match &self.index {
            Some(map) => map.get(member).copied(),
            None => self
                .order
                .range(0, usize::MAX)
                .find(|(_, m)| &**m == member)
                .map(|(s, _)| *s),
        }
    }

    /// The position of (`score`, `member`) in the order, or where it goes.
    fn position(&self, score: f64, member: &[u8]) -> Result<usize, usize> {
        self.order.position(score, member)
    }

    /// The 0-based rank of `member` (lowest score first).
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        let score = self.score(member)?;
        self.position(score, member).ok()
    }

    /// Sets `member`'s score (never NaN); returns its old score, if any.
    /// Converts to a skiplist when the set outgrows `limits`.
    pub fn insert(&mut self, member: &[u8], score: f64, limits: &Limits) -> Option<f64> {
        let old = self.score(member);
        if let Some(old) = old {
            if let Some(boxed) = self.order.remove(old, member) {
                self.order.insert(score, boxed);
            }
            if let Some(map) = &mut self.index {
                map.insert(member.into(), score);
            }
            return Some(old);
        }
        if self.index.is_none()
            && (member.len() > limits.zset_max_listpack_value
                || self.order.len() >= limits.zset_max_listpack_entries)
        {
            self.convert();
        }
        self.order.insert(score, member.into());
        self.bytes += ENTRY_OVERHEAD + member.len() as u64;
        if let Some(map) = &mut self.index {
            map.insert(member.into(), score);
            self.bytes += MAP_ENTRY_OVERHEAD + member.len() as u64;
        }
        None
    }

    /// Removes `member`; returns whether it was there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        let Some(score) = self.score(member) else {
            return false;
        };
        self.order.remove(score, member);
        self.bytes -= ENTRY_OVERHEAD + member.len() as u64;
        if let Some(map) = &mut self.index {
            map.remove(member);
            self.bytes -= MAP_ENTRY_OVERHEAD + member.len() as u64;
        }
        true
    }

    /// The entry at `rank` (0 = lowest).
    pub fn get_index(&self, rank: usize) -> Option<(&[u8], f64)> {
        self.order.get(rank).map(|(s, m)| (&**m, *s))
    }

    /// The entries of ranks `start..end`, lowest first.
    pub fn range(&self, start: usize, end: usize) -> impl DoubleEndedIterator<Item = (&[u8], f64)> {
        self.order.range(start, end).map(|(s, m)| (&**m, *s))
    }

    /// The number of entries before the first one for which `above` holds
    /// (`above` must be false then true along the order).
    pub fn partition(&self, above: impl Fn(f64, &[u8]) -> bool) -> usize {
        self.order.partition(|(s, m)| above(*s, m))
    }

    /// Every entry, lowest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&[u8], f64)> {
        self.range(0, self.order.len())
    }

    /// Removes and returns up to `count` entries from the lowest end
    /// (`max`: from the highest), in that order (ZPOPMIN/ZPOPMAX and their
    /// blocking forms).
    pub fn pop(&mut self, max: bool, count: usize) -> Vec<(Box<[u8]>, f64)> {
        let taken = self.order.pop(max, count);
        for (_, member) in &taken {
            self.bytes -= ENTRY_OVERHEAD + member.len() as u64;
            if let Some(map) = &mut self.index {
                map.remove(member);
                self.bytes -= MAP_ENTRY_OVERHEAD + member.len() as u64;
            }
        }
        taken.into_iter().map(|(s, m)| (m, s)).collect()
    }

    /// Removes the entries of ranks `start..end`; returns how many.
    pub fn remove_range(&mut self, start: usize, end: usize) -> usize {
        let removed = self.order.remove_range(start, end);
        let count = removed.len();
        for (_, member) in removed {
            self.bytes -= ENTRY_OVERHEAD + member.len() as u64;
            if let Some(map) = &mut self.index {
                map.remove(&member);
                self.bytes -= MAP_ENTRY_OVERHEAD + member.len() as u64;
            }
        }
        count
    }

    /// Adds the member-to-score map (a "skiplist" from then on).
    pub fn convert(&mut self) {
        if self.index.is_some() {
            return;
        }
        let mut map = HashMap::with_capacity(self.order.len());
        for (score, member) in self.order.range(0, usize::MAX) {
            self.bytes += MAP_ENTRY_OVERHEAD + member.len() as u64;
            map.insert(member.clone(), *score);
        }
        self.index = Some(map);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// The ordered model: (score bits made orderable, member) -> ().
    fn model_order(model: &BTreeMap<Vec<u8>, i32>) -> Vec<(f64, Vec<u8>)> {
        let mut all: Vec<(f64, Vec<u8>)> = model
            .iter()
            .map(|(m, s)| (f64::from(*s), m.clone()))
            .collect();
        all.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        all
    }

    proptest! {
        #[test]
        fn agrees_with_a_model(ops in prop::collection::vec((0u8..3, 0u8..40, -5i32..5), 0..300)) {
            let limits = Limits { zset_max_listpack_entries: 16, ..Limits::default() };
            let mut zset = ZSet::default();
            let mut model = BTreeMap::new();
            for (op, member, score) in ops {
                let member = vec![b'a' + member % 26; 1 + usize::from(member / 26)];
                match op {
                    0 | 1 => {
                        let old = zset.insert(&member, f64::from(score), &limits);
                        prop_assert_eq!(old, model.insert(member.clone(), score).map(f64::from));
                    }
                    _ => prop_assert_eq!(zset.remove(&member), model.remove(&member).is_some()),
                }
                let order = model_order(&model);
                prop_assert_eq!(zset.len(), order.len());
                for (rank, (score, member)) in order.iter().enumerate() {
                    prop_assert_eq!(zset.rank(member), Some(rank));
                    prop_assert_eq!(zset.get_index(rank), Some((&member[..], *score)));
                }
                let below_zero = order.iter().filter(|(s, _)| *s < 0.0).count();
                prop_assert_eq!(zset.partition(|s, _| s >= 0.0), below_zero);
            }
            zset.pop(false, usize::MAX);
            prop_assert_eq!(zset.heap_bytes(), 0);
        }
    }

    #[test]
    fn converts_past_the_limits() {
        let limits = Limits::default();
        let mut zset = ZSet::default();
        for n in 0..128 {
            zset.insert(format!("m{n}").as_bytes(), f64::from(n), &limits);
        }
        assert_eq!(zset.encoding(), "listpack");
        zset.insert(b"one more", 1.0, &limits);
        assert_eq!(zset.encoding(), "skiplist");
        let mut long = ZSet::default();
        long.insert(&[b'x'; 65], 1.0, &limits);
        assert_eq!(long.encoding(), "skiplist");
        assert_eq!(long.score(&[b'x'; 65]), Some(1.0));
        assert!(long.remove(&[b'x'; 65]));
        assert_eq!(long.heap_bytes(), 0);
        assert_eq!(zset.remove_range(0, 200), 129);
        assert_eq!(zset.heap_bytes(), 0);
    }
}
