//! A shard's event loop: one glommio task per core that owns the shard's
//! sockets (through its own io_uring), its store and its end of the mesh.
//!
//! One turn:
//! 1. read the clock once, enter the ring once;
//! 2. reap ring completions: accepts, received bytes (parsed and executed at
//!    once, straight out of the provided buffer), finished sends;
//! 3. take messages from other shards: execute their operations on our
//!    store, deliver their replies to our connections;
//! 4. parse input held back in earlier turns (budgeted per connection);
//!    then write the messages published meanwhile into local subscribers'
//!    outputs (`server::pubsub`);
//! 5. start one send per connection with replies ready;
//! 6. publish counters, hand this turn's cross-shard batches to the mesh,
//!    close finished connections;
//! 7. submit everything with one `io_uring_enter` at the start of the next
//!    turn, which also collects the completions that arrived meanwhile.
//!
//! A busy turn ends with a yield, letting other glommio tasks run; a turn
//! that found nothing arms the ring's eventfd, checks once more, and sleeps
//! in glommio until the eventfd, a mesh message or a timer wakes it (see
//! `server::pause` for the timers both carry, and why).

use std::io;
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::Arc;
use std::time::Duration;

use io_uring::{cqueue, opcode, types};
use slab::Slab;

use super::blocking::{self, Blocking};
use super::clients;
use super::coalesce::Coalescer;
use super::connection::{Connection, Phase, INPUT_BUDGET_PER_TURN};
use super::delayed::Delayed;
use super::listener::{Listener, Protocol};
use super::memcache::{self, Stop};
use super::pause::Pause;
use super::pubsub::{self, ShardPubSub};
use super::resp;
use super::shared::Shared;
use super::txn::{self, Txns};
use super::uring::{OpKind, Ring, RingSizes, Token, BUFFER_GROUP};
use crate::clock::Now;
use crate::protocol::resp::Args;
use crate::shard::mesh::{Mesh, RemoteOp, RequestBatch, ShardMessage};
use crate::shard::{ShardId, SlotMap};
use crate::stats::{ShardStats, StoreStats};
use crate::store::{KeyHash, Store};

/// What a shard owns besides its sockets: the store, counters, the mesh and
/// the settings. Front ends execute requests against it.
pub struct ShardState {
    pub id: ShardId,
    pub slots: SlotMap,
    /// The RESP databases used so far (created on first use, see
    /// [`database`]); the memcached protocol uses database 0. They share
    /// one hasher, so a [`KeyHash`] is valid in each.
    pub dbs: Vec<Store>,
    pub stats: ShardStats,
    /// The clock, read once per turn.
    pub now: Now,
    pub mesh: Mesh,
    pub shared: Arc<Shared>,
    /// Argument ranges for RESP requests other shards send (reused).
    pub resp_args: Args,
    /// Cross-shard atomic commands: coordinated here, or holding this shard.
    pub txns: Txns,
    /// This shard's subscribers and the messages waiting for them.
    pub pubsub: ShardPubSub,
    /// This shard's parts of `CLIENT LIST`/`KILL` its connections asked
    /// for this turn (`server::clients`).
    pub client_requests: Vec<clients::LocalClientRequest>,
    /// Replies held back until a deadline (`DEBUG SLEEP`).
    pub delayed: Delayed,
    /// Clients waiting here in a blocking pop (`server::blocking`).
    pub blocking: Blocking,
    /// When the active expiry cycle last ran (ms since the epoch).
    pub last_expire_cycle: u64,
    /// When freed memory was last returned to the system (ms).
    pub last_memory_release: u64,
}

impl ShardState {
    /// Packs a connection's identity into the form replies travel back with.
    pub fn reply_target(index: usize, generation: u32, slot: u64) -> (u64, u64) {
        (((index as u64) << 32) | u64::from(generation), slot)
    }

    /// The connection index and generation a [`ShardState::reply_target`]
    /// packed.
    pub fn unpack_conn(conn_key: u64) -> (usize, u32) {
        ((conn_key >> 32) as usize, conn_key as u32)
    }
}

/// A listener and whether its multishot accept is armed.
struct ListenerSlot {
    listener: Listener,
    accepting: bool,
}

/// How long a stopping shard waits for its connections' replies.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// One shard's loop and everything it owns.
pub struct Worker {
    ring: Ring,
    listeners: Vec<ListenerSlot>,
    conns: Slab<Connection>,
    next_generation: u32,
    state: ShardState,
    /// Connections with input left to parse.
    pending_input: WorkList,
    /// Connections with replies to send.
    pending_send: WorkList,
    /// Connections that may be ready to close.
    pending_close: WorkList,
    /// Connections whose receive must be armed or cancelled.
    pending_recv: WorkList,
    /// This turn's completions (kept to reuse the allocation).
    completions: Vec<cqueue::Entry>,
    /// Key hashes prefetched this turn (kept to reuse the allocation).
    prefetched: Vec<KeyHash>,
    /// Yields and sleeps through glommio.
    pause: Pause,
    /// When a turn's enter waits for a batch of completions.
    coalescer: Coalescer,
    /// When stopping began.
    stop_started: Option<Now>,
    finished_reported: bool,
}

/// Why a shard could not start.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("cannot set up io_uring: {0}{hint}", hint = uring_hint(.0))]
    Ring(io::Error),
    #[error("cannot register the wake-up eventfd with glommio: {0}")]
    WakeFile(io::Error),
    #[error("io_uring failed: {0}")]
    Submit(io::Error),
    #[error("cannot join the channel mesh: {0}")]
    Mesh(String),
}

fn uring_hint(err: &io::Error) -> &'static str {
    match err.raw_os_error() {
        Some(libc::EPERM) | Some(libc::ENOSYS) => {
            " (io_uring is disabled here: check /proc/sys/kernel/io_uring_disabled, \
             or run the container with a seccomp profile that allows io_uring)"
        }
        Some(libc::EINVAL) => " (corecache needs Linux 6.1 or newer)",
        Some(libc::ENOMEM) => " (raise the locked-memory limit: ulimit -l)",
        _ => "",
    }
}

impl Worker {
    /// Sets up the shard on the calling executor thread.
    pub fn new(
        id: ShardId,
        listeners: Vec<Listener>,
        mesh: Mesh,
        shared: Arc<Shared>,
    ) -> Result<Worker, WorkerError> {
        let ring = Ring::new(RingSizes::default()).map_err(WorkerError::Ring)?;
        let pause =
            Pause::new(ring.eventfd(), shared.clone(), id).map_err(WorkerError::WakeFile)?;
        shared.set_wake_fd(id, ring.eventfd());
        let slots = SlotMap::new(shared.shard_count());
        let coalescer = Coalescer::new(shared.settings.batch_wait);
        // Worker::new runs on the shard's own thread.
        crate::stats::errors::install(shared.error_stats[id].clone());
        Ok(Worker {
            ring,
            listeners: listeners
                .into_iter()
                .map(|listener| ListenerSlot {
                    listener,
                    accepting: false,
                })
                .collect(),
            conns: Slab::new(),
            next_generation: 0,
            state: ShardState {
                id,
                slots,
                dbs: vec![Store::new()],
                stats: ShardStats::default(),
                now: Now::read(),
                mesh,
                shared,
                resp_args: Args::new(),
                txns: Txns::new(id),
                pubsub: ShardPubSub::default(),
                client_requests: Vec::new(),
                delayed: Delayed::default(),
                blocking: Blocking::default(),
                last_expire_cycle: 0,
                last_memory_release: 0,
            },
            pending_input: WorkList::default(),
            pending_send: WorkList::default(),
            pending_close: WorkList::default(),
            pending_recv: WorkList::default(),
            completions: Vec::new(),
            prefetched: Vec::new(),
            pause,
            coalescer,
            stop_started: None,
            finished_reported: false,
        })
    }

    /// Runs the shard until the server stops.
    pub async fn run(mut self) -> Result<(), WorkerError> {
        self.arm_accepts()?;
        loop {
            self.state.now = Now::read();
            self.coalescer.turn(self.state.now.millis());
            // One enter per turn: submits what the previous turn queued and
            // runs the kernel's deferred completions.
            if self.ring.needs_enter() {
                match self.coalescer.plan(self.ring.queued()) {
                    Some((batch, wait)) => self.ring.enter_waiting(batch, wait),
                    None => self.ring.enter(),
                }
                .map_err(WorkerError::Submit)?;
            }
            self.state.dbs[0].run_due_flush(self.state.now);
            memory_turn(&mut self.state);
            let mut busy = self.reap()?;
            busy |= self.receive_mesh();
            self.deliver_transactions();
            busy |= self.process_pending_input();
            if txn::grant_waiting(&mut self.state) {
                self.run_deferred();
                self.deliver_transactions();
                busy = true;
            }
            self.deliver_published();
            busy |= self.run_client_requests();
            self.deliver_delayed();
            self.deliver_unblocked();
            self.update_receives()?;
            self.start_sends()?;
            self.publish_stats();
            busy |= self.state.mesh.flush();
            self.close_finished();
            if self.state.shared.is_stopping() && self.stopping()? {
                return Ok(());
            }
            self.ring.buffers().publish();
            if busy || self.ring.needs_enter() {
                self.pause.yield_turn().await;
                continue;
            }
            self.sleep().await?;
        }
    }

    /// Waits until the ring, the mesh or a timer has something.
    async fn sleep(&mut self) -> Result<(), WorkerError> {
        self.ring.set_eventfd_enabled(true);
        // Collect what arrived before the eventfd was armed. One enter runs
        // at most 20 of the kernel's deferred completions (Linux 6.13+) and
        // flags the rest (TASKRUN): those signal no eventfd, so they must be
        // run before sleeping.
        self.ring.enter().map_err(WorkerError::Submit)?;
        if !self.ring.has_completions()
            && !self.ring.needs_enter()
            && self.state.mesh.prepare_sleep()
        {
            if let Some(due) = blocking::next_deadline(&self.state) {
                let now = Now::read().millis();
                self.pause
                    .wake_within(Duration::from_millis(due.saturating_sub(now)));
            }
            self.pause.sleep(&self.state.mesh).await;
        }
        self.ring.set_eventfd_enabled(false);
        Ok(())
    }

    fn arm_accepts(&mut self) -> Result<(), WorkerError> {
        if self.state.shared.is_stopping() {
            return Ok(());
        }
        for (index, slot) in self.listeners.iter_mut().enumerate() {
            if slot.accepting {
                continue;
            }
            let token = Token {
                kind: OpKind::Accept,
                index: index as u32,
                generation: 0,
            };
            let entry = opcode::AcceptMulti::new(types::Fd(std::os::fd::AsRawFd::as_raw_fd(
                &slot.listener.fd,
            )))
            .flags(libc::SOCK_CLOEXEC)
            .build()
            .user_data(token.pack());
            self.ring.push(entry).map_err(WorkerError::Submit)?;
            slot.accepting = true;
        }
        Ok(())
    }

    /// Handles every completion waiting in the ring. Returns whether there
    /// were any.
    ///
    /// Completions are taken in one go so that, before any request runs, the
    /// store can be warmed for all of them: the first request of every
    /// received buffer is peeked at and its key's index line and item are
    /// prefetched. Under load a turn reaps many receives; their cache misses
    /// then overlap instead of each request waiting for its own.
    fn reap(&mut self) -> Result<bool, WorkerError> {
        let mut completions = std::mem::take(&mut self.completions);
        completions.clear();
        while let Some(cqe) = self.ring.next_completion() {
            completions.push(cqe);
        }
        let any = !completions.is_empty();
        self.prefetch_for(&completions);
        for cqe in &completions {
            let Some(token) = Token::unpack(cqe.user_data()) else {
                continue;
            };
            match token.kind {
                OpKind::Accept => self.on_accept(token, cqe),
                OpKind::Recv => self.on_recv(token, cqe),
                OpKind::Send => self.on_send(token, cqe),
                OpKind::CancelRecv => self.on_cancel(token),
            }
        }
        self.completions = completions;
        if any {
            self.arm_accepts()?;
        }
        Ok(any)
    }

    /// Prefetches what the first request of each received buffer will read
    /// from the store (see [`Worker::reap`]).
    fn prefetch_for(&mut self, completions: &[cqueue::Entry]) {
        if completions.len() < 2 {
            return;
        }
        let mut hashes = std::mem::take(&mut self.prefetched);
        hashes.clear();
        for cqe in completions {
            let (Some(token), Some(id)) = (
                Token::unpack(cqe.user_data()),
                cqueue::buffer_select(cqe.flags()),
            ) else {
                continue;
            };
            if token.kind != OpKind::Recv || cqe.result() <= 0 {
                continue;
            }
            let Some((_, conn)) = connection(&mut self.conns, token) else {
                continue;
            };
            // Only the fast path parses straight from the buffer.
            if !conn.input.is_empty() || conn.swallow > 0 || conn.protocol != Protocol::Memcache {
                continue;
            }
            let data = self.ring.buffer(id, cqe.result() as usize);
            memcache::prefetch_first(data, &self.state, &mut hashes);
        }
        for &hash in &hashes {
            self.state.dbs[0].prefetch_item(hash);
        }
        self.prefetched = hashes;
    }

    fn on_accept(&mut self, token: Token, cqe: &cqueue::Entry) {
        let index = token.index as usize;
        let Some(slot) = self.listeners.get_mut(index) else {
            return;
        };
        if !cqueue::more(cqe.flags()) {
            slot.accepting = false;
        }
        let result = cqe.result();
        if result < 0 {
            // EMFILE/ENFILE and the like end the multishot accept; it is
            // re-armed on the next busy turn or idle tick.
            return;
        }
        // Safety: the kernel handed us this new descriptor.
        let fd = unsafe { OwnedFd::from_raw_fd(result) };
        let protocol = slot.listener.protocol;
        if self.state.shared.is_stopping() {
            return;
        }
        if !self.state.shared.try_open_connection() {
            self.state.stats.rejected_connections += 1;
            reject(&fd, protocol);
            return;
        }
        self.next_generation = self.next_generation.wrapping_add(1);
        let mut conn = Connection::new(fd, self.next_generation, protocol);
        if let Some(resp) = conn.resp.as_mut() {
            resp.session.authenticated = !self.state.shared.requirepass.is_required();
        }
        let index = self.conns.insert(conn);
        self.state.stats.curr_connections += 1;
        self.state.stats.total_connections += 1;
        self.pending_recv.push(index);
    }

    fn on_recv(&mut self, token: Token, cqe: &cqueue::Entry) {
        let result = cqe.result();
        let buffer = cqueue::buffer_select(cqe.flags());
        let more = cqueue::more(cqe.flags());
        if let Some((index, conn)) = connection(&mut self.conns, token) {
            if !more {
                conn.recv_armed = false;
            }
            match result {
                1.. => {
                    let len = result as usize;
                    self.state.stats.bytes_read += len as u64;
                    self.coalescer.received(&mut conn.last_active_ms);
                    if let Some(id) = buffer {
                        let data = self.ring.buffer(id, len);
                        feed(conn, index, data, &mut self.state);
                    }
                }
                0 => conn.read_closed = true,
                // Out of provided buffers, or our own cancellation: the
                // receive is re-armed when it should be.
                _ if -result == libc::ENOBUFS || -result == libc::ECANCELED => {}
                _ => {
                    conn.read_closed = true;
                    conn.abort();
                }
            }
            if conn.read_closed && (conn.input.is_empty() || conn.input_needs_more) {
                conn.close_after_replies();
            }
            self.after_io(index);
        }
        if let Some(id) = buffer {
            self.ring.buffers().recycle(id);
        }
    }

    fn on_send(&mut self, token: Token, cqe: &cqueue::Entry) {
        let result = cqe.result();
        let Some((index, conn)) = connection(&mut self.conns, token) else {
            return;
        };
        if result > 0 {
            conn.output.sent(result as usize);
            self.state.stats.bytes_written += result as u64;
        } else {
            conn.output.sent(0);
            if result < 0 && -result != libc::EAGAIN && -result != libc::EINTR {
                conn.abort();
            }
        }
        self.after_io(index);
    }

    fn on_cancel(&mut self, token: Token) {
        if let Some((index, conn)) = connection(&mut self.conns, token) {
            conn.cancel_in_flight = false;
            self.after_io(index);
        }
    }

    /// Queues whatever a connection needs next after an I/O event.
    fn after_io(&mut self, index: usize) {
        let conn = &mut self.conns[index];
        blocking::check_gone(&mut self.state, index, conn);
        if conn.is_finished() {
            self.pending_close.push(index);
        }
        if !conn.queued_for_send && !conn.output.is_sending() {
            conn.queued_for_send = true;
            self.pending_send.push(index);
        }
        if conn.wants_recv() || conn.should_pause_recv() || conn.recv_paused {
            self.pending_recv.push(index);
        }
        if conn.has_parsable_input() && !conn.queued_for_input {
            conn.queued_for_input = true;
            self.pending_input.push(index);
        }
    }

    /// Takes messages from other shards.
    fn receive_mesh(&mut self) -> bool {
        let mut messages = Vec::new();
        self.state
            .mesh
            .receive(|peer, message| messages.push((peer, message)));
        let any = !messages.is_empty();
        for (peer, message) in messages {
            match message {
                // A held shard runs nothing else (`server::txn`).
                ShardMessage::Requests(batch) if self.state.txns.must_defer() => {
                    self.state.txns.defer(peer, batch)
                }
                ShardMessage::Requests(batch) => self.execute_remote(peer, &batch),
                ShardMessage::Txn(message) => {
                    txn::receive(&mut self.state, peer, message);
                    self.run_deferred();
                }
                ShardMessage::Late(late) => {
                    for (target, reply) in late.iter() {
                        if target.1 == blocking::WAKE {
                            blocking::woken(&mut self.state, target.0);
                            continue;
                        }
                        if let Some(index) = blocking::deliver_to(&mut self.conns, target, reply) {
                            self.after_io(index);
                        }
                    }
                }
                ShardMessage::Replies(batch) => {
                    let targets: Vec<_> = self
                        .state
                        .mesh
                        .take_replies(peer, batch.ends.len())
                        .collect();
                    for (i, (conn_key, slot)) in targets.into_iter().enumerate() {
                        let (index, generation) = ShardState::unpack_conn(conn_key);
                        let Some(conn) = self.conns.get_mut(index) else {
                            continue;
                        };
                        if conn.generation != generation {
                            continue;
                        }
                        conn.output.deliver(slot, batch.reply(i));
                        self.after_io(index);
                    }
                }
            }
        }
        any
    }

    /// Hands the replies of finished transactions to their connections,
    /// which may then read on.
    fn deliver_transactions(&mut self) {
        for finished in self.state.txns.take_finished() {
            let (index, generation) = finished.conn;
            let Some(conn) = self.conns.get_mut(index) else {
                continue;
            };
            if conn.generation != generation {
                continue;
            }
            conn.waiting_txn = false;
            if let (Some(db), Some(resp)) = (finished.select, conn.resp.as_mut()) {
                resp.session.db = db;
            }
            if finished.deferred.is_empty() {
                conn.output.deliver(finished.slot, &finished.reply);
            } else {
                super::multi::deliver_exec(conn, index, finished, &mut self.state);
            }
            self.after_io(index);
        }
    }

    /// Executes operations another shard sent, in order, and queues the
    /// replies for it.
    fn execute_remote(&mut self, peer: ShardId, batch: &RequestBatch) {
        let mut killed = Vec::new();
        for op in &batch.ops {
            let state = &mut self.state;
            let mut out = std::mem::take(&mut state.mesh.replies_for(peer).arena);
            match op {
                // The only operation that needs the connections.
                &RemoteOp::RespClients { frame, caller } => killed.extend(clients::execute_remote(
                    frame.of(&batch.arena),
                    caller,
                    &mut self.conns,
                    state.now,
                    &mut out,
                )),
                _ => execute_op(op, &batch.arena, state, &mut out),
            }
            let replies = state.mesh.replies_for(peer);
            replies.arena = out;
            replies.end_reply();
        }
        for index in killed {
            self.after_io(index);
        }
    }

    /// Runs the operation batches that waited while a transaction held the
    /// shard, once it is released: before anything that arrives later.
    fn run_deferred(&mut self) {
        while !self.state.txns.is_held() {
            let Some((peer, batch)) = self.state.txns.take_deferred() else {
                break;
            };
            self.execute_remote(peer, &batch);
        }
    }

    /// Runs this shard's parts of the `CLIENT LIST`/`KILL` requests its own
    /// connections made this turn. Returns whether there were any.
    fn run_client_requests(&mut self) -> bool {
        if self.state.client_requests.is_empty() {
            return false;
        }
        for index in clients::run_local(&mut self.conns, &mut self.state) {
            self.after_io(index);
        }
        true
    }

    /// Times out blocked clients that are due and hands out the replies of
    /// those served (`server::blocking`).
    fn deliver_unblocked(&mut self) {
        for index in blocking::deliver(&mut self.state, &mut self.conns) {
            self.after_io(index);
        }
    }

    /// Fills in the delayed replies that are due.
    fn deliver_delayed(&mut self) {
        if self.state.delayed.is_empty() {
            return;
        }
        for due in self.state.delayed.take_due(self.state.now.millis()) {
            let Some(conn) = self.conns.get_mut(due.index) else {
                continue;
            };
            if conn.generation == due.generation {
                conn.output.deliver(due.slot, due.reply);
                self.after_io(due.index);
            }
        }
    }

    /// Parses input that earlier turns held back (not while a transaction
    /// holds the shard: then it stays queued).
    fn process_pending_input(&mut self) -> bool {
        if self.pending_input.is_empty() || self.state.txns.is_held() {
            return false;
        }
        let list = self.pending_input.take();
        for &index in &list {
            let Some(conn) = self.conns.get_mut(index) else {
                continue;
            };
            conn.queued_for_input = false;
            if conn.has_parsable_input() {
                feed(conn, index, &[], &mut self.state);
                if conn.read_closed && (conn.input.is_empty() || conn.input_needs_more) {
                    conn.close_after_replies();
                }
            }
            self.after_io(index);
        }
        self.pending_input.recycle(list);
        true
    }

    /// Writes the messages published this turn into the outputs of this
    /// shard's subscribers (`server::pubsub`), and queues their sends.
    fn deliver_published(&mut self) {
        let mut touched = Vec::new();
        let now = self.state.now.millis();
        let limit = self.state.shared.pubsub_output_limit.get();
        self.state
            .pubsub
            .deliver(&mut self.conns, limit, now, &mut touched);
        for index in touched {
            self.after_io(index);
        }
    }

    /// Arms receives that should run and cancels those that should pause.
    fn update_receives(&mut self) -> Result<(), WorkerError> {
        let list = self.pending_recv.take();
        for &index in &list {
            let Some(conn) = self.conns.get_mut(index) else {
                continue;
            };
            let token = |kind| Token {
                kind,
                index: index as u32,
                generation: conn.generation,
            };
            if conn.should_pause_recv() {
                conn.cancel_in_flight = true;
                conn.recv_paused = true;
                let entry = opcode::AsyncCancel::new(token(OpKind::Recv).pack())
                    .build()
                    .user_data(token(OpKind::CancelRecv).pack());
                self.ring.push(entry).map_err(WorkerError::Submit)?;
            } else if conn.recv_paused && !conn.is_backed_up() {
                conn.recv_paused = false;
            }
            if conn.wants_recv() {
                conn.recv_armed = true;
                let entry = opcode::RecvMulti::new(types::Fd(conn.fd()), BUFFER_GROUP)
                    .build()
                    .user_data(token(OpKind::Recv).pack());
                self.ring.push(entry).map_err(WorkerError::Submit)?;
            }
        }
        self.pending_recv.recycle(list);
        Ok(())
    }

    /// Starts a send on every connection with replies ready.
    fn start_sends(&mut self) -> Result<(), WorkerError> {
        let list = self.pending_send.take();
        for &index in &list {
            let Some(conn) = self.conns.get_mut(index) else {
                continue;
            };
            conn.queued_for_send = false;
            if conn.phase == Phase::Aborting {
                continue;
            }
            if let Some((ptr, len)) = conn.output.start_send() {
                let token = Token {
                    kind: OpKind::Send,
                    index: index as u32,
                    generation: conn.generation,
                };
                let entry = opcode::Send::new(types::Fd(conn.fd()), ptr, len as u32)
                    .flags(libc::MSG_NOSIGNAL)
                    .build()
                    .user_data(token.pack());
                self.ring.push(entry).map_err(WorkerError::Submit)?;
            }
        }
        self.pending_send.recycle(list);
        Ok(())
    }

    /// Closes connections that are done and have nothing in flight.
    fn close_finished(&mut self) {
        let list = self.pending_close.take();
        for &index in &list {
            let Some(conn) = self.conns.get_mut(index) else {
                continue;
            };
            blocking::check_gone(&mut self.state, index, conn);
            if !conn.is_finished() {
                continue;
            }
            if conn.recv_armed {
                // The armed receive ends with a completion, which brings the
                // connection back here.
                conn.shut_down();
                continue;
            }
            if !conn.is_idle() {
                continue;
            }
            let mut conn = self.conns.remove(index);
            pubsub::forget(&mut self.state, index, &conn);
            super::multi::forget(&mut self.state, index, &mut conn);
            self.state.stats.curr_connections -= 1;
            self.state.shared.close_connection();
        }
        self.pending_close.recycle(list);
    }

    /// One step of stopping. Returns whether the shard may exit.
    fn stopping(&mut self) -> Result<bool, WorkerError> {
        let now = self.state.now;
        let started = *self.stop_started.get_or_insert(now);
        // First step: stop accepting, and let every connection finish.
        if started == now && !self.listeners.is_empty() {
            for (index, slot) in self.listeners.iter().enumerate() {
                if slot.accepting {
                    let token = Token {
                        kind: OpKind::Accept,
                        index: index as u32,
                        generation: 0,
                    };
                    let entry = opcode::AsyncCancel::new(token.pack()).build().user_data(0);
                    self.ring.push(entry).map_err(WorkerError::Submit)?;
                }
            }
        }
        let overdue = now.millis().saturating_sub(started.millis()) > STOP_GRACE.as_millis() as u64;
        let indices: Vec<usize> = self.conns.iter().map(|(index, _)| index).collect();
        for index in indices {
            let conn = &mut self.conns[index];
            if overdue {
                conn.abort();
            } else {
                conn.close_after_replies();
            }
            self.pending_close.push(index);
        }
        self.close_finished();
        if self.conns.is_empty() && !self.finished_reported {
            self.finished_reported = true;
            self.state.shared.shard_finished();
        }
        // Keep serving other shards until everyone is done with their own
        // connections (or the grace period is over).
        Ok(self.finished_reported && (self.state.shared.all_finished() || overdue))
    }

    fn publish_stats(&mut self) {
        let published = &self.state.shared.published[self.state.id];
        published.shard.publish(&self.state.stats);
        published.store.publish(&store_totals(&self.state.dbs));
        for (count, db) in published.db_keys.iter().zip(&self.state.dbs) {
            count.store(db.len() as u64, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

/// Connections waiting for one kind of work this turn. Taking the list
/// swaps in a spare, so neither vector loses its capacity: a turn allocates
/// nothing here.
#[derive(Default)]
struct WorkList {
    items: Vec<usize>,
    spare: Vec<usize>,
}

impl WorkList {
    fn push(&mut self, index: usize) {
        self.items.push(index);
    }

    fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The queued connections; entries pushed meanwhile go to a new list.
    fn take(&mut self) -> Vec<usize> {
        std::mem::replace(&mut self.items, std::mem::take(&mut self.spare))
    }

    /// Gives a taken list back as the spare.
    fn recycle(&mut self, mut list: Vec<usize>) {
        list.clear();
        self.spare = list;
    }
}

/// The connection a completion is for, unless its slot was reused since.
fn connection(conns: &mut Slab<Connection>, token: Token) -> Option<(usize, &mut Connection)> {
    let index = token.index as usize;
    match conns.get_mut(index) {
        Some(conn) if token.is_generation(conn.generation) => Some((index, conn)),
        _ => None,
    }
}

/// Feeds received bytes (or, with empty `data`, the connection's held
/// input) to the connection's front end.
///
/// While no input is held, requests are parsed straight out of `data` (the
/// kernel's buffer) and only an unfinished tail is copied. Held input starts
/// at most [`INPUT_BUDGET_PER_TURN`] bytes of requests per call, so one
/// client's backlog cannot starve the others; the caller re-queues the rest.
fn feed(conn: &mut Connection, index: usize, data: &[u8], state: &mut ShardState) {
    if !conn.accepts_requests() {
        return;
    }
    if conn.input.is_empty() {
        let (used, stop) = if must_wait(conn, state) {
            (0, Stop::BackedUp)
        } else {
            process(conn, index, data, usize::MAX, state)
        };
        conn.input.extend_from_slice(&data[used..]);
        conn.input_needs_more = stop == Stop::NeedMore;
        check_query_buffer(conn, state);
        return;
    }
    conn.input.extend_from_slice(data);
    if check_query_buffer(conn, state) {
        return;
    }
    if must_wait(conn, state) {
        conn.input_needs_more = false;
        return;
    }
    let input = std::mem::take(&mut conn.input);
    let (used, stop) = process(conn, index, &input, INPUT_BUDGET_PER_TURN, state);
    conn.input = input;
    conn.input.drain(..used);
    conn.input_needs_more = stop == Stop::NeedMore;
}

/// Unauthenticated RESP clients may hold at most this much unparsed input,
/// as in Redis.
const UNAUTHENTICATED_QUERY_BUFFER_LIMIT: usize = 1 << 20;

/// Closes a RESP connection whose unparsed input has grown past
/// `client-query-buffer-limit` (1 MiB before it authenticates), as Redis
/// does: no reply, the connection is dropped. Returns whether it was.
fn check_query_buffer(conn: &mut Connection, state: &ShardState) -> bool {
    let Some(resp) = conn.resp.as_ref() else {
        return false;
    };
    let limit = if !resp.session.authenticated && state.shared.requirepass.is_required() {
        UNAUTHENTICATED_QUERY_BUFFER_LIMIT
    } else {
        state.shared.settings.client_query_buffer_limit as usize
    };
    if conn.input.len() <= limit {
        return false;
    }
    conn.abort();
    true
}

/// Whether a connection's input must wait: its replies pile up, its
/// transaction runs, or another transaction holds the shard.
fn must_wait(conn: &Connection, state: &ShardState) -> bool {
    conn.is_backed_up() || conn.waiting_txn || conn.blocked_on.is_some() || state.txns.is_held()
}

/// Executes one operation another shard sent (or a transaction step
/// carries), appending its reply to `out`.
pub fn execute_op(op: &RemoteOp, arena: &[u8], state: &mut ShardState, out: &mut Vec<u8>) {
    match op {
        RemoteOp::ResetStats => reset_stats(state),
        RemoteOp::MemcacheFrame(_)
        | RemoteOp::MemcacheGetKey { .. }
        | RemoteOp::MemcacheRejectTooLarge { .. }
        | RemoteOp::FlushAll { .. } => memcache::execute_remote(op, arena, state, out),
        RemoteOp::PubSub(op) => pubsub::execute_remote(op, arena, state, out),
        _ => resp::execute_remote(op, arena, state, out),
    }
}

/// Runs the connection's front end over `input`.
fn process(
    conn: &mut Connection,
    index: usize,
    input: &[u8],
    budget: usize,
    state: &mut ShardState,
) -> (usize, Stop) {
    match conn.protocol {
        Protocol::Memcache => memcache::process(conn, index, input, budget, state),
        Protocol::Resp => resp::process(conn, index, input, budget, state),
    }
}

/// Database `db` of a shard's `dbs`, creating it (and any below it) empty
/// on first use: a shard whose clients never leave database 0 keeps, sums
/// and publishes one store, not `--databases` of them. The caller checked
/// `db` against `--databases`.
pub fn database(dbs: &mut Vec<Store>, db: u32) -> &mut Store {
    let db = db as usize;
    while dbs.len() <= db {
        let sibling = dbs[0].sibling();
        dbs.push(sibling);
    }
    &mut dbs[db]
}

/// Evictions one turn makes at most to catch up with a lowered limit.
const EVICTIONS_PER_TURN: usize = 1024;

/// The shard's memory housekeeping, once per turn: applies the shared
/// limit and policy to each database (the shard's part of the limit, less
/// what its other databases use), evicts what a lowered limit or another
/// database's growth left over it (a bounded number per turn), and runs
/// the active expiry cycle every `EXPIRE_CYCLE_INTERVAL_MS`.
fn memory_turn(state: &mut ShardState) {
    let memory = &state.shared.memory;
    let limit = memory.shard_limit(state.shared.shard_count());
    let policy = memory.policy();
    let now = state.now;
    let total: u64 = state.dbs.iter().map(Store::used_memory).sum();
    for db in state.dbs.iter_mut() {
        let own = db.used_memory();
        let db_limit = match limit {
            0 => 0,
            limit => limit.saturating_sub(total - own).max(1),
        };
        if db.memory_limit() != (db_limit, policy) {
            db.set_memory_limit(db_limit, policy);
        }
        if db_limit > 0 && own > db_limit {
            db.enforce_limit(EVICTIONS_PER_TURN, now);
        }
    }
    if now.millis() >= state.last_expire_cycle + crate::store::EXPIRE_CYCLE_INTERVAL_MS {
        state.last_expire_cycle = now.millis();
        for db in state.dbs.iter_mut() {
            db.expire_cycle(now);
        }
    }
    if now.millis() >= state.last_memory_release + MEMORY_RELEASE_INTERVAL_MS {
        state.last_memory_release = now.millis();
        crate::store::release_freed_memory();
        // Shard 0 measures how far RSS runs ahead of the accounting.
        if state.id == 0 && now.millis() >= state.shared.started.millis() + 500 {
            if let Some(rss) = super::stats_view::resident_bytes() {
                let used = crate::stats::Totals::sum(&state.shared.published)
                    .store
                    .used_memory;
                state.shared.memory.record_rss(rss, used);
            }
        }
    }
}

/// How often a shard returns its freed memory to the system.
const MEMORY_RELEASE_INTERVAL_MS: u64 = 100;

/// A shard's store counters, summed over its databases.
pub fn store_totals(dbs: &[Store]) -> StoreStats {
    let mut totals = StoreStats::default();
    for db in dbs {
        totals.add(db.stats());
    }
    totals
}

/// Zeroes this shard's totals for `stats reset`, keeping the gauges.
pub fn reset_stats(state: &mut ShardState) {
    state.stats = ShardStats {
        curr_connections: state.stats.curr_connections,
        blocked_clients: state.stats.blocked_clients,
        watching_clients: state.stats.watching_clients,
        ..ShardStats::default()
    };
    state.dbs.iter_mut().for_each(Store::reset_stats);
    state.shared.command_stats[state.id].reset();
    state.shared.error_stats[state.id].reset();
}

/// Tells a connection over `--max-connections` why it is closed.
fn reject(fd: &OwnedFd, protocol: Protocol) {
    let message: &[u8] = match protocol {
        Protocol::Memcache => b"ERROR Too many open connections\r\n",
        Protocol::Resp => b"-ERR max number of clients reached\r\n",
    };
    // Safety: a non-blocking best-effort write on a socket we own; the
    // descriptor is closed when `fd` drops.
    unsafe {
        libc::send(
            std::os::fd::AsRawFd::as_raw_fd(fd),
            message.as_ptr() as *const libc::c_void,
            message.len(),
            libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
        )
    };
}
