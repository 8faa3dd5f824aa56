//! The feed adapter: a *feed* is a page that already is a syndication
//! document — RSS 0.9x, 1.0 (RDF) or 2.0, Atom 1.0, or JSON Feed 1.0/1.1 —
//! read as a source like any listing page.
//!
//! The format is detected from the content, not from the url or the HTTP type,
//! which are often wrong. Each format first parses into its own types (the
//! `rss` and `atom_syndication` crates, serde types for JSON Feed); its module
//! then maps them to an [`Entry`], and one place here turns entries into
//! [`Item`]s, so every format gets the same fallbacks and the same rules.
//! XML feeds pass a strict well-formedness check first (see [`xml`]): a broken
//! feed is an error naming the page and line, never a half-read listing.

mod atom;
mod dates;
mod jsonfeed;
pub(crate) mod markup;
mod rss;
mod xml;

use chrono::{DateTime, FixedOffset};
use url::Url;

use super::{AdapterError, Listing, Page};
use crate::config::SourceConfig;
use crate::model::{Item, Person, Published, Tag};

/// Titles made up from an item's text (for feeds whose items have none) stay short.
const DERIVED_TITLE_MAX: usize = 80;
/// A summary taken from an item's full content is cut to this many characters.
const CONTENT_SUMMARY_MAX: usize = 600;

const EMPTY: &str = "empty document: expected an RSS, Atom or JSON feed";

/// Read one feed document into items, in feed order.
pub fn read(
    source: &SourceConfig,
    page: &Page,
    first_position: u32,
) -> Result<Listing, AdapterError> {
    let mut sink = Sink {
        source,
        page,
        position: first_position,
        listing: Listing::default(),
    };
    let bytes = page
        .bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(page.bytes);
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    match first {
        None => return Err(sink.error(None, EMPTY)),
        Some(b'{' | b'[') => jsonfeed::read(bytes, &mut sink)?,
        Some(_) => read_xml(&mut sink)?,
    }
    Ok(sink.listing)
}

/// An XML feed: decode, check, then hand it to the crate for its root element.
fn read_xml(sink: &mut Sink) -> Result<(), AdapterError> {
    let decoded = xml::decode(sink.page.bytes, sink.page.content_type);
    let text = decoded.text.as_ref();
    if let Some(encoding) = decoded.replaced {
        sink.listing.warnings.push(format!(
            "{}: some bytes are not valid {encoding} and were replaced with U+FFFD",
            sink.page.name
        ));
    }
    let trimmed = text.trim_start_matches(['\u{FEFF}', ' ', '\t', '\r', '\n']);
    if trimmed.is_empty() {
        return Err(sink.error(None, EMPTY));
    }
    if xml::looks_like_html(trimmed) {
        return Err(sink.error(
            None,
            "this is an HTML page, not a feed (kind = \"feed\" reads RSS, Atom or JSON Feed; \
             a listing page needs kind = \"html\")",
        ));
    }
    if trimmed.starts_with(['{', '[']) {
        // JSON behind a UTF-16 byte order mark: now that it is UTF-8, read it.
        return jsonfeed::read(trimmed.as_bytes(), sink);
    }
    if !trimmed.starts_with('<') {
        let start: String = trimmed.chars().take(20).collect();
        return Err(sink.error(
            None,
            format!("not a feed: expected '<' (RSS, Atom) or '{{' (JSON Feed), found {start:?}"),
        ));
    }
    let outline = xml::check(text).map_err(|e| {
        let (line, column) = xml::line_column(text, e.offset);
        sink.error(
            Some((line, column)),
            format!("not well-formed XML: {}", e.message),
        )
    })?;
    match outline.root_local() {
        "rss" | "RDF" => rss::read(text, sink),
        "feed" => atom::read(text, &outline, sink),
        other => Err(sink.error(
            None,
            format!(
                "root element <{other}> is not a feed (expected <rss>, <rdf:RDF> or Atom's <feed>)"
            ),
        )),
    }
}

/// One entry of any format, mapped to plain values: text already stripped of
/// markup, urls already absolute.
#[derive(Debug, Default)]
pub(crate) struct Entry {
    pub title: Option<String>,
    pub url: Option<String>,
    pub summary: Option<String>,
    /// The full content as text, used for a summary when there is none.
    pub content: Option<String>,
    pub authors: Vec<String>,
    pub published: Option<Published>,
    pub updated: Option<DateTime<FixedOffset>>,
    pub tags: Vec<String>,
    pub image: Option<String>,
}

/// Collects items and warnings for one page, and names the page in errors.
pub(crate) struct Sink<'a> {
    source: &'a SourceConfig,
    page: &'a Page<'a>,
    position: u32,
    listing: Listing,
}

impl Sink<'_> {
    /// The url relative links resolve against when the feed gives no better base.
    pub fn page_url(&self) -> Option<&Url> {
        self.page.url
    }

    /// An error for this page: `page[:line:column]: feed source "x": message`.
    pub fn error(&self, at: Option<(usize, usize)>, message: impl AsRef<str>) -> AdapterError {
        let place = match at {
            Some((line, column)) => format!("{}:{line}:{column}", self.page.name),
            None => self.page.name.to_owned(),
        };
        AdapterError::new(
            place,
            format!("feed source {:?}: {}", self.source.name, message.as_ref()),
        )
    }

    /// The next page of a paged feed (JSON Feed `next_url`, Atom `rel="next"`).
    pub fn set_next_page(&mut self, url: Option<String>) {
        self.listing.next_page = url;
    }

    /// A warning about entry `number` (1-based, in feed order).
    pub fn warn(&mut self, number: usize, message: impl AsRef<str>) {
        self.listing.warnings.push(format!(
            "{}: source {:?}: entry {number}: {}",
            self.page.name,
            self.source.name,
            message.as_ref()
        ));
    }

    /// Parse a date with `parse`, warning (never guessing) when it cannot be read.
    pub fn date(
        &mut self,
        number: usize,
        what: &str,
        text: Option<&str>,
        parse: fn(&str, chrono_tz::Tz) -> Option<Published>,
    ) -> Option<Published> {
        let text = text.map(str::trim).filter(|t| !t.is_empty())?;
        let parsed = parse(text, self.source.timezone);
        if parsed.is_none() {
            self.warn(number, format!("unreadable {what} {text:?}: left undated"));
        }
        parsed
    }

    /// Turn entry `number` into the next item, or skip it with a warning when
    /// it has nothing to show (no title, link or text).
    pub fn push(&mut self, number: usize, entry: Entry) {
        let summary = non_empty(entry.summary).or_else(|| {
            non_empty(entry.content).map(|c| markup::truncate(&c, CONTENT_SUMMARY_MAX))
        });
        let title = match non_empty(entry.title) {
            Some(t) => t,
            None => match summary
                .as_deref()
                .map(|s| markup::truncate(s, DERIVED_TITLE_MAX))
            {
                Some(t) => t,
                None => match entry.url.clone() {
                    Some(u) => u,
                    None => {
                        self.warn(number, "no title, link or text: skipped");
                        return;
                    }
                },
            },
        };
        let mut item = Item::new(&self.source.name, self.position, title, entry.url);
        item.summary = summary;
        for name in entry.authors {
            let person = Person::new(&name);
            if !person.name.is_empty() && !item.authors.iter().any(|p| p.slug == person.slug) {
                item.authors.push(person);
            }
        }
        for name in entry.tags {
            let tag = Tag::new(&name);
            if !tag.name.is_empty() && !item.tags.iter().any(|t| t.slug == tag.slug) {
                item.tags.push(tag);
            }
        }
        item.published = entry.published;
        item.updated = entry.updated;
        item.image = entry.image;
        item.refresh_id();
        self.listing.items.push(item);
        self.position = self.position.saturating_add(1);
    }
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.trim().is_empty())
}

/// Resolve `href` against `base` (or take it as absolute without one).
pub(crate) fn resolve(base: Option<&Url>, href: Option<&str>) -> Option<String> {
    crate::urls::resolve(base, href?)
}

/// `base` joined onto `parent` (an `xml:base` inside another, a channel link
/// relative to the page), or `parent` when `base` is absent or unusable.
pub(crate) fn join_base(parent: Option<&Url>, base: Option<&str>) -> Option<Url> {
    match base.map(str::trim).filter(|b| !b.is_empty()) {
        Some(b) => match parent {
            Some(p) => p.join(b).ok().or_else(|| Some(p.clone())),
            None => Url::parse(b).ok(),
        },
        None => parent.cloned(),
    }
}
