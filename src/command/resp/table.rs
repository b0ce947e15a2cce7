//! The command table: every command corecache answers on the RESP port,
//! with Redis 7's arity (positive: exactly that many arguments, the name
//! included; negative: at least), key positions and flags, as
//! `COMMAND INFO` reports them.

/// A command corecache implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    Append,
    Bitcount,
    Bitfield,
    BitfieldRo,
    Bitop,
    Bitpos,
    Client,
    Command,
    Config,
    Copy,
    Dbsize,
    Decr,
    Decrby,
    Del,
    Echo,
    Exists,
    Expire,
    Expireat,
    Expiretime,
    Flushall,
    Flushdb,
    Get,
    Getbit,
    Getdel,
    Getex,
    Getrange,
    Getset,
    Hdel,
    Hello,
    Hexists,
    Hget,
    Hgetall,
    Hincrby,
    Hincrbyfloat,
    Hkeys,
    Hlen,
    Hmget,
    Hmset,
    Hrandfield,
    Hscan,
    Hset,
    Hsetnx,
    Hstrlen,
    Hvals,
    Incr,
    Incrby,
    Incrbyfloat,
    Keys,
    Info,
    Lcs,
    Lindex,
    Linsert,
    Llen,
    Lmove,
    Lmpop,
    Lpop,
    Lpos,
    Lpush,
    Lpushx,
    Lrange,
    Lrem,
    Lset,
    Ltrim,
    Memory,
    Mget,
    Move,
    Mset,
    Msetnx,
    Object,
    Persist,
    Pexpire,
    Pexpireat,
    Pexpiretime,
    Ping,
    Psetex,
    Psubscribe,
    Pttl,
    Publish,
    Pubsub,
    Punsubscribe,
    Quit,
    Rename,
    Renamenx,
    Reset,
    Rpop,
    Rpoplpush,
    Rpush,
    Rpushx,
    Sadd,
    Scan,
    Scard,
    Sdiff,
    Sdiffstore,
    Select,
    Set,
    Setbit,
    Setex,
    Setnx,
    Setrange,
    Sinter,
    Sintercard,
    Sinterstore,
    Sismember,
    Slowlog,
    Smembers,
    Smismember,
    Smove,
    Spop,
    Spublish,
    Srandmember,
    Srem,
    Sscan,
    Ssubscribe,
    Strlen,
    Swapdb,
    Subscribe,
    Sunion,
    Sunionstore,
    Sunsubscribe,
    Time,
    Touch,
    Ttl,
    Type,
    Unlink,
    Unsubscribe,
}

/// Which arguments are keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keys {
    /// None.
    None,
    /// Argument 1.
    First,
    /// Every argument from 1.
    All,
    /// Every other argument from 1 (`MSET key value key value…`).
    Pairs,
    /// Arguments 1 and 2 (`RENAME source destination`, `LCS`).
    Two,
    /// Every argument from 2 (`BITOP`: the destination, then the sources).
    AfterFirst,
    /// Argument 2, after a subcommand (`OBJECT ENCODING key`, `MEMORY
    /// USAGE key`).
    Second,
    /// A count at argument 1, then that many keys (`SINTERCARD numkeys
    /// key…`; `COMMAND INFO` shows 0 0 0 and `movablekeys`, as Redis).
    Numkeys,
}

/// What `COMMAND INFO` says of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    pub command: Command,
    /// Lower-case, as Redis reports it.
    pub name: &'static str,
    pub arity: i32,
    pub keys: Keys,
    pub flags: &'static [&'static str],
}

const W: &[&str] = &["write", "denyoom"];
const WF: &[&str] = &["write", "denyoom", "fast"];
const R: &[&str] = &["readonly"];
const RF: &[&str] = &["readonly", "fast"];
const WR: &[&str] = &["write"];
const WRF: &[&str] = &["write", "fast"];
const CONN: &[&str] = &["noscript", "loading", "stale", "fast"];
const SUB: &[&str] = &["pubsub", "noscript", "loading", "stale"];
const PUB: &[&str] = &["pubsub", "loading", "stale", "fast"];

macro_rules! spec {
    ($command:ident, $name:literal, $arity:literal, $keys:ident, $flags:expr) => {
        Spec {
            command: Command::$command,
            name: $name,
            arity: $arity,
            keys: Keys::$keys,
            flags: $flags,
        }
    };
}

/// Every command, in name order.
pub const COMMANDS: &[Spec] = &[
    spec!(Append, "append", 3, First, WF),
    spec!(Bitcount, "bitcount", -2, First, R),
    spec!(Bitfield, "bitfield", -2, First, W),
    spec!(BitfieldRo, "bitfield_ro", -2, First, RF),
    spec!(Bitop, "bitop", -4, AfterFirst, W),
    spec!(Bitpos, "bitpos", -3, First, R),
    spec!(
        Client,
        "client",
        -2,
        None,
        &["noscript", "loading", "stale"]
    ),
    spec!(Command, "command", -1, None, &["loading", "stale"]),
    spec!(Config, "config", -2, None, &[]),
    spec!(Copy, "copy", -3, Two, W),
    spec!(Dbsize, "dbsize", 1, None, RF),
    spec!(Decr, "decr", 2, First, WF),
    spec!(Decrby, "decrby", 3, First, WF),
    spec!(Del, "del", -2, All, WR),
    spec!(Echo, "echo", 2, None, &["fast"]),
    spec!(Exists, "exists", -2, All, RF),
    spec!(Expire, "expire", -3, First, WRF),
    spec!(Expireat, "expireat", -3, First, WRF),
    spec!(Expiretime, "expiretime", 2, First, RF),
    spec!(Flushall, "flushall", -1, None, WR),
    spec!(Flushdb, "flushdb", -1, None, WR),
    spec!(Get, "get", 2, First, RF),
    spec!(Getbit, "getbit", 3, First, RF),
    spec!(Getdel, "getdel", 2, First, WRF),
    spec!(Getex, "getex", -2, First, WRF),
    spec!(Getrange, "getrange", 4, First, R),
    spec!(Getset, "getset", 3, First, WF),
    spec!(Hdel, "hdel", -3, First, WRF),
    spec!(Hello, "hello", -1, None, CONN),
    spec!(Hexists, "hexists", 3, First, RF),
    spec!(Hget, "hget", 3, First, RF),
    spec!(Hgetall, "hgetall", 2, First, R),
    spec!(Hincrby, "hincrby", 4, First, WF),
    spec!(Hincrbyfloat, "hincrbyfloat", 4, First, WF),
    spec!(Hkeys, "hkeys", 2, First, R),
    spec!(Hlen, "hlen", 2, First, RF),
    spec!(Hmget, "hmget", -3, First, RF),
    spec!(Hmset, "hmset", -4, First, WF),
    spec!(Hrandfield, "hrandfield", -2, First, R),
    spec!(Hscan, "hscan", -3, First, R),
    spec!(Hset, "hset", -4, First, WF),
    spec!(Hsetnx, "hsetnx", 4, First, WF),
    spec!(Hstrlen, "hstrlen", 3, First, RF),
    spec!(Hvals, "hvals", 2, First, R),
    spec!(Incr, "incr", 2, First, WF),
    spec!(Incrby, "incrby", 3, First, WF),
    spec!(Incrbyfloat, "incrbyfloat", 3, First, WF),
    spec!(Info, "info", -1, None, &["loading", "stale"]),
    spec!(Keys, "keys", 2, None, R),
    spec!(Lcs, "lcs", -3, Two, R),
    spec!(Lindex, "lindex", 3, First, R),
    spec!(Linsert, "linsert", 5, First, W),
    spec!(Llen, "llen", 2, First, RF),
    spec!(Lmove, "lmove", 5, Two, W),
    spec!(Lmpop, "lmpop", -4, Numkeys, &["write", "movablekeys"]),
    spec!(Lpop, "lpop", -2, First, WRF),
    spec!(Lpos, "lpos", -3, First, R),
    spec!(Lpush, "lpush", -3, First, WF),
    spec!(Lpushx, "lpushx", -3, First, WF),
    spec!(Lrange, "lrange", 4, First, R),
    spec!(Lrem, "lrem", 4, First, WR),
    spec!(Lset, "lset", 4, First, W),
    spec!(Ltrim, "ltrim", 4, First, WR),
    spec!(Memory, "memory", -2, Second, &[]),
    spec!(Mget, "mget", -2, All, RF),
    spec!(Move, "move", 3, First, WRF),
    spec!(Mset, "mset", -3, Pairs, W),
    spec!(Msetnx, "msetnx", -3, Pairs, W),
    spec!(Object, "object", -2, Second, &[]),
    spec!(Persist, "persist", 2, First, WRF),
    spec!(Pexpire, "pexpire", -3, First, WRF),
    spec!(Pexpireat, "pexpireat", -3, First, WRF),
    spec!(Pexpiretime, "pexpiretime", 2, First, RF),
    spec!(Ping, "ping", -1, None, &["fast"]),
    spec!(Psetex, "psetex", 4, First, W),
    spec!(Psubscribe, "psubscribe", -2, None, SUB),
    spec!(Pttl, "pttl", 2, First, RF),
    spec!(Publish, "publish", 3, None, PUB),
    spec!(Pubsub, "pubsub", -2, None, &[]),
    spec!(Punsubscribe, "punsubscribe", -1, None, SUB),
    spec!(Quit, "quit", -1, None, CONN),
    spec!(Rename, "rename", 3, Two, WR),
    spec!(Renamenx, "renamenx", 3, Two, WRF),
    spec!(Reset, "reset", 1, None, CONN),
    spec!(Rpop, "rpop", -2, First, WRF),
    spec!(Rpoplpush, "rpoplpush", 3, Two, W),
    spec!(Rpush, "rpush", -3, First, WF),
    spec!(Rpushx, "rpushx", -3, First, WF),
    spec!(Sadd, "sadd", -3, First, WF),
    spec!(Scan, "scan", -2, None, R),
    spec!(Scard, "scard", 2, First, RF),
    spec!(Sdiff, "sdiff", -2, All, R),
    spec!(Sdiffstore, "sdiffstore", -3, All, W),
    spec!(Select, "select", 2, None, CONN),
    spec!(Set, "set", -3, First, W),
    spec!(Setbit, "setbit", 4, First, W),
    spec!(Setex, "setex", 4, First, W),
    spec!(Setnx, "setnx", 3, First, WF),
    spec!(Setrange, "setrange", 4, First, W),
    spec!(Sinter, "sinter", -2, All, R),
    spec!(
        Sintercard,
        "sintercard",
        -3,
        Numkeys,
        &["readonly", "movablekeys"]
    ),
    spec!(Sinterstore, "sinterstore", -3, All, W),
    spec!(Sismember, "sismember", 3, First, RF),
    spec!(Slowlog, "slowlog", -2, None, &[]),
    spec!(Smembers, "smembers", 2, First, R),
    spec!(Smismember, "smismember", -3, First, RF),
    spec!(Smove, "smove", 4, Two, WRF),
    spec!(Spop, "spop", -2, First, WRF),
    spec!(Spublish, "spublish", 3, First, PUB),
    spec!(Srandmember, "srandmember", -2, First, R),
    spec!(Srem, "srem", -3, First, WRF),
    spec!(Sscan, "sscan", -3, First, R),
    spec!(Ssubscribe, "ssubscribe", -2, All, SUB),
    spec!(Strlen, "strlen", 2, First, RF),
    spec!(Subscribe, "subscribe", -2, None, SUB),
    spec!(Sunion, "sunion", -2, All, R),
    spec!(Sunionstore, "sunionstore", -3, All, W),
    spec!(Sunsubscribe, "sunsubscribe", -1, All, SUB),
    spec!(Swapdb, "swapdb", 3, None, WRF),
    spec!(Time, "time", 1, None, &["loading", "stale", "fast"]),
    spec!(Touch, "touch", -2, All, RF),
    spec!(Ttl, "ttl", 2, First, RF),
    spec!(Type, "type", 2, First, RF),
    spec!(Unlink, "unlink", -2, All, WRF),
    spec!(Unsubscribe, "unsubscribe", -1, None, SUB),
];

impl Command {
    /// This command's entry in [`COMMANDS`].
    pub fn spec(self) -> &'static Spec {
        COMMANDS
            .iter()
            .find(|spec| spec.command == self)
            .expect("every command has a spec")
    }
}

/// The command named `name` (any case).
pub fn lookup(name: &[u8]) -> Option<Command> {
    let mut lower = [0u8; 16];
    if name.len() > lower.len() {
        return None;
    }
    for (to, from) in lower.iter_mut().zip(name) {
        *to = from.to_ascii_lowercase();
    }
    let lower = &lower[..name.len()];
    // Sorted by name: binary search.
    COMMANDS
        .binary_search_by(|spec| spec.name.as_bytes().cmp(lower))
        .ok()
        .map(|index| COMMANDS[index].command)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_complete() {
        for pair in COMMANDS.windows(2) {
            assert!(
                pair[0].name < pair[1].name,
                "{} before {}",
                pair[0].name,
                pair[1].name
            );
        }
        for spec in COMMANDS {
            assert_eq!(lookup(spec.name.as_bytes()), Some(spec.command));
            assert_eq!(spec.command.spec().name, spec.name);
        }
    }

    /// The README's list of RESP commands is written by hand; this keeps
    /// it in step with the table (each command named in backquotes).
    #[test]
    fn the_readme_names_every_command() {
        let readme = include_str!("../../../README.md");
        let missing: Vec<&str> = COMMANDS
            .iter()
            .map(|spec| spec.name)
            .filter(|name| {
                let upper = name.to_ascii_uppercase();
                ["`", " ", "/"].iter().all(|before| {
                    [" ", "`", "|"]
                        .iter()
                        .all(|after| !readme.contains(&format!("{before}{upper}{after}")))
                })
            })
            .collect();
        assert!(missing.is_empty(), "missing from the README: {missing:?}");
    }

    #[test]
    fn names_match_in_any_case() {
        assert_eq!(lookup(b"GET"), Some(Command::Get));
        assert_eq!(lookup(b"gEt"), Some(Command::Get));
        assert_eq!(lookup(b"getx"), None);
        assert_eq!(lookup(b""), None);
        assert_eq!(lookup(b"averyveryverylongname"), None);
    }
}
