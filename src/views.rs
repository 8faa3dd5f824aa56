//! Views: which items one feed holds.
//!
//! A *view* is a named selection of the merged item list — everything, one
//! author, one tag, one source — in feed order. Views borrow the items; the
//! renderers turn a view into bytes, so every format shows the same selection.

use std::collections::BTreeMap;

use crate::config::Config;
use crate::model::Item;
use crate::rules::Rules;

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
}

/// One feed's worth of items, in feed order (newest first).
#[derive(Debug, Clone)]
pub struct View<'a> {
    pub key: ViewKey,
    /// Human title: "Jeongmin Kim", "NK PRO", the source title, or the site title.
    pub title: String,
    pub items: Vec<&'a Item>,
}

impl<'a> View<'a> {
    /// The view `key` over `items` (already in feed order), at most `limit` items.
    pub fn select(key: ViewKey, title: String, items: &'a [Item], limit: usize) -> Self {
        let items = items
            .iter()
            .filter(|i| key.matches(i))
            .take(limit)
            .collect();
        View { key, title, items }
    }
}

/// Every view a build publishes: all, then each author, tag, source and custom
/// feed, each group sorted by slug so the output is deterministic.
pub fn all_views<'a>(items: &'a [Item], config: &Config) -> Vec<View<'a>> {
    let mut authors: BTreeMap<String, String> = BTreeMap::new();
    let mut tags: BTreeMap<String, String> = BTreeMap::new();
    for item in items {
        for a in &item.authors {
            authors
                .entry(a.slug.clone())
                .or_insert_with(|| a.name.clone());
        }
        for t in &item.tags {
            tags.entry(t.slug.clone()).or_insert_with(|| t.name.clone());
        }
    }
    let all = usize::MAX;
    let mut views = vec![View::select(ViewKey::All, config.title.clone(), items, all)];
    views.extend(
        authors
            .into_iter()
            .map(|(slug, name)| View::select(ViewKey::Author(slug), name, items, all)),
    );
    views.extend(
        tags.into_iter()
            .map(|(slug, name)| View::select(ViewKey::Tag(slug), name, items, all)),
    );
    views.extend(
        config
            .sources
            .iter()
            .map(|s| View::select(ViewKey::Source(s.name.clone()), s.title.clone(), items, all)),
    );
    let rules = Rules::from_config(config);
    views.extend(config.feeds.iter().map(|f| View {
        key: ViewKey::Custom(f.name.clone()),
        title: f.title.clone(),
        items: items.iter().filter(|i| rules.feed_matches(f, i)).collect(),
    }));
    views
}
