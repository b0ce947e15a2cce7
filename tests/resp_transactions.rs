//! MULTI, EXEC, DISCARD, WATCH and UNWATCH over real TCP, on one and four
//! shards: Redis 7.0.15's exact replies (checked against `redis-server`)
//! for queueing, errors and watches, with keys on one shard and spread
//! over several; and, under concurrent clients, that a transaction is
//! atomic and isolated whichever shards its keys live on.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::{key_on_shard, Conn, Server};
use redis::Commands;

/// Three keys on shards 0, 1 and 2 of `shards` (all on one shard when it
/// is 1), or three keys of one hash tag.
fn keys(prefix: &str, shards: usize, spread: bool) -> [String; 3] {
    if !spread {
        return [0, 1, 2].map(|i| format!("{{{prefix}}}{i}"));
    }
    [0, 1, 2].map(|i| key_on_shard(&format!("{prefix}{i}:"), i % shards, shards))
}

/// Runs `check` on both topologies, with keys on one shard and spread.
fn on_each_topology(check: impl Fn(&Server, &[String; 3])) {
    for threads in [1, 4] {
        let server = Server::start_resp(threads);
        for (round, spread) in [false, true].into_iter().enumerate() {
            check(
                &server,
                &keys(&format!("t{threads}s{round}"), threads, spread),
            );
        }
        server.stop();
    }
}

/// One request in RESP, from its words.
fn request(words: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", words.len()).into_bytes();
    for word in words {
        out.extend_from_slice(format!("${}\r\n{word}\r\n", word.len()).as_bytes());
    }
    out
}

fn bulk(value: &str) -> String {
    format!("${}\r\n{value}\r\n", value.len())
}

#[test]
fn queueing_and_exec_reply_as_redis() {
    on_each_topology(|server, [a, b, c]| {
        let mut conn = server.connect_resp();
        let script: &[(&[&str], String)] = &[
            (&["MULTI"], "+OK\r\n".into()),
            (&["SET", a, "1"], "+QUEUED\r\n".into()),
            (&["INCR", a], "+QUEUED\r\n".into()),
            (&["SET", b, "x"], "+QUEUED\r\n".into()),
            (&["MGET", a, b, c], "+QUEUED\r\n".into()),
            (&["INCR", b], "+QUEUED\r\n".into()),
            (&["DEL", a, b, c], "+QUEUED\r\n".into()),
            (&["PING"], "+QUEUED\r\n".into()),
            (
                &["EXEC"],
                format!(
                    "*7\r\n+OK\r\n:2\r\n+OK\r\n*3\r\n{}{}$-1\r\n\
                     -ERR value is not an integer or out of range\r\n:2\r\n+PONG\r\n",
                    bulk("2"),
                    bulk("x")
                ),
            ),
            (&["EXEC"], "-ERR EXEC without MULTI\r\n".into()),
            (&["DISCARD"], "-ERR DISCARD without MULTI\r\n".into()),
            (&["MULTI"], "+OK\r\n".into()),
            (&["EXEC"], "*0\r\n".into()),
            (&["MULTI"], "+OK\r\n".into()),
            (&["MULTI"], "-ERR MULTI calls can not be nested\r\n".into()),
            (
                &["WATCH", a],
                "-ERR WATCH inside MULTI is not allowed\r\n".into(),
            ),
            (&["SET", c, "3"], "+QUEUED\r\n".into()),
            (&["EXEC"], "*1\r\n+OK\r\n".into()),
            (&["MULTI"], "+OK\r\n".into()),
            (&["SET", a, "gone"], "+QUEUED\r\n".into()),
            (&["DISCARD"], "+OK\r\n".into()),
            (&["GET", a], "$-1\r\n".into()),
            // A refused request fails the transaction; the others still queue.
            (&["MULTI"], "+OK\r\n".into()),
            (
                &["GET"],
                "-ERR wrong number of arguments for 'get' command\r\n".into(),
            ),
            (&["SET", a, "never"], "+QUEUED\r\n".into()),
            (
                &["EXEC"],
                "-EXECABORT Transaction discarded because of previous errors.\r\n".into(),
            ),
            (&["GET", a], "$-1\r\n".into()),
            (&["MULTI"], "+OK\r\n".into()),
            (
                &["NOSUCH", "arg"],
                "-ERR unknown command 'NOSUCH', with args beginning with: 'arg' \r\n".into(),
            ),
            (
                &["EXEC"],
                "-EXECABORT Transaction discarded because of previous errors.\r\n".into(),
            ),
            (&["MULTI"], "+OK\r\n".into()),
            (
                &["DISCARD", "x"],
                "-ERR wrong number of arguments for 'discard' command\r\n".into(),
            ),
            (
                &["EXEC"],
                "-EXECABORT Transaction discarded because of previous errors.\r\n".into(),
            ),
            (&["MULTI"], "+OK\r\n".into()),
            (&["SET", a, "e"], "+QUEUED\r\n".into()),
            (
                &["EXEC", "x"],
                "-EXECABORT Transaction discarded because of: \
                 wrong number of arguments for 'exec' command\r\n"
                    .into(),
            ),
            (&["GET", a], "$-1\r\n".into()),
            (&["EXEC"], "-ERR EXEC without MULTI\r\n".into()),
            (
                &["EXEC", "x"],
                "-EXECABORT Transaction discarded because of: \
                 wrong number of arguments for 'exec' command\r\n"
                    .into(),
            ),
            (
                &["MULTI", "x"],
                "-ERR wrong number of arguments for 'multi' command\r\n".into(),
            ),
            (
                &["WATCH"],
                "-ERR wrong number of arguments for 'watch' command\r\n".into(),
            ),
            (
                &["UNWATCH", "x"],
                "-ERR wrong number of arguments for 'unwatch' command\r\n".into(),
            ),
            // Keyspace-wide commands and SELECT inside a transaction.
            (&["MULTI"], "+OK\r\n".into()),
            (&["MSET", a, "1", b, "2", c, "3"], "+QUEUED\r\n".into()),
            (&["DBSIZE"], "+QUEUED\r\n".into()),
            (&["EXISTS", a, b, c, "nokey"], "+QUEUED\r\n".into()),
            (&["FLUSHALL"], "+QUEUED\r\n".into()),
            (&["DBSIZE"], "+QUEUED\r\n".into()),
            (&["SELECT", "1"], "+QUEUED\r\n".into()),
            (&["SET", a, "in-1"], "+QUEUED\r\n".into()),
            (
                &["EXEC"],
                "*7\r\n+OK\r\n:3\r\n:3\r\n+OK\r\n:0\r\n+OK\r\n+OK\r\n".into(),
            ),
            (&["GET", a], bulk("in-1")),
            (&["SELECT", "0"], "+OK\r\n".into()),
            (&["GET", a], "$-1\r\n".into()),
            // RESET ends the transaction.
            (&["MULTI"], "+OK\r\n".into()),
            (&["SET", a, "r"], "+QUEUED\r\n".into()),
            (&["RESET"], "+RESET\r\n".into()),
            (&["GET", a], "$-1\r\n".into()),
            (&["EXEC"], "-ERR EXEC without MULTI\r\n".into()),
            // UNWATCH queued runs as Redis's: OK (EXEC ended the watches).
            (&["WATCH", a], "+OK\r\n".into()),
            (&["MULTI"], "+OK\r\n".into()),
            (&["UNWATCH"], "+QUEUED\r\n".into()),
            (&["GET", b], "+QUEUED\r\n".into()),
            (&["EXEC"], "*2\r\n+OK\r\n$-1\r\n".into()),
        ];
        for (words, reply) in script {
            conn.expect(&request(words), reply.as_bytes());
        }
        conn.expect(&request(&["FLUSHALL"]), b"+OK\r\n");
    });
}

/// Requests and their expected replies.
type Steps<'a> = Vec<(Vec<&'a str>, &'static [u8])>;

/// Starts a watch of `key` on `conn`, lets `meddle` run on `other`, then
/// runs a transaction: whether EXEC ran it.
fn watched_exec(conn: &mut Conn, key: &str, meddle: impl FnOnce()) -> bool {
    conn.expect(&request(&["WATCH", key]), b"+OK\r\n");
    meddle();
    conn.expect(&request(&["MULTI"]), b"+OK\r\n");
    conn.expect(&request(&["PING"]), b"+QUEUED\r\n");
    conn.send(&request(&["EXEC"]));
    let reply = conn.line();
    match reply.trim_end() {
        "*-1" => false,
        "*1" => {
            assert_eq!(conn.line().trim_end(), "+PONG");
            true
        }
        other => panic!("EXEC replied {other:?}"),
    }
}

#[test]
fn watched_keys_abort_exec_when_written_as_in_redis() {
    on_each_topology(|server, [a, b, c]| {
        let mut conn = server.connect_resp();
        let mut other = server.connect_resp();
        let run =
            |other: &mut Conn, words: &[&str], reply: &[u8]| other.expect(&request(words), reply);
        // Each case: set up, watch `a`, meddle from another client.
        let cases: Vec<(&str, Steps, Steps, bool)> = vec![
            (
                "untouched",
                vec![(vec!["SET", a, "1"], b"+OK\r\n")],
                vec![],
                true,
            ),
            (
                "another key written",
                vec![(vec!["SET", a, "1"], b"+OK\r\n")],
                vec![(vec!["SET", b, "1"], b"+OK\r\n")],
                true,
            ),
            (
                "overwritten",
                vec![(vec!["SET", a, "1"], b"+OK\r\n")],
                vec![(vec!["SET", a, "2"], b"+OK\r\n")],
                false,
            ),
            (
                "set to the same value",
                vec![(vec!["SET", a, "1"], b"+OK\r\n")],
                vec![(vec!["SET", a, "1"], b"+OK\r\n")],
                false,
            ),
            (
                "appended",
                vec![(vec!["SET", a, "1"], b"+OK\r\n")],
                vec![(vec!["APPEND", a, "1"], b":2\r\n")],
                false,
            ),
            (
                "incremented",
                vec![(vec!["SET", a, "1"], b"+OK\r\n")],
                vec![(vec!["INCR", a], b":2\r\n")],
                false,
            ),
            (
                "given an expiry",
                vec![(vec!["SET", a, "1"], b"+OK\r\n")],
                vec![(vec!["EXPIRE", a, "100"], b":1\r\n")],
                false,
            ),
            (
                "deleted",
                vec![(vec!["SET", a, "1"], b"+OK\r\n")],
                vec![(vec!["DEL", a], b":1\r\n")],
                false,
            ),
            (
                "absent and deleted",
                vec![],
                vec![(vec!["DEL", a], b":0\r\n")],
                true,
            ),
            (
                "absent, created and deleted",
                vec![],
                vec![
                    (vec!["SET", a, "1"], b"+OK\r\n"),
                    (vec!["DEL", a], b":1\r\n"),
                ],
                false,
            ),
            (
                "flushed while it existed",
                vec![(vec!["SET", a, "1"], b"+OK\r\n")],
                vec![(vec!["FLUSHALL"], b"+OK\r\n")],
                false,
            ),
            (
                "flushed while absent",
                vec![],
                vec![(vec!["FLUSHALL"], b"+OK\r\n")],
                true,
            ),
            (
                "a field set to the same value",
                vec![(vec!["HSET", a, "f", "v"], b":1\r\n")],
                vec![(vec!["HSET", a, "f", "v"], b":0\r\n")],
                false,
            ),
            (
                "pushed to",
                vec![(vec!["RPUSH", a, "x"], b":1\r\n")],
                vec![(vec!["RPUSH", a, "y"], b":2\r\n")],
                false,
            ),
            (
                "renamed over",
                vec![
                    (vec!["SET", a, "1"], b"+OK\r\n"),
                    (vec!["SET", c, "2"], b"+OK\r\n"),
                ],
                vec![(vec!["RENAME", c, a], b"+OK\r\n")],
                false,
            ),
            (
                "not created (SETNX on an existing key)",
                vec![(vec!["SET", a, "1"], b"+OK\r\n")],
                vec![(vec!["SETNX", a, "2"], b":0\r\n")],
                true,
            ),
        ];
        for (name, setup, meddling, runs) in cases {
            run(&mut other, &["FLUSHALL"], b"+OK\r\n");
            for (words, reply) in &setup {
                run(&mut other, words, reply);
            }
            let ran = watched_exec(&mut conn, a, || {
                for (words, reply) in &meddling {
                    run(&mut other, words, reply);
                }
            });
            assert_eq!(ran, runs, "EXEC after WATCH of a key {name}");
        }
        // The connection's own write before MULTI counts too.
        let ran = watched_exec(&mut conn, a, || {
            conn_write(server, a);
        });
        assert!(!ran, "a write by another connection of the same client");
        conn.expect(&request(&["SET", a, "1"]), b"+OK\r\n");
        conn.expect(&request(&["WATCH", a]), b"+OK\r\n");
        conn.expect(&request(&["SET", a, "own"]), b"+OK\r\n");
        conn.expect(&request(&["MULTI"]), b"+OK\r\n");
        conn.expect(&request(&["EXEC"]), b"*-1\r\n");
        // UNWATCH, DISCARD and EXEC end the watches; UNWATCH inside MULTI
        // is queued and does not.
        for ender in [&["UNWATCH"][..], &["MULTI", "DISCARD"], &["MULTI", "EXEC"]] {
            conn.expect(&request(&["WATCH", a, b]), b"+OK\r\n");
            for word in ender {
                conn.send(&request(&[word]));
                let _ = conn.line();
            }
            run(&mut other, &["SET", b, "changed"], b"+OK\r\n");
            let ran = watched_exec(&mut conn, c, || {});
            assert!(ran, "after {ender:?}, the old watches are gone");
        }
        conn.expect(&request(&["WATCH", a]), b"+OK\r\n");
        run(&mut other, &["SET", a, "changed"], b"+OK\r\n");
        conn.expect(&request(&["MULTI"]), b"+OK\r\n");
        conn.expect(&request(&["UNWATCH"]), b"+QUEUED\r\n");
        conn.expect(&request(&["EXEC"]), b"*-1\r\n");
        // RESP3's aborted EXEC is a null.
        conn.send(b"HELLO 3\r\n");
        conn.read_until(b"modules\r\n*0\r\n");
        conn.expect(&request(&["WATCH", a]), b"+OK\r\n");
        run(&mut other, &["SET", a, "again"], b"+OK\r\n");
        conn.expect(&request(&["MULTI"]), b"+OK\r\n");
        conn.expect(&request(&["GET", a]), b"+QUEUED\r\n");
        conn.expect(&request(&["EXEC"]), b"_\r\n");
    });
}

/// A write that changes nothing — where Redis 7.0.15 calls no
/// `signalModifiedKey` — leaves a watcher's EXEC to run; the write that
/// does change the key aborts it. Each case: set up, the write (its reply
/// as Redis gives it), and whether the EXEC runs (checked against
/// `redis-server`). `k` is the watched key, `o` another key of its shard.
#[test]
fn writes_that_change_nothing_leave_a_watched_key_unchanged() {
    #[rustfmt::skip]
    let cases: &[(&[&str], &[&str], &str, bool)] = &[
        (&["SADD k a"], &["SREM", "k", "b"], ":0", true),
        (&["SADD k a b"], &["SREM", "k", "b"], ":1", false),
        (&["SADD k a"], &["SADD", "k", "a"], ":0", true),
        (&["SADD k a"], &["SADD", "k", "b"], ":1", false),
        (&["SADD k a"], &["SPOP", "k", "0"], "*0", true),
        (&["SADD k a"], &["SPOP", "k", "1"], "*1\r\n$1\r\na", false),
        (&["SADD k a", "SADD o z"], &["SMOVE", "k", "o", "b"], ":0", true),
        (&["SADD k a", "SADD o a b"], &["SMOVE", "o", "k", "a"], ":1", true),
        (&["SADD k a", "SADD o b"], &["SMOVE", "o", "k", "b"], ":1", false),
        (&["SADD k a b"], &["SMOVE", "k", "o", "a"], ":1", false),
        (&["SADD k a"], &["SMOVE", "k", "k", "a"], ":1", true),
        (&["HSET k f v"], &["HDEL", "k", "g"], ":0", true),
        (&["HSET k f v g w"], &["HDEL", "k", "g"], ":1", false),
        // HSET signals even when it changes nothing.
        (&["HSET k f v"], &["HSET", "k", "f", "v"], ":0", false),
        (&["HSET k f v"], &["HSETNX", "k", "f", "w"], ":0", true),
        (&["HSET k f v"], &["HSETNX", "k", "g", "w"], ":1", false),
        (&["HSET k f 1"], &["HINCRBY", "k", "f", "0"], ":1", false),
        (&["HSET k f x"], &["HINCRBY", "k", "f", "1"], "-ERR hash value is not an integer", true),
        (&["HSET k f x"], &["HINCRBYFLOAT", "k", "f", "1"], "-ERR hash value is not a float", true),
        (&["ZADD k 1 a"], &["ZREM", "k", "b"], ":0", true),
        (&["ZADD k 1 a 2 b"], &["ZREM", "k", "b"], ":1", false),
        (&["ZADD k 1 a"], &["ZADD", "k", "1", "a"], ":0", true),
        (&["ZADD k 1 a"], &["ZADD", "k", "2", "a"], ":0", false),
        (&["ZADD k 1 a"], &["ZADD", "k", "NX", "2", "a"], ":0", true),
        (&["ZADD k 1 a"], &["ZADD", "k", "XX", "2", "b"], ":0", true),
        (&[], &["ZADD", "k", "XX", "2", "b"], ":0", true),
        (&[], &["ZADD", "k", "XX", "INCR", "2", "b"], "$-1", true),
        (&["ZADD k 5 a"], &["ZADD", "k", "GT", "2", "a"], ":0", true),
        (&["ZADD k 5 a"], &["ZADD", "k", "LT", "2", "a"], ":0", false),
        (&["ZADD k 5 a"], &["ZADD", "k", "INCR", "0", "a"], "$1\r\n5", true),
        (&["ZADD k 5 a"], &["ZINCRBY", "k", "0", "a"], "$1\r\n5", true),
        (&["ZADD k 5 a"], &["ZINCRBY", "k", "1", "a"], "$1\r\n6", false),
        (&["ZADD k inf a"], &["ZINCRBY", "k", "-inf", "a"], "-ERR resulting score is not a number (NaN)", true),
        (&["ZADD k 5 a"], &["ZREMRANGEBYSCORE", "k", "6", "7"], ":0", true),
        (&["ZADD k 5 a"], &["ZREMRANGEBYRANK", "k", "3", "4"], ":0", true),
        (&["ZADD k 0 a"], &["ZREMRANGEBYLEX", "k", "[x", "[y"], ":0", true),
        (&["ZADD k 5 a 6 b"], &["ZREMRANGEBYSCORE", "k", "6", "7"], ":1", false),
        (&["ZADD k 5 a"], &["ZPOPMIN", "k", "0"], "*0", true),
        (&["RPUSH k a"], &["LREM", "k", "0", "b"], ":0", true),
        (&["RPUSH k a b"], &["LREM", "k", "0", "b"], ":1", false),
        // LTRIM and LSET signal even when they change nothing.
        (&["RPUSH k a b"], &["LTRIM", "k", "0", "-1"], "+OK", false),
        (&["RPUSH k a"], &["LSET", "k", "0", "a"], "+OK", false),
        (&["RPUSH k a"], &["LSET", "k", "5", "a"], "-ERR index out of range", true),
        (&["RPUSH k a"], &["LINSERT", "k", "BEFORE", "z", "b"], ":-1", true),
        (&["RPUSH k a"], &["LINSERT", "k", "BEFORE", "a", "b"], ":2", false),
        (&["RPUSH k a"], &["LPOP", "k", "0"], "*0", true),
        (&["RPUSH k a b"], &["LPOP", "k", "1"], "*1\r\n$1\r\na", false),
        (&["RPUSH k a"], &["LMOVE", "k", "k", "LEFT", "RIGHT"], "$1\r\na", false),
        (&[], &["LPUSHX", "k", "a"], ":0", true),
        // EXPIRE signals even when the deadline stays; refused, it does not.
        (&["SET k v", "EXPIREAT k 4000000000"], &["EXPIREAT", "k", "4000000000"], ":1", false),
        (&["SET k v", "EXPIREAT k 4000000000"], &["EXPIREAT", "k", "4000000000", "GT"], ":0", true),
        (&["SET k v"], &["EXPIRE", "k", "100", "XX"], ":0", true),
        (&["SET k v"], &["PERSIST", "k"], ":0", true),
        (&["SET k v", "PEXPIREAT k 4000000000000"], &["GETEX", "k", "PXAT", "4000000000000"], "$1\r\nv", false),
    ];
    for threads in [1, 4] {
        let server = Server::start_resp(threads);
        let mut conn = server.connect_resp();
        let mut other = server.connect_resp();
        let mut setup = server.redis(2);
        for shard in 0..threads.min(2) {
            let watched = key_on_shard(&format!("noop{shard}:"), shard, threads);
            let neighbour = key_on_shard(&format!("near{shard}:"), shard, threads);
            // The queue writes a key of another shard.
            let queued = key_on_shard("queued:", (shard + 1) % threads, threads);
            let name = |word: &str| match word {
                "k" => watched.clone(),
                "o" => neighbour.clone(),
                word => word.to_string(),
            };
            for (before, write, reply, runs) in cases {
                let _: () = redis::cmd("FLUSHALL").query(&mut setup).unwrap();
                for step in *before {
                    let words: Vec<String> = step.split(' ').map(name).collect();
                    let _: redis::Value = redis::cmd(&words[0])
                        .arg(&words[1..])
                        .query(&mut setup)
                        .unwrap();
                }
                let words: Vec<String> = write.iter().map(|word| name(word)).collect();
                let words: Vec<&str> = words.iter().map(String::as_str).collect();
                conn.expect(&request(&["WATCH", &watched]), b"+OK\r\n");
                other.expect(&request(&words), format!("{reply}\r\n").as_bytes());
                conn.expect(&request(&["MULTI"]), b"+OK\r\n");
                conn.expect(&request(&["SET", &queued, "1"]), b"+QUEUED\r\n");
                let expected: &[u8] = if *runs { b"*1\r\n+OK\r\n" } else { b"*-1\r\n" };
                conn.send(&request(&["EXEC"]));
                let reply = conn.read_exact(expected.len());
                assert_eq!(
                    String::from_utf8_lossy(&reply),
                    String::from_utf8_lossy(expected),
                    "{threads} threads, watched key on shard {shard}: EXEC after {write:?}"
                );
            }
        }
        server.stop();
    }
}

/// A command's `(calls, rejected_calls, failed_calls)`, by name.
type Counts = Vec<(String, (u64, u64, u64))>;

/// `INFO commandstats`' counts by command, without `info` and `config|…`.
fn command_counts(conn: &mut Conn) -> Counts {
    conn.send(&request(&["INFO", "commandstats"]));
    let header = conn.line();
    let length: usize = header.trim_end()[1..].parse().expect("a bulk reply");
    let text = String::from_utf8(conn.read_exact(length + 2)).unwrap();
    let mut counts: Vec<_> = text
        .lines()
        .filter_map(|line| line.strip_prefix("cmdstat_")?.split_once(':'))
        .filter(|(name, _)| *name != "info" && !name.starts_with("config"))
        .map(|(name, fields)| {
            let field = |wanted: &str| -> u64 {
                fields
                    .split(',')
                    .find_map(|f| f.strip_prefix(wanted)?.strip_prefix('='))
                    .and_then(|value| value.parse().ok())
                    .unwrap_or_else(|| panic!("{wanted} in {fields}"))
            };
            let counts = (
                field("calls"),
                field("rejected_calls"),
                field("failed_calls"),
            );
            (name.to_string(), counts)
        })
        .collect();
    counts.sort();
    counts
}

/// As Redis 7.0.15 (checked against `redis-server`), a command queued in
/// MULTI counts in `INFO commandstats` when EXEC runs it — a call, failed
/// if it answers an error — never when queued nor when discarded or the
/// EXEC aborts; one refused at queue time is a rejected call; EXEC is a
/// call, failed only when it answers EXECABORT itself. On one shard, and
/// with the keys spread over several (a queue run across shards, and one
/// run on copies: SINTERSTORE of two shards' sets).
#[test]
fn commandstats_count_queued_commands_when_exec_runs_them() {
    on_each_topology(|server, [a, b, c]| {
        let mut conn = server.connect_resp();
        let mut other = server.connect_resp();
        let count =
            |name: &str, calls, rejected, failed| (name.to_string(), (calls, rejected, failed));
        type Script<'a> = Vec<Vec<&'a str>>;
        let scenarios: Vec<(&str, Script, Counts)> = vec![
            (
                "run, one command failing",
                vec![
                    vec!["MULTI"],
                    vec!["SET", a, "1"],
                    vec!["INCR", a],
                    vec!["GET", b],
                    vec!["SET", c, "x"],
                    vec!["INCR", c],
                    vec!["EXEC"],
                ],
                vec![
                    count("exec", 1, 0, 0),
                    count("get", 1, 0, 0),
                    count("incr", 2, 0, 1),
                    count("multi", 1, 0, 0),
                    count("set", 2, 0, 0),
                ],
            ),
            (
                "discarded",
                vec![
                    vec!["MULTI"],
                    vec!["SET", a, "1"],
                    vec!["GET", b],
                    vec!["DISCARD"],
                ],
                vec![count("discard", 1, 0, 0), count("multi", 1, 0, 0)],
            ),
            (
                "refused at queue time",
                vec![vec!["MULTI"], vec!["SET", a], vec!["GET", b], vec!["EXEC"]],
                vec![
                    count("exec", 1, 0, 1),
                    count("multi", 1, 0, 0),
                    count("set", 0, 1, 0),
                ],
            ),
            (
                "run on copies",
                vec![
                    vec!["MULTI"],
                    vec!["SADD", a, "x"],
                    vec!["SADD", b, "x"],
                    vec!["SINTERSTORE", c, a, b],
                    vec!["INCR", c],
                    vec!["PING"],
                    vec!["EXEC"],
                ],
                vec![
                    count("exec", 1, 0, 0),
                    count("incr", 1, 0, 1),
                    count("multi", 1, 0, 0),
                    count("ping", 1, 0, 0),
                    count("sadd", 2, 0, 0),
                    count("sinterstore", 1, 0, 0),
                ],
            ),
            (
                "EXEC without MULTI",
                vec![vec!["EXEC"]],
                vec![count("exec", 1, 0, 1)],
            ),
        ];
        for (name, script, expected) in scenarios {
            conn.expect(&request(&["FLUSHALL"]), b"+OK\r\n");
            conn.expect(&request(&["CONFIG", "RESETSTAT"]), b"+OK\r\n");
            for words in &script {
                conn.send(&request(words));
                // Every reply of these scripts is one line, or an array
                // of one-line replies (EXEC's).
                let line = conn.line();
                if let Some(elements) = line.trim_end().strip_prefix('*') {
                    let elements: usize = elements.parse().unwrap();
                    (0..elements).for_each(|_| drop(conn.line()));
                }
            }
            assert_eq!(command_counts(&mut conn), expected, "{name}");
        }
        // Aborted by a watch, across shards and on copies: only EXEC (and
        // the meddling SET) count.
        for queued in [vec!["GET", b], vec!["SINTERSTORE", c, a, b]] {
            conn.expect(&request(&["CONFIG", "RESETSTAT"]), b"+OK\r\n");
            conn.expect(&request(&["WATCH", a]), b"+OK\r\n");
            other.expect(&request(&["SET", a, "2"]), b"+OK\r\n");
            conn.expect(&request(&["MULTI"]), b"+OK\r\n");
            conn.expect(&request(&queued), b"+QUEUED\r\n");
            conn.expect(&request(&["SET", c, "1"]), b"+QUEUED\r\n");
            conn.expect(&request(&["EXEC"]), b"*-1\r\n");
            let expected = vec![
                count("exec", 1, 0, 0),
                count("multi", 1, 0, 0),
                count("set", 1, 0, 0),
                count("watch", 1, 0, 0),
            ];
            assert_eq!(command_counts(&mut conn), expected, "aborted {queued:?}");
        }
    });
}

/// Writes `key` from a fresh connection.
fn conn_write(server: &Server, key: &str) {
    server
        .connect_resp()
        .expect(&request(&["SET", key, "from-elsewhere"]), b"+OK\r\n");
}

#[test]
fn a_watched_key_that_expires_aborts_exec() {
    for threads in [1, 4] {
        let server = Server::start_resp(threads);
        let mut conn = server.connect_resp();
        // The key must still exist when WATCH runs (a loaded machine may be
        // slower than its TTL: then try again).
        let watched_alive = (0..5).any(|_| {
            conn.expect(b"SET soon v PX 200\r\n", b"+OK\r\n");
            conn.expect(b"WATCH soon\r\n", b"+OK\r\n");
            conn.send(b"EXISTS soon\r\n");
            if conn.line().trim_end() == ":1" {
                return true;
            }
            conn.expect(b"UNWATCH\r\n", b"+OK\r\n");
            false
        });
        assert!(watched_alive, "the key outlived WATCH in one of five tries");
        thread::sleep(Duration::from_millis(400));
        conn.expect(b"MULTI\r\n", b"+OK\r\n");
        conn.expect(b"PING\r\n", b"+QUEUED\r\n");
        conn.expect(b"EXEC\r\n", b"*-1\r\n");
        server.stop();
    }
}

#[test]
fn transactions_through_the_redis_crate() {
    for threads in [1, 4] {
        let server = Server::start_resp(threads);
        for protocol in [2, 3] {
            let mut redis = server.redis(protocol);
            let [a, b, c] = keys(&format!("crate{threads}{protocol}"), threads, true);
            let (x, y): (i64, Vec<Option<String>>) = redis::pipe()
                .atomic()
                .set(&a, 10)
                .ignore()
                .incr(&a, 5)
                .set(&b, "bee")
                .ignore()
                .mget(&[&a, &b, &c])
                .query(&mut redis)
                .unwrap();
            assert_eq!(x, 15);
            assert_eq!(y, [Some("15".into()), Some("bee".into()), None]);
            // The crate's optimistic-locking helper: WATCH, read, MULTI…EXEC,
            // retried until EXEC runs.
            let (total,): (i64,) = redis::transaction(&mut redis, &[&a, &c], |conn, pipe| {
                let current: i64 = conn.get(&a)?;
                pipe.set(&c, current * 2).ignore().get(&c).query(conn)
            })
            .unwrap();
            assert_eq!(total, 30);
            let error = redis::pipe()
                .atomic()
                .set(&a, "x")
                .cmd("NOSUCHCOMMAND")
                .query::<()>(&mut redis)
                .unwrap_err();
            assert_eq!(error.code(), Some("EXECABORT"), "{error}");
            let _: () = redis.del(&[&a, &b, &c]).unwrap();
        }
        server.stop();
    }
}

/// Many clients increment counters on every shard with WATCH/MULTI/EXEC
/// (retrying aborted ones); others read them all in one transaction. The
/// final sum is exact, and every transaction's view is consistent: the
/// counters move together.
#[test]
fn concurrent_watched_increments_are_exact_and_isolated() {
    let threads = 4;
    let server = Server::start_resp(threads);
    let counters: Arc<Vec<String>> = Arc::new(
        (0..threads)
            .map(|shard| key_on_shard("counter:", shard, threads))
            .collect(),
    );
    let committed = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut handles = Vec::new();
    for client in 0..6 {
        let mut redis = server.redis(if client % 2 == 0 { 2 } else { 3 });
        let (counters, committed, stop) = (counters.clone(), committed.clone(), stop.clone());
        handles.push(thread::spawn(move || {
            let keys: Vec<&str> = counters.iter().map(String::as_str).collect();
            while !stop.load(Ordering::Relaxed) {
                if client < 4 {
                    // Read-modify-write of every counter, under WATCH.
                    let () = redis::cmd("WATCH").arg(&keys).query(&mut redis).unwrap();
                    let values: Vec<Option<i64>> = redis.mget(&keys).unwrap();
                    let mut pipe = redis::pipe();
                    pipe.atomic();
                    for (key, value) in keys.iter().zip(&values) {
                        pipe.set(key, value.unwrap_or(0) + 1).ignore();
                    }
                    let ran: Option<()> = pipe.query(&mut redis).unwrap();
                    if ran.is_some() {
                        committed.fetch_add(1, Ordering::Relaxed);
                    }
                } else {
                    // INCR of every counter in one transaction, then a
                    // transactional read: all counters are equal.
                    let mut pipe = redis::pipe();
                    pipe.atomic();
                    for key in &keys {
                        pipe.incr(key, 1).ignore();
                    }
                    let () = pipe.query(&mut redis).unwrap();
                    committed.fetch_add(1, Ordering::Relaxed);
                    let mut pipe = redis::pipe();
                    pipe.atomic();
                    for key in &keys {
                        pipe.get(key);
                    }
                    let values: Vec<i64> = pipe.query(&mut redis).unwrap();
                    assert!(
                        values.iter().all(|v| *v == values[0]),
                        "a transaction saw another half done: {values:?}"
                    );
                }
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline && !handles.iter().any(|h| h.is_finished()) {
        thread::sleep(Duration::from_millis(20));
    }
    stop.store(true, Ordering::Relaxed);
    for handle in handles {
        handle.join().expect("a client failed");
    }
    let mut redis = server.redis(2);
    let values: Vec<i64> = redis.mget(&*counters).unwrap();
    let expected = committed.load(Ordering::Relaxed) as i64;
    assert!(expected > 0);
    assert_eq!(
        values,
        vec![expected; threads],
        "every committed increment, once"
    );
    server.stop();
}

#[test]
fn a_closed_connection_leaves_no_watch_behind() {
    let threads = 4;
    let server = Server::start_resp(threads);
    let keys: Vec<String> = (0..threads)
        .map(|shard| key_on_shard("left:", shard, threads))
        .collect();
    for _ in 0..20 {
        let mut conn = server.connect_resp();
        let mut words = vec!["WATCH"];
        words.extend(keys.iter().map(String::as_str));
        conn.expect(&request(&words), b"+OK\r\n");
        conn.expect(&request(&["MULTI"]), b"+OK\r\n");
        conn.expect(&request(&["SET", &keys[0], "x"]), b"+QUEUED\r\n");
    }
    // Watches live as long as their connections: INFO counts them.
    let mut redis = server.redis(2);
    let field = |info: &str, name: &str| -> u64 {
        info.lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("INFO clients has {name}"))
    };
    let mut watching = (u64::MAX, u64::MAX);
    for _ in 0..100 {
        let info: String = redis::cmd("INFO").arg("clients").query(&mut redis).unwrap();
        watching = (
            field(&info, "watching_clients:"),
            field(&info, "total_watched_keys:"),
        );
        if watching == (0, 0) {
            break;
        }
        thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(watching, (0, 0), "watching clients and watched keys");
    server.stop();
}

#[test]
fn client_list_shows_an_open_transaction() {
    for threads in [1, 4] {
        let server = Server::start_resp(threads);
        let mut conn = server.connect_resp();
        conn.expect(b"CLIENT SETNAME txn\r\n", b"+OK\r\n");
        conn.expect(b"MULTI\r\n", b"+OK\r\n");
        conn.expect(b"SET a 1\r\n", b"+QUEUED\r\n");
        conn.expect(b"GET a\r\n", b"+QUEUED\r\n");
        let mut redis = server.redis(2);
        let line = |redis: &mut redis::Connection| -> String {
            let list: String = redis::cmd("CLIENT").arg("LIST").query(redis).unwrap();
            list.lines()
                .find(|line| line.contains(" name=txn "))
                .expect("the client in MULTI is listed")
                .to_string()
        };
        let open = line(&mut redis);
        assert!(open.contains(" flags=x "), "{open}");
        assert!(open.contains(" multi=2 "), "{open}");
        assert!(!open.contains(" multi-mem=0 "), "{open}");
        conn.expect(b"EXEC\r\n", b"*2\r\n+OK\r\n$1\r\n1\r\n");
        let closed = line(&mut redis);
        assert!(closed.contains(" flags=N "), "{closed}");
        assert!(closed.contains(" multi=-1 "), "{closed}");
        assert!(closed.contains(" multi-mem=0 "), "{closed}");
        server.stop();
    }
}

/// A queued command reading keys on two shards, the first on the
/// connection's own shard, followed by a read of its result: the read sees
/// it, whichever shard the connection is on (each shard takes a turn at
/// holding the first key).
#[test]
fn a_queued_command_over_two_shards_runs_in_queue_order() {
    let threads = 4;
    let server = Server::start_resp(threads);
    let mut conn = server.connect_resp();
    for shard in 0..threads {
        let a = key_on_shard(&format!("first{shard}:"), shard, threads);
        let b = key_on_shard(&format!("second{shard}:"), (shard + 1) % threads, threads);
        conn.expect(&request(&["SADD", &b, "x", "y"]), b":2\r\n");
        conn.expect(&request(&["MULTI"]), b"+OK\r\n");
        conn.expect(&request(&["SUNIONSTORE", &a, &b]), b"+QUEUED\r\n");
        conn.expect(&request(&["SCARD", &a]), b"+QUEUED\r\n");
        conn.expect(&request(&["SADD", &a, "z"]), b"+QUEUED\r\n");
        conn.expect(&request(&["EXEC"]), b"*3\r\n:2\r\n:2\r\n:1\r\n");
        conn.expect(&request(&["SCARD", &a]), b":3\r\n");
    }
    server.stop();
}

/// `MULTI`, a write, `PUBLISH`, `EXEC` (Redis's write-and-notify idiom):
/// the message reaches the subscriber with the receivers counted, whichever
/// shard the written key lives on.
#[test]
fn publish_inside_a_transaction_reaches_subscribers() {
    for threads in [1, 4] {
        let server = Server::start_resp(threads);
        let mut subscriber = server.connect_resp();
        subscriber.expect(
            b"SUBSCRIBE news\r\n",
            b"*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n",
        );
        let mut conn = server.connect_resp();
        for shard in 0..threads {
            let key = key_on_shard(&format!("pub{shard}:"), shard, threads);
            conn.expect(&request(&["MULTI"]), b"+OK\r\n");
            conn.expect(&request(&["SET", &key, "v"]), b"+QUEUED\r\n");
            conn.expect(&request(&["PUBLISH", "news", &key]), b"+QUEUED\r\n");
            conn.expect(&request(&["EXEC"]), b"*2\r\n+OK\r\n:1\r\n");
            let message = format!("*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n{}", bulk(&key));
            subscriber.expect(b"", message.as_bytes());
        }
        server.stop();
    }
}

/// PUBSUB NUMSUB, NUMPAT and CHANNELS and PUBLISH in an EXEC whose keys
/// are on several shards — run across them, and on copies (SINTERSTORE of
/// two shards' sets) — answer with every shard's subscribers, as Redis
/// 7.0.15 does (checked against `redis-server`), and the messages reach
/// subscribers on every shard.
#[test]
fn pubsub_in_a_transaction_across_shards_sees_every_shard() {
    on_each_topology(|server, [a, b, c]| {
        let mut subscribers: Vec<Conn> = (0..6).map(|_| server.connect_resp()).collect();
        for (n, subscriber) in subscribers.iter_mut().enumerate() {
            if n < 4 {
                subscriber.expect(
                    &request(&["SUBSCRIBE", "news"]),
                    b"*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n",
                );
            } else {
                subscriber.expect(
                    &request(&["PSUBSCRIBE", "n*"]),
                    b"*3\r\n$10\r\npsubscribe\r\n$2\r\nn*\r\n:1\r\n",
                );
            }
        }
        let mut conn = server.connect_resp();
        let scripts: [(Vec<Vec<&str>>, &str); 2] = [
            (
                vec![
                    vec!["SET", a, "1"],
                    vec!["SET", b, "2"],
                    vec!["PUBSUB", "NUMSUB", "news", "none"],
                    vec!["PUBSUB", "NUMPAT"],
                    vec!["PUBSUB", "CHANNELS"],
                    vec!["PUBSUB", "CHANNELS", "x*"],
                    vec!["PUBLISH", "news", "m1"],
                ],
                "*7\r\n+OK\r\n+OK\r\n*4\r\n$4\r\nnews\r\n:4\r\n$4\r\nnone\r\n:0\r\n\
                 :1\r\n*1\r\n$4\r\nnews\r\n*0\r\n:6\r\n",
            ),
            (
                vec![
                    vec!["SADD", a, "x"],
                    vec!["SADD", b, "x"],
                    vec!["SINTERSTORE", c, a, b],
                    vec!["PUBLISH", "news", "m2"],
                    vec!["PUBSUB", "NUMSUB", "news"],
                    vec!["PUBSUB", "NUMPAT"],
                    vec!["SMEMBERS", c],
                ],
                "*7\r\n:1\r\n:1\r\n:1\r\n:6\r\n*2\r\n$4\r\nnews\r\n:4\r\n:1\r\n*1\r\n$1\r\nx\r\n",
            ),
        ];
        for (round, (queue, reply)) in scripts.iter().enumerate() {
            conn.expect(&request(&["FLUSHALL"]), b"+OK\r\n");
            conn.expect(&request(&["MULTI"]), b"+OK\r\n");
            for words in queue {
                conn.expect(&request(words), b"+QUEUED\r\n");
            }
            conn.expect(&request(&["EXEC"]), reply.as_bytes());
            let message = format!("m{}", round + 1);
            for (n, subscriber) in subscribers.iter_mut().enumerate() {
                let expected = if n < 4 {
                    format!("*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n{}", bulk(&message))
                } else {
                    format!(
                        "*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n{}",
                        bulk(&message)
                    )
                };
                subscriber.expect(b"", expected.as_bytes());
            }
        }
    });
}

/// Commands that touch no key, queued with keyed commands on two shards
/// (run on their shards, or on copies when one command moves between
/// them): they run once the keyed ones have, in queue order, ask every
/// shard as outside a transaction (`CLIENT LIST`, `CLIENT KILL`, `CONFIG
/// RESETSTAT`), and do not run at all when a watch aborts the `EXEC`.
#[test]
fn keyless_commands_in_a_transaction_across_shards_run_only_if_it_runs() {
    use redis::Value;
    let threads = 4;
    let server = Server::start_resp(threads);
    let mut conn = server.redis(2);
    let mut other = server.redis(2);
    let id: i64 = redis::cmd("CLIENT").arg("ID").query(&mut conn).unwrap();
    let (a, b) = (
        key_on_shard("a:", 0, threads),
        key_on_shard("b:", 1, threads),
    );
    let watched = key_on_shard("w:", 2, threads);
    let keyed = |pipe: &mut redis::Pipeline, gathered: bool| {
        if gathered {
            pipe.cmd("RPUSH")
                .arg(&a)
                .arg("x")
                .cmd("LMOVE")
                .arg(&a)
                .arg(&b);
            pipe.arg("LEFT").arg("LEFT");
        } else {
            pipe.cmd("SET").arg(&a).arg("1").cmd("SET").arg(&b).arg("2");
        }
    };
    for gathered in [false, true] {
        let _: () = redis::cmd("FLUSHALL").query(&mut conn).unwrap();
        let _: () = redis::cmd("CLIENT")
            .arg("SETNAME")
            .arg("before")
            .query(&mut conn)
            .unwrap();
        // Aborted by the watch: the name stays.
        let _: () = redis::cmd("WATCH").arg(&watched).query(&mut conn).unwrap();
        let _: () = redis::cmd("SET")
            .arg(&watched)
            .arg("x")
            .query(&mut other)
            .unwrap();
        let mut pipe = redis::pipe();
        pipe.atomic().cmd("CLIENT").arg("SETNAME").arg("aborted");
        keyed(&mut pipe, gathered);
        let reply: Value = pipe.query(&mut conn).unwrap();
        assert_eq!(reply, Value::Nil, "gathered: {gathered}");
        let name: String = redis::cmd("CLIENT")
            .arg("GETNAME")
            .query(&mut conn)
            .unwrap();
        assert_eq!(name, "before", "gathered: {gathered}");
        assert_eq!(
            redis::cmd("EXISTS")
                .arg(&a)
                .query::<i64>(&mut conn)
                .unwrap(),
            0
        );

        // Run: every keyless command answers in its place.
        let mut victim = server.redis(2);
        let victim_id: i64 = redis::cmd("CLIENT").arg("ID").query(&mut victim).unwrap();
        let name = format!("ran{}", gathered as u8);
        let mut pipe = redis::pipe();
        pipe.atomic().cmd("CLIENT").arg("SETNAME").arg(&name);
        keyed(&mut pipe, gathered);
        pipe.cmd("CLIENT").arg("GETNAME");
        pipe.cmd("CLIENT").arg("LIST").arg("ID").arg(id);
        pipe.cmd("CLIENT").arg("KILL").arg("ID").arg(victim_id);
        pipe.cmd("CONFIG").arg("RESETSTAT").cmd("PING");
        let replies: Vec<Value> = pipe.query(&mut conn).unwrap();
        assert_eq!(replies.len(), 8, "{replies:?}");
        assert_eq!(replies[0], Value::Okay);
        assert_eq!(replies[3], Value::BulkString(name.clone().into_bytes()));
        let listed = match &replies[4] {
            Value::BulkString(bytes) => String::from_utf8_lossy(bytes).into_owned(),
            other => panic!("CLIENT LIST answered {other:?}"),
        };
        assert!(listed.contains(&format!("id={id} ")), "{listed}");
        assert!(listed.contains(&format!(" name={name} ")), "{listed}");
        assert_eq!(replies[5], Value::Int(1), "CLIENT KILL ID {victim_id}");
        assert_eq!(replies[6], Value::Okay);
        assert_eq!(replies[7], Value::SimpleString("PONG".into()));
        assert!(redis::cmd("PING").query::<String>(&mut victim).is_err());
        let moved: String = match gathered {
            true => redis::cmd("LINDEX").arg(&b).arg(0).query(&mut conn),
            false => redis::cmd("GET").arg(&b).query(&mut conn),
        }
        .unwrap();
        assert_eq!(moved, if gathered { "x" } else { "2" });
    }
    server.stop();
}
