//! get, gets, gat, gats.

use super::*;

#[test]
fn get_hits_and_misses() {
    let mut shard = Shard::new();
    assert_eq!(shard.text("set a 5 0|abc"), "STORED\r\n");
    assert_eq!(
        shard.get_key(GetKind::Get, None, "a"),
        "VALUE a 5 3\r\nabc\r\n"
    );
    assert_eq!(shard.get_key(GetKind::Get, None, "nope"), "");
    assert_eq!(shard.stats.cmd_get, 2);
    assert_eq!(shard.stats.get_hits, 1);
    assert_eq!(shard.stats.get_misses, 1);
}

#[test]
fn gets_shows_the_cas_unique() {
    let mut shard = Shard::new();
    shard.text("set a 0 0|x");
    let cas = shard.cas_of("a");
    assert_eq!(
        shard.get_key(GetKind::Gets, None, "a"),
        format!("VALUE a 0 1 {cas}\r\nx\r\n")
    );
}

#[test]
fn multi_get_through_execute_answers_each_key_then_end() {
    let mut shard = Shard::new();
    shard.text("set a 1 0|A");
    shard.text("set c 3 0|CC");
    assert_eq!(
        shard.text("get a b c a"),
        "VALUE a 1 1\r\nA\r\nVALUE c 3 2\r\nCC\r\nVALUE a 1 1\r\nA\r\nEND\r\n"
    );
    assert_eq!(shard.stats.cmd_get, 4);
    assert_eq!(shard.stats.get_hits, 3);
    assert_eq!(shard.stats.get_misses, 1);
}

#[test]
fn a_get_marks_the_item_fetched() {
    let mut shard = Shard::new();
    shard.text("set a 0 0|x");
    assert_eq!(shard.text("mg a h"), "HD h0\r\n");
    shard.get_key(GetKind::Get, None, "a");
    assert_eq!(shard.text("mg a h"), "HD h1\r\n");
}

#[test]
fn gat_touches_and_counts_as_a_touch() {
    let mut shard = Shard::new();
    shard.text("set e 0 0|c");
    assert_eq!(
        shard.get_key(GetKind::Gat, Some(100), "e"),
        "VALUE e 0 1\r\nc\r\n"
    );
    assert_eq!(shard.get_key(GetKind::Gat, Some(100), "nokey"), "");
    let cas = shard.cas_of("e");
    assert_eq!(
        shard.get_key(GetKind::Gats, Some(100), "e"),
        format!("VALUE e 0 1 {cas}\r\nc\r\n")
    );
    assert_eq!(shard.text("mg e t"), "HD t100\r\n");
    let stats = shard.stats;
    assert_eq!((stats.cmd_get, stats.get_hits, stats.get_misses), (1, 1, 0));
    assert_eq!(
        (stats.cmd_touch, stats.touch_hits, stats.touch_misses),
        (3, 2, 1)
    );
}

#[test]
fn gat_with_a_negative_time_expires_the_item() {
    let mut shard = Shard::new();
    shard.text("set t 0 100|x");
    assert_eq!(shard.text("gat -1 t"), "VALUE t 0 1\r\nx\r\nEND\r\n");
    assert_eq!(shard.text("get t"), "END\r\n");
    assert_eq!(shard.stats.get_expired, 1);
}

#[test]
fn relative_absolute_and_negative_expiry() {
    let mut shard = Shard::new();
    shard.text("set rel 0 10|r");
    let absolute = leak(format!("set abs 0 {}|a", T0.unix_secs() + 20));
    shard.text(absolute);
    shard.text("set neg 0 -1|n");
    let past = leak(format!("set past 0 {}|p", T0.unix_secs() - 1));
    shard.text(past);
    assert_eq!(shard.text("get neg past"), "END\r\n");
    shard.advance_millis(9_999);
    assert_eq!(
        shard.text("get rel abs"),
        "VALUE rel 0 1\r\nr\r\nVALUE abs 0 1\r\na\r\nEND\r\n"
    );
    shard.advance_millis(1);
    assert_eq!(shard.text("get rel abs"), "VALUE abs 0 1\r\na\r\nEND\r\n");
    shard.advance_millis(10_000);
    assert_eq!(shard.text("get rel abs"), "END\r\n");
    let stats = shard.stats;
    assert_eq!(stats.get_expired, 4);
    assert_eq!(shard.store.stats().reclaimed, 4);
    // "rel" and "abs" had been fetched, "neg" and "past" had not.
    assert_eq!(shard.store.stats().expired_unfetched, 2);
    assert_eq!(shard.store.stats().curr_items, 0);
}
