//! JSON sources (`kind = "json"`), byline splitting and date-time capture
//! anchors, through `byline::adapters::read` with configs parsed from TOML.

use std::path::Path;

use byline::adapters::{self, Listing, Page};
use byline::config::{Config, SourceConfig};
use chrono::{TimeZone, Utc};
use url::Url;

fn source(toml: &str) -> SourceConfig {
    let config = Config::parse(toml, "test.toml", Path::new("/tmp")).expect("test config");
    config.sources.into_iter().next().expect("one source")
}

fn page<'a>(body: &'a str, name: &'a str, url: &'a Url) -> Page<'a> {
    Page {
        bytes: body.as_bytes(),
        name,
        url: Some(url),
        content_type: None,
        captured: None,
        fetched_at: Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap(),
    }
}

fn read(source: &SourceConfig, name: &str, body: &str, url: &str) -> Listing {
    let url = Url::parse(url).expect("url");
    adapters::read(source, &page(body, name, &url), 0).expect("page reads")
}

#[test]
fn a_json_api_gives_items_by_pointer() {
    let s = source(
        r#"
[[source]]
name = "api"
kind = "json"
inputs = ["https://api.example/posts"]
[source.json]
items = "/data/posts"
title = "/title/rendered"
url = "/link"
summary = "/excerpt"
authors = "/authors"
published = "/date"
tags = "/tags"
image = "/cover"
"#,
    );
    let body = r#"{"data":{"posts":[
      {"title":{"rendered":"Kim&#8217;s <em>plan</em>"},"link":"/2022/05/kim/","excerpt":"<p>Short.</p>",
       "authors":[{"name":"Ann Lee"},"Bo Kim"],"date":"2022-05-20T10:00:00+09:00","tags":["Politics"],
       "cover":{"url":"https://img.example/a.jpg"}},
      {"title":{"rendered":"No url"}},
      {"title":{"rendered":"Second"},"link":"https://other.example/b","date":1653000000,"authors":{"name":"Cy"}}
    ]}}"#;
    let l = read(&s, "api", body, "https://api.example/posts");
    assert_eq!(l.items.len(), 2, "{:?}", l.warnings);
    let a = &l.items[0];
    assert_eq!(a.title, "Kim’s plan");
    assert_eq!(a.url.as_deref(), Some("https://api.example/2022/05/kim/"));
    assert_eq!(a.summary.as_deref(), Some("Short."));
    let names: Vec<_> = a.authors.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Ann Lee", "Bo Kim"]);
    assert_eq!(
        a.published.unwrap().to_display(),
        "2022-05-20T10:00:00+09:00"
    );
    assert_eq!(a.tags[0].name, "Politics");
    assert_eq!(a.image.as_deref(), Some("https://img.example/a.jpg"));
    let b = &l.items[1];
    assert_eq!(
        b.published.unwrap().to_display(),
        "2022-05-19T22:40:00+00:00"
    );
    assert_eq!(b.authors[0].name, "Cy");
    assert!(
        l.warnings.iter().any(|w| w.contains("skipped 1 of 3")),
        "{:?}",
        l.warnings
    );
}

#[test]
fn framework_state_in_a_script_with_a_url_template() {
    let s = source(
        r#"
[[source]]
name = "next"
kind = "json"
inputs = ["https://blog.example/"]
[source.json]
script = "script#__NEXT_DATA__"
items = "/props/pageProps/posts"
title = "/title"
url = "/slug"
url_template = "https://blog.example/posts/{}/"
"#,
    );
    let body = r#"<html><body><div id="__next"></div>
<script id="__NEXT_DATA__" type="application/json">{"props":{"pageProps":{"posts":[{"title":"One","slug":"one"},{"title":"Two","slug":"two"}]}}}</script>
</body></html>"#;
    let l = read(&s, "next", body, "https://blog.example/");
    let urls: Vec<_> = l.items.iter().map(|i| i.url.clone().unwrap()).collect();
    assert_eq!(
        urls,
        [
            "https://blog.example/posts/one/",
            "https://blog.example/posts/two/"
        ]
    );

    let not_array = source(
        r#"
[[source]]
name = "next"
kind = "json"
inputs = ["https://blog.example/"]
[source.json]
script = "script#__NEXT_DATA__"
items = "/props"
title = "/title"
url = "/slug"
"#,
    );
    let url = Url::parse("https://blog.example/").unwrap();
    let page = page(body, "p", &url);
    let e = adapters::read(&not_array, &page, 0)
        .unwrap_err()
        .to_string();
    assert!(e.contains("not an array") && e.contains("an object"), "{e}");
}

#[test]
fn bad_json_paths_are_config_errors_with_their_line() {
    let e = Config::parse(
        "[[source]]\nname = \"j\"\nkind = \"json\"\ninputs = [\"https://x.example/\"]\n[source.json]\nitems = \"data.posts\"\ntitle = \"/t\"\nurl = \"/u\"\n",
        "feeds.toml",
        Path::new("/tmp"),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.starts_with("feeds.toml:6:") && e.contains("JSON Pointer"),
        "{e}"
    );
    let e = Config::parse(
        "[[source]]\nname = \"j\"\nkind = \"json\"\ninputs = [\"https://x.example/\"]\n[source.json]\nitems = \"\"\ntitle = \"/t\"\nurl = \"/u\"\nurl_template = \"https://x.example/p/\"\n",
        "feeds.toml",
        Path::new("/tmp"),
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("feeds.toml:9:") && e.contains("{}"), "{e}");
}

const CARDS: &str = r#"<html><body>
<article class="c"><h2><a href="/a">Alpha story here</a></h2><span class="by">By Ann Lee, Bo Kim and Cy Dee</span><span class="t">11 hours ago</span></article>
<article class="c"><h2><a href="/b">Beta story here</a></h2><span class="by">Di Ott &amp; Ed Fay</span><span class="t">2 hours ago</span></article>
</body></html>"#;

fn html_source(extra: &str, input: &str) -> SourceConfig {
    source(&format!(
        "[[source]]\nname = \"h\"\nkind = \"html\"\ninputs = [{input}]\ntimezone = \"Asia/Seoul\"\n[source.html]\nitem = \"article.c\"\ntitle = \"h2 a\"\nauthors = \".by\"\npublished = \".t\"\n{extra}"
    ))
}

#[test]
fn bylines_split_only_when_separators_are_set() {
    let names = |l: &Listing, n: usize| -> Vec<String> {
        l.items[n].authors.iter().map(|p| p.name.clone()).collect()
    };
    let split = html_source(
        "author_separators = [\",\", \" and \", \"&\"]\n",
        "\"https://x.example/\"",
    );
    let l = read(&split, "p", CARDS, "https://x.example/");
    assert_eq!(names(&l, 0), ["Ann Lee", "Bo Kim", "Cy Dee"]);
    assert_eq!(names(&l, 1), ["Di Ott", "Ed Fay"]);
    let whole = html_source("", "\"https://x.example/\"");
    let l = read(&whole, "p", CARDS, "https://x.example/");
    assert_eq!(names(&l, 0), ["By Ann Lee, Bo Kim and Cy Dee"]);
    let e = Config::parse(
        "[[source]]\nname = \"h\"\nkind = \"html\"\ninputs = [\"a\"]\n[source.html]\nitem = \"a\"\ntitle = \"a\"\nauthor_separators = []\n",
        "feeds.toml",
        Path::new("/tmp"),
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("feeds.toml:8:"), "{e}");
}

#[test]
fn a_capture_instant_anchors_relative_dates() {
    // Saved at 09:40 in Seoul: "11 hours ago" is the previous day there.
    // The page loop reads the saved file as if fetched at that instant.
    let dir = tempfile::tempdir().expect("tempdir");
    let saved = dir.path().join("saved.html");
    std::fs::write(&saved, CARDS).expect("saved page");
    let s = html_source(
        "",
        &format!(
            "{{ file = \"{}\", url = \"https://x.example/\", captured = \"2022-05-21T09:40:00+09:00\" }}",
            saved.display()
        ),
    );
    let fetcher = byline::fetch::Fetcher::new(byline::fetch::FetchOptions::default()).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let none = std::collections::HashMap::new();
    let l = rt.block_on(byline::read::read_source(
        &s,
        &s.inputs,
        &fetcher,
        &none,
        chrono::Utc::now(),
    ));
    let days: Vec<_> = l
        .items
        .iter()
        .map(|i| i.day().unwrap().to_string())
        .collect();
    assert_eq!(days, ["2022-05-20", "2022-05-21"]);
    // A day alone: relative dates mean that day.
    let s = html_source(
        "",
        "{ file = \"/tmp/saved.html\", url = \"https://x.example/\", captured = \"2022-05-21\" }",
    );
    let url = Url::parse("https://x.example/").unwrap();
    let page = Page {
        captured: s.inputs[0].captured,
        ..page(CARDS, "/tmp/saved.html", &url)
    };
    let l = adapters::read(&s, &page, 0).unwrap();
    let days: Vec<_> = l
        .items
        .iter()
        .map(|i| i.day().unwrap().to_string())
        .collect();
    assert_eq!(days, ["2022-05-21", "2022-05-21"]);
    // The page's own html.captured with a time of day anchors the same way.
    let page_says = CARDS.replace(
        "<body>",
        "<body><time class=\"cap\" datetime=\"2022-05-21T09:40:00+09:00\">May 21</time>",
    );
    let s = html_source("captured = \".cap\"\n", "\"https://x.example/\"");
    let l = read(&s, "p", &page_says, "https://x.example/");
    let days: Vec<_> = l
        .items
        .iter()
        .map(|i| i.day().unwrap().to_string())
        .collect();
    assert_eq!(days, ["2022-05-20", "2022-05-21"]);
}
