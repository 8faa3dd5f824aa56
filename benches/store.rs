//! Store and refresh benchmark (not a timed test; see docs/PERFORMANCE.md).
//!
//! `cargo bench --bench store -- query` fills a store with 1,000,000 generated
//! items and times per-author, per-tag, per-source and whole-stream feeds of
//! 50 items. `cargo bench --bench store -- refresh` refreshes 1,000 text
//! sources of 50 items each from a local HTTP server on 127.0.0.1, then again
//! (every page answering 304), and reports wall time, items/s and the
//! process's peak memory. With no argument both run, refresh first (peak
//! memory is per process). `BYLINE_BENCH_ITEMS` and `BYLINE_BENCH_SOURCES`
//! scale them down for a quick look.

#[path = "../tests/support/http_server.rs"]
mod http_server;

use std::time::{Duration, Instant};

use byline::config::Config;
use byline::fetch::{FetchOptions, Fetcher};
use byline::model::{Item, Person, Published, Tag};
use byline::refresh::refresh_source;
use byline::store::Store;
use byline::views::ViewKey;
use chrono::{NaiveDate, Utc};
use http_server::{Reply, Story, TestServer, dump, writer};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let all = args.is_empty();
    if all || args.iter().any(|a| a == "refresh") {
        refresh_bench(env_usize("BYLINE_BENCH_SOURCES", 1_000), 50);
    }
    if all || args.iter().any(|a| a == "query") {
        query_bench(env_usize("BYLINE_BENCH_ITEMS", 1_000_000));
    }
}

/// Peak resident memory of this process so far, from /proc.
fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

fn query_bench(n_items: usize) {
    // BYLINE_BENCH_DB keeps the generated store for later runs (filling a
    // million items takes minutes); by default it lives in a temp folder.
    let dir = tempfile::tempdir().expect("temp dir");
    let db = std::env::var_os("BYLINE_BENCH_DB")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dir.path().join("bench.db"));
    // BYLINE_BENCH_STORE: a postgres:// url (or a path) instead of the file.
    let location = std::env::var("BYLINE_BENCH_STORE")
        .map(|s| byline::store::Location::parse(&s))
        .unwrap_or_else(|_| byline::store::Location::Sqlite(db.clone()));
    let store = Store::connect(&location).expect("store");
    let authors: Vec<Person> = (0..2_000)
        .map(|i| Person::new(&format!("Author {i:04}")))
        .collect();
    let tags: Vec<Tag> = (0..50).map(|i| Tag::new(&format!("Topic {i}"))).collect();
    let zone = chrono_tz::Asia::Seoul;
    let start_day = NaiveDate::from_ymd_opt(2015, 1, 1).expect("date");
    let mut rng = fastrand::Rng::with_seed(42);

    // 1,000,000 items as 20,000 listings of 50, ten years of days, sources
    // of 100 listings each: what years of refreshes of many sources leave.
    let per_listing = env_usize("BYLINE_BENCH_LISTING", 50);
    let started = Instant::now();
    let seen = Utc::now();
    let mut made = store.item_count(None).expect("count");
    let mut listing = made / per_listing;
    if made > 0 {
        println!("query: reusing {} with {made} items", location.name());
    }
    let filled_before = made;
    while made < n_items {
        let source = format!("source-{}", listing / 100);
        let batch: Vec<Item> = (0..per_listing.min(n_items - made))
            .map(|position| {
                let n = made + position;
                let mut item = Item::new(
                    &source,
                    position as u32,
                    format!("Generated story {n} about the day's events"),
                    Some(format!("https://site{}.example/{n}/", listing / 100)),
                );
                item.summary = Some(format!("Summary {n}: two sentences of text. More of it."));
                let day = start_day + chrono::Duration::days(rng.i64(0..3_650));
                item.published = Some(Published::Date(day, zone));
                item.authors
                    .push(authors[rng.usize(0..authors.len())].clone());
                if rng.u8(0..5) == 0 {
                    item.authors
                        .push(authors[rng.usize(0..authors.len())].clone());
                    item.authors.dedup();
                }
                item.tags.push(tags[rng.usize(0..tags.len())].clone());
                item
            })
            .collect();
        made += batch.len();
        store.upsert_items(&source, &batch, seen).expect("upsert");
        listing += 1;
    }
    let fill = started.elapsed();
    let size = std::fs::metadata(&db).map_or(0, |m| m.len());
    println!(
        "query: filled {} items in {:.1} s ({:.0} items/s), store of {made} items: {:.0} MiB",
        made - filled_before,
        fill.as_secs_f64(),
        (made - filled_before) as f64 / fill.as_secs_f64(),
        size as f64 / 1024.0 / 1024.0
    );

    type Pick<'a> = Box<dyn Fn(&mut fastrand::Rng) -> ViewKey + 'a>;
    let views: [(&str, Pick); 4] = [
        (
            "author",
            Box::new(|r: &mut fastrand::Rng| {
                ViewKey::Author(authors[r.usize(0..authors.len())].slug.clone())
            }),
        ),
        (
            "tag",
            Box::new(|r: &mut fastrand::Rng| {
                ViewKey::Tag(tags[r.usize(0..tags.len())].slug.clone())
            }),
        ),
        (
            "source",
            Box::new(|r: &mut fastrand::Rng| {
                ViewKey::Source(format!("source-{}", r.usize(0..(listing / 100).max(1))))
            }),
        ),
        ("all", Box::new(|_: &mut fastrand::Rng| ViewKey::All)),
    ];
    for (name, pick) in &views {
        // Warm the cache as a running server would be.
        for _ in 0..20 {
            store
                .items(pick(&mut rng).selection().expect("an index"), 50)
                .expect("query");
        }
        let mut times = Vec::new();
        for _ in 0..500 {
            let view = pick(&mut rng);
            let t = Instant::now();
            let items = store
                .items(view.selection().expect("an index"), 50)
                .expect("query");
            times.push(t.elapsed());
            assert!(!items.is_empty(), "{view:?}");
        }
        times.sort();
        println!(
            "query: {name:<6} feed of 50 items: median {:.3} ms, p95 {:.3} ms, max {:.3} ms (500 queries)",
            percentile(&times, 0.5).as_secs_f64() * 1e3,
            percentile(&times, 0.95).as_secs_f64() * 1e3,
            times.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        );
    }
    if let Some(peak) = peak_memory_mib() {
        println!("query: peak memory (VmHWM) {peak:.0} MiB");
    }
}

fn refresh_bench(n_sources: usize, per_source: usize) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let server = TestServer::start().await;
        let dir = tempfile::tempdir().expect("temp dir");
        // BYLINE_BENCH_STORE: a postgres:// url to refresh into instead.
        let pg = std::env::var("BYLINE_BENCH_STORE").ok().filter(|u| u.starts_with("postgres"));
        let mut toml = match &pg {
            Some(url) => format!("[store]\nurl = \"{url}\"\n"),
            None => String::from("[store]\npath = \"bench.db\"\n"),
        };
        // Source `s`'s listing, with `fresh` new stories on top.
        let listing = |s: usize, fresh: usize| {
            let mut stories: Vec<Story> = (0..fresh)
                .map(|i| {
                    Story::new(
                        &format!("Source {s} breaking story {i} of the day"),
                        &format!("Just in: story {i} of source {s}."),
                        &writer(s * 3 + i),
                        "May 29, 2022",
                    )
                })
                .collect();
            stories.extend((0..per_source).map(|i| {
                Story::new(
                    &format!("Source {s} reports story {i} of the week"),
                    &format!("What happened in story {i} of source {s}, in one sentence."),
                    &writer(s * 7 + i),
                    &format!("May {}, 2022", 1 + i % 28),
                )
            }));
            Reply::text(dump("May 29, 2022", &stories))
        };
        for s in 0..n_sources {
            toml.push_str(&format!(
                "[[source]]\nname = \"s{s}\"\nkind = \"text\"\ntimezone = \"Asia/Seoul\"\ninputs = [\"{}\"]\n",
                server.url(&format!("/s{s}"))
            ));
        }
        let config = std::sync::Arc::new(Config::parse(&toml, "bench.toml", dir.path()).expect("config"));
        // Store calls block: off the async threads, as byline makes them.
        let location = config.store.location.clone();
        let store = tokio::task::spawn_blocking(move || Store::connect(&location))
            .await
            .expect("task")
            .expect("store");

        // The adapter's share: parse one source's page as often as there are sources.
        let page_body = dump("May 29, 2022", &(0..per_source).map(|i| Story::new(
            &format!("Source 0 reports story {i} of the week"),
            &format!("What happened in story {i} of source 0, in one sentence."),
            &writer(i),
            &format!("May {}, 2022", 1 + i % 28),
        )).collect::<Vec<_>>());
        let started = Instant::now();
        for _ in 0..n_sources {
            let page = byline::adapters::Page {
                bytes: page_body.as_bytes(),
                name: "bench",
                url: None,
                content_type: None,
                captured: None,
                fetched_at: Utc::now(),
            };
            let listing = byline::adapters::read(&config.sources[0], &page, 0).expect("parse");
            assert_eq!(listing.items.len(), per_source);
        }
        let parse = started.elapsed();
        println!(
            "refresh: parsing alone (text adapter, one thread): {n_sources} pages in {:.2} s, {:.0} items/s",
            parse.as_secs_f64(),
            (n_sources * per_source) as f64 / parse.as_secs_f64()
        );

        for (label, per_host) in [("per-host limit 2 (default)", 2), ("per-host limit 16", 16)] {
            let fetcher = Fetcher::new(FetchOptions { per_host, ..FetchOptions::default() }).expect("fetcher");
            for (pass, fresh) in [
                ("first pass, all new (200)", 0),
                ("second pass, unchanged (304)", 0),
                ("third pass, one new story on top (200)", 1),
            ] {
                for s in 0..n_sources {
                    server.set(&format!("/s{s}"), listing(s, fresh));
                }
                let started = Instant::now();
                let jobs = std::sync::Arc::new(tokio::sync::Semaphore::new(8));
                let mut tasks = tokio::task::JoinSet::new();
                for i in 0..config.sources.len() {
                    let (config, store, fetcher, jobs) = (config.clone(), store.clone(), fetcher.clone(), jobs.clone());
                    tasks.spawn(async move {
                        let _slot = jobs.acquire_owned().await.ok();
                        let source = &config.sources[i];
                        refresh_source(&store, &config, source, &fetcher, Utc::now()).await
                    });
                }
                let (mut items, mut failed, mut not_modified) = (0, 0, 0);
                while let Some(done) = tasks.join_next().await {
                    let o = done.expect("task");
                    if let Some(e) = o.errors.first().filter(|_| failed == 0) {
                        println!("refresh: first error: {e}");
                    }
                    items += o.items_read;
                    failed += usize::from(o.failed());
                    not_modified += o.not_modified;
                }
                let wall = started.elapsed();
                println!(
                    "refresh: {label}, {pass}: {n_sources} sources x {per_source} items in {:.2} s, {:.0} items/s read, {not_modified} not modified, {failed} failed",
                    wall.as_secs_f64(),
                    items as f64 / wall.as_secs_f64(),
                );
            }
            // Fresh store contents for the next configuration: forget validators.
            drop(fetcher);
            const RESET: &str = "DELETE FROM fetch_state; DELETE FROM items; DELETE FROM sources;";
            match &config.store.location {
                byline::store::Location::Sqlite(path) => rusqlite::Connection::open(path)
                    .expect("sqlite")
                    .execute_batch(RESET)
                    .expect("reset"),
                byline::store::Location::Postgres(url) => {
                    let url = url.clone();
                    tokio::task::spawn_blocking(move || {
                        postgres::Client::connect(&url, postgres::NoTls)
                            .expect("postgres")
                            .batch_execute(RESET)
                            .expect("reset")
                    })
                    .await
                    .expect("reset task")
                }
            }
        }
        if let Some(peak) = peak_memory_mib() {
            println!("refresh: peak memory (VmHWM, includes the in-process test server) {peak:.0} MiB");
        }
    });
}
