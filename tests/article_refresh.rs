//! Article reading in a refresh, against a local HTTP server: each new
//! story's page is fetched once (never more than the per-host limit at once),
//! never again on a later refresh or after a restart; a failing page is
//! retried on a later refresh while the story is served with its listing data.

#[path = "support/http_server.rs"]
mod http_server;

use std::path::Path;
use std::time::Duration;

use byline::config::Config;
use byline::fetch::{FetchOptions, Fetcher};
use byline::refresh::refresh_source;
use byline::store::{Selection, Store};
use chrono::{DateTime, TimeZone, Utc};
use http_server::{Reply, TestServer};

fn rss(server: &TestServer, n: usize) -> String {
    let mut out = String::from(
        r#"<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>http://127.0.0.1/</link><description>D</description>"#,
    );
    for i in 0..n {
        out.push_str(&format!(
            "<item><title>Story {i} of the day</title><link>{}</link><description>Listing summary {i}.</description></item>",
            server.url(&format!("/a/{i}/"))
        ));
    }
    out.push_str("</channel></rss>");
    out
}

fn article(i: usize) -> Reply {
    let body = format!(
        r#"<!DOCTYPE html><html><head><title>Story {i}</title>
        <meta property="og:image" content="/img/{i}.jpg">
        <script type="application/ld+json">{{"@type":"NewsArticle","headline":"Story {i} of the day",
          "datePublished":"2022-05-20T08:{i:02}:00Z","dateModified":"2022-05-21T09:00:00Z",
          "author":{{"@type":"Person","name":"Writer {i}"}}}}</script></head>
        <body><article><h1>Story {i} of the day</h1><div class="entry-content">
        <p>The full text of story {i} begins here, with enough words to be a paragraph of its own.</p>
        <p>A second paragraph follows, with a <a href="/more/{i}">relative link</a> and more words.</p>
        <div class="share">Share this:</div></div></article></body></html>"#
    );
    // A short delay makes overlapping requests visible to the server.
    Reply::Delayed(
        Duration::from_millis(20),
        Box::new(Reply::Page {
            body: body.into_bytes(),
            content_type: "text/html; charset=utf-8".into(),
            etag: None,
            last_modified: None,
        }),
    )
}

fn config(dir: &Path, feed: &str) -> Config {
    let toml = format!(
        "[store]\npath = \"s.db\"\n[[source]]\nname = \"news\"\nkind = \"feed\"\ninputs = [\"{feed}\"]\n\
         [source.article]\nmax_per_refresh = 50\ndelay_ms = 0\n"
    );
    Config::parse(&toml, "test.toml", dir).expect("test config")
}

fn fetcher() -> Fetcher {
    Fetcher::new(FetchOptions {
        timeout: Duration::from_secs(5),
        backoff: Duration::from_millis(10),
        ..FetchOptions::default()
    })
    .expect("fetcher")
}

fn article_requests(server: &TestServer, n: usize) -> usize {
    (0..n)
        .map(|i| server.counts(&format!("/a/{i}/")).requests)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_new_story_is_read_once_and_failures_retry_later() {
    let server = TestServer::start().await;
    server.set(
        "/feed.xml",
        Reply::Page {
            body: rss(&server, 20).into_bytes(),
            content_type: "application/rss+xml".into(),
            etag: Some("\"v1\"".into()),
            last_modified: None,
        },
    );
    for i in 0..20 {
        server.set(&format!("/a/{i}/"), article(i));
    }
    // Story 7's page fails once, then works.
    server.script("/a/7/", vec![Reply::status(404), article(7)]);
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &server.url("/feed.xml"));
    let source = &config.sources[0];
    let fetcher = fetcher();
    let t0: DateTime<Utc> = Utc.with_ymd_and_hms(2022, 5, 21, 10, 0, 0).unwrap();
    let path = dir.path().join("s.db");

    let store = Store::open(&path).unwrap();
    let out = refresh_source(&store, &config, source, &fetcher, t0).await;
    assert!(!out.failed(), "{:?}", out.errors);
    assert_eq!(out.stats.new, 20);
    assert_eq!((out.articles_read, out.articles_failed), (19, 1));
    assert_eq!(article_requests(&server, 20), 20);
    assert!(
        server.max_in_flight() <= fetcher.options().per_host,
        "{} requests at once",
        server.max_in_flight()
    );

    let items = store.items(Selection::All, 100).unwrap();
    assert_eq!(items.len(), 20);
    let three = items
        .iter()
        .find(|i| i.title == "Story 3 of the day")
        .unwrap();
    let exact = chrono::DateTime::parse_from_rfc3339("2022-05-20T08:03:00Z").unwrap();
    assert_eq!(three.published.map(|p| p.instant()), Some(exact));
    assert_eq!(three.authors[0].name, "Writer 3");
    assert_eq!(
        three.image.as_deref(),
        Some(server.url("/img/3.jpg").as_str())
    );
    let content = three.content.as_deref().unwrap();
    assert!(content.contains("The full text of story 3"), "{content}");
    assert!(content.contains(&server.url("/more/3")), "{content}");
    assert!(!content.contains("Share this"), "{content}");
    // The failed one is served meanwhile, with what the listing gave.
    let seven = items
        .iter()
        .find(|i| i.title == "Story 7 of the day")
        .unwrap();
    assert_eq!(seven.content, None);
    assert_eq!(seven.summary.as_deref(), Some("Listing summary 7."));
    let state = store.article(&server.url("/a/7/")).unwrap().unwrap();
    assert_eq!((state.state.as_str(), state.attempts), ("due", 1));
    assert!(state.last_error.unwrap().contains("404"));

    // A second refresh soon after: nothing due, no article fetched.
    let out = refresh_source(
        &store,
        &config,
        source,
        &fetcher,
        t0 + chrono::Duration::minutes(1),
    )
    .await;
    assert_eq!((out.articles_read, out.articles_failed), (0, 0));
    assert_eq!(article_requests(&server, 20), 20);
    drop(store);

    // A restart, after the retry wait: only the failed page is fetched again.
    let store = Store::open(&path).unwrap();
    let later = t0 + chrono::Duration::hours(1);
    let out = refresh_source(&store, &config, source, &fetcher, later).await;
    assert_eq!((out.articles_read, out.articles_failed), (1, 0));
    assert_eq!(article_requests(&server, 20), 21);
    assert_eq!(server.counts("/a/7/").requests, 2);
    let items = store.items(Selection::All, 100).unwrap();
    let seven = items
        .iter()
        .find(|i| i.title == "Story 7 of the day")
        .unwrap();
    assert!(seven.content.as_deref().unwrap().contains("story 7"));
    let counts = store.article_counts("news").unwrap();
    assert_eq!((counts.due, counts.read, counts.failed), (0, 20, 0));

    // And later still: nothing more.
    let out = refresh_source(
        &store,
        &config,
        source,
        &fetcher,
        later + chrono::Duration::days(1),
    )
    .await;
    assert_eq!(out.articles_read + out.articles_failed, 0);
    assert_eq!(article_requests(&server, 20), 21);
}

/// `byline check` shows what each article page gave, with where each time
/// came from, for a source that reads them (the bundled saved pages).
#[test]
fn check_prints_what_article_pages_give() {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("feeds.toml");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_byline"))
        .args(["check", "nknews-latest", "--articles", "3", "--config"])
        .arg(&config)
        .output()
        .expect("byline runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let outage = text
        .split("  article ")
        .find(|a| a.starts_with("https://www.nknews.org/pro/major-outage"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        outage.contains("published: 2022-05-20T14:06:48+09:00 (json-ld)"),
        "{outage}"
    );
    assert!(outage.contains("authors:   Nils Weisensee"), "{outage}");
    assert!(
        outage.contains("content:   Several of North Korea"),
        "{outage}"
    );
    assert_eq!(text.matches("  article ").count(), 3, "{text}");
}
