//! What the paths ask for: errors that explain themselves, narrowing a view
//! by tag and author, and absolute links under a sub-path.

use super::*;

#[tokio::test]
async fn errors_explain_themselves() {
    let s = Server::start("http://127.0.0.1:8080/", "");
    let (_, author) = tagged_author();
    let c = client();

    let r = get(&s.url("/authors/no-such-person.atom")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(header(&r, "content-type"), "text/plain; charset=utf-8");
    let body = r.text().await.unwrap();
    assert!(body.contains("no-such-person"), "{body}");
    assert!(body.contains(&slug(&author)), "lists the authors: {body}");
    assert!(
        body.contains("http://127.0.0.1:8080/"),
        "links the index: {body}"
    );

    let r = get(&s.url("/tags/no-such-tag")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("no-such-tag") && body.contains("tags here"),
        "{body}"
    );

    let r = get(&s.url("/sources/nope.rss")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.text().await.unwrap().contains("nknews"));

    for path in ["/nothing", "/authors/UPPER.atom", "/feed.xml", "/feed"] {
        let r = get(&s.url(path)).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(r.text().await.unwrap().contains("index"), "{path}");
    }

    for method in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"] {
        let r = c
            .request(method.parse().unwrap(), s.url("/feed.atom"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(header(&r, "allow"), "GET, HEAD", "{method}");
    }

    let r = c
        .get(s.url("/feed.atom"))
        .body("a body on a GET")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);

    let long = format!("/feed.atom?x={}", "a".repeat(5000));
    let r = get(&s.url(&long)).await;
    assert_eq!(r.status(), StatusCode::URI_TOO_LONG);

    // A head larger than the limit is refused, not buffered.
    let huge = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Filler: {}\r\n\r\n",
        "a".repeat(64 * 1024)
    );
    let answer = raw(&s.addr, huge.as_bytes());
    let text = String::from_utf8_lossy(&answer);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 431"),
        "expected 431 or a closed connection, got {text:?}"
    );
    // So is one with more headers than hyper's limit of 100.
    let many: String = (0..150).map(|n| format!("X-H{n}: v\r\n")).collect();
    let answer = raw(
        &s.addr,
        format!("GET / HTTP/1.1\r\nHost: x\r\n{many}\r\n").as_bytes(),
    );
    let text = String::from_utf8_lossy(&answer);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 431"),
        "expected 431 or a closed connection, got {text:?}"
    );

    for bad in ["limit=0", "limit=100000", "limit=ten"] {
        let r = get(&s.url(&format!("/feed.json?{bad}"))).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert!(r.text().await.unwrap().contains("limit"), "{bad}");
    }
}

#[tokio::test]
async fn limit_tag_and_author_narrow_a_view() {
    let s = Server::start("http://127.0.0.1:8080/", "");
    let (tag, author) = tagged_author();
    let (tag_slug, author_slug) = (slug(&tag), slug(&author));

    let all = json(&s.url("/feed.json")).await;
    let titles = item_titles(&all);
    assert!(titles.len() > 3);

    let three = json(&s.url("/feed.json?limit=3")).await;
    assert_eq!(item_titles(&three), titles[..3]);

    // By tag, given as a slug or as the name: the tagged items of the whole
    // stream, in the same order.
    let tagged: Vec<String> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| has(&i["tags"], None, &tag))
        .map(|i| i["title"].as_str().unwrap().to_owned())
        .collect();
    assert!(!tagged.is_empty());
    let by_slug = json(&s.url(&format!("/feed.json?tag={tag_slug}"))).await;
    assert_eq!(item_titles(&by_slug), tagged);
    let by_name = json(&s.url(&format!("/feed.json?tag={}", tag.replace(' ', "%20")))).await;
    assert_eq!(item_titles(&by_name), tagged);

    // One author's items with the tag (e.g. one author's NK PRO stories).
    let authors_page = json(&s.url(&format!("/authors/{author_slug}.json"))).await;
    let theirs: Vec<String> = authors_page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| has(&i["tags"], None, &tag))
        .map(|i| i["title"].as_str().unwrap().to_owned())
        .collect();
    assert!(!theirs.is_empty());
    let narrowed = json(&s.url(&format!("/authors/{author_slug}.json?tag={tag_slug}"))).await;
    assert_eq!(item_titles(&narrowed), theirs);
    let narrowed = json(&s.url(&format!("/tags/{tag_slug}.json?author={author_slug}"))).await;
    assert_eq!(item_titles(&narrowed), theirs);
    for item in narrowed["items"].as_array().unwrap() {
        assert!(has(&item["authors"], Some("name"), &author));
    }
    // Atom and the HTML page narrow the same way.
    let atom = get(&s.url(&format!(
        "/authors/{author_slug}.atom?tag={tag_slug}&limit=1"
    )))
    .await
    .bytes()
    .await
    .unwrap();
    let atom = feed_rs::parser::parse(&atom[..]).unwrap();
    assert_eq!(atom.entries.len(), 1);
    let page = get(&s.url(&format!("/authors/{author_slug}?tag={tag_slug}")))
        .await
        .text()
        .await
        .unwrap();
    for t in &theirs {
        let escaped = t.replace('&', "&amp;").replace('\'', "&#39;");
        assert!(
            page.contains(t) || page.contains(&escaped),
            "page lacks {t}"
        );
    }

    // A narrowed view is cached like any document.
    let url = s.url(&format!("/feed.json?tag={tag_slug}&limit=2"));
    let first = get(&url).await;
    let tag1 = header(&first, "etag");
    let second = client()
        .get(&url)
        .header("If-None-Match", &tag1)
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), StatusCode::NOT_MODIFIED);

    // The config's custom feed of that tag holds the same stories.
    let custom = json(&s.url("/feeds/tagged.json")).await;
    assert_eq!(item_titles(&custom), tagged);
    let custom = json(&s.url(&format!("/feeds/tagged.json?author={author_slug}"))).await;
    assert_eq!(item_titles(&custom), theirs);

    // An unknown tag is a 404 that lists the known ones.
    let r = get(&s.url("/feed.json?tag=no-such-tag")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.text().await.unwrap().contains(&tag_slug));
}

/// Every link byline emits, from hrefs, srcs and JSON url fields.
fn links(body: &str) -> Vec<String> {
    let re = regex::Regex::new(
        r#"(?:href|src|xmlUrl|htmlUrl|url)\s*=\s*"([^"]+)"|"(?:url|feed_url|home_page_url|external_url)"\s*:\s*"([^"]+)""#,
    )
    .unwrap();
    re.captures_iter(body)
        .filter_map(|c| c.get(1).or_else(|| c.get(2)))
        .map(|m| m.as_str().replace("&amp;", "&"))
        .collect()
}

#[tokio::test]
async fn links_are_absolute_under_a_sub_path_base_url() {
    let base = "https://example.org/feeds/";
    let s = Server::start(base, "");
    let (_, author) = tagged_author();
    let a = slug(&author);
    let c = client();

    // With and without the prefix (nginx may strip it or not): the same bytes.
    let stripped = get(&s.url(&format!("/authors/{a}.atom"))).await;
    let prefixed = get(&s.url(&format!("/feeds/authors/{a}.atom"))).await;
    assert_eq!(stripped.status(), StatusCode::OK);
    assert_eq!(prefixed.status(), StatusCode::OK);
    assert_eq!(
        stripped.bytes().await.unwrap(),
        prefixed.bytes().await.unwrap()
    );
    // The prefix without its slash redirects to the public index.
    let redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(s.url("/feeds"))
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(header(&redirect, "location"), base);

    // The self link comes from base_url, whatever Host the request names.
    let atom = c
        .get(s.url(&format!("/authors/{a}.atom")))
        .header("Host", "evil.example")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let feed = feed_rs::parser::parse(atom.as_bytes()).unwrap();
    let self_link = feed
        .links
        .iter()
        .find(|l| l.rel.as_deref() == Some("self"))
        .expect("a self link");
    assert_eq!(self_link.href, format!("{base}authors/{a}.atom"));
    assert!(!atom.contains("evil.example"));

    // Every link in every kind of document is absolute; ours stay under the
    // prefix and resolve on the server.
    let mut checked = 0;
    for path in [
        "/".to_owned(),
        "/opml".to_owned(),
        "/feed.atom".to_owned(),
        "/feed.rss".to_owned(),
        "/feed.json".to_owned(),
        format!("/authors/{a}"),
        "/sources/nknews".to_owned(),
        "/feeds/tagged.atom".to_owned(),
        "/feeds/feeds/tagged".to_owned(),
    ] {
        let body = get(&s.url(&path)).await.text().await.unwrap();
        let found = links(&body);
        assert!(!found.is_empty(), "{path}: no links");
        for link in found {
            assert!(
                link.starts_with("http://") || link.starts_with("https://"),
                "{path}: relative link {link}"
            );
            if link.starts_with("https://example.org/") {
                assert!(link.starts_with(base), "{path}: {link} bypasses the prefix");
                let local = link[base.len()..].split('#').next().unwrap().to_owned();
                let r = get(&s.url(&format!("/feeds/{local}"))).await;
                assert_eq!(r.status(), StatusCode::OK, "{path} links {link}");
                checked += 1;
            }
        }
    }
    assert!(checked > 10, "only {checked} own links checked");
}
