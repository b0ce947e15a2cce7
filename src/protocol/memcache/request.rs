//! Typed memcached requests, borrowed from the read buffer.
//!
//! The parser produces these; the command layer executes them. Nothing here
//! owns bytes: keys, values and tokens are slices of the buffer the request
//! was parsed from, so a request lives only as long as that buffer. Limits
//! (key length, value size, token lengths) have already been checked when a
//! `Request` exists; numeric tokens have been converted.

/// Longest key memcached accepts, in bytes (after base64 decoding for meta
/// commands).
pub const MAX_KEY_LEN: usize = 250;

/// Longest opaque (`O`) token a meta command may carry, as in memcached.
pub const MAX_OPAQUE_LEN: usize = 32;

/// An expiration time exactly as sent: 0 = never, up to 30 days = relative
/// seconds, above that an absolute Unix time, negative = already expired.
/// Converted to a deadline by the command layer, which knows the clock.
pub type Exptime = i64;

/// One parsed memcached request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request<'a> {
    /// `get`, `gets`, `gat`, `gats` with one or more keys.
    Get(GetRequest<'a>),
    /// `set`, `add`, `replace`, `append`, `prepend`, `cas` with its data block.
    Store(StoreRequest<'a>),
    /// `delete <key> [noreply]`.
    Delete { key: &'a [u8], noreply: bool },
    /// `incr`/`decr <key> <delta> [noreply]`.
    Arith {
        key: &'a [u8],
        op: ArithOp,
        delta: u64,
        noreply: bool,
    },
    /// `touch <key> <exptime> [noreply]`.
    Touch {
        key: &'a [u8],
        exptime: Exptime,
        noreply: bool,
    },
    /// `flush_all [delay] [noreply]`; `delay` 0 means now.
    FlushAll { delay: Exptime, noreply: bool },
    /// `version`.
    Version,
    /// `verbosity <level> [noreply]` (accepted, has no effect).
    Verbosity { noreply: bool },
    /// `quit`: close the connection after earlier replies are sent.
    Quit,
    /// `stats [group]`.
    Stats(StatsGroup<'a>),
    /// `shutdown [graceful]`: refused as memcached does without `-A`.
    Shutdown,
    /// `cache_memlimit <megabytes> [noreply]`.
    CacheMemlimit { megabytes: u64, noreply: bool },
    /// `mg`, `ms`, `md`, `ma`, `me`.
    Meta(MetaRequest<'a>),
    /// `mn`: replies `MN`, marking the end of a quiet pipeline.
    MetaNoop,
}

/// Which retrieval command a [`GetRequest`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetKind {
    /// `get`: values without CAS.
    Get,
    /// `gets`: values with their CAS unique.
    Gets,
    /// `gat <exptime>`: get and touch.
    Gat,
    /// `gats <exptime>`: get and touch, with CAS.
    Gats,
}

impl GetKind {
    /// Whether `VALUE` lines carry the CAS unique.
    pub fn with_cas(self) -> bool {
        matches!(self, GetKind::Gets | GetKind::Gats)
    }
}

/// A retrieval request. Keys are kept as the raw, space-separated key list so
/// that a multi-get of any width needs no allocation; iterate with
/// [`GetRequest::keys`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetRequest<'a> {
    pub kind: GetKind,
    /// New expiration time for `gat`/`gats`; `None` for `get`/`gets`.
    pub touch: Option<Exptime>,
    /// The key list as sent: keys separated by one or more spaces, no leading
    /// or trailing spaces, each key already validated.
    pub key_list: &'a [u8],
}

impl<'a> GetRequest<'a> {
    /// The requested keys, in request order (duplicates included, as
    /// memcached answers each occurrence).
    pub fn keys(&self) -> impl Iterator<Item = &'a [u8]> + Clone + 'a {
        self.key_list
            .split(|&b| b == b' ')
            .filter(|k| !k.is_empty())
    }
}

/// Which storage command a [`StoreRequest`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreMode {
    Set,
    Add,
    Replace,
    Append,
    Prepend,
    /// `cas`: store only if the item's CAS unique still equals the given one.
    Cas(u64),
}

/// A storage request with its data block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreRequest<'a> {
    pub mode: StoreMode,
    pub key: &'a [u8],
    /// Client flags, stored opaquely and returned on retrieval.
    pub flags: u32,
    pub exptime: Exptime,
    /// The data block, without its trailing `\r\n`.
    pub value: &'a [u8],
    pub noreply: bool,
}

/// `incr` or `decr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    Incr,
    Decr,
}

/// The argument of `stats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsGroup<'a> {
    /// `stats`: general statistics.
    General,
    /// `stats settings`.
    Settings,
    /// `stats reset`.
    Reset,
    /// Any other group (`stats slabs`, `stats items`, …), answered by the
    /// command layer as memcached does for groups it knows, or with an error.
    Other(&'a [u8]),
}

/// Which meta command a [`MetaRequest`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaCommand {
    /// `mg`: meta get.
    Get,
    /// `ms`: meta set (carries a data block).
    Set,
    /// `md`: meta delete.
    Delete,
    /// `ma`: meta arithmetic.
    Arithmetic,
    /// `me`: meta debug.
    Debug,
}

/// A meta command (`mg`, `ms`, `md`, `ma`, `me`).
///
/// Return flags must be echoed in the order the client sent them, so the
/// request keeps the raw flag tokens (`flag_tokens`) besides the parsed
/// [`MetaFlags`]; the reply encoder walks the tokens again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaRequest<'a> {
    pub command: MetaCommand,
    /// The key exactly as sent: base64 text when `flags.base64` is set.
    pub key: &'a [u8],
    /// The flag tokens as sent (space separated, e.g. `s v t Oab T30`),
    /// already validated.
    pub flag_tokens: &'a [u8],
    pub flags: MetaFlags<'a>,
    /// The data block of `ms`, without its trailing `\r\n`; empty otherwise.
    pub value: &'a [u8],
}

impl<'a> MetaRequest<'a> {
    /// The key to store and look up: `key` itself, or its base64 decoding
    /// when the `b` flag is set. The parser has checked that it decodes.
    pub fn key(&self) -> KeyRef<'a> {
        if !self.flags.base64 {
            return KeyRef::Borrowed(self.key);
        }
        KeyRef::decode_base64(self.key).unwrap_or(KeyRef::Borrowed(self.key))
    }

    /// The flag tokens, in request order.
    pub fn tokens(&self) -> impl Iterator<Item = &'a [u8]> + Clone + 'a {
        self.flag_tokens
            .split(|&b| b == b' ')
            .filter(|t| !t.is_empty())
    }
}

/// Mode switch of `ms` (`M` flag).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaSetMode {
    /// `MS` (default): set.
    Set,
    /// `ME`: add.
    Add,
    /// `MR`: replace.
    Replace,
    /// `MA`: append.
    Append,
    /// `MP`: prepend.
    Prepend,
}

/// Mode switch of `ma` (`M` flag).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaArithMode {
    /// `MI` or `M+` (default).
    Incr,
    /// `MD` or `M-`.
    Decr,
}

/// The parsed meta flags. Value-less flags are booleans; flags with a token
/// carry it converted. Which flags are accepted depends on the command; the
/// parser rejects the others with memcached's error.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetaFlags<'a> {
    /// `b`: the key is base64; decode it before use and return it encoded.
    pub base64: bool,
    /// `c`: return the CAS unique.
    pub return_cas: bool,
    /// `f`: return the client flags.
    pub return_flags: bool,
    /// `h`: return whether the item was hit before (0/1).
    pub return_hit: bool,
    /// `k`: return the key.
    pub return_key: bool,
    /// `l`: return seconds since last access.
    pub return_last_access: bool,
    /// `s`: return the item size.
    pub return_size: bool,
    /// `t`: return the remaining TTL (-1 = never expires).
    pub return_ttl: bool,
    /// `v`: return the value (`VA` instead of `HD`).
    pub return_value: bool,
    /// `q`: quiet mode — suppress the uninteresting reply (EN for mg, HD for
    /// ms/md/ma, NF for md).
    pub quiet: bool,
    /// `u`: don't bump the item in the LRU / don't mark it accessed.
    pub no_bump: bool,
    /// `I`: invalidate — mark stale instead of deleting (md), or accept a
    /// lower CAS and mark stale (ms with `C`).
    pub invalidate: bool,
    /// `x`: (md) remove the value but keep the item.
    pub remove_value: bool,
    /// `O<token>`: opaque, echoed back as `O<token>`.
    pub opaque: Option<&'a [u8]>,
    /// `T<token>`: new TTL (mg/ma/md with I: update; ms: the item's TTL).
    pub ttl: Option<Exptime>,
    /// `N<token>`: vivify on miss with this TTL (mg, ma, ms in append mode).
    pub vivify: Option<Exptime>,
    /// `R<token>`: win the recache if the remaining TTL is below this.
    pub recache: Option<Exptime>,
    /// `C<token>`: compare CAS.
    pub compare_cas: Option<u64>,
    /// `E<token>`: use this as the new CAS value.
    pub explicit_cas: Option<u64>,
    /// `F<token>`: client flags to store (ms).
    pub client_flags: Option<u32>,
    /// `M<token>` of `ms`.
    pub set_mode: Option<MetaSetMode>,
    /// `M<token>` of `ma`.
    pub arith_mode: Option<MetaArithMode>,
    /// `D<token>`: delta for `ma` (default 1).
    pub delta: Option<u64>,
    /// `J<token>`: initial value for `ma` when vivifying (default 0).
    pub initial: Option<u64>,
}

/// A key ready for lookup: borrowed from the request, or decoded from base64
/// into a small inline buffer (no allocation).
// Inline on purpose: decoding a base64 key must not allocate.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRef<'a> {
    Borrowed(&'a [u8]),
    Decoded { bytes: [u8; MAX_KEY_LEN], len: u8 },
}

impl<'a> KeyRef<'a> {
    /// Decodes a base64 key (standard alphabet, padding optional), `None`
    /// if it is not valid base64, decodes to nothing, or decodes to more than
    /// [`MAX_KEY_LEN`] bytes.
    pub fn decode_base64(encoded: &[u8]) -> Option<KeyRef<'a>> {
        use base64::Engine;
        const LENIENT: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
            &base64::alphabet::STANDARD,
            base64::engine::GeneralPurposeConfig::new()
                .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
        );
        let mut bytes = [0u8; MAX_KEY_LEN];
        let len = LENIENT.decode_slice(encoded, &mut bytes).ok()?;
        (len > 0).then_some(KeyRef::Decoded {
            bytes,
            len: len as u8,
        })
    }

    /// The key bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            KeyRef::Borrowed(key) => key,
            KeyRef::Decoded { bytes, len } => &bytes[..*len as usize],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_keys_split_on_spaces() {
        let get = GetRequest {
            kind: GetKind::Get,
            touch: None,
            key_list: b"a  bb c",
        };
        assert_eq!(get.keys().collect::<Vec<_>>(), vec![&b"a"[..], b"bb", b"c"]);
    }

    #[test]
    fn base64_keys_decode_with_or_without_padding() {
        assert_eq!(
            KeyRef::decode_base64(b"Zm9vYg==").unwrap().as_bytes(),
            b"foob"
        );
        assert_eq!(
            KeyRef::decode_base64(b"Zm9vYg").unwrap().as_bytes(),
            b"foob"
        );
        assert!(KeyRef::decode_base64(b"!!!").is_none());
        assert!(KeyRef::decode_base64(b"").is_none());
    }
}
