use super::*;

fn limits(entries: usize, value: usize) -> Limits {
    Limits {
        hash_max_listpack_entries: entries,
        hash_max_listpack_value: value,
        set_max_intset_entries: entries,
        zset_max_listpack_entries: entries,
        zset_max_listpack_value: value,
    }
}

/// The heap bytes a collection would count if built from scratch in its
/// present encoding: the incremental count must always agree.
fn recount(collection: &Collection) -> u64 {
    let mut rebuilt = collection.clone();
    match &mut rebuilt {
        Collection::Hash(hash) => {
            let pairs: Vec<_> = hash.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
            for (field, _) in &pairs {
                hash.remove(field);
            }
            assert_eq!(hash.heap_bytes(), 0);
            for (field, value) in &pairs {
                hash.insert(field, value, &limits(usize::MAX, usize::MAX));
            }
        }
        Collection::List(_) | Collection::Set(_) | Collection::ZSet(_) => {}
    }
    rebuilt.heap_bytes()
}

#[test]
fn a_hash_keeps_insertion_order_and_converts_past_its_limits() {
    let limits = limits(3, 8);
    let mut hash = Hash::default();
    assert!(hash.insert(b"b", b"1", &limits));
    assert!(hash.insert(b"a", b"2", &limits));
    assert!(!hash.insert(b"b", b"3", &limits));
    assert_eq!(hash.encoding(), "listpack");
    let fields: Vec<_> = hash.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
    assert_eq!(
        fields,
        [
            (b"b".to_vec(), b"3".to_vec()),
            (b"a".to_vec(), b"2".to_vec())
        ]
    );
    assert!(hash.insert(b"c", b"4", &limits));
    assert_eq!(hash.encoding(), "listpack");
    // Overwriting a field of a full listpack does not convert it.
    assert!(!hash.insert(b"c", b"5", &limits));
    assert_eq!(hash.encoding(), "listpack");
    assert!(hash.insert(b"d", b"6", &limits));
    assert_eq!(hash.encoding(), "hashtable");
    assert_eq!(hash.get(b"c"), Some(&b"5"[..]));
    assert_eq!(hash.len(), 4);
    assert!(hash.remove(b"a"));
    assert!(!hash.remove(b"a"));
    // A table never converts back.
    assert_eq!(hash.encoding(), "hashtable");

    let mut long = Hash::default();
    long.insert(b"f", b"123456789", &limits);
    assert_eq!(long.encoding(), "hashtable");
}

#[test]
fn heap_bytes_follow_every_change() {
    let mut hash = Collection::Hash(Hash::default());
    let empty = hash.heap_bytes();
    let Collection::Hash(h) = &mut hash else {
        unreachable!()
    };
    h.insert(b"field", b"value", &Limits::default());
    // A listpack counts its buffer: a length byte and the bytes of each.
    assert_eq!(h.heap_bytes(), 12);
    h.insert(b"field", b"longer value", &Limits::default());
    assert_eq!(h.heap_bytes(), 19);
    assert_eq!(recount(&hash), hash.heap_bytes());
    let Collection::Hash(h) = &mut hash else {
        unreachable!()
    };
    for i in 0..600 {
        h.insert(format!("f{i}").as_bytes(), b"v", &Limits::default());
    }
    assert_eq!(h.encoding(), "hashtable");
    for i in 0..600 {
        h.remove(format!("f{i}").as_bytes());
    }
    h.remove(b"field");
    assert_eq!(hash.heap_bytes(), empty);

    let mut list = List::default();
    list.push_back(b"abc");
    list.push_front(b"de");
    assert_eq!(list.heap_bytes(), 2 * ELEMENT_OVERHEAD + 5);
    assert_eq!(list.pop_back().as_deref(), Some(&b"abc"[..]));
    assert_eq!(list.pop_front().as_deref(), Some(&b"de"[..]));
    assert_eq!(list.heap_bytes(), 0);

    // Every change keeps the count equal to a fresh one.
    let fresh = |list: &List| {
        let mut copy = List::default();
        list.iter().for_each(|element| copy.push_back(element));
        copy.heap_bytes()
    };
    for element in [&b"a"[..], b"bb", b"ccc", b"dddd", b"eeeee"] {
        list.push_back(element);
    }
    assert!(list.set(1, b"a much longer element"));
    assert!(!list.set(99, b"x"));
    list.insert(0, b"first");
    list.insert(99, b"last");
    assert_eq!(list.remove(1).as_deref(), Some(&b"a"[..]));
    assert_eq!(list.heap_bytes(), fresh(&list));
    list.keep(1, 4);
    let kept: Vec<&[u8]> = list.iter().collect();
    assert_eq!(kept, [&b"a much longer element"[..], b"ccc", b"dddd"]);
    assert_eq!(list.heap_bytes(), fresh(&list));
    list.keep(5, 9);
    assert!(list.is_empty());
    assert_eq!(list.heap_bytes(), 0);
}

#[test]
fn a_set_is_an_intset_while_its_members_are_few_integers() {
    let limits = limits(3, 64);
    let mut set = Set::default();
    assert!(set.insert(b"3", &limits));
    assert!(set.insert(b"-1", &limits));
    assert!(!set.insert(b"3", &limits));
    assert_eq!(set.encoding(), "intset");
    assert!(set.contains(b"-1"));
    // Not canonical decimal: not the integer 3.
    assert!(!set.contains(b"03"));
    assert!(set.insert(b"03", &limits));
    assert_eq!(set.encoding(), "hashtable");
    assert!(set.contains(b"3") && set.contains(b"03") && set.contains(b"-1"));
    assert_eq!(set.len(), 3);
    assert!(set.remove(b"3"));
    assert!(!set.remove(b"3"));

    let mut many = Set::default();
    for n in 0..4 {
        many.insert(n.to_string().as_bytes(), &limits);
    }
    assert_eq!(many.encoding(), "hashtable");
    assert_eq!(many.len(), 4);
    for n in 0..4 {
        assert!(many.remove(n.to_string().as_bytes()));
    }
    assert_eq!(many.heap_bytes(), 0);
}

#[test]
fn collections_round_trip_through_their_encoding() {
    let limits = Limits::default();
    let mut hash = Hash::default();
    hash.insert(b"f", b"v", &limits);
    hash.insert(b"", b"empty field", &limits);
    let mut list = List::default();
    list.push_back(b"x");
    list.push_back(b"");
    let mut set = Set::default();
    set.insert(b"7", &limits);
    set.insert(b"-2", &limits);
    let mut words = Set::default();
    words.insert(b"a", &limits);
    for collection in [
        Collection::Hash(hash),
        Collection::List(list),
        Collection::Set(set),
        Collection::Set(words),
    ] {
        let mut bytes = Vec::new();
        collection.encode(&mut bytes);
        let decoded = Collection::decode(&bytes, &limits).expect("decodes");
        assert_eq!(decoded, collection);
        assert_eq!(decoded.heap_bytes(), collection.heap_bytes());
        assert_eq!(Collection::decode(&bytes[..bytes.len() - 1], &limits), None);
    }
}

#[test]
fn a_sorted_set_round_trips_through_its_encoding_and_its_bytes_return_to_zero() {
    let limits = limits(2, 8);
    let mut zset = ZSet::default();
    zset.insert(b"b", 2.0, &limits);
    zset.insert(b"a", 1.0, &limits);
    assert_eq!(zset.encoding(), "listpack");
    zset.insert(b"c", f64::NEG_INFINITY, &limits);
    assert_eq!(zset.encoding(), "skiplist");
    let collection = Collection::ZSet(zset.clone());
    let mut bytes = Vec::new();
    collection.encode(&mut bytes);
    let decoded = Collection::decode(&bytes, &limits).unwrap();
    assert_eq!(decoded, collection);
    let members: Vec<_> = zset.iter().map(|(m, s)| (m.to_vec(), s)).collect();
    assert_eq!(
        members,
        [
            (b"c".to_vec(), f64::NEG_INFINITY),
            (b"a".to_vec(), 1.0),
            (b"b".to_vec(), 2.0)
        ]
    );
    assert_eq!(zset.pop(true, 1), [(Box::from(&b"b"[..]), 2.0)]);
    assert!(zset.remove(b"a"));
    assert!(!zset.remove(b"a"));
    assert_eq!(zset.pop(false, 5).len(), 1);
    assert_eq!(zset.heap_bytes(), 0);
}
