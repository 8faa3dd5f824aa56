//! What the server tells about itself: `/healthz`, `/metrics`, the access
//! log, who may read them, and forwarded client addresses.

use super::*;

#[tokio::test]
async fn health_metrics_and_access_log() {
    let s = Server::start("http://127.0.0.1:8080/", "");
    let health = json(&s.url("/healthz")).await;
    assert_eq!(health["status"], "ok");
    let sources = health["sources"].as_array().unwrap();
    let names: Vec<&str> = sources
        .iter()
        .map(|x| x["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["nknews", "monitor", "tracker"]);
    let total: u64 = sources
        .iter()
        .map(|x| x["items_read"].as_u64().unwrap())
        .sum();
    let expected: u64 = [
        "nknews-2021-03-04.json",
        "nknews-2022-05-21.json",
        "other-source.rss.json",
        "other-source.atom.json",
    ]
    .iter()
    .map(|f| common::expected(f)["items"].as_array().unwrap().len() as u64)
    .sum();
    assert_eq!(total, expected);
    for src in sources {
        assert_eq!(src["errors"].as_array().unwrap().len(), 0);
        assert!(src["pages"].as_u64().unwrap() >= 1);
        assert!(src["last_error"].is_null());
    }

    let etag = header(&get(&s.url("/feed.rss")).await, "etag");
    let r = client()
        .get(s.url("/feed.rss"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    get(&s.url("/authors/nobody")).await;

    let metrics = get(&s.url("/metrics")).await.text().await.unwrap();
    let value = |line_start: &str| -> f64 {
        metrics
            .lines()
            .find(|l| l.starts_with(line_start))
            .unwrap_or_else(|| panic!("no {line_start} in\n{metrics}"))
            .rsplit(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(
        value("byline_http_requests_total{route=\"feed\",status=\"200\"}"),
        1.0
    );
    assert_eq!(
        value("byline_http_requests_total{route=\"feed\",status=\"304\"}"),
        1.0
    );
    assert_eq!(
        value("byline_http_requests_total{route=\"author\",status=\"404\"}"),
        1.0
    );
    assert_eq!(value("byline_http_not_modified_total"), 1.0);
    assert!(value("byline_http_response_bytes_total{route=\"feed\"}") > 100.0);
    assert!(value("byline_items ") as u64 > 0);
    assert_eq!(value("byline_source_up{source=\"monitor\"}"), 1.0);
    assert_eq!(
        value("byline_source_items_read{source=\"nknews\"}") as u64,
        sources[0]["items_read"].as_u64().unwrap()
    );

    // The access log names method, path, status and bytes.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let log = s.log_text();
        let line = log
            .lines()
            .find(|l| l.contains("byline::access") && l.contains("/authors/nobody"));
        if let Some(line) = line {
            assert!(
                line.contains("method=GET") && line.contains("status=404"),
                "{line}"
            );
            assert!(
                line.contains("bytes=") && line.contains("micros="),
                "{line}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "no access log line in\n{log}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn forwarded_headers_count_only_from_trusted_proxies() {
    let (_, author) = tagged_author();
    let a = slug(&author);
    let forwarded = |r: reqwest::RequestBuilder| {
        r.header("X-Forwarded-Proto", "https")
            .header("X-Forwarded-Host", "mirror.example")
            .header("X-Forwarded-Prefix", "/news")
            .header("X-Forwarded-For", "203.0.113.7")
    };
    let c = client();

    // Not trusted: the headers change nothing.
    let s = Server::start("https://example.org/feeds/", "");
    let index = forwarded(c.get(s.url("/")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!index.contains("mirror.example"));
    assert!(index.contains("https://example.org/feeds/"));
    drop(s);

    // Trusted (the test client connects from 127.0.0.1): pages link to the
    // proxy's public origin, feeds keep base_url, the log names the client.
    let s = Server::start(
        "https://example.org/feeds/",
        r#"trusted_proxies = ["127.0.0.0/8"]"#,
    );
    for path in ["/".to_owned(), format!("/authors/{a}")] {
        let r = forwarded(c.get(s.url(&path))).send().await.unwrap();
        assert!(header(&r, "vary").contains("X-Forwarded-Host"), "{path}");
        let body = r.text().await.unwrap();
        assert!(
            body.contains(&format!("https://mirror.example/news/authors/{a}")),
            "{path}"
        );
        assert!(
            !body.contains("https://example.org/feeds/authors/"),
            "{path}"
        );
    }
    let atom = forwarded(c.get(s.url(&format!("/authors/{a}.atom"))))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!atom.contains("mirror.example"));
    assert!(atom.contains(&format!("https://example.org/feeds/authors/{a}.atom")));
    // Without the headers, the same server links to base_url.
    let plain = get(&s.url("/")).await.text().await.unwrap();
    assert!(!plain.contains("mirror.example"));

    let deadline = Instant::now() + Duration::from_secs(5);
    while !s.log_text().contains("client=203.0.113.7") {
        assert!(
            Instant::now() < deadline,
            "no forwarded client in the access log"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn health_and_metrics_answer_only_the_machine_and_its_proxies() {
    let c = client();
    let status = |s: &Server, path: &str, forwarded: Option<&'static str>| {
        let mut r = c.get(s.url(path));
        if let Some(f) = forwarded {
            r = r.header("X-Forwarded-For", f);
        }
        async move { r.send().await.unwrap().status() }
    };
    let s = Server::start(
        "http://127.0.0.1:8080/",
        r#"trusted_proxies = ["10.0.0.0/8"]"#,
    );
    for path in ["/healthz", "/metrics"] {
        // From this machine, and from a proxy forwarding one of ours: open.
        assert_eq!(status(&s, path, None).await, StatusCode::OK, "{path}");
        assert_eq!(status(&s, path, Some("10.1.2.3")).await, StatusCode::OK);
        // A proxy on this machine forwarding a public client: closed, and it says why.
        assert_eq!(
            status(&s, path, Some("203.0.113.7")).await,
            StatusCode::FORBIDDEN,
            "{path}"
        );
        assert_eq!(
            status(&s, path, Some("127.0.0.1, 203.0.113.7")).await,
            StatusCode::FORBIDDEN
        );
        assert_eq!(status(&s, path, Some("junk")).await, StatusCode::FORBIDDEN);
    }
    let body = c
        .get(s.url("/healthz"))
        .header("X-Forwarded-For", "203.0.113.7")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("public_status = true"), "{body}");
    // Feeds stay public.
    assert_eq!(
        status(&s, "/feed.atom", Some("203.0.113.7")).await,
        StatusCode::OK
    );
    drop(s);

    let s = Server::start("http://127.0.0.1:8080/", "public_status = true");
    assert_eq!(
        status(&s, "/healthz", Some("203.0.113.7")).await,
        StatusCode::OK
    );
}
