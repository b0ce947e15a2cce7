//! The set commands over real TCP, on one and three shards: the `redis`
//! crate on RESP2 and RESP3 for the commands, raw bytes for exact replies
//! and errors. Multi-key commands use keys of one `{hash tag}`; keys on
//! several shards are read together, as in Redis. Expected replies
//! are Redis 7.0.15's (checked against `redis-server`).

mod common;

use std::collections::HashSet;

use common::{key_on_shard, Server};
use redis::Commands;

fn on_each_topology(check: impl Fn(&mut redis::Connection, &str)) {
    for threads in [1, 4] {
        let server = Server::start_resp(threads);
        for protocol in [2, 3] {
            let mut redis = server.redis(protocol);
            check(&mut redis, &format!("{{t{threads}r{protocol}}}"));
        }
    }
}

fn sorted(mut members: Vec<String>) -> Vec<String> {
    members.sort();
    members
}

#[test]
fn set_commands_through_the_redis_crate() {
    on_each_topology(|redis, tag| {
        let (s, t, d) = (format!("{tag}s"), format!("{tag}t"), format!("{tag}d"));
        let added: i64 = redis.sadd(&s, &["3", "1", "2", "2"]).unwrap();
        assert_eq!(added, 3);
        let members: Vec<String> = redis.smembers(&s).unwrap();
        // An intset is sorted.
        assert_eq!(members, ["1", "2", "3"]);
        let added: i64 = redis.sadd(&s, "a").unwrap();
        assert_eq!(added, 1);
        let card: usize = redis.scard(&s).unwrap();
        assert_eq!(card, 4);
        let is: bool = redis.sismember(&s, "a").unwrap();
        assert!(is);
        let flags: Vec<bool> = redis.smismember(&s, &["a", "zz", "1"]).unwrap();
        assert_eq!(flags, [true, false, true]);
        let _: i64 = redis.sadd(&t, &["3", "a", "x"]).unwrap();
        let inter: Vec<String> = redis.sinter(&[&s, &t]).unwrap();
        assert_eq!(sorted(inter), ["3", "a"]);
        let union: Vec<String> = redis.sunion(&[&s, &t]).unwrap();
        assert_eq!(sorted(union), ["1", "2", "3", "a", "x"]);
        let diff: Vec<String> = redis.sdiff(&[&s, &t]).unwrap();
        assert_eq!(sorted(diff), ["1", "2"]);
        let stored: i64 = redis.sinterstore(&d, &[&s, &t]).unwrap();
        assert_eq!(stored, 2);
        let stored: i64 = redis.sunionstore(&d, &[&s, &t]).unwrap();
        assert_eq!(stored, 5);
        let stored: i64 = redis.sdiffstore(&d, &[&s, &t]).unwrap();
        assert_eq!(stored, 2);
        let members: Vec<String> = redis.smembers(&d).unwrap();
        assert_eq!(sorted(members), ["1", "2"]);
        let count: i64 = redis::cmd("SINTERCARD")
            .arg(2)
            .arg(&s)
            .arg(&t)
            .query(redis)
            .unwrap();
        assert_eq!(count, 2);
        let count: i64 = redis::cmd("SINTERCARD")
            .arg(2)
            .arg(&s)
            .arg(&t)
            .arg("LIMIT")
            .arg(1)
            .query(redis)
            .unwrap();
        assert_eq!(count, 1);
        let moved: bool = redis.smove(&s, &t, "1").unwrap();
        assert!(moved);
        let moved: bool = redis.smove(&s, &t, "1").unwrap();
        assert!(!moved);
        let is: bool = redis.sismember(&t, "1").unwrap();
        assert!(is);
        let removed: i64 = redis.srem(&s, &["a", "zz"]).unwrap();
        assert_eq!(removed, 1);
        let left: Vec<String> = redis.smembers(&s).unwrap();
        assert_eq!(sorted(left), ["2", "3"]);
        // Popping the last members removes the key.
        let popped: Vec<String> = redis.spop(&s).map(|m: String| vec![m]).unwrap();
        assert_eq!(popped.len(), 1);
        let popped: Option<String> = redis.spop(&s).unwrap();
        assert!(popped.is_some());
        let exists: bool = redis.exists(&s).unwrap();
        assert!(!exists);
        let popped: Option<String> = redis.spop(&s).unwrap();
        assert_eq!(popped, None);
        // An empty result of a STORE form deletes the destination.
        let stored: i64 = redis.sinterstore(&d, &[&s, &t]).unwrap();
        assert_eq!(stored, 0);
        let exists: bool = redis.exists(&d).unwrap();
        assert!(!exists);
        let random: Vec<String> = redis.srandmember_multiple(&t, 2).unwrap();
        assert_eq!(random.iter().collect::<HashSet<_>>().len(), 2);
        let random: Vec<String> = redis.srandmember_multiple(&t, -10).unwrap();
        assert_eq!(random.len(), 10);
        let all: Vec<String> = redis::cmd("SPOP").arg(&t).arg(100).query(redis).unwrap();
        assert_eq!(sorted(all), ["1", "3", "a", "x"]);
        let exists: bool = redis.exists(&t).unwrap();
        assert!(!exists);
    });
}

#[test]
fn set_replies_and_errors_are_redis_words() {
    let server = Server::start_resp(1);
    let mut conn = server.connect_resp();
    let wrongtype: &[u8] =
        b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
    conn.expect(b"SET str x\r\n", b"+OK\r\n");
    conn.expect(b"SADD s 3 1 2\r\n", b":3\r\n");
    let script: &[(&[u8], &[u8])] = &[
        (b"OBJECT ENCODING s\r\n", b"$6\r\nintset\r\n"),
        (b"TYPE s\r\n", b"+set\r\n"),
        (
            b"SMEMBERS s\r\n",
            b"*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n",
        ),
        (
            b"SSCAN s 0\r\n",
            b"*2\r\n$1\r\n0\r\n*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n",
        ),
        (
            b"SSCAN s 0 MATCH 2\r\n",
            b"*2\r\n$1\r\n0\r\n*1\r\n$1\r\n2\r\n",
        ),
        (b"SMEMBERS nokey\r\n", b"*0\r\n"),
        (b"SPOP nokey\r\n", b"$-1\r\n"),
        (b"SPOP nokey 2\r\n", b"*0\r\n"),
        (b"SPOP s 0\r\n", b"*0\r\n"),
        (b"SRANDMEMBER nokey\r\n", b"$-1\r\n"),
        (b"SRANDMEMBER nokey 2\r\n", b"*0\r\n"),
        (b"SINTERCARD 1 nokey\r\n", b":0\r\n"),
        (b"SMOVE nokey s 1\r\n", b":0\r\n"),
        (b"SMOVE nokey str 1\r\n", b":0\r\n"),
        (b"SINTERSTORE d s nokey\r\n", b":0\r\n"),
        (b"SMISMEMBER s 1 9\r\n", b"*2\r\n:1\r\n:0\r\n"),
        (b"SADD str a\r\n", wrongtype),
        (b"SMEMBERS str\r\n", wrongtype),
        (b"SINTER s str\r\n", wrongtype),
        (b"SINTERCARD 2 nokey str\r\n", wrongtype),
        (b"SMOVE s str 1\r\n", wrongtype),
        (b"SMOVE str s 1\r\n", wrongtype),
        (b"GET s\r\n", wrongtype),
        (b"HSET s a 1\r\n", wrongtype),
        (
            b"SPOP s -1\r\n",
            b"-ERR value is out of range, must be positive\r\n",
        ),
        (
            b"SPOP s x\r\n",
            b"-ERR value is out of range, must be positive\r\n",
        ),
        (b"SPOP s 1 2\r\n", b"-ERR syntax error\r\n"),
        (
            b"SRANDMEMBER s x\r\n",
            b"-ERR value is not an integer or out of range\r\n",
        ),
        (
            b"SINTERCARD 0 s\r\n",
            b"-ERR numkeys should be greater than 0\r\n",
        ),
        (
            b"SINTERCARD x s\r\n",
            b"-ERR numkeys should be greater than 0\r\n",
        ),
        (
            b"SINTERCARD 3 s t\r\n",
            b"-ERR Number of keys can't be greater than number of args\r\n",
        ),
        (
            b"SINTERCARD 1 s LIMIT -1\r\n",
            b"-ERR LIMIT can't be negative\r\n",
        ),
        (b"SINTERCARD 1 s FOO 1\r\n", b"-ERR syntax error\r\n"),
        (b"SSCAN s x\r\n", b"-ERR invalid cursor\r\n"),
        (b"SSCAN s 0 TYPE set\r\n", b"-ERR syntax error\r\n"),
        (
            b"SADD s\r\n",
            b"-ERR wrong number of arguments for 'sadd' command\r\n",
        ),
        // A STORE form overwrites a key of any type.
        (b"SUNIONSTORE str s\r\n", b":3\r\n"),
        (b"TYPE str\r\n", b"+set\r\n"),
        (b"SADD s a\r\n", b":1\r\n"),
        (b"OBJECT ENCODING s\r\n", b"$9\r\nhashtable\r\n"),
        (b"CONFIG SET set-max-intset-entries 2\r\n", b"+OK\r\n"),
        (b"SADD i 1 2\r\n", b":2\r\n"),
        (b"OBJECT ENCODING i\r\n", b"$6\r\nintset\r\n"),
        (b"SADD i 3\r\n", b":1\r\n"),
        (b"OBJECT ENCODING i\r\n", b"$9\r\nhashtable\r\n"),
        // Not canonical decimal: not an integer member.
        (b"SADD z 05\r\n", b":1\r\n"),
        (b"OBJECT ENCODING z\r\n", b"$9\r\nhashtable\r\n"),
    ];
    for (request, reply) in script {
        conn.expect(request, reply);
    }
    conn.expect(b"HELLO 3\r\n", b"%");
    conn.read_until(b"modules\r\n*0\r\n");
    conn.expect(b"SMEMBERS nokey\r\n", b"~0\r\n");
    conn.expect(b"SPOP nokey 2\r\n", b"~0\r\n");
    conn.expect(b"SINTER nokey\r\n", b"~0\r\n");
    conn.expect(b"SPOP nokey\r\n", b"_\r\n");
    conn.expect(b"SMEMBERS i\r\n", b"~3\r\n");
}

#[test]
fn multi_key_set_commands_read_keys_on_several_shards() {
    let shards = 3;
    let server = Server::start_resp(shards);
    let mut conn = server.connect_resp();
    let a = key_on_shard("a", 0, shards);
    let b = key_on_shard("b", 1, shards);
    for (request, reply) in [
        (format!("SADD {a} m n\r\n"), ":2\r\n"),
        (format!("SADD {b} n o\r\n"), ":2\r\n"),
        (format!("SINTER {a} {b}\r\n"), "*1\r\n$1\r\nn\r\n"),
        (format!("SINTERCARD 2 {a} {b}\r\n"), ":1\r\n"),
        (format!("SUNIONSTORE {a} {b}\r\n"), ":2\r\n"),
        (format!("SMOVE {a} {b} m\r\n"), ":0\r\n"),
        (format!("SMOVE {a} {b} o\r\n"), ":1\r\n"),
        (format!("SCARD {a}\r\n"), ":1\r\n"),
        (format!("SCARD {b}\r\n"), ":2\r\n"),
    ] {
        conn.expect(request.as_bytes(), reply.as_bytes());
    }
}

#[test]
fn sscan_returns_every_member_present_for_the_whole_scan() {
    on_each_topology(|redis, tag| {
        let key = format!("{tag}big");
        let members: Vec<String> = (0..1000).map(|i| format!("m{i}")).collect();
        let _: i64 = redis.sadd(&key, &members).unwrap();
        let mut seen = HashSet::new();
        let mut cursor = 0u64;
        let mut round = 0;
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SSCAN")
                .arg(&key)
                .arg(cursor)
                .arg("COUNT")
                .arg(50)
                .query(redis)
                .unwrap();
            seen.extend(batch);
            round += 1;
            let _: i64 = redis.srem(&key, format!("m{}", 900 + round)).unwrap();
            let _: i64 = redis.sadd(&key, format!("new{round}")).unwrap();
            if next == 0 {
                break;
            }
            cursor = next;
        }
        for i in 0..900 {
            assert!(seen.contains(&format!("m{i}")), "m{i} missed");
        }
    });
}

#[test]
fn sets_move_between_shards() {
    let shards = 3;
    let server = Server::start_resp(shards);
    let mut redis = server.redis(3);
    let source = key_on_shard("src", 0, shards);
    let destination = key_on_shard("dst", 2, shards);
    let _: i64 = redis.sadd(&source, &["1", "2", "x"]).unwrap();
    let _: () = redis.rename(&source, &destination).unwrap();
    let members: Vec<String> = redis.smembers(&destination).unwrap();
    assert_eq!(sorted(members), ["1", "2", "x"]);
    let encoding: String = redis::cmd("OBJECT")
        .arg("ENCODING")
        .arg(&destination)
        .query(&mut redis)
        .unwrap();
    assert_eq!(encoding, "hashtable");
}
