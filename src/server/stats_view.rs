//! Gathers what `stats` reports: process facts, settings and every shard's
//! published counters.

use super::worker::ShardState;
use crate::command::memcache::StatsView;
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
        totals: shared.totals_with(
            state.id,
            &Totals {
                shard: state.stats,
                store: *state.store.stats(),
            },
        ),
        max_connections: shared.settings.max_connections,
        watchdog_wakes: shared.heartbeats().iter().map(|h| h.rescues()).sum(),
    }
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
