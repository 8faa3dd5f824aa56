//! Walls: what stands in front of a listing instead of it.
//!
//! A *wall* is a response that is not the page asked for but a guard's: a
//! bot challenge (a "Just a moment..." interstitial, a captcha, a DataDome-
//! or WAF-style block), a consent wall, a redirect to a login page, or a
//! `200 OK` whose body is an error page. Read as a listing, a wall gives
//! "0 items" and the real cause is lost; named, it tells the operator what
//! to do. Only generic markers are used (vendor headers, challenge scripts,
//! page titles), never one site's markup. Pure functions over the status,
//! the kept headers and the head of the body.

use url::Url;

/// What kind of wall a response is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WallKind {
    /// A bot guard: challenge, captcha, block page, consent or login wall.
    Bot,
    /// A page that says it is an error though its status said success.
    ErrorPage,
}

/// A wall found, and the marker that gave it away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wall {
    pub kind: WallKind,
    pub reason: String,
}

/// How much of a body is searched for markers: walls are small pages.
const SCAN_BYTES: usize = 64 * 1024;

/// Headers whose presence (with these values, `""` for any) marks a guard's answer.
const WALL_HEADERS: &[(&str, &str)] = &[
    ("cf-mitigated", "challenge"),
    ("x-amzn-waf-action", "captcha"),
    ("x-amzn-waf-action", "challenge"),
];

/// Body markers only a challenge or block page carries (lower case).
const CHALLENGE_MARKERS: &[(&str, &str)] = &[
    (
        "<title>just a moment...</title>",
        "a \"Just a moment...\" challenge page",
    ),
    ("challenges.cloudflare.com", "a Cloudflare challenge script"),
    ("cf-browser-verification", "a browser verification page"),
    ("cf_chl_opt", "a Cloudflare challenge script"),
    (
        "attention required! | cloudflare",
        "a Cloudflare block page",
    ),
    (
        "captcha-delivery.com",
        "a DataDome-style captcha interstitial",
    ),
    ("px-captcha", "a PerimeterX-style captcha"),
];

/// Body markers a wall carries but an ordinary page may too (a captcha on
/// a comment form): believed on an error status, or on a small page that
/// gave nothing.
const GUARD_MARKERS: &[(&str, &str)] = &[
    ("g-recaptcha", "a reCAPTCHA"),
    ("h-captcha", "an hCaptcha"),
    ("hcaptcha.com", "an hCaptcha"),
    ("cf-turnstile", "a Turnstile captcha"),
    ("verify you are human", "a \"verify you are human\" page"),
    ("are you a robot", "an \"are you a robot\" page"),
    ("checking your browser", "a \"checking your browser\" page"),
    (
        "enable javascript and cookies to continue",
        "a JavaScript challenge",
    ),
    ("unusual traffic", "an \"unusual traffic\" block page"),
    ("access denied", "an \"access denied\" page"),
];

/// A page this small that gave nothing may be a wall by its weaker markers;
/// a listing that lost its cards is usually far larger.
const SMALL_PAGE: usize = 48 * 1024;

/// Body markers of consent walls (lower case): only believed on a small
/// page that gave nothing, since banners sit on ordinary pages too.
const CONSENT_MARKERS: &[&str] = &[
    "cookie consent",
    "consent to the use of cookies",
    "we value your privacy",
    "manage your privacy choices",
    "before you continue",
];

/// Words of an error page's title (lower case).
const ERROR_TITLES: &[&str] = &[
    "404",
    "not found",
    "page not found",
    "error",
    "forbidden",
    "unavailable",
    "internal server error",
    "bad gateway",
    "maintenance",
    "gone",
];

/// Path words of a login or consent page a listing may redirect to.
const LOGIN_PATHS: &[&str] = &["login", "log-in", "signin", "sign-in", "sign_in", "auth"];

/// A response that is not a success: a wall if a guard's header or a
/// challenge marker is in it (a challenge usually comes as 403 or 503).
pub fn of_status(status: u16, headers: &[(String, String)], body: &[u8]) -> Option<Wall> {
    if let Some(reason) = by_header(headers) {
        return Some(bot(reason));
    }
    if matches!(status, 401 | 403 | 429 | 503) && header(headers, "x-datadome").is_some() {
        return Some(bot(format!("HTTP {status} with an x-datadome header")));
    }
    let text = lower_head(body);
    CHALLENGE_MARKERS
        .iter()
        .chain(GUARD_MARKERS)
        .find(|(m, _)| text.contains(m))
        .map(|(_, why)| bot(format!("HTTP {status}, {why}")))
}

/// A successful response that carries a guard's header: a wall whatever
/// the body holds.
pub fn of_headers(headers: &[(String, String)]) -> Option<Wall> {
    by_header(headers).map(bot)
}

/// A successful response that gave no items: is it a wall or an error page
/// rather than an empty listing? `asked` is the url requested, `landed` the
/// one after redirects.
pub fn of_empty(asked: &str, landed: Option<&Url>, body: &[u8]) -> Option<Wall> {
    if let Some(landed) = landed
        && landed.as_str() != asked
    {
        let path = landed.path().to_ascii_lowercase();
        let host = landed.host_str().unwrap_or_default().to_ascii_lowercase();
        let on_path = |words: &[&str]| {
            path.split(|c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '_')
                .any(|segment| words.contains(&segment))
        };
        if on_path(LOGIN_PATHS) {
            return Some(bot(format!("redirected to a login page ({landed})")));
        }
        if host.starts_with("consent.") || on_path(&["consent"]) {
            return Some(bot(format!("redirected to a consent page ({landed})")));
        }
    }
    let text = lower_head(body);
    let small = body.len() <= SMALL_PAGE;
    let markers = CHALLENGE_MARKERS
        .iter()
        .chain(GUARD_MARKERS.iter().filter(|_| small));
    if let Some((_, why)) = markers.into_iter().find(|(m, _)| text.contains(m)) {
        return Some(bot((*why).to_owned()));
    }
    if small && CONSENT_MARKERS.iter().any(|m| text.contains(m)) {
        return Some(bot("a consent wall".to_owned()));
    }
    let title = title(body)?;
    let lower = title.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let says_error = ERROR_TITLES.iter().any(|e| {
        if e.contains(' ') {
            lower.contains(e)
        } else {
            words.contains(e)
        }
    });
    says_error.then(|| Wall {
        kind: WallKind::ErrorPage,
        reason: format!("the page's title is {:?}", title.trim()),
    })
}

fn bot(reason: String) -> Wall {
    Wall {
        kind: WallKind::Bot,
        reason,
    }
}

fn by_header(headers: &[(String, String)]) -> Option<String> {
    WALL_HEADERS.iter().find_map(|(name, value)| {
        let got = header(headers, name)?;
        got.to_ascii_lowercase()
            .contains(value)
            .then(|| format!("header {name}: {got}"))
    })
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The head of a body, as text (ASCII lower case keeps byte offsets, so a
/// place found in it is the same place in [`head`]).
fn lower_head(body: &[u8]) -> String {
    head(body).to_ascii_lowercase()
}

fn head(body: &[u8]) -> String {
    String::from_utf8_lossy(&body[..body.len().min(SCAN_BYTES)]).into_owned()
}

/// The text of the first `<title>` of a page, as written.
fn title(body: &[u8]) -> Option<String> {
    let text = head(body);
    let lower = text.to_ascii_lowercase();
    let start = lower.find("<title")?;
    let open = start + lower[start..].find('>')? + 1;
    let close = open + lower[open..].find("</title")?;
    let t = text.get(open..close)?.trim();
    (!t.is_empty()).then(|| t.chars().take(120).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(name: &str, value: &str) -> Vec<(String, String)> {
        vec![(name.to_owned(), value.to_owned())]
    }

    #[test]
    fn challenge_pages_are_bot_walls() {
        let page =
            b"<html><head><title>Just a moment...</title></head><body>cf_chl_opt</body></html>";
        let w = of_status(403, &[], page).expect("a wall");
        assert_eq!(w.kind, WallKind::Bot);
        assert!(w.reason.contains("Just a moment"), "{}", w.reason);
        assert!(of_headers(&h("cf-mitigated", "challenge")).is_some());
        assert!(of_status(403, &h("x-datadome", "protected"), b"").is_some());
        assert!(of_empty("http://x/", None, b"<div class=g-recaptcha></div>").is_some());
    }

    #[test]
    fn plain_errors_and_ordinary_pages_are_not_walls() {
        assert_eq!(of_status(404, &[], b"<title>Not here</title>"), None);
        assert_eq!(of_headers(&h("server", "cloudflare")), None);
        assert_eq!(
            of_empty(
                "http://x/",
                None,
                b"<title>Latest news</title><p>nothing today</p>"
            ),
            None
        );
    }

    #[test]
    fn error_titles_and_login_redirects_are_named() {
        let w = of_empty(
            "http://x/news",
            None,
            b"<title>500 Internal Server Error</title>",
        )
        .expect("an error page");
        assert_eq!(w.kind, WallKind::ErrorPage);
        assert!(w.reason.contains("Internal Server Error"), "{}", w.reason);
        let landed = Url::parse("http://x/account/login?next=/news").unwrap();
        let w = of_empty("http://x/news", Some(&landed), b"<form></form>").expect("a login wall");
        assert!(w.reason.contains("login"), "{}", w.reason);
        // "errors" in a title is a word of its own, not "error".
        assert_eq!(
            of_empty("http://x/", None, b"<title>Terrors of the deep</title>"),
            None
        );
    }
}
