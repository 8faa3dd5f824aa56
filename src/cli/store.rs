//! `byline store copy`: a whole store into a new one, of either engine,
//! with progress on stderr (a million stories take minutes).

use std::process::ExitCode;
use std::time::Instant;

use tracing::info;

use crate::store::{Location, Store};

pub(super) async fn store_copy(from: &str, to: &str) -> Result<ExitCode, String> {
    let (from, to) = (Location::parse(from), Location::parse(to));
    if from == to {
        return Err(format!(
            "--from and --to are the same store ({})",
            from.name()
        ));
    }
    if let Location::Sqlite(path) = &from
        && !path.exists()
    {
        return Err(format!(
            "{}: no such store file (--from names the store to read)",
            path.display()
        ));
    }
    tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let source = Store::connect(&from).map_err(|e| e.to_string())?;
        let target = Store::connect(&to).map_err(|e| e.to_string())?;
        info!(from = %from.name(), to = %to.name(), "copying the store");
        let mut last = Instant::now();
        let counts = source
            .copy_into(&target, |table, rows| {
                if last.elapsed().as_secs() >= 2 {
                    info!(table, rows, "copying");
                    last = Instant::now();
                }
            })
            .map_err(|e| e.to_string())?;
        for (table, rows) in &counts {
            info!(table, rows, "copied");
        }
        let stories = target.item_count(None).map_err(|e| e.to_string())?;
        info!(stories, seconds = started.elapsed().as_secs(), to = %to.name(),
            "store copied; point [store] at it");
        Ok(ExitCode::SUCCESS)
    })
    .await
    .map_err(|e| format!("store copy failed: {e}"))?
}
