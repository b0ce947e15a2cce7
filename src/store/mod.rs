//! The per-shard keyspace: a hash index over slab-allocated entries. Plain
//! data structure, no I/O, tested without a runtime.

/// One shard's keyspace.
#[derive(Debug, Default)]
pub struct Store {}
