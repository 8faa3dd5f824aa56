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

/// The deepest a page may nest elements for a DOM parse. html5ever's tree
/// building slows down badly on pathological nesting (100,000 nested
/// `<div>`s took 48 s); real listing pages stay far below a few hundred.
pub(crate) const MAX_DOM_DEPTH: usize = 2_000;

/// How deep `html` nests elements, counted cheaply on the bytes (start tags
/// push, end tags pop; void elements and self-closing tags do neither),
/// stopping as soon as `limit` is passed. An estimate, never a parse: it
/// exists to refuse pages that would stall a DOM parser.
pub(crate) fn nesting_depth(html: &str, limit: usize) -> usize {
    const VOID: &[&str] = &[
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr", "!doctype",
    ];
    let bytes = html.as_bytes();
    let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
    while let Some(off) = bytes
        .get(i..)
        .and_then(|b| b.iter().position(|&c| c == b'<'))
    {
        i += off + 1;
        let rest = bytes.get(i..).unwrap_or_default();
        if rest.starts_with(b"!--") {
            // Skip a comment whole.
            match html.get(i..).and_then(|r| r.find("-->")) {
                Some(end) => i += end + 3,
                None => break,
            }
            continue;
        }
        let closing = rest.first() == Some(&b'/');
        let name_start = usize::from(closing);
        let name: String = rest
            .iter()
            .skip(name_start)
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'!')
            .map(|c| c.to_ascii_lowercase() as char)
            .collect();
        if name.is_empty() {
            continue;
        }
        let end = rest.iter().position(|&c| c == b'>').unwrap_or(rest.len());
        let self_closing = end > 0 && rest.get(end - 1) == Some(&b'/');
        if closing {
            depth = depth.saturating_sub(1);
        } else if !self_closing && !VOID.contains(&name.as_str()) {
            depth += 1;
            deepest = deepest.max(depth);
            if deepest > limit {
                return deepest;
            }
        }
        i += end;
    }
    deepest
}

/// `Err` naming the limit when `html` nests too deep for a DOM parse: the
/// one check every DOM parse of fetched HTML makes first.
pub(crate) fn dom_depth_ok(html: &str) -> Result<(), String> {
    if nesting_depth(html, MAX_DOM_DEPTH) > MAX_DOM_DEPTH {
        return Err(format!(
            "the page nests elements more than {MAX_DOM_DEPTH} deep, more than the DOM engine reads \
             (a broken or hostile page); page not read"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_depth_counts_open_elements_only() {
        assert_eq!(
            nesting_depth("<div><p>a<br>b<img src=x/></p></div>", 100),
            2
        );
        assert_eq!(
            nesting_depth("<!-- <div><div> --><ul><li>x</li></ul>", 100),
            2
        );
        let deep = "<div>".repeat(5_000);
        assert_eq!(
            nesting_depth(&deep, 2_000),
            2_001,
            "stops once past the limit"
        );
    }
}
