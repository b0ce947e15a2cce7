//! Time as the cache sees it: wall-clock milliseconds read once per event-loop
//! turn, and memcached's expiration-time rules.
//!
//! A shard reads the clock once per turn ([`Now::read`]) and passes that value
//! down, so every request of a batch sees the same instant and the hot path
//! makes no clock call per request.

use std::time::{SystemTime, UNIX_EPOCH};

/// memcached's boundary between relative and absolute expiration times: 30
/// days in seconds. Larger values are Unix timestamps.
pub const MAX_RELATIVE_EXPTIME: i64 = 60 * 60 * 24 * 30;

/// A moment in wall-clock time, in milliseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Now(pub u64);

impl Now {
    /// Reads the system clock.
    pub fn read() -> Now {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Now(since_epoch.as_millis() as u64)
    }

    /// Milliseconds since the Unix epoch.
    pub fn millis(self) -> u64 {
        self.0
    }

    /// Whole seconds since the Unix epoch.
    pub fn unix_secs(self) -> u64 {
        self.0 / 1000
    }
}

/// When an item stops being visible: milliseconds since the Unix epoch, or
/// never.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ExpiresAt(u64);

impl ExpiresAt {
    /// The item never expires.
    pub const NEVER: ExpiresAt = ExpiresAt(0);
    /// A deadline that has always passed: the item is born expired.
    pub const PAST: ExpiresAt = ExpiresAt(1);

    /// A deadline at `millis` since the Unix epoch (0 is bumped to
    /// [`ExpiresAt::PAST`] so that it never reads as "never").
    pub fn at_millis(millis: u64) -> ExpiresAt {
        ExpiresAt(millis.max(1))
    }

    /// Converts a memcached exptime (0 = never, ≤ 30 days = seconds from now,
    /// above that a Unix time, negative = already expired) into a deadline.
    pub fn from_memcache(exptime: i64, now: Now) -> ExpiresAt {
        match exptime {
            0 => ExpiresAt::NEVER,
            e if e < 0 => ExpiresAt::PAST,
            e if e > MAX_RELATIVE_EXPTIME => ExpiresAt::at_millis((e as u64).saturating_mul(1000)),
            e => ExpiresAt::at_millis(now.0.saturating_add(e as u64 * 1000)),
        }
    }

    /// Whether the item never expires.
    pub fn is_never(self) -> bool {
        self.0 == 0
    }

    /// Whether the deadline has passed at `now`.
    pub fn has_passed(self, now: Now) -> bool {
        self.0 != 0 && self.0 <= now.0
    }

    /// The deadline in milliseconds since the Unix epoch, `None` for never.
    pub fn millis(self) -> Option<u64> {
        (self.0 != 0).then_some(self.0)
    }

    /// Remaining lifetime in whole seconds, rounded up as memcached reports
    /// it (`t` flag): `None` for never, 0 once passed.
    pub fn remaining_secs(self, now: Now) -> Option<u64> {
        self.millis()
            .map(|at| at.saturating_sub(now.0).div_ceil(1000))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Now = Now(1_700_000_000_000);

    #[test]
    fn zero_is_never() {
        let at = ExpiresAt::from_memcache(0, NOW);
        assert!(at.is_never());
        assert!(!at.has_passed(Now(u64::MAX)));
        assert_eq!(at.remaining_secs(NOW), None);
    }

    #[test]
    fn negative_is_already_expired() {
        assert!(ExpiresAt::from_memcache(-1, NOW).has_passed(NOW));
    }

    #[test]
    fn up_to_thirty_days_is_relative() {
        let at = ExpiresAt::from_memcache(MAX_RELATIVE_EXPTIME, NOW);
        assert_eq!(
            at.millis(),
            Some(NOW.0 + MAX_RELATIVE_EXPTIME as u64 * 1000)
        );
        assert_eq!(at.remaining_secs(NOW), Some(MAX_RELATIVE_EXPTIME as u64));
        let soon = ExpiresAt::from_memcache(10, NOW);
        assert!(!soon.has_passed(Now(NOW.0 + 9_999)));
        assert!(soon.has_passed(Now(NOW.0 + 10_000)));
    }

    #[test]
    fn above_thirty_days_is_absolute() {
        let future = NOW.unix_secs() as i64 + 100;
        let at = ExpiresAt::from_memcache(future, NOW);
        assert_eq!(at.remaining_secs(NOW), Some(100));
        let past = MAX_RELATIVE_EXPTIME + 1;
        assert!(ExpiresAt::from_memcache(past, NOW).has_passed(NOW));
    }

    #[test]
    fn remaining_rounds_up() {
        let at = ExpiresAt::at_millis(NOW.0 + 1_500);
        assert_eq!(at.remaining_secs(NOW), Some(2));
        assert_eq!(at.remaining_secs(Now(NOW.0 + 5_000)), Some(0));
    }
}
