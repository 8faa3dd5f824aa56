//! Shared test support: compare what an adapter read with the fixtures'
//! `expected/*.json` (see `tests/fixtures/README.md` for their conventions).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use byline::adapters::Listing;
use byline::model::{Item, Published};
use chrono::{DateTime, NaiveDate};
use serde_json::Value;

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// `expected/NAME.json`, parsed.
pub fn expected(name: &str) -> Value {
    let path = fixtures().join("expected").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// An item in the fixtures' shape, for comparison and readable diffs.
pub fn item_json(item: &Item) -> Value {
    serde_json::json!({
        "title": item.title,
        "url": item.url,
        "summary": item.summary,
        "authors": item.authors.iter().map(|a| a.name.clone()).collect::<Vec<_>>(),
        "published": item.published.map(|p| p.to_display()),
        "tags": item.tags.iter().map(|t| t.name.clone()).collect::<Vec<_>>(),
        "image": item.image,
    })
}

/// Does `got` mean the same publication time as the fixture's string? A date
/// must be a date; a date-time must be the same instant with the same offset
/// (`Z` and `+00:00` are the same).
pub fn published_matches(got: Option<&Published>, want: &Value) -> bool {
    match (got, want.as_str()) {
        (None, None) => true,
        (Some(Published::Date(d, _)), Some(s)) => {
            NaiveDate::parse_from_str(s, "%Y-%m-%d").ok() == Some(*d)
        }
        (Some(Published::DateTime(dt)), Some(s)) => match DateTime::parse_from_rfc3339(s) {
            Ok(w) => w == *dt && w.offset() == dt.offset(),
            Err(_) => false,
        },
        _ => false,
    }
}

/// Assert that `listing` holds exactly the expected items, field by field.
pub fn assert_matches_expected(listing: &Listing, expected_name: &str) {
    let want = expected(expected_name);
    let want_items = want["items"].as_array().expect("items");
    let got: Vec<Value> = listing.items.iter().map(item_json).collect();
    assert_eq!(
        listing.items.len(),
        want_items.len(),
        "{expected_name}: item count; got titles {:#?}",
        listing.items.iter().map(|i| &i.title).collect::<Vec<_>>()
    );
    for (i, (g, w)) in got.iter().zip(want_items).enumerate() {
        for key in ["title", "url", "summary", "authors", "tags", "image"] {
            assert_eq!(
                g[key],
                w[key],
                "{expected_name}: item {} field {key}",
                i + 1
            );
        }
        assert!(
            published_matches(listing.items[i].published.as_ref(), &w["published"]),
            "{expected_name}: item {} published: got {:?}, want {}",
            i + 1,
            listing.items[i].published,
            w["published"]
        );
    }
    if let (Some(c), Some(got)) = (want["captured"].as_str(), listing.captured) {
        assert_eq!(got.to_string(), c, "{expected_name}: captured");
    }
}

/// Read every source of `config` once through the page loop, in config order.
pub fn reads(config: &byline::config::Config) -> Vec<byline::read::Read> {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let fetcher =
        byline::fetch::Fetcher::new(byline::fetch::FetchOptions::default()).expect("fetcher");
    let none = std::collections::HashMap::new();
    runtime.block_on(async {
        let mut reads = Vec::new();
        for source in &config.sources {
            reads.push(
                byline::read::read_source(
                    source,
                    &source.inputs,
                    &fetcher,
                    &none,
                    chrono::Utc::now(),
                )
                .await,
            );
        }
        reads
    })
}

/// Refresh every source of `config` into a new store under `dir`, and read
/// back the edition `build` and `serve` publish from it.
pub fn edition(
    config: &byline::config::Config,
    dir: &Path,
) -> (byline::store::Store, byline::views::Edition) {
    let store = byline::store::Store::open(dir.join("byline.db")).expect("store");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let fetcher =
        byline::fetch::Fetcher::new(byline::fetch::FetchOptions::default()).expect("fetcher");
    runtime.block_on(async {
        for source in &config.sources {
            byline::refresh::refresh_source(&store, config, source, &fetcher, chrono::Utc::now())
                .await;
        }
    });
    let edition =
        byline::views::Edition::read(&store, config, config.server.max_items).expect("edition");
    (store, edition)
}

/// One view of an edition, decoded.
pub struct Shown {
    pub key: byline::views::ViewKey,
    pub items: Vec<Item>,
}

/// Every view of an edition, decoded, in edition order.
pub fn views(edition: &byline::views::Edition) -> Vec<Shown> {
    edition
        .decoded()
        .into_iter()
        .map(|(e, items)| Shown { key: e.key, items })
        .collect()
}

/// The items of the edition's whole stream, in feed order.
pub fn stream(edition: &byline::views::Edition) -> Vec<Item> {
    views(edition)
        .into_iter()
        .next()
        .map(|v| v.items)
        .unwrap_or_default()
}

/// The titles `byline check --json` reads from a config holding `block`:
/// what a suggested or edited block really gives.
pub fn check_titles(block: &str) -> Vec<String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("feeds.toml");
    std::fs::write(&config, block).expect("config");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_byline"))
        .args(["check", "--json", "-c", &config.display().to_string()])
        .output()
        .expect("byline runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    v[0]["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["title"].as_str().map(str::to_owned))
        .collect()
}
