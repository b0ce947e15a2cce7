//! `MULTI`'s side of a connection: the requests queued until `EXEC`, and
//! Redis's words for what goes wrong. Running the queue atomically is the
//! server's job (`server::multi`); this module only keeps it.

use super::Command;
use crate::protocol::resp::reply;

/// `MULTI` inside `MULTI`.
pub const NESTED: &[u8] = b"ERR MULTI calls can not be nested";
/// `EXEC` outside `MULTI`.
pub const EXEC_WITHOUT_MULTI: &[u8] = b"ERR EXEC without MULTI";
/// `DISCARD` outside `MULTI`.
pub const DISCARD_WITHOUT_MULTI: &[u8] = b"ERR DISCARD without MULTI";
/// `WATCH` inside `MULTI`.
pub const WATCH_INSIDE_MULTI: &[u8] = b"ERR WATCH inside MULTI is not allowed";
/// `EXEC` of a transaction that queued a refused request.
pub const EXECABORT: &[u8] = b"EXECABORT Transaction discarded because of previous errors.";
/// How an `EXEC` refused before it runs says why (Redis's
/// `execCommandAbort`): this, then the refusal without its `-`.
pub const EXECABORT_BECAUSE: &[u8] = b"EXECABORT Transaction discarded because of: ";

/// An open transaction: the requests queued since `MULTI`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// The queued requests' frames, back to back, as they arrived.
    frames: Vec<u8>,
    count: usize,
    /// A request was refused while queueing (unknown command, wrong
    /// arity…): `EXEC` will discard the transaction.
    pub failed: bool,
}

impl Transaction {
    /// Queues a request's whole frame.
    pub fn queue(&mut self, frame: &[u8]) {
        self.frames.extend_from_slice(frame);
        self.count += 1;
    }

    /// How many requests are queued.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The queued frames, back to back (each parses as one request).
    pub fn frames(&self) -> &[u8] {
        &self.frames
    }

    /// Bytes the queue holds (`CLIENT LIST`'s `multi-mem`).
    pub fn memory(&self) -> usize {
        self.frames.capacity()
    }
}

/// Whether `command` runs at once inside `MULTI` instead of being queued:
/// the commands that manage the transaction, and leaving the connection.
pub fn runs_inside_multi(command: Command) -> bool {
    matches!(
        command,
        Command::Exec
            | Command::Discard
            | Command::Multi
            | Command::Watch
            | Command::Quit
            | Command::Reset
    )
}

/// Writes the refusal of an `EXEC` in Redis's words: `EXECABORT`, then why
/// (`error`, a refusal without its `-` and line end).
pub fn write_exec_refused(error: &[u8], out: &mut Vec<u8>) {
    let mut message = EXECABORT_BECAUSE.to_vec();
    message.extend_from_slice(error);
    reply::error(out, &message);
}

/// Writes the `+QUEUED` of a queued request.
pub fn write_queued(out: &mut Vec<u8>) {
    reply::simple_string(out, b"QUEUED");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_queue_back_to_back() {
        let mut transaction = Transaction::default();
        assert!(transaction.is_empty());
        transaction.queue(b"*1\r\n$4\r\nPING\r\n");
        transaction.queue(b"*2\r\n$4\r\nECHO\r\n$1\r\na\r\n");
        assert_eq!(transaction.len(), 2);
        assert_eq!(
            transaction.frames(),
            b"*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$1\r\na\r\n"
        );
    }

    #[test]
    fn an_exec_refusal_names_its_cause() {
        let mut out = Vec::new();
        write_exec_refused(b"wrong number of arguments for 'exec' command", &mut out);
        assert_eq!(
            out,
            b"-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n"
        );
    }
}
