//! `feeds.toml`: what to read and how to publish it.
//!
//! Loading parses the file and then checks everything that can be checked
//! without I/O (time zones, urls, names, selectors), so a typo fails at start-up
//! with `file:line:column` and the key, never later in a refresh. Every key is
//! documented in `docs/CONFIG.md`; keep the two in step.

mod html;
mod json;
mod rules;

pub use html::{Engine, FieldSpec, HtmlConfig, JsonLd};
pub use json::{JsonConfig, URL_PLACEHOLDER};
pub use rules::{AuthorIdentity, CustomFeed, TagIdentity, TagRule};

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use chrono_tz::Tz;
use serde::Deserialize;
use toml::Spanned;
use url::Url;

/// A problem with the config file, located as precisely as possible.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read config: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
}

/// The whole configuration, checked.
#[derive(Debug, Clone)]
pub struct Config {
    /// Folder of the config file: relative input paths resolve against it.
    pub dir: PathBuf,
    pub title: String,
    /// Where the feeds are published; every emitted link starts with it. Ends with `/`.
    pub base_url: Url,
    pub tracking_params: Vec<String>,
    pub server: ServerConfig,
    pub store: StoreConfig,
    /// `User-Agent` of every HTTP request; `None` for byline's own.
    pub user_agent: Option<String>,
    pub sources: Vec<SourceConfig>,
    /// `[[author]]`: one identity per person across sources.
    pub authors: Vec<AuthorIdentity>,
    /// `[[tag]]`: one identity per topic across labels.
    pub tags: Vec<TagIdentity>,
    pub tag_rules: Vec<TagRule>,
    /// `[[feed]]`: custom feeds.
    pub feeds: Vec<CustomFeed>,
    /// `[suggest] allow`: non-public ranges `byline suggest` may fetch from.
    pub suggest_allow: Vec<IpRange>,
}

/// `[server]`: how `byline serve` listens, caches and protects itself.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// `ip:port` to bind; checked to parse as a socket address.
    pub listen: String,
    /// Seconds readers and proxies may reuse a document (`Cache-Control: max-age`).
    pub cache_max_age: u32,
    /// Peers whose `X-Forwarded-*` headers are believed; empty trusts nobody.
    pub trusted_proxies: Vec<IpRange>,
    /// Connections served at once; further clients wait in the listen backlog.
    pub max_connections: usize,
    /// A client must send a request's headers within this many seconds
    /// (also how long an idle keep-alive connection stays open).
    pub header_timeout_secs: u64,
    /// Most items one feed or page shows; `?limit=` may ask for fewer.
    pub max_items: usize,
    /// Memory for rendered and compressed documents, in MiB; documents beyond
    /// it are rendered again when asked for.
    pub cache_mb: usize,
    /// Seconds between refreshes of each source by `byline serve` (with
    /// jitter), through the store; 0 reads the sources once at start-up.
    pub refresh_interval_secs: u64,
}

/// An address or a CIDR block (`127.0.0.1`, `10.0.0.0/8`, `::1`, `fd00::/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    pub network: std::net::IpAddr,
    pub prefix: u8,
}

impl IpRange {
    /// Parse `addr` or `addr/prefix`.
    pub fn parse(text: &str) -> Option<IpRange> {
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u8>().ok()?)),
            None => (text, None),
        };
        let network: std::net::IpAddr = addr.trim().parse().ok()?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(IpRange { network, prefix })
    }

    /// Is `addr` inside the range? IPv4-mapped IPv6 peers (`::ffff:127.0.0.1`)
    /// count as their IPv4 address.
    pub fn contains(&self, addr: std::net::IpAddr) -> bool {
        use std::net::IpAddr;
        let bits = |n: u8, width: u32| -> u128 {
            if n == 0 {
                0
            } else {
                (!0u128 << (width - u32::from(n))) & (!0u128 >> (128 - width))
            }
        };
        match (self.network, addr.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(a)) => {
                let mask = bits(self.prefix, 32);
                u128::from(u32::from(net)) & mask == u128::from(u32::from(a)) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(a)) => {
                let mask = bits(self.prefix, 128);
                u128::from(net) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// `[store]`: where fetched items are kept between refreshes.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// The SQLite file, resolved against the config folder.
    pub path: PathBuf,
}

/// How much history of a source the store keeps. Items in the source's
/// latest listing are always kept, whatever the limits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retention {
    /// Keep at most this many items (newest first).
    pub max_items: Option<usize>,
    /// Drop items published (or, undated, first seen) longer ago than this.
    pub max_age_days: Option<u32>,
}

/// Which adapter reads a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// A listing page saved as plain text.
    Text,
    /// An HTML listing page read with CSS selectors.
    Html,
    /// An RSS, Atom or JSON Feed, detected from its content.
    Feed,
    /// Items in JSON (an API, or a page's framework state) found by `[source.json]` paths.
    Json,
}

/// One `[[source]]`.
#[derive(Debug, Clone)]
pub struct SourceConfig {
    /// Unique, url-safe name: the feed lives at `/sources/{name}`.
    pub name: String,
    pub kind: SourceKind,
    /// Human title for feeds and pages; defaults to the name.
    pub title: String,
    /// The site's home page, linked from the source's feed.
    pub link: Option<Url>,
    pub inputs: Vec<Input>,
    /// Zone of dates that carry none ("May 20, 2022").
    pub timezone: Tz,
    pub html: Option<HtmlConfig>,
    pub json: Option<JsonConfig>,
    pub retention: Retention,
    /// Tags every item of the source gets.
    pub default_tags: Vec<String>,
}

/// Where one input of a source comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    File(PathBuf),
    Http(Url),
}

/// One input: a location plus what is known about the page it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub location: Location,
    /// The url the page was saved from (for a file) or is (for http): relative
    /// links resolve against it.
    pub page_url: Option<Url>,
    /// The day a saved page was captured, if the config says so.
    pub captured: Option<NaiveDate>,
    /// When it was captured, if the config gives a date-time with offset:
    /// relative dates ("11 hours ago") count back from it.
    pub captured_at: Option<chrono::DateTime<chrono::FixedOffset>>,
}

impl Input {
    /// How errors and logs name this input.
    pub fn display(&self) -> String {
        self.location.display()
    }
}

impl Location {
    /// How errors, logs and fetch state name this location: a path or a url.
    pub fn display(&self) -> String {
        match self {
            Location::File(p) => p.display().to_string(),
            Location::Http(u) => u.to_string(),
        }
    }
}

// ---- raw, as written in the file -------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    title: Option<String>,
    base_url: Option<Spanned<String>>,
    #[serde(default)]
    tracking_params: Vec<String>,
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    store: RawStore,
    user_agent: Option<Spanned<String>>,
    #[serde(default, rename = "source")]
    sources: Vec<Spanned<RawSource>>,
    #[serde(default, rename = "author")]
    authors: Vec<Spanned<rules::RawAuthor>>,
    #[serde(default, rename = "tag")]
    tags: Vec<Spanned<rules::RawTag>>,
    #[serde(default, rename = "tag_rule")]
    tag_rules: Vec<Spanned<rules::RawTagRule>>,
    #[serde(default, rename = "feed")]
    feeds: Vec<rules::RawFeed>,
    #[serde(default)]
    suggest: RawSuggest,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSuggest {
    #[serde(default)]
    allow: Vec<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: Option<Spanned<String>>,
    cache_max_age: Option<u32>,
    trusted_proxies: Option<Vec<Spanned<String>>>,
    max_connections: Option<Spanned<u32>>,
    header_timeout_secs: Option<Spanned<u64>>,
    max_items: Option<Spanned<u32>>,
    cache_mb: Option<Spanned<u32>>,
    refresh_interval_secs: Option<Spanned<u32>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawStore {
    path: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    name: Spanned<String>,
    kind: SourceKind,
    title: Option<String>,
    link: Option<Spanned<String>>,
    inputs: Spanned<Vec<Spanned<RawInput>>>,
    timezone: Option<Spanned<String>>,
    html: Option<Spanned<html::RawHtml>>,
    json: Option<Spanned<json::RawJson>>,
    retention_max_items: Option<Spanned<usize>>,
    retention_max_age_days: Option<Spanned<u32>>,
    #[serde(default)]
    tags: Vec<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawInput {
    Plain(String),
    Snapshot(RawSnapshot),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSnapshot {
    file: Option<String>,
    url: Option<String>,
    captured: Option<String>,
}

/// Turns byte spans into `file:line:column` errors.
pub(crate) struct Locator<'a> {
    path: &'a str,
    text: &'a str,
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

impl Config {
    /// Read and check a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let dir = path
            .parent()
            .map(Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."));
        Config::parse(&text, &path.display().to_string(), &dir)
    }

    /// Parse config text; `path` only names the file in errors, `dir` anchors relative inputs.
    pub fn parse(text: &str, path: &str, dir: &Path) -> Result<Config, ConfigError> {
        let loc = Locator { path, text };
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            loc.error(span, e.message().trim().to_owned())
        })?;

        let base_url = match raw.base_url {
            None => Url::parse("http://127.0.0.1:8080/").expect("static url"),
            Some(s) => {
                let mut text = s.get_ref().clone();
                if !text.ends_with('/') {
                    text.push('/');
                }
                match Url::parse(&text) {
                    Ok(u) if matches!(u.scheme(), "http" | "https") => u,
                    _ => {
                        return Err(loc.error(
                            s.span(),
                            format!(
                                "base_url: expected an absolute http(s) url, got {:?}",
                                s.get_ref()
                            ),
                        ));
                    }
                }
            }
        };

        let mut sources: Vec<SourceConfig> = Vec::new();
        for raw_source in raw.sources {
            let span = raw_source.span();
            let source = check_source(raw_source.into_inner(), &loc, dir)?;
            if sources.iter().any(|s| s.name == source.name) {
                return Err(loc.error(span, format!("source name {:?} is used twice", source.name)));
            }
            sources.push(source);
        }

        let user_agent = match raw.user_agent {
            // A header value must be visible ASCII; catch it here, not at the first fetch.
            Some(ua)
                if ua.get_ref().is_empty()
                    || !ua.get_ref().chars().all(|c| (' '..='~').contains(&c)) =>
            {
                return Err(loc.error(
                    ua.span(),
                    format!(
                        "user_agent: expected non-empty printable ASCII, got {:?}",
                        ua.get_ref()
                    ),
                ));
            }
            ua => ua.map(Spanned::into_inner),
        };
        let store_path = PathBuf::from(raw.store.path.unwrap_or_else(|| "byline.db".to_owned()));
        let authors = raw
            .authors
            .into_iter()
            .map(|a| rules::author(a, &loc))
            .collect::<Result<Vec<_>, _>>()?;
        let tags = raw
            .tags
            .into_iter()
            .map(|t| rules::tag(t, &loc))
            .collect::<Result<Vec<_>, _>>()?;
        let tag_rules = raw
            .tag_rules
            .into_iter()
            .map(|r| rules::tag_rule(r, &loc))
            .collect::<Result<Vec<_>, _>>()?;
        let mut feeds: Vec<CustomFeed> = Vec::new();
        for raw_feed in raw.feeds {
            let span = raw_feed_span(&raw_feed);
            let feed = rules::feed(raw_feed, &loc)?;
            if feeds.iter().any(|f| f.name == feed.name) {
                return Err(loc.error(span, format!("feed name {:?} is used twice", feed.name)));
            }
            feeds.push(feed);
        }

        let suggest_allow = raw
            .suggest
            .allow
            .iter()
            .map(|a| {
                IpRange::parse(a.get_ref()).ok_or_else(|| {
                    loc.error(
                        a.span(),
                        format!(
                            "suggest.allow: expected an ip address or a CIDR block such as \"127.0.0.1\" or \"10.0.0.0/8\", got {:?}",
                            a.get_ref()
                        ),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Config {
            suggest_allow,
            dir: dir.to_path_buf(),
            authors,
            tags,
            tag_rules,
            feeds,
            title: raw.title.unwrap_or_else(|| "byline".to_owned()),
            base_url,
            tracking_params: raw.tracking_params,
            store: StoreConfig {
                path: if store_path.is_absolute() {
                    store_path
                } else {
                    dir.join(store_path)
                },
            },
            user_agent,
            server: check_server(raw.server, &loc)?,
            sources,
        })
    }
}

fn check_server(raw: RawServer, loc: &Locator) -> Result<ServerConfig, ConfigError> {
    let listen = match raw.listen {
        None => "127.0.0.1:8080".to_owned(),
        Some(l) => {
            if l.get_ref().parse::<std::net::SocketAddr>().is_err() {
                return Err(loc.error(
                    l.span(),
                    format!(
                        "server.listen: expected an ip:port such as \"127.0.0.1:8080\" or \"[::1]:8080\", got {:?}",
                        l.get_ref()
                    ),
                ));
            }
            l.into_inner()
        }
    };
    let mut trusted_proxies = Vec::new();
    for p in raw.trusted_proxies.unwrap_or_default() {
        match IpRange::parse(p.get_ref()) {
            Some(r) => trusted_proxies.push(r),
            None => {
                return Err(loc.error(
                    p.span(),
                    format!(
                        "server.trusted_proxies: expected an ip address or a CIDR block such as \"127.0.0.1\" or \"10.0.0.0/8\", got {:?}",
                        p.get_ref()
                    ),
                ));
            }
        }
    }
    // Numeric keys have a floor (zero would disable the server) and a sanity ceiling.
    let at_least = |v: Option<Spanned<u32>>, key: &str, min: u32, max: u32, default: u32| match v {
        None => Ok(default),
        Some(v) if (min..=max).contains(v.get_ref()) => Ok(*v.get_ref()),
        Some(v) => Err(loc.error(
            v.span(),
            format!(
                "server.{key}: expected a number from {min} to {max}, got {}",
                v.get_ref()
            ),
        )),
    };
    let header_timeout_secs = match raw.header_timeout_secs {
        None => 10,
        Some(v) if (1..=3600).contains(v.get_ref()) => *v.get_ref(),
        Some(v) => {
            return Err(loc.error(
                v.span(),
                format!(
                    "server.header_timeout_secs: expected a number of seconds from 1 to 3600, got {}",
                    v.get_ref()
                ),
            ));
        }
    };
    Ok(ServerConfig {
        listen,
        cache_max_age: raw.cache_max_age.unwrap_or(300),
        trusted_proxies,
        max_connections: at_least(raw.max_connections, "max_connections", 1, 1_000_000, 1024)?
            as usize,
        header_timeout_secs,
        max_items: at_least(raw.max_items, "max_items", 1, 1_000_000, 1000)? as usize,
        cache_mb: at_least(raw.cache_mb, "cache_mb", 1, 1_000_000, 16)? as usize,
        refresh_interval_secs: u64::from(at_least(
            raw.refresh_interval_secs,
            "refresh_interval_secs",
            0,
            604_800,
            0,
        )?),
    })
}

fn check_source(raw: RawSource, loc: &Locator, dir: &Path) -> Result<SourceConfig, ConfigError> {
    let name = raw.name.get_ref();
    let name_ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !name_ok {
        return Err(loc.error(
            raw.name.span(),
            format!("source.name: expected lowercase letters, digits, '-' or '_' (it becomes a url), got {name:?}"),
        ));
    }
    let name = name.clone();

    let timezone = match &raw.timezone {
        None => Tz::UTC,
        Some(tz) => tz.get_ref().parse::<Tz>().map_err(|_| {
            loc.error(
                tz.span(),
                format!(
                    "source {name:?}: timezone: expected an IANA zone name such as \"Asia/Seoul\", got {:?}",
                    tz.get_ref()
                ),
            )
        })?,
    };

    let link = match &raw.link {
        None => None,
        Some(l) => Some(absolute_url(l, loc, &format!("source {name:?}: link"))?),
    };

    let inputs_span = raw.inputs.span();
    let mut inputs = Vec::new();
    for input in raw.inputs.into_inner() {
        let span = input.span();
        inputs.push(check_input(input.into_inner(), span, loc, dir, &name)?);
    }
    if inputs.is_empty() {
        return Err(loc.error(
            inputs_span,
            format!("source {name:?}: inputs: expected at least one file or url"),
        ));
    }

    let html = match raw.html {
        Some(h) => {
            let span = h.span();
            Some(html::check(h.into_inner(), span, loc, &name)?)
        }
        None => None,
    };
    if raw.kind == SourceKind::Html && html.is_none() {
        return Err(loc.error(
            raw.name.span(),
            format!("source {name:?}: kind = \"html\" needs an [source.html] table with at least `item` and `title` selectors"),
        ));
    }

    let json = raw
        .json
        .map(|j| json::check(j.into_inner(), loc, &name))
        .transpose()?;
    if raw.kind == SourceKind::Json && json.is_none() {
        return Err(loc.error(
            raw.name.span(),
            format!("source {name:?}: kind = \"json\" needs a [source.json] table with at least `items`, `title` and `url` paths"),
        ));
    }

    let retention = Retention {
        max_items: match raw.retention_max_items {
            Some(n) if *n.get_ref() == 0 => {
                return Err(loc.error(
                    n.span(),
                    format!("source {name:?}: retention_max_items: expected at least 1 (leave it out to keep everything)"),
                ));
            }
            n => n.map(Spanned::into_inner),
        },
        max_age_days: match raw.retention_max_age_days {
            Some(n) if *n.get_ref() == 0 => {
                return Err(loc.error(
                    n.span(),
                    format!("source {name:?}: retention_max_age_days: expected at least 1 (leave it out to keep everything)"),
                ));
            }
            n => n.map(Spanned::into_inner),
        },
    };

    Ok(SourceConfig {
        title: raw.title.unwrap_or_else(|| name.clone()),
        name,
        kind: raw.kind,
        link,
        inputs,
        timezone,
        html,
        json,
        retention,
        default_tags: raw.tags,
    })
}

fn raw_feed_span(feed: &rules::RawFeed) -> std::ops::Range<usize> {
    feed.name_span()
}

fn absolute_url(s: &Spanned<String>, loc: &Locator, what: &str) -> Result<Url, ConfigError> {
    match Url::parse(s.get_ref()) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(u),
        _ => Err(loc.error(
            s.span(),
            format!(
                "{what}: expected an absolute http(s) url, got {:?}",
                s.get_ref()
            ),
        )),
    }
}

fn check_input(
    raw: RawInput,
    span: std::ops::Range<usize>,
    loc: &Locator,
    dir: &Path,
    source: &str,
) -> Result<Input, ConfigError> {
    let (file, url, captured) = match raw {
        RawInput::Plain(s) => {
            if s.starts_with("http://") || s.starts_with("https://") {
                (None, Some(s), None)
            } else {
                (Some(s), None, None)
            }
        }
        RawInput::Snapshot(s) => (s.file, s.url, s.captured),
    };
    let page_url = match url {
        Some(u) => match Url::parse(&u) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => Some(u),
            _ => {
                return Err(loc.error(
                    span,
                    format!(
                        "source {source:?}: inputs: expected an absolute http(s) url, got {u:?}"
                    ),
                ));
            }
        },
        None => None,
    };
    let captured_at = captured
        .as_deref()
        .and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok());
    let captured = match (captured, captured_at) {
        (_, Some(at)) => Some(at.date_naive()),
        (Some(c), None) => Some(NaiveDate::parse_from_str(&c, "%Y-%m-%d").map_err(|_| {
            loc.error(
                span.clone(),
                format!(
                    "source {source:?}: inputs: captured: expected a date YYYY-MM-DD or a date-time with offset such as 2022-05-21T09:40:00+09:00, got {c:?}"
                ),
            )
        })?),
        (None, None) => None,
    };
    let location = match (file, &page_url) {
        (Some(f), _) => {
            let f = f.strip_prefix("file://").unwrap_or(&f);
            let p = PathBuf::from(f);
            Location::File(if p.is_absolute() { p } else { dir.join(p) })
        }
        (None, Some(u)) => Location::Http(u.clone()),
        (None, None) => {
            return Err(loc.error(
                span,
                format!("source {source:?}: inputs: expected a `file` or a `url`"),
            ));
        }
    };
    Ok(Input {
        location,
        page_url,
        captured,
        captured_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, "feeds.toml", Path::new("/etc/byline"))
    }

    #[test]
    fn minimal_source_with_defaults() {
        let c = parse(
            r#"
[[source]]
name = "nk"
kind = "text"
inputs = ["dumps/a.txt", { file = "b.txt", url = "https://x.example/news/", captured = "2021-03-04" }]
"#,
        )
        .unwrap();
        assert_eq!(c.base_url.as_str(), "http://127.0.0.1:8080/");
        assert_eq!(c.server.listen, "127.0.0.1:8080");
        let s = &c.sources[0];
        assert_eq!(s.timezone, Tz::UTC);
        assert_eq!(
            s.inputs[0].location,
            Location::File("/etc/byline/dumps/a.txt".into())
        );
        assert_eq!(
            s.inputs[1].page_url.as_ref().unwrap().as_str(),
            "https://x.example/news/"
        );
        assert_eq!(s.inputs[1].captured, NaiveDate::from_ymd_opt(2021, 3, 4));
        assert_eq!(s.inputs[1].captured_at, None);
    }

    #[test]
    fn captured_takes_a_date_time_with_offset() {
        let c = parse(
            "[[source]]\nname = \"nk\"\nkind = \"text\"\ninputs = [{ file = \"a\", captured = \"2022-05-21T09:40:00+09:00\" }]\n",
        )
        .unwrap();
        let input = &c.sources[0].inputs[0];
        assert_eq!(input.captured, NaiveDate::from_ymd_opt(2022, 5, 21));
        assert_eq!(
            input.captured_at.map(|t| t.to_rfc3339()).as_deref(),
            Some("2022-05-21T09:40:00+09:00")
        );
        let e = parse("[[source]]\nname = \"nk\"\nkind = \"text\"\ninputs = [{ file = \"a\", captured = \"2022-05-21 09:40\" }]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("date-time with offset"), "{e}");
    }

    #[test]
    fn store_retention_and_user_agent() {
        let c = parse("[[source]]\nname = \"nk\"\nkind = \"text\"\ninputs = [\"a\"]\n").unwrap();
        assert_eq!(c.store.path, Path::new("/etc/byline/byline.db"));
        assert_eq!(c.user_agent, None);
        assert_eq!(c.sources[0].retention, Retention::default());

        let c = parse(
            "user_agent = \"me/1.0 (+mailto:me@example.org)\"\n[store]\npath = \"/var/lib/byline/x.db\"\n\
             [[source]]\nname = \"nk\"\nkind = \"text\"\ninputs = [\"a\"]\n\
             retention_max_items = 500\nretention_max_age_days = 30\n",
        )
        .unwrap();
        assert_eq!(c.store.path, Path::new("/var/lib/byline/x.db"));
        assert_eq!(
            c.user_agent.as_deref(),
            Some("me/1.0 (+mailto:me@example.org)")
        );
        assert_eq!(
            c.sources[0].retention,
            Retention {
                max_items: Some(500),
                max_age_days: Some(30)
            }
        );

        let e = parse("[[source]]\nname = \"nk\"\nkind = \"text\"\ninputs = [\"a\"]\nretention_max_items = 0\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("feeds.toml:5:") && e.contains("retention_max_items"),
            "{e}"
        );
        let e = parse("user_agent = \"caf\u{e9}\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("feeds.toml:1:") && e.contains("user_agent"),
            "{e}"
        );
        let e = parse("[store]\nfile = \"x\"\n").unwrap_err().to_string();
        assert!(e.starts_with("feeds.toml:2:") && e.contains("file"), "{e}");
    }

    #[test]
    fn trusted_proxy_ranges() {
        let c =
            parse("[server]\ntrusted_proxies = [\"127.0.0.1\", \"10.0.0.0/8\", \"fd00::/8\"]\n")
                .unwrap();
        assert!(c.suggest_allow.is_empty());
        let s = parse("[suggest]\nallow = [\"127.0.0.1\", \"10.0.0.0/8\"]\n").unwrap();
        assert!(s.suggest_allow[1].contains("10.9.8.7".parse().unwrap()));
        let e = parse("[suggest]\nallow = [\"10.0.0.0/40\"]\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("feeds.toml:2:") && e.contains("suggest.allow"),
            "{e}"
        );
        let r = &c.server.trusted_proxies;
        let has = |a: &str| r.iter().any(|p| p.contains(a.parse().unwrap()));
        assert!(has("127.0.0.1") && has("::ffff:127.0.0.1") && has("10.200.0.1") && has("fd12::1"));
        assert!(!has("127.0.0.2") && !has("11.0.0.1") && !has("::1"));
        assert_eq!(c.server.max_items, 1000);
    }

    #[test]
    fn errors_name_line_and_key() {
        let e = parse("title = \"x\"\n[[source]]\nname = \"nk\"\nkind = \"text\"\ninputs = [\"a\"]\ntimezone = \"Mars/Olympus\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("feeds.toml:6:"), "{e}");
        assert!(e.contains("timezone") && e.contains("Mars/Olympus"), "{e}");

        let e = parse("[[source]]\nname = \"nk\"\nkind = \"txt\"\ninputs = [\"a\"]\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("feeds.toml:3:"), "{e}");
        assert!(e.contains("text"), "{e}");

        let e = parse("[[source]]\nname = \"nk\"\nkind = \"text\"\ninputs = [\"a\"]\ncolour = 1\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("feeds.toml:5:") && e.contains("colour"),
            "{e}"
        );

        let e = parse("[[source]]\nname = \"N K\"\nkind = \"text\"\ninputs = [\"a\"]\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("feeds.toml:2:") && e.contains("name"), "{e}");

        let e = parse("base_url = \"feeds/\"\n").unwrap_err().to_string();
        assert!(
            e.starts_with("feeds.toml:1:") && e.contains("base_url"),
            "{e}"
        );

        let e = parse("[server]\nlisten = \"localhost\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("feeds.toml:2:") && e.contains("listen"),
            "{e}"
        );
        let e = parse("[server]\ntrusted_proxies = [\"127.0.0.1\", \"10.0.0.0/33\"]\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("feeds.toml:2:") && e.contains("10.0.0.0/33"),
            "{e}"
        );
        let e = parse("[server]\nmax_connections = 0\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("feeds.toml:2:") && e.contains("max_connections"),
            "{e}"
        );

        let e = parse("[[source]]\nname = \"a\"\nkind = \"text\"\ninputs = [\"a\"]\n[[source]]\nname = \"a\"\nkind = \"text\"\ninputs = [\"b\"]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("used twice"), "{e}");
    }
}
