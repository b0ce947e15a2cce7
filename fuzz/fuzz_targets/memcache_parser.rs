//! Fuzzes the memcached text-protocol parser: the input is a client's byte
//! stream, parsed as a pipeline under a few item-size limits. Besides not
//! panicking, every answer must be consistent: what a request consumed fits
//! the buffer and parses the same on its own, no prefix of it gives anything
//! but Incomplete (or Close past the line limit), and what a request
//! carries was validated (keys, base64 keys).

#![no_main]

use corecache::protocol::memcache::{
    parse, KeyRef, Limits, Parsed, Request, MAX_KEY_LEN, MAX_UNTERMINATED_LINE,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for max_item_size in [0, 16, 1 << 20] {
        parse_pipeline(data, &Limits { max_item_size });
    }
});

/// Parses `data` request after request, skipping swallowed bytes.
fn parse_pipeline(data: &[u8], limits: &Limits) {
    let mut rest = data;
    while !rest.is_empty() {
        let outcome = parse(rest, limits);
        let (consumed, swallow) = match &outcome {
            Parsed::Request { request, consumed } => {
                check_request(request, *consumed);
                (*consumed, 0)
            }
            Parsed::Error {
                consumed, swallow, ..
            }
            | Parsed::TooLarge {
                consumed, swallow, ..
            } => (*consumed, *swallow),
            Parsed::Incomplete | Parsed::Close => return,
        };
        assert!(consumed > 0 && consumed <= rest.len());
        assert_eq!(parse(&rest[..consumed], limits), outcome);
        check_prefixes(&rest[..consumed], limits);
        rest = &rest[consumed.saturating_add(swallow).min(rest.len())..];
    }
}

/// No prefix of a request is answered: each one waits for more, or closes
/// once it is an over-long unterminated line. Long requests are sampled.
fn check_prefixes(request: &[u8], limits: &Limits) {
    let step = (request.len() / 256).max(1);
    for end in (0..request.len()).step_by(step) {
        match parse(&request[..end], limits) {
            Parsed::Incomplete => {}
            Parsed::Close => assert!(end > MAX_UNTERMINATED_LINE),
            other => panic!("prefix of {end} bytes answered {other:?}"),
        }
    }
}

/// What a parsed request carries has been validated.
fn check_request(request: &Request<'_>, consumed: usize) {
    let valid_key = |key: &[u8]| {
        (1..=MAX_KEY_LEN).contains(&key.len()) && key.iter().all(|&b| b > b' ' && b != 0x7f)
    };
    match request {
        Request::Get(get) => assert!(get.keys().all(valid_key)),
        Request::Store(store) => {
            assert!(valid_key(store.key));
            assert!(store.value.len() + 2 < consumed);
        }
        Request::Delete { key, .. } | Request::Arith { key, .. } | Request::Touch { key, .. } => {
            assert!(valid_key(key))
        }
        Request::Meta(meta) => {
            assert!(valid_key(meta.key));
            if meta.flags.base64 {
                assert!(matches!(meta.key(), KeyRef::Decoded { .. }));
            }
        }
        _ => {}
    }
}
