//! LCS: the longest common subsequence of two string values, as Redis 7.0
//! computes it (`lcsCommand` in `t_string.c`): the classic dynamic
//! programming table, then a walk back from its end that yields the
//! subsequence and, with `IDX`, the matching ranges from last to first.
//!
//! The two keys may be on different shards. [`parse_lcs`] and
//! [`lcs_reply`] are pure, so that cross-shard routing, done elsewhere, can
//! fetch both values and answer anywhere; [`execute`] runs LCS here when
//! both keys are on this shard.

use super::{keys_are_local, parse_i64, RespContext, KEYS_ON_SEVERAL_SHARDS, MAX_STRING};
use super::{NOT_AN_INTEGER, SYNTAX_ERROR};
use crate::protocol::resp::reply::{self, Version};
use crate::protocol::resp::Argv;

/// What LCS replies with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LcsMode {
    /// The subsequence itself (no option).
    String,
    /// Its length (`LEN`).
    Len,
    /// The matching ranges and the length (`IDX`).
    Idx,
}

/// LCS's options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LcsOptions {
    pub mode: LcsMode,
    /// `MINMATCHLEN n`: with IDX, ranges shorter than this are left out.
    pub min_match_len: u64,
    /// `WITHMATCHLEN`: with IDX, each range carries its length.
    pub with_match_len: bool,
}

/// Reads `LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]` (the
/// caller checked its arity), or the error reply's text.
pub fn parse_lcs(argv: &Argv<'_>) -> Result<LcsOptions, &'static [u8]> {
    let (mut len, mut idx) = (false, false);
    let mut options = LcsOptions {
        mode: LcsMode::String,
        min_match_len: 0,
        with_match_len: false,
    };
    let mut index = 3;
    while let Some(option) = argv.get(index) {
        let next = argv.get(index + 1);
        if option.eq_ignore_ascii_case(b"idx") {
            idx = true;
        } else if option.eq_ignore_ascii_case(b"len") {
            len = true;
        } else if option.eq_ignore_ascii_case(b"withmatchlen") {
            options.with_match_len = true;
        } else if let (true, Some(arg)) = (option.eq_ignore_ascii_case(b"minmatchlen"), next) {
            let min = parse_i64(arg).ok_or(NOT_AN_INTEGER)?;
            options.min_match_len = min.max(0) as u64;
            index += 1;
        } else {
            return Err(SYNTAX_ERROR);
        }
        index += 1;
    }
    options.mode = match (len, idx) {
        (true, true) => {
            return Err(b"ERR If you want both the length and indexes, please just use IDX.")
        }
        (true, false) => LcsMode::Len,
        (false, true) => LcsMode::Idx,
        (false, false) => LcsMode::String,
    };
    Ok(options)
}

/// One matching range: inclusive byte positions in each value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Range {
    a: (u32, u32),
    b: (u32, u32),
}

/// Writes LCS's reply for values `a` and `b` (a missing key is empty):
/// the subsequence, its length, or with IDX a map (an array in RESP2) of
/// `matches` and `len`; or Redis's error when the table would pass 512 MB.
pub fn lcs_reply(a: &[u8], b: &[u8], options: &LcsOptions, version: Version, out: &mut Vec<u8>) {
    if a.len() as u64 >= u64::from(u32::MAX - 1) || b.len() as u64 >= u64::from(u32::MAX - 1) {
        return reply::error(out, b"ERR String too long for LCS");
    }
    let cells = (a.len() as u64 + 1) * (b.len() as u64 + 1);
    if cells * 4 > MAX_STRING as u64 {
        return reply::error(
            out,
            b"ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
        );
    }
    if options.mode == LcsMode::Len {
        return reply::integer(out, lcs_len(a, b).into());
    }
    let mut table = Vec::new();
    if table.try_reserve_exact(cells as usize).is_err() {
        return reply::error(
            out,
            b"ERR Insufficient memory, failed allocating transient memory for LCS",
        );
    }
    fill_table(a, b, &mut table);
    let (common, ranges) = walk_back(a, b, &table, options.min_match_len);
    if options.mode == LcsMode::String {
        return reply::bulk(out, &common);
    }
    reply::map_header(out, version, 2);
    reply::bulk(out, b"matches");
    reply::array_header(out, ranges.len());
    for range in &ranges {
        reply::array_header(out, 2 + usize::from(options.with_match_len));
        for (start, end) in [range.a, range.b] {
            reply::array_header(out, 2);
            reply::integer(out, start.into());
            reply::integer(out, end.into());
        }
        if options.with_match_len {
            reply::integer(out, (range.a.1 - range.a.0 + 1).into());
        }
    }
    reply::bulk(out, b"len");
    reply::integer(out, common.len() as i64);
}

/// The LCS length alone, one table row at a time.
fn lcs_len(a: &[u8], b: &[u8]) -> u32 {
    let mut previous = vec![0u32; b.len() + 1];
    let mut row = vec![0u32; b.len() + 1];
    for &x in a {
        for (j, &y) in b.iter().enumerate() {
            row[j + 1] = if x == y {
                previous[j] + 1
            } else {
                previous[j + 1].max(row[j])
            };
        }
        std::mem::swap(&mut previous, &mut row);
    }
    previous[b.len()]
}

/// Fills `table` (row `i`, column `j` at `j + i × (b.len() + 1)`) with the
/// LCS lengths of every pair of prefixes.
fn fill_table(a: &[u8], b: &[u8], table: &mut Vec<u32>) {
    let width = b.len() + 1;
    table.resize(width, 0);
    for (i, &x) in a.iter().enumerate() {
        table.push(0);
        for (j, &y) in b.iter().enumerate() {
            let cell = if x == y {
                table[i * width + j] + 1
            } else {
                table[i * width + j + 1].max(table[(i + 1) * width + j])
            };
            table.push(cell);
        }
    }
}

/// Walks the table back from its end as Redis does: the subsequence, and
/// the maximal matching ranges (last first) of at least `min_len` bytes.
fn walk_back(a: &[u8], b: &[u8], table: &[u32], min_len: u64) -> (Vec<u8>, Vec<Range>) {
    let width = b.len() + 1;
    let cell = |i: usize, j: usize| table[i * width + j];
    let mut left = cell(a.len(), b.len()) as usize;
    let mut common = vec![0u8; left];
    let mut ranges = Vec::new();
    let mut current: Option<Range> = None;
    let (mut i, mut j) = (a.len(), b.len());
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            common[left - 1] = a[i - 1];
            let (ai, bj) = ((i - 1) as u32, (j - 1) as u32);
            match &mut current {
                None => {
                    current = Some(Range {
                        a: (ai, ai),
                        b: (bj, bj),
                    })
                }
                Some(range) if range.a.0 == ai + 1 && range.b.0 == bj + 1 => {
                    range.a.0 = ai;
                    range.b.0 = bj;
                }
                // Never met (a match right after a match extends the
                // range), but Redis would close the range here, so do we.
                Some(_) => emit = true,
            }
            // A range that reached the start of either value is complete.
            emit |= current.is_some_and(|range| range.a.0 == 0 || range.b.0 == 0);
            left -= 1;
            i -= 1;
            j -= 1;
        } else {
            if cell(i - 1, j) > cell(i, j - 1) {
                i -= 1;
            } else {
                j -= 1;
            }
            emit = current.is_some();
        }
        if emit {
            if let Some(range) = current.take() {
                if u64::from(range.a.1 - range.a.0 + 1) >= min_len {
                    ranges.push(range);
                }
            }
        }
    }
    (common, ranges)
}

/// `LCS key1 key2 …` when both keys are on this shard (cross-shard routing
/// is done elsewhere; here, keys on two shards get
/// [`KEYS_ON_SEVERAL_SHARDS`]).
pub fn execute(argv: &Argv<'_>, cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let options = match parse_lcs(argv) {
        Ok(options) => options,
        Err(error) => return reply::error(out, error),
    };
    let (key_a, key_b) = (
        argv.get(1).unwrap_or_default(),
        argv.get(2).unwrap_or_default(),
    );
    if !keys_are_local([key_a, key_b], cx) {
        return reply::error(out, KEYS_ON_SEVERAL_SHARDS);
    }
    let a = cx
        .store
        .read(key_a, cx.now)
        .map(|item| item.value().to_vec())
        .unwrap_or_default();
    let item = cx.store.read(key_b, cx.now);
    let b = item.as_ref().map_or(&[][..], |item| item.value());
    lcs_reply(&a, b, &options, cx.version, out);
}
