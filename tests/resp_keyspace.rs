//! SCAN, KEYS and RANDOMKEY over real TCP, on one and three shards: a
//! scan's cursor walks every shard and returns every key that exists
//! throughout, and RANDOMKEY finds the keys of every shard.

mod common;

use std::collections::HashSet;

use common::{key_on_shard, Server};
use redis::Commands;

#[test]
fn scan_and_keys_cover_every_shard() {
    for threads in [1, 3] {
        let server = Server::start_resp(threads);
        let mut redis = server.redis(2);
        for i in 0..500 {
            let _: () = redis.set(format!("user:{i}"), i).unwrap();
        }
        for i in 0..20 {
            let _: () = redis.set(format!("other:{i}"), i).unwrap();
        }
        // A full scan by hand, a few homes per call.
        let mut seen = HashSet::new();
        let mut cursor: u64 = 0;
        let mut calls = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg("user:*")
                .arg("COUNT")
                .arg(7)
                .query(&mut redis)
                .unwrap();
            seen.extend(keys);
            calls += 1;
            if next == 0 {
                break;
            }
            cursor = next;
        }
        assert!(
            calls > 1,
            "a scan of 520 keys with COUNT 7 takes several calls"
        );
        let expected: HashSet<String> = (0..500).map(|i| format!("user:{i}")).collect();
        assert_eq!(seen, expected, "{threads} shard(s)");
        // The client crate's iterator agrees.
        let iterated: HashSet<String> = redis
            .scan_match::<_, String>("other:*")
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(iterated.len(), 20);
        let mut keys: Vec<String> = redis.keys("other:1*").unwrap();
        keys.sort();
        let mut expected: Vec<String> = (0..20)
            .map(|i| format!("other:{i}"))
            .filter(|key| key.starts_with("other:1"))
            .collect();
        expected.sort();
        assert_eq!(keys, expected);
        let all: Vec<String> = redis.keys("*").unwrap();
        assert_eq!(all.len(), 520);
        // TYPE: every key is a string.
        let (_, hashes): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(0)
            .arg("TYPE")
            .arg("hash")
            .arg("COUNT")
            .arg(10_000)
            .query(&mut redis)
            .unwrap();
        assert!(hashes.is_empty());
    }
}

#[test]
fn scan_errors_are_worded_as_redis() {
    let server = Server::start_resp(3);
    let mut conn = server.connect_resp();
    conn.expect(b"SCAN abc\r\n", b"-ERR invalid cursor\r\n");
    conn.expect(b"SCAN 0 COUNT 0\r\n", b"-ERR syntax error\r\n");
    conn.expect(
        b"SCAN 0 COUNT x\r\n",
        b"-ERR value is not an integer or out of range\r\n",
    );
    conn.expect(b"SCAN 0 BOGUS 1\r\n", b"-ERR syntax error\r\n");
    conn.expect(b"SCAN 0 MATCH\r\n", b"-ERR syntax error\r\n");
    conn.expect(b"KEYS nothing*\r\n", b"*0\r\n");
}

#[test]
fn randomkey_returns_keys_of_every_shard() {
    let server = Server::start_resp(3);
    let mut redis = server.redis(2);
    let nothing: Option<String> = redis::cmd("RANDOMKEY").query(&mut redis).unwrap();
    assert_eq!(nothing, None, "an empty database has no random key");
    let keys: Vec<String> = (0..3).map(|shard| key_on_shard("r", shard, 3)).collect();
    for key in &keys {
        let _: () = redis.set(key, "v").unwrap();
    }
    let mut seen = HashSet::new();
    for _ in 0..300 {
        let key: String = redis::cmd("RANDOMKEY").query(&mut redis).unwrap();
        assert!(keys.contains(&key), "{key} was never set");
        seen.insert(key);
    }
    // Each shard holds a third of the keys: all three come up.
    assert_eq!(seen.len(), 3, "{seen:?}");
    let mut raw = server.connect_resp();
    raw.expect(b"SELECT 5\r\n", b"+OK\r\n");
    raw.expect(b"RANDOMKEY\r\n", b"$-1\r\n");
    raw.expect(
        b"RANDOMKEY x\r\n",
        b"-ERR wrong number of arguments for 'randomkey' command\r\n",
    );
}
