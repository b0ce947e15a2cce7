//! The memory limit and eviction: what a store does when a write would
//! take it past its limit, and the per-item bookkeeping the policies need.
//!
//! Accounting goes through one place, [`Store::charge`]: every change of an
//! item's block (insert, overwrite, append, removal, flush) reports its old
//! and new footprint there, and a value kind with heap parts of its own
//! (collections) reports their growth the same way. `used_memory` is then
//! the item blocks' real sizes (mimalloc's usable size) plus the index
//! table's capacity plus the S3-FIFO queues and ghost.
//!
//! Victims, per policy, never by a pass over the keyspace:
//! - S3-FIFO pops the small queue's head while that queue holds at least
//!   10% of the queued items (promoting it to main if it was accessed,
//!   else evicting it into the ghost), else main's head (reinserted with
//!   its frequency decremented while it has one). Amortized O(1); one call
//!   takes at most [`MAX_FIFO_STEPS`] pops, then falls back to a random
//!   victim (items stored before a switch to S3-FIFO are in no queue, and
//!   are found that way too).
//! - The others sample as Redis does (`maxmemory-samples` 5): from a random
//!   bucket of the index, the next [`SAMPLES`] eligible items within
//!   [`SAMPLE_BUCKETS`] buckets, and evict the oldest access (LRU), the
//!   lowest decayed counter (LFU), the nearest expiry (TTL) or the first
//!   (random). Volatile policies consider only items with a time to live;
//!   finding none in a few rounds of sampling, they evict nothing.
//!
//! An expired item met while sampling is reclaimed as expired instead.
//!
//! LFU keeps a 4-bit logarithmic counter in the header's policy bits
//! (Redis keeps 8): incremented with probability 1/((c - 3)·10 + 1), so 15
//! takes about 460 accesses, and decremented by one per minute idle, the
//! idle time read from the item's last access (which an access under LFU
//! sets). LRU reads the last access, whole seconds (Redis's LRU clock has
//! a one-second resolution too).

use super::raw::{bits, block_size, SlotId};
use super::s3fifo::{self, S3Fifo};
use super::{EvictionPolicy, Store};
use crate::clock::Now;

/// Candidates a sampled policy compares (Redis's `maxmemory-samples`).
const SAMPLES: usize = 5;

/// Buckets one sampling round reads at most.
const SAMPLE_BUCKETS: usize = 16;

/// Sampling rounds before a volatile policy gives up.
const SAMPLE_ROUNDS: usize = 8;

/// Queue pops one S3-FIFO eviction takes at most.
pub(super) const MAX_FIFO_STEPS: usize = 1024;

/// Evictions one [`Store::make_room`] performs at most (a request never
/// waits for more; a lowered limit is reached over several turns).
const MAX_EVICTIONS_PER_CALL: usize = 4096;

/// A new item's LFU counter (Redis's `LFU_INIT_VAL`, on a 4-bit scale).
pub(super) const LFU_INIT: u8 = 3;
/// Redis's `lfu-log-factor`.
const LFU_LOG_FACTOR: u32 = 10;
/// The counter's ceiling.
const LFU_MAX: u8 = 15;

/// The store's memory limit and its eviction state.
#[derive(Debug)]
pub(super) struct Memory {
    /// Bytes this store may use; 0 = no limit.
    pub(super) limit: u64,
    pub(super) policy: EvictionPolicy,
    /// Bytes of item blocks (and collections' heap parts), from `charge`.
    pub(super) items: u64,
    pub(super) fifo: S3Fifo,
    /// xorshift64 state for sampling and the LFU counter.
    rng: u64,
    /// The active expiry cycle's position, a bucket number.
    pub(super) expire_cursor: usize,
    /// The latest clock reading the store was given (for evictions that
    /// a value change triggers, which is not given one).
    pub(super) now: Now,
}

impl Default for Memory {
    fn default() -> Memory {
        Memory {
            limit: 0,
            policy: EvictionPolicy::default(),
            items: 0,
            fifo: S3Fifo::default(),
            rng: 0x9e37_79b9_7f4a_7c15,
            expire_cursor: 0,
            now: Now(0),
        }
    }
}

impl Memory {
    /// A pseudo-random number (xorshift64: sampling needs no more).
    pub(super) fn random(&mut self) -> u64 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        x
    }
}

/// The LFU counter in a header's bits.
fn lfu_counter(header_bits: u8) -> u8 {
    (header_bits & bits::POLICY) >> 4
}

/// `header_bits` with the LFU counter `counter`.
fn with_lfu_counter(header_bits: u8, counter: u8) -> u8 {
    (header_bits & !bits::POLICY) | (counter.min(LFU_MAX) << 4)
}

/// The counter after `idle_secs` without access (one per minute).
fn lfu_decayed(counter: u8, idle_secs: u64) -> u8 {
    let minutes = (idle_secs / 60).min(u64::from(LFU_MAX)) as u8;
    counter.saturating_sub(minutes)
}

impl Store {
    /// Bytes this store uses: its item blocks, its index table and its
    /// eviction queues.
    pub fn used_memory(&self) -> u64 {
        self.memory.items + self.overhead_bytes()
    }

    /// The memory limit (0 = none) and policy in force.
    pub fn memory_limit(&self) -> (u64, EvictionPolicy) {
        (self.memory.limit, self.memory.policy)
    }

    /// Sets the memory limit (bytes, 0 = none) and the eviction policy.
    /// Nothing is evicted here: the next write, or [`Store::enforce_limit`],
    /// does that. A change of policy clears the old one's per-item bits
    /// (one pass over the items) and drops the S3-FIFO queues when leaving
    /// S3-FIFO.
    pub fn set_memory_limit(&mut self, limit: u64, policy: EvictionPolicy) {
        self.memory.limit = limit;
        if policy != self.memory.policy {
            let old = self.memory.policy;
            self.memory.policy = policy;
            if old.is_lfu() != policy.is_lfu() || old == EvictionPolicy::AllKeysS3Fifo {
                self.memory.fifo.clear();
                let init = if policy.is_lfu() { LFU_INIT << 4 } else { 0 };
                self.index.for_each_mut(|item| {
                    let header = item.into_header_mut();
                    header.bits = (header.bits & !bits::POLICY) | init;
                });
            }
            self.refresh_used();
        }
    }

    /// Reports that an item's (or a collection's) memory changed from
    /// `old` to `new` bytes: the one place `used_memory` is kept.
    pub fn charge(&mut self, old: usize, new: usize) {
        self.memory.items = (self.memory.items + new as u64).saturating_sub(old as u64);
        self.refresh_used();
    }

    /// Publishes `used_memory` into the store's counters.
    pub(super) fn refresh_used(&mut self) {
        self.stats.used_memory = self.used_memory();
    }

    /// Bytes besides the items: the index table and the eviction queues.
    fn overhead_bytes(&self) -> u64 {
        (self.index.table_bytes() + self.memory.fifo.bytes()) as u64
    }

    /// Whether a write may go ahead: evicts, if the policy allows, until
    /// the store is within its limit. `false` means over the limit with
    /// nothing (more) to evict: the caller refuses the write (RESP's
    /// `-OOM`, memcached's `SERVER_ERROR out of memory storing object`).
    pub fn make_room_for_write(&mut self, now: Now) -> bool {
        self.make_room(0, None, now)
    }

    /// Evicts up to `max` items while over the limit (a lowered limit, or
    /// another database of the shard that grew); returns how many it
    /// evicted. The shard calls it once per turn.
    pub fn enforce_limit(&mut self, max: usize, now: Now) -> usize {
        let mut evicted = 0;
        while evicted < max && self.memory.limit > 0 && self.used_memory() > self.memory.limit {
            if !self.evict_one(None, now) {
                break;
            }
            evicted += 1;
        }
        evicted
    }

    /// Makes room for `need` more bytes, never evicting the item in
    /// `keep` (the one being written). Returns whether the store is within
    /// its limit (room that cannot be made for `need` alone still lets the
    /// write go over by its own size, as Redis's writes do).
    pub(super) fn make_room(&mut self, need: usize, keep: Option<SlotId>, now: Now) -> bool {
        let limit = self.memory.limit;
        if limit == 0 {
            return true;
        }
        let mut evicted = 0;
        while self.used_memory() + need as u64 > limit && evicted < MAX_EVICTIONS_PER_CALL {
            if !self.evict_one(keep, now) {
                break;
            }
            evicted += 1;
        }
        self.refresh_used();
        self.used_memory() <= limit
    }

    /// The bytes a new item with these lengths will take.
    pub(super) fn new_item_bytes(key_len: usize, value_len: usize) -> usize {
        block_size(key_len, value_len)
    }

    /// Evicts one item (or reclaims an expired one) by the policy, never
    /// the one in `keep`. Returns whether it removed one.
    fn evict_one(&mut self, keep: Option<SlotId>, now: Now) -> bool {
        match self.memory.policy {
            EvictionPolicy::NoEviction => false,
            EvictionPolicy::AllKeysS3Fifo => {
                self.evict_fifo(keep, now) || self.evict_sampled(keep, now)
            }
            _ => self.evict_sampled(keep, now),
        }
    }

    /// Removes the item in `slot` as evicted (or, if it has expired, as
    /// reclaimed), counting it.
    fn evict_slot(&mut self, slot: SlotId, now: Now) {
        if self.expires_at(slot).has_passed(now) {
            self.count_reclaimed(slot);
        } else {
            self.stats.evictions += 1;
            if self.index.item(slot).header().bits & bits::FETCHED == 0 {
                self.stats.evicted_unfetched += 1;
            }
        }
        self.unlink(slot);
    }

    /// One S3-FIFO eviction; `false` when the queues gave no victim within
    /// [`MAX_FIFO_STEPS`] pops.
    fn evict_fifo(&mut self, keep: Option<SlotId>, now: Now) -> bool {
        use s3fifo::bits::{FREQ, FREQ_ONE, MAIN, SMALL};
        for _ in 0..MAX_FIFO_STEPS {
            let from_small = self.memory.fifo.evict_from_small();
            let fifo = &mut self.memory.fifo;
            let popped = if from_small {
                fifo.small.pop_front()
            } else {
                fifo.main.pop_front()
            };
            let Some(hash) = popped else {
                // The live counts ran ahead of the queues: none left.
                if from_small {
                    fifo.small_items = 0;
                } else {
                    fifo.main_items = 0;
                }
                if fifo.small_items + fifo.main_items == 0 {
                    return false;
                }
                continue;
            };
            let queue_bit = if from_small { SMALL } else { MAIN };
            let Some(slot) = self.index.find_hash(hash) else {
                continue; // removed since
            };
            let header = self.index.item_mut(slot).into_header_mut();
            if header.bits & queue_bit == 0 {
                continue; // moved to the other queue, or a duplicate entry
            }
            let freq = (header.bits & FREQ) / FREQ_ONE;
            let fifo = &mut self.memory.fifo;
            if Some(slot) == keep {
                // The item being written: it stays, at the queue's tail.
                if from_small {
                    fifo.small.push_back(hash);
                } else {
                    fifo.main.push_back(hash);
                }
                continue;
            }
            if from_small {
                if freq >= s3fifo::PROMOTE_AT {
                    header.bits = (header.bits & !(FREQ | SMALL)) | MAIN;
                    fifo.small_items -= 1;
                    fifo.main_items += 1;
                    fifo.main.push_back(hash);
                    continue;
                }
                let items = self.index.len();
                self.memory.fifo.remember(hash, items);
            } else if freq > 0 {
                header.bits -= FREQ_ONE;
                fifo.main.push_back(hash);
                continue;
            }
            self.evict_slot(slot, now);
            return true;
        }
        false
    }

    /// One sampled eviction by the policy; `false` when sampling found no
    /// eligible item.
    fn evict_sampled(&mut self, keep: Option<SlotId>, now: Now) -> bool {
        let policy = self.memory.policy;
        let volatile = policy.is_volatile();
        let first_only = matches!(
            policy,
            EvictionPolicy::AllKeysRandom
                | EvictionPolicy::VolatileRandom
                | EvictionPolicy::AllKeysS3Fifo
        );
        let now_secs = now.unix_secs();
        let buckets = self.index.bucket_count();
        for _ in 0..SAMPLE_ROUNDS {
            let start = self.memory.random() as usize;
            // (score, slot): the lowest score is evicted.
            let mut best: Option<(u64, SlotId)> = None;
            let mut seen = 0;
            for step in 0..SAMPLE_BUCKETS.min(buckets) {
                self.index
                    .visit_bucket(start.wrapping_add(step), |slot, item| {
                        let header = item.header();
                        if seen >= SAMPLES || Some(slot) == keep {
                            return;
                        }
                        if header.expires_at != 0 && header.expires_at <= now.millis() {
                            // Expired: the best victim of all.
                            best = Some((0, slot));
                            seen = SAMPLES;
                            return;
                        }
                        if volatile && header.expires_at == 0 {
                            return;
                        }
                        seen += 1;
                        let score = match policy {
                            EvictionPolicy::AllKeysLfu | EvictionPolicy::VolatileLfu => {
                                let idle = now_secs.saturating_sub(u64::from(header.last_access));
                                u64::from(lfu_decayed(lfu_counter(header.bits), idle)) << 32
                                    | u64::from(header.last_access)
                            }
                            EvictionPolicy::VolatileTtl => header.expires_at,
                            _ => u64::from(header.last_access),
                        };
                        if best.is_none_or(|(low, _)| score < low) {
                            best = Some((score, slot));
                        }
                    });
                if seen >= SAMPLES || (first_only && seen > 0) {
                    break;
                }
            }
            if let Some((_, slot)) = best {
                self.evict_slot(slot, now);
                return true;
            }
            if !volatile && self.index.len() <= usize::from(keep.is_some()) {
                return false;
            }
        }
        false
    }

    /// Puts a newly stored item in `slot` (key hash `hash`) under the
    /// policy's bookkeeping: S3-FIFO's small queue (main, if the ghost
    /// remembers the key), or LFU's initial counter.
    pub(super) fn admit(&mut self, slot: SlotId, hash: u64) {
        let policy = self.memory.policy;
        let header = self.index.item_mut(slot).into_header_mut();
        header.bits &= !bits::POLICY;
        if policy.is_lfu() {
            header.bits = with_lfu_counter(header.bits, LFU_INIT);
        } else if policy == EvictionPolicy::AllKeysS3Fifo {
            let fifo = &mut self.memory.fifo;
            if fifo.recall(hash) {
                header.bits |= s3fifo::bits::MAIN;
                fifo.main.push_back(hash);
                fifo.main_items += 1;
            } else {
                header.bits |= s3fifo::bits::SMALL;
                fifo.small.push_back(hash);
                fifo.small_items += 1;
            }
            self.compact_queues();
        }
    }

    /// Records an access to the item in `slot` for the policy: S3-FIFO's
    /// frequency, or LFU's counter (whose decay reads the last access, so
    /// the caller sets that after this).
    pub(super) fn record_access(&mut self, slot: SlotId, now: Now) {
        let policy = self.memory.policy;
        if policy == EvictionPolicy::AllKeysS3Fifo {
            let header = self.index.item_mut(slot).into_header_mut();
            if header.bits & s3fifo::bits::FREQ != s3fifo::bits::FREQ {
                header.bits += s3fifo::bits::FREQ_ONE;
            }
        } else if policy.is_lfu() {
            let roll = self.memory.random();
            let header = self.index.item_mut(slot).into_header_mut();
            let idle = now
                .unix_secs()
                .saturating_sub(u64::from(header.last_access));
            let mut counter = lfu_decayed(lfu_counter(header.bits), idle);
            if counter < LFU_MAX {
                let base = u32::from(counter.saturating_sub(LFU_INIT));
                let odds = u64::from(base * LFU_LOG_FACTOR + 1);
                if roll % odds == 0 {
                    counter += 1;
                }
            }
            header.bits = with_lfu_counter(header.bits, counter);
        }
    }

    /// The LFU counter of the item in `slot`, decayed to `now`; `None`
    /// when the policy is not an LFU one.
    pub(super) fn lfu_frequency(&self, slot: SlotId, now: Now) -> Option<u8> {
        if !self.memory.policy.is_lfu() {
            return None;
        }
        let header = self.index.item(slot).header();
        let idle = now
            .unix_secs()
            .saturating_sub(u64::from(header.last_access));
        Some(lfu_decayed(lfu_counter(header.bits), idle))
    }

    /// Takes the item in `slot`, about to leave the index, out of the
    /// S3-FIFO counts (its queue entry goes stale).
    pub(super) fn forget(&mut self, slot: SlotId) {
        if self.memory.policy != EvictionPolicy::AllKeysS3Fifo {
            return;
        }
        let header_bits = self.index.item(slot).header().bits;
        let fifo = &mut self.memory.fifo;
        if header_bits & s3fifo::bits::SMALL != 0 {
            fifo.small_items = fifo.small_items.saturating_sub(1);
        } else if header_bits & s3fifo::bits::MAIN != 0 {
            fifo.main_items = fifo.main_items.saturating_sub(1);
        }
    }

    /// Drops the stale entries of a queue that has as many as live ones:
    /// entries whose item is gone, moved, or already listed.
    fn compact_queues(&mut self) {
        let fifo = &self.memory.fifo;
        let small = S3Fifo::needs_compaction(&fifo.small, fifo.small_items);
        let main = S3Fifo::needs_compaction(&fifo.main, fifo.main_items);
        if small {
            let queue = std::mem::take(&mut self.memory.fifo.small);
            self.memory.fifo.small = self.live_entries(queue, s3fifo::bits::SMALL);
        }
        if main {
            let queue = std::mem::take(&mut self.memory.fifo.main);
            self.memory.fifo.main = self.live_entries(queue, s3fifo::bits::MAIN);
        }
        if small || main {
            self.refresh_used();
        }
    }

    /// The entries of `queue` whose item is there and in the queue that
    /// `queue_bit` names, each hash once, in order.
    fn live_entries(
        &self,
        queue: std::collections::VecDeque<u64>,
        queue_bit: u8,
    ) -> std::collections::VecDeque<u64> {
        let mut listed = hashbrown::HashSet::with_capacity(queue.len() / 2);
        let live: std::collections::VecDeque<u64> = queue
            .into_iter()
            .filter(|&hash| {
                self.index
                    .find_hash(hash)
                    .is_some_and(|slot| self.index.item(slot).header().bits & queue_bit != 0)
                    && listed.insert(hash)
            })
            .collect();
        live
    }
}

#[cfg(test)]
mod tests;
