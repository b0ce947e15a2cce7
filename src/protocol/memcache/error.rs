//! Every error reply of the memcached front end, in one place, worded exactly
//! as memcached 1.6 words them.

/// An error answered to a memcached client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolError {
    /// `ERROR`: unknown command (or wrong number of tokens).
    UnknownCommand,
    /// `CLIENT_ERROR <message>`: the input does not conform to the protocol.
    Client(&'static str),
    /// `SERVER_ERROR <message>`: the server cannot carry out the command.
    Server(&'static str),
}

impl ProtocolError {
    pub const BAD_FORMAT: ProtocolError = ProtocolError::Client("bad command line format");
    pub const BAD_DATA_CHUNK: ProtocolError = ProtocolError::Client("bad data chunk");
    pub const TOO_LARGE: ProtocolError = ProtocolError::Server("object too large for cache");
    pub const OUT_OF_MEMORY: ProtocolError = ProtocolError::Server("out of memory storing object");
    pub const NON_NUMERIC: ProtocolError =
        ProtocolError::Client("cannot increment or decrement non-numeric value");
    pub const INVALID_EXPTIME: ProtocolError = ProtocolError::Client("invalid exptime argument");
    pub const INVALID_DELTA: ProtocolError =
        ProtocolError::Client("invalid numeric delta argument");
    /// `delete` with a third token that is neither `0` nor `noreply`.
    pub const DELETE_USAGE: ProtocolError =
        ProtocolError::Client("bad command line format.  Usage: delete <key> [noreply]");

    // Meta commands. memcached 1.6 words a few of them differently per
    // command; the parser picks the one each command answers.
    /// A meta flag given twice, or a flag byte above 126.
    pub const DUPLICATE_FLAG: ProtocolError = ProtocolError::Client("duplicate flag");
    /// A meta flag memcached does not know.
    pub const INVALID_FLAG: ProtocolError = ProtocolError::Client("invalid flag");
    /// What `md` and `ma` answer for every flag error.
    pub const INVALID_OR_DUPLICATE_FLAG: ProtocolError =
        ProtocolError::Client("invalid or duplicate flag");
    /// A `T`, `N`, `R`, `C` or `E` token that is not a number.
    pub const BAD_TOKEN: ProtocolError = ProtocolError::Client("bad token in command line format");
    /// An `M` token longer or shorter than one mode byte.
    pub const M_TOKEN_LENGTH: ProtocolError = ProtocolError::Client("incorrect length for M token");
    /// An `ms` mode other than `S`, `E`, `A`, `P`, `R`.
    pub const INVALID_MS_MODE: ProtocolError = ProtocolError::Client("invalid mode for ms M token");
    /// An `ma` mode other than `I`, `+`, `D`, `-`.
    pub const INVALID_MA_MODE: ProtocolError = ProtocolError::Client("invalid mode for ma M token");
    /// An `O` token longer than [`MAX_OPAQUE_LEN`](super::MAX_OPAQUE_LEN).
    pub const OPAQUE_TOO_LONG: ProtocolError = ProtocolError::Client("opaque token too long");
    /// Too many tokens on an `mg` line.
    pub const MG_FLAGS_TOO_LONG: ProtocolError =
        ProtocolError::Client("options flags are too long");
    /// Too many tokens on an `ms`, `md` or `ma` line.
    pub const FLAGS_TOO_LONG: ProtocolError = ProtocolError::Client("options flags too long");
    /// A key that the `b` flag says is base64 but that does not decode.
    pub const KEY_DECODE: ProtocolError = ProtocolError::Client("error decoding key");
    /// A `J` token that is not an unsigned 64-bit number.
    pub const INVALID_INITIAL: ProtocolError =
        ProtocolError::Client("invalid numeric initial value");
    /// A `D` token that is not an unsigned 64-bit number.
    pub const INVALID_DELTA_VALUE: ProtocolError =
        ProtocolError::Client("invalid numeric delta value");

    /// Appends the full reply line, `\r\n` included.
    pub fn write_to(self, out: &mut Vec<u8>) {
        match self {
            ProtocolError::UnknownCommand => out.extend_from_slice(b"ERROR"),
            ProtocolError::Client(message) => {
                out.extend_from_slice(b"CLIENT_ERROR ");
                out.extend_from_slice(message.as_bytes());
            }
            ProtocolError::Server(message) => {
                out.extend_from_slice(b"SERVER_ERROR ");
                out.extend_from_slice(message.as_bytes());
            }
        }
        out.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(error: ProtocolError) -> String {
        let mut out = Vec::new();
        error.write_to(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn replies_are_worded_as_memcached() {
        assert_eq!(text(ProtocolError::UnknownCommand), "ERROR\r\n");
        assert_eq!(
            text(ProtocolError::BAD_FORMAT),
            "CLIENT_ERROR bad command line format\r\n"
        );
        assert_eq!(
            text(ProtocolError::TOO_LARGE),
            "SERVER_ERROR object too large for cache\r\n"
        );
    }
}
