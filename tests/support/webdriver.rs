//! A WebDriver client for tests: Debian's `chromedriver` driving headless
//! Chromium (`.ci/run` installs `chromium` and `chromium-driver`; a missing
//! one fails the test that asks for it).
#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// A running chromedriver, killed when dropped.
pub struct Driver {
    child: Child,
    pub root: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// One WebDriver session's calls.
pub struct Session<'a> {
    client: &'a reqwest::Client,
    base: String,
}

impl Session<'_> {
    /// Run `script` in the page and return its value.
    pub async fn run(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            json!({ "script": script, "args": [] }),
        )
        .await
    }

    pub async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
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

    pub async fn go(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", json!({ "url": url }))
            .await;
    }

    pub async fn find(&self, css: &str) -> String {
        let v = self
            .call(
                reqwest::Method::POST,
                "/element",
                json!({ "using": "css selector", "value": css }),
            )
            .await;
        v[ELEMENT].as_str().expect("an element id").to_owned()
    }

    pub async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{e}/click"),
            json!({}),
        )
        .await;
    }

    pub async fn replace_text(&self, css: &str, text: &str) {
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
    pub async fn source_with(&self, want: &str) -> String {
        let started = Instant::now();
        loop {
            let dom = self.source().await;
            if dom.contains(want) || started.elapsed() > Duration::from_secs(10) {
                return dom;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn source(&self) -> String {
        self.call(reqwest::Method::GET, "/source", Value::Null)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub async fn value_of(&self, css: &str) -> String {
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

pub fn start_driver() -> Driver {
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

/// A new headless Chromium session on `driver`, its profile in `profile`.
pub async fn session<'a>(
    client: &'a reqwest::Client,
    driver: &Driver,
    profile: &Path,
) -> Session<'a> {
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
    let capabilities = json!({ "capabilities": { "alwaysMatch": {
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                format!("--user-data-dir={}", profile.display()),
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
    Session {
        client,
        base: format!("{}/session/{id}", driver.root),
    }
}
