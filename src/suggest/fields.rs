//! A *field finding* is the element of one card that holds one of its fields
//! (the headline link, the date, the byline, the picture, the excerpt, the
//! labels), found by what such elements look like on any site. Which
//! selector names them is [`super::select`]'s choice.

use scraper::ElementRef;

use super::cards::words;
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

pub(crate) fn is_heading(tag: &str) -> bool {
    matches!(tag, "h1" | "h2" | "h3" | "h4" | "h5" | "h6")
}

/// Elements strictly inside `card`, in page order.
fn inside<'a>(card: ElementRef<'a>) -> impl Iterator<Item = ElementRef<'a>> {
    card.descendants().skip(1).filter_map(ElementRef::wrap)
}

/// Ancestors of `el` up to (not including) `card`.
pub(crate) fn up_to<'a>(el: ElementRef<'a>, card: ElementRef<'a>) -> Vec<ElementRef<'a>> {
    el.ancestors()
        .take_while(|a| a.id() != card.id())
        .filter_map(ElementRef::wrap)
        .collect()
}

pub(crate) fn contains(outer: ElementRef<'_>, inner: Option<ElementRef<'_>>) -> bool {
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

pub(crate) const TITLE_WORDS: &[&str] = &["title", "headline", "heading", "name", "hed"];
pub(crate) const AUTHOR_WORDS: &[&str] = &[
    "author", "authors", "byline", "creator", "writer", "by", "username", "poster",
];
pub(crate) const SUMMARY_WORDS: &[&str] = &[
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
pub(crate) const TAG_WORDS: &[&str] = &[
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
pub(crate) const DATE_WORDS: &[&str] =
    &["date", "time", "published", "posted", "timestamp", "meta"];
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_dates_need_a_four_digit_year_and_one_separator() {
        assert_eq!(numeric_date("28/05/2024"), Some((28, 5, '/')));
        assert_eq!(numeric_date(" 3.5.2024 "), Some((3, 5, '.')));
        assert_eq!(numeric_date("05-31-2024"), Some((5, 31, '-')));
        for no in [
            "2024-05-28",
            "28/05/24",
            "28/05-2024",
            "32/01/2024",
            "May 5, 2024",
            "12:30",
        ] {
            assert_eq!(numeric_date(no), None, "{no}");
        }
    }

    #[test]
    fn profile_links_name_people() {
        for yes in [
            "/author/ana-silva/",
            "https://x.example/people/li",
            "/@jane",
        ] {
            assert!(is_profile(yes), "{yes}");
        }
        for no in [
            "/2024/05/authority-report/",
            "https://x.example/news/",
            "mailto:a@b",
        ] {
            assert!(!is_profile(no), "{no}");
        }
    }
}
