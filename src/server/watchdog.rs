//! The liveness watchdog: a thread that wakes any busy shard whose loop has
//! stopped turning.
//!
//! Why (measured, and read in glommio 0.9's source): glommio's
//! `need_preempt()` means "the latency ring holds an unconsumed completion",
//! and its preemption timeout is one. When that timeout lands between the
//! run loop's `poll_io` and `run_task_queues` (the thread was descheduled
//! there), `run_task_queues` returns "nothing ran" without running the
//! active queues, and the executor parks with our task runnable. It wakes
//! again only for some glommio I/O or timer. A shard that had only yielded
//! has neither: memaslap rounds hung (about one in a hundred, and within
//! twenty with a busy loop sharing the shard's CPU). glommio timers do not
//! close the hole: any timer can be the one whose expiry the parking
//! executor consumed just before (a watchdog *task* with a 1 ms timer still
//! hung, once in ~15 rounds of 1.5 million multi-gets).
//!
//! A wake from another thread always reaches a parked executor (glommio
//! queues it and writes the executor's eventfd). So each shard publishes a
//! [`Heartbeat`]: a turn counter, until when it sleeps, and its task's
//! waker. Every [`PERIOD_BUSY`] this thread looks at each shard; one whose
//! counter has not moved since the last look gets a wake, unless it sleeps
//! and its sleep's timer is not yet [`OVERDUE`]. (The timer that ends a
//! sleep is no safer than any other: a shard hung, marked asleep, after its
//! timer had fired and glommio parked before running it.) A lost wake-up
//! then costs a few milliseconds, and a spurious wake (a shard in one very
//! long turn) one extra poll.
//!
//! A wake is not always enough: under heavy load (a load average of 10 on
//! two cores) shards were seen parked in glommio's ring wait for minutes,
//! woken many times over, until a debugger's attach interrupted the wait,
//! after which they ran on. So a shard still stuck at the next look also
//! gets a *kick*: a signal ([`kick_signal`], with a handler that does
//! nothing, installed without `SA_RESTART`) that makes its blocking
//! `io_uring_enter` return `EINTR`, which glommio and our ring treat as
//! "look again".
//!
//! The thread starts before the executors: a
//! shard joining the channel mesh beats its heartbeat from the join's 1 ms
//! ticker (a 3-shard start-up hung there, the ticker's timer consumed, once
//! in about 20 test runs). While every shard sleeps, the period doubles
//! up to [`PERIOD_IDLE`], so an idle server wakes this thread ten times a
//! second.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::Waker;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::shared::Shared;

/// How often the watchdog looks while some shard is busy.
pub const PERIOD_BUSY: Duration = Duration::from_millis(2);

/// The longest period, reached while every shard sleeps.
pub const PERIOD_IDLE: Duration = Duration::from_millis(100);

/// How late a sleeping shard's timer may be before the shard gets a wake.
pub const OVERDUE: Duration = Duration::from_millis(5);

/// Milliseconds on a monotonic clock both sides of a heartbeat read.
fn monotonic_millis() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_millis() as u64
}

/// What one shard tells the watchdog. Aligned to its own cache lines: the
/// shard writes it every turn.
#[repr(align(128))]
#[derive(Default)]
pub struct Heartbeat {
    /// Turns the shard's loop has completed.
    turns: AtomicU64,
    /// While the shard sleeps: when its sleep's timer fires
    /// ([`monotonic_millis`], plus one so that it is never zero); zero
    /// while it runs or yields.
    asleep_until: AtomicU64,
    /// The shard's task.
    waker: OnceLock<Waker>,
    /// Wakes the watchdog sent this shard.
    rescues: AtomicU64,
    /// The shard's thread (its Linux thread id), for kicks; 0 until known.
    thread: AtomicI64,
    /// Kicks the watchdog sent this shard.
    kicks: AtomicU64,
    /// Cleared while the shard runs code that a kick's `EINTR` could fail.
    no_kicks: AtomicBool,
}

impl Heartbeat {
    /// Records the waker of the shard's task (once, as its executor starts).
    pub fn register(&self, waker: Waker) {
        let _ = self.waker.set(waker);
    }

    /// Records the calling thread as the shard's (once, as its executor
    /// starts), so that the watchdog can kick it.
    pub fn register_thread(&self) {
        // Safety: gettid has no preconditions.
        let tid = unsafe { libc::gettid() };
        self.thread.store(i64::from(tid), Ordering::Relaxed);
    }

    /// Allows kicks, or holds them off while the shard sets up.
    pub fn set_kickable(&self, kickable: bool) {
        self.no_kicks.store(!kickable, Ordering::Relaxed);
    }

    /// Kicks the watchdog has sent this shard since start.
    pub fn kicks(&self) -> u64 {
        self.kicks.load(Ordering::Relaxed)
    }

    /// Interrupts whatever blocking call shard `shard`'s thread is in.
    ///
    /// A shard whose task never ran has not told its thread id (glommio
    /// polls the task, which registers it, only once it runs — and can park
    /// before that). Its threads are then found by name: glommio names them
    /// `shard-<shard>-<executor id>` (the executor's and its blocking
    /// pool's; a kick is harmless to the latter).
    fn kick(&self, shard: usize) {
        if self.no_kicks.load(Ordering::Relaxed) {
            return;
        }
        let tid = self.thread.load(Ordering::Relaxed);
        let threads = if tid != 0 {
            vec![tid]
        } else {
            threads_named(&format!("shard-{shard}-"))
        };
        for tid in threads {
            self.kicks.fetch_add(1, Ordering::Relaxed);
            // Safety: tgkill with our own process id and a thread of ours;
            // the signal's handler does nothing.
            unsafe {
                libc::syscall(libc::SYS_tgkill, libc::getpid(), tid, kick_signal());
            }
        }
    }

    /// Records a completed turn; `turns` counts them.
    pub fn beat(&self, turns: u64) {
        self.turns.store(turns, Ordering::Relaxed);
    }

    /// Records that the shard goes to sleep with a timer of `tick`.
    pub fn set_asleep(&self, tick: Duration) {
        let until = monotonic_millis() + tick.as_millis() as u64 + 1;
        self.asleep_until.store(until, Ordering::Relaxed);
    }

    /// Records that the shard's sleep ended.
    pub fn set_awake(&self) {
        self.asleep_until.store(0, Ordering::Relaxed);
    }

    /// Wakes the watchdog has sent this shard since start.
    pub fn rescues(&self) -> u64 {
        self.rescues.load(Ordering::Relaxed)
    }
}

/// The ids of this process's threads whose name starts with `prefix`.
fn threads_named(prefix: &str) -> Vec<i64> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter(|task| {
            std::fs::read_to_string(task.path().join("comm"))
                .is_ok_and(|name| name.starts_with(prefix))
        })
        .filter_map(|task| task.file_name().to_str()?.parse().ok())
        .collect()
}

/// The signal that kicks a shard: a real-time one nothing else uses.
pub fn kick_signal() -> libc::c_int {
    libc::SIGRTMIN() + 3
}

/// Does nothing: receiving the signal is the point.
extern "C" fn on_kick(_signal: libc::c_int) {}

/// Installs the kick's handler, without `SA_RESTART` so that a blocking
/// wait returns `EINTR`.
fn install_kick_handler() -> std::io::Result<()> {
    // Safety: a zeroed sigaction is valid; the handler is async-signal-safe
    // (it does nothing).
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_kick as extern "C" fn(libc::c_int) as usize;
        action.sa_flags = 0;
        libc::sigemptyset(&mut action.sa_mask);
        if libc::sigaction(kick_signal(), &action, std::ptr::null_mut()) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Starts the watchdog thread (after installing the kick's handler); it
/// ends once every shard has finished.
pub fn spawn(shared: Arc<Shared>) -> std::io::Result<JoinHandle<()>> {
    install_kick_handler()?;
    std::thread::Builder::new()
        .name("watchdog".into())
        .spawn(move || watch(&shared))
}

fn watch(shared: &Shared) {
    let heartbeats = shared.heartbeats();
    let mut last_seen = vec![Seen::default(); heartbeats.len()];
    let mut period = PERIOD_BUSY;
    while !shared.all_finished() {
        std::thread::sleep(period);
        let now = monotonic_millis();
        let mut any_busy = false;
        for (shard, (heartbeat, seen)) in heartbeats.iter().zip(last_seen.iter_mut()).enumerate() {
            any_busy |= look(heartbeat, shard, seen, now);
        }
        period = if any_busy {
            PERIOD_BUSY
        } else {
            (period * 2).min(PERIOD_IDLE)
        };
    }
}

/// What the watchdog saw of a shard at its last look.
#[derive(Debug, Clone, Copy)]
struct Seen {
    turns: u64,
    /// Consecutive looks that found it stuck.
    stuck_looks: u32,
}

impl Default for Seen {
    fn default() -> Seen {
        Seen {
            turns: u64::MAX,
            stuck_looks: 0,
        }
    }
}

/// One look at one shard at `now` ([`monotonic_millis`]): wakes it if it
/// has not turned since the last look (`seen`) and does not sleep with a
/// timer that is still due, and kicks it too if it was stuck at the look
/// before. Returns whether the shard counts as busy (it runs, or its sleep
/// is overdue).
fn look(heartbeat: &Heartbeat, shard: usize, seen: &mut Seen, now: u64) -> bool {
    let turns = heartbeat.turns.load(Ordering::Relaxed);
    let stuck = turns == seen.turns;
    seen.turns = turns;
    let asleep_until = heartbeat.asleep_until.load(Ordering::Relaxed);
    if asleep_until != 0 && now <= asleep_until + OVERDUE.as_millis() as u64 {
        seen.stuck_looks = 0;
        return false;
    }
    if !stuck {
        seen.stuck_looks = 0;
        return true;
    }
    seen.stuck_looks += 1;
    if let Some(waker) = heartbeat.waker.get() {
        heartbeat.rescues.fetch_add(1, Ordering::Relaxed);
        waker.wake_by_ref();
    }
    if seen.stuck_looks >= 2 {
        heartbeat.kick(shard);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Wake;

    /// Counts how often it is woken.
    #[derive(Default)]
    struct CountingWaker(AtomicU64);

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn wakes_a_shard_that_stopped_turning_unless_it_sleeps_on_time() {
        let counter = Arc::new(CountingWaker::default());
        let wakes = || counter.0.load(Ordering::Relaxed);
        let heartbeat = Heartbeat::default();
        heartbeat.register(Waker::from(counter.clone()));
        let mut last = Seen::default();
        let now = monotonic_millis();
        // Turning: no wake.
        for turn in 1..5 {
            heartbeat.beat(turn);
            assert!(look(&heartbeat, 0, &mut last, now));
        }
        assert_eq!(wakes(), 0);
        // Stuck while busy: a wake per look, and a kick from the second.
        install_kick_handler().unwrap();
        heartbeat.register_thread();
        assert!(look(&heartbeat, 0, &mut last, now));
        assert_eq!(heartbeat.kicks(), 0);
        assert!(look(&heartbeat, 0, &mut last, now));
        assert_eq!(wakes(), 2);
        assert_eq!(heartbeat.rescues(), 2);
        assert_eq!(heartbeat.kicks(), 1, "this thread got the signal and lives");
        // Asleep with a timer 100 ms out: idle, no wake until it is overdue.
        heartbeat.set_asleep(Duration::from_millis(100));
        assert!(!look(&heartbeat, 0, &mut last, now));
        assert!(!look(&heartbeat, 0, &mut last, now + 100));
        assert_eq!(wakes(), 2);
        assert!(look(&heartbeat, 0, &mut last, now + 200));
        assert_eq!(wakes(), 3);
        // Awake again and turning: no wake.
        heartbeat.set_awake();
        heartbeat.beat(5);
        assert!(look(&heartbeat, 0, &mut last, now + 200));
        assert_eq!(wakes(), 3);
        // The overdue look was the first stuck one since the sleep: no kick.
        assert_eq!(heartbeat.kicks(), 1);
    }
}
