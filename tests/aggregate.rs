//! Aggregation over the fixtures: NK News pages merged with two feeds, one
//! story linked with tracking parameters, and a malformed feed beside them.

mod common;

use std::path::Path;
use std::process::Command;

use byline::config::Config;
use byline::model::Item;
use byline::views::ViewKey;

fn config() -> Config {
    Config::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/aggregate.toml"))
        .expect("config")
}

const BIDEN: &str =
    "North Korea high on agenda as Biden arrives in South Korea for summit with Yoon";

#[test]
fn fixtures_merge_into_the_expected_distinct_items() {
    let config = config();
    let dir = tempfile::tempdir().expect("tempdir");
    let (_store, edition) = common::edition(&config, dir.path());
    let items = common::stream(&edition);
    // p1 + p2: 10 stories (one on both pages); 2021 page + author archive: 10
    // (the archive's 4 are all on the page); the RSS roundup: 5, one of them an
    // NK News story; the Atom feed: 4.
    assert_eq!(
        items.len(),
        10 + 10 + 4 + 4,
        "{:#?}",
        items.iter().map(|i| &i.title).collect::<Vec<_>>()
    );

    let biden: Vec<&Item> = items.iter().filter(|i| i.title == BIDEN).collect();
    assert_eq!(biden.len(), 1, "the roundup's link is the same story");
    let story = biden[0];
    assert_eq!(
        story.url.as_deref(),
        Some(
            "https://www.nknews.org/2022/05/north-korea-high-on-agenda-as-biden-arrives-in-south-korea-for-summit-with-yoon/"
        ),
        "tracking parameters dropped"
    );
    let authors: Vec<&str> = story.authors.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        authors,
        ["Ifang Bremer", "Jeongmin Kim"],
        "the origin site's byline, not the roundup editor's"
    );
    assert_eq!(story.source, "nknews");
    assert_eq!(story.also_in, ["monitor"]);
    let tags: Vec<&str> = story.tags.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(tags, ["Link roundup", "Diplomacy"], "tags unioned");

    // In every feed the story appears once.
    for view in common::views(&edition) {
        let n = view.items.iter().filter(|i| i.title == BIDEN).count();
        assert!(n <= 1, "{:?} lists the story {n} times", view.key);
    }
    let monitor = common::views(&edition)
        .into_iter()
        .find(|v| v.key == ViewKey::Source("monitor".into()))
        .expect("monitor feed");
    assert_eq!(
        monitor.items.len(),
        5,
        "the roundup's feed still lists what it carried"
    );
    // The editor of the roundup is not credited with the NK News story.
    let reyes = items
        .iter()
        .filter(|i| i.authors.iter().any(|a| a.slug == "daniel-reyes"))
        .count();
    assert_eq!(reyes, 2);
}

#[test]
fn a_malformed_feed_is_an_error_naming_its_source_and_the_others_publish() {
    let config = config();
    let reads = common::reads(&config);
    let broken = reads
        .iter()
        .find(|r| r.source == "broken")
        .expect("broken read");
    assert!(broken.items.is_empty());
    let errors: Vec<String> = broken.errors().map(ToString::to_string).collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        broken.errors().next().map(|e| e.stage),
        Some(byline::read::Stage::Parse)
    );
    let e = &errors[0];
    assert!(
        e.contains("\"broken\"") && e.contains("broken-entity.rss"),
        "{e}"
    );
    for r in reads.iter().filter(|r| r.source != "broken") {
        assert!(
            !r.failed() && !r.items.is_empty(),
            "{}: {:?}",
            r.source,
            r.pages
        );
    }

    // The binary writes every other source's feeds and says which failed.
    let out = tempfile::tempdir().expect("tempdir");
    let result = Command::new(env!("CARGO_BIN_EXE_byline"))
        .arg("--store")
        .arg(out.path().join("byline.db"))
        .args(["build", "--config"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/aggregate.toml"))
        .arg("--out")
        .arg(out.path())
        .output()
        .expect("byline runs");
    assert_eq!(result.status.code(), Some(2), "partial failure exit code");
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(stderr.contains("broken-entity.rss"), "{stderr}");
    for name in ["nknews", "monitor", "tracker"] {
        let feed = std::fs::read_to_string(out.path().join(format!("sources/{name}.atom")))
            .expect("feed written");
        assert!(feed.contains("<entry>"), "{name}");
    }
}
