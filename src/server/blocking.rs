//! Clients waiting in a blocking pop (`BLPOP`, `BLMOVE`, `BZPOPMIN`…): where
//! they wait, who is served first, and how a reply finds its way back.
//! What each command pops and replies is `command::resp::blocking`'s.
//!
//! # Where a client waits
//!
//! When all keys of a blocking request (BLMOVE's destination too) are on
//! one shard, the *key shard*, the common case, it waits there as below;
//! keys on several shards take the path of the section after. The
//! connection's own shard
//! (its *home*) reserves the reply's place in the connection's output and
//! reads none of its further requests until the reply is there (Redis does
//! not run a blocked client's pipelined commands either). The key shard
//! (possibly the home itself) tries the non-blocking pop at once: if a key
//! has data (or the wrong type), that is the reply. Otherwise it keeps a
//! *waiter* (the parsed request, the connection, the reply's slot, the
//! database, the protocol version, the deadline) in a first-come queue per
//! key. A request from another shard travels as [`RemoteOp::RespBlock`],
//! inside the ordinary operation batches, so it keeps its place among the
//! connection's earlier requests and waits, like them, while a transaction
//! holds the shard. Its positional reply is empty (an acknowledgement in a
//! slot of its own); the real reply always comes later as a
//! [`ShardMessage::Late`](crate::shard::mesh::ShardMessage::Late) reply,
//! which names its connection and slot.
//!
//! # Serving
//!
//! After a write command runs on a shard where someone waits, each of its
//! arguments that is a waited-on key is marked ready (arguments that are
//! not keys find no queue, or a key without data: harmless), and the ready
//! keys are served at once, before the shard runs anything else: the
//! waiters of a key in the order they blocked, each popping as its
//! non-blocking twin would, for as long as the key has data. A waiter
//! blocked on several keys is served by the first that gets data and leaves
//! every queue. A waiter on a key that now holds another type keeps waiting
//! (Redis 7.0). BLMOVE's push to its destination marks that key ready in
//! turn. What a cross-shard transaction writes back (`RENAME`/`COPY`
//! across shards, `LMOVE`, `ZUNIONSTORE`… on copies: `RemoteOp::RespRestore`),
//! `MOVE`, `COPY … DB` and `SWAPDB` mark their destinations too. A shard
//! with no waiter pays one test of
//! an empty map per write. The commands of a transaction (`EXEC`, a step
//! of `server::txn`) serve only once they all ran ([`hold`]), as Redis
//! serves after `EXEC`; a blocking pop inside `EXEC` does not wait (the
//! command layer's non-blocking form runs).
//!
//! Deadlines are checked every turn, and a shard with waiters that have
//! one does not sleep past the nearest; a waiter past its deadline gets
//! the null array.
//!
//! # Keys on several shards
//!
//! Such a client waits on its home ([`Spanning`]: the request, the reply's
//! slot, the deadline). It tries its pop as a gathered transaction over
//! its keys' shards (`server::txn`'s `Attempt`): the keys are dumped while
//! every shard is held, the non-blocking pop runs on copies of them, and
//! what it changed (BLMOVE's push too, on another shard) is written back
//! before any shard is released. If it found nothing, the same transaction
//! registers a one-shot [`Watcher`] on each key it pops from, on that
//! key's shard, still held: no write can fall between the try and the
//! registrations. When a write gives such a key the type the client waits
//! for, and the key still has data once that shard's own waiters were
//! served, the shard drops all the client's registrations there and wakes
//! its home (an empty late reply to the slot [`WAKE`]). The home tries
//! again (skipping keys of another type, as Redis 7.0's woken client
//! does); empty again (another client won), it is registered again and
//! waits on. A wake that arrives while a try is under way makes one more
//! try after it. A pop ends the registrations on every shard within its
//! transaction; a timeout or a client that leaves ends them by
//! [`RemoteOp::RespBlockUnwatch`]; a stale registration's wake finds no
//! waiter and is dropped. A deadline that passes during a try waits for
//! it: a pop still replies the data (nothing popped is ever dropped by a
//! timeout). A client gone before a try's decision pops nothing (the
//! decision runs on its home, which knows); gone between the decision and
//! the reply (one round trip), what was popped is lost, as in the race
//! below.
//!
//! Fairness: first blocked, first served holds among the waiters of one
//! shard's queue; across shards it is best effort: a key's shard serves
//! its own queue before waking registered clients, and wakes all of
//! them, the first try to be held winning.
//!
//! # A client that goes away
//!
//! When a blocked connection's client closes (or is killed, or the server
//! stops), the home forgets it: at once if it waits on the home, else by
//! [`RemoteOp::RespUnblock`], which follows the `RespBlock` on the same
//! ordered channel, so the key shard never sees them reversed. From then on
//! nothing is popped for it. The connection is aborted (Redis frees a
//! client whose socket reads end-of-file, blocked or not).
//!
//! One race remains, chosen knowingly: a key shard may serve a waiter on
//! another shard in the instant between its client closing and the
//! `RespUnblock` arriving (one mesh hop). The popped element then goes to a
//! connection that is gone and is lost, exactly as in Redis when a client
//! closes while its reply is in flight. Closing it would need a two-step
//! serve (reserve, confirm with the home, pop), which would hold the data
//! away from the other waiters for a round trip on every serve. A waiter
//! on its home shard has no such window.

use std::collections::{BTreeSet, HashMap, VecDeque};

use slab::Slab;

use super::connection::{Connection, Phase};
use super::memcache::expect_into;
use super::resp::plan_gathering;
use super::resp::{context, Origin};
use super::txn::{self, Attempt, Gather, Kind};
use super::worker::ShardState;
use crate::command::resp::blocking::{BlockingPop, Wanted};
use crate::command::resp::{lookup, Command, OOM};
use crate::protocol::resp::reply::{self, Version};
use crate::protocol::resp::{parse, Argv, Limits, Parsed};
use crate::shard::mesh::{RemoteOp, ReplyTarget};
use crate::shard::ShardId;

/// A client waiting on this shard.
#[derive(Debug)]
struct Waiter {
    request: BlockingPop,
    home: ShardId,
    /// The connection's packed index and generation, and its reply's slot.
    target: ReplyTarget,
    version: Version,
    db: u32,
    /// The deadline in the clock's milliseconds; `None`: for ever.
    due_ms: Option<u64>,
}

/// A client of this shard blocked on keys of several shards: it waits
/// here, at home, and tries its pop as a transaction over their shards.
#[derive(Debug)]
struct Spanning {
    request: BlockingPop,
    /// Its reply's slot in the connection's output.
    slot: u64,
    version: Version,
    db: u32,
    /// The deadline in the clock's milliseconds; `None`: for ever.
    due_ms: Option<u64>,
    /// The shards of its keys (BLMOVE's destination too), ascending.
    shards: Vec<ShardId>,
    /// A try (a transaction) is under way.
    trying: bool,
    /// Woken while trying: if that try finds nothing, try again.
    woken: bool,
    /// Its deadline passed while trying: if that try finds nothing, time
    /// out.
    expired: bool,
}

/// A database and a key in it.
type DbKey = (u32, Box<[u8]>);

/// A one-shot registration, on a key's shard, of a client blocked on keys
/// of several shards: wake it when the key holds what it waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Watcher {
    home: ShardId,
    conn: u64,
    wanted: Wanted,
}

/// The reply slot a wake travels to (as an empty late reply): no output
/// has it, as none reaches `u64::MAX` (a muted output's slot).
pub const WAKE: u64 = u64::MAX - 1;

/// A reply for a client that waited: to deliver here, or to send home.
#[derive(Debug, PartialEq, Eq)]
pub struct Unblocked {
    pub home: ShardId,
    pub target: ReplyTarget,
    pub reply: Vec<u8>,
}

/// One shard's waiters.
#[derive(Debug, Default)]
pub struct Blocking {
    waiters: Slab<Waiter>,
    /// Per database and key: the waiters, first blocked first.
    queues: HashMap<u32, HashMap<Box<[u8]>, VecDeque<usize>>>,
    /// Each waiter by its home and connection.
    by_conn: HashMap<(ShardId, u64), usize>,
    /// Deadlines, soonest first.
    deadlines: BTreeSet<(u64, usize)>,
    /// Waited-on keys that got data, in the order they did.
    ready: VecDeque<(u32, Box<[u8]>)>,
    /// Replies not yet handed to their connections.
    replies: Vec<Unblocked>,
    /// While above zero, writes only mark keys ready ([`hold`]).
    holds: u32,
    /// Clients of this shard blocked on keys of several shards, by their
    /// packed connection.
    spanning: HashMap<u64, Spanning>,
    /// Their deadlines, soonest first.
    spanning_deadlines: BTreeSet<(u64, u64)>,
    /// Those of them woken since the last turn.
    woken: Vec<u64>,
    /// The replies of their tries that finished (empty: nothing popped).
    tried: Vec<(u64, Vec<u8>)>,
    /// Per database and key: the registrations of clients of any shard
    /// blocked across shards, first registered first.
    watchers: HashMap<u32, HashMap<Box<[u8]>, Vec<Watcher>>>,
    /// The keys each such client is registered on here.
    watched_by: HashMap<(ShardId, u64), Vec<DbKey>>,
    /// Wakes for clients of other shards, not yet sent.
    wakes: Vec<(ShardId, u64)>,
}

impl Blocking {
    /// Whether anyone waits here: writes need looking at.
    #[inline]
    pub fn is_active(&self) -> bool {
        !self.waiters.is_empty() || !self.watchers.is_empty()
    }

    /// How many clients wait here (`INFO`'s `blocked_clients`): those
    /// blocked across shards count on their home.
    fn count(&self) -> u64 {
        (self.waiters.len() + self.spanning.len()) as u64
    }

    /// Registers `watcher` on `key` of database `db` (once).
    fn watch(&mut self, db: u32, key: &[u8], watcher: Watcher) {
        let watchers = self
            .watchers
            .entry(db)
            .or_default()
            .entry(key.into())
            .or_default();
        if watchers.contains(&watcher) {
            return;
        }
        watchers.push(watcher);
        let client = (watcher.home, watcher.conn);
        self.watched_by
            .entry(client)
            .or_default()
            .push((db, key.into()));
    }

    /// Drops every registration of connection `conn` of shard `home`.
    fn unwatch(&mut self, home: ShardId, conn: u64) {
        let Some(keys) = self.watched_by.remove(&(home, conn)) else {
            return;
        };
        for (db, key) in keys {
            let Some(watched) = self.watchers.get_mut(&db) else {
                continue;
            };
            if let Some(watchers) = watched.get_mut(&key) {
                watchers.retain(|w| (w.home, w.conn) != (home, conn));
                if watchers.is_empty() {
                    watched.remove(&key);
                }
            }
            if watched.is_empty() {
                self.watchers.remove(&db);
            }
        }
    }

    /// Adds a waiter behind those already waiting on its keys.
    fn add(&mut self, waiter: Waiter) {
        let home_conn = (waiter.home, waiter.target.0);
        let due = waiter.due_ms;
        let db = waiter.db;
        let keys: Vec<Box<[u8]>> = waiter.request.keys.clone();
        let id = self.waiters.insert(waiter);
        let queues = self.queues.entry(db).or_default();
        for key in keys {
            let queue = queues.entry(key).or_default();
            // A key named twice (`BLPOP k k 0`) queues the waiter once.
            if queue.back() != Some(&id) {
                queue.push_back(id);
            }
        }
        self.by_conn.insert(home_conn, id);
        if let Some(due) = due {
            self.deadlines.insert((due, id));
        }
    }

    /// Removes waiter `id` from every queue.
    fn remove(&mut self, id: usize) -> Waiter {
        let waiter = self.waiters.remove(id);
        if let Some(queues) = self.queues.get_mut(&waiter.db) {
            for key in &waiter.request.keys {
                if let Some(queue) = queues.get_mut(key) {
                    // Served in order, a waiter is usually the first.
                    if queue.front() == Some(&id) {
                        queue.pop_front();
                    } else {
                        queue.retain(|&other| other != id);
                    }
                    if queue.is_empty() {
                        queues.remove(key);
                    }
                }
            }
            if queues.is_empty() {
                self.queues.remove(&waiter.db);
            }
        }
        self.by_conn.remove(&(waiter.home, waiter.target.0));
        if let Some(due) = waiter.due_ms {
            self.deadlines.remove(&(due, id));
        }
        waiter
    }

    /// Marks `key` of database `db` ready if someone waits on it.
    fn signal(&mut self, db: u32, key: &[u8]) {
        let waited = self
            .queues
            .get(&db)
            .is_some_and(|queues| queues.contains_key(key))
            || self
                .watchers
                .get(&db)
                .is_some_and(|watchers| watchers.contains_key(key));
        if waited && !self.ready.iter().any(|(d, k)| *d == db && **k == *key) {
            self.ready.push_back((db, key.into()));
        }
    }

    /// Marks every waited-on key of database `db` ready.
    fn signal_all(&mut self, db: u32) {
        let queued = self.queues.get(&db).into_iter().flat_map(HashMap::keys);
        let watched = self.watchers.get(&db).into_iter().flat_map(HashMap::keys);
        let keys: Vec<Box<[u8]>> = queued.chain(watched).cloned().collect();
        for key in keys {
            self.signal(db, &key);
        }
    }

    /// Replies the null array to every waiter due at `now_ms`.
    fn expire(&mut self, now_ms: u64) {
        while let Some(&(due, id)) = self.deadlines.first() {
            if due > now_ms {
                break;
            }
            let waiter = self.remove(id);
            let mut reply = Vec::new();
            reply::null_array(&mut reply, waiter.version);
            self.replies.push(Unblocked {
                home: waiter.home,
                target: waiter.target,
                reply,
            });
        }
    }
}

/// The packed connection identity replies travel back with.
fn conn_key(index: usize, generation: u32) -> u64 {
    ShardState::reply_target(index, generation, 0).0
}

/// Runs a client's blocking request (the server layer's part of
/// `Route::Blocking`): argument errors and `CROSSSLOT` at once; then, on
/// the key shard, the pop or the wait.
pub fn run(
    command: Command,
    argv: &Argv<'_>,
    frame: &[u8],
    origin: Origin,
    conn: &mut Connection,
    index: usize,
    state: &mut ShardState,
) {
    let request = match BlockingPop::parse(command, argv) {
        Ok(request) => request,
        Err(error) => return reply::error(conn.output.writer(), error),
    };
    let owner = state.slots.shard_of(&request.keys[0]);
    if request
        .all_keys()
        .any(|key| state.slots.shard_of(key) != owner)
    {
        return block_across(request, origin, conn, index, state);
    }
    let me = state.id;
    if owner == me {
        let out = conn.output.writer();
        if !try_pop(&request, origin, state, out) {
            let slot = conn.output.await_remote();
            conn.blocked_on = Some(me);
            let target = (conn_key(index, conn.generation), slot);
            wait(state, request, me, target, origin);
        }
        return;
    }
    // The acknowledgement's place, then the reply's.
    let ack = conn.output.await_remote();
    let slot = conn.output.await_remote();
    conn.blocked_on = Some(owner);
    let frame = state.mesh.requests_for(owner).push_bytes(frame);
    let op = RemoteOp::RespBlock {
        frame,
        version: origin.version,
        db: origin.db,
        home: me,
        conn: conn_key(index, conn.generation),
        slot,
    };
    expect_into(ack, index, conn.generation, state, owner, op);
}

/// A request whose keys live on several shards: the client waits here,
/// and tries its pop at once as a transaction over them ([`try_across`]).
/// BLMOVE and BRPOPLPUSH are refused with `OOM` first when this shard has
/// no room (the copies have no limit), as a gathered write is.
fn block_across(
    request: BlockingPop,
    origin: Origin,
    conn: &mut Connection,
    index: usize,
    state: &mut ShardState,
) {
    let cx = &mut context(state, origin);
    if request.destination().is_some() && !cx.store.make_room_for_write(cx.now) {
        return reply::error(conn.output.writer(), OOM);
    }
    let slot = conn.output.await_remote();
    conn.blocked_on = Some(state.id);
    let key = conn_key(index, conn.generation);
    let mut shards: Vec<ShardId> = request
        .all_keys()
        .map(|key| state.slots.shard_of(key))
        .collect();
    shards.sort_unstable();
    shards.dedup();
    let due_ms = request
        .timeout_ms
        .map(|timeout| state.now.millis().saturating_add(timeout));
    if let Some(due) = due_ms {
        state.blocking.spanning_deadlines.insert((due, key));
    }
    let waiter = Spanning {
        request,
        slot,
        version: origin.version,
        db: origin.db,
        due_ms,
        shards,
        trying: false,
        woken: false,
        expired: false,
    };
    state.blocking.spanning.insert(key, waiter);
    state.stats.blocked_clients = state.blocking.count();
    try_across(state, key, false);
}

/// Starts a try of the pop of connection `conn`, blocked here across
/// shards: a gathered transaction over its keys' shards (`server::txn`'s
/// [`Attempt`]), which pops on copies of them, and, if it found nothing,
/// registers the client on each key while the shards are still held.
/// `woken`: it was woken, so keys of another type are skipped.
fn try_across(state: &mut ShardState, conn: u64, woken: bool) {
    let Some(waiter) = state.blocking.spanning.get_mut(&conn) else {
        return;
    };
    waiter.trying = true;
    let origin = Origin {
        version: waiter.version,
        db: waiter.db,
    };
    let slot = waiter.slot;
    let request = waiter.request.clone();
    let keys: Vec<&[u8]> = request.all_keys().collect();
    let requests = vec![Gather::Pop {
        request: request.clone(),
        woken,
    }];
    let mut plan = plan_gathering(requests, false, &keys, &[], origin, state, 0);
    if let Kind::Gathered { attempt, .. } = &mut plan.kind {
        let home = state.id;
        *attempt = Some(Attempt { home, conn });
    }
    state.stats.cross_shard_keys += plan.shards.len() as u64 - 1;
    let (index, generation) = ShardState::unpack_conn(conn);
    txn::start(state, (index, generation), slot, plan);
}

/// Whether connection `conn` of this shard still waits across shards (a
/// try's decision: a client gone pops nothing).
pub fn waits_across(blocking: &Blocking, conn: u64) -> bool {
    blocking.spanning.contains_key(&conn)
}

/// A try of connection `conn` finished (`reply` empty: nothing popped);
/// handled by the next [`deliver`].
pub fn tried(state: &mut ShardState, conn: u64, reply: Vec<u8>) {
    state.blocking.tried.push((conn, reply));
}

/// A key shard woke connection `conn` of this shard, blocked across
/// shards (a late reply to [`WAKE`]); handled by the next [`deliver`].
pub fn woken(state: &mut ShardState, conn: u64) {
    state.blocking.woken.push(conn);
}

/// Registers connection `conn` of shard `home`, blocked across shards, on
/// `key` (`RemoteOp::RespBlockWatch`).
pub fn watch(
    state: &mut ShardState,
    db: u32,
    key: &[u8],
    home: ShardId,
    conn: u64,
    wanted: Wanted,
) {
    let watcher = Watcher { home, conn, wanted };
    state.blocking.watch(db, key, watcher);
}

/// Drops the registrations of connection `conn` of shard `home`
/// (`RemoteOp::RespBlockUnwatch`).
pub fn unwatch(state: &mut ShardState, home: ShardId, conn: u64) {
    state.blocking.unwatch(home, conn);
}

/// Drops the registrations of connection `conn` of this shard on the
/// shards of its keys.
fn unwatch_everywhere(state: &mut ShardState, conn: u64, shards: &[ShardId]) {
    let me = state.id;
    let (index, generation) = ShardState::unpack_conn(conn);
    for &shard in shards {
        if shard == me {
            state.blocking.unwatch(me, conn);
        } else {
            // No reply is awaited: a slot nothing matches.
            let op = RemoteOp::RespBlockUnwatch { home: me, conn };
            expect_into(u64::MAX, index, generation, state, shard, op);
        }
    }
}

/// Ends the wait of connection `conn` of this shard, blocked across
/// shards, with `reply` (and, if `unwatch`, drops its registrations).
fn end_across(state: &mut ShardState, conn: u64, reply: Vec<u8>, unwatch: bool) {
    let Some(waiter) = state.blocking.spanning.remove(&conn) else {
        return;
    };
    if let Some(due) = waiter.due_ms {
        state.blocking.spanning_deadlines.remove(&(due, conn));
    }
    if unwatch {
        unwatch_everywhere(state, conn, &waiter.shards);
    }
    let home = state.id;
    let target = (conn, waiter.slot);
    state.blocking.replies.push(Unblocked {
        home,
        target,
        reply,
    });
    state.stats.blocked_clients = state.blocking.count();
}

/// Times out connection `conn` of this shard, blocked across shards.
fn time_out_across(state: &mut ShardState, conn: u64) {
    let Some(waiter) = state.blocking.spanning.get(&conn) else {
        return;
    };
    let mut reply = Vec::new();
    reply::null_array(&mut reply, waiter.version);
    end_across(state, conn, reply, true);
}

/// Times out the clients blocked across shards that are due at `now_ms`
/// (one whose try is under way: once it finds nothing).
fn expire_across(state: &mut ShardState, now_ms: u64) {
    while let Some(&(due, conn)) = state.blocking.spanning_deadlines.first() {
        if due > now_ms {
            break;
        }
        state.blocking.spanning_deadlines.pop_first();
        match state.blocking.spanning.get_mut(&conn) {
            Some(waiter) if waiter.trying => waiter.expired = true,
            Some(_) => time_out_across(state, conn),
            None => {}
        }
    }
}

/// Handles the finished tries and the wakes of clients blocked across
/// shards: a pop is the reply; nothing popped, it waits (registered), times
/// out if due, or tries again if woken meanwhile.
fn settle_across(state: &mut ShardState) {
    loop {
        let tried = std::mem::take(&mut state.blocking.tried);
        let woken = std::mem::take(&mut state.blocking.woken);
        if tried.is_empty() && woken.is_empty() {
            return;
        }
        for (conn, reply) in tried {
            let Some(waiter) = state.blocking.spanning.get_mut(&conn) else {
                continue;
            };
            waiter.trying = false;
            if !reply.is_empty() {
                // Its registrations ended with the try.
                end_across(state, conn, reply, false);
            } else if waiter.expired {
                time_out_across(state, conn);
            } else if waiter.woken {
                waiter.woken = false;
                try_across(state, conn, true);
            }
        }
        for conn in woken {
            match state.blocking.spanning.get_mut(&conn) {
                Some(waiter) if waiter.trying => waiter.woken = true,
                Some(_) => try_across(state, conn, true),
                // It left, or was served: a stale wake.
                None => {}
            }
        }
    }
}

/// Runs a blocking request another shard sent (`RemoteOp::RespBlock`):
/// pops now, or waits here. The reply is always a late one.
pub fn run_remote(
    frame: &[u8],
    origin: Origin,
    home: ShardId,
    target: ReplyTarget,
    state: &mut ShardState,
) {
    let mut args = std::mem::take(&mut state.resp_args);
    let mut reply = Vec::new();
    let parsed = match parse(frame, &Limits::default(), &mut args) {
        Parsed::Command { argv, .. } => match lookup(argv.name()) {
            Some(command) => BlockingPop::parse(command, &argv).map_err(<[u8]>::to_vec),
            None => Err(b"ERR internal routing error".to_vec()),
        },
        _ => Err(b"ERR internal routing error".to_vec()),
    };
    state.resp_args = args;
    match parsed {
        Ok(request) if !try_pop(&request, origin, state, &mut reply) => {
            wait(state, request, home, target, origin);
            return;
        }
        Ok(_) => {}
        // The home parsed it already: this cannot happen.
        Err(error) => reply::error(&mut reply, &error),
    }
    state.blocking.replies.push(Unblocked {
        home,
        target,
        reply,
    });
}

/// Tries a request's non-blocking pop on this shard when it arrives,
/// replying into `out` if it popped (or refused); a BLMOVE's destination
/// may then serve others. BLMOVE and BRPOPLPUSH (`denyoom`) are refused
/// with `OOM` when the memory limit leaves no room, as any such command.
fn try_pop(
    request: &BlockingPop,
    origin: Origin,
    state: &mut ShardState,
    out: &mut Vec<u8>,
) -> bool {
    let cx = &mut context(state, origin);
    if request.destination().is_some() && !cx.store.make_room_for_write(cx.now) {
        reply::error(out, OOM);
        return true;
    }
    if !request.try_pop(cx, out) {
        return false;
    }
    if let Some(destination) = request.destination() {
        if state.blocking.is_active() {
            state.blocking.signal(origin.db, destination);
            serve_ready(state);
        }
    }
    true
}

/// Makes a request that found no data wait here.
fn wait(
    state: &mut ShardState,
    request: BlockingPop,
    home: ShardId,
    target: ReplyTarget,
    origin: Origin,
) {
    let due_ms = request
        .timeout_ms
        .map(|timeout| state.now.millis().saturating_add(timeout));
    state.blocking.add(Waiter {
        request,
        home,
        target,
        version: origin.version,
        db: origin.db,
        due_ms,
    });
    state.stats.blocked_clients = state.blocking.count();
}

/// Forgets the waiter of connection `conn` of shard `home`, if it still
/// waits (`RemoteOp::RespUnblock`, or its client left on this shard).
pub fn forget(state: &mut ShardState, home: ShardId, conn: u64) {
    if let Some(&id) = state.blocking.by_conn.get(&(home, conn)) {
        state.blocking.remove(id);
    }
    if home == state.id {
        if let Some(waiter) = state.blocking.spanning.remove(&conn) {
            if let Some(due) = waiter.due_ms {
                state.blocking.spanning_deadlines.remove(&(due, conn));
            }
            unwatch_everywhere(state, conn, &waiter.shards);
        }
    }
    state.stats.blocked_clients = state.blocking.count();
}

/// After a command ran on this shard: if it wrote, serves whoever waits on
/// its arguments that are keys (the caller checked
/// [`Blocking::is_active`]).
pub fn after_command(state: &mut ShardState, command: Command, argv: &Argv<'_>, db: u32) {
    if !command.spec().flags.contains(&"write") {
        return;
    }
    let blocking = &mut state.blocking;
    match command {
        // Their destination may be in another database.
        Command::Move | Command::Copy => {
            let dbs: Vec<u32> = blocking.queues.keys().copied().collect();
            for db in dbs {
                argv.iter()
                    .skip(1)
                    .take(2)
                    .for_each(|key| blocking.signal(db, key));
            }
        }
        _ => argv.iter().skip(1).for_each(|key| blocking.signal(db, key)),
    }
    serve_ready(state);
}

/// After a transaction wrote `key` of database `db`, or `SWAPDB` swapped
/// databases (`key` `None`: every waited-on key of `db`).
pub fn after_write(state: &mut ShardState, db: u32, key: Option<&[u8]>) {
    if !state.blocking.is_active() {
        return;
    }
    match key {
        Some(key) => state.blocking.signal(db, key),
        None => state.blocking.signal_all(db),
    }
    serve_ready(state);
}

/// Until the matching [`release`], writes on this shard only mark the
/// waited-on keys they give data: a transaction's commands (`EXEC`, and
/// each step of `server::txn`) run as one, and Redis serves blocked
/// clients once the whole transaction ran, never in the middle of it.
pub fn hold(state: &mut ShardState) {
    state.blocking.holds += 1;
}

/// Ends a [`hold`], serving whoever the writes meanwhile gave data.
pub fn release(state: &mut ShardState) {
    state.blocking.holds = state.blocking.holds.saturating_sub(1);
    serve_ready(state);
}

/// Serves the waiters of the keys that got data, in the order the keys
/// did, each key's waiters first come first served while it has data
/// (unless a transaction [`hold`]s the serving); then, if the key still
/// holds what they wait for, wakes the clients blocked across shards that
/// are registered on it (each drops all its registrations here).
fn serve_ready(state: &mut ShardState) {
    if state.blocking.holds > 0 || state.blocking.ready.is_empty() {
        return;
    }
    // Taken out while the store is borrowed for the pops.
    let mut blocking = std::mem::take(&mut state.blocking);
    while let Some((db, key)) = blocking.ready.pop_front() {
        if let Some(queue) = blocking.queues.get(&db).and_then(|q| q.get(&key)) {
            let waiting: Vec<usize> = queue.iter().copied().collect();
            serve_key(state, &mut blocking, db, &key, waiting);
        }
        let Some(watchers) = blocking.watchers.get(&db).and_then(|w| w.get(&key)) else {
            continue;
        };
        let origin = Origin {
            version: Version::Resp2,
            db,
        };
        let cx = &context(state, origin);
        let firing: Vec<Watcher> = watchers
            .iter()
            .filter(|watcher| watcher.wanted.is_held(&key, cx))
            .copied()
            .collect();
        for Watcher { home, conn, .. } in firing {
            blocking.unwatch(home, conn);
            if home == state.id {
                blocking.woken.push(conn);
            } else {
                blocking.wakes.push((home, conn));
            }
        }
    }
    state.stats.blocked_clients = blocking.count();
    state.blocking = blocking;
}

/// Serves `waiting`, the waiters of `key` of database `db`, in order, for
/// as long as the key has data.
fn serve_key(
    state: &mut ShardState,
    blocking: &mut Blocking,
    db: u32,
    key: &[u8],
    waiting: Vec<usize>,
) {
    for id in waiting {
        let waiter = &blocking.waiters[id];
        let origin = Origin {
            version: waiter.version,
            db,
        };
        let mut reply = Vec::new();
        let cx = &mut context(state, origin);
        if !waiter.request.try_pop_key(key, cx, &mut reply) {
            if cx.store.peek(key, cx.now).is_none() {
                break;
            }
            // Another type than it waits for: the next may want it.
            continue;
        }
        let waiter = blocking.remove(id);
        if let Some(destination) = waiter.request.destination() {
            blocking.signal(db, destination);
        }
        blocking.replies.push(Unblocked {
            home: waiter.home,
            target: waiter.target,
            reply,
        });
    }
}

/// When the next waiter times out (the clock's milliseconds), if any does:
/// the shard must not sleep past it.
pub fn next_deadline(state: &ShardState) -> Option<u64> {
    let blocking = &state.blocking;
    let here = blocking.deadlines.first().map(|&(due, _)| due);
    let across = blocking.spanning_deadlines.first().map(|&(due, _)| due);
    here.into_iter().chain(across).min()
}

/// Once per turn: times out the waiters that are due, handles the tries
/// and wakes of clients blocked across shards, sends the wakes for other
/// shards' clients, then hands every reply ready to its connection (on
/// this shard) or sends it home. Returns the connections of this shard
/// that got one.
pub fn deliver(state: &mut ShardState, conns: &mut Slab<Connection>) -> Vec<usize> {
    let blocking = &mut state.blocking;
    if !blocking.deadlines.is_empty() {
        blocking.expire(state.now.millis());
        state.stats.blocked_clients = blocking.count();
    }
    if !state.blocking.spanning.is_empty() {
        expire_across(state, state.now.millis());
    }
    settle_across(state);
    for (home, conn) in std::mem::take(&mut state.blocking.wakes) {
        state.mesh.send_late(home, (conn, WAKE), &[]);
    }
    if state.blocking.replies.is_empty() {
        return Vec::new();
    }
    let mut touched = Vec::new();
    for unblocked in std::mem::take(&mut state.blocking.replies) {
        if unblocked.home == state.id {
            touched.extend(deliver_to(conns, unblocked.target, &unblocked.reply));
        } else {
            let (home, target) = (unblocked.home, unblocked.target);
            state.mesh.send_late(home, target, &unblocked.reply);
        }
    }
    touched
}

/// Delivers a blocking pop's reply to this shard's connection `target`, if
/// it is still there, which may then read on; returns its index.
pub fn deliver_to(
    conns: &mut Slab<Connection>,
    target: ReplyTarget,
    reply: &[u8],
) -> Option<usize> {
    let (index, generation) = ShardState::unpack_conn(target.0);
    let conn = conns.get_mut(index)?;
    if conn.generation != generation {
        return None;
    }
    conn.output.deliver(target.1, reply);
    conn.blocked_on = None;
    Some(index)
}

/// Called on every I/O event of a connection: a blocked one whose client
/// went away (it closed, was killed, the server stops) stops waiting, and
/// is aborted so that it closes without waiting for its reply.
pub fn check_gone(state: &mut ShardState, index: usize, conn: &mut Connection) {
    let Some(shard) = conn.blocked_on else {
        return;
    };
    if conn.phase == Phase::Open && !conn.read_closed {
        return;
    }
    conn.blocked_on = None;
    conn.abort();
    let key = conn_key(index, conn.generation);
    let me = state.id;
    if shard == me {
        return forget(state, me, key);
    }
    // Its empty reply goes to a slot nothing matches.
    let op = RemoteOp::RespUnblock {
        home: me,
        conn: key,
    };
    expect_into(u64::MAX, index, conn.generation, state, shard, op);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::resp::blocking::{End, Pop};

    fn waiter(keys: &[&str], conn: u64, due_ms: Option<u64>, version: Version) -> Waiter {
        Waiter {
            request: BlockingPop {
                pop: Pop::One(End::Left),
                keys: keys.iter().map(|key| key.as_bytes().into()).collect(),
                timeout_ms: None,
            },
            home: 1,
            target: (conn, 7),
            version,
            db: 0,
            due_ms,
        }
    }

    fn queue(blocking: &Blocking, key: &str) -> Vec<u64> {
        let ids = blocking
            .queues
            .get(&0)
            .and_then(|queues| queues.get(key.as_bytes()))
            .cloned()
            .unwrap_or_default();
        ids.iter()
            .map(|&id| blocking.waiters[id].target.0)
            .collect()
    }

    #[test]
    fn waiters_queue_per_key_in_arrival_order_and_leave_every_queue() {
        let mut blocking = Blocking::default();
        assert!(!blocking.is_active());
        blocking.add(waiter(&["a", "b"], 10, None, Version::Resp2));
        blocking.add(waiter(&["b"], 11, None, Version::Resp2));
        blocking.add(waiter(&["a", "a"], 12, None, Version::Resp2));
        assert!(blocking.is_active());
        assert_eq!(queue(&blocking, "a"), [10, 12]);
        assert_eq!(queue(&blocking, "b"), [10, 11]);
        let first = blocking.by_conn[&(1, 10)];
        blocking.remove(first);
        assert_eq!(queue(&blocking, "a"), [12]);
        assert_eq!(queue(&blocking, "b"), [11]);
        for conn in [11, 12] {
            let id = blocking.by_conn[&(1, conn)];
            blocking.remove(id);
        }
        // Nothing is kept for keys nobody waits on.
        assert!(blocking.queues.is_empty());
        assert!(blocking.by_conn.is_empty());
        assert_eq!(blocking.count(), 0);
    }

    #[test]
    fn only_waited_keys_are_marked_ready_once() {
        let mut blocking = Blocking::default();
        blocking.add(waiter(&["a"], 10, None, Version::Resp2));
        blocking.signal(0, b"other");
        blocking.signal(1, b"a");
        assert!(blocking.ready.is_empty());
        blocking.signal(0, b"a");
        blocking.signal(0, b"a");
        assert_eq!(blocking.ready.len(), 1);
    }

    #[test]
    fn due_waiters_get_the_null_array_of_their_protocol() {
        let mut blocking = Blocking::default();
        blocking.add(waiter(&["a"], 10, Some(100), Version::Resp2));
        blocking.add(waiter(&["a"], 11, Some(50), Version::Resp3));
        blocking.add(waiter(&["a"], 12, None, Version::Resp2));
        blocking.expire(49);
        assert!(blocking.replies.is_empty());
        blocking.expire(100);
        let replies: Vec<(u64, &[u8])> = blocking
            .replies
            .iter()
            .map(|unblocked| (unblocked.target.0, &unblocked.reply[..]))
            .collect();
        assert_eq!(replies, [(11, &b"_\r\n"[..]), (10, b"*-1\r\n")]);
        assert_eq!(queue(&blocking, "a"), [12]);
        assert!(blocking.deadlines.is_empty());
    }
}
