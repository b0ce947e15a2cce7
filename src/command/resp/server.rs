//! INFO and CONFIG: what the server says about itself to Redis clients and
//! monitoring tools, from a [`ServerView`] that `server::stats_view` fills
//! (process facts, settings, every shard's published counters).
//!
//! Pure: no I/O, no clock, no shard. Only figures corecache really has are
//! reported; a Redis field it cannot fill truthfully is left out rather than
//! faked (tools that read INFO, such as redis_exporter, skip missing
//! fields). Settings are fixed at start-up, so `CONFIG SET` refuses every
//! parameter, with Redis's words for an immutable or an unknown one, but
//! the slow log's two, `maxmemory`, `maxmemory-policy`, `requirepass` and
//! `client-output-buffer-limit`, which live in state all shards read.

use std::fmt::{Display, Write};

use super::auth::RequirePass;
use super::connection::REDIS_VERSION;
use super::encodings::{EncodingConfig, Threshold};
use super::pubsub::limit::{self, SharedOutputLimit};
use super::slowlog::SlowlogConfig;
use super::{glob, memory_bytes, parse_i64, wrong_arity, Command};
use crate::clock::Now;
use crate::command::memory::MemoryConfig;
use crate::config::Settings;
use crate::protocol::resp::reply::{self, Version};
use crate::protocol::resp::{Argv, Limits};
use crate::stats::commands::CommandStat;
use crate::stats::errors::ErrorTable;
use crate::stats::Totals;
use crate::store::EvictionPolicy;

/// Facts about the process that do not change while it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessFacts {
    pub pid: u32,
    /// `uname`'s system name, release and machine (`Linux 6.1.0 x86_64`).
    pub os: String,
    /// The executable's absolute path, when the kernel tells it.
    pub executable: Option<String>,
    /// 40 hex digits, random per process (`run_id`).
    pub run_id: String,
    /// 40 hex digits, random per process (`master_replid`).
    pub replication_id: String,
    /// Physical memory of the machine, when the kernel tells it.
    pub total_system_memory: Option<u64>,
}

/// What the server supplies for an `INFO` or `CONFIG` reply.
#[derive(Debug, Clone)]
pub struct ServerView<'a> {
    pub process: &'a ProcessFacts,
    pub settings: &'a Settings,
    /// Worker threads (= shards).
    pub threads: usize,
    /// When the server started.
    pub started: Now,
    /// The turn's clock reading.
    pub now: Now,
    /// The wall clock, microseconds since the Unix epoch.
    pub unix_micros: u64,
    /// Shard and store counters summed over all shards (other shards' as
    /// of their last turn).
    pub totals: Totals,
    /// Keys in each database, summed over all shards.
    pub db_keys: Vec<u64>,
    /// Resident set size of the process, when `/proc` tells it.
    pub rss_bytes: Option<u64>,
    /// CPU time of the process in user mode, microseconds.
    pub cpu_user_micros: u64,
    /// CPU time of the process in kernel mode, microseconds.
    pub cpu_system_micros: u64,
    /// The slow log's settings, which `CONFIG SET` may change.
    pub slowlog: &'a SlowlogConfig,
    /// The RESP password, which `CONFIG SET requirepass` may change.
    pub requirepass: &'a RequirePass,
    /// `client-output-buffer-limit pubsub`, which `CONFIG SET` may change.
    pub pubsub_output_limit: &'a SharedOutputLimit,
    /// RESP command counters summed over all shards, by Redis's name
    /// (`get`, `config|get`), of the labels that counted anything.
    pub commands: Vec<(&'static str, CommandStat)>,
    /// Error replies by code, summed over all shards.
    pub errors: ErrorTable,
    /// The memory limit and policy, which `CONFIG SET` may change.
    pub memory: &'a MemoryConfig,
    /// The collection encoding thresholds, which `CONFIG SET` may change.
    pub encodings: &'a EncodingConfig,
}

/// Answers `INFO` or `CONFIG` into `out`. For `CONFIG RESETSTAT` the
/// caller resets every shard's counters first (see [`is_resetstat`]).
pub fn answer(
    command: Command,
    argv: &Argv<'_>,
    view: &ServerView<'_>,
    version: Version,
    out: &mut Vec<u8>,
) {
    match command {
        Command::Info => {
            let text = info(argv, view);
            reply::verbatim(out, version, b"txt", text.as_bytes());
        }
        Command::Config => config(argv, view, version, out),
        _ => reply::error(out, b"ERR internal routing error"),
    }
}

/// Whether `argv` is a well-formed `CONFIG RESETSTAT`, which resets the
/// counters of every shard before its `+OK`.
pub fn is_resetstat(command: Command, argv: &Argv<'_>) -> bool {
    command == Command::Config
        && argv.len() == 2
        && argv
            .get(1)
            .unwrap_or_default()
            .eq_ignore_ascii_case(b"resetstat")
}

/// INFO's sections, in the order Redis prints them. Redis's latencystats
/// (per-command percentiles) is not kept here, so it is not offered:
/// asking for it gets the empty reply of an unknown section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Server,
    Clients,
    Memory,
    Persistence,
    Stats,
    Replication,
    Cpu,
    Modules,
    Commandstats,
    Errorstats,
    Cluster,
    Keyspace,
}

impl Section {
    const ALL: [Section; 12] = [
        Section::Server,
        Section::Clients,
        Section::Memory,
        Section::Persistence,
        Section::Stats,
        Section::Replication,
        Section::Cpu,
        Section::Modules,
        Section::Commandstats,
        Section::Errorstats,
        Section::Cluster,
        Section::Keyspace,
    ];

    /// The header's name; its lower case is the name INFO takes.
    fn title(self) -> &'static str {
        match self {
            Section::Server => "Server",
            Section::Clients => "Clients",
            Section::Memory => "Memory",
            Section::Persistence => "Persistence",
            Section::Stats => "Stats",
            Section::Replication => "Replication",
            Section::Cpu => "CPU",
            Section::Modules => "Modules",
            Section::Commandstats => "Commandstats",
            Section::Errorstats => "Errorstats",
            Section::Cluster => "Cluster",
            Section::Keyspace => "Keyspace",
        }
    }

    fn bit(self) -> u16 {
        1 << self as u16
    }
}

/// The sections `INFO [section …]` asks for, as a bit set: by default all
/// but commandstats, as Redis (whose `all` and `everything` differ only by
/// sections not kept here).
fn selected_sections(argv: &Argv<'_>) -> u16 {
    let every = Section::ALL.iter().fold(0, |bits, s| bits | s.bit());
    let default = every & !Section::Commandstats.bit();
    if argv.len() == 1 {
        return default;
    }
    argv.iter().skip(1).fold(0, |bits, name| {
        let name = name.to_ascii_lowercase();
        bits | match name.as_slice() {
            b"default" => default,
            b"all" | b"everything" => every,
            _ => Section::ALL
                .iter()
                .find(|s| s.title().as_bytes().eq_ignore_ascii_case(&name))
                .map_or(0, |s| s.bit()),
        }
    })
}

/// The text of `INFO [section …]`: each section a `# Title` line and its
/// `name:value` lines, sections apart by an empty line, `\r\n` throughout.
fn info(argv: &Argv<'_>, view: &ServerView<'_>) -> String {
    let wanted = selected_sections(argv);
    let mut text = String::new();
    for section in Section::ALL {
        if wanted & section.bit() == 0 {
            continue;
        }
        if !text.is_empty() {
            text.push_str("\r\n");
        }
        let _ = write!(text, "# {}\r\n", section.title());
        write_section(section, view, &mut text);
    }
    text
}

/// Appends `name:value\r\n`.
fn field(text: &mut String, name: &str, value: impl Display) {
    let _ = write!(text, "{name}:{value}\r\n");
}

fn write_section(section: Section, view: &ServerView<'_>, text: &mut String) {
    let shard = &view.totals.shard;
    let store = &view.totals.store;
    let settings = view.settings;
    match section {
        Section::Server => {
            let process = view.process;
            let uptime = view
                .now
                .unix_secs()
                .saturating_sub(view.started.unix_secs());
            field(text, "redis_version", REDIS_VERSION);
            field(text, "corecache_version", crate::VERSION);
            field(text, "redis_mode", "standalone");
            field(text, "os", &process.os);
            field(text, "arch_bits", usize::BITS);
            field(text, "multiplexing_api", "io_uring");
            field(text, "process_id", process.pid);
            field(text, "run_id", &process.run_id);
            field(text, "tcp_port", settings.resp_port.unwrap_or(0));
            field(text, "server_time_usec", view.unix_micros);
            field(text, "uptime_in_seconds", uptime);
            field(text, "uptime_in_days", uptime / 86_400);
            if let Some(executable) = &process.executable {
                field(text, "executable", executable);
            }
            field(text, "corecache_threads", view.threads);
        }
        Section::Clients => {
            // Connections on both ports: memcached's and RESP's share the
            // one `maxclients`.
            field(text, "connected_clients", shard.curr_connections);
            field(text, "cluster_connections", 0);
            field(text, "maxclients", settings.max_connections);
            // Clients waiting in a blocking pop; no client-side caching
            // exists.
            field(text, "blocked_clients", shard.blocked_clients);
            field(text, "tracking_clients", 0);
            // Redis 7.4's: connections with keys WATCHed, and those keys.
            field(text, "watching_clients", shard.watching_clients);
            field(text, "total_watched_keys", store.watched_keys);
        }
        Section::Memory => {
            // What the stores hold against the limit on all shards: item
            // blocks as mimalloc sized them, index tables, eviction queues;
            // not connection buffers or the executors' own memory (which
            // the RSS includes).
            let used = store.used_memory;
            field(text, "used_memory", used);
            field(text, "used_memory_human", human_bytes(used));
            if let Some(rss) = view.rss_bytes {
                field(text, "used_memory_rss", rss);
                field(text, "used_memory_rss_human", human_bytes(rss));
            }
            // Keys, values and memcached's item headers (`bytes`).
            field(text, "used_memory_dataset", store.bytes);
            if let Some(total) = view.process.total_system_memory {
                field(text, "total_system_memory", total);
                field(text, "total_system_memory_human", human_bytes(total));
            }
            let maxmemory = view.memory.maxmemory();
            field(text, "maxmemory", maxmemory);
            field(text, "maxmemory_human", human_bytes(maxmemory));
            field(text, "maxmemory_policy", view.memory.policy());
            if let (Some(rss), true) = (view.rss_bytes, used > 0) {
                let ratio = rss as f64 / used as f64;
                field(text, "mem_fragmentation_ratio", format_args!("{ratio:.2}"));
                field(text, "mem_fragmentation_bytes", rss as i64 - used as i64);
            }
            field(text, "mem_allocator", "mimalloc");
            // What the shards take off `maxmemory` for RSS beyond the
            // accounting (`command::memory`), and the idle server's RSS.
            field(text, "corecache_limit_overhead", view.memory.overhead());
            field(text, "corecache_base_rss", view.memory.base_rss());
        }
        Section::Persistence => {
            // Nothing is ever saved or loaded.
            field(text, "loading", 0);
            field(text, "async_loading", 0);
            field(text, "rdb_bgsave_in_progress", 0);
            field(text, "aof_enabled", 0);
            field(text, "aof_rewrite_in_progress", 0);
        }
        Section::Stats => {
            // Counted on both ports; `CONFIG RESETSTAT` and memcached's
            // `stats reset` zero the same counters.
            field(text, "total_connections_received", shard.total_connections);
            field(text, "total_net_input_bytes", shard.bytes_read);
            field(text, "total_net_output_bytes", shard.bytes_written);
            field(text, "rejected_connections", shard.rejected_connections);
            // RESP commands; memcached's are in its own `stats`.
            let calls: u64 = view.commands.iter().map(|(_, stat)| stat.calls).sum();
            field(text, "total_commands_processed", calls);
            field(text, "expired_keys", store.reclaimed);
            field(text, "evicted_keys", store.evictions);
            // RESP reads; memcached's are its `get_hits`/`get_misses`.
            field(text, "keyspace_hits", store.keyspace_hits);
            field(text, "keyspace_misses", store.keyspace_misses);
            field(text, "total_error_replies", view.errors.total);
            // No `pubsub_channels`/`pubsub_patterns`: each shard knows only
            // its own subscribers (`PUBSUB CHANNELS`/`NUMPAT` gather them).
        }
        Section::Replication => {
            field(text, "role", "master");
            field(text, "connected_slaves", 0);
            field(text, "master_failover_state", "no-failover");
            field(text, "master_replid", &view.process.replication_id);
            field(text, "master_replid2", "0".repeat(40));
            field(text, "master_repl_offset", 0);
            field(text, "second_repl_offset", -1);
            field(text, "repl_backlog_active", 0);
        }
        Section::Cpu => {
            field(text, "used_cpu_sys", Seconds(view.cpu_system_micros));
            field(text, "used_cpu_user", Seconds(view.cpu_user_micros));
        }
        Section::Modules => {}
        Section::Commandstats => {
            for (name, stat) in &view.commands {
                let per_call = stat.nanos as f64 / 1000.0 / stat.calls.max(1) as f64;
                field(
                    text,
                    &format!("cmdstat_{name}"),
                    format_args!(
                        "calls={},usec={},usec_per_call={per_call:.2},rejected_calls={},failed_calls={}",
                        stat.calls,
                        stat.nanos / 1000,
                        stat.rejected,
                        stat.failed
                    ),
                );
            }
        }
        Section::Errorstats => {
            for (code, count) in &view.errors.codes {
                field(
                    text,
                    &format!("errorstat_{code}"),
                    format_args!("count={count}"),
                );
            }
        }
        Section::Cluster => field(text, "cluster_enabled", 0),
        Section::Keyspace => {
            // Keys with a time to live are not counted apart, so Redis's
            // `expires` and `avg_ttl` are left out rather than shown as 0.
            for (db, &keys) in view.db_keys.iter().enumerate() {
                if keys > 0 {
                    field(text, &format!("db{db}"), format_args!("keys={keys}"));
                }
            }
        }
    }
}

/// Microseconds shown as seconds with six decimals.
struct Seconds(u64);

impl Display for Seconds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{:06}", self.0 / 1_000_000, self.0 % 1_000_000)
    }
}

/// A byte count for people, as INFO's `*_human` fields show it: `512B`,
/// `1.50K`, `64.00M`, `2.00G` (binary units, two decimals).
fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["K", "M", "G", "T", "P"];
    if bytes < 1024 {
        return format!("{bytes}B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.2}{}", UNITS[unit])
}

/// A parameter `CONFIG GET` reports, under Redis's name.
struct Param {
    name: &'static str,
    value: fn(&ServerView<'_>) -> String,
    /// How `CONFIG SET` changes it, for the few that can change while the
    /// server runs; `None`: immutable.
    set: Option<Setter>,
}

/// How a settable parameter takes its value.
#[derive(Clone, Copy)]
enum Setter {
    /// An integer, as `parse` reads it (or the reason it refuses it, in
    /// Redis's words).
    Integer {
        parse: fn(&[u8]) -> Result<i64, String>,
        apply: fn(&ServerView<'_>, i64),
    },
    /// A string `check` accepts (else the reason it gives).
    Text {
        check: fn(&[u8]) -> Result<(), String>,
        apply: fn(&ServerView<'_>, &[u8]),
    },
}

/// A value `CONFIG SET` checked, to apply once every one is valid.
#[derive(Clone, Copy)]
enum Checked<'v> {
    Integer(i64),
    Text(&'v [u8]),
}

/// An integer of at least `MIN`.
fn integer_at_least<const MIN: i64>(value: &[u8]) -> Result<i64, String> {
    match parse_i64(value) {
        None => Err("argument couldn't be parsed into an integer".into()),
        Some(n) if n < MIN => Err(format!(
            "argument must be between {MIN} and {} inclusive",
            i64::MAX
        )),
        Some(n) => Ok(n),
    }
}

/// `maxmemory`'s value in Redis's memory units ([`memory_bytes`]).
fn memory_value(value: &[u8]) -> Result<i64, String> {
    memory_bytes(value)
        .and_then(|bytes| i64::try_from(bytes).ok())
        .ok_or_else(|| "argument must be a memory value".to_string())
}

/// An eviction policy's name, as its place in [`EvictionPolicy::ALL`].
fn policy_name(value: &[u8]) -> Result<i64, String> {
    std::str::from_utf8(value)
        .ok()
        .and_then(|name| name.parse::<EvictionPolicy>().ok())
        .map(|policy| policy as i64)
        .ok_or_else(|| {
            let names: Vec<&str> = EvictionPolicy::ALL.iter().map(|p| p.name()).collect();
            format!(
                "argument(s) must be one of the following: {}",
                names.join(", ")
            )
        })
}

/// A CONFIG parameter for one of the encodings' [`Threshold`]s: read and
/// set live, any non-negative integer.
macro_rules! encoding_param {
    ($name:literal, $threshold:ident) => {
        Param {
            name: $name,
            value: |v| v.encodings.get(Threshold::$threshold).to_string(),
            set: Some(Setter::Integer {
                parse: integer_at_least::<0>,
                apply: |v, n| v.encodings.set(Threshold::$threshold, n as usize),
            }),
        }
    };
}

/// Every parameter, in name order. Each is a setting corecache really has
/// (or a fact, such as that nothing is saved), with its value in Redis's
/// syntax.
const PARAMS: &[Param] = &[
    Param {
        name: "appendonly",
        value: |_| "no".into(),
        set: None,
    },
    Param {
        name: "bind",
        value: |v| v.settings.bind.to_string(),
        set: None,
    },
    Param {
        name: "client-output-buffer-limit",
        value: |v| limit::format(v.pubsub_output_limit.get()),
        set: Some(Setter::Text {
            check: |value| limit::parse(value).map(|_| ()),
            apply: |v, value| {
                if let Ok(Some(pubsub)) = limit::parse(value) {
                    v.pubsub_output_limit.set(pubsub);
                }
            },
        }),
    },
    Param {
        name: "client-query-buffer-limit",
        value: |v| v.settings.client_query_buffer_limit.to_string(),
        set: None,
    },
    Param {
        name: "databases",
        value: |s| s.settings.databases.to_string(),
        set: None,
    },
    Param {
        name: "enable-debug-command",
        value: |v| v.settings.enable_debug_command.name().into(),
        set: None,
    },
    encoding_param!("hash-max-listpack-entries", HashMaxListpackEntries),
    encoding_param!("hash-max-listpack-value", HashMaxListpackValue),
    Param {
        name: "maxclients",
        value: |v| v.settings.max_connections.to_string(),
        set: None,
    },
    Param {
        name: "maxmemory",
        value: |v| v.memory.maxmemory().to_string(),
        set: Some(Setter::Integer {
            parse: memory_value,
            apply: |v, bytes| v.memory.set_maxmemory(bytes as u64),
        }),
    },
    Param {
        name: "maxmemory-policy",
        value: |v| v.memory.policy().to_string(),
        set: Some(Setter::Integer {
            parse: policy_name,
            apply: |v, policy| v.memory.set_policy(EvictionPolicy::from_u8(policy as u8)),
        }),
    },
    Param {
        name: "port",
        value: |v| v.settings.resp_port.unwrap_or(0).to_string(),
        set: None,
    },
    Param {
        name: "proto-max-bulk-len",
        value: |_| Limits::default().proto_max_bulk_len.to_string(),
        set: None,
    },
    Param {
        name: "requirepass",
        value: |v| String::from_utf8_lossy(&v.requirepass.get()).into_owned(),
        set: Some(Setter::Text {
            check: |_| Ok(()),
            apply: |v, password| v.requirepass.set(password),
        }),
    },
    Param {
        name: "save",
        value: |_| String::new(),
        set: None,
    },
    encoding_param!("set-max-intset-entries", SetMaxIntsetEntries),
    Param {
        name: "slowlog-log-slower-than",
        value: |v| v.slowlog.slower_than().to_string(),
        set: Some(Setter::Integer {
            parse: integer_at_least::<-1>,
            apply: |v, micros| v.slowlog.set_slower_than(micros),
        }),
    },
    Param {
        name: "slowlog-max-len",
        value: |v| v.slowlog.max_len().to_string(),
        set: Some(Setter::Integer {
            parse: integer_at_least::<0>,
            apply: |v, len| v.slowlog.set_max_len(len),
        }),
    },
    // Idle clients are never closed.
    Param {
        name: "timeout",
        value: |_| "0".into(),
        set: None,
    },
    encoding_param!("zset-max-listpack-entries", ZsetMaxListpackEntries),
    encoding_param!("zset-max-listpack-value", ZsetMaxListpackValue),
];

/// `CONFIG GET|SET|RESETSTAT|REWRITE|HELP …`.
fn config(argv: &Argv<'_>, view: &ServerView<'_>, version: Version, out: &mut Vec<u8>) {
    let sub = argv.get(1).unwrap_or_default();
    let argc = argv.len();
    let arity_ok = |name: &str, arity: usize, exact: bool, out: &mut Vec<u8>| {
        let ok = if exact { argc == arity } else { argc >= arity };
        if !ok {
            wrong_arity(&format!("config|{name}"), out);
        }
        ok
    };
    match sub.to_ascii_lowercase().as_slice() {
        b"get" => {
            if arity_ok("get", 3, false, out) {
                config_get(argv, view, version, out);
            }
        }
        b"set" => {
            if arity_ok("set", 4, false, out) {
                config_set(argv, view, out);
            }
        }
        b"resetstat" => {
            // The caller has reset the counters (`is_resetstat`).
            if arity_ok("resetstat", 2, true, out) {
                reply::simple_string(out, b"OK");
            }
        }
        b"rewrite" => {
            // There is no Redis configuration file to rewrite (a TOML file
            // given with --config is read once and never written).
            if arity_ok("rewrite", 2, true, out) {
                reply::error(out, b"ERR The server is running without a config file");
            }
        }
        b"help" => {
            if arity_ok("help", 2, true, out) {
                let lines: &[&[u8]] = &[
                    b"CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                    b"GET <pattern> [<pattern> ...]",
                    b"    The parameters whose names match a glob-style pattern, with values.",
                    b"SET <parameter> <value> [<parameter> <value> ...]",
                    b"    Only maxmemory, maxmemory-policy, slowlog-log-slower-than, slowlog-max-len,",
                    b"    requirepass and client-output-buffer-limit (its pubsub class) change while",
                    b"    corecache runs.",
                    b"RESETSTAT",
                    b"    Zero the counters INFO reports (memcached's `stats reset` too).",
                    b"REWRITE",
                    b"    Refused: there is no configuration file to rewrite.",
                    b"HELP",
                    b"    This text.",
                ];
                reply::help(out, lines);
            }
        }
        _ => {
            let text = format!(
                "ERR unknown subcommand '{}'. Try CONFIG HELP.",
                String::from_utf8_lossy(sub)
            );
            reply::error(out, text.as_bytes());
        }
    }
}

/// Checks a `CONFIG SET` value for its setter: the value to apply, or the
/// reason it is refused.
fn check(setter: Setter, value: &[u8]) -> Result<Checked<'_>, String> {
    match setter {
        Setter::Integer { parse, .. } => parse(value).map(Checked::Integer),
        Setter::Text { check, .. } => check(value).map(|()| Checked::Text(value)),
    }
}

/// `CONFIG GET pattern [pattern …]`: each parameter once, whichever
/// patterns it matches (names compared in any case), in name order.
fn config_get(argv: &Argv<'_>, view: &ServerView<'_>, version: Version, out: &mut Vec<u8>) {
    let matching: Vec<&Param> = PARAMS
        .iter()
        .filter(|param| {
            argv.iter()
                .skip(2)
                .any(|pattern| glob::matches(pattern, param.name.as_bytes(), true))
        })
        .collect();
    reply::map_header(out, version, matching.len());
    for param in matching {
        reply::bulk(out, param.name.as_bytes());
        reply::bulk(out, (param.value)(view).as_bytes());
    }
}

/// `CONFIG SET parameter value [parameter value …]`, all or nothing, as
/// Redis 7 checks it: the first unknown, immutable or repeated parameter
/// refuses the whole request; then every value is parsed before any is
/// applied.
fn config_set(argv: &Argv<'_>, view: &ServerView<'_>, out: &mut Vec<u8>) {
    if argv.len() % 2 != 0 {
        return reply::error(out, super::SYNTAX_ERROR);
    }
    let pairs: Vec<(&[u8], &[u8])> = (2..argv.len())
        .step_by(2)
        .map(|i| {
            (
                argv.get(i).unwrap_or_default(),
                argv.get(i + 1).unwrap_or_default(),
            )
        })
        .collect();
    let mut chosen: Vec<(&Param, Setter, &[u8])> = Vec::new();
    for &(name, value) in &pairs {
        let typed = String::from_utf8_lossy(name);
        let Some(param) = PARAMS
            .iter()
            .find(|param| param.name.as_bytes().eq_ignore_ascii_case(name))
        else {
            let text =
                format!("ERR Unknown option or number of arguments for CONFIG SET - '{typed}'");
            return reply::error(out, text.as_bytes());
        };
        let failed = |reason: &str| {
            format!("ERR CONFIG SET failed (possibly related to argument '{typed}') - {reason}")
        };
        let Some(setter) = param.set else {
            return reply::error(out, failed("can't set immutable config").as_bytes());
        };
        if chosen.iter().any(|(seen, _, _)| std::ptr::eq(*seen, param)) {
            return reply::error(out, failed("duplicate parameter").as_bytes());
        }
        chosen.push((param, setter, value));
    }
    let mut values = Vec::with_capacity(chosen.len());
    for &(param, setter, value) in &chosen {
        match check(setter, value) {
            Ok(checked) => values.push(checked),
            Err(reason) => {
                let text = format!(
                    "ERR CONFIG SET failed (possibly related to argument '{}') - {reason}",
                    param.name
                );
                return reply::error(out, text.as_bytes());
            }
        }
    }
    for (&(_, setter, _), value) in chosen.iter().zip(values) {
        match (setter, value) {
            (Setter::Integer { apply, .. }, Checked::Integer(n)) => apply(view, n),
            (Setter::Text { apply, .. }, Checked::Text(text)) => apply(view, text),
            _ => unreachable!("each value was checked by its own setter"),
        }
    }
    reply::simple_string(out, b"OK");
}
