//! Timing RESP requests for the slow log (`command::resp::slowlog`).
//!
//! A connection's batch of requests reads the clock once before the first
//! and once after each: a request's time is the interval since the
//! previous reading, so it covers parsing and running the request and
//! writing its reply. The time feeds `INFO commandstats` and, while the log
//! is on, the slow log.
//!
//! A request whose key lives on another shard is timed where its
//! connection is: that covers routing it, not the owner's execution.

use std::time::Instant;

use super::clients;
use super::connection::Connection;
use super::worker::ShardState;
use crate::command::resp::connection::Session;
use crate::command::resp::slowlog::{entry_argv, SlowlogEntry};
use crate::protocol::resp::Argv;

/// Times the requests of one batch (and checks them against the slow
/// log's threshold).
#[derive(Debug)]
pub struct RequestTimer {
    /// `None` while the slow log is off.
    threshold_micros: Option<u64>,
    last: Instant,
}

impl RequestTimer {
    /// A timer for the batch about to run.
    #[inline]
    pub fn start(state: &ShardState) -> RequestTimer {
        RequestTimer {
            threshold_micros: state.shared.slowlog.config.threshold_micros(),
            last: Instant::now(),
        }
    }

    /// After a request ran: logs it if it took at least the threshold, and
    /// returns how long it took, in nanoseconds.
    #[inline]
    pub fn lap(
        &mut self,
        argv: &Argv<'_>,
        session: &mut Session,
        conn: &Connection,
        state: &ShardState,
    ) -> u64 {
        let now = Instant::now();
        let nanos = now.duration_since(self.last).as_nanos() as u64;
        self.last = now;
        if let Some(threshold) = self.threshold_micros {
            let micros = nanos / 1000;
            if micros >= threshold {
                record(argv, micros, session, conn, state);
            }
        }
        nanos
    }
}

/// Adds a slow request to the shared log.
#[cold]
fn record(
    argv: &Argv<'_>,
    micros: u64,
    session: &mut Session,
    conn: &Connection,
    state: &ShardState,
) {
    let entry = SlowlogEntry {
        id: 0,
        unix_secs: state.now.unix_secs(),
        micros,
        argv: entry_argv(argv),
        client_addr: clients::peer_addr(session, conn.fd()),
        client_name: session.name.clone().unwrap_or_default(),
    };
    state.shared.slowlog.record(entry, micros);
}
