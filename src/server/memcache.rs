//! The memcached front end's glue between a connection and the shards: parse
//! each request out of the received bytes, run it where its key lives (here,
//! or on another shard through the mesh), and keep the replies in request
//! order.
//!
//! Parsing is the protocol module's job, semantics the command layer's; this
//! module only routes.

use super::connection::Connection;
use super::worker::ShardState;
use crate::command::memcache::{self as commands, ConnectionAction, Route, ShardContext};
use crate::protocol::memcache::{
    parse, GetRequest, Limits, Parsed, ProtocolError, Request, StatsGroup,
};
use crate::shard::mesh::RemoteOp;
use crate::shard::ShardId;
use crate::store::KeyHash;

/// Why [`process`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The rest of the input is an incomplete request: wait for more bytes.
    NeedMore,
    /// Replies pile up: parse the rest once the client has read them.
    BackedUp,
    /// The connection stops reading (`quit`, or input that ends it).
    Closed,
    /// The turn's byte budget is spent: the rest waits for the next turn.
    Budget,
}

/// Parses and runs the requests at the start of `input`, starting no new
/// request once `budget` bytes are used; returns how many bytes were used
/// and why it stopped.
pub fn process(
    conn: &mut Connection,
    index: usize,
    input: &[u8],
    budget: usize,
    state: &mut ShardState,
) -> (usize, Stop) {
    let limits = Limits {
        max_item_size: state.shared.settings.max_item_size as usize,
    };
    let mut pos = 0;
    loop {
        if conn.swallow > 0 {
            let skip = conn.swallow.min(input.len() - pos);
            conn.swallow -= skip;
            pos += skip;
        }
        if pos == input.len() {
            return (pos, Stop::NeedMore);
        }
        if conn.is_backed_up() {
            return (pos, Stop::BackedUp);
        }
        if pos >= budget {
            return (pos, Stop::Budget);
        }
        match parse(&input[pos..], &limits) {
            Parsed::Request { request, consumed } => {
                let frame = &input[pos..pos + consumed];
                pos += consumed;
                if !run(&request, frame, conn, index, state) {
                    conn.close_after_replies();
                    return (pos, Stop::Closed);
                }
            }
            Parsed::Incomplete => return (pos, Stop::NeedMore),
            Parsed::Error {
                error,
                consumed,
                swallow,
                silent,
            } => {
                if !silent {
                    error.write_to(conn.output.writer());
                }
                pos += consumed;
                conn.swallow = swallow;
            }
            Parsed::TooLarge {
                unlink,
                consumed,
                swallow,
                silent,
            } => {
                if !silent {
                    ProtocolError::TOO_LARGE.write_to(conn.output.writer());
                }
                pos += consumed;
                conn.swallow = swallow;
                match unlink {
                    Some(key) => reject_too_large(key.as_bytes(), true, conn, index, state),
                    None => state.stats.store_too_large += 1,
                }
            }
            Parsed::Close => {
                conn.close_after_replies();
                return (pos, Stop::Closed);
            }
        }
    }
}

/// Runs one request. Returns `false` when the connection must stop reading.
fn run(
    request: &Request<'_>,
    frame: &[u8],
    conn: &mut Connection,
    index: usize,
    state: &mut ShardState,
) -> bool {
    match commands::route(request) {
        Route::Key(key) => {
            let owner = state.slots.shard_of(key.as_bytes());
            if owner == state.id {
                let out = conn.output.writer();
                commands::execute(request, &mut context(state), out);
            } else {
                let span = state.mesh.requests_for(owner).push_bytes(frame);
                send_remote(conn, index, state, owner, RemoteOp::MemcacheFrame(span));
            }
        }
        Route::EachKey => {
            if let Request::Get(get) = request {
                run_get(get, conn, index, state);
            }
        }
        Route::AllShards => {
            if let Request::FlushAll { delay, noreply } = *request {
                // The OK queues behind every shard's acknowledgement: once the
                // client reads it, no shard serves pre-flush data.
                for peer in 0..state.slots.shard_count() {
                    if peer != state.id {
                        send_remote(conn, index, state, peer, RemoteOp::FlushAll { delay });
                    }
                }
                commands::flush_all(delay, &mut context(state));
                commands::finish_flush_all(noreply, &mut state.stats, conn.output.writer());
            }
        }
        Route::Connection => return run_on_connection(request, conn, index, state),
    }
    true
}

/// Most keys of one multi-get prefetched ahead of a turn (the rest are
/// prefetched batch by batch when it runs).
const PREFETCH_KEYS: usize = 4;

/// Peeks at the first request in `input` and prefetches the store's index
/// lines for the keys it will read on this shard, pushing their hashes.
/// Parsing twice costs far less than the cache misses it hides.
pub fn prefetch_first(input: &[u8], state: &ShardState, hashes: &mut Vec<KeyHash>) {
    let limits = Limits {
        max_item_size: state.shared.settings.max_item_size as usize,
    };
    let Parsed::Request { request, .. } = parse(input, &limits) else {
        return;
    };
    let mut prefetch = |key: &[u8]| {
        if state.slots.shard_of(key) == state.id {
            hashes.push(state.store.prefetch(key));
        }
    };
    match &request {
        Request::Get(get) => get.keys().take(PREFETCH_KEYS).for_each(prefetch),
        _ => {
            if let Route::Key(key) = commands::route(&request) {
                prefetch(key.as_bytes());
            }
        }
    }
}

/// Keys of a multi-get looked up together: their cache misses overlap.
const GET_BATCH: usize = 16;

/// A multi-key retrieval: each key runs on its own shard; `END` closes it.
///
/// Keys go in batches: the index line of every key this shard owns is
/// prefetched, then the items those lines point to, and only then are the
/// keys answered in order. Between requests the kernel's network work has
/// evicted the store from the CPU caches, so a lookup waits for its misses;
/// batched, the misses of all keys overlap instead of queueing.
fn run_get(get: &GetRequest<'_>, conn: &mut Connection, index: usize, state: &mut ShardState) {
    let mut keys = get.keys();
    loop {
        // (key, owning shard, hash when this shard owns it)
        let mut batch: [(&[u8], ShardId, Option<KeyHash>); GET_BATCH] = [(&[], 0, None); GET_BATCH];
        let mut len = 0;
        for key in keys.by_ref().take(GET_BATCH) {
            let owner = state.slots.shard_of(key);
            let hash = (owner == state.id).then(|| state.store.prefetch(key));
            batch[len] = (key, owner, hash);
            len += 1;
        }
        if len == 0 {
            break;
        }
        for &(_, _, hash) in &batch[..len] {
            if let Some(hash) = hash {
                state.store.prefetch_item(hash);
            }
        }
        for &(key, owner, hash) in &batch[..len] {
            match hash {
                Some(hash) => {
                    let out = conn.output.writer();
                    commands::execute_get_key(
                        get.kind,
                        get.touch,
                        key,
                        hash,
                        &mut context(state),
                        out,
                    );
                }
                None => {
                    state.stats.cross_shard_keys += 1;
                    let key = state.mesh.requests_for(owner).push_bytes(key);
                    let op = RemoteOp::MemcacheGetKey {
                        kind: get.kind,
                        touch: get.touch,
                        key,
                    };
                    send_remote(conn, index, state, owner, op);
                }
            }
        }
    }
    conn.output.writer().extend_from_slice(b"END\r\n");
}

/// Requests that touch no key. Returns `false` for `quit`.
fn run_on_connection(
    request: &Request<'_>,
    conn: &mut Connection,
    index: usize,
    state: &mut ShardState,
) -> bool {
    match commands::answer_connection(request, conn.output.writer()) {
        ConnectionAction::Quit => return false,
        ConnectionAction::Stats(group) => {
            if group == StatsGroup::Reset {
                for peer in 0..state.slots.shard_count() {
                    if peer != state.id {
                        send_remote(conn, index, state, peer, RemoteOp::ResetStats);
                    }
                }
                super::worker::reset_stats(state);
            }
            let view = super::stats_view::view(state);
            commands::write_stats(group, &view, conn.output.writer());
        }
        ConnectionAction::Answered | ConnectionAction::NotConnection => {}
    }
    true
}

/// A value refused as too large is counted on its key's shard, which for
/// `set`/`ms` also drops the key's current value.
fn reject_too_large(
    key: &[u8],
    remove_existing: bool,
    conn: &mut Connection,
    index: usize,
    state: &mut ShardState,
) {
    let owner = state.slots.shard_of(key);
    if owner == state.id {
        commands::reject_too_large(key, remove_existing, &mut context(state));
    } else {
        let key = state.mesh.requests_for(owner).push_bytes(key);
        let op = RemoteOp::MemcacheRejectTooLarge {
            key,
            remove_existing,
        };
        send_remote(conn, index, state, owner, op);
    }
}

/// Queues `op` for `owner` and reserves its reply's place.
pub(super) fn send_remote(
    conn: &mut Connection,
    index: usize,
    state: &mut ShardState,
    owner: ShardId,
    op: RemoteOp,
) {
    let slot = conn.output.await_remote();
    expect_into(slot, index, conn.generation, state, owner, op);
}

/// Queues `op` for `owner`, its reply going to `slot` of connection
/// `index` (generation `generation`).
pub(super) fn expect_into(
    slot: u64,
    index: usize,
    generation: u32,
    state: &mut ShardState,
    owner: ShardId,
    op: RemoteOp,
) {
    state.mesh.requests_for(owner).ops.push(op);
    let target = ShardState::reply_target(index, generation, slot);
    state.mesh.expect_reply(owner, target);
}

/// Runs an operation another shard sent us, appending its reply to `out`.
pub fn execute_remote(op: &RemoteOp, arena: &[u8], state: &mut ShardState, out: &mut Vec<u8>) {
    let limits = Limits {
        max_item_size: state.shared.settings.max_item_size as usize,
    };
    match *op {
        RemoteOp::MemcacheFrame(span) => match parse(span.of(arena), &limits) {
            Parsed::Request { request, .. } => {
                commands::execute(&request, &mut context(state), out)
            }
            // The sender parsed this frame already; it cannot fail here.
            _ => ProtocolError::Server("internal error").write_to(out),
        },
        RemoteOp::MemcacheGetKey { kind, touch, key } => {
            let key = key.of(arena);
            let hash = state.store.hash_key(key);
            commands::execute_get_key(kind, touch, key, hash, &mut context(state), out)
        }
        RemoteOp::MemcacheRejectTooLarge {
            key,
            remove_existing,
        } => commands::reject_too_large(key.of(arena), remove_existing, &mut context(state)),
        RemoteOp::FlushAll { delay } => commands::flush_all(delay, &mut context(state)),
        RemoteOp::ResetStats => super::worker::reset_stats(state),
        // The RESP front end's operations run in `server::resp`.
        RemoteOp::RespFrame { .. }
        | RemoteOp::RespKey { .. }
        | RemoteOp::RespDbSize
        | RemoteOp::RespClients { .. } => ProtocolError::Server("internal error").write_to(out),
    }
}

/// The command layer's view of the shard.
fn context(state: &mut ShardState) -> ShardContext<'_> {
    ShardContext {
        store: &mut state.store,
        stats: &mut state.stats,
        now: state.now,
        settings: &state.shared.settings,
    }
}
