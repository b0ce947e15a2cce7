//! `ma <key> <flags>*`: meta arithmetic.
//!
//! Increments (`MI`, `M+`, default) or decrements (`MD`, `M-`) the number
//! stored under the key by `D<delta>` (default 1). `N<ttl>` creates a
//! missing item holding `J<initial>` (default 0) with that TTL; `C<cas>`
//! requires a matching CAS; `E<cas>` sets the new CAS; `T<ttl>` updates the
//! TTL. Answers `HD` or, with `v`, `VA <len>` and the new number; `NF` on a
//! miss, `EX` on a CAS mismatch; echoes `c`, `t`, `O`, `k`.
//!
//! `q` hides the success reply of an update. As memcached 1.6.18 does (and
//! unlike its protocol.txt), the reply to an `N` creation is sent even with
//! `q`.

use super::super::arith::{add_delta, DeltaError};
use super::super::{ttl_secs, ShardContext};
use super::write_status;
use crate::clock::ExpiresAt;
use crate::protocol::memcache::reply::{self, MetaCode, MetaKey, MetaView, TtlTrack};
use crate::protocol::memcache::{MetaArithMode, MetaRequest, ProtocolError};
use crate::store::ItemMeta;

/// `ma`.
pub(super) fn execute(request: &MetaRequest<'_>, cx: &mut ShardContext<'_>, out: &mut Vec<u8>) {
    let flags = &request.flags;
    let key = request.key();
    let key = key.as_bytes();
    let now = cx.now;
    let incr = flags.arith_mode != Some(MetaArithMode::Decr);
    let delta = flags.delta.unwrap_or(1);
    let compare_cas = flags.compare_cas.unwrap_or(0);
    let stats = &mut *cx.stats;

    let mut created = false;
    let outcome = match add_delta(cx.store, stats, key, incr, delta, compare_cas, now) {
        Ok((mut item, value)) => {
            if let Some(cas) = flags.explicit_cas {
                item.set_cas(cas);
            }
            Ok((item, value))
        }
        Err(DeltaError::NotFound) if flags.vivify.is_some() => {
            if !cx.store.make_room_for_write(now) {
                // Over the memory limit with nothing the policy may evict.
                stats.store_no_memory += 1;
                ProtocolError::OUT_OF_MEMORY.write_to(out);
                return;
            }
            let value = flags.initial.unwrap_or(0);
            let cas = flags.explicit_cas.unwrap_or_else(|| cx.store.next_cas());
            let meta = ItemMeta {
                cas,
                ..ItemMeta::default()
            };
            let mut digits = itoa::Buffer::new();
            let digits = digits.format(value).as_bytes();
            match cx.store.insert(key, digits, meta, now) {
                Ok(item) => {
                    created = true;
                    Ok((item, value))
                }
                Err(_) => {
                    stats.store_no_memory += 1;
                    ProtocolError::OUT_OF_MEMORY.write_to(out);
                    return;
                }
            }
        }
        Err(error) => Err(error),
    };
    let (mut item, value) = match outcome {
        Ok(found) => found,
        Err(DeltaError::NonNumeric) => {
            ProtocolError::NON_NUMERIC.write_to(out);
            return;
        }
        Err(DeltaError::NotFound) => {
            if incr {
                stats.incr_misses += 1;
            } else {
                stats.decr_misses += 1;
            }
            write_status(out, MetaCode::NotFound, request, key);
            return;
        }
        Err(DeltaError::CasMismatch) => {
            write_status(out, MetaCode::Exists, request, key);
            return;
        }
    };

    let initial_ttl = ttl_secs(item.expires_at(), now);
    let after_t = flags.ttl.map(|ttl| ExpiresAt::from_memcache(ttl, now));
    let after_n = flags
        .vivify
        .filter(|_| created)
        .map(|ttl| ExpiresAt::from_memcache(ttl, now));
    let mut expires_at = item.expires_at();
    for token in request.tokens() {
        match token.first() {
            Some(b'T') => expires_at = after_t.unwrap_or(expires_at),
            Some(b'N') => expires_at = after_n.unwrap_or(expires_at),
            _ => {}
        }
    }
    item.set_expires_at(expires_at);

    if flags.quiet && !created {
        return;
    }
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(value).as_bytes();
    if flags.return_value {
        reply::meta_value_code(out, digits.len());
    } else {
        reply::meta_code(out, MetaCode::Header);
    }
    let view = MetaView {
        key: Some(MetaKey {
            bytes: key,
            binary: flags.base64,
        }),
        cas: Some(item.cas()),
        ttl: Some(TtlTrack {
            initial: initial_ttl,
            after_t: after_t.map(|at| ttl_secs(at, now)),
            after_n: after_n.map(|at| ttl_secs(at, now)),
        }),
        ..MetaView::default()
    };
    reply::meta_flags(out, request.tokens(), &view);
    reply::meta_line_end(out);
    if flags.return_value {
        reply::meta_data(out, digits);
    }
}
