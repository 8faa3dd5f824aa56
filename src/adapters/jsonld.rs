//! schema.org JSON-LD: the `<script type="application/ld+json">` blocks many
//! sites add for search engines.
//!
//! An *article* here is a JSON-LD object whose `@type` is `Article`,
//! `NewsArticle`, `BlogPosting` or another `...Article` / `...BlogPosting`
//! type, found at the top level, in an `@graph`, under `mainEntity` /
//! `hasPart`, or as an element of an `ItemList` (`itemListElement`, each a
//! `ListItem` with an `item`, or just a `url` and `name`). Each becomes a card
//! that the HTML adapter turns into an item like a card read with selectors:
//!
//! | JSON-LD | item |
//! |---|---|
//! | `headline`, else `name` | title |
//! | `url`, else `mainEntityOfPage`, else `@id` | url |
//! | `description` | summary |
//! | `author`: a name, a `Person`/`Organization` (or an `@id` pointing at one), or a list | authors |
//! | `datePublished`, else `dateCreated` | published |
//! | `dateModified` | updated (read from article pages only) |
//! | `articleSection`, `keywords` (a list or a comma-separated string) | tags |
//! | `image`: a url, an `ImageObject` (`url`/`contentUrl`), or a list (the first) | image |

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::card::RawCard;
use crate::model::collapse_whitespace as collapse;

/// Cards from the text of a page's JSON-LD blocks, in page order (an
/// `ItemList` in `position` order), one per url. Blocks that are not JSON are
/// reported in `notes` and skipped.
pub(crate) fn cards(scripts: &[String], notes: &mut Vec<String>) -> Vec<RawCard> {
    let mut docs = Vec::new();
    for (n, text) in scripts.iter().enumerate() {
        let text = strip_wrappers(text);
        if text.is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(text) {
            Ok(v) => docs.push(v),
            Err(e) => notes.push(format!(
                "JSON-LD block {} is not valid JSON ({e}); skipped",
                n + 1
            )),
        }
    }
    let mut index = HashMap::new();
    for d in &docs {
        index_ids(d, &mut index, 0);
    }
    let mut out = Vec::new();
    for d in &docs {
        visit(d, &index, &mut out, 0);
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|c: &RawCard| match &c.url {
        Some(u) => seen.insert(u.clone()),
        None => true,
    });
    out
}

/// JSON this deep is not schema.org data; stop rather than recurse further.
const MAX_DEPTH: usize = 32;

/// Old CMSes wrap the JSON in `<!-- -->` or `/* <![CDATA[ */ ... /* ]]> */`.
fn strip_wrappers(text: &str) -> &str {
    let mut t = text.trim().trim_end_matches(';').trim();
    for (open, close) in [
        ("<!--", "-->"),
        ("/*<![CDATA[*/", "/*]]>*/"),
        ("//<![CDATA[", "//]]>"),
    ] {
        if let Some(inner) = t.strip_prefix(open).and_then(|i| i.strip_suffix(close)) {
            t = inner.trim().trim_end_matches(';').trim();
        }
    }
    t
}

/// Objects with an `@id` and content of their own, so `{"@id": ...}`
/// references (Yoast's authors) can be followed.
fn index_ids<'a>(v: &'a Value, index: &mut HashMap<&'a str, &'a Map<String, Value>>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::Array(a) => a.iter().for_each(|x| index_ids(x, index, depth + 1)),
        Value::Object(o) => {
            if let Some(id) = o.get("@id").and_then(Value::as_str)
                && o.len() > 1
            {
                index.entry(id).or_insert(o);
            }
            o.values().for_each(|x| index_ids(x, index, depth + 1));
        }
        _ => {}
    }
}

type Index<'a> = HashMap<&'a str, &'a Map<String, Value>>;

/// The local names of an object's `@type`s (`schema:NewsArticle` -> `NewsArticle`).
fn types(o: &Map<String, Value>) -> Vec<&str> {
    let names: Vec<&str> = match o.get("@type") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    names
        .into_iter()
        .map(|t| t.rsplit(['/', ':', '#']).next().unwrap_or(t))
        .collect()
}

fn is_article(o: &Map<String, Value>) -> bool {
    types(o)
        .iter()
        .any(|t| t.ends_with("Article") || t.ends_with("BlogPosting") || *t == "Report")
}

fn visit(v: &Value, index: &Index<'_>, out: &mut Vec<RawCard>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::Array(a) => a.iter().for_each(|x| visit(x, index, out, depth + 1)),
        Value::Object(o) => {
            if is_article(o) {
                out.push(card(o, index));
            } else if types(o).contains(&"ItemList") {
                list(o, index, out, depth);
            } else {
                for key in ["@graph", "mainEntity", "hasPart"] {
                    if let Some(x) = o.get(key) {
                        visit(x, index, out, depth + 1);
                    }
                }
            }
        }
        _ => {}
    }
}

/// The elements of an `ItemList`, ordered by `position` when every element has one.
fn list(o: &Map<String, Value>, index: &Index<'_>, out: &mut Vec<RawCard>, depth: usize) {
    let elements: Vec<&Value> = match o.get("itemListElement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => return,
    };
    let mut entries: Vec<(Option<f64>, RawCard)> = Vec::new();
    for e in elements {
        let Value::Object(li) = e else {
            continue;
        };
        let position = li.get("position").and_then(|p| match p {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        });
        let card = match li.get("item") {
            Some(Value::Object(item)) if is_article(item) || item.contains_key("headline") => {
                card(item, index)
            }
            Some(Value::Object(item)) => {
                // A list of lists, or a plain Thing with a name and url.
                let mut inner = Vec::new();
                visit(&Value::Object(item.clone()), index, &mut inner, depth + 1);
                if inner.is_empty() {
                    let mut c = card(item, index);
                    if c.url.is_none() {
                        c.url = url_of(li);
                    }
                    c
                } else {
                    for c in inner {
                        entries.push((position, c));
                    }
                    continue;
                }
            }
            Some(Value::String(u)) => {
                let mut c = card(li, index);
                c.url = Some(u.trim().to_owned());
                c
            }
            _ => card(li, index),
        };
        entries.push((position, card));
    }
    if entries.iter().all(|(p, _)| p.is_some()) {
        entries.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
    }
    out.extend(entries.into_iter().map(|(_, c)| c));
}

/// Text as a reader sees it: entities decoded (some CMSes escape them), white space collapsed.
fn text(v: &Value) -> Option<String> {
    let s = v.as_str()?;
    let s = collapse(&htmlize::unescape(s));
    (!s.is_empty()).then_some(s)
}

/// A url-valued property: a string, or an object with `@id` or `url`.
fn link(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Object(o) => o
            .get("url")
            .or_else(|| o.get("contentUrl"))
            .or_else(|| o.get("@id"))
            .and_then(link),
        Value::Array(a) => a.iter().find_map(link),
        _ => None,
    }
}

fn url_of(o: &Map<String, Value>) -> Option<String> {
    ["url", "mainEntityOfPage", "@id"]
        .iter()
        .find_map(|k| o.get(*k).and_then(link))
}

fn card(o: &Map<String, Value>, index: &Index<'_>) -> RawCard {
    let mut c = RawCard {
        title: o
            .get("headline")
            .and_then(text)
            .or_else(|| o.get("name").and_then(text)),
        url: url_of(o),
        summary: o.get("description").and_then(text),
        published: o
            .get("datePublished")
            .or_else(|| o.get("dateCreated"))
            .and_then(text),
        updated: o.get("dateModified").and_then(text),
        image: o.get("image").and_then(link),
        ..RawCard::default()
    };
    if let Some(a) = o.get("author") {
        people(a, index, &mut c.authors, 0);
    }
    for key in ["articleSection", "keywords"] {
        match o.get(key) {
            Some(Value::String(s)) => c.tags.extend(
                s.split(',')
                    .map(|t| collapse(&htmlize::unescape(t)))
                    .filter(|t| !t.is_empty()),
            ),
            Some(Value::Array(a)) => c.tags.extend(a.iter().filter_map(text)),
            _ => {}
        }
    }
    c
}

fn people(v: &Value, index: &Index<'_>, out: &mut Vec<String>, depth: usize) {
    if depth > 4 {
        return;
    }
    match v {
        Value::String(s) => {
            let s = collapse(&htmlize::unescape(s));
            if !s.is_empty() {
                out.push(s);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| people(x, index, out, depth + 1)),
        Value::Object(o) => {
            if let Some(name) = o.get("name").and_then(text) {
                out.push(name);
            } else if let Some(name) = o
                .get("@id")
                .and_then(Value::as_str)
                .and_then(|id| index.get(id))
                .and_then(|target| target.get("name"))
                .and_then(text)
            {
                out.push(name);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(json: &str) -> Vec<RawCard> {
        let mut notes = Vec::new();
        let c = cards(&[json.to_owned()], &mut notes);
        assert!(notes.is_empty(), "{notes:?}");
        c
    }

    #[test]
    fn article_fields_in_every_shape() {
        let c = one(
            r##"{"@context":"https://schema.org","@type":["NewsArticle"],
                "headline":"Kim&#8217;s  visit","url":"https://x.example/a",
                "description":"Sum","datePublished":"2022-05-21T11:43:21+09:00",
                "author":[{"@type":"Person","name":"A B"},"C D",{"@id":"#p"}],
                "keywords":"North Korea, Diplomacy","articleSection":["News"],
                "image":{"@type":"ImageObject","url":"https://x.example/i.jpg"}}"##,
        );
        assert_eq!(c.len(), 1);
        let c = &c[0];
        assert_eq!(c.title.as_deref(), Some("Kim’s visit"));
        assert_eq!(c.authors, ["A B", "C D"]);
        assert_eq!(c.tags, ["News", "North Korea", "Diplomacy"]);
        assert_eq!(c.image.as_deref(), Some("https://x.example/i.jpg"));
        assert_eq!(c.published.as_deref(), Some("2022-05-21T11:43:21+09:00"));
    }

    #[test]
    fn graph_with_author_references() {
        let c = one(r#"{"@context":"https://schema.org","@graph":[
                {"@type":"WebPage","@id":"https://x.example/#page","name":"Home"},
                {"@type":"Person","@id":"https://x.example/#/person/1","name":"Jeongmin Kim"},
                {"@type":"BlogPosting","headline":"T","mainEntityOfPage":{"@id":"https://x.example/t"},
                 "author":{"@id":"https://x.example/#/person/1"}}]}"#);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].url.as_deref(), Some("https://x.example/t"));
        assert_eq!(c[0].authors, ["Jeongmin Kim"]);
    }

    #[test]
    fn item_lists_in_position_order() {
        let c = one(r#"{"@type":"ItemList","itemListElement":[
                {"@type":"ListItem","position":2,"url":"https://x.example/2","name":"Two"},
                {"@type":"ListItem","position":1,"item":{"@type":"Article","headline":"One","url":"https://x.example/1"}},
                {"@type":"ListItem","position":3,"item":"https://x.example/3","name":"Three"}]}"#);
        let got: Vec<_> = c
            .iter()
            .map(|c| (c.title.as_deref(), c.url.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                (Some("One"), Some("https://x.example/1")),
                (Some("Two"), Some("https://x.example/2")),
                (Some("Three"), Some("https://x.example/3")),
            ]
        );
    }

    #[test]
    fn bad_blocks_are_notes_not_panics() {
        let mut notes = Vec::new();
        let c = cards(
            &[
                "{not json".to_owned(),
                "".to_owned(),
                "<!-- {\"@type\":\"Article\",\"headline\":\"H\",\"url\":\"https://x.example/h\"} -->"
                    .to_owned(),
                "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
                    .to_owned(),
                r#"{"@type":"Article","headline":42,"author":{"@id":"nowhere"}}"#.to_owned(),
            ],
            &mut notes,
        );
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains("block 1"), "{notes:?}");
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].title.as_deref(), Some("H"));
        assert_eq!(c[1].title, None);
    }
}
