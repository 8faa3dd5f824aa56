//! The *score* of a group: how much its elements look like stories. A story
//! card has a headline link with words, a link deeper than the site's menus,
//! a date, a byline, a picture and an excerpt; menus, tag clouds, share
//! buttons and "most read" rails lack most of these or sit in page furniture,
//! which rejects a group outright. Every part of the score is said in words.

use scraper::ElementRef;
use url::Url;

use super::cards::{Group, furniture};
use super::fields::Finding;

/// A group's verdict.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Score {
    pub(crate) value: f64,
    pub(crate) reasons: Vec<String>,
    /// Why the group is not a listing at all.
    pub(crate) rejected: Option<String>,
}

/// Path segments of a link ("/2022/05/slug/" -> 3).
pub(crate) fn depth(base: Option<&Url>, href: &str) -> usize {
    crate::urls::resolve(base, href)
        .and_then(|u| Url::parse(&u).ok())
        .map_or(0, |u| {
            u.path_segments()
                .map_or(0, |s| s.filter(|p| !p.is_empty()).count())
        })
}

/// How deep the site's menus link: the median depth of links in `<nav>` and
/// the page `<header>`; 1 when the page has no menus.
pub(crate) fn menu_depth(doc: &scraper::Html, base: Option<&Url>) -> usize {
    let Ok(sel) = scraper::Selector::parse("nav a[href], header a[href]") else {
        return 1;
    };
    let mut depths: Vec<usize> = doc
        .select(&sel)
        // A card's own <header> is not the site's menu.
        .filter(|a| {
            !a.ancestors()
                .filter_map(ElementRef::wrap)
                .any(|p| p.value().name() == "article")
        })
        .filter_map(|a| a.value().attr("href"))
        .map(|h| depth(base, h))
        .collect();
    if depths.is_empty() {
        return 1;
    }
    depths.sort_unstable();
    depths[depths.len() / 2].max(1)
}

fn frac(n: usize, of: usize) -> f64 {
    if of == 0 { 0.0 } else { n as f64 / of as f64 }
}

/// Score `group` from its cards' findings.
pub(crate) fn score(
    group: &Group<'_>,
    found: &[Finding<'_>],
    base: Option<&Url>,
    menu_depth: usize,
) -> Score {
    let n = group.members.len();
    let count = |p: &dyn Fn(&Finding) -> bool| found.iter().filter(|f| p(f)).count();
    let headlines = count(&|f| f.title_words >= 3);
    let deep = count(&|f| {
        f.href
            .as_deref()
            .is_some_and(|h| depth(base, h) > menu_depth)
    });
    let dated = count(&|f| f.date.is_some());
    let bylined = count(&|f| !f.authors.is_empty());
    let pictured = count(&|f| f.image.is_some());
    let summarized = count(&|f| f.summary.is_some());
    let reasons = vec![
        format!("{n} elements"),
        format!("headline links with 3+ words {headlines}/{n}"),
        format!("links deeper than the menus (depth {menu_depth}) {deep}/{n}"),
        format!("date {dated}/{n}"),
        format!("author {bylined}/{n}"),
        format!("image {pictured}/{n}"),
        format!("summary {summarized}/{n}"),
    ];
    let in_furniture: Vec<String> = group.members.iter().filter_map(|m| furniture(*m)).collect();
    let rejected = if let Some(first) = in_furniture.first().filter(|_| in_furniture.len() * 2 > n)
    {
        Some(format!("page furniture: {first}"))
    } else if headlines * 2 < n {
        Some(format!(
            "not stories: only {headlines} of {n} have a headline link with words (a menu, tag cloud or buttons)"
        ))
    } else {
        None
    };
    let per_card = 3.0 * frac(headlines, n)
        + 1.5 * frac(deep, n)
        + 1.5 * frac(dated, n)
        + frac(bylined, n)
        + frac(pictured, n)
        + frac(summarized, n);
    // Two cards can be a list, but three or more are a surer one.
    let size = (0.5 + 0.17 * n as f64).min(1.0) + 0.1 * (n as f64).ln();
    Score {
        value: per_card * size,
        reasons,
        rejected,
    }
}

/// The story urls of a group's cards, resolved, for overlap checks.
pub(crate) fn urls(found: &[Finding<'_>], base: Option<&Url>) -> Vec<String> {
    found
        .iter()
        .filter_map(|f| f.href.as_deref())
        .filter_map(|h| crate::urls::resolve(base, h))
        .collect()
}

/// Is any member of `a` inside (or the same as) a member of `b`, or the reverse?
pub(crate) fn overlaps(a: &[ElementRef<'_>], b: &[ElementRef<'_>]) -> bool {
    let within = |x: &ElementRef<'_>, y: &ElementRef<'_>| {
        x.id() == y.id() || x.ancestors().any(|p| p.id() == y.id())
    };
    a.iter()
        .any(|x| b.iter().any(|y| within(x, y) || within(y, x)))
}
