//! ma.

use super::*;

const NON_NUMERIC: &str = "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n";

#[test]
fn misses_vivify_and_modes() {
    let mut shard = Shard::new();
    assert_eq!(shard.text("ma nokey"), "NF\r\n");
    assert_eq!(shard.text("ma nokey q"), "NF\r\n");
    assert_eq!(shard.text("ma nokey N0 J10 v"), "VA 2\r\n10\r\n");
    assert_eq!(shard.text("ma nokey v"), "VA 2\r\n11\r\n");
    let cas = shard.cas_of("nokey") + 1;
    assert_eq!(
        shard.text("ma nokey MD D3 v t c"),
        format!("VA 1 t-1 c{cas}\r\n8\r\n")
    );
    assert_eq!(shard.text("ma nokey M- D100 v"), "VA 1\r\n0\r\n");
    assert_eq!(shard.text("ma nokey q D5"), "");
    assert_eq!(shard.text("ma nokey v k O1"), "VA 1 knokey O1\r\n6\r\n");
    let stats = shard.stats;
    assert_eq!((stats.incr_hits, stats.incr_misses), (3, 2));
    assert_eq!((stats.decr_hits, stats.decr_misses), (2, 0));
}

#[test]
fn vivify_reply_is_sent_even_when_quiet() {
    let mut shard = Shard::new();
    assert_eq!(shard.text("ma n2 N100 J7 t c v q"), "VA 1 t100 c1\r\n7\r\n");
    assert_eq!(shard.text("ma n3 q N100"), "HD\r\n");
    assert_eq!(shard.text("ma n3 q"), "");
    assert_eq!(shard.text("ma n4 t N50 t E9 c k"), "HD t-1 t50 c9 kn4\r\n");
}

#[test]
fn ttl_cas_and_errors() {
    let mut shard = Shard::new();
    shard.text("ma n N0");
    assert_eq!(shard.text("ma n v T50 t"), "VA 1 t50\r\n1\r\n");
    assert_eq!(shard.text("ma n v t T90"), "VA 1 t50\r\n2\r\n");
    assert_eq!(shard.text("ma n t"), "HD t90\r\n");
    assert_eq!(shard.text("ma n C1 O7"), "EX O7\r\n");
    assert_eq!(shard.text("ma n C0 v"), "VA 1\r\n4\r\n");
    let cas = shard.cas_of("n");
    assert_eq!(
        shard.text(leak(format!("ma n C{cas} E1000 c"))),
        "HD c1000\r\n"
    );
    shard.text("ms nn|x");
    assert_eq!(shard.text("ma nn"), NON_NUMERIC);
    assert_eq!(shard.text("ma nn q"), NON_NUMERIC);
    shard.text("ms empty|");
    assert_eq!(shard.text("ma empty C99"), NON_NUMERIC);
    assert_eq!(shard.stats.incr_hits, 5);
}

#[test]
fn wraps_and_floors() {
    let mut shard = Shard::new();
    shard.text("ms n|18446744073709551615");
    assert_eq!(shard.text("ma n v"), "VA 1\r\n0\r\n");
    assert_eq!(shard.text("ma n MD D9 v"), "VA 1\r\n0\r\n");
    assert_eq!(
        shard.text("ma n D18446744073709551615 v"),
        "VA 20\r\n18446744073709551615\r\n"
    );
}
