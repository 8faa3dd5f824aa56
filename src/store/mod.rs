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
mod copy;
pub(crate) mod db;
mod fetch_state;
mod fold;
mod lease;
mod query;
mod schema;
mod write;

pub use alarms::{ActiveAlarm, AlarmEvent};
pub use article::{ArticleCounts, ArticleTask, StoredArticle};
pub use fetch_state::{FetchRecord, FetchState, MAX_WARNINGS};
pub use lease::{CHANNEL, Claim, Holder};
pub use query::{Selection, SlugKind};

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use rusqlite::{Connection, OpenFlags};

pub use crate::config::StoreLocation as Location;
use crate::model::Item;
use db::{Db, params};
pub use db::{DbError, pg_config, pg_message};

/// What to do with a damaged store without losing its history.
const DAMAGE_HINT: &str = "keep the history: stop byline, copy the file with its -wal and -shm files aside, \
     run `sqlite3 FILE 'PRAGMA integrity_check'` to see the damage and \
     `sqlite3 FILE .recover | sqlite3 recovered.db` to save what is readable, then point `[store] path` at \
     recovered.db; moving the file away starts an empty history";

/// How long a connection waits for another writer (a second byline process)
/// before giving up with "database is locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// How long connecting to PostgreSQL may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the store could not do what was asked; every variant names the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: cannot open the store: {source}{}", open_hint(source))]
    Open {
        path: String,
        #[source]
        source: DbError,
    },
    #[error(
        "{path}: the store has schema version {found}, but this byline knows versions up to {known}; run a newer byline or point `[store]` at another store"
    )]
    NewerSchema {
        path: String,
        found: u32,
        known: u32,
    },
    #[error("{path}: {context}: {source}{}", if source.is_damage() { format!(" ({DAMAGE_HINT})") } else { String::new() })]
    Sql {
        path: String,
        context: String,
        #[source]
        source: DbError,
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

fn open_hint(e: &DbError) -> String {
    match e {
        DbError::Postgres(e) if e.to_string().contains("TLS") => {
            " (see `sslmode` and `sslrootcert` in docs/CONFIG.md: the server's certificate must be \
             signed by the CA in sslrootcert, and for verify-full name the url's host)"
                .to_owned()
        }
        DbError::Postgres(_) => {
            " (is PostgreSQL running there, and may this user connect to that database?)".to_owned()
        }
        DbError::Url(_) => String::new(),
        _ => format!(" (is it a byline store? if it is damaged, {DAMAGE_HINT})"),
    }
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

/// A shared handle on one store.
#[derive(Debug, Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    location: Location,
    /// [`Location::name`], computed once for every error message.
    name: String,
    write: Mutex<Db>,
    read: Mutex<Db>,
    /// Held through a [`Store::snapshot`]: one at a time on `read`.
    snapshot: Mutex<()>,
    /// The writing session's server process, as last seen (0: none).
    writer_pid: std::sync::atomic::AtomicI64,
}

impl Store {
    /// Open (creating if missing) the SQLite store at `path`; see [`Store::connect`].
    pub fn open(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        Store::connect(&Location::Sqlite(path.as_ref().to_path_buf()))
    }

    /// Open the store at `location` and bring its schema up to date. A store
    /// that is not a byline store, is corrupt, or was written by a newer
    /// byline is an error naming it.
    pub fn connect(location: &Location) -> Result<Store, StoreError> {
        let name = location.name();
        let write = connect(location, &name)?;
        migrate(&write, &name)?;
        let read = connect(location, &name)?;
        let pid = write.backend_pid().unwrap_or(0);
        Ok(Store {
            inner: Arc::new(Inner {
                location: location.clone(),
                name,
                write: Mutex::new(write),
                read: Mutex::new(read),
                snapshot: Mutex::new(()),
                writer_pid: std::sync::atomic::AtomicI64::new(pid),
            }),
        })
    }

    /// Can several byline processes share this store (and so must they
    /// claim each refresh, see [`Store::claim`])? PostgreSQL's can.
    pub fn shared(&self) -> bool {
        matches!(self.inner.location, Location::Postgres(_))
    }

    /// The PostgreSQL server process that writes for this handle (and so
    /// sends its change notifications); `None` for SQLite.
    pub fn writer_pid(&self) -> Option<i64> {
        use std::sync::atomic::Ordering::Relaxed;
        // Not behind a running write: the pid it had then will do.
        if let Ok(db) = self.inner.write.try_lock() {
            self.inner
                .writer_pid
                .store(db.backend_pid().unwrap_or(0), Relaxed);
        }
        Some(self.inner.writer_pid.load(Relaxed)).filter(|&pid| pid != 0)
    }

    /// Where this store lives.
    pub fn location(&self) -> &Location {
        &self.inner.location
    }

    /// SQLite's `PRAGMA quick_check` over the whole file: `Ok(None)` when it
    /// is sound, `Ok(Some(what))` naming the damage (with what to do about
    /// it), `Err` when the check itself cannot run. PostgreSQL checks its
    /// own pages: nothing to do here.
    pub fn quick_check(&self) -> Result<Option<String>, StoreError> {
        let Location::Sqlite(_) = &self.inner.location else {
            return Ok(None);
        };
        // Its own connection: the check reads the whole file, and must not
        // hold the one feeds are read through while it does.
        let db = connect(&self.inner.location, &self.inner.name)?;
        let found = db.query("PRAGMA quick_check", params![]);
        match found {
            Ok(rows) => {
                let lines: Vec<String> = rows
                    .iter()
                    .map(|r| r.get::<String>(0).unwrap_or_default())
                    .collect();
                if lines.len() == 1 && lines[0] == "ok" {
                    Ok(None)
                } else {
                    Ok(Some(format!(
                        "{}: the store is damaged ({}); {DAMAGE_HINT}",
                        self.path_str(),
                        lines.join("; ")
                    )))
                }
            }
            Err(e) if e.is_damage() => Ok(Some(format!(
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
        self.write()
            .sqlite()
            .is_some_and(|c| c.is_readonly(rusqlite::MAIN_DB).unwrap_or(false))
    }

    /// Run `f`'s reads against one snapshot of the store, as of its first
    /// read: an edition read query by query never mixes stories from before
    /// and after another process's commit (a story in its source's feed but
    /// not yet in its author's). A read transaction, REPEATABLE READ on
    /// PostgreSQL; SQLite's WAL gives it the same.
    pub fn snapshot<T>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let _one = self
            .inner
            .snapshot
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let begin = match self.inner.location {
            Location::Sqlite(_) => "BEGIN",
            Location::Postgres(_) => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        };
        let sql = |source| StoreError::Sql {
            path: self.path_str(),
            context: "cannot read a snapshot".to_owned(),
            source,
        };
        self.read().batch(begin).map_err(sql)?;
        /// Ends the read transaction however `f` ends (a panic too).
        struct End<'a>(&'a Store);
        impl Drop for End<'_> {
            fn drop(&mut self) {
                // Ending a read-only transaction cannot lose anything.
                let _ = self.0.read().batch("COMMIT");
            }
        }
        let end = End(self);
        let out = f(self);
        drop(end);
        out
    }

    fn path_str(&self) -> String {
        self.inner.name.clone()
    }

    /// Run the write `f` until it does not collide with another process's
    /// (PostgreSQL only; see [`DbError::is_conflict`]), a few times at most,
    /// each after a short random wait.
    fn retrying<T>(&self, mut f: impl FnMut() -> Result<T, StoreError>) -> Result<T, StoreError> {
        let mut attempt = 0;
        loop {
            match f() {
                Err(StoreError::Sql { source, .. }) if source.is_conflict() && attempt < 8 => {
                    attempt += 1;
                    let wait = fastrand::u64(1..=5 << attempt.min(5));
                    std::thread::sleep(Duration::from_millis(wait));
                }
                other => return other,
            }
        }
    }

    fn write(&self) -> MutexGuard<'_, Db> {
        // A panic while holding the lock dropped its transaction, which rolled
        // back: the connection is still sound.
        self.inner
            .write
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn read(&self) -> MutexGuard<'_, Db> {
        self.inner
            .read
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Open one connection with the store's settings.
fn connect(location: &Location, name: &str) -> Result<Db, StoreError> {
    let open_err = |source: DbError| StoreError::Open {
        path: name.to_owned(),
        source,
    };
    match location {
        Location::Sqlite(path) => connect_sqlite(path)
            .map(Db::Sqlite)
            .map_err(|e| open_err(e.into())),
        Location::Postgres(url) => Db::postgres(url, CONNECT_TIMEOUT).map_err(open_err),
    }
}

/// A SQLite connection: WAL so readers and one writer never block each
/// other, `synchronous = NORMAL` (durable at each checkpoint, never corrupt
/// on power loss), a busy timeout for a second process, and foreign keys so
/// deleting a story deletes its copies and keys. No memory map: feeds are
/// read from the store when an edition is published, not per request, so
/// mapped pages would only add the store's size to the server's resident
/// memory (190 MiB at 1,000,000 stories).
fn connect_sqlite(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // The first statement that reads the file: a corrupt file or another
    // kind of file fails here ("file is not a database").
    let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")?;
    Ok(conn)
}

/// Apply the migrations this store lacks, each with its version bump in one
/// write transaction, so two processes opening a new store at once do not
/// both migrate it. A store at the current version is opened without a
/// write, so one the operating system will not let us write can be served.
fn migrate(db: &Db, name: &str) -> Result<(), StoreError> {
    let known = schema::latest();
    let open_err = |source: DbError| StoreError::Open {
        path: name.to_owned(),
        source,
    };
    if schema::version(db).map_err(open_err)? == known {
        return Ok(());
    }
    loop {
        let tx = db.exclusive_tx().map_err(open_err)?;
        let found = schema::version(&tx).map_err(open_err)?;
        if found > known {
            return Err(StoreError::NewerSchema {
                path: name.to_owned(),
                found,
                known,
            });
        }
        if found == known {
            return Ok(());
        }
        let to = schema::migrate_one(&tx, found).map_err(|source| StoreError::Sql {
            path: name.to_owned(),
            context: format!("migrating the schema from version {found}"),
            source,
        })?;
        tx.commit().map_err(|source| StoreError::Sql {
            path: name.to_owned(),
            context: format!("migrating the schema to version {to}"),
            source,
        })?;
    }
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
        let db = store.read();
        let conn = db.sqlite().unwrap();
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
