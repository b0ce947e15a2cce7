//! Store lookups and stores, warm and cold.
//!
//! - `get_warm`: hits on a 10k-item store (memaslap's key count), keys in a
//!   random order; the working set stays in the caches.
//! - `get_cold`: hits on a 4M-item store, random keys, so the working set
//!   (~1 GB) far exceeds L2 and L3: every lookup pays its cache misses, as
//!   in the server, where the kernel's TCP work evicts the store between
//!   requests.
//! - `multiget10_cold`: ten cold hits in a row, the work of one `get k1 …
//!   k10` (reported per 10 keys); `multiget10_cold_prefetch` hashes the ten
//!   keys and prefetches their index lines first ([`Store::prefetch`]),
//!   `multiget10_cold_prefetch_items` also prefetches their items
//!   ([`Store::prefetch_item`]) before looking them up.
//! - `set_overwrite`: `set` of a 100-byte value over an existing key
//!   (10k keys, random order).
//! - `set_new_x10k`: 10k `set`s of a 100-byte value under new keys into an
//!   empty store, growth included (reported per 10k).
//!
//! Every hit does what a `get` does with the item: marks it fetched and
//! copies its value into an output buffer. Keys are 24 bytes and share an
//! 8-byte prefix, like memaslap's.

use std::hint::black_box;

use corecache::clock::Now;
use corecache::store::{ItemMeta, Store};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

const NOW: Now = Now(1_700_000_000_000);
const KEY_LEN: usize = 24;
const VALUE: [u8; 100] = [b'v'; 100];
const WARM_ITEMS: u64 = 10_000;
const COLD_ITEMS: u64 = 4_000_000;
/// Random keys drawn for the cold lookups: enough that the items they touch
/// (~1M × 256 bytes) do not fit in L3 either.
const COLD_SAMPLE: usize = 1 << 20;

/// Key number `n`: an 8-byte shared prefix and 16 decimal digits.
fn key(n: u64, out: &mut [u8; KEY_LEN]) {
    out[..8].copy_from_slice(b"memaslap");
    let mut n = n;
    for byte in out[8..].iter_mut().rev() {
        *byte = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// splitmix64: a small, good-enough random sequence.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

fn filled_store(items: u64) -> Store {
    let mut store = Store::new();
    let mut buf = [0; KEY_LEN];
    for n in 0..items {
        key(n, &mut buf);
        let meta = ItemMeta {
            cas: n + 1,
            ..ItemMeta::default()
        };
        store.insert(&buf, &VALUE, meta, NOW).unwrap();
    }
    store
}

/// `count` keys of a store of `items`, drawn at random, back to back in
/// one buffer.
fn random_keys(items: u64, count: usize, seed: u64) -> Vec<[u8; KEY_LEN]> {
    let mut rng = Rng(seed);
    let mut keys = vec![[0; KEY_LEN]; count];
    for slot in &mut keys {
        key(rng.next() % items, slot);
    }
    keys
}

/// One `get` hit as the command layer does it.
#[inline(always)]
fn get(store: &mut Store, key: &[u8], out: &mut Vec<u8>) {
    if let Some(mut item) = store.get(key, NOW) {
        item.mark_fetched(NOW);
        out.extend_from_slice(item.value());
    }
}

fn lookups(c: &mut Criterion) {
    let mut group = c.benchmark_group("store");
    let mut out = Vec::with_capacity(4096);

    let mut warm = filled_store(WARM_ITEMS);
    let warm_keys = random_keys(WARM_ITEMS, 1 << 14, 1);
    let mut next = 0;
    group.throughput(Throughput::Elements(1));
    group.bench_function("get_warm", |b| {
        b.iter(|| {
            out.clear();
            let key = &warm_keys[next % warm_keys.len()];
            next += 1;
            get(&mut warm, black_box(key), &mut out);
            black_box(out.len())
        })
    });

    group.bench_function("set_overwrite", |b| {
        b.iter(|| {
            let key = &warm_keys[next % warm_keys.len()];
            next += 1;
            let meta = ItemMeta {
                cas: next as u64,
                ..ItemMeta::default()
            };
            let item = warm.insert(black_box(key), black_box(&VALUE), meta, NOW);
            black_box(item.is_ok())
        })
    });
    drop(warm);

    group.throughput(Throughput::Elements(10_000));
    group.bench_function("set_new_x10k", |b| {
        b.iter_batched_ref(
            Store::new,
            |store| {
                let mut buf = [0; KEY_LEN];
                for n in 0..10_000 {
                    key(n, &mut buf);
                    store
                        .insert(black_box(&buf), &VALUE, ItemMeta::default(), NOW)
                        .unwrap();
                }
            },
            BatchSize::PerIteration,
        )
    });

    group.throughput(Throughput::Elements(1));
    let mut cold = filled_store(COLD_ITEMS);
    let cold_keys = random_keys(COLD_ITEMS, COLD_SAMPLE, 2);
    let mut next = 0;
    group.bench_function("get_cold", |b| {
        b.iter(|| {
            out.clear();
            let key = &cold_keys[next % COLD_SAMPLE];
            next += 1;
            get(&mut cold, black_box(key), &mut out);
            black_box(out.len())
        })
    });

    group.throughput(Throughput::Elements(10));
    group.bench_function("multiget10_cold", |b| {
        b.iter(|| {
            out.clear();
            let start = (next * 10) % (COLD_SAMPLE - 10);
            next += 1;
            for key in &cold_keys[start..start + 10] {
                get(&mut cold, black_box(key), &mut out);
            }
            black_box(out.len())
        })
    });

    let mut hashes = Vec::with_capacity(10);
    for (name, items_too) in [
        ("multiget10_cold_prefetch", false),
        ("multiget10_cold_prefetch_items", true),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                out.clear();
                let start = (next * 10) % (COLD_SAMPLE - 10);
                next += 1;
                let keys = &cold_keys[start..start + 10];
                hashes.clear();
                hashes.extend(keys.iter().map(|key| cold.prefetch(black_box(key))));
                if items_too {
                    for &hash in &hashes {
                        cold.prefetch_item(hash);
                    }
                }
                for (key, &hash) in keys.iter().zip(&hashes) {
                    if let Some(mut item) = cold.get_hashed(key, hash, NOW) {
                        item.mark_fetched(NOW);
                        out.extend_from_slice(item.value());
                    }
                }
                black_box(out.len())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, lookups);
criterion_main!(benches);
