//! Encoder tests: the exact bytes Redis 7 sends for each reply type, to a
//! RESP2 and to a RESP3 client.

use super::*;

/// What `write` appends for `version`, as text for readable failures.
fn encoded(write: impl Fn(&mut Vec<u8>)) -> String {
    let mut out = b"prefix:".to_vec();
    write(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    text.strip_prefix("prefix:").expect("appends").to_owned()
}

/// Asserts the RESP2 and RESP3 encodings of one reply.
#[track_caller]
fn assert_both(write: impl Fn(&mut Vec<u8>, Version), resp2: &str, resp3: &str) {
    assert_eq!(encoded(|out| write(out, Version::Resp2)), resp2, "RESP2");
    assert_eq!(encoded(|out| write(out, Version::Resp3)), resp3, "RESP3");
}

#[test]
fn connections_start_in_resp2() {
    assert_eq!(Version::default(), Version::Resp2);
}

#[test]
fn simple_strings_and_errors_are_one_line() {
    assert_eq!(encoded(|out| simple_string(out, b"OK")), "+OK\r\n");
    assert_eq!(encoded(|out| simple_string(out, b"")), "+\r\n");
    assert_eq!(encoded(|out| simple_string(out, b"a\r\nb")), "+a  b\r\n");
    assert_eq!(
        encoded(|out| error(
            out,
            b"ERR unknown command 'foo', with args beginning with: "
        )),
        "-ERR unknown command 'foo', with args beginning with: \r\n"
    );
    assert_eq!(
        encoded(|out| error(
            out,
            b"WRONGTYPE Operation against a key holding the wrong kind of value"
        )),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        encoded(|out| error(out, b"ERR bad\nline")),
        "-ERR bad line\r\n"
    );
}

#[test]
fn integers() {
    assert_eq!(encoded(|out| integer(out, 0)), ":0\r\n");
    assert_eq!(encoded(|out| integer(out, 42)), ":42\r\n");
    assert_eq!(encoded(|out| integer(out, -1)), ":-1\r\n");
    assert_eq!(
        encoded(|out| integer(out, i64::MIN)),
        ":-9223372036854775808\r\n"
    );
}

#[test]
fn bulk_strings_are_binary_safe() {
    assert_eq!(encoded(|out| bulk(out, b"hello")), "$5\r\nhello\r\n");
    assert_eq!(encoded(|out| bulk(out, b"")), "$0\r\n\r\n");
    assert_eq!(encoded(|out| bulk(out, b"a\r\nb")), "$4\r\na\r\nb\r\n");
    let mut out = Vec::new();
    bulk(&mut out, &[0, 0xff]);
    assert_eq!(out, b"$2\r\n\x00\xff\r\n");
    assert_eq!(encoded(|out| bulk_header(out, 1 << 20)), "$1048576\r\n");
}

#[test]
fn nulls() {
    assert_both(null, "$-1\r\n", "_\r\n");
    assert_both(null_array, "*-1\r\n", "_\r\n");
}

#[test]
fn aggregate_headers() {
    assert_eq!(encoded(|out| array_header(out, 0)), "*0\r\n");
    assert_eq!(encoded(|out| array_header(out, 3)), "*3\r\n");
    assert_both(|out, v| map_header(out, v, 2), "*4\r\n", "%2\r\n");
    assert_both(|out, v| map_header(out, v, 0), "*0\r\n", "%0\r\n");
    assert_both(|out, v| set_header(out, v, 3), "*3\r\n", "~3\r\n");
    assert_both(|out, v| push_header(out, v, 3), "*3\r\n", ">3\r\n");
}

#[test]
fn a_map_in_resp2_is_a_flat_array() {
    let write = |out: &mut Vec<u8>, v: Version| {
        map_header(out, v, 1);
        bulk(out, b"k");
        integer(out, 1);
    };
    assert_both(write, "*2\r\n$1\r\nk\r\n:1\r\n", "%1\r\n$1\r\nk\r\n:1\r\n");
}

#[test]
fn booleans() {
    assert_both(|out, v| boolean(out, v, true), ":1\r\n", "#t\r\n");
    assert_both(|out, v| boolean(out, v, false), ":0\r\n", "#f\r\n");
}

#[test]
fn doubles_in_both_versions() {
    assert_both(|out, v| double(out, v, 1.5), "$3\r\n1.5\r\n", ",1.5\r\n");
    assert_both(|out, v| double(out, v, 3.0), "$1\r\n3\r\n", ",3\r\n");
    assert_both(
        |out, v| double(out, v, f64::INFINITY),
        "$3\r\ninf\r\n",
        ",inf\r\n",
    );
    assert_both(
        |out, v| double(out, v, f64::NEG_INFINITY),
        "$4\r\n-inf\r\n",
        ",-inf\r\n",
    );
    assert_both(
        |out, v| double(out, v, f64::NAN),
        "$3\r\nnan\r\n",
        ",nan\r\n",
    );
    assert_both(|out, v| double(out, v, -0.0), "$2\r\n-0\r\n", ",-0\r\n");
    assert_both(
        |out, v| double(out, v, 0.1 + 0.2),
        "$19\r\n0.30000000000000004\r\n",
        ",0.30000000000000004\r\n",
    );
}

#[test]
fn doubles_are_formatted_as_redis_d2string() {
    // Expected texts from Redis 7.2's `d2string` (fpconv_dtoa), compiled
    // and run on these values.
    let cases: &[(f64, &str)] = &[
        (0.0, "0"),
        (-0.0, "-0"),
        (1.0, "1"),
        (-2.0, "-2"),
        (10.0, "10"),
        (0.5, "0.5"),
        (-1.25, "-1.25"),
        (0.1, "0.1"),
        (123.456, "123.456"),
        (std::f64::consts::PI, "3.141592653589793"),
        (0.001, "0.001"),
        (0.000001, "0.000001"),
        (1.5e-6, "1.5e-6"),
        (1e-7, "1e-7"),
        (1.2345e-7, "1.2345e-7"),
        (0.0012345678901234567, "0.0012345678901234567"),
        (0.00012345678, "1.2345678e-4"),
        (0.0001234, "1.234e-4"),
        (123.45678901234567, "123.45678901234567"),
        (1e15, "1000000000000000"),
        (4611686018427387904.0, "4611686018427387904"),
        (-4611686018427387904.0, "-4611686018427387904"),
        (5e18, "5e+18"),
        (9223372036854775808.0, "9223372036854776000"),
        (12345678901234567e3, "12345678901234567000"),
        (1e19, "1e+19"),
        (1.5e300, "1.5e+300"),
        (-1e-300, "-1e-300"),
        (f64::MAX, "1.7976931348623157e+308"),
        (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
        (5e-324, "5e-324"),
        (1e100, "1e+100"),
        (1e105, "1e+105"),
    ];
    for &(value, text) in cases {
        let mut out = Vec::new();
        double_text(&mut out, value);
        assert_eq!(String::from_utf8(out).unwrap(), text, "{value:e}");
    }
}

#[test]
fn verbatim_strings() {
    assert_both(
        |out, v| verbatim(out, v, b"txt", b"Some string"),
        "$11\r\nSome string\r\n",
        "=15\r\ntxt:Some string\r\n",
    );
    assert_both(
        |out, v| verbatim(out, v, b"mkd", b""),
        "$0\r\n\r\n",
        "=4\r\nmkd:\r\n",
    );
}

#[test]
fn big_numbers() {
    assert_both(
        |out, v| big_number(out, v, b"3492890328409238509324850943850943825024385"),
        "$43\r\n3492890328409238509324850943850943825024385\r\n",
        "(3492890328409238509324850943850943825024385\r\n",
    );
    assert_both(
        |out, v| big_number(out, v, b"-1"),
        "$2\r\n-1\r\n",
        "(-1\r\n",
    );
}

#[test]
fn replies_match_redis_debug_protocol_captures() {
    // `DEBUG PROTOCOL map|verbatim` from redis-server 7.0 after `HELLO 2`
    // and `HELLO 3`.
    let map = |out: &mut Vec<u8>, v: Version| {
        map_header(out, v, 3);
        for i in 0..3 {
            integer(out, i);
            boolean(out, v, i == 1);
        }
    };
    assert_both(
        map,
        "*6\r\n:0\r\n:0\r\n:1\r\n:1\r\n:2\r\n:0\r\n",
        "%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n",
    );
    assert_both(
        |out, v| verbatim(out, v, b"txt", b"This is a verbatim\nstring"),
        "$25\r\nThis is a verbatim\nstring\r\n",
        "=29\r\ntxt:This is a verbatim\nstring\r\n",
    );
}
