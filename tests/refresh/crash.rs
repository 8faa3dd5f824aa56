//! A refresh killed with SIGKILL in the middle leaves a clean store.

use super::*;

/// Kill `byline refresh` with SIGKILL half-way through many slow sources:
/// the store opens cleanly, every source has all of its listing or none,
/// nothing is duplicated, and a second run completes it without touching
/// what was committed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_a_refresh_leaves_a_clean_store() {
    const SOURCES: usize = 60;
    const ITEMS: usize = 50;
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut toml = String::from(
        "user_agent = \"byline-test/1 (+mailto:test@example.org)\"\n[store]\npath = \"s.db\"\n",
    );
    for n in 0..SOURCES {
        let body = dump("May 20, 2022", &stories(&format!("s{n}"), ITEMS));
        server.set(
            &format!("/s{n}"),
            Reply::Delayed(Duration::from_millis(150), Box::new(Reply::text(body))),
        );
        toml.push_str(&format!(
            "[[source]]\nname = \"s{n}\"\nkind = \"text\"\ninputs = [\"{}\"]\n",
            server.url(&format!("/s{n}"))
        ));
    }
    let config_path = dir.path().join("feeds.toml");
    std::fs::write(&config_path, &toml).unwrap();
    let config_path = config_path.clone();
    let db = dir.path().join("s.db");
    let byline = env!("CARGO_BIN_EXE_byline");
    let refresh = move || {
        std::process::Command::new(byline)
            .args(["refresh", "--config"])
            .arg(&config_path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn byline refresh")
    };

    let mut child = refresh();
    let count = |sql: &str| -> i64 {
        // 0 while the store or its tables do not exist yet.
        rusqlite::Connection::open(&db)
            .and_then(|c| c.query_row(sql, [], |r| r.get(0)))
            .unwrap_or_default()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while count("SELECT count(*) FROM items") < (5 * ITEMS) as i64 {
        assert!(Instant::now() < deadline, "the refresh never got going");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");

    let store = Store::open(&db).expect("the store opens cleanly after SIGKILL");
    let check: String = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let total = store.item_count(None).unwrap();
    assert!(
        total < SOURCES * ITEMS,
        "killed too late to test anything ({total} items)"
    );
    assert_eq!(count("SELECT count(DISTINCT id) FROM items"), total as i64);
    let mut committed = Vec::new();
    for n in 0..SOURCES {
        let name = format!("s{n}");
        let stored = store
            .stored(byline::store::Selection::Source(&name), 1000)
            .unwrap();
        assert!(
            stored.is_empty() || stored.len() == ITEMS,
            "{name}: {} items, a torn listing",
            stored.len()
        );
        if !stored.is_empty() {
            committed.push((name, stored));
        }
    }
    assert!(!committed.is_empty());

    // Run again, fast, to the end.
    for n in 0..SOURCES {
        let body = dump("May 20, 2022", &stories(&format!("s{n}"), ITEMS));
        server.set(&format!("/s{n}"), Reply::text(body));
    }
    let mut second = refresh();
    let status = tokio::task::spawn_blocking(move || second.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "{status:?}");
    assert_eq!(store.item_count(None).unwrap(), SOURCES * ITEMS);
    for (name, before) in committed {
        let after = store
            .stored(byline::store::Selection::Source(&name), 1000)
            .unwrap();
        assert_eq!(after.len(), ITEMS);
        for (a, b) in after.iter().zip(&before) {
            assert_eq!(
                (&a.item, a.first_seen),
                (&b.item, b.first_seen),
                "{name}: committed items are intact"
            );
        }
    }
    assert_eq!(
        server.counts("/s0").user_agent.as_deref(),
        Some("byline-test/1 (+mailto:test@example.org)")
    );
}
