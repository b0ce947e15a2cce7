//! `get`, `gets`, `gat`, `gats`: one key at a time, on the key's shard.
//!
//! A hit writes a `VALUE` block (with the CAS unique for `gets`/`gats`),
//! marks the item fetched and, for `gat`/`gats`, sets its new expiry. A miss
//! writes nothing. The closing `END` is the caller's.
//!
//! Counters as memcached: `get`/`gets` count `cmd_get` and `get_hits` or
//! `get_misses` per key; `gat`/`gats` count `cmd_touch` and `touch_hits` or
//! `touch_misses` instead.

use super::{find_hashed, ShardContext};
use crate::clock::ExpiresAt;
use crate::protocol::memcache::{reply, Exptime, GetKind};
use crate::store::KeyHash;

/// One key of a retrieval.
pub(super) fn get_key(
    kind: GetKind,
    touch: Option<Exptime>,
    key: &[u8],
    hash: KeyHash,
    cx: &mut ShardContext<'_>,
    out: &mut Vec<u8>,
) {
    let now = cx.now;
    let stats = &mut *cx.stats;
    match find_hashed(cx.store, stats, key, hash, now) {
        Some(mut item) => {
            item.mark_fetched(now);
            match touch {
                Some(exptime) => {
                    item.set_expires_at(ExpiresAt::from_memcache(exptime, now));
                    stats.cmd_touch += 1;
                    stats.touch_hits += 1;
                }
                None => {
                    stats.cmd_get += 1;
                    stats.get_hits += 1;
                }
            }
            let cas = kind.with_cas().then(|| item.cas());
            reply::value(out, item.key(), item.client_flags(), item.value(), cas);
        }
        None => match touch {
            Some(_) => {
                stats.cmd_touch += 1;
                stats.touch_misses += 1;
            }
            None => {
                stats.cmd_get += 1;
                stats.get_misses += 1;
            }
        },
    }
}
