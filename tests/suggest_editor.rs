//! The source editor (`byline suggest --editor`) in a real headless Chromium:
//! enter a local fixture server's url, pick a candidate, change a selector
//! and see the counts change, then copy the block, which is what `suggest`
//! prints and which `byline check` reads to the same items. Chromium renders
//! each step's page (`--dump-dom`); every step is a plain GET form.

mod common;
#[path = "support/http_server.rs"]
mod http_server;

use std::process::Command;

use byline::config::IpRange;
use byline::suggest::fetch::GuardOptions;
use http_server::{Reply, TestServer};
use serde_json::Value;

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
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("feeds.toml");
    std::fs::write(&config, &block).expect("config");
    let out = Command::new(env!("CARGO_BIN_EXE_byline"))
        .args(["check", "--json", "-c", &config.display().to_string()])
        .output()
        .expect("byline runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let titles: Vec<&str> = v[0]["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["title"].as_str())
        .collect();
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
