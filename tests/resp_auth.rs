//! Authentication over real TCP: `--requirepass`, `AUTH` in both forms,
//! `HELLO … AUTH`, `NOAUTH` for everything else, `RESET` logging out,
//! Redis's tighter protocol limits before authentication, and `CONFIG SET
//! requirepass` applying to new connections only. Replies checked against
//! redis-server 7.0.15 (`--requirepass s3cret`).

mod common;

use common::{Options, Server, REPLY_TIMEOUT};

const NOAUTH: &[u8] = b"-NOAUTH Authentication required.\r\n";
const WRONGPASS: &[u8] = b"-WRONGPASS invalid username-password pair or user is disabled.\r\n";

fn with_password(threads: usize) -> Server {
    Server::with(Options {
        threads,
        resp: true,
        args: vec!["--requirepass".into(), "s3cret".into()],
        ..Options::default()
    })
}

/// A `redis` crate connection that authenticates through its URL.
fn redis_with_password(
    server: &Server,
    protocol: u8,
    password: &str,
) -> redis::RedisResult<redis::Connection> {
    let port = server.resp_port.expect("RESP port");
    let url = format!("redis://:{password}@127.0.0.1:{port}/?protocol=resp{protocol}");
    redis::Client::open(url.as_str())?.get_connection_with_timeout(REPLY_TIMEOUT)
}

#[test]
fn a_password_guards_every_command_but_the_connection_ones() {
    let server = with_password(2);
    let mut conn = server.connect_resp();
    conn.expect(b"GET k\r\n", NOAUTH);
    conn.expect(b"PING\r\n", NOAUTH);
    // Unknown commands and wrong arity are answered before the check.
    conn.expect(
        b"NOSUCH\r\n",
        b"-ERR unknown command 'NOSUCH', with args beginning with: \r\n",
    );
    conn.expect(
        b"GET\r\n",
        b"-ERR wrong number of arguments for 'get' command\r\n",
    );
    conn.expect(b"AUTH wrong\r\n", WRONGPASS);
    conn.expect(b"AUTH nobody s3cret\r\n", WRONGPASS);
    conn.expect(b"AUTH a b c\r\n", b"-ERR syntax error\r\n");
    conn.expect(
        b"HELLO 3\r\n",
        b"-NOAUTH HELLO must be called with the client already authenticated, otherwise the \
          HELLO AUTH <user> <pass> option can be used to authenticate the client and \
          select the RESP protocol version at the same time\r\n",
    );
    conn.expect(b"HELLO 3 AUTH default wrong\r\n", WRONGPASS);
    conn.expect(b"GET k\r\n", NOAUTH);
    conn.expect(b"AUTH s3cret\r\n", b"+OK\r\n");
    conn.expect(b"SET k v\r\n", b"+OK\r\n");
    conn.expect(b"GET k\r\n", b"$1\r\nv\r\n");
    // RESET logs the connection out again.
    conn.expect(b"RESET\r\n", b"+RESET\r\n");
    conn.expect(b"GET k\r\n", NOAUTH);
    conn.expect(b"AUTH default s3cret\r\n", b"+OK\r\n");
    conn.expect(b"GET k\r\n", b"$1\r\nv\r\n");
    conn.expect(b"QUIT\r\n", b"+OK\r\n");

    // HELLO with credentials authenticates and switches protocol at once.
    let mut conn = server.connect_resp();
    conn.send(b"HELLO 3 AUTH default s3cret SETNAME app\r\n");
    let hello = conn.read_until(b"modules\r\n*0\r\n");
    assert!(
        hello.starts_with(b"%7\r\n"),
        "{}",
        String::from_utf8_lossy(&hello)
    );
    conn.expect(b"GET nosuch\r\n", b"_\r\n");
    conn.expect(b"CLIENT GETNAME\r\n", b"$3\r\napp\r\n");
}

#[test]
fn clients_authenticate_through_their_urls() {
    let server = with_password(2);
    for protocol in [2, 3] {
        let mut redis = redis_with_password(&server, protocol, "s3cret").unwrap();
        let _: () = redis::cmd("SET")
            .arg("a")
            .arg("1")
            .query(&mut redis)
            .unwrap();
        let value: String = redis::cmd("GET").arg("a").query(&mut redis).unwrap();
        assert_eq!(value, "1");
        let wrong = redis_with_password(&server, protocol, "nope");
        let error = wrong.err().expect("a wrong password fails");
        // The crate reports AUTH's WRONGPASS as an authentication failure
        // and HELLO's as the error itself.
        let refused = error.kind() == redis::ErrorKind::AuthenticationFailed
            || error.code() == Some("WRONGPASS");
        assert!(refused, "{error:?}");
    }
}

#[test]
fn unauthenticated_clients_get_tighter_protocol_limits() {
    let server = with_password(1);
    let mut conn = server.connect_resp();
    conn.expect(
        b"*11\r\n",
        b"-ERR Protocol error: unauthenticated multibulk length\r\n",
    );
    assert!(conn.is_closed_by_server());
    let mut conn = server.connect_resp();
    conn.expect(
        b"*2\r\n$4\r\nAUTH\r\n$16385\r\n",
        b"-ERR Protocol error: unauthenticated bulk length\r\n",
    );
    assert!(conn.is_closed_by_server());
    // Once authenticated, the usual limits.
    let mut conn = server.connect_resp();
    conn.expect(b"AUTH s3cret\r\n", b"+OK\r\n");
    let mut request = b"*12\r\n$4\r\nMSET\r\n".to_vec();
    for n in 0..5 {
        request.extend_from_slice(format!("$2\r\nk{n}\r\n$1\r\n{n}\r\n").as_bytes());
    }
    request.extend_from_slice(b"$1\r\nx\r\n");
    conn.expect(
        &request,
        b"-ERR wrong number of arguments for 'mset' command\r\n",
    );
}

#[test]
fn config_set_requirepass_applies_to_new_connections() {
    let server = with_password(2);
    let mut admin = server.connect_resp();
    admin.expect(b"AUTH s3cret\r\n", b"+OK\r\n");
    admin.expect(
        b"CONFIG GET requirepass\r\n",
        b"*2\r\n$11\r\nrequirepass\r\n$6\r\ns3cret\r\n",
    );
    admin.expect(b"CONFIG SET requirepass \"\"\r\n", b"+OK\r\n");
    let mut open = server.connect_resp();
    open.expect(b"PING\r\n", b"+PONG\r\n");
    open.expect(
        b"AUTH x\r\n",
        b"-ERR AUTH <password> called without any password configured for the default user. \
          Are you sure your configuration is correct?\r\n",
    );
    admin.expect(b"CONFIG SET requirepass n3w\r\n", b"+OK\r\n");
    // Connections already in stay in; new ones must authenticate.
    open.expect(b"PING\r\n", b"+PONG\r\n");
    admin.expect(b"PING\r\n", b"+PONG\r\n");
    let mut fresh = server.connect_resp();
    fresh.expect(b"PING\r\n", NOAUTH);
    fresh.expect(b"AUTH s3cret\r\n", WRONGPASS);
    fresh.expect(b"AUTH n3w\r\n", b"+OK\r\n");
    fresh.expect(b"PING\r\n", b"+PONG\r\n");
}

#[test]
fn without_a_password_the_default_user_accepts_any() {
    let server = Server::start_resp(1);
    let mut conn = server.connect_resp();
    conn.expect(b"PING\r\n", b"+PONG\r\n");
    conn.expect(b"AUTH default anything\r\n", b"+OK\r\n");
    conn.expect(b"AUTH Default anything\r\n", WRONGPASS);
    conn.expect(
        b"AUTH anything\r\n",
        b"-ERR AUTH <password> called without any password configured for the default user. \
          Are you sure your configuration is correct?\r\n",
    );
    conn.send(b"HELLO 2 AUTH default whatever\r\n");
    let hello = conn.read_until(b"modules\r\n*0\r\n");
    assert!(
        hello.starts_with(b"*14\r\n"),
        "{}",
        String::from_utf8_lossy(&hello)
    );
}
