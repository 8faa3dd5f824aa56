//! What the server currently publishes. A *snapshot* is one edition (the
//! views and the stories they show, read from the store by
//! [`crate::views::Edition::read`], the same as `build`) plus the state of
//! every source, and the documents rendered so far (an [`Entry`] per path:
//! body, gzip and brotli bytes, validators). [`Published`] holds the current
//! snapshot and swaps in a new one atomically, so a request sees one item set
//! from start to end and a refresh never blocks readers.
//!
//! Documents are rendered when a snapshot is published (as many as the cache
//! budget holds), or on first request, and then served from memory until the
//! next snapshot; never once per request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use chrono::{DateTime, Utc};
use hyper::header::HeaderValue;
use tracing::info;

use crate::config::Config;
use crate::model::Item;
use crate::render::{self, Format, Site};
use crate::site::{self, Document};
use crate::store::AlarmEvent;
use crate::views::{Edition, View, ViewEntry, ViewKey};

use super::cache::{DocCache, Effort, Entry};
use super::metrics::{Gauges, Metrics};
use super::routes::{DocRef, ViewRef};
use super::status::{SourceStatus, problems};

/// Narrowed views (`?limit=`, `?tag=`, `?author=`) and documents for other
/// proxy origins are cached too, but only this many, so that a client walking
/// every combination cannot grow memory or evict the plain documents.
const MAX_VARIANTS: usize = 128;

/// What one config gives the server. A snapshot carries the settings it was
/// rendered with, so a reload swaps both at once and a request never mixes
/// the old config with the new.
pub(crate) struct Settings {
    pub(crate) config: Arc<Config>,
    pub(crate) site: Site,
    /// `Cache-Control` of every document.
    pub(crate) cache_control: HeaderValue,
}

impl Settings {
    fn new(config: Arc<Config>) -> Self {
        let site = site::site(&config);
        let cache_control =
            HeaderValue::from_str(&format!("public, max-age={}", config.server.cache_max_age))
                .unwrap_or_else(|_| HeaderValue::from_static("public, max-age=300"));
        Settings {
            config,
            site,
            cache_control,
        }
    }
}

/// The server's view of the site: the current snapshot, the settings the next
/// one is built with, metrics.
pub struct Published {
    pub(crate) metrics: Metrics,
    /// The settings of the next publish (a reload replaces them).
    settings: Mutex<Arc<Settings>>,
    current: RwLock<Arc<Snapshot>>,
    /// Why the store cannot be trusted, if it cannot: `/healthz` fails.
    store_problem: RwLock<Option<String>>,
    /// True until the first refresh after start-up has ended.
    starting: std::sync::atomic::AtomicBool,
    /// The newest alarm events, newest first: the status feed.
    alarm_events: RwLock<Arc<Vec<AlarmEvent>>>,
}

impl Published {
    /// A server for `config` that publishes nothing yet (every view is empty
    /// until [`Published::publish`]).
    pub fn new(config: impl Into<Arc<Config>>) -> Self {
        let settings = Arc::new(Settings::new(config.into()));
        let empty = Snapshot::build(settings.clone(), Edition::default(), Vec::new());
        Published {
            metrics: Metrics::default(),
            settings: Mutex::new(settings),
            current: RwLock::new(Arc::new(empty)),
            store_problem: RwLock::new(None),
            starting: std::sync::atomic::AtomicBool::new(true),
            alarm_events: RwLock::new(Arc::new(Vec::new())),
        }
    }

    /// The config the next publish renders with.
    pub fn config(&self) -> Arc<Config> {
        self.settings().config.clone()
    }

    fn settings(&self) -> MutexGuard<'_, Arc<Settings>> {
        self.settings.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Render from now on with `config` (a reload); what is served changes
    /// with the next [`Published::publish_from`] of that config.
    pub fn reconfigure(&self, config: Arc<Config>) {
        *self.settings() = Arc::new(Settings::new(config));
    }

    /// Count a refresh of `source` for `/metrics`: whether it failed, and
    /// the alarms it raised and cleared.
    pub fn count_refresh(&self, source: &str, failed: bool, raised: u64, cleared: u64) {
        self.metrics.count_refresh(source, failed, raised, cleared);
    }

    /// Count upstream fetches that were "not modified", for `/metrics`.
    pub fn count_not_modified(&self, n: u64) {
        self.metrics
            .upstream_not_modified
            .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    }

    /// Publish new source states over the same edition: no feed is read or
    /// rendered again, only the index page.
    pub fn publish_statuses(&self, mut sources: Vec<SourceStatus>) {
        let previous = self.snapshot();
        keep_history(&previous, &mut sources);
        let snapshot = previous.with_statuses(sources);
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        *current = Arc::new(snapshot);
    }

    /// Publish a new merged item set (in feed order) and the sources' state:
    /// index the views, render documents up to the cache budget, then swap the
    /// snapshot in. Requests already running finish on the old one.
    ///
    /// This renders and compresses, so call it from a blocking context
    /// (`tokio::task::spawn_blocking`) once the server runs.
    pub fn publish(&self, edition: Edition, sources: Vec<SourceStatus>) {
        let config = self.config();
        self.publish_from(&config, edition, sources);
    }

    /// [`Published::publish`] an edition read with `config`, unless a reload
    /// replaced that config meanwhile (the edition is then stale: its views
    /// follow the old feeds and rules). Returns whether it was published.
    pub fn publish_from(
        &self,
        config: &Arc<Config>,
        edition: Edition,
        mut sources: Vec<SourceStatus>,
    ) -> bool {
        // Held to the end: a reload waits for a publish in progress.
        let settings = self.settings();
        if !Arc::ptr_eq(&settings.config, config) {
            return false;
        }
        let started = std::time::Instant::now();
        let previous = self.snapshot();
        // The old snapshot's documents are about to be replaced: let them go
        // before the new ones are rendered, so a publish does not hold two
        // caches at once (a request meanwhile renders what it misses).
        previous.docs().clear();
        previous.variants().clear();
        keep_history(&previous, &mut sources);
        let snapshot = Snapshot::build(settings.clone(), edition, sources);
        let warmed = snapshot.prewarm();
        info!(
            items = snapshot.edition.stories.len(),
            store_bytes = snapshot.edition.stories.bytes(),
            views = snapshot.edition.views.len(),
            documents = warmed,
            cache_bytes = snapshot.docs().bytes,
            millis = started.elapsed().as_millis() as u64,
            "published"
        );
        let old = {
            let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
            std::mem::replace(&mut *current, Arc::new(snapshot))
        };
        drop((old, previous, settings));
        release_free_memory();
        true
    }

    /// The first refresh after start-up has ended.
    pub fn set_started(&self) {
        self.starting
            .store(false, std::sync::atomic::Ordering::Relaxed);
    }

    /// Is the first refresh after start-up still running?
    pub fn is_starting(&self) -> bool {
        self.starting.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Say the store is damaged or unreadable (`Some(why)`), or fine again.
    pub fn set_store_problem(&self, problem: Option<String>) {
        *self
            .store_problem
            .write()
            .unwrap_or_else(PoisonError::into_inner) = problem;
    }

    pub(crate) fn store_problem(&self) -> Option<String> {
        self.store_problem
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The snapshot requests are served from right now.
    pub(crate) fn snapshot(&self) -> Arc<Snapshot> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Sources' last error and last success carry over from `previous` where a
/// new status has none.
fn keep_history(previous: &Snapshot, sources: &mut [SourceStatus]) {
    for status in sources {
        if let Some(old) = previous.sources.iter().find(|s| s.name == status.name) {
            if status.last_error.is_none() {
                status.last_error.clone_from(&old.last_error);
                status.last_error_at = old.last_error_at;
            }
            if status.last_ok_at.is_none() {
                status.last_ok_at = old.last_ok_at;
            }
        }
    }
}

/// Hand memory freed by a publish back to the system. Reading, merging and
/// rendering a large item set leave a heap several times the size of what the
/// snapshot keeps; glibc returns only its top on its own.
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free pages; it takes no pointers.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// One edition and everything the server derives from it.
pub(crate) struct Snapshot {
    /// The config and site this snapshot was rendered with.
    pub(crate) settings: Arc<Settings>,
    /// The views (in edition order: all, authors, tags, sources, custom
    /// feeds) and their stories, packed.
    pub(crate) edition: Arc<Edition>,
    by_key: Arc<HashMap<ViewKey, usize>>,
    pub(crate) sources: Vec<SourceStatus>,
    pub(crate) published_at: DateTime<Utc>,
    /// The index and the OPML list: rendered once, at publish time, and
    /// never evicted.
    index: Arc<Entry>,
    opml: Arc<Entry>,
    /// Feeds and pages: shared by snapshots of one edition (they do not
    /// show sources' state).
    docs: Arc<Mutex<DocCache>>,
    /// Narrowed documents and other origins' index pages.
    variants: Mutex<DocCache>,
    budget: usize,
}

impl Snapshot {
    /// This snapshot's edition and documents with new source states: only
    /// the index page (which lists sources with problems) is rendered again.
    fn with_statuses(&self, mut sources: Vec<SourceStatus>) -> Snapshot {
        for status in &mut sources {
            status.items_published = self
                .by_key
                .get(&ViewKey::Source(status.name.clone()))
                .and_then(|&n| self.edition.views.get(n))
                .map_or(0, |v| v.total);
        }
        let problems = problems(&sources);
        let (index, _) = self
            .edition
            .with_headlines(|views| site::lists(views, &self.settings.site, &problems));
        Snapshot {
            settings: self.settings.clone(),
            edition: self.edition.clone(),
            by_key: self.by_key.clone(),
            sources,
            published_at: self.published_at,
            index: Arc::new(Entry::new(index)),
            opml: self.opml.clone(),
            docs: self.docs.clone(),
            variants: Mutex::new(DocCache::new(self.budget / 4, MAX_VARIANTS)),
            budget: self.budget,
        }
    }

    /// Keep `edition` and render its index and OPML list.
    fn build(
        settings: Arc<Settings>,
        edition: Edition,
        mut sources: Vec<SourceStatus>,
    ) -> Snapshot {
        let by_key = edition
            .views
            .iter()
            .enumerate()
            .map(|(n, v)| (v.key.clone(), n))
            .collect::<HashMap<_, _>>();
        for status in &mut sources {
            status.items_published = by_key
                .get(&ViewKey::Source(status.name.clone()))
                .and_then(|&n| edition.views.get(n))
                .map_or(0, |v| v.total);
        }
        let budget = settings.config.server.cache_mb.saturating_mul(1024 * 1024);
        let problems = problems(&sources);
        let (index, opml) =
            edition.with_headlines(|views| site::lists(views, &settings.site, &problems));
        Snapshot {
            settings,
            edition: Arc::new(edition),
            index: Arc::new(Entry::new(index)),
            opml: Arc::new(Entry::new(opml)),
            by_key: Arc::new(by_key),
            sources,
            published_at: Utc::now(),
            docs: Arc::new(Mutex::new(DocCache::new(budget, usize::MAX))),
            variants: Mutex::new(DocCache::new(budget / 4, MAX_VARIANTS)),
            budget,
        }
    }

    pub(crate) fn view_index(&self, key: &ViewKey) -> Option<usize> {
        self.by_key.get(key).copied()
    }

    pub(crate) fn views_of<'s>(
        &'s self,
        pick: impl Fn(&ViewKey) -> bool + 's,
    ) -> impl Iterator<Item = &'s ViewEntry> + 's {
        self.edition.views.iter().filter(move |v| pick(&v.key))
    }

    fn docs(&self) -> MutexGuard<'_, DocCache> {
        self.docs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn variants(&self) -> MutexGuard<'_, DocCache> {
        self.variants.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The snapshot's side of `/metrics`.
    pub(crate) fn gauges(&self) -> Gauges<'_> {
        let count = |pick: fn(&ViewKey) -> bool| self.views_of(pick).count();
        Gauges {
            items: self.edition.stories.len(),
            store_bytes: self.edition.stories.bytes(),
            views: [
                ("author", count(|k| matches!(k, ViewKey::Author(_)))),
                ("tag", count(|k| matches!(k, ViewKey::Tag(_)))),
                ("source", count(|k| matches!(k, ViewKey::Source(_)))),
                ("custom", count(|k| matches!(k, ViewKey::Custom(_)))),
            ],
            published_at: self.published_at,
            cache: self.cache_stats(),
            sources: &self.sources,
        }
    }

    pub(crate) fn cache_stats(&self) -> (usize, usize) {
        let d = self.docs();
        let v = self.variants();
        (d.map.len() + v.map.len(), d.bytes + v.bytes)
    }

    /// The document at `path` (as [`Doc`] names it), narrowed and rendered for
    /// `origin` (a proxy's public url for HTML pages; `None` for the base url).
    /// Served from the cache, or rendered and cached.
    pub(crate) fn document(
        &self,
        path: &str,
        doc: DocRef,
        narrowing: &Narrowing,
        origin: Option<&Site>,
    ) -> Result<Arc<Entry>, Missing> {
        let max_items = self.settings.config.server.max_items;
        let whole = self.unnarrowed(doc, narrowing, max_items);
        let narrowing = if whole {
            &Narrowing::default()
        } else {
            narrowing
        };
        let plain = narrowing.is_none() && origin.is_none();
        let key = if plain {
            match doc {
                DocRef::Index => return Ok(self.index.clone()),
                DocRef::Opml => return Ok(self.opml.clone()),
                _ => {}
            }
            if let Some(e) = self.docs().get(path) {
                return Ok(e);
            }
            path.to_owned()
        } else {
            let key = format!(
                "{}|{path}?{}",
                origin.map_or("", |s| s.base_url.as_str()),
                narrowing.key()
            );
            if let Some(e) = self.variants().get(&key) {
                return Ok(e);
            }
            key
        };
        let doc = self.resolve(doc)?;
        let site = origin.unwrap_or(&self.settings.site);
        let document = self.render(path, doc, narrowing, site, max_items)?;
        // A narrowed document is one of many a client can ask for: cheap
        // compression keeps a stream of random `?limit=`s at a bounded cost.
        let effort = if plain { Effort::Best } else { Effort::Fast };
        let entry = Arc::new(Entry::with_effort(document, effort));
        if plain {
            self.docs().insert(key, entry.clone());
        } else {
            self.variants().insert(key, entry.clone());
        }
        Ok(entry)
    }

    /// Does `narrowing` leave the view as it is? A `?limit=` alone that is
    /// at least the number of stories the view shows is the plain document:
    /// random large limits cost a cache hit, not a render.
    fn unnarrowed(&self, doc: DocRef, narrowing: &Narrowing, max_items: usize) -> bool {
        let (Some(limit), None, None) = (narrowing.limit, &narrowing.tag, &narrowing.author) else {
            return false;
        };
        let shown = match self.resolve(doc) {
            Ok(Doc::Feed(n, _) | Doc::Page(n)) => self
                .edition
                .views
                .get(n)
                .map_or(0, |v| v.members.len().min(max_items)),
            _ => return false,
        };
        limit >= shown
    }

    /// The document a route names, if this snapshot has its view.
    fn resolve(&self, doc: DocRef) -> Result<Doc, Missing> {
        let view = |v: ViewRef| {
            let key = v.key();
            self.view_index(&key).ok_or(Missing::View(key))
        };
        Ok(match doc {
            DocRef::Index => Doc::Index,
            DocRef::Opml => Doc::Opml,
            DocRef::Feed(v, format) => Doc::Feed(view(v)?, format),
            DocRef::Page(v) => Doc::Page(view(v)?),
        })
    }

    fn members(&self, key: ViewKey) -> Result<&[u32], Missing> {
        self.view_index(&key)
            .and_then(|n| self.edition.views.get(n))
            .map(|v| v.members.as_slice())
            .ok_or(Missing::Narrowing(key))
    }

    /// The items a (narrowed) view shows, as store indices in feed order. An
    /// item has a tag (author) exactly when it is a member of that tag's
    /// (author's) view, so narrowing intersects member lists, which are in
    /// ascending order, without decoding anything.
    pub(crate) fn select(
        &self,
        view: &ViewEntry,
        narrowing: &Narrowing,
        max_items: usize,
    ) -> Result<Vec<u32>, Missing> {
        let limit = narrowing.limit.unwrap_or(max_items).min(max_items);
        let tag = match &narrowing.tag {
            Some(t) => Some(self.members(ViewKey::Tag(t.clone()))?),
            None => None,
        };
        let author = match &narrowing.author {
            Some(a) => Some(self.members(ViewKey::Author(a.clone()))?),
            None => None,
        };
        let within =
            |list: Option<&[u32]>, n: &u32| list.is_none_or(|l| l.binary_search(n).is_ok());
        Ok(view
            .members
            .iter()
            .filter(|n| within(tag, n) && within(author, n))
            .take(limit)
            .copied()
            .collect())
    }

    /// Decode the items at `indices`.
    fn items(&self, indices: &[u32]) -> Vec<Item> {
        indices
            .iter()
            .filter_map(|&n| self.edition.stories.get(n as usize))
            .collect()
    }

    fn render(
        &self,
        path: &str,
        doc: Doc,
        narrowing: &Narrowing,
        site: &Site,
        max_items: usize,
    ) -> Result<Document, Missing> {
        let n = match doc {
            Doc::Index | Doc::Opml => {
                // Another origin's index (the result is cached).
                let problems = problems(&self.sources);
                let (index, opml) = self
                    .edition
                    .with_headlines(|views| site::lists(views, site, &problems));
                return Ok(if doc == Doc::Index { index } else { opml });
            }
            Doc::Feed(n, _) | Doc::Page(n) => n,
        };
        let meta = self
            .edition
            .views
            .get(n)
            .ok_or(Missing::View(ViewKey::All))?;
        let mut title = meta.title.clone();
        for key in [
            narrowing.tag.clone().map(ViewKey::Tag),
            narrowing.author.clone().map(ViewKey::Author),
        ]
        .into_iter()
        .flatten()
        {
            let named = self
                .view_index(&key)
                .and_then(|n| self.edition.views.get(n))
                .ok_or_else(|| Missing::Narrowing(key.clone()))?;
            title = format!("{title} · {}", named.title);
        }
        let items = self.items(&self.select(meta, narrowing, max_items)?);
        let last_modified = site::newest(&items);
        let view = View {
            key: meta.key.clone(),
            title,
            total: meta.total,
            items: items.iter().collect(),
            as_of: self.edition.as_of,
        };
        let (content_type, body) = match doc {
            Doc::Feed(_, format) => (format.content_type(), format.render(&view, site)),
            _ => (site::HTML, render::html::page(&view, site)),
        };
        Ok(Document {
            path: path.to_owned(),
            content_type,
            body,
            last_modified,
        })
    }

    /// Render every view's plain documents, the whole stream first, until the
    /// cache budget is full. Returns how many were rendered.
    fn prewarm(&self) -> usize {
        let none = Narrowing::default();
        let max_items = self.settings.config.server.max_items;
        let mut warmed = 0;
        for (n, view) in self.edition.views.iter().enumerate() {
            let path = view.key.path();
            let mut docs: Vec<(String, Doc)> = Format::ALL
                .iter()
                .map(|&f| (format!("{path}.{}", f.extension()), Doc::Feed(n, f)))
                .collect();
            if view.key != ViewKey::All {
                docs.push((format!("{path}.html"), Doc::Page(n)));
            }
            for (path, doc) in docs {
                let Ok(document) = self.render(&path, doc, &none, &self.settings.site, max_items)
                else {
                    continue;
                };
                let entry = Arc::new(Entry::new(document));
                let mut cache = self.docs();
                if cache.bytes + entry.size > cache.budget {
                    return warmed;
                }
                cache.insert(path, entry);
                warmed += 1;
            }
        }
        warmed
    }
}

mod alarms;
mod narrowing;

pub(crate) use narrowing::{Doc, Missing, Narrowing};

#[cfg(test)]
mod tests;
