//! Replicas: three `byline serve` processes sharing one PostgreSQL store and
//! one upstream host of 50 listings. Each source is fetched once per
//! interval whichever replica does it; after every change all replicas
//! serve the same bytes; the per-host limit holds summed over replicas; and
//! a replica killed (SIGKILL) in the middle of a fetch loses nothing and
//! duplicates nothing: another replica refreshes its sources once their
//! leases expire.

#[path = "replicas/documents.rs"]
mod documents;
#[path = "support/http_server.rs"]
mod http_server;
#[path = "support/pg.rs"]
mod pg;
#[path = "support/serve.rs"]
mod serve;
#[path = "replicas/upstream.rs"]
mod upstream;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use documents::{Doc, assert_ids_unique, behind, documents, fetch_all, first_difference, titles};
use upstream::{Req, Upstream, request_table};

const SOURCES: usize = 50;
const INTERVAL: Duration = Duration::from_secs(6);
const LEASE_SECS: i64 = 3;
/// The per-host limit of the fetcher (FetchOptions::per_host).
const PER_HOST: usize = 2;
/// How many generations a listing shows; older stories only the store has.
const SHOWN: usize = 3;
const AUTHORS: [&str; 5] = [
    "Jeongmin Kim",
    "Kelly Kasulis",
    "Chad O'Carroll",
    "Colin Zwirko",
    "Anna Lee",
];

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64
}

/// Wait until every listing has been answered (not aborted) at
/// `generation`; the time the last of them was answered.
fn wait_fetched(upstream: &Upstream, generation: usize, replicas: &[serve::Serve]) -> i64 {
    let started = Instant::now();
    loop {
        let log = upstream.log();
        let mut last = 0;
        let missing: Vec<usize> = (0..SOURCES)
            .filter(|s| {
                let path = format!("/s{s}");
                match log
                    .iter()
                    .filter(|r| r.path == path && r.generation == generation && !r.aborted)
                    .find_map(|r| r.end)
                {
                    Some(end) => {
                        last = last.max(end);
                        false
                    }
                    None => true,
                }
            })
            .collect();
        if missing.is_empty() {
            return last;
        }
        if started.elapsed() > INTERVAL * 3 {
            let logs: Vec<String> = replicas.iter().map(log_tail).collect();
            panic!(
                "generation {generation}: sources {missing:?} not fetched after {:?}\n{}\n--- replica logs ---\n{}",
                started.elapsed(),
                request_table(&log),
                logs.join("\n---\n")
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Why the live replicas do not serve generation `g` alike (None: they
/// do): each source's feed must hold exactly generations 0..=g, each
/// author's feed all of its sources' stories, the whole feed the newest,
/// and every document (status, ETag, bytes) must be the same on all.
fn disagreement(
    rt: &tokio::runtime::Runtime,
    client: &reqwest::Client,
    roots: &[&str],
    g: usize,
    paths: &[String],
) -> (BTreeMap<String, Doc>, Option<String>) {
    if let Some(why) = behind(rt, client, roots, g) {
        return (BTreeMap::new(), Some(why));
    }
    let first = fetch_all(rt, client, roots[0], paths);
    let why = (|| {
        let max_items = 50;
        for (p, doc) in first.iter().filter(|(p, _)| p.ends_with(".json")) {
            let want = if p.starts_with("/authors/") {
                (SOURCES / AUTHORS.len() * (g + 1)).min(max_items)
            } else if p == "/feed.json" {
                max_items
            } else {
                continue;
            };
            let got = titles(doc).len();
            if got != want {
                return Some(format!("{}{p}: {got} items, not {want}", roots[0]));
            }
        }
        for other in &roots[1..] {
            let docs = fetch_all(rt, client, other, paths);
            for p in paths {
                let (a, b) = (&first[p], &docs[p]);
                if a.0 != 200 || a.1.is_none() {
                    return Some(format!("{}{p}: status {}, ETag {:?}", roots[0], a.0, a.1));
                }
                if a != b {
                    return Some(format!(
                        "{p} differs between {} and {other}: status {} / {}, ETag {:?} / {:?}, {}",
                        roots[0],
                        a.0,
                        b.0,
                        a.1,
                        b.1,
                        first_difference(&a.2, &b.2)
                    ));
                }
            }
        }
        None
    })();
    (first, why)
}

/// The longest a publish took on these replicas, from their logs (ms).
fn longest_publish<'a>(replicas: impl Iterator<Item = &'a serve::Serve>) -> i64 {
    longest(replicas, "published items=", "millis=")
}

/// The longest a refresh of one source (fetch, parse, store) took on these
/// replicas, from their logs (ms).
fn longest_refresh<'a>(replicas: impl Iterator<Item = &'a serve::Serve>) -> i64 {
    longest(replicas, "refreshed", " ms=")
}

/// The largest `field` value on the log lines holding `marker`.
fn longest<'a>(replicas: impl Iterator<Item = &'a serve::Serve>, marker: &str, field: &str) -> i64 {
    replicas
        .flat_map(|r| {
            r.log_text()
                .lines()
                .filter(|l| l.contains(marker))
                .filter_map(|l| {
                    l.split(field)
                        .nth(1)?
                        .split_whitespace()
                        .next()?
                        .parse::<i64>()
                        .ok()
                })
                .collect::<Vec<_>>()
        })
        .max()
        .unwrap_or(0)
}

/// The last lines of a replica's log, without the access log.
fn log_tail(r: &serve::Serve) -> String {
    let text = r.log_text();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.contains("byline::access"))
        .collect();
    format!(
        "{}:\n{}",
        r.root,
        lines[lines.len().saturating_sub(40)..].join("\n")
    )
}

/// All live replicas serve generation `g` alike (see [`disagreement`])
/// soon after the last fetch of it; no item twice in any feed. Returns the
/// documents of the first replica.
fn assert_converged(
    rt: &tokio::runtime::Runtime,
    client: &reqwest::Client,
    replicas: &[serve::Serve],
    g: usize,
    last_fetch: i64,
) -> BTreeMap<String, Doc> {
    let roots: Vec<&str> = replicas.iter().map(|r| r.root.as_str()).collect();
    let roots = &roots[..];
    let paths = documents(rt, client, roots[0]);
    let started = Instant::now();
    // How long checking takes: the agreement may have come up to two
    // rounds before it was seen.
    let mut round = Duration::ZERO;
    let docs = loop {
        let checking = Instant::now();
        let (docs, why) = disagreement(rt, client, roots, g, &paths);
        round = round.max(checking.elapsed());
        match (docs, why) {
            (docs, None) => break docs,
            (_, Some(why)) if started.elapsed() > Duration::from_secs(20) => {
                let logs: Vec<String> = replicas.iter().map(log_tail).collect();
                panic!(
                    "generation {g}: replicas do not agree after 20 s: {why}\n--- replica logs ---\n{}",
                    logs.join("\n---\n")
                )
            }
            (_, Some(_)) => std::thread::sleep(Duration::from_millis(200)),
        }
    };
    let took = now_ms() - last_fetch;
    // A change may wait for the publish under way, then takes one of its
    // own: 2 s, plus twice the longest publish (a debug build renders the
    // 223 documents in one to three seconds on two busy cores), plus the
    // time to see it.
    let publish_ms = longest_publish(replicas.iter());
    let round_ms = round.as_millis() as i64;
    let allowed = 2000 + 2 * publish_ms + 2 * (round_ms + 200);
    eprintln!(
        "generation {g}: {} documents identical on {} replicas {took} ms after the last fetch \
         (allowed {allowed} ms: the longest publish took {publish_ms} ms, a check {round_ms} ms)",
        paths.len(),
        roots.len()
    );
    assert!(
        took <= allowed,
        "generation {g}: replicas took {took} ms after the last fetch to agree, over {allowed} ms"
    );
    for p in paths.iter().filter(|p| p.ends_with(".json")) {
        assert_ids_unique(&format!("generation {g}: {p}"), &docs[p]);
    }
    docs
}

/// Poll `/healthz` of `root` until it is no longer "starting" (30 s), else
/// fail with every replica's log.
fn wait_ready(root: &str, replicas: &[serve::Serve], upstream: &Upstream) {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if serve::ready(root) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let logs: Vec<String> = replicas.iter().map(log_tail).collect();
    panic!(
        "{root} still starting after 30 s\n{}\n--- replica logs ---\n{}",
        request_table(&upstream.log()),
        logs.join("\n---\n")
    );
}

/// The pid in a lease holder `HOST-PID-RANDOM`.
fn holder_pid(holder: &str) -> u32 {
    let mut parts = holder.rsplitn(3, '-');
    let _random = parts.next();
    parts
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("lease holder {holder:?} is not HOST-PID-RANDOM"))
}

/// The first refresh, every source due at once, went to all replicas: a
/// replica claims what it can start, so the one that woke first does not
/// take every source (without that, one replica took 50 of 50 here).
fn assert_shared(replicas: &[serve::Serve]) {
    let split: Vec<usize> = replicas
        .iter()
        .map(|r| {
            r.log_text()
                .lines()
                .filter(|l| l.contains("byline::refresh: refreshed"))
                .count()
        })
        .collect();
    eprintln!("first refresh, sources per replica: {split:?}");
    assert_eq!(
        split.iter().sum::<usize>(),
        SOURCES,
        "one refresh per source"
    );
    assert!(
        split.iter().all(|&n| n >= SOURCES / 10),
        "the first refresh was not shared: {split:?} sources per replica"
    );
}

#[test]
fn replicas_share_the_refreshes_serve_the_same_bytes_and_survive_a_kill() {
    let Some(db) = pg::database("replicas") else {
        return;
    };
    let begun = Instant::now();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let upstream = rt.block_on(Upstream::start());
    // A connection per request: a kept-alive one the server closes as it is
    // reused fails the request.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut toml = format!(
        "base_url = \"http://feeds.example/\"\n\
         [store]\nurl = \"{db}\"\nlease_secs = {LEASE_SECS}\n\
         [server]\nrefresh_interval_secs = {}\n",
        INTERVAL.as_secs()
    );
    for s in 0..SOURCES {
        toml.push_str(&format!(
            "[[source]]\nname = \"s{s}\"\nkind = \"text\"\ninputs = [\"http://127.0.0.1:{}/s{s}\"]\n",
            upstream.port
        ));
    }
    let config = dir.path().join("feeds.toml");
    std::fs::write(&config, toml).expect("config");

    // Three replicas, started together on a new database, as an orchestrator
    // starts them: they migrate it one at a time and race for the first
    // claims.
    let spawn = || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_byline"))
            .current_dir(dir.path())
            .arg("serve")
            .arg("--config")
            .arg(&config)
            .args(["--listen", "127.0.0.1:0"])
            .env("NO_COLOR", "1")
            .env("RUST_LOG", "info,byline::schedule=debug")
            .env_remove("BYLINE_STORE")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("byline serve runs");
        let (root, log) = serve::listening_logged(&mut child);
        serve::Serve { child, root, log }
    };
    let mut children = vec![spawn(), spawn(), spawn()];
    for r in &children {
        wait_ready(&r.root, &children, &upstream);
    }
    eprintln!("3 replicas ready after {:?}", begun.elapsed());

    // The first refresh (generation 0), then three changes, each taken up
    // within an interval by whichever replica's turn it is.
    let mut before: Option<BTreeMap<String, Doc>> = None;
    for g in 0..=3 {
        if g > 0 {
            upstream.lock().generation = g;
        }
        let last = wait_fetched(&upstream, g, &children);
        let docs = assert_converged(&rt, &client, &children, g, last);
        if g == 0 {
            assert_shared(&children);
        }
        if let Some(before) = &before {
            for (p, doc) in before.iter().filter(|(p, _)| p.ends_with(".json")) {
                let (was, now) = (
                    titles(doc).len(),
                    docs.get(p).map_or(0, |d| titles(d).len()),
                );
                assert!(
                    now >= was,
                    "generation {g}: {p} went from {was} items to {now}"
                );
            }
        }
        before = Some(docs);
    }

    // Generation 4, with one listing answering in 4 s: its fetcher is
    // killed in the middle of it.
    let slow = "/s7";
    {
        let mut up = upstream.lock();
        up.slow = Some((slow.to_owned(), Duration::from_secs(4)));
        up.generation = 4;
    }
    let started = Instant::now();
    let slow_request = loop {
        if let Some(n) = upstream
            .log()
            .iter()
            .position(|r| r.path == slow && r.generation == 4)
        {
            break n;
        }
        assert!(
            started.elapsed() < INTERVAL * 3,
            "{slow} not asked for at generation 4\n{}",
            request_table(&upstream.log())
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut pg = ::postgres::Client::connect(&db, ::postgres::NoTls).expect("connect to the store");
    let holder: String = pg
        .query_one("SELECT holder FROM leases WHERE source = 's7'", &[])
        .expect("the lease of s7")
        .get::<_, Option<String>>(0)
        .expect("s7 is held while it is fetched");
    let pid = holder_pid(&holder);
    let victim = children
        .iter()
        .position(|r| r.child.id() == pid)
        .unwrap_or_else(|| panic!("lease holder {holder} is none of the replicas"));
    let mut killed = children.remove(victim);
    assert!(
        upstream.log()[slow_request].end.is_none(),
        "the slow fetch ended before the kill"
    );
    killed.child.kill().expect("kill -9");
    killed.child.wait().expect("reaped");
    let killed_at = now_ms();
    eprintln!("killed replica {} (pid {pid}) fetching {slow}", killed.root);
    // What it held when it died: each must be taken over once the hold
    // lapses, and not before.
    let held: BTreeMap<String, i64> = pg
        .query(
            "SELECT source, expires FROM leases WHERE holder = $1",
            &[&holder],
        )
        .expect("leases")
        .iter()
        .map(|r| (format!("/{}", r.get::<_, String>(0)), r.get::<_, i64>(1)))
        .collect();
    assert!(held.contains_key(slow), "{held:?}");

    let last = wait_fetched(&upstream, 4, &children);
    let docs = assert_converged(&rt, &client, &children, 4, last);
    for (p, doc) in before
        .iter()
        .flatten()
        .filter(|(p, _)| p.ends_with(".json"))
    {
        let (was, now) = (
            titles(doc).len(),
            docs.get(p).map_or(0, |d| titles(d).len()),
        );
        assert!(
            now >= was,
            "after the kill: {p} went from {was} items to {now}"
        );
    }
    let log = upstream.log();
    assert!(
        log[slow_request].aborted,
        "the killed fetch was answered: {:?}",
        log[slow_request]
    );
    for (path, expires) in &held {
        let next = log
            .iter()
            .find(|r| &r.path == path && r.start > killed_at)
            .unwrap_or_else(|| {
                panic!(
                    "{path} never fetched after the kill\n{}",
                    request_table(&log)
                )
            });
        assert!(
            next.start >= *expires && next.start <= expires + 3000,
            "{path}: held by the killed replica until {expires}, fetched again at {} ({} ms after)\n{}",
            next.start,
            next.start - expires,
            request_table(&log)
        );
        eprintln!(
            "{path}: taken over {} ms after its lease expired",
            next.start - expires
        );
    }

    // Once per interval: consecutive fetches of a listing are an interval
    // apart. Not less than 90 % of it: the next refresh is due the interval
    // (± 10 %) after the last one ended, and a second replica fetching in
    // the same interval would show as a shorter gap. Not much more: the
    // interval, the 0.5 s a replica waits past the due time, what the last
    // refresh took (fetch, parse, store, then up to two publishes before
    // it lets go of the source: seconds each in a debug build), and the
    // wait for a refresh slot when more of a replica's sources are due at
    // once than it refreshes at a time (the jitter spreads them: about one
    // refresh; a slot is not held through a publish). The only exception
    // is a source of the killed replica's, taken over (checked above)
    // after its lease.
    let publish_ms = longest_publish(children.iter().chain([&killed]));
    let refresh_ms = longest_refresh(children.iter().chain([&killed]));
    let interval_ms = INTERVAL.as_millis() as i64;
    let least = interval_ms * 9 / 10 - 50;
    let most = interval_ms * 11 / 10 + 500 + 2 * refresh_ms + 2 * publish_ms + 1000;
    let mut problems = Vec::new();
    for s in 0..SOURCES {
        let path = format!("/s{s}");
        let starts: Vec<&Req> = log.iter().filter(|r| r.path == path).collect();
        for pair in starts.windows(2) {
            let gap = pair[1].start - pair[0].start;
            let spans_kill = pair[0].start < killed_at && pair[1].start > killed_at;
            let taken_over = held.contains_key(&path) && spans_kill;
            // Across the kill a survivor also publishes what it took over:
            // one more publish may come before its own due refresh.
            let most = if spans_kill { most + publish_ms } else { most };
            if !taken_over && !(least..=most).contains(&gap) {
                problems.push(format!("{path}: {gap} ms between two fetches"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "not once per interval (gaps allowed: {least}..={most} ms; the longest refresh took \
         {refresh_ms} ms, a publish {publish_ms} ms):\n{}\n{}",
        problems.join("\n"),
        request_table(&log)
    );
    let per_host = upstream.lock().max_in_flight;
    assert!(
        per_host <= PER_HOST,
        "{per_host} requests at once on one host across the replicas"
    );
    assert!(
        per_host == PER_HOST,
        "the host never had {PER_HOST} requests at once: the test shows nothing ({per_host})"
    );
    eprintln!(
        "{} fetches of {SOURCES} listings, at most {per_host} at once; {:?} in all",
        log.len(),
        begun.elapsed()
    );
}
