//! The hash commands: HSET, HSETNX, HGET, HMGET, HMSET, HDEL, HEXISTS,
//! HLEN, HSTRLEN, HKEYS, HVALS, HGETALL, HINCRBY, HINCRBYFLOAT, HRANDFIELD
//! and HSCAN, with Redis 7's replies and errors, on the store's
//! [`Hash`] (a listpack, then a hashtable past `hash-max-listpack-*`).
//!
//! Argument errors come before the key's type is looked at, as in Redis;
//! a hash emptied by HDEL disappears with its key.

use super::long_double::{self, LongDouble, Number};
use super::random;
use super::scan::{self, ScanRequest};
use super::typecheck::{self, Refused};
use super::{glob, parse_i64, wrong_arity, Command, RespContext, NOT_AN_INTEGER};
use crate::protocol::resp::reply::{self, Version};
use crate::protocol::resp::Argv;
use crate::store::Hash;

/// `ERR hash value is not an integer`.
const NOT_AN_INTEGER_FIELD: &[u8] = b"ERR hash value is not an integer";
/// `ERR hash value is not a float`.
const NOT_A_FLOAT_FIELD: &[u8] = b"ERR hash value is not a float";
/// `ERR value is not a valid float`.
const NOT_A_FLOAT: &[u8] = b"ERR value is not a valid float";

/// Runs a hash command (the caller checked its arity).
pub fn execute(command: Command, argv: &Argv<'_>, cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let key = argv.get(1).unwrap_or_default();
    let arg = |index: usize| argv.get(index).unwrap_or_default();
    let result = match command {
        Command::Hset | Command::Hmset => {
            if argv.len() % 2 == 1 {
                return wrong_arity(command.spec().name, out);
            }
            let limits = cx.limits();
            typecheck::write(key, cx, |hash: &mut Hash| {
                let mut args = argv.iter().skip(2);
                let mut added = 0;
                while let (Some(field), Some(value)) = (args.next(), args.next()) {
                    added += hash.insert(field, value, &limits) as i64;
                }
                added
            })
            .map(|added| match command {
                Command::Hset => reply::integer(out, added),
                _ => reply::simple_string(out, b"OK"),
            })
        }
        Command::Hsetnx => {
            let limits = cx.limits();
            let add = |hash: &mut Hash| {
                hash.get(arg(2)).is_none() && hash.insert(arg(2), arg(3), &limits)
            };
            typecheck::write_if(key, cx, add, |added| *added)
                .map(|added| reply::integer(out, added as i64))
        }
        Command::Hget => {
            let version = cx.version;
            read(key, cx).map(|hash| match hash.and_then(|h| h.get(arg(2))) {
                Some(value) => reply::bulk(out, value),
                None => reply::null(out, version),
            })
        }
        Command::Hmget => {
            let version = cx.version;
            read(key, cx).map(|hash| {
                reply::array_header(out, argv.len() - 2);
                for field in argv.iter().skip(2) {
                    match hash.and_then(|h| h.get(field)) {
                        Some(value) => reply::bulk(out, value),
                        None => reply::null(out, version),
                    }
                }
            })
        }
        Command::Hdel => {
            let remove = |hash: &mut Hash| {
                argv.iter()
                    .skip(2)
                    .filter(|field| hash.remove(field))
                    .count()
            };
            typecheck::update_if(key, cx, remove, |removed| *removed > 0)
        }
        .map(|removed| reply::integer(out, removed.unwrap_or(0) as i64)),
        Command::Hexists => read(key, cx).map(|hash| {
            let found = hash.is_some_and(|h| h.get(arg(2)).is_some());
            reply::integer(out, found as i64)
        }),
        Command::Hlen => {
            read(key, cx).map(|hash| reply::integer(out, hash.map_or(0, Hash::len) as i64))
        }
        Command::Hstrlen => read(key, cx).map(|hash| {
            let len = hash.and_then(|h| h.get(arg(2))).map_or(0, <[u8]>::len);
            reply::integer(out, len as i64)
        }),
        Command::Hkeys | Command::Hvals | Command::Hgetall => {
            let version = cx.version;
            read(key, cx).map(|hash| {
                let len = hash.map_or(0, Hash::len);
                match command {
                    Command::Hgetall => reply::map_header(out, version, len),
                    _ => reply::array_header(out, len),
                }
                for (field, value) in hash.into_iter().flat_map(Hash::iter) {
                    if command != Command::Hvals {
                        reply::bulk(out, field);
                    }
                    if command != Command::Hkeys {
                        reply::bulk(out, value);
                    }
                }
            })
        }
        Command::Hincrby => return hincrby(key, arg(2), arg(3), cx, out),
        Command::Hincrbyfloat => return hincrbyfloat(key, arg(2), arg(3), cx, out),
        Command::Hrandfield => return hrandfield(argv, cx, out),
        Command::Hscan => return hscan(argv, cx, out),
        _ => return reply::error(out, b"ERR internal routing error"),
    };
    if let Err(refused) = result {
        refused.answer(out);
    }
}

/// The hash under `key` to read.
fn read<'c>(key: &[u8], cx: &'c mut RespContext<'_>) -> Result<Option<&'c Hash>, Refused> {
    typecheck::read::<Hash>(key, cx)
}

/// `HINCRBY key field increment`.
fn hincrby(key: &[u8], field: &[u8], by: &[u8], cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let Some(by) = parse_i64(by) else {
        return reply::error(out, NOT_AN_INTEGER);
    };
    let limits = cx.limits();
    let increment = |hash: &mut Hash| {
        let current = match hash.get(field) {
            Some(value) => parse_i64(value).ok_or(NOT_AN_INTEGER_FIELD)?,
            None => 0,
        };
        let sum = current
            .checked_add(by)
            .ok_or(&b"ERR increment or decrement would overflow"[..])?;
        hash.insert(field, itoa::Buffer::new().format(sum).as_bytes(), &limits);
        Ok(sum)
    };
    // A refused increment changes nothing.
    let result = typecheck::write_if(key, cx, increment, Result::is_ok);
    match result {
        Ok(Ok(sum)) => reply::integer(out, sum),
        Ok(Err(error)) => reply::error(out, error),
        Err(refused) => refused.answer(out),
    }
}

/// `HINCRBYFLOAT key field increment`, in x87 `long double` arithmetic as
/// INCRBYFLOAT (`long_double`).
fn hincrbyfloat(key: &[u8], field: &[u8], by: &[u8], cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let by = match long_double::parse(by) {
        Some(Number::Finite(by)) => by,
        Some(_) => return reply::error(out, b"ERR value is NaN or Infinity"),
        None => return reply::error(out, NOT_A_FLOAT),
    };
    let limits = cx.limits();
    let increment = |hash: &mut Hash| {
        let current = match hash.get(field).map(long_double::parse) {
            None => LongDouble::ZERO,
            Some(Some(Number::Finite(current))) => current,
            Some(_) => return Err(NOT_A_FLOAT_FIELD),
        };
        let sum = current
            .add(by)
            .ok_or(&b"ERR increment would produce NaN or Infinity"[..])?;
        let text = sum.to_human();
        hash.insert(field, text.as_bytes(), &limits);
        Ok(text)
    };
    let result = typecheck::write_if(key, cx, increment, Result::is_ok);
    match result {
        Ok(Ok(text)) => reply::bulk(out, text.as_bytes()),
        Ok(Err(error)) => reply::error(out, error),
        Err(refused) => refused.answer(out),
    }
}

/// `HRANDFIELD key [count [WITHVALUES]]`: without a count one random field
/// (or null); a positive count gives distinct fields (all of them if it is
/// larger than the hash), a negative one that many, possibly repeated.
fn hrandfield(argv: &Argv<'_>, cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let key = argv.get(1).unwrap_or_default();
    let version = cx.version;
    if argv.get(2).is_none() {
        return match read(key, cx) {
            Ok(Some(hash)) => {
                let index = fastrand::usize(..hash.len());
                let (field, _) = hash.get_index(index).unwrap_or_default();
                reply::bulk(out, field)
            }
            Ok(None) => reply::null(out, version),
            Err(refused) => refused.answer(out),
        };
    }
    let (count, with_values) = match random::parse_count(argv, Some(b"withvalues")) {
        Ok(parsed) => parsed,
        Err(error) => return reply::error(out, error),
    };
    let hash = match read(key, cx) {
        Ok(Some(hash)) => hash,
        Ok(None) => return reply::array_header(out, 0),
        Err(refused) => return refused.answer(out),
    };
    let len = hash.len();
    let picks = random::picks(count, len);
    let pairs_nested = with_values && version == Version::Resp3;
    let items = if with_values && !pairs_nested {
        2 * picks.len()
    } else {
        picks.len()
    };
    reply::array_header(out, items);
    for index in picks {
        let (field, value) = hash.get_index(index).unwrap_or_default();
        if pairs_nested {
            reply::array_header(out, 2);
        }
        reply::bulk(out, field);
        if with_values {
            reply::bulk(out, value);
        }
    }
}

/// `HSCAN key cursor [MATCH pattern] [COUNT count]`. A listpack is
/// returned whole with cursor 0, as Redis does; a hashtable is walked
/// from its last entry down: the cursor is the number of entries still
/// to visit. Removing an entry moves the last one into its place, which is
/// never from the unvisited part into the visited one, so every field
/// present for the whole scan is returned at least once.
fn hscan(argv: &Argv<'_>, cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let key = argv.get(1).unwrap_or_default();
    let request = match scan::parse_from(argv, 2, false) {
        Ok(request) => request,
        Err(error) => return reply::error(out, error),
    };
    let hash = match read(key, cx) {
        Ok(hash) => hash,
        Err(refused) => return refused.answer(out),
    };
    let (next, picked) = match hash {
        None => (0, Vec::new()),
        Some(hash) => scan_hash(hash, &request),
    };
    reply::array_header(out, 2);
    reply::bulk(out, itoa::Buffer::new().format(next).as_bytes());
    reply::array_header(out, 2 * picked.len());
    for (field, value) in picked {
        reply::bulk(out, field);
        reply::bulk(out, value);
    }
}

/// A field and its value.
type Entry<'h> = (&'h [u8], &'h [u8]);

/// One HSCAN step over `hash`: the next cursor and the matching entries.
fn scan_hash<'h>(hash: &'h Hash, request: &ScanRequest<'_>) -> (u64, Vec<Entry<'h>>) {
    let wanted = |field: &[u8]| {
        request
            .pattern
            .is_none_or(|p| glob::matches(p, field, false))
    };
    if hash.encoding() == "listpack" {
        let all = hash.iter().filter(|(field, _)| wanted(field)).collect();
        return (0, all);
    }
    let len = hash.len() as u64;
    let start = match request.cursor {
        0 => len,
        cursor => cursor.min(len),
    };
    let end = start.saturating_sub(request.count as u64);
    let picked = (end..start)
        .rev()
        .filter_map(|index| hash.get_index(index as usize))
        .filter(|(field, _)| wanted(field))
        .collect();
    (end, picked)
}
