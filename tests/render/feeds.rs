//! Atom, RSS and JSON Feed read back with an independent parser (feed-rs):
//! every item, its authors, dates and tags, and a view's own subject.

use super::*;

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
