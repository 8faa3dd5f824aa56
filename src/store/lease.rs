//! Leases: of several byline processes sharing one store, exactly one
//! refreshes a source each interval. A *lease* is a source's row in
//! `leases`: when its next refresh is due, and who holds it now, until when.
//!
//! A process *claims* a source with one conditional upsert, atomic on both
//! engines (PostgreSQL re-checks the condition on the row it locks, so of two
//! processes claiming at once exactly one gets the row back). The holder
//! renews its hold while it refreshes and releases it with the next due
//! time; a process that dies holding a lease loses it when the hold lapses,
//! and another takes the refresh over. A stored change is announced on
//! [`CHANNEL`] (PostgreSQL's NOTIFY, sent at commit) so every process
//! publishes it again.

use chrono::{DateTime, Duration, Utc};

use super::db::{Db, DbError, Engine, params};
use super::{Store, StoreError};

/// The PostgreSQL channel a stored change is announced on.
pub const CHANNEL: &str = "byline_changed";

/// Who claims: one per process, unique across the machines sharing a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder(pub String);

impl Holder {
    /// This process: host name, process id and a random part (a restarted
    /// process with a recycled pid is someone else).
    pub fn this_process() -> Holder {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_owned())
            .unwrap_or_else(|_| "host".to_owned());
        Holder(format!(
            "{host}-{}-{:08x}",
            std::process::id(),
            fastrand::u32(..)
        ))
    }
}

/// What a claim found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The refresh is this holder's until the hold lapses or is released.
    Claimed,
    /// Not now: the source is not due, or another holder has it. Ask again
    /// at `retry`.
    Busy {
        retry: DateTime<Utc>,
        holder: Option<String>,
    },
}

impl Store {
    /// Claim the refresh of `source` for `holder` at `now`, held until
    /// `now + hold`: granted when it is due (or `force`, for a refresh asked
    /// for by hand) and nobody else holds it.
    pub fn claim(
        &self,
        source: &str,
        holder: &Holder,
        now: DateTime<Utc>,
        hold: Duration,
        force: bool,
    ) -> Result<Claim, StoreError> {
        let now_ms = now.timestamp_millis();
        let until = (now + hold).timestamp_millis();
        let conn = self.write();
        let granted = conn
            .query_opt(
                "INSERT INTO leases (source, holder, expires, due) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (source) DO UPDATE SET holder = excluded.holder, \
                 expires = excluded.expires \
                 WHERE (leases.holder IS NULL OR leases.holder = ?2 OR leases.expires <= ?4) \
                 AND (?5 OR leases.due <= ?4) RETURNING source",
                params![source, holder.0, until, now_ms, force],
            )
            .map_err(|e| self.lease_error(source, e))?;
        if granted.is_some() {
            return Ok(Claim::Claimed);
        }
        let row = conn
            .query_one(
                "SELECT holder, expires, due FROM leases WHERE source = ?1",
                params![source],
            )
            .map_err(|e| self.lease_error(source, e))?;
        let (who, expires, due) = (|| -> Result<(Option<String>, i64, i64), DbError> {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })()
        .map_err(|e| self.lease_error(source, e))?;
        let held = who.is_some() && expires > now_ms;
        let retry = if held { expires.max(due) } else { due };
        Ok(Claim::Busy {
            retry: DateTime::from_timestamp_millis(retry).unwrap_or(now),
            holder: who.filter(|_| held),
        })
    }

    /// Keep holding `source` until `until`, while its refresh runs. False
    /// when the hold was lost (it lapsed and another process claimed it).
    pub fn renew(
        &self,
        source: &str,
        holder: &Holder,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.write()
            .execute(
                "UPDATE leases SET expires = ?3 WHERE source = ?1 AND holder = ?2",
                params![source, holder.0, until.timestamp_millis()],
            )
            .map(|n| n > 0)
            .map_err(|e| self.lease_error(source, e))
    }

    /// Give `source` back, its next refresh due at `due`.
    pub fn release(
        &self,
        source: &str,
        holder: &Holder,
        due: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.write()
            .execute(
                "UPDATE leases SET holder = NULL, expires = 0, due = ?3 \
                 WHERE source = ?1 AND holder = ?2",
                params![source, holder.0, due.timestamp_millis()],
            )
            .map(drop)
            .map_err(|e| self.lease_error(source, e))
    }

    fn lease_error(&self, source: &str, e: DbError) -> StoreError {
        StoreError::Sql {
            path: self.path_str(),
            context: format!("source {source:?}: cannot claim its refresh"),
            source: e,
        }
    }
}

/// Tell the other processes sharing the store that what it holds changed
/// (sent when the transaction commits; nothing to do for SQLite).
pub(super) fn notify(tx: &Db) -> Result<(), DbError> {
    if tx.engine() == Engine::Postgres {
        tx.execute("SELECT pg_notify(?1, '')", params![CHANNEL])?;
    }
    Ok(())
}
