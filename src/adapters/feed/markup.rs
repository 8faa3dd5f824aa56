//! *Markup* in feed text: HTML that a feed escapes or wraps in CDATA inside a
//! title, description or summary, turned into the plain text an item holds.
//!
//! html5ever (through `scraper`) does the parsing, so every HTML entity and
//! every tag soup a publisher writes decodes the way a browser would show it.

use scraper::{Html, Node};

use crate::adapters::layout::{is_block, is_hidden_text};

/// The visible text of an HTML fragment: tags dropped, entities decoded,
/// white space collapsed and trimmed.
pub(crate) fn html_to_text(html: &str) -> String {
    if !html.contains(['<', '&']) {
        return crate::model::collapse_whitespace(html);
    }
    let fragment = Html::parse_fragment(html);
    let mut out = String::with_capacity(html.len());
    // An explicit stack rather than recursion: nesting depth is the publisher's choice.
    let mut stack = vec![(fragment.tree.root(), false)];
    while let Some((node, closing)) = stack.pop() {
        let block = matches!(node.value(), Node::Element(e) if is_block(e.name()));
        if closing {
            if block {
                out.push(' ');
            }
            continue;
        }
        match node.value() {
            Node::Text(t) => out.push_str(t),
            Node::Element(e) if is_hidden_text(e.name()) => continue,
            _ => {}
        }
        if block {
            out.push(' ');
        }
        stack.push((node, true));
        let mut children: Vec<_> = node.children().collect();
        children.reverse();
        stack.extend(children.into_iter().map(|c| (c, false)));
    }
    crate::model::collapse_whitespace(&out)
}

/// Decode HTML entities but keep every character, tags included: for text that
/// is meant as plain but was escaped once too often (`AT&amp;T` in an RSS title).
pub(crate) fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return crate::model::collapse_whitespace(text);
    }
    html_to_text(&text.replace('<', "&lt;"))
}

/// At most `max` characters of `text`, cut at a word boundary with an ellipsis.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    let cut = match cut.rfind(' ') {
        Some(space) if space > max / 2 => cut.get(..space).unwrap_or(&cut).to_owned(),
        _ => cut,
    };
    format!(
        "{}…",
        cut.trim_end_matches(|c: char| c.is_whitespace() || c == ',')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_tags_and_decodes_entities() {
        assert_eq!(
            html_to_text("<p>The week&#8217;s <em>big</em> stories,\n Biden&ndash;Yoon.</p>"),
            "The week’s big stories, Biden–Yoon."
        );
        assert_eq!(html_to_text("<p>a</p><p>b</p>c<br>d"), "a b c d");
        assert_eq!(html_to_text("x<script>alert(1)</script>y"), "xy");
        assert_eq!(html_to_text("  plain   text "), "plain text");
        assert_eq!(html_to_text("&lt;b&gt; is bold"), "<b> is bold");
    }

    #[test]
    fn decoding_entities_keeps_tags() {
        assert_eq!(
            decode_entities("AT&amp;T <script> &eacute;"),
            "AT&T <script> é"
        );
        assert_eq!(decode_entities("a < b"), "a < b");
    }

    #[test]
    fn truncates_at_words() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("one two three four", 10), "one two…");
    }
}
