//! `byline record` and `byline replay`: the bundled sources recorded, replayed
//! clean; one selector changed in a copy of the config, replay names the
//! changed field of every affected item and exits non-zero. The recordings
//! under tests/recordings/ replay clean with the bundled config: a change of
//! code that alters what a bundled page gives shows here, field by field.

use std::path::Path;
use std::process::Command;

fn byline(args: &[&std::ffi::OsStr], dir: &Path) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_byline"))
        .args(args)
        .current_dir(dir)
        .env("RUST_LOG", "off")
        .output()
        .expect("byline runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_file() {
            std::fs::copy(&path, to.join(path.file_name().expect("name"))).expect("copy");
        }
    }
}

/// The bundled config's source names, in order.
fn sources(config: &Path) -> Vec<String> {
    let config = byline::config::Config::load(config).expect("bundled config");
    config.sources.iter().map(|s| s.name.clone()).collect()
}

#[test]
fn the_bundled_recordings_replay_clean() {
    let (code, out) = byline(
        &[
            "replay".as_ref(),
            "tests/recordings".as_ref(),
            "--config".as_ref(),
            "feeds.toml".as_ref(),
        ],
        root(),
    );
    assert_eq!(code, Some(0), "{out}");
    for name in sources(&root().join("feeds.toml")) {
        let line = out
            .lines()
            .find(|l| l.starts_with(&format!("{name}: ")))
            .unwrap_or_default();
        assert!(line.ends_with("no difference"), "{name} replayed: {out}");
    }
}

#[test]
fn record_replay_and_a_changed_selector_shows_field_by_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(root().join("feeds.toml"), dir.path().join("feeds.toml")).expect("copy");
    copy_dir(&root().join("examples"), &dir.path().join("examples"));
    let rec = dir.path().join("rec");
    let (code, out) = byline(
        &["record".as_ref(), "--out".as_ref(), rec.as_os_str()],
        dir.path(),
    );
    assert_eq!(code, Some(0), "{out}");
    let names = sources(&dir.path().join("feeds.toml"));
    for name in &names {
        assert!(rec.join(name).join("recording.json").is_file(), "{name}");
        assert!(rec.join(name).join("items.json").is_file(), "{name}");
    }
    let (code, out) = byline(&["replay".as_ref(), rec.as_os_str()], dir.path());
    assert_eq!(code, Some(0), "replay right after record is clean: {out}");

    // One selector changed: nknews-latest's date no longer matches.
    let config = std::fs::read_to_string(dir.path().join("feeds.toml")).expect("config");
    let edited = config.replacen(
        "published = \".byline__date\"",
        "published = \".byline__no-such-date\"",
        1,
    );
    assert_ne!(edited, config, "the bundled config has the selector");
    std::fs::write(dir.path().join("feeds.toml"), edited).expect("write");
    let (code, out) = byline(&["replay".as_ref(), rec.as_os_str()], dir.path());
    assert_eq!(code, Some(2), "a difference exits non-zero: {out}");

    // Every dated item of that source, and nothing else, shows its date gone.
    let items: serde_json::Value = serde_json::from_slice(
        &std::fs::read(rec.join("nknews-latest/items.json")).expect("items.json"),
    )
    .expect("JSON");
    let dated: Vec<&str> = items
        .as_array()
        .expect("items")
        .iter()
        .filter(|i| i["published"].is_string())
        .filter_map(|i| i["id"].as_str())
        .collect();
    assert!(!dated.is_empty());
    let lines: Vec<&str> = out.lines().filter(|l| l.starts_with("  item ")).collect();
    assert_eq!(lines.len(), dated.len(), "{out}");
    for (line, id) in lines.iter().zip(&dated) {
        assert!(
            line.contains(id) && line.contains(": published: ") && line.ends_with("-> none"),
            "{line}"
        );
    }
    assert!(
        out.contains(&format!("nknews-latest: {} difference(s)", dated.len())),
        "{out}"
    );
    for name in names.iter().filter(|n| *n != "nknews-latest") {
        assert!(out.contains(&format!("{name}: ")), "{out}");
    }
}
