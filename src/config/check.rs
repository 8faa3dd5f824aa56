//! Checking: raw values become the checked config, one section at a time,
//! each mistake an error naming `file:line:column` and the key.

use std::path::Path;

use chrono::NaiveDate;
use chrono_tz::Tz;
use toml::Spanned;
use url::Url;

use super::raw::{Locator, RawInput, RawServer, RawSource};
use super::*;
pub(super) fn check_server(raw: RawServer, loc: &Locator) -> Result<ServerConfig, ConfigError> {
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
        public_status: raw.public_status.unwrap_or(false),
        trusted_proxies,
        max_connections: at_least(raw.max_connections, "max_connections", 1, 1_000_000, 1024)?
            as usize,
        header_timeout_secs,
        write_timeout_secs: u64::from(at_least(
            raw.write_timeout_secs,
            "write_timeout_secs",
            1,
            3600,
            30,
        )?),
        max_connections_per_ip: at_least(
            raw.max_connections_per_ip,
            "max_connections_per_ip",
            1,
            1_000_000,
            64,
        )? as usize,
        max_items: at_least(raw.max_items, "max_items", 1, 1_000_000, 50)? as usize,
        cache_mb: at_least(raw.cache_mb, "cache_mb", 1, 1_000_000, 16)? as usize,
        refresh_interval_secs: u64::from(at_least(
            raw.refresh_interval_secs,
            "refresh_interval_secs",
            0,
            604_800,
            1800,
        )?),
    })
}

pub(super) fn check_source(
    raw: RawSource,
    loc: &Locator,
    dir: &Path,
    alarms: super::Alarms,
) -> Result<SourceConfig, ConfigError> {
    let alarms = match &raw.alarms {
        None => alarms,
        Some(own) => {
            own.webhook(loc, false)?;
            own.over(alarms, loc, "source.alarms")?
        }
    };
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

    let article = raw
        .article
        .map(|a| article::check(a, loc, dir, &name))
        .transpose()?
        .flatten();

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
        article,
        retention,
        default_tags: raw.tags,
        alarms,
    })
}

pub(super) fn raw_feed_span(feed: &rules::RawFeed) -> std::ops::Range<usize> {
    feed.name_span()
}

pub(super) fn absolute_url(
    s: &Spanned<String>,
    loc: &Locator,
    what: &str,
) -> Result<Url, ConfigError> {
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

pub(super) fn check_input(
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

/// `[store]`: a SQLite `path` (the default `byline.db`) or a PostgreSQL `url`.
pub(super) fn check_store(
    raw: super::raw::RawStore,
    dir: &Path,
    loc: &Locator,
) -> Result<StoreConfig, ConfigError> {
    let lease = match raw.lease_secs {
        None => 30,
        Some(n) if LEASE_SECS.contains(n.get_ref()) => *n.get_ref(),
        Some(n) => {
            return Err(loc.error(
                n.span(),
                format!(
                    "store.lease_secs: expected seconds from {} to {}, got {}",
                    LEASE_SECS.start(),
                    LEASE_SECS.end(),
                    n.get_ref()
                ),
            ));
        }
    };
    let location = match (raw.url, raw.path) {
        (Some(url), Some(_)) => {
            return Err(loc.error(
                url.span(),
                "store: give `path` (a SQLite file) or `url` (PostgreSQL), not both",
            ));
        }
        (Some(url), None) => match StoreLocation::parse(url.get_ref()) {
            l @ StoreLocation::Postgres(_) => l,
            StoreLocation::Sqlite(_) => {
                return Err(loc.error(
                    url.span(),
                    format!(
                        "store.url: expected a postgres:// url, got {:?} (a SQLite file is `path`)",
                        url.get_ref()
                    ),
                ));
            }
        },
        (None, path) => {
            let path = std::path::PathBuf::from(path.unwrap_or_else(|| "byline.db".to_owned()));
            StoreLocation::Sqlite(if path.is_absolute() {
                path
            } else {
                dir.join(path)
            })
        }
    };
    Ok(StoreConfig {
        location,
        lease: std::time::Duration::from_secs(u64::from(lease)),
    })
}
