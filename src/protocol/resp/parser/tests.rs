//! Tests of the parser. Expected answers follow Redis 7's
//! `processInlineBuffer`/`processMultibulkBuffer`; each tricky case says
//! what Redis does.

mod inline;
mod multibulk;
mod properties;

use super::parse;
use crate::protocol::resp::{Args, Limits, Parsed, ProtocolError};

/// What one parse found, owned, to compare across calls.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Command(Vec<Vec<u8>>, usize),
    Incomplete(usize),
    Skip(usize),
    Error(ProtocolError),
}

impl Outcome {
    /// A command of these arguments, `consumed` bytes long.
    fn command(args: &[&[u8]], consumed: usize) -> Outcome {
        Outcome::Command(args.iter().map(|a| a.to_vec()).collect(), consumed)
    }
}

impl From<Parsed<'_>> for Outcome {
    fn from(parsed: Parsed<'_>) -> Self {
        match parsed {
            Parsed::Command { argv, consumed } => {
                Outcome::Command(argv.iter().map(<[u8]>::to_vec).collect(), consumed)
            }
            Parsed::Incomplete { needed } => Outcome::Incomplete(needed),
            Parsed::Skip { consumed } => Outcome::Skip(consumed),
            Parsed::Error(error) => Outcome::Error(error),
        }
    }
}

/// Parses `input` under `limits` with fresh `Args`.
fn parsed_with(input: &[u8], limits: &Limits) -> Outcome {
    parse(input, limits, &mut Args::new()).into()
}

/// Parses `input` under the default limits.
fn parsed(input: &[u8]) -> Outcome {
    parsed_with(input, &Limits::default())
}

/// The arguments of the command that is all of `input`.
#[track_caller]
fn command(input: &[u8]) -> Vec<Vec<u8>> {
    match parsed(input) {
        Outcome::Command(args, consumed) => {
            assert_eq!(
                consumed,
                input.len(),
                "consumed of {}",
                input.escape_ascii()
            );
            args
        }
        other => panic!("{} parsed as {other:?}", input.escape_ascii()),
    }
}

/// Asserts that `input` is the command `expected`, all of it.
#[track_caller]
fn assert_command(input: &[u8], expected: &[&[u8]]) {
    assert_eq!(command(input), expected, "{}", input.escape_ascii());
}

/// Asserts that `input` fails with `error`.
#[track_caller]
fn assert_error(input: &[u8], error: ProtocolError) {
    assert_eq!(
        parsed(input),
        Outcome::Error(error),
        "{}",
        input.escape_ascii()
    );
}

/// Asserts that `input` waits for `needed` more bytes.
#[track_caller]
fn assert_incomplete(input: &[u8], needed: usize) {
    assert_eq!(
        parsed(input),
        Outcome::Incomplete(needed),
        "{}",
        input.escape_ascii()
    );
}

/// Limits with a short line limit, to reach the "too big" errors quickly.
fn short_lines(inline_max: usize) -> Limits {
    Limits {
        inline_max,
        ..Limits::default()
    }
}
