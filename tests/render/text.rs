//! Arbitrary and hostile text: well-formed XML that reads back as the same
//! text, full text as content, and scripts that come out inert.

use super::*;

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
