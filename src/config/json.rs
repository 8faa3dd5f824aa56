//! `[source.json]`: where the items of a JSON source live. A *path* is a
//! JSON Pointer (RFC 6901, as `serde_json::Value::pointer` reads it): `""` is
//! the whole document, `/props/pageProps/posts` walks object keys and
//! `/items/0` an array index; `~1` stands for `/` and `~0` for `~` in a key.
//!
//! The JSON is either the whole body (a JSON API) or, when `script` names a
//! CSS selector, the text of the first matching `<script>` of an HTML page
//! (framework state such as `script#__NEXT_DATA__`). `items` points at the
//! array of items; every field path is relative to one element of it. Every
//! path and the template are checked at load time.

use serde::Deserialize;
use toml::Spanned;
use url::Url;

use super::{ConfigError, Locator};
use crate::dates::DateFormats;

/// The placeholder of `url_template` that the `url` value replaces.
pub const URL_PLACEHOLDER: &str = "{}";

/// The checked paths of one JSON source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonConfig {
    /// CSS selector of the `<script>` holding the JSON; `None`: the body is JSON.
    pub script: Option<String>,
    /// Pointer to the array of items.
    pub items: String,
    pub title: String,
    pub url: String,
    /// `https://example.org/posts/{}`: the `url` value (a slug) fills `{}`.
    pub url_template: Option<String>,
    pub summary: Option<String>,
    /// A name, a list of names, an object with a `name`, or a list of those.
    pub authors: Option<String>,
    /// A date string in one of `date_formats`, or Unix seconds or milliseconds.
    pub published: Option<String>,
    /// Like `authors`: names, or objects with a `name`.
    pub tags: Option<String>,
    /// A url, or an object with a `url` or `src`.
    pub image: Option<String>,
    /// Relative urls resolve against this instead of the page url.
    pub base_url: Option<Url>,
    pub date_formats: DateFormats,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawJson {
    script: Option<Spanned<String>>,
    items: Spanned<String>,
    title: Spanned<String>,
    url: Spanned<String>,
    url_template: Option<Spanned<String>>,
    summary: Option<Spanned<String>>,
    authors: Option<Spanned<String>>,
    published: Option<Spanned<String>>,
    tags: Option<Spanned<String>>,
    image: Option<Spanned<String>>,
    base_url: Option<Spanned<String>>,
    date_formats: Option<Spanned<Vec<String>>>,
}

/// Is `p` a JSON Pointer: empty, or `/`-separated tokens whose `~` is `~0` or `~1`?
pub(crate) fn is_pointer(p: &str) -> bool {
    if p.is_empty() {
        return true;
    }
    p.starts_with('/') && {
        let bytes = p.as_bytes();
        bytes
            .iter()
            .enumerate()
            .all(|(i, b)| *b != b'~' || matches!(bytes.get(i + 1), Some(b'0' | b'1')))
    }
}

pub(super) fn check(raw: RawJson, loc: &Locator, source: &str) -> Result<JsonConfig, ConfigError> {
    let path = |key: &str, p: Spanned<String>| -> Result<String, ConfigError> {
        if is_pointer(p.get_ref()) {
            Ok(p.into_inner())
        } else {
            Err(loc.error(
                p.span(),
                format!(
                    "source {source:?}: json.{key}: expected a JSON Pointer such as \"/title\" or \"/author/name\" (RFC 6901), got {:?}",
                    p.get_ref()
                ),
            ))
        }
    };
    let opt = |key: &str, p: Option<Spanned<String>>| p.map(|p| path(key, p)).transpose();

    let script = match raw.script {
        None => None,
        Some(s) => match scraper::Selector::parse(s.get_ref()) {
            Ok(_) => Some(s.into_inner()),
            Err(e) => {
                return Err(loc.error(
                    s.span(),
                    format!(
                        "source {source:?}: json.script: invalid CSS selector {:?}: {e}",
                        s.get_ref()
                    ),
                ));
            }
        },
    };
    let url_template = match raw.url_template {
        Some(t) if !t.get_ref().contains(URL_PLACEHOLDER) => {
            return Err(loc.error(
                t.span(),
                format!(
                    "source {source:?}: json.url_template: expected a url with {URL_PLACEHOLDER} where the url value goes, got {:?}",
                    t.get_ref()
                ),
            ));
        }
        t => t.map(Spanned::into_inner),
    };
    let base_url = super::html::base_url(raw.base_url.as_ref(), loc, source, "json")?;
    let date_formats = super::html::date_formats(raw.date_formats.as_ref(), loc, source, "json")?;
    Ok(JsonConfig {
        script,
        items: path("items", raw.items)?,
        title: path("title", raw.title)?,
        url: path("url", raw.url)?,
        url_template,
        summary: opt("summary", raw.summary)?,
        authors: opt("authors", raw.authors)?,
        published: opt("published", raw.published)?,
        tags: opt("tags", raw.tags)?,
        image: opt("image", raw.image)?,
        base_url,
        date_formats,
    })
}

#[cfg(test)]
mod tests {
    use super::is_pointer;

    #[test]
    fn pointers_follow_rfc_6901() {
        for ok in ["", "/", "/a", "/a/0/b", "/a~1b", "/m~0n"] {
            assert!(is_pointer(ok), "{ok}");
        }
        for bad in ["a", "a/b", "/a~", "/a~2", "$.a"] {
            assert!(!is_pointer(bad), "{bad}");
        }
    }
}
