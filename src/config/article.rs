//! `[source.article]`: reading the page each new story links to (its exact
//! times, authors, lead image and full text). Off unless the table is given;
//! `enabled = false` keeps the table but turns it off.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::ConfigError;
use super::html::describe;
use super::raw::Locator;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawArticle {
    pub(super) enabled: Option<bool>,
    pub(super) content: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) remove: Vec<Spanned<String>>,
    pub(super) max_per_refresh: Option<Spanned<u32>>,
    pub(super) delay_ms: Option<Spanned<u64>>,
    pub(super) max_attempts: Option<Spanned<u32>>,
    pub(super) dir: Option<String>,
}

/// How a source's article pages are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleConfig {
    /// CSS selector of the element holding the main content; `None`: found by scoring.
    pub content: Option<String>,
    /// CSS selectors of elements inside the content that are not content.
    pub remove: Vec<String>,
    /// Most article pages one refresh of the source fetches (new stories first, then retries).
    pub max_per_refresh: usize,
    /// Pause between two article fetches of the source, in milliseconds.
    pub delay_ms: u64,
    /// Fetches of one article before it is given up (each failure waits twice as long).
    pub max_attempts: u32,
    /// A folder of saved article pages: the page of `.../<slug>/` is `<dir>/<slug>.html`,
    /// read instead of fetched (offline configs, tests).
    pub dir: Option<PathBuf>,
}

impl Default for ArticleConfig {
    fn default() -> Self {
        ArticleConfig {
            content: None,
            remove: Vec::new(),
            max_per_refresh: 10,
            delay_ms: 1000,
            max_attempts: 5,
            dir: None,
        }
    }
}

pub(super) fn check(
    raw: RawArticle,
    loc: &Locator,
    dir: &Path,
    source: &str,
) -> Result<Option<ArticleConfig>, ConfigError> {
    let selector = |key: &str, css: &Spanned<String>| -> Result<String, ConfigError> {
        scraper::Selector::parse(css.get_ref()).map_err(|e| {
            loc.error(
                css.span(),
                format!(
                    "source {source:?}: article.{key}: invalid CSS selector {:?}: {}",
                    css.get_ref(),
                    describe(&e)
                ),
            )
        })?;
        Ok(css.get_ref().clone())
    };
    let content = raw
        .content
        .as_ref()
        .map(|c| selector("content", c))
        .transpose()?;
    let remove = raw
        .remove
        .iter()
        .map(|r| selector("remove", r))
        .collect::<Result<Vec<_>, _>>()?;
    let number = |v: Option<Spanned<u64>>, key: &str, min: u64, max: u64, default: u64| match v {
        None => Ok(default),
        Some(v) if (min..=max).contains(v.get_ref()) => Ok(*v.get_ref()),
        Some(v) => Err(loc.error(
            v.span(),
            format!(
                "source {source:?}: article.{key}: expected a number from {min} to {max}, got {}",
                v.get_ref()
            ),
        )),
    };
    let wide = |v: Option<Spanned<u32>>| {
        v.map(|v| {
            let span = v.span();
            Spanned::new(span, u64::from(v.into_inner()))
        })
    };
    let defaults = ArticleConfig::default();
    let max_per_refresh = number(
        wide(raw.max_per_refresh),
        "max_per_refresh",
        1,
        10_000,
        defaults.max_per_refresh as u64,
    )? as usize;
    let delay_ms = number(raw.delay_ms, "delay_ms", 0, 600_000, defaults.delay_ms)?;
    let max_attempts = number(
        wide(raw.max_attempts),
        "max_attempts",
        1,
        100,
        u64::from(defaults.max_attempts),
    )? as u32;
    if raw.enabled == Some(false) {
        return Ok(None);
    }
    Ok(Some(ArticleConfig {
        content,
        remove,
        max_per_refresh,
        delay_ms,
        max_attempts,
        dir: raw.dir.map(|d| {
            let p = PathBuf::from(d);
            if p.is_absolute() { p } else { dir.join(p) }
        }),
    }))
}
