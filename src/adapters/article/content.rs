//! The *content* of an article page: the element holding the story's body,
//! less what is not the story (ads, share buttons, related lists, newsletter
//! and paywall boxes, author boxes, comments).
//!
//! Without a configured selector the element is found by scoring, as
//! readability does: every paragraph of 25 characters or more scores for its
//! parent (fully), grandparent (half) and great-grandparent (a third), by its
//! length and commas; class and id words ("content", "entry" / "ad",
//! "share", "related") weigh in; the score is discounted by link density.
//! The best element then grows to an ancestor while that ancestor holds a
//! quarter more paragraph text (a body split over sibling blocks). Inside
//! it, *boilerplate* (elements that are never the story by tag, hidden
//! state or class words) is left out.

use std::collections::{HashMap, HashSet};

use ego_tree::NodeId;
use scraper::{ElementRef, Html, Node, Selector};
use url::Url;

use crate::adapters::layout::{is_block, is_hidden_text};
use crate::model::collapse_whitespace as collapse;

/// The main content, as sanitized HTML and as text.
pub(super) struct Body {
    pub(super) html: String,
    pub(super) text: String,
}

/// Elements that never hold a story's text, configured selector or not.
const NEVER: &[&str] = &[
    "form", "button", "input", "select", "textarea", "svg", "canvas", "dialog", "menu", "ins",
    "link", "meta",
];

/// Elements that hold no story text when the content is found by scoring.
const NOT_STORY: &[&str] = &["aside", "nav", "footer", "header"];

/// Class and id words of elements that are not the story.
const NEGATIVE: &[&str] = &[
    "ad",
    "ads",
    "adv",
    "advert",
    "adverts",
    "advertisement",
    "advertising",
    "adsbygoogle",
    "sponsor",
    "sponsored",
    "promo",
    "promotion",
    "share",
    "shares",
    "sharing",
    "sharedaddy",
    "social",
    "related",
    "relatedposts",
    "recommended",
    "trending",
    "newsletter",
    "subscribe",
    "subscription",
    "signup",
    "paywall",
    "comment",
    "comments",
    "respond",
    "author",
    "authors",
    "byline",
    "bio",
    "tags",
    "widget",
    "sidebar",
    "breadcrumb",
    "breadcrumbs",
    "nav",
    "navigation",
    "menu",
    "footer",
    "masthead",
    "popup",
    "modal",
    "cookie",
    "outbrain",
    "taboola",
    "more",
    "hidden",
    "print",
    "skip",
];

/// Class and id words of elements that hold the story.
const POSITIVE: &[&str] = &[
    "article", "body", "content", "entry", "main", "post", "story", "text", "blog", "prose",
];

/// Attributes naming what an element is, besides class and id: component
/// frameworks say `data-component="related"` where older markup said
/// `class="related"`.
const NAMING: &[&str] = &[
    "class",
    "id",
    "data-component",
    "data-module",
    "data-testid",
];

/// The lower-case words of an element's class, id and component names
/// (`nk-ad--inline` -> `nk`, `ad`, `inline`).
pub(super) fn words(el: &scraper::node::Element) -> impl Iterator<Item = String> + '_ {
    NAMING
        .iter()
        .filter_map(|a| el.attr(a))
        .flat_map(|v| v.split(|c: char| !c.is_alphanumeric()))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

fn has_word(el: &scraper::node::Element, list: &[&str]) -> bool {
    words(el).any(|w| list.contains(&w.as_str()))
}

/// Is `el` never the story, whatever the selector: hidden, or a form control.
fn never(el: &scraper::node::Element) -> bool {
    let name = el.name();
    is_hidden_text(name)
        || NEVER.iter().any(|n| n.eq_ignore_ascii_case(name))
        || el.attr("hidden").is_some()
        || el.attr("aria-hidden") == Some("true")
        || el.attr("style").is_some_and(|s| {
            let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
            s.to_lowercase().contains("display:none")
        })
}

/// Words of links that ask the reader to sign up: a block around one is a box, not the story.
const SIGNUP: &[&str] = &[
    "subscribe",
    "sign up",
    "signup",
    "newsletter",
    "portal/",
    "register",
];

/// A short block (not a paragraph) holding a sign-up link: a newsletter or member box.
fn signup_box(el: ElementRef<'_>) -> bool {
    if !matches!(el.value().name(), "div" | "section" | "figure") {
        return false;
    }
    // Count only as far as the limit: this runs for every ancestor of every paragraph.
    let mut chars = 0;
    for t in el.text() {
        chars += t.chars().filter(|c| !c.is_whitespace()).count();
        if chars >= 300 {
            return false;
        }
    }
    el.descendants()
        .filter_map(ElementRef::wrap)
        .filter(|a| a.value().name() == "a")
        .any(|a| {
            let said = format!(
                "{} {}",
                a.value().attr("href").unwrap_or_default(),
                a.text().collect::<String>()
            )
            .to_lowercase();
            SIGNUP.iter().any(|w| said.contains(w))
        })
}

/// Elements whose class words never make them boilerplate: a story's own
/// container may well be `<article class="newsletter-post">`.
const CONTAINERS: &[&str] = &["article", "main", "body", "html"];

/// Is `el` boilerplate when the content is found by scoring? The headline
/// (`h1`) is the item's title, not its content.
pub(super) fn boilerplate(el: &scraper::node::Element) -> bool {
    never(el)
        || NOT_STORY.iter().any(|n| n.eq_ignore_ascii_case(el.name()))
        || el.name() == "h1"
        || el
            .attr("role")
            .is_some_and(|r| ["navigation", "complementary", "banner", "contentinfo"].contains(&r))
        || (!CONTAINERS.contains(&el.name()) && has_word(el, NEGATIVE))
}

/// Is `el` or any ancestor boilerplate?
fn in_boilerplate(el: ElementRef<'_>) -> bool {
    std::iter::once(el)
        .chain(el.ancestors().filter_map(ElementRef::wrap))
        .any(|e| boilerplate(e.value()) || signup_box(e))
}

/// The main content of `doc`: the first match of `content`, or the best
/// scoring element when `content` is `None`; `remove` matches left out.
pub(super) fn main(
    doc: &Html,
    content: Option<&Selector>,
    remove: &[Selector],
    base: &Url,
) -> Option<Body> {
    let body = Selector::parse("[itemprop~=articleBody]").ok();
    // Scored content leaves boilerplate out; when that leaves no paragraph
    // at all (a page whose every wrapper has a boilerplate word), the
    // scoring runs again on tags alone and keeps all but `never` elements:
    // some text beats none.
    let (root, scored) = match content {
        Some(sel) => (doc.select(sel).next()?, false),
        // Microdata names the body outright.
        None => match body.as_ref().and_then(|b| doc.select(b).next()) {
            Some(b) => (b, true),
            None => match best(doc, true) {
                Some(b) => (b, true),
                None => (best(doc, false)?, false),
            },
        },
    };
    let mut removed: HashSet<NodeId> = remove
        .iter()
        .flat_map(|s| root.select(s).map(|e| e.id()))
        .collect();
    if scored {
        removed.extend(leading_meta(root));
    }
    let mut out = Out {
        removed,
        scored,
        html: String::new(),
        blocks: Vec::new(),
        line: String::new(),
    };
    for child in root.children() {
        out.node(child);
    }
    out.flush();
    let text = out.blocks.join("\n\n");
    if text.is_empty() {
        return None;
    }
    Some(Body {
        html: sanitize(&out.html, base).trim().to_owned(),
        text,
    })
}

/// HTML a reader may show: ammonia's allow-list (no scripts, styles, event
/// handlers, `javascript:` urls), urls made absolute against `base`.
pub(crate) fn sanitize(html: &str, base: &Url) -> String {
    ammonia::Builder::default()
        .url_relative(ammonia::UrlRelative::RewriteWithBase(base.clone()))
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(html)
        .to_string()
}

/// Short lines above the story's first paragraph that are no sentences: a
/// byline row ("A. Writer · 7 min read · Feb 11"), a like count. Headings,
/// captions, list items and quotes are never such lines.
fn leading_meta(root: ElementRef<'_>) -> Vec<NodeId> {
    let mut out = Vec::new();
    for el in root.descendants().filter_map(ElementRef::wrap) {
        let name = el.value().name();
        let text = collapse(&el.text().collect::<String>());
        if name == "p" && text.chars().count() >= 80 {
            break;
        }
        let leaf_block = is_block(name)
            && !el
                .children()
                .filter_map(ElementRef::wrap)
                .any(|c| is_block(c.value().name()));
        let kept = matches!(
            name,
            "h2" | "h3"
                | "h4"
                | "h5"
                | "h6"
                | "figcaption"
                | "figure"
                | "li"
                | "blockquote"
                | "img"
        ) || el
            .ancestors()
            .filter_map(ElementRef::wrap)
            .any(|a| matches!(a.value().name(), "figure" | "blockquote" | "li"));
        let sentence = text.ends_with(['.', '!', '?', '…', '"', '”', ':', ';']);
        if leaf_block && !kept && !text.is_empty() && text.chars().count() < 100 && !sentence {
            out.push(el.id());
        }
    }
    out
}

/// Paragraph-like elements that score for their ancestors.
const SCORED: &[&str] = &["p", "pre", "td"];

/// A paragraph's length in characters and its score, or `None` when it is too short to count.
fn paragraph(el: ElementRef<'_>) -> Option<(usize, f64)> {
    let text = collapse(&el.text().collect::<String>());
    let len = text.chars().count();
    if len < 25 {
        return None;
    }
    let commas = text.matches([',', '，', '、']).count() as f64;
    Some((len, 1.0 + commas + (len as f64 / 100.0).min(3.0)))
}

fn base_weight(el: &scraper::node::Element) -> f64 {
    let tag = match el.name() {
        "article" | "main" => 10.0,
        "div" | "section" => 5.0,
        "pre" | "td" | "blockquote" => 3.0,
        "ol" | "ul" | "dl" | "form" => -3.0,
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "th" => -5.0,
        _ => 0.0,
    };
    let class = if has_word(el, NEGATIVE) {
        -25.0
    } else if has_word(el, POSITIVE) {
        25.0
    } else {
        0.0
    };
    tag + class
}

/// A list that is nothing but links (related stories, topics, tags): not
/// the story, though it sits inside it. A story's own list has text.
fn link_list(el: ElementRef<'_>) -> bool {
    matches!(el.value().name(), "ul" | "ol") && link_density(el) >= 0.9
}

/// The share of `el`'s text that is link text.
fn link_density(el: ElementRef<'_>) -> f64 {
    let all = collapse(&el.text().collect::<String>()).chars().count();
    if all == 0 {
        return 0.0;
    }
    let links: usize = el
        .descendants()
        .filter_map(ElementRef::wrap)
        .filter(|e| e.value().name() == "a")
        .map(|a| collapse(&a.text().collect::<String>()).chars().count())
        .sum();
    (links as f64 / all as f64).min(1.0)
}

/// The element the story's paragraphs score highest in.
/// `strict`: paragraphs inside boilerplate do not count; else only those
/// inside elements that are never the story (by tag) are left out.
fn best(doc: &Html, strict: bool) -> Option<ElementRef<'_>> {
    let mut score: HashMap<NodeId, f64> = HashMap::new();
    let mut text_in: HashMap<NodeId, usize> = HashMap::new();
    for el in doc
        .root_element()
        .descendants()
        .filter_map(ElementRef::wrap)
    {
        let left_out = if strict {
            in_boilerplate(el)
        } else {
            std::iter::once(el)
                .chain(el.ancestors().filter_map(ElementRef::wrap))
                .any(|e| never(e.value()))
        };
        if !SCORED.contains(&el.value().name()) || left_out {
            continue;
        }
        let Some((len, s)) = paragraph(el) else {
            continue;
        };
        for (level, anc) in el.ancestors().filter_map(ElementRef::wrap).enumerate() {
            if matches!(anc.value().name(), "body" | "html") {
                break;
            }
            *text_in.entry(anc.id()).or_default() += len;
            if level < 3 {
                let base = base_weight(anc.value());
                *score.entry(anc.id()).or_insert(base) += s / (level as f64 + 1.0);
            }
        }
    }
    let top = score
        .iter()
        .filter_map(|(id, s)| {
            let el = ElementRef::wrap(doc.tree.get(*id)?)?;
            Some((el, s * (1.0 - link_density(el))))
        })
        // Ties go to the element first in the document, so the choice is stable.
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.id().cmp(&a.0.id())))?
        .0;
    let mut pick = top;
    let held = |e: ElementRef<'_>| text_in.get(&e.id()).copied().unwrap_or(0);
    while let Some(parent) = pick.parent().and_then(ElementRef::wrap) {
        if matches!(parent.value().name(), "body" | "html") || boilerplate(parent.value()) {
            break;
        }
        if held(parent) * 4 > held(pick) * 5 {
            pick = parent;
        } else {
            break;
        }
    }
    Some(pick)
}

/// The content being written out: HTML for the sanitizer, text by blocks.
struct Out {
    removed: HashSet<NodeId>,
    /// Found by scoring: boilerplate is left out too.
    scored: bool,
    html: String,
    blocks: Vec<String>,
    line: String,
}

const VOID: &[&str] = &[
    "area", "br", "col", "embed", "hr", "img", "source", "track", "wbr",
];

/// Attributes lazy-loading scripts move into `src`.
const LAZY_SRC: &[&str] = &["data-src", "data-lazy-src", "data-original", "data-url"];

impl Out {
    fn flush(&mut self) {
        let t = collapse(&self.line);
        if !t.is_empty() {
            self.blocks.push(t);
        }
        self.line.clear();
    }

    fn node(&mut self, node: ego_tree::NodeRef<'_, Node>) {
        match node.value() {
            Node::Text(t) => {
                self.line.push_str(t);
                escape(&mut self.html, t, false);
            }
            Node::Element(el) => {
                let skip = self.removed.contains(&node.id())
                    || if self.scored {
                        boilerplate(el)
                            || ElementRef::wrap(node).is_some_and(|e| signup_box(e) || link_list(e))
                    } else {
                        never(el)
                    };
                if skip {
                    return;
                }
                let name = el.name();
                let block = is_block(name);
                if block {
                    self.flush();
                }
                self.open(el);
                if name == "br" {
                    self.line.push('\n');
                }
                for child in node.children() {
                    self.node(child);
                }
                if !VOID.contains(&name) {
                    self.html.push_str("</");
                    self.html.push_str(name);
                    self.html.push('>');
                }
                if block {
                    self.flush();
                }
            }
            _ => {}
        }
    }

    fn open(&mut self, el: &scraper::node::Element) {
        let name = el.name();
        self.html.push('<');
        self.html.push_str(name);
        let lazy = (name == "img")
            .then(|| {
                LAZY_SRC
                    .iter()
                    .find_map(|a| el.attr(a))
                    .filter(|v| !v.trim().is_empty() && !v.trim_start().starts_with("data:"))
            })
            .flatten();
        for (k, v) in el.attrs() {
            if lazy.is_some() && (k == "src" || k == "srcset") {
                continue;
            }
            push_attr(&mut self.html, k, v);
        }
        if let Some(v) = lazy {
            push_attr(&mut self.html, "src", v.trim());
        }
        self.html.push('>');
    }
}

fn push_attr(html: &mut String, k: &str, v: &str) {
    html.push(' ');
    html.push_str(k);
    html.push_str("=\"");
    escape(html, v, true);
    html.push('"');
}

fn escape(out: &mut String, s: &str, attr: bool) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
}
