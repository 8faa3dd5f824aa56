//! HTML pages: the index of every view, and one page per view.
//!
//! A *page* is small, self-contained HTML5: UTF-8, a few lines of inline CSS,
//! no scripts, fonts or images from elsewhere. Every string that comes from
//! data goes through [`escape_text`] or [`escape_attr`]. Each page announces
//! its feeds with `<link rel="alternate">` so a reader given the page url
//! finds them, and each item is an `<article>` whose id is
//! [`item_anchor`], the target of links to url-less items.

use chrono::{DateTime, FixedOffset};

use super::{Format, Site, description, escape_attr, escape_text, item_anchor, newest_time};
use crate::model::{Item, Published};
use crate::views::{View, ViewKey};

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:0 auto;\
padding:1rem;color:#222;background:#fff}a{color:#0645ad}h1{margin-bottom:.2rem}\
article{border-top:1px solid #ddd;padding:.6rem 0}article h2{font-size:1.15rem;margin:.2rem 0}\
.meta,.tags,footer{color:#555;font-size:.9rem}.tags{list-style:none;padding:0;margin:.2rem 0}\
.tags li{display:inline;margin-right:.6rem}table{border-collapse:collapse;width:100%}\
th,td{text-align:left;padding:.25rem .5rem .25rem 0;border-bottom:1px solid #eee}\
td.n{text-align:right}";

/// The index page: every view with its subscribe links.
pub fn index(views: &[View], site: &Site) -> String {
    index_with_problems(views, site, &[])
}

/// The index page, noting sources whose last read failed (`(source, error)`),
/// so a self-hoster sees a broken source where they look for its feed.
pub fn index_with_problems(views: &[View], site: &Site, problems: &[(String, String)]) -> String {
    let mut out = String::with_capacity(4096 + views.len() * 512);
    let all = views.iter().find(|v| v.key == ViewKey::All);
    head(&mut out, &site.title, &ViewKey::All, &site.title, site);
    out.push_str(&format!(
        "<link rel=\"outline\" type=\"text/x-opml\" title=\"{}\" href=\"{}\">\n",
        escape_attr(&format!("{}: author feeds", site.title)),
        escape_attr(&site.opml_url()),
    ));
    out.push_str("</head>\n<body>\n<header>\n");
    out.push_str(&format!("<h1>{}</h1>\n", escape_text(&site.title)));
    if let Some(all) = all {
        out.push_str(&format!(
            "<p>{}: {}, latest {}.</p>\n",
            escape_text(&description(all, site)),
            count(all.total),
            latest(all)
        ));
    }
    subscribe(&mut out, &ViewKey::All, site);
    out.push_str("</header>\n<main>\n");
    if !problems.is_empty() {
        out.push_str("<section id=\"problems\">\n<h2>Sources with problems</h2>\n<p>Their stored stories are still served.</p>\n<ul>\n");
        for (source, error) in problems {
            out.push_str(&format!(
                "<li><strong>{}</strong>: {}</li>\n",
                escape_text(source),
                escape_text(error)
            ));
        }
        out.push_str("</ul>\n</section>\n");
    }

    for (id, heading) in [
        ("authors", "Authors"),
        ("tags", "Tags"),
        ("sources", "Sources"),
        ("feeds", "Custom feeds"),
    ] {
        let members: Vec<&View> = views.iter().filter(|v| section(&v.key) == id).collect();
        if members.is_empty() && id == "feeds" {
            continue; // Custom feeds are optional: no empty section for them.
        }
        out.push_str(&format!("<section id=\"{id}\">\n<h2>{heading}</h2>\n"));
        if id == "authors" {
            out.push_str(&format!(
                "<p>Every author feed in one file: <a href=\"{}\">OPML</a>.</p>\n",
                escape_attr(&site.opml_url())
            ));
        }
        if members.is_empty() {
            out.push_str("<p>None yet.</p>\n</section>\n");
            continue;
        }
        out.push_str(
            "<table>\n<thead><tr><th>Name</th><th class=\"n\">Stories</th><th>Latest</th>\
             <th>Subscribe</th></tr></thead>\n<tbody>\n",
        );
        for view in members {
            out.push_str(&format!(
                "<tr><td><a href=\"{}\">{}</a></td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>\n",
                escape_attr(&site.page_url(&view.key)),
                escape_text(&view.title),
                view.total,
                latest(view),
                feed_links(&view.key, site),
            ));
        }
        out.push_str("</tbody>\n</table>\n</section>\n");
    }
    out.push_str("</main>\n");
    footer(&mut out);
    out
}

/// The index section a view is listed in, by the kind of its key (the whole
/// stream heads the page instead).
fn section(key: &ViewKey) -> &'static str {
    match key {
        ViewKey::All => "all",
        ViewKey::Author(_) => "authors",
        ViewKey::Tag(_) => "tags",
        ViewKey::Source(_) => "sources",
        ViewKey::Custom(_) => "feeds",
    }
}

/// One view's HTML page, listing its items, with feed autodiscovery links.
pub fn page(view: &View, site: &Site) -> String {
    let mut out = String::with_capacity(2048 + view.items.len() * 1024);
    let title = format!("{} · {}", view.title, site.title);
    head(&mut out, &title, &view.key, &view.title, site);
    out.push_str("</head>\n<body>\n<header>\n");
    out.push_str(&format!(
        "<p><a href=\"{}\">{}</a></p>\n<h1>{}</h1>\n<p>{}: {}, latest {}.</p>\n",
        escape_attr(&site.page_url(&ViewKey::All)),
        escape_text(&site.title),
        escape_text(&view.title),
        escape_text(&description(view, site)),
        count(view.items.len()),
        latest(view),
    ));
    subscribe(&mut out, &view.key, site);
    out.push_str("</header>\n<main>\n");
    if view.items.is_empty() {
        out.push_str("<p>No stories yet.</p>\n");
    }
    for item in &view.items {
        article(&mut out, item, site);
    }
    out.push_str("</main>\n");
    footer(&mut out);
    out
}

/// Doctype, charset, title, style and the three feed autodiscovery links;
/// leaves `<head>` open for the caller.
fn head(out: &mut String, title: &str, key: &ViewKey, feed_title: &str, site: &Site) {
    out.push_str("<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str(&format!("<title>{}</title>\n", escape_text(title)));
    for format in Format::ALL {
        out.push_str(&format!(
            "<link rel=\"alternate\" type=\"{}\" title=\"{}\" href=\"{}\">\n",
            format.media_type(),
            escape_attr(&format!("{feed_title} ({})", format_name(format))),
            escape_attr(&site.feed_url(key, format)),
        ));
    }
    out.push_str(&format!("<style>{STYLE}</style>\n"));
}

fn subscribe(out: &mut String, key: &ViewKey, site: &Site) {
    out.push_str(&format!(
        "<p class=\"meta\">Subscribe: {}</p>\n",
        feed_links(key, site)
    ));
}

/// `Atom · RSS · JSON Feed`, each linking to the view's feed.
fn feed_links(key: &ViewKey, site: &Site) -> String {
    Format::ALL
        .iter()
        .map(|f| {
            format!(
                "<a href=\"{}\" type=\"{}\">{}</a>",
                escape_attr(&site.feed_url(key, *f)),
                f.media_type(),
                format_name(*f)
            )
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

fn article(out: &mut String, item: &Item, site: &Site) {
    out.push_str(&format!(
        "<article id=\"{}\">\n<h2><a href=\"{}\">{}</a></h2>\n",
        escape_attr(&item_anchor(item)),
        escape_attr(&site.item_link(item)),
        escape_text(&item.title),
    ));
    let mut meta = Vec::new();
    if !item.authors.is_empty() {
        let names: Vec<String> = item
            .authors
            .iter()
            .map(|a| {
                format!(
                    "<a href=\"{}\" rel=\"author\">{}</a>",
                    escape_attr(&site.page_url(&ViewKey::Author(a.slug.clone()))),
                    escape_text(&a.name)
                )
            })
            .collect();
        meta.push(format!("By {}", names.join(", ")));
    }
    if let Some(published) = &item.published {
        meta.push(date(published));
    }
    meta.push(format!(
        "<a href=\"{}\">{}</a>",
        escape_attr(&site.page_url(&ViewKey::Source(item.source.clone()))),
        escape_text(&item.source)
    ));
    out.push_str(&format!("<p class=\"meta\">{}</p>\n", meta.join(" · ")));
    if !item.tags.is_empty() {
        out.push_str("<ul class=\"tags\">");
        for tag in &item.tags {
            out.push_str(&format!(
                "<li><a href=\"{}\" rel=\"tag\">{}</a></li>",
                escape_attr(&site.page_url(&ViewKey::Tag(tag.slug.clone()))),
                escape_text(&tag.name)
            ));
        }
        out.push_str("</ul>\n");
    }
    if let Some(summary) = &item.summary {
        out.push_str(&format!("<p>{}</p>\n", escape_text(summary)));
    }
    out.push_str("</article>\n");
}

/// A `<time>` as precise as the source was: a day, or a minute with its offset.
fn date(published: &Published) -> String {
    match published {
        Published::DateTime(t) => format!(
            "<time datetime=\"{}\">{}</time>",
            t.to_rfc3339(),
            t.format("%Y-%m-%d %H:%M %:z")
        ),
        Published::Date(d, _) => format!("<time datetime=\"{d}\">{d}</time>"),
    }
}

/// The newest item's day as a `<time>`, or a dash for a view without dates.
fn latest(view: &View) -> String {
    match newest_time(view) {
        Some(t) => day(t),
        None => "—".to_owned(),
    }
}

fn day(t: DateTime<FixedOffset>) -> String {
    format!(
        "<time datetime=\"{}\">{}</time>",
        t.to_rfc3339(),
        t.format("%Y-%m-%d")
    )
}

fn count(n: usize) -> String {
    match n {
        1 => "1 story".to_owned(),
        n => format!("{n} stories"),
    }
}

fn format_name(format: Format) -> &'static str {
    match format {
        Format::Atom => "Atom",
        Format::Rss => "RSS",
        Format::Json => "JSON Feed",
    }
}

fn footer(out: &mut String) {
    out.push_str("<footer><p>Made by byline from the sources' own listings.</p></footer>\n</body>\n</html>\n");
}
