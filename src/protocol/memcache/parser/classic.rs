//! The original memcached commands: retrieval, storage, `delete`,
//! `incr`/`decr`, `touch`, and the administrative commands corecache answers.
//!
//! Each function follows memcached 1.6's `process_*_command` in the order it
//! checks things, because the order decides which error a bad line gets and
//! whether `noreply` silences it: the token count first (`ERROR`, never
//! silent), then `noreply` (the *last* token, wherever it is), then the key,
//! then the numbers.

use super::number::{safe_strtol, safe_strtoul, safe_strtoull};
use super::{split_token, trim_spaces, valid_key, Line, Tokens};
use crate::protocol::memcache::request::{
    ArithOp, GetKind, GetRequest, KeyRef, Request, StatsGroup, StoreMode, StoreRequest, MAX_KEY_LEN,
};
use crate::protocol::memcache::{Limits, Parsed, ProtocolError};

/// Largest byte count memcached accepts on a storage line (`INT_MAX - 2`, so
/// that the count plus `\r\n` fits an `int`).
pub(super) const MAX_DATA_LEN: usize = i32::MAX as usize - 2;

/// `get`/`gets`/`bget <key>*`: the rest of the line is the key list.
///
/// memcached answers a multi-get in chunks of 23 tokens and stops at the
/// first bad key with `CLIENT_ERROR bad command line format`, dropping the
/// replies it had queued; checking every key first gives the same reply.
pub(super) fn get<'a>(line: Line<'a>, kind: GetKind, args: &'a [u8]) -> Parsed<'a> {
    keys(line, kind, None, args)
}

/// `gat`/`gats <exptime> <key>*`. With no key at all memcached answers a bare
/// `END`, so an empty key list is a valid request.
pub(super) fn get_and_touch<'a>(line: Line<'a>, kind: GetKind, args: &'a [u8]) -> Parsed<'a> {
    let (exptime, keys_text) = split_token(args);
    if exptime.is_empty() {
        return line.error(ProtocolError::UnknownCommand, false);
    }
    match safe_strtol(exptime) {
        Some(exptime) => keys(line, kind, Some(exptime.into()), keys_text),
        None => line.error(ProtocolError::INVALID_EXPTIME, false),
    }
}

/// The key list of a retrieval command.
fn keys<'a>(line: Line<'a>, kind: GetKind, touch: Option<i64>, keys_text: &'a [u8]) -> Parsed<'a> {
    let key_list = trim_spaces(keys_text);
    // `get` needs a key (memcached: fewer than 3 tokens is ERROR); `gat` has
    // already met that count with its exptime.
    if key_list.is_empty() && touch.is_none() {
        return line.error(ProtocolError::UnknownCommand, false);
    }
    if !valid_key_list(key_list) {
        return line.error(ProtocolError::BAD_FORMAT, false);
    }
    line.request(Request::Get(GetRequest {
        kind,
        touch,
        key_list,
    }))
}

/// Whether every key of a space-separated list is valid.
fn valid_key_list(list: &[u8]) -> bool {
    // Only a list longer than MAX_KEY_LEN can hold a key that is too long.
    list.len() <= MAX_KEY_LEN
        || list
            .split(|&b| b == b' ')
            .all(|key| key.len() <= MAX_KEY_LEN)
}

/// Which storage command a line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Storage {
    Set,
    Add,
    Replace,
    Append,
    Prepend,
    Cas,
}

/// `<command> <key> <flags> <exptime> <bytes> [noreply]` or
/// `cas <key> <flags> <exptime> <bytes> <cas unique> [noreply]`, then the
/// data block.
///
/// Errors in the line leave the data block unread (memcached then parses it
/// as a command), except a block larger than `max_item_size`, which
/// memcached swallows — and, for `set`, unlinks the key's current item
/// (see [`Parsed::TooLarge`]). memcached's real limit is on the whole item
/// (value, key and about 50 bytes of header in a slab chunk); corecache's
/// [`Limits::max_item_size`] is on the value alone.
pub(super) fn store<'a>(line: Line<'a>, command: Storage, limits: &Limits) -> Parsed<'a> {
    let tokens = Tokens::new(line.text);
    let arity = if command == Storage::Cas { 7 } else { 6 };
    if tokens.ntokens() != arity && tokens.ntokens() != arity + 1 {
        return line.error(ProtocolError::UnknownCommand, false);
    }
    // A sixth (seventh for cas) token other than `noreply` is ignored; and
    // `set k 0 0 noreply` is silent about its bad byte count.
    let noreply = tokens.noreply();
    let bad_format = || line.error(ProtocolError::BAD_FORMAT, noreply);
    let key = tokens.get(1);
    if !valid_key(key) {
        return bad_format();
    }
    let (Some(flags), Some(exptime), Some(len)) = (
        safe_strtoul(tokens.get(2)),
        safe_strtol(tokens.get(3)),
        safe_strtol(tokens.get(4)),
    ) else {
        return bad_format();
    };
    let mode = match command {
        Storage::Set => StoreMode::Set,
        Storage::Add => StoreMode::Add,
        Storage::Replace => StoreMode::Replace,
        Storage::Append => StoreMode::Append,
        Storage::Prepend => StoreMode::Prepend,
        Storage::Cas => match safe_strtoull(tokens.get(5)) {
            Some(unique) => StoreMode::Cas(unique),
            None => return bad_format(),
        },
    };
    let len = match usize::try_from(len) {
        Ok(len) if len <= MAX_DATA_LEN => len,
        _ => return bad_format(),
    };
    if len > limits.max_item_size {
        return Parsed::TooLarge {
            unlink: (command == Storage::Set).then_some(KeyRef::Borrowed(key)),
            consumed: line.len,
            swallow: len + 2,
            silent: noreply,
        };
    }
    line.with_data_block(len, noreply, |value| {
        Request::Store(StoreRequest {
            mode,
            key,
            flags,
            exptime: exptime.into(),
            value,
            noreply,
        })
    })
}

/// `delete <key> [0] [noreply]`: memcached still accepts the hold time of
/// old clients when it is `0`.
pub(super) fn delete(line: Line<'_>) -> Parsed<'_> {
    let tokens = Tokens::new(line.text);
    let ntokens = tokens.ntokens();
    if !(3..=5).contains(&ntokens) {
        return line.error(ProtocolError::UnknownCommand, false);
    }
    let mut noreply = false;
    if ntokens > 3 {
        let hold_is_zero = tokens.get(2) == b"0";
        noreply = tokens.noreply();
        let valid = (ntokens == 4 && (hold_is_zero || noreply))
            || (ntokens == 5 && hold_is_zero && noreply);
        if !valid {
            return line.error(ProtocolError::DELETE_USAGE, noreply);
        }
    }
    let key = tokens.get(1);
    if !valid_key(key) {
        return line.error(ProtocolError::BAD_FORMAT, noreply);
    }
    line.request(Request::Delete { key, noreply })
}

/// `incr`/`decr <key> <delta> [noreply]`.
pub(super) fn arithmetic(line: Line<'_>, op: ArithOp) -> Parsed<'_> {
    let tokens = Tokens::new(line.text);
    if !matches!(tokens.ntokens(), 4 | 5) {
        return line.error(ProtocolError::UnknownCommand, false);
    }
    let noreply = tokens.noreply();
    let key = tokens.get(1);
    if !valid_key(key) {
        return line.error(ProtocolError::BAD_FORMAT, noreply);
    }
    match safe_strtoull(tokens.get(2)) {
        Some(delta) => line.request(Request::Arith {
            key,
            op,
            delta,
            noreply,
        }),
        None => line.error(ProtocolError::INVALID_DELTA, noreply),
    }
}

/// `touch <key> <exptime> [noreply]`.
pub(super) fn touch(line: Line<'_>) -> Parsed<'_> {
    let tokens = Tokens::new(line.text);
    if !matches!(tokens.ntokens(), 4 | 5) {
        return line.error(ProtocolError::UnknownCommand, false);
    }
    let noreply = tokens.noreply();
    let key = tokens.get(1);
    if !valid_key(key) {
        return line.error(ProtocolError::BAD_FORMAT, noreply);
    }
    match safe_strtol(tokens.get(2)) {
        Some(exptime) => line.request(Request::Touch {
            key,
            exptime: exptime.into(),
            noreply,
        }),
        None => line.error(ProtocolError::INVALID_EXPTIME, noreply),
    }
}

/// `stats [group]`. Arguments after the group are not kept.
pub(super) fn stats(line: Line<'_>) -> Parsed<'_> {
    let group = match Tokens::new(line.text).get(1) {
        b"" => StatsGroup::General,
        b"reset" => StatsGroup::Reset,
        b"settings" => StatsGroup::Settings,
        other => StatsGroup::Other(other),
    };
    line.request(Request::Stats(group))
}

/// `flush_all [delay] [noreply]`.
///
/// memcached reads the delay only when the token count says there is one,
/// and ignores a third token (`flush_all 10 20` flushes in 10 s). A delay of
/// zero or less flushes now, so it is given as 0.
pub(super) fn flush_all(line: Line<'_>) -> Parsed<'_> {
    let tokens = Tokens::new(line.text);
    let ntokens = tokens.ntokens();
    if !(2..=4).contains(&ntokens) {
        return line.error(ProtocolError::UnknownCommand, false);
    }
    let noreply = tokens.noreply();
    let mut delay = 0;
    if ntokens != if noreply { 3 } else { 2 } {
        match safe_strtol(tokens.get(1)) {
            Some(exptime) => delay = exptime.max(0),
            None => return line.error(ProtocolError::INVALID_EXPTIME, noreply),
        }
    }
    line.request(Request::FlushAll {
        delay: delay.into(),
        noreply,
    })
}

/// `verbosity <level> [noreply]`: the level must be a number, then is
/// ignored. Without a level memcached answers `ERROR`.
pub(super) fn verbosity(line: Line<'_>) -> Parsed<'_> {
    let tokens = Tokens::new(line.text);
    if !matches!(tokens.ntokens(), 3 | 4) {
        return line.error(ProtocolError::UnknownCommand, false);
    }
    let noreply = tokens.noreply();
    match safe_strtoul(tokens.get(1)) {
        Some(_) => line.request(Request::Verbosity { noreply }),
        None => line.error(ProtocolError::BAD_FORMAT, noreply),
    }
}

/// `cache_memlimit <megabytes> [noreply]`. memcached answers a bad number
/// with a plain `ERROR`, and reads the number into 32 bits.
pub(super) fn cache_memlimit(line: Line<'_>) -> Parsed<'_> {
    let tokens = Tokens::new(line.text);
    if !matches!(tokens.ntokens(), 3 | 4) {
        return line.error(ProtocolError::UnknownCommand, false);
    }
    let noreply = tokens.noreply();
    match safe_strtoul(tokens.get(1)) {
        Some(megabytes) => line.request(Request::CacheMemlimit {
            megabytes: megabytes.into(),
            noreply,
        }),
        None => line.error(ProtocolError::UnknownCommand, noreply),
    }
}
