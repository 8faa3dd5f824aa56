//! The HTML adapter against the fixture pages: every page in
//! `tests/fixtures/html/` and `html/bad/` gives exactly the expected items with
//! the selectors of `tests/fixtures/html-feeds.toml`, with both engines.

mod common;

use std::path::Path;

use byline::adapters::{self, Listing, Page};
use byline::config::{Config, Engine, JsonLd, SourceConfig};
use byline::model::Published;
use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use serde_json::{Value, json};
use url::Url;

fn config() -> Config {
    Config::load(&common::fixtures().join("html-feeds.toml")).expect("html-feeds.toml loads")
}

fn fetched_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2022, 5, 21, 3, 0, 0).unwrap()
}

fn source<'a>(config: &'a Config, name: &str) -> &'a SourceConfig {
    config
        .sources
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no source {name}"))
}

fn with_engine(source: &SourceConfig, engine: Engine) -> SourceConfig {
    let mut s = source.clone();
    if let Some(h) = s.html.as_mut() {
        h.engine = engine;
    }
    s
}

fn read(source: &SourceConfig, bytes: &[u8], url: Option<&str>) -> Listing {
    read_with(source, bytes, url, None).expect("page reads")
}

fn read_with(
    source: &SourceConfig,
    bytes: &[u8],
    url: Option<&str>,
    content_type: Option<&str>,
) -> Result<Listing, adapters::AdapterError> {
    let url = url.map(|u| Url::parse(u).unwrap());
    let page = Page {
        bytes,
        name: "page.html",
        url: url.as_ref(),
        content_type,
        captured: None,
        fetched_at: fetched_at(),
    };
    adapters::read(source, &page, 0)
}

/// Every fixture page of selectors.json, with the source that reads it.
fn fixture_pages() -> Vec<(String, String, String, String)> {
    let sel: Value = serde_json::from_str(
        &std::fs::read_to_string(common::fixtures().join("selectors.json")).unwrap(),
    )
    .unwrap();
    sel["fixtures"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(file, f)| {
            (
                file.clone(),
                f["site"].as_str().unwrap().to_owned(),
                f["page_url"].as_str().unwrap().to_owned(),
                f["expected"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("expected/")
                    .to_owned(),
            )
        })
        .collect()
}

#[test]
fn every_fixture_page_gives_the_expected_items_with_both_engines() {
    let config = config();
    let pages = fixture_pages();
    // Every .html page on disk is covered (jsonld-* pages have their own test).
    for dir in ["html", "html/bad"] {
        for entry in std::fs::read_dir(common::fixtures().join(dir)).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            if name.ends_with(".html") && !name.starts_with("jsonld-") {
                let rel = format!("{dir}/{name}");
                assert!(pages.iter().any(|p| p.0 == rel), "{rel} has no expectation");
            }
        }
    }
    for (file, site, page_url, expected) in pages {
        let bytes = std::fs::read(common::fixtures().join(&file)).unwrap();
        let want = common::expected(&expected);
        let src = source(&config, &site);
        assert_eq!(src.html.as_ref().unwrap().engine, Engine::Streaming);
        let streamed = read(src, &bytes, Some(&page_url));
        let dom = read(&with_engine(src, Engine::Dom), &bytes, Some(&page_url));
        for (engine, listing) in [("streaming", &streamed), ("dom", &dom)] {
            println!("{file} ({engine}): {:#?}", listing.warnings);
            common::assert_matches_expected(listing, &expected);
            assert_eq!(
                listing.next_page.as_deref(),
                want["next_page"].as_str(),
                "{file} ({engine}): next_page"
            );
            assert_eq!(
                listing.captured.map(|d| d.to_string()).as_deref(),
                want["captured"].as_str(),
                "{file} ({engine}): captured"
            );
            for item in &listing.items {
                assert_eq!(item.source, site);
                assert!(!item.title.contains('\u{FFFD}'), "{file}: {}", item.title);
            }
        }
        assert_eq!(streamed, dom, "{file}: the engines disagree");
    }
}

#[test]
fn positions_continue_across_pages_and_ids_are_urls() {
    let config = config();
    let src = source(&config, "nknews-2022");
    let bytes = std::fs::read(common::fixtures().join("html/nknews-latest-p2.html")).unwrap();
    let url = Url::parse("https://www.nknews.org/category/news/page/2/").unwrap();
    let page = Page {
        bytes: &bytes,
        name: "p2",
        url: Some(&url),
        content_type: None,
        captured: None,
        fetched_at: fetched_at(),
    };
    let listing = adapters::read(src, &page, 6).unwrap();
    let positions: Vec<u32> = listing.items.iter().map(|i| i.position).collect();
    assert_eq!(positions, [6, 7, 8, 9, 10]);
    assert_eq!(
        listing.items[0].id,
        "https://www.nknews.org/2022/05/north-korean-hackers-weaponize-covid-outbreak-in-latest-cyber-attack/"
    );
    // A date-only card keeps the source zone.
    assert!(matches!(
        listing.items[1].published,
        Some(Published::Date(_, chrono_tz::Asia::Seoul))
    ));
}

#[test]
fn bad_pages_warn_naming_the_source_and_the_problem() {
    let config = config();
    let src = source(&config, "nknews-2022");
    let warnings = |file: &str| {
        let bytes = std::fs::read(common::fixtures().join(file)).unwrap();
        read(src, &bytes, Some("https://www.nknews.org/category/news/")).warnings
    };
    let has = |w: &[String], parts: &[&str]| {
        w.iter()
            .any(|w| w.contains("\"nknews-2022\"") && parts.iter().all(|p| w.contains(p)))
    };

    let w = warnings("html/bad/no-items.html");
    assert!(
        has(&w, &["no element matches html.item", "article.nk-card"]),
        "{w:#?}"
    );

    let w = warnings("html/bad/truncated.html");
    assert!(
        has(&w, &["skipped 1 of 4 cards", "#4 (no title)"]),
        "{w:#?}"
    );

    let w = warnings("html/bad/unparseable-date.html");
    assert!(
        has(&w, &["card 2", "\"May 32, 2022\"", "not a date"]),
        "{w:#?}"
    );

    let w = warnings("html/bad/empty.html");
    assert!(has(&w, &["empty"]), "{w:#?}");

    // p2 has no NK PRO label: a field that matched nothing is worth a warning.
    let w = warnings("html/nknews-latest-p2.html");
    assert!(
        has(&w, &["html.tags", ".nk-label", "matched nothing"]),
        "{w:#?}"
    );
    // ... but p1, where every field matched somewhere, has no warnings at all.
    let w = warnings("html/nknews-latest-p1.html");
    assert!(w.is_empty(), "{w:#?}");
}

#[test]
fn windows_1252_is_decoded_by_meta_or_http_header() {
    let config = config();
    let src = source(&config, "nknews-2022");
    let bytes = std::fs::read(common::fixtures().join("html/bad/windows-1252.html")).unwrap();
    let l = read(src, &bytes, Some("https://www.nknews.org/category/news/"));
    assert_eq!(
        l.items[0].title,
        "North Korea making \u{2018}progress\u{2019} in COVID-19 fight but issues remain: Kim Jong Un"
    );
    // The HTTP charset wins over the page's meta: read as UTF-8 it is damaged, and says so.
    let l = read_with(
        src,
        &bytes,
        Some("https://www.nknews.org/category/news/"),
        Some("text/html; charset=utf-8"),
    )
    .unwrap();
    assert!(l.items[0].title.contains('\u{FFFD}'));
    assert!(
        l.warnings.iter().any(|w| w.contains("not valid UTF-8")),
        "{:#?}",
        l.warnings
    );

    // A UTF-16 page with a BOM.
    let p1 =
        std::fs::read_to_string(common::fixtures().join("html/nknews-latest-p1.html")).unwrap();
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(p1.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let l = read(src, &utf16, Some("https://www.nknews.org/category/news/"));
    common::assert_matches_expected(&l, "nknews-latest-p1.json");
}

fn parse_config(text: &str) -> Result<Config, String> {
    Config::parse(text, "feeds.toml", Path::new("/tmp")).map_err(|e| e.to_string())
}

const HEAD: &str =
    "[[source]]\nname = \"s\"\nkind = \"html\"\ninputs = [\"a.html\"]\n[source.html]\n";

#[test]
fn invalid_selectors_fail_at_load_with_file_line_and_selector() {
    let e = parse_config(&format!(
        "{HEAD}item = \"article.card\"\ntitle = \"h3 >> a\"\n"
    ))
    .unwrap_err();
    assert!(e.starts_with("feeds.toml:7:"), "{e}");
    assert!(e.contains("html.title") && e.contains("\"h3 >> a\""), "{e}");

    let e = parse_config(&format!("{HEAD}item = \"article[\"\ntitle = \"h3\"\n")).unwrap_err();
    assert!(
        e.starts_with("feeds.toml:6:") && e.contains("\"article[\""),
        "{e}"
    );

    let e = parse_config(&format!(
        "{HEAD}item = \"li\"\ntitle = \"a\"\nimage = {{ css = \"img:hoverr\", attr = \"src\" }}\n"
    ))
    .unwrap_err();
    assert!(
        e.starts_with("feeds.toml:8:") && e.contains("img:hoverr"),
        "{e}"
    );

    let e = parse_config(&format!(
        "{HEAD}item = \"li\"\ntitle = \"a\"\ndate_formats = [\"iso8601\", \"dd/mm\"]\n"
    ))
    .unwrap_err();
    assert!(e.starts_with("feeds.toml:8:") && e.contains("dd/mm"), "{e}");

    let e = parse_config(&format!(
        "{HEAD}item = \"li\"\ntitle = \"a\"\nbase_url = \"/x/\"\n"
    ))
    .unwrap_err();
    assert!(
        e.starts_with("feeds.toml:8:") && e.contains("base_url"),
        "{e}"
    );
}

#[test]
fn selectors_beyond_streaming_use_the_dom_engine_or_fail_when_streaming_is_required() {
    let c = parse_config(&format!("{HEAD}item = \"li\"\ntitle = \"h3 + p a\"\n")).unwrap();
    let h = c.sources[0].html.as_ref().unwrap();
    assert_eq!(h.engine, Engine::Dom);
    let note = h.engine_note.as_deref().unwrap();
    assert!(
        note.contains("html.title") && note.contains("h3 + p a"),
        "{note}"
    );

    let e = parse_config(&format!(
        "{HEAD}item = \"li\"\ntitle = \"h3 + p a\"\nengine = \"streaming\"\n"
    ))
    .unwrap_err();
    assert!(
        e.starts_with("feeds.toml:7:") && e.contains("h3 + p a"),
        "{e}"
    );

    // The DOM engine reads what the selector says.
    let page = br#"<ul><li><h3>x</h3><p><a href="/a">A</a></p><p><a href="/b">B</a></p></li></ul>"#;
    // `auto` set by hand (not resolved at load) picks the DOM engine at read time.
    for engine in [Engine::Dom, Engine::Auto] {
        let l = read(
            &with_engine(&c.sources[0], engine),
            page,
            Some("https://x.example/"),
        );
        assert_eq!(l.items.len(), 1);
        assert_eq!(l.items[0].title, "A");
        assert_eq!(l.items[0].url.as_deref(), Some("https://x.example/a"));
    }
    // Forcing the streaming engine on it is an error naming the selector, not a panic.
    let e = read_with(
        &with_engine(&c.sources[0], Engine::Streaming),
        page,
        Some("https://x.example/"),
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("\"s\"") && e.contains("h3 + p a"), "{e}");
}

fn inline_source(html: &str) -> SourceConfig {
    let text = format!(
        "[[source]]\nname = \"inline\"\nkind = \"html\"\ntimezone = \"Asia/Seoul\"\ninputs = [\"a.html\"]\n[source.html]\n{html}"
    );
    parse_config(&text).unwrap().sources.remove(0)
}

/// Both engines, which must agree.
fn read_both(src: &SourceConfig, page: &str) -> Listing {
    let s = read(src, page.as_bytes(), Some("https://x.example/list/"));
    let d = read(
        &with_engine(src, Engine::Dom),
        page.as_bytes(),
        Some("https://x.example/list/"),
    );
    assert_eq!(s, d, "the engines disagree on {page}");
    s
}

#[test]
fn text_rules_cards_scope_and_nesting() {
    let src = inline_source(
        "item = \".card\"\ntitle = \"h2 a\"\nsummary = \".sum\"\nauthors = \".by\"\ntags = \".tag\"\n\
         image = \"img\"\npublished = \"time\"\n",
    );
    let page = r#"<div class=card><h2><a href="/one">One &amp; <b>only</b></a></h2>
        <div class=sum><p>First&nbsp;para.</p><p>Second<br>line &#x2019;x&rsquo;</p><script>var x = "<p>";</script><style>p{}</style></div>
        <span class=by>A</span>, <span class=by><span class=by>B</span></span> <span class=by> </span>
        <img src="data:image/gif;base64,R0l"><img data-src="/lazy.jpg" src="data:,">
        <img src="/second.jpg"><time>3 hours ago</time>
        <a class=tag>x</a><a class=tag>X</a><a class=tag>y</a></div>
      <div class=ad><h2>Advertisement</h2></div>
      <div class=card><h2><a href="javascript:void(0)">No link</a></h2></div>
      <div class=card><h2><a href="/outer">Outer</a></h2>
        <div class=card><h2><a href="/inner">Inner</a></h2><span class=by>In</span></div>
        <span class=by>Out</span></div>"#;
    let l = read_both(&src, page);
    let titles: Vec<&str> = l.items.iter().map(|i| i.title.as_str()).collect();
    assert_eq!(titles, ["One & only", "Outer", "Inner"]);
    let one = &l.items[0];
    assert_eq!(one.url.as_deref(), Some("https://x.example/one"));
    assert_eq!(
        one.summary.as_deref(),
        Some("First para. Second line \u{2019}x\u{2019}")
    );
    let authors: Vec<&str> = one.authors.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(authors, ["A", "B"]);
    let tags: Vec<&str> = one.tags.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(tags, ["x", "y"]);
    // `img` defaults to data-src then src; data: placeholders never count.
    assert_eq!(one.image.as_deref(), Some("https://x.example/lazy.jpg"));
    // 3 hours before the fetch (12:00 in Seoul).
    assert_eq!(
        one.published.map(|p| p.to_display()).as_deref(),
        Some("2022-05-21T09:00:00+09:00")
    );
    // A field belongs to its nearest card.
    let names =
        |i: usize| -> Vec<String> { l.items[i].authors.iter().map(|a| a.name.clone()).collect() };
    assert_eq!(names(1), ["Out"]);
    assert_eq!(names(2), ["In"]);
    assert!(
        l.warnings
            .iter()
            .any(|w| w.contains("skipped 1 of 4") && w.contains("#2 (no http(s) url)")),
        "{:#?}",
        l.warnings
    );

    // `:scope` reads the card element itself.
    let src = inline_source(
        "item = \"a.story\"\ntitle = \"h3\"\nurl = { css = \":scope\", attr = \"href\" }\nimage = \":scope\"\n",
    );
    let l = read_both(
        &src,
        r#"<a class=story href="/s1"><h3>S1</h3><img src="/i.jpg"></a><a class=story href="/s2"><h3>S2</h3></a>"#,
    );
    let urls: Vec<_> = l.items.iter().map(|i| i.url.clone().unwrap()).collect();
    assert_eq!(urls, ["https://x.example/s1", "https://x.example/s2"]);
    assert_eq!(l.items[0].image, None, "the card element has no src");
}

#[test]
fn captured_date_anchors_relative_dates_and_base_url_resolves_links() {
    let src = inline_source(
        "item = \"li\"\ntitle = \"a\"\npublished = \".when\"\ncaptured = \"#today\"\n\
         base_url = \"https://cdn.example/base/\"\n",
    );
    let page = r#"<p id=today>March 4, 2021</p><ul>
        <li><a href="x">X</a> <span class=when>yesterday</span></li>
        <li><a href="/y">Y</a> <span class=when datetime="2021-03-01T10:00:00">Monday</span></li>
        <li><a href="z">Z</a> <span class=when>2 days ago</span></li></ul>"#;
    let l = read_both(&src, page);
    assert_eq!(
        l.captured.map(|d| d.to_string()).as_deref(),
        Some("2021-03-04")
    );
    let got: Vec<(String, String)> = l
        .items
        .iter()
        .map(|i| (i.url.clone().unwrap(), i.published.unwrap().to_display()))
        .collect();
    assert_eq!(
        got,
        [
            ("https://cdn.example/base/x".into(), "2021-03-03".into()),
            (
                "https://cdn.example/y".into(),
                "2021-03-01T10:00:00+09:00".into()
            ),
            ("https://cdn.example/base/z".into(), "2021-03-02".into()),
        ]
    );
}

#[test]
fn relative_links_without_a_page_url_are_skipped_and_explained() {
    let src = inline_source("item = \"li\"\ntitle = \"a\"\n");
    let l = read_with(
        &src,
        b"<li><a href=\"/x\">X</a></li><li><a href=\"https://a.example/y\">Y</a></li>",
        None,
        None,
    )
    .unwrap();
    assert_eq!(l.items.len(), 1);
    assert!(
        l.warnings.iter().any(|w| w.contains("no url")),
        "{:#?}",
        l.warnings
    );
}

fn jsonld_expected() -> Value {
    json!([
        {"title": "Weekly roundup: Missile tests, COVID\u{2011}19 and a presidential visit",
         "url": "https://peninsulamonitor.example/2022/05/21/weekly-roundup/",
         "summary": "Everything that happened on the peninsula this week.",
         "authors": ["Daniel Reyes"], "published": "2022-05-21", "tags": ["Roundup", "North Korea"],
         "image": "https://cdn.peninsulamonitor.example/roundup-1x1.jpg"},
        {"title": "Biden and Yoon tour semiconductor plant on first day of Seoul visit",
         "url": "https://peninsulamonitor.example/2022/05/20/biden-yoon-semiconductor-plant/",
         "summary": "The two leaders stressed supply-chain cooperation at the Pyeongtaek campus.",
         "authors": ["Hannah Cho"], "published": "2022-05-20T21:40:00+09:00",
         "tags": ["Diplomacy", "US-ROK", "Economy"],
         "image": "https://peninsulamonitor.example/img/2022/05/pyeongtaek.jpg"},
        {"title": "New unification minister outlines North Korea policy priorities",
         "url": "https://peninsulamonitor.example/2022/05/19/unification-minister-priorities/",
         "summary": null, "authors": [], "published": null, "tags": [], "image": null},
        {"title": "Explainer: How North Korea reports its COVID-19 numbers",
         "url": "https://peninsulamonitor.example/2022/05/18/explainer-covid-numbers/",
         "summary": null, "authors": ["Mira Son", "Hannah Cho"], "published": "2022-05-18T08:00:00Z",
         "tags": ["COVID-19", "Explainer"], "image": null}
    ])
}

fn assert_items(l: &Listing, want: &Value) {
    let want = want.as_array().unwrap();
    assert_eq!(l.items.len(), want.len(), "{:#?}", l.items);
    for (i, (item, w)) in l.items.iter().zip(want).enumerate() {
        let g = common::item_json(item);
        for key in ["title", "url", "summary", "authors", "tags", "image"] {
            assert_eq!(g[key], w[key], "item {} {key}", i + 1);
        }
        assert!(
            common::published_matches(item.published.as_ref(), &w["published"]),
            "item {}: {:?} vs {}",
            i + 1,
            item.published,
            w["published"]
        );
    }
}

#[test]
fn jsonld_is_a_fallback_or_the_first_choice_or_off() {
    let bytes = std::fs::read(common::fixtures().join("html/jsonld-news.html")).unwrap();
    let url = Some("https://peninsulamonitor.example/latest/");
    let selectors = "item = \"article.story\"\ntitle = \"h2 a\"\n";
    // auto: the selectors find nothing, so JSON-LD is read.
    for engine in [Engine::Streaming, Engine::Dom] {
        let src = with_engine(&inline_source(selectors), engine);
        assert_eq!(src.html.as_ref().unwrap().jsonld, JsonLd::Auto);
        let l = read(&src, &bytes, url);
        assert_items(&l, &jsonld_expected());
        assert!(
            l.warnings
                .iter()
                .any(|w| w.contains("JSON-LD block 3 is not valid JSON")),
            "{:#?}",
            l.warnings
        );
    }
    let never = inline_source(&format!("{selectors}jsonld = \"never\"\n"));
    let l = read(&never, &bytes, url);
    assert!(l.items.is_empty());
    assert!(
        l.warnings
            .iter()
            .any(|w| w.contains("no element matches html.item"))
    );

    // always: JSON-LD wins over cards the selectors would find.
    let page = String::from_utf8(bytes.clone()).unwrap().replace(
        "<main id=\"app\">",
        "<main><article class=story><h2><a href=\"/card\">Card</a></h2></article>",
    );
    let auto = inline_source(selectors);
    assert_eq!(read(&auto, page.as_bytes(), url).items.len(), 1);
    let always = inline_source(&format!("{selectors}jsonld = \"always\"\n"));
    assert_items(&read(&always, page.as_bytes(), url), &jsonld_expected());
}

#[test]
fn empty_and_whitespace_pages_are_empty_listings() {
    let config = config();
    let src = source(&config, "nknews-2022");
    for page in [&b""[..], b"   \n", b"\xEF\xBB\xBF", b"<html>"] {
        let l = read(src, page, Some("https://www.nknews.org/"));
        assert!(l.items.is_empty());
        assert!(!l.warnings.is_empty());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary bytes never panic either engine.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let config = config();
        let src = source(&config, "nknews-2022");
        let _ = read_with(src, &bytes, Some("https://www.nknews.org/"), None);
        let _ = read_with(&with_engine(src, Engine::Dom), &bytes, None, Some("text/html; charset=shift_jis"));
    }

    /// Markup built from the pieces a listing is made of never panics, and both
    /// engines agree on well-nested pieces.
    #[test]
    fn card_soup_never_panics(parts in proptest::collection::vec(prop_oneof![
        Just("<article class=\"nk-card\">".to_owned()), Just("</article>".to_owned()),
        Just("<h3 class=\"nk-card__title\"><a href=\"/x\">".to_owned()), Just("</a></h3>".to_owned()),
        Just("<div class=\"nk-card__excerpt\"><p>".to_owned()), Just("</p></div>".to_owned()),
        Just("<span class=\"byline__authors\"><a>A</a> | <a>B</a></span>".to_owned()),
        Just("<time class=\"byline__date\" datetime=\"2022-05-21T11:43:21+09:00\">".to_owned()),
        Just("<span class=\"byline__date\">May 20, 2022</span>".to_owned()), Just("</time>".to_owned()),
        Just("<img data-src=\"/i.jpg\">".to_owned()), Just("&amp;".to_owned()), Just("&rsquo;".to_owned()), Just("&#x".to_owned()), Just("text".to_owned()),
        Just("<script type=\"application/ld+json\">{\"@type\":\"Article\"}</script>".to_owned()),
        Just("<a class=\"next page-numbers\" href=\"/2\">".to_owned()), Just("<!--".to_owned()), Just("<".to_owned()), Just("\u{FFFD}".to_owned()),
        ".{0,8}".prop_map(|s: String| s),
    ], 0..60)) {
        let page: String = parts.concat();
        let config = config();
        let src = source(&config, "nknews-2022");
        let _ = read_with(src, page.as_bytes(), Some("https://www.nknews.org/"), None);
        let _ = read_with(&with_engine(src, Engine::Dom), page.as_bytes(), Some("https://www.nknews.org/"), None);
    }
}
