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

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset};

use crate::config::Config;
use crate::model::{Item, Published};
use crate::rules::Rules;
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

    fn selection(&self) -> Option<Selection<'_>> {
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

/// One view of an edition: its items are indices into the edition's items.
#[derive(Debug, Clone)]
pub struct ViewEntry {
    pub key: ViewKey,
    pub title: String,
    pub total: usize,
    pub members: Vec<u32>,
}

/// Every view a site publishes, in a stable order (all, then authors, tags,
/// sources and custom feeds, each group sorted by slug or in config order),
/// over the distinct stories they show.
#[derive(Debug, Clone, Default)]
pub struct Edition {
    pub items: Vec<Item>,
    pub views: Vec<ViewEntry>,
    pub as_of: Option<DateTime<FixedOffset>>,
}

/// How many stories a custom feed's rules are tried on per read of the shelf.
const CUSTOM_CHUNK: usize = 2_000;

impl Edition {
    /// Read every view of `config` from `shelf`, each at most `max_items`.
    pub fn read(
        shelf: &dyn Shelf,
        config: &Config,
        max_items: usize,
    ) -> Result<Edition, StoreError> {
        let mut edition = Edition {
            as_of: shelf.as_of()?,
            ..Edition::default()
        };
        let mut index: HashMap<String, u32> = HashMap::new();
        let mut add = |edition: &mut Edition,
                       key: ViewKey,
                       title: Option<String>,
                       total,
                       items: Vec<Item>| {
            let title = title.unwrap_or_else(|| name_in(&key, &items));
            let members = items
                .into_iter()
                .filter_map(|item| {
                    if let Some(&n) = index.get(&item.id) {
                        return Some(n);
                    }
                    let n = u32::try_from(edition.items.len()).ok()?;
                    index.insert(item.id.clone(), n);
                    edition.items.push(item);
                    Some(n)
                })
                .collect();
            edition.views.push(ViewEntry {
                key,
                title,
                total,
                members,
            });
        };
        let everything = shelf.stories(Selection::All, 0, max_items)?;
        let all_total = shelf.count()?;
        add(
            &mut edition,
            ViewKey::All,
            Some(config.title.clone()),
            all_total,
            everything,
        );
        for (kind, make) in [
            (SlugKind::Author, ViewKey::Author as fn(String) -> ViewKey),
            (SlugKind::Tag, ViewKey::Tag),
        ] {
            for (slug, total) in shelf.slugs(kind)? {
                let key = make(slug);
                let Some(selection) = key.selection() else {
                    continue;
                };
                let items = shelf.stories(selection, 0, max_items)?;
                add(&mut edition, key, None, total, items);
            }
        }
        let source_totals: HashMap<String, usize> =
            shelf.slugs(SlugKind::Source)?.into_iter().collect();
        for s in &config.sources {
            let items = shelf.stories(Selection::Source(&s.name), 0, max_items)?;
            let total = source_totals.get(&s.name).copied().unwrap_or(0);
            add(
                &mut edition,
                ViewKey::Source(s.name.clone()),
                Some(s.title.clone()),
                total,
                items,
            );
        }
        if !config.feeds.is_empty() {
            // A custom feed is a rule, not an index: walk every story once,
            // in feed order and in bounded pieces, for all of them at once.
            let rules = Rules::from_config(config);
            let mut found: Vec<(usize, Vec<Item>)> = vec![(0, Vec::new()); config.feeds.len()];
            let mut offset = 0;
            loop {
                let chunk = shelf.stories(Selection::All, offset, CUSTOM_CHUNK)?;
                for item in &chunk {
                    for (feed, (total, items)) in config.feeds.iter().zip(found.iter_mut()) {
                        if rules.feed_matches(feed, item) {
                            *total += 1;
                            if items.len() < max_items {
                                items.push(item.clone());
                            }
                        }
                    }
                }
                if chunk.len() < CUSTOM_CHUNK {
                    break;
                }
                offset += chunk.len();
            }
            for (feed, (total, items)) in config.feeds.iter().zip(found) {
                add(
                    &mut edition,
                    ViewKey::Custom(feed.name.clone()),
                    Some(feed.title.clone()),
                    total,
                    items,
                );
            }
        }
        Ok(edition)
    }

    /// The `n`-th view, borrowing the edition's items.
    pub fn view(&self, entry: &ViewEntry) -> View<'_> {
        View {
            key: entry.key.clone(),
            title: entry.title.clone(),
            items: entry
                .members
                .iter()
                .filter_map(|&n| self.items.get(n as usize))
                .collect(),
            total: entry.total,
            as_of: self.as_of,
        }
    }

    /// Every view, in edition order.
    pub fn all_views(&self) -> Vec<View<'_>> {
        self.views.iter().map(|e| self.view(e)).collect()
    }
}

/// The name an author or tag view is titled with: as its newest story spells it.
fn name_in(key: &ViewKey, items: &[Item]) -> String {
    let found = items.iter().find_map(|i| match key {
        ViewKey::Author(slug) => i
            .authors
            .iter()
            .find(|a| &a.slug == slug)
            .map(|a| a.name.clone()),
        ViewKey::Tag(slug) => i
            .tags
            .iter()
            .find(|t| &t.slug == slug)
            .map(|t| t.name.clone()),
        _ => None,
    });
    found.unwrap_or_else(|| match key {
        ViewKey::Author(s) | ViewKey::Tag(s) | ViewKey::Source(s) | ViewKey::Custom(s) => s.clone(),
        ViewKey::All => String::new(),
    })
}
