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
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use futures_lite::future::{or, poll_fn, yield_now};
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
    /// The waker the read is registered with, once it has been polled.
    ///
    /// glommio keeps every waker a pending read is polled with (it pushes a
    /// clone per poll), and a task's waker count is an `i16`: polling a
    /// kept read once per sleep overflowed it after 32767 sleeps without a
    /// ring wake-up, which panicked the shard. So the read is polled once
    /// with this waker, and again only after it fired.
    read_wake: Option<Arc<ReadWake>>,
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
            read_wake: None,
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

    /// Makes the next sleep end within `within` (at least
    /// [`IDLE_TICK_MIN`]): something is due then (a blocked client's
    /// timeout).
    pub fn wake_within(&mut self, within: Duration) {
        self.idle_tick = self.idle_tick.min(within.max(IDLE_TICK_MIN));
    }

    /// Sleeps until the eventfd fires, a peer sends a message or the idle
    /// tick passes. The caller has armed the eventfd and checked that
    /// nothing is pending.
    pub async fn sleep(&mut self, mesh: &Mesh) -> Woken {
        self.beat();
        let tick = self.idle_tick;
        self.heartbeat().set_asleep(tick);
        let wake_file = &self.wake_file;
        if self.wake_read.is_none() {
            let file = wake_file.clone();
            self.wake_read = Some(Box::pin(async move {
                // The value only says "something happened"; an error would
                // only mean an early wake-up.
                let _ = file.read_at(0, 8).await;
            }));
            self.read_wake = None;
        }
        let (wake_read, read_wake) = (&mut self.wake_read, &mut self.read_wake);
        let woken = or(
            poll_fn(|cx| poll_read(wake_read, read_wake, cx)),
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
            Woken::Ring => self.idle_tick = IDLE_TICK_MIN,
            Woken::Mesh => self.idle_tick = IDLE_TICK_MIN,
            Woken::Tick => self.idle_tick = (tick * 2).min(IDLE_TICK_MAX),
        }
        woken
    }
}

/// Sets a flag and wakes the shard's task: the eventfd read completed.
pub struct ReadWake {
    fired: AtomicBool,
    task: Waker,
}

impl Wake for ReadWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.fired.store(true, Ordering::Release);
        self.task.wake_by_ref();
    }
}

/// Polls the eventfd read only the first time and after its waker fired
/// (see [`Pause::read_wake`]); ready, and the read gone, once it completed.
fn poll_read(
    read: &mut Option<Pin<Box<dyn Future<Output = ()>>>>,
    wake: &mut Option<Arc<ReadWake>>,
    cx: &mut Context<'_>,
) -> Poll<Woken> {
    let Some(future) = read.as_mut() else {
        return Poll::Pending;
    };
    let due = match wake {
        None => true,
        Some(wake) => wake.fired.swap(false, Ordering::AcqRel),
    };
    if !due {
        return Poll::Pending;
    }
    let wake = wake.get_or_insert_with(|| {
        Arc::new(ReadWake {
            fired: AtomicBool::new(false),
            task: cx.waker().clone(),
        })
    });
    let waker = Waker::from(wake.clone());
    match future.as_mut().poll(&mut Context::from_waker(&waker)) {
        Poll::Ready(()) => {
            *read = None;
            Poll::Ready(Woken::Ring)
        }
        Poll::Pending => Poll::Pending,
    }
}
