//! `OBJECT` and `MEMORY`: what the store knows about one key's value (its
//! encoding as Redis would choose it, its idle time, its size), on the
//! shard that owns the key.
//!
//! A string's encoding is one of Redis's three string encodings, chosen
//! from the value as `tryObjectEncoding` does for a string just stored; a
//! collection reports its own (`listpack`, `hashtable`, `intset`,
//! `quicklist`). `OBJECT FREQ` answers under an LFU policy (the store's
//! 4-bit counter, 0 to 15, where Redis's goes to 255) and `OBJECT
//! IDLETIME` under any other, each refused as Redis refuses it otherwise.
//! None of these commands counts as an access to the key.

use super::{parse_i64, wrong_arity, Command, RespContext, NOT_AN_INTEGER, SYNTAX_ERROR};
use crate::protocol::resp::reply;
use crate::protocol::resp::Argv;

/// Longest string Redis keeps in one allocation with its object header
/// (`OBJ_ENCODING_EMBSTR_SIZE_LIMIT`).
const EMBSTR_LIMIT: usize = 44;

/// Integers Redis shares between keys (`OBJ_SHARED_INTEGERS`): 0 to 9999,
/// when the eviction policy allows it, as `noeviction` does.
const SHARED_INTEGERS: i64 = 10_000;

/// The reference count Redis reports for a shared object
/// (`OBJ_SHARED_REFCOUNT`, `INT_MAX`).
const SHARED_REFCOUNT: i64 = i32::MAX as i64;

const LFU_NOT_SELECTED: &[u8] = b"ERR An LFU maxmemory policy is not selected, access frequency \
not tracked. Please note that when switching between policies at runtime LRU and LFU data will \
take some time to adjust.";

const LFU_SELECTED: &[u8] = b"ERR An LFU maxmemory policy is selected, idle time not tracked. \
Please note that when switching between policies at runtime LRU and LFU data will take some \
time to adjust.";

const OBJECT_HELP: &[&[u8]] = &[
    b"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    b"ENCODING <key>",
    b"    Return the kind of internal representation used in order to store the value",
    b"    associated with a <key>.",
    b"FREQ <key>",
    b"    Return the access frequency index of the <key>. The returned integer is",
    b"    proportional to the logarithm of the recent access frequency of the key.",
    b"IDLETIME <key>",
    b"    Return the idle time of the <key>, that is the approximated number of",
    b"    seconds elapsed since the last access to the key.",
    b"REFCOUNT <key>",
    b"    Return the number of references of the value associated with the specified",
    b"    <key>.",
    b"HELP",
    b"    Prints this help.",
];

/// `MEMORY HELP`, less the subcommands corecache does not answer (DOCTOR,
/// MALLOC-STATS, PURGE and STATS).
const MEMORY_HELP: &[&[u8]] = &[
    b"MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    b"USAGE <key> [SAMPLES <count>]",
    b"    Return memory in bytes used by <key> and its value. Nested values are",
    b"    sampled up to <count> times (default: 5, 0 means sample all).",
    b"HELP",
    b"    Prints this help.",
];

/// How Redis would encode a string value it just stored: `int` for a
/// canonical decimal that fits an `i64`, `embstr` up to 44 bytes, `raw`
/// above.
pub fn string_encoding(value: &[u8]) -> &'static str {
    if parse_i64(value).is_some() {
        "int"
    } else if value.len() <= EMBSTR_LIMIT {
        "embstr"
    } else {
        "raw"
    }
}

/// What `OBJECT REFCOUNT` says of a string value: Redis shares the
/// integers 0 to 9999 between all keys.
pub fn string_refcount(value: &[u8]) -> i64 {
    match parse_i64(value) {
        Some(n) if (0..SHARED_INTEGERS).contains(&n) => SHARED_REFCOUNT,
        _ => 1,
    }
}

/// A subcommand `OBJECT`/`MEMORY` knows, with its Redis arity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sub {
    Encoding,
    Freq,
    Idletime,
    Refcount,
    Usage,
    Help,
}

impl Sub {
    /// The subcommand `argv[1]` names for `command`, if it is one.
    fn of(command: Command, argv: &Argv<'_>) -> Option<Sub> {
        let name = argv.get(1).unwrap_or_default().to_ascii_lowercase();
        match (command, name.as_slice()) {
            (Command::Object, b"encoding") => Some(Sub::Encoding),
            (Command::Object, b"freq") => Some(Sub::Freq),
            (Command::Object, b"idletime") => Some(Sub::Idletime),
            (Command::Object, b"refcount") => Some(Sub::Refcount),
            (Command::Memory, b"usage") => Some(Sub::Usage),
            (Command::Object | Command::Memory, b"help") => Some(Sub::Help),
            _ => None,
        }
    }

    /// Redis's full name (`object|encoding`) and arity.
    fn name_and_arity(self, command: Command) -> (&'static str, i32) {
        match (command, self) {
            (_, Sub::Encoding) => ("object|encoding", 3),
            (_, Sub::Freq) => ("object|freq", 3),
            (_, Sub::Idletime) => ("object|idletime", 3),
            (_, Sub::Refcount) => ("object|refcount", 3),
            (_, Sub::Usage) => ("memory|usage", -3),
            (Command::Memory, Sub::Help) => ("memory|help", 2),
            (_, Sub::Help) => ("object|help", 2),
        }
    }
}

/// Checks the subcommand and its arity, answering what is wrong into
/// `out`; `HELP` is answered here too. Returns the subcommand left to run
/// against the key.
fn check(command: Command, argv: &Argv<'_>, out: &mut Vec<u8>) -> Option<Sub> {
    let Some(sub) = Sub::of(command, argv) else {
        let typed = argv.get(1).unwrap_or_default();
        let text = format!(
            "ERR unknown subcommand '{}'. Try {} HELP.",
            String::from_utf8_lossy(&typed[..typed.len().min(128)]),
            if command == Command::Memory {
                "MEMORY"
            } else {
                "OBJECT"
            }
        );
        reply::error(out, text.as_bytes());
        return None;
    };
    let (name, arity) = sub.name_and_arity(command);
    let argc = argv.len() as i32;
    if (arity > 0 && argc != arity) || (arity < 0 && argc < -arity) {
        wrong_arity(name, out);
        return None;
    }
    if sub == Sub::Help {
        let lines = if command == Command::Memory {
            MEMORY_HELP
        } else {
            OBJECT_HELP
        };
        reply::help(out, lines);
        return None;
    }
    Some(sub)
}

/// Answers an `OBJECT`/`MEMORY` request that names no key (`HELP`, an
/// unknown subcommand, too few arguments).
pub fn answer_without_key(command: Command, argv: &Argv<'_>, out: &mut Vec<u8>) {
    if check(command, argv, out).is_some() {
        // Every keyed subcommand takes a key: `check` refused it.
        reply::error(out, b"ERR internal routing error");
    }
}

/// Runs `OBJECT …` or `MEMORY …` on the shard that owns `argv[2]`.
pub fn execute(command: Command, argv: &Argv<'_>, cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let Some(sub) = check(command, argv, out) else {
        return;
    };
    if sub == Sub::Usage {
        if let Err(error) = usage_options(argv) {
            return reply::error(out, error);
        }
    }
    let key = argv.get(2).unwrap_or_default();
    let now = cx.now;
    let Some(item) = cx.store.get(key, now) else {
        return reply::null(out, cx.version);
    };
    match sub {
        Sub::Encoding => {
            let encoding = match item.collection() {
                Some(collection) => collection.encoding(),
                None => string_encoding(item.value()),
            };
            reply::bulk(out, encoding.as_bytes())
        }
        Sub::Freq => match item.lfu_frequency(now) {
            Some(counter) => reply::integer(out, i64::from(counter)),
            None => reply::error(out, LFU_NOT_SELECTED),
        },
        Sub::Idletime if item.lfu_frequency(now).is_some() => reply::error(out, LFU_SELECTED),
        Sub::Idletime => {
            let idle = now.unix_secs().saturating_sub(item.last_access_secs());
            reply::integer(out, idle as i64);
        }
        Sub::Refcount if !item.is_string() => reply::integer(out, 1),
        Sub::Refcount => reply::integer(out, string_refcount(item.value())),
        // The bytes the store counts for the item: header, index slot, key
        // and value (`store::item_bytes`, what memcached's `bytes` sums), and
        // a collection's heap bytes (`Collection::heap_bytes`); `used_memory`
        // counts the block as the allocator rounds it.
        Sub::Usage => reply::integer(out, item.size() as i64),
        Sub::Help => {}
    }
}

/// Checks `MEMORY USAGE key [SAMPLES count]` (each option may repeat; a
/// string has nothing to sample, so the count only has to be valid).
fn usage_options(argv: &Argv<'_>) -> Result<(), &'static [u8]> {
    let mut index = 3;
    while let Some(option) = argv.get(index) {
        let Some(count) = argv.get(index + 1) else {
            return Err(SYNTAX_ERROR);
        };
        if !option.eq_ignore_ascii_case(b"samples") {
            return Err(SYNTAX_ERROR);
        }
        match parse_i64(count) {
            None => return Err(NOT_AN_INTEGER),
            Some(n) if n < 0 => return Err(SYNTAX_ERROR),
            Some(_) => {}
        }
        index += 2;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_follow_redis_string_rules() {
        assert_eq!(string_encoding(b"123"), "int");
        assert_eq!(string_encoding(b"-9223372036854775808"), "int");
        assert_eq!(string_encoding(b"9223372036854775808"), "embstr");
        assert_eq!(string_encoding(b"-0"), "embstr");
        assert_eq!(string_encoding(b"007"), "embstr");
        assert_eq!(string_encoding(b""), "embstr");
        assert_eq!(string_encoding(&[b'a'; 44]), "embstr");
        assert_eq!(string_encoding(&[b'a'; 45]), "raw");
    }

    #[test]
    fn small_integers_are_shared() {
        assert_eq!(string_refcount(b"0"), SHARED_REFCOUNT);
        assert_eq!(string_refcount(b"9999"), SHARED_REFCOUNT);
        assert_eq!(string_refcount(b"10000"), 1);
        assert_eq!(string_refcount(b"-1"), 1);
        assert_eq!(string_refcount(b"abc"), 1);
    }
}
