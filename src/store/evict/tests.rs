//! Eviction and accounting tests: each policy's victim, the limit held,
//! accounting that balances to zero, and a hit-ratio comparison of the
//! policies on one Zipf(0.99) trace.

use super::*;
use crate::clock::ExpiresAt;
use crate::store::ItemMeta;

const T0: Now = Now(1_700_000_000_000);

fn at(secs: u64) -> Now {
    Now(T0.0 + secs * 1000)
}

fn ttl(now: Now, secs: u64) -> ItemMeta {
    ItemMeta {
        expires_at: ExpiresAt::at_millis(now.0 + secs * 1000),
        ..ItemMeta::default()
    }
}

/// A store limited to its current use plus `room` bytes.
fn limited(store: &mut Store, room: u64, policy: EvictionPolicy) {
    let limit = store.used_memory() + room;
    store.set_memory_limit(limit, policy);
}

fn keys(store: &mut Store, names: &[&[u8]], now: Now) -> Vec<bool> {
    names
        .iter()
        .map(|key| store.get(key, now).is_some())
        .collect()
}

#[test]
fn accounting_balances_to_zero() {
    let mut store = Store::new();
    let empty = store.used_memory();
    assert_eq!(empty, 64, "one empty bucket");
    for i in 0..500u32 {
        let key = format!("key:{i}");
        store
            .insert(
                key.as_bytes(),
                &vec![b'v'; (i % 300) as usize],
                ItemMeta::default(),
                T0,
            )
            .unwrap();
    }
    let table = store.index.table_bytes() as u64;
    assert!(store.used_memory() > table + 500 * 40);
    // Overwrites, appends and prepends, growing and shrinking.
    for i in 0..500u32 {
        let key = format!("key:{i}");
        store
            .insert(
                key.as_bytes(),
                &vec![b'w'; (i * 7 % 1000) as usize],
                ItemMeta::default(),
                T0,
            )
            .unwrap();
        let mut item = store.get(key.as_bytes(), T0).unwrap();
        item.append_value(&[b'a'; 100]);
        item.prepend_value(b"p");
        if i % 3 == 0 {
            item.set_value(b"");
        }
    }
    // The gauge is the sum of the blocks' real sizes.
    let mut blocks = 0;
    for i in 0..500u32 {
        let key = format!("key:{i}");
        let slot = store
            .index
            .find(store.index.hash(key.as_bytes()), key.as_bytes());
        blocks += store.index.item(slot.unwrap()).footprint() as u64;
    }
    assert_eq!(store.memory.items, blocks);
    assert_eq!(store.stats().used_memory, store.used_memory());
    for i in 0..250u32 {
        assert!(store.remove(format!("key:{i}").as_bytes()));
    }
    store.flush_all();
    assert_eq!(store.memory.items, 0);
    assert_eq!(store.stats().bytes, 0);
    assert_eq!(store.used_memory(), empty);
    assert_eq!(store.stats().used_memory, empty);
}

#[test]
fn noeviction_refuses_writes_once_over_the_limit() {
    let mut store = Store::new();
    store.set_memory_limit(16 << 10, EvictionPolicy::NoEviction);
    let mut stored = 0;
    // Each write checks first, as the front ends do.
    while store.make_room_for_write(T0) {
        let key = format!("k{stored}");
        store
            .insert(key.as_bytes(), &[0; 200], ItemMeta::default(), T0)
            .unwrap();
        stored += 1;
        assert!(stored < 1000, "never refused");
    }
    assert!(store.used_memory() > 16 << 10);
    assert!(store.used_memory() < (16 << 10) + 300);
    assert!(!store.make_room_for_write(T0));
    assert_eq!(store.stats().evictions, 0);
    assert_eq!(store.len(), stored);
    // A smaller overwrite and a removal still work; then writes do again.
    store.insert(b"k0", b"", ItemMeta::default(), T0).unwrap();
    store.remove(b"k1");
    assert!(store.make_room_for_write(T0));
}

#[test]
fn lru_evicts_the_least_recently_used() {
    let mut store = Store::new();
    let names: [&[u8]; 4] = [b"a", b"b", b"c", b"d"];
    for (i, key) in names.iter().enumerate() {
        store
            .insert(key, &[0; 100], ItemMeta::default(), at(i as u64))
            .unwrap();
    }
    // `a` is used again, so `b` is now the least recently used.
    store.get(b"a", at(10)).unwrap().mark_fetched(at(10));
    limited(&mut store, 0, EvictionPolicy::AllKeysLru);
    store
        .insert(b"e", &[0; 100], ItemMeta::default(), at(11))
        .unwrap();
    assert_eq!(store.stats().evictions, 1);
    assert_eq!(
        keys(&mut store, &[b"a", b"b", b"c", b"d", b"e"], at(11)),
        [true, false, true, true, true]
    );
}

#[test]
fn lfu_evicts_the_least_frequently_used() {
    let mut store = Store::new();
    store.set_memory_limit(0, EvictionPolicy::AllKeysLfu);
    let names: [&[u8]; 4] = [b"a", b"b", b"c", b"d"];
    for key in names {
        store
            .insert(key, &[0; 100], ItemMeta::default(), T0)
            .unwrap();
    }
    for key in [b"a", b"c", b"d"] {
        for _ in 0..200 {
            store.get(key, T0).unwrap().set_last_access(T0);
        }
    }
    assert_eq!(
        store.get(b"b", T0).unwrap().lfu_frequency(T0),
        Some(LFU_INIT)
    );
    assert!(store.get(b"a", T0).unwrap().lfu_frequency(T0).unwrap() > LFU_INIT + 2);
    // Idle minutes decay the counter.
    let later = Now(T0.0 + 5 * 60_000);
    assert_eq!(
        store.get(b"b", later).unwrap().lfu_frequency(later),
        Some(0)
    );
    limited(&mut store, 0, EvictionPolicy::AllKeysLfu);
    store
        .insert(b"e", &[0; 100], ItemMeta::default(), T0)
        .unwrap();
    assert_eq!(
        keys(&mut store, &[b"a", b"b", b"c", b"d", b"e"], T0),
        [true, false, true, true, true]
    );
    // Other policies track no frequency.
    store.set_memory_limit(0, EvictionPolicy::AllKeysLru);
    assert_eq!(store.get(b"a", T0).unwrap().lfu_frequency(T0), None);
}

#[test]
fn volatile_ttl_evicts_the_nearest_expiry_and_only_volatile_keys() {
    let mut store = Store::new();
    store
        .insert(b"forever", &[0; 100], ItemMeta::default(), T0)
        .unwrap();
    store.insert(b"late", &[0; 100], ttl(T0, 500), T0).unwrap();
    store.insert(b"soon", &[0; 100], ttl(T0, 50), T0).unwrap();
    limited(&mut store, 0, EvictionPolicy::VolatileTtl);
    store
        .insert(b"new", &[0; 100], ItemMeta::default(), T0)
        .unwrap();
    assert_eq!(
        keys(&mut store, &[b"forever", b"late", b"soon", b"new"], T0),
        [true, true, false, true]
    );
    store
        .insert(b"new2", &[0; 100], ItemMeta::default(), T0)
        .unwrap();
    assert!(store.get(b"late", T0).is_none());
    // No volatile key is left: a write takes the store over its limit,
    // then writes are refused.
    assert!(store.make_room_for_write(T0));
    store
        .insert(b"new3", &[0; 100], ItemMeta::default(), T0)
        .unwrap();
    assert!(!store.make_room_for_write(T0));
    assert!(store.get(b"forever", T0).is_some());
}

#[test]
fn volatile_policies_never_evict_persistent_keys() {
    for policy in [
        EvictionPolicy::VolatileLru,
        EvictionPolicy::VolatileLfu,
        EvictionPolicy::VolatileRandom,
    ] {
        let mut store = Store::new();
        store.set_memory_limit(0, policy);
        for i in 0..20 {
            let key = format!("p{i}");
            store
                .insert(key.as_bytes(), &[0; 100], ItemMeta::default(), T0)
                .unwrap();
        }
        for i in 0..20 {
            let key = format!("v{i}");
            store
                .insert(key.as_bytes(), &[0; 100], ttl(T0, 1000), T0)
                .unwrap();
        }
        limited(&mut store, 0, policy);
        for i in 0..10 {
            let key = format!("n{i}");
            store
                .insert(key.as_bytes(), &[0; 100], ItemMeta::default(), T0)
                .unwrap();
        }
        assert!(store.stats().evictions >= 10, "{policy}");
        for i in 0..20 {
            assert!(
                store.get(format!("p{i}").as_bytes(), T0).is_some(),
                "{policy}"
            );
        }
    }
}

#[test]
fn random_eviction_holds_the_limit() {
    let mut store = Store::new();
    store.set_memory_limit(64 << 10, EvictionPolicy::AllKeysRandom);
    for i in 0..5000 {
        let key = format!("key:{i}");
        store
            .insert(key.as_bytes(), &[0; 100], ItemMeta::default(), T0)
            .unwrap();
        assert!(store.used_memory() <= 64 << 10);
    }
    assert!(store.stats().evictions > 4000);
    assert_eq!(store.stats().curr_items as usize, store.len());
}

#[test]
fn sampling_reclaims_expired_items_before_evicting() {
    let mut store = Store::new();
    store.insert(b"gone", &[0; 100], ttl(T0, 1), T0).unwrap();
    store
        .insert(b"kept", &[0; 100], ItemMeta::default(), T0)
        .unwrap();
    limited(&mut store, 0, EvictionPolicy::AllKeysLru);
    store
        .insert(b"new", &[0; 100], ItemMeta::default(), at(5))
        .unwrap();
    assert_eq!(store.stats().evictions, 0);
    assert_eq!(store.stats().reclaimed, 1);
    assert!(store.get(b"kept", at(5)).is_some());
}

/// Twenty hot keys, read again after every 25 keys of a scan of keys
/// read once, in a store with room for the hot keys and five more: how
/// many hot keys are left after the scan.
fn hot_keys_left_after_a_scan(policy: EvictionPolicy) -> (usize, Store) {
    let mut store = Store::new();
    store.set_memory_limit(0, policy);
    let hot: Vec<String> = (0..20).map(|i| format!("hot{i}")).collect();
    let mut now = T0;
    for key in &hot {
        store
            .insert(key.as_bytes(), &[0; 100], ItemMeta::default(), now)
            .unwrap();
        store.get(key.as_bytes(), now).unwrap().mark_fetched(now);
    }
    let room = 5 * Store::new_item_bytes(5, 100) as u64 + 4096;
    limited(&mut store, room, policy);
    for i in 0..1000 {
        now = Now(now.0 + 1000);
        if i % 25 == 0 {
            for key in &hot {
                if let Some(mut item) = store.get(key.as_bytes(), now) {
                    item.mark_fetched(now);
                }
            }
        }
        let key = format!("scan{i}");
        store
            .insert(key.as_bytes(), &[0; 100], ItemMeta::default(), now)
            .unwrap();
    }
    let left = hot
        .iter()
        .filter(|key| store.get(key.as_bytes(), now).is_some())
        .count();
    (left, store)
}

#[test]
fn s3fifo_resists_a_scan_that_lru_does_not() {
    let (left, mut store) = hot_keys_left_after_a_scan(EvictionPolicy::AllKeysS3Fifo);
    assert_eq!(left, 20);
    assert!(store.stats().evictions >= 1000 - 30);
    let fifo = &store.memory.fifo;
    assert_eq!(fifo.small_items + fifo.main_items, store.len());
    // The key evicted last from small, stored again, goes straight to main.
    let evicted = (0..1000)
        .rev()
        .map(|i| format!("scan{i}"))
        .find(|key| store.get(key.as_bytes(), T0).is_none())
        .unwrap();
    // Room for it without an eviction, whose ghost entry could take the
    // same direct-mapped slot (about one run in a hundred).
    store.remove(b"hot0");
    store
        .insert(evicted.as_bytes(), &[0; 100], ItemMeta::default(), T0)
        .unwrap();
    let slot = store
        .index
        .find_hash(store.index.hash(evicted.as_bytes()))
        .unwrap();
    assert_ne!(store.index.item(slot).header().bits & s3fifo::bits::MAIN, 0);
    let (left, _) = hot_keys_left_after_a_scan(EvictionPolicy::AllKeysLru);
    assert!(left < 20, "LRU kept {left}");
}

#[test]
fn s3fifo_queues_stay_bounded_under_churn_without_pressure() {
    let mut store = Store::new();
    for round in 0..20 {
        for i in 0..1000 {
            let key = format!("k{i}");
            store
                .insert(key.as_bytes(), b"v", ItemMeta::default(), T0)
                .unwrap();
        }
        for i in 0..1000 {
            assert!(store.remove(format!("k{i}").as_bytes()), "{round}");
        }
    }
    let fifo = &store.memory.fifo;
    assert_eq!(fifo.small_items, 0);
    assert!(fifo.small.len() <= 1024 + 1000, "{}", fifo.small.len());
}

#[test]
fn switching_policies_keeps_the_store_consistent() {
    let mut store = Store::new();
    for i in 0..200 {
        let key = format!("k{i}");
        store
            .insert(key.as_bytes(), &[0; 50], ItemMeta::default(), T0)
            .unwrap();
    }
    for policy in EvictionPolicy::ALL
        .into_iter()
        .chain([EvictionPolicy::AllKeysS3Fifo])
    {
        store.set_memory_limit(0, policy);
        limited(&mut store, 0, policy);
        for i in 0..50 {
            let key = format!("{policy}{i}");
            let _ = store.insert(key.as_bytes(), &[0; 50], ItemMeta::default(), T0);
        }
        assert_eq!(store.stats().curr_items as usize, store.len(), "{policy}");
        assert_eq!(store.memory_limit().1, policy);
    }
    store.flush_all();
    assert_eq!(store.memory.items, 0);
}

#[test]
fn appends_past_the_limit_evict_other_items() {
    let mut store = Store::new();
    for i in 0..10 {
        let key = format!("k{i}");
        store
            .insert(key.as_bytes(), &[0; 100], ItemMeta::default(), T0)
            .unwrap();
    }
    limited(&mut store, 0, EvictionPolicy::AllKeysRandom);
    store.get(b"k3", T0).unwrap().append_value(&[1; 400]);
    assert!(store.used_memory() <= store.memory_limit().0);
    assert!(store.stats().evictions >= 3);
    assert_eq!(store.get(b"k3", T0).unwrap().value().len(), 500);
}

#[test]
fn enforce_limit_catches_up_with_a_lowered_limit() {
    let mut store = Store::new();
    for i in 0..1000 {
        let key = format!("k{i}");
        store
            .insert(key.as_bytes(), &[0; 100], ItemMeta::default(), T0)
            .unwrap();
    }
    store.set_memory_limit(store.used_memory() / 2, EvictionPolicy::AllKeysLru);
    assert_eq!(store.enforce_limit(10, T0), 10);
    store.enforce_limit(usize::MAX, T0);
    assert!(store.used_memory() <= store.memory_limit().0);
    assert!(store.len() < 600);
}

#[test]
fn active_expiry_reclaims_unread_items() {
    let mut store = Store::new();
    for i in 0..5000 {
        let key = format!("k{i}");
        let meta = if i % 2 == 0 {
            ttl(T0, 1)
        } else {
            ItemMeta::default()
        };
        store.insert(key.as_bytes(), &[0; 10], meta, T0).unwrap();
    }
    let mut cycles = 0;
    while store.len() > 2500 {
        store.expire_cycle(at(2));
        cycles += 1;
        assert!(cycles < 1000, "expiry does not progress");
    }
    assert_eq!(store.stats().reclaimed, 2500);
    assert_eq!(store.stats().expired_unfetched, 2500);
    // Nothing left to reclaim: a cycle stops after one step.
    assert_eq!(store.expire_cycle(at(2)), 0);
}

/// Zipf(`s`) ranks over `n` keys, drawn by inverse CDF.
struct Zipf {
    cdf: Vec<f64>,
    rng: u64,
}

impl Zipf {
    fn new(n: usize, s: f64) -> Zipf {
        let mut cdf = Vec::with_capacity(n);
        let mut sum = 0.0;
        for rank in 1..=n {
            sum += 1.0 / (rank as f64).powf(s);
            cdf.push(sum);
        }
        for p in &mut cdf {
            *p /= sum;
        }
        Zipf {
            cdf,
            rng: 0x2545_f491_4f6c_dd1d,
        }
    }

    fn next(&mut self) -> usize {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let u = (self.rng >> 11) as f64 / (1u64 << 53) as f64;
        self.cdf.partition_point(|&p| p < u).min(self.cdf.len() - 1)
    }
}

/// The hit ratio of `policy` replaying a Zipf(0.99) trace cache-aside
/// (a miss stores the key), with room for a quarter of the keys' bytes.
fn zipf_hit_ratio(policy: EvictionPolicy, keys: usize, requests: usize) -> f64 {
    let mut zipf = Zipf::new(keys, 0.99);
    // Ranks are scattered over key names, so hot keys are not neighbours.
    let name = |rank: usize| format!("key:{}", rank.wrapping_mul(2_654_435_761) % (1 << 32));
    let mut probe = Store::new();
    for rank in 0..keys {
        probe
            .insert(name(rank).as_bytes(), &[0; 64], ItemMeta::default(), T0)
            .unwrap();
    }
    let limit = probe.used_memory() / 4;
    drop(probe);
    let mut store = Store::new();
    store.set_memory_limit(limit, policy);
    let mut hits = 0;
    for request in 0..requests {
        let now = Now(T0.0 + request as u64);
        let key = name(zipf.next());
        match store.get(key.as_bytes(), now) {
            Some(mut item) => {
                item.mark_fetched(now);
                hits += 1;
            }
            None => {
                store
                    .insert(key.as_bytes(), &[0; 64], ItemMeta::default(), now)
                    .unwrap();
            }
        }
    }
    // The queues' growth is charged after the insert that causes it, and
    // taken back by the next one.
    assert!(store.used_memory() <= limit + limit / 16);
    hits as f64 / requests as f64
}

#[test]
fn s3fifo_beats_lru_on_a_zipf_trace() {
    let (keys, requests) = (20_000, 300_000);
    let ratio = |policy| zipf_hit_ratio(policy, keys, requests);
    let s3fifo = ratio(EvictionPolicy::AllKeysS3Fifo);
    let lru = ratio(EvictionPolicy::AllKeysLru);
    let lfu = ratio(EvictionPolicy::AllKeysLfu);
    let random = ratio(EvictionPolicy::AllKeysRandom);
    println!(
        "zipf(0.99) {keys} keys, {requests} requests, 1/4 fits: s3fifo {s3fifo:.4} \
         lru {lru:.4} lfu {lfu:.4} random {random:.4}"
    );
    assert!(s3fifo > lru, "s3fifo {s3fifo} lru {lru}");
    assert!(s3fifo > random, "s3fifo {s3fifo} random {random}");
}

#[test]
fn collections_count_their_heap_against_the_limit_and_balance_to_zero() {
    use crate::store::collection::{Collection, Hash, Limits};
    let mut store = Store::new();
    let limits = Limits::default();
    let before = store.used_memory();
    let item = store
        .insert_collection(
            b"h",
            Collection::Hash(Hash::default()),
            ItemMeta::default(),
            T0,
        )
        .unwrap();
    item.update_collection(|collection| {
        let Collection::Hash(hash) = collection else {
            unreachable!("a hash was stored");
        };
        for n in 0..2000u32 {
            hash.insert(format!("field:{n}").as_bytes(), &[b'x'; 64], &limits);
        }
    });
    let grown = store.used_memory();
    assert!(grown > before + 2000 * 64, "{before} → {grown}");
    // The index and queues aside, the items are the hash's item and heap.
    let heap = match store
        .get(b"h", T0)
        .and_then(|item| item.collection().map(Collection::heap_bytes))
    {
        Some(heap) => heap,
        None => panic!("the hash is there"),
    };
    assert!(grown - before >= heap, "{heap} heap bytes counted");
    assert!(store.remove(b"h"));
    assert_eq!(store.memory.items, 0, "the item and its heap are uncharged");
    assert_eq!(store.stats().bytes, 0);
    store.flush_all();
    assert_eq!(store.used_memory(), before);
}

/// One step of the model test.
#[derive(Debug, Clone)]
enum Op {
    Insert(u8, usize, bool),
    Append(u8, usize),
    Read(u8),
    Remove(u8),
    Expire,
    Policy(usize),
    Flush,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (any::<u8>(), 0..3000usize, any::<bool>()).prop_map(|(k, n, t)| Op::Insert(k, n, t)),
        2 => (any::<u8>(), 0..500usize).prop_map(|(k, n)| Op::Append(k, n)),
        4 => any::<u8>().prop_map(Op::Read),
        2 => any::<u8>().prop_map(Op::Remove),
        1 => Just(Op::Expire),
        1 => (0..EvictionPolicy::ALL.len()).prop_map(Op::Policy),
        1 => Just(Op::Flush),
    ]
}

use proptest::prelude::*;

proptest! {
    /// Whatever happens, the accounting equals the sum of the blocks, the
    /// counters agree with the index, S3-FIFO's counts with the items in
    /// its queues, and an evicting policy keeps the store within its limit
    /// after every insert (but for its queues' growth).
    #[test]
    fn accounting_and_limit_hold_under_any_operations(ops in proptest::collection::vec(op(), 1..200)) {
        let mut store = Store::new();
        let limit = 64 << 10;
        store.set_memory_limit(limit, EvictionPolicy::AllKeysS3Fifo);
        let mut now = T0;
        for op in ops {
            now = Now(now.0 + 700);
            match op {
                Op::Insert(k, n, with_ttl) => {
                    let meta = if with_ttl { ttl(now, 2) } else { ItemMeta::default() };
                    let stored = store.insert(&[k], &vec![k; n], meta, now).is_ok();
                    let policy = store.memory_limit().1;
                    if policy != EvictionPolicy::NoEviction && !policy.is_volatile() {
                        prop_assert!(stored);
                        let queues = store.memory.fifo.bytes() as u64;
                        prop_assert!(store.used_memory() <= limit + queues);
                    }
                }
                Op::Append(k, n) => {
                    if let Some(mut item) = store.get(&[k], now) {
                        item.append_value(&vec![0; n]);
                    }
                }
                Op::Read(k) => {
                    if let Some(mut item) = store.get(&[k], now) {
                        item.mark_fetched(now);
                    }
                }
                Op::Remove(k) => {
                    store.remove(&[k]);
                }
                Op::Expire => {
                    store.expire_cycle(now);
                }
                Op::Policy(i) => store.set_memory_limit(limit, EvictionPolicy::ALL[i]),
                Op::Flush => store.flush_all(),
            }
            let mut blocks = 0;
            let mut queued = 0;
            for bucket in 0..store.index.bucket_count() {
                store.index.visit_bucket(bucket, |_, item| {
                    blocks += item.footprint() as u64;
                    queued += usize::from(item.header().bits & (s3fifo::bits::SMALL | s3fifo::bits::MAIN) != 0);
                });
            }
            prop_assert_eq!(store.memory.items, blocks);
            prop_assert_eq!(store.stats().used_memory, store.used_memory());
            prop_assert_eq!(store.stats().curr_items as usize, store.len());
            if store.memory_limit().1 == EvictionPolicy::AllKeysS3Fifo {
                let fifo = &store.memory.fifo;
                prop_assert_eq!(fifo.small_items + fifo.main_items, queued);
            }
        }
        store.flush_all();
        prop_assert_eq!(store.memory.items, 0);
    }
}
