//! memcached semantics over the shard store: what each request does and what
//! it answers, byte for byte as memcached 1.6.
//!
//! The server layer decides *where* a request runs (see [`route`]); this
//! module decides *what* it does once it runs on the shard that owns its
//! key. A multi-key `get` runs key by key ([`execute_get_key`]) on each key's
//! shard, and the server writes the closing `END`.
//!
//! One file per command family: [`retrieval`](self::retrieval) (get, gets,
//! gat, gats), `storage` (set, add, replace, append, prepend, cas),
//! `arith` (incr, decr), `delete_touch`, `meta` (mg, ms, md, ma, me),
//! `connection` (version, verbosity, … and `flush_all`'s reply) and `stats`.
//!
//! Counters follow memcached exactly: e.g. a `gat` hit counts `cmd_touch`
//! and `touch_hits` but no `cmd_get`; `cmd_meta` counts only `me` (as in
//! memcached 1.6, where `mg`/`ms`/`md`/`ma` count as gets, sets, deletes and
//! incr/decr); every lookup that meets an expired item counts `get_expired`.
//! `get_flushed` stays 0: a flush removes items at once instead of leaving
//! them for lookups to find (see [`crate::store`]).

mod arith;
mod connection;
mod delete_touch;
mod meta;
mod retrieval;
mod stats;
mod storage;

#[cfg(test)]
mod tests;

pub use connection::{answer_connection, finish_flush_all, ConnectionAction, MEMCACHED_VERSION};
pub use stats::{write_stats, StatsView};
pub use storage::reject_too_large;

use crate::clock::{ExpiresAt, Now};
use crate::config::Settings;
use crate::protocol::memcache::{reply, Exptime, GetKind, KeyRef, Request};
use crate::stats::ShardStats;
use crate::store::{Item, KeyHash, Lookup, Store};

/// What a request may touch while it runs: the shard's store and counters,
/// the turn's clock reading and the settings.
pub struct ShardContext<'a> {
    pub store: &'a mut Store,
    pub stats: &'a mut ShardStats,
    pub now: Now,
    pub settings: &'a Settings,
}

/// Where a request must run.
// A key is carried inline (decoding base64 must not allocate).
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route<'a> {
    /// On the shard owning this key (already base64-decoded for meta
    /// commands, so that it hashes as stored).
    Key(KeyRef<'a>),
    /// Key by key on each key's shard ([`execute_get_key`]), then `END`.
    EachKey,
    /// On every shard ([`flush_all`]), answered once.
    AllShards,
    /// On the connection's own shard, touching no key (`version`, `stats`,
    /// `mn`, …).
    Connection,
}

/// Where `request` must run.
pub fn route<'a>(request: &Request<'a>) -> Route<'a> {
    match request {
        Request::Get(_) => Route::EachKey,
        Request::Store(store) => Route::Key(KeyRef::Borrowed(store.key)),
        Request::Delete { key, .. } | Request::Arith { key, .. } | Request::Touch { key, .. } => {
            Route::Key(KeyRef::Borrowed(key))
        }
        Request::Meta(meta) => Route::Key(meta.key()),
        Request::FlushAll { .. } => Route::AllShards,
        Request::Version
        | Request::Verbosity { .. }
        | Request::Quit
        | Request::Stats(_)
        | Request::Shutdown
        | Request::CacheMemlimit { .. }
        | Request::MetaNoop => Route::Connection,
    }
}

/// Runs a request routed to [`Route::Key`] on the shard owning its key and
/// appends its reply (nothing for `noreply`/quiet) to `out`.
///
/// For convenience (one shard, tests) it also runs the other kinds entirely
/// here: a retrieval looks up every key in this store and ends with `END`,
/// `flush_all` flushes this store and answers, and connection requests are
/// answered by [`answer_connection`] — except `stats` and `quit`, which need
/// the server and write nothing here.
pub fn execute(request: &Request<'_>, cx: &mut ShardContext<'_>, out: &mut Vec<u8>) {
    match request {
        Request::Store(store) => storage::execute(store, cx, out),
        Request::Delete { key, noreply } => delete_touch::delete(key, *noreply, cx, out),
        Request::Touch {
            key,
            exptime,
            noreply,
        } => delete_touch::touch(key, *exptime, *noreply, cx, out),
        Request::Arith {
            key,
            op,
            delta,
            noreply,
        } => arith::execute(key, *op, *delta, *noreply, cx, out),
        Request::Meta(meta) => meta::execute(meta, cx, out),
        Request::Get(get) => {
            for key in get.keys() {
                let hash = cx.store.hash_key(key);
                execute_get_key(get.kind, get.touch, key, hash, cx, out);
            }
            reply::end(out);
        }
        Request::FlushAll { delay, noreply } => {
            flush_all(*delay, cx);
            finish_flush_all(*noreply, cx.stats, out);
        }
        Request::Version
        | Request::Verbosity { .. }
        | Request::Quit
        | Request::Stats(_)
        | Request::Shutdown
        | Request::CacheMemlimit { .. }
        | Request::MetaNoop => {
            answer_connection(request, out);
        }
    }
}

/// Runs one key of a retrieval (`get`/`gets`/`gat`/`gats`) on the shard
/// owning it: appends its `VALUE` block on a hit, nothing on a miss.
///
/// `hash` is the key's hash in this shard's store ([`Store::hash_key`], or
/// [`Store::prefetch`] when a multi-get prefetches its keys first).
pub fn execute_get_key(
    kind: GetKind,
    touch: Option<Exptime>,
    key: &[u8],
    hash: KeyHash,
    cx: &mut ShardContext<'_>,
    out: &mut Vec<u8>,
) {
    retrieval::get_key(kind, touch, key, hash, cx, out);
}

/// Applies `flush_all [delay]` to this shard (the reply is written once, by
/// the connection's shard, with [`finish_flush_all`]).
///
/// No delay (or 0, or a negative one) empties the store now; a delay is an
/// exptime (relative seconds up to 30 days, else a Unix time) after which
/// every item stored before it disappears. A later `flush_all` replaces a
/// pending one. (memcached ignores a Unix time already in the past; here it
/// flushes now.)
pub fn flush_all(delay: Exptime, cx: &mut ShardContext<'_>) {
    if delay <= 0 {
        cx.store.flush_all();
        return;
    }
    match ExpiresAt::from_memcache(delay, cx.now).millis() {
        Some(at) if at > cx.now.millis() => cx.store.flush_at(Now(at)),
        _ => cx.store.flush_all(),
    }
}

/// Looks `key` up as memcached's `do_item_get` does: an expired item met on
/// the way is removed and counted as `get_expired`.
fn find<'s>(
    store: &'s mut Store,
    stats: &mut ShardStats,
    key: &[u8],
    now: Now,
) -> Option<Item<'s>> {
    let hash = store.hash_key(key);
    find_hashed(store, stats, key, hash, now)
}

/// [`find`] with the key's hash already computed.
fn find_hashed<'s>(
    store: &'s mut Store,
    stats: &mut ShardStats,
    key: &[u8],
    hash: KeyHash,
    now: Now,
) -> Option<Item<'s>> {
    match store.lookup_hashed(key, hash, now) {
        Lookup::Hit(item) if item.is_string() => Some(item),
        // A key holding a Redis hash, list or set is invisible here: the
        // memcached protocol has only strings (see the README).
        Lookup::Hit(_) | Lookup::Miss => None,
        Lookup::Expired => {
            stats.get_expired += 1;
            None
        }
    }
}

/// Remaining TTL in whole seconds as meta commands report it: -1 for never,
/// 0 once passed.
fn ttl_secs(expires_at: ExpiresAt, now: Now) -> i64 {
    expires_at
        .remaining_secs(now)
        .map_or(-1, |secs| i64::try_from(secs).unwrap_or(i64::MAX))
}

/// Seconds since `item` was last accessed.
fn idle_secs(item: &Item<'_>, now: Now) -> u64 {
    now.unix_secs().saturating_sub(item.last_access_secs())
}
