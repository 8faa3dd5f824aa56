//! An *edition* is every view a site publishes (all, then authors, tags,
//! sources and custom feeds, each group sorted by slug or in config order),
//! each at most `max_items` stories, over the distinct stories they show,
//! packed (see [`Pack`]). `build` renders it to files and `serve` keeps it,
//! so both publish the same documents.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset};

use super::{Pack, Shelf, View, ViewKey};
use crate::config::Config;
use crate::model::Item;
use crate::rules::Rules;
use crate::store::{Selection, SlugKind, StoreError};

/// One view of an edition: its stories are indices into the edition's pack.
#[derive(Debug, Clone)]
pub struct ViewEntry {
    pub key: ViewKey,
    pub title: String,
    /// Stories of the view in all; it shows the newest.
    pub total: usize,
    pub members: Vec<u32>,
}

/// Every view a site publishes, over the distinct stories they show.
#[derive(Debug, Default)]
pub struct Edition {
    pub stories: Pack,
    pub views: Vec<ViewEntry>,
    /// What an empty feed is dated (see [`View::as_of`]).
    pub as_of: Option<DateTime<FixedOffset>>,
}

/// How many stories a custom feed's rules are tried on per read of the shelf.
const CUSTOM_CHUNK: usize = 2_000;

/// Adds views to an edition, packing each story once.
struct Builder {
    edition: Edition,
    index: HashMap<String, u32>,
}

impl Builder {
    fn add(&mut self, key: ViewKey, title: Option<String>, total: usize, items: Vec<Item>) {
        let title = title.unwrap_or_else(|| name_in(&key, &items));
        let mut members = Vec::with_capacity(items.len());
        for item in items {
            let n = match self.index.get(&item.id) {
                Some(&n) => n,
                None => {
                    let Ok(n) = u32::try_from(self.edition.stories.push(&item)) else {
                        continue;
                    };
                    self.index.insert(item.id, n);
                    n
                }
            };
            members.push(n);
        }
        self.edition.views.push(ViewEntry {
            key,
            title,
            total,
            members,
        });
    }
}

impl Edition {
    /// Read every view of `config` from `shelf`, each at most `max_items`.
    pub fn read(
        shelf: &dyn Shelf,
        config: &Config,
        max_items: usize,
    ) -> Result<Edition, StoreError> {
        let mut b = Builder {
            edition: Edition {
                as_of: shelf.as_of()?,
                ..Edition::default()
            },
            index: HashMap::new(),
        };
        let everything = shelf.stories(Selection::All, 0, max_items)?;
        b.add(
            ViewKey::All,
            Some(config.title.clone()),
            shelf.count()?,
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
                b.add(key, None, total, items);
            }
        }
        let source_totals: HashMap<String, usize> =
            shelf.slugs(SlugKind::Source)?.into_iter().collect();
        for s in &config.sources {
            let items = shelf.stories(Selection::Source(&s.name), 0, max_items)?;
            let total = source_totals.get(&s.name).copied().unwrap_or(0);
            b.add(
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
                b.add(
                    ViewKey::Custom(feed.name.clone()),
                    Some(feed.title.clone()),
                    total,
                    items,
                );
            }
        }
        let mut edition = b.edition;
        edition.stories.finish();
        Ok(edition)
    }

    /// The stories of `entry`, decoded, in feed order.
    pub fn items(&self, entry: &ViewEntry) -> Vec<Item> {
        entry
            .members
            .iter()
            .filter_map(|&n| self.stories.get(n as usize))
            .collect()
    }

    /// `entry` as a view over `items` (what [`Edition::items`] gave for it).
    pub fn view<'a>(&self, entry: &ViewEntry, items: &'a [Item]) -> View<'a> {
        View {
            key: entry.key.clone(),
            title: entry.title.clone(),
            items: items.iter().collect(),
            total: entry.total,
            as_of: self.as_of,
        }
    }

    /// Call `f` with every view holding only its newest story: what the
    /// index page and the OPML list show (names, counts, latest dates), so
    /// they never need every story decoded at once.
    pub fn with_headlines<R>(&self, f: impl FnOnce(&[View<'_>]) -> R) -> R {
        let newest: Vec<Vec<Item>> = self
            .views
            .iter()
            .map(|e| {
                e.members
                    .first()
                    .and_then(|&n| self.stories.get(n as usize))
                    .into_iter()
                    .collect()
            })
            .collect();
        let views: Vec<View> = self
            .views
            .iter()
            .zip(&newest)
            .map(|(e, items)| self.view(e, items))
            .collect();
        f(&views)
    }

    /// Every view with its stories decoded: for tests and tools on small
    /// sites (this holds every story of the edition as an `Item`).
    pub fn decoded(&self) -> Vec<(ViewEntry, Vec<Item>)> {
        self.views
            .iter()
            .map(|e| (e.clone(), self.items(e)))
            .collect()
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
