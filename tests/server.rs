//! `byline serve` as readers and proxies see it: the real binary on
//! 127.0.0.1, the fixtures as sources, requests over TCP.
//!
//! Every test starts its own server on port 0 and learns the port from the
//! `listening on http://ADDR/` log line.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

/// Fixture helpers, as in `tests/common` (kept here so this file stands alone).
#[path = "support/serve.rs"]
mod support_serve;
mod common {
    use std::path::{Path, PathBuf};

    pub fn fixtures() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
    }

    /// `expected/NAME.json`, parsed.
    pub fn expected(name: &str) -> serde_json::Value {
        let path = fixtures().join("expected").join(name);
        let text = std::fs::read_to_string(&path).unwrap();
        serde_json::from_str(&text).unwrap()
    }
}

/// A running `byline serve`; killed when dropped.
struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`
    root: String,
    addr: String,
    log: support_serve::Log,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Serve the fixtures (two text dumps, an RSS and an Atom feed) with
    /// `base_url` and extra `[server]` keys.
    fn start(base_url: &str, server_keys: &str) -> Server {
        let fixtures = common::fixtures();
        let f = |p: &str| fixtures.join(p).display().to_string();
        let config = format!(
            r#"title = "Test feeds"
base_url = "{base_url}"

[server]
cache_max_age = 120
header_timeout_secs = 1
{server_keys}

[[source]]
name = "nknews"
kind = "text"
title = "NK News"
link = "https://www.nknews.org/"
timezone = "Asia/Seoul"
inputs = [
  {{ file = "{t1}", url = "https://www.nknews.org/category/news/page/2/", captured = "2021-03-04" }},
  "{t2}",
]

[[source]]
name = "monitor"
kind = "feed"
inputs = ["{rss}"]

[[source]]
name = "tracker"
kind = "feed"
inputs = ["{atom}"]

[[feed]]
name = "tagged"
title = "Tagged stories"
tags = ["{tag}"]
"#,
            tag = tagged_author().0,
            t1 = f("text/nknews-2021-03-04.txt"),
            t2 = f("text/nknews-2022-05-21.txt"),
            rss = f("html/other-source.rss"),
            atom = f("html/other-source.atom"),
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("feeds.toml");
        std::fs::write(&path, config).unwrap();
        Server::spawn(&path, dir)
    }

    fn spawn(config: &Path, dir: tempfile::TempDir) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_byline"))
            .args(["serve", "--config"])
            .arg(config)
            .args(["--listen", "127.0.0.1:0"])
            .env("NO_COLOR", "1")
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (root, log) = support_serve::listening_logged(&mut child);
        let addr = root.trim_start_matches("http://").to_owned();
        support_serve::wait_ready(&root);
        Server {
            child,
            root,
            addr,
            log,
            _dir: dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.root)
    }

    fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client that shows responses as sent: no automatic decompression.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .no_deflate()
        .build()
        .unwrap()
}

async fn get(url: &str) -> reqwest::Response {
    client().get(url).send().await.unwrap()
}

async fn json(url: &str) -> Value {
    let r = get(url).await;
    assert_eq!(r.status(), StatusCode::OK, "{url}");
    serde_json::from_slice(&r.bytes().await.unwrap()).unwrap()
}

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// Send raw bytes and read the whole answer (the server closes or times out).
fn raw(addr: &str, request: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

fn split_response(bytes: &[u8]) -> (String, Vec<u8>) {
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response head");
    (
        String::from_utf8_lossy(&bytes[..end]).into_owned(),
        bytes[end + 4..].to_vec(),
    )
}

/// A tag from the fixtures (the 2022 dump labels some stories) and an author
/// of one of its stories, as (tag name, author name).
fn tagged_author() -> (String, String) {
    let expected = common::expected("nknews-2022-05-21.json");
    let item = expected["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| !i["tags"].as_array().unwrap().is_empty())
        .expect("a tagged item in the fixture");
    (
        item["tags"][0].as_str().unwrap().to_owned(),
        item["authors"][0].as_str().unwrap().to_owned(),
    )
}

fn slug(name: &str) -> String {
    byline::model::slugify(name)
}

fn item_titles(feed: &Value) -> Vec<String> {
    feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_owned())
        .collect()
}

fn has(list: &Value, key: Option<&str>, want: &str) -> bool {
    list.as_array().is_some_and(|a| {
        a.iter()
            .any(|v| key.map_or(v, |k| &v[k]).as_str() == Some(want))
    })
}

#[path = "server/connections.rs"]
mod connections;
#[path = "server/documents.rs"]
mod documents;
#[path = "server/status.rs"]
mod status;
#[path = "server/views.rs"]
mod views;
