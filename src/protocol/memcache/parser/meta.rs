//! The meta commands `mg`, `ms`, `md`, `ma`, `me` as memcached 1.6.18
//! parses them, plus the flags later versions added: `E<cas>` (use this CAS
//! value) and `x` (md: remove the value, keep the item).
//!
//! memcached runs one flag pre-parser for every meta command, so every
//! command accepts every flag it knows and checks its token (`mg k F5` is
//! fine, `mg k Fx` is an error); what a flag means for a command is the
//! executor's business. Per command only the error wording and order differ:
//! - the line may hold at most 20 tokens counting memcached's terminal one
//!   (17 flags, 16 for `ms`): `mg` answers `options flags are too long`, the
//!   others `options flags too long`;
//! - `md` and `ma` answer every flag error with `invalid or duplicate flag`;
//! - a flag byte above 126 is a `duplicate flag`, an unknown one an
//!   `invalid flag`; after a bad numeric token memcached keeps parsing and
//!   the last message wins (`F` fails with none: `bad command line format`);
//! - `ms` errors found once its byte count is known swallow the data block.
//!
//! Errors are never silent: memcached's `q` flag hides only nominal replies.
//!
//! A base64 key (`b`) must decode under memcached's rules (padding included,
//! so its length is a multiple of 4) and also be canonical base64: memcached
//! skips bytes outside the alphabet, stops at the first padded block and
//! ignores stray low bits, but corecache refuses such keys
//! (`error decoding key`) so that the key echoed with `k` is the one sent.

use super::classic::MAX_DATA_LEN;
use super::number::{safe_strtol, safe_strtoul, safe_strtoull};
use super::{text_from, valid_key, Line, Tokens};
use crate::protocol::memcache::request::{
    KeyRef, MetaArithMode, MetaCommand, MetaFlags, MetaRequest, MetaSetMode, Request,
    MAX_OPAQUE_LEN,
};
use crate::protocol::memcache::{Limits, Parsed, ProtocolError};

/// memcached's `MFLAG_MAX_OPT_LENGTH`: most tokens a meta line may have,
/// counting the command, the key, `ms`'s byte count and the terminal token.
const MAX_META_TOKENS: usize = 20;

/// Parses a meta command line (and the data block of `ms`).
pub(super) fn parse<'a>(line: Line<'a>, command: MetaCommand, limits: &Limits) -> Parsed<'a> {
    let tokens = Tokens::new(line.text);
    let key = tokens.get(1);
    if command == MetaCommand::Debug {
        return debug(line, &tokens, key);
    }
    if tokens.ntokens() < 3 {
        return line.error(ProtocolError::UnknownCommand, false);
    }
    if !valid_key(key) {
        return line.error(ProtocolError::BAD_FORMAT, false);
    }
    if command == MetaCommand::Set {
        return set(line, &tokens, key, limits);
    }
    if tokens.ntokens() > MAX_META_TOKENS {
        let error = match command {
            MetaCommand::Get => ProtocolError::MG_FLAGS_TOO_LONG,
            _ => ProtocolError::FLAGS_TOO_LONG,
        };
        return line.error(error, false);
    }
    let flag_tokens = tokens.starting_at(2);
    let (mut flags, mode) = match preparse(key, flag_tokens) {
        Ok(parsed) => parsed,
        Err(error) if command == MetaCommand::Get => return line.error(error, false),
        Err(_) => return line.error(ProtocolError::INVALID_OR_DUPLICATE_FLAG, false),
    };
    if command == MetaCommand::Arithmetic {
        flags.arith_mode = match mode {
            None => None,
            Some(b'I' | b'+') => Some(MetaArithMode::Incr),
            Some(b'D' | b'-') => Some(MetaArithMode::Decr),
            Some(_) => return line.error(ProtocolError::INVALID_MA_MODE, false),
        };
    }
    if opaque_too_long(&flags) {
        return line.error(ProtocolError::OPAQUE_TOO_LONG, false);
    }
    line.request(Request::Meta(MetaRequest {
        command,
        key,
        flag_tokens: flag_text(line.text, flag_tokens),
        flags,
        value: &[],
    }))
}

/// `ms <key> <datalen> <flags>*` and its data block.
fn set<'a>(line: Line<'a>, tokens: &Tokens<'a>, key: &'a [u8], limits: &Limits) -> Parsed<'a> {
    // Until the byte count is known, errors leave the data block unread.
    if tokens.ntokens() == 3 {
        return line.error(ProtocolError::BAD_FORMAT, false);
    }
    if tokens.ntokens() > MAX_META_TOKENS {
        return line.error(ProtocolError::FLAGS_TOO_LONG, false);
    }
    let len = match safe_strtol(tokens.get(2)).map(usize::try_from) {
        Some(Ok(len)) if len <= MAX_DATA_LEN => len,
        _ => return line.error(ProtocolError::BAD_FORMAT, false),
    };
    let swallow = len + 2;
    let fail = |error| line.error_swallowing(error, swallow, false);
    let flag_tokens = tokens.starting_at(3);
    let (mut flags, mode) = match preparse(key, flag_tokens) {
        Ok(parsed) => parsed,
        Err(error) => return fail(error),
    };
    flags.set_mode = match mode {
        None => None,
        Some(b'S') => Some(MetaSetMode::Set),
        Some(b'E') => Some(MetaSetMode::Add),
        Some(b'A') => Some(MetaSetMode::Append),
        Some(b'P') => Some(MetaSetMode::Prepend),
        Some(b'R') => Some(MetaSetMode::Replace),
        Some(_) => return fail(ProtocolError::INVALID_MS_MODE),
    };
    if opaque_too_long(&flags) {
        return fail(ProtocolError::OPAQUE_TOO_LONG);
    }
    let request = MetaRequest {
        command: MetaCommand::Set,
        key,
        flag_tokens: flag_text(line.text, flag_tokens),
        flags,
        value: &[],
    };
    if len > limits.max_item_size {
        return Parsed::TooLarge {
            unlink: Some(request.key()),
            consumed: line.len,
            swallow,
            silent: false,
        };
    }
    line.with_data_block(len, false, |value| {
        Request::Meta(MetaRequest { value, ..request })
    })
}

/// `me <key> [b]`: no flag parsing; a third token of exactly `b` makes the
/// key base64, anything else is ignored.
fn debug<'a>(line: Line<'a>, tokens: &Tokens<'a>, key: &'a [u8]) -> Parsed<'a> {
    let base64 = tokens.get(2) == b"b";
    if tokens.ntokens() < 3 || !valid_key(key) || (base64 && !key_decodes(key)) {
        return line.error(ProtocolError::BAD_FORMAT, false);
    }
    line.request(Request::Meta(MetaRequest {
        command: MetaCommand::Debug,
        key,
        flag_tokens: flag_text(line.text, tokens.starting_at(2)),
        flags: MetaFlags {
            base64,
            ..MetaFlags::default()
        },
        value: &[],
    }))
}

/// The raw flag text, from the first flag token to the end of the line.
fn flag_text<'a>(text: &'a [u8], flag_tokens: &[&'a [u8]]) -> &'a [u8] {
    flag_tokens
        .first()
        .map_or(&[], |&first| text_from(text, first))
}

/// Whether the `O` token (the `O` included) is longer than memcached allows.
fn opaque_too_long(flags: &MetaFlags<'_>) -> bool {
    flags
        .opaque
        .is_some_and(|opaque| opaque.len() + 1 > MAX_OPAQUE_LEN)
}

/// Whether a `b` key decodes, by memcached's rules and canonically (see the
/// module comment).
fn key_decodes(key: &[u8]) -> bool {
    key.len() % 4 == 0 && KeyRef::decode_base64(key).is_some()
}

/// Bad flag tokens seen so far. Like memcached's `_meta_flag_preparse`, the
/// parse goes on after one: the last message set wins, and a bad `F` sets
/// none (the reply is then `bad command line format`).
#[derive(Default)]
struct Failure {
    failed: bool,
    message: Option<ProtocolError>,
}

impl Failure {
    /// Passes `value` through, noting a failure with `message` if it is
    /// `None`.
    fn check<T>(&mut self, value: Option<T>, message: Option<ProtocolError>) -> Option<T> {
        if value.is_none() {
            self.failed = true;
            self.message = message.or(self.message);
        }
        value
    }
}

/// Parses the flag tokens of `mg`, `ms`, `md`, `ma`: the flags, and the `M`
/// mode byte for the caller to interpret.
fn preparse<'a>(
    key: &[u8],
    tokens: &[&'a [u8]],
) -> Result<(MetaFlags<'a>, Option<u8>), ProtocolError> {
    let mut flags = MetaFlags::default();
    let mut mode = None;
    let mut seen = 0u64;
    let mut failure = Failure::default();
    let bad_token = Some(ProtocolError::BAD_TOKEN);
    for &token in tokens {
        let Some((&flag, arg)) = token.split_first() else {
            continue;
        };
        // memcached remembers flags below 127 and takes any byte above for
        // a duplicate. Every flag it knows is a letter; a byte below 64 is
        // an invalid flag at its first occurrence, so it never repeats.
        let bit = flag.checked_sub(64).map_or(0, |index| 1u64 << (index & 63));
        if flag >= 127 || seen & bit != 0 {
            return Err(ProtocolError::DUPLICATE_FLAG);
        }
        seen |= bit;
        match flag {
            b'b' => {
                flags.base64 = true;
                failure.check(
                    key_decodes(key).then_some(()),
                    Some(ProtocolError::KEY_DECODE),
                );
            }
            b'N' => flags.vivify = failure.check(safe_strtol(arg), bad_token).map(i64::from),
            b'T' => flags.ttl = failure.check(safe_strtol(arg), bad_token).map(i64::from),
            b'R' => flags.recache = failure.check(safe_strtol(arg), bad_token).map(i64::from),
            b'C' => flags.compare_cas = failure.check(safe_strtoull(arg), bad_token),
            b'E' => flags.explicit_cas = failure.check(safe_strtoull(arg), bad_token),
            // memcached sets no message for a bad `F`.
            b'F' => flags.client_flags = failure.check(safe_strtoul(arg), None),
            b'J' => {
                let message = Some(ProtocolError::INVALID_INITIAL);
                flags.initial = failure.check(safe_strtoull(arg), message);
            }
            b'D' => {
                let message = Some(ProtocolError::INVALID_DELTA_VALUE);
                flags.delta = failure.check(safe_strtoull(arg), message);
            }
            b'M' => {
                let message = Some(ProtocolError::M_TOKEN_LENGTH);
                let single = match arg {
                    &[mode] => Some(mode),
                    _ => None,
                };
                mode = failure.check(single, message);
            }
            b'O' => flags.opaque = Some(arg),
            // Proxy hints, ignored.
            b'P' | b'L' => {}
            b'c' => flags.return_cas = true,
            b'f' => flags.return_flags = true,
            b'h' => flags.return_hit = true,
            b'k' => flags.return_key = true,
            b'l' => flags.return_last_access = true,
            b's' => flags.return_size = true,
            b't' => flags.return_ttl = true,
            b'v' => flags.return_value = true,
            b'q' => flags.quiet = true,
            b'u' => flags.no_bump = true,
            b'I' => flags.invalidate = true,
            b'x' => flags.remove_value = true,
            _ => return Err(ProtocolError::INVALID_FLAG),
        }
    }
    match failure {
        Failure { failed: false, .. } => Ok((flags, mode)),
        Failure { message, .. } => Err(message.unwrap_or(ProtocolError::BAD_FORMAT)),
    }
}
