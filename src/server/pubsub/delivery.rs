//! Writing published messages into subscribers' outputs: at once for the
//! connection whose request runs, otherwise queued per subscriber and
//! written once per turn by [`ShardPubSub::deliver`] (while a request runs,
//! only its own connection can be written to). Also the output limits
//! that disconnect a subscriber which does not read.

use std::ops::Range;

use hashbrown::HashMap;
use slab::Slab;

use super::table::{SubscriberId, Subscribers};
use crate::command::resp::connection::Session;
use crate::command::resp::pubsub::limit::OutputLimit;
use crate::command::resp::pubsub::{self as formats, Kind};
use crate::protocol::resp::reply::Version;
use crate::server::connection::{Connection, Phase};
use crate::server::output::Output;

/// Queued bytes above which the queue's buffer is freed once empty.
const RETAINED_ARENA: usize = 1 << 20;

/// A shard's pub/sub state.
#[derive(Default)]
pub struct ShardPubSub {
    /// Who listens where, among this shard's connections.
    pub table: Subscribers,
    outbox: Outbox,
    /// Subscribers over the soft output limit, and since when (ms).
    over_soft_limit: HashMap<SubscriberId, u64>,
}

/// Messages published this turn for subscribers other than the connection
/// that was running.
#[derive(Default)]
struct Outbox {
    /// Channel names, payloads and patterns of the queued messages.
    arena: Vec<u8>,
    messages: Vec<Published>,
    /// Per subscriber, its deliveries in publish order.
    queued: HashMap<SubscriberId, Vec<Delivery>>,
}

/// One published message, in the outbox's arena.
struct Published {
    shard_channel: bool,
    channel: Range<usize>,
    payload: Range<usize>,
}

/// One message for one subscriber: the message, and the pattern it
/// matched (for a `pmessage`).
struct Delivery {
    message: usize,
    pattern: Option<Range<usize>>,
}

impl Outbox {
    fn push_bytes(&mut self, bytes: &[u8]) -> Range<usize> {
        let start = self.arena.len();
        self.arena.extend_from_slice(bytes);
        start..self.arena.len()
    }

    /// Writes one delivery for a subscriber speaking `version`.
    fn write(&self, delivery: &Delivery, version: Version, out: &mut Vec<u8>) {
        let message = &self.messages[delivery.message];
        let channel = &self.arena[message.channel.clone()];
        let payload = &self.arena[message.payload.clone()];
        match &delivery.pattern {
            Some(pattern) => {
                let pattern = &self.arena[pattern.clone()];
                formats::write_pmessage(out, version, pattern, channel, payload)
            }
            None => formats::write_message(out, version, message.shard_channel, channel, payload),
        }
    }

    fn clear(&mut self) {
        self.messages.clear();
        if self.arena.capacity() > RETAINED_ARENA {
            self.arena = Vec::new();
        } else {
            self.arena.clear();
        }
    }
}

/// The connection whose request is running, which can be written to at
/// once.
pub struct Running<'a> {
    /// Who it is in the table.
    pub id: SubscriberId,
    /// The protocol it speaks now.
    pub version: Version,
    /// Where its replies go.
    pub output: &'a mut Output,
}

impl ShardPubSub {
    /// How many subscribers [`ShardPubSub::publish`] of a message to
    /// `channel` would reach now.
    pub fn receivers(&self, shard_channel: bool, channel: &[u8]) -> i64 {
        let mut receivers = 0;
        self.table
            .for_each_receiver(shard_channel, channel, |_, group| {
                receivers += group.len() as i64
            });
        receivers
    }

    /// Delivers a message to this shard's subscribers of `channel` (and of
    /// the patterns matching it, unless it is a shard channel): `running`
    /// gets it at once, the others when the turn's deliveries are written.
    /// Returns how many received it (a subscriber of the channel and of a
    /// matching pattern counts twice, as in Redis).
    pub fn publish(
        &mut self,
        shard_channel: bool,
        channel: &[u8],
        payload: &[u8],
        mut running: Option<Running<'_>>,
    ) -> i64 {
        let ShardPubSub { table, outbox, .. } = self;
        let mut receivers = 0;
        let mut message = None;
        table.for_each_receiver(shard_channel, channel, |pattern, group| {
            receivers += group.len() as i64;
            let mut queued_pattern = None;
            for &id in group {
                if let Some(running) = running.as_mut().filter(|r| r.id == id) {
                    let out = running.output.writer();
                    match pattern {
                        Some(pattern) => {
                            formats::write_pmessage(out, running.version, pattern, channel, payload)
                        }
                        None => formats::write_message(
                            out,
                            running.version,
                            shard_channel,
                            channel,
                            payload,
                        ),
                    }
                    continue;
                }
                let message = *message.get_or_insert_with(|| {
                    let channel = outbox.push_bytes(channel);
                    let payload = outbox.push_bytes(payload);
                    outbox.messages.push(Published {
                        shard_channel,
                        channel,
                        payload,
                    });
                    outbox.messages.len() - 1
                });
                let pattern = pattern.map(|pattern| {
                    queued_pattern
                        .get_or_insert_with(|| outbox.push_bytes(pattern))
                        .clone()
                });
                outbox
                    .queued
                    .entry(id)
                    .or_default()
                    .push(Delivery { message, pattern });
            }
        });
        receivers
    }

    /// Writes what is queued for `id` into `output` now.
    pub(super) fn flush_to(&mut self, id: SubscriberId, version: Version, output: &mut Output) {
        if let Some(deliveries) = self.outbox.queued.remove(&id) {
            let out = output.writer();
            for delivery in &deliveries {
                self.outbox.write(delivery, version, out);
            }
        }
    }

    /// Writes the turn's queued messages into their subscribers' outputs,
    /// pushing the index of every connection written to (or disconnected
    /// for its backlog) onto `touched`. Connections that closed or stopped
    /// reading meanwhile get nothing.
    pub fn deliver(
        &mut self,
        conns: &mut Slab<Connection>,
        limit: OutputLimit,
        now_ms: u64,
        touched: &mut Vec<usize>,
    ) {
        if self.outbox.queued.is_empty() {
            if !self.outbox.messages.is_empty() {
                self.outbox.clear();
            }
            return;
        }
        let mut queued = std::mem::take(&mut self.outbox.queued);
        for (id, deliveries) in queued.drain() {
            let index = id.index as usize;
            let Some(conn) = conns.get_mut(index) else {
                continue;
            };
            if conn.generation != id.generation || conn.phase != Phase::Open {
                continue;
            }
            let Some(version) = conn.resp.as_ref().map(|resp| resp.session.version) else {
                continue;
            };
            let out = conn.output.writer();
            for delivery in &deliveries {
                self.outbox.write(delivery, version, out);
            }
            if self.over_limit(id, conn.output.backlog(), limit, now_ms) {
                conn.abort();
            }
            touched.push(index);
        }
        // Keep the map's capacity for the next turn.
        self.outbox.queued = queued;
        self.outbox.clear();
    }

    /// Whether a subscriber with `backlog` unsent bytes must be
    /// disconnected now under `limit` (Redis's
    /// `checkClientOutputBufferLimits`).
    fn over_limit(
        &mut self,
        id: SubscriberId,
        backlog: usize,
        limit: OutputLimit,
        now_ms: u64,
    ) -> bool {
        let backlog = backlog as u64;
        let since = if limit.is_over_soft(backlog) {
            Some(*self.over_soft_limit.entry(id).or_insert(now_ms))
        } else {
            self.over_soft_limit.remove(&id);
            None
        };
        limit.exceeded(backlog, since, now_ms)
    }

    /// Drops every subscription of connection `id` (closed, or `RESET`),
    /// and whatever was queued for it.
    pub(super) fn leave_all(&mut self, id: SubscriberId, session: &Session) {
        let subscriptions = &session.subscriptions;
        for kind in [Kind::Channel, Kind::Pattern, Kind::ShardChannel] {
            for name in subscriptions.names(kind) {
                self.table.remove(kind, name, id);
            }
        }
        self.outbox.queued.remove(&id);
        self.over_soft_limit.remove(&id);
    }
}

#[cfg(test)]
mod tests {
    use std::os::fd::OwnedFd;

    use super::*;
    use crate::command::resp::pubsub::limit::PUBSUB_DEFAULT;
    use crate::server::listener::Protocol;

    const A: SubscriberId = SubscriberId {
        index: 0,
        generation: 1,
    };
    const B: SubscriberId = SubscriberId {
        index: 1,
        generation: 2,
    };

    /// A RESP connection (on `/dev/null`: nothing is sent in these tests).
    fn connection(generation: u32) -> Connection {
        let file = std::fs::File::open("/dev/null").expect("/dev/null");
        Connection::new(OwnedFd::from(file), generation, Protocol::Resp)
    }

    /// Connections A and B in slots 0 and 1, B speaking RESP3.
    fn connections() -> Slab<Connection> {
        let mut conns = Slab::new();
        assert_eq!(conns.insert(connection(A.generation)), 0);
        let mut b = connection(B.generation);
        if let Some(resp) = b.resp.as_mut() {
            resp.session.version = Version::Resp3;
        }
        assert_eq!(conns.insert(b), 1);
        conns
    }

    /// Everything an output would send.
    fn unsent(output: &mut Output) -> String {
        let mut wire = Vec::new();
        while let Some((ptr, len)) = output.start_send() {
            // Safety: the pointer and length come from the output's buffer.
            wire.extend_from_slice(unsafe { std::slice::from_raw_parts(ptr, len) });
            output.sent(len);
        }
        String::from_utf8(wire).expect("utf-8")
    }

    #[test]
    fn the_running_connection_gets_messages_at_once_the_others_each_turn() {
        let mut pubsub = ShardPubSub::default();
        pubsub.table.add(Kind::Channel, b"ch", A);
        pubsub.table.add(Kind::Pattern, b"c*", A);
        pubsub.table.add(Kind::Channel, b"ch", B);
        pubsub.table.add(Kind::Pattern, b"c*", B);
        let mut conns = connections();
        let mut running = Output::default();
        let receivers = pubsub.publish(
            false,
            b"ch",
            b"hi",
            Some(Running {
                id: A,
                version: Version::Resp2,
                output: &mut running,
            }),
        );
        assert_eq!(
            receivers, 4,
            "each subscriber counts for the channel and the pattern"
        );
        assert_eq!(
            unsent(&mut running),
            "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n\
             *4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$2\r\nhi\r\n"
        );
        assert_eq!(pubsub.publish(false, b"cx", b"2", None), 2);
        assert_eq!(
            pubsub.publish(true, b"ch", b"3", None),
            0,
            "no shard channel"
        );
        let mut touched = Vec::new();
        pubsub.deliver(&mut conns, PUBSUB_DEFAULT, 0, &mut touched);
        touched.sort();
        assert_eq!(touched, [0, 1]);
        assert_eq!(
            unsent(&mut conns[0].output),
            "*4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\ncx\r\n$1\r\n2\r\n"
        );
        assert_eq!(
            unsent(&mut conns[1].output),
            ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n\
             >4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$2\r\nhi\r\n\
             >4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\ncx\r\n$1\r\n2\r\n",
            "in publish order, in the subscriber's protocol"
        );
        // Nothing is delivered twice.
        pubsub.deliver(&mut conns, PUBSUB_DEFAULT, 0, &mut touched);
        assert_eq!(unsent(&mut conns[1].output), "");
    }

    #[test]
    fn a_reused_slot_or_a_closing_connection_gets_nothing() {
        let mut pubsub = ShardPubSub::default();
        pubsub.table.add(Kind::Channel, b"ch", A);
        pubsub.table.add(Kind::Channel, b"ch", B);
        let mut conns = Slab::new();
        // Slot 0 now holds a later connection; B is closing.
        conns.insert(connection(A.generation + 1));
        conns.insert(connection(B.generation));
        conns[1].close_after_replies();
        assert_eq!(pubsub.publish(false, b"ch", b"x", None), 2);
        let mut touched = Vec::new();
        pubsub.deliver(&mut conns, PUBSUB_DEFAULT, 0, &mut touched);
        assert!(touched.is_empty());
        assert_eq!(unsent(&mut conns[0].output), "");
        assert_eq!(unsent(&mut conns[1].output), "");
    }

    #[test]
    fn what_is_queued_for_a_connection_can_be_written_before_its_next_command() {
        let mut pubsub = ShardPubSub::default();
        pubsub.table.add(Kind::ShardChannel, b"s", A);
        let mut conns = connections();
        assert_eq!(pubsub.publish(true, b"s", b"1", None), 1);
        let mut output = Output::default();
        pubsub.flush_to(A, Version::Resp2, &mut output);
        assert_eq!(
            unsent(&mut output),
            "*3\r\n$8\r\nsmessage\r\n$1\r\ns\r\n$1\r\n1\r\n"
        );
        let mut touched = Vec::new();
        pubsub.deliver(&mut conns, PUBSUB_DEFAULT, 0, &mut touched);
        assert!(touched.is_empty(), "already written");
    }

    #[test]
    fn output_limits_apply_as_redis() {
        let mut pubsub = ShardPubSub::default();
        let limit = PUBSUB_DEFAULT;
        let (hard, soft) = (limit.hard as usize, limit.soft as usize);
        let soft_ms = limit.soft_seconds * 1000;
        let c = SubscriberId {
            index: 2,
            generation: 3,
        };
        assert!(pubsub.over_limit(c, hard, limit, 0));
        assert!(!pubsub.over_limit(c, hard - 1, limit, 0));
        // Over the soft limit: allowed for the soft limit's time.
        assert!(!pubsub.over_limit(A, soft, limit, 1_000));
        assert!(!pubsub.over_limit(A, soft, limit, 1_000 + soft_ms));
        assert!(pubsub.over_limit(A, soft, limit, 1_001 + soft_ms));
        // Dropping below restarts the clock.
        assert!(!pubsub.over_limit(B, soft, limit, 0));
        assert!(!pubsub.over_limit(B, 0, limit, 30_000));
        assert!(!pubsub.over_limit(B, soft, limit, 61_000));
        assert!(!pubsub.over_limit(B, soft, limit, 61_000 + soft_ms));
        // A zero limit never disconnects.
        let off = OutputLimit {
            hard: 0,
            soft: 0,
            soft_seconds: 0,
        };
        assert!(!pubsub.over_limit(c, usize::MAX, off, u64::MAX));
    }
}
