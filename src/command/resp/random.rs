//! Random picks for `HRANDFIELD` and `SRANDMEMBER` (and, later,
//! `ZRANDMEMBER`), which share Redis's count rules.

/// The most elements a negative count may ask for. Redis has no such
/// bound (its client output limit ends such a reply); here the reply is
/// built whole in memory first, so a count of -10^12 would exhaust it.
pub const MAX_REPEATED_PICKS: i64 = 1 << 24;

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
