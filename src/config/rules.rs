//! The config's rules about people and topics: `[[author]]` identities,
//! `[[tag]]` identities, `[[tag_rule]]`s and `[[feed]]` custom feeds. Regular
//! expressions are compiled here, at load time, so a bad pattern names its line.

use regex::Regex;
use serde::Deserialize;
use toml::Spanned;

use super::{ConfigError, Locator};

/// `[[author]]`: one person, however sources spell the name.
#[derive(Debug, Clone)]
pub struct AuthorIdentity {
    /// Display name used in every feed.
    pub name: String,
    /// Url-safe key; defaults to the slug of `name`.
    pub slug: String,
    /// Other spellings that mean this person ("Kim, Jeongmin", "J. Kim").
    pub aliases: Vec<String>,
    /// Profile page, emitted as the author's uri.
    pub url: Option<String>,
}

/// `[[tag]]`: one topic, however sources label it.
#[derive(Debug, Clone)]
pub struct TagIdentity {
    pub name: String,
    pub slug: String,
    /// Labels and categories that mean this tag ("PRO" -> `nk-pro`).
    pub aliases: Vec<String>,
}

/// `[[tag_rule]]`: add `tag` to items whose title or summary matches.
#[derive(Debug, Clone)]
pub struct TagRule {
    pub tag: String,
    pub pattern: Regex,
    /// Only items of these sources (empty: all).
    pub sources: Vec<String>,
}

/// `[[feed]]`: a named selection published like the built-in views.
#[derive(Debug, Clone, Default)]
pub struct CustomFeed {
    pub name: String,
    pub title: String,
    /// Selection by slug or name; an empty list does not narrow.
    pub authors: Vec<String>,
    pub tags: Vec<String>,
    pub sources: Vec<String>,
    pub exclude_authors: Vec<String>,
    pub exclude_tags: Vec<String>,
    pub exclude_sources: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAuthor {
    name: String,
    slug: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    url: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTag {
    name: String,
    slug: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTagRule {
    tag: String,
    /// A regular expression, case-insensitive.
    pattern: Option<Spanned<String>>,
    /// Whole words or phrases, case-insensitive.
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    sources: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFeed {
    name: Spanned<String>,
    title: Option<String>,
    #[serde(default)]
    authors: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    sources: Vec<String>,
    #[serde(default)]
    exclude_authors: Vec<String>,
    #[serde(default)]
    exclude_tags: Vec<String>,
    #[serde(default)]
    exclude_sources: Vec<String>,
}

pub(super) fn author(
    raw: Spanned<RawAuthor>,
    loc: &Locator,
) -> Result<AuthorIdentity, ConfigError> {
    let span = raw.span();
    let raw = raw.into_inner();
    let url = match raw.url {
        Some(u) => match url::Url::parse(u.get_ref()) {
            Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => Some(parsed.to_string()),
            _ => {
                return Err(loc.error(
                    u.span(),
                    format!(
                        "author {:?}: url: expected an absolute http(s) url, got {:?}",
                        raw.name,
                        u.get_ref()
                    ),
                ));
            }
        },
        None => None,
    };
    let slug = checked_slug(raw.slug, &raw.name, span, loc, "author")?;
    Ok(AuthorIdentity {
        name: crate::model::collapse_whitespace(&raw.name),
        slug,
        aliases: raw.aliases,
        url,
    })
}

pub(super) fn tag(raw: Spanned<RawTag>, loc: &Locator) -> Result<TagIdentity, ConfigError> {
    let span = raw.span();
    let raw = raw.into_inner();
    let slug = checked_slug(raw.slug, &raw.name, span, loc, "tag")?;
    Ok(TagIdentity {
        name: crate::model::collapse_whitespace(&raw.name),
        slug,
        aliases: raw.aliases,
    })
}

fn checked_slug(
    slug: Option<String>,
    name: &str,
    span: std::ops::Range<usize>,
    loc: &Locator,
    what: &str,
) -> Result<String, ConfigError> {
    match slug {
        None => Ok(crate::model::slugify(name)),
        Some(s)
            if !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') =>
        {
            Ok(s)
        }
        Some(s) => Err(loc.error(
            span,
            format!("{what} {name:?}: slug: expected lowercase letters, digits and '-', got {s:?}"),
        )),
    }
}

pub(super) fn tag_rule(raw: Spanned<RawTagRule>, loc: &Locator) -> Result<TagRule, ConfigError> {
    let span = raw.span();
    let raw = raw.into_inner();
    let mut alternatives: Vec<String> = raw
        .keywords
        .iter()
        .map(|k| format!(r"\b{}\b", regex::escape(k.trim())))
        .collect();
    let mut pattern_span = span.clone();
    if let Some(p) = &raw.pattern {
        pattern_span = p.span();
        alternatives.push(format!("(?:{})", p.get_ref()));
    }
    if alternatives.is_empty() {
        return Err(loc.error(
            span,
            format!(
                "tag_rule for {:?}: expected a `pattern` or `keywords`",
                raw.tag
            ),
        ));
    }
    let source = format!("(?i){}", alternatives.join("|"));
    let pattern = regex::RegexBuilder::new(&source)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| {
            loc.error(
                pattern_span,
                format!(
                    "tag_rule for {:?}: invalid regular expression: {e}",
                    raw.tag
                ),
            )
        })?;
    Ok(TagRule {
        tag: raw.tag,
        pattern,
        sources: raw.sources,
    })
}

impl RawFeed {
    pub(super) fn name_span(&self) -> std::ops::Range<usize> {
        self.name.span()
    }
}

pub(super) fn feed(raw: RawFeed, loc: &Locator) -> Result<CustomFeed, ConfigError> {
    let name = raw.name.get_ref();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        return Err(loc.error(
            raw.name.span(),
            format!("feed.name: expected lowercase letters, digits, '-' or '_' (it becomes a url), got {name:?}"),
        ));
    }
    Ok(CustomFeed {
        title: raw.title.unwrap_or_else(|| name.clone()),
        name: name.clone(),
        authors: raw.authors,
        tags: raw.tags,
        sources: raw.sources,
        exclude_authors: raw.exclude_authors,
        exclude_tags: raw.exclude_tags,
        exclude_sources: raw.exclude_sources,
    })
}
