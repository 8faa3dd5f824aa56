//! `[source.html]`: the CSS selectors that find items and their fields on an
//! HTML listing page. Every selector is compiled at load time, so a typo is a
//! config error with its line, not an empty feed later.
//!
//! Selectors are read with two engines. The *streaming* engine (`lol_html`)
//! reads a page in one pass without building a tree and is the fast default;
//! it understands type, class, id and attribute selectors, `*`, `:not()`,
//! `:first-child`, `:nth-child()`, `:first-of-type`, `:nth-of-type()` and the
//! descendant and child combinators. A selector beyond that (`+`, `~`, `:has()`,
//! `:last-child`, ...) makes the source use the *DOM* engine (`scraper`), which
//! understands all of CSS at a lower speed; `engine = "streaming"` turns that
//! fallback into a load-time error instead.

use serde::Deserialize;
use toml::Spanned;
use url::Url;

use super::{ConfigError, Locator};
use crate::dates::DateFormats;

/// Where a field's value lives: the text of the first element matching `css`
/// (inside the item element), or the first of `attrs` that is present (and not
/// a `data:` placeholder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpec {
    pub css: String,
    /// Attributes to try in order; empty means the element's text.
    pub attrs: Vec<String>,
}

impl FieldSpec {
    /// The css of a field read from the item element itself (`<a class="card" href=...>`).
    pub const SCOPE: &str = ":scope";

    pub fn is_scope(&self) -> bool {
        self.css == Self::SCOPE
    }
}

/// When a source's JSON-LD (`<script type="application/ld+json">`) is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JsonLd {
    /// When the selectors find no items.
    #[default]
    Auto,
    /// First; the selectors only when JSON-LD has no items.
    Always,
    /// Never.
    Never,
}

/// Which engine reads the page; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Engine {
    /// Streaming when every selector allows it, else DOM.
    #[default]
    Auto,
    Streaming,
    Dom,
}

/// The checked selectors of one HTML source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HtmlConfig {
    /// One element per item ("article.card").
    pub item: String,
    pub title: FieldSpec,
    /// Defaults to the `href` of the element `title` matched.
    pub url: Option<FieldSpec>,
    pub summary: Option<FieldSpec>,
    /// Every match is one author, in page order.
    pub authors: Option<FieldSpec>,
    /// Split each author text at these ("By A, B and C"); empty: never split.
    pub author_separators: Vec<String>,
    /// `datetime` attribute when present, else the text.
    pub published: Option<FieldSpec>,
    /// Every match is one tag.
    pub tags: Option<FieldSpec>,
    pub image: Option<FieldSpec>,
    /// The link to the next page of the listing, followed up to `max_pages`.
    pub next_page: Option<FieldSpec>,
    /// The page's own capture date (a site header's "May 21, 2022"), which
    /// anchors relative dates of a saved page. Never an item.
    pub captured: Option<FieldSpec>,
    pub max_pages: u32,
    /// Relative links resolve against this instead of the page url.
    pub base_url: Option<Url>,
    /// How dates on this page may be written.
    pub date_formats: DateFormats,
    pub jsonld: JsonLd,
    /// The engine that reads the page: `Streaming` or `Dom`, never `Auto`
    /// (resolved at load).
    pub engine: Engine,
    /// Why an `auto` source reads with the DOM engine (the selector and what it uses).
    pub engine_note: Option<String>,
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
    author_separators: Option<Spanned<Vec<String>>>,
    published: Option<Spanned<RawField>>,
    tags: Option<Spanned<RawField>>,
    image: Option<Spanned<RawField>>,
    next_page: Option<Spanned<RawField>>,
    captured: Option<Spanned<RawField>>,
    max_pages: Option<u32>,
    base_url: Option<Spanned<String>>,
    date_formats: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    jsonld: JsonLd,
    #[serde(default)]
    engine: Engine,
}

/// A scraper selector error in words (its own Display asks to file a bug for
/// unknown pseudo-classes, which are a user's typo).
pub(super) fn describe(e: &scraper::error::SelectorErrorKind) -> String {
    match e {
        scraper::error::SelectorErrorKind::UnexpectedSelectorParseError(kind) => {
            format!("unsupported selector syntax ({kind:?})")
        }
        other => other.to_string(),
    }
}

pub(super) fn check(
    raw: RawHtml,
    span: std::ops::Range<usize>,
    loc: &Locator,
    source: &str,
) -> Result<HtmlConfig, ConfigError> {
    let _ = span;
    let wanted = raw.engine;
    // The first selector the streaming engine cannot match, with the reason.
    let streaming_blocker: std::cell::RefCell<Option<(String, std::ops::Range<usize>)>> =
        std::cell::RefCell::new(None);

    let selector = |key: &str,
                    css: &str,
                    span: std::ops::Range<usize>|
     -> Result<(), ConfigError> {
        scraper::Selector::parse(css).map_err(|e| {
            loc.error(
                span.clone(),
                format!(
                    "source {source:?}: html.{key}: invalid CSS selector {css:?}: {}",
                    describe(&e)
                ),
            )
        })?;
        if css != FieldSpec::SCOPE
            && let Err(e) = css.parse::<lol_html::Selector>()
        {
            let mut blocker = streaming_blocker.borrow_mut();
            if blocker.is_none() {
                *blocker = Some((
                    format!(
                        "html.{key} = {css:?} needs the DOM engine: the streaming engine says {}",
                        e.to_string().trim_end_matches('.').to_lowercase()
                    ),
                    span,
                ));
            }
        }
        Ok(())
    };
    let field = |key: &str,
                 f: Spanned<RawField>,
                 default_attrs: &[&str]|
     -> Result<FieldSpec, ConfigError> {
        let span = f.span();
        let mut spec = match f.into_inner() {
            RawField::Css(css) => FieldSpec {
                css,
                attrs: Vec::new(),
            },
            RawField::Table { css, attr, attrs } => FieldSpec {
                css,
                attrs: attr.into_iter().chain(attrs).collect(),
            },
        };
        if spec.attrs.is_empty() {
            spec.attrs = default_attrs.iter().map(|a| (*a).to_owned()).collect();
        }
        if spec.attrs.iter().any(|a| a.trim().is_empty()) {
            return Err(loc.error(
                span,
                format!("source {source:?}: html.{key}: an attribute name is empty"),
            ));
        }
        selector(key, &spec.css, span)?;
        Ok(spec)
    };
    let opt = |key: &str, f: Option<Spanned<RawField>>, default_attrs: &[&str]| {
        f.map(|f| field(key, f, default_attrs)).transpose()
    };
    // Page-level fields are not inside an item, so `:scope` means nothing there.
    let page_field = |key: &str, f: Option<Spanned<RawField>>, default_attrs: &[&str]| {
        let span = f.as_ref().map(Spanned::span);
        let spec = opt(key, f, default_attrs)?;
        match (&spec, span) {
            (Some(s), Some(span)) if s.css == FieldSpec::SCOPE => Err(loc.error(
                span,
                format!("source {source:?}: html.{key}: {} names an item element; {key} is a page-level field", FieldSpec::SCOPE),
            )),
            _ => Ok(spec),
        }
    };

    selector("item", raw.item.get_ref(), raw.item.span())?;
    if raw.item.get_ref() == FieldSpec::SCOPE {
        return Err(loc.error(
            raw.item.span(),
            format!(
                "source {source:?}: html.item: {} is for fields inside an item",
                FieldSpec::SCOPE
            ),
        ));
    }
    let base_url = base_url(raw.base_url.as_ref(), loc, source, "html")?;
    let date_formats = date_formats(raw.date_formats.as_ref(), loc, source, "html")?;

    let author_separators = match raw.author_separators {
        Some(s) if s.get_ref().is_empty() || s.get_ref().iter().any(String::is_empty) => {
            return Err(loc.error(
                s.span(),
                format!("source {source:?}: html.author_separators: expected non-empty strings such as [\",\", \" and \"]"),
            ));
        }
        s => s.map(Spanned::into_inner).unwrap_or_default(),
    };
    let config = HtmlConfig {
        item: raw.item.into_inner(),
        title: field("title", raw.title, &[])?,
        url: opt("url", raw.url, &["href"])?,
        summary: opt("summary", raw.summary, &[])?,
        authors: opt("authors", raw.authors, &[])?,
        author_separators,
        published: opt("published", raw.published, &["datetime"])?,
        tags: opt("tags", raw.tags, &[])?,
        image: opt("image", raw.image, &["data-src", "src"])?,
        next_page: page_field("next_page", raw.next_page, &["href"])?,
        captured: page_field("captured", raw.captured, &["datetime"])?,
        max_pages: raw.max_pages.unwrap_or(1).max(1),
        base_url,
        date_formats,
        jsonld: raw.jsonld,
        engine: Engine::Auto,
        engine_note: None,
    };
    let blocker = streaming_blocker.into_inner();
    let (engine, engine_note) = match (wanted, blocker) {
        (Engine::Dom, _) => (Engine::Dom, None),
        (Engine::Auto | Engine::Streaming, None) => (Engine::Streaming, None),
        (Engine::Auto, Some((why, _))) => (Engine::Dom, Some(why)),
        (Engine::Streaming, Some((why, span))) => {
            return Err(loc.error(
                span,
                format!("source {source:?}: engine = \"streaming\", but {why}"),
            ));
        }
    };
    Ok(HtmlConfig {
        engine,
        engine_note,
        ..config
    })
}

/// `{table}.base_url`, checked to be an absolute http(s) url.
pub(super) fn base_url(
    raw: Option<&Spanned<String>>,
    loc: &Locator,
    source: &str,
    table: &str,
) -> Result<Option<Url>, ConfigError> {
    let Some(b) = raw else { return Ok(None) };
    match Url::parse(b.get_ref()) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(Some(u)),
        _ => Err(loc.error(
            b.span(),
            format!(
                "source {source:?}: {table}.base_url: expected an absolute http(s) url, got {:?}",
                b.get_ref()
            ),
        )),
    }
}

/// `{table}.date_formats` by name; the defaults when absent.
pub(super) fn date_formats(
    raw: Option<&Spanned<Vec<String>>>,
    loc: &Locator,
    source: &str,
    table: &str,
) -> Result<DateFormats, ConfigError> {
    match raw {
        None => Ok(DateFormats::default()),
        Some(f) => DateFormats::from_names(f.get_ref())
            .map_err(|e| loc.error(f.span(), format!("source {source:?}: {table}.{e}"))),
    }
}
