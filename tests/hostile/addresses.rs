//! Urls that point where they should not: secrets in source urls are never
//! shown; redirects and next pages to internal addresses are refused.

use super::*;

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
