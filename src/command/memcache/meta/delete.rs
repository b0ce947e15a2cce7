//! `md <key> <flags>*`: meta delete.
//!
//! Removes the item and answers `HD` (hidden by `q`), or `NF` when there is
//! none, or `EX` when `C<cas>` does not match. With `I` the item stays but is
//! marked stale with a fresh CAS (and the TTL of `T`), so the next `mg` wins
//! the recache (`W`) and later ones see `X`/`Z`. With `x` the value is
//! replaced by an empty one (client flags 0, TTL from `T` or none, CAS kept
//! unless `E` gives one) instead of the item being removed.

use super::super::{find, ShardContext};
use super::write_status;
use crate::clock::ExpiresAt;
use crate::protocol::memcache::reply::MetaCode;
use crate::protocol::memcache::MetaRequest;

/// `md`.
pub(super) fn execute(request: &MetaRequest<'_>, cx: &mut ShardContext<'_>, out: &mut Vec<u8>) {
    let flags = &request.flags;
    let key = request.key();
    let key = key.as_bytes();
    let now = cx.now;
    let Some(mut item) = find(cx.store, cx.stats, key, now) else {
        cx.stats.delete_misses += 1;
        write_status(out, MetaCode::NotFound, request, key);
        return;
    };
    if flags.compare_cas.is_some_and(|cas| cas != item.cas()) {
        cx.stats.delete_misses += 1;
        write_status(out, MetaCode::Exists, request, key);
        return;
    }
    let new_ttl = flags.ttl.map(|ttl| ExpiresAt::from_memcache(ttl, now));
    if flags.remove_value {
        let cas = flags.explicit_cas.unwrap_or(item.cas());
        item.set_value(b"");
        item.set_client_flags(flags.client_flags.unwrap_or(0));
        item.set_expires_at(new_ttl.unwrap_or(ExpiresAt::NEVER));
        item.renew(now);
        item.set_cas(cas);
    }
    if flags.invalidate {
        if let Some(at) = new_ttl {
            item.set_expires_at(at);
        }
        item.set_stale(true);
        item.set_win_token_sent(false);
        match flags.explicit_cas {
            Some(cas) => item.set_cas(cas),
            None => {
                item.set_fresh_cas();
            }
        }
    } else {
        cx.stats.delete_hits += 1;
        if !flags.remove_value {
            item.remove();
        }
    }
    if !flags.quiet {
        write_status(out, MetaCode::Header, request, key);
    }
}
