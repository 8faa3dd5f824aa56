//! Writing: what one read of one source showed, stored as that source's
//! *copies*, and folded into *stories* with the merger's one rule.
//!
//! A listing is stored in one transaction under the source's next listing
//! number. Each copy finds its story (by canonical url; a url-less copy by
//! title and day), and every story the listing touched is folded again from
//! all of its copies with [`merge::fold_story`], the same function an
//! in-memory merge uses, so the story is the same whichever source was read
//! first. A story keeps its key and first-seen time; when its folded content
//! changes it is updated in place and its `updated` moves (feed readers see
//! the edit). Its *stable instant* (the time given to a date-only or undated
//! story) is fixed at first sight and kept.

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, Timelike, Utc};

use super::codec::{COPY_COLUMNS, RawItem, Row};
use super::db::{Db, DbError, params};
use super::fold::{Change, Origin, fold};
use super::query::feed_order;
use super::{Store, StoreError, UpsertStats};
use crate::merge::MergeOptions;
use crate::model::{Item, Published, title_key};

impl Store {
    /// [`Store::store_listing`] with default merge options (no origin hosts,
    /// default tracking parameters): for tests and tools without a config.
    pub fn upsert_items(
        &self,
        source: &str,
        items: &[Item],
        seen_at: DateTime<Utc>,
    ) -> Result<UpsertStats, StoreError> {
        self.store_listing(source, items, &MergeOptions::default(), seen_at)
    }

    /// Store what one read of `source` showed (`copies`, in listing order,
    /// with canonical ids), in one transaction, and fold every story it
    /// touched. Later copies of an id within `copies` are ignored. An empty
    /// `copies` changes nothing: an empty read is not a listing.
    pub fn store_listing(
        &self,
        source: &str,
        copies: &[Item],
        options: &MergeOptions,
        seen_at: DateTime<Utc>,
    ) -> Result<UpsertStats, StoreError> {
        self.retrying(|| self.store_listing_once(source, copies, options, seen_at))
    }

    fn store_listing_once(
        &self,
        source: &str,
        copies: &[Item],
        options: &MergeOptions,
        seen_at: DateTime<Utc>,
    ) -> Result<UpsertStats, StoreError> {
        let mut stats = UpsertStats::default();
        if copies.is_empty() {
            return Ok(stats);
        }
        // Stored times carry whole seconds.
        let seen_at = seen_at.with_nanosecond(0).unwrap_or(seen_at);
        let path = self.path_str();
        let sql = |context: String| {
            let path = path.clone();
            let context = format!("source {source:?}: {context}");
            move |source| StoreError::Sql {
                path,
                context,
                source,
            }
        };
        let conn = self.write();
        let tx = conn
            .write_tx()
            .map_err(sql("cannot start a write".into()))?;
        let seen_ms = seen_at.timestamp_millis();
        let seq: i64 = tx
            .query_one(
                "INSERT INTO sources (name, latest_seen, listings) VALUES (?1, ?2, 1) \
                 ON CONFLICT (name) DO UPDATE SET \
                 latest_seen = greatest(sources.latest_seen, excluded.latest_seen), \
                 listings = sources.listings + 1 RETURNING listings",
                params![source, seen_ms],
            )
            .and_then(|r| r.get(0))
            .map_err(sql("cannot number the listing".into()))?;

        // What the store has of each copy, first copy of an id only.
        let mut done: HashSet<&str> = HashSet::with_capacity(copies.len());
        let mut rows: Vec<(Item, Option<OldCopy>)> = Vec::with_capacity(copies.len());
        for copy in copies {
            if !done.insert(copy.id.as_str()) {
                continue;
            }
            let old = old_copy(&tx, source, &copy.id, &path)?;
            let mut copy = copy.clone();
            whole_seconds(&mut copy);
            if let Some(old) = &old {
                stabilize(&mut copy, &old.item);
            }
            rows.push((copy, old));
        }
        let restamp = needs_restamp(&rows);

        let mut created: HashSet<i64> = HashSet::new();
        let mut edited: HashSet<i64> = HashSet::new();
        let mut touched: BTreeSet<i64> = BTreeSet::new();
        for (copy, old) in &rows {
            let context = || format!("item {:?}", copy.id);
            let row = Row::encode(copy);
            let place = (seq, i64::from(copy.position));
            let story = match old {
                None => {
                    let story = match find_story(&tx, copy).map_err(sql(context()))? {
                        Some(key) => key,
                        None => {
                            let key = new_story(&tx, source, copy, place, seen_ms)
                                .map_err(sql(context()))?;
                            created.insert(key);
                            key
                        }
                    };
                    write_copy(&tx, source, copy, &row, story, place, seen_ms)
                        .map_err(sql(context()))?;
                    story
                }
                Some(old) => {
                    let place = if restamp {
                        place
                    } else {
                        (old.seq, old.position)
                    };
                    if old.hash == row.hash {
                        tx.execute(
                            "UPDATE copies SET last_seen = greatest(last_seen, ?3), seq = ?4, position = ?5 \
                             WHERE source = ?1 AND id = ?2",
                            params![source, copy.id, seen_ms, place.0, place.1],
                        )
                        .map_err(sql(context()))?;
                    } else {
                        write_copy(&tx, source, copy, &row, old.story, place, seen_ms)
                            .map_err(sql(context()))?;
                        edited.insert(old.story);
                    }
                    old.story
                }
            };
            touched.insert(story);
        }

        for story in touched {
            let how = if created.contains(&story) {
                Origin::Created
            } else if edited.contains(&story) {
                Origin::Edited
            } else {
                Origin::Joined
            };
            let change = fold(&tx, story, options, seen_at, how, &path)?;
            match change {
                _ if created.contains(&story) => stats.new += 1,
                Change::Content => stats.updated += 1,
                Change::None => stats.unchanged += 1,
            }
        }
        if stats.new + stats.updated > 0 {
            super::lease::notify(&tx).map_err(sql("cannot tell other processes".into()))?;
        }
        tx.commit().map_err(sql("cannot commit".into()))?;
        Ok(stats)
    }

    /// Drop history of `source` beyond `max_items` (in feed order) and stories
    /// older than `max_age` (by their publication time, or first-seen time when
    /// undated). Stories in the source's latest listing always stay, so a
    /// listing longer than the limits does not churn. Returns how many went.
    pub fn apply_retention(
        &self,
        source: &str,
        max_items: Option<usize>,
        max_age: Option<chrono::Duration>,
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        if max_items.is_none() && max_age.is_none() {
            return Ok(0);
        }
        self.retrying(|| self.retention_once(source, max_items, max_age, now))
    }

    fn retention_once(
        &self,
        source: &str,
        max_items: Option<usize>,
        max_age: Option<chrono::Duration>,
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let path = self.path_str();
        let sql = |e| StoreError::Sql {
            path: path.clone(),
            context: format!("source {source:?}: cannot apply retention"),
            source: e,
        };
        let conn = self.write();
        let tx = conn.write_tx().map_err(sql)?;
        // Stories of the latest listing were all seen at its time.
        let latest: i64 = tx
            .query_opt(
                "SELECT latest_seen FROM sources WHERE name = ?1",
                params![source],
            )
            .and_then(|r| r.map(|r| r.get(0)).transpose())
            .map_err(sql)?
            .unwrap_or(i64::MIN);
        let mut removed = 0;
        if let Some(max) = max_items {
            let keep = i64::try_from(max).unwrap_or(i64::MAX);
            removed += tx
                .execute(
                    &format!(
                        "DELETE FROM items WHERE last_seen < ?2 AND key IN (\
                           SELECT t.key FROM items t WHERE t.source = ?1 \
                           ORDER BY {} LIMIT ?4 OFFSET ?3)",
                        feed_order("t", "key")
                    ),
                    params![source, latest, keep, i64::MAX],
                )
                .map_err(sql)?;
        }
        if let Some(age) = max_age {
            let cutoff = now - age;
            removed += tx
                .execute(
                    "DELETE FROM items WHERE source = ?1 AND last_seen < ?2 \
                     AND coalesce(at, first_seen / 1000) < ?3",
                    params![source, latest, cutoff.timestamp()],
                )
                .map_err(sql)?;
        }
        if removed > 0 {
            super::lease::notify(&tx).map_err(sql)?;
        }
        tx.commit().map_err(sql)?;
        Ok(usize::try_from(removed).unwrap_or(usize::MAX))
    }
}

/// A copy as stored before this listing.
struct OldCopy {
    item: Item,
    story: i64,
    hash: String,
    seq: i64,
    position: i64,
}

fn old_copy(tx: &Db, source: &str, id: &str, path: &str) -> Result<Option<OldCopy>, StoreError> {
    let sql = |e| StoreError::Sql {
        path: path.to_owned(),
        context: format!("source {source:?}: item {id:?}"),
        source: e,
    };
    let found = tx
        .query_opt(
            &format!(
                "SELECT {COPY_COLUMNS}, c.story, c.content_hash, c.seq FROM copies c \
                 WHERE c.source = ?1 AND c.id = ?2"
            ),
            params![source, id],
        )
        .and_then(|r| {
            r.map(|r| {
                Ok((
                    RawItem::from_row(&r)?,
                    r.get::<i64>(18)?,
                    r.get::<String>(19)?,
                    r.get::<i64>(20)?,
                ))
            })
            .transpose()
        })
        .map_err(sql)?;
    let Some((raw, story, hash, seq)) = found else {
        return Ok(None);
    };
    let stored = raw.decode(path)?;
    Ok(Some(OldCopy {
        position: i64::from(stored.item.position),
        item: stored.item,
        story,
        hash,
        seq,
    }))
}

/// Times to the second: a re-read a few milliseconds apart is no edit.
fn whole_seconds(item: &mut Item) {
    if let Some(Published::DateTime(t)) = &mut item.published {
        *t = t.with_nanosecond(0).unwrap_or(*t);
    }
    if let Some(t) = &mut item.updated {
        *t = t.with_nanosecond(0).unwrap_or(*t);
    }
}

/// A re-read that agrees with what was stored, within what the source can
/// tell, keeps the stored date: "3 hours ago" read an hour later is the same
/// time to the hour, and "yesterday" for a story stored with its time of day
/// is the same day. Neither moves the story or counts as an edit.
fn stabilize(copy: &mut Item, old: &Item) {
    match (&copy.published, &old.published) {
        (Some(Published::DateTime(new)), Some(Published::DateTime(was))) => {
            let slack = i64::from(copy.published_precision.unwrap_or(0));
            if (new.timestamp() - was.timestamp()).abs() <= slack {
                copy.published = old.published;
            }
        }
        (Some(Published::Date(day, tz)), Some(Published::DateTime(was)))
            if was.with_timezone(tz).date_naive() == *day =>
        {
            copy.published = old.published;
        }
        _ => {}
    }
}

/// Must the copies of this listing all take its new number and their new
/// positions? Not when the listing only added stories above the ones already
/// stored, in the order they are stored in: then the stored `(seq, position)`
/// already give listing order, new copies sort first by their newer `seq`,
/// and the common refresh moves no index entry. Otherwise (a story inserted
/// below a stored one, stories reordered) every copy is re-stamped so the
/// store shows the listing's order.
fn needs_restamp(rows: &[(Item, Option<OldCopy>)]) -> bool {
    let mut in_listing_order: Vec<&(Item, Option<OldCopy>)> = rows.iter().collect();
    in_listing_order.sort_by_key(|(item, _)| item.position);
    let mut previous: Option<(i64, i64)> = None;
    for (_, old) in in_listing_order {
        match old {
            // A new story below a stored one.
            None if previous.is_some() => return true,
            None => {}
            Some(o) => {
                if let Some((seq, position)) = previous {
                    let in_order = seq > o.seq || (seq == o.seq && position < o.position);
                    if !in_order {
                        return true;
                    }
                }
                previous = Some((o.seq, o.position));
            }
        }
    }
    false
}

/// The story a new copy belongs to: the one with its canonical url (or a
/// url-less one of the same title and day, which the url now names); for a
/// url-less copy, a story of the same title and day, one with a url first.
fn find_story(tx: &Db, copy: &Item) -> Result<Option<i64>, DbError> {
    let key = title_key(&copy.title, copy.day());
    let first = |sql: &str, param: &str| -> Result<Option<i64>, DbError> {
        tx.query_opt(sql, params![param])?
            .map(|r| r.get(0))
            .transpose()
    };
    if copy.url.is_some() {
        let by_id = first("SELECT key FROM items WHERE id = ?1", &copy.id)?;
        if by_id.is_some() {
            return Ok(by_id);
        }
        return first(
            "SELECT key FROM items WHERE title_key = ?1 AND url IS NULL ORDER BY key LIMIT 1",
            &key,
        );
    }
    first(
        "SELECT key FROM items WHERE title_key = ?1 ORDER BY url IS NULL, id LIMIT 1",
        &key,
    )
}

/// A story row for a copy no story has yet; [`fold`] fills it.
fn new_story(
    tx: &Db,
    source: &str,
    copy: &Item,
    (seq, position): (i64, i64),
    seen_ms: i64,
) -> Result<i64, DbError> {
    tx.query_one(
        "INSERT INTO items (id, source, title, authors, tags, seq, position, first_seen, \
         last_seen, content_hash, title_key) \
         VALUES (?1, ?2, ?3, '[]', '[]', ?4, ?5, ?6, ?6, '', '') RETURNING key",
        params![copy.id, source, copy.title, seq, position, seen_ms],
    )?
    .get(0)
}

/// Store `copy` of `source` under `story`: a new row, or the row of the
/// same id rewritten (its story and first-seen time kept).
fn write_copy(
    tx: &Db,
    source: &str,
    copy: &Item,
    row: &Row,
    story: i64,
    (seq, position): (i64, i64),
    seen_ms: i64,
) -> Result<(), DbError> {
    tx.execute(
        "INSERT INTO copies (source, id, story, url, title, summary, authors, tags, image, \
         published_kind, published, published_zone, updated, seq, position, first_seen, \
         last_seen, content_hash) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?16, ?17) \
         ON CONFLICT (source, id) DO UPDATE SET url = excluded.url, title = excluded.title, \
         summary = excluded.summary, authors = excluded.authors, tags = excluded.tags, \
         image = excluded.image, published_kind = excluded.published_kind, \
         published = excluded.published, published_zone = excluded.published_zone, \
         updated = excluded.updated, seq = excluded.seq, position = excluded.position, \
         last_seen = greatest(copies.last_seen, excluded.last_seen), \
         content_hash = excluded.content_hash",
        params![
            source,
            copy.id,
            story,
            copy.url,
            copy.title,
            copy.summary,
            row.authors,
            row.tags,
            copy.image,
            row.published_kind,
            row.published,
            row.published_zone,
            copy.updated.map(|u| u.to_rfc3339()),
            seq,
            position,
            seen_ms,
            row.hash,
        ],
    )?;
    Ok(())
}
