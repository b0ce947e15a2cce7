//! Byte-exact checks of every encoder.

use super::*;

fn text(write: impl FnOnce(&mut Vec<u8>)) -> String {
    let mut out = Vec::new();
    write(&mut out);
    String::from_utf8(out).unwrap()
}

fn tokens(line: &str) -> impl Iterator<Item = &[u8]> {
    line.split(' ').filter(|t| !t.is_empty()).map(str::as_bytes)
}

#[test]
fn value_blocks_with_and_without_cas() {
    assert_eq!(
        text(|o| value(o, b"key", 5, b"abc", None)),
        "VALUE key 5 3\r\nabc\r\n"
    );
    assert_eq!(
        text(|o| value(o, b"k", u32::MAX, b"", Some(u64::MAX))),
        "VALUE k 4294967295 0 18446744073709551615\r\n\r\n"
    );
}

#[test]
fn simple_lines() {
    assert_eq!(text(end), "END\r\n");
    assert_eq!(text(|o| status(o, STORED)), "STORED\r\n");
    assert_eq!(text(|o| number(o, 0)), "0\r\n");
    assert_eq!(text(|o| version(o, "1.6.45")), "VERSION 1.6.45\r\n");
    assert_eq!(text(|o| stat(o, "pid", 42)), "STAT pid 42\r\n");
    assert_eq!(
        text(|o| stat_text(o, "evictions", "on")),
        "STAT evictions on\r\n"
    );
    assert_eq!(text(|o| push_i64(o, -1)), "-1");
}

#[test]
fn meta_codes_and_flags() {
    assert_eq!(text(|o| meta_code(o, MetaCode::Header)), "HD");
    assert_eq!(text(|o| meta_code(o, MetaCode::Miss)), "EN");
    assert_eq!(text(|o| meta_code(o, MetaCode::NotFound)), "NF");
    assert_eq!(text(|o| meta_code(o, MetaCode::NotStored)), "NS");
    assert_eq!(text(|o| meta_code(o, MetaCode::Exists)), "EX");
    assert_eq!(text(|o| meta_value_code(o, 12)), "VA 12");
    assert_eq!(text(|o| meta_bare_flag(o, b'W')), " W");
    assert_eq!(text(|o| meta_flag_signed(o, b't', -1)), " t-1");
    assert_eq!(text(|o| meta_key(o, b"foo", false)), " kfoo");
    assert_eq!(text(|o| meta_key(o, b"foo", true)), " kZm9v b");
    assert_eq!(text(|o| meta_key(o, b"a", true)), " kYQ== b");
    assert_eq!(text(|o| meta_data(o, b"xy")), "xy\r\n");
    assert_eq!(text(meta_line_end), "\r\n");
}

#[test]
fn flags_follow_request_order_and_skip_unanswered_ones() {
    let view = MetaView {
        key: Some(MetaKey {
            bytes: b"foo",
            binary: false,
        }),
        size: Some(3),
        client_flags: Some(5),
        cas: Some(15),
        ttl: Some(TtlTrack::fixed(100)),
        hit_before: Some(false),
        last_access: Some(0),
    };
    assert_eq!(
        text(|o| meta_flags(o, tokens("s v f t c k Oxx h l q"), &view)),
        " s3 f5 t100 c15 kfoo Oxx h0 l0"
    );
    let echo_only = MetaView {
        key: view.key,
        ..MetaView::default()
    };
    assert_eq!(
        text(|o| meta_flags(o, tokens("Oq2 s v k t c"), &echo_only)),
        " Oq2 kfoo"
    );
}

#[test]
fn ttl_changes_where_t_and_n_tokens_stand() {
    let view = MetaView {
        ttl: Some(TtlTrack {
            initial: -1,
            after_t: Some(60),
            after_n: Some(30),
        }),
        ..MetaView::default()
    };
    assert_eq!(
        text(|o| meta_flags(o, tokens("t N30 t T60 t"), &view)),
        " t-1 t30 t60"
    );
    let unchanged = MetaView {
        ttl: Some(TtlTrack::fixed(7)),
        ..MetaView::default()
    };
    assert_eq!(
        text(|o| meta_flags(o, tokens("T60 t N5 t"), &unchanged)),
        " t7 t7"
    );
}

#[test]
fn debug_lines() {
    let view = DebugView {
        key: MetaKey {
            bytes: b"foo",
            binary: true,
        },
        exp: -1,
        last_access: 2,
        cas: 47,
        fetched: true,
        class: 1,
        size: 63,
    };
    assert_eq!(
        text(|o| meta_debug(o, &view)),
        "ME Zm9v exp=-1 la=2 cas=47 fetch=yes cls=1 size=63\r\n"
    );
    let plain = DebugView {
        key: MetaKey {
            bytes: b"foo",
            binary: false,
        },
        fetched: false,
        exp: 59,
        ..view
    };
    assert_eq!(
        text(|o| meta_debug(o, &plain)),
        "ME foo exp=59 la=2 cas=47 fetch=no cls=1 size=63\r\n"
    );
}
