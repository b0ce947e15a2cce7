//! Active expiry: reclaims expired items that nobody reads, a few buckets
//! at a time, so a workload of short TTLs holds flat memory.
//!
//! Redis samples keys with a TTL and repeats while a quarter of a sample
//! had expired, within a CPU budget (`active-expire-effort`). The index
//! has no separate table of volatile keys, so a cycle instead sweeps the
//! table from where the last one stopped ([`CYCLE_STEP_BUCKETS`] buckets a
//! step), reclaiming what has expired, and takes another step while the
//! last one found at least [`REPEAT_PERCENT`]% of its items expired, up to
//! [`CYCLE_MAX_STEPS`] steps. The shard runs one cycle every
//! [`CYCLE_INTERVAL_MS`], so one cycle costs at most 4096 bucket reads
//! (32,768 slots) and usually 64; every item is looked at within
//! (table buckets / 64) cycles even when few have expired — about 2.5 s
//! per million items — and much sooner while many have.

use super::raw::SlotId;
use super::Store;
use crate::clock::Now;

/// Buckets one step reads.
pub const CYCLE_STEP_BUCKETS: usize = 64;

/// Steps one cycle takes at most.
pub const CYCLE_MAX_STEPS: usize = 64;

/// Another step follows while the last found at least this share expired.
pub const REPEAT_PERCENT: usize = 10;

/// How often the shard runs a cycle.
pub const CYCLE_INTERVAL_MS: u64 = 10;

impl Store {
    /// One active expiry cycle (see the module docs); returns the items it
    /// reclaimed. A delayed flush that has come due is applied first.
    pub fn expire_cycle(&mut self, now: Now) -> usize {
        self.run_due_flush(now);
        let mut reclaimed = 0;
        let mut expired: Vec<SlotId> = Vec::new();
        for _ in 0..CYCLE_MAX_STEPS {
            if self.index.len() == 0 {
                break;
            }
            let buckets = self.index.bucket_count();
            let start = self.memory.expire_cursor % buckets;
            let steps = CYCLE_STEP_BUCKETS.min(buckets);
            let mut seen = 0;
            for at in start..start + steps {
                self.index.visit_bucket(at, |slot, item| {
                    seen += 1;
                    let expires_at = item.header().expires_at;
                    if expires_at != 0 && expires_at <= now.millis() {
                        expired.push(slot);
                    }
                });
            }
            self.memory.expire_cursor = (start + steps) % buckets;
            let found = expired.len();
            for slot in expired.drain(..) {
                self.count_reclaimed(slot);
                self.unlink(slot);
            }
            reclaimed += found;
            if found * 100 < seen * REPEAT_PERCENT || seen == 0 {
                break;
            }
        }
        reclaimed
    }
}
