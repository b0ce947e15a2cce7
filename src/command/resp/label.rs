//! The name a request is known by in `CLIENT LIST`'s `cmd=`, the slow log
//! and `INFO commandstats`: the command's (`get`), or for a container
//! command its subcommand's full name (`config|get`), as Redis 7 counts
//! and shows them.
//!
//! A [`Label`] is a small index: first every command of [`COMMANDS`] in
//! order, then every subcommand of [`SUBCOMMANDS`], so that counters per
//! label are a plain array ([`Label::COUNT`] long).

use super::{Command, COMMANDS};
use crate::protocol::resp::Argv;

/// A command or subcommand, as an index (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Label(u16);

/// The subcommands of container commands that corecache answers, each
/// under its parent, by full name.
pub const SUBCOMMANDS: &[(Command, &str)] = &[
    (Command::Client, "client|getname"),
    (Command::Client, "client|help"),
    (Command::Client, "client|id"),
    (Command::Client, "client|info"),
    (Command::Client, "client|kill"),
    (Command::Client, "client|list"),
    (Command::Client, "client|no-evict"),
    (Command::Client, "client|no-touch"),
    (Command::Client, "client|reply"),
    (Command::Client, "client|setinfo"),
    (Command::Client, "client|setname"),
    (Command::Command, "command|count"),
    (Command::Command, "command|docs"),
    (Command::Command, "command|getkeys"),
    (Command::Command, "command|help"),
    (Command::Command, "command|info"),
    (Command::Command, "command|list"),
    (Command::Config, "config|get"),
    (Command::Config, "config|help"),
    (Command::Config, "config|resetstat"),
    (Command::Config, "config|rewrite"),
    (Command::Config, "config|set"),
    (Command::Memory, "memory|help"),
    (Command::Memory, "memory|usage"),
    (Command::Object, "object|encoding"),
    (Command::Object, "object|freq"),
    (Command::Object, "object|help"),
    (Command::Object, "object|idletime"),
    (Command::Object, "object|refcount"),
    (Command::Pubsub, "pubsub|channels"),
    (Command::Pubsub, "pubsub|help"),
    (Command::Pubsub, "pubsub|numpat"),
    (Command::Pubsub, "pubsub|numsub"),
    (Command::Pubsub, "pubsub|shardchannels"),
    (Command::Pubsub, "pubsub|shardnumsub"),
    (Command::Slowlog, "slowlog|get"),
    (Command::Slowlog, "slowlog|help"),
    (Command::Slowlog, "slowlog|len"),
    (Command::Slowlog, "slowlog|reset"),
];

impl Label {
    /// How many labels there are.
    pub const COUNT: usize = COMMANDS.len() + SUBCOMMANDS.len();

    /// The label of a request for `command` with arguments `argv`; `None`
    /// for an unknown subcommand (Redis's `cmd=NULL`, not counted). A
    /// container asked with no subcommand (`COMMAND`) is the command.
    pub fn of(command: Command, argv: &Argv<'_>) -> Option<Label> {
        let whole = Some(Label(command.index() as u16));
        if !is_container(command) {
            return whole;
        }
        let Some(sub) = argv.get(1) else {
            return whole;
        };
        SUBCOMMANDS
            .iter()
            .position(|&(parent, full)| {
                parent == command
                    && full
                        .split_once('|')
                        .is_some_and(|(_, name)| name.as_bytes().eq_ignore_ascii_case(sub))
            })
            .map(|position| Label((COMMANDS.len() + position) as u16))
    }

    /// The label of `command` itself.
    pub fn command(command: Command) -> Label {
        Label(command.index() as u16)
    }

    /// The command this label belongs to.
    pub fn parent(self) -> Command {
        match (self.0 as usize).checked_sub(COMMANDS.len()) {
            Some(sub) => SUBCOMMANDS[sub].0,
            None => COMMANDS[self.0 as usize].command,
        }
    }

    /// Redis's name for it: `get`, `config|get`.
    pub fn name(self) -> &'static str {
        match (self.0 as usize).checked_sub(COMMANDS.len()) {
            Some(sub) => SUBCOMMANDS[sub].1,
            None => COMMANDS[self.0 as usize].name,
        }
    }

    /// Its index, below [`Label::COUNT`].
    pub fn index(self) -> usize {
        self.0 as usize
    }

    /// The label with index `index`, if there is one.
    pub fn from_index(index: usize) -> Option<Label> {
        (index < Label::COUNT).then_some(Label(index as u16))
    }
}

/// Whether Redis counts `command` by subcommand (the parents in
/// [`SUBCOMMANDS`]).
pub fn is_container(command: Command) -> bool {
    matches!(
        command,
        Command::Client
            | Command::Command
            | Command::Config
            | Command::Memory
            | Command::Object
            | Command::Pubsub
            | Command::Slowlog
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::resp::{parse, Args, Limits, Parsed};

    fn label_of(request: &[u8]) -> Option<&'static str> {
        let mut args = Args::new();
        let Parsed::Command { argv, .. } = parse(request, &Limits::default(), &mut args) else {
            panic!("not a request");
        };
        let command = super::super::lookup(argv.name()).expect("known command");
        Label::of(command, &argv).map(Label::name)
    }

    #[test]
    fn commands_and_subcommands_have_redis_names() {
        assert_eq!(label_of(b"GET k\r\n"), Some("get"));
        assert_eq!(label_of(b"config GET x\r\n"), Some("config|get"));
        assert_eq!(label_of(b"COMMAND\r\n"), Some("command"));
        assert_eq!(label_of(b"COMMAND DOCS\r\n"), Some("command|docs"));
        assert_eq!(label_of(b"CLIENT nosuch\r\n"), None);
    }

    #[test]
    fn every_label_round_trips() {
        for index in 0..Label::COUNT {
            let label = Label::from_index(index).expect("in range");
            assert_eq!(label.index(), index);
            let name = label.name();
            let parent = label.parent().spec().name;
            assert!(name == parent || name.starts_with(&format!("{parent}|")));
        }
        assert_eq!(Label::from_index(Label::COUNT), None);
        for &(parent, _) in SUBCOMMANDS {
            assert!(is_container(parent));
        }
        for pair in SUBCOMMANDS.windows(2) {
            assert!(pair[0].1 < pair[1].1, "{} before {}", pair[0].1, pair[1].1);
        }
    }
}
