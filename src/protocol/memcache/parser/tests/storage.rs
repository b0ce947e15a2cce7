//! The storage commands and their data blocks.

use super::*;
use crate::protocol::memcache::{KeyRef, StoreMode, StoreRequest};

fn set<'a>(key: &'a [u8], flags: u32, exptime: i64, value: &'a [u8]) -> Request<'a> {
    Request::Store(StoreRequest {
        mode: StoreMode::Set,
        key,
        flags,
        exptime,
        value,
        noreply: false,
    })
}

#[test]
fn storage_commands() {
    assert_eq!(
        request(b"set a 5 10 3\r\nabc\r\n"),
        set(b"a", 5, 10, b"abc")
    );
    assert_eq!(request(b"set a 0 0 0\r\n\r\n"), set(b"a", 0, 0, b""));
    // A value is opaque bytes, line ends included.
    assert_eq!(
        request(b"set a 0 0 6\r\n\r\nx\r\n\0\r\n"),
        set(b"a", 0, 0, b"\r\nx\r\n\0")
    );
    for (name, mode) in [
        ("add", StoreMode::Add),
        ("replace", StoreMode::Replace),
        ("append", StoreMode::Append),
        ("prepend", StoreMode::Prepend),
    ] {
        let line = format!("{name} k 1 2 1 noreply\r\nx\r\n");
        assert_eq!(
            request(line.as_bytes()),
            Request::Store(StoreRequest {
                mode,
                key: b"k",
                flags: 1,
                exptime: 2,
                value: b"x",
                noreply: true,
            })
        );
    }
    assert_eq!(
        request(b"cas k 0 0 1 18446744073709551615 noreply\r\nx\r\n"),
        Request::Store(StoreRequest {
            mode: StoreMode::Cas(u64::MAX),
            key: b"k",
            flags: 0,
            exptime: 0,
            value: b"x",
            noreply: true,
        })
    );
    // memcached ignores a sixth token that is not `noreply`.
    assert_eq!(request(b"set a 0 0 1 foo\r\nx\r\n"), set(b"a", 0, 0, b"x"));
}

#[test]
fn storage_numbers_follow_memcached() {
    // All observed with `set` then `get` on memcached 1.6.18.
    assert_eq!(request(b"set a -0 0 1\r\nx\r\n"), set(b"a", 0, 0, b"x"));
    assert_eq!(request(b"set a +5 0 1\r\nx\r\n"), set(b"a", 5, 0, b"x"));
    assert_eq!(
        request(b"set a 4294967296 0 1\r\nx\r\n"),
        set(b"a", 0, 0, b"x")
    );
    assert_eq!(
        request(b"set a 4294967297 0 1\r\nx\r\n"),
        set(b"a", 1, 0, b"x")
    );
    assert_eq!(
        request(b"set a -18446744073709551615 0 1\r\nx\r\n"),
        set(b"a", 1, 0, b"x")
    );
    assert_eq!(
        request(b"set a 0 4294967296 1\r\nx\r\n"),
        set(b"a", 0, 0, b"x")
    );
    assert_eq!(request(b"set a 0 -1 1\r\nx\r\n"), set(b"a", 0, -1, b"x"));
    // The byte count is an int too: 4294967297 is 1.
    assert_eq!(
        request(b"set a 0 0 4294967297\r\nx\r\n"),
        set(b"a", 0, 0, b"x")
    );
    // Whitespace after a number ends it.
    assert_eq!(request(b"set a 0 0 1\t\r\nx\r\n"), set(b"a", 0, 0, b"x"));
    assert_eq!(
        request(b"set a 0 0 1\x0bjunk\r\nx\r\n"),
        set(b"a", 0, 0, b"x")
    );
    assert_eq!(request(b"set a 0 0 1\r\r\nx\r\n"), set(b"a", 0, 0, b"x"));
    assert_eq!(request(b"set a 0 0 \t1\r\nx\r\n"), set(b"a", 0, 0, b"x"));
}

#[test]
fn storage_line_errors_leave_the_data_to_be_parsed_as_a_command() {
    // memcached: `set a -1 0 1\r\nx\r\n` answers CLIENT_ERROR then ERROR
    // (for the line `x`).
    for input in [
        &b"set a -1 0 1\r\nx\r\n"[..],
        b"set a 5x 0 1\r\nx\r\n",
        b"set a 18446744073709551616 0 1\r\nx\r\n",
        b"set a 0 9223372036854775808 1\r\nx\r\n",
        b"set a 0 0 -1\r\nx\r\n",
        b"set a 0 0 abc\r\nx\r\n",
        b"set a 0 0 2147483647\r\n",
        b"set a 0 0 2147483646\r\n",
        b"cas a 0 0 1 -1\r\nx\r\n",
        b"cas a 0 0 1 abc\r\nx\r\n",
    ] {
        assert_line_error(input, ProtocolError::BAD_FORMAT, false);
    }
    let long = format!("set {} 0 0 1\r\nx\r\n", "k".repeat(251));
    assert_line_error(long.as_bytes(), ProtocolError::BAD_FORMAT, false);
    // memcached: ERROR then ERROR for a wrong token count.
    for input in [
        &b"set a 0 0\r\nx\r\n"[..],
        b"set a 0 0 1 noreply extra\r\nx\r\n",
        b"cas a 0 0 1\r\nx\r\n",
        b"add\r\n",
    ] {
        assert_line_error(input, ProtocolError::UnknownCommand, false);
    }
}

#[test]
fn noreply_is_the_last_token_wherever_it_is() {
    // memcached: `set a 0 0 noreply` is silent about its bad byte count,
    // and the data line is then an unknown command.
    assert_line_error(
        b"set a 0 0 noreply\r\nxx\r\n",
        ProtocolError::BAD_FORMAT,
        true,
    );
    assert_line_error(
        b"set a x 0 1 noreply\r\nx\r\n",
        ProtocolError::BAD_FORMAT,
        true,
    );
    // `cas a 0 0 1 noreply`: the noreply is read as the cas unique.
    assert_line_error(
        b"cas a 0 0 1 noreply\r\nx\r\n",
        ProtocolError::BAD_FORMAT,
        true,
    );
    let long = format!("set {} 0 0 1 noreply\r\nx\r\n", "k".repeat(251));
    assert_line_error(long.as_bytes(), ProtocolError::BAD_FORMAT, true);
}

#[test]
fn storage_waits_for_the_whole_data_block() {
    assert_eq!(parsed(b"set a 0 0 5\r\n"), Parsed::Incomplete);
    assert_eq!(parsed(b"set a 0 0 5\r\nhel"), Parsed::Incomplete);
    assert_eq!(parsed(b"set a 0 0 5\r\nhello"), Parsed::Incomplete);
    assert_eq!(parsed(b"set a 0 0 5\r\nhello\r"), Parsed::Incomplete);
    assert_eq!(
        parsed(b"set a 0 0 5\r\nhello\r\nget a\r\n"),
        Parsed::Request {
            request: set(b"a", 0, 0, b"hello"),
            consumed: 20,
        }
    );
}

#[test]
fn a_bad_data_chunk_consumes_exactly_the_announced_bytes() {
    // memcached reads `len + 2` bytes, answers `bad data chunk` if they do
    // not end in \r\n, and goes on right after them: `set a 0 0 1\r\nxyz\r\n`
    // answers CLIENT_ERROR bad data chunk, then ERROR for the empty line.
    let input = b"set a 0 0 1\r\nxyz\r\n";
    let expected = Parsed::Error {
        error: ProtocolError::BAD_DATA_CHUNK,
        consumed: 16,
        swallow: 0,
        silent: false,
    };
    assert_eq!(parsed(input), expected);
    assert_line_error(&input[16..], ProtocolError::UnknownCommand, false);
    // `x\r\r\n`: the block is `x\r\r`, then a bare `\n` line.
    assert_eq!(parsed(b"set a 0 0 1\r\nx\r\r\n"), expected);
    // noreply silences it (memcached then answers only the ERROR).
    assert_eq!(
        parsed(b"set a 0 0 1 noreply\r\nxyz\r\n"),
        Parsed::Error {
            error: ProtocolError::BAD_DATA_CHUNK,
            consumed: 24,
            swallow: 0,
            silent: true,
        }
    );
}

#[test]
fn a_too_large_value_is_swallowed() {
    let limits = Limits { max_item_size: 100 };
    // memcached: SERVER_ERROR object too large for cache once the block has
    // been read and dropped; `set` also unlinks the old item (a later `get`
    // misses), `add` does not.
    assert_eq!(
        parse(b"set a 0 0 101\r\n", &limits),
        Parsed::TooLarge {
            unlink: Some(KeyRef::Borrowed(b"a")),
            consumed: 15,
            swallow: 103,
            silent: false,
        }
    );
    for command in ["add", "replace", "append", "prepend"] {
        let line = format!("{command} a 0 0 101 noreply\r\n");
        assert_eq!(
            parse(line.as_bytes(), &limits),
            Parsed::TooLarge {
                unlink: None,
                consumed: line.len(),
                swallow: 103,
                silent: true,
            }
        );
    }
    assert!(matches!(
        parse(b"cas a 0 0 101 1\r\n", &limits),
        Parsed::TooLarge {
            unlink: None,
            swallow: 103,
            ..
        }
    ));
    assert_eq!(
        parse(b"set a 0 0 100\r\n", &limits),
        Parsed::Incomplete,
        "exactly the limit is allowed"
    );
    // The largest count memcached takes, with the default limit.
    assert!(matches!(
        parsed(b"set a 0 0 2147483645\r\n"),
        Parsed::TooLarge {
            swallow: 2147483647,
            ..
        }
    ));
}
