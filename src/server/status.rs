//! Source status: how each source's last refresh went, as `/healthz`, the
//! index page and `/metrics` show it. A *status* keeps the latest read's
//! counts and errors, and the last error and last success across reads,
//! and the alarms that hold for the source (see `drift`) with its *state*:
//! `ok`, `degraded` (drift: the page reads, but not as it used to) or
//! `failing` (a page failed: down, blocked by a bot wall, an error page).

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::refresh::RefreshOutcome;
use crate::store::ActiveAlarm;

/// The state of one source after its last read, for `/healthz` and `/metrics`.
#[derive(Debug, Clone, Serialize)]
pub struct SourceStatus {
    pub name: String,
    /// `ok`, `degraded` or `failing`.
    pub state: &'static str,
    /// Since when the source is not ok (its oldest alarm, or this read).
    pub since: Option<DateTime<Utc>>,
    /// Why: every alarm that holds, with its kind and since when.
    pub alarms: Vec<ActiveAlarm>,
    /// Did drift hold the last read's items back? Stored items stay served.
    pub held: bool,
    /// Items the last read gave (before merging).
    pub items_read: usize,
    /// Items of the published set that come from this source (after merging).
    pub items_published: usize,
    pub pages: u32,
    pub warnings: usize,
    /// What went wrong in the last read; empty when it went well.
    pub errors: Vec<String>,
    /// Which step of the last read failed first: `fetch`, `decode`, `parse`,
    /// `empty` or `store`.
    pub failed_stage: Option<&'static str>,
    pub read_at: DateTime<Utc>,
    /// The most recent error of any read, kept after the source recovers.
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    /// The last read without errors.
    pub last_ok_at: Option<DateTime<Utc>>,
}

impl SourceStatus {
    /// The status a refresh at `at` leaves; history is merged in by [`Published::publish`].
    pub fn of(outcome: &RefreshOutcome, at: DateTime<Utc>) -> Self {
        let failed = outcome.failed();
        let errors = outcome.messages();
        let state = if failed || outcome.alarms.iter().any(ActiveAlarm::failing) {
            "failing"
        } else if outcome.alarmed() {
            "degraded"
        } else {
            "ok"
        };
        let since = match state {
            "ok" => None,
            _ => outcome.alarms.iter().map(|a| a.since).min().or(Some(at)),
        };
        SourceStatus {
            name: outcome.source.clone(),
            state,
            since,
            alarms: outcome.alarms.clone(),
            held: outcome.held,
            items_read: outcome.items_read,
            items_published: 0,
            pages: outcome.pages,
            warnings: outcome.warnings.len(),
            failed_stage: outcome.errors.first().map(|e| e.stage.name()),
            last_error: errors.last().cloned(),
            errors,
            read_at: at,
            last_error_at: failed.then_some(at),
            last_ok_at: (!failed).then_some(at),
        }
    }

    pub(crate) fn healthy(&self) -> bool {
        self.errors.is_empty() && self.alarms.is_empty()
    }

    /// Every reason the source is not ok, each once: its errors, then its
    /// alarms' messages.
    pub(crate) fn reasons(&self) -> Vec<String> {
        let mut out: Vec<String> = self.errors.clone();
        for a in &self.alarms {
            if !out.iter().any(|e| e.contains(&a.message)) {
                out.push(format!("{} alarm: {}", a.kind, a.message));
            }
        }
        out
    }
}

/// `(source, why)` of every source that is not ok: its state, the kinds of
/// its alarms, and every reason.
pub(crate) fn problems(sources: &[SourceStatus]) -> Vec<(String, String)> {
    sources
        .iter()
        .filter(|s| !s.healthy())
        .map(|s| {
            let kinds: Vec<&str> = s.alarms.iter().map(|a| a.kind.as_str()).collect();
            let what = if kinds.is_empty() {
                s.state.to_owned()
            } else {
                format!("{} ({} alarm)", s.state, kinds.join(", "))
            };
            (
                s.name.clone(),
                format!("{what}: {}", s.reasons().join("; ")),
            )
        })
        .collect()
}
