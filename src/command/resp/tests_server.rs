//! Unit tests of INFO and CONFIG against a fixed [`ServerView`], with the
//! layout and error texts Redis 7 writes.

use super::auth::RequirePass;
use super::pubsub::limit::{SharedOutputLimit, PUBSUB_DEFAULT};
use super::server::{answer, is_resetstat, ProcessFacts, ServerView};
use super::slowlog::SlowlogConfig;
use super::*;
use crate::clock::Now;
use crate::command::memory::MemoryConfig;
use crate::config::Settings;
use crate::protocol::resp::{parse, Args, Limits, Parsed};
use crate::stats::commands::CommandStat;
use crate::stats::errors::ErrorTable;
use crate::stats::{ShardStats, StoreStats, Totals};
use crate::store::EvictionPolicy;

fn facts() -> ProcessFacts {
    ProcessFacts {
        pid: 4242,
        os: "Linux 6.1.0 x86_64".into(),
        executable: Some("/usr/bin/corecache".into()),
        run_id: "a".repeat(40),
        replication_id: "b".repeat(40),
        total_system_memory: Some(8 << 30),
    }
}

/// Runs one command (routed as the server routes it) against a server that
/// started two days and an hour ago and holds `keys` items (and, if there
/// are any, 5 more in database 2).
fn run(settings: &Settings, keys: u64, version: Version, args: &[&str]) -> String {
    run_with(settings, &SlowlogConfig::default(), keys, version, args)
}

/// [`run`] with these memory settings.
fn run_memory(memory: &MemoryConfig, args: &[&str]) -> String {
    let settings = Settings::for_tests();
    run_full(
        &settings,
        &SlowlogConfig::default(),
        memory,
        0,
        Version::Resp2,
        args,
    )
}

/// [`run`] with these slow log settings.
fn run_with(
    settings: &Settings,
    slowlog: &SlowlogConfig,
    keys: u64,
    version: Version,
    args: &[&str],
) -> String {
    let memory = MemoryConfig::new(settings);
    run_full(settings, slowlog, &memory, keys, version, args)
}

/// [`run`] with these slow log and memory settings.
fn run_full(
    settings: &Settings,
    slowlog: &SlowlogConfig,
    memory: &MemoryConfig,
    keys: u64,
    version: Version,
    args: &[&str],
) -> String {
    let process = facts();
    let requirepass = RequirePass::new(Some("pw"));
    let output_limit = SharedOutputLimit::new(PUBSUB_DEFAULT);
    let started = Now(1_700_000_000_000);
    let encodings = super::encodings::EncodingConfig::default();
    let view = ServerView {
        process: &process,
        settings,
        threads: 3,
        started,
        now: Now(started.0 + (2 * 86_400 + 3600) * 1000),
        unix_micros: 1_700_000_000_123_456,
        db_keys: if keys > 0 {
            vec![keys, 0, 5]
        } else {
            vec![0; 16]
        },
        totals: Totals {
            shard: ShardStats {
                curr_connections: 2,
                total_connections: 9,
                rejected_connections: 1,
                bytes_read: 100,
                bytes_written: 200,
                ..ShardStats::default()
            },
            store: StoreStats {
                curr_items: keys,
                bytes: 1000 * keys,
                used_memory: 1536 * keys,
                reclaimed: 4,
                ..StoreStats::default()
            },
        },
        rss_bytes: Some(6 << 20),
        cpu_user_micros: 1_500_000,
        cpu_system_micros: 25,
        slowlog,
        requirepass: &requirepass,
        pubsub_output_limit: &output_limit,
        commands: vec![
            (
                "get",
                CommandStat {
                    calls: 4,
                    nanos: 10_000,
                    rejected: 1,
                    failed: 0,
                },
            ),
            (
                "config|get",
                CommandStat {
                    calls: 1,
                    nanos: 2_500,
                    rejected: 0,
                    failed: 1,
                },
            ),
        ],
        errors: ErrorTable {
            codes: vec![("ERR".into(), 3), ("WRONGTYPE".into(), 1)],
            total: 4,
        },
        memory,
        encodings: &encodings,
    };
    let frame = super::tests::encode(args);
    let mut parsed = Args::new();
    let Parsed::Command { argv, .. } = parse(frame.as_bytes(), &Limits::default(), &mut parsed)
    else {
        panic!("test frame must parse");
    };
    let mut out = Vec::new();
    if let Ok((command, route)) = route(&argv, &mut out) {
        assert_eq!(route, Route::Connection);
        answer(command, &argv, &view, version, &mut out);
    }
    String::from_utf8(out).expect("utf-8 reply")
}

fn info(args: &[&str]) -> String {
    let text = run(&Settings::for_tests(), 3, Version::Resp2, args);
    let (header, body) = text.split_once("\r\n").expect("bulk header");
    assert_eq!(header, format!("${}", body.len() - 2), "{text}");
    body.strip_suffix("\r\n").expect("bulk end").to_string()
}

fn headers(text: &str) -> Vec<&str> {
    text.split("\r\n").filter(|l| l.starts_with('#')).collect()
}

const DEFAULT_SECTIONS: &[&str] = &[
    "# Server",
    "# Clients",
    "# Memory",
    "# Persistence",
    "# Stats",
    "# Replication",
    "# CPU",
    "# Modules",
    "# Errorstats",
    "# Cluster",
    "# Keyspace",
];

#[test]
fn info_without_arguments_is_every_section_in_redis_order() {
    let text = info(&["INFO"]);
    assert_eq!(headers(&text), DEFAULT_SECTIONS);
    assert_eq!(info(&["info", "default"]), text);
    // `all` and `everything` add the per-command counters.
    for group in ["ALL", "everything"] {
        let all = info(&["info", group]);
        let mut sections = DEFAULT_SECTIONS.to_vec();
        sections.insert(8, "# Commandstats");
        assert_eq!(headers(&all), sections, "{group}");
    }
    assert!(
        text.starts_with("# Server\r\nredis_version:7.0.15\r\n"),
        "{text}"
    );
    // Sections are apart by one empty line; every line ends in \r\n.
    assert!(text.contains("\r\n\r\n# Clients\r\n"), "{text}");
    assert!(!text.contains("\r\n\r\n\r\n"), "{text}");
    assert!(!text.replace("\r\n", "").contains('\n'), "{text}");
    assert!(text.ends_with("\r\n"), "{text}");
}

#[test]
fn info_picks_sections_in_any_case_and_order_without_repeats() {
    assert_eq!(
        headers(&info(&["INFO", "keyspace", "CPU", "server", "cpu"])),
        ["# Server", "# CPU", "# Keyspace"]
    );
    assert_eq!(
        info(&["INFO", "cpu"]),
        "# CPU\r\nused_cpu_sys:0.000025\r\nused_cpu_user:1.500000\r\n"
    );
    assert_eq!(info(&["INFO", "modules"]), "# Modules\r\n");
    assert_eq!(
        headers(&info(&["INFO", "nosuch", "clients", "latencystats"])),
        ["# Clients"]
    );
}

#[test]
fn commandstats_and_errorstats_have_redis_layout() {
    assert_eq!(
        info(&["INFO", "commandstats"]),
        "# Commandstats\r\n\
         cmdstat_get:calls=4,usec=10,usec_per_call=2.50,rejected_calls=1,failed_calls=0\r\n\
         cmdstat_config|get:calls=1,usec=2,usec_per_call=2.50,rejected_calls=0,failed_calls=1\r\n"
    );
    assert_eq!(
        info(&["INFO", "errorstats"]),
        "# Errorstats\r\nerrorstat_ERR:count=3\r\nerrorstat_WRONGTYPE:count=1\r\n"
    );
    let stats = info(&["INFO", "stats"]);
    assert!(
        stats.contains("\r\ntotal_commands_processed:5\r\n"),
        "{stats}"
    );
    assert!(stats.contains("\r\ntotal_error_replies:4\r\n"), "{stats}");
}

#[test]
fn unknown_sections_get_an_empty_reply() {
    let settings = Settings::for_tests();
    for section in ["nosuch", "latencystats"] {
        assert_eq!(
            run(&settings, 0, Version::Resp2, &["INFO", section]),
            "$0\r\n\r\n"
        );
    }
    assert_eq!(
        run(&settings, 0, Version::Resp3, &["INFO", "nosuch"]),
        "=4\r\ntxt:\r\n"
    );
}

#[test]
fn info_is_a_bulk_in_resp2_and_a_verbatim_txt_in_resp3() {
    let settings = Settings::for_tests();
    let resp2 = run(&settings, 1, Version::Resp2, &["INFO", "cluster"]);
    assert_eq!(resp2, "$30\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n");
    let resp3 = run(&settings, 1, Version::Resp3, &["INFO", "cluster"]);
    assert_eq!(resp3, "=34\r\ntxt:# Cluster\r\ncluster_enabled:0\r\n\r\n");
}

#[test]
fn info_fields_report_the_view() {
    let text = info(&["INFO"]);
    let field = |name: &str| {
        text.split("\r\n")
            .find_map(|line| line.strip_prefix(&format!("{name}:")))
            .unwrap_or_else(|| panic!("{name} missing in {text}"))
            .to_string()
    };
    assert_eq!(field("corecache_version"), crate::VERSION);
    assert_eq!(field("redis_mode"), "standalone");
    assert_eq!(field("os"), "Linux 6.1.0 x86_64");
    assert_eq!(field("process_id"), "4242");
    assert_eq!(field("tcp_port"), "6379");
    assert_eq!(field("server_time_usec"), "1700000000123456");
    assert_eq!(field("uptime_in_seconds"), (2 * 86_400 + 3600).to_string());
    assert_eq!(field("uptime_in_days"), "2");
    assert_eq!(field("executable"), "/usr/bin/corecache");
    assert_eq!(field("connected_clients"), "2");
    assert_eq!(field("maxclients"), "10000");
    assert_eq!(field("used_memory"), "4608");
    assert_eq!(field("used_memory_human"), "4.50K");
    assert_eq!(field("used_memory_rss"), (6 << 20).to_string());
    assert_eq!(field("used_memory_rss_human"), "6.00M");
    assert_eq!(field("total_system_memory_human"), "8.00G");
    assert_eq!(field("maxmemory"), (64 << 20).to_string());
    assert_eq!(field("maxmemory_human"), "64.00M");
    assert_eq!(field("maxmemory_policy"), "allkeys-s3fifo");
    assert_eq!(field("used_memory_dataset"), "3000");
    assert_eq!(field("mem_fragmentation_ratio"), "1365.33");
    assert_eq!(
        field("mem_fragmentation_bytes"),
        ((6 << 20) - 4608).to_string()
    );
    assert_eq!(field("mem_allocator"), "mimalloc");
    assert_eq!(field("total_connections_received"), "9");
    assert_eq!(field("total_net_input_bytes"), "100");
    assert_eq!(field("total_net_output_bytes"), "200");
    assert_eq!(field("rejected_connections"), "1");
    assert_eq!(field("expired_keys"), "4");
    assert_eq!(field("evicted_keys"), "0");
    assert_eq!(field("role"), "master");
    assert_eq!(field("master_replid"), "b".repeat(40));
    assert_eq!(field("master_repl_offset"), "0");
    assert_eq!(field("db0"), "keys=3");
    assert_eq!(field("db2"), "keys=5");
    assert!(!text.contains("db1:"));
    // What is not counted is not shown.
    assert!(!text.contains("\r\nconfig_file:"), "{text}");
}

#[test]
fn an_empty_keyspace_has_only_its_header() {
    let text = run(
        &Settings::for_tests(),
        0,
        Version::Resp2,
        &["INFO", "keyspace"],
    );
    assert_eq!(text, "$12\r\n# Keyspace\r\n\r\n");
}

fn config(version: Version, args: &[&str]) -> String {
    run(&Settings::for_tests(), 0, version, args)
}

#[test]
fn config_get_matches_names_as_globs_in_any_case() {
    let r2 = |args: &[&str]| config(Version::Resp2, args);
    assert_eq!(
        r2(&["CONFIG", "GET", "port"]),
        "*2\r\n$4\r\nport\r\n$4\r\n6379\r\n"
    );
    assert_eq!(
        r2(&["config", "get", "PORT"]),
        r2(&["CONFIG", "GET", "port"])
    );
    assert_eq!(
        r2(&["CONFIG", "GET", "max*"]),
        "*6\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n$9\r\nmaxmemory\r\n$8\r\n67108864\r\n\
         $16\r\nmaxmemory-policy\r\n$14\r\nallkeys-s3fifo\r\n"
    );
    assert_eq!(r2(&["CONFIG", "GET", "nosuch"]), "*0\r\n");
    assert!(r2(&["CONFIG", "GET", "*"]).starts_with("*42\r\n"));
    assert_eq!(
        r2(&["CONFIG", "GET", "client-output*"]),
        "*2\r\n$26\r\nclient-output-buffer-limit\r\n$67\r\n\
         normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60\r\n"
    );
    assert_eq!(
        r2(&["CONFIG", "GET", "requirepass"]),
        "*2\r\n$11\r\nrequirepass\r\n$2\r\npw\r\n"
    );
    // Each parameter once, however many patterns match it.
    assert_eq!(
        r2(&["CONFIG", "GET", "save", "appendonly", "s?ve", "[a]*"]),
        "*4\r\n$10\r\nappendonly\r\n$2\r\nno\r\n$4\r\nsave\r\n$0\r\n\r\n"
    );
    assert_eq!(
        r2(&["CONFIG", "GET", "[^a-m]*"]),
        r2(&[
            "CONFIG",
            "GET",
            "port",
            "proto-max-bulk-len",
            "requirepass",
            "save",
            "set-max-intset-entries",
            "slowlog*",
            "timeout",
            "zset-max-listpack-*"
        ])
    );
    assert_eq!(
        r2(&["CONFIG", "GET", "databases", "bind", "proto-max-bulk-len"]),
        "*6\r\n$4\r\nbind\r\n$9\r\n127.0.0.1\r\n$9\r\ndatabases\r\n$2\r\n16\r\n\
         $18\r\nproto-max-bulk-len\r\n$9\r\n536870912\r\n"
    );
}

#[test]
fn config_get_is_a_map_in_resp3() {
    assert_eq!(
        config(Version::Resp3, &["CONFIG", "GET", "timeout"]),
        "%1\r\n$7\r\ntimeout\r\n$1\r\n0\r\n"
    );
    assert_eq!(config(Version::Resp3, &["CONFIG", "GET", "x"]), "%0\r\n");
}

#[test]
fn config_set_refuses_as_redis_words_it() {
    let r2 = |args: &[&str]| config(Version::Resp2, args);
    assert_eq!(
        r2(&["CONFIG", "SET", "maxclients", "1"]),
        "-ERR CONFIG SET failed (possibly related to argument 'maxclients') - can't set \
         immutable config\r\n"
    );
    assert_eq!(
        r2(&["CONFIG", "SET", "DATABASES", "2", "foo", "1"]),
        "-ERR CONFIG SET failed (possibly related to argument 'DATABASES') - can't set \
         immutable config\r\n"
    );
    assert_eq!(
        r2(&["CONFIG", "SET", "foo", "1", "port", "1"]),
        "-ERR Unknown option or number of arguments for CONFIG SET - 'foo'\r\n"
    );
    assert_eq!(
        r2(&["CONFIG", "SET", "a", "b", "c"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        r2(&["CONFIG", "SET", "a"]),
        "-ERR wrong number of arguments for 'config|set' command\r\n"
    );
}

#[test]
fn the_slow_log_settings_change_all_or_nothing() {
    let settings = Settings::for_tests();
    let slowlog = SlowlogConfig::default();
    let r2 = |args: &[&str]| run_with(&settings, &slowlog, 0, Version::Resp2, args);
    assert_eq!(
        r2(&["CONFIG", "GET", "slowlog*"]),
        "*4\r\n$23\r\nslowlog-log-slower-than\r\n$5\r\n10000\r\n\
         $15\r\nslowlog-max-len\r\n$3\r\n128\r\n"
    );
    assert_eq!(
        r2(&[
            "CONFIG",
            "SET",
            "SLOWLOG-log-slower-than",
            "0",
            "slowlog-max-len",
            "5"
        ]),
        "+OK\r\n"
    );
    assert_eq!((slowlog.slower_than(), slowlog.max_len()), (0, 5));
    assert_eq!(
        r2(&[
            "CONFIG",
            "SET",
            "slowlog-max-len",
            "7",
            "slowlog-log-slower-than",
            "-2"
        ]),
        "-ERR CONFIG SET failed (possibly related to argument 'slowlog-log-slower-than') - \
         argument must be between -1 and 9223372036854775807 inclusive\r\n"
    );
    assert_eq!(slowlog.max_len(), 5, "nothing changed");
    assert_eq!(
        r2(&["CONFIG", "SET", "SLOWLOG-MAX-LEN", "05"]),
        "-ERR CONFIG SET failed (possibly related to argument 'slowlog-max-len') - \
         argument couldn't be parsed into an integer\r\n"
    );
    assert_eq!(
        r2(&["CONFIG", "SET", "slowlog-max-len", "-1"]),
        "-ERR CONFIG SET failed (possibly related to argument 'slowlog-max-len') - \
         argument must be between 0 and 9223372036854775807 inclusive\r\n"
    );
    assert_eq!(
        r2(&[
            "CONFIG",
            "SET",
            "slowlog-max-len",
            "5",
            "slowlog-max-len",
            "6"
        ]),
        "-ERR CONFIG SET failed (possibly related to argument 'slowlog-max-len') - \
         duplicate parameter\r\n"
    );
    assert_eq!(
        r2(&["CONFIG", "SET", "slowlog-max-len", "9", "port", "6"]),
        "-ERR CONFIG SET failed (possibly related to argument 'port') - can't set \
         immutable config\r\n"
    );
    assert_eq!(slowlog.max_len(), 5);
}

#[test]
fn maxmemory_and_its_policy_change_live() {
    let memory = MemoryConfig::new(&Settings::for_tests());
    let r2 = |args: &[&str]| run_memory(&memory, args);
    assert_eq!(
        r2(&[
            "CONFIG",
            "SET",
            "maxmemory",
            "100mb",
            "maxmemory-policy",
            "ALLKEYS-LRU"
        ]),
        "+OK\r\n"
    );
    assert_eq!(memory.maxmemory(), 100 << 20);
    assert_eq!(memory.policy(), EvictionPolicy::AllKeysLru);
    assert_eq!(
        r2(&["CONFIG", "GET", "maxmemory*"]),
        "*4\r\n$9\r\nmaxmemory\r\n$9\r\n104857600\r\n\
         $16\r\nmaxmemory-policy\r\n$11\r\nallkeys-lru\r\n"
    );
    let info = r2(&["INFO", "memory"]);
    assert!(info.contains("\r\nmaxmemory:104857600\r\n"), "{info}");
    assert!(
        info.contains("\r\nmaxmemory_policy:allkeys-lru\r\n"),
        "{info}"
    );
    for (value, bytes) in [
        ("0", 0),
        ("2k", 2000),
        ("2KB", 2048),
        ("3g", 3_000_000_000),
        ("1gb", 1 << 30),
    ] {
        assert_eq!(r2(&["CONFIG", "SET", "maxmemory", value]), "+OK\r\n");
        assert_eq!(memory.maxmemory(), bytes, "{value}");
    }
    assert_eq!(
        r2(&[
            "CONFIG",
            "SET",
            "maxmemory",
            "12x",
            "maxmemory-policy",
            "noeviction"
        ]),
        "-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - \
         argument must be a memory value\r\n"
    );
    assert_eq!(
        r2(&["CONFIG", "SET", "maxmemory-policy", "lru"]),
        "-ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - \
         argument(s) must be one of the following: noeviction, allkeys-lru, allkeys-lfu, \
         allkeys-random, volatile-lru, volatile-lfu, volatile-random, volatile-ttl, \
         allkeys-s3fifo\r\n"
    );
    assert_eq!(
        memory.policy(),
        EvictionPolicy::AllKeysLru,
        "nothing changed"
    );
}

#[test]
fn config_subcommands_arity_and_unknowns() {
    let r2 = |args: &[&str]| config(Version::Resp2, args);
    assert_eq!(
        r2(&["CONFIG"]),
        "-ERR wrong number of arguments for 'config' command\r\n"
    );
    assert_eq!(
        r2(&["CONFIG", "GET"]),
        "-ERR wrong number of arguments for 'config|get' command\r\n"
    );
    assert_eq!(
        r2(&["CONFIG", "FOO"]),
        "-ERR unknown subcommand 'FOO'. Try CONFIG HELP.\r\n"
    );
    assert_eq!(r2(&["CONFIG", "RESETSTAT"]), "+OK\r\n");
    assert_eq!(
        r2(&["CONFIG", "resetstat", "x"]),
        "-ERR wrong number of arguments for 'config|resetstat' command\r\n"
    );
    assert_eq!(
        r2(&["CONFIG", "REWRITE"]),
        "-ERR The server is running without a config file\r\n"
    );
    assert!(r2(&["CONFIG", "HELP"]).starts_with("*13\r\n+CONFIG <subcommand>"));
}

#[test]
fn only_a_well_formed_resetstat_resets() {
    let check = |args: &[&str]| {
        let mut frame = format!("*{}\r\n", args.len());
        for arg in args {
            frame.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
        }
        let mut parsed = Args::new();
        let Parsed::Command { argv, .. } = parse(frame.as_bytes(), &Limits::default(), &mut parsed)
        else {
            panic!("test frame must parse");
        };
        let command = lookup(argv.name()).expect("known command");
        is_resetstat(command, &argv)
    };
    assert!(check(&["CONFIG", "RESETSTAT"]));
    assert!(check(&["config", "ResetStat"]));
    assert!(!check(&["CONFIG", "RESETSTAT", "x"]));
    assert!(!check(&["CONFIG", "GET", "resetstat"]));
    assert!(!check(&["INFO", "resetstat"]));
}
