//! `byline serve` as readers and proxies see it: the real binary on
//! 127.0.0.1, the fixtures as sources, requests over TCP.
//!
//! Every test starts its own server on port 0 and learns the port from the
//! `listening on http://ADDR/` log line.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

/// Fixture helpers, as in `tests/common` (kept here so this file stands alone).
#[path = "support/serve.rs"]
mod support_serve;
mod common {
    use std::path::{Path, PathBuf};

    pub fn fixtures() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
    }

    /// `expected/NAME.json`, parsed.
    pub fn expected(name: &str) -> serde_json::Value {
        let path = fixtures().join("expected").join(name);
        let text = std::fs::read_to_string(&path).unwrap();
        serde_json::from_str(&text).unwrap()
    }
}

/// A running `byline serve`; killed when dropped.
struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`
    root: String,
    addr: String,
    log: support_serve::Log,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Serve the fixtures (two text dumps, an RSS and an Atom feed) with
    /// `base_url` and extra `[server]` keys.
    fn start(base_url: &str, server_keys: &str) -> Server {
        let fixtures = common::fixtures();
        let f = |p: &str| fixtures.join(p).display().to_string();
        let config = format!(
            r#"title = "Test feeds"
base_url = "{base_url}"

[server]
cache_max_age = 120
header_timeout_secs = 1
{server_keys}

[[source]]
name = "nknews"
kind = "text"
title = "NK News"
link = "https://www.nknews.org/"
timezone = "Asia/Seoul"
inputs = [
  {{ file = "{t1}", url = "https://www.nknews.org/category/news/page/2/", captured = "2021-03-04" }},
  "{t2}",
]

[[source]]
name = "monitor"
kind = "feed"
inputs = ["{rss}"]

[[source]]
name = "tracker"
kind = "feed"
inputs = ["{atom}"]

[[feed]]
name = "tagged"
title = "Tagged stories"
tags = ["{tag}"]
"#,
            tag = tagged_author().0,
            t1 = f("text/nknews-2021-03-04.txt"),
            t2 = f("text/nknews-2022-05-21.txt"),
            rss = f("html/other-source.rss"),
            atom = f("html/other-source.atom"),
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("feeds.toml");
        std::fs::write(&path, config).unwrap();
        Server::spawn(&path, dir)
    }

    fn spawn(config: &Path, dir: tempfile::TempDir) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_byline"))
            .args(["serve", "--config"])
            .arg(config)
            .args(["--listen", "127.0.0.1:0"])
            .env("NO_COLOR", "1")
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (root, log) = support_serve::listening_logged(&mut child);
        let addr = root.trim_start_matches("http://").to_owned();
        support_serve::wait_ready(&root);
        Server {
            child,
            root,
            addr,
            log,
            _dir: dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.root)
    }

    fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client that shows responses as sent: no automatic decompression.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .no_deflate()
        .build()
        .unwrap()
}

async fn get(url: &str) -> reqwest::Response {
    client().get(url).send().await.unwrap()
}

async fn json(url: &str) -> Value {
    let r = get(url).await;
    assert_eq!(r.status(), StatusCode::OK, "{url}");
    serde_json::from_slice(&r.bytes().await.unwrap()).unwrap()
}

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// Send raw bytes and read the whole answer (the server closes or times out).
fn raw(addr: &str, request: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

fn split_response(bytes: &[u8]) -> (String, Vec<u8>) {
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response head");
    (
        String::from_utf8_lossy(&bytes[..end]).into_owned(),
        bytes[end + 4..].to_vec(),
    )
}

/// A tag from the fixtures (the 2022 dump labels some stories) and an author
/// of one of its stories, as (tag name, author name).
fn tagged_author() -> (String, String) {
    let expected = common::expected("nknews-2022-05-21.json");
    let item = expected["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| !i["tags"].as_array().unwrap().is_empty())
        .expect("a tagged item in the fixture");
    (
        item["tags"][0].as_str().unwrap().to_owned(),
        item["authors"][0].as_str().unwrap().to_owned(),
    )
}

fn slug(name: &str) -> String {
    byline::model::slugify(name)
}

fn item_titles(feed: &Value) -> Vec<String> {
    feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_owned())
        .collect()
}

fn has(list: &Value, key: Option<&str>, want: &str) -> bool {
    list.as_array().is_some_and(|a| {
        a.iter()
            .any(|v| key.map_or(v, |k| &v[k]).as_str() == Some(want))
    })
}

#[tokio::test]
async fn content_types_of_every_format() {
    let s = Server::start("http://127.0.0.1:8080/", "");
    let (_, author) = tagged_author();
    let a = slug(&author);
    for (path, want) in [
        ("/feed.atom", "application/atom+xml; charset=utf-8"),
        ("/feed.rss", "application/rss+xml; charset=utf-8"),
        ("/feed.json", "application/feed+json; charset=utf-8"),
        (
            &format!("/authors/{a}.atom"),
            "application/atom+xml; charset=utf-8",
        ),
        (
            &format!("/authors/{a}.rss"),
            "application/rss+xml; charset=utf-8",
        ),
        (
            &format!("/authors/{a}.json"),
            "application/feed+json; charset=utf-8",
        ),
        (&format!("/authors/{a}"), "text/html; charset=utf-8"),
        (&format!("/authors/{a}.html"), "text/html; charset=utf-8"),
        (
            "/sources/nknews.atom",
            "application/atom+xml; charset=utf-8",
        ),
        ("/sources/monitor", "text/html; charset=utf-8"),
        ("/feeds/tagged.rss", "application/rss+xml; charset=utf-8"),
        ("/feeds/tagged", "text/html; charset=utf-8"),
        ("/authors.opml", "text/x-opml; charset=utf-8"),
        ("/", "text/html; charset=utf-8"),
        ("/index.html", "text/html; charset=utf-8"),
        ("/opml", "text/x-opml; charset=utf-8"),
        ("/opml.xml", "text/x-opml; charset=utf-8"),
        ("/healthz", "application/json; charset=utf-8"),
        ("/metrics", "text/plain; version=0.0.4; charset=utf-8"),
    ] {
        let r = get(&s.url(path)).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&r, "content-type"), want, "{path}");
        let body = r.bytes().await.unwrap();
        assert!(!body.is_empty(), "{path}: empty body");
    }
    // The extension-less page and the .html file are one document.
    let page = get(&s.url(&format!("/authors/{a}"))).await;
    let html = get(&s.url(&format!("/authors/{a}.html"))).await;
    assert_eq!(header(&page, "etag"), header(&html, "etag"));
    // Each feed parses as what its type says.
    for ext in ["atom", "rss", "json"] {
        let body = get(&s.url(&format!("/authors/{a}.{ext}")))
            .await
            .bytes()
            .await
            .unwrap();
        let feed = feed_rs::parser::parse(&body[..]).unwrap_or_else(|e| panic!("{ext}: {e}"));
        assert!(!feed.entries.is_empty(), "{ext}: no entries");
        assert!(
            feed.entries.iter().all(|e| e
                .authors
                .iter()
                .any(|p| p.name.as_deref() == Some(author.as_str()))),
            "{ext}: an entry not by {author}"
        );
    }
}

#[tokio::test]
async fn conditional_get_by_etag_and_date() {
    let s = Server::start("http://127.0.0.1:8080/", "");
    let c = client();
    let url = s.url("/feed.atom");
    let first = c.get(&url).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let etag = header(&first, "etag");
    let modified = header(&first, "last-modified");
    assert!(
        etag.starts_with('"') && etag.ends_with('"') && etag.len() > 10,
        "strong ETag: {etag}"
    );
    assert!(modified.ends_with(" GMT"), "Last-Modified: {modified}");
    assert_eq!(header(&first, "cache-control"), "public, max-age=120");
    assert!(header(&first, "vary").contains("Accept-Encoding"));

    let by_tag = c
        .get(&url)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(by_tag.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&by_tag, "etag"), etag);
    assert_eq!(header(&by_tag, "cache-control"), "public, max-age=120");
    assert!(by_tag.bytes().await.unwrap().is_empty());

    let by_date = c
        .get(&url)
        .header("If-Modified-Since", &modified)
        .send()
        .await
        .unwrap();
    assert_eq!(by_date.status(), StatusCode::NOT_MODIFIED);

    // Older copy, other tag: the full document again.
    let stale = c
        .get(&url)
        .header("If-Modified-Since", "Thu, 01 Jan 2015 00:00:00 GMT")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::OK);
    let other = c
        .get(&url)
        .header("If-None-Match", "\"not-this-one\"")
        .header("If-Modified-Since", &modified)
        .send()
        .await
        .unwrap();
    assert_eq!(
        other.status(),
        StatusCode::OK,
        "If-None-Match decides over If-Modified-Since"
    );

    // The tag is a digest of the content: a restarted server gives the same one.
    drop(s);
    let again = Server::start("http://127.0.0.1:8080/", "");
    let r = get(&again.url("/feed.atom")).await;
    assert_eq!(header(&r, "etag"), etag);
    assert_eq!(header(&r, "last-modified"), modified);
}

#[tokio::test]
async fn head_sends_the_headers_of_get_without_a_body() {
    let s = Server::start("http://127.0.0.1:8080/", "");
    for path in [
        "/feed.rss",
        "/",
        "/opml",
        "/authors/nobody.atom",
        "/healthz",
    ] {
        let get = raw(
            &s.addr,
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        );
        let head = raw(
            &s.addr,
            format!("HEAD {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        );
        let (get_head, get_body) = split_response(&get);
        let (head_head, head_body) = split_response(&head);
        assert!(head_body.is_empty(), "{path}: HEAD sent a body");
        let status = |h: &str| h.lines().next().unwrap().to_owned();
        assert_eq!(status(&head_head), status(&get_head), "{path}");
        let fields = |h: &str| -> Vec<String> {
            h.lines()
                .skip(1)
                .filter(|l| !l.to_ascii_lowercase().starts_with("date:"))
                .map(str::to_ascii_lowercase)
                .collect()
        };
        assert_eq!(fields(&head_head), fields(&get_head), "{path}");
        let length = format!("content-length: {}", get_body.len());
        assert!(
            fields(&head_head).contains(&length),
            "{path}: HEAD should say {length}"
        );
    }
}

#[tokio::test]
async fn gzip_and_brotli_decode_to_the_same_bytes() {
    let s = Server::start("http://127.0.0.1:8080/", "");
    let c = client();
    for path in ["/feed.atom", "/feed.json", "/", "/opml"] {
        let url = s.url(path);
        let plain = c.get(&url).send().await.unwrap();
        assert_eq!(header(&plain, "content-encoding"), "", "{path}");
        let plain_tag = header(&plain, "etag");
        let plain = plain.bytes().await.unwrap();

        let gz = c
            .get(&url)
            .header("Accept-Encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(header(&gz, "content-encoding"), "gzip", "{path}");
        assert_eq!(header(&gz, "vary"), "Accept-Encoding", "{path}");
        let gz_tag = header(&gz, "etag");
        let gz = gz.bytes().await.unwrap();
        assert!(gz.len() < plain.len(), "{path}: gzip is not smaller");
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut decoded)
            .unwrap();
        assert_eq!(decoded, plain, "{path}: gzip");

        let br = c
            .get(&url)
            .header("Accept-Encoding", "gzip, deflate, br")
            .send()
            .await
            .unwrap();
        assert_eq!(header(&br, "content-encoding"), "br", "{path}");
        let br_tag = header(&br, "etag");
        let br = br.bytes().await.unwrap();
        let mut decoded = Vec::new();
        brotli::Decompressor::new(&br[..], 4096)
            .read_to_end(&mut decoded)
            .unwrap();
        assert_eq!(decoded, plain, "{path}: brotli");

        // Each representation has its own strong tag.
        assert!(plain_tag != gz_tag && gz_tag != br_tag && plain_tag != br_tag);
        // ... and any of them revalidates the document.
        let revalidated = c
            .get(&url)
            .header("Accept-Encoding", "br")
            .header("If-None-Match", &gz_tag)
            .send()
            .await
            .unwrap();
        assert_eq!(revalidated.status(), StatusCode::NOT_MODIFIED, "{path}");

        let refused = c
            .get(&url)
            .header("Accept-Encoding", "br;q=0, gzip;q=0")
            .send()
            .await
            .unwrap();
        assert_eq!(header(&refused, "content-encoding"), "", "{path}");
    }
}

#[tokio::test]
async fn errors_explain_themselves() {
    let s = Server::start("http://127.0.0.1:8080/", "");
    let (_, author) = tagged_author();
    let c = client();

    let r = get(&s.url("/authors/no-such-person.atom")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(header(&r, "content-type"), "text/plain; charset=utf-8");
    let body = r.text().await.unwrap();
    assert!(body.contains("no-such-person"), "{body}");
    assert!(body.contains(&slug(&author)), "lists the authors: {body}");
    assert!(
        body.contains("http://127.0.0.1:8080/"),
        "links the index: {body}"
    );

    let r = get(&s.url("/tags/no-such-tag")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("no-such-tag") && body.contains("tags here"),
        "{body}"
    );

    let r = get(&s.url("/sources/nope.rss")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.text().await.unwrap().contains("nknews"));

    for path in ["/nothing", "/authors/UPPER.atom", "/feed.xml", "/feed"] {
        let r = get(&s.url(path)).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(r.text().await.unwrap().contains("index"), "{path}");
    }

    for method in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"] {
        let r = c
            .request(method.parse().unwrap(), s.url("/feed.atom"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(header(&r, "allow"), "GET, HEAD", "{method}");
    }

    let r = c
        .get(s.url("/feed.atom"))
        .body("a body on a GET")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);

    let long = format!("/feed.atom?x={}", "a".repeat(5000));
    let r = get(&s.url(&long)).await;
    assert_eq!(r.status(), StatusCode::URI_TOO_LONG);

    // A head larger than the limit is refused, not buffered.
    let huge = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Filler: {}\r\n\r\n",
        "a".repeat(64 * 1024)
    );
    let answer = raw(&s.addr, huge.as_bytes());
    let text = String::from_utf8_lossy(&answer);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 431"),
        "expected 431 or a closed connection, got {text:?}"
    );
    // So is one with more headers than hyper's limit of 100.
    let many: String = (0..150).map(|n| format!("X-H{n}: v\r\n")).collect();
    let answer = raw(
        &s.addr,
        format!("GET / HTTP/1.1\r\nHost: x\r\n{many}\r\n").as_bytes(),
    );
    let text = String::from_utf8_lossy(&answer);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 431"),
        "expected 431 or a closed connection, got {text:?}"
    );

    for bad in ["limit=0", "limit=100000", "limit=ten"] {
        let r = get(&s.url(&format!("/feed.json?{bad}"))).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert!(r.text().await.unwrap().contains("limit"), "{bad}");
    }
}

#[tokio::test]
async fn limit_tag_and_author_narrow_a_view() {
    let s = Server::start("http://127.0.0.1:8080/", "");
    let (tag, author) = tagged_author();
    let (tag_slug, author_slug) = (slug(&tag), slug(&author));

    let all = json(&s.url("/feed.json")).await;
    let titles = item_titles(&all);
    assert!(titles.len() > 3);

    let three = json(&s.url("/feed.json?limit=3")).await;
    assert_eq!(item_titles(&three), titles[..3]);

    // By tag, given as a slug or as the name: the tagged items of the whole
    // stream, in the same order.
    let tagged: Vec<String> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| has(&i["tags"], None, &tag))
        .map(|i| i["title"].as_str().unwrap().to_owned())
        .collect();
    assert!(!tagged.is_empty());
    let by_slug = json(&s.url(&format!("/feed.json?tag={tag_slug}"))).await;
    assert_eq!(item_titles(&by_slug), tagged);
    let by_name = json(&s.url(&format!("/feed.json?tag={}", tag.replace(' ', "%20")))).await;
    assert_eq!(item_titles(&by_name), tagged);

    // One author's items with the tag (e.g. one author's NK PRO stories).
    let authors_page = json(&s.url(&format!("/authors/{author_slug}.json"))).await;
    let theirs: Vec<String> = authors_page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| has(&i["tags"], None, &tag))
        .map(|i| i["title"].as_str().unwrap().to_owned())
        .collect();
    assert!(!theirs.is_empty());
    let narrowed = json(&s.url(&format!("/authors/{author_slug}.json?tag={tag_slug}"))).await;
    assert_eq!(item_titles(&narrowed), theirs);
    let narrowed = json(&s.url(&format!("/tags/{tag_slug}.json?author={author_slug}"))).await;
    assert_eq!(item_titles(&narrowed), theirs);
    for item in narrowed["items"].as_array().unwrap() {
        assert!(has(&item["authors"], Some("name"), &author));
    }
    // Atom and the HTML page narrow the same way.
    let atom = get(&s.url(&format!(
        "/authors/{author_slug}.atom?tag={tag_slug}&limit=1"
    )))
    .await
    .bytes()
    .await
    .unwrap();
    let atom = feed_rs::parser::parse(&atom[..]).unwrap();
    assert_eq!(atom.entries.len(), 1);
    let page = get(&s.url(&format!("/authors/{author_slug}?tag={tag_slug}")))
        .await
        .text()
        .await
        .unwrap();
    for t in &theirs {
        let escaped = t.replace('&', "&amp;").replace('\'', "&#39;");
        assert!(
            page.contains(t) || page.contains(&escaped),
            "page lacks {t}"
        );
    }

    // A narrowed view is cached like any document.
    let url = s.url(&format!("/feed.json?tag={tag_slug}&limit=2"));
    let first = get(&url).await;
    let tag1 = header(&first, "etag");
    let second = client()
        .get(&url)
        .header("If-None-Match", &tag1)
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), StatusCode::NOT_MODIFIED);

    // The config's custom feed of that tag holds the same stories.
    let custom = json(&s.url("/feeds/tagged.json")).await;
    assert_eq!(item_titles(&custom), tagged);
    let custom = json(&s.url(&format!("/feeds/tagged.json?author={author_slug}"))).await;
    assert_eq!(item_titles(&custom), theirs);

    // An unknown tag is a 404 that lists the known ones.
    let r = get(&s.url("/feed.json?tag=no-such-tag")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.text().await.unwrap().contains(&tag_slug));
}

/// Every link byline emits, from hrefs, srcs and JSON url fields.
fn links(body: &str) -> Vec<String> {
    let re = regex::Regex::new(
        r#"(?:href|src|xmlUrl|htmlUrl|url)\s*=\s*"([^"]+)"|"(?:url|feed_url|home_page_url|external_url)"\s*:\s*"([^"]+)""#,
    )
    .unwrap();
    re.captures_iter(body)
        .filter_map(|c| c.get(1).or_else(|| c.get(2)))
        .map(|m| m.as_str().replace("&amp;", "&"))
        .collect()
}

#[tokio::test]
async fn links_are_absolute_under_a_sub_path_base_url() {
    let base = "https://example.org/feeds/";
    let s = Server::start(base, "");
    let (_, author) = tagged_author();
    let a = slug(&author);
    let c = client();

    // With and without the prefix (nginx may strip it or not): the same bytes.
    let stripped = get(&s.url(&format!("/authors/{a}.atom"))).await;
    let prefixed = get(&s.url(&format!("/feeds/authors/{a}.atom"))).await;
    assert_eq!(stripped.status(), StatusCode::OK);
    assert_eq!(prefixed.status(), StatusCode::OK);
    assert_eq!(
        stripped.bytes().await.unwrap(),
        prefixed.bytes().await.unwrap()
    );
    // The prefix without its slash redirects to the public index.
    let redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(s.url("/feeds"))
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(header(&redirect, "location"), base);

    // The self link comes from base_url, whatever Host the request names.
    let atom = c
        .get(s.url(&format!("/authors/{a}.atom")))
        .header("Host", "evil.example")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let feed = feed_rs::parser::parse(atom.as_bytes()).unwrap();
    let self_link = feed
        .links
        .iter()
        .find(|l| l.rel.as_deref() == Some("self"))
        .expect("a self link");
    assert_eq!(self_link.href, format!("{base}authors/{a}.atom"));
    assert!(!atom.contains("evil.example"));

    // Every link in every kind of document is absolute; ours stay under the
    // prefix and resolve on the server.
    let mut checked = 0;
    for path in [
        "/".to_owned(),
        "/opml".to_owned(),
        "/feed.atom".to_owned(),
        "/feed.rss".to_owned(),
        "/feed.json".to_owned(),
        format!("/authors/{a}"),
        "/sources/nknews".to_owned(),
        "/feeds/tagged.atom".to_owned(),
        "/feeds/feeds/tagged".to_owned(),
    ] {
        let body = get(&s.url(&path)).await.text().await.unwrap();
        let found = links(&body);
        assert!(!found.is_empty(), "{path}: no links");
        for link in found {
            assert!(
                link.starts_with("http://") || link.starts_with("https://"),
                "{path}: relative link {link}"
            );
            if link.starts_with("https://example.org/") {
                assert!(link.starts_with(base), "{path}: {link} bypasses the prefix");
                let local = link[base.len()..].split('#').next().unwrap().to_owned();
                let r = get(&s.url(&format!("/feeds/{local}"))).await;
                assert_eq!(r.status(), StatusCode::OK, "{path} links {link}");
                checked += 1;
            }
        }
    }
    assert!(checked > 10, "only {checked} own links checked");
}

#[tokio::test]
async fn health_metrics_and_access_log() {
    let s = Server::start("http://127.0.0.1:8080/", "");
    let health = json(&s.url("/healthz")).await;
    assert_eq!(health["status"], "ok");
    let sources = health["sources"].as_array().unwrap();
    let names: Vec<&str> = sources
        .iter()
        .map(|x| x["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["nknews", "monitor", "tracker"]);
    let total: u64 = sources
        .iter()
        .map(|x| x["items_read"].as_u64().unwrap())
        .sum();
    let expected: u64 = [
        "nknews-2021-03-04.json",
        "nknews-2022-05-21.json",
        "other-source.rss.json",
        "other-source.atom.json",
    ]
    .iter()
    .map(|f| common::expected(f)["items"].as_array().unwrap().len() as u64)
    .sum();
    assert_eq!(total, expected);
    for src in sources {
        assert_eq!(src["errors"].as_array().unwrap().len(), 0);
        assert!(src["pages"].as_u64().unwrap() >= 1);
        assert!(src["last_error"].is_null());
    }

    let etag = header(&get(&s.url("/feed.rss")).await, "etag");
    let r = client()
        .get(s.url("/feed.rss"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    get(&s.url("/authors/nobody")).await;

    let metrics = get(&s.url("/metrics")).await.text().await.unwrap();
    let value = |line_start: &str| -> f64 {
        metrics
            .lines()
            .find(|l| l.starts_with(line_start))
            .unwrap_or_else(|| panic!("no {line_start} in\n{metrics}"))
            .rsplit(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(
        value("byline_http_requests_total{route=\"feed\",status=\"200\"}"),
        1.0
    );
    assert_eq!(
        value("byline_http_requests_total{route=\"feed\",status=\"304\"}"),
        1.0
    );
    assert_eq!(
        value("byline_http_requests_total{route=\"author\",status=\"404\"}"),
        1.0
    );
    assert_eq!(value("byline_http_not_modified_total"), 1.0);
    assert!(value("byline_http_response_bytes_total{route=\"feed\"}") > 100.0);
    assert!(value("byline_items ") as u64 > 0);
    assert_eq!(value("byline_source_up{source=\"monitor\"}"), 1.0);
    assert_eq!(
        value("byline_source_items_read{source=\"nknews\"}") as u64,
        sources[0]["items_read"].as_u64().unwrap()
    );

    // The access log names method, path, status and bytes.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let log = s.log_text();
        let line = log
            .lines()
            .find(|l| l.contains("byline::access") && l.contains("/authors/nobody"));
        if let Some(line) = line {
            assert!(
                line.contains("method=GET") && line.contains("status=404"),
                "{line}"
            );
            assert!(
                line.contains("bytes=") && line.contains("micros="),
                "{line}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "no access log line in\n{log}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn slow_headers_are_cut_off() {
    // header_timeout_secs = 1 in the test config.
    let s = Server::start("http://127.0.0.1:8080/", "");
    let mut slow = TcpStream::connect(&s.addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    slow.write_all(b"GET /feed.atom HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let started = Instant::now();
    let mut buf = Vec::new();
    let _ = slow.read_to_end(&mut buf);
    let waited = started.elapsed();
    assert!(
        waited < Duration::from_secs(5),
        "connection held for {waited:?}"
    );
    let text = String::from_utf8_lossy(&buf);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408"),
        "unexpected answer {text:?}"
    );
    // The server still serves others.
    let answer = raw(
        &s.addr,
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(answer.starts_with(b"HTTP/1.1 200"));
}

#[test]
fn idle_keep_alive_closes_and_busy_connections_stay() {
    // header_timeout_secs = 1: no progress for 1 to 1.25 s closes a connection.
    let s = Server::start("http://127.0.0.1:8080/", "");
    let request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    let answered = |c: &mut TcpStream| {
        let mut buf = [0u8; 4096];
        let n = c.read(&mut buf).unwrap_or(0);
        n > 0 && buf.starts_with(b"HTTP/1.1 200")
    };
    // A request every 0.5 s for 3 s keeps its connection: each is progress.
    let mut busy = TcpStream::connect(&s.addr).unwrap();
    busy.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    for n in 0..6 {
        busy.write_all(request).unwrap();
        assert!(answered(&mut busy), "request {n} on a busy connection");
        std::thread::sleep(Duration::from_millis(500));
    }
    // Left idle after a response, it is closed.
    busy.write_all(request).unwrap();
    assert!(answered(&mut busy));
    let started = Instant::now();
    let mut rest = Vec::new();
    let _ = busy.read_to_end(&mut rest);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(4),
        "idle connection closed after {waited:?}"
    );
    assert!(rest.is_empty(), "unexpected bytes {rest:?}");
}

#[test]
fn a_reader_pausing_longer_than_the_header_timeout_keeps_its_responses() {
    // header_timeout_secs = 1, write_timeout_secs 30 (the default): a client
    // that stops reading for 2.5 s is the write deadline's to judge, and it
    // allows that; the watchdog must not close the connection meanwhile.
    let s = Server::start("http://127.0.0.1:8080/", "");
    let one = raw(
        &s.addr,
        b"GET /feed.atom HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(one.starts_with(b"HTTP/1.1 200"));
    // Enough responses to fill both socket buffers many times over.
    let n = (24 << 20) / one.len() + 1;
    let mut c = TcpStream::connect(&s.addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let request = b"GET /feed.atom HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut last = request.to_vec();
    last.truncate(last.len() - 2);
    last.extend_from_slice(b"Connection: close\r\n\r\n");
    let mut all = request.repeat(n - 1);
    all.extend_from_slice(&last);
    c.write_all(&all).unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    let mut got = Vec::new();
    let _ = c.read_to_end(&mut got);
    let answered = got.windows(12).filter(|w| w == b"HTTP/1.1 200").count();
    assert_eq!(answered, n, "{} of {n} responses arrived", answered);
}

#[test]
fn extra_connections_wait_for_a_free_slot() {
    let s = Server::start("http://127.0.0.1:8080/", "max_connections = 1");
    // The first client holds the only slot with a keep-alive connection.
    let mut first = TcpStream::connect(&s.addr).unwrap();
    first
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 64];
    first
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    assert!(first.read(&mut buf).unwrap() > 0);
    // The second is accepted by the kernel but not served while it is held.
    let mut second = TcpStream::connect(&s.addr).unwrap();
    second
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    second
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    assert!(
        second.read(&mut buf).is_err(),
        "served beyond max_connections"
    );
    drop(first);
    second
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut answer = Vec::new();
    let _ = second.read_to_end(&mut answer);
    assert!(answer.starts_with(b"HTTP/1.1 200"), "{answer:?}");
}

#[test]
fn sigterm_shuts_down_gracefully() {
    let mut s = Server::start("http://127.0.0.1:8080/", "");
    let pid = s.child.id().to_string();
    let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let exit = loop {
        if let Some(exit) = s.child.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "still running after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit:?}");
    std::thread::sleep(Duration::from_millis(100));
    let log = s.log_text();
    assert!(log.contains("SIGTERM"), "{log}");
    assert!(TcpStream::connect(&s.addr).is_err(), "still listening");
}

#[tokio::test]
async fn forwarded_headers_count_only_from_trusted_proxies() {
    let (_, author) = tagged_author();
    let a = slug(&author);
    let forwarded = |r: reqwest::RequestBuilder| {
        r.header("X-Forwarded-Proto", "https")
            .header("X-Forwarded-Host", "mirror.example")
            .header("X-Forwarded-Prefix", "/news")
            .header("X-Forwarded-For", "203.0.113.7")
    };
    let c = client();

    // Not trusted: the headers change nothing.
    let s = Server::start("https://example.org/feeds/", "");
    let index = forwarded(c.get(s.url("/")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!index.contains("mirror.example"));
    assert!(index.contains("https://example.org/feeds/"));
    drop(s);

    // Trusted (the test client connects from 127.0.0.1): pages link to the
    // proxy's public origin, feeds keep base_url, the log names the client.
    let s = Server::start(
        "https://example.org/feeds/",
        r#"trusted_proxies = ["127.0.0.0/8"]"#,
    );
    for path in ["/".to_owned(), format!("/authors/{a}")] {
        let r = forwarded(c.get(s.url(&path))).send().await.unwrap();
        assert!(header(&r, "vary").contains("X-Forwarded-Host"), "{path}");
        let body = r.text().await.unwrap();
        assert!(
            body.contains(&format!("https://mirror.example/news/authors/{a}")),
            "{path}"
        );
        assert!(
            !body.contains("https://example.org/feeds/authors/"),
            "{path}"
        );
    }
    let atom = forwarded(c.get(s.url(&format!("/authors/{a}.atom"))))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!atom.contains("mirror.example"));
    assert!(atom.contains(&format!("https://example.org/feeds/authors/{a}.atom")));
    // Without the headers, the same server links to base_url.
    let plain = get(&s.url("/")).await.text().await.unwrap();
    assert!(!plain.contains("mirror.example"));

    let deadline = Instant::now() + Duration::from_secs(5);
    while !s.log_text().contains("client=203.0.113.7") {
        assert!(
            Instant::now() < deadline,
            "no forwarded client in the access log"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// RFC 9112: an HTTP/1.1 request needs exactly one Host header.
#[test]
fn a_request_without_host_or_with_two_is_refused() {
    let s = Server::start("http://127.0.0.1:8080/", "");
    let status = |request: &str| {
        let answer = raw(&s.addr, request.as_bytes());
        let (head, _) = split_response(&answer);
        head.lines().next().unwrap_or_default().to_owned()
    };
    assert!(
        status("GET /feed.atom HTTP/1.1\r\nConnection: close\r\n\r\n").contains(" 400 "),
        "no Host"
    );
    assert!(
        status("GET /feed.atom HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n")
            .contains(" 400 "),
        "two Hosts"
    );
    assert!(
        status("GET /feed.atom HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").contains(" 200 "),
        "one Host"
    );
}

#[tokio::test]
async fn health_and_metrics_answer_only_the_machine_and_its_proxies() {
    let c = client();
    let status = |s: &Server, path: &str, forwarded: Option<&'static str>| {
        let mut r = c.get(s.url(path));
        if let Some(f) = forwarded {
            r = r.header("X-Forwarded-For", f);
        }
        async move { r.send().await.unwrap().status() }
    };
    let s = Server::start(
        "http://127.0.0.1:8080/",
        r#"trusted_proxies = ["10.0.0.0/8"]"#,
    );
    for path in ["/healthz", "/metrics"] {
        // From this machine, and from a proxy forwarding one of ours: open.
        assert_eq!(status(&s, path, None).await, StatusCode::OK, "{path}");
        assert_eq!(status(&s, path, Some("10.1.2.3")).await, StatusCode::OK);
        // A proxy on this machine forwarding a public client: closed, and it says why.
        assert_eq!(
            status(&s, path, Some("203.0.113.7")).await,
            StatusCode::FORBIDDEN,
            "{path}"
        );
        assert_eq!(
            status(&s, path, Some("127.0.0.1, 203.0.113.7")).await,
            StatusCode::FORBIDDEN
        );
        assert_eq!(status(&s, path, Some("junk")).await, StatusCode::FORBIDDEN);
    }
    let body = c
        .get(s.url("/healthz"))
        .header("X-Forwarded-For", "203.0.113.7")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("public_status = true"), "{body}");
    // Feeds stay public.
    assert_eq!(
        status(&s, "/feed.atom", Some("203.0.113.7")).await,
        StatusCode::OK
    );
    drop(s);

    let s = Server::start("http://127.0.0.1:8080/", "public_status = true");
    assert_eq!(
        status(&s, "/healthz", Some("203.0.113.7")).await,
        StatusCode::OK
    );
}
