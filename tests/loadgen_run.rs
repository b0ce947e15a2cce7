//! loadgen against a real corecache: short counted runs over each protocol,
//! checking that the report's counts add up (every request sent is
//! answered, every get's keys are hits or misses) and that nothing fails.
//! Nothing here asserts on timing.

mod common;

use clap::Parser;
use common::Server;
use loadgen::{Cli, Report};

/// Runs loadgen with `args` after the program name.
fn loadgen(args: &[&str]) -> Report {
    let mut argv = vec!["loadgen", "--quiet"];
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_from(argv).expect("valid loadgen arguments");
    loadgen::run(&cli.run).expect("loadgen runs")
}

/// A counted run of `requests` over 2 threads of 3 pipelined connections
/// against a prefilled key space: every reply arrives and every get hits.
fn counted_run(server: &str, protocol: &str, multiget: usize, extra: &[&str]) {
    let requests = 3000u64;
    let (requests_s, multiget_s) = (requests.to_string(), multiget.to_string());
    let mut args = vec![
        "--protocol",
        protocol,
        "--server",
        server,
        "--threads",
        "2",
        "--connections",
        "3",
        "--pipeline",
        "4",
        "--keys",
        "500",
        "--prefill",
        "--ratio",
        "4:1",
        "--multiget",
        &multiget_s,
        "--value-size",
        "10-200",
        "--requests",
        &requests_s,
    ];
    args.extend_from_slice(extra);
    let report = loadgen(&args);
    let c = report.counters;
    assert_eq!(c.requests, requests, "{protocol}: {c:?}");
    assert_eq!(c.sent, c.requests, "{protocol}: every request answered");
    assert_eq!(c.gets + c.sets, c.requests);
    assert!(
        c.gets > 0 && c.sets > 0,
        "{protocol}: both kinds sent: {c:?}"
    );
    assert_eq!(
        c.hits + c.misses,
        c.gets * multiget as u64,
        "{protocol}: {c:?}"
    );
    assert_eq!(c.misses, 0, "{protocol}: the prefilled keys are all there");
    assert_eq!(
        (c.errors, c.timeouts, c.dropped, c.reconnects),
        (0, 0, 0, 0),
        "{protocol}: {c:?}"
    );
    assert!(c.bytes_sent > 0 && c.bytes_received > 0);
    let all = &report.latency_us["all"];
    assert_eq!(all.count, c.requests);
    assert_eq!(
        report.latency_us["get"].count + report.latency_us["set"].count,
        c.requests
    );
    assert!(all.p50 <= all.p99 && all.p99 <= all.max);
}

#[test]
fn memcache_text_counts_add_up() {
    let server = Server::start(2);
    let address = format!("127.0.0.1:{}", server.port);
    counted_run(&address, "memcache", 1, &[]);
    counted_run(&address, "memcache", 5, &["--distribution", "zipf:0.99"]);
}

#[test]
fn memcache_meta_counts_add_up() {
    let server = Server::start(2);
    let address = format!("127.0.0.1:{}", server.port);
    counted_run(&address, "meta", 1, &[]);
    counted_run(
        &address,
        "meta",
        4,
        &["--distribution", "sequential", "--ttl", "600"],
    );
}

#[test]
fn resp_counts_add_up() {
    let server = Server::start_resp(2);
    let address = format!("127.0.0.1:{}", server.resp_port.expect("a RESP port"));
    counted_run(&address, "resp", 1, &[]);
    counted_run(&address, "resp", 3, &["--resp3", "--ttl", "600"]);
}

/// Without a prefill the first gets miss; an open-loop timed run with a
/// warmup writes its JSON, and the JSON has the documented fields.
#[test]
fn open_loop_run_writes_its_reports() {
    let server = Server::start(1);
    let address = format!("127.0.0.1:{}", server.port);
    let dir = std::env::temp_dir().join(format!("loadgen-run-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json = dir.join("run.json");
    let (json_s, hdr_s, svg_s) = (
        json.display().to_string(),
        dir.join("run").display().to_string(),
        dir.join("run.svg").display().to_string(),
    );
    let report = loadgen(&[
        "--server",
        &address,
        "--connections",
        "4",
        "--keys",
        "100000",
        "--rate",
        "2000",
        "--duration",
        "1",
        "--warmup",
        "0.5",
        "--json",
        &json_s,
        "--hdr-out",
        &hdr_s,
        "--plot",
        &svg_s,
    ]);
    let c = report.counters;
    assert!(c.requests > 0);
    assert_eq!(c.sent, c.requests + c.dropped);
    assert_eq!((c.errors, c.dropped), (0, 0), "{c:?}");
    assert_eq!(c.hits + c.misses, c.gets);
    assert!(c.misses > 0, "an empty server misses: {c:?}");

    let text = std::fs::read_to_string(&json).unwrap();
    assert!(
        text.contains(&format!("\"requests\": {},", c.requests)),
        "{text}"
    );
    for field in ["errors", "hits", "misses", "ops_per_sec", "latency_us"] {
        assert!(
            text.contains(&format!("\"{field}\": ")),
            "JSON field {field}: {text}"
        );
    }
    for field in ["p50", "p90", "p99", "p999", "p9999", "max"] {
        // One each for all, get and set.
        assert_eq!(
            text.matches(&format!("\"{field}\": ")).count(),
            3,
            "latency_us.*.{field}"
        );
    }
    let curve = loadgen::plot::curve_from_json(&json, "all").unwrap();
    assert!(curve.points.len() > 10);
    let hgrm = std::fs::read_to_string(dir.join("run.all.hgrm")).unwrap();
    assert!(
        hgrm.contains(&format!("Total count    = {:>12}]", c.requests)),
        "{hgrm}"
    );
    assert!(std::fs::read_to_string(dir.join("run.svg"))
        .unwrap()
        .starts_with("<svg"));
    std::fs::remove_dir_all(dir).unwrap();
}
