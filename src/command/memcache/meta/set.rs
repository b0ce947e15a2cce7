//! `ms <key> <datalen> <flags>*`: meta set, with its data block.
//!
//! Modes (`M`): `S` set (default), `E` add, `R` replace, `A` append, `P`
//! prepend. `C<cas>` turns set and replace into compare-and-swap, and makes
//! append/prepend check the CAS too; with `I`, a CAS lower than the item's
//! stores the value as stale instead of failing. `N<ttl>` lets append and
//! prepend create a missing item (with that TTL). `T` and `F` give the TTL
//! and client flags of a new item; `E` its CAS unique.
//!
//! Answers `HD` (hidden by `q`), `NS`, `EX` or `NF`, echoing `O`, `k`, `c`
//! (the new CAS, 0 if nothing was stored) and `s` (the stored size, or the
//! request's data length when nothing was stored).

use super::super::storage::{store_item, Mode, StoreArgs, StoreOutcome};
use super::super::ShardContext;
use crate::clock::ExpiresAt;
use crate::protocol::memcache::reply::{self, MetaCode, MetaKey, MetaView};
use crate::protocol::memcache::{MetaRequest, MetaSetMode, ProtocolError};

/// `ms`.
pub(super) fn execute(request: &MetaRequest<'_>, cx: &mut ShardContext<'_>, out: &mut Vec<u8>) {
    let flags = &request.flags;
    let key = request.key();
    let key = key.as_bytes();
    let vivify = flags.vivify.is_some();
    let mut mode = match flags.set_mode.unwrap_or(MetaSetMode::Set) {
        MetaSetMode::Set => Mode::Set,
        MetaSetMode::Add => Mode::Add,
        MetaSetMode::Replace => Mode::Replace,
        MetaSetMode::Append => Mode::Append { vivify },
        MetaSetMode::Prepend => Mode::Prepend { vivify },
    };
    if flags.compare_cas.is_some() && matches!(mode, Mode::Set | Mode::Replace) {
        mode = Mode::Cas;
    }
    let exptime = match mode {
        Mode::Append { vivify: true } | Mode::Prepend { vivify: true } => flags.vivify,
        _ => flags.ttl,
    };
    cx.stats.cmd_set += 1;
    let outcome = store_item(
        StoreArgs {
            key,
            value: request.value,
            client_flags: flags.client_flags.unwrap_or(0),
            expires_at: ExpiresAt::from_memcache(exptime.unwrap_or(0), cx.now),
            mode,
            compare_cas: flags.compare_cas.unwrap_or(0),
            allow_stale: flags.invalidate && mode == Mode::Cas,
            explicit_cas: flags.explicit_cas,
            binary_key: flags.base64,
        },
        cx,
    );
    let (code, cas, size) = match outcome {
        StoreOutcome::Stored { cas, size } => {
            if flags.quiet {
                return;
            }
            (MetaCode::Header, cas, size)
        }
        StoreOutcome::NotStored => (MetaCode::NotStored, 0, request.value.len()),
        StoreOutcome::Exists => (MetaCode::Exists, 0, request.value.len()),
        StoreOutcome::NotFound => (MetaCode::NotFound, 0, request.value.len()),
        StoreOutcome::NoMemory => {
            ProtocolError::OUT_OF_MEMORY.write_to(out);
            return;
        }
    };
    reply::meta_code(out, code);
    let view = MetaView {
        key: Some(MetaKey {
            bytes: key,
            binary: flags.base64,
        }),
        cas: Some(cas),
        size: Some(size),
        ..MetaView::default()
    };
    reply::meta_flags(out, request.tokens(), &view);
    reply::meta_line_end(out);
}
