//! The raw config: `feeds.toml` as written, before any check. Every value
//! that can be wrong keeps its byte span, so [`Locator`] can name the
//! `file:line:column` of a mistake. [`super::check`] turns raw values into
//! the checked types of [`super`].

use serde::Deserialize;
use toml::Spanned;

use super::{ConfigError, SourceKind, alarms, article, html, json, rules};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub(super) title: Option<String>,
    pub(super) base_url: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) tracking_params: Vec<String>,
    #[serde(default)]
    pub(super) redact_params: Vec<String>,
    #[serde(default)]
    pub(super) server: RawServer,
    #[serde(default)]
    pub(super) store: RawStore,
    pub(super) user_agent: Option<Spanned<String>>,
    #[serde(default, rename = "source")]
    pub(super) sources: Vec<Spanned<RawSource>>,
    #[serde(default, rename = "author")]
    pub(super) authors: Vec<Spanned<rules::RawAuthor>>,
    #[serde(default, rename = "tag")]
    pub(super) tags: Vec<Spanned<rules::RawTag>>,
    #[serde(default, rename = "tag_rule")]
    pub(super) tag_rules: Vec<Spanned<rules::RawTagRule>>,
    #[serde(default, rename = "feed")]
    pub(super) feeds: Vec<rules::RawFeed>,
    #[serde(default)]
    pub(super) suggest: RawSuggest,
    #[serde(default)]
    pub(super) editor: RawEditor,
    #[serde(default)]
    pub(super) alarms: alarms::RawAlarms,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSuggest {
    #[serde(default)]
    pub(super) allow: Vec<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEditor {
    pub(super) listen: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawServer {
    pub(super) listen: Option<Spanned<String>>,
    pub(super) cache_max_age: Option<u32>,
    pub(super) trusted_proxies: Option<Vec<Spanned<String>>>,
    pub(super) max_connections: Option<Spanned<u32>>,
    pub(super) header_timeout_secs: Option<Spanned<u64>>,
    pub(super) write_timeout_secs: Option<Spanned<u32>>,
    pub(super) max_connections_per_ip: Option<Spanned<u32>>,
    pub(super) max_items: Option<Spanned<u32>>,
    pub(super) cache_mb: Option<Spanned<u32>>,
    pub(super) refresh_interval_secs: Option<Spanned<u32>>,
    pub(super) public_status: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStore {
    pub(super) path: Option<String>,
    pub(super) url: Option<Spanned<String>>,
    pub(super) lease_secs: Option<Spanned<u32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSource {
    pub(super) name: Spanned<String>,
    pub(super) kind: SourceKind,
    pub(super) title: Option<String>,
    pub(super) link: Option<Spanned<String>>,
    pub(super) inputs: Spanned<Vec<Spanned<RawInput>>>,
    pub(super) timezone: Option<Spanned<String>>,
    pub(super) html: Option<Spanned<html::RawHtml>>,
    pub(super) json: Option<Spanned<json::RawJson>>,
    pub(super) article: Option<article::RawArticle>,
    pub(super) retention_max_items: Option<Spanned<usize>>,
    pub(super) retention_max_age_days: Option<Spanned<u32>>,
    #[serde(default)]
    pub(super) tags: Vec<String>,
    pub(super) alarms: Option<alarms::RawAlarms>,
}

#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum RawInput {
    Plain(String),
    Snapshot(RawSnapshot),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSnapshot {
    pub(super) file: Option<String>,
    pub(super) url: Option<String>,
    pub(super) captured: Option<String>,
}

/// Turns byte spans into `file:line:column` errors.
pub(crate) struct Locator<'a> {
    pub(super) path: &'a str,
    pub(super) text: &'a str,
}

impl Locator<'_> {
    pub(crate) fn error(
        &self,
        span: std::ops::Range<usize>,
        message: impl Into<String>,
    ) -> ConfigError {
        let start = span.start.min(self.text.len());
        let before = &self.text[..start];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        ConfigError::Invalid {
            path: self.path.to_owned(),
            line,
            column,
            message: message.into(),
        }
    }
}
