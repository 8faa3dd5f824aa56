//! RSS *items* (0.9x, 1.0 RDF and 2.0, all read by the `rss` crate, which
//! also collects RSS 1.0's items that sit beside the channel) mapped to entries.
//!
//! RSS leaves much to extensions: authors come from `dc:creator` (any number)
//! and `author`, images from Media RSS or an image enclosure, dates from
//! `pubDate` or `dc:date`.

use std::collections::BTreeMap;

use rss::extension::Extension;
use url::Url;

use super::{Entry, Sink, dates, markup, resolve};
use crate::adapters::AdapterError;

/// Media RSS, under whatever prefix the feed binds it to.
const MEDIA_NAMESPACES: &[&str] = &[
    "http://search.yahoo.com/mrss/",
    "http://search.yahoo.com/mrss",
];

pub(crate) fn read(text: &str, sink: &mut Sink) -> Result<(), AdapterError> {
    let channel = rss::Channel::read_from(text.as_bytes())
        .map_err(|e| sink.error(None, format!("cannot read the RSS feed: {e}")))?;

    // Relative item links resolve against the channel's link, itself relative
    // to the page when it has to be.
    let page_url = sink.page_url().cloned();
    let base = super::join_base(page_url.as_ref(), Some(&channel.link));
    let media: Vec<&str> = channel
        .namespaces
        .iter()
        .filter(|(_, uri)| MEDIA_NAMESPACES.contains(&uri.as_str()))
        .map(|(prefix, _)| prefix.as_str())
        .chain(std::iter::once("media"))
        .collect();

    for (index, item) in channel.items.iter().enumerate() {
        let number = index + 1;
        let entry = entry(item, number, base.as_ref(), &media, sink);
        sink.push(number, entry);
    }
    Ok(())
}

fn entry(
    item: &rss::Item,
    number: usize,
    base: Option<&Url>,
    media: &[&str],
    sink: &mut Sink,
) -> Entry {
    let dc = item.dublin_core_ext.as_ref();

    let url = resolve(base, item.link.as_deref()).or_else(|| {
        // A permalink guid is the link when there is none; only an absolute one,
        // since guids are often opaque ids.
        item.guid
            .as_ref()
            .filter(|g| g.permalink)
            .and_then(|g| resolve(None, Some(&g.value)))
    });

    let mut authors: Vec<String> = dc.map(|d| d.creators.clone()).unwrap_or_default();
    authors.extend(item.author.as_deref().and_then(author_name));
    if let Some(a) = item.itunes_ext.as_ref().and_then(|i| i.author.clone()) {
        authors.push(a);
    }

    let mut tags: Vec<String> = item.categories.iter().map(|c| c.name.clone()).collect();
    tags.extend(dc.into_iter().flat_map(|d| d.subjects.iter().cloned()));

    // WordPress writes names HTML-escaped inside CDATA ("News &amp; Politics").
    let authors = authors.iter().map(|a| markup::decode_entities(a)).collect();
    let tags = tags.iter().map(|t| markup::decode_entities(t)).collect();

    let mut published = sink.date(number, "pubDate", item.pub_date.as_deref(), dates::rfc822);
    if published.is_none() {
        let dc_date = dc.and_then(|d| d.dates.first()).map(String::as_str);
        published = sink.date(number, "dc:date", dc_date, dates::w3c);
    }

    Entry {
        title: item.title.as_deref().map(markup::decode_entities),
        url,
        summary: item.description.as_deref().map(markup::html_to_text),
        content: item.content.as_deref().map(markup::html_to_text),
        authors,
        published,
        updated: None,
        tags,
        image: image(item, base, media),
    }
}

/// The name in an RSS `author`, which the spec makes an email address:
/// `kim@example.org (Jeongmin Kim)` gives the name, a bare name stays a name.
fn author_name(author: &str) -> Option<String> {
    let author = author.trim();
    if let (Some(open), true) = (author.find('('), author.ends_with(')')) {
        let name = author
            .get(open + 1..author.len() - 1)
            .unwrap_or_default()
            .trim();
        if !name.is_empty() {
            return Some(name.to_owned());
        }
    }
    if let Some((name, _)) = author.split_once('<') {
        let name = name.trim().trim_matches('"');
        if !name.is_empty() {
            return Some(name.to_owned());
        }
    }
    (!author.is_empty()).then(|| author.to_owned())
}

/// The item's picture: an image `media:content`, else a `media:thumbnail`
/// (both also inside `media:group`), else an enclosure of an image type.
fn image(item: &rss::Item, base: Option<&Url>, media: &[&str]) -> Option<String> {
    let mut contents = Vec::new();
    let mut thumbnails = Vec::new();
    for prefix in media {
        if let Some(map) = item.extensions.get(*prefix) {
            collect_media(map, &mut contents, &mut thumbnails);
        }
    }
    let content = contents.into_iter().find(|c| {
        let medium = c.attrs.get("medium").map(String::as_str);
        let mime = c.attrs.get("type").map(String::as_str);
        medium == Some("image")
            || mime.is_some_and(|m| m.starts_with("image/"))
            || (medium.is_none()
                && mime.is_none()
                && c.attrs.get("url").is_some_and(|u| looks_like_image(u)))
    });
    content
        .into_iter()
        .chain(thumbnails)
        .find_map(|m| resolve(base, m.attrs.get("url").map(String::as_str)))
        .or_else(|| {
            item.enclosure
                .as_ref()
                .filter(|e| e.mime_type.starts_with("image/"))
                .and_then(|e| resolve(base, Some(&e.url)))
        })
}

fn collect_media<'a>(
    map: &'a BTreeMap<String, Vec<Extension>>,
    contents: &mut Vec<&'a Extension>,
    thumbnails: &mut Vec<&'a Extension>,
) {
    for ext in map.get("content").into_iter().flatten() {
        contents.push(ext);
        thumbnails.extend(ext.children.get("thumbnail").into_iter().flatten());
    }
    thumbnails.extend(map.get("thumbnail").into_iter().flatten());
    for group in map.get("group").into_iter().flatten() {
        // A group holds the same two, one level down (the feed was depth-checked).
        contents.extend(group.children.get("content").into_iter().flatten());
        thumbnails.extend(group.children.get("thumbnail").into_iter().flatten());
    }
}

fn looks_like_image(url: &str) -> bool {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or(url)
        .to_ascii_lowercase();
    [".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif"]
        .iter()
        .any(|ext| path.ends_with(ext))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn author_names() {
        assert_eq!(
            author_name("kim@example.org (Jeongmin Kim)").as_deref(),
            Some("Jeongmin Kim")
        );
        assert_eq!(
            author_name("Jeongmin Kim <kim@example.org>").as_deref(),
            Some("Jeongmin Kim")
        );
        assert_eq!(author_name("Jeongmin Kim").as_deref(), Some("Jeongmin Kim"));
        assert_eq!(author_name("  "), None);
    }
}
