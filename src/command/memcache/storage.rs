//! `set`, `add`, `replace`, `append`, `prepend`, `cas`, and the storage
//! logic `ms` shares with them (memcached's `do_store_item`).
//!
//! - `set` stores; `add` only a missing key, `replace` only an existing one.
//! - `append`/`prepend` need an existing item and keep its client flags and
//!   expiry (the request's are ignored); the result counts as a new item.
//! - `cas` stores only if the item's CAS unique equals the given one
//!   (`EXISTS` otherwise, `NOT_FOUND` if there is no item).
//! - A value larger than the item size limit never gets here: the parser
//!   answers `SERVER_ERROR object too large for cache`, and the server calls
//!   [`reject_too_large`].

use super::{find, ShardContext};
use crate::clock::ExpiresAt;
use crate::protocol::memcache::{reply, ProtocolError, StoreMode, StoreRequest};
use crate::store::ItemMeta;

/// How a store request treats an existing or missing item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Set,
    Add,
    Replace,
    /// Append; with `vivify`, a miss stores the data as a new item (`ms MA N`).
    Append {
        vivify: bool,
    },
    /// Prepend; with `vivify`, a miss stores the data as a new item.
    Prepend {
        vivify: bool,
    },
    /// Compare-and-swap against `StoreArgs::compare_cas`.
    Cas,
}

/// One storage request, from the text protocol or `ms`.
#[derive(Debug, Clone, Copy)]
pub(super) struct StoreArgs<'a> {
    pub key: &'a [u8],
    pub value: &'a [u8],
    pub client_flags: u32,
    pub expires_at: ExpiresAt,
    pub mode: Mode,
    /// CAS unique to compare with; 0 = none.
    pub compare_cas: u64,
    /// `ms … I`: a CAS lower than the item's stores the value as stale.
    pub allow_stale: bool,
    /// `ms … E`: the CAS unique to give the stored item.
    pub explicit_cas: Option<u64>,
    /// The key came base64-encoded (`ms … b`).
    pub binary_key: bool,
}

/// What a store request did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StoreOutcome {
    /// Stored: the item's new CAS unique and value length.
    Stored {
        cas: u64,
        size: usize,
    },
    NotStored,
    Exists,
    NotFound,
    /// The store could not take another item.
    NoMemory,
}

/// A text storage command: counts `cmd_set` and answers `STORED`,
/// `NOT_STORED`, `EXISTS` or `NOT_FOUND`.
pub(super) fn execute(request: &StoreRequest<'_>, cx: &mut ShardContext<'_>, out: &mut Vec<u8>) {
    cx.stats.cmd_set += 1;
    let (mode, compare_cas) = match request.mode {
        StoreMode::Set => (Mode::Set, 0),
        StoreMode::Add => (Mode::Add, 0),
        StoreMode::Replace => (Mode::Replace, 0),
        StoreMode::Append => (Mode::Append { vivify: false }, 0),
        StoreMode::Prepend => (Mode::Prepend { vivify: false }, 0),
        StoreMode::Cas(unique) => (Mode::Cas, unique),
    };
    let outcome = store_item(
        StoreArgs {
            key: request.key,
            value: request.value,
            client_flags: request.flags,
            expires_at: ExpiresAt::from_memcache(request.exptime, cx.now),
            mode,
            compare_cas,
            allow_stale: false,
            explicit_cas: None,
            binary_key: false,
        },
        cx,
    );
    if request.noreply {
        return;
    }
    match outcome {
        StoreOutcome::Stored { .. } => reply::status(out, reply::STORED),
        StoreOutcome::NotStored => reply::status(out, reply::NOT_STORED),
        StoreOutcome::Exists => reply::status(out, reply::EXISTS),
        StoreOutcome::NotFound => reply::status(out, reply::NOT_FOUND),
        StoreOutcome::NoMemory => ProtocolError::OUT_OF_MEMORY.write_to(out),
    }
}

/// Stores as memcached's `do_store_item` does, counting `cas_hits`,
/// `cas_badval`, `cas_misses` and `store_no_memory`.
pub(super) fn store_item(args: StoreArgs<'_>, cx: &mut ShardContext<'_>) -> StoreOutcome {
    let now = cx.now;
    if !cx.store.make_room_for_write(now) {
        // Over the memory limit, and the policy (noeviction, memcached's
        // `-M`) may evict nothing.
        cx.stats.store_no_memory += 1;
        return StoreOutcome::NoMemory;
    }
    let Some(mut item) = find(cx.store, cx.stats, args.key, now) else {
        return match args.mode {
            Mode::Set
            | Mode::Add
            | Mode::Append { vivify: true }
            | Mode::Prepend { vivify: true } => insert(cx, &args, args.expires_at, false),
            Mode::Cas => {
                cx.stats.cas_misses += 1;
                StoreOutcome::NotFound
            }
            Mode::Replace | Mode::Append { .. } | Mode::Prepend { .. } => StoreOutcome::NotStored,
        };
    };
    let compare = match args.compare_cas {
        0 => CasCheck::None,
        unique if unique == item.cas() => CasCheck::Match,
        unique if args.allow_stale && unique < item.cas() => CasCheck::Stale,
        _ => CasCheck::BadValue,
    };
    match args.mode {
        Mode::Add => {
            // memcached bumps the existing item (at most once a minute).
            if now.unix_secs().saturating_sub(item.last_access_secs()) >= BUMP_INTERVAL_SECS {
                item.set_last_access(now);
            }
            StoreOutcome::NotStored
        }
        Mode::Append { .. } | Mode::Prepend { .. } => {
            if !matches!(compare, CasCheck::None | CasCheck::Match) {
                return StoreOutcome::Exists;
            }
            if matches!(args.mode, Mode::Append { .. }) {
                item.append_value(args.value);
            } else {
                item.prepend_value(args.value);
            }
            item.renew(now);
            let cas = match args.explicit_cas {
                Some(cas) => {
                    item.set_cas(cas);
                    cas
                }
                None => item.set_fresh_cas(),
            };
            StoreOutcome::Stored {
                cas,
                size: item.value().len(),
            }
        }
        Mode::Cas => match compare {
            CasCheck::Match => {
                cx.stats.cas_hits += 1;
                insert(cx, &args, args.expires_at, false)
            }
            CasCheck::Stale => {
                // The value is replaced but stays stale, with the old
                // expiry and any recache token already handed out.
                let expires_at = item.expires_at();
                let token_sent = item.win_token_sent();
                cx.stats.cas_hits += 1;
                let stored = insert(cx, &args, expires_at, true);
                if let Some(mut item) = cx.store.get(args.key, now) {
                    item.set_win_token_sent(token_sent);
                }
                stored
            }
            CasCheck::None | CasCheck::BadValue => {
                cx.stats.cas_badval += 1;
                StoreOutcome::Exists
            }
        },
        Mode::Set | Mode::Replace => insert(cx, &args, args.expires_at, false),
    }
}

/// memcached refreshes an item's last access at most this often.
const BUMP_INTERVAL_SECS: u64 = 60;

/// The outcome of comparing a request's CAS with the item's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CasCheck {
    /// The request gave none.
    None,
    Match,
    /// Lower than the item's, and the request allows a stale store.
    Stale,
    BadValue,
}

/// Stores `args.value` as a new item.
fn insert(
    cx: &mut ShardContext<'_>,
    args: &StoreArgs<'_>,
    expires_at: ExpiresAt,
    stale: bool,
) -> StoreOutcome {
    let cas = args.explicit_cas.unwrap_or_else(|| cx.store.next_cas());
    let meta = ItemMeta {
        client_flags: args.client_flags,
        expires_at,
        cas,
        binary_key: args.binary_key,
    };
    match cx.store.insert(args.key, args.value, meta, cx.now) {
        Ok(mut item) => {
            item.set_stale(stale);
            StoreOutcome::Stored {
                cas,
                size: args.value.len(),
            }
        }
        Err(_) => {
            cx.stats.store_no_memory += 1;
            StoreOutcome::NoMemory
        }
    }
}

/// What the server does for a storage command whose data block was too
/// large (the parser has answered `SERVER_ERROR object too large for cache`
/// and swallowed the data): counts `store_too_large` and, with
/// `remove_existing`, removes the key's current item so that an old value
/// does not outlive the failed write. memcached removes it for `set` and for
/// every `ms`; pass `false` for `add`, `replace`, `append`, `prepend` and
/// `cas`. Run it on the shard owning `key` (base64-decoded for `ms … b`).
pub fn reject_too_large(key: &[u8], remove_existing: bool, cx: &mut ShardContext<'_>) {
    cx.stats.store_too_large += 1;
    if remove_existing {
        if let Some(item) = find(cx.store, cx.stats, key, cx.now) {
            item.remove();
        }
    }
}
