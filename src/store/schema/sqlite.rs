//! SQLite's migrations: the store's tables as SQLite files have grown them,
//! one function per version. The version is SQLite's `PRAGMA user_version`.

use rusqlite::Connection as Transaction;

/// Migration `n` (0-based) takes the schema from version `n` to `n + 1`.
pub(super) const MIGRATIONS: &[fn(&Transaction) -> rusqlite::Result<()>] = &[v1, v2, v3, v4, v5];

/// Version 1: items, their author and tag keys, sources and fetch state.
///
/// Feed order is `day DESC, seq DESC, position, at DESC, key`: newest day
/// first; within a day, the items of a newer listing first, then listing
/// order, then time. The join tables repeat those columns so a per-author or
/// per-tag feed of N items reads N index entries, whatever the store's size.
fn v1(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(
        "
        CREATE TABLE items (
            key            INTEGER PRIMARY KEY,
            id             TEXT NOT NULL UNIQUE,   -- the model's stable id
            source         TEXT NOT NULL,          -- the source that stored it first
            also_in        TEXT NOT NULL DEFAULT '[]', -- JSON: other sources that carried it
            url            TEXT,
            title          TEXT NOT NULL,
            summary        TEXT,
            authors        TEXT NOT NULL,          -- JSON [{name, slug, url}], byline order
            tags           TEXT NOT NULL,          -- JSON [{name, slug}]
            image          TEXT,
            published_kind TEXT CHECK (published_kind IN ('date', 'datetime')),
            published      TEXT,                   -- YYYY-MM-DD or RFC 3339 as given
            published_zone TEXT,                   -- IANA zone of a date
            updated        TEXT,                   -- RFC 3339
            day            INTEGER,                -- published day, days from CE; NULL undated
            seq            INTEGER NOT NULL,       -- the listing that placed it
            position       INTEGER NOT NULL,       -- its place in that listing
            at             INTEGER,                -- published instant, unix seconds
            stable_instant TEXT,                   -- RFC 3339, fixed at first sight
            first_seen     INTEGER NOT NULL,       -- unix milliseconds
            last_seen      INTEGER NOT NULL,       -- unix milliseconds
            content_hash   TEXT NOT NULL
        );
        CREATE INDEX items_feed ON items (day DESC, seq DESC, position, at DESC, key);
        CREATE INDEX items_source_feed ON items (source, day DESC, seq DESC, position, at DESC, key);

        CREATE TABLE item_authors (
            item     INTEGER NOT NULL REFERENCES items (key) ON DELETE CASCADE,
            slug     TEXT NOT NULL,
            day      INTEGER,
            seq      INTEGER NOT NULL,
            position INTEGER NOT NULL,
            at       INTEGER,
            PRIMARY KEY (item, slug)
        ) WITHOUT ROWID;
        CREATE INDEX item_authors_feed ON item_authors (slug, day DESC, seq DESC, position, at DESC, item);

        CREATE TABLE item_tags (
            item     INTEGER NOT NULL REFERENCES items (key) ON DELETE CASCADE,
            slug     TEXT NOT NULL,
            day      INTEGER,
            seq      INTEGER NOT NULL,
            position INTEGER NOT NULL,
            at       INTEGER,
            PRIMARY KEY (item, slug)
        ) WITHOUT ROWID;
        CREATE INDEX item_tags_feed ON item_tags (slug, day DESC, seq DESC, position, at DESC, item);

        -- Every source that carried an item (its own and also_in): a source's
        -- feed lists what was read from it, as in a build.
        CREATE TABLE item_sources (
            item     INTEGER NOT NULL REFERENCES items (key) ON DELETE CASCADE,
            slug     TEXT NOT NULL,                -- the source name
            day      INTEGER,
            seq      INTEGER NOT NULL,
            position INTEGER NOT NULL,
            at       INTEGER,
            PRIMARY KEY (item, slug)
        ) WITHOUT ROWID;
        CREATE INDEX item_sources_feed ON item_sources (slug, day DESC, seq DESC, position, at DESC, item);

        -- One row per source that has stored a listing: the items of the
        -- newest (last seen at its time) are never trimmed by retention.
        CREATE TABLE sources (
            name        TEXT PRIMARY KEY,
            latest_seen INTEGER NOT NULL       -- unix milliseconds
        ) WITHOUT ROWID;

        CREATE TABLE counters (
            name  TEXT PRIMARY KEY,
            value INTEGER NOT NULL
        ) WITHOUT ROWID;
        INSERT INTO counters (name, value) VALUES ('seq', 0);

        CREATE TABLE fetch_state (
            source               TEXT NOT NULL,
            url                  TEXT NOT NULL,
            etag                 TEXT,
            last_modified        TEXT,
            last_success         INTEGER,          -- unix milliseconds
            last_error           TEXT,
            last_error_at        INTEGER,          -- unix milliseconds
            consecutive_failures INTEGER NOT NULL DEFAULT 0,
            warnings             TEXT,             -- of the last read, one per line
            PRIMARY KEY (source, url)
        ) WITHOUT ROWID;
        ",
    )
}

/// Version 2: the store keeps *copies* (each source's version of a story) as
/// well as the merged story, so every source's read folds into the story with
/// the merger's one rule, whatever the order sources are read in.
///
/// `items` stay the merged stories (what feeds show); `copies` reference them.
/// A v1 item becomes one copy per source that carried it. Listings are
/// numbered per source (`sources.listings`), so the order of two sources'
/// stories never depends on which was refreshed first. `items.title_key`
/// finds the story a url-less copy belongs to.
fn v2(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(
        "
        CREATE TABLE copies (
            source         TEXT NOT NULL,
            id             TEXT NOT NULL,          -- the copy's id (canonical url or title hash)
            story          INTEGER NOT NULL REFERENCES items (key) ON DELETE CASCADE,
            url            TEXT,
            title          TEXT NOT NULL,
            summary        TEXT,
            authors        TEXT NOT NULL,
            tags           TEXT NOT NULL,
            image          TEXT,
            published_kind TEXT CHECK (published_kind IN ('date', 'datetime')),
            published      TEXT,
            published_zone TEXT,
            updated        TEXT,
            seq            INTEGER NOT NULL,       -- the source's listing that placed it
            position       INTEGER NOT NULL,
            first_seen     INTEGER NOT NULL,
            last_seen      INTEGER NOT NULL,
            content_hash   TEXT NOT NULL,
            PRIMARY KEY (source, id)
        ) WITHOUT ROWID;
        CREATE INDEX copies_story ON copies (story);

        ALTER TABLE items ADD COLUMN title_key TEXT NOT NULL DEFAULT '';
        ALTER TABLE sources ADD COLUMN listings INTEGER NOT NULL DEFAULT 0;
        INSERT INTO counters (name, value)
            VALUES ('created', CAST(strftime('%s', 'now') AS INTEGER) * 1000);

        INSERT INTO copies (source, id, story, url, title, summary, authors, tags, image,
                            published_kind, published, published_zone, updated, seq, position,
                            first_seen, last_seen, content_hash)
            SELECT source, id, key, url, title, summary, authors, tags, image, published_kind,
                   published, published_zone, updated, seq, position, first_seen, last_seen,
                   content_hash
            FROM items;
        INSERT OR IGNORE INTO copies (source, id, story, url, title, summary, authors, tags, image,
                            published_kind, published, published_zone, updated, seq, position,
                            first_seen, last_seen, content_hash)
            SELECT j.value, i.id, i.key, i.url, i.title, i.summary, i.authors, i.tags, i.image,
                   i.published_kind, i.published, i.published_zone, i.updated, i.seq, i.position,
                   i.first_seen, i.last_seen, i.content_hash
            FROM items i, json_each(i.also_in) j;
        UPDATE sources SET listings = (SELECT coalesce(max(seq), 0) FROM items);
        ",
    )?;
    // The title key is the model's, computed here rather than in SQL.
    let keys: Vec<(i64, String)> = {
        let mut stmt = tx.prepare("SELECT key, title, day FROM items")?;
        let rows = stmt.query_map([], |r| {
            let day: Option<i64> = r.get(2)?;
            let day = day
                .and_then(|d| i32::try_from(d).ok())
                .and_then(chrono::NaiveDate::from_num_days_from_ce_opt);
            Ok((
                r.get(0)?,
                crate::model::title_key(&r.get::<_, String>(1)?, day),
            ))
        })?;
        rows.collect::<Result<_, _>>()?
    };
    let mut update = tx.prepare("UPDATE items SET title_key = ?2 WHERE key = ?1")?;
    for (key, title_key) in keys {
        update.execute(rusqlite::params![key, title_key])?;
    }
    tx.execute_batch("CREATE INDEX items_title_key ON items (title_key);")
}

/// Version 3: the history of every read (cards and how many items filled
/// each field, for drift alarms), the alarms that hold now, and every alarm
/// raised or cleared (byline's own status feed), so they survive restarts.
fn v3(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(
        "
        CREATE TABLE reads (
            id         INTEGER PRIMARY KEY,
            source     TEXT NOT NULL,
            at         INTEGER NOT NULL,           -- unix milliseconds
            cards      INTEGER NOT NULL,
            fields     TEXT NOT NULL,              -- JSON: filled count per drift::FIELDS
            pagination INTEGER NOT NULL            -- 1: a next page was found
        );
        CREATE INDEX reads_source ON reads (source, id);

        CREATE TABLE alarms (
            source  TEXT NOT NULL,
            kind    TEXT NOT NULL,
            message TEXT NOT NULL,
            since   INTEGER NOT NULL,              -- unix milliseconds
            PRIMARY KEY (source, kind)
        ) WITHOUT ROWID;

        CREATE TABLE alarm_events (
            id      INTEGER PRIMARY KEY,
            source  TEXT NOT NULL,
            kind    TEXT NOT NULL,
            event   TEXT NOT NULL CHECK (event IN ('raised', 'cleared')),
            message TEXT NOT NULL,
            at      INTEGER NOT NULL               -- unix milliseconds
        );
        ",
    )
}

/// Version 4: article pages. `articles` holds, per story with a url, what
/// its own page gave (dates with their origin, authors, image, content) and
/// the state of fetching it: `due` until read (retried after failures, each
/// wait twice the last), `read`, or `failed` once its attempts are spent. A
/// story's `content_html` is its full text, folded in from its article.
fn v4(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(
        "
        ALTER TABLE items ADD COLUMN content_html TEXT;
        CREATE TABLE articles (
            story            INTEGER PRIMARY KEY REFERENCES items (key) ON DELETE CASCADE,
            source           TEXT NOT NULL,        -- the source whose listing queued it
            url              TEXT NOT NULL,
            state            TEXT NOT NULL CHECK (state IN ('due', 'read', 'failed')),
            attempts         INTEGER NOT NULL DEFAULT 0,
            last_error       TEXT,
            next_try         INTEGER NOT NULL,     -- unix milliseconds
            read_at          INTEGER,              -- unix milliseconds
            published_kind   TEXT CHECK (published_kind IN ('date', 'datetime')),
            published        TEXT,
            published_zone   TEXT,
            published_origin TEXT,                 -- json-ld, meta, time, text
            updated          TEXT,                 -- RFC 3339
            updated_origin   TEXT,
            authors          TEXT NOT NULL DEFAULT '[]', -- JSON list of names, byline order
            image            TEXT,
            content_html     TEXT,
            content_text     TEXT
        );
        CREATE INDEX articles_due ON articles (source, state, attempts, next_try);
        -- Derived stable instants are kept distinct (see store::fold).
        CREATE INDEX items_stable_instant ON items (stable_instant);
        ",
    )
}

/// Version 5: leases, so that of several byline processes sharing a store
/// exactly one refreshes a source each interval (see `store::lease`).
fn v5(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(
        "
        CREATE TABLE leases (
            source  TEXT PRIMARY KEY,
            holder  TEXT,                          -- the process refreshing it, NULL when free
            expires INTEGER NOT NULL DEFAULT 0,    -- unix milliseconds: the hold lapses
            due     INTEGER NOT NULL DEFAULT 0     -- unix milliseconds: the next refresh
        ) WITHOUT ROWID;
        ",
    )
}
