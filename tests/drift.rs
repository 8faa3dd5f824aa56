//! Sources that break loudly: `byline serve` reads a live listing (a local
//! HTTP server, two pages) whose markup changes between refreshes: cards
//! renamed, dates moved, the next-page link gone, a bot wall, a 200 error
//! page, an empty page. Each raises its alarm on the first read of the
//! changed page, shows on /healthz, /metrics, the index page, `byline
//! status` and the status feed (valid Atom), keeps every stored story
//! served, and clears when the page recovers; the webhook receives one POST
//! per raise and one per clear.

#[path = "support/http_server.rs"]
mod http_server;
#[path = "support/serve.rs"]
mod support_serve;
#[path = "support/tools.rs"]
mod tools;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use http_server::{Reply, TestServer};
use support_serve::{get, serve, wait_for};

/// Cards on each of the listing's two pages.
const CARDS: usize = 8;

fn title(page: usize, n: usize) -> String {
    format!("Live story number {}", page * 100 + n)
}

/// How the listing is written: `renamed` cards of a page in a class the
/// config does not know; dates in `time.d` or, `moved`, in a `span.when`;
/// page 1 links page 2 unless `lost_next`.
#[derive(Clone, Copy, Default)]
struct Markup {
    renamed: usize,
    moved: bool,
    lost_next: bool,
}

/// Page `page` (1 or 2) of the listing.
fn listing(page: usize, m: Markup) -> Reply {
    let mut body = String::from("<html><head><title>Live news</title></head><body><ul>\n");
    for n in 0..CARDS {
        let class = if n < m.renamed { "tile" } else { "card" };
        let date = if m.moved {
            format!("<span class=\"when\">2026-05-{:02}</span>", n + 1)
        } else {
            format!(
                "<time class=\"d\" datetime=\"2026-05-{:02}T09:00:00+09:00\">May {}</time>",
                n + 1,
                n + 1
            )
        };
        body.push_str(&format!(
            "<li class=\"{class}\"><a class=\"t\" href=\"/s/{page}/{n}\">{}</a> {date}</li>\n",
            title(page, n)
        ));
    }
    body.push_str("</ul>\n");
    if page == 1 && !m.lost_next {
        body.push_str("<a class=\"next\" href=\"/news2\">Older</a>\n");
    }
    body.push_str("</body></html>\n");
    html(200, vec![], body)
}

/// Both pages of the listing written as `m`.
fn set_listing(upstream: &TestServer, m: Markup) {
    upstream.set("/news", listing(1, m));
    upstream.set("/news2", listing(2, m));
}

fn html(code: u16, mut headers: Vec<(String, String)>, body: String) -> Reply {
    // No validators: every refresh reads the page in full, as a changing
    // page would be.
    headers.push(("Content-Type".into(), "text/html; charset=utf-8".into()));
    Reply::Status {
        code,
        headers,
        body: body.into_bytes(),
    }
}

/// The `live` source of a /healthz body.
fn live(health: &str) -> serde_json::Value {
    let json: serde_json::Value = serde_json::from_str(health).unwrap_or_default();
    json["sources"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == "live").cloned())
        .unwrap_or_default()
}

fn alarm_kinds(health: &str) -> Vec<String> {
    live(health)["alarms"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|a| a["kind"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// `byline status` against the config: (exit code, stdout).
fn status(config: &Path) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_byline"))
        .args(["status", "--config"])
        .arg(config)
        .env("RUST_LOG", "off")
        .output()
        .expect("byline status runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// jing against RFC 4287's schema, and feed-rs: the status feed is Atom.
fn valid_atom(dir: &Path, atom: &str) {
    feed_rs::parser::parse(atom.as_bytes()).expect("feed-rs reads /status.atom");
    if !tools::require("jing", "jing") {
        return;
    }
    let file: PathBuf = dir.join("status.atom");
    std::fs::write(&file, atom).expect("write atom");
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/atom.rnc");
    let out = Command::new("jing")
        .arg("-c")
        .arg(&schema)
        .arg(&file)
        .output()
        .expect("jing runs (apt-get install -y jing)");
    assert!(
        out.status.success(),
        "jing rejected /status.atom:\n{}\n{atom}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn each_breakage_raises_its_alarm_everywhere_and_clears_on_recovery() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let upstream = rt.block_on(TestServer::start());
    set_listing(&upstream, Markup::default());
    upstream.set("/hook", html(200, vec![], "ok".into()));

    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("feeds.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\npath = \"history.db\"\n[server]\nrefresh_interval_secs = 1\n\
             [alarms]\nwebhook = \"{}\"\n\
             [[source]]\nname = \"live\"\nkind = \"html\"\ninputs = [\"{}\"]\n\
             [source.html]\nitem = \"li.card\"\ntitle = \"a.t\"\n\
             url = {{ css = \"a.t\", attr = \"href\" }}\npublished = \"time.d\"\n\
             next_page = \"a.next\"\nmax_pages = 2\n",
            upstream.url("/hook"),
            upstream.url("/news")
        ),
    )
    .expect("write config");
    let server = serve(
        dir.path(),
        &["--config".as_ref(), config.as_os_str()],
        "info",
    );
    let health_url = format!("{}/healthz", server.root);
    let feed_url = format!("{}/sources/live.json", server.root);

    // Enough good reads for a history (min_reads = 3 by default).
    let start = Instant::now();
    while upstream.counts("/news").requests < 4 && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let health = get(&rt, &health_url);
    assert_eq!(live(&health)["state"], "ok", "{health}");
    assert_eq!(status(&config).0, Some(0), "all ok: exit 0");

    let wall = html(
        403,
        vec![("cf-mitigated".into(), "challenge".into())],
        "<html><head><title>Just a moment...</title></head><body>Checking your browser</body></html>"
            .into(),
    );
    let error_page = html(
        200,
        vec![],
        "<html><head><title>503 Service Unavailable</title></head><body><h1>Sorry</h1></body></html>"
            .into(),
    );
    let empty = html(
        200,
        vec![],
        "<html><head><title>Live news</title></head><body><ul></ul></body></html>".into(),
    );
    let cases: Vec<(&str, Reply, Option<Reply>, &str)> = vec![
        (
            "cards renamed",
            listing(
                1,
                Markup {
                    renamed: 5,
                    ..Markup::default()
                },
            ),
            Some(listing(
                2,
                Markup {
                    renamed: 5,
                    ..Markup::default()
                },
            )),
            "cards",
        ),
        (
            "dates moved",
            listing(
                1,
                Markup {
                    moved: true,
                    ..Markup::default()
                },
            ),
            Some(listing(
                2,
                Markup {
                    moved: true,
                    ..Markup::default()
                },
            )),
            "field:published",
        ),
        (
            "the next-page link gone",
            listing(
                1,
                Markup {
                    lost_next: true,
                    ..Markup::default()
                },
            ),
            None,
            "pagination",
        ),
        ("a bot wall", wall, None, "blocked"),
        ("a 200 error page", error_page, None, "error_page"),
        ("an empty page", empty, None, "empty"),
    ];
    for (what, first, second, kind) in &cases {
        let before = upstream.counts("/news").requests;
        if let Some(second) = second {
            upstream.set("/news2", second.clone());
        }
        upstream.set("/news", first.clone());
        let health = wait_for(&rt, &health_url, |h| {
            alarm_kinds(h).iter().any(|k| k == kind)
        });
        assert_eq!(alarm_kinds(&health), [*kind], "{what}: {health}");
        // Raised by the first read of the changed page (one more may have
        // been under way when the page changed).
        let reads = upstream.counts("/news").requests - before;
        assert!(reads <= 2, "{what}: raised after {reads} reads");
        let state = if kind.starts_with("field:") || ["cards", "pagination"].contains(kind) {
            "degraded"
        } else {
            "failing"
        };
        assert_eq!(live(&health)["state"], state, "{what}: {health}");
        assert!(live(&health)["since"].is_string(), "{what}: {health}");

        let metrics = get(&rt, &format!("{}/metrics", server.root));
        let series = format!("byline_source_alarm{{source=\"live\",kind=\"{kind}\"}} 1");
        assert!(metrics.contains(&series), "{what}: {metrics}");
        let gauge = format!(
            "byline_source_state{{source=\"live\"}} {}",
            if state == "degraded" { 1 } else { 2 }
        );
        assert!(metrics.contains(&gauge), "{what}: {metrics}");
        let index = wait_for(&rt, &format!("{}/", server.root), |i| i.contains(kind));
        assert!(
            index.contains("Sources with problems") && index.contains(kind),
            "{what}: {index}"
        );
        let (code, printed) = status(&config);
        assert_eq!(code, Some(2), "{what}: byline status exits non-zero");
        assert!(
            printed.contains(kind) && printed.contains(state),
            "{what}: {printed}"
        );
        let atom = get(&rt, &format!("{}/status.atom", server.root));
        assert!(
            atom.contains(&format!("live: {kind} alarm raised")),
            "{what}: {atom}"
        );
        valid_atom(dir.path(), &atom);

        // Every stored story is still served.
        let feed = get(&rt, &feed_url);
        for (page, n) in (1..=2).flat_map(|p| (0..CARDS).map(move |n| (p, n))) {
            let t = title(page, n);
            assert!(feed.contains(&t), "{what}: {t} lost: {feed}");
        }

        set_listing(&upstream, Markup::default());
        let health = wait_for(&rt, &health_url, |h| live(h)["state"] == "ok");
        assert_eq!(live(&health)["state"], "ok", "{what} recovered: {health}");
        let atom = wait_for(&rt, &format!("{}/status.atom", server.root), |a| {
            a.contains(&format!("live: {kind} alarm cleared"))
        });
        assert!(
            atom.contains(&format!("live: {kind} alarm cleared")),
            "{what}: {atom}"
        );
        assert_eq!(status(&config).0, Some(0), "{what} recovered: exit 0");
    }

    // Counters for an alert on a source that keeps breaking: one raise and
    // one clear per case.
    let metrics = get(&rt, &format!("{}/metrics", server.root));
    for name in [
        "byline_source_alarms_raised_total",
        "byline_source_alarms_cleared_total",
    ] {
        let series = format!("{name}{{source=\"live\"}} {}", cases.len());
        assert!(metrics.contains(&series), "{series}: {metrics}");
    }
    assert!(metrics.contains("# TYPE byline_source_refreshes_total counter"));

    // One entry and one POST per raise and per clear.
    let events = get(&rt, &format!("{}/status.json", server.root));
    let events: serde_json::Value = serde_json::from_str(&events).expect("JSON Feed");
    let entries = events["items"].as_array().map_or(0, Vec::len);
    assert_eq!(entries, 2 * cases.len(), "{events}");
    let start = Instant::now();
    while upstream.counts("/hook").requests < entries && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(upstream.counts("/hook").requests, entries);
}

/// Alarms survive a restart: raised once, kept with their first time while
/// they hold, cleared once; every raise and clear is one event.
#[test]
fn alarms_and_their_events_survive_a_reopen() {
    use byline::drift::{Alarm, ReadStats};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("byline.db");
    let t0 = chrono::DateTime::parse_from_rfc3339("2026-05-20T09:00:00Z")
        .unwrap()
        .to_utc();
    let t1 = t0 + chrono::Duration::minutes(30);
    let wall = Alarm {
        kind: "blocked".into(),
        message: "blocked by a bot wall at http://x/".into(),
    };
    {
        let store = byline::store::Store::open(&path).unwrap();
        let stats = ReadStats {
            cards: 8,
            fields: [8, 8, 0, 0, 8, 0, 0],
            pagination: true,
        };
        store.record_read("live", &stats, t0).unwrap();
        store
            .record_read("live", &ReadStats::default(), t0)
            .unwrap();
        // Reads without cards are not history.
        assert_eq!(store.recent_reads("live", 10).unwrap(), [stats]);
        let (events, active) = store
            .set_alarms("live", std::slice::from_ref(&wall), t0)
            .unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].event, "raised");
        assert_eq!(active.len(), 1);
    }
    let store = byline::store::Store::open(&path).unwrap();
    let (events, active) = store.set_alarms("live", &[wall], t1).unwrap();
    assert!(events.is_empty(), "still holds: no new event");
    assert_eq!(active[0].since, t0, "since its first time");
    let (events, active) = store.set_alarms("live", &[], t1).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event, "cleared");
    assert!(active.is_empty());
    let all = store.alarm_events(10).unwrap();
    let order: Vec<&str> = all.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(order, ["cleared", "raised"], "newest first");
}

/// Walls are named, at their url, by their stage; an ordinary page that
/// carries a captcha on a comment form is read; a plain 404 stays a fetch
/// error. Nothing of a wall is ever stored as an item.
#[test]
fn walls_are_named_at_their_url_and_ordinary_pages_are_read() {
    use byline::read::Stage;
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let upstream = rt.block_on(TestServer::start());
    let challenge =
        "<html><head><title>Just a moment...</title></head><body>cf_chl_opt</body></html>";
    let cards = |extra: &str| {
        format!(
            "<html><body><ul><li class=\"card\"><a class=\"t\" href=\"/s/1\">A story of the day</a></li></ul>{extra}</body></html>"
        )
    };
    let cf = || vec![("cf-mitigated".to_owned(), "challenge".to_owned())];
    let cases: Vec<(&str, Vec<Reply>, Option<Stage>, &str)> = vec![
        (
            "/w1",
            vec![html(503, cf(), challenge.into())],
            Some(Stage::Blocked),
            "blocked by a bot wall at",
        ),
        (
            "/w2",
            vec![html(200, cf(), cards(""))],
            Some(Stage::Blocked),
            "cf-mitigated",
        ),
        (
            "/w3",
            vec![Reply::Status {
                code: 302,
                headers: vec![(
                    "Location".into(),
                    "http://127.0.0.1:{port}/account/login".into(),
                )],
                body: Vec::new(),
            }],
            Some(Stage::Blocked),
            "redirected to a login page",
        ),
        (
            "/w4",
            vec![html(
                200,
                vec![],
                "<html><body><h1>We value your privacy</h1><button>Accept</button></body></html>"
                    .into(),
            )],
            Some(Stage::Blocked),
            "a consent wall",
        ),
        (
            "/w5",
            vec![html(
                200,
                vec![],
                cards("<form><div class=\"g-recaptcha\"></div></form>"),
            )],
            None,
            "",
        ),
        (
            "/w6",
            vec![Reply::status(404)],
            Some(Stage::Fetch),
            "HTTP 404",
        ),
    ];
    upstream.set(
        "/account/login",
        html(
            200,
            vec![],
            "<html><body><form>Sign in</form></body></html>".into(),
        ),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    for (path, replies, stage, want) in cases {
        upstream.script(path, replies);
        let toml = format!(
            "[store]\npath = \"s{}.db\"\n[[source]]\nname = \"w\"\nkind = \"html\"\ninputs = [\"{}\"]\n\
             [source.html]\nitem = \"li.card\"\ntitle = \"a.t\"\nurl = {{ css = \"a.t\", attr = \"href\" }}\n",
            &path[2..],
            upstream.url(path)
        );
        let config = byline::config::Config::parse(&toml, "test.toml", dir.path()).expect("config");
        let store = byline::store::Store::connect(&config.store.location).expect("store");
        let fetcher = byline::fetch::Fetcher::new(byline::fetch::FetchOptions {
            backoff: Duration::from_millis(20),
            retry_budget: Duration::from_secs(1),
            ..byline::fetch::FetchOptions::default()
        })
        .expect("fetcher");
        let outcome = rt.block_on(byline::refresh::refresh_source(
            &store,
            &config,
            &config.sources[0],
            &fetcher,
            chrono::Utc::now(),
        ));
        let stored = store.item_count(None).expect("count");
        match stage {
            Some(stage) => {
                let e = outcome
                    .errors
                    .first()
                    .unwrap_or_else(|| panic!("{path}: no error"));
                assert_eq!(e.stage, stage, "{path}: {e}");
                assert!(e.message.contains(want), "{path}: {e}");
                assert!(e.message.contains(path), "{path} named: {e}");
                assert_eq!(stored, 0, "{path}: a wall is never an item");
                assert_eq!(outcome.alarms.len(), 1, "{path}: {:?}", outcome.alarms);
                assert_eq!(outcome.alarms[0].kind, stage.name());
            }
            None => {
                assert!(!outcome.failed(), "{path}: {:?}", outcome.errors);
                assert_eq!(stored, 1, "{path}");
            }
        }
    }
}

/// `byline build` writes the status feed into the site when the status is
/// public (`[server] public_status`), as `serve` serves it; not otherwise.
#[test]
fn build_writes_the_status_feed_only_when_the_status_is_public() {
    let dir = tempfile::tempdir().expect("tempdir");
    let story = http_server::Story::new(
        "A story that stays",
        "Its summary.",
        "Jeongmin Kim",
        "May 20, 2022",
    );
    std::fs::write(
        dir.path().join("good.txt"),
        http_server::dump("May 21, 2022", &[story]),
    )
    .expect("dump");
    let write = |public: bool| {
        std::fs::write(
            dir.path().join("feeds.toml"),
            format!(
                "[store]\npath = \"s.db\"\n[server]\npublic_status = {public}\n\
                 [[source]]\nname = \"good\"\nkind = \"text\"\ninputs = [\"good.txt\"]\n\
                 [[source]]\nname = \"gone\"\nkind = \"text\"\ninputs = [\"missing.txt\"]\n"
            ),
        )
        .expect("config");
    };
    let build = |out: &str| {
        Command::new(env!("CARGO_BIN_EXE_byline"))
            .args(["build", "--out", out])
            .current_dir(dir.path())
            .env("RUST_LOG", "off")
            .status()
            .expect("byline build runs")
            .code()
    };
    write(false);
    assert_eq!(build("private"), Some(2), "a source failed");
    assert!(dir.path().join("private/feed.atom").is_file());
    assert!(!dir.path().join("private/status.atom").exists());

    write(true);
    assert_eq!(build("public"), Some(2));
    for ext in ["atom", "rss", "json"] {
        assert!(
            dir.path().join(format!("public/status.{ext}")).is_file(),
            "{ext}"
        );
    }
    let atom = std::fs::read_to_string(dir.path().join("public/status.atom")).expect("atom");
    assert!(atom.contains("gone: fetch alarm raised"), "{atom}");
    assert!(!atom.contains("good:"), "{atom}");
    valid_atom(dir.path(), &atom);
}
