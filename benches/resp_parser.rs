//! Request parsing throughput of the RESP protocol: the hot requests (`GET`,
//! `SET` of a 100-byte value, a pipelined batch of 16 `GET`s) as a client
//! library sends them, and an inline `PING` as typed into telnet. Each is
//! parsed from a buffer holding exactly that, with warm reusable `Args`.

use std::hint::black_box;

use corecache::protocol::resp::{parse, Args, Limits, Parsed};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// `args` as a multibulk request.
fn multibulk(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Each benchmark: its name, its buffer, and how many requests it holds.
fn requests() -> Vec<(&'static str, Vec<u8>, usize)> {
    let get = multibulk(&[b"GET", b"user:profile:0001"]);
    let set = multibulk(&[b"SET", b"user:profile:0001", &[b'x'; 100]]);
    let batch: Vec<u8> = (0..16)
        .flat_map(|i| multibulk(&[b"GET", format!("user:profile:{i:04}").as_bytes()]))
        .collect();
    vec![
        ("get", get, 1),
        ("set_100_bytes", set, 1),
        ("pipeline_16_gets", batch, 16),
        ("inline_ping", b"PING\r\n".to_vec(), 1),
    ]
}

/// Parses every request in `buf`, returning how many there were.
fn parse_all(buf: &[u8], limits: &Limits, args: &mut Args) -> usize {
    let mut pos = 0;
    let mut count = 0;
    while let Parsed::Command { argv, consumed } = parse(&buf[pos..], limits, args) {
        black_box(argv.name());
        pos += consumed;
        count += 1;
    }
    count
}

fn parse_requests(c: &mut Criterion) {
    let limits = Limits::default();
    let mut args = Args::new();
    let mut group = c.benchmark_group("resp_parser");
    for (name, buf, expected) in requests() {
        assert_eq!(parse_all(&buf, &limits, &mut args), expected, "{name}");
        group.throughput(Throughput::Bytes(buf.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| parse_all(black_box(&buf), &limits, &mut args))
        });
    }
    group.finish();
}

criterion_group!(benches, parse_requests);
criterion_main!(benches);
