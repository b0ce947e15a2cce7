//! The eviction policies by name: which items a full store may evict and
//! how it picks them. Only names and classification live here; the choice
//! of a victim is `store::evict`.

use std::fmt;
use std::str::FromStr;

/// What a store does when a write would take it past its memory limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(u8)]
pub enum EvictionPolicy {
    /// Refuse writes while over the limit (Redis's `noeviction`).
    NoEviction = 0,
    /// Sampled least recently used, over every key.
    AllKeysLru,
    /// Sampled least frequently used (a decaying log counter), every key.
    AllKeysLfu,
    /// A random key.
    AllKeysRandom,
    /// Sampled LRU over the keys with a time to live.
    VolatileLru,
    /// Sampled LFU over the keys with a time to live.
    VolatileLfu,
    /// A random key with a time to live.
    VolatileRandom,
    /// Of sampled keys with a time to live, the one that expires first.
    VolatileTtl,
    /// S3-FIFO (Yang et al., SOSP 2023): a small FIFO that new keys enter,
    /// a main FIFO with a 2-bit frequency and reinsertion, and a ghost of
    /// keys recently evicted from the small queue. The default.
    #[default]
    AllKeysS3Fifo,
}

impl EvictionPolicy {
    /// Every policy, in Redis's order, S3-FIFO last.
    pub const ALL: [EvictionPolicy; 9] = [
        EvictionPolicy::NoEviction,
        EvictionPolicy::AllKeysLru,
        EvictionPolicy::AllKeysLfu,
        EvictionPolicy::AllKeysRandom,
        EvictionPolicy::VolatileLru,
        EvictionPolicy::VolatileLfu,
        EvictionPolicy::VolatileRandom,
        EvictionPolicy::VolatileTtl,
        EvictionPolicy::AllKeysS3Fifo,
    ];

    /// The policy's name, as `maxmemory-policy` takes it.
    pub fn name(self) -> &'static str {
        match self {
            EvictionPolicy::NoEviction => "noeviction",
            EvictionPolicy::AllKeysLru => "allkeys-lru",
            EvictionPolicy::AllKeysLfu => "allkeys-lfu",
            EvictionPolicy::AllKeysRandom => "allkeys-random",
            EvictionPolicy::VolatileLru => "volatile-lru",
            EvictionPolicy::VolatileLfu => "volatile-lfu",
            EvictionPolicy::VolatileRandom => "volatile-random",
            EvictionPolicy::VolatileTtl => "volatile-ttl",
            EvictionPolicy::AllKeysS3Fifo => "allkeys-s3fifo",
        }
    }

    /// The policy with this `u8` (its position in [`EvictionPolicy::ALL`]),
    /// as shared settings keep it.
    pub fn from_u8(value: u8) -> EvictionPolicy {
        EvictionPolicy::ALL
            .get(usize::from(value))
            .copied()
            .unwrap_or_default()
    }

    /// Whether the items keep an LFU counter (and `OBJECT FREQ` answers).
    pub fn is_lfu(self) -> bool {
        matches!(
            self,
            EvictionPolicy::AllKeysLfu | EvictionPolicy::VolatileLfu
        )
    }

    /// Whether only keys with a time to live may be evicted.
    pub fn is_volatile(self) -> bool {
        matches!(
            self,
            EvictionPolicy::VolatileLru
                | EvictionPolicy::VolatileLfu
                | EvictionPolicy::VolatileRandom
                | EvictionPolicy::VolatileTtl
        )
    }
}

impl fmt::Display for EvictionPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for EvictionPolicy {
    type Err = String;

    /// Parses a policy name in any case.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        EvictionPolicy::ALL
            .into_iter()
            .find(|policy| policy.name().eq_ignore_ascii_case(text))
            .ok_or_else(|| {
                let names: Vec<&str> = EvictionPolicy::ALL.iter().map(|p| p.name()).collect();
                format!(
                    "unknown eviction policy '{text}' (one of: {})",
                    names.join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_in_any_case() {
        for (i, policy) in EvictionPolicy::ALL.into_iter().enumerate() {
            assert_eq!(policy.name().parse(), Ok(policy));
            assert_eq!(policy.name().to_uppercase().parse(), Ok(policy));
            assert_eq!(EvictionPolicy::from_u8(i as u8), policy);
        }
        assert!("lru".parse::<EvictionPolicy>().is_err());
        assert_eq!(EvictionPolicy::default(), EvictionPolicy::AllKeysS3Fifo);
    }
}
