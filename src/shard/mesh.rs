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
//! Receiving: glommio registers a waker for every poll of an empty channel
//! and drops it only when a message arrives, so polling every turn would
//! pile up wakers. Each receiver therefore has a flag-setting waker and is
//! polled only when that waker has fired (or on the first turn).

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use futures_lite::Stream;
use glommio::channels::channel_mesh::{Receivers, Senders};
use glommio::channels::shared_channel::ConnectedReceiver;
use glommio::{GlommioError, ResourceType};

use super::ShardId;
use crate::protocol::memcache::{Exptime, GetKind};

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
}

/// Where a reply must be delivered on the sending shard: opaque to the
/// mesh, chosen by the server layer (e.g. a connection and a reply slot).
pub type ReplyTarget = (u64, u64);

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
    wake: Arc<InboundWake>,
    waker: Waker,
    closed: bool,
}

/// Per peer: what is being gathered this turn and what could not be sent.
#[derive(Default)]
struct Outbox {
    requests: RequestBatch,
    replies: ReplyBatch,
    /// Messages refused by a full channel, oldest first.
    backlog: VecDeque<ShardMessage>,
    /// Reply targets of every operation sent to this peer and not yet
    /// answered, in sending order.
    expected: VecDeque<ReplyTarget>,
}

/// One shard's end of the channel mesh.
pub struct Mesh {
    me: ShardId,
    senders: Option<Senders<ShardMessage>>,
    inbound: Vec<Inbound>,
    outboxes: Vec<Outbox>,
}

impl Mesh {
    /// A mesh of one shard: nobody to talk to.
    pub fn single() -> Mesh {
        Mesh {
            me: 0,
            senders: None,
            inbound: Vec::new(),
            outboxes: vec![Outbox::default()],
        }
    }

    /// Wraps the joined glommio mesh. `task` must wake the shard's loop.
    pub fn new(
        senders: Senders<ShardMessage>,
        mut receivers: Receivers<ShardMessage>,
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
            inbound,
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

    /// Whether any receiver may have messages (its waker fired).
    pub fn has_inbound(&self) -> bool {
        self.inbound
            .iter()
            .any(|i| !i.closed && i.wake.ready.load(Ordering::Acquire))
    }

    /// Receives every message waiting on receivers whose waker fired.
    pub fn receive(&mut self, mut handle: impl FnMut(ShardId, ShardMessage)) -> usize {
        let mut received = 0;
        for inbound in &mut self.inbound {
            if inbound.closed || !inbound.wake.ready.swap(false, Ordering::AcqRel) {
                continue;
            }
            let mut cx = Context::from_waker(&inbound.waker);
            loop {
                match Pin::new(&mut inbound.receiver).poll_next(&mut cx) {
                    Poll::Ready(Some(message)) => {
                        received += 1;
                        handle(inbound.peer, message);
                    }
                    Poll::Ready(None) => {
                        inbound.closed = true;
                        break;
                    }
                    Poll::Pending => break,
                }
            }
        }
        received
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
            if !outbox.requests.ops.is_empty() {
                let batch = std::mem::take(&mut outbox.requests);
                outbox.backlog.push_back(ShardMessage::Requests(batch));
            }
            if !outbox.replies.ends.is_empty() {
                let batch = std::mem::take(&mut outbox.replies);
                outbox.backlog.push_back(ShardMessage::Replies(batch));
            }
            while let Some(message) = outbox.backlog.pop_front() {
                match senders.try_send_to(peer, message) {
                    Ok(()) => {}
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
