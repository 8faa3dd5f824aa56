//! `byline serve` with `refresh_interval_secs`: the real binary refreshes a
//! live source (a local HTTP server on 127.0.0.1 whose listing changes) into
//! the store and keeps serving what rolled off the listing; an upstream fault
//! shows on /healthz and loses nothing; unchanged listings cost a 304.

#[path = "support/http_server.rs"]
mod http_server;
#[path = "support/serve.rs"]
mod support_serve;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use http_server::{Reply, Story, TestServer, dump};
use support_serve::{Serve, get, serve as serve_in, wait_for};

fn serve(config: &std::path::Path) -> Serve {
    let dir = config.parent().expect("config folder");
    serve_in(dir, &["--config".as_ref(), config.as_os_str()], "info")
}

/// Start `byline serve` without waiting for it to listen.
fn spawn_serve(config: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_byline"))
        .args(["serve", "--config"])
        .arg(config)
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("byline runs")
}

fn story(title: &str, date: &str) -> Story {
    Story::new(title, &format!("Summary of {title}"), "Jeongmin Kim", date)
}

#[test]
fn serve_keeps_history_refreshes_on_schedule_and_reports_faults() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let upstream = rt.block_on(TestServer::start());
    let (a, b, c) = (
        "Alpha story rolls off",
        "Bravo story stays",
        "Charlie story is new",
    );
    upstream.set(
        "/news",
        Reply::text(dump(
            "May 21, 2022",
            &[story(b, "May 20, 2022"), story(a, "May 19, 2022")],
        )),
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("feeds.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\npath = \"history.db\"\n[server]\nrefresh_interval_secs = 1\n\
             [[source]]\nname = \"live\"\nkind = \"text\"\ntimezone = \"Asia/Seoul\"\ninputs = [\"{}\"]\n",
            upstream.url("/news")
        ),
    )
    .expect("write config");
    let server = serve(&config);
    let feed = format!("{}/feed.json", server.root);
    let first = get(&rt, &feed);
    assert!(first.contains(a) && first.contains(b), "{first}");

    // A roll-off: the listing now shows Charlie (dated today, as a live
    // listing would) and Bravo only.
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Seoul)
        .format("%B %-d, %Y")
        .to_string();
    upstream.set(
        "/news",
        Reply::text(dump(&today, &[story(c, &today), story(b, "May 20, 2022")])),
    );
    let body = wait_for(&rt, &feed, |b| b.contains(c));
    assert!(body.contains(c), "the new story was published: {body}");
    assert!(
        body.contains(a),
        "the rolled-off story is still served: {body}"
    );
    let json: serde_json::Value = serde_json::from_str(&body).expect("JSON Feed");
    let titles: Vec<&str> = json["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["title"].as_str())
        .collect();
    assert_eq!(titles, [c, b, a], "newest first, each once");
    // A date-only story first seen on its own day is published at the time it
    // was first seen (not midnight), and keeps that time on later refreshes.
    let published = |body: &str, title: &str| -> String {
        let json: serde_json::Value = serde_json::from_str(body).expect("JSON Feed");
        json["items"]
            .as_array()
            .and_then(|items| items.iter().find(|i| i["title"] == title))
            .and_then(|i| i["date_published"].as_str())
            .unwrap_or_default()
            .to_owned()
    };
    let first_time = published(&body, c);
    assert!(!first_time.contains("T00:00:00"), "{first_time}");
    let earlier = published(&body, b);
    // A date seen later: before noon of the day, by its place and id.
    assert!(
        earlier.starts_with("2022-05-20T1") && earlier.as_str() < "2022-05-20T12:00:00",
        "a date seen later is before its noon: {earlier}"
    );
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(
        published(&get(&rt, &feed), c),
        first_time,
        "stable across refreshes"
    );

    // The unchanged listing is fetched conditionally: 304s, counted.
    let metrics = wait_for(&rt, &format!("{}/metrics", server.root), |m| {
        m.lines()
            .find_map(|l| l.strip_prefix("byline_upstream_not_modified_total "))
            .and_then(|n| n.trim().parse::<u64>().ok())
            .is_some_and(|n| n > 0)
    });
    assert!(upstream.counts("/news").not_modified > 0, "{metrics}");

    // An upstream fault: reported on /healthz, nothing lost.
    upstream.set("/news", Reply::status(500));
    // (Match the error text, not "500" alone: timestamps contain digits too.)
    let health = wait_for(&rt, &format!("{}/healthz", server.root), |h| {
        h.contains("HTTP 500")
    });
    assert!(health.contains("HTTP 500"), "{health}");
    let index = get(&rt, &format!("{}/", server.root));
    assert!(
        index.contains("Sources with problems") && index.contains("HTTP 500"),
        "{index}"
    );
    let body = get(&rt, &feed);
    for t in [a, b, c] {
        assert!(body.contains(t), "{t} still served during the fault");
    }
}

#[test]
fn sigkill_during_a_refresh_loses_and_duplicates_nothing() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let upstream = rt.block_on(TestServer::start());
    let stories: Vec<Story> = (0..40)
        .map(|n| story(&format!("Story number {n} of the day"), "May 20, 2022"))
        .collect();
    let page = dump("May 21, 2022", &stories);
    // The first source answers at once; the second drips, so the server is
    // killed while the refresh is in flight.
    upstream.set("/fast", Reply::text(page.clone()));
    upstream.set(
        "/slow",
        Reply::Drip {
            body: page.clone().into_bytes(),
            every: Duration::from_millis(20),
        },
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("feeds.toml");
    let write = |slow_path: &str| {
        std::fs::write(
            &config,
            format!(
                "[store]\npath = \"history.db\"\n[server]\nrefresh_interval_secs = 1\n\
                 [[source]]\nname = \"fast\"\nkind = \"text\"\ninputs = [\"{}\"]\n\
                 [[source]]\nname = \"slow\"\nkind = \"text\"\ninputs = [\"{}\"]\n",
                upstream.url("/fast"),
                upstream.url(slow_path)
            ),
        )
        .expect("write config");
    };
    write("/slow");
    let mut child = spawn_serve(&config);
    // Wait until the fast source is committed and the slow one is dripping.
    let start = Instant::now();
    while upstream.counts("/slow").requests == 0 && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");

    // Restart with the slow source answering at once.
    upstream.set("/slow-now", Reply::text(page));
    write("/slow-now");
    let server = serve(&config);
    let body = get(&rt, &format!("{}/feed.json", server.root));
    let json: serde_json::Value = serde_json::from_str(&body).expect("JSON Feed");
    let items = json["items"].as_array().expect("items");
    // Both sources carry the same 40 stories (url-less, same title and day):
    // one item each, none twice, whatever the kill interrupted.
    assert_eq!(items.len(), 40, "{body}");
    let mut ids: Vec<&str> = items.iter().filter_map(|i| i["id"].as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 40);
    let health = get(&rt, &format!("{}/healthz", server.root));
    assert!(
        health.contains("\"fast\"") && health.contains("\"slow\""),
        "{health}"
    );
}
