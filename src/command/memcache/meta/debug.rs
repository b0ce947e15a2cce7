//! `me <key>`: meta debug, a human-readable line of an item's metadata:
//! `ME <key> exp=<ttl> la=<idle> cas=<cas> fetch=<yes|no> cls=1 size=<bytes>`,
//! or `EN` on a miss. It does not count as an access.
//!
//! `exp` is the remaining TTL (-1 = never), as memcached reports it since
//! 1.6.24 (1.6.18 printed its negation). corecache has a single slab class
//! (`cls=1`); `size` is the bytes the store counts for the item.

use super::super::{find, idle_secs, ttl_secs, ShardContext};
use crate::protocol::memcache::reply::{self, DebugView, MetaCode, MetaKey};
use crate::protocol::memcache::MetaRequest;

/// `me`.
pub(super) fn execute(request: &MetaRequest<'_>, cx: &mut ShardContext<'_>, out: &mut Vec<u8>) {
    cx.stats.meta_cmds += 1;
    let key = request.key();
    match find(cx.store, cx.stats, key.as_bytes(), cx.now) {
        Some(item) => {
            let view = DebugView {
                key: MetaKey {
                    bytes: item.key(),
                    binary: item.binary_key(),
                },
                exp: ttl_secs(item.expires_at(), cx.now),
                last_access: idle_secs(&item, cx.now),
                cas: item.cas(),
                fetched: item.fetched(),
                class: 1,
                size: item.size(),
            };
            reply::meta_debug(out, &view);
        }
        None => {
            reply::meta_code(out, MetaCode::Miss);
            reply::meta_line_end(out);
        }
    }
}
