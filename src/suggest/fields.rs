//! A *field finding* is the element of one card that holds one of its fields
//! (the headline link, the date, the byline, the picture, the excerpt, the
//! labels), found by what such elements look like on any site. From the
//! findings of all cards of a group comes one selector per field: the one
//! that, read the way the HTML adapter reads it, picks the found element in
//! the most cards.

use std::collections::HashSet;

use ego_tree::NodeId;
use scraper::{ElementRef, Selector};

use super::block::Sel;
use super::cards::{is_ident, words};
use crate::dates::{self, Anchor, DateFormats};

/// What one card holds, as elements.
#[derive(Debug, Clone, Default)]
pub(crate) struct Finding<'a> {
    /// The element whose text is the title.
    pub(crate) title: Option<ElementRef<'a>>,
    /// The link to the story (the title element itself, an enclosing link, or the card).
    pub(crate) link: Option<ElementRef<'a>>,
    pub(crate) href: Option<String>,
    pub(crate) title_words: usize,
    pub(crate) date: Option<ElementRef<'a>>,
    pub(crate) authors: Vec<ElementRef<'a>>,
    /// The byline is one text naming several people.
    pub(crate) split_authors: bool,
    pub(crate) image: Option<ElementRef<'a>>,
    pub(crate) summary: Option<ElementRef<'a>>,
    pub(crate) tags: Vec<ElementRef<'a>>,
}

pub(crate) fn text(el: ElementRef<'_>) -> String {
    crate::model::collapse_whitespace(&el.text().collect::<String>())
}

fn class_words(el: ElementRef<'_>) -> Vec<String> {
    let v = el.value();
    v.classes()
        .chain(v.attr("itemprop"))
        .chain(v.attr("data-testid"))
        .flat_map(words)
        .collect()
}

fn has_word(el: ElementRef<'_>, set: &[&str]) -> bool {
    class_words(el).iter().any(|w| set.contains(&w.as_str()))
}

fn is_heading(tag: &str) -> bool {
    matches!(tag, "h1" | "h2" | "h3" | "h4" | "h5" | "h6")
}

/// Elements strictly inside `card`, in page order.
fn inside<'a>(card: ElementRef<'a>) -> impl Iterator<Item = ElementRef<'a>> {
    card.descendants().skip(1).filter_map(ElementRef::wrap)
}

/// Ancestors of `el` up to (not including) `card`.
fn up_to<'a>(el: ElementRef<'a>, card: ElementRef<'a>) -> Vec<ElementRef<'a>> {
    el.ancestors()
        .take_while(|a| a.id() != card.id())
        .filter_map(ElementRef::wrap)
        .collect()
}

fn contains(outer: ElementRef<'_>, inner: Option<ElementRef<'_>>) -> bool {
    inner.is_some_and(|i| i.id() == outer.id() || i.ancestors().any(|a| a.id() == outer.id()))
}

/// A link to a person's page: `/author/x/`, `/authors/x`, `/people/x`, `/@x`.
fn is_profile(href: &str) -> bool {
    let path = href
        .split_once("://")
        .map_or(href, |(_, rest)| rest.find('/').map_or("", |i| &rest[i..]));
    [
        "/author/",
        "/authors/",
        "/people/",
        "/profile/",
        "/profiles/",
        "/writers/",
        "/by/",
    ]
    .iter()
    .any(|p| path.contains(p))
        || path.starts_with("/@")
}

/// Links that are never the story: share buttons, anchors, scripts.
pub(crate) fn is_share_or_dead(href: &str) -> bool {
    const SOCIAL: &[&str] = &[
        "facebook.com/sharer",
        "twitter.com/intent",
        "twitter.com/share",
        "x.com/intent",
        "linkedin.com/share",
        "reddit.com/submit",
        "pinterest.com/pin",
        "wa.me/",
        "api.whatsapp.com",
        "t.me/share",
    ];
    let h = href.trim().to_ascii_lowercase();
    h.is_empty()
        || h.starts_with('#')
        || h.starts_with("javascript:")
        || h.starts_with("mailto:")
        || h.starts_with("tel:")
        || SOCIAL.iter().any(|s| h.contains(s))
}

const TITLE_WORDS: &[&str] = &["title", "headline", "heading", "name", "hed"];
const AUTHOR_WORDS: &[&str] = &[
    "author", "authors", "byline", "creator", "writer", "by", "username", "poster",
];
const SUMMARY_WORDS: &[&str] = &[
    "excerpt",
    "summary",
    "dek",
    "teaser",
    "description",
    "standfirst",
    "lede",
    "intro",
    "snippet",
    "subtitle",
    "abstract",
];
const TAG_WORDS: &[&str] = &[
    "label",
    "badge",
    "tag",
    "tags",
    "category",
    "categories",
    "kicker",
    "topic",
    "section",
];
const DATE_WORDS: &[&str] = &["date", "time", "published", "posted", "timestamp", "meta"];
/// Where lazy-loading scripts keep the real picture, then `src`.
pub(crate) const IMAGE_ATTRS: &[&str] = &["data-src", "data-lazy-src", "data-original", "src"];
const NOT_IMAGE_WORDS: &[&str] = &["avatar", "gravatar", "author", "logo", "icon", "emoji"];

/// Is `text` a date the default formats read? Anchored anywhere: only
/// whether it parses matters here.
pub(crate) fn is_date(text: &str) -> bool {
    text.len() <= 60
        && dates::parse(
            text,
            &DateFormats::default(),
            chrono_tz::Tz::UTC,
            Anchor::Instant(chrono::DateTime::UNIX_EPOCH),
        )
        .is_some()
}

/// A numeric day and month with a four-digit year ("05/07/2024",
/// "5.7.2024"): the two leading numbers and the separator. Which is the day
/// is for the whole page to say (a number above 12).
pub(crate) fn numeric_date(text: &str) -> Option<(u32, u32, char)> {
    let t = text.trim();
    let sep = t.chars().find(|c| !c.is_ascii_digit())?;
    if !matches!(sep, '/' | '.' | '-') {
        return None;
    }
    let parts: Vec<&str> = t.split(sep).collect();
    let [a, b, y] = parts.as_slice() else {
        return None;
    };
    let num = |s: &str, max: u32| {
        let ok = (1..=2).contains(&s.len()) && s.chars().all(|c| c.is_ascii_digit());
        ok.then(|| s.parse::<u32>().ok())
            .flatten()
            .filter(|n| (1..=max).contains(n))
    };
    let year_ok = y.len() == 4 && y.chars().all(|c| c.is_ascii_digit());
    Some((num(a, 31)?, num(b, 31)?, sep)).filter(|_| year_ok)
}

/// The fields of one card.
pub(crate) fn find(card: ElementRef<'_>) -> Finding<'_> {
    let mut f = Finding::default();
    find_title(card, &mut f);
    f.date = inside(card)
        .find(|e| {
            e.value().name() == "time"
                && (e.value().attr("datetime").is_some_and(is_date) || is_date(&text(*e)))
        })
        .or_else(|| {
            inside(card).find(|e| {
                !contains(*e, f.title)
                    && e.children().filter_map(ElementRef::wrap).count() == 0
                    && is_date(&text(*e))
            })
        })
        .or_else(|| {
            inside(card)
                .find(|e| has_word(*e, DATE_WORDS) && !contains(*e, f.title) && is_date(&text(*e)))
        })
        .or_else(|| {
            inside(card).find(|e| {
                e.children().filter_map(ElementRef::wrap).count() == 0
                    && numeric_date(&text(*e)).is_some()
            })
        })
        .or_else(|| {
            // Microdata: <meta itemprop="datePublished" content="2024-05-01">.
            inside(card).find(|e| {
                e.value().name() == "meta"
                    && e.value()
                        .attr("itemprop")
                        .is_some_and(|p| p.starts_with("date"))
                    && e.value().attr("content").is_some_and(is_date)
            })
        });
    find_authors(card, &mut f);
    f.image = inside(card).find(|e| {
        e.value().name() == "img"
            && IMAGE_ATTRS.iter().any(|a| {
                e.value()
                    .attr(a)
                    .and_then(crate::adapters::html::usable_attr)
                    .is_some()
            })
            && !has_word(*e, NOT_IMAGE_WORDS)
            && !e
                .value()
                .attr("alt")
                .is_some_and(|a| words(a).any(|w| NOT_IMAGE_WORDS.contains(&w.as_str())))
            && !up_to(*e, card)
                .iter()
                .any(|a| has_word(*a, NOT_IMAGE_WORDS))
            && e.value()
                .attr("width")
                .and_then(|w| w.parse::<u32>().ok())
                .is_none_or(|w| w >= 40)
    });
    let taken = |e: ElementRef<'_>, f: &Finding<'_>| {
        contains(e, f.title)
            || f.title.is_some_and(|t| contains(t, Some(e)))
            || contains(e, f.date)
            || f.authors
                .iter()
                .any(|a| contains(e, Some(*a)) || contains(*a, Some(e)))
    };
    let summary_like = |e: ElementRef<'_>| text(e).split_whitespace().count() >= 6;
    f.summary = inside(card)
        .find(|e| has_word(*e, SUMMARY_WORDS) && !taken(*e, &f) && summary_like(*e))
        .or_else(|| {
            inside(card).find(|e| e.value().name() == "p" && !taken(*e, &f) && summary_like(*e))
        });
    let tag_els: Vec<ElementRef> = inside(card)
        .filter(|e| {
            let n = text(*e).split_whitespace().count();
            (1..=4).contains(&n)
                && !taken(*e, &f)
                && !contains(*e, f.summary)
                && (has_word(*e, TAG_WORDS)
                    || e.value()
                        .attr("rel")
                        .is_some_and(|r| words(r).any(|w| w == "tag" || w == "category")))
        })
        .collect();
    // Only the outermost: a label's inner <span> is part of its text.
    f.tags = tag_els
        .iter()
        .filter(|e| {
            !tag_els
                .iter()
                .any(|o| o.id() != e.id() && contains(*o, Some(**e)))
        })
        .copied()
        .collect();
    f
}

fn find_title<'a>(card: ElementRef<'a>, f: &mut Finding<'a>) {
    let mut best: Option<(i64, ElementRef<'a>, ElementRef<'a>)> = None;
    let links = std::iter::once(card).chain(inside(card)).filter(|e| {
        e.value().name() == "a" && e.value().attr("href").is_some_and(|h| !is_share_or_dead(h))
    });
    for link in links {
        // The title is the link's text, or a heading inside a block link.
        // A heading, or an element named as the headline, inside a block link
        // (a kicker beside it is not part of the title).
        let heading_inside = inside(link)
            .find(|e| is_heading(e.value().name()))
            .or_else(|| inside(link).find(|e| has_word(*e, TITLE_WORDS) && !text(*e).is_empty()));
        let title = heading_inside.unwrap_or(link);
        let words = text(title);
        let n = words.split_whitespace().count();
        // "3 hours ago" links to comments, not to a story.
        if n == 0 || is_date(&words) {
            continue;
        }
        let mut score = i64::try_from(n.min(15)).unwrap_or(15);
        let in_heading = heading_inside.is_some()
            || up_to(link, card)
                .iter()
                .any(|a| is_heading(a.value().name()));
        if in_heading {
            score += 6;
        }
        if has_word(title, TITLE_WORDS)
            || up_to(title, card).iter().any(|a| has_word(*a, TITLE_WORDS))
        {
            score += 3;
        }
        if has_word(link, AUTHOR_WORDS)
            || has_word(link, TAG_WORDS)
            || has_word(link, SUMMARY_WORDS)
        {
            score -= 6;
        }
        if best.as_ref().is_none_or(|(s, _, _)| score > *s) {
            best = Some((score, title, link));
        }
    }
    // A heading with a link elsewhere in the card (an empty overlay link).
    if best.is_none()
        && let Some(h) = inside(card).find(|e| is_heading(e.value().name()) && !text(*e).is_empty())
        && let Some(link) = std::iter::once(card).chain(inside(card)).find(|e| {
            e.value().name() == "a" && e.value().attr("href").is_some_and(|h| !is_share_or_dead(h))
        })
    {
        best = Some((0, h, link));
    }
    if let Some((_, title, link)) = best {
        f.title_words = text(title).split_whitespace().count();
        f.href = link.value().attr("href").map(|h| h.trim().to_owned());
        f.title = Some(title);
        f.link = Some(link);
    }
}

fn find_authors<'a>(card: ElementRef<'a>, f: &mut Finding<'a>) {
    let rel: Vec<ElementRef> = inside(card)
        .filter(|e| {
            e.value()
                .attr("rel")
                .is_some_and(|r| words(r).any(|w| w == "author"))
        })
        .filter(|e| !text(*e).is_empty())
        .collect();
    if !rel.is_empty() {
        f.authors = rel;
        return;
    }
    // The first byline element that holds no title of its own; names are its
    // links, else (when it holds no date) the byline elements inside it, else its text.
    let names_in = |h: ElementRef<'a>| -> Vec<ElementRef<'a>> {
        inside(h)
            .filter(|e| e.value().name() == "a" && !text(*e).is_empty() && !contains(*e, f.date))
            .collect()
    };
    let holders: Vec<ElementRef> = inside(card)
        .filter(|e| has_word(*e, AUTHOR_WORDS) && e.value().name() != "img")
        .filter(|e| !contains(*e, f.title) && !contains(*e, f.link))
        .filter(|e| !text(*e).is_empty())
        .filter(|e| !contains(*e, f.date) || !names_in(*e).is_empty())
        .collect();
    let Some(holder) = holders.first().copied() else {
        // No byline element: links to profile pages name the authors.
        f.authors = inside(card)
            .filter(|e| e.value().name() == "a" && !text(*e).is_empty())
            .filter(|e| e.value().attr("href").is_some_and(is_profile))
            .filter(|e| !contains(*e, f.title) && !contains(*e, f.link))
            .collect();
        return;
    };
    let nested: Vec<ElementRef> = holders
        .iter()
        .filter(|h| h.id() != holder.id() && contains(holder, Some(**h)))
        .filter(|h| {
            !holders
                .iter()
                .any(|o| o.id() != h.id() && contains(**h, Some(*o)))
        })
        .copied()
        .collect();
    let links = names_in(holder);
    if links.is_empty() && nested.len() > 1 {
        f.authors = nested;
    } else if links.is_empty() {
        let t = text(holder);
        let seps: Vec<String> = crate::adapters::byline::DEFAULT_SEPARATORS
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let names = crate::adapters::byline::split(&t, &seps);
        let says_by = t.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("by "));
        f.split_authors = names.len() > 1 || says_by;
        f.authors = vec![holder];
    } else {
        f.authors = links;
    }
}

/// Which field of a card a selector is judged for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Title,
    Date,
    Authors,
    Image,
    Summary,
    Tags,
    /// The story link, when it is not the title element.
    Link,
}

impl Kind {
    fn multi(self) -> bool {
        matches!(self, Kind::Authors | Kind::Tags)
    }

    /// Does the adapter take a value from `el` for this field?
    fn yields(self, el: ElementRef<'_>) -> bool {
        match self {
            Kind::Image => IMAGE_ATTRS.iter().any(|a| {
                el.value()
                    .attr(a)
                    .and_then(crate::adapters::html::usable_attr)
                    .is_some()
            }),
            Kind::Date => {
                el.value().attr("datetime").is_some()
                    || el.value().attr("content").is_some()
                    || !text(el).is_empty()
            }
            Kind::Link => el
                .value()
                .attr("href")
                .is_some_and(|h| !h.trim().is_empty()),
            _ => !text(el).is_empty(),
        }
    }

    /// Words of class names that name this field.
    fn hints(self) -> &'static [&'static str] {
        match self {
            Kind::Title => TITLE_WORDS,
            Kind::Date => DATE_WORDS,
            Kind::Authors => AUTHOR_WORDS,
            Kind::Summary => SUMMARY_WORDS,
            Kind::Tags => TAG_WORDS,
            Kind::Image => &[
                "image",
                "img",
                "thumb",
                "thumbnail",
                "photo",
                "picture",
                "cover",
            ],
            Kind::Link => &["link", "permalink", "url"],
        }
    }

    pub(crate) fn chosen<'a>(self, f: &Finding<'a>) -> Vec<ElementRef<'a>> {
        match self {
            Kind::Title => f.title.into_iter().collect(),
            Kind::Date => f.date.into_iter().collect(),
            Kind::Authors => f.authors.clone(),
            Kind::Image => f.image.into_iter().collect(),
            Kind::Summary => f.summary.into_iter().collect(),
            Kind::Tags => f.tags.clone(),
            Kind::Link => f.link.into_iter().collect(),
        }
    }
}

/// Selectors that could name `el` inside `card`, plainest first.
fn proposals(el: ElementRef<'_>, card: ElementRef<'_>) -> Vec<String> {
    let tag = el.value().name();
    let classes: Vec<&str> = el.value().classes().filter(|c| is_ident(c)).collect();
    let mut out = Vec::new();
    for c in &classes {
        out.push(format!(".{c}"));
        out.push(format!("{tag}.{c}"));
    }
    if let Some(rel) = el.value().attr("rel").filter(|r| is_ident(r)) {
        out.push(format!("{tag}[rel=\"{rel}\"]"));
    }
    for (name, value) in super::cards::named_attrs(el) {
        out.push(format!("[{name}=\"{value}\"]"));
    }
    if let Some(parent) = up_to(el, card).first().copied() {
        let ptag = parent.value().name();
        for pc in parent.value().classes().filter(|c| is_ident(c)) {
            out.push(format!(".{pc} {tag}"));
        }
        out.push(format!("{ptag} {tag}"));
    }
    for a in up_to(el, card).iter().skip(1).take(3) {
        for ac in a.value().classes().filter(|c| is_ident(c)) {
            out.push(format!(".{ac} {tag}"));
        }
        if is_heading(a.value().name()) {
            out.push(format!("{} {tag}", a.value().name()));
        }
    }
    out.push(tag.to_owned());
    // Class-less cells and spans by position: `td:nth-child(2)`.
    let n = el
        .prev_siblings()
        .filter(|s| s.value().is_element())
        .count()
        + 1;
    out.push(format!("{tag}:nth-child({n})"));
    out
}

/// What `css` reads in `card` the adapter's way: the first element that
/// yields a value, or every one for a multi-valued field, skipping matches
/// inside one whose text was read.
fn reads<'a>(kind: Kind, sel: &Selector, card: ElementRef<'a>) -> Vec<NodeId> {
    let mut out = Vec::new();
    let mut reading: Option<ElementRef<'a>> = None;
    for m in card.select(sel) {
        if reading.is_some_and(|r| contains(r, Some(m))) {
            continue;
        }
        if kind.yields(m) {
            if kind != Kind::Image {
                reading = Some(m);
            }
            out.push(m.id());
            if !kind.multi() {
                break;
            }
        }
    }
    out
}

/// The selector for `kind` that agrees with the findings in the most cards;
/// `None` when no card has the field or no selector finds it in half of them.
pub(crate) fn selector(
    kind: Kind,
    cards: &[ElementRef<'_>],
    found: &[Finding<'_>],
) -> Option<String> {
    let with: Vec<usize> = (0..cards.len())
        .filter(|i| !kind.chosen(&found[*i]).is_empty())
        .collect();
    if with.is_empty() {
        return None;
    }
    let mut tried = HashSet::new();
    let mut best: Option<(i64, bool, String)> = None;
    for &i in with.iter().take(5) {
        for el in kind.chosen(&found[i]).into_iter().take(1) {
            for css in proposals(el, cards[i]) {
                if !tried.insert(css.clone()) {
                    continue;
                }
                let Ok(sel) = Selector::parse(&css) else {
                    continue;
                };
                let mut score = 0i64;
                for (card, f) in cards.iter().zip(found) {
                    let want: Vec<NodeId> = kind.chosen(f).iter().map(|e| e.id()).collect();
                    let got = reads(kind, &sel, *card);
                    score += match (want.is_empty(), got == want) {
                        (_, true) if !want.is_empty() => 2,
                        (true, true) => 0,
                        _ => -1,
                    };
                }
                // On a tie, a selector that names the field ("post-title") wins.
                let named = kind.hints().iter().any(|h| words(&css).any(|w| w == *h));
                let better = best
                    .as_ref()
                    .is_none_or(|(s, n, _)| (score, named) > (*s, *n));
                if better {
                    best = Some((score, named, css));
                }
            }
        }
    }
    let need = i64::try_from(with.len()).unwrap_or(i64::MAX);
    best.filter(|(s, _, _)| *s >= need).map(|(_, _, css)| css)
}

/// The selector and attributes of the link when it is not the title element.
pub(crate) fn url_sel(cards: &[ElementRef<'_>], found: &[Finding<'_>]) -> Option<Sel> {
    let apart = found
        .iter()
        .filter(|f| f.link.is_some() && f.title.map(|t| t.id()) != f.link.map(|l| l.id()))
        .count();
    if apart * 2 < found.len().max(1) {
        return None;
    }
    let card_is_link = cards
        .iter()
        .zip(found)
        .filter(|(c, f)| f.link.map(|l| l.id()) == Some(c.id()))
        .count();
    if card_is_link * 2 >= found.len() {
        return Some(Sel::with_attrs(crate::config::FieldSpec::SCOPE, &["href"]));
    }
    // The heading sits inside the link, or the link is elsewhere in the card.
    selector(Kind::Link, cards, found).map(|css| Sel::with_attrs(css, &["href"]))
}

/// The attributes to read images from, when the default (`data-src`, then
/// `src`) would miss what the cards use.
pub(crate) fn image_attrs(found: &[Finding<'_>]) -> Vec<String> {
    let used: Vec<&str> = IMAGE_ATTRS
        .iter()
        .copied()
        .filter(|a| {
            found.iter().filter_map(|f| f.image).any(|img| {
                img.value()
                    .attr(a)
                    .and_then(crate::adapters::html::usable_attr)
                    .is_some()
            })
        })
        .collect();
    if used.iter().all(|a| matches!(*a, "data-src" | "src")) {
        return Vec::new();
    }
    let mut attrs: Vec<String> = used.iter().map(|a| (*a).to_owned()).collect();
    if !attrs.iter().any(|a| a == "src") {
        attrs.push("src".to_owned());
    }
    attrs
}
