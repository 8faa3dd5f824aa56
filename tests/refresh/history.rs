//! What a refresh keeps: history, ids and edits in place across a changing
//! listing; a 304 that costs no parse; dumps imported beside live sources.

use super::*;

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
