//! Commands about the connection and the server that touch no key: PING,
//! ECHO, HELLO, QUIT, RESET, SELECT, CLIENT (ID, SETNAME, GETNAME,
//! SETINFO, INFO, NO-EVICT, NO-TOUCH), COMMAND (COUNT, LIST, INFO, DOCS)
//! and TIME. In RESP2 subscribed mode `PING` answers as Redis does there
//! (`pubsub::write_subscribed_pong`).

use super::auth::RequirePass;
use super::client::{ClientFacts, ReplyMode};
use super::pubsub::Subscriptions;
use super::{lookup, wrong_arity, Command, Keys, Spec, COMMANDS, SYNTAX_ERROR};
use crate::clock::Now;
use crate::protocol::resp::reply::{self, Version};
use crate::protocol::resp::Argv;

/// The Redis version corecache's RESP front end implements (clients gate
/// features on it); corecache's own version is `corecache_version`.
pub const REDIS_VERSION: &str = "7.0.15";

/// What a RESP connection remembers between requests.
#[derive(Debug, Clone, Default)]
pub struct Session {
    /// The connection's id (`CLIENT ID`), unique in the process.
    pub id: u64,
    pub version: Version,
    /// `CLIENT SETNAME` / `HELLO … SETNAME`.
    pub name: Option<Vec<u8>>,
    /// `CLIENT SETINFO LIB-NAME` / `LIB-VER`.
    pub lib_name: Option<Vec<u8>>,
    pub lib_ver: Option<Vec<u8>>,
    /// The selected database (`SELECT`); 0 is the memcached keyspace.
    pub db: usize,
    /// Channels, patterns and shard channels subscribed to; any makes
    /// the connection subscribed.
    pub subscriptions: Subscriptions,
    /// `CLIENT REPLY`.
    pub reply: ReplyMode,
    /// `CLIENT NO-EVICT` and `CLIENT NO-TOUCH` (shown in `CLIENT LIST`'s
    /// flags; nothing is evicted, and reads do not count as touches).
    pub no_evict: bool,
    pub no_touch: bool,
    /// What `RESET` keeps: age, addresses, last command.
    pub client: ClientFacts,
    /// Whether the connection may run every command (see `auth`): set
    /// when it opens while no password is required, and by `AUTH`.
    pub authenticated: bool,
    /// The transaction `MULTI` opened, until `EXEC` or `DISCARD`.
    pub transaction: Option<super::transaction::Transaction>,
    /// The keys `WATCH`ed (database, key), until `EXEC`, `DISCARD` or
    /// `UNWATCH`; the shards owning them keep the watches.
    pub watched: Vec<(u32, Vec<u8>)>,
}

/// What the connection must do after a connection command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Keep reading.
    Continue,
    /// Close once the reply is out (`QUIT`).
    Close,
}

/// `SELECT index` with `databases` databases.
pub fn select(argv: &Argv<'_>, session: &mut Session, databases: usize, out: &mut Vec<u8>) {
    match parse_db(argv.get(1).unwrap_or_default(), databases) {
        Ok(db) => {
            session.db = db;
            reply::simple_string(out, b"OK");
        }
        Err(error) => reply::error(out, error),
    }
}

/// A database index argument: an integer (else `ERR value is not an
/// integer or out of range`) below `databases` (else `ERR DB index is out
/// of range`).
pub fn parse_db(arg: &[u8], databases: usize) -> Result<usize, &'static [u8]> {
    let index = super::parse_i64(arg).ok_or(super::NOT_AN_INTEGER)?;
    usize::try_from(index)
        .ok()
        .filter(|&db| db < databases)
        .ok_or(DB_OUT_OF_RANGE)
}

/// `ERR DB index is out of range`.
pub const DB_OUT_OF_RANGE: &[u8] = b"ERR DB index is out of range";

/// Answers a command that touches no key into `out`.
pub fn answer(
    command: Command,
    argv: &Argv<'_>,
    session: &mut Session,
    now: Now,
    out: &mut Vec<u8>,
) -> Action {
    let arg = |index: usize| argv.get(index).unwrap_or_default();
    match command {
        Command::Ping
            if session.version == Version::Resp2 && session.subscriptions.is_subscribed() =>
        {
            super::pubsub::write_subscribed_pong(argv, out)
        }
        Command::Ping => match argv.len() {
            1 => reply::simple_string(out, b"PONG"),
            2 => reply::bulk(out, arg(1)),
            _ => wrong_arity("ping", out),
        },
        Command::Echo => reply::bulk(out, arg(1)),
        Command::Quit => {
            reply::simple_string(out, b"OK");
            return Action::Close;
        }
        Command::Reset => {
            *session = Session {
                id: session.id,
                client: std::mem::take(&mut session.client),
                ..Session::default()
            };
            reply::simple_string(out, b"RESET");
        }
        // Reached only by an UNWATCH queued in MULTI: EXEC has ended the
        // watches by the time it runs (elsewhere `server::multi` takes it).
        Command::Unwatch => reply::simple_string(out, b"OK"),
        Command::Client => client(argv, session, out),
        Command::Command => command_info(argv, session.version, out),
        Command::Object | Command::Memory => super::object::answer_without_key(command, argv, out),
        Command::Time => {
            let micros = now.millis() * 1000;
            reply::array_header(out, 2);
            reply::bulk(
                out,
                itoa::Buffer::new().format(micros / 1_000_000).as_bytes(),
            );
            reply::bulk(
                out,
                itoa::Buffer::new().format(micros % 1_000_000).as_bytes(),
            );
        }
        _ => reply::error(out, b"ERR internal routing error"),
    }
    Action::Continue
}

/// `HELLO [protover [AUTH username password] [SETNAME clientname]]`:
/// options are checked first, then the credentials (against `pass`), then
/// the connection must be authenticated for the rest to apply.
pub fn hello(argv: &Argv<'_>, session: &mut Session, pass: &RequirePass, out: &mut Vec<u8>) {
    let mut version = session.version;
    let mut name = None;
    let mut credentials = None;
    if let Some(protover) = argv.get(1) {
        version = match super::parse_i64(protover) {
            Some(2) => Version::Resp2,
            Some(3) => Version::Resp3,
            Some(_) => return reply::error(out, b"NOPROTO unsupported protocol version"),
            None => {
                return reply::error(
                    out,
                    b"ERR Protocol version is not an integer or out of range",
                )
            }
        };
        let mut index = 2;
        while let Some(option) = argv.get(index) {
            let more = argv.len() - index - 1;
            if option.eq_ignore_ascii_case(b"auth") && more >= 2 {
                let user = argv.get(index + 1).unwrap_or_default();
                let password = argv.get(index + 2).unwrap_or_default();
                credentials = Some((user, password));
                index += 3;
            } else if option.eq_ignore_ascii_case(b"setname") && more >= 1 {
                let candidate = argv.get(index + 1).unwrap_or_default();
                if !valid_client_name(candidate) {
                    return reply::error(out, BAD_CLIENT_NAME);
                }
                name = Some(candidate.to_vec());
                index += 2;
            } else {
                let text = format!(
                    "ERR Syntax error in HELLO option '{}'",
                    String::from_utf8_lossy(option)
                );
                return reply::error(out, text.as_bytes());
            }
        }
    }
    if let Some((user, password)) = credentials {
        match pass.check(user, password) {
            Ok(()) => session.authenticated = true,
            Err(error) => return reply::error(out, error),
        }
    }
    if !session.authenticated && pass.is_required() {
        return reply::error(out, super::auth::HELLO_NOAUTH);
    }
    session.version = version;
    if let Some(name) = name {
        session.name = (!name.is_empty()).then_some(name);
    }
    reply::map_header(out, version, 7);
    reply::bulk(out, b"server");
    reply::bulk(out, b"redis");
    reply::bulk(out, b"version");
    reply::bulk(out, REDIS_VERSION.as_bytes());
    reply::bulk(out, b"proto");
    reply::integer(out, if version == Version::Resp3 { 3 } else { 2 });
    reply::bulk(out, b"id");
    reply::integer(out, session.id as i64);
    reply::bulk(out, b"mode");
    reply::bulk(out, b"standalone");
    reply::bulk(out, b"role");
    reply::bulk(out, b"master");
    reply::bulk(out, b"modules");
    reply::array_header(out, 0);
}

const BAD_CLIENT_NAME: &[u8] =
    b"ERR Client names cannot contain spaces, newlines or special characters.";

/// Redis accepts names of printable characters other than space.
fn valid_client_name(name: &[u8]) -> bool {
    name.iter().all(|&b| (b'!'..=b'~').contains(&b))
}

/// `CLIENT subcommand …`.
fn client(argv: &Argv<'_>, session: &mut Session, out: &mut Vec<u8>) {
    let sub = argv.get(1).unwrap_or_default().to_ascii_uppercase();
    let argc = argv.len();
    match (sub.as_slice(), argc) {
        (b"ID", 2) => reply::integer(out, session.id as i64),
        (b"GETNAME", 2) => match &session.name {
            Some(name) => reply::bulk(out, name),
            None => reply::null(out, session.version),
        },
        (b"SETNAME", 3) => {
            let name = argv.get(2).unwrap_or_default();
            if !valid_client_name(name) {
                return reply::error(out, BAD_CLIENT_NAME);
            }
            session.name = (!name.is_empty()).then(|| name.to_vec());
            reply::simple_string(out, b"OK");
        }
        (b"SETINFO", 4) => {
            let attr = argv.get(2).unwrap_or_default().to_ascii_uppercase();
            let value = argv.get(3).unwrap_or_default();
            if !value.iter().all(|&b| (b'!'..=b'~').contains(&b)) {
                let text = format!(
                    "ERR {} cannot contain spaces, newlines or special characters.",
                    String::from_utf8_lossy(&attr)
                );
                return reply::error(out, text.as_bytes());
            }
            match attr.as_slice() {
                b"LIB-NAME" => session.lib_name = Some(value.to_vec()),
                b"LIB-VER" => session.lib_ver = Some(value.to_vec()),
                _ => {
                    let text = format!(
                        "ERR Unrecognized option '{}'",
                        String::from_utf8_lossy(argv.get(2).unwrap_or_default())
                    );
                    return reply::error(out, text.as_bytes());
                }
            }
            reply::simple_string(out, b"OK");
        }
        (b"NO-EVICT" | b"NO-TOUCH", 3) => {
            let mode = argv.get(2).unwrap_or_default();
            let on = if mode.eq_ignore_ascii_case(b"on") {
                true
            } else if mode.eq_ignore_ascii_case(b"off") {
                false
            } else {
                return reply::error(out, SYNTAX_ERROR);
            };
            if sub == b"NO-EVICT" {
                session.no_evict = on;
            } else {
                session.no_touch = on;
            }
            reply::simple_string(out, b"OK");
        }
        (b"HELP", 2) => reply::help(
            out,
            &[
                b"CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                b"ID",
                b"    This connection's id.",
                b"GETNAME | SETNAME <name>",
                b"    This connection's name.",
                b"SETINFO LIB-NAME|LIB-VER <value>",
                b"    The client library's name and version, shown by CLIENT LIST.",
                b"INFO",
                b"    This connection, as a CLIENT LIST line.",
                b"LIST [TYPE NORMAL|PUBSUB|MASTER|REPLICA] [ID <id> ...]",
                b"    Every connection, on every shard, one line each.",
                b"KILL <ip:port> | KILL <filter> <value> ...",
                b"    Close connections: ID, ADDR, LADDR, TYPE, USER, SKIPME, MAXAGE.",
                b"REPLY ON|OFF|SKIP",
                b"    Whether replies to this connection are sent.",
                b"NO-EVICT ON|OFF | NO-TOUCH ON|OFF",
                b"    Flags shown by CLIENT LIST.",
                b"HELP",
                b"    This text.",
            ],
        ),
        (b"ID" | b"GETNAME" | b"SETNAME" | b"SETINFO" | b"NO-EVICT" | b"NO-TOUCH" | b"HELP", _) => {
            let name = format!("client|{}", String::from_utf8_lossy(&sub).to_lowercase());
            wrong_arity(&name, out);
        }
        _ => {
            let typed = argv.get(1).unwrap_or_default();
            let text = format!(
                "ERR unknown subcommand '{}'. Try CLIENT HELP.",
                String::from_utf8_lossy(&typed[..typed.len().min(128)])
            );
            reply::error(out, text.as_bytes());
        }
    }
}

/// `COMMAND`, `COMMAND COUNT`, `COMMAND LIST`, `COMMAND INFO name…`,
/// `COMMAND DOCS [name…]`.
fn command_info(argv: &Argv<'_>, version: Version, out: &mut Vec<u8>) {
    let Some(sub) = argv.get(1) else {
        reply::array_header(out, COMMANDS.len());
        COMMANDS
            .iter()
            .for_each(|spec| write_info(spec, version, out));
        return;
    };
    let names = argv.iter().skip(2);
    match sub.to_ascii_uppercase().as_slice() {
        b"COUNT" if argv.len() == 2 => reply::integer(out, COMMANDS.len() as i64),
        b"LIST" if argv.len() == 2 => {
            reply::array_header(out, COMMANDS.len());
            COMMANDS
                .iter()
                .for_each(|spec| reply::bulk(out, spec.name.as_bytes()));
        }
        b"INFO" => {
            if argv.len() == 2 {
                reply::array_header(out, COMMANDS.len());
                COMMANDS
                    .iter()
                    .for_each(|spec| write_info(spec, version, out));
                return;
            }
            reply::array_header(out, names.len());
            for name in names {
                match lookup(name) {
                    Some(command) => write_info(command.spec(), version, out),
                    None => reply::null_array(out, version),
                }
            }
        }
        b"DOCS" => {
            // Documentation is Redis's; an empty entry per known command
            // tells clients (redis-cli's hints) the command exists.
            let wanted: Vec<&Spec> = if argv.len() == 2 {
                COMMANDS.iter().collect()
            } else {
                names.filter_map(lookup).map(Command::spec).collect()
            };
            reply::map_header(out, version, wanted.len());
            for spec in wanted {
                reply::bulk(out, spec.name.as_bytes());
                reply::map_header(out, version, 0);
            }
        }
        b"HELP" if argv.len() == 2 => reply::help(
            out,
            &[
                b"COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                b"(no subcommand)",
                b"    Every command corecache answers, as COMMAND INFO shows each.",
                b"COUNT",
                b"    How many commands there are.",
                b"LIST",
                b"    Their names.",
                b"INFO [<command-name> ...]",
                b"    Arity, flags and key positions of the commands named (or all).",
                b"DOCS [<command-name> ...]",
                b"    An entry per command named (or all), without documentation text.",
                b"GETKEYS <full-command>",
                b"    The arguments of a full command that are keys.",
                b"HELP",
                b"    This text.",
            ],
        ),
        b"GETKEYS" if argv.len() >= 4 => getkeys(argv, out),
        b"GETKEYS" => wrong_arity("command|getkeys", out),
        _ => {
            let text = format!(
                "ERR unknown subcommand or wrong number of arguments for '{}'. Try COMMAND HELP.",
                String::from_utf8_lossy(sub)
            );
            reply::error(out, text.as_bytes());
        }
    }
}

/// `COMMAND GETKEYS command arg…`: the arguments the command's key
/// positions name, with Redis's errors.
fn getkeys(argv: &Argv<'_>, out: &mut Vec<u8>) {
    let Some(command) = lookup(argv.get(2).unwrap_or_default()) else {
        return reply::error(out, b"ERR Invalid command specified");
    };
    let spec = command.spec();
    let (first, last, step) = key_range(spec.keys);
    if first == 0 {
        return reply::error(out, b"ERR The command has no key arguments");
    }
    let argc = (argv.len() - 2) as i64;
    let arity = i64::from(spec.arity);
    let positions: Vec<i64> = {
        let last = if last < 0 { argc + last } else { last };
        (first..=last).step_by(step as usize).collect()
    };
    let arity_ok = if arity > 0 {
        argc == arity
    } else {
        argc >= -arity
    };
    if !arity_ok || positions.is_empty() || positions.iter().any(|&p| p >= argc) {
        return reply::error(
            out,
            b"ERR Invalid number of arguments specified for command",
        );
    }
    reply::array_header(out, positions.len());
    for position in positions {
        reply::bulk(out, argv.get(position as usize + 2).unwrap_or_default());
    }
}

/// A command's keys as `COMMAND INFO` gives them: first, last (negative:
/// from the end) and step; (0, 0, 0) for none.
fn key_range(keys: Keys) -> (i64, i64, i64) {
    match keys {
        Keys::None => (0, 0, 0),
        Keys::First => (1, 1, 1),
        Keys::All => (1, -1, 1),
        Keys::Pairs => (1, -1, 2),
        Keys::Two => (1, 2, 1),
        Keys::AfterFirst => (2, -1, 1),
        Keys::Second => (2, 2, 1),
        // A count, then that many keys: none at fixed positions.
        Keys::Numkeys => (0, 0, 0),
        Keys::AllButLast => (1, -2, 1),
    }
}

/// One `COMMAND INFO` entry: name, arity, flags, first key, last key,
/// step, ACL categories, tips, key specs, subcommands.
fn write_info(spec: &Spec, version: Version, out: &mut Vec<u8>) {
    reply::array_header(out, 10);
    reply::bulk(out, spec.name.as_bytes());
    reply::integer(out, spec.arity.into());
    reply::set_header(out, version, spec.flags.len());
    for flag in spec.flags {
        reply::simple_string(out, flag.as_bytes());
    }
    let (first, last, step) = key_range(spec.keys);
    reply::integer(out, first);
    reply::integer(out, last);
    reply::integer(out, step);
    reply::set_header(out, version, 0);
    reply::set_header(out, version, 0);
    reply::array_header(out, 0);
    reply::array_header(out, 0);
}
