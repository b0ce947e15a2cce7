//! Commands that move a value from one key to another: RENAME, RENAMENX
//! and COPY. Here both keys are on this shard; when they are not,
//! `server::txn` runs the same steps on the two shards through
//! [`dump`], [`restore`] and [`parse_copy`].
//!
//! The moved item keeps its value, its memcached flags and its deadline, as
//! Redis keeps the TTL; it gets a fresh CAS, since it is a new item under
//! the destination key.

use super::{parse_i64, Command, RespContext, NOT_AN_INTEGER, SYNTAX_ERROR};
use crate::clock::ExpiresAt;
use crate::protocol::resp::reply;
use crate::protocol::resp::Argv;
use crate::store::ItemMeta;

/// `ERR no such key`.
pub const NO_SUCH_KEY: &[u8] = b"ERR no such key";
/// COPY onto its own source.
pub const SAME_OBJECT: &[u8] = b"ERR source and destination objects are the same";
/// A database other than 0 (corecache has one).
pub const DB_OUT_OF_RANGE: &[u8] = b"ERR DB index is out of range";

/// Runs RENAME, RENAMENX or COPY with both keys on this shard.
pub fn execute(command: Command, argv: &Argv<'_>, cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let source = argv.get(1).unwrap_or_default();
    let destination = argv.get(2).unwrap_or_default();
    let replace = match command {
        Command::Copy => match parse_copy(argv) {
            Ok(replace) => replace,
            Err(error) => return reply::error(out, error),
        },
        _ => true,
    };
    let mut dumped = Vec::new();
    dump(source, cx, &mut dumped);
    let Some(item) = Dumped::decode(&dumped) else {
        return match command {
            Command::Copy => reply::integer(out, 0),
            _ => reply::error(out, NO_SUCH_KEY),
        };
    };
    if source == destination {
        return match command {
            Command::Rename => reply::simple_string(out, b"OK"),
            Command::Renamenx => reply::integer(out, 0),
            _ => reply::error(out, SAME_OBJECT),
        };
    }
    let exists = cx.store.get(destination, cx.now).is_some();
    if exists && (command == Command::Renamenx || !replace) {
        return reply::integer(out, 0);
    }
    if command != Command::Copy {
        cx.store.remove(source);
    }
    restore(destination, &item, cx);
    answer_moved(command, out);
}

/// The reply of a move that happened.
pub fn answer_moved(command: Command, out: &mut Vec<u8>) {
    match command {
        Command::Rename => reply::simple_string(out, b"OK"),
        _ => reply::integer(out, 1),
    }
}

/// The reply of a move whose source does not exist.
pub fn answer_no_source(command: Command, out: &mut Vec<u8>) {
    match command {
        Command::Copy => reply::integer(out, 0),
        _ => reply::error(out, NO_SUCH_KEY),
    }
}

/// COPY's options (`DB n`, `REPLACE`): whether to replace an existing
/// destination, or the error to reply.
pub fn parse_copy(argv: &Argv<'_>) -> Result<bool, &'static [u8]> {
    let mut replace = false;
    let mut index = 3;
    while let Some(option) = argv.get(index) {
        if option.eq_ignore_ascii_case(b"replace") {
            replace = true;
        } else if option.eq_ignore_ascii_case(b"db") && index + 1 < argv.len() {
            index += 1;
            match parse_i64(argv.get(index).unwrap_or_default()) {
                None => return Err(NOT_AN_INTEGER),
                Some(0) => {}
                Some(_) => return Err(DB_OUT_OF_RANGE),
            }
        } else {
            return Err(SYNTAX_ERROR);
        }
        index += 1;
    }
    Ok(replace)
}

/// A key's item in transit: what [`dump`] wrote, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dumped<'a> {
    pub value: &'a [u8],
    pub client_flags: u32,
    pub expires_at: ExpiresAt,
}

impl<'a> Dumped<'a> {
    /// Reads what [`dump`] wrote; `None` if the key did not exist.
    pub fn decode(bytes: &'a [u8]) -> Option<Dumped<'a>> {
        let (header, value) = bytes.split_first_chunk::<12>()?;
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
        out.extend_from_slice(item.value());
    }
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
    let _ = cx.store.insert(key, item.value, meta, cx.now);
}
