//! The wire protocols loadgen speaks: request encoders and reply decoders
//! for the memcached text protocol, the memcached meta protocol and RESP.
//!
//! Encoders append to a caller's reusable buffer and decoders read a
//! borrowed slice, so a connection's hot path allocates nothing. A decoder
//! looks at the bytes received so far and answers [`Parse::Incomplete`]
//! until one whole reply is there, then says how many bytes it used and what
//! the reply meant for the statistics (hits, misses, error). It never
//! buffers anything itself: a reply split at any byte decodes the same once
//! the rest arrives. Malformed bytes are a [`ProtocolError`] (the connection
//! is then dropped and reconnected); an error *reply* from the server is a
//! well-formed reply with [`Reply::error`] set.
//!
//! This module owns the wire format only; it knows nothing of sockets,
//! timing or workloads.

pub mod memcache;
pub mod meta;
pub mod resp;

use serde::Serialize;

/// Which protocol a run speaks (`--protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// The memcached text protocol (`get`, `set`).
    Memcache,
    /// The memcached meta protocol (`mg`, `ms`, `mn`).
    Meta,
    /// The Redis protocol, RESP2 or RESP3 (`GET`, `MGET`, `SET`).
    Resp,
}

/// The kind of a request, which is also the histogram it is recorded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    /// A read of one key or, with `--multiget`, of several.
    Get,
    /// A write of one key.
    Set,
}

impl OpKind {
    /// Every kind, in the order of [`OpKind::index`].
    pub const ALL: [OpKind; 2] = [OpKind::Get, OpKind::Set];

    /// A small dense index, for per-kind arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The kind's name in reports and JSON.
    pub fn name(self) -> &'static str {
        match self {
            OpKind::Get => "get",
            OpKind::Set => "set",
        }
    }
}

/// What one reply meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Reply {
    /// Keys found (gets only).
    pub hits: u32,
    /// Keys not found (gets only).
    pub misses: u32,
    /// The server answered with an error.
    pub error: bool,
}

/// The outcome of looking at the bytes received so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parse {
    /// No whole reply yet: read more and ask again.
    Incomplete,
    /// One whole reply of `len` bytes.
    Done {
        /// Bytes the reply used, from the start of the buffer.
        len: usize,
        /// What it meant.
        reply: Reply,
    },
}

/// The server sent bytes that are not a reply of the protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed reply: {0}")]
pub struct ProtocolError(pub &'static str);

impl Protocol {
    /// Appends a read of `keys` (one key, or several for a multi-get).
    pub fn encode_get<'k>(&self, out: &mut Vec<u8>, keys: impl ExactSizeIterator<Item = &'k [u8]>) {
        match self {
            Protocol::Memcache => memcache::encode_get(out, keys),
            Protocol::Meta => meta::encode_get(out, keys),
            Protocol::Resp => resp::encode_get(out, keys),
        }
    }

    /// Appends a write of `value` under `key`, expiring after `ttl` seconds
    /// (0: never).
    pub fn encode_set(&self, out: &mut Vec<u8>, key: &[u8], value: &[u8], ttl: u32) {
        match self {
            Protocol::Memcache => memcache::encode_set(out, key, value, ttl),
            Protocol::Meta => meta::encode_set(out, key, value, ttl),
            Protocol::Resp => resp::encode_set(out, key, value, ttl),
        }
    }

    /// Decodes the reply to a request of kind `op` for `keys` keys from the
    /// start of `buf`.
    pub fn parse(&self, buf: &[u8], op: OpKind, keys: u32) -> Result<Parse, ProtocolError> {
        match self {
            Protocol::Memcache => memcache::parse(buf, op, keys),
            Protocol::Meta => meta::parse(buf, op, keys),
            Protocol::Resp => resp::parse(buf, op, keys),
        }
    }
}

/// The line at the start of `buf` without its `\r\n`, and the length with
/// it; `None` while the line is incomplete.
pub(crate) fn line(buf: &[u8]) -> Option<(&[u8], usize)> {
    let end = memchr::memchr(b'\n', buf)?;
    let text = &buf[..end];
    let text = text.strip_suffix(b"\r").unwrap_or(text);
    Some((text, end + 1))
}

/// Parses an unsigned decimal number.
pub(crate) fn number(digits: &[u8]) -> Option<usize> {
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    digits.iter().try_fold(0usize, |n, &d| {
        d.is_ascii_digit().then(|| n * 10 + usize::from(d - b'0'))
    })
}

/// Appends a decimal number.
pub(crate) fn push_number(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// Whether a memcached line is one of its error replies.
pub(crate) fn is_memcache_error(line: &[u8]) -> bool {
    line == b"ERROR" || line.starts_with(b"CLIENT_ERROR") || line.starts_with(b"SERVER_ERROR")
}

#[cfg(test)]
pub(crate) mod testing {
    //! Helpers for the decoders' split-reply property tests.

    use super::{OpKind, Parse, Protocol, Reply};

    /// One reply a property test feeds: its bytes, the request it answers
    /// (operation and keys) and what it must decode to.
    pub type Case = (Vec<u8>, OpKind, u32, Reply);

    /// Decodes the cases' replies as one stream cut at `cuts`; returns
    /// (decoded, expected).
    pub fn decode_cases(
        protocol: Protocol,
        cases: &[Case],
        cuts: &[usize],
    ) -> (Vec<Reply>, Vec<Reply>) {
        let stream: Vec<u8> = cases.iter().flat_map(|c| c.0.clone()).collect();
        let requests: Vec<(OpKind, u32)> = cases.iter().map(|c| (c.1, c.2)).collect();
        let expected = cases.iter().map(|c| c.3).collect();
        (
            decode_in_pieces(protocol, &stream, &requests, cuts),
            expected,
        )
    }

    /// Decodes `stream` fed in chunks ending at `cuts`, as a connection
    /// would, and returns the replies in order.
    pub fn decode_in_pieces(
        protocol: Protocol,
        stream: &[u8],
        requests: &[(OpKind, u32)],
        cuts: &[usize],
    ) -> Vec<Reply> {
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (stream.len() + 1)).collect();
        cuts.push(stream.len());
        cuts.sort_unstable();
        let mut buffer = Vec::new();
        let mut fed = 0;
        let mut replies = Vec::new();
        let mut next = requests.iter();
        let mut pending = next.next();
        for cut in cuts {
            buffer.extend_from_slice(&stream[fed..cut]);
            fed = cut;
            while let Some(&(op, keys)) = pending {
                match protocol.parse(&buffer, op, keys).expect("well-formed") {
                    Parse::Incomplete => break,
                    Parse::Done { len, reply } => {
                        buffer.drain(..len);
                        replies.push(reply);
                        pending = next.next();
                    }
                }
            }
        }
        assert!(buffer.is_empty(), "bytes left over");
        replies
    }
}
