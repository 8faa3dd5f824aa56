//! TLS to PostgreSQL. The throwaway cluster (`support/pg.rs`) serves TLS
//! with a certificate of its own test CA for `localhost` and 127.0.0.1;
//! each test opens the store with one `sslmode` and asks the server, from
//! `pg_stat_ssl`, whether byline's sessions are encrypted.

#[path = "support/http_server.rs"]
mod http_server;
#[path = "support/pg.rs"]
mod pg;
#[path = "support/serve.rs"]
mod serve;

use std::io::Write;
use std::process::{Command, Stdio};

use byline::store::{Location, Store};
use http_server::{Reply, Story, TestServer, dump};

/// The cluster and a fresh database on it, or `None` where PostgreSQL is
/// missing outside CI (said once on stderr).
fn database(prefix: &str) -> Option<(&'static pg::Cluster, String)> {
    let db = pg::database(prefix)?;
    let cluster = pg::cluster()?;
    if cluster.ca.is_none() {
        let why = "the TLS tests need the cluster they start themselves, whose CA they know; \
                   BYLINE_TEST_PG_URL names another";
        assert!(std::env::var_os("CI").is_none(), "{why}");
        let _ = writeln!(std::io::stderr(), "SKIPPED: {why}");
        return None;
    }
    Some((cluster, db))
}

fn ca(cluster: &pg::Cluster) -> String {
    cluster.ca.as_ref().expect("a CA").display().to_string()
}

fn other_ca(cluster: &pg::Cluster) -> String {
    cluster
        .other_ca
        .as_ref()
        .expect("a CA")
        .display()
        .to_string()
}

/// Run `sql` on database `name` as the cluster's superuser, over a plain
/// socket; its output.
fn psql(cluster: &pg::Cluster, name: &str, sql: &str) -> String {
    let out = Command::new(&cluster.psql)
        .args(["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-F", " ", "-d"])
        .arg(format!("{}/{name}?sslmode=disable", cluster.url_base))
        .arg("-c")
        .arg(sql)
        .stdin(Stdio::null())
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// For each session on `db` whose application name starts with `app`:
/// its name and whether it is encrypted, as the server sees it.
fn sessions(cluster: &pg::Cluster, db: &str, app: &str) -> Vec<(String, bool)> {
    let name = db.rsplit('/').next().expect("a database name");
    psql(
        cluster,
        "postgres",
        &format!(
            "SELECT a.application_name, s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s \
             USING (pid) WHERE a.datname = '{name}' AND a.application_name LIKE '{app}%' ORDER BY 1"
        ),
    )
    .lines()
    .filter_map(|l| l.rsplit_once(' '))
    .map(|(app, ssl)| (app.to_owned(), ssl == "t"))
    .collect()
}

/// The store's sessions on `db` (it holds more than one): some, and all
/// encrypted.
fn assert_encrypted(cluster: &pg::Cluster, db: &str) {
    let seen = sessions(cluster, db, "byline");
    assert!(
        !seen.is_empty() && seen.iter().all(|(_, ssl)| *ssl),
        "{seen:?}"
    );
}

/// Put `rules` before the cluster's pg_hba.conf rules, and reload it.
/// Tests of one process share the cluster: each gives rules for a role
/// of its own.
fn allow_first(cluster: &pg::Cluster, rules: &str) {
    static HBA: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = HBA.lock().unwrap_or_else(|e| e.into_inner());
    let hba = cluster
        .dir
        .as_ref()
        .expect("a cluster of this process")
        .join("data/pg_hba.conf");
    let old = std::fs::read_to_string(&hba).expect("pg_hba.conf");
    std::fs::write(&hba, format!("{rules}{old}")).expect("write pg_hba.conf");
    psql(cluster, "postgres", "SELECT pg_reload_conf()");
}

/// The store at `url`, once the server has reloaded its rules (in a
/// moment, not at once).
fn eventually(url: &str) -> Store {
    let started = std::time::Instant::now();
    loop {
        match open(url.to_owned()) {
            Ok(store) => return store,
            Err(_) if started.elapsed() < std::time::Duration::from_secs(10) => {
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            Err(e) => panic!("{e}"),
        }
    }
}

fn open(url: String) -> Result<Store, String> {
    Store::connect(&Location::Postgres(url)).map_err(|e| e.to_string())
}

/// The error of opening `url`, which must fail (`what` says why it should).
fn refused(url: String, what: &str) -> String {
    match open(url) {
        Ok(_) => panic!("{what}"),
        Err(e) => e,
    }
}

#[test]
fn verify_full_with_the_servers_ca_is_encrypted() {
    let Some((cluster, db)) = database("tls_full") else {
        return;
    };
    let store = open(format!(
        "{db}?sslmode=verify-full&sslrootcert={}",
        ca(cluster)
    ))
    .unwrap();
    assert_encrypted(cluster, &db);
    drop(store);
}

#[test]
fn the_default_prefers_tls_and_disable_is_plain() {
    let Some((cluster, db)) = database("tls_default") else {
        return;
    };
    let store = open(db.clone()).unwrap();
    assert_encrypted(cluster, &db);
    drop(store);
    let store = open(format!("{db}?sslmode=disable")).unwrap();
    // The first session may still be closing; the new one is plain.
    let plain = sessions(cluster, &db, "byline");
    assert!(plain.contains(&("byline".into(), false)), "{plain:?}");
    drop(store);
}

#[test]
fn a_certificate_signed_by_another_ca_is_refused_with_what_to_check() {
    let Some((cluster, db)) = database("tls_other") else {
        return;
    };
    for mode in ["verify-full", "verify-ca", "require"] {
        let e = refused(
            format!("{db}?sslmode={mode}&sslrootcert={}", other_ca(cluster)),
            &format!("{mode} with another CA connected"),
        );
        let host = cluster.url_base.rsplit('@').next().expect("host:port");
        assert!(e.contains(host), "{mode}: {e}");
        assert!(e.contains("UnknownIssuer"), "{mode}: {e}");
        assert!(e.contains("sslrootcert"), "{mode}: {e}");
    }
}

#[test]
fn verify_ca_takes_a_certificate_for_another_name_and_verify_full_does_not() {
    let Some((cluster, db)) = database("tls_name") else {
        return;
    };
    // Connect to 127.0.0.1 while naming a host the certificate is not for.
    let renamed = format!(
        "{}?hostaddr=127.0.0.1&sslrootcert={}",
        db.replace("@127.0.0.1:", "@db.invalid:"),
        ca(cluster)
    );
    let e = refused(
        format!("{renamed}&sslmode=verify-full"),
        "verify-full took a certificate for another host",
    );
    assert!(e.contains("not valid for name \"db.invalid\""), "{e}");
    let store = open(format!("{renamed}&sslmode=verify-ca")).unwrap();
    assert_encrypted(cluster, &db);
    drop(store);
}

#[test]
fn a_password_over_tls_is_checked_with_channel_binding() {
    let Some((cluster, db)) = database("tls_scram") else {
        return;
    };
    let name = db.rsplit('/').next().expect("a database name");
    psql(
        cluster,
        name,
        &format!(
            "SET password_encryption = 'scram-sha-256'; \
             CREATE ROLE byline_scram LOGIN PASSWORD 's3cret'; \
             GRANT ALL ON DATABASE \"{name}\" TO byline_scram; \
             GRANT ALL ON SCHEMA public TO byline_scram"
        ),
    );
    // Only this role, only over TLS, and with a password (the cluster
    // trusts everyone else).
    allow_first(
        cluster,
        "hostssl all byline_scram 127.0.0.1/32 scram-sha-256\n\
         host all byline_scram 127.0.0.1/32 reject\n",
    );
    let url = |password: &str, mode: &str| {
        format!(
            "{}?sslmode={mode}&sslrootcert={}&channel_binding=require",
            db.replace("postgres@", &format!("byline_scram:{password}@")),
            ca(cluster)
        )
    };
    let store = eventually(&url("s3cret", "verify-full"));
    assert_encrypted(cluster, &db);
    drop(store);
    let e = refused(url("wrong", "verify-full"), "a wrong password was taken");
    assert!(e.contains("password authentication failed"), "{e}");
    assert!(!e.contains("wrong"), "the password is named: {e}");
    // Without TLS the rules refuse the role before any password.
    let e = refused(url("s3cret", "disable"), "the role connected without TLS");
    assert!(e.contains("byline_scram"), "{e}");
}

#[test]
fn a_client_certificate_logs_in_where_the_server_asks_for_one() {
    let Some((cluster, db)) = database("tls_cert") else {
        return;
    };
    let name = db.rsplit('/').next().expect("a database name");
    let user = pg::CERT_USER;
    psql(
        cluster,
        name,
        &format!(
            "CREATE ROLE {user} LOGIN; GRANT ALL ON DATABASE \"{name}\" TO {user}; \
             GRANT ALL ON SCHEMA public TO {user}"
        ),
    );
    // This role logs in by certificate only (the cluster trusts the rest).
    allow_first(
        cluster,
        &format!(
            "hostssl all {user} 127.0.0.1/32 cert\n\
             host all {user} 127.0.0.1/32 reject\n"
        ),
    );
    let (cert, key) = cluster.client_cert.as_ref().expect("a client certificate");
    let base = format!(
        "{}?sslmode=verify-full&sslrootcert={}",
        db.replace("postgres@", &format!("{user}@")),
        ca(cluster)
    );
    let url = format!("{base}&sslcert={}&sslkey={}", cert.display(), key.display());
    let store = eventually(&url);
    assert_encrypted(cluster, &db);
    drop(store);
    let e = refused(base, "the role logged in without its certificate");
    assert!(e.contains(user) && e.contains("certificate"), "{e}");
}

#[test]
fn a_wrong_sslmode_or_an_unreadable_root_file_is_named_before_connecting() {
    // No server needed: both are refused before any connection.
    let e = refused(
        "postgres://byline@127.0.0.1:1/byline?sslmode=verify".into(),
        "a bad sslmode",
    );
    assert!(e.contains("sslmode") && e.contains("verify-full"), "{e}");
    assert!(e.contains("127.0.0.1:1"), "{e}");
    let e = refused(
        "postgres://byline@127.0.0.1:1/byline?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem"
            .into(),
        "a missing CA file",
    );
    assert!(e.contains("/nonexistent/ca.pem"), "{e}");
    let e = refused(
        "postgres://byline@127.0.0.1:1/byline?sslmode=verify-full".into(),
        "verify-full without a CA",
    );
    assert!(e.contains("sslrootcert"), "{e}");
}

#[test]
fn serve_encrypts_every_session_the_store_the_listener_and_the_host_slots() {
    let Some((cluster, db)) = database("tls_serve") else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let upstream = rt.block_on(TestServer::start());
    let story = Story::new(
        "Talks resume",
        "Delegations met on Monday.",
        "Mina Park",
        "May 20, 2022",
    );
    upstream.set("/latest", Reply::text(dump("May 21, 2022", &[story])));
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("feeds.toml");
    std::fs::write(
        &config,
        format!(
            "base_url = \"http://feeds.example/\"\n\
             [store]\nurl = \"{db}?sslmode=verify-full&sslrootcert={}\"\n\
             [[source]]\nname = \"wire\"\nkind = \"text\"\ninputs = [\"{}\"]\n",
            ca(cluster),
            upstream.url("/latest")
        ),
    )
    .expect("config");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_byline"));
    cmd.current_dir(dir.path())
        .arg("serve")
        .arg("--config")
        .arg(&config)
        .args(["--listen", "127.0.0.1:0"])
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "info")
        .env_remove("BYLINE_STORE");
    let server = serve::start(cmd);
    let feed = serve::get(&rt, &format!("{}/feed.json", server.root));
    assert!(
        feed.contains("Talks resume"),
        "{feed}\n{}",
        server.log_text()
    );
    let seen = sessions(cluster, &db, "byline");
    for app in ["byline", "byline listener", "byline replica"] {
        assert!(
            seen.iter().any(|(a, _)| a == app),
            "no {app:?} session in {seen:?}\n{}",
            server.log_text()
        );
    }
    assert!(seen.iter().all(|(_, ssl)| *ssl), "{seen:?}");
}
