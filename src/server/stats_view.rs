//! Gathers what memcached's `stats` and Redis's `INFO`/`CONFIG` report:
//! process facts, settings and every shard's published counters. Runs only
//! when such a command is asked, never per request.

use std::collections::hash_map::RandomState;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use super::worker::ShardState;
use crate::command::memcache::StatsView;
use crate::command::resp::label::Label;
use crate::command::resp::server::{ProcessFacts, ServerView};
use crate::stats::Totals;

/// The numbers `stats` reports, as of now.
pub fn view(state: &ShardState) -> StatsView<'_> {
    let (user, system) = cpu_time_micros();
    let shared = &state.shared;
    StatsView {
        pid: std::process::id(),
        started: shared.started,
        now: state.now,
        threads: shared.shard_count(),
        rusage_user_micros: user,
        rusage_system_micros: system,
        settings: &shared.settings,
        totals: totals(state),
        max_connections: shared.settings.max_connections,
        watchdog_wakes: shared.heartbeats().iter().map(|h| h.rescues()).sum(),
        watchdog_kicks: shared.heartbeats().iter().map(|h| h.kicks()).sum(),
        maxmemory: shared.memory.maxmemory(),
        eviction_policy: shared.memory.policy(),
    }
}

/// Counters summed over all shards, this one's live.
fn totals(state: &ShardState) -> Totals {
    state.shared.totals_with(
        state.id,
        &Totals {
            shard: state.stats,
            store: super::worker::store_totals(&state.dbs),
        },
    )
}

/// CPU time of the whole process: (user, system) in microseconds.
fn cpu_time_micros() -> (u64, u64) {
    // Safety: getrusage fills the struct we pass.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return (0, 0);
    }
    let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    (micros(usage.ru_utime), micros(usage.ru_stime))
}

/// What `INFO` and `CONFIG` report, as of now.
pub fn server_view(state: &ShardState) -> ServerView<'_> {
    let (user, system) = cpu_time_micros();
    let shared = &state.shared;
    let unix_micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_micros() as u64);
    ServerView {
        process: process_facts(),
        settings: &shared.settings,
        threads: shared.shard_count(),
        started: shared.started,
        now: state.now,
        unix_micros,
        totals: totals(state),
        db_keys: {
            let own: Vec<u64> = state.dbs.iter().map(|db| db.len() as u64).collect();
            shared.db_keys_with(state.id, &own)
        },
        rss_bytes: resident_bytes(),
        cpu_user_micros: user,
        cpu_system_micros: system,
        slowlog: &shared.slowlog.config,
        requirepass: &shared.requirepass,
        pubsub_output_limit: &shared.pubsub_output_limit,
        commands: shared
            .command_totals()
            .into_iter()
            .enumerate()
            .filter(|(_, stat)| !stat.is_empty())
            .filter_map(|(index, stat)| Some((Label::from_index(index)?.name(), stat)))
            .collect(),
        errors: shared.error_totals(),
        memory: &shared.memory,
        encodings: &shared.encodings,
    }
}

/// The process's facts, gathered on first use.
fn process_facts() -> &'static ProcessFacts {
    static FACTS: OnceLock<ProcessFacts> = OnceLock::new();
    FACTS.get_or_init(|| ProcessFacts {
        pid: std::process::id(),
        os: operating_system(),
        executable: std::env::current_exe()
            .ok()
            .map(|path| path.display().to_string()),
        run_id: random_id(),
        replication_id: random_id(),
        total_system_memory: physical_memory(),
    })
}

/// `uname`'s system name, release and machine, space-separated.
fn operating_system() -> String {
    // Safety: uname fills the struct we pass; its fields are NUL-terminated.
    let mut names: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut names) } != 0 {
        return std::env::consts::OS.to_string();
    }
    let text = |field: &[libc::c_char]| {
        let bytes: Vec<u8> = field
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    format!(
        "{} {} {}",
        text(&names.sysname),
        text(&names.release),
        text(&names.machine)
    )
}

/// 40 random hex digits (std's per-process random hash keys, mixed with
/// the time), as Redis's run and replication ids look.
fn random_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos() as u64);
    let mut id = String::with_capacity(48);
    for round in 0..3u64 {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u64(seed ^ round);
        hasher.write_u32(std::process::id());
        id.push_str(&format!("{:016x}", hasher.finish()));
    }
    id.truncate(40);
    id
}

/// The machine's physical memory in bytes.
fn physical_memory() -> Option<u64> {
    // Safety: sysconf only reads system configuration.
    let (pages, page_size) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    (pages > 0 && page_size > 0).then(|| pages as u64 * page_size as u64)
}

/// The process's resident set size, from `/proc/self/statm` (its second
/// field, in pages).
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // Safety: sysconf only reads system configuration.
    let page_size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    (page_size > 0).then(|| pages * page_size as u64)
}
