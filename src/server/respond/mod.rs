//! Responding: one request in, one response out, synchronously. A
//! *response* here is either a cached [`Entry`] in the coding the client
//! accepts, a `304 Not Modified` when the client's copy is current, or a short
//! plain-text explanation (404 with what exists, 405, 400, 413, 414).

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use bytes::Bytes;
use chrono::{DateTime, Utc};

use asked::Asked;
use http_body_util::Full;
use hyper::body::Body as _;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde::Serialize;
use tracing::info;
use url::Url;

use crate::render::Site;
use crate::views::ViewKey;

use super::cache::Entry;
use super::metrics::RouteClass;
use super::published::{Missing, Narrowing, Published, Settings, Snapshot};
use super::routes::{self, DocRef, Route, ViewRef};
use super::status::SourceStatus;

pub(crate) type Body = Full<Bytes>;

/// Longest request target (path and query) accepted; feed urls are short.
const MAX_URI: usize = 2048;
/// How many names a 404 page lists before "and N more".
const MAX_HINTS: usize = 40;

const TEXT: &str = "text/plain; charset=utf-8";
const NO_STORE: &str = "no-store";
const VARY: &str = "Accept-Encoding";
/// Pages rendered for a trusted proxy's origin differ by these headers.
const VARY_FORWARDED: &str =
    "Accept-Encoding, X-Forwarded-Proto, X-Forwarded-Host, X-Forwarded-Prefix";

/// Answer `req` from `peer`, then count it and write the access log line.
pub(crate) fn handle<B: hyper::body::Body>(
    published: &Published,
    peer: SocketAddr,
    req: Request<B>,
) -> Response<Body> {
    let started = Instant::now();
    let snap = published.snapshot();
    let (class, response) = respond(published, &snap, peer, &req);
    let took = started.elapsed();
    let status = response.status().as_u16();
    let bytes = if req.method() == Method::HEAD {
        0
    } else {
        usize::try_from(response.body().size_hint().exact().unwrap_or(0)).unwrap_or(0)
    };
    published.metrics.record(class, status, bytes, took);
    if tracing::enabled!(target: "byline::access", tracing::Level::INFO) {
        let client = client_addr(&snap.settings, peer, req.headers());
        info!(
            target: "byline::access",
            %client,
            method = %req.method(),
            path = %req.uri(),
            status,
            bytes,
            micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
            "request"
        );
    }
    response
}

fn respond<B: hyper::body::Body>(
    published: &Published,
    snap: &Snapshot,
    peer: SocketAddr,
    req: &Request<B>,
) -> (RouteClass, Response<Body>) {
    let method = req.method();
    if method != Method::GET && method != Method::HEAD {
        let mut r = text(
            StatusCode::METHOD_NOT_ALLOWED,
            format!(
                "byline: method {method} is not allowed here; feeds are read with GET or HEAD.\n"
            ),
        );
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return (RouteClass::Other, r);
    }
    // RFC 9112 section 3.2: an HTTP/1.1 request without a Host header, or
    // with more than one, is answered 400.
    let asked = Asked::read(req.headers());
    let hosts = asked.hosts;
    if req.version() == hyper::Version::HTTP_11 && hosts != 1 {
        let why = if hosts == 0 {
            "no Host header"
        } else {
            "more than one Host header"
        };
        return (
            RouteClass::Other,
            text(
                StatusCode::BAD_REQUEST,
                format!("byline: the request has {why}; HTTP/1.1 needs exactly one.\n"),
            ),
        );
    }
    if !req.body().is_end_stream() {
        return (
            RouteClass::Other,
            text(
                StatusCode::PAYLOAD_TOO_LARGE,
                "byline: a GET or HEAD request carries no body.\n".into(),
            ),
        );
    }
    let uri = req.uri();
    if uri.path().len() + uri.query().map_or(0, str::len) > MAX_URI {
        return (
            RouteClass::Other,
            text(
                StatusCode::URI_TOO_LONG,
                format!("byline: request target longer than {MAX_URI} bytes.\n"),
            ),
        );
    }
    let settings = &snap.settings;
    let route = routes::route(uri.path(), settings.site.base_url.path());
    // The status feed tells what /healthz tells: for the same clients.
    if matches!(route, Route::Health | Route::Metrics | Route::Status(_))
        && !settings.config.server.public_status
        && !operator(settings, peer.ip(), req.headers())
    {
        return (
            RouteClass::Other,
            text(
                StatusCode::FORBIDDEN,
                format!(
                    "byline: {} answers only loopback and [server] trusted_proxies; set [server] public_status = true to open it.\n",
                    uri.path()
                ),
            ),
        );
    }
    match route {
        Route::Doc { path, doc } => document(snap, peer, req, &asked, &path, doc),
        Route::Health => (
            RouteClass::Health,
            health(
                snap,
                published.store_problem().as_deref(),
                published.is_starting(),
            ),
        ),
        Route::Metrics => {
            let mut r = Response::new(Full::new(Bytes::from(
                published.metrics.render(&snap.gauges()),
            )));
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static(NO_STORE));
            (RouteClass::Metrics, r)
        }
        Route::Status(format) => {
            let body = crate::render::status::render(
                format,
                &published.alarm_events(),
                &settings.site,
                // As `byline build` dates it: the newest story, else now.
                snap.edition.as_of.map_or(snap.published_at, |t| t.to_utc()),
            );
            let mut r = Response::new(Full::new(Bytes::from(body)));
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(format.content_type()),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static(NO_STORE));
            (RouteClass::Other, r)
        }
        Route::ToBase => {
            let mut r = text(
                StatusCode::MOVED_PERMANENTLY,
                format!("byline: the index is at {}\n", settings.site.base_url),
            );
            if let Ok(v) = HeaderValue::from_str(settings.site.base_url.as_str()) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            (RouteClass::Index, r)
        }
        Route::NotFound { section } => (
            RouteClass::Other,
            not_found(snap, uri.path(), section, None),
        ),
    }
}

fn class_of(doc: DocRef) -> RouteClass {
    match doc {
        DocRef::Index => RouteClass::Index,
        DocRef::Opml => RouteClass::Opml,
        DocRef::Feed(v, _) | DocRef::Page(v) => match v {
            ViewRef::All => RouteClass::Feed,
            ViewRef::Author(_) => RouteClass::Author,
            ViewRef::Tag(_) => RouteClass::Tag,
            ViewRef::Source(_) => RouteClass::Source,
            ViewRef::Custom(_) => RouteClass::Custom,
        },
    }
}

fn document<B>(
    snap: &Snapshot,
    peer: SocketAddr,
    req: &Request<B>,
    asked: &Asked,
    path: &str,
    doc: DocRef,
) -> (RouteClass, Response<Body>) {
    let settings = &snap.settings;
    let class = class_of(doc);
    let narrowing = match doc {
        DocRef::Index | DocRef::Opml => Narrowing::default(),
        DocRef::Feed(..) | DocRef::Page(_) => {
            match Narrowing::parse(req.uri().query(), settings.config.server.max_items) {
                Ok(n) => n,
                Err(message) => {
                    return (
                        class,
                        text(StatusCode::BAD_REQUEST, format!("byline: {message}\n")),
                    );
                }
            }
        }
    };
    let html = matches!(doc, DocRef::Index | DocRef::Page(_));
    let origin = if html {
        forwarded_site(settings, peer.ip(), req.headers())
    } else {
        None
    };
    // A cache miss renders at most `max_items` stories and compresses them
    // fast or once: bounded work, done here. (Moving it off the worker with
    // block_in_place let every concurrent miss start a thread with its own
    // allocator arena: 486 MiB resident under wrk instead of 117.)
    let found = snap.document(path, doc, &narrowing, origin.as_ref());
    match found {
        Ok(entry) => {
            let vary = if html && !settings.config.server.trusted_proxies.is_empty() {
                VARY_FORWARDED
            } else {
                VARY
            };
            (class, send(settings, asked, &entry, vary))
        }
        Err(missing) => (
            class,
            not_found(snap, req.uri().path(), None, Some(missing)),
        ),
    }
}

/// The entry in the best coding the client accepts, or 304 when its copy is current.
fn send(settings: &Settings, asked: &Asked, entry: &Entry, vary: &'static str) -> Response<Body> {
    let wanted = asked.coding(entry);
    if asked.not_modified(entry) {
        let mut r = Response::new(Full::new(Bytes::new()));
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        *r.headers_mut() = entry.not_modified_head(wanted, &settings.cache_control, vary);
        return r;
    }
    let (_, body, _) = entry.representation(wanted);
    let mut r = Response::new(Full::new(body.clone()));
    *r.headers_mut() = entry.head(wanted, &settings.cache_control, vary);
    r
}

fn text(status: StatusCode, body: String) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(TEXT));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(NO_STORE));
    r
}

/// A 404 that says what exists instead and where the index is.
fn not_found(
    snap: &Snapshot,
    path: &str,
    section: Option<&str>,
    missing: Option<Missing>,
) -> Response<Body> {
    let (what, key) = match &missing {
        Some(Missing::View(k)) => ("", Some(k)),
        Some(Missing::Narrowing(k)) => ("?", Some(k)),
        None => ("", None),
    };
    let (kind, slug) = match key {
        Some(ViewKey::Author(s)) => ("author", s.as_str()),
        Some(ViewKey::Tag(s)) => ("tag", s.as_str()),
        Some(ViewKey::Source(s)) => ("source", s.as_str()),
        Some(ViewKey::Custom(s)) => ("feed", s.as_str()),
        _ => match section {
            Some("authors") => ("author", ""),
            Some("tags") => ("tag", ""),
            Some("sources") => ("source", ""),
            Some("feeds") => ("feed", ""),
            _ => ("", ""),
        },
    };
    let mut body = if kind.is_empty() {
        format!(
            "byline: nothing at {path}.\n\nFeeds are feed.atom, feed.rss, feed.json, \
             authors/{{slug}}, tags/{{slug}}, sources/{{name}} and feeds/{{name}} (add .atom, \
             .rss or .json for a feed), authors.opml for every author feed.\n"
        )
    } else if slug.is_empty() {
        format!("byline: nothing at {path}: no such {kind} file.\n")
    } else if what == "?" {
        format!("byline: the {kind} {slug:?} named in the query does not exist here.\n")
    } else {
        format!("byline: no {kind} {slug:?} here.\n")
    };
    if !kind.is_empty() {
        let names: Vec<String> = snap
            .views_of(|k| match kind {
                "author" => matches!(k, ViewKey::Author(_)),
                "tag" => matches!(k, ViewKey::Tag(_)),
                "source" => matches!(k, ViewKey::Source(_)),
                _ => matches!(k, ViewKey::Custom(_)),
            })
            .map(|v| match &v.key {
                ViewKey::Author(s) | ViewKey::Tag(s) | ViewKey::Source(s) | ViewKey::Custom(s) => {
                    s.clone()
                }
                ViewKey::All => String::new(),
            })
            .collect();
        if names.is_empty() {
            body.push_str(&format!("\nThere are no {kind}s yet.\n"));
        } else {
            let shown: Vec<&str> = names.iter().take(MAX_HINTS).map(String::as_str).collect();
            body.push_str(&format!("\n{kind}s here: {}", shown.join(", ")));
            if names.len() > shown.len() {
                body.push_str(&format!(" … and {} more", names.len() - shown.len()));
            }
            body.push('\n');
        }
    }
    body.push_str(&format!(
        "\nEvery feed is listed on the index: {}\n",
        snap.settings.site.base_url
    ));
    text(StatusCode::NOT_FOUND, body)
}

#[derive(Serialize)]
struct Health<'a> {
    /// `starting` (the first refresh runs; the store's stories are served),
    /// `ok`, `degraded` (some source failed or drifted) or `failing` (every
    /// source failed, or the store cannot be read).
    status: &'a str,
    /// Why the store cannot be trusted (damaged, unreadable), if so.
    store: Option<&'a str>,
    items: usize,
    published_at: DateTime<Utc>,
    sources: &'a [SourceStatus],
}

/// `/healthz`: per-source state as JSON; 503 when every source failed or
/// the store is damaged.
fn health(snap: &Snapshot, store: Option<&str>, starting: bool) -> Response<Body> {
    let unwell = snap.sources.iter().filter(|s| !s.healthy()).count();
    // Drift alone (degraded) still serves: only failing sources can fail the whole.
    let failing = snap.sources.iter().filter(|s| s.state == "failing").count();
    let status = if store.is_some() {
        "failing"
    } else if starting {
        // Serving what the store holds while the first refresh runs.
        "starting"
    } else if unwell == 0 {
        "ok"
    } else if failing == snap.sources.len() {
        "failing"
    } else {
        "degraded"
    };
    let report = Health {
        status,
        store,
        items: snap.edition.stories.len(),
        published_at: snap.published_at,
        sources: &snap.sources,
    };
    let body = serde_json::to_vec_pretty(&report).unwrap_or_default();
    let mut r = Response::new(Full::new(Bytes::from(body)));
    // Starting with nothing to serve yet is not ready either.
    if status == "failing" || (status == "starting" && snap.edition.stories.is_empty()) {
        *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    }
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(NO_STORE));
    r
}

fn trusted(settings: &Settings, peer: IpAddr) -> bool {
    settings
        .config
        .server
        .trusted_proxies
        .iter()
        .any(|r| r.contains(peer))
}

/// May this request see the server's own state? Its peer must be loopback
/// or a trusted proxy, and so must the client a proxy forwards it for.
fn operator(settings: &Settings, peer: IpAddr, headers: &HeaderMap) -> bool {
    let near = |ip: IpAddr| ip.to_canonical().is_loopback() || trusted(settings, ip.to_canonical());
    if !near(peer) {
        return false;
    }
    let mut forwarded = headers
        .get_all(HeaderName::from_static("x-forwarded-for"))
        .iter()
        .flat_map(|v| v.to_str().unwrap_or("invalid").split(','))
        .map(str::trim)
        .peekable();
    if forwarded.peek().is_none() {
        return true;
    }
    // Every hop a proxy recorded must be one of ours: a forged or unreadable
    // entry closes the door rather than opening it.
    forwarded.all(|hop| hop.parse::<IpAddr>().is_ok_and(near))
}

fn first_value<'h>(headers: &'h HeaderMap, name: &'static str) -> Option<&'h str> {
    let v = headers.get(HeaderName::from_static(name))?.to_str().ok()?;
    let first = v.split(',').next()?.trim();
    (!first.is_empty()).then_some(first)
}

/// The client for the access log: the peer, or for a trusted proxy the
/// address it saw (the last `X-Forwarded-For` entry).
fn client_addr(settings: &Settings, peer: SocketAddr, headers: &HeaderMap) -> String {
    let forwarded = headers
        .get(HeaderName::from_static("x-forwarded-for"))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .map(str::trim)
        .filter(|v| v.parse::<IpAddr>().is_ok());
    match forwarded {
        Some(v) if trusted(settings, peer.ip()) => v.to_owned(),
        _ => peer.ip().to_string(),
    }
}

/// The public url a trusted proxy says it serves us at, when it differs from
/// `base_url`: HTML pages (never feeds, whose self links must stay stable)
/// then link to that origin.
fn forwarded_site(settings: &Settings, peer: IpAddr, headers: &HeaderMap) -> Option<Site> {
    if !trusted(settings, peer) {
        return None;
    }
    let proto = first_value(headers, "x-forwarded-proto")
        .filter(|p| p.eq_ignore_ascii_case("http") || p.eq_ignore_ascii_case("https"));
    let host = first_value(headers, "x-forwarded-host").filter(|h| {
        h.len() <= 255
            && h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
    });
    let prefix = first_value(headers, "x-forwarded-prefix").filter(|p| {
        p.len() <= 200
            && p.starts_with('/')
            && !p.contains("..")
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~/".contains(&b))
    });
    if proto.is_none() && host.is_none() && prefix.is_none() {
        return None;
    }
    let base = &settings.site.base_url;
    let scheme = proto.map_or_else(|| base.scheme().to_owned(), str::to_ascii_lowercase);
    let host = match host {
        Some(h) => h.to_owned(),
        None => match (base.host_str(), base.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            _ => return None,
        },
    };
    let path = match prefix {
        Some(p) => format!("{}/", p.trim_end_matches('/')),
        None => base.path().to_owned(),
    };
    let url = Url::parse(&format!("{scheme}://{host}{path}")).ok()?;
    (url != *base).then(|| Site {
        base_url: url,
        title: settings.site.title.clone(),
    })
}

mod asked;
#[cfg(test)]
mod tests;
