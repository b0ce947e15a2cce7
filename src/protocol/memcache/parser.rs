//! The memcached text-protocol parser (filled in by the parser work).

use super::{Limits, Parsed};

/// Parses the request at the start of `buf`.
pub fn parse<'a>(buf: &'a [u8], limits: &Limits) -> Parsed<'a> {
    let _ = (buf, limits);
    todo!("parser")
}
