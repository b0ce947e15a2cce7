//! How a shard's loop gives up the CPU: a short yield after a busy turn, a
//! sleep after an idle one, and what keeps either from losing a wake-up.
//!
//! glommio 0.9 can park an executor whose task is runnable (see
//! `server::watchdog`, which explains the bug and rescues a shard from it).
//! So every yield and every sleep tells the shard's [`Heartbeat`] that the
//! loop turned, and a sleep tells it when its timer is due. That timer
//! starts at [`IDLE_TICK_MIN`] after activity and doubles while the shard
//! stays idle, up to [`IDLE_TICK_MAX`]: housekeeping runs at least that
//! often, and an idle shard wakes about ten times a second.

use std::future::Future;
use std::io;
use std::os::fd::{FromRawFd, RawFd};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use futures_lite::future::{or, yield_now};
use glommio::io::BufferedFile;
use glommio::timer::sleep;

use super::shared::Shared;
use super::watchdog::Heartbeat;
use crate::shard::mesh::{InboundReady, Mesh};

/// The first idle tick after activity.
pub const IDLE_TICK_MIN: Duration = Duration::from_millis(1);

/// The idle tick of a shard that has been idle for a while; also how often
/// an idle shard looks at its housekeeping (accept retries after running out
/// of descriptors).
pub const IDLE_TICK_MAX: Duration = Duration::from_millis(100);

/// What ended a sleep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Woken {
    /// The ring's eventfd: the kernel has completions for us.
    Ring,
    /// A message from another shard.
    Mesh,
    /// The idle tick.
    Tick,
}

/// A shard's means of pausing: glommio's view of the ring's eventfd, the
/// idle tick and the shard's heartbeat.
pub struct Pause {
    /// The eventfd, read through glommio while the shard sleeps.
    wake_file: Rc<BufferedFile>,
    /// A read of the eventfd that has not completed yet (kept across sleeps
    /// so that no wake-up is consumed twice or missed).
    wake_read: Option<Pin<Box<dyn Future<Output = ()>>>>,
    idle_tick: Duration,
    shared: Arc<Shared>,
    shard: usize,
    /// Turns completed, as the heartbeat publishes them.
    turns: u64,
}

impl Pause {
    /// Watches `eventfd` (a blocking eventfd the shard's ring signals) through
    /// glommio, for shard `shard`. The descriptor is duplicated: glommio
    /// closes what it is given.
    pub fn new(eventfd: RawFd, shared: Arc<Shared>, shard: usize) -> io::Result<Pause> {
        // Safety: duplicating a descriptor we own; the copy is ours.
        let dup = unsafe { libc::fcntl(eventfd, libc::F_DUPFD_CLOEXEC, 0) };
        if dup < 0 {
            return Err(io::Error::last_os_error());
        }
        // Safety: `dup` is a fresh descriptor nothing else owns.
        let wake_file = Rc::new(unsafe { BufferedFile::from_raw_fd(dup) });
        Ok(Pause {
            wake_file,
            wake_read: None,
            idle_tick: IDLE_TICK_MIN,
            shared,
            shard,
            turns: 0,
        })
    }

    fn heartbeat(&self) -> &Heartbeat {
        &self.shared.heartbeats()[self.shard]
    }

    /// Publishes one more completed turn.
    fn beat(&mut self) {
        self.turns += 1;
        let turns = self.turns;
        self.heartbeat().beat(turns);
    }

    /// Lets other tasks of this executor run after a busy turn.
    pub async fn yield_turn(&mut self) {
        self.beat();
        self.idle_tick = IDLE_TICK_MIN;
        yield_now().await;
    }

    /// Sleeps until the eventfd fires, a peer sends a message or the idle
    /// tick passes. The caller has armed the eventfd and checked that
    /// nothing is pending.
    pub async fn sleep(&mut self, mesh: &Mesh) -> Woken {
        self.beat();
        let tick = self.idle_tick;
        self.heartbeat().set_asleep(tick);
        let wake_file = &self.wake_file;
        let wake_read = self.wake_read.get_or_insert_with(|| {
            let file = wake_file.clone();
            Box::pin(async move {
                // The value only says "something happened"; an error would
                // only mean an early wake-up.
                let _ = file.read_at(0, 8).await;
            })
        });
        let woken = or(
            async {
                wake_read.await;
                Woken::Ring
            },
            or(
                async {
                    InboundReady(mesh).await;
                    Woken::Mesh
                },
                async {
                    sleep(tick).await;
                    Woken::Tick
                },
            ),
        )
        .await;
        self.heartbeat().set_awake();
        match woken {
            Woken::Ring => {
                self.wake_read = None;
                self.idle_tick = IDLE_TICK_MIN;
            }
            Woken::Mesh => self.idle_tick = IDLE_TICK_MIN,
            Woken::Tick => self.idle_tick = (tick * 2).min(IDLE_TICK_MAX),
        }
        woken
    }
}
