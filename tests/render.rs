//! The renderers, checked from the outside: every feed is read back with an
//! independent parser (feed-rs), Atom is validated against the RFC 4287
//! schema with jing, and arbitrary text must come out as well-formed XML that
//! reads back as the same text.

use std::path::Path;
use std::process::Command;

use byline::model::{Item, Person, Published, Tag};
use byline::render::{Format, Site, atom, html, item_anchor, json, opml, rss};
use byline::views::{View, ViewKey};
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use feed_rs::model::Feed as ParsedFeed;
use proptest::prelude::*;
use quick_xml::XmlVersion;
use quick_xml::events::Event;
use scraper::{Html, Selector};
use url::Url;

const TRICKY_TITLE: &str = "Kim's \"plan\" & <b>bold</b> ]]> \u{1}end";
/// The tricky title as a reader must see it: only U+0001 is gone.
const TRICKY_TITLE_READ: &str = "Kim's \"plan\" & <b>bold</b> ]]> end";

fn site() -> Site {
    Site {
        base_url: Url::parse("https://byline.example/news/").unwrap(),
        title: "byline & friends".to_owned(),
    }
}

fn seoul(y: i32, m: u32, d: u32) -> Published {
    Published::Date(
        NaiveDate::from_ymd_opt(y, m, d).unwrap(),
        chrono_tz::Asia::Seoul,
    )
}

fn at(rfc3339: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(rfc3339).unwrap()
}

fn person(name: &str, url: Option<&str>) -> Person {
    let mut p = Person::new(name);
    p.url = url.map(str::to_owned);
    p
}

/// Items in feed order: a url with a tracking parameter (so its id is not its
/// url), the tricky title with a bare date and a later `updated`, url-less
/// items from a text dump, one of them without authors.
fn items() -> Vec<Item> {
    let mut a = Item::new(
        "nknews",
        0,
        "Biden arrives in Seoul".to_owned(),
        Some("https://www.nknews.org/2022/05/biden-arrives/?utm_source=rss".to_owned()),
    );
    a.published = Some(Published::DateTime(at("2022-05-21T11:43:21+09:00")));
    a.authors = vec![
        person("Ifang Bremer", Some("https://www.nknews.org/author/ifang/")),
        person("Jeongmin Kim", None),
    ];
    a.tags = vec![Tag::new("NK PRO"), Tag::new("Politics & Law")];
    a.summary = Some("The president lands at Osan.".to_owned());
    a.image = Some("https://i0.wp.com/www.nknews.org/img/biden.JPG?ssl=1".to_owned());

    let mut b = Item::new(
        "nknews",
        1,
        TRICKY_TITLE.to_owned(),
        Some("https://www.nknews.org/2022/05/plan/?a=1&b=2".to_owned()),
    );
    b.published = Some(seoul(2022, 5, 20));
    b.updated = Some(at("2022-05-22T08:00:00Z"));
    b.authors = vec![person("Chad O'Carroll", None)];
    b.tags = vec![Tag::new("NK PRO")];
    b.summary = Some("Summary with <i>markup</i> & ]]> and \u{b}control".to_owned());
    b.refresh_id();

    let mut c = Item::new("dump", 2, "Talks stall again".to_owned(), None);
    c.published = Some(seoul(2021, 3, 2));
    c.authors = vec![person("Jeongmin Kim", None), person("Kelly Kasulis", None)];
    c.refresh_id();

    let mut d = Item::new("dump", 3, "A story nobody signed".to_owned(), None);
    d.published = Some(seoul(2021, 2, 25));
    d.refresh_id();
    vec![a, b, c, d]
}

fn all_view(items: &[Item]) -> View<'_> {
    View::select(ViewKey::All, "Everything".to_owned(), items, usize::MAX)
}

fn parse(text: &str) -> ParsedFeed {
    feed_rs::parser::parse(text.as_bytes()).unwrap_or_else(|e| panic!("feed-rs: {e}\n{text}"))
}

fn utc(t: DateTime<FixedOffset>) -> DateTime<Utc> {
    t.with_timezone(&Utc)
}

/// What a reader must get back for `s`: the XML 1.0 `Char` production, with
/// carriage returns folded into newlines. Written out independently of the
/// renderer's own filter, as the oracle for it.
fn readable(s: &str) -> String {
    let folded = s.replace("\r\n", "\n").replace('\r', "\n");
    folded
        .chars()
        .filter(|&c| {
            matches!(c, '\t' | '\n' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
        })
        .collect()
}

/// The names a feed must credit for `item`: its authors in byline order, or
/// the site for an unsigned item (RFC 4287 wants an author on every entry).
fn credited(item: &Item) -> Vec<String> {
    if item.authors.is_empty() {
        vec!["byline & friends".to_owned()]
    } else {
        item.authors.iter().map(|a| a.name.clone()).collect()
    }
}

fn names(people: &[feed_rs::model::Person]) -> Vec<String> {
    people.iter().filter_map(|p| p.name.clone()).collect()
}

fn title_of(e: &feed_rs::model::Entry) -> String {
    e.title
        .as_ref()
        .map(|t| t.content.clone())
        .unwrap_or_default()
}

/// Write `RENDER_DUMP_DIR/NAME` when that variable is set, to run outside
/// checkers (validate-feed, a real reader) on exactly what the tests render.
fn dump(name: &str, text: &str) {
    if let Ok(dir) = std::env::var("RENDER_DUMP_DIR") {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(Path::new(&dir).join(name), text).unwrap();
    }
}

#[test]
fn atom_reads_back_with_every_item() {
    let items = items();
    let view = all_view(&items);
    let site = site();
    let text = atom::render(&view, &site);
    dump("all.atom", &text);
    let feed = parse(&text);

    assert_eq!(feed.id, site.feed_url(&ViewKey::All, Format::Atom));
    assert_eq!(feed.title.as_ref().unwrap().content, "Everything");
    // Newest item time: b's `updated`, later than a's publication.
    assert_eq!(feed.updated, Some(utc(at("2022-05-22T08:00:00Z"))));
    let link = |rel: &str| {
        feed.links
            .iter()
            .find(|l| l.rel.as_deref() == Some(rel))
            .cloned()
    };
    let self_link = link("self").expect("self link");
    assert_eq!(self_link.href, "https://byline.example/news/feed.atom");
    assert_eq!(
        self_link.media_type.as_deref(),
        Some("application/atom+xml")
    );
    let alternate = link("alternate").expect("alternate link");
    assert_eq!(alternate.href, "https://byline.example/news/");
    assert_eq!(alternate.media_type.as_deref(), Some("text/html"));
    assert_eq!(
        feed.generator.as_ref().map(|g| g.content.as_str()),
        Some("byline")
    );
    // Every entry names its own authors; none are left to inherit.
    assert!(feed.authors.is_empty());

    assert_eq!(feed.entries.len(), items.len());
    for (item, entry) in items.iter().zip(&feed.entries) {
        assert_eq!(entry.id, item.id);
        assert_eq!(title_of(entry), readable(&item.title).trim());
        let alt: Vec<_> = entry
            .links
            .iter()
            .filter(|l| l.rel.as_deref() == Some("alternate"))
            .map(|l| l.href.as_str())
            .collect();
        assert_eq!(alt, [site.item_link(item)]);
        assert_eq!(names(&entry.authors), credited(item));
        let uris: Vec<_> = entry.authors.iter().map(|a| a.uri.clone()).collect();
        let mut want_uris: Vec<_> = item.authors.iter().map(|a| a.url.clone()).collect();
        if want_uris.is_empty() {
            want_uris = vec![Some("https://byline.example/news/".to_owned())];
        }
        assert_eq!(uris, want_uris);
        let instant = item.published.unwrap().instant();
        assert_eq!(entry.published, Some(utc(instant)));
        assert_eq!(entry.updated, Some(utc(item.updated.unwrap_or(instant))));
        let tags: Vec<_> = entry
            .categories
            .iter()
            .map(|c| (c.term.clone(), c.label.clone().unwrap_or_default()))
            .collect();
        let want_tags: Vec<_> = item
            .tags
            .iter()
            .map(|t| (t.slug.clone(), t.name.clone()))
            .collect();
        assert_eq!(tags, want_tags);
        assert_eq!(
            entry.summary.as_ref().map(|s| s.content.clone()),
            item.summary
                .as_deref()
                .map(|s| readable(s).trim().to_owned())
        );
    }
    assert_eq!(title_of(&feed.entries[1]), TRICKY_TITLE_READ);
    // Url-less items link to their anchor on the source's page.
    assert_eq!(
        feed.entries[2].links[0].href,
        format!(
            "https://byline.example/news/sources/dump.html#{}",
            item_anchor(&items[2])
        )
    );
    // The image is an enclosure because its extension tells its type.
    let enclosure = feed.entries[0]
        .links
        .iter()
        .find(|l| l.rel.as_deref() == Some("enclosure"))
        .expect("image enclosure");
    assert_eq!(enclosure.media_type.as_deref(), Some("image/jpeg"));
}

#[test]
fn author_view_feed_is_about_that_author() {
    let items = items();
    let view = View::select(
        ViewKey::Author("jeongmin-kim".into()),
        "Jeongmin Kim".into(),
        &items,
        usize::MAX,
    );
    let feed = parse(&atom::render(&view, &site()));
    assert_eq!(
        feed.id,
        "https://byline.example/news/authors/jeongmin-kim.atom"
    );
    assert_eq!(feed.title.unwrap().content, "Jeongmin Kim");
    assert_eq!(feed.entries.len(), 2);
    assert!(
        feed.entries
            .iter()
            .all(|e| names(&e.authors).contains(&"Jeongmin Kim".to_owned()))
    );
}

#[test]
fn rss_reads_back_with_every_item() {
    let items = items();
    let view = all_view(&items);
    let site = site();
    let text = rss::render(&view, &site);
    dump("all.rss", &text);
    let feed = parse(&text);

    assert!(
        text.contains("xmlns:atom=\"http://www.w3.org/2005/Atom\""),
        "{text}"
    );
    assert!(
        text.contains("xmlns:dc=\"http://purl.org/dc/elements/1.1/\""),
        "{text}"
    );
    assert!(
        text.contains(
            "<atom:link href=\"https://byline.example/news/feed.rss\" rel=\"self\" \
             type=\"application/rss+xml\"/>"
        ),
        "{text}"
    );
    // A name is not an e-mail address, so never an RSS <author>.
    assert!(!text.contains("<author>"), "{text}");
    assert_eq!(feed.title.as_ref().unwrap().content, "Everything");
    assert_eq!(feed.links[0].href, "https://byline.example/news/");
    assert_eq!(feed.updated, Some(utc(at("2022-05-22T08:00:00Z"))));
    assert_eq!(feed.published, feed.updated);

    assert_eq!(feed.entries.len(), items.len());
    for (item, entry) in items.iter().zip(&feed.entries) {
        assert_eq!(entry.id, item.id);
        assert_eq!(title_of(entry), readable(&item.title).trim());
        assert_eq!(entry.links.len(), 1);
        assert_eq!(entry.links[0].href, site.item_link(item));
        assert_eq!(names(&entry.authors), credited(item));
        assert_eq!(
            entry.published,
            Some(utc(item.published.unwrap().instant()))
        );
        let tags: Vec<_> = entry.categories.iter().map(|c| c.term.as_str()).collect();
        let want_tags: Vec<_> = item.tags.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(tags, want_tags);
    }
    // The description is HTML, so a plain-text summary arrives escaped once.
    assert_eq!(
        feed.entries[1].summary.as_ref().unwrap().content,
        "Summary with &lt;i&gt;markup&lt;/i&gt; &amp; ]]&gt; and control"
    );
    // A guid is a permalink only when the id is the item's own url.
    assert_ne!(items[0].url.as_deref(), Some(items[0].id.as_str()));
    assert_eq!(items[1].url.as_deref(), Some(items[1].id.as_str()));
    let guids: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("<guid"))
        .collect();
    assert_eq!(guids.len(), 4, "{text}");
    assert!(
        guids[0].starts_with("<guid isPermaLink=\"false\">https://"),
        "{guids:?}"
    );
    assert!(guids[1].starts_with("<guid>https://"), "{guids:?}");
    assert!(
        guids[2].starts_with("<guid isPermaLink=\"false\">urn:byline:"),
        "{guids:?}"
    );
    assert!(
        guids[3].starts_with("<guid isPermaLink=\"false\">urn:byline:"),
        "{guids:?}"
    );
    assert!(
        text.contains("<pubDate>Sat, 21 May 2022 11:43:21 +0900</pubDate>"),
        "{text}"
    );
}

#[test]
fn rss_declares_namespaces_even_when_unused() {
    let items: Vec<Item> = Vec::new();
    let view = all_view(&items);
    let text = rss::render(&view, &site());
    dump("empty.rss", &text);
    assert!(text.contains("xmlns:atom="), "{text}");
    assert!(text.contains("xmlns:dc="), "{text}");
    assert!(!text.contains("lastBuildDate"), "no items, no date: {text}");
    assert_eq!(parse(&text).entries.len(), 0);
}

#[test]
fn json_feed_reads_back_with_every_item() {
    let items = items();
    let view = all_view(&items);
    let site = site();
    let text = json::render(&view, &site);
    dump("all.json", &text);
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["version"], "https://jsonfeed.org/version/1.1");
    assert_eq!(value["feed_url"], "https://byline.example/news/feed.json");
    assert_eq!(value["home_page_url"], "https://byline.example/news/");
    for (item, v) in items.iter().zip(value["items"].as_array().unwrap()) {
        let content = v["content_text"].as_str().unwrap();
        let want = item.summary.as_deref().unwrap_or(&item.title);
        assert_eq!(content, readable(want));
        assert_eq!(v["image"].as_str(), item.image.as_deref());
    }
    // Top-level keys sit at two spaces of indent; their order is fixed.
    let keys: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("  \"")?.split('"').next())
        .collect();
    assert_eq!(
        keys,
        [
            "version",
            "title",
            "home_page_url",
            "feed_url",
            "description",
            "items"
        ],
        "fields keep their declared order"
    );

    let feed = parse(&text);
    assert_eq!(feed.title.as_ref().unwrap().content, "Everything");
    assert_eq!(feed.entries.len(), items.len());
    for (item, entry) in items.iter().zip(&feed.entries) {
        assert_eq!(entry.id, item.id);
        assert_eq!(title_of(entry), readable(&item.title).trim());
        assert_eq!(entry.links[0].href, site.item_link(item));
        assert_eq!(names(&entry.authors), credited(item));
        assert_eq!(
            entry.published,
            Some(utc(item.published.unwrap().instant()))
        );
        assert_eq!(entry.updated, item.updated.map(utc));
        let tags: Vec<_> = entry.categories.iter().map(|c| c.term.as_str()).collect();
        let want_tags: Vec<_> = item.tags.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(tags, want_tags);
    }
}

/// Run jing on `files`; without jing the test fails, loudly, since a skipped
/// schema check would hide invalid feeds.
fn jing(files: &[&Path]) {
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/atom.rnc");
    let output = Command::new("jing")
        .arg("-c")
        .arg(&schema)
        .args(files)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "\n\n*** cannot run `jing` ({e}): the Atom schema check needs it.\n\
                 *** Install it: apt-get install -y jing{}\n\n",
                if std::env::var_os("CI").is_some() {
                    " (CI must provide it)"
                } else {
                    ""
                }
            )
        });
    assert!(
        output.status.success(),
        "jing rejected the Atom output:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn atom_validates_against_rfc_4287_schema() {
    let items = items();
    let site = site();
    let dir = tempfile::tempdir().unwrap();
    let no_items: Vec<Item> = Vec::new();
    let views = [
        ("all.atom", all_view(&items)),
        (
            "author.atom",
            View::select(
                ViewKey::Author("jeongmin-kim".into()),
                "Jeongmin Kim".into(),
                &items,
                usize::MAX,
            ),
        ),
        ("empty.atom", all_view(&no_items)),
    ];
    let mut paths = Vec::new();
    for (name, view) in &views {
        let path = dir.path().join(name);
        std::fs::write(&path, atom::render(view, &site)).unwrap();
        paths.push(path);
    }
    jing(&paths.iter().map(|p| p.as_path()).collect::<Vec<_>>());
}

#[test]
fn empty_feed_is_dated_at_the_epoch_not_now() {
    let items: Vec<Item> = Vec::new();
    let view = all_view(&items);
    let text = atom::render(&view, &site());
    dump("empty.atom", &text);
    let feed = parse(&text);
    assert_eq!(feed.updated, Some(DateTime::UNIX_EPOCH));
    assert!(feed.entries.is_empty());
}

#[test]
fn rendering_is_deterministic_and_dated_by_items() {
    let first = items();
    let second = items();
    let site = site();
    let (a, b) = (all_view(&first), all_view(&second));
    for format in Format::ALL {
        let text = format.render(&a, &site);
        assert!(!text.is_empty());
        assert_eq!(text, format.render(&a, &site), "{format:?} twice");
        assert_eq!(text, format.render(&b, &site), "{format:?} equal items");
    }
    assert_eq!(html::page(&a, &site), html::page(&b, &site));
    assert_eq!(
        html::index(std::slice::from_ref(&a), &site),
        html::index(&[b], &site)
    );
    assert_eq!(
        opml::render(std::slice::from_ref(&a), &site),
        opml::render(std::slice::from_ref(&a), &site)
    );

    // Dropping the item with the newest time moves `updated` back to the
    // next newest: a's publication.
    let without_b: Vec<Item> = first
        .iter()
        .filter(|i| i.source != "nknews" || i.position == 0)
        .cloned()
        .collect();
    let view = all_view(&without_b);
    let atom = parse(&atom::render(&view, &site));
    assert_eq!(atom.updated, Some(utc(at("2022-05-21T11:43:21+09:00"))));
    let rss = parse(&rss::render(&view, &site));
    assert_eq!(rss.updated, atom.updated);
}

#[test]
fn undated_item_takes_the_feed_time_in_atom_and_no_date_elsewhere() {
    let mut items = items();
    items[3].published = None;
    let view = all_view(&items);
    let site = site();
    let atom_text = atom::render(&view, &site);
    dump("undated.atom", &atom_text);
    let atom = parse(&atom_text);
    assert_eq!(atom.entries[3].published, None);
    assert_eq!(atom.entries[3].updated, atom.updated);
    let rss_text = rss::render(&view, &site);
    dump("undated.rss", &rss_text);
    let rss = parse(&rss_text);
    assert_eq!(rss.entries[3].published, None);
    let json = parse(&json::render(&view, &site));
    assert_eq!(json.entries[3].published, None);
}

fn select<'a>(doc: &'a Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    let selector = Selector::parse(css).unwrap();
    doc.select(&selector).collect()
}

fn text_of(el: &scraper::ElementRef) -> String {
    el.text().collect()
}

#[test]
fn html_page_lists_items_with_escaped_text_and_feed_links() {
    let items = items();
    let view = all_view(&items);
    let site = site();
    let page = html::page(&view, &site);
    dump("all.html", &page);
    assert!(page.starts_with("<!DOCTYPE html>\n"));
    assert!(
        !page.contains("<b>bold"),
        "markup in a title must be escaped"
    );
    let doc = Html::parse_document(&page);
    assert!(doc.errors.is_empty(), "HTML parse errors: {:?}", doc.errors);
    assert_eq!(select(&doc, "meta[charset=utf-8]").len(), 1);

    let feeds: Vec<(String, String)> = select(&doc, "head link[rel=alternate]")
        .iter()
        .map(|l| {
            let v = l.value();
            (
                v.attr("type").unwrap().to_owned(),
                v.attr("href").unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        feeds,
        [
            (
                "application/atom+xml".into(),
                "https://byline.example/news/feed.atom".into()
            ),
            (
                "application/rss+xml".into(),
                "https://byline.example/news/feed.rss".into()
            ),
            (
                "application/feed+json".into(),
                "https://byline.example/news/feed.json".into()
            ),
        ]
    );

    let articles = select(&doc, "main article");
    assert_eq!(articles.len(), items.len());
    for (item, article) in items.iter().zip(&articles) {
        assert_eq!(article.value().id(), Some(item_anchor(item).as_str()));
        let sub = Html::parse_fragment(&article.html());
        let link = &select(&sub, "h2 a")[0];
        assert_eq!(text_of(link), readable(&item.title));
        assert_eq!(
            link.value().attr("href"),
            Some(site.item_link(item).as_str())
        );
        let authors: Vec<(String, String)> = select(&sub, "a[rel=author]")
            .iter()
            .map(|a| (text_of(a), a.value().attr("href").unwrap().to_owned()))
            .collect();
        let want: Vec<(String, String)> = item
            .authors
            .iter()
            .map(|a| {
                (
                    a.name.clone(),
                    format!("https://byline.example/news/authors/{}.html", a.slug),
                )
            })
            .collect();
        assert_eq!(authors, want);
        let tags: Vec<String> = select(&sub, "a[rel=tag]").iter().map(text_of).collect();
        let want_tags: Vec<String> = item.tags.iter().map(|t| t.name.clone()).collect();
        assert_eq!(tags, want_tags);
        let time = &select(&sub, "time")[0];
        let want_time = match item.published.unwrap() {
            Published::DateTime(t) => t.to_rfc3339(),
            Published::Date(d, _) => d.to_string(),
        };
        assert_eq!(time.value().attr("datetime"), Some(want_time.as_str()));
        if let Some(summary) = &item.summary {
            let p = select(&sub, "p");
            assert!(
                p.iter().any(|p| text_of(p) == readable(summary)),
                "summary {summary:?} in {}",
                article.html()
            );
        }
    }
}

#[test]
fn html_index_lists_views_by_kind_with_counts_and_subscribe_links() {
    let items = items();
    let site = site();
    let views = vec![
        all_view(&items),
        View::select(
            ViewKey::Author("jeongmin-kim".into()),
            "Jeongmin Kim".into(),
            &items,
            usize::MAX,
        ),
        View::select(
            ViewKey::Author("ifang-bremer".into()),
            "Ifang Bremer".into(),
            &items,
            usize::MAX,
        ),
        View::select(
            ViewKey::Tag("nk-pro".into()),
            "NK PRO".into(),
            &items,
            usize::MAX,
        ),
        View::select(
            ViewKey::Source("dump".into()),
            "Text <dump>".into(),
            &items,
            usize::MAX,
        ),
    ];
    let page = html::index(&views, &site);
    dump("index.html", &page);
    let doc = Html::parse_document(&page);
    assert!(doc.errors.is_empty(), "HTML parse errors: {:?}", doc.errors);
    let hrefs: Vec<&str> = select(&doc, "head link[rel=alternate]")
        .iter()
        .filter_map(|l| l.value().attr("href"))
        .collect();
    assert_eq!(
        hrefs,
        [
            "https://byline.example/news/feed.atom",
            "https://byline.example/news/feed.rss",
            "https://byline.example/news/feed.json"
        ]
    );
    let opml_links: Vec<&str> = select(&doc, "a")
        .iter()
        .filter_map(|a| a.value().attr("href"))
        .filter(|h| h.ends_with(".opml"))
        .collect();
    assert_eq!(opml_links, ["https://byline.example/news/authors.opml"]);

    for (section, want) in [
        (
            "authors",
            vec![
                ("Jeongmin Kim", 2, "2022-05-21"),
                ("Ifang Bremer", 1, "2022-05-21"),
            ],
        ),
        ("tags", vec![("NK PRO", 2, "2022-05-22")]),
        ("sources", vec![("Text <dump>", 2, "2021-03-02")]),
    ] {
        let rows = select(&doc, &format!("section#{section} tbody tr"));
        let got: Vec<(String, usize, String)> = rows
            .iter()
            .map(|row| {
                let cells = Html::parse_fragment(&format!("<table>{}</table>", row.html()));
                let td: Vec<String> = select(&cells, "td").iter().map(text_of).collect();
                (td[0].clone(), td[1].parse().unwrap(), td[2].clone())
            })
            .collect();
        let want: Vec<(String, usize, String)> = want
            .into_iter()
            .map(|(n, c, d)| (n.to_owned(), c, d.to_owned()))
            .collect();
        assert_eq!(got, want, "{section}");
        for row in rows {
            let links: Vec<&str> = row
                .select(&Selector::parse("a[type]").unwrap())
                .filter_map(|a| a.value().attr("href"))
                .collect();
            assert_eq!(links.len(), 3, "atom, rss and json for each view");
            assert!(
                links
                    .iter()
                    .all(|l| l.starts_with("https://byline.example/news/"))
            );
        }
    }
}

#[test]
fn opml_lists_each_author_feed() {
    let items = items();
    let site = site();
    let views = vec![
        View::select(
            ViewKey::Author("chad-ocarroll".into()),
            "Chad O'Carroll & <co>".into(),
            &items,
            usize::MAX,
        ),
        View::select(
            ViewKey::Author("jeongmin-kim".into()),
            "Jeongmin Kim".into(),
            &items,
            usize::MAX,
        ),
    ];
    let text = opml::render(&views, &site);
    dump("authors.opml", &text);
    let mut reader = quick_xml::Reader::from_str(&text);
    let mut outlines = Vec::new();
    let mut root = None;
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) | Event::Empty(e) => {
                let attrs: Vec<(String, String)> = e
                    .attributes()
                    .map(|a| {
                        let a = a.unwrap();
                        (
                            a.key.as_ref().to_owned(),
                            a.normalized_value(XmlVersion::Implicit1_0)
                                .unwrap()
                                .into_owned(),
                        )
                    })
                    .collect();
                match e.name().as_ref() {
                    "opml" => root = Some(attrs),
                    "outline" => outlines.push(attrs),
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(root, Some(vec![("version".to_owned(), "2.0".to_owned())]));
    let want: Vec<Vec<(String, String)>> = views
        .iter()
        .map(|v| {
            vec![
                ("type".into(), "rss".into()),
                ("text".into(), v.title.clone()),
                ("title".into(), v.title.clone()),
                ("xmlUrl".into(), site.feed_url(&v.key, Format::Atom)),
                ("htmlUrl".into(), site.page_url(&v.key)),
            ]
        })
        .collect();
    assert_eq!(outlines, want);
    assert!(!text.contains("dateCreated"));
}

/// Read all of `xml` with quick-xml, resolving every entity and character
/// reference; panics on the first error.
fn assert_well_formed_xml(xml: &str) {
    let bad: Vec<char> = xml
        .chars()
        .filter(|&c| readable(&c.to_string()).is_empty())
        .collect();
    assert!(bad.is_empty(), "characters XML 1.0 forbids: {bad:?}");
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut depth = 0usize;
    loop {
        match reader.read_event() {
            Ok(Event::Start(_)) => depth += 1,
            Ok(Event::End(_)) => depth -= 1,
            Ok(Event::Text(t)) => {
                t.xml10_content();
            }
            Ok(Event::GeneralRef(r)) => {
                let known = r.resolve_char_ref().unwrap().is_some()
                    || quick_xml::escape::resolve_predefined_entity(&r).is_some();
                assert!(known, "unknown entity {r:?}");
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("not well-formed at {}: {e}\n{xml}", reader.error_position()),
        }
    }
    assert_eq!(depth, 0, "unclosed elements");
}

/// Any text, biased towards what breaks XML: markup characters, CDATA ends,
/// controls, carriage returns, non-characters and white space at the ends.
fn nasty_text() -> impl Strategy<Value = String> {
    let special = prop::sample::select(vec![
        '<', '>', '&', '"', '\'', ']', '\r', '\n', '\t', ' ', '\u{0}', '\u{1}', '\u{b}', '\u{c}',
        '\u{1f}', '\u{7f}', '\u{85}', '\u{a0}', '\u{fffe}', '\u{ffff}', '\u{feff}', 'a', '가',
    ]);
    prop::collection::vec(prop_oneof![any::<char>(), special], 0..32)
        .prop_map(|chars| chars.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn any_text_renders_as_well_formed_feeds(title in nasty_text(), summary in nasty_text()) {
        let site = site();
        let mut item = Item::new("nknews", 0, title.clone(), Some("https://www.nknews.org/x/".into()));
        item.summary = Some(summary.clone());
        item.published = Some(seoul(2022, 5, 20));
        item.authors = vec![Person::new("Jeongmin Kim")];
        let items = vec![item];
        let view = View::select(ViewKey::All, title.clone(), &items, 1);
        let want = readable(&title);

        let atom = atom::render(&view, &site);
        assert_well_formed_xml(&atom);
        let rss = rss::render(&view, &site);
        assert_well_formed_xml(&rss);
        let json = json::render(&view, &site);
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(value["items"][0]["title"].as_str(), Some(want.as_str()));
        let want_summary = readable(&summary);
        prop_assert_eq!(value["items"][0]["summary"].as_str(), Some(want_summary.as_str()));

        for (format, text) in [("atom", &atom), ("rss", &rss), ("json", &json)] {
            let feed = parse(text);
            prop_assert_eq!(&title_of(&feed.entries[0]), want.trim(), "{} entry title", format);
            let feed_title = feed.title.map(|t| t.content).unwrap_or_default();
            prop_assert_eq!(&feed_title, want.trim(), "{} feed title", format);
        }
        let atom_summary = parse(&atom).entries[0].summary.as_ref().map(|s| s.content.clone());
        prop_assert_eq!(atom_summary.unwrap_or_default(), want_summary.trim());

        let page = html::page(&view, &site);
        let doc = Html::parse_document(&page);
        let link = &select(&doc, "article h2 a")[0];
        prop_assert_eq!(text_of(link), want);
        let opml = opml::render(std::slice::from_ref(&view), &site);
        assert_well_formed_xml(&opml);
    }
}

#[test]
fn full_text_is_content_in_every_format() {
    let mut items = items();
    let html =
        "<p>Full <b>text</b> &amp; a <a href=\"https://x.example/l\">link</a> ]]&gt; end</p>";
    items[0].content = Some(html.to_owned());
    let view = all_view(&items);

    let atom_text = atom::render(&view, &site());
    dump("content.atom", &atom_text);
    assert!(atom_text.contains("<content type=\"html\">"), "{atom_text}");
    let rss_text = rss::render(&view, &site());
    dump("content.rss", &rss_text);
    assert!(rss_text.contains("xmlns:content="), "{rss_text}");
    assert!(rss_text.contains("<content:encoded>"), "{rss_text}");
    for text in [&atom_text, &rss_text] {
        let feed = parse(text);
        let body = feed.entries[0]
            .content
            .as_ref()
            .and_then(|c| c.body.clone());
        assert_eq!(body.as_deref(), Some(html), "{text}");
        assert!(feed.entries[1].content.is_none(), "{text}");
    }
    let json_text = json::render(&view, &site());
    let v: serde_json::Value = serde_json::from_str(&json_text).unwrap();
    assert_eq!(v["items"][0]["content_html"].as_str(), Some(html));
    assert!(v["items"][1].get("content_html").is_none());
    assert_eq!(
        parse(&json_text).entries[0]
            .content
            .as_ref()
            .and_then(|c| c.body.as_deref()),
        Some(html)
    );
}

/// A hostile story: a title with a script, an article page whose body holds
/// a script, an `onerror` image, a `javascript:` link and an inline handler.
/// Every feed and the HTML page carry it inert: the title as text, the
/// content as sanitized HTML (what a reader renders has no way to run code).
#[test]
fn hostile_titles_and_article_content_come_out_inert_everywhere() {
    use byline::adapters::article::{ArticleRules, extract};
    let page = r#"<html><body><article><div class="entry-content">
        <p>A long enough first paragraph of the story, with commas, words and more words.</p>
        <p onmouseover="steal()">Click <a href="javascript:alert(1)">here</a> or
           <a href=" JaVaScRiPt:alert(2)">there</a>, for a paragraph that scores too.</p>
        <img src="/x.jpg" onerror="alert(3)"><script>alert(4)</script>
        <svg><script>alert(5)</script></svg><iframe src="javascript:alert(6)"></iframe>
        <a href="data:text/html,<script>alert(7)</script>">data</a>
        </div></article></body></html>"#;
    let url = Url::parse("https://evil.example/story/").unwrap();
    let article = extract(page, &url, &ArticleRules::default(), chrono_tz::UTC).unwrap();
    let mut items = items();
    items[0].title = "<script>alert('t')</script><img src=x onerror=alert(8)>".to_owned();
    items[0].content = article.content_html.clone();
    let view = all_view(&items);
    let content = article.content_html.unwrap();
    let lower = content.to_lowercase();
    for bad in [
        "<script",
        "onerror",
        "onmouseover",
        "javascript:",
        "<iframe",
        "<svg",
        "data:text",
    ] {
        assert!(!lower.contains(bad), "{bad} in {content}");
    }
    assert!(content.contains("https://evil.example/x.jpg"), "{content}");
    // Each feed carries exactly that sanitized HTML, and the title as text.
    for text in [atom::render(&view, &site()), rss::render(&view, &site())] {
        let feed = parse(&text);
        let body = feed.entries[0]
            .content
            .as_ref()
            .and_then(|c| c.body.clone());
        assert_eq!(body.as_deref(), Some(content.as_str()));
        assert_eq!(title_of(&feed.entries[0]), items[0].title);
    }
    let json_text = json::render(&view, &site());
    let v: serde_json::Value = serde_json::from_str(&json_text).unwrap();
    assert_eq!(
        v["items"][0]["content_html"].as_str(),
        Some(content.as_str())
    );
    assert_eq!(
        v["items"][0]["title"].as_str(),
        Some(items[0].title.as_str())
    );
    // The HTML page: no element a browser would run.
    let page = html::page(&view, &site());
    let doc = Html::parse_document(&page);
    for css in [
        "script",
        "iframe",
        "svg",
        "img[onerror]",
        "[onmouseover]",
        "a[href^=javascript]",
    ] {
        assert_eq!(
            doc.select(&Selector::parse(css).unwrap()).count(),
            0,
            "{css} in page"
        );
    }
    assert!(page.contains("&lt;script&gt;"), "title escaped");
}
