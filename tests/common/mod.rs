//! Test harness: starts a server on a free loopback port, speaks raw bytes to
//! it, and stops it.
//!
//! By default the server is the `corecache` binary of this build. With
//! `CORECACHE_TEST_AGAINST=memcached` the same tests run against the
//! reference memcached (`memcached` on PATH), which is how the expected
//! replies in these tests were checked: they are memcached's own.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Shutdown, TcpListener, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long a reply may take before a test fails (generous: CI machines
/// are slow and noisy; tests never assert on timing).
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

/// Which server the tests talk to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Corecache,
    Memcached,
}

/// The server under test, from `CORECACHE_TEST_AGAINST`.
pub fn target() -> Target {
    match std::env::var("CORECACHE_TEST_AGAINST").as_deref() {
        Ok("memcached") => Target::Memcached,
        _ => Target::Corecache,
    }
}

/// Whether the server under test is corecache (for the few deliberate
/// differences from memcached).
pub fn is_corecache() -> bool {
    target() == Target::Corecache
}

/// A running server.
pub struct Server {
    child: Option<Child>,
    /// The memcached protocol port.
    pub port: u16,
    /// The RESP port, when [`Options::resp`] asked for one.
    pub resp_port: Option<u16>,
}

/// Options for starting a server.
#[derive(Debug, Clone)]
pub struct Options {
    pub threads: usize,
    /// Extra corecache flags (ignored for memcached unless mapped below).
    pub args: Vec<String>,
    /// `--max-item-size` in bytes (memcached: `-I`).
    pub max_item_size: Option<u64>,
    /// `--max-connections` (memcached: `-c`).
    pub max_connections: Option<usize>,
    /// Open the RESP port too (corecache only).
    pub resp: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            threads: 1,
            args: Vec::new(),
            max_item_size: None,
            max_connections: None,
            resp: false,
        }
    }
}

impl Server {
    /// Starts a server with `threads` threads.
    pub fn start(threads: usize) -> Server {
        Server::with(Options {
            threads,
            ..Options::default()
        })
    }

    /// Starts a server with these options.
    pub fn with(options: Options) -> Server {
        for _attempt in 0..20 {
            let port = free_port();
            let resp_port = options.resp.then(|| loop {
                let candidate = free_port();
                if candidate != port {
                    break candidate;
                }
            });
            let mut command = match target() {
                Target::Corecache => {
                    let mut command = Command::new(env!("CARGO_BIN_EXE_corecache"));
                    command
                        .arg("--bind")
                        .arg("127.0.0.1")
                        .arg("--memcache-port")
                        .arg(port.to_string())
                        .arg("--resp-port")
                        .arg(resp_port.unwrap_or(0).to_string())
                        .arg("--threads")
                        .arg(options.threads.to_string());
                    if let Some(size) = options.max_item_size {
                        command.arg("--max-item-size").arg(size.to_string());
                    }
                    if let Some(max) = options.max_connections {
                        command.arg("--max-connections").arg(max.to_string());
                    }
                    command.args(&options.args);
                    command
                }
                Target::Memcached => {
                    let mut command = Command::new("memcached");
                    command
                        .arg("-l")
                        .arg("127.0.0.1")
                        .arg("-p")
                        .arg(port.to_string())
                        .arg("-U")
                        .arg("0")
                        .arg("-t")
                        .arg(options.threads.to_string());
                    if let Some(size) = options.max_item_size {
                        command.arg("-I").arg(size.to_string());
                    }
                    if let Some(max) = options.max_connections {
                        command.arg("-c").arg(max.to_string());
                    }
                    if unsafe { libc::geteuid() } == 0 {
                        command.arg("-u").arg("root");
                    }
                    command
                }
            };
            let mut child = command
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("cannot start the server binary");
            let ready = match target() {
                // corecache says when every shard listens; a probe connect
                // could reach another test's server on a reused port.
                Target::Corecache => announced_ready(&mut child),
                Target::Memcached => probe_ready(&mut child, port),
            };
            if ready {
                return Server {
                    child: Some(child),
                    port,
                    resp_port,
                };
            }
            // Most likely the port was taken in between: try another.
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("could not start a server on a free port");
    }

    /// Starts corecache with `threads` shards and its RESP port open.
    pub fn start_resp(threads: usize) -> Server {
        Server::with(Options {
            threads,
            resp: true,
            ..Options::default()
        })
    }

    /// A raw connection to the RESP port.
    pub fn connect_resp(&self) -> Conn {
        Conn::connect_to(self.resp_port.expect("started with a RESP port"))
    }

    /// A `redis` crate client for the RESP port (`protocol` 2 or 3).
    pub fn redis(&self, protocol: u8) -> redis::Connection {
        let port = self.resp_port.expect("started with a RESP port");
        let url = format!("redis://127.0.0.1:{port}/?protocol=resp{protocol}");
        let client = redis::Client::open(url.as_str()).expect("redis client");
        client
            .get_connection_with_timeout(REPLY_TIMEOUT)
            .expect("redis connection")
    }

    /// A raw connection to the server.
    pub fn connect(&self) -> Conn {
        Conn::connect_to(self.port)
    }

    /// A `memcache` crate client speaking the text protocol.
    pub fn client(&self) -> memcache::Client {
        let url = format!(
            "memcache://127.0.0.1:{}?protocol=ascii&timeout=10&tcp_nodelay=true",
            self.port
        );
        memcache::Client::connect(url.as_str()).expect("memcache client")
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn stop(self) -> ExitStatus {
        unsafe { libc::kill(self.pid() as i32, libc::SIGTERM) };
        self.wait_exit()
    }

    /// Waits for the server to exit by itself (e.g. after a signal the test
    /// sent); kills it if it takes longer than the reply timeout.
    pub fn wait_exit(mut self) -> ExitStatus {
        let mut child = self.child.take().expect("server already stopped");
        let deadline = Instant::now() + REPLY_TIMEOUT;
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("server did not exit within {REPLY_TIMEOUT:?}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Waits for corecache's "ready" line; `false` if it exited instead.
fn announced_ready(child: &mut Child) -> bool {
    use std::io::BufRead;
    let Some(stdout) = child.stdout.take() else {
        return false;
    };
    let mut lines = std::io::BufReader::new(stdout).lines();
    let ready = matches!(lines.next(), Some(Ok(line)) if line.contains(" ready: "));
    // Keep draining stdout so the server never blocks writing to it.
    std::thread::spawn(move || for _ in lines {});
    ready
}

/// Waits until something accepts on `port` while the child still runs.
fn probe_ready(child: &mut Child, port: u16) -> bool {
    let deadline = Instant::now() + REPLY_TIMEOUT;
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return true;
        }
        assert!(Instant::now() < deadline, "server did not start listening");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    listener.local_addr().expect("addr").port()
}

/// A raw text-protocol connection.
pub struct Conn {
    stream: TcpStream,
}

impl Conn {
    /// Connects to a server on `port` of the loopback address.
    pub fn connect_to(port: u16) -> Conn {
        Conn::new(TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("connect"))
    }

    /// A second handle on the same connection (e.g. to write from another
    /// thread while this one reads).
    pub fn try_clone(&self) -> Conn {
        Conn::new(self.stream.try_clone().expect("clone"))
    }

    fn new(stream: TcpStream) -> Conn {
        stream.set_nodelay(true).ok();
        stream
            .set_read_timeout(Some(REPLY_TIMEOUT))
            .expect("timeout");
        Conn { stream }
    }

    /// Our end's address (the server sees it as the peer's).
    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.stream.local_addr().expect("local address")
    }

    /// Sends bytes.
    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("send");
    }

    /// Sends bytes to a server that may close the connection meanwhile;
    /// returns whether all were sent.
    pub fn send_until_closed(&mut self, bytes: &[u8]) -> bool {
        self.stream.write_all(bytes).is_ok()
    }

    /// Reads exactly `len` bytes.
    pub fn read_exact(&mut self, len: usize) -> Vec<u8> {
        let mut buf = vec![0u8; len];
        self.stream.read_exact(&mut buf).unwrap_or_else(|err| {
            panic!("reading {len} bytes: {err}");
        });
        buf
    }

    /// Reads until the reply ends with `terminator` (e.g. `END\r\n`).
    pub fn read_until(&mut self, terminator: &[u8]) -> Vec<u8> {
        let mut reply = Vec::new();
        let mut byte = [0u8; 1];
        while !reply.ends_with(terminator) {
            match self.stream.read(&mut byte) {
                Ok(0) => panic!(
                    "connection closed after {:?}, expecting {:?}",
                    String::from_utf8_lossy(&reply),
                    String::from_utf8_lossy(terminator)
                ),
                Ok(_) => reply.push(byte[0]),
                Err(err) => panic!(
                    "{err} after {:?}, expecting {:?}",
                    String::from_utf8_lossy(&reply),
                    String::from_utf8_lossy(terminator)
                ),
            }
        }
        reply
    }

    /// Reads one `\r\n`-terminated line.
    pub fn line(&mut self) -> String {
        String::from_utf8_lossy(&self.read_until(b"\r\n")).into_owned()
    }

    /// Sends `request` and checks that the reply is exactly `expected`.
    #[track_caller]
    pub fn expect(&mut self, request: &[u8], expected: &[u8]) {
        self.send(request);
        let reply = self.read_exact(expected.len());
        assert_eq!(
            String::from_utf8_lossy(&reply),
            String::from_utf8_lossy(expected),
            "reply to {:?}",
            String::from_utf8_lossy(request)
        );
    }

    /// Asserts that nothing more arrives within a short wait (e.g. after a
    /// `noreply` command, checked with a following `mn`/`version`).
    pub fn expect_silence_then(&mut self, probe: &[u8], probe_reply: &[u8]) {
        self.expect(probe, probe_reply);
    }

    /// Whether the server closed the connection (reads EOF) within the reply
    /// timeout, discarding any bytes before it.
    pub fn is_closed_by_server(&mut self) -> bool {
        let mut buf = [0u8; 4096];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(err) if err.kind() == std::io::ErrorKind::ConnectionReset => return true,
                Err(_) => return false,
            }
        }
    }

    /// Closes our sending side.
    pub fn shutdown_write(&mut self) {
        self.stream.shutdown(Shutdown::Write).expect("shutdown");
    }

    /// Whether a byte arrives within `wait` (left unread).
    pub fn receives_within(&mut self, wait: Duration) -> bool {
        self.set_read_timeout(wait);
        let mut byte = [0u8; 1];
        let received = matches!(self.stream.peek(&mut byte), Ok(1));
        self.set_read_timeout(REPLY_TIMEOUT);
        received
    }

    /// Sets how long reads wait.
    pub fn set_read_timeout(&mut self, timeout: Duration) {
        self.stream
            .set_read_timeout(Some(timeout))
            .expect("timeout");
    }
}

/// A key owned by shard `shard` of `shards` (using corecache's slot map), so
/// tests can place keys on chosen shards.
pub fn key_on_shard(prefix: &str, shard: usize, shards: usize) -> String {
    (0..)
        .map(|i| format!("{prefix}{i}"))
        .find(|key| corecache::shard::SlotMap::new(shards).shard_of(key.as_bytes()) == shard)
        .expect("some key lands on every shard")
}
