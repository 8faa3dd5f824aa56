//! A *card* is one listing item as a page gives it, before it becomes an
//! [`crate::model::Item`]: each field's text as found (decoded, white space
//! collapsed), urls not yet resolved, dates not yet parsed. The selector
//! engines and the JSON-LD reader both produce cards, so one mapping turns
//! every card into an item.

/// The field values of one card as the page gives them: text decoded and
/// whitespace collapsed, attribute values unescaped and trimmed; urls not yet
/// resolved, dates not yet parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RawCard {
    pub(crate) title: Option<String>,
    /// The `href` of the element the title came from: the url when no `url` selector is set.
    pub(crate) title_href: Option<String>,
    pub(crate) url: Option<String>,
    pub(crate) summary: Option<String>,
    pub(crate) authors: Vec<String>,
    pub(crate) published: Option<String>,
    /// When the page says it was last modified (JSON-LD `dateModified`); article pages only.
    pub(crate) updated: Option<String>,
    pub(crate) tags: Vec<String>,
    pub(crate) image: Option<String>,
}
