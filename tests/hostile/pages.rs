//! Pages built to cost: deep nesting for the DOM engine and for `suggest`,
//! and heavy pages that must not stall `/healthz`.

use super::*;

#[test]
fn a_deeply_nested_page_is_refused_by_the_dom_engine_in_moments() {
    let _serial = timed();
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("deep.html");
    std::fs::write(&page, deep_page(100_000)).expect("page");
    let config = config(
        dir.path(),
        &format!(
            "[[source]]\nname = \"deep\"\nkind = \"html\"\n\
             inputs = [{{ file = \"{}\", url = \"https://deep.example/\" }}]\n\
             [source.html]\nengine = \"dom\"\nitem = \"article.c\"\ntitle = \"h2 a\"\n",
            page.display()
        ),
    );
    let fetcher = Fetcher::new(FetchOptions::default()).expect("fetcher");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let started = Instant::now();
    let read = rt.block_on(read_source(
        &config.sources[0],
        &config.sources[0].inputs,
        &fetcher,
        &HashMap::new(),
        chrono::Utc::now(),
    ));
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let error = read.errors().next().expect("refused");
    assert_eq!(error.stage, Stage::Parse);
    assert!(error.message.contains("nests elements"), "{error}");
    assert!(read.items.is_empty());
}

/// Parsing runs off the async workers: while two sources with heavy pages
/// refresh every second, `/healthz` keeps answering at once.
#[test]
fn heavy_pages_do_not_stall_healthz() {
    let _serial = timed();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let upstream = rt.block_on(TestServer::start());
    // A large shallow page (many cards, a DOM-only selector) and a deep one.
    let mut wide = String::from("<html><body>");
    for n in 0..20_000 {
        wide.push_str(&format!(
            "<article class=\"c\"><h2><a href=\"/s/{n}\">Story number {n} of a very long page</a></h2><p>x</p></article>"
        ));
    }
    wide.push_str("</body></html>");
    // No validators: every refresh fetches and parses again.
    let page = |body: String| Reply::Page {
        body: body.into_bytes(),
        content_type: "text/html; charset=utf-8".to_owned(),
        etag: None,
        last_modified: None,
    };
    upstream.set("/wide", page(wide));
    upstream.set("/deep", page(deep_page(100_000)));
    let dir = tempfile::tempdir().expect("tempdir");
    let mut text = String::from("[server]\nrefresh_interval_secs = 1\n");
    for name in ["wide", "deep"] {
        text.push_str(&format!(
            "[[source]]\nname = \"{name}\"\nkind = \"html\"\ninputs = [\"{}\"]\n\
             [source.html]\nitem = \"article.c:has(p)\"\ntitle = \"h2 a\"\n",
            upstream.url(&format!("/{name}"))
        ));
    }
    config(dir.path(), &text);
    let server = serve(dir.path());
    let client = reqwest::Client::new();
    // Serving starts after the first refresh; probe the ones after it.
    let first = rt.block_on(client.get(format!("{}/healthz", server.root)).send());
    assert!(first.is_ok(), "{first:?}");
    let parsed_before = upstream.counts("/wide").requests;
    let mut times = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(4);
    while Instant::now() < deadline {
        let t = Instant::now();
        let status = rt.block_on(async {
            client
                .get(format!("{}/healthz", server.root))
                .timeout(Duration::from_secs(10))
                .send()
                .await
                .map(|r| r.status().as_u16())
        });
        times.push(t.elapsed());
        assert!(status.is_ok(), "healthz answered: {status:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    times.sort();
    let p90 = times[times.len() * 9 / 10];
    assert!(
        p90 < Duration::from_millis(100),
        "healthz p90 {p90:?} over {} probes",
        times.len()
    );
    assert!(
        upstream.counts("/wide").requests > parsed_before,
        "the heavy source refreshed meanwhile"
    );
}

/// `suggest` (and so the editor) refuses a deeply nested page in moments,
/// with the same check as the DOM engine.
#[test]
fn suggest_refuses_a_deeply_nested_page_in_moments() {
    let _serial = timed();
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("deep.html");
    std::fs::write(&page, deep_page(100_000)).expect("page");
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_byline"))
        .arg("suggest")
        .arg(&page)
        .args(["--url", "https://deep.example/"])
        .output()
        .expect("byline runs");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nests elements"), "{err}");
}
