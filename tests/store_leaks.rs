//! Collections are freed with their items: a counting allocator sees the
//! heap go back to where it was after many hashes, lists, sets and sorted sets are
//! created, grown past their compact encodings, replaced by strings,
//! emptied, expired, removed and flushed.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use corecache::clock::{ExpiresAt, Now};
use corecache::store::{Collection, Hash, ItemMeta, Limits, List, Set, Store, ZSet};

/// The system allocator, counting the bytes live.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// Safety: forwards to `System`, only counting.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // Safety: the caller's contract is `System`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // Safety: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // Safety: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

const T0: Now = Now(1_700_000_000_000);

fn collection(i: usize) -> Collection {
    let limits = Limits::default();
    match i % 4 {
        0 => {
            let mut hash = Hash::default();
            for f in 0..(i % 300) + 1 {
                hash.insert(format!("field{f}").as_bytes(), &vec![b'x'; f % 90], &limits);
            }
            Collection::Hash(hash)
        }
        3 => {
            let mut zset = ZSet::default();
            for m in 0..(i % 300) + 1 {
                zset.insert(format!("member{m}").as_bytes(), (m % 17) as f64, &limits);
            }
            zset.remove(b"member0");
            zset.pop(true, 2);
            Collection::ZSet(zset)
        }
        1 => {
            let mut list = List::default();
            for e in 0..(i % 50) + 1 {
                list.push_back(format!("element{e}").as_bytes());
            }
            list.insert(1, b"inserted");
            list.set(0, b"replaced with a longer element");
            list.remove(list.len() / 2);
            list.push_front(b"to be trimmed");
            list.keep(1, list.len());
            Collection::List(list)
        }
        _ => {
            let mut set = Set::default();
            for m in 0..(i % 700) + 1 {
                let member = if i % 2 == 0 {
                    m.to_string()
                } else {
                    format!("m{m}")
                };
                set.insert(member.as_bytes(), &limits);
            }
            Collection::Set(set)
        }
    }
}

/// One test only: the count is process-wide, so nothing may allocate
/// alongside.
#[test]
fn every_way_out_of_the_store_frees_the_collection() {
    let mut store = Store::new();
    // Let the index reach its size first, so its table is not counted.
    for round in 0..2 {
        let before = LIVE.load(Ordering::Relaxed);
        for i in 0..3_000 {
            let key = format!("key{i}");
            let meta = ItemMeta {
                expires_at: if i % 5 == 0 {
                    ExpiresAt::at_millis(T0.0 + 1)
                } else {
                    ExpiresAt::NEVER
                },
                ..ItemMeta::default()
            };
            store
                .insert_collection(key.as_bytes(), collection(i), meta, T0)
                .unwrap();
            match i % 7 {
                // Replaced by another collection, or by a string.
                0 => drop(store.insert_collection(key.as_bytes(), collection(i + 1), meta, T0)),
                1 => drop(store.insert(key.as_bytes(), b"string", meta, T0)),
                // Emptied element by element.
                2 => {
                    while let Some(item) = store.get(key.as_bytes(), T0) {
                        item.update_collection(|c| match c {
                            Collection::Hash(h) => {
                                let field = h.get_index(0).unwrap().0.to_vec();
                                h.remove(&field);
                            }
                            Collection::List(l) => drop(l.pop_front()),
                            Collection::Set(s) => {
                                let member = s.get_index(0).unwrap();
                                s.remove(&member);
                            }
                            Collection::ZSet(z) => drop(z.pop(false, 1)),
                        });
                    }
                }
                3 => assert!(store.remove(key.as_bytes())),
                _ => {}
            }
        }
        // Expiry, then a flush, take the rest.
        for i in 0..3_000 {
            store.get(format!("key{i}").as_bytes(), Now(T0.0 + 5));
        }
        store.flush_all();
        assert_eq!(store.stats().bytes, 0);
        let after = LIVE.load(Ordering::Relaxed);
        if round == 1 {
            assert_eq!(after, before, "bytes still allocated after round {round}");
        }
    }
}
