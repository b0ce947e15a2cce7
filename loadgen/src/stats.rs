//! Counters and HDR latency histograms of one thread or of a whole run. A
//! worker records into its own [`Stats`] (no sharing on the hot path) and
//! hands copies to the reporter once a second; a run's totals are the merge
//! of every worker's.

use hdrhistogram::Histogram;

use crate::protocol::{OpKind, Reply};

/// Highest latency a histogram holds (larger values are clamped): 60 s.
const MAX_LATENCY_NS: u64 = 60_000_000_000;

/// Event counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counters {
    /// Requests written to a socket.
    pub sent: u64,
    /// Replies received.
    pub requests: u64,
    /// Replies to gets (a multi-get counts once).
    pub gets: u64,
    /// Replies to sets.
    pub sets: u64,
    /// Keys found by gets.
    pub hits: u64,
    /// Keys not found by gets.
    pub misses: u64,
    /// Error replies, malformed replies and failed connection attempts.
    pub errors: u64,
    /// Requests unanswered within `--timeout` (their connection is reset).
    pub timeouts: u64,
    /// Requests sent but never answered because their connection closed
    /// or timed out.
    pub dropped: u64,
    /// Connections re-established after a close, error or timeout.
    pub reconnects: u64,
    /// Bytes written.
    pub bytes_sent: u64,
    /// Bytes read.
    pub bytes_received: u64,
}

impl Counters {
    /// Adds `other` into `self`.
    pub fn merge(&mut self, other: &Counters) {
        self.sent += other.sent;
        self.requests += other.requests;
        self.gets += other.gets;
        self.sets += other.sets;
        self.hits += other.hits;
        self.misses += other.misses;
        self.errors += other.errors;
        self.timeouts += other.timeouts;
        self.dropped += other.dropped;
        self.reconnects += other.reconnects;
        self.bytes_sent += other.bytes_sent;
        self.bytes_received += other.bytes_received;
    }
}

/// Counters plus one latency histogram (nanoseconds) per [`OpKind`].
#[derive(Debug, Clone)]
pub struct Stats {
    /// The counts.
    pub counters: Counters,
    /// Latencies by [`OpKind::index`].
    pub latency: [Histogram<u64>; 2],
}

impl Default for Stats {
    fn default() -> Self {
        Stats::new()
    }
}

impl Stats {
    /// Empty statistics.
    pub fn new() -> Stats {
        let histogram = || {
            // The bounds are constants, valid for the crate.
            Histogram::new_with_bounds(1, MAX_LATENCY_NS, 3).expect("valid histogram bounds")
        };
        Stats {
            counters: Counters::default(),
            latency: [histogram(), histogram()],
        }
    }

    /// Records one reply of kind `op` that took `latency_ns`.
    pub fn record(&mut self, op: OpKind, latency_ns: u64, reply: Reply) {
        let counters = &mut self.counters;
        counters.requests += 1;
        match op {
            OpKind::Get => counters.gets += 1,
            OpKind::Set => counters.sets += 1,
        }
        counters.hits += u64::from(reply.hits);
        counters.misses += u64::from(reply.misses);
        counters.errors += u64::from(reply.error);
        self.latency[op.index()].saturating_record(latency_ns.clamp(1, MAX_LATENCY_NS));
    }

    /// Adds `other` into `self`.
    pub fn merge(&mut self, other: &Stats) {
        self.counters.merge(&other.counters);
        for (mine, theirs) in self.latency.iter_mut().zip(&other.latency) {
            // Same bounds on both sides, so adding cannot fail.
            let _ = mine.add(theirs);
        }
    }

    /// All operation kinds' latencies in one histogram.
    pub fn all_latency(&self) -> Histogram<u64> {
        let mut all = self.latency[0].clone();
        for other in &self.latency[1..] {
            let _ = all.add(other);
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_merges() {
        let mut a = Stats::new();
        a.record(
            OpKind::Get,
            1_000,
            Reply {
                hits: 2,
                misses: 1,
                error: false,
            },
        );
        a.record(
            OpKind::Set,
            5_000,
            Reply {
                error: true,
                ..Reply::default()
            },
        );
        let mut b = Stats::new();
        b.record(
            OpKind::Get,
            0,
            Reply {
                misses: 1,
                ..Reply::default()
            },
        );
        b.merge(&a);
        let c = b.counters;
        assert_eq!(
            (c.requests, c.gets, c.sets, c.hits, c.misses, c.errors),
            (3, 2, 1, 2, 2, 1)
        );
        assert_eq!(b.latency[OpKind::Get.index()].len(), 2);
        assert_eq!(b.all_latency().len(), 3);
        assert!(b.all_latency().max() >= 4_990);
    }
}
