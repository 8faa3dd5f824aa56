//! The *guard*: fetching a url a user typed without letting it reach what the
//! machine can reach. Only http(s); bounded in time, size and redirects; and
//! every address a host resolves to (checked in the resolver, so the checked
//! addresses are the ones connected to) and every IP literal, on the first
//! request and on each redirect, must be public: loopback, private,
//! link-local, carrier-grade NAT, cloud metadata and other special ranges
//! are refused, naming the address and the range, unless `allow` lists them.
//! Proxies from the environment are not used: they would resolve for us.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use url::Url;

use crate::config::IpRange;
use crate::fetch::policy::{Refusal, Refuse, Resolver, special_range};

pub use crate::fetch::policy::Lookup;

/// Limits of a guarded fetch.
#[derive(Clone)]
pub struct GuardOptions {
    /// Ranges that may be reached although they are not public.
    pub allow: Vec<IpRange>,
    pub timeout: Duration,
    pub max_bytes: usize,
    pub max_redirects: usize,
    pub user_agent: String,
    /// Resolve names with this instead of the system resolver.
    pub lookup: Option<Lookup>,
}

impl Default for GuardOptions {
    fn default() -> Self {
        GuardOptions {
            allow: Vec::new(),
            timeout: Duration::from_secs(20),
            max_bytes: 8 * 1024 * 1024,
            max_redirects: 5,
            user_agent: crate::fetch::FetchOptions::default_user_agent(),
            lookup: None,
        }
    }
}

/// Why a guarded fetch did not return a page.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum GuardError {
    #[error("{url}: refused: only http and https urls are fetched")]
    Scheme { url: String },
    #[error("{url}: refused: {}", refusal(host, addr, range))]
    Refused {
        url: String,
        host: String,
        addr: IpAddr,
        range: &'static str,
    },
    #[error("{url}: cannot resolve {host}: {message}")]
    Resolve {
        url: String,
        host: String,
        message: String,
    },
    #[error("{url}: {message}")]
    Http { url: String, message: String },
    #[error("{url}: HTTP status {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: the body is larger than {max} bytes")]
    TooLarge { url: String, max: usize },
    #[error("{url}: more than {max} redirects")]
    Redirects { url: String, max: usize },
}

fn refusal(host: &str, addr: &IpAddr, range: &str) -> String {
    let what = if *host == addr.to_string() {
        format!("{addr} is")
    } else {
        format!("{host} resolves to {addr},")
    };
    format!("{what} a {range} address (allow it with --allow {addr} if you mean it)")
}

/// What a guarded fetch returned.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The url after redirects.
    pub url: Url,
    pub bytes: Vec<u8>,
    pub content_type: Option<String>,
}

fn check(allow: &[IpRange], addr: IpAddr) -> Option<&'static str> {
    special_range(addr).filter(|_| !allow.iter().any(|r| r.contains(addr.to_canonical())))
}

/// A client that fetches user-given urls within the limits.
pub struct Guard {
    client: reqwest::Client,
    options: GuardOptions,
}

impl Guard {
    pub fn new(options: GuardOptions) -> Result<Guard, GuardError> {
        let allow = options.allow.clone();
        let refuse: Refuse = Arc::new(move |_: &str, addr: IpAddr| check(&allow, addr));
        let resolver = Resolver::new(refuse, "not allowed", options.lookup.clone());
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(options.timeout)
            .connect_timeout(options.timeout)
            .user_agent(options.user_agent.clone())
            .dns_resolver(Arc::new(resolver))
            .build()
            .map_err(|e| GuardError::Http {
                url: String::new(),
                message: format!("cannot build the HTTP client: {e}"),
            })?;
        Ok(Guard { client, options })
    }

    /// Fetch `url`, following redirects one checked hop at a time.
    pub async fn get(&self, url: &Url) -> Result<Fetched, GuardError> {
        let mut url = url.clone();
        for _ in 0..=self.options.max_redirects {
            self.precheck(&url)?;
            let resp = self
                .client
                .get(url.clone())
                .send()
                .await
                .map_err(|e| self.describe(&url, &e))?;
            let status = resp.status();
            if status.is_redirection() {
                let next = resp
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| url.join(l).ok())
                    .ok_or_else(|| GuardError::Http {
                        url: url.to_string(),
                        message: format!("HTTP {status} without a usable Location"),
                    })?;
                url = next;
                continue;
            }
            if !status.is_success() {
                return Err(GuardError::Status {
                    url: url.to_string(),
                    status: status.as_u16(),
                });
            }
            return self.body(url, resp).await;
        }
        Err(GuardError::Redirects {
            url: url.to_string(),
            max: self.options.max_redirects,
        })
    }

    /// The scheme, and addresses written into the url, before any traffic.
    fn precheck(&self, url: &Url) -> Result<(), GuardError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(GuardError::Scheme {
                url: url.to_string(),
            });
        }
        let literal = match url.host() {
            Some(url::Host::Ipv4(a)) => Some(IpAddr::V4(a)),
            Some(url::Host::Ipv6(a)) => Some(IpAddr::V6(a)),
            Some(url::Host::Domain(_)) => None,
            None => {
                return Err(GuardError::Http {
                    url: url.to_string(),
                    message: "the url has no host".to_owned(),
                });
            }
        };
        match literal.and_then(|a| check(&self.options.allow, a).map(|r| (a, r))) {
            Some((addr, range)) => Err(GuardError::Refused {
                url: url.to_string(),
                host: addr.to_string(),
                addr,
                range,
            }),
            None => Ok(()),
        }
    }

    /// A refusal from the resolver in its own words; other errors as reqwest says.
    fn describe(&self, url: &Url, e: &reqwest::Error) -> GuardError {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
        while let Some(s) = source {
            if let Some(r) = s.downcast_ref::<Refusal>() {
                return GuardError::Refused {
                    url: url.to_string(),
                    host: r.host.clone(),
                    addr: r.addr,
                    range: r.range,
                };
            }
            source = s.source();
        }
        let message = if e.is_timeout() {
            format!("timed out after {:?}", self.options.timeout)
        } else if e.is_connect() {
            let mut m = e.to_string();
            let mut s = std::error::Error::source(e);
            while let Some(inner) = s {
                m = format!("{m}: {inner}");
                s = inner.source();
            }
            m
        } else {
            e.to_string()
        };
        GuardError::Http {
            url: url.to_string(),
            message,
        }
    }

    async fn body(&self, url: Url, mut resp: reqwest::Response) -> Result<Fetched, GuardError> {
        let max = self.options.max_bytes;
        if resp.content_length().is_some_and(|n| n > max as u64) {
            return Err(GuardError::TooLarge {
                url: url.to_string(),
                max,
            });
        }
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut bytes = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.describe(&url, &e))? {
            if bytes.len() + chunk.len() > max {
                return Err(GuardError::TooLarge {
                    url: url.to_string(),
                    max,
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Fetched {
            url,
            bytes,
            content_type,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_ranges_are_named() {
        let r = |a: &str| special_range(a.parse().unwrap());
        assert_eq!(r("127.0.0.1"), Some("loopback"));
        assert_eq!(r("::ffff:127.0.0.1"), Some("loopback"));
        assert_eq!(r("10.1.2.3"), Some("private"));
        assert_eq!(r("172.31.0.1"), Some("private"));
        assert_eq!(r("169.254.169.254"), Some("cloud metadata"));
        assert_eq!(r("169.254.1.1"), Some("link-local"));
        assert_eq!(r("fe80::1"), Some("link-local"));
        assert_eq!(r("100.64.0.1"), Some("carrier-grade NAT"));
        assert_eq!(r("93.184.216.34"), None);
        assert_eq!(r("2606:4700::1"), None);
        assert_eq!(r("172.32.0.1"), None);
    }
}
