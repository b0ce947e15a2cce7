//! Every protocol error of the Redis front end, in one place, worded exactly
//! as Redis 7 words them (`networking.c`). Each one ends the connection.

use std::fmt;

/// A request that breaks the protocol. Its [`Display`](fmt::Display) is the
/// reply text after `-ERR `; [`ProtocolError::write_to`] writes the reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolError {
    /// `*<count>` is not a number, or above [`Limits::max_multibulk_len`].
    ///
    /// [`Limits::max_multibulk_len`]: super::Limits::max_multibulk_len
    InvalidMultibulkLength,
    /// `$<length>` is not a number, negative, or above
    /// [`Limits::proto_max_bulk_len`].
    ///
    /// [`Limits::proto_max_bulk_len`]: super::Limits::proto_max_bulk_len
    InvalidBulkLength,
    /// An argument of a multibulk request does not start with `$`; carries
    /// the byte found instead.
    ExpectedDollar(u8),
    /// The `*<count>` line has not ended within
    /// [`Limits::inline_max`](super::Limits::inline_max) bytes.
    TooBigMultibulkCount,
    /// A `$<length>` line has not ended within
    /// [`Limits::inline_max`](super::Limits::inline_max) bytes.
    TooBigBulkCount,
    /// An inline request has not ended within
    /// [`Limits::inline_max`](super::Limits::inline_max) bytes.
    TooBigInline,
    /// An inline request with an unterminated quote, or a closing quote
    /// followed by something other than whitespace.
    UnbalancedQuotes,
    /// More than 10 arguments before authentication.
    UnauthenticatedMultibulkLength,
    /// An argument longer than 16384 bytes before authentication.
    UnauthenticatedBulkLength,
}

impl ProtocolError {
    /// The reply text after `-ERR `, but for [`ProtocolError::ExpectedDollar`]
    /// which [`ProtocolError::write_to`] completes with the byte found.
    fn text(self) -> &'static str {
        match self {
            ProtocolError::InvalidMultibulkLength => "Protocol error: invalid multibulk length",
            ProtocolError::InvalidBulkLength => "Protocol error: invalid bulk length",
            ProtocolError::ExpectedDollar(_) => "Protocol error: expected '$', got '",
            ProtocolError::TooBigMultibulkCount => "Protocol error: too big mbulk count string",
            ProtocolError::TooBigBulkCount => "Protocol error: too big bulk count string",
            ProtocolError::TooBigInline => "Protocol error: too big inline request",
            ProtocolError::UnbalancedQuotes => "Protocol error: unbalanced quotes in request",
            ProtocolError::UnauthenticatedMultibulkLength => {
                "Protocol error: unauthenticated multibulk length"
            }
            ProtocolError::UnauthenticatedBulkLength => {
                "Protocol error: unauthenticated bulk length"
            }
        }
    }

    /// The byte quoted in an `expected '$'` reply: Redis turns `\r` and `\n`
    /// into spaces so that the reply stays one line, and sends any other
    /// byte as it is.
    fn quoted(byte: u8) -> u8 {
        match byte {
            b'\r' | b'\n' => b' ',
            other => other,
        }
    }

    /// Appends the whole reply, `-ERR <text>\r\n`, byte for byte as Redis
    /// sends it.
    pub fn write_to(self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"-ERR ");
        out.extend_from_slice(self.text().as_bytes());
        if let ProtocolError::ExpectedDollar(byte) = self {
            out.extend_from_slice(&[Self::quoted(byte), b'\'']);
        }
        out.extend_from_slice(b"\r\n");
    }
}

impl fmt::Display for ProtocolError {
    /// The reply text after `-ERR `. A non-ASCII byte in an `expected '$'`
    /// error shows as the Latin-1 character of that byte; the wire gets the
    /// byte itself from [`ProtocolError::write_to`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())?;
        if let ProtocolError::ExpectedDollar(byte) = *self {
            write!(f, "{}'", char::from(Self::quoted(byte)))?;
        }
        Ok(())
    }
}

impl std::error::Error for ProtocolError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(error: ProtocolError) -> Vec<u8> {
        let mut out = Vec::new();
        error.write_to(&mut out);
        out
    }

    #[test]
    fn texts_are_worded_as_redis() {
        let cases = [
            (
                ProtocolError::InvalidMultibulkLength,
                "Protocol error: invalid multibulk length",
            ),
            (
                ProtocolError::InvalidBulkLength,
                "Protocol error: invalid bulk length",
            ),
            (
                ProtocolError::ExpectedDollar(b'X'),
                "Protocol error: expected '$', got 'X'",
            ),
            (
                ProtocolError::TooBigMultibulkCount,
                "Protocol error: too big mbulk count string",
            ),
            (
                ProtocolError::TooBigBulkCount,
                "Protocol error: too big bulk count string",
            ),
            (
                ProtocolError::TooBigInline,
                "Protocol error: too big inline request",
            ),
            (
                ProtocolError::UnbalancedQuotes,
                "Protocol error: unbalanced quotes in request",
            ),
            (
                ProtocolError::UnauthenticatedMultibulkLength,
                "Protocol error: unauthenticated multibulk length",
            ),
            (
                ProtocolError::UnauthenticatedBulkLength,
                "Protocol error: unauthenticated bulk length",
            ),
        ];
        for (error, text) in cases {
            assert_eq!(error.to_string(), text);
            assert_eq!(reply(error), format!("-ERR {text}\r\n").into_bytes());
        }
    }

    #[test]
    fn the_unexpected_byte_is_sent_raw_but_never_as_a_line_break() {
        assert_eq!(
            reply(ProtocolError::ExpectedDollar(b'\r')),
            b"-ERR Protocol error: expected '$', got ' '\r\n"
        );
        assert_eq!(
            ProtocolError::ExpectedDollar(b'\n').to_string(),
            "Protocol error: expected '$', got ' '"
        );
        assert_eq!(
            reply(ProtocolError::ExpectedDollar(0xff)),
            b"-ERR Protocol error: expected '$', got '\xff'\r\n"
        );
        assert_eq!(
            ProtocolError::ExpectedDollar(0xff).to_string(),
            "Protocol error: expected '$', got '\u{ff}'"
        );
    }
}
