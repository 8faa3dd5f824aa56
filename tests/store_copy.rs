//! `byline store copy` round trip: the bundled site's store, refreshed into
//! SQLite, copied to PostgreSQL and back into a second SQLite file, builds
//! the same site byte for byte from all three; the fetch state moves too.

#[path = "support/pg.rs"]
mod pg;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn byline(store: &str, args: &[&str]) -> Output {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("feeds.toml");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_byline"));
    cmd.args(["--store", store]).args(args);
    if matches!(args.first(), Some(&"build" | &"refresh" | &"status")) {
        cmd.arg("--config").arg(&config);
    }
    let out = cmd.output().expect("byline runs");
    assert!(
        out.status.success(),
        "byline {args:?} on {store}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Every file of a built site, by path.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).expect("inside").to_path_buf();
                out.insert(rel, std::fs::read(&path).expect("read"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn build(store: &str, out: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    byline(
        store,
        &["build", "--out", out.to_str().expect("utf-8 path")],
    );
    files(out)
}

#[test]
fn a_store_copied_to_postgres_and_back_builds_the_same_site() {
    let Some(url) = pg::database("copy") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let first = format!("sqlite:{}", dir.path().join("first.db").display());
    let back = format!("sqlite:{}", dir.path().join("back.db").display());
    byline(&first, &["refresh"]);
    let original = build(&first, &dir.path().join("site-first"));
    assert!(
        original
            .keys()
            .filter(|p| p.extension().is_some_and(|e| e == "atom"))
            .count()
            > 10,
        "the bundled site has feeds: {:?}",
        original.keys().collect::<Vec<_>>()
    );

    let copied = byline("-", &["store", "copy", "--from", &first, "--to", &url]);
    let log = String::from_utf8_lossy(&copied.stderr);
    assert!(log.contains("store copied"), "{log}");
    byline("-", &["store", "copy", "--from", &url, "--to", &back]);

    // The same site from every copy: every feed, page and list, byte for byte.
    for (name, store) in [("postgres", url.as_str()), ("back", back.as_str())] {
        let site = build(store, &dir.path().join(format!("site-{name}")));
        assert_eq!(
            site.keys().collect::<Vec<_>>(),
            original.keys().collect::<Vec<_>>(),
            "{name}: the same files"
        );
        for (path, bytes) in &original {
            assert!(
                site[path] == *bytes,
                "{name}: {} differs:\n{}\n---\n{}",
                path.display(),
                String::from_utf8_lossy(bytes),
                String::from_utf8_lossy(&site[path])
            );
        }
        // Fetch state came along: the next refresh is conditional, and
        // `status` knows every source's last success.
        let status = byline(store, &["status", "--json"]);
        let text = String::from_utf8_lossy(&status.stdout);
        assert!(
            text.contains("last_ok_at") || text.contains("last_success"),
            "{text}"
        );
    }

    // Into a store that already has stories: refused, nothing written.
    let again = Command::new(env!("CARGO_BIN_EXE_byline"))
        .args(["store", "copy", "--from", &first, "--to", &back])
        .output()
        .expect("byline runs");
    assert!(!again.status.success());
    let e = String::from_utf8_lossy(&again.stderr);
    assert!(e.contains("already holds") && e.contains("back.db"), "{e}");
}

#[test]
fn copying_from_a_missing_file_names_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nope.db");
    let out = Command::new(env!("CARGO_BIN_EXE_byline"))
        .args(["store", "copy", "--from"])
        .arg(&missing)
        .args(["--to"])
        .arg(dir.path().join("to.db"))
        .output()
        .expect("byline runs");
    assert_eq!(out.status.code(), Some(1));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains("nope.db") && e.contains("no such store file"),
        "{e}"
    );
    assert!(!dir.path().join("to.db").exists());
}
