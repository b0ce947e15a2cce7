//! Pub/sub as Redis 7 words it: what one connection is subscribed to
//! ([`Subscriptions`]), the subscribe/unsubscribe confirmations and the
//! `message`/`pmessage`/`smessage` frames (arrays in RESP2, pushes in
//! RESP3), the RESP2 subscribed-mode rules, and `PUBSUB` introspection.
//!
//! Nothing here knows connections or shards. The shard's table of who
//! listens where, delivery, and gathering `PUBSUB` answers from every shard
//! live in `server::pubsub`; `introspect` parses `PUBSUB` and joins the
//! shards' parts of its answers.

mod introspect;
pub mod limit;

use hashbrown::HashSet;

pub use introspect::{write_help, Combine, Part, Query};

use super::{wrong_arity, Command};
use crate::protocol::resp::reply::{self, Version};
use crate::protocol::resp::Argv;

/// The three namespaces a connection can listen in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `SUBSCRIBE`: a channel by name.
    Channel,
    /// `PSUBSCRIBE`: every channel matching a glob pattern.
    Pattern,
    /// `SSUBSCRIBE`: a shard channel (Redis 7's slot-bound namespace; in a
    /// standalone server simply a second namespace of names).
    ShardChannel,
}

impl Kind {
    /// The subscription kind of a (un)subscribe command, if it is one.
    pub fn of(command: Command) -> Option<Kind> {
        match command {
            Command::Subscribe | Command::Unsubscribe => Some(Kind::Channel),
            Command::Psubscribe | Command::Punsubscribe => Some(Kind::Pattern),
            Command::Ssubscribe | Command::Sunsubscribe => Some(Kind::ShardChannel),
            _ => None,
        }
    }

    /// The first element of a subscribe confirmation.
    fn subscribe_word(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"subscribe",
            Kind::Pattern => b"psubscribe",
            Kind::ShardChannel => b"ssubscribe",
        }
    }

    /// The first element of an unsubscribe confirmation.
    fn unsubscribe_word(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"unsubscribe",
            Kind::Pattern => b"punsubscribe",
            Kind::ShardChannel => b"sunsubscribe",
        }
    }
}

/// What one connection is subscribed to (Redis keeps the same three sets
/// per client).
#[derive(Debug, Clone, Default)]
pub struct Subscriptions {
    channels: HashSet<Box<[u8]>>,
    patterns: HashSet<Box<[u8]>>,
    shard_channels: HashSet<Box<[u8]>>,
}

impl Subscriptions {
    fn set(&self, kind: Kind) -> &HashSet<Box<[u8]>> {
        match kind {
            Kind::Channel => &self.channels,
            Kind::Pattern => &self.patterns,
            Kind::ShardChannel => &self.shard_channels,
        }
    }

    fn set_mut(&mut self, kind: Kind) -> &mut HashSet<Box<[u8]>> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::ShardChannel => &mut self.shard_channels,
        }
    }

    /// Adds a subscription; `false` if it was there already.
    pub fn add(&mut self, kind: Kind, name: &[u8]) -> bool {
        let set = self.set_mut(kind);
        if set.contains(name) {
            return false;
        }
        set.insert(name.into())
    }

    /// Removes a subscription; `false` if there was none.
    pub fn remove(&mut self, kind: Kind, name: &[u8]) -> bool {
        self.set_mut(kind).remove(name)
    }

    /// The names subscribed to in one namespace, in no particular order
    /// (Redis's order is its hash table's).
    pub fn names(&self, kind: Kind) -> impl Iterator<Item = &[u8]> + '_ {
        self.set(kind).iter().map(|name| &name[..])
    }

    /// The count a confirmation of `kind` reports: channels and patterns
    /// together, shard channels on their own (as Redis 7).
    pub fn count(&self, kind: Kind) -> usize {
        match kind {
            Kind::Channel | Kind::Pattern => self.channels.len() + self.patterns.len(),
            Kind::ShardChannel => self.shard_channels.len(),
        }
    }

    /// Whether the connection is in subscribed mode: it has at least one
    /// subscription of any kind.
    pub fn is_subscribed(&self) -> bool {
        !(self.channels.is_empty() && self.patterns.is_empty() && self.shard_channels.is_empty())
    }
}

/// Appends a subscribe confirmation: `[subscribe, name, count]`.
pub fn write_subscribed(
    out: &mut Vec<u8>,
    version: Version,
    kind: Kind,
    name: &[u8],
    count: usize,
) {
    reply::push_header(out, version, 3);
    reply::bulk(out, kind.subscribe_word());
    reply::bulk(out, name);
    reply::integer(out, count as i64);
}

/// Appends an unsubscribe confirmation: `[unsubscribe, name, count]`, the
/// name a null when an unsubscribe-from-all found nothing to leave.
pub fn write_unsubscribed(
    out: &mut Vec<u8>,
    version: Version,
    kind: Kind,
    name: Option<&[u8]>,
    count: usize,
) {
    reply::push_header(out, version, 3);
    reply::bulk(out, kind.unsubscribe_word());
    match name {
        Some(name) => reply::bulk(out, name),
        None => reply::null(out, version),
    }
    reply::integer(out, count as i64);
}

/// Appends a published message for a channel subscriber: `[message,
/// channel, payload]`, or `smessage` for a shard channel.
pub fn write_message(
    out: &mut Vec<u8>,
    version: Version,
    shard_channel: bool,
    channel: &[u8],
    payload: &[u8],
) {
    reply::push_header(out, version, 3);
    reply::bulk(
        out,
        if shard_channel {
            b"smessage"
        } else {
            b"message"
        },
    );
    reply::bulk(out, channel);
    reply::bulk(out, payload);
}

/// Appends a published message for a pattern subscriber: `[pmessage,
/// pattern, channel, payload]`.
pub fn write_pmessage(
    out: &mut Vec<u8>,
    version: Version,
    pattern: &[u8],
    channel: &[u8],
    payload: &[u8],
) {
    reply::push_header(out, version, 4);
    reply::bulk(out, b"pmessage");
    reply::bulk(out, pattern);
    reply::bulk(out, channel);
    reply::bulk(out, payload);
}

/// `PING` from a RESP2 connection in subscribed mode: `["pong", arg]`, the
/// argument empty when none was given.
pub fn write_subscribed_pong(argv: &Argv<'_>, out: &mut Vec<u8>) {
    if argv.len() > 2 {
        return wrong_arity("ping", out);
    }
    reply::array_header(out, 2);
    reply::bulk(out, b"pong");
    reply::bulk(out, argv.get(1).unwrap_or_default());
}

/// Whether a RESP2 connection in subscribed mode may run `command` (RESP3
/// connections may run anything).
pub fn allowed_when_subscribed(command: Command) -> bool {
    matches!(
        command,
        Command::Subscribe
            | Command::Ssubscribe
            | Command::Psubscribe
            | Command::Unsubscribe
            | Command::Sunsubscribe
            | Command::Punsubscribe
            | Command::Ping
            | Command::Quit
            | Command::Reset
    )
}

/// Redis's refusal of a command in RESP2 subscribed mode, naming the
/// command as Redis does (`get`, or `client|id` for a subcommand).
pub fn write_not_allowed(command: Command, argv: &Argv<'_>, out: &mut Vec<u8>) {
    let mut name = command.spec().name.to_string();
    let container = matches!(
        command,
        Command::Client | Command::Command | Command::Config | Command::Pubsub
    );
    if let (true, Some(sub)) = (container, argv.get(1)) {
        name.push('|');
        name.push_str(&String::from_utf8_lossy(sub).to_ascii_lowercase());
    }
    let text = format!(
        "ERR Can't execute '{name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT \
         / RESET are allowed in this context"
    );
    reply::error(out, text.as_bytes());
}

/// Whether `command` publishes (`PUBLISH`, `SPUBLISH`), and to which
/// namespace: `Some(true)` for shard channels.
pub fn publishes_to_shard_channel(command: Command) -> Option<bool> {
    match command {
        Command::Publish => Some(false),
        Command::Spublish => Some(true),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::resp::lookup;
    use crate::protocol::resp::{parse, Args, Limits, Parsed};

    pub(super) fn with_argv<T>(args: &[&str], check: impl FnOnce(&Argv<'_>) -> T) -> T {
        let frame = crate::command::resp::tests::encode(args);
        let mut parsed = Args::new();
        let Parsed::Command { argv, .. } = parse(frame.as_bytes(), &Limits::default(), &mut parsed)
        else {
            panic!("test frame must parse");
        };
        check(&argv)
    }

    fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).expect("utf-8")
    }

    #[test]
    fn counts_follow_redis() {
        let mut subs = Subscriptions::default();
        assert!(!subs.is_subscribed());
        assert!(subs.add(Kind::Channel, b"a"));
        assert!(!subs.add(Kind::Channel, b"a"));
        assert!(subs.add(Kind::Pattern, b"a*"));
        assert!(subs.add(Kind::ShardChannel, b"s"));
        assert_eq!(subs.count(Kind::Channel), 2);
        assert_eq!(subs.count(Kind::Pattern), 2);
        assert_eq!(subs.count(Kind::ShardChannel), 1);
        assert!(subs.remove(Kind::Channel, b"a"));
        assert!(!subs.remove(Kind::Channel, b"a"));
        assert_eq!(
            subs.names(Kind::Pattern).collect::<Vec<_>>(),
            vec![&b"a*"[..]]
        );
        assert!(subs.remove(Kind::Pattern, b"a*"));
        assert!(subs.is_subscribed(), "a shard channel is left");
        subs.remove(Kind::ShardChannel, b"s");
        assert!(!subs.is_subscribed());
    }

    #[test]
    fn frames_are_arrays_in_resp2_and_pushes_in_resp3() {
        let mut out = Vec::new();
        write_subscribed(&mut out, Version::Resp2, Kind::Channel, b"ch", 1);
        assert_eq!(text(out), "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
        let mut out = Vec::new();
        write_unsubscribed(&mut out, Version::Resp2, Kind::Pattern, None, 0);
        assert_eq!(text(out), "*3\r\n$12\r\npunsubscribe\r\n$-1\r\n:0\r\n");
        let mut out = Vec::new();
        write_unsubscribed(&mut out, Version::Resp3, Kind::Channel, None, 0);
        assert_eq!(text(out), ">3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n");
        let mut out = Vec::new();
        write_message(&mut out, Version::Resp3, false, b"a", b"hello");
        assert_eq!(
            text(out),
            ">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$5\r\nhello\r\n"
        );
        let mut out = Vec::new();
        write_message(&mut out, Version::Resp2, true, b"s", b"m");
        assert_eq!(text(out), "*3\r\n$8\r\nsmessage\r\n$1\r\ns\r\n$1\r\nm\r\n");
        let mut out = Vec::new();
        write_pmessage(&mut out, Version::Resp3, b"*", b"a", b"hello");
        assert_eq!(
            text(out),
            ">4\r\n$8\r\npmessage\r\n$1\r\n*\r\n$1\r\na\r\n$5\r\nhello\r\n"
        );
    }

    #[test]
    fn subscribed_mode_refusals_name_the_command_as_redis() {
        let refusal = |args: &[&str]| {
            with_argv(args, |argv| {
                let command = lookup(argv.name()).expect("known command");
                let mut out = Vec::new();
                write_not_allowed(command, argv, &mut out);
                text(out)
            })
        };
        let tail = "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET \
                    are allowed in this context\r\n";
        assert_eq!(
            refusal(&["GET", "k"]),
            format!("-ERR Can't execute 'get{tail}")
        );
        assert_eq!(
            refusal(&["client", "ID"]),
            format!("-ERR Can't execute 'client|id{tail}")
        );
        assert_eq!(
            refusal(&["COMMAND"]),
            format!("-ERR Can't execute 'command{tail}")
        );
        assert!(allowed_when_subscribed(Command::Ping));
        assert!(allowed_when_subscribed(Command::Reset));
        assert!(!allowed_when_subscribed(Command::Publish));
        assert!(!allowed_when_subscribed(Command::Hello));
    }

    #[test]
    fn subscribed_pong_carries_the_argument() {
        let pong = |args: &[&str]| {
            with_argv(args, |argv| {
                let mut out = Vec::new();
                write_subscribed_pong(argv, &mut out);
                text(out)
            })
        };
        assert_eq!(pong(&["PING"]), "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
        assert_eq!(pong(&["PING", "x"]), "*2\r\n$4\r\npong\r\n$1\r\nx\r\n");
        assert_eq!(
            pong(&["PING", "x", "y"]),
            "-ERR wrong number of arguments for 'ping' command\r\n"
        );
    }
}
