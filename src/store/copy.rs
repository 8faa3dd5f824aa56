//! Copying: one store's whole history into another, of either engine, so a
//! SQLite store can move up to PostgreSQL (or back) keeping every story,
//! copy, key, fetch state, read, alarm and article.
//!
//! A *table copy* walks the source table in primary-key order, a batch at a
//! time (memory stays bounded whatever the store's size), and writes each
//! batch as one multi-row insert, all inside one write transaction on the
//! target: a copy that fails leaves the target as it was. Leases are not
//! copied: they belong to running processes.

use super::db::{Db, DbError, Param, Row, Value, params};
use super::{Store, StoreError};

/// Every copied table, parents first, with its primary key and columns.
/// `tests::every_column_is_copied` checks this against the schema.
pub(super) const TABLES: &[(&str, &[&str], &[&str])] = &[
    (
        "items",
        &["key"],
        &[
            "key",
            "id",
            "source",
            "also_in",
            "url",
            "title",
            "summary",
            "authors",
            "tags",
            "image",
            "published_kind",
            "published",
            "published_zone",
            "updated",
            "day",
            "seq",
            "position",
            "at",
            "stable_instant",
            "first_seen",
            "last_seen",
            "content_hash",
            "title_key",
            "content_html",
        ],
    ),
    (
        "copies",
        &["source", "id"],
        &[
            "source",
            "id",
            "story",
            "url",
            "title",
            "summary",
            "authors",
            "tags",
            "image",
            "published_kind",
            "published",
            "published_zone",
            "updated",
            "seq",
            "position",
            "first_seen",
            "last_seen",
            "content_hash",
        ],
    ),
    (
        "item_authors",
        &["item", "slug"],
        &["item", "slug", "day", "seq", "position", "at"],
    ),
    (
        "item_tags",
        &["item", "slug"],
        &["item", "slug", "day", "seq", "position", "at"],
    ),
    (
        "item_sources",
        &["item", "slug"],
        &["item", "slug", "day", "seq", "position", "at"],
    ),
    ("sources", &["name"], &["name", "latest_seen", "listings"]),
    ("counters", &["name"], &["name", "value"]),
    (
        "fetch_state",
        &["source", "url"],
        &[
            "source",
            "url",
            "etag",
            "last_modified",
            "last_success",
            "last_error",
            "last_error_at",
            "consecutive_failures",
            "warnings",
        ],
    ),
    (
        "reads",
        &["id"],
        &["id", "source", "at", "cards", "fields", "pagination"],
    ),
    (
        "alarms",
        &["source", "kind"],
        &["source", "kind", "message", "since"],
    ),
    (
        "alarm_events",
        &["id"],
        &["id", "source", "kind", "event", "message", "at"],
    ),
    (
        "articles",
        &["story"],
        &[
            "story",
            "source",
            "url",
            "state",
            "attempts",
            "last_error",
            "next_try",
            "read_at",
            "published_kind",
            "published",
            "published_zone",
            "published_origin",
            "updated",
            "updated_origin",
            "authors",
            "image",
            "content_html",
            "content_text",
        ],
    ),
];

/// Tables whose integer key the target numbers from: after a copy into
/// PostgreSQL its sequence must continue past the copied keys.
const NUMBERED: &[(&str, &str)] = &[("items", "key"), ("reads", "id"), ("alarm_events", "id")];

/// Parameters per insert: well under both engines' limits.
const BATCH_PARAMS: usize = 8_000;

impl Param for Value {
    fn value(&self) -> Value {
        self.clone()
    }
}

impl Store {
    /// Copy this store's whole history into `target`, which must hold no
    /// stories yet. `progress` hears each table's name and rows copied so
    /// far. Returns the rows copied per table.
    pub fn copy_into(
        &self,
        target: &Store,
        mut progress: impl FnMut(&str, usize),
    ) -> Result<Vec<(&'static str, usize)>, StoreError> {
        let stories = target.item_count(None)?;
        if stories > 0 {
            return Err(StoreError::Corrupt {
                path: target.path_str(),
                id: "items".to_owned(),
                message: format!(
                    "the target already holds {stories} stories; copy into a new, empty store"
                ),
            });
        }
        let from = self.read();
        let to = target.write();
        let tx = to
            .exclusive_tx()
            .map_err(|e| target.copy_error("start", e))?;
        // What a new store wrote on its own (counters) gives way to the
        // copied values; leases of the target's own processes stay.
        tx.execute("DELETE FROM counters", params![])
            .map_err(|e| target.copy_error("counters", e))?;
        let mut counts = Vec::new();
        for &(table, key, columns) in TABLES {
            let n = copy_table(&from, &tx, table, key, columns, &mut progress)
                .map_err(|e| target.copy_error(table, e))?;
            counts.push((table, n));
        }
        if tx.engine() == super::db::Engine::Postgres {
            for (table, column) in NUMBERED {
                tx.execute(
                    &format!(
                        "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), \
                         coalesce((SELECT max({column}) FROM {table}), 0) + 1, false)"
                    ),
                    params![],
                )
                .map_err(|e| target.copy_error(table, e))?;
            }
        }
        tx.commit().map_err(|e| target.copy_error("commit", e))?;
        // A bulk load leaves the planner guessing until autovacuum gets to
        // it: tell it now what the tables hold, before the first feed query.
        if to.engine() == super::db::Engine::Postgres {
            to.batch("ANALYZE")
                .map_err(|e| target.copy_error("analyze", e))?;
        }
        Ok(counts)
    }

    fn copy_error(&self, what: &str, e: DbError) -> StoreError {
        StoreError::Sql {
            path: self.path_str(),
            context: format!("cannot copy {what}"),
            source: e,
        }
    }
}

/// Copy one table in key order, a batch at a time; how many rows.
fn copy_table(
    from: &Db,
    to: &Db,
    table: &str,
    key: &[&str],
    columns: &[&str],
    progress: &mut impl FnMut(&str, usize),
) -> Result<usize, DbError> {
    let per_batch = (BATCH_PARAMS / columns.len()).max(1);
    let list = columns.join(", ");
    let order = key.join(", ");
    // Key positions among the columns, for the next batch's start.
    let at: Vec<usize> = key
        .iter()
        .filter_map(|k| columns.iter().position(|c| c == k))
        .collect();
    let placeholders = |from: usize| {
        (from..from + key.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let first = format!("SELECT {list} FROM {table} ORDER BY {order} LIMIT ?1");
    let next = format!(
        "SELECT {list} FROM {table} WHERE ({order}) > ({}) ORDER BY {order} LIMIT ?1",
        placeholders(2)
    );
    let mut copied = 0;
    let mut last: Option<Vec<Value>> = None;
    loop {
        let limit = per_batch as i64;
        let rows: Vec<Row> = match &last {
            None => from.query(&first, params![limit])?,
            Some(k) => {
                let mut ps: Vec<&dyn Param> = vec![&limit];
                ps.extend(k.iter().map(|v| v as &dyn Param));
                from.query(&next, &ps)?
            }
        };
        if rows.is_empty() {
            return Ok(copied);
        }
        let values: Vec<Vec<Value>> = rows.into_iter().map(Row::into_values).collect();
        insert(to, table, columns, &values)?;
        copied += values.len();
        progress(table, copied);
        last = values
            .last()
            .map(|row| at.iter().map(|&i| row[i].clone()).collect());
    }
}

/// One multi-row insert of `rows`.
fn insert(to: &Db, table: &str, columns: &[&str], rows: &[Vec<Value>]) -> Result<(), DbError> {
    let width = columns.len();
    let tuples: Vec<String> = (0..rows.len())
        .map(|r| {
            let cells: Vec<String> = (1..=width).map(|c| format!("?{}", r * width + c)).collect();
            format!("({})", cells.join(", "))
        })
        .collect();
    let sql = format!(
        "INSERT INTO {table} ({}) VALUES {}",
        columns.join(", "),
        tuples.join(", ")
    );
    let params: Vec<&dyn Param> = rows.iter().flatten().map(|v| v as &dyn Param).collect();
    to.execute_once(&sql, &params)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A column added by a migration but not here would be lost by a copy.
    #[test]
    fn every_column_is_copied() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("s.db")).unwrap();
        let db = store.read();
        let conn = db.sqlite().unwrap();
        let tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for table in tables {
            if table == "leases" {
                continue;
            }
            let (_, _, copied) = TABLES
                .iter()
                .find(|(t, _, _)| *t == table)
                .unwrap_or_else(|| panic!("table {table} is not copied"));
            let columns: Vec<String> = conn
                .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            let mut want = columns.clone();
            want.sort();
            let mut got: Vec<String> = copied.iter().map(|c| c.to_string()).collect();
            got.sort();
            assert_eq!(got, want, "{table}");
        }
    }
}
