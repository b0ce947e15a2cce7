//! The set commands: SADD, SREM, SMEMBERS, SISMEMBER, SMISMEMBER, SCARD,
//! SPOP, SRANDMEMBER, SMOVE, SINTER, SINTERCARD, SUNION, SDIFF, their
//! STORE forms and SSCAN, with Redis 7's replies and errors, on the
//! store's [`Set`] (an intset, then a hashtable past
//! `set-max-intset-entries` or at the first non-integer member).
//!
//! Commands on several keys run when all their keys are on this shard
//! (keys that share a `{hash tag}` always are); otherwise they answer
//! Redis Cluster's `CROSSSLOT` error, until cross-shard routing covers
//! them as it covers `BITOP`. Their keys are read with [`Store::peek`],
//! which borrows several values at once.
//!
//! [`Store::peek`]: crate::store::Store::peek

use std::collections::HashSet;

use super::random;
use super::scan::{self, ScanRequest};
use super::typecheck::{self, Refused};
use super::{
    glob, keys_are_local, parse_i64, Command, RespContext, KEYS_ON_SEVERAL_SHARDS, SYNTAX_ERROR,
};
use crate::protocol::resp::reply;
use crate::protocol::resp::Argv;
use crate::store::{Collection, Set, Value};

/// Runs a set command (the caller checked its arity).
pub fn execute(command: Command, argv: &Argv<'_>, cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let key = argv.get(1).unwrap_or_default();
    let arg = |index: usize| argv.get(index).unwrap_or_default();
    let version = cx.version;
    let result = match command {
        Command::Sadd => {
            let limits = cx.limits();
            let add = |set: &mut Set| {
                argv.iter()
                    .skip(2)
                    .filter(|member| set.insert(member, &limits))
                    .count()
            };
            typecheck::write_if(key, cx, add, |added| *added > 0)
                .map(|added| reply::integer(out, added as i64))
        }
        Command::Srem => {
            let remove = |set: &mut Set| {
                argv.iter()
                    .skip(2)
                    .filter(|member| set.remove(member))
                    .count()
            };
            typecheck::update_if(key, cx, remove, |removed| *removed > 0)
        }
        .map(|removed| reply::integer(out, removed.unwrap_or(0) as i64)),
        Command::Smembers => read(key, cx).map(|set| {
            reply::set_header(out, version, set.map_or(0, Set::len));
            let mut buffer = itoa::Buffer::new();
            if let Some(set) = set {
                set.for_each(&mut buffer, |member| reply::bulk(out, member));
            }
        }),
        Command::Sismember => read(key, cx).map(|set| {
            let found = set.is_some_and(|s| s.contains(arg(2)));
            reply::integer(out, found as i64)
        }),
        Command::Smismember => read(key, cx).map(|set| {
            reply::array_header(out, argv.len() - 2);
            for member in argv.iter().skip(2) {
                reply::integer(out, set.is_some_and(|s| s.contains(member)) as i64);
            }
        }),
        Command::Scard => {
            read(key, cx).map(|set| reply::integer(out, set.map_or(0, Set::len) as i64))
        }
        Command::Spop => return spop(argv, cx, out),
        Command::Srandmember => return srandmember(argv, cx, out),
        Command::Smove => return smove(argv, cx, out),
        Command::Sscan => return sscan(argv, cx, out),
        Command::Sinter
        | Command::Sunion
        | Command::Sdiff
        | Command::Sinterstore
        | Command::Sunionstore
        | Command::Sdiffstore
        | Command::Sintercard => return combine(command, argv, cx, out),
        _ => return reply::error(out, b"ERR internal routing error"),
    };
    if let Err(refused) = result {
        refused.answer(out);
    }
}

/// The set under `key` to read.
fn read<'c>(key: &[u8], cx: &'c mut RespContext<'_>) -> Result<Option<&'c Set>, Refused> {
    typecheck::read::<Set>(key, cx)
}

/// Writes `members` as a bulk each.
fn members_reply(out: &mut Vec<u8>, members: &[Vec<u8>]) {
    for member in members {
        reply::bulk(out, member);
    }
}

/// `SPOP key [count]`: removes and returns random members; the key goes
/// with its last member.
fn spop(argv: &Argv<'_>, cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let key = argv.get(1).unwrap_or_default();
    let version = cx.version;
    if argv.len() > 3 {
        return reply::error(out, SYNTAX_ERROR);
    }
    let count = match argv.get(2).map(parse_i64) {
        None => None,
        Some(Some(count)) if count >= 0 => Some(count as u64),
        Some(_) => return reply::error(out, b"ERR value is out of range, must be positive"),
    };
    let pop = |set: &mut Set| {
        let take = count.unwrap_or(1).min(set.len() as u64) as usize;
        let mut popped = Vec::with_capacity(take);
        for _ in 0..take {
            let index = fastrand::usize(..set.len());
            if let Some(member) = set.get_index(index) {
                set.remove(&member);
                popped.push(member);
            }
        }
        popped
    };
    // `SPOP key 0` changes nothing.
    let popped = typecheck::update_if(key, cx, pop, |popped| !popped.is_empty());
    match (popped, count) {
        (Err(refused), _) => refused.answer(out),
        (Ok(popped), None) => match popped.as_deref() {
            Some([member]) => reply::bulk(out, member),
            _ => reply::null(out, version),
        },
        (Ok(popped), Some(_)) => {
            let popped = popped.unwrap_or_default();
            reply::set_header(out, version, popped.len());
            members_reply(out, &popped);
        }
    }
}

/// `SRANDMEMBER key [count]`: as HRANDFIELD, for members.
fn srandmember(argv: &Argv<'_>, cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let key = argv.get(1).unwrap_or_default();
    let version = cx.version;
    if argv.len() > 3 {
        return reply::error(out, SYNTAX_ERROR);
    }
    if argv.get(2).is_none() {
        return match read(key, cx) {
            Ok(Some(set)) => {
                let member = set.get_index(fastrand::usize(..set.len()));
                reply::bulk(out, &member.unwrap_or_default())
            }
            Ok(None) => reply::null(out, version),
            Err(refused) => refused.answer(out),
        };
    }
    let (count, _) = match random::parse_count(argv, None) {
        Ok(parsed) => parsed,
        Err(error) => return reply::error(out, error),
    };
    let set = match read(key, cx) {
        Ok(Some(set)) => set,
        Ok(None) => return reply::array_header(out, 0),
        Err(refused) => return refused.answer(out),
    };
    let len = set.len();
    let picks = random::picks(count, len);
    reply::array_header(out, picks.len());
    for index in picks {
        reply::bulk(out, &set.get_index(index).unwrap_or_default());
    }
}

/// The keys of SMOVE, SINTER, SUNION, SDIFF, their STORE forms and
/// SINTERCARD (`None` for malformed arguments, which the command answers
/// wherever it runs).
pub fn keys<'a>(command: Command, argv: &Argv<'a>) -> Option<Vec<&'a [u8]>> {
    if command == Command::Smove {
        return Some(argv.iter().skip(1).take(2).collect());
    }
    let (destination, keys, _) = parse_combine(command, argv).ok()?;
    Some(destination.into_iter().chain(keys).collect())
}

/// `SMOVE source destination member`.
fn smove(argv: &Argv<'_>, cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let (source, destination) = (
        argv.get(1).unwrap_or_default(),
        argv.get(2).unwrap_or_default(),
    );
    let member = argv.get(3).unwrap_or_default();
    if !keys_are_local([source, destination], cx) {
        return reply::error(out, KEYS_ON_SEVERAL_SHARDS);
    }
    // A missing source moves nothing, whatever the destination holds; else
    // both keys' types first, as Redis checks them.
    let (has_member, destination_ok) = match (
        cx.store.peek(source, cx.now),
        cx.store.peek(destination, cx.now),
    ) {
        (None, _) => (false, true),
        (Some(Value::Set(set)), None | Some(Value::Set(_))) => (set.contains(member), true),
        _ => (false, false),
    };
    if !destination_ok {
        return Refused::WrongType.answer(out);
    }
    if !has_member {
        return reply::integer(out, 0);
    }
    if source != destination {
        let limits = cx.limits();
        let moved =
            typecheck::update(source, cx, |set: &mut Set| set.remove(member)).and_then(|_| {
                // A member the destination has already leaves it as it was.
                let add = |set: &mut Set| set.insert(member, &limits);
                typecheck::write_if(destination, cx, add, |added| *added)
            });
        if let Err(refused) = moved {
            return refused.answer(out);
        }
    }
    reply::integer(out, 1);
}

/// `SSCAN key cursor [MATCH pattern] [COUNT count]`: an intset whole with
/// cursor 0 (as Redis answers small encodings), a hashtable as HSCAN walks
/// one (from the last member down, the cursor counting what is left).
fn sscan(argv: &Argv<'_>, cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let key = argv.get(1).unwrap_or_default();
    let request = match scan::parse_from(argv, 2, false) {
        Ok(request) => request,
        Err(error) => return reply::error(out, error),
    };
    let (next, picked) = match read(key, cx) {
        Ok(None) => (0, Vec::new()),
        Ok(Some(set)) => scan_set(set, &request),
        Err(refused) => return refused.answer(out),
    };
    reply::array_header(out, 2);
    reply::bulk(out, itoa::Buffer::new().format(next).as_bytes());
    reply::array_header(out, picked.len());
    members_reply(out, &picked);
}

/// One SSCAN step over `set`: the next cursor and the matching members.
fn scan_set(set: &Set, request: &ScanRequest<'_>) -> (u64, Vec<Vec<u8>>) {
    let wanted = |member: &Vec<u8>| {
        request
            .pattern
            .is_none_or(|p| glob::matches(p, member, false))
    };
    let len = set.len() as u64;
    if set.encoding() == "intset" {
        // In order, as Redis answers an intset.
        let all = (0..set.len()).filter_map(|index| set.get_index(index));
        return (0, all.filter(wanted).collect());
    }
    let start = match request.cursor {
        0 => len,
        cursor => cursor.min(len),
    };
    let end = start.saturating_sub(request.count as u64);
    let picked = (end..start)
        .rev()
        .filter_map(|index| set.get_index(index as usize))
        .filter(wanted)
        .collect();
    (end, picked)
}

/// SINTER, SUNION, SDIFF, their STORE forms and SINTERCARD.
fn combine(command: Command, argv: &Argv<'_>, cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let (destination, keys, limit) = match parse_combine(command, argv) {
        Ok(parsed) => parsed,
        Err(error) => return reply::error(out, error),
    };
    if !keys_are_local(keys.iter().copied().chain(destination), cx) {
        return reply::error(out, KEYS_ON_SEVERAL_SHARDS);
    }
    let mut sets = Vec::with_capacity(keys.len());
    for key in &keys {
        match cx.store.peek(key, cx.now) {
            None => sets.push(None),
            Some(Value::Set(set)) => sets.push(Some(set)),
            Some(_) => return Refused::WrongType.answer(out),
        }
    }
    let result = match command {
        Command::Sinter | Command::Sinterstore | Command::Sintercard => intersect(&sets, limit),
        Command::Sunion | Command::Sunionstore => union(&sets),
        _ => difference(&sets),
    };
    match (command, destination) {
        (Command::Sintercard, _) => reply::integer(out, result.len() as i64),
        (_, Some(destination)) => {
            let stored = result.len();
            let limits = cx.limits();
            let mut set = Set::default();
            for member in &result {
                set.insert(member, &limits);
            }
            if let Err(refused) = typecheck::store(destination, Collection::Set(set), cx) {
                return refused.answer(out);
            }
            reply::integer(out, stored as i64);
        }
        (_, None) => {
            reply::set_header(out, cx.version, result.len());
            members_reply(out, &result);
        }
    }
}

/// The destination, the source keys and SINTERCARD's LIMIT (0: none).
type Combine<'a> = (Option<&'a [u8]>, Vec<&'a [u8]>, usize);

/// Parses a combining command's arguments.
fn parse_combine<'a>(command: Command, argv: &Argv<'a>) -> Result<Combine<'a>, &'static [u8]> {
    let all: Vec<&[u8]> = argv.iter().skip(1).collect();
    match command {
        Command::Sinterstore | Command::Sunionstore | Command::Sdiffstore => {
            Ok((all.first().copied(), all[1..].to_vec(), 0))
        }
        Command::Sintercard => {
            const NUMKEYS: &[u8] = b"ERR numkeys should be greater than 0";
            let numkeys = parse_i64(all[0]).filter(|&n| n > 0).ok_or(NUMKEYS)? as u64;
            if numkeys > (all.len() - 1) as u64 {
                return Err(b"ERR Number of keys can't be greater than number of args");
            }
            let numkeys = numkeys as usize;
            let keys = all[1..=numkeys].to_vec();
            let mut limit = 0;
            let mut rest = all[numkeys + 1..].iter();
            while let Some(option) = rest.next() {
                match rest.next() {
                    Some(value) if option.eq_ignore_ascii_case(b"limit") => {
                        limit = parse_i64(value)
                            .filter(|&n| n >= 0)
                            .ok_or(&b"ERR LIMIT can't be negative"[..])?
                            as usize;
                    }
                    _ => return Err(SYNTAX_ERROR),
                }
            }
            Ok((None, keys, limit))
        }
        _ => Ok((None, all, 0)),
    }
}

/// Members of every set (none if one is missing), at most `limit` (0: no
/// limit), walking the smallest.
fn intersect(sets: &[Option<&Set>], limit: usize) -> Vec<Vec<u8>> {
    let Some(sets) = sets.iter().copied().collect::<Option<Vec<&Set>>>() else {
        return Vec::new();
    };
    let Some(smallest) = sets.iter().min_by_key(|set| set.len()) else {
        return Vec::new();
    };
    let mut result = Vec::new();
    let mut buffer = itoa::Buffer::new();
    smallest.for_each(&mut buffer, |member| {
        if (limit == 0 || result.len() < limit) && sets.iter().all(|set| set.contains(member)) {
            result.push(member.to_vec());
        }
    });
    result
}

/// Members of any of the sets, each once.
fn union(sets: &[Option<&Set>]) -> Vec<Vec<u8>> {
    let mut seen = HashSet::new();
    let mut result = Vec::new();
    let mut buffer = itoa::Buffer::new();
    for set in sets.iter().flatten() {
        set.for_each(&mut buffer, |member| {
            if seen.insert(member.to_vec()) {
                result.push(member.to_vec());
            }
        });
    }
    result
}

/// Members of the first set in none of the others.
fn difference(sets: &[Option<&Set>]) -> Vec<Vec<u8>> {
    let Some((Some(first), others)) = sets.split_first() else {
        return Vec::new();
    };
    let mut result = Vec::new();
    let mut buffer = itoa::Buffer::new();
    first.for_each(&mut buffer, |member| {
        if !others.iter().flatten().any(|set| set.contains(member)) {
            result.push(member.to_vec());
        }
    });
    result
}
