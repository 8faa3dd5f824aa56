//! Renderers turn a [`View`] into bytes: Atom 1.0, RSS 2.0, JSON Feed 1.1, HTML
//! pages and OPML. Each is a pure function of (view, site), so the same items
//! always give byte-identical output: no clocks, no hash-map order.

pub mod atom;
pub mod html;
pub mod json;
pub mod opml;
pub mod rss;
pub mod status;

use std::borrow::Cow;

use chrono::{DateTime, FixedOffset, Utc};
use url::Url;

use crate::model::{Item, Person};
use crate::views::{View, ViewKey};

/// What every renderer needs to know about where the output is published.
#[derive(Debug, Clone)]
pub struct Site {
    /// Absolute, ends with `/`: every link is made from it.
    pub base_url: Url,
    /// The site's title ("byline").
    pub title: String,
}

/// A feed format, named by its file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Atom,
    Rss,
    Json,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Atom, Format::Rss, Format::Json];

    pub fn extension(self) -> &'static str {
        match self {
            Format::Atom => "atom",
            Format::Rss => "rss",
            Format::Json => "json",
        }
    }

    pub fn from_extension(ext: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.extension() == ext)
    }

    /// The media type, with charset, for `Content-Type` and autodiscovery links.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Atom => "application/atom+xml; charset=utf-8",
            Format::Rss => "application/rss+xml; charset=utf-8",
            Format::Json => "application/feed+json; charset=utf-8",
        }
    }

    /// The bare media type, for `type=` attributes.
    pub fn media_type(self) -> &'static str {
        self.content_type().split(';').next().unwrap_or_default()
    }

    pub fn render(self, view: &View, site: &Site) -> String {
        match self {
            Format::Atom => atom::render(view, site),
            Format::Rss => rss::render(view, site),
            Format::Json => json::render(view, site),
        }
    }
}

impl Site {
    /// Absolute url of `path` below the base url.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path.trim_start_matches('/'))
    }

    /// Absolute url of a view's feed in `format`.
    pub fn feed_url(&self, key: &ViewKey, format: Format) -> String {
        self.url(&format!("{}.{}", key.path(), format.extension()))
    }

    /// Absolute url of a view's HTML page (the index for the whole stream).
    pub fn page_url(&self, key: &ViewKey) -> String {
        match key {
            ViewKey::All => self.base_url.to_string(),
            other => self.url(&format!("{}.html", other.path())),
        }
    }

    /// Absolute url of the OPML list of every per-author feed. One name for
    /// the server route and the built file; `.opml` so a static host serves
    /// it as a file to import rather than a page.
    pub fn opml_url(&self) -> String {
        self.url("authors.opml")
    }

    /// What a reader opens when an item is clicked: the story itself, or for an
    /// item without a url (a text dump), its entry on the source's page here.
    pub fn item_link(&self, item: &Item) -> String {
        match &item.url {
            Some(u) => u.clone(),
            None => format!(
                "{}#{}",
                self.page_url(&ViewKey::Source(item.source.clone())),
                item_anchor(item)
            ),
        }
    }
}

/// The HTML anchor of an item on byline's own pages: stable, derived from the id.
pub fn item_anchor(item: &Item) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(item.id.as_bytes());
    let hex: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    format!("item-{hex}")
}

/// The `<updated>` of a feed with no items and no edition time. A renderer
/// has no clock (the same view must always give the same bytes, and no feed
/// may claim to be "new" because it was rebuilt); every view of an edition
/// carries the edition's time, so only a view made by hand falls back to
/// the Unix epoch.
pub(crate) const EMPTY_FEED_UPDATED: DateTime<Utc> = DateTime::UNIX_EPOCH;

/// When an item last changed, as far as its source said: its `updated` time,
/// or else the instant it was published.
pub(crate) fn item_time(item: &Item) -> Option<DateTime<FixedOffset>> {
    item.updated
        .or_else(|| item.published.as_ref().map(|p| p.instant()))
}

/// The newest item time in the view, `None` when no item carries a date.
pub(crate) fn newest_time(view: &View) -> Option<DateTime<FixedOffset>> {
    view.items.iter().filter_map(|i| item_time(i)).max()
}

/// A feed's `updated`: the newest item time; for an empty feed, the
/// edition's time ([`View::as_of`]), or [`EMPTY_FEED_UPDATED`] for a view
/// made without one.
pub(crate) fn feed_updated(view: &View) -> DateTime<FixedOffset> {
    newest_time(view)
        .or(view.as_of)
        .unwrap_or(EMPTY_FEED_UPDATED.fixed_offset())
}

/// The media type of an image url, told by its file extension; `None` when
/// the extension says nothing. Feeds that must state a type for an enclosure
/// leave the image out rather than guess.
pub(crate) fn image_media_type(url: &str) -> Option<&'static str> {
    let path = Url::parse(url).ok()?.path().to_ascii_lowercase();
    let ext = path.rsplit_once('.')?.1;
    Some(match ext {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "svg" => "image/svg+xml",
        _ => return None,
    })
}

/// Whom a feed credits for an item: its authors, or for an unsigned item the
/// site itself. RFC 4287 requires an author for every entry (inherited from
/// the feed if need be), and readers such as feedparser only look at the
/// entry, so every format names the site on the item rather than relying on
/// feed-level inheritance; HTML pages show no byline instead.
pub(crate) fn credited<'a>(item: &'a Item, site: &Site) -> Cow<'a, [Person]> {
    if item.authors.is_empty() {
        let mut person = Person::new(&site.title);
        person.url = Some(site.base_url.to_string());
        Cow::Owned(vec![person])
    } else {
        Cow::Borrowed(&item.authors)
    }
}

/// One sentence about what the view holds, for feed descriptions and pages.
pub(crate) fn description(view: &View, site: &Site) -> String {
    match &view.key {
        ViewKey::All => format!("Every story {} follows", site.title),
        ViewKey::Author(_) => format!("Stories by {}", view.title),
        ViewKey::Tag(_) => format!("Stories tagged {}", view.title),
        ViewKey::Source(_) => format!("Stories from {}", view.title),
        ViewKey::Custom(_) => view.title.clone(),
    }
}

/// `s` without the characters XML 1.0 cannot carry, so every renderer can
/// hand any text to its writer and a reader gets the same text back.
///
/// Dropped: the C0 controls except tab, newline and carriage return, and the
/// non-characters U+FFFE and U+FFFF (Rust strings hold no lone surrogates).
/// Carriage returns become newlines (`\r\n` one newline): an XML parser
/// normalizes line ends that way anyway, so doing it here means every format
/// (JSON and HTML included) shows the reader the same text.
pub(crate) fn xml_safe(s: &str) -> Cow<'_, str> {
    if s.chars().all(|c| c != '\r' && is_xml_char(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() != Some(&'\n') => out.push('\n'),
            '\r' => {}
            c if is_xml_char(c) => out.push(c),
            _ => {}
        }
    }
    Cow::Owned(out)
}

/// The XML 1.0 `Char` production.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Text for an HTML or XML element body: [`xml_safe`], with `&`, `<` and `>`
/// escaped.
pub(crate) fn escape_text(s: &str) -> String {
    escape(s, false)
}

/// Text for a quoted HTML or XML attribute value: [`xml_safe`], with `&`,
/// `<`, `>`, both quotes, and tab and newline escaped (an XML parser would
/// otherwise fold them into spaces).
pub(crate) fn escape_attr(s: &str) -> String {
    escape(s, true)
}

fn escape(s: &str, attr: bool) -> String {
    let safe = xml_safe(s);
    let mut out = String::with_capacity(safe.len() + safe.len() / 8);
    for c in safe.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            '\'' if attr => out.push_str("&#39;"),
            '\t' if attr => out.push_str("&#9;"),
            '\n' if attr => out.push_str("&#10;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_safe_drops_what_xml_forbids_and_folds_carriage_returns() {
        assert!(matches!(xml_safe("plain & <ok>\ttab\n"), Cow::Borrowed(_)));
        assert_eq!(
            xml_safe("a\u{0}b\u{1}c\u{b}d\u{1f}e\u{fffe}f\u{ffff}g"),
            "abcdefg"
        );
        assert_eq!(xml_safe("one\r\ntwo\rthree\n"), "one\ntwo\nthree\n");
        assert_eq!(
            xml_safe("\u{7f}\u{fffd}\u{10ffff}"),
            "\u{7f}\u{fffd}\u{10ffff}"
        );
    }

    #[test]
    fn escapes_markup_and_attribute_whitespace() {
        assert_eq!(
            escape_text("Kim's \"plan\" & <b>]]>\u{1}\n"),
            "Kim's \"plan\" &amp; &lt;b&gt;]]&gt;\n"
        );
        assert_eq!(escape_attr("a\"b'c\td\ne"), "a&quot;b&#39;c&#9;d&#10;e");
    }
}
