//! The blocking pops (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN,
//! BZPOPMAX, BZMPOP) over real TCP, on one shard and on four: immediate
//! replies, timeouts, argument errors, clients woken by pushes from other
//! connections (whose keys and connections are on other shards),
//! first-blocked-first-served, no data lost for a client that left, and
//! pipelined requests held behind a blocked one, and requests whose keys
//! live on several shards (issue 4: blocked, woken, timed out, moving
//! exactly once, under load). Expected replies are Redis
//! 7.0.15's (checked against `redis-server`). Nothing here asserts on
//! timing beyond "a 0.1 s timeout eventually replies".

mod common;

use std::time::{Duration, Instant};

use common::{key_on_shard, Conn, Server, REPLY_TIMEOUT};
use redis::Commands;

/// The shard counts issue 4 asks for.
const TOPOLOGIES: [usize; 2] = [1, 4];

/// Reads one whole RESP reply (any type, nested), returning its bytes.
fn read_reply(conn: &mut Conn) -> Vec<u8> {
    let line = conn.read_until(b"\r\n");
    let count = || -> i64 {
        std::str::from_utf8(&line[1..line.len() - 2])
            .expect("a header")
            .parse()
            .expect("a count")
    };
    let mut reply = line.clone();
    match line[0] {
        b'$' | b'=' | b'!' if count() >= 0 => {
            reply.extend(conn.read_exact(count() as usize + 2));
        }
        b'*' | b'~' | b'>' if count() > 0 => {
            for _ in 0..count() {
                reply.extend(read_reply(conn));
            }
        }
        b'%' | b'|' if count() > 0 => {
            for _ in 0..2 * count() {
                reply.extend(read_reply(conn));
            }
        }
        _ => {}
    }
    reply
}

/// Sends `request` and checks that the next reply is exactly `expected`.
#[track_caller]
fn expect_reply(conn: &mut Conn, request: &str, expected: &[u8]) {
    conn.send(request.as_bytes());
    let reply = read_reply(conn);
    assert_eq!(
        String::from_utf8_lossy(&reply),
        String::from_utf8_lossy(expected),
        "reply to {request:?}"
    );
}

/// Switches a raw connection to RESP3.
fn hello3(conn: &mut Conn) {
    conn.send(b"HELLO 3\r\n");
    read_reply(conn);
}

/// `INFO clients`' `blocked_clients`.
fn blocked_clients(redis: &mut redis::Connection) -> u64 {
    let info: String = redis::cmd("INFO").arg("clients").query(redis).unwrap();
    info.lines()
        .find_map(|line| line.strip_prefix("blocked_clients:"))
        .expect("INFO clients shows blocked_clients")
        .trim()
        .parse()
        .unwrap()
}

/// Waits (generously) until `blocked_clients` is `n`.
#[track_caller]
fn wait_blocked(redis: &mut redis::Connection, n: u64) {
    let start = Instant::now();
    loop {
        let now = blocked_clients(redis);
        if now == n {
            return;
        }
        assert!(
            start.elapsed() < REPLY_TIMEOUT,
            "blocked_clients stayed {now}, expected {n}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Asserts that nothing arrives on `conn` for a little while.
#[track_caller]
fn expect_nothing_yet(conn: &mut Conn) {
    assert!(
        !conn.receives_within(Duration::from_millis(150)),
        "a reply arrived early"
    );
}

const WRONGTYPE: &[u8] = b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

#[test]
fn keys_with_data_are_served_at_once() {
    for threads in TOPOLOGIES {
        let server = Server::start_resp(threads);
        for protocol in [2, 3] {
            let mut conn = server.connect_resp();
            if protocol == 3 {
                hello3(&mut conn);
            }
            let score = |text: &str| match protocol {
                2 => format!("${}\r\n{text}\r\n", text.len()),
                _ => format!(",{text}\r\n"),
            };
            let t = format!("{{t{protocol}}}");
            let script: Vec<(String, String)> = vec![
                (format!("RPUSH {t}l a b c d e f\r\n"), ":6\r\n".into()),
                (
                    format!("BLPOP {t}none {t}l 0\r\n"),
                    format!("*2\r\n$5\r\n{t}l\r\n$1\r\na\r\n"),
                ),
                (
                    format!("BRPOP {t}l 1\r\n"),
                    format!("*2\r\n$5\r\n{t}l\r\n$1\r\nf\r\n"),
                ),
                (
                    format!("BLMOVE {t}l {t}m LEFT RIGHT 0\r\n"),
                    "$1\r\nb\r\n".into(),
                ),
                (format!("BRPOPLPUSH {t}l {t}m 0\r\n"), "$1\r\ne\r\n".into()),
                (
                    format!("LRANGE {t}m 0 -1\r\n"),
                    "*2\r\n$1\r\ne\r\n$1\r\nb\r\n".into(),
                ),
                (
                    format!("BLMPOP 0 2 {t}none {t}l RIGHT COUNT 5\r\n"),
                    format!("*2\r\n$5\r\n{t}l\r\n*2\r\n$1\r\nd\r\n$1\r\nc\r\n"),
                ),
                (format!("EXISTS {t}l\r\n"), ":0\r\n".into()),
                (format!("ZADD {t}z 1 a 2 b 3 c 4 d\r\n"), ":4\r\n".into()),
                (
                    format!("BZPOPMIN {t}none {t}z 0\r\n"),
                    format!("*3\r\n$5\r\n{t}z\r\n$1\r\na\r\n{}", score("1")),
                ),
                (
                    format!("BZPOPMAX {t}z 0\r\n"),
                    format!("*3\r\n$5\r\n{t}z\r\n$1\r\nd\r\n{}", score("4")),
                ),
                (
                    format!("BZMPOP 0 1 {t}z MIN COUNT 1\r\n"),
                    format!("*2\r\n$5\r\n{t}z\r\n*1\r\n*2\r\n$1\r\nb\r\n{}", score("2")),
                ),
                (format!("SET {t}s x\r\n"), "+OK\r\n".into()),
                // A key of another type met before one with data.
                (
                    format!("BLPOP {t}s {t}m 0\r\n"),
                    String::from_utf8_lossy(WRONGTYPE).into(),
                ),
                (
                    format!("BZPOPMIN {t}s 0\r\n"),
                    String::from_utf8_lossy(WRONGTYPE).into(),
                ),
                (
                    format!("BLMOVE {t}m {t}s LEFT LEFT 0\r\n"),
                    String::from_utf8_lossy(WRONGTYPE).into(),
                ),
                (
                    format!("BLMPOP 0 1 {t}s LEFT\r\n"),
                    String::from_utf8_lossy(WRONGTYPE).into(),
                ),
                (format!("LLEN {t}m\r\n"), ":2\r\n".into()),
            ];
            for (request, reply) in &script {
                expect_reply(&mut conn, request, reply.as_bytes());
            }
            expect_reply(&mut conn, "FLUSHALL\r\n", b"+OK\r\n");
        }
    }
}

#[test]
fn timeouts_reply_the_null_array() {
    for threads in TOPOLOGIES {
        let server = Server::start_resp(threads);
        for (protocol, null) in [(2, &b"*-1\r\n"[..]), (3, b"_\r\n")] {
            let mut conn = server.connect_resp();
            if protocol == 3 {
                hello3(&mut conn);
            }
            for request in [
                "BLPOP {n}a {n}b 0.1\r\n",
                "BRPOP {n}a 0.1\r\n",
                "BLMOVE {n}a {n}b LEFT LEFT 0.1\r\n",
                "BRPOPLPUSH {n}a {n}b 0.1\r\n",
                "BLMPOP 0.1 2 {n}a {n}b LEFT COUNT 2\r\n",
                "BZPOPMIN {n}a 0.1\r\n",
                "BZPOPMAX {n}a {n}b 0.1\r\n",
                "BZMPOP 0.1 1 {n}a MAX\r\n",
                // Any positive timeout waits at least a millisecond.
                "BLPOP {n}a 1e-10\r\n",
            ] {
                expect_reply(&mut conn, request, null);
            }
            // A waiter that timed out is gone: the next push stays.
            let mut redis = server.redis(2);
            wait_blocked(&mut redis, 0);
            let _: i64 = redis.rpush("{n}a", "x").unwrap();
            let len: i64 = redis.llen("{n}a").unwrap();
            assert_eq!(len, 1);
            let _: i64 = redis.del("{n}a").unwrap();
        }
    }
}

#[test]
fn argument_errors_are_redis_words() {
    for threads in TOPOLOGIES {
        let server = Server::start_resp(threads);
        let mut conn = server.connect_resp();
        let not_a_float: &[u8] = b"-ERR timeout is not a float or out of range\r\n";
        let negative: &[u8] = b"-ERR timeout is negative\r\n";
        let syntax: &[u8] = b"-ERR syntax error\r\n";
        let numkeys: &[u8] = b"-ERR numkeys should be greater than 0\r\n";
        let count: &[u8] = b"-ERR count should be greater than 0\r\n";
        let script: &[(&str, &[u8])] = &[
            ("BLPOP k abc\r\n", not_a_float),
            ("BLPOP k nan\r\n", not_a_float),
            ("BLPOP k 1x\r\n", not_a_float),
            ("BLPOP k -1\r\n", negative),
            ("BLPOP k 1e400\r\n", negative),
            ("BLPOP k inf\r\n", negative),
            ("BRPOP k -0.5e1\r\n", negative),
            ("BZPOPMIN k abc\r\n", not_a_float),
            ("BZPOPMAX k -1\r\n", negative),
            ("BRPOPLPUSH a b abc\r\n", not_a_float),
            ("BLMOVE a b LEFT LEFT abc\r\n", not_a_float),
            // BLMOVE's ends come before its timeout.
            ("BLMOVE a b UP LEFT abc\r\n", syntax),
            // BLMPOP's and BZMPOP's LMPOP/ZMPOP arguments come first too.
            ("BLMPOP abc 0 k LEFT\r\n", numkeys),
            ("BLMPOP abc 1 k MIDDLE\r\n", syntax),
            ("BLMPOP abc 1 k LEFT\r\n", not_a_float),
            ("BLMPOP -1 1 k LEFT\r\n", negative),
            ("BLMPOP 0 2 k LEFT\r\n", syntax),
            ("BLMPOP 0 1 k LEFT COUNT 0\r\n", count),
            ("BLMPOP 0 1 k LEFT COUNT 1 COUNT 2\r\n", syntax),
            ("BZMPOP abc 1 k MIN COUNT 0\r\n", count),
            ("BZMPOP 0 0 k MIN\r\n", numkeys),
            ("BZMPOP 0 1 k MIDDLE\r\n", syntax),
            ("BZMPOP 0 1 k MIN COUNT 1 COUNT 2\r\n", syntax),
            (
                "BLPOP k\r\n",
                b"-ERR wrong number of arguments for 'blpop' command\r\n",
            ),
            (
                "BLMOVE a b LEFT 0\r\n",
                b"-ERR wrong number of arguments for 'blmove' command\r\n",
            ),
            (
                "BZMPOP 0 1 k\r\n",
                b"-ERR wrong number of arguments for 'bzmpop' command\r\n",
            ),
        ];
        for (request, reply) in script {
            expect_reply(&mut conn, request, reply);
        }
    }
}

#[test]
fn command_info_shows_redis_7_entries() {
    let server = Server::start_resp(1);
    let mut conn = server.connect_resp();
    expect_reply(
        &mut conn,
        "COMMAND INFO blpop\r\n",
        b"*1\r\n*10\r\n$5\r\nblpop\r\n:-3\r\n*3\r\n+write\r\n+noscript\r\n+blocking\r\n:1\r\n:-2\r\n:1\r\n*0\r\n*0\r\n*0\r\n*0\r\n",
    );
    expect_reply(
        &mut conn,
        "COMMAND GETKEYS BZPOPMIN a b 0\r\n",
        b"*2\r\n$1\r\na\r\n$1\r\nb\r\n",
    );
}

#[test]
fn pushes_from_other_connections_wake_clients_on_any_shard() {
    for threads in TOPOLOGIES {
        let server = Server::start_resp(threads);
        let mut control = server.redis(2);
        // Connections land on shards as the kernel spreads them; with eight
        // of them over four shards, keys on every shard, some connection
        // surely waits on a key of another shard.
        let keys: Vec<String> = (0..8)
            .map(|i| key_on_shard(&format!("w{i}-"), i % threads, threads))
            .collect();
        let mut waiters: Vec<Conn> = Vec::new();
        for (n, key) in keys.iter().enumerate() {
            let mut conn = server.connect_resp();
            conn.send(format!("BLPOP {key} 0\r\n").as_bytes());
            waiters.push(conn);
            wait_blocked(&mut control, n as u64 + 1);
        }
        let mut pusher = server.redis(2);
        for (n, key) in keys.iter().enumerate() {
            let _: i64 = pusher.rpush(key, format!("v{n}")).unwrap();
        }
        for ((n, key), conn) in keys.iter().enumerate().zip(&mut waiters) {
            let value = format!("v{n}");
            let expected = format!(
                "*2\r\n${}\r\n{key}\r\n${}\r\n{value}\r\n",
                key.len(),
                value.len()
            );
            assert_eq!(String::from_utf8_lossy(&read_reply(conn)), expected);
            // Unblocked: it reads on.
            expect_reply(conn, &format!("LLEN {key}\r\n"), b":0\r\n");
        }
        assert_eq!(blocked_clients(&mut control), 0);
    }
}

#[test]
fn the_first_client_blocked_is_served_first() {
    for threads in TOPOLOGIES {
        let server = Server::start_resp(threads);
        let mut control = server.redis(2);
        let mut waiters: Vec<Conn> = (0..3).map(|_| server.connect_resp()).collect();
        for (n, conn) in waiters.iter_mut().enumerate() {
            conn.send(b"BLPOP q 0\r\n");
            wait_blocked(&mut control, n as u64 + 1);
        }
        // One push of three elements serves all three, in order.
        let _: i64 = control.lpush("q", &["a", "b", "c"]).unwrap();
        for (conn, element) in waiters.iter_mut().zip(["c", "b", "a"]) {
            let expected = format!("*2\r\n$1\r\nq\r\n$1\r\n{element}\r\n");
            assert_eq!(String::from_utf8_lossy(&read_reply(conn)), expected);
        }
        assert_eq!(blocked_clients(&mut control), 0);
        // A push of one serves only the first.
        for (n, conn) in waiters.iter_mut().enumerate() {
            conn.send(b"BRPOP q 0\r\n");
            wait_blocked(&mut control, n as u64 + 1);
        }
        let _: i64 = control.rpush("q", "x").unwrap();
        assert_eq!(read_reply(&mut waiters[0]), b"*2\r\n$1\r\nq\r\n$1\r\nx\r\n");
        wait_blocked(&mut control, 2);
        expect_nothing_yet(&mut waiters[1]);
        let _: i64 = control.rpush("q", &["y", "z"]).unwrap();
        assert_eq!(read_reply(&mut waiters[1]), b"*2\r\n$1\r\nq\r\n$1\r\nz\r\n");
        assert_eq!(read_reply(&mut waiters[2]), b"*2\r\n$1\r\nq\r\n$1\r\ny\r\n");
        // A client blocked on several keys is served by the first that gets
        // data, and leaves the other queue.
        let mut both = server.connect_resp();
        both.send(b"BLPOP {m}a {m}b 0\r\n");
        wait_blocked(&mut control, 1);
        let mut second = server.connect_resp();
        second.send(b"BLPOP {m}a 0\r\n");
        wait_blocked(&mut control, 2);
        let _: i64 = control.rpush("{m}b", "1").unwrap();
        assert_eq!(read_reply(&mut both), b"*2\r\n$4\r\n{m}b\r\n$1\r\n1\r\n");
        let _: i64 = control.rpush("{m}a", "2").unwrap();
        assert_eq!(read_reply(&mut second), b"*2\r\n$4\r\n{m}a\r\n$1\r\n2\r\n");
        wait_blocked(&mut control, 0);
    }
}

#[test]
fn a_client_that_left_loses_no_data() {
    for threads in TOPOLOGIES {
        let server = Server::start_resp(threads);
        let mut control = server.redis(2);
        // Several connections, so that some wait on another shard.
        for round in 0..6 {
            let key = format!("gone{round}");
            let mut conn = server.connect_resp();
            conn.send(format!("BLPOP {key} 0\r\n").as_bytes());
            wait_blocked(&mut control, 1);
            drop(conn);
            wait_blocked(&mut control, 0);
            let _: i64 = control.rpush(&key, "kept").unwrap();
            let len: i64 = control.llen(&key).unwrap();
            assert_eq!(len, 1, "round {round}");
        }
        // And one that was killed.
        let mut conn = server.connect_resp();
        conn.send(b"CLIENT SETNAME doomed\r\n");
        assert_eq!(read_reply(&mut conn), b"+OK\r\n");
        conn.send(b"BZPOPMIN killedz 0\r\n");
        wait_blocked(&mut control, 1);
        let list: String = redis::cmd("CLIENT")
            .arg("LIST")
            .query(&mut control)
            .unwrap();
        let line = list
            .lines()
            .find(|line| line.contains("name=doomed"))
            .expect("the blocked client is listed");
        assert!(line.contains(" flags=b "), "{line}");
        assert!(line.contains(" cmd=bzpopmin "), "{line}");
        let killed: i64 = redis::cmd("CLIENT")
            .arg("KILL")
            .arg("SKIPME")
            .arg("yes")
            .query(&mut control)
            .unwrap();
        assert_eq!(killed, 1);
        assert!(conn.is_closed_by_server());
        wait_blocked(&mut control, 0);
        let _: i64 = control.zadd("killedz", "m", 1).unwrap();
        let card: i64 = control.zcard("killedz").unwrap();
        assert_eq!(card, 1);
    }
}

#[test]
fn blmove_moves_atomically_and_its_push_serves_others() {
    for threads in TOPOLOGIES {
        let server = Server::start_resp(threads);
        let mut control = server.redis(2);
        let mut mover = server.connect_resp();
        mover.send(b"BLMOVE {b}src {b}dst RIGHT LEFT 0\r\n");
        wait_blocked(&mut control, 1);
        let mut popper = server.connect_resp();
        popper.send(b"BLPOP {b}dst 0\r\n");
        wait_blocked(&mut control, 2);
        let mut rotator = server.connect_resp();
        rotator.send(b"BRPOPLPUSH {b}dst {b}dst 0\r\n");
        wait_blocked(&mut control, 3);
        // The push serves the mover, whose push to {b}dst serves the popper
        // before anyone else can see it there.
        let replies: (i64, i64, i64) = redis::pipe()
            .rpush("{b}src", &["x", "y"])
            .llen("{b}dst")
            .llen("{b}src")
            .query(&mut control)
            .unwrap();
        assert_eq!(replies, (2, 0, 1));
        assert_eq!(read_reply(&mut mover), b"$1\r\ny\r\n");
        assert_eq!(
            read_reply(&mut popper),
            b"*2\r\n$6\r\n{b}dst\r\n$1\r\ny\r\n"
        );
        assert_eq!(blocked_clients(&mut control), 1);
        // A destination of another type: the waiter is answered WRONGTYPE
        // and nothing moves.
        let _: () = control.set("{b}str", "s").unwrap();
        let mut refused = server.connect_resp();
        refused.send(b"BLMOVE {b}empty {b}str LEFT LEFT 0\r\n");
        wait_blocked(&mut control, 2);
        let _: i64 = control.rpush("{b}empty", "e").unwrap();
        assert_eq!(read_reply(&mut refused), WRONGTYPE);
        let len: i64 = control.llen("{b}empty").unwrap();
        assert_eq!(len, 1);
        // The rotator still waits on {b}dst, and rotates in place.
        let _: i64 = control.rpush("{b}dst", &["1", "2"]).unwrap();
        assert_eq!(read_reply(&mut rotator), b"$1\r\n2\r\n");
        let all: Vec<String> = control.lrange("{b}dst", 0, -1).unwrap();
        assert_eq!(all, ["2", "1"]);
        wait_blocked(&mut control, 0);
    }
}

#[test]
fn sorted_set_pops_wake_on_zadd() {
    for threads in TOPOLOGIES {
        let server = Server::start_resp(threads);
        let mut control = server.redis(2);
        let mut min = server.connect_resp();
        hello3(&mut min);
        min.send(b"BZPOPMIN z 0\r\n");
        wait_blocked(&mut control, 1);
        let mut max = server.connect_resp();
        max.send(b"BZPOPMAX z 0\r\n");
        wait_blocked(&mut control, 2);
        let mut many = server.connect_resp();
        many.send(b"BZMPOP 0 1 z MAX COUNT 5\r\n");
        wait_blocked(&mut control, 3);
        let _: i64 = control
            .zadd_multiple("z", &[(1.5, "a"), (2.0, "b"), (3.0, "c"), (4.0, "d")])
            .unwrap();
        assert_eq!(
            read_reply(&mut min),
            b"*3\r\n$1\r\nz\r\n$1\r\na\r\n,1.5\r\n"
        );
        assert_eq!(
            read_reply(&mut max),
            b"*3\r\n$1\r\nz\r\n$1\r\nd\r\n$1\r\n4\r\n"
        );
        assert_eq!(
            read_reply(&mut many),
            b"*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
        );
        let exists: bool = control.exists("z").unwrap();
        assert!(!exists);
        // ZINCRBY creates data too; a list waiter on a key that became a
        // sorted set keeps waiting (Redis 7.0).
        let mut list_waiter = server.connect_resp();
        list_waiter.send(b"BLPOP w 0\r\n");
        wait_blocked(&mut control, 1);
        let mut zset_waiter = server.connect_resp();
        zset_waiter.send(b"BZPOPMIN w 0\r\n");
        wait_blocked(&mut control, 2);
        let _: f64 = control.zincr("w", "m", 7).unwrap();
        assert_eq!(
            read_reply(&mut zset_waiter),
            b"*3\r\n$1\r\nw\r\n$1\r\nm\r\n$1\r\n7\r\n"
        );
        expect_nothing_yet(&mut list_waiter);
        assert_eq!(blocked_clients(&mut control), 1);
        let _: i64 = control.rpush("w", "l").unwrap();
        assert_eq!(
            read_reply(&mut list_waiter),
            b"*2\r\n$1\r\nw\r\n$1\r\nl\r\n"
        );
    }
}

#[test]
fn pipelined_requests_run_after_the_blocked_one_is_served() {
    for threads in TOPOLOGIES {
        let server = Server::start_resp(threads);
        let mut control = server.redis(2);
        let mut conn = server.connect_resp();
        conn.send(b"BLPOP p 0\r\nPING\r\nLLEN p\r\nRPUSH p again\r\n");
        wait_blocked(&mut control, 1);
        expect_nothing_yet(&mut conn);
        // Served right after the push, before the pusher's next command.
        let replies: (i64, i64) = redis::pipe()
            .rpush("p", &["1", "2"])
            .llen("p")
            .query(&mut control)
            .unwrap();
        assert_eq!(replies, (2, 1));
        assert_eq!(read_reply(&mut conn), b"*2\r\n$1\r\np\r\n$1\r\n1\r\n");
        assert_eq!(read_reply(&mut conn), b"+PONG\r\n");
        assert_eq!(read_reply(&mut conn), b":1\r\n");
        assert_eq!(read_reply(&mut conn), b":2\r\n");
    }
}

#[test]
fn renames_into_a_waited_key_serve_it() {
    for threads in TOPOLOGIES {
        let server = Server::start_resp(threads);
        let mut control = server.redis(2);
        // Across shards when there are several.
        let source = key_on_shard("src", 0, threads);
        let destination = key_on_shard("dst", threads - 1, threads);
        let mut conn = server.connect_resp();
        conn.send(format!("BLPOP {destination} 0\r\n").as_bytes());
        wait_blocked(&mut control, 1);
        let _: i64 = control.rpush(&source, &["1", "2"]).unwrap();
        let _: () = control.rename(&source, &destination).unwrap();
        let expected = format!(
            "*2\r\n${}\r\n{destination}\r\n$1\r\n1\r\n",
            destination.len()
        );
        assert_eq!(String::from_utf8_lossy(&read_reply(&mut conn)), expected);
        let rest: Vec<String> = control.lrange(&destination, 0, -1).unwrap();
        assert_eq!(rest, ["2"]);
    }
}

#[test]
fn the_redis_crate_blocks_and_is_served() {
    for threads in TOPOLOGIES {
        let server = Server::start_resp(threads);
        for protocol in [2, 3] {
            let mut redis = server.redis(protocol);
            let none: Option<(String, String)> = redis.blpop("{c}l", 0.1).unwrap();
            assert_eq!(none, None);
            let _: i64 = redis.rpush("{c}l", &["a", "b"]).unwrap();
            let popped: Option<(String, String)> = redis.brpop("{c}l", 0.0).unwrap();
            assert_eq!(popped, Some(("{c}l".to_string(), "b".to_string())));
            let moved: String = redis
                .blmove(
                    "{c}l",
                    "{c}m",
                    redis::Direction::Left,
                    redis::Direction::Left,
                    0.0,
                )
                .unwrap();
            assert_eq!(moved, "a");
            let _: i64 = redis.zadd("{c}z", "m", 2).unwrap();
            let popped: Option<(String, String, f64)> = redis.bzpopmin("{c}z", 0.0).unwrap();
            assert_eq!(popped, Some(("{c}z".to_string(), "m".to_string(), 2.0)));
            let _: i64 = redis.del("{c}m").unwrap();
        }
    }
}

#[test]
fn swapdb_and_move_serve_clients_of_the_other_database() {
    for threads in TOPOLOGIES {
        let server = Server::start_resp(threads);
        let mut control = server.redis(2);
        let mut swapped = server.connect_resp();
        swapped.send(b"BLPOP sw 0\r\n");
        wait_blocked(&mut control, 1);
        let mut conn = server.connect_resp();
        expect_reply(&mut conn, "SELECT 1\r\n", b"+OK\r\n");
        expect_reply(&mut conn, "RPUSH sw 1 2\r\n", b":2\r\n");
        expect_reply(&mut conn, "SWAPDB 0 1\r\n", b"+OK\r\n");
        assert_eq!(read_reply(&mut swapped), b"*2\r\n$2\r\nsw\r\n$1\r\n1\r\n");
        expect_reply(&mut conn, "SELECT 0\r\n", b"+OK\r\n");
        expect_reply(&mut conn, "LRANGE sw 0 -1\r\n", b"*1\r\n$1\r\n2\r\n");
        let mut moved = server.connect_resp();
        expect_reply(&mut moved, "SELECT 2\r\n", b"+OK\r\n");
        moved.send(b"BLPOP mv 0\r\n");
        wait_blocked(&mut control, 1);
        expect_reply(&mut conn, "RPUSH mv x\r\n", b":1\r\n");
        expect_reply(&mut conn, "MOVE mv 2\r\n", b":1\r\n");
        assert_eq!(read_reply(&mut moved), b"*2\r\n$2\r\nmv\r\n$1\r\nx\r\n");
        wait_blocked(&mut control, 0);
    }
}

#[test]
fn inside_multi_they_do_not_wait_and_exec_serves_once_it_ran() {
    for threads in TOPOLOGIES {
        let server = Server::start_resp(threads);
        let mut control = server.redis(2);
        let mut waiter = server.connect_resp();
        waiter.send(b"BLPOP {x}k 0\r\n");
        wait_blocked(&mut control, 1);
        let mut conn = server.connect_resp();
        for request in [
            "MULTI\r\n",
            "RPUSH {x}k a\r\n",
            "LPOP {x}k\r\n",
            "RPUSH {x}k b c\r\n",
        ] {
            conn.send(request.as_bytes());
            read_reply(&mut conn);
        }
        // Served after EXEC, from what the whole transaction left.
        expect_reply(&mut conn, "EXEC\r\n", b"*3\r\n:1\r\n$1\r\na\r\n:2\r\n");
        assert_eq!(read_reply(&mut waiter), b"*2\r\n$4\r\n{x}k\r\n$1\r\nb\r\n");
        for request in [
            "MULTI\r\n",
            "BLPOP {x}nothing 0\r\n",
            "BLPOP {x}k 0\r\n",
            "BRPOPLPUSH {x}nothing {x}d 0\r\n",
        ] {
            conn.send(request.as_bytes());
            read_reply(&mut conn);
        }
        expect_reply(
            &mut conn,
            "EXEC\r\n",
            b"*3\r\n*-1\r\n*2\r\n$4\r\n{x}k\r\n$1\r\nc\r\n$-1\r\n",
        );
        assert_eq!(blocked_clients(&mut control), 0);
    }
}

#[test]
fn an_exec_gathering_keys_of_several_shards_runs_blocking_pops_on_them() {
    let shards = 4;
    let server = Server::start_resp(shards);
    let (a, b) = (key_on_shard("a", 0, shards), key_on_shard("b", 1, shards));
    let mut conn = server.connect_resp();
    expect_reply(&mut conn, &format!("RPUSH {a} x y\r\n"), b":2\r\n");
    for request in [
        "MULTI\r\n".to_string(),
        // Across shards: the transaction gathers both keys.
        format!("LMOVE {a} {b} LEFT LEFT\r\n"),
        format!("BLPOP {b} 0\r\n"),
        format!("BRPOP {b} {a} 0\r\n"),
    ] {
        conn.send(request.as_bytes());
        read_reply(&mut conn);
    }
    let expected = format!(
        "*3\r\n$1\r\nx\r\n*2\r\n${}\r\n{b}\r\n$1\r\nx\r\n*2\r\n${}\r\n{a}\r\n$1\r\ny\r\n",
        b.len(),
        a.len()
    );
    expect_reply(&mut conn, "EXEC\r\n", expected.as_bytes());
    expect_reply(&mut conn, &format!("EXISTS {a} {b}\r\n"), b":0\r\n");
}

#[test]
fn a_cross_shard_lmove_into_a_waited_key_serves_it() {
    let shards = 4;
    let server = Server::start_resp(shards);
    let mut control = server.redis(2);
    let (source, destination) = (key_on_shard("s", 0, shards), key_on_shard("d", 1, shards));
    let mut conn = server.connect_resp();
    conn.send(format!("BLPOP {destination} 0\r\n").as_bytes());
    wait_blocked(&mut control, 1);
    let _: i64 = control.rpush(&source, &["1", "2"]).unwrap();
    let moved: String = control
        .lmove(
            &source,
            &destination,
            redis::Direction::Left,
            redis::Direction::Right,
        )
        .unwrap();
    assert_eq!(moved, "1");
    let expected = format!(
        "*2\r\n${}\r\n{destination}\r\n$1\r\n1\r\n",
        destination.len()
    );
    assert_eq!(String::from_utf8_lossy(&read_reply(&mut conn)), expected);
    let exists: bool = control.exists(&destination).unwrap();
    assert!(!exists);
}

#[test]
fn many_waiters_are_all_served_in_order_by_one_push() {
    for threads in TOPOLOGIES {
        let server = Server::start_resp(threads);
        let mut control = server.redis(2);
        let count = 50;
        let mut waiters: Vec<Conn> = Vec::new();
        for n in 0..count {
            let mut conn = server.connect_resp();
            // Every other one also waits on a key nobody pushes.
            let request = if n % 2 == 0 {
                "BRPOP {many}q 0\r\n"
            } else {
                "BRPOP {many}never {many}q 0\r\n"
            };
            conn.send(request.as_bytes());
            waiters.push(conn);
            wait_blocked(&mut control, n + 1);
        }
        let elements: Vec<String> = (0..count).map(|n| format!("e{n}")).collect();
        // LPUSH e0 … e49: BRPOP takes e0 first.
        let _: i64 = control.lpush("{many}q", &elements).unwrap();
        for (conn, element) in waiters.iter_mut().zip(&elements) {
            let expected = format!(
                "*2\r\n$7\r\n{{many}}q\r\n${}\r\n{element}\r\n",
                element.len()
            );
            assert_eq!(String::from_utf8_lossy(&read_reply(conn)), expected);
        }
        assert_eq!(blocked_clients(&mut control), 0);
    }
}

/// Two keys on the first and the last shard (one shard: both on it).
fn keys_apart(a: &str, b: &str, threads: usize) -> (String, String) {
    (
        key_on_shard(a, 0, threads),
        key_on_shard(b, threads - 1, threads),
    )
}

/// `[key, element]` as BLPOP replies it.
fn popped(key: &str, element: &str) -> String {
    format!(
        "*2\r\n${}\r\n{key}\r\n${}\r\n{element}\r\n",
        key.len(),
        element.len()
    )
}

/// Reads the next reply as text.
fn next_reply(conn: &mut Conn) -> String {
    String::from_utf8_lossy(&read_reply(conn)).into_owned()
}

#[test]
fn blpop_on_keys_of_several_shards_waits_and_is_woken_by_either() {
    for threads in TOPOLOGIES {
        let server = Server::start_resp(threads);
        let mut control = server.redis(2);
        let (a, b) = keys_apart("xa", "xb", threads);
        // Data already there: at once, from the first key that has some.
        let mut conn = server.connect_resp();
        let _: i64 = control.rpush(&b, &["1", "2"]).unwrap();
        let request = format!("BLPOP {a} {b} 0\r\n");
        expect_reply(&mut conn, &request, popped(&b, "1").as_bytes());
        let _: i64 = control.rpush(&a, "3").unwrap();
        expect_reply(&mut conn, &request, popped(&a, "3").as_bytes());
        expect_reply(&mut conn, &request, popped(&b, "2").as_bytes());
        // Empty: it waits, and a push to either key wakes it.
        for (key, element) in [(&b, "to-b"), (&a, "to-a")] {
            conn.send(request.as_bytes());
            wait_blocked(&mut control, 1);
            expect_nothing_yet(&mut conn);
            let _: i64 = control.rpush(key, element).unwrap();
            assert_eq!(next_reply(&mut conn), popped(key, element));
            wait_blocked(&mut control, 0);
            let exists: i64 = control.exists(&[&a, &b]).unwrap();
            assert_eq!(exists, 0);
        }
        // A key that gets another type does not wake it (Redis 7.0).
        conn.send(format!("BRPOP {a} {b} 0\r\n").as_bytes());
        wait_blocked(&mut control, 1);
        let _: () = control.set(&a, "string").unwrap();
        expect_nothing_yet(&mut conn);
        let _: i64 = control.rpush(&b, &["x", "y"]).unwrap();
        assert_eq!(next_reply(&mut conn), popped(&b, "y"));
        // Met first, it is refused at once.
        expect_reply(&mut conn, &request, WRONGTYPE);
        let _: i64 = control.del(&[&a, &b]).unwrap();
        // A timeout replies the null array; a later push stays.
        for (protocol, null) in [(2, &b"*-1\r\n"[..]), (3, b"_\r\n")] {
            let mut timed = server.connect_resp();
            if protocol == 3 {
                hello3(&mut timed);
            }
            expect_reply(&mut timed, &format!("BLPOP {a} {b} 0.1\r\n"), null);
        }
        wait_blocked(&mut control, 0);
        let _: i64 = control.rpush(&a, "kept").unwrap();
        let _: i64 = control.rpush(&b, "kept").unwrap();
        let lens: (i64, i64) = (control.llen(&a).unwrap(), control.llen(&b).unwrap());
        assert_eq!(lens, (1, 1));
        // Unblocked, the connection reads on.
        expect_reply(&mut conn, "PING\r\n", b"+PONG\r\n");
    }
}

#[test]
fn blmove_across_shards_moves_each_element_exactly_once() {
    for threads in TOPOLOGIES {
        let server = Server::start_resp(threads);
        let mut control = server.redis(2);
        let (src, dst) = keys_apart("msrc", "mdst", threads);
        let mut first = server.connect_resp();
        let mut second = server.connect_resp();
        first.send(format!("BLMOVE {src} {dst} RIGHT LEFT 0\r\n").as_bytes());
        wait_blocked(&mut control, 1);
        second.send(format!("BRPOPLPUSH {src} {dst} 0\r\n").as_bytes());
        wait_blocked(&mut control, 2);
        let _: i64 = control.rpush(&src, "x").unwrap();
        // Exactly one of them gets it; the other keeps waiting.
        let (served, waiting) = loop {
            if first.receives_within(Duration::from_millis(20)) {
                break (&mut first, &mut second);
            }
            if second.receives_within(Duration::from_millis(20)) {
                break (&mut second, &mut first);
            }
        };
        assert_eq!(read_reply(served), b"$1\r\nx\r\n");
        wait_blocked(&mut control, 1);
        expect_nothing_yet(waiting);
        let moved: Vec<String> = control.lrange(&dst, 0, -1).unwrap();
        assert_eq!(moved, ["x"]);
        let left: i64 = control.llen(&src).unwrap();
        assert_eq!(left, 0);
        // The next push serves the other one.
        let _: i64 = control.rpush(&src, "y").unwrap();
        assert_eq!(read_reply(waiting), b"$1\r\ny\r\n");
        wait_blocked(&mut control, 0);
        let moved: Vec<String> = control.lrange(&dst, 0, -1).unwrap();
        assert_eq!(moved, ["y", "x"]);
        // Data already there moves at once, and its push to the
        // destination serves a client waiting on it (on its shard).
        let mut popper = server.connect_resp();
        let _: i64 = control.del(&dst).unwrap();
        popper.send(format!("BLPOP {dst} 0\r\n").as_bytes());
        wait_blocked(&mut control, 1);
        let _: i64 = control.rpush(&src, "z").unwrap();
        expect_reply(
            &mut first,
            &format!("BLMOVE {src} {dst} LEFT RIGHT 0\r\n"),
            b"$1\r\nz\r\n",
        );
        assert_eq!(next_reply(&mut popper), popped(&dst, "z"));
        let exists: i64 = control.exists(&[&src, &dst]).unwrap();
        assert_eq!(exists, 0);
    }
}

#[test]
fn a_client_that_left_while_blocked_across_shards_takes_nothing() {
    for threads in TOPOLOGIES {
        let server = Server::start_resp(threads);
        let mut control = server.redis(2);
        let (a, b) = keys_apart("la", "lb", threads);
        for round in 0..4 {
            let mut gone = server.connect_resp();
            gone.send(format!("BLPOP {a} {b} 0\r\n").as_bytes());
            wait_blocked(&mut control, 1);
            let mut stays = server.connect_resp();
            stays.send(format!("BLPOP {b} {a} 0\r\n").as_bytes());
            wait_blocked(&mut control, 2);
            drop(gone);
            wait_blocked(&mut control, 1);
            let key = if round % 2 == 0 { &a } else { &b };
            let _: i64 = control.rpush(key, "one").unwrap();
            assert_eq!(next_reply(&mut stays), popped(key, "one"), "round {round}");
            wait_blocked(&mut control, 0);
            // Nobody waits: the push stays.
            let _: i64 = control.rpush(key, "kept").unwrap();
            let len: i64 = control.llen(key).unwrap();
            assert_eq!(len, 1, "round {round}");
            let _: i64 = control.del(key).unwrap();
        }
    }
}

#[test]
fn sorted_set_and_many_pops_across_shards_are_woken() {
    for threads in TOPOLOGIES {
        let server = Server::start_resp(threads);
        let mut control = server.redis(2);
        let (a, b) = keys_apart("za", "zb", threads);
        let mut conn = server.connect_resp();
        conn.send(format!("BZPOPMIN {a} {b} 0\r\n").as_bytes());
        wait_blocked(&mut control, 1);
        let _: i64 = control.zadd(&b, "m", 2).unwrap();
        let expected = format!("*3\r\n${}\r\n{b}\r\n$1\r\nm\r\n$1\r\n2\r\n", b.len());
        assert_eq!(next_reply(&mut conn), expected);
        conn.send(format!("BZMPOP 0 2 {a} {b} MAX COUNT 2\r\n").as_bytes());
        wait_blocked(&mut control, 1);
        let _: i64 = control
            .zadd_multiple(&a, &[(1.0, "p"), (3.0, "q"), (2.0, "r")])
            .unwrap();
        let expected = format!(
            "*2\r\n${}\r\n{a}\r\n*2\r\n*2\r\n$1\r\nq\r\n$1\r\n3\r\n*2\r\n$1\r\nr\r\n$1\r\n2\r\n",
            a.len()
        );
        assert_eq!(next_reply(&mut conn), expected);
        let _: i64 = control.del(&a).unwrap();
        conn.send(format!("BLMPOP 0 2 {a} {b} RIGHT COUNT 2\r\n").as_bytes());
        wait_blocked(&mut control, 1);
        let _: i64 = control.rpush(&a, &["1", "2", "3"]).unwrap();
        let expected = format!("*2\r\n${}\r\n{a}\r\n*2\r\n$1\r\n3\r\n$1\r\n2\r\n", a.len());
        assert_eq!(next_reply(&mut conn), expected);
        wait_blocked(&mut control, 0);
        // Inside MULTI they do not wait, across shards too.
        let _: i64 = control.del(&a).unwrap();
        for request in [
            "MULTI\r\n".to_string(),
            format!("BLPOP {a} {b} 0\r\n"),
            format!("RPUSH {b} v\r\n"),
            format!("BRPOP {a} {b} 0\r\n"),
        ] {
            conn.send(request.as_bytes());
            read_reply(&mut conn);
        }
        let expected = format!("*3\r\n*-1\r\n:1\r\n{}", popped(&b, "v"));
        expect_reply(&mut conn, "EXEC\r\n", expected.as_bytes());
    }
}

#[test]
fn many_clients_blocked_across_shards_pop_every_element_once() {
    use std::collections::HashSet;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    for threads in TOPOLOGIES {
        let server = Server::start_resp(threads);
        let keys: Vec<String> = (0..6)
            .map(|i| key_on_shard(&format!("s{i}-"), i % threads, threads))
            .collect();
        let per_pusher = 150;
        let pushers = 2;
        let total = per_pusher * pushers;
        let popped = Arc::new(AtomicUsize::new(0));
        let consumers: Vec<_> = (0..6)
            .map(|n| {
                // Three keys each, on different shards.
                let mine: Vec<String> = (0..3).map(|k| keys[(n + 2 * k) % 6].clone()).collect();
                let mut redis = server.redis(2);
                let popped = popped.clone();
                std::thread::spawn(move || {
                    let mut got = Vec::new();
                    loop {
                        let reply: Option<(String, String)> = redis.blpop(&mine, 0.5).unwrap();
                        match reply {
                            Some((key, element)) => {
                                assert!(mine.contains(&key), "{key} is not one of {mine:?}");
                                got.push(element);
                                popped.fetch_add(1, Ordering::SeqCst);
                            }
                            None if popped.load(Ordering::SeqCst) >= total => return got,
                            None => {}
                        }
                    }
                })
            })
            .collect();
        let pushing: Vec<_> = (0..pushers)
            .map(|p| {
                let mut redis = server.redis(2);
                let keys = keys.clone();
                std::thread::spawn(move || {
                    for i in 0..per_pusher {
                        let key = &keys[(i * 7 + p) % keys.len()];
                        let _: i64 = redis.rpush(key, format!("p{p}-{i}")).unwrap();
                    }
                })
            })
            .collect();
        for pusher in pushing {
            pusher.join().unwrap();
        }
        let mut all = Vec::new();
        for consumer in consumers {
            all.extend(consumer.join().unwrap());
        }
        let distinct: HashSet<&String> = all.iter().collect();
        assert_eq!(all.len(), total, "every element popped, none twice");
        assert_eq!(distinct.len(), total);
        let mut control = server.redis(2);
        let left: i64 = control.exists(&keys).unwrap();
        assert_eq!(left, 0);
        wait_blocked(&mut control, 0);
    }
}
