//! The source editor driven like a person would, through WebDriver: Debian's
//! `chromedriver` runs headless Chromium; the test types a local fixture
//! server's url into the editor's field and submits, clicks a candidate,
//! changes a selector and sees the table and counts change, then copies the
//! block, which `byline check` reads to the same items. `.ci/run` installs
//! `chromium` and `chromium-driver`; without them `cargo test` skips this
//! test and says so, and under CI it fails (`support/tools.rs`).

mod common;
#[path = "support/http_server.rs"]
mod http_server;
#[path = "support/tools.rs"]
mod tools;
#[path = "support/webdriver.rs"]
mod webdriver;

use byline::config::IpRange;
use byline::suggest::fetch::GuardOptions;
use http_server::{Reply, TestServer};
use serde_json::Value;

#[test]
fn a_person_finds_picks_edits_and_copies_a_block() {
    if !tools::require("chromedriver", "chromium-driver") || !tools::require("chromium", "chromium")
    {
        return;
    }
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt.block_on(TestServer::start());
    let page = std::fs::read(common::fixtures().join("suggest/drupal-view.html")).expect("fixture");
    server.set(
        "/news",
        Reply::Page {
            body: page,
            content_type: "text/html; charset=utf-8".to_owned(),
            etag: None,
            last_modified: None,
        },
    );
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let editor = format!("http://{}/", listener.local_addr().expect("addr"));
    let options = GuardOptions {
        allow: vec![IpRange::parse("127.0.0.1").expect("range")],
        ..GuardOptions::default()
    };
    rt.spawn(byline::suggest::editor::serve(listener, options));
    let news = server.url("/news");
    let driver = webdriver::start_driver();
    let client = reqwest::Client::new();

    let block = rt.block_on(async {
        let profile = tempfile::tempdir().expect("profile");
        let s = webdriver::session(&client, &driver, profile.path()).await;

        // 1. Type the page's url and submit: the ranked candidates.
        s.go(&editor).await;
        s.replace_text("#page-url", &news).await;
        s.click("form button[type=submit]").await;
        let dom = s.source_with("<ol id=\"candidates\">").await;
        assert!(dom.contains("<ol id=\"candidates\">"), "{dom}");
        assert!(dom.contains("3 items"), "{dom}");

        // 2. Click the first candidate: its items, counts and block.
        s.click("a.pick").await;
        let dom = s.source_with("<tr class=\"item\">").await;
        assert_eq!(dom.matches("<tr class=\"item\">").count(), 3, "{dom}");
        assert!(dom.contains("3 of 3 items have a date"), "{dom}");
        let block = s.value_of("#block").await;
        assert!(block.contains("[[source]]"), "{block}");
        // The editor's own script runs (the CSP allows it by its hash): a
        // button copies the block.
        assert!(dom.contains("id=\"copy\""), "no copy button: {dom}");

        // 3. Change the date selector to one that finds no date, and apply.
        s.replace_text("#f-published", ".views-field-title span")
            .await;
        s.click("#apply").await;
        let dom = s.source_with("0 of 3 items have a date").await;
        assert!(dom.contains("0 of 3 items have a date"), "{dom}");
        let edited = s.value_of("#block").await;
        assert!(
            edited.contains("published = \".views-field-title span\""),
            "{edited}"
        );
        s.call(reqwest::Method::DELETE, "", Value::Null).await;
        block
    });

    // 4. The copied block reads, through byline check, to the items shown.
    let titles = common::check_titles(&block);
    assert_eq!(
        titles,
        [
            "Council approves budget for 2024",
            "New bike lanes open on Harbour Street",
            "Library hours extended through the winter"
        ]
    );
}
