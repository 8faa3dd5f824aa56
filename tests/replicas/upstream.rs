//! The upstream host the replicas share: listings by generation, each
//! answered late, with a log of every request.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{AUTHORS, SHOWN, SOURCES, http_server, now_ms};

pub(crate) fn title(source: usize, generation: usize) -> String {
    format!("Harbour report number {generation} from correspondent desk {source}")
}

/// Listing `source` at `generation`: the newest [`SHOWN`] generations'
/// stories, newest first, one a day.
pub(crate) fn listing(source: usize, generation: usize) -> String {
    let stories: Vec<http_server::Story> = (generation.saturating_sub(SHOWN - 1)..=generation)
        .rev()
        .map(|g| {
            let t = title(source, g);
            http_server::Story::new(
                &t,
                &format!("What the desk saw in {t}, in some detail."),
                AUTHORS[source % AUTHORS.len()],
                &format!("May {}, 2022", g + 1),
            )
        })
        .collect();
    http_server::dump("May 30, 2022", &stories)
}

/// One request the upstream saw.
#[derive(Debug, Clone)]
pub(crate) struct Req {
    pub(crate) path: String,
    /// Wall-clock ms, comparable with the leases' `expires`.
    pub(crate) start: i64,
    pub(crate) end: Option<i64>,
    pub(crate) generation: usize,
    pub(crate) status: u16,
    /// The client went away before the answer.
    pub(crate) aborted: bool,
}

#[derive(Default)]
pub(crate) struct Up {
    pub(crate) generation: usize,
    /// The next request for this path waits this long.
    pub(crate) slow: Option<(String, Duration)>,
    pub(crate) log: Vec<Req>,
    pub(crate) in_flight: usize,
    pub(crate) max_in_flight: usize,
}

/// An upstream host serving `/s0`..`/s49` at the current generation, each
/// answer 30-80 ms late, with ETags (a refetch of an unchanged listing is a
/// 304), counting what is in flight at once.
#[derive(Clone)]
pub(crate) struct Upstream {
    pub(crate) port: u16,
    pub(crate) state: Arc<Mutex<Up>>,
}

impl Upstream {
    pub(crate) async fn start() -> Upstream {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let up = Upstream {
            port,
            state: Arc::default(),
        };
        let state = up.state.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                tokio::spawn(answer(stream, state.clone()));
            }
        });
        up
    }

    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, Up> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn log(&self) -> Vec<Req> {
        self.lock().log.clone()
    }
}

pub(crate) async fn answer(mut stream: tokio::net::TcpStream, state: Arc<Mutex<Up>>) {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let inm = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case("if-none-match")
                .then(|| v.trim().to_owned())
        })
        .unwrap_or_default();
    let source = path
        .strip_prefix("/s")
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|&n| n < SOURCES);
    let (index, generation, delay) = {
        let mut up = state.lock().unwrap_or_else(|p| p.into_inner());
        up.in_flight += 1;
        up.max_in_flight = up.max_in_flight.max(up.in_flight);
        let delay = match up.slow.take() {
            Some((p, d)) if p == path => d,
            other => {
                up.slow = other;
                Duration::from_millis(fastrand::u64(30..=80))
            }
        };
        let generation = up.generation;
        up.log.push(Req {
            path: path.clone(),
            start: now_ms(),
            end: None,
            generation,
            status: 0,
            aborted: false,
        });
        (up.log.len() - 1, generation, delay)
    };
    // Wait, unless the client goes away meanwhile (a killed replica): then
    // this request is no longer in flight.
    let mut probe = [0u8; 64];
    let aborted = tokio::select! {
        () = tokio::time::sleep(delay) => false,
        r = stream.read(&mut probe) => matches!(r, Ok(0) | Err(_)),
    };
    let mut status = 0;
    if !aborted {
        let (code, reply) = match source {
            Some(n) => {
                let body = listing(n, generation);
                let etag = format!("\"g{generation}\"");
                if inm.split(',').any(|v| v.trim() == etag) {
                    (
                        304,
                        format!(
                            "HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nConnection: close\r\n\r\n"
                        ),
                    )
                } else {
                    (
                        200,
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nETag: {etag}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        ),
                    )
                }
            }
            None => (
                404,
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_owned(),
            ),
        };
        if stream.write_all(reply.as_bytes()).await.is_ok() {
            status = code;
        }
        let _ = stream.shutdown().await;
    }
    let mut up = state.lock().unwrap_or_else(|p| p.into_inner());
    up.in_flight -= 1;
    let req = &mut up.log[index];
    req.end = Some(now_ms());
    req.status = status;
    req.aborted = aborted || status == 0;
}

/// Per path: how many requests, and the gaps between them (s).
pub(crate) fn request_table(log: &[Req]) -> String {
    let mut by_path: BTreeMap<&str, Vec<&Req>> = BTreeMap::new();
    for r in log {
        by_path.entry(&r.path).or_default().push(r);
    }
    let t0 = log.first().map_or(0, |r| r.start);
    by_path
        .iter()
        .map(|(p, rs)| {
            let at: Vec<String> = rs
                .iter()
                .map(|r| {
                    format!(
                        "{:.2}s(g{} {}{})",
                        (r.start - t0) as f64 / 1000.0,
                        r.generation,
                        r.status,
                        if r.aborted { " aborted" } else { "" }
                    )
                })
                .collect();
            format!("  {p}: {} requests at {}", rs.len(), at.join(" "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}
