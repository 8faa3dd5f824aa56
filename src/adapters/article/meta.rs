//! An article page's *metadata*: its dates, authors and lead image, each
//! from the most machine-readable place that has it (JSON-LD, then `<meta>`
//! and microdata, then the byline, then visible text).

use chrono_tz::Tz;
use scraper::{ElementRef, Html, Selector};
use url::Url;

use super::content::words;
use super::{DateOrigin, Dated};
use crate::adapters::byline::{DEFAULT_SEPARATORS, split};
use crate::adapters::card::RawCard;
use crate::adapters::jsonld;
use crate::dates::{self, Anchor, DateFormat, DateFormats};
use crate::model::collapse_whitespace as collapse;

pub(super) struct Found {
    pub(super) published: Option<Dated>,
    pub(super) updated: Option<Dated>,
    pub(super) authors: Vec<String>,
    pub(super) image: Option<String>,
}

/// `<meta>` names (and `itemprop`s) of the publication time, most used first.
const PUBLISHED_META: &[&str] = &[
    "article:published_time",
    "og:article:published_time",
    "datepublished",
    "article.published",
    "parsely-pub-date",
    "publish-date",
    "publishdate",
    "pubdate",
    "sailthru.date",
    "dc.date.issued",
    "dcterms.created",
    "dcterms.date",
    "dc.date",
];

const MODIFIED_META: &[&str] = &[
    "article:modified_time",
    "og:article:modified_time",
    "datemodified",
    "og:updated_time",
    "article.updated",
    "dcterms.modified",
];

const IMAGE_META: &[&str] = &[
    "og:image",
    "og:image:url",
    "og:image:secure_url",
    "twitter:image",
    "twitter:image:src",
];

fn sel(css: &str) -> Option<Selector> {
    Selector::parse(css).ok()
}

pub(super) fn read(doc: &Html, url: &Url, tz: Tz) -> Found {
    let card = jsonld_article(doc, url);
    let scope = scope(doc);
    let exact = |s: &str| {
        let formats = DateFormats::from_names(&["iso8601", "rfc2822"]).ok()?;
        dates::parse(s, &formats, tz, Anchor::Day(chrono::NaiveDate::MIN))
    };
    let jsonld_date = |s: Option<&String>| {
        s.and_then(|s| exact(s)).map(|value| Dated {
            value,
            origin: DateOrigin::JsonLd,
        })
    };
    let meta_date = |names: &[&str]| {
        meta_values(doc, names)
            .into_iter()
            .find_map(|v| exact(&v))
            .map(|value| Dated {
                value,
                origin: DateOrigin::Meta,
            })
    };
    let published = jsonld_date(card.as_ref().and_then(|c| c.published.as_ref()))
        .or_else(|| meta_date(PUBLISHED_META))
        .or_else(|| time_date(scope, false, &exact))
        .or_else(|| text_date(scope, tz));
    let updated = jsonld_date(card.as_ref().and_then(|c| c.updated.as_ref()))
        .or_else(|| meta_date(MODIFIED_META))
        .or_else(|| time_date(scope, true, &exact));
    let mut authors = card.as_ref().map(|c| c.authors.clone()).unwrap_or_default();
    if authors.is_empty() {
        authors = byline(scope);
    }
    if authors.is_empty() {
        authors = meta_values(doc, &["author", "article:author", "parsely-author"])
            .into_iter()
            .filter(|a| !a.starts_with("http"))
            .flat_map(|a| names(&a))
            .collect();
    }
    let mut seen = std::collections::HashSet::new();
    authors.retain(|a| seen.insert(a.to_lowercase()));
    let image = meta_values(doc, IMAGE_META)
        .into_iter()
        .chain(link_image(doc))
        .chain(card.and_then(|c| c.image))
        .chain(featured_image(scope))
        .chain(first_image(scope))
        .find_map(|u| absolute(url, &u));
    Found {
        published,
        updated,
        authors,
        image,
    }
}

/// The page's JSON-LD article: the one whose url is the page's, else the first.
fn jsonld_article(doc: &Html, url: &Url) -> Option<RawCard> {
    let scripts: Vec<String> = sel(r#"script[type="application/ld+json"]"#)
        .map(|s| doc.select(&s).map(|e| e.text().collect()).collect())
        .unwrap_or_default();
    let mut notes = Vec::new();
    let cards = jsonld::cards(&scripts, &mut notes);
    let same = |c: &RawCard| {
        c.url
            .as_deref()
            .and_then(|u| url.join(u).ok())
            .is_some_and(|u| u.path() == url.path())
    };
    let i = cards.iter().position(same).unwrap_or(0);
    cards.into_iter().nth(i)
}

/// Where the story's own byline and dates are: the first `<article>`, else
/// `<main>`, else the whole page.
fn scope(doc: &Html) -> ElementRef<'_> {
    ["article", "main", "[role=main]"]
        .iter()
        .filter_map(|c| sel(c))
        .find_map(|s| doc.select(&s).next())
        .unwrap_or_else(|| doc.root_element())
}

/// Values of `<meta>` elements (by `property`, `name` or `itemprop`) and
/// microdata `itemprop`s named in `names`, in `names` order.
fn meta_values(doc: &Html, names: &[&str]) -> Vec<String> {
    let Some(s) = sel("meta[content], [itemprop][content], [itemprop][datetime]") else {
        return Vec::new();
    };
    let mut found: Vec<(usize, String)> = Vec::new();
    for el in doc.select(&s) {
        let e = el.value();
        let key = ["property", "name", "itemprop"]
            .iter()
            .filter_map(|a| e.attr(a))
            .find_map(|k| {
                let k = k.trim().to_lowercase();
                names.iter().position(|n| *n == k)
            });
        let value = e.attr("content").or_else(|| e.attr("datetime"));
        if let (Some(k), Some(v)) = (key, value) {
            let v = v.trim();
            if !v.is_empty() {
                found.push((k, v.to_owned()));
            }
        }
    }
    found.sort_by_key(|(k, _)| *k);
    found.into_iter().map(|(_, v)| v).collect()
}

fn is_modified(el: ElementRef<'_>) -> bool {
    words(el.value()).any(|w| ["updated", "modified", "update"].contains(&w.as_str()))
        || el
            .value()
            .attr("itemprop")
            .is_some_and(|p| p.eq_ignore_ascii_case("datemodified"))
}

/// The byline `<time datetime>`: the first outside comments, related lists
/// and author boxes; `modified` picks one marked as the update time.
fn time_date(
    scope: ElementRef<'_>,
    modified: bool,
    exact: &dyn Fn(&str) -> Option<crate::model::Published>,
) -> Option<Dated> {
    let s = sel("time[datetime]")?;
    scope
        .select(&s)
        .filter(|t| !in_boilerplate_above(*t, scope))
        .filter(|t| is_modified(*t) == modified)
        .find_map(|t| t.value().attr("datetime").and_then(exact))
        .map(|value| Dated {
            value,
            origin: DateOrigin::Time,
        })
}

/// Is an ancestor of `el` below `scope` boilerplate that is not a byline
/// (bylines carry dates and authors, so they count here)?
fn in_boilerplate_above(el: ElementRef<'_>, scope: ElementRef<'_>) -> bool {
    std::iter::once(el)
        .chain(
            el.ancestors()
                .filter_map(ElementRef::wrap)
                .take_while(|a| a.id() != scope.id()),
        )
        .any(|a| {
            words(a.value()).any(|w| {
                [
                    "comment", "comments", "related", "widget", "sidebar", "trending", "more",
                    "masthead", "site", "banner",
                ]
                .contains(&w.as_str())
            }) || ["aside", "nav", "footer"].contains(&a.value().name())
        })
}

/// A visible date ("May 20, 2022") in an element whose class says it is one.
fn text_date(scope: ElementRef<'_>, tz: Tz) -> Option<Dated> {
    let all = sel("*")?;
    let formats = DateFormats::from_names(&["human", "iso8601"]).ok()?;
    let human = DateFormats::from_names(&[DateFormat::Human.to_string()]).ok();
    scope
        .select(&all)
        .filter(|e| {
            words(e.value()).any(|w| {
                [
                    "date",
                    "dateline",
                    "published",
                    "posted",
                    "timestamp",
                    "time",
                ]
                .contains(&w.as_str())
            })
        })
        .filter(|e| !in_boilerplate_above(*e, scope) && !is_modified(*e))
        .find_map(|e| {
            let text = collapse(&e.text().collect::<String>());
            if text.chars().count() > 60 {
                return None;
            }
            let anchor = Anchor::Day(chrono::NaiveDate::MIN);
            dates::parse(&text, &formats, tz, anchor).or_else(|| {
                human
                    .as_ref()
                    .and_then(|h| dates::parse(&text, h, tz, anchor))
            })
        })
        .map(|value| Dated {
            value,
            origin: DateOrigin::Text,
        })
}

/// Names in one author text: "By A, B and C" -> A, B, C.
fn names(text: &str) -> Vec<String> {
    let seps: Vec<String> = DEFAULT_SEPARATORS.iter().map(|s| (*s).to_owned()).collect();
    split(&collapse(text), &seps)
        .into_iter()
        .filter(|n| !n.is_empty() && n.chars().count() <= 60)
        .collect()
}

/// Authors named in the byline: microdata `author` names, `rel=author`
/// links, or the links (else the text) of an element whose class says byline.
fn byline(scope: ElementRef<'_>) -> Vec<String> {
    let text = |e: ElementRef<'_>| collapse(&e.text().collect::<String>());
    let outside = |e: &ElementRef<'_>| !in_boilerplate_above(*e, scope) && !in_author_box(*e);
    if let (Some(s), Some(n)) = (sel("[itemprop~=author]"), sel("[itemprop~=name]")) {
        let found: Vec<String> = scope
            .select(&s)
            .filter(outside)
            .flat_map(|a| match a.select(&n).next() {
                Some(name) => vec![text(name)],
                None => a
                    .value()
                    .attr("content")
                    .map(|c| vec![c.to_owned()])
                    .unwrap_or_else(|| names(&text(a))),
            })
            .filter(|n| !n.is_empty())
            .collect();
        if !found.is_empty() {
            return found;
        }
    }
    if let Some(s) = sel("a[rel~=author]") {
        let found: Vec<String> = scope
            .select(&s)
            .filter(outside)
            .flat_map(|a| names(&text(a)))
            .collect();
        if !found.is_empty() {
            return found;
        }
    }
    let (Some(all), Some(links)) = (sel("*"), sel("a")) else {
        return Vec::new();
    };
    scope
        .select(&all)
        .filter(|e| {
            words(e.value())
                .any(|w| ["byline", "author", "authors", "by", "username"].contains(&w.as_str()))
                && outside(e)
                && e.value().name() != "img"
        })
        .map(|e| {
            let linked: Vec<String> = e.select(&links).flat_map(|a| names(&text(a))).collect();
            if linked.is_empty() {
                names(&text(e))
            } else {
                linked
            }
        })
        .find(|n| !n.is_empty())
        .unwrap_or_default()
}

/// Inside an "about the author" box (a bio, not a byline)?
fn in_author_box(el: ElementRef<'_>) -> bool {
    std::iter::once(el)
        .chain(el.ancestors().filter_map(ElementRef::wrap))
        .any(|a| words(a.value()).any(|w| ["box", "bio", "about", "avatar"].contains(&w.as_str())))
}

fn link_image(doc: &Html) -> Option<String> {
    let s = sel(r#"link[rel="image_src"][href]"#)?;
    doc.select(&s)
        .next()
        .and_then(|l| l.value().attr("href"))
        .map(str::to_owned)
}

/// The featured image: an `<img>` marked as the post's image, or inside an
/// element whose class says featured, hero or lead; a lazy one's real url.
fn featured_image(scope: ElementRef<'_>) -> Option<String> {
    let s = sel("img")?;
    scope
        .select(&s)
        .filter(|img| {
            img.value()
                .attr("itemprop")
                .is_some_and(|p| p.split_whitespace().any(|p| p == "image"))
                || std::iter::once(*img)
                    .chain(img.ancestors().filter_map(ElementRef::wrap).take(3))
                    .any(|e| {
                        words(e.value()).any(|w| {
                            ["featured", "hero", "lead", "thumbnail", "wp-post-image"]
                                .contains(&w.as_str())
                        }) || e
                            .value()
                            .attr("class")
                            .is_some_and(|c| c.contains("wp-post-image"))
                    })
        })
        .find_map(|img| {
            ["data-src", "data-lazy-src", "data-original", "src"]
                .iter()
                .filter_map(|a| img.value().attr(a))
                .map(str::trim)
                .find(|v| !v.is_empty() && !v.starts_with("data:"))
                .map(str::to_owned)
        })
}

/// The last resort: the first image of the story that is no avatar, logo
/// or icon and not in boilerplate.
fn first_image(scope: ElementRef<'_>) -> Option<String> {
    let s = sel("img")?;
    scope
        .select(&s)
        .filter(|img| !in_author_box(*img) && !in_boilerplate_above(*img, scope))
        .filter(|img| {
            !words(img.value()).any(|w| ["logo", "icon", "avatar", "emoji"].contains(&w.as_str()))
                && img
                    .value()
                    .attr("width")
                    .and_then(|w| w.trim().parse::<u32>().ok())
                    .is_none_or(|w| w >= 200)
        })
        .find_map(|img| {
            ["data-src", "data-lazy-src", "src"]
                .iter()
                .filter_map(|a| img.value().attr(a))
                .map(str::trim)
                .find(|v| !v.is_empty() && !v.starts_with("data:"))
                .map(str::to_owned)
        })
}

/// `u` resolved against the page; `data:` and non-http urls are no image.
fn absolute(base: &Url, u: &str) -> Option<String> {
    let u = u.trim();
    if u.is_empty() || u.starts_with("data:") {
        return None;
    }
    let abs = base.join(u).ok()?;
    matches!(abs.scheme(), "http" | "https").then(|| abs.to_string())
}
