//! The commands: each reads the checked config, runs its part of the
//! pipeline, and says how it went; wiring only.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use tracing::{error, info, warn};

use super::print::{article_json, print_article, print_outcome, print_table};
use crate::config::{Config, SourceConfig};
use crate::fetch::{FetchOptions, Fetcher};
use crate::output;
use crate::read;
use crate::refresh::{self, RefreshOutcome};

use crate::site;
use crate::store::{Claim, Holder, Store};
use crate::views::Edition;

pub(super) fn fetcher(config: &Config) -> Result<Fetcher, String> {
    fetcher_within(config, std::time::Duration::ZERO)
}

/// The fetcher of `config`'s sources; a non-zero `deadline` caps each
/// request's total time (below the default timeout).
pub(super) fn fetcher_within(
    config: &Config,
    deadline: std::time::Duration,
) -> Result<Fetcher, String> {
    let mut options = FetchOptions::default();
    if !deadline.is_zero() {
        options.timeout = options.timeout.min(deadline);
        options.connect_timeout = options.connect_timeout.min(deadline);
    }
    // Special addresses only for hosts the config names as sources.
    // The alarm webhook is named by the config too.
    let hosts: Vec<&str> = config
        .sources
        .iter()
        .flat_map(|s| &s.inputs)
        .filter_map(|i| match &i.location {
            crate::config::Location::Http(u) => u.host_str(),
            crate::config::Location::File(_) => None,
        })
        .chain(config.alarm_webhook.as_ref().and_then(|u| u.host_str()))
        .collect();
    options.policy = crate::fetch::UrlPolicy::for_hosts(hosts);
    if let Some(ua) = &config.user_agent {
        options.user_agent = ua.clone();
    }
    let fetcher = Fetcher::new(options).map_err(|e| e.to_string())?;
    // Processes sharing a PostgreSQL store share each host's limit too.
    Ok(match &config.store.location {
        crate::store::Location::Postgres(url) => fetcher.with_shared_slots(std::sync::Arc::new(
            crate::replicas::PgSlots::new(url.clone()),
        )),
        crate::store::Location::Sqlite(_) => fetcher,
    })
}

/// Of a shared store, claim `source`'s refresh for this command (even if
/// not due: it was asked for): `Some(Some(holder))` to refresh and release,
/// `Some(None)` for a store of this process alone, `None` when a replica
/// holds it (it is refreshing it now).
async fn claim(store: &Store, config: &Config, source: &str) -> Option<Option<Holder>> {
    if !store.shared() {
        return Some(None);
    }
    let holder = Holder::this_process();
    let hold = chrono::Duration::from_std(config.store.lease).unwrap_or_default();
    let (s, h, name) = (store.clone(), holder.clone(), source.to_owned());
    let claim =
        tokio::task::spawn_blocking(move || s.claim(&name, &h, chrono::Utc::now(), hold, true))
            .await;
    match claim {
        Ok(Ok(Claim::Claimed)) => Some(Some(holder)),
        Ok(Ok(Claim::Busy { holder, .. })) => {
            info!(source, holder = ?holder, "a replica is refreshing this source now; skipped");
            None
        }
        Ok(Err(e)) => {
            warn!(source, error = %e, "cannot claim the refresh; refreshing anyway");
            Some(None)
        }
        Err(e) => {
            warn!(source, error = %e, "cannot claim the refresh; refreshing anyway");
            Some(None)
        }
    }
}

/// Refresh the named sources (all when `None`) into the store, `jobs` at once.
async fn refresh_named(
    config: &Arc<Config>,
    store: &Store,
    fetcher: &Fetcher,
    names: Vec<String>,
    jobs: usize,
) -> Result<Vec<RefreshOutcome>, String> {
    let now = chrono::Utc::now();
    let total = names.len();
    let slots = Arc::new(tokio::sync::Semaphore::new(jobs.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (index, name) in names.into_iter().enumerate() {
        let (config, store, fetcher, slots) = (
            config.clone(),
            store.clone(),
            fetcher.clone(),
            slots.clone(),
        );
        tasks.spawn(async move {
            let _slot = slots.acquire_owned().await.ok();
            let source = config.sources.iter().find(|s| s.name == name)?;
            // A replica sharing the store may be refreshing it right now.
            let claimed = claim(&store, &config, &name).await?;
            let outcome = refresh::refresh_source(&store, &config, source, &fetcher, now).await;
            if let Some(holder) = claimed {
                let next = std::time::Duration::from_secs(config.server.refresh_interval_secs);
                let due = chrono::Utc::now() + chrono::Duration::from_std(next).unwrap_or_default();
                let done = tokio::task::spawn_blocking(move || store.release(&name, &holder, due));
                if !matches!(done.await, Ok(Ok(()))) {
                    warn!(source = %source.name, "cannot release the claim; it lapses by itself");
                }
            }
            Some((index, outcome))
        });
    }
    let mut outcomes = Vec::new();
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(Some(o)) => {
                info!(source = %o.1.source, progress = format!("{}/{total}", outcomes.len() + 1), "source done");
                outcomes.push(o);
            }
            Ok(None) => {}
            Err(e) => return Err(format!("refresh task failed: {e}")),
        }
    }
    outcomes.sort_by_key(|(index, _)| *index);
    Ok(outcomes.into_iter().map(|(_, o)| o).collect())
}

pub(super) async fn build(config: Config, _path: &Path, out: &Path) -> Result<ExitCode, String> {
    let config = Arc::new(config);
    let store = open_store(&config).await?;
    let names = config.sources.iter().map(|s| s.name.clone()).collect();
    let outcomes = refresh_named(&config, &store, &fetcher(&config)?, names, 8).await?;
    let failed = report(&outcomes);
    // The site is the store's: a failed read leaves every stored story in it.
    let (docs, stories) = {
        let (config, store) = (config.clone(), store.clone());
        tokio::task::spawn_blocking(move || {
            let edition = store.snapshot(|s| Edition::read(s, &config, config.server.max_items))?;
            let stories = store.item_count(None)?;
            let mut docs = site::documents(&edition, &config);
            // The status feed tells what /healthz tells: in a public site
            // only when the config makes the status public.
            if config.server.public_status {
                let events = store.alarm_events(crate::render::status::ENTRIES)?;
                docs.extend(site::status_documents(
                    &events,
                    &edition,
                    &config,
                    chrono::Utc::now(),
                ));
            }
            Ok::<_, crate::store::StoreError>((docs, stories))
        })
        .await
        .map_err(|e| format!("build task failed: {e}"))?
        .map_err(|e| e.to_string())?
    };
    if stories == 0 {
        error!(out = %out.display(), "the store holds no stories yet; nothing written");
        return Ok(ExitCode::from(2));
    }
    let written = output::write_site(out, &docs).map_err(|e| e.to_string())?;
    info!(stories, documents = docs.len(), written = written.written, unchanged = written.unchanged,
          removed = written.removed, out = %out.display(), "site written");
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        error!(
            failed,
            "some sources could not be read; the site keeps their stored stories"
        );
        ExitCode::from(2)
    })
}

/// Log each outcome's warnings and errors; the number of failed sources.
fn report(outcomes: &[RefreshOutcome]) -> usize {
    for o in outcomes {
        for w in &o.warnings {
            tracing::warn!(source = %o.source, "{w}");
        }
        for e in &o.errors {
            error!(source = %o.source, stage = e.stage.name(), "{e}");
        }
    }
    outcomes.iter().filter(|o| o.failed()).count()
}

pub(super) async fn check(
    config: Config,
    config_path: &Path,
    only: Option<&str>,
    json: bool,
    articles: usize,
) -> Result<ExitCode, String> {
    let sources = pick(&config, config_path, only)?;
    let fetcher = fetcher(&config)?;
    let now = chrono::Utc::now();
    let mut ok = true;
    let mut all = Vec::new();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let none = std::collections::HashMap::new();
    for source in sources {
        let read = read::read_source(source, &source.inputs, &fetcher, &none, now).await;
        let problems = read.field_problems(source);
        ok &= !read.items.is_empty() && !read.failed() && problems.is_empty();
        // What the first items' own pages give, when the source reads them.
        let mut pages = Vec::new();
        if let Some(rules) = &source.article {
            for url in read
                .items
                .iter()
                .filter_map(|i| i.url.as_deref())
                .take(articles)
            {
                let got = refresh::read_article(source, rules, &fetcher, url).await;
                pages.push((url.to_owned(), got.map_err(|f| f.message)));
            }
        }
        if json {
            let errors: Vec<String> = read.errors().map(ToString::to_string).collect();
            all.push(serde_json::json!({
                "source": read.source,
                "items": read.items,
                "warnings": read.warnings,
                "errors": errors,
                "problems": problems,
                "articles": pages.iter().map(|(url, got)| article_json(url, got)).collect::<Vec<_>>(),
            }));
        } else {
            print_table(&mut out, &read, &problems).map_err(|e| e.to_string())?;
            for (url, got) in &pages {
                print_article(&mut out, url, got).map_err(|e| e.to_string())?;
            }
            if let Some(note) = source.html.as_ref().and_then(|h| h.engine_note.as_deref()) {
                writeln!(out, "  note: {note}\n").map_err(|e| e.to_string())?;
            }
        }
    }
    if json {
        let text = serde_json::to_string_pretty(&all).map_err(|e| e.to_string())?;
        writeln!(out, "{text}").map_err(|e| e.to_string())?;
    }
    // 2, as for `build` and `refresh`: the config was fine, a source was not.
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// The sources `only` names (all when `None`), or an error listing the names.
pub(super) fn pick<'a>(
    config: &'a Config,
    config_path: &Path,
    only: Option<&str>,
) -> Result<Vec<&'a SourceConfig>, String> {
    let sources: Vec<_> = config
        .sources
        .iter()
        .filter(|s| only.is_none_or(|o| s.name == o))
        .collect();
    if sources.is_empty() {
        let names: Vec<_> = config.sources.iter().map(|s| s.name.as_str()).collect();
        return Err(format!(
            "{}: no source named {:?}; sources are: {}",
            config_path.display(),
            only.unwrap_or_default(),
            names.join(", ")
        ));
    }
    Ok(sources)
}

pub(super) async fn open_store(config: &Config) -> Result<Store, String> {
    let location = config.store.location.clone();
    tokio::task::spawn_blocking(move || Store::connect(&location))
        .await
        .map_err(|e| format!("store task failed: {e}"))?
        .map_err(|e| e.to_string())
}

pub(super) async fn refresh(
    config: Config,
    config_path: &Path,
    only: Option<&str>,
    jobs: usize,
) -> Result<ExitCode, String> {
    let names: Vec<String> = pick(&config, config_path, only)?
        .iter()
        .map(|s| s.name.clone())
        .collect();
    let config = Arc::new(config);
    let store = open_store(&config).await?;
    let outcomes = refresh_named(&config, &store, &fetcher(&config)?, names, jobs).await?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for o in &outcomes {
        print_outcome(&mut out, o).map_err(|e| e.to_string())?;
    }
    let failed = outcomes.iter().filter(|o| o.failed()).count();
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        error!(
            failed,
            "some sources could not be refreshed; their stored items are kept"
        );
        ExitCode::from(2)
    })
}

pub(super) async fn ingest(
    config: Config,
    config_path: &Path,
    source: &str,
    files: &[PathBuf],
    url: Option<&url::Url>,
    captured: Option<chrono::NaiveDate>,
) -> Result<ExitCode, String> {
    let sources = pick(&config, config_path, Some(source))?;
    let Some(source) = sources.first() else {
        return Err(format!("no source named {source:?}"));
    };
    let store = open_store(&config).await?;
    let now = chrono::Utc::now();
    let outcome = refresh::ingest_files(&store, &config, source, files, url, captured, now).await;
    let stdout = std::io::stdout();
    print_outcome(&mut stdout.lock(), &outcome).map_err(|e| e.to_string())?;
    Ok(if outcome.failed() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
