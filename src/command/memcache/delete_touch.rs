//! `delete <key>` and `touch <key> <exptime>`.
//!
//! `delete` answers `DELETED` or `NOT_FOUND` (memcached 1.6 also accepts
//! `delete <key> 0`, which the parser maps to the same request; any other
//! time is refused there). `touch` sets a new expiry on a live item, counts
//! as a fetch, and answers `TOUCHED` or `NOT_FOUND`.

use super::{find, ShardContext};
use crate::clock::ExpiresAt;
use crate::protocol::memcache::{reply, Exptime};

/// `delete <key> [noreply]`.
pub(super) fn delete(key: &[u8], noreply: bool, cx: &mut ShardContext<'_>, out: &mut Vec<u8>) {
    let line = match find(cx.store, cx.stats, key, cx.now) {
        Some(item) => {
            item.remove();
            cx.stats.delete_hits += 1;
            reply::DELETED
        }
        None => {
            cx.stats.delete_misses += 1;
            reply::NOT_FOUND
        }
    };
    if !noreply {
        reply::status(out, line);
    }
}

/// `touch <key> <exptime> [noreply]`.
pub(super) fn touch(
    key: &[u8],
    exptime: Exptime,
    noreply: bool,
    cx: &mut ShardContext<'_>,
    out: &mut Vec<u8>,
) {
    let now = cx.now;
    cx.stats.cmd_touch += 1;
    let line = match find(cx.store, cx.stats, key, now) {
        Some(mut item) => {
            item.mark_fetched(now);
            item.set_expires_at(ExpiresAt::from_memcache(exptime, now));
            cx.stats.touch_hits += 1;
            reply::TOUCHED
        }
        None => {
            cx.stats.touch_misses += 1;
            reply::NOT_FOUND
        }
    };
    if !noreply {
        reply::status(out, line);
    }
}
