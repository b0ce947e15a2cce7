//! The Redis protocol (RESP2 and RESP3) as Redis 7 speaks it: a pure,
//! zero-copy, incremental request parser ([`parse`]), its error replies
//! ([`ProtocolError`]) and the reply encoders ([`reply`]).
//!
//! Nothing here does I/O, looks at the store or knows a command: a request
//! is only its argument vector, and what a command means is `command`'s
//! business.
//!
//! # Arguments without a copy
//!
//! [`parse`] is a function of the bytes at the start of a read buffer. It
//! keeps no state between calls: a request that is still arriving is parsed
//! again from its first byte when more bytes come. What it found is
//! recorded in an [`Args`] that the caller owns and reuses for every request
//! of a connection, and read through the [`Argv`] view that
//! [`Parsed::Command`] carries:
//!
//! - a multibulk request's arguments are byte ranges of the read buffer
//!   itself: no byte is copied, and once the range vector has grown to the
//!   largest argument count seen, nothing is allocated either;
//! - an inline request without quotes (`PING`, `GET k` typed into telnet)
//!   is split the same way, into ranges of the buffer;
//! - only an inline request with a quote in it needs bytes that are not in
//!   the buffer (`"a\x00b"` is three bytes that appear nowhere): then every
//!   argument of that request is decoded into the `Args`'s own byte arena,
//!   which is likewise reused.
//!
//! The view borrows both the buffer and the `Args`, so it cannot outlive
//! either or be read against the wrong buffer.
//!
//! # Errors
//!
//! Every protocol error is fatal, as in Redis: the server answers
//! `-ERR <error>` ([`ProtocolError::write_to`]) and closes the connection
//! after the reply, without reading anything past the error. Requests
//! before it in the same buffer are executed normally.

mod args;
mod error;
mod parser;
pub mod reply;

pub use args::{Args, Argv};
pub use error::ProtocolError;
pub use parser::parse;
pub use reply::Version;

/// Limits the parser enforces at the edge, with Redis's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest bulk argument (`proto-max-bulk-len`, 512 MiB); a longer one
    /// is an invalid bulk length.
    pub proto_max_bulk_len: u64,
    /// Most arguments a multibulk request may announce. Redis 6 capped the
    /// count at 1 Mi, which stays the default here; Redis 7 accepts up to
    /// `i32::MAX`, the most this limit can be raised to.
    pub max_multibulk_len: u64,
    /// Longest inline request, and longest `*<count>` or `$<length>` line,
    /// that the parser waits for the end of (`PROTO_INLINE_MAX_SIZE`,
    /// 64 KiB). A longer one is a "too big" error.
    pub inline_max: usize,
    /// The connection has not authenticated yet on a server that requires
    /// it: Redis then also refuses a multibulk count above 10 and a bulk
    /// longer than 16384 bytes, with their own errors, so that a stranger
    /// cannot make it buffer much.
    pub unauthenticated: bool,
}

impl Limits {
    /// Most arguments an unauthenticated connection may send in one request.
    pub const UNAUTHENTICATED_MULTIBULK_MAX: u64 = 10;
    /// Longest argument an unauthenticated connection may send.
    pub const UNAUTHENTICATED_BULK_MAX: u64 = 16384;
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            proto_max_bulk_len: 512 << 20,
            max_multibulk_len: 1024 * 1024,
            inline_max: 64 * 1024,
            unauthenticated: false,
        }
    }
}

/// What [`parse`] found at the start of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed<'a> {
    /// A complete request of at least one argument, occupying the first
    /// `consumed` bytes.
    Command { argv: Argv<'a>, consumed: usize },
    /// The buffer holds only the beginning of a request: read more, then
    /// parse again from the same position. Nothing was consumed. At least
    /// `needed` more bytes are required before the answer can change: 1
    /// while a line is unfinished, the rest of the payload and its `\r\n`
    /// while a bulk argument is (so a caller can size its buffer for a big
    /// value at once).
    Incomplete { needed: usize },
    /// The first `consumed` bytes are a request without arguments (an empty
    /// or blank inline line, `*0`, `*-1`), which Redis skips silently.
    Skip { consumed: usize },
    /// The input breaks the protocol: answer `-ERR <error>` and close the
    /// connection. The bytes are not consumed; nothing more is to be read.
    Error(ProtocolError),
}
