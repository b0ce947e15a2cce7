//! Transactions a client builds: `MULTI` … `EXEC`, `DISCARD`, `WATCH`,
//! `UNWATCH`.
//!
//! # Queueing
//!
//! After `MULTI`, every request the front end admits (known command, right
//! arity, allowed) is answered `+QUEUED` and kept as its frame in the
//! session ([`Transaction`]); a refused one marks the transaction failed,
//! and its `EXEC` replies `EXECABORT`. Nothing runs until `EXEC`.
//!
//! `INFO commandstats` counts as Redis does ([`Count`]): a queued command
//! is no call when queued, nor ever if the transaction is discarded or
//! aborted; it is one when `EXEC` runs it (failed if it answers an error:
//! counted as it runs on this shard, by the shard that runs its frame, or
//! from the replies computed here once a transaction across shards has
//! run); one refused at queue time is a rejected call. `EXEC` itself is a
//! call, failed only when it answers an error of its own (`EXECABORT`).
//!
//! # Watches
//!
//! `WATCH key` starts a watch on the shard owning the key (`Store::watch`
//! remembers the item's CAS and expiry, or its absence); the session keeps
//! the list. `EXEC`, `DISCARD`, `UNWATCH`, `RESET` and closing the
//! connection end every watch on its shard; `EXEC` learns from the same
//! message whether the key changed, and replies a null array, running
//! nothing, if any did. A key changed if Redis would have signalled it
//! modified: a collection write that changes nothing (`SADD` of members
//! the set has, `HDEL`/`ZREM`/`LREM` of nothing, `ZADD` that adds or moves
//! no score, `SPOP key 0`…) leaves it unchanged, while `HSET`, `LSET` and
//! `LTRIM` count even when they change nothing, as in Redis.
//!
//! # EXEC: one shard, or a transaction over several
//!
//! When every key the queued commands and the watches touch lives on the
//! connection's own shard, `EXEC` checks the watches and runs the queue
//! right here, in one piece: nothing else runs on the shard meanwhile, so
//! nobody can observe half of it, and it costs no message at all.
//!
//! Otherwise `EXEC` is a transaction of `server::txn` (shard-ordered holds,
//! whose module docs explain why it cannot deadlock): the watch checks are
//! its probes, and each queued command becomes operations on the shards of
//! its keys — its whole frame on its key's shard, `MGET`, `DEL`… one key
//! per operation, `DBSIZE`, `KEYS`, `FLUSHALL` one per shard — which every
//! involved shard runs while all of them are held, before any is released.
//! Operations of one shard run in queue order, so commands on the same
//! keys see each other's effects in order; commands on different shards
//! touch disjoint keys, so their relative order cannot be observed. The
//! coordinator assembles the replies in queue order. Commands that touch
//! no key (`PING`, `CONFIG`, `CLIENT`…) run on the connection once the
//! transaction has run, in queue order, their replies spliced into
//! `EXEC`'s ([`deliver_exec`]): not at all if a watch aborted it, and as
//! outside a transaction, so that those needing every shard's
//! connections or counters (`CLIENT LIST|KILL`, `CONFIG RESETSTAT`) ask
//! them as usual. Only their order relative to the keyed commands is
//! lost, which nothing but timing can observe. `SELECT` takes effect for
//! the commands after it and, once `EXEC` has run, for the connection.
//!
//! A queue with a command that must read keys on several shards together
//! (`SINTERSTORE`, `LMOVE`, `RENAME`, `MSETNX`… whose keys are on
//! different shards) runs instead as one [`Kind::Gathered`] transaction,
//! when every queued command names its keys: every key is dumped while
//! held, the whole queue runs on copies of them on this shard
//! (`command::resp::copies`), and what changed is written back before any
//! shard is released — each command with exactly its one-shard semantics.
//!
//! `PUBLISH` and `PUBSUB CHANNELS|NUMSUB|NUMPAT` need every shard's
//! subscribers: in a transaction across shards they are operations on
//! every shard, which is then part of the transaction, so they see and
//! reach every shard's subscribers while all are held. Across shards the
//! final operations deliver a `PUBLISH` and answer a `PUBSUB`; on copies
//! ([`Kind::Gathered`]) the probes count a `PUBLISH`'s receivers (none can
//! subscribe or leave while the shards are held) and answer a `PUBSUB`,
//! and the final operations deliver the message.
//!
//! Left out: a queue that needs copies *and* has a command that names no
//! keys but touches the keyspace (`SELECT`, `MOVE`, `COPY … DB`,
//! `FLUSHALL`, `KEYS`, `SCAN`, `RANDOMKEY`, `DBSIZE`, `SWAPDB`) runs each
//! command where its keys are, and the commands that need several shards
//! together get Redis Cluster's `CROSSSLOT` error for themselves alone.

use std::time::Instant;

use super::blocking;
use super::connection::Connection;
use super::memcache::expect_into;
use super::resp::{self, Origin};
use super::txn::{Element, Finished, Gather, Kind, Plan};
use super::worker::{database, ShardState};
use crate::command::resp::connection::{self as conn_commands, Action, Session};
use crate::command::resp::label::Label;
use crate::command::resp::pubsub::{self as pubsub_formats, Combine, Query};
use crate::command::resp::transaction::{self, Transaction};
use crate::command::resp::{self as commands, Command, Keys, Route, KEYS_ON_SEVERAL_SHARDS};
use crate::protocol::resp::reply;
use crate::protocol::resp::{parse, Args, Argv, Limits, Parsed};
use crate::shard::mesh::{PubSubOp, RemoteOp, RequestBatch};
use crate::shard::ShardId;
use crate::stats::errors as error_stats;

/// How `INFO commandstats` counts a request the transaction layer took
/// (as Redis: a queued command counts when `EXEC` runs it, not when
/// queued; `EXEC` counts as failed only for its own error, not for its
/// commands').
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// A call, failed if it answered an error.
    Call,
    /// Queued: not counted now.
    Queued,
    /// `EXEC`: a call, failed only if it was refused (`EXECABORT`,
    /// `EXEC without MULTI`); its commands were counted on their own.
    Exec { failed: bool },
}

/// Handles the request if the transaction layer owns it: queues it inside
/// `MULTI`, or runs `MULTI`, `EXEC`, `DISCARD`, `WATCH`, `UNWATCH`; with
/// how to count it. `None`: the caller runs it as usual.
pub fn handle(
    command: Command,
    argv: &Argv<'_>,
    frame: &[u8],
    session: &mut Session,
    conn: &mut Connection,
    index: usize,
    state: &mut ShardState,
) -> Option<(Action, Count)> {
    if let Some(queue) = &mut session.transaction {
        if !transaction::runs_inside_multi(command) {
            queue.queue(frame);
            transaction::write_queued(conn.output.writer());
            return Some((Action::Continue, Count::Queued));
        }
    }
    let out_of_multi = session.transaction.is_none();
    match command {
        Command::Multi if out_of_multi => {
            session.transaction = Some(Transaction::default());
            reply::simple_string(conn.output.writer(), b"OK");
        }
        Command::Multi => reply::error(conn.output.writer(), transaction::NESTED),
        Command::Discard if out_of_multi => {
            reply::error(conn.output.writer(), transaction::DISCARD_WITHOUT_MULTI)
        }
        Command::Discard => {
            discard(session, conn, index, state);
            reply::simple_string(conn.output.writer(), b"OK");
        }
        Command::Exec if out_of_multi => {
            reply::error(conn.output.writer(), transaction::EXEC_WITHOUT_MULTI);
            return Some((Action::Continue, Count::Exec { failed: true }));
        }
        Command::Exec => {
            let failed = exec(session, conn, index, state);
            return Some((Action::Continue, Count::Exec { failed }));
        }
        Command::Watch if out_of_multi => watch(argv, session, conn, index, state),
        Command::Watch => reply::error(conn.output.writer(), transaction::WATCH_INSIDE_MULTI),
        Command::Unwatch => {
            unwatch_all(session, (index, conn.generation), state);
            reply::simple_string(conn.output.writer(), b"OK");
        }
        Command::Reset => {
            // RESET's own reply comes from the connection commands.
            discard(session, conn, index, state);
            return None;
        }
        _ => return None,
    }
    Some((Action::Continue, Count::Call))
}

/// A request the front end refused (its error is written since `mark` in
/// the output's writer): inside `MULTI` it fails the transaction; an
/// `EXEC` refused so, in or out of `MULTI`, says so as Redis does,
/// `EXECABORT` with the refusal, and discards the transaction.
pub fn refused(
    is_exec: bool,
    mark: usize,
    session: &mut Session,
    conn: &mut Connection,
    index: usize,
    state: &mut ShardState,
) {
    if let Some(queue) = &mut session.transaction {
        queue.failed = true;
    }
    if !is_exec {
        return;
    }
    let out = conn.output.writer();
    let written = out.split_off(mark.min(out.len()));
    let error = written.strip_prefix(b"-").unwrap_or(&written);
    let error = error.strip_suffix(b"\r\n").unwrap_or(error);
    // Redis's own refusals of EXEC carry no `ERR ` (the arity's, the
    // subscribed context's).
    let error = error.strip_prefix(b"ERR ").unwrap_or(error);
    transaction::write_exec_refused(error, out);
    discard(session, conn, index, state);
}

/// Ends the connection's transaction and watches (the connection is
/// closing).
pub fn forget(state: &mut ShardState, index: usize, conn: &mut Connection) {
    if let Some(resp) = &mut conn.resp {
        unwatch_all(&mut resp.session, (index, conn.generation), state);
    }
}

/// Drops the open transaction, if any, and every watch.
fn discard(session: &mut Session, conn: &Connection, index: usize, state: &mut ShardState) {
    session.transaction = None;
    unwatch_all(session, (index, conn.generation), state);
}

/// `WATCH key…`: a watch of each key on its shard, then `+OK` once every
/// shard has started its watches.
fn watch(
    argv: &Argv<'_>,
    session: &mut Session,
    conn: &mut Connection,
    index: usize,
    state: &mut ShardState,
) {
    let db = session.db as u32;
    let mut remote = Vec::new();
    if session.watched.is_empty() {
        state.stats.watching_clients += 1;
    }
    for key in argv.iter().skip(1) {
        if session.watched.iter().any(|(d, k)| *d == db && k == key) {
            continue;
        }
        session.watched.push((db, key.to_vec()));
        let owner = state.slots.shard_of(key);
        if owner == state.id {
            let now = state.now;
            database(&mut state.dbs, db).watch(key, session.id, now);
        } else {
            remote.push((owner, key));
        }
    }
    let slot = conn
        .output
        .await_gather(remote.len() as u32, Vec::new(), write_ok);
    for (owner, key) in remote {
        let key = state.mesh.requests_for(owner).push_bytes(key);
        let client = session.id;
        let op = RemoteOp::RespWatch { key, db, client };
        expect_into(slot, index, conn.generation, state, owner, op);
    }
}

fn write_ok(_parts: &[Vec<u8>], out: &mut Vec<u8>) {
    reply::simple_string(out, b"OK");
}

/// Ends every watch of the session, on each key's shard (the connection
/// `conn` only names where replies would go: none are awaited).
fn unwatch_all(session: &mut Session, conn: (usize, u32), state: &mut ShardState) {
    for (db, key) in take_watched(session, state) {
        let owner = state.slots.shard_of(&key);
        if owner == state.id {
            database(&mut state.dbs, db).unwatch(&key, session.id);
        } else {
            let batch = state.mesh.requests_for(owner);
            let key = batch.push_bytes(&key);
            let client = session.id;
            batch.ops.push(RemoteOp::RespUnwatch { key, db, client });
            // No reply is awaited: a slot nothing matches.
            let target = ShardState::reply_target(conn.0, conn.1, u64::MAX);
            state.mesh.expect_reply(owner, target);
        }
    }
}

/// Takes the session's watched keys (the caller ends the watches).
fn take_watched(session: &mut Session, state: &mut ShardState) -> Vec<(u32, Vec<u8>)> {
    if !session.watched.is_empty() {
        state.stats.watching_clients -= 1;
    }
    std::mem::take(&mut session.watched)
}

/// Where a queued command runs.
enum Placement {
    /// On the connection's shard, touching no key.
    Connection,
    /// On these shards (with repeats).
    Shards(Vec<ShardId>),
    /// On every shard.
    Everywhere,
}

/// The queued requests, parsed one at a time.
struct Queue<'q> {
    frames: &'q [u8],
    pos: usize,
    args: Args,
}

impl<'q> Queue<'q> {
    fn new(transaction: &'q Transaction) -> Queue<'q> {
        Queue {
            frames: transaction.frames(),
            pos: 0,
            args: Args::new(),
        }
    }

    /// Calls `each` with the next request's command, route, arguments and
    /// frame; `false` when the queue is done.
    fn next(&mut self, each: impl FnOnce(Command, Route<'_>, &Argv<'_>, &[u8])) -> bool {
        let rest = &self.frames[self.pos..];
        let Parsed::Command { argv, consumed } = parse(rest, &Limits::default(), &mut self.args)
        else {
            return false;
        };
        self.pos += consumed;
        let mut ignored = Vec::new();
        if let Ok((command, route)) = commands::route(&argv, &mut ignored) {
            each(command, route, &argv, &rest[..consumed]);
        }
        true
    }
}

/// `EXEC` in `MULTI`: aborts a failed transaction, else runs the queue
/// (see the module docs). Whether it answered `EXECABORT`.
fn exec(
    session: &mut Session,
    conn: &mut Connection,
    index: usize,
    state: &mut ShardState,
) -> bool {
    let Some(queue) = session.transaction.take() else {
        return false;
    };
    if queue.failed {
        reply::error(conn.output.writer(), transaction::EXECABORT);
        unwatch_all(session, (index, conn.generation), state);
        return true;
    }
    let mut local = session
        .watched
        .iter()
        .all(|(_, key)| state.slots.shard_of(key) == state.id);
    let mut commands = Queue::new(&queue);
    while local
        && commands.next(|command, route, argv, _| {
            local = match placement(command, route, argv, state) {
                Placement::Connection => true,
                Placement::Shards(shards) => shards.iter().all(|&shard| shard == state.id),
                Placement::Everywhere => state.slots.shard_count() == 1,
            }
        })
    {}
    if local {
        exec_here(&queue, session, conn, index, state);
    } else if let Some(keys) = gathered_keys(&queue, state) {
        exec_gathered(&queue, keys, session, conn, index, state);
    } else {
        exec_across(&queue, session, conn, index, state);
    }
    false
}

/// Every key of the queued commands, when some command must read keys on
/// several shards together (`SINTERSTORE`, `RENAME`, `MSETNX`… across
/// shards) and every command's keys are known from its arguments; `None`
/// otherwise (then each command runs where its keys are).
fn gathered_keys(queue: &Transaction, state: &ShardState) -> Option<Vec<Vec<u8>>> {
    let mut keys = Vec::new();
    let (mut known, mut together) = (true, false);
    let mut commands = Queue::new(queue);
    while known
        && commands.next(|command, route, argv, _| {
            let Some(own) = keys_of(command, route, argv) else {
                known = false;
                return;
            };
            let first = own.first().map(|key| state.slots.shard_of(key));
            let spans = own
                .iter()
                .any(|key| Some(state.slots.shard_of(key)) != first);
            let decides = commands::multi_keys(command, argv).is_some()
                || matches!(route, Route::Two(..) | Route::Key(_) | Route::Blocking(_))
                || command == Command::Msetnx;
            together |= spans && decides;
            keys.extend(own.iter().map(|key| key.to_vec()));
        })
    {}
    (known && together).then_some(keys)
}

/// The keys of a queued command, for a gathered transaction: `None` for
/// the commands it cannot run on copies of their keys (`SELECT`, `MOVE`,
/// `COPY … DB`, keyspace-wide ones: `FLUSHALL`, `KEYS`, `SCAN`…).
fn keys_of<'a>(command: Command, route: Route<'a>, argv: &Argv<'a>) -> Option<Vec<&'a [u8]>> {
    match route {
        Route::Connection | Route::PubSub | Route::Clients | Route::Slowlog => {
            (command != Command::Select).then(Vec::new)
        }
        Route::AllShardsSum
        | Route::AllShardsOk
        | Route::AllShardsConcat
        | Route::RandomShard
        | Route::ScanShard => None,
        _ if command == Command::Move => None,
        _ if command == Command::Copy && argv.iter().any(|a| a.eq_ignore_ascii_case(b"db")) => None,
        _ => Some(named_keys(command, route, argv)),
    }
}

/// The keys a keyed command names in its arguments (none for the other
/// routes).
fn named_keys<'a>(command: Command, route: Route<'a>, argv: &Argv<'a>) -> Vec<&'a [u8]> {
    if let Some(keys) = commands::multi_keys(command, argv) {
        return keys;
    }
    let args = || argv.iter().skip(1);
    match route {
        Route::EachKeyArray | Route::EachKeySum => args().collect(),
        Route::Pairs => args().step_by(2).collect(),
        Route::Two(source, destination) => vec![source, destination],
        // (Malformed, it still runs where its first key is.)
        Route::Blocking(first) => match commands::blocking::keys(command, argv) {
            keys if keys.is_empty() => vec![first],
            keys => keys,
        },
        Route::Key(_) if command == Command::Bitop => args().skip(1).collect(),
        Route::Key(_) if command == Command::Lcs => args().take(2).collect(),
        Route::Key(key) => match command.spec().keys {
            Keys::All => args().collect(),
            _ => vec![key],
        },
        _ => Vec::new(),
    }
}

/// Runs a transaction on copies of all its keys (see the module docs).
fn exec_gathered(
    queue: &Transaction,
    keys: Vec<Vec<u8>>,
    session: &mut Session,
    conn: &mut Connection,
    index: usize,
    state: &mut ShardState,
) {
    let mut requests = Vec::with_capacity(queue.len());
    let mut calls = Vec::with_capacity(queue.len());
    let mut commands = Queue::new(queue);
    while commands.next(|command, route, argv, frame| {
        let request = match command {
            // Answered by every shard, held with the others.
            Command::Publish | Command::Spublish => Gather::Publish {
                shard_channel: command == Command::Spublish,
                channel: argv.get(1).unwrap_or_default().to_vec(),
                message: argv.get(2).unwrap_or_default().to_vec(),
                counts: Vec::new(),
            },
            Command::Pubsub => {
                let mut out = Vec::new();
                match introspection(argv, &mut out) {
                    Some(combine) => Gather::Introspect {
                        frame: frame.to_vec(),
                        combine,
                        parts: Vec::new(),
                    },
                    None => Gather::Local(out),
                }
            }
            _ => match placement(command, route, argv, state) {
                Placement::Connection => Gather::Deferred(frame.to_vec()),
                _ => Gather::Run(frame.to_vec()),
            },
        };
        let failed = matches!(&request, Gather::Local(reply) if reply.starts_with(b"-"));
        // A deferred command counts when it runs.
        let label = Label::of(command, argv).filter(|_| !matches!(request, Gather::Deferred(_)));
        calls.push((label, failed));
        requests.push(request);
    }) {}
    let origin = Origin {
        version: session.version,
        db: session.db as u32,
    };
    let watched = take_watched(session, state);
    let keys: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
    let mut plan = resp::plan_gathering(requests, true, &keys, &watched, origin, state, session.id);
    plan.calls = calls;
    resp::start_txn(plan, conn, index, state);
}

/// Runs a transaction whose keys all live on this shard, at once.
fn exec_here(
    queue: &Transaction,
    session: &mut Session,
    conn: &mut Connection,
    index: usize,
    state: &mut ShardState,
) {
    let now = state.now;
    let mut changed = false;
    for (db, key) in take_watched(session, state) {
        changed |= database(&mut state.dbs, db).unwatch_changed(&key, session.id, now);
    }
    if changed {
        return reply::null_array(conn.output.writer(), session.version);
    }
    reply::array_header(conn.output.writer(), queue.len());
    let mut commands = Queue::new(queue);
    // Blocked clients are served once the whole queue ran.
    blocking::hold(state);
    while commands.next(|command, route, argv, frame| {
        // A blocking pop does not wait here: it runs as its key's command.
        let route = match route {
            Route::Blocking(key) => Route::Key(key),
            route => route,
        };
        let (started, errors_before) = (Instant::now(), error_stats::replied());
        resp::run(command, route, argv, frame, session, conn, index, state);
        // Placed here by `placement`: nothing may wait for another shard.
        debug_assert!(!conn.waiting_txn, "a local EXEC started a transaction");
        if let Some(label) = Label::of(command, argv) {
            let nanos = started.elapsed().as_nanos() as u64;
            let failed = error_stats::replied() != errors_before;
            state.shared.command_stats[state.id].call(label.index(), nanos, failed);
        }
    }) {}
    blocking::release(state);
}

/// Runs a transaction over several shards (see the module docs).
fn exec_across(
    queue: &Transaction,
    session: &mut Session,
    conn: &mut Connection,
    index: usize,
    state: &mut ShardState,
) {
    let shard_count = state.slots.shard_count();
    let mut finals: Vec<RequestBatch> = (0..shard_count).map(|_| RequestBatch::default()).collect();
    let mut probes: Vec<RequestBatch> = (0..shard_count).map(|_| RequestBatch::default()).collect();
    let watched = !session.watched.is_empty();
    for (db, key) in take_watched(session, state) {
        let batch = &mut probes[state.slots.shard_of(&key)];
        let key = batch.push_bytes(&key);
        let client = session.id;
        batch
            .ops
            .push(RemoteOp::RespWatchChanged { key, db, client });
    }
    let mut origin = Origin {
        version: session.version,
        db: session.db as u32,
    };
    let db_before = session.db;
    let mut elements = Vec::with_capacity(queue.len());
    let mut calls = Vec::with_capacity(queue.len());
    let mut commands = Queue::new(queue);
    while commands.next(|command, route, argv, frame| {
        let element = if let Some(element) =
            plan_command(command, route, argv, frame, origin, &mut finals, state)
        {
            element
        } else if command == Command::Select {
            let databases = state.shared.settings.databases;
            let mut out = Vec::new();
            conn_commands::select(argv, session, databases, &mut out);
            origin.db = session.db as u32;
            Element::Local(out)
        } else {
            Element::Deferred(frame.to_vec())
        };
        let failed = matches!(&element, Element::Local(reply) if reply.starts_with(b"-"));
        // A deferred command counts when it runs.
        let label = Label::of(command, argv).filter(|_| !matches!(element, Element::Deferred(_)));
        calls.push((label, failed));
        elements.push(element);
    }) {}
    // A SELECT applies to the connection once the transaction has run.
    let select = (session.db != db_before).then_some(session.db);
    session.db = db_before;
    let shards: Vec<ShardId> = (0..shard_count)
        .filter(|&shard| !finals[shard].ops.is_empty() || !probes[shard].ops.is_empty())
        .collect();
    for element in &mut elements {
        element.locate(|shard| shards.binary_search(&shard).unwrap_or_default());
    }
    let kind = Kind::Exec {
        elements,
        version: session.version,
        watched,
        select,
    };
    let mut plan = Plan::new(shards, kind);
    plan.calls = calls;
    for (position, &shard) in plan.shards.clone().iter().enumerate() {
        plan.finals[position] = std::mem::take(&mut finals[shard]);
        plan.probes[position] = std::mem::take(&mut probes[shard]);
    }
    resp::start_txn(plan, conn, index, state);
}

/// Hands a transaction's reply to its connection, running the `EXEC`'s
/// commands that touch no key where their replies go (`deferred`: each
/// one's frame and its offset in `reply`), now that the transaction has
/// run: as outside a transaction, so those that ask every shard
/// (`CLIENT LIST`, `CLIENT KILL`, `CONFIG RESETSTAT`) can.
pub fn deliver_exec(
    conn: &mut Connection,
    index: usize,
    finished: Finished,
    state: &mut ShardState,
) {
    let Some(mut resp) = conn.resp.take() else {
        return;
    };
    let session = &mut resp.session;
    let (reply, mut start) = (&finished.reply, 0);
    let mut args = Args::new();
    for (position, (offset, frame)) in finished.deferred.iter().enumerate() {
        let before = &reply[start..*offset];
        match position {
            0 => {
                conn.output.deliver(finished.slot, before);
            }
            _ => conn.output.writer().extend_from_slice(before),
        }
        start = *offset;
        let Parsed::Command { argv, .. } = parse(frame, &Limits::default(), &mut args) else {
            continue;
        };
        let mut ignored = Vec::new();
        let Ok((command, route)) = commands::route(&argv, &mut ignored) else {
            continue;
        };
        let (started, errors_before) = (Instant::now(), error_stats::replied());
        resp::run(command, route, &argv, frame, session, conn, index, state);
        if let Some(label) = Label::of(command, &argv) {
            let nanos = started.elapsed().as_nanos() as u64;
            let failed = error_stats::replied() != errors_before;
            state.shared.command_stats[state.id].call(label.index(), nanos, failed);
        }
    }
    conn.output.writer().extend_from_slice(&reply[start..]);
    conn.resp = Some(resp);
}

/// Where a queued command runs, by its keys.
fn placement(command: Command, route: Route<'_>, argv: &Argv<'_>, state: &ShardState) -> Placement {
    match route {
        Route::AllShardsSum | Route::AllShardsOk | Route::AllShardsConcat | Route::RandomShard => {
            Placement::Everywhere
        }
        Route::ScanShard => Placement::Shards(vec![resp::scan_target(argv, state)]),
        Route::Connection | Route::PubSub | Route::Clients | Route::Slowlog => {
            Placement::Connection
        }
        _ => Placement::Shards(
            named_keys(command, route, argv)
                .into_iter()
                .map(|key| state.slots.shard_of(key))
                .collect(),
        ),
    }
}

/// An element that is an error reply.
fn local_error(error: &[u8]) -> Element {
    let mut out = Vec::new();
    reply::error(&mut out, error);
    Element::Local(out)
}

/// `PUBLISH` or `SPUBLISH` in a transaction across shards: delivered on
/// every shard while all are held (subscribers that then read see the
/// transaction's writes), the receivers summed.
fn plan_publish(command: Command, argv: &Argv<'_>, finals: &mut [RequestBatch]) -> Element {
    let (channel, message) = (
        argv.get(1).unwrap_or_default(),
        argv.get(2).unwrap_or_default(),
    );
    let parts = finals
        .iter_mut()
        .enumerate()
        .map(|(shard, batch)| {
            let op = PubSubOp::Publish {
                shard_channel: command == Command::Spublish,
                channel: batch.push_bytes(channel),
                message: batch.push_bytes(message),
            };
            batch.ops.push(RemoteOp::PubSub(op));
            (shard, batch.ops.len() - 1)
        })
        .collect();
    Element::Sum(parts)
}

/// `PUBSUB CHANNELS|NUMSUB|NUMPAT` in a transaction across shards: every
/// shard's part, answered while all are held, joined as outside one.
fn plan_introspect(argv: &Argv<'_>, frame: &[u8], finals: &mut [RequestBatch]) -> Element {
    let mut out = Vec::new();
    let Some(combine) = introspection(argv, &mut out) else {
        return Element::Local(out);
    };
    let parts = finals
        .iter_mut()
        .enumerate()
        .map(|(shard, batch)| {
            let frame = batch.push_bytes(frame);
            batch
                .ops
                .push(RemoteOp::PubSub(PubSubOp::Introspect { frame }));
            (shard, batch.ops.len() - 1)
        })
        .collect();
    Element::Gather(parts, combine)
}

/// How a `PUBSUB` request's shard parts are joined, or `None` with its
/// whole reply written (an error, `HELP`).
fn introspection(argv: &Argv<'_>, out: &mut Vec<u8>) -> Option<Combine> {
    let query = Query::parse(argv, out)?;
    let combine = query.combine();
    if combine.is_none() {
        pubsub_formats::write_help(out);
    }
    combine
}

/// The operations of a keyed command of a transaction across shards,
/// added to each shard's `finals`, and how its reply is assembled; `None`
/// for a command that touches no key.
fn plan_command(
    command: Command,
    route: Route<'_>,
    argv: &Argv<'_>,
    frame: &[u8],
    origin: Origin,
    finals: &mut [RequestBatch],
    state: &ShardState,
) -> Option<Element> {
    if matches!(command, Command::Publish | Command::Spublish) {
        return Some(plan_publish(command, argv, finals));
    }
    if command == Command::Pubsub {
        return Some(plan_introspect(argv, frame, finals));
    }
    let whole_frame = |shard: ShardId, finals: &mut [RequestBatch]| {
        (shard, resp::push_frame(&mut finals[shard], frame, origin))
    };
    let every_shard = 0..state.slots.shard_count();
    let element = match placement(command, route, argv, state) {
        Placement::Connection => return None,
        // (`MGET`, `DEL`… are answered by the server layer, one key at a
        // time, wherever their keys are.)
        Placement::Shards(shards)
            if shards.iter().all(|&shard| shard == shards[0])
                && !matches!(route, Route::EachKeyArray | Route::EachKeySum) =>
        {
            Element::Single(whole_frame(shards[0], finals))
        }
        Placement::Shards(shards) => match route {
            Route::EachKeyArray | Route::EachKeySum => {
                let parts = argv
                    .iter()
                    .skip(1)
                    .zip(shards)
                    .map(|(key, shard)| {
                        (
                            shard,
                            resp::push_key(&mut finals[shard], command, key, origin),
                        )
                    })
                    .collect();
                if matches!(route, Route::EachKeyArray) {
                    Element::Array(parts)
                } else {
                    Element::Sum(parts)
                }
            }
            Route::Pairs if command == Command::Mset => {
                Element::Ok(resp::push_mset_frames(argv, shards, finals, origin))
            }
            _ => local_error(KEYS_ON_SEVERAL_SHARDS),
        },
        Placement::Everywhere => match route {
            Route::RandomShard => match resp::random_shard(origin.db, state) {
                Some(shard) => Element::Single(whole_frame(shard, finals)),
                None => {
                    let mut out = Vec::new();
                    reply::null(&mut out, origin.version);
                    Element::Local(out)
                }
            },
            Route::AllShardsOk => match resp::all_shards_op(command, argv, origin, state) {
                Ok(op) => Element::Ok(
                    every_shard
                        .map(|shard| {
                            finals[shard].ops.push(op.clone());
                            (shard, finals[shard].ops.len() - 1)
                        })
                        .collect(),
                ),
                Err(error) => local_error(error),
            },
            Route::AllShardsSum => Element::Sum(
                every_shard
                    .map(|shard| {
                        finals[shard]
                            .ops
                            .push(RemoteOp::RespDbSize { db: origin.db });
                        (shard, finals[shard].ops.len() - 1)
                    })
                    .collect(),
            ),
            _ => Element::Concat(
                every_shard
                    .map(|shard| whole_frame(shard, finals))
                    .collect(),
            ),
        },
    };
    Some(element)
}
