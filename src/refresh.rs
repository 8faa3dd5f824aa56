//! Refreshing: one pass over one source into the store.
//!
//! A *refresh* fetches each input of a source conditionally (sending the
//! validators the store kept), reads what changed with the source's adapter,
//! merges it with the config's rules, stores it in one transaction, records
//! how each fetch ended, and trims history per the source's retention. A 304
//! (or an unchanged file) costs no parse. A failure of any kind is recorded in
//! the store's fetch state and never removes a stored item: the feeds keep
//! serving what was there. `byline refresh`, `byline ingest` and the server's
//! scheduler all go through here.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tracing::{info, warn};
use url::Url;

use crate::adapters::{self, Page};
use crate::config::{Config, Location, SourceConfig};
use crate::fetch::{Conditional, Fetched, Fetcher, Validators};
use crate::model::Item;
use crate::pipeline;
use crate::store::{FetchRecord, Store, StoreError, UpsertStats};

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
    /// Things the adapter skipped or did not understand.
    pub warnings: Vec<String>,
    /// Inputs or pages that could not be fetched, read or stored.
    pub errors: Vec<String>,
    pub elapsed: Duration,
}

impl RefreshOutcome {
    /// Did any input fail?
    pub fn failed(&self) -> bool {
        !self.errors.is_empty()
    }

    /// Did the items behind the source's feeds change (so they need a re-render)?
    pub fn changed(&self) -> bool {
        self.stats.new > 0 || self.stats.updated > 0 || self.removed > 0
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
    let mut out = RefreshOutcome {
        source: source.name.clone(),
        ..RefreshOutcome::default()
    };
    let mut items: Vec<Item> = Vec::new();
    // How each fetched url ended; written after the items, so saved
    // validators never stand for items that were not stored.
    let mut records: Vec<(String, Record)> = Vec::new();
    let max_pages = source.html.as_ref().map_or(1, |h| h.max_pages);

    for input in &source.inputs {
        let mut location = input.location.clone();
        let mut page_url = input.page_url.clone().or_else(|| match &location {
            Location::Http(u) => Some(u.clone()),
            Location::File(_) => None,
        });
        let mut seen_pages: Vec<Location> = Vec::new();
        for page_no in 1..=max_pages {
            let name = location.display();
            seen_pages.push(location.clone());
            let validators = match blocking(store, {
                let (source, name) = (source.name.clone(), name.clone());
                move |s| s.fetch_state(&source, &name)
            })
            .await
            {
                Ok(Some(state)) => Validators {
                    etag: state.etag,
                    last_modified: state.last_modified,
                },
                Ok(None) => Validators::default(),
                Err(e) => {
                    // Without validators the fetch is just unconditional.
                    warn!(source = %source.name, error = %e, "cannot read fetch state");
                    Validators::default()
                }
            };
            let fetched = match fetcher.fetch_if(&location, &validators).await {
                Ok(Conditional::Modified(f)) => f,
                Ok(Conditional::NotModified) => {
                    // Unchanged: its items are stored, and following its next
                    // link would need the parse a 304 saves.
                    info!(source = %source.name, page = %name, "not modified");
                    out.not_modified += 1;
                    records.push((name, Record::NotModified));
                    break;
                }
                Err(e) => {
                    fail(&mut out, &mut records, &source.name, name, e.to_string());
                    break;
                }
            };
            if let Some(u) = &fetched.final_url {
                page_url = Some(u.clone());
            }
            if let Err(message) = check_declared_charset(&fetched) {
                fail(&mut out, &mut records, &source.name, name, message);
                break;
            }
            let page = Page {
                bytes: &fetched.bytes,
                name: &name,
                url: page_url.as_ref(),
                content_type: fetched.content_type.as_deref(),
                captured: input.captured,
                fetched_at: now,
            };
            let first = u32::try_from(items.len()).unwrap_or(u32::MAX);
            let listing = match adapters::read(source, &page, first) {
                Ok(l) => l,
                Err(e) => {
                    fail(&mut out, &mut records, &source.name, name, e.to_string());
                    break;
                }
            };
            if listing.items.is_empty() {
                // An empty page is far more often a broken or changed page than
                // an empty listing; keep its validators out so it is read again.
                let why = listing
                    .warnings
                    .first()
                    .map_or_else(|| format!("{name}: no items"), |w| format!("no items: {w}"));
                out.warnings.extend(listing.warnings);
                fail(&mut out, &mut records, &source.name, name, why);
                break;
            }
            out.pages += 1;
            info!(source = %source.name, page = %name, items = listing.items.len(), warnings = listing.warnings.len(), "read page");
            items.extend(listing.items);
            out.warnings.extend(listing.warnings.iter().cloned());
            records.push((
                name,
                Record::Fetched {
                    etag: fetched.etag.clone(),
                    last_modified: fetched.last_modified.clone(),
                    warnings: listing.warnings,
                },
            ));
            // Follow next pages of live inputs only: a saved snapshot's next
            // link points at today's site, not the snapshot.
            let next = match (&input.location, listing.next_page) {
                (Location::Http(_), Some(next)) if page_no < max_pages => Url::parse(&next).ok(),
                _ => None,
            };
            match next {
                Some(u) if !seen_pages.contains(&Location::Http(u.clone())) => {
                    page_url = Some(u.clone());
                    location = Location::Http(u);
                }
                _ => break,
            }
        }
    }

    out.items_read = items.len();
    if !items.is_empty() {
        let merged = pipeline::merged(config, items);
        let name = source.name.clone();
        match blocking(store, move |s| s.upsert_items(&name, &merged, now)).await {
            Ok(stats) => out.stats = stats,
            Err(e) => {
                // Nothing was stored, so no validator may be saved either.
                let message = e.to_string();
                warn!(source = %source.name, error = %message, "cannot store items");
                out.errors
                    .push(format!("source {:?}: {message}", source.name));
                for (_, record) in &mut records {
                    if !matches!(record, Record::Failed(_)) {
                        *record = Record::Failed(message.clone());
                    }
                }
            }
        }
    }

    let retention = source.retention;
    if !out.failed() && (retention.max_items.is_some() || retention.max_age_days.is_some()) {
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
            Err(e) => out.errors.push(format!("source {:?}: {e}", source.name)),
        }
    }

    let name = source.name.clone();
    let recorded = blocking(store, move |s| {
        for (url, record) in &records {
            let record = match record {
                Record::Fetched {
                    etag,
                    last_modified,
                    warnings,
                } => FetchRecord::Fetched {
                    etag: etag.as_deref(),
                    last_modified: last_modified.as_deref(),
                    warnings,
                },
                Record::NotModified => FetchRecord::NotModified,
                Record::Failed(error) => FetchRecord::Failed { error },
            };
            s.record_fetch(&name, url, record, now)?;
        }
        Ok(())
    })
    .await;
    if let Err(e) = recorded {
        out.errors.push(format!("source {:?}: {e}", source.name));
    }
    out.elapsed = started.elapsed();
    info!(
        source = %source.name,
        pages = out.pages,
        not_modified = out.not_modified,
        new = out.stats.new,
        updated = out.stats.updated,
        unchanged = out.stats.unchanged,
        removed = out.removed,
        errors = out.errors.len(),
        ms = out.elapsed.as_millis() as u64,
        "refreshed"
    );
    out
}

/// What a fetch of one url came to, owned until it is written.
#[derive(Debug, Clone)]
enum Record {
    Fetched {
        etag: Option<String>,
        last_modified: Option<String>,
        warnings: Vec<String>,
    },
    NotModified,
    Failed(String),
}

fn fail(
    out: &mut RefreshOutcome,
    records: &mut Vec<(String, Record)>,
    source: &str,
    name: String,
    message: String,
) {
    warn!(source = %source, page = %name, error = %message, "refresh failed");
    out.errors.push(format!("source {source:?}: {message}"));
    records.push((name, Record::Failed(message)));
}

/// A response whose bytes are not valid in the charset its `Content-Type`
/// declares is broken upstream; reading it anyway would store mangled titles
/// (and, for url-less items, new ids) over good ones.
fn check_declared_charset(fetched: &Fetched) -> Result<(), String> {
    let Some(content_type) = fetched.content_type.as_deref() else {
        return Ok(());
    };
    let Some(label) = content_type.split(';').skip(1).find_map(|param| {
        let (key, value) = param.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches('"'))
    }) else {
        return Ok(());
    };
    // An unknown label is the adapter's to judge (it may sniff the body).
    let Some(encoding) = encoding_rs::Encoding::for_label(label.as_bytes()) else {
        return Ok(());
    };
    let (encoding, bom) = encoding_rs::Encoding::for_bom(&fetched.bytes).unwrap_or((encoding, 0));
    let body = fetched.bytes.get(bom..).unwrap_or_default();
    if encoding
        .decode_without_bom_handling_and_without_replacement(body)
        .is_some()
    {
        return Ok(());
    }
    let at = if encoding == encoding_rs::UTF_8 {
        match std::str::from_utf8(body) {
            Err(e) => format!(" at byte {}", e.valid_up_to() + bom),
            Ok(_) => String::new(),
        }
    } else {
        String::new()
    };
    let place = fetched
        .final_url
        .as_ref()
        .map_or_else(String::new, |u| format!("{u}: "));
    Err(format!(
        "{place}body is not valid {} as its Content-Type {content_type:?} declares (invalid bytes{at}); page not read",
        encoding.name()
    ))
}

/// Run a store call off the async threads.
async fn blocking<T: Send + 'static>(
    store: &Store,
    f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, String> {
    let store = store.clone();
    match tokio::task::spawn_blocking(move || f(&store)).await {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(e) => Err(format!("store task failed: {e}")),
    }
}

/// Import saved pages of `source` (such as text dumps) into the store, read
/// with the source's adapter as if they were its inputs, in the order given:
/// one listing, one transaction. `page_url` is the url the pages were saved
/// from (relative links resolve against it; default: the source's first
/// input url); `captured` is their capture day when the pages do not say.
/// Nothing is fetched over the network and no fetch state is written.
pub async fn ingest_files(
    store: &Store,
    config: &Config,
    source: &SourceConfig,
    files: &[std::path::PathBuf],
    page_url: Option<&Url>,
    captured: Option<chrono::NaiveDate>,
    now: DateTime<Utc>,
) -> RefreshOutcome {
    let started = Instant::now();
    let mut out = RefreshOutcome {
        source: source.name.clone(),
        ..RefreshOutcome::default()
    };
    let fallback_url = source.inputs.iter().find_map(|i| {
        i.page_url.clone().or_else(|| match &i.location {
            Location::Http(u) => Some(u.clone()),
            Location::File(_) => None,
        })
    });
    let page_url = page_url.cloned().or(fallback_url);
    // Files go through the fetcher so they get the same size limit.
    let fetcher = match Fetcher::new(crate::fetch::FetchOptions::default()) {
        Ok(f) => f,
        Err(e) => {
            out.errors.push(e.to_string());
            return out;
        }
    };
    let mut items: Vec<Item> = Vec::new();
    for file in files {
        let name = file.display().to_string();
        let fetched = match fetcher.fetch(&Location::File(file.clone())).await {
            Ok(f) => f,
            Err(e) => {
                out.errors.push(e.to_string());
                continue;
            }
        };
        let page = Page {
            bytes: &fetched.bytes,
            name: &name,
            url: page_url.as_ref(),
            content_type: None,
            captured,
            fetched_at: now,
        };
        let first = u32::try_from(items.len()).unwrap_or(u32::MAX);
        match adapters::read(source, &page, first) {
            Ok(listing) if listing.items.is_empty() => {
                out.warnings.extend(listing.warnings);
                out.errors.push(format!("{name}: no items"));
            }
            Ok(listing) => {
                out.pages += 1;
                items.extend(listing.items);
                out.warnings.extend(listing.warnings);
            }
            Err(e) => out.errors.push(e.to_string()),
        }
    }
    out.items_read = items.len();
    if !items.is_empty() {
        let merged = pipeline::merged(config, items);
        let name = source.name.clone();
        match blocking(store, move |s| s.upsert_items(&name, &merged, now)).await {
            Ok(stats) => out.stats = stats,
            Err(e) => out.errors.push(e),
        }
    }
    out.elapsed = started.elapsed();
    out
}
