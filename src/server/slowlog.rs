//! Timing RESP requests for the slow log (`command::resp::slowlog`).
//!
//! While the log is on, a connection's batch of requests reads the clock
//! once before the first and once after each: a request's time is the
//! interval since the previous reading, so it covers parsing and running
//! the request and writing its reply. While the log is off
//! (`slowlog-log-slower-than` -1, or `slowlog-max-len` 0) nothing is read.
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

/// Times the requests of one batch against the slow log's threshold.
#[derive(Debug)]
pub struct RequestTimer {
    threshold_micros: u64,
    last: Instant,
}

impl RequestTimer {
    /// A timer for the batch about to run, or `None` while the slow log is
    /// off.
    #[inline]
    pub fn start(state: &ShardState) -> Option<RequestTimer> {
        let threshold_micros = state.shared.slowlog.config.threshold_micros()?;
        Some(RequestTimer {
            threshold_micros,
            last: Instant::now(),
        })
    }

    /// After a request ran: logs it if it took at least the threshold.
    #[inline]
    pub fn lap(
        &mut self,
        argv: &Argv<'_>,
        session: &mut Session,
        conn: &Connection,
        state: &ShardState,
    ) {
        let now = Instant::now();
        let micros = now.duration_since(self.last).as_micros() as u64;
        self.last = now;
        if micros >= self.threshold_micros {
            record(argv, micros, session, conn, state);
        }
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
