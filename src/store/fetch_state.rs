//! Fetch state: what the store remembers of fetching each url (or file) of
//! each source: the validators of the last stored response (so the next
//! fetch is conditional), the last success, the last error and the
//! failures since, and the warnings of the last read.

use chrono::{DateTime, Utc};

use super::db::{self, DbError, params};
use super::{Store, StoreError};

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

impl Store {
    /// What is remembered of fetching `url` for `source`.
    pub fn fetch_state(&self, source: &str, url: &str) -> Result<Option<FetchState>, StoreError> {
        let sql = format!("{FETCH_STATE_COLUMNS} WHERE source = ?1 AND url = ?2");
        self.read()
            .query_opt(&sql, params![source, url])
            .and_then(|r| r.as_ref().map(fetch_state_row).transpose())
            .map_err(|e| StoreError::Sql {
                path: self.path_str(),
                context: format!("source {source:?}: cannot read the fetch state of {url}"),
                source: e,
            })
    }

    /// Every fetch state, of one source or all, ordered by source and url.
    pub fn fetch_states(&self, source: Option<&str>) -> Result<Vec<FetchState>, StoreError> {
        let conn = self.read();
        let rows = match source {
            None => conn.query(
                &format!("{FETCH_STATE_COLUMNS} ORDER BY source, url"),
                params![],
            ),
            Some(name) => conn.query(
                &format!("{FETCH_STATE_COLUMNS} WHERE source = ?1 ORDER BY url"),
                params![name],
            ),
        };
        rows.and_then(|rows| rows.iter().map(fetch_state_row).collect())
            .map_err(|e| StoreError::Sql {
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
                 consecutive_failures = fetch_state.consecutive_failures + 1",
                params![source, url, error, at],
            ),
        };
        result.map(drop).map_err(|e| StoreError::Sql {
            path: self.path_str(),
            context: format!("source {source:?}: cannot record the fetch of {url}"),
            source: e,
        })
    }
}

const FETCH_STATE_COLUMNS: &str = "SELECT source, url, etag, last_modified, last_success, \
     last_error, last_error_at, consecutive_failures, warnings FROM fetch_state";

fn fetch_state_row(r: &db::Row) -> Result<FetchState, DbError> {
    let time = |ms: Option<i64>| ms.and_then(DateTime::from_timestamp_millis);
    Ok(FetchState {
        source: r.get(0)?,
        url: r.get(1)?,
        etag: r.get(2)?,
        last_modified: r.get(3)?,
        last_success: time(r.get(4)?),
        last_error: r.get(5)?,
        last_error_at: time(r.get(6)?),
        consecutive_failures: r.get::<i64>(7)?.try_into().unwrap_or(u32::MAX),
        warnings: r
            .get::<Option<String>>(8)?
            .map(|w| w.lines().map(str::to_owned).collect())
            .unwrap_or_default(),
    })
}
