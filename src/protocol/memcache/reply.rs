//! Reply encoders: pure functions appending memcached's reply bytes to a
//! buffer. No I/O, no store access, no allocation of their own (numbers go
//! through `itoa`, base64 keys are encoded in place).
//!
//! Error replies live in [`error`](super::error); everything else a command
//! answers is written here.

use base64::Engine;

/// `STORED`
pub const STORED: &[u8] = b"STORED\r\n";
/// `NOT_STORED`
pub const NOT_STORED: &[u8] = b"NOT_STORED\r\n";
/// `EXISTS`
pub const EXISTS: &[u8] = b"EXISTS\r\n";
/// `NOT_FOUND`
pub const NOT_FOUND: &[u8] = b"NOT_FOUND\r\n";
/// `DELETED`
pub const DELETED: &[u8] = b"DELETED\r\n";
/// `TOUCHED`
pub const TOUCHED: &[u8] = b"TOUCHED\r\n";
/// `OK`
pub const OK: &[u8] = b"OK\r\n";
/// `END`, closing a retrieval or a `stats` listing.
pub const END: &[u8] = b"END\r\n";
/// `RESET`, the answer to `stats reset`.
pub const RESET: &[u8] = b"RESET\r\n";
/// `MN`, the answer to `mn`.
pub const META_NOOP: &[u8] = b"MN\r\n";

/// Appends a decimal number.
pub fn push_u64(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// Appends a signed decimal number.
pub fn push_i64(out: &mut Vec<u8>, n: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// Appends a whole status line (one of the constants above).
pub fn status(out: &mut Vec<u8>, line: &[u8]) {
    out.extend_from_slice(line);
}

/// Appends `END`.
pub fn end(out: &mut Vec<u8>) {
    out.extend_from_slice(END);
}

/// Appends one retrieval hit: `VALUE <key> <flags> <bytes> [<cas>]`, the
/// data and its `\r\n`.
pub fn value(out: &mut Vec<u8>, key: &[u8], client_flags: u32, data: &[u8], cas: Option<u64>) {
    out.extend_from_slice(b"VALUE ");
    out.extend_from_slice(key);
    out.push(b' ');
    push_u64(out, u64::from(client_flags));
    out.push(b' ');
    push_u64(out, data.len() as u64);
    if let Some(cas) = cas {
        out.push(b' ');
        push_u64(out, cas);
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// Appends a number on its own line (the answer to `incr`/`decr`).
pub fn number(out: &mut Vec<u8>, n: u64) {
    push_u64(out, n);
    out.extend_from_slice(b"\r\n");
}

/// Appends `VERSION <version>`.
pub fn version(out: &mut Vec<u8>, version: &str) {
    out.extend_from_slice(b"VERSION ");
    out.extend_from_slice(version.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// Appends `STAT <name> <value>` with a numeric value.
pub fn stat(out: &mut Vec<u8>, name: &str, value: u64) {
    stat_text(out, name, itoa::Buffer::new().format(value));
}

/// Appends `STAT <name> <value>` with a textual value.
pub fn stat_text(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(b"STAT ");
    out.extend_from_slice(name.as_bytes());
    out.push(b' ');
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// The status code opening a meta reply (besides `VA`, see
/// [`meta_value_code`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaCode {
    /// `HD`: success, no value.
    Header,
    /// `EN`: miss (`mg`, `me`).
    Miss,
    /// `NF`: not found (`md`, `ma`, `ms` in CAS mode).
    NotFound,
    /// `NS`: not stored (`ms`).
    NotStored,
    /// `EX`: CAS mismatch.
    Exists,
}

impl MetaCode {
    /// The two letters on the wire.
    pub fn as_bytes(self) -> &'static [u8] {
        match self {
            MetaCode::Header => b"HD",
            MetaCode::Miss => b"EN",
            MetaCode::NotFound => b"NF",
            MetaCode::NotStored => b"NS",
            MetaCode::Exists => b"EX",
        }
    }
}

/// Appends a meta status code (`HD`, `EN`, …); flags and `\r\n` follow.
pub fn meta_code(out: &mut Vec<u8>, code: MetaCode) {
    out.extend_from_slice(code.as_bytes());
}

/// Appends `VA <len>`; flags, `\r\n` and the data follow.
pub fn meta_value_code(out: &mut Vec<u8>, len: usize) {
    out.extend_from_slice(b"VA ");
    push_u64(out, len as u64);
}

/// Appends a bare return flag: ` W`, ` Z`, ` X`.
pub fn meta_bare_flag(out: &mut Vec<u8>, flag: u8) {
    out.push(b' ');
    out.push(flag);
}

/// Appends ` <flag><n>`.
pub fn meta_flag(out: &mut Vec<u8>, flag: u8, n: u64) {
    out.push(b' ');
    out.push(flag);
    push_u64(out, n);
}

/// Appends ` <flag><n>` with a signed number (`t-1`).
pub fn meta_flag_signed(out: &mut Vec<u8>, flag: u8, n: i64) {
    out.push(b' ');
    out.push(flag);
    push_i64(out, n);
}

/// Appends ` k<key>`, or ` k<base64 key> b` for a binary key.
pub fn meta_key(out: &mut Vec<u8>, key: &[u8], binary: bool) {
    out.extend_from_slice(b" k");
    if binary {
        push_base64(out, key);
        out.extend_from_slice(b" b");
    } else {
        out.extend_from_slice(key);
    }
}

/// Appends the standard, padded base64 encoding of `bytes`.
pub fn push_base64(out: &mut Vec<u8>, bytes: &[u8]) {
    let engine = &base64::engine::general_purpose::STANDARD;
    let start = out.len();
    let len = base64::encoded_len(bytes.len(), true).unwrap_or(0);
    out.resize(start + len, 0);
    let written = engine.encode_slice(bytes, &mut out[start..]).unwrap_or(0);
    out.truncate(start + written);
}

/// Ends a meta reply line.
pub fn meta_line_end(out: &mut Vec<u8>) {
    out.extend_from_slice(b"\r\n");
}

/// Appends a meta data block: the data and its `\r\n`.
pub fn meta_data(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// A key as a meta reply echoes it (`k` flag).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetaKey<'a> {
    /// The key as stored (decoded).
    pub bytes: &'a [u8],
    /// Echo base64-encoded, followed by ` b`.
    pub binary: bool,
}

/// The remaining TTL as the `t` flag reports it at each point of the flag
/// list: a `T` token (and, when the item was just created, an `N` token)
/// changes it for the `t` tokens after it, exactly as memcached applies
/// flags in request order. -1 means "never expires".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TtlTrack {
    /// Before any `T`/`N` token.
    pub initial: i64,
    /// After a `T` token, if `T` changes the TTL.
    pub after_t: Option<i64>,
    /// After an `N` token, if `N` changes the TTL (item just created).
    pub after_n: Option<i64>,
}

impl TtlTrack {
    /// A TTL no token changes.
    pub fn fixed(ttl: i64) -> TtlTrack {
        TtlTrack {
            initial: ttl,
            after_t: None,
            after_n: None,
        }
    }
}

/// What a meta reply can report about an item, one field per return flag;
/// `None` means the command does not answer that flag (memcached skips it
/// silently). `O` tokens are always echoed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MetaView<'a> {
    /// `k`
    pub key: Option<MetaKey<'a>>,
    /// `s`: value length.
    pub size: Option<usize>,
    /// `f`
    pub client_flags: Option<u32>,
    /// `c`
    pub cas: Option<u64>,
    /// `t`
    pub ttl: Option<TtlTrack>,
    /// `h`: fetched before this request (0/1).
    pub hit_before: Option<bool>,
    /// `l`: seconds since the last access before this request.
    pub last_access: Option<u64>,
}

/// Appends the return flags of a meta reply, in the order the client sent
/// them (`tokens` are the request's flag tokens).
pub fn meta_flags<'t>(
    out: &mut Vec<u8>,
    tokens: impl IntoIterator<Item = &'t [u8]>,
    view: &MetaView<'_>,
) {
    let mut ttl = view.ttl.map(|track| track.initial);
    for token in tokens {
        let Some(&flag) = token.first() else {
            continue;
        };
        match flag {
            b'O' => {
                out.push(b' ');
                out.extend_from_slice(token);
            }
            b'k' => {
                if let Some(key) = view.key {
                    meta_key(out, key.bytes, key.binary);
                }
            }
            b's' => {
                if let Some(size) = view.size {
                    meta_flag(out, b's', size as u64);
                }
            }
            b'f' => {
                if let Some(flags) = view.client_flags {
                    meta_flag(out, b'f', u64::from(flags));
                }
            }
            b'c' => {
                if let Some(cas) = view.cas {
                    meta_flag(out, b'c', cas);
                }
            }
            b't' => {
                if let Some(ttl) = ttl {
                    meta_flag_signed(out, b't', ttl);
                }
            }
            b'T' => {
                if let Some(after) = view.ttl.and_then(|track| track.after_t) {
                    ttl = Some(after);
                }
            }
            b'N' => {
                if let Some(after) = view.ttl.and_then(|track| track.after_n) {
                    ttl = Some(after);
                }
            }
            b'h' => {
                if let Some(hit) = view.hit_before {
                    meta_flag(out, b'h', u64::from(hit));
                }
            }
            b'l' => {
                if let Some(secs) = view.last_access {
                    meta_flag(out, b'l', secs);
                }
            }
            _ => {}
        }
    }
}

/// What `me` reports about an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DebugView<'a> {
    /// The item's key.
    pub key: MetaKey<'a>,
    /// Seconds until expiry, -1 for never.
    pub exp: i64,
    /// Seconds since the last access.
    pub last_access: u64,
    /// The CAS unique.
    pub cas: u64,
    /// Whether the item has been fetched since it was stored.
    pub fetched: bool,
    /// Slab class id (corecache has one class).
    pub class: u32,
    /// Bytes the item takes.
    pub size: u64,
}

/// Appends `ME <key> exp=… la=… cas=… fetch=yes|no cls=… size=…`.
pub fn meta_debug(out: &mut Vec<u8>, view: &DebugView<'_>) {
    out.extend_from_slice(b"ME ");
    if view.key.binary {
        push_base64(out, view.key.bytes);
    } else {
        out.extend_from_slice(view.key.bytes);
    }
    out.extend_from_slice(b" exp=");
    push_i64(out, view.exp);
    out.extend_from_slice(b" la=");
    push_u64(out, view.last_access);
    out.extend_from_slice(b" cas=");
    push_u64(out, view.cas);
    out.extend_from_slice(if view.fetched {
        b" fetch=yes"
    } else {
        b" fetch=no"
    });
    out.extend_from_slice(b" cls=");
    push_u64(out, u64::from(view.class));
    out.extend_from_slice(b" size=");
    push_u64(out, view.size);
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests;
