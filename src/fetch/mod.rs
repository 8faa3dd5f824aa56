//! Fetching: the bytes behind an input, from a local file or over http(s).
//!
//! A *fetch* knows nothing of what the bytes mean. It keeps the network polite
//! and bounded: timeouts on connect and on the whole request, a redirect limit,
//! a cap on the body size, compressed transfer, a descriptive User-Agent, at
//! most a few requests to one host at a time, and patience with a server that
//! is busy (429 and 5xx are retried after its `Retry-After`, or after an
//! exponential backoff with jitter, within a bounded number of attempts and a
//! bounded total time). A fetch can be *conditional*: given the validators of
//! the last response (ETag, Last-Modified) it may end in "not modified", which
//! costs no body and no parse. Local files answer the same way, with their
//! size and modification time as validators.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use url::Url;

use crate::config::Location;

mod hosts;
pub mod policy;

pub use hosts::SharedSlots;
pub use policy::UrlPolicy;

/// Limits and identity for every fetch.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    pub connect_timeout: Duration,
    /// The whole request: connect, headers and body. Bounds a slow drip.
    pub timeout: Duration,
    pub max_body_bytes: usize,
    pub max_redirects: usize,
    pub user_agent: String,
    /// Requests in flight to one host (host and port) at once.
    pub per_host: usize,
    /// Attempts per fetch, the first included, for 429 and 5xx answers.
    pub max_attempts: u32,
    /// The first backoff; each further one doubles, with jitter.
    pub backoff: Duration,
    /// The most time a fetch may spend waiting between attempts in total; a
    /// `Retry-After` beyond it ends the fetch at once with its error.
    pub retry_budget: Duration,
    /// Where fetches may go (see [`policy`]); open unless set.
    pub policy: UrlPolicy,
}

impl FetchOptions {
    /// byline's own User-Agent: name, version and where to read about it.
    pub fn default_user_agent() -> String {
        format!(
            "byline/{} (feed generator; +https://github.com/byline-feeds/byline)",
            env!("CARGO_PKG_VERSION")
        )
    }
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            max_body_bytes: 10 * 1024 * 1024,
            max_redirects: 5,
            user_agent: FetchOptions::default_user_agent(),
            per_host: 2,
            max_attempts: 3,
            backoff: Duration::from_secs(1),
            retry_budget: Duration::from_secs(60),
            policy: UrlPolicy::default(),
        }
    }
}

/// What a fetch returned.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub bytes: Vec<u8>,
    pub content_type: Option<String>,
    /// The url after redirects, for http inputs.
    pub final_url: Option<Url>,
    /// Validators to send next time (for a file: derived from size and mtime).
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// The response headers that tell a page from a wall in front of it
    /// ([`KEPT_HEADERS`]), lower-case names, in the order received.
    pub headers: Vec<(String, String)>,
}

/// Headers kept with a response: what a CDN or bot guard says about it, and
/// what a recording of the read needs. Generic names only, no site's own.
pub const KEPT_HEADERS: &[&str] = &[
    "content-type",
    "cf-mitigated",
    "server",
    "x-datadome",
    "x-amzn-waf-action",
    "x-sucuri-id",
    "location",
    "refresh",
];

/// How much of an error response's body is kept to tell what it is.
const ERROR_BODY_BYTES: usize = 32 * 1024;

/// What came with a response that was not a success: enough to tell a bot
/// wall (a challenge page with 403 or 503) from a plain error.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorPage {
    pub headers: Vec<(String, String)>,
    /// The first [`ERROR_BODY_BYTES`] of the body.
    pub body: Vec<u8>,
}

fn kept_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    KEPT_HEADERS
        .iter()
        .filter_map(|name| {
            let value = headers.get(*name)?.to_str().ok()?;
            Some(((*name).to_owned(), value.to_owned()))
        })
        .collect()
}

/// The head of an error response's body, bounded; a body that cannot be
/// read is just empty (the status is the error).
async fn error_page(mut response: reqwest::Response) -> Box<ErrorPage> {
    let headers = kept_headers(response.headers());
    let mut body = Vec::new();
    while body.len() < ERROR_BODY_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = ERROR_BODY_BYTES - body.len();
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            _ => break,
        }
    }
    Box::new(ErrorPage { headers, body })
}

/// The validators of an earlier response, for a conditional fetch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

impl Validators {
    fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}

/// How a conditional fetch ended.
#[derive(Debug, Clone)]
// Lives for one page on the way to the adapter: boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
pub enum Conditional {
    /// New bytes.
    Modified(Fetched),
    /// Unchanged since the validators given: no body was transferred.
    NotModified,
}

/// Why a fetch failed, naming what was fetched.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{path}: cannot read: {source}")]
    File {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{url}: {message}")]
    Http { url: String, message: String },
    #[error("{url}: HTTP {status}{}", retry_note(*.attempts, *.retry_after))]
    Status {
        url: String,
        status: u16,
        attempts: u32,
        /// What the server's last `Retry-After` asked for, if anything.
        retry_after: Option<Duration>,
        /// Headers and the head of the body of the last response.
        page: Box<ErrorPage>,
    },
    #[error("{place}: body is larger than the limit of {limit} bytes")]
    TooLarge { place: String, limit: usize },
}

fn retry_note(attempts: u32, retry_after: Option<Duration>) -> String {
    let mut note = String::new();
    if attempts > 1 {
        note.push_str(&format!(" after {attempts} attempts"));
    }
    if let Some(wait) = retry_after {
        note.push_str(&format!(
            " (Retry-After {}s; not retried within the retry budget)",
            wait.as_secs()
        ));
    }
    note
}

/// Fetches inputs; holds one HTTP client so connections are reused, and the
/// per-host limits. Clones share both.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    options: FetchOptions,
    hosts: hosts::Hosts,
}

impl Fetcher {
    pub fn new(options: FetchOptions) -> Result<Self, FetchError> {
        // Every hop of a redirect is judged by the url policy too.
        let (policy, max) = (options.policy.clone(), options.max_redirects);
        let redirects = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > max {
                return attempt.error(format!("more than {max} redirects"));
            }
            match policy.refuses(attempt.url()) {
                Some(why) => attempt.error(why),
                None => attempt.follow(),
            }
        });
        let mut builder = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .timeout(options.timeout)
            .redirect(redirects)
            .user_agent(options.user_agent.clone());
        if let Some(resolver) = options.policy.resolver() {
            // Proxies would resolve names for us, past the policy.
            builder = builder.dns_resolver(resolver).no_proxy();
        }
        let client = builder.build().map_err(|e| FetchError::Http {
            url: "(client)".into(),
            message: e.to_string(),
        })?;
        Ok(Fetcher {
            client,
            options,
            hosts: hosts::Hosts::default(),
        })
    }

    /// This fetcher with its per-host limit held across every process
    /// `shared` speaks for.
    pub fn with_shared_slots(mut self, shared: Arc<dyn SharedSlots>) -> Self {
        self.hosts.with_shared(shared);
        self
    }

    pub fn options(&self) -> &FetchOptions {
        &self.options
    }

    /// The bytes at `location`.
    pub async fn fetch(&self, location: &Location) -> Result<Fetched, FetchError> {
        match self.fetch_if(location, &Validators::default()).await? {
            Conditional::Modified(f) => Ok(f),
            // Without validators nothing can be "not modified"; a server that
            // says so anyway gave no body.
            Conditional::NotModified => Err(FetchError::Http {
                url: display(location),
                message: "HTTP 304 Not Modified to an unconditional request".to_owned(),
            }),
        }
    }

    /// The bytes at `location`, unless they are unchanged since `validators`.
    pub async fn fetch_if(
        &self,
        location: &Location,
        validators: &Validators,
    ) -> Result<Conditional, FetchError> {
        match location {
            Location::File(path) => self.fetch_file(path, validators).await,
            Location::Http(url) => self.fetch_http(url, validators).await,
        }
    }

    /// `POST` `body` as JSON to `url` (an alarm webhook), under the same
    /// policy, timeouts and redirect rules as every fetch; one attempt.
    pub async fn post_json(&self, url: &Url, body: &serde_json::Value) -> Result<(), FetchError> {
        if let Some(why) = self.options.policy.refuses(url) {
            return Err(FetchError::Http {
                url: url.to_string(),
                message: why,
            });
        }
        let response = self
            .client
            .post(url.clone())
            .header(header::CONTENT_TYPE, "application/json")
            .body(serde_json::to_vec(body).unwrap_or_default())
            .send()
            .await
            .map_err(|e| FetchError::Http {
                url: url.to_string(),
                message: describe(&e),
            })?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        Err(FetchError::Status {
            url: url.to_string(),
            status: status.as_u16(),
            attempts: 1,
            retry_after: None,
            page: error_page(response).await,
        })
    }

    async fn fetch_file(
        &self,
        path: &Path,
        validators: &Validators,
    ) -> Result<Conditional, FetchError> {
        let place = path.display().to_string();
        let io = |source| FetchError::File {
            path: place.clone(),
            source,
        };
        let meta = tokio::fs::metadata(path).await.map_err(io)?;
        let (etag, last_modified) = file_validators(&meta);
        if !validators.is_empty()
            && validators.etag == etag
            && validators.last_modified == last_modified
        {
            return Ok(Conditional::NotModified);
        }
        if meta.len() > self.options.max_body_bytes as u64 {
            return Err(FetchError::TooLarge {
                place,
                limit: self.options.max_body_bytes,
            });
        }
        let bytes = tokio::fs::read(path).await.map_err(io)?;
        Ok(Conditional::Modified(Fetched {
            bytes,
            content_type: None,
            final_url: None,
            etag,
            last_modified,
            headers: Vec::new(),
        }))
    }

    async fn fetch_http(
        &self,
        url: &Url,
        validators: &Validators,
    ) -> Result<Conditional, FetchError> {
        if let Some(why) = self.options.policy.refuses(url) {
            return Err(FetchError::Http {
                url: url.to_string(),
                message: why,
            });
        }
        let started = Instant::now();
        let mut waited = Duration::ZERO;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (status, retry_after, page) = match self.attempt(url, validators).await? {
                Attempt::Done(result) => return Ok(result),
                Attempt::Busy {
                    status,
                    retry_after,
                    page,
                } => (status, retry_after, page),
            };
            let give_up = |retry_after| FetchError::Status {
                url: url.to_string(),
                status,
                attempts: attempt,
                retry_after,
                page: page.clone(),
            };
            if attempt >= self.options.max_attempts {
                return Err(give_up(None));
            }
            let wait = match retry_after {
                Some(w) => w,
                None => backoff(self.options.backoff, attempt),
            };
            if waited + wait > self.options.retry_budget {
                return Err(give_up(retry_after));
            }
            tracing::debug!(url = %crate::urls::redact(url.as_str()), status, attempt, wait_ms = wait.as_millis() as u64, "server busy; retrying");
            tokio::time::sleep(wait).await;
            waited += wait;
            // Keep the whole fetch bounded even if the server is slow to answer.
            if started.elapsed() > self.options.timeout + self.options.retry_budget {
                return Err(give_up(None));
            }
        }
    }

    /// One request, holding a slot of the host's limit until its body is read.
    async fn attempt(&self, url: &Url, validators: &Validators) -> Result<Attempt, FetchError> {
        let err = |message: String| FetchError::Http {
            url: url.to_string(),
            message,
        };
        let _slot = self
            .hosts
            .take(url, self.options.per_host)
            .await
            .ok_or_else(|| err("host limit closed".to_owned()))?;
        let mut request = self.client.get(url.clone());
        if let Some(etag) = &validators.etag {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        if let Some(lm) = &validators.last_modified {
            request = request.header(header::IF_MODIFIED_SINCE, lm);
        }
        let mut response = request.send().await.map_err(|e| err(describe(&e)))?;
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED && !validators.is_empty() {
            return Ok(Attempt::Done(Conditional::NotModified));
        }
        if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            let retry_after = retry_after(response.headers(), SystemTime::now());
            return Ok(Attempt::Busy {
                status: status.as_u16(),
                retry_after,
                page: error_page(response).await,
            });
        }
        if !status.is_success() {
            return Err(FetchError::Status {
                url: url.to_string(),
                status: status.as_u16(),
                attempts: 1,
                retry_after: None,
                page: error_page(response).await,
            });
        }
        let limit = self.options.max_body_bytes;
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(FetchError::TooLarge {
                place: url.to_string(),
                limit,
            });
        }
        let text_header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let content_type = text_header(header::CONTENT_TYPE);
        let etag = text_header(header::ETAG);
        let last_modified = text_header(header::LAST_MODIFIED);
        let final_url = Some(response.url().clone());
        let headers = kept_headers(response.headers());
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| err(describe(&e)))? {
            if bytes.len() + chunk.len() > limit {
                return Err(FetchError::TooLarge {
                    place: url.to_string(),
                    limit,
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Attempt::Done(Conditional::Modified(Fetched {
            bytes,
            content_type,
            final_url,
            etag,
            last_modified,
            headers,
        })))
    }
}

enum Attempt {
    Done(Conditional),
    /// 429 or 5xx: worth another try later.
    Busy {
        status: u16,
        retry_after: Option<Duration>,
        page: Box<ErrorPage>,
    },
}

/// The wait before attempt `attempt + 1`: `base * 2^(attempt-1)`, scaled by a
/// random factor in [0.5, 1) so many clients do not come back in step.
fn backoff(base: Duration, attempt: u32) -> Duration {
    let full = base.saturating_mul(1 << attempt.saturating_sub(1).min(16));
    full.mul_f64(0.5 + fastrand::f64() / 2.0)
}

/// `Retry-After` as seconds or as an HTTP date (relative to `now`).
fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A file's validators: an ETag from size and modification time to the
/// nanosecond (a rewrite within one second still changes it), and the
/// modification time as an HTTP date.
fn file_validators(meta: &std::fs::Metadata) -> (Option<String>, Option<String>) {
    let Ok(modified) = meta.modified() else {
        return (None, None);
    };
    let nanos = modified
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    (
        Some(format!("\"{:x}-{nanos:x}\"", meta.len())),
        Some(httpdate::fmt_http_date(modified)),
    )
}

fn display(location: &Location) -> String {
    match location {
        Location::File(p) => p.display().to_string(),
        Location::Http(u) => u.to_string(),
    }
}

/// reqwest's Display hides the cause ("error sending request"); say what happened.
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_redirect() {
        "too many redirects".to_owned()
    } else if e.is_connect() {
        format!("cannot connect: {}", root_cause(e))
    } else {
        root_cause(e)
    }
}

fn root_cause(e: &dyn std::error::Error) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_or_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h, now), None);
        h.insert(header::RETRY_AFTER, "120".parse().unwrap());
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(120)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        h.insert(header::RETRY_AFTER, later.parse().unwrap());
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(30)));
        h.insert(header::RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&h, now), None);
    }

    #[test]
    fn backoff_doubles_with_jitter() {
        let base = Duration::from_millis(100);
        for attempt in 1..=4 {
            let full = base * (1 << (attempt - 1));
            let wait = backoff(base, attempt);
            assert!(wait >= full / 2 && wait < full, "{attempt}: {wait:?}");
        }
        // Far attempts saturate instead of overflowing.
        assert!(backoff(base, 200) > Duration::ZERO);
    }
}
