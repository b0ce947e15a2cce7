//! The parts of `CLIENT` that concern the server's connections rather than
//! the caller's session: `LIST`, `INFO`, `KILL` and `REPLY`, as Redis 7
//! words them. Pure: requests parsed from arguments, filters matched
//! against a [`ClientInfo`], lines formatted; `server::clients` gathers
//! the connections of every shard and closes the ones killed.
//!
//! The connections live on all shards, so `CLIENT LIST` and `CLIENT KILL`
//! are answered in parts, one per shard, joined by [`finish_list_resp2`]
//! (or `…_resp3`), [`finish_kill_count`] and [`finish_kill_addr`]. A
//! list part is one record per client, `<order> <line>\n`: the joined
//! reply sorts the records by their order (the client id, or the position
//! of the id asked for with `LIST ID`) and drops it.

use std::net::SocketAddr;

use super::label::Label;
use super::{parse_i64, wrong_arity, SYNTAX_ERROR};
use crate::clock::Now;
use crate::protocol::resp::reply::{self, Version};
use crate::protocol::resp::Argv;

/// What the connection does with the replies of its next requests
/// (`CLIENT REPLY`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ReplyMode {
    /// Replies are sent.
    #[default]
    On,
    /// No reply is sent until `CLIENT REPLY ON`.
    Off,
    /// `CLIENT REPLY SKIP` ran: the next request's reply is dropped.
    SkipNext,
    /// This request's reply is dropped.
    Skip,
}

impl ReplyMode {
    /// Whether the reply of the request about to run is dropped.
    pub fn drops_reply(self) -> bool {
        matches!(self, ReplyMode::Off | ReplyMode::Skip)
    }

    /// The mode for the next request, once one has run (as Redis's
    /// `resetClient`: a skip lasts one request).
    pub fn after_request(self) -> ReplyMode {
        match self {
            ReplyMode::SkipNext => ReplyMode::Skip,
            ReplyMode::Skip => ReplyMode::On,
            mode => mode,
        }
    }
}

/// Facts about a client connection that `RESET` keeps: when it started,
/// when it last sent something, its addresses (read once, when first
/// asked), and the last command it ran.
#[derive(Debug, Clone)]
pub struct ClientFacts {
    pub created: Now,
    pub last_interaction: Now,
    /// The peer's and our own address (`addr`, `laddr`), once read.
    pub addresses: Option<(Option<SocketAddr>, Option<SocketAddr>)>,
    /// The label of the client's latest request; `None` before any, or
    /// when the latest was unknown (`cmd=NULL`).
    pub last_command: Option<Label>,
}

impl Default for ClientFacts {
    fn default() -> Self {
        ClientFacts::new(Now(0))
    }
}

impl ClientFacts {
    /// Facts for a connection accepted at `now`.
    pub fn new(now: Now) -> ClientFacts {
        ClientFacts {
            created: now,
            last_interaction: now,
            addresses: None,
            last_command: None,
        }
    }
}

/// Whether a `CLIENT` request is served by the server layer, which sees
/// the connections (`LIST`, `INFO`, `KILL`, `REPLY`), rather than from the
/// session alone.
pub fn needs_connections(argv: &Argv<'_>) -> bool {
    let sub = argv.get(1).unwrap_or_default();
    [&b"list"[..], b"info", b"kill", b"reply"]
        .iter()
        .any(|name| sub.eq_ignore_ascii_case(name))
}

/// The kinds of client `TYPE` names. corecache has only normal clients:
/// no replicas, no master link, and no client is subscribed to anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientType {
    Normal,
    Master,
    Replica,
    Pubsub,
}

impl ClientType {
    /// Parses a `TYPE` argument (any case; `slave` is `replica`).
    fn parse(name: &[u8]) -> Result<ClientType, String> {
        let lower = name.to_ascii_lowercase();
        match lower.as_slice() {
            b"normal" => Ok(ClientType::Normal),
            b"master" => Ok(ClientType::Master),
            b"replica" | b"slave" => Ok(ClientType::Replica),
            b"pubsub" => Ok(ClientType::Pubsub),
            _ => Err(format!(
                "ERR Unknown client type '{}'",
                String::from_utf8_lossy(name)
            )),
        }
    }
}

/// Which clients `CLIENT KILL` closes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KillFilter {
    pub id: Option<u64>,
    pub kind: Option<ClientType>,
    pub addr: Option<Vec<u8>>,
    pub laddr: Option<Vec<u8>>,
    /// `USER default`: every client is the default user's.
    pub user: bool,
    /// Whether the caller itself is spared.
    pub skip_me: bool,
    /// The old `CLIENT KILL ip:port` form, answered `+OK` or
    /// `-ERR No such client`.
    pub old_form: bool,
}

impl KillFilter {
    /// Whether the client `info` describes is to be killed; `caller` is
    /// the id of the client asking.
    pub fn matches(&self, info: &ClientInfo<'_>, caller: u64) -> bool {
        let address_is =
            |want: &Option<Vec<u8>>, have: &str| want.as_ref().is_none_or(|w| w == have.as_bytes());
        address_is(&self.addr, &info.addr)
            && address_is(&self.laddr, &info.laddr)
            && self.kind.is_none_or(|kind| kind == ClientType::Normal)
            && self.id.is_none_or(|id| id == info.id)
            && !(self.skip_me && info.id == caller)
    }
}

/// Which clients `CLIENT LIST` shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListFilter {
    /// Every client (`LIST`, `LIST TYPE normal`).
    All,
    /// None (`LIST TYPE master|replica|pubsub`).
    Nothing,
    /// These ids, in this order, repeats included (`LIST ID id …`).
    Ids(Vec<i64>),
}

impl ListFilter {
    /// The order keys under which `info` is listed (none if it is not).
    pub fn orders(&self, info: &ClientInfo<'_>) -> Vec<u64> {
        match self {
            ListFilter::All => vec![info.id],
            ListFilter::Nothing => Vec::new(),
            ListFilter::Ids(ids) => ids
                .iter()
                .enumerate()
                .filter(|(_, &id)| id == info.id as i64)
                .map(|(position, _)| position as u64)
                .collect(),
        }
    }
}

/// A `CLIENT` request the server layer serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientRequest {
    List(ListFilter),
    Info,
    Kill(KillFilter),
    Reply(ReplyMode),
}

/// Parses `CLIENT LIST|INFO|KILL|REPLY …`, or gives the error reply's
/// text, in Redis's words.
pub fn parse(argv: &Argv<'_>) -> Result<ClientRequest, String> {
    let sub = argv.get(1).unwrap_or_default().to_ascii_lowercase();
    let argc = argv.len();
    let arg = |index: usize| argv.get(index).unwrap_or_default();
    let arity = |name: &str| {
        let mut out = Vec::new();
        wrong_arity(name, &mut out);
        error_text(&out)
    };
    match sub.as_slice() {
        b"info" if argc == 2 => Ok(ClientRequest::Info),
        b"info" => Err(arity("client|info")),
        b"reply" if argc == 3 => {
            let mode = arg(2);
            if mode.eq_ignore_ascii_case(b"on") {
                Ok(ClientRequest::Reply(ReplyMode::On))
            } else if mode.eq_ignore_ascii_case(b"off") {
                Ok(ClientRequest::Reply(ReplyMode::Off))
            } else if mode.eq_ignore_ascii_case(b"skip") {
                Ok(ClientRequest::Reply(ReplyMode::SkipNext))
            } else {
                Err(syntax_error())
            }
        }
        b"reply" => Err(arity("client|reply")),
        b"list" => {
            if argc == 4 && arg(2).eq_ignore_ascii_case(b"type") {
                return Ok(ClientRequest::List(match ClientType::parse(arg(3))? {
                    ClientType::Normal => ListFilter::All,
                    _ => ListFilter::Nothing,
                }));
            }
            if argc > 3 && arg(2).eq_ignore_ascii_case(b"id") {
                let ids = (3..argc)
                    .map(|index| parse_i64(arg(index)).ok_or("ERR Invalid client ID".to_string()))
                    .collect::<Result<_, _>>()?;
                return Ok(ClientRequest::List(ListFilter::Ids(ids)));
            }
            if argc != 2 {
                return Err(syntax_error());
            }
            Ok(ClientRequest::List(ListFilter::All))
        }
        b"kill" if argc < 3 => Err(arity("client|kill")),
        b"kill" if argc == 3 => Ok(ClientRequest::Kill(KillFilter {
            addr: Some(arg(2).to_vec()),
            old_form: true,
            ..KillFilter::default()
        })),
        b"kill" => parse_kill_filters(argv).map(ClientRequest::Kill),
        _ => Err(syntax_error()),
    }
}

/// The new form: `CLIENT KILL <filter> <value> [<filter> <value> …]`.
fn parse_kill_filters(argv: &Argv<'_>) -> Result<KillFilter, String> {
    let mut filter = KillFilter {
        skip_me: true,
        ..KillFilter::default()
    };
    let mut index = 2;
    while let Some(name) = argv.get(index) {
        let Some(value) = argv.get(index + 1) else {
            return Err(syntax_error());
        };
        let name = name.to_ascii_lowercase();
        match name.as_slice() {
            b"id" => match parse_i64(value) {
                Some(id) if id > 0 => filter.id = Some(id as u64),
                _ => return Err("ERR client-id should be greater than 0".into()),
            },
            b"type" => filter.kind = Some(ClientType::parse(value)?),
            b"addr" => filter.addr = Some(value.to_vec()),
            b"laddr" => filter.laddr = Some(value.to_vec()),
            b"user" => {
                // No ACL users are configured: only Redis's default user.
                if value != b"default" {
                    return Err(format!(
                        "ERR No such user '{}'",
                        String::from_utf8_lossy(value)
                    ));
                }
                filter.user = true;
            }
            b"skipme" => {
                filter.skip_me = if value.eq_ignore_ascii_case(b"yes") {
                    true
                } else if value.eq_ignore_ascii_case(b"no") {
                    false
                } else {
                    return Err(syntax_error());
                }
            }
            _ => return Err(syntax_error()),
        }
        index += 2;
    }
    Ok(filter)
}

fn syntax_error() -> String {
    String::from_utf8_lossy(SYNTAX_ERROR).into_owned()
}

/// The text of an error reply (`-text\r\n`).
fn error_text(reply: &[u8]) -> String {
    let text = reply.strip_prefix(b"-").unwrap_or(reply);
    let text = text.strip_suffix(b"\r\n").unwrap_or(text);
    String::from_utf8_lossy(text).into_owned()
}

/// One client as `CLIENT LIST` and `CLIENT INFO` describe it. Fields
/// corecache has no counterpart for are left out (`rbs`, `rbp`), or show
/// what is true here: no pub/sub subscriptions, no transactions, no
/// tracking, the default user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInfo<'a> {
    pub id: u64,
    /// `ip:port` of the peer, `[ip]:port` for IPv6.
    pub addr: String,
    /// Our own address of the connection.
    pub laddr: String,
    pub fd: i32,
    pub name: &'a [u8],
    pub age_secs: u64,
    pub idle_secs: u64,
    /// `N` for none, else Redis's letters (`c`: closing after the reply,
    /// `e`: no-evict, `T`: no-touch).
    pub flags: String,
    /// Bytes received and not yet parsed, and the spare room after them.
    pub qbuf: usize,
    pub qbuf_free: usize,
    /// Bytes of the arguments of the request running now (the caller's).
    pub argv_mem: usize,
    /// Reply bytes not yet sent (`obl`), replies queued behind one awaited
    /// from another shard (`oll`) and their bytes (`omem`).
    pub obl: usize,
    pub oll: usize,
    pub omem: usize,
    /// Memory the connection holds: its structures and buffers.
    pub tot_mem: usize,
    /// `r` while a receive is armed, `w` while a send is in flight.
    pub events: &'static str,
    pub last_command: Option<Label>,
    pub version: Version,
    /// The selected database.
    pub db: usize,
    /// Channel, pattern and shard channel subscriptions.
    pub subscriptions: [usize; 3],
    pub lib_name: &'a [u8],
    pub lib_ver: &'a [u8],
    /// Requests queued in an open `MULTI`, and their bytes.
    pub multi: Option<usize>,
    pub multi_mem: usize,
}

impl ClientInfo<'_> {
    /// Appends the client's line (no newline), fields in Redis 7.2's
    /// order.
    pub fn write_line(&self, out: &mut Vec<u8>) {
        use std::io::Write;
        let cmd = self.last_command.map_or("NULL", Label::name);
        let _ = write!(
            out,
            "id={} addr={} laddr={} fd={} name=",
            self.id, self.addr, self.laddr, self.fd
        );
        out.extend_from_slice(self.name);
        let _ = write!(
            out,
            " age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf={} qbuf-free={} \
             argv-mem={} multi-mem={} obl={} oll={} omem={} tot-mem={} events={} cmd={} \
             user=default redir=-1 resp={} lib-name=",
            self.age_secs,
            self.idle_secs,
            self.flags,
            self.db,
            self.subscriptions[0],
            self.subscriptions[1],
            self.subscriptions[2],
            self.multi.map_or(-1, |count| count as i64),
            self.qbuf,
            self.qbuf_free,
            self.argv_mem,
            self.multi_mem,
            self.obl,
            self.oll,
            self.omem,
            self.tot_mem,
            self.events,
            cmd,
            if self.version == Version::Resp3 { 3 } else { 2 },
        );
        out.extend_from_slice(self.lib_name);
        out.extend_from_slice(b" lib-ver=");
        out.extend_from_slice(self.lib_ver);
    }
}

/// Appends a list record: `<order> <line>\n`.
pub fn write_record(order: u64, info: &ClientInfo<'_>, out: &mut Vec<u8>) {
    out.extend_from_slice(itoa::Buffer::new().format(order).as_bytes());
    out.push(b' ');
    info.write_line(out);
    out.push(b'\n');
}

/// Appends one shard's kill count (a part of a `CLIENT KILL` reply).
pub fn write_kill_count(count: u64, out: &mut Vec<u8>) {
    out.extend_from_slice(itoa::Buffer::new().format(count).as_bytes());
    out.push(b'\n');
}

/// The lines of joined list records, in order.
fn sorted_lines(body: &[u8]) -> Vec<u8> {
    let mut records: Vec<(u64, &[u8])> = body
        .split(|&b| b == b'\n')
        .filter(|record| !record.is_empty())
        .filter_map(|record| {
            let space = record.iter().position(|&b| b == b' ')?;
            let order = std::str::from_utf8(&record[..space]).ok()?.parse().ok()?;
            Some((order, &record[space + 1..]))
        })
        .collect();
    records.sort_by_key(|&(order, _)| order);
    let mut text = Vec::with_capacity(body.len());
    for (_, line) in records {
        text.extend_from_slice(line);
        text.push(b'\n');
    }
    text
}

/// Joins list records into `CLIENT LIST`'s reply for a RESP2 client.
pub fn finish_list_resp2(parts: &[Vec<u8>], out: &mut Vec<u8>) {
    let body = &parts.concat();
    reply::verbatim(out, Version::Resp2, b"txt", &sorted_lines(body));
}

/// Joins list records into `CLIENT LIST`'s reply for a RESP3 client.
pub fn finish_list_resp3(parts: &[Vec<u8>], out: &mut Vec<u8>) {
    let body = &parts.concat();
    reply::verbatim(out, Version::Resp3, b"txt", &sorted_lines(body));
}

fn total_killed(body: &[u8]) -> i64 {
    body.split(|&b| b == b'\n')
        .filter_map(|count| std::str::from_utf8(count).ok()?.parse::<i64>().ok())
        .sum()
}

/// Joins kill counts into the new form's reply: how many were killed.
pub fn finish_kill_count(parts: &[Vec<u8>], out: &mut Vec<u8>) {
    let body = &parts.concat();
    reply::integer(out, total_killed(body));
}

/// Joins kill counts into the old form's reply.
pub fn finish_kill_addr(parts: &[Vec<u8>], out: &mut Vec<u8>) {
    let body = &parts.concat();
    if total_killed(body) == 0 {
        reply::error(out, b"ERR No such client");
    } else {
        reply::simple_string(out, b"OK");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::resp::{parse as parse_frame, Args, Limits, Parsed};

    fn request(args: &[&str]) -> Result<ClientRequest, String> {
        let frame = super::super::tests::encode(args);
        let mut parsed = Args::new();
        let Parsed::Command { argv, .. } =
            parse_frame(frame.as_bytes(), &Limits::default(), &mut parsed)
        else {
            panic!("test frame must parse");
        };
        parse(&argv)
    }

    fn info(id: u64) -> ClientInfo<'static> {
        ClientInfo {
            id,
            addr: "127.0.0.1:5000".into(),
            laddr: "127.0.0.1:6379".into(),
            fd: 9,
            name: b"app",
            age_secs: 3,
            idle_secs: 1,
            flags: "N".into(),
            qbuf: 0,
            qbuf_free: 0,
            argv_mem: 0,
            obl: 0,
            oll: 0,
            omem: 0,
            tot_mem: 1000,
            events: "r",
            last_command: Some(Label::command(super::super::Command::Get)),
            version: Version::Resp2,
            db: 0,
            subscriptions: [0; 3],
            lib_name: b"",
            lib_ver: b"",
            multi: None,
            multi_mem: 0,
        }
    }

    #[test]
    fn list_and_kill_arguments_are_checked_as_redis_does() {
        assert_eq!(
            request(&["CLIENT", "LIST"]),
            Ok(ClientRequest::List(ListFilter::All))
        );
        assert_eq!(
            request(&["client", "list", "type", "REPLICA"]),
            Ok(ClientRequest::List(ListFilter::Nothing))
        );
        assert_eq!(
            request(&["client", "list", "type", "foo"]),
            Err("ERR Unknown client type 'foo'".into())
        );
        assert_eq!(
            request(&["client", "list", "id", "3", "1", "3"]),
            Ok(ClientRequest::List(ListFilter::Ids(vec![3, 1, 3])))
        );
        assert_eq!(
            request(&["client", "list", "id", "1", "x"]),
            Err("ERR Invalid client ID".into())
        );
        assert_eq!(
            request(&["client", "list", "foo"]),
            Err("ERR syntax error".into())
        );
        assert_eq!(
            request(&["client", "kill"]),
            Err("ERR wrong number of arguments for 'client|kill' command".into())
        );
        assert_eq!(
            request(&["client", "kill", "id", "0"]),
            Err("ERR client-id should be greater than 0".into())
        );
        assert_eq!(
            request(&["client", "kill", "user", "bob"]),
            Err("ERR No such user 'bob'".into())
        );
        assert_eq!(
            request(&["client", "kill", "skipme", "maybe"]),
            Err("ERR syntax error".into())
        );
        assert_eq!(
            request(&["client", "kill", "id", "1", "type"]),
            Err("ERR syntax error".into())
        );
        assert_eq!(
            request(&["client", "reply", "foo"]),
            Err("ERR syntax error".into())
        );
        assert_eq!(
            request(&["client", "reply"]),
            Err("ERR wrong number of arguments for 'client|reply' command".into())
        );
    }

    #[test]
    fn kill_filters_match_as_redis_does() {
        let Ok(ClientRequest::Kill(old)) = request(&["client", "kill", "127.0.0.1:5000"]) else {
            panic!("old form");
        };
        assert!(old.old_form && !old.skip_me);
        assert!(old.matches(&info(7), 7), "the old form may kill the caller");
        let Ok(ClientRequest::Kill(by_id)) = request(&["client", "kill", "id", "7"]) else {
            panic!("new form");
        };
        assert!(by_id.matches(&info(7), 1));
        assert!(!by_id.matches(&info(8), 1));
        assert!(!by_id.matches(&info(7), 7), "SKIPME defaults to yes");
        let Ok(ClientRequest::Kill(replicas)) = request(&["client", "kill", "type", "slave"])
        else {
            panic!("type");
        };
        assert!(!replicas.matches(&info(7), 1));
        let Ok(ClientRequest::Kill(laddr)) =
            request(&["client", "kill", "laddr", "127.0.0.1:6379", "skipme", "no"])
        else {
            panic!("laddr");
        };
        assert!(laddr.matches(&info(7), 7));
    }

    #[test]
    fn list_records_are_joined_in_order() {
        let mut body = Vec::new();
        write_record(9, &info(9), &mut body);
        write_record(2, &info(2), &mut body);
        let mut out = Vec::new();
        finish_list_resp2(&[body], &mut out);
        let text = String::from_utf8(out).unwrap();
        let first = text.find("id=2 ").unwrap();
        let second = text.find("id=9 ").unwrap();
        assert!(first < second, "{text}");
        assert!(text.starts_with('$'), "{text}");
        assert!(
            text.contains(
                "\r\nid=2 addr=127.0.0.1:5000 laddr=127.0.0.1:6379 fd=9 name=app age=3 idle=1 \
                 flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 \
                 multi-mem=0 obl=0 oll=0 omem=0 tot-mem=1000 events=r cmd=get user=default \
                 redir=-1 resp=2 lib-name= lib-ver=\nid=9 "
            ),
            "{text}"
        );
        let mut out = Vec::new();
        finish_kill_addr(&[b"0\n0\n".to_vec()], &mut out);
        assert_eq!(out, b"-ERR No such client\r\n");
        let mut out = Vec::new();
        finish_kill_addr(&[b"0\n1\n".to_vec()], &mut out);
        assert_eq!(out, b"+OK\r\n");
        let mut out = Vec::new();
        finish_kill_count(&[b"2\n1\n".to_vec(), b"0\n".to_vec()], &mut out);
        assert_eq!(out, b":3\r\n");
    }

    #[test]
    fn a_skip_lasts_one_request() {
        let mode = ReplyMode::SkipNext;
        assert!(!mode.drops_reply());
        let mode = mode.after_request();
        assert!(mode.drops_reply());
        assert_eq!(mode.after_request(), ReplyMode::On);
        assert_eq!(ReplyMode::Off.after_request(), ReplyMode::Off);
    }
}
