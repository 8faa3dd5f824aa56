//! Layout: how markup reads as text, for every adapter that turns HTML into
//! text (listing pages and the HTML inside feeds). A *block* element
//! separates words at its edges, as a browser lays it out (`<p>a</p><p>b</p>`
//! reads "a b", `<a>a</a><b>b</b>` reads "ab"); a *hidden* element holds no
//! text a reader sees.

const BLOCK_ELEMENTS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "br",
    "caption",
    "dd",
    "details",
    "dialog",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "hr",
    "img",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
];

const HIDDEN_TEXT_ELEMENTS: &[&str] = &[
    "script",
    "style",
    "template",
    "noscript",
    "iframe",
    "object",
    "xmp",
    "noembed",
    "noframes",
    "plaintext",
];

/// Does the element `tag` separate words at its edges?
pub(crate) fn is_block(tag: &str) -> bool {
    BLOCK_ELEMENTS.iter().any(|b| b.eq_ignore_ascii_case(tag))
}

/// Is the content of element `tag` never text a reader sees?
pub(crate) fn is_hidden_text(tag: &str) -> bool {
    HIDDEN_TEXT_ELEMENTS
        .iter()
        .any(|b| b.eq_ignore_ascii_case(tag))
}
