//! Wire protocols: pure parsers and reply encoders, one module per protocol.
//! Nothing here does I/O or touches the store.

pub mod memcache;
pub mod resp;
