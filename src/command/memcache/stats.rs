//! The `stats` replies: general statistics in memcached 1.6's order and
//! names, `stats settings`, `stats reset`, and the groups that describe
//! memcached internals corecache does not have.
//!
//! Only honest numbers are printed: memcached stats about its slab
//! allocator, LRU threads, hash table, libevent or read buffers are left
//! out rather than faked (monitoring tools such as memcached_exporter skip
//! missing keys). The ones such tools read — connections, commands, hits
//! and misses, bytes, items, evictions, reclaimed — are all here.

use super::connection::MEMCACHED_VERSION;
use crate::clock::Now;
use crate::config::Settings;
use crate::protocol::memcache::{reply, ProtocolError, StatsGroup};
use crate::stats::Totals;
use crate::store::EvictionPolicy;

/// What the server supplies for a `stats` reply.
#[derive(Debug, Clone, Copy)]
pub struct StatsView<'a> {
    /// The server's process id.
    pub pid: u32,
    /// When the server started.
    pub started: Now,
    /// The turn's clock reading.
    pub now: Now,
    /// Worker threads (= shards).
    pub threads: usize,
    /// CPU time of the process in user mode, microseconds.
    pub rusage_user_micros: u64,
    /// CPU time of the process in kernel mode, microseconds.
    pub rusage_system_micros: u64,
    /// The settings the server runs with.
    pub settings: &'a Settings,
    /// Shard and store counters summed over all shards (minus the last
    /// `stats reset` baseline).
    pub totals: Totals,
    /// Connections accepted at most before new ones are refused.
    pub max_connections: usize,
    /// Wakes the liveness watchdog sent to stalled shards (`server::watchdog`).
    pub watchdog_wakes: u64,
    /// Signals it sent shards still stuck after a wake.
    pub watchdog_kicks: u64,
    /// The memory limit in force (0 = none; `CONFIG SET` may change it).
    pub maxmemory: u64,
    /// The eviction policy in force.
    pub eviction_policy: EvictionPolicy,
}

/// memcached's answer to `stats detail` without a valid argument.
const DETAIL_USAGE: ProtocolError = ProtocolError::Client("usage: stats detail on|off|dump");
/// memcached's answer to `stats cachedump` with too few arguments.
const BAD_COMMAND_LINE: ProtocolError = ProtocolError::Client("bad command line");
/// memcached's answer to `stats cachedump` with a class id out of range.
const ILLEGAL_SLAB_ID: ProtocolError = ProtocolError::Client("Illegal slab id");
/// memcached's largest slab class id, plus one.
const SLAB_CLASSES: u32 = 64;

/// Appends the reply to `stats [group]`.
pub fn write_stats(group: StatsGroup<'_>, view: &StatsView<'_>, out: &mut Vec<u8>) {
    match group {
        StatsGroup::General => general(view, out),
        StatsGroup::Settings => settings(view, out),
        StatsGroup::Reset => reply::status(out, reply::RESET),
        StatsGroup::Other(args) => other(args, out),
    }
}

/// `stats`.
fn general(view: &StatsView<'_>, out: &mut Vec<u8>) {
    let shard = &view.totals.shard;
    let store = &view.totals.store;
    let stat = |out: &mut Vec<u8>, name: &str, value: u64| reply::stat(out, name, value);
    stat(out, "pid", u64::from(view.pid));
    let uptime = view
        .now
        .unix_secs()
        .saturating_sub(view.started.unix_secs());
    stat(out, "uptime", uptime);
    stat(out, "time", view.now.unix_secs());
    reply::stat_text(out, "version", MEMCACHED_VERSION);
    reply::stat_text(out, "corecache_version", crate::VERSION);
    stat(out, "corecache_watchdog_wakes", view.watchdog_wakes);
    stat(out, "corecache_watchdog_kicks", view.watchdog_kicks);
    stat(out, "pointer_size", usize::BITS.into());
    cpu_time(out, "rusage_user", view.rusage_user_micros);
    cpu_time(out, "rusage_system", view.rusage_system_micros);
    stat(out, "max_connections", view.max_connections as u64);
    stat(out, "curr_connections", shard.curr_connections);
    stat(out, "total_connections", shard.total_connections);
    stat(out, "rejected_connections", shard.rejected_connections);
    // One connection state per open connection: nothing is pooled.
    stat(out, "connection_structures", shard.curr_connections);
    stat(out, "cmd_get", shard.cmd_get);
    stat(out, "cmd_set", shard.cmd_set);
    stat(out, "cmd_flush", shard.cmd_flush);
    stat(out, "cmd_touch", shard.cmd_touch);
    stat(out, "cmd_meta", shard.meta_cmds);
    stat(out, "get_hits", shard.get_hits);
    stat(out, "get_misses", shard.get_misses);
    stat(out, "get_expired", shard.get_expired);
    stat(out, "get_flushed", shard.get_flushed);
    stat(out, "delete_misses", shard.delete_misses);
    stat(out, "delete_hits", shard.delete_hits);
    stat(out, "incr_misses", shard.incr_misses);
    stat(out, "incr_hits", shard.incr_hits);
    stat(out, "decr_misses", shard.decr_misses);
    stat(out, "decr_hits", shard.decr_hits);
    stat(out, "cas_misses", shard.cas_misses);
    stat(out, "cas_hits", shard.cas_hits);
    stat(out, "cas_badval", shard.cas_badval);
    stat(out, "touch_hits", shard.touch_hits);
    stat(out, "touch_misses", shard.touch_misses);
    stat(out, "store_too_large", shard.store_too_large);
    stat(out, "store_no_memory", shard.store_no_memory);
    stat(out, "bytes_read", shard.bytes_read);
    stat(out, "bytes_written", shard.bytes_written);
    stat(out, "limit_maxbytes", view.maxmemory);
    // Listeners never pause: connections over the limit are refused one by
    // one (`rejected_connections`).
    stat(out, "accepting_conns", 1);
    stat(out, "threads", view.threads as u64);
    stat(out, "bytes", store.bytes);
    stat(out, "curr_items", store.curr_items);
    stat(out, "total_items", store.total_items);
    stat(out, "expired_unfetched", store.expired_unfetched);
    stat(out, "evicted_unfetched", store.evicted_unfetched);
    stat(out, "evictions", store.evictions);
    stat(out, "reclaimed", store.reclaimed);
    reply::end(out);
}

/// Appends a CPU time as memcached prints it: seconds with six decimals.
fn cpu_time(out: &mut Vec<u8>, name: &str, micros: u64) {
    out.extend_from_slice(b"STAT ");
    out.extend_from_slice(name.as_bytes());
    out.push(b' ');
    reply::push_u64(out, micros / 1_000_000);
    out.push(b'.');
    let fraction = micros % 1_000_000;
    let digits = itoa::Buffer::new().format(fraction).len();
    out.extend(std::iter::repeat_n(b'0', 6 - digits));
    reply::push_u64(out, fraction);
    out.extend_from_slice(b"\r\n");
}

/// `stats settings`.
fn settings(view: &StatsView<'_>, out: &mut Vec<u8>) {
    let settings = view.settings;
    reply::stat(out, "maxbytes", view.maxmemory);
    reply::stat(out, "maxconns", view.max_connections as u64);
    reply::stat(out, "tcpport", settings.memcache_port.map_or(0, u64::from));
    reply::stat(out, "udpport", 0);
    reply::stat_text(out, "inter", &settings.bind.to_string());
    reply::stat(out, "verbosity", 0);
    // memcached's `-M` is `noeviction` here.
    let evictions = if view.eviction_policy == EvictionPolicy::NoEviction {
        "off"
    } else {
        "on"
    };
    reply::stat_text(out, "evictions", evictions);
    reply::stat_text(
        out,
        "corecache_eviction_policy",
        view.eviction_policy.name(),
    );
    reply::stat_text(out, "domain_socket", "NULL");
    reply::stat_text(out, "shutdown_command", "no");
    reply::stat(out, "num_threads", view.threads as u64);
    reply::stat_text(out, "detail_enabled", "no");
    reply::stat_text(out, "cas_enabled", "yes");
    reply::stat_text(out, "binding_protocol", "ascii");
    reply::stat_text(out, "auth_enabled_sasl", "no");
    reply::stat_text(out, "auth_enabled_ascii", "no");
    reply::stat(out, "item_size_max", settings.max_item_size);
    reply::stat_text(out, "maxconns_fast", "yes");
    reply::stat_text(out, "lru_crawler", "no");
    reply::stat_text(out, "flush_enabled", "yes");
    reply::stat(out, "idle_timeout", 0);
    reply::stat_text(out, "track_sizes", "no");
    reply::stat(
        out,
        "corecache_resp_port",
        settings.resp_port.map_or(0, u64::from),
    );
    reply::stat(
        out,
        "corecache_batch_wait_us",
        settings.batch_wait.as_micros() as u64,
    );
    reply::end(out);
}

/// Any other group, named by its first word.
fn other(args: &[u8], out: &mut Vec<u8>) {
    let mut words = args.split(|&b| b == b' ').filter(|w| !w.is_empty());
    let group = words.next().unwrap_or_default();
    match group {
        // corecache has no slab classes, per-class item lists or size
        // histogram; memcached answers these with empty listings too when
        // it has nothing to list.
        b"items" | b"slabs" | b"conns" | b"extstore" => reply::end(out),
        b"sizes" => {
            reply::stat_text(out, "sizes_status", "disabled");
            reply::end(out);
        }
        b"detail" => match words.next() {
            Some(b"on" | b"off") => reply::status(out, reply::OK),
            Some(b"dump") => reply::end(out),
            _ => DETAIL_USAGE.write_to(out),
        },
        b"cachedump" => cachedump(words.next(), words.next(), out),
        _ => ProtocolError::UnknownCommand.write_to(out),
    }
}

/// `stats cachedump <class> <limit>`: checked as memcached checks it; no
/// class ever holds items here.
fn cachedump(class: Option<&[u8]>, limit: Option<&[u8]>, out: &mut Vec<u8>) {
    let (Some(class), Some(limit)) = (class, limit) else {
        BAD_COMMAND_LINE.write_to(out);
        return;
    };
    let number = |text: &[u8]| std::str::from_utf8(text).ok()?.parse::<u32>().ok();
    match (number(class), number(limit)) {
        (Some(class), Some(_)) if class < SLAB_CLASSES => reply::end(out),
        (Some(_), Some(_)) => ILLEGAL_SLAB_ID.write_to(out),
        _ => ProtocolError::BAD_FORMAT.write_to(out),
    }
}
