//! `feeds.toml`: what to read and how to publish it.
//!
//! Loading parses the file and then checks everything that can be checked
//! without I/O (time zones, urls, names, selectors), so a typo fails at start-up
//! with `file:line:column` and the key, never later in a refresh. Every key is
//! documented in `docs/CONFIG.md`; keep the two in step.

mod alarms;
mod article;
mod check;
mod html;
mod json;
mod raw;
mod rules;

pub use alarms::Alarms;
pub use article::ArticleConfig;
pub use html::{Engine, FieldSpec, HtmlConfig, JsonLd};
pub use json::{JsonConfig, URL_PLACEHOLDER};
pub use rules::{AuthorIdentity, CustomFeed, TagIdentity, TagRule};

use check::{check_server, check_source, check_store, raw_feed_span};
pub(crate) use raw::Locator;
use raw::RawConfig;

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
    /// Did the file give `base_url`? If not, `serve` links to the address
    /// it listens on.
    pub base_url_given: bool,
    pub tracking_params: Vec<String>,
    /// Extra query parameters whose values are secrets, never shown.
    pub redact_params: Vec<String>,
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
    /// `[editor] listen`: where `byline serve` also serves the source
    /// editor, a loopback address; `None`: no editor.
    pub editor: Option<std::net::SocketAddr>,
    /// `[alarms] webhook`: where alarms are `POST`ed as they are raised and cleared.
    pub alarm_webhook: Option<Url>,
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
    /// A response write that makes no progress for this long closes the
    /// connection (a client that stops reading).
    pub write_timeout_secs: u64,
    /// Connections one client address may hold at once (trusted proxies
    /// are exempt).
    pub max_connections_per_ip: usize,
    /// Most items one feed or page shows; `?limit=` may ask for fewer.
    pub max_items: usize,
    /// Memory for rendered and compressed documents, in MiB; documents beyond
    /// it are rendered again when asked for.
    pub cache_mb: usize,
    /// Seconds between refreshes of each source by `byline serve` (with
    /// jitter), through the store; 0 reads the sources once at start-up.
    pub refresh_interval_secs: u64,
    /// `/healthz`, `/metrics` and `/status.*` answer every client (and `build`
    /// writes the status feed); by default only
    /// loopback and trusted proxies (and clients they forward from those).
    pub public_status: bool,
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

/// Where a store lives: a SQLite file (the embedded default) or a
/// PostgreSQL database that several byline processes may share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    Sqlite(PathBuf),
    /// A `postgres://` url (it may carry a password: never logged whole).
    Postgres(String),
}

impl StoreLocation {
    /// `sqlite:PATH`, a plain path, or a `postgres://` / `postgresql://` url.
    pub fn parse(s: &str) -> StoreLocation {
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            StoreLocation::Postgres(s.to_owned())
        } else {
            StoreLocation::Sqlite(PathBuf::from(s.strip_prefix("sqlite:").unwrap_or(s)))
        }
    }

    /// How errors and logs name the store: the file, or the url without
    /// its password.
    pub fn name(&self) -> String {
        match self {
            StoreLocation::Sqlite(p) => p.display().to_string(),
            StoreLocation::Postgres(u) => match url::Url::parse(u) {
                Ok(mut url) => {
                    if url.password().is_some() {
                        let _ = url.set_password(Some("***"));
                    }
                    url.to_string()
                }
                Err(_) => "postgres://(unreadable url)".to_owned(),
            },
        }
    }
}

/// `[store]`: where fetched items are kept between refreshes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    /// The SQLite file (resolved against the config folder), or the
    /// PostgreSQL database several byline processes may share.
    pub location: StoreLocation,
    /// How long a claim on a source's refresh holds without renewal: how
    /// soon another process takes over from one that died (shared stores).
    pub lease: std::time::Duration,
}

/// Lease terms `[store] lease_secs` may set: long enough to renew over a
/// slow network, short enough that a dead process's sources are not
/// left for long.
pub(crate) const LEASE_SECS: std::ops::RangeInclusive<u32> = 2..=3600;

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
    /// `[source.article]`: read each new story's own page; `None`: off.
    pub article: Option<ArticleConfig>,
    pub retention: Retention,
    /// Tags every item of the source gets.
    pub default_tags: Vec<String>,
    /// When a read of it counts as drift: `[alarms]` with its own `alarms` over it.
    pub alarms: Alarms,
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
            loc.error(span, with_suggestion(e.message().trim()))
        })?;

        let base_url_given = raw.base_url.is_some();
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

        let alarms = raw.alarms.over(Alarms::default(), &loc, "alarms")?;
        let alarm_webhook = raw.alarms.webhook(&loc, true)?;
        let mut sources: Vec<SourceConfig> = Vec::new();
        for raw_source in raw.sources {
            let span = raw_source.span();
            let source = check_source(raw_source.into_inner(), &loc, dir, alarms)?;
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
        let store = check_store(raw.store, dir, &loc)?;
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
        let editor = match &raw.editor.listen {
            None => None,
            Some(l) => match l.get_ref().parse::<std::net::SocketAddr>() {
                Ok(addr) if addr.ip().is_loopback() => Some(addr),
                Ok(addr) => {
                    return Err(loc.error(
                        l.span(),
                        format!(
                            "editor.listen: {addr} is not a loopback address; the editor fetches what it is told to, so it listens only on this machine (such as \"127.0.0.1:8081\"; reach it from elsewhere through an SSH tunnel)"
                        ),
                    ));
                }
                Err(e) => {
                    return Err(loc.error(
                        l.span(),
                        format!(
                            "editor.listen: expected an address such as \"127.0.0.1:8081\", got {:?}: {e}",
                            l.get_ref()
                        ),
                    ));
                }
            },
        };
        Ok(Config {
            suggest_allow,
            editor,
            alarm_webhook,
            dir: dir.to_path_buf(),
            authors,
            tags,
            tag_rules,
            feeds,
            title: raw.title.unwrap_or_else(|| "byline".to_owned()),
            base_url,
            base_url_given,
            tracking_params: raw.tracking_params,
            redact_params: raw.redact_params,
            store,
            user_agent,
            server: check_server(raw.server, &loc)?,
            sources,
        })
    }
}

#[cfg(test)]
mod tests;

/// serde names an unknown key and lists the expected ones; add the nearest
/// expected key, as a "did you mean" hint, when one is close enough to be a typo.
fn with_suggestion(message: &str) -> String {
    let Some(rest) = message.strip_prefix("unknown field `") else {
        return message.to_owned();
    };
    let Some((given, expected)) = rest.split_once("`, expected ") else {
        return message.to_owned();
    };
    let nearest = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|key| (strsim::jaro_winkler(given, key), key))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match nearest {
        Some((_, key)) => format!("{message}; did you mean `{key}`?"),
        None => message.to_owned(),
    }
}
