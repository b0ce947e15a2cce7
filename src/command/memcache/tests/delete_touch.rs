//! delete and touch.

use super::*;

#[test]
fn delete_answers_deleted_then_not_found() {
    let mut shard = Shard::new();
    shard.text("set a 0 0|abc");
    assert_eq!(shard.text("delete a"), "DELETED\r\n");
    assert_eq!(shard.text("delete a"), "NOT_FOUND\r\n");
    assert_eq!(shard.text("delete a noreply"), "");
    shard.text("set a 0 0|abc");
    assert_eq!(shard.text("delete a noreply"), "");
    assert_eq!(shard.text("get a"), "END\r\n");
    assert_eq!((shard.stats.delete_hits, shard.stats.delete_misses), (2, 2));
    assert_eq!(shard.store.stats().curr_items, 0);
    assert_eq!(shard.store.stats().bytes, 0);
}

#[test]
fn delete_of_an_expired_item_is_a_miss() {
    let mut shard = Shard::new();
    shard.text("set a 0 1|abc");
    shard.advance_millis(1_000);
    assert_eq!(shard.text("delete a"), "NOT_FOUND\r\n");
    assert_eq!(shard.stats.delete_misses, 1);
    assert_eq!(shard.stats.get_expired, 1);
}

#[test]
fn touch_sets_a_new_expiry() {
    let mut shard = Shard::new();
    shard.text("set e 0 5|c");
    assert_eq!(shard.text("touch e 10"), "TOUCHED\r\n");
    assert_eq!(shard.text("touch nokey 10"), "NOT_FOUND\r\n");
    assert_eq!(shard.text("touch e 20 noreply"), "");
    shard.advance_millis(19_000);
    assert_eq!(shard.text("mg e t v"), "VA 1 t1\r\nc\r\n");
    assert_eq!(shard.text("touch e -1"), "TOUCHED\r\n");
    assert_eq!(shard.text("get e"), "END\r\n");
    let stats = shard.stats;
    assert_eq!(
        (stats.cmd_touch, stats.touch_hits, stats.touch_misses),
        (4, 3, 1)
    );
}

#[test]
fn touch_counts_as_a_fetch() {
    let mut shard = Shard::new();
    shard.text("set e 0 0|c");
    shard.text("touch e 0");
    assert_eq!(shard.text("mg e h"), "HD h1\r\n");
}
