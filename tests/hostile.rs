//! Hostile upstreams and damaged state (issue 11): what a bad page, a bad
//! url or a damaged store can do to byline. Everything on 127.0.0.1.

#[path = "support/http_server.rs"]
mod http_server;
#[path = "support/serve.rs"]
mod support_serve;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use byline::config::Config;
use byline::fetch::{FetchOptions, Fetcher};
use byline::read::{Stage, read_source};
use http_server::{Reply, TestServer};
use support_serve::{Serve, serve as serve_in};

/// Tests that measure time or CPU run one at a time: the others would be
/// load beside them.
static TIMED: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn timed() -> std::sync::MutexGuard<'static, ()> {
    TIMED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn config(dir: &Path, text: &str) -> Config {
    let path = dir.join("feeds.toml");
    std::fs::write(&path, text).expect("config");
    Config::load(&path).expect("config loads")
}

/// A page nesting `n` elements, the way a broken or hostile page does.
fn deep_page(n: usize) -> String {
    format!(
        "<html><body>{}<article class=\"c\"><h2><a href=\"/s/1\">A story among deep markup</a></h2></article>{}</body></html>",
        "<div>".repeat(n),
        "</div>".repeat(n)
    )
}

#[test]
fn a_deeply_nested_page_is_refused_by_the_dom_engine_in_moments() {
    let _serial = timed();
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("deep.html");
    std::fs::write(&page, deep_page(100_000)).expect("page");
    let config = config(
        dir.path(),
        &format!(
            "[[source]]\nname = \"deep\"\nkind = \"html\"\n\
             inputs = [{{ file = \"{}\", url = \"https://deep.example/\" }}]\n\
             [source.html]\nengine = \"dom\"\nitem = \"article.c\"\ntitle = \"h2 a\"\n",
            page.display()
        ),
    );
    let fetcher = Fetcher::new(FetchOptions::default()).expect("fetcher");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let started = Instant::now();
    let read = rt.block_on(read_source(
        &config.sources[0],
        &config.sources[0].inputs,
        &fetcher,
        &HashMap::new(),
        chrono::Utc::now(),
    ));
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let error = read.errors().next().expect("refused");
    assert_eq!(error.stage, Stage::Parse);
    assert!(error.message.contains("nests elements"), "{error}");
    assert!(read.items.is_empty());
}

fn serve(dir: &Path) -> Serve {
    serve_in(dir, &[], "info,byline::access=off")
}

/// Parsing runs off the async workers: while two sources with heavy pages
/// refresh every second, `/healthz` keeps answering at once.
#[test]
fn heavy_pages_do_not_stall_healthz() {
    let _serial = timed();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let upstream = rt.block_on(TestServer::start());
    // A large shallow page (many cards, a DOM-only selector) and a deep one.
    let mut wide = String::from("<html><body>");
    for n in 0..20_000 {
        wide.push_str(&format!(
            "<article class=\"c\"><h2><a href=\"/s/{n}\">Story number {n} of a very long page</a></h2><p>x</p></article>"
        ));
    }
    wide.push_str("</body></html>");
    // No validators: every refresh fetches and parses again.
    let page = |body: String| Reply::Page {
        body: body.into_bytes(),
        content_type: "text/html; charset=utf-8".to_owned(),
        etag: None,
        last_modified: None,
    };
    upstream.set("/wide", page(wide));
    upstream.set("/deep", page(deep_page(100_000)));
    let dir = tempfile::tempdir().expect("tempdir");
    let mut text = String::from("[server]\nrefresh_interval_secs = 1\n");
    for name in ["wide", "deep"] {
        text.push_str(&format!(
            "[[source]]\nname = \"{name}\"\nkind = \"html\"\ninputs = [\"{}\"]\n\
             [source.html]\nitem = \"article.c:has(p)\"\ntitle = \"h2 a\"\n",
            upstream.url(&format!("/{name}"))
        ));
    }
    config(dir.path(), &text);
    let server = serve(dir.path());
    let client = reqwest::Client::new();
    // Serving starts after the first refresh; probe the ones after it.
    let first = rt.block_on(client.get(format!("{}/healthz", server.root)).send());
    assert!(first.is_ok(), "{first:?}");
    let parsed_before = upstream.counts("/wide").requests;
    let mut times = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(4);
    while Instant::now() < deadline {
        let t = Instant::now();
        let status = rt.block_on(async {
            client
                .get(format!("{}/healthz", server.root))
                .timeout(Duration::from_secs(10))
                .send()
                .await
                .map(|r| r.status().as_u16())
        });
        times.push(t.elapsed());
        assert!(status.is_ok(), "healthz answered: {status:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    times.sort();
    let p90 = times[times.len() * 9 / 10];
    assert!(
        p90 < Duration::from_millis(100),
        "healthz p90 {p90:?} over {} probes",
        times.len()
    );
    assert!(
        upstream.counts("/wide").requests > parsed_before,
        "the heavy source refreshed meanwhile"
    );
}

/// Secrets in a source url never show: not on the index page, `/healthz`,
/// `/metrics`, a source page, `check`, `refresh` or the logs.
#[test]
fn secrets_in_source_urls_are_never_shown() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let upstream = rt.block_on(TestServer::start());
    upstream.set("/private", Reply::status(500));
    upstream.set("/private?token=abc123&page=1", Reply::status(500));
    let url = upstream
        .url("/private?token=abc123&page=1")
        .replace("http://", "http://reader:hunter2@");
    let dir = tempfile::tempdir().expect("tempdir");
    config(
        dir.path(),
        &format!(
            "redact_params = [\"page\"]\n[server]\nrefresh_interval_secs = 0\n\
             [[source]]\nname = \"private\"\nkind = \"text\"\ninputs = [\"{url}\"]\n"
        ),
    );
    let secrets = ["hunter2", "abc123", "page=1"];
    let shown = |what: &str, text: &str| {
        for s in secrets {
            assert!(!text.contains(s), "{what} shows {s:?}:\n{text}");
        }
    };
    for args in [&["check"][..], &["refresh"]] {
        let out = Command::new(env!("CARGO_BIN_EXE_byline"))
            .current_dir(dir.path())
            .args(args)
            .env("NO_COLOR", "1")
            .output()
            .expect("byline runs");
        assert!(!out.status.success());
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("500"), "{text}");
        assert!(text.contains("token=***"), "{text}");
        shown(args[0], &text);
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_byline"))
        .current_dir(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0", "-v"])
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("byline runs");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut log = String::new();
    let root = loop {
        let line = rx.recv_timeout(Duration::from_secs(60)).expect("log line");
        log.push_str(&line);
        log.push('\n');
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break format!("http://{}", rest.trim_end().trim_end_matches('/'));
        }
    };
    support_serve::wait_ready(&root);
    let client = reqwest::Client::new();
    for path in ["/", "/healthz", "/metrics", "/sources/private.html"] {
        let body = rt.block_on(async {
            client
                .get(format!("{root}{path}"))
                .send()
                .await
                .expect("get")
                .text()
                .await
                .expect("body")
        });
        shown(path, &body);
        if path == "/healthz" {
            assert!(body.contains("HTTP 500") || body.contains("500"), "{body}");
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    while let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
        log.push_str(&line);
        log.push('\n');
    }
    shown("the log", &log);
}

/// Garbage in the middle of the store file: `/healthz` fails and says what
/// to do to keep the history, rather than "ok" with nothing served.
#[test]
fn a_damaged_store_is_not_healthy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut dump = String::from("May 21, 2022\n\n\nLatest news\n\n");
    for n in 0..400 {
        dump.push_str(&format!(
            "Story number {n} with a title long enough\n\nIts summary, which says a little more about story {n}.\n\nMina Park May 20, 2022\n\n"
        ));
    }
    std::fs::write(dir.path().join("page.txt"), dump).expect("page");
    config(
        dir.path(),
        "[server]\nrefresh_interval_secs = 0\n[[source]]\nname = \"saved\"\nkind = \"text\"\ninputs = [\"page.txt\"]\n",
    );
    let refresh = Command::new(env!("CARGO_BIN_EXE_byline"))
        .current_dir(dir.path())
        .arg("refresh")
        .output()
        .expect("refresh");
    assert!(refresh.status.success(), "{refresh:?}");
    let db = dir.path().join("byline.db");
    let mut bytes = std::fs::read(&db).expect("store");
    assert!(bytes.len() > 64 * 1024, "{} bytes", bytes.len());
    let middle = bytes.len() / 2;
    for b in &mut bytes[middle..middle + 16 * 1024] {
        *b = 0xA5;
    }
    std::fs::write(&db, &bytes).expect("damage");

    let server = serve(dir.path());
    let client = reqwest::Client::new();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut last = String::new();
    for _ in 0..50 {
        let (code, body) = rt.block_on(async {
            let r = client
                .get(format!("{}/healthz", server.root))
                .send()
                .await
                .expect("healthz");
            (r.status().as_u16(), r.text().await.unwrap_or_default())
        });
        if code == 503 && body.contains("damaged") {
            assert!(body.contains("\"status\": \"failing\""), "{body}");
            assert!(
                body.contains(".recover"),
                "says how to keep the history: {body}"
            );
            return;
        }
        last = format!("{code} {body}");
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("healthz never said the store is damaged: {last}");
}

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

/// Server CPU seconds (user + system) of process `pid`, from /proc.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    // Fields after the command name, which is in parentheses.
    let rest = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 =
        fields[11].parse::<f64>().unwrap_or(0.0) + fields[12].parse::<f64>().unwrap_or(0.0);
    ticks / 100.0
}

/// Random `?limit=`s do not each cost a render: a limit at least the feed's
/// length is the plain document, and the others are few and cached.
#[test]
fn random_limits_are_served_at_a_bounded_cost() {
    let _serial = timed();
    let dir = tempfile::tempdir().expect("tempdir");
    let dump =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/text/nknews-2021-03-04.txt");
    config(
        dir.path(),
        &format!(
            "[server]\nrefresh_interval_secs = 0\nmax_items = 1000\n\
             [[source]]\nname = \"dump\"\nkind = \"text\"\ntimezone = \"Asia/Seoul\"\ninputs = [\"{}\"]\n",
            dump.display()
        ),
    );
    let server = serve(dir.path());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let client = reqwest::Client::new();
    let run = |urls: Vec<String>| {
        let pid = server.child.id();
        let before = cpu_seconds(pid);
        rt.block_on(async {
            for url in urls {
                let r = client
                    .get(url)
                    .header("Accept-Encoding", "gzip, br")
                    .send()
                    .await
                    .expect("get");
                assert_eq!(r.status(), 200);
                r.bytes().await.expect("body");
            }
        });
        cpu_seconds(pid) - before
    };
    let n = 1500;
    let fixed = run((0..n)
        .map(|_| format!("{}/feed.atom", server.root))
        .collect());
    let mut rng = fastrand::Rng::with_seed(7);
    let random = run((0..n)
        .map(|_| format!("{}/feed.atom?limit={}", server.root, rng.usize(1..=1000)))
        .collect());
    eprintln!("server CPU: {n} fixed {fixed:.2} s, {n} random limits {random:.2} s");
    assert!(
        random < fixed * 3.0 + 0.5,
        "{n} random limits cost {random:.2} s of server CPU, {n} fixed requests {fixed:.2} s"
    );
}

/// A config serving the 2021 dump, with extra `[server]` keys.
fn dump_config(dir: &Path, server_keys: &str) {
    let dump =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/text/nknews-2021-03-04.txt");
    config(
        dir,
        &format!(
            "[server]\nrefresh_interval_secs = 0\n{server_keys}\n\
             [[source]]\nname = \"dump\"\nkind = \"text\"\ntimezone = \"Asia/Seoul\"\ninputs = [\"{}\"]\n",
            dump.display()
        ),
    );
}

/// How long a fresh client waits for `/healthz` (at most `limit`).
fn time_healthz(addr: &str, limit: Duration) -> Result<Duration, String> {
    use std::io::{Read, Write};
    let started = Instant::now();
    let mut s = std::net::TcpStream::connect(addr).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(limit)).map_err(|e| e.to_string())?;
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut head = [0u8; 12];
    s.read_exact(&mut head)
        .map_err(|e| format!("no answer: {e}"))?;
    if !head.starts_with(b"HTTP/1.1 200") {
        return Err(String::from_utf8_lossy(&head).into_owned());
    }
    Ok(started.elapsed())
}

/// Clients that pipeline requests and never read the replies are dropped
/// once a write makes no progress for `write_timeout_secs`, so they cannot
/// hold every connection.
#[test]
fn clients_that_never_read_are_dropped_and_others_are_served() {
    let _serial = timed();
    use std::io::Write;
    let dir = tempfile::tempdir().expect("tempdir");
    dump_config(
        dir.path(),
        "max_connections = 3\nwrite_timeout_secs = 2\nheader_timeout_secs = 30",
    );
    let server = serve(dir.path());
    let addr = server.root.trim_start_matches("http://").to_owned();
    let request = "GET /feed.atom HTTP/1.1\r\nHost: x\r\n\r\n".repeat(20_000);
    for _ in 0..3 {
        let mut s = std::net::TcpStream::connect(&addr).expect("connect");
        let request = request.clone();
        // Writes until the server closes the connection; never reads.
        std::thread::spawn(move || {
            let _ = s.write_all(request.as_bytes());
            std::thread::sleep(Duration::from_secs(60));
        });
    }
    std::thread::sleep(Duration::from_millis(500));
    let waited = time_healthz(&addr, Duration::from_secs(15));
    match waited {
        Ok(t) => assert!(t < Duration::from_secs(8), "answered only after {t:?}"),
        Err(e) => panic!("a well-behaved client was not served: {e}"),
    }
}

/// One address cannot take every connection: past `max_connections_per_ip`
/// its connections are closed, and another client is served at once.
#[test]
fn one_address_cannot_take_every_connection() {
    let _serial = timed();
    let dir = tempfile::tempdir().expect("tempdir");
    dump_config(
        dir.path(),
        "max_connections = 8\nmax_connections_per_ip = 4\nheader_timeout_secs = 30",
    );
    let server = serve(dir.path());
    let addr = server.root.trim_start_matches("http://").to_owned();
    let target: std::net::SocketAddr = addr.parse().expect("addr");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    // 20 idle connections from 127.0.0.2 (another loopback address).
    let mut idle: Vec<tokio::net::TcpStream> = rt.block_on(async {
        let mut v = Vec::new();
        for _ in 0..20 {
            let socket = tokio::net::TcpSocket::new_v4().expect("socket");
            socket
                .bind("127.0.0.2:0".parse().expect("bind addr"))
                .expect("bind 127.0.0.2");
            v.push(socket.connect(target).await.expect("connect"));
        }
        v
    });
    // The ones past the limit are closed: reading them ends. Poll until
    // they all are (a loaded machine may take a moment to accept them).
    let closed = rt.block_on(async {
        use tokio::io::AsyncReadExt;
        let mut closed = vec![false; idle.len()];
        let deadline = Instant::now() + Duration::from_secs(10);
        while closed.iter().filter(|c| **c).count() < 16 && Instant::now() < deadline {
            for (s, done) in idle.iter_mut().zip(closed.iter_mut()) {
                let mut b = [0u8; 1];
                if !*done
                    && let Ok(Ok(0)) =
                        tokio::time::timeout(Duration::from_millis(10), s.read(&mut b)).await
                {
                    *done = true;
                }
            }
        }
        closed.iter().filter(|c| **c).count()
    });
    assert_eq!(
        closed, 16,
        "connections past the per-address limit are closed"
    );
    // The four it admitted stay open while another client asks.
    let waited = time_healthz(&addr, Duration::from_secs(15)).expect("served");
    assert!(
        waited < Duration::from_secs(2),
        "answered only after {waited:?}"
    );
    drop(idle);
}

/// A redirect or a next page to an address no source names (loopback here,
/// through `localhost` or an address literal) is refused, while the
/// configured loopback source itself still reads.
#[test]
fn redirects_and_next_pages_to_unnamed_internal_addresses_are_refused() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let upstream = rt.block_on(TestServer::start());
    let port = upstream.port;
    let html = |body: String| Reply::Page {
        body: body.into_bytes(),
        content_type: "text/html; charset=utf-8".to_owned(),
        etag: None,
        last_modified: None,
    };
    let card = |title: &str| {
        format!(
            "<article class=\"c\"><h2><a href=\"/s/{}\">{title}</a></h2></article>",
            title.len()
        )
    };
    upstream.set(
        "/list",
        html(format!(
            "<html><body>{}<a class=\"next\" href=\"http://localhost:{port}/internal\">next</a></body></html>",
            card("A public story on the first page")
        )),
    );
    upstream.set(
        "/literal",
        html(format!(
            "<html><body>{}<a class=\"next\" href=\"http://[::ffff:127.0.0.2]:{port}/internal\">next</a></body></html>",
            card("Another public story on a first page")
        )),
    );
    upstream.set(
        "/moved",
        Reply::Status {
            code: 302,
            headers: vec![(
                "Location".into(),
                format!("http://localhost:{port}/internal"),
            )],
            body: Vec::new(),
        },
    );
    upstream.set(
        "/internal",
        html(format!(
            "<html><body>{}</body></html>",
            card("INTERNAL ADMIN PAGE")
        )),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let mut text = String::new();
    for name in ["list", "literal", "moved"] {
        text.push_str(&format!(
            "[[source]]\nname = \"{name}\"\nkind = \"html\"\ninputs = [\"{}\"]\n\
             [source.html]\nitem = \"article.c\"\ntitle = \"h2 a\"\nnext_page = \"a.next\"\nmax_pages = 3\n",
            upstream.url(&format!("/{name}"))
        ));
    }
    config(dir.path(), &text);
    let out = Command::new(env!("CARGO_BIN_EXE_byline"))
        .current_dir(dir.path())
        .arg("check")
        .env("NO_COLOR", "1")
        .output()
        .expect("check");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(!stdout.contains("INTERNAL ADMIN PAGE"), "{stdout}");
    assert_eq!(upstream.counts("/internal").requests, 0, "never fetched");
    // The configured loopback sources read their own pages.
    assert!(
        stdout.contains("A public story on the first page"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Another public story on a first page"),
        "{stdout}"
    );
    assert!(
        stdout.contains("refused: localhost resolves to 127.0.0.1, a loopback address"),
        "{stdout}"
    );
    assert!(
        stdout.contains("a loopback address, which no source names"),
        "{stdout}"
    );
    assert_eq!(stdout.matches("refused").count(), 3, "{stdout}");
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

/// Makes a file immutable (`chattr +i`: even root cannot write it) until
/// dropped.
struct Immutable(std::path::PathBuf);

impl Immutable {
    fn new(path: &Path) -> Immutable {
        let status = Command::new("chattr")
            .arg("+i")
            .arg(path)
            .status()
            .expect("chattr runs (e2fsprogs; .ci/run installs it)");
        assert!(status.success(), "chattr +i {}", path.display());
        Immutable(path.to_path_buf())
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
    }
}

/// A store that cannot be written is still served: its stories stay in
/// the feeds, and each refresh is reported as failing to store.
#[test]
fn a_read_only_store_is_served_and_refreshes_report_failing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("page.txt");
    std::fs::write(
        &page,
        "May 21, 2022\n\n\nLatest news\n\nA story kept in a read-only store\n\nIts summary here.\n\nMina Park May 20, 2022\n",
    )
    .expect("page");
    config(
        dir.path(),
        "[server]\nrefresh_interval_secs = 0\n[[source]]\nname = \"saved\"\nkind = \"text\"\ninputs = [\"page.txt\"]\n",
    );
    let refresh = Command::new(env!("CARGO_BIN_EXE_byline"))
        .current_dir(dir.path())
        .arg("refresh")
        .output()
        .expect("refresh");
    assert!(refresh.status.success(), "{refresh:?}");
    // A new version of the page, which the store cannot take.
    std::fs::write(
        &page,
        "May 22, 2022\n\n\nLatest news\n\nA newer story the store cannot take\n\nIts summary here.\n\nMina Park May 21, 2022\n",
    )
    .expect("page");
    let _frozen = Immutable::new(&dir.path().join("byline.db"));
    let server = serve(dir.path());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let client = reqwest::Client::new();
    let get = |path: &str| {
        rt.block_on(async {
            let r = client
                .get(format!("{}{path}", server.root))
                .send()
                .await
                .expect("get");
            (r.status().as_u16(), r.text().await.unwrap_or_default())
        })
    };
    let (code, feed) = get("/feed.json");
    assert_eq!(code, 200);
    assert!(feed.contains("A story kept in a read-only store"), "{feed}");
    let (_, health) = get("/healthz");
    assert!(
        health.contains("readonly") || health.contains("read-only"),
        "{health}"
    );
    assert!(health.contains("\"failed_stage\": \"store\""), "{health}");
}

/// `suggest` (and so the editor) refuses a deeply nested page in moments,
/// with the same check as the DOM engine.
#[test]
fn suggest_refuses_a_deeply_nested_page_in_moments() {
    let _serial = timed();
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("deep.html");
    std::fs::write(&page, deep_page(100_000)).expect("page");
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_byline"))
        .arg("suggest")
        .arg(&page)
        .args(["--url", "https://deep.example/"])
        .output()
        .expect("byline runs");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nests elements"), "{err}");
}
