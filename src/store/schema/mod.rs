//! The schema: the store's tables, and the *migrations* that bring a store
//! of any older version up to the one this build writes.
//!
//! A *version* names one set of tables, the same on both engines: SQLite
//! keeps it in `PRAGMA user_version`, PostgreSQL in the table
//! `byline_schema`. Each migration runs in one write transaction together
//! with its version bump, so a crash leaves a store at one version or the
//! next, never between, and two processes opening a new store at once do
//! not both migrate it. Never edit a released migration: add the next one,
//! to both engines.
//!
//! SQLite files have grown version by version since the first release; a
//! PostgreSQL store starts at [`postgres::FIRST`] with every table at once.

mod postgres;
mod sqlite;

use super::db::{Db, DbError, params};

/// The version this build writes.
pub(crate) fn latest() -> u32 {
    sqlite::MIGRATIONS.len() as u32
}

/// The version of the store `db` speaks to: 0 for a new one.
pub(crate) fn version(db: &Db) -> Result<u32, DbError> {
    match db {
        Db::Sqlite(c) => Ok(c.query_row("PRAGMA user_version", [], |r| r.get(0))?),
        Db::Postgres(_) => {
            // A scan of the catalog, not `to_regclass`: after waiting on the
            // migration lock it sees the tables the process that held it
            // just committed (a cached lookup may not).
            let exists: bool = db
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables \
                     WHERE schemaname = current_schema() AND tablename = 'byline_schema')",
                    params![],
                )?
                .get(0)?;
            if !exists {
                return Ok(0);
            }
            let v: Option<i64> = db
                .query_one("SELECT max(version) FROM byline_schema", params![])?
                .get(0)?;
            Ok(v.and_then(|v| u32::try_from(v).ok()).unwrap_or(0))
        }
    }
}

/// Apply the one migration that follows version `found`, with its version
/// bump, inside the caller's write transaction; the version reached.
pub(crate) fn migrate_one(tx: &Db, found: u32) -> Result<u32, DbError> {
    match tx {
        Db::Sqlite(c) => {
            let Some(step) = sqlite::MIGRATIONS.get(found as usize) else {
                return Ok(found);
            };
            step(c)?;
            c.pragma_update(None, "user_version", found + 1)?;
            Ok(found + 1)
        }
        Db::Postgres(_) => {
            let to = postgres::migrate_one(tx, found)?;
            tx.execute(
                "INSERT INTO byline_schema (version, applied) VALUES (?1, ?2)",
                params![i64::from(to), chrono::Utc::now().timestamp_millis()],
            )?;
            Ok(to)
        }
    }
}
