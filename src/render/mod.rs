//! Renderers turn a [`View`] into bytes: Atom 1.0, RSS 2.0, JSON Feed 1.1, HTML
//! pages and OPML. Each is a pure function of (view, site), so the same items
//! always give byte-identical output: no clocks, no hash-map order.

pub mod atom;
pub mod html;
pub mod json;
pub mod opml;
pub mod rss;

use url::Url;

use crate::model::Item;
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
