//! The feed adapter: RSS 0.91/1.0/2.0, Atom and JSON Feed read into items,
//! and broken or wrong documents refused with errors that name the page.

mod common;

use std::path::Path;

use byline::adapters::{AdapterError, Listing, Page, feed};
use byline::config::{Config, SourceConfig};
use byline::model::Published;
use proptest::prelude::*;
use url::Url;

fn source(name: &str, timezone: Option<&str>) -> SourceConfig {
    let mut toml = format!("[[source]]\nname = \"{name}\"\nkind = \"feed\"\ninputs = [\"a\"]\n");
    if let Some(tz) = timezone {
        toml.push_str(&format!("timezone = \"{tz}\"\n"));
    }
    let config = Config::parse(&toml, "test.toml", Path::new(".")).expect("config");
    config.sources.into_iter().next().expect("one source")
}

fn read_with(
    source: &SourceConfig,
    bytes: &[u8],
    name: &str,
    url: Option<&Url>,
    first_position: u32,
) -> Result<Listing, AdapterError> {
    let page = Page {
        bytes,
        name,
        url,
        content_type: None,
        captured: None,
        fetched_at: chrono::Utc::now(),
    };
    feed::read(source, &page, first_position)
}

fn read_bytes(bytes: &[u8], name: &str) -> Result<Listing, AdapterError> {
    read_with(&source("x", None), bytes, name, None, 0)
}

fn fixture(rel: &str) -> Vec<u8> {
    let path = common::fixtures().join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn read_fixture(rel: &str) -> Listing {
    read_bytes(&fixture(rel), rel).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn titles(listing: &Listing) -> Vec<&str> {
    listing.items.iter().map(|i| i.title.as_str()).collect()
}

fn names(people: &[byline::model::Person]) -> Vec<&str> {
    people.iter().map(|p| p.name.as_str()).collect()
}

fn display(p: Option<Published>) -> Option<String> {
    p.map(|p| p.to_display())
}

#[test]
fn rss_2_fixture_matches_expected() {
    let listing = read_fixture("html/other-source.rss");
    common::assert_matches_expected(&listing, "other-source.rss.json");
    assert!(listing.warnings.is_empty(), "{:?}", listing.warnings);
    let positions: Vec<u32> = listing.items.iter().map(|i| i.position).collect();
    assert_eq!(positions, [0, 1, 2, 3, 4]);
    // The id is the canonical url: the tracking parameters the link keeps are gone.
    assert_eq!(
        listing.items[2].id,
        "https://www.nknews.org/2022/05/north-korea-high-on-agenda-as-biden-arrives-in-south-korea-for-summit-with-yoon/"
    );
    assert!(listing.items.iter().all(|i| i.source == "x"));
}

#[test]
fn atom_fixture_matches_expected() {
    let listing = read_fixture("html/other-source.atom");
    common::assert_matches_expected(&listing, "other-source.atom.json");
    assert!(listing.warnings.is_empty(), "{:?}", listing.warnings);
    let updated: Vec<Option<String>> = listing
        .items
        .iter()
        .map(|i| i.updated.map(|u| u.to_rfc3339()))
        .collect();
    assert_eq!(
        updated[0].as_deref(),
        Some("2022-05-21T12:00:00+00:00"),
        "Atom <updated> is kept beside <published>"
    );
    assert_eq!(updated[2].as_deref(), Some("2022-05-19T09:15:00+09:00"));
}

#[test]
fn broken_entity_feed_is_an_error_naming_the_source_page_and_line() {
    let bytes = fixture("html/bad/broken-entity.rss");
    let name = "tests/fixtures/html/bad/broken-entity.rss";
    let err = read_with(&source("peninsula", None), &bytes, name, None, 0)
        .expect_err("a feed that is not well-formed XML is an error");
    let text = String::from_utf8_lossy(&bytes);
    let nbsp_line = text
        .lines()
        .position(|l| l.contains("&nbsp;"))
        .expect("fixture has &nbsp;")
        + 1;
    assert!(
        err.place.starts_with(&format!("{name}:{nbsp_line}:")),
        "the first fault is the &nbsp; on line {nbsp_line}: {err}"
    );
    let message = err.to_string();
    assert!(message.contains("\"peninsula\""), "{message}");
    assert!(message.contains("&nbsp;"), "{message}");
    assert!(message.contains("not well-formed"), "{message}");
}

#[test]
fn bare_ampersand_is_an_error_too() {
    // broken-entity.rss with the &nbsp; fixed still has a bare '&' in a link.
    let text = String::from_utf8(fixture("html/bad/broken-entity.rss")).expect("utf-8");
    let fixed = text.replace("&nbsp;", "&#160;");
    let err = read_bytes(fixed.as_bytes(), "fixed.rss").expect_err("bare & is not XML");
    let amp_line = fixed
        .lines()
        .position(|l| l.contains("?utm_source=peninsulamonitor&utm"))
        .expect("fixture has a bare &")
        + 1;
    assert!(
        err.place.starts_with(&format!("fixed.rss:{amp_line}:")),
        "{err}"
    );
    assert!(err.message.contains("bare '&'"), "{err}");
}

#[test]
fn rss_1_rdf() {
    let listing = read_with(
        &source("x", Some("Asia/Seoul")),
        &fixture("feeds/rss10.rdf"),
        "feeds/rss10.rdf",
        None,
        0,
    )
    .expect("RSS 1.0");
    assert_eq!(
        titles(&listing),
        [
            "Inter-Korean rail link <still> on hold",
            "Crab fishing season opens near the border"
        ]
    );
    let (a, b) = (&listing.items[0], &listing.items[1]);
    assert_eq!(
        a.url.as_deref(),
        Some("https://korea-digest.example/news/2022/05/rail-link/"),
        "a relative link resolves against the channel link"
    );
    assert_eq!(
        a.summary.as_deref(),
        Some("Officials say the Gyeongui line project awaits talks.")
    );
    assert_eq!(names(&a.authors), ["Seo-yeon Park", "Tomas Berg"]);
    assert_eq!(
        display(a.published).as_deref(),
        Some("2022-05-16T10:30:00+09:00")
    );
    let tags: Vec<&str> = a.tags.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(tags, ["Transport", "Inter-Korean"]);
    // A dc:date without a time stays a date, in the source's zone.
    assert_eq!(
        b.published,
        Some(Published::Date(
            chrono::NaiveDate::from_ymd_opt(2022, 5, 15).expect("date"),
            chrono_tz::Asia::Seoul
        ))
    );
    assert_eq!(
        b.summary.as_deref(),
        Some("Boats from Yeonpyeong left port at dawn. Catches are expected to be modest."),
        "content:encoded stands in for a missing description"
    );
    assert_eq!(names(&b.authors), ["Tomas Berg"]);
}

#[test]
fn rss_0_91_in_latin_1_with_html_entities_from_its_dtd() {
    let listing = read_fixture("feeds/rss091.xml");
    assert_eq!(
        titles(&listing),
        [
            "Café culture returns to Insadong & Samcheong-dong",
            "Han River ferry timetable changes"
        ]
    );
    let first = &listing.items[0];
    assert_eq!(
        first.url.as_deref(),
        Some("http://oldseoulwire.example/stories/cafe-culture.html")
    );
    assert_eq!(
        first.summary.as_deref(),
        Some("Owners report \"steady\" weekend crowds again été.")
    );
    assert!(first.authors.is_empty());
    assert_eq!(first.published, None, "RSS 0.91 items carry no date");
    assert_eq!(listing.items[1].summary, None);
    // Url-less and undated items still get stable ids from their urls.
    assert_eq!(
        listing.items[1].id,
        "http://oldseoulwire.example/stories/ferry.html"
    );
}

#[test]
fn json_feed_1_1() {
    let listing = read_fixture("feeds/jsonfeed11.json");
    assert_eq!(
        listing.items.len(),
        2,
        "the malformed third item is skipped"
    );
    assert!(
        listing.warnings.iter().any(|w| w.contains("entry 3")),
        "{:?}",
        listing.warnings
    );
    assert_eq!(
        listing.next_page.as_deref(),
        Some("https://dmznotes.example/feed-2.json")
    );
    let (a, b) = (&listing.items[0], &listing.items[1]);
    assert_eq!(a.title, "Cranes return to the Cheorwon plain");
    assert_eq!(
        a.url.as_deref(),
        Some("https://dmznotes.example/2022/05/birdwatch/")
    );
    assert_eq!(
        a.summary.as_deref(),
        Some("A record count of red-crowned cranes in Cheorwon.")
    );
    assert_eq!(names(&a.authors), ["Hye-jin Lee", "Arto Virtanen"]);
    assert_eq!(
        display(a.published).as_deref(),
        Some("2022-05-14T07:15:00+09:00")
    );
    assert_eq!(
        a.updated.map(|u| u.to_rfc3339()).as_deref(),
        Some("2022-05-15T09:00:00+09:00")
    );
    let tags: Vec<&str> = a.tags.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(tags, ["Wildlife", "DMZ"]);
    assert_eq!(
        a.image.as_deref(),
        Some("https://dmznotes.example/img/cranes.jpg")
    );

    // A title-less note: the title comes from its text, the author from the feed.
    assert!(
        b.title
            .starts_with("Fog closed the observatory again today"),
        "{}",
        b.title
    );
    assert!(b.title.chars().count() <= 81, "{}", b.title);
    assert_eq!(
        b.summary.as_deref(),
        Some("Fog closed the observatory again today; the Kaesong skyline stayed hidden.")
    );
    assert_eq!(
        b.url.as_deref(),
        Some("https://dmznotes.example/2022/05/short-note/")
    );
    assert_eq!(
        b.image.as_deref(),
        Some("https://dmznotes.example/img/fog.jpg")
    );
    assert_eq!(names(&b.authors), ["DMZ Notes staff"]);
    assert_eq!(
        display(b.published).as_deref(),
        Some("2022-05-13T18:00:00+00:00")
    );
}

#[test]
fn json_feed_1_0() {
    let listing = read_fixture("feeds/jsonfeed10.json");
    assert_eq!(
        titles(&listing),
        [
            "Episode 41: Fertilizer and food",
            "Episode 40: Guest episode"
        ]
    );
    let (a, b) = (&listing.items[0], &listing.items[1]);
    assert_eq!(
        a.url.as_deref(),
        Some("https://panmunjom-podcast.example/episodes/41"),
        "external_url when there is no url"
    );
    assert_eq!(names(&a.authors), ["Min-su Kang"], "the feed's 1.0 author");
    assert_eq!(a.summary.as_deref(), Some("We talk about spring planting."));
    assert_eq!(
        display(a.published).as_deref(),
        Some("2022-05-12T20:00:00-04:00")
    );
    assert_eq!(names(&b.authors), ["Laura Pim"]);
    assert_eq!(
        b.published, None,
        "an unreadable date is left out, never invented"
    );
    assert!(
        listing
            .warnings
            .iter()
            .any(|w| w.contains("entry 2") && w.contains("not a date")),
        "{:?}",
        listing.warnings
    );
}

#[test]
fn positions_continue_from_the_first_position() {
    let listing = read_with(
        &source("x", None),
        &fixture("html/other-source.atom"),
        "p2.atom",
        None,
        20,
    )
    .expect("atom");
    let positions: Vec<u32> = listing.items.iter().map(|i| i.position).collect();
    assert_eq!(positions, [20, 21, 22, 23]);
}

#[test]
fn atom_bases_inherited_authors_and_term_fallback() {
    let atom = r#"<?xml version="1.0"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="/blog/">
  <title>t</title><id>i</id><updated>2022-05-01T00:00:00Z</updated>
  <author><name>Feed Author</name></author>
  <link rel="next" href="page/2/"/>
  <entry xml:base="2022/">
    <title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">A <b>bold</b> move</div></title>
    <id>e1</id><updated>2022-05-02T00:00:00Z</updated>
    <link href="05/move/"/>
    <category term="politics"/>
    <contributor><name>Helper Person</name></contributor>
  </entry>
  <entry>
    <title>No people here</title><id>e2</id><updated>2022-05-03T00:00:00+09:00</updated>
    <link rel="alternate" type="text/html" href="/other/"/>
  </entry>
</feed>"#;
    let page_url = Url::parse("https://site.example/feeds/all.atom").expect("url");
    let listing = read_with(
        &source("x", None),
        atom.as_bytes(),
        "inline.atom",
        Some(&page_url),
        0,
    )
    .expect("atom");
    let (a, b) = (&listing.items[0], &listing.items[1]);
    assert_eq!(a.title, "A bold move");
    assert_eq!(
        a.url.as_deref(),
        Some("https://site.example/blog/2022/05/move/"),
        "page url, then the feed's xml:base, then the entry's"
    );
    assert_eq!(a.tags[0].name, "politics", "term when there is no label");
    assert_eq!(names(&a.authors), ["Helper Person"], "contributors count");
    assert_eq!(
        display(a.published).as_deref(),
        Some("2022-05-02T00:00:00+00:00")
    );
    assert_eq!(b.url.as_deref(), Some("https://site.example/other/"));
    assert_eq!(
        names(&b.authors),
        ["Feed Author"],
        "entries inherit the feed's author"
    );
    assert_eq!(
        listing.next_page.as_deref(),
        Some("https://site.example/blog/page/2/")
    );
}

#[test]
fn rss_without_channel_link_resolves_against_the_page() {
    let rss = r#"<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>t</title>
      <item><title>One</title><link>/a/one</link>
        <author>kim@example.org (Jeongmin Kim)</author>
        <dc:creator><![CDATA[Chad O&#039;Carroll]]></dc:creator>
        <category><![CDATA[News &amp; Politics]]></category>
        <enclosure url="/img/one.png" type="image/png" length="1"/>
        <pubDate>Fri, 20 May 2022 16:05:00</pubDate></item>
      <item><description>no title, no link</description><pubDate>someday</pubDate></item>
      <item><category>only a tag</category></item>
    </channel></rss>"#;
    let page_url = Url::parse("https://news.example/feed/").expect("url");
    let listing = read_with(
        &source("x", Some("Asia/Seoul")),
        rss.as_bytes(),
        "inline.rss",
        Some(&page_url),
        0,
    )
    .expect("rss");
    assert_eq!(titles(&listing), ["One", "no title, no link"]);
    let a = &listing.items[0];
    assert_eq!(a.url.as_deref(), Some("https://news.example/a/one"));
    assert_eq!(a.image.as_deref(), Some("https://news.example/img/one.png"));
    assert_eq!(
        names(&a.authors),
        ["Chad O'Carroll", "Jeongmin Kim"],
        "dc:creator, then the name in author; HTML-escaped CDATA decoded"
    );
    assert_eq!(a.tags[0].name, "News & Politics");
    assert_eq!(
        display(a.published).as_deref(),
        Some("2022-05-20T16:05:00+09:00"),
        "a zone-less pubDate is in the source's zone"
    );
    assert_eq!(listing.items[1].published, None);
    assert_eq!(listing.warnings.len(), 2, "{:?}", listing.warnings);
    assert!(
        listing.warnings[0].contains("someday"),
        "{:?}",
        listing.warnings
    );
    assert!(
        listing.warnings[1].contains("entry 3"),
        "{:?}",
        listing.warnings
    );
}

#[test]
fn json_feed_in_utf_16() {
    let json = String::from_utf8(fixture("feeds/jsonfeed10.json")).expect("utf-8");
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(json.encode_utf16().flat_map(u16::to_le_bytes));
    let listing = read_bytes(&bytes, "utf16.json").expect("UTF-16 JSON Feed");
    assert_eq!(listing.items.len(), 2);
    assert_eq!(listing.items[0].title, "Episode 41: Fertilizer and food");
}

#[test]
fn documents_that_are_not_feeds_are_clear_errors() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (Vec::new(), "empty document"),
        (b" \n\t ".to_vec(), "empty document"),
        (fixture("html/nknews-latest-p1.html"), "HTML page"),
        (
            b"{\"name\": \"not a feed\", \"items\": []}".to_vec(),
            "not a JSON Feed",
        ),
        (b"{\"version\": ".to_vec(), "not valid JSON"),
        (b"just some words".to_vec(), "not a feed"),
        (
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>".to_vec(),
            "<svg> is not a feed",
        ),
        (
            fixture("html/other-source.atom")[..1500].to_vec(),
            "cut off",
        ),
        (
            b"<rss version=\"2.0\"><channel></rss>".to_vec(),
            "not well-formed",
        ),
    ];
    for (bytes, want) in cases {
        let err = read_bytes(&bytes, "page.name").expect_err(want);
        assert!(err.place.starts_with("page.name"), "{err}");
        assert!(err.message.contains("\"x\""), "names the source: {err}");
        assert!(err.message.contains(want), "want {want:?} in: {err}");
    }
}

#[test]
fn html_fixtures_of_every_kind_are_refused_not_misread() {
    for rel in [
        "html/nknews-2021.html",
        "html/bad/truncated.html",
        "html/bad/windows-1252.html",
        "html/bad/empty.html",
        "text/nknews-2021-03-04.txt",
    ] {
        let err = read_bytes(&fixture(rel), rel).expect_err(rel);
        assert!(err.place.starts_with(rel), "{err}");
    }
}

/// Byte-level damage to real feeds: cut, spliced and flipped.
fn damaged_feed() -> impl Strategy<Value = Vec<u8>> {
    let feeds: Vec<Vec<u8>> = [
        "html/other-source.rss",
        "html/other-source.atom",
        "feeds/rss10.rdf",
        "feeds/rss091.xml",
        "feeds/jsonfeed11.json",
    ]
    .iter()
    .map(|rel| fixture(rel))
    .collect();
    (
        proptest::sample::select(feeds),
        any::<prop::sample::Index>(),
        any::<prop::sample::Index>(),
        proptest::collection::vec(any::<u8>(), 0..16),
    )
        .prop_map(|(mut feed, at, cut, insert)| {
            let at = at.index(feed.len());
            let end = (at + cut.index(64)).min(feed.len());
            feed.splice(at..end, insert);
            feed
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = read_bytes(&bytes, "fuzz");
    }

    #[test]
    fn xml_looking_noise_never_panics(text in "(<[a-z:]{0,6}( [a-z:]{1,4}=\"[^\"<]{0,8}\")?/?>|</[a-z:]{0,6}>|&[#a-z0-9]{0,5};?|<!\\[CDATA\\[|\\]\\]>|<!DOCTYPE[^>]{0,10}>|[ -~]{0,6}){0,40}") {
        let _ = read_bytes(text.as_bytes(), "fuzz");
    }

    #[test]
    fn damaged_feeds_never_panic(bytes in damaged_feed()) {
        if let Ok(listing) = read_bytes(&bytes, "fuzz") {
            for item in &listing.items {
                prop_assert!(!item.title.is_empty());
                if let Some(u) = &item.url {
                    prop_assert!(u.starts_with("http://") || u.starts_with("https://"), "{}", u);
                }
            }
        }
    }
}
