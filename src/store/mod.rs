//! The store: the SQLite file that keeps every item byline has seen, so a feed
//! holds what rolled off its listing and survives restarts.
//!
//! A *stored item* is an [`Item`] plus what only the store knows: when it was
//! first and last seen, and its *stable instant* — the time renderers may give
//! an item whose source states only a date (first-seen, when it was first seen
//! on that date; otherwise midnight of the date in the source's zone; fixed at
//! first sight, never the time of the latest refresh).
//!
//! Writes group into *listings*: one [`Store::upsert_items`] call stores what
//! one read of one source showed, in one transaction, under a new sequence
//! number. Feed order is newest day first; within a day, items placed by a
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

mod schema;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Utc};
use chrono_tz::Tz;
use rusqlite::{
    Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior, params,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::{Item, Person, Published, Tag};
use crate::views::ViewKey;

/// How long a connection waits for another writer (a second byline process)
/// before giving up with "database is locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The columns every item query reads, in the order [`decode`] expects.
const ITEM_COLUMNS: &str = "i.id, i.source, i.also_in, i.url, i.title, i.summary, i.authors, i.tags, i.image, \
     i.published_kind, i.published, i.published_zone, i.updated, i.position, i.stable_instant, \
     i.first_seen, i.last_seen";

/// Feed order over table `t` (items or a join table), whose last column
/// `key` (`key` or `item`) makes it total. Every feed index has these columns.
fn feed_order(t: &str, key: &str) -> String {
    format!("{t}.day DESC, {t}.seq DESC, {t}.position, {t}.at DESC, {t}.{key}")
}

/// Why the store could not do what was asked; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "{path}: cannot open the store: {source} (is it a byline store? a corrupt file can be moved away and rebuilt with `byline refresh`)"
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
    #[error("{path}: {context}: {source}")]
    Sql {
        path: String,
        context: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{path}: item {id:?}: {message}")]
    Corrupt {
        path: String,
        id: String,
        message: String,
    },
}

/// What one [`Store::upsert_items`] changed.
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
        let mut write = connect(path, false)?;
        migrate(&mut write, path)?;
        let read = connect(path, true)?;
        Ok(Store {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                write: Mutex::new(write),
                read: Mutex::new(read),
            }),
        })
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
    pub fn upsert_items(
        &self,
        source: &str,
        items: &[Item],
        seen_at: DateTime<Utc>,
    ) -> Result<UpsertStats, StoreError> {
        let mut stats = UpsertStats::default();
        if items.is_empty() {
            return Ok(stats);
        }
        let path = self.path_str();
        let sql = |context: &str| {
            let path = path.clone();
            let context = format!("source {source:?}: {context}");
            move |source| StoreError::Sql {
                path,
                context,
                source,
            }
        };
        let mut conn = self.write();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql("cannot start a write"))?;
        let seq: i64 = tx
            .query_row(
                "UPDATE counters SET value = value + 1 WHERE name = 'seq' RETURNING value",
                [],
                |r| r.get(0),
            )
            .map_err(sql("cannot number the listing"))?;
        let seen_ms = seen_at.timestamp_millis();

        // What the store has of each item, first copy of an id only.
        let mut done: HashSet<&str> = HashSet::with_capacity(items.len());
        let mut rows: Vec<(&Item, Row, Option<Existing>)> = Vec::with_capacity(items.len());
        for item in items {
            if !done.insert(item.id.as_str()) {
                continue;
            }
            let existing: Option<Existing> = tx
                .prepare_cached(
                    "SELECT key, source, content_hash, first_seen, day, seq, position, also_in \
                     FROM items WHERE id = ?1",
                )
                .and_then(|mut s| {
                    s.query_row([&item.id], |r| {
                        Ok(Existing {
                            key: r.get(0)?,
                            source: r.get(1)?,
                            hash: r.get(2)?,
                            first_seen: r.get(3)?,
                            day: r.get(4)?,
                            seq: r.get(5)?,
                            position: r.get(6)?,
                            also_in: r.get(7)?,
                        })
                    })
                    .optional()
                })
                .map_err(sql(&format!("item {:?}", item.id)))?;
            rows.push((item, Row::encode(item), existing));
        }
        let restamp = needs_restamp(source, &rows);

        for (item, row, existing) in &rows {
            let context = format!("item {:?}", item.id);
            let position = i64::from(item.position);
            match existing {
                None => {
                    let stable = stable_instant(item.published.as_ref(), seen_at);
                    let also_in = union(source, "[]", &item.also_in);
                    let key = insert_item(&tx, source, item, row, seq, seen_ms, stable, &also_in)
                        .map_err(sql(&context))?;
                    insert_keys(&tx, key, item, row, (seq, position), source, &also_in)
                        .map_err(sql(&context))?;
                    stats.new += 1;
                }
                Some(e) if e.source != source => {
                    // Another source's story: it stays as that source stored
                    // it, and now also appears in this source's feed.
                    let also_in = union(&e.source, &e.also_in, &[source.to_owned()]);
                    tx.prepare_cached(
                        "UPDATE items SET last_seen = max(last_seen, ?2), also_in = ?3 WHERE key = ?1",
                    )
                    .and_then(|mut s| s.execute(params![e.key, seen_ms, json(&also_in)]))
                    .map_err(sql(&context))?;
                    tx.prepare_cached(
                        "INSERT OR IGNORE INTO item_sources (item, slug, day, seq, position, at) \
                         SELECT key, ?2, day, seq, position, at FROM items WHERE key = ?1",
                    )
                    .and_then(|mut s| s.execute(params![e.key, source]))
                    .map_err(sql(&context))?;
                    stats.unchanged += 1;
                }
                Some(e) if e.hash == row.hash && !restamp => {
                    // Only the last-seen time moves: no index is touched.
                    tx.prepare_cached(
                        "UPDATE items SET last_seen = max(last_seen, ?2) WHERE key = ?1",
                    )
                    .and_then(|mut s| s.execute(params![e.key, seen_ms]))
                    .map_err(sql(&context))?;
                    stats.unchanged += 1;
                }
                Some(e) if e.hash == row.hash => {
                    tx.prepare_cached(
                        "UPDATE items SET last_seen = max(last_seen, ?2), seq = ?3, position = ?4 \
                         WHERE key = ?1",
                    )
                    .and_then(|mut s| s.execute(params![e.key, seen_ms, seq, position]))
                    .map_err(sql(&context))?;
                    for table in KEY_TABLES {
                        tx.prepare_cached(&format!(
                            "UPDATE {table} SET seq = ?2, position = ?3 WHERE item = ?1"
                        ))
                        .and_then(|mut s| s.execute(params![e.key, seq, position]))
                        .map_err(sql(&context))?;
                    }
                    stats.unchanged += 1;
                }
                Some(e) => {
                    // The stable instant was fixed at first sight; only a new
                    // publication day makes the old one meaningless.
                    let first_seen =
                        DateTime::from_timestamp_millis(e.first_seen).unwrap_or(seen_at);
                    let stable = if e.day == row.day {
                        None
                    } else {
                        Some(stable_instant(item.published.as_ref(), first_seen))
                    };
                    let updated = item.updated.unwrap_or_else(|| seen_at.fixed_offset());
                    let place = if restamp {
                        (seq, position)
                    } else {
                        (e.seq, e.position)
                    };
                    update_item(&tx, e.key, item, row, place, seen_ms, updated, stable)
                        .map_err(sql(&context))?;
                    for table in KEY_TABLES {
                        tx.prepare_cached(&format!("DELETE FROM {table} WHERE item = ?1"))
                            .and_then(|mut s| s.execute([e.key]))
                            .map_err(sql(&context))?;
                    }
                    let also_in = union(source, &e.also_in, &item.also_in);
                    if also_in != union(source, &e.also_in, &[]) {
                        tx.prepare_cached("UPDATE items SET also_in = ?2 WHERE key = ?1")
                            .and_then(|mut s| s.execute(params![e.key, json(&also_in)]))
                            .map_err(sql(&context))?;
                    }
                    insert_keys(&tx, e.key, item, row, place, source, &also_in)
                        .map_err(sql(&context))?;
                    stats.updated += 1;
                }
            }
        }
        tx.execute(
            "INSERT INTO sources (name, latest_seen) VALUES (?1, ?2) \
             ON CONFLICT (name) DO UPDATE SET latest_seen = max(latest_seen, excluded.latest_seen)",
            params![source, seen_ms],
        )
        .map_err(sql("cannot record the listing"))?;
        tx.commit().map_err(sql("cannot commit"))?;
        Ok(stats)
    }

    /// The newest `limit` items of every source, in feed order.
    pub fn items_all(&self, limit: usize) -> Result<Vec<Item>, StoreError> {
        self.items(&ViewKey::All, limit)
    }

    /// The newest `limit` items bylined by the author `slug`, in feed order.
    pub fn items_for_author(&self, slug: &str, limit: usize) -> Result<Vec<Item>, StoreError> {
        self.items(&ViewKey::Author(slug.to_owned()), limit)
    }

    /// The newest `limit` items tagged `slug`, in feed order.
    pub fn items_for_tag(&self, slug: &str, limit: usize) -> Result<Vec<Item>, StoreError> {
        self.items(&ViewKey::Tag(slug.to_owned()), limit)
    }

    /// The newest `limit` items carried by source `name` (stored by it, or
    /// also in it), in feed order.
    pub fn items_for_source(&self, name: &str, limit: usize) -> Result<Vec<Item>, StoreError> {
        self.items(&ViewKey::Source(name.to_owned()), limit)
    }

    /// The newest `limit` items of a view, in feed order. A custom feed
    /// (`ViewKey::Custom`) is a rule, not an index: it gives nothing here;
    /// filter [`Store::items_all`] with the config's rules instead.
    pub fn items(&self, view: &ViewKey, limit: usize) -> Result<Vec<Item>, StoreError> {
        Ok(self
            .stored(view, limit)?
            .into_iter()
            .map(|s| s.item)
            .collect())
    }

    /// Like [`Store::items`], with first/last-seen times and stable instants.
    /// Reads at most `limit` index entries, whatever the store's size.
    pub fn stored(&self, view: &ViewKey, limit: usize) -> Result<Vec<StoredItem>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let Some((sql, key)) = view_query(view) else {
            return Ok(Vec::new());
        };
        let path = self.path_str();
        let err = |source| StoreError::Sql {
            path: path.clone(),
            context: format!("cannot read the items of {}", view.path()),
            source,
        };
        let conn = self.read();
        let mut stmt = conn.prepare_cached(&sql).map_err(err)?;
        let raw: Vec<RawItem> = match key {
            None => stmt.query_map(params![limit], RawItem::from_row),
            Some(k) => stmt.query_map(params![limit, k], RawItem::from_row),
        }
        .and_then(|rows| rows.collect::<Result<_, _>>())
        .map_err(err)?;
        drop(stmt);
        drop(conn);
        raw.into_iter().map(|r| r.decode(&path)).collect()
    }

    /// How many items the store holds, of one source or of all.
    pub fn item_count(&self, source: Option<&str>) -> Result<usize, StoreError> {
        let conn = self.read();
        let n: i64 = match source {
            None => conn.query_row("SELECT count(*) FROM items", [], |r| r.get(0)),
            Some(s) => conn.query_row("SELECT count(*) FROM items WHERE source = ?1", [s], |r| {
                r.get(0)
            }),
        }
        .map_err(|source| StoreError::Sql {
            path: self.path_str(),
            context: "cannot count items".to_owned(),
            source,
        })?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    /// Drop history of `source` beyond `max_items` (in feed order) and items
    /// older than `max_age` (by their stable instant, or first-seen time when
    /// undated). Items in the source's latest listing always stay, so a
    /// listing longer than the limits does not churn. Returns how many went.
    pub fn apply_retention(
        &self,
        source: &str,
        max_items: Option<usize>,
        max_age: Option<chrono::Duration>,
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        if max_items.is_none() && max_age.is_none() {
            return Ok(0);
        }
        let path = self.path_str();
        let sql = |e| StoreError::Sql {
            path: path.clone(),
            context: format!("source {source:?}: cannot apply retention"),
            source: e,
        };
        let mut conn = self.write();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql)?;
        // Items of the latest listing were all seen at its time.
        let latest: i64 = tx
            .query_row(
                "SELECT latest_seen FROM sources WHERE name = ?1",
                [source],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql)?
            .unwrap_or(i64::MIN);
        let mut removed = 0;
        if let Some(max) = max_items {
            let keep = i64::try_from(max).unwrap_or(i64::MAX);
            removed += tx
                .execute(
                    &format!(
                        "DELETE FROM items WHERE last_seen < ?2 AND key IN (\
                           SELECT t.key FROM items t WHERE t.source = ?1 \
                           ORDER BY {} LIMIT -1 OFFSET ?3)",
                        feed_order("t", "key")
                    ),
                    params![source, latest, keep],
                )
                .map_err(sql)?;
        }
        if let Some(age) = max_age {
            let cutoff = now - age;
            removed += tx
                .execute(
                    "DELETE FROM items WHERE source = ?1 AND last_seen < ?2 \
                     AND coalesce(at, first_seen / 1000) < ?3",
                    params![source, latest, cutoff.timestamp()],
                )
                .map_err(sql)?;
        }
        tx.commit().map_err(sql)?;
        Ok(removed)
    }

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

/// The query of a view's items, `?1` the limit and `?2` its key (if any);
/// `None` for a view the store has no index for.
fn view_query(view: &ViewKey) -> Option<(String, Option<&str>)> {
    // CROSS JOIN keeps the join table outermost, so SQLite walks its feed
    // index in order and stops after `limit` rows instead of sorting.
    match view {
        ViewKey::All => Some((
            format!(
                "SELECT {ITEM_COLUMNS} FROM items i ORDER BY {} LIMIT ?1",
                feed_order("i", "key")
            ),
            None,
        )),
        ViewKey::Source(name) => Some((
            format!(
                "SELECT {ITEM_COLUMNS} FROM item_sources t CROSS JOIN items i ON i.key = t.item \
                 WHERE t.slug = ?2 ORDER BY {} LIMIT ?1",
                feed_order("t", "item")
            ),
            Some(name),
        )),
        ViewKey::Author(slug) => Some((
            format!(
                "SELECT {ITEM_COLUMNS} FROM item_authors t CROSS JOIN items i ON i.key = t.item \
                 WHERE t.slug = ?2 ORDER BY {} LIMIT ?1",
                feed_order("t", "item")
            ),
            Some(slug),
        )),
        ViewKey::Tag(slug) => Some((
            format!(
                "SELECT {ITEM_COLUMNS} FROM item_tags t CROSS JOIN items i ON i.key = t.item \
                 WHERE t.slug = ?2 ORDER BY {} LIMIT ?1",
                feed_order("t", "item")
            ),
            Some(slug),
        )),
        ViewKey::Custom(_) => None,
    }
}

/// Open one connection with the store's settings: WAL so readers and one
/// writer never block each other, `synchronous = NORMAL` (durable at each
/// checkpoint, never corrupt on power loss), a busy timeout for a second
/// process, and foreign keys so deleting an item deletes its keys. The
/// `reader` connection reads through a memory map of the first 256 MiB: a
/// feed query fetches its rows by key from all over the file, and mapped
/// pages cost no system call (at 1,000,000 items this cut the per-author
/// median several times; the pages are the OS's file cache, shared and
/// reclaimable, though they count in the process's resident size).
fn connect(path: &Path, reader: bool) -> Result<Connection, StoreError> {
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
    if reader {
        conn.execute_batch("PRAGMA mmap_size = 268435456;")
            .map_err(open_err)?;
    }
    Ok(conn)
}

/// Apply the migrations this file lacks, each with its version bump in one
/// transaction. The version is read inside the write lock, so two processes
/// opening a new file at once do not both migrate it.
fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let known = schema::latest();
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

/// The time a renderer may give the item; see [`StoredItem::stable_instant`].
fn stable_instant(
    published: Option<&Published>,
    first_seen: DateTime<Utc>,
) -> Option<DateTime<FixedOffset>> {
    match published? {
        Published::DateTime(dt) => Some(*dt),
        p @ Published::Date(day, tz) => {
            let seen_there = first_seen.with_timezone(tz);
            if seen_there.date_naive() == *day {
                Some(seen_there.fixed_offset())
            } else {
                Some(p.instant())
            }
        }
    }
}

struct Existing {
    key: i64,
    source: String,
    hash: String,
    first_seen: i64,
    day: Option<i64>,
    seq: i64,
    position: i64,
    /// JSON list of source names.
    also_in: String,
}

/// The tables of an item's keys, each with the item's feed-order columns.
const KEY_TABLES: [&str; 3] = ["item_authors", "item_tags", "item_sources"];

/// The sources besides `owner` that carried an item: those stored (`stored`,
/// a JSON list) and `more`, sorted, without duplicates.
fn union(owner: &str, stored: &str, more: &[String]) -> Vec<String> {
    let mut all: Vec<String> = serde_json::from_str(stored).unwrap_or_default();
    all.extend(more.iter().cloned());
    all.retain(|s| s != owner);
    all.sort();
    all.dedup();
    all
}

fn json(names: &[String]) -> String {
    serde_json::to_string(names).unwrap_or_else(|_| "[]".to_owned())
}

/// Must the items of this listing all take its new sequence number and
/// their new positions? Not when the listing only added stories above the
/// ones already stored, in the order they are stored in: then the stored
/// `(seq, position)` already give listing order, new items sort first by
/// their newer `seq`, and the common refresh moves no index entry. Otherwise
/// (a story inserted below a stored one, stories reordered) every item is
/// re-stamped so the store shows the listing's order.
fn needs_restamp(source: &str, rows: &[(&Item, Row, Option<Existing>)]) -> bool {
    let mut in_listing_order: Vec<&(&Item, Row, Option<Existing>)> = rows.iter().collect();
    in_listing_order.sort_by_key(|(item, _, _)| item.position);
    let mut previous: Option<(i64, i64)> = None;
    for (_, _, existing) in in_listing_order {
        match existing {
            // A new story below a stored one.
            None if previous.is_some() => return true,
            None => {}
            // Another source's item: its place is that source's business.
            Some(e) if e.source != source => {}
            Some(e) => {
                if let Some((seq, position)) = previous {
                    let in_order = seq > e.seq || (seq == e.seq && position < e.position);
                    if !in_order {
                        return true;
                    }
                }
                previous = Some((e.seq, e.position));
            }
        }
    }
    false
}

#[derive(Serialize, Deserialize)]
struct AuthorJson {
    name: String,
    slug: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct TagJson {
    name: String,
    slug: String,
}

/// The derived columns of one item.
struct Row {
    authors: String,
    tags: String,
    published_kind: Option<&'static str>,
    published: Option<String>,
    published_zone: Option<String>,
    day: Option<i64>,
    at: Option<i64>,
    hash: String,
}

impl Row {
    fn encode(item: &Item) -> Row {
        let authors: Vec<AuthorJson> = item
            .authors
            .iter()
            .map(|a| AuthorJson {
                name: a.name.clone(),
                slug: a.slug.clone(),
                url: a.url.clone(),
            })
            .collect();
        let tags: Vec<TagJson> = item
            .tags
            .iter()
            .map(|t| TagJson {
                name: t.name.clone(),
                slug: t.slug.clone(),
            })
            .collect();
        // Serializing plain strings and vectors of them cannot fail.
        let authors = serde_json::to_string(&authors).unwrap_or_else(|_| "[]".to_owned());
        let tags = serde_json::to_string(&tags).unwrap_or_else(|_| "[]".to_owned());
        let (published_kind, published, published_zone) = match &item.published {
            None => (None, None, None),
            Some(Published::DateTime(dt)) => (Some("datetime"), Some(dt.to_rfc3339()), None),
            Some(Published::Date(d, tz)) => (
                Some("date"),
                Some(d.to_string()),
                Some(tz.name().to_owned()),
            ),
        };
        let day = item.day().map(|d| i64::from(d.num_days_from_ce()));
        let at = item.published.as_ref().map(|p| p.instant().timestamp());
        // What a reader sees: a change here is an edit worth an `updated`.
        let content = serde_json::json!([
            item.url,
            item.title,
            item.summary,
            authors,
            tags,
            item.image,
            published_kind,
            published,
            published_zone,
            item.updated.map(|u| u.to_rfc3339()),
        ]);
        let digest = Sha256::digest(content.to_string().as_bytes());
        let hash = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        Row {
            authors,
            tags,
            published_kind,
            published,
            published_zone,
            day,
            at,
            hash,
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn insert_item(
    tx: &Transaction,
    source: &str,
    item: &Item,
    row: &Row,
    seq: i64,
    seen_ms: i64,
    stable: Option<DateTime<FixedOffset>>,
    also_in: &[String],
) -> rusqlite::Result<i64> {
    tx.prepare_cached(
        "INSERT INTO items (id, source, url, title, summary, authors, tags, image, published_kind, \
         published, published_zone, updated, day, seq, position, at, stable_instant, first_seen, \
         last_seen, content_hash, also_in) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?18, ?19, ?20) \
         RETURNING key",
    )?
    .query_row(
        params![
            item.id,
            source,
            item.url,
            item.title,
            item.summary,
            row.authors,
            row.tags,
            item.image,
            row.published_kind,
            row.published,
            row.published_zone,
            item.updated.map(|u| u.to_rfc3339()),
            row.day,
            seq,
            i64::from(item.position),
            row.at,
            stable.map(|s| s.to_rfc3339()),
            seen_ms,
            row.hash,
            json(also_in),
        ],
        |r| r.get(0),
    )
}

#[allow(clippy::too_many_arguments)]
fn update_item(
    tx: &Transaction,
    key: i64,
    item: &Item,
    row: &Row,
    (seq, position): (i64, i64),
    seen_ms: i64,
    updated: DateTime<FixedOffset>,
    stable: Option<Option<DateTime<FixedOffset>>>,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "UPDATE items SET url = ?2, title = ?3, summary = ?4, authors = ?5, tags = ?6, image = ?7, \
         published_kind = ?8, published = ?9, published_zone = ?10, updated = ?11, day = ?12, \
         seq = ?13, position = ?14, at = ?15, last_seen = max(last_seen, ?16), content_hash = ?17, \
         stable_instant = CASE WHEN ?18 THEN ?19 ELSE stable_instant END \
         WHERE key = ?1",
    )?
    .execute(params![
        key,
        item.url,
        item.title,
        item.summary,
        row.authors,
        row.tags,
        item.image,
        row.published_kind,
        row.published,
        row.published_zone,
        updated.to_rfc3339(),
        row.day,
        seq,
        position,
        row.at,
        seen_ms,
        row.hash,
        stable.is_some(),
        stable.flatten().map(|s| s.to_rfc3339()),
    ])?;
    Ok(())
}

/// The author, tag and source keys of an item, carrying its feed-order columns.
fn insert_keys(
    tx: &Transaction,
    key: i64,
    item: &Item,
    row: &Row,
    (seq, position): (i64, i64),
    source: &str,
    also_in: &[String],
) -> rusqlite::Result<()> {
    let sources = std::iter::once(source)
        .chain(also_in.iter().map(String::as_str))
        .collect();
    for (table, slugs) in [
        (
            "item_authors",
            item.authors
                .iter()
                .map(|a| a.slug.as_str())
                .collect::<Vec<_>>(),
        ),
        (
            "item_tags",
            item.tags.iter().map(|t| t.slug.as_str()).collect(),
        ),
        ("item_sources", sources),
    ] {
        let mut stmt = tx.prepare_cached(&format!(
            "INSERT OR IGNORE INTO {table} (item, slug, day, seq, position, at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
        ))?;
        for slug in slugs {
            stmt.execute(params![key, slug, row.day, seq, position, row.at])?;
        }
    }
    Ok(())
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

/// One row as SQLite gives it, before the checks of [`RawItem::decode`].
struct RawItem {
    id: String,
    source: String,
    also_in: String,
    url: Option<String>,
    title: String,
    summary: Option<String>,
    authors: String,
    tags: String,
    image: Option<String>,
    published_kind: Option<String>,
    published: Option<String>,
    published_zone: Option<String>,
    updated: Option<String>,
    position: i64,
    stable_instant: Option<String>,
    first_seen: i64,
    last_seen: i64,
}

impl RawItem {
    fn from_row(r: &rusqlite::Row) -> rusqlite::Result<RawItem> {
        Ok(RawItem {
            id: r.get(0)?,
            source: r.get(1)?,
            also_in: r.get(2)?,
            url: r.get(3)?,
            title: r.get(4)?,
            summary: r.get(5)?,
            authors: r.get(6)?,
            tags: r.get(7)?,
            image: r.get(8)?,
            published_kind: r.get(9)?,
            published: r.get(10)?,
            published_zone: r.get(11)?,
            updated: r.get(12)?,
            position: r.get(13)?,
            stable_instant: r.get(14)?,
            first_seen: r.get(15)?,
            last_seen: r.get(16)?,
        })
    }

    /// Back to the model; a value this build did not write is an error naming
    /// the item, never a panic.
    fn decode(self, path: &str) -> Result<StoredItem, StoreError> {
        let corrupt = |message: String| StoreError::Corrupt {
            path: path.to_owned(),
            id: self.id.clone(),
            message,
        };
        let rfc3339 = |what: &str, s: &str| {
            DateTime::parse_from_rfc3339(s)
                .map_err(|e| corrupt(format!("{what} {s:?} is not an RFC 3339 time: {e}")))
        };
        let authors: Vec<AuthorJson> = serde_json::from_str(&self.authors)
            .map_err(|e| corrupt(format!("authors are not a JSON list: {e}")))?;
        let tags: Vec<TagJson> = serde_json::from_str(&self.tags)
            .map_err(|e| corrupt(format!("tags are not a JSON list: {e}")))?;
        let also_in: Vec<String> = serde_json::from_str(&self.also_in)
            .map_err(|e| corrupt(format!("also_in is not a JSON list: {e}")))?;
        let published = match (
            self.published_kind.as_deref(),
            self.published.as_deref(),
            self.published_zone.as_deref(),
        ) {
            (None, _, _) => None,
            (Some("datetime"), Some(s), _) => Some(Published::DateTime(rfc3339("published", s)?)),
            (Some("date"), Some(s), Some(zone)) => {
                let day = NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .map_err(|e| corrupt(format!("published date {s:?}: {e}")))?;
                let tz: Tz = zone
                    .parse()
                    .map_err(|_| corrupt(format!("unknown time zone {zone:?}")))?;
                Some(Published::Date(day, tz))
            }
            (Some(kind), s, zone) => {
                return Err(corrupt(format!(
                    "published {kind:?} {s:?} in zone {zone:?} is not a date or a date-time"
                )));
            }
        };
        let updated = self
            .updated
            .as_deref()
            .map(|s| rfc3339("updated", s))
            .transpose()?;
        let stable_instant = self
            .stable_instant
            .as_deref()
            .map(|s| rfc3339("stable_instant", s))
            .transpose()?;
        let time = |what: &str, ms: i64| {
            DateTime::from_timestamp_millis(ms)
                .ok_or_else(|| corrupt(format!("{what} {ms} is out of range")))
        };
        let first_seen = time("first_seen", self.first_seen)?;
        let last_seen = time("last_seen", self.last_seen)?;
        let position = u32::try_from(self.position)
            .map_err(|_| corrupt(format!("position {} is out of range", self.position)))?;
        Ok(StoredItem {
            item: Item {
                id: self.id,
                url: self.url,
                title: self.title,
                summary: self.summary,
                authors: authors
                    .into_iter()
                    .map(|a| Person {
                        name: a.name,
                        slug: a.slug,
                        url: a.url,
                    })
                    .collect(),
                published,
                updated,
                tags: tags
                    .into_iter()
                    .map(|t| Tag {
                        name: t.name,
                        slug: t.slug,
                    })
                    .collect(),
                image: self.image,
                source: self.source,
                also_in,
                position,
            },
            first_seen,
            last_seen,
            stable_instant,
        })
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
        let conn = store.read();
        for view in [
            ViewKey::All,
            ViewKey::Source("nk".into()),
            ViewKey::Author("a".into()),
            ViewKey::Tag("t".into()),
        ] {
            let (sql, key) = view_query(&view).unwrap();
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let row = |r: &rusqlite::Row| r.get::<_, String>(3);
            let plan: Vec<String> = match key {
                None => stmt.query_map(params![50], row),
                Some(k) => stmt.query_map(params![50, k], row),
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
                    || matches!(view, ViewKey::All | ViewKey::Source(_)),
                "{view:?}: {plan}"
            );
        }
    }

    #[test]
    fn stable_instant_is_first_seen_on_the_day_else_midnight() {
        let seoul = chrono_tz::Asia::Seoul;
        let day = NaiveDate::from_ymd_opt(2022, 5, 20).unwrap();
        let p = Published::Date(day, seoul);
        // 2022-05-20 03:00 UTC is 12:00 in Seoul, the same day.
        let seen = DateTime::parse_from_rfc3339("2022-05-20T03:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            stable_instant(Some(&p), seen).unwrap().to_rfc3339(),
            "2022-05-20T12:00:00+09:00"
        );
        // 2022-05-20 16:00 UTC is already the 21st in Seoul: midnight of the 20th.
        let late = DateTime::parse_from_rfc3339("2022-05-20T16:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            stable_instant(Some(&p), late).unwrap().to_rfc3339(),
            "2022-05-20T00:00:00+09:00"
        );
        assert_eq!(stable_instant(None, seen), None);
    }
}
