//! BITFIELD and BITFIELD_RO: integers of 1 to 64 bits (`i1`..`i64`,
//! `u1`..`u63`) at any bit offset of a string, read (`GET`), written
//! (`SET`, replying the old value) or incremented (`INCRBY`, replying the
//! new one) under the `OVERFLOW WRAP | SAT | FAIL` in force, with Redis
//! 7.0's replies and errors (`bitops.c`).
//!
//! The overflow checks follow Redis's arithmetic exactly, quirks included
//! (it wraps in 64-bit two's complement where C does): `SET i8 0
//! -9223372036854775808` under SAT stores 127, as Redis does.

use super::bits::{bit_at, parse_bit_offset, BIT_OFFSET_ERROR};
use super::strings::store;
use super::{parse_i64, RespContext, NOT_AN_INTEGER, SYNTAX_ERROR};
use crate::clock::ExpiresAt;
use crate::protocol::resp::reply;
use crate::protocol::resp::Argv;

/// What an out-of-range SET or INCRBY does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    /// Keeps the low bits (the default).
    Wrap,
    /// Stops at the type's smallest or largest value.
    Sat,
    /// Writes nothing and replies null.
    Fail,
}

/// An integer type: signed or not, and its width in bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldType {
    pub signed: bool,
    pub bits: u32,
}

/// What one subcommand does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldAction {
    Get,
    Set(i64),
    Incrby(i64),
}

/// One GET, SET or INCRBY, with the overflow behaviour in force for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldOp {
    pub action: FieldAction,
    pub field: FieldType,
    /// In bits.
    pub offset: u64,
    pub overflow: Overflow,
}

/// Reads `i<bits>` (1..=64) or `u<bits>` (1..=63).
fn parse_type(arg: &[u8]) -> Option<FieldType> {
    let (signed, max) = match arg.first() {
        Some(b'i') => (true, 64),
        Some(b'u') => (false, 63),
        _ => return None,
    };
    let bits = parse_i64(&arg[1..])?;
    (1..=max).contains(&bits).then_some(FieldType {
        signed,
        bits: bits as u32,
    })
}

/// Reads the subcommands after the key, or the error reply's text.
pub fn parse(argv: &Argv<'_>) -> Result<Vec<FieldOp>, &'static [u8]> {
    const TYPE_ERROR: &[u8] = b"ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut index = 2;
    while let Some(name) = argv.get(index) {
        let more = argv.len() - index - 1;
        let arg = |offset: usize| argv.get(index + offset).unwrap_or_default();
        let is = |word: &[u8], needs: usize| name.eq_ignore_ascii_case(word) && more >= needs;
        if is(b"overflow", 1) {
            overflow = match arg(1).to_ascii_lowercase().as_slice() {
                b"wrap" => Overflow::Wrap,
                b"sat" => Overflow::Sat,
                b"fail" => Overflow::Fail,
                _ => return Err(b"ERR Invalid OVERFLOW type specified"),
            };
            index += 2;
            continue;
        }
        let (get, set, incrby) = (is(b"get", 2), is(b"set", 3), is(b"incrby", 3));
        if !(get || set || incrby) {
            return Err(SYNTAX_ERROR);
        }
        let field = parse_type(arg(1)).ok_or(TYPE_ERROR)?;
        let offset = parse_bit_offset(arg(2), Some(field.bits)).ok_or(BIT_OFFSET_ERROR)?;
        let action = if get {
            FieldAction::Get
        } else {
            let value = parse_i64(arg(3)).ok_or(NOT_AN_INTEGER)?;
            if set {
                FieldAction::Set(value)
            } else {
                FieldAction::Incrby(value)
            }
        };
        ops.push(FieldOp {
            action,
            field,
            offset,
            overflow,
        });
        index += if get { 3 } else { 4 };
    }
    Ok(ops)
}

/// The `bits`-bit unsigned integer at bit `offset` of `value` (zeros past
/// its end).
pub fn read_unsigned(value: &[u8], offset: u64, bits: u32) -> u64 {
    (0..u64::from(bits)).fold(0, |acc, i| {
        (acc << 1) | u64::from(bit_at(value, offset + i))
    })
}

/// The same bits, sign-extended.
pub fn read_signed(value: &[u8], offset: u64, bits: u32) -> i64 {
    let raw = read_unsigned(value, offset, bits);
    if bits < 64 && raw & (1 << (bits - 1)) != 0 {
        (raw | (u64::MAX << bits)) as i64
    } else {
        raw as i64
    }
}

/// Writes the low `bits` bits of `number` at bit `offset` (in range).
pub fn write_bits(value: &mut [u8], offset: u64, bits: u32, number: u64) {
    for i in 0..u64::from(bits) {
        let bit = (number >> (u64::from(bits) - 1 - i)) & 1;
        let at = offset + i;
        let mask = 0x80u8 >> (at & 7);
        let byte = &mut value[(at >> 3) as usize];
        *byte = (*byte & !mask) | (bit as u8 * mask);
    }
}

/// `value + increment` in an unsigned field of `bits` bits
/// (`checkUnsignedBitfieldOverflow`); `None` when it overflows under FAIL.
pub fn unsigned_result(value: u64, increment: i64, bits: u32, overflow: Overflow) -> Option<u64> {
    let max = (1u64 << bits) - 1;
    let max_increment = max.wrapping_sub(value) as i64;
    let min_increment = (value as i64).wrapping_neg();
    let sum = value.wrapping_add(increment as u64);
    let over = value > max || (increment > 0 && increment > max_increment);
    let under = !over && increment < 0 && increment < min_increment;
    if !over && !under {
        return Some(sum);
    }
    match overflow {
        Overflow::Fail => None,
        Overflow::Wrap => Some(sum & max),
        Overflow::Sat => Some(if over { max } else { 0 }),
    }
}

/// `value + increment` in a signed field of `bits` bits
/// (`checkSignedBitfieldOverflow`); `None` when it overflows under FAIL.
pub fn signed_result(value: i64, increment: i64, bits: u32, overflow: Overflow) -> Option<i64> {
    let max = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let max_increment = (max as u64).wrapping_sub(value as u64) as i64;
    let min_increment = min.wrapping_sub(value);
    let narrow = bits != 64;
    let over = value > max
        || (narrow && increment > max_increment)
        || (value >= 0 && increment > 0 && increment > max_increment);
    let under = !over
        && (value < min
            || (narrow && increment < min_increment)
            || (value < 0 && increment < 0 && increment < min_increment));
    let sum = (value as u64).wrapping_add(increment as u64);
    if !over && !under {
        return Some(sum as i64);
    }
    match overflow {
        Overflow::Fail => None,
        Overflow::Sat => Some(if over { max } else { min }),
        Overflow::Wrap if narrow => {
            let high = u64::MAX << bits;
            let negative = sum & (1 << (bits - 1)) != 0;
            Some((if negative { sum | high } else { sum & !high }) as i64)
        }
        Overflow::Wrap => Some(sum as i64),
    }
}

/// Runs one SET (`set`) or INCRBY of `number` on `value`: the reply (the
/// old value for SET, the new one for INCRBY), or `None` (null) when it
/// overflows under FAIL and writes nothing.
fn apply(op: &FieldOp, number: i64, set: bool, value: &mut [u8]) -> Option<i64> {
    let FieldType { signed, bits } = op.field;
    if signed {
        let old = read_signed(value, op.offset, bits);
        let new = if set {
            signed_result(number, 0, bits, op.overflow)?
        } else {
            signed_result(old, number, bits, op.overflow)?
        };
        write_bits(value, op.offset, bits, new as u64);
        Some(if set { old } else { new })
    } else {
        let old = read_unsigned(value, op.offset, bits);
        let new = if set {
            unsigned_result(number as u64, 0, bits, op.overflow)?
        } else {
            unsigned_result(old, number, bits, op.overflow)?
        };
        write_bits(value, op.offset, bits, new);
        Some((if set { old } else { new }) as i64)
    }
}

/// The reply of a GET on `value`.
fn get(op: &FieldOp, value: &[u8]) -> i64 {
    let FieldType { signed, bits } = op.field;
    if signed {
        read_signed(value, op.offset, bits)
    } else {
        read_unsigned(value, op.offset, bits) as i64
    }
}

/// `BITFIELD key [GET t o | SET t o v | INCRBY t o n | OVERFLOW w]…`, or
/// BITFIELD_RO (`read_only`: GET only). One reply per GET, SET and
/// INCRBY, in order. A write creates the key, or grows it with zeros to
/// the farthest bit written, even when FAIL then writes nothing.
pub fn execute(argv: &Argv<'_>, read_only: bool, cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let ops = match parse(argv) {
        Ok(ops) => ops,
        Err(error) => return reply::error(out, error),
    };
    let key = argv.get(1).unwrap_or_default();
    let writes = ops.iter().filter(|op| op.action != FieldAction::Get);
    let Some(farthest) = writes
        .map(|op| op.offset + u64::from(op.field.bits) - 1)
        .max()
    else {
        // GETs only: read the value where it lies.
        let item = cx.store.read(key, cx.now);
        let value = item.as_ref().map_or(&[][..], |item| item.value());
        reply::array_header(out, ops.len());
        for op in &ops {
            reply::integer(out, get(op, value));
        }
        return;
    };
    if read_only {
        return reply::error(out, b"ERR BITFIELD_RO only supports the GET subcommand");
    }
    let item = cx.store.get(key, cx.now);
    let existed = item.is_some();
    let mut value = item.map_or_else(Vec::new, |item| item.value().to_vec());
    let needed = (farthest >> 3) as usize + 1;
    let mut changed = !existed || value.len() < needed;
    if value.len() < needed {
        value.resize(needed, 0);
    }
    reply::array_header(out, ops.len());
    for op in &ops {
        let (number, set) = match op.action {
            FieldAction::Get => {
                reply::integer(out, get(op, &value));
                continue;
            }
            FieldAction::Set(number) => (number, true),
            FieldAction::Incrby(number) => (number, false),
        };
        match apply(op, number, set, &mut value) {
            Some(number) => {
                changed = true;
                reply::integer(out, number);
            }
            None => reply::null(out, cx.version),
        }
    }
    if changed {
        match cx.store.get(key, cx.now) {
            Some(mut item) => {
                item.set_value(&value);
                item.set_fresh_cas();
            }
            None => store(key, &value, ExpiresAt::NEVER, cx),
        }
    }
}
