//! Unit tests of SETBIT, GETBIT, BITCOUNT and BITPOS against one store.
//! Every expected reply is what redis-server 7.0.15 replied to the same
//! commands.

use proptest::prelude::*;

use super::bits::{bit_range, count_bits, find_bit, Unit};
use super::tests::{expect_all, Shard};

pub(super) const OFFSET_ERROR: &str = "-ERR bit offset is not an integer or out of range\r\n";
const BIT_ERROR: &str = "-ERR bit is not an integer or out of range\r\n";
pub(super) const NOT_INTEGER: &str = "-ERR value is not an integer or out of range\r\n";
pub(super) const SYNTAX: &str = "-ERR syntax error\r\n";

#[test]
fn setbit_and_getbit() {
    let mut shard = Shard::new();
    expect_all(
        &mut shard,
        &[
            (&["SETBIT", "k", "7", "1"], ":0\r\n"),
            (&["SETBIT", "k", "7", "1"], ":1\r\n"),
            (&["SETBIT", "k", "7", "0"], ":1\r\n"),
            (&["GETBIT", "k", "7"], ":0\r\n"),
            (&["SETBIT", "k", "-1", "1"], OFFSET_ERROR),
            (&["SETBIT", "k", "4294967296", "1"], OFFSET_ERROR),
            (&["SETBIT", "k", "4294967295", "2"], BIT_ERROR),
            (&["SETBIT", "k", "x", "1"], OFFSET_ERROR),
            (&["SETBIT", "k", "01", "1"], OFFSET_ERROR),
            (&["SETBIT", "k", "+1", "1"], OFFSET_ERROR),
            (&["SETBIT", "k", "1", "-1"], BIT_ERROR),
            (&["SETBIT", "k", "1", "x"], BIT_ERROR),
            (&["GETBIT", "k", "100000"], ":0\r\n"),
            (&["GETBIT", "nokey", "3"], ":0\r\n"),
            (&["GETBIT", "k", "4294967296"], OFFSET_ERROR),
            (&["GETBIT", "k", "-1"], OFFSET_ERROR),
            (&["SETBIT", "k", "17", "1"], ":0\r\n"),
            (&["STRLEN", "k"], ":3\r\n"),
            (&["GETBIT", "k", "17"], ":1\r\n"),
            (&["SETBIT", "k", "1", "0"], ":0\r\n"),
            (&["SETBIT", "fresh", "3", "0"], ":0\r\n"),
            (&["EXISTS", "fresh"], ":1\r\n"),
        ],
    );
    assert_eq!(shard.run_bytes(&[b"GET", b"k"]), b"$3\r\n\x00\x00\x40\r\n");
    // The largest offset makes a 512 MB value.
    assert_eq!(shard.run(&["SETBIT", "big", "4294967295", "1"]), ":0\r\n");
    assert_eq!(shard.run(&["STRLEN", "big"]), ":536870912\r\n");
    assert_eq!(shard.run(&["GETBIT", "big", "4294967295"]), ":1\r\n");
    assert_eq!(shard.run(&["DEL", "big"]), ":1\r\n");
}

#[test]
fn setbit_keeps_the_ttl() {
    let mut shard = Shard::new();
    shard.run(&["SET", "k", "a", "EX", "100"]);
    assert_eq!(shard.run(&["SETBIT", "k", "100", "1"]), ":0\r\n");
    assert_eq!(shard.run(&["TTL", "k"]), ":100\r\n");
}

#[test]
fn bitcount_counts_bytes_or_bits() {
    let mut shard = Shard::new();
    shard.run(&["SET", "s", "foobar"]);
    shard.run(&["SET", "e", ""]);
    expect_all(
        &mut shard,
        &[
            (&["BITCOUNT", "s"], ":26\r\n"),
            (&["BITCOUNT", "s", "0", "0"], ":4\r\n"),
            (&["BITCOUNT", "s", "1", "1"], ":6\r\n"),
            (&["BITCOUNT", "s", "1", "1", "byte"], ":6\r\n"),
            (&["BITCOUNT", "s", "5", "30", "bit"], ":17\r\n"),
            (&["BITCOUNT", "s", "5", "30", "BIT"], ":17\r\n"),
            (&["BITCOUNT", "s", "-3", "-1", "bit"], ":1\r\n"),
            (&["BITCOUNT", "s", "-100", "100"], ":26\r\n"),
            (&["BITCOUNT", "s", "10", "5"], ":0\r\n"),
            // Both negative and crossed: 0, before the unit is read.
            (&["BITCOUNT", "s", "-1", "-2", "foo"], ":0\r\n"),
            (&["BITCOUNT", "s", "-100", "-200"], ":0\r\n"),
            (&["BITCOUNT", "s", "0", "-1", "foo"], SYNTAX),
            (&["BITCOUNT", "s", "0"], SYNTAX),
            (&["BITCOUNT", "s", "0", "1", "bit", "x"], SYNTAX),
            (&["BITCOUNT", "s", "x", "1"], NOT_INTEGER),
            (&["BITCOUNT", "s", "1", "x"], NOT_INTEGER),
            // A missing key is 0 whatever the arguments.
            (&["BITCOUNT", "nokey"], ":0\r\n"),
            (&["BITCOUNT", "nokey", "x", "y", "z", "w"], ":0\r\n"),
            (&["BITCOUNT", "e"], ":0\r\n"),
            (&["BITCOUNT", "e", "0", "-1", "bit"], ":0\r\n"),
        ],
    );
}

#[test]
fn bitpos_finds_the_first_bit() {
    let mut shard = Shard::new();
    shard.run_bytes(&[b"SET", b"one", b"\xff\xf0\x00"]);
    shard.run_bytes(&[b"SET", b"ff", b"\xff\xff"]);
    shard.run(&["SET", "s", "foobar"]);
    shard.run(&["SET", "e", ""]);
    expect_all(
        &mut shard,
        &[
            (&["BITPOS", "one", "0"], ":12\r\n"),
            (&["BITPOS", "one", "1"], ":0\r\n"),
            (&["BITPOS", "one", "0", "0", "0"], ":-1\r\n"),
            (&["BITPOS", "one", "0", "2"], ":16\r\n"),
            (&["BITPOS", "one", "0", "2", "-1"], ":16\r\n"),
            (&["BITPOS", "one", "1", "2"], ":-1\r\n"),
            (&["BITPOS", "one", "0", "3", "bit"], NOT_INTEGER),
            (&["BITPOS", "one", "0", "0", "11", "bit"], ":-1\r\n"),
            (&["BITPOS", "one", "0", "0", "12", "bit"], ":12\r\n"),
            (&["BITPOS", "one", "1", "12", "100", "bit"], ":-1\r\n"),
            (&["BITPOS", "one", "1", "5", "3", "bit"], ":-1\r\n"),
            (
                &["BITPOS", "one", "2"],
                "-ERR The bit argument must be 1 or 0.\r\n",
            ),
            (&["BITPOS", "one", "x"], NOT_INTEGER),
            (&["BITPOS", "one", "1", "x"], NOT_INTEGER),
            (&["BITPOS", "one", "1", "0", "x"], NOT_INTEGER),
            (&["BITPOS", "one", "1", "0", "1", "x"], SYNTAX),
            (&["BITPOS", "one", "1", "0", "1", "bit", "x"], SYNTAX),
            (&["BITPOS", "nokey", "1"], ":-1\r\n"),
            (&["BITPOS", "nokey", "0"], ":0\r\n"),
            (&["BITPOS", "nokey", "0", "x"], ":0\r\n"),
            (
                &["BITPOS", "nokey", "3"],
                "-ERR The bit argument must be 1 or 0.\r\n",
            ),
            (&["BITPOS", "e", "0"], ":-1\r\n"),
            (&["BITPOS", "e", "1"], ":-1\r\n"),
            (&["BITPOS", "ff", "0"], ":16\r\n"),
            (&["BITPOS", "ff", "0", "0"], ":16\r\n"),
            (&["BITPOS", "ff", "0", "0", "-1"], ":-1\r\n"),
            (&["BITPOS", "ff", "0", "1"], ":16\r\n"),
            (&["BITPOS", "ff", "0", "-1"], ":16\r\n"),
            (&["BITPOS", "ff", "0", "0", "-1", "bit"], ":-1\r\n"),
            (&["BITPOS", "ff", "0", "0", "-1", "byte"], ":-1\r\n"),
            (&["BITPOS", "ff", "1", "-1000", "1000"], ":0\r\n"),
            // No "crossed negatives" rule here: both clamp to byte 0.
            (&["BITPOS", "s", "1", "-100", "-200"], ":1\r\n"),
            (&["BITPOS", "s", "1", "-1", "-2"], ":-1\r\n"),
        ],
    );
}

/// Counts set bits one at a time.
fn naive_count(value: &[u8], first: u64, last: u64) -> u64 {
    (first..=last)
        .filter(|&bit| value[(bit / 8) as usize] & (0x80 >> (bit % 8)) != 0)
        .count() as u64
}

proptest! {
    #[test]
    fn bitcount_and_bitpos_agree_with_bit_by_bit_scans(
        value in proptest::collection::vec(any::<u8>(), 0..40),
        start in -400i64..400,
        end in -400i64..400,
        bits in any::<bool>(),
    ) {
        let unit = if bits { Unit::Bit } else { Unit::Byte };
        let Some((first, last)) = bit_range(value.len(), start, end, unit) else {
            return Ok(());
        };
        prop_assert!(last < value.len() as u64 * 8);
        prop_assert_eq!(count_bits(&value, first, last), naive_count(&value, first, last));
        for bit in [0u8, 1] {
            let naive = (first..=last).find(|&at| {
                (value[(at / 8) as usize] >> (7 - at % 8)) & 1 == bit
            });
            prop_assert_eq!(find_bit(&value, first, last, bit), naive);
        }
    }
}
