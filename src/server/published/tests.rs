//! The snapshot's views, narrowing, documents and source history.

use super::*;
use crate::model::{Person, Published as Date, Tag};
use crate::refresh::RefreshOutcome;
use crate::server::cache::Entry;
use crate::views::InMemory;

fn edition(config: &Config, items: &[Item]) -> Edition {
    Edition::read(&InMemory(items), config, 1000).unwrap()
}

fn config(extra: &str) -> Config {
    Config::parse(
        &format!(
            "title = \"T\"\nbase_url = \"https://example.org/feeds/\"\n{extra}\n\
             [[source]]\nname = \"one\"\nkind = \"text\"\ninputs = [\"a.txt\"]\n\
             [[source]]\nname = \"two\"\ntitle = \"Second\"\nkind = \"feed\"\ninputs = [\"b.xml\"]\n"
        ),
        "feeds.toml",
        std::path::Path::new("/tmp"),
    )
    .unwrap()
}

fn item(n: u32, source: &str, authors: &[&str], tags: &[&str], day: u32) -> Item {
    let mut i = Item::new(
        source,
        n,
        format!("Story {n}"),
        Some(format!("https://news.example/{n}")),
    );
    i.authors = authors.iter().map(|a| Person::new(a)).collect();
    i.tags = tags.iter().map(|t| Tag::new(t)).collect();
    i.published = Some(Date::DateTime(
        DateTime::parse_from_rfc3339(&format!("2022-05-{day:02}T10:00:00+09:00")).unwrap(),
    ));
    i
}

fn items() -> Vec<Item> {
    vec![
        item(0, "one", &["Colin Zwirko"], &[], 21),
        item(1, "one", &["Nils Weisensee"], &["NK PRO"], 20),
        item(2, "two", &["Ifang Bremer", "Jeongmin Kim"], &[], 20),
        item(3, "one", &["Jeongmin Kim"], &["NK PRO", "Economy"], 19),
        // The same author twice in one byline counts once.
        item(
            4,
            "two",
            &["Jeongmin Kim", "Jeongmin  Kim"],
            &["Economy"],
            18,
        ),
        // Merged from both sources: in both sources' views.
        {
            let mut i = item(5, "two", &["Nils Weisensee"], &[], 17);
            i.also_in = vec!["one".into(), "two".into()];
            i
        },
    ]
}

#[test]
fn views_match_the_edition() {
    let config = config("");
    let items = items();
    let snap = Snapshot::build(
        Arc::new(Settings::new(Arc::new(config.clone()))),
        edition(&config, &items),
        Vec::new(),
    );
    // Computed independently: each view filters the whole list.
    let keys = [
        ViewKey::All,
        ViewKey::Author("colin-zwirko".into()),
        ViewKey::Author("ifang-bremer".into()),
        ViewKey::Author("jeongmin-kim".into()),
        ViewKey::Author("nils-weisensee".into()),
        ViewKey::Tag("economy".into()),
        ViewKey::Tag("nk-pro".into()),
        ViewKey::Source("one".into()),
        ViewKey::Source("two".into()),
    ];
    let expected: Vec<View> = keys
        .into_iter()
        .map(|k| View::select(k, String::new(), &items, usize::MAX))
        .collect();
    assert_eq!(snap.edition.views.len(), expected.len());
    for (got, want) in snap.edition.views.iter().zip(&expected) {
        assert_eq!(got.key, want.key);
        assert_eq!(got.total, want.total);
        let selected = snap.select(got, &Narrowing::default(), usize::MAX).unwrap();
        let decoded = snap.items(&selected);
        let got_ids: Vec<&str> = decoded.iter().map(|i| i.id.as_str()).collect();
        let want_ids: Vec<&str> = want.items.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(got_ids, want_ids, "{:?}", got.key);
    }
}

#[test]
fn narrowing_selects_by_tag_author_and_limit() {
    let config = config("");
    let snap = Snapshot::build(
        Arc::new(Settings::new(Arc::new(config.clone()))),
        edition(&config, &items()),
        Vec::new(),
    );
    let kim = snap
        .view_index(&ViewKey::Author("jeongmin-kim".into()))
        .and_then(|n| snap.edition.views.get(n))
        .unwrap();
    let titles = |n: &Narrowing| -> Vec<String> {
        snap.items(&snap.select(kim, n, 1000).unwrap())
            .iter()
            .map(|i| i.title.clone())
            .collect()
    };
    assert_eq!(
        titles(&Narrowing::default()),
        ["Story 2", "Story 3", "Story 4"]
    );
    let pro = Narrowing::parse(Some("tag=NK%20PRO"), 1000).unwrap();
    assert_eq!(pro.tag.as_deref(), Some("nk-pro"));
    assert_eq!(titles(&pro), ["Story 3"]);
    let two = Narrowing::parse(Some("limit=2&utm_source=x"), 1000).unwrap();
    assert_eq!(titles(&two), ["Story 2", "Story 3"]);
    let all = snap.edition.views.first().unwrap();
    let by = Narrowing::parse(Some("author=ifang-bremer"), 1000).unwrap();
    assert_eq!(snap.select(all, &by, 1000).unwrap().len(), 1);
    // max_items caps every view, with or without a limit.
    assert_eq!(snap.select(all, &Narrowing::default(), 2).unwrap().len(), 2);
    assert!(Narrowing::parse(Some("limit=0"), 1000).is_err());
    assert!(Narrowing::parse(Some("limit=1001"), 1000).is_err());
    assert!(Narrowing::parse(Some("limit=ten"), 1000).is_err());
    assert!(Narrowing::parse(Some("tag="), 1000).unwrap().is_none());
}

#[test]
fn serves_what_build_writes() {
    let config = config("");
    let items = items();
    let published = Published::new(config.clone());
    published.publish(edition(&config, &items), Vec::new());
    let snap = published.snapshot();
    for doc in site::documents(&edition(&config, &items), &config) {
        let request_path = format!("/{}", doc.path);
        let route = super::super::routes::route(&request_path, "/feeds/");
        let super::super::routes::Route::Doc { path, doc: docref } = route else {
            panic!("{} does not route", doc.path);
        };
        assert_eq!(path, doc.path);
        let entry = snap
            .document(&path, docref, &Narrowing::default(), None)
            .unwrap();
        assert_eq!(entry.identity, doc.body.as_bytes(), "{}", doc.path);
        assert_eq!(entry.content_type, doc.content_type, "{}", doc.path);
        assert_eq!(entry.last_modified, doc.last_modified, "{}", doc.path);
    }
    let kim = site::documents(&edition(&config, &items), &config)
        .into_iter()
        .find(|d| d.path == "authors/jeongmin-kim.atom")
        .unwrap();
    assert_eq!(
        kim.last_modified.map(|t| t.to_rfc3339()).as_deref(),
        Some("2022-05-20T01:00:00+00:00")
    );
}

#[test]
fn unknown_views_and_narrowings_are_missing() {
    let published = Published::new(config(""));
    published.publish(edition(&config(""), &items()), Vec::new());
    let snap = published.snapshot();
    let none = Narrowing::default();
    let get = |path: &str, doc, n: &Narrowing| snap.document(path, doc, n, None);
    assert_eq!(
        get(
            "authors/nobody.atom",
            DocRef::Feed(ViewRef::Author("nobody"), Format::Atom),
            &none
        )
        .unwrap_err(),
        Missing::View(ViewKey::Author("nobody".into()))
    );
    let bad_tag = Narrowing::parse(Some("tag=sports"), 1000).unwrap();
    assert_eq!(
        get(
            "feed.atom",
            DocRef::Feed(ViewRef::All, Format::Atom),
            &bad_tag
        )
        .unwrap_err(),
        Missing::Narrowing(ViewKey::Tag("sports".into()))
    );
    assert!(
        get(
            "sources/two.html",
            DocRef::Page(ViewRef::Source("two")),
            &none
        )
        .is_ok()
    );
}

#[test]
fn another_origin_gets_its_own_pages_and_the_same_feeds() {
    let published = Published::new(config("[server]\ntrusted_proxies = [\"127.0.0.1\"]"));
    published.publish(edition(&published.config(), &items()), Vec::new());
    let snap = published.snapshot();
    let none = Narrowing::default();
    let other = Site {
        base_url: url::Url::parse("https://mirror.example/news/").unwrap(),
        title: "T".into(),
    };
    let plain = snap
        .document("index.html", DocRef::Index, &none, None)
        .unwrap();
    let mirrored = snap
        .document("index.html", DocRef::Index, &none, Some(&other))
        .unwrap();
    let text = |e: &Entry| String::from_utf8(e.identity.to_vec()).unwrap();
    assert!(text(&plain).contains("https://example.org/feeds/authors/jeongmin-kim"));
    assert!(text(&mirrored).contains("https://mirror.example/news/authors/jeongmin-kim"));
    assert!(!text(&mirrored).contains("https://example.org/feeds/"));
    // Pages follow the origin; their item lists are the same.
    let page = DocRef::Page(ViewRef::Author("jeongmin-kim"));
    let mirrored = snap
        .document("authors/jeongmin-kim.html", page, &none, Some(&other))
        .unwrap();
    assert!(text(&mirrored).contains("https://mirror.example/news/"));
    assert!(text(&mirrored).contains("Story 3"));
}

#[test]
fn cache_keeps_to_its_budget() {
    let doc = |n: usize| {
        Arc::new(Entry::new(Document {
            path: format!("d{n}"),
            content_type: site::HTML,
            body: "x".repeat(1000),
            last_modified: None,
        }))
    };
    let size = doc(0).size;
    let mut cache = DocCache::new(size * 3, usize::MAX);
    for n in 0..3 {
        cache.insert(format!("d{n}"), doc(n));
    }
    assert!(cache.get("d0").is_some()); // d1 is now the least recently used
    cache.insert("d3".into(), doc(3));
    assert!(cache.bytes <= cache.budget);
    assert!(cache.get("d1").is_none());
    assert!(cache.get("d0").is_some() && cache.get("d3").is_some());
    let mut small = DocCache::new(usize::MAX, 2);
    for n in 0..5 {
        small.insert(format!("d{n}"), doc(n));
    }
    assert_eq!(small.map.len(), 2);
}

#[test]
fn source_history_survives_a_publish() {
    let published = Published::new(config(""));
    let t0 = Utc::now();
    let failed = RefreshOutcome {
        source: "one".into(),
        errors: vec![crate::read::ReadError {
            source_name: "one".into(),
            stage: crate::read::Stage::Fetch,
            message: "a.txt: cannot read".into(),
            retry_after: None,
        }],
        ..RefreshOutcome::default()
    };
    published.publish(Edition::default(), vec![SourceStatus::of(&failed, t0)]);
    let ok = RefreshOutcome {
        source: "one".into(),
        items_read: items().len(),
        pages: 1,
        ..RefreshOutcome::default()
    };
    let config = config("");
    published.publish(edition(&config, &items()), vec![SourceStatus::of(&ok, t0)]);
    let snap = published.snapshot();
    let one = snap.sources.first().unwrap();
    assert!(one.healthy());
    assert_eq!(
        one.last_error.as_deref(),
        Some("source \"one\": a.txt: cannot read")
    );
    assert_eq!(one.items_read, items().len());
    // Its own three stories and the merged one it also carried.
    assert_eq!(one.items_published, 4);
}
