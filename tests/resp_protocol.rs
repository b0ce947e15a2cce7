//! The RESP front end over real TCP: raw bytes for the protocol's edges
//! (inline commands, errors, pipelining across shards), the `redis` crate
//! on RESP2 and RESP3 for the commands, and both protocols on one keyspace.
//! Expected replies are Redis 7's.

mod common;

use common::{key_on_shard, Options, Server};
use redis::Commands;

/// Runs `check` against a one-shard and a three-shard server (more shards
/// than this machine's cores must work too).
fn on_each_topology(check: impl Fn(&Server, usize)) {
    for threads in [1, 3] {
        let server = Server::start_resp(threads);
        check(&server, threads);
    }
}

#[test]
fn inline_commands_work_as_in_telnet() {
    on_each_topology(|server, _| {
        let mut conn = server.connect_resp();
        conn.expect(b"PING\r\n", b"+PONG\r\n");
        conn.expect(b"ping\n", b"+PONG\r\n");
        conn.expect(b"set greeting \"hello world\"\r\n", b"+OK\r\n");
        conn.expect(b"GET greeting\r\n", b"$11\r\nhello world\r\n");
        conn.expect(b"\r\nECHO 'it\\'s'\r\n", b"$4\r\nit's\r\n");
    });
}

#[test]
fn errors_are_worded_as_redis() {
    let server = Server::start_resp(1);
    let mut conn = server.connect_resp();
    conn.expect(
        b"*2\r\n$3\r\nFOO\r\n$1\r\na\r\n",
        b"-ERR unknown command 'FOO', with args beginning with: 'a' \r\n",
    );
    conn.expect(
        b"*1\r\n$3\r\nGET\r\n",
        b"-ERR wrong number of arguments for 'get' command\r\n",
    );
    conn.expect(
        b"INCRBY k x\r\n",
        b"-ERR value is not an integer or out of range\r\n",
    );
    conn.expect(
        b"SET k v PX 0\r\n",
        b"-ERR invalid expire time in 'set' command\r\n",
    );
    conn.expect(b"SET k v NX XX\r\n", b"-ERR syntax error\r\n");
    // The connection is still usable after command errors.
    conn.expect(b"PING\r\n", b"+PONG\r\n");
}

#[test]
fn protocol_errors_answer_then_close() {
    let server = Server::start_resp(1);
    for (request, error) in [
        (
            &b"*1\r\n$x\r\n"[..],
            &b"-ERR Protocol error: invalid bulk length\r\n"[..],
        ),
        (
            b"*abc\r\n",
            b"-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*1\r\n+PING\r\n",
            b"-ERR Protocol error: expected '$', got '+'\r\n",
        ),
        (
            b"GET \"unbalanced\r\n",
            b"-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
    ] {
        let mut conn = server.connect_resp();
        conn.send(b"PING\r\n");
        conn.send(request);
        assert_eq!(conn.read_exact(7), b"+PONG\r\n");
        assert_eq!(conn.read_exact(error.len()), error);
        assert!(
            conn.is_closed_by_server(),
            "{:?}",
            String::from_utf8_lossy(request)
        );
    }
}

#[test]
fn pipelined_replies_keep_request_order_across_shards() {
    let server = Server::start_resp(3);
    let mut conn = server.connect_resp();
    let keys: Vec<String> = (0..3).map(|shard| key_on_shard("p", shard, 3)).collect();
    let mut request = Vec::new();
    let mut expected = Vec::new();
    for round in 0..20 {
        for key in &keys {
            let value = format!("v{round}");
            request.extend_from_slice(format!("SET {key} {value}\r\nGET {key}\r\n").as_bytes());
            expected
                .extend_from_slice(format!("+OK\r\n${}\r\n{value}\r\n", value.len()).as_bytes());
        }
        request.extend_from_slice(
            format!("MGET {} {} {}\r\nPING\r\n", keys[0], keys[1], keys[2]).as_bytes(),
        );
        expected.extend_from_slice(b"*3\r\n");
        for _ in &keys {
            let value = format!("v{round}");
            expected.extend_from_slice(format!("${}\r\n{value}\r\n", value.len()).as_bytes());
        }
        expected.extend_from_slice(b"+PONG\r\n");
    }
    conn.send(&request);
    assert_eq!(
        String::from_utf8(conn.read_exact(expected.len())).unwrap(),
        String::from_utf8(expected).unwrap()
    );
}

#[test]
fn strings_through_the_redis_crate_on_resp2_and_resp3() {
    on_each_topology(|server, threads| {
        for protocol in [2, 3] {
            let mut redis = server.redis(protocol);
            let prefix = format!("r{protocol}t{threads}");
            let key = |name: &str| format!("{prefix}:{name}");
            let _: () = redis.set(key("a"), "1").unwrap();
            let got: Option<String> = redis.get(key("a")).unwrap();
            assert_eq!(got.as_deref(), Some("1"));
            let missing: Option<String> = redis.get(key("missing")).unwrap();
            assert_eq!(missing, None);
            let n: i64 = redis.incr(key("a"), 41).unwrap();
            assert_eq!(n, 42);
            let _: () = redis.set(key("b"), "x").unwrap();
            let values: Vec<Option<String>> =
                redis.mget(&[key("a"), key("nope"), key("b")]).unwrap();
            assert_eq!(values, vec![Some("42".into()), None, Some("x".into())]);
            let exists: i64 = redis.exists(&[key("a"), key("b"), key("nope")]).unwrap();
            assert_eq!(exists, 2);
            let _: () = redis.expire(key("a"), 100).unwrap();
            let ttl: i64 = redis.ttl(key("a")).unwrap();
            assert_eq!(ttl, 100);
            let len: i64 = redis.append(key("b"), "yz").unwrap();
            assert_eq!(len, 3);
            let deleted: i64 = redis.del(&[key("a"), key("b"), key("nope")]).unwrap();
            assert_eq!(deleted, 2);
            let pong: String = redis::cmd("PING").query(&mut redis).unwrap();
            assert_eq!(pong, "PONG");
        }
    });
}

#[test]
fn hello_switches_protocol_and_reports_the_redis_level() {
    let server = Server::start_resp(1);
    let mut conn = server.connect_resp();
    conn.send(b"HELLO 3\r\n");
    let reply = String::from_utf8(conn.read_until(b"$7\r\nmodules\r\n*0\r\n")).unwrap();
    assert!(reply.starts_with("%7\r\n"), "{reply}");
    assert!(
        reply.contains("$7\r\nversion\r\n$6\r\n7.0.15\r\n"),
        "{reply}"
    );
    conn.expect(b"GET nothing\r\n", b"_\r\n");
    conn.expect(b"HELLO 9\r\n", b"-NOPROTO unsupported protocol version\r\n");
}

#[test]
fn dbsize_and_flushall_cover_every_shard() {
    let server = Server::start_resp(3);
    let mut conn = server.connect_resp();
    for shard in 0..3 {
        let key = key_on_shard("d", shard, 3);
        conn.expect(format!("SET {key} v\r\n").as_bytes(), b"+OK\r\n");
    }
    conn.expect(b"DBSIZE\r\n", b":3\r\n");
    conn.expect(b"FLUSHALL\r\n", b"+OK\r\n");
    conn.expect(b"DBSIZE\r\n", b":0\r\n");
}

#[test]
fn one_keyspace_for_both_protocols() {
    on_each_topology(|server, _| {
        let mut memcached = server.connect();
        let mut resp = server.connect_resp();
        memcached.expect(b"set shared 5 0 5\r\nhello\r\n", b"STORED\r\n");
        resp.expect(b"GET shared\r\n", b"$5\r\nhello\r\n");
        resp.expect(b"SET fromresp world\r\n", b"+OK\r\n");
        memcached.expect(
            b"get fromresp\r\n",
            b"VALUE fromresp 0 5\r\nworld\r\nEND\r\n",
        );
        resp.expect(b"SET counter 10\r\n", b"+OK\r\n");
        memcached.expect(b"incr counter 5\r\n", b"15\r\n");
        resp.expect(b"INCR counter\r\n", b":16\r\n");
        memcached.expect(b"get counter\r\n", b"VALUE counter 0 2\r\n16\r\nEND\r\n");
        resp.expect(b"EXPIRE shared -1\r\n", b":1\r\n");
        memcached.expect(b"get shared\r\n", b"END\r\n");
    });
}

/// The `name:value` fields of an INFO text.
fn info_fields(text: &str) -> std::collections::HashMap<String, String> {
    text.split("\r\n")
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

#[test]
fn info_keyspace_counts_the_keys_of_every_shard() {
    let server = Server::start_resp(3);
    let mut conn = server.connect_resp();
    conn.expect(b"INFO keyspace\r\n", b"$12\r\n# Keyspace\r\n\r\n");
    for shard in 0..3 {
        for n in 0..2 {
            let key = key_on_shard(&format!("i{n}"), shard, 3);
            conn.expect(format!("SET {key} v\r\n").as_bytes(), b"+OK\r\n");
        }
    }
    let expected = "# Keyspace\r\ndb0:keys=6\r\n";
    conn.expect(
        b"INFO keyspace\r\n",
        format!("${}\r\n{expected}\r\n", expected.len()).as_bytes(),
    );
    conn.send(b"HELLO 3\r\n");
    conn.read_until(b"$7\r\nmodules\r\n*0\r\n");
    conn.expect(
        b"INFO KEYSPACE\r\n",
        format!("={}\r\ntxt:{expected}\r\n", expected.len() + 4).as_bytes(),
    );
    conn.expect(b"INFO nosuch\r\n", b"=4\r\ntxt:\r\n");
}

#[test]
fn info_through_the_redis_crate_on_resp2_and_resp3() {
    let server = Server::start_resp(3);
    for protocol in [2, 3] {
        let mut redis = server.redis(protocol);
        let _: () = redis.set("info-key", "1").unwrap();
        let text: String = redis::cmd("INFO").query(&mut redis).unwrap();
        let fields = info_fields(&text);
        assert_eq!(fields["redis_version"], "7.0.15", "{text}");
        assert_eq!(fields["tcp_port"], server.resp_port.unwrap().to_string());
        assert_eq!(fields["process_id"], server.pid().to_string());
        assert_eq!(fields["role"], "master");
        assert_eq!(fields["maxmemory_policy"], "allkeys-s3fifo");
        assert_eq!(fields["db0"], "keys=1");
        assert!(fields["used_memory"].parse::<u64>().unwrap() > 0, "{text}");
        assert!(
            fields["used_memory_rss"].parse::<u64>().unwrap() > 0,
            "{text}"
        );
        assert!(fields["connected_clients"].parse::<u64>().unwrap() >= 1);
        assert!(text.starts_with("# Server\r\n"), "{text}");
        // The crate's own parser reads INFO into a map.
        let info: redis::InfoDict = redis::cmd("INFO").arg("server").query(&mut redis).unwrap();
        assert_eq!(
            info.get::<String>("redis_mode").as_deref(),
            Some("standalone")
        );
    }
}

#[test]
fn config_get_reports_the_settings_the_server_runs_with() {
    let server = Server::with(Options {
        threads: 1,
        args: vec!["--maxmemory".into(), "1m".into()],
        resp: true,
        ..Options::default()
    });
    for protocol in [2, 3] {
        let mut redis = server.redis(protocol);
        let pairs: Vec<(String, String)> = redis::cmd("CONFIG")
            .arg("GET")
            .arg("maxmemory")
            .query(&mut redis)
            .unwrap();
        assert_eq!(pairs, vec![("maxmemory".into(), "1048576".into())]);
        let port: std::collections::HashMap<String, String> = redis::cmd("CONFIG")
            .arg("GET")
            .arg("PORT")
            .arg("save")
            .query(&mut redis)
            .unwrap();
        assert_eq!(port["port"], server.resp_port.unwrap().to_string());
        assert_eq!(port["save"], "");
        let text: String = redis::cmd("INFO").arg("memory").query(&mut redis).unwrap();
        assert_eq!(info_fields(&text)["maxmemory_human"], "1.00M", "{text}");
    }
    let mut conn = server.connect_resp();
    conn.expect(b"CONFIG GET nosuch*\r\n", b"*0\r\n");
    conn.expect(b"CONFIG SET maxmemory 2m\r\n", b"+OK\r\n");
    conn.expect(
        b"CONFIG GET maxmemory\r\n",
        b"*2\r\n$9\r\nmaxmemory\r\n$7\r\n2000000\r\n",
    );
    conn.expect(
        b"CONFIG SET maxclients 2\r\n",
        b"-ERR CONFIG SET failed (possibly related to argument 'maxclients') - can't set \
          immutable config\r\n",
    );
    conn.expect(
        b"CONFIG SET nosuch 1\r\n",
        b"-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n",
    );
    conn.expect(
        b"CONFIG NOSUCH\r\n",
        b"-ERR unknown subcommand 'NOSUCH'. Try CONFIG HELP.\r\n",
    );
}

#[test]
fn config_resetstat_zeroes_every_shards_counters() {
    let server = Server::start_resp(3);
    let mut conn = server.connect_resp();
    // Connections, some on other shards, counted there; each answered once,
    // so its shard has counted it before the reset.
    let mut others: Vec<_> = (0..6).map(|_| server.connect_resp()).collect();
    for other in &mut others {
        other.expect(b"PING\r\n", b"+PONG\r\n");
    }
    conn.send(b"INFO stats\r\n");
    let before = String::from_utf8(conn.read_until(b"evicted_keys:0\r\n\r\n")).unwrap();
    assert!(
        info_fields(&before)["total_connections_received"]
            .parse::<u64>()
            .unwrap()
            >= 7,
        "{before}"
    );
    conn.expect(b"CONFIG RESETSTAT\r\n", b"+OK\r\n");
    conn.send(b"INFO stats\r\n");
    let after = String::from_utf8(conn.read_until(b"evicted_keys:0\r\n\r\n")).unwrap();
    let fields = info_fields(&after);
    assert_eq!(fields["total_connections_received"], "0", "{after}");
    assert_eq!(fields["rejected_connections"], "0", "{after}");
    drop(others);
}
