//! One client connection as a state machine: idle (waiting to reconnect),
//! connecting, ready, or given up. A ready connection keeps up to
//! `--pipeline` requests in flight; it encodes requests into one reusable
//! output buffer, reads into one reusable input buffer and remembers what it
//! is waiting for in a ring of fixed capacity, so once its buffers have
//! grown to the workload's size it allocates nothing per request.
//!
//! Replies are matched to requests in order (both protocols answer in
//! order). A closed connection, a malformed reply or a request unanswered
//! for `--timeout` resets the connection: its in-flight requests are counted
//! as dropped and it reconnects after a short pause. The connection owns no
//! clock and no event loop; its worker passes `now` and drives it from
//! readiness events.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::ops::Range;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Interest, Registry, Token};

use crate::plan::Plan;
use crate::protocol::{resp, OpKind, Parse, Protocol};
use crate::schedule::Schedule;
use crate::stats::Stats;
use crate::workload::Chooser;

/// Pause before reconnecting after a failure.
const RECONNECT_PAUSE: Duration = Duration::from_millis(100);

/// Consecutive failed connection attempts after which a connection stops
/// trying (so a run against a dead server ends).
const MAX_CONNECT_FAILURES: u32 = 20;

/// Initial size of the input buffer (it grows for larger replies).
const INPUT_SIZE: usize = 64 * 1024;

/// Where a connection is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Not connected; try again at this time.
    Idle(Instant),
    /// A connect is under way since this time.
    Connecting(Instant),
    /// Connected.
    Ready,
    /// Given up after too many failed attempts.
    Dead,
}

/// A request waiting for its reply.
#[derive(Debug, Clone, Copy)]
struct Pending {
    op: OpKind,
    keys: u32,
    /// Latency is measured from here: the intended send time in open loop,
    /// the actual one in closed loop.
    start: Instant,
    /// When the request was written (timeouts count from here).
    sent: Instant,
    /// Whether it belongs to the measured window.
    measured: bool,
}

/// Where the worker is in the run, as a connection needs to know it.
#[derive(Debug, Clone, Copy)]
pub struct Phase {
    /// Setting every key once (`--prefill`): send only prefill sets.
    pub prefill: bool,
    /// Time zero of the run (open-loop schedules count from here).
    pub epoch: Instant,
    /// Requests meant to be sent from here on are measured.
    pub measure_from: Instant,
    /// No request meant to be sent from here on is sent (timed runs).
    pub stop_at: Option<Instant>,
}

/// Statistics a connection records into: everything for the live line,
/// and the measured window for the report.
pub struct Sinks<'a> {
    /// This second's statistics, warmup included.
    pub live: &'a mut Stats,
    /// The measured window's statistics.
    pub total: &'a mut Stats,
}

impl Sinks<'_> {
    fn count(&mut self, measured: bool, mut f: impl FnMut(&mut Stats)) {
        f(self.live);
        if measured {
            f(self.total);
        }
    }
}

/// One client connection.
pub struct Connection {
    token: Token,
    addr: SocketAddr,
    stream: Option<TcpStream>,
    state: State,
    failures: u32,
    output: Vec<u8>,
    written: usize,
    input: Vec<u8>,
    read_from: usize,
    filled: usize,
    inflight: VecDeque<Pending>,
    awaiting_hello: bool,
    chooser: Chooser,
    schedule: Option<Schedule>,
    /// Measured requests this connection may still send (counted runs).
    budget: Option<u64>,
    /// Keys this connection still has to set in the prefill phase.
    prefill: Range<u64>,
    /// The keys of the request being encoded.
    keys: Vec<u8>,
}

impl Connection {
    /// A connection to `addr`, not yet started. `lane`/`lanes` place it
    /// among all the run's connections (key interleaving, budget and
    /// prefill shares, RNG seed).
    pub fn new(plan: &Plan, token: Token, addr: SocketAddr, lane: u64, lanes: u64) -> Connection {
        let share = |total: u64| total / lanes + u64::from(lane < total % lanes);
        let first = |total: u64| lane * (total / lanes) + lane.min(total % lanes);
        let seed = plan.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ lane;
        let chooser = Chooser::new(
            plan.keys.count,
            plan.distribution,
            plan.ratio,
            plan.value_size,
            lane,
            lanes,
            seed,
        );
        let schedule = plan
            .rate
            .map(|rate| Schedule::new(rate / lanes as f64, plan.arrival, seed ^ 0x5CED));
        let prefill = if plan.prefill {
            let start = first(plan.keys.count);
            start..start + share(plan.keys.count)
        } else {
            0..0
        };
        Connection {
            token,
            addr,
            stream: None,
            state: State::Idle(Instant::now()),
            failures: 0,
            output: Vec::with_capacity(plan.pipeline * (64 + plan.value_size.max)),
            written: 0,
            input: vec![0; INPUT_SIZE],
            read_from: 0,
            filled: 0,
            inflight: VecDeque::with_capacity(plan.pipeline),
            awaiting_hello: false,
            chooser,
            schedule,
            budget: plan.requests.map(share),
            prefill,
            keys: Vec::with_capacity(plan.keys.size * plan.multiget),
        }
    }

    /// Whether this connection has nothing more to do in `phase`: nothing
    /// in flight and nothing left to send (or it gave up).
    pub fn finished(&self, phase: &Phase, now: Instant) -> bool {
        if self.state == State::Dead {
            return true;
        }
        if !self.inflight.is_empty() {
            return false;
        }
        if phase.prefill {
            return self.prefill.is_empty();
        }
        self.budget == Some(0) || phase.stop_at.is_some_and(|stop| now >= stop)
    }

    /// When this open-loop connection next wants to send, if it could.
    pub fn next_due(&self, phase: &Phase, pipeline: usize) -> Option<Instant> {
        let schedule = self.schedule.as_ref()?;
        (self.state == State::Ready && !phase.prefill && self.inflight.len() < pipeline)
            .then(|| phase.epoch + schedule.due())
    }

    /// Periodic care: reconnect when due, reset on timeout.
    pub fn housekeep(&mut self, plan: &Plan, registry: &Registry, now: Instant, sinks: &mut Sinks) {
        match self.state {
            State::Idle(at) if now >= at => self.connect(registry, now, sinks),
            State::Connecting(since) if now.duration_since(since) > plan.timeout => {
                self.fail_connect(registry, now, sinks);
            }
            State::Ready => {
                if let Some(oldest) = self.inflight.front() {
                    if now.duration_since(oldest.sent) > plan.timeout {
                        let measured = self.inflight.iter().filter(|p| p.measured).count();
                        sinks.live.counters.timeouts += self.inflight.len() as u64;
                        sinks.total.counters.timeouts += measured as u64;
                        self.reset(registry, now, sinks);
                    }
                }
            }
            _ => {}
        }
    }

    /// Handles a readiness event: finishes a connect, reads and decodes
    /// replies, then sends what the workload allows.
    pub fn on_event(&mut self, plan: &Plan, registry: &Registry, phase: &Phase, sinks: &mut Sinks) {
        let now = Instant::now();
        if let State::Connecting(_) = self.state {
            match self.connected() {
                Ok(true) => {
                    self.state = State::Ready;
                    self.failures = 0;
                    if plan.protocol == Protocol::Resp && plan.resp3 {
                        self.output.extend_from_slice(resp::HELLO3);
                        self.awaiting_hello = true;
                    }
                }
                Ok(false) => return,
                Err(_) => return self.fail_connect(registry, now, sinks),
            }
        }
        if self.state != State::Ready {
            return;
        }
        if let Err(_broken) = self.read(plan, now, sinks) {
            return self.reset(registry, now, sinks);
        }
        self.send(plan, registry, phase, now, sinks);
    }

    /// Encodes what the workload allows now and writes it.
    pub fn send(
        &mut self,
        plan: &Plan,
        registry: &Registry,
        phase: &Phase,
        now: Instant,
        sinks: &mut Sinks,
    ) {
        if self.state != State::Ready {
            return;
        }
        while self.inflight.len() < plan.pipeline && self.encode_next(plan, phase, now, sinks) {}
        if let Err(_broken) = self.flush(sinks) {
            self.reset(registry, now, sinks);
        }
    }

    /// Encodes one request if one is due; false when none is.
    fn encode_next(&mut self, plan: &Plan, phase: &Phase, now: Instant, sinks: &mut Sinks) -> bool {
        if phase.prefill {
            let Some(key) = self.prefill.next() else {
                return false;
            };
            self.keys.clear();
            plan.keys.write(key, &mut self.keys);
            let size = self.chooser.value_size();
            plan.protocol
                .encode_set(&mut self.output, &self.keys, &plan.value[..size], plan.ttl);
            self.push(OpKind::Set, 1, now, now, false, sinks);
            return true;
        }
        if self.budget == Some(0) {
            return false;
        }
        let start = match &self.schedule {
            Some(schedule) => {
                let due = phase.epoch + schedule.due();
                if due > now {
                    return false;
                }
                due
            }
            None => now,
        };
        if phase.stop_at.is_some_and(|stop| start >= stop) {
            return false;
        }
        if let Some(schedule) = &mut self.schedule {
            schedule.advance();
        }
        let measured = start >= phase.measure_from;
        if measured {
            if let Some(budget) = &mut self.budget {
                *budget -= 1;
            }
        }
        let op = self.chooser.op();
        self.keys.clear();
        match op {
            OpKind::Get => {
                for _ in 0..plan.multiget {
                    let key = self.chooser.key();
                    plan.keys.write(key, &mut self.keys);
                }
                let keys = self.keys.chunks(plan.keys.size);
                plan.protocol.encode_get(&mut self.output, keys);
                self.push(op, plan.multiget as u32, start, now, measured, sinks);
            }
            OpKind::Set => {
                let key = self.chooser.key();
                plan.keys.write(key, &mut self.keys);
                let size = self.chooser.value_size();
                plan.protocol.encode_set(
                    &mut self.output,
                    &self.keys,
                    &plan.value[..size],
                    plan.ttl,
                );
                self.push(op, 1, start, now, measured, sinks);
            }
        }
        true
    }

    fn push(
        &mut self,
        op: OpKind,
        keys: u32,
        start: Instant,
        sent: Instant,
        measured: bool,
        sinks: &mut Sinks,
    ) {
        self.inflight.push_back(Pending {
            op,
            keys,
            start,
            sent,
            measured,
        });
        sinks.count(measured, |s| s.counters.sent += 1);
    }

    /// Writes the output buffer until it is empty or the socket is full.
    fn flush(&mut self, sinks: &mut Sinks) -> io::Result<()> {
        let Some(stream) = &mut self.stream else {
            return Ok(());
        };
        while self.written < self.output.len() {
            match stream.write(&self.output[self.written..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.written += n;
                    sinks.live.counters.bytes_sent += n as u64;
                    sinks.total.counters.bytes_sent += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.output.clear();
        self.written = 0;
        Ok(())
    }

    /// Reads until the socket is drained, decoding replies as they come.
    fn read(&mut self, plan: &Plan, now: Instant, sinks: &mut Sinks) -> io::Result<()> {
        loop {
            if self.filled == self.input.len() {
                if self.read_from > 0 {
                    self.input.copy_within(self.read_from..self.filled, 0);
                    self.filled -= self.read_from;
                    self.read_from = 0;
                } else {
                    self.input.resize(self.input.len() * 2, 0);
                }
            }
            let Some(stream) = &mut self.stream else {
                return Ok(());
            };
            let space = self.input.len() - self.filled;
            match stream.read(&mut self.input[self.filled..]) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => {
                    self.filled += n;
                    sinks.live.counters.bytes_received += n as u64;
                    sinks.total.counters.bytes_received += n as u64;
                    self.decode(plan, now, sinks)?;
                    // A short read emptied the socket: mio's readiness is
                    // edge-triggered, so new bytes bring a new event, and a
                    // read that would only say "would block" is saved.
                    if n < space {
                        return Ok(());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Decodes every whole reply in the input buffer.
    fn decode(&mut self, plan: &Plan, now: Instant, sinks: &mut Sinks) -> io::Result<()> {
        let malformed = |_| io::Error::new(io::ErrorKind::InvalidData, "malformed reply");
        loop {
            let bytes = &self.input[self.read_from..self.filled];
            if bytes.is_empty() {
                break;
            }
            if self.awaiting_hello {
                // A RESP2-only server refuses HELLO with an error; the
                // replies after it are RESP2, which the decoder reads too.
                match resp::skip(bytes).map_err(malformed)? {
                    None => break,
                    Some(len) => {
                        if bytes[0] == b'-' {
                            sinks.count(true, |s| s.counters.errors += 1);
                        }
                        self.read_from += len;
                        self.awaiting_hello = false;
                        continue;
                    }
                }
            }
            let Some(pending) = self.inflight.front().copied() else {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "reply to no request",
                ));
            };
            match plan
                .protocol
                .parse(bytes, pending.op, pending.keys)
                .map_err(malformed)?
            {
                Parse::Incomplete => break,
                Parse::Done { len, reply } => {
                    self.read_from += len;
                    self.inflight.pop_front();
                    let latency = now.saturating_duration_since(pending.start).as_nanos() as u64;
                    sinks.live.record(pending.op, latency, reply);
                    if pending.measured {
                        sinks.total.record(pending.op, latency, reply);
                    }
                }
            }
        }
        if self.read_from == self.filled {
            self.read_from = 0;
            self.filled = 0;
        }
        Ok(())
    }

    /// Starts a non-blocking connect.
    fn connect(&mut self, registry: &Registry, now: Instant, sinks: &mut Sinks) {
        match TcpStream::connect(self.addr) {
            Ok(mut stream) => {
                let interest = Interest::READABLE | Interest::WRITABLE;
                if registry
                    .register(&mut stream, self.token, interest)
                    .is_err()
                {
                    return self.fail_connect(registry, now, sinks);
                }
                self.stream = Some(stream);
                self.state = State::Connecting(now);
            }
            Err(_) => self.fail_connect(registry, now, sinks),
        }
    }

    /// Whether the connect under way has completed.
    fn connected(&mut self) -> io::Result<bool> {
        let Some(stream) = &self.stream else {
            return Err(io::ErrorKind::NotConnected.into());
        };
        if let Some(error) = stream.take_error()? {
            return Err(error);
        }
        match stream.peer_addr() {
            Ok(_) => {
                stream.set_nodelay(true)?;
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn fail_connect(&mut self, registry: &Registry, now: Instant, sinks: &mut Sinks) {
        sinks.count(true, |s| s.counters.errors += 1);
        self.close(registry);
        self.failures += 1;
        self.state = if self.failures >= MAX_CONNECT_FAILURES {
            State::Dead
        } else {
            State::Idle(now + RECONNECT_PAUSE)
        };
    }

    /// Drops the connection and what it had in flight, and schedules a
    /// reconnect.
    fn reset(&mut self, registry: &Registry, now: Instant, sinks: &mut Sinks) {
        for pending in self.inflight.drain(..) {
            sinks.count(pending.measured, |s| s.counters.dropped += 1);
        }
        sinks.count(true, |s| s.counters.reconnects += 1);
        self.close(registry);
        self.state = State::Idle(now + RECONNECT_PAUSE);
    }

    /// Abandons what is still in flight at the end of the run.
    pub fn abandon(&mut self, registry: &Registry, sinks: &mut Sinks) {
        for pending in self.inflight.drain(..) {
            sinks.count(pending.measured, |s| s.counters.dropped += 1);
        }
        self.close(registry);
        self.state = State::Dead;
    }

    fn close(&mut self, registry: &Registry) {
        if let Some(mut stream) = self.stream.take() {
            let _ = registry.deregister(&mut stream);
        }
        self.output.clear();
        self.written = 0;
        self.read_from = 0;
        self.filled = 0;
        self.awaiting_hello = false;
    }
}
