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

fn select<'a>(doc: &'a Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    let selector = Selector::parse(css).unwrap();
    doc.select(&selector).collect()
}

fn text_of(el: &scraper::ElementRef) -> String {
    el.text().collect()
}

#[path = "render/feeds.rs"]
mod feeds;
#[path = "render/pages.rs"]
mod pages;
#[path = "render/text.rs"]
mod text;
#[path = "support/tools.rs"]
mod tools;
#[path = "render/validity.rs"]
mod validity;
