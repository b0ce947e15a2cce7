//! Commands that read several keys together — SINTERSTORE, SMOVE, LMOVE,
//! LMPOP, ZUNIONSTORE, ZMPOP… — with their keys on different shards
//! answer exactly as with keys on one shard (as Redis, which has one
//! keyspace; the one-shard replies are checked against `redis-server` in
//! the type suites, and this script's against Redis 7.0.15 too). Each
//! script runs twice on four shards: keys of one `{hash tag}`, and keys
//! spread over three shards; the replies must be the same bytes.

mod common;

use common::Server;
use corecache::shard::SlotMap;

/// The script: `A`, `B`, `C`, `D` stand for the keys.
const SCRIPT: &[&str] = &[
    "SADD A a b c d",
    "SADD B c d e",
    "SADD C d e f",
    "SINTERCARD 3 A B C",
    "SINTERCARD 3 A B C LIMIT 1",
    "SINTERSTORE D A B",
    "SMISMEMBER D a b c d e",
    "SUNIONSTORE D A B C",
    "SCARD D",
    "SDIFFSTORE D A B C",
    "SMISMEMBER D a b c",
    "SMOVE A C a",
    "SMOVE A C zz",
    "SISMEMBER C a",
    "SCARD A",
    "SINTERSTORE D A nosuch",
    "EXISTS D",
    "SET D str",
    "SINTER A D",
    "SMOVE D A x",
    "SUNIONSTORE D A B",
    "TYPE D",
    "DEL A B C D",
    "RPUSH A 1 2 3",
    "RPUSH B x",
    "LMOVE A B LEFT RIGHT",
    "LMOVE A B RIGHT LEFT",
    "LRANGE A 0 -1",
    "LRANGE B 0 -1",
    "RPOPLPUSH A C",
    "LRANGE C 0 -1",
    "EXISTS A",
    "LMOVE nosuch B LEFT LEFT",
    "LMPOP 3 A B C RIGHT COUNT 2",
    "LMPOP 2 A nosuch LEFT",
    "LMPOP 2 A B UP",
    "SET D str",
    "LMOVE B D LEFT LEFT",
    "LRANGE B 0 -1",
    "DEL A B C D",
    "ZADD A 1 a 2 b 3 c",
    "ZADD B 10 b 20 c 30 d",
    "ZUNION 2 A B WITHSCORES",
    "ZINTER 2 A B WEIGHTS 2 3 AGGREGATE MAX WITHSCORES",
    "ZDIFF 2 A B WITHSCORES",
    "ZUNIONSTORE D 2 A B",
    "ZRANGE D 0 -1 WITHSCORES",
    "ZINTERSTORE D 2 A B AGGREGATE MIN",
    "ZRANGE D 0 -1 WITHSCORES",
    "ZDIFFSTORE D 2 B A",
    "ZRANGE D 0 -1 WITHSCORES",
    "ZINTERCARD 2 A B",
    "ZINTERCARD 2 A B LIMIT 1",
    "ZRANGESTORE D A 0 1",
    "ZRANGE D 0 -1 WITHSCORES",
    "ZRANGESTORE D A (5 +inf BYSCORE",
    "EXISTS D",
    "ZMPOP 2 C A MIN COUNT 2",
    "ZMPOP 2 C B MAX",
    "ZRANGE A 0 -1",
    "ZUNION 0 A",
    "ZUNION 2 A",
    "SET C str",
    "ZUNION 2 A C",
    "ZUNIONSTORE D 2 C A",
    "DEL A B C D",
];

/// Four keys for `A`…`D`, all of length 5: on one shard (a hash tag), or
/// on shards 0, 1, 2 and 3.
fn names(spread: bool) -> Vec<String> {
    if !spread {
        return (0..4).map(|i| format!("{{T}}0{i}")).collect();
    }
    let slots = SlotMap::new(4);
    (0..4)
        .map(|shard| {
            (0..)
                .map(|i| format!("k{i:04}"))
                .find(|key| slots.shard_of(key.as_bytes()) == shard)
                .expect("a key on every shard")
        })
        .collect()
}

/// The script's request lines with `names` for the keys.
fn requests(names: &[String]) -> Vec<String> {
    SCRIPT
        .iter()
        .map(|line| {
            let words: Vec<&str> = line
                .split(' ')
                .map(|word| match word {
                    "A" => &names[0],
                    "B" => &names[1],
                    "C" => &names[2],
                    "D" => &names[3],
                    _ => word,
                })
                .collect();
            let mut out = format!("*{}\r\n", words.len());
            for word in words {
                out.push_str(&format!("${}\r\n{word}\r\n", word.len()));
            }
            out
        })
        .collect()
}

/// Sends every request and reads the replies (the connection ends with a
/// marker reply, so the reading knows when to stop).
fn replies(server: &Server, requests: &[String]) -> Vec<u8> {
    let mut conn = server.connect_resp();
    let mut all = String::new();
    for request in requests {
        all.push_str(request);
    }
    all.push_str("*2\r\n$4\r\nECHO\r\n$3\r\nEND\r\n");
    conn.send(all.as_bytes());
    conn.read_until(b"$3\r\nEND\r\n")
}

/// The script's requests in transactions of `size` requests each.
fn in_transactions(requests: Vec<String>, size: usize) -> Vec<String> {
    let mut out = Vec::new();
    for chunk in requests.chunks(size) {
        out.push("*1\r\n$5\r\nMULTI\r\n".to_string());
        out.extend_from_slice(chunk);
        out.push("*1\r\n$4\r\nEXEC\r\n".to_string());
    }
    out
}

#[test]
fn multi_key_commands_across_shards_answer_as_on_one_shard() {
    same_replies_on_one_shard_and_spread(|requests| requests);
}

#[test]
fn transactions_across_shards_answer_as_on_one_shard() {
    for size in [1, 7, SCRIPT.len()] {
        same_replies_on_one_shard_and_spread(|requests| in_transactions(requests, size));
    }
}

/// Runs the script (as `arrange` arranges its requests) with keys on one
/// shard and spread, and compares the replies.
fn same_replies_on_one_shard_and_spread(arrange: impl Fn(Vec<String>) -> Vec<String>) {
    let server = Server::start_resp(4);
    let (one, spread) = (names(false), names(true));
    let on_one = replies(&server, &arrange(requests(&one)));
    let mut across = replies(&server, &arrange(requests(&spread)));
    // The replies name keys (LMPOP, ZMPOP): write them as the other names.
    for (from, to) in spread.iter().zip(&one) {
        let from = from.as_bytes();
        let mut at = 0;
        while let Some(found) = across[at..].windows(from.len()).position(|w| w == from) {
            across[at + found..at + found + from.len()].copy_from_slice(to.as_bytes());
            at += found + from.len();
        }
    }
    let (on_one, across) = (
        String::from_utf8_lossy(&on_one),
        String::from_utf8_lossy(&across),
    );
    for (line, (expected, got)) in on_one.split("\r\n").zip(across.split("\r\n")).enumerate() {
        assert_eq!(got, expected, "reply line {line}:\n{on_one}\n---\n{across}");
    }
    assert_eq!(on_one, across);
    server.stop();
}

/// Members move between sets and lists on four shards (SMOVE, LMOVE,
/// RPOPLPUSH, ZUNIONSTORE over them) while other clients count them in
/// one transaction: the totals never change, whatever interleaving.
#[test]
fn concurrent_moves_across_shards_never_lose_or_duplicate() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::thread;
    use std::time::{Duration, Instant};

    let server = Server::start_resp(4);
    let keys = Arc::new(names(true));
    let members = 40;
    let mut setup = server.redis(2);
    for (i, key) in keys.iter().enumerate() {
        let set: Vec<String> = (0..members / 4).map(|m| format!("m{i}-{m}")).collect();
        let _: i64 = redis::cmd("SADD")
            .arg(key)
            .arg(&set)
            .query(&mut setup)
            .unwrap();
        let list_key = format!("{key}:list");
        let _: i64 = redis::cmd("RPUSH")
            .arg(&list_key)
            .arg(&set)
            .query(&mut setup)
            .unwrap();
    }
    let stop = Arc::new(AtomicBool::new(false));
    let handles: Vec<_> = (0..6)
        .map(|client| {
            let mut redis = server.redis(if client % 2 == 0 { 2 } else { 3 });
            let (keys, stop) = (keys.clone(), stop.clone());
            thread::spawn(move || {
                let mut round = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    round += 1;
                    let (from, to) = ((round + client) % 4, (round * 3 + client + 1) % 4);
                    if client < 3 {
                        let member = format!("m{}-{}", (round + client) % 4, round % (members / 4));
                        let _: i64 = redis::cmd("SMOVE")
                            .arg(&keys[from])
                            .arg(&keys[to])
                            .arg(&member)
                            .query(&mut redis)
                            .unwrap();
                        let (source, destination) =
                            (format!("{}:list", keys[from]), format!("{}:list", keys[to]));
                        let _: Option<String> =
                            redis::cmd(if round % 2 == 0 { "LMOVE" } else { "RPOPLPUSH" })
                                .arg(&source)
                                .arg(&destination)
                                .arg(if round % 2 == 0 {
                                    &["LEFT", "RIGHT"][..]
                                } else {
                                    &[][..]
                                })
                                .query(&mut redis)
                                .unwrap();
                    } else {
                        let mut pipe = redis::pipe();
                        pipe.atomic();
                        for key in keys.iter() {
                            pipe.cmd("SCARD").arg(key);
                            pipe.cmd("LLEN").arg(format!("{key}:list"));
                        }
                        let counts: Vec<i64> = pipe.query(&mut redis).unwrap();
                        let sets: i64 = counts.iter().step_by(2).sum();
                        let lists: i64 = counts.iter().skip(1).step_by(2).sum();
                        assert_eq!(
                            (sets, lists),
                            (members as i64, members as i64),
                            "{counts:?}"
                        );
                        let union: i64 = redis::cmd("SUNIONSTORE")
                            .arg(format!("{}:union", keys[client % 4]))
                            .arg(&*keys)
                            .query(&mut redis)
                            .unwrap();
                        assert_eq!(union, members as i64);
                    }
                }
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline && !handles.iter().any(|h| h.is_finished()) {
        thread::sleep(Duration::from_millis(20));
    }
    stop.store(true, Ordering::Relaxed);
    for handle in handles {
        handle.join().expect("a client saw members lost or doubled");
    }
    server.stop();
}
