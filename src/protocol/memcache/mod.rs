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

/// Longest `get`/`gets` line corecache buffers, `\n` included. memcached
/// grows its buffer without bound for them; corecache closes the connection
/// instead once a multi-get line passes 16 MiB (about 64 000 keys of 250
/// bytes), so that one client cannot pin unbounded memory.
pub const MAX_MULTIGET_LINE: usize = 16 << 20;

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
    /// A storage command (`set`, `add`, `replace`, `append`, `prepend`,
    /// `cas`, `ms`) whose data block is larger than
    /// [`Limits::max_item_size`]. Handled like [`Parsed::Error`] with
    /// [`ProtocolError::TOO_LARGE`] — the first `consumed` bytes are its
    /// line, answer unless `silent`, discard `swallow` more bytes — plus one
    /// store operation: memcached unlinks the key's current item so that a
    /// failed overwrite does not leave the old value readable. It does so for
    /// `set` and for `ms` in every mode; `unlink` names the key (decoded when
    /// the `ms` key was base64) and is `None` for the other commands.
    TooLarge {
        unlink: Option<KeyRef<'a>>,
        consumed: usize,
        swallow: usize,
        silent: bool,
    },
    /// The input cannot be a request (an unterminated line past
    /// [`MAX_UNTERMINATED_LINE`] or, for a multi-get, [`MAX_MULTIGET_LINE`];
    /// or an unknown command whose last token starts with `HTTP/`, which
    /// memcached takes for a stray HTTP client): close the connection
    /// without a reply.
    Close,
}
