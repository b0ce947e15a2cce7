//! The hash commands over real TCP, on one and three shards: the `redis`
//! crate on RESP2 and RESP3 for the commands, raw bytes for exact replies
//! and errors, and hashes moving between shards (RENAME, COPY, MOVE).
//! Expected replies are Redis 7.0.15's (checked against `redis-server`).

mod common;

use std::collections::{HashMap, HashSet};

use common::{key_on_shard, Server};
use redis::{Commands, Value};

/// Runs `check` against a one-shard and a three-shard server, on RESP2
/// and RESP3, with a key prefix of its own for each run.
fn on_each_topology(check: impl Fn(&mut redis::Connection, &str, u8)) {
    for threads in [1, 4] {
        let server = Server::start_resp(threads);
        for protocol in [2, 3] {
            let mut redis = server.redis(protocol);
            check(&mut redis, &format!("t{threads}r{protocol}"), protocol);
        }
    }
}

#[test]
fn hash_commands_through_the_redis_crate() {
    on_each_topology(|redis, prefix, _| {
        let key = format!("{prefix}:h");
        let added: i64 = redis
            .hset_multiple(&key, &[("a", "1"), ("b", "2")])
            .map(|()| 2)
            .unwrap();
        assert_eq!(added, 2);
        let added: i64 = redis.hset(&key, "c", "3").unwrap();
        assert_eq!(added, 1);
        let added: i64 = redis.hset(&key, "c", "three").unwrap();
        assert_eq!(added, 0);
        let set: bool = redis.hset_nx(&key, "c", "x").unwrap();
        assert!(!set);
        let set: bool = redis.hset_nx(&key, "d", "4").unwrap();
        assert!(set);
        let value: String = redis.hget(&key, "c").unwrap();
        assert_eq!(value, "three");
        let missing: Option<String> = redis.hget(&key, "zz").unwrap();
        assert_eq!(missing, None);
        let values: Vec<Option<String>> = redis::cmd("HMGET")
            .arg(&key)
            .arg(&["a", "zz", "d"])
            .query(redis)
            .unwrap();
        assert_eq!(values, [Some("1".into()), None, Some("4".into())]);
        let all: HashMap<String, String> = redis.hgetall(&key).unwrap();
        let expected: HashMap<String, String> =
            [("a", "1"), ("b", "2"), ("c", "three"), ("d", "4")]
                .into_iter()
                .map(|(f, v)| (f.to_string(), v.to_string()))
                .collect();
        assert_eq!(all, expected);
        // A listpack keeps insertion order, as Redis's does.
        let keys: Vec<String> = redis.hkeys(&key).unwrap();
        assert_eq!(keys, ["a", "b", "c", "d"]);
        let vals: Vec<String> = redis.hvals(&key).unwrap();
        assert_eq!(vals, ["1", "2", "three", "4"]);
        let len: usize = redis.hlen(&key).unwrap();
        assert_eq!(len, 4);
        let exists: bool = redis.hexists(&key, "a").unwrap();
        assert!(exists);
        let strlen: usize = redis::cmd("HSTRLEN")
            .arg(&key)
            .arg("c")
            .query(redis)
            .unwrap();
        assert_eq!(strlen, 5);
        let n: i64 = redis.hincr(&key, "a", 41).unwrap();
        assert_eq!(n, 42);
        let n: i64 = redis.hincr(&key, "new", -5).unwrap();
        assert_eq!(n, -5);
        let f: String = redis::cmd("HINCRBYFLOAT")
            .arg(&key)
            .arg("f")
            .arg("10.5")
            .query(redis)
            .unwrap();
        assert_eq!(f, "10.5");
        let f: String = redis::cmd("HINCRBYFLOAT")
            .arg(&key)
            .arg("f")
            .arg("0.1")
            .query(redis)
            .unwrap();
        assert_eq!(f, "10.6");
        let removed: i64 = redis.hdel(&key, &["a", "b", "zz"]).unwrap();
        assert_eq!(removed, 2);
        let kind: String = redis::cmd("TYPE").arg(&key).query(redis).unwrap();
        assert_eq!(kind, "hash");
        // Emptying the hash removes its key.
        let removed: i64 = redis.hdel(&key, &["c", "d", "new", "f"]).unwrap();
        assert_eq!(removed, 4);
        let exists: bool = redis.exists(&key).unwrap();
        assert!(!exists);
        let kind: String = redis::cmd("TYPE").arg(&key).query(redis).unwrap();
        assert_eq!(kind, "none");
        let empty: HashMap<String, String> = redis.hgetall(&key).unwrap();
        assert!(empty.is_empty());
        let removed: i64 = redis.hdel(&key, "a").unwrap();
        assert_eq!(removed, 0);
    });
}

#[test]
fn hgetall_and_hrandfield_reply_shapes_follow_the_protocol() {
    let server = Server::start_resp(1);
    let mut conn = server.connect_resp();
    conn.expect(b"HSET h a 1\r\n", b":1\r\n");
    conn.expect(b"HGETALL h\r\n", b"*2\r\n$1\r\na\r\n$1\r\n1\r\n");
    conn.expect(
        b"HRANDFIELD h 1 WITHVALUES\r\n",
        b"*2\r\n$1\r\na\r\n$1\r\n1\r\n",
    );
    conn.expect(b"HRANDFIELD h -2\r\n", b"*2\r\n$1\r\na\r\n$1\r\na\r\n");
    conn.expect(b"HRANDFIELD h\r\n", b"$1\r\na\r\n");
    conn.expect(b"HRANDFIELD nokey\r\n", b"$-1\r\n");
    conn.expect(b"HRANDFIELD nokey 2\r\n", b"*0\r\n");
    conn.expect(b"HGETALL nokey\r\n", b"*0\r\n");
    conn.expect(
        b"HSCAN h 0\r\n",
        b"*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n",
    );
    conn.expect(b"HELLO 3\r\n", b"%");
    conn.read_until(b"modules\r\n*0\r\n");
    conn.expect(b"HGETALL h\r\n", b"%1\r\n$1\r\na\r\n$1\r\n1\r\n");
    conn.expect(b"HGETALL nokey\r\n", b"%0\r\n");
    conn.expect(
        b"HRANDFIELD h -2 WITHVALUES\r\n",
        b"*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n",
    );
    conn.expect(b"HGET h zz\r\n", b"_\r\n");
    conn.expect(b"HMGET h a zz\r\n", b"*2\r\n$1\r\n1\r\n_\r\n");
}

#[test]
fn hash_errors_are_redis_words() {
    let server = Server::start_resp(1);
    let mut conn = server.connect_resp();
    let wrongtype: &[u8] =
        b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
    conn.expect(b"SET s str\r\n", b"+OK\r\n");
    conn.expect(b"HSET h n 9223372036854775807 s x f 1.5\r\n", b":3\r\n");
    let script: &[(&[u8], &[u8])] = &[
        // Hash commands on a string.
        (b"HSET s a 1\r\n", wrongtype),
        (b"HGET s a\r\n", wrongtype),
        (b"HGETALL s\r\n", wrongtype),
        (b"HDEL s a\r\n", wrongtype),
        (b"HLEN s\r\n", wrongtype),
        (b"HSCAN s 0\r\n", wrongtype),
        (b"HRANDFIELD s\r\n", wrongtype),
        (b"HINCRBY s a 1\r\n", wrongtype),
        // String commands on a hash.
        (b"GET h\r\n", wrongtype),
        (b"GETSET h x\r\n", wrongtype),
        (b"GETDEL h\r\n", wrongtype),
        (b"APPEND h x\r\n", wrongtype),
        (b"INCR h\r\n", wrongtype),
        (b"INCRBYFLOAT h 1\r\n", wrongtype),
        (b"STRLEN h\r\n", wrongtype),
        (b"SETRANGE h 0 x\r\n", wrongtype),
        (b"GETRANGE h 0 1\r\n", wrongtype),
        (b"SETBIT h 0 1\r\n", wrongtype),
        (b"BITCOUNT h\r\n", wrongtype),
        (b"BITFIELD h GET u8 0\r\n", wrongtype),
        (b"BITOP AND dest h\r\n", wrongtype),
        (b"SET h x GET\r\n", wrongtype),
        (
            b"LCS h s\r\n",
            b"-ERR The specified keys must contain string values\r\n",
        ),
        // MGET answers null for a key of another type.
        (b"MGET h s\r\n", b"*2\r\n$-1\r\n$3\r\nstr\r\n"),
        // Arity, as Redis words it.
        (
            b"HSET h a\r\n",
            b"-ERR wrong number of arguments for 'hset' command\r\n",
        ),
        (
            b"HSET h a 1 b\r\n",
            b"-ERR wrong number of arguments for 'hset' command\r\n",
        ),
        (
            b"HMSET h a 1 b\r\n",
            b"-ERR wrong number of arguments for 'hmset' command\r\n",
        ),
        (
            b"HGET h\r\n",
            b"-ERR wrong number of arguments for 'hget' command\r\n",
        ),
        // HINCRBY and HINCRBYFLOAT.
        (
            b"HINCRBY h n x\r\n",
            b"-ERR value is not an integer or out of range\r\n",
        ),
        (b"HINCRBY h s 1\r\n", b"-ERR hash value is not an integer\r\n"),
        (
            b"HINCRBY h n 1\r\n",
            b"-ERR increment or decrement would overflow\r\n",
        ),
        (b"HINCRBYFLOAT h f x\r\n", b"-ERR value is not a valid float\r\n"),
        (b"HINCRBYFLOAT h s 1\r\n", b"-ERR hash value is not a float\r\n"),
        (b"HINCRBYFLOAT h f 1.25\r\n", b"$4\r\n2.75\r\n"),
        // HRANDFIELD and HSCAN arguments.
        (
            b"HRANDFIELD h x\r\n",
            b"-ERR value is not an integer or out of range\r\n",
        ),
        (b"HRANDFIELD h 1 what\r\n", b"-ERR syntax error\r\n"),
        (
            b"HRANDFIELD h 1 WITHVALUES x\r\n",
            b"-ERR syntax error\r\n",
        ),
        (
            b"HRANDFIELD h -9223372036854775808\r\n",
            b"-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n",
        ),
        (
            b"HRANDFIELD h -5000000000000000000 WITHVALUES\r\n",
            b"-ERR value is out of range\r\n",
        ),
        (b"HSCAN h x\r\n", b"-ERR invalid cursor\r\n"),
        (b"HSCAN h 0 COUNT 0\r\n", b"-ERR syntax error\r\n"),
        (b"HSCAN h 0 TYPE string\r\n", b"-ERR syntax error\r\n"),
        (b"HSCAN h 0 MATCH\r\n", b"-ERR syntax error\r\n"),
        // The key's type, encoding and the rest of the keyspace commands.
        (b"TYPE h\r\n", b"+hash\r\n"),
        (b"OBJECT ENCODING h\r\n", b"$8\r\nlistpack\r\n"),
        (b"EXPIRE h 100\r\n", b":1\r\n"),
        (b"TTL h\r\n", b":100\r\n"),
        (b"PERSIST h\r\n", b":1\r\n"),
        (b"TTL h\r\n", b":-1\r\n"),
        (b"SCAN 0 TYPE hash\r\n", b"*2\r\n$1\r\n0\r\n*1\r\n$1\r\nh\r\n"),
        (b"SCAN 0 TYPE string\r\n", b"*2\r\n$1\r\n0\r\n*1\r\n$1\r\ns\r\n"),
        // SET and MSET overwrite a hash.
        (b"SET h plain\r\n", b"+OK\r\n"),
        (b"TYPE h\r\n", b"+string\r\n"),
        (b"GET h\r\n", b"$5\r\nplain\r\n"),
    ];
    for (request, reply) in script {
        conn.expect(request, reply);
    }
}

#[test]
fn small_hashes_convert_past_the_configured_thresholds() {
    let server = Server::start_resp(1);
    let mut conn = server.connect_resp();
    let script: &[(&[u8], &[u8])] = &[
        (
            b"CONFIG GET hash-max-listpack-entries\r\n",
            b"*2\r\n$25\r\nhash-max-listpack-entries\r\n$3\r\n512\r\n",
        ),
        (
            b"CONFIG GET hash-max-listpack-value\r\n",
            b"*2\r\n$23\r\nhash-max-listpack-value\r\n$2\r\n64\r\n",
        ),
        (b"CONFIG SET hash-max-listpack-entries 2\r\n", b"+OK\r\n"),
        (b"CONFIG SET hash-max-listpack-value 4\r\n", b"+OK\r\n"),
        (b"HSET a f1 1 f2 2\r\n", b":2\r\n"),
        (b"OBJECT ENCODING a\r\n", b"$8\r\nlistpack\r\n"),
        // Overwriting a field of a full listpack keeps it one.
        (b"HSET a f2 3\r\n", b":0\r\n"),
        (b"OBJECT ENCODING a\r\n", b"$8\r\nlistpack\r\n"),
        (b"HSET a f3 3\r\n", b":1\r\n"),
        (b"OBJECT ENCODING a\r\n", b"$9\r\nhashtable\r\n"),
        (b"HSET b f 1234\r\n", b":1\r\n"),
        (b"OBJECT ENCODING b\r\n", b"$8\r\nlistpack\r\n"),
        (b"HSET c f 12345\r\n", b":1\r\n"),
        (b"OBJECT ENCODING c\r\n", b"$9\r\nhashtable\r\n"),
        (b"HSET d field 1\r\n", b":1\r\n"),
        (b"OBJECT ENCODING d\r\n", b"$9\r\nhashtable\r\n"),
        // A hashtable never converts back.
        (b"HDEL a f1 f2\r\n", b":2\r\n"),
        (b"OBJECT ENCODING a\r\n", b"$9\r\nhashtable\r\n"),
        (
            b"CONFIG SET hash-max-listpack-entries -1\r\n",
            b"-ERR CONFIG SET failed (possibly related to argument 'hash-max-listpack-entries') - argument must be between 0 and 9223372036854775807 inclusive\r\n",
        ),
    ];
    for (request, reply) in script {
        conn.expect(request, reply);
    }
}

#[test]
fn memory_usage_follows_the_hash() {
    let server = Server::start_resp(1);
    let mut redis = server.redis(2);
    let _: i64 = redis.hset("h", "f", "v").unwrap();
    let small: i64 = redis::cmd("MEMORY")
        .arg("USAGE")
        .arg("h")
        .query(&mut redis)
        .unwrap();
    let _: () = redis
        .hset_multiple("h", &[("another field", &"x".repeat(50))])
        .unwrap();
    let large: i64 = redis::cmd("MEMORY")
        .arg("USAGE")
        .arg("h")
        .query(&mut redis)
        .unwrap();
    assert!(
        large >= small + 50 + "another field".len() as i64,
        "{small} → {large}"
    );
    let _: i64 = redis.hdel("h", "another field").unwrap();
    let again: i64 = redis::cmd("MEMORY")
        .arg("USAGE")
        .arg("h")
        .query(&mut redis)
        .unwrap();
    assert_eq!(again, small);
}

#[test]
fn hrandfield_picks_distinct_fields_or_repeats_for_negative_counts() {
    on_each_topology(|redis, prefix, protocol| {
        let key = format!("{prefix}:r");
        let fields: Vec<(String, String)> = (0..20)
            .map(|i| (format!("f{i}"), format!("v{i}")))
            .collect();
        let _: () = redis.hset_multiple(&key, &fields).unwrap();
        let picked: Vec<String> = redis::cmd("HRANDFIELD")
            .arg(&key)
            .arg(5)
            .query(redis)
            .unwrap();
        let distinct: HashSet<&String> = picked.iter().collect();
        assert_eq!((picked.len(), distinct.len()), (5, 5));
        assert!(picked
            .iter()
            .all(|f| fields.iter().any(|(name, _)| name == f)));
        let all: Vec<String> = redis::cmd("HRANDFIELD")
            .arg(&key)
            .arg(100)
            .query(redis)
            .unwrap();
        assert_eq!(all.len(), 20);
        let repeated: Vec<String> = redis::cmd("HRANDFIELD")
            .arg(&key)
            .arg(-50)
            .query(redis)
            .unwrap();
        assert_eq!(repeated.len(), 50);
        let with_values: Value = redis::cmd("HRANDFIELD")
            .arg(&key)
            .arg(3)
            .arg("WITHVALUES")
            .query(redis)
            .unwrap();
        let Value::Array(items) = with_values else {
            panic!("an array: {with_values:?}")
        };
        // RESP2: field, value, field, value…; RESP3: [field, value] pairs.
        let pairs: Vec<(String, String)> = if protocol == 2 {
            assert_eq!(items.len(), 6);
            items
                .chunks(2)
                .map(|pair| {
                    let field = redis::from_redis_value(pair[0].clone()).unwrap();
                    (field, redis::from_redis_value(pair[1].clone()).unwrap())
                })
                .collect()
        } else {
            assert_eq!(items.len(), 3);
            items
                .into_iter()
                .map(|pair| redis::from_redis_value(pair).unwrap())
                .collect()
        };
        for (field, value) in pairs {
            assert_eq!(value, field.replace('f', "v"));
        }
    });
}

#[test]
fn hscan_returns_every_field_present_for_the_whole_scan() {
    on_each_topology(|redis, prefix, _| {
        let key = format!("{prefix}:big");
        let fields: Vec<(String, String)> = (0..1000)
            .map(|i| (format!("f{i}"), i.to_string()))
            .collect();
        let _: () = redis.hset_multiple(&key, &fields).unwrap();
        let encoding: String = redis::cmd("OBJECT")
            .arg("ENCODING")
            .arg(&key)
            .query(redis)
            .unwrap();
        assert_eq!(encoding, "hashtable");
        let mut seen = HashSet::new();
        let mut cursor = 0u64;
        let mut round = 0;
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("HSCAN")
                .arg(&key)
                .arg(cursor)
                .arg("COUNT")
                .arg(37)
                .query(redis)
                .unwrap();
            for pair in batch.chunks(2) {
                assert_eq!(pair[0][1..], pair[1], "a field with its own value");
                seen.insert(pair[0].clone());
            }
            // Meanwhile fields 900.. go and new ones come.
            round += 1;
            let _: i64 = redis.hdel(&key, format!("f{}", 900 + round)).unwrap();
            let _: i64 = redis.hset(&key, format!("n{round}"), round).unwrap();
            if next == 0 {
                break;
            }
            cursor = next;
        }
        for i in 0..900 {
            assert!(seen.contains(&format!("f{i}")), "f{i} missed");
        }
        let matching: (u64, Vec<String>) = redis::cmd("HSCAN")
            .arg(&key)
            .arg(0)
            .arg("MATCH")
            .arg("f99*")
            .arg("COUNT")
            .arg(10_000)
            .query(redis)
            .unwrap();
        let mut names: Vec<String> = matching.1.chunks(2).map(|pair| pair[0].clone()).collect();
        names.sort();
        assert_eq!(
            names,
            [
                "f99", "f990", "f991", "f992", "f993", "f994", "f995", "f996", "f997", "f998",
                "f999"
            ]
        );
    });
}

#[test]
fn hashes_move_between_keys_shards_and_databases() {
    let shards = 3;
    let server = Server::start_resp(shards);
    let mut redis = server.redis(2);
    let source = key_on_shard("src", 0, shards);
    let other = key_on_shard("dst", 1, shards);
    let fields = [("a", "1"), ("b", "2")];
    let _: () = redis.hset_multiple(&source, &fields).unwrap();
    let _: bool = redis.expire(&source, 1000).unwrap();
    // To another shard, keeping the TTL.
    let _: () = redis.rename(&source, &other).unwrap();
    let moved: HashMap<String, String> = redis.hgetall(&other).unwrap();
    assert_eq!(moved.len(), 2);
    assert_eq!(moved["b"], "2");
    let ttl: i64 = redis.ttl(&other).unwrap();
    assert!((990..=1000).contains(&ttl), "{ttl}");
    let exists: bool = redis.exists(&source).unwrap();
    assert!(!exists);
    // COPY back, then both are independent hashes.
    let copied: bool = redis::cmd("COPY")
        .arg(&other)
        .arg(&source)
        .query(&mut redis)
        .unwrap();
    assert!(copied);
    let _: i64 = redis.hset(&source, "c", "3").unwrap();
    let lens: (usize, usize) = (redis.hlen(&source).unwrap(), redis.hlen(&other).unwrap());
    assert_eq!(lens, (3, 2));
    let kind: String = redis::cmd("TYPE").arg(&source).query(&mut redis).unwrap();
    assert_eq!(kind, "hash");
    // MOVE to another database.
    let moved: bool = redis::cmd("MOVE")
        .arg(&source)
        .arg(1)
        .query(&mut redis)
        .unwrap();
    assert!(moved);
    let _: () = redis::cmd("SELECT").arg(1).query(&mut redis).unwrap();
    let value: String = redis.hget(&source, "c").unwrap();
    assert_eq!(value, "3");
    let encoding: String = redis::cmd("OBJECT")
        .arg("ENCODING")
        .arg(&source)
        .query(&mut redis)
        .unwrap();
    assert_eq!(encoding, "listpack");
    // Cross-shard string commands see the hash's type too.
    let _: () = redis::cmd("SELECT").arg(0).query(&mut redis).unwrap();
    let string_key = key_on_shard("str", 2, shards);
    let _: () = redis.set(&string_key, "abc").unwrap();
    let error = redis::cmd("LCS")
        .arg(&other)
        .arg(&string_key)
        .query::<String>(&mut redis)
        .unwrap_err();
    assert_eq!(
        error.detail(),
        Some("The specified keys must contain string values")
    );
    let error = redis::cmd("BITOP")
        .arg("OR")
        .arg(&string_key)
        .arg(&other)
        .query::<i64>(&mut redis)
        .unwrap_err();
    assert_eq!(error.code(), Some("WRONGTYPE"));
    let value: String = redis.get(&string_key).unwrap();
    assert_eq!(value, "abc");
}

#[test]
fn memcached_sees_no_hash() {
    let server = Server::with(common::Options {
        threads: 1,
        resp: true,
        ..common::Options::default()
    });
    let mut redis = server.redis(2);
    let _: i64 = redis.hset("k", "f", "v").unwrap();
    let mut mc = server.connect();
    // Reads miss, read-modify-writes find nothing…
    mc.expect(b"get k\r\n", b"END\r\n");
    mc.expect(b"append k 0 0 1\r\nx\r\n", b"NOT_STORED\r\n");
    mc.expect(b"incr k 1\r\n", b"NOT_FOUND\r\n");
    mc.expect(b"touch k 10\r\n", b"NOT_FOUND\r\n");
    mc.expect(b"delete k\r\n", b"NOT_FOUND\r\n");
    let kind: String = redis::cmd("TYPE").arg("k").query(&mut redis).unwrap();
    assert_eq!(kind, "hash");
    // …and a set stores a string over it.
    mc.expect(b"set k 0 0 3\r\nabc\r\n", b"STORED\r\n");
    let value: String = redis.get("k").unwrap();
    assert_eq!(value, "abc");
}
