//! The command table: every command corecache answers on the RESP port,
//! with Redis 7's arity (positive: exactly that many arguments, the name
//! included; negative: at least), key positions and flags, as
//! `COMMAND INFO` reports them.

/// A command corecache implements, in [`COMMANDS`]'s order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    Append,
    Auth,
    Bitcount,
    Bitfield,
    BitfieldRo,
    Bitop,
    Bitpos,
    Blmove,
    Blmpop,
    Blpop,
    Brpop,
    Brpoplpush,
    Bzmpop,
    Bzpopmax,
    Bzpopmin,
    Client,
    Command,
    Config,
    Copy,
    Dbsize,
    Debug,
    Decr,
    Decrby,
    Del,
    Discard,
    Echo,
    Exec,
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
    Info,
    Keys,
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
    Multi,
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
    Randomkey,
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
    Subscribe,
    Sunion,
    Sunionstore,
    Sunsubscribe,
    Swapdb,
    Time,
    Touch,
    Ttl,
    Type,
    Unlink,
    Unsubscribe,
    Unwatch,
    Watch,
    Zadd,
    Zcard,
    Zcount,
    Zdiff,
    Zdiffstore,
    Zincrby,
    Zinter,
    Zintercard,
    Zinterstore,
    Zlexcount,
    Zmpop,
    Zmscore,
    Zpopmax,
    Zpopmin,
    Zrandmember,
    Zrange,
    Zrangebylex,
    Zrangebyscore,
    Zrangestore,
    Zrank,
    Zrem,
    Zremrangebylex,
    Zremrangebyrank,
    Zremrangebyscore,
    Zrevrange,
    Zrevrangebylex,
    Zrevrangebyscore,
    Zrevrank,
    Zscan,
    Zscore,
    Zunion,
    Zunionstore,
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
    /// Every argument from 1 but the last (`BLPOP key… timeout`).
    AllButLast,
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
/// Connection commands a client may send before it authenticates.
const NO_AUTH: &[&str] = &[
    "noscript",
    "loading",
    "stale",
    "fast",
    "no_auth",
    "allow_busy",
];
const SUB: &[&str] = &["pubsub", "noscript", "loading", "stale"];
const PUB: &[&str] = &["pubsub", "loading", "stale", "fast"];
const BLOCKING: &[&str] = &["write", "noscript", "blocking"];
const BLOCKING_F: &[&str] = &["write", "noscript", "blocking", "fast"];
const BLOCKING_W: &[&str] = &["write", "denyoom", "noscript", "blocking"];
const BLOCKING_NUMKEYS: &[&str] = &["write", "blocking", "movablekeys"];
/// Transaction commands (`MULTI`, `WATCH`…).
const TX: &[&str] = &["noscript", "loading", "stale", "fast", "allow_busy"];

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
    spec!(Auth, "auth", -2, None, NO_AUTH),
    spec!(Bitcount, "bitcount", -2, First, R),
    spec!(Bitfield, "bitfield", -2, First, W),
    spec!(BitfieldRo, "bitfield_ro", -2, First, RF),
    spec!(Bitop, "bitop", -4, AfterFirst, W),
    spec!(Bitpos, "bitpos", -3, First, R),
    spec!(Blmove, "blmove", 6, Two, BLOCKING_W),
    spec!(Blmpop, "blmpop", -5, Numkeys, BLOCKING_NUMKEYS),
    spec!(Blpop, "blpop", -3, AllButLast, BLOCKING),
    spec!(Brpop, "brpop", -3, AllButLast, BLOCKING),
    spec!(Brpoplpush, "brpoplpush", 4, Two, BLOCKING_W),
    spec!(Bzmpop, "bzmpop", -5, Numkeys, BLOCKING_NUMKEYS),
    spec!(Bzpopmax, "bzpopmax", -3, AllButLast, BLOCKING_F),
    spec!(Bzpopmin, "bzpopmin", -3, AllButLast, BLOCKING_F),
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
    spec!(
        Debug,
        "debug",
        -2,
        None,
        &["admin", "noscript", "loading", "stale", "protected"]
    ),
    spec!(Decr, "decr", 2, First, WF),
    spec!(Decrby, "decrby", 3, First, WF),
    spec!(Del, "del", -2, All, WR),
    spec!(Discard, "discard", 1, None, TX),
    spec!(Echo, "echo", 2, None, &["fast"]),
    spec!(
        Exec,
        "exec",
        1,
        None,
        &["noscript", "loading", "stale", "skip_slowlog"]
    ),
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
    spec!(Hello, "hello", -1, None, NO_AUTH),
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
    spec!(Multi, "multi", 1, None, TX),
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
    spec!(Quit, "quit", -1, None, NO_AUTH),
    spec!(Randomkey, "randomkey", 1, None, R),
    spec!(Rename, "rename", 3, Two, WR),
    spec!(Renamenx, "renamenx", 3, Two, WRF),
    spec!(Reset, "reset", 1, None, NO_AUTH),
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
    spec!(Unwatch, "unwatch", 1, None, TX),
    spec!(Watch, "watch", -2, All, TX),
    spec!(Zadd, "zadd", -4, First, WF),
    spec!(Zcard, "zcard", 2, First, RF),
    spec!(Zcount, "zcount", 4, First, RF),
    spec!(Zdiff, "zdiff", -3, Numkeys, &["readonly", "movablekeys"]),
    spec!(
        Zdiffstore,
        "zdiffstore",
        -4,
        First,
        &["write", "denyoom", "movablekeys"]
    ),
    spec!(Zincrby, "zincrby", 4, First, WF),
    spec!(Zinter, "zinter", -3, Numkeys, &["readonly", "movablekeys"]),
    spec!(
        Zintercard,
        "zintercard",
        -3,
        Numkeys,
        &["readonly", "movablekeys"]
    ),
    spec!(
        Zinterstore,
        "zinterstore",
        -4,
        First,
        &["write", "denyoom", "movablekeys"]
    ),
    spec!(Zlexcount, "zlexcount", 4, First, RF),
    spec!(Zmpop, "zmpop", -4, Numkeys, &["write", "movablekeys"]),
    spec!(Zmscore, "zmscore", -3, First, RF),
    spec!(Zpopmax, "zpopmax", -2, First, WRF),
    spec!(Zpopmin, "zpopmin", -2, First, WRF),
    spec!(Zrandmember, "zrandmember", -2, First, R),
    spec!(Zrange, "zrange", -4, First, R),
    spec!(Zrangebylex, "zrangebylex", -4, First, R),
    spec!(Zrangebyscore, "zrangebyscore", -4, First, R),
    spec!(Zrangestore, "zrangestore", -5, Two, W),
    spec!(Zrank, "zrank", -3, First, RF),
    spec!(Zrem, "zrem", -3, First, WRF),
    spec!(Zremrangebylex, "zremrangebylex", 4, First, WR),
    spec!(Zremrangebyrank, "zremrangebyrank", 4, First, WR),
    spec!(Zremrangebyscore, "zremrangebyscore", 4, First, WR),
    spec!(Zrevrange, "zrevrange", -4, First, R),
    spec!(Zrevrangebylex, "zrevrangebylex", -4, First, R),
    spec!(Zrevrangebyscore, "zrevrangebyscore", -4, First, R),
    spec!(Zrevrank, "zrevrank", -3, First, RF),
    spec!(Zscan, "zscan", -3, First, R),
    spec!(Zscore, "zscore", 3, First, RF),
    spec!(Zunion, "zunion", -3, Numkeys, &["readonly", "movablekeys"]),
    spec!(
        Zunionstore,
        "zunionstore",
        -4,
        First,
        &["write", "denyoom", "movablekeys"]
    ),
];

/// Which commands of [`COMMANDS`] are flagged `denyoom`, by index,
/// computed from the table when compiling.
const DENYOOM: [bool; COMMANDS.len()] = {
    let mut flags = [false; COMMANDS.len()];
    let mut index = 0;
    while index < COMMANDS.len() {
        flags[index] = has_flag(COMMANDS[index].flags, b"denyoom");
        index += 1;
    }
    flags
};

/// Whether `flags` holds `flag` (a `const fn`, for [`DENYOOM`]).
const fn has_flag(flags: &[&str], flag: &[u8]) -> bool {
    let mut index = 0;
    while index < flags.len() {
        let name = flags[index].as_bytes();
        if name.len() == flag.len() {
            let mut at = 0;
            while at < name.len() && name[at] == flag[at] {
                at += 1;
            }
            if at == name.len() {
                return true;
            }
        }
        index += 1;
    }
    false
}

impl Command {
    /// This command's entry in [`COMMANDS`].
    pub fn spec(self) -> &'static Spec {
        &COMMANDS[self.index()]
    }

    /// This command's position in [`COMMANDS`]: the variants are declared
    /// in the table's (name) order.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Whether the command is flagged `denyoom` (it may grow memory, so it
    /// is refused when nothing can be evicted): looked up, not searched,
    /// since every keyed command asks.
    #[inline]
    pub fn is_denyoom(self) -> bool {
        DENYOOM[self.index()]
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

    /// The README's table of commands, generated from [`COMMANDS`]: name,
    /// arity, key positions and flags, as `COMMAND INFO` reports them. The
    /// README holds it between `<!-- commands -->` and `<!-- /commands -->`;
    /// a test keeps the two equal (`UPDATE_README=1 cargo test --lib
    /// readme` rewrites it).
    fn markdown_table() -> String {
        let mut table = String::from("| Command | Arity | Keys | Flags |\n|---|---|---|---|\n");
        for spec in COMMANDS {
            let keys = match spec.keys {
                Keys::None => "",
                Keys::First => "1",
                Keys::All => "1…",
                Keys::Pairs => "1, 3, 5…",
                Keys::Two => "1, 2",
                Keys::AfterFirst => "2…",
                Keys::Second => "2",
                Keys::Numkeys => "a count, then that many",
                Keys::AllButLast => "1… but the last",
            };
            table.push_str(&format!(
                "| `{}` | {} | {} | {} |\n",
                spec.name.to_uppercase(),
                spec.arity,
                keys,
                spec.flags.join(", ")
            ));
        }
        table
    }

    #[test]
    fn the_readme_lists_every_command() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
        let readme = std::fs::read_to_string(path).expect("README.md");
        let (start, end) = ("<!-- commands -->\n", "<!-- /commands -->");
        let from = readme.find(start).expect("the README's commands marker") + start.len();
        let to = readme
            .find(end)
            .expect("the README's end-of-commands marker");
        let table = markdown_table();
        if std::env::var_os("UPDATE_README").is_some() {
            let updated = format!("{}{table}{}", &readme[..from], &readme[to..]);
            std::fs::write(path, updated).expect("write README.md");
        } else {
            assert!(
                readme[from..to] == table,
                "README.md's command table is stale: run UPDATE_README=1 cargo test --lib readme"
            );
        }
    }

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
        for (index, spec) in COMMANDS.iter().enumerate() {
            assert_eq!(spec.command.index(), index, "{} out of order", spec.name);
            assert_eq!(lookup(spec.name.as_bytes()), Some(spec.command));
            assert_eq!(spec.command.spec().name, spec.name);
        }
    }

    #[test]
    fn denyoom_is_looked_up_as_flagged() {
        for spec in COMMANDS {
            assert_eq!(
                spec.command.is_denyoom(),
                spec.flags.contains(&"denyoom"),
                "{}",
                spec.name
            );
        }
        assert!(Command::Set.is_denyoom());
        assert!(!Command::Get.is_denyoom());
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
