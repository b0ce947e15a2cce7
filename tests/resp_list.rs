//! The non-blocking list commands over real TCP, on one and three shards:
//! the `redis` crate on RESP2 and RESP3 for the commands, raw bytes for
//! exact replies and errors. LMOVE, RPOPLPUSH and LMPOP use keys of one
//! `{hash tag}`, and keys on several shards. Expected replies
//! are Redis 7.0.15's (checked against `redis-server`).

mod common;

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

#[test]
fn list_commands_through_the_redis_crate() {
    on_each_topology(|redis, tag| {
        let (l, m) = (format!("{tag}l"), format!("{tag}m"));
        let len: i64 = redis.rpush(&l, &["a", "b", "c"]).unwrap();
        assert_eq!(len, 3);
        let len: i64 = redis.lpush(&l, &["y", "z"]).unwrap();
        assert_eq!(len, 5);
        let all: Vec<String> = redis.lrange(&l, 0, -1).unwrap();
        assert_eq!(all, ["z", "y", "a", "b", "c"]);
        let tail: Vec<String> = redis.lrange(&l, -2, 100).unwrap();
        assert_eq!(tail, ["b", "c"]);
        let at: String = redis.lindex(&l, -1).unwrap();
        assert_eq!(at, "c");
        let missing: Option<String> = redis.lindex(&l, 10).unwrap();
        assert_eq!(missing, None);
        let _: () = redis.lset(&l, 0, "Z").unwrap();
        let len: i64 = redis.linsert_before(&l, "a", "A").unwrap();
        assert_eq!(len, 6);
        let len: i64 = redis.linsert_after(&l, "nothing", "x").unwrap();
        assert_eq!(len, -1);
        let len: usize = redis.llen(&l).unwrap();
        assert_eq!(len, 6);
        let _: i64 = redis.rpush(&l, &["a", "a"]).unwrap();
        let positions: Vec<usize> = redis::cmd("LPOS")
            .arg(&l)
            .arg("a")
            .arg("COUNT")
            .arg(0)
            .query(redis)
            .unwrap();
        assert_eq!(positions, [3, 6, 7]);
        let last: usize = redis::cmd("LPOS")
            .arg(&l)
            .arg("a")
            .arg("RANK")
            .arg(-1)
            .query(redis)
            .unwrap();
        assert_eq!(last, 7);
        let removed: i64 = redis.lrem(&l, -2, "a").unwrap();
        assert_eq!(removed, 2);
        let all: Vec<String> = redis.lrange(&l, 0, -1).unwrap();
        assert_eq!(all, ["Z", "y", "A", "a", "b", "c"]);
        let first: Option<String> = redis.lpop(&l, None).unwrap();
        assert_eq!(first.as_deref(), Some("Z"));
        let last_two: Vec<String> = redis.rpop(&l, std::num::NonZeroUsize::new(2)).unwrap();
        assert_eq!(last_two, ["c", "b"]);
        let _: () = redis.ltrim(&l, 1, -1).unwrap();
        let all: Vec<String> = redis.lrange(&l, 0, -1).unwrap();
        assert_eq!(all, ["A", "a"]);
        let moved: String = redis
            .lmove(&l, &m, redis::Direction::Left, redis::Direction::Right)
            .unwrap();
        assert_eq!(moved, "A");
        let moved: String = redis.rpoplpush(&l, &m).unwrap();
        assert_eq!(moved, "a");
        // The last pop took the key with it.
        let exists: bool = redis.exists(&l).unwrap();
        assert!(!exists);
        let all: Vec<String> = redis.lrange(&m, 0, -1).unwrap();
        assert_eq!(all, ["a", "A"]);
        let popped: (String, Vec<String>) = redis::cmd("LMPOP")
            .arg(2)
            .arg(&l)
            .arg(&m)
            .arg("RIGHT")
            .arg("COUNT")
            .arg(5)
            .query(redis)
            .unwrap();
        assert_eq!(popped, (m.clone(), vec!["A".to_string(), "a".to_string()]));
        let none: Option<(String, Vec<String>)> = redis::cmd("LMPOP")
            .arg(1)
            .arg(&m)
            .arg("LEFT")
            .query(redis)
            .unwrap();
        assert_eq!(none, None);
        let len: i64 = redis.rpush_exists(&m, "x").unwrap();
        assert_eq!(len, 0);
        let exists: bool = redis.exists(&m).unwrap();
        assert!(!exists);
    });
}

#[test]
fn list_replies_and_errors_are_redis_words() {
    let server = Server::start_resp(1);
    let mut conn = server.connect_resp();
    let wrongtype: &[u8] =
        b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
    conn.expect(b"SET str x\r\n", b"+OK\r\n");
    conn.expect(b"RPUSH l a b c\r\n", b":3\r\n");
    let script: &[(&[u8], &[u8])] = &[
        (b"TYPE l\r\n", b"+list\r\n"),
        (b"OBJECT ENCODING l\r\n", b"$9\r\nquicklist\r\n"),
        (b"LPOP l 0\r\n", b"*0\r\n"),
        (b"LPOP nokey 2\r\n", b"*-1\r\n"),
        (b"LPOP nokey\r\n", b"$-1\r\n"),
        (b"LMPOP 1 nokey LEFT\r\n", b"*-1\r\n"),
        (b"LPOS l zz\r\n", b"$-1\r\n"),
        (b"LPOS l zz COUNT 0\r\n", b"*0\r\n"),
        (b"LINSERT nokey BEFORE a x\r\n", b":0\r\n"),
        (b"RPOPLPUSH nokey l\r\n", b"$-1\r\n"),
        (b"LPOP l -1\r\n", b"-ERR value is out of range, must be positive\r\n"),
        (
            b"LPOP l 1 2\r\n",
            b"-ERR wrong number of arguments for 'lpop' command\r\n",
        ),
        (
            b"LRANGE l x 1\r\n",
            b"-ERR value is not an integer or out of range\r\n",
        ),
        (b"LSET nokey 0 x\r\n", b"-ERR no such key\r\n"),
        (b"LSET l 99 x\r\n", b"-ERR index out of range\r\n"),
        (b"LINSERT l middle a x\r\n", b"-ERR syntax error\r\n"),
        (
            b"LPOS l a RANK 0\r\n",
            b"-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list\r\n",
        ),
        (b"LPOS l a COUNT -1\r\n", b"-ERR COUNT can't be negative\r\n"),
        (b"LPOS l a MAXLEN -1\r\n", b"-ERR MAXLEN can't be negative\r\n"),
        (b"LPOS l a FOO 1\r\n", b"-ERR syntax error\r\n"),
        (
            b"LMPOP 0 l LEFT\r\n",
            b"-ERR numkeys should be greater than 0\r\n",
        ),
        (b"LMPOP 1 l MIDDLE\r\n", b"-ERR syntax error\r\n"),
        (
            b"LMPOP 1 l LEFT COUNT 0\r\n",
            b"-ERR count should be greater than 0\r\n",
        ),
        (b"LMPOP 2 l LEFT\r\n", b"-ERR syntax error\r\n"),
        (b"LMOVE l m UP LEFT\r\n", b"-ERR syntax error\r\n"),
        (b"LPUSH str a\r\n", wrongtype),
        (b"LRANGE str 0 1\r\n", wrongtype),
        (b"LMPOP 2 str l LEFT\r\n", wrongtype),
        (b"LMOVE l str LEFT LEFT\r\n", wrongtype),
        (b"RPUSHX str a\r\n", wrongtype),
        (b"GET l\r\n", wrongtype),
        // Rotating a list onto itself keeps the key and its TTL.
        (b"EXPIRE l 100\r\n", b":1\r\n"),
        (b"LMOVE l l LEFT RIGHT\r\n", b"$1\r\na\r\n"),
        (b"LRANGE l 0 -1\r\n", b"*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\na\r\n"),
        (b"TTL l\r\n", b":100\r\n"),
        (b"LTRIM l 5 1\r\n", b"+OK\r\n"),
        (b"EXISTS l\r\n", b":0\r\n"),
    ];
    for (request, reply) in script {
        conn.expect(request, reply);
    }
    conn.expect(b"HELLO 3\r\n", b"%");
    conn.read_until(b"modules\r\n*0\r\n");
    conn.expect(b"LPOP nokey 2\r\n", b"_\r\n");
    conn.expect(b"LMPOP 1 nokey LEFT\r\n", b"_\r\n");
    conn.expect(b"LINDEX nokey 0\r\n", b"_\r\n");
}

#[test]
fn lists_move_and_pop_across_shards() {
    let shards = 3;
    let server = Server::start_resp(shards);
    let mut redis = server.redis(2);
    let a = key_on_shard("a", 0, shards);
    let b = key_on_shard("b", 1, shards);
    let _: i64 = redis.rpush(&a, &["1", "2", "3"]).unwrap();
    let _: () = redis.rename(&a, &b).unwrap();
    let all: Vec<String> = redis.lrange(&b, 0, -1).unwrap();
    assert_eq!(all, ["1", "2", "3"]);
    let copied: bool = redis::cmd("COPY")
        .arg(&b)
        .arg(&a)
        .query(&mut redis)
        .unwrap();
    assert!(copied);
    // The lists live on two shards: the moves and pops read both.
    let mut conn = server.connect_resp();
    let bulk = |key: &str| format!("${}\r\n{key}\r\n", key.len());
    for (request, reply) in [
        (
            format!("LMOVE {a} {b} LEFT LEFT\r\n"),
            "$1\r\n1\r\n".to_string(),
        ),
        (format!("RPOPLPUSH {a} {b}\r\n"), "$1\r\n3\r\n".into()),
        (
            format!("LMPOP 2 {a} {b} LEFT\r\n"),
            format!("*2\r\n{}*1\r\n$1\r\n2\r\n", bulk(&a)),
        ),
        (
            format!("LMPOP 2 {a} {b} RIGHT COUNT 2\r\n"),
            format!("*2\r\n{}*2\r\n$1\r\n3\r\n$1\r\n2\r\n", bulk(&b)),
        ),
        (format!("EXISTS {a}\r\n"), ":0\r\n".into()),
    ] {
        conn.expect(request.as_bytes(), reply.as_bytes());
    }
    let all: Vec<String> = redis.lrange(&b, 0, -1).unwrap();
    assert_eq!(all, ["3", "1", "1"]);
}
