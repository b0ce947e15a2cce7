//! incr and decr.

use super::*;

fn after(shard: &mut Shard, stored: &'static str, command: &'static str) -> String {
    shard.text(leak(format!("set n 0 0|{stored}")));
    shard.text(command)
}

#[test]
fn values_read_as_memcached_reads_them() {
    let mut shard = Shard::new();
    assert_eq!(after(&mut shard, "  5", "incr n 1"), "6\r\n");
    assert_eq!(after(&mut shard, "5 abc", "incr n 1"), "6\r\n");
    assert_eq!(after(&mut shard, "-0", "incr n 1"), "1\r\n");
    assert_eq!(after(&mut shard, "+5", "incr n 1"), "6\r\n");
    assert_eq!(
        after(&mut shard, "-18446744073709551615", "incr n 0"),
        "1\r\n"
    );
    let non_numeric = "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n";
    assert_eq!(
        after(&mut shard, "18446744073709551616", "incr n 1"),
        non_numeric
    );
    assert_eq!(after(&mut shard, "", "incr n 1"), non_numeric);
    assert_eq!(after(&mut shard, "abc", "decr n 1"), non_numeric);
    assert_eq!(after(&mut shard, "-1 ", "incr n 0"), non_numeric);
    assert_eq!(after(&mut shard, "abc", "incr n 1 noreply"), "");
    assert_eq!(shard.stats.incr_hits, 5);
    assert_eq!(shard.stats.incr_misses, 0);
}

#[test]
fn incr_wraps_and_decr_stops_at_zero() {
    let mut shard = Shard::new();
    assert_eq!(
        after(&mut shard, "18446744073709551615", "incr n 1"),
        "0\r\n"
    );
    assert_eq!(after(&mut shard, "10", "decr n 1"), "9\r\n");
    // memcached would read back "9 " (padded in place); corecache keeps the
    // exact digits.
    assert_eq!(shard.text("get n"), "VALUE n 0 1\r\n9\r\nEND\r\n");
    assert_eq!(shard.text("decr n 100"), "0\r\n");
    assert_eq!(
        shard.text("incr n 18446744073709551615"),
        "18446744073709551615\r\n"
    );
    assert_eq!(
        shard.text("get n"),
        "VALUE n 0 20\r\n18446744073709551615\r\nEND\r\n"
    );
    assert_eq!(shard.text("incr n 2"), "1\r\n");
    assert_eq!((shard.stats.incr_hits, shard.stats.decr_hits), (3, 2));
}

#[test]
fn misses_answer_not_found() {
    let mut shard = Shard::new();
    assert_eq!(shard.text("incr nokey 1"), "NOT_FOUND\r\n");
    assert_eq!(shard.text("decr nokey 1"), "NOT_FOUND\r\n");
    assert_eq!(shard.text("decr nokey 1 noreply"), "");
    assert_eq!((shard.stats.incr_misses, shard.stats.decr_misses), (1, 2));
}

#[test]
fn results_keep_flags_and_expiry() {
    let mut shard = Shard::new();
    shard.text("set n 42 100|99");
    assert_eq!(shard.text("incr n 1 noreply"), "");
    assert_eq!(shard.text("mg n v f t"), "VA 3 f42 t100\r\n100\r\n");
}

#[test]
fn a_longer_result_counts_as_a_new_item() {
    let mut shard = Shard::new();
    shard.text("set n 0 0|9");
    shard.text("get n");
    shard.text("incr n 1");
    assert_eq!(shard.text("mg n h"), "HD h0\r\n");
    assert_eq!(shard.store.stats().total_items, 2);
    shard.text("get n");
    shard.text("incr n 1");
    assert_eq!(shard.text("mg n h"), "HD h1\r\n");
    assert_eq!(shard.store.stats().total_items, 2);
}
