//! Upstream faults, each recorded in the fetch state and none losing a
//! stored item: errors, a short `Retry-After`, oversized and truncated pages.

use super::*;

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
