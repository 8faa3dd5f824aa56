//! The source editor driven like a person would, through WebDriver: Debian's
//! `chromedriver` runs headless Chromium; the test types a local fixture
//! server's url into the editor's field and submits, clicks a candidate,
//! changes a selector and sees the table and counts change, then copies the
//! block, which `byline check` reads to the same items. `.ci/run` installs
//! `chromium` and `chromium-driver`; a missing one fails the test.

mod common;
#[path = "support/http_server.rs"]
mod http_server;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use byline::config::IpRange;
use byline::suggest::fetch::GuardOptions;
use http_server::{Reply, TestServer};
use serde_json::{Value, json};

/// A running chromedriver, killed when dropped.
struct Driver {
    child: Child,
    root: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// One WebDriver session's calls.
struct Session<'a> {
    client: &'a reqwest::Client,
    base: String,
}

impl Session<'_> {
    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.base);
        let mut request = self.client.request(method.clone(), &url);
        if method == reqwest::Method::POST {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let r = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        let bytes = r.bytes().await.expect("WebDriver answers");
        let v: Value = serde_json::from_slice(&bytes).expect("WebDriver answers JSON");
        assert!(v["value"].get("error").is_none(), "{url}: {}", v["value"]);
        v["value"].clone()
    }

    async fn go(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", json!({ "url": url }))
            .await;
    }

    async fn find(&self, css: &str) -> String {
        let v = self
            .call(
                reqwest::Method::POST,
                "/element",
                json!({ "using": "css selector", "value": css }),
            )
            .await;
        v[ELEMENT].as_str().expect("an element id").to_owned()
    }

    async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{e}/click"),
            json!({}),
        )
        .await;
    }

    async fn replace_text(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{e}/clear"),
            json!({}),
        )
        .await;
        if !text.is_empty() {
            self.call(
                reqwest::Method::POST,
                &format!("/element/{e}/value"),
                json!({ "text": text }),
            )
            .await;
        }
    }

    /// The page source once it contains `want` (a click's page may still be
    /// loading), or as it is after 10 s.
    async fn source_with(&self, want: &str) -> String {
        let started = Instant::now();
        loop {
            let dom = self.source().await;
            if dom.contains(want) || started.elapsed() > Duration::from_secs(10) {
                return dom;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn source(&self) -> String {
        self.call(reqwest::Method::GET, "/source", Value::Null)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    async fn value_of(&self, css: &str) -> String {
        let e = self.find(css).await;
        self.call(
            reqwest::Method::GET,
            &format!("/element/{e}/property/value"),
            Value::Null,
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }
}

fn start_driver() -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver runs (Debian's chromium-driver; .ci/run installs it)");
    Driver {
        child,
        root: format!("http://127.0.0.1:{port}"),
    }
}

#[test]
fn a_person_finds_picks_edits_and_copies_a_block() {
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
    let driver = start_driver();
    let client = reqwest::Client::new();

    let block = rt.block_on(async {
        // chromedriver takes a moment to listen.
        let started = Instant::now();
        while client
            .get(format!("{}/status", driver.root))
            .send()
            .await
            .is_err()
        {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver never answered"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().expect("profile");
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        }}});
        let answer = client
            .post(format!("{}/session", driver.root))
            .header("content-type", "application/json")
            .body(capabilities.to_string())
            .send()
            .await
            .expect("new session")
            .bytes()
            .await
            .expect("session answer");
        let created: Value = serde_json::from_slice(&answer).expect("session JSON");
        let id = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {created}"))
            .to_owned();
        let s = Session {
            client: &client,
            base: format!("{}/session/{id}", driver.root),
        };

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
