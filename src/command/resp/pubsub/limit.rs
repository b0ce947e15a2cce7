//! `client-output-buffer-limit`: how much unsent output a subscriber may
//! pile up before it is disconnected. Redis keeps one limit per client
//! class; corecache enforces the `pubsub` class (`--client-output-buffer-limit
//! "pubsub 32mb 8mb 60"`, `CONFIG SET client-output-buffer-limit …`, live on
//! every shard). Ordinary clients are never cut off (Redis's default `normal
//! 0 0 0`: their replies stop being read instead, see `server::connection`)
//! and there are no replicas, so those two classes show Redis's defaults and
//! only those values are accepted for them.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::command::resp::memory_bytes;

/// One class's limit: a hard limit in bytes, and a soft limit in bytes that
/// may be exceeded for at most `soft_seconds`; 0 disables either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputLimit {
    pub hard: u64,
    pub soft: u64,
    pub soft_seconds: u64,
}

/// Redis's reason for a limit that does not parse.
const SETTING_ERROR: &str =
    "Error in hard, soft or soft_seconds setting in buffer limit configuration.";

/// Redis's default limit for pub/sub clients.
pub const PUBSUB_DEFAULT: OutputLimit = OutputLimit {
    hard: 32 << 20,
    soft: 8 << 20,
    soft_seconds: 60,
};

const NORMAL: OutputLimit = OutputLimit {
    hard: 0,
    soft: 0,
    soft_seconds: 0,
};

const REPLICA: OutputLimit = OutputLimit {
    hard: 256 << 20,
    soft: 64 << 20,
    soft_seconds: 60,
};

impl OutputLimit {
    /// Whether a subscriber with `backlog` unsent bytes, over the soft
    /// limit since `over_since_ms` (if it is), must go at `now_ms`.
    pub fn exceeded(&self, backlog: u64, over_since_ms: Option<u64>, now_ms: u64) -> bool {
        if self.hard > 0 && backlog >= self.hard {
            return true;
        }
        match over_since_ms {
            Some(since) if self.is_over_soft(backlog) => {
                now_ms.saturating_sub(since) > self.soft_seconds * 1000
            }
            _ => false,
        }
    }

    /// Whether `backlog` is over the soft limit.
    pub fn is_over_soft(&self, backlog: u64) -> bool {
        self.soft > 0 && backlog >= self.soft
    }
}

/// The pub/sub limit all shards read, changed by `CONFIG SET`.
#[derive(Debug)]
pub struct SharedOutputLimit {
    hard: AtomicU64,
    soft: AtomicU64,
    soft_seconds: AtomicU64,
}

impl SharedOutputLimit {
    /// A shared limit starting at `limit`.
    pub fn new(limit: OutputLimit) -> SharedOutputLimit {
        let shared = SharedOutputLimit {
            hard: AtomicU64::new(0),
            soft: AtomicU64::new(0),
            soft_seconds: AtomicU64::new(0),
        };
        shared.set(limit);
        shared
    }

    /// The current limit.
    pub fn get(&self) -> OutputLimit {
        OutputLimit {
            hard: self.hard.load(Ordering::Relaxed),
            soft: self.soft.load(Ordering::Relaxed),
            soft_seconds: self.soft_seconds.load(Ordering::Relaxed),
        }
    }

    /// Replaces the limit.
    pub fn set(&self, limit: OutputLimit) {
        self.hard.store(limit.hard, Ordering::Relaxed);
        self.soft.store(limit.soft, Ordering::Relaxed);
        self.soft_seconds
            .store(limit.soft_seconds, Ordering::Relaxed);
    }
}

/// `CONFIG GET client-output-buffer-limit`'s value, Redis's layout.
pub fn format(pubsub: OutputLimit) -> String {
    [("normal", NORMAL), ("slave", REPLICA), ("pubsub", pubsub)]
        .iter()
        .map(|(class, l)| format!("{class} {} {} {}", l.hard, l.soft, l.soft_seconds))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Parses a value of `client-output-buffer-limit` (`class hard soft
/// seconds`, repeated; sizes with Redis's units: `32mb`, `8m`, `1gb`…) and
/// returns the pub/sub limit it sets, if it names that class. Errors are
/// the reason `CONFIG SET` gives.
pub fn parse(value: &[u8]) -> Result<Option<OutputLimit>, String> {
    let text = std::str::from_utf8(value)
        .map_err(|_| "Wrong number of arguments in buffer limit configuration.")?;
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.is_empty() || words.len() % 4 != 0 {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    let mut pubsub = None;
    for group in words.chunks(4) {
        let limit = OutputLimit {
            hard: memory_size(group[1])?,
            soft: memory_size(group[2])?,
            soft_seconds: group[3].parse().map_err(|_| SETTING_ERROR)?,
        };
        match group[0].to_ascii_lowercase().as_str() {
            "pubsub" => pubsub = Some(limit),
            "normal" if limit == NORMAL => {}
            "slave" | "replica" if limit == REPLICA => {}
            "normal" | "slave" | "replica" => {
                return Err(format!(
                    "corecache enforces only the pubsub class; {} keeps Redis's default",
                    group[0]
                ))
            }
            _ => {
                return Err("Invalid client class specified in buffer limit configuration.".into())
            }
        }
    }
    Ok(pubsub)
}

/// A limit in Redis's memory units, or the reason it is refused.
fn memory_size(word: &str) -> Result<u64, String> {
    memory_bytes(word.as_bytes()).ok_or_else(|| SETTING_ERROR.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_formats_as_redis() {
        assert_eq!(
            format(PUBSUB_DEFAULT),
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
        );
    }

    #[test]
    fn values_parse_with_redis_units() {
        assert_eq!(
            parse(b"pubsub 64mb 16mb 30"),
            Ok(Some(OutputLimit {
                hard: 64 << 20,
                soft: 16 << 20,
                soft_seconds: 30
            }))
        );
        assert_eq!(
            parse(b"normal 0 0 0 pubsub 1k 0 0"),
            Ok(Some(OutputLimit {
                hard: 1000,
                soft: 0,
                soft_seconds: 0
            }))
        );
        assert_eq!(
            parse(format(PUBSUB_DEFAULT).as_bytes()),
            Ok(Some(PUBSUB_DEFAULT))
        );
        assert_eq!(parse(b"normal 0 0 0"), Ok(None));
        assert!(parse(b"pubsub 1 2").is_err());
        assert!(parse(b"pubsub 1x 2 3").is_err());
        assert!(parse(b"nosuch 1 2 3").is_err());
        assert!(parse(b"normal 1mb 0 0").is_err());
    }

    #[test]
    fn hard_and_soft_limits_decide_as_redis() {
        let limit = OutputLimit {
            hard: 100,
            soft: 10,
            soft_seconds: 1,
        };
        assert!(limit.exceeded(100, None, 0));
        assert!(!limit.exceeded(50, Some(0), 1000));
        assert!(limit.exceeded(50, Some(0), 1001));
        assert!(!limit.exceeded(5, Some(0), 5000));
        let none = OutputLimit {
            hard: 0,
            soft: 0,
            soft_seconds: 0,
        };
        assert!(!none.exceeded(u64::MAX, Some(0), u64::MAX));
    }
}
