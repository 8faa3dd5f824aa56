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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changing_listing_keeps_history_ids_and_edits_in_place() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &[("nk", server.url("/news"))]);
    let store = Store::connect(&cfg.store.location).unwrap();
    let f = fetcher();

    let a = Story::new(
        "Talks resume at the border",
        "Envoys met on Monday.",
        "Jeongmin Kim",
        "May 20, 2022",
    );
    let b = Story::new(
        "Rice prices climb again",
        "Markets report a rise.",
        "Kelly Kasulis",
        "May 20, 2022",
    );
    let c = Story::new(
        "Rail link study published",
        "A report on the line.",
        "Jeongmin Kim",
        "May 19, 2022",
    );
    server.set(
        "/news",
        Reply::text(dump("May 20, 2022", &[a.clone(), b.clone(), c.clone()])),
    );
    let t1 = now();
    let o = run(&store, &cfg, "nk", &f, t1).await;
    assert!(!o.failed(), "{:?}", o.errors);
    assert_eq!(
        o.stats,
        UpsertStats {
            new: 3,
            updated: 0,
            unchanged: 0
        }
    );
    let before = store.items(Selection::Source("nk"), 100).unwrap();

    // Next day: D on top, B's summary edited, C rolled off the listing.
    let d = Story::new(
        "New envoy named",
        "The ministry named him.",
        "Kelly Kasulis",
        "May 21, 2022",
    );
    let mut b2 = b.clone();
    b2.summary = "Markets report a sharp rise, the third this month.".to_owned();
    server.set(
        "/news",
        Reply::text(dump("May 21, 2022", &[d.clone(), a.clone(), b2.clone()])),
    );
    let t2 = t1 + chrono::Duration::hours(20);
    let o = run(&store, &cfg, "nk", &f, t2).await;
    assert!(!o.failed(), "{:?}", o.errors);
    assert_eq!(
        o.stats,
        UpsertStats {
            new: 1,
            updated: 1,
            unchanged: 1
        }
    );

    let after = store.items(Selection::Source("nk"), 100).unwrap();
    assert_eq!(
        titles(&after),
        [
            d.title.clone(),
            a.title.clone(),
            b.title.clone(),
            c.title.clone()
        ]
    );
    // Same stories, same ids; the rolled-off one is still served.
    for old in &before {
        let now = after.iter().find(|i| i.title == old.title).expect("kept");
        assert_eq!(now.id, old.id);
    }
    let edited = after.iter().find(|i| i.title == b.title).unwrap();
    assert_eq!(edited.summary.as_deref(), Some(b2.summary.as_str()));
    // Stored times carry whole seconds.
    use chrono::Timelike;
    assert_eq!(
        edited.updated,
        Some(t2.with_nanosecond(0).unwrap().fixed_offset()),
        "Atom `updated` moves on an edit"
    );
    assert!(
        after
            .iter()
            .filter(|i| i.title != b.title)
            .all(|i| i.updated.is_none())
    );
    assert_eq!(
        titles(&store.items(Selection::Author("jeongmin-kim"), 10).unwrap()),
        [a.title.clone(), c.title.clone()]
    );
    assert_eq!(store.item_count(None).unwrap(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unchanged_page_answers_304_and_costs_no_parse() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        &[("etag", server.url("/etag")), ("lm", server.url("/lm"))],
    );
    let store = Store::connect(&cfg.store.location).unwrap();
    let f = fetcher();
    server.set("/etag", Reply::text(dump("May 20, 2022", &stories("e", 5))));
    server.set(
        "/lm",
        Reply::Page {
            body: dump("May 20, 2022", &stories("l", 5)).into_bytes(),
            content_type: "text/plain".to_owned(),
            etag: None,
            last_modified: Some("Fri, 20 May 2022 03:00:00 GMT".to_owned()),
        },
    );
    let t1 = now();
    for (name, path) in [("etag", "/etag"), ("lm", "/lm")] {
        let o = run(&store, &cfg, name, &f, t1).await;
        assert_eq!((o.pages, o.stats.new), (1, 5), "{name}: {:?}", o.errors);

        let t2 = t1 + chrono::Duration::minutes(10);
        let o = run(&store, &cfg, name, &f, t2).await;
        assert!(!o.failed(), "{:?}", o.errors);
        assert_eq!(o.not_modified, 1, "{name}");
        // Nothing parsed, nothing stored, nothing to re-render.
        assert_eq!((o.pages, o.items_read), (0, 0), "{name}");
        assert_eq!(o.stats, UpsertStats::default());
        assert!(!o.changed());
        let counts = server.counts(path);
        assert_eq!(
            (counts.requests, counts.bodies, counts.not_modified),
            (2, 1, 1),
            "{name}"
        );
        let s = state(&store, name, &server.url(path));
        assert_eq!(s.last_success, Some(t2));
        assert_eq!(store.item_count(Some(name)).unwrap(), 5);
    }

    // A new body is a new ETag: fetched and read again.
    server.set("/etag", Reply::text(dump("May 21, 2022", &stories("e", 6))));
    let o = run(&store, &cfg, "etag", &f, now()).await;
    assert_eq!(
        (o.pages, o.not_modified, o.stats.new, o.stats.unchanged),
        (1, 0, 1, 5)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_with_a_short_retry_after_is_waited_out() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &[("nk", server.url("/busy"))]);
    let store = Store::connect(&cfg.store.location).unwrap();
    server.script(
        "/busy",
        vec![
            Reply::Status {
                code: 429,
                headers: vec![("Retry-After".into(), "1".into())],
                body: Vec::new(),
            },
            Reply::text(dump("May 20, 2022", &stories("r", 3))),
        ],
    );
    let started = Instant::now();
    let o = run(&store, &cfg, "nk", &fetcher(), now()).await;
    assert!(!o.failed(), "{:?}", o.errors);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After honoured"
    );
    assert_eq!(o.stats.new, 3);
    assert_eq!(server.counts("/busy").requests, 2);
}

/// Refresh `a` once from a good page, then against `fault`, while source `b`
/// refreshes in the same run from a healthy page. Returns `a`'s outcome.
async fn fault(
    name: &str,
    replies: impl FnOnce(&TestServer, &str) -> Vec<Reply>,
    expect: &str,
) -> RefreshOutcome {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        &[("a", server.url("/a")), ("b", server.url("/b"))],
    );
    let store = Store::connect(&cfg.store.location).unwrap();
    let f = fetcher();
    let good = dump("May 20, 2022", &stories("a", 4));
    server.set("/a", Reply::text(good));
    server.set("/b", Reply::text(dump("May 20, 2022", &stories("b", 2))));
    let t1 = now();
    for source in ["a", "b"] {
        let o = run(&store, &cfg, source, &f, t1).await;
        assert!(!o.failed(), "{name}: setup: {:?}", o.errors);
    }
    let stored = store
        .stored(byline::store::Selection::Source("a"), 100)
        .unwrap();
    let etag = state(&store, "a", &server.url("/a")).etag;
    assert_eq!(stored.len(), 4);

    let replies = replies(&server, "/a");
    server.script("/a", replies);
    server.set("/b", Reply::text(dump("May 21, 2022", &stories("b", 3))));
    let t2 = t1 + chrono::Duration::hours(1);
    let (a, b) = tokio::join!(
        run(&store, &cfg, "a", &f, t2),
        run(&store, &cfg, "b", &f, t2)
    );

    assert!(a.failed(), "{name}: expected a failure");
    let error = a.messages().join(" | ");
    assert!(
        error.contains(expect),
        "{name}: {error:?} does not mention {expect:?}"
    );
    assert!(
        error.contains("\"a\""),
        "{name}: the error names the source: {error}"
    );
    // Previously stored items are intact.
    assert_eq!(
        store
            .stored(byline::store::Selection::Source("a"), 100)
            .unwrap(),
        stored,
        "{name}"
    );
    // The error is recorded; the validators of the last good read are kept.
    let s = state(&store, "a", &server.url("/a"));
    assert!(
        s.last_error.as_deref().is_some_and(|e| e.contains(expect)),
        "{name}: {s:?}"
    );
    assert_eq!(
        (s.last_error_at, s.consecutive_failures, s.last_success),
        (Some(t2), 1, Some(t1)),
        "{name}"
    );
    assert_eq!(s.etag, etag, "{name}");
    // The other source refreshed normally.
    assert!(!b.failed(), "{name}: b: {:?}", b.errors);
    assert_eq!(b.stats.new, 1, "{name}");
    a
}

fn too_big() -> Vec<u8> {
    dump("May 20, 2022", &stories("big", 800)).into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_faults_are_recorded_and_lose_nothing() {
    let started = Instant::now();
    fault("timeout", |_, _| vec![Reply::Hang], "timed out").await;
    let slow = dump("May 20, 2022", &stories("slow", 2)).into_bytes();
    fault(
        "slow drip",
        |_, _| {
            vec![Reply::Drip {
                body: slow,
                every: Duration::from_millis(20),
            }]
        },
        "timed out",
    )
    .await;
    fault("404", |_, _| vec![Reply::status(404)], "HTTP 404").await;
    let o = fault(
        "500",
        |_, _| vec![Reply::status(500)],
        "HTTP 500 after 3 attempts",
    )
    .await;
    assert!(
        o.errors[0].message.contains("127.0.0.1"),
        "names the url: {:?}",
        o.errors
    );
    fault(
        "429 with a long Retry-After",
        |_, _| {
            vec![Reply::Status {
                code: 429,
                headers: vec![("Retry-After".into(), "3600".into())],
                body: Vec::new(),
            }]
        },
        "Retry-After 3600s",
    )
    .await;
    fault(
        "redirect loop",
        |_, path| {
            vec![Reply::Status {
                code: 302,
                headers: vec![(
                    "Location".into(),
                    format!("http://127.0.0.1:{{port}}{path}"),
                )],
                body: Vec::new(),
            }]
        },
        "too many redirects",
    )
    .await;
    fault(
        "body over the limit (Content-Length)",
        |_, _| vec![Reply::text(too_big())],
        "larger than the limit of 65536 bytes",
    )
    .await;
    fault(
        "body over the limit (chunked)",
        |_, _| vec![Reply::Chunked { body: too_big() }],
        "larger than the limit",
    )
    .await;
    let mut latin1 = dump("May 20, 2022", &stories("enc", 3)).into_bytes();
    latin1.extend_from_slice(
        b"Caf\xe9 opens in Pyongyang\n\nA \x93quoted\x94 summary.\n\nKelly Kasulis May 20, 2022\n",
    );
    fault(
        "invalid encoding",
        |_, _| {
            vec![Reply::Page {
                body: latin1,
                content_type: "text/plain; charset=utf-8".into(),
                etag: None,
                last_modified: None,
            }]
        },
        "not valid UTF-8",
    )
    .await;
    let body = dump("May 20, 2022", &stories("cut", 4)).into_bytes();
    let half = body[..body.len() / 2].to_vec();
    fault(
        "truncated transfer",
        |_, _| {
            vec![Reply::Truncated {
                claimed: body.len(),
                body: half,
            }]
        },
        "end of file",
    )
    .await;
    fault(
        "garbage",
        |_, _| vec![Reply::text(vec![0u8; 300])],
        "no items",
    )
    .await;
    // The retries and timeouts are bounded: 11 faults in well under a minute.
    assert!(
        started.elapsed() < Duration::from_secs(40),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_page_stores_what_it_holds_and_records_the_warning() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &[("nk", server.url("/news"))]);
    let store = Store::connect(&cfg.store.location).unwrap();
    let f = fetcher();
    let old = stories("old", 3);
    server.set("/news", Reply::text(dump("May 20, 2022", &old)));
    run(&store, &cfg, "nk", &f, now()).await;

    // The new listing is cut off inside its third story (no byline line).
    let new = stories("new", 3);
    let full = dump("May 21, 2022", &new);
    let cut = full.find(&new[2].summary).unwrap() + 10;
    server.set("/news", Reply::text(full[..cut].to_owned()));
    let o = run(&store, &cfg, "nk", &f, now()).await;
    assert!(!o.failed(), "{:?}", o.errors);
    assert_eq!(o.stats.new, 2);
    assert!(!o.warnings.is_empty());
    let s = state(&store, "nk", &server.url("/news"));
    assert!(
        s.warnings
            .iter()
            .any(|w| w.contains("after the last byline")),
        "{:?}",
        s.warnings
    );
    let titles = titles(&store.items(Selection::Source("nk"), 100).unwrap());
    assert_eq!(titles.len(), 5);
    assert!(old.iter().all(|s| titles.contains(&s.title)));
    assert!(!titles.contains(&new[2].title));
}

/// Kill `byline refresh` with SIGKILL half-way through many slow sources:
/// the store opens cleanly, every source has all of its listing or none,
/// nothing is duplicated, and a second run completes it without touching
/// what was committed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_a_refresh_leaves_a_clean_store() {
    const SOURCES: usize = 60;
    const ITEMS: usize = 50;
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut toml = String::from(
        "user_agent = \"byline-test/1 (+mailto:test@example.org)\"\n[store]\npath = \"s.db\"\n",
    );
    for n in 0..SOURCES {
        let body = dump("May 20, 2022", &stories(&format!("s{n}"), ITEMS));
        server.set(
            &format!("/s{n}"),
            Reply::Delayed(Duration::from_millis(150), Box::new(Reply::text(body))),
        );
        toml.push_str(&format!(
            "[[source]]\nname = \"s{n}\"\nkind = \"text\"\ninputs = [\"{}\"]\n",
            server.url(&format!("/s{n}"))
        ));
    }
    let config_path = dir.path().join("feeds.toml");
    std::fs::write(&config_path, &toml).unwrap();
    let config_path = config_path.clone();
    let db = dir.path().join("s.db");
    let byline = env!("CARGO_BIN_EXE_byline");
    let refresh = move || {
        std::process::Command::new(byline)
            .args(["refresh", "--config"])
            .arg(&config_path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn byline refresh")
    };

    let mut child = refresh();
    let count = |sql: &str| -> i64 {
        // 0 while the store or its tables do not exist yet.
        rusqlite::Connection::open(&db)
            .and_then(|c| c.query_row(sql, [], |r| r.get(0)))
            .unwrap_or_default()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while count("SELECT count(*) FROM items") < (5 * ITEMS) as i64 {
        assert!(Instant::now() < deadline, "the refresh never got going");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");

    let store = Store::open(&db).expect("the store opens cleanly after SIGKILL");
    let check: String = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let total = store.item_count(None).unwrap();
    assert!(
        total < SOURCES * ITEMS,
        "killed too late to test anything ({total} items)"
    );
    assert_eq!(count("SELECT count(DISTINCT id) FROM items"), total as i64);
    let mut committed = Vec::new();
    for n in 0..SOURCES {
        let name = format!("s{n}");
        let stored = store
            .stored(byline::store::Selection::Source(&name), 1000)
            .unwrap();
        assert!(
            stored.is_empty() || stored.len() == ITEMS,
            "{name}: {} items, a torn listing",
            stored.len()
        );
        if !stored.is_empty() {
            committed.push((name, stored));
        }
    }
    assert!(!committed.is_empty());

    // Run again, fast, to the end.
    for n in 0..SOURCES {
        let body = dump("May 20, 2022", &stories(&format!("s{n}"), ITEMS));
        server.set(&format!("/s{n}"), Reply::text(body));
    }
    let mut second = refresh();
    let status = tokio::task::spawn_blocking(move || second.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "{status:?}");
    assert_eq!(store.item_count(None).unwrap(), SOURCES * ITEMS);
    for (name, before) in committed {
        let after = store
            .stored(byline::store::Selection::Source(&name), 1000)
            .unwrap();
        assert_eq!(after.len(), ITEMS);
        for (a, b) in after.iter().zip(&before) {
            assert_eq!(
                (&a.item, a.first_seen),
                (&b.item, b.first_seen),
                "{name}: committed items are intact"
            );
        }
    }
    assert_eq!(
        server.counts("/s0").user_agent.as_deref(),
        Some("byline-test/1 (+mailto:test@example.org)")
    );
}

/// `byline ingest` stores saved dumps through the source's adapter, once;
/// `byline refresh` exits non-zero when a source fails and keeps its items.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_imports_dumps_and_refresh_reports_a_failing_source() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        "[store]\npath = \"s.db\"\n[[source]]\nname = \"nk\"\nkind = \"text\"\ntimezone = \"Asia/Seoul\"\ninputs = [\"{}\"]\n",
        server.url("/gone")
    );
    let config_path = dir.path().join("feeds.toml");
    std::fs::write(&config_path, toml).unwrap();
    let byline = env!("CARGO_BIN_EXE_byline");
    let run = |args: &[&str]| {
        let config_path = config_path.clone();
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(byline)
                .args(&args)
                .arg("--config")
                .arg(&config_path)
                .output()
                .expect("run byline")
        })
    };
    let dumps = common::fixtures().join("text");
    let files = [
        dumps.join("nknews-2021-03-04.txt").display().to_string(),
        dumps.join("nknews-2022-05-21.txt").display().to_string(),
    ];
    let out = run(&["ingest", "--source", "nk", &files[0], &files[1]])
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("20 new"), "{stdout}");

    let store = Store::open(dir.path().join("s.db")).unwrap();
    let mut want: Vec<(String, Vec<String>)> = Vec::new();
    for name in ["nknews-2021-03-04.json", "nknews-2022-05-21.json"] {
        for item in common::expected(name)["items"].as_array().unwrap() {
            let authors = item["authors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_owned())
                .collect();
            want.push((item["title"].as_str().unwrap().to_owned(), authors));
        }
    }
    let stored = store.items(Selection::Source("nk"), 100).unwrap();
    let mut got: Vec<(String, Vec<String>)> = stored
        .iter()
        .map(|i| {
            (
                i.title.clone(),
                i.authors.iter().map(|a| a.name.clone()).collect(),
            )
        })
        .collect();
    got.sort();
    want.sort();
    assert_eq!(got, want);
    // Newest day first: the 2022 dump's stories lead.
    assert_eq!(
        stored[0].published.map(|p| p.day().to_string()).as_deref(),
        Some("2022-05-21")
    );
    let kim = store.items(Selection::Author("jeongmin-kim"), 100).unwrap();
    assert!(
        !kim.is_empty()
            && kim
                .iter()
                .all(|i| i.authors.iter().any(|a| a.slug == "jeongmin-kim"))
    );

    // Again: nothing new, nothing duplicated.
    let out = run(&["ingest", "--source", "nk", &files[0], &files[1]])
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 new, 0 updated, 20 unchanged"));
    assert_eq!(store.item_count(None).unwrap(), 20);

    // The live input answers 404: exit 2, the error on stdout and in the store,
    // the ingested items still there.
    let out = run(&["refresh"]).await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains("HTTP 404"), "{stdout}");
    let s = state(&store, "nk", &server.url("/gone"));
    assert!(s.last_error.unwrap().contains("HTTP 404"));
    assert_eq!(store.item_count(None).unwrap(), 20);

    let out = run(&["refresh", "nope"]).await.unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no source named \"nope\""));
}
