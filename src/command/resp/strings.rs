//! The string commands: GET, SET (EX PX EXAT PXAT NX XX KEEPTTL GET),
//! SETNX, SETEX, PSETEX, GETSET, GETDEL, GETEX, APPEND, STRLEN, the
//! INCR/DECR family, INCRBYFLOAT, GETRANGE and SETRANGE, MSET and MSETNX
//! (with all keys on this shard; `server::txn` splits the others), with
//! Redis 7's replies and errors.

use super::long_double::{self, LongDouble, Number};
use super::typecheck::WRONGTYPE;
use super::{parse_i64, Command, RespContext, MAX_STRING, NOT_AN_INTEGER, SYNTAX_ERROR};
use crate::clock::ExpiresAt;
use crate::protocol::resp::reply;
use crate::protocol::resp::Argv;
use crate::store::ItemMeta;

/// Runs a string command (the caller checked its arity).
pub fn execute(command: Command, argv: &Argv<'_>, cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let key = argv.get(1).unwrap_or_default();
    let arg = |index: usize| argv.get(index).unwrap_or_default();
    match command {
        Command::Get => get(key, cx, out),
        Command::Set => set(argv, cx, out),
        Command::Setnx => {
            let stored = cx.store.get(key, cx.now).is_none();
            if stored {
                store(key, arg(2), ExpiresAt::NEVER, cx);
            }
            reply::integer(out, stored as i64);
        }
        Command::Setex | Command::Psetex => {
            let unit = if command == Command::Setex { 1000 } else { 1 };
            match relative_expiry(arg(2), unit, cx) {
                Ok(expires_at) => {
                    store(key, arg(3), expires_at, cx);
                    reply::simple_string(out, b"OK");
                }
                Err(error) => expire_error(error, command.spec().name, out),
            }
        }
        Command::Getset => {
            get(key, cx, out);
            store(key, arg(2), ExpiresAt::NEVER, cx);
        }
        Command::Getdel => {
            get(key, cx, out);
            cx.store.remove(key);
        }
        Command::Getex => getex(argv, cx, out),
        Command::Append => {
            let len = match cx.store.get(key, cx.now) {
                Some(mut item) => {
                    item.append_value(arg(2));
                    item.set_fresh_cas();
                    item.value().len()
                }
                None => {
                    store(key, arg(2), ExpiresAt::NEVER, cx);
                    arg(2).len()
                }
            };
            reply::integer(out, len as i64);
        }
        Command::Strlen => {
            let len = cx
                .store
                .read(key, cx.now)
                .map_or(0, |item| item.value().len());
            reply::integer(out, len as i64);
        }
        Command::Incr => incr_by(key, Some(1), cx, out),
        Command::Decr => incr_by(key, Some(-1), cx, out),
        Command::Incrby => incr_by(key, parse_i64(arg(2)), cx, out),
        Command::Decrby => incr_by(key, parse_i64(arg(2)).and_then(i64::checked_neg), cx, out),
        Command::Mset => {
            mset(argv, cx);
            reply::simple_string(out, b"OK");
        }
        Command::Msetnx => {
            let pairs = argv.iter().skip(1).step_by(2);
            let any = pairs
                .into_iter()
                .any(|key| cx.store.get(key, cx.now).is_some());
            if !any {
                mset(argv, cx);
            }
            reply::integer(out, !any as i64);
        }
        Command::Getrange => getrange(key, arg(2), arg(3), cx, out),
        Command::Setrange => setrange(key, arg(2), arg(3), cx, out),
        Command::Incrbyfloat => incr_by_float(key, arg(2), cx, out),
        _ => reply::error(out, b"ERR internal routing error"),
    }
}

/// Stores every `key value` pair of an MSET whose keys are all here (the
/// caller checked that the pairs are complete).
fn mset(argv: &Argv<'_>, cx: &mut RespContext<'_>) {
    let mut args = argv.iter().skip(1);
    while let (Some(key), Some(value)) = (args.next(), args.next()) {
        store(key, value, ExpiresAt::NEVER, cx);
    }
}

/// Replies with the key's value, or null. A read is an access
/// (`OBJECT IDLETIME`).
fn get(key: &[u8], cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    match cx.store.read(key, cx.now) {
        Some(item) if !item.is_string() => reply::error(out, WRONGTYPE),
        Some(mut item) => {
            item.set_last_access(cx.now);
            reply::bulk(out, item.value())
        }
        None => reply::null(out, cx.version),
    }
}

/// Stores `value` under `key` as a plain string (memcached flags 0).
pub(super) fn store(key: &[u8], value: &[u8], expires_at: ExpiresAt, cx: &mut RespContext<'_>) {
    let meta = ItemMeta {
        client_flags: 0,
        expires_at,
        cas: cx.store.next_cas(),
        binary_key: false,
    };
    // Insertion fails only when the shard's index is full.
    let _ = cx.store.insert(key, value, meta, cx.now);
}

/// Why an expire time was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpireError {
    /// Not an integer.
    NotInteger,
    /// Zero, negative or overflowing.
    Invalid,
}

/// Writes the reply for a refused expire time of command `name`.
pub fn expire_error(error: ExpireError, name: &str, out: &mut Vec<u8>) {
    match error {
        ExpireError::NotInteger => reply::error(out, NOT_AN_INTEGER),
        ExpireError::Invalid => {
            let text = format!("ERR invalid expire time in '{name}' command");
            reply::error(out, text.as_bytes());
        }
    }
}

/// A positive relative time of `arg` units (1000: seconds, 1: ms) as a
/// deadline.
fn relative_expiry(arg: &[u8], unit: i64, cx: &RespContext<'_>) -> Result<ExpiresAt, ExpireError> {
    let n = parse_i64(arg).ok_or(ExpireError::NotInteger)?;
    if n <= 0 {
        return Err(ExpireError::Invalid);
    }
    let millis = n
        .checked_mul(unit)
        .and_then(|ms| ms.checked_add(cx.now.millis() as i64))
        .ok_or(ExpireError::Invalid)?;
    Ok(ExpiresAt::at_millis(millis as u64))
}

/// A positive absolute Unix time of `arg` units as a deadline.
fn absolute_expiry(arg: &[u8], unit: i64) -> Result<ExpiresAt, ExpireError> {
    let n = parse_i64(arg).ok_or(ExpireError::NotInteger)?;
    if n <= 0 {
        return Err(ExpireError::Invalid);
    }
    let millis = n.checked_mul(unit).ok_or(ExpireError::Invalid)?;
    Ok(ExpiresAt::at_millis(millis as u64))
}

/// An expiry option of SET or GETEX: `EX s`, `PX ms`, `EXAT t`, `PXAT t`.
fn expiry_option(
    name: &[u8],
    value: &[u8],
    cx: &RespContext<'_>,
) -> Option<Result<ExpiresAt, ExpireError>> {
    let upper = name.to_ascii_uppercase();
    Some(match upper.as_slice() {
        b"EX" => relative_expiry(value, 1000, cx),
        b"PX" => relative_expiry(value, 1, cx),
        b"EXAT" => absolute_expiry(value, 1000),
        b"PXAT" => absolute_expiry(value, 1),
        _ => return None,
    })
}

/// `SET key value [NX | XX] [GET] [EX s | PX ms | EXAT t | PXAT t | KEEPTTL]`.
fn set(argv: &Argv<'_>, cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let key = argv.get(1).unwrap_or_default();
    let value = argv.get(2).unwrap_or_default();
    let (mut nx, mut xx, mut get_old, mut keep_ttl) = (false, false, false, false);
    let mut expiry: Option<ExpiresAt> = None;
    let mut index = 3;
    while let Some(option) = argv.get(index) {
        let upper = option.to_ascii_uppercase();
        match upper.as_slice() {
            b"NX" if !xx => nx = true,
            b"XX" if !nx => xx = true,
            b"GET" => get_old = true,
            b"KEEPTTL" if expiry.is_none() => keep_ttl = true,
            b"EX" | b"PX" | b"EXAT" | b"PXAT" if expiry.is_none() && !keep_ttl => {
                let Some(arg) = argv.get(index + 1) else {
                    return reply::error(out, SYNTAX_ERROR);
                };
                match expiry_option(option, arg, cx) {
                    Some(Ok(at)) => expiry = Some(at),
                    Some(Err(error)) => return expire_error(error, "set", out),
                    None => return reply::error(out, SYNTAX_ERROR),
                }
                index += 1;
            }
            _ => return reply::error(out, SYNTAX_ERROR),
        }
        index += 1;
    }
    let old = cx.store.get(key, cx.now);
    let exists = old.is_some();
    let old_expiry = old.as_ref().map(|item| item.expires_at());
    if get_old && old.as_ref().is_some_and(|item| !item.is_string()) {
        return reply::error(out, WRONGTYPE);
    }
    if get_old {
        match &old {
            Some(item) => reply::bulk(out, item.value()),
            None => reply::null(out, cx.version),
        }
    }
    if (nx && exists) || (xx && !exists) {
        if !get_old {
            reply::null(out, cx.version);
        }
        return;
    }
    let expires_at = match (expiry, keep_ttl) {
        (Some(at), _) => at,
        (None, true) => old_expiry.unwrap_or(ExpiresAt::NEVER),
        (None, false) => ExpiresAt::NEVER,
    };
    store(key, value, expires_at, cx);
    if !get_old {
        reply::simple_string(out, b"OK");
    }
}

/// `GETEX key [EX s | PX ms | EXAT t | PXAT t | PERSIST]`.
fn getex(argv: &Argv<'_>, cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let key = argv.get(1).unwrap_or_default();
    let change = match (argv.get(2), argv.get(3), argv.len()) {
        (None, _, _) => None,
        (Some(option), None, 3) if option.eq_ignore_ascii_case(b"persist") => {
            Some(ExpiresAt::NEVER)
        }
        (Some(option), Some(arg), 4) => match expiry_option(option, arg, cx) {
            Some(Ok(at)) => Some(at),
            Some(Err(error)) => return expire_error(error, "getex", out),
            None => return reply::error(out, SYNTAX_ERROR),
        },
        _ => return reply::error(out, SYNTAX_ERROR),
    };
    match cx.store.get(key, cx.now) {
        Some(mut item) => {
            reply::bulk(out, item.value());
            if let Some(at) = change {
                item.set_expires_at(at);
            }
        }
        None => reply::null(out, cx.version),
    }
}

/// INCR, DECR, INCRBY, DECRBY: `by` is `None` when the increment itself
/// is not an integer.
fn incr_by(key: &[u8], by: Option<i64>, cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let Some(by) = by else {
        return reply::error(out, NOT_AN_INTEGER);
    };
    const OVERFLOW: &[u8] = b"ERR increment or decrement would overflow";
    let mut digits = itoa::Buffer::new();
    let next = match cx.store.get(key, cx.now) {
        Some(mut item) => {
            let Some(current) = parse_i64(item.value()) else {
                return reply::error(out, NOT_AN_INTEGER);
            };
            let Some(next) = current.checked_add(by) else {
                return reply::error(out, OVERFLOW);
            };
            item.set_value(digits.format(next).as_bytes());
            item.set_fresh_cas();
            next
        }
        None => {
            store(key, digits.format(by).as_bytes(), ExpiresAt::NEVER, cx);
            by
        }
    };
    reply::integer(out, next);
}

/// `INCRBYFLOAT key increment`, in x87 `long double` arithmetic as Redis
/// on x86-64 Linux (see [`long_double`]): the key's value (0 when missing)
/// and the increment must both read as floats; the sum is stored and
/// replied as `%.17Lf` without trailing zeros. The TTL stays.
fn incr_by_float(key: &[u8], by: &[u8], cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    const NOT_A_FLOAT: &[u8] = b"ERR value is not a valid float";
    const NOT_FINITE: &[u8] = b"ERR increment would produce NaN or Infinity";
    let item = cx.store.get(key, cx.now);
    let current = match &item {
        Some(item) => long_double::parse(item.value()),
        None => Some(Number::Finite(LongDouble::ZERO)),
    };
    let (Some(current), Some(by)) = (current, long_double::parse(by)) else {
        return reply::error(out, NOT_A_FLOAT);
    };
    let sum = match (current, by) {
        (Number::Finite(current), Number::Finite(by)) => current.add(by),
        _ => None,
    };
    let Some(sum) = sum else {
        return reply::error(out, NOT_FINITE);
    };
    let text = sum.to_human();
    match item {
        Some(mut item) => {
            item.set_value(text.as_bytes());
            item.set_fresh_cas();
        }
        None => store(key, text.as_bytes(), ExpiresAt::NEVER, cx),
    }
    reply::bulk(out, text.as_bytes());
}

/// `GETRANGE key start end`: negative offsets count from the end.
fn getrange(key: &[u8], start: &[u8], end: &[u8], cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let (Some(start), Some(end)) = (parse_i64(start), parse_i64(end)) else {
        return reply::error(out, NOT_AN_INTEGER);
    };
    let Some(item) = cx.store.read(key, cx.now) else {
        return reply::bulk(out, b"");
    };
    let value = item.value();
    let len = value.len() as i64;
    if start < 0 && end < 0 && start > end {
        return reply::bulk(out, b"");
    }
    let start = if start < 0 {
        (len + start).max(0)
    } else {
        start
    };
    let end = if end < 0 { (len + end).max(0) } else { end }.min(len - 1);
    if len == 0 || start > end {
        return reply::bulk(out, b"");
    }
    reply::bulk(out, &value[start as usize..=end as usize]);
}

/// `SETRANGE key offset value`: zero-pads as needed.
fn setrange(key: &[u8], offset: &[u8], value: &[u8], cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let Some(offset) = parse_i64(offset) else {
        return reply::error(out, NOT_AN_INTEGER);
    };
    if offset < 0 {
        return reply::error(out, b"ERR offset is out of range");
    }
    let current = cx.store.get(key, cx.now).map(|item| item.value().to_vec());
    if value.is_empty() {
        return reply::integer(out, current.map_or(0, |v| v.len()) as i64);
    }
    if offset + value.len() as i64 > MAX_STRING {
        return reply::error(
            out,
            b"ERR string exceeds maximum allowed size (proto-max-bulk-len)",
        );
    }
    let mut bytes = current.unwrap_or_default();
    let end = offset as usize + value.len();
    if bytes.len() < end {
        bytes.resize(end, 0);
    }
    bytes[offset as usize..end].copy_from_slice(value);
    match cx.store.get(key, cx.now) {
        Some(mut item) => {
            item.set_value(&bytes);
            item.set_fresh_cas();
        }
        None => store(key, &bytes, ExpiresAt::NEVER, cx),
    }
    reply::integer(out, bytes.len() as i64);
}
