//! Random picks for `HRANDFIELD`, `SRANDMEMBER` and `ZRANDMEMBER`, which
//! share Redis's count rules.

use super::{parse_i64, COUNT_OUT_OF_RANGE, NOT_AN_INTEGER, SYNTAX_ERROR};
use crate::protocol::resp::Argv;

/// The most elements a negative count may ask for. Redis has no such
/// bound (its client output limit ends such a reply); here the reply is
/// built whole in memory first, so a count of -10^12 would exhaust it.
pub const MAX_REPEATED_PICKS: i64 = 1 << 24;

/// The count (argument 2, present) and whether `option` (`WITHVALUES`,
/// `WITHSCORES`; `None`: no option taken) follows it as the last
/// argument, checked in Redis's order; the error reply otherwise.
pub fn parse_count(argv: &Argv<'_>, option: Option<&[u8]>) -> Result<(i64, bool), &'static [u8]> {
    let count = match argv.get(2).and_then(parse_i64) {
        Some(i64::MIN) => return Err(COUNT_OUT_OF_RANGE),
        Some(count) => count,
        None => return Err(NOT_AN_INTEGER),
    };
    let with_option = match (argv.get(3), option) {
        (None, _) => false,
        (Some(given), Some(option)) if argv.len() == 4 && given.eq_ignore_ascii_case(option) => {
            true
        }
        (Some(_), _) => return Err(SYNTAX_ERROR),
    };
    if (with_option && count < -(i64::MAX / 2)) || count < -MAX_REPEATED_PICKS {
        return Err(b"ERR value is out of range");
    }
    Ok((count, with_option))
}

/// The positions `count` picks out of `len` elements, as Redis picks them:
/// a negative count picks that many, repeats allowed; a positive one that
/// many distinct elements (all of them when it is `len` or more).
pub fn picks(count: i64, len: usize) -> Vec<usize> {
    if count < 0 {
        (0..count.unsigned_abs())
            .map(|_| fastrand::usize(..len))
            .collect()
    } else if count as u64 >= len as u64 {
        (0..len).collect()
    } else {
        let mut all: Vec<usize> = (0..len).collect();
        fastrand::shuffle(&mut all);
        all.truncate(count as usize);
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_pick_as_redis() {
        assert_eq!(picks(-5, 2).len(), 5);
        assert!(picks(-5, 2).iter().all(|&p| p < 2));
        assert_eq!(picks(10, 3), [0, 1, 2]);
        let mut some = picks(2, 10);
        some.sort();
        some.dedup();
        assert_eq!(some.len(), 2);
    }
}
