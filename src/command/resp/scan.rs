//! SCAN, KEYS and RANDOMKEY over a keyspace split into shards.
//!
//! A SCAN cursor names a shard and a position in that shard's store:
//! `position × shards + shard`. A scan walks shard 0 from position 0, then
//! shard 1, and so on (cursor `s` starts shard `s`); each call runs on the
//! shard its cursor names and answers with the next cursor, 0 after the
//! last shard. Within a shard the position is [`Store::scan`]'s, so a key
//! present for the whole scan is returned at least once even if the shard's
//! index grows meanwhile. KEYS asks every shard and joins the arrays.
//! RANDOMKEY picks a shard in proportion to its keys (`server::resp`),
//! then a random position in its store ([`random_key`]).
//!
//! [`Store::scan`]: crate::store::Store::scan

use super::glob;
use super::{parse_i64, RespContext, NOT_AN_INTEGER, SYNTAX_ERROR};
use crate::protocol::resp::reply;
use crate::protocol::resp::Argv;

/// SCAN's default COUNT.
const DEFAULT_COUNT: usize = 10;

/// A parsed `SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanRequest<'a> {
    pub cursor: u64,
    pub pattern: Option<&'a [u8]>,
    pub count: usize,
    /// Only keys of this type (`TYPE`'s names; an unknown one matches none).
    pub kind: Option<&'a [u8]>,
}

/// Parses SCAN's arguments; the error is the reply text.
pub fn parse<'a>(argv: &Argv<'a>) -> Result<ScanRequest<'a>, &'static [u8]> {
    parse_from(argv, 1, true)
}

/// Parses the cursor at argument `at` and the options after it (`TYPE`
/// only if `with_type`: HSCAN, SSCAN and ZSCAN have no `TYPE`).
pub fn parse_from<'a>(
    argv: &Argv<'a>,
    at: usize,
    with_type: bool,
) -> Result<ScanRequest<'a>, &'static [u8]> {
    let cursor = std::str::from_utf8(argv.get(at).unwrap_or_default())
        .ok()
        .and_then(|text| text.parse::<u64>().ok())
        .ok_or(&b"ERR invalid cursor"[..])?;
    let mut request = ScanRequest {
        cursor,
        pattern: None,
        count: DEFAULT_COUNT,
        kind: None,
    };
    let mut index = at + 1;
    while let Some(option) = argv.get(index) {
        let value = argv.get(index + 1).ok_or(SYNTAX_ERROR)?;
        match option.to_ascii_uppercase().as_slice() {
            b"MATCH" => request.pattern = Some(value),
            b"COUNT" => {
                let count = parse_i64(value).ok_or(NOT_AN_INTEGER)?;
                if count < 1 {
                    return Err(SYNTAX_ERROR);
                }
                request.count = count as usize;
            }
            b"TYPE" if with_type => request.kind = Some(value),
            _ => return Err(SYNTAX_ERROR),
        }
        index += 2;
    }
    Ok(request)
}

/// The shard a SCAN cursor names, among `shards`.
pub fn shard_of(cursor: u64, shards: usize) -> usize {
    (cursor % shards as u64) as usize
}

/// Runs one SCAN call on shard `shard` of `shards` (the one its cursor
/// names): `[next cursor, [keys…]]`.
pub fn scan(
    request: &ScanRequest<'_>,
    shard: usize,
    shards: usize,
    cx: &mut RespContext<'_>,
    out: &mut Vec<u8>,
) {
    let position = request.cursor / shards as u64;
    let mut keys: Vec<Vec<u8>> = Vec::new();
    let next = cx.store.scan(position, request.count, cx.now, |key, kind| {
        let wanted = request
            .kind
            .is_none_or(|name| name.eq_ignore_ascii_case(kind.name().as_bytes()));
        if wanted && request.pattern.is_none_or(|p| glob::matches(p, key, false)) {
            keys.push(key.to_vec());
        }
    });
    let next_cursor = match next {
        0 if shard + 1 < shards => (shard + 1) as u64,
        0 => 0,
        position => position
            .checked_mul(shards as u64)
            .and_then(|c| c.checked_add(shard as u64))
            .unwrap_or(0),
    };
    reply::array_header(out, 2);
    reply::bulk(out, itoa::Buffer::new().format(next_cursor).as_bytes());
    reply::array_header(out, keys.len());
    for key in &keys {
        reply::bulk(out, key);
    }
}

/// `RANDOMKEY` on this shard: the first live key at or after a random
/// position of the store (wrapping around), or a null when it has none.
pub fn random_key(cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let mut found: Option<Vec<u8>> = None;
    let mut cursor = fastrand::u64(..);
    let mut wrapped = false;
    while found.is_none() && !cx.store.is_empty() {
        cursor = cx.store.scan(cursor, 1, cx.now, |key, _| {
            if found.is_none() {
                found = Some(key.to_vec());
            }
        });
        if cursor == 0 {
            // From the start, once: the whole store has then been seen.
            if wrapped {
                break;
            }
            wrapped = true;
        }
    }
    match found {
        Some(key) => reply::bulk(out, &key),
        None => reply::null(out, cx.version),
    }
}

/// This shard's part of `KEYS pattern`: an array of its matching keys.
pub fn keys(pattern: &[u8], cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let mut keys: Vec<Vec<u8>> = Vec::new();
    let mut cursor = 0;
    loop {
        cursor = cx.store.scan(cursor, 1024, cx.now, |key, _| {
            if glob::matches(pattern, key, false) {
                keys.push(key.to_vec());
            }
        });
        if cursor == 0 {
            break;
        }
    }
    reply::array_header(out, keys.len());
    for key in &keys {
        reply::bulk(out, key);
    }
}
