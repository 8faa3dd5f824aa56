//! Fetching: the bytes behind an input, from a local file or over http(s).
//!
//! A *fetch* knows nothing of what the bytes mean. It keeps the network polite
//! and bounded: timeouts on connect and on the whole request, a redirect limit,
//! a cap on the body size, compressed transfer and a descriptive User-Agent.

use std::path::Path;
use std::time::Duration;

use url::Url;

use crate::config::Location;

/// Limits and identity for every fetch.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    pub connect_timeout: Duration,
    pub timeout: Duration,
    pub max_body_bytes: usize,
    pub max_redirects: usize,
    pub user_agent: String,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            max_body_bytes: 10 * 1024 * 1024,
            max_redirects: 5,
            user_agent: format!(
                "byline/{} (feed generator; +https://github.com/byline-feeds/byline)",
                env!("CARGO_PKG_VERSION")
            ),
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
    #[error("{place}: body is larger than the limit of {limit} bytes")]
    TooLarge { place: String, limit: usize },
}

/// Fetches inputs; holds one HTTP client so connections are reused.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    options: FetchOptions,
}

impl Fetcher {
    pub fn new(options: FetchOptions) -> Result<Self, FetchError> {
        let client = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .timeout(options.timeout)
            .redirect(reqwest::redirect::Policy::limited(options.max_redirects))
            .user_agent(options.user_agent.clone())
            .build()
            .map_err(|e| FetchError::Http {
                url: "(client)".into(),
                message: e.to_string(),
            })?;
        Ok(Fetcher { client, options })
    }

    /// The bytes at `location`.
    pub async fn fetch(&self, location: &Location) -> Result<Fetched, FetchError> {
        match location {
            Location::File(path) => self.fetch_file(path).await,
            Location::Http(url) => self.fetch_http(url).await,
        }
    }

    async fn fetch_file(&self, path: &Path) -> Result<Fetched, FetchError> {
        let place = path.display().to_string();
        let meta = tokio::fs::metadata(path)
            .await
            .map_err(|source| FetchError::File {
                path: place.clone(),
                source,
            })?;
        if meta.len() > self.options.max_body_bytes as u64 {
            return Err(FetchError::TooLarge {
                place,
                limit: self.options.max_body_bytes,
            });
        }
        let bytes = tokio::fs::read(path)
            .await
            .map_err(|source| FetchError::File {
                path: place.clone(),
                source,
            })?;
        Ok(Fetched {
            bytes,
            content_type: None,
            final_url: None,
        })
    }

    async fn fetch_http(&self, url: &Url) -> Result<Fetched, FetchError> {
        let err = |message: String| FetchError::Http {
            url: url.to_string(),
            message,
        };
        let mut response = self
            .client
            .get(url.clone())
            .send()
            .await
            .map_err(|e| err(describe(&e)))?;
        let status = response.status();
        if !status.is_success() {
            return Err(err(format!("HTTP {status}")));
        }
        let limit = self.options.max_body_bytes;
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(FetchError::TooLarge {
                place: url.to_string(),
                limit,
            });
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let final_url = Some(response.url().clone());
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
        Ok(Fetched {
            bytes,
            content_type,
            final_url,
        })
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
