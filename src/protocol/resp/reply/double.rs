//! Doubles as text, the way Redis 7.2+ writes them in replies (`d2string`):
//! `nan`, `inf`, `-inf`, `0`, `-0`; an integral value within ±2^62 as an
//! integer (`3`, not `3.0`); anything else with the shortest digits that
//! read back as the same double, laid out as Redis's `fpconv_dtoa` lays
//! them out: plainly while that is short (`0.001`, `123.456`,
//! `12345678901234567000`), otherwise in scientific notation with a signed,
//! unpadded exponent (`1e-7`, `1.5e+300`).
//!
//! The digits come from Rust's float formatting, which is exactly shortest.
//! Redis's Grisu2 is shortest almost always (on 600 000 values, random bit
//! patterns among them, both gave the same text), but Grisu2 is known to
//! give a longer digit string for a few rare values. Redis 7.0 printed
//! `%.17g` instead (`0.10000000000000001`); this follows 7.2 and later.

use std::fmt::Write as _;

/// Longest text: a sign, 17 digits, a point and up to six zeros.
const CAPACITY: usize = 32;

/// A stack buffer for one formatted double.
pub(super) struct Text {
    bytes: [u8; CAPACITY],
    len: usize,
}

impl std::fmt::Write for Text {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let slot = self.bytes.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl Text {
    pub(super) fn new() -> Self {
        Text {
            bytes: [0; CAPACITY],
            len: 0,
        }
    }

    fn push(&mut self, bytes: &[u8]) {
        let end = (self.len + bytes.len()).min(CAPACITY);
        let n = end - self.len;
        self.bytes[self.len..end].copy_from_slice(&bytes[..n]);
        self.len = end;
    }

    /// Formats `value` (replacing what was there) and returns the text.
    pub(super) fn format(&mut self, value: f64) -> &[u8] {
        self.len = 0;
        if value.is_nan() {
            self.push(b"nan");
        } else if value.is_infinite() {
            self.push(if value < 0.0 { b"-inf" } else { b"inf" });
        } else if value == 0.0 {
            self.push(if value.is_sign_negative() {
                b"-0"
            } else {
                b"0"
            });
        } else if let Some(integer) = as_integer(value) {
            self.push(itoa::Buffer::new().format(integer).as_bytes());
        } else {
            self.decimal(value);
        }
        &self.bytes[..self.len]
    }

    /// A finite, non-zero, non-integral (or huge) value, as `fpconv_dtoa`.
    fn decimal(&mut self, value: f64) {
        // `{:e}` gives the shortest digits: `-1.2345e-7`.
        let mut scientific = Text::new();
        if write!(scientific, "{:e}", value.abs()).is_err() {
            return;
        }
        let text = &scientific.bytes[..scientific.len];
        let e = text.iter().position(|&b| b == b'e').unwrap_or(text.len());
        let exponent: i32 = std::str::from_utf8(&text[e + 1..])
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let mut digits = [0u8; CAPACITY];
        let mut count = 0;
        for &b in text[..e].iter().filter(|b| b.is_ascii_digit()) {
            digits[count] = b;
            count += 1;
        }
        let digits = &digits[..count];
        let count = count as i32;
        // value = digits × 10^k
        let k = exponent - (count - 1);

        if value < 0.0 {
            self.push(b"-");
        }
        if k >= 0 && exponent.abs() < count + 7 {
            self.push(digits);
            for _ in 0..k {
                self.push(b"0");
            }
        } else if k < 0 && (k > -7 || exponent.abs() < 4) {
            let point = count + k;
            if point <= 0 {
                self.push(b"0.");
                for _ in 0..-point {
                    self.push(b"0");
                }
                self.push(digits);
            } else {
                let (whole, fraction) = digits.split_at(point as usize);
                self.push(whole);
                self.push(b".");
                self.push(fraction);
            }
        } else {
            self.push(&digits[..1]);
            if digits.len() > 1 {
                self.push(b".");
                self.push(&digits[1..]);
            }
            self.push(if exponent < 0 { b"e-" } else { b"e+" });
            self.push(
                itoa::Buffer::new()
                    .format(exponent.unsigned_abs())
                    .as_bytes(),
            );
        }
    }
}

/// `value` as an integer when Redis prints it as one (`double2ll`): it is
/// integral and within ±2^62 (`LLONG_MAX / 2` as a double).
fn as_integer(value: f64) -> Option<i64> {
    const BOUND: f64 = (i64::MAX / 2) as f64;
    if !(-BOUND..=BOUND).contains(&value) {
        return None;
    }
    let integer = value as i64;
    (integer as f64 == value).then_some(integer)
}

/// Appends `value` as Redis's `d2string` writes it (see the module doc).
pub fn double_text(out: &mut Vec<u8>, value: f64) {
    out.extend_from_slice(Text::new().format(value));
}
