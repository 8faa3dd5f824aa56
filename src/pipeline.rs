//! The pipeline reads sources: fetch each input, hand the bytes to the source's
//! adapter, follow next-page links, and collect the items and what went wrong.
//!
//! A *read* is one pass over one source. A failing input or page is recorded in
//! the read's errors and never stops the other inputs or sources.

use chrono::{DateTime, Utc};
use tracing::{info, warn};
use url::Url;

use crate::adapters::{self, Page};
use crate::config::{Config, Input, Location, SourceConfig, SourceKind};
use crate::fetch::Fetcher;
use crate::merge::MergeOptions;
use crate::model::Item;
use crate::rules::Rules;
use crate::urls::Canonicalizer;

/// What one read of one source gave.
#[derive(Debug, Clone, Default)]
pub struct SourceRead {
    pub source: String,
    /// Items of every page, positions counted across inputs and pages.
    pub items: Vec<Item>,
    /// Things skipped or not understood.
    pub warnings: Vec<String>,
    /// Inputs or pages that could not be read at all.
    pub errors: Vec<String>,
    /// Pages read successfully.
    pub pages: u32,
}

/// Read one source, every input and (for live pages) every next page up to
/// the source's `max_pages`.
pub async fn read_source(
    source: &SourceConfig,
    fetcher: &Fetcher,
    now: DateTime<Utc>,
) -> SourceRead {
    let mut read = SourceRead {
        source: source.name.clone(),
        ..SourceRead::default()
    };
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
            let fetched = match fetcher.fetch(&location).await {
                Ok(f) => f,
                Err(e) => {
                    warn!(source = %source.name, error = %e, "fetch failed");
                    read.errors.push(format!("source {:?}: {e}", source.name));
                    break;
                }
            };
            if let Some(u) = &fetched.final_url {
                page_url = Some(u.clone());
            }
            let page = Page {
                bytes: &fetched.bytes,
                name: &name,
                url: page_url.as_ref(),
                content_type: fetched.content_type.as_deref(),
                captured: input.captured,
                fetched_at: now,
            };
            let first = u32::try_from(read.items.len()).unwrap_or(u32::MAX);
            let listing = match adapters::read(source, &page, first) {
                Ok(l) => l,
                Err(e) => {
                    warn!(source = %source.name, error = %e, "page not readable");
                    read.errors.push(format!("source {:?}: {e}", source.name));
                    break;
                }
            };
            read.pages += 1;
            info!(source = %source.name, page = %name, items = listing.items.len(), warnings = listing.warnings.len(), "read page");
            read.items.extend(listing.items);
            read.warnings.extend(listing.warnings);
            // Follow the listing's next page only for live inputs: a saved
            // snapshot's next link points at today's site, not the snapshot.
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
    read
}

/// Read every source of `config`, in config order.
pub async fn read_all(config: &Config, fetcher: &Fetcher, now: DateTime<Utc>) -> Vec<SourceRead> {
    let total = config.sources.len();
    let mut reads = Vec::with_capacity(total);
    for (n, source) in config.sources.iter().enumerate() {
        info!(source = %source.name, progress = format!("{}/{total}", n + 1), "reading source");
        reads.push(read_source(source, fetcher, now).await);
    }
    reads
}

/// Apply the config's identity and tag rules to every copy, then merge: the
/// one way from what the sources gave to the items feeds are made of.
pub fn merged(config: &Config, copies: Vec<Item>) -> Vec<Item> {
    let rules = Rules::from_config(config);
    let copies = copies
        .into_iter()
        .map(|mut item| {
            rules.apply(&mut item);
            item
        })
        .collect();
    crate::merge::merge(copies, &merge_options(config))
}

/// The merge options a config implies: its tracking parameters, and each
/// source's origin hosts (its `link`, and its live input urls for page sources;
/// an aggregated feed is not the origin of the stories it links to).
pub fn merge_options(config: &Config) -> MergeOptions {
    let mut options = MergeOptions {
        canonicalizer: Canonicalizer::with_extra(&config.tracking_params),
        ..MergeOptions::default()
    };
    for source in &config.sources {
        let mut hosts: Vec<String> = Vec::new();
        let mut add = |u: &Url| {
            if let Some(h) = u.host_str() {
                let h = h.to_owned();
                if !hosts.contains(&h) {
                    hosts.push(h);
                }
            }
        };
        if let Some(l) = &source.link {
            add(l);
        }
        if source.kind != SourceKind::Feed {
            for input in &source.inputs {
                if let Some(u) = input_url(input) {
                    add(&u);
                }
            }
        }
        options.origin_hosts.insert(source.name.clone(), hosts);
    }
    options
}

fn input_url(input: &Input) -> Option<Url> {
    input.page_url.clone().or_else(|| match &input.location {
        Location::Http(u) => Some(u.clone()),
        Location::File(_) => None,
    })
}
