//! How a shard's loop gives up the CPU: a short yield after a busy turn, a
//! sleep after an idle one, and the glommio timers that keep both from
//! losing a wake-up.
//!
//! Why the timers (measured, and read in glommio 0.9's source): glommio's
//! `need_preempt()` means "the latency ring holds an unconsumed completion",
//! and its 1 ms preemption timeout is one. When that timeout lands between
//! the run loop's `poll_io` and `run_task_queues` (the VM descheduled the
//! thread there), `run_task_queues` returns "nothing ran" without running
//! the active queues, consuming the timeout wakes nobody, and the executor
//! parks with our task runnable. It wakes again only for some I/O or timer
//! of its own. A shard that had only yielded had neither: memaslap runs hung
//! about once in a hundred 300,000-request rounds, every connection waiting
//! with its request unread. So
//! - every yield carries a [`YIELD_WATCHDOG`] timer: a lost yield costs at
//!   most that long;
//! - every sleep carries a timer that starts at [`IDLE_TICK_MIN`] after
//!   activity and doubles while the shard stays idle, up to
//!   [`IDLE_TICK_MAX`]: the wake-up that ends a sleep is lost as rarely as a
//!   yield, and then costs at most the tick, which is short exactly when
//!   traffic is flowing; an idle shard wakes about ten times a second.

use std::future::Future;
use std::io;
use std::os::fd::{FromRawFd, RawFd};
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use futures_lite::future::{or, yield_now};
use glommio::io::BufferedFile;
use glommio::timer::sleep;

use crate::shard::mesh::{InboundReady, Mesh};

/// The longest a yield waits if glommio loses it.
pub const YIELD_WATCHDOG: Duration = Duration::from_millis(1);

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

/// A shard's means of pausing: glommio's view of the ring's eventfd and the
/// idle tick.
pub struct Pause {
    /// The eventfd, read through glommio while the shard sleeps.
    wake_file: Rc<BufferedFile>,
    /// A read of the eventfd that has not completed yet (kept across sleeps
    /// so that no wake-up is consumed twice or missed).
    wake_read: Option<Pin<Box<dyn Future<Output = ()>>>>,
    idle_tick: Duration,
}

impl Pause {
    /// Watches `eventfd` (a blocking eventfd the shard's ring signals) through
    /// glommio. The descriptor is duplicated: glommio closes what it is given.
    pub fn new(eventfd: RawFd) -> io::Result<Pause> {
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
        })
    }

    /// Lets other tasks of this executor run after a busy turn.
    pub async fn yield_turn(&mut self) {
        self.idle_tick = IDLE_TICK_MIN;
        or(yield_now(), sleep(YIELD_WATCHDOG)).await;
    }

    /// Sleeps until the eventfd fires, a peer sends a message or the idle
    /// tick passes. The caller has armed the eventfd and checked that
    /// nothing is pending.
    pub async fn sleep(&mut self, mesh: &Mesh) -> Woken {
        let tick = self.idle_tick;
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
