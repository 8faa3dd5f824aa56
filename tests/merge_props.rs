//! Properties of the merger: it depends only on the set of copies (any input
//! order gives byte-identical feeds), and merging a merged list changes nothing.

use std::path::Path;

use byline::config::Config;
use byline::merge::{MergeOptions, merge};
use byline::model::{Item, Person, Published, Tag};
use chrono::{DateTime, NaiveDate};
use proptest::prelude::*;

const TITLES: &[&str] = &[
    "Kim’s ‘plan’",
    "Kim's 'plan'",
    "Summit & talks",
    "Trade data",
    "Outage",
];
const URLS: &[Option<&str>] = &[
    None,
    Some("https://a.example/1/"),
    Some("https://A.example/1/?utm_source=x#top"),
    Some("https://a.example/2/"),
    Some("https://b.example/3/?id=7&fbclid=z"),
];
const PEOPLE: &[&str] = &["Jeongmin Kim", "Chad O'Carroll", "Ifang Bremer"];
const TAGS: &[&str] = &["NK PRO", "Diplomacy", "COVID-19"];
const SOURCES: &[&str] = &["site", "roundup", "dump"];

fn copy() -> impl Strategy<Value = Item> {
    (
        0..TITLES.len(),
        0..URLS.len(),
        0..SOURCES.len(),
        0u32..6,
        18u32..22,
        any::<bool>(),
        proptest::collection::vec(0..PEOPLE.len(), 0..3),
        proptest::collection::vec(0..TAGS.len(), 0..3),
        proptest::option::of("[a-z ]{0,12}"),
    )
        .prop_map(|(t, u, s, pos, day, precise, people, tags, summary)| {
            let mut item = Item::new(SOURCES[s], pos, TITLES[t].into(), URLS[u].map(Into::into));
            let date = NaiveDate::from_ymd_opt(2022, 5, day).expect("valid day");
            item.published = Some(if precise {
                let text = format!("2022-05-{day:02}T{:02}:30:00+09:00", 8 + pos);
                Published::DateTime(DateTime::parse_from_rfc3339(&text).expect("valid"))
            } else {
                Published::Date(date, chrono_tz::Asia::Seoul)
            });
            item.authors = people.into_iter().map(|p| Person::new(PEOPLE[p])).collect();
            item.tags = tags.into_iter().map(|t| Tag::new(TAGS[t])).collect();
            item.summary = summary;
            item.refresh_id();
            item
        })
}

fn options() -> MergeOptions {
    let mut o = MergeOptions::default();
    o.origin_hosts
        .insert("site".into(), vec!["a.example".into()]);
    o
}

fn config() -> Config {
    let text = "[[source]]\nname = \"site\"\nkind = \"text\"\ninputs = [\"a\"]\n\
                [[source]]\nname = \"roundup\"\nkind = \"text\"\ninputs = [\"b\"]\n\
                [[source]]\nname = \"dump\"\nkind = \"text\"\ninputs = [\"c\"]\n";
    Config::parse(text, "test.toml", Path::new(".")).expect("test config")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn any_input_order_gives_identical_feeds(copies in proptest::collection::vec(copy(), 0..24), seed in any::<u64>()) {
        let mut shuffled = copies.clone();
        // A deterministic shuffle driven by the seed.
        let mut state = seed | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            shuffled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let a = merge(copies, &options());
        let b = merge(shuffled, &options());
        prop_assert_eq!(&a, &b);
        let config = config();
        let docs = |items: &[byline::model::Item]| {
            let edition = byline::views::Edition::read(&byline::views::InMemory(items), &config, 50)
                .expect("in memory");
            byline::site::documents(&edition, &config)
        };
        prop_assert_eq!(docs(&a), docs(&b));
    }

    #[test]
    fn merging_is_idempotent(copies in proptest::collection::vec(copy(), 0..24)) {
        let once = merge(copies.clone(), &options());
        prop_assert_eq!(&merge(once.clone(), &options()), &once);
        let mut doubled = copies.clone();
        doubled.extend(copies);
        prop_assert_eq!(&merge(doubled, &options()), &once);
    }

    #[test]
    fn one_item_per_story_and_no_invented_dates(copies in proptest::collection::vec(copy(), 0..24)) {
        let merged = merge(copies.clone(), &options());
        let mut ids: Vec<_> = merged.iter().map(|i| i.id.clone()).collect();
        ids.sort();
        ids.dedup();
        prop_assert_eq!(ids.len(), merged.len());
        for item in &merged {
            prop_assert!(copies.iter().any(|c| c.published == item.published));
            prop_assert!(item.url.as_deref().is_none_or(|u| !u.contains("utm_") && !u.contains('#')));
        }
        for pair in merged.windows(2) {
            prop_assert!(pair[0].day() >= pair[1].day());
        }
    }
}
