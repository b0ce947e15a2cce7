//! RESP databases over real TCP: SELECT keeps keyspaces apart, the
//! memcached protocol sees database 0, and FLUSHDB, SWAPDB, MOVE and
//! `COPY … DB` act on the databases they name, on one shard and three.

mod common;

use common::{key_on_shard, Options, Server};
use redis::{Commands, RedisError, RedisResult};

/// An error reply as Redis words it.
fn text(error: RedisError) -> String {
    format!(
        "{} {}",
        error.code().unwrap_or("?"),
        error.detail().unwrap_or("")
    )
}

fn select(redis: &mut redis::Connection, db: u32) {
    let _: () = redis::cmd("SELECT").arg(db).query(redis).unwrap();
}

fn dbsize(redis: &mut redis::Connection) -> i64 {
    redis::cmd("DBSIZE").query(redis).unwrap()
}

#[test]
fn databases_are_separate_keyspaces_and_memcached_sees_database_0() {
    for threads in [1, 3] {
        let server = Server::with(Options {
            threads,
            resp: true,
            ..Options::default()
        });
        let mut redis = server.redis(2);
        let keys: Vec<String> = (0..threads)
            .map(|shard| key_on_shard("db:", shard, threads))
            .collect();
        for key in &keys {
            let _: () = redis.set(key, "zero").unwrap();
        }
        select(&mut redis, 1);
        let missing: Option<String> = redis.get(&keys[0]).unwrap();
        assert_eq!(missing, None);
        for key in &keys {
            let _: () = redis.set(key, "one").unwrap();
        }
        let _: () = redis.set("only-in-1", "x").unwrap();
        assert_eq!(dbsize(&mut redis), threads as i64 + 1);
        let mut listed: Vec<String> = redis.keys("*").unwrap();
        listed.sort();
        let mut expected = keys.clone();
        expected.push("only-in-1".into());
        expected.sort();
        assert_eq!(listed, expected);
        let info: String = redis::cmd("INFO")
            .arg("keyspace")
            .query(&mut redis)
            .unwrap();
        assert!(info.contains(&format!("db0:keys={threads}")), "{info}");
        assert!(
            info.contains(&format!("db1:keys={}", threads + 1)),
            "{info}"
        );
        let client: String = redis::cmd("CLIENT").arg("INFO").query(&mut redis).unwrap();
        assert!(client.contains(" db=1 "), "{client}");

        let mut memcache = server.connect();
        memcache.expect(
            format!("get {}\r\n", keys[0]).as_bytes(),
            format!("VALUE {} 0 4\r\nzero\r\nEND\r\n", keys[0]).as_bytes(),
        );

        // FLUSHDB empties the selected database only.
        let _: () = redis::cmd("FLUSHDB").query(&mut redis).unwrap();
        assert_eq!(dbsize(&mut redis), 0);
        select(&mut redis, 0);
        assert_eq!(dbsize(&mut redis), threads as i64);
        select(&mut redis, 2);
        let _: () = redis.set("in-2", "y").unwrap();
        let _: () = redis::cmd("FLUSHALL").query(&mut redis).unwrap();
        assert_eq!(dbsize(&mut redis), 0);
        select(&mut redis, 0);
        assert_eq!(dbsize(&mut redis), 0);

        let error: RedisResult<()> = redis::cmd("SELECT").arg(16).query(&mut redis);
        assert_eq!(text(error.unwrap_err()), "ERR DB index is out of range");
        let error: RedisResult<()> = redis::cmd("SELECT").arg("x").query(&mut redis);
        assert_eq!(
            text(error.unwrap_err()),
            "ERR value is not an integer or out of range"
        );
        server.stop();
    }
}

#[test]
fn swapdb_swaps_on_every_shard_and_memcached_follows() {
    let server = Server::start_resp(3);
    let mut redis = server.redis(3);
    let keys: Vec<String> = (0..3).map(|shard| key_on_shard("sw:", shard, 3)).collect();
    for key in &keys {
        let _: () = redis.set(key, "was-0").unwrap();
    }
    select(&mut redis, 5);
    for key in &keys {
        let _: () = redis.set(key, "was-5").unwrap();
    }
    let _: () = redis::cmd("SWAPDB")
        .arg(0)
        .arg(5)
        .query(&mut redis)
        .unwrap();
    let values: Vec<String> = redis.mget(&keys).unwrap();
    assert_eq!(values, ["was-0"; 3]);
    select(&mut redis, 0);
    let values: Vec<String> = redis.mget(&keys).unwrap();
    assert_eq!(values, ["was-5"; 3]);
    let mut memcache = server.connect();
    memcache.expect(
        format!("get {}\r\n", keys[2]).as_bytes(),
        format!("VALUE {} 0 5\r\nwas-5\r\nEND\r\n", keys[2]).as_bytes(),
    );
    for (args, error) in [
        (["x", "1"], "ERR invalid first DB index"),
        (["1", "x"], "ERR invalid second DB index"),
        (["0", "16"], "ERR DB index is out of range"),
    ] {
        let reply: RedisResult<()> = redis::cmd("SWAPDB").arg(&args).query(&mut redis);
        assert_eq!(text(reply.unwrap_err()), error);
    }
    server.stop();
}

#[test]
fn move_and_copy_between_databases() {
    for threads in [1, 3] {
        let server = Server::start_resp(threads);
        let mut redis = server.redis(2);
        let _: () = redis.pset_ex("m", "v", 100_000).unwrap();
        let moved: i64 = redis::cmd("MOVE")
            .arg("m")
            .arg(3)
            .query(&mut redis)
            .unwrap();
        assert_eq!(moved, 1);
        let gone: Option<String> = redis.get("m").unwrap();
        assert_eq!(gone, None);
        let moved: i64 = redis::cmd("MOVE")
            .arg("m")
            .arg(3)
            .query(&mut redis)
            .unwrap();
        assert_eq!(moved, 0, "no source");
        select(&mut redis, 3);
        let value: String = redis.get("m").unwrap();
        assert_eq!(value, "v");
        let ttl: i64 = redis.pttl("m").unwrap();
        assert!(ttl > 90_000, "MOVE keeps the TTL: {ttl}");
        let _: () = redis.set("blocked", "in-0").unwrap();
        select(&mut redis, 0);
        let _: () = redis.set("blocked", "in-0").unwrap();
        let moved: i64 = redis::cmd("MOVE")
            .arg("blocked")
            .arg(3)
            .query(&mut redis)
            .unwrap();
        assert_eq!(moved, 0, "the destination exists");
        for (db, error) in [
            ("0", "ERR source and destination objects are the same"),
            ("16", "ERR DB index is out of range"),
            ("x", "ERR value is not an integer or out of range"),
        ] {
            let reply: RedisResult<i64> =
                redis::cmd("MOVE").arg("blocked").arg(db).query(&mut redis);
            assert_eq!(text(reply.unwrap_err()), error);
        }

        // COPY into another database, to a key on another shard.
        let source = key_on_shard("src:", 0, threads);
        let destination = key_on_shard("dst:", threads - 1, threads);
        let _: () = redis.set(&source, "copied").unwrap();
        let copied: i64 = redis::cmd("COPY")
            .arg(&[&source, &destination, "DB", "7"])
            .query(&mut redis)
            .unwrap();
        assert_eq!(copied, 1);
        let copied: i64 = redis::cmd("COPY")
            .arg(&[&source, &destination, "DB", "7"])
            .query(&mut redis)
            .unwrap();
        assert_eq!(copied, 0, "no REPLACE");
        let copied: i64 = redis::cmd("COPY")
            .arg(&[&source, &source, "DB", "7", "REPLACE"])
            .query(&mut redis)
            .unwrap();
        assert_eq!(copied, 1, "the same key in another database");
        select(&mut redis, 7);
        let values: Vec<String> = redis.mget(&[&source, &destination]).unwrap();
        assert_eq!(values, ["copied", "copied"]);
        server.stop();
    }
}

#[test]
fn the_number_of_databases_is_a_setting() {
    let server = Server::with(Options {
        threads: 1,
        resp: true,
        args: vec!["--databases".into(), "2".into()],
        ..Options::default()
    });
    let mut redis = server.redis(2);
    let databases: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("databases")
        .query(&mut redis)
        .unwrap();
    assert_eq!(databases, ["databases", "2"]);
    select(&mut redis, 1);
    let error: RedisResult<()> = redis::cmd("SELECT").arg(2).query(&mut redis);
    assert_eq!(text(error.unwrap_err()), "ERR DB index is out of range");
    server.stop();
}
