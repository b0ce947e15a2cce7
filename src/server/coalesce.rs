//! Completion coalescing: when many connections are sending, a shard's
//! enter waits briefly for a batch of their requests instead of taking the
//! one or two that have arrived.
//!
//! Why (measured with `scripts/bench-memaslap.sh`, 50 connections): without
//! it, a saturated shard settles into turns of one or two requests, and
//! every turn pays its fixed costs (an `io_uring_enter`, the yield, the
//! counters) and wakes the client once per reply.
//!
//! How much: a wait asks for the completions of the sends it submits (they
//! complete at once) plus requests from half the connections that sent
//! something in the last millisecond or the one before, and gives up after
//! `--batch-wait-us`. With fewer than [`MIN_ACTIVE`] such connections it
//! never waits: a handful of clients doing request/reply would only be
//! slowed by waiting for requests they cannot send before their replies
//! arrive. (A first version that waited for half again the last turns'
//! average batch cut throughput at 4 connections from 85,000 to 50,000
//! requests/s.)

use std::time::Duration;

/// Connections active in the last millisecond below which no enter waits.
pub const MIN_ACTIVE: u32 = 8;

/// The most requests one wait asks for.
pub const MAX_BATCH: u32 = 64;

/// The coalescing policy of one shard.
#[derive(Debug, Clone)]
pub struct Coalescer {
    /// The longest an enter waits; zero disables coalescing.
    wait: Duration,
    /// The millisecond being counted.
    window: u64,
    /// Connections that received something in `window`.
    active_now: u32,
    /// The same count for the millisecond before.
    active_before: u32,
}

impl Coalescer {
    /// A policy that waits at most `wait` (zero: never).
    pub fn new(wait: Duration) -> Coalescer {
        Coalescer {
            wait,
            window: 0,
            active_now: 0,
            active_before: 0,
        }
    }

    /// Starts the turn of millisecond `now_ms`.
    pub fn turn(&mut self, now_ms: u64) {
        if now_ms != self.window {
            self.active_before = if now_ms == self.window + 1 {
                self.active_now
            } else {
                0
            };
            self.active_now = 0;
            self.window = now_ms;
        }
    }

    /// Counts a connection that received bytes; `last_active` is the
    /// connection's own record of the millisecond it last did.
    pub fn received(&mut self, last_active: &mut u64) {
        if *last_active != self.window {
            *last_active = self.window;
            self.active_now += 1;
        }
    }

    /// For an enter that submits `sends` completing operations: how many
    /// completions to wait for, and for how long at most; `None`: do not
    /// wait.
    pub fn plan(&self, sends: usize) -> Option<(usize, Duration)> {
        let active = self.active_now.max(self.active_before);
        if self.wait.is_zero() || active < MIN_ACTIVE {
            return None;
        }
        let requests = (active / 2).min(MAX_BATCH) as usize;
        Some((sends + requests, self.wait))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WAIT: Duration = Duration::from_micros(30);

    /// `count` distinct connections receive in millisecond `ms`.
    fn receive(policy: &mut Coalescer, ms: u64, marks: &mut [u64]) {
        policy.turn(ms);
        for mark in marks.iter_mut() {
            policy.received(mark);
        }
    }

    #[test]
    fn a_few_clients_never_wait() {
        let mut policy = Coalescer::new(WAIT);
        let mut marks = vec![u64::MAX; MIN_ACTIVE as usize - 1];
        for ms in 1..100 {
            receive(&mut policy, ms, &mut marks);
            // The same connections again in the same millisecond count once.
            receive(&mut policy, ms, &mut marks);
            assert_eq!(policy.plan(3), None);
        }
    }

    #[test]
    fn many_clients_wait_for_half_of_them_besides_the_sends() {
        let mut policy = Coalescer::new(WAIT);
        let mut marks = vec![u64::MAX; 50];
        receive(&mut policy, 7, &mut marks);
        assert_eq!(policy.plan(10), Some((10 + 25, WAIT)));
        // The next millisecond still remembers them.
        policy.turn(8);
        assert_eq!(policy.plan(0), Some((25, WAIT)));
        // Two idle milliseconds later, nobody is active.
        policy.turn(10);
        assert_eq!(policy.plan(0), None);
    }

    #[test]
    fn batches_are_capped() {
        let mut policy = Coalescer::new(WAIT);
        let mut marks = vec![u64::MAX; 1000];
        receive(&mut policy, 1, &mut marks);
        assert_eq!(policy.plan(0), Some((MAX_BATCH as usize, WAIT)));
    }

    #[test]
    fn zero_wait_disables_it() {
        let mut policy = Coalescer::new(Duration::ZERO);
        let mut marks = vec![u64::MAX; 50];
        receive(&mut policy, 1, &mut marks);
        assert_eq!(policy.plan(0), None);
    }
}
