//! Tests of the parser. Expected replies come from memcached 1.6.18 on the
//! wire (`memcached -p 22122 -U 0 -t 1`, raw bytes over TCP); each tricky
//! case says what memcached did.

mod classic;
mod framing;
mod meta;
mod model;
mod properties;
mod storage;

use super::parse;
use crate::protocol::memcache::{Limits, Parsed, ProtocolError, Request};

/// memcached's default item size limit, 1 MiB.
const LIMITS: Limits = Limits {
    max_item_size: 1 << 20,
};

/// Parses `input` with [`LIMITS`].
fn parsed(input: &[u8]) -> Parsed<'_> {
    parse(input, &LIMITS)
}

/// The request `input` holds, which must be all of `input`.
#[track_caller]
fn request(input: &[u8]) -> Request<'_> {
    match parsed(input) {
        Parsed::Request { request, consumed } => {
            assert_eq!(consumed, input.len(), "consumed of {:?}", show(input));
            request
        }
        other => panic!("{:?} parsed as {other:?}", show(input)),
    }
}

/// An error answering the whole line of `input`, nothing swallowed.
fn line_error(input: &[u8], error: ProtocolError, silent: bool) -> Parsed<'static> {
    let line_len = input.iter().position(|&b| b == b'\n').map_or(0, |i| i + 1);
    Parsed::Error {
        error,
        consumed: line_len,
        swallow: 0,
        silent,
    }
}

/// Asserts that `input` is answered with `error` on its first line, without
/// swallowing anything.
#[track_caller]
fn assert_line_error(input: &[u8], error: ProtocolError, silent: bool) {
    assert_eq!(
        parsed(input),
        line_error(input, error, silent),
        "{:?}",
        show(input)
    );
}

/// The reply memcached writes for an error, as text.
fn reply_text(error: ProtocolError) -> String {
    let mut out = Vec::new();
    error.write_to(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// Asserts the exact reply (`""` when silent) that the first request of
/// `input` gets, for requests the parser answers itself.
#[track_caller]
fn assert_reply(input: &[u8], expected: &str) {
    let text = match parsed(input) {
        Parsed::Error {
            error,
            silent: false,
            ..
        } => reply_text(error),
        Parsed::Error { silent: true, .. } => String::new(),
        other => panic!("{:?} parsed as {other:?}", show(input)),
    };
    assert_eq!(text, expected, "{:?}", show(input));
}

/// `input` as readable text for assertion messages.
fn show(input: &[u8]) -> String {
    let shown = String::from_utf8_lossy(&input[..input.len().min(120)]).into_owned();
    shown.replace('\r', "\\r").replace('\n', "\\n")
}
