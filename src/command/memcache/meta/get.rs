//! `mg <key> <flags>*`: meta get.
//!
//! A hit answers `VA <size> <flags>*` and the value when `v` is given (but
//! `HD` when `C<cas>` matches the item's CAS: the client already has that
//! value), else `HD <flags>*`; a miss answers `EN` (hidden by `q`).
//!
//! Flags that change the item, applied in request order:
//! - `T<ttl>` sets a new TTL (and the request then counts as a touch).
//! - `N<ttl>` creates an empty item on a miss with that TTL and hands this
//!   client the recache token `W`; later clients see `Z` while the stub
//!   stays (E sets the new item's CAS).
//! - `R<ttl>` hands out `W` when the remaining TTL is below the token.
//!   A stale item (after `md … I`) answers `X` and hands out `W` once.
//! - `u` leaves the item's fetched bit and last access untouched.
//!
//! `h` and `l` report the item as it was before this request.

use super::super::{find, idle_secs, ttl_secs, ShardContext};
use super::write_status;
use crate::clock::ExpiresAt;
use crate::protocol::memcache::reply::{self, MetaCode, MetaKey, MetaView, TtlTrack};
use crate::protocol::memcache::MetaRequest;
use crate::store::{Item, ItemMeta};

/// `mg`.
pub(super) fn execute(request: &MetaRequest<'_>, cx: &mut ShardContext<'_>, out: &mut Vec<u8>) {
    let flags = &request.flags;
    let key = request.key();
    let key = key.as_bytes();
    let now = cx.now;
    let stats = &mut *cx.stats;
    let mut created = false;
    let found = match find(cx.store, stats, key, now) {
        Some(item) => Some(item),
        None => match flags.vivify {
            Some(_) => {
                let cas = flags.explicit_cas.unwrap_or_else(|| cx.store.next_cas());
                let meta = ItemMeta {
                    cas,
                    ..ItemMeta::default()
                };
                created = true;
                // A store that cannot take the stub answers a plain miss.
                cx.store.insert(key, b"", meta, now).ok()
            }
            None => None,
        },
    };
    let Some(mut item) = found else {
        stats.cmd_get += 1;
        stats.get_misses += 1;
        if !flags.quiet {
            write_status(out, MetaCode::Miss, request, key);
        }
        return;
    };

    let hit_before = item.fetched();
    let last_access = idle_secs(&item, now);
    let initial_ttl = ttl_secs(item.expires_at(), now);
    let after_t = flags.ttl.map(|ttl| ExpiresAt::from_memcache(ttl, now));
    let after_n = flags
        .vivify
        .filter(|_| created)
        .map(|ttl| ExpiresAt::from_memcache(ttl, now));

    // Apply T, N and R where they stand, as memcached walks the flags.
    let token_sent = item.win_token_sent();
    let mut won = false;
    let mut expires_at = item.expires_at();
    for token in request.tokens() {
        match token.first() {
            Some(b'T') => expires_at = after_t.unwrap_or(expires_at),
            Some(b'N') => {
                if let Some(at) = after_n {
                    expires_at = at;
                    won = true;
                }
            }
            Some(b'R') => {
                let recache = flags.recache.map(|ttl| ExpiresAt::from_memcache(ttl, now));
                if let Some(recache) = recache {
                    if !token_sent && !created && !expires_at.is_never() && expires_at < recache {
                        won = true;
                    }
                }
            }
            _ => {}
        }
    }
    item.set_expires_at(expires_at);

    let send_value = flags.return_value && flags.compare_cas != Some(item.cas());
    if send_value {
        reply::meta_value_code(out, item.value().len());
    } else {
        reply::meta_code(out, MetaCode::Header);
    }
    let view = MetaView {
        key: Some(MetaKey {
            bytes: item.key(),
            binary: item.binary_key(),
        }),
        size: Some(item.value().len()),
        client_flags: Some(item.client_flags()),
        cas: Some(item.cas()),
        ttl: Some(TtlTrack {
            initial: initial_ttl,
            after_t: after_t.map(|at| ttl_secs(at, now)),
            after_n: after_n.map(|at| ttl_secs(at, now)),
        }),
        hit_before: Some(hit_before),
        last_access: Some(last_access),
    };
    reply::meta_flags(out, request.tokens(), &view);
    write_token_flags(out, &mut item, token_sent, won);
    reply::meta_line_end(out);
    if send_value {
        reply::meta_data(out, item.value());
    }

    if !flags.no_bump {
        item.mark_fetched(now);
    }
    if flags.ttl.is_some() {
        stats.cmd_touch += 1;
        stats.touch_hits += 1;
    } else {
        stats.cmd_get += 1;
        stats.get_hits += 1;
    }
}

/// Appends ` Z` (token already handed out), ` X` (stale) and ` W` (this
/// client wins the recache), in memcached's order, and records a win.
fn write_token_flags(out: &mut Vec<u8>, item: &mut Item<'_>, token_sent: bool, won: bool) {
    let mut won = won;
    if token_sent {
        reply::meta_bare_flag(out, b'Z');
    }
    if item.stale() {
        reply::meta_bare_flag(out, b'X');
        if !token_sent {
            won = true;
        }
    }
    if won {
        reply::meta_bare_flag(out, b'W');
        item.set_win_token_sent(true);
    }
}
