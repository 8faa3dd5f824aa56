//! The schedule keeps a serving byline up to date: each source is refreshed
//! into the store on its own timer, and the feeds are published again from
//! the store when the items behind them changed.
//!
//! A *tick* is one refresh of one source. Sources tick independently (a slow
//! or failing one never delays the others), with jitter so sources sharing a
//! host do not all fetch at the same second. Publishing reads the whole item
//! set back from the store, so items that rolled off a listing stay served.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::Mutex;
use tracing::{info, warn};

use crate::config::Config;
use crate::fetch::Fetcher;
use crate::model::{self, Item};
use crate::pipeline::{self, SourceRead};
use crate::refresh::{RefreshOutcome, refresh_source};
use crate::server::{Published, SourceStatus};
use crate::store::{Store, StoredItem};
use crate::views::ViewKey;

/// The most items read back from the store for publishing.
const MAX_PUBLISHED: usize = 1_000_000;

/// Publishes the store's items, keeping each source's latest status.
#[derive(Clone)]
pub struct Scheduler {
    config: Arc<Config>,
    store: Store,
    fetcher: Fetcher,
    published: Arc<Published>,
    statuses: Arc<Mutex<BTreeMap<String, SourceStatus>>>,
}

impl Scheduler {
    pub fn new(
        config: Arc<Config>,
        store: Store,
        fetcher: Fetcher,
        published: Arc<Published>,
    ) -> Self {
        Scheduler {
            config,
            store,
            fetcher,
            published,
            statuses: Arc::new(Mutex::new(BTreeMap::new())),
        }
    }

    /// Refresh every source once (all at once), then publish.
    pub async fn refresh_all(&self) {
        let mut tasks = tokio::task::JoinSet::new();
        for n in 0..self.config.sources.len() {
            let this = self.clone();
            tasks.spawn(async move { this.tick(n, false).await });
        }
        while tasks.join_next().await.is_some() {}
        self.publish().await;
    }

    /// Run forever: every source ticks each `interval` (± 10 % jitter).
    pub async fn run(self, interval: Duration) {
        let mut tasks = tokio::task::JoinSet::new();
        for n in 0..self.config.sources.len() {
            let this = self.clone();
            tasks.spawn(async move {
                loop {
                    tokio::time::sleep(jittered(interval)).await;
                    this.tick(n, true).await;
                }
            });
        }
        while tasks.join_next().await.is_some() {}
    }

    /// Refresh source `n`; publish when asked and something changed.
    async fn tick(&self, n: usize, publish: bool) {
        let Some(source) = self.config.sources.get(n) else {
            return;
        };
        let now = Utc::now();
        let outcome = refresh_source(&self.store, &self.config, source, &self.fetcher, now).await;
        if outcome.failed() {
            warn!(source = %source.name, errors = ?outcome.errors, "refresh failed; stored items stay served");
        } else {
            info!(source = %source.name, new = outcome.stats.new, updated = outcome.stats.updated,
                  not_modified = outcome.not_modified, "refreshed");
        }
        let status = status_of(&outcome, now);
        let status_changed = {
            let mut statuses = self.statuses.lock().await;
            let before = statuses.get(&source.name).map(|s| s.errors.clone());
            statuses.insert(source.name.clone(), status);
            before.as_deref() != Some(&outcome.errors[..])
        };
        self.published
            .count_not_modified(u64::from(outcome.not_modified));
        if publish && (outcome.changed() || status_changed) {
            self.publish().await;
        }
    }

    /// Read the store back, merge, and publish with the current statuses.
    async fn publish(&self) {
        let store = self.store.clone();
        let read = move || store.stored(&ViewKey::All, MAX_PUBLISHED);
        let items: Vec<Item> = match tokio::task::spawn_blocking(read).await {
            Ok(Ok(stored)) => stored.into_iter().map(with_stable_time).collect(),
            Ok(Err(e)) => {
                warn!(error = %e, "cannot read the store; the feeds stay as they were");
                return;
            }
            Err(e) => {
                warn!(error = %e, "store task failed");
                return;
            }
        };
        let statuses: Vec<SourceStatus> = self.statuses.lock().await.values().cloned().collect();
        let config = self.config.clone();
        let published = self.published.clone();
        let done = tokio::task::spawn_blocking(move || {
            let items = pipeline::merged(&config, items);
            published.publish(items, statuses);
        })
        .await;
        if let Err(e) = done {
            warn!(error = %e, "publishing failed");
        }
    }
}

/// A date-only item is published at the time the store first saw it on that
/// day (stable across refreshes), rather than at midnight; the day, and so
/// the feed order, stays the same.
fn with_stable_time(stored: StoredItem) -> Item {
    let mut item = stored.item;
    if let (Some(model::Published::Date(day, _)), Some(t)) = (item.published, stored.stable_instant)
        && t.date_naive() == day
    {
        item.published = Some(model::Published::DateTime(t));
    }
    item
}

/// The status a refresh leaves, in the shape /healthz shows.
fn status_of(outcome: &RefreshOutcome, at: chrono::DateTime<Utc>) -> SourceStatus {
    let read = SourceRead {
        source: outcome.source.clone(),
        items: Vec::new(),
        warnings: outcome.warnings.clone(),
        errors: outcome.errors.clone(),
        pages: outcome.pages,
    };
    let mut status = SourceStatus::of(&read, at);
    status.items_read = outcome.items_read;
    status
}

/// `interval` ± 10 %, so sources started together drift apart.
fn jittered(interval: Duration) -> Duration {
    let spread = interval.as_millis() as u64 / 10;
    if spread == 0 {
        return interval;
    }
    let offset = fastrand::u64(0..=2 * spread);
    (interval + Duration::from_millis(offset)).saturating_sub(Duration::from_millis(spread))
}
