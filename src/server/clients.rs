//! `CLIENT LIST`, `INFO`, `KILL` and `REPLY`: the commands that need the
//! connections themselves, which live on every shard.
//!
//! A `LIST` or `KILL` is answered in parts, one per shard, joined in the
//! caller's output (`Output::await_gather`): the caller describes (or
//! kills) itself at once; the other connections of its shard are visited
//! by the shard's loop later in the same turn (while a request runs, its
//! connection is borrowed from the shard's table, so the others cannot
//! be reached); every other shard gets the frame as a
//! [`RemoteOp::RespClients`] and visits its own. A killed connection is
//! aborted on its own shard, before that shard's part of the reply leaves:
//! when the caller reads the count, its victims are closing.
//!
//! Addresses are read from the socket (`getpeername`/`getsockname`) the
//! first time they are asked for, and kept in the session.

use std::mem::ManuallyDrop;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{FromRawFd, RawFd};

use slab::Slab;

use super::connection::{Connection, Phase};
use super::memcache::expect_into;
use super::output::ReplySlot;
use super::resp::RespConnection;
use super::worker::ShardState;
use crate::clock::Now;
use crate::command::resp::client::{self, ClientInfo, ClientRequest, ReplyMode};
use crate::command::resp::connection::{Action, Session};
use crate::command::resp::pubsub::Kind;
use crate::command::resp::transaction::Transaction;
use crate::protocol::resp::reply::{self, Version};
use crate::protocol::resp::{parse, Args, Argv, Limits, Parsed};
use crate::shard::mesh::RemoteOp;

/// This shard's part of a `CLIENT LIST`/`KILL` asked by one of its own
/// connections, run by the shard's loop after the request's batch.
#[derive(Debug)]
pub struct LocalClientRequest {
    frame: Vec<u8>,
    /// The asking client's id, connection index and generation.
    caller: u64,
    index: usize,
    generation: u32,
    slot: ReplySlot,
}

/// Before a request runs: drops its reply if `CLIENT REPLY` says so.
#[inline]
pub fn before_request(session: &Session, conn: &mut Connection) {
    if session.reply.drops_reply() {
        conn.output.set_muted(true);
    }
}

/// After a request ran: a `CLIENT REPLY SKIP` lasts one request.
#[inline]
pub fn after_request(session: &mut Session, conn: &mut Connection) {
    if session.reply != ReplyMode::On {
        session.reply = session.reply.after_request();
        conn.output.set_muted(false);
    }
}

/// Runs `CLIENT LIST|INFO|KILL|REPLY` for connection `index`.
pub fn run(
    argv: &Argv<'_>,
    frame: &[u8],
    session: &mut Session,
    conn: &mut Connection,
    index: usize,
    state: &mut ShardState,
) -> Action {
    let request = match client::parse(argv) {
        Ok(request) => request,
        Err(text) => {
            reply::error(conn.output.writer(), text.as_bytes());
            return Action::Continue;
        }
    };
    let now = state.now;
    let caller = session.id;
    let argv_mem = argv.iter().map(<[u8]>::len).sum();
    match request {
        ClientRequest::Reply(ReplyMode::On) => {
            session.reply = ReplyMode::On;
            conn.output.set_muted(false);
            reply::simple_string(conn.output.writer(), b"OK");
        }
        // Redis sends nothing for OFF and SKIP; a SKIP while OFF changes
        // nothing.
        ClientRequest::Reply(ReplyMode::Off) => session.reply = ReplyMode::Off,
        ClientRequest::Reply(mode) => {
            if session.reply != ReplyMode::Off {
                session.reply = mode;
            }
        }
        ClientRequest::Info => {
            let mut line = Vec::new();
            describe(conn, session, now, argv_mem).write_line(&mut line);
            line.push(b'\n');
            reply::verbatim(conn.output.writer(), session.version, b"txt", &line);
        }
        ClientRequest::List(filter) => {
            let mut own = Vec::new();
            let info = describe(conn, session, now, argv_mem);
            for order in filter.orders(&info) {
                client::write_record(order, &info, &mut own);
            }
            let finish = match session.version {
                Version::Resp3 => client::finish_list_resp3,
                Version::Resp2 => client::finish_list_resp2,
            };
            let slot =
                conn.output
                    .await_gather(state.slots.shard_count() as u32, own.clone(), finish);
            ask_every_shard(frame, caller, slot, conn, index, state);
        }
        ClientRequest::Kill(filter) => {
            let info = describe(conn, session, now, argv_mem);
            let kill_me = filter.matches(&info, caller);
            let mut own = Vec::new();
            client::write_kill_count(u64::from(kill_me), &mut own);
            let finish = if filter.old_form {
                client::finish_kill_addr
            } else {
                client::finish_kill_count
            };
            let slot =
                conn.output
                    .await_gather(state.slots.shard_count() as u32, own.clone(), finish);
            ask_every_shard(frame, caller, slot, conn, index, state);
            if kill_me {
                // As Redis: the reply goes out, then the connection closes.
                return Action::Close;
            }
        }
    }
    Action::Continue
}

/// Queues this shard's part (for its loop) and every other shard's.
fn ask_every_shard(
    frame: &[u8],
    caller: u64,
    slot: ReplySlot,
    conn: &Connection,
    index: usize,
    state: &mut ShardState,
) {
    state.client_requests.push(LocalClientRequest {
        frame: frame.to_vec(),
        caller,
        index,
        generation: conn.generation,
        slot,
    });
    let me = state.id;
    for peer in (0..state.slots.shard_count()).filter(|&peer| peer != me) {
        let frame = state.mesh.requests_for(peer).push_bytes(frame);
        let op = RemoteOp::RespClients { frame, caller };
        expect_into(slot, index, conn.generation, state, peer, op);
    }
}

/// Runs the parts queued by this shard's own connections this turn.
/// Returns the connections that need the loop's attention: the callers
/// (a reply arrived) and the killed.
pub fn run_local(conns: &mut Slab<Connection>, state: &mut ShardState) -> Vec<usize> {
    let mut touched = Vec::new();
    for request in std::mem::take(&mut state.client_requests) {
        let mut part = Vec::new();
        let skip = Some(request.index);
        shard_part(
            &request.frame,
            request.caller,
            skip,
            conns,
            state.now,
            &mut part,
            &mut touched,
        );
        if let Some(conn) = conns.get_mut(request.index) {
            if conn.generation == request.generation {
                conn.output.deliver(request.slot, &part);
                touched.push(request.index);
            }
        }
    }
    touched
}

/// Runs another shard's [`RemoteOp::RespClients`] over this shard's
/// connections, appending this shard's part to `out`. Returns the killed
/// connections.
pub fn execute_remote(
    frame: &[u8],
    caller: u64,
    conns: &mut Slab<Connection>,
    now: Now,
    out: &mut Vec<u8>,
) -> Vec<usize> {
    let mut killed = Vec::new();
    shard_part(frame, caller, None, conns, now, out, &mut killed);
    killed
}

/// One shard's part of a `CLIENT LIST` or `KILL` over `conns` (but
/// `skip`, the caller, which answered for itself).
fn shard_part(
    frame: &[u8],
    caller: u64,
    skip: Option<usize>,
    conns: &mut Slab<Connection>,
    now: Now,
    out: &mut Vec<u8>,
    killed: &mut Vec<usize>,
) {
    let mut args = Args::new();
    let Parsed::Command { argv, .. } = parse(frame, &Limits::default(), &mut args) else {
        return;
    };
    // The caller checked the request; it cannot fail here.
    let Ok(request) = client::parse(&argv) else {
        return;
    };
    let mut count = 0;
    for (index, conn) in conns.iter_mut() {
        if Some(index) == skip || conn.phase == Phase::Aborting {
            continue;
        }
        let Some(mut resp) = conn.resp.take() else {
            continue;
        };
        let info = describe(conn, &mut resp.session, now, 0);
        let kill = match &request {
            ClientRequest::List(filter) => {
                for order in filter.orders(&info) {
                    client::write_record(order, &info, out);
                }
                false
            }
            ClientRequest::Kill(filter) => filter.matches(&info, caller),
            _ => false,
        };
        conn.resp = Some(resp);
        if kill {
            conn.abort();
            killed.push(index);
            count += 1;
        }
    }
    if matches!(request, ClientRequest::Kill(_)) {
        client::write_kill_count(count, out);
    }
}

/// The peer's address as `ip:port` (`?:0` if the socket cannot tell),
/// for `CLIENT LIST` and the slow log.
pub fn peer_addr(session: &mut Session, fd: RawFd) -> String {
    format_addr(addresses(session, fd).0)
}

/// Whether the client connected from a loopback address.
pub fn is_loopback_peer(session: &mut Session, fd: RawFd) -> bool {
    addresses(session, fd)
        .0
        .is_some_and(|addr| addr.ip().is_loopback())
}

/// The connection's addresses, read from the socket once.
fn addresses(session: &mut Session, fd: RawFd) -> (Option<SocketAddr>, Option<SocketAddr>) {
    *session.client.addresses.get_or_insert_with(|| {
        // Safety: `fd` is the connection's open socket; ManuallyDrop keeps
        // it open when the borrowed stream goes out of scope.
        let stream = ManuallyDrop::new(unsafe { TcpStream::from_raw_fd(fd) });
        (stream.peer_addr().ok(), stream.local_addr().ok())
    })
}

fn format_addr(addr: Option<SocketAddr>) -> String {
    addr.map_or_else(|| "?:0".to_string(), |addr| addr.to_string())
}

/// The client `conn` (whose session is `session`) as `CLIENT LIST` shows
/// it; `argv_mem` is the size of the request it is running (the caller's).
fn describe<'s>(
    conn: &Connection,
    session: &'s mut Session,
    now: Now,
    argv_mem: usize,
) -> ClientInfo<'s> {
    let (peer, local) = addresses(session, conn.fd());
    let session = &*session;
    let mut flags = String::new();
    if conn.blocked_on.is_some() {
        flags.push('b');
    }
    if conn.phase == Phase::Closing {
        flags.push('c');
    }
    if session.no_evict {
        flags.push('e');
    }
    if session.no_touch {
        flags.push('T');
    }
    if session.transaction.is_some() {
        flags.push('x');
    }
    if flags.is_empty() {
        flags.push('N');
    }
    let events = match (conn.recv_armed, conn.output.is_sending()) {
        (true, true) => "rw",
        (true, false) => "r",
        (false, true) => "w",
        (false, false) => "",
    };
    let secs_since = |then: Now| now.millis().saturating_sub(then.millis()) / 1000;
    let name = session.name.as_deref().unwrap_or_default();
    let tot_mem = std::mem::size_of::<Connection>()
        + std::mem::size_of::<RespConnection>()
        + conn.input.capacity()
        + conn.output.allocated()
        + argv_mem
        + name.len();
    ClientInfo {
        id: session.id,
        addr: format_addr(peer),
        laddr: format_addr(local),
        fd: conn.fd(),
        name,
        age_secs: secs_since(session.client.created),
        idle_secs: secs_since(session.client.last_interaction),
        flags,
        qbuf: conn.input.len(),
        qbuf_free: conn.input.capacity() - conn.input.len(),
        argv_mem,
        obl: conn.output.unsent(),
        oll: conn.output.held_count(),
        omem: conn.output.held_bytes(),
        tot_mem,
        events,
        last_command: session.client.last_command,
        version: session.version,
        db: session.db,
        subscriptions: [Kind::Channel, Kind::Pattern, Kind::ShardChannel]
            .map(|kind| session.subscriptions.count(kind)),
        lib_name: session.lib_name.as_deref().unwrap_or_default(),
        lib_ver: session.lib_ver.as_deref().unwrap_or_default(),
        multi: session.transaction.as_ref().map(Transaction::len),
        multi_mem: session.transaction.as_ref().map_or(0, Transaction::memory),
    }
}
