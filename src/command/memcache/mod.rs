//! memcached semantics over the shard store: what each request does and what
//! it answers, byte for byte as memcached 1.6.
//!
//! The server layer decides *where* a request runs (see [`route`]); this
//! module decides *what* it does once it runs on the shard that owns its
//! key. A multi-key `get` runs key by key ([`execute_get_key`]) on each key's
//! shard, and the server writes the closing `END`.

use crate::clock::Now;
use crate::config::Settings;
use crate::protocol::memcache::{Exptime, GetKind, KeyRef, Request};
use crate::stats::ShardStats;
use crate::store::Store;

/// What a request may touch while it runs: the shard's store and counters,
/// the turn's clock reading and the settings.
pub struct ShardContext<'a> {
    pub store: &'a mut Store,
    pub stats: &'a mut ShardStats,
    pub now: Now,
    pub settings: &'a Settings,
}

/// Where a request must run.
#[derive(Debug, Clone, PartialEq, Eq)]
// A decoded key travels inline (no allocation), hence the large variant.
#[allow(clippy::large_enum_variant)]
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
    let _ = request;
    todo!("command layer")
}

/// Runs a request routed to [`Route::Key`] on the shard owning its key and
/// appends its reply (nothing for `noreply`/quiet) to `out`.
pub fn execute(request: &Request<'_>, cx: &mut ShardContext<'_>, out: &mut Vec<u8>) {
    let _ = (request, cx, out);
    todo!("command layer")
}

/// Runs one key of a retrieval (`get`/`gets`/`gat`/`gats`) on the shard
/// owning it: appends its `VALUE` block on a hit, nothing on a miss.
pub fn execute_get_key(
    kind: GetKind,
    touch: Option<Exptime>,
    key: &[u8],
    cx: &mut ShardContext<'_>,
    out: &mut Vec<u8>,
) {
    let _ = (kind, touch, key, cx, out);
    todo!("command layer")
}

/// Applies `flush_all [delay]` to this shard (the reply is written once, by
/// the connection's shard).
pub fn flush_all(delay: Exptime, cx: &mut ShardContext<'_>) {
    let _ = (delay, cx);
    todo!("command layer")
}
