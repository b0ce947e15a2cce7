//! One client connection as its shard sees it: the socket, the bytes that
//! arrived but were not yet parsed, the replies not yet sent, and where it is
//! in its life (reading, paused, closing).
//!
//! The connection owns no I/O: the shard's loop submits its receives and
//! sends to the ring and reports completions back through these methods.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use super::listener::Protocol;
use super::output::Output;
use super::resp::RespConnection;

/// Backlog of unsent replies above which a connection's further input is
/// left unparsed until the client reads (a client that pipelines without
/// reading must not make the server buffer without bound).
pub const OUTPUT_HIGH_WATER: usize = 1 << 20;

/// Replies awaited from other shards above which further input waits.
pub const AWAITED_HIGH_WATER: usize = 4096;

/// Unparsed input above which a paused connection's receive is cancelled, so
/// the kernel's socket buffer and TCP flow control hold the client back.
pub const INPUT_HIGH_WATER: usize = 256 * 1024;

/// Most input bytes one connection may have parsed in one turn; the rest
/// waits for the next turn so one client cannot starve the others.
pub const INPUT_BUDGET_PER_TURN: usize = 256 * 1024;

/// Where a connection is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Reading and answering requests.
    Open,
    /// No more requests will be read; close once the replies are out
    /// (`quit`, end of input, server stopping).
    Closing,
    /// The peer is gone or misbehaved: replies are dropped; close as soon as
    /// no operation is in flight.
    Aborting,
}

/// A client connection.
pub struct Connection {
    fd: OwnedFd,
    /// Distinguishes this connection from earlier ones in the same slot.
    pub generation: u32,
    pub protocol: Protocol,
    pub phase: Phase,
    /// Bytes received and not yet parsed (a partial request, or input held
    /// back while replies drain).
    pub input: Vec<u8>,
    /// The held input ends in an incomplete request: parse again only when
    /// more bytes arrive.
    pub input_needs_more: bool,
    /// Bytes still to discard from the input (the data block of a request
    /// refused before it arrived).
    pub swallow: usize,
    /// Replies in request order.
    pub output: Output,
    /// A multishot receive is armed.
    pub recv_armed: bool,
    /// The receive was cancelled to hold a flooding client back.
    pub recv_paused: bool,
    /// A cancellation of the receive is in flight.
    pub cancel_in_flight: bool,
    /// The peer closed its side (or the socket failed): no more input.
    pub read_closed: bool,
    /// `shutdown(2)` was called to end the armed receive before closing.
    pub shut_down: bool,
    /// Queued on the shard's list of connections with input to parse.
    pub queued_for_input: bool,
    /// Queued on the shard's list of connections with replies to send.
    pub queued_for_send: bool,
    /// The millisecond in which bytes last arrived (`server::coalesce`).
    pub last_active_ms: u64,
    /// A cross-shard transaction of this connection is running: its next
    /// requests wait for it (`server::txn`).
    pub waiting_txn: bool,
    /// A blocking pop of this connection waits on this shard: its next
    /// requests wait for the reply (`server::blocking`).
    pub blocked_on: Option<crate::shard::ShardId>,
    /// The RESP session and parser state (RESP connections only; taken out
    /// while a request runs).
    pub resp: Option<Box<RespConnection>>,
}

impl Connection {
    /// A newly accepted connection.
    pub fn new(fd: OwnedFd, generation: u32, protocol: Protocol) -> Connection {
        Connection {
            fd,
            generation,
            protocol,
            phase: Phase::Open,
            input: Vec::new(),
            input_needs_more: false,
            swallow: 0,
            output: Output::default(),
            recv_armed: false,
            recv_paused: false,
            cancel_in_flight: false,
            read_closed: false,
            shut_down: false,
            queued_for_input: false,
            queued_for_send: false,
            last_active_ms: u64::MAX,
            waiting_txn: false,
            blocked_on: None,
            resp: (protocol == Protocol::Resp).then(|| Box::new(RespConnection::new())),
        }
    }

    /// The socket.
    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Whether requests may be parsed now.
    pub fn accepts_requests(&self) -> bool {
        self.phase == Phase::Open
    }

    /// Whether replies must wait for the client to read before more input is
    /// parsed.
    pub fn is_backed_up(&self) -> bool {
        self.output.backlog() > OUTPUT_HIGH_WATER || self.output.awaited() > AWAITED_HIGH_WATER
    }

    /// Whether held input can be parsed now.
    pub fn has_parsable_input(&self) -> bool {
        self.accepts_requests()
            && !self.waiting_txn
            && self.blocked_on.is_none()
            && !self.input.is_empty()
            && !self.input_needs_more
            && !self.is_backed_up()
    }

    /// Whether the receive should be armed now.
    pub fn wants_recv(&self) -> bool {
        !self.recv_armed
            && !self.cancel_in_flight
            && !self.read_closed
            && self.phase == Phase::Open
            && !self.recv_paused
    }

    /// Whether the receive should be cancelled to hold the client back.
    pub fn should_pause_recv(&self) -> bool {
        self.recv_armed
            && !self.cancel_in_flight
            && self.is_backed_up()
            && self.input.len() > INPUT_HIGH_WATER
    }

    /// Starts closing after the replies already computed are sent.
    pub fn close_after_replies(&mut self) {
        if self.phase == Phase::Open {
            self.phase = Phase::Closing;
        }
    }

    /// Drops pending replies and closes as soon as possible.
    pub fn abort(&mut self) {
        self.phase = Phase::Aborting;
        self.output.discard();
        self.input = Vec::new();
    }

    /// Whether the connection is done and only waits for its in-flight
    /// operations before the socket can be closed.
    pub fn is_finished(&self) -> bool {
        match self.phase {
            Phase::Open => false,
            Phase::Closing => self.output.is_drained(),
            Phase::Aborting => true,
        }
    }

    /// Whether no operation on the socket is in flight, so the slot can be
    /// freed and the descriptor closed.
    pub fn is_idle(&self) -> bool {
        !self.recv_armed && !self.cancel_in_flight && !self.output.is_sending()
    }

    /// Ends an armed multishot receive: only `shutdown(2)` does (a plain
    /// `close` leaves it armed, since the ring holds a file reference).
    pub fn shut_down(&mut self) {
        if !self.shut_down {
            self.shut_down = true;
            // Safety: shutdown on a socket we own.
            unsafe { libc::shutdown(self.fd(), libc::SHUT_RDWR) };
        }
    }
}
