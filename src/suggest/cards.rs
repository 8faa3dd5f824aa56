//! A *group* is a set of elements one CSS selector matches that repeat on a
//! page (`article.post`, `ul.list > li`): each a possible card. Groups are
//! found without knowing the site: every class, tag-with-class and
//! parent-with-child selector that matches two or more elements is one, and
//! groups matching the same elements are one. Whether a group holds stories
//! is [`super::score`]'s call.

use std::collections::HashMap;

use ego_tree::NodeId;
use scraper::{ElementRef, Html};

/// Elements that are never a card.
const NOT_CARDS: &[&str] = &[
    "html", "head", "body", "script", "style", "noscript", "template", "meta", "link", "title",
    "br", "hr", "img", "picture", "source", "svg", "path", "time", "span", "b", "i", "em",
    "strong", "small", "input", "button", "option", "select", "form", "label", "iframe", "h1",
    "h2", "h3", "h4", "h5", "h6", "p",
];

/// Words in class names and ids that mark page furniture, not a listing.
pub(crate) const FURNITURE: &[&str] = &[
    "nav",
    "navbar",
    "navigation",
    "menu",
    "footer",
    "sidebar",
    "widget",
    "trending",
    "popular",
    "mostread",
    "most-read",
    "most-popular",
    "related",
    "share",
    "sharing",
    "social",
    "breadcrumb",
    "breadcrumbs",
    "pagination",
    "pager",
    "tagcloud",
    "tag-cloud",
    "comments",
    "comment",
    "newsletter",
    "promo",
    "ad",
    "ads",
    "advert",
    "sponsored",
];

/// One group: the selector and the elements it matches, in page order.
#[derive(Debug, Clone)]
pub(crate) struct Group<'a> {
    pub(crate) selector: String,
    pub(crate) members: Vec<ElementRef<'a>>,
}

/// A class or id usable in a selector as written: a CSS identifier.
pub(crate) fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' || c == '-' => {}
        _ => return false,
    }
    s.len() <= 64 && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The words of a class name or id: `nk-card__title` -> nk, card, title.
pub(crate) fn words(name: &str) -> impl Iterator<Item = String> + '_ {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
}

/// Attributes that name what an element is, usable in a selector as written.
pub(crate) const NAMING_ATTRS: &[&str] =
    &["data-testid", "itemprop", "data-component", "data-type"];

/// `el`'s naming attributes whose values are identifiers.
pub(crate) fn named_attrs<'a>(el: ElementRef<'a>) -> impl Iterator<Item = (&'static str, &'a str)> {
    NAMING_ATTRS
        .iter()
        .filter_map(move |n| el.value().attr(n).filter(|v| is_ident(v)).map(|v| (*n, v)))
}

/// Does `el`'s class or id name page furniture? Returns the word.
pub(crate) fn furniture_word(el: ElementRef<'_>) -> Option<String> {
    let v = el.value();
    let names = v.classes().chain(v.id());
    for name in names {
        let lower = name.to_ascii_lowercase();
        if let Some(f) = FURNITURE
            .iter()
            .find(|f| f.contains('-') && lower.contains(*f))
        {
            return Some((*f).to_owned());
        }
        if let Some(w) = words(name).find(|w| FURNITURE.contains(&w.as_str())) {
            return Some(w);
        }
    }
    if v.attr("role")
        .is_some_and(|r| r.eq_ignore_ascii_case("navigation"))
    {
        return Some("navigation".to_owned());
    }
    None
}

/// Why `el` sits in page furniture: itself or an ancestor is `<nav>`, `<footer>`,
/// `<aside>`, the site's `<header>`, or has a furniture class.
pub(crate) fn furniture(el: ElementRef<'_>) -> Option<String> {
    let chain = || std::iter::once(el).chain(el.ancestors().filter_map(ElementRef::wrap));
    // A story's own <header> is fine; the page's is not.
    let in_story = chain().any(|a| matches!(a.value().name(), "article" | "main"));
    for a in chain() {
        let tag = a.value().name();
        match tag {
            "nav" | "footer" | "aside" => return Some(format!("inside <{tag}>")),
            "header" if !in_story => return Some("inside the page <header>".to_owned()),
            _ => {}
        }
        if let Some(w) = furniture_word(a) {
            let name = a
                .value()
                .classes()
                .chain(a.value().id())
                .find(|n| n.to_ascii_lowercase().contains(&w))
                .unwrap_or(&w)
                .to_owned();
            return Some(format!("inside {name:?} ({w})"));
        }
    }
    None
}

/// Every group of two or more elements on the page, one per distinct element
/// set, with the plainest selector that names it.
pub(crate) fn groups(doc: &Html) -> Vec<Group<'_>> {
    let mut by_key: HashMap<String, Vec<NodeId>> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut add = |key: String, id: NodeId| {
        let e = by_key.entry(key.clone()).or_default();
        if e.is_empty() {
            order.push(key);
        }
        e.push(id);
    };
    for el in doc
        .root_element()
        .descendants()
        .filter_map(ElementRef::wrap)
    {
        let tag = el.value().name();
        if NOT_CARDS.contains(&tag) {
            continue;
        }
        let classes: Vec<&str> = el.value().classes().filter(|c| is_ident(c)).collect();
        for c in &classes {
            add(format!("{tag}.{c}"), el.id());
        }
        if tag == "article" {
            add("article".to_owned(), el.id());
        }
        // Markup without classes names its parts in attributes.
        for (name, value) in named_attrs(el) {
            add(format!("{tag}[{name}=\"{value}\"]"), el.id());
        }
        if classes.is_empty()
            && let Some(parent) = el.parent().and_then(ElementRef::wrap)
        {
            let ptag = parent.value().name();
            if let Some(id) = parent.value().id().filter(|i| is_ident(i)) {
                add(format!("#{id} > {tag}"), el.id());
            }
            for pc in parent.value().classes().filter(|c| is_ident(c)) {
                add(format!("{ptag}.{pc} > {tag}"), el.id());
            }
            // A bare list in a named block: `section.most-read ol > li`.
            let plain_parent =
                parent.value().classes().next().is_none() && parent.value().id().is_none();
            if plain_parent
                && let Some(named) = parent
                    .ancestors()
                    .filter_map(ElementRef::wrap)
                    .find(|a| a.value().classes().any(is_ident))
                && let Some(c) = named.value().classes().find(|c| is_ident(c))
            {
                add(
                    format!("{}.{c} {ptag} > {tag}", named.value().name()),
                    el.id(),
                );
            }
        }
    }
    let mut seen: HashMap<Vec<NodeId>, usize> = HashMap::new();
    let mut out: Vec<Group> = Vec::new();
    for key in order {
        let Some(ids) = by_key.remove(&key) else {
            continue;
        };
        if ids.len() < 2 {
            continue;
        }
        let members: Vec<ElementRef> = ids
            .iter()
            .filter_map(|id| doc.tree.get(*id).and_then(ElementRef::wrap))
            .collect();
        if nested(&members) {
            continue;
        }
        match seen.get(&ids) {
            Some(&i) => {
                if plainer(&key, &out[i].selector) {
                    out[i].selector = key;
                }
            }
            None => {
                seen.insert(ids, out.len());
                out.push(Group {
                    selector: key,
                    members,
                });
            }
        }
    }
    out
}

/// Is one member inside another (nested comments, menus of menus)?
fn nested(members: &[ElementRef<'_>]) -> bool {
    let ids: std::collections::HashSet<NodeId> = members.iter().map(|m| m.id()).collect();
    members
        .iter()
        .any(|m| m.ancestors().any(|a| ids.contains(&a.id())))
}

/// Story words in a selector make it the better name for the same elements.
const STORY_WORDS: &[&str] = &[
    "post", "card", "item", "entry", "story", "article", "teaser",
];

fn plainer(a: &str, b: &str) -> bool {
    let story = |s: &str| words(s).any(|w| STORY_WORDS.contains(&w.as_str()));
    let child = |s: &str| s.contains('>');
    let class = |s: &str| s.contains('.');
    (story(a), class(a), !child(a), std::cmp::Reverse(a.len()))
        > (story(b), class(b), !child(b), std::cmp::Reverse(b.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_name_repeated_elements_once() {
        let doc = Html::parse_document(
            "<nav><ul class=menu><li><a href=/a>A</a></li><li><a href=/b>B</a></li></ul></nav>\
             <div class='post card'><a href=/x>x</a></div><div class='card post'><a href=/y>y</a></div>",
        );
        let g = groups(&doc);
        let sels: Vec<&str> = g.iter().map(|g| g.selector.as_str()).collect();
        assert!(sels.contains(&"ul.menu > li"), "{sels:?}");
        // Two class orders, one set of elements: one group.
        let divs = sels
            .iter()
            .filter(|s| s.starts_with("div.") && !s.contains('>'));
        assert_eq!(divs.count(), 1, "{sels:?}");
        let li = g.iter().find(|g| g.selector == "ul.menu > li").unwrap();
        assert_eq!(
            furniture(li.members[0]).as_deref(),
            Some("inside \"menu\" (menu)")
        );
    }

    #[test]
    fn furniture_words_are_whole_words() {
        let doc =
            Html::parse_document("<div class='adventure'><p>x</p></div><div class='nk-ad'>y</div>");
        let divs: Vec<_> = doc
            .select(&scraper::Selector::parse("div").unwrap())
            .collect();
        assert_eq!(furniture_word(divs[0]), None);
        assert_eq!(furniture_word(divs[1]).as_deref(), Some("ad"));
    }
}
