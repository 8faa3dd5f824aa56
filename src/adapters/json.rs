//! JSON sources: items read from JSON by the paths of `[source.json]`.
//!
//! A *record* is one element of the array `json.items` points at; each field
//! of an item is the value at the field's JSON Pointer inside its record
//! (see [`crate::config::JsonConfig`]). The JSON is the whole body of the page,
//! or the text of a `<script>` the config names, for pages that carry their
//! items only as framework state (`__NEXT_DATA__`). Text values may hold HTML
//! (WordPress' `title.rendered`): tags are dropped and entities decoded.

use serde_json::Value;

use super::feed::markup::html_to_text;
use super::{AdapterError, Listing, Page};
use crate::config::{JsonConfig, SourceConfig, URL_PLACEHOLDER};
use crate::dates::{self, Anchor};
use crate::model::{Item, Person, Published, Tag};
use crate::urls;

/// Read one JSON page (or the JSON inside an HTML page) of `source`.
pub fn read(
    source: &SourceConfig,
    page: &Page,
    first_position: u32,
) -> Result<Listing, AdapterError> {
    let name = &source.name;
    let err = |m: String| AdapterError::new(page.name, format!("source {name:?}: {m}"));
    let cfg = source
        .json
        .as_ref()
        .ok_or_else(|| err("kind = \"json\" needs a [source.json] table".to_owned()))?;
    let text = super::decode::decode_html(page.bytes, page.content_type).text;
    let json_text = match &cfg.script {
        None => text.into_owned(),
        Some(css) => script_text(&text, css)
            .ok_or_else(|| err(format!("no <script> matches json.script {css:?}")))?,
    };
    let doc: Value = serde_json::from_str(strip_assignment(&json_text))
        .map_err(|e| err(format!("the JSON does not parse: {e}")))?;
    let records = match doc.pointer(&cfg.items) {
        Some(Value::Array(a)) => a,
        Some(other) => {
            return Err(err(format!(
                "json.items {:?} is {}, not an array",
                cfg.items,
                kind_of(other)
            )));
        }
        None => {
            return Err(err(format!(
                "json.items {:?} is not in the JSON",
                cfg.items
            )));
        }
    };
    let mut listing = Listing::default();
    let base = cfg.base_url.as_ref().or(page.url);
    let anchor = match page.captured {
        Some(day) => Anchor::Day(day),
        None => Anchor::Instant(page.fetched_at),
    };
    let mut skipped = Vec::new();
    for (n, record) in records.iter().enumerate() {
        let title = record.pointer(&cfg.title).and_then(text_of);
        let url = record
            .pointer(&cfg.url)
            .and_then(scalar)
            .map(|v| match &cfg.url_template {
                Some(t) => t.replace(URL_PLACEHOLDER, &v),
                None => v,
            })
            .and_then(|href| urls::resolve(base, &href));
        let (Some(title), Some(url)) = (title, url) else {
            skipped.push(format!("#{}", n + 1));
            continue;
        };
        let position =
            first_position.saturating_add(u32::try_from(listing.items.len()).unwrap_or(u32::MAX));
        let mut item = Item::new(&source.name, position, title, Some(url));
        let at = |p: &Option<String>| p.as_deref().and_then(|p| record.pointer(p));
        item.summary = at(&cfg.summary).and_then(text_of);
        for a in at(&cfg.authors).map(names).unwrap_or_default() {
            let p = Person::new(&a);
            if !p.name.is_empty() && !item.authors.iter().any(|q| q.slug == p.slug) {
                item.authors.push(p);
            }
        }
        for t in at(&cfg.tags).map(names).unwrap_or_default() {
            let t = Tag::new(&t);
            if !t.name.is_empty() && !item.tags.iter().any(|u| u.slug == t.slug) {
                item.tags.push(t);
            }
        }
        item.image = at(&cfg.image)
            .and_then(image_of)
            .and_then(|i| urls::resolve(base, &i));
        if let Some(v) = at(&cfg.published) {
            item.published = published(v, cfg, source, anchor);
            if item.published.is_none() {
                listing.warnings.push(format!(
                    "source {name:?}: {}: record {}: published {v} is not a date in any accepted format; left undated",
                    page.name,
                    n + 1
                ));
            }
        }
        listing.items.push(item);
    }
    if !skipped.is_empty() {
        listing.warnings.push(format!(
            "source {name:?}: {}: skipped {} of {} records without a title or an http(s) url at json.title {:?} / json.url {:?}: {}",
            page.name,
            skipped.len(),
            records.len(),
            cfg.title,
            cfg.url,
            skipped.join(", ")
        ));
    }
    Ok(listing)
}

/// The text of the first `<script>` matching `css` that is not blank.
pub(crate) fn script_text(html: &str, css: &str) -> Option<String> {
    let selector = scraper::Selector::parse(css).ok()?;
    let doc = scraper::Html::parse_document(html);
    doc.select(&selector)
        .map(|s| s.text().collect::<String>())
        .find(|t| !t.trim().is_empty())
}

/// `window.__NUXT__ = {...};` holds its JSON after the `=`: keep what is JSON.
pub(crate) fn strip_assignment(text: &str) -> &str {
    let t = text.trim();
    if t.starts_with(['{', '[']) {
        return t;
    }
    match t.find(['{', '[']) {
        Some(i) if t.get(..i).is_some_and(|head| head.contains('=')) => {
            t.get(i..).unwrap_or(t).trim_end_matches(';').trim_end()
        }
        _ => t,
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A string or a number as text (ids and slugs are sometimes numbers).
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Visible text of a string value (HTML allowed); objects with a `rendered`
/// string (WordPress' REST API) give that.
fn text_of(v: &Value) -> Option<String> {
    let s = match v {
        Value::Object(o) => o.get("rendered").and_then(Value::as_str)?,
        other => {
            return scalar(other)
                .map(|s| html_to_text(&s))
                .filter(|s| !s.is_empty());
        }
    };
    Some(html_to_text(s)).filter(|s| !s.is_empty())
}

/// Names from a name, an object with a `name`, or a list of either.
fn names(v: &Value) -> Vec<String> {
    let one = |v: &Value| match v {
        Value::Object(o) => o.get("name").and_then(text_of),
        other => text_of(other),
    };
    match v {
        Value::Array(a) => a.iter().filter_map(one).collect(),
        other => one(other).into_iter().collect(),
    }
}

/// A url, an object with a `url` or `src`, or the first of a list of those.
fn image_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Object(o) => ["url", "src", "contentUrl"]
            .iter()
            .find_map(|k| o.get(*k).and_then(image_of)),
        Value::Array(a) => a.first().and_then(image_of),
        _ => None,
    }
}

/// Unix time above this many seconds is taken as milliseconds (year 5138).
const MILLIS_FROM: i64 = 100_000_000_000;

fn published(
    v: &Value,
    cfg: &JsonConfig,
    source: &SourceConfig,
    anchor: Anchor,
) -> Option<Published> {
    match v {
        Value::String(s) => dates::parse(s, &cfg.date_formats, source.timezone, anchor),
        Value::Number(n) => {
            let n = n.as_i64()?;
            let (secs, nanos) = if n.abs() >= MILLIS_FROM {
                (
                    n.div_euclid(1000),
                    u32::try_from(n.rem_euclid(1000) * 1_000_000).ok()?,
                )
            } else {
                (n, 0)
            };
            let t = chrono::DateTime::from_timestamp(secs, nanos)?;
            Some(Published::DateTime(t.fixed_offset()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::strip_assignment;

    #[test]
    fn assignments_lose_their_left_side() {
        assert_eq!(strip_assignment(" {\"a\":1} "), "{\"a\":1}");
        assert_eq!(
            strip_assignment("window.__NUXT__ = {\"a\":1};"),
            "{\"a\":1}"
        );
        assert_eq!(strip_assignment("\"x\""), "\"x\"");
    }
}
