//! INFO commandstats, errorstats and the command/error totals over real
//! TCP on three shards: calls are counted wherever their connection is,
//! failures wherever the command ran, and every shard's counts add up.
//! Layouts checked against redis-server 7.0.15.

mod common;

use std::collections::HashMap;

use common::{key_on_shard, Server};

/// `INFO <section>`'s `name:value` lines.
fn info(redis: &mut redis::Connection, section: &str) -> HashMap<String, String> {
    let text: String = redis::cmd("INFO").arg(section).query(redis).unwrap();
    text.lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A `cmdstat_…` value's `calls`, `rejected_calls` and `failed_calls`.
fn counts(value: &str) -> (u64, u64, u64) {
    let field = |name: &str| -> u64 {
        value
            .split(',')
            .find_map(|f| f.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("{name} missing in {value}"))
            .parse()
            .unwrap()
    };
    (
        field("calls"),
        field("rejected_calls"),
        field("failed_calls"),
    )
}

#[test]
fn commands_and_errors_are_counted_on_every_shard() {
    let server = Server::start_resp(3);
    let mut redis = server.redis(2);
    // Keys on each shard, so that remote executions are counted too.
    for shard in 0..3 {
        let key = key_on_shard("k", shard, 3);
        let _: () = redis::cmd("SET")
            .arg(&key)
            .arg("abc")
            .query(&mut redis)
            .unwrap();
        let _: String = redis::cmd("GET").arg(&key).query(&mut redis).unwrap();
        // INCR of a non-number fails where the key lives.
        let err = redis::cmd("INCR")
            .arg(&key)
            .query::<i64>(&mut redis)
            .unwrap_err();
        assert_eq!(err.code(), Some("ERR"));
    }
    // Wrong arity: rejected, not run.
    let mut raw = server.connect_resp();
    raw.expect(
        b"GET\r\n",
        b"-ERR wrong number of arguments for 'get' command\r\n",
    );
    raw.expect(
        b"NOSUCH\r\n",
        b"-ERR unknown command 'NOSUCH', with args beginning with: \r\n",
    );
    raw.expect(b"CONFIG GET nosuchparam\r\n", b"*0\r\n");

    let stats = info(&mut redis, "commandstats");
    assert_eq!(counts(&stats["cmdstat_set"]), (3, 0, 0));
    assert_eq!(counts(&stats["cmdstat_get"]), (3, 1, 0));
    assert_eq!(counts(&stats["cmdstat_incr"]), (3, 0, 3));
    assert_eq!(counts(&stats["cmdstat_config|get"]), (1, 0, 0));
    assert!(!stats.contains_key("cmdstat_nosuch"));
    let errors = info(&mut redis, "errorstats");
    // Three INCRs, one arity error, one unknown command.
    assert_eq!(errors["errorstat_ERR"], "count=5");
    let totals = info(&mut redis, "stats");
    assert_eq!(totals["total_error_replies"], "5");
    // 3 SET + 3 GET + 3 INCR + CONFIG GET, the client's two CLIENT
    // SETINFO on connect, and the two INFOs before this one.
    assert_eq!(counts(&stats["cmdstat_client|setinfo"]), (2, 0, 0));
    let processed: u64 = totals["total_commands_processed"].parse().unwrap();
    assert_eq!(processed, 3 + 3 + 3 + 1 + 2 + 2);

    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query(&mut redis)
        .unwrap();
    let stats = info(&mut redis, "commandstats");
    assert!(!stats.contains_key("cmdstat_get"), "{stats:?}");
    assert!(stats.contains_key("cmdstat_config|resetstat"), "{stats:?}");
    assert!(!info(&mut redis, "errorstats").contains_key("errorstat_ERR"));
}

#[test]
fn reads_count_as_keyspace_hits_and_misses_on_every_shard() {
    let server = Server::start_resp(3);
    let mut redis = server.redis(2);
    let keys: Vec<String> = (0..3).map(|shard| key_on_shard("h", shard, 3)).collect();
    for key in &keys {
        let _: () = redis::cmd("SET")
            .arg(key)
            .arg("v")
            .query(&mut redis)
            .unwrap();
    }
    // Writes are no reads: nothing counted yet.
    let stats = info(&mut redis, "stats");
    assert_eq!(
        (
            stats["keyspace_hits"].as_str(),
            stats["keyspace_misses"].as_str()
        ),
        ("0", "0")
    );
    for key in &keys {
        let _: String = redis::cmd("GET").arg(key).query(&mut redis).unwrap();
        let _: Option<String> = redis::cmd("GET")
            .arg(format!("{key}:missing"))
            .query(&mut redis)
            .unwrap();
    }
    // MGET across shards reads each key; EXISTS too; DEL does not.
    let _: Vec<Option<String>> = redis::cmd("MGET")
        .arg(&keys)
        .arg("nope")
        .query(&mut redis)
        .unwrap();
    let _: i64 = redis::cmd("EXISTS")
        .arg(&keys[0])
        .arg("nope")
        .query(&mut redis)
        .unwrap();
    let _: i64 = redis::cmd("DEL").arg("nope").query(&mut redis).unwrap();
    let stats = info(&mut redis, "stats");
    assert_eq!(stats["keyspace_hits"], (3 + 3 + 1).to_string());
    assert_eq!(stats["keyspace_misses"], (3 + 1 + 1).to_string());
}
