//! Start-up, limits and shutdown of the corecache binary: clear one-line
//! errors for bad settings, refused connections over the limit, and a
//! graceful stop on SIGTERM.

mod common;

use std::process::Command;

use common::{free_port, is_corecache, key_on_shard, Options, Server};

fn corecache() -> Command {
    Command::new(env!("CARGO_BIN_EXE_corecache"))
}

/// Runs corecache with `args`, expecting it to fail at start-up; returns
/// (exit code, stderr).
fn start_failure(args: &[&str]) -> (i32, String) {
    let output = corecache()
        .args(["--resp-port", "0"])
        .args(args)
        .output()
        .expect("run corecache");
    assert!(!output.status.success(), "corecache {args:?} started");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn help_documents_every_flag() {
    let output = corecache().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in [
        "--threads",
        "--bind",
        "--memcache-port",
        "--resp-port",
        "--max-item-size",
        "--max-connections",
        "--maxmemory",
        "--config",
    ] {
        assert!(
            help.contains(flag),
            "--help does not mention {flag}:\n{help}"
        );
    }
}

#[test]
fn a_port_in_use_is_one_clear_line() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let (code, stderr) = start_failure(&["--memcache-port", &port]);
    assert_eq!(code, 1);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("Address already in use"), "{stderr}");
    assert!(stderr.contains("--memcache-port"), "{stderr}");
}

#[test]
fn bad_flag_values_are_refused() {
    for args in [
        &["--threads", "0"][..],
        &["--max-item-size", "12q"],
        &["--max-item-size", "10"],
        &["--memcache-port", "70000"],
        &["--bind", "not-an-address"],
    ] {
        let (code, stderr) = start_failure(args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn a_low_memlock_limit_says_what_to_raise() {
    let port = free_port().to_string();
    let output = Command::new("prlimit")
        .args(["--memlock=65536:65536", env!("CARGO_BIN_EXE_corecache")])
        .args(["--memcache-port", &port, "--resp-port", "0"])
        .output()
        .expect("prlimit (util-linux) runs corecache");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("ulimit -l"), "{stderr}");
}

#[test]
fn the_config_file_sets_the_same_names() {
    if !is_corecache() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("corecache-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("corecache.toml");
    let port = free_port();
    std::fs::write(
        &path,
        format!("memcache-port = {port}\nresp-port = 0\nthreads = 2\nmax-item-size = \"2k\"\n"),
    )
    .unwrap();
    let server = Server::with(Options {
        args: vec!["--config".into(), path.display().to_string()],
        ..Options::default()
    });
    let mut c = server.connect();
    c.send(b"stats settings\r\n");
    let settings = String::from_utf8(c.read_until(b"END\r\n")).unwrap();
    assert!(
        settings.contains("STAT item_size_max 2048\r\n"),
        "{settings}"
    );
    // The flag given on the command line (the harness's port) wins.
    assert_ne!(server.port, port);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn connections_over_the_limit_are_refused_and_counted() {
    if !is_corecache() {
        return; // memcached counts reserved descriptors in -c.
    }
    let server = Server::with(Options {
        max_connections: Some(2),
        threads: 2,
        ..Options::default()
    });
    // The harness's readiness probe may hold a place for a moment: wait
    // until two connections are both served.
    let (first, second) = (0..200)
        .find_map(|_| {
            let mut first = server.connect();
            let mut second = server.connect();
            let ok = version_of(&mut first).starts_with(b"VERSION")
                && version_of(&mut second).starts_with(b"VERSION");
            if !ok {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            ok.then_some((first, second))
        })
        .expect("two connections are served");
    let mut third = server.connect();
    assert_eq!(third.line(), "ERROR Too many open connections\r\n");
    assert!(third.is_closed_by_server());
    drop(second);
    drop(first);
    // The freed place is taken again (the close may take a moment to count).
    let mut stats = None;
    for _ in 0..500 {
        let mut again = server.connect();
        again.send(b"stats\r\n");
        let mut reply = Vec::new();
        let line = again.line();
        if line.starts_with("ERROR") {
            std::thread::sleep(std::time::Duration::from_millis(20));
            continue;
        }
        reply.extend_from_slice(line.as_bytes());
        reply.extend(again.read_until(b"END\r\n"));
        stats = Some(String::from_utf8(reply).unwrap());
        break;
    }
    let stats = stats.expect("a place freed by a closed connection is reusable");
    assert!(stats.contains("STAT rejected_connections "), "{stats}");
    assert!(
        !stats.contains("STAT rejected_connections 0\r\n"),
        "{stats}"
    );
}

fn version_of(c: &mut common::Conn) -> Vec<u8> {
    c.send(b"version\r\n");
    c.read_until(b"\r\n")
}

#[test]
fn sigterm_finishes_replies_in_flight_then_exits_cleanly() {
    if !is_corecache() {
        return;
    }
    let server = Server::start(2);
    let mut c = server.connect();
    let size = 300_000;
    let key = key_on_shard("big", 1, 2);
    let mut set = format!("set {key} 0 0 {size}\r\n").into_bytes();
    set.extend(std::iter::repeat_n(b'v', size));
    set.extend_from_slice(b"\r\n");
    c.expect(&set, b"STORED\r\n");
    c.send(format!("get {key}\r\nget {key}\r\nget {key}\r\n").as_bytes());
    // The replies are being produced: now ask the server to stop.
    let first = c.read_exact(6);
    assert_eq!(first, b"VALUE ");
    let pid = server.pid() as i32;
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let header = format!("VALUE {key} 0 {size}\r\n");
    let one_reply = header.len() + size + 2 + 5;
    let rest = c.read_exact(3 * one_reply - 6);
    assert!(rest.ends_with(b"\r\nEND\r\n"));
    assert!(c.is_closed_by_server());
    let status = server.wait_exit();
    assert!(status.success(), "exit status after SIGTERM: {status}");
}

#[test]
fn more_threads_than_cpus_work() {
    let server = Server::start(5);
    let mut c = server.connect();
    let keys: Vec<String> = (0..5).map(|s| key_on_shard("t", s, 5)).collect();
    let mut expected = String::new();
    for key in &keys {
        c.expect(
            format!("set {key} 0 0 1\r\nx\r\n").as_bytes(),
            b"STORED\r\n",
        );
        expected.push_str(&format!("VALUE {key} 0 1\r\nx\r\n"));
    }
    expected.push_str("END\r\n");
    c.expect(
        format!("get {}\r\n", keys.join(" ")).as_bytes(),
        expected.as_bytes(),
    );
}
