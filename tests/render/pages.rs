//! The HTML pages and the OPML list: items with escaped text, the index by
//! kind with counts and subscribe links, each author's feed.

use super::*;

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
