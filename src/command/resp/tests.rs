//! Unit tests of the RESP commands against one store, with expected replies
//! as Redis 7 writes them.

use super::connection::{answer, select, Session};
use super::encodings::EncodingConfig;
use super::*;
use crate::clock::Now;
use crate::config::Settings;
use crate::protocol::resp::{parse, Args, Limits, Parsed};

const T0: Now = Now(1_700_000_000_000);

/// `args` as a RESP multibulk request.
pub(super) fn encode(args: &[&str]) -> String {
    let mut frame = format!("*{}\r\n", args.len());
    for arg in args {
        frame.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
    }
    frame
}

/// Binary `args` as a RESP multibulk request.
pub(super) fn encode_bytes(args: &[&[u8]]) -> Vec<u8> {
    let mut frame = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        frame.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        frame.extend_from_slice(arg);
        frame.extend_from_slice(b"\r\n");
    }
    frame
}

/// One shard's store and a connection's session, run as the server runs
/// them (routing included), on one shard.
pub(super) struct Shard {
    store: Store,
    stats: ShardStats,
    settings: Settings,
    encodings: EncodingConfig,
    now: Now,
    session: Session,
}

impl Shard {
    pub(super) fn new() -> Shard {
        Shard {
            store: Store::new(),
            stats: ShardStats::default(),
            settings: Settings::for_tests(),
            encodings: EncodingConfig::default(),
            now: T0,
            session: Session::default(),
        }
    }

    /// Runs one command given as its arguments; returns the reply bytes.
    pub(super) fn run(&mut self, args: &[&str]) -> String {
        let args: Vec<&[u8]> = args.iter().map(|arg| arg.as_bytes()).collect();
        String::from_utf8(self.run_bytes(&args)).expect("utf-8 reply")
    }

    /// Runs one command given as binary arguments; returns the reply bytes.
    pub(super) fn run_bytes(&mut self, args: &[&[u8]]) -> Vec<u8> {
        let frame = encode_bytes(args);
        let mut parsed = Args::new();
        let Parsed::Command { argv, .. } = parse(&frame, &Limits::default(), &mut parsed) else {
            panic!("test frame must parse");
        };
        let mut out = Vec::new();
        if let Ok((command, route)) = route(&argv, &mut out) {
            let mut cx = RespContext {
                store: &mut self.store,
                stats: &mut self.stats,
                now: self.now,
                settings: &self.settings,
                version: self.session.version,
                shard: 0,
                shards: 1,
                encodings: &self.encodings,
            };
            match route {
                Route::Key(_)
                | Route::ScanShard
                | Route::AllShardsConcat
                | Route::RandomShard
                | Route::Pairs
                | Route::Blocking(_)
                | Route::Two(..) => execute(command, &argv, &mut cx, &mut out),
                Route::EachKeyArray => {
                    reply::array_header(&mut out, argv.len() - 1);
                    for key in argv.iter().skip(1) {
                        execute_key(command, key, &mut cx, &mut out);
                    }
                }
                Route::EachKeySum => {
                    let sum = argv
                        .iter()
                        .skip(1)
                        .map(|key| count_key(command, key, &mut cx))
                        .sum();
                    reply::integer(&mut out, sum);
                }
                Route::AllShardsSum => reply::integer(&mut out, dbsize(&cx)),
                Route::AllShardsOk if !flush_mode_is_valid(&argv) => {
                    reply::error(&mut out, SYNTAX_ERROR);
                }
                Route::AllShardsOk => {
                    cx.store.flush_all();
                    reply::simple_string(&mut out, b"OK");
                }
                Route::Connection if command == Command::Select => {
                    select(&argv, &mut self.session, 16, &mut out);
                }
                Route::Connection if command == Command::Hello => {
                    let pass = super::auth::RequirePass::new(None);
                    super::connection::hello(&argv, &mut self.session, &pass, &mut out);
                }
                Route::Connection => {
                    answer(command, &argv, &mut self.session, self.now, &mut out);
                }
                // Needs a shard's subscriber table: `server::pubsub`.
                Route::PubSub => {}
                Route::Clients | Route::Slowlog => panic!("served by the server layer"),
            }
        }
        out
    }

    fn later(&mut self, millis: u64) {
        self.now = Now(self.now.0 + millis);
    }
}

/// Runs each `(command, expected reply)` in order.
pub(super) fn expect_all(shard: &mut Shard, script: &[(&[&str], &str)]) {
    for (args, expected) in script {
        assert_eq!(shard.run(args), *expected, "{args:?}");
    }
}

#[test]
fn unknown_commands_and_wrong_arity_are_worded_as_redis() {
    let mut shard = Shard::new();
    assert_eq!(
        shard.run(&["foo", "a", "b"]),
        "-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n"
    );
    assert_eq!(
        shard.run(&["nope"]),
        "-ERR unknown command 'nope', with args beginning with: \r\n"
    );
    assert_eq!(
        shard.run(&["GET"]),
        "-ERR wrong number of arguments for 'get' command\r\n"
    );
    assert_eq!(
        shard.run(&["set", "k"]),
        "-ERR wrong number of arguments for 'set' command\r\n"
    );
    assert_eq!(
        shard.run(&["ping", "a", "b"]),
        "-ERR wrong number of arguments for 'ping' command\r\n"
    );
}

#[test]
fn set_and_get_with_every_option() {
    let mut shard = Shard::new();
    assert_eq!(shard.run(&["GET", "k"]), "$-1\r\n");
    assert_eq!(shard.run(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(shard.run(&["get", "k"]), "$1\r\nv\r\n");
    assert_eq!(shard.run(&["SET", "k", "w", "NX"]), "$-1\r\n");
    assert_eq!(shard.run(&["SET", "k", "w", "XX", "GET"]), "$1\r\nv\r\n");
    assert_eq!(shard.run(&["SET", "other", "w", "XX"]), "$-1\r\n");
    assert_eq!(
        shard.run(&["SET", "k", "x", "NX", "XX"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(shard.run(&["SET", "k", "x", "EX"]), "-ERR syntax error\r\n");
    assert_eq!(
        shard.run(&["SET", "k", "x", "EX", "10", "PX", "5"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        shard.run(&["SET", "k", "x", "EX", "10", "KEEPTTL"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        shard.run(&["SET", "k", "x", "EX", "0"]),
        "-ERR invalid expire time in 'set' command\r\n"
    );
    assert_eq!(
        shard.run(&["SET", "k", "x", "EX", "abc"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(shard.run(&["SET", "k", "x", "EX", "10"]), "+OK\r\n");
    assert_eq!(shard.run(&["TTL", "k"]), ":10\r\n");
    assert_eq!(shard.run(&["SET", "k", "y", "KEEPTTL"]), "+OK\r\n");
    assert_eq!(shard.run(&["PTTL", "k"]), ":10000\r\n");
    assert_eq!(shard.run(&["SET", "k", "z"]), "+OK\r\n");
    assert_eq!(shard.run(&["TTL", "k"]), ":-1\r\n");
    assert_eq!(
        shard.run(&["SET", "k", "z", "PXAT", &(T0.0 + 1500).to_string()]),
        "+OK\r\n"
    );
    assert_eq!(shard.run(&["TTL", "k"]), ":2\r\n");
    shard.later(1500);
    assert_eq!(shard.run(&["GET", "k"]), "$-1\r\n");
    assert_eq!(shard.run(&["TTL", "k"]), ":-2\r\n");
}

#[test]
fn setnx_setex_getset_getdel_getex() {
    let mut shard = Shard::new();
    assert_eq!(shard.run(&["SETNX", "k", "1"]), ":1\r\n");
    assert_eq!(shard.run(&["SETNX", "k", "2"]), ":0\r\n");
    assert_eq!(shard.run(&["GETSET", "k", "3"]), "$1\r\n1\r\n");
    assert_eq!(shard.run(&["GETDEL", "k"]), "$1\r\n3\r\n");
    assert_eq!(shard.run(&["GETDEL", "k"]), "$-1\r\n");
    assert_eq!(
        shard.run(&["SETEX", "k", "-1", "v"]),
        "-ERR invalid expire time in 'setex' command\r\n"
    );
    assert_eq!(shard.run(&["PSETEX", "k", "2500", "v"]), "+OK\r\n");
    assert_eq!(shard.run(&["PTTL", "k"]), ":2500\r\n");
    assert_eq!(shard.run(&["GETEX", "k", "PERSIST"]), "$1\r\nv\r\n");
    assert_eq!(shard.run(&["TTL", "k"]), ":-1\r\n");
    assert_eq!(shard.run(&["GETEX", "k", "EX", "100"]), "$1\r\nv\r\n");
    assert_eq!(shard.run(&["TTL", "k"]), ":100\r\n");
    assert_eq!(shard.run(&["GETEX", "k", "FOO"]), "-ERR syntax error\r\n");
    assert_eq!(shard.run(&["GETEX", "missing"]), "$-1\r\n");
}

#[test]
fn counters_follow_redis_integer_rules() {
    let mut shard = Shard::new();
    assert_eq!(shard.run(&["INCR", "n"]), ":1\r\n");
    assert_eq!(shard.run(&["INCRBY", "n", "41"]), ":42\r\n");
    assert_eq!(shard.run(&["DECRBY", "n", "50"]), ":-8\r\n");
    assert_eq!(shard.run(&["DECR", "n"]), ":-9\r\n");
    assert_eq!(shard.run(&["GET", "n"]), "$2\r\n-9\r\n");
    assert_eq!(
        shard.run(&["INCRBY", "n", "1.5"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        shard.run(&["INCRBY", "n", "+1"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    shard.run(&["SET", "s", "abc"]);
    assert_eq!(
        shard.run(&["INCR", "s"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    shard.run(&["SET", "z", "007"]);
    assert_eq!(
        shard.run(&["INCR", "z"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    shard.run(&["SET", "max", &i64::MAX.to_string()]);
    assert_eq!(
        shard.run(&["INCR", "max"]),
        "-ERR increment or decrement would overflow\r\n"
    );
    assert_eq!(
        shard.run(&["DECRBY", "n", &i64::MIN.to_string()]),
        "-ERR value is not an integer or out of range\r\n"
    );
}

#[test]
fn append_strlen_getrange_setrange() {
    let mut shard = Shard::new();
    assert_eq!(shard.run(&["APPEND", "k", "Hello"]), ":5\r\n");
    assert_eq!(shard.run(&["APPEND", "k", " World"]), ":11\r\n");
    assert_eq!(shard.run(&["STRLEN", "k"]), ":11\r\n");
    assert_eq!(shard.run(&["STRLEN", "missing"]), ":0\r\n");
    assert_eq!(shard.run(&["GETRANGE", "k", "0", "4"]), "$5\r\nHello\r\n");
    assert_eq!(shard.run(&["GETRANGE", "k", "-5", "-1"]), "$5\r\nWorld\r\n");
    assert_eq!(shard.run(&["GETRANGE", "k", "5", "2"]), "$0\r\n\r\n");
    assert_eq!(
        shard.run(&["GETRANGE", "k", "0", "100"]),
        "$11\r\nHello World\r\n"
    );
    assert_eq!(shard.run(&["GETRANGE", "missing", "0", "1"]), "$0\r\n\r\n");
    assert_eq!(shard.run(&["SETRANGE", "k", "6", "Redis"]), ":11\r\n");
    assert_eq!(shard.run(&["GET", "k"]), "$11\r\nHello Redis\r\n");
    assert_eq!(shard.run(&["SETRANGE", "pad", "3", "x"]), ":4\r\n");
    assert_eq!(shard.run(&["GET", "pad"]), "$4\r\n\0\0\0x\r\n");
    assert_eq!(
        shard.run(&["SETRANGE", "k", "-1", "x"]),
        "-ERR offset is out of range\r\n"
    );
    assert_eq!(
        shard.run(&["SETRANGE", "k", "536870912", "x"]),
        "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
    );
}

#[test]
fn expire_family_with_nx_xx_gt_lt() {
    let mut shard = Shard::new();
    assert_eq!(shard.run(&["EXPIRE", "k", "10"]), ":0\r\n");
    shard.run(&["SET", "k", "v"]);
    assert_eq!(shard.run(&["EXPIRE", "k", "10", "XX"]), ":0\r\n");
    assert_eq!(shard.run(&["EXPIRE", "k", "10", "GT"]), ":0\r\n");
    assert_eq!(shard.run(&["EXPIRE", "k", "10", "NX"]), ":1\r\n");
    assert_eq!(shard.run(&["EXPIRE", "k", "20", "NX"]), ":0\r\n");
    assert_eq!(shard.run(&["EXPIRE", "k", "5", "GT"]), ":0\r\n");
    assert_eq!(shard.run(&["EXPIRE", "k", "20", "GT"]), ":1\r\n");
    assert_eq!(shard.run(&["PEXPIRE", "k", "3000", "LT"]), ":1\r\n");
    assert_eq!(shard.run(&["PTTL", "k"]), ":3000\r\n");
    assert_eq!(
        shard.run(&["EXPIRE", "k", "5", "NX", "XX"]),
        "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"
    );
    assert_eq!(
        shard.run(&["EXPIRE", "k", "5", "GT", "LT"]),
        "-ERR GT and LT options at the same time are not compatible\r\n"
    );
    assert_eq!(
        shard.run(&["EXPIRE", "k", "5", "YY"]),
        "-ERR Unsupported option YY\r\n"
    );
    let at = (T0.0 / 1000 + 100).to_string();
    assert_eq!(shard.run(&["EXPIREAT", "k", &at]), ":1\r\n");
    assert_eq!(shard.run(&["EXPIRETIME", "k"]), format!(":{at}\r\n"));
    assert_eq!(shard.run(&["PEXPIRETIME", "k"]), format!(":{}000\r\n", at));
    assert_eq!(shard.run(&["PERSIST", "k"]), ":1\r\n");
    assert_eq!(shard.run(&["PERSIST", "k"]), ":0\r\n");
    assert_eq!(shard.run(&["EXPIRETIME", "k"]), ":-1\r\n");
    // A deadline in the past deletes the key.
    assert_eq!(shard.run(&["EXPIRE", "k", "-1"]), ":1\r\n");
    assert_eq!(shard.run(&["EXISTS", "k"]), ":0\r\n");
    assert_eq!(shard.run(&["TYPE", "k"]), "+none\r\n");
}

#[test]
fn multi_key_commands_count_and_gather() {
    let mut shard = Shard::new();
    shard.run(&["SET", "a", "1"]);
    shard.run(&["SET", "b", "2"]);
    assert_eq!(
        shard.run(&["MGET", "a", "x", "b"]),
        "*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n2\r\n"
    );
    assert_eq!(shard.run(&["EXISTS", "a", "a", "x"]), ":2\r\n");
    assert_eq!(shard.run(&["TYPE", "a"]), "+string\r\n");
    assert_eq!(shard.run(&["DBSIZE"]), ":2\r\n");
    assert_eq!(shard.run(&["DEL", "a", "x", "a"]), ":1\r\n");
    assert_eq!(shard.run(&["UNLINK", "b"]), ":1\r\n");
    assert_eq!(shard.run(&["DBSIZE"]), ":0\r\n");
    shard.run(&["SET", "c", "3"]);
    assert_eq!(shard.run(&["FLUSHALL", "BOGUS"]), "-ERR syntax error\r\n");
    assert_eq!(shard.run(&["FLUSHDB", "ASYNC"]), "+OK\r\n");
    assert_eq!(shard.run(&["DBSIZE"]), ":0\r\n");
}

#[test]
fn connection_commands() {
    let mut shard = Shard::new();
    assert_eq!(shard.run(&["PING"]), "+PONG\r\n");
    assert_eq!(shard.run(&["PING", "hi"]), "$2\r\nhi\r\n");
    assert_eq!(shard.run(&["ECHO", "x y"]), "$3\r\nx y\r\n");
    assert_eq!(shard.run(&["SELECT", "0"]), "+OK\r\n");
    assert_eq!(shard.run(&["SELECT", "15"]), "+OK\r\n");
    assert_eq!(shard.session.db, 15);
    assert_eq!(
        shard.run(&["SELECT", "16"]),
        "-ERR DB index is out of range\r\n"
    );
    assert_eq!(
        shard.run(&["SELECT", "-1"]),
        "-ERR DB index is out of range\r\n"
    );
    assert_eq!(shard.run(&["RESET"]), "+RESET\r\n");
    assert_eq!(shard.session.db, 0);
    assert_eq!(
        shard.run(&["SELECT", "x"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        shard.run(&["HELLO", "4"]),
        "-NOPROTO unsupported protocol version\r\n"
    );
    assert_eq!(shard.run(&["CLIENT", "GETNAME"]), "$-1\r\n");
    assert_eq!(
        shard.run(&["CLIENT", "SETNAME", "a b"]),
        "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
    );
    assert_eq!(shard.run(&["CLIENT", "SETNAME", "app"]), "+OK\r\n");
    assert_eq!(shard.run(&["CLIENT", "GETNAME"]), "$3\r\napp\r\n");
    assert_eq!(
        shard.run(&["CLIENT", "SETINFO", "LIB-NAME", "redis-py"]),
        "+OK\r\n"
    );
    let hello = shard.run(&["HELLO", "3", "SETNAME", "n3"]);
    assert!(
        hello.starts_with("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n"),
        "{hello}"
    );
    assert!(hello.contains("$5\r\nproto\r\n:3\r\n"), "{hello}");
    assert_eq!(shard.run(&["GET", "missing"]), "_\r\n", "RESP3 null");
    assert_eq!(shard.run(&["CLIENT", "GETNAME"]), "$2\r\nn3\r\n");
    assert_eq!(shard.run(&["RESET"]), "+RESET\r\n");
    assert_eq!(shard.run(&["GET", "missing"]), "$-1\r\n", "back to RESP2");
    assert_eq!(
        shard.run(&["COMMAND", "COUNT"]),
        format!(":{}\r\n", COMMANDS.len())
    );
    assert_eq!(
        shard.run(&["COMMAND", "INFO", "get", "nosuch"]),
        "*2\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*0\r\n*0\r\n*0\r\n*0\r\n*-1\r\n"
    );
    assert!(shard
        .run(&["CLIENT", "BOGUS"])
        .starts_with("-ERR unknown subcommand"));
}

#[test]
fn integer_arguments_are_parsed_like_string2ll() {
    assert_eq!(parse_i64(b"0"), Some(0));
    assert_eq!(parse_i64(b"-12"), Some(-12));
    assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
    assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
    for bad in [
        &b""[..],
        b"-",
        b"-0",
        b"01",
        b"+1",
        b" 1",
        b"1 ",
        b"1.0",
        b"9223372036854775808",
    ] {
        assert_eq!(parse_i64(bad), None, "{:?}", String::from_utf8_lossy(bad));
    }
}

#[test]
fn mset_msetnx_on_one_shard() {
    let mut shard = Shard::new();
    assert_eq!(shard.run(&["MSET", "a", "1", "b", "2"]), "+OK\r\n");
    assert_eq!(
        shard.run(&["MSET", "a", "1", "b"]),
        "-ERR wrong number of arguments for 'mset' command\r\n"
    );
    assert_eq!(shard.run(&["MSETNX", "a", "9", "c", "3"]), ":0\r\n");
    assert_eq!(shard.run(&["GET", "c"]), "$-1\r\n");
    assert_eq!(shard.run(&["MSETNX", "c", "3", "d", "4"]), ":1\r\n");
    assert_eq!(
        shard.run(&["MGET", "a", "b", "c", "d"]),
        "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n"
    );
}

#[test]
fn rename_renamenx_copy_on_one_shard() {
    let mut shard = Shard::new();
    assert_eq!(shard.run(&["RENAME", "none", "x"]), "-ERR no such key\r\n");
    assert_eq!(
        shard.run(&["RENAMENX", "none", "x"]),
        "-ERR no such key\r\n"
    );
    assert_eq!(shard.run(&["COPY", "none", "x"]), ":0\r\n");
    assert_eq!(shard.run(&["SET", "s", "v", "PX", "5000"]), "+OK\r\n");
    assert_eq!(shard.run(&["RENAME", "s", "s"]), "+OK\r\n");
    assert_eq!(shard.run(&["RENAMENX", "s", "s"]), ":0\r\n");
    assert_eq!(
        shard.run(&["COPY", "s", "s"]),
        "-ERR source and destination objects are the same\r\n"
    );
    assert_eq!(shard.run(&["RENAME", "s", "t"]), "+OK\r\n");
    assert_eq!(shard.run(&["PTTL", "t"]), ":5000\r\n");
    assert_eq!(shard.run(&["EXISTS", "s"]), ":0\r\n");
    assert_eq!(shard.run(&["SET", "u", "other"]), "+OK\r\n");
    assert_eq!(shard.run(&["RENAMENX", "t", "u"]), ":0\r\n");
    assert_eq!(shard.run(&["COPY", "t", "u"]), ":0\r\n");
    assert_eq!(shard.run(&["COPY", "t", "u", "REPLACE"]), ":1\r\n");
    assert_eq!(shard.run(&["GET", "u"]), "$1\r\nv\r\n");
    assert_eq!(shard.run(&["PTTL", "u"]), ":5000\r\n");
    assert_eq!(shard.run(&["COPY", "t", "w", "DB", "0"]), ":1\r\n");
    assert_eq!(
        shard.run(&["COPY", "t", "w", "DB", "x"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        shard.run(&["COPY", "t", "w", "DB", "16"]),
        "-ERR DB index is out of range\r\n"
    );
    assert_eq!(
        shard.run(&["COPY", "t", "w", "BOGUS"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(shard.run(&["RENAME", "t", "u"]), "+OK\r\n");
    assert_eq!(shard.run(&["RENAMENX", "u", "fresh"]), ":1\r\n");
    assert_eq!(shard.run(&["EXISTS", "t", "u", "fresh"]), ":1\r\n");
}

#[test]
fn incrbyfloat_adds_in_long_double() {
    let mut shard = Shard::new();
    shard.run(&["SET", "f", "10.50", "EX", "100"]);
    shard.run(&["SET", "e", ""]);
    shard.run(&["SET", "w", "abc"]);
    const NOT_FLOAT: &str = "-ERR value is not a valid float\r\n";
    const NOT_FINITE: &str = "-ERR increment would produce NaN or Infinity\r\n";
    expect_all(
        &mut shard,
        &[
            (&["INCRBYFLOAT", "f", "0.1"], "$4\r\n10.6\r\n"),
            (&["INCRBYFLOAT", "f", "-5"], "$3\r\n5.6\r\n"),
            (
                &["INCRBYFLOAT", "f", "5.0e3"],
                "$22\r\n5005.60000000000000009\r\n",
            ),
            (&["TTL", "f"], ":100\r\n"),
            (&["INCRBYFLOAT", "n", "3"], "$1\r\n3\r\n"),
            (&["INCRBYFLOAT", "n", "0.0"], "$1\r\n3\r\n"),
            (&["INCR", "n"], ":4\r\n"),
            (&["INCRBYFLOAT", "n", "-4"], "$1\r\n0\r\n"),
            (&["INCRBYFLOAT", "n", "inf"], NOT_FINITE),
            (&["INCRBYFLOAT", "n", "-INFINITY"], NOT_FINITE),
            (&["INCRBYFLOAT", "n", "nan"], NOT_FLOAT),
            (&["INCRBYFLOAT", "n", "abc"], NOT_FLOAT),
            (&["INCRBYFLOAT", "n", " 1"], NOT_FLOAT),
            (&["INCRBYFLOAT", "n", "1 "], NOT_FLOAT),
            (&["INCRBYFLOAT", "n", ""], NOT_FLOAT),
            (&["INCRBYFLOAT", "n", "1e5000"], NOT_FLOAT),
            (&["INCRBYFLOAT", "e", "1"], NOT_FLOAT),
            (&["INCRBYFLOAT", "w", "1"], NOT_FLOAT),
            (&["INCRBYFLOAT", "w", "x"], NOT_FLOAT),
            (
                &["INCRBYFLOAT", "n"],
                "-ERR wrong number of arguments for 'incrbyfloat' command\r\n",
            ),
            (&["GET", "n"], "$1\r\n0\r\n"),
        ],
    );
    let big = shard.run(&["INCRBYFLOAT", "h", "1.18973149535723176502e+4932"]);
    assert!(
        big.starts_with("$4933\r\n118973149535723176502126385303"),
        "{big}"
    );
    assert_eq!(
        shard.run(&["INCRBYFLOAT", "h", "1.18973149535723176502e+4932"]),
        NOT_FINITE
    );
}
