//! Authentication on the RESP port, as Redis 7 does it with `requirepass`:
//! one user, `default`, with no password (then every connection starts
//! authenticated and any password is accepted for it, as Redis's `nopass`)
//! or one password that `AUTH` or `HELLO … AUTH` must present before any
//! command but `AUTH`, `HELLO`, `QUIT` and `RESET`.
//!
//! The password lives in [`RequirePass`], shared by every shard: read on
//! each `AUTH` and on each new connection, changed by `CONFIG SET
//! requirepass`. A change does not log out connections already
//! authenticated (as in Redis); connections made while no password was set
//! are authenticated.
//!
//! ACL users (`ACL SETUSER`…) are the security roadmap's, not here.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::RwLock;

use super::{Command, SYNTAX_ERROR};
use crate::protocol::resp::reply;
use crate::protocol::resp::Argv;

/// `-NOAUTH Authentication required.`
pub const NOAUTH: &[u8] = b"NOAUTH Authentication required.";

/// A wrong user or password.
pub const WRONGPASS: &[u8] = b"WRONGPASS invalid username-password pair or user is disabled.";

/// `AUTH password` while the default user has no password.
const NO_PASSWORD_SET: &[u8] = b"ERR AUTH <password> called without any password configured \
for the default user. Are you sure your configuration is correct?";

/// `HELLO` without credentials on a connection that must authenticate.
pub const HELLO_NOAUTH: &[u8] = b"NOAUTH HELLO must be called with the client already \
authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to \
authenticate the client and select the RESP protocol version at the same time";

/// The one user's name.
const DEFAULT_USER: &[u8] = b"default";

/// The `default` user's password, shared by every shard.
#[derive(Debug, Default)]
pub struct RequirePass {
    password: RwLock<Option<Vec<u8>>>,
    /// Whether a password is set: read per request, without the lock.
    required: AtomicBool,
}

impl RequirePass {
    /// A password store holding `password` (`None` or empty: none).
    pub fn new(password: Option<&str>) -> RequirePass {
        let store = RequirePass::default();
        store.set(password.map(str::as_bytes).unwrap_or_default());
        store
    }

    /// Whether connections must authenticate.
    #[inline]
    pub fn is_required(&self) -> bool {
        self.required.load(Ordering::Relaxed)
    }

    /// Sets the password; empty removes it (`CONFIG SET requirepass ""`).
    pub fn set(&self, password: &[u8]) {
        let mut stored = self.password.write().unwrap_or_else(|p| p.into_inner());
        *stored = (!password.is_empty()).then(|| password.to_vec());
        self.required.store(stored.is_some(), Ordering::Relaxed);
    }

    /// The password, empty when there is none (`CONFIG GET requirepass`).
    pub fn get(&self) -> Vec<u8> {
        let stored = self.password.read().unwrap_or_else(|p| p.into_inner());
        stored.clone().unwrap_or_default()
    }

    /// Checks a user name and password: the `default` user (case matters,
    /// as in Redis) with the password, or with any password when none is
    /// set.
    pub fn check(&self, user: &[u8], password: &[u8]) -> Result<(), &'static [u8]> {
        if user != DEFAULT_USER {
            return Err(WRONGPASS);
        }
        let stored = self.password.read().unwrap_or_else(|p| p.into_inner());
        match stored.as_deref() {
            None => Ok(()),
            Some(expected) if constant_time_eq(expected, password) => Ok(()),
            Some(_) => Err(WRONGPASS),
        }
    }
}

/// Compares in time that depends on the lengths only, so that a client
/// cannot find the password byte by byte by timing replies.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// Whether `command` may run before the connection authenticated.
pub fn allowed_unauthenticated(command: Command) -> bool {
    matches!(
        command,
        Command::Auth | Command::Hello | Command::Quit | Command::Reset
    )
}

/// `AUTH [username] password`: answers into `out` and returns whether the
/// connection is now authenticated (a failed `AUTH` changes nothing, so the
/// caller keeps its state then).
pub fn auth(argv: &Argv<'_>, pass: &RequirePass, out: &mut Vec<u8>) -> bool {
    let arg = |index: usize| argv.get(index).unwrap_or_default();
    let result = match argv.len() {
        2 if !pass.is_required() => Err(NO_PASSWORD_SET),
        2 => pass.check(DEFAULT_USER, arg(1)),
        3 => pass.check(arg(1), arg(2)),
        _ => Err(SYNTAX_ERROR),
    };
    match result {
        Ok(()) => {
            reply::simple_string(out, b"OK");
            true
        }
        Err(error) => {
            reply::error(out, error);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::resp::{parse, Args, Limits, Parsed};

    fn run_auth(pass: &RequirePass, request: &[u8]) -> (String, bool) {
        let mut args = Args::new();
        let Parsed::Command { argv, .. } = parse(request, &Limits::default(), &mut args) else {
            panic!("not a request");
        };
        let mut out = Vec::new();
        let ok = auth(&argv, pass, &mut out);
        (String::from_utf8(out).unwrap(), ok)
    }

    #[test]
    fn without_a_password_the_default_user_takes_any() {
        let pass = RequirePass::new(None);
        assert!(!pass.is_required());
        assert_eq!(pass.check(b"default", b"whatever"), Ok(()));
        assert_eq!(pass.check(b"Default", b"whatever"), Err(WRONGPASS));
        assert_eq!(pass.check(b"alice", b"x"), Err(WRONGPASS));
        let (reply, ok) = run_auth(&pass, b"AUTH secret\r\n");
        assert!(!ok);
        assert!(reply.starts_with("-ERR AUTH <password> called without any password configured"));
        assert_eq!(
            run_auth(&pass, b"AUTH default x\r\n"),
            ("+OK\r\n".into(), true)
        );
    }

    #[test]
    fn with_a_password_only_it_authenticates() {
        let pass = RequirePass::new(Some("s3cret"));
        assert!(pass.is_required());
        assert_eq!(
            run_auth(&pass, b"AUTH s3cret\r\n"),
            ("+OK\r\n".into(), true)
        );
        assert_eq!(
            run_auth(&pass, b"AUTH default s3cret\r\n"),
            ("+OK\r\n".into(), true)
        );
        let wrong = format!("-{}\r\n", String::from_utf8_lossy(WRONGPASS));
        assert_eq!(run_auth(&pass, b"AUTH s3cre\r\n"), (wrong.clone(), false));
        assert_eq!(run_auth(&pass, b"AUTH bob s3cret\r\n"), (wrong, false));
        assert_eq!(
            run_auth(&pass, b"AUTH a b c\r\n"),
            ("-ERR syntax error\r\n".into(), false)
        );
        pass.set(b"");
        assert!(!pass.is_required());
        assert_eq!(pass.get(), b"");
    }

    #[test]
    fn comparison_needs_every_byte() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(constant_time_eq(b"", b""));
    }
}
