//! The source editor (`byline suggest --editor`) in a real headless Chromium:
//! enter a local fixture server's url, pick a candidate, change a selector
//! and see the counts change, then copy the block, which is what `suggest`
//! prints and which `byline check` reads to the same items. Chromium renders
//! each step's page (`--dump-dom`); every step is a plain GET form. Without
//! `chromium` on PATH `cargo test` skips the browser test and says so; under
//! CI it fails (`support/tools.rs`).

mod common;
#[path = "support/http_server.rs"]
mod http_server;
#[path = "support/tools.rs"]
mod tools;

use std::process::Command;

use byline::config::IpRange;
use byline::suggest::fetch::GuardOptions;
use http_server::{Reply, TestServer};

/// The page as headless Chromium renders it.
fn chromium(url: &str) -> String {
    let profile = tempfile::tempdir().expect("profile dir");
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            &format!("--user-data-dir={}", profile.path().display()),
            "--dump-dom",
            url,
        ])
        .output()
        .expect("chromium runs (Debian's chromium package; .ci/run installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Text between `open` and the next `close`, HTML entities of text undone.
fn between(dom: &str, open: &str, close: &str) -> String {
    let start = dom
        .find(open)
        .unwrap_or_else(|| panic!("{open:?} not in\n{dom}"))
        + open.len();
    let end = dom[start..].find(close).expect("close") + start;
    dom[start..end]
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn query(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

#[test]
fn pick_edit_and_copy_in_a_real_browser() {
    if !tools::require("chromium", "chromium") {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
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

    // 1. Enter the url: the ranked candidates, with counts and samples.
    let dom = chromium(&format!("{editor}?{}", query(&[("url", &news)])));
    assert!(dom.contains("<ol id=\"candidates\">"), "{dom}");
    assert!(
        dom.contains("repeated cards \"div.views-row\"</a>: 3 items"),
        "{dom}"
    );
    assert!(
        dom.contains("<li>Council approves budget for 2024</li>"),
        "{dom}"
    );
    assert!(
        dom.contains("rejected: page furniture: inside &lt;nav&gt;"),
        "{dom}"
    );
    let pick = between(&dom, "<a class=\"pick\" href=\"", "\"");

    // 2. Pick the first candidate: its items, per-field counts and the block.
    let dom = chromium(&format!("{editor}{pick}"));
    assert_eq!(dom.matches("<tr class=\"item\">").count(), 3, "{dom}");
    assert!(dom.contains("3 of 3 items have a date"), "{dom}");
    assert!(dom.contains("2 of 3 items have an image"), "{dom}");
    let block = between(
        &dom,
        "<textarea id=\"block\" readonly=\"\" rows=\"",
        "</textarea>",
    );
    let block = block[block.find('>').expect("tag end") + 1..].to_owned();

    // 3. Change a selector: the table and the counts follow.
    let edited = format!(
        "{editor}?{}",
        query(&[
            ("url", &news),
            ("pick", "0"),
            ("sel_published", ".views-field-title span"),
            ("sel_image", "")
        ])
    );
    let dom = chromium(&edited);
    assert!(dom.contains("0 of 3 items have a date"), "{dom}");
    assert!(dom.contains("0 of 3 items have an image"), "{dom}");
    assert!(dom.contains("value=\".views-field-title span\""), "{dom}");
    let edited_block = between(&dom, "cols=\"100\">", "</textarea>");
    assert!(
        edited_block.contains("published = \".views-field-title span\""),
        "{edited_block}"
    );
    assert!(!edited_block.contains("image ="), "{edited_block}");

    // 4. The copied block is what `suggest` prints for the same choice...
    let out = Command::new(env!("CARGO_BIN_EXE_byline"))
        .args(["suggest", &news, "--allow", "127.0.0.1"])
        .output()
        .expect("byline runs");
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        printed.contains(&block),
        "editor block\n{block}\nnot in\n{printed}"
    );

    // 5. ...and byline check reads it to the items the editor showed.
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

#[test]
fn the_editor_listens_only_on_loopback() {
    let out = Command::new(env!("CARGO_BIN_EXE_byline"))
        .args(["suggest", "--editor", "0.0.0.0:0"])
        .output()
        .expect("byline runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("only on a loopback address"), "{err}");
}

/// `byline serve` with `[editor] listen` serves the editor beside the feeds;
/// a non-loopback `listen` is a config error naming the line.
#[test]
fn serve_runs_the_editor_when_configured() {
    use std::io::{BufRead, BufReader, Read, Write};
    let dir = tempfile::tempdir().expect("tempdir");
    let dump = common::fixtures().join("text/nknews-2021-03-04.txt");
    let config = dir.path().join("feeds.toml");
    let body = |listen: &str| {
        format!(
            "[server]\nrefresh_interval_secs = 0\n[editor]\nlisten = \"{listen}\"\n\
             [[source]]\nname = \"dump\"\nkind = \"text\"\ninputs = [\"{}\"]\n",
            dump.display()
        )
    };
    std::fs::write(&config, body("0.0.0.0:8081")).expect("config");
    let refused = Command::new(env!("CARGO_BIN_EXE_byline"))
        .args(["check", "--config"])
        .arg(&config)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("feeds.toml:4:") && stderr.contains("not a loopback"),
        "{stderr}"
    );

    std::fs::write(&config, body("127.0.0.1:0")).expect("config");
    let mut child = Command::new(env!("CARGO_BIN_EXE_byline"))
        .current_dir(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("serve");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("editor on http://").nth(1) {
                let _ = tx.send(rest.trim_end().trim_end_matches('/').to_owned());
            }
        }
    });
    let addr = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("an `editor on` line");
    let mut s = std::net::TcpStream::connect(&addr).expect("connect");
    s.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .expect("request");
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("answer");
    let _ = child.kill();
    let _ = child.wait();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("<form"), "{answer}");
    assert!(
        answer.contains("content-security-policy: default-src 'none'"),
        "{answer}"
    );
}
