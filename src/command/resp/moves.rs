//! Commands that move a value from one key to another: RENAME, RENAMENX,
//! COPY (and MOVE, between databases). Here both keys are in one database
//! of this shard; otherwise `server::resp` (another database) or
//! `server::txn` (another shard) runs the same steps: [`dump`] the source,
//! look at the destination, [`decide`], [`restore`], [`answer`].
//!
//! The moved item keeps its value, its memcached flags and its deadline, as
//! Redis keeps the TTL; it gets a fresh CAS, since it is a new item under
//! the destination key. A hash, list or set travels in its
//! `Collection::encode` form and is rebuilt at the destination.

use super::connection::parse_db;
use super::{Command, RespContext, SYNTAX_ERROR};
use crate::clock::ExpiresAt;
use crate::protocol::resp::reply;
use crate::protocol::resp::Argv;
use crate::store::{Collection, ItemMeta};

/// `ERR no such key`.
pub const NO_SUCH_KEY: &[u8] = b"ERR no such key";
/// A move onto its own source.
pub const SAME_OBJECT: &[u8] = b"ERR source and destination objects are the same";

/// Runs RENAME, RENAMENX or COPY with both keys in this shard's current
/// database (`COPY … DB n` into another database runs in `server::resp`,
/// which holds every database).
pub fn execute(command: Command, argv: &Argv<'_>, cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let source = argv.get(1).unwrap_or_default();
    let destination = argv.get(2).unwrap_or_default();
    let replace = match command {
        Command::Copy => match parse_copy(argv, cx.settings.databases) {
            Ok(options) => options.replace,
            Err(error) => return reply::error(out, error),
        },
        _ => true,
    };
    let mut dumped = Vec::new();
    dump(source, cx, &mut dumped);
    if source == destination && !dumped.is_empty() {
        return match command {
            Command::Rename => reply::simple_string(out, b"OK"),
            Command::Renamenx => reply::integer(out, 0),
            _ => reply::error(out, SAME_OBJECT),
        };
    }
    let exists = cx.store.get(destination, cx.now).is_some();
    let decision = decide(command, replace, &dumped, exists);
    if decision == Decision::Move {
        if command != Command::Copy {
            cx.store.remove(source);
        }
        if let Some(item) = Dumped::decode(&dumped) {
            restore(destination, &item, cx);
        }
    }
    answer(command, decision, out);
}

/// What a move does, once its source is read and its destination looked
/// at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// There is no source: RENAME and RENAMENX fail, COPY replies 0.
    NoSource,
    /// The destination exists and may not be replaced: 0.
    Refused,
    /// Write the destination (and, but for COPY, delete the source).
    Move,
}

/// Decides a move from the [`dump`] of its source and whether its
/// destination exists; `replace` is COPY's REPLACE (RENAME always
/// replaces, RENAMENX never).
pub fn decide(
    command: Command,
    replace: bool,
    dumped: &[u8],
    destination_exists: bool,
) -> Decision {
    if Dumped::decode(dumped).is_none() {
        Decision::NoSource
    } else if destination_exists && (command == Command::Renamenx || !replace) {
        Decision::Refused
    } else {
        Decision::Move
    }
}

/// The reply of a move.
pub fn answer(command: Command, decision: Decision, out: &mut Vec<u8>) {
    match (decision, command) {
        (Decision::NoSource, Command::Copy) => reply::integer(out, 0),
        (Decision::NoSource, _) => reply::error(out, NO_SUCH_KEY),
        (Decision::Refused, _) => reply::integer(out, 0),
        (Decision::Move, Command::Rename) => reply::simple_string(out, b"OK"),
        (Decision::Move, _) => reply::integer(out, 1),
    }
}

/// COPY's options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CopyOptions {
    /// `REPLACE`: overwrite an existing destination.
    pub replace: bool,
    /// `DB n`: the destination's database, when given.
    pub db: Option<usize>,
}

/// COPY's options (`DB n`, `REPLACE`) with `databases` databases, or the
/// error to reply.
pub fn parse_copy(argv: &Argv<'_>, databases: usize) -> Result<CopyOptions, &'static [u8]> {
    let mut options = CopyOptions::default();
    let mut index = 3;
    while let Some(option) = argv.get(index) {
        if option.eq_ignore_ascii_case(b"replace") {
            options.replace = true;
        } else if option.eq_ignore_ascii_case(b"db") && index + 1 < argv.len() {
            index += 1;
            options.db = Some(parse_db(argv.get(index).unwrap_or_default(), databases)?);
        } else {
            return Err(SYNTAX_ERROR);
        }
        index += 1;
    }
    Ok(options)
}

/// A key's item in transit: what [`dump`] wrote, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dumped<'a> {
    /// A string's value, or a collection's encoding.
    pub value: &'a [u8],
    /// Whether `value` is a collection's encoding.
    pub collection: bool,
    pub client_flags: u32,
    pub expires_at: ExpiresAt,
}

/// Dump header: flags (4 bytes), deadline (8), kind (1: 0 a string, 1 a
/// collection).
const HEADER: usize = 13;

impl<'a> Dumped<'a> {
    /// Reads what [`dump`] wrote; `None` if the key did not exist.
    pub fn decode(bytes: &'a [u8]) -> Option<Dumped<'a>> {
        let (header, value) = bytes.split_first_chunk::<HEADER>()?;
        let (header, kind) = header.split_at(12);
        let (flags, deadline) = header.split_at(4);
        let client_flags = u32::from_le_bytes(flags.try_into().ok()?);
        let millis = u64::from_le_bytes(deadline.try_into().ok()?);
        let expires_at = if millis == 0 {
            ExpiresAt::NEVER
        } else {
            ExpiresAt::at_millis(millis)
        };
        Some(Dumped {
            value,
            collection: kind[0] == 1,
            client_flags,
            expires_at,
        })
    }
}

/// Writes the live item under `key` (flags, deadline, value) for
/// [`Dumped::decode`], or nothing if there is none.
pub fn dump(key: &[u8], cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    if let Some(item) = cx.store.get(key, cx.now) {
        out.extend_from_slice(&item.client_flags().to_le_bytes());
        out.extend_from_slice(&item.expires_at().millis().unwrap_or(0).to_le_bytes());
        match item.collection() {
            Some(collection) => {
                out.push(1);
                collection.encode(out);
            }
            None => {
                out.push(0);
                out.extend_from_slice(item.value());
            }
        }
    }
}

/// The string values of dumped items, for commands that read strings
/// (`BITOP`, `LCS` across shards), each `None` for a missing key; `None`
/// in all if one of them holds a collection (`WRONGTYPE`).
pub fn dumped_strings<'a>(
    dumps: impl IntoIterator<Item = &'a [u8]>,
) -> Option<Vec<Option<&'a [u8]>>> {
    dumps
        .into_iter()
        .map(|bytes| match Dumped::decode(bytes) {
            Some(item) if item.collection => None,
            item => Some(item.map(|item| item.value)),
        })
        .collect()
}

/// Writes `value` as [`dump`] writes a plain string without TTL (for a
/// value computed elsewhere, such as a cross-shard `BITOP`'s result).
pub fn dump_value(value: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&0u64.to_le_bytes());
    out.push(0);
    out.extend_from_slice(value);
}

/// Stores a dumped item under `key`, replacing what is there.
pub fn restore(key: &[u8], item: &Dumped<'_>, cx: &mut RespContext<'_>) {
    let meta = ItemMeta {
        client_flags: item.client_flags,
        expires_at: item.expires_at,
        cas: cx.store.next_cas(),
        binary_key: false,
    };
    // Insertion fails only when the shard's index is full.
    if !item.collection {
        let _ = cx.store.insert(key, item.value, meta, cx.now);
        return;
    }
    match Collection::decode(item.value, &cx.limits()) {
        Some(collection) if !collection.is_empty() => {
            let _ = cx.store.insert_collection(key, collection, meta, cx.now);
        }
        // `dump` wrote it on this server: cannot happen.
        _ => {
            cx.store.remove(key);
        }
    }
}
