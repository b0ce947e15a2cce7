//! Listening sockets: one per shard and port, bound with `SO_REUSEPORT` so
//! the kernel spreads new connections over the shards.
//!
//! Before the per-shard sockets are bound, the port is probed once without
//! `SO_REUSEPORT`: otherwise a second server of the same user on the same
//! port would silently share its connections instead of failing to start.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// Which front end a listener serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Memcache,
    Resp,
}

impl Protocol {
    /// The flag that sets this protocol's port.
    pub fn port_flag(self) -> &'static str {
        match self {
            Protocol::Memcache => "--memcache-port",
            Protocol::Resp => "--resp-port",
        }
    }
}

/// A bound, listening, non-blocking socket.
#[derive(Debug)]
pub struct Listener {
    pub protocol: Protocol,
    pub fd: OwnedFd,
}

/// Why a port could not be listened on.
#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {address} ({flag}): {source}{hint}")]
pub struct ListenError {
    pub address: SocketAddr,
    pub flag: &'static str,
    pub source: io::Error,
    pub hint: &'static str,
}

/// Listen backlog, as memcached's default `-b`.
const BACKLOG: i32 = 1024;

/// Binds `count` listeners on `ip:port` for `protocol`.
pub fn bind_all(
    protocol: Protocol,
    ip: IpAddr,
    port: u16,
    count: usize,
) -> Result<Vec<Listener>, ListenError> {
    let address = SocketAddr::new(ip, port);
    let fail = |source: io::Error| {
        let hint = match source.raw_os_error() {
            Some(libc::EADDRINUSE) => " (is another server running there? choose another port)",
            Some(libc::EACCES) => " (ports below 1024 need privileges)",
            Some(libc::EADDRNOTAVAIL) => " (no local interface has that address)",
            _ => "",
        };
        ListenError {
            address,
            flag: protocol.port_flag(),
            source,
            hint,
        }
    };
    // The probe: exclusive bind, closed right away.
    drop(bind_one(address, false).map_err(fail)?);
    (0..count)
        .map(|_| {
            bind_one(address, true)
                .map_err(fail)
                .map(|fd| Listener { protocol, fd })
        })
        .collect()
}

fn bind_one(address: SocketAddr, reuse_port: bool) -> io::Result<OwnedFd> {
    let domain = match address {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    };
    // Safety: plain socket syscalls on a descriptor we own.
    let raw = unsafe {
        libc::socket(
            domain,
            libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    set_option(&fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)?;
    // Inherited by accepted connections, as memcached sets them: replies
    // leave at once, and dead idle peers are eventually noticed.
    set_option(&fd, libc::IPPROTO_TCP, libc::TCP_NODELAY, 1)?;
    set_option(&fd, libc::SOL_SOCKET, libc::SO_KEEPALIVE, 1)?;
    if reuse_port {
        set_option(&fd, libc::SOL_SOCKET, libc::SO_REUSEPORT, 1)?;
    }
    if domain == libc::AF_INET6 {
        set_option(&fd, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, 1)?;
    }
    let (storage, len) = socket_address(address);
    // Safety: `storage` holds a valid address of `len` bytes.
    if unsafe {
        libc::bind(
            fd.as_raw_fd(),
            &storage as *const _ as *const libc::sockaddr,
            len,
        )
    } < 0
    {
        return Err(io::Error::last_os_error());
    }
    if unsafe { libc::listen(fd.as_raw_fd(), BACKLOG) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fd)
}

/// Sets an integer socket option.
pub fn set_option(fd: &OwnedFd, level: i32, name: i32, value: i32) -> io::Result<()> {
    // Safety: the option value is a valid i32 of the given size.
    let result = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            &value as *const i32 as *const libc::c_void,
            std::mem::size_of::<i32>() as libc::socklen_t,
        )
    };
    if result < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

fn socket_address(address: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // Safety: an all-zero sockaddr_storage is valid; we fill one variant.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match address {
        SocketAddr::V4(v4) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: v4.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(v4.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            unsafe { std::ptr::write(&mut storage as *mut _ as *mut libc::sockaddr_in, sin) };
            std::mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(v6) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: v6.port().to_be(),
                sin6_flowinfo: v6.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: v6.ip().octets(),
                },
                sin6_scope_id: v6.scope_id(),
            };
            unsafe { std::ptr::write(&mut storage as *mut _ as *mut libc::sockaddr_in6, sin6) };
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, TcpListener};

    #[test]
    fn a_port_taken_by_another_socket_is_refused_with_a_hint() {
        let taken = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = taken.local_addr().unwrap().port();
        let err = bind_all(Protocol::Memcache, Ipv4Addr::LOCALHOST.into(), port, 2).unwrap_err();
        assert_eq!(err.source.raw_os_error(), Some(libc::EADDRINUSE));
        assert!(err.to_string().contains("--memcache-port"), "{err}");
    }

    #[test]
    fn a_second_server_cannot_share_the_port() {
        let first = bind_all(Protocol::Memcache, Ipv4Addr::LOCALHOST.into(), 0, 1).unwrap();
        // Port 0 picks a free port; find which.
        let port = local_port(&first[0].fd);
        let shards = bind_all(Protocol::Resp, Ipv4Addr::LOCALHOST.into(), port, 1);
        assert!(shards.is_err(), "SO_REUSEPORT let a second server in");
    }

    #[test]
    fn every_shard_gets_its_own_socket_on_one_port() {
        let probe = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = probe.local_addr().unwrap().port();
        drop(probe);
        let listeners = bind_all(Protocol::Memcache, Ipv4Addr::LOCALHOST.into(), port, 3).unwrap();
        assert_eq!(listeners.len(), 3);
        assert!(listeners.iter().all(|l| local_port(&l.fd) == port));
    }

    fn local_port(fd: &OwnedFd) -> u16 {
        let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        let rc = unsafe {
            libc::getsockname(
                fd.as_raw_fd(),
                &mut storage as *mut _ as *mut libc::sockaddr,
                &mut len,
            )
        };
        assert_eq!(rc, 0);
        let sin = unsafe { &*(&storage as *const _ as *const libc::sockaddr_in) };
        u16::from_be(sin.sin_port)
    }
}
