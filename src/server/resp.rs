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

use super::clients;
use super::connection::Connection;
use super::memcache::{expect_into, send_remote, Stop};
use super::slowlog::RequestTimer;
use super::worker::ShardState;
use crate::clock::Now;
use crate::command::resp::client::{command_label, ClientFacts};
use crate::command::resp::connection::{self as conn_commands, Action, Session};
use crate::command::resp::scan;
use crate::command::resp::server as server_commands;
use crate::command::resp::slowlog;
use crate::command::resp::{self as commands, Command, RespContext, Route};
use crate::protocol::resp::reply::{self, Version};
use crate::protocol::resp::{parse, Args, Argv, Limits, Parsed};
use crate::shard::mesh::RemoteOp;
use crate::shard::ShardId;

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
    let limits = Limits::default();
    resp.session.client.last_interaction = state.now;
    let mut timer = RequestTimer::start(state);
    let mut pos = 0;
    let stop = loop {
        if pos == input.len() {
            break Stop::NeedMore;
        }
        if conn.is_backed_up() {
            break Stop::BackedUp;
        }
        if pos >= budget {
            break Stop::Budget;
        }
        match parse(&input[pos..], &limits, &mut resp.args) {
            Parsed::Command { argv, consumed } => {
                let frame = &input[pos..pos + consumed];
                pos += consumed;
                clients::before_request(&resp.session, conn);
                let action = run(&argv, frame, &mut resp.session, conn, index, state);
                clients::after_request(&mut resp.session, conn);
                if let Some(timer) = timer.as_mut() {
                    timer.lap(&argv, &mut resp.session, conn, state);
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

/// Runs one request.
fn run(
    argv: &Argv<'_>,
    frame: &[u8],
    session: &mut Session,
    conn: &mut Connection,
    index: usize,
    state: &mut ShardState,
) -> Action {
    let version = session.version;
    let Some((command, route)) = commands::route(argv, conn.output.writer()) else {
        session.client.last_command = None;
        return Action::Continue;
    };
    session.client.last_command = command_label(command, argv);
    match route {
        Route::Key(key) => {
            let owner = state.slots.shard_of(key);
            run_on(owner, command, argv, frame, version, conn, index, state);
        }
        Route::EachKeyArray => {
            reply::array_header(conn.output.writer(), argv.len() - 1);
            for key in argv.iter().skip(1) {
                let owner = state.slots.shard_of(key);
                if owner == state.id {
                    let out = conn.output.writer();
                    commands::execute_key(command, key, &mut context(state, version), out);
                } else {
                    let op = remote_key(state, owner, command, key, version);
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
                    local += commands::count_key(command, key, &mut context(state, version));
                } else {
                    remote.push((owner, key));
                }
            }
            let slot = conn.output.await_sum(remote.len() as u32, local);
            for (owner, key) in remote {
                let op = remote_key(state, owner, command, key, version);
                expect_into(slot, index, conn.generation, state, owner, op);
            }
        }
        Route::AllShardsSum => {
            let local = commands::dbsize(&context(state, version));
            let peers = state.slots.shard_count() - 1;
            let slot = conn.output.await_sum(peers as u32, local);
            let me = state.id;
            for peer in (0..state.slots.shard_count()).filter(|&peer| peer != me) {
                expect_into(
                    slot,
                    index,
                    conn.generation,
                    state,
                    peer,
                    RemoteOp::RespDbSize,
                );
            }
        }
        Route::ScanShard => {
            let shards = state.slots.shard_count();
            // A malformed request is answered here, by the command itself.
            let target = match scan::parse(argv) {
                Ok(request) => scan::shard_of(request.cursor, shards),
                Err(_) => state.id,
            };
            run_on(target, command, argv, frame, version, conn, index, state);
        }
        Route::AllShardsConcat => {
            let mut local = Vec::new();
            commands::execute(command, argv, &mut context(state, version), &mut local);
            let me = state.id;
            let peers = state.slots.shard_count() - 1;
            let slot = conn.output.await_concat(peers as u32, &local);
            for peer in (0..state.slots.shard_count()).filter(|&peer| peer != me) {
                let frame = state.mesh.requests_for(peer).push_bytes(frame);
                let op = RemoteOp::RespFrame { frame, version };
                expect_into(slot, index, conn.generation, state, peer, op);
            }
        }
        Route::AllShardsOk => {
            // The OK queues behind every shard's acknowledgement.
            let me = state.id;
            for peer in (0..state.slots.shard_count()).filter(|&peer| peer != me) {
                let op = RemoteOp::FlushAll { delay: 0 };
                send_remote(conn, index, state, peer, op);
            }
            state.store.flush_all();
            reply::simple_string(conn.output.writer(), b"OK");
        }
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
            server_commands::answer(command, argv, &view, version, conn.output.writer());
        }
        Route::Clients => return clients::run(argv, frame, session, conn, index, state),
        Route::Slowlog => {
            let log = &state.shared.slowlog.log;
            slowlog::answer(argv, log, version, conn.output.writer());
        }
        Route::Connection => {
            let now = state.now;
            let out = conn.output.writer();
            return conn_commands::answer(command, argv, session, now, out);
        }
    }
    Action::Continue
}

/// Runs `command` on shard `target`: here at once, or sent there as its
/// frame.
#[allow(clippy::too_many_arguments)]
fn run_on(
    target: ShardId,
    command: Command,
    argv: &Argv<'_>,
    frame: &[u8],
    version: Version,
    conn: &mut Connection,
    index: usize,
    state: &mut ShardState,
) {
    if target == state.id {
        let out = conn.output.writer();
        commands::execute(command, argv, &mut context(state, version), out);
    } else {
        let frame = state.mesh.requests_for(target).push_bytes(frame);
        let op = RemoteOp::RespFrame { frame, version };
        send_remote(conn, index, state, target, op);
    }
}

/// One key of a multi-key command, for shard `owner` (counted as a
/// cross-shard key).
fn remote_key(
    state: &mut ShardState,
    owner: ShardId,
    command: Command,
    key: &[u8],
    version: Version,
) -> RemoteOp {
    state.stats.cross_shard_keys += 1;
    let key = state.mesh.requests_for(owner).push_bytes(key);
    RemoteOp::RespKey {
        command,
        key,
        version,
    }
}

/// Runs an operation another shard sent us, appending its reply to `out`.
pub fn execute_remote(op: &RemoteOp, arena: &[u8], state: &mut ShardState, out: &mut Vec<u8>) {
    match *op {
        RemoteOp::RespFrame { frame, version } => {
            let mut args = std::mem::take(&mut state.resp_args);
            match parse(frame.of(arena), &Limits::default(), &mut args) {
                Parsed::Command { argv, .. } => match commands::lookup(argv.name()) {
                    Some(command) => {
                        commands::execute(command, &argv, &mut context(state, version), out)
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
        } => commands::execute_key(command, key.of(arena), &mut context(state, version), out),
        RemoteOp::RespDbSize => {
            reply::integer(out, commands::dbsize(&context(state, Version::Resp2)))
        }
        _ => reply::error(out, b"ERR internal routing error"),
    }
}

/// The command layer's view of the shard.
fn context(state: &mut ShardState, version: Version) -> RespContext<'_> {
    RespContext {
        store: &mut state.store,
        stats: &mut state.stats,
        now: state.now,
        settings: &state.shared.settings,
        version,
        shard: state.id,
        shards: state.slots.shard_count(),
    }
}
