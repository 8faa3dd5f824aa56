//! A *plan* is what a block will say for a card group: the item selector,
//! one selector per field, the date formats the cards use and a time zone
//! hint; microformats2 pages get theirs from the vocabulary's class names.

use std::collections::HashSet;

use chrono::DateTime;
use scraper::{Html, Selector};

use super::block::{HtmlPlan, Sel};
use super::cards;
use super::fields::{self, Finding};
use super::select::{self, Kind};

fn parse(css: &str) -> Option<Selector> {
    Selector::parse(css).ok()
}

pub(crate) fn microformats(doc: &Html) -> Option<HtmlPlan> {
    let entries = parse(".h-entry")?;
    if doc.select(&entries).count() < 2 {
        return None;
    }
    let has = |css: &str| {
        parse(&format!(".h-entry {css}")).is_some_and(|s| doc.select(&s).next().is_some())
    };
    let opt = |css: &str, attrs: &[&str]| has(css).then(|| Sel::with_attrs(css, attrs));
    Some(HtmlPlan {
        item: ".h-entry".to_owned(),
        title: Some(Sel::css(".p-name")),
        url: opt(".u-url", &["href"]),
        summary: opt(".p-summary", &[]),
        authors: if has(".p-author .p-name") {
            opt(".p-author .p-name", &[])
        } else {
            opt(".p-author", &[])
        },
        published: opt(".dt-published", &[]),
        tags: opt(".p-category", &[]),
        image: if has(".u-photo") {
            opt(".u-photo", &["src", "href"])
        } else {
            opt(".u-featured", &["src", "href"])
        },
        next_page: next_page(doc),
        ..HtmlPlan::default()
    })
}

/// The next-page link: `rel=next` on a link or an anchor, or a "next" class.
pub(crate) fn next_page(doc: &Html) -> Option<Sel> {
    [
        "a[rel=\"next\"]",
        "link[rel=\"next\"]",
        "a.next",
        "a.nextpostslink",
        ".next a",
        ".pagination-next a",
    ]
    .iter()
    .find(|css| {
        parse(css).is_some_and(|s| doc.select(&s).any(|e| e.value().attr("href").is_some()))
    })
    .map(|css| Sel::with_attrs(*css, &["href"]))
}

pub(crate) fn union(a: &[String], b: &[String]) -> Vec<String> {
    let order = ["iso8601", "rfc2822", "human", "ymd", "relative"];
    order
        .iter()
        .filter(|f| a.iter().chain(b).any(|x| x == *f))
        .map(|f| (*f).to_owned())
        .collect()
}

/// The selectors of a group's fields.
pub(crate) fn plan_for(group: &cards::Group<'_>, found: &[Finding<'_>], doc: &Html) -> HtmlPlan {
    let m = &group.members;
    let sel = |k: Kind| select::selector(k, m, found).map(Sel::css);
    let authors = sel(Kind::Authors);
    let split = authors.is_some()
        && found.iter().filter(|f| f.split_authors).count() * 2
            >= found
                .iter()
                .filter(|f| !f.authors.is_empty())
                .count()
                .max(1);
    HtmlPlan {
        item: group.selector.clone(),
        title: sel(Kind::Title),
        url: select::url_sel(m, found),
        summary: sel(Kind::Summary),
        authors,
        split_authors: split,
        published: sel(Kind::Date).map(|s| {
            // Microdata dates are in `content`; the default reads `datetime`.
            let meta = found
                .iter()
                .filter_map(|f| f.date)
                .any(|d| d.value().name() == "meta");
            let attrs = if meta {
                vec!["datetime".to_owned(), "content".to_owned()]
            } else {
                Vec::new()
            };
            Sel { attrs, ..s }
        }),
        tags: sel(Kind::Tags),
        image: sel(Kind::Image).map(|s| Sel {
            attrs: select::image_attrs(found),
            ..s
        }),
        next_page: next_page(doc),
        date_formats: date_formats(found),
        jsonld_first: false,
    }
}

/// The formats the cards' dates are written in, in the default order.
fn date_formats(found: &[Finding<'_>]) -> Vec<String> {
    let names = ["iso8601", "rfc2822", "human", "ymd", "relative"];
    let mut used = [false; 5];
    let mut numeric = Vec::new();
    for f in found {
        let Some(d) = f.date else { continue };
        let raw = d
            .value()
            .attr("datetime")
            .or_else(|| d.value().attr("content"))
            .map(str::to_owned)
            .unwrap_or_else(|| fields::text(d));
        let first = names.iter().position(|n| {
            crate::dates::DateFormats::from_names(&[*n]).is_ok_and(|fmt| {
                crate::dates::parse(
                    &raw,
                    &fmt,
                    chrono_tz::Tz::UTC,
                    crate::dates::Anchor::Instant(DateTime::UNIX_EPOCH),
                )
                .is_some()
            })
        });
        if let Some(i) = first {
            used[i] = true;
        } else if let Some(n) = fields::numeric_date(&raw) {
            numeric.push(n);
        }
    }
    let mut out: Vec<String> = names
        .iter()
        .zip(used)
        .filter(|(_, u)| *u)
        .map(|(n, _)| (*n).to_owned())
        .collect();
    if let Some((_, _, sep)) = numeric.first() {
        // Day first unless a second number above 12 says otherwise (05/31/2024).
        let month_first =
            numeric.iter().any(|(_, b, _)| *b > 12) && !numeric.iter().any(|(a, _, _)| *a > 12);
        out.push(if month_first {
            format!("%m{sep}%d{sep}%Y")
        } else {
            format!("%d{sep}%m{sep}%Y")
        });
    }
    out
}

/// A zone for dates without one, from the offsets the page's `datetime`s carry:
/// a fixed-offset `Etc/GMT` zone when they all agree on whole hours.
pub(crate) fn timezone_hint(found: &[Finding<'_>]) -> Option<(String, String)> {
    let offsets: HashSet<i32> = found
        .iter()
        .filter_map(|f| {
            let d = f.date?.value();
            d.attr("datetime").or_else(|| d.attr("content"))
        })
        .filter_map(|d| {
            // Any ISO 8601 spelling of the offset: +09:00, +0900, Z.
            let iso = crate::dates::DateFormats::from_names(&["iso8601"]).ok()?;
            let at = crate::dates::Anchor::Instant(DateTime::UNIX_EPOCH);
            let t = d.trim();
            // Only a value that states its offset says anything about the zone.
            let stated = t.ends_with(['Z', 'z'])
                || t.get(10..).is_some_and(|time| time.contains(['+', '-']));
            match crate::dates::parse(t, &iso, chrono_tz::Tz::UTC, at)? {
                crate::model::Published::DateTime(t) if stated => Some(t),
                _ => None,
            }
        })
        .map(|d| d.offset().local_minus_utc())
        .collect();
    let [secs] = offsets.into_iter().collect::<Vec<_>>()[..] else {
        return None;
    };
    if secs % 3600 != 0 {
        return None;
    }
    let hours = secs / 3600;
    // IANA's Etc zones count the other way: UTC+9 is Etc/GMT-9.
    let zone = match hours {
        0 => "UTC".to_owned(),
        h if h > 0 => format!("Etc/GMT-{h}"),
        h => format!("Etc/GMT+{}", -h),
    };
    let shown = format!("{}{:02}:00", if hours < 0 { '-' } else { '+' }, hours.abs());
    Some((
        zone,
        format!(
            "time zone hint: the page's dates carry {shown}; set the site's own zone (such as \"Asia/Seoul\") if it keeps daylight saving time"
        ),
    ))
}
