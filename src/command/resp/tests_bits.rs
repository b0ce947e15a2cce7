//! Unit tests of SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP and LCS against
//! one store. Every expected reply is what redis-server 7.0.15 replied to
//! the same commands.

use proptest::prelude::*;

use super::bits::{bit_range, bitop, count_bits, find_bit, BitOp, Unit};
use super::lcs::{lcs_reply, LcsMode, LcsOptions};
use super::tests::{expect_all, Shard};
use crate::protocol::resp::reply::Version;

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

#[test]
fn bitop_combines_sources_into_the_destination() {
    let mut shard = Shard::new();
    shard.run_bytes(&[b"SET", b"a", b"\xff\x0f"]);
    shard.run_bytes(&[b"SET", b"b", b"\x0f"]);
    let get = |shard: &mut Shard| shard.run_bytes(&[b"GET", b"d"]);
    assert_eq!(shard.run(&["BITOP", "AND", "d", "a", "b"]), ":2\r\n");
    assert_eq!(get(&mut shard), b"$2\r\n\x0f\x00\r\n");
    assert_eq!(shard.run(&["BITOP", "or", "d", "a", "b"]), ":2\r\n");
    assert_eq!(get(&mut shard), b"$2\r\n\xff\x0f\r\n");
    assert_eq!(
        shard.run(&["BITOP", "XOR", "d", "a", "b", "nokey"]),
        ":2\r\n"
    );
    assert_eq!(get(&mut shard), b"$2\r\n\xf0\x0f\r\n");
    assert_eq!(shard.run(&["BITOP", "NOT", "d", "b"]), ":1\r\n");
    assert_eq!(get(&mut shard), b"$1\r\n\xf0\r\n");
    expect_all(
        &mut shard,
        &[
            (
                &["BITOP", "NOT", "d", "a", "b"],
                "-ERR BITOP NOT must be called with a single source key.\r\n",
            ),
            (&["BITOP", "nand", "d", "a"], SYNTAX),
            (&["BITOP", "x", "d", "a", "b"], SYNTAX),
            (
                &["BITOP", "NOT", "d"],
                "-ERR wrong number of arguments for 'bitop' command\r\n",
            ),
            // An empty result deletes the destination.
            (&["BITOP", "NOT", "d", "nokey"], ":0\r\n"),
            (&["EXISTS", "d"], ":0\r\n"),
            (&["SET", "d", "x", "EX", "100"], "+OK\r\n"),
            (&["BITOP", "OR", "d", "nokey"], ":0\r\n"),
            (&["EXISTS", "d"], ":0\r\n"),
            // The result replaces the destination, TTL included.
            (&["SET", "d", "x", "EX", "100"], "+OK\r\n"),
            (&["BITOP", "AND", "d", "a"], ":2\r\n"),
            (&["TTL", "d"], ":-1\r\n"),
        ],
    );
}

#[test]
fn bitop_pads_short_sources_with_zeros() {
    let long = vec![0xffu8; 40];
    let short = [0xf0u8; 3];
    let and = bitop(BitOp::And, &[Some(&long), Some(&short)]);
    assert_eq!(&and[..3], &short);
    assert!(and[3..].iter().all(|&byte| byte == 0));
    assert_eq!(and.len(), 40);
    let or = bitop(BitOp::Or, &[Some(&short), None, Some(&long)]);
    assert_eq!(or, long);
    let xor = bitop(BitOp::Xor, &[Some(&short), Some(&short)]);
    assert_eq!(xor, vec![0; 3]);
    assert_eq!(bitop(BitOp::Not, &[Some(&short)]), vec![0x0f; 3]);
    assert!(bitop(BitOp::And, &[None, None]).is_empty());
    assert_eq!(bitop(BitOp::And, &[None, Some(&short)]), vec![0; 3]);
}

#[test]
fn lcs_replies_in_each_mode() {
    let mut shard = Shard::new();
    shard.run(&["SET", "k1", "ohmytext"]);
    shard.run(&["SET", "k2", "mynewtext"]);
    let ranges = "*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n";
    let idx = format!("*4\r\n$7\r\nmatches\r\n{ranges}$3\r\nlen\r\n:6\r\n");
    let with_len = "*2\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n*3\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n:2\r\n$3\r\nlen\r\n:6\r\n";
    expect_all(
        &mut shard,
        &[
            (&["LCS", "k1", "k2"], "$6\r\nmytext\r\n"),
            (&["LCS", "k1", "k2", "LEN"], ":6\r\n"),
            (&["LCS", "k1", "k2", "len", "len"], ":6\r\n"),
            (&["LCS", "k1", "k2", "IDX"], &idx),
            (&["LCS", "k1", "k2", "IDX", "MINMATCHLEN", "-5"], &idx),
            (
                &["LCS", "k1", "k2", "idx", "minmatchlen", "4", "withmatchlen"],
                "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen\r\n:6\r\n",
            ),
            (
                &["LCS", "k1", "k2", "idx", "withmatchlen"],
                &format!("*4\r\n$7\r\nmatches\r\n{with_len}"),
            ),
            (
                &["LCS", "k1", "k2", "len", "idx"],
                "-ERR If you want both the length and indexes, please just use IDX.\r\n",
            ),
            (&["LCS", "k1", "k2", "minmatchlen", "x"], NOT_INTEGER),
            (&["LCS", "k1", "k2", "minmatchlen"], SYNTAX),
            (&["LCS", "k1", "k2", "bogus"], SYNTAX),
            (&["LCS", "k1", "nokey"], "$0\r\n\r\n"),
            (
                &["LCS", "k1", "nokey", "idx"],
                "*4\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n",
            ),
            (&["LCS", "k1"], "-ERR wrong number of arguments for 'lcs' command\r\n"),
        ],
    );
    shard.run(&["HELLO", "3"]);
    assert_eq!(
        shard.run(&["LCS", "k1", "k2", "idx", "withmatchlen"]),
        format!("%2\r\n$7\r\nmatches\r\n{with_len}")
    );
}

#[test]
fn lcs_refuses_tables_past_512_mb() {
    let a = vec![b'a'; 20_000];
    let b = vec![b'b'; 20_000];
    let options = LcsOptions {
        mode: LcsMode::Len,
        min_match_len: 0,
        with_match_len: false,
    };
    let mut out = Vec::new();
    lcs_reply(&a, &b, &options, Version::Resp2, &mut out);
    assert_eq!(
        out,
        b"-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len\r\n"
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
