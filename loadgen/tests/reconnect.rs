//! A server that closes connections mid-run: loadgen counts the requests it
//! lost and the reconnects, and still finishes its run.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

use clap::Parser;

/// A memcached stand-in that answers `get` with a miss and hangs up after
/// every fifth request.
fn flaky_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            std::thread::spawn(move || {
                let mut writer = stream.try_clone().unwrap();
                let mut lines = BufReader::new(stream).lines();
                for _ in 0..5 {
                    match lines.next() {
                        Some(Ok(line)) if line.starts_with("get ") => {
                            if writer.write_all(b"END\r\n").is_err() {
                                return;
                            }
                        }
                        _ => return,
                    }
                }
            });
        }
    });
    port
}

#[test]
fn closed_connections_are_counted_and_reopened() {
    let port = flaky_server();
    let server = format!("127.0.0.1:{port}");
    let cli = loadgen::Cli::try_parse_from([
        "loadgen",
        "--quiet",
        "--server",
        &server,
        "--connections",
        "2",
        "--ratio",
        "1:0",
        "--requests",
        "40",
    ])
    .unwrap();
    let report = loadgen::run(&cli.run).unwrap();
    let c = report.counters;
    assert!(c.reconnects >= 4, "{c:?}");
    assert_eq!(c.requests, c.misses, "every answer was a miss");
    assert_eq!(c.sent, c.requests + c.dropped);
    assert_eq!(c.sent, 40);
}
