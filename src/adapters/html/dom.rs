//! The DOM engine: the page parsed into a tree with `scraper` (html5ever), for
//! selectors the streaming engine cannot match.
//!
//! It reads the same values the streaming engine does, by the same rules: a
//! field element belongs to its nearest enclosing card and is never a card
//! itself; once an element's text is read, matches inside it are part of that
//! text, not values of their own.

use ego_tree::NodeId;
use ego_tree::iter::Edge;
use scraper::{ElementRef, Html, Node, Selector};

use super::{
    Extract, Field, JSONLD_SELECTOR, RawCard, collapse, is_block, is_hidden_text, usable_attr,
};
use crate::config::{FieldSpec, HtmlConfig, JsonLd};

fn parse(css: &str, key: &str) -> Result<Selector, String> {
    Selector::parse(css).map_err(|e| format!("html.{key} {css:?}: invalid CSS selector: {e}"))
}

/// A field's value from one element: `Attr` from an attribute, `Text` from its
/// text (possibly empty), `None` when neither applies.
enum Value {
    Attr(String),
    Text(String),
    None,
}

fn value(field: Field, spec: &FieldSpec, el: ElementRef<'_>) -> Value {
    for a in &spec.attrs {
        if let Some(v) = el.value().attr(a).and_then(usable_attr) {
            return Value::Attr(v.to_owned());
        }
    }
    if field.text_fallback(spec) {
        Value::Text(collapse(&text_of(el)))
    } else {
        Value::None
    }
}

/// The text a reader sees in `el`: scripts and styles left out, a space where
/// a block element starts or ends.
fn text_of(el: ElementRef<'_>) -> String {
    let mut out = String::new();
    for edge in el.traverse() {
        match edge {
            Edge::Open(node) => match node.value() {
                Node::Text(t) => {
                    let hidden = node
                        .parent()
                        .and_then(|p| p.value().as_element().map(|e| is_hidden_text(e.name())))
                        .unwrap_or(false);
                    if !hidden {
                        out.push_str(t);
                    }
                }
                Node::Element(e) if is_block(e.name()) => out.push(' '),
                _ => {}
            },
            Edge::Close(node) => {
                if node
                    .value()
                    .as_element()
                    .is_some_and(|e| is_block(e.name()))
                {
                    out.push(' ');
                }
            }
        }
    }
    out
}

/// Is `node` inside the element `ancestor` (strictly)?
fn is_inside(el: ElementRef<'_>, ancestor: NodeId) -> bool {
    el.ancestors().any(|a| a.id() == ancestor)
}

/// Read `field` from `candidates` (in document order) into `store`; stops when
/// a single-valued field has its value.
fn read_field<'a>(
    field: Field,
    spec: &FieldSpec,
    candidates: impl Iterator<Item = ElementRef<'a>>,
    mut store: impl FnMut(String, ElementRef<'a>) -> bool,
) {
    // The element whose text was last read: matches inside it are skipped.
    let mut reading: Option<NodeId> = None;
    for m in candidates {
        if reading.is_some_and(|r| is_inside(m, r)) {
            continue;
        }
        let full = match value(field, spec, m) {
            Value::Attr(v) => store(v, m),
            Value::Text(t) => {
                reading = Some(m.id());
                !t.is_empty() && store(t, m)
            }
            Value::None => false,
        };
        if full {
            return;
        }
    }
}

pub(super) fn extract(cfg: &HtmlConfig, input: &str) -> Result<Extract, String> {
    let doc = Html::parse_document(input);
    let item = parse(&cfg.item, "item")?;
    let mut fields = Vec::new();
    for field in Field::ALL {
        if let Some(spec) = field.spec(cfg) {
            let sel = if spec.is_scope() {
                None
            } else {
                Some(parse(&spec.css, field.key())?)
            };
            fields.push((field, spec, sel));
        }
    }

    let mut out = Extract::default();
    for card_el in doc.select(&item) {
        let mut card = RawCard::default();
        for (field, spec, sel) in &fields {
            let field = *field;
            if field.page_level() {
                continue;
            }
            let store = |v: String, m: ElementRef<'_>, card: &mut RawCard| {
                field.set(card, v);
                if field == Field::Title {
                    card.title_href = m.value().attr("href").map(|h| h.trim().to_owned());
                }
                !field.multi()
            };
            match sel {
                None => read_field(field, spec, std::iter::once(card_el), |v, m| {
                    store(v, m, &mut card)
                }),
                Some(sel) => {
                    let own = card_el.select(sel).filter(|m| {
                        // Not a card itself, and this card is its nearest card.
                        !item.matches(m)
                            && m.ancestors()
                                .filter_map(ElementRef::wrap)
                                .find(|a| item.matches(a))
                                .is_some_and(|a| a.id() == card_el.id())
                    });
                    read_field(field, spec, own, |v, m| store(v, m, &mut card));
                }
            }
        }
        out.cards.push(card);
    }

    for (field, spec, sel) in &fields {
        let (field, Some(sel)) = (*field, sel) else {
            continue;
        };
        if !field.page_level() {
            continue;
        }
        let mut found = None;
        read_field(field, spec, doc.select(sel), |v, _| {
            found = Some(v);
            true
        });
        match field {
            Field::NextPage => out.next_page = found,
            _ => out.captured = found,
        }
    }

    if cfg.jsonld != JsonLd::Never {
        let sel = parse(JSONLD_SELECTOR, "jsonld")?;
        out.scripts = doc
            .select(&sel)
            .map(|s| s.text().collect::<String>())
            .collect();
    }
    Ok(out)
}
