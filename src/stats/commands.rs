//! Per-command counters for `INFO commandstats`: calls, time, and the
//! calls that were rejected before running (wrong arity, not
//! authenticated) or that answered an error, by command label (see
//! `command::resp::label`).
//!
//! Each shard has its own [`CommandCounters`] in the shared state and is
//! the only writer: a count is a relaxed load and store of its own cache
//! lines (no read-modify-write, no contention), and `INFO` on any core sums
//! every shard's copy.

use std::sync::atomic::{AtomicU64, Ordering};

/// What one label's counters read.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CommandStat {
    /// Calls that ran.
    pub calls: u64,
    /// Time spent on them, in nanoseconds.
    pub nanos: u64,
    /// Calls refused before they ran.
    pub rejected: u64,
    /// Calls that ran and answered an error.
    pub failed: u64,
}

impl CommandStat {
    /// Adds `other` into this one.
    pub fn add(&mut self, other: &CommandStat) {
        self.calls += other.calls;
        self.nanos += other.nanos;
        self.rejected += other.rejected;
        self.failed += other.failed;
    }

    /// Whether nothing was counted (such labels are not shown).
    pub fn is_empty(&self) -> bool {
        self.calls == 0 && self.rejected == 0 && self.failed == 0
    }
}

#[derive(Debug, Default)]
struct Counter {
    calls: AtomicU64,
    nanos: AtomicU64,
    rejected: AtomicU64,
    failed: AtomicU64,
}

/// One shard's counters, one per label.
#[derive(Debug)]
pub struct CommandCounters {
    counters: Box<[Counter]>,
}

/// Adds `n` to a counter that only the calling shard writes.
#[inline]
fn bump(counter: &AtomicU64, n: u64) {
    counter.store(
        counter.load(Ordering::Relaxed).wrapping_add(n),
        Ordering::Relaxed,
    );
}

impl CommandCounters {
    /// Zeroed counters for `labels` labels.
    pub fn new(labels: usize) -> CommandCounters {
        CommandCounters {
            counters: (0..labels).map(|_| Counter::default()).collect(),
        }
    }

    /// Counts a call of `label` that took `nanos`, and whether it answered
    /// an error. Only the owning shard calls this.
    #[inline]
    pub fn call(&self, label: usize, nanos: u64, failed: bool) {
        if let Some(counter) = self.counters.get(label) {
            bump(&counter.calls, 1);
            bump(&counter.nanos, nanos);
            if failed {
                bump(&counter.failed, 1);
            }
        }
    }

    /// Counts a call of `label` refused before it ran.
    pub fn reject(&self, label: usize) {
        if let Some(counter) = self.counters.get(label) {
            bump(&counter.rejected, 1);
        }
    }

    /// Counts an error answered by a call of `label` that was counted
    /// elsewhere (where its connection is).
    pub fn fail(&self, label: usize) {
        if let Some(counter) = self.counters.get(label) {
            bump(&counter.failed, 1);
        }
    }

    /// Every label's counts, by label index.
    pub fn read(&self) -> Vec<CommandStat> {
        self.counters
            .iter()
            .map(|c| CommandStat {
                calls: c.calls.load(Ordering::Relaxed),
                nanos: c.nanos.load(Ordering::Relaxed),
                rejected: c.rejected.load(Ordering::Relaxed),
                failed: c.failed.load(Ordering::Relaxed),
            })
            .collect()
    }

    /// Zeroes every counter. Only the owning shard calls this.
    pub fn reset(&self) {
        for counter in self.counters.iter() {
            for field in [
                &counter.calls,
                &counter.nanos,
                &counter.rejected,
                &counter.failed,
            ] {
                field.store(0, Ordering::Relaxed);
            }
        }
    }
}

/// The sum of several shards' counts, by label index.
pub fn sum<'a>(shards: impl IntoIterator<Item = &'a CommandCounters>) -> Vec<CommandStat> {
    let mut total: Vec<CommandStat> = Vec::new();
    for shard in shards {
        let counts = shard.read();
        total.resize(total.len().max(counts.len()), CommandStat::default());
        for (sum, count) in total.iter_mut().zip(&counts) {
            sum.add(count);
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_rejections_and_failures_are_counted_per_label() {
        let counters = CommandCounters::new(3);
        counters.call(0, 1_500, false);
        counters.call(0, 500, true);
        counters.reject(2);
        counters.fail(2);
        counters.call(7, 1, false); // out of range: ignored
        let read = counters.read();
        assert_eq!(
            read[0],
            CommandStat {
                calls: 2,
                nanos: 2_000,
                rejected: 0,
                failed: 1
            }
        );
        assert!(read[1].is_empty());
        assert_eq!((read[2].rejected, read[2].failed), (1, 1));
        counters.reset();
        assert!(counters.read().iter().all(CommandStat::is_empty));
    }

    #[test]
    fn shards_sum() {
        let a = CommandCounters::new(2);
        let b = CommandCounters::new(2);
        a.call(1, 10, false);
        b.call(1, 5, true);
        let total = sum([&a, &b]);
        assert_eq!(
            (total[1].calls, total[1].nanos, total[1].failed),
            (2, 15, 1)
        );
    }
}
