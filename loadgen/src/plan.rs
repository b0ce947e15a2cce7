//! A run's settings, checked and resolved once from the command line:
//! addresses looked up, the key space validated, the value bytes built.
//! Workers only read a [`Plan`].

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use crate::cli::RunArgs;
use crate::protocol::Protocol;
use crate::schedule::Arrival;
use crate::workload::{Distribution, KeySpace, Ratio, ValueSize};

/// Everything a run needs to know.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The protocol spoken.
    pub protocol: Protocol,
    /// Send `HELLO 3` on every RESP connection.
    pub resp3: bool,
    /// Targets; connection `i` of a thread goes to `servers[i % len]`.
    pub servers: Vec<SocketAddr>,
    /// The targets as given on the command line (for reports).
    pub server_names: Vec<String>,
    /// Worker threads.
    pub threads: usize,
    /// Connections per thread.
    pub connections: usize,
    /// Requests in flight per connection.
    pub pipeline: usize,
    /// Keys per get.
    pub multiget: usize,
    /// The keys.
    pub keys: KeySpace,
    /// Key choice.
    pub distribution: Distribution,
    /// Get:set mix.
    pub ratio: Ratio,
    /// Value sizes.
    pub value_size: ValueSize,
    /// The bytes every value is a prefix of (`value_size.max` long).
    pub value: Vec<u8>,
    /// TTL of sets in seconds (0: none).
    pub ttl: u32,
    /// Measured time, when the run is timed.
    pub duration: Option<Duration>,
    /// Measured requests, when the run is counted.
    pub requests: Option<u64>,
    /// Time before measuring starts.
    pub warmup: Duration,
    /// Set every key once before the run.
    pub prefill: bool,
    /// Open-loop rate in requests per second over all connections.
    pub rate: Option<f64>,
    /// Gap law of the open loop.
    pub arrival: Arrival,
    /// How long a request may go unanswered before its connection is reset.
    pub timeout: Duration,
    /// CPUs to pin worker threads to (thread `i` on `cpus[i % len]`).
    pub cpus: Vec<usize>,
    /// Seed of every connection's RNG (mixed with its position).
    pub seed: u64,
    /// Print the per-second line on stderr.
    pub live: bool,
}

/// A setting that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PlanError(pub String);

impl Plan {
    /// Checks and resolves the command line.
    pub fn new(args: &RunArgs) -> Result<Plan, PlanError> {
        let fail = |message: String| Err(PlanError(message));
        let mut server_names = args.server.clone();
        if server_names.is_empty() {
            let port = if args.protocol == Protocol::Resp {
                6379
            } else {
                11211
            };
            server_names.push(format!("127.0.0.1:{port}"));
        }
        let mut servers = Vec::new();
        for name in &server_names {
            let addr = name
                .to_socket_addrs()
                .ok()
                .and_then(|mut addrs| addrs.next())
                .ok_or_else(|| PlanError(format!("cannot resolve --server {name}")))?;
            servers.push(addr);
        }
        if args.threads == 0 || args.connections == 0 || args.pipeline == 0 || args.multiget == 0 {
            return fail(
                "--threads, --connections, --pipeline and --multiget must be at least 1".into(),
            );
        }
        let keys =
            KeySpace::new(args.keys, args.key_prefix.clone(), args.key_size).map_err(PlanError)?;
        if let Some(rate) = args.rate {
            if !(rate.is_finite() && rate > 0.0) {
                return fail(format!("--rate must be positive, got {rate}"));
            }
        }
        let duration = match (args.duration, args.requests) {
            (_, Some(_)) => None,
            (Some(secs), None) => Some(secs_to_duration(secs, "--duration")?),
            (None, None) => Some(Duration::from_secs(10)),
        };
        let value = (0..args.value_size.max)
            .map(|i| b'a' + (i % 26) as u8)
            .collect();
        Ok(Plan {
            protocol: args.protocol,
            resp3: args.resp3,
            servers,
            server_names,
            threads: args.threads,
            connections: args.connections,
            pipeline: args.pipeline,
            multiget: args.multiget,
            keys,
            distribution: args.distribution,
            ratio: args.ratio,
            value_size: args.value_size,
            value,
            ttl: args.ttl,
            duration,
            requests: args.requests,
            warmup: secs_to_duration(args.warmup, "--warmup")?,
            prefill: args.prefill,
            rate: args.rate,
            arrival: args.arrival,
            timeout: secs_to_duration(args.timeout, "--timeout")?,
            cpus: args.cpus.clone().map(|list| list.0).unwrap_or_default(),
            seed: args.seed,
            live: !args.quiet,
        })
    }

    /// All connections of the run.
    pub fn total_connections(&self) -> usize {
        self.threads * self.connections
    }
}

fn secs_to_duration(secs: f64, flag: &str) -> Result<Duration, PlanError> {
    Duration::try_from_secs_f64(secs)
        .map_err(|_| PlanError(format!("{flag} must be a positive number of seconds")))
}
