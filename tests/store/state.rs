//! Store behaviours beyond the stories themselves, that every engine must
//! keep: reopening, read history, alarms and their events, article pages,
//! and leases (the claim that makes one process refresh a source).

use byline::adapters::article::{Article, DateOrigin, Dated};
use byline::drift::{Alarm, ReadStats};
use byline::merge::MergeOptions;
use byline::model::Published;
use byline::store::{Claim, Holder, Selection};
use chrono::Duration;

use super::Fixture;
use super::items::{story, t};

pub fn a_store_reopens_with_its_items_and_its_birth_time(f: &Fixture) {
    let store = f.open();
    let created = store.created().unwrap();
    let a = story("a", "A", "2022-05-20", &["Jeongmin Kim"], 0);
    store
        .upsert_items("nk", std::slice::from_ref(&a), t("2022-05-20T03:00:00Z"))
        .unwrap();
    drop(store);
    let store = f.open();
    assert_eq!(store.items_all(10).unwrap(), vec![a]);
    assert_eq!(store.created().unwrap(), created);
    assert!((chrono::Utc::now() - created).num_minutes().abs() < 5);
}

pub fn reads_are_kept_newest_last_and_only_those_with_cards(f: &Fixture) {
    let store = f.open();
    for (n, cards) in [3u32, 0, 5, 7].into_iter().enumerate() {
        let stats = ReadStats {
            cards,
            fields: [cards, 0, 1, 2, 3, 4, 5],
            pagination: n % 2 == 0,
        };
        let at = t("2022-05-20T03:00:00Z") + Duration::minutes(n as i64);
        store.record_read("nk", &stats, at).unwrap();
    }
    let reads = store.recent_reads("nk", 2).unwrap();
    assert_eq!(
        reads.iter().map(|r| r.cards).collect::<Vec<_>>(),
        vec![5, 7]
    );
    assert_eq!(reads[0].fields, [5, 0, 1, 2, 3, 4, 5]);
    assert!(reads[0].pagination && !reads[1].pagination);
    assert!(store.recent_reads("other", 5).unwrap().is_empty());
}

pub fn alarms_are_raised_kept_and_cleared_once_each(f: &Fixture) {
    let store = f.open();
    let cards = Alarm {
        kind: "cards".into(),
        message: "2 cards, median 20".into(),
    };
    let at = t("2022-05-20T03:00:00Z");
    let (events, active) = store
        .set_alarms("nk", std::slice::from_ref(&cards), at)
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event, "raised");
    assert_eq!(active.len(), 1);
    // Still holding: no new event, the first time kept, the newest message.
    let later = Alarm {
        message: "1 card, median 20".into(),
        ..cards.clone()
    };
    let (events, active) = store
        .set_alarms("nk", std::slice::from_ref(&later), at + Duration::hours(1))
        .unwrap();
    assert!(events.is_empty());
    assert_eq!(active[0].since, at);
    assert_eq!(active[0].message, "1 card, median 20");
    let (events, active) = store
        .set_alarms("nk", &[], at + Duration::hours(2))
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event, "cleared");
    assert!(active.is_empty());
    let all = store.alarm_events(10).unwrap();
    assert_eq!(
        all.iter().map(|e| e.event.as_str()).collect::<Vec<_>>(),
        ["cleared", "raised"]
    );
    assert!(all[0].id > all[1].id);
    assert!(store.active_alarms(None).unwrap().is_empty());
}

pub fn an_article_is_queued_once_retried_later_and_folded_into_its_story(f: &Fixture) {
    let store = f.open();
    let seen = t("2022-05-20T03:00:00Z");
    let a = story("a", "A", "2022-05-20", &[], 0);
    store
        .upsert_items("nk", std::slice::from_ref(&a), seen)
        .unwrap();
    assert_eq!(store.queue_articles("nk", seen).unwrap(), 1);
    assert_eq!(store.queue_articles("nk", seen).unwrap(), 0);
    let due = store.articles_due("nk", seen, 10).unwrap();
    assert_eq!(due.len(), 1);
    let task = &due[0];
    store
        .article_failed(task.story, "timed out", seen, 3)
        .unwrap();
    assert!(store.articles_due("nk", seen, 10).unwrap().is_empty());
    let later = seen + Duration::minutes(11);
    assert_eq!(store.articles_due("nk", later, 10).unwrap().len(), 1);
    let exact = chrono::DateTime::parse_from_rfc3339("2022-05-20T09:41:00+09:00").unwrap();
    let article = Article {
        published: Some(Dated {
            value: Published::DateTime(exact),
            origin: DateOrigin::JsonLd,
        }),
        authors: vec!["Chad O'Carroll".into()],
        content_html: Some("<p>Full text.</p>".into()),
        content_text: Some("Full text.".into()),
        ..Article::default()
    };
    store
        .store_article(task.story, &article, &MergeOptions::default(), later)
        .unwrap();
    let stored = store.article(&task.url).unwrap().unwrap();
    assert_eq!(stored.state, "read");
    assert_eq!(stored.article.as_ref(), Some(&article));
    let counts = store.article_counts("nk").unwrap();
    assert_eq!((counts.due, counts.read, counts.failed), (0, 1, 0));
    let item = &store.items(Selection::All, 1).unwrap()[0];
    assert_eq!(item.published, Some(Published::DateTime(exact)));
    assert_eq!(item.content.as_deref(), Some("<p>Full text.</p>"));
    assert_eq!(item.authors[0].name, "Chad O'Carroll");
}

pub fn a_lease_goes_to_one_holder_until_released_or_lapsed(f: &Fixture) {
    let store = f.open();
    let (a, b) = (Holder("a".into()), Holder("b".into()));
    let now = t("2022-05-20T03:00:00Z");
    let hold = Duration::seconds(15);
    assert_eq!(
        store.claim("nk", &a, now, hold, false).unwrap(),
        Claim::Claimed
    );
    // Held: the other is told when to ask again, and by whom.
    match store.claim("nk", &b, now, hold, false).unwrap() {
        Claim::Busy { retry, holder } => {
            assert_eq!(retry, now + hold);
            assert_eq!(holder.as_deref(), Some("a"));
        }
        other => panic!("{other:?}"),
    }
    // Even a forced claim waits for a hold.
    assert!(matches!(
        store.claim("nk", &b, now, hold, true).unwrap(),
        Claim::Busy { .. }
    ));
    // Renewed, the hold outlasts its first term.
    let renewed = now + Duration::seconds(30);
    assert!(store.renew("nk", &a, renewed).unwrap());
    assert!(matches!(
        store
            .claim("nk", &b, now + Duration::seconds(20), hold, false)
            .unwrap(),
        Claim::Busy { .. }
    ));
    // Released with the next due time: nobody refreshes before it, unless forced.
    let due = now + Duration::minutes(10);
    store.release("nk", &a, due).unwrap();
    match store
        .claim("nk", &b, now + Duration::minutes(1), hold, false)
        .unwrap()
    {
        Claim::Busy { retry, holder } => {
            assert_eq!(retry, due);
            assert_eq!(holder, None);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        store.claim("nk", &b, due, hold, false).unwrap(),
        Claim::Claimed
    );
    // A holder that died: its hold lapses and the other takes over; the
    // dead one can no longer renew or release.
    let lapsed = due + hold + Duration::seconds(1);
    assert_eq!(
        store.claim("nk", &a, lapsed, hold, true).unwrap(),
        Claim::Claimed
    );
    assert!(!store.renew("nk", &b, lapsed + hold).unwrap());
    store
        .release("nk", &b, lapsed + Duration::hours(1))
        .unwrap();
    assert!(matches!(
        store
            .claim("nk", &b, lapsed + Duration::seconds(1), hold, false)
            .unwrap(),
        Claim::Busy { .. }
    ));
    // Sources are claimed apart.
    assert_eq!(
        store.claim("other", &b, now, hold, false).unwrap(),
        Claim::Claimed
    );
}

/// Of many claims racing on one source, exactly one wins.
pub fn racing_claims_give_the_source_to_exactly_one(f: &Fixture) {
    let now = t("2022-05-20T03:00:00Z");
    let stores: Vec<_> = (0..6).map(|_| f.open()).collect();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(stores.len()));
    let wins: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = stores
            .iter()
            .enumerate()
            .map(|(n, store)| {
                let barrier = barrier.clone();
                scope.spawn(move || {
                    barrier.wait();
                    let me = Holder(format!("p{n}"));
                    (0..20)
                        .filter(|s| {
                            store
                                .claim(&format!("s{s}"), &me, now, Duration::seconds(60), false)
                                .unwrap()
                                == Claim::Claimed
                        })
                        .count()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(wins, 20);
}

/// Writers side by side (N processes on one PostgreSQL; on SQLite they
/// queue): sources carrying the same stories, stored at once, fold into
/// one story each that every source lists, with no write lost.
pub fn listings_stored_at_once_by_several_writers_fold_as_one(f: &Fixture) {
    let sources = ["a", "b", "c", "d"];
    let stores: Vec<_> = sources.iter().map(|_| f.open()).collect();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(sources.len()));
    std::thread::scope(|scope| {
        for (source, store) in sources.iter().zip(&stores) {
            let barrier = barrier.clone();
            scope.spawn(move || {
                barrier.wait();
                for round in 0..4 {
                    let listing: Vec<_> = (0..30)
                        .map(|n| {
                            let mut s = story(
                                &format!("s{n}"),
                                &format!("Story {n}"),
                                "2022-05-20",
                                &[&format!("Writer {}", n % 3)],
                                n,
                            );
                            s.source = source.to_string();
                            s
                        })
                        .collect();
                    let at = t("2022-05-20T03:00:00Z") + Duration::minutes(round);
                    store.upsert_items(source, &listing, at).expect("stored");
                }
            });
        }
    });
    let store = f.open();
    assert_eq!(store.item_count(None).unwrap(), 30);
    for item in store.items(Selection::All, 100).unwrap() {
        let mut carried: Vec<&str> = std::iter::once(item.source.as_str())
            .chain(item.also_in.iter().map(String::as_str))
            .collect();
        carried.sort();
        assert_eq!(carried, sources, "{}", item.title);
    }
    for source in sources {
        assert_eq!(
            store.items(Selection::Source(source), 100).unwrap().len(),
            30,
            "{source}"
        );
    }
    for writer in ["writer-0", "writer-1", "writer-2"] {
        assert_eq!(
            store.items(Selection::Author(writer), 100).unwrap().len(),
            10,
            "{writer}"
        );
    }
}
