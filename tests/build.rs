//! End to end over the bundled `feeds.toml`: refresh into a store, build from
//! it, and parse every written feed back with an independent parser (feed-rs).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use byline::config::Config;
use byline::render::{Format, Site};
use byline::site;
use byline::views::{Edition, ViewKey};

fn bundled() -> Config {
    Config::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("feeds.toml"))
        .expect("bundled config loads")
}

/// What `build` and `serve` publish for `config`, from a new store.
fn published(config: &Config) -> (tempfile::TempDir, Edition) {
    for r in common::reads(config) {
        assert!(!r.failed(), "source {} failed: {:?}", r.source, r.pages);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, edition) = common::edition(config, dir.path());
    (dir, edition)
}

#[test]
fn author_feed_spans_both_dumps_newest_first() {
    let config = bundled();
    let (_dir, edition) = published(&config);
    let items = common::stream(&edition);
    let views = common::views(&edition);
    let kim = views
        .iter()
        .find(|v| v.key == ViewKey::Author("jeongmin-kim".into()))
        .expect("Jeongmin Kim has a feed");
    let days: Vec<String> = kim
        .items
        .iter()
        .map(|i| i.day().expect("dated").to_string())
        .collect();
    assert!(days.iter().any(|d| d.starts_with("2021")), "{days:?}");
    assert!(days.iter().any(|d| d.starts_with("2022")), "{days:?}");
    let mut sorted = days.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(days, sorted, "newest first");
    assert!(
        kim.items
            .iter()
            .all(|i| i.authors.iter().any(|a| a.name == "Jeongmin Kim"))
    );
    // Every item she is credited with is in her feed.
    let credited = items
        .iter()
        .filter(|i| i.authors.iter().any(|a| a.slug == "jeongmin-kim"))
        .count();
    assert_eq!(kim.items.len(), credited);
    // Listing order is kept among same-day items: her three 2021-03-02 items
    // appear in the order of the dump.
    let same_day: Vec<&str> = kim
        .items
        .iter()
        .filter(|i| i.day().map(|d| d.to_string()).as_deref() == Some("2021-03-02"))
        .map(|i| i.title.as_str())
        .collect();
    assert_eq!(
        same_day,
        [
            "Seoul to spend $8 million on high-tech system that analyzes North Korea data",
            "US and South Korea vow to maintain stability ahead of contentious military drill",
            "North Korea is a ‘serious threat’ to peace and security: US Ambassador to the UN",
        ]
    );
}

#[test]
fn nk_pro_tag_feed_holds_exactly_the_labelled_items() {
    let config = bundled();
    let (_dir, edition) = published(&config);
    let items = common::stream(&edition);
    let views = common::views(&edition);
    let pro = views
        .iter()
        .find(|v| v.key == ViewKey::Tag("nk-pro".into()))
        .expect("an nk-pro feed");
    let labelled: Vec<&str> = items
        .iter()
        .filter(|i| i.tags.iter().any(|t| t.name == "NK PRO"))
        .map(|i| i.title.as_str())
        .collect();
    let in_feed: Vec<&str> = pro.items.iter().map(|i| i.title.as_str()).collect();
    assert_eq!(in_feed, labelled);
    assert!(in_feed.contains(&"Major outage disrupts North Korean websites and email delivery"));
    assert!(in_feed.contains(
        &"North Korea’s fertilizer imports remain unusually low ahead of planting seasons"
    ));
}

/// Build with the real binary, then parse every feed with feed-rs and compare
/// with the view it came from: titles, links, ids, authors, dates, tags.
#[test]
fn every_written_feed_round_trips_through_feed_rs() {
    let config = bundled();
    let (dir, edition) = published(&config);
    let items = common::stream(&edition);
    let out = tempfile::tempdir().expect("tempdir");
    let status = Command::new(env!("CARGO_BIN_EXE_byline"))
        .arg("--store")
        .arg(dir.path().join("build.db"))
        .args(["build", "--config"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("feeds.toml"))
        .arg("--out")
        .arg(out.path())
        .status()
        .expect("byline runs");
    assert!(status.success());

    let site = Site {
        base_url: config.base_url.clone(),
        title: config.title.clone(),
    };
    let views = common::views(&edition);
    let mut checked = 0;
    for view in &views {
        for format in Format::ALL {
            let path: PathBuf =
                out.path()
                    .join(format!("{}.{}", view.key.path(), format.extension()));
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let feed = feed_rs::parser::parse(&bytes[..])
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(feed.entries.len(), view.items.len(), "{}", path.display());
            for (entry, item) in feed.entries.iter().zip(&view.items) {
                let place = format!("{} / {}", path.display(), item.title);
                assert_eq!(
                    entry.title.as_ref().map(|t| t.content.as_str()),
                    Some(item.title.as_str()),
                    "{place}"
                );
                let link = site.item_link(item);
                assert!(
                    entry.links.iter().any(|l| l.href == link),
                    "{place}: link {link} in {:?}",
                    entry.links
                );
                if format != Format::Rss || item.url.is_some() {
                    assert_eq!(entry.id, item.id, "{place}");
                }
                let names: Vec<&str> = entry
                    .authors
                    .iter()
                    .map(|p| p.name.as_deref().unwrap_or_default())
                    .collect();
                let want: Vec<&str> = item.authors.iter().map(|a| a.name.as_str()).collect();
                assert_eq!(names, want, "{place}");
                let published = item.published.expect("dated").instant();
                assert_eq!(
                    entry.published.map(|d| d.timestamp()),
                    Some(published.timestamp()),
                    "{place}"
                );
                let mut tags: Vec<String> = entry
                    .categories
                    .iter()
                    .map(|c| c.label.clone().unwrap_or_else(|| c.term.clone()))
                    .collect();
                tags.sort();
                let mut want_tags: Vec<String> = item.tags.iter().map(|t| t.name.clone()).collect();
                want_tags.sort();
                assert_eq!(tags, want_tags, "{place}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 3 * 10, "checked {checked} feeds");

    // The index links every feed with autodiscovery, and the OPML lists every author.
    let index = std::fs::read_to_string(out.path().join("index.html")).expect("index.html");
    assert!(index.contains(r#"rel="alternate""#));
    let opml = std::fs::read_to_string(out.path().join("authors.opml")).expect("authors.opml");
    let authors: BTreeMap<_, _> = items
        .iter()
        .flat_map(|i| i.authors.iter().map(|a| (a.slug.clone(), a.name.clone())))
        .collect();
    for slug in authors.keys() {
        assert!(
            opml.contains(&site.feed_url(&ViewKey::Author(slug.clone()), Format::Atom)),
            "{slug}"
        );
    }
    // The binary's build wrote exactly the documents of the edition, and a
    // second store built the same way gives byte-identical documents.
    let docs = site::documents(&edition, &config);
    for doc in &docs {
        let written = std::fs::read(out.path().join(&doc.path)).expect("written");
        assert_eq!(written, doc.body.as_bytes(), "{}", doc.path);
    }
    let again = site::documents(&published(&config).1, &config);
    assert_eq!(docs, again);
}

/// No two entries of a feed share a time where the listing tells them apart,
/// and a reader sorting by time keeps feed order within a day (the W3C
/// validator warns "Two entries with the same value for atom:updated").
#[test]
fn no_two_entries_of_a_feed_share_a_time_and_time_keeps_listing_order() {
    let config = bundled();
    let (_dir, edition) = published(&config);
    let mut feeds = 0;
    for view in common::views(&edition) {
        let mut seen = std::collections::HashSet::new();
        for item in &view.items {
            // Atom's `updated`: the later of the publication and edit times.
            let updated = item.published.map(|p| p.instant()).max(item.updated);
            assert!(
                seen.insert(updated),
                "{}: {} shares updated {updated:?}",
                view.key.path(),
                item.title
            );
        }
        feeds += 1;
    }
    assert!(feeds > 10, "{feeds} feeds");
    // Date-only stories of one day: the listing's order is the order by time.
    let kim = common::views(&edition)
        .into_iter()
        .find(|v| v.key == ViewKey::Author("jeongmin-kim".into()))
        .expect("Jeongmin Kim has a feed");
    let times: Vec<_> = kim
        .items
        .iter()
        .filter(|i| i.day().map(|d| d.to_string()).as_deref() == Some("2021-03-02"))
        .map(|i| i.published.map(|p| p.instant()))
        .collect();
    assert_eq!(times.len(), 3);
    assert!(times.windows(2).all(|w| w[0] > w[1]), "{times:?}");
}
