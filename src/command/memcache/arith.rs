//! `incr`/`decr <key> <delta>` and the arithmetic shared with `ma`.
//!
//! The value must read as an unsigned decimal number the way memcached's
//! `strtoull` check reads it (leading whitespace and a sign allowed, the
//! digits must be followed by whitespace or the end, no 64-bit overflow).
//! `incr` wraps around at 2^64; `decr` stops at 0.
//!
//! memcached rewrites a shorter result in place, padded with spaces to the
//! old length (`decr` of `10` reads back as `9 `). corecache deliberately
//! stores the exact digits instead. Like memcached, a result longer than the
//! old value counts as a newly stored item (fresh access bits,
//! `total_items`); a result that fits keeps them.

use super::{find, ShardContext};
use crate::clock::Now;
use crate::protocol::memcache::{reply, ArithOp, ProtocolError};
use crate::stats::ShardStats;
use crate::store::{Item, Store};

/// Why an arithmetic request changed nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DeltaError {
    /// No live item under the key.
    NotFound,
    /// The value is empty or not a number.
    NonNumeric,
    /// The item's CAS unique differs from the one given (`ma … C`).
    CasMismatch,
}

/// `incr`/`decr <key> <delta> [noreply]`.
pub(super) fn execute(
    key: &[u8],
    op: ArithOp,
    delta: u64,
    noreply: bool,
    cx: &mut ShardContext<'_>,
    out: &mut Vec<u8>,
) {
    let incr = op == ArithOp::Incr;
    match add_delta(cx.store, cx.stats, key, incr, delta, 0, cx.now) {
        Ok((_, value)) => {
            if !noreply {
                reply::number(out, value);
            }
        }
        Err(DeltaError::NonNumeric) => {
            if !noreply {
                ProtocolError::NON_NUMERIC.write_to(out);
            }
        }
        Err(DeltaError::NotFound | DeltaError::CasMismatch) => {
            if incr {
                cx.stats.incr_misses += 1;
            } else {
                cx.stats.decr_misses += 1;
            }
            if !noreply {
                reply::status(out, reply::NOT_FOUND);
            }
        }
    }
}

/// Adds `delta` to (or subtracts it from) the number stored under `key`,
/// as memcached's `do_add_delta`: counts `incr_hits`/`decr_hits` on
/// success, gives the item a fresh CAS unique, and returns it with the new
/// number. `compare_cas` 0 means "no CAS check". Misses are the caller's to
/// count.
pub(super) fn add_delta<'s>(
    store: &'s mut Store,
    stats: &mut ShardStats,
    key: &[u8],
    incr: bool,
    delta: u64,
    compare_cas: u64,
    now: Now,
) -> Result<(Item<'s>, u64), DeltaError> {
    let mut item = find(store, stats, key, now).ok_or(DeltaError::NotFound)?;
    if item.value().is_empty() {
        return Err(DeltaError::NonNumeric);
    }
    if compare_cas != 0 && item.cas() != compare_cas {
        return Err(DeltaError::CasMismatch);
    }
    let current = parse_stored_number(item.value()).ok_or(DeltaError::NonNumeric)?;
    let value = if incr {
        stats.incr_hits += 1;
        current.wrapping_add(delta)
    } else {
        stats.decr_hits += 1;
        current.saturating_sub(delta)
    };
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(value).as_bytes();
    let grows = digits.len() > item.value().len();
    item.set_value(digits);
    if grows {
        item.renew(now);
    } else {
        item.set_last_access(now);
    }
    item.set_fresh_cas();
    Ok((item, value))
}

/// The number a stored value holds, read as memcached's `safe_strtoull`
/// reads item data: optional leading whitespace, an optional sign, decimal
/// digits (at least one, no overflow), then whitespace, a NUL or the end.
/// A `-` sign is accepted only when the wrapped result still looks
/// non-negative as a signed number (so `-0` is 0 and `-1` is refused).
pub(super) fn parse_stored_number(value: &[u8]) -> Option<u64> {
    let is_space = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
    let mut rest = value;
    while let Some((&b, tail)) = rest.split_first() {
        if !is_space(b) {
            break;
        }
        rest = tail;
    }
    let negative = match rest.first() {
        Some(b'-') => {
            rest = &rest[1..];
            true
        }
        Some(b'+') => {
            rest = &rest[1..];
            false
        }
        _ => false,
    };
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let mut number: u64 = 0;
    for &digit in &rest[..digits] {
        number = number
            .checked_mul(10)?
            .checked_add(u64::from(digit - b'0'))?;
    }
    match rest.get(digits) {
        None | Some(0) => {}
        Some(&b) if is_space(b) => {}
        Some(_) => return None,
    }
    let number = if negative {
        number.wrapping_neg()
    } else {
        number
    };
    let text_end = value.iter().position(|&b| b == 0).unwrap_or(value.len());
    if (number as i64) < 0 && value[..text_end].contains(&b'-') {
        return None;
    }
    Some(number)
}

#[cfg(test)]
mod tests {
    use super::parse_stored_number as parse;

    #[test]
    fn reads_numbers_as_memcached_does() {
        assert_eq!(parse(b"5"), Some(5));
        assert_eq!(parse(b"  5"), Some(5));
        assert_eq!(parse(b"5 abc"), Some(5));
        assert_eq!(parse(b"5\r\n"), Some(5));
        assert_eq!(parse(b"6  "), Some(6));
        assert_eq!(parse(b"+5"), Some(5));
        assert_eq!(parse(b"-0"), Some(0));
        assert_eq!(parse(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse(b"-18446744073709551615"), Some(1));
        assert_eq!(parse(b"12\0junk"), Some(12));
    }

    #[test]
    fn refuses_what_memcached_refuses() {
        assert_eq!(parse(b""), None);
        assert_eq!(parse(b"   "), None);
        assert_eq!(parse(b"abc"), None);
        assert_eq!(parse(b"5abc"), None);
        assert_eq!(parse(b"-1 "), None);
        assert_eq!(parse(b"-"), None);
        assert_eq!(parse(b"18446744073709551616"), None);
        assert_eq!(parse(b"18446744073709551615 -"), None);
    }
}
