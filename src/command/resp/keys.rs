//! Keyspace commands on one key: TYPE, TTL, PTTL, EXPIRETIME, PEXPIRETIME,
//! EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (NX, XX, GT, LT) and PERSIST.

use super::strings::{expire_error, ExpireError};
use super::{parse_i64, Command, RespContext};
use crate::clock::ExpiresAt;
use crate::protocol::resp::reply;
use crate::protocol::resp::Argv;

/// Runs a keyspace command (the caller checked its arity).
pub fn execute(command: Command, argv: &Argv<'_>, cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let key = argv.get(1).unwrap_or_default();
    match command {
        Command::Type => {
            let kind = cx
                .store
                .read(key, cx.now)
                .map_or("none", |item| item.kind().name());
            reply::simple_string(out, kind.as_bytes());
        }
        Command::Ttl | Command::Pttl | Command::Expiretime | Command::Pexpiretime => {
            let deadline = cx.store.read(key, cx.now).map(|item| item.expires_at());
            let n = match deadline {
                None => -2,
                Some(at) => match at.millis() {
                    None => -1,
                    Some(at) => {
                        let left = at.saturating_sub(cx.now.millis()) as i64;
                        match command {
                            // TTL rounds to the nearest second, as Redis.
                            Command::Ttl => (left + 500) / 1000,
                            Command::Pttl => left,
                            Command::Expiretime => at as i64 / 1000,
                            _ => at as i64,
                        }
                    }
                },
            };
            reply::integer(out, n);
        }
        Command::Expire | Command::Pexpire | Command::Expireat | Command::Pexpireat => {
            expire(command, argv, cx, out)
        }
        Command::Persist => {
            let changed = match cx.store.get(key, cx.now) {
                Some(mut item) if !item.expires_at().is_never() => {
                    item.set_expires_at(ExpiresAt::NEVER);
                    true
                }
                _ => false,
            };
            reply::integer(out, changed as i64);
        }
        _ => reply::error(out, b"ERR internal routing error"),
    }
}

/// The EXPIRE family. A deadline already past deletes the key (and counts
/// as set), as Redis does.
fn expire(command: Command, argv: &Argv<'_>, cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let name = command.spec().name;
    let key = argv.get(1).unwrap_or_default();
    let Some(n) = parse_i64(argv.get(2).unwrap_or_default()) else {
        return expire_error(ExpireError::NotInteger, name, out);
    };
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for option in argv.iter().skip(3) {
        let upper = option.to_ascii_uppercase();
        match upper.as_slice() {
            b"NX" => nx = true,
            b"XX" => xx = true,
            b"GT" => gt = true,
            b"LT" => lt = true,
            _ => {
                let text = format!("ERR Unsupported option {}", String::from_utf8_lossy(option));
                return reply::error(out, text.as_bytes());
            }
        }
    }
    if nx && (xx || gt || lt) {
        return reply::error(
            out,
            b"ERR NX and XX, GT or LT options at the same time are not compatible",
        );
    }
    if gt && lt {
        return reply::error(
            out,
            b"ERR GT and LT options at the same time are not compatible",
        );
    }
    let unit: i64 = match command {
        Command::Expire | Command::Expireat => 1000,
        _ => 1,
    };
    let base = match command {
        Command::Expire | Command::Pexpire => cx.now.millis() as i64,
        _ => 0,
    };
    let Some(at) = n.checked_mul(unit).and_then(|ms| ms.checked_add(base)) else {
        return expire_error(ExpireError::Invalid, name, out);
    };
    let now = cx.now;
    let Some(mut item) = cx.store.get(key, now) else {
        return reply::integer(out, 0);
    };
    // A key without a TTL counts as an infinite TTL for GT and LT.
    let current = item.expires_at().millis().map(|ms| ms as i64);
    let allowed = match current {
        None => !xx && !gt,
        Some(current) => !nx && (!gt || at > current) && (!lt || at < current),
    };
    if !allowed {
        return reply::integer(out, 0);
    }
    if at <= now.millis() as i64 {
        cx.store.remove(key);
    } else {
        item.set_expires_at(ExpiresAt::at_millis(at as u64));
    }
    reply::integer(out, 1);
}
