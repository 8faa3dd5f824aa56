//! An *article* is what the page one story links to says about that story,
//! beyond what its listing gave: when it was published and last modified
//! (each with where the page said it), its authors, its lead image and its
//! main content, as sanitized HTML with absolute urls and as plain text.
//!
//! Each value comes from the most machine-readable place the page has it:
//! JSON-LD (`datePublished` / `dateModified`, `author` with Yoast `@graph`
//! references), then `<meta>` (`article:published_time`, `og:image`, ...),
//! then the byline (`<time datetime>`, author links), then visible text. The
//! main content is a configured selector minus "remove these" selectors, or,
//! when none is given, the block the page's paragraphs score highest in
//! ([`content`]). Like every adapter this does no I/O.

mod content;
mod meta;

use chrono_tz::Tz;
use scraper::{Html, Selector};
use url::Url;

use super::layout::dom_depth_ok;
use crate::model::Published;

/// Where a date on an article page came from, most machine-readable first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DateOrigin {
    /// A JSON-LD `datePublished` / `dateModified`.
    JsonLd,
    /// A `<meta>` (`article:published_time`, ...) or microdata `itemprop`.
    Meta,
    /// A `<time datetime>` in the byline.
    Time,
    /// Visible text, read as a human date.
    Text,
}

impl DateOrigin {
    /// The name `check` and the store use.
    pub fn as_str(self) -> &'static str {
        match self {
            DateOrigin::JsonLd => "json-ld",
            DateOrigin::Meta => "meta",
            DateOrigin::Time => "time",
            DateOrigin::Text => "text",
        }
    }

    /// The origin a stored name stands for.
    pub fn from_name(name: &str) -> Option<DateOrigin> {
        [
            DateOrigin::JsonLd,
            DateOrigin::Meta,
            DateOrigin::Time,
            DateOrigin::Text,
        ]
        .into_iter()
        .find(|o| o.as_str() == name)
    }
}

/// A date and where the page said it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dated {
    pub value: Published,
    pub origin: DateOrigin,
}

/// What one article page gave. Every field may be missing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Article {
    pub published: Option<Dated>,
    pub updated: Option<Dated>,
    /// Names in byline order.
    pub authors: Vec<String>,
    /// Absolute url of the lead image.
    pub image: Option<String>,
    /// The main content: sanitized HTML (no scripts, styles, event handlers or
    /// `javascript:` urls), urls absolute.
    pub content_html: Option<String>,
    /// The main content as text: one paragraph per block, joined by blank lines.
    pub content_text: Option<String>,
}

/// How to read the article pages of one source.
#[derive(Debug, Clone, Default)]
pub struct ArticleRules {
    /// The element holding the main content; `None`: found by scoring.
    pub content: Option<String>,
    /// Elements inside the content that are not content.
    pub remove: Vec<String>,
}

/// An article page that could not be read at all.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ArticleError {
    #[error("{0}")]
    TooDeep(String),
    #[error("article.{key} {css:?}: invalid CSS selector")]
    Selector { key: &'static str, css: String },
}

/// A CSS selector of the `[source.article]` rules, or the error naming its key.
pub fn selector(key: &'static str, css: &str) -> Result<Selector, ArticleError> {
    Selector::parse(css).map_err(|_| ArticleError::Selector {
        key,
        css: css.to_owned(),
    })
}

/// Read the article page `text` (already decoded), saved from `url`. Dates
/// without a zone are meant in `tz`.
pub fn extract(
    text: &str,
    url: &Url,
    rules: &ArticleRules,
    tz: Tz,
) -> Result<Article, ArticleError> {
    dom_depth_ok(text).map_err(ArticleError::TooDeep)?;
    let content_sel = rules
        .content
        .as_deref()
        .map(|c| selector("content", c))
        .transpose()?;
    let remove = rules
        .remove
        .iter()
        .map(|r| selector("remove", r))
        .collect::<Result<Vec<_>, _>>()?;
    let doc = Html::parse_document(text);
    let found = meta::read(&doc, url, tz);
    let body = content::main(&doc, content_sel.as_ref(), &remove, url);
    Ok(Article {
        published: found.published,
        updated: found.updated,
        authors: found.authors,
        image: found.image,
        content_html: body.as_ref().map(|b| b.html.clone()),
        content_text: body.map(|b| b.text),
    })
}

#[cfg(test)]
mod tests;
