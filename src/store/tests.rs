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
fn entry_is_compact() {
    assert_eq!(std::mem::size_of::<Entry>(), 48);
    // The slab's slot enum has this shape: the tag must fit in a niche.
    #[allow(dead_code)]
    enum Slot {
        Vacant(usize),
        Occupied(Entry),
    }
    assert_eq!(std::mem::size_of::<Slot>(), 48);
    assert_eq!(ITEM_OVERHEAD, 53);
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

/// One step of the model test.
#[derive(Debug, Clone)]
enum Op {
    Insert(u8, Vec<u8>),
    Append(u8, Vec<u8>),
    Remove(u8),
    Get(u8),
    Flush,
}

fn op() -> impl Strategy<Value = Op> {
    let key = 0u8..16;
    let value = proptest::collection::vec(any::<u8>(), 0..24);
    prop_oneof![
        (key.clone(), value.clone()).prop_map(|(k, v)| Op::Insert(k, v)),
        (key.clone(), value).prop_map(|(k, v)| Op::Append(k, v)),
        key.clone().prop_map(Op::Remove),
        key.prop_map(Op::Get),
        Just(Op::Flush),
    ]
}

proptest! {
    #[test]
    fn agrees_with_a_hashmap(ops in proptest::collection::vec(op(), 1..200)) {
        let mut store = Store::new();
        let mut model: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
        for op in ops {
            match op {
                Op::Insert(k, v) => {
                    let key = format!("key:{k}").into_bytes();
                    store.insert(&key, &v, meta(0), T0).unwrap();
                    model.insert(key, v);
                }
                Op::Append(k, v) => {
                    let key = format!("key:{k}").into_bytes();
                    if let Some(mut item) = store.get(&key, T0) {
                        item.append_value(&v);
                    }
                    if let Some(value) = model.get_mut(&key) {
                        value.extend_from_slice(&v);
                    }
                }
                Op::Remove(k) => {
                    let key = format!("key:{k}").into_bytes();
                    prop_assert_eq!(store.remove(&key), model.remove(&key).is_some());
                }
                Op::Get(k) => {
                    let key = format!("key:{k}").into_bytes();
                    prop_assert_eq!(value_of(&mut store, &key, T0), model.get(&key).cloned());
                }
                Op::Flush => {
                    store.flush_all();
                    model.clear();
                }
            }
            let bytes: u64 = model.iter().map(|(k, v)| item_bytes(k.len(), v.len())).sum();
            prop_assert_eq!(store.stats().curr_items, model.len() as u64);
            prop_assert_eq!(store.stats().bytes, bytes);
            prop_assert_eq!(store.len(), model.len());
        }
        for (key, value) in &model {
            prop_assert_eq!(value_of(&mut store, key, T0), Some(value.clone()));
        }
    }
}
