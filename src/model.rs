//! The item model: what every adapter produces and every later stage consumes.
//!
//! An *item* is one story as a listing page or a feed shows it: a title, maybe a
//! link and a summary, its authors, when it was published and how it is labelled.
//! Everything here is plain data plus the few pure policies that must be the same
//! everywhere (slugs, stable ids, what a date means); no I/O.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// One story from one source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    /// Stable id: the canonical url, or `urn:byline:<hash>` of the normalized
    /// title and day for items without a url. See [`item_id`].
    pub id: String,
    /// Absolute link to the story, as the source gave it (the merger cleans it).
    pub url: Option<String>,
    pub title: String,
    pub summary: Option<String>,
    /// Authors in byline order.
    pub authors: Vec<Person>,
    pub published: Option<Published>,
    /// When the source says the story last changed (feeds carry this; pages rarely do).
    pub updated: Option<DateTime<FixedOffset>>,
    pub tags: Vec<Tag>,
    /// Absolute url of the story's picture.
    pub image: Option<String>,
    /// The story's full text as sanitized HTML with absolute urls (from its
    /// article page), for `<content>` / `content:encoded` / `content_html`.
    pub content: Option<String>,
    /// Name of the `feeds.toml` source the item came from (for a merged story,
    /// the source of its primary copy).
    pub source: String,
    /// Other sources that also carried the story, sorted; filled by the merger
    /// so each source's feed lists everything read from it.
    pub also_in: Vec<String>,
    /// Position in its listing, counted across pages (0 = top). Orders items
    /// of the same day, since a listing is newest first but dates are coarse.
    pub position: u32,
    /// How many seconds `published` may be off, for a relative date ("3
    /// hours ago" is good to the hour): a re-read within it is the same time.
    #[serde(skip)]
    pub published_precision: Option<u32>,
}

impl Item {
    /// A new item with the fields every adapter knows; the id is derived from
    /// them, so call [`Item::refresh_id`] after changing url, title or date.
    pub fn new(source: &str, position: u32, title: String, url: Option<String>) -> Self {
        let mut item = Item {
            id: String::new(),
            url,
            title,
            summary: None,
            authors: Vec::new(),
            published: None,
            updated: None,
            tags: Vec::new(),
            image: None,
            content: None,
            source: source.to_owned(),
            also_in: Vec::new(),
            position,
            published_precision: None,
        };
        item.refresh_id();
        item
    }

    /// Recompute the id from the default canonical url, or from title and day.
    pub fn refresh_id(&mut self) {
        let canonical = self
            .url
            .as_deref()
            .and_then(|u| crate::urls::canonicalize(u, &crate::urls::Canonicalizer::default()));
        self.id = item_id(canonical.as_deref(), &self.title, self.day());
    }

    /// The calendar day the item was published on, in the zone it is meant in.
    pub fn day(&self) -> Option<NaiveDate> {
        self.published.as_ref().map(Published::day)
    }
}

/// The stable id of an item: its canonical url when it has one, otherwise a
/// hash of its normalized title and publication day. Never position or fetch
/// time, so the same story read again keeps its id.
pub fn item_id(canonical_url: Option<&str>, title: &str, day: Option<NaiveDate>) -> String {
    match canonical_url {
        Some(u) => u.to_owned(),
        None => {
            let key = title_key(title, day);
            let digest = Sha256::digest(key.as_bytes());
            let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
            format!("urn:byline:{hex}")
        }
    }
}

/// The key two url-less copies of one story share: lowercased title words
/// (punctuation and quote styles dropped) and the day.
pub fn title_key(title: &str, day: Option<NaiveDate>) -> String {
    let mut key = normalize_title(title);
    key.push('|');
    if let Some(d) = day {
        key.push_str(&d.to_string());
    }
    key
}

/// Lowercase, letters and digits only, single spaces: "Kim’s ‘plan’" and
/// "kim's \"plan\"" compare equal.
pub fn normalize_title(title: &str) -> String {
    let mut out = String::with_capacity(title.len());
    let mut pending_space = false;
    for c in title.chars() {
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.extend(c.to_lowercase());
        } else if c.is_whitespace() || c == '-' || c == '/' {
            pending_space = true;
        }
        // Other punctuation (quotes, apostrophes, colons) is dropped in place.
    }
    out
}

/// When a story was published, as precisely as its source said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    /// A full date-time with its offset, kept as given.
    DateTime(DateTime<FixedOffset>),
    /// Only a calendar date, meant in the source's time zone.
    Date(NaiveDate, Tz),
}

impl Published {
    /// The calendar day, in the offset or zone the source meant.
    pub fn day(&self) -> NaiveDate {
        match self {
            Published::DateTime(dt) => dt.date_naive(),
            Published::Date(d, _) => *d,
        }
    }

    /// A full instant for formats that need one. A bare date becomes the start
    /// of that day in its zone: stable across builds, never "now".
    pub fn instant(&self) -> DateTime<FixedOffset> {
        match self {
            Published::DateTime(dt) => *dt,
            Published::Date(d, tz) => {
                let midnight = d.and_hms_opt(0, 0, 0).unwrap_or_default();
                match tz.from_local_datetime(&midnight).earliest() {
                    Some(t) => t.fixed_offset(),
                    // A zone that skips midnight on this day: fall back to UTC.
                    None => Utc.from_utc_datetime(&midnight).fixed_offset(),
                }
            }
        }
    }

    /// The value as the fixtures write it: RFC 3339 for a date-time, `YYYY-MM-DD` for a date.
    pub fn to_display(&self) -> String {
        match self {
            Published::DateTime(dt) => dt.to_rfc3339(),
            Published::Date(d, _) => d.to_string(),
        }
    }
}

impl Serialize for Published {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_display())
    }
}

/// An author.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    /// Display name as the byline writes it.
    pub name: String,
    /// Url-safe key, one per person: the author's feed lives at `/authors/{slug}`.
    pub slug: String,
    /// Profile page, where a source or the config gives one.
    pub url: Option<String>,
}

impl Person {
    pub fn new(name: &str) -> Self {
        let name = collapse_whitespace(name);
        Person {
            slug: slugify(&name),
            name,
            url: None,
        }
    }
}

/// A label or category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tag {
    /// Display name as the page shows it ("NK PRO").
    pub name: String,
    /// Url-safe key ("nk-pro").
    pub slug: String,
}

impl Tag {
    pub fn new(name: &str) -> Self {
        let name = collapse_whitespace(name);
        Tag {
            slug: slugify(&name),
            name,
        }
    }
}

/// A url-safe slug: "Jeongmin Kim" -> `jeongmin-kim`, "Chad O'Carroll" ->
/// `chad-ocarroll`, "José Müller" -> `jose-muller`. Other scripts are
/// transliterated so the slug stays readable ("김정민" -> `gimjeongmin`); a name
/// with no letters at all gets a short hash so it still has a key.
pub fn slugify(name: &str) -> String {
    let ascii = deunicode::deunicode(name);
    let mut slug = String::with_capacity(ascii.len());
    let mut pending_dash = false;
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            if pending_dash && !slug.is_empty() {
                slug.push('-');
            }
            pending_dash = false;
            slug.push(c.to_ascii_lowercase());
        } else if matches!(c, '\'' | '`' | '.') {
            // "O'Carroll" is one word; "J.R." likewise.
        } else {
            pending_dash = true;
        }
    }
    if slug.is_empty() {
        let digest = Sha256::digest(name.trim().as_bytes());
        slug = format!(
            "x-{}",
            digest[..4]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
    }
    slug
}

/// Trim and fold every run of white space (Unicode's, so no-break spaces
/// too) into one space: the one implementation every adapter and rule uses.
pub fn collapse_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    // Runs of non-space text are copied whole: most text is a few long runs.
    let mut run_start = 0;
    for (i, c) in s.char_indices() {
        if c.is_whitespace() {
            if run_start < i {
                if space && !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(s.get(run_start..i).unwrap_or_default());
            }
            space = true;
            run_start = i + c.len_utf8();
        }
    }
    if run_start < s.len() {
        if space && !out.is_empty() {
            out.push(' ');
        }
        out.push_str(s.get(run_start..).unwrap_or_default());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slugify("Jeongmin Kim"), "jeongmin-kim");
        assert_eq!(slugify("Chad O'Carroll"), "chad-ocarroll");
        assert_eq!(slugify("Chad O’Carroll"), "chad-ocarroll");
        assert_eq!(slugify("Won-Gi Jung"), "won-gi-jung");
        assert_eq!(slugify("NK PRO"), "nk-pro");
        assert_eq!(slugify("José Müller"), "jose-muller");
        let korean = slugify("김정민");
        assert!(
            korean
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        );
        assert!(korean.len() >= 6, "{korean}");
        assert!(slugify("★").starts_with("x-"));
    }

    #[test]
    fn ids_are_stable_and_depend_on_url_or_title_and_day() {
        let d = NaiveDate::from_ymd_opt(2021, 3, 2);
        let a = item_id(None, "North Korea is a ‘serious threat’", d);
        let b = item_id(None, "north korea is a 'serious threat'", d);
        assert_eq!(a, b);
        assert!(a.starts_with("urn:byline:"));
        assert_ne!(a, item_id(None, "North Korea is a serious threat", None));
        assert_eq!(
            item_id(Some("https://x.example/a"), "t", d),
            "https://x.example/a"
        );
    }

    #[test]
    fn date_only_is_midnight_in_its_zone() {
        let p = Published::Date(
            NaiveDate::from_ymd_opt(2022, 5, 20).unwrap(),
            chrono_tz::Asia::Seoul,
        );
        assert_eq!(p.instant().to_rfc3339(), "2022-05-20T00:00:00+09:00");
        assert_eq!(p.to_display(), "2022-05-20");
    }
}
