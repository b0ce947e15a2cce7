//! The memory limit over real TCP: every eviction policy fills past the
//! limit and evicts (volatile ones only keys with a TTL), noeviction
//! refuses writes on both ports in their own words, CONFIG SET changes
//! the limit and the policy live, and active expiry reclaims keys nobody
//! reads. Polls INFO and stats, with generous upper bounds; never asserts
//! on timing.

mod common;

use std::collections::HashMap;
use std::thread::sleep;
use std::time::{Duration, Instant};

use common::{key_on_shard, Options, Server};

/// Longest wait for something the server does by itself.
const PATIENCE: Duration = Duration::from_secs(60);

fn server(threads: usize, args: &[&str]) -> Server {
    Server::with(Options {
        threads,
        resp: true,
        args: args.iter().map(|arg| arg.to_string()).collect(),
        ..Options::default()
    })
}

/// `INFO`'s fields.
fn info(redis: &mut redis::Connection) -> HashMap<String, String> {
    let text: String = redis::cmd("INFO").query(redis).unwrap();
    text.lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.to_string(), value.trim().to_string()))
        .collect()
}

fn info_u64(redis: &mut redis::Connection, name: &str) -> u64 {
    info(redis)[name].parse().unwrap()
}

/// memcached `stats`' fields.
fn stats(server: &Server) -> HashMap<String, String> {
    let mut conn = server.connect();
    conn.send(b"stats\r\n");
    let text = String::from_utf8(conn.read_until(b"END\r\n")).unwrap();
    text.lines()
        .filter_map(|line| line.strip_prefix("STAT "))
        .filter_map(|line| line.split_once(' '))
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

/// Writes `count` keys of `size` bytes in pipelines; every `ttl_every`-th
/// key (if any) gets a one-hour TTL. Returns the replies that were errors.
fn fill(
    redis: &mut redis::Connection,
    prefix: &str,
    count: usize,
    size: usize,
    ttl_every: Option<usize>,
) -> Vec<String> {
    let value = vec![b'x'; size];
    let mut errors = Vec::new();
    for chunk in (0..count).collect::<Vec<_>>().chunks(200) {
        let mut pipe = redis::pipe();
        for &i in chunk {
            let key = format!("{prefix}{i}");
            let cmd = pipe.cmd("SET").arg(&key).arg(&value[..]);
            if ttl_every.is_some_and(|every| i % every == 0) {
                cmd.arg("EX").arg(3600);
            }
        }
        pipe.ignore_errors();
        let values: Vec<redis::Value> = pipe.query(redis).unwrap();
        errors.extend(values.into_iter().filter_map(|value| match value {
            redis::Value::ServerError(error) => Some(format!(
                "{} {}",
                error.code(),
                error.details().unwrap_or_default()
            )),
            _ => None,
        }));
    }
    errors
}

#[test]
fn every_policy_evicts_past_the_limit_and_holds_it() {
    let limit: u64 = 4 << 20;
    for policy in [
        "allkeys-s3fifo",
        "allkeys-lru",
        "allkeys-lfu",
        "allkeys-random",
        "volatile-lru",
        "volatile-lfu",
        "volatile-random",
        "volatile-ttl",
    ] {
        let server = server(2, &["--maxmemory", "4m", "--maxmemory-policy", policy]);
        let mut redis = server.redis(2);
        let volatile = policy.starts_with("volatile");
        // 16 MiB of values, four times the limit; volatile policies get
        // one persistent key in ten, which they must never evict.
        let persistent: Vec<usize> = (0..16_000).filter(|i| i % 10 == 5).collect();
        let errors = if volatile {
            let mut errors = Vec::new();
            for &i in &persistent {
                let _: () = redis::cmd("SET")
                    .arg(format!("keep{i}"))
                    .arg(vec![b'p'; 100])
                    .query(&mut redis)
                    .unwrap();
            }
            errors.extend(fill(&mut redis, "k", 16_000, 1024, Some(1)));
            errors
        } else {
            fill(&mut redis, "k", 16_000, 1024, None)
        };
        assert!(errors.is_empty(), "{policy}: {errors:?}");
        let fields = info(&mut redis);
        let evicted: u64 = fields["evicted_keys"].parse().unwrap();
        let used: u64 = fields["used_memory"].parse().unwrap();
        assert!(evicted > 10_000, "{policy}: evicted {evicted}");
        assert!(used <= limit, "{policy}: used {used}");
        assert_eq!(fields["maxmemory_policy"], policy);
        assert_eq!(fields["maxmemory"], limit.to_string());
        let dbsize: u64 = redis::cmd("DBSIZE").query(&mut redis).unwrap();
        assert!(dbsize < 6000, "{policy}: {dbsize} keys");
        if volatile {
            let kept: Vec<bool> = persistent
                .iter()
                .map(|i| {
                    redis::cmd("EXISTS")
                        .arg(format!("keep{i}"))
                        .query::<i64>(&mut redis)
                        .unwrap()
                        == 1
                })
                .collect();
            assert!(
                kept.iter().all(|&kept| kept),
                "{policy} evicted a persistent key"
            );
        }
        // memcached's view of the same figures (the shards may evict a
        // little more meanwhile: the limit they apply follows the RSS).
        let stats = stats(&server);
        assert_eq!(stats["limit_maxbytes"], limit.to_string());
        let evictions: u64 = stats["evictions"].parse().unwrap();
        assert!(evictions >= evicted, "{policy}: {evictions} < {evicted}");
    }
}

#[test]
fn noeviction_refuses_writes_on_both_ports() {
    let server = server(
        2,
        &["--maxmemory", "2m", "--maxmemory-policy", "noeviction"],
    );
    let mut redis = server.redis(2);
    // Two sets on different shards, for a write that reads both.
    let (a, b) = (key_on_shard("set-a", 0, 2), key_on_shard("set-b", 1, 2));
    let _: i64 = redis::cmd("SADD")
        .arg(&a)
        .arg("x")
        .query(&mut redis)
        .unwrap();
    let _: i64 = redis::cmd("SADD")
        .arg(&b)
        .arg("y")
        .query(&mut redis)
        .unwrap();
    let errors = fill(&mut redis, "k", 4000, 1024, None);
    assert!(!errors.is_empty());
    assert!(
        errors.iter().all(|error| error.contains("OOM")
            && error.contains("command not allowed when used memory > 'maxmemory'")),
        "{errors:?}"
    );
    let mut conn = server.connect_resp();
    conn.expect(
        b"SET more x\r\n",
        b"-OOM command not allowed when used memory > 'maxmemory'.\r\n",
    );
    // Across shards too: the write is refused, the read is not.
    conn.expect(
        format!("SUNIONSTORE dest {a} {b}\r\n").as_bytes(),
        b"-OOM command not allowed when used memory > 'maxmemory'.\r\n",
    );
    conn.expect(format!("SINTERCARD 2 {a} {b}\r\n").as_bytes(), b":0\r\n");
    // Reads and deletes still work.
    conn.send(b"GET k0\r\n");
    assert!(conn.read_until(b"\r\n").starts_with(b"$1024"));
    conn.read_until(b"\r\n");
    let mut memcache = server.connect();
    let mut refused = false;
    for i in 0..100 {
        memcache.send(format!("set mc{i} 0 0 1000\r\n{}\r\n", "y".repeat(1000)).as_bytes());
        let line = memcache.line();
        if line == "SERVER_ERROR out of memory storing object\r\n" {
            refused = true;
            break;
        }
        assert_eq!(line, "STORED\r\n");
    }
    assert!(refused, "memcached port never refused");
    memcache.expect(
        b"ma counter N0 J5\r\n",
        b"SERVER_ERROR out of memory storing object\r\n",
    );
    let stats = stats(&server);
    assert_eq!(stats["evictions"], "0");
    assert_ne!(stats["store_no_memory"], "0");
    assert_eq!(info_u64(&mut redis, "evicted_keys"), 0);
}

#[test]
fn the_memcached_port_evicts_with_the_default_policy() {
    let server = server(1, &["-m", "2"]);
    let mut conn = server.connect();
    let value = "z".repeat(1000);
    for i in 0..6000 {
        conn.send(format!("set key{i} 0 0 1000 noreply\r\n{value}\r\n").as_bytes());
    }
    conn.expect(b"mn\r\n", b"MN\r\n");
    let stats = stats(&server);
    assert_eq!(stats["limit_maxbytes"], (2 << 20).to_string());
    let evictions: u64 = stats["evictions"].parse().unwrap();
    assert!(evictions > 3000, "{evictions}");
    assert_eq!(stats["evicted_unfetched"], stats["evictions"]);
    let mut redis = server.redis(2);
    assert_eq!(info(&mut redis)["maxmemory_policy"], "allkeys-s3fifo");
    assert!(info_u64(&mut redis, "used_memory") <= 2 << 20);
}

#[test]
fn config_set_changes_the_limit_and_policy_live() {
    let server = server(2, &[]);
    let mut redis = server.redis(2);
    assert!(fill(&mut redis, "k", 5000, 1024, None).is_empty());
    assert_eq!(info_u64(&mut redis, "evicted_keys"), 0);
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory")
        .arg("1mb")
        .arg("maxmemory-policy")
        .arg("allkeys-lru")
        .query(&mut redis)
        .unwrap();
    // The shards evict down to the new limit by themselves.
    let started = Instant::now();
    while info_u64(&mut redis, "used_memory") > 1 << 20 {
        assert!(
            started.elapsed() < PATIENCE,
            "never got under the new limit"
        );
        sleep(Duration::from_millis(20));
    }
    assert!(info_u64(&mut redis, "evicted_keys") > 3000);
    let stats = stats(&server);
    assert_eq!(stats["limit_maxbytes"], (1 << 20).to_string());
    // Under LFU, OBJECT FREQ answers and IDLETIME is refused, as in Redis.
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory-policy")
        .arg("allkeys-lfu")
        .query(&mut redis)
        .unwrap();
    let _: () = redis::cmd("SET")
        .arg("f")
        .arg("v")
        .query(&mut redis)
        .unwrap();
    let mut conn = server.connect_resp();
    conn.expect(b"OBJECT FREQ f\r\n", b":3\r\n");
    conn.send(b"OBJECT IDLETIME f\r\n");
    assert!(conn
        .line()
        .starts_with("-ERR An LFU maxmemory policy is selected"));
    // Back to no limit: writes are free again.
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory")
        .arg("0")
        .query(&mut redis)
        .unwrap();
    let evicted = info_u64(&mut redis, "evicted_keys");
    assert!(fill(&mut redis, "more", 3000, 1024, None).is_empty());
    assert_eq!(info_u64(&mut redis, "evicted_keys"), evicted);
}

#[test]
fn active_expiry_reclaims_keys_nobody_reads() {
    let server = server(2, &[]);
    let mut redis = server.redis(2);
    let value = [b'e'; 200];
    for chunk in (0..10_000).collect::<Vec<_>>().chunks(500) {
        let mut pipe = redis::pipe();
        for i in chunk {
            pipe.cmd("SET")
                .arg(format!("short{i}"))
                .arg(&value[..])
                .arg("PX")
                .arg(200)
                .ignore();
        }
        let _: () = pipe.query(&mut redis).unwrap();
    }
    let _: () = redis::cmd("SET")
        .arg("stays")
        .arg("1")
        .query(&mut redis)
        .unwrap();
    let started = Instant::now();
    loop {
        let dbsize: u64 = redis::cmd("DBSIZE").query(&mut redis).unwrap();
        if dbsize == 1 {
            break;
        }
        assert!(started.elapsed() < PATIENCE, "{dbsize} keys left");
        sleep(Duration::from_millis(50));
    }
    let fields = info(&mut redis);
    assert_eq!(fields["expired_keys"], "10000");
    let after: u64 = fields["used_memory"].parse().unwrap();
    // Two index tables (which do not shrink) and one key are left of
    // about 2.6 MB of items.
    assert!(after < 512 << 10, "{after}");
    let stats = stats(&server);
    assert_eq!(stats["expired_unfetched"], "10000");
    assert_eq!(stats["reclaimed"], "10000");
}
