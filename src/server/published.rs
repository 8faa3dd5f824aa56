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
use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use hyper::header::HeaderValue;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tracing::info;

use crate::config::Config;
use crate::model::{Item, slugify};
use crate::refresh::RefreshOutcome;
use crate::render::{self, Format, Site};
use crate::site::{self, Document};
use crate::views::{Edition, View, ViewKey};

use super::metrics::Metrics;
use super::routes::{DocRef, ViewRef};
use super::store::ItemStore;

/// Bodies shorter than this are not worth compressing.
const MIN_COMPRESS: usize = 256;
/// Brotli quality 9 keeps most of quality 11's gain at a small part of its
/// cost, which matters for documents rendered on first request.
const BROTLI_QUALITY: i32 = 9;
const BROTLI_WINDOW: i32 = 22;
/// Narrowed views (`?limit=`, `?tag=`, `?author=`) and documents for other
/// proxy origins are cached too, but only this many, so that a client walking
/// every combination cannot grow memory or evict the plain documents.
const MAX_VARIANTS: usize = 128;

/// The state of one source after its last read, for `/healthz` and `/metrics`.
#[derive(Debug, Clone, Serialize)]
pub struct SourceStatus {
    pub name: String,
    /// Items the last read gave (before merging).
    pub items_read: usize,
    /// Items of the published set that come from this source (after merging).
    pub items_published: usize,
    pub pages: u32,
    pub warnings: usize,
    /// What went wrong in the last read; empty when it went well.
    pub errors: Vec<String>,
    /// Which step of the last read failed first: `fetch`, `decode`, `parse`,
    /// `empty` or `store`.
    pub failed_stage: Option<&'static str>,
    pub read_at: DateTime<Utc>,
    /// The most recent error of any read, kept after the source recovers.
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    /// The last read without errors.
    pub last_ok_at: Option<DateTime<Utc>>,
}

impl SourceStatus {
    /// The status a refresh at `at` leaves; history is merged in by [`Published::publish`].
    pub fn of(outcome: &RefreshOutcome, at: DateTime<Utc>) -> Self {
        let failed = outcome.failed();
        let errors = outcome.messages();
        SourceStatus {
            name: outcome.source.clone(),
            items_read: outcome.items_read,
            items_published: 0,
            pages: outcome.pages,
            warnings: outcome.warnings.len(),
            failed_stage: outcome.errors.first().map(|e| e.stage.name()),
            last_error: errors.last().cloned(),
            errors,
            read_at: at,
            last_error_at: failed.then_some(at),
            last_ok_at: (!failed).then_some(at),
        }
    }

    pub(crate) fn healthy(&self) -> bool {
        self.errors.is_empty()
    }
}

/// The server's view of the site: configuration, the current snapshot, metrics.
pub struct Published {
    pub(crate) config: Config,
    pub(crate) site: Site,
    pub(crate) metrics: Metrics,
    /// `Cache-Control` of every document.
    pub(crate) cache_control: HeaderValue,
    current: RwLock<Arc<Snapshot>>,
}

impl Published {
    /// A server for `config` that publishes nothing yet (every view is empty
    /// until [`Published::publish`]).
    pub fn new(config: Config) -> Self {
        let site = site::site(&config);
        let cache_control =
            HeaderValue::from_str(&format!("public, max-age={}", config.server.cache_max_age))
                .unwrap_or_else(|_| HeaderValue::from_static("public, max-age=300"));
        let empty = Snapshot::build(&config, &site, Edition::default(), Vec::new());
        Published {
            site,
            metrics: Metrics::default(),
            cache_control,
            current: RwLock::new(Arc::new(empty)),
            config,
        }
    }

    /// Publish a new merged item set (in feed order) and the sources' state:
    /// index the views, render documents up to the cache budget, then swap the
    /// snapshot in. Requests already running finish on the old one.
    ///
    /// This renders and compresses, so call it from a blocking context
    /// (`tokio::task::spawn_blocking`) once the server runs.
    /// Count upstream fetches that were "not modified", for `/metrics`.
    pub fn count_not_modified(&self, n: u64) {
        self.metrics
            .upstream_not_modified
            .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn publish(&self, edition: Edition, mut sources: Vec<SourceStatus>) {
        let started = std::time::Instant::now();
        let previous = self.snapshot();
        for status in &mut sources {
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
        let snapshot = Snapshot::build(&self.config, &self.site, edition, sources);
        let warmed = snapshot.prewarm(self);
        info!(
            items = snapshot.store.len(),
            store_bytes = snapshot.store.bytes(),
            views = snapshot.views.len(),
            documents = warmed,
            cache_bytes = snapshot.docs().bytes,
            millis = started.elapsed().as_millis() as u64,
            "published"
        );
        let old = {
            let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
            std::mem::replace(&mut *current, Arc::new(snapshot))
        };
        drop((old, previous));
        release_free_memory();
    }

    /// The snapshot requests are served from right now.
    pub(crate) fn snapshot(&self) -> Arc<Snapshot> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
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

/// One view's place in the snapshot: its key, title and items (indices into
/// the snapshot's items, in feed order).
#[derive(Debug)]
pub(crate) struct ViewMeta {
    pub(crate) key: ViewKey,
    pub(crate) title: String,
    members: Vec<u32>,
    /// Stories of the view in the store; the feed shows the newest.
    total: usize,
}

impl ViewMeta {
    /// How many stories the view has in all.
    pub(crate) fn len(&self) -> usize {
        self.total
    }
}

/// Which document a request names, resolved against a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Doc {
    Index,
    Opml,
    /// A view (index into the snapshot's views) in a feed format.
    Feed(usize, Format),
    /// A view's HTML page.
    Page(usize),
}

/// How a request narrows a view: `?limit=N&tag=T&author=A`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Narrowing {
    pub(crate) limit: Option<usize>,
    /// Tag slug.
    pub(crate) tag: Option<String>,
    /// Author slug.
    pub(crate) author: Option<String>,
}

impl Narrowing {
    /// Read the query string; unknown parameters (cache busters, tracking) are
    /// ignored. Tags and authors may be given by slug or by name.
    pub(crate) fn parse(query: Option<&str>, max_items: usize) -> Result<Narrowing, String> {
        let mut n = Narrowing::default();
        let Some(query) = query else { return Ok(n) };
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            match &*key {
                "limit" => match value.trim().parse::<usize>() {
                    Ok(l) if (1..=max_items).contains(&l) => n.limit = Some(l),
                    _ => {
                        return Err(format!(
                            "limit: expected a number of items from 1 to {max_items}, got {value:?}"
                        ));
                    }
                },
                "tag" if !value.trim().is_empty() => n.tag = Some(slugify(&value)),
                "author" if !value.trim().is_empty() => n.author = Some(slugify(&value)),
                _ => {}
            }
        }
        Ok(n)
    }

    pub(crate) fn is_none(&self) -> bool {
        *self == Narrowing::default()
    }

    /// A canonical spelling, for cache keys.
    fn key(&self) -> String {
        format!(
            "limit={}&tag={}&author={}",
            self.limit.unwrap_or(0),
            self.tag.as_deref().unwrap_or(""),
            self.author.as_deref().unwrap_or("")
        )
    }
}

/// Why a document does not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Missing {
    View(ViewKey),
    /// `?tag=` or `?author=` names nobody.
    Narrowing(ViewKey),
}

/// One merged item set and everything the server derives from it.
pub(crate) struct Snapshot {
    pub(crate) store: ItemStore,
    /// In the order of [`crate::views::all_views`]: all, authors, tags,
    /// sources, custom feeds.
    pub(crate) views: Vec<ViewMeta>,
    by_key: HashMap<ViewKey, usize>,
    pub(crate) sources: Vec<SourceStatus>,
    /// What an empty feed is dated (see [`View::as_of`]).
    as_of: Option<DateTime<chrono::FixedOffset>>,
    pub(crate) published_at: DateTime<Utc>,
    /// The index and the OPML list need every item: rendered once, at publish
    /// time, from the items as given, and never evicted.
    index: Arc<Entry>,
    opml: Arc<Entry>,
    docs: Mutex<DocCache>,
    variants: Mutex<DocCache>,
}

impl Snapshot {
    /// Pack `edition`'s stories and keep its views as lists of indices.
    fn build(
        config: &Config,
        site: &Site,
        edition: Edition,
        mut sources: Vec<SourceStatus>,
    ) -> Snapshot {
        let Edition {
            items,
            views,
            as_of,
        } = edition;
        let views: Vec<ViewMeta> = views
            .into_iter()
            .map(|v| ViewMeta {
                key: v.key,
                title: v.title,
                members: v.members,
                total: v.total,
            })
            .collect();
        let by_key = views
            .iter()
            .enumerate()
            .map(|(n, v)| (v.key.clone(), n))
            .collect::<HashMap<_, _>>();
        for status in &mut sources {
            status.items_published = by_key
                .get(&ViewKey::Source(status.name.clone()))
                .and_then(|&n| views.get(n))
                .map_or(0, ViewMeta::len);
        }
        let budget = config.server.cache_mb.saturating_mul(1024 * 1024);
        let (index, opml) = render_lists(&views, &items, as_of, site, &problems(&sources));
        let store = ItemStore::new(&items);
        drop(items);
        Snapshot {
            store,
            index: Arc::new(Entry::new(index)),
            opml: Arc::new(Entry::new(opml)),
            views,
            by_key,
            sources,
            as_of,
            published_at: Utc::now(),
            docs: Mutex::new(DocCache::new(budget, usize::MAX)),
            variants: Mutex::new(DocCache::new(budget / 4, MAX_VARIANTS)),
        }
    }

    pub(crate) fn view_index(&self, key: &ViewKey) -> Option<usize> {
        self.by_key.get(key).copied()
    }

    pub(crate) fn views_of<'s>(
        &'s self,
        pick: impl Fn(&ViewKey) -> bool + 's,
    ) -> impl Iterator<Item = &'s ViewMeta> + 's {
        self.views.iter().filter(move |v| pick(&v.key))
    }

    fn docs(&self) -> MutexGuard<'_, DocCache> {
        self.docs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn variants(&self) -> MutexGuard<'_, DocCache> {
        self.variants.lock().unwrap_or_else(PoisonError::into_inner)
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
        published: &Published,
    ) -> Result<Arc<Entry>, Missing> {
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
        let site = origin.unwrap_or(&published.site);
        let document = self.render(
            path,
            doc,
            narrowing,
            site,
            published.config.server.max_items,
        )?;
        let entry = Arc::new(Entry::new(document));
        if plain {
            self.docs().insert(key, entry.clone());
        } else {
            self.variants().insert(key, entry.clone());
        }
        Ok(entry)
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
            .and_then(|n| self.views.get(n))
            .map(|v| v.members.as_slice())
            .ok_or(Missing::Narrowing(key))
    }

    /// The items a (narrowed) view shows, as store indices in feed order. An
    /// item has a tag (author) exactly when it is a member of that tag's
    /// (author's) view, so narrowing intersects member lists, which are in
    /// ascending order, without decoding anything.
    pub(crate) fn select(
        &self,
        view: &ViewMeta,
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
            .filter_map(|&n| self.store.get(n as usize))
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
                // Another origin's index: every item is decoded, once per
                // origin (the result is cached).
                let all: Vec<Item> = (0..self.store.len())
                    .filter_map(|n| self.store.get(n))
                    .collect();
                let (index, opml) = render_lists(
                    &self.views,
                    &all,
                    self.as_of,
                    site,
                    &problems(&self.sources),
                );
                return Ok(if doc == Doc::Index { index } else { opml });
            }
            Doc::Feed(n, _) | Doc::Page(n) => n,
        };
        let meta = self.views.get(n).ok_or(Missing::View(ViewKey::All))?;
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
                .and_then(|n| self.views.get(n))
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
            as_of: self.as_of,
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
    fn prewarm(&self, published: &Published) -> usize {
        let none = Narrowing::default();
        let max_items = published.config.server.max_items;
        let mut warmed = 0;
        for (n, view) in self.views.iter().enumerate() {
            let path = view.key.path();
            let mut docs: Vec<(String, Doc)> = Format::ALL
                .iter()
                .map(|&f| (format!("{path}.{}", f.extension()), Doc::Feed(n, f)))
                .collect();
            if view.key != ViewKey::All {
                docs.push((format!("{path}.html"), Doc::Page(n)));
            }
            for (path, doc) in docs {
                let Ok(document) = self.render(&path, doc, &none, &published.site, max_items)
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

/// `(source, error)` of every source whose last read failed.
fn problems(sources: &[SourceStatus]) -> Vec<(String, String)> {
    sources
        .iter()
        .filter(|s| !s.healthy())
        .map(|s| (s.name.clone(), s.errors.join("; ")))
        .collect()
}

/// The index page and the OPML list of `views` over `items` (the snapshot's
/// items, in store order).
fn render_lists(
    views: &[ViewMeta],
    items: &[Item],
    as_of: Option<DateTime<chrono::FixedOffset>>,
    site: &Site,
    problems: &[(String, String)],
) -> (Document, Document) {
    let full = |meta: &ViewMeta| View {
        key: meta.key.clone(),
        title: meta.title.clone(),
        total: meta.total,
        as_of,
        items: meta
            .members
            .iter()
            .filter_map(|&n| items.get(n as usize))
            .collect(),
    };
    let all: Vec<View> = views.iter().map(full).collect();
    let authors: Vec<View> = views
        .iter()
        .filter(|v| matches!(v.key, ViewKey::Author(_)))
        .map(full)
        .collect();
    let newest = site::newest(items);
    let index = Document {
        path: "index.html".into(),
        content_type: site::HTML,
        body: render::html::index_with_problems(&all, site, problems),
        last_modified: newest,
    };
    let opml = Document {
        path: "authors.opml".into(),
        content_type: site::OPML,
        body: render::opml::render(&authors, site),
        last_modified: newest,
    };
    (index, opml)
}

/// Rendered documents kept within a byte budget (and an entry count),
/// dropping the least recently used.
struct DocCache {
    map: HashMap<Box<str>, (Arc<Entry>, u64)>,
    bytes: usize,
    budget: usize,
    max_entries: usize,
    clock: u64,
}

impl DocCache {
    fn new(budget: usize, max_entries: usize) -> Self {
        DocCache {
            map: HashMap::new(),
            bytes: 0,
            budget,
            max_entries,
            clock: 0,
        }
    }

    fn get(&mut self, key: &str) -> Option<Arc<Entry>> {
        self.clock += 1;
        let clock = self.clock;
        self.map.get_mut(key).map(|(e, used)| {
            *used = clock;
            e.clone()
        })
    }

    /// Keep `entry` unless it alone is over budget, evicting the least
    /// recently used entries to make room. The scan is linear, but it only
    /// runs on a miss, which renders a document anyway.
    fn insert(&mut self, key: String, entry: Arc<Entry>) {
        if entry.size > self.budget || self.max_entries == 0 {
            return;
        }
        while self.bytes + entry.size > self.budget || self.map.len() >= self.max_entries {
            let Some(oldest) = self
                .map
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some((e, _)) = self.map.remove(&oldest) {
                self.bytes -= e.size;
            }
        }
        self.clock += 1;
        let size = entry.size;
        if let Some((old, _)) = self.map.insert(key.into(), (entry, self.clock)) {
            self.bytes -= old.size;
        }
        self.bytes += size;
    }
}

/// A content coding the server can send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coding {
    Identity,
    Gzip,
    Brotli,
}

impl Coding {
    pub(crate) fn header(self) -> Option<HeaderValue> {
        match self {
            Coding::Identity => None,
            Coding::Gzip => Some(HeaderValue::from_static("gzip")),
            Coding::Brotli => Some(HeaderValue::from_static("br")),
        }
    }
}

/// One rendered document, ready to send: every encoding and the validators.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) content_type: HeaderValue,
    pub(crate) identity: Bytes,
    pub(crate) gzip: Option<Bytes>,
    pub(crate) brotli: Option<Bytes>,
    /// Hex digest of the identity body: the strong validator all codings share.
    pub(crate) digest: String,
    /// `ETag` per coding: `"<digest>"`, `"<digest>-gz"`, `"<digest>-br"`
    /// (a strong tag names one exact representation).
    etags: [HeaderValue; 3],
    pub(crate) last_modified: Option<DateTime<Utc>>,
    pub(crate) last_modified_header: Option<HeaderValue>,
    /// Bytes held, for the cache budget.
    size: usize,
}

impl Entry {
    pub(crate) fn new(doc: Document) -> Entry {
        // Boxed slices hold exactly their length: a renderer's or encoder's
        // spare capacity would otherwise stay allocated for the entry's life.
        let identity = Bytes::from(doc.body.into_bytes().into_boxed_slice());
        let digest: String = Sha256::digest(&identity)[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let smaller = |c: Option<Vec<u8>>| c.filter(|c| c.len() < identity.len()).map(Bytes::from);
        let (gzip, brotli) = if identity.len() >= MIN_COMPRESS {
            (smaller(gzip(&identity)), smaller(brotli(&identity)))
        } else {
            (None, None)
        };
        let tag = |suffix: &str| {
            HeaderValue::from_str(&format!("\"{digest}{suffix}\""))
                .unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
        };
        let etags = [tag(""), tag("-gz"), tag("-br")];
        let last_modified = doc
            .last_modified
            .and_then(|t| DateTime::from_timestamp(t.timestamp(), 0));
        let size = identity.len()
            + gzip.as_ref().map_or(0, Bytes::len)
            + brotli.as_ref().map_or(0, Bytes::len)
            + doc.path.len()
            + 256;
        Entry {
            content_type: HeaderValue::from_static(doc.content_type),
            identity,
            gzip,
            brotli,
            etags,
            last_modified_header: last_modified
                .and_then(|t| HeaderValue::from_str(&super::respond::http_date(t)).ok()),
            last_modified,
            digest,
            size,
        }
    }

    /// The body and `ETag` for `coding`, falling back to identity when that
    /// coding was not worth storing.
    pub(crate) fn representation(&self, coding: Coding) -> (Coding, &Bytes, &HeaderValue) {
        let [plain, gz, br] = &self.etags;
        match (coding, &self.gzip, &self.brotli) {
            (Coding::Brotli, _, Some(b)) => (Coding::Brotli, b, br),
            (Coding::Gzip, Some(g), _) => (Coding::Gzip, g, gz),
            _ => (Coding::Identity, &self.identity, plain),
        }
    }

    pub(crate) fn has(&self, coding: Coding) -> bool {
        match coding {
            Coding::Identity => true,
            Coding::Gzip => self.gzip.is_some(),
            Coding::Brotli => self.brotli.is_some(),
        }
    }
}

fn gzip(body: &[u8]) -> Option<Vec<u8>> {
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4),
        flate2::Compression::best(),
    );
    enc.write_all(body).ok()?;
    enc.finish().ok()
}

fn brotli(body: &[u8]) -> Option<Vec<u8>> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: BROTLI_QUALITY,
        lgwin: BROTLI_WINDOW,
        size_hint: body.len(),
        ..Default::default()
    };
    let mut out = Vec::with_capacity(body.len() / 4);
    brotli::BrotliCompress(&mut &body[..], &mut out, &params).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Person, Published as Date, Tag};
    use crate::views::InMemory;

    fn edition(config: &Config, items: &[Item]) -> Edition {
        Edition::read(&InMemory(items), config, 1000).unwrap()
    }

    fn config(extra: &str) -> Config {
        Config::parse(
            &format!(
                "title = \"T\"\nbase_url = \"https://example.org/feeds/\"\n{extra}\n\
                 [[source]]\nname = \"one\"\nkind = \"text\"\ninputs = [\"a.txt\"]\n\
                 [[source]]\nname = \"two\"\ntitle = \"Second\"\nkind = \"feed\"\ninputs = [\"b.xml\"]\n"
            ),
            "feeds.toml",
            std::path::Path::new("/tmp"),
        )
        .unwrap()
    }

    fn item(n: u32, source: &str, authors: &[&str], tags: &[&str], day: u32) -> Item {
        let mut i = Item::new(
            source,
            n,
            format!("Story {n}"),
            Some(format!("https://news.example/{n}")),
        );
        i.authors = authors.iter().map(|a| Person::new(a)).collect();
        i.tags = tags.iter().map(|t| Tag::new(t)).collect();
        i.published = Some(Date::DateTime(
            DateTime::parse_from_rfc3339(&format!("2022-05-{day:02}T10:00:00+09:00")).unwrap(),
        ));
        i
    }

    fn items() -> Vec<Item> {
        vec![
            item(0, "one", &["Colin Zwirko"], &[], 21),
            item(1, "one", &["Nils Weisensee"], &["NK PRO"], 20),
            item(2, "two", &["Ifang Bremer", "Jeongmin Kim"], &[], 20),
            item(3, "one", &["Jeongmin Kim"], &["NK PRO", "Economy"], 19),
            // The same author twice in one byline counts once.
            item(
                4,
                "two",
                &["Jeongmin Kim", "Jeongmin  Kim"],
                &["Economy"],
                18,
            ),
            // Merged from both sources: in both sources' views.
            {
                let mut i = item(5, "two", &["Nils Weisensee"], &[], 17);
                i.also_in = vec!["one".into(), "two".into()];
                i
            },
        ]
    }

    #[test]
    fn views_match_the_edition() {
        let config = config("");
        let items = items();
        let edition = edition(&config, &items);
        let snap = Snapshot::build(&config, &site::site(&config), edition.clone(), Vec::new());
        let expected = edition.all_views();
        assert_eq!(snap.views.len(), expected.len());
        for (got, want) in snap.views.iter().zip(&expected) {
            assert_eq!(got.key, want.key);
            assert_eq!(got.title, want.title);
            let selected = snap.select(got, &Narrowing::default(), usize::MAX).unwrap();
            let decoded = snap.items(&selected);
            let got_ids: Vec<&str> = decoded.iter().map(|i| i.id.as_str()).collect();
            let want_ids: Vec<&str> = want.items.iter().map(|i| i.id.as_str()).collect();
            assert_eq!(got_ids, want_ids, "{:?}", got.key);
        }
    }

    #[test]
    fn narrowing_selects_by_tag_author_and_limit() {
        let config = config("");
        let snap = Snapshot::build(
            &config,
            &site::site(&config),
            edition(&config, &items()),
            Vec::new(),
        );
        let kim = snap
            .view_index(&ViewKey::Author("jeongmin-kim".into()))
            .and_then(|n| snap.views.get(n))
            .unwrap();
        let titles = |n: &Narrowing| -> Vec<String> {
            snap.items(&snap.select(kim, n, 1000).unwrap())
                .iter()
                .map(|i| i.title.clone())
                .collect()
        };
        assert_eq!(
            titles(&Narrowing::default()),
            ["Story 2", "Story 3", "Story 4"]
        );
        let pro = Narrowing::parse(Some("tag=NK%20PRO"), 1000).unwrap();
        assert_eq!(pro.tag.as_deref(), Some("nk-pro"));
        assert_eq!(titles(&pro), ["Story 3"]);
        let two = Narrowing::parse(Some("limit=2&utm_source=x"), 1000).unwrap();
        assert_eq!(titles(&two), ["Story 2", "Story 3"]);
        let all = snap.views.first().unwrap();
        let by = Narrowing::parse(Some("author=ifang-bremer"), 1000).unwrap();
        assert_eq!(snap.select(all, &by, 1000).unwrap().len(), 1);
        // max_items caps every view, with or without a limit.
        assert_eq!(snap.select(all, &Narrowing::default(), 2).unwrap().len(), 2);
        assert!(Narrowing::parse(Some("limit=0"), 1000).is_err());
        assert!(Narrowing::parse(Some("limit=1001"), 1000).is_err());
        assert!(Narrowing::parse(Some("limit=ten"), 1000).is_err());
        assert!(Narrowing::parse(Some("tag="), 1000).unwrap().is_none());
    }

    #[test]
    fn serves_what_build_writes() {
        let config = config("");
        let items = items();
        let published = Published::new(config.clone());
        published.publish(edition(&config, &items), Vec::new());
        let snap = published.snapshot();
        for doc in site::documents(&edition(&config, &items), &config) {
            let request_path = format!("/{}", doc.path);
            let route = super::super::routes::route(&request_path, "/feeds/");
            let super::super::routes::Route::Doc { path, doc: docref } = route else {
                panic!("{} does not route", doc.path);
            };
            assert_eq!(path, doc.path);
            let entry = snap
                .document(&path, docref, &Narrowing::default(), None, &published)
                .unwrap();
            assert_eq!(entry.identity, doc.body.as_bytes(), "{}", doc.path);
            assert_eq!(entry.content_type, doc.content_type, "{}", doc.path);
            assert_eq!(entry.last_modified, doc.last_modified, "{}", doc.path);
        }
        let kim = site::documents(&edition(&config, &items), &config)
            .into_iter()
            .find(|d| d.path == "authors/jeongmin-kim.atom")
            .unwrap();
        assert_eq!(
            kim.last_modified.map(|t| t.to_rfc3339()).as_deref(),
            Some("2022-05-20T01:00:00+00:00")
        );
    }

    #[test]
    fn unknown_views_and_narrowings_are_missing() {
        let published = Published::new(config(""));
        published.publish(edition(&config(""), &items()), Vec::new());
        let snap = published.snapshot();
        let none = Narrowing::default();
        let get = |path: &str, doc, n: &Narrowing| snap.document(path, doc, n, None, &published);
        assert_eq!(
            get(
                "authors/nobody.atom",
                DocRef::Feed(ViewRef::Author("nobody"), Format::Atom),
                &none
            )
            .unwrap_err(),
            Missing::View(ViewKey::Author("nobody".into()))
        );
        let bad_tag = Narrowing::parse(Some("tag=sports"), 1000).unwrap();
        assert_eq!(
            get(
                "feed.atom",
                DocRef::Feed(ViewRef::All, Format::Atom),
                &bad_tag
            )
            .unwrap_err(),
            Missing::Narrowing(ViewKey::Tag("sports".into()))
        );
        assert!(
            get(
                "sources/two.html",
                DocRef::Page(ViewRef::Source("two")),
                &none
            )
            .is_ok()
        );
    }

    #[test]
    fn another_origin_gets_its_own_pages_and_the_same_feeds() {
        let published = Published::new(config("[server]\ntrusted_proxies = [\"127.0.0.1\"]"));
        published.publish(edition(&published.config, &items()), Vec::new());
        let snap = published.snapshot();
        let none = Narrowing::default();
        let other = Site {
            base_url: url::Url::parse("https://mirror.example/news/").unwrap(),
            title: "T".into(),
        };
        let plain = snap
            .document("index.html", DocRef::Index, &none, None, &published)
            .unwrap();
        let mirrored = snap
            .document("index.html", DocRef::Index, &none, Some(&other), &published)
            .unwrap();
        let text = |e: &Entry| String::from_utf8(e.identity.to_vec()).unwrap();
        assert!(text(&plain).contains("https://example.org/feeds/authors/jeongmin-kim"));
        assert!(text(&mirrored).contains("https://mirror.example/news/authors/jeongmin-kim"));
        assert!(!text(&mirrored).contains("https://example.org/feeds/"));
        // Pages follow the origin; their item lists are the same.
        let page = DocRef::Page(ViewRef::Author("jeongmin-kim"));
        let mirrored = snap
            .document(
                "authors/jeongmin-kim.html",
                page,
                &none,
                Some(&other),
                &published,
            )
            .unwrap();
        assert!(text(&mirrored).contains("https://mirror.example/news/"));
        assert!(text(&mirrored).contains("Story 3"));
    }

    #[test]
    fn cache_keeps_to_its_budget() {
        let doc = |n: usize| {
            Arc::new(Entry::new(Document {
                path: format!("d{n}"),
                content_type: site::HTML,
                body: "x".repeat(1000),
                last_modified: None,
            }))
        };
        let size = doc(0).size;
        let mut cache = DocCache::new(size * 3, usize::MAX);
        for n in 0..3 {
            cache.insert(format!("d{n}"), doc(n));
        }
        assert!(cache.get("d0").is_some()); // d1 is now the least recently used
        cache.insert("d3".into(), doc(3));
        assert!(cache.bytes <= cache.budget);
        assert!(cache.get("d1").is_none());
        assert!(cache.get("d0").is_some() && cache.get("d3").is_some());
        let mut small = DocCache::new(usize::MAX, 2);
        for n in 0..5 {
            small.insert(format!("d{n}"), doc(n));
        }
        assert_eq!(small.map.len(), 2);
    }

    #[test]
    fn source_history_survives_a_publish() {
        let published = Published::new(config(""));
        let t0 = Utc::now();
        let failed = RefreshOutcome {
            source: "one".into(),
            errors: vec![crate::read::ReadError {
                source_name: "one".into(),
                stage: crate::read::Stage::Fetch,
                message: "a.txt: cannot read".into(),
            }],
            ..RefreshOutcome::default()
        };
        published.publish(Edition::default(), vec![SourceStatus::of(&failed, t0)]);
        let ok = RefreshOutcome {
            source: "one".into(),
            items_read: items().len(),
            pages: 1,
            ..RefreshOutcome::default()
        };
        let config = config("");
        published.publish(edition(&config, &items()), vec![SourceStatus::of(&ok, t0)]);
        let snap = published.snapshot();
        let one = snap.sources.first().unwrap();
        assert!(one.healthy());
        assert_eq!(
            one.last_error.as_deref(),
            Some("source \"one\": a.txt: cannot read")
        );
        assert_eq!(one.items_read, items().len());
        // Its own three stories and the merged one it also carried.
        assert_eq!(one.items_published, 4);
    }
}
