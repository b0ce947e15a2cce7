//! corecache: a thread-per-core, io_uring in-memory cache server that speaks
//! the memcached protocol (and, later, RESP) over one keyspace.
//!
//! Layout, from the wire inwards:
//! - [`server`]: listeners, the shard's own io_uring socket driver,
//!   connections, start-up and shutdown. Knows sockets, not protocol syntax.
//! - [`protocol`]: pure parsers and reply encoders, one module per protocol.
//!   No I/O, no store access.
//! - [`command`]: executes parsed requests against a shard's store and
//!   encodes the replies; one module per protocol front end.
//! - [`shard`]: per-core state, key → hash slot → shard routing, and the
//!   cross-core message types carried over glommio's channel mesh.
//! - [`store`]: the per-shard keyspace (a cache-line bucket index over
//!   single-allocation items). No I/O.
//! - [`config`], [`clock`], [`stats`]: settings, time, counters.

pub mod clock;
pub mod command;
pub mod config;
pub mod protocol;
pub mod server;
pub mod shard;
pub mod stats;
pub mod store;

/// corecache's own version, reported as `corecache_version` in `stats`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
