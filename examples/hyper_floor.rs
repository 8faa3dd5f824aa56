//! The floor of a hyper server on this machine: the least a hyper 1 server
//! on a current-thread runtime pays to send a prebuilt response, for
//! `scripts/bench-server.sh` to measure beside `byline serve` and nginx.
//!
//! It serves one feed's bytes (identity, or its gzip bytes when the request
//! accepts gzip) with prebuilt header values to every GET: no routing, no
//! cache, no conditional GET, no timers, no metrics. Whatever it costs per
//! request is hyper, tokio and the kernel's TCP path, which every
//! hyper-based server pays; the gap between it and byline is byline's own.
//!
//!     cargo run --release --example hyper_floor -- PORT FEED FEED.gz [--sendfile[=DIR]]
//!
//! `--sendfile` (Linux) keeps both bodies in a memfd, mapped read-only, and
//! sends a body with `sendfile(2)` from it instead of `writev(2)` from
//! memory: the zero-copy path nginx takes for a file, measured here to say
//! what that path would be worth (byline does not take it).
//! `--sendfile=DIR` keeps them in an unnamed file in DIR (`O_TMPFILE`)
//! instead: the file system's page cache, as nginx's file is.

use std::convert::Infallible;
use std::io;
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http_body_util::Full;
use hyper::Response;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [port, plain, gzip, rest @ ..] = args.as_slice() else {
        return Err("usage: hyper_floor PORT FEED FEED.gz [--sendfile[=DIR]]".into());
    };
    let port: u16 = port.parse()?;
    // None: writev; Some(None): a memfd; Some(Some(dir)): a file in dir.
    let sendfile = rest
        .iter()
        .find_map(|a| match a.strip_prefix("--sendfile") {
            Some("") => Some(None),
            Some(dir) => dir.strip_prefix('=').map(Some),
            None => None,
        });
    let (plain, gzip) = (std::fs::read(plain)?, std::fs::read(gzip)?);
    let spool = Arc::new(match sendfile {
        Some(dir) => vec![Mapped::new(&plain, dir)?, Mapped::new(&gzip, dir)?],
        None => Vec::new(),
    });
    let body = |data: Vec<u8>, i: usize| match spool.get(i) {
        Some(m) => Bytes::from_owner(MappedBytes(*m)),
        None => Bytes::from(data),
    };
    let bodies = Arc::new([body(plain, 0), body(gzip, 1)]);
    let heads = Arc::new([headers(None), headers(Some("gzip"))]);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        loop {
            let (stream, _) = listener.accept().await?;
            stream.set_nodelay(true)?;
            let (bodies, heads) = (bodies.clone(), heads.clone());
            let service = service_fn(move |req: hyper::Request<_>| {
                let gz = req
                    .headers()
                    .get(header::ACCEPT_ENCODING)
                    .is_some_and(|v| v.as_bytes().windows(4).any(|w| w == b"gzip"));
                let i = usize::from(gz);
                let mut response = Response::new(Full::new(bodies[i].clone()));
                *response.headers_mut() = heads[i].clone();
                std::future::ready(Ok::<_, Infallible>(response))
            });
            let io = TokioIo::new(Io {
                stream,
                spool: spool.clone(),
            });
            tokio::spawn(async move {
                let _ = http1::Builder::new().serve_connection(io, service).await;
            });
        }
    })
}

/// The header values byline sends with a feed (its length and date aside).
fn headers(encoding: Option<&'static str>) -> HeaderMap {
    let mut h = HeaderMap::new();
    let put = |h: &mut HeaderMap, k, v| h.insert(k, HeaderValue::from_static(v));
    put(
        &mut h,
        header::CONTENT_TYPE,
        "application/atom+xml; charset=utf-8",
    );
    if let Some(e) = encoding {
        put(&mut h, header::CONTENT_ENCODING, e);
    }
    put(&mut h, header::ETAG, "\"d04dc28e9da029562ba168b429212682\"");
    put(
        &mut h,
        header::LAST_MODIFIED,
        "Tue, 31 Dec 2024 12:00:00 GMT",
    );
    put(&mut h, header::CACHE_CONTROL, "public, max-age=300");
    put(&mut h, header::VARY, "Accept-Encoding");
    put(&mut h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    h
}

/// A body copied into a memfd (or an unnamed file) and mapped read-only: its
/// bytes can be sent from the file with `sendfile`. Never unmapped (the example runs until
/// killed).
#[derive(Clone, Copy)]
struct Mapped {
    fd: i32,
    ptr: usize,
    len: usize,
}

impl Mapped {
    fn new(data: &[u8], dir: Option<&str>) -> io::Result<Self> {
        let dir = dir
            .map(|d| std::ffi::CString::new(d).map_err(io::Error::other))
            .transpose()?;
        // SAFETY: plain system calls on a new descriptor; the mapping is
        // read-only and shared, and lives as long as the process.
        unsafe {
            let fd = match &dir {
                Some(d) => libc::open(
                    d.as_ptr(),
                    libc::O_TMPFILE | libc::O_RDWR | libc::O_CLOEXEC,
                    0o600,
                ),
                None => libc::memfd_create(c"hyper_floor".as_ptr(), libc::MFD_CLOEXEC),
            };
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            let written = libc::write(fd, data.as_ptr().cast(), data.len());
            if usize::try_from(written).ok() != Some(data.len()) {
                return Err(io::Error::other("short write to the memfd"));
            }
            let ptr = libc::mmap(
                std::ptr::null_mut(),
                data.len(),
                libc::PROT_READ,
                libc::MAP_SHARED,
                fd,
                0,
            );
            if ptr == libc::MAP_FAILED {
                return Err(io::Error::last_os_error());
            }
            Ok(Mapped {
                fd,
                ptr: ptr as usize,
                len: data.len(),
            })
        }
    }

    /// Where `slice` starts in the file, if it lies inside this mapping.
    fn offset_of(&self, slice: &[u8]) -> Option<libc::off_t> {
        let start = slice.as_ptr() as usize;
        (!slice.is_empty() && start >= self.ptr && start + slice.len() <= self.ptr + self.len)
            .then(|| libc::off_t::try_from(start - self.ptr).ok())
            .flatten()
    }
}

struct MappedBytes(Mapped);

impl AsRef<[u8]> for MappedBytes {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: the mapping is PROT_READ, `len` long and never unmapped.
        unsafe { std::slice::from_raw_parts(self.0.ptr as *const u8, self.0.len) }
    }
}

/// The connection: writes go to the socket as they are, except a body from
/// the spool, which goes with `sendfile` after the slices before it (the
/// head, sent with MSG_MORE so it leaves in the same segment).
struct Io {
    stream: TcpStream,
    spool: Arc<Vec<Mapped>>,
}

impl AsyncRead for Io {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Io {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let found = bufs.iter().enumerate().find_map(|(i, b)| {
            self.spool
                .iter()
                .find_map(|m| m.offset_of(b).map(|off| (i, m.fd, off)))
        });
        let Some((i, file, offset)) = found else {
            return Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        };
        let socket = self.stream.as_raw_fd();
        loop {
            ready!(self.stream.poll_write_ready(cx))?;
            let sent = self.stream.try_io(Interest::WRITABLE, || {
                send_with_file(socket, &bufs[..i], file, offset, bufs[i].len())
            });
            match sent {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                other => return Poll::Ready(other),
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// `head` with `sendmsg(MSG_MORE)`, then `len` bytes of `file` from
/// `offset` with `sendfile`; returns the bytes sent, as a write would.
fn send_with_file(
    socket: i32,
    head: &[io::IoSlice<'_>],
    file: i32,
    mut offset: libc::off_t,
    len: usize,
) -> io::Result<usize> {
    let head_len: usize = head.iter().map(|b| b.len()).sum();
    let mut sent = 0;
    if head_len > 0 {
        // SAFETY: IoSlice is ABI-compatible with iovec; the message only
        // borrows `head` for the call.
        let n = unsafe {
            let mut msg: libc::msghdr = std::mem::zeroed();
            msg.msg_iov = head.as_ptr() as *mut libc::iovec;
            msg.msg_iovlen = head.len();
            libc::sendmsg(socket, &msg, libc::MSG_MORE | libc::MSG_NOSIGNAL)
        };
        sent = usize::try_from(n).map_err(|_| io::Error::last_os_error())?;
        if sent < head_len {
            return Ok(sent);
        }
    }
    // SAFETY: both descriptors are open; `offset` is ours.
    let n = unsafe { libc::sendfile(socket, file, &mut offset, len) };
    match usize::try_from(n) {
        Ok(n) => Ok(sent + n),
        Err(_) if sent > 0 => Ok(sent),
        Err(_) => Err(io::Error::last_os_error()),
    }
}
