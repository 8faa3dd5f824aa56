//! Folding: a story made again from all of its copies, with the merger's
//! one rule ([`merge::fold_story`]), and written where it changed: content,
//! its place in feed order, its keys (authors, tags, sources), and its stable
//! instant, which is fixed at first sight and kept.

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use sha2::{Digest, Sha256};

use super::StoreError;
use super::article::read_article;
use super::codec::{COPY_COLUMNS, RawItem, Row, json};
use super::db::{Db, DbError, Engine, params};
use crate::merge::{self, MergeOptions};
use crate::model::{Item, Published, title_key};

/// The tables of a story's keys, each with the story's feed-order columns.
const KEY_TABLES: [&str; 3] = ["item_authors", "item_tags", "item_sources"];

/// Why a story is folded again.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Origin {
    /// It is new with this listing.
    Created,
    /// A copy of it changed: an edit, which moves its `updated`.
    Edited,
    /// A copy joined or was seen again: what the story shows may change (a
    /// second source's tags), but nobody edited it.
    Joined,
}

/// What folding a story changed.
pub(super) enum Change {
    None,
    /// What a reader sees changed: the story is updated.
    Content,
}

/// The story as stored before this listing.
struct OldStory {
    id: String,
    source: String,
    also_in: String,
    hash: String,
    first_seen: i64,
    day: Option<i64>,
    seq: i64,
    position: i64,
    stable: Option<String>,
}

/// Fold story `key` again from all of its copies and write what changed.
pub(super) fn fold(
    tx: &Db,
    key: i64,
    options: &MergeOptions,
    seen_at: DateTime<Utc>,
    how: Origin,
    path: &str,
) -> Result<Change, StoreError> {
    let created = how == Origin::Created;
    let sql = |e| StoreError::Sql {
        path: path.to_owned(),
        context: format!("story {key}"),
        source: e,
    };
    // Writers of a PostgreSQL store run side by side: the story is folded
    // by one at a time, and the next sees the copies the first committed.
    // (SQLite has one writer at a time already; a story made by this
    // transaction is nobody else's yet.)
    if tx.engine() == Engine::Postgres && !created {
        tx.execute(
            "SELECT key FROM items WHERE key = ?1 FOR NO KEY UPDATE",
            params![key],
        )
        .map_err(sql)?;
    }
    let raw: Vec<(RawItem, i64)> = tx
        .query(
            &format!(
                "SELECT {COPY_COLUMNS}, c.seq FROM copies c WHERE c.story = ?1 ORDER BY c.source, c.id"
            ),
            params![key],
        )
        .and_then(|rows| {
            rows.iter()
                .map(|r| Ok((RawItem::from_row(r)?, r.get::<i64>(18)?)))
                .collect()
        })
        .map_err(sql)?;
    let mut copies = Vec::with_capacity(raw.len());
    let mut seqs = Vec::with_capacity(raw.len());
    let mut first_seen = i64::MAX;
    let mut last_seen = i64::MIN;
    for (r, seq) in raw {
        let stored = r.decode(path)?;
        first_seen = first_seen.min(stored.first_seen.timestamp_millis());
        last_seen = last_seen.max(stored.last_seen.timestamp_millis());
        seqs.push((stored.item.source.clone(), stored.item.position, seq));
        copies.push(stored.item);
    }
    let Some(mut story) = merge::fold_story(copies, options) else {
        return Ok(Change::None);
    };
    // A story made by this listing has no article page read yet.
    if !created && let Some(article) = read_article(tx, key, path)? {
        merge::with_article(&mut story, &article);
    }
    // The story sorts where its primary copy's listing put it.
    let seq = seqs
        .iter()
        .find(|(s, p, _)| *s == story.source && *p == story.position)
        .or_else(|| seqs.iter().max_by_key(|(_, _, seq)| *seq))
        .map_or(0, |(_, _, seq)| *seq);
    let place = (seq, i64::from(story.position));
    let old: OldStory = tx
        .query_one(
            "SELECT id, source, also_in, content_hash, first_seen, day, seq, position, \
             stable_instant FROM items WHERE key = ?1",
            params![key],
        )
        .and_then(|r| {
            Ok(OldStory {
                id: r.get(0)?,
                source: r.get(1)?,
                also_in: r.get(2)?,
                hash: r.get(3)?,
                first_seen: r.get(4)?,
                day: r.get(5)?,
                seq: r.get(6)?,
                position: r.get(7)?,
                stable: r.get(8)?,
            })
        })
        .map_err(sql)?;
    let mut row = Row::encode(&story);
    let content = old.hash != row.hash;
    let also_in = json(&story.also_in);
    let moved = (old.seq, old.position) != place
        || old.source != story.source
        || old.also_in != also_in
        || old.id != story.id;
    let first_seen = first_seen.min(old.first_seen);
    if !content && !moved {
        tx.execute(
            "UPDATE items SET last_seen = greatest(last_seen, ?2) WHERE key = ?1",
            params![key, last_seen],
        )
        .map_err(sql)?;
        return Ok(Change::None);
    }
    // The stable instant is fixed at first sight; only a new publication
    // day or a new primary copy makes the old one meaningless.
    let first = DateTime::from_timestamp_millis(first_seen).unwrap_or(seen_at);
    // The story's primary copy places a derived time, so a new primary (a
    // copy of the origin site joining) places it again, whatever the order
    // the copies came in; otherwise it is kept.
    let same_primary = old.id == story.id && old.source == story.source;
    let stable = match &old.stable {
        Some(s)
            if !created && same_primary && (story.published.is_none() || old.day == row.day) =>
        {
            s.clone()
        }
        _ => {
            let at = stable_instant(story.published.as_ref(), first, &story.id, story.position);
            match story.published {
                Some(Published::DateTime(_)) => at,
                // A derived time is one no other story has, so no two entries
                // of a feed share an `updated` the page order tells apart.
                _ => unshared(tx, key, at, day_start(story.published.as_ref(), first))
                    .map_err(sql)?,
            }
            .to_rfc3339()
        }
    };
    if row.day.is_none() {
        // An undated story sorts by the time it was first seen.
        let at = DateTime::parse_from_rfc3339(&stable).unwrap_or(first.fixed_offset());
        row.day = Some(i64::from(chrono::Datelike::num_days_from_ce(
            &at.date_naive(),
        )));
        row.at = Some(at.timestamp());
    }
    let updated = match (how, content) {
        (Origin::Edited, true) => Some(story.updated.unwrap_or_else(|| seen_at.fixed_offset())),
        _ => story.updated,
    };
    tx.execute(
        "UPDATE items SET id = ?2, source = ?3, also_in = ?4, url = ?5, title = ?6, summary = ?7, \
         authors = ?8, tags = ?9, image = ?10, published_kind = ?11, published = ?12, \
         published_zone = ?13, updated = coalesce(?14, CASE WHEN ?21 THEN updated END), day = ?15, \
         seq = ?16, position = ?17, at = ?18, stable_instant = ?19, content_hash = ?20, \
         first_seen = ?22, title_key = ?23, content_html = ?24, \
         last_seen = greatest(last_seen, ?25) WHERE key = ?1",
        params![
            key,
            story.id,
            story.source,
            also_in,
            story.url,
            story.title,
            story.summary,
            row.authors,
            row.tags,
            story.image,
            row.published_kind,
            row.published,
            row.published_zone,
            updated.map(|u| u.to_rfc3339()),
            row.day,
            place.0,
            place.1,
            row.at,
            stable,
            row.hash,
            how != Origin::Edited,
            first_seen,
            title_key(&story.title, story.day()),
            story.content,
            last_seen,
        ],
    )
    .map_err(sql)?;
    // A new story has no keys to take back.
    for table in KEY_TABLES.iter().filter(|_| !created) {
        tx.execute(
            &format!("DELETE FROM {table} WHERE item = ?1"),
            params![key],
        )
        .map_err(sql)?;
    }
    insert_keys(tx, key, &story, &row, place).map_err(sql)?;
    Ok(if content && !created {
        Change::Content
    } else {
        Change::None
    })
}

/// The author, tag and source keys of a story, carrying its feed-order columns.
fn insert_keys(
    tx: &Db,
    key: i64,
    story: &Item,
    row: &Row,
    (seq, position): (i64, i64),
) -> Result<(), DbError> {
    let sources = std::iter::once(story.source.as_str())
        .chain(story.also_in.iter().map(String::as_str))
        .collect();
    for (table, slugs) in [
        (
            "item_authors",
            story
                .authors
                .iter()
                .map(|a| a.slug.as_str())
                .collect::<Vec<_>>(),
        ),
        (
            "item_tags",
            story.tags.iter().map(|t| t.slug.as_str()).collect(),
        ),
        ("item_sources", sources),
    ] {
        let sql = format!(
            "INSERT INTO {table} (item, slug, day, seq, position, at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING"
        );
        for slug in slugs {
            tx.execute(&sql, params![key, slug, row.day, seq, position, row.at])?;
        }
    }
    Ok(())
}

/// Listing positions that move a derived time back a minute each (plus up
/// to 59 seconds by id); further down, one second each, so a listing of
/// 20,000 stories still gives each a time of its own within the day.
const MINUTE_STEPS: i64 = 240;
/// The most seconds a listing position moves a derived time back: noon less
/// this is still the same day.
const MAX_STEP_SECS: i64 = 11 * 3600;

/// The time a renderer gives the story; see [`super::StoredItem::stable_instant`].
/// A date-only story first seen on its day gets the time it was first seen,
/// else noon of the day in its zone (the same calendar day for readers up to
/// twelve hours either side); an undated story the time it was first seen.
/// Each is moved back by its listing position (a minute per place for the
/// first 240, a second per place below them) and up to 59 seconds more by
/// its id, never before the day's start: a reader sorting by time keeps
/// the listing's order, and stories at the same place in two listings
/// rarely share a time (the store moves the rare clash, see [`unshared`]).
pub(super) fn stable_instant(
    published: Option<&Published>,
    first_seen: DateTime<Utc>,
    id: &str,
    position: u32,
) -> DateTime<FixedOffset> {
    let spread = Sha256::digest(id.as_bytes())
        .iter()
        .take(4)
        .fold(0u32, |h, b| (h << 8) | u32::from(*b))
        % 60;
    let position = i64::from(position);
    let secs = if position < MINUTE_STEPS {
        position * 60 + i64::from(spread)
    } else {
        MINUTE_STEPS * 60 + (position - MINUTE_STEPS)
    }
    .min(MAX_STEP_SECS);
    let back = chrono::Duration::seconds(secs);
    match published {
        None => (first_seen.fixed_offset() - back).max(day_start(None, first_seen)),
        Some(Published::DateTime(dt)) => *dt,
        Some(p @ Published::Date(day, tz)) => {
            let seen_there = first_seen.with_timezone(tz);
            if seen_there.date_naive() == *day {
                (seen_there.fixed_offset() - back).max(p.instant())
            } else {
                let noon = day.and_hms_opt(12, 0, 0).unwrap_or_default();
                match tz.from_local_datetime(&noon).earliest() {
                    Some(t) => t.fixed_offset() - back,
                    None => p.instant(),
                }
            }
        }
    }
}

/// The start of the day a derived time must stay on: the published day in
/// its zone, or for an undated story the (UTC) day it was first seen.
fn day_start(published: Option<&Published>, first_seen: DateTime<Utc>) -> DateTime<FixedOffset> {
    match published {
        // A date's instant is its midnight in its zone.
        Some(p) => p.instant(),
        None => Published::Date(first_seen.date_naive(), chrono_tz::UTC).instant(),
    }
}

/// How far [`unshared`] looks for a free second, each way.
const SEARCH_SECS: i64 = 64;

/// `at`, or the nearest second before it (else after it, within
/// [`SEARCH_SECS`]) that no other story's stable instant holds, not before
/// `start`; `at` itself when every one is taken.
fn unshared(
    tx: &Db,
    key: i64,
    at: DateTime<FixedOffset>,
    start: DateTime<FixedOffset>,
) -> Result<DateTime<FixedOffset>, DbError> {
    // A time held at the day's start (a big listing first seen just after
    // midnight) has nowhere to go that is not a search through its
    // neighbours: keep it rather than make a refresh quadratic.
    if at <= start {
        return Ok(at);
    }
    let taken = tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM items WHERE stable_instant = ?1 AND key != ?2)",
            params![at.to_rfc3339(), key],
        )?
        .get::<bool>(0)?;
    if !taken {
        return Ok(at);
    }
    // A bounded search, in one query: a clash is rare by construction (see
    // `stable_instant`), and a pathological page must not make it quadratic.
    let back = (1..SEARCH_SECS)
        .map(|step| at - chrono::Duration::seconds(step))
        .take_while(|t| *t >= start);
    let forward = (1..SEARCH_SECS).map(|step| at + chrono::Duration::seconds(step));
    let candidates: Vec<String> = back.chain(forward).map(|t| t.to_rfc3339()).collect();
    // One range of the index: times of one offset sort as their text does.
    let (Some(low), Some(high)) = (candidates.iter().min(), candidates.iter().max()) else {
        return Ok(at);
    };
    let held: std::collections::HashSet<String> = tx
        .query(
            "SELECT stable_instant FROM items WHERE stable_instant >= ?1 \
             AND stable_instant <= ?2 AND key != ?3",
            params![low, high, key],
        )?
        .iter()
        .map(|r| r.get::<String>(0))
        .collect::<Result<_, _>>()?;
    Ok(candidates
        .iter()
        .find(|c| !held.contains(*c))
        .and_then(|c| DateTime::parse_from_rfc3339(c).ok())
        .unwrap_or(at))
}
