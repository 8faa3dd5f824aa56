//! Store behaviours every engine must keep: ids kept, edits in place,
//! roll-off kept, listing order, first-seen times, copies from other
//! sources, retention, indexed feed order, fetch state.

use byline::model::{Item, Person, Published, Tag};
use byline::store::Selection;
use byline::store::{FetchRecord, UpsertStats};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use super::Fixture;

const SEOUL: Tz = chrono_tz::Asia::Seoul;

pub fn day(d: &str) -> NaiveDate {
    NaiveDate::parse_from_str(d, "%Y-%m-%d").expect("test date")
}

pub fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("test time").to_utc()
}

/// A dated story with a url (so its id does not depend on its title).
pub fn story(slug: &str, title: &str, date: &str, authors: &[&str], position: u32) -> Item {
    let mut item = Item::new(
        "nk",
        position,
        title.to_owned(),
        Some(format!("https://news.example/{slug}/")),
    );
    item.published = Some(Published::Date(day(date), SEOUL));
    item.authors = authors.iter().map(|a| Person::new(a)).collect();
    item.refresh_id();
    item
}

pub fn titles(items: &[Item]) -> Vec<&str> {
    items.iter().map(|i| i.title.as_str()).collect()
}

pub fn the_same_item_again_is_not_duplicated_keeps_its_id_and_moves_last_seen(f: &Fixture) {
    let store = f.open();
    let listing = vec![
        story("a", "A", "2022-05-20", &["Jeongmin Kim"], 0),
        story("b", "B", "2022-05-20", &["Kelly Kasulis"], 1),
    ];
    let first = t("2022-05-20T03:00:00Z");
    let second = t("2022-05-20T04:00:00Z");
    let stats = store.upsert_items("nk", &listing, first).unwrap();
    assert_eq!(
        stats,
        UpsertStats {
            new: 2,
            updated: 0,
            unchanged: 0
        }
    );
    let stats = store.upsert_items("nk", &listing, second).unwrap();
    assert_eq!(
        stats,
        UpsertStats {
            new: 0,
            updated: 0,
            unchanged: 2
        }
    );
    assert_eq!(store.item_count(None).unwrap(), 2);

    let stored = store.stored(Selection::All, 10).unwrap();
    assert_eq!(stored.len(), 2);
    for (s, want) in stored.iter().zip(&listing) {
        assert_eq!(s.item.id, want.id);
        assert_eq!(s.first_seen, first);
        assert_eq!(s.last_seen, second);
        // Unchanged content: no `updated`.
        assert_eq!(s.item.updated, None);
    }

    // Two copies of one id in one listing are one item.
    let twice = vec![listing[0].clone(), listing[0].clone()];
    let stats = store.upsert_items("nk", &twice, second).unwrap();
    assert_eq!(stats.new + stats.updated + stats.unchanged, 1);
    assert_eq!(store.item_count(None).unwrap(), 2);
}

pub fn an_edited_title_or_summary_is_updated_in_place_with_a_new_updated_time(f: &Fixture) {
    let store = f.open();
    let original = story("a", "Talks stall", "2022-05-20", &["Jeongmin Kim"], 0);
    let first = t("2022-05-20T03:00:00Z");
    store
        .upsert_items("nk", std::slice::from_ref(&original), first)
        .unwrap();

    let mut edited = original.clone();
    edited.title = "Talks stall as envoy leaves".to_owned();
    edited.summary = Some("A new paragraph".to_owned());
    let later = t("2022-05-20T09:30:00Z");
    let stats = store.upsert_items("nk", &[edited.clone()], later).unwrap();
    assert_eq!(
        stats,
        UpsertStats {
            new: 0,
            updated: 1,
            unchanged: 0
        }
    );

    let stored = store.stored(Selection::All, 10).unwrap();
    assert_eq!(stored.len(), 1);
    let s = &stored[0];
    assert_eq!(s.item.id, original.id);
    assert_eq!(s.item.title, "Talks stall as envoy leaves");
    assert_eq!(s.item.summary.as_deref(), Some("A new paragraph"));
    assert_eq!(s.item.updated, Some(later.fixed_offset()));
    assert_eq!(s.first_seen, first);
    // The author index still finds it, with the new content.
    assert_eq!(
        titles(&store.items(Selection::Author("jeongmin-kim"), 5).unwrap()),
        ["Talks stall as envoy leaves"]
    );

    // Seeing the edited copy again is no further edit.
    let stats = store
        .upsert_items("nk", &[edited], t("2022-05-20T10:00:00Z"))
        .unwrap();
    assert_eq!(stats.unchanged, 1);
    assert_eq!(
        store.stored(Selection::All, 1).unwrap()[0].item.updated,
        Some(later.fixed_offset())
    );
}

pub fn items_that_roll_off_the_listing_stay_after_those_still_on_it(f: &Fixture) {
    let store = f.open();
    let a = |p| story("a", "A", "2022-05-20", &["X Y"], p);
    let b = |p| story("b", "B", "2022-05-20", &["X Y"], p);
    let c = |p| story("c", "C", "2022-05-20", &["X Y"], p);
    let d = |p| story("d", "D", "2022-05-20", &["X Y"], p);
    let old = story("o", "Old", "2022-05-19", &["X Y"], 3);
    store
        .upsert_items("nk", &[a(0), b(1), c(2), old], t("2022-05-20T01:00:00Z"))
        .unwrap();
    // D is published on top; Old and then C roll off the bottom.
    store
        .upsert_items("nk", &[d(0), a(1), b(2), c(3)], t("2022-05-20T02:00:00Z"))
        .unwrap();
    let stats = store
        .upsert_items("nk", &[d(0), a(1), b(2)], t("2022-05-20T03:00:00Z"))
        .unwrap();
    assert_eq!(
        stats,
        UpsertStats {
            new: 0,
            updated: 0,
            unchanged: 3
        }
    );
    // C sits at position 2 of an older listing, B at 2 of the newest: C after B.
    assert_eq!(
        titles(&store.items_all(10).unwrap()),
        ["D", "A", "B", "C", "Old"]
    );
    assert_eq!(
        titles(&store.items(Selection::Author("x-y"), 10).unwrap()),
        ["D", "A", "B", "C", "Old"]
    );
    assert_eq!(
        titles(&store.items(Selection::Source("nk"), 2).unwrap()),
        ["D", "A"]
    );
}

pub fn a_story_inserted_below_stored_ones_or_a_reordered_listing_shows_the_new_order(f: &Fixture) {
    let store = f.open();
    let s = |slug: &str, p| story(slug, &slug.to_uppercase(), "2022-05-20", &["X Y"], p);
    let seen = |h: u32| t("2022-05-20T00:00:00Z") + Duration::hours(i64::from(h));
    store
        .upsert_items("nk", &[s("a", 0), s("b", 1), s("c", 2)], seen(1))
        .unwrap();
    // X appears between A and B.
    store
        .upsert_items("nk", &[s("a", 0), s("x", 1), s("b", 2), s("c", 3)], seen(2))
        .unwrap();
    assert_eq!(titles(&store.items_all(10).unwrap()), ["A", "X", "B", "C"]);
    // B moves to the top; C rolls off.
    store
        .upsert_items("nk", &[s("b", 0), s("a", 1), s("x", 2)], seen(3))
        .unwrap();
    assert_eq!(titles(&store.items_all(10).unwrap()), ["B", "A", "X", "C"]);
    assert_eq!(
        titles(&store.items(Selection::Author("x-y"), 10).unwrap()),
        ["B", "A", "X", "C"]
    );
    // New stories on top of an unchanged order.
    store
        .upsert_items(
            "nk",
            &[s("n", 0), s("m", 1), s("b", 2), s("a", 3), s("x", 4)],
            seen(4),
        )
        .unwrap();
    assert_eq!(
        titles(&store.items_all(10).unwrap()),
        ["N", "M", "B", "A", "X", "C"]
    );
    // Retention keeps the whole latest listing and trims what rolled off.
    assert_eq!(
        store.apply_retention("nk", Some(1), None, seen(5)).unwrap(),
        1
    );
    assert_eq!(
        titles(&store.items_all(10).unwrap()),
        ["N", "M", "B", "A", "X"]
    );
}

pub fn date_only_items_keep_the_time_they_were_first_seen_on_their_day(f: &Fixture) {
    let store = f.open();
    let today = story("t", "Today", "2022-05-20", &[], 0);
    let older = story("o", "Older", "2022-05-18", &[], 1);
    let mut timed = story("x", "Timed", "2022-05-20", &[], 2);
    let exact = chrono::FixedOffset::east_opt(9 * 3600)
        .unwrap()
        .with_ymd_and_hms(2022, 5, 20, 8, 15, 0)
        .unwrap();
    timed.published = Some(Published::DateTime(exact));
    let mut undated = story("u", "Undated", "2022-05-20", &[], 3);
    undated.published = None;
    // 03:00 UTC is noon in Seoul on the 20th.
    let seen = t("2022-05-20T03:00:00Z");
    store
        .upsert_items("nk", &[today, older, timed, undated], seen)
        .unwrap();
    // Seen again hours later: nothing moves.
    store
        .upsert_items(
            "nk",
            &[story("t", "Today", "2022-05-20", &[], 0)],
            t("2022-05-20T12:00:00Z"),
        )
        .unwrap();

    let stored = store.stored(Selection::All, 10).unwrap();
    let instant = |title: &str| {
        stored
            .iter()
            .find(|s| s.item.title == title)
            .and_then(|s| s.stable_instant)
            .map(|i| i.to_rfc3339())
    };
    // First seen on its day: that time, moved back by its place (a minute
    // each) and id (under a minute), so listing order survives sorting by time.
    let today = instant("Today").unwrap();
    assert!(
        ("2022-05-20T11:59:00+09:00".."2022-05-20T12:00:01+09:00").contains(&today.as_str()),
        "{today}"
    );
    // Seen on a later day: before noon of its day, by its place and id.
    let older = instant("Older").unwrap();
    assert!(
        ("2022-05-18T11:58:00+09:00".."2022-05-18T11:59:01+09:00").contains(&older.as_str()),
        "{older}"
    );
    assert_eq!(
        instant("Timed").as_deref(),
        Some("2022-05-20T08:15:00+09:00")
    );
    // Undated: the time it was first seen, never 1970 or a later refresh.
    let undated = instant("Undated").unwrap();
    assert!(
        ("2022-05-20T02:56:00+00:00".."2022-05-20T02:57:01+00:00").contains(&undated.as_str()),
        "{undated}"
    );
    // The published value itself is kept as the source gave it: a date.
    let today = stored.iter().find(|s| s.item.title == "Today").unwrap();
    assert_eq!(
        today.item.published,
        Some(Published::Date(day("2022-05-20"), SEOUL))
    );
}

pub fn a_copy_from_another_source_does_not_take_over_but_is_listed_there_too(f: &Fixture) {
    let store = f.open();
    let original = story("a", "Original title", "2022-05-20", &["Jeongmin Kim"], 0);
    store
        .upsert_items(
            "nk",
            std::slice::from_ref(&original),
            t("2022-05-20T03:00:00Z"),
        )
        .unwrap();
    let mut copy = original.clone();
    copy.source = "aggregator".to_owned();
    copy.title = "Aggregator's title".to_owned();
    // The merger's rule decides: nk is the site the story is on.
    let mut options = byline::merge::MergeOptions::default();
    options
        .origin_hosts
        .insert("nk".into(), vec!["news.example".into()]);
    for _ in 0..2 {
        let stats = store
            .store_listing(
                "aggregator",
                std::slice::from_ref(&copy),
                &options,
                t("2022-05-20T04:00:00Z"),
            )
            .unwrap();
        assert_eq!(stats.unchanged, 1);
    }
    let all = store.stored(Selection::All, 10).unwrap();
    assert_eq!(all.len(), 1);
    let mut want = original.clone();
    want.also_in = vec!["aggregator".to_owned()];
    assert_eq!(all[0].item, want);
    assert_eq!(all[0].last_seen, t("2022-05-20T04:00:00Z"));
    // Each source's feed lists what was read from it, as a build does.
    assert_eq!(
        store.items(Selection::Source("aggregator"), 10).unwrap(),
        vec![want.clone()]
    );
    assert_eq!(
        store.items(Selection::Source("nk"), 10).unwrap(),
        vec![want.clone()]
    );
    // An edit by the owner keeps the other source.
    let mut edited = original.clone();
    edited.summary = Some("More".to_owned());
    store
        .store_listing("nk", &[edited], &options, t("2022-05-20T05:00:00Z"))
        .unwrap();
    let item = &store.items(Selection::Source("aggregator"), 10).unwrap()[0];
    assert_eq!(
        (item.summary.as_deref(), item.also_in.clone()),
        (Some("More"), vec!["aggregator".to_owned()])
    );
}

pub fn retention_trims_history_but_never_the_latest_listing(f: &Fixture) {
    let store = f.open();
    // Ten days of history, one story a day, each seen on its day.
    for n in 0..10u32 {
        let date = format!("2022-05-{:02}", 10 + n);
        let item = story(&format!("s{n}"), &format!("S{n}"), &date, &["X Y"], 0);
        store
            .upsert_items("nk", &[item], t(&format!("{date}T03:00:00Z")))
            .unwrap();
    }
    let mut other = story("other", "Other source", "2022-05-01", &["X Y"], 0);
    other.source = "other".to_owned();
    other.refresh_id();
    store
        .upsert_items("other", &[other], t("2022-05-01T03:00:00Z"))
        .unwrap();
    let now = t("2022-05-20T00:00:00Z");

    // Nothing asked, nothing removed.
    assert_eq!(store.apply_retention("nk", None, None, now).unwrap(), 0);
    // Keep 6: the four oldest go.
    assert_eq!(store.apply_retention("nk", Some(6), None, now).unwrap(), 4);
    assert_eq!(
        titles(&store.items(Selection::Source("nk"), 100).unwrap()),
        ["S9", "S8", "S7", "S6", "S5", "S4"]
    );
    // At most 5 days old (by publication, midnight in Seoul): from the 19th
    // 12:00 UTC, S4 (13th 15:00 UTC) goes and S5 (14th 15:00 UTC) stays.
    let noon = t("2022-05-19T12:00:00Z");
    assert_eq!(
        store
            .apply_retention("nk", None, Some(Duration::days(5)), noon)
            .unwrap(),
        1
    );
    assert_eq!(
        titles(&store.items(Selection::Source("nk"), 100).unwrap()),
        ["S9", "S8", "S7", "S6", "S5"]
    );
    // Keep 1 and 1 day: S9 is the latest listing and stays even though it is older.
    let later = t("2022-06-30T00:00:00Z");
    assert_eq!(
        store
            .apply_retention("nk", Some(1), Some(Duration::days(1)), later)
            .unwrap(),
        4
    );
    assert_eq!(
        titles(&store.items(Selection::Source("nk"), 100).unwrap()),
        ["S9"]
    );
    // Other sources and the author/tag indexes follow.
    assert_eq!(
        titles(&store.items(Selection::Author("x-y"), 100).unwrap()),
        ["S9", "Other source"]
    );
}

pub fn per_author_and_per_tag_queries_on_a_large_store_give_feed_order(f: &Fixture) {
    let store = f.open();
    let authors = [
        "Ann Lee", "Bo Kim", "Cy Park", "Di Choi", "Ed Han", "Flo Yun", "Gus Oh",
    ];
    // 20,000 items in 100 listings of 200; days and positions interleave so
    // that day, listing and position all decide somewhere.
    let mut all: Vec<(Item, u32)> = Vec::new();
    let mut rng = fastrand::Rng::with_seed(7);
    for listing in 0..100u32 {
        let mut batch = Vec::new();
        for position in 0..200u32 {
            let n = listing * 200 + position;
            let date = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap()
                + Duration::days(i64::from(rng.u32(0..400)));
            let mut item = story(
                &format!("i{n}"),
                &format!("T{n}"),
                &date.to_string(),
                &[],
                position,
            );
            let first = authors[rng.usize(0..authors.len())];
            item.authors = vec![Person::new(first)];
            if rng.u8(0..4) == 0 {
                item.authors
                    .push(Person::new(authors[rng.usize(0..authors.len())]));
                item.authors.dedup();
            }
            if rng.u8(0..10) == 0 {
                item.tags.push(Tag::new("NK PRO"));
            }
            if rng.u8(0..20) == 0 {
                item.published = None;
            }
            batch.push(item);
        }
        store
            .upsert_items(
                "nk",
                &batch,
                t("2022-01-01T00:00:00Z") + Duration::hours(i64::from(listing)),
            )
            .unwrap();
        all.extend(batch.into_iter().map(|i| (i, listing)));
    }
    assert_eq!(store.item_count(None).unwrap(), 20_000);

    // The expected order, computed independently: day (undated: the day first seen), newer
    // listing, position.
    let expect = |keep: &dyn Fn(&Item) -> bool, n: usize| -> Vec<String> {
        let mut v: Vec<&(Item, u32)> = all.iter().filter(|(i, _)| keep(i)).collect();
        v.sort_by(|(a, la), (b, lb)| {
            // An undated story sorts on the day it was first seen.
            let seen = |l: u32| t("2022-01-01T00:00:00Z") + Duration::hours(i64::from(l));
            let day = |i: &Item, l: u32| i.day().unwrap_or(seen(l).date_naive());
            let key = |i: &Item, l: u32| day(i, l).num_days_from_ce_i64();
            key(b, *lb)
                .cmp(&key(a, *la))
                .then(lb.cmp(la))
                .then(a.position.cmp(&b.position))
        });
        v.into_iter().take(n).map(|(i, _)| i.id.clone()).collect()
    };
    let ids = |items: Vec<Item>| items.into_iter().map(|i| i.id).collect::<Vec<_>>();
    let author = |slug: &'static str| move |i: &Item| i.authors.iter().any(|a| a.slug == slug);
    assert_eq!(
        ids(store.items(Selection::Author("bo-kim"), 50).unwrap()),
        expect(&author("bo-kim"), 50)
    );
    assert_eq!(
        ids(store.items(Selection::Author("gus-oh"), 3000).unwrap()),
        expect(&author("gus-oh"), 3000)
    );
    let pro = |i: &Item| i.tags.iter().any(|t| t.slug == "nk-pro");
    assert_eq!(
        ids(store.items(Selection::Tag("nk-pro"), 50).unwrap()),
        expect(&pro, 50)
    );
    assert_eq!(
        ids(store.items_all(100).unwrap()),
        expect(&|_: &Item| true, 100)
    );
    // The whole store, in the same order.
    assert_eq!(
        ids(store.items_all(20_000).unwrap()),
        expect(&|_: &Item| true, 20_000)
    );
    assert!(
        store
            .items(Selection::Author("nobody"), 50)
            .unwrap()
            .is_empty()
    );
}

trait DaysFromCe {
    fn num_days_from_ce_i64(&self) -> i64;
}

impl DaysFromCe for NaiveDate {
    fn num_days_from_ce_i64(&self) -> i64 {
        i64::from(chrono::Datelike::num_days_from_ce(self))
    }
}

pub fn fetch_state_keeps_validators_counts_failures_and_keeps_the_last_error(f: &Fixture) {
    let store = f.open();
    let url = "https://news.example/";
    assert_eq!(store.fetch_state("nk", url).unwrap(), None);

    let t1 = t("2022-05-20T01:00:00Z");
    store
        .record_fetch(
            "nk",
            url,
            FetchRecord::Fetched {
                etag: Some("\"v1\""),
                last_modified: Some("Fri, 20 May 2022 00:00:00 GMT"),
                warnings: &["page.txt:3: line skipped\nsecond line".to_owned()],
            },
            t1,
        )
        .unwrap();
    let t2 = t("2022-05-20T02:00:00Z");
    store
        .record_fetch("nk", url, FetchRecord::Failed { error: "HTTP 500" }, t2)
        .unwrap();
    store
        .record_fetch("nk", url, FetchRecord::Failed { error: "timed out" }, t2)
        .unwrap();
    let s = store.fetch_state("nk", url).unwrap().unwrap();
    assert_eq!(s.etag.as_deref(), Some("\"v1\""));
    assert_eq!(s.warnings, ["page.txt:3: line skipped second line"]);
    assert_eq!(s.last_success, Some(t1));
    assert_eq!(s.last_error.as_deref(), Some("timed out"));
    assert_eq!(s.last_error_at, Some(t2));
    assert_eq!(s.consecutive_failures, 2);

    let t3 = t("2022-05-20T03:00:00Z");
    store
        .record_fetch("nk", url, FetchRecord::NotModified, t3)
        .unwrap();
    let s = store.fetch_state("nk", url).unwrap().unwrap();
    assert_eq!((s.consecutive_failures, s.last_success), (0, Some(t3)));
    assert_eq!(s.etag.as_deref(), Some("\"v1\""));
    // The last error stays visible after recovering.
    assert_eq!(s.last_error.as_deref(), Some("timed out"));
    assert_eq!(store.fetch_states(None).unwrap(), vec![s]);
    assert!(store.fetch_states(Some("other")).unwrap().is_empty());
}
