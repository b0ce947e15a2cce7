//! version, verbosity, shutdown, cache_memlimit, mn, quit and stats.

use super::*;
use crate::stats::{StoreStats, Totals};

#[test]
fn connection_requests() {
    let mut shard = Shard::new();
    assert_eq!(shard.text("version"), "VERSION 1.6.45\r\n");
    assert_eq!(shard.text("verbosity 1"), "OK\r\n");
    assert_eq!(shard.text("verbosity 1 noreply"), "");
    assert_eq!(shard.text("shutdown"), "ERROR: shutdown not enabled\r\n");
    assert_eq!(
        shard.text("cache_memlimit 7"),
        "MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m\r\n"
    );
    assert_eq!(shard.text("cache_memlimit 100"), "OK\r\n");
    assert_eq!(
        shard.text("cache_memlimit 2000000000"),
        "MEMLIMIT_ADJUST_FAILED input value is megabytes not bytes\r\n"
    );
    assert_eq!(shard.text("cache_memlimit 100 noreply"), "");
    assert_eq!(shard.text("mn"), "MN\r\n");
    assert_eq!(shard.text("quit"), "");
}

#[test]
fn connection_actions() {
    let mut out = Vec::new();
    assert_eq!(
        answer_connection(&request("quit"), &mut out),
        ConnectionAction::Quit
    );
    assert_eq!(
        answer_connection(&Request::Stats(StatsGroup::Settings), &mut out),
        ConnectionAction::Stats(StatsGroup::Settings)
    );
    assert_eq!(
        answer_connection(&request("get a"), &mut out),
        ConnectionAction::NotConnection
    );
    assert!(out.is_empty());
    assert_eq!(
        answer_connection(&request("mn"), &mut out),
        ConnectionAction::Answered
    );
}

fn view(settings: &Settings) -> StatsView<'_> {
    let mut totals = Totals::default();
    totals.shard.cmd_get = 7;
    totals.shard.get_hits = 5;
    totals.shard.curr_connections = 2;
    totals.shard.meta_cmds = 3;
    totals.store = StoreStats {
        curr_items: 4,
        bytes: 300,
        total_items: 9,
        reclaimed: 1,
        ..StoreStats::default()
    };
    StatsView {
        pid: 4242,
        started: T0,
        now: Now(T0.0 + 5_500),
        threads: 2,
        rusage_user_micros: 1_234_567,
        rusage_system_micros: 6_090,
        settings,
        totals,
        max_connections: 1024,
        watchdog_wakes: 3,
        watchdog_kicks: 1,
        maxmemory: settings.maxmemory,
        eviction_policy: settings.maxmemory_policy,
    }
}

fn stats_text(group: StatsGroup<'_>) -> String {
    let settings = settings();
    let mut out = Vec::new();
    write_stats(group, &view(&settings), &mut out);
    String::from_utf8(out).expect("text")
}

#[test]
fn general_stats_in_memcached_order() {
    let text = stats_text(StatsGroup::General);
    let names: Vec<&str> = text
        .lines()
        .filter_map(|line| line.strip_prefix("STAT "))
        .filter_map(|line| line.split(' ').next())
        .collect();
    let expected = [
        "pid",
        "uptime",
        "time",
        "version",
        "corecache_version",
        "corecache_watchdog_wakes",
        "corecache_watchdog_kicks",
        "pointer_size",
        "rusage_user",
        "rusage_system",
        "max_connections",
        "curr_connections",
        "total_connections",
        "rejected_connections",
        "connection_structures",
        "cmd_get",
        "cmd_set",
        "cmd_flush",
        "cmd_touch",
        "cmd_meta",
        "get_hits",
        "get_misses",
        "get_expired",
        "get_flushed",
        "delete_misses",
        "delete_hits",
        "incr_misses",
        "incr_hits",
        "decr_misses",
        "decr_hits",
        "cas_misses",
        "cas_hits",
        "cas_badval",
        "touch_hits",
        "touch_misses",
        "store_too_large",
        "store_no_memory",
        "bytes_read",
        "bytes_written",
        "limit_maxbytes",
        "accepting_conns",
        "threads",
        "bytes",
        "curr_items",
        "total_items",
        "expired_unfetched",
        "evicted_unfetched",
        "evictions",
        "reclaimed",
    ];
    assert_eq!(names, expected);
    assert!(text.starts_with("STAT pid 4242\r\nSTAT uptime 5\r\nSTAT time 1700000005\r\n"));
    assert!(text.contains("STAT version 1.6.45\r\n"));
    assert!(text.contains(&format!("STAT corecache_version {}\r\n", crate::VERSION)));
    assert!(text.contains("STAT corecache_watchdog_wakes 3\r\n"));
    assert!(text.contains("STAT pointer_size 64\r\n"));
    assert!(text.contains("STAT rusage_user 1.234567\r\nSTAT rusage_system 0.006090\r\n"));
    assert!(text.contains("STAT max_connections 1024\r\nSTAT curr_connections 2\r\n"));
    assert!(text.contains("STAT cmd_get 7\r\n"));
    assert!(text.contains("STAT cmd_meta 3\r\nSTAT get_hits 5\r\n"));
    assert!(text.contains(&format!("STAT limit_maxbytes {}\r\n", 64 << 20)));
    assert!(text.contains("STAT threads 2\r\nSTAT bytes 300\r\nSTAT curr_items 4\r\n"));
    assert!(text.ends_with("STAT reclaimed 1\r\nEND\r\n"));
}

#[test]
fn settings_stats() {
    let text = stats_text(StatsGroup::Settings);
    assert!(text.starts_with(&format!(
        "STAT maxbytes {}\r\nSTAT maxconns 1024\r\nSTAT tcpport 11211\r\nSTAT udpport 0\r\n",
        64 << 20
    )));
    for line in [
        "STAT inter 127.0.0.1\r\n",
        "STAT evictions on\r\n",
        "STAT corecache_eviction_policy allkeys-s3fifo\r\n",
        "STAT num_threads 2\r\n",
        "STAT cas_enabled yes\r\n",
        "STAT item_size_max 1048576\r\n",
        "STAT lru_crawler no\r\n",
    ] {
        assert!(text.contains(line), "{line}");
    }
    assert!(text.ends_with("END\r\n"));
}

#[test]
fn other_stats_groups() {
    assert_eq!(stats_text(StatsGroup::Reset), "RESET\r\n");
    assert_eq!(stats_text(StatsGroup::Other(b"items")), "END\r\n");
    assert_eq!(stats_text(StatsGroup::Other(b"slabs")), "END\r\n");
    assert_eq!(stats_text(StatsGroup::Other(b"conns")), "END\r\n");
    assert_eq!(
        stats_text(StatsGroup::Other(b"sizes")),
        "STAT sizes_status disabled\r\nEND\r\n"
    );
    assert_eq!(stats_text(StatsGroup::Other(b"detail on")), "OK\r\n");
    assert_eq!(stats_text(StatsGroup::Other(b"detail dump")), "END\r\n");
    assert_eq!(
        stats_text(StatsGroup::Other(b"detail")),
        "CLIENT_ERROR usage: stats detail on|off|dump\r\n"
    );
    assert_eq!(
        stats_text(StatsGroup::Other(b"cachedump 1")),
        "CLIENT_ERROR bad command line\r\n"
    );
    assert_eq!(stats_text(StatsGroup::Other(b"cachedump 1 2")), "END\r\n");
    assert_eq!(
        stats_text(StatsGroup::Other(b"cachedump 300 0")),
        "CLIENT_ERROR Illegal slab id\r\n"
    );
    assert_eq!(
        stats_text(StatsGroup::Other(b"cachedump x y")),
        "CLIENT_ERROR bad command line format\r\n"
    );
    assert_eq!(stats_text(StatsGroup::Other(b"foo")), "ERROR\r\n");
    assert_eq!(stats_text(StatsGroup::Other(b"proxy")), "ERROR\r\n");
}
