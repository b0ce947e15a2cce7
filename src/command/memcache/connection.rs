//! Requests that touch no key and run on the connection's own shard:
//! `version`, `verbosity`, `shutdown`, `cache_memlimit`, `mn`; the single
//! reply of `flush_all`; and the hand-off of `stats` and `quit` to the
//! server.

use crate::protocol::memcache::{reply, Request, StatsGroup};
use crate::stats::ShardStats;

/// The memcached release `version` and `stats` report: the newest 1.6.x
/// whose text and meta protocol corecache implements. 1.6.45's protocol.txt
/// is the one whose meta flags are implemented here (it added, after 1.6.18,
/// `E` on mg/ms/md/ma, `x` on md, `s` and `N` on ms, `O`/`k` on ma, and the
/// conditional `C` on mg in 1.6.40); clients that pick meta features by
/// version see what they get.
pub const MEMCACHED_VERSION: &str = "1.6.45";

/// The answer memcached gives to `shutdown` when started without `-A`.
const SHUTDOWN_DISABLED: &[u8] = b"ERROR: shutdown not enabled\r\n";
/// `cache_memlimit` below 8 megabytes.
const MEMLIMIT_TOO_SMALL: &[u8] = b"MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m\r\n";
/// `cache_memlimit` that looks like bytes rather than megabytes.
const MEMLIMIT_NOT_BYTES: &[u8] = b"MEMLIMIT_ADJUST_FAILED input value is megabytes not bytes\r\n";

/// What [`answer_connection`] did with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionAction<'a> {
    /// The reply (if any) has been written.
    Answered,
    /// `stats <group>`: the server collects a
    /// [`StatsView`](super::StatsView) and calls
    /// [`write_stats`](super::write_stats) (for `stats reset` it first
    /// resets its baseline).
    Stats(StatsGroup<'a>),
    /// `quit`: close the connection once earlier replies are sent.
    Quit,
    /// Not a connection request (see [`route`](super::route)).
    NotConnection,
}

/// Answers a request routed to the connection itself.
pub fn answer_connection<'a>(request: &Request<'a>, out: &mut Vec<u8>) -> ConnectionAction<'a> {
    match request {
        Request::Version => reply::version(out, MEMCACHED_VERSION),
        Request::Verbosity { noreply } => {
            // Accepted and ignored: corecache's logging is configured at start.
            if !noreply {
                reply::status(out, reply::OK);
            }
        }
        Request::Shutdown => out.extend_from_slice(SHUTDOWN_DISABLED),
        Request::CacheMemlimit { megabytes, noreply } => {
            let line = match megabytes {
                0..=7 => MEMLIMIT_TOO_SMALL,
                1_000_000_001.. => MEMLIMIT_NOT_BYTES,
                _ => reply::OK,
            };
            if !noreply {
                out.extend_from_slice(line);
            }
        }
        Request::MetaNoop => reply::status(out, reply::META_NOOP),
        Request::Stats(group) => return ConnectionAction::Stats(*group),
        Request::Quit => return ConnectionAction::Quit,
        Request::Get(_)
        | Request::Store(_)
        | Request::Delete { .. }
        | Request::Arith { .. }
        | Request::Touch { .. }
        | Request::FlushAll { .. }
        | Request::Meta(_) => return ConnectionAction::NotConnection,
    }
    ConnectionAction::Answered
}

/// Answers `flush_all` once, after every shard ran
/// [`flush_all`](super::flush_all): counts `cmd_flush` and writes `OK`
/// (nothing for `noreply`).
pub fn finish_flush_all(noreply: bool, stats: &mut ShardStats, out: &mut Vec<u8>) {
    stats.cmd_flush += 1;
    if !noreply {
        reply::status(out, reply::OK);
    }
}
