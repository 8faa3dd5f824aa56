//! The server publishes the site over HTTP/1.1 with hyper: every document
//! `byline build` would write, at the same paths, plus `/healthz` and
//! `/metrics`. What it serves is a *snapshot* ([`Published`]): documents are
//! rendered when an item set is published, not per request, and kept with
//! their gzip and brotli bytes and validators, so a request is a lookup.
//!
//! It is meant to sit on loopback behind a reverse proxy and to stay up under
//! misbehaving clients: a connection must make progress (complete a request
//! head, take response bytes) within `header_timeout_secs`, request heads and
//! targets are size-limited, bodies
//! are refused, at most `max_connections` are served at once (the rest wait in
//! the kernel's backlog), and a shutdown signal lets requests in flight finish.

mod cache;
mod conn;
mod metrics;
mod published;
mod respond;
mod routes;
mod status;

pub use published::Published;
pub use status::SourceStatus;

use conn::{Held, PerAddress, Progress, WriteDeadline};

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tracing::{debug, info, warn};

/// How long requests in flight get to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// Largest request head (request line plus headers) read into memory; a
/// larger one is answered 431 by hyper. (hyper's own limit of 100 headers
/// stays: setting another makes it allocate and fill the header arrays on
/// every request, 10 % of a request's instructions.)
const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Pause after a failed accept (out of file descriptors) before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// One open connection, counted in the metrics while it lives; it holds the
/// connection's places (a `max_connections` permit, its address's count).
struct Open {
    published: Arc<Published>,
    _places: (OwnedSemaphorePermit, Held),
}

impl Open {
    fn new(published: Arc<Published>, places: (OwnedSemaphorePermit, Held)) -> Self {
        let metrics = &published.metrics;
        metrics.connections_total.fetch_add(1, Relaxed);
        metrics.connections_open.fetch_add(1, Relaxed);
        Open {
            published,
            _places: places,
        }
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.published
            .metrics
            .connections_open
            .fetch_sub(1, Relaxed);
    }
}

/// Serve `published` on `listener` until `shutdown` completes, then stop
/// accepting and give open connections [`SHUTDOWN_GRACE`] to finish.
pub async fn serve(
    listener: TcpListener,
    published: Arc<Published>,
    shutdown: impl Future<Output = ()>,
) {
    // Listening settings are the start-up config's (a reload warns when they change).
    let config = published.config();
    let server = &config.server;
    let permits = Arc::new(Semaphore::new(server.max_connections));
    // No hyper timer: the header timeout is conn::watch's, per connection.
    let mut http = http1::Builder::new();
    http.max_buf_size(MAX_HEAD_BYTES).keep_alive(true);
    let header_timeout = Duration::from_secs(server.header_timeout_secs);
    let graceful = GracefulShutdown::new();
    let write_timeout = Duration::from_secs(server.write_timeout_secs);
    let per_ip = PerAddress::new(server.max_connections_per_ip);
    tokio::pin!(shutdown);
    loop {
        // Take a permit before accepting: over the limit, clients queue in the
        // listen backlog instead of costing memory here.
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    warn!(error = %e, "accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // One peer may not take every connection (a proxy carries many).
        let Some(held) = per_ip.admit(peer.ip(), &published) else {
            debug!(%peer, "too many connections from this address; closed");
            drop(stream);
            continue;
        };
        // Responses are written whole; don't let Nagle hold back the last segment.
        let _ = stream.set_nodelay(true);
        let progress = Arc::new(Progress::default());
        let state = published.clone();
        let heads = progress.clone();
        let service = service_fn(move |req| {
            heads.made();
            std::future::ready(Ok::<_, Infallible>(respond::handle(&state, peer, req)))
        });
        let io = TokioIo::new(WriteDeadline::new(stream, write_timeout, progress.clone()));
        let connection = graceful.watch(http.serve_connection(io, service));
        // Counted open until the task ends, also when the watchdog aborts it.
        let open = Open::new(published.clone(), (permit, held));
        let task = tokio::spawn(async move {
            if let Err(e) = connection.await {
                open.published
                    .metrics
                    .connection_errors
                    .fetch_add(1, Relaxed);
                debug!(%peer, error = %e, "connection closed with an error");
            }
            drop(open);
        });
        let metrics_owner = published.clone();
        tokio::spawn(async move {
            if conn::watch(task, progress, header_timeout).await {
                metrics_owner
                    .metrics
                    .connection_errors
                    .fetch_add(1, Relaxed);
                debug!(%peer, timeout_secs = header_timeout.as_secs(), "no request or response progress; closed");
            }
        });
    }
    drop(listener);
    info!(
        connections = graceful.count(),
        "shutting down: waiting for requests in flight"
    );
    tokio::select! {
        () = graceful.shutdown() => info!("all connections closed"),
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            warn!(grace_secs = SHUTDOWN_GRACE.as_secs(), "connections still open after the grace period; closing them");
        }
    }
}

/// Run [`serve`] on a thread of its own with a single-threaded runtime, and
/// return at once; the returned handle completes when serving has stopped.
///
/// Answering a request is a lookup and a write, microseconds of work: on one
/// thread it needs no work stealing, cross-thread wake-ups or contended
/// atomics, which cost more than the work itself on a multi-threaded runtime.
/// Reading, parsing and storing stay on the main runtime and its blocking
/// pool, so they never delay a request.
pub fn serve_on_own_thread(
    listener: TcpListener,
    published: Arc<Published>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<tokio::sync::oneshot::Receiver<()>> {
    let listener = listener.into_std()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (done, stopped) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("byline-http".into())
        .spawn(move || {
            runtime.block_on(async move {
                match TcpListener::from_std(listener) {
                    Ok(listener) => serve(listener, published, shutdown).await,
                    Err(e) => warn!(error = %e, "cannot serve on the listening socket"),
                }
            });
            let _ = done.send(());
        })?;
    Ok(stopped)
}

/// Bind `addr` and say where the server listens, in the one log line tests
/// and scripts look for: `listening on http://ADDR/` (the bound address, so
/// port 0 gives the port the system chose).
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    info!("listening on http://{local}/");
    Ok(listener)
}

/// SIGHUP, the signal to read the config again: each `recv` completes on
/// the next one. Installed when called, so from then on SIGHUP no longer
/// ends the process. Never completes where there are no such signals.
pub struct Reload(#[cfg(unix)] Option<tokio::signal::unix::Signal>);

impl Reload {
    pub async fn recv(&mut self) {
        #[cfg(unix)]
        if let Some(s) = &mut self.0
            && s.recv().await.is_some()
        {
            info!("SIGHUP: reloading the config");
            return;
        }
        std::future::pending::<()>().await;
    }
}

pub fn reload_signal() -> Reload {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::hangup()) {
            Ok(s) => Reload(Some(s)),
            Err(e) => {
                warn!(error = %e, "cannot listen for SIGHUP; reload by restarting");
                Reload(None)
            }
        }
    }
    #[cfg(not(unix))]
    Reload()
}

/// Completes on Ctrl-C (SIGINT) or SIGTERM. The handlers are installed when
/// this is called, not when the future is first polled, so a signal that
/// arrives right after start-up is not lost (nor fatal).
pub fn shutdown_signal() -> impl Future<Output = ()> {
    #[cfg(unix)]
    let term = {
        use tokio::signal::unix::{SignalKind, signal};
        let installed = signal(SignalKind::terminate());
        async move {
            match installed {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(e) => {
                    warn!(error = %e, "cannot listen for SIGTERM");
                    std::future::pending::<()>().await;
                }
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    #[cfg(unix)]
    let interrupt = {
        use tokio::signal::unix::{SignalKind, signal};
        let installed = signal(SignalKind::interrupt());
        async move {
            match installed {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(e) => {
                    warn!(error = %e, "cannot listen for Ctrl-C");
                    std::future::pending::<()>().await;
                }
            }
        }
    };
    #[cfg(not(unix))]
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    async move {
        tokio::select! {
            () = interrupt => info!("interrupted: shutting down"),
            () = term => info!("SIGTERM: shutting down"),
        }
    }
}
