//! The PostgreSQL test harness itself: fresh databases exist, accept
//! connections, and never share a name, even when taken from many threads.
#[path = "support/pg.rs"]
mod pg;

use std::process::Command;

/// `psql URL -c SQL` in unaligned, tuples-only mode; its stdout, trimmed.
fn psql(url: &str, sql: &str) -> String {
    let cluster = pg::cluster().expect("a database was handed out, so there is a cluster");
    let output = Command::new(&cluster.psql)
        .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
        .arg(url)
        .arg("-c")
        .arg(sql)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", cluster.psql.display()));
    assert!(
        output.status.success(),
        "psql {url} -c {sql:?} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("psql output is UTF-8")
        .trim()
        .to_string()
}

#[test]
fn fresh_database_accepts_connections() {
    let Some(url) = pg::database("harness") else {
        return;
    };
    assert_eq!(psql(&url, "select 1"), "1");
    let name = url.rsplit('/').next().expect("the url ends in a name");
    assert_eq!(psql(&url, "select current_database()"), name);
    assert_eq!(
        psql(
            &url,
            "select count(*) from pg_tables where schemaname = 'public'"
        ),
        "0",
        "a fresh database is empty"
    );
}

#[test]
fn fresh_databases_from_many_threads_are_distinct() {
    if pg::cluster().is_none() {
        let _ = pg::database("skip");
        return;
    }
    let urls: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| s.spawn(|| pg::database("Harness-Parallel!").expect("a cluster")))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a thread creating a database"))
            .collect()
    });
    let mut names = urls.clone();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), urls.len(), "duplicate databases: {urls:?}");
    for url in &urls {
        psql(url, "create table t (x int)");
        assert_eq!(psql(url, "select count(*) from t"), "0");
    }
}
