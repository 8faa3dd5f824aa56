//! The store's conformance suite: every behaviour in `store/items.rs` and
//! `store/state.rs` runs unchanged against SQLite and against PostgreSQL
//! (a throwaway cluster, see `support/pg.rs`), plus what only one engine
//! has (SQLite's file: WAL mode, its version pragma, a corrupt file).

#[path = "store/items.rs"]
mod items;
#[path = "support/pg.rs"]
mod pg;
#[path = "store/state.rs"]
mod state;

use std::path::Path;

use byline::store::{Location, Store, StoreError};
use items::{story, t};

/// One test's store, on one engine; each [`Fixture::open`] opens it again.
pub struct Fixture {
    location: Location,
    _dir: Option<tempfile::TempDir>,
}

impl Fixture {
    fn sqlite() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        Fixture {
            location: Location::Sqlite(dir.path().join("s.db")),
            _dir: Some(dir),
        }
    }

    /// A fresh database on the test cluster; `None` (said once on stderr)
    /// where PostgreSQL is missing outside CI.
    fn postgres() -> Option<Fixture> {
        Some(Fixture {
            location: Location::Postgres(pg::database("store")?),
            _dir: None,
        })
    }

    pub fn open(&self) -> Store {
        Store::connect(&self.location).expect("open the store")
    }
}

/// Each behaviour as a test on each engine.
macro_rules! conformance {
    ($($module:ident::$name:ident),+ $(,)?) => {
        mod on_sqlite {
            $( #[test] fn $name() { super::$module::$name(&super::Fixture::sqlite()) } )+
        }
        mod on_postgres {
            $( #[test] fn $name() {
                if let Some(f) = super::Fixture::postgres() { super::$module::$name(&f) }
            } )+
        }
    };
}

conformance!(
    items::the_same_item_again_is_not_duplicated_keeps_its_id_and_moves_last_seen,
    items::an_edited_title_or_summary_is_updated_in_place_with_a_new_updated_time,
    items::items_that_roll_off_the_listing_stay_after_those_still_on_it,
    items::a_story_inserted_below_stored_ones_or_a_reordered_listing_shows_the_new_order,
    items::date_only_items_keep_the_time_they_were_first_seen_on_their_day,
    items::a_copy_from_another_source_does_not_take_over_but_is_listed_there_too,
    items::retention_trims_history_but_never_the_latest_listing,
    items::per_author_and_per_tag_queries_on_a_large_store_give_feed_order,
    items::fetch_state_keeps_validators_counts_failures_and_keeps_the_last_error,
    state::a_store_reopens_with_its_items_and_its_birth_time,
    state::reads_are_kept_newest_last_and_only_those_with_cards,
    state::alarms_are_raised_kept_and_cleared_once_each,
    state::an_article_is_queued_once_retried_later_and_folded_into_its_story,
    state::a_lease_goes_to_one_holder_until_released_or_lapsed,
    state::racing_claims_give_the_source_to_exactly_one,
    state::listings_stored_at_once_by_several_writers_fold_as_one,
);

fn user_version(path: &Path) -> u32 {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

/// The version this build writes, on both engines.
const VERSION: u32 = 5;

#[test]
fn a_new_store_is_migrated_and_reopens_with_its_items() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("byline.db");
    let store = Store::open(&path).unwrap();
    assert_eq!(user_version(&path), VERSION);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    drop(conn);

    let a = story("a", "A", "2022-05-20", &["Jeongmin Kim"], 0);
    store
        .upsert_items("nk", std::slice::from_ref(&a), t("2022-05-20T03:00:00Z"))
        .unwrap();
    drop(store);

    let store = Store::open(&path).unwrap();
    assert_eq!(user_version(&path), VERSION);
    assert_eq!(store.items_all(10).unwrap(), vec![a]);
}

#[test]
fn a_store_from_a_newer_byline_or_a_corrupt_file_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let newer = dir.path().join("newer.db");
    drop(Store::open(&newer).unwrap());
    rusqlite::Connection::open(&newer)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let e = Store::open(&newer).unwrap_err();
    assert!(
        matches!(e, StoreError::NewerSchema { found: 99, .. }),
        "{e}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains(&newer.display().to_string()) && msg.contains("99"),
        "{msg}"
    );

    let corrupt = dir.path().join("corrupt.db");
    std::fs::write(&corrupt, b"this is not a database, just some text that is long enough to have a header..........................................").unwrap();
    let msg = Store::open(&corrupt).unwrap_err().to_string();
    assert!(msg.contains(&corrupt.display().to_string()), "{msg}");
    assert!(msg.contains("not a database"), "{msg}");
}

#[test]
fn a_postgres_store_is_made_at_the_current_version_and_a_newer_one_is_refused() {
    let Some(url) = pg::database("schema") else {
        return;
    };
    let store = Store::connect(&Location::Postgres(url.clone())).unwrap();
    drop(store);
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let version: i64 = client
        .query_one("SELECT max(version) FROM byline_schema", &[])
        .unwrap()
        .get(0);
    assert_eq!(version, i64::from(VERSION));
    // Opening again migrates nothing.
    drop(Store::connect(&Location::Postgres(url.clone())).unwrap());
    client
        .execute("INSERT INTO byline_schema VALUES (99, 0)", &[])
        .unwrap();
    let e = Store::connect(&Location::Postgres(url.clone())).unwrap_err();
    assert!(
        matches!(e, StoreError::NewerSchema { found: 99, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("127.0.0.1"), "{e}");
}

#[test]
fn an_unreachable_postgres_is_an_error_naming_it_without_its_password() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://byline:s3cret@127.0.0.1:{port}/byline");
    let e = Store::connect(&Location::Postgres(url))
        .unwrap_err()
        .to_string();
    assert!(e.contains(&format!("127.0.0.1:{port}")), "{e}");
    assert!(!e.contains("s3cret"), "{e}");
    assert!(e.contains("is PostgreSQL running"), "{e}");
}
