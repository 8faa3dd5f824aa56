//! `[source.html]`: the CSS selectors that find items and their fields on an
//! HTML listing page. Every selector is compiled at load time, so a typo is a
//! config error with its line, not an empty feed later.

use serde::Deserialize;
use toml::Spanned;

use super::{ConfigError, Locator};

/// Where a field's value lives: the text of the first element matching `css`,
/// or the first of `attrs` that is present (and not a `data:` placeholder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpec {
    pub css: String,
    /// Attributes to try in order; empty means the element's text.
    pub attrs: Vec<String>,
}

/// The checked selectors of one HTML source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HtmlConfig {
    /// One element per item ("article.card").
    pub item: String,
    pub title: FieldSpec,
    pub url: Option<FieldSpec>,
    pub summary: Option<FieldSpec>,
    /// Every match is one author, in page order.
    pub authors: Option<FieldSpec>,
    pub published: Option<FieldSpec>,
    /// Every match is one tag.
    pub tags: Option<FieldSpec>,
    pub image: Option<FieldSpec>,
    /// The link to the next page of the listing, followed up to `max_pages`.
    pub next_page: Option<FieldSpec>,
    pub max_pages: u32,
}

#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum RawField {
    Css(String),
    Table {
        css: String,
        attr: Option<String>,
        #[serde(default)]
        attrs: Vec<String>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHtml {
    item: Spanned<String>,
    title: Spanned<RawField>,
    url: Option<Spanned<RawField>>,
    summary: Option<Spanned<RawField>>,
    authors: Option<Spanned<RawField>>,
    published: Option<Spanned<RawField>>,
    tags: Option<Spanned<RawField>>,
    image: Option<Spanned<RawField>>,
    next_page: Option<Spanned<RawField>>,
    max_pages: Option<u32>,
}

pub(super) fn check(
    raw: RawHtml,
    _span: std::ops::Range<usize>,
    loc: &Locator,
    source: &str,
) -> Result<HtmlConfig, ConfigError> {
    let selector =
        |key: &str, css: &str, span: std::ops::Range<usize>| -> Result<(), ConfigError> {
            scraper::Selector::parse(css).map(|_| ()).map_err(|e| {
                loc.error(
                    span,
                    format!("source {source:?}: html.{key}: invalid CSS selector {css:?}: {e}"),
                )
            })
        };
    let field = |key: &str, f: Spanned<RawField>| -> Result<FieldSpec, ConfigError> {
        let span = f.span();
        let spec = match f.into_inner() {
            RawField::Css(css) => FieldSpec {
                css,
                attrs: Vec::new(),
            },
            RawField::Table { css, attr, attrs } => FieldSpec {
                css,
                attrs: attr.into_iter().chain(attrs).collect(),
            },
        };
        selector(key, &spec.css, span)?;
        Ok(spec)
    };
    let opt = |key: &str, f: Option<Spanned<RawField>>| f.map(|f| field(key, f)).transpose();

    selector("item", raw.item.get_ref(), raw.item.span())?;
    Ok(HtmlConfig {
        item: raw.item.into_inner(),
        title: field("title", raw.title)?,
        url: opt("url", raw.url)?,
        summary: opt("summary", raw.summary)?,
        authors: opt("authors", raw.authors)?,
        published: opt("published", raw.published)?,
        tags: opt("tags", raw.tags)?,
        image: opt("image", raw.image)?,
        next_page: opt("next_page", raw.next_page)?,
        max_pages: raw.max_pages.unwrap_or(1).max(1),
    })
}
