//! Reading: the one page loop every command goes through.
//!
//! A *read* is one pass over one source: for each input, fetch (sending the
//! validators the caller kept), check the body against its declared charset,
//! hand it to the source's adapter, follow the listing's next page, and
//! collect the items, the warnings and how each page ended. `check` prints a
//! read; `refresh`, `ingest`, `build` and `serve` hand it to the store. There
//! is no other way from a url to items, so every command keeps the same rules:
//! a page that is not modified costs no parse, a body invalid in its declared
//! charset or a page without items is a failure (far more often a broken page
//! than an empty listing), and a failure names its stage and place.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::Semaphore;
use tracing::{info, warn};
use url::Url;

use crate::adapters::{self, Page, decode};
use crate::config::{Input, Location, SourceConfig, SourceKind};
use crate::fetch::{Conditional, Fetcher, Validators};
use crate::model::Item;
use crate::urls;
use crate::wall::{self, Wall, WallKind};

/// Which step of reading a page failed: `/healthz` and `/metrics` tell a
/// site that is down (fetch) from one whose markup changed (parse, empty).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// The bytes could not be had: network, HTTP status, file, size limit.
    Fetch,
    /// The bytes are not valid in the charset they declare.
    Decode,
    /// The adapter could not read the page at all.
    Parse,
    /// The page read, but gave no items.
    Empty,
    /// A bot guard answered instead of the site: a challenge, captcha,
    /// block, consent or login wall.
    Blocked,
    /// A page whose status said success but whose body is an error page.
    #[serde(rename = "error_page")]
    ErrorPage,
    /// The items could not be stored.
    Store,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::Fetch => "fetch",
            Stage::Decode => "decode",
            Stage::Parse => "parse",
            Stage::Empty => "empty",
            Stage::Blocked => "blocked",
            Stage::ErrorPage => "error_page",
            Stage::Store => "store",
        }
    }
}

/// Why a page (or a source) gave nothing; the message names the place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("source {source_name:?}: {message}")]
pub struct ReadError {
    /// The source's name.
    pub source_name: String,
    pub stage: Stage,
    pub message: String,
    /// How long the server asked us to wait (`Retry-After`), if it did.
    pub retry_after: Option<std::time::Duration>,
}

/// How one fetched page (a url or a file) ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageOutcome {
    /// Read; its items are in the read. The validators are for next time.
    Read {
        etag: Option<String>,
        last_modified: Option<String>,
        warnings: Vec<String>,
    },
    /// Unchanged since the validators sent: its items are already stored.
    NotModified,
    Failed(ReadError),
}

/// What one read of one source gave.
#[derive(Debug, Clone, Default)]
pub struct Read {
    pub source: String,
    /// Items of every page, positions counted across inputs and pages.
    pub items: Vec<Item>,
    /// Every page fetched, by name (url or path), in order.
    pub pages: Vec<(String, PageOutcome)>,
    /// What the adapter skipped or did not understand.
    pub warnings: Vec<String>,
    /// Did any page read link a next page? (Drift: pagination stops being found.)
    pub pagination: bool,
    /// What each page fetched, when the read was asked to keep it (`byline record`).
    pub captured: Vec<CapturedPage>,
}

/// One fetched page as a recording keeps it: its bytes and everything the
/// adapter was told about them, so a replay parses it exactly as the read did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedPage {
    /// The page's name (url or path).
    pub name: String,
    /// The url relative links resolved against.
    pub url: Option<String>,
    /// The url after redirects, for http pages.
    pub final_url: Option<String>,
    pub content_type: Option<String>,
    /// The capture day the config gave, if any.
    pub captured: Option<chrono::NaiveDate>,
    /// The instant relative dates counted back from.
    pub fetched_at: DateTime<Utc>,
    pub headers: Vec<(String, String)>,
    pub bytes: Vec<u8>,
}

impl Read {
    /// Pages read (not 304s, not failures).
    pub fn pages_read(&self) -> u32 {
        let n = self
            .pages
            .iter()
            .filter(|(_, o)| matches!(o, PageOutcome::Read { .. }))
            .count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    pub fn not_modified(&self) -> u32 {
        let n = self
            .pages
            .iter()
            .filter(|(_, o)| *o == PageOutcome::NotModified)
            .count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    pub fn errors(&self) -> impl Iterator<Item = &ReadError> {
        self.pages.iter().filter_map(|(_, o)| match o {
            PageOutcome::Failed(e) => Some(e),
            _ => None,
        })
    }

    pub fn failed(&self) -> bool {
        self.errors().next().is_some()
    }

    /// Problems with the items' fields that make the read suspect though no
    /// page failed: today, a configured date field that filled for no item
    /// (a date selector that stopped matching). Such items are stored with
    /// their first-seen time, never 1970 or "now".
    pub fn field_problems(&self, source: &SourceConfig) -> Vec<String> {
        let mut out = Vec::new();
        let dates_expected = match source.kind {
            SourceKind::Html => source.html.as_ref().is_some_and(|h| h.published.is_some()),
            SourceKind::Json => source.json.as_ref().is_some_and(|j| j.published.is_some()),
            SourceKind::Text | SourceKind::Feed => true,
        };
        if dates_expected
            && !self.items.is_empty()
            && self.items.iter().all(|i| i.published.is_none())
        {
            out.push(format!(
                "source {:?}: field published: no date for any of {} items (does the date selector still match?); they are dated when first seen",
                self.source,
                self.items.len()
            ));
        }
        out
    }
}

/// Read `inputs` (usually `source.inputs`) of `source`. `validators` are the
/// ones kept from earlier reads, by page name: a page they still describe is
/// "not modified" and not parsed. Never fails as a whole: what went wrong is
/// in the read's pages.
pub async fn read_source(
    source: &SourceConfig,
    inputs: &[Input],
    fetcher: &Fetcher,
    validators: &HashMap<String, Validators>,
    now: DateTime<Utc>,
) -> Read {
    read_pages(source, inputs, fetcher, validators, now, false).await
}

/// [`read_source`], keeping what each page fetched in the read's `captured`
/// (for `byline record`). Nothing is sent conditionally: a recording needs
/// the bytes.
pub async fn read_source_captured(
    source: &SourceConfig,
    fetcher: &Fetcher,
    now: DateTime<Utc>,
) -> Read {
    read_pages(source, &source.inputs, fetcher, &HashMap::new(), now, true).await
}

async fn read_pages(
    source: &SourceConfig,
    inputs: &[Input],
    fetcher: &Fetcher,
    validators: &HashMap<String, Validators>,
    now: DateTime<Utc>,
    capture: bool,
) -> Read {
    let mut read = Read {
        source: source.name.clone(),
        ..Read::default()
    };
    let max_pages = source.html.as_ref().map_or(1, |h| h.max_pages);
    let shared = Arc::new(source.clone());
    for input in inputs {
        let mut location = input.location.clone();
        let mut page_url = input.page_url.clone().or_else(|| match &location {
            Location::Http(u) => Some(u.clone()),
            Location::File(_) => None,
        });
        let mut seen: Vec<Location> = Vec::new();
        for page_no in 1..=max_pages {
            let name = location.display();
            seen.push(location.clone());
            let kept = validators.get(&name).cloned().unwrap_or_default();
            let shown = urls::redact(&name);
            let fail_after =
                |read: &mut Read,
                 stage: Stage,
                 message: String,
                 retry_after: Option<std::time::Duration>| {
                    // Errors are shown on public pages: no secret of a url in them.
                    let message = urls::redact(&message);
                    warn!(source = %source.name, page = %shown, stage = stage.name(), error = %message, "page failed");
                    let error = ReadError {
                        source_name: source.name.clone(),
                        stage,
                        message,
                        retry_after,
                    };
                    read.pages.push((name.clone(), PageOutcome::Failed(error)));
                };
            let fail = |read: &mut Read, stage: Stage, message: String| {
                fail_after(read, stage, message, None);
            };
            let fetched = match fetcher.fetch_if(&location, &kept).await {
                Ok(Conditional::Modified(f)) => f,
                Ok(Conditional::NotModified) => {
                    // Its items are stored, and following its next link
                    // would need the parse a 304 saves.
                    info!(source = %source.name, page = %shown, "not modified");
                    read.pages.push((name, PageOutcome::NotModified));
                    break;
                }
                Err(e) => {
                    let (retry_after, wall) = match &e {
                        crate::fetch::FetchError::Status {
                            retry_after,
                            status,
                            page,
                            ..
                        } => (
                            *retry_after,
                            wall::of_status(*status, &page.headers, &page.body),
                        ),
                        _ => (None, None),
                    };
                    match wall {
                        Some(w) => {
                            fail_after(&mut read, Stage::Blocked, blocked(&name, &w), retry_after)
                        }
                        None => fail_after(&mut read, Stage::Fetch, e.to_string(), retry_after),
                    }
                    break;
                }
            };
            if let Some(u) = &fetched.final_url {
                page_url = Some(u.clone());
            }
            let at = ParseAt {
                name: name.clone(),
                url: page_url.clone(),
                content_type: fetched.content_type.clone(),
                // A saved page captured at a known instant reads as if
                // fetched then: "11 hours ago" counts back from it.
                captured: input.captured.filter(|_| input.captured_at.is_none()),
                fetched_at: input.captured_at.map_or(now, |t| t.to_utc()),
            };
            if capture {
                read.captured.push(CapturedPage {
                    name: name.clone(),
                    url: at.url.as_ref().map(ToString::to_string),
                    final_url: fetched.final_url.as_ref().map(ToString::to_string),
                    content_type: at.content_type.clone(),
                    captured: at.captured,
                    fetched_at: at.fetched_at,
                    headers: fetched.headers.clone(),
                    bytes: fetched.bytes.clone(),
                });
            }
            if let Some(w) = wall::of_headers(&fetched.headers) {
                fail(&mut read, Stage::Blocked, blocked(&name, &w));
                break;
            }
            if let Err(message) =
                decode::check_declared(&fetched.bytes, fetched.content_type.as_deref())
            {
                fail(&mut read, Stage::Decode, format!("{name}: {message}"));
                break;
            }
            let first = u32::try_from(read.items.len()).unwrap_or(u32::MAX);
            // An empty page is checked for a wall; keep the head to look at.
            let head = fetched.bytes[..fetched.bytes.len().min(64 * 1024)].to_vec();
            let parsed = parse(&shared, fetched.bytes, at, first).await;
            let listing = match parsed {
                Ok(l) => l,
                Err(e) => {
                    fail(&mut read, Stage::Parse, e.to_string());
                    break;
                }
            };
            if listing.items.is_empty() {
                read.warnings.extend(listing.warnings.iter().cloned());
                // A wall read as a listing gives nothing: name the wall.
                if let Some(w) = wall::of_empty(&name, fetched.final_url.as_ref(), &head) {
                    let stage = match w.kind {
                        WallKind::Bot => Stage::Blocked,
                        WallKind::ErrorPage => Stage::ErrorPage,
                    };
                    fail(&mut read, stage, blocked(&name, &w));
                    break;
                }
                // Keep its validators out, so the page is read again.
                let why = listing
                    .warnings
                    .first()
                    .map_or_else(|| format!("{name}: no items"), |w| format!("no items: {w}"));
                fail(&mut read, Stage::Empty, why);
                break;
            }
            info!(source = %source.name, page = %shown, items = listing.items.len(),
                  warnings = listing.warnings.len(), "read page");
            read.pagination |= listing.next_page.is_some();
            read.items.extend(listing.items);
            read.warnings.extend(listing.warnings.iter().cloned());
            read.pages.push((
                name,
                PageOutcome::Read {
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
                Some(u) if !seen.contains(&Location::Http(u.clone())) => {
                    page_url = Some(u.clone());
                    location = Location::Http(u);
                }
                _ => break,
            }
        }
    }
    read
}

/// The message of a page a wall stood in front of.
fn blocked(name: &str, wall: &Wall) -> String {
    match wall.kind {
        WallKind::Bot => format!("blocked by a bot wall at {name}: {}", wall.reason),
        WallKind::ErrorPage => format!(
            "an error page instead of the listing at {name}: {}",
            wall.reason
        ),
    }
}

/// Adapters at once, across every read: parsing is CPU work, kept off the
/// async workers (serving never waits on it) and bounded so a burst of
/// refreshes cannot take every core.
static PARSE_SLOTS: Semaphore = Semaphore::const_new(2);

/// What a page is, besides its bytes.
struct ParseAt {
    name: String,
    url: Option<Url>,
    content_type: Option<String>,
    captured: Option<chrono::NaiveDate>,
    fetched_at: DateTime<Utc>,
}

/// Run the source's adapter on `bytes` on the blocking pool.
async fn parse(
    source: &Arc<SourceConfig>,
    bytes: Vec<u8>,
    at: ParseAt,
    first: u32,
) -> Result<adapters::Listing, String> {
    let _slot = PARSE_SLOTS.acquire().await.map_err(|e| e.to_string())?;
    let source = source.clone();
    let task = tokio::task::spawn_blocking(move || {
        let page = Page {
            bytes: &bytes,
            name: &at.name,
            url: at.url.as_ref(),
            content_type: at.content_type.as_deref(),
            captured: at.captured,
            fetched_at: at.fetched_at,
        };
        adapters::read(&source, &page, first).map_err(|e| e.to_string())
    });
    match task.await {
        Ok(result) => result,
        Err(e) => Err(format!("the adapter stopped: {e}")),
    }
}
