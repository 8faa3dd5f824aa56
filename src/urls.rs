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

/// Query parameters whose values are secrets, besides any the config adds:
/// exact names, or (for `*token*`-like names) any name containing the word.
const SENSITIVE_EXACT: &[&str] = &[
    "key",
    "sig",
    "signature",
    "auth",
    "pass",
    "passwd",
    "session",
    "sid",
    "code",
];
const SENSITIVE_WORDS: &[&str] = &["token", "secret", "password", "apikey", "api_key"];

/// Extra sensitive parameter names from the config (`redact_params`), set
/// once at start-up; redaction happens far from the config (in error texts
/// and logs), so it is process-wide.
static EXTRA_SENSITIVE: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();

/// Add the config's sensitive parameter names (the first call wins).
pub fn add_sensitive_params(names: &[String]) {
    let _ = EXTRA_SENSITIVE.set(names.iter().map(|n| n.to_ascii_lowercase()).collect());
}

fn is_sensitive(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SENSITIVE_EXACT.contains(&name.as_str())
        || SENSITIVE_WORDS.iter().any(|w| name.contains(w))
        || EXTRA_SENSITIVE
            .get()
            .is_some_and(|extra| extra.contains(&name))
}

/// `url` as it may be shown: no user name or password, and the value of
/// every sensitive query parameter replaced by `***`.
pub fn redacted(url: &Url) -> String {
    let mut url = url.clone();
    if !url.username().is_empty() || url.password().is_some() {
        let _ = url.set_username("");
        let _ = url.set_password(None);
    }
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if is_sensitive(&k) { "***".into() } else { v };
                (k.into_owned(), v.into_owned())
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

/// `text` with every http(s) url in it [`redacted`]: for error messages and
/// log lines, which quote the urls they failed on.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let next = |s: &str| {
        [s.find("http://"), s.find("https://")]
            .into_iter()
            .flatten()
            .min()
    };
    while let Some(at) = next(rest) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | ')' | ','))
            .unwrap_or(tail.len());
        let candidate = &tail[..end];
        match Url::parse(candidate) {
            Ok(u) => out.push_str(&redacted(&u)),
            Err(_) => out.push_str(candidate),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_urls_are_never_shown() {
        let text = "fetch of https://me:hunter2@feeds.example/x?token=abc123&page=2&api_key=k9 failed (HTTP 500)";
        let shown = redact(text);
        assert!(
            !shown.contains("hunter2") && !shown.contains("abc123") && !shown.contains("k9"),
            "{shown}"
        );
        assert!(
            shown.contains("https://feeds.example/x?token=***&page=2&api_key=***"),
            "{shown}"
        );
        assert!(shown.ends_with(" failed (HTTP 500)"));
        assert_eq!(redact("no url here"), "no url here");
        assert_eq!(
            redact("http://a.example/ and https://b.example/?sig=s"),
            "http://a.example/ and https://b.example/?sig=***"
        );
    }

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
