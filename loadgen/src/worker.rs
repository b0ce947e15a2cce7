//! One worker thread: pinned to its CPU, it owns its connections and drives
//! them from one epoll instance (through mio). Its life is an optional
//! prefill phase, a barrier with the other workers, then the run: warmup,
//! the measured window, and a drain of the replies still in flight.
//!
//! Why epoll and not glommio or a raw io_uring: a load generator spends
//! most of its CPU in the kernel's loopback TCP, like the server it drives,
//! so what an event loop adds is syscall entries and wake-ups. Measured on
//! the project's 2-core VM (2026-12-02, Redis 7.0.15 on CPU 1, the client
//! on CPU 0, 50 connections, one GET in flight each, 200,000 requests, five
//! alternating rounds): `examples/glommio_probe.rs`, the same closed loop
//! with a glommio task per connection, used 12.3–15.1 µs of CPU per request
//! (median 13.0); this epoll loop 6.6–9.8 µs (median 9.1), at equal or
//! higher throughput. glommio's `TcpStream` costs a `recv` and a `send` per
//! request like epoll does, plus its executor's polling of its rings. A
//! hand-driven io_uring could batch those; the shared socket-path notes put
//! it about 10% under a plain epoll loop for a server, not enough to pay for
//! a less portable client (kernel version, memlock limits). So: one epoll
//! instance per thread (through mio) serves every ready connection; a short
//! read ends a connection's read loop without the extra `EAGAIN` read;
//! replies are decoded in place; in open loop a timerfd in the same epoll
//! set wakes the thread when the next send is due.
//!
//! Once a second the worker hands the reporter a copy of that second's
//! statistics; its measured totals go back when the thread ends.

use std::sync::mpsc::Sender;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Registry, Token};

use crate::conn::{Connection, Phase, Sinks};
use crate::plan::Plan;
use crate::stats::Stats;

/// The timer's token (connections use their index).
const TIMER: Token = Token(usize::MAX);

/// Longest sleep in `epoll_wait`, so reconnects and timeouts are looked at.
const HOUSEKEEPING: Duration = Duration::from_millis(10);

/// One second of one worker's statistics.
pub struct Interval {
    /// Seconds since the run's epoch, counting from 0.
    pub tick: u64,
    /// What happened in that second (warmup included).
    pub stats: Stats,
}

/// What a worker hands back at the end.
pub struct Outcome {
    /// Statistics of the measured window.
    pub stats: Stats,
    /// From the start of the measured window to the last reply.
    pub elapsed: Duration,
}

/// Runs worker `index` to the end of the run.
pub fn run(
    plan: &Plan,
    index: usize,
    barrier: &Barrier,
    ticks: Sender<Interval>,
) -> std::io::Result<Outcome> {
    if let Some(&cpu) = plan.cpus.get(index % plan.cpus.len().max(1)) {
        if !core_affinity::set_for_current(core_affinity::CoreId { id: cpu }) {
            eprintln!("loadgen: could not pin thread {index} to CPU {cpu}");
        }
    }
    let mut poll = match Poll::new() {
        Ok(poll) => poll,
        Err(error) => {
            // The others are waiting for every worker at the barrier.
            barrier.wait();
            return Err(error);
        }
    };
    let mut worker = Worker::new(plan, index);
    if plan.rate.is_some() {
        match Timer::new(poll.registry()) {
            Ok(timer) => worker.timer = Some(timer),
            Err(error) => {
                barrier.wait();
                return Err(error);
            }
        }
    }
    worker.run(&mut poll, barrier, &ticks)
}

struct Worker<'p> {
    plan: &'p Plan,
    /// Wakes the loop when an open-loop send is due (`--rate` only).
    timer: Option<Timer>,
    connections: Vec<Connection>,
    live: Stats,
    total: Stats,
}

impl<'p> Worker<'p> {
    fn new(plan: &'p Plan, index: usize) -> Worker<'p> {
        let lanes = plan.total_connections() as u64;
        let connections = (0..plan.connections)
            .map(|i| {
                let lane = (index * plan.connections + i) as u64;
                let addr = plan.servers[lane as usize % plan.servers.len()];
                Connection::new(plan, Token(i), addr, lane, lanes)
            })
            .collect();
        Worker {
            plan,
            timer: None,
            connections,
            live: Stats::new(),
            total: Stats::new(),
        }
    }

    fn run(
        &mut self,
        poll: &mut Poll,
        barrier: &Barrier,
        ticks: &Sender<Interval>,
    ) -> std::io::Result<Outcome> {
        let mut events = Events::with_capacity(1024);
        if self.plan.prefill {
            let now = Instant::now();
            let phase = Phase {
                prefill: true,
                epoch: now,
                measure_from: now,
                stop_at: None,
            };
            self.drive(poll, &mut events, &phase, None, None)?;
            // Prefill traffic is neither live nor measured.
            self.live = Stats::new();
            self.total = Stats::new();
        }
        barrier.wait();
        let epoch = Instant::now();
        let measure_from = epoch + self.plan.warmup;
        let stop_at = self.plan.duration.map(|d| measure_from + d);
        let phase = Phase {
            prefill: false,
            epoch,
            measure_from,
            stop_at,
        };
        let end = self.drive(
            poll,
            &mut events,
            &phase,
            Some(ticks),
            stop_at.map(|s| s + self.plan.timeout),
        )?;
        Ok(Outcome {
            stats: std::mem::take(&mut self.total),
            elapsed: end.saturating_duration_since(measure_from),
        })
    }

    /// Runs `phase` until every connection is finished or `give_up` passes;
    /// returns when it ended.
    fn drive(
        &mut self,
        poll: &mut Poll,
        events: &mut Events,
        phase: &Phase,
        ticks: Option<&Sender<Interval>>,
        give_up: Option<Instant>,
    ) -> std::io::Result<Instant> {
        let plan = self.plan;
        let mut tick = 0u64;
        let mut next_care = Instant::now();
        loop {
            let now = Instant::now();
            let mut sinks = Sinks {
                live: &mut self.live,
                total: &mut self.total,
            };
            if now >= next_care || plan.rate.is_some() {
                for connection in &mut self.connections {
                    if now >= next_care {
                        connection.housekeep(plan, poll.registry(), now, &mut sinks);
                    }
                    connection.send(plan, poll.registry(), phase, now, &mut sinks);
                }
                if now >= next_care {
                    next_care = now + HOUSEKEEPING;
                    if self.connections.iter().all(|c| c.finished(phase, now)) {
                        // The last, partial second is left out of the live
                        // lines (its rate would read low); the report has it.
                        return Ok(now);
                    }
                    if give_up.is_some_and(|at| now >= at) {
                        for connection in &mut self.connections {
                            connection.abandon(poll.registry(), &mut sinks);
                        }
                        continue;
                    }
                }
            }
            if let Some(ticks) = ticks {
                let second = now.saturating_duration_since(phase.epoch).as_secs();
                if second > tick {
                    let _ = ticks.send(Interval {
                        tick,
                        stats: std::mem::take(&mut self.live),
                    });
                    tick = second;
                }
            }
            let timeout = next_care.saturating_duration_since(now);
            if let Some(timer) = &mut self.timer {
                let due = self
                    .connections
                    .iter()
                    .filter_map(|c| c.next_due(phase, plan.pipeline))
                    .min();
                if let Some(due) = due {
                    timer.arm(due, now)?;
                }
            }
            match poll.poll(events, Some(timeout)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            let mut sinks = Sinks {
                live: &mut self.live,
                total: &mut self.total,
            };
            for event in events.iter() {
                if event.token() == TIMER {
                    if let Some(timer) = &mut self.timer {
                        timer.fired();
                    }
                } else if let Some(connection) = self.connections.get_mut(event.token().0) {
                    connection.on_event(plan, poll.registry(), phase, &mut sinks);
                }
            }
        }
    }
}

/// A timerfd in the worker's epoll set: `epoll_wait` sleeps in whole
/// milliseconds, too coarse for open-loop send times, so the loop sleeps
/// until the next send is due on this instead (to the microsecond, without
/// spinning).
struct Timer {
    fd: OwnedFd,
    /// The due time it is armed for.
    armed: Option<Instant>,
}

impl Timer {
    fn new(registry: &Registry) -> std::io::Result<Timer> {
        // SAFETY: timerfd_create takes no pointers; the result is checked.
        let fd = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: fd is a new descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        registry.register(&mut SourceFd(&fd.as_raw_fd()), TIMER, Interest::READABLE)?;
        Ok(Timer { fd, armed: None })
    }

    /// Fires once at `due` (re-arming replaces the previous time).
    fn arm(&mut self, due: Instant, now: Instant) -> std::io::Result<()> {
        if self.armed == Some(due) {
            return Ok(());
        }
        // A zero time would disarm the timer: fire as soon as possible.
        let after = due
            .saturating_duration_since(now)
            .max(Duration::from_nanos(1));
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: libc::timespec {
                tv_sec: after.as_secs() as libc::time_t,
                tv_nsec: after.subsec_nanos().into(),
            },
        };
        // SAFETY: spec outlives the call; the old value is not asked for.
        if unsafe { libc::timerfd_settime(self.fd.as_raw_fd(), 0, &spec, std::ptr::null_mut()) } < 0
        {
            return Err(std::io::Error::last_os_error());
        }
        self.armed = Some(due);
        Ok(())
    }

    /// Notes that the timer went off. Its expiry count is not read: the
    /// epoll set is edge-triggered and every expiry wakes it anew, which
    /// saves a `read` per wake-up.
    fn fired(&mut self) {
        self.armed = None;
    }
}
