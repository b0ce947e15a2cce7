//! Store tests: lookups, lazy expiry, flushes, CAS, accounting, and a
//! property test against a `HashMap` model.

use std::collections::HashMap;

use proptest::prelude::*;

use super::*;

const T0: Now = Now(1_700_000_000_000);

fn meta(cas: u64) -> ItemMeta {
    ItemMeta {
        cas,
        ..ItemMeta::default()
    }
}

fn expiring(at: Now) -> ItemMeta {
    ItemMeta {
        expires_at: ExpiresAt::at_millis(at.0),
        ..ItemMeta::default()
    }
}

fn value_of(store: &mut Store, key: &[u8], now: Now) -> Option<Vec<u8>> {
    store.get(key, now).map(|item| item.value().to_vec())
}

#[test]
fn items_are_compact() {
    assert_eq!(std::mem::size_of::<raw::Header>(), 32);
    assert_eq!(ITEM_OVERHEAD, 40);
    assert_eq!(item_bytes(10, 100), 150);
    assert_eq!(item_bytes(65_535, 1), 40 + 16 + 65_536);
}

#[test]
fn insert_then_get_returns_value_and_metadata() {
    let mut store = Store::new();
    let item = store
        .insert(
            b"k",
            b"value",
            ItemMeta {
                client_flags: 7,
                expires_at: ExpiresAt::NEVER,
                cas: 3,
                binary_key: true,
            },
            T0,
        )
        .unwrap();
    assert_eq!(item.key(), b"k");
    let item = store.get(b"k", T0).unwrap();
    assert_eq!(item.value(), b"value");
    assert_eq!(item.client_flags(), 7);
    assert_eq!(item.cas(), 3);
    assert!(item.binary_key());
    assert!(!item.fetched());
    assert_eq!(item.last_access_secs(), T0.unix_secs());
    assert!(store.get(b"other", T0).is_none());
}

#[test]
fn keys_are_compared_not_just_hashed() {
    let mut store = Store::new();
    for i in 0..1000u32 {
        store
            .insert(format!("key{i}").as_bytes(), &i.to_le_bytes(), meta(0), T0)
            .unwrap();
    }
    for i in 0..1000u32 {
        let value = value_of(&mut store, format!("key{i}").as_bytes(), T0);
        assert_eq!(value, Some(i.to_le_bytes().to_vec()));
    }
    assert_eq!(store.len(), 1000);
}

#[test]
fn expired_items_are_removed_and_counted_on_access() {
    let mut store = Store::new();
    let deadline = Now(T0.0 + 1000);
    store.insert(b"a", b"1", expiring(deadline), T0).unwrap();
    store.insert(b"b", b"2", expiring(deadline), T0).unwrap();
    store.get(b"b", T0).unwrap().mark_fetched(T0);
    assert!(matches!(
        store.lookup(b"a", Now(deadline.0 - 1)),
        Lookup::Hit(_)
    ));
    assert!(matches!(store.lookup(b"a", deadline), Lookup::Expired));
    assert!(matches!(store.lookup(b"a", deadline), Lookup::Miss));
    assert!(matches!(store.lookup(b"b", deadline), Lookup::Expired));
    let stats = store.stats();
    assert_eq!(stats.reclaimed, 2);
    assert_eq!(stats.expired_unfetched, 1);
    assert_eq!(stats.curr_items, 0);
    assert_eq!(stats.bytes, 0);
}

#[test]
fn inserting_over_an_expired_item_counts_it_reclaimed() {
    let mut store = Store::new();
    store.insert(b"a", b"1", expiring(T0), T0).unwrap();
    store.insert(b"a", b"2", meta(0), Now(T0.0 + 1)).unwrap();
    assert_eq!(store.stats().reclaimed, 1);
    assert_eq!(store.stats().curr_items, 1);
}

#[test]
fn flush_all_empties_everything() {
    let mut store = Store::new();
    store.insert(b"a", b"1", meta(0), T0).unwrap();
    store.insert(b"b", b"2", meta(0), T0).unwrap();
    store.flush_all();
    assert!(store.is_empty());
    assert_eq!(store.stats().curr_items, 0);
    assert_eq!(store.stats().bytes, 0);
    assert_eq!(store.stats().total_items, 2);
    assert!(store.get(b"a", T0).is_none());
}

#[test]
fn delayed_flush_hides_items_existing_at_the_deadline() {
    let mut store = Store::new();
    let deadline = Now(T0.0 + 5_000);
    store.insert(b"old", b"1", meta(0), T0).unwrap();
    store.flush_at(deadline);
    store
        .insert(b"late", b"2", meta(0), Now(T0.0 + 4_999))
        .unwrap();
    assert!(store.get(b"old", Now(T0.0 + 4_999)).is_some());
    assert_eq!(store.pending_flush(), Some(deadline));
    // At the deadline both are gone, whichever is asked first.
    assert!(store.get(b"late", deadline).is_none());
    assert!(store.get(b"old", deadline).is_none());
    assert_eq!(store.pending_flush(), None);
    store.insert(b"new", b"3", meta(0), deadline).unwrap();
    assert!(store.get(b"new", Now(deadline.0 + 10_000)).is_some());
}

#[test]
fn run_due_flush_applies_only_when_due() {
    let mut store = Store::new();
    store.insert(b"a", b"1", meta(0), T0).unwrap();
    store.flush_at(Now(T0.0 + 10));
    assert!(!store.run_due_flush(T0));
    assert_eq!(store.stats().curr_items, 1);
    assert!(store.run_due_flush(Now(T0.0 + 10)));
    assert_eq!(store.stats().curr_items, 0);
}

#[test]
fn immediate_flush_cancels_a_pending_one() {
    let mut store = Store::new();
    store.flush_at(Now(T0.0 + 10));
    store.flush_all();
    store.insert(b"a", b"1", meta(0), Now(T0.0 + 5)).unwrap();
    assert!(store.get(b"a", Now(T0.0 + 20)).is_some());
}

#[test]
fn cas_values_increase() {
    let mut store = Store::new();
    let a = store.next_cas();
    let b = store.next_cas();
    assert!(a >= 1 && b > a);
}

#[test]
fn item_changes_keep_bytes_current() {
    let mut store = Store::new();
    store.insert(b"key", b"abc", meta(0), T0).unwrap();
    assert_eq!(store.stats().bytes, item_bytes(3, 3));
    let mut item = store.get(b"key", T0).unwrap();
    item.append_value(b"de");
    assert_eq!(item.value(), b"abcde");
    item.prepend_value(b"_");
    assert_eq!(item.value(), b"_abcde");
    assert_eq!(item.key(), b"key");
    assert_eq!(store.stats().bytes, item_bytes(3, 6));
    let mut item = store.get(b"key", T0).unwrap();
    item.set_value(b"");
    assert_eq!(item.size(), item_bytes(3, 0));
    item.remove();
    assert_eq!(store.stats().bytes, 0);
    assert_eq!(store.stats().curr_items, 0);
}

#[test]
fn overwrite_counts_a_new_item_and_resets_bits() {
    let mut store = Store::new();
    store.insert(b"k", b"long value", meta(1), T0).unwrap();
    let mut item = store.get(b"k", T0).unwrap();
    item.mark_fetched(T0);
    item.set_stale(true);
    item.set_win_token_sent(true);
    store.insert(b"k", b"v", meta(2), T0).unwrap();
    let item = store.get(b"k", T0).unwrap();
    assert!(!item.fetched() && !item.stale() && !item.win_token_sent());
    assert_eq!(item.cas(), 2);
    let stats = *store.stats();
    assert_eq!(stats.curr_items, 1);
    assert_eq!(stats.total_items, 2);
    assert_eq!(stats.bytes, item_bytes(1, 1));
}

#[test]
fn renew_clears_bits_and_counts() {
    let mut store = Store::new();
    let mut item = store.insert(b"k", b"v", meta(1), T0).unwrap();
    item.mark_fetched(T0);
    item.renew(Now(T0.0 + 3_000));
    assert!(!item.fetched());
    assert_eq!(item.last_access_secs(), T0.unix_secs() + 3);
    assert_eq!(store.stats().total_items, 2);
}

#[test]
fn remove_reports_presence() {
    let mut store = Store::new();
    store.insert(b"k", b"v", meta(1), T0).unwrap();
    assert!(store.remove(b"k"));
    assert!(!store.remove(b"k"));
    assert_eq!(store.stats().curr_items, 0);
}

/// What the model keeps per key.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Model {
    value: Vec<u8>,
    client_flags: u32,
    cas: u64,
    /// Milliseconds; `None` = never.
    expires_at: Option<u64>,
}

/// One step of the model test. Keys are numbers: most short, some sharing
/// a long prefix, a few 64 KiB or longer (the header's long form).
#[derive(Debug, Clone)]
enum Op {
    /// Insert with a value, client flags and a lifetime in ms (0 = never).
    Insert(u8, Vec<u8>, u32, u16),
    Append(u8, Vec<u8>),
    Prepend(u8, Vec<u8>),
    SetValue(u8, Vec<u8>),
    /// Sets a new lifetime in ms (0 = never) through the item.
    Touch(u8, u16),
    Remove(u8),
    Get(u8),
    /// Time passes, in ms.
    Advance(u16),
    Flush,
    /// A delayed flush, in ms from now.
    FlushAt(u16),
}

fn model_key(k: u8) -> Vec<u8> {
    match k {
        0..=15 => format!("key:{k}").into_bytes(),
        16..=27 => format!("memaslap-shared-prefix-{k}").into_bytes(),
        _ => {
            let mut key = vec![b'L'; 65_535 + usize::from(k % 2)];
            key.push(k);
            key
        }
    }
}

fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => proptest::collection::vec(any::<u8>(), 0..24),
        1 => proptest::collection::vec(any::<u8>(), 0..3000),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let key = prop_oneof![10 => 0u8..28, 1 => 28u8..30];
    let lifetime = prop_oneof![2 => Just(0u16), 1 => 1u16..2000];
    prop_oneof![
        6 => (key.clone(), value(), any::<u32>(), lifetime.clone())
            .prop_map(|(k, v, f, t)| Op::Insert(k, v, f, t)),
        2 => (key.clone(), value()).prop_map(|(k, v)| Op::Append(k, v)),
        2 => (key.clone(), value()).prop_map(|(k, v)| Op::Prepend(k, v)),
        2 => (key.clone(), value()).prop_map(|(k, v)| Op::SetValue(k, v)),
        1 => (key.clone(), lifetime).prop_map(|(k, t)| Op::Touch(k, t)),
        3 => key.clone().prop_map(Op::Remove),
        5 => key.prop_map(Op::Get),
        2 => (0u16..1500).prop_map(Op::Advance),
        1 => Just(Op::Flush),
        1 => (1u16..3000).prop_map(Op::FlushAt),
    ]
}

/// The model's live entry for `key` at `now`, dropping it if expired (as
/// the store does when it meets it).
fn live<'m>(model: &'m mut HashMap<Vec<u8>, Model>, key: &[u8], now: Now) -> Option<&'m mut Model> {
    let expired = model
        .get(key)
        .is_some_and(|m| m.expires_at.is_some_and(|at| at <= now.0));
    if expired {
        model.remove(key);
    }
    model.get_mut(key)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn agrees_with_a_hashmap(ops in proptest::collection::vec(op(), 1..150)) {
        let mut store = Store::new();
        let mut model: HashMap<Vec<u8>, Model> = HashMap::new();
        let mut now = T0;
        let mut flush_at: Option<Now> = None;
        for op in ops {
            match op {
                Op::Insert(k, v, client_flags, lifetime) => {
                    let key = model_key(k);
                    let cas = store.next_cas();
                    let expires_at = (lifetime > 0).then(|| now.0 + u64::from(lifetime));
                    let meta = ItemMeta {
                        client_flags,
                        cas,
                        expires_at: expires_at.map_or(ExpiresAt::NEVER, ExpiresAt::at_millis),
                        binary_key: k % 2 == 0,
                    };
                    let item = store.insert(&key, &v, meta, now).unwrap();
                    prop_assert_eq!(item.binary_key(), k % 2 == 0);
                    prop_assert!(!item.fetched());
                    model.insert(key, Model { value: v, client_flags, cas, expires_at });
                }
                Op::Append(k, ref v) | Op::Prepend(k, ref v) | Op::SetValue(k, ref v) => {
                    let key = model_key(k);
                    let expected = live(&mut model, &key, now).map(|m| {
                        match op {
                            Op::Append(..) => m.value.extend_from_slice(v),
                            Op::Prepend(..) => {
                                m.value.splice(0..0, v.iter().copied());
                            }
                            _ => m.value = v.clone(),
                        }
                        m.value.clone()
                    });
                    let got = store.get(&key, now).map(|mut item| {
                        match op {
                            Op::Append(..) => item.append_value(v),
                            Op::Prepend(..) => item.prepend_value(v),
                            _ => item.set_value(v),
                        }
                        prop_assert_eq!(item.key(), &key[..]);
                        Ok(item.value().to_vec())
                    }).transpose()?;
                    prop_assert_eq!(got, expected);
                }
                Op::Touch(k, lifetime) => {
                    let key = model_key(k);
                    let expires_at = (lifetime > 0).then(|| now.0 + u64::from(lifetime));
                    if let Some(m) = live(&mut model, &key, now) {
                        m.expires_at = expires_at;
                    }
                    if let Some(mut item) = store.get(&key, now) {
                        item.set_expires_at(expires_at.map_or(ExpiresAt::NEVER, ExpiresAt::at_millis));
                    }
                }
                Op::Remove(k) => {
                    let key = model_key(k);
                    prop_assert_eq!(store.remove(&key), model.remove(&key).is_some());
                }
                Op::Get(k) => {
                    let key = model_key(k);
                    let expected = live(&mut model, &key, now).cloned();
                    // Half the gets go through the batched API.
                    let got = if k % 2 == 0 {
                        let hash = store.prefetch(&key);
                        store.prefetch_item(hash);
                        store.get_hashed(&key, hash, now)
                    } else {
                        store.get(&key, now)
                    };
                    let got = got.map(|mut item| {
                        item.mark_fetched(now);
                        Model {
                            value: item.value().to_vec(),
                            client_flags: item.client_flags(),
                            cas: item.cas(),
                            expires_at: item.expires_at().millis(),
                        }
                    });
                    prop_assert_eq!(got, expected);
                }
                Op::Advance(ms) => now = Now(now.0 + u64::from(ms)),
                Op::Flush => {
                    store.flush_all();
                    model.clear();
                    flush_at = None;
                }
                Op::FlushAt(ms) => {
                    let deadline = Now(now.0 + u64::from(ms));
                    store.flush_at(deadline);
                    flush_at = Some(deadline);
                }
            }
            // The shard applies a due flush once per turn.
            if flush_at.is_some_and(|at| now >= at) {
                model.clear();
                flush_at = None;
            }
            store.run_due_flush(now);
            prop_assert_eq!(store.pending_flush(), flush_at);
            // Expired items linger until met: count them on both sides.
            let bytes: u64 = model.iter().map(|(k, m)| item_bytes(k.len(), m.value.len())).sum();
            prop_assert_eq!(store.stats().curr_items, model.len() as u64);
            prop_assert_eq!(store.stats().bytes, bytes);
            prop_assert_eq!(store.len(), model.len());
        }
        for key in model.keys().cloned().collect::<Vec<_>>() {
            let expected = live(&mut model, &key, now).map(|m| m.value.clone());
            prop_assert_eq!(value_of(&mut store, &key, now), expected);
        }
        store.flush_all();
        prop_assert_eq!(store.stats().bytes, 0);
        prop_assert_eq!(store.stats().curr_items, 0);
    }
}

/// Runs a whole scan, `count` homes per call, calling `between` after each
/// call; returns every key visited.
fn scan_all(store: &mut Store, count: usize, mut between: impl FnMut(&mut Store)) -> Vec<Vec<u8>> {
    let mut seen = Vec::new();
    let mut cursor = 0;
    loop {
        cursor = store.scan(cursor, count, T0, |key, _| seen.push(key.to_vec()));
        if cursor == 0 {
            return seen;
        }
        between(store);
    }
}

#[test]
fn a_scan_visits_every_live_key_once_when_nothing_changes() {
    let mut store = Store::new();
    for i in 0..5000 {
        store
            .insert(format!("k{i}").as_bytes(), b"v", meta(1), T0)
            .unwrap();
    }
    store
        .insert(b"gone", b"v", expiring(Now(T0.0 - 1)), T0)
        .unwrap();
    for count in [1, 10, 1000] {
        let mut seen = scan_all(&mut store, count, |_| {});
        seen.sort();
        let mut expected: Vec<Vec<u8>> = (0..5000).map(|i| format!("k{i}").into_bytes()).collect();
        expected.sort();
        assert_eq!(seen, expected, "count {count}");
    }
    let mut empty = Store::new();
    assert!(scan_all(&mut empty, 10, |_| {}).is_empty());
}

#[test]
fn a_scan_misses_no_key_while_the_index_grows() {
    let mut store = Store::new();
    for i in 0..300 {
        store
            .insert(format!("old{i}").as_bytes(), b"v", meta(1), T0)
            .unwrap();
    }
    let mut added = 0;
    let seen = scan_all(&mut store, 3, |store| {
        // Early in the scan, enough inserts between calls to double the
        // index several times (then none, so that the scan can end).
        if added < 4000 {
            for _ in 0..200 {
                store
                    .insert(format!("new{added}").as_bytes(), b"v", meta(1), T0)
                    .unwrap();
                added += 1;
            }
        }
    });
    assert_eq!(added, 4000, "the index grew during the scan");
    let seen: std::collections::HashSet<Vec<u8>> = seen.into_iter().collect();
    for i in 0..300 {
        assert!(seen.contains(format!("old{i}").as_bytes()), "old{i} missed");
    }
}
