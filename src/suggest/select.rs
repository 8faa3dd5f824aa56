//! A *selector choice* turns the findings of a group's cards into one
//! selector per field: every selector that could name a found element is
//! tried on every card the way the HTML adapter reads it, and the one that
//! picks the found element in the most cards (the one naming the field, on a
//! tie) is chosen.

use std::collections::HashSet;

use ego_tree::NodeId;
use scraper::{ElementRef, Selector};

use super::block::Sel;
use super::cards::{is_ident, words};
use super::fields::{
    AUTHOR_WORDS, DATE_WORDS, Finding, IMAGE_ATTRS, SUMMARY_WORDS, TAG_WORDS, TITLE_WORDS,
    contains, is_heading, text, up_to,
};

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
