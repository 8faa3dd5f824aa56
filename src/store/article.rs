//! Articles in the store: for each story with a url that a source with
//! article reading stored, the state of fetching its own page (`due`, `read`,
//! `failed`; attempts, last error, next try) and what the page gave. A story
//! is queued once, when a listing of such a source first shows it, so a
//! restart or a later refresh never fetches its page again; a failure waits twice as long each time and
//! never blocks or drops the story. What a page gave folds into its story
//! with the merger's rule ([`crate::merge::with_article`]) in [`super::fold`].

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::db::{Db, DbError, params};
use super::fold::{Origin, fold};
use super::{Store, StoreError};
use crate::adapters::article::{Article, DateOrigin, Dated};
use crate::merge::MergeOptions;
use crate::model::Published;

/// The first wait after a failed fetch; each further failure doubles it.
const FIRST_RETRY_SECS: i64 = 600;
/// The longest wait between two tries.
const MAX_RETRY_SECS: i64 = 86_400;

/// An article page to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleTask {
    /// The story's key in the store.
    pub story: i64,
    pub url: String,
    /// Failed fetches so far.
    pub attempts: u32,
}

/// What the store knows of one story's article page.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredArticle {
    pub url: String,
    /// `due`, `read` or `failed`.
    pub state: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub next_try: Option<DateTime<Utc>>,
    /// What the page gave, once read.
    pub article: Option<Article>,
}

/// How many of a source's articles are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ArticleCounts {
    pub due: usize,
    pub read: usize,
    pub failed: usize,
}

fn sql(path: &str, context: String) -> impl FnOnce(DbError) -> StoreError + '_ {
    move |source| StoreError::Sql {
        path: path.to_owned(),
        context,
        source,
    }
}

impl Store {
    /// Queue the article page of every story with a url that `source`'s
    /// listing stored at `seen` showed (new to the store, or first seen by
    /// another source); a story already queued keeps its state. Returns how
    /// many were queued.
    pub fn queue_articles(&self, source: &str, seen: DateTime<Utc>) -> Result<usize, StoreError> {
        let path = self.path_str();
        // Listings store whole seconds.
        let seen = seen.timestamp() * 1000;
        self.write()
            .execute(
                "INSERT INTO articles (story, source, url, state, next_try) \
                 SELECT DISTINCT c.story, CAST(?1 AS TEXT), i.url, 'due', CAST(?2 AS BIGINT) FROM copies c \
                 JOIN items i ON i.key = c.story \
                 WHERE c.source = ?1 AND c.last_seen >= ?2 AND i.url IS NOT NULL \
                 ON CONFLICT DO NOTHING",
                params![source, seen],
            )
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
            .map_err(sql(
                &path,
                format!("source {source:?}: cannot queue articles"),
            ))
    }

    /// Up to `limit` article pages of `source` due at `now`: never tried
    /// first (newest story first), then retries.
    pub fn articles_due(
        &self,
        source: &str,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<ArticleTask>, StoreError> {
        let path = self.path_str();
        self.read()
            .query(
                "SELECT story, url, attempts FROM articles \
                 WHERE source = ?1 AND state = 'due' AND next_try <= ?2 \
                 ORDER BY attempts, story DESC LIMIT ?3",
                params![source, now.timestamp_millis(), limit],
            )
            .and_then(|rows| {
                rows.iter()
                    .map(|r| {
                        Ok(ArticleTask {
                            story: r.get(0)?,
                            url: r.get(1)?,
                            attempts: r.get(2)?,
                        })
                    })
                    .collect()
            })
            .map_err(sql(
                &path,
                format!("source {source:?}: cannot read due articles"),
            ))
    }

    /// Keep what `story`'s article page gave and fold it into the story.
    pub fn store_article(
        &self,
        story: i64,
        article: &Article,
        options: &MergeOptions,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.retrying(|| self.store_article_once(story, article, options, now))
    }

    fn store_article_once(
        &self,
        story: i64,
        article: &Article,
        options: &MergeOptions,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let path = self.path_str();
        let context = || format!("story {story}: cannot store its article");
        let conn = self.write();
        let tx = conn.write_tx().map_err(sql(&path, context()))?;
        let (pk, p, pz) = published_columns(article.published.as_ref());
        let authors = serde_json::to_string(&article.authors).unwrap_or_else(|_| "[]".into());
        let changed = tx
            .execute(
                "UPDATE articles SET state = 'read', read_at = ?2, last_error = NULL, \
                 published_kind = ?3, published = ?4, published_zone = ?5, published_origin = ?6, \
                 updated = ?7, updated_origin = ?8, authors = ?9, image = ?10, content_html = ?11, \
                 content_text = ?12 WHERE story = ?1",
                params![
                    story,
                    now.timestamp_millis(),
                    pk,
                    p,
                    pz,
                    article.published.map(|d| d.origin.as_str()),
                    article.updated.map(|d| d.value.instant().to_rfc3339()),
                    article.updated.map(|d| d.origin.as_str()),
                    authors,
                    article.image,
                    article.content_html,
                    article.content_text,
                ],
            )
            .map_err(sql(&path, context()))?;
        if changed > 0 {
            let seen = now.with_timezone(&Utc);
            fold(&tx, story, options, seen, Origin::Joined, &path)?;
            super::lease::notify(&tx).map_err(sql(&path, context()))?;
        }
        tx.commit().map_err(sql(&path, context()))
    }

    /// Remember that fetching `story`'s article page failed at `now`: it is
    /// due again after a wait that doubles with each failure, and given up
    /// after `max_attempts`.
    pub fn article_failed(
        &self,
        story: i64,
        error: &str,
        now: DateTime<Utc>,
        max_attempts: u32,
    ) -> Result<(), StoreError> {
        let path = self.path_str();
        let conn = self.write();
        let attempts: u32 = conn
            .query_opt(
                "SELECT attempts FROM articles WHERE story = ?1",
                params![story],
            )
            .and_then(|r| r.map(|r| r.get::<u32>(0)).transpose())
            .map_err(sql(
                &path,
                format!("story {story}: cannot read its article"),
            ))?
            .unwrap_or(0)
            + 1;
        let wait = (FIRST_RETRY_SECS << (attempts - 1).min(20)).min(MAX_RETRY_SECS);
        let state = if attempts >= max_attempts {
            "failed"
        } else {
            "due"
        };
        conn.execute(
            "UPDATE articles SET attempts = ?2, last_error = ?3, next_try = ?4, state = ?5 \
             WHERE story = ?1",
            params![
                story,
                attempts,
                error,
                now.timestamp_millis() + wait * 1000,
                state
            ],
        )
        .map(drop)
        .map_err(sql(
            &path,
            format!("story {story}: cannot record its article's failure"),
        ))
    }

    /// The article state of the story at `url`, if it was queued.
    pub fn article(&self, url: &str) -> Result<Option<StoredArticle>, StoreError> {
        let path = self.path_str();
        let conn = self.read();
        let row = conn
            .query_opt(
                "SELECT url, state, attempts, last_error, next_try, story FROM articles WHERE url = ?1",
                params![url],
            )
            .and_then(|r| {
                r.map(|r| {
                    Ok((
                        StoredArticle {
                            url: r.get(0)?,
                            state: r.get(1)?,
                            attempts: r.get(2)?,
                            last_error: r.get(3)?,
                            next_try: DateTime::from_timestamp_millis(r.get(4)?),
                            article: None,
                        },
                        r.get::<i64>(5)?,
                    ))
                })
                .transpose()
            })
            .map_err(sql(&path, format!("cannot read the article of {url}")))?;
        let Some((mut stored, story)) = row else {
            return Ok(None);
        };
        stored.article = read_article(&conn, story, &path)?;
        Ok(Some(stored))
    }

    /// How many articles of `source` are due, read and failed.
    pub fn article_counts(&self, source: &str) -> Result<ArticleCounts, StoreError> {
        let path = self.path_str();
        let rows: Vec<(String, usize)> = self
            .read()
            .query(
                "SELECT state, count(*) FROM articles WHERE source = ?1 GROUP BY state",
                params![source],
            )
            .and_then(|rows| rows.iter().map(|r| Ok((r.get(0)?, r.get(1)?))).collect())
            .map_err(sql(
                &path,
                format!("source {source:?}: cannot count articles"),
            ))?;
        let mut counts = ArticleCounts::default();
        for (state, n) in rows {
            match state.as_str() {
                "due" => counts.due = n,
                "read" => counts.read = n,
                _ => counts.failed = n,
            }
        }
        Ok(counts)
    }
}

fn published_columns(
    p: Option<&Dated>,
) -> (Option<&'static str>, Option<String>, Option<&'static str>) {
    match p.map(|d| d.value) {
        None => (None, None, None),
        Some(Published::DateTime(dt)) => (Some("datetime"), Some(dt.to_rfc3339()), None),
        Some(Published::Date(d, tz)) => (Some("date"), Some(d.to_string()), Some(tz.name())),
    }
}

/// What `story`'s article page gave, if it was read. A value this build did
/// not write reads as missing, never a panic.
pub(super) fn read_article(
    conn: &Db,
    story: i64,
    path: &str,
) -> Result<Option<Article>, StoreError> {
    let row = conn
        .query_opt(
            "SELECT published_kind, published, published_zone, published_origin, updated, \
             updated_origin, authors, image, content_html, content_text FROM articles \
             WHERE story = ?1 AND state = 'read'",
            params![story],
        )
        .and_then(|r| {
            r.map(|r| -> Result<_, DbError> {
                Ok((
                    r.get::<Option<String>>(0)?,
                    r.get::<Option<String>>(1)?,
                    r.get::<Option<String>>(2)?,
                    r.get::<Option<String>>(3)?,
                    r.get::<Option<String>>(4)?,
                    r.get::<Option<String>>(5)?,
                    r.get::<String>(6)?,
                    r.get::<Option<String>>(7)?,
                    r.get::<Option<String>>(8)?,
                    r.get::<Option<String>>(9)?,
                ))
            })
            .transpose()
        })
        .map_err(sql(path, format!("story {story}: cannot read its article")))?;
    let Some((kind, published, zone, p_origin, updated, u_origin, authors, image, html, text)) =
        row
    else {
        return Ok(None);
    };
    let origin = |o: Option<String>| o.as_deref().and_then(DateOrigin::from_name);
    let published = match (kind.as_deref(), published, zone) {
        (Some("datetime"), Some(s), _) => DateTime::parse_from_rfc3339(&s)
            .ok()
            .map(Published::DateTime),
        (Some("date"), Some(s), Some(z)) => chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d")
            .ok()
            .zip(z.parse::<Tz>().ok())
            .map(|(d, tz)| Published::Date(d, tz)),
        _ => None,
    };
    let updated = updated
        .and_then(|u| DateTime::parse_from_rfc3339(&u).ok())
        .map(Published::DateTime);
    Ok(Some(Article {
        published: published
            .zip(origin(p_origin))
            .map(|(value, origin)| Dated { value, origin }),
        updated: updated
            .zip(origin(u_origin))
            .map(|(value, origin)| Dated { value, origin }),
        authors: serde_json::from_str(&authors).unwrap_or_default(),
        image,
        content_html: html,
        content_text: text,
    }))
}
