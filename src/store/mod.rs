//! The store: the SQLite file that keeps every item byline has seen, so a feed
//! holds what rolled off its listing and survives restarts.
//!
//! A *stored item* is an [`Item`] plus what only the store knows: when it was
//! first and last seen, and its *stable instant* — the time renderers may give
//! an item whose source states only a date (first-seen, when it was first seen
//! on that date; otherwise midnight of the date in the source's zone; fixed at
//! first sight, never the time of the latest refresh).
//!
//! The store keeps each source's *copy* of a story and the *story* they fold
//! into (see [`write`]): feeds read stories, through indexes in feed order
//! (see [`query`]). Writes group into *listings*: one [`Store::store_listing`]
//! call stores what one read of one source showed, in one transaction, under
//! the source's next listing number. Feed order is newest day first; within a day, items placed by a
//! newer listing first, then listing order. So an item that rolled off a
//! listing sorts after the items still on it, and positions of different
//! reads never collide. A listing that only adds stories on top of the
//! stored ones (the usual refresh) places just the new ones and moves no
//! other index entry.
//!
//! The API is synchronous; async callers wrap calls in `spawn_blocking`. One
//! `Store` is shared by cloning it: writes are serialized on one connection and
//! reads use a second, so a feed query never waits for a refresh's write
//! (SQLite's WAL mode lets the two run side by side, across processes too).

mod alarms;
mod article;
mod codec;
mod fold;
mod query;
mod schema;
mod write;

pub use alarms::{ActiveAlarm, AlarmEvent};
pub use article::{ArticleCounts, ArticleTask, StoredArticle};
pub use query::{Selection, SlugKind};

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};

use crate::model::Item;

/// What to do with a damaged store without losing its history.
const DAMAGE_HINT: &str = "keep the history: stop byline, copy the file with its -wal and -shm files aside, \
     run `sqlite3 FILE 'PRAGMA integrity_check'` to see the damage and \
     `sqlite3 FILE .recover | sqlite3 recovered.db` to save what is readable, then point `[store] path` at \
     recovered.db; moving the file away starts an empty history";

/// Is `e` SQLite saying the file is damaged or not a database?
fn is_damage(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
    )
}

/// How long a connection waits for another writer (a second byline process)
/// before giving up with "database is locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the store could not do what was asked; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "{path}: cannot open the store: {source} (is it a byline store? if it is damaged, {DAMAGE_HINT})"
    )]
    Open {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "{path}: the store has schema version {found}, but this byline knows versions up to {known}; run a newer byline or point `[store] path` at another file"
    )]
    NewerSchema {
        path: String,
        found: u32,
        known: u32,
    },
    #[error("{path}: {context}: {source}{}", if is_damage(source) { format!(" ({DAMAGE_HINT})") } else { String::new() })]
    Sql {
        path: String,
        context: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("store task failed: {0}")]
    Task(String),
    #[error("{path}: item {id:?}: {message}")]
    Corrupt {
        path: String,
        id: String,
        message: String,
    },
}

/// What one [`Store::store_listing`] changed, counted in stories.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpsertStats {
    /// Items the store had not seen.
    pub new: usize,
    /// Items seen before whose content changed; updated in place, same id.
    pub updated: usize,
    /// Items seen before, unchanged (only their last-seen time moved).
    pub unchanged: usize,
}

/// An item as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredItem {
    pub item: Item,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// A full time for the item: its date-time if the source gave one; for a
    /// date only, first-seen when first seen on that date in the source's
    /// zone, else midnight of the date there. `None` for undated items.
    pub stable_instant: Option<DateTime<FixedOffset>>,
}

/// What the store remembers of fetching one url (or file) of one source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchState {
    pub source: String,
    pub url: String,
    /// Validators of the last response whose items were stored.
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// Times are kept to the millisecond.
    pub last_success: Option<DateTime<Utc>>,
    /// The latest failure, kept after a later success so it stays visible.
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    /// Failures since the last success.
    pub consecutive_failures: u32,
    /// What the adapter skipped or did not understand in the last page read
    /// (at most [`MAX_WARNINGS`]); a page that reads with warnings still counts
    /// as a success.
    pub warnings: Vec<String>,
}

/// Warnings kept per fetch state: enough to diagnose, bounded in size.
pub const MAX_WARNINGS: usize = 20;

/// How a fetch of one url ended, for [`Store::record_fetch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchRecord<'a> {
    /// Fetched and read; its items are stored. The validators are sent next time.
    Fetched {
        etag: Option<&'a str>,
        last_modified: Option<&'a str>,
        warnings: &'a [String],
    },
    /// The server said 304: nothing changed since the stored validators.
    NotModified,
    /// The fetch or the read failed; stored items are untouched.
    Failed { error: &'a str },
}

/// A shared handle on one store file.
#[derive(Debug, Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    write: Mutex<Connection>,
    read: Mutex<Connection>,
}

impl Store {
    /// Open (creating if missing) the store at `path` and bring its schema up
    /// to date. A file that is not a byline store, is corrupt, or was written
    /// by a newer byline is an error naming the path.
    pub fn open(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let path = path.as_ref();
        let mut write = connect(path)?;
        migrate(&mut write, path)?;
        let read = connect(path)?;
        Ok(Store {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                write: Mutex::new(write),
                read: Mutex::new(read),
            }),
        })
    }

    /// SQLite's `PRAGMA quick_check` over the whole file: `Ok(None)` when it
    /// is sound, `Ok(Some(what))` naming the damage (with what to do about
    /// it), `Err` when the check itself cannot run.
    pub fn quick_check(&self) -> Result<Option<String>, StoreError> {
        // Its own connection: the check reads the whole file, and must not
        // hold the one feeds are read through while it does.
        let conn = connect(&self.inner.path)?;
        let found: Result<Vec<String>, rusqlite::Error> = conn
            .prepare("PRAGMA quick_check")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect());
        match found {
            Ok(lines) if lines.len() == 1 && lines[0] == "ok" => Ok(None),
            Ok(lines) => Ok(Some(format!(
                "{}: the store is damaged ({}); {DAMAGE_HINT}",
                self.path_str(),
                lines.join("; ")
            ))),
            Err(e) if is_damage(&e) => Ok(Some(format!(
                "{}: the store is damaged ({e}); {DAMAGE_HINT}",
                self.path_str()
            ))),
            Err(source) => Err(StoreError::Sql {
                path: self.path_str(),
                context: "cannot check the store".to_owned(),
                source,
            }),
        }
    }

    /// Can this store be written? A file the operating system will not let
    /// byline write opens read-only: its stories are served, refreshes fail.
    pub fn read_only(&self) -> bool {
        self.write().is_readonly(rusqlite::MAIN_DB).unwrap_or(false)
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Store what one read of `source` showed, in one transaction. Items not
    /// seen before are added; items seen before keep their id and first-seen
    /// time and are updated in place if their content changed (their
    /// `updated` becomes the source's, or `seen_at`, so feed readers see the
    /// edit). Later copies of an id within `items` are ignored. An item first
    /// stored by another source is left as that source stored it, and gains
    /// `source` in its `also_in`, so it is listed in this source's feed too.
    /// An empty `items` changes nothing: an empty read is not a listing.
    /// What is remembered of fetching `url` for `source`.
    pub fn fetch_state(&self, source: &str, url: &str) -> Result<Option<FetchState>, StoreError> {
        let conn = self.read();
        conn.query_row(
            "SELECT source, url, etag, last_modified, last_success, last_error, last_error_at, \
             consecutive_failures, warnings FROM fetch_state WHERE source = ?1 AND url = ?2",
            [source, url],
            fetch_state_row,
        )
        .optional()
        .map_err(|e| StoreError::Sql {
            path: self.path_str(),
            context: format!("source {source:?}: cannot read the fetch state of {url}"),
            source: e,
        })
    }

    /// Every fetch state, of one source or all, ordered by source and url.
    pub fn fetch_states(&self, source: Option<&str>) -> Result<Vec<FetchState>, StoreError> {
        let conn = self.read();
        let columns = "SELECT source, url, etag, last_modified, last_success, last_error, \
                       last_error_at, consecutive_failures, warnings FROM fetch_state";
        let result = match source {
            None => conn
                .prepare(&format!("{columns} ORDER BY source, url"))
                .and_then(|mut s| s.query_map([], fetch_state_row)?.collect()),
            Some(name) => conn
                .prepare(&format!("{columns} WHERE source = ?1 ORDER BY url"))
                .and_then(|mut s| s.query_map([name], fetch_state_row)?.collect()),
        };
        result.map_err(|e| StoreError::Sql {
            path: self.path_str(),
            context: "cannot read fetch states".to_owned(),
            source: e,
        })
    }

    /// Remember how fetching `url` for `source` ended at `at`. Record a
    /// success only after its items are stored: the validators it saves make
    /// the next fetch a cheap 304, which must not skip unstored items.
    pub fn record_fetch(
        &self,
        source: &str,
        url: &str,
        record: FetchRecord,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let at = at.timestamp_millis();
        let conn = self.write();
        let result = match record {
            FetchRecord::Fetched {
                etag,
                last_modified,
                warnings,
            } => {
                let mut kept: Vec<&str> = warnings
                    .iter()
                    .take(MAX_WARNINGS)
                    .map(|w| w.as_str())
                    .collect();
                let more = warnings.len().saturating_sub(MAX_WARNINGS);
                let note = format!("... and {more} more");
                if more > 0 {
                    kept.push(&note);
                }
                // One warning per line; a warning's own line breaks become spaces.
                let warnings = (!kept.is_empty()).then(|| {
                    kept.iter()
                        .map(|w| w.replace(['\n', '\r'], " "))
                        .collect::<Vec<_>>()
                        .join("\n")
                });
                conn.execute(
                    "INSERT INTO fetch_state (source, url, etag, last_modified, last_success, warnings) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (source, url) DO UPDATE SET \
                     etag = excluded.etag, last_modified = excluded.last_modified, \
                     last_success = excluded.last_success, consecutive_failures = 0, \
                     warnings = excluded.warnings",
                    params![source, url, etag, last_modified, at, warnings],
                )
            }
            FetchRecord::NotModified => conn.execute(
                "INSERT INTO fetch_state (source, url, last_success) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (source, url) DO UPDATE SET \
                 last_success = excluded.last_success, consecutive_failures = 0",
                params![source, url, at],
            ),
            FetchRecord::Failed { error } => conn.execute(
                "INSERT INTO fetch_state (source, url, last_error, last_error_at, consecutive_failures) \
                 VALUES (?1, ?2, ?3, ?4, 1) ON CONFLICT (source, url) DO UPDATE SET \
                 last_error = excluded.last_error, last_error_at = excluded.last_error_at, \
                 consecutive_failures = consecutive_failures + 1",
                params![source, url, error, at],
            ),
        };
        result.map(drop).map_err(|e| StoreError::Sql {
            path: self.path_str(),
            context: format!("source {source:?}: cannot record the fetch of {url}"),
            source: e,
        })
    }

    fn path_str(&self) -> String {
        self.inner.path.display().to_string()
    }

    fn write(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock dropped its transaction, which rolled
        // back: the connection is still sound.
        self.inner
            .write
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn read(&self) -> MutexGuard<'_, Connection> {
        self.inner
            .read
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Open one connection with the store's settings: WAL so readers and one
/// writer never block each other, `synchronous = NORMAL` (durable at each
/// checkpoint, never corrupt on power loss), a busy timeout for a second
/// process, and foreign keys so deleting a story deletes its copies and keys.
/// No memory map: feeds are read from the store when an edition is
/// published, not per request, so mapped pages would only add the store's
/// size to the server's resident memory (190 MiB at 1,000,000 stories).
fn connect(path: &Path) -> Result<Connection, StoreError> {
    let open_err = |source| StoreError::Open {
        path: path.display().to_string(),
        source,
    };
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(open_err)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
    // The first statement that reads the file: a corrupt file or another
    // kind of file fails here ("file is not a database").
    let _mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(open_err)?;
    conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
        .map_err(open_err)?;
    Ok(conn)
}

/// Apply the migrations this file lacks, each with its version bump in one
/// transaction. The version is read inside the write lock, so two processes
/// opening a new file at once do not both migrate it.
fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let known = schema::latest();
    // A store at the current version needs no write lock to open: so one
    // the operating system will not let us write can still be served.
    let current: u32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|source| StoreError::Open {
            path: path.display().to_string(),
            source,
        })?;
    if current == known {
        return Ok(());
    }
    loop {
        let err = |context: &str| {
            let context = context.to_owned();
            move |source| StoreError::Sql {
                path: path.display().to_string(),
                context,
                source,
            }
        };
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|source| StoreError::Open {
                path: path.display().to_string(),
                source,
            })?;
        let found: u32 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|source| StoreError::Open {
                path: path.display().to_string(),
                source,
            })?;
        if found > known {
            return Err(StoreError::NewerSchema {
                path: path.display().to_string(),
                found,
                known,
            });
        }
        let Some(step) = schema::MIGRATIONS.get(found as usize) else {
            return Ok(());
        };
        let to = found + 1;
        step(&tx).map_err(err(&format!("migrating the schema to version {to}")))?;
        tx.pragma_update(None, "user_version", to)
            .map_err(err(&format!("migrating the schema to version {to}")))?;
        tx.commit()
            .map_err(err(&format!("migrating the schema to version {to}")))?;
    }
}

fn fetch_state_row(r: &rusqlite::Row) -> rusqlite::Result<FetchState> {
    let time = |ms: Option<i64>| ms.and_then(DateTime::from_timestamp_millis);
    Ok(FetchState {
        source: r.get(0)?,
        url: r.get(1)?,
        etag: r.get(2)?,
        last_modified: r.get(3)?,
        last_success: time(r.get(4)?),
        last_error: r.get(5)?,
        last_error_at: time(r.get(6)?),
        consecutive_failures: u32::try_from(r.get::<_, i64>(7)?).unwrap_or(u32::MAX),
        warnings: r
            .get::<_, Option<String>>(8)?
            .map(|w| w.lines().map(str::to_owned).collect())
            .unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every feed query walks an index in feed order and stops at the limit:
    /// no full scan, no sort, so its cost does not grow with the store.
    #[test]
    fn feed_queries_read_an_index_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("s.db")).unwrap();
        let conn = store.read();
        for view in [
            Selection::All,
            Selection::Source("nk"),
            Selection::Author("a"),
            Selection::Tag("t"),
        ] {
            let (sql, key) = query::selection_query(view);
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let row = |r: &rusqlite::Row| r.get::<_, String>(3);
            let plan: Vec<String> = match key {
                None => stmt.query_map(rusqlite::params![50, 0], row),
                Some(k) => stmt.query_map(rusqlite::params![50, 0, k], row),
            }
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
            let plan = plan.join(" / ");
            assert!(!plan.contains("TEMP B-TREE"), "{view:?}: {plan}");
            assert!(
                plan.contains("USING INDEX") || plan.contains("USING COVERING INDEX"),
                "{view:?}: {plan}"
            );
            assert!(
                plan.contains("INTEGER PRIMARY KEY")
                    || matches!(view, Selection::All | Selection::Source(_)),
                "{view:?}: {plan}"
            );
        }
    }

    #[test]
    fn stable_instant_is_first_seen_on_the_day_else_noon_and_keeps_listing_order() {
        use crate::model::Published;
        // Its id moves this story 22 seconds back.
        const ID: &str = "https://x.example/a";
        let seoul = chrono_tz::Asia::Seoul;
        let day = chrono::NaiveDate::from_ymd_opt(2022, 5, 20).unwrap();
        let p = Published::Date(day, seoul);
        // 2022-05-20 03:00 UTC is 12:00 in Seoul, the same day.
        let seen = DateTime::parse_from_rfc3339("2022-05-20T03:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            fold::stable_instant(Some(&p), seen, ID, 0).to_rfc3339(),
            "2022-05-20T11:59:38+09:00"
        );
        // Lower in the listing: a minute earlier per place.
        assert_eq!(
            fold::stable_instant(Some(&p), seen, ID, 3).to_rfc3339(),
            "2022-05-20T11:56:38+09:00"
        );
        // 2022-05-20 16:00 UTC is already the 21st in Seoul: noon of the 20th.
        let late = DateTime::parse_from_rfc3339("2022-05-20T16:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            fold::stable_instant(Some(&p), late, ID, 2).to_rfc3339(),
            "2022-05-20T11:57:38+09:00"
        );
        // Far down a long listing: a second per place, so 20,000 places fit.
        assert_eq!(
            fold::stable_instant(Some(&p), late, ID, 1000).to_rfc3339(),
            "2022-05-20T07:47:20+09:00"
        );
        assert_eq!(
            fold::stable_instant(Some(&p), late, ID, 1001).to_rfc3339(),
            "2022-05-20T07:47:19+09:00"
        );
        // Seen just after midnight: never before the day's start.
        let early = DateTime::parse_from_rfc3339("2022-05-19T15:00:01Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            fold::stable_instant(Some(&p), early, ID, 9).to_rfc3339(),
            "2022-05-20T00:00:00+09:00"
        );
        // Undated: the time it was first seen, less its place.
        assert_eq!(
            fold::stable_instant(None, seen, ID, 1),
            seen.fixed_offset() - chrono::Duration::seconds(82)
        );
    }
}
