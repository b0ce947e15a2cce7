//! memcached meta commands (mg, ms, md, ma, me, mn) over raw TCP. Expected
//! replies are memcached 1.6's (checked with `CORECACHE_TEST_AGAINST=memcached`),
//! except for the `E` flag, which 1.6.18 lacks and newer memcached has.
//! CAS values differ between servers, so they are masked as `c#`.

mod common;

use common::{is_corecache, Conn, Server};

/// Sends `request` and reads a reply of the same shape as `expected`,
/// masking CAS values (`c123` → `c#`) in both before comparing.
#[track_caller]
fn expect_masked(c: &mut Conn, request: &[u8], expected: &str) {
    c.send(request);
    let lines = expected.matches("\r\n").count();
    let mut reply = String::new();
    for _ in 0..lines {
        reply.push_str(&c.line());
    }
    assert_eq!(
        mask_cas(&reply),
        mask_cas(expected),
        "reply to {:?}",
        String::from_utf8_lossy(request)
    );
}

fn mask_cas(text: &str) -> String {
    text.split("\r\n")
        .map(|line| {
            line.split(' ')
                .map(|token| {
                    if token.len() > 1
                        && token.starts_with('c')
                        && token[1..].bytes().all(|b| b.is_ascii_digit())
                    {
                        "c#"
                    } else {
                        token
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\r\n")
}

fn each_thread_count(test: impl Fn(&mut Conn)) {
    for threads in [1, 2] {
        let server = Server::start(threads);
        test(&mut server.connect());
    }
}

#[test]
fn meta_get_and_set_with_return_flags() {
    each_thread_count(|c| {
        c.expect(b"mn\r\n", b"MN\r\n");
        c.expect(b"mg foo v\r\n", b"EN\r\n");
        c.expect(b"mg foo v q\r\nmn\r\n", b"MN\r\n");
        c.expect(b"ms foo 2 T0 F5\r\nhi\r\n", b"HD\r\n");
        c.expect(
            b"mg foo v f t s k Oabc\r\n",
            b"VA 2 f5 t-1 s2 kfoo Oabc\r\nhi\r\n",
        );
        c.expect(b"mg foo s v\r\n", b"VA 2 s2\r\nhi\r\n");
        c.expect(b"mg foo\r\n", b"HD\r\n");
        c.expect(b"mg foo k q\r\n", b"HD kfoo\r\n");
        expect_masked(c, b"ms foo 2 c\r\nho\r\n", "HD c1\r\n");
        c.expect(b"ms foo 2 q\r\nhe\r\nmn\r\n", b"MN\r\n");
        c.expect(
            b"ms foo 2 T100\r\nhe\r\nmg foo t v\r\n",
            b"HD\r\nVA 2 t100\r\nhe\r\n",
        );
    });
}

#[test]
fn meta_set_modes_and_cas() {
    each_thread_count(|c| {
        c.expect(b"ms foo 2\r\nhe\r\n", b"HD\r\n");
        c.expect(b"ms foo 2 MA\r\n!!\r\n", b"HD\r\n");
        c.expect(b"ms foo 2 MP\r\n<<\r\n", b"HD\r\n");
        c.expect(b"mg foo v\r\n", b"VA 6\r\n<<he!!\r\n");
        c.expect(b"ms bar 2 ME\r\nxx\r\n", b"HD\r\n");
        c.expect(b"ms bar 2 ME\r\nyy\r\n", b"NS\r\n");
        c.expect(b"ms nope 2 MR\r\nxx\r\n", b"NS\r\n");
        c.expect(b"ms bar 2 MR\r\nzz\r\n", b"HD\r\n");
        c.expect(b"ms foo 2 C1\r\nxx\r\n", b"EX\r\n");
        c.expect(b"ms nothere 2 C1\r\nxx\r\n", b"NF\r\n");
        // Compare-and-set with the CAS mg returned.
        c.send(b"mg bar c\r\n");
        let line = c.line();
        let cas = line
            .trim_end()
            .strip_prefix("HD c")
            .expect("HD c<cas>")
            .to_string();
        c.expect(format!("ms bar 2 C{cas}\r\nok\r\n").as_bytes(), b"HD\r\n");
        c.expect(b"mg bar v\r\n", b"VA 2\r\nok\r\n");
        c.expect(format!("ms bar 2 C{cas}\r\nno\r\n").as_bytes(), b"EX\r\n");
        c.expect(b"ms nviv 2 MA\r\nab\r\n", b"NS\r\n");
    });
}

#[test]
fn meta_delete_and_invalidation() {
    each_thread_count(|c| {
        c.expect(b"ms foo 2\r\nhi\r\n", b"HD\r\n");
        c.expect(b"md foo q\r\nmn\r\n", b"MN\r\n");
        c.expect(b"md foo\r\n", b"NF\r\n");
        c.expect(b"md foo q\r\nmn\r\n", b"NF\r\nMN\r\n");
        c.expect(b"ms foo 2\r\nhi\r\nmd foo C1\r\n", b"HD\r\nEX\r\n");
        c.expect(b"md foo k Oxy\r\n", b"HD kfoo Oxy\r\n");
        // Invalidation: the item stays, marked stale; the first reader wins
        // the recache, later ones see it taken.
        expect_masked(
            c,
            b"ms st 1 T100\r\nq\r\nmd st I T30\r\nmg st v c t\r\nmg st v\r\n",
            "HD\r\nHD\r\nVA 1 c1 t30 X W\r\nq\r\nVA 1 Z X\r\nq\r\n",
        );
        // A new set clears the stale state.
        c.expect(b"ms st 1\r\nn\r\nmg st v\r\n", b"HD\r\nVA 1\r\nn\r\n");
    });
}

#[test]
fn meta_arithmetic() {
    each_thread_count(|c| {
        c.expect(b"ma cnt\r\n", b"NF\r\n");
        c.expect(b"ma cnt N0 J10 v\r\n", b"VA 2\r\n10\r\n");
        c.expect(b"ma cnt v\r\n", b"VA 2\r\n11\r\n");
        expect_masked(c, b"ma cnt MD D20 v t c\r\n", "VA 1 t-1 c1\r\n0\r\n");
        c.expect(b"ma cnt q\r\nmn\r\n", b"MN\r\n");
        c.expect(b"ma cnt M+ D5 v\r\n", b"VA 1\r\n6\r\n");
        c.expect(b"ma cnt M- v\r\n", b"VA 1\r\n5\r\n");
        c.expect(
            b"ms txt 3\r\nabc\r\nma txt\r\n",
            b"HD\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n",
        );
        c.expect(b"ma cnt C1\r\n", b"EX\r\n");
    });
}

#[test]
fn meta_vivify_and_recache() {
    each_thread_count(|c| {
        expect_masked(c, b"mg vivi N30 v c t\r\n", "VA 0 c1 t30 W\r\n\r\n");
        c.expect(b"mg vivi N30 v t\r\n", b"VA 0 t30 Z\r\n\r\n");
        c.expect(b"ms vivi 1\r\nz\r\nmg vivi v\r\n", b"HD\r\nVA 1\r\nz\r\n");
        // R: win the recache when the TTL left is below the token.
        c.expect(
            b"ms r 1 T10\r\nv\r\nmg r R30 v\r\n",
            b"HD\r\nVA 1 W\r\nv\r\n",
        );
        c.expect(b"mg r R30 v\r\n", b"VA 1 Z\r\nv\r\n");
        c.expect(b"mg r R5 v\r\n", b"VA 1 Z\r\nv\r\n");
    });
}

#[test]
fn meta_base64_keys() {
    each_thread_count(|c| {
        c.expect(b"mg Zm9v b v k\r\n", b"EN kZm9v b\r\n");
        c.expect(
            b"ms Zm9v 2 b\r\nhi\r\nmg Zm9v b v k\r\nmg foo v\r\n",
            b"HD\r\nVA 2 kZm9v b\r\nhi\r\nVA 2\r\nhi\r\n",
        );
        c.expect(b"mg !!!! b v\r\n", b"CLIENT_ERROR error decoding key\r\n");
    });
}

#[test]
fn meta_debug() {
    let server = Server::start(1);
    let mut c = server.connect();
    c.expect(b"me nothere\r\n", b"EN\r\n");
    c.expect(b"ms dbg 3 T0\r\nabc\r\n", b"HD\r\n");
    c.send(b"me dbg\r\n");
    let line = c.line();
    assert!(line.starts_with("ME dbg exp=-1 la="), "{line}");
    assert!(
        line.contains(" cas=") && line.contains(" fetch=no "),
        "{line}"
    );
}

#[test]
fn meta_errors() {
    each_thread_count(|c| {
        c.expect(b"mg foo v v\r\n", b"CLIENT_ERROR duplicate flag\r\n");
        c.expect(b"mg foo zz\r\n", b"CLIENT_ERROR invalid flag\r\n");
        c.expect(
            b"ms foo 2 MZ\r\nxx\r\n",
            b"CLIENT_ERROR invalid mode for ms M token\r\n",
        );
        let long_key = "k".repeat(251);
        c.expect(
            format!("mg {long_key} v\r\n").as_bytes(),
            b"CLIENT_ERROR bad command line format\r\n",
        );
        c.expect(b"ms foo\r\n", b"CLIENT_ERROR bad command line format\r\n");
        c.expect(
            b"ms foo abc\r\n",
            b"CLIENT_ERROR bad command line format\r\n",
        );
        c.expect(
            format!("mg foo O{}\r\n", "x".repeat(33)).as_bytes(),
            b"CLIENT_ERROR opaque token too long\r\n",
        );
        c.expect(
            b"ma cnt Dabc\r\n",
            b"CLIENT_ERROR invalid or duplicate flag\r\n",
        );
        c.expect(b"mx foo\r\n", b"ERROR\r\n");
        c.expect(b"mn\r\n", b"MN\r\n");
    });
}

/// Flags newer than memcached 1.6.18, as the current protocol.txt documents
/// them: `E` (explicit CAS), `md x` (drop the value, keep the item) and `N`
/// with append/prepend mode (autovivify).
#[test]
fn meta_flags_newer_than_1_6_18() {
    if !is_corecache() {
        return;
    }
    each_thread_count(|c| {
        c.expect(
            b"ms xv 3 F7\r\nabc\r\nmd xv x\r\nmg xv v f\r\n",
            b"HD\r\nHD\r\nVA 0 f0\r\n\r\n",
        );
        c.expect(
            b"ms viv 2 MA N0\r\nab\r\nmg viv v\r\n",
            b"HD\r\nVA 2\r\nab\r\n",
        );
        c.expect(
            b"ms viv 2 MP N0\r\n<<\r\nmg viv v\r\n",
            b"HD\r\nVA 4\r\n<<ab\r\n",
        );
        c.expect(b"ms e 1 E12345 c\r\nx\r\n", b"HD c12345\r\n");
        c.expect(b"mg e c v\r\n", b"VA 1 c12345\r\nx\r\n");
        c.expect(b"ms e 1 C12345 E99 c\r\ny\r\n", b"HD c99\r\n");
        c.expect(b"ma n N0 J5 E7 c v\r\n", b"VA 1 c7\r\n5\r\n");
        c.expect(b"md e C99 E100 I\r\nmg e c\r\n", b"HD\r\nHD c100 X W\r\n");
    });
}
