//! set, add, replace, append, prepend, cas, flush_all, too-large values and
//! the store's accounting through them.

use super::*;

#[test]
fn set_add_replace() {
    let mut shard = Shard::new();
    assert_eq!(shard.text("add k 1 0|a"), "STORED\r\n");
    assert_eq!(shard.text("add k 2 0|b"), "NOT_STORED\r\n");
    assert_eq!(shard.text("replace nokey 0 0|x"), "NOT_STORED\r\n");
    assert_eq!(shard.text("replace k 3 0|c"), "STORED\r\n");
    assert_eq!(shard.text("get k"), "VALUE k 3 1\r\nc\r\nEND\r\n");
    assert_eq!(shard.text("set k 4 0|dd"), "STORED\r\n");
    assert_eq!(shard.text("get k"), "VALUE k 4 2\r\ndd\r\nEND\r\n");
    assert_eq!(shard.stats.cmd_set, 5);
    assert_eq!(shard.store.stats().total_items, 3);
}

#[test]
fn noreply_hides_every_storage_reply() {
    let mut shard = Shard::new();
    for line in [
        "set k 0 0 noreply|a",
        "add k 0 0 noreply|a",
        "replace nokey 0 0 noreply|a",
        "append k 0 0 noreply|b",
        "prepend k 0 0 noreply|c",
        "cas k 0 0 1 noreply|a",
        "cas nokey 0 0 1 noreply|a",
    ] {
        assert_eq!(shard.text(line), "", "{line}");
    }
    assert_eq!(shard.text("get k"), "VALUE k 0 3\r\ncab\r\nEND\r\n");
}

#[test]
fn append_and_prepend_keep_flags_and_expiry() {
    let mut shard = Shard::new();
    assert_eq!(shard.text("set ap 9 100|hi"), "STORED\r\n");
    assert_eq!(shard.text("append ap 0 0|+++"), "STORED\r\n");
    assert_eq!(shard.text("prepend ap 5 0|--"), "STORED\r\n");
    assert_eq!(shard.text("append nokey 0 0|x"), "NOT_STORED\r\n");
    assert_eq!(shard.text("prepend nokey 0 0|x"), "NOT_STORED\r\n");
    assert_eq!(shard.text("mg ap t f v"), "VA 7 t100 f9\r\n--hi+++\r\n");
    assert_eq!(shard.store.stats().total_items, 3);
}

#[test]
fn append_counts_as_a_new_item() {
    let mut shard = Shard::new();
    shard.text("set a 0 0|x");
    shard.text("get a");
    let before = shard.cas_of("a");
    shard.text("append a 0 0|y");
    assert_eq!(shard.text("mg a h"), "HD h0\r\n");
    assert!(shard.cas_of("a") > before);
}

#[test]
fn cas_flows() {
    let mut shard = Shard::new();
    shard.text("set e 0 0|c");
    let cas = shard.cas_of("e");
    assert_eq!(shard.text("cas e 0 0 999|x"), "EXISTS\r\n");
    assert_eq!(shard.text("cas nokey 0 0 1|x"), "NOT_FOUND\r\n");
    let good = leak(format!("cas e 7 0 {cas}|z"));
    assert_eq!(shard.text(good), "STORED\r\n");
    assert_eq!(shard.text(good), "EXISTS\r\n");
    assert_eq!(shard.text("cas e 0 0 0|q"), "EXISTS\r\n");
    assert_eq!(shard.text("get e"), "VALUE e 7 1\r\nz\r\nEND\r\n");
    let stats = shard.stats;
    assert_eq!(
        (stats.cas_misses, stats.cas_hits, stats.cas_badval),
        (1, 1, 3)
    );
    assert_eq!(stats.cmd_set, 6);
}

#[test]
fn cas_on_an_expired_item_is_not_found() {
    let mut shard = Shard::new();
    shard.text("set e 0 1|c");
    let cas = shard.cas_of("e");
    shard.advance_millis(1_000);
    assert_eq!(
        shard.text(leak(format!("cas e 0 0 {cas}|x"))),
        "NOT_FOUND\r\n"
    );
    assert_eq!(shard.stats.cas_misses, 1);
}

#[test]
fn every_store_gets_a_new_cas() {
    let mut shard = Shard::new();
    shard.text("set a 0 0|1");
    let first = shard.cas_of("a");
    shard.text("set a 0 0|1");
    let second = shard.cas_of("a");
    shard.text("incr a 1");
    let third = shard.cas_of("a");
    assert!(first < second && second < third);
}

#[test]
fn flush_all_now() {
    let mut shard = Shard::new();
    shard.text("set a 0 0|1");
    shard.text("set b 0 0|2");
    assert_eq!(shard.flush_all(0, false), "OK\r\n");
    assert_eq!(shard.text("get a b"), "END\r\n");
    assert_eq!(shard.flush_all(-5, true), "");
    assert_eq!(shard.stats.cmd_flush, 2);
    assert_eq!(shard.store.stats().curr_items, 0);
    assert_eq!(shard.store.stats().bytes, 0);
    assert_eq!(shard.text("flush_all"), "OK\r\n");
    assert_eq!(shard.text("flush_all noreply"), "");
    assert_eq!(shard.stats.cmd_flush, 4);
}

#[test]
fn flush_all_with_a_delay() {
    let mut shard = Shard::new();
    shard.text("set a 0 0|1");
    assert_eq!(shard.flush_all(2, false), "OK\r\n");
    shard.text("set fl 0 0|x");
    assert_eq!(shard.text("get fl"), "VALUE fl 0 1\r\nx\r\nEND\r\n");
    shard.advance_millis(1_500);
    shard.text("set fl3 0 0|z");
    shard.advance_millis(500);
    assert_eq!(shard.text("get fl fl3 a"), "END\r\n");
    shard.text("set fl2 0 0|y");
    shard.advance_millis(60_000);
    assert_eq!(shard.text("get fl2"), "VALUE fl2 0 1\r\ny\r\nEND\r\n");
}

#[test]
fn a_later_flush_replaces_a_pending_one() {
    let mut shard = Shard::new();
    shard.flush_all(10, false);
    shard.flush_all(100, false);
    shard.text("set a 0 0|1");
    shard.advance_millis(50_000);
    assert_eq!(shard.text("get a"), "VALUE a 0 1\r\n1\r\nEND\r\n");
    shard.advance_millis(50_000);
    assert_eq!(shard.text("get a"), "END\r\n");
}

#[test]
fn flush_all_at_an_absolute_time() {
    let mut shard = Shard::new();
    shard.text("set a 0 0|1");
    shard.flush_all(i64::try_from(T0.unix_secs()).expect("time") + 5, false);
    shard.advance_millis(4_999);
    assert_eq!(shard.text("get a"), "VALUE a 0 1\r\n1\r\nEND\r\n");
    shard.advance_millis(1);
    assert_eq!(shard.text("get a"), "END\r\n");
    // An absolute time already past flushes at once.
    shard.text("set a 0 0|1");
    shard.flush_all(i64::try_from(T0.unix_secs()).expect("time"), false);
    assert_eq!(shard.text("get a"), "END\r\n");
}

#[test]
fn too_large_set_removes_the_old_item() {
    let mut shard = Shard::new();
    shard.text("set big 0 0|old");
    reject_too_large(b"big", true, &mut shard.cx());
    assert_eq!(shard.text("get big"), "END\r\n");
    shard.text("set big 0 0|old");
    reject_too_large(b"big", false, &mut shard.cx());
    assert_eq!(shard.text("get big"), "VALUE big 0 3\r\nold\r\nEND\r\n");
    assert_eq!(shard.stats.store_too_large, 2);
    assert_eq!(shard.stats.cmd_set, 2);
}

#[test]
fn accounting_balances_back_to_zero() {
    let mut shard = Shard::new();
    shard.text("set a 0 0|hello");
    shard.text("set a 0 0|hi");
    shard.text("add b 0 0|1234");
    shard.text("append b 0 0|5");
    shard.text("prepend b 0 0|0");
    shard.text("incr b 1");
    shard.text("ms c MA N0|xyz");
    shard.text("ma d N0 J99");
    shard.text("mg e N30");
    let stats = *shard.store.stats();
    assert_eq!(stats.curr_items, 5);
    let expected: u64 = [(1, 2), (1, 5), (1, 3), (1, 2), (1, 0)]
        .iter()
        .map(|&(k, v)| crate::store::item_bytes(k, v))
        .sum();
    assert_eq!(stats.bytes, expected);
    shard.text("delete a");
    shard.text("md b");
    assert_eq!(shard.store.stats().curr_items, 3);
    shard.flush_all(0, true);
    assert_eq!(shard.store.stats().curr_items, 0);
    assert_eq!(shard.store.stats().bytes, 0);
}
