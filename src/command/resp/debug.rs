//! DEBUG: refused unless `--enable-debug-command` allows it (Redis 7's
//! default is to refuse, with the same words), and then only its harmless
//! subcommands: HELP and SLEEP. Redis's SLEEP stops the whole server; here
//! it delays only the caller's reply (no other client waits), so a client
//! library's timeout handling can still be tested against it. Crashing,
//! reloading, leaking and the encoding probes are not offered.

use std::time::Duration;

use crate::config::DebugCommand;
use crate::protocol::resp::reply;
use crate::protocol::resp::Argv;

/// The reply to `DEBUG` where it is not allowed.
pub const NOT_ALLOWED: &[u8] = b"ERR DEBUG command not allowed. If the enable-debug-command \
option is set to \"local\", you can run it from a local connection, otherwise you need to set \
this option in the configuration file, and then restart the server.";

/// Longest `DEBUG SLEEP` honoured (a reply held longer is a stuck client).
const MAX_SLEEP: Duration = Duration::from_secs(3600);

/// Whether a client may run `DEBUG` under `setting`, given whether it
/// connected from a loopback address.
pub fn allowed(setting: DebugCommand, from_loopback: bool) -> bool {
    match setting {
        DebugCommand::No => false,
        DebugCommand::Yes => true,
        DebugCommand::Local => from_loopback,
    }
}

/// What the connection must do for a `DEBUG` request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Debug {
    /// The reply is written.
    Answered,
    /// Reply `+OK` after this long.
    Sleep(Duration),
}

/// Answers an allowed `DEBUG` request into `out`, or says to sleep.
pub fn answer(argv: &Argv<'_>, out: &mut Vec<u8>) -> Debug {
    let sub = argv.get(1).unwrap_or_default();
    match (sub.to_ascii_lowercase().as_slice(), argv.len()) {
        (b"help", 2) => {
            let lines: &[&[u8]] = &[
                b"DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                b"SLEEP <seconds>",
                b"    Delay this client's reply by <seconds> (decimals allowed); other",
                b"    clients are served meanwhile.",
                b"HELP",
                b"    Print this help.",
            ];
            reply::help(out, lines);
            Debug::Answered
        }
        (b"sleep", 3) => {
            let seconds = parse_seconds(argv.get(2).unwrap_or_default());
            if seconds > 0.0 {
                Debug::Sleep(Duration::from_secs_f64(seconds).min(MAX_SLEEP))
            } else {
                reply::simple_string(out, b"OK");
                Debug::Answered
            }
        }
        _ => {
            let text = format!(
                "ERR unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.",
                String::from_utf8_lossy(&sub[..sub.len().min(128)])
            );
            reply::error(out, text.as_bytes());
            Debug::Answered
        }
    }
}

/// Longest number text [`parse_seconds`] considers (any float needs far
/// fewer characters); bounds its work on a huge argument.
const MAX_NUMBER_LEN: usize = 1024;

/// Seconds as Redis reads them (`strtod`: the longest number at the start,
/// 0 when there is none).
fn parse_seconds(text: &[u8]) -> f64 {
    let start = text.iter().take_while(|b| b.is_ascii_whitespace()).count();
    // Only these bytes can be part of the number; the longest prefix of
    // them that parses is it.
    let candidate: &[u8] = &text[start..];
    let span = candidate
        .iter()
        .take(MAX_NUMBER_LEN)
        .take_while(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'))
        .count();
    let candidate = std::str::from_utf8(&candidate[..span]).unwrap_or_default();
    (1..=candidate.len())
        .rev()
        .find_map(|end| candidate[..end].parse::<f64>().ok())
        .filter(|seconds| seconds.is_finite())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::resp::{parse, Args, Limits, Parsed};

    fn run(request: &[u8]) -> (Debug, String) {
        let mut args = Args::new();
        let Parsed::Command { argv, .. } = parse(request, &Limits::default(), &mut args) else {
            panic!("not a request");
        };
        let mut out = Vec::new();
        let action = answer(&argv, &mut out);
        (action, String::from_utf8(out).unwrap())
    }

    #[test]
    fn the_setting_decides_who_may_debug() {
        assert!(!allowed(DebugCommand::No, true));
        assert!(allowed(DebugCommand::Yes, false));
        assert!(allowed(DebugCommand::Local, true));
        assert!(!allowed(DebugCommand::Local, false));
    }

    #[test]
    fn sleep_takes_decimal_seconds_and_zero_answers_at_once() {
        assert_eq!(
            run(b"DEBUG SLEEP 0.25\r\n").0,
            Debug::Sleep(Duration::from_millis(250))
        );
        assert_eq!(
            run(b"DEBUG sleep 0\r\n"),
            (Debug::Answered, "+OK\r\n".into())
        );
        assert_eq!(
            run(b"DEBUG SLEEP x\r\n"),
            (Debug::Answered, "+OK\r\n".into())
        );
        assert_eq!(
            run(b"DEBUG SLEEP 2s\r\n").0,
            Debug::Sleep(Duration::from_secs(2))
        );
        assert_eq!(run(b"DEBUG SLEEP 1e9\r\n").0, Debug::Sleep(MAX_SLEEP));
        // A huge argument costs a bounded parse.
        let mut huge = b"*3\r\n$5\r\nDEBUG\r\n$5\r\nSLEEP\r\n$1000000\r\n".to_vec();
        huge.extend(std::iter::repeat_n(b'0', 1_000_000));
        huge.extend_from_slice(b"\r\n");
        assert_eq!(run(&huge), (Debug::Answered, "+OK\r\n".into()));
    }

    #[test]
    fn other_subcommands_are_refused_in_redis_words() {
        assert_eq!(
            run(b"DEBUG SEGFAULT\r\n").1,
            "-ERR unknown subcommand or wrong number of arguments for 'SEGFAULT'. Try DEBUG HELP.\r\n"
        );
        assert_eq!(
            run(b"DEBUG SLEEP\r\n").1,
            "-ERR unknown subcommand or wrong number of arguments for 'SLEEP'. Try DEBUG HELP.\r\n"
        );
        assert!(run(b"DEBUG HELP\r\n")
            .1
            .starts_with("*6\r\n+DEBUG <subcommand>"));
    }
}
