//! A scripted HTTP/1.1 server on 127.0.0.1 for refresh tests and benchmarks.
//!
//! Each path has a script of replies: they are given in order, and the last
//! one repeats. Replies can misbehave the ways upstream servers do (hang,
//! drip, lie about their length, redirect in a loop). One request per
//! connection (`Connection: close`), which keeps the parsing trivial. The
//! server counts what it answered so tests can tell a 304 from a full body.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with validators; a request whose `If-None-Match` matches the etag
    /// (or whose `If-Modified-Since` equals the date) gets a 304.
    Page {
        body: Vec<u8>,
        content_type: String,
        etag: Option<String>,
        last_modified: Option<String>,
    },
    /// Any status, extra headers and body.
    Status {
        code: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Accept, read the request, never answer.
    Hang,
    /// Headers at once, then the body one byte per `every`.
    Drip { body: Vec<u8>, every: Duration },
    /// Claim `claimed` bytes, send `body`, close.
    Truncated { claimed: usize, body: Vec<u8> },
    /// A chunked body with no Content-Length.
    Chunked { body: Vec<u8> },
    /// Wait, then give the reply.
    Delayed(Duration, Box<Reply>),
}

impl Reply {
    /// A text page with a strong ETag derived from its bytes.
    pub fn text(body: impl Into<Vec<u8>>) -> Reply {
        let body = body.into();
        let etag = format!("\"{:x}\"", fnv(&body));
        Reply::Page {
            body,
            content_type: "text/plain; charset=utf-8".to_owned(),
            etag: Some(etag),
            last_modified: None,
        }
    }

    pub fn status(code: u16) -> Reply {
        Reply::Status {
            code,
            headers: Vec::new(),
            body: format!("status {code}\n").into_bytes(),
        }
    }
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100000001b3)
    })
}

/// What the server saw and answered, per path.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    pub requests: usize,
    /// 200s with a full body.
    pub bodies: usize,
    pub not_modified: usize,
    /// The `User-Agent` of the last request.
    pub user_agent: Option<String>,
}

#[derive(Default)]
struct State {
    scripts: HashMap<String, Vec<Reply>>,
    counts: HashMap<String, Counts>,
    /// Requests being answered now, and the most there ever were at once.
    in_flight: usize,
    max_in_flight: usize,
}

/// Counts a request out of `in_flight` however its answer ends.
struct InFlight(Arc<Mutex<State>>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut state = self.0.lock().unwrap_or_else(|p| p.into_inner());
        state.in_flight = state.in_flight.saturating_sub(1);
    }
}

/// A running server; dropped with the runtime that runs it.
#[derive(Clone)]
pub struct TestServer {
    pub port: u16,
    state: Arc<Mutex<State>>,
}

impl TestServer {
    /// Bind 127.0.0.1 on a free port and serve until the runtime ends.
    pub async fn start() -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("local addr").port();
        let server = TestServer {
            port,
            state: Arc::default(),
        };
        let state = server.state.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = state.clone();
                tokio::spawn(async move {
                    let _ = handle(stream, state, port).await;
                });
            }
        });
        server
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Answer `path` with `replies` in order, the last one repeating.
    pub fn script(&self, path: &str, replies: Vec<Reply>) {
        let mut state = self.state.lock().unwrap();
        state.scripts.insert(path.to_owned(), replies);
    }

    pub fn set(&self, path: &str, reply: Reply) {
        self.script(path, vec![reply]);
    }

    /// The most requests the server was answering at one time.
    pub fn max_in_flight(&self) -> usize {
        self.state.lock().unwrap().max_in_flight
    }

    pub fn counts(&self, path: &str) -> Counts {
        let state = self.state.lock().unwrap();
        state.counts.get(path).cloned().unwrap_or_default()
    }
}

async fn handle(mut stream: TcpStream, state: Arc<Mutex<State>>, port: u16) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
        if head.len() > 64 * 1024 {
            return Ok(());
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut lines = head.split("\r\n");
    let path = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("/")
        .to_owned();
    let mut headers: HashMap<String, String> = HashMap::new();
    for line in lines {
        if let Some((k, v)) = line.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let reply = {
        let mut state = state.lock().unwrap();
        state.in_flight += 1;
        state.max_in_flight = state.max_in_flight.max(state.in_flight);
        let counts = state.counts.entry(path.clone()).or_default();
        counts.requests += 1;
        counts.user_agent = headers.get("user-agent").cloned();
        let reply = match state.scripts.get_mut(&path) {
            Some(script) if script.len() > 1 => Some(script.remove(0)),
            Some(script) => script.first().cloned(),
            None => None,
        };
        reply.unwrap_or_else(|| Reply::status(404))
    };
    let _in_flight = InFlight(state.clone());
    let mut reply = reply;
    while let Reply::Delayed(wait, inner) = reply {
        tokio::time::sleep(wait).await;
        reply = *inner;
    }
    let count = |f: fn(&mut Counts)| {
        let mut state = state.lock().unwrap();
        f(state.counts.entry(path.clone()).or_default());
    };
    match reply {
        Reply::Page {
            body,
            content_type,
            etag,
            last_modified,
        } => {
            let fresh = match (&etag, headers.get("if-none-match")) {
                (Some(e), Some(inm)) => inm.split(',').any(|v| v.trim() == e),
                _ => match (&last_modified, headers.get("if-modified-since")) {
                    (Some(lm), Some(ims)) => lm == ims,
                    _ => false,
                },
            };
            let mut extra = String::new();
            if let Some(e) = &etag {
                extra.push_str(&format!("ETag: {e}\r\n"));
            }
            if let Some(lm) = &last_modified {
                extra.push_str(&format!("Last-Modified: {lm}\r\n"));
            }
            if fresh {
                count(|c| c.not_modified += 1);
                let head = format!("HTTP/1.1 304 Not Modified\r\n{extra}Connection: close\r\n\r\n");
                stream.write_all(head.as_bytes()).await?;
            } else {
                count(|c| c.bodies += 1);
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n",
                    body.len()
                );
                stream.write_all(head.as_bytes()).await?;
                stream.write_all(&body).await?;
            }
        }
        Reply::Status {
            code,
            headers,
            body,
        } => {
            let mut extra = String::new();
            for (k, v) in headers {
                let v = v.replace("{port}", &port.to_string());
                extra.push_str(&format!("{k}: {v}\r\n"));
            }
            let head = format!(
                "HTTP/1.1 {code} Scripted\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(&body).await?;
        }
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        Reply::Drip { body, every } => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).await?;
            for b in body {
                stream.write_all(&[b]).await?;
                stream.flush().await?;
                tokio::time::sleep(every).await;
            }
        }
        Reply::Truncated { claimed, body } => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {claimed}\r\nConnection: close\r\n\r\n"
            );
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(&body).await?;
        }
        Reply::Chunked { body } => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
            stream.write_all(head.as_bytes()).await?;
            for chunk in body.chunks(8192) {
                stream
                    .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                    .await?;
                stream.write_all(chunk).await?;
                stream.write_all(b"\r\n").await?;
            }
            stream.write_all(b"0\r\n\r\n").await?;
        }
        Reply::Delayed(..) => unreachable!("unwrapped above"),
    }
    stream.shutdown().await
}

/// One story of a generated dump.
#[derive(Debug, Clone)]
pub struct Story {
    pub title: String,
    pub summary: String,
    pub author: String,
    /// "May 20, 2022"
    pub date: String,
}

impl Story {
    pub fn new(title: &str, summary: &str, author: &str, date: &str) -> Story {
        Story {
            title: title.to_owned(),
            summary: summary.to_owned(),
            author: author.to_owned(),
            date: date.to_owned(),
        }
    }
}

/// A text dump in the shape of the seed dumps: capture date, tagline, then
/// title / summary / "Author Date" blocks.
pub fn dump(captured: &str, stories: &[Story]) -> String {
    let mut out = format!("{captured}\n\n\nLatest news from our correspondents\n\n");
    for s in stories {
        out.push_str(&format!(
            "{}\n\n{}\n\n{} {}\n\n",
            s.title, s.summary, s.author, s.date
        ));
    }
    out
}

/// One of 300 plausible names ("Mina Park"): the text adapter reads a
/// byline as a name followed by a date.
pub fn writer(n: usize) -> String {
    const FIRST: [&str; 20] = [
        "Ann", "Bo", "Chae", "Dara", "Eun", "Farid", "Gwen", "Hana", "Ivo", "Jin", "Kofi", "Lena",
        "Mina", "Nora", "Omar", "Pia", "Quinn", "Rosa", "Sven", "Tae",
    ];
    const LAST: [&str; 15] = [
        "Kim", "Lee", "Park", "Choi", "Jung", "Kang", "Cho", "Yoon", "Jang", "Lim", "Han", "Oh",
        "Seo", "Shin", "Kwon",
    ];
    format!("{} {}", FIRST[n % 20], LAST[(n / 20) % 15])
}
