//! The url policy: where a fetch may go. An address in a *special range*
//! (loopback, private, link-local, metadata and other non-public ranges) is
//! reached only when the config names its host as a source input: a
//! redirect, a next-page link or a name that resolves there is refused, on
//! every hop, with the address and the range named. Names are checked in
//! the resolver, so the addresses checked are the ones connected to.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::Url;

use crate::config::IpRange;

/// The special range `addr` is in, if it is not a public address.
pub fn special_range(addr: IpAddr) -> Option<&'static str> {
    const RANGES: &[(&str, &str)] = &[
        ("169.254.169.254/32", "cloud metadata"),
        ("100.100.100.200/32", "cloud metadata"),
        ("fd00:ec2::254/128", "cloud metadata"),
        ("127.0.0.0/8", "loopback"),
        ("::1/128", "loopback"),
        ("10.0.0.0/8", "private"),
        ("172.16.0.0/12", "private"),
        ("192.168.0.0/16", "private"),
        ("fc00::/7", "private"),
        ("169.254.0.0/16", "link-local"),
        ("fe80::/10", "link-local"),
        ("100.64.0.0/10", "carrier-grade NAT"),
        ("0.0.0.0/8", "unspecified"),
        ("::/128", "unspecified"),
        ("192.0.0.0/24", "IETF protocol"),
        ("198.18.0.0/15", "benchmarking"),
        ("224.0.0.0/4", "multicast"),
        ("ff00::/8", "multicast"),
        ("240.0.0.0/4", "reserved"),
        ("64:ff9b::/96", "NAT64"),
        ("2002::/16", "6to4"),
    ];
    let addr = addr.to_canonical();
    RANGES
        .iter()
        .find(|(r, _)| IpRange::parse(r).is_some_and(|r| r.contains(addr)))
        .map(|(_, name)| *name)
}

/// Which hosts may be on special addresses: those the config names.
#[derive(Debug, Clone, Default)]
pub enum UrlPolicy {
    /// Anything goes: for tools and tests that fetch what they were given.
    #[default]
    Open,
    /// Special addresses only for these hosts (lowercase, as in urls).
    Sources(Arc<HashSet<String>>),
}

impl UrlPolicy {
    /// The policy of a config's sources: their http inputs' hosts may be
    /// anywhere, no other host on a special address.
    pub fn for_hosts<'a>(hosts: impl IntoIterator<Item = &'a str>) -> UrlPolicy {
        UrlPolicy::Sources(Arc::new(
            hosts.into_iter().map(|h| h.to_ascii_lowercase()).collect(),
        ))
    }

    fn trusts(&self, host: &str) -> bool {
        match self {
            UrlPolicy::Open => true,
            UrlPolicy::Sources(hosts) => hosts.contains(&host.to_ascii_lowercase()),
        }
    }

    /// Why `url` may not be fetched, judging what the url itself says (its
    /// scheme and an address literal); names are judged when resolved.
    pub fn refuses(&self, url: &Url) -> Option<String> {
        if !matches!(url.scheme(), "http" | "https") {
            return Some(format!(
                "{url}: refused: only http and https urls are followed"
            ));
        }
        let host = url.host_str()?;
        if self.trusts(host) {
            return None;
        }
        let addr = match url.host()? {
            url::Host::Ipv4(a) => IpAddr::V4(a),
            url::Host::Ipv6(a) => IpAddr::V6(a),
            url::Host::Domain(_) => return None,
        };
        special_range(addr).map(|range| {
            format!(
                "{}: refused: {addr} is a {range} address, which no source names",
                crate::urls::redact(url.as_str())
            )
        })
    }

    /// A resolver that applies this policy to every name it resolves.
    pub(crate) fn resolver(&self) -> Option<Arc<Resolver>> {
        match self {
            UrlPolicy::Open => None,
            UrlPolicy::Sources(_) => {
                let policy = self.clone();
                let refuse: Refuse = Arc::new(move |host: &str, addr: IpAddr| {
                    special_range(addr).filter(|_| !policy.trusts(host))
                });
                Some(Arc::new(Resolver::new(
                    refuse,
                    "which no source names",
                    None,
                )))
            }
        }
    }
}

/// Names to addresses, for tests that must not touch real DNS.
pub type Lookup = Arc<dyn Fn(&str) -> Vec<IpAddr> + Send + Sync>;

/// Which addresses a resolver refuses for a name: the special range of the
/// first one refused, if any. One refused address refuses the whole name (a
/// name with one private address could be steered to it).
pub(crate) type Refuse = Arc<dyn Fn(&str, IpAddr) -> Option<&'static str> + Send + Sync>;

/// A refused name, carried through reqwest's resolver error and found again
/// by whoever describes the failed request.
#[derive(Debug, thiserror::Error)]
#[error("refused: {host} resolves to {addr}, a {range} address, {rule}")]
pub(crate) struct Refusal {
    pub(crate) host: String,
    pub(crate) addr: IpAddr,
    pub(crate) range: &'static str,
    /// Why that is refused, for the message: "which no source names".
    pub(crate) rule: &'static str,
}

/// Resolves names (with the system resolver, or a test's [`Lookup`]) and
/// refuses those `refuse` says no to.
pub(crate) struct Resolver {
    refuse: Refuse,
    rule: &'static str,
    lookup: Option<Lookup>,
}

impl Resolver {
    pub(crate) fn new(refuse: Refuse, rule: &'static str, lookup: Option<Lookup>) -> Self {
        Resolver {
            refuse,
            rule,
            lookup,
        }
    }
}

impl Resolve for Resolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let (refuse, rule, lookup) = (self.refuse.clone(), self.rule, self.lookup.clone());
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = match lookup {
                Some(f) => f(&host)
                    .into_iter()
                    .map(|a| SocketAddr::new(a, 0))
                    .collect(),
                None => tokio::net::lookup_host((host.as_str(), 0)).await?.collect(),
            };
            if addrs.is_empty() {
                return Err(format!("no addresses for {host}").into());
            }
            for a in &addrs {
                if let Some(range) = refuse(&host, a.ip()) {
                    return Err(Box::new(Refusal {
                        host: host.clone(),
                        addr: a.ip(),
                        range,
                        rule,
                    })
                        as Box<dyn std::error::Error + Send + Sync>);
                }
            }
            let out: Addrs = Box::new(addrs.into_iter());
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_on_special_ranges_need_a_source_naming_them() {
        let policy = UrlPolicy::for_hosts(["127.0.0.1"]);
        let url = |s: &str| Url::parse(s).unwrap();
        assert_eq!(policy.refuses(&url("http://127.0.0.1:8080/page/2")), None);
        for bad in [
            "http://0.0.0.0:8080/",
            "http://[::ffff:127.0.0.1]:8080/",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.1.2.3/",
        ] {
            let why = policy.refuses(&url(bad)).unwrap_or_default();
            assert!(why.contains("refused"), "{bad}: {why}");
        }
        assert!(policy.refuses(&url("file:///etc/passwd")).is_some());
        assert_eq!(policy.refuses(&url("https://news.example/")), None);
        assert_eq!(UrlPolicy::Open.refuses(&url("http://10.1.2.3/")), None);
    }
}
