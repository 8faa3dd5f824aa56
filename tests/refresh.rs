//! Refreshing live sources into the store against a local HTTP server on
//! 127.0.0.1 whose listing changes: history is kept, ids stay, edits update in
//! place, a 304 costs no parse, every upstream fault is recorded and loses
//! nothing, and a refresh killed with SIGKILL leaves a clean store.

mod common;
#[path = "support/http_server.rs"]
mod http_server;

use std::path::Path;
use std::time::{Duration, Instant};

use byline::config::Config;
use byline::fetch::{FetchOptions, Fetcher};
use byline::model::Item;
use byline::refresh::{RefreshOutcome, refresh_source};
use byline::store::{FetchState, Selection, Store, UpsertStats};
use chrono::{DateTime, Utc};
use http_server::{Reply, Story, TestServer, dump};

/// A config with one text source per `(name, url)`, its store in `dir`.
fn config(dir: &Path, sources: &[(&str, String)]) -> Config {
    let mut toml = String::from("[store]\npath = \"s.db\"\n");
    for (name, url) in sources {
        toml.push_str(&format!(
            "[[source]]\nname = \"{name}\"\nkind = \"text\"\ntimezone = \"Asia/Seoul\"\ninputs = [\"{url}\"]\n"
        ));
    }
    Config::parse(&toml, "test.toml", dir).expect("test config")
}

/// Tight limits so fault tests finish in about a second each.
fn fetcher() -> Fetcher {
    Fetcher::new(FetchOptions {
        connect_timeout: Duration::from_secs(1),
        timeout: Duration::from_secs(1),
        max_body_bytes: 64 * 1024,
        backoff: Duration::from_millis(50),
        retry_budget: Duration::from_secs(3),
        ..FetchOptions::default()
    })
    .expect("fetcher")
}

fn stories(prefix: &str, n: usize) -> Vec<Story> {
    (0..n)
        .map(|i| {
            Story::new(
                &format!("{prefix} story number {i} on the peninsula"),
                &format!("Summary of {prefix} story {i}, in a sentence."),
                if i % 2 == 0 {
                    "Jeongmin Kim"
                } else {
                    "Kelly Kasulis"
                },
                "May 20, 2022",
            )
        })
        .collect()
}

async fn run(
    store: &Store,
    config: &Config,
    name: &str,
    fetcher: &Fetcher,
    now: DateTime<Utc>,
) -> RefreshOutcome {
    let source = config
        .sources
        .iter()
        .find(|s| s.name == name)
        .expect("source");
    refresh_source(store, config, source, fetcher, now).await
}

fn state(store: &Store, source: &str, url: &str) -> FetchState {
    store
        .fetch_state(source, url)
        .unwrap()
        .unwrap_or_else(|| panic!("no fetch state for {url}"))
}

/// Now, to the millisecond the store keeps.
fn now() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).expect("now")
}

fn titles(items: &[Item]) -> Vec<String> {
    items.iter().map(|i| i.title.clone()).collect()
}

#[path = "refresh/crash.rs"]
mod crash;
#[path = "refresh/faults.rs"]
mod faults;
#[path = "refresh/history.rs"]
mod history;
