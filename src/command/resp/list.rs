//! The list commands that never block: LPUSH, RPUSH, LPUSHX, RPUSHX,
//! LPOP, RPOP (with count), LLEN, LRANGE, LINDEX, LSET, LINSERT, LREM,
//! LTRIM, LPOS, LMOVE, RPOPLPUSH and LMPOP, with Redis 7's replies and
//! errors, on the store's [`List`] (`OBJECT ENCODING` says `quicklist`, as
//! Redis 7.0 does for every list). A list emptied by a pop, LREM or LTRIM
//! disappears with its key.
//!
//! LMOVE, RPOPLPUSH and LMPOP need their keys on this shard (a `{hash
//! tag}`); otherwise they answer `CROSSSLOT`, as the multi-key set
//! commands do. Their blocking twins (`blocking`) parse and pop through
//! [`parse_lmpop`], [`pop_many`] and [`move_element`].

use super::typecheck::{self, Refused};
use super::{
    keys_are_local, parse_i64, wrong_arity, Command, RespContext, NOT_AN_INTEGER, SYNTAX_ERROR,
};
use crate::protocol::resp::reply;
use crate::protocol::resp::Argv;
use crate::store::{List, Value};

/// A count that must be positive (`LPOP`, `RPOP`).
const NOT_POSITIVE: &[u8] = b"ERR value is out of range, must be positive";

/// Which end of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Left,
    Right,
}

impl End {
    /// `LEFT` or `RIGHT`, in any case.
    pub fn parse(word: &[u8]) -> Option<End> {
        if word.eq_ignore_ascii_case(b"left") {
            Some(End::Left)
        } else if word.eq_ignore_ascii_case(b"right") {
            Some(End::Right)
        } else {
            None
        }
    }

    fn pop(self, list: &mut List) -> Option<Box<[u8]>> {
        match self {
            End::Left => list.pop_front(),
            End::Right => list.pop_back(),
        }
    }

    fn push(self, list: &mut List, element: &[u8]) {
        match self {
            End::Left => list.push_front(element),
            End::Right => list.push_back(element),
        }
    }
}

/// Runs a list command (the caller checked its arity).
pub fn execute(command: Command, argv: &Argv<'_>, cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let key = argv.get(1).unwrap_or_default();
    let arg = |index: usize| argv.get(index).unwrap_or_default();
    let version = cx.version;
    let result = match command {
        Command::Lpush | Command::Rpush | Command::Lpushx | Command::Rpushx => {
            let end = match command {
                Command::Lpush | Command::Lpushx => End::Left,
                _ => End::Right,
            };
            let push = |list: &mut List| {
                argv.iter()
                    .skip(2)
                    .for_each(|element| end.push(list, element));
                list.len()
            };
            match command {
                Command::Lpush | Command::Rpush => typecheck::write(key, cx, push),
                _ => typecheck::update(key, cx, push).map(|len| len.unwrap_or(0)),
            }
            .map(|len| reply::integer(out, len as i64))
        }
        Command::Lpop | Command::Rpop => return pop(command, argv, cx, out),
        Command::Llen => {
            read(key, cx).map(|list| reply::integer(out, list.map_or(0, List::len) as i64))
        }
        Command::Lrange => {
            let (Some(start), Some(stop)) = (parse_i64(arg(2)), parse_i64(arg(3))) else {
                return reply::error(out, NOT_AN_INTEGER);
            };
            read(key, cx).map(|list| {
                let list = list.map_or(&EMPTY, |list| list);
                let (start, end) = super::inclusive_range(start, stop, list.len());
                reply::array_header(out, end - start);
                for element in list.iter().skip(start).take(end - start) {
                    reply::bulk(out, element);
                }
            })
        }
        Command::Lindex => {
            let Some(index) = parse_i64(arg(2)) else {
                return reply::error(out, NOT_AN_INTEGER);
            };
            read(key, cx).map(|list| {
                let element =
                    list.and_then(|list| position(index, list.len()).and_then(|at| list.get(at)));
                match element {
                    Some(element) => reply::bulk(out, element),
                    None => reply::null(out, version),
                }
            })
        }
        Command::Lset => {
            let Some(index) = parse_i64(arg(2)) else {
                return reply::error(out, NOT_AN_INTEGER);
            };
            let set = |list: &mut List| {
                position(index, list.len()).is_some_and(|at| list.set(at, arg(3)))
            };
            let done = typecheck::update_if(key, cx, set, |done| *done);
            done.map(|done| match done {
                None => reply::error(out, b"ERR no such key"),
                Some(false) => reply::error(out, b"ERR index out of range"),
                Some(true) => reply::simple_string(out, b"OK"),
            })
        }
        Command::Linsert => {
            let after = match arg(2) {
                word if word.eq_ignore_ascii_case(b"before") => false,
                word if word.eq_ignore_ascii_case(b"after") => true,
                _ => return reply::error(out, SYNTAX_ERROR),
            };
            let insert = |list: &mut List| {
                let pivot = list.iter().position(|element| element == arg(3));
                match pivot {
                    Some(at) => {
                        list.insert(at + after as usize, arg(4));
                        list.len() as i64
                    }
                    None => -1,
                }
            };
            typecheck::update_if(key, cx, insert, |len| *len >= 0)
                .map(|len| reply::integer(out, len.unwrap_or(0)))
        }
        Command::Lrem => {
            let Some(count) = parse_i64(arg(2)) else {
                return reply::error(out, NOT_AN_INTEGER);
            };
            let remove = |list: &mut List| remove(list, count, arg(3));
            typecheck::update_if(key, cx, remove, |removed| *removed > 0)
                .map(|removed| reply::integer(out, removed.unwrap_or(0) as i64))
        }
        Command::Ltrim => {
            let (Some(start), Some(stop)) = (parse_i64(arg(2)), parse_i64(arg(3))) else {
                return reply::error(out, NOT_AN_INTEGER);
            };
            typecheck::update(key, cx, |list: &mut List| {
                let (start, end) = super::inclusive_range(start, stop, list.len());
                list.keep(start, end);
            })
            .map(|_| reply::simple_string(out, b"OK"))
        }
        Command::Lpos => return lpos(argv, cx, out),
        Command::Lmove | Command::Rpoplpush => return lmove(command, argv, cx, out),
        Command::Lmpop => return lmpop(argv, cx, out),
        _ => return reply::error(out, b"ERR internal routing error"),
    };
    if let Err(refused) = result {
        refused.answer(out);
    }
}

/// What a missing list reads as.
static EMPTY: List = List::EMPTY;

/// The list under `key` to read.
fn read<'c>(key: &[u8], cx: &'c mut RespContext<'_>) -> Result<Option<&'c List>, Refused> {
    typecheck::read::<List>(key, cx)
}

/// The position `index` names in a list of `len` (negative: from the
/// tail), if inside it.
fn position(index: i64, len: usize) -> Option<usize> {
    let at = if index < 0 {
        index.checked_add(len as i64)?
    } else {
        index
    };
    (0..len as i64).contains(&at).then_some(at as usize)
}

/// LREM: removes up to `count` (0: all; negative: from the tail) elements
/// equal to `element`; returns how many.
fn remove(list: &mut List, count: i64, element: &[u8]) -> usize {
    let limit = if count == 0 {
        usize::MAX
    } else {
        count.unsigned_abs() as usize
    };
    let mut removed = 0;
    if count >= 0 {
        let mut at = 0;
        while at < list.len() && removed < limit {
            if list.get(at) == Some(element) {
                list.remove(at);
                removed += 1;
            } else {
                at += 1;
            }
        }
    } else {
        let mut at = list.len();
        while at > 0 && removed < limit {
            at -= 1;
            if list.get(at) == Some(element) {
                list.remove(at);
                removed += 1;
            }
        }
    }
    removed
}

/// `LPOP`/`RPOP key [count]`.
fn pop(command: Command, argv: &Argv<'_>, cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let key = argv.get(1).unwrap_or_default();
    let version = cx.version;
    if argv.len() > 3 {
        return wrong_arity(command.spec().name, out);
    }
    let count = match argv.get(2).map(parse_i64) {
        None => None,
        Some(Some(count)) if count >= 0 => Some(count as usize),
        Some(_) => return reply::error(out, NOT_POSITIVE),
    };
    let end = if command == Command::Lpop {
        End::Left
    } else {
        End::Right
    };
    let pop = |list: &mut List| {
        let take = count.unwrap_or(1).min(list.len());
        (0..take).filter_map(|_| end.pop(list)).collect::<Vec<_>>()
    };
    // `LPOP key 0` changes nothing.
    let popped = typecheck::update_if(key, cx, pop, |popped| !popped.is_empty());
    match (popped, count) {
        (Err(refused), _) => refused.answer(out),
        (Ok(None), None) => reply::null(out, version),
        (Ok(None), Some(_)) => reply::null_array(out, version),
        (Ok(Some(popped)), None) => reply::bulk(out, popped.first().map_or(&[][..], |e| e)),
        (Ok(Some(popped)), Some(_)) => {
            reply::array_header(out, popped.len());
            popped.iter().for_each(|element| reply::bulk(out, element));
        }
    }
}

/// `LPOS key element [RANK rank] [COUNT count] [MAXLEN len]`.
fn lpos(argv: &Argv<'_>, cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let key = argv.get(1).unwrap_or_default();
    let element = argv.get(2).unwrap_or_default();
    let version = cx.version;
    let (mut rank, mut count, mut maxlen) = (1i64, None, 0usize);
    let mut index = 3;
    while let Some(option) = argv.get(index) {
        let Some(value) = argv.get(index + 1) else {
            return reply::error(out, SYNTAX_ERROR);
        };
        let Some(n) = parse_i64(value) else {
            return reply::error(out, NOT_AN_INTEGER);
        };
        match option.to_ascii_uppercase().as_slice() {
            b"RANK" if n == 0 => {
                return reply::error(
                    out,
                    b"ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
                )
            }
            b"RANK" => rank = n,
            b"COUNT" if n < 0 => return reply::error(out, b"ERR COUNT can't be negative"),
            b"COUNT" => count = Some(n as usize),
            b"MAXLEN" if n < 0 => return reply::error(out, b"ERR MAXLEN can't be negative"),
            b"MAXLEN" => maxlen = n as usize,
            _ => return reply::error(out, SYNTAX_ERROR),
        }
        index += 2;
    }
    let list = match read(key, cx) {
        Ok(list) => list.map_or(&EMPTY, |list| list),
        Err(refused) => return refused.answer(out),
    };
    let len = list.len();
    let compared = if maxlen == 0 { len } else { maxlen.min(len) };
    let positions: Box<dyn Iterator<Item = usize>> = if rank > 0 {
        Box::new(0..compared)
    } else {
        Box::new((len - compared..len).rev())
    };
    let wanted = match count {
        Some(0) => usize::MAX,
        Some(count) => count,
        None => 1,
    };
    let found: Vec<usize> = positions
        .filter(|&at| list.get(at) == Some(element))
        .skip(rank.unsigned_abs().saturating_sub(1).min(usize::MAX as u64) as usize)
        .take(wanted)
        .collect();
    match count {
        None => match found.first() {
            Some(&at) => reply::integer(out, at as i64),
            None => reply::null(out, version),
        },
        Some(_) => {
            reply::array_header(out, found.len());
            found.iter().for_each(|&at| reply::integer(out, at as i64));
        }
    }
}

/// `LMOVE source destination LEFT|RIGHT LEFT|RIGHT` and `RPOPLPUSH source
/// destination`.
fn lmove(command: Command, argv: &Argv<'_>, cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let (source, destination) = (
        argv.get(1).unwrap_or_default(),
        argv.get(2).unwrap_or_default(),
    );
    let (from, to) = match command {
        Command::Rpoplpush => (End::Right, End::Left),
        _ => match (
            End::parse(argv.get(3).unwrap_or_default()),
            End::parse(argv.get(4).unwrap_or_default()),
        ) {
            (Some(from), Some(to)) => (from, to),
            _ => return reply::error(out, SYNTAX_ERROR),
        },
    };
    if !keys_are_local([source, destination], cx) {
        return reply::error(out, super::KEYS_ON_SEVERAL_SHARDS);
    }
    match move_element(source, destination, from, to, cx) {
        Ok(Some(element)) => reply::bulk(out, &element),
        Ok(None) => reply::null(out, cx.version),
        Err(refused) => refused.answer(out),
    }
}

/// LMOVE's move: pops an element from `source`'s `from` end and pushes it
/// at `destination`'s `to` end; `Ok(None)` when `source` does not exist
/// (the destination's type is not looked at then, as in Redis).
pub fn move_element(
    source: &[u8],
    destination: &[u8],
    from: End,
    to: End,
    cx: &mut RespContext<'_>,
) -> Result<Option<Box<[u8]>>, Refused> {
    match (
        cx.store.peek(source, cx.now),
        cx.store.peek(destination, cx.now),
    ) {
        (None, _) => return Ok(None),
        (Some(Value::List(_)), None | Some(Value::List(_))) => {}
        _ => return Err(Refused::WrongType),
    }
    if source == destination {
        // In place, so the key (and its TTL) stays.
        typecheck::update(source, cx, |list: &mut List| {
            let element = from.pop(list)?;
            to.push(list, &element);
            Some(element)
        })
        .map(Option::flatten)
    } else {
        typecheck::update(source, cx, |list: &mut List| from.pop(list)).and_then(|element| {
            let element = element.flatten();
            if let Some(element) = &element {
                typecheck::write(destination, cx, |list: &mut List| to.push(list, element))?;
            }
            Ok(element)
        })
    }
}

/// The keys of LMOVE, RPOPLPUSH and LMPOP (`None` for malformed
/// arguments, which the command answers wherever it runs).
pub fn keys<'a>(command: Command, argv: &Argv<'a>) -> Option<Vec<&'a [u8]>> {
    match command {
        Command::Lmpop => super::numkeys_keys(argv, 1),
        _ => Some(argv.iter().skip(1).take(2).collect()),
    }
}

/// `LMPOP numkeys key … LEFT|RIGHT [COUNT count]`: pops from the first
/// non-empty list.
fn lmpop(argv: &Argv<'_>, cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let args: Vec<&[u8]> = argv.iter().skip(1).collect();
    let MultiPop { keys, end, count } = match parse_lmpop(&args) {
        Ok(parsed) => parsed,
        Err(error) => return reply::error(out, error),
    };
    if !keys_are_local(keys.iter().copied(), cx) {
        return reply::error(out, super::KEYS_ON_SEVERAL_SHARDS);
    }
    for key in keys {
        match pop_many(key, end, count, cx) {
            Ok(None) => continue,
            Ok(Some(popped)) => return reply_popped(key, &popped, out),
            Err(refused) => return refused.answer(out),
        }
    }
    reply::null_array(out, cx.version);
}

/// LMPOP's arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultiPop<'a> {
    pub keys: Vec<&'a [u8]>,
    pub end: End,
    pub count: usize,
}

/// Parses LMPOP's arguments from `numkeys` on (`BLMPOP`'s after its
/// timeout).
pub fn parse_lmpop<'a>(args: &[&'a [u8]]) -> Result<MultiPop<'a>, &'static [u8]> {
    let numkeys = match parse_i64(args.first().copied().unwrap_or_default()) {
        Some(n) if n > 0 => n as u64,
        _ => return Err(b"ERR numkeys should be greater than 0"),
    };
    if numkeys > (args.len() - 1) as u64 {
        return Err(SYNTAX_ERROR);
    }
    let numkeys = numkeys as usize;
    let keys = args[1..=numkeys].to_vec();
    let Some(end) = args.get(1 + numkeys).and_then(|word| End::parse(word)) else {
        return Err(SYNTAX_ERROR);
    };
    let mut count = 1;
    let mut index = 2 + numkeys;
    while let Some(option) = args.get(index) {
        match (option.eq_ignore_ascii_case(b"count"), args.get(index + 1)) {
            (true, Some(value)) if index == 2 + numkeys => match parse_i64(value) {
                Some(n) if n > 0 => count = n as usize,
                _ => return Err(b"ERR count should be greater than 0"),
            },
            _ => return Err(SYNTAX_ERROR),
        }
        index += 2;
    }
    Ok(MultiPop { keys, end, count })
}

/// Pops up to `count` elements from `key`'s `end` (`Ok(None)`: no such
/// key).
pub fn pop_many(
    key: &[u8],
    end: End,
    count: usize,
    cx: &mut RespContext<'_>,
) -> Result<Option<Vec<Box<[u8]>>>, Refused> {
    match cx.store.peek(key, cx.now) {
        None => return Ok(None),
        Some(Value::List(_)) => {}
        Some(_) => return Err(Refused::WrongType),
    }
    typecheck::update(key, cx, |list: &mut List| {
        let take = count.min(list.len());
        (0..take).filter_map(|_| end.pop(list)).collect::<Vec<_>>()
    })
}

/// LMPOP's reply: the key, then the elements popped from it.
pub fn reply_popped(key: &[u8], popped: &[Box<[u8]>], out: &mut Vec<u8>) {
    reply::array_header(out, 2);
    reply::bulk(out, key);
    reply::array_header(out, popped.len());
    popped.iter().for_each(|element| reply::bulk(out, element));
}
