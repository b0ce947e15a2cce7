//! Multi-key commands whose keys live on different shards, over real TCP:
//! what they reply (as Redis), and that they are atomic — concurrent
//! clients never observe half of an `MSET`, a `RENAME` or an `MSETNX`.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::{key_on_shard, Server};
use redis::{Commands, RedisError, RedisResult};

/// An error reply as Redis words it (`ERR no such key`).
fn text(error: RedisError) -> String {
    format!(
        "{} {}",
        error.code().unwrap_or("?"),
        error.detail().unwrap_or("")
    )
}

/// One key on each of `shards` shards (all on one when `shards` is 1).
fn keys_across(prefix: &str, shards: usize) -> Vec<String> {
    (0..3)
        .map(|i| key_on_shard(&format!("{prefix}{i}:"), i % shards, shards))
        .collect()
}

#[test]
fn multi_key_commands_across_shards_reply_as_redis() {
    for threads in [1, 3] {
        let server = Server::start_resp(threads);
        let mut redis = server.redis(2);
        let keys = keys_across("k", threads);
        let (a, b, c) = (&keys[0], &keys[1], &keys[2]);

        let _: () = redis.mset(&[(a, "1"), (b, "2"), (c, "3")]).unwrap();
        let values: Vec<Option<String>> = redis.mget(&[a, "missing", b, c]).unwrap();
        assert_eq!(
            values,
            [Some("1"), None, Some("2"), Some("3")].map(|v| v.map(String::from))
        );
        let exists: i64 = redis.exists(&[a, b, c, a, "missing"]).unwrap();
        assert_eq!(exists, 4);
        let touched: i64 = redis::cmd("TOUCH")
            .arg(&[a, b, "missing"])
            .query(&mut redis)
            .unwrap();
        assert_eq!(touched, 2);

        // MSETNX sets all or nothing.
        let set: i64 = redis::cmd("MSETNX")
            .arg(&[a, "9", "fresh", "9"])
            .query(&mut redis)
            .unwrap();
        assert_eq!(set, 0);
        let fresh: Option<String> = redis.get("fresh").unwrap();
        assert_eq!(fresh, None);
        let new_keys = keys_across("n", threads);
        let set: i64 = redis::cmd("MSETNX")
            .arg(&[&new_keys[0], "x", &new_keys[1], "y", &new_keys[2], "z"])
            .query(&mut redis)
            .unwrap();
        assert_eq!(set, 1);
        let values: Vec<String> = redis.mget(&new_keys).unwrap();
        assert_eq!(values, ["x", "y", "z"]);

        // RENAME keeps the value and the TTL, and replaces the destination.
        let _: () = redis.pset_ex(a, "moving", 100_000).unwrap();
        let _: () = redis.rename(a, b).unwrap();
        let moved: Option<String> = redis.get(b).unwrap();
        assert_eq!(moved.as_deref(), Some("moving"));
        let gone: Option<String> = redis.get(a).unwrap();
        assert_eq!(gone, None);
        let ttl: i64 = redis.pttl(b).unwrap();
        assert!((90_000..=100_000).contains(&ttl), "ttl {ttl}");
        let error: RedisResult<()> = redis.rename(a, c);
        assert_eq!(text(error.unwrap_err()), "ERR no such key");

        let renamed: i64 = redis.rename_nx(b, c).unwrap();
        assert_eq!(renamed, 0);
        let renamed: i64 = redis.rename_nx(b, a).unwrap();
        assert_eq!(renamed, 1);

        // COPY: 0 onto an existing key without REPLACE, 0 from nothing.
        let copied: i64 = redis::cmd("COPY").arg(&[a, c]).query(&mut redis).unwrap();
        assert_eq!(copied, 0);
        let copied: i64 = redis::cmd("COPY")
            .arg(&[a, c, "REPLACE"])
            .query(&mut redis)
            .unwrap();
        assert_eq!(copied, 1);
        let both: Vec<String> = redis.mget(&[a, c]).unwrap();
        assert_eq!(both, ["moving", "moving"]);
        let copied: i64 = redis::cmd("COPY")
            .arg(&["missing", c])
            .query(&mut redis)
            .unwrap();
        assert_eq!(copied, 0);
        let error: RedisResult<i64> = redis::cmd("COPY")
            .arg(&[a, c, "DB", "16"])
            .query(&mut redis);
        assert_eq!(text(error.unwrap_err()), "ERR DB index is out of range");
        let error: RedisResult<i64> = redis::cmd("COPY").arg(&[a, a]).query(&mut redis);
        assert_eq!(
            text(error.unwrap_err()),
            "ERR source and destination objects are the same"
        );

        let deleted: i64 = redis.del(&[a, b, c, a]).unwrap();
        assert_eq!(deleted, 2);
        let error: RedisResult<()> = redis::cmd("MSET").arg(&[a, "1", b]).query(&mut redis);
        assert_eq!(
            text(error.unwrap_err()),
            "ERR wrong number of arguments for 'mset' command"
        );
        server.stop();
    }
}

#[test]
fn pipelined_requests_after_a_cross_shard_command_see_its_effect() {
    let server = Server::start_resp(3);
    let mut redis = server.redis(3);
    let keys = keys_across("p", 3);
    let mut pipe = redis::pipe();
    for round in 0..50 {
        let value = format!("v{round}");
        pipe.mset(&[(&keys[0], &value), (&keys[1], &value), (&keys[2], &value)]);
        pipe.get(&keys[2]).get(&keys[0]);
    }
    let replies: Vec<redis::Value> = pipe.query(&mut redis).unwrap();
    for (round, chunk) in replies.chunks(3).enumerate() {
        let expected = redis::Value::BulkString(format!("v{round}").into_bytes());
        assert_eq!(chunk[1], expected);
        assert_eq!(chunk[2], expected);
    }
    server.stop();
}

/// Runs `work` on `clients` connections for about `for_how_long`, each
/// with its own client number, until one fails or time is up.
fn hammer(
    server: &Server,
    clients: usize,
    for_how_long: Duration,
    work: impl Fn(usize, &mut redis::Connection) + Send + Sync + 'static,
) {
    let work = Arc::new(work);
    let stop = Arc::new(AtomicBool::new(false));
    let handles: Vec<_> = (0..clients)
        .map(|client| {
            let mut redis = server.redis(if client % 2 == 0 { 2 } else { 3 });
            let (work, stop) = (work.clone(), stop.clone());
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    work(client, &mut redis);
                }
            })
        })
        .collect();
    let deadline = Instant::now() + for_how_long;
    while Instant::now() < deadline && !handles.iter().any(|h| h.is_finished()) {
        thread::sleep(Duration::from_millis(20));
    }
    stop.store(true, Ordering::Relaxed);
    for handle in handles {
        handle
            .join()
            .expect("a client saw a torn multi-key command");
    }
}

#[test]
fn concurrent_mget_never_sees_a_torn_mset() {
    let server = Server::start_resp(3);
    let keys: Vec<String> = (0..6)
        .map(|i| key_on_shard(&format!("torn{i}:"), i % 3, 3))
        .collect();
    let mut setup = server.redis(2);
    let pairs: Vec<(&String, &str)> = keys.iter().map(|k| (k, "start")).collect();
    let _: () = setup.mset(&pairs).unwrap();
    let keys = Arc::new(keys);
    let mut round = vec![0u64; 8];
    let rounds = Arc::new(std::sync::Mutex::new(std::mem::take(&mut round)));
    hammer(&server, 8, Duration::from_secs(3), move |client, redis| {
        if client < 3 {
            let value = {
                let mut rounds = rounds.lock().unwrap();
                rounds[client] += 1;
                format!("writer{client}:{}", rounds[client])
            };
            let pairs: Vec<(&String, &String)> = keys.iter().map(|k| (k, &value)).collect();
            let _: () = redis.mset(&pairs).unwrap();
        } else {
            let values: Vec<String> = redis.mget(&*keys).unwrap();
            assert!(
                values.iter().all(|v| *v == values[0]),
                "torn MSET seen by MGET: {values:?}"
            );
        }
    });
    server.stop();
}

#[test]
fn concurrent_renames_keep_exactly_one_key() {
    let server = Server::start_resp(3);
    let a = key_on_shard("ping:", 0, 3);
    let b = key_on_shard("pong:", 2, 3);
    let mut setup = server.redis(2);
    let _: () = setup.set(&a, "ball").unwrap();
    hammer(&server, 6, Duration::from_secs(3), move |client, redis| {
        if client < 2 {
            // Either direction may fail with "no such key": the ball is
            // on the other side.
            let _: RedisResult<()> = redis.rename(&a, &b);
            let _: RedisResult<()> = redis.rename(&b, &a);
        } else {
            let exists: i64 = redis.exists(&[&a, &b]).unwrap();
            assert_eq!(exists, 1, "RENAME seen half done");
            let values: Vec<Option<String>> = redis.mget(&[&a, &b]).unwrap();
            let present: Vec<_> = values.iter().flatten().collect();
            assert_eq!(present, ["ball"], "RENAME seen half done: {values:?}");
        }
    });
    server.stop();
}

#[test]
fn exactly_one_of_concurrent_msetnx_wins_and_all_its_keys_are_set() {
    let server = Server::start_resp(3);
    let mut check = server.redis(2);
    for round in 0..20 {
        let keys: Vec<String> = (0..3)
            .map(|i| key_on_shard(&format!("race{round}:{i}:"), i, 3))
            .collect();
        let keys = Arc::new(keys);
        let handles: Vec<_> = (0..6)
            .map(|client| {
                let mut redis = server.redis(2);
                let keys = keys.clone();
                thread::spawn(move || {
                    let value = format!("client{client}");
                    let args: Vec<&str> = keys.iter().flat_map(|k| [k.as_str(), &value]).collect();
                    let won: i64 = redis::cmd("MSETNX").arg(&args).query(&mut redis).unwrap();
                    won
                })
            })
            .collect();
        let wins: i64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(wins, 1, "round {round}");
        let values: Vec<String> = check.mget(&*keys).unwrap();
        assert!(values.iter().all(|v| *v == values[0]), "{values:?}");
    }
    server.stop();
}

#[test]
fn bitop_and_lcs_read_keys_on_every_shard() {
    let server = Server::start_resp(3);
    let mut redis = server.redis(2);
    let keys = keys_across("b", 3);
    let destination = key_on_shard("dest:", 1, 3);
    let _: () = redis.set(&keys[0], "ohmytext").unwrap();
    let _: () = redis.set(&keys[2], "mynewtext").unwrap();
    let lcs: String = redis::cmd("LCS")
        .arg(&keys[0])
        .arg(&keys[2])
        .query(&mut redis)
        .unwrap();
    assert_eq!(lcs, "mytext");
    let len: i64 = redis::cmd("LCS")
        .arg(&keys[0])
        .arg(&keys[2])
        .arg("LEN")
        .query(&mut redis)
        .unwrap();
    assert_eq!(len, 6);
    let _: () = redis.set(&keys[0], [0b1111_0000u8].as_slice()).unwrap();
    let _: () = redis
        .set(&keys[2], [0b1010_1010u8, 0xff].as_slice())
        .unwrap();
    let len: i64 = redis::cmd("BITOP")
        .arg(&["AND", &destination, &keys[0], &keys[1], &keys[2]])
        .query(&mut redis)
        .unwrap();
    assert_eq!(
        len, 2,
        "the longest source; the missing one counts as zeros"
    );
    let and: Vec<u8> = redis.get(&destination).unwrap();
    assert_eq!(and, [0, 0]);
    let len: i64 = redis::cmd("BITOP")
        .arg(&["OR", &destination, &keys[0], &keys[2]])
        .query(&mut redis)
        .unwrap();
    assert_eq!(len, 2);
    let or: Vec<u8> = redis.get(&destination).unwrap();
    assert_eq!(or, [0b1111_1010, 0xff]);
    // An empty result deletes the destination.
    let len: i64 = redis::cmd("BITOP")
        .arg(&["NOT", &destination, &keys[1]])
        .query(&mut redis)
        .unwrap();
    assert_eq!(len, 0);
    let exists: i64 = redis.exists(&destination).unwrap();
    assert_eq!(exists, 0);
    let error: RedisResult<i64> = redis::cmd("BITOP")
        .arg(&["NOT", &destination, &keys[0], &keys[2]])
        .query(&mut redis);
    assert_eq!(
        text(error.unwrap_err()),
        "ERR BITOP NOT must be called with a single source key."
    );
    server.stop();
}
