//! The status feed: byline's own feed of its sources' alarms, as Atom, RSS
//! and JSON Feed (`/status.atom`, `.rss`, `.json`).
//!
//! A *status entry* is one alarm raised or cleared (a store `AlarmEvent`):
//! its id is the event's number, so a reader shows each once; its time is
//! the event's. A self-hoster subscribes to it in the reader they already
//! use and hears of a broken source the day it breaks. Pure, like every
//! renderer: the same events give the same bytes.

use atom_syndication::{Entry, Feed, Generator, Link, Person, Text, WriteConfig};
use chrono::{DateTime, Utc};
use rss::extension::atom::{AtomExtension, Link as RssLink};
use rss::extension::dublincore::DublinCoreExtension;
use rss::{Channel, Guid, Item as RssItem};

use super::json::{Author, JsonFeed, JsonItem, VERSION};
use super::{Format, Site, xml_safe};
use crate::store::AlarmEvent;
use crate::views::ViewKey;

const DESCRIPTION: &str = "Alarms raised and cleared for the sources byline reads";

/// Alarm events the status feed shows: the newest.
pub const ENTRIES: usize = 50;

/// Where the status feed lives below the base url, without extension.
pub const PATH: &str = "status";

/// The status feed of `events` (newest first) in `format`; `as_of` is the
/// feed's time while it has no entry (when byline last published).
pub fn render(format: Format, events: &[AlarmEvent], site: &Site, as_of: DateTime<Utc>) -> String {
    let text = match format {
        Format::Atom => atom(events, site, as_of),
        Format::Rss => rss(events, site),
        Format::Json => json(events, site),
    };
    let mut text = text.unwrap_or_else(|e| {
        tracing::error!("writing the status feed failed: {e}");
        String::new()
    });
    text.push('\n');
    text
}

fn title(site: &Site) -> String {
    format!("{}: source alarms", site.title)
}

fn self_url(site: &Site, format: Format) -> String {
    site.url(&format!("{PATH}.{}", format.extension()))
}

fn entry_id(site: &Site, e: &AlarmEvent) -> String {
    site.url(&format!("{PATH}#alarm-{}", e.id))
}

fn entry_title(e: &AlarmEvent) -> String {
    format!("{}: {} alarm {}", e.source, e.kind, e.event)
}

/// The source's page: where a reader sees what is still served.
fn entry_link(site: &Site, e: &AlarmEvent) -> String {
    site.page_url(&ViewKey::Source(e.source.clone()))
}

fn atom(events: &[AlarmEvent], site: &Site, as_of: DateTime<Utc>) -> Result<String, String> {
    // Atom wants a time even with no entry: never 1970.
    let updated = events.first().map_or(as_of, |e| e.at).fixed_offset();
    let link = |rel: &str, href: String, mime: Option<&str>| Link {
        href: xml_safe(&href).into_owned(),
        rel: rel.to_owned(),
        mime_type: mime.map(str::to_owned),
        ..Link::default()
    };
    let feed = Feed {
        title: Text::plain(xml_safe(&title(site))),
        id: self_url(site, Format::Atom),
        updated,
        generator: Some(Generator {
            value: "byline".to_owned(),
            uri: None,
            version: None,
        }),
        authors: vec![Person {
            name: xml_safe(&site.title).into_owned(),
            ..Person::default()
        }],
        links: vec![
            link(
                "self",
                self_url(site, Format::Atom),
                Some(Format::Atom.media_type()),
            ),
            link("alternate", site.base_url.to_string(), Some("text/html")),
        ],
        entries: events
            .iter()
            .map(|e| Entry {
                title: Text::plain(xml_safe(&entry_title(e))),
                id: entry_id(site, e),
                updated: e.at.fixed_offset(),
                published: Some(e.at.fixed_offset()),
                authors: vec![Person {
                    name: xml_safe(&site.title).into_owned(),
                    ..Person::default()
                }],
                links: vec![link("alternate", entry_link(site, e), None)],
                summary: Some(Text::plain(xml_safe(&e.message))),
                ..Entry::default()
            })
            .collect(),
        ..Feed::default()
    };
    let config = WriteConfig {
        write_document_declaration: true,
        indent_size: Some(2),
    };
    let bytes = feed
        .write_with_config(Vec::new(), config)
        .map_err(|e| e.to_string())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn rss(events: &[AlarmEvent], site: &Site) -> Result<String, String> {
    let newest = events.first().map(|e| e.at.to_rfc2822());
    let channel = Channel {
        title: xml_safe(&title(site)).into_owned(),
        link: site.base_url.to_string(),
        description: DESCRIPTION.to_owned(),
        pub_date: newest.clone(),
        last_build_date: newest,
        generator: Some("byline".to_owned()),
        atom_ext: Some(AtomExtension {
            links: vec![RssLink {
                href: self_url(site, Format::Rss),
                rel: "self".to_owned(),
                mime_type: Some(Format::Rss.media_type().to_owned()),
                ..RssLink::default()
            }],
        }),
        namespaces: [("atom".to_owned(), "http://www.w3.org/2005/Atom".to_owned())].into(),
        items: events
            .iter()
            .map(|e| RssItem {
                title: Some(xml_safe(&entry_title(e)).into_owned()),
                link: Some(entry_link(site, e)),
                description: Some(xml_safe(&e.message).into_owned()),
                guid: Some(Guid {
                    value: entry_id(site, e),
                    permalink: false,
                }),
                pub_date: Some(e.at.to_rfc2822()),
                dublin_core_ext: Some(DublinCoreExtension {
                    creators: vec![xml_safe(&site.title).into_owned()],
                    ..DublinCoreExtension::default()
                }),
                ..RssItem::default()
            })
            .collect(),
        ..Channel::default()
    };
    let bytes = channel
        .pretty_write_to(Vec::new(), b' ', 2)
        .map_err(|e| e.to_string())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn json(events: &[AlarmEvent], site: &Site) -> Result<String, String> {
    let feed = JsonFeed {
        version: VERSION,
        title: title(site),
        home_page_url: site.base_url.to_string(),
        feed_url: self_url(site, Format::Json),
        description: DESCRIPTION.to_owned(),
        items: events
            .iter()
            .map(|e| JsonItem {
                id: entry_id(site, e),
                url: entry_link(site, e),
                title: xml_safe(&entry_title(e)).into_owned(),
                content_text: xml_safe(&e.message).into_owned(),
                content_html: None,
                summary: None,
                image: None,
                date_published: Some(e.at.to_rfc3339()),
                date_modified: None,
                authors: vec![Author {
                    name: site.title.clone(),
                    url: None,
                }],
                tags: Vec::new(),
            })
            .collect(),
    };
    serde_json::to_string_pretty(&feed).map_err(|e| e.to_string())
}
