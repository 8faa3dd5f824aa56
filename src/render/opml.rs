//! OPML 2.0 subscription lists, written with quick-xml.
//!
//! An *outline* is one feed a reader can import: here one per author, so a
//! reader subscribes to every byline in one step. It points at the Atom feed
//! and the author's page. No `dateCreated`: a renderer has no clock, and the
//! same views must give the same bytes.

use std::io;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use super::{Format, Site, xml_safe};
use crate::views::View;

/// An OPML 2.0 subscription list of `views` (the per-author feeds).
pub fn render(views: &[View], site: &Site) -> String {
    match write(views, site) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        // Writing into memory has no I/O to fail; keep the signature total.
        Err(e) => {
            tracing::error!("writing OPML failed: {e}");
            String::new()
        }
    }
}

fn write(views: &[View], site: &Site) -> io::Result<Vec<u8>> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))?;
    w.write_event(Event::Start(
        BytesStart::new("opml").with_attributes([("version", "2.0")]),
    ))?;
    w.write_event(Event::Start(BytesStart::new("head")))?;
    let title = format!("{}: author feeds", site.title);
    w.create_element("title")
        .write_text_content(BytesText::new(&xml_safe(&title)))?;
    w.create_element("docs")
        .write_text_content(BytesText::new("http://opml.org/spec2.opml"))?;
    w.write_event(Event::End(BytesEnd::new("head")))?;
    w.write_event(Event::Start(BytesStart::new("body")))?;
    for view in views {
        let name = xml_safe(&view.title);
        let xml_url = site.feed_url(&view.key, Format::Atom);
        let html_url = site.page_url(&view.key);
        // The string form of each attribute is escaped by quick-xml.
        w.create_element("outline")
            .with_attributes([
                ("type", "rss"),
                ("text", &*name),
                ("title", &*name),
                ("xmlUrl", xml_url.as_str()),
                ("htmlUrl", html_url.as_str()),
            ])
            .write_empty()?;
    }
    w.write_event(Event::End(BytesEnd::new("body")))?;
    w.write_event(Event::End(BytesEnd::new("opml")))?;
    let mut bytes = w.into_inner();
    bytes.push(b'\n');
    Ok(bytes)
}
