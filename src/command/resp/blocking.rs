//! The blocking pops: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN,
//! BZPOPMAX and BZMPOP. This module parses them (Redis 7.0's argument
//! errors, in its order) and runs the pop each stands for (LPOP's, LMOVE's,
//! LMPOP's, ZPOPMIN's, ZMPOP's), with Redis 7.0's replies.
//!
//! Waiting is not done here: the server layer (`server::blocking`) parses
//! a client's request into a [`BlockingPop`], tries it with
//! [`BlockingPop::try_pop`], and when nothing could be popped keeps it until
//! one of its keys gets data, then tries that key alone
//! ([`BlockingPop::try_pop_key`]). [`execute`] is the form that does not
//! wait (a blocking command inside a transaction, as Redis runs it there):
//! the pop, or a null (the null array, but a null bulk for BLMOVE and
//! BRPOPLPUSH, as Redis replies them in a transaction; a timeout replies
//! the null array for every one).
//!
//! A request whose keys (BLMOVE's destination too) live on several shards
//! runs on copies of them (`command::resp::copies`), where every key is
//! local: [`BlockingPop::try_pop`] first, [`BlockingPop::try_pop_ready`]
//! when woken.

pub use super::list::End;

use super::list;
use super::long_double::{self, Number};
use super::typecheck::Refused;
use super::zset;
use super::{keys_are_local, Command, RespContext, KEYS_ON_SEVERAL_SHARDS};
use crate::protocol::resp::reply;
use crate::protocol::resp::Argv;
use crate::store::Value;

/// A timeout that is no number.
pub const TIMEOUT_NOT_A_FLOAT: &[u8] = b"ERR timeout is not a float or out of range";
/// A timeout under zero (or one too large for Redis's milliseconds, whose
/// conversion overflows to a negative number).
pub const TIMEOUT_NEGATIVE: &[u8] = b"ERR timeout is negative";

/// What a blocking command pops, once one of its keys has data.
#[derive(Debug, Clone, PartialEq)]
pub enum Pop {
    /// BLPOP, BRPOP: one element, replied `[key, element]`.
    One(End),
    /// BLMPOP: up to `count` elements, replied as LMPOP does.
    Many { end: End, count: usize },
    /// BLMOVE, BRPOPLPUSH: LMOVE's move to `destination`, replied as LMOVE
    /// does.
    Move {
        destination: Box<[u8]>,
        from: End,
        to: End,
    },
    /// BZPOPMIN, BZPOPMAX: one entry, replied `[key, member, score]`.
    Entry { max: bool },
    /// BZMPOP: up to `count` entries, replied as ZMPOP does.
    Entries { max: bool, count: usize },
}

/// Which type a blocking command waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    List,
    SortedSet,
}

impl Wanted {
    /// Whether `key` holds this type (a client waiting for it may pop).
    pub fn is_held(self, key: &[u8], cx: &RespContext<'_>) -> bool {
        matches!(
            (self, cx.store.peek(key, cx.now)),
            (Wanted::List, Some(Value::List(_))) | (Wanted::SortedSet, Some(Value::ZSet(_)))
        )
    }
}

/// A parsed blocking request, owning its keys: what a blocked client waits
/// with.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockingPop {
    pub pop: Pop,
    /// The keys it pops from, in the request's order (BLMOVE: the source).
    pub keys: Vec<Box<[u8]>>,
    /// How long to wait, in milliseconds; `None`: for ever (`0`).
    pub timeout_ms: Option<u64>,
}

/// Whether `command` is one of the blocking pops.
pub fn is_blocking(command: Command) -> bool {
    matches!(
        command,
        Command::Blpop
            | Command::Brpop
            | Command::Blmove
            | Command::Brpoplpush
            | Command::Blmpop
            | Command::Bzpopmin
            | Command::Bzpopmax
            | Command::Bzmpop
    )
}

/// The key whose shard runs a blocking request (its first key; the
/// arguments are checked there too when they are wrong).
pub fn first_key<'a>(command: Command, argv: &Argv<'a>) -> &'a [u8] {
    let at = match command {
        Command::Blmpop | Command::Bzmpop => 3,
        _ => 1,
    };
    argv.get(at).unwrap_or_default()
}

/// Every key a blocking request names (BLMOVE's destination too), for a
/// transaction that gathers its keys; none for malformed arguments.
pub fn keys<'a>(command: Command, argv: &Argv<'a>) -> Vec<&'a [u8]> {
    let args = || argv.iter().skip(1);
    match command {
        Command::Blmove | Command::Brpoplpush => args().take(2).collect(),
        Command::Blmpop | Command::Bzmpop => super::numkeys_keys(argv, 2).unwrap_or_default(),
        _ => args().take(argv.len().saturating_sub(2)).collect(),
    }
}

/// Reads a timeout in seconds (a float; 0: for ever) as Redis 7.0 does:
/// milliseconds rounded up, so any positive timeout waits at least one.
pub fn parse_timeout(text: &[u8]) -> Result<Option<u64>, &'static [u8]> {
    let value = match long_double::parse(text) {
        None => return Err(TIMEOUT_NOT_A_FLOAT),
        Some(Number::Infinite) => return Err(TIMEOUT_NEGATIVE),
        Some(Number::Finite(value)) => value,
    };
    let ms = (value.to_f64() * 1000.0).ceil();
    // Redis converts to a signed 64-bit count: what does not fit comes out
    // negative.
    if ms < 0.0 || ms.is_nan() || ms >= 9_223_372_036_854_775_808.0 {
        return Err(TIMEOUT_NEGATIVE);
    }
    Ok(match ms as u64 {
        0 if value.is_positive() => Some(1),
        0 => None,
        ms => Some(ms),
    })
}

impl BlockingPop {
    /// Parses a blocking request (the caller checked its arity), with
    /// Redis's errors in Redis's order: BLMOVE's ends and BLMPOP/BZMPOP's
    /// LMPOP/ZMPOP arguments before the timeout.
    pub fn parse(command: Command, argv: &Argv<'_>) -> Result<BlockingPop, &'static [u8]> {
        let args: Vec<&[u8]> = argv.iter().collect();
        let last = args.len() - 1;
        let owned = |keys: &[&[u8]]| keys.iter().map(|&key| Box::from(key)).collect();
        let (pop, keys, timeout) = match command {
            Command::Blpop | Command::Brpop => {
                let end = if command == Command::Blpop {
                    End::Left
                } else {
                    End::Right
                };
                (Pop::One(end), owned(&args[1..last]), args[last])
            }
            Command::Bzpopmin | Command::Bzpopmax => {
                let max = command == Command::Bzpopmax;
                (Pop::Entry { max }, owned(&args[1..last]), args[last])
            }
            Command::Blmove | Command::Brpoplpush => {
                let (from, to) = if command == Command::Brpoplpush {
                    (End::Right, End::Left)
                } else {
                    match (End::parse(args[3]), End::parse(args[4])) {
                        (Some(from), Some(to)) => (from, to),
                        _ => return Err(super::SYNTAX_ERROR),
                    }
                };
                let destination = Box::from(args[2]);
                let pop = Pop::Move {
                    destination,
                    from,
                    to,
                };
                (pop, owned(&args[1..2]), args[last])
            }
            Command::Blmpop => {
                let list::MultiPop { keys, end, count } = list::parse_lmpop(&args[2..])?;
                (Pop::Many { end, count }, owned(&keys), args[1])
            }
            Command::Bzmpop => {
                let zset::MultiPop { keys, max, count } = zset::parse_zmpop(&args[2..])?;
                (Pop::Entries { max, count }, owned(&keys), args[1])
            }
            _ => return Err(b"ERR internal routing error"),
        };
        Ok(BlockingPop {
            pop,
            keys,
            timeout_ms: parse_timeout(timeout)?,
        })
    }

    /// BLMOVE's and BRPOPLPUSH's destination.
    pub fn destination(&self) -> Option<&[u8]> {
        match &self.pop {
            Pop::Move { destination, .. } => Some(destination),
            _ => None,
        }
    }

    /// Every key the request touches: those it pops from, then the
    /// destination.
    pub fn all_keys(&self) -> impl Iterator<Item = &[u8]> {
        self.keys.iter().map(|key| &**key).chain(self.destination())
    }

    /// The type its keys must hold for it to pop.
    pub fn wanted(&self) -> Wanted {
        match self.pop {
            Pop::Entry { .. } | Pop::Entries { .. } => Wanted::SortedSet,
            _ => Wanted::List,
        }
    }

    /// Pops from the first of its keys that holds data and replies, as the
    /// non-blocking twin does (`WRONGTYPE` for a key of another type met
    /// first). Returns `false`, having written nothing, when every key is
    /// empty: then the client may wait.
    pub fn try_pop(&self, cx: &mut RespContext<'_>, out: &mut Vec<u8>) -> bool {
        for key in &self.keys {
            match self.holds_wanted(key, cx) {
                None => continue,
                Some(false) => {
                    Refused::WrongType.answer(out);
                    return true;
                }
                Some(true) => return self.pop_from(key, cx, out),
            }
        }
        false
    }

    /// Pops from `key` (one of its keys, which just got data) and replies;
    /// `false`, having written nothing, when `key` does not hold the type
    /// it waits for (the client keeps waiting, as in Redis 7.0).
    pub fn try_pop_key(&self, key: &[u8], cx: &mut RespContext<'_>, out: &mut Vec<u8>) -> bool {
        self.holds_wanted(key, cx) == Some(true) && self.pop_from(key, cx, out)
    }

    /// Pops from the first of its keys that holds the type it waits for,
    /// skipping keys of another type (a woken client keeps waiting on
    /// those, as in Redis 7.0), and replies; `false`, having written
    /// nothing, when none does.
    pub fn try_pop_ready(&self, cx: &mut RespContext<'_>, out: &mut Vec<u8>) -> bool {
        self.keys.iter().any(|key| self.try_pop_key(key, cx, out))
    }

    /// Whether `key` holds the wanted type (`None`: no such key).
    fn holds_wanted(&self, key: &[u8], cx: &RespContext<'_>) -> Option<bool> {
        let value = cx.store.peek(key, cx.now)?;
        Some(matches!(
            (self.wanted(), value),
            (Wanted::List, Value::List(_)) | (Wanted::SortedSet, Value::ZSet(_))
        ))
    }

    /// Pops from `key`, which holds the wanted type, and replies. Returns
    /// `true` (`false` only if nothing was written, which cannot happen
    /// for a key that holds data).
    fn pop_from(&self, key: &[u8], cx: &mut RespContext<'_>, out: &mut Vec<u8>) -> bool {
        let version = cx.version;
        let result = match &self.pop {
            Pop::One(end) => list::pop_many(key, *end, 1, cx).map(|popped| {
                let popped = popped.unwrap_or_default();
                let Some(element) = popped.first() else {
                    return false;
                };
                reply::array_header(out, 2);
                reply::bulk(out, key);
                reply::bulk(out, element);
                true
            }),
            Pop::Many { end, count } => list::pop_many(key, *end, *count, cx).map(|popped| {
                list::reply_popped(key, &popped.unwrap_or_default(), out);
                true
            }),
            Pop::Move {
                destination,
                from,
                to,
            } => list::move_element(key, destination, *from, *to, cx).map(|moved| match moved {
                Some(element) => {
                    reply::bulk(out, &element);
                    true
                }
                None => false,
            }),
            Pop::Entry { max } => zset::pop_entries(key, *max, 1, cx).map(|popped| {
                let popped = popped.unwrap_or_default();
                let Some((member, score)) = popped.first() else {
                    return false;
                };
                reply::array_header(out, 3);
                reply::bulk(out, key);
                reply::bulk(out, member);
                zset::score_reply(out, version, *score);
                true
            }),
            Pop::Entries { max, count } => zset::pop_entries(key, *max, *count, cx).map(|popped| {
                zset::reply_popped(key, &popped.unwrap_or_default(), version, out);
                true
            }),
        };
        result.unwrap_or_else(|refused| {
            refused.answer(out);
            true
        })
    }
}

/// Runs a blocking command without waiting, as Redis does inside a
/// transaction: its pop if a key has data, else a null (LMOVE's null bulk
/// for BLMOVE and BRPOPLPUSH, the null array for the others).
pub fn execute(command: Command, argv: &Argv<'_>, cx: &mut RespContext<'_>, out: &mut Vec<u8>) {
    let request = match BlockingPop::parse(command, argv) {
        Ok(request) => request,
        Err(error) => return reply::error(out, error),
    };
    if !keys_are_local(request.all_keys(), cx) {
        return reply::error(out, KEYS_ON_SEVERAL_SHARDS);
    }
    if request.try_pop(cx, out) {
        return;
    }
    match request.pop {
        Pop::Move { .. } => reply::null(out, cx.version),
        _ => reply::null_array(out, cx.version),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::Shard;
    use super::*;

    #[test]
    fn without_waiting_they_pop_or_reply_a_null() {
        let mut shard = Shard::new();
        let script: &[(&[&str], &str)] = &[
            (&["BLPOP", "l", "0"], "*-1\r\n"),
            (&["BLMOVE", "l", "m", "LEFT", "LEFT", "0"], "$-1\r\n"),
            (&["BRPOPLPUSH", "l", "m", "0"], "$-1\r\n"),
            (&["BLMPOP", "0", "1", "l", "LEFT"], "*-1\r\n"),
            (&["BZPOPMIN", "z", "0"], "*-1\r\n"),
            (&["BZMPOP", "0", "1", "z", "MIN"], "*-1\r\n"),
            (&["RPUSH", "l", "a", "b", "c"], ":3\r\n"),
            (&["BRPOP", "x", "l", "0"], "*2\r\n$1\r\nl\r\n$1\r\nc\r\n"),
            (&["BLMOVE", "l", "m", "LEFT", "RIGHT", "5"], "$1\r\na\r\n"),
            (
                &["BLMPOP", "1", "1", "l", "LEFT", "COUNT", "9"],
                "*2\r\n$1\r\nl\r\n*1\r\n$1\r\nb\r\n",
            ),
            (&["ZADD", "z", "1", "a", "2", "b"], ":2\r\n"),
            (
                &["BZPOPMAX", "z", "0"],
                "*3\r\n$1\r\nz\r\n$1\r\nb\r\n$1\r\n2\r\n",
            ),
            (
                &["BZMPOP", "0", "1", "z", "MIN", "COUNT", "2"],
                "*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n",
            ),
            (&["BLPOP", "m", "-1"], "-ERR timeout is negative\r\n"),
            (
                &["BZPOPMIN", "m", "0"],
                "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
            ),
        ];
        for (args, reply) in script {
            assert_eq!(shard.run(args), *reply, "{args:?}");
        }
    }

    #[test]
    fn timeouts_read_as_redis_7_reads_them() {
        assert_eq!(parse_timeout(b"0"), Ok(None));
        assert_eq!(parse_timeout(b"-0"), Ok(None));
        assert_eq!(parse_timeout(b"-0.0001"), Ok(None));
        assert_eq!(parse_timeout(b"1"), Ok(Some(1000)));
        assert_eq!(parse_timeout(b"0.0015"), Ok(Some(2)));
        assert_eq!(parse_timeout(b"1e-10"), Ok(Some(1)));
        assert_eq!(parse_timeout(b"1e-400"), Ok(Some(1)));
        assert_eq!(parse_timeout(b"0x10"), Ok(Some(16_000)));
        assert_eq!(parse_timeout(b".5e1"), Ok(Some(5000)));
        for negative in [&b"-1"[..], b"-0.0011", b"inf", b"-inf", b"1e400", b"1e20"] {
            assert_eq!(parse_timeout(negative), Err(TIMEOUT_NEGATIVE));
        }
        for bad in [&b"abc"[..], b"nan", b" 1", b"1x", b"1e", b""] {
            assert_eq!(parse_timeout(bad), Err(TIMEOUT_NOT_A_FLOAT));
        }
    }
}
