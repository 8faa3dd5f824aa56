//! What a request asks of a snapshot: the *document* it names, how it
//! *narrows* a view (`?limit=`, `?tag=`, `?author=`), and why a document may
//! be *missing*.

use crate::model::slugify;
use crate::render::Format;
use crate::views::ViewKey;

/// Which document a request names, resolved against a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Doc {
    Index,
    Opml,
    /// A view (index into the snapshot's views) in a feed format.
    Feed(usize, Format),
    /// A view's HTML page.
    Page(usize),
}

/// How a request narrows a view: `?limit=N&tag=T&author=A`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Narrowing {
    pub(crate) limit: Option<usize>,
    /// Tag slug.
    pub(crate) tag: Option<String>,
    /// Author slug.
    pub(crate) author: Option<String>,
}

impl Narrowing {
    /// Read the query string; unknown parameters (cache busters, tracking) are
    /// ignored. Tags and authors may be given by slug or by name.
    pub(crate) fn parse(query: Option<&str>, max_items: usize) -> Result<Narrowing, String> {
        let mut n = Narrowing::default();
        let Some(query) = query else { return Ok(n) };
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            match &*key {
                "limit" => match value.trim().parse::<usize>() {
                    Ok(l) if (1..=max_items).contains(&l) => n.limit = Some(l),
                    _ => {
                        return Err(format!(
                            "limit: expected a number of items from 1 to {max_items}, got {value:?}"
                        ));
                    }
                },
                "tag" if !value.trim().is_empty() => n.tag = Some(slugify(&value)),
                "author" if !value.trim().is_empty() => n.author = Some(slugify(&value)),
                _ => {}
            }
        }
        Ok(n)
    }

    pub(crate) fn is_none(&self) -> bool {
        *self == Narrowing::default()
    }

    /// A canonical spelling, for cache keys.
    pub(super) fn key(&self) -> String {
        format!(
            "limit={}&tag={}&author={}",
            self.limit.unwrap_or(0),
            self.tag.as_deref().unwrap_or(""),
            self.author.as_deref().unwrap_or("")
        )
    }
}

/// Why a document does not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Missing {
    View(ViewKey),
    /// `?tag=` or `?author=` names nobody.
    Narrowing(ViewKey),
}
