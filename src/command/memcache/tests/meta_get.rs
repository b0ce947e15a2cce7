//! mg and me.

use super::*;

#[test]
fn return_flags_in_request_order() {
    let mut shard = Shard::new();
    assert_eq!(shard.text("ms foo T100 F5|bar"), "HD\r\n");
    let cas = shard.cas_of("foo");
    assert_eq!(
        shard.text("mg foo s v f t c k Oxx h l"),
        format!("VA 3 s3 f5 t100 c{cas} kfoo Oxx h0 l0\r\nbar\r\n")
    );
    shard.advance_millis(1_000);
    assert_eq!(shard.text("mg foo h l"), "HD h1 l1\r\n");
    assert_eq!(shard.text("mg foo k q O5"), "HD kfoo O5\r\n");
    assert_eq!(shard.text("mg foo O5 k"), "HD O5 kfoo\r\n");
    assert_eq!(shard.text("mg foo"), "HD\r\n");
}

#[test]
fn misses_and_quiet_mode() {
    let mut shard = Shard::new();
    shard.text("ms foo|bar");
    assert_eq!(shard.text("mg foo q"), "HD\r\n");
    assert_eq!(shard.text("mg nokey q k Oq1"), "");
    assert_eq!(shard.text("mg nokey k Oq2 s v"), "EN knokey Oq2\r\n");
    assert_eq!(shard.text("mg nokey"), "EN\r\n");
    assert_eq!(shard.text("mg YmFy b k O1"), "EN kYmFy b O1\r\n");
    let stats = shard.stats;
    assert_eq!((stats.cmd_get, stats.get_hits, stats.get_misses), (5, 1, 4));
    assert_eq!(stats.meta_cmds, 0);
}

#[test]
fn t_token_updates_ttl_and_counts_a_touch() {
    let mut shard = Shard::new();
    shard.text("ms foo T100|bar");
    assert_eq!(shard.text("mg foo T30 t"), "HD t30\r\n");
    assert_eq!(shard.text("mg foo t T60"), "HD t30\r\n");
    assert_eq!(shard.text("mg foo t"), "HD t60\r\n");
    assert_eq!(shard.text("mg nokey T60 t"), "EN\r\n");
    let stats = shard.stats;
    assert_eq!(
        (stats.cmd_touch, stats.touch_hits, stats.touch_misses),
        (2, 2, 0)
    );
    assert_eq!((stats.cmd_get, stats.get_hits, stats.get_misses), (2, 1, 1));
}

#[test]
fn vivify_hands_out_one_win_token() {
    let mut shard = Shard::new();
    assert_eq!(shard.text("mg viv N30 s t c v"), "VA 0 s0 t30 c1 W\r\n\r\n");
    assert_eq!(shard.text("mg viv N30 s t c v"), "VA 0 s0 t30 c1 Z\r\n\r\n");
    assert_eq!(shard.text("mg viv v"), "VA 0 Z\r\n\r\n");
    assert_eq!(shard.text("mg viv t N60"), "HD t30 Z\r\n");
    assert_eq!(shard.text("ms viv T0|hi"), "HD\r\n");
    assert_eq!(shard.text("mg viv c v"), "VA 2 c2\r\nhi\r\n");
    // A vivified miss counts as a hit, as in memcached.
    assert_eq!((shard.stats.get_hits, shard.stats.get_misses), (5, 0));
}

#[test]
fn vivify_with_an_explicit_cas_and_ttl_order() {
    let mut shard = Shard::new();
    // Each t reports the TTL as the N and T before it left it.
    assert_eq!(shard.text("mg v1 t N30 T60 E77 c"), "HD t-1 c77 W\r\n");
    assert_eq!(shard.text("mg v1 t"), "HD t60 Z\r\n");
    assert_eq!(shard.text("mg v2 N30 t T60 c"), "HD t30 c1 W\r\n");
    assert_eq!(shard.text("mg v2 t"), "HD t60 Z\r\n");
}

#[test]
fn vivified_binary_key_is_echoed_raw() {
    let mut shard = Shard::new();
    // memcached allocates the stub without the binary-key mark.
    assert_eq!(shard.text("mg YmFy b N30 k"), "HD kbar W\r\n");
}

#[test]
fn recache_wins_when_ttl_is_below_the_token() {
    let mut shard = Shard::new();
    shard.text("ms rc T10|x");
    assert_eq!(shard.text("mg rc R30 v t"), "VA 1 t10 W\r\nx\r\n");
    assert_eq!(shard.text("mg rc R30 v t"), "VA 1 t10 Z\r\nx\r\n");
    assert_eq!(shard.text("mg rc R5 v"), "VA 1 Z\r\nx\r\n");
    shard.text("ms rc2|x");
    assert_eq!(shard.text("mg rc2 R30 v"), "VA 1\r\nx\r\n");
    shard.text("ms rc3 T100|x");
    assert_eq!(shard.text("mg rc3 R30"), "HD\r\n");
    // R compares with the TTL a T before it has just set.
    assert_eq!(shard.text("mg rc3 T10 R30"), "HD W\r\n");
}

#[test]
fn stale_items_answer_x_and_hand_out_one_win() {
    let mut shard = Shard::new();
    shard.text("ms st T100|x");
    assert_eq!(shard.text("md st I T30 q"), "");
    let cas = shard.cas_of("st");
    assert_eq!(
        shard.text("mg st t c v"),
        format!("VA 1 t30 c{cas} X W\r\nx\r\n")
    );
    assert_eq!(
        shard.text("mg st t c v"),
        format!("VA 1 t30 c{cas} Z X\r\nx\r\n")
    );
    assert_eq!(shard.text("mg st v"), "VA 1 Z X\r\nx\r\n");
}

#[test]
fn compare_cas_skips_a_value_the_client_has() {
    let mut shard = Shard::new();
    shard.text("ms k T50|abc");
    let cas = shard.cas_of("k");
    assert_eq!(
        shard.text(leak(format!("mg k v C{cas} t T90"))),
        "HD t50\r\n"
    );
    assert_eq!(
        shard.text(leak(format!("mg k t v C{}", cas + 1))),
        "VA 3 t90\r\nabc\r\n"
    );
}

#[test]
fn no_bump_leaves_the_item_unfetched() {
    let mut shard = Shard::new();
    shard.text("set t 0 100|x");
    assert_eq!(shard.text("mg t u v"), "VA 1\r\nx\r\n");
    assert_eq!(shard.text("mg t h"), "HD h0\r\n");
    assert_eq!(shard.text("mg t h"), "HD h1\r\n");
    assert_eq!(shard.text("mg t u h"), "HD h1\r\n");
}

#[test]
fn expired_items_miss() {
    let mut shard = Shard::new();
    shard.text("ms e T2|x");
    shard.advance_millis(2_000);
    assert_eq!(shard.text("mg e v"), "EN\r\n");
    assert_eq!(shard.stats.get_expired, 1);
}

#[test]
fn binary_keys_echo_in_base64() {
    let mut shard = Shard::new();
    let cas = 1;
    assert_eq!(
        shard.text("ms Zm9v b k c|x"),
        format!("HD kZm9v b c{cas}\r\n")
    );
    assert_eq!(shard.text("mg foo k v"), "VA 1 kZm9v b\r\nx\r\n");
    assert_eq!(shard.text("mg Zm9v b k v"), "VA 1 kZm9v b\r\nx\r\n");
    assert_eq!(
        shard.text("me foo"),
        format!(
            "ME Zm9v exp=-1 la=0 cas={cas} fetch=yes cls=1 size={}\r\n",
            crate::store::item_bytes(3, 1)
        )
    );
    // Stored again through a text key, it is echoed raw.
    shard.text("set foo 0 0|y");
    assert_eq!(shard.text("mg Zm9v b k"), "HD kfoo\r\n");
    assert_eq!(shard.text("ms Zm9v b MA k|z"), "HD kZm9v b\r\n");
    assert_eq!(shard.text("mg foo k v"), "VA 2 kfoo\r\nyz\r\n");
}

#[test]
fn meta_debug() {
    let mut shard = Shard::new();
    shard.text("ms foo T60|bar");
    shard.advance_millis(1_000);
    assert_eq!(
        shard.text("me foo"),
        format!(
            "ME foo exp=59 la=1 cas=1 fetch=no cls=1 size={}\r\n",
            crate::store::item_bytes(3, 3)
        )
    );
    assert_eq!(
        shard.text("me foo"),
        format!(
            "ME foo exp=59 la=1 cas=1 fetch=no cls=1 size={}\r\n",
            crate::store::item_bytes(3, 3)
        )
    );
    assert_eq!(shard.text("me nokey"), "EN\r\n");
    assert_eq!(
        shard.text("me Zm9v b"),
        format!(
            "ME foo exp=59 la=1 cas=1 fetch=no cls=1 size={}\r\n",
            crate::store::item_bytes(3, 3)
        )
    );
    assert_eq!(shard.stats.meta_cmds, 4);
    assert_eq!(shard.stats.cmd_get, 0);
}

#[test]
fn meta_noop() {
    let mut shard = Shard::new();
    assert_eq!(shard.text("mn"), "MN\r\n");
}
