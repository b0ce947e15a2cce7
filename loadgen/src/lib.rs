//! `loadgen`: a load generator for memcached (text and meta protocols) and
//! Redis (RESP2/3) servers, reporting throughput and HDR latency
//! histograms.
//!
//! A run ([`run`]) resolves the command line into a [`plan::Plan`], starts
//! `--threads` workers ([`worker`]), each pinned to a CPU of `--cpus` and
//! driving `--connections` non-blocking connections ([`conn`]) from one
//! epoll loop, and gathers their statistics ([`stats`]): once a second for
//! the live line on stderr, and at the end for the [`report::Report`]
//! (text, `--json`, `--hdr-out`, `--plot`).
//!
//! Closed loop (the default) keeps `--pipeline` requests in flight on every
//! connection and measures each from its send. Open loop (`--rate`) sends
//! on a schedule ([`schedule`]) and measures each request from the time it
//! was *meant* to be sent, so a server that stalls is charged for the
//! queue it causes. What each request asks for comes from [`workload`];
//! how it is spelled on the wire from [`protocol`].

pub mod cli;
pub mod conn;
pub mod plan;
pub mod plot;
pub mod protocol;
pub mod report;
pub mod schedule;
pub mod stats;
pub mod worker;
pub mod workload;

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::sync::Barrier;
use std::time::Duration;

pub use cli::{Cli, RunArgs};
pub use plan::Plan;
pub use report::Report;

use stats::Stats;

/// Why a run could not be carried out (a server's misbehaviour is counted
/// in the report instead).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line cannot be used.
    #[error(transparent)]
    Plan(#[from] plan::PlanError),
    /// A worker could not set up its event loop, or an output could not be
    /// written.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The plot could not be drawn.
    #[error(transparent)]
    Plot(#[from] plot::PlotError),
}

/// Runs the load described by `args`, writes the outputs it asks for
/// (`--json`, `--hdr-out`, `--plot`) and returns the report.
pub fn run(args: &RunArgs) -> Result<Report, Error> {
    let plan = Plan::new(args)?;
    let (stats, elapsed) = drive(&plan)?;
    let report = Report::new(&plan, args.label.clone(), &stats, elapsed);
    if let Some(path) = &args.json {
        report.write_json(path)?;
    }
    if let Some(prefix) = &args.hdr_out {
        report.write_hgrm(prefix)?;
    }
    if let Some(path) = &args.plot {
        let curve = plot::Curve {
            label: report.label.clone(),
            points: report.latency_us["all"].percentiles.clone(),
        };
        plot::draw(path, "latency by percentile", &[curve])?;
    }
    Ok(report)
}

/// Runs the workers and the live line; returns the merged measured
/// statistics and the measured time.
fn drive(plan: &Plan) -> Result<(Stats, Duration), Error> {
    let barrier = Barrier::new(plan.threads);
    let (sender, ticks) = mpsc::channel::<worker::Interval>();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..plan.threads)
            .map(|index| {
                let sender = sender.clone();
                let barrier = &barrier;
                std::thread::Builder::new()
                    .name(format!("loadgen-{index}"))
                    .spawn_scoped(scope, move || worker::run(plan, index, barrier, sender))
            })
            .collect::<Result<_, _>>()?;
        drop(sender);
        // The live line: one per second once every worker has reported it.
        let mut seconds: BTreeMap<u64, (usize, Stats)> = BTreeMap::new();
        for interval in ticks {
            let entry = seconds
                .entry(interval.tick)
                .or_insert_with(|| (0, Stats::new()));
            entry.0 += 1;
            entry.1.merge(&interval.stats);
            while let Some(first) = seconds.first_entry() {
                if first.get().0 < plan.threads {
                    break;
                }
                let (second, (_, stats)) = first.remove_entry();
                if plan.live {
                    let warmup = Duration::from_secs(second + 1) <= plan.warmup;
                    eprintln!("{}", report::live_line(second, warmup, &stats));
                }
            }
        }
        let mut total = Stats::new();
        let mut elapsed = Duration::ZERO;
        for handle in workers {
            let outcome = handle
                .join()
                .map_err(|_| std::io::Error::other("a worker thread panicked"))??;
            total.merge(&outcome.stats);
            elapsed = elapsed.max(outcome.elapsed);
        }
        Ok((total, elapsed))
    })
}

/// `loadgen plot`: draws the reports' curves into one SVG.
pub fn plot(args: &cli::PlotArgs) -> Result<(), Error> {
    let curves = args
        .inputs
        .iter()
        .map(|path| plot::curve_from_json(path, &args.op))
        .collect::<Result<Vec<_>, _>>()?;
    plot::draw(
        &args.output,
        &format!("{} latency by percentile", args.op),
        &curves,
    )?;
    Ok(())
}
