//! What shards say to each other, and the glommio channel mesh that carries it.
//!
//! A shard never touches another shard's store: it sends the work. All
//! operations one shard's connections produce for another shard during one
//! event-loop turn travel in one [`RequestBatch`]; the owner executes them in
//! order and answers with one [`ReplyBatch`] whose replies are in the same
//! order. Channels are FIFO, so the sender matches replies to the operations
//! it sent by position alone ([`Mesh::expect_reply`] / [`Mesh::take_replies`]).
//!
//! The mesh never blocks a shard: a message that does not fit a full channel
//! waits in the outbox (behind it, everything else for that peer, to keep
//! order) and is retried next turn.
//!
//! Receiving. A busy shard must see messages every turn, but glommio only
//! wakes a receiver on its reactor turns (every preemption period, 1 ms,
//! while the shard is busy), and polling an empty channel registers a new
//! waker each time that glommio drops only when a message arrives. So each
//! sender also counts what it sent to each peer ([`MeshCounters`], one
//! writer per counter); a busy receiver compares that count with what it has
//! taken and polls exactly that many messages (never reaching `Pending`, so
//! never registering a waker). Before the shard sleeps, [`Mesh::prepare_sleep`]
//! leaves exactly one waker registered per receiver, whose firing (a flag)
//! wakes the shard when a message arrives.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use futures_lite::Stream;
use glommio::channels::channel_mesh::{Receivers, Senders};
use glommio::channels::shared_channel::ConnectedReceiver;
use glommio::{GlommioError, ResourceType};

use super::ShardId;
use crate::command::resp::blocking::Wanted;
use crate::command::resp::Command as RespCommand;
use crate::protocol::memcache::{Exptime, GetKind};
use crate::protocol::resp::Version;

/// A range of a batch's byte arena: `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    /// The bytes of this span in `arena`.
    pub fn of(self, arena: &[u8]) -> &[u8] {
        &arena[self.start as usize..self.end as usize]
    }
}

/// One operation for the shard that owns its key(s).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteOp {
    /// A whole memcached request (command line and data block) to parse and
    /// execute as if it had arrived on the owner's own connection.
    MemcacheFrame(Span),
    /// One key of a memcached retrieval: reply with its `VALUE` block or
    /// nothing.
    MemcacheGetKey {
        kind: GetKind,
        touch: Option<Exptime>,
        key: Span,
    },
    /// A value was refused as too large: count it, and for `set`/`ms` drop
    /// the key's current value, as memcached does. No reply bytes.
    MemcacheRejectTooLarge { key: Span, remove_existing: bool },
    /// `flush_all`: this shard's part. No reply bytes.
    FlushAll { delay: Exptime },
    /// `stats reset`: zero this shard's counters. No reply bytes.
    ResetStats,
    /// A whole RESP request for a key this shard owns, from a connection
    /// speaking `version` with database `db` selected: parse and execute
    /// it here.
    RespFrame {
        frame: Span,
        version: Version,
        db: u32,
    },
    /// One key of a multi-key RESP command (`MGET`: a bulk or null;
    /// `DEL`, `EXISTS`…: an integer).
    RespKey {
        command: RespCommand,
        key: Span,
        version: Version,
        db: u32,
    },
    /// This shard's key count in database `db`, for `DBSIZE`: an integer.
    RespDbSize { db: u32 },
    /// A transaction's read of the item under `key`, as
    /// `command::resp::moves::dump` writes it (empty: no such key).
    RespDump { key: Span, db: u32 },
    /// A transaction's write of a dumped `item` under `key` (no reply
    /// bytes).
    RespRestore { key: Span, item: Span, db: u32 },
    /// `FLUSHDB` (database `Some(db)`) or `FLUSHALL` (`None`): this
    /// shard's part. No reply bytes.
    RespFlush { db: Option<u32> },
    /// `SWAPDB a b`: this shard's part. No reply bytes.
    RespSwapDb { a: u32, b: u32 },
    /// `WATCH`: client `client` starts watching `key` of database `db`.
    /// No reply bytes.
    RespWatch { key: Span, db: u32, client: u64 },
    /// The end of a watch (`UNWATCH`, `DISCARD`, a closed connection). No
    /// reply bytes.
    RespUnwatch { key: Span, db: u32, client: u64 },
    /// `EXEC`'s check of a watch, which ends it: `:1` if the key changed
    /// since it was watched, else `:0`.
    RespWatchChanged { key: Span, db: u32, client: u64 },
    /// `CLIENT LIST` or `CLIENT KILL` (the whole frame) over this shard's
    /// connections, for client `caller`: this shard's part of the reply
    /// (`command::resp::client`).
    RespClients { frame: Span, caller: u64 },
    /// Pub/sub: a message for this shard's subscribers, or this shard's
    /// part of a `PUBSUB` answer (`server::pubsub`).
    PubSub(PubSubOp),
    /// A blocking pop (the whole frame) of connection `conn` (its packed
    /// index and generation) on shard `home`: pop now, or wait for data
    /// here. Its reply goes to `slot` as a [`ShardMessage::Late`] reply;
    /// the operation's own reply is empty (`server::blocking`).
    RespBlock {
        frame: Span,
        version: Version,
        db: u32,
        home: ShardId,
        conn: u64,
        slot: u64,
    },
    /// Connection `conn` of shard `home` is gone: forget its blocking pop,
    /// if it still waits. No reply bytes.
    RespUnblock { home: ShardId, conn: u64 },
    /// A one-shot registration for a client of shard `home` (connection
    /// `conn`) blocked on keys of several shards: when `key` of database
    /// `db` holds the type `wanted`, wake its home and forget every
    /// registration of the client here (`server::blocking`). No reply
    /// bytes.
    RespBlockWatch {
        key: Span,
        db: u32,
        home: ShardId,
        conn: u64,
        wanted: Wanted,
    },
    /// Forget every registration of that client here. No reply bytes.
    RespBlockUnwatch { home: ShardId, conn: u64 },
}

/// What one shard asks another about pub/sub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PubSubOp {
    /// `PUBLISH` (or `SPUBLISH`, `shard_channel`): deliver `message` to
    /// this shard's subscribers of `channel` and of the patterns matching
    /// it. Reply: how many received it, an integer.
    Publish {
        shard_channel: bool,
        channel: Span,
        message: Span,
    },
    /// A whole `PUBSUB …` request. Reply: this shard's part of the answer.
    Introspect { frame: Span },
    /// How many of this shard's subscribers a `Publish` to `channel` would
    /// reach, delivering nothing (a transaction's probe: the shard is held
    /// until its final operations deliver it). Reply: an integer.
    Receivers { shard_channel: bool, channel: Span },
}

/// Operations for one shard, from the connections of one sender turn.
#[derive(Debug, Default)]
pub struct RequestBatch {
    /// Bytes the operations refer to (frames, keys).
    pub arena: Vec<u8>,
    pub ops: Vec<RemoteOp>,
}

impl RequestBatch {
    /// Copies `bytes` into the arena and returns where they are.
    pub fn push_bytes(&mut self, bytes: &[u8]) -> Span {
        let start = self.arena.len() as u32;
        self.arena.extend_from_slice(bytes);
        Span {
            start,
            end: self.arena.len() as u32,
        }
    }
}

/// The replies to one [`RequestBatch`], in operation order.
#[derive(Debug, Default)]
pub struct ReplyBatch {
    /// All reply bytes, concatenated.
    pub arena: Vec<u8>,
    /// Where each operation's reply ends in `arena`.
    pub ends: Vec<u32>,
}

impl ReplyBatch {
    /// Reply `index`'s bytes.
    pub fn reply(&self, index: usize) -> &[u8] {
        let start = if index == 0 {
            0
        } else {
            self.ends[index - 1] as usize
        };
        &self.arena[start..self.ends[index] as usize]
    }

    /// Closes the reply of the operation just executed (whatever it appended
    /// to `arena` since the previous call).
    pub fn end_reply(&mut self) {
        self.ends.push(self.arena.len() as u32);
    }
}

/// A message between shards.
#[derive(Debug)]
pub enum ShardMessage {
    Requests(RequestBatch),
    Replies(ReplyBatch),
    /// A step of a cross-shard atomic operation, or its answer
    /// (`server::txn`). Never deferred: a shard held by one transaction
    /// still takes these, which is what keeps transactions moving.
    Txn(TxnMessage),
    /// Replies computed after their operation was answered (blocking pops
    /// served or timed out, `server::blocking`), each with its target.
    Late(LateReplies),
}

/// Replies that each name where they go, in no relation to the order of
/// the operations sent.
#[derive(Debug, Default)]
pub struct LateReplies {
    pub targets: Vec<ReplyTarget>,
    pub replies: ReplyBatch,
}

impl LateReplies {
    /// Each reply with its target.
    pub fn iter(&self) -> impl Iterator<Item = (ReplyTarget, &[u8])> {
        (0..self.targets.len()).map(|index| (self.targets[index], self.replies.reply(index)))
    }
}

/// Names a cross-shard transaction: the shard coordinating it and its
/// number there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TxnId {
    pub coordinator: ShardId,
    pub seq: u64,
}

/// What a transaction's coordinator and its participants say.
#[derive(Debug)]
pub enum TxnMessage {
    /// To a participant: be held by `id` (waiting behind any transaction
    /// holding the shard now), run `ops` in order while held, then release
    /// the shard if `release`. Answered by [`TxnMessage::Done`].
    Step {
        id: TxnId,
        ops: RequestBatch,
        release: bool,
    },
    /// To the coordinator: the replies of a step's operations, in order.
    Done { id: TxnId, replies: ReplyBatch },
}

/// Where a reply must be delivered on the sending shard: opaque to the
/// mesh, chosen by the server layer (e.g. a connection and a reply slot).
pub type ReplyTarget = (u64, u64);

/// How many messages each shard has sent to each other shard. Written only
/// by the sender (plain increments of its own counters), read by the
/// receiver: a busy receiver learns of new messages without a wake-up.
pub struct MeshCounters {
    shards: usize,
    sent: Vec<PaddedCounter>,
}

/// A counter on a cache line of its own.
#[repr(align(64))]
#[derive(Default)]
struct PaddedCounter(AtomicU64);

impl MeshCounters {
    /// Counters for a mesh of `shards` shards.
    pub fn new(shards: usize) -> MeshCounters {
        MeshCounters {
            shards,
            sent: (0..shards * shards)
                .map(|_| PaddedCounter::default())
                .collect(),
        }
    }

    fn counter(&self, from: ShardId, to: ShardId) -> &AtomicU64 {
        &self.sent[from * self.shards + to].0
    }

    /// Records one more message from `from` to `to` (called by `from` only).
    fn record_sent(&self, from: ShardId, to: ShardId) {
        let counter = self.counter(from, to);
        counter.store(counter.load(Ordering::Relaxed) + 1, Ordering::Release);
    }

    /// Messages `from` has sent to `to` so far.
    fn sent(&self, from: ShardId, to: ShardId) -> u64 {
        self.counter(from, to).load(Ordering::Acquire)
    }
}

/// Sets a flag and wakes the shard's task: tells the loop which receiver has
/// something.
struct InboundWake {
    ready: AtomicBool,
    task: Waker,
}

impl Wake for InboundWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.ready.store(true, Ordering::Release);
        self.task.wake_by_ref();
    }
}

struct Inbound {
    peer: ShardId,
    receiver: ConnectedReceiver<ShardMessage>,
    /// Set when no waker is registered with glommio (it fired, or none was
    /// ever registered).
    wake: Arc<InboundWake>,
    waker: Waker,
    /// Messages taken from this peer so far.
    received: u64,
    closed: bool,
}

/// Per peer: what is being gathered this turn and what could not be sent.
#[derive(Default)]
struct Outbox {
    requests: RequestBatch,
    replies: ReplyBatch,
    late: LateReplies,
    /// Messages refused by a full channel, oldest first.
    backlog: VecDeque<ShardMessage>,
    /// Reply targets of every operation sent to this peer and not yet
    /// answered, in sending order.
    expected: VecDeque<ReplyTarget>,
}

impl Outbox {
    /// Moves what was gathered so far (operations, replies, late replies)
    /// to the back of the backlog, in that order.
    fn seal(&mut self) {
        if !self.requests.ops.is_empty() {
            let batch = std::mem::take(&mut self.requests);
            self.backlog.push_back(ShardMessage::Requests(batch));
        }
        if !self.replies.ends.is_empty() {
            let batch = std::mem::take(&mut self.replies);
            self.backlog.push_back(ShardMessage::Replies(batch));
        }
        if !self.late.targets.is_empty() {
            let late = std::mem::take(&mut self.late);
            self.backlog.push_back(ShardMessage::Late(late));
        }
    }
}

/// One shard's end of the channel mesh.
pub struct Mesh {
    me: ShardId,
    senders: Option<Senders<ShardMessage>>,
    counters: Option<Arc<MeshCounters>>,
    inbound: Vec<Inbound>,
    /// Messages taken while arming for sleep, handed out by the next
    /// [`Mesh::receive`].
    early: Vec<(ShardId, ShardMessage)>,
    outboxes: Vec<Outbox>,
}

impl Mesh {
    /// A mesh of one shard: nobody to talk to.
    pub fn single() -> Mesh {
        Mesh {
            me: 0,
            senders: None,
            counters: None,
            inbound: Vec::new(),
            early: Vec::new(),
            outboxes: vec![Outbox::default()],
        }
    }

    /// Wraps the joined glommio mesh. `task` must wake the shard's loop;
    /// `counters` are shared by all shards of the mesh.
    pub fn new(
        senders: Senders<ShardMessage>,
        mut receivers: Receivers<ShardMessage>,
        counters: Arc<MeshCounters>,
        task: Waker,
    ) -> Mesh {
        let me = senders.peer_id();
        let inbound = receivers
            .streams()
            .into_iter()
            .map(|(peer, receiver)| {
                let wake = Arc::new(InboundWake {
                    ready: AtomicBool::new(true),
                    task: task.clone(),
                });
                Inbound {
                    peer,
                    receiver,
                    waker: Waker::from(wake.clone()),
                    wake,
                    received: 0,
                    closed: false,
                }
            })
            .collect();
        let outboxes = (0..senders.nr_consumers())
            .map(|_| Outbox::default())
            .collect();
        Mesh {
            me,
            senders: Some(senders),
            counters: Some(counters),
            inbound,
            early: Vec::new(),
            outboxes,
        }
    }

    /// This shard's id.
    pub fn me(&self) -> ShardId {
        self.me
    }

    /// The batch of operations being gathered for `peer` this turn.
    pub fn requests_for(&mut self, peer: ShardId) -> &mut RequestBatch {
        &mut self.outboxes[peer].requests
    }

    /// Records where the reply to the operation just added for `peer` goes.
    pub fn expect_reply(&mut self, peer: ShardId, target: ReplyTarget) {
        self.outboxes[peer].expected.push_back(target);
    }

    /// The reply batch being gathered for `peer` this turn.
    pub fn replies_for(&mut self, peer: ShardId) -> &mut ReplyBatch {
        &mut self.outboxes[peer].replies
    }

    /// Queues a late reply for `peer`'s connection `target`.
    pub fn send_late(&mut self, peer: ShardId, target: ReplyTarget, reply: &[u8]) {
        let late = &mut self.outboxes[peer].late;
        late.targets.push(target);
        late.replies.arena.extend_from_slice(reply);
        late.replies.end_reply();
    }

    /// Queues a transaction message for `peer` behind everything gathered
    /// for it so far: what a shard sent before a transaction step arrives
    /// before it.
    pub fn send_txn(&mut self, peer: ShardId, message: TxnMessage) {
        let outbox = &mut self.outboxes[peer];
        outbox.seal();
        outbox.backlog.push_back(ShardMessage::Txn(message));
    }

    /// Pairs a reply batch from `peer` with the targets of the operations it
    /// answers, in order.
    pub fn take_replies(
        &mut self,
        peer: ShardId,
        count: usize,
    ) -> impl Iterator<Item = ReplyTarget> + '_ {
        let expected = &mut self.outboxes[peer].expected;
        let count = count.min(expected.len());
        expected.drain(..count)
    }

    /// Messages waiting from `inbound`'s peer, by the sender's count.
    fn waiting(&self, inbound: &Inbound) -> u64 {
        self.counters
            .as_ref()
            .map_or(0, |c| c.sent(inbound.peer, self.me))
            .saturating_sub(inbound.received)
    }

    /// Whether any peer has sent something not yet taken (or a waker fired).
    pub fn has_inbound(&self) -> bool {
        !self.early.is_empty()
            || self
                .inbound
                .iter()
                .any(|i| !i.closed && (self.waiting(i) > 0 || i.wake.ready.load(Ordering::Acquire)))
    }

    /// Takes every message the peers have sent so far. Polls each channel
    /// exactly as many times as its sender's count says, so a busy shard
    /// never registers wakers.
    pub fn receive(&mut self, mut handle: impl FnMut(ShardId, ShardMessage)) -> usize {
        let mut taken = self.early.len();
        for (peer, message) in self.early.drain(..) {
            handle(peer, message);
        }
        for index in 0..self.inbound.len() {
            let waiting = self.waiting(&self.inbound[index]);
            let inbound = &mut self.inbound[index];
            let mut cx = Context::from_waker(&inbound.waker);
            for _ in 0..waiting {
                match Pin::new(&mut inbound.receiver).poll_next(&mut cx) {
                    Poll::Ready(Some(message)) => {
                        inbound.received += 1;
                        taken += 1;
                        handle(inbound.peer, message);
                    }
                    Poll::Ready(None) => {
                        inbound.closed = true;
                        break;
                    }
                    // Counted but not visible yet: a waker is now registered.
                    Poll::Pending => {
                        inbound.wake.ready.store(false, Ordering::Release);
                        break;
                    }
                }
            }
        }
        taken
    }

    /// Before the shard sleeps: makes sure every receiver has one waker
    /// registered, so that a message wakes the shard. Returns `false` (do
    /// not sleep) if messages are waiting.
    pub fn prepare_sleep(&mut self) -> bool {
        if self
            .inbound
            .iter()
            .any(|i| !i.closed && self.waiting(i) > 0)
        {
            return false;
        }
        for inbound in &mut self.inbound {
            if inbound.closed || !inbound.wake.ready.swap(false, Ordering::AcqRel) {
                continue;
            }
            let mut cx = Context::from_waker(&inbound.waker);
            match Pin::new(&mut inbound.receiver).poll_next(&mut cx) {
                // Arrived after the count was read: keep it for `receive`.
                Poll::Ready(Some(message)) => {
                    inbound.received += 1;
                    inbound.wake.ready.store(true, Ordering::Release);
                    self.early.push((inbound.peer, message));
                    return false;
                }
                Poll::Ready(None) => inbound.closed = true,
                Poll::Pending => {}
            }
        }
        true
    }

    /// Sends what this turn gathered, oldest first, keeping what a full
    /// channel refuses for the next turn. Returns whether anything is still
    /// waiting to be sent.
    pub fn flush(&mut self) -> bool {
        let Some(senders) = &self.senders else {
            return false;
        };
        let mut waiting = false;
        for (peer, outbox) in self.outboxes.iter_mut().enumerate() {
            if peer == self.me {
                continue;
            }
            outbox.seal();
            while let Some(message) = outbox.backlog.pop_front() {
                match senders.try_send_to(peer, message) {
                    Ok(()) => {
                        if let Some(counters) = &self.counters {
                            counters.record_sent(self.me, peer);
                        }
                    }
                    Err(GlommioError::WouldBlock(ResourceType::Channel(message))) => {
                        outbox.backlog.push_front(message);
                        break;
                    }
                    // The peer is gone (shutting down): nobody will answer.
                    Err(_) => {
                        outbox.backlog.clear();
                        break;
                    }
                }
            }
            waiting |= !outbox.backlog.is_empty();
        }
        waiting
    }

    /// Whether every receiver has seen its sender go away.
    pub fn all_peers_gone(&self) -> bool {
        self.inbound.iter().all(|i| i.closed)
    }

    /// Closes this shard's senders: peers see the end of their streams once
    /// they have drained what was sent.
    pub fn close(&mut self) {
        if let Some(senders) = &self.senders {
            senders.close();
        }
    }
}

/// A future that is ready once any receiver's waker fires; used when the
/// shard has nothing else to do.
pub struct InboundReady<'a>(pub &'a Mesh);

impl Future for InboundReady<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        if self.0.has_inbound() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}
