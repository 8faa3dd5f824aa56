//! Url policy: every link byline emits is absolute, and two links to one story
//! compare equal once *canonicalized*.
//!
//! A canonical url is the form used as a dedupe key and an id: scheme and host
//! lowercased (the `url` crate does that), default port, fragment and tracking
//! parameters dropped. The raw link an adapter read is kept as it was; the merger
//! replaces it with the canonical one, which is also the cleaner link for readers.

use url::Url;

/// Query parameters that only track where a click came from.
const DEFAULT_TRACKING: &[&str] = &[
    "utm_*", "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "yclid",
    "_hsenc", "_hsmi", "ref_src",
];

/// Which query parameters to drop. Patterns are exact names or a prefix ending in `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canonicalizer {
    patterns: Vec<String>,
}

impl Default for Canonicalizer {
    fn default() -> Self {
        Canonicalizer {
            patterns: DEFAULT_TRACKING.iter().map(|s| (*s).to_owned()).collect(),
        }
    }
}

impl Canonicalizer {
    /// The defaults plus `extra` patterns from the config.
    pub fn with_extra(extra: &[String]) -> Self {
        let mut c = Canonicalizer::default();
        c.patterns.extend(extra.iter().cloned());
        c
    }

    fn is_tracking(&self, name: &str) -> bool {
        let name = name.to_ascii_lowercase();
        self.patterns.iter().any(|p| match p.strip_suffix('*') {
            Some(prefix) => name.starts_with(&prefix.to_ascii_lowercase()),
            None => name == p.to_ascii_lowercase(),
        })
    }
}

/// The canonical form of an absolute http(s) url, or `None` if `raw` is not one.
pub fn canonicalize(raw: &str, rules: &Canonicalizer) -> Option<String> {
    let mut url = Url::parse(raw.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    url.set_fragment(None);
    if url.query().is_some() {
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| !rules.is_tracking(k))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if kept.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
    Some(url.into())
}

/// Resolve `href` against `base`, the way a browser would ("//host/x", "/x",
/// "x", "https://..."). Returns `None` for empty, `javascript:`, `data:` and
/// other non-web links, which must never become item links or images.
pub fn resolve(base: Option<&Url>, href: &str) -> Option<String> {
    let href = href.trim();
    if href.is_empty() {
        return None;
    }
    let joined = match base {
        Some(b) => b.join(href).ok()?,
        None => Url::parse(href).ok()?,
    };
    matches!(joined.scheme(), "http" | "https").then(|| joined.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_tracking_fragment_and_default_port() {
        let c = Canonicalizer::default();
        assert_eq!(
            canonicalize(
                "HTTPS://WWW.News.example:443/2022/05/x/?utm_source=a&utm_medium=rss&id=3#top",
                &c
            )
            .as_deref(),
            Some("https://www.news.example/2022/05/x/?id=3")
        );
        assert_eq!(
            canonicalize("https://a.example/x?fbclid=1&UTM_Campaign=z", &c).as_deref(),
            Some("https://a.example/x")
        );
        assert_eq!(canonicalize("mailto:a@b.example", &c), None);
        let extra = Canonicalizer::with_extra(&["ref".into()]);
        assert_eq!(
            canonicalize("https://a.example/x?ref=home&p=2", &extra).as_deref(),
            Some("https://a.example/x?p=2")
        );
    }

    #[test]
    fn resolves_relative_forms() {
        let base = Url::parse("https://www.news.example/category/news/").unwrap();
        let b = Some(&base);
        assert_eq!(
            resolve(b, "/pro/x/").as_deref(),
            Some("https://www.news.example/pro/x/")
        );
        assert_eq!(
            resolve(b, "//www.news.example/2022/05/y/").as_deref(),
            Some("https://www.news.example/2022/05/y/")
        );
        assert_eq!(resolve(b, "data:image/gif;base64,R0l"), None);
        assert_eq!(resolve(b, "javascript:void(0)"), None);
        assert_eq!(resolve(None, "/x"), None);
    }
}
