//! One pipeline, through the store: the real binary's `refresh`, `build`,
//! `serve` and `check` against a local HTTP server on 127.0.0.1 whose
//! listing changes, fails and comes back.

#[path = "support/http_server.rs"]
mod http_server;
#[path = "support/serve.rs"]
mod support_serve;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use http_server::{Reply, Story, TestServer, dump};

fn byline(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_byline"))
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("byline runs")
}

fn story(title: &str, author: &str, date: &str) -> Story {
    Story::new(title, &format!("Summary of {title}"), author, date)
}

/// A config with one live text source at `url`.
fn config(dir: &Path, url: &str, extra: &str) -> PathBuf {
    let path = dir.join("feeds.toml");
    std::fs::write(
        &path,
        format!(
            "base_url = \"http://127.0.0.1:9/\"\n[store]\npath = \"history.db\"\n\
             [server]\nrefresh_interval_secs = 0\n\
             [[source]]\nname = \"live\"\nkind = \"text\"\ntimezone = \"Asia/Seoul\"\n\
             inputs = [\"{url}\"]\n{extra}"
        ),
    )
    .expect("write config");
    path
}

/// Every file under `dir` (relative path -> bytes).
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(dir)
                    .expect("inside")
                    .display()
                    .to_string();
                out.insert(rel, std::fs::read(&path).expect("read"));
            }
        }
    }
    out
}

fn titles_in(feed: &str) -> Vec<String> {
    support_serve::json_feed_titles(feed.as_bytes())
}

const A: &str = "Alpha story rolls off the listing";
const B: &str = "Bravo story stays on the listing";
const C: &str = "Charlie story is new on the listing";

#[test]
fn roll_off_is_kept_and_build_and_serve_publish_the_same_bytes() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let upstream = rt.block_on(TestServer::start());
    upstream.set(
        "/news",
        Reply::text(dump(
            "May 21, 2022",
            &[
                story(B, "Jeongmin Kim", "May 20, 2022"),
                story(A, "Kelly Kasulis", "May 19, 2022"),
            ],
        )),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    config(dir.path(), &upstream.url("/news"), "");
    let first = byline(dir.path(), &["refresh"]);
    assert!(first.status.success(), "{first:?}");

    // The page drops a story and gains one.
    upstream.set(
        "/news",
        Reply::text(dump(
            "May 22, 2022",
            &[
                story(C, "Jeongmin Kim", "May 21, 2022"),
                story(B, "Jeongmin Kim", "May 20, 2022"),
            ],
        )),
    );
    let built = byline(dir.path(), &["build", "--out", "out"]);
    assert!(built.status.success(), "{built:?}");
    let out = dir.path().join("out");
    let feed = std::fs::read_to_string(out.join("feed.json")).expect("feed.json");
    assert_eq!(
        titles_in(&feed),
        [C, B, A],
        "every story ever seen, newest first"
    );
    let kelly = std::fs::read_to_string(out.join("authors/kelly-kasulis.json")).expect("author");
    assert_eq!(titles_in(&kelly), [A]);

    // `serve` on the same store publishes the same documents, byte for byte.
    let mut child = Command::new(env!("CARGO_BIN_EXE_byline"))
        .current_dir(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("NO_COLOR", "1")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("serve");
    let root = support_serve::listening(&mut child);
    support_serve::wait_ready(&root);
    let client = reqwest::Client::new();
    let files = snapshot(&out);
    let mut compared = 0;
    for (path, bytes) in files.iter().filter(|(p, _)| !p.starts_with('.')) {
        let body = rt.block_on(async {
            let r = client
                .get(format!("{root}/{path}"))
                .send()
                .await
                .expect("get");
            assert_eq!(r.status(), 200, "{path}");
            r.bytes().await.expect("body")
        });
        assert_eq!(
            &body[..],
            &bytes[..],
            "{path} differs between build and serve"
        );
        compared += 1;
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(compared >= 10, "compared {compared} documents");
}

#[test]
fn a_failed_read_leaves_the_site_byte_identical_and_gone_views_are_removed() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let upstream = rt.block_on(TestServer::start());
    upstream.set(
        "/news",
        Reply::text(dump(
            "May 21, 2022",
            &[
                story(B, "Jeongmin Kim", "May 20, 2022"),
                story(A, "Kelly Kasulis", "May 19, 2022"),
            ],
        )),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    config(
        dir.path(),
        &upstream.url("/news"),
        "retention_max_items = 2\n",
    );
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).expect("out");
    std::fs::write(out.join("robots.txt"), "User-agent: *\n").expect("a file of the web root");
    assert!(
        byline(dir.path(), &["build", "--out", "out"])
            .status
            .success()
    );
    let good = snapshot(&out);
    assert!(good.contains_key("authors/kelly-kasulis.atom"));

    // The site goes down: build fails loudly and changes nothing.
    upstream.set("/news", Reply::status(500));
    let failed = byline(dir.path(), &["build", "--out", "out"]);
    assert_eq!(failed.status.code(), Some(2), "{failed:?}");
    assert!(
        String::from_utf8_lossy(&failed.stderr).contains("500"),
        "{}",
        String::from_utf8_lossy(&failed.stderr)
    );
    assert_eq!(snapshot(&out), good, "every document byte-identical");

    // Back, with a new story: retention (2 items) drops Alpha, whose author
    // then has no story left; that author's files go, nothing else does.
    upstream.set(
        "/news",
        Reply::text(dump(
            "May 22, 2022",
            &[
                story(C, "Jeongmin Kim", "May 21, 2022"),
                story(B, "Jeongmin Kim", "May 20, 2022"),
            ],
        )),
    );
    let back = byline(dir.path(), &["build", "--out", "out"]);
    assert!(back.status.success(), "{back:?}");
    let now = snapshot(&out);
    for ext in ["atom", "rss", "json", "html"] {
        assert!(
            !now.contains_key(&format!("authors/kelly-kasulis.{ext}")),
            "{ext} of a view that no longer exists"
        );
    }
    assert!(now.contains_key("authors/jeongmin-kim.atom"));
    assert!(
        now.contains_key("robots.txt"),
        "files byline did not write stay"
    );
    let feed = String::from_utf8_lossy(&now["feed.json"]).into_owned();
    assert_eq!(titles_in(&feed), [C, B]);
}

/// A listing page whose dates a selector no longer finds, and one whose
/// dates are relative.
fn html_page(dates: &[&str]) -> String {
    let mut out = String::from("<!doctype html><html><body><main>\n");
    for (n, date) in dates.iter().enumerate() {
        out.push_str(&format!(
            "<div class=\"post\"><h3><a href=\"/story/{n}/\">Story number {n} of the day</a></h3>\
             <span class=\"by\">Min Chao Choy</span><em class=\"when\">{date}</em></div>\n"
        ));
    }
    out.push_str("</main></body></html>\n");
    out
}

fn html_config(dir: &Path, page: &Path, date_selector: &str) -> PathBuf {
    let path = dir.join("feeds.toml");
    std::fs::write(
        &path,
        format!(
            "[store]\npath = \"history.db\"\n\
             [[source]]\nname = \"blog\"\nkind = \"html\"\ntimezone = \"Asia/Seoul\"\n\
             inputs = [{{ file = \"{}\", url = \"https://blog.example/\" }}]\n\
             [source.html]\nitem = \"div.post\"\ntitle = \"h3 a\"\nurl = {{ css = \"h3 a\", attr = \"href\" }}\n\
             authors = \".by\"\npublished = \"{date_selector}\"\ndate_formats = [\"relative\", \"human\"]\n",
            page.display()
        ),
    )
    .expect("write config");
    path
}

#[test]
fn a_date_selector_that_matches_nothing_fails_check_and_never_dates_1970() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("page.html");
    std::fs::write(&page, html_page(&["May 20, 2022", "May 19, 2022"])).expect("page");
    html_config(dir.path(), &page, ".no-such-date");

    let check = byline(dir.path(), &["check"]);
    assert_eq!(check.status.code(), Some(2), "check must fail: {check:?}");
    let text = String::from_utf8_lossy(&check.stdout);
    assert!(text.contains("field published"), "{text}");
    let check_json = byline(dir.path(), &["check", "--json"]);
    assert!(!check_json.status.success());

    let built = byline(dir.path(), &["build", "--out", "out"]);
    assert!(built.status.success(), "{built:?}");
    let files = snapshot(&dir.path().join("out"));
    assert!(files.len() > 10);
    for (path, bytes) in &files {
        let text = String::from_utf8_lossy(bytes);
        assert!(!text.contains("1970"), "{path} says 1970:\n{text}");
    }
    // The stories are dated when first seen: today.
    let feed = String::from_utf8_lossy(&files["feed.atom"]).into_owned();
    let year = chrono::Utc::now().format("%Y").to_string();
    assert!(feed.contains(&format!("<updated>{year}")), "{feed}");
}

#[test]
fn a_relative_date_read_again_an_hour_later_does_not_move() {
    use byline::config::Config;
    use byline::fetch::{FetchOptions, Fetcher};
    use byline::refresh::refresh_source;
    use byline::store::{Selection, Store};

    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("page.html");
    std::fs::write(&page, html_page(&["3 hours ago", "5 hours ago"])).expect("page");
    let config = Config::load(&html_config(dir.path(), &page, ".when")).expect("config");
    let store = Store::open(dir.path().join("history.db")).expect("store");
    let fetcher = Fetcher::new(FetchOptions::default()).expect("fetcher");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let t0 = chrono::DateTime::parse_from_rfc3339("2026-05-20T09:30:12.345+00:00")
        .expect("t0")
        .to_utc();
    let source = &config.sources[0];
    let first = rt.block_on(refresh_source(&store, &config, source, &fetcher, t0));
    assert_eq!(first.stats.new, 2, "{:?}", first.errors);
    let before = store.stored(Selection::All, 10).expect("stored");
    let published = |s: &byline::store::StoredItem| s.item.published.map(|p| p.to_display());
    // Whole seconds, three hours before the fetch.
    assert_eq!(
        published(&before[0]).as_deref(),
        Some("2026-05-20T15:30:12+09:00"),
        "{before:?}"
    );

    // An hour later the page says "4 hours ago" (and "6 hours ago"), and the
    // file changed, so it is read again.
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(&page, html_page(&["4 hours ago", "6 hours ago"])).expect("page");
    let t1 = t0 + chrono::Duration::minutes(61);
    let second = rt.block_on(refresh_source(&store, &config, source, &fetcher, t1));
    assert_eq!(second.pages, 1, "read again: {second:?}");
    assert_eq!(
        (second.stats.new, second.stats.updated),
        (0, 0),
        "{second:?}"
    );
    let after = store.stored(Selection::All, 10).expect("stored");
    for (a, b) in before.iter().zip(&after) {
        assert_eq!(published(a), published(b));
        assert_eq!(b.item.updated, None);
    }
}
