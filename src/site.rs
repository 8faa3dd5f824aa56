//! A *site* is every document byline publishes for one merged item list: the
//! feeds of every view in every format, their HTML pages, the index and the
//! OPML list. `byline build` writes it to a folder; `byline serve` keeps it in
//! memory. Both use the same relative paths, so a static host and the server
//! look the same to a reader.

use crate::config::Config;
use crate::model::Item;
use crate::render::{self, Format, Site};
use crate::views::{self, ViewKey};

/// One published document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// Path below the base url, e.g. `authors/jeongmin-kim.atom`.
    pub path: String,
    /// Media type with charset, for `Content-Type`.
    pub content_type: &'static str,
    pub body: String,
}

/// The render context a config implies.
pub fn site(config: &Config) -> Site {
    Site {
        base_url: config.base_url.clone(),
        title: config.title.clone(),
    }
}

/// Every document for `items` (merged, in feed order), in a stable order.
pub fn documents(items: &[Item], config: &Config) -> Vec<Document> {
    let site = site(config);
    let views = views::all_views(items, config);
    let mut docs = Vec::with_capacity(views.len() * 4 + 2);
    docs.push(Document {
        path: "index.html".into(),
        content_type: HTML,
        body: render::html::index(&views, &site),
    });
    let authors: Vec<_> = views
        .iter()
        .filter(|v| matches!(v.key, ViewKey::Author(_)))
        .cloned()
        .collect();
    docs.push(Document {
        path: "authors.opml".into(),
        content_type: OPML,
        body: render::opml::render(&authors, &site),
    });
    for view in &views {
        let path = view.key.path();
        for format in Format::ALL {
            docs.push(Document {
                path: format!("{path}.{}", format.extension()),
                content_type: format.content_type(),
                body: format.render(view, &site),
            });
        }
        if view.key != ViewKey::All {
            docs.push(Document {
                path: format!("{path}.html"),
                content_type: HTML,
                body: render::html::page(view, &site),
            });
        }
    }
    docs
}

pub const HTML: &str = "text/html; charset=utf-8";
pub const OPML: &str = "text/x-opml; charset=utf-8";
