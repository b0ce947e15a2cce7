//! The x87 80-bit `long double` that Redis's INCRBYFLOAT computes in on
//! x86-64 Linux, emulated exactly: reading text as `strtold` does (through
//! `string2ld`), adding with the FPU's round-to-nearest-even at 64 bits of
//! mantissa, and writing as `ld2string(LD_STR_HUMAN)` does (`%.17Lf`, then
//! trailing zeros and the point cut, `-0` written `0`).
//!
//! Rust has no `long double`, and `f64` is not close enough: `10.5 + 0.1`
//! in `f64` prints as `10.59999999999999964` under `%.17f`, where Redis
//! prints `10.6`. (Redis built where `long double` is `f64`, as on ARM
//! macOS, does print the longer text; this follows x86-64 Linux.)

use super::big_uint::BigUint;

/// The exponent of a mantissa unit for denormals and the smallest normals.
const MIN_EXP: i64 = -16445;
/// The largest exponent of a mantissa unit (values stay under 2^16384).
const MAX_EXP: i64 = 16320;
/// `string2ld` refuses text of `MAX_LONG_DOUBLE_CHARS` (5 KiB) or more.
const MAX_TEXT: usize = 5 * 1024;

/// A finite long double: ±`mantissa` × 2^`exponent`, normal when the
/// mantissa's top bit is set, else denormal (or zero) with the smallest
/// exponent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LongDouble {
    negative: bool,
    mantissa: u64,
    exponent: i64,
}

/// What a text reads as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Number {
    Finite(LongDouble),
    /// `inf`, `-inf`, `infinity`: valid text, but no sum is finite.
    Infinite,
}

impl LongDouble {
    /// Zero (what a missing key counts as).
    pub const ZERO: LongDouble = LongDouble {
        negative: false,
        mantissa: 0,
        exponent: MIN_EXP,
    };

    /// `self + other`, rounded; `None` when the sum overflows.
    pub fn add(self, other: LongDouble) -> Option<LongDouble> {
        if other.mantissa == 0 {
            return Some(self);
        }
        if self.mantissa == 0 {
            return Some(other);
        }
        let (big, small) = if self.exponent >= other.exponent {
            (self, other)
        } else {
            (other, self)
        };
        let gap = big.exponent - small.exponent;
        if gap > 130 {
            // `big` is normal and `small` under 2^-66 of it: far below half
            // a unit of any sum, so the sum rounds back to `big`.
            return Some(big);
        }
        let wide = BigUint::from_u64(big.mantissa).shl(gap as u64);
        let narrow = BigUint::from_u64(small.mantissa);
        let (negative, magnitude) = if big.negative == small.negative {
            (big.negative, wide.add(&narrow))
        } else if wide >= narrow {
            let mut difference = wide;
            difference.sub_assign(&narrow);
            (big.negative, difference)
        } else {
            let mut difference = narrow;
            difference.sub_assign(&wide);
            (small.negative, difference)
        };
        round(negative, &magnitude, small.exponent, false)
    }

    /// The nearest `f64` (0 for what is too small for one, an infinity
    /// for what is too large).
    pub fn to_f64(self) -> f64 {
        let scale = 2f64.powi(self.exponent.clamp(-2200, 2200) as i32);
        let magnitude = self.mantissa as f64 * scale;
        if self.negative {
            -magnitude
        } else {
            magnitude
        }
    }

    /// Whether this is more than zero.
    pub fn is_positive(self) -> bool {
        !self.negative && self.mantissa != 0
    }

    /// The text Redis stores and replies: `%.17Lf` without trailing zeros
    /// (`10.6`, `5000`, `0.30000000000000001`, `0`).
    pub fn to_human(self) -> String {
        let (integer, fraction) = if self.exponent >= 0 {
            let integer = BigUint::from_u64(self.mantissa).shl(self.exponent as u64);
            (integer.to_decimal(), 0)
        } else {
            let (integer, fraction) = fixed17(self.mantissa, -self.exponent as u64);
            (integer.to_string(), fraction)
        };
        let mut text = String::with_capacity(integer.len() + 20);
        if self.negative {
            text.push('-');
        }
        text.push_str(&integer);
        if fraction != 0 {
            let digits = format!(".{fraction:017}");
            text.push_str(digits.trim_end_matches('0'));
        }
        if text == "-0" {
            text.remove(0);
        }
        text
    }
}

/// `mantissa / 2^shift` as an integer part and 17 decimals, rounded to
/// nearest, ties to even (as glibc's printf rounds).
fn fixed17(mantissa: u64, shift: u64) -> (u128, u64) {
    const SCALE: u128 = 100_000_000_000_000_000;
    let (integer, fraction) = if shift < 64 {
        (mantissa >> shift, mantissa & ((1u64 << shift) - 1))
    } else {
        (0, mantissa)
    };
    let mut integer = u128::from(integer);
    // fraction × 10^17 < 2^121: beyond a shift of 127 it is under half.
    let mut decimals = 0;
    if shift <= 127 {
        let scaled = u128::from(fraction) * SCALE;
        let rest = scaled & ((1u128 << shift) - 1);
        let half = 1u128 << (shift - 1);
        decimals = scaled >> shift;
        if rest > half || (rest == half && decimals & 1 == 1) {
            decimals += 1;
        }
    }
    if decimals == SCALE {
        integer += 1;
        decimals = 0;
    }
    (integer, decimals as u64)
}

/// Rounds ±`magnitude` × 2^`exponent` (plus a nonzero amount below its
/// last bit when `sticky`) to the nearest long double, ties to even;
/// `None` on overflow. A `sticky` magnitude must have at least 66 bits.
fn round(negative: bool, magnitude: &BigUint, exponent: i64, sticky: bool) -> Option<LongDouble> {
    let len = magnitude.bit_len() as i64;
    if len == 0 {
        return Some(LongDouble {
            negative,
            ..LongDouble::ZERO
        });
    }
    let mut target = (exponent + len - 64).max(MIN_EXP);
    let shift = target - exponent;
    let mantissa = if shift <= 0 {
        debug_assert!(!sticky, "a sticky magnitude is wide enough to shift right");
        magnitude.bits_from(0) << -shift
    } else {
        let kept = magnitude.bits_from(shift as u64);
        let half = magnitude.bit(shift as u64 - 1);
        let rest = sticky || magnitude.any_below(shift as u64 - 1);
        if half && (rest || kept & 1 == 1) {
            match kept.checked_add(1) {
                Some(up) => up,
                None => {
                    target += 1;
                    1 << 63
                }
            }
        } else {
            kept
        }
    };
    if mantissa == 0 {
        target = MIN_EXP;
    }
    (target <= MAX_EXP).then_some(LongDouble {
        negative,
        mantissa,
        exponent: target,
    })
}

/// Reads `text` as `string2ld`: the whole text must be one `strtold`
/// number (no spaces; decimal or `0x` hex, `inf`/`infinity`); NaN, an
/// overflow and an underflow to zero are refused, as is text of 5 KiB or
/// more. `None` when it is not a valid float.
pub fn parse(text: &[u8]) -> Option<Number> {
    if text.is_empty() || text.len() >= MAX_TEXT {
        return None;
    }
    let (negative, unsigned) = match text[0] {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if unsigned.eq_ignore_ascii_case(b"inf") || unsigned.eq_ignore_ascii_case(b"infinity") {
        return Some(Number::Infinite);
    }
    let exact = match unsigned {
        [b'0', x, hex @ ..] if x.eq_ignore_ascii_case(&b'x') => parse_hex(hex)?,
        _ => parse_decimal(unsigned)?,
    };
    let value = exact.to_long_double(negative)?;
    if value.mantissa == 0 && !exact.digits.is_zero() {
        return None;
    }
    Some(Number::Finite(value))
}

/// A number as read: `digits` × `radix`^`exponent`.
struct Exact {
    digits: BigUint,
    exponent: i64,
    /// 10 or 2.
    radix: u32,
}

impl Exact {
    /// Rounded to a long double; `None` on overflow.
    fn to_long_double(&self, negative: bool) -> Option<LongDouble> {
        let bits = self.digits.bit_len() as i64;
        if bits == 0 {
            return Some(LongDouble {
                negative,
                ..LongDouble::ZERO
            });
        }
        if self.radix == 2 {
            return match bits + self.exponent {
                m if m > 16385 => None,
                m if m < MIN_EXP - 2 => Some(LongDouble::ZERO),
                _ => round(negative, &self.digits, self.exponent, false),
            };
        }
        // Below 2^bits × 10^exponent, at least 2^(bits-1) × 10^exponent.
        let upper = (bits as f64) * std::f64::consts::LOG10_2 + self.exponent as f64;
        if upper > 4934.0 {
            return None;
        }
        if upper < -4955.0 {
            return Some(LongDouble::ZERO);
        }
        if self.exponent >= 0 {
            let mut magnitude = self.digits.clone();
            magnitude.mul_pow5(self.exponent as u32);
            return round(negative, &magnitude, self.exponent, false);
        }
        // digits / 10^k = digits / 5^k × 2^-k: 68 or so quotient bits.
        let k = -self.exponent;
        let mut five_k = BigUint::from_u64(1);
        five_k.mul_pow5(k as u32);
        let scale = 67 + five_k.bit_len() as i64 - bits;
        let (numerator, denominator) = if scale >= 0 {
            (self.digits.shl(scale as u64), five_k)
        } else {
            (self.digits.clone(), five_k.shl(-scale as u64))
        };
        let (quotient, rest) = numerator.div_small_quotient(&denominator, 70);
        round(negative, &BigUint::from_u128(quotient), -scale - k, rest)
    }
}

/// Decimal text: digits with at most one point (at least one digit), then
/// `e`/`E`, an optional sign and digits.
fn parse_decimal(text: &[u8]) -> Option<Exact> {
    parse_scaled(text, 10, 1, b'e', 10)
}

/// Hex text after `0x`: hex digits with at most one point, then an
/// optional `p`/`P` binary exponent.
fn parse_hex(text: &[u8]) -> Option<Exact> {
    parse_scaled(text, 16, 4, b'p', 2)
}

/// Digits of `digit_radix` with at most one point, then an optional
/// exponent after `marker` (any case): the value as digits times `radix`
/// to a power, each place after the point counting `place_power` of it.
fn parse_scaled(
    text: &[u8],
    digit_radix: u32,
    place_power: i64,
    marker: u8,
    radix: u32,
) -> Option<Exact> {
    let (digits, places, rest) = mantissa_digits(text, digit_radix)?;
    let mut exponent = places.saturating_mul(place_power);
    let rest = match rest {
        [] => rest,
        [m, tail @ ..] if m.eq_ignore_ascii_case(&marker) => {
            let (power, rest) = exponent_digits(tail)?;
            exponent = exponent.saturating_add(power);
            rest
        }
        _ => rest,
    };
    rest.is_empty().then_some(Exact {
        digits,
        exponent,
        radix,
    })
}

/// Digits of `radix` with at most one point: their value, minus the number
/// of digits after the point, and what follows them.
fn mantissa_digits(text: &[u8], radix: u32) -> Option<(BigUint, i64, &[u8])> {
    let mut digits = BigUint::default();
    let (mut seen, mut point, mut places) = (false, false, 0i64);
    let mut used = 0;
    for &byte in text {
        if byte == b'.' && !point {
            point = true;
        } else if let Some(digit) = char::from(byte).to_digit(radix) {
            seen = true;
            if digit != 0 || !digits.is_zero() {
                digits.mul_add_small(radix, digit);
            }
            places -= i64::from(point);
        } else {
            break;
        }
        used += 1;
    }
    seen.then_some((digits, places, &text[used..]))
}

/// An exponent's optional sign and decimal digits (at least one), the
/// value saturated far beyond any long double's range.
fn exponent_digits(text: &[u8]) -> Option<(i64, &[u8])> {
    let (negative, unsigned) = match text {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, text),
    };
    let count = unsigned.iter().take_while(|b| b.is_ascii_digit()).count();
    if count == 0 {
        return None;
    }
    let value = unsigned[..count].iter().fold(0i64, |acc, &digit| {
        (acc * 10 + i64::from(digit - b'0')).min(1_000_000_000)
    });
    Some((if negative { -value } else { value }, &unsigned[count..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finite(text: &str) -> LongDouble {
        match parse(text.as_bytes()) {
            Some(Number::Finite(value)) => value,
            other => panic!("{text}: {other:?}"),
        }
    }

    fn sum(a: &str, b: &str) -> String {
        finite(a).add(finite(b)).expect("finite sum").to_human()
    }

    // Every expected text below is what redis-server 7.0.15 (x86-64 Linux)
    // replied to INCRBYFLOAT.
    #[test]
    fn sums_print_as_redis_prints_them() {
        assert_eq!(sum("10.50", "0.1"), "10.6");
        assert_eq!(sum("10.6", "-5"), "5.6");
        assert_eq!(sum("5.6", "5.0e3"), "5005.60000000000000009");
        assert_eq!(sum("0.1", "0.2"), "0.3");
        assert_eq!(sum("1.1", "2.2"), "3.3");
        assert_eq!(sum("0", "3.0000000000000001"), "3.0000000000000001");
        assert_eq!(sum("0", "0.1234567890123456789"), "0.12345678901234568");
        assert_eq!(sum("0", "-123.456"), "-123.456");
        assert_eq!(sum("0", "1E2"), "100");
        assert_eq!(sum("0", "0x10"), "16");
        assert_eq!(sum("0", "0x.8"), "0.5");
        assert_eq!(sum("0", "0xAbC.dp+2"), "10995.25");
        assert_eq!(sum("0", "0x1p-3"), "0.125");
        assert_eq!(sum("0", ".5"), "0.5");
        assert_eq!(sum("0", "5."), "5");
        assert_eq!(sum("0", "+3"), "3");
        assert_eq!(sum("0", "00012.5000"), "12.5");
        assert_eq!(sum("5", "-5"), "0");
        assert_eq!(sum("0", "-0.0"), "0");
        assert_eq!(sum("0", "1e-20"), "0");
        assert_eq!(sum("0", "-1e-20"), "0");
        assert_eq!(sum("0", "-0.000000000000000005"), "0");
        assert_eq!(sum("0", "0.5e-17"), "0");
        assert_eq!(sum("0", "1.5e-17"), "0.00000000000000002");
        assert_eq!(sum("0", "2.5e-17"), "0.00000000000000002");
        assert_eq!(sum("0", "0.000003814697265625"), "0.00000381469726562");
        assert_eq!(sum("0", "0.000011444091796875"), "0.00001144409179688");
        assert_eq!(sum("0", "9223372036854775807"), "9223372036854775807");
        assert_eq!(sum("0", "18446744073709551615"), "18446744073709551615");
        assert_eq!(sum("0", "18446744073709551617"), "18446744073709551616");
        assert_eq!(
            sum("0", "123456789012345678901234567890"),
            "123456789012345678899921813504"
        );
        assert_eq!(sum("0", "3.6e-4951"), "0");
        assert_eq!(sum("0", "1e-4940"), "0");
    }

    #[test]
    fn huge_values_print_every_integer_digit() {
        let text = sum("0", "1e300");
        assert_eq!(text.len(), 301);
        assert!(text.starts_with("10000000000000000000089973240795591938705"));
        assert!(text.ends_with("5104006144"));
        let doubled = sum(
            "179769313486231569995921046774104434048386446944329178485314420765176628523124396354701868608387085564428793419425520689308708363451136055357897278026477617073498977686288394835618163294045594434929537447290627480669417384648879122776218333598953852832103282504751611691208117720159985926376802466863339536384",
            "1.7976931348623157e308",
        );
        assert!(doubled.starts_with("3595386269724631399918420935482088680967"));
        assert!(doubled.ends_with("933726679072768"));
        let largest = sum("0", "1.18973149535723176502e+4932");
        assert_eq!(largest.len(), 4933);
        assert!(largest.starts_with("1189731495357231765021263853030970205169"));
        assert!(largest.ends_with("52086811989770240"));
    }

    #[test]
    fn text_is_read_as_string2ld_reads_it() {
        for bad in [
            "",
            " 1",
            "1 ",
            "abc",
            "nan",
            "-nan",
            "1e",
            "1e+",
            "0x",
            "0x1p",
            ".",
            "e5",
            "infinit",
            "1.2.3",
            "1e5000",
            "1.19e4932",
            "1.18973149535723176508e+4932",
            "1e-4952",
            "1e-5000",
            "1e-99999999999999999999",
            "1\0",
        ] {
            assert_eq!(parse(bad.as_bytes()), None, "{bad:?}");
        }
        for infinite in ["inf", "-inf", "INFINITY", "+Inf"] {
            assert_eq!(parse(infinite.as_bytes()), Some(Number::Infinite));
        }
        assert_eq!(parse(&[b'1'; MAX_TEXT]), None, "5 KiB of digits");
        assert_eq!(finite("0e999999999999999999999"), LongDouble::ZERO);
    }

    #[test]
    fn sums_past_the_largest_value_overflow() {
        let largest = finite("1.18973149535723176502e+4932");
        assert_eq!(largest.add(largest), None);
        assert_eq!(largest.add(finite("1")), Some(largest));
        let negative = finite("-1.18973149535723176502e+4932");
        assert_eq!(
            largest.add(negative).map(LongDouble::to_human),
            Some("0".into())
        );
    }
}
