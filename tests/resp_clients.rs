//! CLIENT, SLOWLOG, OBJECT and MEMORY over real TCP on three shards:
//! connections accepted by different shards all show in `CLIENT LIST`,
//! `CLIENT KILL` closes a client wherever it lives, `CLIENT REPLY` drops
//! exactly the replies Redis drops, and the slow log sees every shard's
//! requests. Expected replies were checked against redis-server 7.0.15.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{key_on_shard, Conn, Server};
use redis::Commands;

/// Enough connections that, however the kernel spreads them, the three
/// shards all get some (all nine on one shard: 3^-8).
const CLIENTS: usize = 9;

/// `CLIENT LIST`'s lines as `field → value` maps.
fn parse_list(text: &str) -> Vec<HashMap<String, String>> {
    text.lines()
        .map(|line| {
            line.split(' ')
                .filter_map(|field| field.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn client_list(redis: &mut redis::Connection) -> Vec<HashMap<String, String>> {
    let text: String = redis::cmd("CLIENT").arg("LIST").query(redis).unwrap();
    parse_list(&text)
}

/// A raw connection that named itself; returns it with its client id.
fn named_client(server: &Server, name: &str) -> (Conn, u64) {
    let mut conn = server.connect_resp();
    conn.expect(format!("CLIENT SETNAME {name}\r\n").as_bytes(), b"+OK\r\n");
    conn.send(b"CLIENT ID\r\n");
    let line = conn.line();
    let id = line.trim_start_matches(':').trim().parse().expect("an id");
    (conn, id)
}

#[test]
fn client_list_shows_the_clients_of_every_shard() {
    let server = Server::start_resp(3);
    let clients: Vec<(Conn, u64)> = (0..CLIENTS)
        .map(|i| named_client(&server, &format!("c{i}")))
        .collect();
    let mut redis = server.redis(2);
    let listed = client_list(&mut redis);
    for (i, (conn, id)) in clients.iter().enumerate() {
        let entry = listed
            .iter()
            .find(|entry| entry["id"] == id.to_string())
            .unwrap_or_else(|| panic!("client {id} listed: {listed:?}"));
        assert_eq!(entry["name"], format!("c{i}"));
        assert_eq!(entry["addr"], conn.local_addr().to_string());
        assert_eq!(
            entry["laddr"],
            format!("127.0.0.1:{}", server.resp_port.unwrap())
        );
        assert_eq!(entry["cmd"], "client|id");
        assert_eq!(entry["flags"], "N");
        assert_eq!(entry["user"], "default");
        assert_eq!(entry["resp"], "2");
        assert!(entry["fd"].parse::<i32>().unwrap() > 2);
    }
    assert_eq!(listed.len(), CLIENTS + 1, "{listed:?}");
    // In id order, as Redis lists its clients.
    let ids: Vec<u64> = listed.iter().map(|e| e["id"].parse().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted);
    // The caller itself, running CLIENT LIST.
    let me = listed.last().unwrap();
    assert_eq!(me["cmd"], "client|list");
    assert_eq!(me["argv-mem"], "10");

    // LIST ID keeps the order asked for (and repeats), wherever they live.
    let (a, b) = (clients[0].1, clients[CLIENTS - 1].1);
    let text: String = redis::cmd("CLIENT")
        .arg("LIST")
        .arg("ID")
        .arg(b)
        .arg(a)
        .arg(999_999)
        .arg(b)
        .query(&mut redis)
        .unwrap();
    let ids: Vec<String> = parse_list(&text).iter().map(|e| e["id"].clone()).collect();
    assert_eq!(ids, [b.to_string(), a.to_string(), b.to_string()]);
    let none: String = redis::cmd("CLIENT")
        .arg("LIST")
        .arg("TYPE")
        .arg("replica")
        .query(&mut redis)
        .unwrap();
    assert_eq!(none, "");
    let normal: String = redis::cmd("CLIENT")
        .arg("LIST")
        .arg("TYPE")
        .arg("normal")
        .query(&mut redis)
        .unwrap();
    assert_eq!(parse_list(&normal).len(), CLIENTS + 1);
}

#[test]
fn client_kill_closes_clients_on_any_shard() {
    let server = Server::start_resp(3);
    let mut clients: Vec<(Conn, u64)> = (0..CLIENTS)
        .map(|i| named_client(&server, &format!("k{i}")))
        .collect();
    let mut killer = server.connect_resp();
    // By id: one reply, the victim closed, gone from the list.
    for _ in 0..3 {
        let (mut victim, id) = clients.pop().unwrap();
        killer.expect(format!("CLIENT KILL ID {id}\r\n").as_bytes(), b":1\r\n");
        victim.set_read_timeout(Duration::from_secs(10));
        assert!(victim.is_closed_by_server(), "client {id} closed");
        killer.expect(format!("CLIENT KILL ID {id}\r\n").as_bytes(), b":0\r\n");
    }
    let mut redis = server.redis(2);
    assert_eq!(client_list(&mut redis).len(), CLIENTS - 3 + 2);
    // The old form, by the peer's address.
    let (mut victim, _) = clients.pop().unwrap();
    let addr = victim.local_addr();
    killer.expect(format!("CLIENT KILL {addr}\r\n").as_bytes(), b"+OK\r\n");
    assert!(victim.is_closed_by_server());
    killer.expect(
        format!("CLIENT KILL {addr}\r\n").as_bytes(),
        b"-ERR No such client\r\n",
    );
    // ADDR with a filter the victim does not match kills nobody.
    let (_, id) = &clients[0];
    killer.expect(
        format!("CLIENT KILL ADDR 1.2.3.4:5 ID {id}\r\n").as_bytes(),
        b":0\r\n",
    );
    // Every normal client but the caller (SKIPME yes): the rest of the
    // named ones and the redis connection.
    let port = server.resp_port.unwrap();
    killer.expect(
        format!("CLIENT KILL TYPE normal LADDR 127.0.0.1:{port} USER default\r\n").as_bytes(),
        format!(":{}\r\n", clients.len() + 1).as_bytes(),
    );
    for (mut conn, id) in clients {
        assert!(conn.is_closed_by_server(), "client {id} closed");
    }
    // Errors, in Redis's words.
    killer.expect(
        b"CLIENT KILL\r\n",
        b"-ERR wrong number of arguments for 'client|kill' command\r\n",
    );
    killer.expect(
        b"CLIENT KILL ID 0\r\n",
        b"-ERR client-id should be greater than 0\r\n",
    );
    killer.expect(
        b"CLIENT KILL TYPE bob\r\n",
        b"-ERR Unknown client type 'bob'\r\n",
    );
    killer.expect(b"CLIENT KILL USER bob\r\n", b"-ERR No such user 'bob'\r\n");
    killer.expect(b"CLIENT KILL ID 1 TYPE\r\n", b"-ERR syntax error\r\n");
    // SKIPME no: the caller is killed too, after its reply; what follows
    // in its pipeline is not run.
    killer.send(b"CLIENT KILL SKIPME no\r\nPING\r\n");
    assert_eq!(killer.line(), ":1\r\n");
    assert!(killer.is_closed_by_server());
}

#[test]
fn client_info_describes_the_caller() {
    let server = Server::start_resp(3);
    let mut conn = server.connect_resp();
    conn.expect(b"HELLO 3\r\n", b"");
    let _ = conn.read_until(b"*0\r\n");
    conn.send(b"CLIENT NO-EVICT on\r\nCLIENT SETINFO LIB-NAME tests\r\nCLIENT INFO\r\n");
    assert_eq!(conn.line(), "+OK\r\n");
    assert_eq!(conn.line(), "+OK\r\n");
    let header = conn.line();
    assert!(header.starts_with('='), "a verbatim string: {header}");
    let len: usize = header[1..].trim().parse().unwrap();
    let body = String::from_utf8(conn.read_exact(len + 2)).unwrap();
    let text = body
        .strip_prefix("txt:")
        .and_then(|text| text.strip_suffix("\r\n"))
        .expect("txt format");
    let info = &parse_list(text)[0];
    assert_eq!(info["addr"], conn.local_addr().to_string());
    assert_eq!(info["flags"], "e");
    assert_eq!(info["resp"], "3");
    assert_eq!(info["lib-name"], "tests");
    assert_eq!(info["cmd"], "client|info");
    assert_eq!(info["db"], "0");
    assert_eq!(info["multi"], "-1");
    assert!(text.starts_with("id="), "{text}");
    assert!(text.ends_with("lib-ver=\n"), "{text}");
}

#[test]
fn client_reply_off_and_skip_drop_replies_as_redis_does() {
    let server = Server::start_resp(3);
    let other = key_on_shard("reply:", 2, 3);
    let cases: &[(&[&str], &[u8])] = &[
        (
            &["CLIENT REPLY OFF", "PING", "SET a 1", "GET a", "CLIENT REPLY ON", "PING"],
            b"+OK\r\n+PONG\r\n",
        ),
        (&["CLIENT REPLY SKIP", "PING a", "PING b"], b"$1\r\nb\r\n"),
        (
            &["CLIENT REPLY SKIP", "CLIENT REPLY SKIP", "PING a", "PING b"],
            b"$1\r\nb\r\n",
        ),
        (
            &["CLIENT REPLY OFF", "CLIENT REPLY SKIP", "PING a", "CLIENT REPLY ON", "PING b"],
            b"+OK\r\n$1\r\nb\r\n",
        ),
        (&["CLIENT REPLY SKIP", "NOSUCH", "PING b"], b"$1\r\nb\r\n"),
        (
            &["CLIENT REPLY foo", "CLIENT REPLY", "CLIENT REPLY OFF", "CLIENT REPLY foo", "CLIENT REPLY ON"],
            b"-ERR syntax error\r\n-ERR wrong number of arguments for 'client|reply' command\r\n+OK\r\n",
        ),
        (
            &["CLIENT REPLY SKIP", "MGET a b c d e f", "MGET a b", "CLIENT REPLY OFF", "MGET a b c d", "DEL a b c d", "CLIENT REPLY ON", "DEL x y z"],
            b"*2\r\n$1\r\n1\r\n$-1\r\n+OK\r\n:0\r\n",
        ),
    ];
    for (requests, expected) in cases {
        let mut conn = server.connect_resp();
        let mut wire = String::new();
        for request in *requests {
            wire.push_str(request);
            wire.push_str("\r\n");
        }
        // A probe after the case shows where its replies end.
        wire.push_str("ECHO end\r\n");
        conn.send(wire.as_bytes());
        let mut want = expected.to_vec();
        want.extend_from_slice(b"$3\r\nend\r\n");
        let got = conn.read_until(b"$3\r\nend\r\n");
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want),
            "{requests:?}"
        );
    }
    // A muted write to another shard still happens, and its late reply
    // does not leak into later replies.
    let mut conn = server.connect_resp();
    conn.send(format!("CLIENT REPLY SKIP\r\nSET {other} v\r\nGET {other}\r\n").as_bytes());
    assert_eq!(conn.read_until(b"v\r\n"), b"$1\r\nv\r\n");
    conn.expect(b"PING\r\n", b"+PONG\r\n");
}

#[test]
fn the_slow_log_sees_every_shard() {
    let server = Server::start_resp(3);
    let mut admin = server.redis(2);
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("slowlog-log-slower-than")
        .arg(0)
        .query(&mut admin)
        .unwrap();
    let _: () = redis::cmd("SLOWLOG")
        .arg("RESET")
        .query(&mut admin)
        .unwrap();
    let mut conns: Vec<Conn> = (0..CLIENTS).map(|_| server.connect_resp()).collect();
    let long = "x".repeat(200);
    for (i, conn) in conns.iter_mut().enumerate() {
        conn.expect(format!("CLIENT SETNAME s{i}\r\n").as_bytes(), b"+OK\r\n");
        conn.expect(format!("SET k{i} {long}\r\n").as_bytes(), b"+OK\r\n");
    }
    type Entry = (u64, u64, u64, Vec<String>, String, String);
    let entries: Vec<Entry> = redis::cmd("SLOWLOG")
        .arg("GET")
        .arg(-1)
        .query(&mut admin)
        .unwrap();
    // The RESET, then a SETNAME and a SET per client.
    assert_eq!(entries.len(), 1 + 2 * CLIENTS, "{entries:?}");
    let ids: Vec<u64> = entries.iter().map(|e| e.0).collect();
    let mut newest_first = ids.clone();
    newest_first.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(ids, newest_first);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    for (i, conn) in conns.iter().enumerate() {
        let set = entries
            .iter()
            .find(|e| e.3[0] == "SET" && e.3[1] == format!("k{i}"))
            .expect("each SET logged");
        assert_eq!(set.3[2], format!("{}... (72 more bytes)", &long[..128]));
        assert_eq!(set.4, conn.local_addr().to_string());
        assert_eq!(set.5, format!("s{i}"));
        assert!(set.1.abs_diff(now) < 60, "a Unix time: {}", set.1);
    }
    assert_eq!(entries.last().unwrap().3, ["SLOWLOG", "RESET"]);
    let two: Vec<Entry> = redis::cmd("SLOWLOG")
        .arg("GET")
        .arg(2)
        .query(&mut admin)
        .unwrap();
    assert_eq!(two.len(), 2);
    // The log keeps slowlog-max-len entries once the next one comes in.
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("slowlog-max-len")
        .arg(3)
        .query(&mut admin)
        .unwrap();
    let len: i64 = redis::cmd("SLOWLOG").arg("LEN").query(&mut admin).unwrap();
    assert_eq!(len, 3);
    // -1 turns it off.
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("slowlog-log-slower-than")
        .arg(-1)
        .query(&mut admin)
        .unwrap();
    let _: () = redis::cmd("SLOWLOG")
        .arg("RESET")
        .query(&mut admin)
        .unwrap();
    for conn in &mut conns {
        conn.expect(b"PING\r\n", b"+PONG\r\n");
    }
    let len: i64 = redis::cmd("SLOWLOG").arg("LEN").query(&mut admin).unwrap();
    assert_eq!(len, 0);
    let config: HashMap<String, String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("slowlog*")
        .query(&mut admin)
        .unwrap();
    assert_eq!(config["slowlog-log-slower-than"], "-1");
    assert_eq!(config["slowlog-max-len"], "3");
}

#[test]
fn object_and_memory_describe_keys_on_every_shard() {
    let server = Server::start_resp(3);
    let mut redis = server.redis(2);
    for shard in 0..3 {
        let key = |kind: &str| key_on_shard(&format!("{kind}:"), shard, 3);
        let (int, short, long) = (key("int"), key("short"), key("long"));
        let _: () = redis.set(&int, 12345).unwrap();
        let _: () = redis.set(&short, "a".repeat(44)).unwrap();
        let _: () = redis.set(&long, "a".repeat(45)).unwrap();
        let encoding = |key: &str, redis: &mut redis::Connection| -> Option<String> {
            redis::cmd("OBJECT")
                .arg("ENCODING")
                .arg(key)
                .query(redis)
                .unwrap()
        };
        assert_eq!(encoding(&int, &mut redis).as_deref(), Some("int"));
        assert_eq!(encoding(&short, &mut redis).as_deref(), Some("embstr"));
        assert_eq!(encoding(&long, &mut redis).as_deref(), Some("raw"));
        assert_eq!(encoding("missing", &mut redis), None);
        let refcount: i64 = redis::cmd("OBJECT")
            .arg("REFCOUNT")
            .arg(&int)
            .query(&mut redis)
            .unwrap();
        assert_eq!(refcount, 1, "12345 is not a shared integer");
        let idle: i64 = redis::cmd("OBJECT")
            .arg("IDLETIME")
            .arg(&int)
            .query(&mut redis)
            .unwrap();
        assert!((0..5).contains(&idle), "{idle}");
        let usage: i64 = redis::cmd("MEMORY")
            .arg("USAGE")
            .arg(&long)
            .arg("SAMPLES")
            .arg(0)
            .query(&mut redis)
            .unwrap();
        // The store's own count: 40 bytes of header and index slot.
        assert_eq!(usage, 40 + long.len() as i64 + 45);
    }
    let mut conn = server.connect_resp();
    conn.expect(
        b"SET small 7\r\nOBJECT REFCOUNT small\r\n",
        b"+OK\r\n:2147483647\r\n",
    );
    conn.expect(
        b"OBJECT FREQ small\r\n",
        b"-ERR An LFU maxmemory policy is not selected, access frequency not tracked. \
          Please note that when switching between policies at runtime LRU and LFU data \
          will take some time to adjust.\r\n",
    );
    conn.expect(b"OBJECT FREQ missing\r\n", b"$-1\r\n");
    conn.expect(
        b"OBJECT ENCODING\r\n",
        b"-ERR wrong number of arguments for 'object|encoding' command\r\n",
    );
    conn.expect(
        b"OBJECT foo bar\r\n",
        b"-ERR unknown subcommand 'foo'. Try OBJECT HELP.\r\n",
    );
    conn.expect(
        b"MEMORY USAGE small SAMPLES -1\r\n",
        b"-ERR syntax error\r\n",
    );
    conn.expect(b"MEMORY USAGE missing\r\n", b"$-1\r\n");
    conn.send(b"OBJECT HELP\r\n");
    assert_eq!(conn.line(), "*15\r\n");
}
