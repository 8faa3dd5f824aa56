//! RSS 2.0 feeds, written with the `rss` crate.
//!
//! An *item* here is one story as RSS shows it. RSS names people only by
//! e-mail in `<author>`, which byline never has, so authors go in one
//! `<dc:creator>` each (Dublin Core). The channel points at itself with
//! `<atom:link rel="self">`, as the RSS Advisory Board recommends; dates are
//! RFC 2822 and come from the items, never from the clock.

use std::collections::BTreeMap;

use rss::extension::atom::{AtomExtension, Link};
use rss::extension::dublincore::DublinCoreExtension;
use rss::{Category, Channel, Enclosure, Guid, Item as RssItem};

use super::{
    Format, Site, credited, description, escape_text, image_media_type, newest_time, xml_safe,
};
use crate::model::Item;
use crate::views::View;

const ATOM_NS: &str = "http://www.w3.org/2005/Atom";
const DC_NS: &str = "http://purl.org/dc/elements/1.1/";
const CONTENT_NS: &str = "http://purl.org/rss/1.0/modules/content/";

pub fn render(view: &View, site: &Site) -> String {
    // An empty view has no date to give; both elements are optional in RSS.
    let newest = newest_time(view).map(|t| t.to_rfc2822());
    // Declared whether or not an item uses them, so every feed has the same
    // root element and a reader never meets an undeclared prefix.
    let namespaces = BTreeMap::from([
        ("atom".to_owned(), ATOM_NS.to_owned()),
        ("dc".to_owned(), DC_NS.to_owned()),
        ("content".to_owned(), CONTENT_NS.to_owned()),
    ]);
    let channel = Channel {
        title: xml_safe(&view.title).into_owned(),
        link: site.page_url(&view.key),
        description: xml_safe(&description(view, site)).into_owned(),
        pub_date: newest.clone(),
        last_build_date: newest,
        generator: Some("byline".to_owned()),
        atom_ext: Some(AtomExtension {
            links: vec![Link {
                href: site.feed_url(&view.key, Format::Rss),
                rel: "self".to_owned(),
                mime_type: Some(Format::Rss.media_type().to_owned()),
                ..Link::default()
            }],
        }),
        items: view.items.iter().map(|item| rss_item(item, site)).collect(),
        namespaces,
        ..Channel::default()
    };
    match channel.pretty_write_to(Vec::new(), b' ', 2) {
        Ok(bytes) => {
            let mut text = String::from_utf8_lossy(&bytes).into_owned();
            text.push('\n');
            text
        }
        // Writing into memory has no I/O to fail; keep the signature total.
        Err(e) => {
            tracing::error!(view = %view.key.path(), "writing RSS failed: {e}");
            String::new()
        }
    }
}

fn rss_item(item: &Item, site: &Site) -> RssItem {
    let id = xml_safe(&item.id).into_owned();
    let permalink = item.url.as_deref() == Some(item.id.as_str());
    // RSS has one date per item, the publication; an item only known to have
    // changed gets that time rather than none.
    let date = item
        .published
        .map(|p| p.instant())
        .or(item.updated)
        .map(|t| t.to_rfc2822());
    let enclosure = item.image.as_deref().and_then(|url| {
        image_media_type(url).map(|media_type| Enclosure {
            url: xml_safe(url).into_owned(),
            // The size is unknown; the RSS Advisory Board's profile says 0.
            length: "0".to_owned(),
            mime_type: media_type.to_owned(),
        })
    });
    RssItem {
        title: Some(xml_safe(&item.title).into_owned()),
        link: Some(xml_safe(&site.item_link(item)).into_owned()),
        // A description is HTML; the summary is plain text, so escape it or
        // a reader would render "<b>" in a summary as bold.
        description: item.summary.as_deref().map(escape_text),
        categories: item
            .tags
            .iter()
            .map(|t| Category {
                name: xml_safe(&t.name).into_owned(),
                domain: None,
            })
            .collect(),
        enclosure,
        // Full text: sanitized HTML, written as CDATA by the rss crate.
        content: item.content.as_deref().map(|c| xml_safe(c).into_owned()),
        guid: Some(Guid {
            value: id,
            permalink,
        }),
        pub_date: date,
        dublin_core_ext: Some(DublinCoreExtension {
            creators: credited(item, site)
                .iter()
                .map(|a| xml_safe(&a.name).into_owned())
                .collect(),
            ..DublinCoreExtension::default()
        }),
        ..RssItem::default()
    }
}
