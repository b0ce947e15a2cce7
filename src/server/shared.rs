//! What the shards share: read-mostly state, never touched per request.
//!
//! Each shard publishes its counters here once per turn (see `crate::stats`);
//! the connection count is updated on accept and close only; the stop flag
//! and the wake-up eventfds serve shutdown; each shard's heartbeat (one
//! relaxed store per turn, on its own cache line) serves the liveness
//! watchdog. Nothing on the request path reads or writes another shard's
//! data.

use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
use std::sync::Arc;

use super::watchdog::Heartbeat;
use crate::clock::Now;
use crate::command::memory::MemoryConfig;
use crate::command::resp::auth::RequirePass;
use crate::command::resp::encodings::EncodingConfig;
use crate::command::resp::label::Label;
use crate::command::resp::pubsub::limit::SharedOutputLimit;
use crate::command::resp::slowlog::SharedSlowlog;
use crate::config::Settings;
use crate::stats::commands::{self, CommandCounters, CommandStat};
use crate::stats::errors::{ErrorCounters, ErrorTable};
use crate::stats::{PublishedShard, Totals};

/// State shared by all shards of one server.
pub struct Shared {
    pub settings: Settings,
    /// When the server started.
    pub started: Now,
    /// Each shard's published counters, indexed by shard id.
    pub published: Vec<PublishedShard>,
    /// Open client connections over all shards.
    connections: AtomicUsize,
    /// Set once a stop was requested (SIGINT/SIGTERM).
    stopping: AtomicBool,
    /// Shards that have closed all their connections while stopping.
    finished: AtomicUsize,
    /// Each shard's ring eventfd, written to wake a sleeping shard.
    wake_fds: Vec<AtomicI32>,
    /// Each shard's liveness signal for the watchdog thread.
    heartbeats: Vec<Heartbeat>,
    /// The RESP slow log and its settings (locked only to add a slow
    /// request or to answer `SLOWLOG`).
    pub slowlog: SharedSlowlog,
    /// Each shard's RESP command counters (`INFO commandstats`), written
    /// only by that shard.
    pub command_stats: Vec<CommandCounters>,
    /// Each shard's error replies by code (`INFO errorstats`).
    pub error_stats: Vec<Arc<ErrorCounters>>,
    /// The RESP `default` user's password (`requirepass`).
    pub requirepass: RequirePass,
    /// `client-output-buffer-limit pubsub`.
    pub pubsub_output_limit: SharedOutputLimit,
    /// The memory limit and eviction policy, which `CONFIG SET` may change.
    pub memory: MemoryConfig,
    /// The collection encoding thresholds `CONFIG SET` may change.
    pub encodings: EncodingConfig,
}

impl Shared {
    /// State for a server with `settings.threads` shards.
    pub fn new(settings: Settings) -> Shared {
        let shards = settings.threads;
        let databases = settings.databases;
        Shared {
            memory: MemoryConfig::new(&settings),
            started: Now::read(),
            published: (0..shards)
                .map(|_| PublishedShard::new(databases))
                .collect(),
            connections: AtomicUsize::new(0),
            stopping: AtomicBool::new(false),
            finished: AtomicUsize::new(0),
            wake_fds: (0..shards).map(|_| AtomicI32::new(-1)).collect(),
            heartbeats: (0..shards).map(|_| Heartbeat::default()).collect(),
            slowlog: SharedSlowlog::default(),
            command_stats: (0..shards)
                .map(|_| CommandCounters::new(Label::COUNT))
                .collect(),
            error_stats: (0..shards).map(|_| Arc::default()).collect(),
            requirepass: RequirePass::new(settings.requirepass.as_deref()),
            pubsub_output_limit: SharedOutputLimit::new(settings.pubsub_output_limit),
            encodings: EncodingConfig::default(),
            settings,
        }
    }

    /// Number of shards.
    pub fn shard_count(&self) -> usize {
        self.published.len()
    }

    /// Takes a connection place if fewer than `--max-connections` are open.
    pub fn try_open_connection(&self) -> bool {
        let max = self.settings.max_connections;
        self.connections
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
                (open < max).then_some(open + 1)
            })
            .is_ok()
    }

    /// Gives a connection place back.
    pub fn close_connection(&self) {
        self.connections.fetch_sub(1, Ordering::AcqRel);
    }

    /// Keys in each database summed over all shards, with shard `me`'s
    /// live counts `own` (of the databases it has created) in place of its
    /// published ones.
    pub fn db_keys_with(&self, me: usize, own: &[u64]) -> Vec<u64> {
        let mut keys = vec![0; self.settings.databases];
        for (sum, &count) in keys.iter_mut().zip(own) {
            *sum += count;
        }
        for (id, published) in self.published.iter().enumerate() {
            if id == me {
                continue;
            }
            for (sum, count) in keys.iter_mut().zip(published.db_keys.iter()) {
                *sum += count.load(Ordering::Relaxed);
            }
        }
        keys
    }

    /// Counters summed over all shards, with shard `me`'s live counters in
    /// place of its published copy (which lags by up to one turn).
    pub fn totals_with(&self, me: usize, own: &Totals) -> Totals {
        let mut totals = Totals::sum(
            self.published
                .iter()
                .enumerate()
                .filter(|(id, _)| *id != me)
                .map(|(_, published)| published),
        );
        totals.shard.add(&own.shard);
        totals.store.add(&own.store);
        totals
    }

    /// Every shard's command counters summed, by label index.
    pub fn command_totals(&self) -> Vec<CommandStat> {
        commands::sum(&self.command_stats)
    }

    /// Every shard's error replies summed.
    pub fn error_totals(&self) -> ErrorTable {
        let mut total = ErrorTable::default();
        for shard in &self.error_stats {
            total.add(&shard.read());
        }
        total
    }

    /// Every shard's heartbeat, indexed by shard id.
    pub fn heartbeats(&self) -> &[Heartbeat] {
        &self.heartbeats
    }

    /// Records where shard `id` can be woken.
    pub fn set_wake_fd(&self, id: usize, fd: RawFd) {
        self.wake_fds[id].store(fd, Ordering::Release);
    }

    /// Asks every shard to stop, waking those that sleep.
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::Release);
        for fd in &self.wake_fds {
            let fd = fd.load(Ordering::Acquire);
            if fd >= 0 {
                let one: u64 = 1;
                // Safety: writing 8 bytes to an eventfd the shard keeps open
                // for the life of the process.
                unsafe { libc::write(fd, &one as *const u64 as *const libc::c_void, 8) };
            }
        }
    }

    /// Whether a stop was requested.
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    /// Records that a shard has closed all of its connections.
    pub fn shard_finished(&self) {
        self.finished.fetch_add(1, Ordering::AcqRel);
    }

    /// Whether every shard has closed all of its connections, so no more
    /// cross-shard work can come.
    pub fn all_finished(&self) -> bool {
        self.finished.load(Ordering::Acquire) >= self.shard_count()
    }
}
