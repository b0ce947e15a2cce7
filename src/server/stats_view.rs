//! Builds the command layer's view of the server for `stats`.

use super::worker::ShardState;
use crate::command::memcache::StatsView;

/// The numbers `stats` reports, as of now.
pub fn view(state: &ShardState) -> StatsView {
    StatsView {
        totals: state.shared.totals(),
    }
}
