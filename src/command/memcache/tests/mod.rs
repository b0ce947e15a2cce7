//! Command-layer tests: requests built by hand (as the parser would build
//! them) run against a store with a controllable clock; replies and
//! counters are checked byte for byte against what memcached answers.

mod arith;
mod connection;
mod delete_touch;
mod meta_arith;
mod meta_delete;
mod meta_get;
mod meta_set;
mod retrieval;
mod storage;

use super::*;
use crate::protocol::memcache::{
    ArithOp, GetRequest, MetaArithMode, MetaCommand, MetaFlags, MetaRequest, MetaSetMode,
    StoreMode, StoreRequest,
};
use crate::stats::ShardStats;

/// 2023-11-14T22:13:20Z, on a whole second.
pub(super) const T0: Now = Now(1_700_000_000_000);

/// A shard with a controllable clock.
pub(super) struct Shard {
    pub store: Store,
    pub stats: ShardStats,
    pub settings: Settings,
    pub now: Now,
}

impl Shard {
    pub fn new() -> Shard {
        Shard {
            store: Store::new(),
            stats: ShardStats::default(),
            settings: settings(),
            now: T0,
        }
    }

    fn cx(&mut self) -> ShardContext<'_> {
        ShardContext {
            store: &mut self.store,
            stats: &mut self.stats,
            now: self.now,
            settings: &self.settings,
        }
    }

    /// Runs a request through [`execute`] and returns its reply.
    pub fn run(&mut self, request: Request<'_>) -> String {
        let mut out = Vec::new();
        execute(&request, &mut self.cx(), &mut out);
        String::from_utf8(out).expect("replies are text in these tests")
    }

    /// Runs a request written as text through [`execute`]; see
    /// [`request`].
    pub fn text(&mut self, line: &'static str) -> String {
        self.run(request(line))
    }

    /// Runs one key of a retrieval through [`execute_get_key`].
    pub fn get_key(&mut self, kind: GetKind, touch: Option<Exptime>, key: &str) -> String {
        let mut out = Vec::new();
        let mut cx = self.cx();
        let hash = cx.store.hash_key(key.as_bytes());
        execute_get_key(kind, touch, key.as_bytes(), hash, &mut cx, &mut out);
        String::from_utf8(out).expect("replies are text in these tests")
    }

    /// Runs `flush_all` as the server would: every shard (this one), then
    /// the reply.
    pub fn flush_all(&mut self, delay: Exptime, noreply: bool) -> String {
        flush_all(delay, &mut self.cx());
        let mut out = Vec::new();
        finish_flush_all(noreply, &mut self.stats, &mut out);
        String::from_utf8(out).expect("replies are text")
    }

    /// Moves the clock forward.
    pub fn advance_millis(&mut self, millis: u64) {
        self.now = Now(self.now.0 + millis);
    }

    /// The CAS unique of `key`, read without touching it.
    pub fn cas_of(&mut self, key: &str) -> u64 {
        self.store
            .get(key.as_bytes(), self.now)
            .map(|item| item.cas())
            .expect("item exists")
    }
}

pub(super) fn settings() -> Settings {
    Settings::for_tests()
}

/// Leaks a string so that a request can borrow it for the whole test.
pub(super) fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

/// Builds a request from a tiny subset of the text protocol, as the parser
/// would (values follow the command line after a `|`):
/// `set k 0 0|value`, `cas k 0 0 7|v`, `get a b`, `gat 10 a`, `delete k`,
/// `incr k 5`, `touch k 10`, `flush_all 5`, `mg k v t`, `ms k T5|value`,
/// `md k q`, `ma k D5`, `me k`, `mn`, … with `noreply` at the end of the
/// classic commands.
pub(super) fn request(text: &'static str) -> Request<'static> {
    let (line, value) = match text.split_once('|') {
        Some((line, value)) => (line, value),
        None => (text, ""),
    };
    let mut words: Vec<&'static str> = line.split(' ').filter(|w| !w.is_empty()).collect();
    let noreply = words.last() == Some(&"noreply");
    if noreply {
        words.pop();
    }
    let number = |i: usize| words[i].parse::<i64>().expect("number");
    let meta = |command| Request::Meta(meta_request(command, &words, value));
    match words[0] {
        "get" | "gets" | "gat" | "gats" => {
            let (kind, touch, first) = match words[0] {
                "get" => (GetKind::Get, None, 1),
                "gets" => (GetKind::Gets, None, 1),
                "gat" => (GetKind::Gat, Some(number(1)), 2),
                _ => (GetKind::Gats, Some(number(1)), 2),
            };
            let start = line.find(words[first]).expect("key");
            Request::Get(GetRequest {
                kind,
                touch,
                key_list: line[start..].trim_end().as_bytes(),
            })
        }
        "set" | "add" | "replace" | "append" | "prepend" | "cas" => {
            let mode = match words[0] {
                "set" => StoreMode::Set,
                "add" => StoreMode::Add,
                "replace" => StoreMode::Replace,
                "append" => StoreMode::Append,
                "prepend" => StoreMode::Prepend,
                _ => StoreMode::Cas(words[4].parse().expect("cas unique")),
            };
            Request::Store(StoreRequest {
                mode,
                key: words[1].as_bytes(),
                flags: words[2].parse().expect("flags"),
                exptime: number(3),
                value: value.as_bytes(),
                noreply,
            })
        }
        "delete" => Request::Delete {
            key: words[1].as_bytes(),
            noreply,
        },
        "incr" | "decr" => Request::Arith {
            key: words[1].as_bytes(),
            op: if words[0] == "incr" {
                ArithOp::Incr
            } else {
                ArithOp::Decr
            },
            delta: words[2].parse().expect("delta"),
            noreply,
        },
        "touch" => Request::Touch {
            key: words[1].as_bytes(),
            exptime: number(2),
            noreply,
        },
        "flush_all" => Request::FlushAll {
            delay: if words.len() > 1 { number(1) } else { 0 },
            noreply,
        },
        "mg" => meta(MetaCommand::Get),
        "ms" => meta(MetaCommand::Set),
        "md" => meta(MetaCommand::Delete),
        "ma" => meta(MetaCommand::Arithmetic),
        "me" => meta(MetaCommand::Debug),
        "mn" => Request::MetaNoop,
        "version" => Request::Version,
        "quit" => Request::Quit,
        "shutdown" => Request::Shutdown,
        "verbosity" => Request::Verbosity { noreply },
        "cache_memlimit" => Request::CacheMemlimit {
            megabytes: words[1].parse().expect("megabytes"),
            noreply,
        },
        other => panic!("no test builder for {other}"),
    }
}

/// A meta request with its flags parsed the way the parser parses them.
fn meta_request(
    command: MetaCommand,
    words: &[&'static str],
    value: &'static str,
) -> MetaRequest<'static> {
    let tokens = &words[2..];
    let flag_tokens = leak(tokens.join(" "));
    let mut flags = MetaFlags::default();
    for token in tokens {
        let (flag, arg) = token.split_at(1);
        let int = || arg.parse::<i64>().expect("numeric token");
        let uint = || arg.parse::<u64>().expect("numeric token");
        match flag {
            "b" => flags.base64 = true,
            "c" => flags.return_cas = true,
            "f" => flags.return_flags = true,
            "h" => flags.return_hit = true,
            "k" => flags.return_key = true,
            "l" => flags.return_last_access = true,
            "s" => flags.return_size = true,
            "t" => flags.return_ttl = true,
            "v" => flags.return_value = true,
            "q" => flags.quiet = true,
            "u" => flags.no_bump = true,
            "I" => flags.invalidate = true,
            "x" => flags.remove_value = true,
            "O" => flags.opaque = Some(arg.as_bytes()),
            "T" => flags.ttl = Some(int()),
            "N" => flags.vivify = Some(int()),
            "R" => flags.recache = Some(int()),
            "C" => flags.compare_cas = Some(uint()),
            "E" => flags.explicit_cas = Some(uint()),
            "F" => flags.client_flags = Some(arg.parse().expect("client flags")),
            "D" => flags.delta = Some(uint()),
            "J" => flags.initial = Some(uint()),
            "M" => match (command, arg) {
                (MetaCommand::Set, "S") => flags.set_mode = Some(MetaSetMode::Set),
                (MetaCommand::Set, "E") => flags.set_mode = Some(MetaSetMode::Add),
                (MetaCommand::Set, "R") => flags.set_mode = Some(MetaSetMode::Replace),
                (MetaCommand::Set, "A") => flags.set_mode = Some(MetaSetMode::Append),
                (MetaCommand::Set, "P") => flags.set_mode = Some(MetaSetMode::Prepend),
                (_, "I" | "+") => flags.arith_mode = Some(MetaArithMode::Incr),
                (_, "D" | "-") => flags.arith_mode = Some(MetaArithMode::Decr),
                other => panic!("bad mode {other:?}"),
            },
            other => panic!("no test flag {other}"),
        }
    }
    MetaRequest {
        command,
        key: words[1].as_bytes(),
        flag_tokens: flag_tokens.as_bytes(),
        flags,
        value: value.as_bytes(),
    }
}

#[test]
fn routes_follow_the_keys() {
    assert_eq!(route(&request("get a b")), Route::EachKey);
    assert_eq!(route(&request("gat 5 a")), Route::EachKey);
    assert_eq!(
        route(&request("set k 0 0|v")),
        Route::Key(KeyRef::Borrowed(b"k"))
    );
    for line in [
        "delete k",
        "incr k 1",
        "touch k 1",
        "mg k v",
        "md k",
        "ma k",
        "me k",
    ] {
        assert_eq!(
            route(&request(line)).clone(),
            Route::Key(KeyRef::Borrowed(b"k"))
        );
    }
    assert_eq!(
        route(&request("ms k|v")),
        Route::Key(KeyRef::Borrowed(b"k"))
    );
    assert_eq!(route(&request("flush_all")), Route::AllShards);
    for line in [
        "version",
        "verbosity 1",
        "quit",
        "shutdown",
        "cache_memlimit 100",
        "mn",
    ] {
        assert_eq!(route(&request(line)), Route::Connection);
    }
    assert_eq!(
        route(&Request::Stats(StatsGroup::General)),
        Route::Connection
    );
}

#[test]
fn base64_meta_keys_route_by_their_decoded_bytes() {
    let Route::Key(key) = route(&request("mg Zm9v b v")) else {
        panic!("meta requests route by key");
    };
    assert_eq!(key.as_bytes(), b"foo");
}

use crate::protocol::memcache::StatsGroup;
