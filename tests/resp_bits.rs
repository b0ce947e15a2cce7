//! The bit commands, BITFIELD, BITOP, LCS and INCRBYFLOAT over real TCP,
//! on one and three shards: the `redis` crate on RESP2 and RESP3 for the
//! commands, raw bytes for exact replies and errors. BITOP's and LCS's keys
//! share a `{hash tag}`, hence a shard. Expected replies are Redis 7.0's.

mod common;

use common::Server;
use redis::{Commands, Value};

/// Runs `check` against a one-shard and a three-shard server, on RESP2
/// and RESP3, with a key prefix of its own for each run.
fn on_each_topology(check: impl Fn(&mut redis::Connection, &str)) {
    for threads in [1, 3] {
        let server = Server::start_resp(threads);
        for protocol in [2, 3] {
            let mut redis = server.redis(protocol);
            check(&mut redis, &format!("t{threads}r{protocol}"));
        }
    }
}

#[test]
fn setbit_getbit_bitcount_and_bitpos_through_the_redis_crate() {
    on_each_topology(|redis, prefix| {
        let key = format!("{prefix}:bitmap");
        let was: bool = redis.setbit(&key, 7, true).unwrap();
        assert!(!was);
        let was: bool = redis.setbit(&key, 7, true).unwrap();
        assert!(was);
        let _: bool = redis.setbit(&key, 20, true).unwrap();
        let value: Vec<u8> = redis.get(&key).unwrap();
        assert_eq!(value, b"\x01\x00\x08");
        let bit: bool = redis.getbit(&key, 20).unwrap();
        assert!(bit);
        let bit: bool = redis.getbit(&key, 10_000).unwrap();
        assert!(!bit);
        let count: usize = redis.bitcount(&key).unwrap();
        assert_eq!(count, 2);
        let count: usize = redis.bitcount_range(&key, 1, 2).unwrap();
        assert_eq!(count, 1);
        let count: i64 = redis::cmd("BITCOUNT")
            .arg(&key)
            .arg(0)
            .arg(6)
            .arg("BIT")
            .query(redis)
            .unwrap();
        assert_eq!(count, 0);
        let first_one: i64 = redis::cmd("BITPOS").arg(&key).arg(1).query(redis).unwrap();
        assert_eq!(first_one, 7);
        let next_one: i64 = redis::cmd("BITPOS")
            .arg(&key)
            .arg(1)
            .arg(8)
            .arg(-1)
            .arg("BIT")
            .query(redis)
            .unwrap();
        assert_eq!(next_one, 20);
        let first_zero: i64 = redis::cmd("BITPOS").arg(&key).arg(0).query(redis).unwrap();
        assert_eq!(first_zero, 0);
        let none: i64 = redis::cmd("BITPOS")
            .arg(format!("{prefix}:missing"))
            .arg(1)
            .query(redis)
            .unwrap();
        assert_eq!(none, -1);
    });
}

#[test]
fn bitfield_through_the_redis_crate() {
    on_each_topology(|redis, prefix| {
        let key = format!("{prefix}:fields");
        let replies: Vec<Option<i64>> = redis::cmd("BITFIELD")
            .arg(&key)
            .arg(&[
                "SET", "i8", "0", "-100", "GET", "u8", "0", "INCRBY", "u4", "#3", "20",
            ])
            .arg(&["OVERFLOW", "FAIL", "INCRBY", "u2", "100", "4"])
            .query(redis)
            .unwrap();
        assert_eq!(replies, vec![Some(0), Some(156), Some(4), None]);
        let replies: Vec<i64> = redis::cmd("BITFIELD_RO")
            .arg(&key)
            .arg(&["GET", "i8", "0", "GET", "u4", "12"])
            .query(redis)
            .unwrap();
        assert_eq!(replies, vec![-100, 4]);
        let refused = redis::cmd("BITFIELD_RO")
            .arg(&key)
            .arg(&["SET", "u8", "0", "1"])
            .query::<Vec<i64>>(redis)
            .unwrap_err();
        assert_eq!(
            refused.detail(),
            Some("BITFIELD_RO only supports the GET subcommand")
        );
    });
}

#[test]
fn bitop_and_lcs_on_keys_that_share_a_hash_tag() {
    on_each_topology(|redis, prefix| {
        let key = |name: &str| format!("{{{prefix}}}{name}");
        let _: () = redis.set(key("a"), &b"\xff\x0f"[..]).unwrap();
        let _: () = redis.set(key("b"), &b"\x0f"[..]).unwrap();
        let len: usize = redis.bit_and(key("and"), &[key("a"), key("b")]).unwrap();
        assert_eq!(len, 2);
        let value: Vec<u8> = redis.get(key("and")).unwrap();
        assert_eq!(value, b"\x0f\x00");
        let len: usize = redis
            .bit_xor(key("xor"), &[key("a"), key("b"), key("missing")])
            .unwrap();
        assert_eq!(len, 2);
        let value: Vec<u8> = redis.get(key("xor")).unwrap();
        assert_eq!(value, b"\xf0\x0f");
        let len: usize = redis.bit_not(key("and"), key("missing")).unwrap();
        assert_eq!(len, 0);
        let exists: bool = redis.exists(key("and")).unwrap();
        assert!(!exists, "an empty result deletes the destination");

        let _: () = redis.set(key("k1"), "ohmytext").unwrap();
        let _: () = redis.set(key("k2"), "mynewtext").unwrap();
        let common: String = redis::cmd("LCS")
            .arg(key("k1"))
            .arg(key("k2"))
            .query(redis)
            .unwrap();
        assert_eq!(common, "mytext");
        let len: i64 = redis::cmd("LCS")
            .arg(key("k1"))
            .arg(key("k2"))
            .arg("LEN")
            .query(redis)
            .unwrap();
        assert_eq!(len, 6);
        let idx: Value = redis::cmd("LCS")
            .arg(key("k1"))
            .arg(key("k2"))
            .arg(&["IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"])
            .query(redis)
            .unwrap();
        let range = |start: i64, end: i64| Value::Array(vec![Value::Int(start), Value::Int(end)]);
        let matches = Value::Array(vec![Value::Array(vec![
            range(4, 7),
            range(5, 8),
            Value::Int(4),
        ])]);
        let fields = [
            (Value::BulkString(b"matches".to_vec()), matches),
            (Value::BulkString(b"len".to_vec()), Value::Int(6)),
        ];
        let expected = if prefix.ends_with("r3") {
            Value::Map(fields.to_vec())
        } else {
            Value::Array(fields.into_iter().flat_map(|(k, v)| [k, v]).collect())
        };
        assert_eq!(idx, expected);
    });
}

#[test]
fn incrbyfloat_through_the_redis_crate() {
    on_each_topology(|redis, prefix| {
        let key = format!("{prefix}:float");
        let sum: f64 = redis.incr(&key, 10.5f64).unwrap();
        assert_eq!(sum, 10.5);
        let text: String = redis::cmd("INCRBYFLOAT")
            .arg(&key)
            .arg("0.1")
            .query(redis)
            .unwrap();
        assert_eq!(text, "10.6", "long double arithmetic, as Redis");
        let text: String = redis::cmd("INCRBYFLOAT")
            .arg(&key)
            .arg("5.0e3")
            .query(redis)
            .unwrap();
        // Redis's long double shows its last bits here too.
        assert_eq!(text, "5010.60000000000000009");
        let stored: String = redis.get(&key).unwrap();
        assert_eq!(stored, text);
        let error = redis::cmd("INCRBYFLOAT")
            .arg(&key)
            .arg("inf")
            .query::<String>(redis)
            .unwrap_err();
        assert_eq!(
            error.detail(),
            Some("increment would produce NaN or Infinity")
        );
    });
}

#[test]
fn errors_are_worded_as_redis() {
    let server = Server::start_resp(3);
    let mut conn = server.connect_resp();
    let script: &[(&[u8], &[u8])] = &[
        (
            b"SETBIT k 4294967296 1\r\n",
            b"-ERR bit offset is not an integer or out of range\r\n",
        ),
        (
            b"SETBIT k 0 2\r\n",
            b"-ERR bit is not an integer or out of range\r\n",
        ),
        (
            b"GETBIT k -1\r\n",
            b"-ERR bit offset is not an integer or out of range\r\n",
        ),
        (b"SET s foobar\r\n", b"+OK\r\n"),
        (b"BITCOUNT s 0\r\n", b"-ERR syntax error\r\n"),
        (
            b"BITCOUNT s a b\r\n",
            b"-ERR value is not an integer or out of range\r\n",
        ),
        (b"BITPOS s 2\r\n", b"-ERR The bit argument must be 1 or 0.\r\n"),
        (b"BITPOS s 1 0 1 bits\r\n", b"-ERR syntax error\r\n"),
        (
            b"BITFIELD s GET u64 0\r\n",
            b"-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n",
        ),
        (
            b"BITFIELD s OVERFLOW BOUNCE\r\n",
            b"-ERR Invalid OVERFLOW type specified\r\n",
        ),
        (
            b"BITOP NOT {t}d {t}a {t}b\r\n",
            b"-ERR BITOP NOT must be called with a single source key.\r\n",
        ),
        (b"BITOP NAND {t}d {t}a\r\n", b"-ERR syntax error\r\n"),
        (
            b"BITOP AND {t}d\r\n",
            b"-ERR wrong number of arguments for 'bitop' command\r\n",
        ),
        (
            b"LCS {t}a {t}b LEN IDX\r\n",
            b"-ERR If you want both the length and indexes, please just use IDX.\r\n",
        ),
        (b"INCRBYFLOAT s 1\r\n", b"-ERR value is not a valid float\r\n"),
        (b"INCRBYFLOAT f 1e5000\r\n", b"-ERR value is not a valid float\r\n"),
    ];
    for (request, reply) in script {
        conn.expect(request, reply);
    }
}
