//! Pub/sub across shards: each shard knows only its own subscribers, and a
//! message reaches the others through the mesh.
//!
//! - **Tables.** Every shard keeps a [`Subscribers`] table of its own
//!   connections (channel, pattern or shard channel → connections); each
//!   connection keeps its own [`Subscriptions`] in its session, to answer
//!   with the running count and to leave the table when it closes.
//! - **Publishing.** `PUBLISH` delivers to the publisher's shard's
//!   subscribers and sends [`PubSubOp::Publish`] to every other shard,
//!   which delivers to its own and answers with its receiver count; the
//!   publisher's reply is the sum, in its place among the connection's
//!   replies (as `DBSIZE`). The reply therefore leaves only once every
//!   shard has the message in its subscribers' outputs, as in Redis.
//! - **Order.** A shard executes a peer's operations in the order they were
//!   sent, and the mesh is FIFO, so one publisher's messages reach every
//!   subscriber in publish order.
//! - **Delivery.** A message is written into a subscriber's output as
//!   completed bytes, not as an awaited reply. While a request runs only
//!   its own connection can be written to, so messages for other
//!   connections are queued per subscriber ([`ShardPubSub::deliver`] writes
//!   them once per turn, before the sends start). Before a subscribed
//!   connection runs a command, what is queued for it is written first
//!   ([`admit`]): a message published before an `UNSUBSCRIBE` is never
//!   seen after its confirmation.
//! - **Leaving.** A closing connection leaves the table when its slot is
//!   freed ([`forget`]); entries are keyed by slot and generation, so a
//!   later connection in the same slot never gets its predecessor's
//!   messages.
//! - **Slow subscribers.** Messages never wait for a subscriber: one whose
//!   unsent output reaches the hard limit of `client-output-buffer-limit
//!   pubsub`, or stays above its soft limit for its seconds, is
//!   disconnected (Redis's default: `pubsub 32mb 8mb 60`; a setting,
//!   changed live by `CONFIG SET`).
//! - **Introspection.** `PUBSUB CHANNELS`, `NUMSUB` and `NUMPAT` ask every
//!   shard for its part ([`PubSubOp::Introspect`]) and join the parts
//!   ([`Output::await_gather`]): a channel with subscribers on two shards
//!   is listed once, its subscribers summed, a pattern counted once.
//!
//! [`Subscriptions`]: crate::command::resp::pubsub::Subscriptions
//! [`Output::await_gather`]: super::output::Output::await_gather

mod delivery;
mod table;

pub use delivery::{Running, ShardPubSub};
pub use table::{SubscriberId, Subscribers};

use super::connection::Connection;
use super::memcache::expect_into;
use super::worker::ShardState;
use crate::command::resp::connection::Session;
use crate::command::resp::glob;
use crate::command::resp::pubsub::{self as formats, Kind, Part, Query};
use crate::command::resp::Command;
use crate::protocol::resp::reply::Version;
use crate::protocol::resp::{parse, Argv, Limits, Parsed};
use crate::shard::mesh::{PubSubOp, RemoteOp};

/// Runs a command routed to pub/sub: the (un)subscribe family, `PUBLISH`,
/// `SPUBLISH` and `PUBSUB`.
pub fn run(
    command: Command,
    argv: &Argv<'_>,
    frame: &[u8],
    session: &mut Session,
    conn: &mut Connection,
    index: usize,
    state: &mut ShardState,
) {
    let id = SubscriberId::new(index, conn.generation);
    if let Some(kind) = Kind::of(command) {
        match command {
            Command::Subscribe | Command::Psubscribe | Command::Ssubscribe => {
                subscribe(kind, argv, session, id, conn.output.writer(), state)
            }
            _ => unsubscribe(kind, argv, session, id, conn.output.writer(), state),
        }
    } else if let Some(shard_channel) = formats::publishes_to_shard_channel(command) {
        publish(shard_channel, argv, session, conn, index, state);
    } else {
        introspect(argv, frame, conn, index, state);
    }
}

/// Before any command of a connection in subscribed mode: writes the
/// messages queued for it (they were published before this command, so
/// they come before its reply), leaves every subscription on `RESET`, and
/// refuses in RESP2 what subscribed mode does not allow (with Redis's
/// error). Returns whether the command may run.
pub fn admit(
    command: Command,
    argv: &Argv<'_>,
    session: &mut Session,
    conn: &mut Connection,
    index: usize,
    state: &mut ShardState,
) -> bool {
    let id = SubscriberId::new(index, conn.generation);
    state.pubsub.flush_to(id, session.version, &mut conn.output);
    if command == Command::Reset {
        state.pubsub.leave_all(id, session);
        session.subscriptions = Default::default();
        return true;
    }
    if session.version == Version::Resp2 && !formats::allowed_when_subscribed(command) {
        formats::write_not_allowed(command, argv, conn.output.writer());
        return false;
    }
    true
}

/// Takes a connection whose slot is being freed out of the shard's table.
pub fn forget(state: &mut ShardState, index: usize, conn: &Connection) {
    if let Some(resp) = &conn.resp {
        if resp.session.subscriptions.is_subscribed() {
            let id = SubscriberId::new(index, conn.generation);
            state.pubsub.leave_all(id, &resp.session);
        }
    }
}

/// `SUBSCRIBE`, `PSUBSCRIBE`, `SSUBSCRIBE`: one confirmation per name.
fn subscribe(
    kind: Kind,
    argv: &Argv<'_>,
    session: &mut Session,
    id: SubscriberId,
    out: &mut Vec<u8>,
    state: &mut ShardState,
) {
    for name in argv.iter().skip(1) {
        if session.subscriptions.add(kind, name) {
            state.pubsub.table.add(kind, name, id);
        }
        let count = session.subscriptions.count(kind);
        formats::write_subscribed(out, session.version, kind, name, count);
    }
}

/// `UNSUBSCRIBE`, `PUNSUBSCRIBE`, `SUNSUBSCRIBE`: one confirmation per
/// name, or per subscription left when none is named (one with a null name
/// if there was none).
fn unsubscribe(
    kind: Kind,
    argv: &Argv<'_>,
    session: &mut Session,
    id: SubscriberId,
    out: &mut Vec<u8>,
    state: &mut ShardState,
) {
    let mut leave = |name: &[u8], session: &mut Session| {
        if session.subscriptions.remove(kind, name) {
            state.pubsub.table.remove(kind, name, id);
        }
        let count = session.subscriptions.count(kind);
        formats::write_unsubscribed(out, session.version, kind, Some(name), count);
    };
    if argv.len() > 1 {
        for name in argv.iter().skip(1) {
            leave(name, session);
        }
        return;
    }
    let names: Vec<Box<[u8]>> = session.subscriptions.names(kind).map(Box::from).collect();
    for name in &names {
        leave(name, session);
    }
    if names.is_empty() {
        let count = session.subscriptions.count(kind);
        formats::write_unsubscribed(out, session.version, kind, None, count);
    }
}

/// `PUBLISH`, `SPUBLISH`: here, then on every other shard; the reply is the
/// receivers summed over the shards.
fn publish(
    shard_channel: bool,
    argv: &Argv<'_>,
    session: &Session,
    conn: &mut Connection,
    index: usize,
    state: &mut ShardState,
) {
    let channel = argv.get(1).unwrap_or_default();
    let payload = argv.get(2).unwrap_or_default();
    let running = Running {
        id: SubscriberId::new(index, conn.generation),
        version: session.version,
        output: &mut conn.output,
    };
    let local = state
        .pubsub
        .publish(shard_channel, channel, payload, Some(running));
    let me = state.id;
    let shards = state.slots.shard_count();
    let slot = conn.output.await_sum(shards as u32 - 1, local);
    for peer in (0..shards).filter(|&peer| peer != me) {
        let batch = state.mesh.requests_for(peer);
        let op = PubSubOp::Publish {
            shard_channel,
            channel: batch.push_bytes(channel),
            message: batch.push_bytes(payload),
        };
        expect_into(
            slot,
            index,
            conn.generation,
            state,
            peer,
            RemoteOp::PubSub(op),
        );
    }
}

/// `PUBSUB …`: this shard's part and every other shard's, joined.
fn introspect(
    argv: &Argv<'_>,
    frame: &[u8],
    conn: &mut Connection,
    index: usize,
    state: &mut ShardState,
) {
    let Some(query) = Query::parse(argv, conn.output.writer()) else {
        return;
    };
    let Some(combine) = query.combine() else {
        return formats::write_help(conn.output.writer());
    };
    let mut local = Vec::new();
    write_part(query, argv, &state.pubsub.table, &mut local);
    let me = state.id;
    let shards = state.slots.shard_count();
    let slot = conn.output.await_gather(shards as u32 - 1, local, combine);
    for peer in (0..shards).filter(|&peer| peer != me) {
        let frame = state.mesh.requests_for(peer).push_bytes(frame);
        let op = RemoteOp::PubSub(PubSubOp::Introspect { frame });
        expect_into(slot, index, conn.generation, state, peer, op);
    }
}

/// This shard's part of a `PUBSUB` answer (see [`Part`]).
fn write_part(query: Query<'_>, argv: &Argv<'_>, table: &Subscribers, out: &mut Vec<u8>) {
    let namespace = |shard: bool| {
        if shard {
            Kind::ShardChannel
        } else {
            Kind::Channel
        }
    };
    match query {
        Query::Channels { shard, pattern } => {
            for name in table.names(namespace(shard)) {
                if pattern.is_none_or(|pattern| glob::matches(pattern, name, false)) {
                    Part::push(out, name);
                }
            }
        }
        Query::Numsub { shard } => {
            for channel in argv.iter().skip(2) {
                Part::push(out, channel);
                Part::push_count(out, table.subscriber_count(namespace(shard), channel));
            }
        }
        Query::Numpat => table
            .names(Kind::Pattern)
            .for_each(|pattern| Part::push(out, pattern)),
        Query::Help => {}
    }
}

/// Runs a pub/sub operation another shard sent, appending its reply.
pub fn execute_remote(op: &PubSubOp, arena: &[u8], state: &mut ShardState, out: &mut Vec<u8>) {
    match *op {
        PubSubOp::Publish {
            shard_channel,
            channel,
            message,
        } => {
            let receivers =
                state
                    .pubsub
                    .publish(shard_channel, channel.of(arena), message.of(arena), None);
            crate::protocol::resp::reply::integer(out, receivers);
        }
        PubSubOp::Receivers {
            shard_channel,
            channel,
        } => {
            let receivers = state.pubsub.receivers(shard_channel, channel.of(arena));
            crate::protocol::resp::reply::integer(out, receivers);
        }
        PubSubOp::Introspect { frame } => {
            let mut args = std::mem::take(&mut state.resp_args);
            if let Parsed::Command { argv, .. } =
                parse(frame.of(arena), &Limits::default(), &mut args)
            {
                // The sender checked the request; an error cannot happen.
                let mut refused = Vec::new();
                if let Some(query) = Query::parse(&argv, &mut refused) {
                    write_part(query, &argv, &state.pubsub.table, out);
                }
            }
            state.resp_args = args;
        }
    }
}
