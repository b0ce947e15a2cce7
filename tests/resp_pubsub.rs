//! Pub/sub over real TCP: exact frames on raw sockets (RESP2 arrays,
//! RESP3 pushes, subscribed mode and its errors), the `redis` crate's
//! subscribers on RESP2 and RESP3, and three-shard servers where
//! subscribers and publishers sit on different shards. Expected frames are
//! redis-server 7.0.15's.

mod common;

use std::collections::HashMap;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::{Conn, Server, REPLY_TIMEOUT};
use redis::Commands;

/// `args` as a RESP request.
fn request(args: &[&str]) -> Vec<u8> {
    let mut frame = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        frame.extend_from_slice(format!("${}\r\n{arg}\r\n", arg.len()).as_bytes());
    }
    frame
}

/// A RESP2 array or RESP3 push (`marker`) of bulk strings and integers,
/// given as `":n"` for an integer and `"-"` for a null.
fn frame(marker: char, items: &[&str]) -> Vec<u8> {
    let mut out = format!("{marker}{}\r\n", items.len()).into_bytes();
    for item in items {
        if let Some(n) = item.strip_prefix(':') {
            out.extend_from_slice(format!(":{n}\r\n").as_bytes());
        } else if *item == "-" {
            out.extend_from_slice(if marker == '>' { b"_\r\n" } else { b"$-1\r\n" });
        } else {
            out.extend_from_slice(format!("${}\r\n{item}\r\n", item.len()).as_bytes());
        }
    }
    out
}

fn resp2(items: &[&str]) -> Vec<u8> {
    frame('*', items)
}

fn push(items: &[&str]) -> Vec<u8> {
    frame('>', items)
}

/// Switches a raw connection to RESP3.
fn hello3(conn: &mut Conn) {
    conn.send(b"HELLO 3\r\n");
    let reply = conn.read_until(b"modules\r\n*0\r\n");
    assert!(reply.starts_with(b"%7\r\n"), "HELLO 3 answers a map");
}

/// Waits until `check` holds (a closed connection leaves its shard's table
/// once the shard has seen the close, a moment after the client's).
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + REPLY_TIMEOUT;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn subscribe_and_unsubscribe_confirm_with_the_running_count() {
    let server = Server::start_resp(1);
    let mut conn = server.connect_resp();
    // Unsubscribing from nothing still answers, with a null name.
    conn.expect(b"UNSUBSCRIBE\r\n", &resp2(&["unsubscribe", "-", ":0"]));
    conn.expect(b"PUNSUBSCRIBE\r\n", &resp2(&["punsubscribe", "-", ":0"]));
    conn.expect(b"SUNSUBSCRIBE\r\n", &resp2(&["sunsubscribe", "-", ":0"]));
    let mut both = resp2(&["unsubscribe", "a", ":0"]);
    both.extend(resp2(&["unsubscribe", "b", ":0"]));
    conn.expect(b"UNSUBSCRIBE a b\r\n", &both);
    // Not in subscribed mode yet: other commands run.
    conn.expect(b"PING\r\n", b"+PONG\r\n");

    let mut expected = resp2(&["subscribe", "a", ":1"]);
    expected.extend(resp2(&["subscribe", "b", ":2"]));
    expected.extend(resp2(&["subscribe", "a", ":2"]));
    conn.expect(b"SUBSCRIBE a b a\r\n", &expected);
    // Patterns count with channels; shard channels on their own.
    let mut expected = resp2(&["psubscribe", "p*", ":3"]);
    expected.extend(resp2(&["psubscribe", "p*", ":3"]));
    conn.expect(b"PSUBSCRIBE p* p*\r\n", &expected);
    let mut expected = resp2(&["ssubscribe", "s1", ":1"]);
    expected.extend(resp2(&["ssubscribe", "s2", ":2"]));
    conn.expect(b"SSUBSCRIBE s1 s2\r\n", &expected);
    conn.expect(
        b"SUNSUBSCRIBE s1\r\n",
        &resp2(&["sunsubscribe", "s1", ":1"]),
    );
    conn.expect(b"PUNSUBSCRIBE\r\n", &resp2(&["punsubscribe", "p*", ":2"]));
    conn.expect(b"SUNSUBSCRIBE\r\n", &resp2(&["sunsubscribe", "s2", ":0"]));

    // Unsubscribing from all: one confirmation per channel, in any order.
    conn.send(b"UNSUBSCRIBE\r\n");
    let first = conn.read_exact(resp2(&["unsubscribe", "a", ":1"]).len());
    let second = conn.read_exact(resp2(&["unsubscribe", "a", ":0"]).len());
    let (left_first, left_second) = if first == resp2(&["unsubscribe", "a", ":1"]) {
        ("a", "b")
    } else {
        ("b", "a")
    };
    assert_eq!(first, resp2(&["unsubscribe", left_first, ":1"]));
    assert_eq!(second, resp2(&["unsubscribe", left_second, ":0"]));
    // Out of subscribed mode again.
    conn.expect(b"PING\r\n", b"+PONG\r\n");
    conn.expect(b"GET k\r\n", b"$-1\r\n");
}

#[test]
fn resp2_subscribed_mode_allows_only_pubsub_ping_quit_reset() {
    let server = Server::start_resp(1);
    let mut conn = server.connect_resp();
    conn.expect(b"SUBSCRIBE a\r\n", &resp2(&["subscribe", "a", ":1"]));
    let refused = |name: &str| {
        format!(
            "-ERR Can't execute '{name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT \
             / RESET are allowed in this context\r\n"
        )
        .into_bytes()
    };
    conn.expect(b"GET k\r\n", &refused("get"));
    conn.expect(b"SET k v\r\n", &refused("set"));
    conn.expect(b"PUBLISH a x\r\n", &refused("publish"));
    conn.expect(b"CLIENT ID\r\n", &refused("client|id"));
    conn.expect(b"PUBSUB NUMPAT\r\n", &refused("pubsub|numpat"));
    conn.expect(b"HELLO 3\r\n", &refused("hello"));
    // Unknown commands and wrong arity are still refused first.
    conn.expect(
        b"FOO bar\r\n",
        b"-ERR unknown command 'FOO', with args beginning with: 'bar' \r\n",
    );
    conn.expect(
        b"GET\r\n",
        b"-ERR wrong number of arguments for 'get' command\r\n",
    );
    // PING answers as an array in subscribed mode.
    conn.expect(b"PING\r\n", &resp2(&["pong", ""]));
    conn.expect(b"PING hi\r\n", &resp2(&["pong", "hi"]));
    conn.expect(
        b"PING a b\r\n",
        b"-ERR wrong number of arguments for 'ping' command\r\n",
    );
    // RESET leaves subscribed mode, and the channel.
    conn.expect(b"RESET\r\n", b"+RESET\r\n");
    conn.expect(b"GET k\r\n", b"$-1\r\n");
    conn.expect(b"PUBLISH a x\r\n", b":0\r\n");
    conn.expect(b"PUBSUB NUMSUB a\r\n", &resp2(&["a", ":0"]));
    // QUIT is allowed, and closes.
    conn.expect(b"SUBSCRIBE a\r\n", &resp2(&["subscribe", "a", ":1"]));
    conn.expect(b"QUIT\r\n", b"+OK\r\n");
    assert!(conn.is_closed_by_server());
}

#[test]
fn resp3_subscribers_get_pushes_and_may_run_anything() {
    let server = Server::start_resp(1);
    let mut conn = server.connect_resp();
    hello3(&mut conn);
    conn.expect(b"UNSUBSCRIBE\r\n", &push(&["unsubscribe", "-", ":0"]));
    conn.expect(b"SUBSCRIBE a\r\n", &push(&["subscribe", "a", ":1"]));
    conn.expect(b"PSUBSCRIBE *\r\n", &push(&["psubscribe", "*", ":2"]));
    // Publishing to itself: the messages come before the reply.
    let mut expected = push(&["message", "a", "hello"]);
    expected.extend(push(&["pmessage", "*", "a", "hello"]));
    expected.extend(b":2\r\n");
    conn.expect(b"PUBLISH a hello\r\n", &expected);
    conn.expect(b"GET k\r\n", b"_\r\n");
    conn.expect(b"PING\r\n", b"+PONG\r\n");
    conn.expect(b"SSUBSCRIBE s\r\n", &push(&["ssubscribe", "s", ":1"]));
    let mut expected = push(&["smessage", "s", "m"]);
    expected.extend(b":1\r\n");
    conn.expect(b"SPUBLISH s m\r\n", &expected);
    // Back to RESP2: still subscribed, so restricted now.
    conn.send(b"HELLO 2\r\n");
    conn.read_until(b"modules\r\n*0\r\n");
    conn.expect(
        b"GET k\r\n",
        b"-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT \
          / RESET are allowed in this context\r\n",
    );
    conn.expect(b"RESET\r\n", b"+RESET\r\n");
    conn.expect(b"GET k\r\n", b"$-1\r\n");
}

#[test]
fn messages_reach_subscribers_on_other_shards_as_exact_frames() {
    let server = Server::start_resp(3);
    // Subscribers on several connections (and so, in all likelihood,
    // shards), half of them on RESP3.
    let mut subscribers: Vec<(Conn, bool)> = (0..6)
        .map(|i| {
            let mut conn = server.connect_resp();
            let resp3 = i % 2 == 1;
            if resp3 {
                hello3(&mut conn);
            }
            let marker = if resp3 { '>' } else { '*' };
            conn.expect(
                b"SUBSCRIBE news\r\n",
                &frame(marker, &["subscribe", "news", ":1"]),
            );
            conn.expect(
                b"PSUBSCRIBE n*\r\n",
                &frame(marker, &["psubscribe", "n*", ":2"]),
            );
            conn.expect(
                b"SSUBSCRIBE shard\r\n",
                &frame(marker, &["ssubscribe", "shard", ":1"]),
            );
            (conn, resp3)
        })
        .collect();
    for publisher in 0..6 {
        let mut conn = server.connect_resp();
        let text = format!("from {publisher}");
        // Every subscriber counts twice: the channel and the pattern.
        conn.expect(&request(&["PUBLISH", "news", &text]), b":12\r\n");
        conn.expect(&request(&["PUBLISH", "nope", "x"]), b":6\r\n");
        conn.expect(&request(&["PUBLISH", "other", "x"]), b":0\r\n");
        conn.expect(&request(&["SPUBLISH", "shard", &text]), b":6\r\n");
        for (sub, resp3) in &mut subscribers {
            let marker = if *resp3 { '>' } else { '*' };
            // The channel's subscribers first, then the patterns', as Redis.
            let expected = [
                frame(marker, &["message", "news", &text]),
                frame(marker, &["pmessage", "n*", "news", &text]),
                frame(marker, &["pmessage", "n*", "nope", "x"]),
                frame(marker, &["smessage", "shard", &text]),
            ]
            .concat();
            let got = sub.read_exact(expected.len());
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&expected)
            );
        }
    }
    // Nothing more arrived: the next bytes are the PING's.
    for (sub, resp3) in &mut subscribers {
        let pong = if *resp3 {
            b"+PONG\r\n".to_vec()
        } else {
            resp2(&["pong", ""])
        };
        sub.expect(b"PING\r\n", &pong);
    }
}

#[test]
fn every_message_arrives_once_and_in_publish_order_across_shards() {
    const PUBLISHERS: usize = 6;
    const MESSAGES: usize = 300;
    let server = Server::start_resp(3);
    let (ready_tx, ready) = mpsc::channel();
    let subscribers: Vec<_> = (0..6)
        .map(|i| {
            let protocol = if i % 2 == 0 { 2 } else { 3 };
            let mut redis = server.redis(protocol);
            let ready = ready_tx.clone();
            thread::spawn(move || {
                let mut pubsub = redis.as_pubsub();
                if i % 3 == 0 {
                    pubsub.psubscribe("orders.*").unwrap();
                } else {
                    pubsub.subscribe("orders.eu").unwrap();
                }
                // A PING's reply comes after the confirmation.
                let _: redis::Value = pubsub.ping().unwrap();
                ready.send(()).unwrap();
                pubsub.set_read_timeout(Some(REPLY_TIMEOUT)).unwrap();
                let mut next = [0usize; PUBLISHERS];
                for _ in 0..PUBLISHERS * MESSAGES {
                    let msg = pubsub.get_message().expect("a message");
                    assert_eq!(msg.get_channel_name(), "orders.eu");
                    assert_eq!(msg.from_pattern(), i % 3 == 0);
                    let payload: String = msg.get_payload().unwrap();
                    let (publisher, seq) = payload.split_once(':').expect("publisher:seq");
                    let publisher: usize = publisher.parse().unwrap();
                    let seq: usize = seq.parse().unwrap();
                    assert_eq!(
                        seq, next[publisher],
                        "subscriber {i}: publisher {publisher}'s messages out of order or repeated"
                    );
                    next[publisher] += 1;
                }
                assert!(next.iter().all(|&n| n == MESSAGES));
                // Nothing more: a PING's reply is the next thing.
                let _: redis::Value = pubsub.ping().unwrap();
                assert!(pubsub
                    .set_read_timeout(Some(Duration::from_millis(200)))
                    .is_ok());
                assert!(pubsub.get_message().is_err(), "a message too many");
            })
        })
        .collect();
    for _ in &subscribers {
        ready.recv_timeout(REPLY_TIMEOUT).expect("subscribed");
    }
    let publishers: Vec<_> = (0..PUBLISHERS)
        .map(|publisher| {
            let mut redis = server.redis(2);
            thread::spawn(move || {
                for seq in 0..MESSAGES {
                    let receivers: usize = redis
                        .publish("orders.eu", format!("{publisher}:{seq}"))
                        .unwrap();
                    assert_eq!(receivers, 6, "every subscriber, on every shard");
                }
            })
        })
        .collect();
    for handle in publishers.into_iter().chain(subscribers) {
        handle.join().expect("no assertion failed");
    }
}

#[test]
fn pubsub_introspection_gathers_every_shard() {
    let server = Server::start_resp(3);
    let mut redis = server.redis(2);
    let channels = |redis: &mut redis::Connection, sub: &str, arg: Option<&str>| {
        let mut command = redis::cmd("PUBSUB");
        command.arg(sub);
        if let Some(arg) = arg {
            command.arg(arg);
        }
        let mut names: Vec<String> = command.query(redis).unwrap();
        names.sort();
        names
    };
    let numsub = |redis: &mut redis::Connection, sub: &str, names: &[&str]| {
        let pairs: Vec<(String, i64)> = redis::cmd("PUBSUB")
            .arg(sub)
            .arg(names)
            .query(redis)
            .unwrap();
        pairs
    };
    let numpat = |redis: &mut redis::Connection| -> i64 {
        redis::cmd("PUBSUB").arg("NUMPAT").query(redis).unwrap()
    };
    assert!(channels(&mut redis, "CHANNELS", None).is_empty());
    assert_eq!(numpat(&mut redis), 0);

    // Several subscribers of the same names, on many connections.
    let mut subscribers = Vec::new();
    for i in 0..9 {
        let mut conn = server.connect_resp();
        conn.expect(b"SUBSCRIBE news\r\n", &resp2(&["subscribe", "news", ":1"]));
        if i < 3 {
            conn.expect(
                b"SUBSCRIBE sports\r\n",
                &resp2(&["subscribe", "sports", ":2"]),
            );
        }
        let count = if i < 3 { ":3" } else { ":2" };
        conn.expect(b"PSUBSCRIBE n*\r\n", &resp2(&["psubscribe", "n*", count]));
        if i == 0 {
            conn.expect(b"PSUBSCRIBE x?\r\n", &resp2(&["psubscribe", "x?", ":4"]));
        }
        conn.expect(
            b"SSUBSCRIBE orders\r\n",
            &resp2(&["ssubscribe", "orders", ":1"]),
        );
        subscribers.push(conn);
    }
    assert_eq!(channels(&mut redis, "CHANNELS", None), ["news", "sports"]);
    assert_eq!(channels(&mut redis, "CHANNELS", Some("s*")), ["sports"]);
    assert!(channels(&mut redis, "CHANNELS", Some("x*")).is_empty());
    assert_eq!(channels(&mut redis, "SHARDCHANNELS", None), ["orders"]);
    assert_eq!(
        numsub(&mut redis, "NUMSUB", &["news", "sports", "none", "orders"]),
        [
            ("news".to_string(), 9),
            ("sports".to_string(), 3),
            ("none".to_string(), 0),
            ("orders".to_string(), 0)
        ]
    );
    assert_eq!(
        numsub(&mut redis, "SHARDNUMSUB", &["orders", "news"]),
        [("orders".to_string(), 9), ("news".to_string(), 0)]
    );
    // Distinct patterns, wherever their subscribers are.
    assert_eq!(numpat(&mut redis), 2);
    // The same over RESP3 (NUMSUB stays a flat array, as in Redis 7.0).
    let mut raw = server.connect_resp();
    hello3(&mut raw);
    raw.expect(b"PUBSUB NUMSUB sports\r\n", b"*2\r\n$6\r\nsports\r\n:3\r\n");
    raw.expect(b"PUBSUB NUMPAT\r\n", b":2\r\n");

    // Closed connections leave the tables of their shards.
    drop(subscribers.drain(..3));
    eventually("closed subscribers to leave", || {
        numsub(&mut redis, "NUMSUB", &["news", "sports"])
            == [("news".to_string(), 6), ("sports".to_string(), 0)]
    });
    assert_eq!(channels(&mut redis, "CHANNELS", None), ["news"]);
    assert_eq!(numpat(&mut redis), 1);
    drop(subscribers);
    eventually("every subscriber to leave", || {
        channels(&mut redis, "CHANNELS", None).is_empty()
            && channels(&mut redis, "SHARDCHANNELS", None).is_empty()
            && numpat(&mut redis) == 0
    });
    let receivers: usize = redis.publish("news", "anyone?").unwrap();
    assert_eq!(receivers, 0);
}

#[test]
fn a_closed_subscriber_is_forgotten_and_its_slot_gets_nothing() {
    let server = Server::start_resp(1);
    let mut publisher = server.connect_resp();
    let mut subscriber = server.connect_resp();
    subscriber.expect(b"SUBSCRIBE a\r\n", &resp2(&["subscribe", "a", ":1"]));
    publisher.expect(b"PUBLISH a x\r\n", b":1\r\n");
    drop(subscriber);
    eventually("the subscriber to leave", || {
        publisher.send(b"PUBLISH a y\r\n");
        publisher.read_exact(4) == b":0\r\n"
    });
    // New connections (one of them in the freed slot) receive nothing.
    let mut others: Vec<Conn> = (0..4).map(|_| server.connect_resp()).collect();
    for other in &mut others {
        other.expect(b"PING\r\n", b"+PONG\r\n");
    }
    publisher.expect(b"PUBLISH a z\r\n", b":0\r\n");
    for other in &mut others {
        other.expect(b"PING\r\n", b"+PONG\r\n");
    }
}

#[test]
fn a_subscriber_that_does_not_read_is_disconnected_not_waited_for() {
    let server = Server::start_resp(3);
    let mut slow = server.connect_resp();
    slow.expect(
        b"SUBSCRIBE flood\r\n",
        &resp2(&["subscribe", "flood", ":1"]),
    );
    let mut reader = server.redis(2);
    let (ready_tx, ready) = mpsc::channel();
    let reading = thread::spawn(move || {
        let mut pubsub = reader.as_pubsub();
        pubsub.subscribe("flood").unwrap();
        pubsub.set_read_timeout(Some(REPLY_TIMEOUT)).unwrap();
        ready_tx.send(()).unwrap();
        for _ in 0..64 {
            let msg = pubsub.get_message().expect("the reader gets every message");
            assert_eq!(msg.get_payload_bytes().len(), 1 << 20);
        }
    });
    ready.recv_timeout(REPLY_TIMEOUT).expect("subscribed");
    let mut publisher = server.redis(2);
    // 64 MiB for a subscriber that reads nothing: over the 32 MiB hard
    // limit, whatever the kernel's socket buffers hold.
    let payload = "x".repeat(1 << 20);
    let mut counts = Vec::new();
    for _ in 0..64 {
        let receivers: usize = publisher.publish("flood", &payload).unwrap();
        counts.push(receivers);
    }
    reading.join().expect("the reading subscriber kept up");
    assert_eq!(counts[0], 2, "both subscribers at first");
    // The reader has left too (its thread ended): nobody is left.
    eventually("the slow subscriber to be dropped", || {
        let receivers: usize = publisher.publish("flood", "small").unwrap();
        receivers == 0
    });
    assert!(slow.is_closed_by_server());
    let _: () = publisher.set("still", "serving").unwrap();
    let value: String = publisher.get("still").unwrap();
    assert_eq!(value, "serving");
}

#[test]
fn subscribed_connections_on_many_shards_each_get_their_own_messages() {
    let server = Server::start_resp(3);
    // Each subscriber listens to its own channel; a publisher sends one
    // message to each and counts one receiver each.
    let mut subscribers: Vec<Conn> = (0..9)
        .map(|i| {
            let mut conn = server.connect_resp();
            let channel = format!("ch{i}");
            conn.expect(
                &request(&["SUBSCRIBE", &channel]),
                &resp2(&["subscribe", &channel, ":1"]),
            );
            conn
        })
        .collect();
    let mut publisher = server.redis(3);
    let mut expected: HashMap<usize, Vec<u8>> = HashMap::new();
    for (i, _) in subscribers.iter().enumerate() {
        let channel = format!("ch{i}");
        let receivers: usize = publisher.publish(&channel, format!("to {i}")).unwrap();
        assert_eq!(receivers, 1);
        expected.insert(i, resp2(&["message", &channel, &format!("to {i}")]));
    }
    for (i, sub) in subscribers.iter_mut().enumerate() {
        let want = &expected[&i];
        assert_eq!(&sub.read_exact(want.len()), want);
        sub.expect(b"PING\r\n", &resp2(&["pong", ""]));
    }
}

#[test]
fn the_pubsub_output_limit_is_a_live_setting() {
    let server = Server::start_resp(2);
    let mut admin = server.connect_resp();
    admin.expect(
        b"CONFIG SET client-output-buffer-limit \"pubsub 1x 0 0\"\r\n",
        b"-ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - \
          Error in hard, soft or soft_seconds setting in buffer limit configuration.\r\n",
    );
    // No limit: a subscriber that reads nothing stays, however much waits.
    admin.expect(
        b"CONFIG SET client-output-buffer-limit \"pubsub 0 0 0\"\r\n",
        b"+OK\r\n",
    );
    let mut slow = server.connect_resp();
    slow.expect(
        b"SUBSCRIBE flood\r\n",
        &resp2(&["subscribe", "flood", ":1"]),
    );
    let mut publisher = server.redis(2);
    let payload = "x".repeat(1 << 20);
    for _ in 0..48 {
        let receivers: usize = publisher.publish("flood", &payload).unwrap();
        assert_eq!(receivers, 1, "kept without a limit");
    }
    // A limit set now applies at the next message.
    admin.expect(
        b"CONFIG SET client-output-buffer-limit \"pubsub 1mb 0 0\"\r\n",
        b"+OK\r\n",
    );
    admin.expect(
        b"CONFIG GET client-output-buffer-limit\r\n",
        b"*2\r\n$26\r\nclient-output-buffer-limit\r\n$59\r\n\
          normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 0 0\r\n",
    );
    eventually("the slow subscriber to be dropped", || {
        let receivers: usize = publisher.publish("flood", "more").unwrap();
        receivers == 0
    });
    assert!(slow.is_closed_by_server());
}
