//! Hostile upstreams and damaged state (issue 11): what a bad page, a bad
//! url or a damaged store can do to byline. Everything on 127.0.0.1.

#[path = "support/http_server.rs"]
mod http_server;
#[path = "support/serve.rs"]
mod support_serve;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use byline::config::Config;
use byline::fetch::{FetchOptions, Fetcher};
use byline::read::{Stage, read_source};
use http_server::{Reply, TestServer};
use support_serve::{Serve, serve as serve_in};

/// Tests that measure time or CPU run one at a time: the others would be
/// load beside them.
static TIMED: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn timed() -> std::sync::MutexGuard<'static, ()> {
    TIMED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn config(dir: &Path, text: &str) -> Config {
    let path = dir.join("feeds.toml");
    std::fs::write(&path, text).expect("config");
    Config::load(&path).expect("config loads")
}

/// A page nesting `n` elements, the way a broken or hostile page does.
fn deep_page(n: usize) -> String {
    format!(
        "<html><body>{}<article class=\"c\"><h2><a href=\"/s/1\">A story among deep markup</a></h2></article>{}</body></html>",
        "<div>".repeat(n),
        "</div>".repeat(n)
    )
}

fn serve(dir: &Path) -> Serve {
    serve_in(dir, &[], "info,byline::access=off")
}

/// A config serving the 2021 dump, with extra `[server]` keys.
fn dump_config(dir: &Path, server_keys: &str) {
    let dump =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/text/nknews-2021-03-04.txt");
    config(
        dir,
        &format!(
            "[server]\nrefresh_interval_secs = 0\n{server_keys}\n\
             [[source]]\nname = \"dump\"\nkind = \"text\"\ntimezone = \"Asia/Seoul\"\ninputs = [\"{}\"]\n",
            dump.display()
        ),
    );
}

/// How long a fresh client waits for `/healthz` (at most `limit`).
fn time_healthz(addr: &str, limit: Duration) -> Result<Duration, String> {
    use std::io::{Read, Write};
    let started = Instant::now();
    let mut s = std::net::TcpStream::connect(addr).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(limit)).map_err(|e| e.to_string())?;
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut head = [0u8; 12];
    s.read_exact(&mut head)
        .map_err(|e| format!("no answer: {e}"))?;
    if !head.starts_with(b"HTTP/1.1 200") {
        return Err(String::from_utf8_lossy(&head).into_owned());
    }
    Ok(started.elapsed())
}

#[path = "hostile/addresses.rs"]
mod addresses;
#[path = "hostile/clients.rs"]
mod clients;
#[path = "hostile/pages.rs"]
mod pages;
#[path = "hostile/store.rs"]
mod store;
#[path = "hostile/upstreams.rs"]
mod upstreams;
