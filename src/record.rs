//! Recordings: what one read of a source fetched and the items it gave, as
//! plain files, and their *replay*: the same bytes read again with the
//! current config and code, compared field by field.
//!
//! A *recording* is a folder per source: `recording.json` (when, and for each
//! page its name, urls, content type, the headers that matter and the file
//! holding its bytes), `page-N.EXT` (the bytes as fetched) and `items.json`
//! (each item's fields, in page order). All of it reads and diffs as text.
//! A user records before editing selectors and replays after; the project
//! replays recordings of its bundled examples in its tests. Replay parses
//! each page exactly as the read did (same url, content type, capture day
//! and instant), so any difference is the config's or the code's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::adapters::{self, Page};
use crate::config::SourceConfig;
use crate::fetch::Fetcher;
use crate::model::Item;
use crate::read::{self, CapturedPage};

/// The file of a recording that describes it.
pub const META: &str = "recording.json";
/// The file of a recording that holds its items.
pub const ITEMS: &str = "items.json";

/// Why a recording could not be made, written or read; names the place.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a byline recording: {message}")]
    Format { path: String, message: String },
    #[error("source {source_name:?}: nothing to record: {message}")]
    Read {
        source_name: String,
        message: String,
    },
}

/// One item as a recording keeps it: every field a selector fills, as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedItem {
    pub id: String,
    pub position: u32,
    pub title: String,
    pub url: Option<String>,
    pub summary: Option<String>,
    pub authors: Vec<String>,
    pub published: Option<String>,
    pub updated: Option<String>,
    pub tags: Vec<String>,
    pub image: Option<String>,
}

impl RecordedItem {
    pub fn of(item: &Item) -> RecordedItem {
        RecordedItem {
            id: item.id.clone(),
            position: item.position,
            title: item.title.clone(),
            url: item.url.clone(),
            summary: item.summary.clone(),
            authors: item.authors.iter().map(|a| a.name.clone()).collect(),
            published: item.published.map(|p| p.to_display()),
            updated: item.updated.map(|u| u.to_rfc3339()),
            tags: item.tags.iter().map(|t| t.name.clone()).collect(),
            image: item.image.clone(),
        }
    }

    /// `(field, value)` of every field but the id, in file order.
    fn fields(&self) -> Vec<(&'static str, String)> {
        let opt = |v: &Option<String>| {
            v.as_ref()
                .map_or_else(|| "none".to_owned(), |s| format!("{s:?}"))
        };
        let list = |v: &[String]| format!("{v:?}");
        vec![
            ("position", self.position.to_string()),
            ("title", format!("{:?}", self.title)),
            ("url", opt(&self.url)),
            ("summary", opt(&self.summary)),
            ("authors", list(&self.authors)),
            ("published", opt(&self.published)),
            ("updated", opt(&self.updated)),
            ("tags", list(&self.tags)),
            ("image", opt(&self.image)),
        ]
    }
}

/// A page of a recording, as `recording.json` lists it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PageMeta {
    name: String,
    /// The file beside `recording.json` holding the bytes.
    file: String,
    url: Option<String>,
    final_url: Option<String>,
    content_type: Option<String>,
    captured: Option<NaiveDate>,
    fetched_at: DateTime<Utc>,
    headers: Vec<(String, String)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Meta {
    source: String,
    recorded_at: DateTime<Utc>,
    pages: Vec<PageMeta>,
}

/// What one read of a source fetched and gave.
#[derive(Debug, Clone)]
pub struct Recording {
    pub source: String,
    pub recorded_at: DateTime<Utc>,
    pub pages: Vec<CapturedPage>,
    pub items: Vec<RecordedItem>,
}

/// Read `source` once (unconditionally) and keep what it fetched. A read
/// where a page failed is no recording: its error is returned.
pub async fn record(
    source: &SourceConfig,
    fetcher: &Fetcher,
    now: DateTime<Utc>,
) -> Result<Recording, RecordError> {
    let read = read::read_source_captured(source, fetcher, now).await;
    if let Some(e) = read.errors().next() {
        return Err(RecordError::Read {
            source_name: source.name.clone(),
            message: e.message.clone(),
        });
    }
    Ok(Recording {
        source: source.name.clone(),
        recorded_at: now,
        pages: read.captured,
        items: read.items.iter().map(RecordedItem::of).collect(),
    })
}

/// Write `rec` into `dir/SOURCE/`, replacing a recording there; the folder.
pub fn write(rec: &Recording, dir: &Path) -> Result<PathBuf, RecordError> {
    let folder = dir.join(&rec.source);
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| RecordError::Io { path, source }
    };
    if folder.exists() {
        // Only a recording's own files go: a page count that shrank leaves no stale page.
        for entry in std::fs::read_dir(&folder).map_err(io(&folder))? {
            let path = entry.map_err(io(&folder))?.path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if name == META || name == ITEMS || name.starts_with("page-") {
                std::fs::remove_file(&path).map_err(io(&path))?;
            }
        }
    }
    std::fs::create_dir_all(&folder).map_err(io(&folder))?;
    let mut pages = Vec::new();
    for (n, page) in rec.pages.iter().enumerate() {
        let file = format!("page-{}.{}", n + 1, extension(page));
        let path = folder.join(&file);
        std::fs::write(&path, &page.bytes).map_err(io(&path))?;
        pages.push(PageMeta {
            name: page.name.clone(),
            file,
            url: page.url.clone(),
            final_url: page.final_url.clone(),
            content_type: page.content_type.clone(),
            captured: page.captured,
            fetched_at: page.fetched_at,
            headers: page.headers.clone(),
        });
    }
    let meta = Meta {
        source: rec.source.clone(),
        recorded_at: rec.recorded_at,
        pages,
    };
    let meta_path = folder.join(META);
    std::fs::write(&meta_path, pretty(&meta)).map_err(io(&meta_path))?;
    let items_path = folder.join(ITEMS);
    std::fs::write(&items_path, pretty(&rec.items)).map_err(io(&items_path))?;
    Ok(folder)
}

/// Pretty JSON with a final newline, for files people diff.
fn pretty<T: Serialize>(value: &T) -> String {
    let mut s = serde_json::to_string_pretty(value).unwrap_or_default();
    s.push('\n');
    s
}

/// The extension a page's file gets, so an editor shows it as what it is.
fn extension(page: &CapturedPage) -> &'static str {
    let kind = page
        .content_type
        .as_deref()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let name = page.name.to_ascii_lowercase();
    let ends = |e: &str| name.split('?').next().unwrap_or_default().ends_with(e);
    if kind.contains("html") || ends(".html") || ends(".htm") {
        "html"
    } else if kind.contains("json") || ends(".json") {
        "json"
    } else if kind.contains("xml") || ends(".xml") || ends(".rss") || ends(".atom") {
        "xml"
    } else {
        "txt"
    }
}

/// Read the recording in `folder` (one source's).
pub fn load(folder: &Path) -> Result<Recording, RecordError> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|source| RecordError::Io {
            path: path.display().to_string(),
            source,
        })
    };
    let format = |path: &Path, e: serde_json::Error| RecordError::Format {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let meta_path = folder.join(META);
    let meta: Meta =
        serde_json::from_slice(&read(&meta_path)?).map_err(|e| format(&meta_path, e))?;
    let items_path = folder.join(ITEMS);
    let items: Vec<RecordedItem> =
        serde_json::from_slice(&read(&items_path)?).map_err(|e| format(&items_path, e))?;
    let mut pages = Vec::new();
    for p in meta.pages {
        // A page file is a name beside recording.json, never a path elsewhere.
        if p.file.contains(['/', '\\']) || p.file.starts_with('.') {
            return Err(RecordError::Format {
                path: meta_path.display().to_string(),
                message: format!("page file {:?} is not a file name", p.file),
            });
        }
        pages.push(CapturedPage {
            bytes: read(&folder.join(&p.file))?,
            name: p.name,
            url: p.url,
            final_url: p.final_url,
            content_type: p.content_type,
            captured: p.captured,
            fetched_at: p.fetched_at,
            headers: p.headers,
        });
    }
    Ok(Recording {
        source: meta.source,
        recorded_at: meta.recorded_at,
        pages,
        items,
    })
}

/// Every recording folder directly under `dir`, by name.
pub fn recordings(dir: &Path) -> Result<Vec<PathBuf>, RecordError> {
    let io = |source| RecordError::Io {
        path: dir.display().to_string(),
        source,
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.join(META).is_file() {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// One way a replay differs from its recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The item's id; `None` for the recording as a whole (a page that no
    /// longer reads).
    pub item: Option<String>,
    /// A field name, or `item` for an item that appeared or went.
    pub field: String,
    pub was: String,
    pub now: String,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.item {
            Some(id) => write!(f, "item {id}: {}: {} -> {}", self.field, self.was, self.now),
            None => write!(f, "{}: {} -> {}", self.field, self.was, self.now),
        }
    }
}

/// Read `rec`'s pages again with `source` (the current config's) and the
/// current adapters; every difference from the recorded items, in order.
pub fn replay(source: &SourceConfig, rec: &Recording) -> Vec<Difference> {
    let mut items: Vec<Item> = Vec::new();
    let mut out = Vec::new();
    for page in &rec.pages {
        let url = page.url.as_deref().and_then(|u| Url::parse(u).ok());
        let at = Page {
            bytes: &page.bytes,
            name: &page.name,
            url: url.as_ref(),
            content_type: page.content_type.as_deref(),
            captured: page.captured,
            fetched_at: page.fetched_at,
        };
        let first = u32::try_from(items.len()).unwrap_or(u32::MAX);
        match adapters::read(source, &at, first) {
            Ok(listing) => items.extend(listing.items),
            Err(e) => out.push(Difference {
                item: None,
                field: format!("page {}", page.name),
                was: "read".to_owned(),
                now: format!("fails: {e}"),
            }),
        }
    }
    let now: Vec<RecordedItem> = items.iter().map(RecordedItem::of).collect();
    out.extend(compare(&rec.items, &now));
    out
}

/// Field-by-field differences of two item lists, matched by id (the n-th
/// copy of an id with the n-th: a story on two pages is two items): recorded
/// order first, then items only `now` has.
pub fn compare(was: &[RecordedItem], now: &[RecordedItem]) -> Vec<Difference> {
    let keyed = |items: &[RecordedItem]| -> Vec<(String, usize)> {
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        items
            .iter()
            .map(|i| {
                let n = seen.entry(i.id.as_str()).or_default();
                *n += 1;
                (i.id.clone(), *n)
            })
            .collect()
    };
    let (was_keys, now_keys) = (keyed(was), keyed(now));
    let by_key: BTreeMap<&(String, usize), &RecordedItem> = now_keys.iter().zip(now).collect();
    let mut out = Vec::new();
    for (key, old) in was_keys.iter().zip(was) {
        let Some(new) = by_key.get(key) else {
            out.push(Difference {
                item: Some(old.id.clone()),
                field: "item".to_owned(),
                was: format!("{:?}", old.title),
                now: "gone".to_owned(),
            });
            continue;
        };
        for ((field, a), (_, b)) in old.fields().into_iter().zip(new.fields()) {
            if a != b {
                out.push(Difference {
                    item: Some(old.id.clone()),
                    field: field.to_owned(),
                    was: a,
                    now: b,
                });
            }
        }
    }
    for (key, new) in now_keys.iter().zip(now) {
        if !was_keys.contains(key) {
            out.push(Difference {
                item: Some(new.id.clone()),
                field: "item".to_owned(),
                was: "absent".to_owned(),
                now: format!("{:?}", new.title),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, title: &str, published: Option<&str>) -> RecordedItem {
        RecordedItem {
            id: id.to_owned(),
            position: 0,
            title: title.to_owned(),
            url: Some(id.to_owned()),
            summary: None,
            authors: vec!["Jeongmin Kim".to_owned()],
            published: published.map(str::to_owned),
            updated: None,
            tags: Vec::new(),
            image: None,
        }
    }

    #[test]
    fn differences_name_the_item_and_the_field() {
        let was = [item("a", "A", Some("2022-05-20")), item("b", "B", None)];
        let now = [item("a", "A", None), item("c", "C", None)];
        let found: Vec<String> = compare(&was, &now)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            found,
            [
                "item a: published: \"2022-05-20\" -> none",
                "item b: item: \"B\" -> gone",
                "item c: item: absent -> \"C\"",
            ]
        );
        assert!(compare(&was, &was).is_empty());
    }
}
