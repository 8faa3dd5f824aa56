//! Upstreams that push back or stall: `Retry-After` is honoured between
//! refreshes, and a stalled source does not starve its host.

use super::*;

/// `429` with `Retry-After: 3600`: no request for that source within the
/// test's window, while a healthy source beside it refreshes every second.
#[test]
fn retry_after_is_honoured_between_refreshes() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let upstream = rt.block_on(TestServer::start());
    upstream.set(
        "/busy",
        Reply::Status {
            code: 429,
            headers: vec![("Retry-After".into(), "3600".into())],
            body: b"slow down".to_vec(),
        },
    );
    upstream.set(
        "/fine",
        Reply::Page {
            body: b"May 21, 2022\n\n\nLatest news\n\nA story that stays\n\nIts summary here.\n\nMina Park May 20, 2022\n".to_vec(),
            content_type: "text/plain; charset=utf-8".to_owned(),
            etag: None,
            last_modified: None,
        },
    );
    let dir = tempfile::tempdir().expect("tempdir");
    config(
        dir.path(),
        &format!(
            "[server]\nrefresh_interval_secs = 1\n\
             [[source]]\nname = \"busy\"\nkind = \"text\"\ninputs = [\"{}\"]\n\
             [[source]]\nname = \"fine\"\nkind = \"text\"\ninputs = [\"{}\"]\n",
            upstream.url("/busy"),
            upstream.url("/fine")
        ),
    );
    let server = serve(dir.path());
    let client = reqwest::Client::new();
    let health = rt.block_on(async {
        client
            .get(format!("{}/healthz", server.root))
            .send()
            .await
            .expect("healthz")
            .text()
            .await
            .expect("body")
    });
    assert!(health.contains("Retry-After 3600s"), "{health}");
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(upstream.counts("/busy").requests, 1, "asked again too soon");
    assert!(
        upstream.counts("/fine").requests >= 3,
        "the healthy source kept its schedule: {}",
        upstream.counts("/fine").requests
    );
}

/// Two sources that stall cannot hold their host's slots for long: with a
/// 2 s interval each fetch ends within 2 s, and a healthy source on the
/// same host keeps its schedule.
#[test]
fn stalled_sources_do_not_starve_their_host() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let upstream = rt.block_on(TestServer::start());
    upstream.set("/stall-a", Reply::Hang);
    upstream.set("/stall-b", Reply::Hang);
    upstream.set(
        "/fine",
        Reply::Page {
            body: b"May 21, 2022\n\n\nLatest news\n\nA story that stays\n\nIts summary here.\n\nMina Park May 20, 2022\n".to_vec(),
            content_type: "text/plain; charset=utf-8".to_owned(),
            etag: None,
            last_modified: None,
        },
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let mut text = String::from("[server]\nrefresh_interval_secs = 2\n");
    for name in ["stall-a", "stall-b", "fine"] {
        text.push_str(&format!(
            "[[source]]\nname = \"{name}\"\nkind = \"text\"\ninputs = [\"{}\"]\n",
            upstream.url(&format!("/{name}"))
        ));
    }
    config(dir.path(), &text);
    let _server = serve(dir.path());
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs(14));
    let fine = upstream.counts("/fine").requests;
    assert!(
        fine >= 4,
        "the healthy source was fetched {fine} times in {:?} (interval 2 s)",
        started.elapsed()
    );
}
