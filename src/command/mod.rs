//! The command layer: executes parsed requests against one shard's store and
//! encodes the replies. One module per protocol front end; both share the
//! store, so a key written through one is read through the other.

pub mod memcache;
pub mod memory;
pub mod resp;
