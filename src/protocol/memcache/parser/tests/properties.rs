//! Property tests: generated valid requests of every kind parse back to
//! what was generated, whole or split at any byte, alone or pipelined; and
//! arbitrary bytes never panic nor give inconsistent answers.

use proptest::collection::vec;
use proptest::prelude::*;

use super::model::{model, Model};
use super::*;
use crate::protocol::memcache::MAX_UNTERMINATED_LINE;

/// A key of printable ASCII.
fn ascii_key() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => "[!-~]{1,12}",
        1 => "[!-~]{1,250}",
    ]
    .prop_map(String::into_bytes)
}

/// Soup of protocol-looking tokens, to reach deep paths with bad input.
fn soup() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        proptest::sample::select(vec![
            "get",
            "gets",
            "gat",
            "gats",
            "bget",
            "set",
            "add",
            "cas",
            "append",
            "delete",
            "incr",
            "decr",
            "touch",
            "flush_all",
            "verbosity",
            "cache_memlimit",
            "stats",
            "mg",
            "ms",
            "md",
            "ma",
            "me",
            "mn",
            "noreply",
            "HTTP/1.1",
            "0",
            "-1",
            "+5",
            "4294967296",
            "18446744073709551616",
            "v",
            "b",
            "q",
            "k",
            "MS",
            "MX",
            "T-1",
            "Tx",
            "F5",
            "Oab",
            "YQ==",
            "YR==",
            "E5",
            "x",
            "z",
        ])
        .prop_map(|t| t.as_bytes().to_vec()),
        (0u32..40).prop_map(|n| n.to_string().into_bytes()),
        ascii_key(),
        proptest::sample::select(vec![" ", "  ", "\r\n", "\n", "\r", "\0", "\t"])
            .prop_map(|t| t.as_bytes().to_vec()),
        vec(any::<u8>(), 0..8),
    ];
    vec(token, 0..40).prop_map(|tokens| tokens.concat())
}

/// Checks the invariants of one parse of `buf`: what a request consumed
/// fits the buffer, depends only on those bytes, and no prefix of them
/// gives an answer other than "wait" (or "close" past the line limit).
fn check_invariants(buf: &[u8], limits: &Limits) -> Result<(), TestCaseError> {
    let outcome = parse(buf, limits);
    let consumed = match &outcome {
        Parsed::Request { consumed, .. }
        | Parsed::Error { consumed, .. }
        | Parsed::TooLarge { consumed, .. } => *consumed,
        Parsed::Incomplete | Parsed::Close => return Ok(()),
    };
    prop_assert!(consumed > 0 && consumed <= buf.len());
    prop_assert_eq!(&parse(&buf[..consumed], limits), &outcome);
    for end in 0..consumed {
        match parse(&buf[..end], limits) {
            Parsed::Incomplete => {}
            Parsed::Close if end > MAX_UNTERMINATED_LINE => {}
            other => prop_assert!(false, "prefix {end} parsed as {other:?}"),
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_request_split_anywhere_waits_then_parses_whole(model in model()) {
        let bytes = model.render();
        let text = model.borrowed_text();
        for end in 0..bytes.len() {
            prop_assert_eq!(parse(&bytes[..end], &LIMITS), Parsed::Incomplete, "split at {}", end);
        }
        prop_assert_eq!(
            parse(&bytes, &LIMITS),
            Parsed::Request { request: model.expected(&text), consumed: bytes.len() }
        );
    }

    #[test]
    fn pipelined_requests_parse_one_by_one(models in vec(model(), 1..8)) {
        let rendered: Vec<Vec<u8>> = models.iter().map(Model::render).collect();
        let buf = rendered.concat();
        let mut offset = 0;
        for (model, bytes) in models.iter().zip(&rendered) {
            let text = model.borrowed_text();
            prop_assert_eq!(
                parse(&buf[offset..], &LIMITS),
                Parsed::Request { request: model.expected(&text), consumed: bytes.len() }
            );
            offset += bytes.len();
        }
        prop_assert_eq!(parse(&buf[offset..], &LIMITS), Parsed::Incomplete);
    }

    #[test]
    fn arbitrary_bytes_parse_consistently(
        buf in prop_oneof![vec(any::<u8>(), 0..300), soup()],
        max_item_size in prop_oneof![Just(0usize), Just(4), Just(1 << 20)],
    ) {
        check_invariants(&buf, &Limits { max_item_size })?;
    }

    #[test]
    fn accepted_base64_keys_decode_as_memcached_decodes_them(
        key in vec(prop_oneof![
            8 => proptest::sample::select(
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".to_vec()),
            1 => Just(b'='),
            1 => Just(b'!'),
        ], 1..24)
    ) {
        let mut line = b"mg ".to_vec();
        line.extend_from_slice(&key);
        line.extend_from_slice(b" b\r\n");
        if let Parsed::Request { request: Request::Meta(meta), .. } = parse(&line, &LIMITS) {
            let decoded = memcached_base64_decode(&key);
            let key = meta.key();
            prop_assert_eq!(decoded.as_deref(), Some(key.as_bytes()));
        }
    }
}

/// memcached's `base64_decode`, transcribed for comparison: skips bytes
/// outside the alphabet, needs a multiple of 4 symbols, and stops at the
/// first block with padding.
fn memcached_base64_decode(src: &[u8]) -> Option<Vec<u8>> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let value = |b: u8| match b {
        b'=' => Some(0),
        _ => ALPHABET.iter().position(|&a| a == b).map(|v| v as u8),
    };
    let symbols: Vec<u8> = src
        .iter()
        .copied()
        .filter(|&b| value(b).is_some())
        .collect();
    if symbols.is_empty() || symbols.len() % 4 != 0 {
        return None;
    }
    let mut out = Vec::new();
    let mut pad = 0;
    for block in symbols.chunks(4) {
        pad += block.iter().filter(|&&b| b == b'=').count();
        let v: Vec<u8> = block.iter().filter_map(|&b| value(b)).collect();
        out.extend_from_slice(&[
            v[0] << 2 | v[1] >> 4,
            v[1] << 4 | v[2] >> 2,
            v[2] << 6 | v[3],
        ]);
        if pad > 0 {
            match pad {
                1 | 2 => out.truncate(out.len() - pad),
                _ => return None,
            }
            break;
        }
    }
    Some(out)
}
