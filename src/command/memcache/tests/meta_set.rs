//! ms.

use super::*;

#[test]
fn set_echoes_opaque_key_cas_and_size_in_order() {
    let mut shard = Shard::new();
    assert_eq!(
        shard.text("ms foo T100 F5 c k s Oab|bar"),
        "HD c1 kfoo s3 Oab\r\n"
    );
    assert_eq!(shard.text("mg foo f t v"), "VA 3 f5 t100\r\nbar\r\n");
    assert_eq!(shard.text("ms foo q|baz"), "");
    assert_eq!(shard.text("ms foo T0 t f v|qux"), "HD\r\n");
    assert_eq!(shard.text("mg foo t f v"), "VA 3 t-1 f0\r\nqux\r\n");
    assert_eq!(shard.stats.cmd_set, 3);
}

#[test]
fn modes() {
    let mut shard = Shard::new();
    assert_eq!(shard.text("ms m MA|ab"), "NS\r\n");
    assert_eq!(shard.text("ms m MP|ab"), "NS\r\n");
    assert_eq!(shard.text("ms m MR|ab"), "NS\r\n");
    assert_eq!(shard.text("ms m ME c|ab"), "HD c1\r\n");
    assert_eq!(shard.text("ms m ME c|cd"), "NS c0\r\n");
    assert_eq!(shard.text("ms m MA s c|ef"), "HD s4 c2\r\n");
    assert_eq!(shard.text("ms m MP T100 F7|gh"), "HD\r\n");
    // Append and prepend keep the item's flags and TTL.
    assert_eq!(shard.text("mg m v t f"), "VA 6 t-1 f0\r\nghabef\r\n");
    assert_eq!(shard.text("ms m MR F9 T0|r"), "HD\r\n");
    assert_eq!(shard.text("mg m v t f"), "VA 1 t-1 f9\r\nr\r\n");
    assert_eq!(shard.text("ms m MS q|q"), "");
    assert_eq!(shard.text("mg m v"), "VA 1\r\nq\r\n");
    assert_eq!(shard.stats.cmd_set, 9);
}

#[test]
fn not_stored_reports_the_request_size() {
    let mut shard = Shard::new();
    assert_eq!(shard.text("ms m MR s q|abc"), "NS s3\r\n");
}

#[test]
fn append_with_n_creates_a_missing_item() {
    let mut shard = Shard::new();
    assert_eq!(shard.text("ms log MA N30 T5 s|a"), "HD s1\r\n");
    assert_eq!(shard.text("mg log t v"), "VA 1 t30\r\na\r\n");
    assert_eq!(shard.text("ms log MA N30 s|b"), "HD s2\r\n");
    assert_eq!(shard.text("ms pre MP N10 F3|z"), "HD\r\n");
    assert_eq!(shard.text("mg pre t f v"), "VA 1 t10 f3\r\nz\r\n");
}

#[test]
fn compare_cas_in_every_mode() {
    let mut shard = Shard::new();
    shard.text("ms m|x");
    let cas = shard.cas_of("m");
    assert_eq!(
        shard.text(leak(format!("ms m MA C{}|x", cas + 1))),
        "EX\r\n"
    );
    assert_eq!(shard.text(leak(format!("ms m MA C{cas}|y"))), "HD\r\n");
    assert_eq!(shard.text("ms m2 MA C5|x"), "NS\r\n");
    assert_eq!(shard.text("ms m2 ME C5|x"), "HD\r\n");
    assert_eq!(shard.text("ms m2 MR C5|x"), "EX\r\n");
    assert_eq!(shard.text("ms m3 MR C5|x"), "NF\r\n");
    assert_eq!(shard.text("ms m3 C5 q|x"), "NF\r\n");
    let cas = shard.cas_of("m2");
    assert_eq!(
        shard.text(leak(format!("ms m2 C{cas} c|new"))),
        format!("HD c{}\r\n", cas + 1)
    );
    let stats = shard.stats;
    assert_eq!(
        (stats.cas_hits, stats.cas_badval, stats.cas_misses),
        (1, 1, 2)
    );
    assert_eq!(shard.text("mg m v"), "VA 2\r\nxy\r\n");
}

#[test]
fn invalidate_stores_a_lower_cas_as_stale() {
    let mut shard = Shard::new();
    shard.text("ms st T100|x");
    shard.text("md st I T30 q");
    assert!(shard.text("mg st c").ends_with("X W\r\n"));
    let cas = shard.cas_of("st");
    assert_eq!(
        shard.text(leak(format!("ms st C{} I c T5|Y", cas - 1))),
        format!("HD c{}\r\n", cas + 1)
    );
    // The value is replaced, the TTL, the stale mark and the token stay.
    assert_eq!(shard.text("mg st v t"), "VA 1 t30 Z X\r\nY\r\n");
    let cas = shard.cas_of("st");
    assert_eq!(
        shard.text(leak(format!("ms st C{} I|z", cas + 5))),
        "EX\r\n"
    );
    assert_eq!(shard.text(leak(format!("ms st C{cas}|w"))), "HD\r\n");
    assert_eq!(shard.text("mg st v t"), "VA 1 t-1\r\nw\r\n");
    assert_eq!((shard.stats.cas_hits, shard.stats.cas_badval), (2, 1));
}

#[test]
fn explicit_cas() {
    let mut shard = Shard::new();
    assert_eq!(shard.text("ms e E500 c|x"), "HD c500\r\n");
    assert_eq!(shard.text("mg e c"), "HD c500\r\n");
    assert_eq!(shard.text("ms e MA E600 C500 c|y"), "HD c600\r\n");
    assert_eq!(shard.text("ms e C600 E700|z"), "HD\r\n");
    assert_eq!(shard.text("mg e c v"), "VA 1 c700\r\nz\r\n");
}

#[test]
fn base64_key_is_stored_decoded() {
    let mut shard = Shard::new();
    assert_eq!(shard.text("ms YQ== b|x"), "HD\r\n");
    assert_eq!(shard.text("get a"), "VALUE a 0 1\r\nx\r\nEND\r\n");
}
