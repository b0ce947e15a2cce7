//! The original commands other than storage: retrieval, delete,
//! incr/decr, touch and the administrative commands.

use super::*;
use crate::protocol::memcache::{ArithOp, GetKind, GetRequest, StatsGroup};

fn get(kind: GetKind, touch: Option<i64>, key_list: &[u8]) -> Request<'_> {
    Request::Get(GetRequest {
        kind,
        touch,
        key_list,
    })
}

#[test]
fn retrieval_commands() {
    assert_eq!(request(b"get a\r\n"), get(GetKind::Get, None, b"a"));
    assert_eq!(request(b"gets a b\r\n"), get(GetKind::Gets, None, b"a b"));
    // `bget`, a relic memcached still serves as `get`.
    assert_eq!(request(b"bget a\r\n"), get(GetKind::Get, None, b"a"));
    assert_eq!(
        request(b"gat 10 a b\r\n"),
        get(GetKind::Gat, Some(10), b"a b")
    );
    assert_eq!(
        request(b"gats -1 a\r\n"),
        get(GetKind::Gats, Some(-1), b"a")
    );
    // memcached: `gat 10` answers END.
    assert_eq!(request(b"gat 10\r\n"), get(GetKind::Gat, Some(10), b""));
    // `noreply` is just a key to get.
    assert_eq!(
        request(b"get a noreply\r\n"),
        get(GetKind::Get, None, b"a noreply")
    );
    // Keys may be any bytes but spaces, UTF-8 included.
    assert_eq!(
        request("get clé €\r\n".as_bytes()),
        get(GetKind::Get, None, "clé €".as_bytes())
    );
}

#[test]
fn a_multi_get_keeps_every_key_past_memcached_token_limit() {
    let keys: Vec<String> = (0..40).map(|i| format!("k{i}")).collect();
    let line = format!("get {}\r\n", keys.join(" "));
    let Request::Get(get) = request(line.as_bytes()) else {
        panic!("not a get");
    };
    let got: Vec<&[u8]> = get.keys().collect();
    let want: Vec<&[u8]> = keys.iter().map(|k| k.as_bytes()).collect();
    assert_eq!(got, want);
}

#[test]
fn retrieval_errors() {
    // memcached: ERROR without a key (or without gat's exptime).
    for input in [
        &b"get\r\n"[..],
        b"get   \r\n",
        b"gets\r\n",
        b"gat\r\n",
        b"gats \r\n",
    ] {
        assert_line_error(input, ProtocolError::UnknownCommand, false);
    }
    assert_reply(
        b"gat abc a\r\n",
        "CLIENT_ERROR invalid exptime argument\r\n",
    );
    assert_reply(
        b"gat 99999999999999999999 a\r\n",
        "CLIENT_ERROR invalid exptime argument\r\n",
    );
    // memcached: `gat 4294967296 a` touches with exptime 0.
    assert_eq!(
        request(b"gat 4294967296 a\r\n"),
        get(GetKind::Gat, Some(0), b"a")
    );
    let key = "k".repeat(250);
    assert_eq!(
        request(format!("get {key}\r\n").as_bytes()),
        get(GetKind::Get, None, key.as_bytes())
    );
    // memcached: one key over 250 bytes fails the whole get, even after
    // valid keys (it drops their replies).
    let long = "k".repeat(251);
    assert_reply(
        format!("get a {long}\r\n").as_bytes(),
        "CLIENT_ERROR bad command line format\r\n",
    );
}

#[test]
fn keys_may_hold_control_bytes_as_in_memcached() {
    // memaslap's keys start with bytes 0x10..0x1f; tabs are not separators.
    assert_eq!(
        request(b"get \x10\x11ab\r\n"),
        get(GetKind::Get, None, b"\x10\x11ab")
    );
    assert_eq!(request(b"get a\tb\r\n"), get(GetKind::Get, None, b"a\tb"));
    assert_eq!(request(b"get a\x7f\r\n"), get(GetKind::Get, None, b"a\x7f"));
}
#[test]
fn delete() {
    assert_eq!(
        request(b"delete a\r\n"),
        Request::Delete {
            key: b"a",
            noreply: false
        }
    );
    assert_eq!(
        request(b"delete a noreply\r\n"),
        Request::Delete {
            key: b"a",
            noreply: true
        }
    );
    // The legacy hold time, only if it is 0.
    assert_eq!(
        request(b"delete a 0\r\n"),
        Request::Delete {
            key: b"a",
            noreply: false
        }
    );
    assert_eq!(
        request(b"delete a 0 noreply\r\n"),
        Request::Delete {
            key: b"a",
            noreply: true
        }
    );
    let usage = "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n";
    assert_reply(b"delete a 1\r\n", usage);
    assert_reply(b"delete a 0 x\r\n", usage);
    assert_line_error(b"delete a x noreply\r\n", ProtocolError::DELETE_USAGE, true);
    assert_line_error(
        b"delete a noreply extra\r\n",
        ProtocolError::DELETE_USAGE,
        false,
    );
    assert_line_error(b"delete a b c d\r\n", ProtocolError::UnknownCommand, false);
    assert_line_error(b"delete\r\n", ProtocolError::UnknownCommand, false);
    let long = format!("delete {} noreply\r\n", "k".repeat(251));
    assert_line_error(long.as_bytes(), ProtocolError::BAD_FORMAT, true);
}

#[test]
fn incr_and_decr() {
    assert_eq!(
        request(b"incr a 5\r\n"),
        Request::Arith {
            key: b"a",
            op: ArithOp::Incr,
            delta: 5,
            noreply: false
        }
    );
    assert_eq!(
        request(b"decr a 18446744073709551615 noreply\r\n"),
        Request::Arith {
            key: b"a",
            op: ArithOp::Decr,
            delta: u64::MAX,
            noreply: true
        }
    );
    // memcached: a third argument that is not `noreply` is ignored, and
    // `incr a -18446744073709551615` increments by 1.
    assert_eq!(
        request(b"incr a 1 2\r\n"),
        Request::Arith {
            key: b"a",
            op: ArithOp::Incr,
            delta: 1,
            noreply: false
        }
    );
    assert_eq!(
        request(b"incr a -18446744073709551615\r\n"),
        Request::Arith {
            key: b"a",
            op: ArithOp::Incr,
            delta: 1,
            noreply: false
        }
    );
    let invalid = "CLIENT_ERROR invalid numeric delta argument\r\n";
    assert_reply(b"incr a -1\r\n", invalid);
    assert_reply(b"incr a abc\r\n", invalid);
    assert_reply(b"incr a 1x\r\n", invalid);
    assert_reply(b"incr a 18446744073709551616\r\n", invalid);
    assert_line_error(
        b"incr a abc noreply\r\n",
        ProtocolError::INVALID_DELTA,
        true,
    );
    // memcached: `incr a noreply` is silent (noreply is read as the delta).
    assert_line_error(b"incr a noreply\r\n", ProtocolError::INVALID_DELTA, true);
    assert_line_error(b"incr a\r\n", ProtocolError::UnknownCommand, false);
    assert_line_error(b"decr a 1 2 3\r\n", ProtocolError::UnknownCommand, false);
}

#[test]
fn touch() {
    assert_eq!(
        request(b"touch a 10\r\n"),
        Request::Touch {
            key: b"a",
            exptime: 10,
            noreply: false
        }
    );
    assert_eq!(
        request(b"touch a 5 x\r\n"),
        Request::Touch {
            key: b"a",
            exptime: 5,
            noreply: false
        }
    );
    assert_eq!(
        request(b"touch a 4294967296 noreply\r\n"),
        Request::Touch {
            key: b"a",
            exptime: 0,
            noreply: true
        }
    );
    assert_reply(
        b"touch a abc\r\n",
        "CLIENT_ERROR invalid exptime argument\r\n",
    );
    assert_line_error(
        b"touch a abc noreply\r\n",
        ProtocolError::INVALID_EXPTIME,
        true,
    );
    assert_line_error(b"touch a noreply\r\n", ProtocolError::INVALID_EXPTIME, true);
    assert_line_error(b"touch a\r\n", ProtocolError::UnknownCommand, false);
}

#[test]
fn flush_all() {
    let flush = |delay, noreply| Request::FlushAll { delay, noreply };
    assert_eq!(request(b"flush_all\r\n"), flush(0, false));
    assert_eq!(request(b"flush_all noreply\r\n"), flush(0, true));
    assert_eq!(request(b"flush_all 10\r\n"), flush(10, false));
    assert_eq!(request(b"flush_all 10 noreply\r\n"), flush(10, true));
    // memcached: OK for `flush_all 10 20` (10 s) and `flush_all -1` (now).
    assert_eq!(request(b"flush_all 10 20\r\n"), flush(10, false));
    assert_eq!(request(b"flush_all -1\r\n"), flush(0, false));
    assert_reply(
        b"flush_all abc\r\n",
        "CLIENT_ERROR invalid exptime argument\r\n",
    );
    // With `noreply` and three tokens memcached reads `noreply` as the delay.
    assert_line_error(
        b"flush_all noreply noreply\r\n",
        ProtocolError::INVALID_EXPTIME,
        true,
    );
    assert_line_error(
        b"flush_all noreply 5\r\n",
        ProtocolError::INVALID_EXPTIME,
        false,
    );
    assert_line_error(b"flush_all a b c\r\n", ProtocolError::UnknownCommand, false);
}

#[test]
fn administrative_commands() {
    assert_eq!(request(b"version\r\n"), Request::Version);
    assert_eq!(request(b"version foo\r\n"), Request::Version);
    assert_eq!(request(b"quit\r\n"), Request::Quit);
    assert_eq!(request(b"quit extra\r\n"), Request::Quit);
    // memcached without -A: `ERROR: shutdown not enabled`, whatever follows.
    assert_eq!(request(b"shutdown\r\n"), Request::Shutdown);
    assert_eq!(request(b"shutdown foo bar\r\n"), Request::Shutdown);
    assert_eq!(request(b"mn\r\n"), Request::MetaNoop);
    assert_eq!(request(b"mn foo bar\r\n"), Request::MetaNoop);
    // `mn\r` is a three-byte command name.
    assert_line_error(b"mn\r\r\n", ProtocolError::UnknownCommand, false);
}

#[test]
fn verbosity() {
    let verbosity = |noreply| Request::Verbosity { noreply };
    assert_eq!(request(b"verbosity 1\r\n"), verbosity(false));
    assert_eq!(request(b"verbosity 1 noreply\r\n"), verbosity(true));
    assert_eq!(request(b"verbosity 1 foo\r\n"), verbosity(false));
    assert_eq!(request(b"verbosity 4294967296\r\n"), verbosity(false));
    // memcached: ERROR without a level.
    assert_line_error(b"verbosity\r\n", ProtocolError::UnknownCommand, false);
    assert_reply(
        b"verbosity abc\r\n",
        "CLIENT_ERROR bad command line format\r\n",
    );
    assert_reply(
        b"verbosity -1\r\n",
        "CLIENT_ERROR bad command line format\r\n",
    );
    assert_line_error(b"verbosity noreply\r\n", ProtocolError::BAD_FORMAT, true);
}

#[test]
fn cache_memlimit() {
    let memlimit = |megabytes, noreply| Request::CacheMemlimit { megabytes, noreply };
    assert_eq!(request(b"cache_memlimit 100\r\n"), memlimit(100, false));
    assert_eq!(request(b"cache_memlimit 4 noreply\r\n"), memlimit(4, true));
    assert_eq!(request(b"cache_memlimit 100 x\r\n"), memlimit(100, false));
    // Read into 32 bits: memcached answered OK to 4294967304 (8 MB).
    assert_eq!(
        request(b"cache_memlimit 4294967304\r\n"),
        memlimit(8, false)
    );
    // memcached: a plain ERROR for a bad number.
    assert_line_error(
        b"cache_memlimit abc\r\n",
        ProtocolError::UnknownCommand,
        false,
    );
    assert_line_error(
        b"cache_memlimit abc noreply\r\n",
        ProtocolError::UnknownCommand,
        true,
    );
    assert_line_error(b"cache_memlimit\r\n", ProtocolError::UnknownCommand, false);
}

#[test]
fn stats() {
    assert_eq!(request(b"stats\r\n"), Request::Stats(StatsGroup::General));
    assert_eq!(
        request(b"stats reset\r\n"),
        Request::Stats(StatsGroup::Reset)
    );
    assert_eq!(
        request(b"stats settings\r\n"),
        Request::Stats(StatsGroup::Settings)
    );
    assert_eq!(
        request(b"stats settings foo\r\n"),
        Request::Stats(StatsGroup::Settings)
    );
    assert_eq!(
        request(b"stats slabs\r\n"),
        Request::Stats(StatsGroup::Other(b"slabs"))
    );
    assert_eq!(
        request(b"stats detail on\r\n"),
        Request::Stats(StatsGroup::Other(b"detail"))
    );
}
