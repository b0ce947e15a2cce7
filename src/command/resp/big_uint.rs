//! A small unsigned big integer, just what [`super::long_double`] needs to
//! read decimal text exactly and to print exact decimal expansions: shifts,
//! small multiplications, subtraction, comparison and division by small
//! numbers. Limbs are `u32`, least significant first, with no high zeros.
//!
//! Not a general-purpose bignum: no multiplication of two big numbers, no
//! big division beyond the few quotient bits a float needs.

use std::cmp::Ordering;

/// An unsigned integer of any size.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BigUint {
    limbs: Vec<u32>,
}

impl BigUint {
    /// `n` as a big integer.
    pub fn from_u64(n: u64) -> BigUint {
        let mut big = BigUint {
            limbs: vec![n as u32, (n >> 32) as u32],
        };
        big.trim();
        big
    }

    /// `n` as a big integer.
    pub fn from_u128(n: u128) -> BigUint {
        BigUint::from_u64((n >> 64) as u64)
            .shl(64)
            .add(&BigUint::from_u64(n as u64))
    }

    /// Drops high zero limbs.
    fn trim(&mut self) {
        while self.limbs.last() == Some(&0) {
            self.limbs.pop();
        }
    }

    /// Whether this is zero.
    pub fn is_zero(&self) -> bool {
        self.limbs.is_empty()
    }

    /// How many bits it takes (0 for zero).
    pub fn bit_len(&self) -> u64 {
        match self.limbs.last() {
            None => 0,
            Some(&top) => self.limbs.len() as u64 * 32 - u64::from(top.leading_zeros()),
        }
    }

    /// Bit `index` (0 is the least significant).
    pub fn bit(&self, index: u64) -> bool {
        let limb = (index / 32) as usize;
        self.limbs
            .get(limb)
            .is_some_and(|&l| (l >> (index % 32)) & 1 == 1)
    }

    /// Whether any bit below `index` is set.
    pub fn any_below(&self, index: u64) -> bool {
        let whole = ((index / 32) as usize).min(self.limbs.len());
        if self.limbs[..whole].iter().any(|&l| l != 0) {
            return true;
        }
        let rest = index % 32;
        rest > 0
            && self
                .limbs
                .get(whole)
                .is_some_and(|&l| l & ((1u32 << rest) - 1) != 0)
    }

    /// The 64 bits from bit `low` up (`self >> low`, cut to 64 bits).
    pub fn bits_from(&self, low: u64) -> u64 {
        (0..64).fold(0u64, |acc, i| acc | (u64::from(self.bit(low + i)) << i))
    }

    /// `self * factor + carry`.
    pub fn mul_add_small(&mut self, factor: u32, carry: u32) {
        let mut carry = u64::from(carry);
        for limb in &mut self.limbs {
            let product = u64::from(*limb) * u64::from(factor) + carry;
            *limb = product as u32;
            carry = product >> 32;
        }
        if carry > 0 {
            self.limbs.push(carry as u32);
        }
        self.trim();
    }

    /// `self * 5^exponent`.
    pub fn mul_pow5(&mut self, exponent: u32) {
        // 5^13 is the largest power of five in a u32.
        const FIVE_13: u32 = 1_220_703_125;
        for _ in 0..exponent / 13 {
            self.mul_add_small(FIVE_13, 0);
        }
        self.mul_add_small(5u32.pow(exponent % 13), 0);
    }

    /// `self << bits`.
    pub fn shl(&self, bits: u64) -> BigUint {
        if self.is_zero() {
            return BigUint::default();
        }
        let (limbs, rest) = ((bits / 32) as usize, (bits % 32) as u32);
        let mut out = vec![0u32; limbs];
        out.reserve(self.limbs.len() + 1);
        let mut carry = 0u32;
        for &limb in &self.limbs {
            if rest == 0 {
                out.push(limb);
            } else {
                out.push((limb << rest) | carry);
                carry = limb >> (32 - rest);
            }
        }
        out.push(carry);
        let mut big = BigUint { limbs: out };
        big.trim();
        big
    }

    /// `self + other`.
    pub fn add(&self, other: &BigUint) -> BigUint {
        let len = self.limbs.len().max(other.limbs.len());
        let mut out = Vec::with_capacity(len + 1);
        let mut carry = 0u64;
        for i in 0..len {
            let a = u64::from(self.limbs.get(i).copied().unwrap_or(0));
            let b = u64::from(other.limbs.get(i).copied().unwrap_or(0));
            let sum = a + b + carry;
            out.push(sum as u32);
            carry = sum >> 32;
        }
        out.push(carry as u32);
        let mut big = BigUint { limbs: out };
        big.trim();
        big
    }

    /// `self - other`; `other` must not be larger.
    pub fn sub_assign(&mut self, other: &BigUint) {
        let mut borrow = 0i64;
        for i in 0..self.limbs.len() {
            let b = i64::from(other.limbs.get(i).copied().unwrap_or(0));
            let mut diff = i64::from(self.limbs[i]) - b - borrow;
            borrow = i64::from(diff < 0);
            if diff < 0 {
                diff += 1 << 32;
            }
            self.limbs[i] = diff as u32;
        }
        debug_assert_eq!(borrow, 0, "sub_assign of a larger number");
        self.trim();
    }

    /// `floor(self / divisor)` when that is under `2^quotient_bits`, and
    /// whether the division left a remainder.
    pub fn div_small_quotient(&self, divisor: &BigUint, quotient_bits: u32) -> (u128, bool) {
        let mut rest = self.clone();
        let mut quotient = 0u128;
        for bit in (0..quotient_bits).rev() {
            let shifted = divisor.shl(u64::from(bit));
            if rest >= shifted {
                rest.sub_assign(&shifted);
                quotient |= 1 << bit;
            }
        }
        (quotient, !rest.is_zero())
    }

    /// Decimal digits (`"0"` for zero).
    pub fn to_decimal(&self) -> String {
        const BILLION: u64 = 1_000_000_000;
        let mut limbs = self.limbs.clone();
        let mut chunks = Vec::new();
        while !limbs.is_empty() {
            let mut rest = 0u64;
            for limb in limbs.iter_mut().rev() {
                let value = (rest << 32) | u64::from(*limb);
                *limb = (value / BILLION) as u32;
                rest = value % BILLION;
            }
            chunks.push(rest as u32);
            while limbs.last() == Some(&0) {
                limbs.pop();
            }
        }
        let mut text = chunks.pop().unwrap_or(0).to_string();
        for chunk in chunks.iter().rev() {
            text.push_str(&format!("{chunk:09}"));
        }
        text
    }
}

impl PartialOrd for BigUint {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for BigUint {
    fn cmp(&self, other: &Self) -> Ordering {
        self.limbs
            .len()
            .cmp(&other.limbs.len())
            .then_with(|| self.limbs.iter().rev().cmp(other.limbs.iter().rev()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_matches_u128() {
        let a = BigUint::from_u64(0xdead_beef_1234_5678);
        assert_eq!(a.bit_len(), 64);
        assert_eq!(a.shl(70).bits_from(70), 0xdead_beef_1234_5678);
        let sum = a.add(&BigUint::from_u64(u64::MAX));
        assert_eq!(
            sum.to_decimal(),
            (0xdead_beef_1234_5678u128 + u128::from(u64::MAX)).to_string()
        );
        let mut diff = sum.clone();
        diff.sub_assign(&a);
        assert_eq!(diff, BigUint::from_u64(u64::MAX));
        let mut power = BigUint::from_u64(3);
        power.mul_pow5(27);
        assert_eq!(power.to_decimal(), (3 * 5u128.pow(27)).to_string());
        assert_eq!(
            BigUint::from_u128(u128::MAX).to_decimal(),
            u128::MAX.to_string()
        );
        let mut n = BigUint::from_u64(12);
        n.mul_add_small(10, 7);
        assert_eq!(n.to_decimal(), "127");
        assert_eq!(BigUint::default().to_decimal(), "0");
        assert_eq!(
            BigUint::from_u64(1).shl(100).to_decimal(),
            (1u128 << 100).to_string()
        );
    }

    #[test]
    fn division_gives_the_quotient_bits_and_a_remainder_flag() {
        let n = BigUint::from_u64(1000).shl(40);
        let (q, rest) = n.div_small_quotient(&BigUint::from_u64(7), 60);
        assert_eq!(q, (1000u128 << 40) / 7);
        assert!(rest);
        let (q, rest) = n.div_small_quotient(&BigUint::from_u64(8), 60);
        assert_eq!(q, 1000u128 << 37);
        assert!(!rest);
    }

    #[test]
    fn low_bits_are_seen() {
        let n = BigUint::from_u64(0b1000).shl(64);
        assert!(!n.any_below(67));
        assert!(n.any_below(68));
        assert!(n.bit(67));
        assert!(!n.bit(1000));
    }
}
