//! The RESP request parser: from the bytes at the start of a read buffer to
//! one request's argument vector, answered exactly as Redis 7's
//! `processInputBuffer` would answer it.
//!
//! A buffer starting with `*` is a multibulk request ([`multibulk`]);
//! anything else is an inline request, one line split into arguments
//! ([`inline`]). [`number`] reads counts and lengths with Redis's
//! `string2ll` rules. The parser must not do I/O, keep state between
//! calls, or know any command.
//!
//! Redis looks for the end of a line with C's `strchr`, which stops at a
//! NUL byte: a NUL before the end of a line hides that end, and the line
//! never finishes until it is too big. This parser reproduces that.
//!
//! Deliberate differences from Redis 7, none of which a well-behaved client
//! can see:
//! - a line counts as too big when its end is not within
//!   [`Limits::inline_max`] bytes, however the bytes arrived. Redis checks
//!   only when it has no end in its buffer, so a long line that arrives in
//!   one read may pass; reading 16 KiB at a time, as it does, it too fails
//!   any line longer than the limit;
//! - the multibulk count is capped by [`Limits::max_multibulk_len`]
//!   (1 Mi by default, as Redis 6) rather than `i32::MAX`.

mod inline;
mod multibulk;
mod number;
#[cfg(test)]
mod tests;

use memchr::memchr2;

use super::{Args, Limits, Parsed};

/// Parses the request at the start of `buf`, recording its arguments in
/// `args` (which the returned [`Argv`](super::Argv) then reads).
///
/// Returns [`Parsed::Incomplete`] for every proper prefix of a request, and
/// a result that depends only on the bytes it consumed (or, for an error,
/// on the bytes up to the error). Allocates only to grow `args`; never
/// panics; `consumed` never exceeds `buf.len()`.
pub fn parse<'a>(buf: &'a [u8], limits: &Limits, args: &'a mut Args) -> Parsed<'a> {
    match buf.first() {
        None => Parsed::Incomplete { needed: 1 },
        Some(b'*') => multibulk::parse(buf, limits, args),
        Some(_) => inline::parse(buf, limits, args),
    }
}

/// Where a line ends, as Redis finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineEnd {
    /// At this index of the buffer (the terminator's own position).
    At(usize),
    /// Not yet: the buffer must grow.
    Incomplete,
    /// Not within the limit: a "too big" error.
    TooLong,
}

/// Finds `terminator` in the line starting at `start`, the way Redis's
/// `strchr` does (a NUL byte first hides it), within `max + 1` bytes: a
/// line whose end is further away than `max` bytes is too long once more
/// than `max` bytes of it are buffered.
fn line_end(buf: &[u8], start: usize, terminator: u8, max: usize) -> LineEnd {
    let rest = buf.get(start..).unwrap_or_default();
    let window = &rest[..rest.len().min(max.saturating_add(1))];
    // Count and length lines are a few bytes long: a plain scan of the
    // first bytes beats memchr's set-up.
    let head = &window[..window.len().min(SHORT_LINE)];
    let found = match head.iter().position(|&b| b == terminator || b == 0) {
        Some(at) => Some(at),
        None => memchr2(terminator, 0, &window[head.len()..]).map(|at| head.len() + at),
    };
    match found {
        Some(at) if window[at] == terminator => LineEnd::At(start + at),
        _ if rest.len() > max => LineEnd::TooLong,
        _ => LineEnd::Incomplete,
    }
}

/// How many bytes [`line_end`] scans itself before it calls memchr.
const SHORT_LINE: usize = 16;
