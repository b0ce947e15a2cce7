//! The meta commands: `mg` (get), `ms` (set), `md` (delete), `ma`
//! (arithmetic) and `me` (debug), one file each.
//!
//! Shared rules, as memcached 1.6 applies them:
//! - Return flags are echoed in the order the client sent them; `O`
//!   (opaque) is always echoed, `k` echoes the key (base64 plus a ` b` flag
//!   when the key is binary).
//! - `q` hides only the uninteresting reply: `EN` for `mg`, `HD` for `ms`,
//!   `md` and `ma`. `NF`, `NS`, `EX` and errors are always sent.
//! - `E<token>` sets the CAS unique of whatever the command stores.

mod arith;
mod debug;
mod delete;
mod get;
mod set;

use super::ShardContext;
use crate::protocol::memcache::reply::{self, MetaCode, MetaKey, MetaView};
use crate::protocol::memcache::{MetaCommand, MetaRequest};

/// Runs one meta command on the shard owning its key.
pub(super) fn execute(request: &MetaRequest<'_>, cx: &mut ShardContext<'_>, out: &mut Vec<u8>) {
    match request.command {
        MetaCommand::Get => get::execute(request, cx, out),
        MetaCommand::Set => set::execute(request, cx, out),
        MetaCommand::Delete => delete::execute(request, cx, out),
        MetaCommand::Arithmetic => arith::execute(request, cx, out),
        MetaCommand::Debug => debug::execute(request, cx, out),
    }
}

/// Appends a status line that reports no item: the code, then the `O` and
/// `k` flags (the key as the request named it).
fn write_status(out: &mut Vec<u8>, code: MetaCode, request: &MetaRequest<'_>, key: &[u8]) {
    reply::meta_code(out, code);
    let view = MetaView {
        key: Some(MetaKey {
            bytes: key,
            binary: request.flags.base64,
        }),
        ..MetaView::default()
    };
    reply::meta_flags(out, request.tokens(), &view);
    reply::meta_line_end(out);
}
