//! Queries: the stories a feed shows, newest first, read from an index in
//! feed order and stopped at a limit, so a feed of N stories costs N index
//! entries whatever the store's size.
//!
//! A *selection* names which index: every story, one author's, one tag's,
//! one source's. Which selections make up a site is the views' business.

use super::codec::{ITEM_COLUMNS, RawItem};
use super::db::params;
use super::{Store, StoreError, StoredItem};
use crate::model::Item;

/// Which stories a query reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection<'a> {
    All,
    /// Bylined by the author with this slug.
    Author(&'a str),
    /// Tagged with this slug.
    Tag(&'a str),
    /// Carried by the source of this name (stored by it, or also in it).
    Source(&'a str),
}

/// Which group of slugs [`Store::slugs`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlugKind {
    Author,
    Tag,
    Source,
}

/// Feed order over table `t` (items or a join table), whose last column
/// `key` (`key` or `item`) makes it total. Every feed index has these columns.
pub(super) fn feed_order(t: &str, key: &str) -> String {
    format!("{t}.day DESC, {t}.seq DESC, {t}.position, {t}.at DESC, {t}.{key}")
}

impl Store {
    /// The newest `limit` stories of a selection, in feed order.
    pub fn items(&self, selection: Selection, limit: usize) -> Result<Vec<Item>, StoreError> {
        Ok(self
            .stored(selection, limit)?
            .into_iter()
            .map(|s| s.item)
            .collect())
    }

    /// The newest `limit` stories of every source, in feed order.
    pub fn items_all(&self, limit: usize) -> Result<Vec<Item>, StoreError> {
        self.items(Selection::All, limit)
    }

    /// Like [`Store::items`], with first/last-seen times and stable instants.
    /// Reads at most `limit` index entries, whatever the store's size.
    pub fn stored(
        &self,
        selection: Selection,
        limit: usize,
    ) -> Result<Vec<StoredItem>, StoreError> {
        self.stored_from(selection, 0, limit)
    }

    /// [`Store::stored`] from the `offset`-th story on: for walking a whole
    /// selection in bounded pieces.
    pub fn stored_from(
        &self,
        selection: Selection,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<StoredItem>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        let (sql, key) = selection_query(selection);
        let path = self.path_str();
        let err = |source| StoreError::Sql {
            path: path.clone(),
            context: format!("cannot read the stories of {selection:?}"),
            source,
        };
        let rows = match key {
            None => self.read().query(&sql, params![limit, offset]),
            Some(k) => self.read().query(&sql, params![limit, offset, k]),
        }
        .map_err(err)?;
        let raw: Vec<RawItem> = rows
            .iter()
            .map(RawItem::from_row)
            .collect::<Result<_, _>>()
            .map_err(err)?;
        raw.into_iter().map(|r| r.decode(&path)).collect()
    }

    /// Every slug of a kind with how many stories it has, sorted by slug.
    pub fn slugs(&self, kind: SlugKind) -> Result<Vec<(String, usize)>, StoreError> {
        let table = match kind {
            SlugKind::Author => "item_authors",
            SlugKind::Tag => "item_tags",
            SlugKind::Source => "item_sources",
        };
        self.read()
            .query(
                &format!("SELECT slug, count(*) FROM {table} GROUP BY slug ORDER BY slug"),
                params![],
            )
            .and_then(|rows| rows.iter().map(|r| Ok((r.get(0)?, r.get(1)?))).collect())
            .map_err(|source| StoreError::Sql {
                path: self.path_str(),
                context: format!("cannot count the {table}"),
                source,
            })
    }

    /// How many stories the store holds, of one source or of all.
    pub fn item_count(&self, source: Option<&str>) -> Result<usize, StoreError> {
        let conn = self.read();
        match source {
            None => conn.query_one("SELECT count(*) FROM items", params![]),
            Some(s) => conn.query_one("SELECT count(*) FROM items WHERE source = ?1", params![s]),
        }
        .and_then(|r| r.get(0))
        .map_err(|source| StoreError::Sql {
            path: self.path_str(),
            context: "cannot count items".to_owned(),
            source,
        })
    }

    /// When this store file was made: what an empty feed says it was last
    /// updated (never the build's clock, never 1970).
    pub fn created(&self) -> Result<chrono::DateTime<chrono::Utc>, StoreError> {
        let ms: i64 = self
            .read()
            .query_one(
                "SELECT value FROM counters WHERE name = 'created'",
                params![],
            )
            .and_then(|r| r.get(0))
            .map_err(|source| StoreError::Sql {
                path: self.path_str(),
                context: "cannot read when the store was made".to_owned(),
                source,
            })?;
        chrono::DateTime::from_timestamp_millis(ms).ok_or_else(|| StoreError::Corrupt {
            path: self.path_str(),
            id: "counters.created".to_owned(),
            message: format!("{ms} is out of range"),
        })
    }
}

/// The query of a selection, `?1` the limit, `?2` the offset and `?3` its key.
pub(super) fn selection_query(selection: Selection<'_>) -> (String, Option<&str>) {
    // CROSS JOIN keeps the join table outermost, so SQLite walks its feed
    // index in order and stops after `limit` rows instead of sorting.
    let (table, key) = match selection {
        Selection::All => {
            return (
                format!(
                    "SELECT {ITEM_COLUMNS} FROM items i ORDER BY {} LIMIT ?1 OFFSET ?2",
                    feed_order("i", "key")
                ),
                None,
            );
        }
        Selection::Author(slug) => ("item_authors", slug),
        Selection::Tag(slug) => ("item_tags", slug),
        Selection::Source(name) => ("item_sources", name),
    };
    (
        format!(
            "SELECT {ITEM_COLUMNS} FROM {table} t CROSS JOIN items i ON i.key = t.item \
             WHERE t.slug = ?3 ORDER BY {} LIMIT ?1 OFFSET ?2",
            feed_order("t", "item")
        ),
        Some(key),
    )
}
