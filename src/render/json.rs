//! JSON Feed 1.1 (<https://jsonfeed.org/version/1.1>), written with serde.
//!
//! A *feed item* is one story as JSON Feed shows it. The structs below list
//! the fields in the order they are written, so the output is deterministic;
//! absent values are left out rather than written as `null`. Text goes through
//! the same [`xml_safe`] filter as the XML formats so every format shows a
//! reader the same title.

use serde::Serialize;

use super::{Format, Site, credited, description, xml_safe};
use crate::model::Item;
use crate::views::View;

pub(super) const VERSION: &str = "https://jsonfeed.org/version/1.1";

#[derive(Serialize)]
pub(super) struct JsonFeed {
    pub(super) version: &'static str,
    pub(super) title: String,
    pub(super) home_page_url: String,
    pub(super) feed_url: String,
    pub(super) description: String,
    pub(super) items: Vec<JsonItem>,
}

#[derive(Serialize)]
pub(super) struct JsonItem {
    pub(super) id: String,
    pub(super) url: String,
    pub(super) title: String,
    /// JSON Feed requires `content_html` or `content_text`: this is the
    /// summary, or the title when there is none.
    pub(super) content_text: String,
    /// The full text from the story's article page, sanitized HTML.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) content_html: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) summary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) date_published: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) date_modified: Option<String>,
    /// Never empty: an unsigned item credits the site.
    pub(super) authors: Vec<Author>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) tags: Vec<String>,
}

#[derive(Serialize)]
pub(super) struct Author {
    pub(super) name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) url: Option<String>,
}

pub fn render(view: &View, site: &Site) -> String {
    let feed = JsonFeed {
        version: VERSION,
        title: safe(&view.title),
        home_page_url: site.page_url(&view.key),
        feed_url: site.feed_url(&view.key, Format::Json),
        description: safe(&description(view, site)),
        items: view
            .items
            .iter()
            .map(|item| json_item(item, site))
            .collect(),
    };
    match serde_json::to_string_pretty(&feed) {
        Ok(mut s) => {
            s.push('\n');
            s
        }
        // Plain structs of strings always serialize; keep the signature total.
        Err(e) => {
            tracing::error!(view = %view.key.path(), "writing JSON Feed failed: {e}");
            String::new()
        }
    }
}

fn json_item(item: &Item, site: &Site) -> JsonItem {
    let summary = item.summary.as_deref().map(safe);
    JsonItem {
        id: safe(&item.id),
        url: site.item_link(item),
        title: safe(&item.title),
        content_text: summary.clone().unwrap_or_else(|| safe(&item.title)),
        summary,
        content_html: item.content.as_deref().map(safe),
        image: item.image.clone(),
        date_published: item.published.map(|p| p.instant().to_rfc3339()),
        date_modified: item.updated.map(|t| t.to_rfc3339()),
        authors: credited(item, site)
            .iter()
            .map(|a| Author {
                name: safe(&a.name),
                url: a.url.clone(),
            })
            .collect(),
        tags: item.tags.iter().map(|t| safe(&t.name)).collect(),
    }
}

fn safe(s: &str) -> String {
    xml_safe(s).into_owned()
}
