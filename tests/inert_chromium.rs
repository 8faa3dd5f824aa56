//! Hostile input comes out inert where it is shown, checked in a real
//! browser: a feed whose titles and summaries carry scripts, event handlers
//! and `javascript:` links, and article pages whose bodies do too, go through
//! `byline serve` (listing, article pages, store, render); headless Chromium
//! then loads every feed, byline's HTML pages, and each story's full text as
//! a reader would show it (the `content_html` as a page of its own). Every
//! payload, if it ran, would set `window.__pwned` or the page title, or open
//! a dialog (which makes the next WebDriver call fail). `.ci/run` installs
//! `chromium` and `chromium-driver`; without them `cargo test` skips this
//! test and says so, and under CI it fails (`support/tools.rs`).

#[path = "support/http_server.rs"]
mod http_server;
#[path = "support/serve.rs"]
mod support_serve;
#[path = "support/tools.rs"]
mod tools;
#[path = "support/webdriver.rs"]
mod webdriver;

use http_server::{Reply, TestServer};
use serde_json::Value;

/// Every way a payload could run, each setting a marker.
const PAYLOAD: &str = r#"<script>window.__pwned='script';document.title='PWNED'</script><img src="x" onerror="window.__pwned='onerror';document.title='PWNED'"><svg onload="window.__pwned='svg'"></svg><iframe src="javascript:parent.__pwned='iframe'"></iframe><a href="javascript:window.__pwned='link'" id="bad">link</a>"#;

fn page(body: &str) -> Reply {
    Reply::Page {
        body: body.as_bytes().to_vec(),
        content_type: "text/html; charset=utf-8".to_owned(),
        etag: None,
        last_modified: None,
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[test]
fn hostile_titles_summaries_and_article_bodies_run_nowhere() {
    if !tools::require("chromedriver", "chromium-driver") || !tools::require("chromium", "chromium")
    {
        return;
    }
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let upstream = rt.block_on(TestServer::start());
    let items: String = (1..=3)
        .map(|n| {
            format!(
                "<item><title>{title}</title><link>{link}</link>\
                 <description>{summary}</description>\
                 <pubDate>Fri, 20 May 2022 0{n}:00:00 GMT</pubDate></item>",
                title = escape(&format!("Story {n} {PAYLOAD}")),
                link = upstream.url(&format!("/story-{n}/")),
                summary = escape(&format!("<p>Summary {n}</p>{PAYLOAD}")),
            )
        })
        .collect();
    upstream.set(
        "/feed.xml",
        Reply::Page {
            body: format!(
                "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Hostile</title>\
                 <link>{}</link><description>x</description>{items}</channel></rss>",
                upstream.url("/")
            )
            .into_bytes(),
            content_type: "application/rss+xml".to_owned(),
            etag: None,
            last_modified: None,
        },
    );
    for n in 1..=3 {
        upstream.set(
            &format!("/story-{n}/"),
            page(&format!(
                "<html><head><title>Story {n}</title></head><body><article>\
                 <h1>Story {n}</h1><div class=\"entry-content\">\
                 <p>The first paragraph of story {n}, long enough to be the story's text, with words.</p>\
                 {PAYLOAD}<p onmouseover=\"window.__pwned='hover'\">A second paragraph, \
                 <a href=\" JaVaScRiPt:window.__pwned='spaced'\">a link</a>, and more words.</p>\
                 </div></article></body></html>"
            )),
        );
    }
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("feeds.toml"),
        format!(
            "title = \"Hostile\"\n[server]\nrefresh_interval_secs = 0\n\
             [[source]]\nname = \"hostile\"\nkind = \"feed\"\ninputs = [\"{}\"]\n\
             [source.article]\ndelay_ms = 0\n",
            upstream.url("/feed.xml")
        ),
    )
    .expect("config");
    let server = support_serve::serve(dir.path(), &[], "info");
    let get = |path: &str| {
        rt.block_on(async {
            reqwest::get(format!("{}{path}", server.root))
                .await
                .expect("get")
                .text()
                .await
                .expect("body")
        })
    };
    // The full text arrived (else this would test nothing), sanitized.
    let feed: Value = serde_json::from_str(&get("/feed.json")).expect("JSON Feed");
    let contents: Vec<String> = feed["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["content_html"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(contents.len(), 3, "{feed}");
    for (n, html) in contents.iter().enumerate() {
        upstream.set(&format!("/reader-{n}.html"), page(html));
    }

    let mut urls: Vec<String> = [
        "/",
        "/feed.atom",
        "/feed.rss",
        "/feed.json",
        "/sources/hostile.html",
        "/sources/hostile.atom",
    ]
    .iter()
    .map(|p| format!("{}{p}", server.root))
    .collect();
    urls.extend((0..contents.len()).map(|n| upstream.url(&format!("/reader-{n}.html"))));

    let driver = webdriver::start_driver();
    let client = reqwest::Client::new();
    let profile = tempfile::tempdir().expect("profile");
    rt.block_on(async {
        let s = webdriver::session(&client, &driver, profile.path()).await;
        for url in &urls {
            s.go(url).await;
            // Let late handlers (image errors, iframes) fire.
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            let seen = s
                .run("return [String(window.__pwned), document.title, document.body ? document.body.innerText.length : 0]")
                .await;
            assert_eq!(seen[0], "undefined", "a payload ran at {url}: {seen}");
            assert_ne!(seen[1], "PWNED", "a payload ran at {url}: {seen}");
            assert!(seen[2].as_u64().unwrap_or(0) > 0, "{url} showed nothing: {seen}");
        }
        // The page shows the hostile title as text, and a javascript: link
        // that survived would run when clicked: there is none.
        s.go(&format!("{}/sources/hostile.html", server.root)).await;
        let links = s
            .run("return Array.from(document.querySelectorAll('a')).filter(a => a.protocol === 'javascript:').length")
            .await;
        assert_eq!(links, 0);
        let text = s.run("return document.body.innerText").await;
        assert!(text.as_str().unwrap_or("").contains("<script>"), "{text}");
        s.call(reqwest::Method::DELETE, "", Value::Null).await;
    });
}
