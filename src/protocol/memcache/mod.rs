//! The memcached text protocol (classic and meta commands), as memcached 1.6
//! speaks it: a pure, zero-copy, incremental parser ([`parse`]) from a read
//! buffer to a typed [`Request`], the error replies ([`error`]), and the
//! reply encoders ([`reply`]).

pub mod error;
mod parser;
pub mod reply;
pub mod request;

pub use error::ProtocolError;
pub use parser::parse;
pub use request::*;

/// Limits the parser enforces at the edge, as memcached does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest data block a storage command may carry (`--max-item-size`).
    pub max_item_size: usize,
}

/// Longest command line memcached buffers without finding its end. A longer
/// unterminated line closes the connection, unless it is a `get`/`gets`
/// (multi-gets may be arbitrarily long).
pub const MAX_UNTERMINATED_LINE: usize = 2048;

/// What [`parse`] found at the start of a buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed<'a> {
    /// A complete request occupying the first `consumed` bytes.
    Request {
        request: Request<'a>,
        consumed: usize,
    },
    /// The buffer holds only the beginning of a request: read more.
    Incomplete,
    /// The first `consumed` bytes are a request answered with `error`.
    /// `swallow` more bytes that follow them (a data block that has not
    /// necessarily arrived yet) belong to it and must be discarded unread.
    /// `silent` is set when the request asked for `noreply`, which memcached
    /// honours for most errors too.
    Error {
        error: ProtocolError,
        consumed: usize,
        swallow: usize,
        silent: bool,
    },
    /// The input cannot be a request (an unterminated line past
    /// [`MAX_UNTERMINATED_LINE`]): close the connection without a reply.
    Close,
}
