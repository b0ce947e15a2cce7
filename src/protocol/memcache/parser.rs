//! The memcached text-protocol parser: from the bytes at the start of a read
//! buffer to one typed [`Request`], answered exactly as memcached 1.6 would
//! answer it.
//!
//! It owns framing (where a command line ends, when a line is too long to
//! wait for, where a data block ends), tokenizing the way memcached's
//! `tokenize_command` does, and every check memcached makes before touching
//! its cache: token counts, key lengths, numbers, meta flags, item size.
//! It must not do I/O, allocate, copy a value, or decide anything that
//! depends on the store, the clock or the settings (other than [`Limits`]):
//! a request that memcached answers from its cache (`NOT_FOUND`, `EXISTS`,
//! non-numeric `incr`, …) is a well-formed [`Request`] here.
//!
//! This file frames the command line and dispatches on the command name;
//! [`classic`] parses the original commands, [`meta`] the meta commands and
//! [`number`] converts numeric tokens with memcached's exact rules.
//!
//! Keys are any bytes but the space that separates tokens, as memcached
//! accepts them: protocol.txt forbids control characters, but memcached does
//! not check, and clients rely on that (memaslap's keys start with bytes
//! `0x10`–`0x1f`).
//!
//! Deliberate differences from memcached 1.6, all on malformed input:
//! - a base64 meta key (`b` flag) must also be canonical base64 (see
//!   [`meta`]);
//! - a multi-get line longer than [`MAX_MULTIGET_LINE`] closes the
//!   connection;
//! - all checks of a request run before it executes: memcached notices some
//!   errors halfway (an over-long key late in a multi-get, a too-long opaque
//!   after `ma` has applied its delta) and has then already done part of the
//!   work;
//! - `lru_crawler`, `watch`, `lru`, `extstore`, `slabs` and `refresh_certs`
//!   are answered `ERROR` (corecache has no slabs, crawler or log stream).
//!
//! [`Request`]: super::Request

mod classic;
mod meta;
mod number;
#[cfg(test)]
mod tests;

use memchr::{memchr, memchr2};

use super::request::{ArithOp, GetKind, MetaCommand, Request, MAX_KEY_LEN};
use super::{Limits, Parsed, ProtocolError, MAX_MULTIGET_LINE, MAX_UNTERMINATED_LINE};

/// Parses the request at the start of `buf`.
///
/// Returns [`Parsed::Incomplete`] for every proper prefix of a request
/// (except an unterminated line that memcached would not wait for, which is
/// [`Parsed::Close`]); a storage command is complete only with its data block
/// and the `\r\n` after it. Never allocates and never panics; `consumed` never
/// exceeds `buf.len()`.
pub fn parse<'a>(buf: &'a [u8], limits: &Limits) -> Parsed<'a> {
    match frame(buf) {
        Frame::Line(line) => dispatch(line, limits),
        Frame::Incomplete => Parsed::Incomplete,
        Frame::Close => Parsed::Close,
    }
}

/// How many tokens memcached's `tokenize_command` reads from a line, the
/// terminal empty token included (`MAX_TOKENS`). Past 23 real tokens it stops:
/// multi-gets continue with the rest of the line, other commands see 24
/// tokens and fail their arity check.
const MAX_TOKENS: usize = 24;

/// Most leading spaces memcached skips when it looks for `get ` at the start
/// of an over-long unterminated line.
const MAX_MULTIGET_INDENT: usize = 100;

/// One command line, framed.
#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    /// The command text: no `\r\n`, and cut at the first NUL byte, where
    /// memcached's tokenizer (`strlen`) stops reading.
    text: &'a [u8],
    /// Bytes of the buffer up to and including the `\n`.
    len: usize,
    /// The bytes after the line (a storage command's data block).
    after: &'a [u8],
}

impl<'a> Line<'a> {
    /// The line is the whole request.
    fn request(self, request: Request<'a>) -> Parsed<'a> {
        Parsed::Request {
            request,
            consumed: self.len,
        }
    }

    /// The line is answered with `error`.
    fn error(self, error: ProtocolError, silent: bool) -> Parsed<'a> {
        self.error_swallowing(error, 0, silent)
    }

    /// The line is answered with `error` and the next `swallow` bytes are
    /// discarded (a data block memcached skips).
    fn error_swallowing(self, error: ProtocolError, swallow: usize, silent: bool) -> Parsed<'a> {
        Parsed::Error {
            error,
            consumed: self.len,
            swallow,
            silent,
        }
    }

    /// The line announces a data block of `len` bytes: the request built from
    /// it once the block and its `\r\n` have arrived. memcached reads exactly
    /// `len + 2` bytes and answers `bad data chunk` if the last two are not
    /// `\r\n`; the next command starts right after them.
    fn with_data_block(
        self,
        len: usize,
        silent: bool,
        build: impl FnOnce(&'a [u8]) -> Request<'a>,
    ) -> Parsed<'a> {
        let Some(block) = self.after.get(..len + 2) else {
            return Parsed::Incomplete;
        };
        let consumed = self.len + len + 2;
        match block.split_at(len) {
            (value, b"\r\n") => Parsed::Request {
                request: build(value),
                consumed,
            },
            _ => Parsed::Error {
                error: ProtocolError::BAD_DATA_CHUNK,
                consumed,
                swallow: 0,
                silent,
            },
        }
    }
}

/// What the start of a buffer holds.
enum Frame<'a> {
    Line(Line<'a>),
    Incomplete,
    Close,
}

/// Finds the first command line, as memcached's `try_read_command_ascii`.
fn frame(buf: &[u8]) -> Frame<'_> {
    let window = &buf[..buf.len().min(MAX_MULTIGET_LINE)];
    // One pass finds the newline, or first a NUL that ends the text early.
    let Some(stop) = memchr2(b'\n', 0, window) else {
        return unterminated(buf);
    };
    let (text, newline) = if window[stop] == b'\n' {
        let text = &buf[..stop];
        // memcached drops one '\r' before the '\n', unless it is the
        // line's only byte (then the line is "\r": still an unknown command).
        match text {
            [head @ .., b'\r'] if text.len() > 1 => (head, stop),
            _ => (text, stop),
        }
    } else {
        match memchr(b'\n', &window[stop..]) {
            Some(offset) => (&buf[..stop], stop + offset),
            None => return unterminated(buf),
        }
    };
    Frame::Line(Line {
        text,
        len: newline + 1,
        after: &buf[newline + 1..],
    })
}

/// memcached waits for the end of a line up to [`MAX_UNTERMINATED_LINE`]
/// bytes, and beyond that only for a multi-get (`get ` or `gets ` after at
/// most 100 spaces); anything else is junk and the connection is closed.
fn unterminated(buf: &[u8]) -> Frame<'_> {
    if buf.len() <= MAX_UNTERMINATED_LINE {
        return Frame::Incomplete;
    }
    let indent = buf.iter().take_while(|&&b| b == b' ').count();
    let rest = &buf[indent..];
    let multiget =
        indent <= MAX_MULTIGET_INDENT && (rest.starts_with(b"get ") || rest.starts_with(b"gets "));
    if multiget && buf.len() < MAX_MULTIGET_LINE {
        Frame::Incomplete
    } else {
        Frame::Close
    }
}

/// Routes a line by its command name, as memcached's `process_command_ascii`.
fn dispatch<'a>(line: Line<'a>, limits: &Limits) -> Parsed<'a> {
    let (name, args) = split_token(line.text);
    // No command is shorter than two bytes; this also covers an empty line.
    if name.len() < 2 {
        return line.error(ProtocolError::UnknownCommand, false);
    }
    match name {
        b"get" | b"bget" => classic::get(line, GetKind::Get, args),
        b"gets" => classic::get(line, GetKind::Gets, args),
        b"gat" => classic::get_and_touch(line, GetKind::Gat, args),
        b"gats" => classic::get_and_touch(line, GetKind::Gats, args),
        b"set" => classic::store(line, classic::Storage::Set, limits),
        b"add" => classic::store(line, classic::Storage::Add, limits),
        b"replace" => classic::store(line, classic::Storage::Replace, limits),
        b"append" => classic::store(line, classic::Storage::Append, limits),
        b"prepend" => classic::store(line, classic::Storage::Prepend, limits),
        b"cas" => classic::store(line, classic::Storage::Cas, limits),
        b"mg" => meta::parse(line, MetaCommand::Get, limits),
        b"ms" => meta::parse(line, MetaCommand::Set, limits),
        b"md" => meta::parse(line, MetaCommand::Delete, limits),
        b"ma" => meta::parse(line, MetaCommand::Arithmetic, limits),
        b"me" => meta::parse(line, MetaCommand::Debug, limits),
        b"mn" => line.request(Request::MetaNoop),
        b"delete" => classic::delete(line),
        b"incr" => classic::arithmetic(line, ArithOp::Incr),
        b"decr" => classic::arithmetic(line, ArithOp::Decr),
        b"touch" => classic::touch(line),
        b"stats" => classic::stats(line),
        b"flush_all" => classic::flush_all(line),
        b"version" => line.request(Request::Version),
        b"quit" => line.request(Request::Quit),
        b"shutdown" => line.request(Request::Shutdown),
        b"verbosity" => classic::verbosity(line),
        b"cache_memlimit" => classic::cache_memlimit(line),
        // memcached commands corecache has nothing behind.
        b"lru_crawler" | b"watch" | b"lru" | b"extstore" | b"refresh_certs" => {
            line.error(ProtocolError::UnknownCommand, false)
        }
        _ => unknown(line, name),
    }
}

/// An unknown command is `ERROR`, except that memcached closes the
/// connection when it looks like an HTTP request line (last token starting
/// with `HTTP/`). Only names outside memcached's first-byte branches (`g`,
/// `s`, `a`, `c`, `i`, `d`, `t`, two-byte `m…`) reach that check.
fn unknown<'a>(line: Line<'a>, name: &[u8]) -> Parsed<'a> {
    let branched = matches!(name[0], b'g' | b's' | b'a' | b'c' | b'i' | b'd' | b't')
        || (name[0] == b'm' && name.len() == 2);
    if !branched && Tokens::new(line.text).last().starts_with(b"HTTP/") {
        return Parsed::Close;
    }
    line.error(ProtocolError::UnknownCommand, false)
}

/// The tokens of a line as memcached's `tokenize_command` sees them: split
/// on spaces only (a tab is part of a token), at most 23 of them.
struct Tokens<'a> {
    list: [&'a [u8]; MAX_TOKENS - 1],
    len: usize,
}

impl<'a> Tokens<'a> {
    #[inline]
    fn new(text: &'a [u8]) -> Self {
        let mut tokens = Tokens {
            list: [&[]; MAX_TOKENS - 1],
            len: 0,
        };
        let mut rest = text;
        while tokens.len < tokens.list.len() {
            let (token, after) = split_token(rest);
            if token.is_empty() {
                break;
            }
            tokens.list[tokens.len] = token;
            tokens.len += 1;
            rest = after;
        }
        tokens
    }

    /// memcached's `ntokens`: the tokens read plus its terminal empty token.
    /// Arity checks compare against this, as memcached's do.
    fn ntokens(&self) -> usize {
        self.len + 1
    }

    /// Token `index`, or an empty slice past the last one (memcached's
    /// terminal token has length 0).
    fn get(&self, index: usize) -> &'a [u8] {
        self.list[..self.len]
            .get(index)
            .copied()
            .unwrap_or_default()
    }

    /// The tokens from `index` on.
    fn starting_at(&self, index: usize) -> &[&'a [u8]] {
        self.list[..self.len].get(index..).unwrap_or_default()
    }

    /// The last token read (memcached's `tokens[ntokens - 2]`).
    fn last(&self) -> &'a [u8] {
        self.get(self.len.wrapping_sub(1))
    }

    /// memcached's `set_noreply_maybe`: the last token read is `noreply`,
    /// whatever position that is.
    fn noreply(&self) -> bool {
        self.last() == b"noreply"
    }
}

/// Splits off the first space-separated token: `(token, rest after it)`.
/// The token is empty when `text` holds only spaces.
fn split_token(text: &[u8]) -> (&[u8], &[u8]) {
    let start = text.iter().position(|&b| b != b' ').unwrap_or(text.len());
    let text = &text[start..];
    let end = text.iter().position(|&b| b == b' ').unwrap_or(text.len());
    text.split_at(end)
}

/// `text` without leading and trailing spaces.
fn trim_spaces(text: &[u8]) -> &[u8] {
    let start = text.iter().position(|&b| b != b' ').unwrap_or(text.len());
    let end = text
        .iter()
        .rposition(|&b| b != b' ')
        .map_or(start, |i| i + 1);
    &text[start..end]
}

/// The bytes of `text` from the start of `token` (a sub-slice of `text`) to
/// the end, without trailing spaces.
fn text_from<'a>(text: &'a [u8], token: &'a [u8]) -> &'a [u8] {
    let start = (token.as_ptr() as usize).wrapping_sub(text.as_ptr() as usize);
    trim_spaces(text.get(start..).unwrap_or_default())
}

/// Whether memcached accepts `key`: 1 to [`MAX_KEY_LEN`] bytes, any bytes
/// (the tokenizer has already split on spaces).
fn valid_key(key: &[u8]) -> bool {
    !key.is_empty() && key.len() <= MAX_KEY_LEN
}
