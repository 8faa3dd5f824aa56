//! The codec: how an [`Item`] becomes the columns of a row and back. A
//! *row* is an item's stored form (authors and tags as JSON, the published
//! value as kind, text and zone, a content hash); stories and copies share it,
//! so both decode with the same checks, and a value this build did not write
//! is an error naming the item, never a panic.

use chrono::{DateTime, Datelike, NaiveDate};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{StoreError, StoredItem};
use crate::model::{Item, Person, Published, Tag};

/// The columns every story query reads, in the order [`RawItem::from_row`] expects.
pub(super) const ITEM_COLUMNS: &str = "i.id, i.source, i.also_in, i.url, i.title, i.summary, i.authors, i.tags, i.image, \
     i.published_kind, i.published, i.published_zone, i.updated, i.position, i.stable_instant, \
     i.first_seen, i.last_seen, i.content_html";

/// The same columns of a copy (a copy has no `also_in` or stable instant).
pub(super) const COPY_COLUMNS: &str = "c.id, c.source, '[]', c.url, c.title, c.summary, c.authors, c.tags, c.image, \
     c.published_kind, c.published, c.published_zone, c.updated, c.position, NULL, \
     c.first_seen, c.last_seen, NULL";

#[derive(Serialize, Deserialize)]
struct AuthorJson {
    name: String,
    slug: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct TagJson {
    name: String,
    slug: String,
}

/// The derived columns of one item.
pub(super) struct Row {
    pub(super) authors: String,
    pub(super) tags: String,
    pub(super) published_kind: Option<&'static str>,
    pub(super) published: Option<String>,
    pub(super) published_zone: Option<String>,
    pub(super) day: Option<i64>,
    pub(super) at: Option<i64>,
    pub(super) hash: String,
}

impl Row {
    pub(super) fn encode(item: &Item) -> Row {
        let authors: Vec<AuthorJson> = item
            .authors
            .iter()
            .map(|a| AuthorJson {
                name: a.name.clone(),
                slug: a.slug.clone(),
                url: a.url.clone(),
            })
            .collect();
        let tags: Vec<TagJson> = item
            .tags
            .iter()
            .map(|t| TagJson {
                name: t.name.clone(),
                slug: t.slug.clone(),
            })
            .collect();
        // Serializing plain strings and vectors of them cannot fail.
        let authors = serde_json::to_string(&authors).unwrap_or_else(|_| "[]".to_owned());
        let tags = serde_json::to_string(&tags).unwrap_or_else(|_| "[]".to_owned());
        let (published_kind, published, published_zone) = match &item.published {
            None => (None, None, None),
            Some(Published::DateTime(dt)) => (Some("datetime"), Some(dt.to_rfc3339()), None),
            Some(Published::Date(d, tz)) => (
                Some("date"),
                Some(d.to_string()),
                Some(tz.name().to_owned()),
            ),
        };
        let day = item.day().map(|d| i64::from(d.num_days_from_ce()));
        let at = item.published.as_ref().map(|p| p.instant().timestamp());
        // What a reader sees: a change here is an edit worth an `updated`.
        let mut content = serde_json::json!([
            item.url,
            item.title,
            item.summary,
            authors,
            tags,
            item.image,
            published_kind,
            published,
            published_zone,
            item.updated.map(|u| u.to_rfc3339()),
        ]);
        // Only a story with full text hashes it, so hashes written before
        // stories had any stay valid (an unchanged copy is no edit).
        if let (Some(text), Some(list)) = (&item.content, content.as_array_mut()) {
            list.push(serde_json::Value::from(text.as_str()));
        }
        let digest = Sha256::digest(content.to_string().as_bytes());
        let hash = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        Row {
            authors,
            tags,
            published_kind,
            published,
            published_zone,
            day,
            at,
            hash,
        }
    }
}

/// One row as the database gives it, before the checks of [`RawItem::decode`].
pub(super) struct RawItem {
    id: String,
    source: String,
    also_in: String,
    url: Option<String>,
    title: String,
    summary: Option<String>,
    authors: String,
    tags: String,
    image: Option<String>,
    published_kind: Option<String>,
    published: Option<String>,
    published_zone: Option<String>,
    updated: Option<String>,
    position: i64,
    stable_instant: Option<String>,
    first_seen: i64,
    last_seen: i64,
    content: Option<String>,
}

impl RawItem {
    pub(super) fn from_row(r: &super::db::Row) -> Result<RawItem, super::db::DbError> {
        Ok(RawItem {
            id: r.get(0)?,
            source: r.get(1)?,
            also_in: r.get(2)?,
            url: r.get(3)?,
            title: r.get(4)?,
            summary: r.get(5)?,
            authors: r.get(6)?,
            tags: r.get(7)?,
            image: r.get(8)?,
            published_kind: r.get(9)?,
            published: r.get(10)?,
            published_zone: r.get(11)?,
            updated: r.get(12)?,
            position: r.get(13)?,
            stable_instant: r.get(14)?,
            first_seen: r.get(15)?,
            last_seen: r.get(16)?,
            content: r.get(17)?,
        })
    }

    /// Back to the model; a value this build did not write is an error naming
    /// the item, never a panic.
    pub(super) fn decode(self, path: &str) -> Result<StoredItem, StoreError> {
        let corrupt = |message: String| StoreError::Corrupt {
            path: path.to_owned(),
            id: self.id.clone(),
            message,
        };
        let rfc3339 = |what: &str, s: &str| {
            DateTime::parse_from_rfc3339(s)
                .map_err(|e| corrupt(format!("{what} {s:?} is not an RFC 3339 time: {e}")))
        };
        let authors: Vec<AuthorJson> = serde_json::from_str(&self.authors)
            .map_err(|e| corrupt(format!("authors are not a JSON list: {e}")))?;
        let tags: Vec<TagJson> = serde_json::from_str(&self.tags)
            .map_err(|e| corrupt(format!("tags are not a JSON list: {e}")))?;
        let also_in: Vec<String> = serde_json::from_str(&self.also_in)
            .map_err(|e| corrupt(format!("also_in is not a JSON list: {e}")))?;
        let published = match (
            self.published_kind.as_deref(),
            self.published.as_deref(),
            self.published_zone.as_deref(),
        ) {
            (None, _, _) => None,
            (Some("datetime"), Some(s), _) => Some(Published::DateTime(rfc3339("published", s)?)),
            (Some("date"), Some(s), Some(zone)) => {
                let day = NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .map_err(|e| corrupt(format!("published date {s:?}: {e}")))?;
                let tz: Tz = zone
                    .parse()
                    .map_err(|_| corrupt(format!("unknown time zone {zone:?}")))?;
                Some(Published::Date(day, tz))
            }
            (Some(kind), s, zone) => {
                return Err(corrupt(format!(
                    "published {kind:?} {s:?} in zone {zone:?} is not a date or a date-time"
                )));
            }
        };
        let updated = self
            .updated
            .as_deref()
            .map(|s| rfc3339("updated", s))
            .transpose()?;
        let stable_instant = self
            .stable_instant
            .as_deref()
            .map(|s| rfc3339("stable_instant", s))
            .transpose()?;
        let time = |what: &str, ms: i64| {
            DateTime::from_timestamp_millis(ms)
                .ok_or_else(|| corrupt(format!("{what} {ms} is out of range")))
        };
        let first_seen = time("first_seen", self.first_seen)?;
        let last_seen = time("last_seen", self.last_seen)?;
        let position = u32::try_from(self.position)
            .map_err(|_| corrupt(format!("position {} is out of range", self.position)))?;
        Ok(StoredItem {
            item: Item {
                id: self.id,
                url: self.url,
                title: self.title,
                summary: self.summary,
                authors: authors
                    .into_iter()
                    .map(|a| Person {
                        name: a.name,
                        slug: a.slug,
                        url: a.url,
                    })
                    .collect(),
                published,
                updated,
                tags: tags
                    .into_iter()
                    .map(|t| Tag {
                        name: t.name,
                        slug: t.slug,
                    })
                    .collect(),
                image: self.image,
                content: self.content,
                source: self.source,
                also_in,
                position,
                published_precision: None,
            },
            first_seen,
            last_seen,
            stable_instant,
        })
    }
}

/// A list of source names as the JSON the `also_in` column holds.
pub(super) fn json(names: &[String]) -> String {
    serde_json::to_string(names).unwrap_or_else(|_| "[]".to_owned())
}
