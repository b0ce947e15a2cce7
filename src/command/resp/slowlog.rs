//! The slow log: requests that took at least `slowlog-log-slower-than`
//! microseconds, newest first, at most `slowlog-max-len` of them, and the
//! `SLOWLOG` command that reads and resets it, in Redis 7's words.
//!
//! One log serves every shard (Redis has one): a shard locks it only to
//! add an entry for a slow request, or to answer `SLOWLOG`; the two
//! settings are atomics any shard reads without a lock. Arguments are kept
//! as Redis keeps them: at most 32 (the last one then says how many more
//! there were), each cut to 128 bytes with a note of what was cut.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;

use super::{parse_i64, wrong_arity};
use crate::protocol::resp::reply::{self, Version};
use crate::protocol::resp::Argv;

/// Redis's default `slowlog-log-slower-than`: 10 ms.
pub const DEFAULT_SLOWER_THAN_MICROS: i64 = 10_000;
/// Redis's default `slowlog-max-len`.
pub const DEFAULT_MAX_LEN: i64 = 128;
/// Most arguments an entry keeps (`SLOWLOG_ENTRY_MAX_ARGC`).
const MAX_ARGC: usize = 32;
/// Most bytes an entry keeps of one argument (`SLOWLOG_ENTRY_MAX_STRING`).
const MAX_STRING: usize = 128;

/// The two settings, changed by `CONFIG SET` and read by every shard.
#[derive(Debug)]
pub struct SlowlogConfig {
    /// Microseconds; -1 disables the log, 0 logs every request.
    slower_than: AtomicI64,
    max_len: AtomicI64,
}

impl Default for SlowlogConfig {
    fn default() -> Self {
        SlowlogConfig {
            slower_than: AtomicI64::new(DEFAULT_SLOWER_THAN_MICROS),
            max_len: AtomicI64::new(DEFAULT_MAX_LEN),
        }
    }
}

impl SlowlogConfig {
    /// The duration from which a request is logged, in microseconds, or
    /// `None` while nothing is logged (a negative threshold or a zero
    /// length).
    pub fn threshold_micros(&self) -> Option<u64> {
        let slower_than = self.slower_than.load(Ordering::Relaxed);
        (slower_than >= 0 && self.max_len() > 0).then_some(slower_than as u64)
    }

    /// `slowlog-log-slower-than`.
    pub fn slower_than(&self) -> i64 {
        self.slower_than.load(Ordering::Relaxed)
    }

    /// `slowlog-max-len`.
    pub fn max_len(&self) -> i64 {
        self.max_len.load(Ordering::Relaxed)
    }

    /// Sets `slowlog-log-slower-than` (at least -1).
    pub fn set_slower_than(&self, micros: i64) {
        self.slower_than.store(micros.max(-1), Ordering::Relaxed);
    }

    /// Sets `slowlog-max-len` (at least 0). As in Redis, a longer log is
    /// only trimmed by the next entry added.
    pub fn set_max_len(&self, len: i64) {
        self.max_len.store(len.max(0), Ordering::Relaxed);
    }
}

/// A logged request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlowlogEntry {
    /// Unique, increasing over the life of the process (`SLOWLOG RESET`
    /// does not restart it).
    pub id: u64,
    /// When it was logged, seconds since the Unix epoch.
    pub unix_secs: u64,
    pub micros: u64,
    /// The arguments, cut as [`entry_argv`] cuts them.
    pub argv: Vec<Vec<u8>>,
    /// The client's `ip:port`.
    pub client_addr: String,
    /// The client's name, empty if it has none.
    pub client_name: Vec<u8>,
}

/// The log itself, newest entry first.
#[derive(Debug, Default)]
pub struct Slowlog {
    entries: VecDeque<SlowlogEntry>,
    next_id: u64,
}

impl Slowlog {
    /// Adds `entry` (its id is assigned here) and drops the oldest entries
    /// beyond `max_len`.
    pub fn push(&mut self, mut entry: SlowlogEntry, max_len: usize) {
        entry.id = self.next_id;
        self.next_id += 1;
        self.entries.push_front(entry);
        self.entries.truncate(max_len);
    }

    /// Entries held now.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The newest `count` entries, newest first.
    pub fn newest(&self, count: usize) -> impl Iterator<Item = &SlowlogEntry> {
        self.entries.iter().take(count)
    }

    /// Drops every entry.
    pub fn reset(&mut self) {
        self.entries.clear();
    }
}

/// What every shard shares of the slow log.
#[derive(Debug, Default)]
pub struct SharedSlowlog {
    pub config: SlowlogConfig,
    pub log: Mutex<Slowlog>,
}

impl SharedSlowlog {
    /// Logs a request that took `micros`, whatever the threshold (the
    /// caller checked it).
    pub fn record(&self, mut entry: SlowlogEntry, micros: u64) {
        entry.micros = micros;
        let max_len = usize::try_from(self.config.max_len()).unwrap_or(usize::MAX);
        if let Ok(mut log) = self.log.lock() {
            log.push(entry, max_len);
        }
    }
}

/// An argument as a slow log entry keeps it.
fn cut(arg: &[u8]) -> Vec<u8> {
    if arg.len() <= MAX_STRING {
        return arg.to_vec();
    }
    let mut kept = arg[..MAX_STRING].to_vec();
    kept.extend_from_slice(format!("... ({} more bytes)", arg.len() - MAX_STRING).as_bytes());
    kept
}

/// A request's arguments as the slow log keeps them: the first 31 and a
/// note of how many more when there are over 32, each cut to 128 bytes;
/// the credentials of `HELLO … AUTH user password` as `(redacted)`, as
/// Redis hides them.
pub fn entry_argv(argv: &Argv<'_>) -> Vec<Vec<u8>> {
    let argc = argv.len();
    let kept = argc.min(MAX_ARGC);
    let is_hello = argv.name().eq_ignore_ascii_case(b"hello");
    let mut redact_until = 0;
    let mut out = Vec::with_capacity(kept);
    for (index, arg) in argv.iter().enumerate().take(kept) {
        if kept != argc && index == kept - 1 {
            out.push(format!("... ({} more arguments)", argc - kept + 1).into_bytes());
        } else if index < redact_until {
            out.push(b"(redacted)".to_vec());
        } else {
            if is_hello && index >= 2 && arg.eq_ignore_ascii_case(b"auth") {
                redact_until = index + 3;
            }
            out.push(cut(arg));
        }
    }
    out
}

const HELP: &[&[u8]] = &[
    b"SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    b"GET [<count>]",
    b"    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    b"    Entries are made of:",
    b"    id, timestamp, time in microseconds, arguments array, client IP and port,",
    b"    client name",
    b"LEN",
    b"    Return the length of the slowlog.",
    b"RESET",
    b"    Reset the slowlog.",
    b"HELP",
    b"    Prints this help.",
];

/// Answers `SLOWLOG GET [count] | LEN | RESET | HELP` from `log`.
pub fn answer(argv: &Argv<'_>, log: &Mutex<Slowlog>, version: Version, out: &mut Vec<u8>) {
    let sub = argv.get(1).unwrap_or_default();
    let argc = argv.len();
    let lower = sub.to_ascii_lowercase();
    let exact = |name: &str, arity: usize, out: &mut Vec<u8>| {
        let ok = argc == arity;
        if !ok {
            wrong_arity(&format!("slowlog|{name}"), out);
        }
        ok
    };
    let Ok(mut log) = log.lock() else {
        return reply::error(out, b"ERR slow log unavailable");
    };
    match lower.as_slice() {
        b"get" if argc <= 3 => {
            let count = match argv.get(2) {
                None => 10,
                Some(count) => match parse_i64(count) {
                    Some(-1) => log.len(),
                    Some(n) if n >= 0 => usize::try_from(n).unwrap_or(usize::MAX),
                    _ => {
                        return reply::error(
                            out,
                            b"ERR count should be greater than or equal to -1",
                        )
                    }
                },
            };
            let count = count.min(log.len());
            reply::array_header(out, count);
            for entry in log.newest(count) {
                write_entry(entry, version, out);
            }
        }
        b"get" => {
            let text = format!(
                "ERR unknown subcommand or wrong number of arguments for '{}'. Try SLOWLOG HELP.",
                String::from_utf8_lossy(sub)
            );
            reply::error(out, text.as_bytes());
        }
        b"len" => {
            if exact("len", 2, out) {
                reply::integer(out, log.len() as i64);
            }
        }
        b"reset" => {
            if exact("reset", 2, out) {
                log.reset();
                reply::simple_string(out, b"OK");
            }
        }
        b"help" => {
            if exact("help", 2, out) {
                reply::array_header(out, HELP.len());
                for line in HELP {
                    reply::simple_string(out, line);
                }
            }
        }
        _ => {
            let text = format!(
                "ERR unknown subcommand '{}'. Try SLOWLOG HELP.",
                String::from_utf8_lossy(&sub[..sub.len().min(128)])
            );
            reply::error(out, text.as_bytes());
        }
    }
}

/// One entry: id, time, duration, arguments, client address, client name.
fn write_entry(entry: &SlowlogEntry, _version: Version, out: &mut Vec<u8>) {
    reply::array_header(out, 6);
    reply::integer(out, entry.id as i64);
    reply::integer(out, entry.unix_secs as i64);
    reply::integer(out, entry.micros as i64);
    reply::array_header(out, entry.argv.len());
    for arg in &entry.argv {
        reply::bulk(out, arg);
    }
    reply::bulk(out, entry.client_addr.as_bytes());
    reply::bulk(out, &entry.client_name);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::resp::{parse, Args, Limits, Parsed};

    fn with_argv<T>(args: &[&str], f: impl FnOnce(&Argv<'_>) -> T) -> T {
        let frame = super::super::tests::encode(args);
        let mut parsed = Args::new();
        let Parsed::Command { argv, .. } = parse(frame.as_bytes(), &Limits::default(), &mut parsed)
        else {
            panic!("test frame must parse");
        };
        f(&argv)
    }

    fn entry(name: &str) -> SlowlogEntry {
        SlowlogEntry {
            id: 0,
            unix_secs: 1_700_000_000,
            micros: 0,
            argv: vec![name.as_bytes().to_vec()],
            client_addr: "127.0.0.1:5000".into(),
            client_name: Vec::new(),
        }
    }

    #[test]
    fn long_arguments_and_long_requests_are_cut_as_redis_cuts_them() {
        let long = "a".repeat(200);
        let argv = with_argv(&["set", "k", &long], entry_argv);
        assert_eq!(argv[2].len(), 128 + "... (72 more bytes)".len());
        assert!(argv[2].ends_with(b"a... (72 more bytes)"));
        let many: Vec<String> = (0..40).map(|i| i.to_string()).collect();
        let mut args = vec!["del"];
        args.extend(many.iter().map(String::as_str));
        let argv = with_argv(&args, entry_argv);
        assert_eq!(argv.len(), 32);
        assert_eq!(argv[30], b"29");
        assert_eq!(argv[31], b"... (10 more arguments)");
        let exactly: Vec<&str> = args[..32].to_vec();
        assert_eq!(with_argv(&exactly, entry_argv).len(), 32);
        let hello = with_argv(
            &["HELLO", "3", "AUTH", "default", "pw", "SETNAME", "x"],
            entry_argv,
        );
        assert_eq!(
            hello,
            [
                &b"HELLO"[..],
                b"3",
                b"AUTH",
                b"(redacted)",
                b"(redacted)",
                b"SETNAME",
                b"x"
            ]
        );
    }

    #[test]
    fn the_log_keeps_the_newest_entries() {
        let mut log = Slowlog::default();
        for name in ["a", "b", "c"] {
            log.push(entry(name), 2);
        }
        assert_eq!(log.len(), 2);
        let ids: Vec<u64> = log.newest(10).map(|e| e.id).collect();
        assert_eq!(ids, [2, 1]);
        log.reset();
        log.push(entry("d"), 2);
        assert_eq!(log.newest(1).next().map(|e| e.id), Some(3));
    }

    #[test]
    fn thresholds_turn_timing_off() {
        let config = SlowlogConfig::default();
        assert_eq!(config.threshold_micros(), Some(10_000));
        config.set_slower_than(0);
        assert_eq!(config.threshold_micros(), Some(0));
        config.set_slower_than(-1);
        assert_eq!(config.threshold_micros(), None);
        config.set_slower_than(5);
        config.set_max_len(0);
        assert_eq!(config.threshold_micros(), None);
    }

    #[test]
    fn slowlog_subcommands_answer_in_redis_words() {
        let log = Mutex::new(Slowlog::default());
        log.lock().unwrap().push(entry("get"), 128);
        let run = |args: &[&str]| {
            let mut out = Vec::new();
            with_argv(args, |argv| answer(argv, &log, Version::Resp2, &mut out));
            String::from_utf8(out).unwrap()
        };
        assert_eq!(run(&["SLOWLOG", "LEN"]), ":1\r\n");
        assert_eq!(
            run(&["SLOWLOG", "GET"]),
            "*1\r\n*6\r\n:0\r\n:1700000000\r\n:0\r\n*1\r\n$3\r\nget\r\n$14\r\n127.0.0.1:5000\r\n$0\r\n\r\n"
        );
        assert_eq!(run(&["SLOWLOG", "GET", "0"]), "*0\r\n");
        assert_eq!(
            run(&["SLOWLOG", "GET", "-2"]),
            "-ERR count should be greater than or equal to -1\r\n"
        );
        assert_eq!(
            run(&["SLOWLOG", "GET", "1", "2"]),
            "-ERR unknown subcommand or wrong number of arguments for 'GET'. Try SLOWLOG HELP.\r\n"
        );
        assert_eq!(
            run(&["SLOWLOG", "LEN", "x"]),
            "-ERR wrong number of arguments for 'slowlog|len' command\r\n"
        );
        assert_eq!(
            run(&["SLOWLOG", "foo"]),
            "-ERR unknown subcommand 'foo'. Try SLOWLOG HELP.\r\n"
        );
        assert_eq!(run(&["SLOWLOG", "RESET"]), "+OK\r\n");
        assert_eq!(run(&["SLOWLOG", "GET", "-1"]), "*0\r\n");
        assert!(run(&["SLOWLOG", "HELP"]).starts_with("*12\r\n+SLOWLOG <subcommand>"));
    }
}
