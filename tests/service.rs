//! Running byline the way self-hosters run services: help that explains
//! the config, errors that say what to do, logs fit for journald, links
//! that follow the address served.

#[path = "support/serve.rs"]
mod support_serve;

use std::path::Path;
use std::process::{Command, Output};

fn byline(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_byline"))
        .current_dir(dir)
        .args(args)
        .env_remove("NO_COLOR")
        .env_remove("RUST_LOG")
        .output()
        .expect("byline runs")
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn every_command_explains_its_config_and_a_missing_one_says_how_to_name_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    for command in ["build", "check", "refresh", "serve", "ingest"] {
        let help = byline(dir.path(), &[command, "--help"]);
        let text = String::from_utf8_lossy(&help.stdout);
        assert!(
            text.contains("--config") && text.contains("feeds.toml in the current folder"),
            "{command} --help:\n{text}"
        );
    }
    let missing = byline(dir.path(), &["check"]);
    assert_eq!(missing.status.code(), Some(1), "a config error is 1");
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(
        err.contains("feeds.toml") && err.contains("--config PATH"),
        "{err}"
    );
    // Under --log-format json the fatal error is a JSON log line too.
    let json = byline(dir.path(), &["--log-format", "json", "check"]);
    let line = String::from_utf8_lossy(&json.stderr);
    let v: serde_json::Value = serde_json::from_str(line.trim()).expect("a JSON line");
    assert_eq!(v["level"], "ERROR", "{line}");
    assert!(
        v["fields"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("--config")),
        "{line}"
    );
}

#[test]
fn exit_codes_tell_usage_and_config_from_a_failed_source() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert_eq!(byline(dir.path(), &["--help"]).status.code(), Some(0));
    let usage = byline(dir.path(), &["check", "--no-such-flag"]);
    assert_eq!(usage.status.code(), Some(1), "usage error: {usage:?}");
    std::fs::write(dir.path().join("feeds.toml"), "[server]\nlisen = 1\n").expect("config");
    let config = byline(dir.path(), &["check"]);
    assert_eq!(config.status.code(), Some(1), "config error: {config:?}");
    assert!(String::from_utf8_lossy(&config.stderr).contains("did you mean `listen`?"));
    std::fs::write(
        dir.path().join("feeds.toml"),
        "[[source]]\nname = \"gone\"\nkind = \"text\"\ninputs = [\"missing.txt\"]\n",
    )
    .expect("config");
    for command in ["check", "refresh", "build"] {
        let failed = byline(dir.path(), &[command]);
        assert_eq!(failed.status.code(), Some(2), "{command}: {failed:?}");
    }
}

#[test]
fn logs_into_a_file_have_no_colour_and_v_stays_on_byline() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("feeds.toml"),
        format!(
            "[[source]]\nname = \"nk\"\nkind = \"html\"\n\
             inputs = [{{ file = \"{}\", url = \"https://www.nknews.org/category/news/\" }}]\n\
             [source.html]\nengine = \"dom\"\nitem = \"article.nk-card\"\ntitle = \".nk-card__title a\"\n",
            fixture("html/nknews-latest-p1.html")
        ),
    )
    .expect("config");
    let out = byline(dir.path(), &["-v", "check"]);
    assert!(out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains('\u{1b}'),
        "colour codes in a redirected log:\n{err}"
    );
    assert!(
        !err.contains("html5ever"),
        "-v shows parser internals:\n{err}"
    );
    assert!(err.contains("byline::read"), "{err}");
    // -vvv opens the libraries' debug lines too.
    let out = byline(dir.path(), &["-vvv", "check"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.lines()
            .any(|l| l.contains("DEBUG") && !l.contains(" byline")),
        "-vvv shows no library lines:\n{err}"
    );
}

#[test]
fn without_base_url_serve_links_to_where_it_listens() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("feeds.toml"),
        format!(
            "[server]\nrefresh_interval_secs = 0\n[[source]]\nname = \"dump\"\nkind = \"text\"\ninputs = [\"{}\"]\n",
            fixture("text/nknews-2021-03-04.txt")
        ),
    )
    .expect("config");
    let server = support_serve::serve(dir.path(), &[], "info");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let feed = rt.block_on(async {
        reqwest::get(format!("{}/feed.atom", server.root))
            .await
            .expect("get")
            .text()
            .await
            .expect("body")
    });
    assert!(
        feed.contains(&format!("href=\"{}/feed.atom\" rel=\"self\"", server.root)),
        "self link at {}:\n{feed}",
        server.root
    );
    assert!(!feed.contains(":8080/"), "{feed}");
}

#[test]
fn healthz_remembers_the_last_success_across_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("page.txt");
    std::fs::copy(fixture("text/nknews-2021-03-04.txt"), &page).expect("page");
    std::fs::write(
        dir.path().join("feeds.toml"),
        "[server]\nrefresh_interval_secs = 0\n[[source]]\nname = \"dump\"\nkind = \"text\"\ninputs = [\"page.txt\"]\n",
    )
    .expect("config");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let health = |root: &str| -> serde_json::Value {
        rt.block_on(async {
            let body = reqwest::get(format!("{root}/healthz"))
                .await
                .expect("get")
                .text()
                .await
                .expect("body");
            serde_json::from_str(&body).expect("JSON")
        })
    };
    let first = support_serve::serve(dir.path(), &[], "info");
    let ok_at = health(&first.root)["sources"][0]["last_ok_at"].clone();
    assert!(ok_at.is_string(), "{ok_at}");
    drop(first);
    // The page is gone: this start's read fails, the last success stays known.
    std::fs::remove_file(&page).expect("remove");
    let second = support_serve::serve(dir.path(), &[], "info");
    let h = health(&second.root);
    let source = &h["sources"][0];
    assert!(
        !source["errors"].as_array().expect("errors").is_empty(),
        "{h}"
    );
    assert!(
        source["last_ok_at"].is_string(),
        "forgot the last success: {h}"
    );
    assert_eq!(h["items"], 10, "the stored stories are served: {h}");
}

#[path = "support/http_server.rs"]
mod http_server;

/// A restart serves what the store holds at once: while the first refresh
/// waits on a slow site, feeds answer and `/healthz` says "starting".
#[test]
fn a_restart_serves_the_store_while_the_first_refresh_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("page.txt");
    std::fs::copy(fixture("text/nknews-2021-03-04.txt"), &page).expect("page");
    let write = |input: &str| {
        std::fs::write(
            dir.path().join("feeds.toml"),
            format!(
                "[server]\nrefresh_interval_secs = 8\n[[source]]\nname = \"dump\"\nkind = \"text\"\ninputs = [\"{input}\"]\n"
            ),
        )
        .expect("config")
    };
    write("page.txt");
    drop(support_serve::serve(dir.path(), &[], "info"));
    // Now the source is a site that does not answer for 8 s.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let upstream = rt.block_on(http_server::TestServer::start());
    upstream.set("/slow", http_server::Reply::Hang);
    write(&upstream.url("/slow"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_byline"))
        .current_dir(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("NO_COLOR", "1")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("serve");
    let root = support_serve::listening(&mut child);
    let started = std::time::Instant::now();
    let (health, feed) = rt.block_on(async {
        let get = |path: &str| {
            let url = format!("{root}{path}");
            async move {
                let r = reqwest::get(url).await.expect("get");
                (r.status().as_u16(), r.text().await.expect("body"))
            }
        };
        (get("/healthz").await, get("/feed.json").await)
    });
    let waited = started.elapsed();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        waited < std::time::Duration::from_secs(4),
        "answered after {waited:?}"
    );
    assert_eq!(health.0, 200, "{}", health.1);
    assert!(
        health.1.contains("\"status\": \"starting\""),
        "{}",
        health.1
    );
    assert_eq!(feed.0, 200);
    assert!(
        feed.1.contains("Seoul to spend $8 million"),
        "the stored stories are served: {}",
        feed.1
    );
}

#[test]
fn sighup_reloads_the_config_and_a_broken_one_keeps_the_old() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = |name: &str, dump: &str| {
        format!(
            "[[source]]\nname = \"{name}\"\nkind = \"text\"\ninputs = [\"{}\"]\n",
            fixture(dump)
        )
    };
    let config = dir.path().join("feeds.toml");
    let head = |title: &str| format!("title = \"{title}\"\n[server]\nrefresh_interval_secs = 0\n");
    std::fs::write(
        &config,
        head("Before reload") + &source("dump", "text/nknews-2021-03-04.txt"),
    )
    .expect("config");
    let server = support_serve::serve(dir.path(), &[], "info");
    let hangup = || {
        let sent = Command::new("kill")
            .args(["-HUP", &server.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success());
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let get = |path: &str| {
        rt.block_on(async {
            let r = reqwest::get(format!("{}{path}", server.root))
                .await
                .expect("get");
            (r.status().as_u16(), r.text().await.expect("body"))
        })
    };
    assert!(get("/").1.contains("Before reload"));
    assert_eq!(get("/sources/extra.atom").0, 404);

    // A changed config: a new title, a new source read at once.
    std::fs::write(
        &config,
        head("After reload")
            + &source("dump", "text/nknews-2021-03-04.txt")
            + &source("extra", "text/nknews-2022-05-21.txt"),
    )
    .expect("config");
    hangup();
    let index = support_serve::wait_for(&rt, &format!("{}/", server.root), |i| {
        i.contains("After reload")
    });
    assert!(index.contains("After reload"), "not republished");
    let (status, feed) = get("/sources/extra.atom");
    assert_eq!(status, 200);
    assert!(feed.contains("<entry>"), "{feed}");
    assert!(get("/feed.atom").1.contains("<title>After reload</title>"));

    // A broken config: reported with its place, the old one kept.
    std::fs::write(&config, "title = \"Broken\"\n[server]\nlisen = 1\n").expect("config");
    hangup();
    assert!(
        server.wait_log(|l| l.contains("reload refused")
            && l.contains("feeds.toml:3:1")
            && l.contains("did you mean `listen`?")),
        "no refusal in the log:\n{}",
        server.log_text()
    );
    let (status, index) = get("/");
    assert_eq!(status, 200);
    assert!(index.contains("After reload") && !index.contains("Broken"));
    assert_eq!(get("/sources/extra.atom").0, 200);
    let (status, health) = get("/healthz");
    assert_eq!(status, 200, "{health}");
}

#[test]
fn serve_on_a_busy_port_fails_at_once_before_reading_any_source() {
    let dir = tempfile::tempdir().expect("tempdir");
    // An upstream that would hang a read: byline must not even connect.
    let upstream = std::net::TcpListener::bind("127.0.0.1:0").expect("upstream");
    upstream.set_nonblocking(true).expect("nonblocking");
    std::fs::write(
        dir.path().join("feeds.toml"),
        format!(
            "[[source]]\nname = \"slow\"\nkind = \"feed\"\ninputs = [\"http://{}/feed.xml\"]\n",
            upstream.local_addr().expect("addr")
        ),
    )
    .expect("config");
    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("busy");
    let started = std::time::Instant::now();
    let out = byline(
        dir.path(),
        &[
            "serve",
            "--listen",
            &busy.local_addr().expect("addr").to_string(),
        ],
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot listen on"), "{err}");
    assert!(
        upstream.accept().is_err(),
        "byline connected to a source before binding"
    );
}
