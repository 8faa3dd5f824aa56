//! Atom 1.0 *entries*, read by `atom_syndication`, mapped to entries.
//!
//! Atom says what its text is (`type="text"`, `"html"`, `"xhtml"`), so markup
//! is stripped only where the feed says there is some. Relative hrefs resolve
//! against `xml:base` of the feed and the entry; `atom_syndication` keeps only
//! the feed's, so the entries' come from the well-formedness pass's outline.

use atom_syndication::{Content, Feed, Person, Text, TextType};
use chrono::{DateTime, FixedOffset};
use url::Url;

use super::xml::Outline;
use super::{Entry, Sink, markup, resolve};
use crate::adapters::AdapterError;
use crate::model::Published;

const MEDIA_NAMESPACES: &[&str] = &[
    "http://search.yahoo.com/mrss/",
    "http://search.yahoo.com/mrss",
];

pub(crate) fn read(text: &str, outline: &Outline, sink: &mut Sink) -> Result<(), AdapterError> {
    let feed = Feed::read_from(text.as_bytes())
        .map_err(|e| sink.error(None, format!("cannot read the Atom feed: {e}")))?;

    let page_url = sink.page_url().cloned();
    let feed_base = super::join_base(page_url.as_ref(), outline.root_base.as_deref());
    let entry_bases: Vec<Option<&str>> = outline
        .children
        .iter()
        .filter(|(name, _)| name == "entry")
        .map(|(_, base)| base.as_deref())
        .collect();
    let media: Vec<&str> = feed
        .namespaces
        .iter()
        .filter(|(_, uri)| MEDIA_NAMESPACES.contains(&uri.as_str()))
        .map(|(prefix, _)| prefix.as_str())
        .chain(std::iter::once("media"))
        .collect();

    // RFC 5005 paging: an archive or paged feed links its next page.
    let next = feed.links.iter().find(|l| l.rel == "next");
    sink.set_next_page(next.and_then(|l| resolve(feed_base.as_ref(), Some(&l.href))));

    for (index, e) in feed.entries.iter().enumerate() {
        let entry_base = entry_bases.get(index).copied().flatten();
        let base = super::join_base(feed_base.as_ref(), entry_base);
        let entry = entry(&feed, e, base.as_ref(), &media);
        sink.push(index + 1, entry);
    }
    Ok(())
}

fn entry(feed: &Feed, e: &atom_syndication::Entry, base: Option<&Url>, media: &[&str]) -> Entry {
    let alternates: Vec<_> = e
        .links
        .iter()
        .filter(|l| l.rel.is_empty() || l.rel == "alternate")
        .collect();
    let link = alternates
        .iter()
        .find(|l| l.mime_type.as_deref().is_none_or(|t| t.contains("html")))
        .or(alternates.first());
    let url = link
        .and_then(|l| resolve(base, Some(&l.href)))
        // Some feeds make the id the permalink and give no link.
        .or_else(|| resolve(None, Some(&e.id)));

    // Entry people, else those of the feed the entry was copied from, else the feed's.
    let source = e.source.as_ref();
    let mut people: Vec<&Person> = e.authors.iter().chain(&e.contributors).collect();
    if people.is_empty() {
        people = source
            .into_iter()
            .flat_map(|s| s.authors.iter().chain(&s.contributors))
            .collect();
    }
    if people.is_empty() {
        people = feed.authors.iter().collect();
    }

    let updated = real_date(&e.updated);
    let published = e.published.as_ref().and_then(real_date).or(updated);

    let image = e
        .links
        .iter()
        .find(|l| {
            l.rel == "enclosure"
                && l.mime_type
                    .as_deref()
                    .is_some_and(|t| t.starts_with("image/"))
        })
        .and_then(|l| resolve(base, Some(&l.href)))
        .or_else(|| media_image(e, base, media));

    Entry {
        title: Some(text(&e.title)),
        url,
        summary: e.summary.as_ref().map(text),
        content: e.content.as_ref().and_then(content),
        authors: people.iter().map(|p| p.name.clone()).collect(),
        published: published.map(Published::DateTime),
        updated,
        tags: e
            .categories
            .iter()
            .map(|c| {
                c.label
                    .clone()
                    .filter(|l| !l.trim().is_empty())
                    .unwrap_or_else(|| c.term.clone())
            })
            .collect(),
        image,
    }
}

/// `atom_syndication` fills a missing `updated` with the epoch: that is no date.
fn real_date(d: &DateTime<FixedOffset>) -> Option<DateTime<FixedOffset>> {
    (d.timestamp() != 0).then_some(*d)
}

/// An Atom text construct as plain text.
fn text(t: &Text) -> String {
    match t.r#type {
        TextType::Text => crate::model::collapse_whitespace(&t.value),
        TextType::Html | TextType::Xhtml => markup::html_to_text(&t.value),
    }
}

/// Entry content as plain text, when it is text at all (not base64 media or
/// an out-of-line `src`).
fn content(c: &Content) -> Option<String> {
    let value = c.value.as_deref()?;
    match c.content_type.as_deref() {
        None | Some("text") => Some(crate::model::collapse_whitespace(value)),
        Some("html" | "xhtml") => Some(markup::html_to_text(value)),
        Some(mime) if mime.ends_with("html") || mime.ends_with("+xml") => {
            Some(markup::html_to_text(value))
        }
        Some(mime) if mime.starts_with("text/") => Some(crate::model::collapse_whitespace(value)),
        Some(_) => None,
    }
}

/// A Media RSS thumbnail or image in an Atom entry (YouTube's feeds, for one).
fn media_image(e: &atom_syndication::Entry, base: Option<&Url>, media: &[&str]) -> Option<String> {
    let mut candidates = Vec::new();
    for prefix in media {
        let Some(map) = e.extensions.get(*prefix) else {
            continue;
        };
        let groups = map.get("group").into_iter().flatten();
        let levels = std::iter::once(map).chain(groups.map(|g| &g.children));
        for level in levels {
            candidates.extend(level.get("thumbnail").into_iter().flatten());
            candidates.extend(level.get("content").into_iter().flatten().filter(|c| {
                c.attrs.get("medium").is_some_and(|m| m == "image")
                    || c.attrs.get("type").is_some_and(|t| t.starts_with("image/"))
            }));
        }
    }
    candidates
        .into_iter()
        .find_map(|m| resolve(base, m.attrs.get("url").map(String::as_str)))
}
