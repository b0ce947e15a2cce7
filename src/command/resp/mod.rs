//! What each Redis command does, on the shard that owns its key: the
//! command table (names, arity, key positions, flags, as Redis 7's
//! `src/commands/*.json` declare them), routing, and dispatch to one file
//! per family.
//!
//! This module knows nothing of connections or shards: `server::resp`
//! routes each request with [`route`] and runs it with [`execute`] (keyed
//! commands, on the key's shard), [`execute_key`] (one key of a multi-key
//! command), `connection::answer` (commands that touch no key) or
//! `server::answer` (`INFO` and `CONFIG`, from a view of the whole server).
//!
//! Values written through RESP are plain strings in the shared store, with
//! memcached flags 0: memcached's `get` reads what `SET` wrote and the
//! reverse; `INCR` and memcached's `incr` both keep the decimal digits.

pub mod auth;
mod big_uint;
pub mod bitfield;
pub mod bits;
pub mod blocking;
pub mod client;
pub mod connection;
pub mod copies;
pub mod debug;
pub mod encodings;
pub mod glob;
mod hash;
mod keys;
pub mod label;
pub mod lcs;
mod list;
mod long_double;
pub mod moves;
mod object;
pub mod pubsub;
mod random;
pub mod scan;
pub mod server;
pub mod set;
pub mod slowlog;
mod strings;
mod table;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_bitfield;
#[cfg(test)]
mod tests_bits;
#[cfg(test)]
mod tests_server;
pub mod transaction;
pub mod typecheck;
pub mod zset;

pub use table::{lookup, Command, Keys, Spec, COMMANDS};

use crate::clock::Now;
use crate::config::Settings;
use crate::protocol::resp::reply::{self, Version};
use crate::protocol::resp::Argv;
use crate::shard::SlotMap;
use crate::stats::ShardStats;
use crate::store::{Limits, Store};
use encodings::EncodingConfig;

/// What a command may touch while it runs.
pub struct RespContext<'a> {
    pub store: &'a mut Store,
    pub stats: &'a mut ShardStats,
    pub now: Now,
    pub settings: &'a Settings,
    /// The protocol version of the connection the request came from.
    pub version: Version,
    /// This shard's id, and how many shards there are (for SCAN cursors).
    pub shard: usize,
    pub shards: usize,
    /// When small collections convert (`CONFIG SET hash-max-listpack-…`).
    pub encodings: &'a EncodingConfig,
}

impl RespContext<'_> {
    /// The encoding thresholds now.
    pub fn limits(&self) -> Limits {
        self.encodings.limits()
    }
}

/// Where a request must run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route<'a> {
    /// On the shard owning this key.
    Key(&'a [u8]),
    /// Each key (arguments 1..) on its own shard, one reply per key,
    /// gathered into one array (`MGET`).
    EachKeyArray,
    /// Each key on its own shard, the integer replies summed (`DEL`,
    /// `EXISTS`, `UNLINK`, `TOUCH`).
    EachKeySum,
    /// `key value` pairs from argument 1 (`MSET`, `MSETNX`): on the keys'
    /// shard, or atomically across shards.
    Pairs,
    /// A source and a destination key (`RENAME`, `RENAMENX`, `COPY`): on
    /// their shard, or atomically across two.
    Two(&'a [u8], &'a [u8]),
    /// On every shard, the integer replies summed (`DBSIZE`).
    AllShardsSum,
    /// On every shard at once, then `+OK` (`FLUSHALL`, `FLUSHDB`,
    /// `SWAPDB`).
    AllShardsOk,
    /// On the shard a SCAN cursor names.
    ScanShard,
    /// On every shard, the array replies joined (`KEYS`).
    AllShardsConcat,
    /// On one shard, chosen at random in proportion to its keys
    /// (`RANDOMKEY`).
    RandomShard,
    /// On the connection's own shard, touching no key.
    Connection,
    /// Pub/sub (`SUBSCRIBE`… `PUBLISH`, `PUBSUB`): the connection's
    /// subscriptions, delivery on every shard (`server::pubsub`).
    PubSub,
    /// About the server's clients, by the server layer that owns the
    /// connections (`CLIENT LIST`, `INFO`, `KILL`, `REPLY`, `NO-EVICT`).
    Clients,
    /// The slow log, which all shards share (`SLOWLOG`).
    Slowlog,
    /// A blocking pop (`BLPOP`…), on the shard of this key (its first),
    /// which holds all of its keys: the server layer waits there for data
    /// (`server::blocking`); [`execute`] runs it without waiting.
    Blocking(&'a [u8]),
}

/// Why [`route`] answered a request itself, with an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No such command.
    Unknown,
    /// The command refused before it ran (a wrong argument count): Redis's
    /// `rejected_calls`.
    Rejected(Command),
    /// The command ran and failed on its arguments: `failed_calls`.
    Failed(Command),
}

/// Finds `argv`'s command and checks its arity; an unknown command or a
/// wrong argument count is answered (Redis's words) into `out`.
pub fn route<'a>(argv: &Argv<'a>, out: &mut Vec<u8>) -> Result<(Command, Route<'a>), Refusal> {
    let Some(command) = lookup(argv.name()) else {
        unknown_command(argv, out);
        return Err(Refusal::Unknown);
    };
    let spec = command.spec();
    let argc = argv.len() as i32;
    if (spec.arity > 0 && argc != spec.arity) || (spec.arity < 0 && argc < -spec.arity) {
        wrong_arity(spec.name, out);
        return Err(Refusal::Rejected(command));
    }
    if label::is_container(command) && argc >= 2 && label::Label::of(command, argv).is_none() {
        unknown_subcommand(argv, out);
        return Err(Refusal::Unknown);
    }
    let route = match command {
        Command::Mget => Route::EachKeyArray,
        Command::Del | Command::Unlink | Command::Exists | Command::Touch => Route::EachKeySum,
        Command::Mset | Command::Msetnx if argc % 2 == 0 => {
            wrong_arity(spec.name, out);
            return Err(Refusal::Failed(command));
        }
        Command::Mset | Command::Msetnx => Route::Pairs,
        Command::Rename | Command::Renamenx | Command::Copy => Route::Two(
            argv.get(1).unwrap_or_default(),
            argv.get(2).unwrap_or_default(),
        ),
        Command::Dbsize => Route::AllShardsSum,
        Command::Scan => Route::ScanShard,
        Command::Keys => Route::AllShardsConcat,
        Command::Randomkey => Route::RandomShard,
        // SPUBLISH and SSUBSCRIBE declare their channels as keys (for
        // cluster slots), but a channel's subscribers are on every shard.
        Command::Subscribe
        | Command::Unsubscribe
        | Command::Psubscribe
        | Command::Punsubscribe
        | Command::Ssubscribe
        | Command::Sunsubscribe
        | Command::Publish
        | Command::Spublish
        | Command::Pubsub => Route::PubSub,
        // (Their arguments are checked when they run: `flush_mode_is_valid`.)
        Command::Flushall | Command::Flushdb | Command::Swapdb => Route::AllShardsOk,
        Command::Client if client::needs_connections(argv) => Route::Clients,
        Command::Slowlog => Route::Slowlog,
        _ if blocking::is_blocking(command) => Route::Blocking(blocking::first_key(command, argv)),
        _ => match spec.keys {
            Keys::None => Route::Connection,
            Keys::First | Keys::All | Keys::Pairs | Keys::Two | Keys::AllButLast => {
                Route::Key(argv.get(1).unwrap_or_default())
            }
            Keys::AfterFirst => Route::Key(argv.get(2).unwrap_or_default()),
            // Without its key (`OBJECT HELP`, or too few arguments) the
            // command is answered where the connection is.
            Keys::Second => argv.get(2).map_or(Route::Connection, Route::Key),
            // The first key; a bad count is answered on that shard too.
            Keys::Numkeys => Route::Key(argv.get(2).unwrap_or_default()),
        },
    };
    Ok((command, route))
}

/// Redis's reply to a write that may grow memory while the store is over
/// its limit and the policy may evict nothing.
pub const OOM: &[u8] = b"OOM command not allowed when used memory > 'maxmemory'.";

/// Runs a keyed command on the shard that owns its key. A command Redis
/// flags `denyoom` first makes room under the memory limit (evicting what
/// the policy allows) and is refused with [`OOM`] if it cannot.
pub fn execute(command: Command, argv: &Argv<'_>, cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    if command.is_denyoom() && !cx.store.make_room_for_write(cx.now) {
        return reply::error(out, OOM);
    }
    if let Some(error) = typecheck::refusal(command, argv, cx) {
        return reply::error(out, error);
    }
    match command {
        Command::Get
        | Command::Set
        | Command::Setnx
        | Command::Setex
        | Command::Psetex
        | Command::Getset
        | Command::Getdel
        | Command::Getex
        | Command::Append
        | Command::Strlen
        | Command::Incr
        | Command::Decr
        | Command::Incrby
        | Command::Decrby
        | Command::Getrange
        | Command::Setrange
        | Command::Mset
        | Command::Msetnx
        | Command::Incrbyfloat => strings::execute(command, argv, cx, out),
        Command::Rename | Command::Renamenx | Command::Copy => {
            moves::execute(command, argv, cx, out)
        }
        Command::Setbit
        | Command::Getbit
        | Command::Bitcount
        | Command::Bitpos
        | Command::Bitfield
        | Command::BitfieldRo => bits::execute(command, argv, cx, out),
        // Multi-key: here only when every key is on this shard.
        Command::Bitop => bits::execute_bitop(argv, cx, out),
        Command::Lcs => lcs::execute(argv, cx, out),
        Command::Type
        | Command::Ttl
        | Command::Pttl
        | Command::Expiretime
        | Command::Pexpiretime
        | Command::Expire
        | Command::Pexpire
        | Command::Expireat
        | Command::Pexpireat
        | Command::Persist => keys::execute(command, argv, cx, out),
        Command::Scan => match scan::parse(argv) {
            Ok(request) => scan::scan(&request, cx.shard, cx.shards, cx, out),
            Err(error) => reply::error(out, error),
        },
        Command::Keys => scan::keys(argv.get(1).unwrap_or_default(), cx, out),
        Command::Randomkey => scan::random_key(cx, out),
        Command::Object | Command::Memory => object::execute(command, argv, cx, out),
        Command::Hset
        | Command::Hsetnx
        | Command::Hget
        | Command::Hmget
        | Command::Hmset
        | Command::Hdel
        | Command::Hexists
        | Command::Hlen
        | Command::Hstrlen
        | Command::Hkeys
        | Command::Hvals
        | Command::Hgetall
        | Command::Hincrby
        | Command::Hincrbyfloat
        | Command::Hrandfield
        | Command::Hscan => hash::execute(command, argv, cx, out),
        Command::Sadd
        | Command::Srem
        | Command::Smembers
        | Command::Sismember
        | Command::Smismember
        | Command::Scard
        | Command::Spop
        | Command::Srandmember
        | Command::Smove
        | Command::Sinter
        | Command::Sintercard
        | Command::Sunion
        | Command::Sdiff
        | Command::Sinterstore
        | Command::Sunionstore
        | Command::Sdiffstore
        | Command::Sscan => set::execute(command, argv, cx, out),
        Command::Zadd
        | Command::Zcard
        | Command::Zcount
        | Command::Zincrby
        | Command::Zlexcount
        | Command::Zmscore
        | Command::Zpopmax
        | Command::Zpopmin
        | Command::Zrange
        | Command::Zrangebylex
        | Command::Zrangebyscore
        | Command::Zrank
        | Command::Zrem
        | Command::Zremrangebylex
        | Command::Zremrangebyrank
        | Command::Zremrangebyscore
        | Command::Zrevrange
        | Command::Zrevrangebylex
        | Command::Zrevrangebyscore
        | Command::Zrevrank
        | Command::Zscore
        | Command::Zrandmember
        | Command::Zscan
        | Command::Zunion
        | Command::Zinter
        | Command::Zdiff
        | Command::Zunionstore
        | Command::Zinterstore
        | Command::Zdiffstore
        | Command::Zintercard
        | Command::Zrangestore
        | Command::Zmpop => zset::execute(command, argv, cx, out),
        Command::Lpush
        | Command::Rpush
        | Command::Lpushx
        | Command::Rpushx
        | Command::Lpop
        | Command::Rpop
        | Command::Llen
        | Command::Lrange
        | Command::Lindex
        | Command::Lset
        | Command::Linsert
        | Command::Lrem
        | Command::Ltrim
        | Command::Lpos
        | Command::Lmove
        | Command::Rpoplpush
        | Command::Lmpop => list::execute(command, argv, cx, out),
        _ if blocking::is_blocking(command) => blocking::execute(command, argv, cx, out),
        // Not keyed: routed elsewhere.
        _ => reply::error(out, b"ERR internal routing error"),
    }
}

/// Runs one key of a multi-key command (`MGET`, `DEL`, `EXISTS`, `UNLINK`,
/// `TOUCH`) on the key's shard: a bulk (or null) for `MGET`, an integer
/// (0 or 1) for the others.
pub fn execute_key(command: Command, key: &[u8], cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    match command {
        Command::Mget => match cx.store.read(key, cx.now) {
            // MGET answers null for a key of another type, as Redis.
            Some(mut item) if item.is_string() => {
                item.set_last_access(cx.now);
                reply::bulk(out, item.value())
            }
            _ => reply::null(out, cx.version),
        },
        Command::Del | Command::Unlink | Command::Exists | Command::Touch => {
            reply::integer(out, count_key(command, key, cx))
        }
        _ => reply::error(out, b"ERR internal routing error"),
    }
}

/// One key of `DEL`, `UNLINK`, `EXISTS` or `TOUCH`: 1 if it counts (it
/// was live), else 0. The shard answering for several keys sums these.
pub fn count_key(command: Command, key: &[u8], cx: &mut RespContext<'_>) -> i64 {
    // EXISTS and TOUCH read the key (a keyspace hit or miss); DEL and
    // UNLINK do not.
    let found = match command {
        Command::Exists | Command::Touch => cx.store.read(key, cx.now),
        _ => cx.store.get(key, cx.now),
    };
    let Some(mut item) = found else {
        return 0;
    };
    match command {
        Command::Touch => item.set_last_access(cx.now),
        Command::Del | Command::Unlink => {
            cx.store.remove(key);
        }
        _ => {}
    }
    1
}

/// This shard's part of `DBSIZE`: its key count.
pub fn dbsize(cx: &RespContext<'_>) -> i64 {
    cx.store.len() as i64
}

/// `FLUSHALL`/`FLUSHDB` accept `ASYNC` or `SYNC` (both flush at once here).
pub fn flush_mode_is_valid(argv: &Argv<'_>) -> bool {
    match argv.len() {
        1 => true,
        2 => {
            let mode = argv.get(1).unwrap_or_default();
            mode.eq_ignore_ascii_case(b"async") || mode.eq_ignore_ascii_case(b"sync")
        }
        _ => false,
    }
}

/// The largest string a command may build (`proto-max-bulk-len`, 512 MB).
pub const MAX_STRING: i64 = 512 << 20;

/// Whether every one of `keys` belongs to this shard, so that a
/// multi-key command (`BITOP`, `LCS`) can run here on its own. Keys that
/// share a `{hash tag}` always do.
pub fn keys_are_local<'k>(keys: impl IntoIterator<Item = &'k [u8]>, cx: &RespContext<'_>) -> bool {
    let slots = SlotMap::new(cx.shards);
    keys.into_iter().all(|key| slots.shard_of(key) == cx.shard)
}

/// The keys of a command that reads or writes several keys at once and
/// runs where they are (`SINTER`, `LMOVE`, `ZUNIONSTORE`…): when they live
/// on several shards, the server gathers them (see `server::txn`).
/// `None` for every other command, and for malformed arguments, which the
/// command answers wherever it runs.
pub fn multi_keys<'a>(command: Command, argv: &Argv<'a>) -> Option<Vec<&'a [u8]>> {
    match command {
        Command::Smove
        | Command::Sinter
        | Command::Sinterstore
        | Command::Sintercard
        | Command::Sunion
        | Command::Sunionstore
        | Command::Sdiff
        | Command::Sdiffstore => set::keys(command, argv),
        Command::Lmove | Command::Rpoplpush | Command::Lmpop => list::keys(command, argv),
        Command::Zrangestore
        | Command::Zunion
        | Command::Zunionstore
        | Command::Zinter
        | Command::Zinterstore
        | Command::Zdiff
        | Command::Zdiffstore
        | Command::Zintercard
        | Command::Zmpop => zset::keys(command, argv),
        _ => None,
    }
}

/// The `numkeys` keys after a count at argument `at` (`LMPOP`, `ZMPOP`),
/// if the count is valid and at least one argument follows them.
fn numkeys_keys<'a>(argv: &Argv<'a>, at: usize) -> Option<Vec<&'a [u8]>> {
    let numkeys = usize::try_from(parse_i64(argv.get(at)?)?).ok()?;
    if numkeys == 0 || at + numkeys + 1 >= argv.len() {
        return None;
    }
    Some(argv.iter().skip(at + 1).take(numkeys).collect())
}

/// The interim reply to a multi-key command whose keys are on several
/// shards (until cross-shard routing covers it), in Redis Cluster's words so
/// that clients recognise it.
pub const KEYS_ON_SEVERAL_SHARDS: &[u8] = b"CROSSSLOT Keys in request don't hash to the same slot";

/// `ERR syntax error`.
pub const SYNTAX_ERROR: &[u8] = b"ERR syntax error";
/// `ERR value is not an integer or out of range`.
pub const NOT_AN_INTEGER: &[u8] = b"ERR value is not an integer or out of range";

/// Redis's reply to an unknown command: its name (cut at 128 bytes) and
/// its first arguments, quoted, as `processCommand` writes them (arguments
/// are added while their text is under 128 bytes, each cut to fit).
fn unknown_command(argv: &Argv<'_>, out: &mut Vec<u8>) {
    let name = argv.name();
    let mut args = Vec::new();
    for arg in argv.iter().skip(1) {
        if args.len() >= 128 {
            break;
        }
        let take = arg.len().min(128 - args.len());
        args.push(b'\'');
        args.extend_from_slice(&arg[..take]);
        args.extend_from_slice(b"' ");
    }
    let mut text = b"ERR unknown command '".to_vec();
    text.extend_from_slice(&name[..name.len().min(128)]);
    text.extend_from_slice(b"', with args beginning with: ");
    text.extend_from_slice(&args);
    reply::error(out, &text);
}

/// Redis's reply to a container command (`CONFIG`, `CLIENT`…) asked for a
/// subcommand it does not have.
fn unknown_subcommand(argv: &Argv<'_>, out: &mut Vec<u8>) {
    let sub = argv.get(1).unwrap_or_default();
    let text = format!(
        "ERR unknown subcommand '{}'. Try {} HELP.",
        String::from_utf8_lossy(&sub[..sub.len().min(128)]),
        String::from_utf8_lossy(argv.name()).to_uppercase()
    );
    reply::error(out, text.as_bytes());
}

/// The positions `start..end` that Redis's inclusive `start stop` ranks
/// (negative from the end) name among `len` elements: LRANGE, LTRIM,
/// ZRANGE, ZREMRANGEBYRANK.
pub fn inclusive_range(start: i64, stop: i64, len: usize) -> (usize, usize) {
    let len = len as i64;
    let start = if start < 0 {
        (start + len).max(0)
    } else {
        start
    };
    let stop = if stop < 0 {
        stop + len
    } else {
        stop.min(len - 1)
    };
    if start > stop || start >= len {
        return (0, 0);
    }
    (start as usize, stop as usize + 1)
}

/// A random-count argument (HRANDFIELD, SRANDMEMBER, ZRANDMEMBER) outside
/// `-i64::MAX..=i64::MAX`.
pub const COUNT_OUT_OF_RANGE: &[u8] =
    b"ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";

/// `ERR wrong number of arguments for '<name>' command`.
pub fn wrong_arity(name: &str, out: &mut Vec<u8>) {
    let text = format!("ERR wrong number of arguments for '{name}' command");
    reply::error(out, text.as_bytes());
}

/// A size in Redis's memory units, as its `memtoull` reads one: digits,
/// then optionally `b`, `k`/`m`/`g` (decimal) or `kb`/`mb`/`gb` (binary),
/// in any case; `None` for anything else or an overflow.
pub fn memory_bytes(text: &[u8]) -> Option<u64> {
    let digits = text.iter().take_while(|b| b.is_ascii_digit()).count();
    let (number, unit) = text.split_at(digits);
    let number: u64 = std::str::from_utf8(number).ok()?.parse().ok()?;
    let multiplier: u64 = match unit.to_ascii_lowercase().as_slice() {
        b"" | b"b" => 1,
        b"k" => 1000,
        b"kb" => 1 << 10,
        b"m" => 1_000_000,
        b"mb" => 1 << 20,
        b"g" => 1_000_000_000,
        b"gb" => 1 << 30,
        _ => return None,
    };
    number.checked_mul(multiplier)
}

/// Parses a Redis integer argument (`string2ll`: optional `-`, digits, no
/// leading zeros, no `+`, no spaces, within `i64`).
pub fn parse_i64(bytes: &[u8]) -> Option<i64> {
    let digits = bytes.strip_prefix(b"-").unwrap_or(bytes);
    let canonical = match digits {
        [] => false,
        [b'0'] => bytes.len() == 1,
        [first, ..] => *first != b'0' && digits.iter().all(u8::is_ascii_digit),
    };
    if !canonical || bytes.len() > 20 {
        return None;
    }
    std::str::from_utf8(bytes).ok()?.parse().ok()
}
