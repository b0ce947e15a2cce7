//! Numeric tokens, accepted exactly as memcached 1.6 accepts them.
//!
//! memcached converts tokens with `safe_strtol`, `safe_strtoul` and
//! `safe_strtoull`: thin wrappers over C's `strtol`/`strtoul`/`strtoull`
//! (64-bit `long` on the LP64 platforms it runs on) with a check on the byte
//! after the digits. Their acceptance rules are odd but visible on the wire,
//! so they are reproduced here rather than replaced by Rust's `str::parse`:
//!
//! - leading C whitespace (`\t`, `\v`, `\f`, `\r`; spaces never reach a
//!   token) is skipped, then one optional `+` or `-`, then decimal digits;
//! - the digits may be followed by nothing or by a whitespace byte, after
//!   which anything goes (`1\tjunk` is 1);
//! - out of the 64-bit range is an error (C's `ERANGE`);
//! - the unsigned conversions negate a `-` number modulo 2^64 and reject the
//!   result only when it looks negative as a signed number *and* the token
//!   holds a `-`: `-1` is rejected, but `-0` is 0 and
//!   `-18446744073709551615` is 1;
//! - `safe_strtol` and `safe_strtoul` store the 64-bit result into 32 bits,
//!   truncating: exptime `4294967297` is 1, flags `4294967296` are 0.
//!
//! This module owns only that conversion; it knows nothing of commands.

/// C's `isspace` in the "C" locale.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// What C's `strtoull`/`strtoll` read at the start of a token.
struct Scanned {
    negative: bool,
    /// The digits' value, `None` when it exceeds `u64` (`ERANGE`).
    magnitude: Option<u64>,
    /// Whether the digits end the token or are followed by whitespace, as
    /// memcached's `safe_*` wrappers require.
    clean_end: bool,
}

/// Reads an optionally signed decimal number the way C's `strto*` do;
/// `None` when there are no digits (C returns `endptr == str`).
fn scan(token: &[u8]) -> Option<Scanned> {
    let mut i = token.iter().take_while(|&&b| is_c_space(b)).count();
    let mut negative = false;
    if let Some(&sign @ (b'+' | b'-')) = token.get(i) {
        negative = sign == b'-';
        i += 1;
    }
    let digits = token[i..].iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let magnitude = token[i..i + digits].iter().try_fold(0u64, |acc, &d| {
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    });
    let end = i + digits;
    Some(Scanned {
        negative,
        magnitude,
        clean_end: token.get(end).is_none_or(|&b| is_c_space(b)),
    })
}

/// memcached's `safe_strtoull`: a `u64` (cas uniques, deltas, meta `C`/`E`/
/// `D`/`J` tokens).
pub(super) fn safe_strtoull(token: &[u8]) -> Option<u64> {
    let scanned = scan(token)?;
    let magnitude = scanned.magnitude?;
    if !scanned.clean_end {
        return None;
    }
    let value = if scanned.negative {
        magnitude.wrapping_neg()
    } else {
        magnitude
    };
    // Only a value that is negative as a signed number is checked for a '-'.
    if (value as i64) < 0 && token.contains(&b'-') {
        return None;
    }
    Some(value)
}

/// memcached's `safe_strtoul`: `strtoul` (64-bit) stored into a `u32`
/// (client flags, `verbosity`, `cache_memlimit`, meta `F`).
pub(super) fn safe_strtoul(token: &[u8]) -> Option<u32> {
    // Same conversion and sign rule as strtoull on LP64, then truncation.
    safe_strtoull(token).map(|value| value as u32)
}

/// memcached's `safe_strtol`: `strtol` (64-bit) stored into an `i32`
/// (exptimes, byte counts, meta `T`/`N`/`R`).
pub(super) fn safe_strtol(token: &[u8]) -> Option<i32> {
    let scanned = scan(token)?;
    let magnitude = scanned.magnitude?;
    let value = if scanned.negative {
        // strtol accepts down to i64::MIN, whose magnitude is i64::MAX + 1.
        0i64.checked_sub_unsigned(magnitude)?
    } else {
        i64::try_from(magnitude).ok()?
    };
    scanned.clean_end.then_some(value as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtol_accepts_signs_whitespace_and_truncates_to_32_bits() {
        assert_eq!(safe_strtol(b"0"), Some(0));
        assert_eq!(safe_strtol(b"+5"), Some(5));
        assert_eq!(safe_strtol(b"-5"), Some(-5));
        assert_eq!(safe_strtol(b"\t7"), Some(7));
        assert_eq!(safe_strtol(b"7\r"), Some(7));
        assert_eq!(safe_strtol(b"7\x0bjunk"), Some(7));
        // memcached: `touch a 4294967296` touches with exptime 0.
        assert_eq!(safe_strtol(b"4294967296"), Some(0));
        assert_eq!(safe_strtol(b"4294967297"), Some(1));
        assert_eq!(safe_strtol(b"2147483648"), Some(i32::MIN));
        assert_eq!(safe_strtol(b"9223372036854775807"), Some(-1));
        assert_eq!(safe_strtol(b"-9223372036854775808"), Some(0));
        // ERANGE: `set a 0 9223372036854775808 1` is a bad command line.
        assert_eq!(safe_strtol(b"9223372036854775808"), None);
        assert_eq!(safe_strtol(b"-9223372036854775809"), None);
        assert_eq!(safe_strtol(b"99999999999999999999"), None);
        for bad in [&b""[..], b"-", b"+", b"x", b"5x", b"--5", b" "] {
            assert_eq!(safe_strtol(bad), None, "{:?}", bad);
        }
    }

    #[test]
    fn strtoull_rejects_negatives_only_when_they_wrap_high() {
        assert_eq!(safe_strtoull(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(safe_strtoull(b"18446744073709551616"), None);
        assert_eq!(safe_strtoull(b"-1"), None);
        assert_eq!(safe_strtoull(b"-0"), Some(0));
        // memcached: `incr a -18446744073709551615` increments by 1.
        assert_eq!(safe_strtoull(b"-18446744073709551615"), Some(1));
        assert_eq!(safe_strtoull(b"-9223372036854775808"), None);
        assert_eq!(safe_strtoull(b"-9223372036854775809"), Some((1 << 63) - 1));
        // A big positive value is rejected if a '-' hides after the digits.
        assert_eq!(safe_strtoull(b"9223372036854775808"), Some(1 << 63));
        assert_eq!(safe_strtoull(b"9223372036854775808\t-"), None);
        assert_eq!(safe_strtoull(b"1x"), None);
    }

    #[test]
    fn strtoul_truncates_to_32_bits() {
        // memcached: `set a 4294967297 0 1` stores flags 1.
        assert_eq!(safe_strtoul(b"4294967297"), Some(1));
        assert_eq!(safe_strtoul(b"4294967296"), Some(0));
        assert_eq!(safe_strtoul(b"-1"), None);
        assert_eq!(safe_strtoul(b"-0"), Some(0));
        assert_eq!(safe_strtoul(b"-18446744073709551615"), Some(1));
        assert_eq!(safe_strtoul(b"18446744073709551616"), None);
    }
}
