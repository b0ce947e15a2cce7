//! md.

use super::*;

#[test]
fn delete_and_quiet_mode() {
    let mut shard = Shard::new();
    shard.text("ms foo|x");
    assert_eq!(shard.text("md nokey q"), "NF\r\n");
    assert_eq!(shard.text("md nokey O9 k"), "NF O9 knokey\r\n");
    assert_eq!(shard.text("md foo C1 k"), "HD kfoo\r\n");
    shard.text("ms foo|x");
    assert_eq!(shard.text("md foo C1 k"), "EX kfoo\r\n");
    assert_eq!(shard.text("md foo q"), "");
    assert_eq!(shard.text("mg foo"), "EN\r\n");
    assert_eq!(shard.text("md foo"), "NF\r\n");
    assert_eq!(shard.text("md foo q O1"), "NF O1\r\n");
    assert_eq!(shard.text("md YmFy b k"), "NF kYmFy b\r\n");
    let stats = shard.stats;
    assert_eq!((stats.delete_hits, stats.delete_misses), (2, 6));
    assert_eq!(shard.store.stats().curr_items, 0);
}

#[test]
fn invalidate_keeps_a_stale_item() {
    let mut shard = Shard::new();
    shard.text("ms st T100|x");
    let cas = shard.cas_of("st");
    assert_eq!(shard.text("md st I T30"), "HD\r\n");
    assert!(shard.cas_of("st") > cas);
    assert_eq!(shard.text("mg st t v"), "VA 1 t30 X W\r\nx\r\n");
    // Invalidating again lets the next client win again.
    assert_eq!(shard.text("md st I E42"), "HD\r\n");
    assert_eq!(shard.text("mg st t c"), "HD t30 c42 X W\r\n");
    assert_eq!(shard.stats.delete_hits, 0);
}

#[test]
fn remove_value_leaves_an_empty_item() {
    let mut shard = Shard::new();
    shard.text("ms tomb T100 F3|value");
    shard.text("mg tomb v");
    let cas = shard.cas_of("tomb");
    assert_eq!(shard.text("md tomb x"), "HD\r\n");
    assert_eq!(
        shard.text("mg tomb s t f c h v"),
        format!("VA 0 s0 t-1 f0 c{cas} h0\r\n\r\n")
    );
    assert_eq!(shard.text("md tomb x T20 E9"), "HD\r\n");
    assert_eq!(shard.text("mg tomb t c"), "HD t20 c9\r\n");
    assert_eq!(shard.text("md tomb x I"), "HD\r\n");
    assert!(shard.text("mg tomb").ends_with("X W\r\n"));
    assert_eq!(shard.stats.delete_hits, 2);
    assert_eq!(shard.store.stats().curr_items, 1);
    assert_eq!(shard.store.stats().bytes, crate::store::item_bytes(4, 0));
}
