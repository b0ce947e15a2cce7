//! The measurement behind loadgen's choice of event loop: the same closed
//! loop loadgen runs (N connections, one request in flight each, GETs of
//! random keys), driven by one glommio executor with a task per connection
//! instead of loadgen's epoll loop. Prints requests/s and this process's CPU
//! time per request, to compare with `loadgen --threads 1` on the same
//! workload (see the worker module's docs):
//!
//! ```sh
//! cargo run --release -p loadgen --example glommio_probe -- 127.0.0.1:6379 50 300000
//! ```

use std::cell::Cell;
use std::rc::Rc;
use std::time::Instant;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::TcpStream;
use glommio::{LocalExecutorBuilder, Placement};
use loadgen::protocol::{OpKind, Parse, Protocol};
use loadgen::workload::KeySpace;

fn cpu_seconds() -> f64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::uninit();
    // SAFETY: getrusage fills the struct it is given.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr());
        usage.assume_init()
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let server = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "127.0.0.1:6379".into());
    let connections: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(50);
    let requests: u64 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(300_000);
    let handle = LocalExecutorBuilder::new(Placement::Unbound)
        .spawn(move || async move {
            let left = Rc::new(Cell::new(requests));
            let keys = KeySpace::new(100_000, "key:".into(), 16).expect("valid key space");
            let (cpu, started) = (cpu_seconds(), Instant::now());
            let tasks: Vec<_> = (0..connections as u64)
                .map(|lane| {
                    let (left, keys, server) = (left.clone(), keys.clone(), server.clone());
                    glommio::spawn_local(async move {
                        let mut stream = TcpStream::connect(server.as_str()).await.expect("connect");
                        stream.set_nodelay(true).expect("nodelay");
                        let (mut out, mut key, mut input) = (Vec::new(), Vec::new(), vec![0u8; 65536]);
                        let mut next = lane.wrapping_mul(0x9E37_79B9_7F4A_7C15);
                        while left.get() > 0 {
                            left.set(left.get() - 1);
                            next = next.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                            key.clear();
                            keys.write((next >> 33) % keys.count, &mut key);
                            out.clear();
                            Protocol::Resp.encode_get(&mut out, [&key[..]].into_iter());
                            stream.write_all(&out).await.expect("write");
                            let mut filled = 0;
                            loop {
                                let n = stream.read(&mut input[filled..]).await.expect("read");
                                assert!(n > 0, "server closed");
                                filled += n;
                                match Protocol::Resp.parse(&input[..filled], OpKind::Get, 1) {
                                    Ok(Parse::Done { .. }) => break,
                                    Ok(Parse::Incomplete) => {}
                                    Err(e) => panic!("{e}"),
                                }
                            }
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await;
            }
            let (cpu, secs) = (cpu_seconds() - cpu, started.elapsed().as_secs_f64());
            println!(
                "glommio: {requests} requests in {secs:.2} s, {:.0} requests/s, {:.2} µs CPU/request",
                requests as f64 / secs,
                cpu * 1e6 / requests as f64
            );
        })
        .expect("executor");
    handle.join().expect("executor ran");
}
