//! `PUBSUB` introspection: parsing its subcommands, each shard's part of
//! an answer, and joining the parts into Redis's reply.
//!
//! Each shard knows only its own subscribers, so `server::pubsub` asks
//! every shard for its [`Part`] and joins them with [`Query::combine`]: a
//! channel with subscribers on two shards is listed once, its subscribers
//! summed, and a pattern counted once.

use hashbrown::HashSet;

use crate::command::resp::{parse_i64, wrong_arity};
use crate::protocol::resp::reply;
use crate::protocol::resp::Argv;

/// A `PUBSUB` subcommand, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Query<'a> {
    /// `CHANNELS [pattern]` (`shard`: `SHARDCHANNELS`).
    Channels {
        shard: bool,
        pattern: Option<&'a [u8]>,
    },
    /// `NUMSUB [channel …]` (`shard`: `SHARDNUMSUB`); the channels are
    /// `argv[2..]`.
    Numsub { shard: bool },
    /// `NUMPAT`: how many distinct patterns have subscribers.
    Numpat,
    /// `HELP`.
    Help,
}

impl<'a> Query<'a> {
    /// Parses `PUBSUB subcommand …`, or writes Redis's error.
    pub fn parse(argv: &Argv<'a>, out: &mut Vec<u8>) -> Option<Query<'a>> {
        let sub = argv.get(1).unwrap_or_default();
        let quoted = String::from_utf8_lossy(&sub[..sub.len().min(128)]);
        let lower = sub.to_ascii_lowercase();
        let query = match lower.as_slice() {
            b"channels" | b"shardchannels" => Query::Channels {
                shard: lower.starts_with(b"shard"),
                pattern: argv.get(2),
            },
            b"numsub" => Query::Numsub { shard: false },
            b"shardnumsub" => Query::Numsub { shard: true },
            b"numpat" => Query::Numpat,
            b"help" => Query::Help,
            _ => {
                let text = format!("ERR unknown subcommand '{quoted}'. Try PUBSUB HELP.");
                reply::error(out, text.as_bytes());
                return None;
            }
        };
        match query {
            // Their arity in Redis's table is exactly 2.
            Query::Numpat | Query::Help if argv.len() != 2 => {
                wrong_arity(&format!("pubsub|{}", quoted.to_ascii_lowercase()), out);
                None
            }
            // Within the table's arity (-2), refused by the command itself.
            Query::Channels { .. } if argv.len() > 3 => {
                let text = format!(
                    "ERR unknown subcommand or wrong number of arguments for '{quoted}'. \
                     Try PUBSUB HELP."
                );
                reply::error(out, text.as_bytes());
                None
            }
            _ => Some(query),
        }
    }

    /// The function joining every shard's part into the reply (the
    /// caller's own part first); `None` for `HELP`, answered alone.
    pub fn combine(self) -> Option<Combine> {
        match self {
            Query::Channels { .. } => Some(combine_channels),
            Query::Numsub { .. } => Some(combine_numsub),
            Query::Numpat => Some(combine_numpat),
            Query::Help => None,
        }
    }
}

/// Joins every shard's [`Part`] of a `PUBSUB` answer into the reply.
pub type Combine = fn(&[Vec<u8>], &mut Vec<u8>);

/// `PUBSUB HELP`, as Redis 7.0 words it.
pub fn write_help(out: &mut Vec<u8>) {
    const LINES: &[&[u8]] = &[
        b"PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        b"CHANNELS [<pattern>]",
        b"    Return the currently active channels matching a <pattern> (default: '*').",
        b"NUMPAT",
        b"    Return number of subscriptions to patterns.",
        b"NUMSUB [<channel> ...]",
        b"    Return the number of subscribers for the specified channels, excluding",
        b"    pattern subscriptions(default: no channels).",
        b"SHARDCHANNELS [<pattern>]",
        b"    Return the currently active shard level channels matching a <pattern> (default: '*').",
        b"SHARDNUMSUB [<shardchannel> ...]",
        b"    Return the number of subscribers for the specified shard level channel(s)",
        b"HELP",
        b"    Prints this help.",
    ];
    reply::help(out, LINES);
}

/// One shard's part of a `PUBSUB` answer: a list of byte strings, each
/// a 4-byte little-endian length and the bytes. For `CHANNELS` and
/// `NUMPAT` the shard's channel or pattern names; for `NUMSUB` the
/// requested channels and their subscriber counts, alternating.
pub struct Part;

impl Part {
    /// Appends one entry.
    pub fn push(out: &mut Vec<u8>, bytes: &[u8]) {
        out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(bytes);
    }

    /// Appends a count as one entry (its decimal digits).
    pub fn push_count(out: &mut Vec<u8>, count: usize) {
        Part::push(out, itoa::Buffer::new().format(count).as_bytes());
    }

    /// The entries of a part (a malformed tail is ignored: parts are only
    /// ever written by [`Part::push`]).
    pub fn entries(part: &[u8]) -> impl Iterator<Item = &[u8]> + '_ {
        let mut rest = part;
        std::iter::from_fn(move || {
            let (len, tail) = rest.split_first_chunk::<4>()?;
            let len = u32::from_le_bytes(*len) as usize;
            let entry = tail.get(..len)?;
            rest = &tail[len..];
            Some(entry)
        })
    }
}

/// `CHANNELS`: every name any shard reported, once, as an array.
fn combine_channels(parts: &[Vec<u8>], out: &mut Vec<u8>) {
    let mut seen: HashSet<&[u8]> = HashSet::new();
    let mut names = Vec::new();
    for part in parts {
        for name in Part::entries(part) {
            if seen.insert(name) {
                names.push(name);
            }
        }
    }
    reply::array_header(out, names.len());
    for name in names {
        reply::bulk(out, name);
    }
}

/// `NUMSUB`: each requested channel with its subscribers summed over the
/// shards, as a flat array (an array in RESP3 too, as Redis 7.0).
fn combine_numsub(parts: &[Vec<u8>], out: &mut Vec<u8>) {
    let Some(first) = parts.first() else {
        return reply::array_header(out, 0);
    };
    let mut totals: Vec<(&[u8], i64)> = Vec::new();
    let mut entries = Part::entries(first);
    while let (Some(name), Some(count)) = (entries.next(), entries.next()) {
        totals.push((name, parse_i64(count).unwrap_or(0)));
    }
    for part in &parts[1..] {
        let mut entries = Part::entries(part);
        for total in totals.iter_mut() {
            let (_, Some(count)) = (entries.next(), entries.next()) else {
                break;
            };
            total.1 += parse_i64(count).unwrap_or(0);
        }
    }
    reply::array_header(out, totals.len() * 2);
    for (name, count) in totals {
        reply::bulk(out, name);
        reply::integer(out, count);
    }
}

/// `NUMPAT`: how many distinct patterns the shards reported.
fn combine_numpat(parts: &[Vec<u8>], out: &mut Vec<u8>) {
    let distinct: HashSet<&[u8]> = parts.iter().flat_map(|part| Part::entries(part)).collect();
    reply::integer(out, distinct.len() as i64);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::resp::pubsub::tests::with_argv;

    fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).expect("utf-8")
    }

    #[test]
    fn pubsub_subcommands_parse_with_redis_errors() {
        let parsed = |args: &[&str]| {
            with_argv(args, |argv| {
                let mut out = Vec::new();
                let query = Query::parse(argv, &mut out).map(|q| format!("{q:?}"));
                (query, text(out))
            })
        };
        assert_eq!(
            parsed(&["PUBSUB", "channels"]).0.as_deref(),
            Some("Channels { shard: false, pattern: None }")
        );
        assert_eq!(
            parsed(&["PUBSUB", "NUMSUB", "a", "b"]).0.as_deref(),
            Some("Numsub { shard: false }")
        );
        assert_eq!(
            parsed(&["PUBSUB", "FOO"]).1,
            "-ERR unknown subcommand 'FOO'. Try PUBSUB HELP.\r\n"
        );
        assert_eq!(
            parsed(&["PUBSUB", "NUMPAT", "x"]).1,
            "-ERR wrong number of arguments for 'pubsub|numpat' command\r\n"
        );
        assert_eq!(
            parsed(&["PUBSUB", "CHANNELS", "a", "b"]).1,
            "-ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. \
             Try PUBSUB HELP.\r\n"
        );
        assert_eq!(
            parsed(&["PUBSUB", "help", "x"]).1,
            "-ERR wrong number of arguments for 'pubsub|help' command\r\n"
        );
    }

    fn part(entries: &[&str]) -> Vec<u8> {
        let mut out = Vec::new();
        for entry in entries {
            Part::push(&mut out, entry.as_bytes());
        }
        out
    }

    #[test]
    fn parts_from_several_shards_combine_into_one_reply() {
        let mut out = Vec::new();
        combine_channels(&[part(&["a", "b"]), part(&["b", "c"]), part(&[])], &mut out);
        assert_eq!(
            text(out),
            "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n",
            "a channel with subscribers on two shards is listed once"
        );
        let mut out = Vec::new();
        combine_numsub(
            &[part(&["a", "1", "x", "0"]), part(&["a", "2", "x", "0"])],
            &mut out,
        );
        assert_eq!(text(out), "*4\r\n$1\r\na\r\n:3\r\n$1\r\nx\r\n:0\r\n");
        let mut out = Vec::new();
        combine_numpat(&[part(&["n*", "x"]), part(&["n*"])], &mut out);
        assert_eq!(text(out), ":2\r\n");
        let mut empty = Vec::new();
        Part::push_count(&mut empty, 0);
        assert_eq!(Part::entries(&empty).collect::<Vec<_>>(), vec![&b"0"[..]]);
    }
}
