//! Views: which items one feed holds, decided in one place for `build` and
//! `serve`.
//!
//! A *view* is a named selection of stories — everything, one author, one
//! tag, one source, a custom feed — in feed order, at most `max_items` of
//! them. An *edition* is every view a site publishes, read from a [`Shelf`]
//! (the store; or, for tests and tools, a merged list in memory) with the
//! date policy applied once: a date-only story shows the time it was first
//! seen on that day, an undated one the time it was first seen, never 1970
//! or "now". Memory is bounded by what the views show, not by history.

mod edition;
mod pack;

pub use edition::{Edition, ViewEntry};
pub use pack::Pack;

use chrono::{DateTime, FixedOffset};

use crate::model::{Item, Published};
use crate::store::{Selection, SlugKind, Store, StoreError, StoredItem};

/// What a view selects; it also names the view's path (`authors/jeongmin-kim`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ViewKey {
    All,
    Author(String),
    Tag(String),
    Source(String),
    /// A `[[feed]]` from the config, by name.
    Custom(String),
}

impl ViewKey {
    /// Path of the view below the base url, without extension: `feed`,
    /// `authors/{slug}`, `tags/{slug}`, `sources/{name}`.
    pub fn path(&self) -> String {
        match self {
            ViewKey::All => "feed".to_owned(),
            ViewKey::Author(s) => format!("authors/{s}"),
            ViewKey::Tag(s) => format!("tags/{s}"),
            ViewKey::Source(s) => format!("sources/{s}"),
            ViewKey::Custom(s) => format!("feeds/{s}"),
        }
    }

    /// Does `item` belong in this view? Custom feeds need the config's rules:
    /// see [`Rules::feed_matches`]; here they match nothing.
    pub fn matches(&self, item: &Item) -> bool {
        match self {
            ViewKey::All => true,
            ViewKey::Author(slug) => item.authors.iter().any(|a| &a.slug == slug),
            ViewKey::Tag(slug) => item.tags.iter().any(|t| &t.slug == slug),
            ViewKey::Source(name) => &item.source == name || item.also_in.contains(name),
            ViewKey::Custom(_) => false,
        }
    }

    /// The store index this view reads; `None` for a custom feed (a rule).
    pub fn selection(&self) -> Option<Selection<'_>> {
        Some(match self {
            ViewKey::All => Selection::All,
            ViewKey::Author(s) => Selection::Author(s),
            ViewKey::Tag(s) => Selection::Tag(s),
            ViewKey::Source(s) => Selection::Source(s),
            ViewKey::Custom(_) => return None,
        })
    }
}

/// One feed's worth of items, in feed order (newest first).
#[derive(Debug, Clone)]
pub struct View<'a> {
    pub key: ViewKey,
    /// Human title: "Jeongmin Kim", "NK PRO", the source title, or the site title.
    pub title: String,
    pub items: Vec<&'a Item>,
    /// How many stories the view has in all (the feed shows the newest).
    pub total: usize,
    /// What the feed says it was last updated when it has no items: the
    /// edition's newest time (never the clock, never 1970).
    pub as_of: Option<DateTime<FixedOffset>>,
}

impl<'a> View<'a> {
    /// The view `key` over `items` (already in feed order), at most `limit` items.
    pub fn select(key: ViewKey, title: String, items: &'a [Item], limit: usize) -> Self {
        let all: Vec<&Item> = items.iter().filter(|i| key.matches(i)).collect();
        let total = all.len();
        View {
            key,
            title,
            items: all.into_iter().take(limit).collect(),
            total,
            as_of: None,
        }
    }
}

/// Where views read their stories: in feed order, bounded by a limit.
pub trait Shelf {
    /// The newest `limit` stories of a selection from `offset` on, with the
    /// date policy applied.
    fn stories(
        &self,
        selection: Selection,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Item>, StoreError>;
    /// Every slug of a kind with its number of stories, sorted by slug.
    fn slugs(&self, kind: SlugKind) -> Result<Vec<(String, usize)>, StoreError>;
    /// How many stories the shelf holds.
    fn count(&self) -> Result<usize, StoreError>;
    /// What an empty feed is dated: the newest time on the shelf, else when
    /// the shelf was made.
    fn as_of(&self) -> Result<Option<DateTime<FixedOffset>>, StoreError>;
}

impl Shelf for Store {
    fn stories(
        &self,
        selection: Selection,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Item>, StoreError> {
        Ok(self
            .stored_from(selection, offset, limit)?
            .into_iter()
            .map(dated)
            .collect())
    }

    fn slugs(&self, kind: SlugKind) -> Result<Vec<(String, usize)>, StoreError> {
        Store::slugs(self, kind)
    }

    fn count(&self) -> Result<usize, StoreError> {
        self.item_count(None)
    }

    fn as_of(&self) -> Result<Option<DateTime<FixedOffset>>, StoreError> {
        let newest = self.stories(Selection::All, 0, 1)?;
        Ok(match newest.first().and_then(item_time) {
            Some(t) => Some(t),
            None => Some(self.created()?.fixed_offset()),
        })
    }
}

/// The date policy: the time a stored story is shown at. A date-only story
/// first seen on that day shows the time it was first seen (fixed then,
/// kept); an undated story shows the time it was first seen.
pub fn dated(stored: StoredItem) -> Item {
    let mut item = stored.item;
    match (item.published, stored.stable_instant) {
        (None, Some(t)) => item.published = Some(Published::DateTime(t)),
        (Some(Published::Date(day, _)), Some(t)) if t.date_naive() == day => {
            item.published = Some(Published::DateTime(t));
        }
        _ => {}
    }
    item
}

fn item_time(item: &Item) -> Option<DateTime<FixedOffset>> {
    let published = item.published.as_ref().map(Published::instant);
    published.max(item.updated)
}

/// A merged item list (in feed order) as a shelf: for tests, and for tools
/// that render without a store.
pub struct InMemory<'a>(pub &'a [Item]);

impl InMemory<'_> {
    fn key(selection: Selection) -> ViewKey {
        match selection {
            Selection::All => ViewKey::All,
            Selection::Author(s) => ViewKey::Author(s.to_owned()),
            Selection::Tag(s) => ViewKey::Tag(s.to_owned()),
            Selection::Source(s) => ViewKey::Source(s.to_owned()),
        }
    }
}

impl Shelf for InMemory<'_> {
    fn stories(
        &self,
        selection: Selection,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Item>, StoreError> {
        let key = Self::key(selection);
        Ok(self
            .0
            .iter()
            .filter(|i| key.matches(i))
            .skip(offset)
            .take(limit)
            .cloned()
            .collect())
    }

    fn slugs(&self, kind: SlugKind) -> Result<Vec<(String, usize)>, StoreError> {
        let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
        for item in self.0 {
            let slugs: Vec<&str> = match kind {
                SlugKind::Author => item.authors.iter().map(|a| a.slug.as_str()).collect(),
                SlugKind::Tag => item.tags.iter().map(|t| t.slug.as_str()).collect(),
                SlugKind::Source => std::iter::once(item.source.as_str())
                    .chain(item.also_in.iter().map(String::as_str))
                    .collect(),
            };
            let mut seen: Vec<&str> = Vec::new();
            for slug in slugs {
                if !seen.contains(&slug) {
                    seen.push(slug);
                    *counts.entry(slug.to_owned()).or_default() += 1;
                }
            }
        }
        Ok(counts.into_iter().collect())
    }

    fn count(&self) -> Result<usize, StoreError> {
        Ok(self.0.len())
    }

    fn as_of(&self) -> Result<Option<DateTime<FixedOffset>>, StoreError> {
        Ok(self.0.iter().filter_map(item_time).max())
    }
}
