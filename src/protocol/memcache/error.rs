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
