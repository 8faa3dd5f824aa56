//! *Framework state*: the JSON a page carries for its scripts
//! (`<script id="__NEXT_DATA__">`, `<script type="application/json">`), which
//! often holds the listing's items whole. An array of objects whose members
//! have a title and a url (or a slug) is a candidate; its fields are named by
//! JSON Pointer paths into one member, as `[source.json]` reads them.

use std::collections::HashMap;

use scraper::{Html, Selector};
use serde_json::Value;
use url::Url;

use super::block::JsonPlan;

/// One array found in a script, as a plan and what it held.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub(crate) plan: JsonPlan,
    pub(crate) label: String,
    pub(crate) records: usize,
    pub(crate) reasons: Vec<String>,
}

/// Arrays nested deeper than this are not a page's listing.
const MAX_DEPTH: usize = 12;

fn pointer_token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Scripts whose text the JSON adapter can select by itself: by id, or the
/// first `application/json` script.
fn scripts(doc: &Html) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Ok(sel) = Selector::parse("script") else {
        return out;
    };
    let mut first_json = true;
    for s in doc.select(&sel) {
        let ty = s.value().attr("type").unwrap_or("").to_ascii_lowercase();
        let text: String = s.text().collect();
        if text.trim().is_empty() || ty.contains("ld+json") {
            continue;
        }
        let css = match s.value().id().filter(|i| super::cards::is_ident(i)) {
            Some(id) => format!("script#{id}"),
            None if ty == "application/json" && first_json => {
                "script[type=\"application/json\"]".to_owned()
            }
            None => continue,
        };
        if ty == "application/json" {
            first_json = false;
        }
        out.push((css, text));
    }
    out
}

/// Candidates from every script holding JSON, best first.
pub(crate) fn find(doc: &Html, page_url: Option<&Url>) -> Vec<Found> {
    let links: Vec<String> = Selector::parse("a[href]")
        .map(|sel| {
            doc.select(&sel)
                .filter_map(|a| a.value().attr("href"))
                .filter_map(|h| crate::urls::resolve(page_url, h))
                .collect()
        })
        .unwrap_or_default();
    let mut out = Vec::new();
    for (css, text) in scripts(doc) {
        out.extend(in_json(&text, Some(&css), &links));
    }
    out.sort_by_key(|f| std::cmp::Reverse(f.records));
    out
}

/// Candidates in a body that is JSON itself (an API), best first.
pub(crate) fn find_in_body(text: &str) -> Vec<Found> {
    let mut out = in_json(text, None, &[]);
    out.sort_by_key(|f| std::cmp::Reverse(f.records));
    out
}

fn in_json(text: &str, script: Option<&str>, links: &[String]) -> Vec<Found> {
    let Ok(v) = serde_json::from_str::<Value>(crate::adapters::json::strip_assignment(text)) else {
        return Vec::new();
    };
    let mut arrays = Vec::new();
    walk(&v, String::new(), 0, &mut arrays);
    arrays
        .into_iter()
        .filter_map(|(path, arr)| judge(script, &path, arr, links))
        .collect()
}

fn walk<'a>(v: &'a Value, path: String, depth: usize, out: &mut Vec<(String, &'a [Value])>) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::Array(a) => {
            if a.len() >= 2 && a.iter().all(Value::is_object) {
                out.push((path.clone(), a.as_slice()));
            }
            for (i, x) in a.iter().enumerate().take(50) {
                walk(x, format!("{path}/{i}"), depth + 1, out);
            }
        }
        Value::Object(o) => {
            for (k, x) in o {
                walk(x, format!("{path}/{}", pointer_token(k)), depth + 1, out);
            }
        }
        _ => {}
    }
}

/// Leaf paths of a record, one object level deep (`/title`, `/author/name`).
fn leaves(rec: &Value) -> HashMap<String, &Value> {
    let mut out = HashMap::new();
    if let Value::Object(o) = rec {
        for (k, v) in o {
            let p = format!("/{}", pointer_token(k));
            if let Value::Object(inner) = v {
                for (k2, v2) in inner {
                    out.insert(format!("{p}/{}", pointer_token(k2)), v2);
                }
            }
            out.insert(p, v);
        }
    }
    out
}

/// The key a path ends in; WordPress' `/title/rendered` is named by `title`.
fn last_key(path: &str) -> String {
    let mut keys = path.rsplit('/');
    let last = keys.next().unwrap_or("").to_ascii_lowercase();
    match (last.as_str(), keys.next()) {
        ("rendered", Some(parent)) if !parent.is_empty() => parent.to_ascii_lowercase(),
        _ => last,
    }
}

/// The path whose last key is one of `names` (in preference order) and
/// whose value passes `ok` in most records.
fn pick(records: &[Value], names: &[&str], ok: &dyn Fn(&Value) -> bool) -> Option<String> {
    pick_in(records, names, ok, 2)
}

/// [`pick`] among paths of at most `levels` keys.
fn pick_in(
    records: &[Value],
    names: &[&str],
    ok: &dyn Fn(&Value) -> bool,
    levels: usize,
) -> Option<String> {
    let all: Vec<HashMap<String, &Value>> = records.iter().map(leaves).collect();
    let first = all.first()?;
    let mut best: Option<(usize, usize, String)> = None;
    for path in first.keys() {
        let key = last_key(path);
        let Some(rank) = names.iter().position(|n| key == *n) else {
            continue;
        };
        if path.matches('/').count() > levels {
            continue;
        }
        let hits = all
            .iter()
            .filter(|r| r.get(path).is_some_and(|v| ok(v)))
            .count();
        if hits * 2 < records.len() {
            continue;
        }
        // Fewer slashes first: `/title` over `/seo/title`.
        let nesting = path.matches('/').count();
        let better = best
            .as_ref()
            .is_none_or(|(r, n, p)| (rank, nesting, path.as_str()) < (*r, *n, p.as_str()));
        if better {
            best = Some((rank, nesting, path.clone()));
        }
    }
    best.map(|(_, _, p)| p)
}

fn words(v: &Value) -> usize {
    v.as_str().map_or(0, |s| s.split_whitespace().count())
}

fn judge(script: Option<&str>, items: &str, records: &[Value], links: &[String]) -> Option<Found> {
    let place = script.unwrap_or("the JSON body");
    let title = pick(records, &["title", "headline", "name"], &|v| words(v) >= 2)?;
    let is_url = |v: &Value| {
        v.as_str()
            .is_some_and(|s| s.starts_with("http") || s.starts_with('/'))
    };
    let is_slug = |v: &Value| {
        v.as_str().is_some_and(|s| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
    };
    let mut reasons = vec![format!("{} records in {place} at {items:?}", records.len())];
    let (url, url_template) = match pick_in(
        records,
        &[
            "url",
            "link",
            "href",
            "permalink",
            "canonical",
            "uri",
            "path",
        ],
        &is_url,
        1,
    ) {
        Some(u) => (u, None),
        None => {
            let slug = pick(records, &["slug", "id", "key"], &is_slug)?;
            let sample = records.first()?.pointer(&slug)?.as_str()?.to_owned();
            // The page's own link to the first record shows where slugs go.
            let template = links.iter().find_map(|l| {
                let trimmed = l.trim_end_matches('/');
                trimmed
                    .strip_suffix(&sample)
                    .filter(|head| head.ends_with('/'))
                    .map(|head| format!("{head}{{}}{}", &l[trimmed.len()..]))
            });
            match &template {
                Some(t) => reasons.push(format!("urls from {slug:?} through {t:?}, as the page links them")),
                None => reasons.push(format!("urls from {slug:?} relative to the page: no link on the page shows where they go")),
            }
            (slug, template)
        }
    };
    let is_date = |v: &Value| match v {
        Value::String(s) => super::fields::is_date(s),
        Value::Number(n) => n.as_i64().is_some_and(|n| n > 0),
        _ => false,
    };
    let published = pick(
        records,
        &[
            "datepublished",
            "date_gmt",
            "published_at",
            "publishedat",
            "published",
            "date",
            "pubdate",
            "created_at",
            "createdat",
            "firstpublished",
        ],
        &is_date,
    );
    let named = |v: &Value| match v {
        Value::String(s) => !s.trim().is_empty(),
        Value::Object(o) => o.get("name").is_some_and(Value::is_string),
        Value::Array(a) => a
            .iter()
            .any(|x| x.is_string() || x.get("name").is_some_and(Value::is_string)),
        _ => false,
    };
    let authors = pick(
        records,
        &[
            "authors", "author", "byline", "creator", "creators", "writer",
        ],
        &named,
    );
    let tags = pick(
        records,
        &[
            "tags",
            "categories",
            "category",
            "section",
            "topics",
            "keywords",
        ],
        &named,
    );
    let imageish = |v: &Value| match v {
        Value::String(s) => s.starts_with("http") || s.starts_with('/'),
        Value::Object(o) => ["url", "src"]
            .iter()
            .any(|k| o.get(*k).is_some_and(Value::is_string)),
        _ => false,
    };
    let image = pick(
        records,
        &[
            "image",
            "thumbnail",
            "featuredimage",
            "featured_image",
            "cover",
            "coverimage",
            "cover_image",
            "picture",
            "photo",
            "feature_image",
            "og_image",
        ],
        &imageish,
    );
    let summary = pick(
        records,
        &[
            "excerpt",
            "summary",
            "description",
            "dek",
            "teaser",
            "subtitle",
            "lede",
            "custom_excerpt",
        ],
        &|v| words(v) >= 4,
    );
    for (name, p) in [
        ("published", &published),
        ("authors", &authors),
        ("image", &image),
        ("summary", &summary),
        ("tags", &tags),
    ] {
        if let Some(p) = p {
            reasons.push(format!("{name} at {p:?}"));
        }
    }
    Some(Found {
        label: format!("{place} at {items:?}"),
        records: records.len(),
        reasons,
        plan: JsonPlan {
            script: script.map(str::to_owned),
            items: items.to_owned(),
            title,
            url,
            url_template,
            summary,
            authors,
            published,
            tags,
            image,
        },
    })
}
