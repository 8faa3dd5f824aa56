//! `byline suggest` on pages of several markup families: the suggested block
//! yields the expected items field by field, `byline check` on the printed
//! block gives the same items, furniture is never the listing, a live page's
//! linked feed is checked, and user-given urls are fetched safely (a local
//! server and a test resolver: no traffic leaves loopback).

mod common;
#[path = "support/http_server.rs"]
mod http_server;

use std::net::IpAddr;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use byline::adapters::Listing;
use byline::config::IpRange;
use byline::suggest::fetch::{Guard, GuardError, GuardOptions};
use byline::suggest::{Request, Suggestion};
use http_server::{Reply, TestServer};
use serde_json::Value;

/// Every tested page: (page under tests/fixtures, the url it was saved from,
/// expected file under tests/fixtures/expected), from `suggest/cases.json`.
fn cases() -> Vec<(String, String, String)> {
    let path = common::fixtures().join("suggest/cases.json");
    let text = std::fs::read_to_string(&path).expect("cases.json");
    let v: Value = serde_json::from_str(&text).expect("cases.json is JSON");
    v["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| {
            let field = |k: &str| c[k].as_str().expect("a string").to_owned();
            (field("page"), field("url"), field("expected"))
        })
        .collect()
}

fn runtime() -> tokio::runtime::Runtime {
    // Multi-threaded, so the test server answers while a test blocks on the binary.
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
}

fn request(file: &str, url: &str, all: bool) -> Request {
    Request {
        target: common::fixtures().join(file).display().to_string(),
        url: Some(url::Url::parse(url).expect("url")),
        all,
        allow: Vec::new(),
        config: None,
        editor: None,
    }
}

fn suggest(file: &str, url: &str, all: bool) -> Suggestion {
    runtime()
        .block_on(byline::suggest::suggest(&request(file, url, all)))
        .unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn binary(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_byline"))
        .args(args)
        .output()
        .expect("byline runs")
}

/// `byline suggest FILE --url URL` as a user runs it: its stdout.
fn printed(file: &str, url: &str) -> String {
    let path = common::fixtures().join(file);
    let out = binary(&["suggest", &path.display().to_string(), "--url", url]);
    assert!(
        out.status.success(),
        "{file}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// `byline check --json` on a config holding `text`: the items it read.
fn checked(text: &str, dir: &Path) -> Vec<Value> {
    let config = dir.join("feeds.toml");
    std::fs::write(&config, text).expect("write config");
    let out = binary(&["check", "--json", "-c", &config.display().to_string()]);
    assert!(
        out.status.success(),
        "byline check failed on\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("check prints JSON");
    v[0]["items"].as_array().cloned().unwrap_or_default()
}

#[test]
fn suggested_blocks_yield_the_expected_items() {
    let all = cases();
    assert!(all.len() >= 20, "cases.json lists {} pages", all.len());
    for (file, url, expected) in all {
        let s = suggest(&file, &url, false);
        let listing = Listing {
            items: s.items,
            ..Listing::default()
        };
        common::assert_matches_expected(&listing, &expected);
    }
}

#[test]
fn byline_check_on_the_printed_block_gives_the_same_items() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (file, url, _) in cases() {
        let text = printed(&file, &url);
        let from_check = checked(&text, dir.path());
        let from_suggest: Vec<Value> = suggest(&file, &url, false)
            .items
            .iter()
            .map(|i| serde_json::to_value(i).expect("item serializes"))
            .collect();
        assert_eq!(from_check, from_suggest, "{file}: check vs suggest");
        assert!(!from_check.is_empty(), "{file}");
    }
}

#[test]
fn the_printed_output_is_a_config_whose_block_is_the_suggestion() {
    let (file, url) = ("suggest/wordpress-blog.html", "https://blog.example/");
    let text = printed(file, url);
    let s = suggest(file, url, false);
    assert!(text.contains(&s.block), "{text}");
    // Everything besides the block is comments, so the whole output loads.
    let config = byline::config::Config::parse(&text, "out", Path::new("/")).expect("loads");
    let html = config.sources[0].html.as_ref().expect("an html source");
    assert!(
        !html.author_separators.is_empty(),
        "\"By A, B and C\" bylines are split: {text}"
    );
    assert!(text.contains("# yields 3 items"), "{text}");
}

#[test]
fn furniture_lists_are_rejected_with_their_reason() {
    let s = suggest("suggest/frontpage.html", "https://gazette.example/", true);
    let text = &s.text;
    assert!(
        text.contains("\"section.most-read ol > li\"") && text.contains("(most-read)"),
        "{text}"
    );
    assert!(
        text.contains("rejected: page furniture: inside <nav>"),
        "{text}"
    );
    assert!(
        text.contains("rejected: page furniture: inside <footer>"),
        "{text}"
    );
    for bad in ["most-read", "main-menu", "topics", "share"] {
        assert!(!s.block.contains(bad), "{bad} in the block:\n{}", s.block);
    }
    let wp = suggest("suggest/wordpress-blog.html", "https://blog.example/", true);
    // The "Recent Posts" widget repeats the posts; the tag cloud has no headlines.
    assert!(
        wp.text.contains("\"section.widget ul > li\" (score")
            && wp
                .text
                .contains("rejected: page furniture: inside \"widget\""),
        "{}",
        wp.text
    );
    assert!(!wp.text.contains("inside the page <header>"), "{}", wp.text);
    let urls: Vec<_> = wp.items.iter().filter_map(|i| i.url.as_deref()).collect();
    assert!(
        urls.iter()
            .all(|u| !u.contains("twitter") && !u.contains("/tag/"))
    );
}

#[test]
fn trusted_sources_lead_when_they_hold_as_many_stories() {
    let ld = suggest("suggest/jsonld-list.html", "https://coast.example/", true);
    assert!(ld.block.contains("jsonld = \"always\""), "{}", ld.text);
    // The cards beside it are the fallback selectors, and an alternative.
    assert!(ld.block.contains("item = \"li.headline\""), "{}", ld.block);
    assert!(
        ld.text.contains("repeated cards \"li.headline\" (score"),
        "{}",
        ld.text
    );
    let mf = suggest("suggest/hfeed.html", "https://sam.example/", false);
    assert!(mf.block.contains("item = \".h-entry\""), "{}", mf.block);
    let nx = suggest(
        "suggest/nextjs-blog.html",
        "https://app.example/blog",
        false,
    );
    assert!(nx.block.contains("kind = \"json\""), "{}", nx.block);
    assert!(
        nx.block
            .contains("url_template = \"https://app.example/blog/{}\""),
        "{}",
        nx.block
    );
}

#[test]
fn two_card_lists_are_both_items_in_page_order() {
    let s = suggest("suggest/frontpage.html", "https://gazette.example/", false);
    assert!(
        s.block.contains("item = \"div.lead-story, li.brief\""),
        "{}",
        s.block
    );
    assert_eq!(s.items.len(), 6);
}

#[test]
fn a_saved_page_without_a_url_uses_its_canonical_link() {
    let path = common::fixtures().join("html/nknews-2021.html");
    let req = Request {
        target: path.display().to_string(),
        url: None,
        all: false,
        allow: Vec::new(),
        config: None,
        editor: None,
    };
    let s = runtime()
        .block_on(byline::suggest::suggest(&req))
        .expect("suggestion");
    assert!(
        s.block
            .contains("url = \"https://www.nknews.org/category/news/page/2/\" }"),
        "{}",
        s.block
    );
    let listing = Listing {
        items: s.items,
        ..Listing::default()
    };
    common::assert_matches_expected(&listing, "nknews-2021.json");
}

#[test]
fn a_page_without_a_listing_is_an_error_that_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("about.html");
    std::fs::write(
        &path,
        "<html><body><nav><a href=/>Home</a><a href=/a>About</a></nav><p>We are a small team.</p></body></html>",
    )
    .expect("write");
    let out = binary(&["suggest", &path.display().to_string()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no listing found"), "{err}");
}

// ---- live pages: linked feeds and the guarded fetch ---------------------------------

fn loopback() -> Vec<IpRange> {
    vec![IpRange::parse("127.0.0.1").expect("range")]
}

fn html(body: String) -> Reply {
    Reply::Page {
        body: body.into_bytes(),
        content_type: "text/html; charset=utf-8".to_owned(),
        etag: None,
        last_modified: None,
    }
}

#[test]
fn a_live_page_gets_its_linked_feed_checked() {
    let rt = runtime();
    rt.block_on(async {
        let server = TestServer::start().await;
        let page = std::fs::read_to_string(common::fixtures().join("suggest/ghost-blog.html"))
            .expect("fixture")
            .replace("https://kitchen.example/rss/", &server.url("/rss/"));
        server.set("/", html(page));
        let feed = std::fs::read(common::fixtures().join("html/other-source.rss")).expect("rss");
        server.set(
            "/rss/",
            Reply::Page {
                body: feed,
                content_type: "application/rss+xml".to_owned(),
                etag: None,
                last_modified: None,
            },
        );
        let req = Request {
            target: server.url("/"),
            url: None,
            all: true,
            allow: loopback(),
            config: None,
            editor: None,
        };
        let s = byline::suggest::suggest(&req).await.expect("suggestion");
        assert!(s.block.contains("kind = \"feed\""), "{}", s.text);
        assert!(s.block.contains(&server.url("/rss/")), "{}", s.block);
        assert_eq!(s.items.len(), 5, "{}", s.text);
        assert!(
            s.text.contains("repeated cards \"article.post"),
            "{}",
            s.text
        );

        // Refused by default: the page is on loopback.
        let denied = Request {
            allow: Vec::new(),
            ..req
        };
        let e = byline::suggest::suggest(&denied)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("refused") && e.contains("loopback"), "{e}");
    });
}

fn guard(allow: Vec<IpRange>, names: &[(&'static str, &'static str)]) -> Guard {
    let names: Vec<(&'static str, IpAddr)> = names
        .iter()
        .map(|(n, a)| (*n, a.parse().expect("address")))
        .collect();
    Guard::new(GuardOptions {
        allow,
        lookup: Some(Arc::new(move |host: &str| {
            names
                .iter()
                .filter(|(n, _)| *n == host)
                .map(|(_, a)| *a)
                .collect()
        })),
        ..GuardOptions::default()
    })
    .expect("guard")
}

#[test]
fn private_addresses_are_refused_after_resolution() {
    let rt = runtime();
    rt.block_on(async {
        let server = TestServer::start().await;
        server.set("/page", html("<p>secret</p>".to_owned()));
        let port = url::Url::parse(&server.url("/")).unwrap().port().unwrap();
        let g = guard(
            Vec::new(),
            &[
                ("loopback.example", "127.0.0.1"),
                ("private.example", "10.1.2.3"),
                ("metadata.example", "169.254.169.254"),
                ("mixed.example", "93.184.216.34"),
            ],
        );
        for (host, range) in [
            ("loopback.example", "loopback"),
            ("private.example", "private"),
            ("metadata.example", "cloud metadata"),
        ] {
            let url = url::Url::parse(&format!("http://{host}:{port}/page")).unwrap();
            match g.get(&url).await {
                Err(GuardError::Refused {
                    range: r, host: h, ..
                }) => {
                    assert_eq!((r, h.as_str()), (range, host));
                }
                other => panic!("{host}: {other:?}"),
            }
        }
        for literal in [
            "http://127.0.0.1:1/",
            "http://10.0.0.1/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]/",
        ] {
            let url = url::Url::parse(literal).unwrap();
            assert!(
                matches!(g.get(&url).await, Err(GuardError::Refused { .. })),
                "{literal}"
            );
        }
        for scheme in ["file:///etc/passwd", "ftp://loopback.example/x"] {
            let url = url::Url::parse(scheme).unwrap();
            assert!(
                matches!(g.get(&url).await, Err(GuardError::Scheme { .. })),
                "{scheme}"
            );
        }
        assert_eq!(
            server.counts("/page").requests,
            0,
            "no request reached the server"
        );

        // Allowed explicitly, the same page is fetched.
        let allowed = guard(loopback(), &[("loopback.example", "127.0.0.1")]);
        let url = url::Url::parse(&format!("http://loopback.example:{port}/page")).unwrap();
        let got = allowed.get(&url).await.expect("allowed fetch");
        assert_eq!(got.bytes, b"<p>secret</p>");
    });
}

#[test]
fn every_redirect_is_checked_again() {
    let rt = runtime();
    rt.block_on(async {
        let server = TestServer::start().await;
        let port = url::Url::parse(&server.url("/")).unwrap().port().unwrap();
        let redirect = |to: String| Reply::Status {
            code: 302,
            headers: vec![("Location".to_owned(), to)],
            body: Vec::new(),
        };
        server.set(
            "/to-loopback",
            redirect(format!("http://127.0.0.2:{port}/x")),
        );
        server.set(
            "/to-private",
            redirect(format!("http://inside.example:{port}/x")),
        );
        server.set("/loop", redirect("/loop".to_owned()));
        server.set("/big", html("x".repeat(5000)));
        // A public-looking name that lands on the test server, which is allowed;
        // where it redirects to is not.
        let g = guard(
            loopback(),
            &[
                ("news.example", "127.0.0.1"),
                ("inside.example", "10.0.0.5"),
            ],
        );
        let at =
            |path: &str| url::Url::parse(&format!("http://news.example:{port}{path}")).unwrap();
        let e = g.get(&at("/to-loopback")).await.unwrap_err();
        assert!(
            matches!(
                e,
                GuardError::Refused {
                    range: "loopback",
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("127.0.0.2"), "{e}");
        let e = g.get(&at("/to-private")).await.unwrap_err();
        assert!(
            matches!(
                e,
                GuardError::Refused {
                    range: "private",
                    ..
                }
            ),
            "{e}"
        );
        assert_eq!(server.counts("/to-loopback").requests, 1);
        assert!(matches!(
            g.get(&at("/loop")).await,
            Err(GuardError::Redirects { .. })
        ));

        let small = Guard::new(GuardOptions {
            allow: loopback(),
            max_bytes: 1000,
            ..GuardOptions::default()
        })
        .expect("guard");
        let url = url::Url::parse(&server.url("/big")).unwrap();
        assert!(matches!(
            small.get(&url).await,
            Err(GuardError::TooLarge { max: 1000, .. })
        ));
    });
}

#[test]
fn the_cli_refuses_loopback_unless_allowed() {
    let rt = runtime();
    let server = rt.block_on(TestServer::start());
    let page = std::fs::read_to_string(common::fixtures().join("suggest/drupal-view.html"))
        .expect("fixture");
    server.set("/news", html(page));
    let url = server.url("/news");
    let out = binary(&["suggest", &url]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refused") && err.contains("127.0.0.1") && err.contains("loopback"),
        "{err}"
    );
    let out = binary(&["suggest", &url, "--allow", "127.0.0.1/32"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("item = \"div.views-row\"") && text.contains("# yields 3 items"),
        "{text}"
    );
    // The same allowance from a config's [suggest] table.
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("feeds.toml");
    std::fs::write(&config, "[suggest]\nallow = [\"127.0.0.0/8\"]\n").expect("config");
    let out = binary(&["suggest", &url, "-c", &config.display().to_string()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
