//! `byline status`: each source's state as the store keeps it, for cron and
//! monitoring. A *state* is `ok`, `degraded` (drift: the page reads, not as
//! it used to) or `failing` (a page failed); the exit code is non-zero when
//! any source is not ok.

use std::io::Write;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::commands::open_store;
use crate::config::Config;
use crate::store::{ActiveAlarm, FetchState};

#[derive(Serialize)]
struct SourceState {
    source: String,
    state: &'static str,
    since: Option<DateTime<Utc>>,
    last_success: Option<DateTime<Utc>>,
    alarms: Vec<ActiveAlarm>,
}

/// The state of `source` from its alarms and fetch states: an alarm that
/// fails, or a page whose last fetch failed, is failing; drift alone is
/// degraded.
fn state_of(source: &str, alarms: Vec<ActiveAlarm>, fetches: &[FetchState]) -> SourceState {
    let own: Vec<&FetchState> = fetches.iter().filter(|f| f.source == source).collect();
    let failed_fetch = own.iter().any(|f| f.consecutive_failures > 0);
    let state = if failed_fetch || alarms.iter().any(ActiveAlarm::failing) {
        "failing"
    } else if !alarms.is_empty() {
        "degraded"
    } else {
        "ok"
    };
    let since = alarms.iter().map(|a| a.since).min().or_else(|| {
        own.iter()
            .filter(|f| f.consecutive_failures > 0)
            .filter_map(|f| f.last_error_at)
            .min()
    });
    SourceState {
        source: source.to_owned(),
        state,
        since: since.filter(|_| state != "ok"),
        last_success: own.iter().filter_map(|f| f.last_success).max(),
        alarms,
    }
}

pub(super) async fn status(config: Config, json: bool) -> Result<ExitCode, String> {
    let store = open_store(&config).await?;
    let (alarms, fetches) = tokio::task::spawn_blocking(move || {
        Ok::<_, crate::store::StoreError>((store.active_alarms(None)?, store.fetch_states(None)?))
    })
    .await
    .map_err(|e| format!("status task failed: {e}"))?
    .map_err(|e| e.to_string())?;
    let states: Vec<SourceState> = config
        .sources
        .iter()
        .map(|s| {
            let own = alarms
                .iter()
                .filter(|a| a.source == s.name)
                .cloned()
                .collect();
            state_of(&s.name, own, &fetches)
        })
        .collect();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written = if json {
        serde_json::to_string_pretty(&states)
            .map_err(std::io::Error::other)
            .and_then(|text| writeln!(out, "{text}"))
    } else {
        print(&mut out, &states)
    };
    written.map_err(|e| e.to_string())?;
    let unwell = states.iter().filter(|s| s.state != "ok").count();
    Ok(if unwell == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

fn print(out: &mut impl Write, states: &[SourceState]) -> std::io::Result<()> {
    let width = states
        .iter()
        .map(|s| s.source.len())
        .max()
        .unwrap_or(6)
        .max(6);
    writeln!(
        out,
        "{:width$}  {:8}  {:20}  why",
        "source", "state", "since"
    )?;
    for s in states {
        let since = s.since.map_or_else(
            || "-".to_owned(),
            |t| t.format("%Y-%m-%d %H:%M:%SZ").to_string(),
        );
        let first = s
            .alarms
            .first()
            .map_or_else(String::new, |a| format!("{}: {}", a.kind, a.message));
        let line = format!("{:width$}  {:8}  {:20}  {first}", s.source, s.state, since);
        writeln!(out, "{}", line.trim_end())?;
        for a in s.alarms.iter().skip(1) {
            writeln!(
                out,
                "{:width$}  {:8}  {:20}  {}: {}",
                "", "", "", a.kind, a.message
            )?;
        }
    }
    Ok(())
}
