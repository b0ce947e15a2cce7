//! Lines, unterminated input, NUL bytes, tokens and command dispatch.

use super::*;
use crate::protocol::memcache::{
    GetKind, GetRequest, StoreMode, StoreRequest, MAX_MULTIGET_LINE, MAX_UNTERMINATED_LINE,
};

fn get(key_list: &[u8]) -> Request<'_> {
    Request::Get(GetRequest {
        kind: GetKind::Get,
        touch: None,
        key_list,
    })
}

#[test]
fn a_line_ends_with_newline_and_an_optional_carriage_return() {
    assert_eq!(parsed(b""), Parsed::Incomplete);
    assert_eq!(parsed(b"get a"), Parsed::Incomplete);
    assert_eq!(parsed(b"get a\r"), Parsed::Incomplete);
    assert_eq!(request(b"get a\r\n"), get(b"a"));
    assert_eq!(request(b"get a\n"), get(b"a"));
    // Only one '\r' is dropped: memcached looks up "a\r".
    assert_eq!(request(b"get a\r\r\n"), get(b"a\r"));
}

#[test]
fn only_the_first_line_is_consumed() {
    assert_eq!(
        parsed(b"get a\r\nget b\r\n"),
        Parsed::Request {
            request: get(b"a"),
            consumed: 7
        }
    );
}

#[test]
fn empty_and_one_byte_lines_are_unknown_commands() {
    // memcached: ERROR for "\r\n", "\n", " \r\n", "x\r\n" and "\0\r\n".
    for input in [
        &b"\r\n"[..],
        b"\n",
        b" \r\n",
        b"x\r\n",
        b"\0\r\n",
        b"\r\r\n",
    ] {
        assert_line_error(input, ProtocolError::UnknownCommand, false);
    }
}

#[test]
fn a_nul_byte_ends_the_command_text() {
    // memcached tokenizes with strlen: `get a\0b c` asks for `a` only, and
    // `set a 0 0 1\0junk` stores one byte.
    assert_eq!(request(b"get a\0b c\r\n"), get(b"a"));
    assert_eq!(parsed(b"get a\0b c"), Parsed::Incomplete);
    assert_eq!(
        request(b"set a 0 0 1\0junk\r\nx\r\n"),
        Request::Store(StoreRequest {
            mode: StoreMode::Set,
            key: b"a",
            flags: 0,
            exptime: 0,
            value: b"x",
            noreply: false,
        })
    );
}

#[test]
fn an_unterminated_line_is_waited_for_up_to_2048_bytes() {
    // memcached: no reply to 2048 bytes without a newline, connection
    // closed at 2049.
    let junk = vec![b'x'; MAX_UNTERMINATED_LINE];
    assert_eq!(parsed(&junk), Parsed::Incomplete);
    let junk = vec![b'x'; MAX_UNTERMINATED_LINE + 1];
    assert_eq!(parsed(&junk), Parsed::Close);
}

#[test]
fn only_multi_gets_may_be_longer() {
    let long = |prefix: &[u8]| {
        let mut line = prefix.to_vec();
        line.resize(3000, b'a');
        line
    };
    // memcached waits for `get ` and `gets ` after at most 100 spaces, and
    // closes anything else, `gat` included.
    assert_eq!(parsed(&long(b"get ")), Parsed::Incomplete);
    assert_eq!(parsed(&long(b"gets ")), Parsed::Incomplete);
    assert_eq!(
        parsed(&long(&[b" ".repeat(100), b"get ".to_vec()].concat())),
        Parsed::Incomplete
    );
    assert_eq!(
        parsed(&long(&[b" ".repeat(101), b"get ".to_vec()].concat())),
        Parsed::Close
    );
    assert_eq!(parsed(&long(b"gat 1 ")), Parsed::Close);
    assert_eq!(parsed(&long(b"get\0")), Parsed::Close);
    assert_eq!(parsed(&long(b"getx")), Parsed::Close);
}

#[test]
fn a_multi_get_line_is_capped() {
    let mut line = b"get ".to_vec();
    while line.len() < MAX_MULTIGET_LINE - 1 {
        line.extend_from_slice(b"k ");
    }
    line.truncate(MAX_MULTIGET_LINE - 1);
    assert_eq!(parsed(&line), Parsed::Incomplete);
    line.push(b'k');
    assert_eq!(parsed(&line), Parsed::Close);
    // A complete line of exactly the cap is still served.
    line.pop();
    line.push(b'\n');
    assert!(matches!(
        parsed(&line),
        Parsed::Request { consumed, .. } if consumed == MAX_MULTIGET_LINE
    ));
    line.insert(4, b'k');
    assert_eq!(parsed(&line), Parsed::Close);
}

#[test]
fn a_long_line_that_has_its_newline_is_parsed() {
    // memcached: `set a 0 0 1` + 3000 spaces + `\r\n` in one read is STORED.
    let mut input = b"set a 0 0 1".to_vec();
    input.resize(3011, b' ');
    input.extend_from_slice(b"\r\nx\r\n");
    assert!(matches!(request(&input), Request::Store(_)));
}

#[test]
fn tokens_are_separated_by_spaces_only() {
    assert_eq!(request(b"  get  a   b  \r\n"), get(b"a   b"));
    // memcached: ERROR for `get\ta` and for `set a\t0 0 1` (four tokens).
    assert_line_error(b"get\ta\r\n", ProtocolError::UnknownCommand, false);
    assert_line_error(
        b"set a\t0 0 1\r\nx\r\n",
        ProtocolError::UnknownCommand,
        false,
    );
}

#[test]
fn command_names_are_case_sensitive() {
    assert_line_error(b"GET a\r\n", ProtocolError::UnknownCommand, false);
    assert_line_error(b"Set a 0 0 1\r\n", ProtocolError::UnknownCommand, false);
}

#[test]
fn commands_corecache_does_not_serve_are_unknown() {
    // memcached answers these from slab, crawler, logger or TLS state that
    // corecache does not have (`slabs` and `lru` ERROR when malformed;
    // debug-build commands are unknown to a release memcached anyway).
    for input in [
        &b"slabs reassign 1 2\r\n"[..],
        b"slabs automove 1\r\n",
        b"lru_crawler crawl all\r\n",
        b"lru_crawler metadump all\r\n",
        b"watch\r\n",
        b"watch HTTP/1.1\r\n",
        b"lru tune 10 10 0.1 2\r\n",
        b"extstore item_size 512\r\n",
        b"refresh_certs\r\n",
        b"misbehave\r\n",
        b"debugtime 1\r\n",
        b"foo\r\n",
        b"mx\r\n",
    ] {
        assert_line_error(input, ProtocolError::UnknownCommand, false);
    }
}

#[test]
fn an_http_request_line_closes_the_connection() {
    // memcached closes on `GET / HTTP/1.1` and `foo HTTP/1.0`, but only for
    // names outside its first-byte branches: `get / HTTP/1.1` is a get of
    // two keys and `delx / HTTP/1.1` is ERROR.
    assert_eq!(parsed(b"GET / HTTP/1.1\r\n"), Parsed::Close);
    assert_eq!(parsed(b"foo HTTP/1.0\r\n"), Parsed::Close);
    assert_eq!(parsed(b"POST /x HTTP/2\r\nHost: y\r\n"), Parsed::Close);
    assert_eq!(request(b"get / HTTP/1.1\r\n"), get(b"/ HTTP/1.1"));
    assert_line_error(b"delx / HTTP/1.1\r\n", ProtocolError::UnknownCommand, false);
    assert_line_error(b"mz HTTP/1.1\r\n", ProtocolError::UnknownCommand, false);
    assert_line_error(b"foo HTTP\r\n", ProtocolError::UnknownCommand, false);
    // The check reads the 23rd token when the line has more.
    let mut line = b"foo".to_vec();
    for i in 0..30 {
        line.extend_from_slice(if i == 21 { b" HTTP/1.1" } else { b" x" });
    }
    line.extend_from_slice(b"\r\n");
    assert_eq!(parsed(&line), Parsed::Close);
}
