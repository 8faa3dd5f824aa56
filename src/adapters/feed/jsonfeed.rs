//! JSON Feed 1.0 and 1.1 *items* (serde types) mapped to entries.
//!
//! 1.1 renamed `author` to `authors` (a list); both are read. One malformed
//! item is skipped with a warning rather than failing the whole feed, since
//! hand-written JSON feeds often type a field loosely.

use serde::Deserialize;

use super::{Entry, Sink, dates, markup, resolve};
use crate::adapters::AdapterError;

const VERSION_PREFIXES: &[&str] = &[
    "https://jsonfeed.org/version/",
    "http://jsonfeed.org/version/",
];

#[derive(Deserialize)]
struct JsonFeed {
    home_page_url: Option<String>,
    next_url: Option<String>,
    author: Option<Author>,
    authors: Option<Vec<Author>>,
    #[serde(default)]
    items: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct JsonItem {
    url: Option<String>,
    external_url: Option<String>,
    title: Option<String>,
    content_html: Option<String>,
    content_text: Option<String>,
    summary: Option<String>,
    image: Option<String>,
    banner_image: Option<String>,
    date_published: Option<String>,
    date_modified: Option<String>,
    author: Option<Author>,
    authors: Option<Vec<Author>>,
    #[serde(default)]
    tags: Vec<String>,
}

#[derive(Deserialize, Clone)]
struct Author {
    name: Option<String>,
}

/// The names of a 1.1 `authors` list, else of a 1.0 `author`.
fn names(authors: Option<&Vec<Author>>, author: Option<&Author>) -> Vec<String> {
    let list: Vec<&Author> = match authors {
        Some(a) if !a.is_empty() => a.iter().collect(),
        _ => author.into_iter().collect(),
    };
    list.into_iter().filter_map(|a| a.name.clone()).collect()
}

pub(crate) fn read(bytes: &[u8], sink: &mut Sink) -> Result<(), AdapterError> {
    let doc: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| sink.error(Some((e.line(), e.column())), format!("not valid JSON: {e}")))?;
    let version = doc.get("version").and_then(|v| v.as_str());
    if !version.is_some_and(|v| VERSION_PREFIXES.iter().any(|p| v.starts_with(p))) {
        return Err(sink.error(
            None,
            "a JSON document but not a JSON Feed: expected \"version\": \
             \"https://jsonfeed.org/version/1.1\" (or /1) at the top level",
        ));
    }
    let feed: JsonFeed = serde_json::from_value(doc)
        .map_err(|e| sink.error(None, format!("not a valid JSON Feed: {e}")))?;

    let page_url = sink.page_url().cloned();
    let base = super::join_base(page_url.as_ref(), feed.home_page_url.as_deref());
    let feed_authors = names(feed.authors.as_ref(), feed.author.as_ref());
    sink.set_next_page(resolve(base.as_ref(), feed.next_url.as_deref()));

    for (index, value) in feed.items.into_iter().enumerate() {
        let number = index + 1;
        let item: JsonItem = match serde_json::from_value(value) {
            Ok(i) => i,
            Err(e) => {
                sink.warn(number, format!("not a JSON Feed item ({e}): skipped"));
                continue;
            }
        };
        let mut authors = names(item.authors.as_ref(), item.author.as_ref());
        if authors.is_empty() {
            authors.clone_from(&feed_authors);
        }
        let published = sink.date(
            number,
            "date_published",
            item.date_published.as_deref(),
            dates::w3c,
        );
        let updated = item.date_modified.as_deref().and_then(dates::w3c_datetime);
        let content = item
            .content_text
            .as_deref()
            .map(crate::model::collapse_whitespace)
            .or_else(|| item.content_html.as_deref().map(markup::html_to_text));
        let entry = Entry {
            title: item.title.as_deref().map(crate::model::collapse_whitespace),
            url: resolve(base.as_ref(), item.url.as_deref())
                .or_else(|| resolve(base.as_ref(), item.external_url.as_deref())),
            summary: item
                .summary
                .as_deref()
                .map(crate::model::collapse_whitespace),
            content,
            authors,
            published,
            updated,
            tags: item.tags,
            image: resolve(base.as_ref(), item.image.as_deref())
                .or_else(|| resolve(base.as_ref(), item.banner_image.as_deref())),
        };
        sink.push(number, entry);
    }
    Ok(())
}
