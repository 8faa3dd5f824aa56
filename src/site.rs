//! A *site* is every document byline publishes for one edition (see
//! [`crate::views`]): the feeds of every view in every format, their HTML
//! pages, the index and the OPML list, and the status feed of the sources'
//! alarms. `byline build` writes it to a folder
//! (see [`crate::output`]); `byline serve` keeps it in memory. Both use the
//! same relative paths and the same bytes, so a static host and the server
//! look the same to a reader.

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::model::Item;
use crate::render::{self, Format, Site};
use crate::store::AlarmEvent;
use crate::views::{Edition, View, ViewKey};

/// One published document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// Path below the base url, e.g. `authors/jeongmin-kim.atom`.
    pub path: String,
    /// Media type with charset, for `Content-Type`.
    pub content_type: &'static str,
    pub body: String,
    /// The newest time of any item the document shows (published or
    /// updated), for `Last-Modified`; `None` when no item carries a date.
    pub last_modified: Option<DateTime<Utc>>,
}

/// The newest publication or update time among `items`. Derived from the items
/// only, never the clock, so an unchanged feed keeps its `Last-Modified`.
pub fn newest<'a>(items: impl IntoIterator<Item = &'a Item>) -> Option<DateTime<Utc>> {
    items
        .into_iter()
        .flat_map(|i| {
            let published = i.published.map(|p| p.instant().with_timezone(&Utc));
            let updated = i.updated.map(|u| u.with_timezone(&Utc));
            [published, updated]
        })
        .flatten()
        .max()
}

/// The render context a config implies.
pub fn site(config: &Config) -> Site {
    Site {
        base_url: config.base_url.clone(),
        title: config.title.clone(),
    }
}

/// The status feed (`status.atom`, `.rss`, `.json`) of `events` (newest
/// first): byline's own feed of alarms raised and cleared. Dated by the
/// newest event, else by `edition`'s newest story, else `fallback`.
pub fn status_documents(
    events: &[AlarmEvent],
    edition: &Edition,
    config: &Config,
    fallback: DateTime<Utc>,
) -> Vec<Document> {
    let site = site(config);
    let as_of = edition.as_of.map_or(fallback, |t| t.to_utc());
    Format::ALL
        .into_iter()
        .map(|format| Document {
            path: format!("{}.{}", render::status::PATH, format.extension()),
            content_type: format.content_type(),
            body: render::status::render(format, events, &site, as_of),
            last_modified: events.first().map(|e| e.at),
        })
        .collect()
}

/// Every document of `edition`, in a stable order.
pub fn documents(edition: &Edition, config: &Config) -> Vec<Document> {
    let site = site(config);
    let mut docs = Vec::with_capacity(edition.views.len() * 4 + 2);
    let (index, opml) = edition.with_headlines(|views| lists(views, &site, &[]));
    docs.push(index);
    docs.push(opml);
    for entry in &edition.views {
        let items = edition.items(entry);
        let view = edition.view(entry, &items);
        docs.extend(view_documents(&view, &site));
    }
    docs
}

/// The documents of one view: its feed in every format, and its HTML page
/// (the whole stream has the index instead).
pub fn view_documents(view: &View, site: &Site) -> Vec<Document> {
    let path = view.key.path();
    let last_modified = newest(view.items.iter().copied());
    let mut docs: Vec<Document> = Format::ALL
        .iter()
        .map(|format| Document {
            path: format!("{path}.{}", format.extension()),
            content_type: format.content_type(),
            body: format.render(view, site),
            last_modified,
        })
        .collect();
    if view.key != ViewKey::All {
        docs.push(Document {
            path: format!("{path}.html"),
            content_type: HTML,
            body: render::html::page(view, site),
            last_modified,
        });
    }
    docs
}

/// The index page and the OPML list of every author feed, from `views`
/// holding their newest story each (see [`Edition::with_headlines`]);
/// `problems` are `(source, error)` of sources whose last read failed, for
/// the index page of a running server.
pub fn lists(views: &[View], site: &Site, problems: &[(String, String)]) -> (Document, Document) {
    let newest = newest(views.iter().flat_map(|v| v.items.iter().copied()));
    let authors: Vec<View> = views
        .iter()
        .filter(|v| matches!(v.key, ViewKey::Author(_)))
        .cloned()
        .collect();
    let index = Document {
        path: "index.html".into(),
        content_type: HTML,
        body: render::html::index_with_problems(views, site, problems),
        last_modified: newest,
    };
    let opml = Document {
        path: "authors.opml".into(),
        content_type: OPML,
        body: render::opml::render(&authors, site),
        last_modified: newest,
    };
    (index, opml)
}

pub const HTML: &str = "text/html; charset=utf-8";
pub const OPML: &str = "text/x-opml; charset=utf-8";
