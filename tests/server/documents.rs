//! What a feed request gets: content types, conditional GET, HEAD and the
//! compressed codings.

use super::*;

#[tokio::test]
async fn content_types_of_every_format() {
    let s = Server::start("http://127.0.0.1:8080/", "");
    let (_, author) = tagged_author();
    let a = slug(&author);
    for (path, want) in [
        ("/feed.atom", "application/atom+xml; charset=utf-8"),
        ("/feed.rss", "application/rss+xml; charset=utf-8"),
        ("/feed.json", "application/feed+json; charset=utf-8"),
        (
            &format!("/authors/{a}.atom"),
            "application/atom+xml; charset=utf-8",
        ),
        (
            &format!("/authors/{a}.rss"),
            "application/rss+xml; charset=utf-8",
        ),
        (
            &format!("/authors/{a}.json"),
            "application/feed+json; charset=utf-8",
        ),
        (&format!("/authors/{a}"), "text/html; charset=utf-8"),
        (&format!("/authors/{a}.html"), "text/html; charset=utf-8"),
        (
            "/sources/nknews.atom",
            "application/atom+xml; charset=utf-8",
        ),
        ("/sources/monitor", "text/html; charset=utf-8"),
        ("/feeds/tagged.rss", "application/rss+xml; charset=utf-8"),
        ("/feeds/tagged", "text/html; charset=utf-8"),
        ("/authors.opml", "text/x-opml; charset=utf-8"),
        ("/", "text/html; charset=utf-8"),
        ("/index.html", "text/html; charset=utf-8"),
        ("/opml", "text/x-opml; charset=utf-8"),
        ("/opml.xml", "text/x-opml; charset=utf-8"),
        ("/healthz", "application/json; charset=utf-8"),
        ("/metrics", "text/plain; version=0.0.4; charset=utf-8"),
    ] {
        let r = get(&s.url(path)).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&r, "content-type"), want, "{path}");
        let body = r.bytes().await.unwrap();
        assert!(!body.is_empty(), "{path}: empty body");
    }
    // The extension-less page and the .html file are one document.
    let page = get(&s.url(&format!("/authors/{a}"))).await;
    let html = get(&s.url(&format!("/authors/{a}.html"))).await;
    assert_eq!(header(&page, "etag"), header(&html, "etag"));
    // Each feed parses as what its type says.
    for ext in ["atom", "rss", "json"] {
        let body = get(&s.url(&format!("/authors/{a}.{ext}")))
            .await
            .bytes()
            .await
            .unwrap();
        let feed = feed_rs::parser::parse(&body[..]).unwrap_or_else(|e| panic!("{ext}: {e}"));
        assert!(!feed.entries.is_empty(), "{ext}: no entries");
        assert!(
            feed.entries.iter().all(|e| e
                .authors
                .iter()
                .any(|p| p.name.as_deref() == Some(author.as_str()))),
            "{ext}: an entry not by {author}"
        );
    }
}

#[tokio::test]
async fn conditional_get_by_etag_and_date() {
    let s = Server::start("http://127.0.0.1:8080/", "");
    let c = client();
    let url = s.url("/feed.atom");
    let first = c.get(&url).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let etag = header(&first, "etag");
    let modified = header(&first, "last-modified");
    assert!(
        etag.starts_with('"') && etag.ends_with('"') && etag.len() > 10,
        "strong ETag: {etag}"
    );
    assert!(modified.ends_with(" GMT"), "Last-Modified: {modified}");
    assert_eq!(header(&first, "cache-control"), "public, max-age=120");
    assert!(header(&first, "vary").contains("Accept-Encoding"));

    let by_tag = c
        .get(&url)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(by_tag.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&by_tag, "etag"), etag);
    assert_eq!(header(&by_tag, "cache-control"), "public, max-age=120");
    assert!(by_tag.bytes().await.unwrap().is_empty());

    let by_date = c
        .get(&url)
        .header("If-Modified-Since", &modified)
        .send()
        .await
        .unwrap();
    assert_eq!(by_date.status(), StatusCode::NOT_MODIFIED);

    // Older copy, other tag: the full document again.
    let stale = c
        .get(&url)
        .header("If-Modified-Since", "Thu, 01 Jan 2015 00:00:00 GMT")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::OK);
    let other = c
        .get(&url)
        .header("If-None-Match", "\"not-this-one\"")
        .header("If-Modified-Since", &modified)
        .send()
        .await
        .unwrap();
    assert_eq!(
        other.status(),
        StatusCode::OK,
        "If-None-Match decides over If-Modified-Since"
    );

    // The tag is a digest of the content: a restarted server gives the same one.
    drop(s);
    let again = Server::start("http://127.0.0.1:8080/", "");
    let r = get(&again.url("/feed.atom")).await;
    assert_eq!(header(&r, "etag"), etag);
    assert_eq!(header(&r, "last-modified"), modified);
}

#[tokio::test]
async fn head_sends_the_headers_of_get_without_a_body() {
    let s = Server::start("http://127.0.0.1:8080/", "");
    for path in [
        "/feed.rss",
        "/",
        "/opml",
        "/authors/nobody.atom",
        "/healthz",
    ] {
        let get = raw(
            &s.addr,
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        );
        let head = raw(
            &s.addr,
            format!("HEAD {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        );
        let (get_head, get_body) = split_response(&get);
        let (head_head, head_body) = split_response(&head);
        assert!(head_body.is_empty(), "{path}: HEAD sent a body");
        let status = |h: &str| h.lines().next().unwrap().to_owned();
        assert_eq!(status(&head_head), status(&get_head), "{path}");
        let fields = |h: &str| -> Vec<String> {
            h.lines()
                .skip(1)
                .filter(|l| !l.to_ascii_lowercase().starts_with("date:"))
                .map(str::to_ascii_lowercase)
                .collect()
        };
        assert_eq!(fields(&head_head), fields(&get_head), "{path}");
        let length = format!("content-length: {}", get_body.len());
        assert!(
            fields(&head_head).contains(&length),
            "{path}: HEAD should say {length}"
        );
    }
}

#[tokio::test]
async fn gzip_and_brotli_decode_to_the_same_bytes() {
    let s = Server::start("http://127.0.0.1:8080/", "");
    let c = client();
    for path in ["/feed.atom", "/feed.json", "/", "/opml"] {
        let url = s.url(path);
        let plain = c.get(&url).send().await.unwrap();
        assert_eq!(header(&plain, "content-encoding"), "", "{path}");
        let plain_tag = header(&plain, "etag");
        let plain = plain.bytes().await.unwrap();

        let gz = c
            .get(&url)
            .header("Accept-Encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(header(&gz, "content-encoding"), "gzip", "{path}");
        assert_eq!(header(&gz, "vary"), "Accept-Encoding", "{path}");
        let gz_tag = header(&gz, "etag");
        let gz = gz.bytes().await.unwrap();
        assert!(gz.len() < plain.len(), "{path}: gzip is not smaller");
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut decoded)
            .unwrap();
        assert_eq!(decoded, plain, "{path}: gzip");

        let br = c
            .get(&url)
            .header("Accept-Encoding", "gzip, deflate, br")
            .send()
            .await
            .unwrap();
        assert_eq!(header(&br, "content-encoding"), "br", "{path}");
        let br_tag = header(&br, "etag");
        let br = br.bytes().await.unwrap();
        let mut decoded = Vec::new();
        brotli::Decompressor::new(&br[..], 4096)
            .read_to_end(&mut decoded)
            .unwrap();
        assert_eq!(decoded, plain, "{path}: brotli");

        // Each representation has its own strong tag.
        assert!(plain_tag != gz_tag && gz_tag != br_tag && plain_tag != br_tag);
        // ... and any of them revalidates the document.
        let revalidated = c
            .get(&url)
            .header("Accept-Encoding", "br")
            .header("If-None-Match", &gz_tag)
            .send()
            .await
            .unwrap();
        assert_eq!(revalidated.status(), StatusCode::NOT_MODIFIED, "{path}");

        let refused = c
            .get(&url)
            .header("Accept-Encoding", "br;q=0, gzip;q=0")
            .send()
            .await
            .unwrap();
        assert_eq!(header(&refused, "content-encoding"), "", "{path}");
    }
}
