//! Counts and lengths, read exactly as Redis's `string2ll` reads them.
//!
//! `string2ll` is strict: an optional `-`, then digits without a leading
//! zero (the number zero is `0`, and `-0` is refused), nothing before or
//! after, at most 20 bytes, within the `i64` range. No `+`, no spaces.

/// Longest text `string2ll` considers (`LONG_STR_SIZE` is 21, the check is
/// `slen >= LONG_STR_SIZE`).
const MAX_LEN: usize = 20;

/// The number `text` spells, or `None` when Redis would refuse it.
pub(super) fn string2ll(text: &[u8]) -> Option<i64> {
    if text.is_empty() || text.len() > MAX_LEN {
        return None;
    }
    if text == b"0" {
        return Some(0);
    }
    let (negative, digits) = match text {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, text),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let magnitude = digits.iter().try_fold(0u64, |acc, &d| {
        if !d.is_ascii_digit() {
            return None;
        }
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })?;
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_string2ll_accepts() {
        assert_eq!(string2ll(b"0"), Some(0));
        assert_eq!(string2ll(b"3"), Some(3));
        assert_eq!(string2ll(b"-1"), Some(-1));
        assert_eq!(string2ll(b"1048576"), Some(1 << 20));
        assert_eq!(string2ll(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(string2ll(b"-9223372036854775808"), Some(i64::MIN));
    }

    #[test]
    fn refuses_what_string2ll_refuses() {
        for text in [
            &b""[..],
            b"-",
            b"-0",
            b"00",
            b"01",
            b"+1",
            b" 1",
            b"1 ",
            b"1x",
            b"0x10",
            b"1.0",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"18446744073709551616",
            b"00000000000000000001",
            b"1\0",
        ] {
            assert_eq!(string2ll(text), None, "{}", text.escape_ascii());
        }
    }

    #[test]
    fn refuses_texts_of_21_bytes_or_more() {
        // 21 bytes cannot be an i64 anyway but for a leading zero run, which
        // string2ll refuses too; the length check comes first in Redis.
        assert_eq!(string2ll(b"-00000000000000000001"), None);
        assert_eq!(
            string2ll(b"-1000000000000000000"),
            Some(-1_000_000_000_000_000_000)
        );
    }
}
