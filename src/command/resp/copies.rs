//! Running commands over copies of their keys: how a command whose keys
//! live on several shards (`SINTERSTORE`, `LMOVE`, `ZUNIONSTORE`…) runs
//! with exactly its one-shard semantics. The server's transaction holds
//! every involved shard, dumps each key there ([`moves::dump`]), and hands
//! the dumps here; the command runs, as it would on one shard, against a
//! scratch store holding those items; what it changed goes back to the
//! keys' shards ([`Change`]) before they are released.
//!
//! A change is seen as a watch sees one (`Store::watch`): every write
//! gives an item a fresh CAS, so a key whose CAS and deadline are the same
//! afterwards was only read, and is not written back.

use super::blocking::BlockingPop;
use super::moves::{self, Dumped};
use super::{count_key, execute, execute_key, EncodingConfig, RespContext};
use crate::clock::Now;
use crate::command::resp::Command;
use crate::config::Settings;
use crate::protocol::resp::reply::{self, Version};
use crate::protocol::resp::Argv;
use crate::stats::ShardStats;
use crate::store::Store;

/// What became of one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Read, or not touched: nothing to write back.
    Kept,
    /// Deleted (or emptied).
    Deleted,
    /// Written: its new item, as [`moves::dump`] writes it.
    Written(Vec<u8>),
}

/// What a command needs from its shard besides the keys.
#[derive(Debug, Clone, Copy)]
pub struct Setting<'a> {
    pub settings: &'a Settings,
    pub encodings: &'a EncodingConfig,
    pub now: Now,
    pub version: Version,
}

/// A scratch store holding dumped items, for commands to run on.
pub struct Copies {
    store: Store,
    stats: ShardStats,
    /// The keys whose items were loaded, and are watched for changes.
    keys: Vec<Vec<u8>>,
}

impl Copies {
    /// A scratch store holding `items` (`key`, dump; an empty dump: no such
    /// key), each watched for changes.
    pub fn load<'k>(
        items: impl IntoIterator<Item = (&'k [u8], &'k [u8])>,
        at: Setting<'_>,
    ) -> Copies {
        let mut copies = Copies {
            store: Store::new(),
            stats: ShardStats::default(),
            keys: Vec::new(),
        };
        for (key, dumped) in items {
            if copies.keys.iter().any(|k| k == key) {
                continue;
            }
            if let Some(item) = Dumped::decode(dumped) {
                moves::restore(key, &item, &mut copies.context(at));
            }
            copies.store.watch(key, 0, at.now);
            copies.keys.push(key.to_vec());
        }
        copies
    }

    /// Runs `command` on the copies, appending its reply to `out`.
    pub fn run(&mut self, command: Command, argv: &Argv<'_>, at: Setting<'_>, out: &mut Vec<u8>) {
        let cx = &mut self.context(at);
        match command {
            // What the server answers key by key elsewhere.
            Command::Mget => {
                reply::array_header(out, argv.len() - 1);
                for key in argv.iter().skip(1) {
                    execute_key(command, key, cx, out);
                }
            }
            Command::Del | Command::Unlink | Command::Exists | Command::Touch => {
                let count = argv
                    .iter()
                    .skip(1)
                    .map(|key| count_key(command, key, cx))
                    .sum();
                reply::integer(out, count);
            }
            _ => execute(command, argv, cx, out),
        }
    }

    /// Tries a blocking request's pop on the copies, appending its reply
    /// to `out` (nothing when it found no data): as it arrives
    /// ([`BlockingPop::try_pop`]), or as a woken client
    /// ([`BlockingPop::try_pop_ready`]).
    pub fn pop(&mut self, request: &BlockingPop, woken: bool, at: Setting<'_>, out: &mut Vec<u8>) {
        let cx = &mut self.context(at);
        if woken {
            request.try_pop_ready(cx, out);
        } else {
            request.try_pop(cx, out);
        }
    }

    /// The keys loaded, in order, with what became of each.
    pub fn changes(mut self, at: Setting<'_>) -> Vec<(Vec<u8>, Change)> {
        let keys = std::mem::take(&mut self.keys);
        keys.into_iter()
            .map(|key| {
                if !self.store.unwatch_changed(&key, 0, at.now) {
                    return (key, Change::Kept);
                }
                let mut dumped = Vec::new();
                moves::dump(&key, &mut self.context(at), &mut dumped);
                let change = if dumped.is_empty() {
                    Change::Deleted
                } else {
                    Change::Written(dumped)
                };
                (key, change)
            })
            .collect()
    }

    fn context<'c>(&'c mut self, at: Setting<'c>) -> RespContext<'c> {
        RespContext {
            store: &mut self.store,
            stats: &mut self.stats,
            now: at.now,
            settings: at.settings,
            version: at.version,
            // One shard holds every key.
            shard: 0,
            shards: 1,
            encodings: at.encodings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::resp::encodings::EncodingConfig as Encodings;
    use crate::protocol::resp::{parse, Args, Limits, Parsed};

    fn with_argv(words: &[&str], run: impl FnOnce(Command, &Argv<'_>)) {
        let mut frame = Vec::new();
        let words: Vec<&[u8]> = words.iter().map(|w| w.as_bytes()).collect();
        crate::protocol::resp::reply::request(&mut frame, &words);
        let mut args = Args::new();
        let Parsed::Command { argv, .. } = parse(&frame, &Limits::default(), &mut args) else {
            panic!("a request")
        };
        let command = crate::command::resp::lookup(argv.name()).unwrap();
        run(command, &argv);
    }

    #[test]
    fn only_what_the_command_wrote_goes_back() {
        let settings = Settings::for_tests();
        let encodings = Encodings::default();
        let at = Setting {
            settings: &settings,
            encodings: &encodings,
            now: Now(1_000),
            version: Version::Resp2,
        };
        // Build the dumps from a store of their own.
        let mut source = Copies::load([], at);
        let mut ignored = Vec::new();
        with_argv(&["SADD", "a", "x", "y"], |c, argv| {
            source.run(c, argv, at, &mut ignored)
        });
        with_argv(&["SADD", "b", "y", "z"], |c, argv| {
            source.run(c, argv, at, &mut ignored)
        });
        let dump = |source: &mut Copies, key: &[u8]| {
            let mut out = Vec::new();
            moves::dump(key, &mut source.context(at), &mut out);
            out
        };
        let (a, b) = (dump(&mut source, b"a"), dump(&mut source, b"b"));
        let items: [(&[u8], &[u8]); 4] = [(b"a", &a), (b"b", &b), (b"dest", b""), (b"gone", b"")];
        let mut copies = Copies::load(items, at);
        let mut reply = Vec::new();
        with_argv(&["SINTERSTORE", "dest", "a", "b"], |c, argv| {
            copies.run(c, argv, at, &mut reply)
        });
        with_argv(&["SREM", "b", "y", "z"], |c, argv| {
            copies.run(c, argv, at, &mut reply)
        });
        assert_eq!(reply, b":1\r\n:2\r\n");
        let changes = copies.changes(at);
        assert_eq!(changes[0], (b"a".to_vec(), Change::Kept));
        assert_eq!(changes[1], (b"b".to_vec(), Change::Deleted));
        assert!(matches!(&changes[2], (key, Change::Written(_)) if key == b"dest"));
        assert_eq!(changes[3], (b"gone".to_vec(), Change::Kept));
    }
}
