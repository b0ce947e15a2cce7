//! Error replies counted by their code, for `INFO errorstats` and
//! `total_error_replies`: as Redis counts every error reply it writes (its
//! `afterErrorReply`), whichever command or protocol error caused it.
//!
//! The counting point is the one function every RESP error reply goes
//! through (`protocol::resp::reply::error`), which calls [`count`]. A shard
//! thread installs its [`ErrorCounters`] (kept in the shared state, so that
//! `INFO` on any core can sum them) with [`install`]; until then, and on
//! threads that never install one (unit tests), errors go to a counter of
//! the thread's own. The counters sit behind a mutex that only the owning
//! shard takes per error and a reader takes per `INFO`, so it is never
//! contended on the data path.
//!
//! [`replied`] is a plain thread-local total, so that the request loop can
//! tell whether a command answered an error (Redis's `failed_calls`) by
//! comparing it before and after, without a lock.

use std::cell::{Cell, RefCell};
use std::sync::{Arc, Mutex};

/// Distinct error codes kept, as Redis's limit: errors with a code not
/// seen before past this many are counted in the total only.
pub const MAX_CODES: usize = 128;

/// One shard's error replies, by code (the first word: `ERR`,
/// `WRONGTYPE`, `NOAUTH`…).
#[derive(Debug, Default)]
pub struct ErrorCounters {
    table: Mutex<ErrorTable>,
}

/// Error counts by code, and their total.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ErrorTable {
    /// (code, count), in the order first seen.
    pub codes: Vec<(String, u64)>,
    /// Every error reply, including those whose code was not kept.
    pub total: u64,
}

impl ErrorTable {
    /// Counts one error whose text is `text` (`ERR syntax error`).
    pub fn count(&mut self, text: &[u8]) {
        self.total += 1;
        let code = error_code(text);
        if let Some((_, count)) = self.codes.iter_mut().find(|(c, _)| c.as_bytes() == code) {
            *count += 1;
        } else if self.codes.len() < MAX_CODES {
            self.codes
                .push((String::from_utf8_lossy(code).into_owned(), 1));
        }
    }

    /// Adds `other`'s counts into this table.
    pub fn add(&mut self, other: &ErrorTable) {
        self.total += other.total;
        for (code, count) in &other.codes {
            match self.codes.iter_mut().find(|(c, _)| c == code) {
                Some((_, sum)) => *sum += count,
                None => self.codes.push((code.clone(), *count)),
            }
        }
    }
}

impl ErrorCounters {
    /// A copy of the counts.
    pub fn read(&self) -> ErrorTable {
        self.lock().clone()
    }

    /// Zeroes the counts (`CONFIG RESETSTAT`).
    pub fn reset(&self) {
        *self.lock() = ErrorTable::default();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ErrorTable> {
        // A panic while counting leaves plain numbers: still usable.
        self.table
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

thread_local! {
    static SINK: RefCell<Arc<ErrorCounters>> = RefCell::new(Arc::default());
    static REPLIED: Cell<u64> = const { Cell::new(0) };
}

/// Makes this thread count its error replies into `counters`.
pub fn install(counters: Arc<ErrorCounters>) {
    SINK.with(|sink| *sink.borrow_mut() = counters);
}

/// Counts an error reply whose text (without the leading `-`) is `text`.
pub fn count(text: &[u8]) {
    REPLIED.with(|replied| replied.set(replied.get() + 1));
    SINK.with(|sink| sink.borrow().lock().count(text));
}

/// Error replies this thread has written so far.
#[inline]
pub fn replied() -> u64 {
    REPLIED.with(Cell::get)
}

/// An error's code: its first word, as Redis takes it (the text up to the
/// first space; all of it when there is none).
fn error_code(text: &[u8]) -> &[u8] {
    let end = memchr::memchr(b' ', text).unwrap_or(text.len());
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_counted_by_their_first_word() {
        let mut table = ErrorTable::default();
        table.count(b"ERR syntax error");
        table.count(b"WRONGTYPE Operation against a key holding the wrong kind of value");
        table.count(b"ERR unknown command 'x'");
        table.count(b"NOAUTH");
        assert_eq!(table.total, 4);
        assert_eq!(
            table.codes,
            [
                ("ERR".to_string(), 2),
                ("WRONGTYPE".to_string(), 1),
                ("NOAUTH".to_string(), 1)
            ]
        );
    }

    #[test]
    fn codes_past_the_limit_count_in_the_total_only() {
        let mut table = ErrorTable::default();
        for n in 0..MAX_CODES + 5 {
            table.count(format!("E{n} x").as_bytes());
        }
        table.count(b"E0 again");
        assert_eq!(table.codes.len(), MAX_CODES);
        assert_eq!(table.total, MAX_CODES as u64 + 6);
        assert_eq!(table.codes[0], ("E0".to_string(), 2));
    }

    #[test]
    fn tables_add_up() {
        let mut a = ErrorTable::default();
        a.count(b"ERR a");
        let mut b = ErrorTable::default();
        b.count(b"ERR b");
        b.count(b"OOM c");
        a.add(&b);
        assert_eq!(a.total, 3);
        assert_eq!(a.codes, [("ERR".to_string(), 2), ("OOM".to_string(), 1)]);
    }

    #[test]
    fn an_installed_sink_receives_this_threads_errors() {
        std::thread::spawn(|| {
            let counters = Arc::new(ErrorCounters::default());
            install(counters.clone());
            let before = replied();
            count(b"ERR one");
            count(b"ERR two");
            assert_eq!(replied() - before, 2);
            assert_eq!(counters.read().codes, [("ERR".to_string(), 2)]);
            counters.reset();
            assert_eq!(counters.read(), ErrorTable::default());
        })
        .join()
        .expect("thread");
    }
}
