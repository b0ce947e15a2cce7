//! The RESP front end's glue between a connection and the shards: parse
//! each request out of the received bytes, run it where its key lives (here,
//! or on another shard through the mesh), and keep the replies in request
//! order. Parsing is `protocol::resp`'s job, semantics `command::resp`'s;
//! this module only routes.
//!
//! A keyed command for another shard travels as its whole frame and is
//! parsed again there; a multi-key command (`MGET`, `DEL`, `EXISTS`…) sends
//! each key to its shard and gathers the replies in key order (an array)
//! or sums them (an integer), all within the connection's ordered output.

use std::sync::atomic::{AtomicU64, Ordering};

use super::blocking;
use super::clients;
use super::connection::Connection;
use super::delayed::DelayedReply;
use super::memcache::{expect_into, send_remote, Stop};
use super::multi;
use super::slowlog::RequestTimer;
use super::txn::{self, Gather, Kind, Plan};
use super::worker::{database, ShardState};
use crate::clock::Now;
use crate::command::resp::auth;
use crate::command::resp::client::ClientFacts;
use crate::command::resp::connection::{self as conn_commands, Action, Session, DB_OUT_OF_RANGE};
use crate::command::resp::debug::{self, Debug};
use crate::command::resp::label::Label;
use crate::command::resp::moves::{self, CopyOptions, Decision};
use crate::command::resp::scan;
use crate::command::resp::server as server_commands;
use crate::command::resp::slowlog;
use crate::command::resp::{self as commands, Command, Keys, Refusal, RespContext, Route};
use crate::command::resp::{bits, lcs};
use crate::config::DebugCommand;
use crate::protocol::resp::reply::{self, Version};
use crate::protocol::resp::{parse, Args, Argv, Limits, Parsed};
use crate::shard::mesh::{PubSubOp, RemoteOp, RequestBatch, Span};
use crate::shard::ShardId;
use crate::stats::errors as error_stats;
use crate::store::Store;

/// What a RESP connection keeps besides its bytes.
#[derive(Debug, Default)]
pub struct RespConnection {
    pub session: Session,
    /// The parser's argument ranges, reused for every request.
    pub args: Args,
}

impl RespConnection {
    /// State for a newly accepted connection, with a fresh client id.
    pub fn new() -> RespConnection {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        RespConnection {
            session: Session {
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                client: ClientFacts::new(Now::read()),
                ..Session::default()
            },
            args: Args::new(),
        }
    }
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
    let Some(mut resp) = conn.resp.take() else {
        conn.abort();
        return (input.len(), Stop::Closed);
    };
    let mut limits = Limits::default();
    resp.session.client.last_interaction = state.now;
    let mut timer = RequestTimer::start(state);
    let mut pos = 0;
    let stop = loop {
        if pos == input.len() {
            break Stop::NeedMore;
        }
        if conn.is_backed_up() || conn.waiting_txn || conn.blocked_on.is_some() {
            break Stop::BackedUp;
        }
        if pos >= budget {
            break Stop::Budget;
        }
        // Until it authenticates, a client gets Redis's tighter limits.
        limits.unauthenticated = must_authenticate(&resp.session, state);
        match parse(&input[pos..], &limits, &mut resp.args) {
            Parsed::Command { argv, consumed } => {
                let frame = &input[pos..pos + consumed];
                pos += consumed;
                clients::before_request(&resp.session, conn);
                let errors_before = error_stats::replied();
                // Where a refused EXEC's error will start (see `multi::refused`).
                let is_exec = argv.name().eq_ignore_ascii_case(b"exec");
                let mark = if is_exec {
                    conn.output.writer().len()
                } else {
                    0
                };
                let admitted = admit(&argv, &mut resp.session, conn, index, state);
                let session = &mut resp.session;
                let (action, count) = match admitted {
                    Some((command, route)) => {
                        match multi::handle(command, &argv, frame, session, conn, index, state) {
                            Some(handled) => handled,
                            None => (
                                run(command, route, &argv, frame, session, conn, index, state),
                                multi::Count::Call,
                            ),
                        }
                    }
                    None => {
                        multi::refused(is_exec, mark, session, conn, index, state);
                        (Action::Continue, multi::Count::Call)
                    }
                };
                clients::after_request(&mut resp.session, conn);
                let nanos = timer.lap(&argv, &mut resp.session, conn, state);
                if let (Some(_), Some(label)) = (admitted, resp.session.client.last_command) {
                    let failed = match count {
                        multi::Count::Call => Some(error_stats::replied() != errors_before),
                        multi::Count::Exec { failed } => Some(failed),
                        // Counted when EXEC runs it.
                        multi::Count::Queued => None,
                    };
                    if let Some(failed) = failed {
                        state.shared.command_stats[state.id].call(label.index(), nanos, failed);
                    }
                }
                if action == Action::Close {
                    conn.close_after_replies();
                    break Stop::Closed;
                }
            }
            Parsed::Skip { consumed } => pos += consumed,
            Parsed::Incomplete { .. } => break Stop::NeedMore,
            Parsed::Error(error) => {
                // Fatal, as in Redis: answer, then close after the replies.
                error.write_to(conn.output.writer());
                conn.close_after_replies();
                break Stop::Closed;
            }
        }
    };
    conn.resp = Some(resp);
    (pos, stop)
}

/// Whom a request comes from, as far as its execution cares: the
/// connection's protocol version and selected database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    pub version: Version,
    pub db: u32,
}

/// Finds a request's command and route, or answers why it cannot run
/// (unknown command, wrong arity, not allowed while subscribed), counting
/// the refusal in `INFO commandstats`. Records the request's label for
/// `CLIENT LIST` either way.
fn admit<'a>(
    argv: &Argv<'a>,
    session: &mut Session,
    conn: &mut Connection,
    index: usize,
    state: &mut ShardState,
) -> Option<(Command, Route<'a>)> {
    let counters = &state.shared.command_stats[state.id];
    let (command, route) = match commands::route(argv, conn.output.writer()) {
        Ok(found) => found,
        Err(refusal) => {
            session.client.last_command = None;
            match refusal {
                Refusal::Unknown => {}
                Refusal::Rejected(command) => counters.reject(Label::command(command).index()),
                Refusal::Failed(command) => counters.call(Label::command(command).index(), 0, true),
            }
            return None;
        }
    };
    let label = Label::of(command, argv);
    session.client.last_command = label;
    if command == Command::Debug {
        let setting = state.shared.settings.enable_debug_command;
        let from_loopback =
            setting == DebugCommand::Local && clients::is_loopback_peer(session, conn.fd());
        if !debug::allowed(setting, from_loopback) {
            reply::error(conn.output.writer(), debug::NOT_ALLOWED);
            if let Some(label) = label {
                state.shared.command_stats[state.id].reject(label.index());
            }
            return None;
        }
    }
    if must_authenticate(session, state) && !auth::allowed_unauthenticated(command) {
        reply::error(conn.output.writer(), auth::NOAUTH);
        if let Some(label) = label {
            state.shared.command_stats[state.id].reject(label.index());
        }
        return None;
    }
    if session.subscriptions.is_subscribed()
        && !super::pubsub::admit(command, argv, session, conn, index, state)
    {
        if let Some(label) = label {
            state.shared.command_stats[state.id].reject(label.index());
        }
        return None;
    }
    Some((command, route))
}

/// Whether the connection must authenticate before most commands.
#[inline]
fn must_authenticate(session: &Session, state: &ShardState) -> bool {
    !session.authenticated && state.shared.requirepass.is_required()
}

/// Runs one admitted request.
#[allow(clippy::too_many_arguments)]
pub(super) fn run(
    command: Command,
    route: Route<'_>,
    argv: &Argv<'_>,
    frame: &[u8],
    session: &mut Session,
    conn: &mut Connection,
    index: usize,
    state: &mut ShardState,
) -> Action {
    let origin = Origin {
        version: session.version,
        db: session.db as u32,
    };
    match route {
        Route::Key(_) if matches!(command, Command::Bitop | Command::Lcs) => {
            match plan_computed(command, argv, origin, state) {
                Ok(Some(plan)) => start_txn(plan, conn, index, state),
                Ok(None) => {
                    let owner = state.slots.shard_of(argv.get(2).unwrap_or_default());
                    run_on(owner, command, argv, frame, origin, conn, index, state);
                }
                Err(error) => reply::error(conn.output.writer(), error),
            }
        }
        Route::Key(key) => match plan_gathered(command, argv, frame, origin, state) {
            // The copies have no limit: a write is checked here, against
            // the connection's shard, which fills as the others do.
            Some(_) if command.is_denyoom() && !has_room(origin, state) => {
                reply::error(conn.output.writer(), commands::OOM)
            }
            Some(plan) => start_txn(plan, conn, index, state),
            None => {
                let owner = state.slots.shard_of(key);
                run_on(owner, command, argv, frame, origin, conn, index, state);
            }
        },
        Route::EachKeyArray | Route::EachKeySum | Route::Pairs
            if spans_shards(command, argv, state) =>
        {
            let plan = plan_keys(command, argv, origin, state);
            start_txn(plan, conn, index, state);
        }
        Route::Two(source, destination) => {
            let options = match command {
                Command::Copy => match moves::parse_copy(argv, state.shared.settings.databases) {
                    Ok(options) => options,
                    Err(error) => {
                        reply::error(conn.output.writer(), error);
                        return Action::Continue;
                    }
                },
                _ => CopyOptions {
                    replace: true,
                    db: None,
                },
            };
            let owner = state.slots.shard_of(source);
            if owner == state.slots.shard_of(destination) {
                run_on(owner, command, argv, frame, origin, conn, index, state);
            } else {
                let plan = plan_move(command, options, source, destination, origin, state);
                start_txn(plan, conn, index, state);
            }
        }
        Route::Pairs => {
            let owner = state.slots.shard_of(argv.get(1).unwrap_or_default());
            run_on(owner, command, argv, frame, origin, conn, index, state);
        }
        Route::EachKeyArray => {
            reply::array_header(conn.output.writer(), argv.len() - 1);
            for key in argv.iter().skip(1) {
                let owner = state.slots.shard_of(key);
                if owner == state.id {
                    let out = conn.output.writer();
                    commands::execute_key(command, key, &mut context(state, origin), out);
                } else {
                    let op = remote_key(state, owner, command, key, origin);
                    send_remote(conn, index, state, owner, op);
                }
            }
        }
        Route::EachKeySum => {
            let mut local = 0;
            let mut remote: Vec<(ShardId, &[u8])> = Vec::new();
            for key in argv.iter().skip(1) {
                let owner = state.slots.shard_of(key);
                if owner == state.id {
                    local += commands::count_key(command, key, &mut context(state, origin));
                } else {
                    remote.push((owner, key));
                }
            }
            let slot = conn.output.await_sum(remote.len() as u32, local);
            for (owner, key) in remote {
                let op = remote_key(state, owner, command, key, origin);
                expect_into(slot, index, conn.generation, state, owner, op);
            }
        }
        Route::AllShardsSum => {
            let local = commands::dbsize(&context(state, origin));
            let peers = state.slots.shard_count() - 1;
            let slot = conn.output.await_sum(peers as u32, local);
            let me = state.id;
            for peer in (0..state.slots.shard_count()).filter(|&peer| peer != me) {
                let op = RemoteOp::RespDbSize { db: origin.db };
                expect_into(slot, index, conn.generation, state, peer, op);
            }
        }
        Route::ScanShard => {
            let target = scan_target(argv, state);
            run_on(target, command, argv, frame, origin, conn, index, state);
        }
        Route::RandomShard => match random_shard(origin.db, state) {
            Some(target) => run_on(target, command, argv, frame, origin, conn, index, state),
            None => reply::null(conn.output.writer(), origin.version),
        },
        Route::AllShardsConcat => {
            let mut local = Vec::new();
            commands::execute(command, argv, &mut context(state, origin), &mut local);
            let me = state.id;
            let peers = state.slots.shard_count() - 1;
            let slot = conn.output.await_concat(peers as u32, &local);
            for peer in (0..state.slots.shard_count()).filter(|&peer| peer != me) {
                let frame = state.mesh.requests_for(peer).push_bytes(frame);
                let op = frame_op(frame, origin);
                expect_into(slot, index, conn.generation, state, peer, op);
            }
        }
        Route::AllShardsOk => match all_shards_op(command, argv, origin, state) {
            Ok(op) => run_everywhere(op, conn, index, state),
            Err(error) => reply::error(conn.output.writer(), error),
        },
        Route::Connection if matches!(command, Command::Info | Command::Config) => {
            if server_commands::is_resetstat(command, argv) {
                // As memcached's `stats reset`: the OK queues behind every
                // shard's (empty) acknowledgement.
                let me = state.id;
                for peer in (0..state.slots.shard_count()).filter(|&peer| peer != me) {
                    send_remote(conn, index, state, peer, RemoteOp::ResetStats);
                }
                super::worker::reset_stats(state);
            }
            let view = super::stats_view::server_view(state);
            let out = conn.output.writer();
            server_commands::answer(command, argv, &view, origin.version, out);
        }
        Route::Connection if command == Command::Auth => {
            if auth::auth(argv, &state.shared.requirepass, conn.output.writer()) {
                session.authenticated = true;
            }
        }
        Route::Connection if command == Command::Hello => {
            let pass = &state.shared.requirepass;
            conn_commands::hello(argv, session, pass, conn.output.writer());
        }
        Route::Connection if command == Command::Debug => {
            if let Debug::Sleep(delay) = debug::answer(argv, conn.output.writer()) {
                let slot = conn.output.await_remote();
                state.delayed.push(DelayedReply {
                    due_ms: state.now.millis() + delay.as_millis() as u64,
                    index,
                    generation: conn.generation,
                    slot,
                    reply: b"+OK\r\n",
                });
            }
        }
        Route::Connection if command == Command::Select => {
            let databases = state.shared.settings.databases;
            conn_commands::select(argv, session, databases, conn.output.writer());
        }
        Route::PubSub => super::pubsub::run(command, argv, frame, session, conn, index, state),
        Route::Blocking(_) => blocking::run(command, argv, frame, origin, conn, index, state),
        Route::Clients => return clients::run(argv, frame, session, conn, index, state),
        Route::Slowlog => {
            let log = &state.shared.slowlog.log;
            slowlog::answer(argv, log, origin.version, conn.output.writer());
        }
        Route::Connection => {
            let now = state.now;
            let out = conn.output.writer();
            let action = conn_commands::answer(command, argv, session, now, out);
            if command == Command::Reset {
                // Logged out, unless no password is needed.
                session.authenticated = !state.shared.requirepass.is_required();
            }
            return action;
        }
    }
    Action::Continue
}

/// The shard a `SCAN` request's cursor names (this one for a malformed
/// request, which the command itself answers).
pub(super) fn scan_target(argv: &Argv<'_>, state: &ShardState) -> ShardId {
    match scan::parse(argv) {
        Ok(request) => scan::shard_of(request.cursor, state.slots.shard_count()),
        Err(_) => state.id,
    }
}

/// Each shard's operation for `FLUSHALL`, `FLUSHDB` or `SWAPDB`, or the
/// error to reply.
pub(super) fn all_shards_op(
    command: Command,
    argv: &Argv<'_>,
    origin: Origin,
    state: &ShardState,
) -> Result<RemoteOp, &'static [u8]> {
    match command {
        Command::Swapdb => {
            let (a, b) = parse_swapdb(argv, state.shared.settings.databases)?;
            Ok(RemoteOp::RespSwapDb { a, b })
        }
        _ if !commands::flush_mode_is_valid(argv) => Err(commands::SYNTAX_ERROR),
        Command::Flushdb => Ok(RemoteOp::RespFlush {
            db: Some(origin.db),
        }),
        _ => Ok(RemoteOp::RespFlush { db: None }),
    }
}

/// A shard picked at random in proportion to its keys in database `db`
/// (its own counted now, the others' as of their last turn); `None` when
/// the database is empty everywhere.
pub(super) fn random_shard(db: u32, state: &ShardState) -> Option<ShardId> {
    let db = db as usize;
    let counts: Vec<u64> = (0..state.slots.shard_count())
        .map(|shard| {
            if shard == state.id {
                state.dbs.get(db).map_or(0, |store| store.len() as u64)
            } else {
                state.shared.published[shard].db_keys[db].load(Ordering::Relaxed)
            }
        })
        .collect();
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return None;
    }
    let mut pick = fastrand::u64(..total);
    counts.iter().position(|&count| {
        if pick < count {
            return true;
        }
        pick -= count;
        false
    })
}

/// `SWAPDB a b`'s databases, or the error to reply.
fn parse_swapdb(argv: &Argv<'_>, databases: usize) -> Result<(u32, u32), &'static [u8]> {
    let a = commands::parse_i64(argv.get(1).unwrap_or_default())
        .ok_or(b"ERR invalid first DB index".as_slice())?;
    let b = commands::parse_i64(argv.get(2).unwrap_or_default())
        .ok_or(b"ERR invalid second DB index".as_slice())?;
    let valid = |n: i64| usize::try_from(n).ok().filter(|&db| db < databases);
    match (valid(a), valid(b)) {
        (Some(a), Some(b)) => Ok((a as u32, b as u32)),
        _ => Err(DB_OUT_OF_RANGE),
    }
}

/// Runs `op` on every shard at once (a transaction over all of them when
/// there are several), then replies `+OK`.
fn run_everywhere(op: RemoteOp, conn: &mut Connection, index: usize, state: &mut ShardState) {
    let shards = state.slots.shard_count();
    if shards == 1 {
        let mut ignored = Vec::new();
        execute_remote(&op, &[], state, &mut ignored);
        return reply::simple_string(conn.output.writer(), b"OK");
    }
    let mut plan = Plan::new((0..shards).collect(), Kind::Ok);
    for finals in &mut plan.finals {
        finals.ops.push(op.clone());
    }
    start_txn(plan, conn, index, state);
}

/// Runs `command` on shard `target`: here at once, or sent there as its
/// frame.
#[allow(clippy::too_many_arguments)]
fn run_on(
    target: ShardId,
    command: Command,
    argv: &Argv<'_>,
    frame: &[u8],
    origin: Origin,
    conn: &mut Connection,
    index: usize,
    state: &mut ShardState,
) {
    if target == state.id {
        execute_here(command, argv, origin, state, conn.output.writer());
    } else {
        let frame = state.mesh.requests_for(target).push_bytes(frame);
        let op = frame_op(frame, origin);
        send_remote(conn, index, state, target, op);
    }
}

/// Runs a keyed command on this shard, which owns its keys, then serves
/// the clients blocked on the keys it wrote, if any (`server::blocking`).
fn execute_here(
    command: Command,
    argv: &Argv<'_>,
    origin: Origin,
    state: &mut ShardState,
    out: &mut Vec<u8>,
) {
    execute_keyed(command, argv, origin, state, out);
    if state.blocking.is_active() {
        blocking::after_command(state, command, argv, origin.db);
    }
}

/// Runs a keyed command on this shard. Commands between databases
/// (`MOVE`, `COPY … DB n`) run here, where every database is at hand; the
/// others in `command::resp`.
fn execute_keyed(
    command: Command,
    argv: &Argv<'_>,
    origin: Origin,
    state: &mut ShardState,
    out: &mut Vec<u8>,
) {
    let databases = state.shared.settings.databases;
    let other_db = match command {
        Command::Move => {
            match conn_commands::parse_db(argv.get(2).unwrap_or_default(), databases) {
                Ok(db) if db as u32 == origin.db => return reply::error(out, moves::SAME_OBJECT),
                Ok(db) => Some((db as u32, false)),
                Err(error) => return reply::error(out, error),
            }
        }
        Command::Copy => match moves::parse_copy(argv, databases) {
            Ok(CopyOptions {
                db: Some(db),
                replace,
            }) if db as u32 != origin.db => Some((db as u32, replace)),
            _ => None,
        },
        _ => None,
    };
    let Some((db, replace)) = other_db else {
        return commands::execute(command, argv, &mut context(state, origin), out);
    };
    let source = argv.get(1).unwrap_or_default();
    let destination = argv.get(if command == Command::Move { 1 } else { 2 });
    let destination = destination.unwrap_or_default();
    let mut dumped = Vec::new();
    moves::dump(source, &mut context(state, origin), &mut dumped);
    let target = Origin { db, ..origin };
    let now = state.now;
    let exists = database(&mut state.dbs, db).get(destination, now).is_some();
    // MOVE is COPY without REPLACE that deletes its source.
    let kind = if command == Command::Move {
        Command::Renamenx
    } else {
        Command::Copy
    };
    let decision = moves::decide(kind, replace, &dumped, exists);
    if decision == Decision::Move {
        if let Some(item) = moves::Dumped::decode(&dumped) {
            moves::restore(destination, &item, &mut context(state, target));
        }
        if command == Command::Move {
            database(&mut state.dbs, origin.db).remove(source);
        }
    }
    match (command, decision) {
        (Command::Move, Decision::Move) => reply::integer(out, 1),
        (Command::Move, _) => reply::integer(out, 0),
        _ => moves::answer(command, decision, out),
    }
}

/// Whether the keys of a multi-key command live on more than one shard
/// (then it runs as a transaction).
fn spans_shards(command: Command, argv: &Argv<'_>, state: &ShardState) -> bool {
    let step = if command.spec().keys == Keys::Pairs {
        2
    } else {
        1
    };
    let mut keys = argv.iter().skip(1).step_by(step);
    let Some(first) = keys.next() else {
        return false;
    };
    let owner = state.slots.shard_of(first);
    keys.any(|key| state.slots.shard_of(key) != owner)
}

/// The ascending, distinct shards of `keys`, and each key's index among
/// them.
fn shards_of(keys: &[&[u8]], state: &ShardState) -> (Vec<ShardId>, Vec<u16>) {
    let owners: Vec<ShardId> = keys.iter().map(|key| state.slots.shard_of(key)).collect();
    let mut shards = owners.clone();
    shards.sort_unstable();
    shards.dedup();
    let order = owners
        .iter()
        .map(|owner| shards.binary_search(owner).unwrap_or_default() as u16)
        .collect();
    (shards, order)
}

/// The transaction of a multi-key command across shards: `MGET`, `DEL`,
/// `UNLINK`, `EXISTS`, `TOUCH` (each key on its shard), `MSET`, `MSETNX`
/// (one `MSET` per shard, which `MSETNX` runs only if no key exists).
fn plan_keys(command: Command, argv: &Argv<'_>, origin: Origin, state: &ShardState) -> Plan {
    let pairs = command.spec().keys == Keys::Pairs;
    let step = if pairs { 2 } else { 1 };
    let keys: Vec<&[u8]> = argv.iter().skip(1).step_by(step).collect();
    let (shards, order) = shards_of(&keys, state);
    let kind = match command {
        Command::Mget => Kind::Array {
            order: order.clone(),
        },
        Command::Mset => Kind::Ok,
        Command::Msetnx => Kind::SetIfNoneExists,
        _ => Kind::Sum,
    };
    let mut plan = Plan::new(shards, kind);
    if !pairs {
        for (key, &shard) in keys.iter().zip(&order) {
            push_key(&mut plan.finals[usize::from(shard)], command, key, origin);
        }
        return plan;
    }
    let owners = order.iter().map(|&shard| usize::from(shard));
    push_mset_frames(argv, owners, &mut plan.finals, origin);
    if command == Command::Msetnx {
        for (key, &shard) in keys.iter().zip(&order) {
            push_key(
                &mut plan.probes[usize::from(shard)],
                Command::Exists,
                key,
                origin,
            );
        }
    }
    plan
}

/// Adds a whole request's frame to `batch`, to run in `origin`'s protocol
/// version and database; returns its position.
pub(super) fn push_frame(batch: &mut RequestBatch, frame: &[u8], origin: Origin) -> usize {
    let frame = batch.push_bytes(frame);
    batch.ops.push(frame_op(frame, origin));
    batch.ops.len() - 1
}

/// Adds one key of a multi-key command to `batch`; returns its position.
pub(super) fn push_key(
    batch: &mut RequestBatch,
    command: Command,
    key: &[u8],
    origin: Origin,
) -> usize {
    let key = batch.push_bytes(key);
    batch.ops.push(key_op(command, key, origin));
    batch.ops.len() - 1
}

/// Splits an `MSET`'s pairs into one `MSET` per batch, pair `i` going to
/// batch `owners[i]`; returns where each frame is (batch, position), for
/// the batches that got pairs.
pub(super) fn push_mset_frames(
    argv: &Argv<'_>,
    owners: impl IntoIterator<Item = usize>,
    batches: &mut [RequestBatch],
    origin: Origin,
) -> Vec<(usize, usize)> {
    let mut frames: Vec<Vec<&[u8]>> = vec![vec![b"MSET".as_slice()]; batches.len()];
    let mut args = argv.iter().skip(1);
    for owner in owners {
        let (Some(key), Some(value)) = (args.next(), args.next()) else {
            break;
        };
        frames[owner].extend([key, value]);
    }
    let mut placed = Vec::new();
    for (owner, frame) in frames
        .iter()
        .enumerate()
        .filter(|(_, frame)| frame.len() > 1)
    {
        let mut bytes = Vec::new();
        reply::request(&mut bytes, frame);
        placed.push((owner, push_frame(&mut batches[owner], &bytes, origin)));
    }
    placed
}

/// The transaction of a `BITOP` or `LCS` whose keys live on several shards
/// (`None` when they share one): probe (dump) every source, compute where
/// the connection is, store `BITOP`'s result on its destination's shard.
/// Argument errors are returned before anything runs.
fn plan_computed(
    command: Command,
    argv: &Argv<'_>,
    origin: Origin,
    state: &ShardState,
) -> Result<Option<Plan>, &'static [u8]> {
    // Parsed once here: a malformed request is refused before any hold.
    enum Computed {
        Bitop(bits::BitOp),
        Lcs(lcs::LcsOptions),
    }
    let parsed = if command == Command::Bitop {
        Computed::Bitop(bits::parse_bitop(argv)?)
    } else {
        Computed::Lcs(lcs::parse_lcs(argv)?)
    };
    let (sources, destination): (Vec<&[u8]>, Option<&[u8]>) = match parsed {
        Computed::Bitop(_) => (argv.iter().skip(3).collect(), argv.get(2)),
        Computed::Lcs(_) => (argv.iter().skip(1).take(2).collect(), None),
    };
    let mut keys = sources.clone();
    keys.extend(destination);
    let first = state.slots.shard_of(keys[0]);
    if keys.iter().all(|key| state.slots.shard_of(key) == first) {
        return Ok(None);
    }
    let (shards, order) = shards_of(&keys, state);
    let mut probes: Vec<RequestBatch> =
        (0..shards.len()).map(|_| RequestBatch::default()).collect();
    let mut positions = Vec::with_capacity(sources.len());
    for (key, &shard) in sources.iter().zip(&order) {
        let batch = &mut probes[usize::from(shard)];
        positions.push((usize::from(shard), batch.ops.len()));
        let key = batch.push_bytes(key);
        batch.ops.push(RemoteOp::RespDump { key, db: origin.db });
    }
    let kind = match parsed {
        Computed::Bitop(op) => Kind::Bitop {
            op,
            sources: positions,
            destination: usize::from(order[sources.len()]),
            destination_key: destination.unwrap_or_default().to_vec(),
            db: origin.db,
        },
        Computed::Lcs(options) => Kind::Lcs {
            options,
            version: origin.version,
            keys: [positions[0], positions[1]],
        },
    };
    let mut plan = Plan::new(shards, kind);
    plan.probes = probes;
    Ok(Some(plan))
}

/// Whether a write may go ahead on this shard's store of `origin`'s
/// database (see `Store::make_room_for_write`).
fn has_room(origin: Origin, state: &mut ShardState) -> bool {
    let now = state.now;
    database(&mut state.dbs, origin.db).make_room_for_write(now)
}

/// The transaction of a command that reads several keys together
/// (`commands::multi_keys`: `SINTERSTORE`, `LMOVE`, `ZUNION`…) when they
/// live on several shards: dump them all, run the command on copies,
/// write back what it changed. `None` when its keys share a shard.
fn plan_gathered(
    command: Command,
    argv: &Argv<'_>,
    frame: &[u8],
    origin: Origin,
    state: &ShardState,
) -> Option<Plan> {
    let keys = commands::multi_keys(command, argv)?;
    let first = state.slots.shard_of(keys.first()?);
    if keys.iter().all(|key| state.slots.shard_of(key) == first) {
        return None;
    }
    let requests = vec![Gather::Run(frame.to_vec())];
    Some(plan_gathering(
        requests,
        false,
        &keys,
        &[],
        origin,
        state,
        0,
    ))
}

/// The transaction of [`Kind::Gathered`] requests over `keys` (each
/// dumped once) and `watched` keys (each checked), all in `origin`'s
/// database.
pub(super) fn plan_gathering(
    mut requests: Vec<Gather>,
    exec: bool,
    keys: &[&[u8]],
    watched: &[(u32, Vec<u8>)],
    origin: Origin,
    state: &ShardState,
    client: u64,
) -> Plan {
    let mut distinct: Vec<&[u8]> = Vec::with_capacity(keys.len());
    for key in keys {
        if !distinct.contains(key) {
            distinct.push(key);
        }
    }
    let watched_keys: Vec<&[u8]> = watched.iter().map(|(_, key)| key.as_slice()).collect();
    let all: Vec<&[u8]> = distinct.iter().chain(&watched_keys).copied().collect();
    let (shards, order) = if requests.iter().any(Gather::needs_every_shard) {
        // Every shard, so that a shard's index is its id.
        let shards: Vec<ShardId> = (0..state.slots.shard_count()).collect();
        let order = all
            .iter()
            .map(|key| state.slots.shard_of(key) as u16)
            .collect();
        (shards, order)
    } else {
        shards_of(&all, state)
    };
    let mut probes: Vec<RequestBatch> =
        (0..shards.len()).map(|_| RequestBatch::default()).collect();
    // What PUBLISH and PUBSUB ask of every shard.
    for request in &mut requests {
        for (shard, batch) in probes.iter_mut().enumerate() {
            let (op, positions) = match request {
                Gather::Publish {
                    shard_channel,
                    channel,
                    counts,
                    ..
                } => {
                    let channel = batch.push_bytes(channel);
                    let shard_channel = *shard_channel;
                    let op = PubSubOp::Receivers {
                        shard_channel,
                        channel,
                    };
                    (op, counts)
                }
                Gather::Introspect { frame, parts, .. } => {
                    let frame = batch.push_bytes(frame);
                    (PubSubOp::Introspect { frame }, parts)
                }
                _ => break,
            };
            batch.ops.push(RemoteOp::PubSub(op));
            positions.push((shard, batch.ops.len() - 1));
        }
    }
    let mut locate = |key: &[u8], shard: u16, op: fn(Span, u32, u64) -> RemoteOp, db: u32| {
        let batch = &mut probes[usize::from(shard)];
        let key = batch.push_bytes(key);
        batch.ops.push(op(key, db, client));
        (usize::from(shard), batch.ops.len() - 1)
    };
    let dumps = distinct
        .iter()
        .zip(&order)
        .map(|(key, &shard)| {
            locate(
                key,
                shard,
                |key, db, _| RemoteOp::RespDump { key, db },
                origin.db,
            )
        })
        .collect();
    let watches = watched
        .iter()
        .zip(&order[distinct.len()..])
        .map(|((db, key), &shard)| {
            let op = |key, db, client| RemoteOp::RespWatchChanged { key, db, client };
            locate(key, shard, op, *db)
        })
        .collect();
    let kind = Kind::Gathered {
        requests,
        exec,
        attempt: None,
        version: origin.version,
        db: origin.db,
        keys: distinct.iter().map(|key| key.to_vec()).collect(),
        dumps,
        watches,
    };
    let mut plan = Plan::new(shards, kind);
    plan.probes = probes;
    plan
}

/// The transaction of `RENAME`, `RENAMENX` or `COPY` whose keys live on two
/// shards: probe the source item and the destination's existence, then
/// move.
fn plan_move(
    command: Command,
    options: CopyOptions,
    source: &[u8],
    destination: &[u8],
    origin: Origin,
    state: &ShardState,
) -> Plan {
    let (shards, order) = shards_of(&[source, destination], state);
    let (from, to) = (usize::from(order[0]), usize::from(order[1]));
    let destination_db = options.db.map_or(origin.db, |db| db as u32);
    let mut plan = Plan::new(
        shards,
        Kind::Move {
            command,
            replace: options.replace,
            source: from,
            destination: to,
            source_key: source.to_vec(),
            destination_key: destination.to_vec(),
            source_db: origin.db,
            destination_db,
        },
    );
    let probe = &mut plan.probes[from];
    let key = probe.push_bytes(source);
    probe.ops.push(RemoteOp::RespDump { key, db: origin.db });
    let probe = &mut plan.probes[to];
    let key = probe.push_bytes(destination);
    let target = Origin {
        db: destination_db,
        ..origin
    };
    probe.ops.push(key_op(Command::Exists, key, target));
    plan
}

/// Starts a transaction whose reply takes the connection's next place;
/// the connection reads no further request until it is done.
pub(super) fn start_txn(plan: Plan, conn: &mut Connection, index: usize, state: &mut ShardState) {
    state.stats.cross_shard_keys += plan.shards.len() as u64 - 1;
    let slot = conn.output.await_remote();
    conn.waiting_txn = true;
    txn::start(state, (index, conn.generation), slot, plan);
}

/// A whole request, in `origin`'s protocol version and database.
fn frame_op(frame: Span, origin: Origin) -> RemoteOp {
    RemoteOp::RespFrame {
        frame,
        version: origin.version,
        db: origin.db,
    }
}

/// One key of a multi-key command.
fn key_op(command: Command, key: Span, origin: Origin) -> RemoteOp {
    RemoteOp::RespKey {
        command,
        key,
        version: origin.version,
        db: origin.db,
    }
}

/// One key of a multi-key command, for shard `owner` (counted as a
/// cross-shard key).
fn remote_key(
    state: &mut ShardState,
    owner: ShardId,
    command: Command,
    key: &[u8],
    origin: Origin,
) -> RemoteOp {
    state.stats.cross_shard_keys += 1;
    let key = state.mesh.requests_for(owner).push_bytes(key);
    key_op(command, key, origin)
}

/// Runs an operation another shard sent us, appending its reply to `out`.
pub fn execute_remote(op: &RemoteOp, arena: &[u8], state: &mut ShardState, out: &mut Vec<u8>) {
    let resp2 = |db| Origin {
        version: Version::Resp2,
        db,
    };
    match *op {
        RemoteOp::RespFrame { frame, version, db } => {
            let mut args = std::mem::take(&mut state.resp_args);
            match parse(frame.of(arena), &Limits::default(), &mut args) {
                Parsed::Command { argv, .. } => match commands::lookup(argv.name()) {
                    Some(command) => {
                        let errors_before = error_stats::replied();
                        execute_here(command, &argv, Origin { version, db }, state, out);
                        // Counted as a call where its connection is; its
                        // failure is known here.
                        if error_stats::replied() != errors_before {
                            if let Some(label) = Label::of(command, &argv) {
                                state.shared.command_stats[state.id].fail(label.index());
                            }
                        }
                    }
                    None => reply::error(out, b"ERR internal routing error"),
                },
                // The sender parsed this frame already; it cannot fail here.
                _ => reply::error(out, b"ERR internal routing error"),
            }
            state.resp_args = args;
        }
        RemoteOp::RespKey {
            command,
            key,
            version,
            db,
        } => {
            let cx = &mut context(state, Origin { version, db });
            commands::execute_key(command, key.of(arena), cx, out)
        }
        RemoteOp::RespDbSize { db } => {
            reply::integer(out, commands::dbsize(&context(state, resp2(db))))
        }
        RemoteOp::RespDump { key, db } => {
            moves::dump(key.of(arena), &mut context(state, resp2(db)), out)
        }
        RemoteOp::RespRestore { key, item, db } => {
            if let Some(item) = moves::Dumped::decode(item.of(arena)) {
                moves::restore(key.of(arena), &item, &mut context(state, resp2(db)));
                blocking::after_write(state, db, Some(key.of(arena)));
            }
        }
        RemoteOp::RespFlush { db: Some(db) } => database(&mut state.dbs, db).flush_all(),
        RemoteOp::RespFlush { db: None } => state.dbs.iter_mut().for_each(Store::flush_all),
        RemoteOp::RespSwapDb { a, b } => {
            database(&mut state.dbs, a.max(b));
            let (low, high) = (a.min(b) as usize, a.max(b) as usize);
            if low != high {
                let (below, above) = state.dbs.split_at_mut(high);
                below[low].swap_keyspace(&mut above[0]);
            }
            blocking::after_write(state, a, None);
            blocking::after_write(state, b, None);
        }
        RemoteOp::RespWatch { key, db, client } => {
            let now = state.now;
            database(&mut state.dbs, db).watch(key.of(arena), client, now);
        }
        RemoteOp::RespUnwatch { key, db, client } => {
            database(&mut state.dbs, db).unwatch(key.of(arena), client)
        }
        RemoteOp::RespWatchChanged { key, db, client } => {
            let now = state.now;
            let changed = database(&mut state.dbs, db).unwatch_changed(key.of(arena), client, now);
            reply::integer(out, changed as i64)
        }
        RemoteOp::RespBlock {
            frame,
            version,
            db,
            home,
            conn,
            slot,
        } => blocking::run_remote(
            frame.of(arena),
            Origin { version, db },
            home,
            (conn, slot),
            state,
        ),
        RemoteOp::RespUnblock { home, conn } => blocking::forget(state, home, conn),
        RemoteOp::RespBlockWatch {
            key,
            db,
            home,
            conn,
            wanted,
        } => blocking::watch(state, db, key.of(arena), home, conn, wanted),
        RemoteOp::RespBlockUnwatch { home, conn } => blocking::unwatch(state, home, conn),
        _ => reply::error(out, b"ERR internal routing error"),
    }
}

/// The command layer's view of the shard, in the origin's database.
pub(super) fn context(state: &mut ShardState, origin: Origin) -> RespContext<'_> {
    RespContext {
        store: database(&mut state.dbs, origin.db),
        stats: &mut state.stats,
        now: state.now,
        settings: &state.shared.settings,
        version: origin.version,
        shard: state.id,
        shards: state.slots.shard_count(),
        encodings: &state.shared.encodings,
    }
}
