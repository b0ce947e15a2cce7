//! `WRONGTYPE` for the string commands: which keys of a command must hold
//! a string (or nothing), checked before the command runs, so that the
//! string, bitmap, `BITFIELD` and `LCS` code only ever meets strings.
//!
//! Commands that overwrite whatever a key holds (`SET` without `GET`,
//! `SETEX`, `MSET`…) and those that only test existence (`SETNX`,
//! `MSETNX`) are not checked, as in Redis. `GET` and `SET … GET` check
//! their own key (`GET` is too hot for a second lookup). The check comes
//! before argument errors, where Redis sometimes parses arguments first
//! (`INCRBY k notanumber` on a hash says `WRONGTYPE` here).
//!
//! The collection families go through [`read`], [`write()`] and [`update`],
//! which find (or create) a key's collection of the family's type or say
//! why not.

use super::{Command, RespContext};
use crate::clock::Now;
use crate::protocol::resp::{reply, Argv};
use crate::store::{Collection, Item, ItemMeta, Typed};

/// Redis's reply to an operation on a key of another type.
pub const WRONGTYPE: &[u8] = b"WRONGTYPE Operation against a key holding the wrong kind of value";

/// `LCS`'s own words for a key that holds no string.
pub const LCS_NOT_STRINGS: &[u8] = b"ERR The specified keys must contain string values";

/// The error to reply if one of the keys that `command` reads as a string
/// holds a collection: [`WRONGTYPE`], or LCS's own words.
pub fn refusal(
    command: Command,
    argv: &Argv<'_>,
    cx: &mut RespContext<'_>,
) -> Option<&'static [u8]> {
    let error = if command == Command::Lcs {
        LCS_NOT_STRINGS
    } else {
        WRONGTYPE
    };
    refuses(command, argv, cx).then_some(error)
}

/// Whether one of the keys that `command` reads as a string holds a
/// collection.
fn refuses(command: Command, argv: &Argv<'_>, cx: &mut RespContext<'_>) -> bool {
    let keys = match command {
        Command::Getset
        | Command::Getdel
        | Command::Getex
        | Command::Append
        | Command::Strlen
        | Command::Incr
        | Command::Decr
        | Command::Incrby
        | Command::Decrby
        | Command::Incrbyfloat
        | Command::Getrange
        | Command::Setrange
        | Command::Setbit
        | Command::Getbit
        | Command::Bitcount
        | Command::Bitpos
        | Command::Bitfield
        | Command::BitfieldRo => 1..2,
        Command::Lcs => 1..3,
        // The sources; the destination is overwritten.
        Command::Bitop => 3..argv.len(),
        _ => return false,
    };
    keys.filter_map(|index| argv.get(index))
        .any(|key| holds_collection(key, cx))
}

/// Whether `key` holds a live collection.
pub fn holds_collection(key: &[u8], cx: &mut RespContext<'_>) -> bool {
    cx.store
        .get(key, cx.now)
        .is_some_and(|item| !item.is_string())
}

/// Why a collection command cannot run on its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The key holds another type.
    WrongType,
    /// A new key found no room in the shard's index.
    Full,
}

impl Refused {
    /// Writes the reply.
    pub fn answer(self, out: &mut Vec<u8>) {
        match self {
            Refused::WrongType => reply::error(out, WRONGTYPE),
            Refused::Full => reply::error(out, b"ERR the shard's index is full"),
        }
    }
}

/// The `T` under `key` to read (`None`: no such key); a read is an access.
pub fn read<'c, T: Typed>(
    key: &[u8],
    cx: &'c mut RespContext<'_>,
) -> Result<Option<&'c T>, Refused> {
    let now = cx.now;
    let Some(mut item) = cx.store.read(key, now) else {
        return Ok(None);
    };
    item.set_last_access(now);
    match item.into_collection().and_then(T::of) {
        Some(value) => Ok(Some(value)),
        None => Err(Refused::WrongType),
    }
}

/// Stores `collection` under `destination` as a fresh key (a `…STORE`
/// command's result), replacing whatever was there; an empty collection
/// deletes `destination` instead, as Redis does.
pub fn store(
    destination: &[u8],
    collection: Collection,
    cx: &mut RespContext<'_>,
) -> Result<(), Refused> {
    if collection.is_empty() {
        cx.store.remove(destination);
        return Ok(());
    }
    let meta = ItemMeta {
        cas: cx.store.next_cas(),
        ..ItemMeta::default()
    };
    cx.store
        .insert_collection(destination, collection, meta, cx.now)
        .map(|_| ())
        .map_err(|_| Refused::Full)
}

/// Changes the `T` under `key` with `change`, creating an empty one first
/// if there is none (removed again if `change` leaves it empty, as any
/// emptied collection is). The store's `bytes` follow the change.
pub fn write<T: Typed, R>(
    key: &[u8],
    cx: &mut RespContext<'_>,
    change: impl FnOnce(&mut T) -> R,
) -> Result<R, Refused> {
    write_if(key, cx, change, |_| true)
}

/// [`write`] of a command that may change nothing: the key counts as
/// written (a fresh CAS, what `WATCH` sees) only if `changed` says so from
/// `change`'s result, where Redis signals the key modified.
pub fn write_if<T: Typed, R>(
    key: &[u8],
    cx: &mut RespContext<'_>,
    change: impl FnOnce(&mut T) -> R,
    changed: impl FnOnce(&R) -> bool,
) -> Result<R, Refused> {
    let now = cx.now;
    let item = cx
        .store
        .get_or_insert_collection(key, now, T::empty)
        .map_err(|_| Refused::Full)?;
    change_typed(item, now, change, changed)
}

/// Applies `change` to the `T` that `item` holds (`WrongType` if it holds
/// another type): the one body of [`write_if`] and [`update_if`].
fn change_typed<T: Typed, R>(
    mut item: Item<'_>,
    now: Now,
    change: impl FnOnce(&mut T) -> R,
    changed: impl FnOnce(&R) -> bool,
) -> Result<R, Refused> {
    if item.collection().and_then(T::of).is_none() {
        return Err(Refused::WrongType);
    }
    item.set_last_access(now);
    let done = item.update_collection_if(
        |collection| T::of_mut(collection).map(change),
        |done| done.as_ref().is_some_and(changed),
    );
    done.flatten().ok_or(Refused::WrongType)
}

/// Changes the `T` under `key` with `change` if there is one (`None`: no
/// such key), removing it if left empty.
pub fn update<T: Typed, R>(
    key: &[u8],
    cx: &mut RespContext<'_>,
    change: impl FnOnce(&mut T) -> R,
) -> Result<Option<R>, Refused> {
    update_if(key, cx, change, |_| true)
}

/// [`update`] of a command that may change nothing: as [`write_if`].
pub fn update_if<T: Typed, R>(
    key: &[u8],
    cx: &mut RespContext<'_>,
    change: impl FnOnce(&mut T) -> R,
    changed: impl FnOnce(&R) -> bool,
) -> Result<Option<R>, Refused> {
    let now = cx.now;
    let Some(item) = cx.store.get(key, now) else {
        return Ok(None);
    };
    change_typed(item, now, change, changed).map(Some)
}
