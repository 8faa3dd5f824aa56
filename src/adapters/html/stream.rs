//! The streaming engine: cards and fields read in one pass with `lol_html`,
//! without building a tree.
//!
//! Each selector gets an element handler; a field element counts when a card
//! is open (its nearest enclosing card, as `lol_html`'s own element stack sees
//! it). A *capture* collects the text of one field element from its start tag
//! to its end tag; entities are decoded per text node, and where the markup
//! between two text nodes opens or closes a block element (`<p>`, `<br>`, ...)
//! a space is put in, so text reads the same as with the DOM engine.

use std::borrow::Cow;
use std::cell::{RefCell, RefMut};
use std::rc::Rc;

use lol_html::html_content::{Element, EndTag, TextChunk, TextType};
use lol_html::{ElementContentHandlers, HandlerResult, HtmlRewriter, Selector, Settings};

use super::{Extract, Field, JSONLD_SELECTOR, RawCard, collapse, is_block, usable_attr};
use crate::config::{HtmlConfig, JsonLd};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    Card(usize),
    Page,
}

/// The text of one field element being read.
struct Capture {
    owner: Owner,
    /// The current text node, entities not yet decoded.
    raw: String,
    /// Decoded text so far.
    text: String,
    /// Where the last text chunk (or the start tag) ended, to see the markup between.
    last_end: usize,
    /// The element's `href`, kept for a title.
    href: Option<String>,
}

impl Capture {
    fn flush(&mut self) {
        if !self.raw.is_empty() {
            self.text.push_str(&htmlize::unescape(self.raw.as_str()));
            self.raw.clear();
        }
    }
}

#[derive(Default)]
struct State {
    cards: Vec<RawCard>,
    /// Byte offset of each card's start tag: identifies the card element.
    starts: Vec<usize>,
    /// Open cards, innermost last.
    open: Vec<usize>,
    captures: [Option<Capture>; Field::ALL.len()],
    next_page: Option<String>,
    captured: Option<String>,
    scripts: Vec<String>,
    script: Option<String>,
    /// Text buffers of finished captures, for the next ones.
    spare: Vec<(String, String)>,
}

fn borrow(
    state: &Rc<RefCell<State>>,
) -> Result<RefMut<'_, State>, Box<dyn std::error::Error + Send + Sync>> {
    // Handlers never run inside each other; a failure here is a bug, reported not panicked.
    state
        .try_borrow_mut()
        .map_err(|_| "internal error: extraction state borrowed twice".into())
}

impl State {
    fn open_card(&mut self, start: usize) -> usize {
        let idx = self.cards.len();
        self.cards.push(RawCard::default());
        self.starts.push(start);
        self.open.push(idx);
        idx
    }

    fn close_card(&mut self, idx: usize) {
        let Some(at) = self.open.iter().rposition(|&i| i == idx) else {
            return;
        };
        let closing: Vec<usize> = self.open.split_off(at);
        for field in Field::ALL {
            let owned = self.captures[field as usize]
                .as_ref()
                .is_some_and(|c| matches!(c.owner, Owner::Card(i) if closing.contains(&i)));
            if owned {
                self.finish(field);
            }
        }
    }

    /// A field element starts: store an attribute value, or start reading its
    /// text (returns `true`: the caller then watches for its end tag).
    fn field_start(
        &mut self,
        field: Field,
        attrs: &[String],
        text_fallback: bool,
        scope: bool,
        el: &Element<'_, '_>,
    ) -> bool {
        let f = field as usize;
        if self.captures[f].is_some() {
            // Inside an element of the same field: its text is already being read.
            return false;
        }
        let owner = if field.page_level() {
            let done = match field {
                Field::NextPage => self.next_page.is_some(),
                _ => self.captured.is_some(),
            };
            if done {
                return false;
            }
            Owner::Page
        } else {
            let Some(&card) = self.open.last() else {
                return false;
            };
            let at = el.source_location().bytes().start;
            let is_card_element = self.starts.get(card) == Some(&at);
            if is_card_element != scope {
                return false;
            }
            if self.cards.get(card).is_none_or(|c| field.is_set(c)) {
                return false;
            }
            Owner::Card(card)
        };
        let href = || {
            el.get_attribute("href")
                .map(|h| htmlize::unescape_attribute(h).trim().to_owned())
        };
        for a in attrs {
            if let Some(v) = el.get_attribute(a) {
                let v = htmlize::unescape_attribute(v);
                if let Some(u) = usable_attr(&v) {
                    let value = if u.len() == v.len() {
                        v.into_owned()
                    } else {
                        u.to_owned()
                    };
                    let h = (field == Field::Title).then(href).flatten();
                    self.store(owner, field, value, h);
                    return false;
                }
            }
        }
        if !text_fallback || !el.can_have_content() {
            return false;
        }
        // Reuse the buffers of the last capture: thousands of cards, few allocations.
        let (mut raw, mut text) = self.spare.pop().unwrap_or_default();
        raw.clear();
        text.clear();
        self.captures[f] = Some(Capture {
            owner,
            raw,
            text,
            last_end: el.source_location().bytes().end,
            href: (field == Field::Title).then(href).flatten(),
        });
        true
    }

    fn store(&mut self, owner: Owner, field: Field, value: String, href: Option<String>) {
        match owner {
            Owner::Card(i) => {
                if let Some(card) = self.cards.get_mut(i) {
                    field.set(card, value);
                    if field == Field::Title {
                        card.title_href = href;
                    }
                }
            }
            Owner::Page => match field {
                Field::NextPage => self.next_page = Some(value),
                Field::Captured => self.captured = Some(value),
                _ => {}
            },
        }
    }

    /// A field element ended: its text is the value, if there is any.
    fn finish(&mut self, field: Field) {
        let Some(mut cap) = self.captures[field as usize].take() else {
            return;
        };
        cap.flush();
        let value = collapse(&cap.text);
        if !value.is_empty() {
            self.store(cap.owner, field, value, cap.href);
        }
        self.spare.push((cap.raw, cap.text));
    }

    fn text(&mut self, field: Field, chunk: &TextChunk<'_>, input: &str) {
        let Some(cap) = self.captures[field as usize].as_mut() else {
            return;
        };
        let at = chunk.source_location().bytes();
        if at.start != cap.last_end {
            cap.flush();
            if input
                .get(cap.last_end..at.start)
                .is_some_and(has_block_break)
            {
                cap.text.push(' ');
            }
        }
        cap.last_end = at.end;
        match chunk.text_type() {
            TextType::Data | TextType::RCData => {
                cap.raw.push_str(chunk.as_str());
                if chunk.last_in_text_node() {
                    cap.flush();
                }
            }
            TextType::CDataSection => cap.text.push_str(chunk.as_str()),
            // Script, style and other raw text is not what a reader sees.
            _ => {}
        }
    }
}

/// Does this markup between two text nodes open or close a block element?
fn has_block_break(markup: &str) -> bool {
    let bytes = markup.as_bytes();
    let mut from = 0;
    while let Some(lt) = bytes
        .get(from..)
        .and_then(|b| b.iter().position(|&c| c == b'<'))
    {
        let mut i = from + lt + 1;
        if bytes.get(i) == Some(&b'/') {
            i += 1;
        }
        let start = i;
        while bytes.get(i).is_some_and(u8::is_ascii_alphanumeric) {
            i += 1;
        }
        let ends_name = bytes
            .get(i)
            .is_none_or(|b| b.is_ascii_whitespace() || *b == b'/' || *b == b'>');
        if i > start && ends_name && markup.get(start..i).is_some_and(is_block) {
            return true;
        }
        from = i.max(from + lt + 1);
    }
    false
}

fn parse(css: &str, key: &str) -> Result<Selector, String> {
    css.parse::<Selector>()
        .map_err(|e| format!("html.{key} {css:?}: the streaming engine cannot use it: {e}"))
}

// Fields that started a capture on one element are kept as bits of a u16.
const _: () = assert!(Field::ALL.len() <= 16);

/// One field read through a shared selector.
struct Member {
    field: Field,
    attrs: Vec<String>,
    text_fallback: bool,
    scope: bool,
}

type Handlers<'h> = Vec<(Cow<'static, Selector>, ElementContentHandlers<'h>)>;

fn on_element<'h>(
    f: impl FnMut(&mut Element<'_, '_>) -> HandlerResult + 'h,
) -> impl FnMut(&mut Element<'_, '_>) -> HandlerResult + 'h {
    f
}

fn on_text<'h>(
    f: impl FnMut(&mut TextChunk<'_>) -> HandlerResult + 'h,
) -> impl FnMut(&mut TextChunk<'_>) -> HandlerResult + 'h {
    f
}

/// Read the cards, next-page link, capture date and JSON-LD blocks of `input`.
pub(super) fn extract(cfg: &HtmlConfig, input: &str) -> Result<Extract, String> {
    let state = Rc::new(RefCell::new(State::default()));
    let mut handlers: Handlers<'_> = Vec::new();

    // Cards first: on one element, handlers run in the order they were added,
    // so a `:scope` field sees its card already open.
    let st = state.clone();
    handlers.push((
        Cow::Owned(parse(&cfg.item, "item")?),
        ElementContentHandlers::default().element(on_element(move |el| {
            let idx = borrow(&st)?.open_card(el.source_location().bytes().start);
            if el.can_have_content() {
                let st = st.clone();
                el.on_end_tag(Box::new(move |_: &mut EndTag<'_>| {
                    borrow(&st)?.close_card(idx);
                    Ok(())
                }))?;
            } else {
                borrow(&st)?.close_card(idx);
            }
            Ok(())
        })),
    ));

    // Fields with the same selector (a title and its url, say) share one
    // handler: every selector costs the matcher time on every element.
    let mut groups: Vec<(&str, Vec<Member>)> = Vec::new();
    for field in Field::ALL {
        let Some(spec) = field.spec(cfg) else {
            continue;
        };
        let scope = spec.is_scope();
        let css = if scope {
            cfg.item.as_str()
        } else {
            spec.css.as_str()
        };
        let member = Member {
            field,
            attrs: spec.attrs.clone(),
            text_fallback: field.text_fallback(spec),
            scope,
        };
        match groups.iter_mut().find(|(c, _)| *c == css) {
            Some((_, members)) => members.push(member),
            None => groups.push((css, vec![member])),
        }
    }
    for (css, members) in groups {
        let selector = parse(css, members.first().map_or("field", |m| m.field.key()))?;
        let text_fields: Vec<Field> = members
            .iter()
            .filter(|m| m.text_fallback)
            .map(|m| m.field)
            .collect();
        let st = state.clone();
        let mut h = ElementContentHandlers::default().element(on_element(move |el| {
            // Which fields started reading this element's text (a bit per field).
            let mut started: u16 = 0;
            {
                let mut s = borrow(&st)?;
                for m in &members {
                    if s.field_start(m.field, &m.attrs, m.text_fallback, m.scope, el) {
                        started |= 1 << (m.field as u16);
                    }
                }
            }
            if started != 0 {
                let st = st.clone();
                el.on_end_tag(Box::new(move |_: &mut EndTag<'_>| {
                    let mut s = borrow(&st)?;
                    for f in Field::ALL {
                        if started & (1 << (f as u16)) != 0 {
                            s.finish(f);
                        }
                    }
                    Ok(())
                }))?;
            }
            Ok(())
        }));
        if !text_fields.is_empty() {
            let st = state.clone();
            h = h.text(on_text(move |t| {
                let mut s = borrow(&st)?;
                for f in &text_fields {
                    s.text(*f, t, input);
                }
                Ok(())
            }));
        }
        handlers.push((Cow::Owned(selector), h));
    }

    if cfg.jsonld != JsonLd::Never {
        let st = state.clone();
        let st_text = state.clone();
        handlers.push((
            Cow::Owned(parse(JSONLD_SELECTOR, "jsonld")?),
            ElementContentHandlers::default()
                .element(on_element(move |el| {
                    if !el.can_have_content() {
                        return Ok(());
                    }
                    borrow(&st)?.script = Some(String::new());
                    let st = st.clone();
                    el.on_end_tag(Box::new(move |_: &mut EndTag<'_>| {
                        let mut s = borrow(&st)?;
                        if let Some(text) = s.script.take() {
                            s.scripts.push(text);
                        }
                        Ok(())
                    }))?;
                    Ok(())
                }))
                .text(on_text(move |t| {
                    if let Some(s) = borrow(&st_text)?.script.as_mut() {
                        s.push_str(t.as_str());
                    }
                    Ok(())
                })),
        ));
    }

    let mut settings = Settings::new().with_strict(false);
    for h in handlers {
        settings = settings.append_element_content_handler(h);
    }
    let mut rewriter = HtmlRewriter::new(settings, |_: &[u8]| {});
    rewriter
        .write(input.as_bytes())
        .and_then(|()| rewriter.end())
        .map_err(|e| format!("the page could not be read: {e}"))?;

    let mut st = borrow(&state).map_err(|e| e.to_string())?;
    // A page cut off mid-card: what was read so far still counts.
    for field in Field::ALL {
        st.finish(field);
    }
    if let Some(text) = st.script.take() {
        st.scripts.push(text);
    }
    Ok(Extract {
        cards: std::mem::take(&mut st.cards),
        next_page: st.next_page.take(),
        captured: st.captured.take(),
        scripts: std::mem::take(&mut st.scripts),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_breaks() {
        assert!(has_block_break("</p><p class=x>"));
        assert!(has_block_break("<br>"));
        assert!(has_block_break("<BR/>"));
        assert!(has_block_break("</li>\n<li>"));
        assert!(!has_block_break("</a><span>"));
        assert!(!has_block_break("<b>"));
        assert!(!has_block_break("<!-- p -->"));
        assert!(!has_block_break("<pre-x>"));
        assert!(!has_block_break("<"));
        assert!(!has_block_break("</"));
    }
}
