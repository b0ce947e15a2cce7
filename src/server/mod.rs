//! The server: listeners, one pinned glommio executor per shard, start-up
//! checks with one clear line per problem, and shutdown on SIGINT/SIGTERM.
//!
//! Start-up order: raise the resource limits we can (locked memory for
//! io_uring, descriptors for `--max-connections`), bind every port (so that
//! "address in use" is reported before anything runs), start the executors,
//! and wait until every shard has set up its ring. Then the main thread only
//! waits for a signal.

mod blocking;
mod clients;
mod coalesce;
mod connection;
mod delayed;
mod limits;
mod listener;
mod memcache;
mod multi;
mod output;
mod pause;
mod pubsub;
mod resp;
mod shared;
mod slowlog;
mod stats_view;
mod txn;
mod uring;
mod watchdog;
mod worker;

use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use glommio::channels::channel_mesh::MeshBuilder;
use glommio::{LocalExecutorBuilder, Placement};

pub use listener::Protocol;

use crate::config::Settings;
use crate::shard::mesh::{Mesh, MeshCounters, ShardMessage};
use listener::{bind_all, ListenError, Listener};
use shared::Shared;
use worker::{Worker, WorkerError};

/// Messages a shard may have queued to one peer before the peer drains them.
const MESH_CHANNEL_SIZE: usize = 1024;

/// Memory glommio registers for its own file I/O (we do none on the data
/// path); small, so that many shards fit the default locked-memory limit.
const GLOMMIO_IO_MEMORY: usize = 64 * 1024;

/// How often glommio preempts a busy shard to run its timers and reactor.
const PREEMPT_TIMER: Duration = Duration::from_millis(1);

/// Why the server could not start (or stopped with an error).
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Listen(#[from] ListenError),
    #[error(transparent)]
    Limits(#[from] limits::LimitError),
    #[error("cannot start worker thread {shard}: {message}")]
    Executor { shard: usize, message: String },
    #[error("shard {shard}: {source}")]
    Worker { shard: usize, source: WorkerError },
    #[error("cannot install signal handlers: {0}")]
    Signals(std::io::Error),
    #[error("cannot start the watchdog thread: {0}")]
    Watchdog(std::io::Error),
}

/// Runs the server until SIGINT or SIGTERM, then stops gracefully.
pub fn run(mut settings: Settings) -> Result<(), ServerError> {
    let threads = settings.threads;
    let adjusted = limits::raise(&mut settings)?;
    if let Some(note) = adjusted {
        eprintln!("corecache: {note}");
    }
    let mut per_shard: Vec<Vec<Listener>> = (0..threads).map(|_| Vec::new()).collect();
    for (protocol, port) in [
        (Protocol::Memcache, settings.memcache_port),
        (Protocol::Resp, settings.resp_port),
    ] {
        if let Some(port) = port {
            for (shard, listener) in bind_all(protocol, settings.bind, port, threads)?
                .into_iter()
                .enumerate()
            {
                per_shard[shard].push(listener);
            }
        }
    }
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
    ])
    .map_err(ServerError::Signals)?;

    let shared = Arc::new(Shared::new(settings));
    // Before the executors: joining the mesh can lose a wake-up too.
    watchdog::spawn(shared.clone()).map_err(ServerError::Watchdog)?;
    let mesh =
        (threads > 1).then(|| MeshBuilder::<ShardMessage, _>::full(threads, MESH_CHANNEL_SIZE));
    let counters = Arc::new(MeshCounters::new(threads));
    let (ready_tx, ready_rx) = mpsc::channel::<Result<(), (usize, WorkerError)>>();
    let mut handles = Vec::with_capacity(threads);
    for (shard, listeners) in per_shard.into_iter().enumerate() {
        let shared = shared.clone();
        let mesh = mesh.clone();
        let counters = counters.clone();
        let ready = ready_tx.clone();
        let cpu = shared.settings.cpu_for(shard);
        let handle = LocalExecutorBuilder::new(Placement::Fixed(cpu))
            .name(&format!("shard-{shard}"))
            .io_memory(GLOMMIO_IO_MEMORY)
            .preempt_timer(PREEMPT_TIMER)
            .spawn(move || {
                async move {
                    // glommio can park before this first poll (seen under
                    // heavy load); the watchdog then finds the thread by
                    // its name to kick it.
                    shared.heartbeats()[shard].register_thread();
                    // This task runs the shard from the mesh join to the end:
                    // its waker is what the mesh and the watchdog wake.
                    let task =
                        std::future::poll_fn(|cx| std::task::Poll::Ready(cx.waker().clone())).await;
                    shared.heartbeats()[shard].register(task.clone());
                    let mesh = match mesh {
                        Some(builder) => match join_mesh(builder, shared.clone(), shard).await {
                            Ok((senders, receivers)) => {
                                Mesh::new(senders, receivers, counters, task)
                            }
                            Err(err) => {
                                let err = WorkerError::Mesh(err.to_string());
                                let _ = ready.send(Err((shard, err)));
                                return Ok(());
                            }
                        },
                        None => Mesh::single(),
                    };
                    // Setting up runs straight through (no await); its system
                    // calls are not all ready for EINTR, so no kicks meanwhile.
                    let heartbeat = &shared.heartbeats()[shard];
                    heartbeat.set_kickable(false);
                    let worker = Worker::new(shard, listeners, mesh, shared.clone());
                    heartbeat.set_kickable(true);
                    let worker = match worker {
                        Ok(worker) => worker,
                        Err(err) => {
                            let _ = ready.send(Err((shard, err)));
                            return Ok(());
                        }
                    };
                    let _ = ready.send(Ok(()));
                    drop(ready);
                    worker.run().await.map_err(|err| (shard, err))
                }
            })
            .map_err(|err| ServerError::Executor {
                shard,
                message: err.to_string(),
            })?;
        handles.push(handle);
    }
    drop(ready_tx);

    // Wait until every shard is up, or the first fails.
    let mut started = 0;
    let mut failure = None;
    while started < threads {
        match ready_rx.recv() {
            Ok(Ok(())) => started += 1,
            Ok(Err((shard, source))) => {
                failure = Some(ServerError::Worker { shard, source });
                break;
            }
            // A thread ended without a word: its executor failed to start.
            Err(_) => break,
        }
    }
    if failure.is_some() || started < threads {
        shared.stop();
        let mut errors = join_all(handles);
        return Err(failure.unwrap_or_else(|| {
            errors.pop().unwrap_or(ServerError::Executor {
                shard: 0,
                message: "a worker thread exited during start-up".into(),
            })
        }));
    }

    announce(&shared.settings);

    // Running. The first signal stops gracefully; a second one exits at once.
    let stop_requested = signals.forever().next().is_some();
    if stop_requested {
        shared.stop();
        std::thread::spawn(move || {
            if signals.forever().next().is_some() {
                eprintln!("corecache: second signal, exiting now");
                std::process::exit(1);
            }
        });
    }
    let mut errors = join_all(handles);
    match errors.pop() {
        Some(err) => Err(err),
        None => Ok(()),
    }
}

/// Says where the server listens, once every shard is up (tests and
/// scripts wait for this line).
fn announce(settings: &Settings) {
    use std::io::Write;
    let mut line = format!(
        "corecache {} ready: {} thread(s)",
        crate::VERSION,
        settings.threads
    );
    if let Some(port) = settings.memcache_port {
        line.push_str(&format!(", memcached protocol on {}:{port}", settings.bind));
    }
    if let Some(port) = settings.resp_port {
        line.push_str(&format!(", RESP on {}:{port}", settings.bind));
    }
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "{line}");
    let _ = stdout.flush();
}

/// Joins glommio's channel mesh.
///
/// glommio's channel handshake re-checks whether the peer has connected only
/// when the executor's reactor turns, and a peer connecting does not wake
/// it: an executor that parks mid-handshake can sleep forever (seen with 5
/// and 8 shards). A timer ticking until the join completes keeps every
/// executor turning, and beats the shard's heartbeat so that the watchdog
/// wakes an executor that glommio parked with the ticker runnable.
async fn join_mesh(
    builder: MeshBuilder<ShardMessage, glommio::channels::channel_mesh::Full>,
    shared: Arc<Shared>,
    shard: usize,
) -> Result<
    (
        glommio::channels::channel_mesh::Senders<ShardMessage>,
        glommio::channels::channel_mesh::Receivers<ShardMessage>,
    ),
    glommio::GlommioError<()>,
> {
    let joined = std::rc::Rc::new(std::cell::Cell::new(false));
    let ticking = joined.clone();
    let ticker = glommio::spawn_local(async move {
        let mut ticks = 0;
        while !ticking.get() {
            glommio::timer::sleep(Duration::from_millis(1)).await;
            ticks += 1;
            shared.heartbeats()[shard].beat(ticks);
        }
    });
    let result = builder.join().await;
    joined.set(true);
    ticker.await;
    result
}

/// Joins every executor thread; returns the errors they ended with.
fn join_all(
    handles: Vec<glommio::ExecutorJoinHandle<Result<(), (usize, WorkerError)>>>,
) -> Vec<ServerError> {
    let mut errors = Vec::new();
    for (shard, handle) in handles.into_iter().enumerate() {
        match handle.join() {
            Ok(Ok(())) => {}
            Ok(Err((shard, source))) => errors.push(ServerError::Worker { shard, source }),
            Err(err) => errors.push(ServerError::Executor {
                shard,
                message: err.to_string(),
            }),
        }
    }
    errors
}
