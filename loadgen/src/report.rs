//! The results of a run: the final text report, the `--json` document, the
//! `--hdr-out` percentile distributions and the per-second live line. All
//! latencies are shown in microseconds; histograms hold nanoseconds.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::plan::Plan;
use crate::protocol::OpKind;
use crate::stats::{Counters, Stats};

/// Points of the percentile curve per half-distance to 100% (the
/// HdrHistogram convention: 5 gives the usual `.hgrm` density).
const TICKS_PER_HALF_DISTANCE: u32 = 5;

/// Latency summary of one operation kind, in microseconds.
#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    /// Replies recorded.
    pub count: u64,
    /// Smallest latency.
    pub min: f64,
    /// Mean latency.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// 99.99th percentile.
    pub p9999: f64,
    /// Largest latency.
    pub max: f64,
    /// The latency-by-percentile curve: `[percentile, latency]` pairs.
    pub percentiles: Vec<[f64; 2]>,
}

fn us(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

impl Latency {
    /// Summarizes a histogram of nanoseconds.
    pub fn of(histogram: &Histogram<u64>) -> Latency {
        let at = |q: f64| us(histogram.value_at_quantile(q));
        let percentiles = if histogram.is_empty() {
            Vec::new()
        } else {
            histogram
                .iter_quantiles(TICKS_PER_HALF_DISTANCE)
                .map(|v| [v.quantile_iterated_to() * 100.0, us(v.value_iterated_to())])
                .collect()
        };
        Latency {
            count: histogram.len(),
            min: us(histogram.min()),
            mean: histogram.mean() / 1000.0,
            p50: at(0.5),
            p90: at(0.9),
            p99: at(0.99),
            p999: at(0.999),
            p9999: at(0.9999),
            max: us(histogram.max()),
            percentiles,
        }
    }
}

/// The settings a report records.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    threads: usize,
    connections: usize,
    pipeline: usize,
    ratio: String,
    multiget: usize,
    keys: u64,
    key_size: usize,
    value_size: String,
    distribution: String,
    ttl: u32,
    duration_secs: Option<f64>,
    requests: Option<u64>,
    warmup_secs: f64,
    prefill: bool,
    rate: Option<f64>,
    arrival: crate::schedule::Arrival,
    resp3: bool,
}

/// A run's report, as written by `--json`.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Name of the run (`--label`, or PROTOCOL@SERVER).
    pub label: String,
    /// Protocol spoken.
    pub protocol: crate::protocol::Protocol,
    /// Targets.
    pub servers: Vec<String>,
    /// The workload.
    pub settings: Settings,
    /// Length of the measured window in seconds.
    pub elapsed_secs: f64,
    /// Counts of the measured window (`requests` are replies received).
    #[serde(flatten)]
    pub counters: Counters,
    /// Replies per second.
    pub ops_per_sec: f64,
    /// hits / (hits + misses), 0 without gets.
    pub hit_ratio: f64,
    /// Latency by operation kind (`get`, `set`) and for `all`.
    pub latency_us: BTreeMap<String, Latency>,
    #[serde(skip)]
    histograms: Vec<(String, Histogram<u64>)>,
}

impl Report {
    /// The report of a run with these merged statistics.
    pub fn new(plan: &Plan, label: Option<String>, stats: &Stats, elapsed: Duration) -> Report {
        let counters = stats.counters;
        let secs = elapsed.as_secs_f64();
        let mut histograms: Vec<(String, Histogram<u64>)> = OpKind::ALL
            .iter()
            .filter(|op| !stats.latency[op.index()].is_empty())
            .map(|op| (op.name().to_string(), stats.latency[op.index()].clone()))
            .collect();
        histograms.push(("all".to_string(), stats.all_latency()));
        let latency_us = histograms
            .iter()
            .map(|(name, h)| (name.clone(), Latency::of(h)))
            .collect();
        let keys_looked_up = counters.hits + counters.misses;
        Report {
            label: label.unwrap_or_else(|| {
                format!("{:?}@{}", plan.protocol, plan.server_names.join(",")).to_lowercase()
            }),
            protocol: plan.protocol,
            servers: plan.server_names.clone(),
            settings: Settings {
                threads: plan.threads,
                connections: plan.connections,
                pipeline: plan.pipeline,
                ratio: plan.ratio.to_string(),
                multiget: plan.multiget,
                keys: plan.keys.count,
                key_size: plan.keys.size,
                value_size: plan.value_size.to_string(),
                distribution: plan.distribution.to_string(),
                ttl: plan.ttl,
                duration_secs: plan.duration.map(|d| d.as_secs_f64()),
                requests: plan.requests,
                warmup_secs: plan.warmup.as_secs_f64(),
                prefill: plan.prefill,
                rate: plan.rate,
                arrival: plan.arrival,
                resp3: plan.resp3,
            },
            elapsed_secs: secs,
            counters,
            ops_per_sec: if secs > 0.0 {
                counters.requests as f64 / secs
            } else {
                0.0
            },
            hit_ratio: if keys_looked_up > 0 {
                counters.hits as f64 / keys_looked_up as f64
            } else {
                0.0
            },
            latency_us,
            histograms,
        }
    }

    /// The human-readable report.
    pub fn text(&self) -> String {
        let c = &self.counters;
        let mut out = String::new();
        let _ = writeln!(out, "{}: {:.2} s measured", self.label, self.elapsed_secs);
        let _ = writeln!(
            out,
            "  {:.0} ops/s, {} requests ({} sent)",
            self.ops_per_sec, c.requests, c.sent
        );
        let _ = writeln!(
            out,
            "  gets {} sets {}, hits {} misses {} (hit ratio {:.1}%)",
            c.gets,
            c.sets,
            c.hits,
            c.misses,
            self.hit_ratio * 100.0
        );
        let _ = writeln!(
            out,
            "  errors {} timeouts {} dropped {} reconnects {}",
            c.errors, c.timeouts, c.dropped, c.reconnects
        );
        let _ = writeln!(
            out,
            "  bytes sent {} received {}",
            c.bytes_sent, c.bytes_received
        );
        let _ = writeln!(
            out,
            "  {:<6}{:>10}{:>10}{:>10}{:>10}{:>10}{:>10}{:>10}{:>10}",
            "µs", "count", "min", "p50", "p90", "p99", "p99.9", "p99.99", "max"
        );
        for (name, l) in &self.latency_us {
            let _ = writeln!(
                out,
                "  {:<6}{:>10}{:>10.1}{:>10.1}{:>10.1}{:>10.1}{:>10.1}{:>10.1}{:>10.1}",
                name, l.count, l.min, l.p50, l.p90, l.p99, l.p999, l.p9999, l.max
            );
        }
        out
    }

    /// Writes the JSON document.
    pub fn write_json(&self, path: &Path) -> io::Result<()> {
        let json = serde_json::to_string_pretty(self).map_err(io::Error::other)?;
        std::fs::write(path, json + "\n")
    }

    /// Writes `PREFIX.OP.hgrm` for every histogram; returns the paths.
    pub fn write_hgrm(&self, prefix: &Path) -> io::Result<Vec<PathBuf>> {
        let mut paths = Vec::new();
        for (name, histogram) in &self.histograms {
            let mut path = prefix.as_os_str().to_owned();
            path.push(format!(".{name}.hgrm"));
            let path = PathBuf::from(path);
            std::fs::write(&path, percentile_distribution(histogram))?;
            paths.push(path);
        }
        Ok(paths)
    }
}

/// A histogram in HdrHistogram's percentile-distribution text format (the
/// input of its plotter), values in microseconds.
pub fn percentile_distribution(histogram: &Histogram<u64>) -> String {
    let mut out = format!(
        "{:>12} {:>14} {:>10} {:>14}\n\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    );
    if !histogram.is_empty() {
        let mut total = 0;
        for v in histogram.iter_quantiles(TICKS_PER_HALF_DISTANCE) {
            total += v.count_since_last_iteration();
            let q = v.quantile_iterated_to();
            let value = us(v.value_iterated_to());
            if q < 1.0 {
                let _ = writeln!(
                    out,
                    "{value:12.3} {q:2.12} {total:10} {:14.2}",
                    1.0 / (1.0 - q)
                );
            } else {
                let _ = writeln!(out, "{value:12.3} {q:2.12} {total:10}");
            }
        }
    }
    let _ = writeln!(
        out,
        "#[Mean    = {:12.3}, StdDeviation   = {:12.3}]",
        histogram.mean() / 1000.0,
        histogram.stdev() / 1000.0
    );
    let _ = writeln!(
        out,
        "#[Max     = {:12.3}, Total count    = {:12}]",
        us(histogram.max()),
        histogram.len()
    );
    // HdrHistogram's sub-bucket count: 2 × 10^digits, up to a power of two.
    let sub_buckets = (2 * 10u64.pow(u32::from(histogram.sigfig()))).next_power_of_two();
    let _ = writeln!(
        out,
        "#[Buckets = {:12}, SubBuckets     = {:12}]",
        histogram.buckets(),
        sub_buckets
    );
    out
}

/// The per-second line: ops/s, hit ratio and latency of one second.
pub fn live_line(second: u64, warmup: bool, stats: &Stats) -> String {
    let c = &stats.counters;
    let all = stats.all_latency();
    let looked_up = c.hits + c.misses;
    let hit = if looked_up > 0 {
        format!("{:5.1}%", c.hits as f64 * 100.0 / looked_up as f64)
    } else {
        "    -".into()
    };
    format!(
        "[{:>4}s{}] {:>9} ops/s  hit {}  p50 {:>8.1}µs  p99 {:>8.1}µs  p99.9 {:>8.1}µs  errors {} timeouts {} reconnects {}",
        second + 1,
        if warmup { " warmup" } else { "" },
        c.requests,
        hit,
        us(all.value_at_quantile(0.5)),
        us(all.value_at_quantile(0.99)),
        us(all.value_at_quantile(0.999)),
        c.errors,
        c.timeouts,
        c.reconnects,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Reply;

    #[test]
    fn summaries_are_in_microseconds() {
        let mut stats = Stats::new();
        for i in 1..=1000u64 {
            stats.record(
                OpKind::Get,
                i * 1000,
                Reply {
                    hits: 1,
                    ..Reply::default()
                },
            );
        }
        let latency = Latency::of(&stats.latency[0]);
        assert_eq!(latency.count, 1000);
        assert!((latency.p50 - 500.0).abs() < 1.0, "{}", latency.p50);
        assert!((latency.p99 - 990.0).abs() < 1.0, "{}", latency.p99);
        assert!((latency.max - 1000.0).abs() < 1.0);
        let last = latency.percentiles.last().unwrap();
        assert_eq!(last[0], 100.0);
        let text = percentile_distribution(&stats.latency[0]);
        assert!(text.starts_with("       Value     Percentile TotalCount 1/(1-Percentile)\n\n"));
        assert!(text.contains("Total count    =         1000]"), "{text}");
        assert!(text.contains("#[Max     =     1000."), "{text}");
        assert!(text.contains("SubBuckets     =         2048]"), "{text}");
    }
}
