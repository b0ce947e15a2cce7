//! Inline requests: one line, ended by `\n` (a `\r` before it is dropped),
//! split into arguments as Redis's `sdssplitargs` splits it.
//!
//! - Arguments are separated by whitespace (C's `isspace`: space, `\t`,
//!   `\n`, `\v`, `\f`, `\r`). Oddly, only space, `\t`, `\n` and `\r` end an
//!   unquoted argument: `\v` and `\f` are skipped between arguments but kept
//!   inside one (`a\vb` is one argument).
//! - `"double quotes"` take the escapes `\n`, `\r`, `\t`, `\b`, `\a`,
//!   `\xHH` (two hex digits); a backslash before any other byte stands for
//!   that byte (`\"`, `\\`, `\q` is `q`).
//! - `'single quotes'` take only `\'`; any other backslash is itself.
//! - A quote may open in the middle of an argument (`ab"c d"` is `abc d`),
//!   but a closing quote must be followed by whitespace or the end of the
//!   line, and every quote must close: otherwise the request has
//!   unbalanced quotes.
//!
//! A line without any quote is split into ranges of the buffer; a line
//! with one is decoded into the [`Args`] arena, every argument of it.

use memchr::memchr2;

use super::{line_end, LineEnd};
use crate::protocol::resp::{Args, Limits, Parsed, ProtocolError};

/// Parses the inline request at the start of `buf`.
pub(super) fn parse<'a>(buf: &'a [u8], limits: &Limits, args: &'a mut Args) -> Parsed<'a> {
    let newline = match line_end(buf, 0, b'\n', limits.inline_max) {
        LineEnd::At(newline) => newline,
        LineEnd::Incomplete => return Parsed::Incomplete { needed: 1 },
        LineEnd::TooLong => return Parsed::Error(ProtocolError::TooBigInline),
    };
    let line = match &buf[..newline] {
        [text @ .., b'\r'] => text,
        text => text,
    };
    if split(line, args).is_err() {
        return Parsed::Error(ProtocolError::UnbalancedQuotes);
    }
    let consumed = newline + 1;
    if args.len() == 0 {
        return Parsed::Skip { consumed };
    }
    Parsed::Command {
        argv: args.view(buf),
        consumed,
    }
}

/// A line whose quotes do not balance.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Unbalanced;

/// Splits `line` (the start of the read buffer) into `args`.
pub(super) fn split(line: &[u8], args: &mut Args) -> Result<(), Unbalanced> {
    if memchr2(b'"', b'\'', line).is_none() {
        split_plain(line, args);
        Ok(())
    } else {
        decode(line, args)
    }
}

/// `isspace` in the C locale: what separates arguments.
fn is_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// What ends an unquoted argument (`\v` and `\f` do not).
fn ends_argument(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r')
}

/// Splits a line without quotes into ranges of it.
pub(super) fn split_plain(line: &[u8], args: &mut Args) {
    args.start_in_buffer();
    let mut i = 0;
    loop {
        while i < line.len() && is_space(line[i]) {
            i += 1;
        }
        if i == line.len() {
            return;
        }
        let start = i;
        while i < line.len() && !ends_argument(line[i]) {
            i += 1;
        }
        args.push(start..i);
    }
}

/// Where the scanner is inside an argument.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Quoting {
    None,
    Double,
    Single,
}

/// Splits any line, decoding every argument into the arena: the general
/// form of [`split_plain`], which gives the same arguments for lines it can
/// split.
pub(super) fn decode(line: &[u8], args: &mut Args) -> Result<(), Unbalanced> {
    args.start_decoded();
    let at = |i: usize| line.get(i).copied();
    let mut i = 0;
    loop {
        while at(i).is_some_and(is_space) {
            i += 1;
        }
        if i == line.len() {
            return Ok(());
        }
        let start = args.decoded_len();
        let mut quoting = Quoting::None;
        loop {
            let Some(byte) = at(i) else {
                // The line ended: fine between arguments, not in quotes.
                if quoting != Quoting::None {
                    return Err(Unbalanced);
                }
                break;
            };
            match quoting {
                Quoting::None => {
                    i += 1;
                    match byte {
                        b'"' => quoting = Quoting::Double,
                        b'\'' => quoting = Quoting::Single,
                        _ if ends_argument(byte) => break,
                        _ => args.decoded().push(byte),
                    }
                }
                Quoting::Double => match (byte, at(i + 1), hex_pair(at(i + 2), at(i + 3))) {
                    (b'\\', Some(b'x'), Some(value)) => {
                        args.decoded().push(value);
                        i += 4;
                    }
                    (b'\\', Some(escaped), _) => {
                        args.decoded().push(unescape(escaped));
                        i += 2;
                    }
                    (b'"', next, _) => {
                        closing_quote(next)?;
                        i += 1;
                        break;
                    }
                    _ => {
                        args.decoded().push(byte);
                        i += 1;
                    }
                },
                Quoting::Single => match (byte, at(i + 1)) {
                    (b'\\', Some(b'\'')) => {
                        args.decoded().push(b'\'');
                        i += 2;
                    }
                    (b'\'', next) => {
                        closing_quote(next)?;
                        i += 1;
                        break;
                    }
                    _ => {
                        args.decoded().push(byte);
                        i += 1;
                    }
                },
            }
        }
        let end = args.decoded_len();
        args.push(start..end);
    }
}

/// A closing quote must be followed by whitespace or the end of the line.
fn closing_quote(next: Option<u8>) -> Result<(), Unbalanced> {
    match next {
        Some(byte) if !is_space(byte) => Err(Unbalanced),
        _ => Ok(()),
    }
}

/// The byte a backslash escape stands for inside double quotes.
fn unescape(escaped: u8) -> u8 {
    match escaped {
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'b' => 0x08,
        b'a' => 0x07,
        other => other,
    }
}

/// The byte two hex digits spell (`\xHH`), either case.
fn hex_pair(high: Option<u8>, low: Option<u8>) -> Option<u8> {
    let digit = |byte: Option<u8>| char::from(byte?).to_digit(16);
    Some((digit(high)? * 16 + digit(low)?) as u8)
}
