//! The sorted-set commands: ZADD, ZINCRBY, ZREM, ZCARD, ZSCORE, ZMSCORE,
//! ZCOUNT, ZLEXCOUNT, ZRANK, ZREVRANK, ZRANGE (BYSCORE, BYLEX, REV, LIMIT,
//! WITHSCORES), ZREVRANGE, ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZRANGEBYLEX,
//! ZREVRANGEBYLEX, ZPOPMIN, ZPOPMAX and ZREMRANGEBYRANK/SCORE/LEX, with
//! Redis 7.0's replies and errors, on the store's [`ZSet`].
//!
//! Argument errors come before the key's type is looked at, as in Redis;
//! a sorted set emptied by a command disappears with its key.

use super::random;
use super::scan;
use super::typecheck::{self, Refused};
use hashbrown::HashMap;

use super::{
    glob, keys_are_local, parse_i64, Command, RespContext, KEYS_ON_SEVERAL_SHARDS, NOT_AN_INTEGER,
    SYNTAX_ERROR,
};
use crate::protocol::resp::reply::{self, Version};
use crate::protocol::resp::Argv;
use crate::store::{Collection, Value, ZSet};

/// `ERR value is not a valid float`.
const NOT_A_FLOAT: &[u8] = b"ERR value is not a valid float";
/// An increment that gives NaN (`inf` plus `-inf`).
const NAN_SCORE: &[u8] = b"ERR resulting score is not a number (NaN)";
/// A score range bound that is not a float.
const BAD_SCORE_RANGE: &[u8] = b"ERR min or max is not a float";
/// A lex range bound that is not `[x`, `(x`, `-` or `+`.
const BAD_LEX_RANGE: &[u8] = b"ERR min or max not valid string range item";

/// Runs a sorted-set command (the caller checked its arity).
pub fn execute(command: Command, argv: &Argv<'_>, cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let key = argv.get(1).unwrap_or_default();
    let arg = |index: usize| argv.get(index).unwrap_or_default();
    let version = cx.version;
    let result = match command {
        Command::Zadd => return zadd(argv, cx, out),
        Command::Zincrby => {
            let Some(by) = parse_score(arg(2)) else {
                return reply::error(out, NOT_A_FLOAT);
            };
            let limits = cx.limits();
            // As Redis, an increment that leaves the score as it was
            // (`ZINCRBY key 0 member`) is no change.
            let increment = |zset: &mut ZSet| {
                let old = zset.score(arg(3));
                let score = old.unwrap_or(0.0) + by;
                if score.is_nan() {
                    return None;
                }
                zset.insert(arg(3), score, &limits);
                Some((score, old != Some(score)))
            };
            typecheck::write_if(key, cx, increment, |done| done.is_some_and(|(_, new)| new)).map(
                |score| match score {
                    Some((score, _)) => score_reply(out, version, score),
                    None => reply::error(out, NAN_SCORE),
                },
            )
        }
        Command::Zrem => {
            let remove = |zset: &mut ZSet| argv.iter().skip(2).filter(|m| zset.remove(m)).count();
            typecheck::update_if(key, cx, remove, |removed| *removed > 0)
        }
        .map(|removed| reply::integer(out, removed.unwrap_or(0) as i64)),
        Command::Zcard => {
            read(key, cx).map(|zset| reply::integer(out, zset.map_or(0, ZSet::len) as i64))
        }
        Command::Zscore => read(key, cx).map(|zset| match zset.and_then(|z| z.score(arg(2))) {
            Some(score) => score_reply(out, version, score),
            None => reply::null(out, version),
        }),
        Command::Zmscore => read(key, cx).map(|zset| {
            reply::array_header(out, argv.len() - 2);
            for member in argv.iter().skip(2) {
                match zset.and_then(|z| z.score(member)) {
                    Some(score) => score_reply(out, version, score),
                    None => reply::null(out, version),
                }
            }
        }),
        Command::Zrank | Command::Zrevrank => return zrank(command, argv, cx, out),
        Command::Zcount | Command::Zlexcount => {
            let range = match command {
                Command::Zcount => parse_score_range(arg(2), arg(3)),
                _ => parse_lex_range(arg(2), arg(3)),
            };
            let range = match range {
                Ok(range) => range,
                Err(error) => return reply::error(out, error),
            };
            read(key, cx).map(|zset| {
                let (start, end) = zset.map_or((0, 0), |z| range.ranks(z));
                reply::integer(out, end.saturating_sub(start) as i64)
            })
        }
        Command::Zpopmin | Command::Zpopmax => return zpop(command, argv, cx, out),
        Command::Zrandmember => return zrandmember(argv, cx, out),
        Command::Zscan => return zscan(argv, cx, out),
        Command::Zmpop => return zmpop(argv, cx, out),
        Command::Zunion
        | Command::Zinter
        | Command::Zdiff
        | Command::Zunionstore
        | Command::Zinterstore
        | Command::Zdiffstore
        | Command::Zintercard => return combine(command, argv, cx, out),
        Command::Zremrangebyrank | Command::Zremrangebyscore | Command::Zremrangebylex => {
            return zremrange(command, argv, cx, out)
        }
        _ => return zrange(command, argv, cx, out),
    };
    if let Err(refused) = result {
        refused.answer(out);
    }
}

/// `ZRANK`/`ZREVRANK key member [WITHSCORE]`: the member's rank, or with
/// `WITHSCORE` (Redis 7.2's option) the rank and the score; nil (a nil
/// array with `WITHSCORE`) when the key or the member is absent.
fn zrank(command: Command, argv: &Argv<'_>, cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    if argv.len() > 4 {
        return super::wrong_arity(command.spec().name, out);
    }
    let with_score = match argv.get(3) {
        None => false,
        Some(option) if option.eq_ignore_ascii_case(b"withscore") => true,
        Some(_) => return reply::error(out, super::SYNTAX_ERROR),
    };
    let key = argv.get(1).unwrap_or_default();
    let member = argv.get(2).unwrap_or_default();
    let version = cx.version;
    let result = read(key, cx).map(|zset| {
        let found = zset.and_then(|z| {
            let rank = z.rank(member)?;
            let rank = match command {
                Command::Zrevrank => z.len() - 1 - rank,
                _ => rank,
            };
            Some((rank, z.score(member)?))
        });
        match (found, with_score) {
            (Some((rank, _)), false) => reply::integer(out, rank as i64),
            (Some((rank, score)), true) => {
                reply::array_header(out, 2);
                reply::integer(out, rank as i64);
                score_reply(out, version, score);
            }
            (None, false) => reply::null(out, version),
            (None, true) => reply::null_array(out, version),
        }
    });
    if let Err(refused) = result {
        refused.answer(out);
    }
}

/// A score as Redis 7.0 replies one (`addReplyDouble`): `%.17g`, so
/// `0.1` is `0.10000000000000001`; `inf` and `-inf`; RESP3's double type.
pub fn score_reply(out: &mut Vec<u8>, version: Version, score: f64) {
    let mut text = String::new();
    format_g17(&mut text, score);
    match version {
        Version::Resp2 => reply::bulk(out, text.as_bytes()),
        Version::Resp3 => {
            out.push(b',');
            out.extend_from_slice(text.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }
}

/// Writes `value` as C's `printf("%.17g")` does (`inf`/`-inf` for the
/// infinities).
pub fn format_g17(out: &mut String, value: f64) {
    use std::fmt::Write;
    if value.is_infinite() {
        out.push_str(if value > 0.0 { "inf" } else { "-inf" });
        return;
    }
    let scientific = format!("{value:.16e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let trim = |digits: &str| -> String {
        match digits.contains('.') {
            true => digits
                .trim_end_matches('0')
                .trim_end_matches('.')
                .to_string(),
            false => digits.to_string(),
        }
    };
    if !(-4..17).contains(&exponent) {
        let sign = if exponent < 0 { '-' } else { '+' };
        let _ = write!(out, "{}e{sign}{:02}", trim(mantissa), exponent.abs());
    } else {
        let decimals = (16 - exponent) as usize;
        out.push_str(&trim(&format!("{value:.decimals$}")));
    }
}

/// The sorted set under `key` to read.
fn read<'c>(key: &[u8], cx: &'c mut RespContext<'_>) -> Result<Option<&'c ZSet>, Refused> {
    typecheck::read::<ZSet>(key, cx)
}

/// A score as Redis reads one (`strtod` over the whole argument, no
/// leading space, NaN refused): `1`, `-1.5`, `1e3`, `inf`, `+inf`, `-inf`.
pub fn parse_score(text: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(text).ok()?;
    if text.starts_with(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    // -0 is 0, as Redis's listpack stores it.
    text.parse::<f64>()
        .ok()
        .filter(|score| !score.is_nan())
        .map(|score| score + 0.0)
}

/// A range of a sorted set, by score or by member.
#[derive(Debug, Clone)]
enum Range<'a> {
    /// Scores from `min` to `max`, each bound inclusive unless flagged.
    Score {
        min: f64,
        min_open: bool,
        max: f64,
        max_open: bool,
    },
    /// Members from `min` to `max` (with all scores equal, as Redis
    /// assumes).
    Lex { min: Lex<'a>, max: Lex<'a> },
}

/// A lex range bound.
#[derive(Debug, Clone, Copy)]
enum Lex<'a> {
    /// `-`.
    Lowest,
    /// `+`.
    Highest,
    /// `[x` (true) or `(x`.
    Member(&'a [u8], bool),
}

/// `min max` of ZRANGEBYSCORE and friends.
fn parse_score_range<'a>(min: &[u8], max: &[u8]) -> Result<Range<'a>, &'static [u8]> {
    let bound = |text: &[u8]| match text.strip_prefix(b"(") {
        Some(rest) => parse_score(rest).map(|score| (score, true)),
        None => parse_score(text).map(|score| (score, false)),
    };
    let ((min, min_open), (max, max_open)) = bound(min).zip(bound(max)).ok_or(BAD_SCORE_RANGE)?;
    Ok(Range::Score {
        min,
        min_open,
        max,
        max_open,
    })
}

/// `min max` of ZRANGEBYLEX and friends.
fn parse_lex_range<'a>(min: &'a [u8], max: &'a [u8]) -> Result<Range<'a>, &'static [u8]> {
    let bound = |text: &'a [u8]| match text {
        b"-" => Some(Lex::Lowest),
        b"+" => Some(Lex::Highest),
        [b'[', rest @ ..] => Some(Lex::Member(rest, true)),
        [b'(', rest @ ..] => Some(Lex::Member(rest, false)),
        _ => None,
    };
    let (min, max) = bound(min).zip(bound(max)).ok_or(BAD_LEX_RANGE)?;
    Ok(Range::Lex { min, max })
}

impl Range<'_> {
    /// The ranks `start..end` of the entries in range (empty if none).
    fn ranks(&self, zset: &ZSet) -> (usize, usize) {
        let (start, end) = match *self {
            Range::Score {
                min,
                min_open,
                max,
                max_open,
            } => (
                zset.partition(|s, _| if min_open { s > min } else { s >= min }),
                zset.partition(|s, _| if max_open { s >= max } else { s > max }),
            ),
            Range::Lex { min, max } => {
                let start = match min {
                    Lex::Lowest => 0,
                    Lex::Highest => zset.len(),
                    Lex::Member(bound, inclusive) => zset.partition(|_, m| match inclusive {
                        true => m >= bound,
                        false => m > bound,
                    }),
                };
                let end = match max {
                    Lex::Lowest => 0,
                    Lex::Highest => zset.len(),
                    Lex::Member(bound, inclusive) => zset.partition(|_, m| match inclusive {
                        true => m > bound,
                        false => m >= bound,
                    }),
                };
                (start, end)
            }
        };
        (start, end.max(start))
    }
}

/// `ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member …]`.
fn zadd(argv: &Argv<'_>, cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let (mut nx, mut xx, mut gt, mut lt, mut ch, mut incr) =
        (false, false, false, false, false, false);
    let mut at = 2;
    while let Some(option) = argv.get(at) {
        let flag = match option.to_ascii_lowercase().as_slice() {
            b"nx" => &mut nx,
            b"xx" => &mut xx,
            b"gt" => &mut gt,
            b"lt" => &mut lt,
            b"ch" => &mut ch,
            b"incr" => &mut incr,
            _ => break,
        };
        *flag = true;
        at += 1;
    }
    let pairs = argv.len() - at;
    if pairs == 0 || pairs % 2 == 1 {
        return reply::error(out, SYNTAX_ERROR);
    }
    if nx && xx {
        return reply::error(
            out,
            b"ERR XX and NX options at the same time are not compatible",
        );
    }
    if [gt, lt, nx].iter().filter(|&&on| on).count() > 1 {
        return reply::error(
            out,
            b"ERR GT, LT, and/or NX options at the same time are not compatible",
        );
    }
    if incr && pairs > 2 {
        return reply::error(
            out,
            b"ERR INCR option supports a single increment-element pair",
        );
    }
    let mut entries = Vec::with_capacity(pairs / 2);
    let mut args = argv.iter().skip(at);
    while let (Some(score), Some(member)) = (args.next(), args.next()) {
        match parse_score(score) {
            Some(score) => entries.push((score, member)),
            None => return reply::error(out, NOT_A_FLOAT),
        }
    }
    let version = cx.version;
    let limits = cx.limits();
    let key = argv.get(1).unwrap_or_default();
    if xx && cx.store.peek(key, cx.now).is_none() {
        // No key and XX: nothing to do, and no key created even for a
        // moment (a watcher of the absent key would see it).
        return if incr {
            reply::null(out, version)
        } else {
            reply::integer(out, 0)
        };
    }
    let add = |zset: &mut ZSet| {
        let (mut added, mut changed) = (0, 0);
        let mut last = None;
        for (score, member) in entries {
            let old = zset.score(member);
            if (nx && old.is_some()) || (xx && old.is_none()) {
                continue;
            }
            let score = match (incr, old) {
                (true, Some(old)) => old + score,
                _ => score,
            };
            if score.is_nan() {
                return Err(NAN_SCORE);
            }
            if let Some(old) = old {
                if (gt && score <= old) || (lt && score >= old) {
                    continue;
                }
                if score != old {
                    changed += 1;
                }
            } else {
                added += 1;
            }
            zset.insert(member, score, &limits);
            last = Some(score);
        }
        Ok((added, changed, last))
    };
    // Redis signals the key only if a member was added or its score moved.
    let result = typecheck::write_if(key, cx, add, |done| {
        done.is_ok_and(|(added, changed, _)| added + changed > 0)
    });
    match result {
        Ok(Ok((_, _, last))) if incr => match last {
            Some(score) => score_reply(out, version, score),
            None => reply::null(out, version),
        },
        Ok(Ok((added, changed, _))) => reply::integer(out, added + if ch { changed } else { 0 }),
        Ok(Err(error)) => reply::error(out, error),
        Err(refused) => refused.answer(out),
    }
}

/// Writes `entries` as a range reply: members, with their scores if
/// `with_scores` (RESP3: as `[member, score]` pairs).
fn reply_entries<'z>(
    out: &mut Vec<u8>,
    version: Version,
    with_scores: bool,
    entries: impl ExactSizeIterator<Item = (&'z [u8], f64)>,
) {
    let pairs = with_scores && version == Version::Resp3;
    let len = entries.len();
    reply::array_header(out, if with_scores && !pairs { 2 * len } else { len });
    for (member, score) in entries {
        if pairs {
            reply::array_header(out, 2);
        }
        reply::bulk(out, member);
        if with_scores {
            score_reply(out, version, score);
        }
    }
}

/// How ZRANGE and its older forms select.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum By {
    Rank,
    Score,
    Lex,
}

/// ZRANGE, ZRANGESTORE, ZREVRANGE, ZRANGEBYSCORE, ZREVRANGEBYSCORE,
/// ZRANGEBYLEX and ZREVRANGEBYLEX.
fn zrange(command: Command, argv: &Argv<'_>, cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    // ZRANGESTORE's destination comes first.
    let store = command == Command::Zrangestore;
    let shift = usize::from(store);
    let (mut by, mut rev) = match command {
        Command::Zrevrange => (Some(By::Rank), Some(true)),
        Command::Zrangebyscore => (Some(By::Score), Some(false)),
        Command::Zrevrangebyscore => (Some(By::Score), Some(true)),
        Command::Zrangebylex => (Some(By::Lex), Some(false)),
        Command::Zrevrangebylex => (Some(By::Lex), Some(true)),
        _ => (None, None),
    };
    let (mut with_scores, mut offset, mut limit) = (false, 0i64, -1i64);
    let mut at = 4 + shift;
    while let Some(option) = argv.get(at) {
        let left = argv.len() - at - 1;
        match option.to_ascii_lowercase().as_slice() {
            b"withscores" if !store => with_scores = true,
            b"limit" if left >= 2 => {
                match (
                    parse_i64(argv.get(at + 1).unwrap_or_default()),
                    parse_i64(argv.get(at + 2).unwrap_or_default()),
                ) {
                    (Some(o), Some(l)) => (offset, limit) = (o, l),
                    _ => return reply::error(out, NOT_AN_INTEGER),
                }
                at += 2;
            }
            b"rev" if rev.is_none() => rev = Some(true),
            b"bylex" if by.is_none() => by = Some(By::Lex),
            b"byscore" if by.is_none() => by = Some(By::Score),
            _ => return reply::error(out, SYNTAX_ERROR),
        }
        at += 1;
    }
    let by = by.unwrap_or(By::Rank);
    let rev = rev.unwrap_or(false);
    if limit != -1 && by == By::Rank {
        return reply::error(
            out,
            b"ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        );
    }
    if with_scores && by == By::Lex {
        return reply::error(
            out,
            b"ERR syntax error, WITHSCORES not supported in combination with BYLEX",
        );
    }
    let (mut min, mut max) = (
        argv.get(2 + shift).unwrap_or_default(),
        argv.get(3 + shift).unwrap_or_default(),
    );
    if rev && by != By::Rank {
        std::mem::swap(&mut min, &mut max);
    }
    let range = match by {
        By::Rank => match (parse_i64(min), parse_i64(max)) {
            (Some(start), Some(end)) => Some(Err((start, end))),
            _ => return reply::error(out, NOT_AN_INTEGER),
        },
        By::Score => Some(Ok(match parse_score_range(min, max) {
            Ok(range) => range,
            Err(error) => return reply::error(out, error),
        })),
        By::Lex => Some(Ok(match parse_lex_range(min, max) {
            Ok(range) => range,
            Err(error) => return reply::error(out, error),
        })),
    };
    let version = cx.version;
    let source = argv.get(1 + shift).unwrap_or_default();
    let destination = argv.get(1).unwrap_or_default();
    if store && !keys_are_local([source, destination], cx) {
        return reply::error(out, KEYS_ON_SEVERAL_SHARDS);
    }
    let zset = match read(source, cx) {
        Ok(Some(zset)) => zset,
        Ok(None) if store => return store_result(destination, Vec::new(), cx, out),
        Ok(None) => return reply::array_header(out, 0),
        Err(refused) => return refused.answer(out),
    };
    let (start, end) = match range {
        Some(Err((start, end))) if rev => {
            let (from, to) = super::inclusive_range(start, end, zset.len());
            (zset.len() - to, zset.len() - from)
        }
        Some(Err((start, end))) => super::inclusive_range(start, end, zset.len()),
        Some(Ok(range)) => range.ranks(zset),
        None => (0, 0),
    };
    let (start, end) = if by == By::Rank {
        (start, end)
    } else {
        // LIMIT counts from the end the range starts at (the top for REV).
        let len = (end - start) as u64;
        let skip = if offset < 0 {
            len
        } else {
            (offset as u64).min(len)
        };
        let take = if limit < 0 {
            len
        } else {
            (limit as u64).min(len - skip)
        };
        if rev {
            (end - (skip + take) as usize, end - skip as usize)
        } else {
            (start + skip as usize, start + (skip + take) as usize)
        }
    };
    let entries = zset.range(start, end);
    let entries: Vec<_> = if rev {
        entries.rev().collect()
    } else {
        entries.collect()
    };
    if store {
        let owned = entries.iter().map(|(m, s)| (m.to_vec(), *s)).collect();
        return store_result(destination, owned, cx, out);
    }
    reply_entries(out, version, with_scores, entries.into_iter());
}

/// Stores `entries` as the sorted set under `destination` (deleting it if
/// there are none) and replies their number.
fn store_result(
    destination: &[u8],
    entries: Vec<(Vec<u8>, f64)>,
    cx: &mut RespContext<'_>,
    out: &mut Vec<u8>,
) {
    let limits = cx.limits();
    let mut zset = ZSet::default();
    for (member, score) in &entries {
        zset.insert(member, *score, &limits);
    }
    let stored = zset.len();
    match typecheck::store(destination, Collection::ZSet(zset), cx) {
        Ok(()) => reply::integer(out, stored as i64),
        Err(refused) => refused.answer(out),
    }
}

/// `ZPOPMIN|ZPOPMAX key [count]`.
fn zpop(command: Command, argv: &Argv<'_>, cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    if argv.len() > 3 {
        return reply::error(out, SYNTAX_ERROR);
    }
    let count = match argv.get(2).map(parse_i64) {
        None => None,
        Some(Some(count)) if count >= 0 => Some(count as usize),
        Some(_) => return reply::error(out, b"ERR value is out of range, must be positive"),
    };
    if count == Some(0) {
        return reply::array_header(out, 0);
    }
    let version = cx.version;
    let key = argv.get(1).unwrap_or_default();
    let max = command == Command::Zpopmax;
    let popped =
        match typecheck::update(key, cx, |zset: &mut ZSet| zset.pop(max, count.unwrap_or(1))) {
            Ok(popped) => popped.unwrap_or_default(),
            Err(refused) => return refused.answer(out),
        };
    let entries = popped.iter().map(|(member, score)| (&**member, *score));
    if count.is_none() {
        // One entry: flat even in RESP3.
        reply::array_header(out, 2 * popped.len());
        for (member, score) in entries {
            reply::bulk(out, member);
            score_reply(out, version, score);
        }
    } else {
        reply_entries(out, version, true, entries);
    }
}

/// `ZRANDMEMBER key [count [WITHSCORES]]`, with HRANDFIELD's count rules
/// ([`random::picks`]).
fn zrandmember(argv: &Argv<'_>, cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let key = argv.get(1).unwrap_or_default();
    let version = cx.version;
    if argv.get(2).is_none() {
        return match read(key, cx) {
            Ok(Some(zset)) => {
                let (member, _) = zset
                    .get_index(fastrand::usize(..zset.len()))
                    .unwrap_or_default();
                reply::bulk(out, member)
            }
            Ok(None) => reply::null(out, version),
            Err(refused) => refused.answer(out),
        };
    }
    let (count, with_scores) = match random::parse_count(argv, Some(b"withscores")) {
        Ok(parsed) => parsed,
        Err(error) => return reply::error(out, error),
    };
    let zset = match read(key, cx) {
        Ok(Some(zset)) => zset,
        Ok(None) => return reply::array_header(out, 0),
        Err(refused) => return refused.answer(out),
    };
    let mut picks = random::picks(count, zset.len());
    if count >= 0 && count as u64 >= zset.len() as u64 {
        // The whole set, highest first, as Redis gives it.
        picks.reverse();
    }
    let entries = picks
        .into_iter()
        .map(|index| zset.get_index(index).unwrap_or_default());
    reply_entries(out, version, with_scores, entries);
}

/// `ZSCAN key cursor [MATCH pattern] [COUNT count]`: a listpack whole with
/// cursor 0, as Redis; a skiplist by rank from the top down, the cursor
/// being the number of ranks still to visit. Scores are bulk strings in
/// `%.17g`, as Redis's.
fn zscan(argv: &Argv<'_>, cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let key = argv.get(1).unwrap_or_default();
    let request = match scan::parse_from(argv, 2, false) {
        Ok(request) => request,
        Err(error) => return reply::error(out, error),
    };
    let zset = match read(key, cx) {
        Ok(zset) => zset,
        Err(refused) => return refused.answer(out),
    };
    let wanted = |member: &[u8]| {
        request
            .pattern
            .is_none_or(|p| glob::matches(p, member, false))
    };
    let (next, picked): (u64, Vec<(&[u8], f64)>) = match zset {
        None => (0, Vec::new()),
        Some(zset) if zset.encoding() == "listpack" => {
            (0, zset.iter().filter(|(m, _)| wanted(m)).collect())
        }
        Some(zset) => {
            let len = zset.len() as u64;
            let start = match request.cursor {
                0 => len,
                cursor => cursor.min(len),
            };
            let end = start.saturating_sub(request.count as u64);
            let picked = zset
                .range(end as usize, start as usize)
                .rev()
                .filter(|(m, _)| wanted(m))
                .collect();
            (end, picked)
        }
    };
    reply::array_header(out, 2);
    reply::bulk(out, itoa::Buffer::new().format(next).as_bytes());
    reply::array_header(out, 2 * picked.len());
    let mut text = String::new();
    for (member, score) in picked {
        reply::bulk(out, member);
        text.clear();
        format_g17(&mut text, score);
        reply::bulk(out, text.as_bytes());
    }
}

/// ZREMRANGEBYRANK, ZREMRANGEBYSCORE and ZREMRANGEBYLEX.
fn zremrange(command: Command, argv: &Argv<'_>, cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let (min, max) = (
        argv.get(2).unwrap_or_default(),
        argv.get(3).unwrap_or_default(),
    );
    let range = match command {
        Command::Zremrangebyrank => match (parse_i64(min), parse_i64(max)) {
            (Some(start), Some(end)) => Err((start, end)),
            _ => return reply::error(out, NOT_AN_INTEGER),
        },
        Command::Zremrangebyscore => match parse_score_range(min, max) {
            Ok(range) => Ok(range),
            Err(error) => return reply::error(out, error),
        },
        _ => match parse_lex_range(min, max) {
            Ok(range) => Ok(range),
            Err(error) => return reply::error(out, error),
        },
    };
    let key = argv.get(1).unwrap_or_default();
    let remove = |zset: &mut ZSet| {
        let (start, end) = match &range {
            Err((start, end)) => super::inclusive_range(*start, *end, zset.len()),
            Ok(range) => range.ranks(zset),
        };
        zset.remove_range(start, end)
    };
    let removed = typecheck::update_if(key, cx, remove, |removed| *removed > 0);
    match removed {
        Ok(removed) => reply::integer(out, removed.unwrap_or(0) as i64),
        Err(refused) => refused.answer(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_print_as_printf_g17() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (3.0, "3"),
            (1.5, "1.5"),
            (-2.25, "-2.25"),
            (0.1, "0.10000000000000001"),
            (1e20, "1e+20"),
            (1e16, "10000000000000000"),
            (1e17, "1e+17"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (1e300, "1.0000000000000001e+300"),
            (0.0001, "0.0001"),
            (0.00001, "1.0000000000000001e-05"),
            (2.2250738585072014e-308, "2.2250738585072014e-308"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
        ];
        for (value, expected) in cases {
            let mut text = String::new();
            format_g17(&mut text, *value);
            assert_eq!(&text, expected, "{value}");
        }
    }

    #[test]
    fn scores_parse_as_redis_reads_them() {
        assert_eq!(parse_score(b"1.5"), Some(1.5));
        assert_eq!(parse_score(b"+inf"), Some(f64::INFINITY));
        assert_eq!(parse_score(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_score(b"1e3"), Some(1000.0));
        assert_eq!(parse_score(b"nan"), None);
        assert_eq!(parse_score(b" 1"), None);
        assert_eq!(parse_score(b"1x"), None);
        assert_eq!(parse_score(b""), None);
    }

    #[test]
    fn rank_ranges_clamp_as_redis() {
        assert_eq!(crate::command::resp::inclusive_range(0, -1, 5), (0, 5));
        assert_eq!(crate::command::resp::inclusive_range(-2, -1, 5), (3, 5));
        assert_eq!(crate::command::resp::inclusive_range(3, 1, 5), (0, 0));
        assert_eq!(crate::command::resp::inclusive_range(-10, 100, 5), (0, 5));
        assert_eq!(crate::command::resp::inclusive_range(5, 6, 5), (0, 0));
        assert_eq!(crate::command::resp::inclusive_range(0, -1, 0), (0, 0));
    }
}

/// How ZUNION and ZINTER combine the scores of one member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    /// `a` and `b` combined (a NaN sum, `inf` and `-inf`, is 0 as in Redis).
    fn apply(self, a: f64, b: f64) -> f64 {
        match self {
            Aggregate::Sum => {
                let sum = a + b;
                if sum.is_nan() {
                    0.0
                } else {
                    sum
                }
            }
            Aggregate::Min => a.min(b),
            Aggregate::Max => a.max(b),
        }
    }
}

/// A parsed ZUNION/ZINTER/ZDIFF(STORE)/ZINTERCARD.
struct Combine<'a> {
    destination: Option<&'a [u8]>,
    keys: Vec<&'a [u8]>,
    weights: Vec<f64>,
    aggregate: Aggregate,
    with_scores: bool,
    limit: usize,
}

/// Parses the arguments of a combining command.
fn parse_combine<'a>(command: Command, argv: &Argv<'a>) -> Result<Combine<'a>, Vec<u8>> {
    let all: Vec<&[u8]> = argv.iter().collect();
    let stores = matches!(
        command,
        Command::Zunionstore | Command::Zinterstore | Command::Zdiffstore
    );
    let at = if stores { 2 } else { 1 };
    let numkeys = parse_i64(all[at]).ok_or(NOT_AN_INTEGER.to_vec())?;
    if numkeys < 1 {
        let name = command.spec().name;
        return Err(
            format!("ERR at least 1 input key is needed for '{name}' command").into_bytes(),
        );
    } else if numkeys as u64 > (all.len() - at - 1) as u64 {
        return Err(SYNTAX_ERROR.to_vec());
    }
    let numkeys = numkeys as usize;
    let keys = all[at + 1..at + 1 + numkeys].to_vec();
    let mut parsed = Combine {
        destination: stores.then(|| all[1]),
        keys,
        weights: vec![1.0; numkeys],
        aggregate: Aggregate::Sum,
        with_scores: false,
        limit: 0,
    };
    let weighted = !matches!(
        command,
        Command::Zdiff | Command::Zdiffstore | Command::Zintercard
    );
    let mut rest = at + 1 + numkeys;
    while rest < all.len() {
        let option = all[rest].to_ascii_lowercase();
        let left = all.len() - rest - 1;
        match option.as_slice() {
            b"weights" if weighted && left >= numkeys => {
                for (index, weight) in all[rest + 1..rest + 1 + numkeys].iter().enumerate() {
                    parsed.weights[index] =
                        parse_score(weight).ok_or(b"ERR weight value is not a float".to_vec())?;
                }
                rest += numkeys;
            }
            b"aggregate" if weighted && left >= 1 => {
                parsed.aggregate = match all[rest + 1].to_ascii_lowercase().as_slice() {
                    b"sum" => Aggregate::Sum,
                    b"min" => Aggregate::Min,
                    b"max" => Aggregate::Max,
                    _ => return Err(SYNTAX_ERROR.to_vec()),
                };
                rest += 1;
            }
            b"withscores" if !stores && command != Command::Zintercard => parsed.with_scores = true,
            b"limit" if command == Command::Zintercard && left >= 1 => {
                parsed.limit = parse_i64(all[rest + 1])
                    .filter(|&n| n >= 0)
                    .ok_or(b"ERR LIMIT can't be negative".to_vec())?
                    as usize;
                rest += 1;
            }
            _ => return Err(SYNTAX_ERROR.to_vec()),
        }
        rest += 1;
    }
    Ok(parsed)
}

/// One input of a combining command: its members and scores (a plain set
/// counts each member with score 1, as in Redis).
fn input_entries(value: Option<Value<'_>>) -> Result<Vec<(Vec<u8>, f64)>, Refused> {
    match value {
        None => Ok(Vec::new()),
        Some(Value::ZSet(zset)) => Ok(zset.iter().map(|(m, s)| (m.to_vec(), s)).collect()),
        Some(Value::Set(set)) => {
            let mut entries = Vec::with_capacity(set.len());
            set.for_each(&mut itoa::Buffer::new(), |m| {
                entries.push((m.to_vec(), 1.0))
            });
            Ok(entries)
        }
        Some(_) => Err(Refused::WrongType),
    }
}

/// The keys of ZRANGESTORE, ZUNION, ZINTER, ZDIFF, their STORE forms,
/// ZINTERCARD and ZMPOP (`None` for malformed arguments, which the
/// command answers wherever it runs).
pub fn keys<'a>(command: Command, argv: &Argv<'a>) -> Option<Vec<&'a [u8]>> {
    match command {
        Command::Zrangestore => Some(argv.iter().skip(1).take(2).collect()),
        Command::Zmpop => super::numkeys_keys(argv, 1),
        _ => {
            let parsed = parse_combine(command, argv).ok()?;
            Some(parsed.destination.into_iter().chain(parsed.keys).collect())
        }
    }
}

/// ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD, when every key
/// is on this shard (CROSSSLOT otherwise, as SINTER).
pub fn combine(command: Command, argv: &Argv<'_>, cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let parsed = match parse_combine(command, argv) {
        Ok(parsed) => parsed,
        Err(error) => return reply::error(out, &error),
    };
    if !keys_are_local(parsed.keys.iter().copied().chain(parsed.destination), cx) {
        return reply::error(out, KEYS_ON_SEVERAL_SHARDS);
    }
    let mut inputs = Vec::with_capacity(parsed.keys.len());
    for key in &parsed.keys {
        match input_entries(cx.store.peek(key, cx.now)) {
            Ok(entries) => inputs.push(entries),
            Err(refused) => return refused.answer(out),
        }
    }
    let weighted = |index: usize, score: f64| {
        let product = score * parsed.weights[index];
        if product.is_nan() {
            0.0
        } else {
            product
        }
    };
    let mut result: HashMap<Vec<u8>, f64> = HashMap::new();
    match command {
        Command::Zunion | Command::Zunionstore => {
            for (index, input) in inputs.iter().enumerate() {
                for (member, score) in input {
                    let score = weighted(index, *score);
                    result
                        .entry(member.clone())
                        .and_modify(|s| *s = parsed.aggregate.apply(*s, score))
                        .or_insert(score);
                }
            }
        }
        Command::Zdiff | Command::Zdiffstore => {
            if let Some((first, rest)) = inputs.split_first() {
                let others: Vec<HashMap<&[u8], ()>> = rest
                    .iter()
                    .map(|input| input.iter().map(|(m, _)| (&m[..], ())).collect())
                    .collect();
                for (member, score) in first {
                    if !others.iter().any(|other| other.contains_key(&member[..])) {
                        result.insert(member.clone(), *score);
                    }
                }
            }
        }
        _ => {
            let maps: Vec<HashMap<&[u8], f64>> = inputs
                .iter()
                .map(|input| input.iter().map(|(m, s)| (&m[..], *s)).collect())
                .collect();
            if let Some((first, _)) = inputs.split_first() {
                'members: for (member, score) in first {
                    let mut total = weighted(0, *score);
                    for (index, map) in maps.iter().enumerate().skip(1) {
                        let Some(score) = map.get(&member[..]) else {
                            continue 'members;
                        };
                        total = parsed.aggregate.apply(total, weighted(index, *score));
                    }
                    result.insert(member.clone(), total);
                    if command == Command::Zintercard && result.len() == parsed.limit {
                        break;
                    }
                }
            }
        }
    }
    if command == Command::Zintercard {
        return reply::integer(out, result.len() as i64);
    }
    match parsed.destination {
        Some(destination) => store_result(destination, result.into_iter().collect(), cx, out),
        None => {
            let limits = cx.limits();
            let mut zset = ZSet::default();
            for (member, score) in &result {
                zset.insert(member, *score, &limits);
            }
            let entries: Vec<_> = zset.iter().collect();
            reply_entries(out, cx.version, parsed.with_scores, entries.into_iter());
        }
    }
}

/// `ZMPOP numkeys key [key …] MIN|MAX [COUNT count]`: pops from the first
/// key holding a sorted set, when every key is on this shard.
fn zmpop(argv: &Argv<'_>, cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let args: Vec<&[u8]> = argv.iter().skip(1).collect();
    let MultiPop { keys, max, count } = match parse_zmpop(&args) {
        Ok(parsed) => parsed,
        Err(error) => return reply::error(out, error),
    };
    if !keys_are_local(keys.iter().copied(), cx) {
        return reply::error(out, KEYS_ON_SEVERAL_SHARDS);
    }
    let version = cx.version;
    for key in keys {
        match pop_entries(key, max, count, cx) {
            Ok(Some(popped)) => return reply_popped(key, &popped, version, out),
            Ok(None) => continue,
            Err(refused) => return refused.answer(out),
        }
    }
    reply::null_array(out, version);
}

/// ZMPOP's arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultiPop<'a> {
    pub keys: Vec<&'a [u8]>,
    /// `MAX`: the highest scores first.
    pub max: bool,
    pub count: usize,
}

/// Members popped with their scores.
pub type Popped = Vec<(Box<[u8]>, f64)>;

/// Parses ZMPOP's arguments from `numkeys` on (`BZMPOP`'s after its
/// timeout).
pub fn parse_zmpop<'a>(args: &[&'a [u8]]) -> Result<MultiPop<'a>, &'static [u8]> {
    let numkeys = match parse_i64(args.first().copied().unwrap_or_default()) {
        Some(n) if n >= 1 => n as u64,
        _ => return Err(b"ERR numkeys should be greater than 0"),
    };
    if numkeys >= (args.len() - 1) as u64 {
        return Err(SYNTAX_ERROR);
    }
    let numkeys = numkeys as usize;
    let keys = args[1..=numkeys].to_vec();
    let max = match args[1 + numkeys].to_ascii_lowercase().as_slice() {
        b"min" => false,
        b"max" => true,
        _ => return Err(SYNTAX_ERROR),
    };
    let mut count = None;
    let mut rest = args[2 + numkeys..].iter();
    while let Some(option) = rest.next() {
        match rest.next() {
            Some(value) if count.is_none() && option.eq_ignore_ascii_case(b"count") => {
                match parse_i64(value) {
                    Some(n) if n >= 1 => count = Some(n as usize),
                    _ => return Err(b"ERR count should be greater than 0"),
                }
            }
            _ => return Err(SYNTAX_ERROR),
        }
    }
    Ok(MultiPop {
        keys,
        max,
        count: count.unwrap_or(1),
    })
}

/// Pops up to `count` entries, lowest scores first (highest with `max`),
/// from the sorted set under `key` (`Ok(None)`: no such key).
pub fn pop_entries(
    key: &[u8],
    max: bool,
    count: usize,
    cx: &mut RespContext<'_>,
) -> Result<Option<Popped>, Refused> {
    typecheck::update(key, cx, |zset: &mut ZSet| zset.pop(max, count))
}

/// ZMPOP's reply: the key, then the popped members with their scores.
pub fn reply_popped(key: &[u8], popped: &[(Box<[u8]>, f64)], version: Version, out: &mut Vec<u8>) {
    reply::array_header(out, 2);
    reply::bulk(out, key);
    reply::array_header(out, popped.len());
    for (member, score) in popped {
        reply::array_header(out, 2);
        reply::bulk(out, member);
        score_reply(out, version, *score);
    }
}
