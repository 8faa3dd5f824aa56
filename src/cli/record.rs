//! `byline record` and `byline replay`: wiring for [`crate::record`]. A
//! *replay* is every recording under a folder read again with the current
//! config; the exit code is 2 when any item or field changed.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use super::commands::{fetcher, pick};
use crate::config::Config;
use crate::record::{self, Difference};

pub(super) async fn record(
    config: Config,
    config_path: &Path,
    only: Option<&str>,
    out: &Path,
) -> Result<ExitCode, String> {
    let fetcher = fetcher(&config)?;
    let now = chrono::Utc::now();
    let stdout = std::io::stdout();
    let mut lines = stdout.lock();
    for source in pick(&config, config_path, only)? {
        let rec = record::record(source, &fetcher, now)
            .await
            .map_err(|e| e.to_string())?;
        let folder = record::write(&rec, out).map_err(|e| e.to_string())?;
        writeln!(
            lines,
            "{}: {} page(s), {} item(s) recorded in {}",
            rec.source,
            rec.pages.len(),
            rec.items.len(),
            folder.display()
        )
        .map_err(|e| e.to_string())?;
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn replay(config: Config, dir: &Path) -> Result<ExitCode, String> {
    let folders = record::recordings(dir).map_err(|e| e.to_string())?;
    if folders.is_empty() {
        return Err(format!(
            "{}: no recordings here (make them with `byline record SOURCE --out {}`)",
            dir.display(),
            dir.display()
        ));
    }
    let stdout = std::io::stdout();
    let mut lines = stdout.lock();
    let mut changed = 0;
    for folder in folders {
        let rec = record::load(&folder).map_err(|e| e.to_string())?;
        let differences = match config.sources.iter().find(|s| s.name == rec.source) {
            // Adapters are CPU work: off the async threads.
            Some(source) => {
                let (source, rec) = (source.clone(), rec.clone());
                tokio::task::spawn_blocking(move || record::replay(&source, &rec))
                    .await
                    .map_err(|e| format!("replay task failed: {e}"))?
            }
            None => vec![Difference {
                item: None,
                field: "source".to_owned(),
                was: "recorded".to_owned(),
                now: "not in the config".to_owned(),
            }],
        };
        let result = if differences.is_empty() {
            writeln!(
                lines,
                "{}: {} item(s), no difference",
                rec.source,
                rec.items.len()
            )
        } else {
            changed += 1;
            writeln!(lines, "{}: {} difference(s)", rec.source, differences.len()).and_then(|()| {
                differences
                    .iter()
                    .try_for_each(|d| writeln!(lines, "  {d}"))
            })
        };
        result.map_err(|e| e.to_string())?;
    }
    Ok(if changed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
