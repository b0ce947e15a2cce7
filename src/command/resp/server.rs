//! INFO and CONFIG: what the server says about itself to Redis clients and
//! monitoring tools, from a [`ServerView`] that `server::stats_view` fills
//! (process facts, settings, every shard's published counters).
//!
//! Pure: no I/O, no clock, no shard. Only figures corecache really has are
//! reported; a Redis field it cannot fill truthfully is left out rather than
//! faked (tools that read INFO, such as redis_exporter, skip missing
//! fields). Settings are fixed at start-up, so `CONFIG SET` refuses every
//! parameter, with Redis's words for an immutable or an unknown one, but
//! the slow log's two, which live in atomics all shards read.

use std::fmt::{Display, Write};

use super::connection::REDIS_VERSION;
use super::encodings::{EncodingConfig, Threshold};
use super::slowlog::SlowlogConfig;
use super::{glob, parse_i64, wrong_arity, Command};
use crate::clock::Now;
use crate::config::Settings;
use crate::protocol::resp::reply::{self, Version};
use crate::protocol::resp::{Argv, Limits};
use crate::stats::Totals;

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

/// INFO's sections, in the order Redis prints them. Redis's commandstats,
/// errorstats and latencystats are not kept here, so they are not offered:
/// asking for them gets the empty reply of an unknown section.
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
    Cluster,
    Keyspace,
}

impl Section {
    const ALL: [Section; 10] = [
        Section::Server,
        Section::Clients,
        Section::Memory,
        Section::Persistence,
        Section::Stats,
        Section::Replication,
        Section::Cpu,
        Section::Modules,
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
            Section::Cluster => "Cluster",
            Section::Keyspace => "Keyspace",
        }
    }

    fn bit(self) -> u16 {
        1 << self as u16
    }
}

/// The sections `INFO [section …]` asks for, as a bit set. `default`, `all`
/// and `everything` differ in Redis only by sections not kept here.
fn selected_sections(argv: &Argv<'_>) -> u16 {
    let every = Section::ALL.iter().fold(0, |bits, s| bits | s.bit());
    if argv.len() == 1 {
        return every;
    }
    argv.iter().skip(1).fold(0, |bits, name| {
        let name = name.to_ascii_lowercase();
        bits | match name.as_slice() {
            b"default" | b"all" | b"everything" => every,
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
            // No blocking commands and no client-side caching exist.
            field(text, "blocked_clients", 0);
            field(text, "tracking_clients", 0);
        }
        Section::Memory => {
            // The bytes the store holds for items (keys, values, item
            // headers) on all shards; not the index or connection buffers.
            field(text, "used_memory", store.bytes);
            field(text, "used_memory_human", human_bytes(store.bytes));
            if let Some(rss) = view.rss_bytes {
                field(text, "used_memory_rss", rss);
                field(text, "used_memory_rss_human", human_bytes(rss));
            }
            if let Some(total) = view.process.total_system_memory {
                field(text, "total_system_memory", total);
                field(text, "total_system_memory_human", human_bytes(total));
            }
            field(text, "maxmemory", settings.maxmemory);
            field(text, "maxmemory_human", human_bytes(settings.maxmemory));
            field(text, "maxmemory_policy", MAXMEMORY_POLICY);
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
            field(text, "expired_keys", store.reclaimed);
            field(text, "evicted_keys", store.evictions);
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

/// A full store refuses writes: nothing is evicted yet.
const MAXMEMORY_POLICY: &str = "noeviction";

/// A parameter `CONFIG GET` reports, under Redis's name.
struct Param {
    name: &'static str,
    value: fn(&ServerView<'_>) -> String,
    /// How `CONFIG SET` changes it, for the few that can change while the
    /// server runs; `None`: immutable.
    set: Option<Setter>,
}

/// A settable parameter: the integer range it takes, and how a value in
/// range is applied.
#[derive(Clone, Copy)]
struct Setter {
    min: i64,
    apply: fn(&ServerView<'_>, i64),
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
        name: "databases",
        value: |s| s.settings.databases.to_string(),
        set: None,
    },
    Param {
        name: "hash-max-listpack-entries",
        value: |v| {
            v.encodings
                .get(Threshold::HashMaxListpackEntries)
                .to_string()
        },
        set: Some(Setter {
            min: 0,
            apply: |v, n| {
                v.encodings
                    .set(Threshold::HashMaxListpackEntries, n as usize)
            },
        }),
    },
    Param {
        name: "hash-max-listpack-value",
        value: |v| v.encodings.get(Threshold::HashMaxListpackValue).to_string(),
        set: Some(Setter {
            min: 0,
            apply: |v, n| v.encodings.set(Threshold::HashMaxListpackValue, n as usize),
        }),
    },
    Param {
        name: "maxclients",
        value: |v| v.settings.max_connections.to_string(),
        set: None,
    },
    Param {
        name: "maxmemory",
        value: |v| v.settings.maxmemory.to_string(),
        set: None,
    },
    Param {
        name: "maxmemory-policy",
        value: |_| MAXMEMORY_POLICY.into(),
        set: None,
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
        name: "save",
        value: |_| String::new(),
        set: None,
    },
    Param {
        name: "set-max-intset-entries",
        value: |v| v.encodings.get(Threshold::SetMaxIntsetEntries).to_string(),
        set: Some(Setter {
            min: 0,
            apply: |v, n| v.encodings.set(Threshold::SetMaxIntsetEntries, n as usize),
        }),
    },
    Param {
        name: "slowlog-log-slower-than",
        value: |v| v.slowlog.slower_than().to_string(),
        set: Some(Setter {
            min: -1,
            apply: |v, micros| v.slowlog.set_slower_than(micros),
        }),
    },
    Param {
        name: "slowlog-max-len",
        value: |v| v.slowlog.max_len().to_string(),
        set: Some(Setter {
            min: 0,
            apply: |v, len| v.slowlog.set_max_len(len),
        }),
    },
    // Idle clients are never closed.
    Param {
        name: "timeout",
        value: |_| "0".into(),
        set: None,
    },
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
                    b"    Only slowlog-log-slower-than and slowlog-max-len change while corecache runs.",
                    b"RESETSTAT",
                    b"    Zero the counters INFO reports (memcached's `stats reset` too).",
                    b"REWRITE",
                    b"    Refused: there is no configuration file to rewrite.",
                    b"HELP",
                    b"    This text.",
                ];
                reply::array_header(out, lines.len());
                for line in lines {
                    reply::simple_string(out, line);
                }
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
        let reason = match parse_i64(value) {
            None => "argument couldn't be parsed into an integer".to_string(),
            Some(n) if n < setter.min => format!(
                "argument must be between {} and {} inclusive",
                setter.min,
                i64::MAX
            ),
            Some(n) => {
                values.push(n);
                continue;
            }
        };
        let text = format!(
            "ERR CONFIG SET failed (possibly related to argument '{}') - {reason}",
            param.name
        );
        return reply::error(out, text.as_bytes());
    }
    for (&(_, setter, _), value) in chosen.iter().zip(values) {
        (setter.apply)(view, value);
    }
    reply::simple_string(out, b"OK");
}
