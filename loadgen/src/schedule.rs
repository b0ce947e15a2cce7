//! The open-loop send schedule (`--rate`): when each request of a
//! connection is *meant* to be sent, independent of when replies come back.
//! Latency is measured from these intended times, so a stalled server shows
//! up as the queueing it causes instead of pausing the clock (coordinated
//! omission).

use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Exp1};

/// How the gaps between intended sends are drawn (`--arrival`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Arrival {
    /// Exponential gaps: a Poisson process, like independent users.
    Poisson,
    /// Equal gaps (each connection starts at a random phase).
    Uniform,
}

/// A connection's intended send times, as offsets from the start.
pub struct Schedule {
    arrival: Arrival,
    mean_gap_ns: f64,
    next_ns: f64,
    rng: SmallRng,
}

impl Schedule {
    /// A schedule of `rate` requests per second (`rate > 0`).
    pub fn new(rate: f64, arrival: Arrival, seed: u64) -> Schedule {
        let mean_gap_ns = 1e9 / rate;
        let mut rng = SmallRng::seed_from_u64(seed);
        // A random first send spreads connections' phases apart.
        let next_ns = rng.random::<f64>() * mean_gap_ns;
        Schedule {
            arrival,
            mean_gap_ns,
            next_ns,
            rng,
        }
    }

    /// When the next request is due.
    pub fn due(&self) -> Duration {
        Duration::from_nanos(self.next_ns as u64)
    }

    /// Moves on to the request after.
    pub fn advance(&mut self) {
        let gap = match self.arrival {
            Arrival::Uniform => self.mean_gap_ns,
            Arrival::Poisson => {
                let unit: f64 = Exp1.sample(&mut self.rng);
                unit * self.mean_gap_ns
            }
        };
        self.next_ns += gap;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gaps(arrival: Arrival, rate: f64, n: usize) -> Vec<f64> {
        let mut schedule = Schedule::new(rate, arrival, 3);
        let mut last = schedule.due().as_nanos() as f64;
        (0..n)
            .map(|_| {
                schedule.advance();
                let due = schedule.due().as_nanos() as f64;
                let gap = due - last;
                last = due;
                gap
            })
            .collect()
    }

    #[test]
    fn uniform_gaps_are_equal() {
        let gaps = gaps(Arrival::Uniform, 1000.0, 100);
        assert!(gaps.iter().all(|&g| (g - 1e6).abs() <= 1.0), "{gaps:?}");
        let first = Schedule::new(1000.0, Arrival::Uniform, 3).due();
        assert!(first < Duration::from_millis(1));
    }

    /// Poisson gaps average 1/rate with a standard deviation equal to the
    /// mean (the exponential law), and about 1/e of them exceed the mean.
    #[test]
    fn poisson_gaps_are_exponential() {
        let n = 200_000;
        let gaps = gaps(Arrival::Poisson, 10_000.0, n);
        let mean = gaps.iter().sum::<f64>() / n as f64;
        let variance = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / n as f64;
        assert!((mean - 1e5).abs() / 1e5 < 0.01, "mean gap {mean}");
        assert!(
            (variance.sqrt() - mean).abs() / mean < 0.02,
            "sd {}",
            variance.sqrt()
        );
        let long = gaps.iter().filter(|&&g| g > 1e5).count() as f64 / n as f64;
        assert!((long - (-1f64).exp()).abs() < 0.01, "{long}");
    }
}
