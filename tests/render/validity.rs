//! What a strict reader checks: Atom against the RFC 4287 schema (jing), and
//! dates that come from the items, never from the clock.

use super::*;

/// Run jing on `files`; without jing the check is skipped and said so on
/// stderr, and under CI the test fails (`support/tools.rs`).
fn jing(files: &[&Path]) {
    if !tools::require("jing", "jing") {
        return;
    }
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/atom.rnc");
    let output = Command::new("jing")
        .arg("-c")
        .arg(&schema)
        .args(files)
        .output()
        .unwrap_or_else(|e| panic!("running jing: {e}"));
    assert!(
        output.status.success(),
        "jing rejected the Atom output:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn atom_validates_against_rfc_4287_schema() {
    let items = items();
    let site = site();
    let dir = tempfile::tempdir().unwrap();
    let no_items: Vec<Item> = Vec::new();
    let views = [
        ("all.atom", all_view(&items)),
        (
            "author.atom",
            View::select(
                ViewKey::Author("jeongmin-kim".into()),
                "Jeongmin Kim".into(),
                &items,
                usize::MAX,
            ),
        ),
        ("empty.atom", all_view(&no_items)),
    ];
    let mut paths = Vec::new();
    for (name, view) in &views {
        let path = dir.path().join(name);
        std::fs::write(&path, atom::render(view, &site)).unwrap();
        paths.push(path);
    }
    jing(&paths.iter().map(|p| p.as_path()).collect::<Vec<_>>());
}

#[test]
fn empty_feed_is_dated_at_the_epoch_not_now() {
    let items: Vec<Item> = Vec::new();
    let view = all_view(&items);
    let text = atom::render(&view, &site());
    dump("empty.atom", &text);
    let feed = parse(&text);
    assert_eq!(feed.updated, Some(DateTime::UNIX_EPOCH));
    assert!(feed.entries.is_empty());
}

#[test]
fn rendering_is_deterministic_and_dated_by_items() {
    let first = items();
    let second = items();
    let site = site();
    let (a, b) = (all_view(&first), all_view(&second));
    for format in Format::ALL {
        let text = format.render(&a, &site);
        assert!(!text.is_empty());
        assert_eq!(text, format.render(&a, &site), "{format:?} twice");
        assert_eq!(text, format.render(&b, &site), "{format:?} equal items");
    }
    assert_eq!(html::page(&a, &site), html::page(&b, &site));
    assert_eq!(
        html::index(std::slice::from_ref(&a), &site),
        html::index(&[b], &site)
    );
    assert_eq!(
        opml::render(std::slice::from_ref(&a), &site),
        opml::render(std::slice::from_ref(&a), &site)
    );

    // Dropping the item with the newest time moves `updated` back to the
    // next newest: a's publication.
    let without_b: Vec<Item> = first
        .iter()
        .filter(|i| i.source != "nknews" || i.position == 0)
        .cloned()
        .collect();
    let view = all_view(&without_b);
    let atom = parse(&atom::render(&view, &site));
    assert_eq!(atom.updated, Some(utc(at("2022-05-21T11:43:21+09:00"))));
    let rss = parse(&rss::render(&view, &site));
    assert_eq!(rss.updated, atom.updated);
}

#[test]
fn undated_item_takes_the_feed_time_in_atom_and_no_date_elsewhere() {
    let mut items = items();
    items[3].published = None;
    let view = all_view(&items);
    let site = site();
    let atom_text = atom::render(&view, &site);
    dump("undated.atom", &atom_text);
    let atom = parse(&atom_text);
    assert_eq!(atom.entries[3].published, None);
    assert_eq!(atom.entries[3].updated, atom.updated);
    let rss_text = rss::render(&view, &site);
    dump("undated.rss", &rss_text);
    let rss = parse(&rss_text);
    assert_eq!(rss.entries[3].published, None);
    let json = parse(&json::render(&view, &site));
    assert_eq!(json.entries[3].published, None);
}
