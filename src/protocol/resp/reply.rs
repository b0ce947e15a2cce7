//! Reply encoders: pure functions appending RESP2 or RESP3 reply bytes to a
//! buffer, as Redis 7's `addReply*` functions write them. No I/O, no store
//! access, no allocation of their own (numbers go through `itoa` and a
//! stack buffer).
//!
//! Types RESP2 lacks are written as Redis writes them to a RESP2 client:
//! a map as an array of keys and values, a set or push as an array, a
//! double, big number or verbatim string as a bulk string, a boolean as an
//! integer, both nulls as RESP2's null bulk and null array.
//!
//! Protocol errors have their own encoder, [`ProtocolError::write_to`].
//!
//! [`ProtocolError::write_to`]: super::ProtocolError::write_to

mod double;
#[cfg(test)]
mod tests;

use memchr::memchr2;

pub use double::double_text;

/// The protocol version a connection speaks; `HELLO 3` switches to RESP3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Version {
    /// RESP2, what every connection starts with.
    #[default]
    Resp2,
    /// RESP3, with its maps, sets, doubles, booleans, nulls and pushes.
    Resp3,
}

/// The line terminator, for a caller writing a bulk payload itself after
/// [`bulk_header`].
pub const CRLF: &[u8] = b"\r\n";

/// Appends `<prefix><n>\r\n`.
fn header(out: &mut Vec<u8>, prefix: u8, n: impl itoa::Integer) {
    out.push(prefix);
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    out.extend_from_slice(CRLF);
}

/// Appends `text` turning `\r` and `\n` into spaces, so that a one-line
/// reply stays one line whatever it quotes (as Redis's
/// `addReplyErrorFormat` does).
fn one_line(out: &mut Vec<u8>, text: &[u8]) {
    if memchr2(b'\r', b'\n', text).is_none() {
        out.extend_from_slice(text);
    } else {
        out.extend(text.iter().map(|&b| match b {
            b'\r' | b'\n' => b' ',
            other => other,
        }));
    }
}

/// Appends a simple string, `+<text>\r\n` (`+OK`, `+PONG`). Line breaks in
/// `text` become spaces.
pub fn simple_string(out: &mut Vec<u8>, text: &[u8]) {
    out.push(b'+');
    one_line(out, text);
    out.extend_from_slice(CRLF);
}

/// Appends an error, `-<text>\r\n`, where `text` starts with the error code
/// (`ERR unknown command 'x'…`, `WRONGTYPE Operation against…`). Line
/// breaks in `text` become spaces.
pub fn error(out: &mut Vec<u8>, text: &[u8]) {
    crate::stats::errors::count(text);
    out.push(b'-');
    one_line(out, text);
    out.extend_from_slice(CRLF);
}

/// Appends a help text, as Redis's `HELP` subcommands reply: an array of
/// one simple string per line.
pub fn help(out: &mut Vec<u8>, lines: &[&[u8]]) {
    array_header(out, lines.len());
    for line in lines {
        simple_string(out, line);
    }
}

/// Appends an integer, `:<n>\r\n`.
pub fn integer(out: &mut Vec<u8>, n: i64) {
    header(out, b':', n);
}

/// Appends a bulk string, `$<len>\r\n<bytes>\r\n`.
pub fn bulk(out: &mut Vec<u8>, bytes: &[u8]) {
    bulk_header(out, bytes.len());
    out.extend_from_slice(bytes);
    out.extend_from_slice(CRLF);
}

/// Appends only the `$<len>\r\n` of a bulk string; the caller sends the
/// `len` bytes and [`CRLF`] (to write a large value without copying it).
pub fn bulk_header(out: &mut Vec<u8>, len: usize) {
    header(out, b'$', len);
}

/// Appends a null: RESP2's null bulk `$-1`, RESP3's `_`.
pub fn null(out: &mut Vec<u8>, version: Version) {
    out.extend_from_slice(match version {
        Version::Resp2 => b"$-1\r\n",
        Version::Resp3 => b"_\r\n",
    });
}

/// Appends a null array: RESP2's `*-1` (a `BLPOP` timeout, an aborted
/// `EXEC`), RESP3's null `_`, which replaced it.
pub fn null_array(out: &mut Vec<u8>, version: Version) {
    out.extend_from_slice(match version {
        Version::Resp2 => b"*-1\r\n",
        Version::Resp3 => b"_\r\n",
    });
}

/// Appends an array header, `*<len>\r\n`; `len` replies follow.
pub fn array_header(out: &mut Vec<u8>, len: usize) {
    header(out, b'*', len);
}

/// Appends a map header for `len` key-value pairs: RESP3's `%<len>`, or in
/// RESP2 an array of `2 * len` replies. Keys and values follow, alternating.
pub fn map_header(out: &mut Vec<u8>, version: Version, len: usize) {
    match version {
        Version::Resp2 => header(out, b'*', len.saturating_mul(2)),
        Version::Resp3 => header(out, b'%', len),
    }
}

/// Appends a set header: RESP3's `~<len>`, RESP2's `*<len>`.
pub fn set_header(out: &mut Vec<u8>, version: Version, len: usize) {
    match version {
        Version::Resp2 => header(out, b'*', len),
        Version::Resp3 => header(out, b'~', len),
    }
}

/// Appends a push header (pub/sub messages, invalidations): RESP3's
/// `><len>`, RESP2's `*<len>`.
pub fn push_header(out: &mut Vec<u8>, version: Version, len: usize) {
    match version {
        Version::Resp2 => header(out, b'*', len),
        Version::Resp3 => header(out, b'>', len),
    }
}

/// Appends a double as Redis's `addReplyDouble` does (`ZSCORE`, `ZADD
/// INCR`): RESP3's `,<text>`, RESP2's bulk string of the same text, with
/// the text of [`double_text`] (`1.5`, `3`, `inf`, `-inf`, `nan`, `1e+300`).
pub fn double(out: &mut Vec<u8>, version: Version, value: f64) {
    let mut text = double::Text::new();
    let text = text.format(value);
    match version {
        Version::Resp2 => bulk(out, text),
        Version::Resp3 => {
            out.push(b',');
            out.extend_from_slice(text);
            out.extend_from_slice(CRLF);
        }
    }
}

/// Appends a boolean: RESP3's `#t`/`#f`, RESP2's integer `1`/`0`.
pub fn boolean(out: &mut Vec<u8>, version: Version, value: bool) {
    out.extend_from_slice(match (version, value) {
        (Version::Resp2, true) => b":1\r\n",
        (Version::Resp2, false) => b":0\r\n",
        (Version::Resp3, true) => b"#t\r\n",
        (Version::Resp3, false) => b"#f\r\n",
    });
}

/// Appends a verbatim string (`INFO`, `CLIENT LIST`, `LATENCY DOCTOR`):
/// RESP3's `=<len>\r\n<format>:<text>\r\n` where `format` is three bytes
/// such as `txt` or `mkd`; RESP2's bulk string of `text` alone.
pub fn verbatim(out: &mut Vec<u8>, version: Version, format: &[u8; 3], text: &[u8]) {
    match version {
        Version::Resp2 => bulk(out, text),
        Version::Resp3 => {
            header(out, b'=', text.len().saturating_add(4));
            out.extend_from_slice(format);
            out.push(b':');
            out.extend_from_slice(text);
            out.extend_from_slice(CRLF);
        }
    }
}

/// Appends a big number given as its decimal digits (an optional `-`
/// first): RESP3's `(<digits>`, RESP2's bulk string of the digits.
pub fn big_number(out: &mut Vec<u8>, version: Version, digits: &[u8]) {
    match version {
        Version::Resp2 => bulk(out, digits),
        Version::Resp3 => {
            out.push(b'(');
            out.extend_from_slice(digits);
            out.extend_from_slice(CRLF);
        }
    }
}

/// Encodes a request (an array of bulk strings), as a client sends it.
pub fn request(out: &mut Vec<u8>, args: &[&[u8]]) {
    array_header(out, args.len());
    for arg in args {
        bulk(out, arg);
    }
}
