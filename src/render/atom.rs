//! Atom 1.0 (RFC 4287) feeds, written with `atom_syndication`.
//!
//! An *entry* is one item as Atom shows it. The feed's id is its own address
//! (the self link), its `updated` the newest item's time, so rebuilding the
//! same items gives the same bytes. RFC 4287 wants an author on every entry:
//! an unsigned item names the site (see [`credited`]).

use atom_syndication::{
    Category, Content, Entry, Feed, Generator, Link, Person, Text, WriteConfig,
};
use chrono::{DateTime, FixedOffset};

use super::{
    Format, Site, credited, description, feed_updated, image_media_type, item_time, xml_safe,
};
use crate::model::Item;
use crate::views::View;

pub fn render(view: &View, site: &Site) -> String {
    let updated = feed_updated(view);
    let self_url = site.feed_url(&view.key, Format::Atom);
    let feed = Feed {
        title: Text::plain(xml_safe(&view.title)),
        id: self_url.clone(),
        updated,
        generator: Some(Generator {
            value: "byline".to_owned(),
            uri: None,
            version: None,
        }),
        links: vec![
            link("self", &self_url, Some(Format::Atom.media_type())),
            link("alternate", &site.page_url(&view.key), Some("text/html")),
        ],
        subtitle: Some(Text::plain(xml_safe(&description(view, site)))),
        entries: view
            .items
            .iter()
            .map(|item| entry(item, site, updated))
            .collect(),
        ..Feed::default()
    };
    let config = WriteConfig {
        write_document_declaration: true,
        indent_size: Some(2),
    };
    match feed.write_with_config(Vec::new(), config) {
        Ok(bytes) => {
            let mut text = String::from_utf8_lossy(&bytes).into_owned();
            text.push('\n');
            text
        }
        // Writing into memory has no I/O to fail; keep the signature total.
        Err(e) => {
            tracing::error!(view = %view.key.path(), "writing Atom failed: {e}");
            String::new()
        }
    }
}

/// One entry; `undated` is the feed's time, for an item with no date at all
/// (Atom requires `<updated>` on every entry).
fn entry(item: &Item, site: &Site, undated: DateTime<FixedOffset>) -> Entry {
    let mut links = vec![link("alternate", &site.item_link(item), None)];
    if let Some(image) = &item.image
        && let Some(media_type) = image_media_type(image)
    {
        links.push(link("enclosure", image, Some(media_type)));
    }
    Entry {
        title: Text::plain(xml_safe(&item.title)),
        id: xml_safe(&item.id).into_owned(),
        updated: item_time(item).unwrap_or(undated),
        authors: credited(item, site)
            .iter()
            .map(|a| person(&a.name, a.url.as_deref()))
            .collect(),
        categories: item
            .tags
            .iter()
            .map(|t| Category {
                term: xml_safe(&t.slug).into_owned(),
                scheme: None,
                label: Some(xml_safe(&t.name).into_owned()),
            })
            .collect(),
        links,
        published: item.published.map(|p| p.instant()),
        summary: item.summary.as_deref().map(|s| Text::plain(xml_safe(s))),
        content: item.content.as_deref().map(|c| Content {
            value: Some(xml_safe(c).into_owned()),
            content_type: Some("html".to_owned()),
            ..Content::default()
        }),
        ..Entry::default()
    }
}

fn person(name: &str, uri: Option<&str>) -> Person {
    Person {
        name: xml_safe(name).into_owned(),
        email: None,
        uri: uri.map(|u| xml_safe(u).into_owned()),
        ..Person::default()
    }
}

fn link(rel: &str, href: &str, media_type: Option<&str>) -> Link {
    Link {
        href: xml_safe(href).into_owned(),
        rel: rel.to_owned(),
        mime_type: media_type.map(str::to_owned),
        ..Link::default()
    }
}
