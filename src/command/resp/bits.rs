//! The bitmap commands over string values: SETBIT, GETBIT, BITCOUNT,
//! BITPOS and BITOP, with Redis 7.0's replies and errors (`bitops.c`);
//! BITFIELD is in [`super::bitfield`].
//!
//! Bit 0 is the most significant bit of the first byte. A missing key
//! reads as an empty string, and a write past the end grows the value with
//! zero bytes, up to 512 MB (`proto-max-bulk-len`). A write copies the
//! value and stores it back, as SETRANGE does: the store has no in-place
//! update of a value's bytes yet.
//!
//! BITOP reads several keys. Its pure parts ([`parse_bitop`], [`bitop`],
//! [`fold_source`]) and the write of its result ([`store_result`]) are
//! public so that cross-shard routing, done elsewhere, can read the
//! sources on their own shards and write the destination on its own;
//! [`execute_bitop`] runs it here when every key is on this shard.

use super::strings::store;
use super::{bitfield, keys_are_local, parse_i64, Command, RespContext, KEYS_ON_SEVERAL_SHARDS};
use super::{MAX_STRING, NOT_AN_INTEGER, SYNTAX_ERROR};
use crate::clock::ExpiresAt;
use crate::protocol::resp::reply;
use crate::protocol::resp::Argv;

/// `ERR bit offset is not an integer or out of range`.
pub const BIT_OFFSET_ERROR: &[u8] = b"ERR bit offset is not an integer or out of range";

/// Runs a single-key bit command (the caller checked its arity).
pub fn execute(command: Command, argv: &Argv<'_>, cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let key = argv.get(1).unwrap_or_default();
    let arg = |index: usize| argv.get(index).unwrap_or_default();
    match command {
        Command::Setbit => setbit(key, arg(2), arg(3), cx, out),
        Command::Getbit => getbit(key, arg(2), cx, out),
        Command::Bitcount => bitcount(argv, cx, out),
        Command::Bitpos => bitpos(argv, cx, out),
        Command::Bitfield => bitfield::execute(argv, false, cx, out),
        Command::BitfieldRo => bitfield::execute(argv, true, cx, out),
        _ => reply::error(out, b"ERR internal routing error"),
    }
}

/// Reads a bit offset as `getBitOffsetFromArgument`: a Redis integer, or
/// with `hash_bits`, `#n` for `n × bits` (BITFIELD); below 2^32 (512 MB of
/// bits).
pub fn parse_bit_offset(arg: &[u8], hash_bits: Option<u32>) -> Option<u64> {
    let (digits, multiplier) = match (arg.strip_prefix(b"#"), hash_bits) {
        (Some(digits), Some(bits)) => (digits, i64::from(bits)),
        _ => (arg, 1),
    };
    // Redis multiplies in C's wrapping arithmetic, then checks the range.
    let offset = parse_i64(digits)?.wrapping_mul(multiplier);
    (offset >= 0 && offset >> 3 < MAX_STRING).then_some(offset as u64)
}

/// Bit `offset` of `value` (0 past its end).
pub fn bit_at(value: &[u8], offset: u64) -> u8 {
    let byte = value.get((offset >> 3) as usize).copied().unwrap_or(0);
    (byte >> (7 - (offset & 7))) & 1
}

/// `SETBIT key offset 0|1`: replies with the bit's old value.
fn setbit(key: &[u8], offset: &[u8], bit: &[u8], cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    const BIT_ERROR: &[u8] = b"ERR bit is not an integer or out of range";
    let Some(offset) = parse_bit_offset(offset, None) else {
        return reply::error(out, BIT_OFFSET_ERROR);
    };
    let on = match parse_i64(bit) {
        Some(bit @ (0 | 1)) => bit as u8,
        _ => return reply::error(out, BIT_ERROR),
    };
    let byte = (offset >> 3) as usize;
    let mask = 0x80u8 >> (offset & 7);
    let old = match cx.store.get(key, cx.now) {
        Some(mut item) => {
            let value = item.value();
            let old = bit_at(value, offset);
            if old != on || byte >= value.len() {
                let mut bytes = value.to_vec();
                if bytes.len() <= byte {
                    bytes.resize(byte + 1, 0);
                }
                bytes[byte] = (bytes[byte] & !mask) | (on * mask);
                item.set_value(&bytes);
                item.set_fresh_cas();
            }
            old
        }
        None => {
            let mut bytes = vec![0u8; byte + 1];
            bytes[byte] = on * mask;
            store(key, &bytes, ExpiresAt::NEVER, cx);
            0
        }
    };
    reply::integer(out, old.into());
}

/// `GETBIT key offset`.
fn getbit(key: &[u8], offset: &[u8], cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let Some(offset) = parse_bit_offset(offset, None) else {
        return reply::error(out, BIT_OFFSET_ERROR);
    };
    let bit = cx
        .store
        .read(key, cx.now)
        .map_or(0, |item| bit_at(item.value(), offset));
    reply::integer(out, bit.into());
}

/// Whether a BITCOUNT or BITPOS range counts bytes or bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Byte,
    Bit,
}

/// Reads `BYTE` or `BIT` (any case).
fn parse_unit(arg: &[u8]) -> Option<Unit> {
    if arg.eq_ignore_ascii_case(b"byte") {
        Some(Unit::Byte)
    } else if arg.eq_ignore_ascii_case(b"bit") {
        Some(Unit::Bit)
    } else {
        None
    }
}

/// The bits `first..=last` that `start end` in `unit` name in a value of
/// `len` bytes (negative: from the end; clamped to the value), or `None`
/// when that is empty.
pub fn bit_range(len: usize, start: i64, end: i64, unit: Unit) -> Option<(u64, u64)> {
    let total = match unit {
        Unit::Byte => len as i64,
        Unit::Bit => (len as i64) << 3,
    };
    let from_end = |index: i64| if index < 0 { total + index } else { index };
    let start = from_end(start).max(0);
    let end = from_end(end).max(0).min(total - 1);
    if start > end {
        return None;
    }
    let (start, end) = (start as u64, end as u64);
    Some(match unit {
        Unit::Byte => (start * 8, end * 8 + 7),
        Unit::Bit => (start, end),
    })
}

/// How many bits of `value` are set among `first..=last` (in range).
pub fn count_bits(value: &[u8], first: u64, last: u64) -> u64 {
    let (a, b) = ((first >> 3) as usize, (last >> 3) as usize);
    let bytes = &value[a..=b];
    let mut chunks = bytes.chunks_exact(8);
    let mut count: u64 = chunks
        .by_ref()
        .map(|chunk| {
            let word: [u8; 8] = chunk.try_into().unwrap_or_default();
            u64::from(u64::from_ne_bytes(word).count_ones())
        })
        .sum();
    count += chunks
        .remainder()
        .iter()
        .map(|byte| u64::from(byte.count_ones()))
        .sum::<u64>();
    // Take off the bits of the edge bytes that lie outside the range.
    let before = u32::from(value[a]) >> (8 - (first & 7));
    let after = value[b] & ((1u16 << (7 - (last & 7))) - 1) as u8;
    count - u64::from(before.count_ones() + after.count_ones())
}

/// `BITCOUNT key [start end [BYTE | BIT]]`.
fn bitcount(argv: &Argv<'_>, cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let key = argv.get(1).unwrap_or_default();
    // A missing key counts 0 before any argument is looked at.
    let Some(item) = cx.store.read(key, cx.now) else {
        return reply::integer(out, 0);
    };
    let value = item.value();
    let range = match argv.len() {
        2 => bit_range(value.len(), 0, -1, Unit::Byte),
        4 | 5 => {
            let start = argv.get(2).and_then(parse_i64);
            let end = argv.get(3).and_then(parse_i64);
            let (Some(start), Some(end)) = (start, end) else {
                return reply::error(out, NOT_AN_INTEGER);
            };
            if start < 0 && end < 0 && start > end {
                return reply::integer(out, 0);
            }
            let unit = match argv.get(4) {
                None => Unit::Byte,
                Some(arg) => match parse_unit(arg) {
                    Some(unit) => unit,
                    None => return reply::error(out, SYNTAX_ERROR),
                },
            };
            bit_range(value.len(), start, end, unit)
        }
        _ => return reply::error(out, SYNTAX_ERROR),
    };
    let count = range.map_or(0, |(first, last)| count_bits(value, first, last));
    reply::integer(out, count as i64);
}

/// The first bit equal to `bit` among `first..=last` of `value` (in range).
pub fn find_bit(value: &[u8], first: u64, last: u64, bit: u8) -> Option<u64> {
    // Look for set bits in the value, or in its complement.
    let flip = if bit == 1 { 0 } else { 0xff };
    let (a, b) = ((first >> 3) as usize, (last >> 3) as usize);
    let edge = |index: usize| {
        let mut byte = value[index] ^ flip;
        if index == a {
            byte &= 0xff >> (first & 7);
        }
        if index == b {
            byte &= 0xff << (7 - (last & 7));
        }
        byte
    };
    let at = |index: usize, byte: u8| index as u64 * 8 + u64::from(byte.leading_zeros());
    let head = edge(a);
    if head != 0 || a == b {
        return (head != 0).then(|| at(a, head));
    }
    if let Some(offset) = value[a + 1..b].iter().position(|&byte| byte ^ flip != 0) {
        let index = a + 1 + offset;
        return Some(at(index, value[index] ^ flip));
    }
    let tail = edge(b);
    (tail != 0).then(|| at(b, tail))
}

/// `BITPOS key 0|1 [start [end [BYTE | BIT]]]`.
fn bitpos(argv: &Argv<'_>, cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let key = argv.get(1).unwrap_or_default();
    let bit = match argv.get(2).and_then(parse_i64) {
        None => return reply::error(out, NOT_AN_INTEGER),
        Some(bit @ (0 | 1)) => bit as u8,
        Some(_) => return reply::error(out, b"ERR The bit argument must be 1 or 0."),
    };
    // A missing key is all zeros: its first 0 is bit 0, it has no 1.
    let Some(item) = cx.store.read(key, cx.now) else {
        return reply::integer(out, if bit == 1 { -1 } else { 0 });
    };
    let value = item.value();
    let (range, end_given) = match argv.len() {
        3 => (bit_range(value.len(), 0, -1, Unit::Byte), false),
        4..=6 => {
            let Some(start) = argv.get(3).and_then(parse_i64) else {
                return reply::error(out, NOT_AN_INTEGER);
            };
            let unit = match argv.get(5) {
                None => Unit::Byte,
                Some(arg) => match parse_unit(arg) {
                    Some(unit) => unit,
                    None => return reply::error(out, SYNTAX_ERROR),
                },
            };
            let end = match argv.get(4) {
                None => -1,
                Some(arg) => match parse_i64(arg) {
                    Some(end) => end,
                    None => return reply::error(out, NOT_AN_INTEGER),
                },
            };
            (bit_range(value.len(), start, end, unit), argv.len() > 4)
        }
        _ => return reply::error(out, SYNTAX_ERROR),
    };
    let position = match range {
        None => -1,
        Some((first, last)) => match find_bit(value, first, last, bit) {
            Some(position) => position as i64,
            // Without an end, the value counts as followed by zeros.
            None if bit == 0 && !end_given => last as i64 + 1,
            None => -1,
        },
    };
    reply::integer(out, position);
}

/// A BITOP operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

/// Reads `BITOP op destkey srckey…` (the caller checked its arity): the
/// operation, or the error reply's text. NOT takes exactly one source.
pub fn parse_bitop(argv: &Argv<'_>) -> Result<BitOp, &'static [u8]> {
    let name = argv.get(1).unwrap_or_default();
    let op = [
        (&b"and"[..], BitOp::And),
        (b"or", BitOp::Or),
        (b"xor", BitOp::Xor),
        (b"not", BitOp::Not),
    ]
    .into_iter()
    .find(|(text, _)| name.eq_ignore_ascii_case(text))
    .map(|(_, op)| op)
    .ok_or(SYNTAX_ERROR)?;
    if op == BitOp::Not && argv.len() != 4 {
        return Err(b"ERR BITOP NOT must be called with a single source key.");
    }
    Ok(op)
}

/// Folds one more source value into `result` (empty at first): byte by
/// byte, shorter values padded with zeros. AND, OR and XOR do not care in
/// which order the sources come, so routing may fold them as they arrive.
pub fn fold_source(op: BitOp, result: &mut Vec<u8>, first: bool, source: &[u8]) {
    if first {
        result.clear();
        result.extend_from_slice(source);
        if op == BitOp::Not {
            result.iter_mut().for_each(|byte| *byte = !*byte);
        }
        return;
    }
    if result.len() < source.len() {
        result.resize(source.len(), 0);
    }
    let (head, tail) = result.split_at_mut(source.len());
    let pairs = head.iter_mut().zip(source);
    match op {
        BitOp::And => {
            pairs.for_each(|(to, from)| *to &= from);
            tail.fill(0);
        }
        BitOp::Or => pairs.for_each(|(to, from)| *to |= from),
        BitOp::Xor => pairs.for_each(|(to, from)| *to ^= from),
        // NOT has one source only.
        BitOp::Not => {}
    }
}

/// BITOP's result over the source values in order (`None`: a missing key,
/// read as empty). Empty when every source is: the destination is then
/// deleted.
pub fn bitop(op: BitOp, sources: &[Option<&[u8]>]) -> Vec<u8> {
    let mut result = Vec::new();
    for (index, source) in sources.iter().enumerate() {
        fold_source(op, &mut result, index == 0, source.unwrap_or_default());
    }
    result
}

/// Writes BITOP's result under `dest` on this shard, as a string without
/// TTL, or deletes `dest` when the result is empty; returns the integer
/// BITOP replies (the result's length).
pub fn store_result(dest: &[u8], result: &[u8], cx: &mut RespContext<'_>) -> i64 {
    if result.is_empty() {
        cx.store.remove(dest);
    } else {
        store(dest, result, ExpiresAt::NEVER, cx);
    }
    result.len() as i64
}

/// `BITOP AND|OR|XOR|NOT destkey srckey…` when every key is on this
/// shard (cross-shard routing is done elsewhere; here, keys on several
/// shards get [`KEYS_ON_SEVERAL_SHARDS`]).
pub fn execute_bitop(argv: &Argv<'_>, cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let op = match parse_bitop(argv) {
        Ok(op) => op,
        Err(error) => return reply::error(out, error),
    };
    if !keys_are_local(argv.iter().skip(2), cx) {
        return reply::error(out, KEYS_ON_SEVERAL_SHARDS);
    }
    let mut result = Vec::new();
    for (index, key) in argv.iter().skip(3).enumerate() {
        let item = cx.store.read(key, cx.now);
        let source = item.as_ref().map_or(&[][..], |item| item.value());
        fold_source(op, &mut result, index == 0, source);
    }
    let dest = argv.get(2).unwrap_or_default();
    let len = store_result(dest, &result, cx);
    reply::integer(out, len);
}
