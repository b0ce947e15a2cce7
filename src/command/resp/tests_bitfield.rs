//! Unit tests of BITFIELD and BITFIELD_RO against one store. Every
//! expected reply is what redis-server 7.0.15 replied to the same
//! commands.

use proptest::prelude::*;

use super::bitfield::{read_signed, read_unsigned, write_bits};
use super::tests::{expect_all, Shard};
use super::tests_bits::{NOT_INTEGER, OFFSET_ERROR, SYNTAX};

const TYPE_ERROR: &str = "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n";

#[test]
fn bitfield_reads_writes_and_increments() {
    let mut shard = Shard::new();
    expect_all(
        &mut shard,
        &[
            (
                &[
                    "BITFIELD", "bf", "SET", "i8", "0", "-100", "GET", "i8", "0", "GET", "u8", "0",
                    "GET", "u4", "0", "GET", "i4", "#1",
                ],
                "*5\r\n:0\r\n:-100\r\n:156\r\n:9\r\n:-4\r\n",
            ),
            (
                &[
                    "BITFIELD", "bf", "incrby", "u2", "100", "1", "overflow", "sat", "incrby",
                    "u2", "102", "1",
                ],
                "*2\r\n:1\r\n:1\r\n",
            ),
            (
                &[
                    "BITFIELD", "bf", "incrby", "u2", "100", "1", "overflow", "sat", "incrby",
                    "u2", "102", "1",
                ],
                "*2\r\n:2\r\n:2\r\n",
            ),
            (
                &[
                    "BITFIELD", "bf", "incrby", "u2", "100", "1", "overflow", "sat", "incrby",
                    "u2", "102", "1",
                ],
                "*2\r\n:3\r\n:3\r\n",
            ),
            (
                &[
                    "BITFIELD", "bf", "overflow", "fail", "incrby", "u2", "102", "1",
                ],
                "*1\r\n$-1\r\n",
            ),
            (
                &[
                    "BITFIELD", "bf", "overflow", "FAIL", "incrby", "i8", "200", "200", "get",
                    "i8", "200",
                ],
                "*2\r\n$-1\r\n:0\r\n",
            ),
            (
                &["BITFIELD", "bf", "get", "i64", "0"],
                "*1\r\n:-7205759403792793600\r\n",
            ),
            (
                &["BITFIELD", "bf", "set", "u8", "0", "256"],
                "*1\r\n:156\r\n",
            ),
            (&["BITFIELD", "bf", "set", "u8", "0", "-1"], "*1\r\n:0\r\n"),
            (
                &["BITFIELD", "bf", "set", "i8", "0", "128"],
                "*1\r\n:-1\r\n",
            ),
            (
                &["BITFIELD", "bf", "overflow", "sat", "set", "i8", "0", "128"],
                "*1\r\n:-128\r\n",
            ),
            (
                &["BITFIELD", "bf", "overflow", "sat", "set", "u8", "0", "-5"],
                "*1\r\n:127\r\n",
            ),
            (
                &[
                    "BITFIELD", "bf", "overflow", "fail", "set", "u8", "0", "300",
                ],
                "*1\r\n$-1\r\n",
            ),
            (&["BITFIELD", "bf", "get", "u8", "0"], "*1\r\n:255\r\n"),
            (
                &[
                    "BITFIELD",
                    "bf",
                    "overflow",
                    "wrap",
                    "incrby",
                    "i64",
                    "0",
                    "9223372036854775807",
                    "incrby",
                    "i64",
                    "0",
                    "9223372036854775807",
                ],
                "*2\r\n:9151314442816847871\r\n:-72057594037927938\r\n",
            ),
            (
                &[
                    "BITFIELD",
                    "bf",
                    "overflow",
                    "sat",
                    "incrby",
                    "i64",
                    "0",
                    "9223372036854775807",
                ],
                "*1\r\n:9151314442816847869\r\n",
            ),
            (
                &[
                    "BITFIELD",
                    "bf",
                    "overflow",
                    "sat",
                    "incrby",
                    "u63",
                    "0",
                    "-9223372036854775808",
                ],
                "*1\r\n:0\r\n",
            ),
            (
                &[
                    "BITFIELD",
                    "bf",
                    "overflow",
                    "sat",
                    "incrby",
                    "u63",
                    "0",
                    "9223372036854775807",
                    "incrby",
                    "u63",
                    "0",
                    "1",
                ],
                "*2\r\n:9223372036854775807\r\n:9223372036854775807\r\n",
            ),
            (
                &[
                    "BITFIELD",
                    "bf",
                    "get",
                    "u1",
                    "0",
                    "get",
                    "i1",
                    "0",
                    "get",
                    "i1",
                    "#100000000",
                ],
                "*3\r\n:1\r\n:-1\r\n:0\r\n",
            ),
            (&["BITFIELD", "bf"], "*0\r\n"),
        ],
    );
    assert_eq!(
        shard.run_bytes(&[b"GETRANGE", b"bf", b"0", b"12"]),
        b"$13\r\n\xff\xff\xff\xff\xff\xff\xff\xff\x00\x00\x00\x00\x0f\r\n"
    );
}

#[test]
fn bitfield_overflow_edges_follow_redis_arithmetic() {
    let mut shard = Shard::new();
    let mut run = |value: &str| {
        shard.run(&[
            "BITFIELD", "q", "OVERFLOW", "SAT", "SET", "i8", "0", value, "GET", "i8", "0",
        ])
    };
    // Redis's range check wraps for values far below the type: some of
    // them saturate to the top.
    assert_eq!(run("-9223372036854775808"), "*2\r\n:0\r\n:127\r\n");
    assert_eq!(run("-200"), "*2\r\n:127\r\n:-128\r\n");
    assert_eq!(run("-9223372036854775000"), "*2\r\n:-128\r\n:-128\r\n");
    assert_eq!(run("-9223372036854775681"), "*2\r\n:-128\r\n:127\r\n");
    assert_eq!(run("-9223372036854775680"), "*2\r\n:127\r\n:-128\r\n");
    expect_all(
        &mut shard,
        &[
            (
                &[
                    "BITFIELD",
                    "q",
                    "overflow",
                    "sat",
                    "set",
                    "i64",
                    "0",
                    "-9223372036854775808",
                    "get",
                    "i64",
                    "0",
                ],
                "*2\r\n:-9223372036854775808\r\n:-9223372036854775808\r\n",
            ),
            (
                &[
                    "BITFIELD", "q", "overflow", "sat", "incrby", "i64", "0", "-1", "get", "i64",
                    "0",
                ],
                "*2\r\n:-9223372036854775808\r\n:-9223372036854775808\r\n",
            ),
            (
                &[
                    "BITFIELD",
                    "q",
                    "overflow",
                    "sat",
                    "set",
                    "i64",
                    "0",
                    "5",
                    "incrby",
                    "i64",
                    "0",
                    "-9223372036854775808",
                ],
                "*2\r\n:-9223372036854775808\r\n:-9223372036854775803\r\n",
            ),
            (
                &[
                    "BITFIELD",
                    "q",
                    "overflow",
                    "sat",
                    "set",
                    "i64",
                    "0",
                    "-5",
                    "incrby",
                    "i64",
                    "0",
                    "9223372036854775807",
                ],
                "*2\r\n:-9223372036854775803\r\n:9223372036854775802\r\n",
            ),
            (
                &[
                    "BITFIELD",
                    "q",
                    "overflow",
                    "sat",
                    "set",
                    "i64",
                    "0",
                    "-5",
                    "incrby",
                    "i64",
                    "0",
                    "-9223372036854775807",
                ],
                "*2\r\n:9223372036854775802\r\n:-9223372036854775808\r\n",
            ),
            (
                &[
                    "BITFIELD",
                    "q",
                    "overflow",
                    "wrap",
                    "set",
                    "i64",
                    "0",
                    "-5",
                    "incrby",
                    "i64",
                    "0",
                    "-9223372036854775807",
                ],
                "*2\r\n:-9223372036854775808\r\n:9223372036854775804\r\n",
            ),
            (
                &[
                    "BITFIELD",
                    "q",
                    "overflow",
                    "fail",
                    "set",
                    "i64",
                    "0",
                    "-5",
                    "incrby",
                    "i64",
                    "0",
                    "-9223372036854775807",
                    "get",
                    "i64",
                    "0",
                ],
                "*3\r\n:9223372036854775804\r\n$-1\r\n:-5\r\n",
            ),
            // `#n` multiplies in wrapping arithmetic: 2^64 + 8 is bit 8.
            (
                &["BITFIELD", "q", "get", "u8", "#2305843009213693953"],
                "*1\r\n:255\r\n",
            ),
            (&["STRLEN", "q"], ":8\r\n"),
        ],
    );
}

#[test]
fn bitfield_errors_and_bitfield_ro() {
    let mut shard = Shard::new();
    shard.run(&["SET", "bf", "\u{7f}"]);
    expect_all(
        &mut shard,
        &[
            (&["BITFIELD", "bf", "get", "u64", "0"], TYPE_ERROR),
            (&["BITFIELD", "bf", "get", "i65", "0"], TYPE_ERROR),
            (&["BITFIELD", "bf", "get", "u0", "0"], TYPE_ERROR),
            (&["BITFIELD", "bf", "get", "x8", "0"], TYPE_ERROR),
            (&["BITFIELD", "bf", "get", "I8", "0"], TYPE_ERROR),
            (&["BITFIELD", "bf", "get", "u8", "x"], OFFSET_ERROR),
            (&["BITFIELD", "bf", "get", "u8", "#x"], OFFSET_ERROR),
            (&["BITFIELD", "bf", "get", "u8", "-1"], OFFSET_ERROR),
            (&["BITFIELD", "bf", "get", "u8", "#-1"], OFFSET_ERROR),
            (
                &["BITFIELD", "bf", "get", "u8", "4294967295"],
                "*1\r\n:0\r\n",
            ),
            (&["BITFIELD", "bf", "get", "u8", "4294967296"], OFFSET_ERROR),
            (&["BITFIELD", "bf", "get", "u8", "#536870912"], OFFSET_ERROR),
            (
                &["BITFIELD", "bf", "get", "u8", "#536870911"],
                "*1\r\n:0\r\n",
            ),
            (&["BITFIELD", "bf", "set", "u8", "0", "x"], NOT_INTEGER),
            (&["BITFIELD", "bf", "set", "u8", "0"], SYNTAX),
            (&["BITFIELD", "bf", "get", "u8"], SYNTAX),
            (&["BITFIELD", "bf", "overflow"], SYNTAX),
            (
                &["BITFIELD", "bf", "overflow", "nope", "get", "u8", "0"],
                "-ERR Invalid OVERFLOW type specified\r\n",
            ),
            (&["BITFIELD", "bf", "bogus"], SYNTAX),
            (&["BITFIELD", "bf", "set", "u8", "#x", "1"], OFFSET_ERROR),
            (&["BITFIELD_RO", "bf", "get", "u8", "0"], "*1\r\n:127\r\n"),
            (
                &["BITFIELD_RO", "bf", "set", "u8", "0", "1"],
                "-ERR BITFIELD_RO only supports the GET subcommand\r\n",
            ),
            (
                &["BITFIELD_RO", "bf", "overflow", "sat", "get", "u8", "0"],
                "*1\r\n:127\r\n",
            ),
            (&["BITFIELD_RO", "nokey", "get", "i16", "0"], "*1\r\n:0\r\n"),
            (&["BITFIELD_RO", "nokey"], "*0\r\n"),
            (&["BITFIELD", "nokey"], "*0\r\n"),
            (&["BITFIELD", "nokey", "get", "u8", "0"], "*1\r\n:0\r\n"),
            (&["EXISTS", "nokey"], ":0\r\n"),
            // A write creates the key, even when FAIL then writes nothing.
            (
                &[
                    "BITFIELD", "made", "overflow", "fail", "set", "u8", "8", "300",
                ],
                "*1\r\n$-1\r\n",
            ),
            (&["STRLEN", "made"], ":2\r\n"),
            (
                &["BITFIELD_RO"],
                "-ERR wrong number of arguments for 'bitfield_ro' command\r\n",
            ),
        ],
    );
}

proptest! {
    #[test]
    fn bitfield_set_then_get_round_trips(
        value in proptest::collection::vec(any::<u8>(), 16..24),
        offset in 0u64..64,
        bits in 1u32..=64,
        number in any::<u64>(),
    ) {
        let mut bytes = value.clone();
        write_bits(&mut bytes, offset, bits, number);
        let mask = if bits == 64 { u64::MAX } else { (1 << bits) - 1 };
        prop_assert_eq!(read_unsigned(&bytes, offset, bits), number & mask);
        let signed = read_signed(&bytes, offset, bits);
        prop_assert_eq!(signed as u64 & mask, number & mask);
        prop_assert!(bits == 64 || (signed >> (bits - 1)) == 0 || (signed >> (bits - 1)) == -1);
        // Bits outside the field are untouched.
        for at in (0..bytes.len() as u64 * 8).filter(|&at| at < offset || at >= offset + u64::from(bits)) {
            let bit = |v: &[u8]| (v[(at / 8) as usize] >> (7 - at % 8)) & 1;
            prop_assert_eq!(bit(&bytes), bit(&value));
        }
    }
}
