//! Debian's `redis-cli` (redis-tools 7) against corecache on three shards:
//! plain commands in RESP2 and RESP3, `--scan`, `--bigkeys`, `--pipe`,
//! `-r`, and `-a` against a password. Skipped with a note when redis-cli is
//! not installed, unless `CORECACHE_REQUIRE_REDIS_CLI` is set (CI sets it
//! and installs redis-tools).

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::{key_on_shard, Options, Server};

/// Whether redis-cli can run here; panics if it must and cannot.
fn have_redis_cli() -> bool {
    let found = Command::new("redis-cli")
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success());
    if !found {
        assert!(
            std::env::var_os("CORECACHE_REQUIRE_REDIS_CLI").is_none(),
            "redis-cli is missing: install redis-tools"
        );
        eprintln!("redis-cli is missing (install redis-tools): skipped");
    }
    found
}

/// Runs `redis-cli -p PORT args…` with `stdin`, and returns what it printed.
fn cli(server: &Server, args: &[&str], stdin: &[u8]) -> String {
    let port = server.resp_port.expect("RESP port").to_string();
    let mut child = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("redis-cli runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write to redis-cli");
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().expect("redis-cli ends");
    let stdout = String::from_utf8_lossy(&stdout).into_owned();
    assert!(
        status.success(),
        "redis-cli {args:?} failed: {stdout}{}",
        String::from_utf8_lossy(&stderr)
    );
    stdout
}

#[test]
fn redis_cli_commands_scans_and_pipes() {
    if !have_redis_cli() {
        return;
    }
    let server = Server::start_resp(3);
    assert_eq!(cli(&server, &["PING"], b""), "PONG\n");
    assert_eq!(cli(&server, &["SET", "greeting", "hello"], b""), "OK\n");
    assert_eq!(cli(&server, &["GET", "greeting"], b""), "hello\n");
    // Not a terminal: a nil prints as an empty line (as against Redis).
    assert_eq!(cli(&server, &["-3", "GET", "missing"], b""), "\n");
    assert_eq!(
        cli(&server, &["-r", "3", "INCR", "counter"], b""),
        "1\n2\n3\n"
    );
    assert_eq!(
        cli(&server, &["NOSUCH"], b""),
        "ERR unknown command 'NOSUCH', with args beginning with: \n\n"
    );

    // Keys on every shard, loaded through --pipe.
    let keys: Vec<String> = (0..30)
        .map(|n| key_on_shard(&format!("user:{n}:"), n % 3, 3))
        .collect();
    let mut commands = Vec::new();
    for key in &keys {
        commands.extend_from_slice(
            format!("*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n$1\r\nv\r\n", key.len()).as_bytes(),
        );
    }
    let piped = cli(&server, &["--pipe"], &commands);
    assert!(piped.contains("errors: 0, replies: 30"), "{piped}");

    let mut scanned: Vec<String> = cli(&server, &["--scan", "--pattern", "user:*"], b"")
        .lines()
        .map(str::to_string)
        .collect();
    scanned.sort();
    let mut expected = keys.clone();
    expected.sort();
    assert_eq!(scanned, expected);

    let info = cli(&server, &["INFO", "keyspace"], b"");
    assert!(info.contains("db0:keys=32"), "{info}");
    let big = cli(&server, &["--bigkeys"], b"");
    assert!(big.contains("Biggest string found"), "{big}");
    assert!(big.contains("32 strings with"), "{big}");
}

#[test]
fn redis_cli_authenticates_with_a_password() {
    if !have_redis_cli() {
        return;
    }
    let server = Server::with(Options {
        threads: 2,
        resp: true,
        args: vec!["--requirepass".into(), "s3cret".into()],
        ..Options::default()
    });
    assert_eq!(
        cli(&server, &["PING"], b""),
        "NOAUTH Authentication required.\n\n"
    );
    assert_eq!(
        cli(&server, &["-a", "s3cret", "--no-auth-warning", "PING"], b""),
        "PONG\n"
    );
    assert_eq!(
        cli(
            &server,
            &[
                "--user",
                "default",
                "--pass",
                "s3cret",
                "--no-auth-warning",
                "-3",
                "PING"
            ],
            b""
        ),
        "PONG\n"
    );
}
