//! What to ask for: the mix of gets and sets, which keys, how large the
//! values. The types here parse their `--flag` syntax and produce one
//! request's choices at a time from a connection's own seeded RNG, without
//! allocating; key spellings are written into a caller's buffer.

use std::fmt;
use std::str::FromStr;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution as _, Zipf};

use crate::protocol::OpKind;

/// How keys are drawn from the key space (`--distribution`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Distribution {
    /// Every key equally likely.
    Uniform,
    /// Zipf with exponent `s`: key rank `r` has weight `1 / r^s`.
    Zipf(f64),
    /// Each connection walks the keys in order, interleaved with the others.
    Sequential,
}

impl FromStr for Distribution {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "uniform" => Ok(Distribution::Uniform),
            "sequential" => Ok(Distribution::Sequential),
            _ => {
                let s = text
                    .strip_prefix("zipf:")
                    .and_then(|s| s.parse::<f64>().ok())
                    .ok_or_else(|| {
                        format!("expected uniform, zipf:S or sequential, got {text:?}")
                    })?;
                if s.is_finite() && s > 0.0 {
                    Ok(Distribution::Zipf(s))
                } else {
                    Err(format!("the Zipf exponent must be positive, got {s}"))
                }
            }
        }
    }
}

impl fmt::Display for Distribution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Distribution::Uniform => f.write_str("uniform"),
            Distribution::Zipf(s) => write!(f, "zipf:{s}"),
            Distribution::Sequential => f.write_str("sequential"),
        }
    }
}

/// Value sizes (`--value-size N` or `MIN-MAX`, uniform in the range).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueSize {
    /// Smallest size in bytes.
    pub min: usize,
    /// Largest size in bytes (inclusive).
    pub max: usize,
}

impl FromStr for ValueSize {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let parse = |n: &str| {
            n.trim()
                .parse::<usize>()
                .map_err(|_| format!("bad size {n:?}"))
        };
        let (min, max) = match text.split_once('-') {
            Some((min, max)) => (parse(min)?, parse(max)?),
            None => (parse(text)?, parse(text)?),
        };
        if min > max {
            return Err(format!("{min} is larger than {max}"));
        }
        Ok(ValueSize { min, max })
    }
}

impl fmt::Display for ValueSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.min == self.max {
            write!(f, "{}", self.min)
        } else {
            write!(f, "{}-{}", self.min, self.max)
        }
    }
}

/// The get:set mix (`--ratio GET:SET`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ratio {
    /// Weight of gets.
    pub get: u32,
    /// Weight of sets.
    pub set: u32,
}

impl FromStr for Ratio {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (get, set) = text
            .split_once(':')
            .and_then(|(g, s)| Some((g.parse().ok()?, s.parse().ok()?)))
            .ok_or_else(|| format!("expected GET:SET such as 9:1, got {text:?}"))?;
        if get == 0 && set == 0 {
            return Err("the ratio 0:0 sends nothing".into());
        }
        Ok(Ratio { get, set })
    }
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.get, self.set)
    }
}

/// The shape of the keys: `prefix` then the key's index, zero-padded so
/// that every key is exactly `size` bytes.
#[derive(Debug, Clone)]
pub struct KeySpace {
    /// How many keys (indices `0..count`).
    pub count: u64,
    /// What every key starts with.
    pub prefix: String,
    /// The length of every key.
    pub size: usize,
}

impl KeySpace {
    /// Checks that `size` leaves room for the prefix and the largest index.
    pub fn new(count: u64, prefix: String, size: usize) -> Result<KeySpace, String> {
        if count == 0 {
            return Err("--keys must be at least 1".into());
        }
        let digits = (count - 1).checked_ilog10().unwrap_or(0) as usize + 1;
        if size < prefix.len() + digits {
            return Err(format!(
                "--key-size {size} is too short for prefix {prefix:?} and {count} keys (needs {})",
                prefix.len() + digits
            ));
        }
        Ok(KeySpace {
            count,
            prefix,
            size,
        })
    }

    /// Appends the key with this index.
    pub fn write(&self, index: u64, out: &mut Vec<u8>) {
        let mut digits = itoa::Buffer::new();
        let digits = digits.format(index).as_bytes();
        out.extend_from_slice(self.prefix.as_bytes());
        out.extend(std::iter::repeat_n(
            b'0',
            self.size - self.prefix.len() - digits.len(),
        ));
        out.extend_from_slice(digits);
    }
}

/// One connection's source of choices.
pub struct Chooser {
    rng: SmallRng,
    distribution: Distribution,
    zipf: Option<Zipf<f64>>,
    keys: u64,
    next: u64,
    stride: u64,
    ratio: Ratio,
    values: ValueSize,
}

impl Chooser {
    /// A chooser for connection `lane` of `lanes` (sequential keys are
    /// interleaved by lane), seeded with `seed`.
    pub fn new(
        keys: u64,
        distribution: Distribution,
        ratio: Ratio,
        values: ValueSize,
        lane: u64,
        lanes: u64,
        seed: u64,
    ) -> Chooser {
        let zipf = match distribution {
            // Zipf::new fails only for n < 1 or s < 0, both excluded above.
            Distribution::Zipf(s) => Zipf::new(keys as f64, s).ok(),
            _ => None,
        };
        Chooser {
            rng: SmallRng::seed_from_u64(seed),
            distribution,
            zipf,
            keys,
            next: lane % keys,
            stride: lanes.max(1),
            ratio,
            values,
        }
    }

    /// The next key index.
    pub fn key(&mut self) -> u64 {
        match (self.distribution, &self.zipf) {
            (Distribution::Zipf(_), Some(zipf)) => {
                // Rank 1 (the most popular) is key 0.
                (zipf.sample(&mut self.rng) as u64).clamp(1, self.keys) - 1
            }
            (Distribution::Sequential, _) => {
                let key = self.next;
                self.next = (self.next + self.stride) % self.keys;
                key
            }
            _ => self.rng.random_range(0..self.keys),
        }
    }

    /// The next request's kind.
    pub fn op(&mut self) -> OpKind {
        let total = self.ratio.get + self.ratio.set;
        if self.rng.random_range(0..total) < self.ratio.get {
            OpKind::Get
        } else {
            OpKind::Set
        }
    }

    /// The next value's size.
    pub fn value_size(&mut self) -> usize {
        if self.values.min == self.values.max {
            self.values.min
        } else {
            self.rng.random_range(self.values.min..=self.values.max)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chooser(distribution: Distribution, keys: u64) -> Chooser {
        let ratio = Ratio { get: 9, set: 1 };
        Chooser::new(
            keys,
            distribution,
            ratio,
            ValueSize { min: 1, max: 4 },
            0,
            1,
            7,
        )
    }

    #[test]
    fn parses_flags() {
        assert_eq!("zipf:0.99".parse(), Ok(Distribution::Zipf(0.99)));
        assert_eq!("uniform".parse(), Ok(Distribution::Uniform));
        assert!("zipf:-1".parse::<Distribution>().is_err());
        assert!("zipf".parse::<Distribution>().is_err());
        assert_eq!("100".parse(), Ok(ValueSize { min: 100, max: 100 }));
        assert_eq!("10-200".parse(), Ok(ValueSize { min: 10, max: 200 }));
        assert!("20-10".parse::<ValueSize>().is_err());
        assert_eq!("9:1".parse(), Ok(Ratio { get: 9, set: 1 }));
        assert!("0:0".parse::<Ratio>().is_err());
        assert!("9".parse::<Ratio>().is_err());
    }

    #[test]
    fn keys_have_the_requested_size() {
        let space = KeySpace::new(1000, "key:".into(), 10).unwrap();
        let mut out = Vec::new();
        space.write(7, &mut out);
        space.write(999, &mut out);
        assert_eq!(out, b"key:000007key:000999");
        assert!(KeySpace::new(1000, "key:".into(), 6).is_err());
        assert!(KeySpace::new(1, "k".into(), 2).is_ok());
    }

    /// The observed share of the most popular keys matches the Zipf law:
    /// `P(rank r) = r^-s / H(n, s)`.
    #[test]
    fn zipf_frequencies_follow_the_law() {
        let (keys, s, samples) = (1000u64, 0.99, 400_000);
        let mut chooser = chooser(Distribution::Zipf(s), keys);
        let mut counts = vec![0u64; keys as usize];
        for _ in 0..samples {
            counts[chooser.key() as usize] += 1;
        }
        let harmonic: f64 = (1..=keys).map(|r| (r as f64).powf(-s)).sum();
        for rank in [1u64, 2, 3, 10, 100] {
            let expected = (rank as f64).powf(-s) / harmonic;
            let observed = counts[rank as usize - 1] as f64 / samples as f64;
            // Within four standard deviations of a binomial count.
            let sigma = (expected * (1.0 - expected) / samples as f64).sqrt();
            let off = (observed - expected).abs() / sigma;
            assert!(
                off < 4.0,
                "rank {rank}: observed {observed:.5}, expected {expected:.5}"
            );
        }
        // And the whole range is used.
        assert!(counts[keys as usize - 1] > 0);
    }

    #[test]
    fn uniform_covers_the_key_space_evenly() {
        let mut chooser = chooser(Distribution::Uniform, 10);
        let mut counts = [0u32; 10];
        for _ in 0..100_000 {
            counts[chooser.key() as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (9_000..11_000).contains(&c)),
            "{counts:?}"
        );
    }

    #[test]
    fn sequential_lanes_interleave() {
        let ratio = Ratio { get: 1, set: 0 };
        let size = ValueSize { min: 1, max: 1 };
        let mut a = Chooser::new(5, Distribution::Sequential, ratio, size, 0, 2, 1);
        let mut b = Chooser::new(5, Distribution::Sequential, ratio, size, 1, 2, 1);
        let a: Vec<u64> = (0..4).map(|_| a.key()).collect();
        let b: Vec<u64> = (0..4).map(|_| b.key()).collect();
        assert_eq!(a, [0, 2, 4, 1]);
        assert_eq!(b, [1, 3, 0, 2]);
    }

    #[test]
    fn ratio_and_sizes_are_respected() {
        let mut chooser = chooser(Distribution::Uniform, 10);
        let gets = (0..100_000).filter(|_| chooser.op() == OpKind::Get).count();
        assert!((89_000..91_000).contains(&gets), "{gets} gets");
        let sizes: Vec<usize> = (0..1000).map(|_| chooser.value_size()).collect();
        assert!(sizes.iter().all(|s| (1..=4).contains(s)));
        assert!((1..=4).all(|s| sizes.contains(&s)));
    }
}
