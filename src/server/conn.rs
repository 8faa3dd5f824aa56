//! Connection hygiene: what one client can hold. A *deadline* closes a
//! connection whose response cannot be written for too long (a client that
//! pipelines requests and never reads would otherwise keep its connection,
//! and its place among `max_connections`, forever); a *watchdog* closes one
//! that makes no *progress* (no request head completed, no response bytes
//! written) for `header_timeout_secs`: a client sending its headers a byte at
//! a time, or an idle keep-alive connection; a *per-address* count keeps one
//! peer from taking every connection.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::task::JoinHandle;
use tokio::time::Sleep;

use super::Published;

/// How far one connection has got: request heads completed plus writes
/// that made progress, and whether a write waits on the client (then the
/// write deadline, not the watchdog, decides). Its task counts; its
/// [`watch`] reads.
#[derive(Default)]
pub(crate) struct Progress {
    made: AtomicU64,
    writing: AtomicBool,
}

impl Progress {
    pub(crate) fn made(&self) {
        self.made.fetch_add(1, Relaxed);
    }
}

/// Close the connection served by `task` once it has made no [`Progress`]
/// for `timeout` (checked every quarter of it, so after at most 1.25 times
/// it) with no write waiting on the client; return when the task ends,
/// however it ends. Returns whether it closed the connection.
///
/// This replaces hyper's `header_read_timeout`, which starts a timer per
/// request: about 900 instructions of the 12,400 a cached feed costs. Here a
/// request costs one counter increment, and the timer is per connection.
pub(crate) async fn watch(
    mut task: JoinHandle<()>,
    progress: Arc<Progress>,
    timeout: Duration,
) -> bool {
    let period = (timeout / 4).max(Duration::from_millis(1));
    let mut seen = progress.made.load(Relaxed);
    let mut still = Duration::ZERO;
    loop {
        tokio::select! {
            _ = &mut task => return false,
            () = tokio::time::sleep(period) => {}
        }
        let now = progress.made.load(Relaxed);
        if now == seen && !progress.writing.load(Relaxed) {
            still += period;
            if still >= timeout {
                task.abort();
                return true;
            }
        } else {
            seen = now;
            still = Duration::ZERO;
        }
    }
}

/// An I/O stream whose writes fail once they have made no progress for
/// `timeout`, and which counts the writes that do in a [`Progress`].
pub(crate) struct WriteDeadline<T> {
    inner: T,
    timeout: Duration,
    /// Armed while a write is pending.
    timer: Option<Pin<Box<Sleep>>>,
    progress: Arc<Progress>,
}

impl<T> WriteDeadline<T> {
    pub(crate) fn new(inner: T, timeout: Duration, progress: Arc<Progress>) -> Self {
        WriteDeadline {
            inner,
            timeout,
            timer: None,
            progress,
        }
    }

    /// After a write returned `poll`: disarm on progress, arm (or check)
    /// the deadline while pending.
    fn watch<R>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<R>>) -> Poll<io::Result<R>> {
        match poll {
            Poll::Ready(r) => {
                if self.timer.take().is_some() {
                    self.progress.writing.store(false, Relaxed);
                }
                self.progress.made();
                Poll::Ready(r)
            }
            Poll::Pending => {
                let timeout = self.timeout;
                let progress = &self.progress;
                let timer = self.timer.get_or_insert_with(|| {
                    progress.writing.store(true, Relaxed);
                    Box::pin(tokio::time::sleep(timeout))
                });
                match timer.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the client stopped reading",
                    ))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for WriteDeadline<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WriteDeadline<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.watch(cx, poll)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.watch(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.inner).poll_flush(cx);
        self.watch(cx, poll)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Open connections per client address.
#[derive(Clone)]
pub(crate) struct PerAddress {
    limit: usize,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// One admitted connection; dropping it gives the place back.
pub(crate) struct Held {
    ip: Option<IpAddr>,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl PerAddress {
    pub(crate) fn new(limit: usize) -> Self {
        PerAddress {
            limit,
            open: Arc::default(),
        }
    }

    /// A place for a connection from `ip`, or `None` when it holds the
    /// limit already. Trusted proxies are not counted.
    pub(crate) fn admit(&self, ip: IpAddr, published: &Published) -> Option<Held> {
        let ip = ip.to_canonical();
        if published
            .snapshot()
            .settings
            .config
            .server
            .trusted_proxies
            .iter()
            .any(|r| r.contains(ip))
        {
            return Some(Held {
                ip: None,
                open: self.open.clone(),
            });
        }
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let n = open.entry(ip).or_default();
        if *n >= self.limit {
            return None;
        }
        *n += 1;
        Some(Held {
            ip: Some(ip),
            open: self.open.clone(),
        })
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let Some(ip) = self.ip else { return };
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = open.get_mut(&ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&ip);
            }
        }
    }
}
