//! Settings: command-line flags (clap), an optional TOML file with the same
//! names, defaults in one place, and human sizes (`64m`, `1g`) parsed once.
//!
//! Precedence: a flag given on the command line wins over the file, the file
//! wins over the default. The result is a plain [`Settings`] value that every
//! shard reads and nobody mutates.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use clap::Parser;

use crate::command::resp::pubsub::limit::{self, OutputLimit};
use serde::Deserialize;

use crate::store::EvictionPolicy;

/// A size in bytes, written as a plain number or with a binary unit suffix:
/// `k`/`kb`, `m`/`mb`, `g`/`gb` (case-insensitive; 1k = 1024, as memcached's
/// `-I 1m` means 1 MiB).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// The size in bytes.
    pub fn bytes(self) -> u64 {
        self.0
    }
}

impl FromStr for ByteSize {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let digits_end = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (digits, unit) = text.split_at(digits_end);
        let number: u64 = digits
            .parse()
            .map_err(|_| format!("'{text}' is not a size (examples: 1048576, 512k, 64m, 2g)"))?;
        let multiplier: u64 = match unit.to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "k" | "kb" => 1 << 10,
            "m" | "mb" => 1 << 20,
            "g" | "gb" => 1 << 30,
            _ => return Err(format!("'{text}' has an unknown unit (use k, m or g)")),
        };
        number
            .checked_mul(multiplier)
            .map(ByteSize)
            .ok_or_else(|| format!("'{text}' is too large"))
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Number(n) => Ok(ByteSize(n)),
            Raw::Text(text) => text.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// The command line. Every option is optional here so that a value from the
/// config file can fill it; defaults are applied in [`Settings::resolve`].
#[derive(Debug, Default, Parser)]
#[command(
    name = "corecache",
    version,
    about = "A thread-per-core in-memory cache server speaking the memcached and Redis protocols."
)]
pub struct Cli {
    /// TOML file with any of these settings under the same names
    /// (e.g. `memcache-port = 11311`); flags given here win over it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Worker threads, one pinned executor and one keyspace shard each.
    /// Default: the CPUs of the process's affinity mask (so `taskset -c 1`
    /// gives one thread on CPU 1). More threads than CPUs is allowed.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    /// Address to listen on.
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<IpAddr>,

    /// TCP port of the memcached protocol; 0 disables it.
    #[arg(long, value_name = "PORT")]
    pub memcache_port: Option<u16>,

    /// TCP port of the Redis protocol (RESP); 0 disables it.
    #[arg(long, value_name = "PORT")]
    pub resp_port: Option<u16>,

    /// Largest value a client may store (units k/m/g, binary). Larger values
    /// are read, discarded and answered with
    /// `SERVER_ERROR object too large for cache`.
    #[arg(long, value_name = "BYTES")]
    pub max_item_size: Option<ByteSize>,

    /// Most client connections open at once, over all threads and ports;
    /// more are accepted, told `ERROR Too many open connections` (RESP:
    /// `-ERR max number of clients reached`) and closed, and counted as
    /// `rejected_connections`.
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,

    /// Memory limit of the node (units k/m/g, binary), split evenly over
    /// the shards; 0 = no limit. Counts item blocks as the allocator sizes
    /// them, the index and the eviction queues (`used_memory`). Reported as
    /// `limit_maxbytes` and `maxmemory`; `CONFIG SET maxmemory` changes it.
    #[arg(long, value_name = "BYTES", conflicts_with = "memory_limit")]
    pub maxmemory: Option<ByteSize>,

    /// memcached's `-m`: the memory limit in megabytes (`-m 64` is
    /// `--maxmemory 64m`).
    #[arg(short = 'm', long, value_name = "MEGABYTES")]
    pub memory_limit: Option<u64>,

    /// What a full node evicts: noeviction, allkeys-lru, allkeys-lfu,
    /// allkeys-random, volatile-lru, volatile-lfu, volatile-random,
    /// volatile-ttl or allkeys-s3fifo (the default). `CONFIG SET
    /// maxmemory-policy` changes it.
    #[arg(long, value_name = "NAME")]
    pub maxmemory_policy: Option<EvictionPolicy>,

    /// Under concurrent load, how long (microseconds) a shard may wait for a
    /// batch of network completions before answering what it has; 0 never
    /// waits. A lone client doing request/reply never waits either.
    #[arg(long, value_name = "MICROS")]
    pub batch_wait_us: Option<u64>,

    /// Number of RESP databases (`SELECT 0` to `N-1`); the memcached
    /// protocol uses database 0.
    #[arg(long, value_name = "N")]
    pub databases: Option<usize>,

    /// Password of the RESP port's `default` user: clients must `AUTH`
    /// (or `HELLO … AUTH default PASSWORD`) before other commands. Also
    /// `CONFIG SET requirepass`. The memcached port has no authentication:
    /// disable it (`--memcache-port 0`) where that matters.
    #[arg(long, value_name = "PASSWORD")]
    pub requirepass: Option<String>,

    /// Largest unparsed input a RESP client may send ahead (units k/m/g,
    /// binary); a client over it is disconnected, as Redis's
    /// `client-query-buffer-limit` (default 1g, at least 1m).
    #[arg(long, value_name = "BYTES")]
    pub client_query_buffer_limit: Option<ByteSize>,

    /// How much unsent output a pub/sub subscriber may pile up, as
    /// Redis's `client-output-buffer-limit` value (`"pubsub 32mb 8mb
    /// 60"`: hard limit, soft limit, seconds over the soft one; 0
    /// disables a limit). Also `CONFIG SET client-output-buffer-limit`.
    #[arg(long, value_name = "LIMITS")]
    pub client_output_buffer_limit: Option<String>,

    /// Whether `DEBUG` is allowed: `no` (Redis 7's default), `yes`, or
    /// `local` (from loopback connections only).
    #[arg(long, value_name = "no|yes|local")]
    pub enable_debug_command: Option<DebugCommand>,
}

/// Who may run `DEBUG` (`--enable-debug-command`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum DebugCommand {
    /// Nobody.
    #[default]
    No,
    /// Every client.
    Yes,
    /// Clients connected from a loopback address.
    Local,
}

impl DebugCommand {
    /// Redis's name for the setting's value.
    pub fn name(self) -> &'static str {
        match self {
            DebugCommand::No => "no",
            DebugCommand::Yes => "yes",
            DebugCommand::Local => "local",
        }
    }
}

/// The config file: the same settings as the flags, in kebab-case.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct FileSettings {
    threads: Option<usize>,
    bind: Option<IpAddr>,
    memcache_port: Option<u16>,
    resp_port: Option<u16>,
    max_item_size: Option<ByteSize>,
    max_connections: Option<usize>,
    maxmemory: Option<ByteSize>,
    memory_limit: Option<u64>,
    maxmemory_policy: Option<String>,
    batch_wait_us: Option<u64>,
    databases: Option<usize>,
    requirepass: Option<String>,
    client_query_buffer_limit: Option<ByteSize>,
    client_output_buffer_limit: Option<String>,
    enable_debug_command: Option<DebugCommand>,
}

/// Default values, in one place.
pub mod defaults {
    use std::net::{IpAddr, Ipv4Addr};

    pub const BIND: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
    pub const MEMCACHE_PORT: u16 = 11211;
    pub const RESP_PORT: u16 = 6379;
    /// memcached's default `-I`.
    pub const MAX_ITEM_SIZE: u64 = 1 << 20;
    /// Redis's default `maxclients`.
    pub const MAX_CONNECTIONS: usize = 10_000;
    /// No limit.
    pub const MAXMEMORY: u64 = 0;
    /// Measured: CPU per request falls by 5–15% under 50 concurrent
    /// connections (`server::coalesce`).
    pub const BATCH_WAIT_US: u64 = 30;
    /// Redis's default `databases`.
    pub const DATABASES: usize = 16;
    /// Redis's default `client-query-buffer-limit`.
    pub const CLIENT_QUERY_BUFFER_LIMIT: u64 = 1 << 30;
}

/// Smallest `--client-query-buffer-limit`, as Redis.
pub const MIN_CLIENT_QUERY_BUFFER_LIMIT: u64 = 1 << 20;

/// Largest `--databases`.
pub const MAX_DATABASES: usize = 65_536;

/// Largest `--batch-wait-us`: a millisecond of added latency is already
/// more than a cache's clients expect.
pub const MAX_BATCH_WAIT_US: u64 = 1000;

/// Smallest `--max-item-size`: memcached refuses anything below 1 KiB too.
pub const MIN_MAX_ITEM_SIZE: u64 = 1024;
/// Largest `--max-item-size`: memcached's own ceiling (1 GiB).
pub const MAX_MAX_ITEM_SIZE: u64 = 1 << 30;

/// The resolved settings the server runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Worker threads (= shards).
    pub threads: usize,
    /// CPUs the workers are pinned to, in order; worker `i` runs on
    /// `cpus[i % cpus.len()]`.
    pub cpus: Vec<usize>,
    pub bind: IpAddr,
    /// `None` when disabled.
    pub memcache_port: Option<u16>,
    /// `None` when disabled.
    pub resp_port: Option<u16>,
    pub max_item_size: u64,
    pub max_connections: usize,
    /// 0 = no limit; the value at start-up (`CONFIG SET` changes the
    /// shared copy, `server::shared::MemoryConfig`).
    pub maxmemory: u64,
    /// The eviction policy at start-up.
    pub maxmemory_policy: EvictionPolicy,
    /// Longest wait for a batch of completions; zero: never wait.
    pub batch_wait: Duration,
    /// RESP databases, at least 1.
    pub databases: usize,
    /// The RESP `default` user's password at start-up (`CONFIG SET
    /// requirepass` changes it later); `None`: no password.
    pub requirepass: Option<String>,
    /// Largest unparsed RESP input per client, in bytes.
    pub client_query_buffer_limit: u64,
    /// Who may run `DEBUG`.
    pub enable_debug_command: DebugCommand,
    /// `client-output-buffer-limit pubsub` at start-up.
    pub pubsub_output_limit: OutputLimit,
}

impl Settings {
    /// Settings for unit tests: one thread, the default ports and limits,
    /// a 64 MiB memory limit.
    #[cfg(test)]
    pub fn for_tests() -> Settings {
        Settings {
            threads: 1,
            cpus: vec![0],
            bind: "127.0.0.1".parse().expect("address"),
            memcache_port: Some(11211),
            resp_port: Some(6379),
            max_item_size: 1 << 20,
            max_connections: 10_000,
            maxmemory: 64 << 20,
            maxmemory_policy: EvictionPolicy::default(),
            batch_wait: Duration::from_micros(30),
            databases: 16,
            requirepass: None,
            client_query_buffer_limit: defaults::CLIENT_QUERY_BUFFER_LIMIT,
            enable_debug_command: DebugCommand::No,
            pubsub_output_limit: limit::PUBSUB_DEFAULT,
        }
    }
}

/// A setting that cannot be used, with a message for the one start-up line.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl Settings {
    /// Reads the command line and the config file it names, applies defaults
    /// and checks the values.
    pub fn load() -> Result<Settings, ConfigError> {
        let cli = Cli::parse();
        let file = match &cli.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|err| {
                    ConfigError(format!("cannot read config file {}: {err}", path.display()))
                })?;
                toml::from_str::<FileSettings>(&text).map_err(|err| {
                    ConfigError(format!("config file {}: {}", path.display(), err.message()))
                })?
            }
            None => FileSettings::default(),
        };
        Settings::resolve(cli, file, affinity_cpus())
    }

    /// Merges flags over file values over defaults and validates the result.
    /// `allowed_cpus` is the process's affinity mask.
    fn resolve(
        cli: Cli,
        file: FileSettings,
        allowed_cpus: Vec<usize>,
    ) -> Result<Settings, ConfigError> {
        let allowed_cpus = if allowed_cpus.is_empty() {
            vec![0]
        } else {
            allowed_cpus
        };
        let threads = cli.threads.or(file.threads).unwrap_or(allowed_cpus.len());
        if threads == 0 || threads > 1024 {
            return Err(ConfigError(format!(
                "--threads must be between 1 and 1024, not {threads}"
            )));
        }
        let port = |p: u16| (p != 0).then_some(p);
        let memcache_port = port(
            cli.memcache_port
                .or(file.memcache_port)
                .unwrap_or(defaults::MEMCACHE_PORT),
        );
        let resp_port = port(
            cli.resp_port
                .or(file.resp_port)
                .unwrap_or(defaults::RESP_PORT),
        );
        if memcache_port.is_some() && memcache_port == resp_port {
            return Err(ConfigError(format!(
                "--memcache-port and --resp-port are both {}",
                memcache_port.unwrap_or_default()
            )));
        }
        let max_item_size = cli
            .max_item_size
            .or(file.max_item_size)
            .map_or(defaults::MAX_ITEM_SIZE, ByteSize::bytes);
        if !(MIN_MAX_ITEM_SIZE..=MAX_MAX_ITEM_SIZE).contains(&max_item_size) {
            return Err(ConfigError(format!(
                "--max-item-size must be between 1k and 1g, not {max_item_size} bytes"
            )));
        }
        let max_connections = cli
            .max_connections
            .or(file.max_connections)
            .unwrap_or(defaults::MAX_CONNECTIONS);
        if max_connections == 0 {
            return Err(ConfigError("--max-connections must be at least 1".into()));
        }
        let batch_wait_us = cli
            .batch_wait_us
            .or(file.batch_wait_us)
            .unwrap_or(defaults::BATCH_WAIT_US);
        if batch_wait_us > MAX_BATCH_WAIT_US {
            return Err(ConfigError(format!(
                "--batch-wait-us must be at most {MAX_BATCH_WAIT_US}, not {batch_wait_us}"
            )));
        }
        let databases = cli
            .databases
            .or(file.databases)
            .unwrap_or(defaults::DATABASES);
        if !(1..=MAX_DATABASES).contains(&databases) {
            return Err(ConfigError(format!(
                "--databases must be between 1 and {MAX_DATABASES}, not {databases}"
            )));
        }
        let client_query_buffer_limit = cli
            .client_query_buffer_limit
            .or(file.client_query_buffer_limit)
            .map_or(defaults::CLIENT_QUERY_BUFFER_LIMIT, ByteSize::bytes);
        if client_query_buffer_limit < MIN_CLIENT_QUERY_BUFFER_LIMIT {
            return Err(ConfigError(format!(
                "--client-query-buffer-limit must be at least 1m, not {client_query_buffer_limit} bytes"
            )));
        }
        let pubsub_output_limit = match cli
            .client_output_buffer_limit
            .or(file.client_output_buffer_limit)
        {
            Some(value) => limit::parse(value.as_bytes())
                .map_err(|reason| ConfigError(format!("--client-output-buffer-limit: {reason}")))?
                .unwrap_or(limit::PUBSUB_DEFAULT),
            None => limit::PUBSUB_DEFAULT,
        };
        let maxmemory = match (cli.maxmemory, cli.memory_limit) {
            (Some(bytes), _) => bytes.bytes(),
            (None, Some(megabytes)) => megabytes_to_bytes(megabytes)?,
            (None, None) => match (file.maxmemory, file.memory_limit) {
                (Some(bytes), _) => bytes.bytes(),
                (None, Some(megabytes)) => megabytes_to_bytes(megabytes)?,
                (None, None) => defaults::MAXMEMORY,
            },
        };
        let maxmemory_policy = match (cli.maxmemory_policy, &file.maxmemory_policy) {
            (Some(policy), _) => policy,
            (None, Some(name)) => name.parse().map_err(ConfigError)?,
            (None, None) => EvictionPolicy::default(),
        };
        Ok(Settings {
            threads,
            cpus: allowed_cpus,
            bind: cli.bind.or(file.bind).unwrap_or(defaults::BIND),
            memcache_port,
            resp_port,
            max_item_size,
            max_connections,
            maxmemory,
            maxmemory_policy,
            batch_wait: Duration::from_micros(batch_wait_us),
            databases,
            // An empty password is none, as `CONFIG SET requirepass ""`.
            requirepass: cli
                .requirepass
                .or(file.requirepass)
                .filter(|password| !password.is_empty()),
            client_query_buffer_limit,
            enable_debug_command: cli
                .enable_debug_command
                .or(file.enable_debug_command)
                .unwrap_or_default(),
            pubsub_output_limit,
        })
    }

    /// The CPU worker `index` is pinned to.
    pub fn cpu_for(&self, index: usize) -> usize {
        self.cpus[index % self.cpus.len()]
    }
}

/// `-m`'s megabytes in bytes.
fn megabytes_to_bytes(megabytes: u64) -> Result<u64, ConfigError> {
    megabytes
        .checked_mul(1 << 20)
        .ok_or_else(|| ConfigError(format!("-m {megabytes} is too large")))
}

/// The CPUs in this process's affinity mask, in ascending order.
fn affinity_cpus() -> Vec<usize> {
    core_affinity::get_core_ids()
        .unwrap_or_default()
        .into_iter()
        .map(|core| core.id)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(args: &[&str], file: &str) -> Result<Settings, ConfigError> {
        let cli = Cli::try_parse_from(std::iter::once("corecache").chain(args.iter().copied()))
            .map_err(|e| ConfigError(e.to_string()))?;
        let file: FileSettings = toml::from_str(file).map_err(|e| ConfigError(e.to_string()))?;
        Settings::resolve(cli, file, vec![2, 3])
    }

    #[test]
    fn sizes_take_binary_units() {
        assert_eq!("1048576".parse(), Ok(ByteSize(1 << 20)));
        assert_eq!("512k".parse(), Ok(ByteSize(512 << 10)));
        assert_eq!("64MB".parse(), Ok(ByteSize(64 << 20)));
        assert_eq!("2g".parse(), Ok(ByteSize(2 << 30)));
        assert!("12x".parse::<ByteSize>().is_err());
        assert!("m".parse::<ByteSize>().is_err());
        assert!("99999999999999999999g".parse::<ByteSize>().is_err());
    }

    #[test]
    fn defaults_follow_the_affinity_mask() {
        let settings = resolve(&[], "").unwrap();
        assert_eq!(settings.threads, 2);
        assert_eq!(settings.cpus, vec![2, 3]);
        assert_eq!(settings.cpu_for(3), 3);
        assert_eq!(settings.memcache_port, Some(11211));
        assert_eq!(settings.resp_port, Some(6379));
        assert_eq!(settings.max_item_size, 1 << 20);
        assert_eq!(settings.maxmemory, 0);
        assert_eq!(settings.batch_wait, Duration::from_micros(30));
    }

    #[test]
    fn flags_win_over_the_file_and_the_file_over_defaults() {
        let file = "threads = 4\nmemcache-port = 1234\nmax-item-size = \"2m\"\nmaxmemory = 1024";
        let settings = resolve(&["--threads", "3"], file).unwrap();
        assert_eq!(settings.threads, 3);
        assert_eq!(settings.memcache_port, Some(1234));
        assert_eq!(settings.max_item_size, 2 << 20);
        assert_eq!(settings.maxmemory, 1024);
    }

    #[test]
    fn memory_limit_and_policy() {
        let settings = resolve(&["-m", "64"], "").unwrap();
        assert_eq!(settings.maxmemory, 64 << 20);
        assert_eq!(settings.maxmemory_policy, EvictionPolicy::AllKeysS3Fifo);
        let settings = resolve(
            &["--maxmemory", "1g", "--maxmemory-policy", "allkeys-lru"],
            "memory-limit = 5\nmaxmemory-policy = \"noeviction\"",
        )
        .unwrap();
        assert_eq!(settings.maxmemory, 1 << 30);
        assert_eq!(settings.maxmemory_policy, EvictionPolicy::AllKeysLru);
        let settings = resolve(&[], "memory-limit = 5\nmaxmemory-policy = \"noeviction\"").unwrap();
        assert_eq!(settings.maxmemory, 5 << 20);
        assert_eq!(settings.maxmemory_policy, EvictionPolicy::NoEviction);
        assert!(resolve(&["--maxmemory-policy", "lru"], "").is_err());
        assert!(resolve(&["-m", "1", "--maxmemory", "1m"], "").is_err());
        assert!(resolve(&[], "maxmemory-policy = \"x\"").is_err());
    }

    #[test]
    fn port_zero_disables_a_front_end() {
        let settings = resolve(&["--resp-port", "0"], "").unwrap();
        assert_eq!(settings.resp_port, None);
    }

    #[test]
    fn bad_values_are_refused_with_a_message() {
        assert!(resolve(&["--threads", "0"], "").is_err());
        assert!(resolve(&["--max-item-size", "10"], "").is_err());
        assert!(resolve(&["--memcache-port", "7000", "--resp-port", "7000"], "").is_err());
        assert!(resolve(&[], "no-such-setting = 1").is_err());
        assert!(resolve(&["--max-connections", "0"], "").is_err());
        assert!(resolve(&["--batch-wait-us", "1001"], "").is_err());
        assert_eq!(
            resolve(&[], "batch-wait-us = 0").unwrap().batch_wait,
            Duration::ZERO
        );
    }
}
