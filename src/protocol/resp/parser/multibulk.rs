//! Multibulk requests: `*<count>\r\n` then, per argument,
//! `$<length>\r\n<bytes>\r\n`, checked as Redis's `processMultibulkBuffer`
//! checks them, in the same order.
//!
//! Redis's framing is looser than the protocol's description, and so is
//! this parser's, because clients that work with Redis must work here:
//! - a count or length line ends at its first `\r`, and the byte after the
//!   `\r` is skipped whatever it is (`*1\rX` is a count of 1);
//! - the two bytes after a bulk payload are skipped unread: Redis does not
//!   check that they are `\r\n`, and neither does this parser;
//! - a count of zero or below is a request without arguments, skipped.

use super::number::string2ll;
use super::{line_end, LineEnd};
use crate::protocol::resp::{Args, Limits, Parsed, ProtocolError};

/// Parses the multibulk request at the start of `buf` (which starts with
/// `*`).
pub(super) fn parse<'a>(buf: &'a [u8], limits: &Limits, args: &'a mut Args) -> Parsed<'a> {
    let (count, mut pos) = match number_line(buf, 0, limits, ProtocolError::TooBigMultibulkCount) {
        Ok(Line::Complete { number, next }) => (number, next),
        Ok(Line::Incomplete) => return Parsed::Incomplete { needed: 1 },
        Err(error) => return Parsed::Error(error),
    };
    // Redis 7 refuses counts above INT_MAX whatever the limit.
    let max_count = limits.max_multibulk_len.min(i32::MAX as u64);
    let count = match count {
        Some(count) if count <= 0 => return Parsed::Skip { consumed: pos },
        Some(count) if count as u64 <= max_count => count as u64,
        _ => return Parsed::Error(ProtocolError::InvalidMultibulkLength),
    };
    if limits.unauthenticated && count > Limits::UNAUTHENTICATED_MULTIBULK_MAX {
        return Parsed::Error(ProtocolError::UnauthenticatedMultibulkLength);
    }

    args.start_in_buffer();
    for _ in 0..count {
        let (len, payload) = match bulk_length(buf, pos, limits) {
            Ok(Line::Complete { number, next }) => (number, next),
            Ok(Line::Incomplete) => return Parsed::Incomplete { needed: 1 },
            Err(error) => return Parsed::Error(error),
        };
        // The payload and the two bytes after it.
        let available = buf.len() - payload;
        if available < len || available - len < 2 {
            return Parsed::Incomplete {
                needed: len.saturating_add(2) - available,
            };
        }
        args.push(payload..payload + len);
        pos = payload + len + 2;
    }
    Parsed::Command {
        argv: args.view(buf),
        consumed: pos,
    }
}

/// A count or length line.
enum Line<T> {
    /// The line's number (`None` when it is not one) and where the next
    /// line starts.
    Complete { number: T, next: usize },
    /// The line has not ended yet.
    Incomplete,
}

/// Reads the line at `start`, whose first byte is a `*` or `$` marker, up
/// to its `\r` and the byte after it. A line that does not end within the
/// limit is `too_big`.
fn number_line(
    buf: &[u8],
    start: usize,
    limits: &Limits,
    too_big: ProtocolError,
) -> Result<Line<Option<i64>>, ProtocolError> {
    match line_end(buf, start, b'\r', limits.inline_max) {
        LineEnd::At(cr) if cr + 1 < buf.len() => Ok(Line::Complete {
            number: buf.get(start + 1..cr).and_then(string2ll),
            next: cr + 2,
        }),
        LineEnd::At(_) | LineEnd::Incomplete => Ok(Line::Incomplete),
        LineEnd::TooLong => Err(too_big),
    }
}

/// Reads the `$<length>` line of an argument at `start`: the payload's
/// length and where it starts.
fn bulk_length(buf: &[u8], start: usize, limits: &Limits) -> Result<Line<usize>, ProtocolError> {
    let (len, next) = match number_line(buf, start, limits, ProtocolError::TooBigBulkCount)? {
        Line::Complete { number, next } => (number, next),
        Line::Incomplete => return Ok(Line::Incomplete),
    };
    // Only now, with the whole line there, does Redis look at its marker.
    if buf[start] != b'$' {
        return Err(ProtocolError::ExpectedDollar(buf[start]));
    }
    let len = len
        .and_then(|len| u64::try_from(len).ok())
        .filter(|&len| len <= limits.proto_max_bulk_len)
        .ok_or(ProtocolError::InvalidBulkLength)?;
    if limits.unauthenticated && len > Limits::UNAUTHENTICATED_BULK_MAX {
        return Err(ProtocolError::UnauthenticatedBulkLength);
    }
    let len = usize::try_from(len).map_err(|_| ProtocolError::InvalidBulkLength)?;
    Ok(Line::Complete { number: len, next })
}
