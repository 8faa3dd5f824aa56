//! Routes: which document a request path names. A *route* is read from the
//! path alone, before any snapshot is consulted, and uses the same names as
//! the files `byline build` writes (`authors/{slug}.atom`), so a static host
//! and the server look the same to a reader.
//!
//! Behind a reverse proxy the path may still carry the base url's prefix
//! (`/feeds/authors/x.atom`, nginx `proxy_pass http://byline;`) or have it
//! stripped (`/authors/x.atom`, `proxy_pass http://byline/;`): both work.
//! When both readings name a document (a base path of `/feeds/` and a custom
//! feed named `feed`: `/feeds/feed.atom`), the one without the prefix wins.

use std::borrow::Cow;

use crate::render::Format;
use crate::views::ViewKey;

/// Longest slug or source name a route accepts; longer ones name nothing.
const MAX_SLUG: usize = 200;

/// A view as the path names it, borrowing the slug.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ViewRef<'a> {
    All,
    Author(&'a str),
    Tag(&'a str),
    Source(&'a str),
    /// A `[[feed]]` of the config.
    Custom(&'a str),
}

impl ViewRef<'_> {
    pub(crate) fn key(self) -> ViewKey {
        match self {
            ViewRef::All => ViewKey::All,
            ViewRef::Author(s) => ViewKey::Author(s.to_owned()),
            ViewRef::Tag(s) => ViewKey::Tag(s.to_owned()),
            ViewRef::Source(s) => ViewKey::Source(s.to_owned()),
            ViewRef::Custom(s) => ViewKey::Custom(s.to_owned()),
        }
    }
}

/// A document as the path names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DocRef<'a> {
    Index,
    Opml,
    Feed(ViewRef<'a>, Format),
    Page(ViewRef<'a>),
}

/// What a request path asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route<'a> {
    /// A published document; `path` is its name below the base url
    /// (`authors/x.atom`, `index.html`): the cache key.
    Doc {
        path: Cow<'a, str>,
        doc: DocRef<'a>,
    },
    Health,
    Metrics,
    /// byline's own feed of alarms raised and cleared (`status.atom`).
    Status(Format),
    /// The base url's path without its trailing slash (`/feeds`).
    ToBase,
    /// Nothing here; `section` says which list would have held it, for the
    /// 404 page's hints.
    NotFound {
        section: Option<&'a str>,
    },
}

/// Route `path` (without query), accepting it with or without `base_path`
/// (the base url's path, ending in `/`) in front.
pub(crate) fn route<'a>(path: &'a str, base_path: &str) -> Route<'a> {
    let prefix = base_path.trim_end_matches('/');
    if let Some(rest) = path.strip_prefix(prefix).filter(|_| !prefix.is_empty()) {
        if rest.is_empty() {
            return Route::ToBase;
        }
        if rest.starts_with('/') {
            let routed = route_bare(rest);
            if !matches!(routed, Route::NotFound { .. }) {
                return routed;
            }
        }
    }
    route_bare(path)
}

/// Route a path relative to the site's root (`/authors/x.atom`).
fn route_bare<'a>(path: &'a str) -> Route<'a> {
    let Some(p) = path.strip_prefix('/') else {
        return Route::NotFound { section: None };
    };
    let doc = |path: &'static str, doc| Route::Doc {
        path: Cow::Borrowed(path),
        doc,
    };
    match p {
        "" | "index.html" => return doc("index.html", DocRef::Index),
        "authors.opml" | "opml" | "opml.xml" => return doc("authors.opml", DocRef::Opml),
        "healthz" => return Route::Health,
        "metrics" => return Route::Metrics,
        _ => {}
    }
    if let Some(f) = p.strip_prefix("status.").and_then(Format::from_extension) {
        return Route::Status(f);
    }
    if let Some(ext) = p.strip_prefix("feed.") {
        return match Format::from_extension(ext) {
            Some(f) => Route::Doc {
                path: Cow::Borrowed(p),
                doc: DocRef::Feed(ViewRef::All, f),
            },
            None => Route::NotFound { section: None },
        };
    }
    let Some((section, rest)) = split_at_byte(p, b'/', Side::First) else {
        return Route::NotFound { section: None };
    };
    let view: fn(&'a str) -> ViewRef<'a> = match section {
        "authors" => ViewRef::Author,
        "tags" => ViewRef::Tag,
        "sources" => ViewRef::Source,
        "feeds" => ViewRef::Custom,
        _ => return Route::NotFound { section: None },
    };
    let not_found = Route::NotFound {
        section: Some(section),
    };
    let (slug, ext) = match split_at_byte(rest, b'.', Side::Last) {
        Some((s, e)) => (s, Some(e)),
        None => (rest, None),
    };
    if !is_slug(slug) {
        return not_found;
    }
    match ext {
        None => Route::Doc {
            path: Cow::Owned(format!("{p}.html")),
            doc: DocRef::Page(view(slug)),
        },
        Some("html") => Route::Doc {
            path: Cow::Borrowed(p),
            doc: DocRef::Page(view(slug)),
        },
        Some(e) => match Format::from_extension(e) {
            Some(f) => Route::Doc {
                path: Cow::Borrowed(p),
                doc: DocRef::Feed(view(slug), f),
            },
            None => not_found,
        },
    }
}

enum Side {
    First,
    Last,
}

/// `s` split around the first or last `byte` (ASCII), without it. A byte
/// loop: `split_once` with a `char` pattern costs a tenth of a request on
/// paths this short.
fn split_at_byte(s: &str, byte: u8, side: Side) -> Option<(&str, &str)> {
    let mut bytes = s.bytes();
    let at = match side {
        Side::First => bytes.position(|b| b == byte),
        Side::Last => bytes.rposition(|b| b == byte),
    }?;
    // An ASCII byte is a char boundary on both sides.
    Some((s.get(..at)?, s.get(at + 1..)?))
}

/// Slugs and source names are lowercase ASCII letters, digits, `-` and `_`.
fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_SLUG
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(path: &str, base: &str) -> Option<(String, DocRef<'static>)> {
        // Leak for a 'static DocRef in tests only.
        let path: &'static str = Box::leak(path.to_owned().into_boxed_str());
        match route(path, base) {
            Route::Doc { path, doc } => Some((path.into_owned(), doc)),
            _ => None,
        }
    }

    #[test]
    fn splits_at_the_first_or_last_byte() {
        assert_eq!(
            split_at_byte("a/b/c", b'/', Side::First),
            Some(("a", "b/c"))
        );
        assert_eq!(split_at_byte("a.b.c", b'.', Side::Last), Some(("a.b", "c")));
        assert_eq!(
            split_at_byte("é/ü.x", b'/', Side::First),
            Some(("é", "ü.x"))
        );
        assert_eq!(split_at_byte("abc", b'.', Side::Last), None);
        assert_eq!(split_at_byte("abc.", b'.', Side::Last), Some(("abc", "")));
    }

    #[test]
    fn names_match_the_built_files() {
        assert_eq!(doc("/", "/"), Some(("index.html".into(), DocRef::Index)));
        assert_eq!(
            doc("/authors.opml", "/"),
            Some(("authors.opml".into(), DocRef::Opml))
        );
        assert_eq!(doc("/opml", "/").map(|d| d.1), Some(DocRef::Opml));
        assert_eq!(
            doc("/feeds/nk-pro-economy.rss", "/"),
            Some((
                "feeds/nk-pro-economy.rss".into(),
                DocRef::Feed(ViewRef::Custom("nk-pro-economy"), Format::Rss)
            ))
        );
        assert_eq!(
            doc("/feed.rss", "/"),
            Some(("feed.rss".into(), DocRef::Feed(ViewRef::All, Format::Rss)))
        );
        assert_eq!(
            doc("/authors/jeongmin-kim", "/"),
            Some((
                "authors/jeongmin-kim.html".into(),
                DocRef::Page(ViewRef::Author("jeongmin-kim"))
            ))
        );
        assert_eq!(
            doc("/tags/nk-pro.json", "/"),
            Some((
                "tags/nk-pro.json".into(),
                DocRef::Feed(ViewRef::Tag("nk-pro"), Format::Json)
            ))
        );
        assert_eq!(
            doc("/sources/nk_dumps.atom", "/"),
            Some((
                "sources/nk_dumps.atom".into(),
                DocRef::Feed(ViewRef::Source("nk_dumps"), Format::Atom)
            ))
        );
        for bad in [
            "/feed",
            "/feed.xml",
            "/authors/",
            "/authors/x.pdf",
            "/authors/X",
            "/authors/a/b.atom",
            "/authors/..%2F.atom",
            "/people/x.atom",
            "",
        ] {
            assert_eq!(doc(bad, "/"), None, "{bad}");
        }
        assert_eq!(route("/healthz", "/"), Route::Health);
        assert_eq!(
            route("/authors/x.pdf", "/"),
            Route::NotFound {
                section: Some("authors")
            }
        );
    }

    #[test]
    fn base_path_prefix_is_optional() {
        let with = doc("/feeds/authors/a.atom", "/feeds/");
        let without = doc("/authors/a.atom", "/feeds/");
        assert_eq!(with, without);
        assert!(with.is_some());
        assert_eq!(doc("/feeds/", "/feeds/").map(|d| d.1), Some(DocRef::Index));
        assert_eq!(doc("/", "/feeds/").map(|d| d.1), Some(DocRef::Index));
        assert_eq!(route("/feeds", "/feeds/"), Route::ToBase);
        // A prefix that is only a string prefix of a segment is not stripped.
        assert_eq!(doc("/feedsauthors/a.atom", "/feeds/"), None);
        // Custom feeds live under feeds/, which may also be the base path.
        assert_eq!(
            doc("/feeds/feeds/mine.atom", "/feeds/"),
            doc("/feeds/mine.atom", "/feeds/")
        );
        assert_eq!(
            doc("/feeds/mine.atom", "/feeds/").map(|d| d.0),
            Some("feeds/mine.atom".into())
        );
        // A base path that looks like a route still routes both ways.
        assert_eq!(
            doc("/authors/authors/a.atom", "/authors/").map(|d| d.0),
            Some("authors/a.atom".into())
        );
    }
}
