//! The command line. Flag names are part of the interface (scripts and the
//! README rely on them); their checks beyond syntax live in [`crate::plan`].

use std::path::PathBuf;
use std::str::FromStr;

use clap::{Args, Parser, Subcommand};

use crate::protocol::Protocol;
use crate::schedule::Arrival;
use crate::workload::{Distribution, Ratio, ValueSize};

/// Load generator for memcached (text and meta) and Redis (RESP2/3)
/// servers, with HDR latency histograms.
#[derive(Debug, Parser)]
#[command(name = "loadgen", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// `plot`, or nothing to run a load.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The load to run.
    #[command(flatten)]
    pub run: RunArgs,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Draw the latency-by-percentile curves of several `--json` reports.
    Plot(PlotArgs),
}

/// `loadgen plot a.json b.json -o cmp.svg`.
#[derive(Debug, Args)]
pub struct PlotArgs {
    /// Reports written by `--json`; each is one line, named by its label.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// The SVG file to write.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Which operation's latency to draw: all, get or set.
    #[arg(long, default_value = "all")]
    pub op: String,
}

/// What load to run and what to write.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Protocol to speak.
    #[arg(long, value_enum, default_value = "memcache")]
    pub protocol: Protocol,
    /// Target HOST:PORT; repeat for several (connections are spread over
    /// them). Default 127.0.0.1:11211, or :6379 for resp.
    #[arg(long)]
    pub server: Vec<String>,
    /// With --protocol resp, switch each connection to RESP3 (HELLO 3).
    #[arg(long)]
    pub resp3: bool,
    /// Worker threads.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Connections per thread.
    #[arg(long, default_value_t = 50)]
    pub connections: usize,
    /// Requests in flight per connection.
    #[arg(long, default_value_t = 1)]
    pub pipeline: usize,
    /// Mix of gets and sets, GET:SET.
    #[arg(long, default_value = "9:1")]
    pub ratio: Ratio,
    /// Keys per get (a multi-get when above 1).
    #[arg(long, default_value_t = 1)]
    pub multiget: usize,
    /// Size of the key space.
    #[arg(long, default_value_t = 100_000)]
    pub keys: u64,
    /// Length of every key, prefix included.
    #[arg(long, default_value_t = 16)]
    pub key_size: usize,
    /// What every key starts with.
    #[arg(long, default_value = "key:")]
    pub key_prefix: String,
    /// Value size in bytes, N or MIN-MAX (uniform).
    #[arg(long, default_value = "100")]
    pub value_size: ValueSize,
    /// Key distribution: uniform, zipf:S or sequential.
    #[arg(long, default_value = "uniform")]
    pub distribution: Distribution,
    /// Expiry of sets, in seconds (0: none).
    #[arg(long, default_value_t = 0)]
    pub ttl: u32,
    /// Measured seconds (default 10 unless --requests is given).
    #[arg(long, conflicts_with = "requests")]
    pub duration: Option<f64>,
    /// Measured requests over all connections, instead of --duration.
    #[arg(long)]
    pub requests: Option<u64>,
    /// Seconds of load before measuring starts.
    #[arg(long, default_value_t = 0.0)]
    pub warmup: f64,
    /// Set every key once before the run (not measured).
    #[arg(long)]
    pub prefill: bool,
    /// Open loop: this many requests per second over all connections,
    /// latency measured from each request's intended send time.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Gaps between open-loop sends.
    #[arg(long, value_enum, default_value = "poisson")]
    pub arrival: Arrival,
    /// Seconds a request may go unanswered before it counts as a timeout
    /// and its connection is reset.
    #[arg(long, default_value_t = 10.0)]
    pub timeout: f64,
    /// Pin worker threads to these CPUs, e.g. 0,2-3.
    #[arg(long)]
    pub cpus: Option<CpuList>,
    /// Write the report as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write each histogram as PREFIX.OP.hgrm (HdrHistogram percentile
    /// distribution).
    #[arg(long)]
    pub hdr_out: Option<PathBuf>,
    /// Draw the latency-by-percentile curve to this SVG file.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Name of this run in reports and plots (default PROTOCOL@SERVER).
    #[arg(long)]
    pub label: Option<String>,
    /// Seed of the workload's random choices.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// No per-second line on stderr.
    #[arg(long)]
    pub quiet: bool,
}

/// A CPU list such as `0,2-3`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpuList(pub Vec<usize>);

impl FromStr for CpuList {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let mut cpus = Vec::new();
        for part in text.split(',') {
            let parse = |n: &str| {
                n.trim()
                    .parse::<usize>()
                    .map_err(|_| format!("bad CPU {n:?}"))
            };
            match part.split_once('-') {
                Some((first, last)) => {
                    let (first, last) = (parse(first)?, parse(last)?);
                    if first > last {
                        return Err(format!("bad CPU range {part:?}"));
                    }
                    cpus.extend(first..=last);
                }
                None => cpus.push(parse(part)?),
            }
        }
        Ok(CpuList(cpus))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cpu_lists() {
        assert_eq!("0,2-4".parse(), Ok(CpuList(vec![0, 2, 3, 4])));
        assert!("3-1".parse::<CpuList>().is_err());
        assert!("a".parse::<CpuList>().is_err());
    }

    #[test]
    fn accepts_the_documented_flags() {
        let cli = Cli::try_parse_from([
            "loadgen",
            "--protocol",
            "meta",
            "--server",
            "a:1",
            "--server",
            "b:2",
            "--threads",
            "2",
            "--connections",
            "3",
            "--pipeline",
            "4",
            "--ratio",
            "1:1",
            "--multiget",
            "5",
            "--keys",
            "10",
            "--key-size",
            "8",
            "--value-size",
            "10-20",
            "--distribution",
            "zipf:0.99",
            "--ttl",
            "60",
            "--duration",
            "1.5",
            "--warmup",
            "1",
            "--prefill",
            "--rate",
            "1000",
            "--json",
            "r.json",
            "--hdr-out",
            "r",
            "--plot",
            "r.svg",
            "--cpus",
            "0-1",
        ])
        .unwrap();
        let run = cli.run;
        assert_eq!(run.server, ["a:1", "b:2"]);
        assert_eq!(run.distribution, Distribution::Zipf(0.99));
        assert_eq!(run.cpus, Some(CpuList(vec![0, 1])));
        assert!(Cli::try_parse_from(["loadgen", "--duration", "1", "--requests", "5"]).is_err());
        let plot =
            Cli::try_parse_from(["loadgen", "plot", "a.json", "b.json", "-o", "c.svg"]).unwrap();
        assert!(matches!(plot.command, Some(Command::Plot(p)) if p.inputs.len() == 2));
    }
}
