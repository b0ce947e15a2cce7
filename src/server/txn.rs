//! Cross-shard atomic commands: an `MSET`, `MGET`, `DEL`, `RENAME`… whose
//! keys live on several shards runs as a transaction, so that no client
//! ever observes half of it.
//!
//! # The scheme: shard-ordered holds
//!
//! The connection's shard coordinates. It acquires the involved shards one
//! at a time, **in ascending shard order**, by sending each a
//! [`TxnMessage::Step`]. A shard that receives a step for a transaction
//! not holding it queues it (first come, first served) behind the
//! transaction holding it, if any; once the step is granted the shard is
//! *held*: it runs the step's operations, answers with
//! [`TxnMessage::Done`], and runs nothing else — no request of its own
//! connections, no operation other shards send — until the transaction
//! releases it. Other shards' operations that arrive meanwhile are kept in
//! arrival order and run, before anything else, when the shard is
//! released. Transaction messages themselves are never held back.
//!
//! Once every involved shard is held, the coordinator knows that nobody
//! can read or write any of the keys, decides (`MSETNX`: did any key
//! exist?), and sends each shard its final operations with `release`. A
//! reader thus sees either none of the transaction or, on every shard it
//! looks at afterwards, all of it: a shard is released only after every
//! shard was held. The last shard acquired does its final operations as
//! its step is granted and is released at once when nothing must be
//! decided (`MGET`, `MSET`, `DEL`…), since every other shard is held by
//! then; a two-shard `MSET` from a connection on the lower shard costs one
//! round trip.
//!
//! # Why it cannot deadlock
//!
//! A transaction waits only for a shard, and only while holding shards
//! lower than that one; the holder of the awaited shard holds it while
//! waiting (if at all) only for higher ones. Every chain of transactions
//! waiting for each other therefore climbs strictly in shard order and
//! cannot close into a cycle. Nothing else waits on a hold: requests and
//! operations are only postponed, and the messages that move transactions
//! forward (steps and their answers) are taken and handled whatever the
//! shard is doing. Each shard's queue is first come, first served, so a
//! waiting transaction is granted after finitely many others.
//!
//! A transaction's keys on one shard need none of this: a command whose
//! keys share a shard runs there in one piece, as any single-key command.
//!
//! # Commands that read several keys together
//!
//! `SINTERSTORE`, `LMOVE`, `ZUNIONSTORE`… (and a client's `EXEC` holding
//! one) across shards are [`Kind::Gathered`]: the probes dump every key,
//! the coordinator runs the command on copies of them with its one-shard
//! code (`command::resp::copies`), and the final operations write back
//! what it changed. Copying costs the keys' sizes, once, on this slow
//! path; keys of one `{hash tag}` never take it.

use std::collections::{HashMap, VecDeque};

use super::blocking;
use super::output::{join_arrays, parse_integer, Combine, ReplySlot};
use super::shared::Shared;
use super::worker::{self, ShardState};
use crate::clock::Now;
use crate::command::resp::bits::{self, BitOp};
use crate::command::resp::blocking::BlockingPop;
use crate::command::resp::copies::{Change, Copies, Setting};
use crate::command::resp::label::Label;
use crate::command::resp::lcs::{self, LcsOptions};
use crate::command::resp::moves::{self, Decision};
use crate::command::resp::typecheck;
use crate::command::resp::{self as commands, Command};
use crate::protocol::resp::reply;
use crate::protocol::resp::{parse, Args, Limits, Parsed};
use crate::shard::mesh::{PubSubOp, RemoteOp, ReplyBatch, RequestBatch, TxnId, TxnMessage};
use crate::shard::ShardId;

/// What a command's transaction computes from its shards' replies.
#[derive(Debug)]
pub enum Kind {
    /// `MGET`: one bulk per key, in key order; `order[i]` is the index (in
    /// [`Plan::shards`]) of key `i`'s shard.
    Array { order: Vec<u16> },
    /// `DEL`, `UNLINK`, `EXISTS`, `TOUCH`: the sum of the replies.
    Sum,
    /// `MSET`: `+OK`.
    Ok,
    /// `MSETNX`: the probes count existing keys; the final operations run
    /// only if none exists. Replies 1 or 0.
    SetIfNoneExists,
    /// `RENAME`, `RENAMENX`, `COPY` across two shards: the source shard's
    /// probe dumps the source item, the destination's checks whether the
    /// destination exists.
    Move {
        command: Command,
        /// COPY's `REPLACE`.
        replace: bool,
        source: usize,
        destination: usize,
        source_key: Vec<u8>,
        destination_key: Vec<u8>,
        /// The databases of the two keys.
        source_db: u32,
        destination_db: u32,
    },
    /// `BITOP` across shards: the probes dump the sources (`sources[i]`
    /// is source `i`'s shard index and position among that shard's
    /// probes); the result goes to `destination` (a shard index).
    Bitop {
        op: BitOp,
        sources: Vec<(usize, usize)>,
        destination: usize,
        destination_key: Vec<u8>,
        db: u32,
    },
    /// `LCS` of two keys on two shards, dumped by the probes.
    Lcs {
        options: LcsOptions,
        version: reply::Version,
        keys: [(usize, usize); 2],
    },
    /// A client's `EXEC` (`server::multi`): one reply per queued command,
    /// from the final operations. With `watched` keys, the probes check
    /// them (`:1`: changed), and any change runs nothing and replies a
    /// null array. `select`: the database the connection selects once the
    /// transaction has run.
    Exec {
        elements: Vec<Element>,
        version: reply::Version,
        watched: bool,
        select: Option<usize>,
    },
    /// Requests whose keys live on several shards and must be read
    /// together (`SINTERSTORE`, `LMOVE`…, or an `EXEC` holding one): the
    /// probes dump every key (`dumps[i]`: shard index and position of
    /// `keys[i]`'s dump) and check the watches (`watches`: `:1` if
    /// changed); the requests run on copies of the keys
    /// (`command::resp::copies`), and what they changed is written back
    /// on each key's shard. `exec`: the reply is an array of each
    /// request's reply (else the one request's). `attempt`: it is a
    /// blocked client's try at its pop ([`Attempt`]).
    Gathered {
        requests: Vec<Gather>,
        exec: bool,
        attempt: Option<Attempt>,
        version: reply::Version,
        db: u32,
        keys: Vec<Vec<u8>>,
        dumps: Vec<(usize, usize)>,
        watches: Vec<(usize, usize)>,
    },
}

/// A [`Kind::Gathered`] transaction that is the try of a client of this
/// shard blocked on keys of several shards (`server::blocking`). Its one
/// request is a [`Gather::Pop`]. If it pops, the reply goes to the
/// waiter, and the client's wake registrations on every shard are dropped
/// (`RemoteOp::RespBlockUnwatch`) before the shards are released; if it
/// finds nothing, a registration is installed for each key instead
/// (`RemoteOp::RespBlockWatch`), also while held, so that no push can
/// fall between the try and the wait. A waiter gone by the time of the
/// decision pops nothing.
#[derive(Debug, Clone, Copy)]
pub struct Attempt {
    pub home: ShardId,
    /// The connection's packed index and generation.
    pub conn: u64,
}

/// One request of a [`Kind::Gathered`] transaction.
#[derive(Debug)]
pub enum Gather {
    /// A request's whole frame, to run on the copies.
    Run(Vec<u8>),
    /// A blocked client's pop (`woken`: as a woken client tries it), whose
    /// reply is empty if it found nothing.
    Pop { request: BlockingPop, woken: bool },
    /// A reply computed before the transaction started.
    Local(Vec<u8>),
    /// An `EXEC`'s command that touches no key, run once the transaction
    /// has run (see [`Element::Deferred`]).
    Deferred(Vec<u8>),
    /// An `EXEC`'s `PUBLISH` or `SPUBLISH`: every shard's probe counts its
    /// receivers (`counts`, placed by `plan_gathering`; none can come or go
    /// while the shards are held), and its final operations deliver the
    /// message, before any shard is released.
    Publish {
        shard_channel: bool,
        channel: Vec<u8>,
        message: Vec<u8>,
        counts: Vec<(usize, usize)>,
    },
    /// An `EXEC`'s `PUBSUB CHANNELS|NUMSUB|NUMPAT`: every shard's probe
    /// answers its part (`parts`), which `combine` joins.
    Introspect {
        frame: Vec<u8>,
        combine: Combine,
        parts: Vec<(usize, usize)>,
    },
}

impl Gather {
    /// Whether the request needs every shard (held and probed).
    pub fn needs_every_shard(&self) -> bool {
        matches!(self, Gather::Publish { .. } | Gather::Introspect { .. })
    }
}

/// Where one reply of an `EXEC` comes from: final operations, each named
/// by `(shard, position)` — a shard index of the plan once
/// [`Element::locate`]d, a shard id before.
#[derive(Debug)]
pub enum Element {
    /// One operation's reply.
    Single((usize, usize)),
    /// An array of the operations' replies (`MGET`).
    Array(Vec<(usize, usize)>),
    /// The sum of their integer replies (`DEL`, `DBSIZE`…).
    Sum(Vec<(usize, usize)>),
    /// `+OK`, or the first error among the replies (`MSET`, `FLUSHALL`).
    Ok(Vec<(usize, usize)>),
    /// The replies joined by the function (`PUBSUB CHANNELS`, `NUMSUB`,
    /// `NUMPAT`: every shard's part).
    Gather(Vec<(usize, usize)>, Combine),
    /// Their array replies joined (`KEYS`).
    Concat(Vec<(usize, usize)>),
    /// Computed before the transaction started.
    Local(Vec<u8>),
    /// A command that touches no key (`CLIENT`, `CONFIG`, `PING`…), by
    /// its frame: it runs on the connection once the transaction has run
    /// (not at all if a watch aborted it), its reply spliced into place
    /// ([`Finished::deferred`]).
    Deferred(Vec<u8>),
}

impl Element {
    /// Turns the shard ids of the element's operations into the plan's
    /// shard indices.
    pub fn locate(&mut self, index_of: impl Fn(ShardId) -> usize) {
        let parts = match self {
            Element::Single(part) => std::slice::from_mut(part),
            Element::Array(parts)
            | Element::Sum(parts)
            | Element::Ok(parts)
            | Element::Concat(parts)
            | Element::Gather(parts, _) => parts.as_mut_slice(),
            Element::Local(_) | Element::Deferred(_) => &mut [],
        };
        for (shard, _) in parts {
            *shard = index_of(*shard);
        }
    }

    /// Appends the element's reply.
    fn write(&self, replies: &[ReplyBatch], out: &mut Vec<u8>) {
        let reply = |&(shard, position): &(usize, usize)| replies[shard].reply(position);
        match self {
            Element::Single(part) => out.extend_from_slice(reply(part)),
            Element::Array(parts) => {
                reply::array_header(out, parts.len());
                parts
                    .iter()
                    .for_each(|part| out.extend_from_slice(reply(part)));
            }
            Element::Sum(parts) => reply::integer(
                out,
                parts.iter().map(|part| parse_integer(reply(part))).sum(),
            ),
            Element::Ok(parts) => match parts.iter().map(reply).find(|r| r.starts_with(b"-")) {
                Some(error) => out.extend_from_slice(error),
                None => reply::simple_string(out, b"OK"),
            },
            Element::Concat(parts) => {
                let arrays: Vec<Vec<u8>> = parts.iter().map(|part| reply(part).to_vec()).collect();
                join_arrays(&arrays, out);
            }
            Element::Gather(parts, combine) => {
                let parts: Vec<Vec<u8>> = parts.iter().map(|part| reply(part).to_vec()).collect();
                combine(&parts, out);
            }
            Element::Local(bytes) => out.extend_from_slice(bytes),
            Element::Deferred(_) => {}
        }
    }
}

impl Kind {
    /// Whether the final operations are known before the probes: then the
    /// last shard does them as soon as it is held.
    fn is_unconditional(&self) -> bool {
        match self {
            Kind::Array { .. } | Kind::Sum | Kind::Ok => true,
            Kind::Exec { watched, .. } => !watched,
            _ => false,
        }
    }
}

/// A transaction before it starts: the shards it involves and what to run
/// on each.
#[derive(Debug)]
pub struct Plan {
    /// Ascending, without repeats.
    pub shards: Vec<ShardId>,
    /// Per shard: operations run when the shard is acquired (reads the
    /// decision needs).
    pub probes: Vec<RequestBatch>,
    /// Per shard: operations run before the shard is released.
    pub finals: Vec<RequestBatch>,
    pub kind: Kind,
    /// An `EXEC`'s commands, for `INFO commandstats`: each one's label (if
    /// it has one) and whether it answered an error (known for the replies computed here;
    /// a command another shard runs counts its error there). Counted as
    /// calls once the transaction has run; an aborted `EXEC` runs none.
    pub calls: Vec<(Option<Label>, bool)>,
}

impl Plan {
    /// An empty plan over `shards` (ascending, distinct).
    pub fn new(shards: Vec<ShardId>, kind: Kind) -> Plan {
        let count = shards.len();
        Plan {
            shards,
            probes: (0..count).map(|_| RequestBatch::default()).collect(),
            finals: (0..count).map(|_| RequestBatch::default()).collect(),
            kind,
            calls: Vec::new(),
        }
    }

    /// The index of `shard` in [`Plan::shards`].
    pub fn index_of(&self, shard: ShardId) -> usize {
        self.shards
            .binary_search(&shard)
            .expect("the plan involves this shard")
    }
}

/// The reply of a finished transaction, for the worker to hand to its
/// connection.
#[derive(Debug)]
pub struct Finished {
    /// Connection index and generation.
    pub conn: (usize, u32),
    pub slot: ReplySlot,
    pub reply: Vec<u8>,
    /// The database the connection selects now (an `EXEC` that ran a
    /// `SELECT`).
    pub select: Option<usize>,
    /// An `EXEC`'s commands that touch no key, to run now on the
    /// connection, in order: each one's frame and the offset in `reply`
    /// where its reply goes.
    pub deferred: Vec<(usize, Vec<u8>)>,
}

/// A transaction this shard coordinates.
struct Txn {
    conn: (usize, u32),
    slot: ReplySlot,
    plan: Plan,
    /// Shards `plan.shards[..acquired]` are held.
    acquired: usize,
    probe_replies: Vec<ReplyBatch>,
    final_replies: Vec<ReplyBatch>,
    /// Final steps not yet answered.
    outstanding: usize,
    /// The reply, when the decision made it.
    decided: Option<Vec<u8>>,
    /// Where the decided reply's deferred commands go
    /// ([`Finished::deferred`]).
    deferred: Vec<(usize, Vec<u8>)>,
}

/// A step waiting for this shard.
struct Waiting {
    from: ShardId,
    id: TxnId,
    ops: RequestBatch,
    release: bool,
}

/// A message a shard sent itself.
enum Local {
    Step(Waiting),
    Done { id: TxnId, replies: ReplyBatch },
}

/// One shard's transactions: those it coordinates and its part in
/// others'.
pub struct Txns {
    me: ShardId,
    next_seq: u64,
    running: HashMap<u64, Txn>,
    /// The transaction holding this shard.
    holder: Option<TxnId>,
    /// Steps of other transactions, first come first served.
    waiting: VecDeque<Waiting>,
    /// Other shards' operation batches that arrived while held.
    deferred: VecDeque<(ShardId, RequestBatch)>,
    local: VecDeque<Local>,
    finished: Vec<Finished>,
}

impl Txns {
    /// No transactions yet, on shard `me`.
    pub fn new(me: ShardId) -> Txns {
        Txns {
            me,
            next_seq: 0,
            running: HashMap::new(),
            holder: None,
            waiting: VecDeque::new(),
            deferred: VecDeque::new(),
            local: VecDeque::new(),
            finished: Vec::new(),
        }
    }

    /// Whether a transaction holds this shard: requests and other shards'
    /// operations must wait.
    pub fn is_held(&self) -> bool {
        self.holder.is_some()
    }

    /// Whether an operation batch arriving now must wait: the shard is
    /// held, or batches that waited for a hold have not run yet.
    pub fn must_defer(&self) -> bool {
        self.holder.is_some() || !self.deferred.is_empty()
    }

    /// The oldest batch that waited for a hold (for the worker to run once
    /// the shard is released).
    pub fn take_deferred(&mut self) -> Option<(ShardId, RequestBatch)> {
        self.deferred.pop_front()
    }

    /// Keeps an operation batch from `peer` until the shard is released.
    pub fn defer(&mut self, peer: ShardId, batch: RequestBatch) {
        self.deferred.push_back((peer, batch));
    }

    /// Replies of transactions that finished since the last call.
    pub fn take_finished(&mut self) -> Vec<Finished> {
        std::mem::take(&mut self.finished)
    }
}

/// Starts `plan` for the connection `conn`, whose reply goes to `slot`.
pub fn start(state: &mut ShardState, conn: (usize, u32), slot: ReplySlot, plan: Plan) {
    let txns = &mut state.txns;
    let seq = txns.next_seq;
    txns.next_seq += 1;
    let count = plan.shards.len();
    txns.running.insert(
        seq,
        Txn {
            conn,
            slot,
            plan,
            acquired: 0,
            probe_replies: (0..count).map(|_| ReplyBatch::default()).collect(),
            final_replies: (0..count).map(|_| ReplyBatch::default()).collect(),
            outstanding: 0,
            decided: None,
            deferred: Vec::new(),
        },
    );
    let id = TxnId {
        coordinator: txns.me,
        seq,
    };
    acquire_next(state, id);
    pump(state);
}

/// Handles a transaction message from shard `from`.
pub fn receive(state: &mut ShardState, from: ShardId, message: TxnMessage) {
    match message {
        TxnMessage::Step { id, ops, release } => on_step(
            state,
            Waiting {
                from,
                id,
                ops,
                release,
            },
        ),
        TxnMessage::Done { id, replies } => on_done(state, from, id, replies),
    }
    pump(state);
}

/// Handles what the shard sent itself, until nothing is left.
fn pump(state: &mut ShardState) {
    while let Some(message) = state.txns.local.pop_front() {
        match message {
            Local::Step(step) => on_step(state, step),
            Local::Done { id, replies } => {
                let me = state.txns.me;
                on_done(state, me, id, replies);
            }
        }
    }
}

/// Sends the step acquiring the next shard of transaction `id`.
fn acquire_next(state: &mut ShardState, id: TxnId) {
    let Some(txn) = state.txns.running.get_mut(&id.seq) else {
        return;
    };
    let index = txn.acquired;
    let last = index + 1 == txn.plan.shards.len();
    let (ops, release) = if last && txn.plan.kind.is_unconditional() {
        (std::mem::take(&mut txn.plan.finals[index]), true)
    } else {
        (std::mem::take(&mut txn.plan.probes[index]), false)
    };
    let shard = txn.plan.shards[index];
    send_step(state, shard, id, ops, release);
}

fn send_step(state: &mut ShardState, to: ShardId, id: TxnId, ops: RequestBatch, release: bool) {
    if to == state.txns.me {
        state.txns.local.push_back(Local::Step(Waiting {
            from: to,
            id,
            ops,
            release,
        }));
    } else {
        state
            .mesh
            .send_txn(to, TxnMessage::Step { id, ops, release });
    }
}

fn send_done(state: &mut ShardState, to: ShardId, id: TxnId, replies: ReplyBatch) {
    if to == state.txns.me {
        state.txns.local.push_back(Local::Done { id, replies });
    } else {
        state.mesh.send_txn(to, TxnMessage::Done { id, replies });
    }
}

/// A participant's side: run the step now if the shard is free (nobody
/// holds it or waits for it) or already held by its transaction, else
/// queue it.
fn on_step(state: &mut ShardState, step: Waiting) {
    let txns = &mut state.txns;
    let free = txns.holder.is_none() && txns.waiting.is_empty();
    if free || txns.holder == Some(step.id) {
        grant(state, step);
    } else {
        txns.waiting.push_back(step);
    }
}

/// Holds the shard for the step's transaction and runs the step.
fn grant(state: &mut ShardState, step: Waiting) {
    state.txns.holder = Some(step.id);
    let mut replies = ReplyBatch::default();
    // Clients blocked on what the step writes are served after all of it.
    blocking::hold(state);
    for op in &step.ops.ops {
        worker::execute_op(op, &step.ops.arena, state, &mut replies.arena);
        replies.end_reply();
    }
    blocking::release(state);
    send_done(state, step.from, step.id, replies);
    if step.release {
        // The worker runs what waited for the hold first, in arrival
        // order ([`Txns::take_deferred`]).
        state.txns.holder = None;
    }
}

/// Grants the first waiting step if the shard is free. The worker calls
/// this once per turn, after its connections had their turn: granting
/// right at a release would let a queue of transactions hold the shard
/// for ever while its own connections wait.
/// Returns whether it granted one.
pub fn grant_waiting(state: &mut ShardState) -> bool {
    if state.txns.holder.is_some() {
        return false;
    }
    let Some(step) = state.txns.waiting.pop_front() else {
        return false;
    };
    grant(state, step);
    pump(state);
    true
}

/// The coordinator's side: a shard answered a step of transaction `id`.
fn on_done(state: &mut ShardState, from: ShardId, id: TxnId, replies: ReplyBatch) {
    let (shared, now) = (state.shared.clone(), state.now);
    let Some(txn) = state.txns.running.get_mut(&id.seq) else {
        return;
    };
    let index = txn.plan.index_of(from);
    let count = txn.plan.shards.len();
    if txn.acquired < count {
        let early_final = index + 1 == count && txn.plan.kind.is_unconditional();
        if early_final {
            txn.final_replies[index] = replies;
        } else {
            txn.probe_replies[index] = replies;
        }
        txn.acquired += 1;
        if txn.acquired < count {
            return acquire_next(state, id);
        }
        // Every shard is held: decide, then finish everywhere.
        let alive = match &txn.plan.kind {
            Kind::Gathered {
                attempt: Some(attempt),
                ..
            } => blocking::waits_across(&state.blocking, attempt.conn),
            _ => true,
        };
        txn.decided = decide(txn, &shared, now, alive);
        let mut steps = Vec::new();
        for index in 0..count {
            if index + 1 == count && early_final {
                continue;
            }
            let ops = std::mem::take(&mut txn.plan.finals[index]);
            steps.push((txn.plan.shards[index], ops));
        }
        txn.outstanding = steps.len();
        if steps.is_empty() {
            return finish(state, id);
        }
        for (shard, ops) in steps {
            send_step(state, shard, id, ops, true);
        }
        return;
    }
    txn.final_replies[index] = replies;
    txn.outstanding -= 1;
    if txn.outstanding == 0 {
        finish(state, id);
    }
}

/// With every shard held and the probes answered: sets the final
/// operations that depend on them, and returns the reply if the decision
/// already fixes it. `alive`: a blocked client's [`Attempt`] still has its
/// waiter.
fn decide(txn: &mut Txn, shared: &Shared, now: Now, alive: bool) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    match &txn.plan.kind {
        Kind::Gathered { .. } => {
            let (finals, calls) = (&mut txn.plan.finals, &mut txn.plan.calls);
            let probes = &txn.probe_replies;
            let deferred = &mut txn.deferred;
            out = run_gathered(
                &txn.plan.kind,
                probes,
                finals,
                calls,
                deferred,
                shared,
                now,
                alive,
            );
        }
        Kind::Array { .. } | Kind::Sum | Kind::Ok => return None,
        Kind::Exec { version, .. } => {
            let changed: i64 = txn.probe_replies.iter().map(sum_integers).sum();
            if changed == 0 {
                return None;
            }
            for ops in &mut txn.plan.finals {
                *ops = RequestBatch::default();
            }
            txn.plan.calls.clear();
            reply::null_array(&mut out, *version);
        }
        Kind::SetIfNoneExists => {
            let existing: i64 = txn.probe_replies.iter().map(sum_integers).sum();
            if existing > 0 {
                txn.plan
                    .finals
                    .iter_mut()
                    .for_each(|ops| *ops = RequestBatch::default());
            }
            reply::integer(&mut out, (existing == 0) as i64);
        }
        Kind::Move {
            command,
            replace,
            source,
            destination,
            source_key,
            destination_key,
            source_db,
            destination_db,
        } => {
            let dumped = txn.probe_replies[*source].reply(0);
            let exists = sum_integers(&txn.probe_replies[*destination]) > 0;
            let decision = moves::decide(*command, *replace, dumped, exists);
            if decision == Decision::Move {
                if *command != Command::Copy {
                    write_back(&mut txn.plan.finals[*source], source_key, None, *source_db);
                }
                let ops = &mut txn.plan.finals[*destination];
                write_back(ops, destination_key, Some(dumped), *destination_db);
            }
            moves::answer(*command, decision, &mut out);
        }
        Kind::Bitop {
            op,
            sources,
            destination,
            destination_key,
            db,
        } => {
            let dumps = sources
                .iter()
                .map(|&(shard, position)| txn.probe_replies[shard].reply(position));
            let Some(values) = moves::dumped_strings(dumps) else {
                reply::error(&mut out, typecheck::WRONGTYPE);
                return Some(out);
            };
            let result = bits::bitop(*op, &values);
            let mut item = Vec::new();
            if !result.is_empty() {
                moves::dump_value(&result, &mut item);
            }
            let item = (!result.is_empty()).then_some(item.as_slice());
            write_back(
                &mut txn.plan.finals[*destination],
                destination_key,
                item,
                *db,
            );
            reply::integer(&mut out, result.len() as i64);
        }
        Kind::Lcs {
            options,
            version,
            keys,
        } => {
            let dumps = keys
                .iter()
                .map(|&(shard, position)| txn.probe_replies[shard].reply(position));
            match moves::dumped_strings(dumps).as_deref() {
                Some(&[a, b]) => {
                    let (a, b) = (a.unwrap_or_default(), b.unwrap_or_default());
                    lcs::lcs_reply(a, b, options, *version, &mut out);
                }
                _ => reply::error(&mut out, typecheck::LCS_NOT_STRINGS),
            }
        }
    }
    Some(out)
}

/// Adds to `ops` the write of a transaction's result to `key` of database
/// `db`: its dumped item (`moves::dump`'s form), or `None` to delete it.
fn write_back(ops: &mut RequestBatch, key: &[u8], item: Option<&[u8]>, db: u32) {
    let key = ops.push_bytes(key);
    match item {
        Some(item) => {
            let item = ops.push_bytes(item);
            ops.ops.push(RemoteOp::RespRestore { key, item, db });
        }
        None => ops.ops.push(RemoteOp::RespKey {
            command: Command::Del,
            key,
            version: reply::Version::Resp2,
            db,
        }),
    }
}

/// A [`Kind::Gathered`] transaction with every shard held and the keys
/// dumped: a null array if a watched key changed (and no `calls`); else
/// the requests' reply from running them on copies (each of an `EXEC`'s
/// `calls` failed if it answered an error, its deferred commands' places
/// in `deferred`), with what they changed added to `finals` (and, for an
/// [`Attempt`], its registrations' fate; `alive`: its waiter is still
/// there).
#[allow(clippy::too_many_arguments)]
fn run_gathered(
    kind: &Kind,
    probes: &[ReplyBatch],
    finals: &mut [RequestBatch],
    calls: &mut Vec<(Option<Label>, bool)>,
    deferred: &mut Vec<(usize, Vec<u8>)>,
    shared: &Shared,
    now: Now,
    alive: bool,
) -> Vec<u8> {
    let Kind::Gathered {
        requests,
        exec,
        attempt,
        version,
        db,
        keys,
        dumps,
        watches,
    } = kind
    else {
        unreachable!("a gathered transaction")
    };
    let mut out = Vec::new();
    let reply_at = |&(shard, position): &(usize, usize)| probes[shard].reply(position);
    if watches
        .iter()
        .any(|watch| parse_integer(reply_at(watch)) != 0)
    {
        calls.clear();
        reply::null_array(&mut out, *version);
        return out;
    }
    let at = Setting {
        settings: &shared.settings,
        encodings: &shared.encodings,
        now,
        version: *version,
    };
    let items = keys
        .iter()
        .zip(dumps)
        .map(|(key, dump)| (key.as_slice(), reply_at(dump)));
    let mut copies = Copies::load(items, at);
    if *exec {
        reply::array_header(&mut out, requests.len());
    }
    let mut args = Args::new();
    for (position, request) in requests.iter().enumerate() {
        let frame = match request {
            Gather::Local(reply) => {
                out.extend_from_slice(reply);
                continue;
            }
            Gather::Deferred(frame) => {
                deferred.push((out.len(), frame.clone()));
                continue;
            }
            Gather::Publish {
                shard_channel,
                channel,
                message,
                counts,
            } => {
                let receivers = counts.iter().map(|count| parse_integer(reply_at(count)));
                reply::integer(&mut out, receivers.sum());
                for ops in finals.iter_mut() {
                    let op = PubSubOp::Publish {
                        shard_channel: *shard_channel,
                        channel: ops.push_bytes(channel),
                        message: ops.push_bytes(message),
                    };
                    ops.ops.push(RemoteOp::PubSub(op));
                }
                continue;
            }
            Gather::Introspect { combine, parts, .. } => {
                let parts: Vec<Vec<u8>> =
                    parts.iter().map(|part| reply_at(part).to_vec()).collect();
                combine(&parts, &mut out);
                continue;
            }
            Gather::Pop { request, woken } => {
                if alive {
                    copies.pop(request, *woken, at, &mut out);
                }
                continue;
            }
            Gather::Run(frame) => frame,
        };
        let Parsed::Command { argv, .. } = parse(frame, &Limits::default(), &mut args) else {
            continue;
        };
        if let Some(command) = commands::lookup(argv.name()) {
            let start = out.len();
            copies.run(command, &argv, at, &mut out);
            if let Some((_, failed)) = calls.get_mut(position) {
                *failed = out[start..].starts_with(b"-");
            }
        }
    }
    for ((key, change), &(shard, _)) in copies.changes(at).into_iter().zip(dumps) {
        let item = match &change {
            Change::Kept => continue,
            Change::Deleted => None,
            Change::Written(item) => Some(item.as_slice()),
        };
        write_back(&mut finals[shard], &key, item, *db);
    }
    if let Some(attempt) = attempt {
        let waits = out.is_empty() && alive;
        settle_attempt(*attempt, waits, requests, keys, dumps, finals, *db);
    }
    out
}

/// The final operations of a blocked client's [`Attempt`]: if it `waits`
/// (found nothing), a wake registration for each key it pops from, on
/// that key's shard; else the end of its registrations on every shard.
fn settle_attempt(
    attempt: Attempt,
    waits: bool,
    requests: &[Gather],
    keys: &[Vec<u8>],
    dumps: &[(usize, usize)],
    finals: &mut [RequestBatch],
    db: u32,
) {
    let Attempt { home, conn } = attempt;
    if !waits {
        for ops in finals.iter_mut() {
            ops.ops.push(RemoteOp::RespBlockUnwatch { home, conn });
        }
        return;
    }
    for request in requests {
        let Gather::Pop { request, .. } = request else {
            continue;
        };
        let wanted = request.wanted();
        for key in &request.keys {
            let Some(at) = keys.iter().position(|k| **k == **key) else {
                continue;
            };
            let ops = &mut finals[dumps[at].0];
            let key = ops.push_bytes(key);
            let op = RemoteOp::RespBlockWatch {
                key,
                db,
                home,
                conn,
                wanted,
            };
            ops.ops.push(op);
        }
    }
}

/// Builds the client's reply and hands it to the worker.
fn finish(state: &mut ShardState, id: TxnId) {
    let Some(txn) = state.txns.running.remove(&id.seq) else {
        return;
    };
    if let Kind::Gathered {
        attempt: Some(attempt),
        ..
    } = txn.plan.kind
    {
        let reply = txn.decided.unwrap_or_default();
        return blocking::tried(state, attempt.conn, reply);
    }
    for &(label, failed) in &txn.plan.calls {
        if let Some(label) = label {
            state.shared.command_stats[state.id].call(label.index(), 0, failed);
        }
    }
    let ran = txn.decided.is_none();
    let mut deferred = txn.deferred;
    let reply = match txn.decided {
        Some(reply) => reply,
        None => combine(&txn.plan.kind, &txn.final_replies, &mut deferred),
    };
    let select = match txn.plan.kind {
        Kind::Exec { select, .. } if ran => select,
        _ => None,
    };
    state.txns.finished.push(Finished {
        conn: txn.conn,
        slot: txn.slot,
        reply,
        select,
        deferred,
    });
}

/// The reply of an unconditional transaction from its shards' replies
/// (an `EXEC`'s deferred commands' places added to `deferred`).
fn combine(kind: &Kind, replies: &[ReplyBatch], deferred: &mut Vec<(usize, Vec<u8>)>) -> Vec<u8> {
    let mut out = Vec::new();
    match kind {
        Kind::Array { order } => {
            reply::array_header(&mut out, order.len());
            let mut next = vec![0; replies.len()];
            for &shard in order {
                let shard = usize::from(shard);
                out.extend_from_slice(replies[shard].reply(next[shard]));
                next[shard] += 1;
            }
        }
        Kind::Sum => reply::integer(&mut out, replies.iter().map(sum_integers).sum()),
        Kind::Exec { elements, .. } => {
            reply::array_header(&mut out, elements.len());
            for element in elements {
                match element {
                    Element::Deferred(frame) => deferred.push((out.len(), frame.clone())),
                    element => element.write(replies, &mut out),
                }
            }
        }
        _ => reply::simple_string(&mut out, b"OK"),
    }
    out
}

/// The sum of a batch's integer replies (`:n\r\n` each).
fn sum_integers(batch: &ReplyBatch) -> i64 {
    (0..batch.ends.len())
        .map(|index| parse_integer(batch.reply(index)))
        .sum()
}
