//! Adapters turn the bytes of one page into items.
//!
//! A *page* is what one fetch returned: a listing page, a text dump or a feed.
//! Each input format first parses into its own types, then maps them to the
//! common [`Item`] model, in page order; merging and sorting are the merger's job.
//! Adapters never do I/O: following a next-page link is the pipeline's job.
//! `article` reads the page one story links to (its dates, authors, image, text).

pub mod article;
pub(crate) mod byline;
mod card;
pub mod decode;
pub mod feed;
pub mod html;
pub mod json;
pub mod jsonld;
pub(crate) mod layout;
pub mod text;

use chrono::{DateTime, NaiveDate, Utc};
use url::Url;

use crate::config::{SourceConfig, SourceKind};
use crate::model::Item;

/// The bytes of one page plus what is known about where they came from.
#[derive(Debug, Clone)]
pub struct Page<'a> {
    pub bytes: &'a [u8],
    /// How errors name this page: a file path or a url.
    pub name: &'a str,
    /// The url the page is (or was saved from): relative links resolve against it.
    pub url: Option<&'a Url>,
    /// The HTTP `Content-Type`, if the page came over HTTP.
    pub content_type: Option<&'a str>,
    /// The day the page was captured, if known from outside the page.
    pub captured: Option<NaiveDate>,
    /// When it was fetched: relative dates ("3 hours ago") resolve against it.
    pub fetched_at: DateTime<Utc>,
}

/// What an adapter read from one page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Listing {
    /// Items in page order.
    pub items: Vec<Item>,
    /// The capture day the page itself states (a site header date), if any.
    pub captured: Option<NaiveDate>,
    /// Absolute url of the next page of the listing, if the page links one.
    pub next_page: Option<String>,
    /// Things that were skipped or not understood, each naming its place.
    pub warnings: Vec<String>,
}

/// A page that could not be read at all. Items of other pages and sources are
/// unaffected; the message names the place and what was expected.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{place}: {message}")]
pub struct AdapterError {
    /// `file:line`, a url, or a source name.
    pub place: String,
    pub message: String,
}

impl AdapterError {
    pub fn new(place: impl Into<String>, message: impl Into<String>) -> Self {
        AdapterError {
            place: place.into(),
            message: message.into(),
        }
    }
}

/// Read one page of `source` with the adapter its kind names. `first_position`
/// is the listing position of the page's first item (non-zero on later pages).
pub fn read(
    source: &SourceConfig,
    page: &Page,
    first_position: u32,
) -> Result<Listing, AdapterError> {
    match source.kind {
        SourceKind::Text => text::read(source, page, first_position),
        SourceKind::Html => html::read(source, page, first_position),
        SourceKind::Feed => feed::read(source, page, first_position),
        SourceKind::Json => json::read(source, page, first_position),
    }
}
