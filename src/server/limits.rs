//! Resource limits the server needs, raised where the process may and
//! explained in one line where it may not.
//!
//! - Locked memory: glommio refuses to start below 512 KiB (io_uring rings
//!   and registered buffers count against it on older kernels). Containers
//!   often default to 64 KiB.
//! - Open files: one per connection plus a few per shard. When the hard limit
//!   is too low, `--max-connections` is lowered to fit, as Redis does with
//!   `maxclients`, and a note says so.

use crate::config::Settings;

/// glommio's own minimum for the locked-memory limit.
pub const MIN_MEMLOCK: u64 = 512 * 1024;

/// Descriptors a shard uses besides connections: listeners, its ring, its
/// eventfds, glommio's rings and timers.
const FDS_PER_SHARD: u64 = 16;

/// Descriptors for everything else (stdio, the signal pipe, …).
const FDS_RESERVED: u64 = 32;

/// A limit the process cannot raise far enough.
#[derive(Debug, thiserror::Error)]
pub enum LimitError {
    #[error(
        "the locked-memory limit (ulimit -l) is {current_kib} KiB and io_uring needs at least \
         {needed_kib} KiB: raise it (ulimit -l {needed_kib}; LimitMEMLOCK= in systemd; \
         docker run --ulimit memlock=-1)"
    )]
    Memlock { current_kib: u64, needed_kib: u64 },
    #[error("the open-files limit (ulimit -n) of {0} leaves no room for connections")]
    NoFiles(u64),
}

/// Raises the soft limits towards the hard ones. May lower
/// `settings.max_connections`; returns a note for the operator when it did.
pub fn raise(settings: &mut Settings) -> Result<Option<String>, LimitError> {
    let memlock = raise_to(libc::RLIMIT_MEMLOCK, MIN_MEMLOCK);
    if memlock < MIN_MEMLOCK {
        return Err(LimitError::Memlock {
            current_kib: memlock / 1024,
            needed_kib: MIN_MEMLOCK / 1024,
        });
    }
    let overhead = settings.threads as u64 * FDS_PER_SHARD + FDS_RESERVED;
    let wanted = settings.max_connections as u64 + overhead;
    let files = raise_to(libc::RLIMIT_NOFILE, wanted);
    if files >= wanted {
        return Ok(None);
    }
    let fits = files
        .checked_sub(overhead)
        .filter(|&n| n > 0)
        .ok_or(LimitError::NoFiles(files))?;
    let requested = settings.max_connections;
    settings.max_connections = fits as usize;
    Ok(Some(format!(
        "the open-files limit (ulimit -n) is {files}: --max-connections lowered from {requested} \
         to {fits} (raise the limit to allow more)"
    )))
}

/// Raises the soft limit of `resource` to `wanted` if the hard limit
/// allows (else to the hard limit); returns the soft limit in force.
fn raise_to(resource: libc::__rlimit_resource_t, wanted: u64) -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // Safety: getrlimit/setrlimit on a valid rlimit struct.
    if unsafe { libc::getrlimit(resource, &mut limit) } != 0 {
        return u64::MAX;
    }
    let infinite = libc::RLIM_INFINITY;
    if limit.rlim_cur == infinite || limit.rlim_cur >= wanted {
        return if limit.rlim_cur == infinite {
            u64::MAX
        } else {
            limit.rlim_cur
        };
    }
    let target = if limit.rlim_max == infinite {
        wanted
    } else {
        wanted.min(limit.rlim_max)
    };
    let raised = libc::rlimit {
        rlim_cur: target,
        rlim_max: limit.rlim_max,
    };
    if unsafe { libc::setrlimit(resource, &raised) } == 0 {
        target
    } else {
        limit.rlim_cur
    }
}
