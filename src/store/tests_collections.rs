//! Store tests for collection items: replacing, removing, expiring and
//! flushing them keeps `bytes` and `curr_items` exact, and an emptied
//! collection takes its key with it. (`tests/store_leaks.rs` counts the
//! allocator's bytes over the same paths.)

use super::*;

const T0: Now = Now(1_700_000_000_000);

fn hash_of(pairs: &[(&[u8], &[u8])]) -> Collection {
    let mut hash = Hash::default();
    for (field, value) in pairs {
        hash.insert(field, value, &Limits::default());
    }
    Collection::Hash(hash)
}

/// What `bytes` must be: every item's size, summed afresh.
fn recount(store: &mut Store) -> u64 {
    let mut keys = Vec::new();
    store.scan(0, usize::MAX, T0, |key, _| keys.push(key.to_vec()));
    keys.iter()
        .map(|key| store.get(key, T0).map_or(0, |item| item.size()))
        .sum()
}

#[test]
fn a_collection_item_counts_its_heap_bytes() {
    let mut store = Store::new();
    let hash = hash_of(&[(b"f", b"v")]);
    let heap = hash.heap_bytes();
    let item = store
        .insert_collection(b"h", hash, ItemMeta::default(), T0)
        .unwrap();
    assert_eq!(item.kind(), Kind::Hash);
    assert_eq!(item.value(), b"");
    assert_eq!(item.size(), item_bytes(1, 8) + heap);
    assert_eq!(store.stats().bytes, item_bytes(1, 8) + heap);
    assert_eq!(store.stats().curr_items, 1);

    let item = store.get(b"h", T0).unwrap();
    let added = item.update_collection(|collection| {
        let Collection::Hash(hash) = collection else {
            unreachable!()
        };
        hash.insert(b"field", b"a longer value", &Limits::default())
    });
    assert_eq!(added, Some(true));
    let expected = recount(&mut store);
    assert_eq!(store.stats().bytes, expected);
    let size = store.get(b"h", T0).unwrap().size();
    assert_eq!(store.stats().bytes, size);
}

#[test]
fn only_a_change_renews_a_collection_items_cas() {
    let mut store = Store::new();
    let meta = ItemMeta {
        cas: store.next_cas(),
        ..ItemMeta::default()
    };
    store
        .insert_collection(b"h", hash_of(&[(b"f", b"v")]), meta, T0)
        .unwrap();
    let cas = store.get(b"h", T0).unwrap().cas();
    let remove = |field: &'static [u8]| {
        move |collection: &mut Collection| match collection {
            Collection::Hash(hash) => hash.remove(field),
            _ => unreachable!(),
        }
    };
    let item = store.get(b"h", T0).unwrap();
    let removed = item.update_collection_if(remove(b"absent"), |removed| *removed);
    assert_eq!(removed, Some(false));
    assert_eq!(store.get(b"h", T0).unwrap().cas(), cas, "nothing changed");
    let item = store.get(b"h", T0).unwrap();
    assert_eq!(item.update_collection(|_| ()), Some(()));
    let renewed = store.get(b"h", T0).unwrap().cas();
    assert_ne!(renewed, cas, "update_collection always renews");
    store
        .get(b"h", T0)
        .unwrap()
        .update_collection_if(hash_insert, |added| *added);
    assert_ne!(
        store.get(b"h", T0).unwrap().cas(),
        renewed,
        "a change renews"
    );
}

fn hash_insert(collection: &mut Collection) -> bool {
    match collection {
        Collection::Hash(hash) => hash.insert(b"g", b"w", &Limits::default()),
        _ => unreachable!(),
    }
}

#[test]
fn a_string_item_has_no_collection_to_update() {
    let mut store = Store::new();
    store
        .insert(b"s", b"value", ItemMeta::default(), T0)
        .unwrap();
    let item = store.get(b"s", T0).unwrap();
    assert_eq!(item.kind(), Kind::String);
    assert!(item.collection().is_none());
    assert_eq!(item.update_collection(|_| ()), None);
    assert_eq!(store.get(b"s", T0).unwrap().value(), b"value");
}

#[test]
fn an_emptied_collection_removes_its_key() {
    let mut store = Store::new();
    store
        .insert_collection(
            b"h",
            hash_of(&[(b"a", b"1"), (b"b", b"2")]),
            ItemMeta::default(),
            T0,
        )
        .unwrap();
    for field in [&b"a"[..], b"b"] {
        let item = store.get(b"h", T0).unwrap();
        item.update_collection(|collection| {
            let Collection::Hash(hash) = collection else {
                unreachable!()
            };
            hash.remove(field)
        });
    }
    assert!(store.get(b"h", T0).is_none());
    assert_eq!(store.stats().curr_items, 0);
    assert_eq!(store.stats().bytes, 0);
}

#[test]
fn strings_and_collections_replace_each_other() {
    let mut store = Store::new();
    let meta = ItemMeta {
        client_flags: 5,
        ..ItemMeta::default()
    };
    store.insert(b"k", b"string", meta, T0).unwrap();
    store
        .insert_collection(b"k", hash_of(&[(b"f", b"v")]), ItemMeta::default(), T0)
        .unwrap();
    let item = store.get(b"k", T0).unwrap();
    assert_eq!((item.kind(), item.client_flags()), (Kind::Hash, 0));
    let expected = recount(&mut store);
    assert_eq!(store.stats().bytes, expected);

    let mut list = List::default();
    list.push_back(b"x");
    store
        .insert_collection(b"k", Collection::List(list), ItemMeta::default(), T0)
        .unwrap();
    assert_eq!(store.get(b"k", T0).unwrap().kind(), Kind::List);
    let expected = recount(&mut store);
    assert_eq!(store.stats().bytes, expected);

    store.insert(b"k", b"back to a string", meta, T0).unwrap();
    let item = store.get(b"k", T0).unwrap();
    assert_eq!(item.value(), b"back to a string");
    assert_eq!(item.kind(), Kind::String);
    assert_eq!(store.stats().bytes, item_bytes(1, 16));

    // A byte change on a collection item (set_value) also replaces it.
    store
        .insert_collection(b"k", hash_of(&[(b"f", b"v")]), ItemMeta::default(), T0)
        .unwrap();
    store.get(b"k", T0).unwrap().set_value(b"plain");
    let item = store.get(b"k", T0).unwrap();
    assert_eq!((item.kind(), item.value()), (Kind::String, &b"plain"[..]));
    assert_eq!(store.stats().bytes, item_bytes(1, 5));
    assert_eq!(store.stats().curr_items, 1);
}

#[test]
fn expired_and_flushed_collections_are_uncounted() {
    let mut store = Store::new();
    let expiring = ItemMeta {
        expires_at: ExpiresAt::at_millis(T0.0 + 10),
        ..ItemMeta::default()
    };
    store
        .insert_collection(b"e", hash_of(&[(b"f", b"v")]), expiring, T0)
        .unwrap();
    store
        .insert_collection(b"k", hash_of(&[(b"f", b"v")]), ItemMeta::default(), T0)
        .unwrap();
    assert!(matches!(
        store.lookup(b"e", Now(T0.0 + 10)),
        Lookup::Expired
    ));
    let expected = store.get(b"k", T0).unwrap().size();
    assert_eq!(store.stats().bytes, expected);
    store.flush_all();
    assert_eq!((store.stats().bytes, store.stats().curr_items), (0, 0));
}

#[test]
fn many_collections_stay_exactly_accounted() {
    let mut store = Store::new();
    let limits = Limits {
        hash_max_listpack_entries: 4,
        ..Limits::default()
    };
    for i in 0..2_000u32 {
        let key = format!("key{}", i % 300);
        let item = match store.get(key.as_bytes(), T0) {
            Some(item) if item.collection().is_some() => item,
            _ => store
                .insert_collection(
                    key.as_bytes(),
                    hash_of(&[(b"first", b"1")]),
                    ItemMeta::default(),
                    T0,
                )
                .unwrap(),
        };
        item.update_collection(|collection| {
            let Collection::Hash(hash) = collection else {
                unreachable!()
            };
            let field = format!("f{}", i % 7);
            if i % 3 == 0 {
                hash.remove(field.as_bytes());
                hash.remove(b"first");
            } else {
                hash.insert(field.as_bytes(), &vec![b'v'; (i % 50) as usize], &limits);
            }
        });
        if i % 97 == 0 {
            store
                .insert(key.as_bytes(), b"string now", ItemMeta::default(), T0)
                .unwrap();
        }
        if i % 101 == 0 {
            store.remove(key.as_bytes());
        }
    }
    let expected = recount(&mut store);
    assert_eq!(store.stats().bytes, expected);
    assert_eq!(store.stats().curr_items as usize, store.len());
}
