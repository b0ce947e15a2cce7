//! Request parsing throughput of the memcached text protocol: the hot
//! requests (`get` of one and ten keys, `set` of a 100-byte value, `mg` with
//! flags), each parsed from a buffer holding exactly that request.

use std::hint::black_box;

use corecache::protocol::memcache::{parse, Limits, Parsed};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn requests() -> Vec<(&'static str, Vec<u8>)> {
    let ten_keys: Vec<String> = (0..10).map(|i| format!("user:profile:{i:04}")).collect();
    let mut set = b"set user:profile:0001 0 3600 100\r\n".to_vec();
    set.extend_from_slice(&[b'x'; 100]);
    set.extend_from_slice(b"\r\n");
    vec![
        ("get_1_key", b"get user:profile:0001\r\n".to_vec()),
        (
            "get_10_keys",
            format!("get {}\r\n", ten_keys.join(" ")).into_bytes(),
        ),
        ("set_100_bytes", set),
        (
            "mg_flags",
            b"mg user:profile:0001 s v t f c k Oopaque1 T3600\r\n".to_vec(),
        ),
    ]
}

fn parse_requests(c: &mut Criterion) {
    let limits = Limits {
        max_item_size: 1 << 20,
    };
    let mut group = c.benchmark_group("memcache_parser");
    for (name, request) in requests() {
        assert!(
            matches!(parse(&request, &limits), Parsed::Request { consumed, .. } if consumed == request.len()),
            "{name} must parse"
        );
        group.throughput(Throughput::Bytes(request.len() as u64));
        group.bench_function(name, |b| b.iter(|| parse(black_box(&request), &limits)));
    }
    group.finish();
}

criterion_group!(benches, parse_requests);
criterion_main!(benches);
