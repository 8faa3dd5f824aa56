//! Refreshing: one use case, read top to bottom — read a source (the page
//! loop), judge the read against the source's history (`drift`), process
//! what it gave (identity and tag rules, canonical urls, the merge of copies
//! within the read), store it (unless drift holds it back), record how each
//! page ended, the read's stats and the alarms that hold (and tell the
//! webhook), read the article pages of its new stories (when
//! `[source.article]` is on), and trim history per the source's retention.
//!
//! A *refresh* is that pass for one source. A page that is not modified
//! costs no parse. A failure of any kind is recorded in the store's fetch
//! state and never removes or hides a stored item: the feeds keep serving
//! what was there. `byline refresh`, `ingest`, `build` and the server's
//! scheduler all go through here.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Timelike, Utc};
use tracing::{info, warn};
use url::Url;

use crate::adapters::article::{self, Article, ArticleRules};
use crate::adapters::decode::decode_html;
use crate::config::{ArticleConfig, Config, Input, Location, SourceConfig};
use crate::drift;
use crate::fetch::{Fetcher, Validators};
use crate::merge;
use crate::model::Item;
use crate::read::{self, PageOutcome, Read, ReadError, Stage};
use crate::rules::Rules;
use crate::store::{ActiveAlarm, AlarmEvent, FetchRecord, Store, StoreError, UpsertStats};

/// What one refresh of one source did.
#[derive(Debug, Clone, Default)]
pub struct RefreshOutcome {
    pub source: String,
    /// Pages fetched and read.
    pub pages: u32,
    /// Fetches answered "not modified" (HTTP 304, or an unchanged file): no parse.
    pub not_modified: u32,
    /// Items read from the pages, before merging.
    pub items_read: usize,
    pub stats: UpsertStats,
    /// Items retention removed.
    pub removed: usize,
    /// Article pages read and stored with their stories.
    pub articles_read: usize,
    /// Article pages that failed (each is retried on a later refresh).
    pub articles_failed: usize,
    /// Things the adapter skipped or did not understand.
    pub warnings: Vec<String>,
    /// Pages that could not be fetched, read or stored, by stage.
    pub errors: Vec<ReadError>,
    pub elapsed: Duration,
    /// The alarms that hold for the source after this refresh (see `drift`).
    pub alarms: Vec<ActiveAlarm>,
    /// Alarms this refresh raised or cleared.
    pub alarm_events: Vec<AlarmEvent>,
    /// Did drift hold the read's items back (the stored ones stay served)?
    pub held: bool,
}

impl RefreshOutcome {
    /// Did any page fail?
    pub fn failed(&self) -> bool {
        !self.errors.is_empty()
    }

    /// Did the items behind the source's feeds change (so they need a re-render)?
    pub fn changed(&self) -> bool {
        self.stats.new > 0 || self.stats.updated > 0 || self.removed > 0 || self.articles_read > 0
    }

    /// The longest wait a server asked for (`Retry-After`) in this refresh.
    pub fn retry_after(&self) -> Option<Duration> {
        self.errors.iter().filter_map(|e| e.retry_after).max()
    }

    /// Does an alarm hold for the source?
    pub fn alarmed(&self) -> bool {
        !self.alarms.is_empty()
    }

    /// The errors as text, for logs and `/healthz`.
    pub fn messages(&self) -> Vec<String> {
        self.errors.iter().map(ToString::to_string).collect()
    }
}

/// Refresh `source` (one of `config`'s) into `store`. Never fails as a whole:
/// what went wrong is in the outcome's errors and in the store's fetch state.
pub async fn refresh_source(
    store: &Store,
    config: &Config,
    source: &SourceConfig,
    fetcher: &Fetcher,
    now: DateTime<Utc>,
) -> RefreshOutcome {
    let started = Instant::now();
    // 1. What the store remembers of each page: its validators.
    let validators = match blocking(store, {
        let name = source.name.clone();
        move |s| s.fetch_states(Some(&name))
    })
    .await
    {
        Ok(states) => states
            .into_iter()
            .map(|s| {
                let v = Validators {
                    etag: s.etag,
                    last_modified: s.last_modified,
                };
                (s.url, v)
            })
            .collect(),
        Err(e) => {
            // Without validators the fetches are just unconditional.
            warn!(source = %source.name, error = %e, "cannot read fetch state");
            HashMap::new()
        }
    };
    // 2. Fetch and parse.
    let read = read::read_source(source, &source.inputs, fetcher, &validators, now).await;
    // 3. Judge the read against the source's history: drift holds its items back.
    let judged = judge(store, source, &read).await;
    let held = judged
        .as_ref()
        .is_some_and(|(alarms, _)| alarms.iter().any(drift::Alarm::holds_items));
    // 4 and 5. Process and store.
    let mut out = store_read(store, config, source, read, true, held, now).await;
    out.held = held;
    // 6. Keep the read's stats and the alarms that hold; tell the webhook.
    record_alarms(store, config, source, fetcher, judged, now, &mut out).await;
    // 7. The article pages of new stories (and retries), politely; not from
    // a read drift holds back.
    if let (Some(rules), false) = (&source.article, held) {
        read_articles(store, config, source, rules, fetcher, now, &mut out).await;
    }
    // 8. Trim history, only after a read that went well.
    let retention = source.retention;
    if !out.failed() && !held && (retention.max_items.is_some() || retention.max_age_days.is_some())
    {
        let name = source.name.clone();
        let max_age = retention
            .max_age_days
            .map(|d| chrono::Duration::days(i64::from(d)));
        match blocking(store, move |s| {
            s.apply_retention(&name, retention.max_items, max_age, now)
        })
        .await
        {
            Ok(n) => out.removed = n,
            Err(e) => out.errors.push(store_error(source, e)),
        }
    }
    out.elapsed = started.elapsed();
    log(&out);
    out
}

/// Import saved pages of `source` (such as text dumps) into the store, read
/// with the source's adapter through the same page loop as its inputs, in the
/// order given: one listing, one transaction. `page_url` is the url the pages
/// were saved from (relative links resolve against it; default: the source's
/// first input url); `captured` is their capture day when the pages do not
/// say. Nothing is fetched over the network and no fetch state is written.
pub async fn ingest_files(
    store: &Store,
    config: &Config,
    source: &SourceConfig,
    files: &[PathBuf],
    page_url: Option<&Url>,
    captured: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> RefreshOutcome {
    let started = Instant::now();
    let fallback = source.inputs.iter().find_map(|i| {
        i.page_url.clone().or_else(|| match &i.location {
            Location::Http(u) => Some(u.clone()),
            Location::File(_) => None,
        })
    });
    let page_url = page_url.cloned().or(fallback);
    let inputs: Vec<Input> = files
        .iter()
        .map(|f| Input {
            location: Location::File(f.clone()),
            page_url: page_url.clone(),
            captured,
            captured_at: None,
        })
        .collect();
    // Files go through the fetcher so they get the same size limit.
    let fetcher = match Fetcher::new(crate::fetch::FetchOptions::default()) {
        Ok(f) => f,
        Err(e) => {
            return RefreshOutcome {
                source: source.name.clone(),
                errors: vec![ReadError {
                    source_name: source.name.clone(),
                    stage: Stage::Fetch,
                    message: e.to_string(),
                    retry_after: None,
                }],
                ..RefreshOutcome::default()
            };
        }
    };
    let read = read::read_source(source, &inputs, &fetcher, &HashMap::new(), now).await;
    let mut out = store_read(store, config, source, read, false, false, now).await;
    out.elapsed = started.elapsed();
    log(&out);
    out
}

/// The process step: the config's identity and tag rules on every copy,
/// canonical urls and ids, and the merge of copies the read saw twice (a
/// story on two pages). What comes out is the source's listing, in order.
pub fn process(config: &Config, items: Vec<Item>) -> Vec<Item> {
    process_with(&Rules::from_config(config), &merge::options(config), items)
}

fn process_with(rules: &Rules, options: &merge::MergeOptions, items: Vec<Item>) -> Vec<Item> {
    let copies = items
        .into_iter()
        .map(|mut item| {
            rules.apply(&mut item);
            item
        })
        .collect();
    merge::merge(copies, options)
}

/// The alarms that hold for `read` against the source's stored history, and
/// the read's stats; `None` when no page was read or failed (all not modified).
async fn judge(
    store: &Store,
    source: &SourceConfig,
    read: &Read,
) -> Option<(Vec<drift::Alarm>, drift::ReadStats)> {
    if read.pages_read() == 0 && !read.failed() {
        return None;
    }
    let stats = drift::ReadStats::of(read);
    let name = source.name.clone();
    let n = source.alarms.history;
    let history = match blocking(store, move |s| s.recent_reads(&name, n)).await {
        Ok(h) => h,
        Err(e) => {
            // Without history only failed pages raise alarms.
            warn!(source = %source.name, error = %e, "cannot read the read history");
            Vec::new()
        }
    };
    let alarms = drift::judge(&stats, read.errors(), &history, &source.alarms);
    Some((alarms, stats))
}

/// Keep `judged` (the read's alarms and stats) in the store and put the
/// alarms that hold, and the events this read raised or cleared, in `out`;
/// POST the events to the config's webhook. A read that was not modified
/// (`None`) leaves the alarms of the last read as they are.
async fn record_alarms(
    store: &Store,
    config: &Config,
    source: &SourceConfig,
    fetcher: &Fetcher,
    judged: Option<(Vec<drift::Alarm>, drift::ReadStats)>,
    now: DateTime<Utc>,
    out: &mut RefreshOutcome,
) {
    let name = source.name.clone();
    let Some((alarms, stats)) = judged else {
        if let Ok(active) = blocking(store, move |s| s.active_alarms(Some(&name))).await {
            out.alarms = active;
        }
        return;
    };
    // Stored times carry whole seconds, the status feed's too.
    let now = now.with_nanosecond(0).unwrap_or(now);
    match blocking(store, move |s| {
        s.record_read(&name, &stats, now)?;
        s.set_alarms(&name, &alarms, now)
    })
    .await
    {
        Ok((events, active)) => {
            for e in &events {
                warn!(source = %source.name, alarm = %e.kind, event = %e.event, message = %e.message, "alarm");
            }
            out.alarm_events = events;
            out.alarms = active;
        }
        Err(e) => out.errors.push(store_error(source, e)),
    }
    if !out.alarm_events.is_empty()
        && let Some(hook) = &config.alarm_webhook
    {
        post_events(fetcher, hook, &config.title, &out.alarm_events).await;
    }
}

/// `POST` each alarm event as JSON to the configured webhook. A hook that
/// fails is logged: it never fails the refresh.
async fn post_events(fetcher: &Fetcher, hook: &Url, title: &str, events: &[AlarmEvent]) {
    for e in events {
        let body = serde_json::json!({
            "byline": title,
            "source": e.source,
            "alarm": e.kind,
            "event": e.event,
            "message": e.message,
            "at": e.at.to_rfc3339(),
            "id": e.id,
        });
        if let Err(err) = fetcher.post_json(hook, &body).await {
            warn!(hook = %crate::urls::redact(hook.as_str()), error = %err, "alarm webhook failed");
        }
    }
}

/// Process a read and store it; then record how each page ended (after the
/// items, so saved validators never stand for items that were not stored).
/// A `held` read (drift) stores no items and saves no validators, so the
/// next refresh reads the page again in full.
#[allow(clippy::too_many_arguments)]
async fn store_read(
    store: &Store,
    config: &Config,
    source: &SourceConfig,
    read: Read,
    record: bool,
    held: bool,
    now: DateTime<Utc>,
) -> RefreshOutcome {
    let mut warnings = read.warnings.clone();
    warnings.extend(read.field_problems(source));
    let mut out = RefreshOutcome {
        source: source.name.clone(),
        pages: read.pages_read(),
        not_modified: read.not_modified(),
        items_read: read.items.len(),
        warnings,
        errors: read.errors().cloned().collect(),
        ..RefreshOutcome::default()
    };
    let mut pages = read.pages;
    if held {
        for (_, outcome) in &mut pages {
            if let PageOutcome::Read {
                etag,
                last_modified,
                ..
            } = outcome
            {
                *etag = None;
                *last_modified = None;
            }
        }
    }
    if !read.items.is_empty() && !held {
        // Processing is CPU work too: it runs with the store write, off the
        // async threads.
        let (rules, options) = (Rules::from_config(config), merge::options(config));
        let (name, items) = (source.name.clone(), read.items);
        match blocking(store, move |s| {
            let listing = process_with(&rules, &options, items);
            s.store_listing(&name, &listing, &options, now)
        })
        .await
        {
            Ok(stats) => out.stats = stats,
            Err(e) => {
                // Nothing was stored, so no validator may be saved either.
                let error = store_error(source, e);
                for (_, outcome) in &mut pages {
                    if !matches!(outcome, PageOutcome::Failed(_)) {
                        *outcome = PageOutcome::Failed(error.clone());
                    }
                }
                out.errors.push(error);
            }
        }
    }
    if record {
        let name = source.name.clone();
        let recorded = blocking(store, move |s| {
            for (url, outcome) in &pages {
                let record = match outcome {
                    PageOutcome::Read {
                        etag,
                        last_modified,
                        warnings,
                    } => FetchRecord::Fetched {
                        etag: etag.as_deref(),
                        last_modified: last_modified.as_deref(),
                        warnings,
                    },
                    PageOutcome::NotModified => FetchRecord::NotModified,
                    PageOutcome::Failed(e) => FetchRecord::Failed { error: &e.message },
                };
                s.record_fetch(&name, url, record, now)?;
            }
            Ok(())
        })
        .await;
        if let Err(e) = recorded {
            out.errors.push(store_error(source, e));
        }
    }
    out
}

/// Queue the article pages of the stories this refresh created, then fetch
/// up to `max_per_refresh` due ones, one at a time with `delay_ms` between
/// them (so never more than one request of this source's articles is in
/// flight, within the fetcher's per-host limit), and store what each gave.
/// A failure is recorded for a later retry; it never fails the refresh.
async fn read_articles(
    store: &Store,
    config: &Config,
    source: &SourceConfig,
    rules: &ArticleConfig,
    fetcher: &Fetcher,
    now: DateTime<Utc>,
    out: &mut RefreshOutcome,
) {
    let name = source.name.clone();
    let limit = rules.max_per_refresh;
    let due = blocking(store, move |s| {
        s.queue_articles(&name, now)?;
        s.articles_due(&name, now, limit)
    })
    .await;
    let tasks = match due {
        Ok(t) => t,
        Err(e) => {
            out.warnings.push(format!("articles: {e}"));
            return;
        }
    };
    let (identities, options) = (Rules::from_config(config), merge::options(config));
    for (n, task) in tasks.into_iter().enumerate() {
        if n > 0 && rules.delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(rules.delay_ms)).await;
        }
        let result = read_article(source, rules, fetcher, &task.url).await;
        let (story, at) = (task.story, now);
        let stored = match result {
            Ok(mut found) => {
                // One identity per person, as for the listing's bylines.
                for a in &mut found.authors {
                    *a = identities.person(a, None).name;
                }
                out.articles_read += 1;
                let options = options.clone();
                blocking(store, move |s| s.store_article(story, &found, &options, at)).await
            }
            Err(ArticleFailure { message, saved }) => {
                out.articles_failed += 1;
                // A page missing from the saved ones will not appear by
                // retrying, and is no news.
                if !saved {
                    out.warnings.push(format!("article {message}"));
                }
                let attempts = if saved { 1 } else { rules.max_attempts };
                blocking(store, move |s| {
                    s.article_failed(story, &message, at, attempts)
                })
                .await
            }
        };
        if let Err(e) = stored {
            out.warnings.push(format!("articles: {e}"));
        }
    }
}

/// Why an article page gave nothing.
#[derive(Debug, Clone)]
pub struct ArticleFailure {
    pub message: String,
    /// It was to come from the saved pages of `dir` (retrying will not help).
    pub saved: bool,
}

/// Fetch the article page at `url` as `source`'s `[source.article]` says
/// (or read its saved copy) and extract it, off the async threads. `check`
/// and the refresh both read pages through here.
pub async fn read_article(
    source: &SourceConfig,
    rules: &ArticleConfig,
    fetcher: &Fetcher,
    url: &str,
) -> Result<Article, ArticleFailure> {
    let (location, saved) = article_location(rules, url);
    let fail = |message: String| ArticleFailure { message, saved };
    let location =
        location.ok_or_else(|| fail(format!("{url}: not among the saved article pages")))?;
    let fetched = fetcher
        .fetch(&location)
        .await
        .map_err(|e| fail(e.to_string()))?;
    let extract_rules = ArticleRules {
        content: rules.content.clone(),
        remove: rules.remove.clone(),
    };
    let (url, tz) = (url.to_owned(), source.timezone);
    tokio::task::spawn_blocking(move || {
        let base = fetched
            .final_url
            .clone()
            .or_else(|| Url::parse(&url).ok())
            .ok_or_else(|| format!("{url}: not a url"))?;
        let text = decode_html(&fetched.bytes, fetched.content_type.as_deref()).text;
        article::extract(&text, &base, &extract_rules, tz).map_err(|e| format!("{url}: {e}"))
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()))
    .map_err(fail)
}

/// Where the article page at `url` is read from: the url itself, or with a
/// `dir`, the saved file named by the url's last path segment (`None` when
/// there is none). The flag says whether it is a saved page.
fn article_location(rules: &ArticleConfig, url: &str) -> (Option<Location>, bool) {
    let Some(dir) = &rules.dir else {
        return (Url::parse(url).ok().map(Location::Http), false);
    };
    let slug = Url::parse(url).ok().and_then(|u| {
        u.path_segments()
            .and_then(|mut s| s.rfind(|s| !s.is_empty()).map(str::to_owned))
    });
    let file = slug
        .filter(|s| !s.contains(['/', '\\']) && s != "..")
        .map(|s| dir.join(format!("{s}.html")))
        .filter(|p| p.is_file());
    (file.map(Location::File), true)
}

fn store_error(source: &SourceConfig, e: StoreError) -> ReadError {
    warn!(source = %source.name, error = %e, "store failed");
    ReadError {
        source_name: source.name.clone(),
        stage: Stage::Store,
        message: e.to_string(),
        retry_after: None,
    }
}

fn log(out: &RefreshOutcome) {
    info!(
        source = %out.source,
        pages = out.pages,
        not_modified = out.not_modified,
        new = out.stats.new,
        updated = out.stats.updated,
        unchanged = out.stats.unchanged,
        removed = out.removed,
        articles_read = out.articles_read,
        articles_failed = out.articles_failed,
        errors = out.errors.len(),
        ms = out.elapsed.as_millis() as u64,
        "refreshed"
    );
}

/// Run a store call off the async threads.
async fn blocking<T: Send + 'static>(
    store: &Store,
    f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    let store = store.clone();
    match tokio::task::spawn_blocking(move || f(&store)).await {
        Ok(result) => result,
        Err(e) => Err(StoreError::Task(e.to_string())),
    }
}
