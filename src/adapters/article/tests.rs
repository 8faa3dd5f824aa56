use super::*;

fn url() -> Url {
    Url::parse("https://news.example/2024/05/story/").unwrap()
}

fn page(body: &str) -> String {
    format!(
        "<!DOCTYPE html><html><head><title>T</title></head><body><main>{body}</main></body></html>"
    )
}

const PARA: &str = "A paragraph long enough to count as story text, with a comma or two, and more.";

#[test]
fn content_is_inert_and_absolute() {
    let html = page(&format!(
        r#"<div class="entry-content"><p>{PARA}</p>
        <p onclick="steal()">Second: <a href="javascript:alert(1)">bad link</a> and <a href="/rel">relative</a>, {PARA}</p>
        <script>alert(2)</script><style>p{{color:red}}</style>
        <img src="data:image/gif;base64,R0lGOD" data-src="/img/a.jpg" onerror="alert(3)">
        <iframe src="https://evil.example/"></iframe></div>"#
    ));
    let a = extract(&html, &url(), &ArticleRules::default(), chrono_tz::UTC).unwrap();
    let out = a.content_html.unwrap();
    for bad in [
        "<script",
        "alert",
        "onclick",
        "onerror",
        "javascript:",
        "<style",
        "<iframe",
    ] {
        assert!(!out.contains(bad), "{bad} in {out}");
    }
    assert!(out.contains(r#"href="https://news.example/rel""#), "{out}");
    assert!(
        out.contains(r#"src="https://news.example/img/a.jpg""#),
        "{out}"
    );
    assert!(!out.contains("data:image"), "{out}");
    let text = a.content_text.unwrap();
    assert!(text.starts_with("A paragraph long enough"), "{text}");
    assert!(text.contains("bad link and relative"), "{text}");
}

#[test]
fn configured_selector_and_removals() {
    let html = page(&format!(
        r#"<div class="x"><p>{PARA}</p><div class="promo">Buy now</div><p>Second.</p></div>
        <div class="comments"><p>{PARA} {PARA} {PARA}</p></div>"#
    ));
    let rules = ArticleRules {
        content: Some("div.x".into()),
        remove: vec![".promo".into()],
    };
    let a = extract(&html, &url(), &rules, chrono_tz::UTC).unwrap();
    assert_eq!(a.content_text.unwrap(), format!("{PARA}\n\nSecond."));
    let none = ArticleRules {
        content: Some("div.missing".into()),
        remove: Vec::new(),
    };
    let a = extract(&html, &url(), &none, chrono_tz::UTC).unwrap();
    assert_eq!(a.content_text, None);
}

#[test]
fn bad_selectors_and_hostile_pages_are_errors_not_panics() {
    let rules = ArticleRules {
        content: Some("div[".into()),
        remove: Vec::new(),
    };
    assert!(matches!(
        extract("<p>x</p>", &url(), &rules, chrono_tz::UTC),
        Err(ArticleError::Selector { key: "content", .. })
    ));
    let deep = "<div>".repeat(5_000);
    assert!(matches!(
        extract(&deep, &url(), &ArticleRules::default(), chrono_tz::UTC),
        Err(ArticleError::TooDeep(_))
    ));
    let empty = extract("", &url(), &ArticleRules::default(), chrono_tz::UTC).unwrap();
    assert_eq!(empty, Article::default());
}

#[test]
fn dates_in_order_of_trust_with_their_origin() {
    let html = format!(
        r#"<html><head><meta property="article:published_time" content="2024-05-02T10:00:00+02:00">
        <script type="application/ld+json">{{"@type":"NewsArticle","headline":"H",
          "datePublished":"2024-05-02T08:00:00Z","author":[{{"@type":"Person","name":"A B"}}]}}</script>
        </head><body><article><time datetime="2024-05-01">1 May</time>
        <time class="updated" datetime="2024-05-03T09:00:00Z">3 May</time><p>{PARA}</p></article></body></html>"#
    );
    let a = extract(&html, &url(), &ArticleRules::default(), chrono_tz::UTC).unwrap();
    let p = a.published.unwrap();
    assert_eq!(p.origin, DateOrigin::JsonLd);
    assert_eq!(p.value.instant().to_rfc3339(), "2024-05-02T08:00:00+00:00");
    let u = a.updated.unwrap();
    assert_eq!(u.origin, DateOrigin::Time);
    assert_eq!(a.authors, ["A B"]);
    for o in [
        DateOrigin::JsonLd,
        DateOrigin::Meta,
        DateOrigin::Time,
        DateOrigin::Text,
    ] {
        assert_eq!(DateOrigin::from_name(o.as_str()), Some(o));
    }
}

#[test]
fn a_page_whose_every_wrapper_looks_like_boilerplate_still_gives_its_text() {
    let html = format!(
        r#"<html><body><div class="newsletter-issue"><div class="share-wrap">
        <p>{PARA}</p><p>{PARA} Again.</p></div></div></body></html>"#
    );
    let a = extract(&html, &url(), &ArticleRules::default(), chrono_tz::UTC).unwrap();
    let text = a.content_text.unwrap();
    assert!(text.starts_with("A paragraph long enough"), "{text}");
    assert!(text.ends_with("Again."), "{text}");
}
