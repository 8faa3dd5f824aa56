//! Alarms in the store: each source's read history, the alarms that hold,
//! and the *events* (an alarm raised or cleared) byline's status feed lists.
//!
//! The judging is `drift`'s; this keeps what it judges by, so a restart
//! neither forgets a broken source nor raises its alarm a second time.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::db::{DbError, Row, params};
use super::{Store, StoreError};
use crate::drift::{Alarm, ReadStats};

/// Reads kept per source: well over any `history` a config may ask for.
const KEPT_READS: i64 = 1000;

/// Alarm events kept in all: far more than the status feed shows, bounded
/// for a source that flaps for years.
const KEPT_EVENTS: i64 = 10_000;

/// An alarm that holds, and since when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActiveAlarm {
    pub source: String,
    pub kind: String,
    pub message: String,
    pub since: DateTime<Utc>,
}

impl ActiveAlarm {
    /// See [`Alarm::failing`].
    pub fn failing(&self) -> bool {
        !self.as_alarm().holds_items()
    }

    fn as_alarm(&self) -> Alarm {
        Alarm {
            kind: self.kind.clone(),
            message: self.message.clone(),
        }
    }
}

/// An alarm raised or cleared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlarmEvent {
    /// Increasing: the entry's stable id in the status feed.
    pub id: i64,
    pub source: String,
    pub kind: String,
    /// `raised` or `cleared`.
    pub event: String,
    pub message: String,
    pub at: DateTime<Utc>,
}

impl Store {
    /// Keep the stats of one read of `source` at `at`.
    pub fn record_read(
        &self,
        source: &str,
        stats: &ReadStats,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let fields = serde_json::to_string(&stats.fields).unwrap_or_else(|_| "[]".to_owned());
        let conn = self.write();
        conn.execute(
            "INSERT INTO reads (source, at, cards, fields, pagination) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                source,
                at.timestamp_millis(),
                stats.cards,
                fields,
                stats.pagination
            ],
        )
        .and_then(|_| {
            conn.execute(
                "DELETE FROM reads WHERE source = ?1 AND id <= \
                 (SELECT id FROM reads WHERE source = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)",
                params![source, KEPT_READS],
            )
        })
        .map(drop)
        .map_err(|e| self.sql(e, format!("source {source:?}: cannot record the read")))
    }

    /// The last `n` reads of `source` that gave cards, oldest first.
    pub fn recent_reads(&self, source: &str, n: usize) -> Result<Vec<ReadStats>, StoreError> {
        let rows: Result<Vec<ReadStats>, DbError> = self
            .read()
            .query(
                "SELECT cards, fields, pagination FROM reads WHERE source = ?1 AND cards > 0 \
                 ORDER BY id DESC LIMIT ?2",
                params![source, n],
            )
            .and_then(|rows| {
                rows.iter()
                    .map(|r| {
                        let fields: String = r.get(1)?;
                        Ok(ReadStats {
                            cards: r.get(0)?,
                            fields: serde_json::from_str(&fields).unwrap_or_default(),
                            pagination: r.get(2)?,
                        })
                    })
                    .collect()
            });
        let mut rows =
            rows.map_err(|e| self.sql(e, format!("source {source:?}: cannot read its reads")))?;
        rows.reverse();
        Ok(rows)
    }

    /// The alarms that hold, of one source or all, by source and kind.
    pub fn active_alarms(&self, source: Option<&str>) -> Result<Vec<ActiveAlarm>, StoreError> {
        let conn = self.read();
        let rows = match source {
            None => conn.query(
                "SELECT source, kind, message, since FROM alarms ORDER BY source, kind",
                params![],
            ),
            Some(s) => conn.query(
                "SELECT source, kind, message, since FROM alarms WHERE source = ?1 ORDER BY kind",
                params![s],
            ),
        };
        rows.and_then(|rows| rows.iter().map(active_row).collect())
            .map_err(|e| self.sql(e, "cannot read the alarms".to_owned()))
    }

    /// Make `now` the alarms of `source` at `at`: raise those that did not
    /// hold, clear those that no longer do (one event each), keep the rest
    /// with their first time. Returns the events and the alarms that hold.
    pub fn set_alarms(
        &self,
        source: &str,
        now: &[Alarm],
        at: DateTime<Utc>,
    ) -> Result<(Vec<AlarmEvent>, Vec<ActiveAlarm>), StoreError> {
        let ms = at.timestamp_millis();
        let context = || format!("source {source:?}: cannot store its alarms");
        let conn = self.write();
        let tx = conn.write_tx().map_err(|e| self.sql(e, context()))?;
        let result = (|| -> Result<(Vec<AlarmEvent>, Vec<ActiveAlarm>), DbError> {
            let before: Vec<ActiveAlarm> = tx
                .query(
                    "SELECT source, kind, message, since FROM alarms WHERE source = ?1",
                    params![source],
                )?
                .iter()
                .map(active_row)
                .collect::<Result<_, _>>()?;
            let mut events = Vec::new();
            let mut event = |kind: &str, what: &str, message: &str| -> Result<(), DbError> {
                let id: i64 = tx
                    .query_one(
                        "INSERT INTO alarm_events (source, kind, event, message, at) \
                         VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
                        params![source, kind, what, message, ms],
                    )?
                    .get(0)?;
                events.push(AlarmEvent {
                    id,
                    source: source.to_owned(),
                    kind: kind.to_owned(),
                    event: what.to_owned(),
                    message: message.to_owned(),
                    at,
                });
                Ok(())
            };
            for old in &before {
                if !now.iter().any(|a| a.kind == old.kind) {
                    let message = format!("cleared after: {}", old.message);
                    event(&old.kind, "cleared", &message)?;
                    tx.execute(
                        "DELETE FROM alarms WHERE source = ?1 AND kind = ?2",
                        params![source, old.kind],
                    )?;
                }
            }
            for alarm in now {
                if before.iter().any(|a| a.kind == alarm.kind) {
                    // Still holds: the newest message, the first time.
                    tx.execute(
                        "UPDATE alarms SET message = ?3 WHERE source = ?1 AND kind = ?2",
                        params![source, alarm.kind, alarm.message],
                    )?;
                } else {
                    event(&alarm.kind, "raised", &alarm.message)?;
                    tx.execute(
                        "INSERT INTO alarms (source, kind, message, since) VALUES (?1, ?2, ?3, ?4)",
                        params![source, alarm.kind, alarm.message, ms],
                    )?;
                }
            }
            if !events.is_empty() {
                tx.execute(
                    "DELETE FROM alarm_events WHERE id <= \
                     (SELECT id FROM alarm_events ORDER BY id DESC LIMIT 1 OFFSET ?1)",
                    params![KEPT_EVENTS],
                )?;
                super::lease::notify(&tx)?;
            }
            let active = tx
                .query(
                    "SELECT source, kind, message, since FROM alarms WHERE source = ?1 ORDER BY kind",
                    params![source],
                )?
                .iter()
                .map(active_row)
                .collect::<Result<_, _>>()?;
            Ok((events, active))
        })();
        let out = result.map_err(|e| self.sql(e, context()))?;
        tx.commit().map_err(|e| self.sql(e, context()))?;
        Ok(out)
    }

    /// The newest `limit` alarm events, newest first.
    pub fn alarm_events(&self, limit: usize) -> Result<Vec<AlarmEvent>, StoreError> {
        self.read()
            .query(
                "SELECT id, source, kind, event, message, at FROM alarm_events ORDER BY id DESC LIMIT ?1",
                params![limit],
            )
            .and_then(|rows| {
                rows.iter()
                    .map(|r| {
                        Ok(AlarmEvent {
                            id: r.get(0)?,
                            source: r.get(1)?,
                            kind: r.get(2)?,
                            event: r.get(3)?,
                            message: r.get(4)?,
                            at: DateTime::from_timestamp_millis(r.get(5)?).unwrap_or_default(),
                        })
                    })
                    .collect()
            })
            .map_err(|e| self.sql(e, "cannot read the alarm events".to_owned()))
    }

    fn sql(&self, source: DbError, context: String) -> StoreError {
        StoreError::Sql {
            path: self.path_str(),
            context,
            source,
        }
    }
}

fn active_row(r: &Row) -> Result<ActiveAlarm, DbError> {
    Ok(ActiveAlarm {
        source: r.get(0)?,
        kind: r.get(1)?,
        message: r.get(2)?,
        since: DateTime::from_timestamp_millis(r.get(3)?).unwrap_or_default(),
    })
}
